//! Shares: public links that let anyone without an account play a fixed list of songs. No
//! wire format here; `subsonic::shares` renders them and `share_page` serves the public page.
//!
//! Rules:
//! - A share's id is an unguessable random token (16 bytes from the OS, base64url): it is the
//!   only thing that opens the link, so it must not be enumerable.
//! - Sharing an album, artist, folder or playlist shares its songs as they are at that moment
//!   (the owner's view of them: songs in folders the owner may not see are left out).
//! - A share past its expiry is gone: it is not listed, cannot be changed, and its page and
//!   files answer 404. Expired rows are removed whenever a share is created.
//! - Songs are served only while the owner may still see them, so taking a folder away from a
//!   user also takes it out of their shares.
//! - Users see and manage their own shares; an admin sees and manages everyone's (as in
//!   Subsonic). Someone else's share does not exist for a non-admin.

use super::playlists::{self, Actor, PlaylistError};
use crate::db::models::User;
use crate::db::schema::{album_artists, albums, directories, share_tracks, shares, tracks, users};
use crate::library::access::{self, Scope};
use crate::library::catalog::{self, Annotated};
use crate::library::files::{self, TrackFile};
use crate::library::{Id, TrackView};
use base64::Engine;
use diesel::prelude::*;
use std::collections::HashSet;

/// Random bytes in a share token (22 base64url characters).
const TOKEN_BYTES: usize = 16;

/// Most songs one share may hold (an artist with a huge catalogue is refused, not truncated).
pub const MAX_SHARE_TRACKS: usize = 5000;

/// Longest description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Rows per INSERT when writing entries (3 bound values each, well under SQLite's limit).
const INSERT_CHUNK: usize = 2000;

/// A share with its owner's name. Times are epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub id: String,
    pub owner_id: i32,
    pub owner_name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_visited: Option<i64>,
    pub visit_count: i32,
}

impl Share {
    /// Whether `actor` may see, change and delete this share.
    pub fn manageable_by(&self, actor: &Actor) -> bool {
        actor.is_admin || self.owner_id == actor.user_id
    }
}

/// Why a share call did not happen. Nothing is changed in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("share not found")]
    NotFound,
    #[error("{0} not found")]
    ItemNotFound(Id),
    #[error("there is nothing to share")]
    NothingToShare,
    #[error("a share holds at most {MAX_SHARE_TRACKS} songs; this one would hold {0}")]
    TooManySongs(usize),
    #[error("the expiry time is in the past")]
    ExpiryInPast,
    #[error("the expiry time is after the year 9999")]
    ExpiryTooFar,
    #[error("the description is longer than {MAX_DESCRIPTION_CHARS} characters")]
    DescriptionTooLong,
    #[error("no random bytes for a share token: {0}")]
    Random(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// A new unguessable share token: 16 random bytes, base64url without padding.
pub fn new_token() -> Result<String, ShareError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| ShareError::Random(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `s` looks like a token `new_token` makes (so other paths are refused without a
/// database look-up).
pub fn is_token(s: &str) -> bool {
    s.len() == 22
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

type ShareRow = (
    String,
    i32,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    i32,
);

fn from_row(r: ShareRow) -> Share {
    Share {
        id: r.0,
        owner_id: r.1,
        owner_name: r.2,
        description: r.3,
        created_at: r.4,
        expires_at: r.5,
        last_visited: r.6,
        visit_count: r.7,
    }
}

/// Live shares (not expired at `now`) with their owners' names, oldest first: the one with
/// `token` when given, those of `owner` when given.
fn load_live(
    conn: &mut SqliteConnection,
    now_ms: i64,
    token: Option<&str>,
    owner: Option<i32>,
) -> QueryResult<Vec<Share>> {
    let mut query = shares::table
        .inner_join(users::table)
        .filter(
            shares::expires_at
                .is_null()
                .or(shares::expires_at.gt(now_ms)),
        )
        .select((
            shares::id,
            shares::user_id,
            users::name,
            shares::description,
            shares::created_at,
            shares::expires_at,
            shares::last_visited,
            shares::visit_count,
        ))
        .order((shares::created_at, shares::id))
        .into_boxed();
    if let Some(token) = token {
        query = query.filter(shares::id.eq(token.to_string()));
    }
    if let Some(owner) = owner {
        query = query.filter(shares::user_id.eq(owner));
    }
    Ok(query
        .load::<ShareRow>(conn)?
        .into_iter()
        .map(from_row)
        .collect())
}

/// The share with this token, unless it does not exist or has expired.
pub fn find_live(
    conn: &mut SqliteConnection,
    token: &str,
    now_ms: i64,
) -> QueryResult<Option<Share>> {
    Ok(load_live(conn, now_ms, Some(token), None)?.pop())
}

/// The live shares `actor` manages (their own; every user's for an admin), oldest first.
pub fn visible_to(
    conn: &mut SqliteConnection,
    actor: &Actor,
    now_ms: i64,
) -> QueryResult<Vec<Share>> {
    let owner = (!actor.is_admin).then_some(actor.user_id);
    load_live(conn, now_ms, None, owner)
}

/// A live share `actor` manages (not found otherwise, so others' shares do not leak).
fn managed(
    conn: &mut SqliteConnection,
    actor: &Actor,
    token: &str,
    now_ms: i64,
) -> Result<Share, ShareError> {
    match find_live(conn, token, now_ms)? {
        Some(s) if s.manageable_by(actor) => Ok(s),
        _ => Err(ShareError::NotFound),
    }
}

/// The folders the share's owner may see now.
fn owner_scope(conn: &mut SqliteConnection, owner_id: i32) -> QueryResult<Scope> {
    let owner: User = users::table
        .find(owner_id)
        .select(User::as_select())
        .get_result(conn)?;
    access::user_scope(conn, &owner)
}

/// Shares with their songs (the entries of each, and each song once with the viewer's
/// annotations), as getShares and createShare answer.
pub struct SharesWithSongs {
    pub list: Vec<Share>,
    /// The track ids of each share, in order.
    pub entries: Vec<Vec<i32>>,
    pub songs: Annotated<TrackView>,
}

/// See `SharesWithSongs`; read in the transaction that found (or made) the shares.
pub fn with_songs(
    conn: &mut SqliteConnection,
    viewer: &Actor,
    list: Vec<Share>,
) -> QueryResult<SharesWithSongs> {
    let mut entries = Vec::with_capacity(list.len());
    for share in &list {
        entries.push(track_ids(conn, share)?);
    }
    let mut unique: Vec<i32> = entries.iter().flatten().copied().collect();
    unique.sort_unstable();
    unique.dedup();
    Ok(SharesWithSongs {
        list,
        entries,
        songs: catalog::songs(conn, viewer, &unique)?,
    })
}

/// The share's songs in order, as far as its owner may still see them.
pub fn track_ids(conn: &mut SqliteConnection, share: &Share) -> QueryResult<Vec<i32>> {
    let ids: Vec<i32> = share_tracks::table
        .filter(share_tracks::share_id.eq(&share.id))
        .order(share_tracks::position)
        .select(share_tracks::track_id)
        .load(conn)?;
    let scope = owner_scope(conn, share.owner_id)?;
    access::tracks_in_scope(conn, &scope, &ids)
}

/// The file of one song of a live share; None when the share is gone or the song is not in
/// it (or no longer visible to its owner).
pub fn shared_track(
    conn: &mut SqliteConnection,
    token: &str,
    track_id: i32,
    now_ms: i64,
) -> QueryResult<Option<SharedTrack>> {
    let Some(share) = find_live(conn, token, now_ms)? else {
        return Ok(None);
    };
    let in_share: bool = diesel::select(diesel::dsl::exists(
        share_tracks::table
            .filter(share_tracks::share_id.eq(&share.id))
            .filter(share_tracks::track_id.eq(track_id)),
    ))
    .get_result(conn)?;
    if !in_share {
        return Ok(None);
    }
    let Some(file) = files::track_file(conn, track_id)? else {
        return Ok(None);
    };
    if !owner_scope(conn, share.owner_id)?.allows(file.track.folder_id) {
        return Ok(None);
    }
    let owner_max_bit_rate: i32 = users::table
        .find(share.owner_id)
        .select(users::max_bit_rate)
        .get_result(conn)?;
    Ok(Some(SharedTrack {
        file,
        owner_max_bit_rate: owner_max_bit_rate.max(0) as u32,
    }))
}

/// A song a share opens, with what its sharer may stream: a share is listened to with the
/// sharer's rights, so the sharer's bitrate cap applies to it as to the sharer's own streams.
#[derive(Debug)]
pub struct SharedTrack {
    pub file: TrackFile,
    /// The sharer's cap in kbps (0: none).
    pub owner_max_bit_rate: u32,
}

/// Counts a visit of the share's page. False when the share is gone.
pub fn record_visit(conn: &mut SqliteConnection, token: &str, now_ms: i64) -> QueryResult<bool> {
    let n = diesel::update(
        shares::table.filter(shares::id.eq(token)).filter(
            shares::expires_at
                .is_null()
                .or(shares::expires_at.gt(now_ms)),
        ),
    )
    .set((
        shares::visit_count.eq(shares::visit_count + 1),
        shares::last_visited.eq(now_ms),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Removes shares that expired at or before `now`; returns how many.
pub fn purge_expired(conn: &mut SqliteConnection, now_ms: i64) -> QueryResult<usize> {
    diesel::delete(shares::table.filter(shares::expires_at.le(now_ms))).execute(conn)
}

/// The songs of the items, in order, each once: a song itself, an album's songs by disc and
/// track, an artist's albums (oldest first), a folder's tree by path, a playlist's entries.
/// Only what `actor` may see; an item that does not exist for them is `ItemNotFound`.
pub fn expand(
    conn: &mut SqliteConnection,
    actor: &Actor,
    items: &[Id],
) -> Result<Vec<i32>, ShareError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for &item in items {
        let ids = item_tracks(conn, actor, item)?;
        if ids.is_empty() {
            return Err(ShareError::ItemNotFound(item));
        }
        out.extend(ids.into_iter().filter(|id| seen.insert(*id)));
        if out.len() > MAX_SHARE_TRACKS {
            return Err(ShareError::TooManySongs(out.len()));
        }
    }
    Ok(out)
}

fn item_tracks(
    conn: &mut SqliteConnection,
    actor: &Actor,
    item: Id,
) -> Result<Vec<i32>, ShareError> {
    let ids = match item {
        Id::Track(n) => tracks::table
            .filter(tracks::id.eq(n))
            .filter(actor.scope.tracks_filter())
            .select(tracks::id)
            .load(conn)?,
        Id::Album(n) => tracks::table
            .filter(tracks::album_id.eq(n))
            .filter(actor.scope.tracks_filter())
            .order((tracks::disc_number, tracks::track_number, tracks::path))
            .select(tracks::id)
            .load(conn)?,
        Id::Artist(n) => tracks::table
            .inner_join(albums::table.on(albums::id.eq(tracks::album_id)))
            .filter(
                tracks::album_id.eq_any(
                    album_artists::table
                        .filter(album_artists::artist_id.eq(n))
                        .select(album_artists::album_id),
                ),
            )
            .filter(actor.scope.tracks_filter())
            .order((
                albums::year,
                albums::name,
                albums::id,
                tracks::disc_number,
                tracks::track_number,
                tracks::path,
            ))
            .select(tracks::id)
            .load(conn)?,
        Id::Directory(n) => {
            let Some((folder_id, path)) = directories::table
                .find(n)
                .select((directories::folder_id, directories::path))
                .get_result::<(i32, String)>(conn)
                .optional()?
            else {
                return Ok(Vec::new());
            };
            if !actor.scope.allows(folder_id) {
                return Ok(Vec::new());
            }
            let mut query = tracks::table
                .filter(tracks::folder_id.eq(folder_id))
                .into_boxed();
            if !path.is_empty() {
                // Every path below "a/b" sorts between "a/b/" and "a/b0" ('0' follows '/').
                query = query
                    .filter(tracks::path.ge(format!("{path}/")))
                    .filter(tracks::path.lt(format!("{path}0")));
            }
            query.order(tracks::path).select(tracks::id).load(conn)?
        }
        Id::Playlist(n) => match playlists::readable(conn, actor, n) {
            Ok(_) => playlists::track_ids(conn, &actor.scope, n)?,
            Err(PlaylistError::Db(e)) => return Err(e.into()),
            Err(_) => Vec::new(),
        },
        // Shares hold songs; podcast episodes are not shared.
        Id::PodcastChannel(_) | Id::PodcastEpisode(_) => Vec::new(),
    };
    Ok(ids)
}

/// A description as stored: trimmed, empty meaning none.
fn clean_description(description: Option<&str>) -> Result<Option<String>, ShareError> {
    let Some(text) = description.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ShareError::DescriptionTooLong);
    }
    Ok(Some(text.to_string()))
}

/// The last millisecond of the year 9999 (UTC): the latest expiry every client can show as a
/// date. Later times are refused rather than clamped, so what reads back is what was sent.
pub const MAX_EXPIRY_MS: i64 = 253_402_300_799_999;

fn check_expiry(expires_at: Option<i64>, now_ms: i64) -> Result<(), ShareError> {
    match expires_at {
        Some(t) if t <= now_ms => Err(ShareError::ExpiryInPast),
        Some(t) if t > MAX_EXPIRY_MS => Err(ShareError::ExpiryTooFar),
        _ => Ok(()),
    }
}

/// Creates a share of `items` owned by `actor`; returns its token.
pub fn create(
    conn: &mut SqliteConnection,
    actor: &Actor,
    items: &[Id],
    description: Option<&str>,
    expires_at: Option<i64>,
    now_ms: i64,
) -> Result<String, ShareError> {
    if items.is_empty() {
        return Err(ShareError::NothingToShare);
    }
    let description = clean_description(description)?;
    check_expiry(expires_at, now_ms)?;
    let token = new_token()?;
    crate::db::immediate(conn, |conn| {
        let songs = expand(conn, actor, items)?;
        purge_expired(conn, now_ms)?;
        diesel::insert_into(shares::table)
            .values((
                shares::id.eq(&token),
                shares::user_id.eq(actor.user_id),
                shares::description.eq(&description),
                shares::created_at.eq(now_ms),
                shares::expires_at.eq(expires_at),
                shares::visit_count.eq(0),
            ))
            .execute(conn)?;
        for (n, chunk) in songs.chunks(INSERT_CHUNK).enumerate() {
            let rows: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, &track_id)| {
                    (
                        share_tracks::share_id.eq(&token),
                        share_tracks::position.eq((n * INSERT_CHUNK + i) as i32),
                        share_tracks::track_id.eq(track_id),
                    )
                })
                .collect();
            diesel::insert_into(share_tracks::table)
                .values(&rows)
                .execute(conn)?;
        }
        Ok::<(), ShareError>(())
    })?;
    Ok(token)
}

/// What updateShare changes; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareUpdate {
    /// `Some("")` removes the description.
    pub description: Option<String>,
    /// `Some(None)` removes the expiry; `Some(Some(t))` must lie in the future.
    pub expires_at: Option<Option<i64>>,
}

/// Changes a share's description and expiry.
pub fn update(
    conn: &mut SqliteConnection,
    actor: &Actor,
    token: &str,
    change: &ShareUpdate,
    now_ms: i64,
) -> Result<(), ShareError> {
    let description = change
        .description
        .as_deref()
        .map(|d| clean_description(Some(d)))
        .transpose()?;
    if let Some(expiry) = change.expires_at {
        check_expiry(expiry, now_ms)?;
    }
    crate::db::immediate(conn, |conn| {
        managed(conn, actor, token, now_ms)?;
        let target = shares::table.find(token);
        if let Some(description) = &description {
            diesel::update(target)
                .set(shares::description.eq(description))
                .execute(conn)?;
        }
        if let Some(expiry) = change.expires_at {
            diesel::update(target)
                .set(shares::expires_at.eq(expiry))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Deletes a share (its songs' entries go with it).
pub fn delete(
    conn: &mut SqliteConnection,
    actor: &Actor,
    token: &str,
    now_ms: i64,
) -> Result<(), ShareError> {
    crate::db::immediate(conn, |conn| {
        managed(conn, actor, token, now_ms)?;
        diesel::delete(shares::table.find(token)).execute(conn)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tracks 1..=3 in folder 1 and track 4 in folder 2.
    fn catalog() -> (tempfile::TempDir, SqliteConnection) {
        crate::library::test_catalog::catalog(&[(1, 1), (2, 1), (3, 1), (4, 2)])
    }

    fn bob() -> Actor {
        Actor::everything(2, false)
    }

    #[test]
    fn songs_follow_the_owners_folder_access() {
        let (_dir, mut conn) = catalog();
        let token = create(
            &mut conn,
            &bob(),
            &[Id::Track(4), Id::Album(1)],
            Some("mix"),
            None,
            1_000,
        )
        .unwrap();
        let share = find_live(&mut conn, &token, 2_000).unwrap().unwrap();
        assert_eq!(share.owner_name, "bob");
        // The album's songs follow the single song, which is not repeated.
        assert_eq!(track_ids(&mut conn, &share).unwrap(), [4, 1, 2, 3]);
        assert!(shared_track(&mut conn, &token, 4, 2_000).unwrap().is_some());

        // Bob loses folder 2: its song leaves his share's page and files.
        for sql in [
            "UPDATE users SET all_folders = 0 WHERE id = 2",
            "INSERT INTO user_folders (user_id, folder_id) VALUES (2, 1)",
        ] {
            diesel::sql_query(sql).execute(&mut conn).unwrap();
        }
        assert_eq!(track_ids(&mut conn, &share).unwrap(), [1, 2, 3]);
        assert!(shared_track(&mut conn, &token, 4, 2_000).unwrap().is_none());
        // A song that is not in the share is never served.
        diesel::sql_query("DELETE FROM share_tracks WHERE track_id = 3")
            .execute(&mut conn)
            .unwrap();
        assert!(shared_track(&mut conn, &token, 3, 2_000).unwrap().is_none());
    }

    #[test]
    fn expired_shares_are_gone_and_purged() {
        let (_dir, mut conn) = catalog();
        let token = create(&mut conn, &bob(), &[Id::Track(1)], None, Some(5_000), 1_000).unwrap();
        assert!(find_live(&mut conn, &token, 4_999).unwrap().is_some());
        assert!(find_live(&mut conn, &token, 5_000).unwrap().is_none());
        assert!(visible_to(&mut conn, &bob(), 5_000).unwrap().is_empty());
        assert!(!record_visit(&mut conn, &token, 5_000).unwrap());
        assert!(matches!(
            delete(&mut conn, &bob(), &token, 5_000),
            Err(ShareError::NotFound)
        ));
        // The next share created cleans the expired one away, songs included.
        create(&mut conn, &bob(), &[Id::Track(2)], None, None, 6_000).unwrap();
        let left: i64 = share_tracks::table.count().get_result(&mut conn).unwrap();
        assert_eq!(left, 1);
    }

    #[test]
    fn a_failed_create_leaves_nothing() {
        let (_dir, mut conn) = catalog();
        assert!(matches!(
            create(
                &mut conn,
                &bob(),
                &[Id::Track(1), Id::Track(99)],
                None,
                None,
                1
            ),
            Err(ShareError::ItemNotFound(Id::Track(99)))
        ));
        let n: i64 = shares::table.count().get_result(&mut conn).unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(is_token(&a), "{a}");
        assert!(is_token(&b), "{b}");
        assert!(!is_token("../../etc/passwd"));
        assert!(!is_token("short"));
    }

    #[test]
    fn descriptions_and_expiry_are_checked() {
        assert_eq!(clean_description(Some("  ")).unwrap(), None);
        assert_eq!(
            clean_description(Some(" Party ")).unwrap().as_deref(),
            Some("Party")
        );
        assert!(matches!(
            clean_description(Some(&"x".repeat(MAX_DESCRIPTION_CHARS + 1))),
            Err(ShareError::DescriptionTooLong)
        ));
        assert!(check_expiry(Some(1000), 1000).is_err());
        assert!(check_expiry(Some(1001), 1000).is_ok());
        assert!(check_expiry(None, 1000).is_ok());
    }
}
