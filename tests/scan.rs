//! Scanner behaviour end to end: real tagged files, real SQLite, the real scan.

mod common;

use common::{TestLibrary, age, spec};
use diesel::prelude::*;
use mediastreamer::db::schema::{album_artists, albums, artists, directories, scan_errors, tracks};
use mediastreamer::scanner::ScanOptions;
use mediastreamer::synth::{Format, TrackSpec};

fn album_of(lib: &TestLibrary, rel: &str) -> (i32, String, String, i32) {
    let album_id: i32 = tracks::table
        .filter(tracks::path.eq(rel))
        .select(tracks::album_id)
        .first(&mut lib.conn())
        .unwrap();
    albums::table
        .find(album_id)
        .select((
            albums::id,
            albums::name,
            albums::artist_display,
            albums::song_count,
        ))
        .first(&mut lib.conn())
        .unwrap()
}

#[test]
fn groups_albums_the_way_users_expect() {
    let lib = TestLibrary::new();
    // A regular album with an album artist, and a guest on one track.
    lib.add(
        "Band/Hits/01.mp3",
        Format::Mp3,
        &spec("One", "The Band", "Hits", Some("The Band"), 1),
    );
    lib.add(
        "Band/Hits/02.flac",
        Format::Flac,
        &spec("Two", "The Band feat. Guest", "Hits", Some("The Band"), 2),
    );
    // A two-disc album without album-artist tags and different track artists per disc.
    lib.add(
        "Box/Disc 1/01.mp3",
        Format::Mp3,
        &spec("A", "Alpha", "Box Set", None, 1),
    );
    lib.add(
        "Box/Disc 2/01.mp3",
        Format::Mp3,
        &spec("B", "Beta", "Box Set", None, 1),
    );
    // A flagged compilation.
    let mut c1 = spec("C1", "Gamma", "Comp", None, 1);
    c1.compilation = true;
    let mut c2 = spec("C2", "Delta", "Comp", None, 2);
    c2.compilation = true;
    lib.add("Comp/01.m4a", Format::M4a, &c1);
    lib.add("Comp/02.ogg", Format::Ogg, &c2);
    // No tags at all.
    lib.add(
        "Loose Folder/my song.wav",
        Format::Wav,
        &TrackSpec::default(),
    );

    let (report, read) = lib.scan();
    assert_eq!(report.tracks, 7, "{report:?}");
    assert_eq!(report.added, 7);
    assert_eq!(read, 7);
    assert_eq!(report.errors, 0, "{:?}", report.error_list);
    assert_eq!(report.albums, 4);

    let (hits, name, artist, songs) = album_of(&lib, "Band/Hits/01.mp3");
    assert_eq!(
        (name.as_str(), artist.as_str(), songs),
        ("Hits", "The Band", 2)
    );
    assert_eq!(album_of(&lib, "Band/Hits/02.flac").0, hits);

    let (boxset, _, artist, songs) = album_of(&lib, "Box/Disc 1/01.mp3");
    assert_eq!(album_of(&lib, "Box/Disc 2/01.mp3").0, boxset);
    assert_eq!((artist.as_str(), songs), ("Various Artists", 2));
    let discs: i32 = albums::table
        .find(boxset)
        .select(albums::disc_count)
        .first(&mut lib.conn())
        .unwrap();
    assert_eq!(discs, 2);

    let (_, _, artist, songs) = album_of(&lib, "Comp/01.m4a");
    assert_eq!((artist.as_str(), songs), ("Various Artists", 2));

    let (_, name, artist, _) = album_of(&lib, "Loose Folder/my song.wav");
    assert_eq!(
        (name.as_str(), artist.as_str()),
        ("Loose Folder", "Unknown Artist")
    );
    let title: String = tracks::table
        .filter(tracks::path.eq("Loose Folder/my song.wav"))
        .select(tracks::title)
        .first(&mut lib.conn())
        .unwrap();
    assert_eq!(title, "my song");

    // The guest is an artist of their track, not of the album.
    let guest_albums: i64 = album_artists::table
        .inner_join(artists::table)
        .filter(artists::name.eq("Guest"))
        .count()
        .get_result(&mut lib.conn())
        .unwrap();
    assert_eq!(guest_albums, 0);
    let guest: i64 = artists::table
        .filter(artists::name.eq("Guest"))
        .count()
        .get_result(&mut lib.conn())
        .unwrap();
    assert_eq!(guest, 1);

    // Full-text search finds by prefix, ignoring case and accents.
    let mut conn = lib.conn();
    let hits: Vec<i64> = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "SELECT rowid FROM albums_fts WHERE albums_fts MATCH 'hi*'",
    )
    .load(&mut conn)
    .unwrap();
    assert_eq!(hits.len(), 1);
}

/// An untagged disc folder joins its tagged sibling however the scans fall: here "Disc 2"
/// arrives in a later scan than "Disc 1" (as it may land in a later writer batch of one scan).
#[test]
fn an_untagged_disc_joins_its_tagged_sibling_written_earlier() {
    let lib = TestLibrary::new();
    lib.add(
        "Pilots/Disc 1/01.mp3",
        Format::Mp3,
        &spec("Lift", "Ben", "Pilots", Some("Ben & the Stones"), 1),
    );
    let (report, _) = lib.scan();
    assert_eq!(report.albums, 1, "{report:?}");
    let (pilots, _, artist, _) = album_of(&lib, "Pilots/Disc 1/01.mp3");
    assert_eq!(artist, "Ben & the Stones");

    let mut untagged = spec("Land", "Ben", "Pilots", None, 1);
    untagged.disc = Some((2, Some(2)));
    lib.add("Pilots/Disc 2/01.mp3", Format::Mp3, &untagged);
    let (report, _) = lib.scan();
    assert_eq!(report.added, 1, "{report:?}");
    assert_eq!(report.albums, 1, "{report:?}");
    let (joined, _, artist, songs) = album_of(&lib, "Pilots/Disc 2/01.mp3");
    assert_eq!(joined, pilots);
    assert_eq!((artist.as_str(), songs), ("Ben & the Stones", 2));
}

#[test]
fn incremental_rescans_notice_every_kind_of_change_and_keep_ids() {
    let lib = TestLibrary::new();
    for n in 1..=4 {
        lib.add(
            &format!("Artist/Album/0{n}.mp3"),
            Format::Mp3,
            &spec(&format!("Song {n}"), "Artist", "Album", Some("Artist"), n),
        );
    }
    lib.add(
        "Other/Solo/01.flac",
        Format::Flac,
        &spec("Solo", "Loner", "Solo", Some("Loner"), 1),
    );
    let (first, _) = lib.scan();
    assert_eq!(first.added, 5);

    // Nothing changed: no file is opened.
    let (again, read) = lib.scan();
    assert_eq!(
        (again.added, again.updated, again.moved, again.removed),
        (0, 0, 0, 0)
    );
    assert_eq!(read, 0, "an unchanged library must not be read");

    // Retag, move to another folder, rename in place, delete, add.
    let retag_id = lib.track_id("Artist/Album/01.mp3").unwrap();
    let retagged = lib.path("Artist/Album/01.mp3");
    age(&retagged);
    lib.add(
        "Artist/Album/01.mp3",
        Format::Mp3,
        &spec(
            "Song One (Remastered)",
            "Artist",
            "Album",
            Some("Artist"),
            1,
        ),
    );

    let move_id = lib.track_id("Artist/Album/02.mp3").unwrap();
    std::fs::create_dir_all(lib.path("Elsewhere")).unwrap();
    std::fs::rename(
        lib.path("Artist/Album/02.mp3"),
        lib.path("Elsewhere/moved.mp3"),
    )
    .unwrap();

    let rename_id = lib.track_id("Artist/Album/03.mp3").unwrap();
    std::fs::rename(
        lib.path("Artist/Album/03.mp3"),
        lib.path("Artist/Album/03 - renamed.mp3"),
    )
    .unwrap();

    std::fs::remove_file(lib.path("Artist/Album/04.mp3")).unwrap();
    lib.add(
        "Artist/Album/05.mp3",
        Format::Mp3,
        &spec("Song 5", "Artist", "Album", Some("Artist"), 5),
    );

    let (report, read) = lib.scan();
    assert_eq!(
        (report.added, report.updated, report.moved, report.removed),
        (1, 1, 2, 1),
        "{report:?}"
    );
    assert_eq!(read, 4, "only the new and changed files are read");
    assert_eq!(lib.track_id("Artist/Album/01.mp3"), Some(retag_id));
    assert_eq!(lib.track_id("Elsewhere/moved.mp3"), Some(move_id));
    assert_eq!(
        lib.track_id("Artist/Album/03 - renamed.mp3"),
        Some(rename_id)
    );
    assert_eq!(lib.track_id("Artist/Album/04.mp3"), None);
    let title: String = tracks::table
        .find(retag_id)
        .select(tracks::title)
        .first(&mut lib.conn())
        .unwrap();
    assert_eq!(title, "Song One (Remastered)");

    // Deleting a whole album folder removes the album and its now-unused artist.
    std::fs::remove_dir_all(lib.path("Other")).unwrap();
    let (report, _) = lib.scan();
    assert_eq!(report.removed, 1);
    let loner: i64 = artists::table
        .filter(artists::name.eq("Loner"))
        .count()
        .get_result(&mut lib.conn())
        .unwrap();
    assert_eq!(loner, 0);
    let solo: i64 = albums::table
        .filter(albums::name.eq("Solo"))
        .count()
        .get_result(&mut lib.conn())
        .unwrap();
    assert_eq!(solo, 0);
    let other_dirs: i64 = directories::table
        .filter(directories::path.like("Other%"))
        .count()
        .get_result(&mut lib.conn())
        .unwrap();
    assert_eq!(other_dirs, 0);
    let integrity: String = diesel::dsl::sql::<diesel::sql_types::Text>(
        "SELECT integrity_check FROM pragma_integrity_check",
    )
    .get_result(&mut lib.conn())
    .unwrap();
    assert_eq!(integrity, "ok");
    assert_search_index_matches(&lib);
}

#[test]
fn bad_files_are_reported_and_never_stop_the_scan() {
    let lib = TestLibrary::new();
    lib.add("Good/01.mp3", Format::Mp3, &spec("Fine", "A", "B", None, 1));
    lib.add_raw("Bad/empty.mp3", b"");
    lib.add_raw(
        "Bad/text.flac",
        b"this is not audio at all, just some words in a file\n",
    );
    lib.add_raw("Bad/picture.m4a", mediastreamer::synth::cover_png());
    let mut truncated =
        mediastreamer::synth::tagged_bytes(Format::Flac, &spec("T", "A", "B", None, 2)).unwrap();
    truncated.truncate(60);
    lib.add_raw("Bad/truncated.flac", &truncated);
    // A name of 250 bytes, and a folder 30 deep.
    let long = format!("{}.mp3", "x".repeat(246));
    lib.add(
        &format!("Long/{long}"),
        Format::Mp3,
        &spec("Long", "A", "B", None, 3),
    );
    let deep: Vec<String> = (0..30).map(|i| format!("d{i}")).collect();
    lib.add(
        &format!("{}/deep.ogg", deep.join("/")),
        Format::Ogg,
        &spec("Deep", "A", "C", None, 1),
    );
    // A symlink loop and a dangling link.
    std::os::unix::fs::symlink(&lib.music, lib.path("Good/loop")).unwrap();
    std::os::unix::fs::symlink(lib.path("nowhere.mp3"), lib.path("Good/dangling.mp3")).unwrap();

    let (report, _) = lib.scan();
    assert_eq!(report.tracks, 3, "{report:?}");
    let bad: Vec<&str> = report.error_list.iter().map(|e| e.path.as_str()).collect();
    for name in [
        "empty.mp3",
        "text.flac",
        "picture.m4a",
        "truncated.flac",
        "dangling.mp3",
        "loop",
    ] {
        assert!(
            bad.iter().any(|p| p.ends_with(name)),
            "{name} not reported: {bad:?}"
        );
    }
    assert_eq!(report.errors, report.error_list.len());
    assert!(report.error_list.iter().all(|e| !e.reason.is_empty()));

    // Unchanged bad files are counted again but not re-read.
    let (again, read) = lib.scan();
    assert_eq!(again.errors, report.errors);
    assert_eq!(read, 0);

    // Fixing a file clears its error and adds the track.
    let fixed = lib.path("Bad/text.flac");
    age(&fixed);
    lib.add(
        "Bad/text.flac",
        Format::Flac,
        &spec("Now fine", "A", "B", None, 4),
    );
    let (after, read) = lib.scan();
    assert_eq!(read, 1);
    assert_eq!(after.added, 1);
    assert_eq!(after.errors, report.errors - 1);
    let left: i64 = scan_errors::table
        .filter(scan_errors::path.eq("Bad/text.flac"))
        .count()
        .get_result(&mut lib.conn())
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn scoped_scans_only_walk_what_changed() {
    let lib = TestLibrary::new();
    lib.add(
        "A/Album/01.mp3",
        Format::Mp3,
        &spec("One", "A", "Album", None, 1),
    );
    lib.scan();
    // A new nested folder: the scope climbs to the nearest known folder.
    let new = lib.add(
        "A/New/Deeper/01.flac",
        Format::Flac,
        &spec("New", "A", "New", None, 1),
    );
    let (report, read) = lib.scan_with(ScanOptions {
        full: false,
        paths: Some(vec![new.parent().unwrap().to_path_buf()]),
    });
    assert_eq!((report.added, read), (1, 1), "{report:?}");
    // Removal inside a scope.
    std::fs::remove_file(lib.path("A/Album/01.mp3")).unwrap();
    let (report, _) = lib.scan_with(ScanOptions {
        full: false,
        paths: Some(vec![lib.path("A/Album")]),
    });
    assert_eq!(report.removed, 1);
    assert_eq!(report.tracks, 1);
    assert_search_index_matches(&lib);
}

#[test]
fn full_scan_rereads_but_keeps_ids() {
    let lib = TestLibrary::new();
    lib.add("X/01.mp3", Format::Mp3, &spec("One", "A", "Album", None, 1));
    lib.scan();
    let id = lib.track_id("X/01.mp3").unwrap();
    let (report, read) = lib.scan_with(ScanOptions {
        full: true,
        paths: None,
    });
    assert_eq!(read, 1);
    assert_eq!((report.added, report.updated), (0, 1));
    assert_eq!(lib.track_id("X/01.mp3"), Some(id));
}

#[test]
fn covers_come_from_folder_images_or_embedded_pictures() {
    let lib = TestLibrary::new();
    lib.add(
        "WithFolderArt/01.mp3",
        Format::Mp3,
        &spec("One", "A", "Art", Some("A"), 1),
    );
    lib.add_raw("WithFolderArt/Cover.JPG", mediastreamer::synth::cover_jpg());
    let mut embedded = spec("Two", "B", "Embedded", Some("B"), 1);
    embedded.embedded_art = true;
    lib.add("Embedded/01.flac", Format::Flac, &embedded);
    lib.scan();
    let rows: Vec<(String, Option<i32>, Option<i32>)> = albums::table
        .order(albums::name)
        .select((
            albums::name,
            albums::cover_directory_id,
            albums::cover_track_id,
        ))
        .load(&mut lib.conn())
        .unwrap();
    assert_eq!(rows[0].0, "Art");
    assert!(rows[0].1.is_some() && rows[0].2.is_none(), "{rows:?}");
    assert_eq!(rows[1].0, "Embedded");
    assert!(rows[1].1.is_none() && rows[1].2.is_some(), "{rows:?}");
    let cover: Option<String> = directories::table
        .filter(directories::path.eq("WithFolderArt"))
        .select(directories::cover_art)
        .first(&mut lib.conn())
        .unwrap();
    assert_eq!(cover.as_deref(), Some("Cover.JPG"));
}

#[test]
fn removed_music_folder_leaves_the_catalog() {
    let mut lib = TestLibrary::new();
    lib.add("A/01.mp3", Format::Mp3, &spec("One", "A", "Album", None, 1));
    lib.scan();
    let other = lib.dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    lib.config.library.folders = vec![mediastreamer::config::FolderEntry::Path(other)];
    let (report, _) = lib.scan();
    assert_eq!((report.tracks, report.albums, report.artists), (0, 0, 0));
    let left: i64 = tracks::table.count().get_result(&mut lib.conn()).unwrap();
    assert_eq!(left, 0);
}

#[test]
fn triggers_during_a_scan_merge_into_one_follow_up() {
    let lib = TestLibrary::new();
    for n in 1..=40 {
        lib.add(
            &format!("A/{n:02}.flac"),
            Format::Flac,
            &spec(&format!("S{n}"), "A", "B", None, n),
        );
    }
    let (scans, thread) = mediastreamer::scanner::ScanHandle::start(lib.config.clone());
    for _ in 0..10 {
        scans.trigger(ScanOptions::default());
    }
    let completed = scans.wait_idle();
    assert!(
        (1..=2).contains(&completed),
        "{completed} scans for 10 triggers"
    );
    let status = scans.status();
    assert!(!status.scanning);
    assert_eq!(status.tracks, 40);
    assert!(status.last_finished_ms.is_some());
    scans.shutdown();
    thread.join().unwrap();
}

#[test]
fn the_schedule_triggers_scans() {
    let lib = TestLibrary::new();
    lib.add("A/01.mp3", Format::Mp3, &spec("One", "A", "B", None, 1));
    let (scans, thread) = mediastreamer::scanner::ScanHandle::start(lib.config.clone());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Every second (6-field form, seconds first).
    let mut scheduler = runtime
        .block_on(mediastreamer::scanner::schedule::start(
            "* * * * * *",
            scans.clone(),
        ))
        .unwrap();
    let start = std::time::Instant::now();
    while scans.status().last_finished_ms.is_none() {
        assert!(start.elapsed().as_secs() < 10, "no scheduled scan ran");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(scans.last_report().unwrap().tracks, 1);
    runtime.block_on(scheduler.shutdown()).unwrap();
    scans.shutdown();
    thread.join().unwrap();
}

/// Every track, album and artist is in its full-text index with its current text, and nothing
/// else is.
fn assert_search_index_matches(lib: &TestLibrary) {
    let mut conn = lib.conn();
    for (fts, check) in [
        (
            "tracks_fts",
            "SELECT count(*) FROM tracks t JOIN tracks_fts f ON f.rowid = t.id AND f.title = t.title AND f.album = t.album_name",
        ),
        (
            "albums_fts",
            "SELECT count(*) FROM albums a JOIN albums_fts f ON f.rowid = a.id AND f.name = a.name AND f.artist = a.artist_display",
        ),
        (
            "artists_fts",
            "SELECT count(*) FROM artists a JOIN artists_fts f ON f.rowid = a.id AND f.name = a.name",
        ),
    ] {
        let table = fts.trim_end_matches("_fts");
        let count = |conn: &mut SqliteConnection, sql: &str| -> i64 {
            diesel::dsl::sql::<diesel::sql_types::BigInt>(sql)
                .get_result(conn)
                .unwrap()
        };
        let rows = count(&mut conn, &format!("SELECT count(*) FROM {table}"));
        let indexed = count(&mut conn, &format!("SELECT count(*) FROM {fts}"));
        let matching = count(&mut conn, check);
        assert_eq!((indexed, matching), (rows, rows), "{fts}");
    }
}

#[test]
fn a_scan_that_fails_does_not_stop_the_next_one() {
    let lib = TestLibrary::new();
    lib.add("A/01.mp3", Format::Mp3, &spec("One", "A", "B", None, 1));
    let (scans, thread) = mediastreamer::scanner::ScanHandle::start(lib.config.clone());
    // Hide a table the walk queries: the walk hits a database error and the scan fails.
    diesel::sql_query("ALTER TABLE directories RENAME TO directories_hidden")
        .execute(&mut lib.conn())
        .unwrap();
    scans.trigger(ScanOptions::default());
    scans.wait_idle();
    assert!(scans.last_report().is_none(), "the scan should have failed");
    diesel::sql_query("ALTER TABLE directories_hidden RENAME TO directories")
        .execute(&mut lib.conn())
        .unwrap();
    // The next scan runs in full, neither cut short nor reported as interrupted.
    scans.trigger(ScanOptions::default());
    scans.wait_idle();
    let report = scans.last_report().expect("a report");
    assert!(!report.interrupted, "{report:?}");
    assert_eq!(report.tracks, 1, "{report:?}");
    scans.shutdown();
    thread.join().unwrap();
}

#[test]
fn wma_dsf_and_dff_albums_are_cataloged_like_any_other() {
    let lib = TestLibrary::new();
    for (n, format) in [Format::Wma, Format::Dsf, Format::Dff]
        .into_iter()
        .enumerate()
    {
        let n = n as u32 + 1;
        let mut track = spec(
            &format!("Song {n}"),
            "Anna feat. Ben",
            "Mixed",
            Some("Anna"),
            n,
        );
        track.genres = vec!["Rock".into(), "Jazz".into()];
        lib.add(
            &format!("Anna/Mixed/0{n}.{}", format.extension()),
            format,
            &track,
        );
    }
    let (report, _) = lib.scan();
    assert_eq!(report.errors, 0, "{:?}", report.error_list);
    assert_eq!((report.tracks, report.albums), (3, 1), "{report:?}");
    // One album by Anna with three songs; Ben is an artist of his own through "feat.".
    let (_, name, artist, songs) = album_of(&lib, "Anna/Mixed/01.wma");
    assert_eq!(
        (name.as_str(), artist.as_str(), songs),
        ("Mixed", "Anna", 3)
    );
    let names: Vec<String> = artists::table
        .select(artists::name)
        .order(artists::name)
        .load(&mut lib.conn())
        .unwrap();
    assert_eq!(names, ["Anna", "Ben"]);
    let rows: Vec<(String, String, i32)> = tracks::table
        .order(tracks::path)
        .select((tracks::suffix, tracks::content_type, tracks::duration_ms))
        .load(&mut lib.conn())
        .unwrap()
        .into_iter()
        .map(|(s, c, d): (String, String, i64)| (s, c, d as i32))
        .collect();
    assert_eq!(rows[0].0, "wma");
    assert_eq!(rows[0].1, "audio/x-ms-wma");
    assert_eq!(rows[1].1, "audio/x-dsf");
    assert_eq!(rows[2].1, "audio/x-dff");
    assert!(rows.iter().all(|r| r.2 >= 450), "{rows:?}");
}

#[test]
fn no_audio_file_is_silently_absent() {
    let lib = TestLibrary::new();
    lib.add("Good/01.wma", Format::Wma, &spec("Fine", "A", "B", None, 1));
    let mut wma = mediastreamer::synth::tagged_bytes(Format::Wma, &TrackSpec::default()).unwrap();
    wma.truncate(100);
    lib.add_raw("Bad/corrupt.wma", &wma);
    lib.add_raw("Bad/garbage.dsf", &[0x5a; 4096]);
    lib.add_raw(
        "Bad/text.mp3",
        "just words, no audio\n".repeat(50).as_bytes(),
    );
    let mut dff = mediastreamer::synth::tagged_bytes(Format::Dff, &TrackSpec::default()).unwrap();
    dff.truncate(40);
    lib.add_raw("Bad/short.dff", &dff);
    // Audio formats the scanner cannot read, and audio content under a name it does not know.
    lib.add_raw("Bad/lossless.tak", b"tBaK and more bytes of a TAK stream");
    lib.add_raw("Bad/music.mka", b"\x1a\x45\xdf\xa3 matroska");
    lib.add_raw(
        "Bad/song.flac.bak",
        mediastreamer::synth::template_bytes(Format::Flac),
    );
    // Not audio: stays out of the report.
    lib.add_raw("Good/notes.txt", b"liner notes");
    lib.add_raw("Good/rip.log", b"EAC extraction logfile");

    let (report, _) = lib.scan();
    assert_eq!(report.tracks, 1, "{report:?}");
    let reason = |name: &str| {
        report
            .error_list
            .iter()
            .find(|e| e.path.ends_with(name))
            .map(|e| e.reason.clone())
            .unwrap_or_else(|| panic!("{name} not reported: {:?}", report.error_list))
    };
    assert!(reason("corrupt.wma").starts_with("truncated or corrupt"));
    assert_eq!(
        reason("garbage.dsf"),
        "not an audio file (unrecognised content)"
    );
    assert_eq!(
        reason("text.mp3"),
        "not an audio file (unrecognised content)"
    );
    assert!(reason("short.dff").starts_with("truncated or corrupt"));
    assert!(
        reason("lossless.tak").contains("not supported"),
        "{}",
        reason("lossless.tak")
    );
    assert!(reason("music.mka").contains("not supported"));
    assert!(
        reason("song.flac.bak").contains("FLAC"),
        "{}",
        reason("song.flac.bak")
    );
    assert_eq!(report.errors, 7, "{:?}", report.error_list);
    let stored: i64 = scan_errors::table
        .count()
        .get_result(&mut lib.conn())
        .unwrap();
    assert_eq!(stored, 7);
    // Reported again by the next scan, not forgotten.
    let (again, _) = lib.scan();
    assert_eq!(again.errors, 7, "{:?}", again.error_list);
}

#[test]
fn files_of_unknown_type_are_opened_only_when_they_may_be_new() {
    let lib = TestLibrary::new();
    lib.add(
        "Album/01.mp3",
        Format::Mp3,
        &spec("One", "A", "Album", None, 1),
    );
    let data = lib.add_raw("Album/data.bin", b"a sidecar of some tool, not audio");
    age(&data);
    let (first, _) = lib.scan();
    assert_eq!(first.errors, 0, "{:?}", first.error_list);

    // The same file now holds FLAC, rewritten in place with its old mtime: the folder and the
    // file look unchanged, so the rescan does not open it (and cannot see the FLAC).
    let old_mtime = std::fs::metadata(&data).unwrap().modified().unwrap();
    std::fs::write(&data, mediastreamer::synth::template_bytes(Format::Flac)).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&data)
        .unwrap()
        .set_modified(old_mtime)
        .unwrap();
    let (unchanged, _) = lib.scan();
    assert_eq!(unchanged.errors, 0, "{:?}", unchanged.error_list);

    // Modified since the last scan: opened, and the audio under an unknown name reported.
    std::fs::File::options()
        .write(true)
        .open(&data)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    let (changed, _) = lib.scan();
    assert_eq!(changed.errors, 1, "{:?}", changed.error_list);
    assert!(changed.error_list[0].reason.contains("FLAC"));
    // Reported again while unchanged, from the catalog's record.
    let (again, _) = lib.scan();
    assert_eq!(again.errors, 1, "{:?}", again.error_list);
    assert_eq!(again.error_list[0].reason, changed.error_list[0].reason);
}

/// The music folders of each album (what folder-restricted users' album filters read) follow
/// its tracks through rescans: a folder is added when a track of the album appears there,
/// dropped when its last one there goes, and the rows go with the album.
#[test]
fn album_folders_follow_the_tracks_through_rescans() {
    use mediastreamer::db::schema::{album_folders, library_folders};
    let mut lib = TestLibrary::new();
    let second = lib.dir.path().join("second");
    std::fs::create_dir(&second).unwrap();
    let second = std::fs::canonicalize(&second).unwrap();
    lib.config
        .library
        .folders
        .push(mediastreamer::config::FolderEntry::Path(second.clone()));
    let hits = |n: u32| spec(&format!("Hit {n}"), "Band", "Hits", Some("Band"), n);
    lib.add("Band/Hits/01.mp3", Format::Mp3, &hits(1));
    lib.scan();
    let folder_of = |path: &std::path::Path| -> i32 {
        library_folders::table
            .filter(library_folders::path.eq(path.to_string_lossy().as_ref()))
            .select(library_folders::id)
            .first(&mut lib.conn())
            .unwrap()
    };
    let (first_id, second_id) = (folder_of(&lib.music), folder_of(&second));
    let folders = || -> Vec<(i32, i32)> {
        album_folders::table
            .select((album_folders::album_id, album_folders::folder_id))
            .order((album_folders::album_id, album_folders::folder_id))
            .load(&mut lib.conn())
            .unwrap()
    };
    let album = album_of(&lib, "Band/Hits/01.mp3").0;
    assert_eq!(folders(), [(album, first_id)]);

    // A second track of the same album (same album artist) in the other music folder.
    let moved = lib.add("tmp/02.mp3", Format::Mp3, &hits(2));
    std::fs::create_dir_all(second.join("Band/Hits")).unwrap();
    std::fs::rename(&moved, second.join("Band/Hits/02.mp3")).unwrap();
    std::fs::remove_dir(lib.path("tmp")).unwrap();
    lib.scan();
    assert_eq!(album_of(&lib, "Band/Hits/02.mp3").0, album);
    assert_eq!(folders(), [(album, first_id), (album, second_id)]);

    // The first folder's track goes: the album is in the second folder only.
    std::fs::remove_file(lib.path("Band/Hits/01.mp3")).unwrap();
    lib.scan();
    assert_eq!(folders(), [(album, second_id)]);

    // The last track goes: the album and its rows go.
    std::fs::remove_file(second.join("Band/Hits/02.mp3")).unwrap();
    lib.scan();
    assert!(folders().is_empty());
    assert_eq!(
        albums::table
            .count()
            .get_result::<i64>(&mut lib.conn())
            .unwrap(),
        0
    );
}
