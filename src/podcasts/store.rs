//! The podcast rows: channels, episodes and their states, bookmarks in episodes. Plain sync
//! functions on a connection; each write that reads first runs in one immediate transaction.
//! No HTTP, no files (the worker owns those), no wire format.

use super::feed::Feed;
use super::schema::{podcast_bookmarks, podcast_channels, podcast_episodes};
use crate::db;
use diesel::prelude::*;

/// Where a channel or an episode stands, in the Subsonic API's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    New,
    Downloading,
    Completed,
    Error,
    Skipped,
    Deleted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Downloading => "downloading",
            Status::Completed => "completed",
            Status::Error => "error",
            Status::Skipped => "skipped",
            Status::Deleted => "deleted",
        }
    }

    /// A stored status; anything unknown reads as an error (it cannot be, but never panics).
    pub fn parse(s: &str) -> Status {
        match s {
            "new" => Status::New,
            "downloading" => Status::Downloading,
            "completed" => Status::Completed,
            "skipped" => Status::Skipped,
            "deleted" => Status::Deleted,
            _ => Status::Error,
        }
    }
}

/// A subscribed channel.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = podcast_channels)]
pub struct Channel {
    pub id: i32,
    pub url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub image_url: Option<String>,
    /// Relative to the podcast folder.
    pub image_path: Option<String>,
    pub status: String,
    pub error_message: Option<String>,
    pub created_at: i64,
    pub refreshed_at: Option<i64>,
}

/// An episode of a channel.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = podcast_episodes)]
pub struct Episode {
    pub id: i32,
    pub channel_id: i32,
    pub guid: String,
    pub title: String,
    pub description: Option<String>,
    pub published_at: Option<i64>,
    pub feed_duration_secs: Option<i32>,
    pub enclosure_url: String,
    pub enclosure_length: Option<i64>,
    pub enclosure_type: Option<String>,
    pub status: String,
    pub error_message: Option<String>,
    /// Relative to the podcast folder.
    pub file_path: Option<String>,
    pub downloaded_bytes: i64,
    pub total_bytes: Option<i64>,
    pub suffix: Option<String>,
    pub content_type: Option<String>,
    pub duration_ms: Option<i64>,
    pub bitrate: Option<i32>,
    pub sample_rate: Option<i32>,
    pub file_mtime: Option<i64>,
    pub play_count: i32,
    pub played_at: Option<i64>,
    pub created_at: i64,
}

impl Episode {
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }
}

/// What the tag reader found in a downloaded file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    pub file_path: String,
    pub size: i64,
    pub mtime: i64,
    pub suffix: String,
    pub content_type: String,
    pub duration_ms: i64,
    pub bitrate: Option<i32>,
    pub sample_rate: Option<i32>,
}

/// A bookmark in an episode.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct EpisodeBookmark {
    pub episode_id: i32,
    pub position_ms: i64,
    pub comment: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("this feed is subscribed to already")]
    AlreadySubscribed,
    #[error("no such podcast channel")]
    ChannelNotFound,
    #[error("no such podcast episode")]
    EpisodeNotFound,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Subscribes to `url` (status new until the first refresh).
pub fn create_channel(
    conn: &mut SqliteConnection,
    url: &str,
    now_ms: i64,
) -> Result<Channel, StoreError> {
    db::immediate(conn, |conn| {
        let taken: i64 = podcast_channels::table
            .filter(podcast_channels::url.eq(url))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(StoreError::AlreadySubscribed);
        }
        Ok(diesel::insert_into(podcast_channels::table)
            .values((
                podcast_channels::url.eq(url),
                podcast_channels::status.eq(Status::New.as_str()),
                podcast_channels::created_at.eq(now_ms),
            ))
            .returning(Channel::as_returning())
            .get_result(conn)?)
    })
}

/// Every channel, by title (untitled ones by URL).
pub fn channels(conn: &mut SqliteConnection) -> QueryResult<Vec<Channel>> {
    let mut all: Vec<Channel> = podcast_channels::table
        .select(Channel::as_select())
        .load(conn)?;
    all.sort_by_key(|c| {
        c.title
            .clone()
            .unwrap_or_else(|| c.url.clone())
            .to_lowercase()
    });
    Ok(all)
}

pub fn channel(conn: &mut SqliteConnection, id: i32) -> QueryResult<Option<Channel>> {
    podcast_channels::table
        .find(id)
        .select(Channel::as_select())
        .get_result(conn)
        .optional()
}

/// The episodes of `channel_ids`, newest first.
pub fn episodes_of(conn: &mut SqliteConnection, channel_ids: &[i32]) -> QueryResult<Vec<Episode>> {
    podcast_episodes::table
        .filter(podcast_episodes::channel_id.eq_any(channel_ids))
        .order((
            podcast_episodes::published_at.desc(),
            podcast_episodes::id.desc(),
        ))
        .select(Episode::as_select())
        .load(conn)
}

/// The `count` most recently published episodes of all channels, with their channels.
pub fn newest(conn: &mut SqliteConnection, count: i64) -> QueryResult<Vec<(Episode, Channel)>> {
    podcast_episodes::table
        .inner_join(podcast_channels::table)
        .filter(podcast_episodes::status.ne(Status::Deleted.as_str()))
        .order((
            podcast_episodes::published_at.desc(),
            podcast_episodes::id.desc(),
        ))
        .limit(count)
        .select((Episode::as_select(), Channel::as_select()))
        .load(conn)
}

/// An episode with its channel.
pub fn episode(conn: &mut SqliteConnection, id: i32) -> QueryResult<Option<(Episode, Channel)>> {
    podcast_episodes::table
        .inner_join(podcast_channels::table)
        .filter(podcast_episodes::id.eq(id))
        .select((Episode::as_select(), Channel::as_select()))
        .get_result(conn)
        .optional()
}

pub fn set_channel_status(
    conn: &mut SqliteConnection,
    id: i32,
    status: Status,
    error: Option<&str>,
) -> QueryResult<()> {
    diesel::update(podcast_channels::table.find(id))
        .set((
            podcast_channels::status.eq(status.as_str()),
            podcast_channels::error_message.eq(error),
        ))
        .execute(conn)
        .map(drop)
}

/// Stores what a refresh read: the channel's fields (and its new URL after a permanent
/// redirect), and the episodes not seen before (by GUID). Returns the ids of the new ones.
pub fn apply_feed(
    conn: &mut SqliteConnection,
    channel_id: i32,
    feed: &Feed,
    moved_to: Option<&str>,
    now_ms: i64,
) -> Result<Vec<i32>, StoreError> {
    db::immediate(conn, |conn| {
        let updated = diesel::update(podcast_channels::table.find(channel_id))
            .set((
                podcast_channels::title.eq(&feed.title),
                podcast_channels::description.eq(&feed.description),
                podcast_channels::image_url.eq(&feed.image_url),
                podcast_channels::status.eq(Status::Completed.as_str()),
                podcast_channels::error_message.eq(None::<String>),
                podcast_channels::refreshed_at.eq(now_ms),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Err(StoreError::ChannelNotFound);
        }
        if let Some(url) = moved_to {
            // Another subscription to the new URL keeps the old one rather than failing.
            let taken: i64 = podcast_channels::table
                .filter(podcast_channels::url.eq(url))
                .count()
                .get_result(conn)?;
            if taken == 0 {
                diesel::update(podcast_channels::table.find(channel_id))
                    .set(podcast_channels::url.eq(url))
                    .execute(conn)?;
            }
        }
        let mut added = Vec::new();
        for e in &feed.episodes {
            let (status, error) = match not_audio(e.enclosure_type.as_deref(), &e.enclosure_url) {
                Some(why) => (Status::Skipped, Some(why)),
                None => (Status::New, None),
            };
            let inserted = diesel::insert_or_ignore_into(podcast_episodes::table)
                .values((
                    podcast_episodes::channel_id.eq(channel_id),
                    podcast_episodes::guid.eq(&e.guid),
                    podcast_episodes::title.eq(&e.title),
                    podcast_episodes::description.eq(&e.description),
                    podcast_episodes::published_at.eq(e.published_ms),
                    podcast_episodes::feed_duration_secs.eq(e.duration_secs),
                    podcast_episodes::enclosure_url.eq(&e.enclosure_url),
                    podcast_episodes::enclosure_length.eq(e.enclosure_length),
                    podcast_episodes::enclosure_type.eq(&e.enclosure_type),
                    podcast_episodes::status.eq(status.as_str()),
                    podcast_episodes::error_message.eq(error),
                    podcast_episodes::created_at.eq(now_ms),
                ))
                .execute(conn)?;
            if inserted == 1 {
                let id: i32 = podcast_episodes::table
                    .filter(podcast_episodes::channel_id.eq(channel_id))
                    .filter(podcast_episodes::guid.eq(&e.guid))
                    .select(podcast_episodes::id)
                    .get_result(conn)?;
                if status == Status::New {
                    added.push(id);
                }
            }
        }
        Ok(added)
    })
}

/// Why an enclosure is not audio, when its type or name says so (types like
/// "application/octet-stream" say nothing; the downloaded file is checked anyway).
pub fn not_audio(content_type: Option<&str>, url: &str) -> Option<String> {
    let kind = content_type.unwrap_or("").trim().to_ascii_lowercase();
    if kind.starts_with("video/")
        || kind.starts_with("image/")
        || kind.starts_with("text/")
        || kind == "application/pdf"
    {
        return Some(format!("the enclosure is not audio ({kind})"));
    }
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    const NOT_AUDIO: &[&str] = &[
        ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".pdf", ".jpg", ".png", ".html",
    ];
    if kind.is_empty() && NOT_AUDIO.iter().any(|ext| path.ends_with(ext)) {
        return Some("the enclosure is not audio (by its file name)".to_string());
    }
    None
}

/// The newest `count` episodes among `ids`... of one channel that are still `new`, newest
/// first: what a refresh downloads by itself.
pub fn newest_new(
    conn: &mut SqliteConnection,
    channel_id: i32,
    count: usize,
) -> QueryResult<Vec<i32>> {
    podcast_episodes::table
        .filter(podcast_episodes::channel_id.eq(channel_id))
        .filter(podcast_episodes::status.eq(Status::New.as_str()))
        .order((
            podcast_episodes::published_at.desc(),
            podcast_episodes::id.desc(),
        ))
        .limit(count as i64)
        .select(podcast_episodes::id)
        .load(conn)
}

/// Marks an episode as waiting for (or in) a download, unless it is complete already.
/// Returns whether it should be fetched.
pub fn mark_downloading(conn: &mut SqliteConnection, id: i32) -> Result<bool, StoreError> {
    db::immediate(conn, |conn| {
        let status: Option<String> = podcast_episodes::table
            .find(id)
            .select(podcast_episodes::status)
            .get_result(conn)
            .optional()?;
        let status = status.ok_or(StoreError::EpisodeNotFound)?;
        if Status::parse(&status) == Status::Completed {
            return Ok(false);
        }
        diesel::update(podcast_episodes::table.find(id))
            .set((
                podcast_episodes::status.eq(Status::Downloading.as_str()),
                podcast_episodes::error_message.eq(None::<String>),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

pub fn set_progress(
    conn: &mut SqliteConnection,
    id: i32,
    bytes: u64,
    total: Option<u64>,
) -> QueryResult<()> {
    diesel::update(podcast_episodes::table.find(id))
        .set((
            podcast_episodes::downloaded_bytes.eq(bytes as i64),
            podcast_episodes::total_bytes.eq(total.map(|t| t as i64)),
        ))
        .execute(conn)
        .map(drop)
}

pub fn set_completed(conn: &mut SqliteConnection, id: i32, f: &FileFacts) -> QueryResult<()> {
    diesel::update(podcast_episodes::table.find(id))
        .set((
            podcast_episodes::status.eq(Status::Completed.as_str()),
            podcast_episodes::error_message.eq(None::<String>),
            podcast_episodes::file_path.eq(&f.file_path),
            podcast_episodes::downloaded_bytes.eq(f.size),
            podcast_episodes::total_bytes.eq(f.size),
            podcast_episodes::suffix.eq(&f.suffix),
            podcast_episodes::content_type.eq(&f.content_type),
            podcast_episodes::duration_ms.eq(f.duration_ms),
            podcast_episodes::bitrate.eq(f.bitrate),
            podcast_episodes::sample_rate.eq(f.sample_rate),
            podcast_episodes::file_mtime.eq(f.mtime),
        ))
        .execute(conn)
        .map(drop)
}

pub fn set_error(conn: &mut SqliteConnection, id: i32, message: &str) -> QueryResult<()> {
    diesel::update(podcast_episodes::table.find(id))
        .set((
            podcast_episodes::status.eq(Status::Error.as_str()),
            podcast_episodes::error_message.eq(message),
        ))
        .execute(conn)
        .map(drop)
}

/// Episodes left `downloading` by a server that stopped: downloaded again at start-up.
pub fn interrupted(conn: &mut SqliteConnection) -> QueryResult<Vec<i32>> {
    podcast_episodes::table
        .filter(podcast_episodes::status.eq(Status::Downloading.as_str()))
        .select(podcast_episodes::id)
        .load(conn)
}

/// Marks an episode deleted; returns its file (relative to the podcast folder) to remove.
pub fn mark_deleted(conn: &mut SqliteConnection, id: i32) -> Result<Option<String>, StoreError> {
    db::immediate(conn, |conn| {
        let file: Option<Option<String>> = podcast_episodes::table
            .find(id)
            .select(podcast_episodes::file_path)
            .get_result(conn)
            .optional()?;
        let file = file.ok_or(StoreError::EpisodeNotFound)?;
        diesel::update(podcast_episodes::table.find(id))
            .set((
                podcast_episodes::status.eq(Status::Deleted.as_str()),
                podcast_episodes::error_message.eq(None::<String>),
                podcast_episodes::file_path.eq(None::<String>),
                podcast_episodes::downloaded_bytes.eq(0),
            ))
            .execute(conn)?;
        Ok(file)
    })
}

/// Keeps the `keep` most recently published completed episodes of a channel: the older ones
/// are marked deleted, and their files returned for removal. `keep` 0 keeps all.
pub fn apply_retention(
    conn: &mut SqliteConnection,
    channel_id: i32,
    keep: usize,
) -> QueryResult<Vec<String>> {
    if keep == 0 {
        return Ok(Vec::new());
    }
    db::immediate(conn, |conn| {
        let old: Vec<(i32, Option<String>)> = podcast_episodes::table
            .filter(podcast_episodes::channel_id.eq(channel_id))
            .filter(podcast_episodes::status.eq(Status::Completed.as_str()))
            .order((
                podcast_episodes::published_at.desc(),
                podcast_episodes::id.desc(),
            ))
            .offset(keep as i64)
            .limit(i64::MAX)
            .select((podcast_episodes::id, podcast_episodes::file_path))
            .load(conn)?;
        let ids: Vec<i32> = old.iter().map(|(id, _)| *id).collect();
        diesel::update(podcast_episodes::table.filter(podcast_episodes::id.eq_any(&ids)))
            .set((
                podcast_episodes::status.eq(Status::Deleted.as_str()),
                podcast_episodes::file_path.eq(None::<String>),
                podcast_episodes::downloaded_bytes.eq(0),
            ))
            .execute(conn)?;
        Ok(old.into_iter().filter_map(|(_, f)| f).collect())
    })
}

/// Unsubscribes: the channel and its episodes' rows go (its files are the caller's).
pub fn delete_channel(conn: &mut SqliteConnection, id: i32) -> Result<(), StoreError> {
    let removed = diesel::delete(podcast_channels::table.find(id)).execute(conn)?;
    if removed == 0 {
        return Err(StoreError::ChannelNotFound);
    }
    Ok(())
}

pub fn set_image(conn: &mut SqliteConnection, id: i32, path: &str) -> QueryResult<()> {
    diesel::update(podcast_channels::table.find(id))
        .set(podcast_channels::image_path.eq(path))
        .execute(conn)
        .map(drop)
}

/// A scrobble of an episode: one more play.
pub fn record_play(conn: &mut SqliteConnection, id: i32, at_ms: i64) -> Result<(), StoreError> {
    let updated = diesel::update(podcast_episodes::table.find(id))
        .set((
            podcast_episodes::play_count.eq(podcast_episodes::play_count + 1),
            podcast_episodes::played_at.eq(at_ms),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::EpisodeNotFound);
    }
    Ok(())
}

/// The channel image of a channel (relative to the podcast folder), if fetched.
pub fn channel_image(conn: &mut SqliteConnection, channel_id: i32) -> QueryResult<Option<String>> {
    Ok(podcast_channels::table
        .find(channel_id)
        .select(podcast_channels::image_path)
        .get_result::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// The channel of an episode.
pub fn channel_of(conn: &mut SqliteConnection, episode_id: i32) -> QueryResult<Option<i32>> {
    podcast_episodes::table
        .find(episode_id)
        .select(podcast_episodes::channel_id)
        .get_result(conn)
        .optional()
}

/// Creates or moves the user's bookmark in an episode.
pub fn save_bookmark(
    conn: &mut SqliteConnection,
    user_id: i32,
    episode_id: i32,
    position_ms: i64,
    comment: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    db::immediate(conn, |conn| {
        if channel_of(conn, episode_id)?.is_none() {
            return Err(StoreError::EpisodeNotFound);
        }
        diesel::insert_into(podcast_bookmarks::table)
            .values((
                podcast_bookmarks::user_id.eq(user_id),
                podcast_bookmarks::episode_id.eq(episode_id),
                podcast_bookmarks::position_ms.eq(position_ms),
                podcast_bookmarks::comment.eq(comment),
                podcast_bookmarks::created_at.eq(now_ms),
                podcast_bookmarks::updated_at.eq(now_ms),
            ))
            .on_conflict((podcast_bookmarks::user_id, podcast_bookmarks::episode_id))
            .do_update()
            .set((
                podcast_bookmarks::position_ms.eq(position_ms),
                podcast_bookmarks::comment.eq(comment),
                podcast_bookmarks::updated_at.eq(now_ms),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Removes the user's bookmark in an episode; false when there was none.
pub fn delete_bookmark(
    conn: &mut SqliteConnection,
    user_id: i32,
    episode_id: i32,
) -> QueryResult<bool> {
    let n = diesel::delete(
        podcast_bookmarks::table
            .filter(podcast_bookmarks::user_id.eq(user_id))
            .filter(podcast_bookmarks::episode_id.eq(episode_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// The user's bookmarks in episodes, with the episodes and their channels.
pub fn bookmarks(
    conn: &mut SqliteConnection,
    user_id: i32,
) -> QueryResult<Vec<(EpisodeBookmark, Episode, Channel)>> {
    let marks: Vec<EpisodeBookmark> = podcast_bookmarks::table
        .filter(podcast_bookmarks::user_id.eq(user_id))
        .order(podcast_bookmarks::updated_at.desc())
        .select((
            podcast_bookmarks::episode_id,
            podcast_bookmarks::position_ms,
            podcast_bookmarks::comment,
            podcast_bookmarks::created_at,
            podcast_bookmarks::updated_at,
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(marks.len());
    for mark in marks {
        if let Some((episode, channel)) = episode(conn, mark.episode_id)? {
            out.push((mark, episode, channel));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::podcasts::feed::FeedEpisode;

    fn conn() -> (tempfile::TempDir, SqliteConnection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        crate::db::open_and_migrate(&path).unwrap();
        let conn = crate::db::connect(&path).unwrap();
        (dir, conn)
    }

    fn episode_at(guid: &str, day: i64) -> FeedEpisode {
        FeedEpisode {
            guid: guid.into(),
            title: guid.into(),
            published_ms: Some(day * 86_400_000),
            enclosure_url: format!("http://x.test/{guid}.mp3"),
            enclosure_type: Some("audio/mpeg".into()),
            ..Default::default()
        }
    }

    #[test]
    fn refreshes_add_each_guid_once_and_skip_what_is_not_audio() {
        let (_dir, mut c) = conn();
        let ch = create_channel(&mut c, "http://x.test/feed", 1).unwrap();
        assert!(matches!(
            create_channel(&mut c, "http://x.test/feed", 2),
            Err(StoreError::AlreadySubscribed)
        ));
        let mut feed = Feed {
            title: Some("T".into()),
            episodes: vec![episode_at("a", 1)],
            ..Default::default()
        };
        assert_eq!(apply_feed(&mut c, ch.id, &feed, None, 5).unwrap().len(), 1);
        let mut video = episode_at("v", 3);
        video.enclosure_type = Some("video/mp4".into());
        feed.episodes = vec![episode_at("b", 2), episode_at("a", 1), video];
        let added = apply_feed(&mut c, ch.id, &feed, Some("http://y.test/feed"), 6).unwrap();
        assert_eq!(added.len(), 1, "only b is new audio");
        let all = episodes_of(&mut c, &[ch.id]).unwrap();
        assert_eq!(
            all.iter()
                .map(|e| (e.guid.as_str(), e.status()))
                .collect::<Vec<_>>(),
            [
                ("v", Status::Skipped),
                ("b", Status::New),
                ("a", Status::New)
            ]
        );
        assert!(
            all[0]
                .error_message
                .as_deref()
                .unwrap()
                .contains("video/mp4")
        );
        assert_eq!(
            channel(&mut c, ch.id).unwrap().unwrap().url,
            "http://y.test/feed"
        );
        assert_eq!(newest_new(&mut c, ch.id, 1).unwrap(), vec![all[1].id]);
    }

    #[test]
    fn retention_keeps_the_newest_completed() {
        let (_dir, mut c) = conn();
        let ch = create_channel(&mut c, "http://x.test/feed", 1).unwrap();
        let feed = Feed {
            episodes: (1..=4).map(|d| episode_at(&format!("e{d}"), d)).collect(),
            ..Default::default()
        };
        apply_feed(&mut c, ch.id, &feed, None, 5).unwrap();
        for e in episodes_of(&mut c, &[ch.id]).unwrap() {
            let facts = FileFacts {
                file_path: format!("{}.mp3", e.guid),
                size: 1,
                mtime: 1,
                suffix: "mp3".into(),
                content_type: "audio/mpeg".into(),
                duration_ms: 1000,
                bitrate: None,
                sample_rate: None,
            };
            set_completed(&mut c, e.id, &facts).unwrap();
        }
        let mut gone = apply_retention(&mut c, ch.id, 2).unwrap();
        gone.sort();
        assert_eq!(gone, ["e1.mp3", "e2.mp3"]);
        let statuses: Vec<Status> = episodes_of(&mut c, &[ch.id])
            .unwrap()
            .iter()
            .map(Episode::status)
            .collect();
        assert_eq!(
            statuses,
            [
                Status::Completed,
                Status::Completed,
                Status::Deleted,
                Status::Deleted
            ]
        );
        assert!(apply_retention(&mut c, ch.id, 0).unwrap().is_empty());
    }

    #[test]
    fn enclosures_that_are_not_audio() {
        assert!(not_audio(Some("video/mp4"), "http://x/a.mp4").is_some());
        assert!(not_audio(None, "http://x/a.pdf?x=1").is_some());
        assert!(not_audio(Some("audio/mpeg"), "http://x/a.mp3").is_none());
        assert!(not_audio(Some("application/octet-stream"), "http://x/a").is_none());
    }
}
