//! The OpenSubsonic `transcoding` extension over real HTTP: getTranscodeDecision (POST with a
//! JSON ClientInfo) validated against the schemas in XML and JSON, then getTranscodeStream
//! playing exactly what was decided, checked by decoding the bytes with ffprobe/ffmpeg.

mod common;

use common::api::{ADMIN, BOB, Server, assert_error, assert_valid_json, assert_valid_xml};
use mediastreamer::transcode::signal::tones;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const SECONDS: f64 = 20.0;

struct Library {
    server: Server,
    flac_id: String,
    other_id: String,
    flac_len: usize,
}

fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let flac = common::flac_bytes(44_100, 2, &tones(44_100, 2, SECONDS));
        let flac_len = flac.len();
        let server = common::api::start_server(2, |music: &Path| {
            let dir = music.join("Album");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("a.flac"), &flac).unwrap();
            std::fs::write(
                dir.join("b.flac"),
                common::flac_bytes(44_100, 2, &tones(44_100, 2, 5.0)),
            )
            .unwrap();
        });
        let songs = common::api::admin_songs(server.port);
        let id_of = |name: &str| {
            songs
                .iter()
                .find(|s| s["path"].as_str().unwrap().ends_with(name))
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        Library {
            flac_id: id_of("a.flac"),
            other_id: id_of("b.flac"),
            flac_len,
            server,
        }
    })
}

/// POSTs `body` as JSON to `path`; the answer's body as text.
fn post_json(port: u16, path: &str, body: &str) -> String {
    post_as(port, path, body, "application/json")
}

/// POSTs `body` with this Content-Type.
fn post_as(port: u16, path: &str, body: &str, content_type: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("chunked"),
        "envelopes are sent whole"
    );
    body.to_string()
}

/// Asks for a decision in XML and JSON (both validated); the JSON `subsonic-response`.
fn decide(user: &str, id: &str, client: &str) -> serde_json::Value {
    decide_on(library().server.port, user, id, "song", client)
}

/// `decide` for any server and media type.
fn decide_on(port: u16, user: &str, id: &str, media_type: &str, client: &str) -> serde_json::Value {
    let query = format!("{user}&mediaId={id}&mediaType={media_type}");
    let xml = post_json(
        port,
        &format!("/rest/getTranscodeDecision.view?{query}"),
        client,
    );
    assert_valid_xml(&xml);
    let json: serde_json::Value = serde_json::from_str(&post_json(
        port,
        &format!("/rest/getTranscodeDecision?{query}&f=json"),
        client,
    ))
    .unwrap();
    let envelope = json["subsonic-response"].clone();
    assert_eq!(
        xml.contains("status=\"ok\""),
        envelope["status"] == "ok",
        "XML and JSON disagree: {xml}"
    );
    if envelope["status"] == "ok" {
        // The spec's answer schema describes the envelope's content.
        assert!(envelope["transcodeDecision"].is_object(), "{envelope}");
        assert_valid_json("getTranscodeDecision", &envelope);
        let can_direct = envelope["transcodeDecision"]["canDirectPlay"]
            .as_bool()
            .unwrap();
        assert!(
            xml.contains(&format!("canDirectPlay=\"{can_direct}\"")),
            "{xml}"
        );
    }
    envelope
}

fn stream(params: &str, extra: &str) -> common::api::RawResponse {
    let lib = library();
    let params: String = form_urlencoded::byte_serialize(params.as_bytes()).collect();
    lib.server.fetch(
        &format!(
            "/rest/getTranscodeStream?{ADMIN}&mediaId={}&mediaType=song&transcodeParams={params}{extra}",
            lib.flac_id
        ),
        &[],
    )
}

/// ffprobe's codec name, bit rate (bps) and duration (s) of `bytes`.
fn probe(bytes: &[u8], suffix: &str) -> (String, Option<u64>, f64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("t.{suffix}"));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name,bit_rate"])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(&path)
        .output()
        .expect("ffprobe runs");
    let facts = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        facts
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::to_string)
    };
    // Decoding the whole stream gives its true length (and fails on broken bytes).
    let decoded = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "s16le", "-ac", "1", "-ar", "48000", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(
        decoded.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    (
        field("codec_name=").unwrap_or_default(),
        field("bit_rate=").and_then(|b| b.parse().ok()),
        decoded.stdout.len() as f64 / 2.0 / 48_000.0,
    )
}

const FLAC_PLAYER: &str = r#"{"name":"Hi-Fi","platform":"Linux","directPlayProfiles":[
    {"containers":["mp3"],"audioCodecs":["mp3"],"protocols":["http"]},
    {"containers":["flac"],"audioCodecs":["flac"],"protocols":[],"maxAudioChannels":2}],
    "transcodingProfiles":[{"container":"mp3","audioCodec":"mp3","protocol":"http"}]}"#;

fn lossy_player(codec: &str, container: &str, max_bps: u32) -> String {
    format!(
        r#"{{"name":"Phone","platform":"Android","maxTranscodingAudioBitrate":{max_bps},
        "directPlayProfiles":[{{"containers":["{container}"],"audioCodecs":["{codec}"],"protocols":["http"]}}],
        "transcodingProfiles":[{{"container":"mp4","audioCodec":"aac","protocol":"hls"}},
            {{"container":"{container}","audioCodec":"{codec}","protocol":"http","maxAudioChannels":2}}]}}"#
    )
}

#[test]
fn the_extension_is_advertised() {
    let r = library()
        .server
        .get("/rest/getOpenSubsonicExtensions?f=json")
        .json();
    let list = r["openSubsonicExtensions"].as_array().unwrap();
    assert!(list.iter().any(|e| e["name"] == "transcoding"), "{r}");
}

#[test]
fn a_client_that_plays_flac_gets_the_file_as_it_is() {
    let lib = library();
    let r = decide(ADMIN, &lib.flac_id, FLAC_PLAYER);
    assert_eq!(r["status"], "ok", "{r}");
    let d = &r["transcodeDecision"];
    assert_eq!(d["canDirectPlay"], true, "{d}");
    assert_eq!(d["canTranscode"], true, "{d}");
    assert_eq!(d["sourceStream"]["codec"], "flac");
    assert_eq!(d["sourceStream"]["container"], "flac");
    assert_eq!(d["sourceStream"]["audioChannels"], 2);
    assert!(d.get("transcodeStream").is_none(), "{d}");
    let played = stream(d["transcodeParams"].as_str().unwrap(), "");
    assert_eq!(played.status, 200);
    assert_eq!(played.body.len(), lib.flac_len, "the original file");
    assert_eq!(
        played.header("content-length"),
        Some(lib.flac_len.to_string().as_str())
    );
    assert_eq!(probe(&played.body, "flac").0, "flac");
}

#[test]
fn an_mp3_only_client_gets_mp3_at_its_limit_and_plays_it() {
    let lib = library();
    let r = decide(ADMIN, &lib.flac_id, &lossy_player("mp3", "mp3", 128_000));
    let d = &r["transcodeDecision"];
    assert_eq!(d["canDirectPlay"], false, "{d}");
    assert_eq!(d["canTranscode"], true);
    assert_eq!(d["transcodeReason"][0], "ContainerNotSupported");
    assert_eq!(d["transcodeStream"]["codec"], "mp3");
    assert_eq!(d["transcodeStream"]["container"], "mp3");
    assert_eq!(d["transcodeStream"]["audioBitrate"], 128_000);
    let played = stream(d["transcodeParams"].as_str().unwrap(), "");
    assert_eq!(played.status, 200, "{}", played.headers);
    assert_eq!(played.header("content-type"), Some("audio/mpeg"));
    assert_eq!(
        played.header("content-length"),
        Some(played.body.len().to_string().as_str()),
        "the promised length"
    );
    let (codec, bitrate, seconds) = probe(&played.body, "mp3");
    assert_eq!(codec, "mp3");
    assert_eq!(bitrate, Some(128_000));
    assert!((seconds - SECONDS).abs() < 0.2, "{seconds}");
}

#[test]
fn an_opus_client_gets_opus_within_the_users_cap_from_an_offset() {
    let lib = library();
    // The client's own limit is 96 kbps (the admin has no cap).
    let r = decide(ADMIN, &lib.flac_id, &lossy_player("opus", "ogg", 96_000));
    let d = &r["transcodeDecision"];
    assert_eq!(d["canDirectPlay"], false, "{d}");
    assert_eq!(d["transcodeStream"]["codec"], "opus");
    assert_eq!(d["transcodeStream"]["container"], "ogg");
    assert_eq!(d["transcodeStream"]["audioBitrate"], 96_000);
    let params = d["transcodeParams"].as_str().unwrap();
    let played = stream(params, "");
    assert_eq!(played.header("content-type"), Some("audio/ogg"));
    assert_eq!(
        played.header("content-length"),
        Some(played.body.len().to_string().as_str())
    );
    let (codec, _, seconds) = probe(&played.body, "opus");
    assert_eq!(codec, "opus");
    assert!((seconds - SECONDS).abs() < 0.2, "{seconds}");
    // offset: the same decision from 8 s on.
    let later = stream(params, "&offset=8");
    assert_eq!(later.status, 200);
    assert!(later.body.len() < played.body.len());
    let (codec, _, seconds) = probe(&later.body, "opus");
    assert_eq!(codec, "opus");
    assert!((seconds - (SECONDS - 8.0)).abs() < 0.2, "{seconds}");
}

#[test]
fn tampered_or_borrowed_params_are_refused() {
    let lib = library();
    let r = decide(ADMIN, &lib.flac_id, &lossy_player("mp3", "mp3", 128_000));
    let params = r["transcodeDecision"]["transcodeParams"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(params.starts_with("mp3-128-"), "{params}");
    // A higher bitrate, the original file instead, garbage.
    for forged in [
        params.replacen("-128-", "-320-", 1),
        params.replacen("mp3-128", "direct-0", 1),
        "mp3-128-00".to_string(),
    ] {
        let refused = stream(&forged, "");
        assert_eq!(refused.status, 200);
        assert!(refused.header("content-type").unwrap().contains("xml"));
        assert!(
            String::from_utf8_lossy(&refused.body).contains("transcodeParams"),
            "{}",
            String::from_utf8_lossy(&refused.body)
        );
    }
    // Another song, another user.
    let q: String = form_urlencoded::byte_serialize(params.as_bytes()).collect();
    let other = lib.server.fetch(
        &format!(
            "/rest/getTranscodeStream?{ADMIN}&f=json&mediaId={}&mediaType=song&transcodeParams={q}",
            lib.other_id
        ),
        &[],
    );
    assert_error(&other.json(), 0);
    let bob = lib.server.fetch(
        &format!(
            "/rest/getTranscodeStream?{BOB}&f=json&mediaId={}&mediaType=song&transcodeParams={q}",
            lib.flac_id
        ),
        &[],
    );
    assert_error(&bob.json(), 0);
}

#[test]
fn bad_json_and_missing_bodies_are_refused() {
    let lib = library();
    let bad = decide(ADMIN, &lib.flac_id, "{\"name\": ");
    assert_error(&bad, 0);
    assert!(
        bad["error"]["message"].as_str().unwrap().contains("JSON"),
        "{bad}"
    );
    // The required name and platform are missing.
    assert_error(&decide(ADMIN, &lib.flac_id, "{}"), 0);
    // A GET has no body.
    let r = lib.server.get(&format!(
        "/rest/getTranscodeDecision?{ADMIN}&f=json&mediaId={}&mediaType=song",
        lib.flac_id
    ));
    assert_error(&r.json(), 10);
    // A body past the bound (1 MiB) is refused, not parsed.
    let huge = format!(
        "{{\"name\":\"{}\",\"platform\":\"x\"}}",
        "a".repeat(1 << 21)
    );
    let refused = decide(ADMIN, &lib.flac_id, &huge);
    assert_error(&refused, 0);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than"),
        "{refused}"
    );
    // A client that leaves out the Content-Type is still understood.
    let untyped = post_as(
        lib.server.port,
        &format!(
            "/rest/getTranscodeDecision?{ADMIN}&f=json&mediaId={}&mediaType=song",
            lib.flac_id
        ),
        FLAC_PLAYER,
        "text/plain",
    );
    let untyped: serde_json::Value = serde_json::from_str(&untyped).unwrap();
    assert_eq!(
        untyped["subsonic-response"]["transcodeDecision"]["canDirectPlay"], true,
        "{untyped}"
    );
    // An unknown song.
    assert_error(&decide(ADMIN, "tr-999999", FLAC_PLAYER), 70);
}

#[test]
fn the_users_cap_holds_against_the_clients_wishes() {
    let lib = library();
    let set = lib.server.get(&format!(
        "/rest/updateUser?{ADMIN}&f=json&username=bob&maxBitRate=64"
    ));
    assert_eq!(set.json()["status"], "ok", "{}", set.body);
    // bob's client plays FLAC, but not above bob's 64 kbps: MP3 at 64 instead.
    let r = decide(BOB, &lib.flac_id, FLAC_PLAYER);
    let d = &r["transcodeDecision"];
    assert_eq!(d["canDirectPlay"], false, "{d}");
    assert_eq!(d["transcodeReason"][1], "AudioBitrateNotSupported", "{d}");
    assert_eq!(d["transcodeStream"]["codec"], "mp3");
    assert_eq!(d["transcodeStream"]["audioBitrate"], 64_000);
    let q: String =
        form_urlencoded::byte_serialize(d["transcodeParams"].as_str().unwrap().as_bytes())
            .collect();
    let played = lib.server.fetch(
        &format!(
            "/rest/getTranscodeStream?{BOB}&mediaId={}&mediaType=song&transcodeParams={q}",
            lib.flac_id
        ),
        &[],
    );
    let (codec, bitrate, _) = probe(&played.body, "mp3");
    assert_eq!((codec.as_str(), bitrate), ("mp3", Some(64_000)));
}

/// The schema check is not vacuous: a decision of the wrong shape fails it.
#[test]
#[should_panic(expected = "does not match its schema")]
fn a_malformed_decision_fails_the_schema() {
    let wrong = serde_json::json!({
        "status": "ok",
        "transcodeDecision": { "canDirectPlay": "yes", "sourceStream": { "codec": "flac" } }
    });
    assert_valid_json("getTranscodeDecision", &wrong);
}

/// A one-route HTTP server for a podcast feed: `/feed.xml` lists one episode, `/ep.flac`.
fn feed_server(episode: Vec<u8>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let feed = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Talk</title>
<item><title>Episode</title><guid>g1</guid><pubDate>01 Jun 2026 10:00:00 +0000</pubDate>
<enclosure url="http://127.0.0.1:{port}/ep.flac" type="audio/flac" length="{}"/></item>
</channel></rss>"#,
        episode.len()
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let (kind, body) = if head.starts_with(b"GET /ep.flac") {
                ("audio/flac", episode.as_slice())
            } else {
                ("application/rss+xml", feed.as_bytes())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    port
}

/// Podcast episodes (pe-N) are decided and streamed like songs; a song id under
/// mediaType=podcast (and the other way round) is not found, an unknown mediaType refused.
#[test]
fn a_downloaded_podcast_episode_is_decided_and_played_like_a_song() {
    const EPISODE_SECONDS: f64 = 6.0;
    let episode = common::flac_bytes(44_100, 2, &tones(44_100, 2, EPISODE_SECONDS));
    let feed = feed_server(episode);
    let folder = tempfile::tempdir().unwrap();
    let config = format!(
        "[podcasts]\nfolder = {:?}\nschedule = \"\"\ndownload_new = 1\n",
        folder.path().display().to_string()
    );
    let server = common::api::start_server_configured(&["music"], &config, 1, |f| {
        std::fs::write(
            f[0].join("song.flac"),
            common::flac_bytes(44_100, 2, &tones(44_100, 2, 2.0)),
        )
        .unwrap();
    });
    let created = server
        .get(&format!(
            "/rest/createPodcastChannel?{ADMIN}&f=json&url=http://127.0.0.1:{feed}/feed.xml"
        ))
        .json();
    assert_eq!(created["status"], "ok", "{created}");
    let started = Instant::now();
    let episode_id = loop {
        let r = server
            .get(&format!("/rest/getPodcasts?{ADMIN}&f=json"))
            .json();
        let done = r["podcasts"]["channel"][0]["episode"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["status"] == "completed").cloned());
        if let Some(e) = done {
            break e["id"].as_str().unwrap().to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{r}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(episode_id.starts_with("pe-"), "{episode_id}");

    let r = decide_on(
        server.port,
        ADMIN,
        &episode_id,
        "podcast",
        &lossy_player("opus", "ogg", 96_000),
    );
    let d = &r["transcodeDecision"];
    assert_eq!(d["canDirectPlay"], false, "{d}");
    assert_eq!(d["sourceStream"]["container"], "flac");
    assert_eq!(d["transcodeStream"]["codec"], "opus");
    assert_eq!(d["transcodeStream"]["audioBitrate"], 96_000);
    let params: String =
        form_urlencoded::byte_serialize(d["transcodeParams"].as_str().unwrap().as_bytes())
            .collect();
    let played = server.fetch(
        &format!(
            "/rest/getTranscodeStream?{ADMIN}&mediaId={episode_id}&mediaType=podcast&transcodeParams={params}"
        ),
        &[],
    );
    assert_eq!(played.status, 200);
    assert_eq!(played.header("content-type"), Some("audio/ogg"));
    let (codec, _, seconds) = probe(&played.body, "opus");
    assert_eq!(codec, "opus");
    assert!((seconds - EPISODE_SECONDS).abs() < 0.2, "{seconds}");
    // A player of FLAC files gets the episode's file as it is (its codec and channels are
    // not known from a download, so a profile for any codec in that container).
    let any_flac = r#"{"name":"Hi-Fi","platform":"Linux","directPlayProfiles":[
        {"containers":["flac"],"audioCodecs":[],"protocols":["http"]}],"transcodingProfiles":[]}"#;
    let direct = decide_on(server.port, ADMIN, &episode_id, "podcast", any_flac);
    assert_eq!(
        direct["transcodeDecision"]["canDirectPlay"], true,
        "{direct}"
    );

    // The signature is the episode's: it does not play the song of the same number.
    let song_id = common::api::admin_songs(server.port)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let borrowed = server.fetch(
        &format!(
            "/rest/getTranscodeStream?{ADMIN}&f=json&mediaId={song_id}&mediaType=song&transcodeParams={params}"
        ),
        &[],
    );
    assert_error(&borrowed.json(), 0);
    // Ids of the wrong kind are not found; an unknown media type is refused.
    let client = lossy_player("mp3", "mp3", 128_000);
    assert_error(
        &decide_on(server.port, ADMIN, &song_id, "podcast", &client),
        70,
    );
    assert_error(
        &decide_on(server.port, ADMIN, &episode_id, "song", &client),
        70,
    );
    assert_error(
        &decide_on(server.port, ADMIN, &episode_id, "video", &client),
        0,
    );
}
