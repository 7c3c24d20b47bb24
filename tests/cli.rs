//! The real binary: scan --json, config errors, user management, serve with its start-up scan,
//! watcher and clean shutdown, and a scan killed with SIGKILL.

use diesel::prelude::*;
use mediastreamer::db::schema::{albums, tracks, users};
use mediastreamer::synth::{Format, LibrarySpec, TrackSpec, generate_library, write_track};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Setup {
    dir: tempfile::TempDir,
    music: PathBuf,
    config: PathBuf,
    db: PathBuf,
}

fn setup(extra: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir(&music).unwrap();
    let db = dir.path().join("catalog.db");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\naddress = \"127.0.0.1:0\"\n[library]\nfolders = [{music:?}]\n[database]\npath = {db:?}\n[scan]\nschedule = \"\"\nwatch = false\nwatch_delay_secs = 1\n{extra}"
        ),
    )
    .unwrap();
    Setup {
        dir,
        music,
        config,
        db,
    }
}

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mediastreamer"));
    cmd.env_remove("MEDIASTREAMER_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

fn run(setup: &Setup, args: &[&str]) -> Output {
    bin()
        .arg("--config")
        .arg(&setup.config)
        .args(args)
        .output()
        .unwrap()
}

fn song(title: &str, album: &str) -> TrackSpec {
    TrackSpec {
        title: title.into(),
        artist: "Someone".into(),
        album: album.into(),
        track: Some((1, None)),
        ..Default::default()
    }
}

fn conn(db: &Path) -> SqliteConnection {
    mediastreamer::db::connect(db).unwrap()
}

fn track_count(db: &Path) -> i64 {
    tracks::table.count().get_result(&mut conn(db)).unwrap_or(0)
}

#[test]
fn scan_json_prints_one_object_with_every_count() {
    let s = setup("");
    std::fs::create_dir_all(s.music.join("a")).unwrap();
    write_track(&s.music.join("a/01.flac"), Format::Flac, &song("One", "A")).unwrap();
    std::fs::write(s.music.join("a/broken.mp3"), b"nope").unwrap();
    let out = run(&s, &["scan", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    for key in [
        "tracks",
        "albums",
        "artists",
        "added",
        "updated",
        "moved",
        "removed",
        "errors",
        "error_list",
        "seconds",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["tracks"], 1);
    assert_eq!(v["added"], 1);
    assert_eq!(v["errors"], 1);
    assert!(
        v["error_list"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("broken.mp3")
    );
    assert!(!v["error_list"][0]["reason"].as_str().unwrap().is_empty());

    // Without --json: a readable summary.
    let out = run(&s, &["scan"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("1 tracks"), "{text}");
}

#[test]
fn config_errors_name_the_key() {
    let s = setup("");
    std::fs::write(&s.config, "[scan]\nschedul = \"0 3 * * *\"\n").unwrap();
    let out = run(&s, &["scan"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("schedul"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one message: {err}");

    let s = setup("");
    let out = bin()
        .arg("--config")
        .arg(&s.config)
        .arg("scan")
        .env("MEDIASTREAMER_SCAN__SCHEDULE", "at noon")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("scan.schedule"));

    let out = run(&s, &["--music-folder", "/no/such/folder", "scan"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("library.folders") && err.contains("/no/such/folder"),
        "{err}"
    );
}

#[test]
fn users_are_managed_from_the_command_line_without_plaintext_passwords() {
    let s = setup("");
    let out = run(
        &s,
        &[
            "user",
            "add",
            "alice",
            "--password",
            "Tr0ub4dor&3",
            "--admin",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Password from standard input.
    let mut child = bin()
        .arg("--config")
        .arg(&s.config)
        .args(["user", "add", "bob"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"bobs-secret\n")
        .unwrap();
    assert!(child.wait().unwrap().success());

    let out = run(&s, &["user", "list"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, "alice (admin)\nbob\n");
    assert!(
        run(&s, &["user", "passwd", "bob", "--password", "changed"])
            .status
            .success()
    );
    let out = run(&s, &["user", "delete", "alice"]);
    assert!(!out.status.success(), "the last admin cannot go");
    assert!(String::from_utf8_lossy(&out.stderr).contains("last administrator"));
    assert!(run(&s, &["user", "delete", "bob"]).status.success());
    let out = run(&s, &["user", "add", "alice", "--password", "x"]);
    assert!(!out.status.success());

    let stored: Vec<String> = users::table
        .select(users::password_enc)
        .load(&mut conn(&s.db))
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains("Tr0ub4dor"));
    for entry in std::fs::read_dir(s.dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        assert!(
            !bytes.windows(9).any(|w| w == b"Tr0ub4dor"),
            "plaintext password on disk"
        );
    }
    let key = std::fs::metadata(mediastreamer::users::key_path(&s.db)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
}

#[test]
fn inspect_shows_raw_tags_mapped_fields_and_album_key() {
    let s = setup("");
    let file = s.music.join("x.mp3");
    let mut spec = song("Inspected", "Some Album");
    spec.album_artist = Some("Album Person".into());
    write_track(&file, Format::Mp3, &spec).unwrap();
    let out = bin().arg("inspect").arg(&file).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Inspected"), "{text}");
    assert!(
        text.contains("album key: aa:some album | album person"),
        "{text}"
    );
}

#[test]
fn inspect_reads_wma_dsf_and_dff() {
    let s = setup("");
    for (format, tag_type, codec) in [
        (Format::Wma, "-- raw tag: ASF", "WMA"),
        (Format::Dsf, "-- raw tag: ID3v2.4", "DSD"),
        (Format::Dff, "-- raw tag: ID3v2.4", "DSD"),
    ] {
        let file = s.music.join(format!("x.{}", format.extension()));
        let mut spec = song("Inspected", "Some Album");
        spec.album_artist = Some("Album Person".into());
        write_track(&file, format, &spec).unwrap();
        let out = bin().arg("inspect").arg(&file).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(tag_type), "{format:?}: {text}");
        assert!(
            text.contains(&format!("codec: \"{codec}\"")),
            "{format:?}: {text}"
        );
        assert!(
            text.contains("album key: aa:some album | album person"),
            "{format:?}: {text}"
        );
    }
}

fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills a server left running by a failing test, so it cannot outlive the test run.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    unsafe_kill(child.id(), "TERM");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn unsafe_kill(pid: u32, signal: &str) {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
}

#[test]
fn serve_scans_on_start_picks_up_new_files_and_stops_cleanly() {
    let s = setup("");
    // Enable the watcher for this run.
    let text = std::fs::read_to_string(&s.config)
        .unwrap()
        .replace("watch = false", "watch = true");
    std::fs::write(&s.config, text).unwrap();
    std::fs::create_dir_all(s.music.join("first")).unwrap();
    write_track(
        &s.music.join("first/01.mp3"),
        Format::Mp3,
        &song("First", "F"),
    )
    .unwrap();
    let mut child = KillOnDrop(
        bin()
            .arg("--config")
            .arg(&s.config)
            .env(mediastreamer::server::STOP_ON_STDIN_EOF_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the start-up scan", Duration::from_secs(30), || {
        track_count(&s.db) == 1
    });
    // A file dropped into the folder is in the catalog within seconds.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::create_dir_all(s.music.join("second/new")).unwrap();
    write_track(
        &s.music.join("second/new/01.flac"),
        Format::Flac,
        &song("Second", "S"),
    )
    .unwrap();
    wait_for("the watcher", Duration::from_secs(15), || {
        track_count(&s.db) == 2
    });
    let status = terminate(&mut child.0);
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_reports_an_address_in_use() {
    let s = setup("");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = run(&s, &["--address", &address, "serve"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.address") && err.contains(&address),
        "{err}"
    );
}

#[test]
fn a_scan_killed_midway_leaves_a_consistent_catalog_that_the_next_scan_completes() {
    let s = setup("batch_size = 200\nworkers = 1\n");
    let generated = generate_library(
        &s.music,
        &LibrarySpec {
            tracks: 5000,
            seed: 7,
            formats: vec![Format::Mp3, Format::Flac],
            material: None,
        },
    )
    .unwrap();
    // Create the schema first so the poll below can read it.
    assert!(run(&s, &["user", "list"]).status.success());
    let mut child = bin()
        .arg("--config")
        .arg(&s.config)
        .args(["scan", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the first batches", Duration::from_secs(60), || {
        let n = track_count(&s.db);
        n > 0 || child.try_wait().unwrap().is_some()
    });
    unsafe_kill(child.id(), "KILL");
    let _ = child.wait();
    let partial = track_count(&s.db);
    assert!(
        partial > 0 && (partial as usize) < generated.tracks,
        "the kill must land mid-scan ({partial} tracks)"
    );

    let mut c = conn(&s.db);
    let integrity: String = diesel::dsl::sql::<diesel::sql_types::Text>(
        "SELECT integrity_check FROM pragma_integrity_check",
    )
    .get_result(&mut c)
    .unwrap();
    assert_eq!(integrity, "ok");
    let fk_problems: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "SELECT count(*) FROM pragma_foreign_key_check",
    )
    .get_result(&mut c)
    .unwrap();
    assert_eq!(fk_problems, 0);
    // Every committed album agrees with its tracks.
    let wrong: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "SELECT count(*) FROM albums WHERE song_count != (SELECT count(*) FROM tracks WHERE album_id = albums.id) OR song_count = 0",
    )
    .get_result(&mut c)
    .unwrap();
    assert_eq!(wrong, 0);

    let out = run(&s, &["scan", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tracks"], generated.tracks as i64);
    assert_eq!(v["errors"], 0);
    let albums: i64 = albums::table.count().get_result(&mut c).unwrap();
    assert_eq!(albums as usize, generated.albums);
}

/// One HTTP/1.1 request with optional extra headers and body: (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `serve` on a free port with extra environment variables and waits until it answers.
fn serve_on(s: &Setup, env: &[(&str, &str)]) -> (KillOnDrop, u16) {
    let port = free_port();
    let mut cmd = bin();
    cmd.arg("--config")
        .arg(&s.config)
        .args(["--address", &format!("127.0.0.1:{port}"), "serve"])
        .env_remove(mediastreamer::setup::ADMIN_PASSWORD_ENV)
        // Stops when this test process ends, even if it panics (see tests/common/api.rs).
        .env(mediastreamer::server::STOP_ON_STDIN_EOF_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = KillOnDrop(cmd.spawn().unwrap());
    wait_for("the server", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (child, port)
}

fn ping(port: u16, user: &str, password: &str) -> bool {
    let (_, body) = http(
        port,
        "GET",
        &format!("/rest/ping?u={user}&p={password}&f=json"),
        &[],
        "",
    );
    body.contains("\"status\":\"ok\"")
}

#[test]
fn first_run_setup_creates_one_admin_once() {
    let s = setup("");
    let (mut child, port) = serve_on(&s, &[]);
    let (status, body) = http(port, "GET", "/setup", &[], "");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"needed": true})
    );
    // No default account exists.
    assert!(!ping(port, "admin", "admin"));
    let json = [("Content-Type", "application/json")];
    // A page of another site cannot claim the server; bad input is refused; nothing is made.
    let (status, _) = http(
        port,
        "POST",
        "/setup",
        &[
            ("Content-Type", "application/json"),
            ("Origin", "https://evil.example"),
        ],
        r#"{"username":"mallory","password":"pw"}"#,
    );
    assert_eq!(status, 403);
    let (status, body) = http(port, "POST", "/setup", &json, r#"{"username":"root"}"#);
    assert_eq!(status, 400, "{body}");
    let (status, _) = http(port, "POST", "/setup", &json, "{not json");
    assert_eq!(status, 400);
    let (status, _) = http(
        port,
        "POST",
        "/setup",
        &json,
        r#"{"username":"root","password":""}"#,
    );
    assert_eq!(status, 400);
    assert!(http(port, "GET", "/setup", &[], "").1.contains("true"));

    // The form variant creates the admin; a second attempt is refused.
    let (status, body) = http(
        port,
        "POST",
        "/setup",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "username=root&password=s%C3%A9cret",
    );
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("\"root\""));
    let (status, _) = http(
        port,
        "POST",
        "/setup",
        &json,
        r#"{"username":"other","password":"pw"}"#,
    );
    assert_eq!(status, 409);
    assert!(http(port, "GET", "/setup", &[], "").1.contains("false"));
    assert!(ping(port, "root", "s%C3%A9cret"));
    assert!(!ping(port, "other", "pw"));
    let (_, users) = http(
        port,
        "GET",
        "/rest/getUser?u=root&p=s%C3%A9cret&username=root&f=json",
        &[],
        "",
    );
    assert!(users.contains("\"adminRole\":true"), "{users}");
    terminate(&mut child.0);
}

#[test]
fn admin_password_from_the_environment_creates_admin_once_and_never_overwrites() {
    let env_name = mediastreamer::setup::ADMIN_PASSWORD_ENV;
    let s = setup("");
    let (mut child, port) = serve_on(&s, &[(env_name, "first-pw")]);
    assert!(ping(port, "admin", "first-pw"));
    assert!(http(port, "GET", "/setup", &[], "").1.contains("false"));
    terminate(&mut child.0);
    // A second start with another password changes nothing.
    let (mut child, port) = serve_on(&s, &[(env_name, "second-pw")]);
    assert!(ping(port, "admin", "first-pw"));
    assert!(!ping(port, "admin", "second-pw"));
    terminate(&mut child.0);
    let names: Vec<String> = users::table
        .select(users::name)
        .load(&mut conn(&s.db))
        .unwrap();
    assert_eq!(names, ["admin"]);
}

#[test]
fn user_set_changes_roles_folders_and_bit_rate() {
    let s = setup("");
    std::fs::create_dir_all(s.music.join("a")).unwrap();
    write_track(&s.music.join("a/01.mp3"), Format::Mp3, &song("One", "A")).unwrap();
    assert!(run(&s, &["scan"]).status.success());
    let ok = |args: &[&str]| {
        let out = run(&s, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    ok(&["user", "add", "root", "--password", "pw", "--admin"]);
    ok(&[
        "user",
        "add",
        "kim",
        "--password",
        "pw",
        "--deny",
        "download,share",
        "--folder",
        "music",
    ]);
    let shown = ok(&["user", "show", "kim"]);
    assert!(
        shown.contains("roles: settings, stream, playlist, cover-art, comment\n"),
        "{shown}"
    );
    assert!(
        shown.contains("folders: all\n"),
        "naming every folder means all: {shown}"
    );
    let shown = ok(&[
        "user",
        "set",
        "kim",
        "--allow",
        "download",
        "--max-bit-rate",
        "192",
        "--email",
        "k@x.org",
    ]);
    assert!(shown.contains("download"), "{shown}");
    assert!(shown.contains("max bit rate: 192 kbps"), "{shown}");
    assert!(shown.contains("email: k@x.org"), "{shown}");
    ok(&["user", "set", "kim", "--admin", "true"]);
    ok(&["user", "set", "root", "--admin", "false"]);
    assert!(ok(&["user", "show", "root"]).contains("admin: false"));

    // Errors change nothing: bad bit rate, unknown folder, demoting the last admin.
    let fails = |args: &[&str], needle: &str| {
        let out = run(&s, args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    fails(&["user", "set", "kim", "--max-bit-rate", "100"], "bit rate");
    fails(
        &["user", "set", "kim", "--folder", "nowhere"],
        "no music folder",
    );
    fails(
        &["user", "set", "kim", "--admin", "false"],
        "last administrator",
    );
    fails(
        &[
            "user",
            "add",
            "lee",
            "--password",
            "pw",
            "--folder",
            "nowhere",
        ],
        "no music folder",
    );
    let shown = ok(&["user", "show", "kim"]);
    assert!(
        shown.contains("admin: true") && shown.contains("192 kbps"),
        "{shown}"
    );
    assert!(!ok(&["user", "list"]).contains("lee"));
}
