//! The `track_loudness` table: what is still to measure, the results, the counts for the
//! status, and the measured values the read side serves. Plain sync fns on a connection.

use super::gain::Measured;
use crate::db::schema::{library_folders, track_loudness, tracks};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable};
use std::collections::HashMap;
use std::path::PathBuf;

/// A track's row is current when it was measured from the file as the catalog now has it
/// (size, mtime, fingerprint: what the scanner compares) and with the album as it now is (the
/// same album, the same number of tracks). Raw SQL: a correlated count inside a correlated
/// `EXISTS`, which Diesel's DSL cannot say.
const CURRENT: &str = "EXISTS (SELECT 1 FROM track_loudness l WHERE l.track_id = t.id \
     AND l.size = t.size AND l.mtime = t.mtime AND l.fingerprint = t.fingerprint \
     AND l.album_id = t.album_id \
     AND l.album_tracks = (SELECT count(*) FROM tracks a WHERE a.album_id = t.album_id))";

/// A track needs measuring when a gain tag is missing and it has no current row.
fn needs() -> String {
    format!("(t.rg_track_gain IS NULL OR t.rg_album_gain IS NULL) AND NOT {CURRENT}")
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct AlbumId {
    #[diesel(sql_type = Integer)]
    album_id: i32,
}

#[derive(QueryableByName)]
struct Outcomes {
    #[diesel(sql_type = Nullable<BigInt>)]
    measured: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    failed: Option<i64>,
}

/// Tracks waiting for a measurement (the job's progress: it is done when this is 0).
pub fn pending_count(conn: &mut SqliteConnection) -> QueryResult<i64> {
    let sql = format!("SELECT count(*) AS n FROM tracks t WHERE {}", needs());
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// The next album (by id, after `after`) with a track waiting for a measurement.
pub fn next_album(conn: &mut SqliteConnection, after: i32) -> QueryResult<Option<i32>> {
    let sql = format!(
        "SELECT t.album_id AS album_id FROM tracks t WHERE t.album_id > ? AND {} \
         ORDER BY t.album_id LIMIT 1",
        needs()
    );
    Ok(diesel::sql_query(sql)
        .bind::<Integer, _>(after)
        .get_result::<AlbumId>(conn)
        .optional()?
        .map(|a| a.album_id))
}

/// Current rows: tracks with a measurement and tracks that failed one.
pub fn outcome_counts(conn: &mut SqliteConnection) -> QueryResult<(i64, i64)> {
    let sql = format!(
        "SELECT sum(l.failure IS NULL) AS measured, sum(l.failure IS NOT NULL) AS failed \
         FROM tracks t JOIN track_loudness l ON l.track_id = t.id WHERE {CURRENT}"
    );
    let o = diesel::sql_query(sql).get_result::<Outcomes>(conn)?;
    Ok((o.measured.unwrap_or(0), o.failed.unwrap_or(0)))
}

/// A track of an album to measure, with the facts its result is stored against.
#[derive(Debug, Clone)]
pub struct AlbumTrack {
    pub id: i32,
    pub path: PathBuf,
    pub size: i64,
    pub mtime: i64,
    pub fingerprint: i64,
    pub sample_rate: Option<i32>,
}

/// Every track of an album, with its absolute path.
pub fn album_tracks(conn: &mut SqliteConnection, album_id: i32) -> QueryResult<Vec<AlbumTrack>> {
    type Row = (i32, String, String, i64, i64, i64, Option<i32>);
    let rows: Vec<Row> = tracks::table
        .inner_join(library_folders::table)
        .filter(tracks::album_id.eq(album_id))
        .order(tracks::id)
        .select((
            tracks::id,
            library_folders::path,
            tracks::path,
            tracks::size,
            tracks::mtime,
            tracks::fingerprint,
            tracks::sample_rate,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, folder, path, size, mtime, fingerprint, sample_rate)| AlbumTrack {
                id,
                path: PathBuf::from(folder).join(path),
                size,
                mtime,
                fingerprint,
                sample_rate,
            },
        )
        .collect())
}

/// One track's result: values (all none after a failure) and the failure's reason.
pub struct Outcome<'a> {
    pub track: &'a AlbumTrack,
    pub values: Measured,
    pub failure: Option<String>,
}

/// Stores an album's results in one immediate transaction, replacing earlier rows. Tracks
/// removed meanwhile are skipped (their row would have nothing to belong to).
pub fn save_album(
    conn: &mut SqliteConnection,
    album_id: i32,
    outcomes: &[Outcome<'_>],
) -> QueryResult<()> {
    let now = crate::db::now_ms();
    let album_size = outcomes.len() as i32;
    crate::db::immediate(conn, |conn| {
        for o in outcomes {
            let exists: i64 = tracks::table
                .filter(tracks::id.eq(o.track.id))
                .count()
                .get_result(conn)?;
            if exists == 0 {
                continue;
            }
            diesel::replace_into(track_loudness::table)
                .values((
                    track_loudness::track_id.eq(o.track.id),
                    track_loudness::size.eq(o.track.size),
                    track_loudness::mtime.eq(o.track.mtime),
                    track_loudness::fingerprint.eq(o.track.fingerprint),
                    track_loudness::album_id.eq(album_id),
                    track_loudness::album_tracks.eq(album_size),
                    track_loudness::track_lufs.eq(o.values.track_lufs),
                    track_loudness::track_peak.eq(o.values.track_peak),
                    track_loudness::album_lufs.eq(o.values.album_lufs),
                    track_loudness::album_peak.eq(o.values.album_peak),
                    track_loudness::failure.eq(o.failure.as_deref()),
                    track_loudness::analysed_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Forgets every measurement, so the next run measures everything again.
pub fn forget_all(conn: &mut SqliteConnection) -> QueryResult<usize> {
    crate::db::immediate(conn, |conn| {
        diesel::delete(track_loudness::table).execute(conn)
    })
}

/// A stored measurement and the file facts it was made from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stored {
    pub size: i64,
    pub mtime: i64,
    pub fingerprint: i64,
    pub album_id: i32,
    pub values: Measured,
}

impl Stored {
    /// Whether the measurement is of this very file in this album (else it is not served).
    pub fn matches(&self, size: i64, mtime: i64, fingerprint: i64, album_id: i32) -> bool {
        self.size == size
            && self.mtime == mtime
            && self.fingerprint == fingerprint
            && self.album_id == album_id
    }

    /// `matches` for a catalog track: its file as last scanned, in its album.
    /// Whether this measurement is of the file `file` of a track of album `album_id` as it
    /// is now.
    pub fn is_of(&self, file: &crate::db::models::FileFacts, album_id: i32) -> bool {
        self.matches(file.size, file.mtime, file.fingerprint, album_id)
    }
}

/// The stored measurements of these tracks (one query per 500 ids).
pub fn stored_for(conn: &mut SqliteConnection, ids: &[i32]) -> QueryResult<HashMap<i32, Stored>> {
    type Row = (
        i32,
        i64,
        i64,
        i64,
        i32,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Row> = track_loudness::table
            .filter(track_loudness::track_id.eq_any(chunk))
            .select((
                track_loudness::track_id,
                track_loudness::size,
                track_loudness::mtime,
                track_loudness::fingerprint,
                track_loudness::album_id,
                track_loudness::track_lufs,
                track_loudness::track_peak,
                track_loudness::album_lufs,
                track_loudness::album_peak,
            ))
            .load(conn)?;
        for (id, size, mtime, fingerprint, album_id, tl, tp, al, ap) in rows {
            out.insert(
                id,
                Stored {
                    size,
                    mtime,
                    fingerprint,
                    album_id,
                    values: Measured {
                        track_lufs: tl,
                        track_peak: tp,
                        album_lufs: al,
                        album_peak: ap,
                    },
                },
            );
        }
    }
    Ok(out)
}

/// A track that could not be measured, for the admin page.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedTrack {
    pub track_id: i32,
    pub path: String,
    pub reason: String,
}

/// The current failures, newest first, at most `limit`.
pub fn failures(conn: &mut SqliteConnection, limit: i64) -> QueryResult<Vec<FailedTrack>> {
    /// Id, path, reason, then the stored and the current size, mtime and fingerprint.
    type Row = (i32, String, String, i64, i64, i64, i64, i64, i64);
    let rows: Vec<Row> = track_loudness::table
        .inner_join(tracks::table)
        .filter(track_loudness::failure.is_not_null())
        .order((track_loudness::analysed_at.desc(), track_loudness::track_id))
        .select((
            track_loudness::track_id,
            tracks::path,
            track_loudness::failure.assume_not_null(),
            track_loudness::size,
            tracks::size,
            track_loudness::mtime,
            tracks::mtime,
            track_loudness::fingerprint,
            tracks::fingerprint,
        ))
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.3 == r.4 && r.5 == r.6 && r.7 == r.8)
        .map(|r| FailedTrack {
            track_id: r.0,
            path: r.1,
            reason: r.2,
        })
        .collect())
}

/// The ReplayGain values a track serves (its tags first, else a measurement of this very
/// file, as `library::track_views` attaches them); only the tags for podcast episodes, whose
/// ids (<= 0) are not tracks.
pub fn served_gains(
    conn: &mut SqliteConnection,
    track: &crate::db::models::Track,
) -> QueryResult<super::gain::Gains> {
    use super::gain::Gains;
    let tagged = Gains::tagged(&track.tags);
    if track.id <= 0 {
        return Ok(tagged);
    }
    let measured = stored_for(conn, &[track.id])?
        .remove(&track.id)
        .filter(|m| m.is_of(&track.file, track.album_id))
        .map(|m| m.values);
    Ok(Gains::served(tagged, measured.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_catalog::catalog;

    fn save_all(conn: &mut SqliteConnection, lufs: Option<f64>, failure: Option<&str>) {
        let tracks = album_tracks(conn, 1).unwrap();
        let outcomes: Vec<Outcome<'_>> = tracks
            .iter()
            .map(|track| Outcome {
                track,
                values: Measured {
                    track_lufs: lufs,
                    ..Default::default()
                },
                failure: failure.map(String::from),
            })
            .collect();
        save_album(conn, 1, &outcomes).unwrap();
    }

    fn exec(conn: &mut SqliteConnection, sql: &str) {
        diesel::sql_query(sql).execute(conn).unwrap();
    }

    #[test]
    fn pending_is_what_lacks_a_current_measurement() {
        let (_dir, mut conn) = catalog(&[(1, 1), (2, 1), (3, 1)]);
        assert_eq!(pending_count(&mut conn).unwrap(), 3);
        assert_eq!(next_album(&mut conn, 0).unwrap(), Some(1));
        assert_eq!(next_album(&mut conn, 1).unwrap(), None);
        let tracks = album_tracks(&mut conn, 1).unwrap();
        assert_eq!(tracks[0].path, PathBuf::from("/m/a/1.mp3"));

        save_all(&mut conn, Some(-20.0), None);
        assert_eq!(pending_count(&mut conn).unwrap(), 0);
        assert_eq!(next_album(&mut conn, 0).unwrap(), None);
        assert_eq!(outcome_counts(&mut conn).unwrap(), (3, 0));

        // A changed file (new mtime) is pending again, and its row is no longer current.
        exec(&mut conn, "UPDATE tracks SET mtime = 5 WHERE id = 2");
        assert_eq!(pending_count(&mut conn).unwrap(), 1);
        assert_eq!(outcome_counts(&mut conn).unwrap(), (2, 0));
        let stored = stored_for(&mut conn, &[1, 2]).unwrap();
        assert!(stored[&1].matches(1, 0, 1, 1));
        assert!(!stored[&2].matches(1, 5, 2, 1));

        // An album that lost a track is measured again (every remaining track).
        save_all(&mut conn, Some(-20.0), None);
        exec(&mut conn, "DELETE FROM tracks WHERE id = 3");
        assert_eq!(pending_count(&mut conn).unwrap(), 2);

        // Fully tagged tracks are never pending; failures are current rows with a reason.
        exec(
            &mut conn,
            "UPDATE tracks SET rg_track_gain = 1, rg_album_gain = 2 WHERE id = 1",
        );
        assert_eq!(pending_count(&mut conn).unwrap(), 1);
        save_all(&mut conn, None, Some("silent"));
        assert_eq!(pending_count(&mut conn).unwrap(), 0);
        assert_eq!(outcome_counts(&mut conn).unwrap(), (0, 2));
        let failed = failures(&mut conn, 10).unwrap();
        assert_eq!(failed.len(), 2);
        assert_eq!(failed[0].reason, "silent");

        assert_eq!(forget_all(&mut conn).unwrap(), 2);
        assert_eq!(pending_count(&mut conn).unwrap(), 1);
    }
}
