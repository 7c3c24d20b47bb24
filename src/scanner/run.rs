//! One scan from start to end: walk, compare with the catalog, read what changed in parallel,
//! write through the one writer, then resolve moves and removals, then sync the M3U playlists
//! found in the music folders (`m3u`).

use super::m3u::{self, PlaylistFile};
use super::tags::{self, TagOptions};
use super::walk::{self, DirListing, IgnoreRules};
use super::writer::{DirUpsert, Scope, TrackResult, WriteStats, Writer, WriterMsg, in_scope};
use crate::config::{Config, MusicFolder};
use crate::db::schema::{
    albums, artists, directories, library_folders, scan_errors, scans, tracks,
};
use crate::db::{self, DbError, now_ms};
use diesel::prelude::*;
use globset::GlobBuilder;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// What a scan should cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// Re-read every file's tags, not only new and changed ones.
    pub full: bool,
    /// Only these directories (absolute paths, with their sub-trees); None = every folder.
    pub paths: Option<Vec<PathBuf>>,
}

impl ScanOptions {
    /// Combines two requests into one scan that satisfies both.
    pub fn merge(self, other: ScanOptions) -> ScanOptions {
        let paths = match (self.paths, other.paths) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                a.sort();
                a.dedup();
                Some(a)
            }
            _ => None,
        };
        ScanOptions {
            full: self.full || other.full,
            paths,
        }
    }
}

/// One file the scan could not use, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ScanIssue {
    pub path: String,
    pub reason: String,
}

/// The outcome of a scan (also what `scan --json` prints).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    pub tracks: i64,
    pub albums: i64,
    pub artists: i64,
    pub added: usize,
    pub updated: usize,
    pub moved: usize,
    pub removed: usize,
    pub errors: usize,
    pub error_list: Vec<ScanIssue>,
    pub seconds: f64,
    /// True when the scan was cancelled before it finished (nothing was removed then).
    pub interrupted: bool,
}

/// Live counters of a running scan, readable from other threads.
#[derive(Debug, Default)]
pub struct ScanProgress {
    pub files_seen: AtomicUsize,
    pub files_read: AtomicUsize,
    pub errors: AtomicUsize,
}

/// Why a scan could not run at all (problems with single files are not errors).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("scan thread failed: {0}")]
    Thread(String),
}

impl From<diesel::result::Error> for ScanError {
    fn from(e: diesel::result::Error) -> Self {
        ScanError::Db(DbError::Query(e))
    }
}

/// Most problems listed in one report; the count still covers them all.
const MAX_LISTED_ERRORS: usize = 10_000;

struct ErrorLog {
    list: Mutex<Vec<ScanIssue>>,
}

impl ErrorLog {
    fn record(&self, progress: &ScanProgress, path: &Path, reason: &str) {
        tracing::warn!(path = %path.display(), "skipped: {reason}");
        progress.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut list) = self.list.lock()
            && list.len() < MAX_LISTED_ERRORS
        {
            list.push(ScanIssue {
                path: path.display().to_string(),
                reason: reason.to_string(),
            });
        }
    }
}

/// A file to read, sent to the tag-reading workers.
struct ReadJob {
    folder_id: i32,
    abs_path: PathBuf,
    dir_rel_path: String,
    rel_path: String,
    size: i64,
    mtime_ms: i64,
    existing_id: Option<i32>,
    had_error: bool,
    sidecar: Option<PathBuf>,
}

/// Runs one scan to completion (or until `cancel` is set) and reports what changed.
/// Problems with single files are logged, recorded and counted; they never stop the scan.
///
/// `cancel` belongs to the caller (server shutdown, Ctrl-C) and is only read: a scan that
/// must stop on its own (a database error while walking) uses its own flag, so the next scan
/// runs normally.
pub fn run_scan(
    config: &Config,
    options: &ScanOptions,
    progress: &ScanProgress,
    cancel: &AtomicBool,
) -> Result<ScanReport, ScanError> {
    let abort = AtomicBool::new(false);
    let stopped = || cancel.load(Ordering::Relaxed) || abort.load(Ordering::Relaxed);
    let stopped = &stopped;
    let started = Instant::now();
    let started_ms = now_ms();
    let db_path = &config.database.path;
    let mut reader = db::connect(db_path)?;
    let folders = sync_folders(&mut reader, &config.music_folders())?;
    let scopes = resolve_scopes(&mut reader, &folders, options)?;
    // Files of unknown type older than the last finished scan's start were looked at then.
    let last_scan_started_ms: Option<i64> = scans::table
        .filter(scans::completed.eq(true))
        .select(diesel::dsl::max(scans::started_at))
        .first(&mut reader)?;
    let scan_id: i32 = diesel::insert_into(scans::table)
        .values((
            scans::kind.eq(if options.full { "full" } else { "quick" }),
            scans::started_at.eq(started_ms),
        ))
        .returning(scans::id)
        .get_result(&mut reader)?;
    let rules = IgnoreRules::new(&config.scan.ignore);
    let tag_options = TagOptions {
        artist_separators: config.scan.artist_separators.clone(),
    };
    let cover_globs: Vec<globset::GlobMatcher> = config
        .scan
        .cover_art_priority
        .iter()
        .filter(|p| *p != "embedded")
        .filter_map(|p| GlobBuilder::new(p).case_insensitive(true).build().ok())
        .map(|g| g.compile_matcher())
        .collect();
    let errors = ErrorLog {
        list: Mutex::new(Vec::new()),
    };

    let (writer_tx, writer_rx) = crossbeam_channel::bounded::<WriterMsg>(2048);
    let (job_tx, job_rx) = crossbeam_channel::bounded::<ReadJob>(512);
    let mut writer_conn = db::connect(db_path)?;
    // Fewer, larger checkpoints while the scan writes; the last one runs when it closes. The
    // writer is the one busy thread of a large full scan, and at a million tracks its indexes
    // outgrow a 32 MB page cache (page fetches and reads from the OS cache showed in its
    // profile): 96 MB keeps more of them. The cache only grows as pages are used, so small
    // catalogs do not pay for it; its gain was not measured apart from the rest.
    diesel::connection::SimpleConnection::batch_execute(
        &mut writer_conn,
        "PRAGMA wal_autocheckpoint = 8192; PRAGMA cache_size = -98304;",
    )
    .map_err(DbError::from)?;
    let mut writer = Writer::new(
        writer_conn,
        config.scan.batch_size,
        &config.scan.cover_art_priority,
    );
    let mut missing: Vec<i32> = Vec::new();
    let mut seen_dirs: HashSet<i32> = HashSet::new();
    let mut playlist_files: Vec<PlaylistFile> = Vec::new();
    let walk_result: Result<(), ScanError> = std::thread::scope(|s| {
        let writer_handle = s.spawn(|| writer.run(writer_rx));
        let mut workers = Vec::new();
        for _ in 0..config.scan_workers() {
            let job_rx = job_rx.clone();
            let writer_tx = writer_tx.clone();
            let tag_options = &tag_options;
            let errors = &errors;
            workers.push(s.spawn(move || {
                for job in job_rx.iter() {
                    if stopped() {
                        continue; // drain without reading
                    }
                    let outcome =
                        tags::read_track(&job.abs_path, job.sidecar.as_deref(), tag_options)
                            .map(|mut meta| {
                                if meta.tags.disc_number.is_none() {
                                    meta.tags.disc_number =
                                        disc_number_of_folder(&job.dir_rel_path);
                                }
                                Box::new(meta)
                            })
                            .map_err(|e| e.to_string());
                    progress.files_read.fetch_add(1, Ordering::Relaxed);
                    if let Err(reason) = &outcome {
                        errors.record(progress, &job.abs_path, reason);
                    }
                    let msg = WriterMsg::Track(TrackResult {
                        folder_id: job.folder_id,
                        dir_rel_path: job.dir_rel_path,
                        rel_path: job.rel_path,
                        size: job.size,
                        mtime_ms: job.mtime_ms,
                        existing_id: job.existing_id,
                        had_error: job.had_error,
                        outcome,
                    });
                    if writer_tx.send(msg).is_err() {
                        break; // the writer failed; its error is reported
                    }
                }
            }));
        }
        drop(job_rx);

        let mut walk_error = None;
        for scope in &scopes {
            let Some(folder) = folders.iter().find(|f| f.0 == scope.folder_id) else {
                continue;
            };
            let start = if scope.rel_path.is_empty() {
                folder.1.clone()
            } else {
                folder.1.join(&scope.rel_path)
            };
            let mut ctx = DirContext {
                reader: &mut reader,
                folder_id: scope.folder_id,
                full: options.full,
                last_scan_started_ms,
                cover_globs: &cover_globs,
                writer_tx: &writer_tx,
                job_tx: &job_tx,
                progress,
                errors: &errors,
                missing: &mut missing,
                seen_dirs: &mut seen_dirs,
                playlist_files: &mut playlist_files,
            };
            let mut on_dir = |listing: DirListing| {
                if walk_error.is_none()
                    && let Err(e) = ctx.visit(listing)
                {
                    walk_error = Some(e);
                    abort.store(true, Ordering::Relaxed);
                }
            };
            let writer_tx = &writer_tx;
            let errors = &errors;
            let folder_root = &folder.1;
            let folder_id = scope.folder_id;
            let mut on_error = |path: &Path, reason: String| {
                errors.record(progress, path, &reason);
                let _ = writer_tx.send(WriterMsg::Problem {
                    folder_id,
                    rel_path: rel_of(folder_root, path),
                    size: 0,
                    mtime_ms: 0,
                    reason,
                });
            };
            walk::walk(
                &start,
                &scope.rel_path,
                &rules,
                stopped,
                &mut on_dir,
                &mut on_error,
            );
        }
        drop(job_tx);
        for w in workers {
            w.join()
                .map_err(|_| ScanError::Thread("tag reader panicked".into()))?;
        }
        drop(writer_tx);
        writer_handle
            .join()
            .map_err(|_| ScanError::Thread("writer panicked".into()))??;
        match walk_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    });
    walk_result?;

    let interrupted = stopped();
    if !interrupted {
        writer.finish(missing, &seen_dirs, &scopes, started_ms)?;
        // After the tracks, so entries find files added (or moved) by this very scan.
        let scope_roots: Vec<(PathBuf, String)> = scopes
            .iter()
            .filter_map(|s| {
                let root = &folders.iter().find(|f| f.0 == s.folder_id)?.1;
                Some((root.clone(), s.rel_path.clone()))
            })
            .collect();
        let mut on_error = |path: &Path, reason: String| errors.record(progress, path, &reason);
        let synced = m3u::sync(
            &mut reader,
            &folders,
            &scope_roots,
            &playlist_files,
            now_ms(),
            &mut on_error,
        )
        .map_err(DbError::from)?;
        if synced != m3u::SyncStats::default() {
            tracing::info!(
                imported = synced.imported,
                updated = synced.updated,
                removed = synced.removed,
                "playlists synced"
            );
        }
    }
    let stats: WriteStats = writer.stats();
    let mut conn = writer.into_connection();
    let error_list = errors.list.into_inner().unwrap_or_default();
    let report = ScanReport {
        tracks: tracks::table.count().get_result(&mut conn)?,
        albums: albums::table.count().get_result(&mut conn)?,
        artists: artists::table.count().get_result(&mut conn)?,
        added: stats.added,
        updated: stats.updated,
        moved: stats.moved,
        removed: stats.removed,
        errors: progress.errors.load(Ordering::Relaxed),
        error_list,
        seconds: started.elapsed().as_secs_f64(),
        interrupted,
    };
    diesel::update(scans::table.find(scan_id))
        .set((
            scans::finished_at.eq(now_ms()),
            scans::completed.eq(!interrupted),
            scans::tracks.eq(report.tracks as i32),
            scans::added.eq(report.added as i32),
            scans::updated.eq(report.updated as i32),
            scans::moved.eq(report.moved as i32),
            scans::removed.eq(report.removed as i32),
            scans::errors.eq(report.errors as i32),
        ))
        .execute(&mut conn)?;
    Ok(report)
}

/// The disc number a "Disc 2" / "CD2" folder implies, for files whose tags lack one.
fn disc_number_of_folder(dir_rel_path: &str) -> Option<i32> {
    let name = dir_rel_path.rsplit('/').next()?;
    if !tags::is_disc_folder_name(name) {
        return None;
    }
    let digits: String = name
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok().filter(|n| *n > 0)
}

fn rel_of(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Everything the walker needs to compare one directory with the catalog.
struct DirContext<'a> {
    reader: &'a mut SqliteConnection,
    folder_id: i32,
    full: bool,
    /// When the last finished scan started (None: no scan finished yet).
    last_scan_started_ms: Option<i64>,
    cover_globs: &'a [globset::GlobMatcher],
    writer_tx: &'a crossbeam_channel::Sender<WriterMsg>,
    job_tx: &'a crossbeam_channel::Sender<ReadJob>,
    progress: &'a ScanProgress,
    errors: &'a ErrorLog,
    missing: &'a mut Vec<i32>,
    seen_dirs: &'a mut HashSet<i32>,
    playlist_files: &'a mut Vec<PlaylistFile>,
}

impl DirContext<'_> {
    /// Compares one directory with the catalog: unchanged files cost one stat and nothing else;
    /// new and changed files go to the readers; files no longer there are noted as missing.
    fn visit(&mut self, listing: DirListing) -> Result<(), ScanError> {
        let known: Option<(i32, i64, Option<String>)> = directories::table
            .filter(directories::folder_id.eq(self.folder_id))
            .filter(directories::path.eq(&listing.rel_path))
            .select((directories::id, directories::mtime, directories::cover_art))
            .get_result(self.reader)
            .optional()?;
        let cover_art = choose_folder_image(&listing.images, self.cover_globs);
        let known_id = known.as_ref().map(|k| k.0);
        if let Some(id) = known_id {
            self.seen_dirs.insert(id);
        }
        let changed = match &known {
            Some((_, mtime, cover)) => *mtime != listing.mtime_ms || *cover != cover_art,
            None => true,
        };
        if changed {
            self.send(WriterMsg::Dir(DirUpsert {
                folder_id: self.folder_id,
                rel_path: listing.rel_path.clone(),
                name: listing.name.clone(),
                mtime_ms: listing.mtime_ms,
                cover_art,
                known_id,
            }))?;
        }

        let mut known_tracks: HashMap<String, (i32, i64, i64)> = match known_id {
            Some(id) => tracks::table
                .filter(tracks::directory_id.eq(id))
                .select((tracks::path, tracks::id, tracks::size, tracks::mtime))
                .load::<(String, i32, i64, i64)>(self.reader)?
                .into_iter()
                .map(|(p, id, size, mtime)| (p, (id, size, mtime)))
                .collect(),
            None => HashMap::new(),
        };

        for file in &listing.audio {
            self.progress.files_seen.fetch_add(1, Ordering::Relaxed);
            let existing = known_tracks.remove(&file.rel_path);
            if let Some((_, size, mtime)) = existing
                && !self.full
                && size == file.size
                && mtime == file.mtime_ms
            {
                continue;
            }
            let mut had_error = false;
            if existing.is_none() {
                // A file that failed before and has not changed is not read again.
                let bad = self.recorded_error(&file.rel_path)?;
                if let Some((size, mtime, reason)) = bad {
                    had_error = true;
                    if !self.full && size == file.size && mtime == file.mtime_ms {
                        let path = listing.abs_path.join(&file.name);
                        self.errors.record(self.progress, &path, &reason);
                        self.send(WriterMsg::Problem {
                            folder_id: self.folder_id,
                            rel_path: file.rel_path.clone(),
                            size,
                            mtime_ms: mtime,
                            reason,
                        })?;
                        continue;
                    }
                }
            }
            let job = ReadJob {
                folder_id: self.folder_id,
                abs_path: listing.abs_path.join(&file.name),
                dir_rel_path: listing.rel_path.clone(),
                rel_path: file.rel_path.clone(),
                size: file.size,
                mtime_ms: file.mtime_ms,
                existing_id: existing.map(|e| e.0),
                had_error,
                sidecar: listing.sidecar_lyrics(&file.name),
            };
            if self.job_tx.send(job).is_err() {
                return Err(ScanError::Thread("tag readers stopped".into()));
            }
        }
        self.visit_unknown(&listing, changed)?;
        self.playlist_files
            .extend(listing.playlists.iter().map(|p| PlaylistFile {
                path: listing.abs_path.join(&p.name),
                mtime_ms: p.mtime_ms,
            }));
        // Whatever the catalog lists here that the directory no longer holds.
        self.missing
            .extend(known_tracks.into_values().map(|(id, _, _)| id));
        Ok(())
    }

    /// The problem recorded for a file of this folder by an earlier scan: (size, mtime,
    /// reason), so an unchanged bad file is reported again without being read.
    fn recorded_error(&mut self, rel_path: &str) -> QueryResult<Option<(i64, i64, String)>> {
        scan_errors::table
            .filter(scan_errors::folder_id.eq(self.folder_id))
            .filter(scan_errors::path.eq(rel_path))
            .select((scan_errors::size, scan_errors::mtime, scan_errors::reason))
            .get_result(self.reader)
            .optional()
    }

    /// Files of unknown type: audio under a name the scanner does not read is reported. A
    /// file reported before and unchanged is reported again without opening it; the others
    /// are opened (to read their first bytes) only when they may be new since the last
    /// finished scan: in a new or changed directory, or modified since that scan started.
    fn visit_unknown(&mut self, listing: &DirListing, dir_changed: bool) -> Result<(), ScanError> {
        for file in &listing.unknown {
            let recorded = self.recorded_error(&file.rel_path)?;
            let path = listing.abs_path.join(&file.name);
            let reason = match recorded {
                Some((size, mtime, reason))
                    if !self.full && size == file.size && mtime == file.mtime_ms =>
                {
                    Some(reason)
                }
                recorded => {
                    let maybe_new = self.full
                        || dir_changed
                        || recorded.is_some()
                        || self
                            .last_scan_started_ms
                            .is_none_or(|started| file.mtime_ms >= started);
                    if !maybe_new {
                        continue;
                    }
                    walk::unread_audio_signature(&path, &file.name)
                }
            };
            if let Some(reason) = reason {
                self.errors.record(self.progress, &path, &reason);
                self.send(WriterMsg::Problem {
                    folder_id: self.folder_id,
                    rel_path: file.rel_path.clone(),
                    size: file.size,
                    mtime_ms: file.mtime_ms,
                    reason,
                })?;
            }
        }
        Ok(())
    }

    fn send(&self, msg: WriterMsg) -> Result<(), ScanError> {
        self.writer_tx
            .send(msg)
            .map_err(|_| ScanError::Thread("the catalog writer stopped".into()))
    }
}

/// The folder image to use as cover art: the first image matching the priority globs.
fn choose_folder_image(images: &[String], globs: &[globset::GlobMatcher]) -> Option<String> {
    globs
        .iter()
        .find_map(|g| images.iter().find(|name| g.is_match(name.as_str())))
        .cloned()
}

/// Makes the catalog's folder list match the configuration. Folders no longer configured are
/// removed with everything in them. Returns (id, absolute path) for each configured folder.
pub fn sync_folders(
    conn: &mut SqliteConnection,
    folders: &[MusicFolder],
) -> Result<Vec<(i32, PathBuf)>, ScanError> {
    let result = conn.immediate_transaction(|conn| {
        let existing: Vec<(i32, String, String)> = library_folders::table
            .select((library_folders::id, library_folders::path, library_folders::name))
            .load(conn)?;
        let mut out = Vec::new();
        for folder in folders {
            let path = folder.path.to_string_lossy().into_owned();
            let id = match existing.iter().find(|(_, p, _)| *p == path) {
                Some((id, _, name)) => {
                    if *name != folder.name {
                        diesel::update(library_folders::table.find(id))
                            .set(library_folders::name.eq(&folder.name))
                            .execute(conn)?;
                    }
                    *id
                }
                None => diesel::insert_into(library_folders::table)
                    .values((
                        library_folders::path.eq(&path),
                        library_folders::name.eq(&folder.name),
                        library_folders::created_at.eq(now_ms()),
                    ))
                    .returning(library_folders::id)
                    .get_result(conn)?,
            };
            out.push((id, folder.path.clone()));
        }
        for (id, path, _) in existing {
            if !out.iter().any(|(i, _)| *i == id) {
                tracing::info!(folder = %path, "music folder no longer configured; removing it from the catalog");
                remove_folder(conn, id)?;
            }
        }
        Ok::<_, diesel::result::Error>(out)
    })?;
    Ok(result)
}

/// Deletes a folder and its tracks, then the albums and artists left empty.
fn remove_folder(conn: &mut SqliteConnection, folder_id: i32) -> QueryResult<()> {
    diesel::delete(tracks::table.filter(tracks::folder_id.eq(folder_id))).execute(conn)?;
    diesel::delete(library_folders::table.find(folder_id)).execute(conn)?;
    diesel::sql_query(
        "DELETE FROM albums WHERE NOT EXISTS (SELECT 1 FROM tracks WHERE album_id = albums.id)",
    )
    .execute(conn)?;
    diesel::sql_query(
        "DELETE FROM artists WHERE NOT EXISTS (SELECT 1 FROM track_artists WHERE artist_id = artists.id) \
         AND NOT EXISTS (SELECT 1 FROM album_artists WHERE artist_id = artists.id)",
    )
    .execute(conn)?;
    for (fts, table) in [
        ("tracks_fts", "tracks"),
        ("albums_fts", "albums"),
        ("artists_fts", "artists"),
    ] {
        diesel::sql_query(format!(
            "DELETE FROM {fts} WHERE rowid NOT IN (SELECT id FROM {table})"
        ))
        .execute(conn)?;
    }
    Ok(())
}

/// Turns requested paths into scopes: the nearest directory at or above each path that exists
/// on disk and in the catalog (a new folder is walked from its known parent), with nested
/// scopes dropped. No paths means every folder, whole.
fn resolve_scopes(
    conn: &mut SqliteConnection,
    folders: &[(i32, PathBuf)],
    options: &ScanOptions,
) -> Result<Vec<Scope>, ScanError> {
    let Some(paths) = &options.paths else {
        return Ok(folders
            .iter()
            .map(|(id, _)| Scope {
                folder_id: *id,
                rel_path: String::new(),
            })
            .collect());
    };
    let mut scopes: Vec<Scope> = Vec::new();
    for path in paths {
        // The longest folder root containing the path.
        let Some((folder_id, root)) = folders
            .iter()
            .filter(|(_, root)| path.starts_with(root))
            .max_by_key(|(_, root)| root.as_os_str().len())
        else {
            continue;
        };
        let mut rel = path
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        loop {
            let abs = if rel.is_empty() {
                root.clone()
            } else {
                root.join(&rel)
            };
            let known: bool = rel.is_empty()
                || diesel::select(diesel::dsl::exists(
                    directories::table
                        .filter(directories::folder_id.eq(folder_id))
                        .filter(directories::path.eq(&rel)),
                ))
                .get_result(conn)?;
            if known && abs.is_dir() {
                break;
            }
            rel = rel
                .rsplit_once('/')
                .map_or(String::new(), |(p, _)| p.to_string());
        }
        scopes.push(Scope {
            folder_id: *folder_id,
            rel_path: rel,
        });
    }
    scopes.sort_by(|a, b| (a.folder_id, &a.rel_path).cmp(&(b.folder_id, &b.rel_path)));
    scopes.dedup();
    let all = scopes.clone();
    scopes.retain(|s| {
        !all.iter().any(|o| {
            o.folder_id == s.folder_id
                && o.rel_path != s.rel_path
                && in_scope(&s.rel_path, &o.rel_path)
        })
    });
    Ok(scopes)
}
