//! stream and download over real HTTP against the real server: exact bytes of whole files and
//! of every kind of range compared with the files on disk, HEAD, validators and conditional
//! requests, Content-Type per format, CORS, roles, errors 10/50/70 as XML (XSD-validated) and
//! JSON envelopes, a file that vanished since the scan (70, then rescanned away), zip downloads
//! of an album, an artist and a folder read back with the `zip` crate, and 50 concurrent ranged
//! streams.

mod common;

use common::api::*;
use diesel::prelude::*;
use mediastreamer::db::schema::{albums, artists, directories, tracks, users};
use mediastreamer::synth::Format;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const TRACKS: usize = 8;
/// The long file: a generated WAV spanning several of the server's 128 KiB read chunks.
const LONG: &str = "Long/tone.wav";
const GONE: &str = "Gone/vanishing.mp3";

struct Fixture {
    server: Server,
    music: PathBuf,
    db: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut music_dir = PathBuf::new();
        let server = start_server(TRACKS, |music| {
            music_dir = music.to_path_buf();
            let band = |title: &str, n| song(title, "Band", "Album One", "Band", n);
            put(
                music,
                "Band/Album One/01.mp3",
                Format::Mp3,
                band("First", 1),
            );
            put(
                music,
                "Band/Album One/02.flac",
                Format::Flac,
                band("Second", 2),
            );
            let other = |title: &str, n| song(title, "Other", "Mixed", "Other", n);
            put(music, "Other/Mixed/01.ogg", Format::Ogg, other("Ogg", 1));
            put(music, "Other/Mixed/02.m4a", Format::M4a, other("Mp4", 2));
            put(music, "Other/Mixed/03.wav", Format::Wav, other("Wave", 3));
            put(
                music,
                "Björk/Début/Début.mp3",
                Format::Mp3,
                song("Human Behaviour", "Björk", "Début", "Björk", 1),
            );
            put(
                music,
                GONE,
                Format::Mp3,
                song("Soon Gone", "Ghost", "Vanishing", "Ghost", 1),
            );
            write_wav(&music.join(LONG), 4 * 44_100);
        });
        Fixture {
            db: music_dir.parent().unwrap().join("catalog.db"),
            music: music_dir,
            server,
        }
    })
}

fn server() -> &'static Server {
    &fixture().server
}

fn db() -> SqliteConnection {
    mediastreamer::db::connect(&fixture().db).unwrap()
}

fn on_disk(rel: &str) -> Vec<u8> {
    std::fs::read(fixture().music.join(rel)).unwrap()
}

/// The client id of the track at `rel` (relative to the music folder).
fn track_id(rel: &str) -> String {
    let id: i32 = tracks::table
        .filter(tracks::path.eq(rel))
        .select(tracks::id)
        .get_result(&mut db())
        .unwrap();
    format!("tr-{id}")
}

fn album_id(name: &str) -> String {
    let id: i32 = albums::table
        .filter(albums::name.eq(name))
        .select(albums::id)
        .get_result(&mut db())
        .unwrap();
    format!("al-{id}")
}

fn artist_id(name: &str) -> String {
    let id: i32 = artists::table
        .filter(artists::name.eq(name))
        .select(artists::id)
        .get_result(&mut db())
        .unwrap();
    format!("ar-{id}")
}

fn dir_id(rel: &str) -> String {
    let id: i32 = directories::table
        .filter(directories::path.eq(rel))
        .select(directories::id)
        .get_result(&mut db())
        .unwrap();
    format!("dir-{id}")
}

fn stream(id: &str, headers: &[(&str, &str)]) -> RawResponse {
    server().fetch(&format!("/rest/stream?{ADMIN}&id={id}"), headers)
}

fn download(id: &str, headers: &[(&str, &str)]) -> RawResponse {
    server().fetch(&format!("/rest/download.view?{ADMIN}&id={id}"), headers)
}

fn range(id: &str, spec: &str) -> RawResponse {
    stream(id, &[("Range", spec)])
}

/// Asserts a 206 carrying exactly `data[start..=end]`.
fn assert_partial(r: &RawResponse, data: &[u8], start: usize, end: usize) {
    assert_eq!(r.status, 206, "{}", r.headers);
    assert_eq!(
        r.header("content-range").unwrap(),
        format!("bytes {start}-{end}/{}", data.len())
    );
    assert_eq!(
        r.header("content-length").unwrap(),
        (end - start + 1).to_string()
    );
    assert!(r.body == data[start..=end], "bytes {start}-{end} differ");
}

fn assert_whole(r: &RawResponse, data: &[u8]) {
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(r.header("content-length").unwrap(), data.len().to_string());
    assert!(r.header("content-range").is_none());
    assert!(r.body == data, "whole file differs");
}

#[test]
fn whole_files_with_their_content_types_and_headers() {
    for (rel, content_type) in [
        ("Band/Album One/01.mp3", "audio/mpeg"),
        ("Band/Album One/02.flac", "audio/flac"),
        ("Other/Mixed/01.ogg", "audio/ogg"),
        ("Other/Mixed/02.m4a", "audio/mp4"),
        ("Other/Mixed/03.wav", "audio/wav"),
        (LONG, "audio/wav"),
    ] {
        let r = stream(&track_id(rel), &[]);
        assert_whole(&r, &on_disk(rel));
        assert_eq!(r.header("content-type").unwrap(), content_type, "{rel}");
        assert_eq!(r.header("accept-ranges").unwrap(), "bytes");
        let etag = r.header("etag").unwrap();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "strong: {etag}"
        );
        assert!(r.header("last-modified").unwrap().ends_with("GMT"));
        assert_eq!(r.header("access-control-allow-origin").unwrap(), "*");
        assert!(r.header("content-disposition").is_none(), "a stream");
    }
    let r = stream(&track_id(LONG), &[]);
    assert_eq!(r.header("x-content-duration").unwrap(), "4.00");
}

#[test]
fn every_kind_of_range() {
    let id = track_id(LONG);
    let data = on_disk(LONG);
    let len = data.len();
    assert!(
        len > 3 * 128 * 1024,
        "the long file spans several read chunks"
    );
    assert_partial(&range(&id, "bytes=0-0"), &data, 0, 0);
    assert_partial(
        &range(&id, &format!("bytes={0}-{0}", len - 1)),
        &data,
        len - 1,
        len - 1,
    );
    assert_partial(&range(&id, "bytes=100-199"), &data, 100, 199);
    // Across the server's chunk boundaries.
    assert_partial(&range(&id, "bytes=131000-400000"), &data, 131_000, 400_000);
    assert_partial(&range(&id, "bytes=0-"), &data, 0, len - 1);
    assert_partial(&range(&id, "bytes=500000-"), &data, 500_000, len - 1);
    assert_partial(&range(&id, "bytes=-1"), &data, len - 1, len - 1);
    assert_partial(&range(&id, "bytes=-1000"), &data, len - 1000, len - 1);
    // Larger than the file: what exists.
    assert_partial(
        &range(&id, &format!("bytes=-{}", len + 500)),
        &data,
        0,
        len - 1,
    );
    assert_partial(
        &range(&id, &format!("bytes=10-{}", len * 2)),
        &data,
        10,
        len - 1,
    );
    // Starting beyond the end: 416 naming the length.
    for spec in [
        format!("bytes={len}-"),
        format!("bytes={}-{}", len + 5, len + 10),
    ] {
        let r = range(&id, &spec);
        assert_eq!(r.status, 416, "{spec}");
        assert_eq!(r.header("content-range").unwrap(), format!("bytes */{len}"));
        assert!(r.body.is_empty());
    }
    // Malformed headers are ignored: the whole file.
    for spec in ["bytes=abc", "bytes=5-1", "lines=1-2", "bytes=--5", "bytes="] {
        assert_whole(&range(&id, spec), &data);
    }
    // Several ranges: the whole file (documented choice).
    assert_whole(&range(&id, "bytes=0-9,100-109"), &data);
}

#[test]
fn head_answers_headers_only() {
    let id = track_id(LONG);
    let len = on_disk(LONG).len();
    let path = format!("/rest/stream?{ADMIN}&id={id}");
    let r = request_raw(server().port, "HEAD", &path, &[]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length").unwrap(), len.to_string());
    assert_eq!(r.header("content-type").unwrap(), "audio/wav");
    assert_eq!(r.header("accept-ranges").unwrap(), "bytes");
    assert!(r.header("etag").is_some());
    assert!(r.body.is_empty());
    let r = request_raw(server().port, "HEAD", &path, &[("Range", "bytes=10-19")]).unwrap();
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-length").unwrap(), "10");
    assert_eq!(
        r.header("content-range").unwrap(),
        format!("bytes 10-19/{len}")
    );
    assert!(r.body.is_empty());
}

#[test]
fn validators_and_conditional_requests() {
    let id = track_id(LONG);
    let data = on_disk(LONG);
    let first = stream(&id, &[]);
    let etag = first.header("etag").unwrap().to_string();
    let modified = first.header("last-modified").unwrap().to_string();
    assert_eq!(stream(&id, &[]).header("etag").unwrap(), etag, "stable");
    assert_ne!(
        stream(&track_id("Other/Mixed/03.wav"), &[])
            .header("etag")
            .unwrap(),
        etag
    );

    let r = stream(&id, &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag").unwrap(), etag);
    assert_eq!(stream(&id, &[("If-None-Match", "\"old\"")]).status, 200);
    assert_eq!(stream(&id, &[("If-Modified-Since", &modified)]).status, 304);
    assert_eq!(
        stream(
            &id,
            &[("If-Modified-Since", "Sat, 29 Oct 1994 19:43:31 GMT")]
        )
        .status,
        200
    );

    // If-Range: the range only while the client's copy is current.
    let r = stream(&id, &[("Range", "bytes=1000-1999"), ("If-Range", &etag)]);
    assert_partial(&r, &data, 1000, 1999);
    let r = stream(
        &id,
        &[("Range", "bytes=1000-1999"), ("If-Range", &modified)],
    );
    assert_partial(&r, &data, 1000, 1999);
    let r = stream(
        &id,
        &[("Range", "bytes=1000-1999"), ("If-Range", "\"old\"")],
    );
    assert_whole(&r, &data);
    let r = stream(
        &id,
        &[
            ("Range", "bytes=1000-1999"),
            ("If-Range", "Sat, 29 Oct 1994 19:43:31 GMT"),
        ],
    );
    assert_whole(&r, &data);
}

/// Calls a media method in XML and JSON and checks both failed with `code`; the XML is
/// validated against the XSD and both carry CORS headers.
fn assert_media_error(method: &str, query: &str, code: i64) {
    let xml = server().fetch(&format!("/rest/{method}.view?{query}"), &[]);
    assert_eq!(xml.status, 200);
    assert!(xml.header("content-type").unwrap().starts_with("text/xml"));
    assert_eq!(xml.header("access-control-allow-origin").unwrap(), "*");
    let body = String::from_utf8(xml.body).unwrap();
    assert!(body.contains(&format!("code=\"{code}\"")), "{body}");
    assert_valid_xml(&body);
    let json = server().fetch(&format!("/rest/{method}?{query}&f=json"), &[]);
    assert_eq!(json.status, 200);
    assert!(
        json.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(json.header("access-control-allow-origin").unwrap(), "*");
    assert_error(&json.json(), code);
}

#[test]
fn missing_and_unknown_ids() {
    let album = album_id("Album One");
    for method in ["stream", "download"] {
        assert_media_error(method, ADMIN, 10);
        for bad in ["tr-999999", "junk", "tr-0", "pl-1"] {
            assert_media_error(method, &format!("{ADMIN}&id={bad}"), 70);
        }
    }
    // An album is not something to stream; download zips it.
    assert_media_error("stream", &format!("{ADMIN}&id={album}"), 70);
    assert_media_error("download", &format!("{ADMIN}&id=al-999999"), 70);
    assert_media_error("download", &format!("{ADMIN}&id=ar-999999"), 70);
    assert_media_error("download", &format!("{ADMIN}&id=dir-999999"), 70);
    assert_media_error("stream", "u=admin&p=wrong&id=tr-1", 40);
}

fn set_roles(user: &str, stream: bool, download: bool) {
    diesel::update(users::table.filter(users::name.eq(user)))
        .set((
            users::stream_role.eq(stream),
            users::download_role.eq(download),
        ))
        .execute(&mut db())
        .unwrap();
}

#[test]
fn stream_and_download_roles() {
    let id = track_id("Band/Album One/01.mp3");
    let album = album_id("Album One");
    let data = on_disk("Band/Album One/01.mp3");
    set_roles("bob", false, false);
    for (method, id) in [("stream", &id), ("download", &id), ("download", &album)] {
        assert_media_error(method, &format!("{BOB}&id={id}"), 50);
    }
    set_roles("bob", true, false);
    let r = server().fetch(&format!("/rest/stream?{BOB}&id={id}"), &[]);
    assert_whole(&r, &data);
    assert_media_error("download", &format!("{BOB}&id={id}"), 50);
    set_roles("bob", false, true);
    assert_media_error("stream", &format!("{BOB}&id={id}"), 50);
    let r = server().fetch(&format!("/rest/download?{BOB}&id={id}"), &[]);
    assert_whole(&r, &data);
    set_roles("bob", true, true);
}

#[test]
fn single_track_download_is_the_original_as_an_attachment() {
    let rel = "Björk/Début/Début.mp3";
    let id = track_id(rel);
    let data = on_disk(rel);
    let r = download(&id, &[]);
    assert_whole(&r, &data);
    assert_eq!(r.header("content-type").unwrap(), "audio/mpeg");
    assert_eq!(
        r.header("content-disposition").unwrap(),
        "attachment; filename=\"D_but.mp3\"; filename*=UTF-8''D%C3%A9but.mp3"
    );
    // Downloads resume with ranges too.
    let r = download(&id, &[("Range", "bytes=100-")]);
    assert_partial(&r, &data, 100, data.len() - 1);
    // format/maxBitRate never transcode a download.
    let r = server().fetch(
        &format!("/rest/download?{ADMIN}&id={id}&format=mp3&maxBitRate=32"),
        &[],
    );
    assert_whole(&r, &data);
}

/// The zip's entries, by name: (bytes, stored?).
fn unzip(body: &[u8]) -> BTreeMap<String, (Vec<u8>, bool)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(body)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            let stored = f.compression() == zip::CompressionMethod::Stored;
            (f.name().unwrap().to_string(), (data, stored))
        })
        .collect()
}

/// Asserts a zip download offered as `disposition` holding exactly `expected`
/// (entry name, file relative to the music folder).
fn assert_zip(r: &RawResponse, disposition: &str, expected: &[(&str, &str)]) {
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(r.header("content-type").unwrap(), "application/zip");
    assert_eq!(r.header("content-disposition").unwrap(), disposition);
    assert_eq!(r.header("access-control-allow-origin").unwrap(), "*");
    let entries = unzip(&r.body);
    let names: Vec<&str> = entries.keys().map(String::as_str).collect();
    let mut wanted: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    wanted.sort();
    assert_eq!(names, wanted);
    for (name, rel) in expected {
        let (data, stored) = &entries[*name];
        assert!(*data == on_disk(rel), "{name} differs from {rel}");
        assert!(stored, "{name} is stored, not compressed");
    }
}

#[test]
fn zip_of_an_album_an_artist_and_a_folder() {
    let album_entries = [
        ("Band - Album One/01 - First.mp3", "Band/Album One/01.mp3"),
        (
            "Band - Album One/02 - Second.flac",
            "Band/Album One/02.flac",
        ),
    ];
    let r = download(&album_id("Album One"), &[]);
    assert_zip(
        &r,
        "attachment; filename=\"Band - Album One.zip\"; \
         filename*=UTF-8''Band%20%2D%20Album%20One.zip",
        &album_entries,
    );
    let r = download(&artist_id("Band"), &[]);
    let band = "attachment; filename=\"Band.zip\"; filename*=UTF-8''Band.zip";
    assert_zip(&r, band, &album_entries);
    let r = download(&dir_id("Band"), &[]);
    assert_zip(
        &r,
        band,
        &[
            ("Band/Album One/01.mp3", "Band/Album One/01.mp3"),
            ("Band/Album One/02.flac", "Band/Album One/02.flac"),
        ],
    );
    let r = download(&dir_id("Other/Mixed"), &[]);
    assert_zip(
        &r,
        "attachment; filename=\"Mixed.zip\"; filename*=UTF-8''Mixed.zip",
        &[
            ("Mixed/01.ogg", "Other/Mixed/01.ogg"),
            ("Mixed/02.m4a", "Other/Mixed/02.m4a"),
            ("Mixed/03.wav", "Other/Mixed/03.wav"),
        ],
    );
    // HEAD: the headers, no archive made.
    let path = format!("/rest/download?{ADMIN}&id={}", album_id("Album One"));
    let r = request_raw(server().port, "HEAD", &path, &[]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").unwrap(), "application/zip");
    assert!(r.body.is_empty());
}

#[test]
fn a_vanished_file_is_error_70_and_gets_rescanned() {
    let id = track_id(GONE);
    assert_eq!(stream(&id, &[]).status, 200);
    std::fs::remove_file(fixture().music.join(GONE)).unwrap();
    let r = stream(&id, &[]);
    assert!(r.header("content-type").unwrap().starts_with("text/xml"));
    let json = server().fetch(&format!("/rest/stream?{ADMIN}&id={id}&f=json"), &[]);
    assert_error(&json.json(), 70);
    // The scanner was asked to look at the folder: the track leaves the catalog.
    let start = Instant::now();
    loop {
        let song = server()
            .get(&format!("/rest/getSong?{ADMIN}&id={id}&f=json"))
            .json();
        if song["status"] == "failed" {
            assert_error(
                &server().call_both("getSong", &format!("{ADMIN}&id={id}")),
                70,
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the vanished track is still in the catalog"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Nothing else went with it.
    let other = server().call_both("getSong", &format!("{ADMIN}&id={}", track_id(LONG)));
    assert_eq!(other["status"], "ok");
}

#[test]
fn fifty_concurrent_ranged_streams_are_all_exact() {
    let id = track_id(LONG);
    let data = on_disk(LONG);
    let len = data.len() as u64;
    std::thread::scope(|s| {
        for t in 0..50u64 {
            let (id, data) = (&id, &data);
            s.spawn(move || {
                // A small deterministic generator: every thread its own offsets.
                let mut x = t
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let mut next = || {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (x >> 33) % len
                };
                // Two users, 25 streams each: within `limits.streams_per_user` (32).
                let user = if t % 2 == 0 { ADMIN } else { BOB };
                let range = |spec: &str| {
                    server().fetch(&format!("/rest/stream?{user}&id={id}"), &[("Range", spec)])
                };
                for _ in 0..3 {
                    let (a, b) = (next(), next());
                    let (start, end) = (a.min(b) as usize, a.max(b) as usize);
                    let r = range(&format!("bytes={start}-{end}"));
                    assert_partial(&r, data, start, end);
                }
                let r = range(&format!("bytes={}-", t * 1000));
                assert_partial(&r, data, (t * 1000) as usize, data.len() - 1);
            });
        }
    });
}
