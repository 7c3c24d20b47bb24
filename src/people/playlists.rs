//! Playlists: who may see and change them, their entries, and M3U8 export. No wire format here;
//! the Subsonic layer (`subsonic::playlists`) parses parameters and renders.
//!
//! Rules: a user sees their own playlists and public ones; an admin may read and change any.
//! Someone else's private playlist does not exist for a non-admin (not found, so its existence
//! does not leak); someone else's public playlist can be read, not changed. A playlist imported
//! from an M3U file mirrors that file: its name and songs change only when the file does (the
//! scanner re-syncs it), so they cannot be edited here; comment and visibility can.
//!
//! Every read-modify-write runs in one immediate transaction, so two clients editing one
//! playlist at the same moment are serialised by SQLite and neither loses its change.

use crate::db::models::{Track, User};
use crate::db::schema::{library_folders, playlist_tracks, playlists, tracks, users};
use crate::library::access::{self, Scope, Viewer};
use crate::library::catalog::{self, Annotated};
use crate::library::files::{Archive, TrackFile, archive_of_tracks};
use crate::library::{TrackView, sql};
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Rows per INSERT when writing entries (3 bound values each, well under SQLite's limit).
const INSERT_CHUNK: usize = 2000;

/// A playlist with its owner's name and the totals clients show.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Playlist {
    #[diesel(sql_type = Integer)]
    pub id: i32,
    #[diesel(sql_type = Integer)]
    pub owner_id: i32,
    #[diesel(sql_type = Text)]
    pub owner_name: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub comment: Option<String>,
    #[diesel(sql_type = Bool)]
    pub public: bool,
    /// The M3U file this playlist was imported from (absolute path), if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub source_path: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub song_count: i64,
    #[diesel(sql_type = BigInt)]
    pub duration_ms: i64,
    /// The first entry with art (its own embedded picture or its album's cover), whose art
    /// stands for the playlist's; None when no entry has any.
    #[diesel(sql_type = Nullable<Integer>)]
    pub cover_track_id: Option<i32>,
    /// Changes when that entry's art may have changed (its file's mtime, its album's refresh).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub cover_stamp: Option<i64>,
    /// Epoch milliseconds.
    #[diesel(sql_type = BigInt)]
    pub created_at: i64,
    /// Epoch milliseconds.
    #[diesel(sql_type = BigInt)]
    pub updated_at: i64,
}

/// Who is asking, as the playlist rules see them: the viewer (songs of folders it may not see
/// are neither shown to it nor addable by it).
pub type Actor = crate::library::access::Viewer;

impl Playlist {
    /// Whether `actor` may see this playlist and its songs.
    pub fn readable_by(&self, actor: &Actor) -> bool {
        self.public || actor.is_admin || self.owner_id == actor.user_id
    }

    /// Whether `actor` may change its comment and visibility, or delete it.
    pub fn manageable_by(&self, actor: &Actor) -> bool {
        actor.is_admin || self.owner_id == actor.user_id
    }

    /// Whether `actor` may change its name and songs (imported playlists follow their file).
    pub fn editable_by(&self, actor: &Actor) -> bool {
        self.manageable_by(actor) && self.source_path.is_none()
    }
}

/// Why a playlist call did not happen. Nothing is changed in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum PlaylistError {
    #[error("playlist not found")]
    NotFound,
    #[error("user not found")]
    NoSuchUser,
    #[error("not allowed to change this playlist")]
    NotAllowed,
    #[error("song {0} not found")]
    SongNotFound(i32),
    #[error("no song at index {0}")]
    BadIndex(usize),
    #[error("the playlist name must not be empty")]
    EmptyName,
    #[error("a playlist name has at most {MAX_NAME_CHARS} characters")]
    NameTooLong,
    #[error("a playlist comment has at most {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// `sql::PLAYLISTS` followed by `tail`: `Playlist` rows whose counts, duration and cover
/// take only the songs `scope` shows, the scope's folders bound first (bind `tail`'s
/// parameters after).
fn select_query(scope: &Scope, tail: &str) -> BoxedSqlQuery<'static, Sqlite, SqlQuery> {
    let text = sql::in_scope(sql::PLAYLISTS, &scope.bound_condition("t.folder_id"));
    scope.bind_folders(diesel::sql_query(format!("{text}{tail}")).into_boxed())
}

/// One playlist by id, whoever owns it, with the totals `scope` shows.
pub fn find(conn: &mut SqliteConnection, scope: &Scope, id: i32) -> QueryResult<Option<Playlist>> {
    select_query(scope, sql::PLAYLIST_BY_ID)
        .bind::<Integer, _>(id)
        .get_result(conn)
        .optional()
}

/// The playlists a user sees in their lists: their own and every public one, by name.
/// `owner_id` is whose lists these are (an admin may look at another user's); the totals
/// follow `scope`.
pub fn visible_to(
    conn: &mut SqliteConnection,
    scope: &Scope,
    owner_id: i32,
) -> QueryResult<Vec<Playlist>> {
    select_query(scope, sql::PLAYLISTS_SEEN_BY)
        .bind::<Integer, _>(owner_id)
        .load(conn)
}

/// getPlaylists: the playlists `viewer` lists, or, with `user` (a name other than the
/// viewer's), what that user lists, with the totals that user's folders show. Only an admin
/// may look at another user's lists.
pub fn lists(
    conn: &mut SqliteConnection,
    viewer: &Viewer,
    user: Option<&str>,
) -> Result<Vec<Playlist>, PlaylistError> {
    let Some(name) = user else {
        return Ok(visible_to(conn, &viewer.scope, viewer.user_id)?);
    };
    if !viewer.is_admin {
        return Err(PlaylistError::NotAllowed);
    }
    let user: User = users::table
        .filter(users::name.eq(name))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or(PlaylistError::NoSuchUser)?;
    let scope = access::user_scope(conn, &user)?;
    Ok(visible_to(conn, &scope, user.id)?)
}

/// Every playlist, by owner and name (for the command line).
pub fn all(conn: &mut SqliteConnection) -> QueryResult<Vec<Playlist>> {
    select_query(&Scope::All, sql::PLAYLISTS_BY_OWNER).load(conn)
}

/// A playlist `actor` may read (not found otherwise).
pub fn readable(
    conn: &mut SqliteConnection,
    actor: &Actor,
    id: i32,
) -> Result<Playlist, PlaylistError> {
    match find(conn, &actor.scope, id)? {
        Some(p) if p.readable_by(actor) => Ok(p),
        _ => Err(PlaylistError::NotFound),
    }
}

/// A playlist `actor` may read and `allowed` says they may change: not found when they
/// cannot even read it, not allowed when they can read but not change it.
fn changeable(
    conn: &mut SqliteConnection,
    actor: &Actor,
    id: i32,
    allowed: fn(&Playlist, &Actor) -> bool,
) -> Result<Playlist, PlaylistError> {
    let p = readable(conn, actor, id)?;
    if allowed(&p, actor) {
        Ok(p)
    } else {
        Err(PlaylistError::NotAllowed)
    }
}

/// Every entry's track id, in order (duplicates kept), whatever folder it is in.
fn all_track_ids(conn: &mut SqliteConnection, playlist_id: i32) -> QueryResult<Vec<i32>> {
    playlist_tracks::table
        .filter(playlist_tracks::playlist_id.eq(playlist_id))
        .order(playlist_tracks::position)
        .select(playlist_tracks::track_id)
        .load(conn)
}

/// The track ids of a playlist that `scope` shows, in order (duplicates kept).
pub fn track_ids(
    conn: &mut SqliteConnection,
    scope: &Scope,
    playlist_id: i32,
) -> QueryResult<Vec<i32>> {
    let ids = all_track_ids(conn, playlist_id)?;
    access::tracks_in_scope(conn, scope, &ids)
}

/// Fails with the first id that is not a track `scope` shows.
fn check_tracks(
    conn: &mut SqliteConnection,
    scope: &Scope,
    ids: &[i32],
) -> Result<(), PlaylistError> {
    match access::first_unshown_track(conn, scope, ids)? {
        Some(missing) => Err(PlaylistError::SongNotFound(missing)),
        None => Ok(()),
    }
}

/// Replaces a playlist's entries with `ids` (positions 0..n). Call inside a transaction.
pub fn write_entries(
    conn: &mut SqliteConnection,
    playlist_id: i32,
    ids: &[i32],
) -> QueryResult<()> {
    diesel::delete(playlist_tracks::table.filter(playlist_tracks::playlist_id.eq(playlist_id)))
        .execute(conn)?;
    append_entries(conn, playlist_id, 0, ids)
}

/// Inserts `ids` at positions `first..`. Call inside a transaction.
fn append_entries(
    conn: &mut SqliteConnection,
    playlist_id: i32,
    first: i32,
    ids: &[i32],
) -> QueryResult<()> {
    for (n, chunk) in ids.chunks(INSERT_CHUNK).enumerate() {
        let base = first + (n * INSERT_CHUNK) as i32;
        let rows: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, &track_id)| {
                (
                    playlist_tracks::playlist_id.eq(playlist_id),
                    playlist_tracks::position.eq(base + i as i32),
                    playlist_tracks::track_id.eq(track_id),
                )
            })
            .collect();
        diesel::insert_into(playlist_tracks::table)
            .values(&rows)
            .execute(conn)?;
    }
    Ok(())
}

/// Longest playlist name and comment (characters): far beyond any real title or note, and
/// small enough that no list of playlists grows huge because of one entry.
pub const MAX_NAME_CHARS: usize = 1_000;
pub const MAX_COMMENT_CHARS: usize = 10_000;

fn clean_name(name: &str) -> Result<String, PlaylistError> {
    let name = name.trim();
    if name.is_empty() {
        Err(PlaylistError::EmptyName)
    } else if name.chars().count() > MAX_NAME_CHARS {
        Err(PlaylistError::NameTooLong)
    } else {
        Ok(name.to_string())
    }
}

/// Creates a private playlist owned by `actor` with these songs; returns its id.
pub fn create(
    conn: &mut SqliteConnection,
    actor: &Actor,
    name: &str,
    songs: &[i32],
    now_ms: i64,
) -> Result<i32, PlaylistError> {
    let name = clean_name(name)?;
    crate::db::immediate(conn, |conn| {
        check_tracks(conn, &actor.scope, songs)?;
        let id: i32 = diesel::insert_into(playlists::table)
            .values((
                playlists::owner_id.eq(actor.user_id),
                playlists::name.eq(&name),
                playlists::public.eq(false),
                playlists::created_at.eq(now_ms),
                playlists::updated_at.eq(now_ms),
            ))
            .returning(playlists::id)
            .get_result(conn)?;
        append_entries(conn, id, 0, songs)?;
        Ok(id)
    })
}

/// Replaces a playlist's songs (createPlaylist with playlistId), renaming it when `name` is
/// given. Entries in folders the actor cannot see are kept (they are not theirs to drop).
pub fn replace(
    conn: &mut SqliteConnection,
    actor: &Actor,
    id: i32,
    name: Option<&str>,
    songs: &[i32],
    now_ms: i64,
) -> Result<(), PlaylistError> {
    let name = name.map(clean_name).transpose()?;
    crate::db::immediate(conn, |conn| {
        changeable(conn, actor, id, Playlist::editable_by)?;
        check_tracks(conn, &actor.scope, songs)?;
        let mut entries = hidden_entries(conn, &actor.scope, id)?;
        entries.extend_from_slice(songs);
        write_entries(conn, id, &entries)?;
        if let Some(name) = &name {
            diesel::update(playlists::table.find(id))
                .set(playlists::name.eq(name))
                .execute(conn)?;
        }
        touch(conn, id, now_ms)
    })
}

/// The entries `scope` hides, in order.
fn hidden_entries(conn: &mut SqliteConnection, scope: &Scope, id: i32) -> QueryResult<Vec<i32>> {
    if scope.is_all() {
        return Ok(Vec::new());
    }
    let all = all_track_ids(conn, id)?;
    let shown: HashSet<i32> = access::tracks_in_scope(conn, scope, &all)?
        .into_iter()
        .collect();
    Ok(all.into_iter().filter(|t| !shown.contains(t)).collect())
}

/// What createPlaylist saves: a new playlist, or an existing one's songs replaced (and its
/// name, when given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Save {
    New { name: String },
    Replace { id: i32, name: Option<String> },
}

/// createPlaylist's write: `create` or `replace`; returns the playlist's id. Run it in the
/// operation's immediate transaction, with the read of its answer (`with_songs`), so the
/// answer is the state the write left, whatever other clients do meanwhile.
pub fn save(
    conn: &mut SqliteConnection,
    actor: &Actor,
    save: &Save,
    songs: &[i32],
    now_ms: i64,
) -> Result<i32, PlaylistError> {
    match save {
        Save::New { name } => create(conn, actor, name, songs, now_ms),
        Save::Replace { id, name } => {
            replace(conn, actor, *id, name.as_deref(), songs, now_ms)?;
            Ok(*id)
        }
    }
}

/// A playlist as its reader sees it with its songs: `order` the entries the reader may see
/// (repeats kept), `songs` each of them once with the reader's annotations.
pub struct WithSongs {
    pub playlist: Playlist,
    pub order: Vec<i32>,
    pub songs: Annotated<TrackView>,
}

/// A playlist `actor` may read with its songs (not found otherwise), for answers built
/// whole (createPlaylist's; getPlaylist streams its songs a chunk at a time instead).
pub fn with_songs(
    conn: &mut SqliteConnection,
    actor: &Actor,
    id: i32,
) -> Result<WithSongs, PlaylistError> {
    let playlist = readable(conn, actor, id)?;
    let order = track_ids(conn, &actor.scope, id)?;
    let mut unique = order.clone();
    unique.sort_unstable();
    unique.dedup();
    let songs = catalog::songs(conn, actor, &unique)?;
    Ok(WithSongs {
        playlist,
        order,
        songs,
    })
}

/// What updatePlaylist changes; `None`/empty fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaylistUpdate {
    pub name: Option<String>,
    /// `Some(None)` clears the comment.
    pub comment: Option<Option<String>>,
    pub public: Option<bool>,
    /// Songs appended at the end, in order.
    pub add: Vec<i32>,
    /// 0-based indexes into the playlist as the actor saw it before this update.
    pub remove: Vec<usize>,
}

impl PlaylistUpdate {
    fn changes_songs_or_name(&self) -> bool {
        self.name.is_some() || !self.add.is_empty() || !self.remove.is_empty()
    }
}

/// Applies an updatePlaylist: removals against the original indexes first, then additions,
/// then name, comment and visibility, all or nothing.
pub fn update(
    conn: &mut SqliteConnection,
    actor: &Actor,
    id: i32,
    change: &PlaylistUpdate,
    now_ms: i64,
) -> Result<(), PlaylistError> {
    let name = change.name.as_deref().map(clean_name).transpose()?;
    if let Some(Some(comment)) = &change.comment
        && comment.chars().count() > MAX_COMMENT_CHARS
    {
        return Err(PlaylistError::CommentTooLong);
    }
    crate::db::immediate(conn, |conn| {
        let p = changeable(conn, actor, id, Playlist::manageable_by)?;
        if change.changes_songs_or_name() && !p.editable_by(actor) {
            return Err(PlaylistError::NotAllowed);
        }
        check_tracks(conn, &actor.scope, &change.add)?;
        if change.remove.is_empty() {
            if !change.add.is_empty() {
                let last: Option<i32> = playlist_tracks::table
                    .filter(playlist_tracks::playlist_id.eq(id))
                    .select(diesel::dsl::max(playlist_tracks::position))
                    .get_result(conn)?;
                append_entries(conn, id, last.map_or(0, |l| l + 1), &change.add)?;
            }
        } else {
            let all = all_track_ids(conn, id)?;
            // Indexes count the entries the actor sees; map them to entries of the whole list.
            let shown: HashSet<i32> = access::tracks_in_scope(conn, &actor.scope, &all)?
                .into_iter()
                .collect();
            let seen: Vec<usize> = (0..all.len())
                .filter(|&i| shown.contains(&all[i]))
                .collect();
            let mut drop = HashSet::new();
            for &i in &change.remove {
                drop.insert(*seen.get(i).ok_or(PlaylistError::BadIndex(i))?);
            }
            let kept: Vec<i32> = all
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !drop.contains(i))
                .map(|(_, t)| t)
                .chain(change.add.iter().copied())
                .collect();
            write_entries(conn, id, &kept)?;
        }
        if let Some(name) = &name {
            diesel::update(playlists::table.find(id))
                .set(playlists::name.eq(name))
                .execute(conn)?;
        }
        if let Some(comment) = &change.comment {
            diesel::update(playlists::table.find(id))
                .set(playlists::comment.eq(comment))
                .execute(conn)?;
        }
        if let Some(public) = change.public {
            diesel::update(playlists::table.find(id))
                .set(playlists::public.eq(public))
                .execute(conn)?;
        }
        touch(conn, id, now_ms)
    })
}

fn touch(conn: &mut SqliteConnection, id: i32, now_ms: i64) -> Result<(), PlaylistError> {
    diesel::update(playlists::table.find(id))
        .set(playlists::updated_at.eq(now_ms))
        .execute(conn)?;
    Ok(())
}

/// Deletes a playlist (its owner or an admin). An imported playlist cannot be deleted while its
/// file exists (the next scan would bring it back): delete the file instead.
pub fn delete(conn: &mut SqliteConnection, actor: &Actor, id: i32) -> Result<(), PlaylistError> {
    crate::db::immediate(conn, |conn| {
        changeable(conn, actor, id, Playlist::editable_by)?;
        diesel::delete(playlists::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Playlists whose id (`pl-N` or N) or name is `key`, for the command line.
pub fn lookup(conn: &mut SqliteConnection, key: &str) -> QueryResult<Vec<Playlist>> {
    let id = key.strip_prefix("pl-").unwrap_or(key).parse::<i32>().ok();
    if let Some(p) = id
        .map(|id| find(conn, &Scope::All, id))
        .transpose()?
        .flatten()
    {
        return Ok(vec![p]);
    }
    select_query(&Scope::All, sql::PLAYLISTS_NAMED)
        .bind::<Text, _>(key)
        .load(conn)
}

/// A playlist as an extended M3U8 file: `#EXTM3U`, `#PLAYLIST:` with its name, then for each
/// entry an `#EXTINF:` line (seconds, "artist - title") and the file's absolute path.
pub fn export_m3u8(conn: &mut SqliteConnection, playlist: &Playlist) -> QueryResult<String> {
    let rows: Vec<(String, String, i64, String, String)> = playlist_tracks::table
        .inner_join(tracks::table.inner_join(library_folders::table))
        .filter(playlist_tracks::playlist_id.eq(playlist.id))
        .order(playlist_tracks::position)
        .select((
            library_folders::path,
            tracks::path,
            tracks::duration_ms,
            tracks::artist_display,
            tracks::title,
        ))
        .load(conn)?;
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    let mut out = format!("#EXTM3U\n#PLAYLIST:{}\n", one_line(&playlist.name));
    for (root, rel, duration_ms, artist, title) in rows {
        out.push_str(&format!(
            "#EXTINF:{},{} - {}\n{}\n",
            duration_ms / 1000,
            one_line(&artist),
            one_line(&title),
            Path::new(&root).join(rel).display()
        ));
    }
    Ok(out)
}

/// A playlist `actor` may read as a zip download: its songs `actor.scope` shows, in order
/// (repeats kept); None when it has none.
pub fn archive(
    conn: &mut SqliteConnection,
    actor: &Actor,
    id: i32,
) -> Result<Option<Archive>, PlaylistError> {
    let playlist = readable(conn, actor, id)?;
    let order = track_ids(conn, &actor.scope, id)?;
    let mut unique = order.clone();
    unique.sort_unstable();
    unique.dedup();
    let mut by_id: HashMap<i32, TrackFile> = HashMap::with_capacity(unique.len());
    for chunk in unique.chunks(500) {
        let rows: Vec<(Track, String)> = tracks::table
            .inner_join(library_folders::table)
            .filter(tracks::id.eq_any(chunk))
            .select((Track::as_select(), library_folders::path))
            .load(conn)?;
        by_id.extend(rows.into_iter().map(|(track, root)| {
            let path = Path::new(&root).join(&track.file.path);
            (track.id, TrackFile { track, path })
        }));
    }
    let files: Vec<TrackFile> = order
        .iter()
        .filter_map(|id| by_id.get(id).cloned())
        .collect();
    Ok((!files.is_empty()).then(|| archive_of_tracks(&playlist.name, files)))
}

/// The first admin (lowest id), who owns imported playlists; None while there is no admin.
pub fn first_admin(conn: &mut SqliteConnection) -> QueryResult<Option<i32>> {
    users::table
        .filter(users::is_admin.eq(true))
        .order(users::id)
        .select(users::id)
        .first(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tracks 1..=5; track 5 in the second folder.
    fn catalog() -> (tempfile::TempDir, SqliteConnection) {
        crate::library::test_catalog::catalog(&[(1, 1), (2, 1), (3, 1), (4, 1), (5, 2)])
    }

    fn admin() -> Actor {
        Actor::everything(1, true)
    }
    fn bob() -> Actor {
        Actor::everything(2, false)
    }
    /// Bob restricted to the first folder.
    fn bob_in_m() -> Actor {
        Actor {
            scope: Scope::Only(vec![1]),
            ..bob()
        }
    }

    #[test]
    fn removals_use_original_indexes_then_additions_append() {
        let (_dir, mut c) = catalog();
        let id = create(&mut c, &bob(), " Mix ", &[1, 2, 3, 4], 10).unwrap();
        let change = PlaylistUpdate {
            remove: vec![0, 2, 2],
            add: vec![5, 1],
            ..Default::default()
        };
        update(&mut c, &bob(), id, &change, 20).unwrap();
        assert_eq!(track_ids(&mut c, &Scope::All, id).unwrap(), [2, 4, 5, 1]);
        let p = find(&mut c, &Scope::All, id).unwrap().unwrap();
        assert_eq!(
            (p.name.as_str(), p.song_count, p.duration_ms, p.updated_at),
            ("Mix", 4, 12_000, 20)
        );
        // An index past the end changes nothing.
        let bad = PlaylistUpdate {
            remove: vec![1, 4],
            ..Default::default()
        };
        assert!(matches!(
            update(&mut c, &bob(), id, &bad, 30),
            Err(PlaylistError::BadIndex(4))
        ));
        assert_eq!(track_ids(&mut c, &Scope::All, id).unwrap(), [2, 4, 5, 1]);
    }

    #[test]
    fn hidden_folders_are_invisible_and_untouched() {
        let (_dir, mut c) = catalog();
        let id = create(&mut c, &bob(), "Mix", &[5, 1, 5, 2], 0).unwrap();
        let restricted = bob_in_m();
        assert_eq!(track_ids(&mut c, &restricted.scope, id).unwrap(), [1, 2]);
        let p = find(&mut c, &restricted.scope, id).unwrap().unwrap();
        assert_eq!((p.song_count, p.duration_ms), (2, 3000));
        // Index 1 is what the restricted user sees at 1: track 2.
        let change = PlaylistUpdate {
            remove: vec![1],
            ..Default::default()
        };
        update(&mut c, &restricted, id, &change, 1).unwrap();
        assert_eq!(track_ids(&mut c, &Scope::All, id).unwrap(), [5, 1, 5]);
        assert!(matches!(
            create(&mut c, &restricted, "x", &[5], 0),
            Err(PlaylistError::SongNotFound(5))
        ));
        replace(&mut c, &restricted, id, None, &[3], 2).unwrap();
        assert_eq!(track_ids(&mut c, &Scope::All, id).unwrap(), [5, 5, 3]);
    }

    #[test]
    fn private_playlists_are_hidden_and_public_ones_read_only_for_others() {
        let (_dir, mut c) = catalog();
        let admins = create(&mut c, &admin(), "Admin's", &[1], 0).unwrap();
        assert!(matches!(
            readable(&mut c, &bob(), admins),
            Err(PlaylistError::NotFound)
        ));
        assert!(visible_to(&mut c, &Scope::All, 2).unwrap().is_empty());
        let public = PlaylistUpdate {
            public: Some(true),
            ..Default::default()
        };
        update(&mut c, &admin(), admins, &public, 1).unwrap();
        assert_eq!(visible_to(&mut c, &Scope::All, 2).unwrap().len(), 1);
        assert!(matches!(
            update(&mut c, &bob(), admins, &PlaylistUpdate::default(), 2),
            Err(PlaylistError::NotAllowed)
        ));
        assert!(matches!(
            delete(&mut c, &bob(), admins),
            Err(PlaylistError::NotAllowed)
        ));
        // An admin may change anyone's.
        let bobs = create(&mut c, &bob(), "Bob's", &[2], 0).unwrap();
        replace(&mut c, &admin(), bobs, None, &[3, 3], 5).unwrap();
        assert_eq!(track_ids(&mut c, &Scope::All, bobs).unwrap(), [3, 3]);
        assert!(matches!(
            create(&mut c, &bob(), "x", &[1, 99], 0),
            Err(PlaylistError::SongNotFound(99))
        ));
        assert!(matches!(
            create(&mut c, &bob(), "  ", &[], 0),
            Err(PlaylistError::EmptyName)
        ));
        delete(&mut c, &admin(), bobs).unwrap();
        assert!(find(&mut c, &Scope::All, bobs).unwrap().is_none());
    }

    #[test]
    fn a_deleted_playlists_id_is_never_given_to_another() {
        let (_dir, mut c) = catalog();
        let first = create(&mut c, &bob(), "First", &[1], 0).unwrap();
        let newest = create(&mut c, &bob(), "Newest", &[1], 0).unwrap();
        delete(&mut c, &bob(), newest).unwrap();
        // A client still holding `newest` must not reach someone else's new playlist.
        let next = create(&mut c, &admin(), "Admin's", &[2], 0).unwrap();
        assert!(next > newest && newest > first, "{first} {newest} {next}");
        assert!(matches!(
            delete(&mut c, &bob(), newest),
            Err(PlaylistError::NotFound)
        ));
    }

    #[test]
    fn create_answers_with_what_it_wrote() {
        let (_dir, mut c) = catalog();
        let new = Save::New { name: "Mix".into() };
        let id = save(&mut c, &bob_in_m(), &new, &[2, 1, 2], 5).unwrap();
        let answer = with_songs(&mut c, &bob_in_m(), id).unwrap();
        assert_eq!(
            (answer.playlist.name.as_str(), answer.playlist.song_count),
            ("Mix", 3)
        );
        assert_eq!(answer.order, [2, 1, 2]);
        assert_eq!(answer.songs.0.len(), 2, "each song once");
        let replace = Save::Replace { id, name: None };
        save(&mut c, &bob(), &replace, &[5], 6).unwrap();
        // Bob restricted to the first folder does not see track 5.
        let answer = with_songs(&mut c, &bob_in_m(), id).unwrap();
        assert!(answer.order.is_empty() && answer.songs.0.is_empty());
    }

    #[test]
    fn imported_playlists_keep_name_and_songs() {
        let (_dir, mut c) = catalog();
        let id = create(&mut c, &admin(), "From file", &[1], 0).unwrap();
        diesel::update(playlists::table.find(id))
            .set(playlists::source_path.eq("/m/list.m3u"))
            .execute(&mut c)
            .unwrap();
        let add = PlaylistUpdate {
            add: vec![2],
            ..Default::default()
        };
        assert!(matches!(
            update(&mut c, &admin(), id, &add, 1),
            Err(PlaylistError::NotAllowed)
        ));
        assert!(matches!(
            delete(&mut c, &admin(), id),
            Err(PlaylistError::NotAllowed)
        ));
        let comment = PlaylistUpdate {
            comment: Some(Some("mine".into())),
            public: Some(false),
            ..Default::default()
        };
        update(&mut c, &admin(), id, &comment, 2).unwrap();
        let p = find(&mut c, &Scope::All, id).unwrap().unwrap();
        assert_eq!((p.comment.as_deref(), p.public), (Some("mine"), false));
    }

    #[test]
    fn exports_extended_m3u8_with_absolute_paths() {
        let (_dir, mut c) = catalog();
        let id = create(&mut c, &bob(), "Road\ntrip", &[2, 1], 0).unwrap();
        let p = find(&mut c, &Scope::All, id).unwrap().unwrap();
        assert_eq!(
            export_m3u8(&mut c, &p).unwrap(),
            "#EXTM3U\n#PLAYLIST:Road trip\n#EXTINF:2,Ar - T2\n/m/a/2.mp3\n#EXTINF:1,Ar - T1\n/m/a/1.mp3\n"
        );
        assert_eq!(lookup(&mut c, &format!("pl-{id}")).unwrap().len(), 1);
        assert_eq!(lookup(&mut c, "Road\ntrip").unwrap().len(), 1);
        assert!(lookup(&mut c, "nothing").unwrap().is_empty());
    }
}
