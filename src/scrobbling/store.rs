//! The links and the durable queue in SQLite (tables `scrobble_links`, `scrobble_queue`).
//! Writes are one immediate transaction each (joining the caller's, as the `scrobble`
//! handler's with the local play counts).

use super::listen::{self, TrackInfo};
use crate::config::LASTFM_SERVICE;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel::sqlite::SqliteConnection;

/// One user's link to one service, with how many items wait for it.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Link {
    #[diesel(sql_type = Text)]
    pub service: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub account: Option<String>,
    #[diesel(sql_type = Bool)]
    pub love_on_star: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub broken_reason: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub linked_at: i64,
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
}

/// Links (or relinks) a user to a service. A relink keeps the queue: listens kept while the
/// old credential was rejected go out with the new one.
pub fn link(
    conn: &mut SqliteConnection,
    user_id: i32,
    service: &str,
    credential: &str,
    account: &str,
    now_ms: i64,
) -> QueryResult<()> {
    crate::db::immediate(conn, |conn| {
        diesel::sql_query(
            "INSERT INTO scrobble_links (user_id, service, credential, account, linked_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, service) DO UPDATE SET \
             credential = excluded.credential, account = excluded.account, \
             linked_at = excluded.linked_at, broken_reason = NULL, last_error = NULL, \
             failures = 0, retry_at = 0",
        )
        .bind::<Integer, _>(user_id)
        .bind::<Text, _>(service)
        .bind::<Text, _>(credential)
        .bind::<Nullable<Text>, _>((!account.is_empty()).then_some(account))
        .bind::<BigInt, _>(now_ms)
        .execute(conn)
        .map(drop)
    })
}

/// Removes a link and what was still queued for it. False when there was none.
pub fn unlink(conn: &mut SqliteConnection, user_id: i32, service: &str) -> QueryResult<bool> {
    crate::db::immediate(conn, |conn| {
        let n = diesel::sql_query("DELETE FROM scrobble_links WHERE user_id = ? AND service = ?")
            .bind::<Integer, _>(user_id)
            .bind::<Text, _>(service)
            .execute(conn)?;
        Ok(n > 0)
    })
}

/// Sets whether stars become loves. False when there is no such link.
pub fn set_love_on_star(
    conn: &mut SqliteConnection,
    user_id: i32,
    service: &str,
    on: bool,
) -> QueryResult<bool> {
    crate::db::immediate(conn, |conn| {
        let n = diesel::sql_query(
            "UPDATE scrobble_links SET love_on_star = ? WHERE user_id = ? AND service = ?",
        )
        .bind::<Bool, _>(on)
        .bind::<Integer, _>(user_id)
        .bind::<Text, _>(service)
        .execute(conn)?;
        Ok(n > 0)
    })
}

/// A user's links with their pending counts.
pub fn links(conn: &mut SqliteConnection, user_id: i32) -> QueryResult<Vec<Link>> {
    diesel::sql_query(
        "SELECT l.service, l.account, l.love_on_star, l.broken_reason, l.last_error, \
         l.linked_at, (SELECT COUNT(*) FROM scrobble_queue q \
           WHERE q.user_id = l.user_id AND q.service = l.service) AS pending \
         FROM scrobble_links l WHERE l.user_id = ? ORDER BY l.service",
    )
    .bind::<Integer, _>(user_id)
    .load(conn)
}

#[derive(QueryableByName)]
struct TrackRow {
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    artist_display: String,
    #[diesel(sql_type = Text)]
    album_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    album_artist_display: Option<String>,
    #[diesel(sql_type = BigInt)]
    duration_ms: i64,
    #[diesel(sql_type = Nullable<Integer>)]
    track_number: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    mb_recording_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    mb_track_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    mb_release_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    mb_artist_id: Option<String>,
}

/// A track's metadata as the catalog has it now; None for an unknown track.
pub fn track_info(
    conn: &mut SqliteConnection,
    track_id: i32,
    client: Option<&str>,
) -> QueryResult<Option<TrackInfo>> {
    let row: Option<TrackRow> = diesel::sql_query(
        "SELECT title, artist_display, album_name, album_artist_display, duration_ms, \
         track_number, mb_recording_id, mb_track_id, mb_release_id, mb_artist_id \
         FROM tracks WHERE id = ?",
    )
    .bind::<Integer, _>(track_id)
    .get_result(conn)
    .optional()?;
    Ok(row.map(|r| TrackInfo {
        album_artist: r
            .album_artist_display
            .filter(|a| !a.is_empty() && *a != r.artist_display),
        title: r.title,
        artist: r.artist_display,
        album: r.album_name,
        duration_ms: r.duration_ms,
        track_number: r.track_number.filter(|n| *n > 0),
        recording_mbid: listen::mbid(r.mb_recording_id.as_deref()),
        track_mbid: listen::mbid(r.mb_track_id.as_deref()),
        release_mbid: listen::mbid(r.mb_release_id.as_deref()),
        artist_mbids: listen::mbids(r.mb_artist_id.as_deref()),
        client: client.map(str::to_string),
    }))
}

#[derive(QueryableByName)]
struct ServiceRow {
    #[diesel(sql_type = Text)]
    service: String,
}

fn insert(
    conn: &mut SqliteConnection,
    user_id: i32,
    service: &str,
    kind: &str,
    played_at_secs: i64,
    track: &TrackInfo,
) -> QueryResult<()> {
    let json = serde_json::to_string(track).unwrap_or_default();
    diesel::sql_query(
        "INSERT INTO scrobble_queue (user_id, service, kind, played_at, track) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind::<Integer, _>(user_id)
    .bind::<Text, _>(service)
    .bind::<Text, _>(kind)
    .bind::<BigInt, _>(played_at_secs)
    .bind::<Text, _>(json)
    .execute(conn)
    .map(drop)
}

/// Queues plays (track id, epoch ms) for every service the user linked (broken links too:
/// they go out once the user relinks). Returns how many rows were queued.
pub fn enqueue_listens(
    conn: &mut SqliteConnection,
    user_id: i32,
    plays: &[(i32, i64)],
    client: Option<&str>,
) -> QueryResult<usize> {
    crate::db::immediate(conn, |conn| {
        let services: Vec<ServiceRow> =
            diesel::sql_query("SELECT service FROM scrobble_links WHERE user_id = ?")
                .bind::<Integer, _>(user_id)
                .load(conn)?;
        if services.is_empty() {
            return Ok(0);
        }
        let mut queued = 0;
        for &(track_id, at_ms) in plays {
            let Some(track) = track_info(conn, track_id, client)? else {
                continue;
            };
            for s in &services {
                insert(conn, user_id, &s.service, "listen", at_ms / 1000, &track)?;
                queued += 1;
            }
        }
        Ok(queued)
    })
}

/// Queues loves (or unloves) of tracks for the user's Last.fm link when it has love-on-star.
pub fn enqueue_loves(
    conn: &mut SqliteConnection,
    user_id: i32,
    track_ids: &[i32],
    love: bool,
    now_ms: i64,
) -> QueryResult<usize> {
    crate::db::immediate(conn, |conn| {
        let services: Vec<ServiceRow> = diesel::sql_query(
            "SELECT service FROM scrobble_links WHERE user_id = ? AND service = ? \
             AND love_on_star",
        )
        .bind::<Integer, _>(user_id)
        .bind::<Text, _>(LASTFM_SERVICE)
        .load(conn)?;
        let mut queued = 0;
        for s in &services {
            for &track_id in track_ids {
                if let Some(track) = track_info(conn, track_id, None)? {
                    let kind = if love { "love" } else { "unlove" };
                    insert(conn, user_id, &s.service, kind, now_ms / 1000, &track)?;
                    queued += 1;
                }
            }
        }
        Ok(queued)
    })
}

/// Where a "now playing" goes: a working link's service and credential.
#[derive(Debug, Clone, QueryableByName)]
pub struct Target {
    #[diesel(sql_type = Text)]
    pub service: String,
    #[diesel(sql_type = Text)]
    pub credential: String,
}

/// The user's working links (none broken), for "now playing".
pub fn working_links(conn: &mut SqliteConnection, user_id: i32) -> QueryResult<Vec<Target>> {
    diesel::sql_query(
        "SELECT service, credential FROM scrobble_links \
         WHERE user_id = ? AND broken_reason IS NULL",
    )
    .bind::<Integer, _>(user_id)
    .load(conn)
}

/// A link of one service with something to send whose backoff has passed.
#[derive(Debug, Clone, QueryableByName)]
pub struct Due {
    #[diesel(sql_type = Integer)]
    pub user_id: i32,
    #[diesel(sql_type = Text)]
    pub credential: String,
    #[diesel(sql_type = Integer)]
    pub failures: i32,
}

pub fn due(conn: &mut SqliteConnection, service: &str, now_ms: i64) -> QueryResult<Vec<Due>> {
    diesel::sql_query(
        "SELECT l.user_id, l.credential, l.failures FROM scrobble_links l \
         WHERE l.service = ? AND l.broken_reason IS NULL AND l.retry_at <= ? \
         AND EXISTS (SELECT 1 FROM scrobble_queue q \
                     WHERE q.user_id = l.user_id AND q.service = l.service) \
         ORDER BY l.user_id",
    )
    .bind::<Text, _>(service)
    .bind::<BigInt, _>(now_ms)
    .load(conn)
}

#[derive(QueryableByName)]
struct Next {
    #[diesel(sql_type = Nullable<BigInt>)]
    at: Option<i64>,
}

/// When the next retry of this service is due (epoch ms), if anything waits.
pub fn next_retry(conn: &mut SqliteConnection, service: &str) -> QueryResult<Option<i64>> {
    let next: Next = diesel::sql_query(
        "SELECT MIN(l.retry_at) AS at FROM scrobble_links l \
         WHERE l.service = ? AND l.broken_reason IS NULL \
         AND EXISTS (SELECT 1 FROM scrobble_queue q \
                     WHERE q.user_id = l.user_id AND q.service = l.service)",
    )
    .bind::<Text, _>(service)
    .get_result(conn)?;
    Ok(next.at)
}

/// One queued item.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub id: i64,
    pub kind: Kind,
    /// Epoch seconds.
    pub played_at: i64,
    pub track: TrackInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Listen,
    Love,
    Unlove,
}

#[derive(QueryableByName)]
struct QueueRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    played_at: i64,
    #[diesel(sql_type = Text)]
    track: String,
}

/// The oldest `limit` items queued for a link, in order.
pub fn head(
    conn: &mut SqliteConnection,
    user_id: i32,
    service: &str,
    limit: usize,
) -> QueryResult<Vec<Queued>> {
    let rows: Vec<QueueRow> = diesel::sql_query(
        "SELECT id, kind, played_at, track FROM scrobble_queue \
         WHERE user_id = ? AND service = ? ORDER BY id LIMIT ?",
    )
    .bind::<Integer, _>(user_id)
    .bind::<Text, _>(service)
    .bind::<BigInt, _>(limit as i64)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Queued {
            id: r.id,
            kind: match r.kind.as_str() {
                "love" => Kind::Love,
                "unlove" => Kind::Unlove,
                _ => Kind::Listen,
            },
            played_at: r.played_at,
            // Written by `insert` from the same type; a row that does not read back is sent
            // with what it has rather than blocking the queue.
            track: serde_json::from_str(&r.track).unwrap_or_default(),
        })
        .collect())
}

/// The service took these items: they leave the queue and the backoff starts over.
pub fn delivered(
    conn: &mut SqliteConnection,
    user_id: i32,
    service: &str,
    ids: &[i64],
) -> QueryResult<()> {
    crate::db::immediate(conn, |conn| {
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        diesel::sql_query(format!(
            "DELETE FROM scrobble_queue WHERE user_id = ? AND service = ? AND id IN ({list})"
        ))
        .bind::<Integer, _>(user_id)
        .bind::<Text, _>(service)
        .execute(conn)?;
        diesel::sql_query(
            "UPDATE scrobble_links SET failures = 0, retry_at = 0, last_error = NULL \
             WHERE user_id = ? AND service = ?",
        )
        .bind::<Integer, _>(user_id)
        .bind::<Text, _>(service)
        .execute(conn)
        .map(drop)
    })
}

/// A send failed in a way worth retrying: the next try waits until `retry_at`.
pub fn failed(
    conn: &mut SqliteConnection,
    user_id: i32,
    service: &str,
    reason: &str,
    retry_at_ms: i64,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE scrobble_links SET failures = failures + 1, retry_at = ?, last_error = ? \
         WHERE user_id = ? AND service = ?",
    )
    .bind::<BigInt, _>(retry_at_ms)
    .bind::<Text, _>(reason)
    .bind::<Integer, _>(user_id)
    .bind::<Text, _>(service)
    .execute(conn)
    .map(drop)
}

/// The service rejected `credential`: the link is broken until the user relinks (a relink
/// meanwhile changed the credential, and then nothing is marked).
pub fn rejected(
    conn: &mut SqliteConnection,
    user_id: i32,
    service: &str,
    credential: &str,
    reason: &str,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE scrobble_links SET broken_reason = ?, last_error = ? \
         WHERE user_id = ? AND service = ? AND credential = ?",
    )
    .bind::<Text, _>(reason)
    .bind::<Text, _>(reason)
    .bind::<Integer, _>(user_id)
    .bind::<Text, _>(service)
    .bind::<Text, _>(credential)
    .execute(conn)
    .map(drop)
}
