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
