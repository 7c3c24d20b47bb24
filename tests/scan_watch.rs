//! The watcher end to end over HTTP: a file added to a watched music folder shows in search3
//! within 5 s (issue 12's target), with the default settle delay.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::api::{ADMIN, free_port, stop_with_tests, try_get};
use mediastreamer::synth::{Format, TrackSpec, write_track};

fn found(port: u16, title: &str) -> bool {
    try_get(
        port,
        &format!("/rest/search3?{ADMIN}&f=json&query={title}&artistCount=0&albumCount=0"),
    )
    .is_ok_and(|r| {
        r.json()["searchResult3"]["song"]
            .as_array()
            .is_some_and(|songs| !songs.is_empty())
    })
}

/// The server on one music folder holding one track, with the watcher on (default delay),
/// its log in `server.log`; returns once the start-up scan has cataloged the track.
fn start_watching(dir: &Path, music: &Path) -> (KillOnDrop, u16) {
    std::fs::create_dir_all(music.join("Old/Album")).unwrap();
    write_track(
        &music.join("Old/Album/01.mp3"),
        Format::Mp3,
        &song("Already There", "Album"),
    )
    .unwrap();
    let port = free_port();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\naddress = \"127.0.0.1:{port}\"\n[library]\nfolders = [{music:?}]\n\
             [database]\npath = {:?}\n[scan]\nschedule = \"\"\nwatch = true\n",
            dir.join("catalog.db")
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_mediastreamer");
    let out = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .args(["user", "add", "admin", "--password", "adminpw", "--admin"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let child = stop_with_tests(&mut Command::new(bin))
        .arg("--config")
        .arg(&config)
        .env("MEDIASTREAMER_LOUDNESS__ENABLED", "false")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("server.log")).unwrap())
        .spawn()
        .unwrap();
    let server = KillOnDrop(child);
    let start = Instant::now();
    while !found(port, "Already") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not come up; its log:\n{}",
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn song(title: &str, album: &str) -> TrackSpec {
    TrackSpec {
        title: title.into(),
        artist: "Someone".into(),
        album: album.into(),
        ..TrackSpec::default()
    }
}

#[test]
fn a_file_added_to_a_watched_folder_is_found_through_the_api_within_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    let (_server, port) = start_watching(dir.path(), &music);
    assert!(!found(port, "Newcomer"));

    // A new track in the existing album folder (written beside, then moved in), and a new
    // album folder with one.
    let staged = dir.path().join("staged.flac");
    write_track(&staged, Format::Flac, &song("Newcomer", "Album")).unwrap();
    let added = Instant::now();
    std::fs::rename(&staged, music.join("Old/Album/02.flac")).unwrap();
    std::fs::create_dir_all(music.join("New/Record")).unwrap();
    write_track(
        &music.join("New/Record/01.mp3"),
        Format::Mp3,
        &song("Freshman", "Record"),
    )
    .unwrap();
    while !(found(port, "Newcomer") && found(port, "Freshman")) {
        assert!(
            added.elapsed() < Duration::from_secs(5),
            "the added files were not found within 5 s; server log:\n{}",
            std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("found after {:.2} s", added.elapsed().as_secs_f64());
}
