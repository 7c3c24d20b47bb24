//! The web player: how the server sends it (compression, ETags, cache headers, the SPA
//! fallback that shadows nothing, CSP, the size of a first load), getScanErrors for its admin
//! page, and the player itself end to end in Debian's headless Chromium driven by Playwright
//! (tests/web/e2e.mjs) against the real server on a generated library whose album of
//! 4-second tracks is one continuous tone, so a gapless transition can be measured.

mod common;

use common::api::*;
use mediastreamer::synth::{self, Format, TrackSpec};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Sample rate of the generated tone: headless Chromium's AudioContext runs at 44.1 kHz, so
/// decodeAudioData need not resample and the recording compares sample for sample.
const RATE: u32 = 44_100;
/// Seconds per track of the gapless album.
const TRACK_SECONDS: f64 = 4.0;
const TONE_HZ: f64 = 441.0;

/// A mono 16-bit WAV holding `seconds` of one continuous sine from `start` seconds on: the
/// tracks of the gapless album split one tone, so any gap or overlap between them is audible.
fn tone_wav(start: f64, seconds: f64) -> Vec<u8> {
    let frames = (seconds * RATE as f64).round() as u32;
    let first = (start * RATE as f64).round() as u64;
    let mut out = Vec::with_capacity(44 + frames as usize * 2);
    let data_len = frames * 2;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for n in 0..frames as u64 {
        let t = (first + n) as f64 / RATE as f64;
        let sample = (0.5 * (2.0 * std::f64::consts::PI * TONE_HZ * t).sin() * 32767.0) as i16;
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
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
                let wav = tone_wav(i as f64 * TRACK_SECONDS, TRACK_SECONDS);
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
    let fresh = fresh_server();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots");
    // Only this run's screenshots (a failed step adds failed-N.png).
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(web_dir().join("e2e.mjs"))
        .env("BASE_URL", format!("http://127.0.0.1:{}", server.port))
        .env("SETUP_URL", format!("http://127.0.0.1:{}", fresh.port))
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOTS", &shots)
        .env("TRACK_SECONDS", TRACK_SECONDS.to_string())
        .env("TONE_HZ", TONE_HZ.to_string())
        .env("TONE_RATE", RATE.to_string())
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
