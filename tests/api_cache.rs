//! The answers the catalog caches in memory (library/cache.rs: getArtists, getIndexes'
//! folders and root files, getGenres, the name, artist, year and genre album lists) over real
//! HTTP: a viewer restricted to some folders never gets an answer built for other folders
//! (whoever asked first), and a scan or a star shows in the very next answer. XML (validated)
//! and JSON each time.

mod common;

use common::api::*;
use mediastreamer::synth::{Format, TrackSpec};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const CAROL: &str = "u=carol&p=carolpw";

fn ok(r: Value) -> Value {
    assert_eq!(r["status"], "ok", "{r}");
    r
}

fn track(title: &str, artist: &str, album: &str, n: u32, genre: &str, year: i32) -> TrackSpec {
    TrackSpec {
        genres: vec![genre.into()],
        year: Some(year),
        ..song(title, artist, album, artist, n)
    }
}

/// The `name`s of the artists of every index letter (getArtists, getIndexes).
fn indexed_names(index: &Value) -> BTreeSet<String> {
    let letters = index["index"].as_array().cloned().unwrap_or_default();
    letters
        .iter()
        .flat_map(|l| l["artist"].as_array().cloned().unwrap_or_default())
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// The names of a list's albums.
fn album_names(list: &Value) -> BTreeSet<String> {
    let albums = list["album"].as_array().cloned().unwrap_or_default();
    albums
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// The titles of search3's songs.
fn song_titles(r: &Value) -> BTreeSet<String> {
    let songs = r["searchResult3"]["song"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    songs
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_string())
        .collect()
}

/// How many songs search3 gave, as a set of one line.
fn song_count(r: &Value) -> BTreeSet<String> {
    let n = r["searchResult3"]["song"].as_array().map_or(0, Vec::len);
    set(&[&format!("{n} songs")])
}

/// A call made once (it changes something), in JSON.
fn once(server: &Server, method: &str, query: &str) -> Value {
    ok(server.get(&format!("/rest/{method}?{query}&f=json")).json())
}

/// What a viewer sees of the cached answers: artist names (getArtists), top folder names
/// (getIndexes), genre names with counts (getGenres), and album names of each cached list.
fn cached_views(server: &Server, user: &str, extra: &str) -> Vec<BTreeSet<String>> {
    let call =
        |method: &str, query: &str| ok(server.call_both(method, &format!("{user}{extra}&{query}")));
    let genres = call("getGenres", "");
    let genres: BTreeSet<String> = genres["genres"]["genre"]
        .as_array()
        .map(|g| {
            g.iter()
                .map(|g| format!("{} {} {}", g["value"], g["songCount"], g["albumCount"]))
                .collect()
        })
        .unwrap_or_default();
    let list = |query: &str| album_names(&call("getAlbumList2", query)["albumList2"]);
    vec![
        indexed_names(&call("getArtists", "")["artists"]),
        indexed_names(&call("getIndexes", "")["indexes"]),
        genres,
        list("type=alphabeticalByName&size=10"),
        list("type=alphabeticalByArtist&size=10"),
        list("type=byYear&fromYear=1990&toYear=2010&size=10"),
        list("type=byGenre&genre=Jazz&size=10"),
        // A page further on comes from the same cached order.
        list("type=alphabeticalByName&size=1&offset=1"),
        // The whole-library listing (search3 ""), and a page of it further on.
        song_titles(&call("search3", "query=&artistCount=0&albumCount=0")),
        song_count(&call(
            "search3",
            "query=&artistCount=0&albumCount=0&songCount=5&songOffset=1",
        )),
    ]
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_restricted_viewer_never_gets_an_answer_cached_for_other_folders() {
    let server = start_server_with_folders(&["Pop", "Jazz"], 3, |dirs| {
        let (pop, jazz) = (&dirs[0], &dirs[1]);
        put(
            pop,
            "Ann/Red/01.mp3",
            Format::Mp3,
            track("R1", "Ann", "Red", 1, "Rock", 1999),
        );
        put(
            pop,
            "Ann/Red/02.mp3",
            Format::Mp3,
            track("R2", "Ann", "Red", 2, "Rock", 1999),
        );
        put(
            jazz,
            "Bob/Blue/01.mp3",
            Format::Mp3,
            track("B1", "Bob", "Blue", 1, "Jazz", 2001),
        );
    });
    let folders = ok(server.call_both("getMusicFolders", ADMIN));
    let pop = folders["musicFolders"]["musicFolder"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Pop")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    once(
        &server,
        "createUser",
        &format!("{ADMIN}&username=carol&password=carolpw&email=c@example.org&musicFolderId={pop}"),
    );
    let everything = vec![
        set(&["Ann", "Bob"]),
        set(&["Ann", "Bob"]),
        set(&["\"Jazz\" 1 1", "\"Rock\" 2 1"]),
        set(&["Blue", "Red"]),
        set(&["Red", "Blue"]),
        set(&["Red", "Blue"]),
        set(&["Blue"]),
        set(&["Red"]),
        set(&["R1", "R2", "B1"]),
        set(&["2 songs"]),
    ];
    let pop_only = vec![
        set(&["Ann"]),
        set(&["Ann"]),
        set(&["\"Rock\" 2 1"]),
        set(&["Red"]),
        set(&["Red"]),
        set(&["Red"]),
        set(&[]),
        set(&[]),
        set(&["R1", "R2"]),
        set(&["1 songs"]),
    ];
    // The admin asks first (every answer cached for every folder), then carol, then the
    // admin again (carol's entries did not replace the admin's), then the admin narrowed to
    // Pop with musicFolderId, then carol again (now from her cached entries).
    assert_eq!(cached_views(&server, ADMIN, ""), everything);
    assert_eq!(cached_views(&server, CAROL, ""), pop_only);
    assert_eq!(cached_views(&server, ADMIN, ""), everything);
    // (getGenres takes no musicFolderId: the narrowed admin still counts every folder.)
    let mut narrowed = pop_only.clone();
    narrowed[2] = everything[2].clone();
    assert_eq!(
        cached_views(&server, ADMIN, &format!("&musicFolderId={pop}")),
        narrowed
    );
    assert_eq!(cached_views(&server, CAROL, ""), pop_only);
}

/// Starts a scan and waits for it to end with `count` tracks in the catalog.
fn rescan(server: &Server, count: u64) {
    once(server, "startScan", ADMIN);
    let start = Instant::now();
    loop {
        let r = ok(server.call_both("getScanStatus", ADMIN));
        if r["scanStatus"]["scanning"] == false && r["scanStatus"]["count"] == count {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "scan did not end: {r}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_scan_or_a_star_shows_in_the_next_answer() {
    let mut music = PathBuf::new();
    let server = start_server_with_folders(&["Music"], 1, |dirs| {
        music = dirs[0].clone();
        put(
            &dirs[0],
            "Ann/Red/01.mp3",
            Format::Mp3,
            track("R1", "Ann", "Red", 1, "Rock", 1999),
        );
    });
    let before = vec![
        set(&["Ann"]),
        set(&["Ann"]),
        set(&["\"Rock\" 1 1"]),
        set(&["Red"]),
        set(&["Red"]),
        set(&["Red"]),
        set(&[]),
        set(&[]),
        set(&["R1"]),
        set(&["0 songs"]),
    ];
    assert_eq!(cached_views(&server, ADMIN, ""), before);

    // A new file: every cached answer has it after the scan.
    put(
        &music,
        "Zed/Zoo/01.mp3",
        Format::Mp3,
        track("Z1", "Zed", "Zoo", 1, "Jazz", 2005),
    );
    rescan(&server, 2);
    let added = vec![
        set(&["Ann", "Zed"]),
        set(&["Ann", "Zed"]),
        set(&["\"Jazz\" 1 1", "\"Rock\" 1 1"]),
        set(&["Red", "Zoo"]),
        set(&["Red", "Zoo"]),
        set(&["Red", "Zoo"]),
        set(&["Zoo"]),
        set(&["Zoo"]),
        set(&["R1", "Z1"]),
        set(&["1 songs"]),
    ];
    assert_eq!(cached_views(&server, ADMIN, ""), added);

    // A removed one is gone from all of them.
    std::fs::remove_dir_all(music.join("Ann")).unwrap();
    rescan(&server, 1);
    let removed = vec![
        set(&["Zed"]),
        set(&["Zed"]),
        set(&["\"Jazz\" 1 1"]),
        set(&["Zoo"]),
        set(&["Zoo"]),
        set(&["Zoo"]),
        set(&["Zoo"]),
        set(&[]),
        set(&["Z1"]),
        set(&["0 songs"]),
    ];
    assert_eq!(cached_views(&server, ADMIN, ""), removed);

    // Stars and ratings are the viewer's own, never cached: they show at once in answers
    // whose catalog part comes from the cache.
    let index = ok(server.call_both("getIndexes", ADMIN));
    let zed = &index["indexes"]["index"][0]["artist"][0];
    assert!(zed["starred"].is_null(), "{zed}");
    let zed_id = zed["id"].as_str().unwrap().to_string();
    let list = ok(server.call_both("getAlbumList2", &format!("{ADMIN}&type=alphabeticalByName")));
    let zoo = &list["albumList2"]["album"][0];
    assert!(
        zoo["starred"].is_null() && zoo["userRating"].is_null(),
        "{zoo}"
    );
    let zoo_id = zoo["id"].as_str().unwrap().to_string();
    once(
        &server,
        "star",
        &format!("{ADMIN}&id={zed_id}&albumId={zoo_id}"),
    );
    once(
        &server,
        "setRating",
        &format!("{ADMIN}&id={zoo_id}&rating=4"),
    );
    let index = ok(server.call_both("getIndexes", ADMIN));
    assert!(
        index["indexes"]["index"][0]["artist"][0]["starred"].is_string(),
        "{index}"
    );
    let list = ok(server.call_both("getAlbumList2", &format!("{ADMIN}&type=alphabeticalByName")));
    let zoo = &list["albumList2"]["album"][0];
    assert!(zoo["starred"].is_string(), "{zoo}");
    assert_eq!(zoo["userRating"], 4, "{zoo}");
    // Another user's view of the same cached list has no star of theirs.
    once(
        &server,
        "createUser",
        &format!("{ADMIN}&username=carol&password=carolpw&email=c@example.org"),
    );
    let list = ok(server.call_both("getAlbumList2", &format!("{CAROL}&type=alphabeticalByName")));
    let zoo = &list["albumList2"]["album"][0];
    assert!(
        zoo["starred"].is_null() && zoo["userRating"].is_null(),
        "{zoo}"
    );
}
