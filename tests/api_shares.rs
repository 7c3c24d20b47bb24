//! Shares over real HTTP: createShare, getShares, updateShare, deleteShare — golden path and
//! errors in XML (XSD-validated) and JSON (schema-validated); the share role; the public
//! share page (escaped, strict CSP, visits counted), its streams (only the shared songs,
//! Range) and covers; an expired share gone everywhere.
//!
//! Tests share one server; each works on shares it creates.

mod common;

use common::api::*;
use mediastreamer::synth::{Format, TrackSpec};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Not allowed to share.
const CAROL: &str = "u=carol&p=carolpw";
/// An ordinary user who may share.
const DAVE: &str = "u=dave&p=davepw";
/// A user whose streams are capped at 96 kbps.
const ERIN: &str = "u=erin&p=erinpw";

struct Fixture {
    server: Server,
    music: PathBuf,
    /// Song id and path below the music folder, by title.
    songs: HashMap<String, (String, String)>,
    /// Album ids by name.
    albums: HashMap<String, String>,
}

const TRICKY_TITLE: &str = "Tom & <Jerry> \"live\"";

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut music_dir = PathBuf::new();
        let server = start_server(5, |music| {
            music_dir = music.to_path_buf();
            let art = |spec: TrackSpec| TrackSpec {
                embedded_art: true,
                ..spec
            };
            put(
                music,
                "Band/First/01.mp3",
                Format::Mp3,
                art(song("One", "Band", "First", "Band", 1)),
            );
            put(
                music,
                "Band/First/02.mp3",
                Format::Mp3,
                art(song("Two", "Band", "First", "Band", 2)),
            );
            put(
                music,
                "Other/Second/01.flac",
                Format::Flac,
                song("Three", "Other", "Second", "Other", 1),
            );
            put(
                music,
                "Other/Second/02.flac",
                Format::Flac,
                song(TRICKY_TITLE, "Other", "Second", "Other", 2),
            );
            put(
                music,
                "Other/Second/03.flac",
                Format::Flac,
                song("Five", "Other", "Second", "Other", 3),
            );
        });
        let out = server.cli(&[
            "user",
            "add",
            "carol",
            "--password",
            "carolpw",
            "--deny",
            "share",
        ]);
        assert!(out.status.success(), "{out:?}");
        let out = server.cli(&["user", "add", "dave", "--password", "davepw"]);
        assert!(out.status.success(), "{out:?}");
        let out = server.cli(&[
            "user",
            "add",
            "erin",
            "--password",
            "erinpw",
            "--max-bit-rate",
            "96",
        ]);
        assert!(out.status.success(), "{out:?}");
        let r = server
            .get(&format!(
                "/rest/search3?{ADMIN}&f=json&query=&songCount=50&artistCount=0&albumCount=0"
            ))
            .json();
        let mut songs = HashMap::new();
        let mut albums = HashMap::new();
        for s in r["searchResult3"]["song"].as_array().unwrap() {
            songs.insert(
                s["title"].as_str().unwrap().to_string(),
                (
                    s["id"].as_str().unwrap().to_string(),
                    s["path"].as_str().unwrap().to_string(),
                ),
            );
            albums.insert(
                s["album"].as_str().unwrap().to_string(),
                s["albumId"].as_str().unwrap().to_string(),
            );
        }
        assert_eq!(songs.len(), 5);
        Fixture {
            server,
            music: music_dir,
            songs,
            albums,
        }
    })
}

fn server() -> &'static Server {
    &fixture().server
}

fn id(title: &str) -> &'static str {
    &fixture().songs[title].0
}

fn album(name: &str) -> &'static str {
    &fixture().albums[name]
}

fn file_bytes(title: &str) -> Vec<u8> {
    std::fs::read(fixture().music.join(&fixture().songs[title].1)).unwrap()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn ok(r: &Value) {
    assert_eq!(r["status"], "ok", "{r}");
}

/// `method` in JSON (schema-checked); returns the `subsonic-response` object.
fn json(method: &str, query: &str) -> Value {
    let r = server().get(&format!("/rest/{method}?{query}&f=json"));
    assert_eq!(r.status, 200);
    let whole: Value = serde_json::from_str(&r.body).unwrap();
    assert_valid_json(method, &whole);
    r.json()
}

/// `method` in XML (XSD-validated); returns the body.
fn xml(method: &str, query: &str) -> String {
    let r = server().get(&format!("/rest/{method}.view?{query}"));
    assert_eq!(r.status, 200);
    assert_valid_xml(&r.body);
    r.body
}

/// Both formats fail with `code` (the XML validated too).
fn both_fail(method: &str, query: &str, code: i64) {
    let r = server().call_both(method, query);
    assert_error(&r, code);
    let body = xml(method, query);
    assert!(body.contains(&format!("code=\"{code}\"")), "{body}");
}

/// Creates a share as `user` in JSON; returns the share object.
fn create(user: &str, extra: &str) -> Value {
    let r = json("createShare", &format!("{user}{extra}"));
    ok(&r);
    let list = r["shares"]["share"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{r}");
    list[0].clone()
}

/// The live shares `user` lists, by id (checked in XML and JSON).
fn listed(user: &str) -> HashMap<String, Value> {
    let r = server().call_both("getShares", user);
    ok(&r);
    r["shares"]["share"]
        .as_array()
        .unwrap_or_else(|| panic!("no share array: {r}"))
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s.clone()))
        .collect()
}

fn titles(share: &Value) -> Vec<String> {
    share["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_string())
        .collect()
}

fn page(token: &str) -> Response {
    server().get(&format!("/share/{token}"))
}

#[test]
fn create_and_list_in_both_formats() {
    let expires = now_ms() + 3_600_000;
    // JSON: a song and an album; the album's songs follow in disc/track order, each once.
    let share = create(
        BOB,
        &format!(
            "&id={}&id={}&id={}&description=Road%20trip&expires={expires}",
            id("Five"),
            album("Second"),
            id("One")
        ),
    );
    let token = share["id"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 22, "{share}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(share["url"], format!("http://localhost/share/{token}"));
    assert_eq!(share["username"], "bob");
    assert_eq!(share["description"], "Road trip");
    assert_eq!(share["visitCount"], 0);
    assert!(share.get("lastVisited").is_none(), "{share}");
    let expiry = chrono::DateTime::parse_from_rfc3339(share["expires"].as_str().unwrap()).unwrap();
    assert_eq!(expiry.timestamp_millis(), expires);
    assert!(chrono::DateTime::parse_from_rfc3339(share["created"].as_str().unwrap()).is_ok());
    assert_eq!(
        titles(&share),
        ["Five", "Three", TRICKY_TITLE, "One"],
        "{share}"
    );
    assert_eq!(share["entry"][0]["id"], id("Five"));
    assert_eq!(share["entry"][0]["isDir"], false);

    // XML: the same shape as elements.
    let body = xml(
        "createShare",
        &format!("{BOB}&id={}&description=From%20XML", id("Two")),
    );
    assert!(body.contains("status=\"ok\""), "{body}");
    assert!(body.contains("<shares><share id=\""), "{body}");
    assert!(body.contains("description=\"From XML\" username=\"bob\""));
    assert!(body.contains(&format!("<entry id=\"{}\"", id("Two"))));
    assert!(!body.contains("expires="), "no expiry given: {body}");

    // getShares: bob's own; the admin sees everyone's (carol, without the share role, may not
    // list shares at all: see the error cases).
    let bobs = listed(BOB);
    assert_eq!(
        titles(&bobs[&token]),
        ["Five", "Three", TRICKY_TITLE, "One"]
    );
    assert!(bobs.values().any(|s| s["description"] == "From XML"));
    let all = listed(ADMIN);
    assert_eq!(all[&token]["username"], "bob");
}

#[test]
fn artists_folders_and_playlists_share_their_songs() {
    let r = json("getArtists", ADMIN);
    let band = r["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().clone())
        .find(|a| a["name"] == "Band")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(titles(&create(BOB, &format!("&id={band}"))), ["One", "Two"]);

    let r = json("getSong", &format!("{ADMIN}&id={}", id("Three")));
    let folder = r["song"]["parent"].as_str().unwrap().to_string();
    assert_eq!(
        titles(&create(BOB, &format!("&id={folder}"))),
        ["Three", TRICKY_TITLE, "Five"]
    );

    let r = json(
        "createPlaylist",
        &format!(
            "{BOB}&name=ShareMe&songId={}&songId={}",
            id("Two"),
            id("Three")
        ),
    );
    let playlist = r["playlist"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        titles(&create(BOB, &format!("&id={playlist}"))),
        ["Two", "Three"]
    );
    // Someone else's private playlist is not there to share.
    both_fail("createShare", &format!("{DAVE}&id={playlist}"), 70);
}

#[test]
fn create_errors() {
    both_fail("createShare", BOB, 10);
    both_fail("createShare", &format!("{BOB}&id="), 10);
    both_fail("createShare", &format!("{BOB}&id=tr-999999"), 70);
    both_fail("createShare", &format!("{BOB}&id=nonsense"), 70);
    both_fail(
        "createShare",
        &format!("{BOB}&id={}&id=al-999999", id("One")),
        70,
    );
    both_fail(
        "createShare",
        &format!("{BOB}&id={}&expires={}", id("One"), now_ms() - 1000),
        0,
    );
    both_fail(
        "createShare",
        &format!("{BOB}&id={}&expires=soon", id("One")),
        0,
    );
    // An expiry past the year 9999 is refused (it used to read back as 1970); the last
    // millisecond of 9999 reads back exactly.
    for far in ["253402300800000", "9223372036854775807", "8640000000000000"] {
        both_fail(
            "createShare",
            &format!("{BOB}&id={}&expires={far}", id("One")),
            0,
        );
    }
    let last = 253_402_300_799_999_i64;
    let share = create(BOB, &format!("&id={}&expires={last}", id("One")));
    assert_eq!(share["expires"], "9999-12-31T23:59:59.999Z", "{share}");
    let token = share["id"].as_str().unwrap();
    let listed_expiry = &listed(BOB)[token]["expires"];
    assert_eq!(listed_expiry, "9999-12-31T23:59:59.999Z");
    assert!(xml("getShares", BOB).contains("expires=\"9999-12-31T23:59:59.999Z\""));
    // The share role is required, to list shares too.
    both_fail("createShare", &format!("{CAROL}&id={}", id("One")), 50);
    both_fail("getShares", CAROL, 50);
    // None of the refused calls left a share behind.
    let before = listed(BOB).len();
    both_fail(
        "createShare",
        &format!("{BOB}&id={}&id=tr-999999", id("One")),
        70,
    );
    assert_eq!(listed(BOB).len(), before);
}

#[test]
fn update_and_delete() {
    let share = create(BOB, &format!("&id={}&description=Old", id("One")));
    let token = share["id"].as_str().unwrap().to_string();
    let later = now_ms() + 86_400_000;

    // XML update: a new description and an expiry.
    let body = xml(
        "updateShare",
        &format!("{BOB}&id={token}&description=New%20words&expires={later}"),
    );
    assert!(body.contains("status=\"ok\""), "{body}");
    let s = &listed(BOB)[&token];
    assert_eq!(s["description"], "New words");
    let expiry = chrono::DateTime::parse_from_rfc3339(s["expires"].as_str().unwrap()).unwrap();
    assert_eq!(expiry.timestamp_millis(), later);

    // JSON update: expires=0 removes the expiry; the description is kept when not given.
    ok(&json("updateShare", &format!("{BOB}&id={token}&expires=0")));
    let s = &listed(BOB)[&token];
    assert!(s.get("expires").is_none(), "{s}");
    assert_eq!(s["description"], "New words");

    // An admin may change anyone's; an empty description removes it.
    ok(&json(
        "updateShare",
        &format!("{ADMIN}&id={token}&description="),
    ));
    assert!(listed(BOB)[&token].get("description").is_none());

    // Errors: missing id, unknown id, a past expiry, no share role, someone else's share.
    both_fail("updateShare", BOB, 10);
    both_fail(
        "updateShare",
        &format!("{BOB}&id=AAAAAAAAAAAAAAAAAAAAAA"),
        70,
    );
    both_fail(
        "updateShare",
        &format!("{BOB}&id={token}&expires={}", now_ms() - 10),
        0,
    );
    both_fail(
        "updateShare",
        &format!("{BOB}&id={token}&expires=253402300800000"),
        0,
    );
    assert!(listed(BOB)[&token].get("expires").is_none());
    both_fail("updateShare", &format!("{CAROL}&id={token}"), 50);
    let admins = create(ADMIN, &format!("&id={}", id("Two")));
    let admins = admins["id"].as_str().unwrap();
    both_fail(
        "updateShare",
        &format!("{BOB}&id={admins}&description=x"),
        70,
    );

    // Delete: errors first, then the owner deletes it and it is gone everywhere.
    both_fail("deleteShare", BOB, 10);
    both_fail("deleteShare", &format!("{CAROL}&id={token}"), 50);
    both_fail("deleteShare", &format!("{BOB}&id={admins}"), 70);
    assert!(listed(ADMIN).contains_key(admins));
    assert_eq!(page(&token).status, 200);
    let body = xml("deleteShare", &format!("{BOB}&id={token}"));
    assert!(body.contains("status=\"ok\""), "{body}");
    assert!(!listed(BOB).contains_key(&token));
    assert_eq!(page(&token).status, 404);
    both_fail("deleteShare", &format!("{BOB}&id={token}"), 70);
    // JSON delete by an admin of their own share.
    ok(&json("deleteShare", &format!("{ADMIN}&id={admins}")));
    assert!(!listed(ADMIN).contains_key(admins));
}

#[test]
fn the_public_page_lists_plays_and_counts() {
    let share = create(
        BOB,
        &format!(
            "&id={}&id={}&description=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            id("One"),
            id(TRICKY_TITLE)
        ),
    );
    let token = share["id"].as_str().unwrap().to_string();

    // HEAD answers but counts no visit.
    let head = request_raw(server().port, "HEAD", &format!("/share/{token}"), &[]).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(listed(BOB)[&token]["visitCount"], 0);

    let r = page(&token);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    // Everything from the catalog and the description is escaped.
    assert!(
        r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<script>alert"), "{}", r.body);
    assert!(r.body.contains("Tom &amp; &lt;Jerry&gt;"), "{}", r.body);
    assert!(!r.body.contains("<Jerry>"));
    assert!(r.body.contains("Shared by bob"));
    // Songs in order, with their streams and covers, and nothing else.
    let one = r
        .body
        .find(&format!("{token}/stream/{}", id("One")))
        .unwrap();
    let tricky = r
        .body
        .find(&format!("{token}/stream/{}", id(TRICKY_TITLE)))
        .unwrap();
    assert!(one < tricky);
    assert!(r.body.contains(&format!("{token}/cover/{}", id("One"))));
    assert!(!r.body.contains(&format!("/stream/{}", id("Two"))));
    // No external resource: every src is relative to the share.
    for src in r.body.split("src=\"").skip(1) {
        assert!(src.starts_with(&format!("{token}/")), "{src}");
    }

    // The visit was counted.
    page(&token);
    let s = &listed(BOB)[&token];
    assert_eq!(s["visitCount"], 2);
    let visited = chrono::DateTime::parse_from_rfc3339(s["lastVisited"].as_str().unwrap()).unwrap();
    assert!((now_ms() - visited.timestamp_millis()).abs() < 60_000);

    // Unknown and malformed tokens.
    assert_eq!(page("AAAAAAAAAAAAAAAAAAAAAA").status, 404);
    assert_eq!(page("..%2F..%2Fetc").status, 404);
}

#[test]
fn shared_streams_and_covers_serve_only_the_shared_songs() {
    let share = create(BOB, &format!("&id={}&id={}", id("One"), id("Three")));
    let token = share["id"].as_str().unwrap().to_string();
    let port = server().port;

    // The whole file, as on disk, without signing in.
    let r = server().fetch(&format!("/share/{token}/stream/{}", id("Three")), &[]);
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(r.header("content-type"), Some("audio/flac"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let whole = file_bytes("Three");
    assert_eq!(r.body, whole);

    // A range.
    let r = server().fetch(
        &format!("/share/{token}/stream/{}", id("One")),
        &[("Range", "bytes=100-199")],
    );
    assert_eq!(r.status, 206, "{}", r.headers);
    let one = file_bytes("One");
    assert_eq!(
        r.header("content-range").unwrap(),
        format!("bytes 100-199/{}", one.len())
    );
    assert_eq!(r.body, &one[100..200]);
    let r = request_raw(
        port,
        "HEAD",
        &format!("/share/{token}/stream/{}", id("One")),
        &[],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length").unwrap(), one.len().to_string());

    // A cover of a shared song with art; one without art; songs not in the share.
    let r = server().fetch(&format!("/share/{token}/cover/{}", id("One")), &[]);
    assert_eq!(r.status, 200, "{}", r.headers);
    assert!(r.header("content-type").unwrap().starts_with("image/"));
    let img = image::load_from_memory(&r.body).unwrap();
    assert!(img.width().max(img.height()) <= 300);
    let etag = r.header("etag").unwrap().to_string();
    let r = server().fetch(
        &format!("/share/{token}/cover/{}", id("One")),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(r.status, 304);
    assert_eq!(
        server()
            .fetch(&format!("/share/{token}/cover/{}", id("Three")), &[])
            .status,
        404
    );
    for other in ["Two", "Five", TRICKY_TITLE] {
        for kind in ["stream", "cover"] {
            let r = server().fetch(&format!("/share/{token}/{kind}/{}", id(other)), &[]);
            assert_eq!(r.status, 404, "{kind} of {other}");
        }
    }
    for bad in ["tr-999999", "al-1", "nonsense", "1"] {
        let r = server().fetch(&format!("/share/{token}/stream/{bad}"), &[]);
        assert_eq!(r.status, 404, "{bad}");
    }
    // Another share's token does not open this share's songs.
    let other = create(BOB, &format!("&id={}", id("Two")));
    let other = other["id"].as_str().unwrap();
    let r = server().fetch(&format!("/share/{other}/stream/{}", id("One")), &[]);
    assert_eq!(r.status, 404);
    // Streams through a share do not count visits.
    assert_eq!(listed(BOB)[&token]["visitCount"], 0);
}

#[test]
fn the_sharers_bitrate_cap_applies_to_the_share() {
    // Erin may stream at most 96 kbps: what she shares is heard at that rate too, as an MP3,
    // even when the page asks for the original FLAC.
    let share = create(ERIN, &format!("&id={}", id("Five")));
    let token = share["id"].as_str().unwrap();
    let r = server().fetch(&format!("/share/{token}/stream/{}", id("Five")), &[]);
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    assert_ne!(r.body, file_bytes("Five"));
    let kbps = mp3_bitrate_kbps(&r.body);
    assert!(kbps <= 96, "{kbps} kbps");
    // Bob has no cap: the same song through his share is the file itself.
    let share = create(BOB, &format!("&id={}", id("Five")));
    let token = share["id"].as_str().unwrap();
    let r = server().fetch(&format!("/share/{token}/stream/{}", id("Five")), &[]);
    assert_eq!(r.header("content-type"), Some("audio/flac"));
    assert_eq!(r.body, file_bytes("Five"));
}

/// The bitrate of the first MPEG-1 Layer III frame header in `mp3` (after any ID3v2 tag).
fn mp3_bitrate_kbps(mp3: &[u8]) -> u32 {
    const KBPS: [u32; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    let frame = mp3
        .windows(2)
        .position(|w| w[0] == 0xFF && w[1] & 0xFE == 0xFA)
        .expect("an MPEG-1 Layer III frame");
    KBPS[usize::from(mp3[frame + 2] >> 4)]
}

#[test]
fn an_expired_share_is_gone() {
    let expires = now_ms() + 1500;
    let share = create(BOB, &format!("&id={}&expires={expires}", id("Two")));
    let token = share["id"].as_str().unwrap().to_string();
    assert!(listed(BOB).contains_key(&token));
    let stream = format!("/share/{token}/stream/{}", id("Two"));
    assert_eq!(server().fetch(&stream, &[]).status, 200);

    let start = Instant::now();
    while now_ms() <= expires + 50 {
        std::thread::sleep(Duration::from_millis(100));
        assert!(start.elapsed() < Duration::from_secs(10));
    }
    assert!(!listed(BOB).contains_key(&token));
    assert!(!listed(ADMIN).contains_key(&token));
    assert_eq!(page(&token).status, 404);
    assert_eq!(server().fetch(&stream, &[]).status, 404);
    assert_eq!(
        server()
            .fetch(&format!("/share/{token}/cover/{}", id("Two")), &[])
            .status,
        404
    );
    both_fail("updateShare", &format!("{BOB}&id={token}&expires=0"), 70);
    both_fail("deleteShare", &format!("{BOB}&id={token}"), 70);
}

/// The page in a real headless Chromium: the inline script runs under the page's own
/// Content-Security-Policy (its hash matches) and sets the first song up in the player.
#[test]
fn the_page_works_in_a_browser() {
    let share = create(BOB, &format!("&id={}&id={}", id("Three"), id("One")));
    let token = share["id"].as_str().unwrap();
    let r = page(token);
    // The script's hash is the one the policy allows.
    let script = r.body.split("<script>").nth(1).unwrap();
    let script = script.split("</script>").next().unwrap();
    let hash = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script.as_bytes()))
    };
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains(&format!("'sha256-{hash}'"))
    );

    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=3000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("http://127.0.0.1:{}/share/{token}", server().port))
        .output()
        .expect("chromium is needed for this test (Debian package chromium)");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    // The script ran: the first song is selected and loaded into the player.
    let first = format!("{token}/stream/{}", id("Three"));
    assert!(
        dom.contains(&format!("<li data-src=\"{first}\" class=\"playing\">")),
        "{dom}"
    );
    assert!(dom.contains(&format!("src=\"{first}\"")), "{dom}");
}
