//! The saved play queue and bookmarks over real HTTP: savePlayQueue/getPlayQueue, the
//! OpenSubsonic index-based pair, getBookmarks/createBookmark/deleteBookmark — golden path and
//! errors in XML (XSD-validated) and JSON (schema-validated), per-user state, and concurrent
//! saves that always leave (and show) one whole queue.
//!
//! Tests share one server; each uses its own user so their queues and bookmarks do not meet.

mod common;

use common::api::*;
use mediastreamer::synth::Format;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

struct Fixture {
    server: Server,
    ids: HashMap<String, String>,
}

/// Users made for the tests (password = name + "pw").
const USERS: &[&str] = &[
    "queue1", "queue2", "indexed", "racer", "marks", "empty", "long",
];

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let server = start_server(4, |music| {
            for (rel, title, n) in [
                ("A/Album/01.mp3", "One", 1),
                ("A/Album/02.mp3", "Two", 2),
                ("A/Album/03.ogg", "Three", 3),
                ("A/Album/04.ogg", "Four", 4),
            ] {
                let format = if rel.ends_with("ogg") {
                    Format::Ogg
                } else {
                    Format::Mp3
                };
                put(
                    music,
                    rel,
                    format,
                    song(title, "Artist", "Album", "Artist", n),
                );
            }
        });
        for user in USERS {
            let out = server.cli(&["user", "add", user, "--password", &format!("{user}pw")]);
            assert!(out.status.success(), "{out:?}");
        }
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
        assert_eq!(ids.len(), 4);
        Fixture { server, ids }
    })
}

fn server() -> &'static Server {
    &fixture().server
}

fn id(title: &str) -> &'static str {
    &fixture().ids[title]
}

fn auth(user: &str) -> String {
    format!("u={user}&p={user}pw")
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

fn ids_param(titles: &[&str]) -> String {
    titles.iter().map(|t| format!("&id={}", id(t))).collect()
}

fn entry_titles(queue: &Value) -> Vec<String> {
    queue["entry"]
        .as_array()
        .unwrap_or_else(|| panic!("no entry array: {queue}"))
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_string())
        .collect()
}

fn queue_of(user: &str) -> Value {
    let r = server().call_both("getPlayQueue", &auth(user));
    ok(&r);
    r["playQueue"].clone()
}

/// A user who never saved a queue gets an ok envelope without `playQueue`/`playQueueByIndex`.
/// Its JSON is checked against the empty envelope's schema (ping's): the OpenSubsonic schemas
/// of the two methods describe a saved queue only, while Subsonic itself (and the project's spec notes) answer an empty response when nothing was saved.
fn assert_never_saved(user: &str) {
    for (method, key) in [
        ("getPlayQueue", "playQueue"),
        ("getPlayQueueByIndex", "playQueueByIndex"),
    ] {
        let raw = server().get(&format!("/rest/{method}?{}&f=json", auth(user)));
        let whole: Value = serde_json::from_str(&raw.body).unwrap();
        assert_valid_json("ping", &whole);
        let r = raw.json();
        ok(&r);
        assert!(r.get(key).is_none(), "{method}: {r}");
        let body = xml(method, &auth(user));
        xml_ok(&body);
        assert!(!body.contains(&format!("<{key}")), "{body}");
    }
}

#[test]
fn save_and_restore_the_queue() {
    let user = "queue1";
    // Never saved: no queue at all (as Subsonic answers), in both formats and both shapes, so
    // no client offers to "restore" an empty queue.
    assert_never_saved(user);

    // XML save with a repeated song; current names the second one.
    let body = xml(
        "savePlayQueue",
        &format!(
            "{}&c=DSub{}&current={}&position=61234",
            auth(user),
            ids_param(&["One", "Two", "One", "Three"]),
            id("Two")
        ),
    );
    xml_ok(&body);
    let q = queue_of(user);
    assert_eq!(entry_titles(&q), ["One", "Two", "One", "Three"]);
    assert_eq!(q["current"], id("Two"));
    assert_eq!(q["position"], 61234);
    assert_eq!(q["changedBy"], "DSub");
    assert!(chrono::DateTime::parse_from_rfc3339(q["changed"].as_str().unwrap()).is_ok());
    assert_ne!(q["changed"], "1970-01-01T00:00:00.000Z");
    assert_eq!(q["entry"][0]["isDir"], false);
    // The XML form carries the id as a string too.
    let body = xml("getPlayQueue", &auth(user));
    assert!(
        body.contains(&format!("current=\"{}\"", id("Two"))),
        "{body}"
    );

    // JSON save replaces it; no position means 0, no current means the first song.
    ok(&json(
        "savePlayQueue",
        &format!("{}&c=Tempo{}", auth(user), ids_param(&["Four", "Three"])),
    ));
    let q = queue_of(user);
    assert_eq!(entry_titles(&q), ["Four", "Three"]);
    assert_eq!(
        (q["current"].as_str(), q["position"].as_i64()),
        (Some(id("Four")), Some(0))
    );
    assert_eq!(q["changedBy"], "Tempo");

    // Another user's queue is their own.
    assert_never_saved("empty");

    // Saving no ids clears it.
    ok(&json("savePlayQueue", &format!("{}&c=Tempo", auth(user))));
    let q = queue_of(user);
    assert_eq!(q["entry"], Value::Array(vec![]));
    assert!(q["current"].is_null());
    assert_ne!(q["changed"], "1970-01-01T00:00:00.000Z");
}

#[test]
fn bad_queue_saves_are_refused_and_change_nothing() {
    let user = "queue2";
    ok(&json(
        "savePlayQueue",
        &format!(
            "{}{}&current={}",
            auth(user),
            ids_param(&["One", "Two"]),
            id("Two")
        ),
    ));
    let e = |method: &str, query: &str, code: i64| {
        assert_error(
            &server().call_both(method, &format!("{}&{query}", auth(user))),
            code,
        )
    };
    let two = ids_param(&["Three", "Four"]);
    e("savePlayQueue", "id=tr-999999&current=tr-999999", 70);
    e("savePlayQueue", &format!("{two}&id=al-1"), 70);
    e("savePlayQueue", &format!("{two}&current={}", id("One")), 0);
    e("savePlayQueue", &format!("{two}&current=junk"), 0);
    e("savePlayQueue", &format!("{two}&position=-5"), 0);
    e("savePlayQueue", &format!("{two}&position=soon"), 0);
    e("savePlayQueueByIndex", &two, 10);
    e("savePlayQueueByIndex", &format!("{two}&currentIndex=2"), 10);
    e(
        "savePlayQueueByIndex",
        &format!("{two}&currentIndex=-1"),
        10,
    );
    e(
        "savePlayQueueByIndex",
        &format!("{two}&currentIndex=0&id=tr-999999"),
        70,
    );
    let q = queue_of(user);
    assert_eq!(entry_titles(&q), ["One", "Two"]);
    assert_eq!(q["current"], id("Two"));
    // Unauthenticated calls are refused too.
    assert_error(&server().call_both("getPlayQueue", "u=queue2&p=wrong"), 40);
}

#[test]
fn index_based_queue_keeps_which_repeat_is_current() {
    let user = "indexed";
    let r = server().call_both("getOpenSubsonicExtensions", "");
    let advertised = r["openSubsonicExtensions"].as_array().unwrap();
    assert!(
        advertised
            .iter()
            .any(|e| *e == serde_json::json!({"name": "indexBasedQueue", "versions": [1]})),
        "{r}"
    );
    let body = xml(
        "savePlayQueueByIndex",
        &format!(
            "{}&c=Supersonic{}&currentIndex=2&position=500",
            auth(user),
            ids_param(&["Three", "One", "Three"])
        ),
    );
    xml_ok(&body);
    let r = server().call_both("getPlayQueueByIndex", &auth(user));
    ok(&r);
    let q = &r["playQueueByIndex"];
    assert_eq!(entry_titles(q), ["Three", "One", "Three"]);
    assert_eq!(
        (q["currentIndex"].as_i64(), q["position"].as_i64()),
        (Some(2), Some(500))
    );
    assert_eq!(
        (q["username"].as_str(), q["changedBy"].as_str()),
        (Some(user), Some("Supersonic"))
    );
    // The id-based view of the same queue.
    assert_eq!(queue_of(user)["current"], id("Three"));
    // A queue saved by id reads back with its index.
    ok(&json(
        "savePlayQueue",
        &format!(
            "{}{}&current={}",
            auth(user),
            ids_param(&["One", "Four"]),
            id("Four")
        ),
    ));
    let r = json("getPlayQueueByIndex", &auth(user));
    assert_eq!(r["playQueueByIndex"]["currentIndex"], 1);
    // JSON save by index; clearing with no ids needs no index.
    ok(&json(
        "savePlayQueueByIndex",
        &format!("{}{}&currentIndex=0", auth(user), ids_param(&["Two"])),
    ));
    assert_eq!(entry_titles(&queue_of(user)), ["Two"]);
    ok(&json("savePlayQueueByIndex", &auth(user)));
    let r = server().call_both("getPlayQueueByIndex", &auth(user));
    assert_eq!(r["playQueueByIndex"]["entry"], Value::Array(vec![]));
    assert!(r["playQueueByIndex"]["currentIndex"].is_null());
}

#[test]
fn concurrent_saves_leave_one_whole_queue() {
    let user = "racer";
    let a = ["One", "Two", "Three", "One"];
    let b = ["Four", "Three"];
    let query = |titles: &[&str], current: usize, position: i64, client: &str| {
        format!(
            "{}&f=json&c={client}{}&currentIndex={current}&position={position}",
            auth(user),
            ids_param(titles)
        )
    };
    let states: Vec<(Vec<String>, i64, i64, &str)> = vec![
        (a.iter().map(|s| s.to_string()).collect(), 3, 1111, "A"),
        (b.iter().map(|s| s.to_string()).collect(), 1, 2222, "B"),
    ];
    let check = |q: &Value| {
        let seen = (
            entry_titles(q),
            q["currentIndex"].as_i64().unwrap(),
            q["position"].as_i64().unwrap(),
            q["changedBy"].as_str().unwrap().to_string(),
        );
        assert!(
            states
                .iter()
                .any(|(t, c, p, by)| (t, *c, *p, *by) == (&seen.0, seen.1, seen.2, seen.3.as_str())),
            "a mix of two saves: {seen:?}"
        );
    };
    ok(&server()
        .get(&format!(
            "/rest/savePlayQueueByIndex?{}",
            query(&a, 3, 1111, "A")
        ))
        .json());
    std::thread::scope(|s| {
        for (titles, current, position, client) in [(&a[..], 3, 1111, "A"), (&b[..], 1, 2222, "B")]
        {
            s.spawn(move || {
                for _ in 0..25 {
                    let r = request(
                        server().port,
                        "POST",
                        "/rest/savePlayQueueByIndex",
                        Some(&query(titles, current, position, client)),
                    )
                    .unwrap();
                    ok(&r.json());
                }
            });
        }
        // A reader meanwhile only ever sees one of the two queues, whole.
        s.spawn(|| {
            for _ in 0..25 {
                let r = json("getPlayQueueByIndex", &auth(user));
                ok(&r);
                check(&r["playQueueByIndex"]);
            }
        });
    });
    let r = json("getPlayQueueByIndex", &auth(user));
    check(&r["playQueueByIndex"]);
}

#[test]
fn bookmarks_golden_path_and_errors() {
    let user = "marks";
    let me = auth(user);
    // Symfonium aborts its sync without the container: present and empty.
    let r = server().call_both("getBookmarks", &auth("empty"));
    ok(&r);
    assert_eq!(r["bookmarks"]["bookmark"], Value::Array(vec![]));

    xml_ok(&xml(
        "createBookmark",
        &format!("{me}&id={}&position=90000&comment=chapter%203", id("One")),
    ));
    ok(&json(
        "createBookmark",
        &format!("{me}&id={}&position=1500", id("Three")),
    ));
    let r = server().call_both("getBookmarks", &me);
    ok(&r);
    let marks = r["bookmarks"]["bookmark"].as_array().unwrap().clone();
    assert_eq!(marks.len(), 2);
    let by_song: HashMap<String, &Value> = marks
        .iter()
        .map(|m| (m["entry"]["title"].as_str().unwrap().to_string(), m))
        .collect();
    let one = by_song["One"];
    assert_eq!(one["position"], 90000);
    assert_eq!(one["comment"], "chapter 3");
    assert_eq!(one["username"], user);
    assert_eq!(one["entry"]["id"], id("One"));
    let created = one["created"].clone();
    assert!(chrono::DateTime::parse_from_rfc3339(created.as_str().unwrap()).is_ok());
    assert!(by_song["Three"]["comment"].is_null());

    // Saving again moves it (creation time kept); other users see none of this.
    std::thread::sleep(std::time::Duration::from_millis(5));
    ok(&json(
        "createBookmark",
        &format!("{me}&id={}&position=120000", id("One")),
    ));
    let r = json("getBookmarks", &me);
    let first = &r["bookmarks"]["bookmark"][0];
    assert_eq!(
        first["entry"]["title"], "One",
        "most recently changed first"
    );
    assert_eq!(first["position"], 120000);
    assert_eq!(first["created"], created);
    assert_ne!(first["changed"], created);
    assert_eq!(
        json("getBookmarks", &auth("empty"))["bookmarks"]["bookmark"],
        Value::Array(vec![])
    );

    // Errors, in both formats, change nothing.
    let e = |method: &str, query: &str, code: i64| {
        assert_error(&server().call_both(method, &format!("{me}&{query}")), code)
    };
    e("createBookmark", "position=10", 10);
    e("createBookmark", &format!("id={}", id("Two")), 10);
    e(
        "createBookmark",
        &format!("id={}&position=-1", id("Two")),
        0,
    );
    e("createBookmark", &format!("id={}&position=x", id("Two")), 0);
    e("createBookmark", "id=tr-999999&position=10", 70);
    e("createBookmark", "id=al-1&position=10", 70);
    e("deleteBookmark", "", 10);
    e("deleteBookmark", &format!("id={}", id("Two")), 70);
    e("deleteBookmark", "id=tr-999999", 70);
    assert_eq!(
        json("getBookmarks", &me)["bookmarks"]["bookmark"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Delete in XML and in JSON.
    xml_ok(&xml("deleteBookmark", &format!("{me}&id={}", id("One"))));
    ok(&json("deleteBookmark", &format!("{me}&id={}", id("Three"))));
    assert_eq!(
        json("getBookmarks", &me)["bookmarks"]["bookmark"],
        Value::Array(vec![])
    );
}

/// A long queue is streamed in chunks: every entry, in order (repeats kept), the same songs as
/// a playlist of them renders, valid XML and JSON.
#[test]
fn a_long_queue_comes_back_whole_and_in_order() {
    let user = "long";
    let titles = ["Two", "One", "Four", "Three", "One"];
    let order: Vec<&str> = (0..1_203).map(|i| titles[i % titles.len()]).collect();
    let form = format!(
        "{}&f=json&currentIndex=700{}",
        auth(user),
        ids_param(&order)
    );
    let r = request(
        server().port,
        "POST",
        "/rest/savePlayQueueByIndex",
        Some(&form),
    )
    .unwrap();
    ok(&r.json());
    let queue = json("getPlayQueueByIndex", &auth(user));
    ok(&queue);
    let queue = &queue["playQueueByIndex"];
    assert_eq!(queue["currentIndex"], 700);
    assert_eq!(entry_titles(queue), order);
    let by_id = json("getPlayQueue", &auth(user));
    assert_eq!(by_id["playQueue"]["current"], id(order[700]));
    assert_eq!(by_id["playQueue"]["entry"], queue["entry"]);
    let body = xml("getPlayQueue", &auth(user));
    assert!(
        body.ends_with("</playQueue></subsonic-response>"),
        "{}",
        &body[body.len() - 80..]
    );
    assert_eq!(body.matches("<entry ").count(), order.len());
    // The songs are those a playlist of them shows.
    let form = format!(
        "{}&f=json&name=same{}",
        auth(user),
        ids_param(&order).replace("&id=", "&songId=")
    );
    let r = request(server().port, "POST", "/rest/createPlaylist", Some(&form)).unwrap();
    let created = r.json();
    ok(&created);
    let playlist = json(
        "getPlaylist",
        &format!(
            "{}&id={}",
            auth(user),
            created["playlist"]["id"].as_str().unwrap()
        ),
    );
    assert_eq!(playlist["playlist"]["entry"], queue["entry"]);
}
