//! What hostile or careless clients can take from the real server: downloads whose client never
//! reads hold no thread (ping and database calls stay fast, the thread count stays bounded),
//! one user's open media connections are bounded, and form bodies are used whole up to the
//! configured limit and refused (an error envelope, not a truncated success) past it.

mod common;

use common::api::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// An album of two 2 MB WAV files, far more than the socket buffers of a client that reads
/// nothing take in.
fn album(music: &Path) {
    for n in 1..=2 {
        write_wav(&music.join(format!("Big/Album/0{n}.wav")), 500_000);
    }
}

/// Connects with a tiny receive buffer (so the kernel takes in little of what the server
/// sends), sends `GET path`, reads the status line and then reads nothing more.
fn stalled(port: u16, path: &str) -> TcpStream {
    let mut stream = connect_small_window(port);
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200", "{path}");
    stream
}

fn album_id(port: u16) -> String {
    let r = try_get(
        port,
        &format!("/rest/getAlbumList2?{ADMIN}&type=newest&f=json"),
    )
    .unwrap();
    r.json()["albumList2"]["album"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn threads_of(server: &Server) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// How long `path` takes to answer, with its answer.
fn timed(port: u16, path: &str) -> (Duration, Response) {
    let started = Instant::now();
    let r = try_get(port, path).unwrap();
    (started.elapsed(), r)
}

#[test]
fn stalled_downloads_hold_no_thread_and_the_server_stays_responsive() {
    const STALLED: usize = 120;
    let server = start_server_configured(&["music"], "[limits]\nstreams_per_user = 0\n", 2, |f| {
        album(&f[0])
    });
    let id = album_id(server.port);
    let download = format!("/rest/download?{BOB}&id={id}");
    let before = threads_of(&server);
    let connections: Vec<TcpStream> = (0..STALLED)
        .map(|_| stalled(server.port, &download))
        .collect();
    // Give the server time to fill every socket and block where it would block.
    std::thread::sleep(Duration::from_secs(2));
    let during = threads_of(&server);
    let (ping_time, ping) = timed(server.port, &format!("/rest/ping?{ADMIN}&f=json"));
    assert_eq!(ping.json()["status"], "ok");
    let (db_time, album) = timed(server.port, &format!("/rest/getAlbum?{BOB}&id={id}&f=json"));
    assert_eq!(album.json()["album"]["songCount"], 2, "{}", album.body);
    eprintln!(
        "threads: {before} before, {during} with {STALLED} stalled downloads; \
         ping {ping_time:?}, getAlbum {db_time:?}"
    );
    assert!(
        during < before + 40,
        "{during} threads with {STALLED} stalled downloads ({before} before)"
    );
    assert!(
        ping_time < Duration::from_secs(2),
        "ping took {ping_time:?}"
    );
    assert!(
        db_time < Duration::from_secs(2),
        "getAlbum took {db_time:?}"
    );
    // The stalled clients still get their whole archives once they read.
    let mut one = connections.into_iter().next().unwrap();
    let mut rest = Vec::new();
    one.read_to_end(&mut rest).unwrap();
    assert!(rest.len() > 4_000_000, "{} bytes", rest.len());
}

#[test]
fn one_user_has_at_most_the_configured_media_connections_open() {
    let server = start_server_configured(&["music"], "[limits]\nstreams_per_user = 3\n", 2, |f| {
        album(&f[0])
    });
    let id = album_id(server.port);
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| stalled(server.port, &format!("/rest/download?{BOB}&id={id}")))
        .collect();
    let songs = try_get(server.port, &format!("/rest/getAlbum?{BOB}&id={id}&f=json"))
        .unwrap()
        .json();
    let song = songs["album"]["song"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A fourth one is refused, in JSON and in XML, for stream and download alike.
    let refused = try_get(server.port, &format!("/rest/stream?{BOB}&id={song}&f=json"))
        .unwrap()
        .json();
    assert_error(&refused, 0);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many streams"),
        "{refused}"
    );
    let xml = try_get(server.port, &format!("/rest/download?{BOB}&id={id}")).unwrap();
    assert!(xml.body.contains("code=\"0\""), "{}", xml.body);
    assert_valid_xml(&xml.body);
    // Other users are not affected.
    let admin = request_raw(
        server.port,
        "GET",
        &format!("/rest/stream?{ADMIN}&id={song}"),
        &[],
    )
    .unwrap();
    assert_eq!(admin.status, 200);
    assert_eq!(admin.header("content-type"), Some("audio/wav"));
    // A connection that ends gives its place back.
    drop(held.pop());
    let started = Instant::now();
    loop {
        let r = request_raw(
            server.port,
            "GET",
            &format!("/rest/stream?{BOB}&id={song}"),
            &[],
        )
        .unwrap();
        if r.header("content-type") == Some("audio/wav") {
            assert_eq!(r.body.len(), 2_000_044);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never freed");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// POSTs a form to `method` and returns the JSON answer.
fn post(server: &Server, method: &str, form: &str) -> serde_json::Value {
    request(
        server.port,
        "POST",
        &format!("/rest/{method}?{ADMIN}&f=json"),
        Some(form),
    )
    .unwrap()
    .json()
}

#[test]
fn form_bodies_are_used_whole_up_to_the_limit_and_refused_past_it() {
    let server = start_server_configured(&["music"], "", 1, |f| {
        put(
            &f[0],
            "A/B/01.mp3",
            mediastreamer::synth::Format::Mp3,
            song("One", "A", "B", "A", 1),
        );
    });
    let r = try_get(
        server.port,
        &format!("/rest/search3?{ADMIN}&query=One&f=json"),
    )
    .unwrap();
    let id = r.json()["searchResult3"]["song"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // 100,000 entries: 1.3 MB, more than the old 1 MiB cut, well under the 8 MiB default.
    let mut form = String::from("name=Huge");
    for _ in 0..100_000 {
        form.push_str("&songId=");
        form.push_str(&id);
    }
    assert!(form.len() > 1024 * 1024);
    let created = post(&server, "createPlaylist", &form);
    assert_eq!(created["status"], "ok", "{}", created["error"]);
    let lists = try_get(server.port, &format!("/rest/getPlaylists?{ADMIN}&f=json"))
        .unwrap()
        .json();
    assert_eq!(lists["playlists"]["playlist"][0]["songCount"], 100_000);
    // Past the limit: an error, and nothing is created.
    let mut huge = String::from("name=TooBig");
    huge.push_str(&format!("&comment={}", "x".repeat(9 * 1024 * 1024)));
    let refused = post(&server, "createPlaylist", &huge);
    assert_error(&refused, 0);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than 8 MiB"),
        "{refused}"
    );
    let xml = request(
        server.port,
        "POST",
        &format!("/rest/savePlayQueue?{ADMIN}"),
        Some(&huge),
    )
    .unwrap();
    assert!(xml.body.contains("code=\"0\""), "{}", xml.body);
    assert_valid_xml(&xml.body);
    let lists = try_get(server.port, &format!("/rest/getPlaylists?{ADMIN}&f=json"))
        .unwrap()
        .json();
    assert_eq!(lists["playlists"]["playlist"].as_array().unwrap().len(), 1);
}

/// A streamed getPlaylist whose client reads nothing is given up after `transcode.idle_secs`:
/// its thread, connection and read transaction go back (more stalled readers than streamed
/// answers may run at once all get their turn, and a reader that reads gets the whole
/// answer), and the stalled client's body ends without the chunked terminator, so a cut
/// document never looks whole.
#[test]
fn stalled_playlist_readers_are_given_up_and_never_see_a_whole_looking_answer() {
    let server = start_server_configured(&["music"], "[transcode]\nidle_secs = 1\n", 2, |f| {
        album(&f[0])
    });
    let songs = try_get(
        server.port,
        &format!("/rest/search3?{ADMIN}&f=json&query=&songCount=10&artistCount=0&albumCount=0"),
    )
    .unwrap()
    .json()["searchResult3"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(songs.len(), 2);
    let entries = 20_000;
    let form: String = (0..entries)
        .map(|i| format!("&songId={}", songs[i % 2]))
        .collect();
    let created = post(&server, "createPlaylist", &format!("name=long{form}"));
    assert_eq!(created["status"], "ok", "{created}");
    let id = created["playlist"]["id"].as_str().unwrap().to_string();
    let path = format!("/rest/getPlaylist?{ADMIN}&f=json&id={id}");
    // Six stalled readers, more than the four answers produced at once: the last two get
    // their turn once the first are given up.
    let started = Instant::now();
    let stalled: Vec<TcpStream> = (0..6).map(|_| stalled(server.port, &path)).collect();
    assert!(started.elapsed() < Duration::from_secs(15));
    let (time, whole) = timed(server.port, &path);
    assert_eq!(whole.status, 200);
    let whole_len = whole.body.len();
    let whole = whole.json();
    assert_eq!(
        whole["playlist"]["entry"].as_array().unwrap().len(),
        entries
    );
    assert!(time < Duration::from_secs(15), "getPlaylist took {time:?}");
    std::thread::sleep(Duration::from_secs(2));
    for mut one in stalled {
        let mut raw = Vec::new();
        let _ = one.read_to_end(&mut raw);
        assert!(
            !raw.ends_with(b"0\r\n\r\n"),
            "a cut answer ended like a whole one"
        );
        assert!(raw.len() < whole_len, "{} of {whole_len} bytes", raw.len());
    }
}
