//! Internet radio, chat, avatars and the podcast lists of a server without subscriptions over real HTTP: golden paths
//! and errors in XML (XSD-validated) and JSON (schema-validated); radio changes are for
//! admins; chat `since`; avatars set with the command line, fetched with getAvatar, 304 on
//! revalidation, 70 without one.

mod common;

use common::api::*;
use image::{DynamicImage, ImageFormat, RgbImage};
use mediastreamer::synth::Format;
use serde_json::Value;
use std::io::Cursor;
use std::sync::OnceLock;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start_server(1, |music| {
            put(
                music,
                "A/B/01.mp3",
                Format::Mp3,
                song("One", "A", "B", "A", 1),
            )
        })
    })
}

fn ok(r: &Value) {
    assert_eq!(r["status"], "ok", "{r}");
}

/// `method` in JSON (schema-checked); returns the `subsonic-response` object.
fn json(method: &str, query: &str) -> Value {
    let r = server().get(&format!("/rest/{method}?{query}&f=json"));
    assert_eq!(r.status, 200);
    let whole: Value = serde_json::from_str(&r.body).unwrap();
    assert_valid_json(method, &whole);
    r.json()
}

/// `method` in XML (XSD-validated); returns the body.
fn xml(method: &str, query: &str) -> String {
    let r = server().get(&format!("/rest/{method}.view?{query}"));
    assert_eq!(r.status, 200);
    assert_valid_xml(&r.body);
    r.body
}

/// Both formats fail with `code`.
fn both_fail(method: &str, query: &str, code: i64) {
    let r = server().call_both(method, query);
    assert_error(&r, code);
    let body = xml(method, query);
    assert!(body.contains(&format!("code=\"{code}\"")), "{body}");
}

/// The stations as `user` lists them (XML and JSON checked), by name.
fn stations(user: &str) -> Vec<Value> {
    let r = server().call_both("getInternetRadioStations", user);
    ok(&r);
    r["internetRadioStations"]["internetRadioStation"]
        .as_array()
        .unwrap_or_else(|| panic!("no station array: {r}"))
        .clone()
}

fn station(user: &str, name: &str) -> Option<Value> {
    stations(user).into_iter().find(|s| s["name"] == name)
}

#[test]
fn radio_stations_are_listed_for_all_and_kept_by_admins() {
    // JSON create with a home page; XML create without.
    ok(&json(
        "createInternetRadioStation",
        &format!(
            "{ADMIN}&name=Jazz%20FM&streamUrl=https%3A%2F%2Fstream.example.org%2Fjazz.mp3\
             &homepageUrl=https%3A%2F%2Fexample.org%2F"
        ),
    ));
    let body = xml(
        "createInternetRadioStation",
        &format!("{ADMIN}&name=Talk&streamUrl=http%3A%2F%2F10.0.0.5%3A8000%2Flive"),
    );
    assert!(body.contains("status=\"ok\""), "{body}");

    // Everyone sees them, sorted by name, with the response's spelling homePageUrl.
    let jazz = station(BOB, "Jazz FM").unwrap();
    assert_eq!(jazz["streamUrl"], "https://stream.example.org/jazz.mp3");
    assert_eq!(jazz["homePageUrl"], "https://example.org/");
    assert!(jazz["id"].is_string());
    let talk = station(BOB, "Talk").unwrap();
    assert!(talk.get("homePageUrl").is_none(), "{talk}");
    let r = server().get(&format!("/rest/getInternetRadioStations.view?{BOB}"));
    assert!(
        r.body.contains("<internetRadioStation id=")
            && r.body.contains("homePageUrl=\"https://example.org/\""),
        "{}",
        r.body
    );

    // Update (XML): name and stream change, the home page goes when not given.
    let id = jazz["id"].as_str().unwrap().to_string();
    let body = xml(
        "updateInternetRadioStation",
        &format!(
            "{ADMIN}&id={id}&name=Jazz%20Radio&streamUrl=https%3A%2F%2Fstream.example.org%2Fjazz2"
        ),
    );
    assert!(body.contains("status=\"ok\""), "{body}");
    let renamed = station(BOB, "Jazz Radio").unwrap();
    assert_eq!(renamed["id"], id.as_str());
    assert_eq!(renamed["streamUrl"], "https://stream.example.org/jazz2");
    assert!(renamed.get("homePageUrl").is_none());
    assert!(station(BOB, "Jazz FM").is_none());

    // Delete (JSON).
    ok(&json(
        "deleteInternetRadioStation",
        &format!("{ADMIN}&id={id}"),
    ));
    assert!(station(BOB, "Jazz Radio").is_none());
    assert!(station(BOB, "Talk").is_some());
}

#[test]
fn radio_errors() {
    // Stations named "Refused" are never created (other tests add stations meanwhile).
    let good = "name=Refused&streamUrl=http%3A%2F%2Fradio.example%2Fs";
    // Not an admin: 50 for every change, and nothing changes.
    both_fail("createInternetRadioStation", &format!("{BOB}&{good}"), 50);
    both_fail(
        "updateInternetRadioStation",
        &format!("{BOB}&id=1&{good}"),
        50,
    );
    both_fail("deleteInternetRadioStation", &format!("{BOB}&id=1"), 50);
    assert!(station(ADMIN, "Refused").is_none());
    // Missing parameters: 10.
    both_fail(
        "createInternetRadioStation",
        &format!("{ADMIN}&name=Refused"),
        10,
    );
    both_fail(
        "createInternetRadioStation",
        &format!("{ADMIN}&streamUrl=http%3A%2F%2Fr.example%2F"),
        10,
    );
    both_fail("updateInternetRadioStation", &format!("{ADMIN}&{good}"), 10);
    both_fail("deleteInternetRadioStation", ADMIN, 10);
    // URLs that are not absolute http(s): 0.
    for bad in [
        "ftp%3A%2F%2Fr.example%2Fs",
        "javascript%3Aalert(1)",
        "%2Frelative",
    ] {
        both_fail(
            "createInternetRadioStation",
            &format!("{ADMIN}&name=Refused&streamUrl={bad}"),
            0,
        );
    }
    both_fail(
        "createInternetRadioStation",
        &format!("{ADMIN}&{good}&homepageUrl=file%3A%2F%2F%2Fetc%2Fpasswd"),
        0,
    );
    both_fail(
        "createInternetRadioStation",
        &format!("{ADMIN}&name=%20%20&streamUrl=http%3A%2F%2Fr.example%2F"),
        0,
    );
    assert!(station(ADMIN, "Refused").is_none());
    // Unknown ids: 70.
    both_fail(
        "updateInternetRadioStation",
        &format!("{ADMIN}&id=999999&{good}"),
        70,
    );
    both_fail(
        "updateInternetRadioStation",
        &format!("{ADMIN}&id=abc&{good}"),
        70,
    );
    both_fail(
        "deleteInternetRadioStation",
        &format!("{ADMIN}&id=999999"),
        70,
    );
}

#[test]
fn chat_messages_newest_first_and_since() {
    ok(&json(
        "addChatMessage",
        &format!("{BOB}&message=hello%20%3Cworld%3E%20%26%20co"),
    ));
    let r = json("getChatMessages", BOB);
    ok(&r);
    let first = r["chatMessages"]["chatMessage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message"] == "hello <world> & co")
        .unwrap()
        .clone();
    assert_eq!(first["username"], "bob");
    let first_time = first["time"].as_i64().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let body = xml("addChatMessage", &format!("{ADMIN}&message=second%20one"));
    assert!(body.contains("status=\"ok\""), "{body}");

    // Since the first message: only the second. Newest first without `since`.
    let r = server().call_both("getChatMessages", &format!("{BOB}&since={first_time}"));
    ok(&r);
    let list = r["chatMessages"]["chatMessage"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{r}");
    assert_eq!(list[0]["message"], "second one");
    assert_eq!(list[0]["username"], "admin");
    let all = server().call_both("getChatMessages", ADMIN);
    let all = all["chatMessages"]["chatMessage"].as_array().unwrap();
    let pos = |text: &str| all.iter().position(|m| m["message"] == text).unwrap();
    assert!(pos("second one") < pos("hello <world> & co"));
    let times: Vec<i64> = all.iter().map(|m| m["time"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // In XML the text is escaped in its attribute.
    let body = xml(
        "getChatMessages",
        &format!("{BOB}&since={}", first_time - 1),
    );
    assert!(
        body.contains("message=\"hello &lt;world&gt; &amp; co\""),
        "{body}"
    );
    // A future `since`: an empty list, still a list.
    let r = json("getChatMessages", &format!("{BOB}&since={}", i64::MAX / 2));
    assert_eq!(r["chatMessages"]["chatMessage"], serde_json::json!([]));

    // Errors.
    both_fail("addChatMessage", BOB, 10);
    both_fail("addChatMessage", &format!("{BOB}&message=%20%20"), 10);
    both_fail(
        "addChatMessage",
        &format!("{BOB}&message={}", "x".repeat(4001)),
        0,
    );
    both_fail("getChatMessages", &format!("{BOB}&since=yesterday"), 0);
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    }))
    .write_to(&mut out, ImageFormat::Png)
    .unwrap();
    out.into_inner()
}

#[test]
fn avatars_set_with_the_cli_and_fetched_with_get_avatar() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("me.png");
    std::fs::write(&small, png(64, 48)).unwrap();
    let out = server().cli(&["user", "avatar", "bob", small.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");

    // Anyone signed in may fetch bob's avatar: the image as stored, typed, cacheable.
    let r = server().fetch(&format!("/rest/getAvatar?{ADMIN}&username=bob"), &[]);
    assert_eq!(r.status, 200, "{}", r.headers);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.body, std::fs::read(&small).unwrap());
    assert!(r.header("cache-control").unwrap().contains("max-age"));
    assert!(r.header("last-modified").is_some());
    let etag = r.header("etag").unwrap().to_string();
    let r = server().fetch(
        &format!("/rest/getAvatar.view?{BOB}&username=bob"),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());

    // A large image is scaled down to 512 pixels; a new avatar gets a new ETag.
    let large = dir.path().join("large.png");
    std::fs::write(&large, png(1600, 800)).unwrap();
    let out = server().cli(&["user", "avatar", "bob", large.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let r = server().fetch(&format!("/rest/getAvatar?{BOB}&username=bob"), &[]);
    let img = image::load_from_memory(&r.body).unwrap();
    assert_eq!((img.width(), img.height()), (512, 256));
    assert_ne!(r.header("etag").unwrap(), etag);

    // The command line refuses what is not an image, and unknown users.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a picture").unwrap();
    let out = server().cli(&["user", "avatar", "bob", text.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an image"),
        "{out:?}"
    );
    let out = server().cli(&["user", "avatar", "nobody", small.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
    // bob's avatar survived the refused attempts.
    let r = server().fetch(&format!("/rest/getAvatar?{BOB}&username=bob"), &[]);
    assert_eq!(r.status, 200);

    // Without an avatar (or without such a user): 70, as an envelope in either format.
    for user in ["admin", "nobody"] {
        let r = server().fetch(
            &format!("/rest/getAvatar?{BOB}&username={user}&f=json"),
            &[],
        );
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        assert_error(&r.json(), 70);
        let r = server().get(&format!("/rest/getAvatar.view?{BOB}&username={user}"));
        assert!(r.header("content-type").unwrap().starts_with("text/xml"));
        assert_valid_xml(&r.body);
        assert!(r.body.contains("code=\"70\""), "{}", r.body);
    }
    let r = server().fetch(&format!("/rest/getAvatar?{BOB}&f=json"), &[]);
    assert_error(&r.json(), 10);
    let r = server().get(&format!("/rest/getAvatar.view?{BOB}"));
    assert_valid_xml(&r.body);
    assert!(r.body.contains("code=\"10\""), "{}", r.body);

    // Removing it: 70 again.
    let out = server().cli(&["user", "avatar", "bob", "--remove"]);
    assert!(out.status.success(), "{out:?}");
    let r = server().fetch(&format!("/rest/getAvatar?{BOB}&username=bob&f=json"), &[]);
    assert_error(&r.json(), 70);
}

#[test]
fn podcast_lists_are_empty_without_subscriptions() {
    let r = server().call_both("getPodcasts", BOB);
    ok(&r);
    assert_eq!(r["podcasts"]["channel"], serde_json::json!([]), "{r}");
    let body = xml("getPodcasts", &format!("{BOB}&includeEpisodes=false"));
    assert!(
        body.contains("<podcasts") && !body.contains("<channel"),
        "{body}"
    );
    let r = server().call_both("getNewestPodcasts", &format!("{BOB}&count=5"));
    ok(&r);
    assert_eq!(r["newestPodcasts"]["episode"], serde_json::json!([]), "{r}");
    let body = xml("getNewestPodcasts", BOB);
    assert!(
        body.contains("<newestPodcasts") && !body.contains("<episode"),
        "{body}"
    );

    both_fail("getPodcasts", &format!("{BOB}&id=pc-1"), 70);
    both_fail("getPodcasts", &format!("{BOB}&includeEpisodes=maybe"), 0);
    both_fail("getNewestPodcasts", &format!("{BOB}&count=many"), 0);

    let r = server()
        .get("/rest/getOpenSubsonicExtensions?f=json")
        .json();
    let names: Vec<&str> = r["openSubsonicExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"getPodcastEpisode"), "{names:?}");
}
