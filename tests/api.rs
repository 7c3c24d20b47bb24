//! The Subsonic API over real HTTP against the real binary: envelope, formats, authentication,
//! errors, and each endpoint's golden path and error case in XML and JSON. XML responses are
//! validated against the official 1.16.1 XSD (after removing the OpenSubsonic additions,
//! which that schema predates).

mod common;

use common::api::*;
use mediastreamer::synth::Format;
use std::sync::OnceLock;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start_server(3, |music| {
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
                song("Two", "The Band feat. Guest", "Hits", "The Band", 2),
            );
            let mut composed = song("Alone", "Zeta", "Solo", "Zeta", 1);
            composed.composer = Some("Clara Writer".into());
            composed.disc = Some((2, Some(2)));
            composed.disc_subtitle = Some("The Quiet Disc".into());
            put(music, "Zeta/Solo/01.ogg", Format::Ogg, composed);
        })
    })
}

fn get(path: &str) -> Response {
    server().get(path)
}

fn call_both(method: &str, query: &str) -> serde_json::Value {
    server().call_both(method, query)
}

#[test]
fn ping_and_license() {
    let r = call_both("ping", ADMIN);
    assert_eq!(r["status"], "ok");
    let r = call_both("getLicense", ADMIN);
    assert_eq!(r["license"]["valid"], true);
    assert_error(&call_both("getLicense", "u=admin&p=wrong"), 40);
}

#[test]
fn authentication_mechanisms_and_their_errors() {
    let token = format!("{:x}", md5::compute("bobpwsalt123"));
    assert_eq!(
        call_both("ping", &format!("u=bob&t={token}&s=salt123"))["status"],
        "ok"
    );
    assert_eq!(
        call_both(
            "ping",
            &format!("u=bob&t={}&s=salt123", token.to_uppercase())
        )["status"],
        "ok"
    );
    assert_eq!(call_both("ping", "u=bob&p=enc:626f627077")["status"], "ok");
    assert_error(
        &call_both("ping", "u=bob&t=00000000000000000000000000000000&s=salt123"),
        40,
    );
    assert_error(&call_both("ping", "u=nobody&p=x"), 40);
    assert_error(&call_both("ping", "p=bobpw"), 10);
    assert_error(&call_both("ping", "u=bob"), 10);
    assert_error(&call_both("ping", "u=bob&p=bobpw&t=x&s=y"), 43);
    assert_error(&call_both("ping", "u=bob&apiKey=abc"), 43);
    assert_error(&call_both("ping", "apiKey=abc"), 44);
}

#[test]
fn post_forms_repeated_keys_views_and_unknown_methods() {
    let port = server().port;
    let r = request(port, "POST", "/rest/ping", Some("u=admin&p=adminpw&f=json")).unwrap();
    assert_eq!(r.json()["status"], "ok");
    // Query string and body merge.
    let r = request(
        port,
        "POST",
        "/rest/ping.view?f=json",
        Some("u=admin&p=adminpw"),
    )
    .unwrap();
    assert_eq!(r.json()["status"], "ok");
    // An unknown method: a failed envelope (no method schema applies, so the JSON is checked
    // against the generic envelope).
    let xml = get(&format!("/rest/noSuchMethod.view?{ADMIN}"));
    assert_valid_xml(&xml.body);
    assert!(xml.body.contains("code=\"0\""), "{}", xml.body);
    let r = get(&format!("/rest/noSuchMethod?{ADMIN}&f=json"));
    assert_valid_json("ping", &serde_json::from_str(&r.body).unwrap());
    assert_error(&r.json(), 0);
    let r = get(&format!("/rest/ping?{ADMIN}&f=jsonp&callback=handle_1"));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/javascript")
    );
    assert!(
        r.body.starts_with("handle_1({\"subsonic-response\":"),
        "{}",
        r.body
    );
    let r = get(&format!("/rest/ping?{ADMIN}&f=jsonp&callback=alert(1)"));
    assert_eq!(r.json()["status"], "failed");
}

#[test]
fn cors_on_responses_and_preflight() {
    let r = get(&format!("/rest/ping?{ADMIN}"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = request(server().port, "OPTIONS", "/rest/getAlbum.view", None).unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = get("/rest/ping?u=admin&p=bad");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn open_subsonic_extensions_need_no_authentication() {
    let r = call_both("getOpenSubsonicExtensions", "");
    assert_eq!(r["status"], "ok");
    let list = r["openSubsonicExtensions"].as_array().unwrap();
    assert!(list.iter().any(|e| e["name"] == "formPost"));
    assert!(list.iter().all(|e| e["versions"].is_array()));
}

#[test]
fn music_folders_and_genres() {
    let r = call_both("getMusicFolders", ADMIN);
    let folders = r["musicFolders"]["musicFolder"].as_array().unwrap();
    assert_eq!(folders.len(), 1);
    assert!(folders[0]["id"].is_i64());
    assert_eq!(folders[0]["name"], "music");
    assert_error(&call_both("getMusicFolders", "u=admin&p=x"), 40);

    let r = call_both("getGenres", ADMIN);
    let genres = r["genres"]["genre"].as_array().unwrap();
    let rock = genres.iter().find(|g| g["value"] == "Rock").unwrap();
    assert_eq!(rock["songCount"], 3);
    assert_eq!(rock["albumCount"], 2);
    assert_error(&call_both("getGenres", "u=bob&p=x"), 40);
}

#[test]
fn artists_index_artist_album_and_song() {
    let r = call_both("getArtists", ADMIN);
    let artists = &r["artists"];
    assert_eq!(artists["ignoredArticles"], "The El La Los Las Le Les");
    let index = artists["index"].as_array().unwrap();
    // "The Band" is indexed under B.
    let b = index.iter().find(|i| i["name"] == "B").unwrap();
    let band = &b["artist"][0];
    assert_eq!(band["name"], "The Band");
    assert_eq!(band["albumCount"], 1);
    let band_id = band["id"].as_str().unwrap().to_string();
    assert!(band_id.starts_with("ar-"));

    let r = call_both("getArtist", &format!("{ADMIN}&id={band_id}"));
    let artist = &r["artist"];
    assert_eq!(artist["name"], "The Band");
    let albums = artist["album"].as_array().unwrap();
    assert_eq!(albums.len(), 1);
    assert_eq!(albums[0]["name"], "Hits");
    assert_eq!(albums[0]["songCount"], 2);
    let album_id = albums[0]["id"].as_str().unwrap().to_string();
    assert_error(&call_both("getArtist", &format!("{ADMIN}&id=ar-99999")), 70);
    assert_error(&call_both("getArtist", ADMIN), 10);

    let r = call_both("getAlbum", &format!("{ADMIN}&id={album_id}"));
    let album = &r["album"];
    assert_eq!(album["artist"], "The Band");
    assert_eq!(album["year"], 1999);
    assert_eq!(album["releaseDate"], serde_json::json!({"year": 1999}));
    assert_eq!(album["isCompilation"], false);
    let songs = album["song"].as_array().unwrap();
    assert_eq!(songs.len(), 2);
    assert_eq!(songs[0]["title"], "One");
    assert_eq!(songs[1]["title"], "Two");
    assert_eq!(songs[1]["artist"], "The Band feat. Guest");
    let credited: Vec<&str> = songs[1]["artists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(credited, ["The Band", "Guest"]);
    assert_eq!(songs[0]["isDir"], false);
    assert_eq!(songs[0]["suffix"], "mp3");
    assert_eq!(songs[0]["contentType"], "audio/mpeg");
    assert!(songs[0]["duration"].is_i64() && songs[0]["size"].is_i64());
    assert_eq!(songs[0]["genres"][0]["name"], "Rock");
    assert!(songs[0]["replayGain"].is_object());
    assert_error(&call_both("getAlbum", &format!("{ADMIN}&id=al-99999")), 70);
    assert_error(&call_both("getAlbum", &format!("{ADMIN}&id={band_id}")), 70);

    let song_id = songs[0]["id"].as_str().unwrap();
    let r = call_both("getSong", &format!("{ADMIN}&id={song_id}"));
    assert_eq!(r["song"]["title"], "One");
    assert_eq!(r["song"]["albumId"], album_id.as_str());
    assert_error(&call_both("getSong", &format!("{ADMIN}&id=tr-99999")), 70);
    assert_error(&call_both("getSong", &format!("{ADMIN}&id=garbage")), 70);
}

#[test]
fn scan_status_and_start_scan_need_admin() {
    let r = call_both("getScanStatus", "u=bob&p=bobpw");
    // Exactly the spec's keys: strict client libraries reject others.
    assert_eq!(
        r["scanStatus"],
        serde_json::json!({"scanning": false, "count": 3})
    );
    assert_error(&call_both("startScan", "u=bob&p=bobpw"), 50);
    let r = call_both("startScan", ADMIN);
    assert!(r["scanStatus"]["scanning"].is_boolean());
}

/// `count` is the catalog's track count even when no scan ran since the server started
/// (`scan.on_startup = false`); the end of the last scan is in our own getScanInfo only.
#[test]
fn scan_count_survives_a_restart_without_a_scan() {
    let mut server = start_server(2, |music| {
        for n in 1..=2 {
            put(
                music,
                &format!("Solo/Only/0{n}.mp3"),
                Format::Mp3,
                song(&format!("Song {n}"), "Solo", "Only", "Solo", n),
            );
        }
    });
    let info = server.call_both("getScanInfo", BOB);
    assert_eq!(info["scanInfo"]["scanning"], false);
    assert_eq!(info["scanInfo"]["count"], 2);
    let last = info["scanInfo"]["lastScan"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(last).is_ok(), "{last}");
    let xml = server
        .get(&format!("/rest/getScanStatus.view?{ADMIN}"))
        .body;
    assert!(!xml.contains("lastScan"), "{xml}");

    server.restart_with(&[("MEDIASTREAMER_SCAN__ON_STARTUP", "false")]);
    let r = server.call_both("getScanStatus", BOB);
    assert_eq!(
        r["scanStatus"],
        serde_json::json!({"scanning": false, "count": 2})
    );
    let xml = server.get(&format!("/rest/getScanStatus.view?{BOB}")).body;
    assert!(
        xml.contains(r#"<scanStatus scanning="false" count="2"/>"#),
        "{xml}"
    );
    // No scan since this start: no lastScan, and the count is still the catalog's.
    let info = server.call_both("getScanInfo", ADMIN);
    assert_eq!(
        info["scanInfo"],
        serde_json::json!({"scanning": false, "count": 2})
    );
    assert_error(&server.call_both("getScanInfo", "u=bob&p=wrong"), 40);
}

#[test]
fn the_xsd_check_rejects_what_the_schema_does_not_allow() {
    let bad = "<?xml version=\"1.0\"?>\n<subsonic-response xmlns=\"http://subsonic.org/restapi\" status=\"ok\" version=\"1.16.1\"><album id=\"1\" name=\"x\" songCount=\"1\" duration=\"1\" created=\"2020-01-01T00:00:00Z\" bogus=\"1\"/></subsonic-response>";
    assert!(std::panic::catch_unwind(|| assert_valid_xml(bad)).is_err());
    let good = bad.replace(" bogus=\"1\"", " sortName=\"x\"");
    assert_valid_xml(&good);
}

/// The XSD check removes only what OpenSubsonic adds to each element: payloads whose names
/// OpenSubsonic also uses nested elsewhere (`artists`, `genres`) are validated whole.
#[test]
fn the_xsd_check_validates_whole_payloads() {
    let artists = get(&format!("/rest/getArtists.view?{ADMIN}")).body;
    assert!(artists.contains("<artist "), "{artists}");
    assert_valid_xml(&artists);
    let rejected = |xml: &str| std::panic::catch_unwind(|| assert_valid_xml(xml)).is_err();
    // A wrong attribute on an artist, on the index, on the artists element.
    assert!(rejected(&artists.replacen(
        "<artist ",
        "<artist bogus=\"1\" ",
        1
    )));
    assert!(rejected(&artists.replacen(
        "<index ",
        "<index bogus=\"1\" ",
        1
    )));
    assert!(rejected(&artists.replacen(
        "<artists ",
        "<artists bogus=\"1\" ",
        1
    )));
    // A Child-only addition on an ArtistID3, and a song's nested element on an artist.
    assert!(rejected(&artists.replacen(
        "<artist ",
        "<artist bpm=\"1\" ",
        1
    )));
    let i = artists.find("<artist ").unwrap();
    let end = i + artists[i..].find("/>").unwrap();
    let nested = format!(
        "{}><genres name=\"x\"/></artist>{}",
        &artists[..end],
        &artists[end + 2..]
    );
    assert!(rejected(&nested));
    // An OpenSubsonic addition is accepted where it belongs.
    assert_valid_xml(&artists.replacen("<artist ", "<artist sortName=\"x\" ", 1));

    let genres = get(&format!("/rest/getGenres.view?{ADMIN}")).body;
    assert!(genres.contains("<genre "), "{genres}");
    assert_valid_xml(&genres);
    assert!(rejected(&genres.replacen(
        "<genre ",
        "<genre bogus=\"1\" ",
        1
    )));
    assert!(rejected(&genres.replacen(
        "songCount=\"",
        "songCount=\"x",
        1
    )));

    // `type` is checked on songs (a 1.16.1 MediaType), only the envelope's is OpenSubsonic's.
    let song = get(&format!("/rest/getSong.view?{ADMIN}&id=tr-1")).body;
    assert!(song.contains(" type=\"music\""), "{song}");
    assert_valid_xml(&song);
    assert!(rejected(&song.replace(" type=\"music\"", " type=\"tune\"")));
}

/// Every method's JSON is checked: one without a schema fails rather than passes unchecked;
/// our own methods have schemas of our own that reject what they do not describe.
#[test]
fn the_json_check_needs_a_schema_and_checks_our_own_methods() {
    let ping: serde_json::Value =
        serde_json::from_str(&get(&format!("/rest/ping?{ADMIN}&f=json")).body).unwrap();
    assert!(std::panic::catch_unwind(|| assert_valid_json("noSuchMethod", &ping)).is_err());
    let info: serde_json::Value =
        serde_json::from_str(&get(&format!("/rest/getScanInfo?{ADMIN}&f=json")).body).unwrap();
    assert_valid_json("getScanInfo", &info);
    for (field, wrong) in [
        ("count", serde_json::json!("3")),
        ("scanning", serde_json::json!(0)),
        ("surprise", serde_json::json!(1)),
    ] {
        let mut bad = info.clone();
        bad["subsonic-response"]["scanInfo"][field] = wrong;
        let result = std::panic::catch_unwind(|| assert_valid_json("getScanInfo", &bad));
        assert!(result.is_err(), "{field} was not checked");
    }
    let errors: serde_json::Value =
        serde_json::from_str(&get(&format!("/rest/getScanErrors?{ADMIN}&f=json")).body).unwrap();
    assert_valid_json("getScanErrors", &errors);
    let mut bad = errors.clone();
    bad["subsonic-response"]["scanErrors"]["count"] = serde_json::json!(-1);
    assert!(std::panic::catch_unwind(|| assert_valid_json("getScanErrors", &bad)).is_err());
}

#[test]
fn the_json_schema_check_rejects_what_the_schema_does_not_allow() {
    let server = server();
    let good: serde_json::Value = serde_json::from_str(
        &server
            .get(&format!("/rest/getSong?{ADMIN}&id=tr-1&f=json"))
            .body,
    )
    .unwrap();
    assert_valid_json("getSong", &good);
    for (field, wrong) in [
        ("duration", serde_json::json!("12")),
        ("isDir", serde_json::json!(1)),
        ("genres", serde_json::json!({"name": "Rock"})),
    ] {
        let mut bad = good.clone();
        bad["subsonic-response"]["song"][field] = wrong;
        let result = std::panic::catch_unwind(|| assert_valid_json("getSong", &bad));
        assert!(result.is_err(), "{field} was not checked");
    }
    let mut no_song = good.clone();
    no_song["subsonic-response"]
        .as_object_mut()
        .unwrap()
        .remove("song");
    assert!(std::panic::catch_unwind(|| assert_valid_json("getSong", &no_song)).is_err());
}

#[test]
fn api_keys_authenticate_alone_and_can_be_revoked() {
    let out = server().cli(&["user", "apikey", "bob", "--label", "phone"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let r = call_both("tokenInfo", &format!("apiKey={key}"));
    assert_eq!(r["tokenInfo"]["username"], "bob");
    assert_eq!(call_both("ping", &format!("apiKey={key}"))["status"], "ok");
    assert_error(&call_both("ping", &format!("apiKey={key}&u=bob")), 43);
    let list = server().cli(&["user", "apikeys", "bob"]);
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(
        listed.contains("phone") && !listed.contains(&key),
        "{listed}"
    );
    let id = listed.split('\t').next().unwrap().to_string();
    assert!(
        server()
            .cli(&["user", "revoke", "bob", &id])
            .status
            .success()
    );
    assert_error(&call_both("tokenInfo", &format!("apiKey={key}")), 44);
    let r = call_both("getOpenSubsonicExtensions", "");
    assert!(
        r["openSubsonicExtensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "apiKeyAuthentication")
    );
}

#[test]
fn users_read_side() {
    let r = call_both("getUser", &format!("{BOB}&username=bob"));
    let user = &r["user"];
    assert_eq!(user["username"], "bob");
    assert_eq!(user["adminRole"], false);
    assert!(
        user["folder"]
            .as_array()
            .is_some_and(|f| f.len() == 1 && f[0].is_i64())
    );
    assert_error(&call_both("getUser", &format!("{BOB}&username=admin")), 50);
    assert_error(&call_both("getUser", BOB), 10);
    let r = call_both("getUser", &format!("{ADMIN}&username=bob"));
    assert_eq!(r["user"]["username"], "bob");
    assert_error(
        &call_both("getUser", &format!("{ADMIN}&username=nobody")),
        70,
    );
    let r = call_both("getUsers", ADMIN);
    let names: Vec<&str> = r["users"]["user"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "bob"]);
    assert_eq!(r["users"]["user"][0]["adminRole"], true);
    assert_error(&call_both("getUsers", BOB), 50);
}

#[test]
fn songs_albums_and_artists_show_the_callers_annotations() {
    let r = call_both("getArtists", BOB);
    let zeta = r["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().iter())
        .find(|a| a["name"] == "Zeta")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let artist = call_both("getArtist", &format!("{BOB}&id={zeta}"));
    let album = artist["artist"]["album"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let song = call_both("getAlbum", &format!("{BOB}&id={album}"))["album"]["song"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for q in [
        format!("id={song}"),
        format!("albumId={album}"),
        format!("artistId={zeta}"),
    ] {
        assert_eq!(call_both("star", &format!("{BOB}&{q}"))["status"], "ok");
    }
    assert_eq!(
        call_both("setRating", &format!("{BOB}&id={song}&rating=4"))["status"],
        "ok"
    );
    assert_eq!(
        call_both("scrobble", &format!("{BOB}&id={song}"))["status"],
        "ok"
    );

    let a = &call_both("getAlbum", &format!("{BOB}&id={album}"))["album"];
    assert_eq!(
        a["discTitles"],
        serde_json::json!([{"disc": 2, "title": "The Quiet Disc"}])
    );
    let s = &call_both("getSong", &format!("{BOB}&id={song}"))["song"];
    assert_eq!(s["displayComposer"], "Clara Writer");
    assert_eq!(s["contributors"][0]["role"], "composer");
    assert_eq!(s["contributors"][0]["artist"]["name"], "Clara Writer");
    assert!(s["starred"].is_string());
    assert_eq!(s["userRating"], 4);
    assert!(s["playCount"].as_i64().unwrap() >= 1);
    assert!(s["played"].is_string());
    assert!(call_both("getAlbum", &format!("{BOB}&id={album}"))["album"]["starred"].is_string());
    assert!(call_both("getArtist", &format!("{BOB}&id={zeta}"))["artist"]["starred"].is_string());
    // Another user sees none of it.
    let s = &call_both("getSong", &format!("{ADMIN}&id={song}"))["song"];
    assert!(s.get("starred").is_none() && s.get("userRating").is_none());
}

/// Clients named in `api.legacy_clients` (DSub by default) find XML elements by tag name
/// anywhere, so their XML has none of OpenSubsonic's nested elements (a composer's `<artist>`
/// inside `<contributors>` would become the album's artist); other clients and JSON keep them.
#[test]
fn legacy_clients_get_xml_without_open_subsonic_nested_elements() {
    let found = get(&format!(
        "/rest/search3?{ADMIN}&f=json&query=alone&artistCount=0&albumCount=0"
    ))
    .json();
    let song = found["searchResult3"]["song"][0].clone();
    let (id, album) = (
        song["id"].as_str().unwrap(),
        song["albumId"].as_str().unwrap(),
    );
    let nested = [
        "<contributors",
        "<artist ",
        "<artists",
        "<albumArtists",
        "<genres",
        "<replayGain",
        "<discTitles",
        "<moods",
    ];
    let xml = |method: &str, query: &str| {
        let body = get(&format!("/rest/{method}.view?{ADMIN}&{query}")).body;
        assert!(body.contains("status=\"ok\""), "{body}");
        assert_valid_xml(&body);
        body
    };
    for client in ["DSub", "dsub", "DSub_phone"] {
        for (method, query) in [
            ("getSong", format!("id={id}")),
            ("getAlbum", format!("id={album}")),
            ("getStarred", String::new()),
            ("search3", "query=alone".to_string()),
        ] {
            let body = xml(method, &format!("{query}&c={client}"));
            for tag in nested {
                if method == "search3" && tag == "<artist " {
                    continue; // search3's artist results are its payload
                }
                assert!(!body.contains(tag), "{client} {method}: {tag} in {body}");
            }
        }
        // Attributes stay: the composer is still named, as a plain attribute.
        let body = xml("getSong", &format!("id={id}&c={client}"));
        assert!(body.contains("displayComposer=\"Clara Writer\""), "{body}");
        // Payloads with OpenSubsonic-like names stay whole.
        let body = xml("getArtists", &format!("c={client}"));
        assert!(
            body.contains("<artists ") && body.contains("<artist "),
            "{body}"
        );
        let body = xml("getGenres", &format!("c={client}"));
        assert!(
            body.contains("<genres>") && body.contains("<genre "),
            "{body}"
        );
    }
    // Other clients, and DSub's JSON, keep everything.
    for client in ["Symfonium", "DSubX", ""] {
        let body = xml("getSong", &format!("id={id}&c={client}"));
        assert!(
            body.contains("<contributors role=\"composer\"><artist "),
            "{client}: {body}"
        );
        assert!(body.contains("<genres "), "{body}");
    }
    let r = call_both("getSong", &format!("{ADMIN}&id={id}&c=DSub"));
    assert_eq!(
        r["song"]["contributors"][0]["artist"]["name"],
        "Clara Writer"
    );
    assert_eq!(r["song"]["genres"][0]["name"], "Rock");
}

/// `api.legacy_clients` replaces the default list: named clients lose the nested elements,
/// DSub (no longer named) keeps them.
#[test]
fn legacy_clients_are_configurable() {
    let server = start_server_configured(
        &["music"],
        "[api]\nlegacy_clients = [\"Sonixd\"]\n",
        1,
        |folders| {
            let mut composed = song("Alone", "Zeta", "Solo", "Zeta", 1);
            composed.composer = Some("Clara Writer".into());
            put(&folders[0], "Zeta/Solo/01.ogg", Format::Ogg, composed);
        },
    );
    let body = |client: &str| {
        let r = server.get(&format!("/rest/getSong.view?{ADMIN}&id=tr-1&c={client}"));
        assert!(r.body.contains("status=\"ok\""), "{}", r.body);
        assert_valid_xml(&r.body);
        r.body
    };
    let legacy = body("Sonixd");
    assert!(
        !legacy.contains("<contributors") && !legacy.contains("<genres"),
        "{legacy}"
    );
    let dsub = body("DSub");
    assert!(
        dsub.contains("<contributors role=\"composer\"><artist "),
        "{dsub}"
    );
}
