//! Bookmarks: a user's saved position in a track (audiobooks, long mixes), one per user and
//! track.

use crate::db::schema::{bookmarks, tracks};
use crate::library::TrackView;
use crate::library::access::{self, Scope, Viewer};
use crate::library::catalog::{self, Annotated};
use diesel::prelude::*;

/// One bookmark.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Bookmark {
    pub track_id: i32,
    pub position_ms: i64,
    pub comment: Option<String>,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds.
    pub updated_at: i64,
}

/// Why a bookmark call did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BookmarkError {
    #[error("song not found")]
    SongNotFound,
    #[error("bookmark not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Creates or moves the user's bookmark in a track `scope` shows (the creation time stays).
pub fn save(
    conn: &mut SqliteConnection,
    viewer: &Viewer,
    track_id: i32,
    position_ms: i64,
    comment: Option<&str>,
    now_ms: i64,
) -> Result<(), BookmarkError> {
    let (user_id, scope) = (viewer.user_id, &viewer.scope);
    crate::db::immediate(conn, |conn| {
        let folder: Option<i32> = tracks::table
            .find(track_id)
            .select(tracks::folder_id)
            .get_result(conn)
            .optional()?;
        if !folder.is_some_and(|f| scope.allows(f)) {
            return Err(BookmarkError::SongNotFound);
        }
        diesel::insert_into(bookmarks::table)
            .values((
                bookmarks::user_id.eq(user_id),
                bookmarks::track_id.eq(track_id),
                bookmarks::position_ms.eq(position_ms),
                bookmarks::comment.eq(comment),
                bookmarks::created_at.eq(now_ms),
                bookmarks::updated_at.eq(now_ms),
            ))
            .on_conflict((bookmarks::user_id, bookmarks::track_id))
            .do_update()
            .set((
                bookmarks::position_ms.eq(position_ms),
                bookmarks::comment.eq(comment),
                bookmarks::updated_at.eq(now_ms),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Deletes the user's bookmark in a track.
pub fn delete(
    conn: &mut SqliteConnection,
    user_id: i32,
    track_id: i32,
) -> Result<(), BookmarkError> {
    let n = diesel::delete(
        bookmarks::table
            .filter(bookmarks::user_id.eq(user_id))
            .filter(bookmarks::track_id.eq(track_id)),
    )
    .execute(conn)?;
    if n == 0 {
        Err(BookmarkError::NotFound)
    } else {
        Ok(())
    }
}

/// getBookmarks: the viewer's bookmarks of songs they may see, most recently changed first,
/// with those songs and the viewer's annotations.
pub fn with_songs(
    conn: &mut SqliteConnection,
    viewer: &Viewer,
) -> QueryResult<(Vec<Bookmark>, Annotated<TrackView>)> {
    let marks = of_user(conn, viewer.user_id, &viewer.scope)?;
    let ids: Vec<i32> = marks.iter().map(|b| b.track_id).collect();
    let songs = catalog::songs(conn, viewer, &ids)?;
    Ok((marks, songs))
}

/// The user's bookmarks in tracks `scope` shows, most recently changed first.
pub fn of_user(
    conn: &mut SqliteConnection,
    user_id: i32,
    scope: &Scope,
) -> QueryResult<Vec<Bookmark>> {
    let all: Vec<Bookmark> = bookmarks::table
        .filter(bookmarks::user_id.eq(user_id))
        .order((bookmarks::updated_at.desc(), bookmarks::track_id))
        .select((
            bookmarks::track_id,
            bookmarks::position_ms,
            bookmarks::comment,
            bookmarks::created_at,
            bookmarks::updated_at,
        ))
        .load(conn)?;
    if scope.is_all() {
        return Ok(all);
    }
    let ids: Vec<i32> = all.iter().map(|b| b.track_id).collect();
    let shown: std::collections::HashSet<i32> = access::tracks_in_scope(conn, scope, &ids)?
        .into_iter()
        .collect();
    Ok(all
        .into_iter()
        .filter(|b| shown.contains(&b.track_id))
        .collect())
}
