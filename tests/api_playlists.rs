//! Playlists over real HTTP: getPlaylists, getPlaylist, createPlaylist, updatePlaylist,
//! deletePlaylist — golden path and errors in XML (XSD-validated) and JSON (schema-validated);
//! another user's private playlist is invisible and cannot be changed; an admin's `username`
//! view; an M3U file imported by the start-up scan; two clients editing one playlist at once;
//! the zip download of a playlist.
//!
//! Tests share one server; each works on playlists it creates (names unique per test).

mod common;

use common::api::*;
use diesel::prelude::*;
use mediastreamer::synth::Format;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

const CAROL: &str = "u=carol&p=carolpw";

struct Fixture {
    server: Server,
    db: PathBuf,
    /// Track ids by title.
    ids: HashMap<String, String>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut db = PathBuf::new();
        // No loudness measurement: it would store gains between two answers a test compares
        // byte for byte.
        let server = start_server_configured(&["music"], "[loudness]\nenabled = false\n", 6, |f| {
            let music = &f[0];
            db = music.parent().unwrap().join("catalog.db");
            for (rel, title, album, n) in [
                ("Alpha/First/01.mp3", "One", "First", 1),
                ("Alpha/First/02.mp3", "Two", "First", 2),
                ("Alpha/First/03.mp3", "Three", "First", 3),
                ("Beta/Second/01.flac", "Four", "Second", 1),
                ("Beta/Second/02.flac", "Five", "Second", 2),
                ("Beta/Second/03.flac", "Six", "Second", 3),
            ] {
                let format = if rel.ends_with("flac") {
                    Format::Flac
                } else {
                    Format::Mp3
                };
                let spec = mediastreamer::synth::TrackSpec {
                    // Only "Four" has a picture: the art of playlists that hold it.
                    embedded_art: title == "Four",
                    ..song(title, "Artist", album, "Artist", n)
                };
                put(music, rel, format, spec);
            }
            std::fs::write(
                music.join("Imported.m3u8"),
                "#EXTM3U\n#EXTINF:1,Artist - Four\nBeta/Second/01.flac\n\
                 #EXTINF:1,Artist - One\nAlpha\\First\\01.mp3\nGone/missing.mp3\n",
            )
            .unwrap();
        });
        let out = server.cli(&["user", "add", "carol", "--password", "carolpw"]);
        assert!(out.status.success(), "{out:?}");
        diesel::sql_query("UPDATE users SET playlist_role = 0 WHERE name = 'carol'")
            .execute(&mut mediastreamer::db::connect(&db).unwrap())
            .unwrap();
        let r = server
            .get(&format!(
                "/rest/search3?{ADMIN}&f=json&query=&songCount=50&artistCount=0&albumCount=0"
            ))
            .json();
        let ids = r["searchResult3"]["song"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["title"].as_str().unwrap().to_string(),
                    s["id"].as_str().unwrap().to_string(),
                )
            })
            .collect::<HashMap<_, _>>();
        assert_eq!(ids.len(), 6);
        Fixture { server, db, ids }
    })
}

fn server() -> &'static Server {
    &fixture().server
}

fn id(title: &str) -> &'static str {
    &fixture().ids[title]
}

/// `method` in XML: HTTP 200, XSD-valid; returns the body.
fn xml(method: &str, query: &str) -> String {
    let r = server().get(&format!("/rest/{method}.view?{query}"));
    assert_eq!(r.status, 200);
    assert_valid_xml(&r.body);
    r.body
}

/// `method` in JSON (schema-checked); returns the `subsonic-response` object.
fn json(method: &str, query: &str) -> Value {
    let r = server().get(&format!("/rest/{method}?{query}&f=json"));
    assert_eq!(r.status, 200);
    let whole: Value = serde_json::from_str(&r.body).unwrap();
    assert_valid_json(method, &whole);
    r.json()
}

fn ok(r: &Value) {
    assert_eq!(r["status"], "ok", "{r}");
}

fn xml_ok(body: &str) {
    assert!(body.contains("status=\"ok\""), "{body}");
}

/// A playlist by id as `user` sees it (JSON), checked in XML too.
fn get_playlist(user: &str, id: &str) -> Value {
    let r = server().call_both("getPlaylist", &format!("{user}&id={id}"));
    ok(&r);
    r["playlist"].clone()
}

/// The titles of a playlist's entries, in order.
fn titles(playlist: &Value) -> Vec<String> {
    playlist["entry"]
        .as_array()
        .unwrap_or_else(|| panic!("no entry array: {playlist}"))
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_string())
        .collect()
}

/// The playlists `user` lists, by name.
fn listed(user: &str) -> HashMap<String, Value> {
    let r = server().call_both("getPlaylists", user);
    ok(&r);
    r["playlists"]["playlist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p.clone()))
        .collect()
}

/// Creates a playlist as `user` (JSON) and returns its id.
fn create(user: &str, name: &str, songs: &[&str]) -> String {
    let songs: String = songs.iter().map(|s| format!("&songId={}", id(s))).collect();
    let r = json("createPlaylist", &format!("{user}&name={name}{songs}"));
    ok(&r);
    r["playlist"]["id"].as_str().unwrap().to_string()
}

fn is_iso_date(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z'))
}

#[test]
fn create_read_update_and_delete() {
    // JSON create: repeated songId, repeats kept, the playlist comes back with its songs.
    let r = json(
        "createPlaylist",
        &format!(
            "{BOB}&name=Road%20Mix&songId={}&songId={}&songId={}",
            id("One"),
            id("Four"),
            id("One")
        ),
    );
    ok(&r);
    let p = &r["playlist"];
    let mix = p["id"].as_str().unwrap().to_string();
    assert!(mix.starts_with("pl-"), "{p}");
    assert_eq!(p["name"], "Road Mix");
    assert_eq!(p["owner"], "bob");
    assert_eq!(p["public"], false);
    assert_eq!(p["readonly"], false);
    assert_eq!(p["songCount"], 3);
    assert!(p["duration"].is_i64());
    assert!(
        is_iso_date(&p["created"]) && is_iso_date(&p["changed"]),
        "{p}"
    );
    // The art of the first song that has some ("Four"), versioned.
    let cover = p["coverArt"].as_str().unwrap().to_string();
    assert!(cover.starts_with(&format!("{mix}-")), "{cover}");
    let image = server().fetch(&format!("/rest/getCoverArt?{BOB}&id={cover}&size=32"), &[]);
    assert_eq!(image.status, 200);
    assert!(image.header("content-type").unwrap().starts_with("image/"));
    assert_eq!(titles(p), ["One", "Four", "One"]);
    assert_eq!(p["entry"][0]["isDir"], false);

    // XML create: the same shape as elements.
    let body = xml(
        "createPlaylist",
        &format!("{BOB}&name=Xml%20List&songId={}", id("Two")),
    );
    xml_ok(&body);
    assert!(body.contains("<playlist id=\"pl-") && body.contains("name=\"Xml List\""));
    assert!(
        !body.contains("coverArt=\"pl-"),
        "no song with art, no cover: {body}"
    );
    assert!(
        body.contains(&format!("<entry id=\"{}\"", id("Two"))),
        "{body}"
    );

    // Both are listed (XML and JSON agree, arrays always).
    let lists = listed(BOB);
    assert_eq!(lists["Road Mix"]["songCount"], 3);
    let xml_list = lists["Xml List"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        get_playlist(BOB, &mix)["entry"].as_array().unwrap().len(),
        3
    );

    // XML update: rename, comment, publish, remove by original index, then append.
    let body = xml(
        "updatePlaylist",
        &format!(
            "{BOB}&playlistId={mix}&name=Renamed&comment=for%20the%20car&public=true\
             &songIndexToRemove=0&songIndexToRemove=2&songIdToAdd={}",
            id("Five")
        ),
    );
    xml_ok(&body);
    let p = get_playlist(BOB, &mix);
    assert_eq!(titles(&p), ["Four", "Five"]);
    assert_ne!(
        p["coverArt"], cover,
        "a changed playlist gets a new cover version"
    );
    assert_eq!(
        (&p["name"], &p["comment"], &p["public"]),
        (
            &Value::from("Renamed"),
            &Value::from("for the car"),
            &Value::from(true)
        )
    );
    // JSON update, as a form POST: append two.
    let form = format!(
        "{BOB}&f=json&playlistId={mix}&songIdToAdd={}&songIdToAdd={}",
        id("Six"),
        id("Six")
    );
    let r = request(server().port, "POST", "/rest/updatePlaylist", Some(&form)).unwrap();
    ok(&r.json());
    assert_eq!(
        titles(&get_playlist(BOB, &mix)),
        ["Four", "Five", "Six", "Six"]
    );

    // createPlaylist with playlistId replaces the songs (name kept unless given).
    let r = json(
        "createPlaylist",
        &format!("{BOB}&playlistId={mix}&songId={}", id("Three")),
    );
    ok(&r);
    assert_eq!(r["playlist"]["name"], "Renamed");
    assert_eq!(titles(&r["playlist"]), ["Three"]);
    let body = xml(
        "createPlaylist",
        &format!("{BOB}&playlistId={xml_list}&name=Emptied"),
    );
    xml_ok(&body);
    let p = get_playlist(BOB, &xml_list);
    assert_eq!(
        (p["name"].as_str(), p["songCount"].as_i64()),
        (Some("Emptied"), Some(0))
    );
    assert_eq!(p["entry"], Value::Array(vec![]));

    // Delete one in XML, one in JSON; both are gone.
    xml_ok(&xml("deletePlaylist", &format!("{BOB}&id={mix}")));
    ok(&json("deletePlaylist", &format!("{BOB}&id={xml_list}")));
    for gone in [&mix, &xml_list] {
        assert_error(
            &server().call_both("getPlaylist", &format!("{BOB}&id={gone}")),
            70,
        );
    }
    let lists = listed(BOB);
    assert!(!lists.contains_key("Renamed") && !lists.contains_key("Emptied"));
}

#[test]
fn bad_requests_get_errors_and_change_nothing() {
    let list = create(BOB, "Errors", &["One", "Two"]);
    let e = |method: &str, query: &str, code: i64| {
        assert_error(&server().call_both(method, &format!("{BOB}&{query}")), code)
    };
    e("getPlaylist", "", 10);
    e("getPlaylist", "id=pl-999999", 70);
    e("getPlaylist", &format!("id={}", id("One")), 70);
    e("createPlaylist", "songId=tr-1", 10);
    e("createPlaylist", "name=%20%20", 10);
    e("createPlaylist", "name=Nope&songId=tr-999999", 70);
    e("createPlaylist", "name=Nope&songId=al-1", 70);
    e(
        "createPlaylist",
        &format!("playlistId={list}&songId=tr-999999"),
        70,
    );
    e("createPlaylist", "playlistId=pl-999999&songId=tr-1", 70);
    e("updatePlaylist", "name=x", 10);
    e("updatePlaylist", "playlistId=pl-999999", 70);
    e(
        "updatePlaylist",
        &format!("playlistId={list}&songIndexToRemove=2"),
        0,
    );
    e(
        "updatePlaylist",
        &format!("playlistId={list}&songIndexToRemove=-1"),
        0,
    );
    e(
        "updatePlaylist",
        &format!("playlistId={list}&public=maybe"),
        0,
    );
    e("updatePlaylist", &format!("playlistId={list}&name=%20"), 0);
    // Names up to 1,000 characters and comments up to 10,000; longer ones are refused.
    let long = |n: usize| "n".repeat(n);
    e("createPlaylist", &format!("name={}", long(1001)), 0);
    e(
        "createPlaylist",
        &format!("playlistId={list}&name={}", long(1001)),
        0,
    );
    e(
        "updatePlaylist",
        &format!("playlistId={list}&name={}", long(1001)),
        0,
    );
    e(
        "updatePlaylist",
        &format!("playlistId={list}&comment={}", long(10_001)),
        0,
    );
    let at_limit = create(BOB, &long(1000), &["One"]);
    ok(&json(
        "updatePlaylist",
        &format!("{BOB}&playlistId={at_limit}&comment={}", long(10_000)),
    ));
    let p = get_playlist(BOB, &at_limit);
    assert_eq!(p["name"].as_str().map(str::len), Some(1000));
    assert_eq!(p["comment"].as_str().map(str::len), Some(10_000));
    ok(&json("deletePlaylist", &format!("{BOB}&id={at_limit}")));
    e(
        "updatePlaylist",
        &format!(
            "playlistId={list}&songIdToAdd={}&songIdToAdd=tr-999999",
            id("Six")
        ),
        70,
    );
    e("deletePlaylist", "", 10);
    e("deletePlaylist", "id=pl-999999", 70);
    // Only admins may look at another user's playlists; an unknown user is not found.
    e("getPlaylists", "username=admin", 50);
    assert_error(
        &server().call_both("getPlaylists", &format!("{ADMIN}&username=nobody")),
        70,
    );
    // A user without the playlist role may read but not write.
    assert_error(
        &server().call_both("createPlaylist", &format!("{CAROL}&name=Mine")),
        50,
    );
    ok(&server().call_both("getPlaylists", CAROL));

    // Nothing above changed the playlist or made a new one.
    let p = get_playlist(BOB, &list);
    assert_eq!(titles(&p), ["One", "Two"]);
    assert_eq!(p["name"], "Errors");
    assert!(!listed(BOB).contains_key("Nope"));
}

#[test]
fn other_users_private_playlists_are_invisible_and_public_ones_read_only() {
    let secret = create(ADMIN, "Admin%20Secret", &["Three"]);
    assert!(!listed(BOB).contains_key("Admin Secret"));
    for (method, query) in [
        ("getPlaylist", format!("id={secret}")),
        ("updatePlaylist", format!("playlistId={secret}&name=Hacked")),
        (
            "createPlaylist",
            format!("playlistId={secret}&songId={}", id("One")),
        ),
        ("deletePlaylist", format!("id={secret}")),
    ] {
        assert_error(&server().call_both(method, &format!("{BOB}&{query}")), 70);
    }
    // Not even its cover art (a playlist with a song that has art; the owner gets it).
    let pictured = create(ADMIN, "Admin%20Pictured", &["Four"]);
    for user in [ADMIN, BOB] {
        let r = server().fetch(
            &format!("/rest/getCoverArt?{user}&id={pictured}&f=json"),
            &[],
        );
        if user == ADMIN {
            assert_eq!(r.status, 200);
            assert!(r.header("content-type").unwrap().starts_with("image/"));
        } else {
            assert_error(&r.json(), 70);
        }
    }
    // Published: bob sees it, read-only, and still cannot change or delete it.
    ok(&json(
        "updatePlaylist",
        &format!("{ADMIN}&playlistId={secret}&public=true"),
    ));
    let seen = &listed(BOB)["Admin Secret"];
    assert_eq!(
        (seen["owner"].as_str(), seen["readonly"].as_bool()),
        (Some("admin"), Some(true))
    );
    assert_eq!(titles(&get_playlist(BOB, &secret)), ["Three"]);
    for (method, query) in [
        (
            "updatePlaylist",
            format!("playlistId={secret}&songIdToAdd={}", id("One")),
        ),
        (
            "createPlaylist",
            format!("playlistId={secret}&songId={}", id("One")),
        ),
        ("deletePlaylist", format!("id={secret}")),
    ] {
        assert_error(&server().call_both(method, &format!("{BOB}&{query}")), 50);
    }
    assert_eq!(titles(&get_playlist(ADMIN, &secret)), ["Three"]);

    // The admin may look at what bob sees, bob's private playlists included, and edit them.
    let bobs = create(BOB, "Bob%20Private", &["Two"]);
    let r = server().call_both("getPlaylists", &format!("{ADMIN}&username=bob"));
    ok(&r);
    let names: Vec<&str> = r["playlists"]["playlist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Bob Private") && names.contains(&"Admin Secret"),
        "{names:?}"
    );
    assert!(!listed(ADMIN).contains_key("Bob Private"));
    ok(&json(
        "updatePlaylist",
        &format!("{ADMIN}&playlistId={bobs}&songIdToAdd={}", id("Four")),
    ));
    assert_eq!(titles(&get_playlist(BOB, &bobs)), ["Two", "Four"]);
    // Asking for oneself by name is fine for anyone.
    ok(&server().call_both("getPlaylists", &format!("{BOB}&username=bob")));
}

#[test]
fn m3u_file_in_the_library_is_a_public_read_only_playlist() {
    let imported = &listed(BOB)["Imported"];
    assert_eq!(imported["owner"], "admin");
    assert_eq!(imported["public"], true);
    assert_eq!(imported["readonly"], true);
    assert_eq!(imported["songCount"], 2);
    let id_ = imported["id"].as_str().unwrap().to_string();
    assert_eq!(titles(&get_playlist(BOB, &id_)), ["Four", "One"]);
    // Its songs follow the file, even for its owner; comment and visibility may change.
    assert_error(
        &server().call_both(
            "updatePlaylist",
            &format!("{ADMIN}&playlistId={id_}&songIndexToRemove=0"),
        ),
        50,
    );
    assert_error(
        &server().call_both("deletePlaylist", &format!("{ADMIN}&id={id_}")),
        50,
    );
    ok(&json(
        "updatePlaylist",
        &format!("{ADMIN}&playlistId={id_}&comment=from%20disk"),
    ));
    assert_eq!(get_playlist(BOB, &id_)["comment"], "from disk");
}

#[test]
fn two_clients_adding_at_once_lose_nothing() {
    let list = create(BOB, "Busy", &[]);
    let titles_to_add = ["One", "Two", "Three", "Four", "Five", "Six"];
    let per_client = 15;
    std::thread::scope(|s| {
        for client in 0..2 {
            let list = list.clone();
            s.spawn(move || {
                for n in 0..per_client {
                    let title = titles_to_add[(client * 3 + n) % titles_to_add.len()];
                    let form = format!("{BOB}&f=json&playlistId={list}&songIdToAdd={}", id(title));
                    let r = request(server().port, "POST", "/rest/updatePlaylist", Some(&form))
                        .unwrap();
                    ok(&r.json());
                }
            });
        }
        // Meanwhile a third client renames it: that must not drop any addition either.
        s.spawn(|| {
            for n in 0..5 {
                ok(&json(
                    "updatePlaylist",
                    &format!("{BOB}&playlistId={list}&name=Busy%20{n}"),
                ));
            }
        });
    });
    let p = get_playlist(BOB, &list);
    let mut got = titles(&p);
    got.sort();
    let mut expected: Vec<String> = (0..2)
        .flat_map(|client| {
            (0..per_client).map(move |n| titles_to_add[(client * 3 + n) % 6].to_string())
        })
        .collect();
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(p["songCount"], 2 * per_client as i64);
    assert_eq!(p["name"], "Busy 4");
}

#[test]
fn a_playlist_downloads_as_a_zip_of_its_songs() {
    let list = create(BOB, "Zipped", &["Two", "Five", "Two"]);
    let r = server().fetch(&format!("/rest/download?{BOB}&id={list}"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/zip"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(r.body)).unwrap();
    let names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names[0].starts_with("Zipped/01 - Artist - Two."),
        "{names:?}"
    );
    assert!(
        names[1].starts_with("Zipped/02 - Artist - Five."),
        "{names:?}"
    );
    // Not someone else's private playlist.
    let secret = create(ADMIN, "Zip%20Secret", &["One"]);
    let r = server().fetch(&format!("/rest/download?{BOB}&id={secret}&f=json"), &[]);
    assert_error(&r.json(), 70);
}

#[test]
fn database_stays_consistent() {
    // Positions stay dense after edits: every playlist's entries are 0..n.
    let list = create(BOB, "Dense", &["One", "Two", "Three", "Four"]);
    ok(&json(
        "updatePlaylist",
        &format!(
            "{BOB}&playlistId={list}&songIndexToRemove=1&songIdToAdd={}",
            id("Six")
        ),
    ));
    let n: i64 = list.trim_start_matches("pl-").parse().unwrap();
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        position: i32,
    }
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT position FROM playlist_tracks WHERE playlist_id = {n} ORDER BY position"
    ))
    .load(&mut mediastreamer::db::connect(&fixture().db).unwrap())
    .unwrap();
    let positions: Vec<i32> = rows.iter().map(|r| r.position).collect();
    assert_eq!(positions, [0, 1, 2, 3]);
}

#[test]
fn command_line_lists_and_exports_m3u8() {
    let list = create(BOB, "Cli%20Export", &["Five", "One"]);
    let out = server().cli(&["playlist", "list"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{list}\t")))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(line, format!("{list}\tCli Export\tbob\t2 songs\tprivate"));
    assert!(
        text.lines()
            .any(|l| l.contains("\tImported\tadmin\t2 songs\tpublic\tfrom /"))
    );

    // By name, to standard output: extended M3U8 with absolute paths.
    let out = server().cli(&["playlist", "export", "Cli Export"]);
    assert!(out.status.success(), "{out:?}");
    let m3u = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = m3u.lines().collect();
    assert_eq!(lines[..2], ["#EXTM3U", "#PLAYLIST:Cli Export"]);
    assert!(lines[2].starts_with("#EXTINF:") && lines[2].ends_with(",Artist - Five"));
    assert!(lines[3].starts_with('/') && lines[3].ends_with("/Beta/Second/02.flac"));
    assert!(std::path::Path::new(lines[3]).is_file(), "{}", lines[3]);
    assert!(lines[5].ends_with("/Alpha/First/01.mp3"));
    // By id, to a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.m3u8");
    let out = server().cli(&[
        "playlist",
        "export",
        &list,
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), m3u);
    // Unknown and ambiguous names fail with a message.
    let out = server().cli(&["playlist", "export", "No Such List"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no playlist"));
    create(ADMIN, "Cli%20Export", &[]);
    let out = server().cli(&["playlist", "export", "Cli Export"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("several playlists"));
}

/// getPlaylist streams its entries; the bytes are exactly those of the tree-rendered answer
/// (createPlaylist's) for a playlist of a few hundred entries: XML, JSON and JSONP, a legacy
/// XML client (no OpenSubsonic nested elements) and a caller whose bitrate cap gives songs
/// `transcodedSuffix` hints.
#[test]
fn streamed_get_playlist_sends_the_bytes_of_the_tree() {
    let r = server().get(&format!(
        "/rest/createUser?{ADMIN}&f=json&username=dave&password=davepw&email=d@x&playlistRole=true"
    ));
    ok(&r.json());
    let r = server().get(&format!(
        "/rest/updateUser?{ADMIN}&f=json&username=dave&maxBitRate=64"
    ));
    ok(&r.json());
    let titles = ["One", "Four", "Two", "Five", "Three", "Six", "Four"];
    let songs: String = (0..350)
        .map(|i| format!("&songId={}", id(titles[i % titles.len()])))
        .collect();
    for user in [ADMIN, "u=dave&p=davepw"] {
        let r = request(
            server().port,
            "POST",
            "/rest/createPlaylist",
            Some(&format!("{user}&f=json&name=streamed{songs}")),
        )
        .unwrap();
        let created = r.json();
        ok(&created);
        let pl = created["playlist"]["id"].as_str().unwrap().to_string();
        assert_eq!(created["playlist"]["entry"].as_array().unwrap().len(), 350);
        for variant in [
            "",
            "&f=json",
            "&f=jsonp&callback=cb",
            "&c=DSub",
            "&f=json&c=DSub",
        ] {
            // createPlaylist with playlistId answers with the whole tree of the playlist.
            let tree = request(
                server().port,
                "POST",
                "/rest/createPlaylist",
                Some(&format!("{user}{variant}&playlistId={pl}{songs}")),
            )
            .unwrap();
            let streamed = server().get(&format!("/rest/getPlaylist?{user}{variant}&id={pl}"));
            assert_eq!(tree.status, 200);
            assert_eq!(streamed.status, 200);
            assert_eq!(
                tree.header("content-type"),
                streamed.header("content-type"),
                "{variant}"
            );
            assert!(streamed.body.contains("\"ok\""), "{variant}");
            assert_eq!(tree.body, streamed.body, "{user} {variant}");
            if variant.is_empty() || variant == "&c=DSub" {
                assert_valid_xml(&streamed.body);
            }
            let hinted = streamed.body.contains("transcodedSuffix");
            assert_eq!(hinted, user != ADMIN, "{user} {variant}");
            let nested = streamed.body.contains("genres");
            assert_eq!(nested, variant != "&c=DSub", "{user} {variant}");
        }
    }
}

/// createPlaylist answers a long playlist (over 1,000 songs) streamed too: the same bytes as
/// getPlaylist, every entry in order, valid XML.
#[test]
fn create_playlist_streams_long_answers() {
    let cycle = ["Six", "One", "Six", "Two"];
    let order: Vec<&str> = (0..1_203).map(|i| cycle[i % cycle.len()]).collect();
    let songs: String = order.iter().map(|t| format!("&songId={}", id(t))).collect();
    for variant in ["", "&f=json"] {
        let created = request(
            server().port,
            "POST",
            "/rest/createPlaylist",
            Some(&format!("{BOB}{variant}&name=long{songs}")),
        )
        .unwrap();
        assert_eq!(created.status, 200);
        let pl = created
            .body
            .split("pl-")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string();
        let read = server().get(&format!("/rest/getPlaylist?{BOB}{variant}&id=pl-{pl}"));
        assert_eq!(created.body, read.body, "{variant}");
        if variant.is_empty() {
            assert_valid_xml(&read.body);
            assert_eq!(read.body.matches("<entry ").count(), order.len());
        } else {
            assert_eq!(titles(&read.json()["playlist"]), order);
        }
    }
}
