//! Scrobbling to ListenBrainz and Last.fm, end to end: the real server, its queue and workers,
//! against local fake services (`scrobbling::fake`) that check every request.

mod common;

use common::api::*;
use mediastreamer::scrobbling::fake::{FakeService, Reply, Request};
use mediastreamer::synth::{Format, TrackSpec};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RECORDING: &str = "11111111-2222-3333-4444-555555555555";
const RELEASE: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const GOOD_TOKEN: &str = "good-token";
const API_KEY: &str = "fm-key";
const SECRET: &str = "fm-secret";

fn library(music: &std::path::Path) {
    for (i, title) in ["One", "Two", "Three"].iter().enumerate() {
        let spec = TrackSpec {
            mb_recording_id: (i == 0).then(|| RECORDING.to_string()),
            mb_release_id: Some(RELEASE.to_string()),
            ..song(title, "The Band", "The Record", "The Band", i as u32 + 1)
        };
        put(music, &format!("Band/Record/{i}.mp3"), Format::Mp3, spec);
    }
}

/// The ids of the three songs by title.
fn song_ids(server: &Server) -> Vec<(String, String)> {
    let mut songs: Vec<(String, String)> = admin_songs(server.port)
        .iter()
        .map(|s| {
            (
                s["title"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    songs.sort_by_key(|(t, _)| ["One", "Two", "Three"].iter().position(|x| x == t));
    songs
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The caller's services, by id.
fn service(server: &Server, user: &str, id: &str) -> serde_json::Value {
    let r = server.get(&format!("/rest/getScrobbleServices?{user}&f=json"));
    r.json()["scrobbleServices"]["service"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .cloned()
        .unwrap()
}

/// A ListenBrainz fake: validates `GOOD_TOKEN` (account "bobby"); answers submissions with
/// what `submit` says (a status).
fn listenbrainz(port: u16, submit: impl Fn(&Request) -> u16 + Send + 'static) -> FakeService {
    FakeService::start_on(port, move |r: &Request| {
        let token = r.header("authorization").unwrap_or_default().to_string();
        match r.path() {
            "/1/validate-token" => {
                assert_eq!(r.method, "GET");
                if token == format!("Token {GOOD_TOKEN}") {
                    Reply::json(
                        200,
                        json!({"code": 200, "message": "Token valid.", "valid": true, "user_name": "bobby"}),
                    )
                } else {
                    Reply::json(
                        200,
                        json!({"code": 200, "message": "Token invalid.", "valid": false}),
                    )
                }
            }
            "/1/submit-listens" => {
                assert_eq!(r.method, "POST");
                assert_eq!(r.header("content-type"), Some("application/json"));
                let status = submit(r);
                if status == 401 {
                    Reply::json(
                        401,
                        json!({"code": 401, "error": "Invalid authorization token."}),
                    )
                } else {
                    Reply::json(
                        status,
                        json!({"status": if status == 200 { "ok" } else { "error" }}),
                    )
                }
            }
            other => panic!("unexpected request {other}"),
        }
    })
}

/// The listens a ListenBrainz fake took (answered 200): (listened_at, track name).
fn accepted_listens(fake: &FakeService, accepted: &Mutex<Vec<usize>>) -> Vec<(i64, String)> {
    let ok = accepted.lock().unwrap().clone();
    fake.requests()
        .iter()
        .filter(|r| r.path() == "/1/submit-listens")
        .enumerate()
        .filter(|(i, r)| ok.contains(i) && r.json()["listen_type"] != "playing_now")
        .flat_map(|(_, r)| {
            r.json()["payload"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l["listened_at"].as_i64().unwrap(),
                        l["track_metadata"]["track_name"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn scrobbling_config(lb_port: u16, extra: &str) -> String {
    format!(
        "[scrobbling]\nlistenbrainz = [{{ id = \"lb\", name = \"ListenBrainz\", url = \"http://127.0.0.1:{lb_port}\" }}]\nretry_initial_ms = 50\nretry_max_ms = 400\ntimeout_secs = 5\n{extra}"
    )
}

#[test]
fn listenbrainz_gets_every_listen_once_in_order_through_failures() {
    let lb_port = free_port();
    // The fake fails its first two submissions with 503, then takes everything.
    let seen = Arc::new(AtomicUsize::new(0));
    let accepted: Arc<Mutex<Vec<usize>>> = Arc::default();
    let (s2, a2) = (seen.clone(), accepted.clone());
    let fake = listenbrainz(lb_port, move |r| {
        assert_eq!(r.header("authorization"), Some("Token good-token"));
        let n = s2.fetch_add(1, Ordering::SeqCst);
        if r.json()["listen_type"] == "playing_now" {
            a2.lock().unwrap().push(n);
            return 200;
        }
        if n < 3 {
            503
        } else {
            a2.lock().unwrap().push(n);
            200
        }
    });
    let server = start_server_configured(&["music"], &scrobbling_config(lb_port, ""), 3, |f| {
        library(&f[0])
    });
    let ids = song_ids(&server);

    // Before linking: listed, not linked.
    let r = server.call_both("getScrobbleServices", BOB);
    let lb = &r["scrobbleServices"]["service"][0];
    assert_eq!(lb["id"], "lb");
    assert_eq!(lb["type"], "listenbrainz");
    assert_eq!(lb["linked"], false);
    assert_eq!(lb["pending"], 0);

    // A token the service refuses is not linked; errors in both formats.
    let r = server.call_both("linkListenBrainz", &format!("{BOB}&service=lb&token=wrong"));
    assert_error(&r, 0);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid"),
        "{r}"
    );
    assert_error(
        &server.call_both("linkListenBrainz", &format!("{BOB}&service=nope&token=x")),
        70,
    );
    assert_error(
        &server.call_both("linkListenBrainz", &format!("{BOB}&service=lb")),
        10,
    );
    assert_eq!(service(&server, BOB, "lb")["linked"], false);

    let r = server.call_both(
        "linkListenBrainz",
        &format!("{BOB}&service=lb&token={GOOD_TOKEN}"),
    );
    let lb = &r["scrobbleServices"]["service"][0];
    assert_eq!(lb["linked"], true, "{r}");
    assert_eq!(lb["account"], "bobby");
    assert!(lb.get("loveOnStar").is_none(), "Last.fm only");

    // Now playing: sent once, best effort, with the client's name.
    let r = server.get(&format!(
        "/rest/scrobble?{BOB}&f=json&id={}&submission=false&c=TestPlayer",
        ids[1].1
    ));
    assert_eq!(r.json()["status"], "ok");
    wait_for("playing now", Duration::from_secs(10), || {
        fake.requests()
            .iter()
            .any(|r| r.json()["listen_type"] == "playing_now")
    });
    let now = fake
        .requests()
        .into_iter()
        .find(|r| r.json()["listen_type"] == "playing_now")
        .unwrap()
        .json();
    assert_eq!(now["payload"][0]["track_metadata"]["track_name"], "Two");
    assert_eq!(
        now["payload"][0]["track_metadata"]["additional_info"]["media_player"],
        "TestPlayer"
    );
    assert!(now["payload"][0].get("listened_at").is_none());

    // Three listens in three calls, with their own times; the first two sends fail (503).
    let times = [1_700_000_000_000i64, 1_700_000_300_000, 1_700_000_600_000];
    for (i, (_, id)) in ids.iter().enumerate() {
        let r = server.get(&format!(
            "/rest/scrobble?{BOB}&f=json&id={id}&time={}&submission=true&c=TestPlayer",
            times[i]
        ));
        assert_eq!(r.json()["status"], "ok");
    }
    wait_for("the listens", Duration::from_secs(20), || {
        accepted_listens(&fake, &accepted).len() >= 3
    });
    std::thread::sleep(Duration::from_millis(500));
    let got = accepted_listens(&fake, &accepted);
    assert_eq!(
        got,
        vec![
            (1_700_000_000, "One".to_string()),
            (1_700_000_300, "Two".to_string()),
            (1_700_000_600, "Three".to_string())
        ],
        "once each, in order, at their own times"
    );
    assert!(seen.load(Ordering::SeqCst) >= 4, "the 503s were retried");
    // The listen's whole JSON.
    let first = fake
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/1/submit-listens" && r.json()["listen_type"] != "playing_now")
        .map(|r| r.json())
        .find(|j| j["payload"][0]["track_metadata"]["track_name"] == "One")
        .unwrap();
    let meta = &first["payload"][0]["track_metadata"];
    assert_eq!(meta["artist_name"], "The Band");
    assert_eq!(meta["release_name"], "The Record");
    let info = &meta["additional_info"];
    assert_eq!(info["tracknumber"], 1);
    assert_eq!(info["recording_mbid"], RECORDING);
    assert_eq!(info["release_mbid"], RELEASE);
    assert_eq!(info["media_player"], "TestPlayer");
    assert_eq!(info["submission_client"], "MediaStreamer");
    assert!(info["duration_ms"].as_i64().unwrap() > 0);
    wait_for("an empty queue", Duration::from_secs(5), || {
        service(&server, BOB, "lb")["pending"] == 0
    });
    // Local play counts are kept as before.
    let song = server.call_both("getSong", &format!("{BOB}&id={}", ids[0].1));
    assert_eq!(song["song"]["playCount"], 1);
    // Nobody else's listens: the admin has no link, so nothing was queued for them.
    let r = server.get(&format!("/rest/scrobble?{ADMIN}&f=json&id={}", ids[0].1));
    assert_eq!(r.json()["status"], "ok");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(accepted_listens(&fake, &accepted).len(), 3);

    // Unlinking: gone, and unknown afterwards.
    let r = server.get(&format!(
        "/rest/unlinkScrobbleService?{BOB}&f=json&service=lb"
    ));
    assert_eq!(r.json()["scrobbleServices"]["service"][0]["linked"], false);
    assert_error(
        &server.call_both("unlinkScrobbleService", &format!("{BOB}&service=lb")),
        70,
    );
}

#[test]
fn listens_made_while_the_service_and_the_server_were_down_arrive_and_a_revoked_token_stops() {
    let lb_port = free_port();
    let accepted: Arc<Mutex<Vec<usize>>> = Arc::default();
    let revoked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let make = |accepted: Arc<Mutex<Vec<usize>>>, revoked: Arc<std::sync::atomic::AtomicBool>| {
        let count = AtomicUsize::new(0);
        move |_: &Request| {
            let n = count.fetch_add(1, Ordering::SeqCst);
            if revoked.load(Ordering::SeqCst) {
                return 401;
            }
            accepted.lock().unwrap().push(n);
            200
        }
    };
    let fake = listenbrainz(lb_port, make(accepted.clone(), revoked.clone()));
    let mut server = start_server_configured(&["music"], &scrobbling_config(lb_port, ""), 3, |f| {
        library(&f[0])
    });
    let ids = song_ids(&server);
    let r = server.call_both(
        "linkListenBrainz",
        &format!("{BOB}&service=lb&token={GOOD_TOKEN}"),
    );
    assert_eq!(r["scrobbleServices"]["service"][0]["linked"], true);

    // The service goes away: connections are refused. Listens wait in the queue.
    fake.stop();
    for (i, (_, id)) in ids.iter().enumerate() {
        let r = server.get(&format!(
            "/rest/scrobble?{BOB}&f=json&id={id}&time={}",
            (i as i64 + 1) * 1_000_000
        ));
        assert_eq!(r.json()["status"], "ok");
    }
    wait_for("a failed send", Duration::from_secs(10), || {
        service(&server, BOB, "lb")["lastError"].is_string()
    });
    let lb = service(&server, BOB, "lb");
    assert_eq!(lb["pending"], 3, "{lb}");
    assert!(
        lb.get("brokenReason").is_none(),
        "a refused connection is retried: {lb}"
    );

    // The server restarts with the listens still queued; then the service comes back.
    server.restart_with(&[]);
    assert_eq!(service(&server, BOB, "lb")["pending"], 3);
    let accepted: Arc<Mutex<Vec<usize>>> = Arc::default();
    let fake = listenbrainz(lb_port, make(accepted.clone(), revoked.clone()));
    wait_for("the queued listens", Duration::from_secs(20), || {
        service(&server, BOB, "lb")["pending"] == 0
    });
    std::thread::sleep(Duration::from_millis(300));
    let got = accepted_listens(&fake, &accepted);
    assert_eq!(
        got,
        vec![
            (1000, "One".into()),
            (2000, "Two".into()),
            (3000, "Three".into())
        ]
    );

    // The token is revoked: the link is marked broken with the reason, retries stop, the
    // listen stays queued.
    revoked.store(true, Ordering::SeqCst);
    let r = server.get(&format!(
        "/rest/scrobble?{BOB}&f=json&id={}&time=4000000",
        ids[0].1
    ));
    assert_eq!(r.json()["status"], "ok");
    wait_for("a broken link", Duration::from_secs(10), || {
        service(&server, BOB, "lb")["brokenReason"].is_string()
    });
    let lb = service(&server, BOB, "lb");
    assert!(lb["brokenReason"].as_str().unwrap().contains("401"), "{lb}");
    assert_eq!(lb["pending"], 1);
    let tries = fake.requests().len();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(fake.requests().len(), tries, "no retries after a rejection");
    // "Now playing" is not sent over a broken link either.
    server.get(&format!(
        "/rest/scrobble?{BOB}&f=json&id={}&submission=false",
        ids[0].1
    ));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fake.requests().len(), tries);

    // Relinking sends what waited.
    revoked.store(false, Ordering::SeqCst);
    let r = server.call_both(
        "linkListenBrainz",
        &format!("{BOB}&service=lb&token={GOOD_TOKEN}"),
    );
    assert!(
        r["scrobbleServices"]["service"][0]
            .get("brokenReason")
            .is_none()
    );
    wait_for("the kept listen", Duration::from_secs(10), || {
        accepted_listens(&fake, &accepted).len() == 4
    });
    assert_eq!(accepted_listens(&fake, &accepted)[3], (4000, "One".into()));
}

/// A Last.fm fake: checks every call's signature, hands out session "SK" for token "TOKEN",
/// and answers `track.scrobble` with what `scrobble` says (None: success, Some(code): error).
fn lastfm(scrobble: impl Fn(&Request) -> Option<i64> + Send + 'static) -> FakeService {
    FakeService::start(move |r: &Request| {
        assert_eq!(r.method, "POST", "{}", r.target);
        let form = r.form();
        let sig = r.param("api_sig").expect("api_sig");
        let unsigned: Vec<(String, String)> = form
            .iter()
            .filter(|(k, _)| k != "api_sig")
            .cloned()
            .collect();
        assert_eq!(
            sig,
            mediastreamer::scrobbling::lastfm::signature(&unsigned, SECRET),
            "signature of {form:?}"
        );
        // An independent check of the signature's text (sorted name+value, then the secret).
        let mut sorted: Vec<&(String, String)> =
            unsigned.iter().filter(|(k, _)| k != "format").collect();
        sorted.sort();
        let text: String = sorted
            .iter()
            .map(|(k, v)| format!("{k}{v}"))
            .collect::<String>()
            + SECRET;
        assert_eq!(sig, format!("{:x}", md5::compute(text)));
        assert_eq!(r.param("api_key").as_deref(), Some(API_KEY));
        assert_eq!(r.param("format").as_deref(), Some("json"));
        let method = r.param("method").unwrap();
        if method != "auth.getSession" {
            assert_eq!(r.param("sk").as_deref(), Some("SK"), "{method}");
        }
        match method.as_str() {
            "auth.getSession" => {
                if r.param("token").as_deref() == Some("TOKEN") {
                    Reply::json(
                        200,
                        json!({"session": {"name": "fmuser", "key": "SK", "subscriber": 0}}),
                    )
                } else {
                    Reply::json(
                        403,
                        json!({"error": 4, "message": "Invalid authentication token supplied"}),
                    )
                }
            }
            "track.scrobble" => match scrobble(r) {
                None => Reply::json(
                    200,
                    json!({"scrobbles": {"@attr": {"accepted": 1, "ignored": 0}}}),
                ),
                Some(code) => Reply::json(
                    if code == 9 { 403 } else { 503 },
                    json!({"error": code, "message": format!("error {code}")}),
                ),
            },
            "track.updateNowPlaying" | "track.love" | "track.unlove" => Reply::json(200, json!({})),
            other => panic!("unexpected method {other}"),
        }
    })
}

/// Links bob's Last.fm account as the browser would: the auth URL, then our callback.
fn link_lastfm(server: &Server, fake: &FakeService) {
    let r = server.call_both("getLastFmAuthUrl", BOB);
    let url = r["lastFmAuth"]["url"].as_str().unwrap().to_string();
    let prefix = format!("{}/api/auth/?api_key={API_KEY}&cb=", fake.url());
    assert!(url.starts_with(&prefix), "{url}");
    let callback = mediastreamer::scrobbling::fake::decode(&url[prefix.len()..]);
    // The request's own scheme and host (no `scrobbling.public_url` configured).
    assert!(callback.starts_with("http://localhost"), "{callback}");
    let path = &callback[callback.find("/scrobbling/").unwrap()..];
    assert!(
        path.starts_with("/scrobbling/lastfm/callback?state="),
        "{path}"
    );
    let back = server.get(&format!("{path}&token=TOKEN"));
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(back.header("location"), Some("/settings"));
    // The state is used once.
    let again = server.get(&format!("{path}&token=TOKEN"));
    assert_eq!(again.status, 400);
}

#[test]
fn lastfm_links_by_web_auth_and_scrobbles_signed_batches_of_at_most_50() {
    // Scrobbles fail (error 16, temporarily unavailable) until `open`; error 9 once revoked.
    let open = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let revoked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (o2, r2) = (open.clone(), revoked.clone());
    let fake = lastfm(move |_| {
        if r2.load(Ordering::SeqCst) {
            Some(9)
        } else if o2.load(Ordering::SeqCst) {
            None
        } else {
            Some(16)
        }
    });
    let config = format!(
        "[scrobbling]\nretry_initial_ms = 50\nretry_max_ms = 300\n[scrobbling.lastfm]\napi_key = \"{API_KEY}\"\nsecret = \"{SECRET}\"\napi_url = \"{0}/2.0/\"\nauth_url = \"{0}/api/auth/\"\n",
        fake.url()
    );
    let server = start_server_configured(&["music"], &config, 3, |f| library(&f[0]));
    let ids = song_ids(&server);

    // Error cases before linking.
    assert_error(
        &server.call_both(
            "updateScrobbleService",
            &format!("{BOB}&service=lastfm&loveOnStar=true"),
        ),
        70,
    );
    assert_error(
        &server.call_both("linkListenBrainz", &format!("{BOB}&service=lastfm&token=x")),
        0,
    );
    let bad = server.get("/scrobbling/lastfm/callback?state=unknown&token=TOKEN");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("unknown or expired"), "{}", bad.body);

    link_lastfm(&server, &fake);
    let fm = service(&server, BOB, "lastfm");
    assert_eq!(fm["linked"], true, "{fm}");
    assert_eq!(fm["account"], "fmuser");
    assert_eq!(fm["loveOnStar"], false);

    // 120 listens in one call, while Last.fm is unavailable; then it comes back.
    let mut query = format!("{BOB}&f=json");
    let mut expected = Vec::new();
    for i in 0..120 {
        let (title, id) = &ids[i % 3];
        let at = 1_600_000_000 + i as i64 * 200;
        query.push_str(&format!("&id={id}&time={}", at * 1000));
        expected.push((at, title.clone()));
    }
    let r = server.get(&format!("/rest/scrobble?{query}"));
    assert_eq!(r.json()["status"], "ok");
    wait_for("failed sends", Duration::from_secs(10), || {
        service(&server, BOB, "lastfm")["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("16"))
    });
    assert_eq!(service(&server, BOB, "lastfm")["pending"], 120);
    open.store(true, Ordering::SeqCst);
    wait_for("the scrobbles", Duration::from_secs(20), || {
        service(&server, BOB, "lastfm")["pending"] == 0
    });
    let scrobble_calls: Vec<Request> = fake
        .requests()
        .into_iter()
        .filter(|r| r.param("method").as_deref() == Some("track.scrobble"))
        .collect();
    // Only the calls after the last failure were taken: read the successful tail.
    let mut taken = Vec::new();
    let mut sizes = Vec::new();
    for call in scrobble_calls.iter().rev() {
        let form = call.form();
        let n = form
            .iter()
            .filter(|(k, _)| k.starts_with("timestamp["))
            .count();
        sizes.push(n);
        let mut listens = Vec::new();
        for i in 0..n {
            let get = |name: &str| {
                form.iter()
                    .find(|(k, _)| *k == format!("{name}[{i}]"))
                    .map(|(_, v)| v.clone())
                    .unwrap()
            };
            assert_eq!(get("artist"), "The Band");
            assert_eq!(get("album"), "The Record");
            listens.push((get("timestamp").parse::<i64>().unwrap(), get("track")));
        }
        taken.splice(0..0, listens);
        if taken.len() >= 120 {
            break;
        }
    }
    sizes.reverse();
    assert_eq!(sizes, vec![50, 50, 20], "batches of at most 50");
    assert_eq!(taken, expected, "all once, in order, at their own times");
    assert!(scrobble_calls.len() > 3, "the failures were retried");

    // Now playing, love on star.
    server.get(&format!(
        "/rest/scrobble?{BOB}&f=json&id={}&submission=false",
        ids[2].1
    ));
    let r = server.call_both(
        "updateScrobbleService",
        &format!("{BOB}&service=lastfm&loveOnStar=true"),
    );
    assert_eq!(r["scrobbleServices"]["service"][0]["loveOnStar"], true);
    assert_error(
        &server.call_both("updateScrobbleService", &format!("{BOB}&service=lastfm")),
        10,
    );
    server.get(&format!("/rest/star?{BOB}&f=json&id={}", ids[0].1));
    server.get(&format!("/rest/unstar?{BOB}&f=json&id={}", ids[0].1));
    wait_for("love and unlove", Duration::from_secs(10), || {
        fake.requests()
            .iter()
            .any(|r| r.param("method").as_deref() == Some("track.unlove"))
    });
    let calls: Vec<(String, Option<String>)> = fake
        .requests()
        .iter()
        .filter_map(|r| {
            let m = r.param("method")?;
            matches!(
                m.as_str(),
                "track.updateNowPlaying" | "track.love" | "track.unlove"
            )
            .then(|| (m, r.param("track")))
        })
        .collect();
    assert_eq!(
        calls,
        vec![
            ("track.updateNowPlaying".into(), Some("Three".into())),
            ("track.love".into(), Some("One".into())),
            ("track.unlove".into(), Some("One".into())),
        ]
    );

    // The session is revoked (error 9): the link breaks, retries stop, the listen is kept.
    revoked.store(true, Ordering::SeqCst);
    server.get(&format!(
        "/rest/scrobble?{BOB}&f=json&id={}&time=1700000000000",
        ids[1].1
    ));
    wait_for("a broken link", Duration::from_secs(10), || {
        service(&server, BOB, "lastfm")["brokenReason"].is_string()
    });
    let fm = service(&server, BOB, "lastfm");
    assert!(
        fm["brokenReason"].as_str().unwrap().contains("error 9"),
        "{fm}"
    );
    assert_eq!(fm["pending"], 1);
    let tries = fake.requests().len();
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(fake.requests().len(), tries, "no retries after a rejection");
    // Relinking sends it.
    revoked.store(false, Ordering::SeqCst);
    link_lastfm(&server, &fake);
    wait_for("the kept scrobble", Duration::from_secs(10), || {
        service(&server, BOB, "lastfm")["pending"] == 0
    });
    let last = fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.param("method").as_deref() == Some("track.scrobble"))
        .unwrap();
    assert_eq!(last.param("timestamp[0]").as_deref(), Some("1700000000"));
    assert_eq!(last.param("track[0]").as_deref(), Some("Two"));
}

#[test]
fn nothing_is_offered_without_configuration() {
    let server = start_server(3, library);
    let r = server.call_both("getScrobbleServices", BOB);
    assert_eq!(r["scrobbleServices"]["service"], json!([]));
    assert_error(&server.call_both("getLastFmAuthUrl", BOB), 0);
    assert_error(
        &server.call_both("unlinkScrobbleService", &format!("{BOB}&service=lb")),
        70,
    );
    // Scrobbling still counts plays locally.
    let id = song_ids(&server)[0].1.clone();
    let r = server.get(&format!("/rest/scrobble?{BOB}&f=json&id={id}"));
    assert_eq!(r.json()["status"], "ok");
    let user = server.call_both("getUser", &format!("{BOB}&username=bob"));
    assert_eq!(user["user"]["scrobblingEnabled"], true);
}

/// Settings → Scrobbling in headless Chromium (like tests/web_player.rs: Node, playwright-core
/// from `npm ci` in tests/web, Debian's Chromium): link by token, see the account, unlink.
#[test]
fn the_settings_page_links_and_unlinks_listenbrainz_in_chromium() {
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web");
    let chromium =
        std::env::var("MEDIASTREAMER_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists()
            && web.join("node_modules/playwright-core").exists(),
        "the browser test needs Chromium ({chromium}) and `npm ci` in tests/web"
    );
    let fake = listenbrainz(0, |_| 200);
    let server = start_server_configured(&["music"], &scrobbling_config(fake.port, ""), 3, |f| {
        library(&f[0])
    });
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = std::process::Command::new("node")
        .arg(web.join("scrobbling.mjs"))
        .env("BASE_URL", format!("http://127.0.0.1:{}", server.port))
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOTS", &shots)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.path() == "/1/validate-token")
    );
    assert_eq!(service(&server, BOB, "lb")["linked"], false);
}
