//! M3U/M3U8 playlists in the music folders, end to end through the real scan and SQLite:
//! import (relative, absolute and Windows paths, #EXTINF, Latin-1 .m3u, entries that match
//! nothing), waiting for the first admin, re-sync when the file changes, removal when it is
//! deleted (only by a scan that covered it), and playlist, queue and bookmark entries that
//! survive the move of their file.

mod common;

use common::{TestLibrary, age, spec};
use diesel::prelude::*;
use mediastreamer::db::schema::playlists as playlists_table;
use mediastreamer::library::access::{Scope, Viewer};
use mediastreamer::people::playlists::{self, Actor, Playlist};
use mediastreamer::people::{bookmarks, play_queue};
use mediastreamer::scanner::ScanOptions;
use mediastreamer::synth::Format;

fn add_admin(lib: &TestLibrary) -> i32 {
    let key = mediastreamer::users::PasswordKey::load_or_create(&lib.config.database.path).unwrap();
    mediastreamer::users::add(&mut lib.conn(), &key, "admin", "pw", true)
        .unwrap()
        .id
}

/// The imported playlists by name.
fn imported(lib: &TestLibrary) -> Vec<Playlist> {
    playlists::all(&mut lib.conn())
        .unwrap()
        .into_iter()
        .filter(|p| p.source_path.is_some())
        .collect()
}

fn entries(lib: &TestLibrary, playlist: i32) -> Vec<i32> {
    playlists::track_ids(&mut lib.conn(), &Scope::All, playlist).unwrap()
}

/// A library of four tracks, one in a folder with a non-ASCII name.
fn library() -> TestLibrary {
    let lib = TestLibrary::new();
    lib.add(
        "A/Album/01 Song.mp3",
        Format::Mp3,
        &spec("One", "Ar", "Album", Some("Ar"), 1),
    );
    lib.add(
        "A/Album/02.mp3",
        Format::Mp3,
        &spec("Two", "Ar", "Album", Some("Ar"), 2),
    );
    lib.add(
        "B/Café/03.ogg",
        Format::Ogg,
        &spec("Three", "Br", "Café", Some("Br"), 1),
    );
    lib.add(
        "C/04.flac",
        Format::Flac,
        &spec("Four", "Cr", "Cee", Some("Cr"), 1),
    );
    lib
}

fn write_mix(lib: &TestLibrary) {
    let absolute = lib.path("C/04.flac");
    lib.add_raw(
        "Lists/mix.m3u8",
        format!(
            "#EXTM3U\n#PLAYLIST:Road Mix\n#EXTINF:1,Ar - One\n../A/Album/01 Song.mp3\n\
             #EXTINF:1,Cr - Four\n{}\n..\\A\\Album\\02.mp3\nmissing.mp3\n\
             http://radio.example/stream\n",
            absolute.display()
        )
        .as_bytes(),
    );
}

#[test]
fn imports_playlists_once_there_is_an_admin() {
    let lib = library();
    write_mix(&lib);
    // Latin-1, Windows line ends, no header: the name comes from the file.
    lib.add_raw("latin.m3u", b"B/Caf\xe9/03.ogg\r\nA/Album/02.mp3\r\n");

    let (report, _) = lib.scan();
    assert_eq!(report.tracks, 4);
    assert!(imported(&lib).is_empty(), "no owner yet");

    // Nothing changed on disk, but now there is an admin: the next scan imports.
    let admin = add_admin(&lib);
    let (report, read) = lib.scan();
    assert_eq!((report.added, read), (0, 0));
    let lists = imported(&lib);
    assert_eq!(lists.len(), 2, "{lists:?}");
    let mix = lists.iter().find(|p| p.name == "Road Mix").unwrap();
    assert_eq!((mix.owner_id, mix.public), (admin, true));
    assert_eq!(
        mix.source_path.as_deref(),
        Some(lib.path("Lists/mix.m3u8").to_str().unwrap())
    );
    let id = |rel: &str| lib.track_id(rel).unwrap();
    assert_eq!(
        entries(&lib, mix.id),
        [
            id("A/Album/01 Song.mp3"),
            id("C/04.flac"),
            id("A/Album/02.mp3")
        ]
    );
    let latin = lists.iter().find(|p| p.name == "latin").unwrap();
    assert_eq!(
        entries(&lib, latin.id),
        [id("B/Café/03.ogg"), id("A/Album/02.mp3")]
    );
}

#[test]
fn changed_files_resync_and_deleted_files_go() {
    let lib = library();
    add_admin(&lib);
    write_mix(&lib);
    lib.add_raw("old.m3u", b"C/04.flac\n");
    lib.scan();
    let before = imported(&lib);
    let mix = before
        .iter()
        .find(|p| p.name == "Road Mix")
        .unwrap()
        .clone();

    // An unchanged file is not touched by a rescan.
    lib.scan();
    let again = playlists::find(&mut lib.conn(), &Scope::All, mix.id)
        .unwrap()
        .unwrap();
    assert_eq!(again.updated_at, mix.updated_at);

    // Edited: same playlist, new songs and name.
    let path = lib.add_raw(
        "Lists/mix.m3u8",
        b"#EXTM3U\n#PLAYLIST:Short Mix\n../B/Caf\xc3\xa9/03.ogg\n../A/Album/01 Song.mp3\n",
    );
    age(&path);
    lib.scan();
    let after = playlists::find(&mut lib.conn(), &Scope::All, mix.id)
        .unwrap()
        .unwrap();
    assert_eq!(after.name, "Short Mix");
    assert_eq!(
        entries(&lib, mix.id),
        [
            lib.track_id("B/Café/03.ogg").unwrap(),
            lib.track_id("A/Album/01 Song.mp3").unwrap()
        ]
    );

    // Deleted files: a scan of another folder leaves their playlists alone, a scan that
    // covers them removes them.
    std::fs::remove_file(lib.path("Lists/mix.m3u8")).unwrap();
    std::fs::remove_file(lib.path("old.m3u")).unwrap();
    lib.scan_with(ScanOptions {
        full: false,
        paths: Some(vec![lib.path("A")]),
    });
    assert_eq!(imported(&lib).len(), 2);
    lib.scan_with(ScanOptions {
        full: false,
        paths: Some(vec![lib.path("Lists")]),
    });
    let left: Vec<String> = imported(&lib).into_iter().map(|p| p.name).collect();
    assert_eq!(left, ["old"]);
    lib.scan();
    assert!(imported(&lib).is_empty());
    let rows: i64 = playlists_table::table
        .count()
        .get_result(&mut lib.conn())
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn playlist_queue_and_bookmark_entries_survive_a_move() {
    let lib = library();
    let admin = add_admin(&lib);
    write_mix(&lib);
    lib.scan();
    let moved_from = "A/Album/01 Song.mp3";
    let track = lib.track_id(moved_from).unwrap();
    let other = lib.track_id("C/04.flac").unwrap();
    let actor = Actor::everything(admin, true);
    let mut c = lib.conn();
    let own = playlists::create(&mut c, &actor, "Mine", &[other, track, track], 1).unwrap();
    let queue = play_queue::NewQueue {
        track_ids: &[other, track],
        current: 1,
        position_ms: 4000,
        changed_by: "test",
    };
    play_queue::save(&mut c, &Viewer::everything(admin, true), &queue, 1).unwrap();
    bookmarks::save(
        &mut c,
        &Viewer::everything(admin, true),
        track,
        9000,
        Some("here"),
        1,
    )
    .unwrap();
    let mix = imported(&lib)
        .into_iter()
        .find(|p| p.name == "Road Mix")
        .unwrap();
    let mix_before = entries(&lib, mix.id);
    assert!(mix_before.contains(&track));

    // Moved and renamed into another folder.
    std::fs::create_dir_all(lib.path("Moved/Elsewhere")).unwrap();
    std::fs::rename(
        lib.path(moved_from),
        lib.path("Moved/Elsewhere/renamed.mp3"),
    )
    .unwrap();
    let (report, _) = lib.scan();
    assert_eq!((report.moved, report.removed), (1, 0));
    assert_eq!(lib.track_id("Moved/Elsewhere/renamed.mp3"), Some(track));

    let mut c = lib.conn();
    assert_eq!(
        playlists::track_ids(&mut c, &Scope::All, own).unwrap(),
        [other, track, track]
    );
    let saved = play_queue::load(&mut c, &Viewer::everything(admin, true))
        .unwrap()
        .unwrap();
    assert_eq!(
        (saved.track_ids, saved.current),
        (vec![other, track], Some(1))
    );
    let marks = bookmarks::of_user(&mut c, admin, &Scope::All).unwrap();
    assert_eq!((marks[0].track_id, marks[0].position_ms), (track, 9000));
    // The imported playlist's file still names the old path; its entries stay until the file
    // itself changes.
    assert_eq!(entries(&lib, mix.id), mix_before);
}

#[test]
fn entries_made_between_the_two_halves_of_a_move_follow_it() {
    let lib = library();
    let admin = add_admin(&lib);
    lib.scan();
    let old = lib.track_id("A/Album/02.mp3").unwrap();
    // The copy appears first (a scan sees both files: two rows, one fingerprint)...
    std::fs::create_dir_all(lib.path("New")).unwrap();
    std::fs::copy(lib.path("A/Album/02.mp3"), lib.path("New/02.mp3")).unwrap();
    lib.scan();
    let new = lib.track_id("New/02.mp3").unwrap();
    assert_ne!(new, old);
    // ...and a client uses the new row before the old file goes.
    let actor = Actor::everything(admin, true);
    let mut c = lib.conn();
    let list = playlists::create(&mut c, &actor, "Between", &[new, old], 1).unwrap();
    let queue = play_queue::NewQueue {
        track_ids: &[new],
        current: 0,
        position_ms: 0,
        changed_by: "test",
    };
    play_queue::save(&mut c, &Viewer::everything(admin, true), &queue, 1).unwrap();
    bookmarks::save(&mut c, &Viewer::everything(admin, true), new, 5, None, 1).unwrap();
    std::fs::remove_file(lib.path("A/Album/02.mp3")).unwrap();
    let (report, _) = lib.scan();
    assert_eq!(report.moved, 1);
    assert_eq!(lib.track_id("New/02.mp3"), Some(old), "the old id is kept");

    let mut c = lib.conn();
    assert_eq!(
        playlists::track_ids(&mut c, &Scope::All, list).unwrap(),
        [old, old]
    );
    let saved = play_queue::load(&mut c, &Viewer::everything(admin, true))
        .unwrap()
        .unwrap();
    assert_eq!(saved.track_ids, [old]);
    let marks = bookmarks::of_user(&mut c, admin, &Scope::All).unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].track_id, old);
}
