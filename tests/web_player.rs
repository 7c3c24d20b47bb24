//! The web player: how the server sends it (compression, ETags, cache headers, the SPA
//! fallback that shadows nothing, CSP, the size of a first load), getScanErrors for its admin
//! page, and the player itself end to end in Debian's headless Chromium driven by Playwright
//! (tests/web/e2e.mjs) against the real server on a generated library whose album of
//! 4-second tracks is one continuous tone, so a gapless transition can be measured; a second
//! library holds what Chromium cannot play (AIFF, WavPack, ALAC: the server transcodes them),
//! files nothing can decode, and the tone at 48 kHz.

mod common;

use common::api::*;
use mediastreamer::synth::{self, Format, TrackSpec};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Sample rate of the generated tone: headless Chromium's AudioContext runs at 44.1 kHz, so
/// decodeAudioData need not resample and the recording compares sample for sample. The 48 kHz
/// album is played with the AudioContext at 48 kHz (the browser test asserts both rates).
const RATE: u32 = 44_100;
const RATE_48K: u32 = 48_000;
/// Seconds per track of the gapless album.
const TRACK_SECONDS: f64 = 4.0;
/// Not a whole number of cycles per track: every track boundary falls far from a zero
/// crossing, where a gap or an overlap of even one sample breaks the tone.
const TONE_HZ: f64 = 441.3;

/// `seconds` of one continuous sine from `start` seconds on, 16-bit mono at `rate`: the tracks
/// of a gapless album split one tone, so any gap or overlap between them is audible.
fn tone(rate: u32, start: f64, seconds: f64) -> Vec<i16> {
    let frames = (seconds * rate as f64).round() as u64;
    let first = (start * rate as f64).round() as u64;
    (0..frames)
        .map(|n| {
            let t = (first + n) as f64 / rate as f64;
            (0.5 * (2.0 * std::f64::consts::PI * TONE_HZ * t).sin() * 32767.0) as i16
        })
        .collect()
}

/// A mono 16-bit WAV of [`tone`].
fn tone_wav(rate: u32, start: f64, seconds: f64) -> Vec<u8> {
    let samples = tone(rate, start, seconds);
    let data_len = samples.len() as u32 * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A mono 16-bit AIFF of [`tone`] at 44.1 kHz (the sample rate as an 80-bit float).
fn tone_aiff(start: f64, seconds: f64) -> Vec<u8> {
    let samples = tone(RATE, start, seconds);
    let data_len = samples.len() as u32 * 2;
    let mut out = Vec::with_capacity(54 + data_len as usize);
    out.extend_from_slice(b"FORM");
    out.extend_from_slice(&(4 + 26 + 16 + data_len).to_be_bytes());
    out.extend_from_slice(b"AIFFCOMM");
    out.extend_from_slice(&18u32.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // mono
    out.extend_from_slice(&(samples.len() as u32).to_be_bytes());
    out.extend_from_slice(&16u16.to_be_bytes());
    // 44100 = 1.3458251953125 * 2^15: exponent 16383 + 15, mantissa 44100 << 48.
    out.extend_from_slice(&(16383u16 + 15).to_be_bytes());
    out.extend_from_slice(&((RATE as u64) << 48).to_be_bytes());
    out.extend_from_slice(b"SSND");
    out.extend_from_slice(&(8 + data_len).to_be_bytes());
    out.extend_from_slice(&[0; 8]); // offset, block size
    for s in samples {
        out.extend_from_slice(&s.to_be_bytes());
    }
    out
}

/// `wav` converted by ffmpeg with `codec` into a file of `extension` (WavPack and ALAC have
/// no encoder in Rust; the server needs ffmpeg for WavPack anyway).
fn ffmpeg_convert(wav: &[u8], codec: &str, extension: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let output = dir.path().join(format!("out.{extension}"));
    std::fs::write(&input, wav).unwrap();
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&input)
        .args(["-c:a", codec])
        .arg(&output)
        .status()
        .expect("ffmpeg is needed for these tests (Debian: apt-get install ffmpeg)");
    assert!(status.success(), "ffmpeg -c:a {codec} failed");
    std::fs::read(output).unwrap()
}

fn live_track(title: &str, n: u32) -> TrackSpec {
    TrackSpec {
        genres: vec!["Live".into()],
        year: Some(2021),
        ..song(title, "The Continuous", "Gapless Live", "The Continuous", n)
    }
}

const TRACKS: usize = 5;

fn fixture() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start_server(TRACKS, |music| {
            let album = music.join("The Continuous/Gapless Live");
            std::fs::create_dir_all(&album).unwrap();
            for (i, title) in ["Opening", "Middle", "Closing"].iter().enumerate() {
                let wav = tone_wav(RATE, i as f64 * TRACK_SECONDS, TRACK_SECONDS);
                let bytes = synth::tag_audio(Format::Wav, wav, &live_track(title, i as u32 + 1))
                    .unwrap();
                std::fs::write(album.join(format!("0{} {title}.wav", i + 1)), bytes).unwrap();
            }
            std::fs::write(
                album.join("01 Opening.lrc"),
                "[00:00.00]First line of the opening\n[00:01.50]Second line\n[00:03.00]Third line\n",
            )
            .unwrap();
            std::fs::write(album.join("cover.jpg"), synth::cover_jpg()).unwrap();
            put(
                music,
                "Other Artist/Short Songs/01.mp3",
                Format::Mp3,
                TrackSpec {
                    rg_track_gain: Some(-6.0),
                    rg_album_gain: Some(-3.0),
                    ..song("Tiny Waltz", "Other Artist", "Short Songs", "Other Artist", 1)
                },
            );
            put(
                music,
                "Other Artist/Short Songs/02.flac",
                Format::Flac,
                song("Brief Polka", "Other Artist", "Short Songs", "Other Artist", 2),
            );
            // A file no scan can read, for the admin page's list.
            std::fs::write(music.join("Other Artist/Short Songs/03 broken.mp3"), b"").unwrap();
        })
    })
}

/// Seconds per track of the albums Chromium cannot play as they are.
const FORMAT_SECONDS: f64 = 2.0;
const FORMAT_TRACKS: usize = 9;

/// The second library: an album in formats Chromium cannot play (AIFF, WavPack, ALAC), an
/// album whose first two files nothing can decode (a WavPack file of garbage past its first
/// block header, and a WAV of an unknown codec), and the gapless tone at 48 kHz.
fn formats() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start_server(FORMAT_TRACKS, |music| {
            let odd = music.join("Format Band/Odd Formats");
            std::fs::create_dir_all(&odd).unwrap();
            let spec = |title: &str, album: &str, n: u32| TrackSpec {
                embedded_art: true,
                ..song(title, "Format Band", album, "Format Band", n)
            };
            let wav = |n: u32| tone_wav(RATE, n as f64 * FORMAT_SECONDS, FORMAT_SECONDS);
            let files = [
                (
                    Format::Aiff,
                    "01 Aiff Song.aiff",
                    tone_aiff(0.0, FORMAT_SECONDS),
                ),
                (
                    Format::WavPack,
                    "02 WavPack Song.wv",
                    ffmpeg_convert(&wav(1), "wavpack", "wv"),
                ),
                (
                    Format::Alac,
                    "03 Alac Song.m4a",
                    ffmpeg_convert(&wav(2), "alac", "m4a"),
                ),
            ];
            for (n, (format, name, bytes)) in files.into_iter().enumerate() {
                let title = name[3..].rsplit_once('.').unwrap().0;
                let tagged =
                    synth::tag_audio(format, bytes, &spec(title, "Odd Formats", n as u32 + 1));
                std::fs::write(odd.join(name), tagged.unwrap()).unwrap();
            }

            let broken = music.join("Format Band/Broken Album");
            std::fs::create_dir_all(&broken).unwrap();
            let mut garbled = synth::template_bytes(Format::WavPack).to_vec();
            let mut noise = 0x2545_f491_u32;
            for b in &mut garbled[40..] {
                noise ^= noise << 13;
                noise ^= noise >> 17;
                noise ^= noise << 5;
                *b = noise as u8;
            }
            // An unknown codec in a WAV: format tag 0x1234, and the "fact" chunk (sample count)
            // that a non-PCM WAV needs, inserted before "data".
            let mut unknown_codec = synth::template_bytes(Format::Wav).to_vec();
            unknown_codec[20..22].copy_from_slice(&0x1234u16.to_le_bytes());
            assert_eq!(&unknown_codec[36..40], b"data");
            let fact = [&b"fact"[..], &4u32.to_le_bytes(), &4410u32.to_le_bytes()].concat();
            unknown_codec.splice(36..36, fact);
            let riff_len = unknown_codec.len() as u32 - 8;
            unknown_codec[4..8].copy_from_slice(&riff_len.to_le_bytes());
            let files = [
                (Format::WavPack, "01 Broken One.wv", garbled),
                (Format::Wav, "02 Broken Two.wav", unknown_codec),
                (
                    Format::Aiff,
                    "03 Fine Three.aiff",
                    tone_aiff(0.0, FORMAT_SECONDS),
                ),
            ];
            for (n, (format, name, bytes)) in files.into_iter().enumerate() {
                let title = name[3..].rsplit_once('.').unwrap().0;
                let tagged =
                    synth::tag_audio(format, bytes, &spec(title, "Broken Album", n as u32 + 1));
                std::fs::write(broken.join(name), tagged.unwrap()).unwrap();
            }

            let live = music.join("The Continuous/Gapless 48k");
            std::fs::create_dir_all(&live).unwrap();
            for (i, title) in ["Opening 48k", "Middle 48k", "Closing 48k"]
                .iter()
                .enumerate()
            {
                let wav = tone_wav(RATE_48K, i as f64 * TRACK_SECONDS, TRACK_SECONDS);
                let spec = TrackSpec {
                    album: "Gapless 48k".into(),
                    ..live_track(title, i as u32 + 1)
                };
                let bytes = synth::tag_audio(Format::Wav, wav, &spec).unwrap();
                std::fs::write(live.join(format!("0{} {title}.wav", i + 1)), bytes).unwrap();
            }
        })
    })
}

fn header<'a>(r: &'a RawResponse, name: &str) -> &'a str {
    r.header(name)
        .unwrap_or_else(|| panic!("no {name} header in\n{}", r.headers))
}

/// The asset URLs of the page's first load: the stylesheet and the module graph reachable
/// through static imports (dynamic `import()` views load later).
fn first_load_urls(server: &Server, index: &str) -> Vec<String> {
    let attr_urls = |text: &str, attr: &str| -> Vec<String> {
        text.split(&format!("{attr}=\""))
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .filter(|u| u.starts_with("/assets/"))
            .map(str::to_string)
            .collect()
    };
    let mut urls: Vec<String> = attr_urls(index, "href");
    let mut queue: Vec<String> = attr_urls(index, "src");
    while let Some(url) = queue.pop() {
        if urls.contains(&url) {
            continue;
        }
        let body = server.fetch(&url, &[]);
        assert_eq!(body.status, 200, "{url}");
        let text = String::from_utf8(body.body).unwrap();
        let dir = &url[..url.rfind('/').unwrap()];
        for line in text.lines() {
            let line = line.trim();
            if !(line.starts_with("import ") || line.starts_with("} from ")) {
                continue;
            }
            if let Some(rel) = line
                .split(['\'', '"'])
                .nth(1)
                .filter(|r| r.starts_with('.'))
            {
                queue.push(resolve(dir, rel));
            }
        }
        urls.push(url);
    }
    urls.sort();
    urls.dedup();
    urls
}

fn resolve(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').collect();
    for piece in rel.split('/') {
        match piece {
            "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[test]
fn the_page_is_served_with_strict_security_headers_and_no_caching() {
    let server = fixture();
    let r = server.fetch("/", &[]);
    assert_eq!(r.status, 200);
    assert!(header(&r, "content-type").starts_with("text/html"));
    assert_eq!(header(&r, "cache-control"), "no-cache");
    let csp = header(&r, "content-security-policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let page = String::from_utf8(r.body.clone()).unwrap();
    assert!(page.contains("/js/main.js") && !page.contains("%ASSET_BASE%"));
    // Revalidation: the same ETag gives 304 with no body.
    let etag = header(&r, "etag").to_string();
    let again = server.fetch("/", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
}

#[test]
fn client_routes_get_the_page_and_server_routes_stay_the_servers() {
    let server = fixture();
    let index = server.fetch("/", &[]).body;
    for route in ["/album/al-1", "/artists", "/search?q=x", "/admin"] {
        let r = server.fetch(route, &[]);
        assert_eq!(r.status, 200, "{route}");
        assert_eq!(r.body, index, "{route}");
    }
    // The API, setup and artwork routes are not shadowed by the fallback.
    let ping = server.get("/rest/ping?f=json");
    assert_error(&ping.json(), 10);
    let setup = server.fetch("/setup", &[]);
    assert_eq!(String::from_utf8_lossy(&setup.body), r#"{"needed":false}"#);
    // /img/ is the artwork route's (an unsigned URL is refused there, not given the page).
    let img = server.fetch("/img/al-1", &[]);
    assert_eq!(img.status, 403);
    for path in ["/share/abc", "/favicon.ico", "/assets/nope/js/missing.js"] {
        let r = server.fetch(path, &[]);
        assert_eq!(r.status, 404, "{path}");
        assert_ne!(r.body, index, "{path}");
    }
    // A POST to a client route is not a page.
    let post = request_raw(server.port, "POST", "/albums", &[]).unwrap();
    assert_eq!(post.status, 404);
}

#[test]
fn assets_are_compressed_once_and_cached_by_content() {
    let server = fixture();
    let page = String::from_utf8(server.fetch("/", &[]).body).unwrap();
    let main = page
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with("/js/main.js"))
        .unwrap()
        .to_string();
    let plain = server.fetch(&main, &[]);
    assert_eq!(plain.status, 200);
    assert!(header(&plain, "content-type").starts_with("text/javascript"));
    assert_eq!(
        header(&plain, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(plain.header("content-encoding").is_none());
    assert_eq!(header(&plain, "vary"), "Accept-Encoding");

    let br = server.fetch(&main, &[("Accept-Encoding", "gzip, deflate, br")]);
    assert_eq!(header(&br, "content-encoding"), "br");
    let mut unpacked = Vec::new();
    brotli::BrotliDecompress(&mut br.body.as_slice(), &mut unpacked).unwrap();
    assert_eq!(unpacked, plain.body);

    let gz = server.fetch(&main, &[("Accept-Encoding", "gzip")]);
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(gz.body.as_slice()),
        &mut unpacked,
    )
    .unwrap();
    assert_eq!(unpacked, plain.body);

    // Each encoding has its own ETag, and each revalidates.
    let etags = [&plain, &br, &gz].map(|r| header(r, "etag").to_string());
    assert!(etags[0] != etags[1] && etags[1] != etags[2]);
    let again = server.fetch(
        &main,
        &[("Accept-Encoding", "br"), ("If-None-Match", &etags[1])],
    );
    assert_eq!(again.status, 304);

    // A page of an older build asks for its own version: it gets today's file, uncached.
    let stale_path = format!(
        "/assets/000000000000/{}",
        main.splitn(4, '/').nth(3).unwrap()
    );
    let stale = server.fetch(&stale_path, &[]);
    assert_eq!(stale.status, 200, "{stale_path}");
    assert_eq!(header(&stale, "cache-control"), "no-cache");
    assert_eq!(stale.body, plain.body);
}

#[test]
fn the_first_load_stays_under_150_kb_compressed() {
    let server = fixture();
    let index = server.fetch("/", &[("Accept-Encoding", "br")]);
    let page = server.fetch("/", &[]);
    let urls = first_load_urls(server, &String::from_utf8(page.body).unwrap());
    assert!(urls.iter().any(|u| u.ends_with("/app.css")), "{urls:?}");
    assert!(
        urls.iter().any(|u| u.ends_with("/js/engine.js")),
        "{urls:?}"
    );
    let mut total = index.body.len();
    for url in &urls {
        let r = server.fetch(url, &[("Accept-Encoding", "br, gzip")]);
        assert_eq!(r.status, 200, "{url}");
        total += r.body.len();
    }
    println!(
        "first load: {} files, {total} bytes compressed (brotli)",
        urls.len() + 1
    );
    assert!(total < 150 * 1024, "first load is {total} bytes");
}

#[test]
fn get_scan_errors_lists_unreadable_files_for_admins_only() {
    let server = fixture();
    let r = server.call_both("getScanErrors", ADMIN);
    assert_eq!(r["status"], "ok", "{r}");
    let list = r["scanErrors"]["scanError"].as_array().unwrap();
    assert_eq!(r["scanErrors"]["count"], 1);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["path"], "Other Artist/Short Songs/03 broken.mp3");
    assert_eq!(list[0]["folder"], "music");
    assert!(!list[0]["reason"].as_str().unwrap().is_empty());
    assert_eq!(list[0]["size"], 0);
    // Paging past the end: an empty list, still an array.
    let past = server.call_both("getScanErrors", &format!("{ADMIN}&offset=5"));
    assert_eq!(past["scanErrors"]["scanError"], serde_json::json!([]));
    assert_eq!(past["scanErrors"]["count"], 1);
    assert_error(&server.call_both("getScanErrors", BOB), 50);
    assert_error(
        &server.call_both("getScanErrors", &format!("{ADMIN}&size=5000")),
        0,
    );
    assert_error(
        &server.call_both("getScanErrors", &format!("{ADMIN}&offset=x")),
        0,
    );
}

/// A server on an empty library with no account yet (a fresh install), killed when dropped.
struct FreshServer {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for FreshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fresh_server() -> FreshServer {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let port = free_port();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\naddress = \"127.0.0.1:{port}\"\n[library]\nfolders = [{music:?}]\n[database]\npath = {:?}\n[scan]\nschedule = \"\"\nwatch = false\n",
            dir.path().join("catalog.db")
        ),
    )
    .unwrap();
    let child = stop_with_tests(&mut Command::new(env!("CARGO_BIN_EXE_mediastreamer")))
        .arg("--config")
        .arg(&config)
        .env_remove("MEDIASTREAMER_ADMIN_PASSWORD")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = FreshServer {
        child,
        port,
        _dir: dir,
    };
    let started = std::time::Instant::now();
    while try_get(port, "/setup").map(|r| r.body).ok().as_deref() != Some(r#"{"needed":true}"#) {
        assert!(
            started.elapsed().as_secs() < 30,
            "the fresh server did not come up"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server
}

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web")
}

/// Node, Playwright (npm ci in tests/web) and Debian's Chromium, or a message saying what to
/// install: this test never passes without running the browser.
fn browser_prerequisites() -> PathBuf {
    let chromium = PathBuf::from(
        std::env::var("MEDIASTREAMER_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    let mut missing = Vec::new();
    if !chromium.exists() {
        missing.push(format!(
            "Chromium at {} (Debian: apt-get install chromium)",
            chromium.display()
        ));
    }
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        missing.push(
            "ffmpeg (the server transcodes WavPack with it; Debian: apt-get install ffmpeg)".into(),
        );
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("Node.js 18 or newer (Debian: apt-get install nodejs npm)".into());
    }
    if !web_dir().join("node_modules/playwright-core").exists() {
        missing.push("playwright-core (run `npm ci` in tests/web)".into());
    }
    assert!(
        missing.is_empty(),
        "the web player's browser tests need: {} (.ci/run installs them)",
        missing.join("; ")
    );
    chromium
}

#[test]
fn the_player_works_end_to_end_in_headless_chromium() {
    let chromium = browser_prerequisites();
    let server = fixture();
    let formats = formats();
    let fresh = fresh_server();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots");
    // Only this run's screenshots (a failed step adds failed-N.png).
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(web_dir().join("e2e.mjs"))
        .env("BASE_URL", format!("http://127.0.0.1:{}", server.port))
        .env("SETUP_URL", format!("http://127.0.0.1:{}", fresh.port))
        .env("FORMATS_URL", format!("http://127.0.0.1:{}", formats.port))
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOTS", &shots)
        .env("TRACK_SECONDS", TRACK_SECONDS.to_string())
        .env("TONE_HZ", TONE_HZ.to_string())
        .env("TONE_RATE", RATE.to_string())
        .env("TONE_RATE_48K", RATE_48K.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("gapless:"), "{stdout}");
}

/// The songs (title → id) of `album` in `server`'s library, and the album's id.
fn album_songs(server: &Server, album: &str) -> (String, Vec<(String, String)>) {
    let list = server
        .get(&format!(
            "/rest/getAlbumList2?{ADMIN}&f=json&type=alphabeticalByName&size=100"
        ))
        .json();
    let id = list["albumList2"]["album"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == album)
        .unwrap_or_else(|| panic!("no album {album}: {list}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = server
        .get(&format!("/rest/getAlbum?{ADMIN}&f=json&id={id}"))
        .json();
    let songs = r["album"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let field = |k: &str| s[k].as_str().unwrap().to_string();
            (field("title"), field("id"))
        })
        .collect();
    (id, songs)
}

/// A new share of `id` by admin; its token.
fn share_of(server: &Server, id: &str) -> String {
    let r = server
        .get(&format!("/rest/createShare?{ADMIN}&f=json&id={id}"))
        .json();
    assert_eq!(r["status"], "ok", "{r}");
    r["shares"]["share"][0]["id"].as_str().unwrap().to_string()
}

fn is_mp3(bytes: &[u8]) -> bool {
    bytes.len() > 4 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0
}

#[test]
fn a_shares_stream_transcodes_its_songs_to_mp3_on_request() {
    let server = formats();
    let (album, songs) = album_songs(server, "Odd Formats");
    let id = |title: &str| songs.iter().find(|s| s.0 == title).unwrap().1.clone();
    let token = share_of(server, &album);

    // The page offers the MP3 for every song that is not one, with its content type.
    let page = String::from_utf8(server.fetch(&format!("/share/{token}"), &[]).body).unwrap();
    for (title, kind) in [
        ("Aiff Song", "audio/aiff"),
        ("WavPack Song", "audio/x-wavpack"),
        ("Alac Song", "audio/mp4"),
    ] {
        let attrs = format!(
            "data-type=\"{kind}\" data-mp3=\"{token}/stream/{}?format=mp3\"",
            id(title)
        );
        assert!(page.contains(&attrs), "{attrs} not in\n{page}");
    }

    for title in ["Aiff Song", "WavPack Song", "Alac Song"] {
        let path = format!("/share/{token}/stream/{}", id(title));
        let original = server.fetch(&path, &[]);
        assert_eq!(original.status, 200, "{title}");
        assert!(!is_mp3(&original.body), "{title}: the original is not MP3");
        let mp3 = server.fetch(&format!("{path}?format=mp3"), &[]);
        assert_eq!(mp3.status, 200, "{title}: {}", mp3.headers);
        assert_eq!(mp3.header("content-type"), Some("audio/mpeg"), "{title}");
        assert!(is_mp3(&mp3.body), "{title}: not an MP3 stream");
        assert_eq!(
            mp3.header("content-length")
                .map(|l| l.parse::<usize>().unwrap()),
            Some(mp3.body.len())
        );
        // About two seconds of audio, at the server's default bitrate (192 kbps).
        let seconds = mp3.body.len() as f64 * 8.0 / 192_000.0;
        assert!((1.8..2.4).contains(&seconds), "{title}: {seconds} s of MP3");
        // A range of the transcode is the same bytes.
        let range = server.fetch(&format!("{path}?format=mp3"), &[("Range", "bytes=100-199")]);
        assert_eq!(range.status, 206);
        assert_eq!(range.body, mp3.body[100..200]);
        // A cap lowers the bitrate; raw (or anything else) is the original.
        let capped = server.fetch(&format!("{path}?format=mp3&maxBitRate=96"), &[]);
        assert!(is_mp3(&capped.body) && capped.body.len() < mp3.body.len() * 2 / 3);
        let raw = server.fetch(&format!("{path}?format=raw"), &[]);
        assert_eq!(raw.body, original.body);
    }

    // Only the share's songs, transcoded or not.
    let (_, broken) = album_songs(server, "Broken Album");
    let other = &broken.iter().find(|s| s.0 == "Fine Three").unwrap().1;
    for query in ["", "?format=mp3"] {
        let r = server.fetch(&format!("/share/{token}/stream/{other}{query}"), &[]);
        assert_eq!(r.status, 404, "{query}");
    }
    // A bad parameter is refused, not ignored.
    let r = server.fetch(
        &format!(
            "/share/{token}/stream/{}?format=mp3&maxBitRate=x",
            id("Aiff Song")
        ),
        &[],
    );
    assert_eq!(r.status, 400);
}

#[test]
fn a_shared_song_no_decoder_reads_is_refused_as_mp3() {
    let server = formats();
    let (album, songs) = album_songs(server, "Broken Album");
    let token = share_of(server, &album);
    for (title, id) in songs.iter().filter(|s| s.0.starts_with("Broken")) {
        let r = server.fetch(&format!("/share/{token}/stream/{id}?format=mp3"), &[]);
        // Refused up front, or cut short: never a whole MP3.
        let whole = r.status == 200
            && r.header("content-length")
                .map(|l| l.parse::<usize>().unwrap())
                == Some(r.body.len());
        assert!(!whole, "{title}: {} with {} bytes", r.headers, r.body.len());
    }
}
