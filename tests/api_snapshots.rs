//! Snapshot tests that pin the wire format of every response type, in XML and JSON, over a
//! small fixed library. Values that change from run to run (timestamps, the server version)
//! are replaced by placeholders; everything else — element and attribute names, their order,
//! types, lists that stay arrays, what is omitted — is compared with the committed snapshots
//! in tests/snapshots/. Review changes with `cargo insta review` (or by reading the .snap.new
//! files) and commit them when the change is meant.

mod common;

use common::api::*;
use mediastreamer::synth::{Format, TrackSpec};
use std::sync::OnceLock;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        // One tag reader, so the catalog's ids come out the same on every run.
        // SAFETY: set before any thread of this test binary reads the environment.
        unsafe { std::env::set_var("MEDIASTREAMER_SCAN__WORKERS", "1") };
        // Measured loudness would appear in replayGain whenever the analysis happened to be
        // done (tests/api_loudness.rs covers it); snapshots show the tags only.
        // SAFETY: as above.
        unsafe { std::env::set_var("MEDIASTREAMER_LOUDNESS__ENABLED", "false") };
        let server = start_server(4, |music| {
            let track = |title: &str, artist: &str, album: &str, n: u32| TrackSpec {
                title: title.into(),
                artist: artist.into(),
                album: album.into(),
                album_artist: Some(artist.into()),
                track: Some((n, Some(2))),
                disc: Some((1, Some(1))),
                year: Some(2001),
                genres: vec!["Rock".into(), "Live".into()],
                comment: Some("a comment".into()),
                ..Default::default()
            };
            put(
                music,
                "Alpha/First/01.mp3",
                Format::Mp3,
                TrackSpec {
                    composer: Some("Writer".into()),
                    label: Some("Alpha Records".into()),
                    mood: Some("Bright".into()),
                    ..track("Opening", "Alpha", "First", 1)
                },
            );
            put(
                music,
                "Alpha/First/02.flac",
                Format::Flac,
                track("Closing", "Alpha", "First", 2),
            );
            put(
                music,
                "Beta/Second/01.ogg",
                Format::Ogg,
                TrackSpec {
                    genres: vec!["Jazz".into()],
                    year: Some(1990),
                    lyrics: Some("[00:01.50]Blue line one\n[00:04.00]Blue line two".into()),
                    ..track("Blue", "Beta", "Second", 1)
                },
            );
            put(
                music,
                "Beta/Second/02.m4a",
                Format::M4a,
                TrackSpec {
                    genres: vec!["Jazz".into()],
                    year: Some(1991),
                    ..track("Green", "Beta", "Second", 2)
                },
            );
        });
        // Annotations, so starred/rating/play count attributes show.
        for call in [
            "star?id=tr-1&albumId=al-1&artistId=ar-1",
            "setRating?id=tr-1&rating=4",
            // Folder mode: the artist folder Alpha and its album folder First.
            "star?id=dir-2&id=dir-3",
            "setRating?id=dir-3&rating=3",
            "scrobble?id=tr-1&submission=true",
            "scrobble?id=tr-3&submission=false",
        ] {
            let r = server.get(&format!("/rest/{call}&{ADMIN}&f=json")).json();
            assert_eq!(r["status"], "ok", "{call}: {r}");
        }
        server
    })
}

/// Indents XML one element per line, so snapshot diffs are readable.
fn pretty_xml(body: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(body);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            event => writer.write_event(event).unwrap(),
        }
    }
    String::from_utf8(writer.into_inner()).unwrap()
}

/// Placeholders for what changes between runs.
const FILTERS: &[(&str, &str)] = &[
    (r#"serverVersion="[^"]*""#, r#"serverVersion="[version]""#),
    (
        r#""serverVersion": "[^"]*""#,
        r#""serverVersion": "[version]""#,
    ),
    (
        r#"\b(created|changed|starred|played|lastScan|expires|lastVisited)="[^"]*""#,
        r#"$1="[time]""#,
    ),
    (
        r#""(created|changed|starred|played|lastScan|expires|lastVisited)": "[^"]*""#,
        r#""$1": "[time]""#,
    ),
    (r#"lastModified="\d+""#, r#"lastModified="[ms]""#),
    (r#"\btime="\d+""#, r#"time="[ms]""#),
    (r#""time": \d+"#, r#""time": "[ms]""#),
    (r#"minutesAgo="\d+""#, r#"minutesAgo="[n]""#),
    (r#""minutesAgo": \d+"#, r#""minutesAgo": "[n]""#),
    (r#""lastModified": \d+"#, r#""lastModified": "[ms]""#),
];

/// Calls `method` in both formats (checking them as every API test does) and snapshots both.
fn snapshot(name: &str, method: &str, query: &str) {
    snapshot_with(name, method, query, &[]);
}

/// `snapshot` with more placeholders (pattern, replacement).
fn snapshot_with(name: &str, method: &str, query: &str, extra: &[(String, String)]) {
    let server = server();
    let json = server.call_both(method, query);
    let xml = server.get(&format!("/rest/{method}.view?{query}")).body;
    let text = format!(
        "{}\n{}",
        pretty_xml(&xml),
        serde_json::to_string_pretty(&json).unwrap()
    );
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in FILTERS {
        settings.add_filter(pattern, *replacement);
    }
    for (pattern, replacement) in extra {
        settings.add_filter(pattern, replacement.as_str());
    }
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn system_responses() {
    snapshot("ping", "ping", ADMIN);
    snapshot("license", "getLicense", ADMIN);
    snapshot("scan_status", "getScanStatus", ADMIN);
    snapshot("scan_info", "getScanInfo", ADMIN);
    snapshot("user", "getUser", &format!("{ADMIN}&username=bob"));
    snapshot("users", "getUsers", ADMIN);
    snapshot("error_missing_parameter", "getAlbum", ADMIN);
    snapshot("error_not_found", "getAlbum", &format!("{ADMIN}&id=al-999"));
    snapshot("error_wrong_credentials", "ping", "u=admin&p=wrong");
}

#[test]
fn browsing_responses() {
    snapshot("music_folders", "getMusicFolders", ADMIN);
    snapshot("genres", "getGenres", ADMIN);
    snapshot("artists", "getArtists", ADMIN);
    snapshot("artist", "getArtist", &format!("{ADMIN}&id=ar-1"));
    snapshot("album", "getAlbum", &format!("{ADMIN}&id=al-1"));
    snapshot("song", "getSong", &format!("{ADMIN}&id=tr-1"));
    snapshot("indexes", "getIndexes", ADMIN);
    snapshot(
        "directory",
        "getMusicDirectory",
        &format!("{ADMIN}&id=dir-2"),
    );
    snapshot("top_songs", "getTopSongs", &format!("{ADMIN}&artist=Alpha"));
    snapshot(
        "similar_songs2",
        "getSimilarSongs2",
        &format!("{ADMIN}&id=ar-2&count=1"),
    );
    snapshot("videos", "getVideos", ADMIN);
}

#[test]
fn list_and_search_responses() {
    snapshot(
        "album_list",
        "getAlbumList",
        &format!("{ADMIN}&type=alphabeticalByName"),
    );
    snapshot(
        "album_list_starred",
        "getAlbumList",
        &format!("{ADMIN}&type=starred"),
    );
    snapshot(
        "album_list2",
        "getAlbumList2",
        &format!("{ADMIN}&type=alphabeticalByName"),
    );
    snapshot(
        "random_songs",
        "getRandomSongs",
        &format!("{ADMIN}&fromYear=1990&toYear=1990&genre=Jazz&size=1&musicFolderId=1"),
    );
    snapshot(
        "songs_by_genre",
        "getSongsByGenre",
        &format!("{ADMIN}&genre=Jazz"),
    );
    snapshot("starred", "getStarred", ADMIN);
    snapshot("starred2", "getStarred2", ADMIN);
    snapshot("now_playing", "getNowPlaying", ADMIN);
    snapshot("search2", "search2", &format!("{ADMIN}&query=alpha"));
    snapshot("search3", "search3", &format!("{ADMIN}&query=blue"));
    snapshot("search", "search", &format!("{ADMIN}&any=green"));
}

#[test]
fn lyrics_responses() {
    snapshot(
        "lyrics",
        "getLyrics",
        &format!("{ADMIN}&artist=Beta&title=Blue"),
    );
    snapshot(
        "lyrics_by_song_id",
        "getLyricsBySongId",
        &format!("{ADMIN}&id=tr-3"),
    );
}

#[test]
fn people_responses() {
    let server = server();
    let token = people_made(server);
    snapshot("playlists", "getPlaylists", ADMIN);
    snapshot("playlist", "getPlaylist", &format!("{ADMIN}&id=pl-1"));
    snapshot("play_queue", "getPlayQueue", ADMIN);
    snapshot("play_queue_by_index", "getPlayQueueByIndex", ADMIN);
    snapshot("bookmarks", "getBookmarks", ADMIN);
    snapshot("radio_stations", "getInternetRadioStations", ADMIN);
    snapshot("chat_messages", "getChatMessages", ADMIN);
    snapshot("podcasts", "getPodcasts", ADMIN);
    snapshot("newest_podcasts", "getNewestPodcasts", ADMIN);
    snapshot("extensions", "getOpenSubsonicExtensions", "");
    // The share's token is random and its URL names the test server's port.
    let extra = [
        (regex_escape(token), "[token]".to_string()),
        (r"127\.0\.0\.1:\d+".to_string(), "[host]".to_string()),
    ];
    snapshot_with("shares", "getShares", ADMIN, &extra);
}

/// Playlists, a queue, a bookmark, a share, a station and a chat message, made once by admin;
/// returns the share's token.
fn people_made(server: &Server) -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        for call in [
            "createPlaylist?name=Mix&songId=tr-1&songId=tr-3",
            "updatePlaylist?playlistId=pl-1&comment=for%20the%20road&public=true",
            "savePlayQueue?id=tr-1&id=tr-2&current=tr-2&position=1500",
            "createBookmark?id=tr-4&position=2000&comment=here",
            "createInternetRadioStation?streamUrl=http://radio.example/stream&name=Example&homepageUrl=http://radio.example/",
            "addChatMessage?message=hello",
        ] {
            let r = server.get(&format!("/rest/{call}&{ADMIN}&f=json")).json();
            assert_eq!(r["status"], "ok", "{call}: {r}");
        }
        let r = server
            .get(&format!("/rest/createShare?id=al-2&description=album&{ADMIN}&f=json"))
            .json();
        assert_eq!(r["status"], "ok", "{r}");
        r["shares"]["share"][0]["id"].as_str().unwrap().to_string()
    })
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$-".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}
