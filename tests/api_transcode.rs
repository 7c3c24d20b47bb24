//! stream with transcoding, over real HTTP on real audio: exact lengths, ranges into uncached
//! transcodes, timeOffset, the cache, the concurrency cap, corrupt sources and formats only
//! ffmpeg can decode. Transcoded bytes are decoded back with symphonia.

mod common;

use common::api::{
    ADMIN, BOB, Server, assert_error, assert_valid_xml, put, request_raw, start_server_configured,
};
use mediastreamer::synth::{Format, TrackSpec};
use mediastreamer::transcode::signal::{mp3_bytes, tones, wav_bytes};
use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

const FLAC_SECONDS: f64 = 25.0;

/// The FLAC's real length: FLAC_SECONDS rounded up to whole blocks.
fn flac_seconds() -> f64 {
    ((FLAC_SECONDS * 44_100.0) as usize).div_ceil(4096) as f64 * 4096.0 / 44_100.0
}

fn build_library(music: &Path) {
    let dir = music.join("Album");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("long.flac"),
        common::flac_bytes(44_100, 2, &tones(44_100, 2, FLAC_SECONDS)),
    )
    .unwrap();
    std::fs::write(
        dir.join("surround.wav"),
        wav_bytes(96_000, 6, &tones(96_000, 6, 12.0)),
    )
    .unwrap();
    std::fs::write(
        dir.join("song.mp3"),
        mp3_bytes(320, 44_100, &tones(44_100, 2, 20.0)).unwrap(),
    )
    .unwrap();
    let broken = common::flac_bytes(44_100, 2, &tones(44_100, 2, 30.0));
    std::fs::write(dir.join("broken.flac"), &broken[..broken.len() / 2]).unwrap();
    put(
        music,
        "Album/voice.opus",
        Format::Opus,
        TrackSpec {
            title: "Voice".into(),
            ..Default::default()
        },
    );
}

struct Library {
    server: Server,
    /// Track id by file name.
    ids: HashMap<String, String>,
}

fn track_ids(port: u16) -> HashMap<String, String> {
    common::api::admin_songs(port)
        .iter()
        .map(|s| {
            let path = s["path"].as_str().unwrap();
            let name = path.rsplit('/').next().unwrap().to_string();
            (name, s["id"].as_str().unwrap().to_string())
        })
        .collect()
}

fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let server = common::api::start_server(5, build_library);
        // Gains measured while a test runs would change an Opus stream's tags between two
        // fetches it compares.
        server.wait_for_loudness();
        let ids = track_ids(server.port);
        Library { server, ids }
    })
}

fn stream_path(id: &str, extra: &str) -> String {
    format!("/rest/stream.view?{ADMIN}&id={id}{extra}")
}

/// Decodes MP3 bytes with symphonia: samples per channel and the sample rate.
fn decode(bytes: &[u8]) -> (u64, u32) {
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let options = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let mut format = symphonia::default::get_probe()
        .format(&hint, stream, &options, &MetadataOptions::default())
        .unwrap()
        .format;
    let params = format.default_track().unwrap().codec_params.clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .unwrap();
    let mut frames = 0u64;
    while let Ok(packet) = format.next_packet() {
        let decoded = decoder.decode(&packet).unwrap();
        assert_eq!(decoded.spec().channels.count(), 2, "a stereo stream");
        let mut buffer = SampleBuffer::<f32>::new(decoded.capacity() as u64, *decoded.spec());
        buffer.copy_interleaved_ref(decoded);
        frames += buffer.samples().len() as u64 / 2;
    }
    (frames, params.sample_rate.unwrap())
}

/// The bitrate (kbps) of the MPEG-1 Layer III frame at `bytes`.
fn frame_kbps(bytes: &[u8]) -> u32 {
    assert_eq!(bytes[0], 0xFF);
    assert_eq!(bytes[1] & 0xFE, 0xFA, "MPEG-1 Layer III");
    [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ][(bytes[2] >> 4) as usize]
}

/// Frame start offsets of a whole MP3 stream (Info frame first).
fn frame_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 0;
    while at + 4 <= bytes.len() {
        offsets.push(at);
        let len = mediastreamer::transcode::layout::mpeg1_layer3_frame_len(&bytes[at..])
            .expect("frames follow each other without gaps");
        at += len;
    }
    assert_eq!(at, bytes.len(), "the stream ends on a frame boundary");
    offsets
}

#[test]
fn a_transcoded_stream_has_its_exact_length_bitrate_and_duration() {
    let lib = library();
    let id = &lib.ids["long.flac"];
    let r = lib.server.fetch(&stream_path(id, "&maxBitRate=128"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let length: usize = r.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, r.body.len(), "Content-Length is the bytes sent");
    let offsets = frame_offsets(&r.body);
    assert_eq!(
        &r.body[36..40],
        b"Info",
        "a Xing/LAME Info frame opens the stream"
    );
    assert!(
        offsets[1..]
            .iter()
            .all(|&o| frame_kbps(&r.body[o..]) == 128)
    );
    let (frames, rate) = decode(&r.body);
    assert_eq!(rate, 44_100);
    let seconds = frames as f64 / 44_100.0;
    assert!((seconds - flac_seconds()).abs() < 0.2, "{seconds} s");
    let kbps = length as f64 * 8.0 / seconds / 1000.0;
    assert!((kbps - 128.0).abs() < 2.0, "{kbps} kbps");
    let duration: f64 = r.header("x-content-duration").unwrap().parse().unwrap();
    assert!((duration - flac_seconds()).abs() < 0.05);
}

#[test]
fn a_range_into_an_uncached_transcode_keeps_the_full_layout() {
    let lib = library();
    let id = &lib.ids["long.flac"];
    // A profile nothing else asks for, so nothing is cached: HEAD encodes nothing.
    let path = stream_path(id, "&maxBitRate=96");
    let head = request_raw(lib.server.port, "HEAD", &path, &[]).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let total: usize = head.header("content-length").unwrap().parse().unwrap();
    let from = total * 3 / 5 + 3; // somewhere inside a frame
    let ranged = lib
        .server
        .fetch(&path, &[("Range", &format!("bytes={from}-"))]);
    assert_eq!(ranged.status, 206);
    assert_eq!(
        ranged.header("content-range"),
        Some(format!("bytes {from}-{}/{total}", total - 1).as_str())
    );
    assert_eq!(ranged.body.len(), total - from);
    // The same bytes as the full transcode has there: a player stitching ranges together
    // never meets a torn frame.
    let whole = lib.server.fetch(&path, &[]);
    assert_eq!(whole.body.len(), total);
    assert!(
        ranged.body == whole.body[from..],
        "the range differs from the full transcode"
    );
    // From the next frame boundary on, it decodes to the remaining duration.
    let offsets = frame_offsets(&whole.body);
    let boundary = *offsets.iter().find(|&&o| o >= from).unwrap();
    let remaining_frames = offsets.iter().filter(|&&o| o >= boundary).count() as f64;
    let (frames, _) = decode(&ranged.body[boundary - from..]);
    let expected = remaining_frames * 1152.0 / 44_100.0;
    let seconds = frames as f64 / 44_100.0;
    assert!(
        (seconds - expected).abs() < 0.2,
        "{seconds} s decoded, {expected} s expected"
    );
    // A range past the end is unsatisfiable.
    let past = lib
        .server
        .fetch(&path, &[("Range", &format!("bytes={total}-"))]);
    assert_eq!(past.status, 416);
    assert_eq!(
        past.header("content-range"),
        Some(format!("bytes */{total}").as_str())
    );
}

#[test]
fn time_offset_starts_mid_track() {
    let lib = library();
    let id = &lib.ids["long.flac"];
    let r = lib
        .server
        .fetch(&stream_path(id, "&maxBitRate=128&timeOffset=10"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        r.body.len()
    );
    let (frames, _) = decode(&r.body);
    let seconds = frames as f64 / 44_100.0;
    assert!((seconds - (flac_seconds() - 10.0)).abs() < 0.2, "{seconds}");
    // timeOffset alone transcodes (bytes cannot start at a time); past the end is an error.
    let alone = lib.server.fetch(&stream_path(id, "&timeOffset=20"), &[]);
    assert_eq!(alone.header("content-type"), Some("audio/mpeg"));
    let past = lib
        .server
        .fetch(&stream_path(id, "&timeOffset=999&f=json"), &[]);
    assert_error(&past.json(), 0);
    let bad = lib
        .server
        .fetch(&stream_path(id, "&timeOffset=-3&f=json"), &[]);
    assert_error(&bad.json(), 0);
}

#[test]
fn multichannel_hi_res_is_downmixed_and_resampled() {
    let lib = library();
    let id = &lib.ids["surround.wav"];
    let r = lib.server.fetch(&stream_path(id, "&format=mp3"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body.len(),
        r.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
    );
    let (frames, rate) = decode(&r.body);
    assert_eq!(rate, 48_000);
    assert!((frames as f64 / 48_000.0 - 12.0).abs() < 0.2);
    // format=mp3 without a cap: the default bitrate.
    assert_eq!(frame_kbps(&r.body[frame_offsets(&r.body)[1]..]), 192);
}

#[test]
fn a_finished_transcode_is_served_from_the_cache() {
    let lib = library();
    let id = &lib.ids["song.mp3"];
    let path = stream_path(id, "&maxBitRate=64");
    let first = lib.server.fetch(&path, &[]);
    assert_eq!(first.status, 200);
    let cache_dir = lib
        .server
        .config
        .parent()
        .unwrap()
        .join("catalog.db.transcode-cache");
    // The entry is renamed into place once the encoder has finished.
    let start = Instant::now();
    let entry = loop {
        let found = std::fs::read_dir(&cache_dir).ok().and_then(|dir| {
            dir.flatten().map(|e| e.path()).find(|p| {
                p.extension().is_some_and(|e| e == "mp3") && p.to_string_lossy().contains("-64k-")
            })
        });
        if let Some(found) = found {
            break found;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no cache entry");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(std::fs::read(&entry).unwrap(), first.body);
    // Mark the cached copy: the next play (and a range of it) comes from disk.
    let mut marked = first.body.clone();
    let n = marked.len();
    marked[n - 10..].copy_from_slice(b"CACHED-HIT");
    std::fs::write(&entry, &marked).unwrap();
    let again = lib.server.fetch(&path, &[]);
    assert_eq!(again.body, marked);
    let tail = lib.server.fetch(&path, &[("Range", "bytes=-10")]);
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, b"CACHED-HIT");
}

#[test]
fn a_corrupt_source_ends_its_stream_and_the_server_goes_on() {
    let lib = library();
    let id = &lib.ids["broken.flac"];
    let r = lib.server.fetch(&stream_path(id, "&maxBitRate=128"), &[]);
    assert_eq!(r.status, 200);
    let announced: usize = r.header("content-length").unwrap().parse().unwrap();
    assert!(
        !r.body.is_empty() && r.body.len() < announced,
        "the stream ends early"
    );
    // What came is whole frames of a valid stream.
    let (frames, _) = decode(&r.body);
    assert!(frames > 44_100 * 5, "about half the audio arrived");
    let ok = lib
        .server
        .fetch(&stream_path(&lib.ids["long.flac"], "&maxBitRate=128"), &[]);
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        ok.body.len()
    );
}

#[test]
fn raw_and_uncapped_requests_get_the_original() {
    let lib = library();
    let id = &lib.ids["long.flac"];
    let original = std::fs::metadata(
        lib.server
            .config
            .parent()
            .unwrap()
            .join("music/Album/long.flac"),
    )
    .unwrap()
    .len() as usize;
    for extra in ["", "&format=raw&maxBitRate=64", "&maxBitRate=0"] {
        let r = lib.server.fetch(&stream_path(id, extra), &[]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("audio/flac"), "{extra}");
        assert_eq!(r.body.len(), original);
    }
    // An MP3 already under the cap is sent as it is.
    let mp3 = lib
        .server
        .fetch(&stream_path(&lib.ids["song.mp3"], "&maxBitRate=320"), &[]);
    assert_eq!(mp3.header("content-type"), Some("audio/mpeg"));
    assert!(mp3.header("content-length").is_some());
    // No server-wide cap: songs carry no transcoded suffix.
    let song = lib.server.call_both("getSong", &format!("{ADMIN}&id={id}"));
    assert!(song["song"].get("transcodedSuffix").is_none());
    // The caller's own cap counts: bob, held to 64 kbps, is told he would get MP3.
    let r = lib
        .server
        .call_both("updateUser", &format!("{ADMIN}&username=bob&maxBitRate=64"));
    assert_eq!(r["status"], "ok", "{r}");
    let song = lib.server.call_both("getSong", &format!("{BOB}&id={id}"));
    assert_eq!(song["song"]["transcodedSuffix"], "mp3");
    assert_eq!(song["song"]["transcodedContentType"], "audio/mpeg");
    // Errors are envelopes in both formats.
    let missing = lib.server.fetch(&stream_path("tr-999999", "&f=json"), &[]);
    assert_error(&missing.json(), 70);
    let xml = lib.server.fetch(&stream_path("tr-999999", ""), &[]);
    assert_valid_xml(&String::from_utf8(xml.body).unwrap());
}

#[test]
fn format_raw_does_not_lift_a_users_own_maximum() {
    let lib = library();
    let id = &lib.ids["long.flac"];
    let r = lib
        .server
        .call_both("updateUser", &format!("{ADMIN}&username=bob&maxBitRate=64"));
    assert_eq!(r["status"], "ok", "{r}");
    let path = format!("/rest/stream.view?{BOB}&id={id}&format=raw");
    let capped = lib.server.fetch(&path, &[]);
    assert_eq!(capped.status, 200);
    assert_eq!(capped.header("content-type"), Some("audio/mpeg"));
    assert_eq!(
        frame_kbps(&capped.body[frame_offsets(&capped.body)[1]..]),
        64
    );
    // The request's own maxBitRate yields to raw (the admin has no maximum).
    let admin = lib
        .server
        .fetch(&stream_path(id, "&format=raw&maxBitRate=64"), &[]);
    assert_eq!(admin.header("content-type"), Some("audio/flac"));
}

#[test]
fn opus_goes_through_ffmpeg_when_it_is_there() {
    let lib = library();
    let id = &lib.ids["voice.opus"];
    let r = lib
        .server
        .fetch(&stream_path(id, "&format=mp3&f=json"), &[]);
    let has_ffmpeg = Command::new("ffmpeg").arg("-version").output().is_ok();
    if has_ffmpeg {
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("audio/mpeg"));
        assert_eq!(
            r.body.len(),
            r.header("content-length")
                .unwrap()
                .parse::<usize>()
                .unwrap()
        );
        let (frames, rate) = decode(&r.body);
        assert_eq!(rate, 48_000);
        assert!(frames > 0);
    } else {
        let e = r.json();
        assert_error(&e, 0);
        assert_eq!(e["error"]["message"], "cannot transcode opus");
    }
}

/// Five minutes at 8 kHz (a transcode that outlasts any socket buffer) and a short FLAC.
fn long_and_short(music: &Path) {
    std::fs::write(
        music.join("long.wav"),
        wav_bytes(8_000, 1, &tones(8_000, 1, 300.0)),
    )
    .unwrap();
    std::fs::write(
        music.join("short.flac"),
        common::flac_bytes(44_100, 2, &tones(44_100, 2, 3.0)),
    )
    .unwrap();
}

/// A server with a `[transcode]` section: a 1 s wait, no ffmpeg, a 128 kbps server-wide cap,
/// 64 kbps for "LowBand" and 320 for "HiFi", Opus for "OpusFan". Enough slots that its tests never wait for one
/// another (the slot-holding tests have servers of their own: `one_slot_server`).
fn capped_server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let config = "[transcode]\nmax_concurrent = 8\nwait_secs = 1\nffmpeg = \"\"\n\
                      max_bit_rate = 128\nclient_max_bit_rate = { LowBand = 64, HiFi = 320 }\n\
                      client_format = { OpusFan = \"opus\" }\n";
        start_server_configured(&["music"], config, 4, |folders| {
            long_and_short(&folders[0]);
            put(
                &folders[0],
                "gained.flac",
                Format::Flac,
                TrackSpec {
                    title: "Gained".into(),
                    artist: "Loud Band".into(),
                    album: "Loud Album".into(),
                    rg_track_gain: Some(-6.5),
                    ..Default::default()
                },
            );
            put(
                &folders[0],
                "voice.opus",
                Format::Opus,
                TrackSpec::default(),
            );
        })
    })
}

/// A server of its own with one transcode slot, a 1 s wait for it, and `idle_secs` for a
/// client that stops reading.
fn one_slot_server(idle_secs: u64) -> Server {
    let config =
        format!("[transcode]\nmax_concurrent = 1\nwait_secs = 1\nidle_secs = {idle_secs}\n");
    start_server_configured(&["music"], &config, 2, |folders| {
        long_and_short(&folders[0])
    })
}

/// Starts a transcode of `path` and reads only the response head: the client then stalls.
fn stalled_transcode(server: &Server, path: &str) -> TcpStream {
    let mut stalled = common::api::connect_small_window(server.port);
    stalled
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stalled,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut first = [0u8; 1024];
    let n = stalled.read(&mut first).unwrap();
    let head = String::from_utf8_lossy(&first[..n]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: audio/mpeg"), "{head}");
    stalled
}

fn capped_get(path: &str) -> common::api::RawResponse {
    request_raw(capped_server().port, "GET", path, &[]).unwrap()
}

#[test]
fn without_ffmpeg_other_formats_are_refused_but_stay_available_raw() {
    let server = capped_server();
    let ids = track_ids(server.port);
    let id = &ids["voice.opus"];
    let json = capped_get(&stream_path(id, "&format=mp3&f=json")).json();
    assert_error(&json, 0);
    assert_eq!(json["error"]["message"], "cannot transcode opus");
    let xml = capped_get(&stream_path(id, "&format=mp3"));
    assert!(xml.header("content-type").unwrap().starts_with("text/xml"));
    let xml = String::from_utf8(xml.body).unwrap();
    assert!(xml.contains("code=\"0\"") && xml.contains("cannot transcode opus"));
    assert_valid_xml(&xml);
    let raw = capped_get(&stream_path(id, "&format=raw"));
    assert_eq!(raw.status, 200);
    assert_ne!(raw.header("content-type"), Some("audio/mpeg"));
    assert!(raw.header("content-type").unwrap().starts_with("audio/"));
}

#[test]
fn configured_caps_apply_and_songs_say_what_a_plain_stream_sends() {
    let server = capped_server();
    let ids = track_ids(server.port);
    let id = &ids["short.flac"];
    // The server-wide cap transcodes a plain request, and getSong says so.
    let plain = capped_get(&stream_path(id, ""));
    assert_eq!(plain.header("content-type"), Some("audio/mpeg"));
    assert_eq!(
        frame_kbps(&plain.body[frame_offsets(&plain.body)[1]..]),
        128
    );
    let song = capped_get(&format!("/rest/getSong?{ADMIN}&id={id}&f=json")).json();
    assert_eq!(song["song"]["transcodedSuffix"], "mp3");
    assert_eq!(song["song"]["transcodedContentType"], "audio/mpeg");
    let xml = capped_get(&format!("/rest/getSong?{ADMIN}&id={id}"));
    assert_valid_xml(&String::from_utf8(xml.body).unwrap());
    // A client's own cap wins over the server-wide one.
    let low = capped_get(&stream_path(id, "&c=LowBand"));
    assert_eq!(frame_kbps(&low.body[frame_offsets(&low.body)[1]..]), 64);
}

#[test]
fn the_concurrency_cap_refuses_after_a_short_wait_and_frees_when_a_client_leaves() {
    let server = one_slot_server(60);
    let ids = track_ids(server.port);
    let long = &ids["long.wav"];
    let get = |path: &str| request_raw(server.port, "GET", path, &[]).unwrap();
    // A client that starts a transcode and stops reading holds the only slot (7 MB of
    // output at 192 kbps: more than the socket buffers on both sides take in).
    let stalled = stalled_transcode(&server, &stream_path(long, "&format=mp3"));
    let started = Instant::now();
    let refused = get(&stream_path(long, "&maxBitRate=64&f=json"));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited first"
    );
    let e = refused.json();
    assert_error(&e, 0);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many transcodes")
    );
    // The client goes away: its encoder stops and the slot frees up.
    drop(stalled);
    let start = Instant::now();
    loop {
        let r = get(&stream_path(&ids["short.flac"], "&maxBitRate=64"));
        if r.status == 200 && r.header("content-type") == Some("audio/mpeg") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the slot was not freed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_client_that_stops_reading_loses_its_transcode_slot() {
    let server = one_slot_server(1);
    let ids = track_ids(server.port);
    let long = stream_path(&ids["long.wav"], "&format=mp3&maxBitRate=320");
    let mut stalled = stalled_transcode(&server, &long);
    // The stalled client is still connected, yet a second transcode gets the slot once the
    // first has filled the buffers and waited a second for its reader.
    let started = Instant::now();
    loop {
        let r = request_raw(
            server.port,
            "GET",
            &stream_path(&ids["short.flac"], "&maxBitRate=64"),
            &[],
        )
        .unwrap();
        if r.status == 200 && r.header("content-type") == Some("audio/mpeg") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the stalled client kept the slot"
        );
    }
    // The given-up stream ends short of its announced length.
    let mut rest = Vec::new();
    let _ = stalled.read_to_end(&mut rest);
    assert!(rest.len() < 12_000_000, "{} bytes", rest.len());
}

// ---- Ogg Opus: the same battery ----

/// Decodes Ogg Opus bytes with ffmpeg (symphonia has no Opus decoder): samples per channel
/// (pre-skip and end trimming applied), the channel count ffprobe reports, and anything ffmpeg
/// complained about (a bad page CRC, a broken packet): nothing for a good stream.
fn decode_opus(bytes: &[u8]) -> (u64, u32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.opus");
    std::fs::write(&path, bytes).unwrap();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,channels,sample_rate",
        ])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(&path)
        .output()
        .expect("ffprobe runs");
    let facts = String::from_utf8_lossy(&probe.stdout).into_owned();
    assert!(facts.contains("codec_name=opus"), "{facts}");
    let channels: u32 = facts
        .lines()
        .find_map(|l| l.strip_prefix("channels="))
        .unwrap()
        .parse()
        .unwrap();
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "s16le", "-ar", "48000", "-"])
        .output()
        .expect("ffmpeg runs");
    let complaints = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        out.stdout.len() as u64 / 2 / u64::from(channels),
        channels,
        complaints,
    )
}

/// Samples per channel at 48 kHz of the test FLAC.
fn flac_samples_48k() -> u64 {
    let frames = ((FLAC_SECONDS * 44_100.0) as u64).div_ceil(4096) * 4096;
    (frames * 48_000).div_ceil(44_100)
}

/// Offsets of the Ogg pages of a whole stream.
fn ogg_pages(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        assert_eq!(
            &bytes[at..at + 4],
            b"OggS",
            "pages follow each other at {at}"
        );
        offsets.push(at);
        let segments = bytes[at + 26] as usize;
        let body: usize = bytes[at + 27..at + 27 + segments]
            .iter()
            .map(|&l| l as usize)
            .sum();
        at += 27 + segments + body;
    }
    assert_eq!(at, bytes.len(), "the stream ends on a page boundary");
    offsets
}

/// Bytes of the stream's Opus packets (every audio packet has one size: hard CBR), from the
/// first audio page's lacing values.
fn opus_packet_len(bytes: &[u8]) -> usize {
    let third = ogg_pages(bytes)[2];
    let segments = bytes[third + 26] as usize;
    let lacing = &bytes[third + 27..third + 27 + segments];
    let end = lacing.iter().position(|&l| l < 255).unwrap();
    lacing[..=end].iter().map(|&l| l as usize).sum()
}

#[test]
fn an_opus_stream_has_its_exact_length_bitrate_tags_and_duration() {
    let lib = library();
    let id = &lib.ids["long.flac"];
    let r = lib
        .server
        .fetch(&stream_path(id, "&format=opus&maxBitRate=128"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("audio/ogg"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let length: usize = r.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, r.body.len(), "Content-Length is the bytes sent");
    assert_eq!(&r.body[28..36], b"OpusHead");
    assert_eq!(opus_packet_len(&r.body), 320, "128 kbps in 20 ms packets");
    let tags = String::from_utf8_lossy(&r.body[..400]);
    assert!(
        tags.contains("OpusTags") && tags.contains("TITLE=long"),
        "{tags}"
    );
    let (samples, channels, complaints) = decode_opus(&r.body);
    assert_eq!(complaints, "");
    assert_eq!(channels, 2);
    assert_eq!(
        samples,
        flac_samples_48k(),
        "decodes to the source's duration"
    );
    let duration: f64 = r.header("x-content-duration").unwrap().parse().unwrap();
    assert!((duration - flac_seconds()).abs() < 0.05);
}

#[test]
fn a_range_into_an_uncached_opus_transcode_keeps_the_full_layout() {
    let lib = library();
    let id = &lib.ids["long.flac"];
    let path = stream_path(id, "&format=opus&maxBitRate=112");
    let head = request_raw(lib.server.port, "HEAD", &path, &[]).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("audio/ogg"));
    let total: usize = head.header("content-length").unwrap().parse().unwrap();
    let from = total * 3 / 5 + 3;
    let ranged = lib
        .server
        .fetch(&path, &[("Range", &format!("bytes={from}-"))]);
    assert_eq!(ranged.status, 206);
    assert_eq!(
        ranged.header("content-range"),
        Some(format!("bytes {from}-{}/{total}", total - 1).as_str())
    );
    assert_eq!(ranged.body.len(), total - from);
    let whole = lib.server.fetch(&path, &[]);
    assert_eq!(whole.body.len(), total);
    assert!(
        ranged.body == whole.body[from..],
        "the range differs from the full transcode"
    );
    let (samples, _, complaints) = decode_opus(&whole.body);
    assert_eq!(complaints, "");
    assert_eq!(samples, flac_samples_48k());
    let past = lib
        .server
        .fetch(&path, &[("Range", &format!("bytes={total}-"))]);
    assert_eq!(past.status, 416);
}

#[test]
fn an_opus_time_offset_starts_mid_track() {
    let lib = library();
    let id = &lib.ids["long.flac"];
    let r = lib
        .server
        .fetch(&stream_path(id, "&format=opus&timeOffset=10"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("audio/ogg"));
    let length: usize = r.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, r.body.len());
    let (samples, _, complaints) = decode_opus(&r.body);
    assert_eq!(complaints, "");
    assert_eq!(samples, flac_samples_48k() - 10 * 48_000);
    let past = lib
        .server
        .fetch(&stream_path(id, "&format=opus&timeOffset=999&f=json"), &[]);
    assert_error(&past.json(), 0);
}

#[test]
fn opus_of_a_hi_res_surround_file_is_stereo_and_mono_stays_mono() {
    let lib = library();
    let r = lib
        .server
        .fetch(&stream_path(&lib.ids["surround.wav"], "&format=opus"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body.len(),
        r.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
    );
    // format=opus without a cap: the default bitrate (192 kbps: 480-byte packets).
    assert_eq!(opus_packet_len(&r.body), 480);
    let (samples, channels, complaints) = decode_opus(&r.body);
    assert_eq!(complaints, "");
    assert_eq!(channels, 2);
    assert_eq!(samples, 12 * 48_000);
    let server = capped_server();
    let ids = track_ids(server.port);
    let mono = capped_get(&stream_path(
        &ids["long.wav"],
        "&format=opus&timeOffset=290",
    ));
    assert_eq!(mono.status, 200);
    let (samples, channels, complaints) = decode_opus(&mono.body);
    assert_eq!(complaints, "");
    assert_eq!(channels, 1, "an 8 kHz mono file gives mono Opus");
    assert_eq!(samples, 10 * 48_000);
}

#[test]
fn opus_caps_client_defaults_tags_and_hints_tell_the_truth() {
    let server = capped_server();
    let ids = track_ids(server.port);
    let id = &ids["short.flac"];
    // The client configured for Opus gets it on a plain request, at the server-wide cap.
    let fan = capped_get(&stream_path(id, "&c=OpusFan"));
    assert_eq!(fan.header("content-type"), Some("audio/ogg"));
    assert_eq!(opus_packet_len(&fan.body), 320);
    let (_, _, complaints) = decode_opus(&fan.body);
    assert_eq!(complaints, "");
    // ...and its songs say so; another client's say MP3.
    let song = capped_get(&format!("/rest/getSong?{ADMIN}&id={id}&c=OpusFan&f=json")).json();
    assert_eq!(song["song"]["transcodedSuffix"], "opus");
    assert_eq!(song["song"]["transcodedContentType"], "audio/ogg");
    let xml = capped_get(&format!("/rest/getSong?{ADMIN}&id={id}&c=OpusFan"));
    assert_valid_xml(&String::from_utf8(xml.body).unwrap());
    let song = capped_get(&format!("/rest/getSong?{ADMIN}&id={id}&c=LowBand&f=json")).json();
    assert_eq!(song["song"]["transcodedSuffix"], "mp3");
    // A client's own cap applies to Opus too; a request's format wins over the default.
    let low = capped_get(&stream_path(id, "&c=LowBand&format=opus"));
    assert_eq!(opus_packet_len(&low.body), 160);
    let named = capped_get(&stream_path(id, "&c=OpusFan&format=mp3"));
    assert_eq!(named.header("content-type"), Some("audio/mpeg"));
    // OpusTags carry the track's tags and its ReplayGain as an R128 gain (5 dB lower, Q7.8).
    let gained = capped_get(&stream_path(&ids["gained.flac"], "&format=opus"));
    assert_eq!(gained.status, 200);
    let head = String::from_utf8_lossy(&gained.body[..300]);
    for tag in [
        "TITLE=Gained",
        "ARTIST=Loud Band",
        "ALBUM=Loud Album",
        "R128_TRACK_GAIN=-2944",
    ] {
        assert!(head.contains(tag), "{tag} in {head}");
    }
}

#[test]
fn a_finished_opus_transcode_is_served_from_the_cache() {
    let lib = library();
    let id = &lib.ids["song.mp3"];
    let path = stream_path(id, "&format=opus&maxBitRate=48");
    let first = lib.server.fetch(&path, &[]);
    assert_eq!(first.status, 200);
    assert_eq!(first.header("content-type"), Some("audio/ogg"));
    let cache_dir = lib
        .server
        .config
        .parent()
        .unwrap()
        .join("catalog.db.transcode-cache");
    let start = Instant::now();
    let entry = loop {
        let found = std::fs::read_dir(&cache_dir).ok().and_then(|dir| {
            dir.flatten()
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().contains("-opus48k-"))
        });
        if let Some(found) = found
            && found.extension().is_some_and(|e| e != "part")
        {
            break found;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no cache entry");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(std::fs::read(&entry).unwrap(), first.body);
    // Named by its format (an Opus file is not filed as .mp3).
    assert_eq!(entry.extension().unwrap(), "opus", "{}", entry.display());
    let mut marked = first.body.clone();
    let n = marked.len();
    marked[n - 10..].copy_from_slice(b"CACHED-HIT");
    std::fs::write(&entry, &marked).unwrap();
    let again = lib.server.fetch(&path, &[]);
    assert_eq!(again.body, marked);
    let tail = lib.server.fetch(&path, &[("Range", "bytes=-10")]);
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, b"CACHED-HIT");
}

#[test]
fn opus_goes_through_the_ffmpeg_decoder_too() {
    let lib = library();
    // An Opus file is not re-encoded to Opus at its own bitrate; under a lower cap it is,
    // decoded by ffmpeg.
    let id = &lib.ids["voice.opus"];
    let r = lib
        .server
        .fetch(&stream_path(id, "&format=opus&maxBitRate=32"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("audio/ogg"));
    assert_eq!(
        r.body.len(),
        r.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
    );
    assert_eq!(opus_packet_len(&r.body), 80);
    let (samples, _, complaints) = decode_opus(&r.body);
    assert_eq!(complaints, "");
    assert!(samples > 0);
}

/// A gain measured between two requests: the second Opus stream carries it in OpusTags with
/// the very same length and audio bytes (the tags have a fixed size), under a new ETag; a
/// Range whose If-Range names the first stream's ETag gets the whole new stream (200), never
/// a mix of the two.
#[test]
fn a_gain_measured_between_two_requests_changes_the_opus_tags_not_the_layout() {
    let config = "[transcode]\nffmpeg = \"\"\n[loudness]\nenabled = false\n";
    let mut server = start_server_configured(&["music"], config, 1, |f| {
        let dir = f[0].join("Quiet");
        std::fs::create_dir_all(&dir).unwrap();
        let bytes = common::flac_bytes(44_100, 2, &tones(44_100, 2, 8.0));
        std::fs::write(dir.join("quiet.flac"), bytes).unwrap();
    });
    let id = track_ids(server.port)["quiet.flac"].clone();
    let path = stream_path(&id, "&format=opus&maxBitRate=96");
    let before = server.fetch(&path, &[]);
    assert_eq!(before.status, 200);
    let old_etag = before.header("etag").unwrap().to_string();
    let pages = ogg_pages(&before.body);
    let audio = pages[2];
    assert!(!String::from_utf8_lossy(&before.body[..audio]).contains("R128"));

    server.restart_with(&[("MEDIASTREAMER_LOUDNESS__ENABLED", "true")]);
    let started = Instant::now();
    let gain = loop {
        let song = server.call_both("getSong", &format!("{ADMIN}&id={id}"));
        if let Some(gain) = song["song"]["replayGain"]["trackGain"].as_f64() {
            break gain;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never measured"
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    let after = server.fetch(&path, &[]);
    assert_eq!(after.status, 200);
    let new_etag = after.header("etag").unwrap().to_string();
    assert_ne!(new_etag, old_etag);
    assert_eq!(after.body.len(), before.body.len());
    assert_eq!(ogg_pages(&after.body), pages);
    let r128 = ((gain - 5.0) * 256.0).round() as i64;
    let tags = String::from_utf8_lossy(&after.body[..audio]).into_owned();
    assert!(tags.contains(&format!("R128_TRACK_GAIN={r128}")), "{tags}");
    assert_eq!(
        after.body[audio..],
        before.body[audio..],
        "the audio is the same"
    );
    let (_, _, complaints) = decode_opus(&after.body);
    assert_eq!(complaints, "");

    // A restart that still holds the old stream: the whole new one, then ranges of it.
    let stale = server.fetch(&path, &[("Range", "bytes=50-"), ("If-Range", &old_etag)]);
    assert_eq!(stale.status, 200);
    assert_eq!(stale.header("etag"), Some(new_etag.as_str()));
    assert!(stale.body == after.body);
    let current = server.fetch(&path, &[("Range", "bytes=50-"), ("If-Range", &new_etag)]);
    assert_eq!(current.status, 206);
    assert!(current.body == after.body[50..]);
}
