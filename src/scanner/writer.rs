//! The one writer: applies what the walker and the tag readers found to the catalog, in
//! batched immediate transactions.
//!
//! Every committed batch leaves the catalog consistent: album aggregates, album artists and
//! genres are refreshed, and albums or artists left empty are removed, inside the same
//! transaction as the tracks that changed them. So a scan killed at any moment leaves a
//! catalog that is correct for the files it got to, and the next scan completes the rest.

use super::album_rules::{
    AlbumArtists, AlbumInDirectory, AlbumTrack, AlbumTrackRow, CoverRule, FolderImages,
    SiblingJoin, album_facts, untagged_sibling_joins,
};
use super::grouping;
use super::meta::TrackMeta;
use super::tags::is_disc_folder_name;
use crate::db::models::{FileFacts, Track, TrackData};
use crate::db::schema::{
    album_artists, album_folders, album_genres, albums, artists, directories, genres, scan_errors,
    track_artists, track_genres, tracks,
};
use crate::db::{DbError, id_list, now_ms};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use globset::Glob;
use std::collections::{BTreeSet, HashMap, HashSet};

pub use crate::names::VARIOUS_ARTISTS;

/// A directory seen by the walker that is new or changed.
#[derive(Debug)]
pub struct DirUpsert {
    pub folder_id: i32,
    pub rel_path: String,
    pub name: String,
    pub mtime_ms: i64,
    pub cover_art: Option<String>,
    /// Its row id, when the catalog already has it.
    pub known_id: Option<i32>,
}

/// What reading one file gave.
#[derive(Debug)]
pub struct TrackResult {
    pub folder_id: i32,
    pub dir_rel_path: String,
    pub rel_path: String,
    pub size: i64,
    pub mtime_ms: i64,
    /// The row this file already has (a changed file keeps its id).
    pub existing_id: Option<i32>,
    /// Whether the catalog lists this path among the unreadable files.
    pub had_error: bool,
    pub outcome: Result<Box<TrackMeta>, String>,
}

/// Messages to the writer, applied in the order sent.
#[derive(Debug)]
pub enum WriterMsg {
    Dir(DirUpsert),
    Track(TrackResult),
    /// A problem at a path that has no track (dangling link, unreadable folder...).
    Problem {
        folder_id: i32,
        rel_path: String,
        /// Stat data of the file (0 when there is no readable file).
        size: i64,
        mtime_ms: i64,
        reason: String,
    },
}

/// What the writer changed, for the scan report.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriteStats {
    pub added: usize,
    pub updated: usize,
    pub moved: usize,
    pub removed: usize,
}

/// A scope of a scan: a folder, or a sub-tree of it ("" = the whole folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub folder_id: i32,
    pub rel_path: String,
}

/// The single writer of a scan. Owns its connection and the per-scan caches of ids.
pub struct Writer {
    conn: SqliteConnection,
    state: WriterState,
}

struct WriterState {
    batch_size: usize,
    cover_rules: Vec<CoverRule>,
    dir_ids: HashMap<(i32, String), i32>,
    album_ids: HashMap<String, i32>,
    artist_ids: HashMap<String, i32>,
    genre_ids: HashMap<String, i32>,
    touched_albums: HashSet<i32>,
    touched_artists: HashSet<i32>,
    inserted_dirs: HashSet<i32>,
    stats: WriteStats,
    /// Rows whose search entries must be (re)written, and rows that are gone.
    search_dirty: SearchChanges<HashSet<i32>>,
    search_gone: SearchChanges<Vec<i32>>,
    /// Set while a bulk load runs (the scan started on an empty catalog, db/deferred.rs).
    bulk: Option<BulkState>,
}

/// What the writer knows during a bulk load, where some indexes and the full-text indexes
/// are built only at its end.
#[derive(Default)]
struct BulkState {
    /// Artists that got a track link in this load and have not lost one since: they are no
    /// orphans, which the orphan check would otherwise ask `track_artists_artist` (deferred).
    linked_artists: HashSet<i32>,
}

#[derive(Default)]
struct SearchChanges<T> {
    tracks: T,
    albums: T,
    artists: T,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    id: i32,
}

/// Largest number of ids put in one `IN (...)` list.
const ID_CHUNK: usize = 500;

impl Writer {
    /// A writer on `conn`, committing every `batch_size` files.
    pub fn new(conn: SqliteConnection, batch_size: usize, cover_priority: &[String]) -> Self {
        let cover_rules = cover_priority
            .iter()
            .filter_map(|p| {
                if p == "embedded" {
                    Some(CoverRule::Embedded)
                } else {
                    globset::GlobBuilder::new(p)
                        .case_insensitive(true)
                        .build()
                        .or_else(|_| Glob::new(p))
                        .ok()
                        .map(|g| CoverRule::File(g.compile_matcher()))
                }
            })
            .collect();
        Self {
            conn,
            state: WriterState {
                batch_size: batch_size.max(1),
                cover_rules,
                dir_ids: HashMap::new(),
                album_ids: HashMap::new(),
                artist_ids: HashMap::new(),
                genre_ids: HashMap::new(),
                touched_albums: HashSet::new(),
                touched_artists: HashSet::new(),
                inserted_dirs: HashSet::new(),
                stats: WriteStats::default(),
                search_dirty: SearchChanges::default(),
                search_gone: SearchChanges::default(),
                bulk: None,
            },
        }
    }

    /// Applies messages until the channel closes, committing in batches. On an empty catalog
    /// this is a bulk load: the deferred indexes are built once at the end (db/deferred.rs),
    /// also when applying failed (if building fails too, the next start or scan builds them).
    pub fn run(&mut self, rx: crossbeam_channel::Receiver<WriterMsg>) -> Result<(), DbError> {
        let load = crate::db::deferred::begin(&mut self.conn)?;
        self.state.bulk = load.as_ref().map(|_| BulkState::default());
        let applied = self.apply_all(rx);
        self.state.bulk = None;
        let built = match load {
            Some(load) => crate::db::deferred::end(&mut self.conn, load).map_err(DbError::from),
            None => Ok(()),
        };
        applied.and(built)
    }

    fn apply_all(&mut self, rx: crossbeam_channel::Receiver<WriterMsg>) -> Result<(), DbError> {
        let mut pending = Vec::with_capacity(self.state.batch_size);
        let flush_every = std::time::Duration::from_secs(1);
        let mut last_flush = std::time::Instant::now();
        loop {
            match rx.recv_timeout(flush_every) {
                Ok(msg) => {
                    pending.push(msg);
                    if pending.len() >= self.state.batch_size || last_flush.elapsed() >= flush_every
                    {
                        self.commit(&mut pending)?;
                        last_flush = std::time::Instant::now();
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    // A slow trickle (the watcher, a slow disk) still lands within a second.
                    self.commit(&mut pending)?;
                    last_flush = std::time::Instant::now();
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
        }
        self.commit(&mut pending)
    }

    fn commit(&mut self, pending: &mut Vec<WriterMsg>) -> Result<(), DbError> {
        if pending.is_empty() {
            return Ok(());
        }
        let msgs = std::mem::take(pending);
        let Self { conn, state } = self;
        let result = conn.immediate_transaction(|conn| {
            for msg in &msgs {
                state.apply(conn, msg)?;
            }
            state.settle(conn)
        });
        if result.is_err() {
            // Ids cached during a rolled-back transaction may not exist.
            state.clear_caches();
        }
        result.map_err(DbError::from)
    }

    /// Directory rows created by this scan (they count as seen).
    pub fn inserted_dirs(&self) -> &HashSet<i32> {
        &self.state.inserted_dirs
    }

    /// The counts so far.
    pub fn stats(&self) -> WriteStats {
        self.state.stats
    }

    /// The end of a complete walk: folds vanished tracks into the new files they were moved or
    /// renamed to (keeping their ids), removes the rest, and removes folders that are gone.
    /// `missing` are tracks whose files the walk did not find; `seen_dirs` the directory rows
    /// the walk visited; `scopes` what the walk covered.
    pub fn finish(
        &mut self,
        missing: Vec<i32>,
        seen_dirs: &HashSet<i32>,
        scopes: &[Scope],
        scan_started_ms: i64,
    ) -> Result<(), DbError> {
        let Self { conn, state } = self;
        // Directories in scope the walk no longer found: their tracks are missing too.
        let mut gone_dirs = Vec::new();
        for scope in scopes {
            let rows: Vec<(i32, String)> = directories::table
                .filter(directories::folder_id.eq(scope.folder_id))
                .select((directories::id, directories::path))
                .load(conn)?;
            gone_dirs.extend(rows.into_iter().filter_map(|(id, path)| {
                (in_scope(&path, &scope.rel_path)
                    && !seen_dirs.contains(&id)
                    && !state.inserted_dirs.contains(&id))
                .then_some(id)
            }));
        }
        let mut missing = missing;
        for chunk in gone_dirs.chunks(ID_CHUNK) {
            let ids: Vec<i32> = tracks::table
                .filter(tracks::directory_id.eq_any(chunk))
                .select(tracks::id)
                .load(conn)?;
            missing.extend(ids);
        }
        missing.sort_unstable();
        missing.dedup();
        let missing_set: HashSet<i32> = missing.iter().copied().collect();

        for chunk in missing.chunks(state.batch_size) {
            conn.immediate_transaction(|conn| {
                for &old_id in chunk {
                    state.resolve_missing(conn, old_id, &missing_set)?;
                }
                state.settle(conn)
            })?;
        }
        conn.immediate_transaction(|conn| {
            for chunk in gone_dirs.chunks(ID_CHUNK) {
                diesel::delete(directories::table.filter(directories::id.eq_any(chunk)))
                    .execute(conn)?;
            }
            for scope in scopes {
                let stale: Vec<(i32, String)> = scan_errors::table
                    .filter(scan_errors::folder_id.eq(scope.folder_id))
                    .filter(scan_errors::seen_at.lt(scan_started_ms))
                    .select((scan_errors::id, scan_errors::path))
                    .load(conn)?;
                let stale: Vec<i32> = stale
                    .into_iter()
                    .filter(|(_, p)| in_scope(p, &scope.rel_path))
                    .map(|(id, _)| id)
                    .collect();
                for chunk in stale.chunks(ID_CHUNK) {
                    diesel::delete(scan_errors::table.filter(scan_errors::id.eq_any(chunk)))
                        .execute(conn)?;
                }
            }
            diesel::sql_query(
                "DELETE FROM genres WHERE NOT EXISTS (SELECT 1 FROM track_genres WHERE genre_id = genres.id) \
                 AND NOT EXISTS (SELECT 1 FROM album_genres WHERE genre_id = genres.id)",
            )
            .execute(conn)?;
            crate::library::cache::catalog_changed(conn)
        })?;
        state.genre_ids.clear();
        Ok(())
    }

    /// Gives the connection back (for the final counts).
    pub fn into_connection(self) -> SqliteConnection {
        self.conn
    }
}

/// Whether `path` (relative to a music folder) lies in the sub-tree `scope` ("" = all).
pub fn in_scope(path: &str, scope: &str) -> bool {
    scope.is_empty()
        || path == scope
        || (path.len() > scope.len()
            && path.starts_with(scope)
            && path.as_bytes()[scope.len()] == b'/')
}

/// The signature that recognises a file after a move or rename: the MusicBrainz recording and
/// release when tagged, else the audio size plus duration plus the main tags.
/// Stored as a 64-bit FNV-1a hash: an integer index is far cheaper to maintain than a text one,
/// and a collision at worst folds a vanished file into an identical-looking new one.
pub fn fingerprint(meta: &TrackMeta, size: i64) -> i64 {
    let text = match &meta.tags.mb_recording_id {
        Some(recording) => format!(
            "mb:{}:{}",
            recording.to_lowercase(),
            meta.tags
                .mb_release_id
                .as_deref()
                .unwrap_or("")
                .to_lowercase()
        ),
        None => format!(
            "f:{size}:{}:{}:{}:{}:{}:{}",
            meta.audio.duration_ms,
            meta.tags.title,
            meta.tags.artist_display,
            meta.tags.album_name,
            meta.tags.track_number.unwrap_or(0),
            meta.tags.disc_number.unwrap_or(0)
        ),
    };
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    hash as i64
}

type QResult<T> = Result<T, diesel::result::Error>;

impl WriterState {
    fn clear_caches(&mut self) {
        self.dir_ids.clear();
        self.album_ids.clear();
        self.artist_ids.clear();
        self.genre_ids.clear();
    }

    fn apply(&mut self, conn: &mut SqliteConnection, msg: &WriterMsg) -> QResult<()> {
        match msg {
            WriterMsg::Dir(dir) => self.upsert_dir(conn, dir),
            WriterMsg::Track(track) => match &track.outcome {
                Ok(meta) => self.write_track(conn, track, meta),
                Err(reason) => record_problem(
                    conn,
                    track.folder_id,
                    &track.rel_path,
                    track.size,
                    track.mtime_ms,
                    reason,
                ),
            },
            WriterMsg::Problem {
                folder_id,
                rel_path,
                size,
                mtime_ms,
                reason,
            } => record_problem(conn, *folder_id, rel_path, *size, *mtime_ms, reason),
        }
    }

    fn upsert_dir(&mut self, conn: &mut SqliteConnection, dir: &DirUpsert) -> QResult<()> {
        let now = now_ms();
        let parent_id = match dir.rel_path.rsplit_once('/') {
            _ if dir.rel_path.is_empty() => None,
            Some((parent, _)) => self.dir_id(conn, dir.folder_id, parent)?,
            None => self.dir_id(conn, dir.folder_id, "")?,
        };
        let existing = match dir.known_id {
            Some(id) => Some(id),
            None => self.dir_id(conn, dir.folder_id, &dir.rel_path)?,
        };
        let id = match existing {
            Some(id) => {
                diesel::update(directories::table.find(id))
                    .set((
                        directories::parent_id.eq(parent_id),
                        directories::name.eq(&dir.name),
                        directories::mtime.eq(dir.mtime_ms),
                        directories::cover_art.eq(&dir.cover_art),
                        directories::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                // A changed folder image may change its albums' covers.
                let album_ids: Vec<i32> = tracks::table
                    .filter(tracks::directory_id.eq(id))
                    .select(tracks::album_id)
                    .distinct()
                    .load(conn)?;
                self.touched_albums.extend(album_ids);
                id
            }
            None => {
                let id = diesel::insert_into(directories::table)
                    .values((
                        directories::folder_id.eq(dir.folder_id),
                        directories::parent_id.eq(parent_id),
                        directories::path.eq(&dir.rel_path),
                        directories::name.eq(&dir.name),
                        directories::mtime.eq(dir.mtime_ms),
                        directories::cover_art.eq(&dir.cover_art),
                        directories::created_at.eq(now),
                        directories::updated_at.eq(now),
                    ))
                    .returning(directories::id)
                    .get_result(conn)?;
                self.inserted_dirs.insert(id);
                id
            }
        };
        self.dir_ids
            .insert((dir.folder_id, dir.rel_path.clone()), id);
        Ok(())
    }

    fn dir_id(
        &mut self,
        conn: &mut SqliteConnection,
        folder_id: i32,
        rel_path: &str,
    ) -> QResult<Option<i32>> {
        if let Some(id) = self.dir_ids.get(&(folder_id, rel_path.to_string())) {
            return Ok(Some(*id));
        }
        let id: Option<i32> = directories::table
            .filter(directories::folder_id.eq(folder_id))
            .filter(directories::path.eq(rel_path))
            .select(directories::id)
            .get_result(conn)
            .optional()?;
        if let Some(id) = id {
            self.dir_ids.insert((folder_id, rel_path.to_string()), id);
        }
        Ok(id)
    }

    fn write_track(
        &mut self,
        conn: &mut SqliteConnection,
        track: &TrackResult,
        meta: &TrackMeta,
    ) -> QResult<()> {
        let Some(directory_id) = self.dir_id(conn, track.folder_id, &track.dir_rel_path)? else {
            // The walker always sends a folder before its files; this cannot happen unless the
            // catalog was changed under us. Record it rather than fail the batch.
            return record_problem(
                conn,
                track.folder_id,
                &track.rel_path,
                track.size,
                track.mtime_ms,
                "its folder is not in the catalog; will retry on the next scan",
            );
        };
        let key = grouping::album_key(meta, track.folder_id, &track.dir_rel_path);
        let album_id = self.album_id(conn, &key, meta)?;
        let file = FileFacts {
            path: track.rel_path.clone(),
            size: track.size,
            mtime: track.mtime_ms,
            fingerprint: fingerprint(meta, track.size),
        };
        let data = TrackData {
            folder_id: track.folder_id,
            directory_id,
            album_id,
            file: &file,
            audio: &meta.audio,
            tags: &meta.tags,
            attachments: &meta.attachments,
            updated_at: now_ms(),
        };

        // The walker knows whether the path is in the catalog; a new path is inserted directly
        // (no lookup first), and only a lost race with another writer falls back to an update.
        let inserted = match track.existing_id {
            Some(_) => None,
            None => match super::prepared::insert_track(conn, &data) {
                Ok(id) => Some(id),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => None,
                Err(e) => return Err(e),
            },
        };
        let track_id = match inserted {
            Some(id) => {
                self.stats.added += 1;
                id
            }
            None => {
                let id = match track.existing_id {
                    Some(id) => id,
                    None => tracks::table
                        .filter(tracks::folder_id.eq(track.folder_id))
                        .filter(tracks::path.eq(&track.rel_path))
                        .select(tracks::id)
                        .get_result(conn)?,
                };
                self.forget_links(conn, id)?;
                diesel::update(tracks::table.find(id))
                    .set(data.columns())
                    .execute(conn)?;
                self.stats.updated += 1;
                id
            }
        };
        self.link_track(conn, track_id, meta)?;
        self.search_dirty.tracks.insert(track_id);
        self.touched_albums.insert(album_id);
        if track.had_error {
            diesel::delete(
                scan_errors::table
                    .filter(scan_errors::folder_id.eq(track.folder_id))
                    .filter(scan_errors::path.eq(&track.rel_path)),
            )
            .execute(conn)?;
        }
        Ok(())
    }

    /// Removes a track's artist and genre links, remembering what they pointed at.
    fn forget_links(&mut self, conn: &mut SqliteConnection, track_id: i32) -> QResult<()> {
        let old_album: i32 = tracks::table
            .find(track_id)
            .select(tracks::album_id)
            .get_result(conn)?;
        self.touched_albums.insert(old_album);
        let old_artists: Vec<i32> = track_artists::table
            .filter(track_artists::track_id.eq(track_id))
            .select(track_artists::artist_id)
            .load(conn)?;
        if let Some(bulk) = &mut self.bulk {
            for id in &old_artists {
                bulk.linked_artists.remove(id);
            }
        }
        self.touched_artists.extend(old_artists);
        diesel::delete(track_artists::table.filter(track_artists::track_id.eq(track_id)))
            .execute(conn)?;
        diesel::delete(track_genres::table.filter(track_genres::track_id.eq(track_id)))
            .execute(conn)?;
        Ok(())
    }

    fn link_track(
        &mut self,
        conn: &mut SqliteConnection,
        track_id: i32,
        meta: &TrackMeta,
    ) -> QResult<()> {
        // (role, names, sort name, MusicBrainz id)
        type Credit<'m> = (&'static str, &'m [String], Option<&'m str>, Option<&'m str>);
        let roles: [Credit; 3] = [
            (
                "artist",
                &meta.artists,
                meta.artist_sort.as_deref(),
                meta.tags.mb_artist_id.as_deref(),
            ),
            (
                "albumartist",
                &meta.album_artists,
                meta.album_artist_sort.as_deref(),
                meta.tags.mb_album_artist_id.as_deref(),
            ),
            ("composer", &meta.composers, None, None),
        ];
        for (role, names, sort, mbid) in roles {
            let single = names.len() == 1;
            let mut seen = HashSet::new();
            for (position, name) in names.iter().enumerate() {
                // Sort names and MBIDs in a tag describe the credit as a whole: only trust
                // them for a single-artist credit.
                let artist_id =
                    self.artist_id(conn, name, sort.filter(|_| single), mbid.filter(|_| single))?;
                if !seen.insert(artist_id) {
                    continue;
                }
                super::prepared::insert_track_artist(
                    conn,
                    track_id,
                    artist_id,
                    role,
                    position as i32,
                )?;
                self.touched_artists.insert(artist_id);
                if let Some(bulk) = &mut self.bulk {
                    bulk.linked_artists.insert(artist_id);
                }
            }
        }
        let mut seen = HashSet::new();
        for (position, name) in meta.genres.iter().enumerate() {
            let genre_id = self.genre_id(conn, name)?;
            if !seen.insert(genre_id) {
                continue;
            }
            super::prepared::insert_track_genre(conn, track_id, genre_id, position as i32)?;
        }
        Ok(())
    }

    fn artist_id(
        &mut self,
        conn: &mut SqliteConnection,
        name: &str,
        sort_name: Option<&str>,
        mbid: Option<&str>,
    ) -> QResult<i32> {
        let key = grouping::normalize(name);
        if let Some(id) = self.artist_ids.get(&key) {
            return Ok(*id);
        }
        let found: Option<(i32, Option<String>, Option<String>)> = artists::table
            .filter(artists::name_key.eq(&key))
            .select((artists::id, artists::sort_name, artists::mbid))
            .get_result(conn)
            .optional()?;
        let id = match found {
            Some((id, old_sort, old_mbid)) => {
                if (old_sort.is_none() && sort_name.is_some())
                    || (old_mbid.is_none() && mbid.is_some())
                {
                    diesel::update(artists::table.find(id))
                        .set((
                            artists::sort_name.eq(old_sort.as_deref().or(sort_name)),
                            artists::mbid.eq(old_mbid.as_deref().or(mbid)),
                        ))
                        .execute(conn)?;
                }
                id
            }
            None => {
                let id = diesel::insert_into(artists::table)
                    .values((
                        artists::name.eq(name),
                        artists::name_key.eq(&key),
                        artists::sort_name.eq(sort_name),
                        artists::mbid.eq(mbid),
                        artists::created_at.eq(now_ms()),
                    ))
                    .returning(artists::id)
                    .get_result(conn)?;
                self.search_dirty.artists.insert(id);
                id
            }
        };
        self.artist_ids.insert(key, id);
        Ok(id)
    }

    fn genre_id(&mut self, conn: &mut SqliteConnection, name: &str) -> QResult<i32> {
        let key = name.to_lowercase();
        if let Some(id) = self.genre_ids.get(&key) {
            return Ok(*id);
        }
        let found: Option<i32> = genres::table
            .filter(genres::name.eq(name))
            .select(genres::id)
            .get_result(conn)
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => diesel::insert_into(genres::table)
                .values(genres::name.eq(name))
                .returning(genres::id)
                .get_result(conn)?,
        };
        self.genre_ids.insert(key, id);
        Ok(id)
    }

    fn album_id(
        &mut self,
        conn: &mut SqliteConnection,
        key: &str,
        meta: &TrackMeta,
    ) -> QResult<i32> {
        if let Some(id) = self.album_ids.get(key) {
            return Ok(*id);
        }
        let found: Option<i32> = albums::table
            .filter(albums::album_key.eq(key))
            .select(albums::id)
            .get_result(conn)
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                let now = now_ms();
                diesel::insert_into(albums::table)
                    .values((
                        albums::album_key.eq(key),
                        albums::name.eq(&meta.tags.album_name),
                        albums::sort_name.eq(&meta.sort_album),
                        albums::artist_display.eq(meta
                            .tags
                            .album_artist_display
                            .as_deref()
                            .unwrap_or(&meta.tags.artist_display)),
                        albums::created_at.eq(now),
                        albums::updated_at.eq(now),
                    ))
                    .returning(albums::id)
                    .get_result(conn)?
            }
        };
        if meta.sort_album.is_some() {
            diesel::update(albums::table.find(id))
                .set(albums::sort_name.eq(&meta.sort_album))
                .execute(conn)?;
        }
        self.album_ids.insert(key.to_string(), id);
        Ok(id)
    }

    /// A vanished track: folded into the file it was moved to when one matches, else removed.
    fn resolve_missing(
        &mut self,
        conn: &mut SqliteConnection,
        old_id: i32,
        missing: &HashSet<i32>,
    ) -> QResult<()> {
        let Some(fp) = tracks::table
            .find(old_id)
            .select(tracks::fingerprint)
            .get_result::<i64>(conn)
            .optional()?
        else {
            return Ok(());
        };
        // A newer row with the same signature that is not itself missing is the moved file.
        let candidates: Vec<i32> = tracks::table
            .filter(tracks::fingerprint.eq(fp))
            .filter(tracks::id.gt(old_id))
            .select(tracks::id)
            .order(tracks::id)
            .load(conn)?;
        self.forget_links(conn, old_id)?;
        match candidates.into_iter().find(|id| !missing.contains(id)) {
            Some(new_id) => {
                // Keep the old id (stars, play counts, playlists point at it): take over the new
                // row's links and data, then drop the new row.
                let new_row: Track = tracks::table
                    .find(new_id)
                    .select(Track::as_select())
                    .get_result(conn)?;
                diesel::update(track_artists::table.filter(track_artists::track_id.eq(new_id)))
                    .set(track_artists::track_id.eq(old_id))
                    .execute(conn)?;
                diesel::update(track_genres::table.filter(track_genres::track_id.eq(new_id)))
                    .set(track_genres::track_id.eq(old_id))
                    .execute(conn)?;
                redirect_references(conn, new_id, old_id)?;
                diesel::delete(tracks::table.find(new_id)).execute(conn)?;
                diesel::update(tracks::table.find(old_id))
                    .set(TrackData::from_row(&new_row).columns())
                    .execute(conn)?;
                self.search_dirty.tracks.insert(old_id);
                self.search_gone.tracks.push(new_id);
                self.touched_albums.insert(new_row.album_id);
                self.stats.moved += 1;
                // The new file was counted as added when it was inserted.
                self.stats.added = self.stats.added.saturating_sub(1);
            }
            None => {
                diesel::delete(tracks::table.find(old_id)).execute(conn)?;
                self.search_gone.tracks.push(old_id);
                self.stats.removed += 1;
            }
        }
        Ok(())
    }

    /// Brings the albums and artists the batch touched back in line with their tracks.
    fn settle(&mut self, conn: &mut SqliteConnection) -> QResult<()> {
        let touched: Vec<i32> = self.touched_albums.iter().copied().collect();
        for chunk in touched.chunks(ID_CHUNK) {
            self.join_untagged_siblings(conn, chunk)?;
        }
        let albums: Vec<i32> = self.touched_albums.drain().collect();
        for chunk in albums.chunks(ID_CHUNK) {
            self.refresh_albums(conn, chunk)?;
            sync_album_folders(conn, chunk)?;
        }
        // During a bulk load an artist linked to a track in it is no orphan (see BulkState).
        let artists: Vec<i32> = self
            .touched_artists
            .drain()
            .filter(|id| {
                self.bulk
                    .as_ref()
                    .is_none_or(|b| !b.linked_artists.contains(id))
            })
            .collect();
        for chunk in artists.chunks(ID_CHUNK) {
            // Album credits first: a bulk load has no index on track_artists' artist yet.
            let orphans: Vec<i32> = diesel::sql_query(format!(
                "SELECT id FROM artists WHERE id IN ({}) \
                 AND NOT EXISTS (SELECT 1 FROM album_artists WHERE artist_id = artists.id) \
                 AND NOT EXISTS (SELECT 1 FROM track_artists WHERE artist_id = artists.id)",
                id_list(chunk)
            ))
            .load::<IdRow>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect();
            if !orphans.is_empty() {
                diesel::delete(artists::table.filter(artists::id.eq_any(&orphans)))
                    .execute(conn)?;
                self.search_gone.artists.extend(orphans);
                self.artist_ids.clear();
            }
        }
        self.sync_search(conn)?;
        // Answers cached from the catalog are built again after this commit.
        crate::library::cache::catalog_changed(conn)
    }

    /// Brings the full-text indexes in line with what this batch changed: one delete and one
    /// insert-select per index; nothing during a bulk load (they are filled at its end).
    fn sync_search(&mut self, conn: &mut SqliteConnection) -> QResult<()> {
        let dirty = std::mem::take(&mut self.search_dirty);
        let gone = std::mem::take(&mut self.search_gone);
        // Annotations (stars, ratings, plays) of rows that are gone go with them.
        for (item_type, gone) in [
            ("track", &gone.tracks),
            ("album", &gone.albums),
            ("artist", &gone.artists),
        ] {
            for chunk in gone.chunks(ID_CHUNK) {
                diesel::sql_query(format!(
                    "DELETE FROM annotations WHERE item_type = '{item_type}' AND item_id IN ({})",
                    id_list(chunk)
                ))
                .execute(conn)?;
            }
        }
        if self.bulk.is_some() {
            return Ok(());
        }
        let [tracks_fts, albums_fts, artists_fts] = crate::db::deferred::SEARCH_INDEXES;
        let indexes = [
            (tracks_fts, dirty.tracks, gone.tracks),
            (albums_fts, dirty.albums, gone.albums),
            (artists_fts, dirty.artists, gone.artists),
        ];
        for ((table, target, source), dirty, gone) in indexes {
            let dirty: Vec<i32> = dirty.into_iter().collect();
            for chunk in dirty.chunks(ID_CHUNK).chain(gone.chunks(ID_CHUNK)) {
                diesel::sql_query(format!(
                    "DELETE FROM {table} WHERE rowid IN ({})",
                    id_list(chunk)
                ))
                .execute(conn)?;
            }
            for chunk in dirty.chunks(ID_CHUNK) {
                diesel::sql_query(format!(
                    "INSERT INTO {target} {source} WHERE id IN ({})",
                    id_list(chunk)
                ))
                .execute(conn)?;
            }
        }
        Ok(())
    }

    /// Stores what `untagged_sibling_joins` decides for the directories of `album_ids`'
    /// tracks: untagged tracks move to the tagged album of their name.
    fn join_untagged_siblings(
        &mut self,
        conn: &mut SqliteConnection,
        album_ids: &[i32],
    ) -> QResult<()> {
        let dir_ids: Vec<i32> = tracks::table
            .filter(tracks::album_id.eq_any(album_ids))
            .select(tracks::directory_id)
            .distinct()
            .load(conn)?;
        if dir_ids.is_empty() {
            return Ok(());
        }
        let dir_ids = with_album_folder_siblings(conn, &dir_ids)?;
        let rows: Vec<(i32, String, String, i32, i32, String)> = tracks::table
            .inner_join(directories::table)
            .inner_join(albums::table.on(albums::id.eq(tracks::album_id)))
            .filter(tracks::directory_id.eq_any(&dir_ids))
            .select((
                tracks::album_id,
                tracks::album_name,
                albums::album_key,
                tracks::directory_id,
                directories::folder_id,
                directories::path,
            ))
            .distinct()
            .load(conn)?;
        if rows.len() < 2 {
            return Ok(());
        }
        let rows: Vec<AlbumInDirectory> = rows
            .into_iter()
            .map(
                |(album_id, album_name, album_key, directory_id, folder_id, directory_path)| {
                    AlbumInDirectory {
                        album_id,
                        album_name,
                        album_key,
                        directory_id,
                        folder_id,
                        directory_path,
                    }
                },
            )
            .collect();
        for SiblingJoin { into, from, dirs } in untagged_sibling_joins(&rows) {
            diesel::update(
                tracks::table
                    .filter(tracks::album_id.eq_any(&from))
                    .filter(tracks::directory_id.eq_any(&dirs)),
            )
            .set(tracks::album_id.eq(into))
            .execute(conn)?;
            self.touched_albums.insert(into);
            self.touched_albums.extend(from);
        }
        Ok(())
    }

    /// Recomputes the albums `album_ids` from their tracks ([`album_facts`]) and stores the
    /// result; albums left without tracks go. A fixed number of queries per chunk, not per album.
    fn refresh_albums(&mut self, conn: &mut SqliteConnection, album_ids: &[i32]) -> QResult<()> {
        let rows: Vec<AlbumTrackRow> = tracks::table
            .filter(tracks::album_id.eq_any(album_ids))
            .order((
                tracks::album_id,
                tracks::disc_number,
                tracks::track_number,
                tracks::path,
            ))
            .select(AlbumTrackRow::as_select())
            .load(conn)?;

        // Albums with no tracks left go; their artist links go with them (cascade).
        let live_set: HashSet<i32> = rows.iter().map(|r| r.album_id).collect();
        let empty: Vec<i32> = album_ids
            .iter()
            .copied()
            .filter(|id| !live_set.contains(id))
            .collect();
        if !empty.is_empty() {
            let old_artists: Vec<i32> = album_artists::table
                .filter(album_artists::album_id.eq_any(&empty))
                .select(album_artists::artist_id)
                .load(conn)?;
            self.touched_artists.extend(old_artists);
            diesel::delete(albums::table.filter(albums::id.eq_any(&empty))).execute(conn)?;
            self.search_gone.albums.extend(&empty);
            self.album_ids.clear();
        }
        if rows.is_empty() {
            return Ok(());
        }
        let live: Vec<i32> = live_set.into_iter().collect();
        self.search_dirty.albums.extend(&live);
        let folders = self.folder_images(conn, &rows)?;

        // Each track with its artist and genre links, in album order.
        let mut tracks_of: Vec<AlbumTrack> = rows
            .into_iter()
            .map(|row| AlbumTrack {
                row,
                ..AlbumTrack::default()
            })
            .collect();
        let index: HashMap<i32, usize> = tracks_of
            .iter()
            .enumerate()
            .map(|(i, t)| (t.row.id, i))
            .collect();
        let links: Vec<(i32, String, i32)> = track_artists::table
            .inner_join(tracks::table)
            .filter(tracks::album_id.eq_any(&live))
            .filter(track_artists::role.eq_any(["artist", "albumartist"]))
            .order((track_artists::track_id, track_artists::position))
            .select((
                track_artists::track_id,
                track_artists::role,
                track_artists::artist_id,
            ))
            .load(conn)?;
        for (track_id, role, artist_id) in links {
            if let Some(t) = index.get(&track_id).map(|&i| &mut tracks_of[i]) {
                match role.as_str() {
                    "albumartist" => t.album_artist_ids.push(artist_id),
                    _ => t.artist_ids.push(artist_id),
                }
            }
        }
        let genre_links: Vec<(i32, i32)> = track_genres::table
            .inner_join(tracks::table)
            .filter(tracks::album_id.eq_any(&live))
            .order((track_genres::track_id, track_genres::position))
            .select((track_genres::track_id, track_genres::genre_id))
            .load(conn)?;
        for (track_id, genre_id) in genre_links {
            if let Some(&i) = index.get(&track_id) {
                tracks_of[i].genre_ids.push(genre_id);
            }
        }

        let old_album_artists: Vec<i32> = album_artists::table
            .filter(album_artists::album_id.eq_any(&live))
            .select(album_artists::artist_id)
            .load(conn)?;
        self.touched_artists.extend(old_album_artists);
        diesel::delete(album_artists::table.filter(album_artists::album_id.eq_any(&live)))
            .execute(conn)?;
        diesel::delete(album_genres::table.filter(album_genres::album_id.eq_any(&live)))
            .execute(conn)?;

        let now = now_ms();
        let mut genre_rows = Vec::new();
        let mut updates = Vec::new();
        for album in tracks_of.chunk_by(|a, b| a.row.album_id == b.row.album_id) {
            let album_id = album[0].row.album_id;
            let facts = album_facts(album, &folders, &self.cover_rules);
            let artist_ids = match &facts.artists {
                AlbumArtists::Credited(ids) => ids.clone(),
                AlbumArtists::Various => vec![self.artist_id(conn, VARIOUS_ARTISTS, None, None)?],
            };
            for (position, artist_id) in artist_ids.iter().enumerate() {
                diesel::insert_into(album_artists::table)
                    .values((
                        album_artists::album_id.eq(album_id),
                        album_artists::artist_id.eq(artist_id),
                        album_artists::role.eq("albumartist"),
                        album_artists::position.eq(position as i32),
                    ))
                    .execute(conn)?;
            }
            genre_rows.extend(facts.genre_ids.iter().map(|&genre_id| {
                (
                    album_genres::album_id.eq(album_id),
                    album_genres::genre_id.eq(genre_id),
                )
            }));
            updates.push((album_id, facts));
        }
        update_albums(conn, &updates, now)?;
        for chunk in genre_rows.chunks(ID_CHUNK) {
            diesel::insert_into(album_genres::table)
                .values(chunk)
                .execute(conn)?;
        }
        Ok(())
    }

    /// The folder images of the tracks' directories (and of the album folder above a disc
    /// folder), in two queries.
    fn folder_images(
        &self,
        conn: &mut SqliteConnection,
        rows: &[AlbumTrackRow],
    ) -> QResult<HashMap<i32, FolderImages>> {
        let dir_ids: HashSet<i32> = rows.iter().map(|r| r.directory_id).collect();
        let dirs: Vec<(i32, Option<i32>, String, Option<String>)> = directories::table
            .filter(directories::id.eq_any(dir_ids.into_iter().collect::<Vec<_>>()))
            .select((
                directories::id,
                directories::parent_id,
                directories::name,
                directories::cover_art,
            ))
            .load(conn)?;
        let parent_ids: Vec<i32> = dirs
            .iter()
            .filter(|(_, _, name, _)| is_disc_folder_name(name))
            .filter_map(|(_, parent, _, _)| *parent)
            .collect();
        let parent_images: HashMap<i32, String> = directories::table
            .filter(directories::id.eq_any(&parent_ids))
            .filter(directories::cover_art.is_not_null())
            .select((directories::id, directories::cover_art.assume_not_null()))
            .load::<(i32, String)>(conn)?
            .into_iter()
            .collect();
        Ok(dirs
            .into_iter()
            .map(|(id, parent, name, image)| {
                let disc_parent = parent
                    .filter(|_| is_disc_folder_name(&name))
                    .and_then(|p| Some((p, parent_images.get(&p)?.clone())));
                (id, FolderImages { image, disc_parent })
            })
            .collect())
    }
}

/// Albums per `UPDATE` statement in `update_albums` (17 parameters each).
const ALBUM_UPDATE_CHUNK: usize = 200;

/// Stores the recomputed albums, one statement for many albums: Diesel prepares every
/// `UPDATE` anew (it caches no update statement), and preparing one per album cost about as
/// much as the update itself.
fn update_albums(
    conn: &mut SqliteConnection,
    albums: &[(i32, super::album_rules::AlbumFacts)],
    now: i64,
) -> QResult<()> {
    use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
    for chunk in albums.chunks(ALBUM_UPDATE_CHUNK) {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()];
        let sql = format!(
            "UPDATE albums SET name = v.column2, artist_display = v.column3, year = v.column4, \
             original_date = v.column5, release_date = v.column6, mbid = v.column7, \
             release_group_mbid = v.column8, compilation = v.column9, release_type = v.column10, \
             cover_directory_id = v.column11, cover_track_id = v.column12, \
             song_count = v.column13, disc_count = v.column14, duration_ms = v.column15, \
             size = v.column16, updated_at = v.column17 \
             FROM (VALUES {}) AS v WHERE albums.id = v.column1",
            values.join(", ")
        );
        let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
        for (id, facts) in chunk {
            query = query
                .bind::<Integer, _>(*id)
                .bind::<Text, _>(&facts.name)
                .bind::<Text, _>(&facts.artist_display)
                .bind::<Nullable<Integer>, _>(facts.year)
                .bind::<Nullable<Text>, _>(&facts.original_date)
                .bind::<Nullable<Text>, _>(&facts.release_date)
                .bind::<Nullable<Text>, _>(&facts.mbid)
                .bind::<Nullable<Text>, _>(&facts.release_group_mbid)
                .bind::<Bool, _>(facts.compilation)
                .bind::<Nullable<Text>, _>(&facts.release_type)
                .bind::<Nullable<Integer>, _>(facts.cover.directory_id)
                .bind::<Nullable<Integer>, _>(facts.cover.track_id)
                .bind::<Integer, _>(facts.song_count)
                .bind::<Integer, _>(facts.disc_count)
                .bind::<BigInt, _>(facts.duration_ms)
                .bind::<BigInt, _>(facts.size)
                .bind::<BigInt, _>(now);
        }
        query.execute(conn)?;
    }
    Ok(())
}

/// Records again which music folders hold the tracks of `album_ids` (the folder filters of
/// restricted users read `album_folders`); albums that went away lose their rows by cascade.
fn sync_album_folders(conn: &mut SqliteConnection, album_ids: &[i32]) -> QResult<()> {
    diesel::delete(album_folders::table.filter(album_folders::album_id.eq_any(album_ids)))
        .execute(conn)?;
    diesel::insert_into(album_folders::table)
        .values(
            tracks::table
                .filter(tracks::album_id.eq_any(album_ids))
                .select((tracks::album_id, tracks::folder_id))
                .distinct(),
        )
        .into_columns((album_folders::album_id, album_folders::folder_id))
        .execute(conn)?;
    Ok(())
}

/// Points what users made of a track row (playlist, queue and share entries, bookmarks,
/// stars and plays) at another row. A move seen in two scans briefly has two rows, and the
/// newer one may have been put in a playlist meanwhile; its entries must follow the fold.
/// Where the user already has a bookmark or annotation on the kept row, that one stays.
fn redirect_references(conn: &mut SqliteConnection, from: i32, to: i32) -> QResult<()> {
    for sql in [
        "UPDATE playlist_tracks SET track_id = ?2 WHERE track_id = ?1",
        "UPDATE play_queue_tracks SET track_id = ?2 WHERE track_id = ?1",
        "UPDATE share_tracks SET track_id = ?2 WHERE track_id = ?1",
        "UPDATE OR IGNORE bookmarks SET track_id = ?2 WHERE track_id = ?1",
        "UPDATE OR IGNORE annotations SET item_id = ?2 WHERE item_type = 'track' AND item_id = ?1",
    ] {
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::Integer, _>(from)
            .bind::<diesel::sql_types::Integer, _>(to)
            .execute(conn)?;
    }
    // Annotations have no foreign key: the ones left behind go by hand (the rest cascade).
    diesel::sql_query("DELETE FROM annotations WHERE item_type = 'track' AND item_id = ?")
        .bind::<diesel::sql_types::Integer, _>(from)
        .execute(conn)?;
    Ok(())
}

fn record_problem(
    conn: &mut SqliteConnection,
    folder_id: i32,
    rel_path: &str,
    size: i64,
    mtime_ms: i64,
    reason: &str,
) -> QResult<()> {
    diesel::insert_into(scan_errors::table)
        .values((
            scan_errors::folder_id.eq(folder_id),
            scan_errors::path.eq(rel_path),
            scan_errors::size.eq(size),
            scan_errors::mtime.eq(mtime_ms),
            scan_errors::reason.eq(reason),
            scan_errors::seen_at.eq(now_ms()),
        ))
        .on_conflict((scan_errors::folder_id, scan_errors::path))
        .do_update()
        .set((
            scan_errors::size.eq(size),
            scan_errors::mtime.eq(mtime_ms),
            scan_errors::reason.eq(reason),
            scan_errors::seen_at.eq(now_ms()),
        ))
        .execute(conn)?;
    Ok(())
}

/// `dir_ids` plus the other directories of the album folders they lie in (the album folder
/// and its disc folders): the sibling rule must see a tagged "Disc 1" that an earlier batch or
/// scan wrote when an untagged "Disc 2" comes in this one, or the two stay apart depending on
/// where batches happen to end.
fn with_album_folder_siblings(conn: &mut SqliteConnection, dir_ids: &[i32]) -> QResult<Vec<i32>> {
    let dirs: Vec<(i32, String, Option<i32>)> = directories::table
        .filter(directories::id.eq_any(dir_ids))
        .select((directories::id, directories::path, directories::parent_id))
        .load(conn)?;
    // The album folders: a disc folder's parent, any other directory itself; never a music
    // folder's root (its children are every top-level folder, not the discs of one album).
    let album_folders: BTreeSet<i32> = dirs
        .iter()
        .filter_map(
            |(id, path, parent)| match crate::names::album_folder(path) {
                "" => None,
                folder if folder == path.as_str() => Some(*id),
                _ => *parent,
            },
        )
        .collect();
    let mut all: BTreeSet<i32> = dir_ids.iter().copied().collect();
    all.extend(&album_folders);
    let folders: Vec<i32> = album_folders.into_iter().collect();
    for chunk in folders.chunks(ID_CHUNK) {
        let children: Vec<i32> = directories::table
            .filter(directories::parent_id.eq_any(chunk))
            .select(directories::id)
            .load(conn)?;
        all.extend(children);
    }
    Ok(all.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_matching_respects_path_boundaries() {
        assert!(in_scope("a/b", ""));
        assert!(in_scope("a/b", "a"));
        assert!(in_scope("a", "a"));
        assert!(!in_scope("ab/c", "a"));
        assert!(!in_scope("b", "a"));
    }

    #[test]
    fn album_folder_skips_disc_folders() {
        assert_eq!(grouping::album_folder("A/B/CD 1"), "A/B");
        assert_eq!(grouping::album_folder("A/B"), "A/B");
    }
}
