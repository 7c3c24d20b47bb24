//! Searching over real HTTP: search3, search2 and the deprecated search — prefix words in any
//! order, case and accent folding, FTS syntax safety, the empty query listing the whole
//! library page by page (Symfonium's sync), per-user annotations on results — in XML
//! (XSD-validated) and JSON. Music-folder filtering with two folders is checked on the
//! library queries directly (the HTTP harness serves one folder).

mod common;

use common::api::*;
use mediastreamer::synth::{Format, TrackSpec};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start_server(5, |music| {
            put(
                music,
                "The Band/Hits/01.mp3",
                Format::Mp3,
                song("One", "The Band", "Hits", "The Band", 1),
            );
            put(
                music,
                "The Band/Hits/02.flac",
                Format::Flac,
                song("Two Words", "The Band feat. Guest", "Hits", "The Band", 2),
            );
            put(
                music,
                "Björk/Homogenic/01.ogg",
                Format::Ogg,
                TrackSpec {
                    genres: vec!["Electronic".into()],
                    ..song("Jóga", "Björk", "Homogenic", "Björk", 1)
                },
            );
            put(
                music,
                "Zeta/Solo/01.mp3",
                Format::Mp3,
                song("Alone", "Zeta", "Solo", "Zeta", 1),
            );
            put(
                music,
                "Zeta/Solo/02.mp3",
                Format::Mp3,
                song("Band Practice", "Zeta", "Solo", "Zeta", 2),
            );
        })
    })
}

fn call_both(method: &str, query: &str) -> Value {
    server().call_both(method, query)
}

fn ok(r: &Value) {
    assert_eq!(r["status"], "ok", "{r}");
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|e| e[key].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// search3 as `user` with `params`: (artist names, album names, song titles).
fn search3(user: &str, params: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let r = call_both("search3", &format!("{user}&{params}"));
    ok(&r);
    let s = &r["searchResult3"];
    (
        names(&s["artist"], "name"),
        names(&s["album"], "name"),
        names(&s["song"], "title"),
    )
}

#[test]
fn search3_prefix_words_any_order_and_columns() {
    let (artists, albums, songs) = search3(ADMIN, "query=band");
    // Only album artists: "Guest" is credited on a track, not an album.
    assert_eq!(artists, ["The Band"]);
    assert_eq!(albums, ["Hits"]);
    assert_eq!(sorted(songs), ["Band Practice", "One", "Two Words"]);

    // Words in any order, each a prefix, across columns (title + artist).
    let (_, _, songs) = search3(ADMIN, "query=wor%20tw");
    assert_eq!(songs, ["Two Words"]);
    let (_, _, songs) = search3(ADMIN, "query=guest%20two");
    assert_eq!(songs, ["Two Words"]);
    let (artists, albums, songs) = search3(ADMIN, "query=zeta%20band");
    assert!(artists.is_empty());
    assert!(albums.is_empty());
    assert_eq!(songs, ["Band Practice"]);

    // Case and accents fold both ways.
    let (artists, albums, songs) = search3(ADMIN, "query=BJORK");
    assert_eq!(artists, ["Björk"]);
    assert_eq!(albums, ["Homogenic"]);
    assert_eq!(songs, ["Jóga"]);
    let (_, _, songs) = search3(ADMIN, "query=j%C3%B3g");
    assert_eq!(songs, ["Jóga"]);
    let (_, albums, _) = search3(ADMIN, "query=homo%20bj%C3%B6");
    assert_eq!(albums, ["Homogenic"]);

    // Nothing found: every list still an array.
    let r = call_both("search3", &format!("{ADMIN}&query=zzzz"));
    for list in ["artist", "album", "song"] {
        assert_eq!(r["searchResult3"][list], serde_json::json!([]), "{list}");
    }

    // Shapes: ArtistID3, AlbumID3, Child.
    let r = call_both("search3", &format!("{ADMIN}&query=hits"));
    let album = &r["searchResult3"]["album"][0];
    assert_eq!(album["artist"], "The Band");
    assert_eq!(album["songCount"], 2);
    assert!(album["id"].as_str().unwrap().starts_with("al-"));
    let r = call_both("search3", &format!("{ADMIN}&query=zeta"));
    let artist = &r["searchResult3"]["artist"][0];
    assert_eq!(artist["albumCount"], 1);
    assert!(artist["id"].as_str().unwrap().starts_with("ar-"));
    let song = &r["searchResult3"]["song"][0];
    assert_eq!(song["isDir"], false);
    assert_eq!(song["artist"], "Zeta");
    assert!(song["duration"].is_i64());
}

/// A query's order is the same on every page and for every user: songs, albums and artists
/// paged one at a time add up to the whole list, without repeats (XML and JSON, an admin and
/// a user).
#[test]
fn search3_pages_are_stable_and_alike_for_every_user() {
    for user in [ADMIN, BOB] {
        let (artists, albums, songs) = search3(user, "query=band&songCount=10");
        assert_eq!(sorted(songs.clone()), ["Band Practice", "One", "Two Words"]);
        let mut paged = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..4 {
            let (ar, al, so) = search3(
                user,
                &format!(
                    "query=band&songCount=1&songOffset={i}&albumCount=1&albumOffset={i}\
                     &artistCount=1&artistOffset={i}"
                ),
            );
            paged.0.extend(ar);
            paged.1.extend(al);
            paged.2.extend(so);
        }
        assert_eq!(paged, (artists, albums, songs), "{user}");
    }
    assert_eq!(
        search3(ADMIN, "query=band&songCount=10"),
        search3(BOB, "query=band&songCount=10")
    );
}

#[test]
fn search3_query_syntax_is_never_fts_syntax() {
    for q in [
        "AND",
        "%22%28",
        "band%22",
        "-",
        "NEAR%28a%20b%29",
        "title%3Aone",
        "%5E*",
        "o%27neil",
    ] {
        let r = call_both("search3", &format!("{ADMIN}&query={q}"));
        ok(&r);
    }
    // Quotes and a trailing star are ignored around a word.
    let (artists, _, _) = search3(ADMIN, "query=%22zet%22*");
    assert_eq!(artists, ["Zeta"]);
}

/// Every odd query is an ordinary search in all three search methods, XML and JSON: NUL and
/// other control characters, FTS operators, broken UTF-8 (a lone surrogate), huge queries.
#[test]
fn odd_queries_are_ordinary_searches() {
    let long_word = "b".repeat(5000);
    let many_words = "band%20".repeat(600);
    let odd = [
        "%00",
        "band%00",
        "%00band",
        "ba%00nd",
        "%01%02%1F%7F",
        "%22",
        "%22%22%22",
        "*",
        "**band",
        "-band",
        "band%20-one",
        "NEAR(band%20one)",
        "NEAR%28band%29",
        "(((",
        "%29",
        "%5Eband",
        "band:one",
        ":",
        "%7Btitle%7D:band",
        "%ED%A0%80",
        "band%ED%A0%80",
        "%C3",
        "%E2%80%8B",
        "%EF%BB%BF",
        "%25",
        "+",
        long_word.as_str(),
        many_words.as_str(),
    ];
    for q in odd {
        for (method, key) in [
            ("search3", "query"),
            ("search2", "query"),
            ("search", "any"),
        ] {
            let r = call_both(method, &format!("{ADMIN}&{key}={q}"));
            ok(&r);
        }
    }
    // Control characters separate words, so the words around them still find their song.
    let (_, _, songs) = search3(ADMIN, "query=zeta%00practice");
    assert_eq!(songs, ["Band Practice"]);
    // A huge query still finds what its first words name.
    let (artists, _, _) = search3(ADMIN, &format!("query={many_words}"));
    assert_eq!(artists, ["The Band"]);
}

#[test]
fn empty_query_lists_everything_paged() {
    let all = |q: &str| {
        search3(
            ADMIN,
            &format!("{q}songCount=500&albumCount=500&artistCount=500"),
        )
    };
    let everything = all("query=%22%22&");
    assert_eq!(sorted(everything.0.clone()), ["Björk", "The Band", "Zeta"]);
    assert_eq!(sorted(everything.1.clone()), ["Hits", "Homogenic", "Solo"]);
    assert_eq!(
        sorted(everything.2.clone()),
        ["Alone", "Band Practice", "Jóga", "One", "Two Words"]
    );
    // "", missing, and a lone star mean the same, in the same order.
    assert_eq!(all("query=&"), everything);
    assert_eq!(all(""), everything);
    assert_eq!(all("query=*&"), everything);

    // Symfonium's sync: songs only, page by page, adding up to the whole list.
    let mut paged = Vec::new();
    for offset in (0..6).step_by(2) {
        let (artists, albums, songs) = search3(
            ADMIN,
            &format!("query=%22%22&artistCount=0&albumCount=0&songCount=2&songOffset={offset}"),
        );
        assert!(artists.is_empty() && albums.is_empty());
        assert!(songs.len() <= 2);
        paged.extend(songs);
    }
    assert_eq!(paged, everything.2);
    let (artists, albums, songs) = search3(
        ADMIN,
        "query=%22%22&artistCount=1&artistOffset=2&albumCount=2&albumOffset=1&songCount=0",
    );
    assert_eq!(artists, everything.0[2..]);
    assert_eq!(albums, everything.1[1..]);
    assert!(songs.is_empty());

    // Default counts are 20; a valid folder id changes nothing.
    let r = call_both("getMusicFolders", ADMIN);
    let folder = r["musicFolders"]["musicFolder"][0]["id"].as_i64().unwrap();
    assert_eq!(all(&format!("musicFolderId={folder}&")), everything);
}

#[test]
fn search3_errors() {
    assert_error(
        &call_both("search3", &format!("{ADMIN}&query=band&musicFolderId=999")),
        70,
    );
    assert_error(
        &call_both("search3", &format!("{ADMIN}&query=band&songCount=lots")),
        0,
    );
    assert_error(
        &call_both("search3", &format!("{ADMIN}&query=band&musicFolderId=x")),
        0,
    );
    assert_error(&call_both("search3", "u=admin&p=wrong&query=band"), 40);
}

#[test]
fn search2_folder_style_results() {
    let r = call_both("search2", &format!("{ADMIN}&query=band"));
    ok(&r);
    let s = &r["searchResult2"];
    let artist = &s["artist"][0];
    assert_eq!(artist["name"], "The Band");
    assert!(artist["id"].as_str().unwrap().starts_with("ar-"));
    assert!(artist.get("albumCount").is_none());
    let album = &s["album"][0];
    assert_eq!(album["isDir"], true);
    assert_eq!(album["title"], "Hits");
    assert_eq!(album["artist"], "The Band");
    assert_eq!(
        sorted(names(&s["song"], "title")),
        ["Band Practice", "One", "Two Words"]
    );
    let r = call_both(
        "search2",
        &format!("{ADMIN}&query=%22%22&songCount=1&songOffset=1&artistCount=0&albumCount=0"),
    );
    let s = &r["searchResult2"];
    assert_eq!(s["artist"], serde_json::json!([]));
    assert_eq!(s["album"], serde_json::json!([]));
    assert_eq!(s["song"].as_array().unwrap().len(), 1);
    assert_error(
        &call_both("search2", &format!("{ADMIN}&query=a&musicFolderId=999")),
        70,
    );
    assert_error(
        &call_both("search2", &format!("{ADMIN}&query=a&albumOffset=-")),
        0,
    );
}

#[test]
fn deprecated_search_fields_paging_and_newer_than() {
    let search = |params: &str| {
        let r = call_both("search", &format!("{ADMIN}&{params}"));
        ok(&r);
        r["searchResult"].clone()
    };
    let r = search("artist=zeta");
    assert_eq!(r["totalHits"], 2);
    assert_eq!(r["offset"], 0);
    assert_eq!(
        sorted(names(&r["match"], "title")),
        ["Alone", "Band Practice"]
    );
    let first = names(&r["match"], "title");
    let r = search("artist=zeta&count=1&offset=1");
    assert_eq!(r["totalHits"], 2);
    assert_eq!(r["offset"], 1);
    assert_eq!(names(&r["match"], "title"), first[1..]);
    // Fields combine; `title` is only the title.
    let r = search("artist=zeta&title=band");
    assert_eq!(names(&r["match"], "title"), ["Band Practice"]);
    let r = search("title=band");
    assert_eq!(names(&r["match"], "title"), ["Band Practice"]);
    let r = search("album=homogenic");
    assert_eq!(names(&r["match"], "title"), ["Jóga"]);
    let r = search("any=homogenic");
    assert_eq!(names(&r["match"], "title"), ["Jóga"]);
    // Nothing but newerThan: everything added after that time.
    let r = search("newerThan=0");
    assert_eq!(r["totalHits"], 5);
    let r = search("any=band&newerThan=99999999999999");
    assert_eq!(r["totalHits"], 0);
    assert_eq!(r["match"], serde_json::json!([]));
    let r = search("");
    assert_eq!(r["totalHits"], 5);
    assert_eq!(r["match"].as_array().unwrap().len(), 5);
    assert_error(&call_both("search", &format!("{ADMIN}&any=a&count=x")), 0);
    assert_error(
        &call_both("search", &format!("{ADMIN}&any=a&newerThan=soon")),
        0,
    );
}

#[test]
fn results_carry_the_users_annotations() {
    let r = call_both("search3", &format!("{ADMIN}&query=alone"));
    let id = r["searchResult3"]["song"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = call_both(
        "search3",
        &format!("{ADMIN}&query=zeta&songCount=0&albumCount=0"),
    );
    let artist = r["searchResult3"]["artist"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&call_both(
        "star",
        &format!("{BOB}&id={id}&artistId={artist}"),
    ));
    ok(&call_both("setRating", &format!("{BOB}&id={id}&rating=4")));

    let r = call_both("search3", &format!("{BOB}&query=alone"));
    let song = &r["searchResult3"]["song"][0];
    assert!(song["starred"].is_string(), "{song}");
    assert_eq!(song["userRating"], 4);
    assert_eq!(song["playCount"], 0);
    let r = call_both("search3", &format!("{BOB}&query=zeta"));
    assert!(r["searchResult3"]["artist"][0]["starred"].is_string());
    let r = call_both("search2", &format!("{BOB}&query=zeta"));
    assert!(r["searchResult2"]["artist"][0]["starred"].is_string());
    let r = call_both("search", &format!("{BOB}&title=alone"));
    assert_eq!(r["searchResult"]["match"][0]["userRating"], 4);
    // Annotations are per user.
    let r = call_both("search3", &format!("{ADMIN}&query=alone"));
    let song = &r["searchResult3"]["song"][0];
    assert!(song.get("starred").is_none());
    assert!(song.get("userRating").is_none());
}

/// Music-folder filters on the library queries, with two folders.
#[test]
fn two_music_folders_filter_lists_and_search() {
    use mediastreamer::config::{self, CliOverrides};
    use mediastreamer::library::access::{self, AccessError, Scope};
    use mediastreamer::library::lists::{self, AlbumOrder, AlbumQuery, SongFilter};
    use mediastreamer::library::search::{self, Page};
    use mediastreamer::scanner::{ScanOptions, ScanProgress, run_scan};
    use std::sync::atomic::AtomicBool;

    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let spec = |title: &str, artist: &str, album: &str, genre: &str| TrackSpec {
        genres: vec![genre.into()],
        ..song(title, artist, album, artist, 1)
    };
    put(
        &a,
        "x/1.mp3",
        Format::Mp3,
        spec("Red Song", "Ann", "Red", "Rock"),
    );
    put(
        &a,
        "y/1.mp3",
        Format::Mp3,
        spec("Blue Song", "Ann", "Blue", "Jazz"),
    );
    put(
        &b,
        "z/1.mp3",
        Format::Mp3,
        spec("Green Song", "Bob", "Green", "Rock"),
    );
    let cli = CliOverrides {
        address: Some("127.0.0.1:0".into()),
        folders: vec![a.clone(), b.clone()],
        database: Some(dir.path().join("catalog.db")),
    };
    let env = vec![
        ("MEDIASTREAMER_SCAN__SCHEDULE".to_string(), String::new()),
        ("MEDIASTREAMER_SCAN__WATCH".to_string(), "false".to_string()),
    ];
    let config = config::load(None, &env, &cli).unwrap();
    mediastreamer::db::open_and_migrate(&config.database.path).unwrap();
    run_scan(
        &config,
        &ScanOptions::default(),
        &ScanProgress::default(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let mut c = mediastreamer::db::connect(&config.database.path).unwrap();
    let folders: HashMap<String, i32> = mediastreamer::library::music_folders(&mut c)
        .unwrap()
        .into_iter()
        .map(|(id, name)| (name, id))
        .collect();
    let (fa, fb) = (folders["a"], folders["b"]);
    let key = mediastreamer::users::PasswordKey::load_or_create(&config.database.path).unwrap();
    let admin = mediastreamer::users::add(&mut c, &key, "admin", "pw", true).unwrap();
    assert_eq!(
        access::request_scope(&mut c, &admin, Some(fa)).unwrap(),
        Scope::Only(vec![fa])
    );
    assert!(matches!(
        access::request_scope(&mut c, &admin, Some(999)),
        Err(AccessError::NoSuchFolder)
    ));
    assert_eq!(
        access::request_scope(&mut c, &admin, None).unwrap(),
        Scope::All
    );
    let (only_a, only_b) = (Scope::Only(vec![fa]), Scope::Only(vec![fb]));

    let album_names = |c: &mut diesel::SqliteConnection, ids: Vec<i32>| -> Vec<String> {
        mediastreamer::library::album_views(c, &ids)
            .unwrap()
            .into_iter()
            .map(|v| v.album.name)
            .collect()
    };
    let track_titles = |c: &mut diesel::SqliteConnection, ids: Vec<i32>| -> Vec<String> {
        sorted(
            mediastreamer::library::tracks_by_id(c, &ids)
                .unwrap()
                .into_iter()
                .map(|v| v.track.tags.title)
                .collect(),
        )
    };
    let by_name = |scope: &Scope| AlbumQuery {
        order: AlbumOrder::ByName,
        user_id: 1,
        scope: scope.clone(),
        limit: 10,
        offset: 0,
    };
    let ids = lists::album_ids(&mut c, &by_name(&Scope::All)).unwrap();
    assert_eq!(album_names(&mut c, ids), ["Blue", "Green", "Red"]);
    let ids = lists::album_ids(&mut c, &by_name(&only_a)).unwrap();
    assert_eq!(album_names(&mut c, ids), ["Blue", "Red"]);
    let ids = lists::album_ids(&mut c, &by_name(&only_b)).unwrap();
    assert_eq!(album_names(&mut c, ids), ["Green"]);

    let filter = SongFilter {
        genre: None,
        from_year: None,
        to_year: None,
        scope: only_b.clone(),
    };
    let ids = lists::random_track_ids(&mut c, &filter, 10).unwrap();
    assert_eq!(track_titles(&mut c, ids), ["Green Song"]);
    let ids = lists::track_ids_by_genre(&mut c, "rock", &only_a, 10, 0).unwrap();
    assert_eq!(track_titles(&mut c, ids), ["Red Song"]);
    let ids = lists::track_ids_by_genre(&mut c, "rock", &Scope::All, 10, 0).unwrap();
    assert_eq!(track_titles(&mut c, ids), ["Green Song", "Red Song"]);

    let page = Page {
        limit: 10,
        offset: 0,
    };
    // Folder-restricted searches of albums and artists filter ranked matches with the
    // visible ids cached for the scope.
    let cache = mediastreamer::library::cache::CatalogCache::default();
    let words = search::query_words("song");
    let ids = search::track_ids(&mut c, &words, &only_a, page).unwrap();
    assert_eq!(track_titles(&mut c, ids), ["Blue Song", "Red Song"]);
    let ids = search::track_ids(&mut c, &[], &only_b, page).unwrap();
    assert_eq!(track_titles(&mut c, ids), ["Green Song"]);
    let ids = search::track_ids(&mut c, &[], &Scope::All, page).unwrap();
    assert_eq!(ids.len(), 3);
    let ids =
        search::album_ids(&mut c, &cache, &search::query_words("ann"), &only_a, page).unwrap();
    assert_eq!(sorted(album_names(&mut c, ids)), ["Blue", "Red"]);
    let ids = search::album_ids(&mut c, &cache, &[], &only_b, page).unwrap();
    assert_eq!(album_names(&mut c, ids), ["Green"]);
    let ids =
        search::album_ids(&mut c, &cache, &search::query_words("ann"), &only_b, page).unwrap();
    assert!(ids.is_empty());
    let ids =
        search::album_ids(&mut c, &cache, &search::query_words("bob"), &only_b, page).unwrap();
    assert_eq!(album_names(&mut c, ids), ["Green"]);
    let ids = search::album_ids(
        &mut c,
        &cache,
        &search::query_words("ann"),
        &only_a,
        Page {
            limit: 1,
            offset: 1,
        },
    )
    .unwrap();
    assert_eq!(ids.len(), 1, "the second of two");
    let artist_names = |c: &mut diesel::SqliteConnection, ids: Vec<i32>| -> Vec<String> {
        mediastreamer::library::artist_views(c, &ids)
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect()
    };
    let ids = search::artist_ids(&mut c, &cache, &[], &only_b, page).unwrap();
    assert_eq!(artist_names(&mut c, ids), ["Bob"]);
    let ids = search::artist_ids(&mut c, &cache, &[], &Scope::All, page).unwrap();
    assert_eq!(sorted(artist_names(&mut c, ids)), ["Ann", "Bob"]);
    let ids =
        search::artist_ids(&mut c, &cache, &search::query_words("an"), &only_b, page).unwrap();
    assert!(ids.is_empty());
    let ids =
        search::artist_ids(&mut c, &cache, &search::query_words("an"), &only_a, page).unwrap();
    assert_eq!(artist_names(&mut c, ids), ["Ann"]);
    let ids =
        search::artist_ids(&mut c, &cache, &search::query_words("bob"), &only_a, page).unwrap();
    assert!(ids.is_empty());
    let ids = search::artist_ids(&mut c, &cache, &[], &only_a, page).unwrap();
    let views = mediastreamer::library::artist_views(&mut c, &ids).unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!((views[0].name.as_str(), views[0].album_count), ("Ann", 2));
}
