//! The saved play queue and bookmarks: getPlayQueue, savePlayQueue, the OpenSubsonic
//! `indexBasedQueue` pair (getPlayQueueByIndex, savePlayQueueByIndex), getBookmarks,
//! createBookmark, deleteBookmark. Everything is per user.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{self, Bookmarks, Child, PlayQueue, QueueCurrent, View};
use super::response::{Element, ToElement};
use super::shared::song_ids;
use crate::db;
use crate::library::{Id, TrackView};
use crate::people::bookmarks::{self, BookmarkError};
use crate::people::play_queue::{self, NewQueue, QueueError, SavedQueue};
use std::collections::HashMap;

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::SongNotFound(_) => ApiError::NotFound("Song"),
            // OpenSubsonic asks for code 10 when the current index is outside the queue.
            QueueError::BadCurrent(_) => ApiError::MissingParam("currentIndex"),
            QueueError::Db(e) => e.into(),
        }
    }
}

impl From<BookmarkError> for ApiError {
    fn from(e: BookmarkError) -> Self {
        match e {
            BookmarkError::SongNotFound => ApiError::NotFound("Song"),
            BookmarkError::NotFound => ApiError::NotFound("Bookmark"),
            BookmarkError::Db(e) => e.into(),
        }
    }
}

/// A non-negative millisecond `position` (0 when absent).
fn position_param(ctx: &Ctx) -> Result<i64, ApiError> {
    match ctx.params.number::<i64>("position")? {
        Some(p) if p < 0 => Err(ApiError::BadParam("position")),
        p => Ok(p.unwrap_or(0)),
    }
}

/// The client name saved as `changedBy`.
fn client_name(ctx: &Ctx) -> String {
    ctx.params
        .get("c")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

/// Saves the queue (or clears it when `ids` is empty).
async fn save(ctx: &Ctx, ids: Vec<i32>, current: usize) -> Result<Option<Element>, ApiError> {
    let position_ms = position_param(ctx)?;
    let changed_by = client_name(ctx);
    let scope = ctx.viewer.scope.clone();
    let user_id = ctx.user.id;
    let now = db::now_ms();
    ctx.write(move |c| {
        let queue = NewQueue {
            track_ids: &ids,
            current,
            position_ms,
            changed_by: &changed_by,
        };
        Ok(play_queue::save(c, user_id, &scope, &queue, now)?)
    })
    .await?;
    Ok(None)
}

/// The saved queue with its songs as `entry` elements (repeats kept); `None` for a user who
/// never saved one, who then gets no `playQueue` at all (as Subsonic answers): an empty queue
/// would look saved, and clients offer to "restore" it.
async fn load(ctx: &Ctx) -> Result<Option<(SavedQueue, Vec<Child>)>, ApiError> {
    let viewer = ctx.viewer.clone();
    let loaded = ctx
        .db(move |c| Ok(play_queue::load_with_songs(c, &viewer)?))
        .await?;
    let Some((queue, (views, notes))) = loaded else {
        return Ok(None);
    };
    let views: HashMap<i32, TrackView> = views.into_iter().map(|v| (v.track.id, v)).collect();
    let view = View::of(ctx);
    let entries = queue
        .track_ids
        .iter()
        .filter_map(|id| views.get(id))
        .map(|v| Child::song(v, notes.get(&v.track.id), &view))
        .collect();
    Ok(Some((queue, entries)))
}

/// savePlayQueue: `id` repeated (none clears the queue), `current` (a song id among them; the
/// first one when absent), `position` in ms.
pub async fn save_play_queue(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let ids = song_ids(&ctx, "id")?;
    let current = match ctx.params.get("current").map(str::trim) {
        None | Some("") => 0,
        Some(raw) => match Id::parse(raw) {
            Some(Id::Track(n)) => ids
                .iter()
                .position(|&id| id == n)
                .ok_or(ApiError::BadParam("current"))?,
            _ => return Err(ApiError::BadParam("current")),
        },
    };
    save(&ctx, ids, current).await
}

/// savePlayQueueByIndex: `id` repeated (none clears the queue), `currentIndex` (0-based,
/// required with ids), `position` in ms.
pub async fn save_play_queue_by_index(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let ids = song_ids(&ctx, "id")?;
    let current = if ids.is_empty() {
        0
    } else {
        ctx.params
            .number::<usize>("currentIndex")
            .map_err(|_| ApiError::MissingParam("currentIndex"))?
            .ok_or(ApiError::MissingParam("currentIndex"))?
    };
    save(&ctx, ids, current).await
}

/// The queue as `name`, with its current song as `current`.
fn queue_element(
    name: &'static str,
    current: QueueCurrent,
    ctx: &Ctx,
    q: SavedQueue,
    entries: Vec<Child>,
) -> Element {
    let queue = PlayQueue {
        current,
        position: q.position_ms,
        username: ctx.user.name.clone(),
        changed: q.changed_at,
        changed_by: q.changed_by,
        entries,
    };
    queue.into_element(name)
}

/// getPlayQueue: `current` is the current song's id (a string, per OpenSubsonic).
pub async fn get_play_queue(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let Some((queue, entries)) = load(&ctx).await? else {
        return Ok(None);
    };
    let current = queue
        .current
        .and_then(|i| queue.track_ids.get(i))
        .map(|&id| Id::Track(id).to_string());
    let current = QueueCurrent::Id(current);
    Ok(Some(queue_element(
        "playQueue",
        current,
        &ctx,
        queue,
        entries,
    )))
}

/// getPlayQueueByIndex: like getPlayQueue with the 0-based `currentIndex`.
pub async fn get_play_queue_by_index(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let Some((queue, entries)) = load(&ctx).await? else {
        return Ok(None);
    };
    let current = QueueCurrent::Index(queue.current);
    Ok(Some(queue_element(
        "playQueueByIndex",
        current,
        &ctx,
        queue,
        entries,
    )))
}

/// A song id parameter.
fn song_id(ctx: &Ctx) -> Result<i32, ApiError> {
    match Id::parse(ctx.params.required("id")?.trim()) {
        Some(Id::Track(n)) => Ok(n),
        _ => Err(ApiError::NotFound("Song")),
    }
}

/// getBookmarks: the caller's bookmarks, each with its song as `entry`.
pub async fn get_bookmarks(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let viewer = ctx.viewer.clone();
    let (marks, (views, notes)) = ctx
        .db(move |c| Ok(bookmarks::with_songs(c, &viewer)?))
        .await?;
    let views: HashMap<i32, TrackView> = views.into_iter().map(|v| (v.track.id, v)).collect();
    let view = View::of(&ctx);
    let list = marks.iter().filter_map(|b| {
        let v = views.get(&b.track_id)?;
        Some(model::Bookmark {
            position: b.position_ms,
            username: ctx.user.name.clone(),
            comment: b.comment.clone(),
            created: b.created_at,
            changed: b.updated_at,
            entry: Child::song(v, notes.get(&b.track_id), &view),
        })
    });
    Ok(Some(Bookmarks(list.collect()).into_element("bookmarks")))
}

/// createBookmark: `id` (song), `position` in ms (required), `comment`. Saving again moves
/// the bookmark.
pub async fn create_bookmark(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let track_id = song_id(&ctx)?;
    ctx.params.required("position")?;
    let position = position_param(&ctx)?;
    let comment = ctx
        .params
        .get("comment")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let scope = ctx.viewer.scope.clone();
    let user_id = ctx.user.id;
    let now = db::now_ms();
    ctx.write(move |c| {
        Ok(bookmarks::save(
            c,
            user_id,
            &scope,
            track_id,
            position,
            comment.as_deref(),
            now,
        )?)
    })
    .await?;
    Ok(None)
}

/// deleteBookmark: removes the caller's bookmark in song `id`.
pub async fn delete_bookmark(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let track_id = song_id(&ctx)?;
    let user_id = ctx.user.id;
    ctx.write(move |c| Ok(bookmarks::delete(c, user_id, track_id)?))
        .await?;
    Ok(None)
}
