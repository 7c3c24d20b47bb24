//! Saved play queues, one per user (savePlayQueue / getPlayQueue and their index-based
//! variants). A save replaces the whole queue in one immediate transaction, so two clients
//! saving at the same moment leave one of the two queues, never a mix.

use crate::db::schema::{play_queue_tracks, play_queues};
use crate::library::TrackView;
use crate::library::access::{self, Viewer};
use crate::library::catalog::{self, Annotated};
use diesel::prelude::*;
use std::collections::HashSet;

/// Rows per INSERT (3 bound values each).
const INSERT_CHUNK: usize = 2000;

/// A saved queue as it is now. Tracks deleted from the library since the save have left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQueue {
    pub track_ids: Vec<i32>,
    /// Index into `track_ids` of the current track (None for an empty queue).
    pub current: Option<usize>,
    pub position_ms: i64,
    /// Epoch milliseconds.
    pub changed_at: i64,
    /// The client that saved it.
    pub changed_by: String,
}

/// A queue to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQueue<'a> {
    pub track_ids: &'a [i32],
    /// Index into `track_ids` (must be in range when there are tracks).
    pub current: usize,
    pub position_ms: i64,
    pub changed_by: &'a str,
}

/// Why a save did not happen (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("song {0} not found")]
    SongNotFound(i32),
    #[error("current index {0} is outside the queue")]
    BadCurrent(usize),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Replaces the user's queue; an empty list clears it (the queue is then empty, with the time
/// and client of the clearing). Every track must be one the viewer may see.
pub fn save(
    conn: &mut SqliteConnection,
    viewer: &Viewer,
    queue: &NewQueue,
    now_ms: i64,
) -> Result<(), QueueError> {
    let (user_id, scope) = (viewer.user_id, &viewer.scope);
    if !queue.track_ids.is_empty() && queue.current >= queue.track_ids.len() {
        return Err(QueueError::BadCurrent(queue.current));
    }
    crate::db::immediate(conn, |conn| {
        if let Some(missing) = access::first_unshown_track(conn, scope, queue.track_ids)? {
            return Err(QueueError::SongNotFound(missing));
        }
        // The entries go with the queue row (ON DELETE CASCADE).
        diesel::delete(play_queues::table.find(user_id)).execute(conn)?;
        let current = (!queue.track_ids.is_empty()).then_some(queue.current as i32);
        diesel::insert_into(play_queues::table)
            .values((
                play_queues::user_id.eq(user_id),
                play_queues::current_index.eq(current),
                play_queues::position_ms.eq(queue.position_ms),
                play_queues::changed_at.eq(now_ms),
                play_queues::changed_by.eq(queue.changed_by),
            ))
            .execute(conn)?;
        for (n, chunk) in queue.track_ids.chunks(INSERT_CHUNK).enumerate() {
            let rows: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, &track_id)| {
                    (
                        play_queue_tracks::user_id.eq(user_id),
                        play_queue_tracks::position.eq((n * INSERT_CHUNK + i) as i32),
                        play_queue_tracks::track_id.eq(track_id),
                    )
                })
                .collect();
            diesel::insert_into(play_queue_tracks::table)
                .values(&rows)
                .execute(conn)?;
        }
        Ok(())
    })
}

/// getPlayQueue: the viewer's saved queue, if any, with its songs (each once, with the
/// viewer's annotations), without the tracks the viewer may not see.
pub fn load_with_songs(
    conn: &mut SqliteConnection,
    viewer: &Viewer,
) -> QueryResult<Option<(SavedQueue, Annotated<TrackView>)>> {
    let Some(queue) = load(conn, viewer)? else {
        return Ok(None);
    };
    let mut unique = queue.track_ids.clone();
    unique.sort_unstable();
    unique.dedup();
    let songs = catalog::songs(conn, viewer, &unique)?;
    Ok(Some((queue, songs)))
}

/// The viewer's saved queue, if any, without the tracks their folders hide. Read in one transaction
/// so a concurrent save is seen whole or not at all.
pub fn load(conn: &mut SqliteConnection, viewer: &Viewer) -> QueryResult<Option<SavedQueue>> {
    let (user_id, scope) = (viewer.user_id, &viewer.scope);
    conn.transaction(|conn| {
        let Some((current_index, position_ms, changed_at, changed_by)) = play_queues::table
            .find(user_id)
            .select((
                play_queues::current_index,
                play_queues::position_ms,
                play_queues::changed_at,
                play_queues::changed_by,
            ))
            .get_result::<(Option<i32>, i64, i64, String)>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        let rows: Vec<(i32, i32)> = play_queue_tracks::table
            .filter(play_queue_tracks::user_id.eq(user_id))
            .order(play_queue_tracks::position)
            .select((play_queue_tracks::position, play_queue_tracks::track_id))
            .load(conn)?;
        let rows = if scope.is_all() {
            rows
        } else {
            let ids: Vec<i32> = rows.iter().map(|(_, t)| *t).collect();
            let shown: HashSet<i32> = access::tracks_in_scope(conn, scope, &ids)?
                .into_iter()
                .collect();
            rows.into_iter()
                .filter(|(_, t)| shown.contains(t))
                .collect()
        };
        // `current_index` is the saved position; if that track has since left the library,
        // the next one that is still there becomes current.
        let current = current_index.and_then(|saved| {
            rows.iter()
                .position(|(pos, _)| *pos >= saved)
                .or_else(|| rows.len().checked_sub(1))
        });
        Ok(Some(SavedQueue {
            track_ids: rows.into_iter().map(|(_, t)| t).collect(),
            current,
            position_ms,
            changed_at,
            changed_by,
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tracks 1..=4 in folder 1.
    fn catalog() -> (tempfile::TempDir, SqliteConnection) {
        crate::library::test_catalog::catalog(&[(1, 1), (2, 1), (3, 1), (4, 1)])
    }

    #[test]
    fn saves_replace_and_current_follows_deleted_tracks() {
        let (_dir, mut c) = catalog();
        assert_eq!(load(&mut c, &Viewer::everything(1, false)).unwrap(), None);
        let q = NewQueue {
            track_ids: &[1, 2, 2, 3],
            current: 2,
            position_ms: 1500,
            changed_by: "app",
        };
        save(&mut c, &Viewer::everything(1, false), &q, 7).unwrap();
        let saved = load(&mut c, &Viewer::everything(1, false))
            .unwrap()
            .unwrap();
        assert_eq!(saved.track_ids, [1, 2, 2, 3]);
        assert_eq!(
            (saved.current, saved.position_ms, saved.changed_at),
            (Some(2), 1500, 7)
        );
        // Track 2 leaves the library: the current entry moves on to track 3.
        diesel::sql_query("DELETE FROM tracks WHERE id = 2")
            .execute(&mut c)
            .unwrap();
        let saved = load(&mut c, &Viewer::everything(1, false))
            .unwrap()
            .unwrap();
        assert_eq!((saved.track_ids, saved.current), (vec![1, 3], Some(1)));
        // Bad input changes nothing.
        let bad = NewQueue {
            track_ids: &[1, 9],
            current: 1,
            ..q.clone()
        };
        assert!(matches!(
            save(&mut c, &Viewer::everything(1, false), &bad, 8),
            Err(QueueError::SongNotFound(9))
        ));
        let out_of_range = NewQueue { current: 4, ..q };
        assert!(matches!(
            save(&mut c, &Viewer::everything(1, false), &out_of_range, 8),
            Err(QueueError::BadCurrent(4))
        ));
        assert_eq!(
            load(&mut c, &Viewer::everything(1, false))
                .unwrap()
                .unwrap()
                .track_ids,
            [1, 3]
        );
        // An empty save clears.
        let empty = NewQueue {
            track_ids: &[],
            current: 0,
            position_ms: 0,
            changed_by: "app",
        };
        save(&mut c, &Viewer::everything(1, false), &empty, 9).unwrap();
        let cleared = load(&mut c, &Viewer::everything(1, false))
            .unwrap()
            .unwrap();
        assert_eq!(
            (cleared.track_ids.len(), cleared.current, cleared.changed_at),
            (0, None, 9)
        );
    }
}
