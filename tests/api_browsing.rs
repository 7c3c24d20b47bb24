//! Folder browsing (getIndexes, getMusicDirectory), artist/album info, similar and top songs,
//! and the video endpoints, over real HTTP in XML (XSD-validated) and JSON, on a small library
//! with several artists and genres, an album split into Disc 1/Disc 2 folders, an image-only
//! folder and a track at the music folder's root.

mod common;

use common::api::*;
use mediastreamer::synth::{Format, TrackSpec};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const FIRST_ALBUM_MBID: &str = "4f3c5b0e-1234-4bcd-9abc-000000000001";

fn track(title: &str, artist: &str, album: &str, n: u32, year: i32, genres: &[&str]) -> TrackSpec {
    TrackSpec {
        title: title.into(),
        artist: artist.into(),
        album: album.into(),
        album_artist: Some(artist.into()),
        track: Some((n, None)),
        year: Some(year),
        genres: genres.iter().map(|g| g.to_string()).collect(),
        ..Default::default()
    }
}

/// The music folder of the shared server (the catalog lies beside it).
static MUSIC: OnceLock<PathBuf> = OnceLock::new();

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start_server(8, |music| {
            MUSIC.set(music.to_path_buf()).unwrap();
            let first = |title: &str, disc: u32, n: u32| TrackSpec {
                disc: Some((disc, Some(2))),
                mb_release_id: Some(FIRST_ALBUM_MBID.into()),
                ..track(title, "Alpha", "First Album", n, 2001, &["Rock"])
            };
            put(
                music,
                "Alpha/First Album/Disc 1/01.mp3",
                Format::Mp3,
                first("Opening", 1, 1),
            );
            put(
                music,
                "Alpha/First Album/Disc 1/02.mp3",
                Format::Mp3,
                first("Middle", 1, 2),
            );
            put(
                music,
                "Alpha/First Album/Disc 2/01.flac",
                Format::Flac,
                first("Closing", 2, 1),
            );
            let templates =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/cover.jpg");
            std::fs::copy(&templates, music.join("Alpha/First Album/cover.jpg")).unwrap();
            std::fs::create_dir_all(music.join("Alpha/Artwork")).unwrap();
            std::fs::copy(&templates, music.join("Alpha/Artwork/scan.jpg")).unwrap();
            put(
                music,
                "Alpha/Later/01.ogg",
                Format::Ogg,
                track("Encore", "Alpha", "Later", 1, 2010, &["Rock"]),
            );
            put(
                music,
                "loose.mp3",
                Format::Mp3,
                track("Loose Track", "Alpha", "Loose Ends", 1, 2005, &["Rock"]),
            );
            put(
                music,
                "Beta/Second/01.mp3",
                Format::Mp3,
                track("Beta Song", "Beta", "Second", 1, 2003, &["Rock", "Pop"]),
            );
            put(
                music,
                "Gamma/Third/01.mp3",
                Format::Mp3,
                track("Jazz Thing", "Gamma", "Third", 1, 1960, &["Jazz"]),
            );
            put(
                music,
                "The Delta/Fourth/01.mp3",
                Format::Mp3,
                track("Pop Thing", "The Delta", "Fourth", 1, 2020, &["Pop"]),
            );
        })
    })
}

fn call_both(method: &str, query: &str) -> serde_json::Value {
    server().call_both(method, query)
}

fn ok(r: serde_json::Value) -> serde_json::Value {
    assert_eq!(r["status"], "ok", "{r}");
    r
}

fn arr(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

fn titles(songs: &serde_json::Value) -> Vec<String> {
    arr(songs)
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_string())
        .collect()
}

fn names(list: &serde_json::Value) -> Vec<String> {
    arr(list)
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

/// The getIndexes `artist` (a top-level folder) named `name`: its id.
fn folder_id(name: &str) -> String {
    let r = ok(call_both("getIndexes", ADMIN));
    arr(&r["indexes"]["index"])
        .iter()
        .flat_map(|i| arr(&i["artist"]).iter())
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no folder {name}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The id of the child named `title` in directory `id`.
fn child_id(dir: &str, title: &str) -> String {
    let r = ok(call_both("getMusicDirectory", &format!("{ADMIN}&id={dir}")));
    arr(&r["directory"]["child"])
        .iter()
        .find(|c| c["title"] == title)
        .unwrap_or_else(|| panic!("no {title} in {dir}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The tag-mode id of the album artist `name`.
fn artist_id(name: &str) -> String {
    let r = ok(call_both("getArtists", ADMIN));
    arr(&r["artists"]["index"])
        .iter()
        .flat_map(|i| arr(&i["artist"]).iter())
        .find(|a| a["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn song_of_top(artist: &str, title: &str) -> serde_json::Value {
    let r = ok(call_both(
        "getTopSongs",
        &format!("{ADMIN}&artist={artist}"),
    ));
    arr(&r["topSongs"]["song"])
        .iter()
        .find(|s| s["title"] == title)
        .unwrap()
        .clone()
}

#[test]
fn indexes_list_top_level_folders_and_root_files() {
    let r = ok(call_both("getIndexes", ADMIN));
    let indexes = &r["indexes"];
    assert_eq!(indexes["ignoredArticles"], "The El La Los Las Le Les");
    let last_modified = indexes["lastModified"].as_i64().unwrap();
    assert!(last_modified > 0);
    let index = arr(&indexes["index"]);
    let letters: Vec<&str> = index.iter().map(|i| i["name"].as_str().unwrap()).collect();
    // "The Delta" is indexed under D.
    assert_eq!(letters, ["A", "B", "D", "G"]);
    let folders: Vec<String> = index.iter().flat_map(|i| names(&i["artist"])).collect();
    assert_eq!(folders, ["Alpha", "Beta", "The Delta", "Gamma"]);
    assert!(
        index
            .iter()
            .flat_map(|i| arr(&i["artist"]).iter())
            .all(|a| a["id"].as_str().unwrap().starts_with("dir-"))
    );
    assert_eq!(titles(&indexes["child"]), ["Loose Track"]);
    assert_eq!(indexes["child"][0]["isDir"], false);
    assert!(indexes.get("shortcut").is_none());

    // Unchanged since the client's copy: no index, still the two attributes.
    let r = ok(call_both(
        "getIndexes",
        &format!("{ADMIN}&ifModifiedSince={last_modified}"),
    ));
    assert_eq!(r["indexes"]["lastModified"], last_modified);
    assert_eq!(r["indexes"]["ignoredArticles"], "The El La Los Las Le Les");
    assert!(r["indexes"].get("index").is_none());
    let r = ok(call_both(
        "getIndexes",
        &format!("{ADMIN}&ifModifiedSince={}", last_modified - 1),
    ));
    assert_eq!(arr(&r["indexes"]["index"]).len(), 4);

    // Filtered by music folder.
    let folders = ok(call_both("getMusicFolders", ADMIN));
    let folder = folders["musicFolders"]["musicFolder"][0]["id"]
        .as_i64()
        .unwrap();
    let r = ok(call_both(
        "getIndexes",
        &format!("{ADMIN}&musicFolderId={folder}"),
    ));
    assert_eq!(arr(&r["indexes"]["index"]).len(), 4);
    assert_error(
        &call_both("getIndexes", &format!("{ADMIN}&musicFolderId=999")),
        70,
    );
    assert_error(
        &call_both("getIndexes", &format!("{ADMIN}&musicFolderId=abc")),
        0,
    );
    assert_error(&call_both("getIndexes", "u=admin&p=wrong"), 40);
}

#[test]
fn music_directories_follow_the_real_folder_tree() {
    let alpha = folder_id("Alpha");
    let r = ok(call_both(
        "getMusicDirectory",
        &format!("{ADMIN}&id={alpha}"),
    ));
    let dir = &r["directory"];
    assert_eq!(dir["id"], alpha.as_str());
    assert_eq!(dir["name"], "Alpha");
    let root = dir["parent"].as_str().unwrap().to_string();
    let children = arr(&dir["child"]);
    // Sub-folders holding audio only: not the image-only Artwork folder.
    assert_eq!(titles(&dir["child"]), ["First Album", "Later"]);
    assert!(children.iter().all(|c| c["isDir"] == true));
    assert!(children.iter().all(|c| c["parent"] == alpha.as_str()));
    let first = &children[0];
    let first_id = first["id"].as_str().unwrap().to_string();
    // The folder has cover.jpg: its id with the image's version.
    assert!(
        first["coverArt"]
            .as_str()
            .is_some_and(|c| c.starts_with(&format!("{first_id}-"))),
        "{first}"
    );
    assert!(children[1].get("coverArt").is_none());

    let r = ok(call_both(
        "getMusicDirectory",
        &format!("{ADMIN}&id={first_id}"),
    ));
    assert_eq!(r["directory"]["parent"], alpha.as_str());
    assert_eq!(titles(&r["directory"]["child"]), ["Disc 1", "Disc 2"]);
    let disc1 = child_id(&first_id, "Disc 1");
    let r = ok(call_both(
        "getMusicDirectory",
        &format!("{ADMIN}&id={disc1}"),
    ));
    let songs = &r["directory"]["child"];
    assert_eq!(titles(songs), ["Opening", "Middle"]);
    assert_eq!(songs[0]["isDir"], false);
    assert_eq!(songs[0]["parent"], disc1.as_str());
    assert_eq!(songs[0]["discNumber"], 1);
    assert!(songs[0]["id"].as_str().unwrap().starts_with("tr-"));
    let disc2 = child_id(&first_id, "Disc 2");
    let r = ok(call_both(
        "getMusicDirectory",
        &format!("{ADMIN}&id={disc2}"),
    ));
    assert_eq!(titles(&r["directory"]["child"]), ["Closing"]);

    // The music folder's root: its name, no parent, folders first, then the loose file.
    let r = ok(call_both(
        "getMusicDirectory",
        &format!("{ADMIN}&id={root}"),
    ));
    let dir = &r["directory"];
    assert_eq!(dir["name"], "music");
    assert!(dir.get("parent").is_none());
    assert_eq!(
        titles(&dir["child"]),
        ["Alpha", "Beta", "Gamma", "The Delta", "Loose Track"]
    );

    assert_error(
        &call_both("getMusicDirectory", &format!("{ADMIN}&id=dir-99999")),
        70,
    );
    assert_error(
        &call_both("getMusicDirectory", &format!("{ADMIN}&id=garbage")),
        70,
    );
    // A song id is not a directory (album and artist ids are: see below).
    assert_error(
        &call_both("getMusicDirectory", &format!("{ADMIN}&id=tr-1")),
        70,
    );
    assert_error(&call_both("getMusicDirectory", ADMIN), 10);
}

#[test]
fn artist_info_lists_artists_sharing_genres() {
    let alpha = artist_id("Alpha");
    let beta = artist_id("Beta");
    let r = ok(call_both("getArtistInfo2", &format!("{ADMIN}&id={alpha}")));
    let info = &r["artistInfo2"];
    // Beta shares Rock; Gamma (Jazz) and The Delta (Pop) share nothing with Alpha.
    assert_eq!(names(&info["similarArtist"]), ["Beta"]);
    assert_eq!(info["similarArtist"][0]["id"], beta.as_str());
    assert_eq!(info["similarArtist"][0]["albumCount"], 1);
    for absent in ["biography", "musicBrainzId", "lastFmUrl"] {
        assert!(info.get(absent).is_none(), "{absent}");
    }
    // Alpha's album has cover.jpg: image URLs of our own cover art (tests/api_artwork.rs).
    assert!(info["smallImageUrl"].as_str().unwrap().contains("/img/ar-"));

    // Beta shares Rock with Alpha (two albums) and Pop with The Delta (one).
    let r = ok(call_both("getArtistInfo2", &format!("{ADMIN}&id={beta}")));
    assert_eq!(
        names(&r["artistInfo2"]["similarArtist"]),
        ["Alpha", "The Delta"]
    );
    let r = ok(call_both(
        "getArtistInfo2",
        &format!("{ADMIN}&id={beta}&count=1"),
    ));
    assert_eq!(names(&r["artistInfo2"]["similarArtist"]), ["Alpha"]);

    // getArtistInfo: plain Artist entries; tag ids for a tag id, folders for a folder id.
    let r = ok(call_both("getArtistInfo", &format!("{ADMIN}&id={beta}")));
    let similar = &r["artistInfo"]["similarArtist"];
    assert_eq!(names(similar), ["Alpha", "The Delta"]);
    assert_eq!(similar[0]["id"], alpha.as_str());
    assert!(similar[0].get("albumCount").is_none());
    let beta_folder = folder_id("Beta");
    let r = ok(call_both(
        "getArtistInfo",
        &format!("{ADMIN}&id={beta_folder}"),
    ));
    let similar = &r["artistInfo"]["similarArtist"];
    assert_eq!(names(similar), ["Alpha", "The Delta"]);
    assert_eq!(similar[0]["id"], folder_id("Alpha").as_str());
    assert_eq!(similar[1]["id"], folder_id("The Delta").as_str());
    // An album id stands for its album artist.
    let album =
        ok(call_both("getArtist", &format!("{ADMIN}&id={beta}")))["artist"]["album"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let r = ok(call_both("getArtistInfo", &format!("{ADMIN}&id={album}")));
    assert_eq!(
        names(&r["artistInfo"]["similarArtist"]),
        ["Alpha", "The Delta"]
    );

    assert_error(
        &call_both("getArtistInfo2", &format!("{ADMIN}&id=ar-99999")),
        70,
    );
    assert_error(
        &call_both("getArtistInfo2", &format!("{ADMIN}&id={album}")),
        70,
    );
    assert_error(
        &call_both("getArtistInfo", &format!("{ADMIN}&id=dir-99999")),
        70,
    );
    assert_error(&call_both("getArtistInfo", ADMIN), 10);
    assert_error(&call_both("getArtistInfo2", ADMIN), 10);
}

#[test]
fn album_info_carries_the_release_mbid() {
    let alpha = artist_id("Alpha");
    let albums = ok(call_both("getArtist", &format!("{ADMIN}&id={alpha}")));
    let first = arr(&albums["artist"]["album"])
        .iter()
        .find(|a| a["name"] == "First Album")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let later = arr(&albums["artist"]["album"])
        .iter()
        .find(|a| a["name"] == "Later")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ok(call_both("getAlbumInfo2", &format!("{ADMIN}&id={first}")));
    assert_eq!(r["albumInfo"]["musicBrainzId"], FIRST_ALBUM_MBID);
    // In XML the field is a child element, not an attribute.
    let xml = server().get(&format!("/rest/getAlbumInfo2.view?{ADMIN}&id={first}"));
    assert!(
        xml.body.contains(&format!(
            "<musicBrainzId>{FIRST_ALBUM_MBID}</musicBrainzId>"
        )),
        "{}",
        xml.body
    );
    // No MBID tagged: an empty albumInfo.
    let r = ok(call_both("getAlbumInfo2", &format!("{ADMIN}&id={later}")));
    assert!(r["albumInfo"].is_object());
    assert!(r["albumInfo"].get("musicBrainzId").is_none());

    // getAlbumInfo also takes a song or a folder and answers for its album.
    let song = song_of_top("Alpha", "Middle")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ok(call_both("getAlbumInfo", &format!("{ADMIN}&id={song}")));
    assert_eq!(r["albumInfo"]["musicBrainzId"], FIRST_ALBUM_MBID);
    let folder = child_id(&folder_id("Alpha"), "First Album");
    let r = ok(call_both("getAlbumInfo", &format!("{ADMIN}&id={folder}")));
    assert_eq!(r["albumInfo"]["musicBrainzId"], FIRST_ALBUM_MBID);

    assert_error(
        &call_both("getAlbumInfo2", &format!("{ADMIN}&id=al-99999")),
        70,
    );
    assert_error(
        &call_both("getAlbumInfo2", &format!("{ADMIN}&id={song}")),
        70,
    );
    assert_error(
        &call_both("getAlbumInfo", &format!("{ADMIN}&id=tr-99999")),
        70,
    );
    assert_error(&call_both("getAlbumInfo", ADMIN), 10);
}

#[test]
fn similar_songs_come_from_the_artist_and_artists_sharing_genres() {
    let alpha = artist_id("Alpha");
    let opening = song_of_top("Alpha", "Opening")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ok(call_both(
        "getSimilarSongs",
        &format!("{ADMIN}&id={opening}"),
    ));
    let mut got = titles(&r["similarSongs"]["song"]);
    got.sort();
    // Alpha's other tracks and Beta's (Rock); not the seed, not Jazz or Pop-only artists.
    assert_eq!(
        got,
        ["Beta Song", "Closing", "Encore", "Loose Track", "Middle"]
    );
    let r = ok(call_both(
        "getSimilarSongs",
        &format!("{ADMIN}&id={opening}&count=2"),
    ));
    let two = arr(&r["similarSongs"]["song"]);
    assert_eq!(two.len(), 2);
    // Both sources take part: one of Alpha's tracks, Beta's one track.
    assert!(two.iter().any(|s| s["title"] == "Beta Song"), "{two:?}");

    let r = ok(call_both(
        "getSimilarSongs2",
        &format!("{ADMIN}&id={alpha}"),
    ));
    assert_eq!(arr(&r["similarSongs2"]["song"]).len(), 6);
    // A folder stands for its main album artist (DSub's artist radio in folder mode).
    let gamma = folder_id("Gamma");
    let r = ok(call_both("getSimilarSongs", &format!("{ADMIN}&id={gamma}")));
    assert_eq!(titles(&r["similarSongs"]["song"]), ["Jazz Thing"]);

    assert_error(
        &call_both("getSimilarSongs", &format!("{ADMIN}&id=tr-99999")),
        70,
    );
    assert_error(
        &call_both("getSimilarSongs2", &format!("{ADMIN}&id={opening}")),
        70,
    );
    assert_error(&call_both("getSimilarSongs2", ADMIN), 10);
}

#[test]
fn top_songs_follow_play_counts_then_album_year_and_track() {
    let r = ok(call_both("getTopSongs", &format!("{ADMIN}&artist=alpha")));
    // No plays yet: by album year, disc and track.
    assert_eq!(
        titles(&r["topSongs"]["song"]),
        ["Opening", "Middle", "Closing", "Loose Track", "Encore"]
    );
    let r = ok(call_both(
        "getTopSongs",
        &format!("{ADMIN}&artist=Alpha&count=2"),
    ));
    assert_eq!(titles(&r["topSongs"]["song"]), ["Opening", "Middle"]);

    // Play counts of all users add up.
    let encore: i32 = song_of_top("Alpha", "Encore")["id"].as_str().unwrap()[3..]
        .parse()
        .unwrap();
    let closing: i32 = song_of_top("Alpha", "Closing")["id"].as_str().unwrap()[3..]
        .parse()
        .unwrap();
    {
        use diesel::prelude::*;
        let db = MUSIC.get().unwrap().parent().unwrap().join("catalog.db");
        let mut conn = mediastreamer::db::connect(&db).unwrap();
        for (user, track, plays) in [
            ("admin", encore, 2),
            ("bob", encore, 2),
            ("bob", closing, 3),
        ] {
            diesel::sql_query(
                "INSERT INTO annotations (user_id, item_type, item_id, play_count) \
                 SELECT id, 'track', ?, ? FROM users WHERE name = ?",
            )
            .bind::<diesel::sql_types::Integer, _>(track)
            .bind::<diesel::sql_types::BigInt, _>(plays)
            .bind::<diesel::sql_types::Text, _>(user)
            .execute(&mut conn)
            .unwrap();
        }
    }
    let r = ok(call_both("getTopSongs", &format!("{BOB}&artist=Alpha")));
    assert_eq!(
        titles(&r["topSongs"]["song"]),
        ["Encore", "Closing", "Opening", "Middle", "Loose Track"]
    );
    // Each song carries the caller's own play count.
    assert_eq!(r["topSongs"]["song"][0]["playCount"], 2);
    assert_eq!(r["topSongs"]["song"][1]["playCount"], 3);

    // An unknown artist has no top songs (not an error).
    let r = ok(call_both("getTopSongs", &format!("{ADMIN}&artist=Nobody")));
    assert_eq!(r["topSongs"]["song"], serde_json::json!([]));
    assert_error(&call_both("getTopSongs", ADMIN), 10);
}

#[test]
fn videos_are_an_empty_list() {
    let r = ok(call_both("getVideos", ADMIN));
    assert_eq!(r["videos"]["video"], serde_json::json!([]));
    assert_error(&call_both("getVideos", "u=admin&p=wrong"), 40);
    assert_error(&call_both("getVideoInfo", &format!("{ADMIN}&id=tr-1")), 70);
    assert_error(&call_both("getVideoInfo", ADMIN), 10);
}

#[test]
fn music_directory_opens_album_and_artist_entries_of_album_lists() {
    let list = server().call_both(
        "getAlbumList",
        &format!("{ADMIN}&type=alphabeticalByName&size=1"),
    );
    let entry = &list["albumList"]["album"][0];
    let album_id = entry["id"].as_str().unwrap().to_string();
    let r = server().call_both("getMusicDirectory", &format!("{ADMIN}&id={album_id}"));
    let dir = &r["directory"];
    assert_eq!(dir["id"], album_id.as_str());
    assert_eq!(dir["name"], entry["title"]);
    let songs = dir["child"].as_array().unwrap();
    assert!(!songs.is_empty() && songs.iter().all(|c| c["isDir"] == false));
    let artist_id = dir["parent"].as_str().unwrap().to_string();
    let r = server().call_both("getMusicDirectory", &format!("{ADMIN}&id={artist_id}"));
    let albums = r["directory"]["child"].as_array().unwrap();
    assert!(
        albums
            .iter()
            .any(|a| a["id"] == album_id.as_str() && a["isDir"] == true)
    );
    assert_error(
        &server().call_both("getMusicDirectory", &format!("{ADMIN}&id=al-99999")),
        70,
    );
}
