//! The bulk load of a first scan (db/deferred.rs): the catalog and search results are those
//! of a scan that writes row by row, and a load killed before its end is repaired.

mod common;

use common::{TestLibrary, spec};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use mediastreamer::db::deferred::{DEFERRED_INDEXES, SEARCH_INDEXES};
use mediastreamer::synth::{Format, TrackSpec};

/// A small library with what the album rules care about: album artists, a compilation, a
/// two-disc album whose second disc is untagged, genres, composers, a disc subtitle.
fn fill(lib: &TestLibrary, skip_first: bool) {
    let mut files: Vec<(&str, Format, TrackSpec)> = Vec::new();
    let mut one = spec("Morning Light", "The Band", "Hits", Some("The Band"), 1);
    one.genres = vec!["Rock".into(), "Pop".into()];
    one.composer = Some("Writer Person".into());
    files.push(("Band/Hits/01.mp3", Format::Mp3, one));
    let mut two = spec(
        "Evening Rain",
        "The Band feat. Guest",
        "Hits",
        Some("The Band"),
        2,
    );
    two.genres = vec!["Rock".into()];
    files.push(("Band/Hits/02.flac", Format::Flac, two));
    let mut c1 = spec("Compiled One", "Gamma", "Comp", None, 1);
    c1.compilation = true;
    let mut c2 = spec("Compiled Two", "Delta", "Comp", None, 2);
    c2.compilation = true;
    c2.disc_subtitle = Some("Bonus".into());
    files.push(("Comp/01.m4a", Format::M4a, c1));
    files.push(("Comp/02.ogg", Format::Ogg, c2));
    files.push((
        "Box/Disc 1/01.mp3",
        Format::Mp3,
        spec("Boxed", "Alpha", "Box Set", None, 1),
    ));
    files.push(("Box/Disc 2/01.mp3", Format::Mp3, TrackSpec::default()));
    files.push((
        "Loose Folder/my song.wav",
        Format::Wav,
        TrackSpec::default(),
    ));
    for (rel, format, spec) in files.into_iter().skip(usize::from(skip_first)) {
        lib.add(rel, format, &spec);
    }
}

fn strings(conn: &mut SqliteConnection, sql: &str) -> Vec<String> {
    diesel::dsl::sql::<Text>(sql).load(conn).unwrap()
}

fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    diesel::dsl::sql::<BigInt>(sql).get_result(conn).unwrap()
}

/// The catalog and what searches find, by names and paths (ids depend on the write order).
fn summary(lib: &TestLibrary) -> Vec<Vec<String>> {
    let mut conn = lib.conn();
    [
        "SELECT t.path || '|' || t.title || '|' || a.name || '|' || a.artist_display || '|' \
         || a.song_count || '|' || a.disc_count FROM tracks t JOIN albums a ON a.id = t.album_id \
         ORDER BY t.path",
        "SELECT name FROM artists ORDER BY name",
        "SELECT a.name || '|' || r.name || '|' || aa.position FROM album_artists aa \
         JOIN albums a ON a.id = aa.album_id JOIN artists r ON r.id = aa.artist_id \
         ORDER BY 1",
        "SELECT t.path || '|' || ta.role || '|' || r.name FROM track_artists ta \
         JOIN tracks t ON t.id = ta.track_id JOIN artists r ON r.id = ta.artist_id ORDER BY 1",
        "SELECT t.path || '|' || g.name FROM track_genres tg JOIN tracks t ON t.id = tg.track_id \
         JOIN genres g ON g.id = tg.genre_id ORDER BY 1",
        "SELECT a.name || '|' || g.name FROM album_genres ag JOIN albums a ON a.id = ag.album_id \
         JOIN genres g ON g.id = ag.genre_id ORDER BY 1",
        "SELECT t.path FROM tracks_fts f JOIN tracks t ON t.id = f.rowid \
         WHERE tracks_fts MATCH 'band OR compiled OR box*' ORDER BY 1",
        "SELECT t.path FROM tracks_fts f JOIN tracks t ON t.id = f.rowid \
         WHERE tracks_fts MATCH 'ev*' ORDER BY 1",
        "SELECT a.name FROM albums_fts f JOIN albums a ON a.id = f.rowid \
         WHERE albums_fts MATCH 'hi* OR comp OR box' ORDER BY 1",
        "SELECT a.name FROM artists_fts f JOIN artists a ON a.id = f.rowid \
         WHERE artists_fts MATCH 'band OR gamma OR wri*' ORDER BY 1",
    ]
    .iter()
    .map(|sql| strings(&mut conn, sql))
    .collect()
}

/// Every deferred index exists, nothing is pending, and each full-text index holds exactly
/// its table's rows.
fn assert_complete(lib: &TestLibrary) {
    let mut conn = lib.conn();
    for name in DEFERRED_INDEXES {
        assert_eq!(
            count(
                &mut conn,
                &format!(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '{name}'"
                )
            ),
            1,
            "{name}"
        );
    }
    assert_eq!(count(&mut conn, "SELECT count(*) FROM deferred_builds"), 0);
    for (table, _, source) in SEARCH_INDEXES {
        let rows = count(&mut conn, &format!("SELECT count(*) FROM ({source})"));
        assert!(rows > 0, "{table}");
        let indexed = count(&mut conn, &format!("SELECT count(*) FROM {table}"));
        assert_eq!(indexed, rows, "{table}");
        let columns = source
            .trim_start_matches("SELECT id, ")
            .split(" FROM ")
            .next()
            .unwrap();
        let base = source.split(" FROM ").nth(1).unwrap();
        // Same rows, same text.
        let differing = count(
            &mut conn,
            &format!(
                "SELECT count(*) FROM (SELECT id, {columns} FROM {base} EXCEPT \
                 SELECT rowid, * FROM {table})"
            ),
        );
        assert_eq!(differing, 0, "{table}");
    }
}

#[test]
fn a_first_scan_gives_the_catalog_and_search_results_of_a_row_by_row_scan() {
    // Bulk: everything in the first scan of an empty catalog.
    let bulk = TestLibrary::new();
    fill(&bulk, false);
    let (report, _) = bulk.scan();
    assert_eq!(report.tracks, 7, "{report:?}");
    assert_eq!(report.errors, 0, "{:?}", report.error_list);
    assert_complete(&bulk);

    // Row by row: one file first (its own tiny bulk load), then the rest into a catalog that
    // is not empty.
    let rows = TestLibrary::new();
    rows.add(
        "Band/Hits/01.mp3",
        Format::Mp3,
        &TrackSpec {
            genres: vec!["Rock".into(), "Pop".into()],
            composer: Some("Writer Person".into()),
            ..spec("Morning Light", "The Band", "Hits", Some("The Band"), 1)
        },
    );
    rows.scan();
    fill(&rows, true);
    let (report, _) = rows.scan();
    assert_eq!(report.tracks, 7, "{report:?}");
    assert_complete(&rows);

    let (a, b) = (summary(&bulk), summary(&rows));
    assert_eq!(a, b);
    // The searches found something (the comparison is not of empty lists).
    assert!(
        a[6].len() >= 4 && a[7].len() == 1 && a[8].len() == 4,
        "{a:?}"
    );
}

/// Leaves the catalog as a bulk load killed after writing its tracks: deferred indexes
/// dropped and recorded, full-text indexes empty.
fn kill_in_bulk_phase(lib: &TestLibrary) {
    let mut conn = lib.conn();
    for name in DEFERRED_INDEXES {
        let sql = strings(
            &mut conn,
            &format!("SELECT sql FROM sqlite_master WHERE name = '{name}'"),
        )
        .remove(0);
        diesel::sql_query("INSERT INTO deferred_builds (name, sql) VALUES (?, ?)")
            .bind::<Text, _>(name)
            .bind::<Text, _>(&sql)
            .execute(&mut conn)
            .unwrap();
        conn.batch_execute(&format!("DROP INDEX {name}")).unwrap();
    }
    for (table, _, _) in SEARCH_INDEXES {
        conn.batch_execute(&format!(
            "DELETE FROM {table}; INSERT INTO deferred_builds (name) VALUES ('{table}');"
        ))
        .unwrap();
    }
}

fn pending(lib: &TestLibrary) -> i64 {
    count(&mut lib.conn(), "SELECT count(*) FROM deferred_builds")
}

#[test]
fn a_bulk_load_killed_before_its_end_is_repaired_at_the_next_start() {
    let lib = TestLibrary::new();
    fill(&lib, false);
    lib.scan();
    let before = summary(&lib);
    kill_in_bulk_phase(&lib);
    assert_eq!(pending(&lib), 8);
    assert!(summary(&lib)[6].is_empty(), "searches find nothing yet");

    mediastreamer::db::open_and_migrate(&lib.config.database.path).unwrap();
    assert_complete(&lib);
    assert_eq!(summary(&lib), before);
}

#[test]
fn a_bulk_load_killed_before_its_end_is_repaired_by_the_next_scan() {
    let lib = TestLibrary::new();
    fill(&lib, false);
    lib.scan();
    let before = summary(&lib);
    kill_in_bulk_phase(&lib);

    let (report, read) = lib.scan();
    assert_eq!((report.added, read), (0, 0), "{report:?}");
    assert_complete(&lib);
    assert_eq!(summary(&lib), before);
}

#[test]
fn a_bulk_load_still_running_elsewhere_is_left_alone() {
    let lib = TestLibrary::new();
    fill(&lib, false);
    lib.scan();
    kill_in_bulk_phase(&lib);
    // Another process's load holds the lock beside the database.
    let mut lock_path = lib.config.database.path.clone().into_os_string();
    lock_path.push("-bulk");
    let lock = std::fs::File::create(&lock_path).unwrap();
    lock.lock().unwrap();

    mediastreamer::db::open_and_migrate(&lib.config.database.path).unwrap();
    assert_eq!(pending(&lib), 8, "not repaired while the load runs");

    drop(lock);
    mediastreamer::db::open_and_migrate(&lib.config.database.path).unwrap();
    assert_complete(&lib);
}

#[test]
fn a_scan_of_a_catalog_with_tracks_keeps_its_indexes() {
    let lib = TestLibrary::new();
    fill(&lib, true);
    lib.scan();
    lib.add(
        "Band/Hits/01.mp3",
        Format::Mp3,
        &spec("Morning Light", "The Band", "Hits", Some("The Band"), 1),
    );
    // Searches see tracks as their batches commit (no bulk load on a catalog with tracks).
    let (report, _) = lib.scan();
    assert_eq!(report.added, 1);
    assert_complete(&lib);
    let found = strings(
        &mut lib.conn(),
        "SELECT t.path FROM tracks_fts f JOIN tracks t ON t.id = f.rowid \
         WHERE tracks_fts MATCH 'morning'",
    );
    assert_eq!(found, ["Band/Hits/01.mp3"]);
}
