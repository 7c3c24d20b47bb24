//! The saved play queue and bookmarks: getPlayQueue, savePlayQueue, the OpenSubsonic
//! `indexBasedQueue` pair (getPlayQueueByIndex, savePlayQueueByIndex), getBookmarks,
//! createBookmark, deleteBookmark. Everything is per user.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{self, Bookmarks, Child, PlayQueue, QueueCurrent, View, ViewOf};
use super::response::{Element, ToElement};
use super::shared::song_ids;
use super::streamed::{self, Streamed};
use crate::db;
use crate::library::{Id, TrackView};
use crate::people::bookmarks::{self, BookmarkError};
use crate::people::play_queue::{self, NewQueue, QueueError, SavedQueue};
use crate::transcode::Flow;
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
    let viewer = ctx.viewer.clone();
    let now = db::now_ms();
    ctx.write(move |c| {
        let queue = NewQueue {
            track_ids: &ids,
            current,
            position_ms,
            changed_by: &changed_by,
        };
        Ok(play_queue::save(c, &viewer, &queue, now)?)
    })
    .await?;
    Ok(None)
}

/// The saved queue as `name`, its songs streamed as `entry` elements (repeats kept; a queue
/// may be long), all in one read transaction; `current` says which is current. A user who
/// never saved a queue gets no payload at all (as Subsonic answers): an empty queue would
/// look saved, and clients offer to "restore" it.
async fn stream_queue(
    ctx: &Ctx,
    method: &str,
    name: &'static str,
    current: fn(&SavedQueue) -> QueueCurrent,
) -> Result<Streamed, ApiError> {
    let viewer = ctx.viewer.clone();
    let user_id = ctx.user.id;
    let username = ctx.user.name.clone();
    let view = ViewOf::new(ctx);
    let what = format!("{method} of user {user_id}");
    streamed::answer(ctx, what, move |c, out| {
        let Some(mut queue) = play_queue::load(c, &viewer)? else {
            out.whole(None);
            return Ok(());
        };
        let current = current(&queue);
        let ids = std::mem::take(&mut queue.track_ids);
        let head = queue_element(name, current, username, queue);
        if out.open(head, "entry") == Flow::Continue {
            out.songs(c, user_id, &view.view(), &ids)?;
        }
        Ok(())
    })
    .await
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

/// The queue as `name`, with its current song as `current` and an empty `entry` list (the
/// songs are streamed into it).
fn queue_element(
    name: &'static str,
    current: QueueCurrent,
    username: String,
    q: SavedQueue,
) -> Element {
    let queue = PlayQueue {
        current,
        position: q.position_ms,
        username,
        changed: q.changed_at,
        changed_by: q.changed_by,
        entries: Vec::new(),
    };
    queue.into_element(name)
}

/// getPlayQueue: `current` is the current song's id (a string, per OpenSubsonic).
pub async fn get_play_queue(ctx: Ctx) -> Result<Streamed, ApiError> {
    stream_queue(&ctx, "getPlayQueue", "playQueue", |queue| {
        let current = queue
            .current
            .and_then(|i| queue.track_ids.get(i))
            .map(|&id| Id::Track(id).to_string());
        QueueCurrent::Id(current)
    })
    .await
}

/// getPlayQueueByIndex: like getPlayQueue with the 0-based `currentIndex`.
pub async fn get_play_queue_by_index(ctx: Ctx) -> Result<Streamed, ApiError> {
    stream_queue(&ctx, "getPlayQueueByIndex", "playQueueByIndex", |queue| {
        QueueCurrent::Index(queue.current)
    })
    .await
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
    let user_id = ctx.user.id;
    let episodes = ctx
        .db(move |c| Ok(crate::podcasts::store::bookmarks(c, user_id)?))
        .await?;
    let episode_marks = episodes.iter().map(|(b, e, channel)| model::Bookmark {
        position: b.position_ms,
        username: ctx.user.name.clone(),
        comment: b.comment.clone(),
        created: b.created_at,
        changed: b.updated_at,
        entry: model::PodcastEpisode::of(e, channel).child,
    });
    Ok(Some(
        Bookmarks(list.chain(episode_marks).collect()).into_element("bookmarks"),
    ))
}

/// createBookmark: `id` (song), `position` in ms (required), `comment`. Saving again moves
/// the bookmark.
pub async fn create_bookmark(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    if let Some(Id::PodcastEpisode(episode)) = Id::parse(ctx.params.required("id")?.trim()) {
        return create_episode_bookmark(&ctx, episode).await;
    }
    let track_id = song_id(&ctx)?;
    ctx.params.required("position")?;
    let position = position_param(&ctx)?;
    let comment = ctx
        .params
        .get("comment")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let viewer = ctx.viewer.clone();
    let now = db::now_ms();
    ctx.write(move |c| {
        Ok(bookmarks::save(
            c,
            &viewer,
            track_id,
            position,
            comment.as_deref(),
            now,
        )?)
    })
    .await?;
    Ok(None)
}

/// createBookmark in a podcast episode ("pe-N"): resume it where it was left, on any device.
async fn create_episode_bookmark(ctx: &Ctx, episode: i32) -> Result<Option<Element>, ApiError> {
    ctx.params.required("position")?;
    let position = position_param(ctx)?;
    let comment = ctx
        .params
        .get("comment")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let user_id = ctx.user.id;
    let now = db::now_ms();
    ctx.write(move |c| {
        Ok(crate::podcasts::store::save_bookmark(
            c,
            user_id,
            episode,
            position,
            comment.as_deref(),
            now,
        )?)
    })
    .await?;
    Ok(None)
}

/// deleteBookmark: removes the caller's bookmark in song (or podcast episode) `id`.
pub async fn delete_bookmark(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    if let Some(Id::PodcastEpisode(episode)) = Id::parse(ctx.params.required("id")?.trim()) {
        let user_id = ctx.user.id;
        let removed = ctx
            .write(move |c| {
                Ok(crate::podcasts::store::delete_bookmark(
                    c, user_id, episode,
                )?)
            })
            .await?;
        return if removed {
            Ok(None)
        } else {
            Err(ApiError::NotFound("Bookmark"))
        };
    }
    let track_id = song_id(&ctx)?;
    let user_id = ctx.user.id;
    ctx.write(move |c| Ok(bookmarks::delete(c, user_id, track_id)?))
        .await?;
    Ok(None)
}
