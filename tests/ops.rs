//! Operations: the health endpoint, Prometheus metrics, JSON logs, the first-run URL,
//! `backup` taken during a scan and restored, and test servers that never outlive the test
//! process that started them.

mod common;

use common::api::*;
use diesel::prelude::*;
use mediastreamer::synth::{Format, LibrarySpec, generate_library};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mediastreamer"));
    cmd.env_remove("MEDIASTREAMER_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove(mediastreamer::setup::ADMIN_PASSWORD_ENV);
    cmd
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn one_song(music: &Path) {
    put(
        music,
        "Artist/Album/01.mp3",
        Format::Mp3,
        song("One", "Artist", "Album", "Artist", 1),
    );
}

// --- Test servers stop with their test process --------------------------------------------

const LEFT_BEHIND_PORT: &str = "left-behind server on port ";

/// Run by `servers_stop_when_their_test_process_ends` in a child test process: starts a
/// server shared the way the API tests share theirs (a static, never dropped), then panics.
#[test]
#[ignore = "run as a child process by servers_stop_when_their_test_process_ends"]
fn a_test_that_panics_while_a_shared_server_runs() {
    static SHARED: OnceLock<Server> = OnceLock::new();
    let server = SHARED.get_or_init(|| start_server(1, one_song));
    println!("{LEFT_BEHIND_PORT}{}", server.port);
    panic!("a test failing while the shared server runs");
}

#[test]
fn servers_stop_when_their_test_process_ends() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "a_test_that_panics_while_a_shared_server_runs",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "the child test must fail: {stdout}");
    let port: u16 = stdout
        .lines()
        .find_map(|l| l.strip_prefix(LEFT_BEHIND_PORT))
        .unwrap_or_else(|| panic!("no server started: {stdout}"))
        .trim()
        .parse()
        .unwrap();
    // The test process is gone; its server follows within moments.
    wait_for(
        "the orphaned server to stop",
        Duration::from_secs(10),
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
    );
}

// --- /health ------------------------------------------------------------------------------

fn shared() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| start_server(1, one_song))
}

#[test]
fn health_answers_without_credentials_with_the_version_and_the_database_state() {
    let r = shared().get("/health");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "database": true,
        })
    );
}

// --- /metrics -----------------------------------------------------------------------------

#[test]
fn metrics_are_off_by_default() {
    let r = shared().get("/metrics");
    assert_eq!(r.status, 404);
    assert!(!r.body.contains("mediastreamer_"));
}

fn scrape(port: u16, token: Option<&str>) -> RawResponse {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    request_raw(port, "GET", "/metrics", &headers).unwrap()
}

/// The value of the sample `series` (name with labels, exactly as exposed).
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_behind_a_token_count_requests_scans_caches_and_active_users() {
    let server = start_server_configured(
        &["music"],
        "[metrics]\nenabled = true\ntoken = \"s3cret\"\n",
        2,
        |folders| {
            one_song(&folders[0]);
            put(
                &folders[0],
                "Artist/Album/02.flac",
                Format::Flac,
                song("Two", "Artist", "Album", "Artist", 2),
            );
        },
    );
    for token in [None, Some("wrong"), Some("s3cre"), Some("s3cret2")] {
        let r = scrape(server.port, token);
        assert_eq!(r.status, 401, "{token:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert!(r.body.is_empty());
    }
    // bob signs in; a cover is rendered into the artwork cache; one request fails.
    let r = server.call_both("ping", BOB);
    assert_eq!(r["status"], "ok");
    let album = server.call_both("getAlbumList2", &format!("{ADMIN}&type=newest"));
    let cover = album["albumList2"]["album"][0]["coverArt"]
        .as_str()
        .map(str::to_string);
    if let Some(cover) = cover {
        server.fetch(
            &format!("/rest/getCoverArt?{ADMIN}&id={cover}&size=64"),
            &[],
        );
    }
    assert_eq!(server.get("/no/such/page.png").status, 404);

    let r = scrape(server.port, Some("s3cret"));
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{}",
        r.headers
    );
    let body = String::from_utf8(r.body).unwrap();
    let get_ok = sample(
        &body,
        "mediastreamer_http_requests_total{method=\"GET\",status=\"200\"}",
    )
    .unwrap_or_else(|| panic!("{body}"));
    assert!(get_ok >= 5.0, "{body}");
    assert!(
        sample(
            &body,
            "mediastreamer_http_requests_total{method=\"GET\",status=\"404\"}"
        ) >= Some(1.0)
    );
    let count = sample(
        &body,
        "mediastreamer_http_request_duration_seconds_count{method=\"GET\"}",
    );
    assert!(count >= Some(get_ok), "{body}");
    assert!(body.contains(
        "mediastreamer_http_request_duration_seconds_bucket{method=\"GET\",le=\"0.005\"}"
    ));
    assert_eq!(
        sample(&body, "mediastreamer_scan_running"),
        Some(0.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "mediastreamer_scan_last_files"),
        Some(2.0),
        "{body}"
    );
    assert_eq!(sample(&body, "mediastreamer_scan_last_errors"), Some(0.0));
    assert_eq!(sample(&body, "mediastreamer_catalog_tracks"), Some(2.0));
    assert!(sample(&body, "mediastreamer_scan_last_duration_seconds") > Some(0.0));
    assert_eq!(sample(&body, "mediastreamer_transcodes_running"), Some(0.0));
    assert_eq!(sample(&body, "mediastreamer_transcodes_waiting"), Some(0.0));
    assert!(sample(&body, "mediastreamer_cache_bytes{cache=\"transcode\"}").is_some());
    assert!(sample(&body, "mediastreamer_cache_bytes{cache=\"artwork\"}").is_some());
    // admin (the harness and the calls above) and bob.
    assert_eq!(
        sample(&body, "mediastreamer_active_users"),
        Some(2.0),
        "{body}"
    );
    // Nothing about who: no user names, paths or tokens.
    for secret in ["bob", "admin", "s3cret", "Artist", "music"] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
}

// --- Serve's own output: the first-run URL and JSON logs ---------------------------------

/// A library and a config without any account.
fn fresh(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir(&music).unwrap();
    one_song(&music);
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[library]\nfolders = [{music:?}]\n[database]\npath = {:?}\n[scan]\nschedule = \"\"\nwatch = false\n{extra}",
            dir.path().join("catalog.db")
        ),
    )
    .unwrap();
    (dir, config)
}

/// Runs `serve` at `address` until it answers, then closes its standard input (which stops
/// it) and returns its log.
fn serve_and_stop(config: &Path, address: &str, port: u16, env: &[(&str, &str)]) -> String {
    let mut cmd = bin();
    stop_with_tests(&mut cmd)
        .arg("--config")
        .arg(config)
        .args(["--address", address, "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child: Child = cmd.spawn().unwrap();
    wait_for("the server", Duration::from_secs(30), || {
        try_get(port, "/health").is_ok_and(|r| r.status == 200)
    });
    drop(child.stdin.take());
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{log}");
    log
}

#[test]
fn the_first_run_message_names_a_url_a_person_can_open() {
    let (_dir, config) = fresh("");
    let port = free_port();
    let log = serve_and_stop(&config, &format!("0.0.0.0:{port}"), port, &[]);
    let url = format!("http://localhost:{port}/");
    assert!(
        log.lines().any(|l| l.contains("no user account exists yet")
            && l.contains(&format!("open {url}setup?token="))),
        "{log}"
    );
    assert!(log.contains(&format!("listening: open {url}")), "{log}");
    assert!(!log.contains("http://0.0.0.0"), "{log}");
    // The page behind it is the web player, which offers the first-run form.
    assert!(log.contains("standard input closed"), "{log}");
}

#[test]
fn log_format_json_writes_one_json_object_per_line() {
    let (_dir, config) = fresh("[log]\nformat = \"text\"\n");
    let port = free_port();
    // The environment overrides the file, as for every key.
    let log = serve_and_stop(
        &config,
        &format!("127.0.0.1:{port}"),
        port,
        &[("MEDIASTREAMER_LOG__FORMAT", "json")],
    );
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.len() >= 3, "{log}");
    for line in &lines {
        assert!(line["timestamp"].is_string(), "{line}");
        assert!(line["level"].is_string(), "{line}");
        assert!(line["fields"].is_object(), "{line}");
    }
    // The access log's fields stay fields.
    assert!(
        lines
            .iter()
            .any(|l| l["target"] == "access" && l["fields"]["path"] == "/health"),
        "{log}"
    );
    let listening = lines
        .iter()
        .find(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("listening"))
        })
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(listening["fields"]["address"], format!("127.0.0.1:{port}"));
    assert_eq!(listening["level"], "INFO");

    // A format that does not exist stops start-up naming the key.
    let out = bin()
        .arg("--config")
        .arg(&config)
        .args(["user", "list"])
        .env("MEDIASTREAMER_LOG__FORMAT", "xml")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("log.format"), "{err}");
}

// --- backup -------------------------------------------------------------------------------

fn cli(config: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    let mut conn = mediastreamer::db::connect(db).unwrap();
    diesel::dsl::sql::<diesel::sql_types::BigInt>(sql)
        .get_result(&mut conn)
        .unwrap()
}

fn write_config(dir: &Path, music: &Path, db: &Path, port: u16) -> PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\naddress = \"127.0.0.1:{port}\"\n[library]\nfolders = [{music:?}]\n[database]\npath = {db:?}\n[scan]\nschedule = \"\"\nwatch = false\non_startup = false\nbatch_size = 50\nworkers = 1\n"
        ),
    )
    .unwrap();
    config
}

#[test]
fn a_backup_taken_during_a_scan_restores_to_a_consistent_catalog_with_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    let generated = generate_library(
        &music,
        &LibrarySpec {
            tracks: 2000,
            seed: 11,
            formats: vec![Format::Mp3, Format::Flac],
            material: None,
        },
    )
    .unwrap();
    let db = dir.path().join("live/catalog.db");
    let config = write_config(dir.path(), &music, &db, free_port());
    assert!(
        cli(
            &config,
            &["user", "add", "admin", "--password", "adminpw", "--admin"]
        )
        .status
        .success()
    );
    let key = cli(&config, &["user", "apikey", "admin", "--label", "phone"]);
    assert!(key.status.success());
    let api_key = String::from_utf8_lossy(&key.stdout).trim().to_string();

    let mut scan = bin()
        .arg("--config")
        .arg(&config)
        .args(["scan", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the first batches", Duration::from_secs(60), || {
        count(&db, "SELECT count(*) FROM tracks") > 0 || scan.try_wait().unwrap().is_some()
    });
    let backup = dir.path().join("backup");
    let out = cli(&config, &["backup", backup.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scan_status = scan.wait().unwrap();
    assert!(scan_status.success());
    let listed = String::from_utf8_lossy(&out.stdout);
    let mut names: Vec<String> = std::fs::read_dir(&backup)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // The database and its key files (the password key at least), nothing else.
    assert!(names.contains(&"catalog.db".to_string()), "{names:?}");
    assert!(names.contains(&"catalog.db.key".to_string()), "{names:?}");
    for name in &names {
        assert!(name == "catalog.db" || name.ends_with(".key"), "{names:?}");
        assert!(listed.contains(name.as_str()), "{listed}");
    }
    // A second backup into the same folder is refused, not mixed in.
    let again = cli(&config, &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // Restore: the backup's files into a new database folder.
    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    for name in &names {
        std::fs::copy(backup.join(name), restored.join(name)).unwrap();
    }
    let restored_db = restored.join("catalog.db");
    let partial = count(&restored_db, "SELECT count(*) FROM tracks");
    assert!(
        partial > 0 && (partial as usize) < generated.tracks,
        "the backup must be taken mid-scan ({partial} tracks)"
    );
    let integrity: String = diesel::dsl::sql::<diesel::sql_types::Text>(
        "SELECT integrity_check FROM pragma_integrity_check",
    )
    .get_result(&mut mediastreamer::db::connect(&restored_db).unwrap())
    .unwrap();
    assert_eq!(integrity, "ok");
    assert_eq!(
        count(
            &restored_db,
            "SELECT count(*) FROM pragma_foreign_key_check"
        ),
        0
    );
    assert_eq!(
        count(
            &restored_db,
            "SELECT count(*) FROM albums WHERE song_count != (SELECT count(*) FROM tracks WHERE album_id = albums.id) OR song_count = 0"
        ),
        0
    );

    // The restored server knows the user's password and API key (the key file came along)
    // and its next scan completes the catalog.
    let port = free_port();
    let restored_config = write_config(&restored, &music, &restored_db, port);
    let out = cli(&restored_config, &["scan", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tracks"], generated.tracks as i64);
    assert_eq!(v["errors"], 0);
    let mut server = stop_with_tests(&mut bin())
        .arg("--config")
        .arg(&restored_config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the restored server", Duration::from_secs(30), || {
        try_get(port, "/health").is_ok_and(|r| r.status == 200)
    });
    let ping = try_get(port, "/rest/ping?u=admin&p=adminpw&f=json").unwrap();
    assert_eq!(ping.json()["status"], "ok", "{}", ping.body);
    let ping = try_get(port, &format!("/rest/ping?apiKey={api_key}&f=json")).unwrap();
    assert_eq!(ping.json()["status"], "ok", "{}", ping.body);
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn backup_of_a_missing_database_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir(&music).unwrap();
    let db = dir.path().join("none/catalog.db");
    let config = write_config(dir.path(), &music, &db, free_port());
    let target = dir.path().join("backup");
    let out = cli(&config, &["backup", target.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not exist"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!target.join("catalog.db").exists());
}
