//! Media annotation over real HTTP: star/unstar, setRating, scrobble, getNowPlaying,
//! getStarred and getStarred2, golden path and error cases in XML and JSON, per-user state,
//! and concurrent scrobbles.
//!
//! Tests share one server, so each test works on its own tracks/albums/artists and asserts
//! about those only.

mod common;

use common::api::*;
use mediastreamer::synth::Format;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start_server(12, |music| {
            let tracks = [
                ("Alpha/First/01.mp3", "A1", "Alpha", "First", "Alpha", 1),
                (
                    "Alpha/First/02.mp3",
                    "A2",
                    "Alpha feat. Beta",
                    "First",
                    "Alpha",
                    2,
                ),
                ("Alpha/First/03.mp3", "A3", "Alpha", "First", "Alpha", 3),
                ("Beta/Second/01.ogg", "B1", "Beta", "Second", "Beta", 1),
                ("Beta/Second/02.ogg", "B2", "Beta", "Second", "Beta", 2),
                ("Beta/Second/03.ogg", "B3", "Beta", "Second", "Beta", 3),
                ("Gamma/Third/01.flac", "C1", "Gamma", "Third", "Gamma", 1),
                ("Gamma/Third/02.flac", "C2", "Gamma", "Third", "Gamma", 2),
                ("Delta/Fourth/01.mp3", "D1", "Delta", "Fourth", "Delta", 1),
                // Folder mode: an artist folder with two album folders.
                ("Omega/Live/01.mp3", "O1", "Omega", "Live", "Omega", 1),
                ("Omega/Live/02.mp3", "O2", "Omega", "Live", "Omega", 2),
                ("Omega/Studio/01.mp3", "O3", "Omega", "Studio", "Omega", 1),
            ];
            for (rel, title, artist, album, album_artist, n) in tracks {
                let format = match rel.rsplit('.').next() {
                    Some("ogg") => Format::Ogg,
                    Some("flac") => Format::Flac,
                    _ => Format::Mp3,
                };
                put(
                    music,
                    rel,
                    format,
                    song(title, artist, album, album_artist, n),
                );
            }
        })
    })
}

/// Ids by name: tracks by title, albums by name, artists by name.
struct Ids {
    tracks: HashMap<String, String>,
    albums: HashMap<String, String>,
    artists: HashMap<String, String>,
}

fn ids() -> &'static Ids {
    static IDS: OnceLock<Ids> = OnceLock::new();
    IDS.get_or_init(|| {
        let s = server();
        let get = |method: &str, extra: &str| {
            s.get(&format!("/rest/{method}?{ADMIN}&f=json{extra}"))
                .json()
        };
        let mut ids = Ids {
            tracks: HashMap::new(),
            albums: HashMap::new(),
            artists: HashMap::new(),
        };
        let r = get("getArtists", "");
        for index in r["artists"]["index"].as_array().unwrap() {
            for artist in index["artist"].as_array().unwrap() {
                let artist_id = artist["id"].as_str().unwrap().to_string();
                ids.artists
                    .insert(artist["name"].as_str().unwrap().into(), artist_id.clone());
                let r = get("getArtist", &format!("&id={artist_id}"));
                for album in r["artist"]["album"].as_array().unwrap() {
                    let album_id = album["id"].as_str().unwrap().to_string();
                    ids.albums
                        .insert(album["name"].as_str().unwrap().into(), album_id.clone());
                    let r = get("getAlbum", &format!("&id={album_id}"));
                    for song in r["album"]["song"].as_array().unwrap() {
                        ids.tracks.insert(
                            song["title"].as_str().unwrap().into(),
                            song["id"].as_str().unwrap().into(),
                        );
                    }
                }
            }
        }
        assert_eq!(ids.tracks.len(), 12);
        ids
    })
}

fn track(title: &str) -> &'static str {
    &ids().tracks[title]
}
fn album(name: &str) -> &'static str {
    &ids().albums[name]
}
fn artist(name: &str) -> &'static str {
    &ids().artists[name]
}

fn call_both(method: &str, query: &str) -> Value {
    server().call_both(method, query)
}

fn starred2(user: &str) -> Value {
    let r = call_both("getStarred2", user);
    assert_eq!(r["status"], "ok", "{r}");
    r["starred2"].clone()
}

fn starred(user: &str) -> Value {
    let r = call_both("getStarred", user);
    assert_eq!(r["status"], "ok", "{r}");
    r["starred"].clone()
}

/// The item with this id in a list, if present.
fn find<'a>(list: &'a Value, id: &str) -> Option<&'a Value> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .find(|e| e["id"] == id)
}

fn ok(r: &Value) {
    assert_eq!(r["status"], "ok", "{r}");
}

fn is_iso_date(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z'))
}

#[test]
fn star_unstar_and_starred_lists_are_per_user() {
    let (a1, b1, a2) = (track("A1"), track("B1"), track("A2"));
    let (first, alpha) = (album("First"), artist("Alpha"));

    ok(&call_both(
        "star",
        &format!("{ADMIN}&id={a1}&albumId={first}"),
    ));
    ok(&call_both("star", &format!("{ADMIN}&artistId={alpha}")));
    std::thread::sleep(std::time::Duration::from_millis(20));
    ok(&call_both("star", &format!("{ADMIN}&id={b1}")));
    // Bob stars his own song.
    ok(&call_both("star", &format!("{BOB}&id={a2}")));

    let s = starred2(ADMIN);
    let songs = &s["song"];
    let first_star = find(songs, a1).expect("A1 starred");
    assert!(is_iso_date(&first_star["starred"]), "{first_star}");
    assert_eq!(first_star["title"], "A1");
    assert!(find(songs, b1).is_some());
    assert!(find(songs, a2).is_none(), "bob's star leaked to admin");
    // Most recently starred first.
    let pos = |id: &str| {
        songs
            .as_array()
            .unwrap()
            .iter()
            .position(|e| e["id"] == id)
            .unwrap()
    };
    assert!(pos(b1) < pos(a1));
    let al = find(&s["album"], first).expect("album starred");
    assert_eq!(al["name"], "First");
    assert!(is_iso_date(&al["starred"]));
    let ar = find(&s["artist"], alpha).expect("artist starred");
    assert_eq!(ar["name"], "Alpha");
    assert!(is_iso_date(&ar["starred"]));
    assert!(ar["albumCount"].is_i64());

    // Bob sees only his own.
    let bob = starred2(BOB);
    assert!(find(&bob["song"], a2).is_some());
    for (list, id) in [
        ("song", a1),
        ("song", b1),
        ("album", first),
        ("artist", alpha),
    ] {
        assert!(find(&bob[list], id).is_none(), "bob sees admin's {id}");
    }

    // getStarred: folder-mode shapes.
    let s = starred(ADMIN);
    let ar = find(&s["artist"], alpha).expect("artist in getStarred");
    assert!(is_iso_date(&ar["starred"]));
    let al = find(&s["album"], first).expect("album in getStarred");
    assert_eq!(al["isDir"], true);
    assert_eq!(al["title"], "First");
    assert!(is_iso_date(&al["starred"]));
    assert!(find(&s["song"], a1).is_some());
    assert!(find(&starred(BOB)["song"], a1).is_none());

    // Starring again is harmless and keeps the first star's time.
    let before = find(&starred2(ADMIN)["song"], a1).unwrap()["starred"].clone();
    ok(&call_both("star", &format!("{ADMIN}&id={a1}")));
    assert_eq!(
        find(&starred2(ADMIN)["song"], a1).unwrap()["starred"],
        before
    );

    // musicFolderId filters; unknown folder is 70, junk is 0.
    let folder = server()
        .get(&format!("/rest/getMusicFolders?{ADMIN}&f=json"))
        .json()["musicFolders"]["musicFolder"][0]["id"]
        .as_i64()
        .unwrap();
    let r = call_both("getStarred2", &format!("{ADMIN}&musicFolderId={folder}"));
    assert!(find(&r["starred2"]["song"], a1).is_some());
    assert!(find(&r["starred2"]["album"], first).is_some());
    assert!(find(&r["starred2"]["artist"], alpha).is_some());
    assert_error(
        &call_both("getStarred2", &format!("{ADMIN}&musicFolderId=9999")),
        70,
    );
    assert_error(
        &call_both("getStarred", &format!("{ADMIN}&musicFolderId=9999")),
        70,
    );
    assert_error(
        &call_both("getStarred", &format!("{ADMIN}&musicFolderId=abc")),
        0,
    );
    assert_error(&call_both("getStarred2", "u=admin&p=wrong"), 40);

    // Errors: nothing named, unknown or wrong-kind ids; all-or-nothing.
    assert_error(&call_both("star", ADMIN), 10);
    assert_error(&call_both("star", &format!("{ADMIN}&id=tr-99999")), 70);
    assert_error(&call_both("star", &format!("{ADMIN}&id=garbage")), 70);
    assert_error(&call_both("star", &format!("{ADMIN}&id=dir-99999")), 70);
    assert_error(&call_both("star", &format!("{ADMIN}&albumId={a2}")), 70);
    assert_error(&call_both("star", &format!("{ADMIN}&artistId={first}")), 70);
    assert_error(
        &call_both("star", &format!("{ADMIN}&id={a2}&id=tr-99999")),
        70,
    );
    assert!(
        find(&starred2(ADMIN)["song"], a2).is_none(),
        "a failed star changed something"
    );

    // Unstar.
    ok(&call_both(
        "unstar",
        &format!("{ADMIN}&id={a1}&albumId={first}&artistId={alpha}"),
    ));
    let s = starred2(ADMIN);
    assert!(find(&s["song"], a1).is_none());
    assert!(find(&s["album"], first).is_none());
    assert!(find(&s["artist"], alpha).is_none());
    assert!(find(&s["song"], b1).is_some());
    // Unstarring what is not starred is fine; bob's star is untouched.
    ok(&call_both("unstar", &format!("{ADMIN}&id={a2}")));
    assert!(find(&starred2(BOB)["song"], a2).is_some());
    assert_error(&call_both("unstar", ADMIN), 10);
    assert_error(&call_both("unstar", &format!("{ADMIN}&id=tr-99999")), 70);
    assert!(find(&starred2(ADMIN)["song"], b1).is_some());
}

#[test]
fn ratings_are_set_and_zero_removes_them() {
    let (b2, second, beta) = (track("B2"), album("Second"), artist("Beta"));
    ok(&call_both(
        "star",
        &format!("{ADMIN}&id={b2}&albumId={second}&artistId={beta}"),
    ));
    ok(&call_both(
        "setRating",
        &format!("{ADMIN}&id={b2}&rating=4"),
    ));
    ok(&call_both(
        "setRating",
        &format!("{ADMIN}&id={second}&rating=5"),
    ));
    ok(&call_both(
        "setRating",
        &format!("{ADMIN}&id={beta}&rating=3"),
    ));
    let s = starred2(ADMIN);
    assert_eq!(find(&s["song"], b2).unwrap()["userRating"], 4);
    assert_eq!(find(&s["album"], second).unwrap()["userRating"], 5);
    let s = starred(ADMIN);
    assert_eq!(find(&s["artist"], beta).unwrap()["userRating"], 3);
    assert_eq!(find(&s["album"], second).unwrap()["userRating"], 5);
    assert_eq!(find(&s["song"], b2).unwrap()["userRating"], 4);

    // Ratings are per user.
    ok(&call_both("star", &format!("{BOB}&id={b2}")));
    assert!(find(&starred2(BOB)["song"], b2).unwrap()["userRating"].is_null());

    // Change, then remove with 0.
    ok(&call_both(
        "setRating",
        &format!("{ADMIN}&id={b2}&rating=2"),
    ));
    assert_eq!(find(&starred2(ADMIN)["song"], b2).unwrap()["userRating"], 2);
    ok(&call_both(
        "setRating",
        &format!("{ADMIN}&id={b2}&rating=0"),
    ));
    let song = find(&starred2(ADMIN)["song"], b2).unwrap().clone();
    assert!(song["userRating"].is_null(), "{song}");
    assert!(
        is_iso_date(&song["starred"]),
        "removing a rating kept the star"
    );

    // A rating alone survives unstarring (the row is kept): star again and look.
    ok(&call_both(
        "setRating",
        &format!("{ADMIN}&id={b2}&rating=1"),
    ));
    ok(&call_both("unstar", &format!("{ADMIN}&id={b2}")));
    ok(&call_both("star", &format!("{ADMIN}&id={b2}")));
    assert_eq!(find(&starred2(ADMIN)["song"], b2).unwrap()["userRating"], 1);

    assert_error(&call_both("setRating", &format!("{ADMIN}&rating=3")), 10);
    assert_error(&call_both("setRating", &format!("{ADMIN}&id={b2}")), 10);
    assert_error(
        &call_both("setRating", &format!("{ADMIN}&id={b2}&rating=6")),
        0,
    );
    assert_error(
        &call_both("setRating", &format!("{ADMIN}&id={b2}&rating=-1")),
        0,
    );
    assert_error(
        &call_both("setRating", &format!("{ADMIN}&id={b2}&rating=x")),
        0,
    );
    assert_error(
        &call_both("setRating", &format!("{ADMIN}&id=tr-99999&rating=3")),
        70,
    );
    assert_error(
        &call_both("setRating", &format!("{ADMIN}&id=dir-99999&rating=3")),
        70,
    );
    assert_eq!(find(&starred2(ADMIN)["song"], b2).unwrap()["userRating"], 1);
}

#[test]
fn scrobbles_count_plays_for_track_and_album() {
    let (c1, c2, third) = (track("C1"), track("C2"), album("Third"));
    ok(&call_both(
        "star",
        &format!("{ADMIN}&id={c1}&id={c2}&albumId={third}"),
    ));
    let s = starred2(ADMIN);
    assert_eq!(find(&s["song"], c1).unwrap()["playCount"], 0);
    assert!(find(&s["song"], c1).unwrap()["played"].is_null());

    // call_both sends each call twice (XML and JSON): two plays.
    ok(&call_both(
        "scrobble",
        &format!("{ADMIN}&id={c1}&time=1700000000000"),
    ));
    let s = starred2(ADMIN);
    let song = find(&s["song"], c1).unwrap();
    assert_eq!(song["playCount"], 2);
    assert_eq!(song["played"], "2023-11-14T22:13:20.000Z");
    let al = find(&s["album"], third).unwrap();
    assert_eq!(al["playCount"], 2);
    assert_eq!(al["played"], "2023-11-14T22:13:20.000Z");
    assert_eq!(find(&s["song"], c2).unwrap()["playCount"], 0);

    // Several ids with paired times; an older time does not move last-played back.
    ok(&call_both(
        "scrobble",
        &format!("{ADMIN}&id={c1}&time=1600000000000&id={c2}&time=1800000000000&submission=true"),
    ));
    let s = starred(ADMIN);
    let song = find(&s["song"], c1).unwrap();
    assert_eq!(song["playCount"], 4);
    assert_eq!(song["played"], "2023-11-14T22:13:20.000Z");
    assert_eq!(find(&s["song"], c2).unwrap()["playCount"], 2);
    let al = find(&s["album"], third).unwrap();
    assert_eq!(al["playCount"], 6);
    assert_eq!(al["played"], "2027-01-15T08:00:00.000Z");

    // Plays are per user.
    ok(&call_both("star", &format!("{BOB}&id={c1}")));
    assert_eq!(find(&starred2(BOB)["song"], c1).unwrap()["playCount"], 0);

    // Errors, and a failed call counts nothing.
    assert_error(&call_both("scrobble", ADMIN), 10);
    assert_error(&call_both("scrobble", &format!("{ADMIN}&id=tr-99999")), 70);
    assert_error(&call_both("scrobble", &format!("{ADMIN}&id={third}")), 70);
    assert_error(
        &call_both("scrobble", &format!("{ADMIN}&id={c1}&id=tr-99999")),
        70,
    );
    assert_error(
        &call_both("scrobble", &format!("{ADMIN}&id={c1}&time=yesterday")),
        0,
    );
    assert_error(
        &call_both("scrobble", &format!("{ADMIN}&id={c1}&submission=maybe")),
        0,
    );
    assert_eq!(find(&starred2(ADMIN)["song"], c1).unwrap()["playCount"], 4);
}

#[test]
fn now_playing_shows_submission_false_scrobbles() {
    let a3 = track("A3");
    // Nobody else sends now-playing notifications: the list starts empty (but present).
    let r = call_both("getNowPlaying", ADMIN);
    ok(&r);
    assert_eq!(r["nowPlaying"]["entry"], serde_json::json!([]));

    ok(&call_both(
        "scrobble",
        &format!("{BOB}&id={a3}&submission=false&c=TestPlayer"),
    ));
    let r = call_both("getNowPlaying", ADMIN);
    let entries = r["nowPlaying"]["entry"].as_array().unwrap();
    // The XML and JSON calls came from the same user and player: one entry.
    assert_eq!(entries.len(), 1, "{r}");
    let e = &entries[0];
    assert_eq!(e["id"], a3);
    assert_eq!(e["title"], "A3");
    assert_eq!(e["isDir"], false);
    assert_eq!(e["username"], "bob");
    assert_eq!(e["playerName"], "TestPlayer");
    assert_eq!(e["minutesAgo"], 0);
    assert_eq!(e["playerId"], 0);

    // A now-playing notification is not a play.
    ok(&call_both("star", &format!("{BOB}&id={a3}")));
    assert_eq!(find(&starred2(BOB)["song"], a3).unwrap()["playCount"], 0);

    assert_error(
        &call_both(
            "scrobble",
            &format!("{BOB}&id=tr-99999&submission=false&c=TestPlayer"),
        ),
        70,
    );
    assert_error(&call_both("getNowPlaying", "u=bob&p=wrong"), 40);
}

#[test]
fn concurrent_scrobbles_all_count() {
    let (d1, fourth) = (track("D1"), album("Fourth"));
    ok(&call_both(
        "star",
        &format!("{ADMIN}&id={d1}&albumId={fourth}"),
    ));
    let port = server().port;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let path = format!("/rest/scrobble?{ADMIN}&f=json&id={d1}");
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let r = try_get(port, &path).unwrap();
                    assert_eq!(r.json()["status"], "ok", "{}", r.body);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = starred2(ADMIN);
    assert_eq!(find(&s["song"], d1).unwrap()["playCount"], 40);
    assert_eq!(find(&s["album"], fourth).unwrap()["playCount"], 40);
}

/// The sub-folders of a folder (getMusicDirectory children with isDir), by title.
fn subfolders(user: &str, dir: &str) -> HashMap<String, Value> {
    let r = call_both("getMusicDirectory", &format!("{user}&id={dir}"));
    ok(&r);
    r["directory"]["child"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["isDir"] == true)
        .map(|c| (c["title"].as_str().unwrap().to_string(), c.clone()))
        .collect()
}

/// The folder of `name` in getIndexes.
fn index_artist(user: &str, name: &str) -> Value {
    let r = call_both("getIndexes", user);
    ok(&r);
    r["indexes"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().iter())
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {r}"))
        .clone()
}

fn album_list(user: &str, kind: &str) -> Value {
    let r = call_both("getAlbumList", &format!("{user}&type={kind}&size=500"));
    ok(&r);
    r["albumList"]["album"].clone()
}

/// Folder mode: star, unstar and setRating take folder ids (album and artist folders), and
/// the folder-mode answers show them: getIndexes, getMusicDirectory, getStarred, getAlbumList.
#[test]
fn folders_are_starred_and_rated_in_folder_mode() {
    let omega = index_artist(ADMIN, "Omega");
    let omega_id = omega["id"].as_str().unwrap().to_string();
    assert!(omega_id.starts_with("dir-"), "{omega}");
    assert!(omega["starred"].is_null());
    let subs = subfolders(ADMIN, &omega_id);
    let live = subs["Live"]["id"].as_str().unwrap().to_string();
    let studio = subs["Studio"]["id"].as_str().unwrap().to_string();

    // XML and JSON (call_both sends each call in both formats; both are idempotent).
    ok(&call_both(
        "star",
        &format!("{ADMIN}&id={omega_id}&id={live}"),
    ));
    ok(&call_both(
        "setRating",
        &format!("{ADMIN}&id={live}&rating=4"),
    ));
    ok(&call_both(
        "setRating",
        &format!("{BOB}&id={live}&rating=2"),
    ));
    ok(&call_both(
        "setRating",
        &format!("{ADMIN}&id={studio}&rating=5"),
    ));

    // getIndexes: the artist folder is starred (by admin only).
    let omega = index_artist(ADMIN, "Omega");
    assert!(is_iso_date(&omega["starred"]), "{omega}");
    assert!(omega["userRating"].is_null());
    assert!(index_artist(BOB, "Omega")["starred"].is_null());

    // getMusicDirectory: the folder itself and its sub-folders carry the notes; the average
    // is everyone's.
    let r = call_both("getMusicDirectory", &format!("{ADMIN}&id={omega_id}"));
    assert!(is_iso_date(&r["directory"]["starred"]), "{r}");
    let subs = subfolders(ADMIN, &omega_id);
    let (l, st) = (&subs["Live"], &subs["Studio"]);
    assert!(is_iso_date(&l["starred"]), "{l}");
    assert_eq!(l["userRating"], 4);
    assert_eq!(l["averageRating"].as_f64(), Some(3.0));
    assert!(st["starred"].is_null());
    assert_eq!(st["userRating"], 5);
    assert_eq!(st["averageRating"].as_f64(), Some(5.0));
    let bobs = subfolders(BOB, &omega_id);
    assert_eq!(bobs["Live"]["userRating"], 2);
    assert!(bobs["Live"]["starred"].is_null());
    let r = call_both("getMusicDirectory", &format!("{ADMIN}&id={live}"));
    let d = &r["directory"];
    assert_eq!(
        (d["userRating"].as_i64(), d["averageRating"].as_f64()),
        (Some(4), Some(3.0))
    );
    assert!(is_iso_date(&d["starred"]));
    let xml = server()
        .get(&format!(
            "/rest/getMusicDirectory.view?{ADMIN}&id={omega_id}"
        ))
        .body;
    assert!(
        xml.contains(&format!("id=\"{live}\"")) && xml.contains("averageRating=\"3\""),
        "{xml}"
    );

    // getStarred: the album folder (it holds tracks) under album, the artist folder under
    // artist; not bob's.
    let s = starred(ADMIN);
    let al = find(&s["album"], &live).expect("album folder in getStarred");
    assert_eq!(
        (&al["isDir"], &al["title"], &al["userRating"]),
        (&Value::Bool(true), &Value::from("Live"), &Value::from(4))
    );
    assert_eq!(al["parent"], omega_id.as_str());
    let ar = find(&s["artist"], &omega_id).expect("artist folder in getStarred");
    assert_eq!(ar["name"], "Omega");
    assert!(find(&s["album"], &omega_id).is_none());
    assert!(find(&s["artist"], &live).is_none());
    assert!(find(&s["album"], &studio).is_none(), "rated, not starred");
    let b = starred(BOB);
    assert!(find(&b["album"], &live).is_none() && find(&b["artist"], &omega_id).is_none());
    // The ID3 answers do not show folders.
    let s2 = starred2(ADMIN);
    assert!(find(&s2["album"], &live).is_none() && find(&s2["artist"], &omega_id).is_none());

    // getAlbumList: starred lists the album folder (not the artist folder); highest lists
    // both rated album folders, best first.
    let list = album_list(ADMIN, "starred");
    let entry = find(&list, &live).expect("album folder in getAlbumList starred");
    assert_eq!(entry["isDir"], true);
    assert!(find(&list, &omega_id).is_none());
    let list = album_list(ADMIN, "highest");
    let pos = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .position(|e| e["id"] == id)
            .unwrap_or_else(|| panic!("{id} not in {list}"))
    };
    assert!(pos(&studio) < pos(&live));
    assert!(find(&album_list(BOB, "starred"), &live).is_none());
    assert!(find(&album_list(BOB, "highest"), &live).is_some());
    let r = call_both("getAlbumList2", &format!("{ADMIN}&type=starred&size=500"));
    assert!(find(&r["albumList2"]["album"], &live).is_none());

    // Unstar: gone from the starred lists; the rating stays.
    ok(&call_both("unstar", &format!("{ADMIN}&id={live}")));
    assert!(find(&starred(ADMIN)["album"], &live).is_none());
    assert!(find(&album_list(ADMIN, "starred"), &live).is_none());
    assert!(find(&album_list(ADMIN, "highest"), &live).is_some());
    assert!(subfolders(ADMIN, &omega_id)["Live"]["starred"].is_null());
    // Rating 0 removes it.
    ok(&call_both(
        "setRating",
        &format!("{ADMIN}&id={studio}&rating=0"),
    ));
    assert!(find(&album_list(ADMIN, "highest"), &studio).is_none());

    // Errors: an unknown folder, a bad rating; nothing changed by them.
    assert_error(&call_both("star", &format!("{ADMIN}&id=dir-99999")), 70);
    assert_error(
        &call_both("star", &format!("{ADMIN}&id={studio}&id=dir-99999")),
        70,
    );
    assert!(find(&starred(ADMIN)["album"], &studio).is_none());
    assert_error(
        &call_both("setRating", &format!("{ADMIN}&id={live}&rating=6")),
        0,
    );
    assert_error(&call_both("unstar", &format!("{ADMIN}&id=dir-99999")), 70);
    assert_eq!(subfolders(ADMIN, &omega_id)["Live"]["userRating"], 4);
}
