//! The API test harness: the real binary serving a generated library over real HTTP, a tiny
//! HTTP client, and the checks every endpoint test uses (envelope in both formats, XSD
//! validation of the XML, error codes).

use mediastreamer::synth::{Format, TrackSpec, write_track};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN: &str = "u=admin&p=adminpw";
pub const BOB: &str = "u=bob&p=bobpw";

pub struct Server {
    child: Child,
    pub port: u16,
    pub config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Response {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body));
        v["subsonic-response"].clone()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A tagged song with an album artist, year 1999 and genre Rock.
pub fn song(title: &str, artist: &str, album: &str, album_artist: &str, n: u32) -> TrackSpec {
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

/// Ties a server process to this test process: the server stops when its standard input
/// closes (see `server::STOP_ON_STDIN_EOF_ENV`), and the pipe to it closes when this process
/// ends, however it ends. Servers shared by a test binary are never dropped, so without this
/// they would outlive it.
pub fn stop_with_tests(cmd: &mut Command) -> &mut Command {
    cmd.env(mediastreamer::server::STOP_ON_STDIN_EOF_ENV, "1")
        .stdin(Stdio::piped())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes a tagged track at `rel` below `music`.
pub fn put(music: &Path, rel: &str, format: Format, spec: TrackSpec) {
    let path = music.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_track(&path, format, &spec).unwrap();
}

/// Starts the real server on a library that `build` writes into the given music folder, with
/// users `admin` (password adminpw, admin) and `bob` (bobpw), and waits until the start-up
/// scan has found `tracks` tracks.
/// The admin's songs (up to 100) as search3 "" lists them, in JSON.
pub fn admin_songs(port: u16) -> Vec<serde_json::Value> {
    let r = request_raw(
        port,
        "GET",
        &format!("/rest/search3?{ADMIN}&query=&songCount=100&f=json"),
        &[],
    )
    .unwrap();
    r.json()["searchResult3"]["song"]
        .as_array()
        .unwrap()
        .clone()
}

pub fn start_server(tracks: usize, build: impl FnOnce(&Path)) -> Server {
    start_server_configured(&["music"], "", tracks, |folders| build(&folders[0]))
}

/// A connection to the server with a 4 KiB receive buffer, so the kernel takes in little of
/// what the server sends to a client that stops reading.
pub fn connect_small_window(port: u16) -> TcpStream {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a descriptor this function owns; it ends up in TcpStream.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let size: libc::c_int = 4096;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
            },
            sin_zero: [0; 8],
        };
        let r = libc::connect(
            fd,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(r, 0, "connect");
        TcpStream::from_raw_fd(fd)
    }
}

pub fn try_get(port: u16, path: &str) -> std::io::Result<Response> {
    request(port, "GET", path, None)
}

pub fn request(
    port: u16,
    method: &str,
    path: &str,
    form: Option<&str>,
) -> std::io::Result<Response> {
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

impl Server {
    /// The server's process id (for /proc/<pid>/status).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs the command line against this server's configuration.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_mediastreamer"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap()
    }

    /// GET `path` (with its query string).
    pub fn get(&self, path: &str) -> Response {
        try_get(self.port, path).unwrap()
    }

    /// Waits until the loudness measurement has nothing running or pending, so that gains
    /// (in answers, and in the tags of Opus streams) no longer change under a test.
    pub fn wait_for_loudness(&self) {
        let start = Instant::now();
        loop {
            let r = self
                .get(&format!("/rest/getLoudnessStatus?{ADMIN}&f=json"))
                .json();
            let s = &r["loudnessStatus"];
            if s["running"] == false && s["pending"] == 0 {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "loudness measurement never finished: {r}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Calls `method` in XML and in JSON; checks the envelope of both, validates the XML, and
    /// returns the JSON `subsonic-response` object.
    pub fn call_both(&self, method: &str, query: &str) -> serde_json::Value {
        let xml = self.get(&format!("/rest/{method}.view?{query}"));
        assert_eq!(xml.status, 200);
        assert!(
            xml.header("content-type").unwrap().starts_with("text/xml"),
            "{}",
            xml.headers
        );
        assert!(xml.body.contains("xmlns=\"http://subsonic.org/restapi\""));
        assert_valid_xml(&xml.body);
        let json = self.get(&format!("/rest/{method}?{query}&f=json"));
        assert_eq!(json.status, 200);
        assert!(
            json.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        let whole: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        assert_valid_json(method, &whole);
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
}

/// Asserts a failed envelope with `code` and a message.
pub fn assert_error(r: &serde_json::Value, code: i64) {
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["error"]["code"], code, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

/// What OpenSubsonic (and our own methods) add to one XSD type of the 1.16.1 schema: the
/// attributes and the nested elements it may carry beyond the schema.
pub struct Additions {
    pub attrs: &'static [&'static str],
    pub elements: &'static [&'static str],
}

/// Child (songs, folder-mode albums and directories, entries), per the OpenSubsonic spec.
pub const CHILD_ADDITIONS: Additions = Additions {
    attrs: &[
        "played",
        "bpm",
        "comment",
        "sortName",
        "musicBrainzId",
        "displayArtist",
        "displayAlbumArtist",
        "displayComposer",
        "mediaType",
        "explicitStatus",
        "channelCount",
        "samplingRate",
        "bitDepth",
    ],
    elements: &[
        "isrc",
        "genres",
        "artists",
        "albumArtists",
        "contributors",
        "moods",
        "replayGain",
        "works",
        "movements",
        "groupings",
    ],
};

/// AlbumID3, per the OpenSubsonic spec.
pub const ALBUM_ID3_ADDITIONS: Additions = Additions {
    attrs: &[
        "played",
        "userRating",
        "musicBrainzId",
        "displayArtist",
        "sortName",
        "isCompilation",
        "explicitStatus",
        "version",
    ],
    elements: &[
        "recordLabels",
        "genres",
        "artists",
        "releaseTypes",
        "moods",
        "originalReleaseDate",
        "releaseDate",
        "discTitles",
    ],
};

/// ArtistID3, per the OpenSubsonic spec.
pub const ARTIST_ID3_ADDITIONS: Additions = Additions {
    attrs: &["musicBrainzId", "sortName", "disambiguation"],
    elements: &["roles"],
};

/// Playlist: OpenSubsonic's `readonly` and `validUntil`.
pub const PLAYLIST_ADDITIONS: Additions = Additions {
    attrs: &["readonly", "validUntil"],
    elements: &[],
};

/// PlayQueue: `current` is a string id in OpenSubsonic (an int in 1.16.1).
pub const PLAY_QUEUE_ADDITIONS: Additions = Additions {
    attrs: &["current"],
    elements: &[],
};

/// PodcastEpisode: our `errorMessage` (why an episode is `error` or `skipped`).
pub const PODCAST_EPISODE_ADDITIONS: Additions = Additions {
    attrs: &["errorMessage"],
    elements: &[],
};

/// The envelope: OpenSubsonic's attributes, and the answers that have no 1.16.1 type at all:
/// OpenSubsonic's (their JSON is checked against the OpenSubsonic schemas) and our own
/// methods' (checked against our schemas in tests/fixtures/own-schemas).
pub const ENVELOPE_ADDITIONS: Additions = Additions {
    attrs: &["type", "serverVersion", "openSubsonic"],
    elements: &[
        "openSubsonicExtensions",
        "tokenInfo",
        "lyricsList",
        "playQueueByIndex",
        "apiKey",
        "apiKeys",
        "scanErrors",
        "scanInfo",
        "loudnessStatus",
        "podcastEpisode",
        "scrobbleServices",
        "lastFmAuth",
        "transcodeDecision",
    ],
};

/// The additions an element may carry, by its name (the name tells the XSD type: `album` is
/// a Child in folder-mode lists and an AlbumID3 elsewhere, so it may carry either's).
pub fn additions_of(element: &str) -> &'static [&'static Additions] {
    match element {
        "song" | "child" | "entry" | "match" | "video" => &[&CHILD_ADDITIONS],
        "episode" | "podcastEpisode" => &[&CHILD_ADDITIONS, &PODCAST_EPISODE_ADDITIONS],
        "album" => &[&CHILD_ADDITIONS, &ALBUM_ID3_ADDITIONS],
        "artist" | "similarArtist" => &[&ARTIST_ID3_ADDITIONS],
        "playlist" => &[&PLAYLIST_ADDITIONS],
        "playQueue" => &[&PLAY_QUEUE_ADDITIONS],
        "subsonic-response" => &[&ENVELOPE_ADDITIONS],
        _ => &[],
    }
}

/// Removes the OpenSubsonic additions, then validates with xmllint against the official XSD.
/// Only what each element may add is removed (attributes by element and name, nested elements
/// by parent and name), so everything else, whole payloads included, is checked.
pub fn assert_valid_xml(body: &str) {
    use quick_xml::events::{BytesStart, Event};
    let mut reader = quick_xml::Reader::from_str(body);
    let mut writer = quick_xml::Writer::new(Vec::new());
    let mut skip_depth = 0usize;
    // The names of the open elements that are kept.
    let mut open: Vec<String> = Vec::new();
    let is_addition = |open: &[String], e: &BytesStart| {
        let name = e.name().as_ref().to_string();
        open.last().is_some_and(|parent| {
            additions_of(parent)
                .iter()
                .any(|a| a.elements.contains(&name.as_str()))
        })
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) => {
                if skip_depth > 0 || is_addition(&open, &e) {
                    skip_depth += 1;
                } else {
                    open.push(e.name().as_ref().to_string());
                    writer.write_event(Event::Start(filter_attrs(&e))).unwrap();
                }
            }
            Event::End(e) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                } else {
                    open.pop();
                    writer.write_event(Event::End(e)).unwrap();
                }
            }
            Event::Empty(e) => {
                if skip_depth == 0 && !is_addition(&open, &e) {
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
        let allowed = additions_of(&name);
        let mut out = BytesStart::new(name.clone());
        for attr in e.attributes() {
            let attr = attr.unwrap();
            let key: &str = attr.key.as_ref();
            if !allowed.iter().any(|a| a.attrs.contains(&key)) {
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

pub fn validate_with_xsd(xml: &str) {
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

/// A response with a binary body (streams, images, zips).
pub struct RawResponse {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body as an envelope, for media methods that failed.
    pub fn json(&self) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)));
        v["subsonic-response"].clone()
    }
}

/// Sends `method path` with extra request headers and returns the raw bytes of the body
/// (de-chunked). HEAD responses have no body whatever their Content-Length says.
pub fn request_raw(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<RawResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw.get(split + 4..).unwrap_or_default();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk_bytes(body)
    } else {
        body.to_vec()
    };
    Ok(RawResponse {
        status,
        headers: head,
        body,
    })
}

fn dechunk_bytes(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&s[..eol]);
        let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        let rest = &s[eol + 2..];
        out.extend_from_slice(&rest[..n.min(rest.len())]);
        s = rest.get(n + 2..).unwrap_or_default();
    }
    out
}

impl Server {
    /// Stops the server and starts it again on the same configuration and database, with
    /// `env` added (e.g. `MEDIASTREAMER_SCAN__ON_STARTUP=false`); returns once it answers.
    pub fn restart_with(&mut self, env: &[(&str, &str)]) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Command::new(env!("CARGO_BIN_EXE_mediastreamer"))
            .arg("--config")
            .arg(&self.config)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !try_get(self.port, &format!("/rest/ping?{ADMIN}&f=json"))
            .is_ok_and(|r| r.json()["status"] == "ok")
        {
            assert!(start.elapsed() < Duration::from_secs(30), "no restart");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// GET `path` with extra request headers, keeping the body's bytes.
    pub fn fetch(&self, path: &str, headers: &[(&str, &str)]) -> RawResponse {
        request_raw(self.port, "GET", path, headers).unwrap()
    }
}

/// Validates a JSON response of `method` against the OpenSubsonic schema of its 200 answer
/// (tests/fixtures/openapi, copied from the OpenSubsonic specification), or, for our own
/// methods, against our schema in tests/fixtures/own-schemas. A method with neither fails.
pub fn assert_valid_json(method: &str, body: &serde_json::Value) {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Validators = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    let cache = VALIDATORS.get_or_init(Default::default);
    let cached = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(method)
        .cloned();
    let validator = cached.unwrap_or_else(|| {
        let built = Arc::new(response_validator(method));
        cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(method.to_string(), built.clone());
        built
    });
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method}: JSON does not match its schema:\n{}\n{body:#}",
        errors.join("\n")
    );
}

fn response_validator(method: &str) -> jsonschema::Validator {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let root = fixtures.join("openapi/endpoints");
    let endpoint = root.join(format!("{method}.json"));
    let own = fixtures.join(format!("own-schemas/{method}.json"));
    let (file, schema) = if endpoint.exists() {
        let spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&endpoint).unwrap()).unwrap();
        // getTranscodeDecision is answered to POST only.
        let operation = if spec["get"].is_object() {
            &spec["get"]
        } else {
            &spec["post"]
        };
        let mut answer = operation["responses"]["200"].clone();
        let mut file = endpoint.clone();
        // A shared response (EmptySubsonicResponse...) is a reference to another file.
        if let Some(reference) = answer["$ref"].as_str() {
            file = root.join(reference);
            answer = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        }
        (
            file,
            answer["content"]["application/json"]["schema"].clone(),
        )
    } else if own.exists() {
        let schema = serde_json::from_slice(&std::fs::read(&own).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", own.display()));
        (own, schema)
    } else {
        panic!(
            "no JSON schema for {method}: neither {} nor {}",
            endpoint.display(),
            own.display()
        );
    };
    assert!(schema.is_object(), "no 200 schema in {}", file.display());
    let base = format!("file://{}", file.display());
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .with_base_uri(base)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema of {method}: {e}"))
}

/// `start_server` with several music folders: `names` become folders (named so) beside each
/// other, `build` writes into them (same order), and the start-up scan must find `tracks`.
pub fn start_server_with_folders(
    names: &[&str],
    tracks: usize,
    build: impl FnOnce(&[PathBuf]),
) -> Server {
    start_server_configured(names, "", tracks, build)
}

/// `start_server_with_folders` with more configuration (TOML sections appended to the
/// generated file, e.g. "[transcode]\nmax_concurrent = 1\n").
pub fn start_server_configured(
    names: &[&str],
    extra_config: &str,
    tracks: usize,
    build: impl FnOnce(&[PathBuf]),
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let folders: Vec<PathBuf> = names.iter().map(|n| dir.path().join(n)).collect();
    for f in &folders {
        std::fs::create_dir_all(f).unwrap();
    }
    build(&folders);
    let port = free_port();
    let config = dir.path().join("config.toml");
    let list: Vec<String> = folders
        .iter()
        .zip(names)
        .map(|(f, n)| format!("{{ path = {f:?}, name = {n:?} }}"))
        .collect();
    std::fs::write(
        &config,
        format!(
            "[server]\naddress = \"127.0.0.1:{port}\"\n[library]\nfolders = [{}]\n[database]\npath = {:?}\n[scan]\nschedule = \"\"\nwatch = false\n{extra_config}",
            list.join(", "),
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
    let child = stop_with_tests(&mut Command::new(bin))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        port,
        config,
        _dir: dir,
    };
    let start = Instant::now();
    loop {
        if let Ok(r) = try_get(port, "/rest/getScanStatus?u=admin&p=adminpw&f=json")
            && r.json()["scanStatus"]["scanning"] == false
            && r.json()["scanStatus"]["count"] == tracks
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

/// A real PCM WAV file: 16-bit stereo 44.1 kHz, a 440 Hz tone, `frames` frames long.
pub fn write_wav(path: &Path, frames: u32) {
    let data_len = frames * 4;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&2u16.to_le_bytes()); // channels
    out.extend_from_slice(&44_100u32.to_le_bytes());
    out.extend_from_slice(&(44_100u32 * 4).to_le_bytes()); // bytes per second
    out.extend_from_slice(&4u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let t = i as f64 / 44_100.0;
        let sample = ((t * 440.0 * std::f64::consts::TAU).sin() * 12_000.0) as i16;
        out.extend_from_slice(&sample.to_le_bytes());
        out.extend_from_slice(&sample.to_le_bytes());
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, out).unwrap();
}
