//! Per-user music-folder access over real HTTP, with two music folders ("Pop" and "Jazz"):
//! `carol` may see Pop only and gets nothing of Jazz through any browse, list, search, star
//! or info endpoint — not even through search3's empty query or getRandomSongs — while
//! albums and artists spanning both folders show only their Pop part. `bob` (every folder)
//! sees everything. XML (XSD-validated) and JSON each time.
//!
//! Library: Pop/Ann/Red (2 songs, Rock), Pop/Cara/Shared/01 (Rock); Jazz/Bob/Blue (Jazz),
//! Jazz/Cara/Shared/02 (Jazz; same album as Pop's "Shared"), Jazz/Ann/Green (Jazz).

mod common;

use common::api::*;
use mediastreamer::synth::{Format, TrackSpec};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

const CAROL: &str = "u=carol&p=carolpw";
const NOBODY: &str = "u=nora&p=norapw";

struct Fixture {
    server: Server,
    pop: i64,
    jazz: i64,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let server = start_server_with_folders(&["Pop", "Jazz"], 6, |dirs| {
            let t = |title: &str, artist: &str, album: &str, n: u32, genre: &str| TrackSpec {
                genres: vec![genre.into()],
                ..song(title, artist, album, artist, n)
            };
            let (pop, jazz) = (&dirs[0], &dirs[1]);
            put(
                pop,
                "Ann/Red/01.mp3",
                Format::Mp3,
                t("Red One", "Ann", "Red", 1, "Rock"),
            );
            put(
                pop,
                "Ann/Red/02.mp3",
                Format::Mp3,
                t("Red Two", "Ann", "Red", 2, "Rock"),
            );
            put(
                pop,
                "Cara/Shared/01.mp3",
                Format::Mp3,
                t("Shared One", "Cara", "Shared", 1, "Rock"),
            );
            put(
                jazz,
                "Bob/Blue/01.mp3",
                Format::Mp3,
                TrackSpec {
                    lyrics: Some("Blue words".into()),
                    embedded_art: true,
                    ..t("Blue One", "Bob", "Blue", 1, "Jazz")
                },
            );
            put(
                jazz,
                "Cara/Shared/02.mp3",
                Format::Mp3,
                t("Shared Two", "Cara", "Shared", 2, "Jazz"),
            );
            put(
                jazz,
                "Ann/Green/01.mp3",
                Format::Mp3,
                t("Green One", "Ann", "Green", 1, "Jazz"),
            );
        });
        let json = |query: &str| server.get(&format!("{query}&f=json")).json();
        let folders = json(&format!("/rest/getMusicFolders?{ADMIN}"));
        let folder = |name: &str| {
            folders["musicFolders"]["musicFolder"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .unwrap()["id"]
                .as_i64()
                .unwrap()
        };
        let (pop, jazz) = (folder("Pop"), folder("Jazz"));
        // carol starts with every folder and stars things in both, then loses Jazz: her
        // stars of Jazz items must stop showing.
        let ok = |query: String| assert_eq!(json(&query)["status"], "ok", "{query}");
        ok(format!(
            "/rest/createUser?{ADMIN}&username=carol&password=carolpw\
             &downloadRole=true&coverArtRole=true"
        ));
        let ids = Ids::load(&server);
        ok(format!(
            "/rest/star?{CAROL}&id={}&id={}&albumId={}&artistId={}&albumId={}",
            ids.song("Blue One"),
            ids.song("Red One"),
            ids.album("Blue"),
            ids.artist("Bob"),
            ids.album("Shared"),
        ));
        ok(format!(
            "/rest/updateUser?{ADMIN}&username=carol&musicFolderId={pop}"
        ));
        // nora may see no folder at all.
        ok(format!(
            "/rest/createUser?{ADMIN}&username=nora&password=norapw&musicFolderId="
        ));
        // The admin is listening to a Jazz song.
        ok(format!(
            "/rest/scrobble?{ADMIN}&id={}&submission=false",
            ids.song("Blue One")
        ));
        Fixture { server, pop, jazz }
    })
}

fn server() -> &'static Server {
    &fixture().server
}

fn call_both(method: &str, query: &str) -> Value {
    server().call_both(method, query)
}

fn ok(r: Value) -> Value {
    assert_eq!(r["status"], "ok", "{r}");
    r
}

/// Ids of songs, albums and artists by name, as the admin sees them.
struct Ids {
    songs: Vec<Value>,
    albums: Vec<Value>,
    artists: Vec<Value>,
}

impl Ids {
    fn load(server: &Server) -> Ids {
        let r = server
            .get(&format!(
                "/rest/search3?{ADMIN}&query=&songCount=100&albumCount=100&artistCount=100&f=json"
            ))
            .json();
        let list = |k: &str| r["searchResult3"][k].as_array().unwrap().clone();
        Ids {
            songs: list("song"),
            albums: list("album"),
            artists: list("artist"),
        }
    }

    fn find(list: &[Value], key: &str, name: &str) -> String {
        list.iter()
            .find(|v| v[key] == name)
            .unwrap_or_else(|| panic!("no {name}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn song(&self, title: &str) -> String {
        Self::find(&self.songs, "title", title)
    }

    fn album(&self, name: &str) -> String {
        Self::find(&self.albums, "name", name)
    }

    fn artist(&self, name: &str) -> String {
        Self::find(&self.artists, "name", name)
    }
}

fn ids() -> &'static Ids {
    static IDS: OnceLock<Ids> = OnceLock::new();
    IDS.get_or_init(|| Ids::load(server()))
}

fn names(list: &Value, key: &str) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v[key].as_str().unwrap().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const POP_SONGS: &[&str] = &["Red One", "Red Two", "Shared One"];

#[test]
fn music_folders_and_get_user_show_only_the_allowed_folders() {
    let f = fixture();
    let r = ok(call_both("getMusicFolders", CAROL));
    assert_eq!(
        names(&r["musicFolders"]["musicFolder"], "name"),
        set(&["Pop"])
    );
    let r = ok(call_both("getMusicFolders", BOB));
    assert_eq!(
        names(&r["musicFolders"]["musicFolder"], "name"),
        set(&["Pop", "Jazz"])
    );
    let r = ok(call_both("getMusicFolders", NOBODY));
    assert_eq!(r["musicFolders"]["musicFolder"], serde_json::json!([]));
    let r = ok(call_both("getUser", &format!("{CAROL}&username=carol")));
    assert_eq!(r["user"]["folder"], serde_json::json!([f.pop]));
    let r = ok(call_both("getUser", &format!("{ADMIN}&username=bob")));
    let mut both = vec![f.pop, f.jazz];
    both.sort();
    assert_eq!(r["user"]["folder"], serde_json::json!(both));
}

#[test]
fn folder_browsing_stays_inside_the_allowed_folders() {
    let f = fixture();
    let top = |caller: &str, extra: &str| -> BTreeSet<String> {
        let r = ok(call_both("getIndexes", &format!("{caller}{extra}")));
        r["indexes"]["index"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| names(&i["artist"], "name"))
            .collect()
    };
    // Both folders have Ann and Cara folders; only Jazz has Bob.
    assert_eq!(top(BOB, ""), set(&["Ann", "Bob", "Cara"]));
    assert_eq!(top(CAROL, ""), set(&["Ann", "Cara"]));
    assert_eq!(
        top(CAROL, &format!("&musicFolderId={}", f.pop)),
        set(&["Ann", "Cara"])
    );
    // Asking for a forbidden folder is "not authorised"; an unknown one "not found".
    assert_error(
        &call_both("getIndexes", &format!("{CAROL}&musicFolderId={}", f.jazz)),
        50,
    );
    assert_error(
        &call_both("getIndexes", &format!("{CAROL}&musicFolderId=999")),
        70,
    );
    assert!(top(NOBODY, "").is_empty());

    // A Jazz directory id (from bob's view) is not found for carol.
    let r = ok(call_both(
        "getIndexes",
        &format!("{BOB}&musicFolderId={}", f.jazz),
    ));
    let bob_dir = r["indexes"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().clone())
        .find(|a| a["name"] == "Bob")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(call_both(
        "getMusicDirectory",
        &format!("{BOB}&id={bob_dir}"),
    ));
    assert_error(
        &call_both("getMusicDirectory", &format!("{CAROL}&id={bob_dir}")),
        70,
    );
    // Album and artist ids opened as directories follow the same rule.
    let ids = ids();
    assert_error(
        &call_both(
            "getMusicDirectory",
            &format!("{CAROL}&id={}", ids.album("Blue")),
        ),
        70,
    );
    let r = ok(call_both(
        "getMusicDirectory",
        &format!("{CAROL}&id={}", ids.album("Shared")),
    ));
    assert_eq!(
        names(&r["directory"]["child"], "title"),
        set(&["Shared One"])
    );
    let r = ok(call_both(
        "getMusicDirectory",
        &format!("{CAROL}&id={}", ids.artist("Ann")),
    ));
    assert_eq!(names(&r["directory"]["child"], "title"), set(&["Red"]));
}

#[test]
fn tag_browsing_shows_only_the_visible_part_of_artists_and_albums() {
    let ids = ids();
    let r = ok(call_both("getArtists", CAROL));
    let artists: Vec<Value> = r["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().clone())
        .collect();
    let listed: BTreeSet<String> = artists
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, set(&["Ann", "Cara"]));
    let ann = artists.iter().find(|a| a["name"] == "Ann").unwrap();
    assert_eq!(ann["albumCount"], 1, "Green lies in Jazz");
    let r = ok(call_both("getArtists", BOB));
    let count: usize = r["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["artist"].as_array().unwrap().len())
        .sum();
    assert_eq!(count, 3);

    // getArtist: Bob (Jazz only) is not found; Ann shows Red only.
    assert_error(
        &call_both("getArtist", &format!("{CAROL}&id={}", ids.artist("Bob"))),
        70,
    );
    let r = ok(call_both(
        "getArtist",
        &format!("{CAROL}&id={}", ids.artist("Ann")),
    ));
    assert_eq!(names(&r["artist"]["album"], "name"), set(&["Red"]));
    assert_eq!(r["artist"]["albumCount"], 1);

    // getAlbum: Blue is not found; Shared has one song for carol, two for bob.
    assert_error(
        &call_both("getAlbum", &format!("{CAROL}&id={}", ids.album("Blue"))),
        70,
    );
    let r = ok(call_both(
        "getAlbum",
        &format!("{CAROL}&id={}", ids.album("Shared")),
    ));
    assert_eq!(names(&r["album"]["song"], "title"), set(&["Shared One"]));
    assert_eq!(r["album"]["songCount"], 1);
    let r = ok(call_both(
        "getAlbum",
        &format!("{BOB}&id={}", ids.album("Shared")),
    ));
    assert_eq!(r["album"]["songCount"], 2);

    // getSong of a Jazz song: not found.
    assert_error(
        &call_both("getSong", &format!("{CAROL}&id={}", ids.song("Blue One"))),
        70,
    );
    ok(call_both(
        "getSong",
        &format!("{CAROL}&id={}", ids.song("Red One")),
    ));

    // getGenres counts what carol sees; Jazz has nothing she can see.
    let r = ok(call_both("getGenres", CAROL));
    let genres = r["genres"]["genre"].as_array().unwrap();
    assert_eq!(genres.len(), 1, "{r}");
    assert_eq!(genres[0]["value"], "Rock");
    assert_eq!(genres[0]["songCount"], 3);
    assert_eq!(genres[0]["albumCount"], 2);
    let r = ok(call_both("getGenres", BOB));
    assert_eq!(r["genres"]["genre"].as_array().unwrap().len(), 2);
}

#[test]
fn lists_never_draw_from_a_forbidden_folder() {
    let f = fixture();
    for kind in [
        "random",
        "alphabeticalByName",
        "alphabeticalByArtist",
        "newest",
    ] {
        let r = ok(call_both(
            "getAlbumList2",
            &format!("{CAROL}&type={kind}&size=50"),
        ));
        assert_eq!(
            names(&r["albumList2"]["album"], "name"),
            set(&["Red", "Shared"]),
            "{kind}"
        );
        let r = ok(call_both(
            "getAlbumList",
            &format!("{CAROL}&type={kind}&size=50"),
        ));
        assert_eq!(
            names(&r["albumList"]["album"], "title"),
            set(&["Red", "Shared"]),
            "{kind}"
        );
    }
    let shared = ok(call_both(
        "getAlbumList2",
        &format!("{CAROL}&type=alphabeticalByName&size=50"),
    ));
    let shared = shared["albumList2"]["album"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Shared")
        .unwrap()
        .clone();
    assert_eq!(shared["songCount"], 1);
    let r = ok(call_both(
        "getAlbumList2",
        &format!("{BOB}&type=random&size=50"),
    ));
    assert_eq!(r["albumList2"]["album"].as_array().unwrap().len(), 4);
    assert_error(
        &call_both(
            "getAlbumList2",
            &format!("{CAROL}&type=random&musicFolderId={}", f.jazz),
        ),
        50,
    );
    // Many random draws: never a Jazz song.
    for _ in 0..5 {
        let r = ok(call_both("getRandomSongs", &format!("{CAROL}&size=50")));
        assert_eq!(names(&r["randomSongs"]["song"], "title"), set(POP_SONGS));
    }
    let r = ok(call_both("getRandomSongs", &format!("{BOB}&size=50")));
    assert_eq!(r["randomSongs"]["song"].as_array().unwrap().len(), 6);
    assert_error(
        &call_both(
            "getRandomSongs",
            &format!("{CAROL}&musicFolderId={}", f.jazz),
        ),
        50,
    );
    let r = ok(call_both("getSongsByGenre", &format!("{CAROL}&genre=Jazz")));
    assert_eq!(r["songsByGenre"]["song"], serde_json::json!([]));
    let r = ok(call_both(
        "getSongsByGenre",
        &format!("{CAROL}&genre=Rock&count=50"),
    ));
    assert_eq!(names(&r["songsByGenre"]["song"], "title"), set(POP_SONGS));
    let r = ok(call_both("getSongsByGenre", &format!("{BOB}&genre=Jazz")));
    assert_eq!(r["songsByGenre"]["song"].as_array().unwrap().len(), 3);
    let r = ok(call_both("getAlbumList2", &format!("{NOBODY}&type=random")));
    assert_eq!(r["albumList2"]["album"], serde_json::json!([]));
}

#[test]
fn search_finds_nothing_in_a_forbidden_folder() {
    let all = "&query=&songCount=100&albumCount=100&artistCount=100";
    let r = ok(call_both("search3", &format!("{CAROL}{all}")));
    let found = &r["searchResult3"];
    assert_eq!(names(&found["song"], "title"), set(POP_SONGS));
    assert_eq!(names(&found["album"], "name"), set(&["Red", "Shared"]));
    assert_eq!(names(&found["artist"], "name"), set(&["Ann", "Cara"]));
    let r = ok(call_both("search3", &format!("{BOB}{all}")));
    assert_eq!(r["searchResult3"]["song"].as_array().unwrap().len(), 6);
    // A word query: "one" matches one song per album; carol sees the Pop ones only.
    let r = ok(call_both("search3", &format!("{CAROL}&query=one")));
    assert_eq!(
        names(&r["searchResult3"]["song"], "title"),
        set(&["Red One", "Shared One"])
    );
    let r = ok(call_both("search3", &format!("{CAROL}&query=blue")));
    assert_eq!(r["searchResult3"]["song"], serde_json::json!([]));
    assert_eq!(r["searchResult3"]["album"], serde_json::json!([]));
    let r = ok(call_both("search3", &format!("{CAROL}&query=bob")));
    assert_eq!(r["searchResult3"]["artist"], serde_json::json!([]));
    let r = ok(call_both("search2", &format!("{CAROL}&query=one")));
    assert_eq!(
        names(&r["searchResult2"]["song"], "title"),
        set(&["Red One", "Shared One"])
    );
    let r = ok(call_both("search", &format!("{CAROL}&any=one")));
    assert_eq!(r["searchResult"]["totalHits"], 2);
    assert_eq!(
        names(&r["searchResult"]["match"], "title"),
        set(&["Red One", "Shared One"])
    );
    let r = ok(call_both("search3", &format!("{NOBODY}{all}")));
    assert_eq!(r["searchResult3"]["song"], serde_json::json!([]));
    assert_error(
        &call_both(
            "search3",
            &format!("{CAROL}&query=&musicFolderId={}", fixture().jazz),
        ),
        50,
    );
}

#[test]
fn stars_now_playing_and_annotations_respect_access() {
    let ids = ids();
    // Carol starred Blue One, Red One, Blue, Bob and Shared before losing Jazz.
    let r = ok(call_both("getStarred2", CAROL));
    assert_eq!(names(&r["starred2"]["song"], "title"), set(&["Red One"]));
    assert_eq!(names(&r["starred2"]["album"], "name"), set(&["Shared"]));
    assert_eq!(r["starred2"]["artist"], serde_json::json!([]));
    let r = ok(call_both("getStarred", CAROL));
    assert_eq!(names(&r["starred"]["song"], "title"), set(&["Red One"]));
    assert_eq!(names(&r["starred"]["album"], "title"), set(&["Shared"]));
    // Forbidden items cannot be starred, rated or scrobbled; nothing changes.
    for (method, query) in [
        ("star", format!("id={}", ids.song("Green One"))),
        ("star", format!("albumId={}", ids.album("Green"))),
        ("setRating", format!("id={}&rating=5", ids.album("Blue"))),
        ("scrobble", format!("id={}", ids.song("Green One"))),
    ] {
        assert_error(&call_both(method, &format!("{CAROL}&{query}")), 70);
    }
    let r = ok(call_both("getStarred2", CAROL));
    assert_eq!(names(&r["starred2"]["song"], "title"), set(&["Red One"]));
    // The admin's "now playing" Jazz song is not shown to carol.
    let r = ok(call_both("getNowPlaying", BOB));
    assert_eq!(
        names(&r["nowPlaying"]["entry"], "title"),
        set(&["Blue One"])
    );
    let r = ok(call_both("getNowPlaying", CAROL));
    assert_eq!(r["nowPlaying"]["entry"], serde_json::json!([]));
}

#[test]
fn info_similar_and_top_songs_stay_inside_the_allowed_folders() {
    let ids = ids();
    let (ann, bob) = (ids.artist("Ann"), ids.artist("Bob"));
    // Bob shares Jazz with Ann's Green album: similar for bob, invisible for carol.
    let r = ok(call_both("getArtistInfo2", &format!("{BOB}&id={ann}")));
    assert!(names(&r["artistInfo2"]["similarArtist"], "name").contains("Bob"));
    let r = ok(call_both("getArtistInfo2", &format!("{CAROL}&id={ann}")));
    assert!(!names(&r["artistInfo2"]["similarArtist"], "name").contains("Bob"));
    let r = ok(call_both("getArtistInfo", &format!("{CAROL}&id={ann}")));
    assert!(!names(&r["artistInfo"]["similarArtist"], "name").contains("Bob"));
    for method in ["getArtistInfo", "getArtistInfo2", "getSimilarSongs2"] {
        assert_error(&call_both(method, &format!("{CAROL}&id={bob}")), 70);
    }
    for method in ["getAlbumInfo", "getAlbumInfo2"] {
        assert_error(
            &call_both(method, &format!("{CAROL}&id={}", ids.album("Blue"))),
            70,
        );
        ok(call_both(
            method,
            &format!("{CAROL}&id={}", ids.album("Red")),
        ));
    }
    assert_error(
        &call_both(
            "getSimilarSongs",
            &format!("{CAROL}&id={}", ids.song("Blue One")),
        ),
        70,
    );
    for method in ["getSimilarSongs", "getSimilarSongs2"] {
        let r = ok(call_both(method, &format!("{CAROL}&id={ann}&count=50")));
        let key = if method == "getSimilarSongs" {
            "similarSongs"
        } else {
            "similarSongs2"
        };
        let titles = names(&r[key]["song"], "title");
        assert!(titles.is_subset(&set(POP_SONGS)), "{method}: {titles:?}");
        assert!(titles.contains("Red One"));
        let r = ok(call_both(method, &format!("{BOB}&id={ann}&count=50")));
        assert!(names(&r[key]["song"], "title").contains("Green One"));
    }
    let r = ok(call_both("getTopSongs", &format!("{CAROL}&artist=Ann")));
    assert_eq!(
        names(&r["topSongs"]["song"], "title"),
        set(&["Red One", "Red Two"])
    );
    let r = ok(call_both("getTopSongs", &format!("{BOB}&artist=Ann")));
    assert_eq!(r["topSongs"]["song"].as_array().unwrap().len(), 3);
    let r = ok(call_both("getTopSongs", &format!("{CAROL}&artist=Bob")));
    assert_eq!(r["topSongs"]["song"], serde_json::json!([]));
}

#[test]
fn streams_downloads_cover_art_and_lyrics_of_a_forbidden_folder_are_not_found() {
    let ids = ids();
    let (blue, red) = (ids.song("Blue One"), ids.song("Red One"));
    for (method, id) in [
        ("stream", blue.clone()),
        ("download", blue.clone()),
        ("download", ids.album("Blue")),
        ("download", ids.artist("Bob")),
        ("getCoverArt", ids.album("Blue")),
        ("getCoverArt", blue.clone()),
    ] {
        let r = server().fetch(&format!("/rest/{method}?{CAROL}&id={id}&f=json"), &[]);
        assert_eq!(r.status, 200);
        assert_error(&r.json(), 70);
    }
    // The same song in Pop streams; bob may stream the Jazz one.
    let r = server().fetch(&format!("/rest/stream?{CAROL}&id={red}&format=raw"), &[]);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("audio/"));
    let r = server().fetch(&format!("/rest/stream?{BOB}&id={blue}&format=raw"), &[]);
    assert!(r.header("content-type").unwrap().starts_with("audio/"));
    assert_error(
        &call_both("getLyricsBySongId", &format!("{CAROL}&id={blue}")),
        70,
    );
    let r = ok(call_both("getLyricsBySongId", &format!("{BOB}&id={blue}")));
    assert_eq!(
        r["lyricsList"]["structuredLyrics"][0]["line"][0]["value"],
        "Blue words"
    );
    let r = ok(call_both("getLyrics", &format!("{BOB}&title=Blue%20One")));
    assert_eq!(r["lyrics"]["value"], "Blue words");
    let r = ok(call_both("getLyrics", &format!("{CAROL}&title=Blue%20One")));
    assert!(r["lyrics"].get("title").is_none(), "{r}");
    // Bob gets the embedded cover of the song and its album.
    for id in [blue.clone(), ids.album("Blue")] {
        let r = server().fetch(&format!("/rest/getCoverArt?{BOB}&id={id}"), &[]);
        assert!(
            r.header("content-type").unwrap().starts_with("image/"),
            "{id}"
        );
    }
}

#[test]
fn a_public_playlists_cover_comes_from_a_song_the_caller_may_see() {
    let ids = ids();
    // The admin's public playlist starts with a Jazz song (embedded art), then a Pop song
    // (no art).
    let made = ok(call_both(
        "createPlaylist",
        &format!(
            "{ADMIN}&name=Mixed%20{}&songId={}&songId={}",
            std::process::id(),
            ids.song("Blue One"),
            ids.song("Red One")
        ),
    ));
    let id = made["playlist"]["id"].as_str().unwrap().to_string();
    ok(call_both(
        "updatePlaylist",
        &format!("{ADMIN}&playlistId={id}&public=true"),
    ));
    // The playlist's cover id as bob's client sees it.
    let listed = ok(call_both("getPlaylist", &format!("{BOB}&id={id}")));
    let cover_id = listed["playlist"]["coverArt"].as_str().unwrap().to_string();
    assert!(cover_id.starts_with("pl-"), "{cover_id}");
    let cover = |who: &str| {
        server().fetch(
            &format!("/rest/getCoverArt?{who}&id={cover_id}&f=json"),
            &[],
        )
    };
    // bob sees both folders: the Jazz song's cover.
    let r = cover(BOB);
    assert!(
        r.header("content-type").unwrap().starts_with("image/"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // carol may read the playlist (public) but not Jazz: no Jazz art; her first song (Pop) has
    // none, so the playlist has no cover for her.
    let r = ok(call_both("getPlaylist", &format!("{CAROL}&id={id}")));
    assert_eq!(r["playlist"]["entry"].as_array().unwrap().len(), 1);
    let r = cover(CAROL);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json"),
        "{}",
        r.headers
    );
    assert_error(&r.json(), 70);
}
