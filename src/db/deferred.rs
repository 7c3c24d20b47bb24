//! Bulk load: a scan that starts on an empty catalog (the first scan of a new library) builds
//! some secondary indexes and the full-text indexes once at its end instead of row by row.
//!
//! At a million tracks the scan's one writer spent most of its time in SQLite maintaining
//! B-trees its own statements never read (`tracks_fingerprint`, `tracks_updated`, the artist
//! and genre reverse indexes...) and the full-text indexes; sorting the finished table once is
//! far cheaper than inserting into them in random key order.
//!
//! Crash safety: the indexes are dropped, and a row per deferred item written to
//! `deferred_builds`, in one transaction; each item is built and its row deleted in one
//! transaction. A scan killed in between leaves the rows, and the next start
//! ([`super::open_and_migrate`]) or scan builds what they list. A running bulk load holds an
//! advisory lock on a file beside the database (`<db>-bulk`), so another process never
//! "repairs" a load that is still going on (it would leave the search index without the
//! tracks written after it).
//!
//! While the bulk load runs the API works on a catalog without those indexes (some lists are
//! slower) and searches find nothing of the new tracks until it ends.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::SqliteConnection;
use std::fs::File;
use std::path::PathBuf;

/// Indexes a bulk load drops and builds at its end: none is used by a statement of the
/// scanner's writer during the load (checked with EXPLAIN QUERY PLAN, see the tests), and all
/// are on the large tables. The writer's orphan check of artists, which would read
/// `track_artists_artist`, is answered from memory during a bulk load (scanner/writer.rs).
pub const DEFERRED_INDEXES: [&str; 5] = [
    "tracks_fingerprint",
    "tracks_updated",
    "tracks_disc_subtitles",
    "track_artists_artist",
    "track_genres_genre",
];

/// The full-text indexes: table, insert target, and the select that fills it (the writer
/// adds `WHERE id IN (...)` for a batch).
pub const SEARCH_INDEXES: [(&str, &str, &str); 3] = [
    (
        "tracks_fts",
        "tracks_fts(rowid, title, artist, album)",
        "SELECT id, title, artist_display, album_name FROM tracks",
    ),
    (
        "albums_fts",
        "albums_fts(rowid, name, artist)",
        "SELECT id, name, artist_display FROM albums",
    ),
    (
        "artists_fts",
        "artists_fts(rowid, name)",
        "SELECT id, name FROM artists",
    ),
];

/// A bulk load in progress: holds the lock that tells other processes it is not abandoned.
#[derive(Debug)]
pub struct BulkLoad {
    _lock: File,
}

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct MainFile {
    #[diesel(sql_type = Text)]
    file: String,
}

#[derive(QueryableByName)]
struct IndexSql {
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

/// The lock file of the database `conn` has open (none for an in-memory database).
fn lock_path(conn: &mut SqliteConnection) -> QueryResult<Option<PathBuf>> {
    let main: Option<MainFile> =
        diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .get_result(conn)
            .optional()?;
    Ok(main
        .map(|m| m.file)
        .filter(|f| !f.is_empty())
        .map(|f| PathBuf::from(f + "-bulk")))
}

enum Lock {
    Held(File),
    /// Another connection (this process or another) runs a bulk load.
    Busy,
    /// No lock file can be had (in-memory database, unwritable directory).
    Unavailable,
}

fn try_lock(conn: &mut SqliteConnection) -> QueryResult<Lock> {
    let Some(path) = lock_path(conn)? else {
        return Ok(Lock::Unavailable);
    };
    let Ok(file) = super::open_lock_file(&path) else {
        return Ok(Lock::Unavailable);
    };
    Ok(match file.try_lock() {
        Ok(()) => Lock::Held(file),
        Err(std::fs::TryLockError::WouldBlock) => Lock::Busy,
        Err(std::fs::TryLockError::Error(_)) => Lock::Unavailable,
    })
}

fn pending(conn: &mut SqliteConnection) -> QueryResult<Vec<Pending>> {
    diesel::sql_query("SELECT name, sql FROM deferred_builds ORDER BY name").load(conn)
}

fn index_sql(conn: &mut SqliteConnection, name: &str) -> QueryResult<Option<String>> {
    Ok(
        diesel::sql_query("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?")
            .bind::<Text, _>(name)
            .get_result::<IndexSql>(conn)
            .optional()?
            .and_then(|r| r.sql),
    )
}

/// Builds what `deferred_builds` lists, one item per transaction, unless a bulk load is
/// running. Returns how many items were built. Cheap when nothing is pending.
pub fn repair(conn: &mut SqliteConnection) -> QueryResult<usize> {
    if pending(conn)?.is_empty() {
        return Ok(0);
    }
    // Held (or none to be had) until the builds are done.
    let lock = try_lock(conn)?;
    if matches!(lock, Lock::Busy) {
        return Ok(0);
    }
    build_pending(conn)
}

/// At the start of a scan's writer: builds what a killed bulk load left, then, when the
/// catalog has no tracks, starts a bulk load (drops the deferred indexes, records them).
pub fn begin(conn: &mut SqliteConnection) -> QueryResult<Option<BulkLoad>> {
    let lock = match try_lock(conn)? {
        Lock::Held(lock) => lock,
        Lock::Busy | Lock::Unavailable => return Ok(None),
    };
    build_pending(conn)?;
    let started = conn.immediate_transaction(|conn| {
        use crate::db::schema::tracks;
        let any: bool = diesel::select(diesel::dsl::exists(tracks::table.select(tracks::id)))
            .get_result(conn)?;
        if any {
            return Ok::<_, diesel::result::Error>(false);
        }
        for name in DEFERRED_INDEXES {
            let Some(sql) = index_sql(conn, name)? else {
                continue;
            };
            record(conn, name, Some(&sql))?;
            conn.batch_execute(&format!("DROP INDEX {name}"))?;
        }
        for (table, _, _) in SEARCH_INDEXES {
            conn.batch_execute(&format!("DELETE FROM {table}"))?;
            record(conn, table, None)?;
        }
        Ok(true)
    })?;
    Ok(started.then_some(BulkLoad { _lock: lock }))
}

fn record(conn: &mut SqliteConnection, name: &str, sql: Option<&str>) -> QueryResult<()> {
    diesel::sql_query("INSERT OR REPLACE INTO deferred_builds (name, sql) VALUES (?, ?)")
        .bind::<Text, _>(name)
        .bind::<Nullable<Text>, _>(sql)
        .execute(conn)?;
    Ok(())
}

/// The end of a bulk load: builds the deferred indexes and fills the full-text indexes.
pub fn end(conn: &mut SqliteConnection, load: BulkLoad) -> QueryResult<()> {
    build_pending(conn)?;
    drop(load);
    Ok(())
}

#[derive(QueryableByName)]
struct CacheSize {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    cache_size: i64,
}

/// Builds every pending item; the caller holds the lock (or none can be had).
///
/// With a smaller page cache while it runs: an index build sorts in memory up to the page
/// cache's size, on top of the cache itself (the scan's writer keeps 96 MB; peak RSS of a
/// million-track first scan went from ~165 to ~250 MB with both).
fn build_pending(conn: &mut SqliteConnection) -> QueryResult<usize> {
    let items = pending(conn)?;
    if items.is_empty() {
        return Ok(0);
    }
    let cache: CacheSize = diesel::sql_query("PRAGMA cache_size").get_result(conn)?;
    conn.batch_execute("PRAGMA cache_size = -32768")?;
    let built = build(conn, &items);
    conn.batch_execute(&format!("PRAGMA cache_size = {}", cache.cache_size))?;
    built
}

fn build(conn: &mut SqliteConnection, items: &[Pending]) -> QueryResult<usize> {
    for item in items {
        conn.immediate_transaction(|conn| {
            match &item.sql {
                Some(sql) => {
                    if index_sql(conn, &item.name)?.is_none() {
                        conn.batch_execute(sql)?;
                    }
                }
                None => {
                    if let Some((table, target, source)) =
                        SEARCH_INDEXES.iter().find(|(t, _, _)| *t == item.name)
                    {
                        conn.batch_execute(&format!(
                            "DELETE FROM {table}; INSERT INTO {target} {source};"
                        ))?;
                    }
                }
            }
            diesel::sql_query("DELETE FROM deferred_builds WHERE name = ?")
                .bind::<Text, _>(&item.name)
                .execute(conn)?;
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    // Searches and cached answers see the finished catalog.
    conn.immediate_transaction(crate::library::cache::catalog_changed)?;
    tracing::info!(items = items.len(), "deferred indexes built");
    Ok(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(QueryableByName)]
    struct PlanRow {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    /// The writer's statements that read the large tables during a bulk load (their SQL as
    /// Diesel builds it, ids shortened) use none of the deferred indexes: dropping them
    /// changes no plan. The orphan check of artists does use `track_artists_artist`; during
    /// a load it only runs for artists without a track link in it, after the album credits.
    #[test]
    fn the_writers_statements_do_not_use_the_deferred_indexes() {
        let (_dir, mut conn) = crate::library::test_catalog::catalog(&[(1, 1), (2, 1)]);
        let statements = [
            "SELECT id, album_id, directory_id, disc_number, track_number, path FROM tracks \
             WHERE album_id IN (1, 2) ORDER BY album_id, disc_number, track_number, path",
            "SELECT ta.track_id, ta.role, ta.artist_id FROM track_artists ta \
             JOIN tracks t ON t.id = ta.track_id WHERE t.album_id IN (1, 2) \
             AND ta.role IN ('artist', 'albumartist') ORDER BY ta.track_id, ta.position",
            "SELECT tg.track_id, tg.genre_id FROM track_genres tg JOIN tracks t \
             ON t.id = tg.track_id WHERE t.album_id IN (1, 2) ORDER BY tg.track_id, tg.position",
            "SELECT DISTINCT album_id, folder_id FROM tracks WHERE album_id IN (1, 2)",
            "SELECT DISTINCT directory_id FROM tracks WHERE album_id IN (1, 2)",
            "SELECT DISTINCT t.album_id, t.album_name, a.album_key, t.directory_id, d.folder_id, \
             d.path FROM tracks t JOIN directories d ON d.id = t.directory_id \
             JOIN albums a ON a.id = t.album_id WHERE t.directory_id IN (1, 2)",
            "UPDATE tracks SET album_id = 1 WHERE album_id IN (1, 2) AND directory_id IN (1, 2)",
            "SELECT DISTINCT album_id FROM tracks WHERE directory_id = 1",
            "SELECT id FROM tracks WHERE folder_id = 1 AND path = 'x'",
            "SELECT artist_id FROM track_artists WHERE track_id = 1",
            "DELETE FROM track_genres WHERE track_id = 1",
            "SELECT artist_id FROM album_artists WHERE album_id IN (1, 2)",
            "SELECT id FROM artists WHERE id IN (1, 2) \
             AND NOT EXISTS (SELECT 1 FROM album_artists WHERE artist_id = artists.id)",
        ];
        for sql in statements {
            let plan: Vec<PlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .load(&mut conn)
                .unwrap();
            for row in plan {
                for name in DEFERRED_INDEXES {
                    assert!(!row.detail.contains(name), "{sql}: {}", row.detail);
                }
            }
        }
    }

    #[test]
    fn a_bulk_load_starts_only_on_an_empty_catalog_and_ends_complete() {
        let (_dir, mut conn) = crate::library::test_catalog::catalog(&[(1, 1)]);
        assert!(
            begin(&mut conn).unwrap().is_none(),
            "the catalog has a track"
        );
        assert!(pending(&mut conn).unwrap().is_empty());

        conn.batch_execute("DELETE FROM tracks").unwrap();
        let load = begin(&mut conn).unwrap().expect("an empty catalog");
        assert_eq!(pending(&mut conn).unwrap().len(), 8);
        for name in DEFERRED_INDEXES {
            assert!(index_sql(&mut conn, name).unwrap().is_none(), "{name}");
        }
        // A second load cannot start while this one holds the lock, nor repair it.
        assert!(begin(&mut conn).unwrap().is_none());
        assert_eq!(repair(&mut conn).unwrap(), 0);

        end(&mut conn, load).unwrap();
        assert!(pending(&mut conn).unwrap().is_empty());
        for name in DEFERRED_INDEXES {
            assert!(index_sql(&mut conn, name).unwrap().is_some(), "{name}");
        }
    }
}
