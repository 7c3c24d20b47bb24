//! Album and song lists over real HTTP: getAlbumList2 and getAlbumList (all ten types),
//! getRandomSongs and getSongsByGenre — golden path (items and order) and error cases, in XML
//! (XSD-validated) and JSON. Annotation-based lists are fed through star, setRating and
//! scrobble, and once directly in the database (plays recorded on tracks only).

mod common;

use common::api::*;
use diesel::prelude::*;
use mediastreamer::synth::{Format, TrackSpec};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Fixture {
    server: Server,
    db: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut db = PathBuf::new();
        let server = start_server(5, |music| {
            db = music.parent().unwrap().join("catalog.db");
            let t = |title: &str, artist: &str, album: &str, n: u32, year: i32, genres: &[&str]| {
                TrackSpec {
                    year: Some(year),
                    genres: genres.iter().map(|g| g.to_string()).collect(),
                    ..song(title, artist, album, artist, n)
                }
            };
            put(
                music,
                "The Band/Alpha/01.mp3",
                Format::Mp3,
                t("One", "The Band", "Alpha", 1, 1990, &["Rock"]),
            );
            put(
                music,
                "The Band/Alpha/02.mp3",
                Format::Mp3,
                t("Two", "The Band", "Alpha", 2, 1990, &["Rock"]),
            );
            put(
                music,
                "Zeta/beta/01.ogg",
                Format::Ogg,
                t("Three", "Zeta", "beta", 1, 2005, &["Jazz"]),
            );
            put(
                music,
                "Abba/Gamma/01.flac",
                Format::Flac,
                t("Four", "Abba", "Gamma", 1, 1999, &["Rock", "Pop"]),
            );
            put(
                music,
                "Motley/Delta/01.mp3",
                Format::Mp3,
                t("Five", "Mötley", "Delta", 1, 2020, &["Pop"]),
            );
        });
        Fixture { server, db }
    })
}

fn server() -> &'static Server {
    &fixture().server
}

fn db() -> SqliteConnection {
    mediastreamer::db::connect(&fixture().db).unwrap()
}

fn call_both(method: &str, query: &str) -> Value {
    server().call_both(method, query)
}

fn ok(r: &Value) {
    assert_eq!(r["status"], "ok", "{r}");
}

/// Album ids by name.
fn albums() -> &'static HashMap<String, String> {
    static IDS: OnceLock<HashMap<String, String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let r = server()
            .get(&format!(
                "/rest/getAlbumList2?{ADMIN}&f=json&type=alphabeticalByName&size=500"
            ))
            .json();
        r["albumList2"]["album"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["name"].as_str().unwrap().to_string(),
                    a["id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    })
}

/// Track ids by title.
fn tracks() -> &'static HashMap<String, String> {
    static IDS: OnceLock<HashMap<String, String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut out = HashMap::new();
        for id in albums().values() {
            let r = server()
                .get(&format!("/rest/getAlbum?{ADMIN}&f=json&id={id}"))
                .json();
            for s in r["album"]["song"].as_array().unwrap() {
                out.insert(
                    s["title"].as_str().unwrap().to_string(),
                    s["id"].as_str().unwrap().to_string(),
                );
            }
        }
        out
    })
}

fn album(name: &str) -> &'static str {
    &albums()[name]
}
fn track(title: &str) -> &'static str {
    &tracks()[title]
}
fn num(id: &str) -> i32 {
    id.split_once('-').unwrap().1.parse().unwrap()
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|e| e[key].as_str().unwrap().to_string())
        .collect()
}

/// getAlbumList2 and getAlbumList with the same parameters: both must list the same albums in
/// the same order; returns the AlbumID3 list.
fn both_lists(user: &str, params: &str) -> Value {
    let r2 = call_both("getAlbumList2", &format!("{user}&{params}"));
    ok(&r2);
    let r1 = call_both("getAlbumList", &format!("{user}&{params}"));
    ok(&r1);
    let list2 = &r2["albumList2"]["album"];
    let list1 = &r1["albumList"]["album"];
    if !params.contains("type=random") {
        assert_eq!(names(list2, "id"), names(list1, "id"), "{params}");
        assert_eq!(names(list2, "name"), names(list1, "title"));
    }
    list2.clone()
}

fn list_names(user: &str, params: &str) -> Vec<String> {
    names(&both_lists(user, params), "name")
}

#[test]
fn alphabetical_by_name_pages_and_shapes() {
    assert_eq!(
        list_names(ADMIN, "type=alphabeticalByName"),
        ["Alpha", "beta", "Delta", "Gamma"]
    );
    // Pages are stable and add up to the whole list.
    let mut paged = Vec::new();
    for offset in 0..5 {
        paged.extend(list_names(
            ADMIN,
            &format!("type=alphabeticalByName&size=1&offset={offset}"),
        ));
    }
    assert_eq!(paged, ["Alpha", "beta", "Delta", "Gamma"]);
    assert_eq!(
        list_names(ADMIN, "type=alphabeticalByName&size=2&offset=2"),
        ["Delta", "Gamma"]
    );
    // Default size 10, and the AlbumID3 fields typed.
    let list = both_lists(ADMIN, "type=alphabeticalByName");
    let alpha = &list[0];
    assert_eq!(alpha["id"], album("Alpha"));
    assert_eq!(alpha["artist"], "The Band");
    assert_eq!(alpha["songCount"], 2);
    assert_eq!(alpha["year"], 1990);
    assert_eq!(alpha["genre"], "Rock");
    assert!(alpha["duration"].is_i64() && alpha["created"].is_string());
    assert_eq!(alpha["playCount"], 0);

    // getAlbumList: folder-style Child entries.
    let r = call_both(
        "getAlbumList",
        &format!("{ADMIN}&type=alphabeticalByName&size=1"),
    );
    let entry = &r["albumList"]["album"][0];
    assert_eq!(entry["id"], album("Alpha"));
    assert_eq!(entry["isDir"], true);
    assert_eq!(entry["title"], "Alpha");
    assert_eq!(entry["album"], "Alpha");
    assert_eq!(entry["artist"], "The Band");
    assert_eq!(entry["year"], 1990);
    assert_eq!(entry["genre"], "Rock");
    // No folder image and no embedded picture: no cover art id.
    assert!(entry.get("coverArt").is_none(), "{entry}");
    assert!(entry["duration"].is_i64() && entry["created"].is_string());

    // Empty page: the container and an empty array.
    let r = call_both(
        "getAlbumList2",
        &format!("{ADMIN}&type=alphabeticalByName&offset=100"),
    );
    assert_eq!(r["albumList2"]["album"], serde_json::json!([]));
    let r = call_both(
        "getAlbumList",
        &format!("{ADMIN}&type=alphabeticalByName&size=0"),
    );
    assert_eq!(r["albumList"]["album"], serde_json::json!([]));
}

#[test]
fn album_list_errors() {
    for method in ["getAlbumList", "getAlbumList2"] {
        assert_error(&call_both(method, ADMIN), 10);
        assert_error(&call_both(method, &format!("{ADMIN}&type=bogus")), 0);
        assert_error(
            &call_both(method, &format!("{ADMIN}&type=newest&size=many")),
            0,
        );
        assert_error(&call_both(method, &format!("{ADMIN}&type=byYear")), 10);
        assert_error(
            &call_both(method, &format!("{ADMIN}&type=byYear&fromYear=1990")),
            10,
        );
        assert_error(&call_both(method, &format!("{ADMIN}&type=byGenre")), 10);
        assert_error(
            &call_both(method, &format!("{ADMIN}&type=newest&musicFolderId=999")),
            70,
        );
        assert_error(&call_both(method, "u=admin&p=wrong&type=newest"), 40);
    }
}

#[test]
fn alphabetical_by_artist_ignores_articles() {
    // Abba, (The) Band, Mötley, Zeta.
    assert_eq!(
        list_names(ADMIN, "type=alphabeticalByArtist"),
        ["Gamma", "Alpha", "Delta", "beta"]
    );
    assert_eq!(
        list_names(ADMIN, "type=alphabeticalByArtist&size=2&offset=1"),
        ["Alpha", "Delta"]
    );
}

#[test]
fn by_year_both_directions() {
    assert_eq!(
        list_names(ADMIN, "type=byYear&fromYear=1990&toYear=2005"),
        ["Alpha", "Gamma", "beta"]
    );
    assert_eq!(
        list_names(ADMIN, "type=byYear&fromYear=2005&toYear=1990"),
        ["beta", "Gamma", "Alpha"]
    );
    assert_eq!(
        list_names(
            ADMIN,
            "type=byYear&fromYear=2030&toYear=1000&size=2&offset=1"
        ),
        ["beta", "Gamma"]
    );
    assert!(list_names(ADMIN, "type=byYear&fromYear=1800&toYear=1801").is_empty());
}

#[test]
fn by_genre_case_insensitive() {
    assert_eq!(
        list_names(ADMIN, "type=byGenre&genre=Rock"),
        ["Alpha", "Gamma"]
    );
    assert_eq!(
        list_names(ADMIN, "type=byGenre&genre=pop"),
        ["Delta", "Gamma"]
    );
    assert_eq!(
        list_names(ADMIN, "type=byGenre&genre=Pop&size=1&offset=1"),
        ["Gamma"]
    );
    assert!(list_names(ADMIN, "type=byGenre&genre=Polka").is_empty());
}

#[test]
fn newest_by_time_added() {
    use mediastreamer::db::schema::albums;
    let mut conn = db();
    for (name, at) in [
        ("Delta", 4_000_000),
        ("Alpha", 3_000_000),
        ("Gamma", 2_000_000),
        ("beta", 1_000_000),
    ] {
        diesel::update(albums::table.find(num(album(name))))
            .set(albums::created_at.eq(at))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(
        list_names(ADMIN, "type=newest"),
        ["Delta", "Alpha", "Gamma", "beta"]
    );
    assert_eq!(
        list_names(ADMIN, "type=newest&size=2&offset=1"),
        ["Alpha", "Gamma"]
    );
    let list = both_lists(ADMIN, "type=newest&size=1");
    assert_eq!(list[0]["created"], "1970-01-01T01:06:40.000Z");
}

#[test]
fn random_lists_each_album_once() {
    let mut got = list_names(ADMIN, "type=random");
    got.sort();
    assert_eq!(got, ["Alpha", "Delta", "Gamma", "beta"]);
    assert_eq!(list_names(ADMIN, "type=random&size=2").len(), 2);
}

#[test]
fn music_folder_filter() {
    let r = call_both("getMusicFolders", ADMIN);
    let folder = r["musicFolders"]["musicFolder"][0]["id"].as_i64().unwrap();
    assert_eq!(
        list_names(
            ADMIN,
            &format!("type=alphabeticalByName&musicFolderId={folder}")
        ),
        ["Alpha", "beta", "Delta", "Gamma"]
    );
}

#[test]
fn highest_is_the_users_ratings() {
    for (name, rating) in [("Delta", 5), ("Alpha", 3), ("beta", 5)] {
        ok(&call_both(
            "setRating",
            &format!("{BOB}&id={}&rating={rating}", album(name)),
        ));
    }
    // Ties (Delta, beta) by id.
    let mut five = [("Delta", num(album("Delta"))), ("beta", num(album("beta")))];
    five.sort_by_key(|(_, id)| *id);
    let expected = [five[0].0, five[1].0, "Alpha"];
    assert_eq!(list_names(BOB, "type=highest"), expected);
    let list = both_lists(BOB, "type=highest&size=1&offset=2");
    assert_eq!(list[0]["name"], "Alpha");
    assert_eq!(list[0]["userRating"], 3);
    let r = call_both("getAlbumList", &format!("{BOB}&type=highest"));
    assert_eq!(r["albumList"]["album"][2]["userRating"], 3);
    // Another user's ratings are not admin's.
    assert!(list_names(ADMIN, "type=highest").is_empty());
}

#[test]
fn starred_is_the_users_stars_latest_first() {
    ok(&call_both(
        "star",
        &format!("{BOB}&albumId={}", album("Gamma")),
    ));
    std::thread::sleep(std::time::Duration::from_millis(20));
    ok(&call_both(
        "star",
        &format!("{BOB}&albumId={}", album("Alpha")),
    ));
    let list = both_lists(BOB, "type=starred");
    assert_eq!(names(&list, "name"), ["Alpha", "Gamma"]);
    assert!(list[0]["starred"].is_string());
    assert_eq!(list_names(BOB, "type=starred&offset=1"), ["Gamma"]);
    assert!(list_names(ADMIN, "type=starred").is_empty());
}

#[test]
fn frequent_and_recent_from_scrobbles() {
    // Bob: Alpha played 3 times (last at t=1000 s), beta twice (last 3000 s), Delta once
    // (2000 s).
    let plays = [
        ("One", 100),
        ("Two", 500),
        ("One", 1000),
        ("Three", 2500),
        ("Three", 3000),
        ("Five", 2000),
    ];
    for (title, secs) in plays {
        // One request each (call_both would count every play twice).
        ok(&server()
            .get(&format!(
                "/rest/scrobble?{BOB}&f=json&id={}&time={}",
                track(title),
                secs * 1000
            ))
            .json());
    }
    assert_eq!(list_names(BOB, "type=frequent"), ["Alpha", "beta", "Delta"]);
    assert_eq!(list_names(BOB, "type=frequent&size=1&offset=1"), ["beta"]);
    let list = both_lists(BOB, "type=frequent&size=1");
    assert_eq!(list[0]["playCount"], 3);
    assert_eq!(list_names(BOB, "type=recent"), ["beta", "Delta", "Alpha"]);
    assert_eq!(
        list_names(BOB, "type=recent&size=2&offset=1"),
        ["Delta", "Alpha"]
    );
}

#[test]
fn frequent_and_recent_count_track_plays() {
    // Plays recorded on a track only (no album row): the album's plays are its tracks' sum.
    use mediastreamer::db::schema::{annotations, users};
    let mut conn = db();
    let admin: i32 = users::table
        .filter(users::name.eq("admin"))
        .select(users::id)
        .get_result(&mut conn)
        .unwrap();
    for (title, count, at) in [("Four", 7i64, 5_000i64), ("Five", 2, 9_000)] {
        diesel::insert_into(annotations::table)
            .values((
                annotations::user_id.eq(admin),
                annotations::item_type.eq("track"),
                annotations::item_id.eq(num(track(title))),
                annotations::play_count.eq(count),
                annotations::last_played.eq(Some(at)),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(list_names(ADMIN, "type=frequent"), ["Gamma", "Delta"]);
    assert_eq!(list_names(ADMIN, "type=recent"), ["Delta", "Gamma"]);
}

#[test]
fn random_songs_with_filters() {
    let r = call_both("getRandomSongs", ADMIN);
    ok(&r);
    let mut all = names(&r["randomSongs"]["song"], "title");
    all.sort();
    assert_eq!(all, ["Five", "Four", "One", "Three", "Two"]);
    let r = call_both("getRandomSongs", &format!("{ADMIN}&size=2"));
    assert_eq!(r["randomSongs"]["song"].as_array().unwrap().len(), 2);
    let r = call_both("getRandomSongs", &format!("{ADMIN}&genre=jazz"));
    assert_eq!(names(&r["randomSongs"]["song"], "title"), ["Three"]);
    let r = call_both(
        "getRandomSongs",
        &format!("{ADMIN}&fromYear=2000&toYear=2030"),
    );
    let mut got = names(&r["randomSongs"]["song"], "title");
    got.sort();
    assert_eq!(got, ["Five", "Three"]);
    let r = call_both("getRandomSongs", &format!("{ADMIN}&genre=Rock&toYear=1995"));
    let mut got = names(&r["randomSongs"]["song"], "title");
    got.sort();
    assert_eq!(got, ["One", "Two"]);
    let r = call_both("getRandomSongs", &format!("{ADMIN}&genre=Polka"));
    assert_eq!(r["randomSongs"]["song"], serde_json::json!([]));
    assert_error(
        &call_both("getRandomSongs", &format!("{ADMIN}&musicFolderId=999")),
        70,
    );
    assert_error(&call_both("getRandomSongs", &format!("{ADMIN}&size=x")), 0);
}

#[test]
fn songs_by_genre_paged() {
    let r = call_both("getSongsByGenre", &format!("{ADMIN}&genre=rock"));
    ok(&r);
    // In id order (the order the scanner found them).
    let mut expected = vec!["One", "Two", "Four"];
    expected.sort_by_key(|t| num(track(t)));
    let songs = &r["songsByGenre"]["song"];
    assert_eq!(names(songs, "title"), expected);
    assert_eq!(songs[0]["isDir"], false);
    assert!(songs[0]["duration"].is_i64());
    assert_eq!(songs[0]["genres"][0]["name"], "Rock");
    let r = call_both(
        "getSongsByGenre",
        &format!("{ADMIN}&genre=Rock&count=1&offset=1"),
    );
    assert_eq!(names(&r["songsByGenre"]["song"], "title"), [expected[1]]);
    let r = call_both("getSongsByGenre", &format!("{ADMIN}&genre=Polka"));
    assert_eq!(r["songsByGenre"]["song"], serde_json::json!([]));
    assert_error(&call_both("getSongsByGenre", ADMIN), 10);
    assert_error(
        &call_both("getSongsByGenre", &format!("{ADMIN}&genre=Rock&count=x")),
        0,
    );
    assert_error(
        &call_both(
            "getSongsByGenre",
            &format!("{ADMIN}&genre=Rock&musicFolderId=999"),
        ),
        70,
    );
}
