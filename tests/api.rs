//! The Subsonic API over real HTTP against the real binary: envelope, formats, authentication,
//! errors, and each endpoint's golden path and error case in XML and JSON. XML responses are
//! validated against the official 1.16.1 XSD (after removing the OpenSubsonic additions,
//! which that schema predates).

use mediastreamer::synth::{Format, TrackSpec, write_track};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    headers: String,
    body: String,
}

impl Response {
    fn json(&self) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body));
        v["subsonic-response"].clone()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn song(title: &str, artist: &str, album: &str, album_artist: &str, n: u32) -> TrackSpec {
    TrackSpec {
        title: title.into(),
        artist: artist.into(),
        album: album.into(),
        album_artist: Some(album_artist.into()),
        track: Some((n, None)),
        year: Some(1999),
        genres: vec!["Rock".into()],
        ..Default::default()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(start_server)
}

fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    let write = |rel: &str, format: Format, spec: TrackSpec| {
        let path = music.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        write_track(&path, format, &spec).unwrap();
    };
    write(
        "The Band/Hits/01.mp3",
        Format::Mp3,
        song("One", "The Band", "Hits", "The Band", 1),
    );
    write(
        "The Band/Hits/02.flac",
        Format::Flac,
        song("Two", "The Band feat. Guest", "Hits", "The Band", 2),
    );
    write(
        "Zeta/Solo/01.ogg",
        Format::Ogg,
        song("Alone", "Zeta", "Solo", "Zeta", 1),
    );
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
    let bin = env!("CARGO_BIN_EXE_mediastreamer");
    for args in [
        &["user", "add", "admin", "--password", "adminpw", "--admin"][..],
        &["user", "add", "bob", "--password", "bobpw"][..],
    ] {
        let out = Command::new(bin)
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    let start = Instant::now();
    loop {
        if let Ok(r) = try_get(port, "/rest/getScanStatus?u=admin&p=adminpw&f=json")
            && r.json()["scanStatus"]["scanning"] == false
            && r.json()["scanStatus"]["count"] == 3
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn try_get(port: u16, path: &str) -> std::io::Result<Response> {
    request(port, "GET", path, None)
}

fn request(port: u16, method: &str, path: &str, form: Option<&str>) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let body = form.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if form.is_some() {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // actix may answer with chunked encoding; the bodies here are small, so de-chunk simply.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok(Response {
        status,
        headers: head.to_string(),
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn get(path: &str) -> Response {
    try_get(server().port, path).unwrap()
}

const ADMIN: &str = "u=admin&p=adminpw";

/// OpenSubsonic attributes and elements the 1.16.1 schema does not know.
const OPEN_SUBSONIC_ATTRS: &[&str] = &[
    "type",
    "serverVersion",
    "openSubsonic",
    "sortName",
    "musicBrainzId",
    "isCompilation",
    "displayArtist",
    "displayAlbumArtist",
    "mediaType",
    "channelCount",
    "samplingRate",
    "bitDepth",
    "bpm",
    "comment",
    "lastScan",
];
const OPEN_SUBSONIC_ELEMENTS: &[&str] = &[
    "genres",
    "artists",
    "albumArtists",
    "replayGain",
    "isrc",
    "releaseTypes",
    "openSubsonicExtensions",
];

/// Removes the OpenSubsonic additions, then validates with xmllint against the official XSD.
fn assert_valid_xml(body: &str) {
    use quick_xml::events::{BytesStart, Event};
    let mut reader = quick_xml::Reader::from_str(body);
    let mut writer = quick_xml::Writer::new(Vec::new());
    let mut skip_depth = 0usize;
    let is_open_subsonic = |e: &BytesStart| OPEN_SUBSONIC_ELEMENTS.contains(&e.name().as_ref());
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) => {
                if skip_depth > 0 || is_open_subsonic(&e) {
                    skip_depth += 1;
                } else {
                    writer.write_event(Event::Start(filter_attrs(&e))).unwrap();
                }
            }
            Event::End(e) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                } else {
                    writer.write_event(Event::End(e)).unwrap();
                }
            }
            Event::Empty(e) => {
                if skip_depth == 0 && !is_open_subsonic(&e) {
                    writer.write_event(Event::Empty(filter_attrs(&e))).unwrap();
                }
            }
            other => {
                if skip_depth == 0 {
                    writer.write_event(other).unwrap();
                }
            }
        }
    }
    fn filter_attrs(e: &BytesStart) -> BytesStart<'static> {
        let name = e.name().as_ref().to_string();
        let mut out = BytesStart::new(name);
        for attr in e.attributes() {
            let attr = attr.unwrap();
            let key: &str = attr.key.as_ref();
            if !OPEN_SUBSONIC_ATTRS.contains(&key) {
                out.push_attribute(attr);
            }
        }
        out
    }
    let cleaned = String::from_utf8(writer.into_inner()).unwrap();
    validate_with_xsd(&cleaned);
}

fn xsd_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/subsonic-rest-api-1.16.1.xsd")
}

fn validate_with_xsd(xml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(xsd_path())
        .arg(&file)
        .output()
        .expect("xmllint is needed (Debian package libxml2-utils)");
    assert!(
        out.status.success(),
        "XSD validation failed: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Calls `method` in XML and in JSON; checks the envelope of both, validates the XML, and
/// returns the JSON payload.
fn call_both(method: &str, query: &str) -> serde_json::Value {
    let xml = get(&format!("/rest/{method}.view?{query}"));
    assert_eq!(xml.status, 200);
    assert!(
        xml.header("content-type").unwrap().starts_with("text/xml"),
        "{}",
        xml.headers
    );
    assert!(xml.body.contains("xmlns=\"http://subsonic.org/restapi\""));
    assert_valid_xml(&xml.body);
    let json = get(&format!("/rest/{method}?{query}&f=json"));
    assert_eq!(json.status, 200);
    assert!(
        json.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let r = json.json();
    assert_eq!(r["version"], "1.16.1");
    assert_eq!(r["type"], "mediastreamer");
    assert_eq!(r["openSubsonic"], true);
    assert!(r["serverVersion"].is_string());
    let ok = r["status"] == "ok";
    assert_eq!(
        xml.body.contains("status=\"ok\""),
        ok,
        "XML and JSON disagree"
    );
    r
}

fn assert_error(r: &serde_json::Value, code: i64) {
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["error"]["code"], code, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

#[test]
fn ping_and_license() {
    let r = call_both("ping", ADMIN);
    assert_eq!(r["status"], "ok");
    let r = call_both("getLicense", ADMIN);
    assert_eq!(r["license"]["valid"], true);
    assert_error(&call_both("getLicense", "u=admin&p=wrong"), 40);
}

#[test]
fn authentication_mechanisms_and_their_errors() {
    let token = format!("{:x}", md5::compute("bobpwsalt123"));
    assert_eq!(
        call_both("ping", &format!("u=bob&t={token}&s=salt123"))["status"],
        "ok"
    );
    assert_eq!(
        call_both(
            "ping",
            &format!("u=bob&t={}&s=salt123", token.to_uppercase())
        )["status"],
        "ok"
    );
    assert_eq!(call_both("ping", "u=bob&p=enc:626f627077")["status"], "ok");
    assert_error(
        &call_both("ping", "u=bob&t=00000000000000000000000000000000&s=salt123"),
        40,
    );
    assert_error(&call_both("ping", "u=nobody&p=x"), 40);
    assert_error(&call_both("ping", "p=bobpw"), 10);
    assert_error(&call_both("ping", "u=bob"), 10);
    assert_error(&call_both("ping", "u=bob&p=bobpw&t=x&s=y"), 43);
    assert_error(&call_both("ping", "u=bob&apiKey=abc"), 43);
    assert_error(&call_both("ping", "apiKey=abc"), 42);
}

#[test]
fn post_forms_repeated_keys_views_and_unknown_methods() {
    let port = server().port;
    let r = request(port, "POST", "/rest/ping", Some("u=admin&p=adminpw&f=json")).unwrap();
    assert_eq!(r.json()["status"], "ok");
    // Query string and body merge.
    let r = request(
        port,
        "POST",
        "/rest/ping.view?f=json",
        Some("u=admin&p=adminpw"),
    )
    .unwrap();
    assert_eq!(r.json()["status"], "ok");
    assert_error(&call_both("noSuchMethod", ADMIN), 0);
    let r = get(&format!("/rest/ping?{ADMIN}&f=jsonp&callback=handle_1"));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/javascript")
    );
    assert!(
        r.body.starts_with("handle_1({\"subsonic-response\":"),
        "{}",
        r.body
    );
    let r = get(&format!("/rest/ping?{ADMIN}&f=jsonp&callback=alert(1)"));
    assert_eq!(r.json()["status"], "failed");
}

#[test]
fn cors_on_responses_and_preflight() {
    let r = get(&format!("/rest/ping?{ADMIN}"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = request(server().port, "OPTIONS", "/rest/getAlbum.view", None).unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = get("/rest/ping?u=admin&p=bad");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn open_subsonic_extensions_need_no_authentication() {
    let r = call_both("getOpenSubsonicExtensions", "");
    assert_eq!(r["status"], "ok");
    let list = r["openSubsonicExtensions"].as_array().unwrap();
    assert!(list.iter().any(|e| e["name"] == "formPost"));
    assert!(list.iter().all(|e| e["versions"].is_array()));
}

#[test]
fn music_folders_and_genres() {
    let r = call_both("getMusicFolders", ADMIN);
    let folders = r["musicFolders"]["musicFolder"].as_array().unwrap();
    assert_eq!(folders.len(), 1);
    assert!(folders[0]["id"].is_i64());
    assert_eq!(folders[0]["name"], "music");
    assert_error(&call_both("getMusicFolders", "u=admin&p=x"), 40);

    let r = call_both("getGenres", ADMIN);
    let genres = r["genres"]["genre"].as_array().unwrap();
    let rock = genres.iter().find(|g| g["value"] == "Rock").unwrap();
    assert_eq!(rock["songCount"], 3);
    assert_eq!(rock["albumCount"], 2);
    assert_error(&call_both("getGenres", "u=bob&p=x"), 40);
}

#[test]
fn artists_index_artist_album_and_song() {
    let r = call_both("getArtists", ADMIN);
    let artists = &r["artists"];
    assert_eq!(artists["ignoredArticles"], "The El La Los Las Le Les");
    let index = artists["index"].as_array().unwrap();
    // "The Band" is indexed under B.
    let b = index.iter().find(|i| i["name"] == "B").unwrap();
    let band = &b["artist"][0];
    assert_eq!(band["name"], "The Band");
    assert_eq!(band["albumCount"], 1);
    let band_id = band["id"].as_str().unwrap().to_string();
    assert!(band_id.starts_with("ar-"));

    let r = call_both("getArtist", &format!("{ADMIN}&id={band_id}"));
    let artist = &r["artist"];
    assert_eq!(artist["name"], "The Band");
    let albums = artist["album"].as_array().unwrap();
    assert_eq!(albums.len(), 1);
    assert_eq!(albums[0]["name"], "Hits");
    assert_eq!(albums[0]["songCount"], 2);
    let album_id = albums[0]["id"].as_str().unwrap().to_string();
    assert_error(&call_both("getArtist", &format!("{ADMIN}&id=ar-99999")), 70);
    assert_error(&call_both("getArtist", ADMIN), 10);

    let r = call_both("getAlbum", &format!("{ADMIN}&id={album_id}"));
    let album = &r["album"];
    assert_eq!(album["artist"], "The Band");
    assert_eq!(album["year"], 1999);
    assert_eq!(album["isCompilation"], false);
    let songs = album["song"].as_array().unwrap();
    assert_eq!(songs.len(), 2);
    assert_eq!(songs[0]["title"], "One");
    assert_eq!(songs[1]["title"], "Two");
    assert_eq!(songs[1]["artist"], "The Band feat. Guest");
    let credited: Vec<&str> = songs[1]["artists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(credited, ["The Band", "Guest"]);
    assert_eq!(songs[0]["isDir"], false);
    assert_eq!(songs[0]["suffix"], "mp3");
    assert_eq!(songs[0]["contentType"], "audio/mpeg");
    assert!(songs[0]["duration"].is_i64() && songs[0]["size"].is_i64());
    assert_eq!(songs[0]["genres"][0]["name"], "Rock");
    assert!(songs[0]["replayGain"].is_object());
    assert_error(&call_both("getAlbum", &format!("{ADMIN}&id=al-99999")), 70);
    assert_error(&call_both("getAlbum", &format!("{ADMIN}&id={band_id}")), 70);

    let song_id = songs[0]["id"].as_str().unwrap();
    let r = call_both("getSong", &format!("{ADMIN}&id={song_id}"));
    assert_eq!(r["song"]["title"], "One");
    assert_eq!(r["song"]["albumId"], album_id.as_str());
    assert_error(&call_both("getSong", &format!("{ADMIN}&id=tr-99999")), 70);
    assert_error(&call_both("getSong", &format!("{ADMIN}&id=garbage")), 70);
}

#[test]
fn scan_status_and_start_scan_need_admin() {
    let r = call_both("getScanStatus", "u=bob&p=bobpw");
    assert_eq!(r["scanStatus"]["scanning"], false);
    assert_eq!(r["scanStatus"]["count"], 3);
    assert_error(&call_both("startScan", "u=bob&p=bobpw"), 50);
    let r = call_both("startScan", ADMIN);
    assert!(r["scanStatus"]["scanning"].is_boolean());
}

#[test]
fn the_xsd_check_rejects_what_the_schema_does_not_allow() {
    let bad = "<?xml version=\"1.0\"?>\n<subsonic-response xmlns=\"http://subsonic.org/restapi\" status=\"ok\" version=\"1.16.1\"><album id=\"1\" name=\"x\" songCount=\"1\" duration=\"1\" created=\"2020-01-01T00:00:00Z\" bogus=\"1\"/></subsonic-response>";
    assert!(std::panic::catch_unwind(|| assert_valid_xml(bad)).is_err());
    let good = bad.replace(" bogus=\"1\"", " sortName=\"x\"");
    assert_valid_xml(&good);
}
