//! Lyrics over real HTTP: getLyricsBySongId (OpenSubsonic songLyrics) for plain lyrics (USLT,
//! LYRICS), synchronised ones from an LRC-formatted tag (offset, language, several time tags
//! per line) and from a sidecar .lrc file; getLyrics by artist and title, ignoring case;
//! nothing found; errors 10 and 70; in XML (XSD-checked) and JSON (OpenSubsonic schema).

mod common;

use common::api::*;
use mediastreamer::synth::{Format, TrackSpec};
use serde_json::{Value, json};
use std::sync::OnceLock;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start_server(5, |music| {
            let with = |title: &str, artist: &str, n: u32, lyrics: Option<&str>| TrackSpec {
                lyrics: lyrics.map(str::to_string),
                ..song(title, artist, "Words", artist, n)
            };
            put(
                music,
                "Singer/Words/01.mp3",
                Format::Mp3,
                with(
                    "Plain Song",
                    "Singer",
                    1,
                    Some("First line\r\nSecond line\r\n\r\nNext verse"),
                ),
            );
            put(
                music,
                "Singer/Words/02.flac",
                Format::Flac,
                with(
                    "Synced Song",
                    "Singer",
                    2,
                    Some(
                        "[ar:Singer Display]\n[la:eng]\n[offset:+300]\n[00:05.00]Late\n\
                         [00:01.00]Hello\n[00:02.50][00:07:25]Again",
                    ),
                ),
            );
            put(
                music,
                "Singer/Words/03.ogg",
                Format::Ogg,
                with("Sidecar Song", "Singer", 3, None),
            );
            std::fs::write(
                music.join("Singer/Words/03.lrc"),
                "[offset:-100]\n[00:03.00]From the side\n[00:04.5]file\n",
            )
            .unwrap();
            put(
                music,
                "Singer/Words/04.mp3",
                Format::Mp3,
                with("Silent Song", "Singer", 4, None),
            );
            put(
                music,
                "Singer/Words/05.m4a",
                Format::M4a,
                with("Ünïcode Tïtle", "Ärtist", 5, Some("Grüße")),
            );
        })
    })
}

fn call_both(method: &str, query: &str) -> Value {
    server().call_both(method, query)
}

fn song_id(title: &str) -> String {
    let r = call_both("search3", &format!("{ADMIN}&query=&songCount=50"));
    r["searchResult3"]["song"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == title)
        .unwrap_or_else(|| panic!("no song {title}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn lyrics_of(title: &str) -> Value {
    let r = call_both(
        "getLyricsBySongId",
        &format!("{ADMIN}&id={}", song_id(title)),
    );
    assert_eq!(r["status"], "ok", "{r}");
    r["lyricsList"]["structuredLyrics"].clone()
}

#[test]
fn plain_lyrics_are_unsynced_lines() {
    let list = lyrics_of("Plain Song");
    assert_eq!(
        list,
        json!([{
            "displayArtist": "Singer",
            "displayTitle": "Plain Song",
            "lang": "und",
            "offset": 0,
            "synced": false,
            "line": [
                {"value": "First line"},
                {"value": "Second line"},
                {"value": ""},
                {"value": "Next verse"}
            ]
        }])
    );
}

#[test]
fn synced_lyrics_from_a_tag_carry_starts_offset_and_language() {
    let list = lyrics_of("Synced Song");
    assert_eq!(
        list,
        json!([{
            "displayArtist": "Singer Display",
            "displayTitle": "Synced Song",
            "lang": "eng",
            "offset": 300,
            "synced": true,
            "line": [
                {"start": 1000, "value": "Hello"},
                {"start": 2500, "value": "Again"},
                {"start": 5000, "value": "Late"},
                {"start": 7250, "value": "Again"}
            ]
        }])
    );
    // The XML form: line elements with the text as content.
    let xml = server().get(&format!(
        "/rest/getLyricsBySongId?{ADMIN}&id={}",
        song_id("Synced Song")
    ));
    assert!(
        xml.body.contains("<line start=\"1000\">Hello</line>"),
        "{}",
        xml.body
    );
    assert!(xml.body.contains("synced=\"true\""));
}

#[test]
fn sidecar_lrc_files_are_synced_lyrics() {
    let list = lyrics_of("Sidecar Song");
    assert_eq!(list[0]["synced"], true);
    assert_eq!(list[0]["offset"], -100);
    assert_eq!(list[0]["lang"], "und");
    assert_eq!(
        list[0]["line"],
        json!([
            {"start": 3000, "value": "From the side"},
            {"start": 4500, "value": "file"}
        ])
    );
}

#[test]
fn a_song_without_lyrics_has_an_empty_list() {
    assert_eq!(lyrics_of("Silent Song"), json!([]));
}

#[test]
fn get_lyrics_by_song_id_errors() {
    assert_error(&call_both("getLyricsBySongId", ADMIN), 10);
    assert_error(
        &call_both("getLyricsBySongId", &format!("{ADMIN}&id=tr-99999")),
        70,
    );
    assert_error(
        &call_both("getLyricsBySongId", &format!("{ADMIN}&id=al-1")),
        70,
    );
    assert_error(
        &call_both("getLyricsBySongId", &format!("{ADMIN}&id=junk")),
        70,
    );
}

#[test]
fn get_lyrics_by_artist_and_title_ignoring_case() {
    let r = call_both(
        "getLyrics",
        &format!("{ADMIN}&artist=SINGER&title=plain%20song"),
    );
    assert_eq!(
        r["lyrics"],
        json!({
            "artist": "Singer",
            "title": "Plain Song",
            "value": "First line\nSecond line\n\nNext verse"
        })
    );
    // Synchronised-only lyrics lose their time tags.
    let r = call_both(
        "getLyrics",
        &format!("{ADMIN}&artist=singer&title=Synced%20Song"),
    );
    assert_eq!(r["lyrics"]["value"], "Hello\nAgain\nLate\nAgain");
    // Unicode case folding; the title alone is enough.
    let r = call_both(
        "getLyrics",
        &format!("{ADMIN}&artist=%C3%A4RTIST&title=%C3%BCN%C3%8FCODE%20T%C3%8FTLE"),
    );
    assert_eq!(r["lyrics"]["value"], "Grüße");
    let r = call_both("getLyrics", &format!("{ADMIN}&title=Sidecar%20Song"));
    assert_eq!(r["lyrics"]["value"], "From the side\nfile");
    let xml = server().get(&format!(
        "/rest/getLyrics?{ADMIN}&artist=Singer&title=Plain%20Song"
    ));
    assert!(
        xml.body
            .contains("<lyrics artist=\"Singer\" title=\"Plain Song\">First line\nSecond line"),
        "{}",
        xml.body
    );
}

#[test]
fn get_lyrics_not_found_and_errors() {
    // Nothing found: an empty lyrics element (not an error), as Subsonic answers.
    for query in [
        "artist=Nobody&title=Plain%20Song",
        "artist=Singer&title=No%20Such%20Song",
        "artist=Singer&title=Silent%20Song",
        "artist=Singer&title=%21%21%21",
        "artist=Singer",
    ] {
        let r = call_both("getLyrics", &format!("{ADMIN}&{query}"));
        assert_eq!(r["status"], "ok");
        assert_eq!(r["lyrics"], json!({"value": ""}), "{query}");
    }
    assert_error(&call_both("getLyrics", ADMIN), 10);
}

#[test]
fn song_lyrics_is_advertised() {
    let r = server().get("/rest/getOpenSubsonicExtensions?f=json");
    let list = r.json()["openSubsonicExtensions"].clone();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "songLyrics")
        .cloned();
    assert_eq!(entry, Some(json!({"name": "songLyrics", "versions": [1]})));
}

#[test]
fn lyrics_over_the_configured_size_are_ignored() {
    // 2,000 lines of 40 bytes (80 KB) against a 64 KiB limit, beside a small sidecar.
    let big: String = (0..2_000)
        .map(|i| format!("[{:02}:{:02}.00]{:<30}\n", i / 60, i % 60, "la la la"))
        .collect();
    assert!(big.len() > 64 * 1024);
    let server = start_server_configured(&["music"], "[limits]\nlyrics_kb = 64\n", 2, |f| {
        let music = &f[0];
        for (n, title) in [(1, "Huge"), (2, "Small")] {
            put(
                music,
                &format!("S/W/0{n}.ogg"),
                Format::Ogg,
                song(title, "S", "W", "S", n),
            );
        }
        std::fs::write(music.join("S/W/01.lrc"), &big).unwrap();
        std::fs::write(music.join("S/W/02.lrc"), "[00:01.00]Fine\n").unwrap();
    });
    let lyrics = |title: &str| {
        let r = server.get(&format!("/rest/search3?{ADMIN}&query={title}&f=json"));
        let id = r.json()["searchResult3"]["song"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        server.call_both("getLyricsBySongId", &format!("{ADMIN}&id={id}"))
    };
    let small = lyrics("Small");
    assert_eq!(
        small["lyricsList"]["structuredLyrics"][0]["line"][0]["value"],
        "Fine"
    );
    let huge = lyrics("Huge");
    assert_eq!(huge["status"], "ok");
    assert_eq!(huge["lyricsList"]["structuredLyrics"], json!([]), "{huge}");
    let by_title = server.call_both("getLyrics", &format!("{ADMIN}&artist=S&title=Huge"));
    assert_eq!(by_title["lyrics"], json!({"value": ""}));
}
