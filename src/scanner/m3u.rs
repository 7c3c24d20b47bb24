//! M3U/M3U8 playlists inside the music folders, imported at scan time as public playlists
//! owned by the first admin.
//!
//! A file is read when it is new or its modification time changed; its entries (relative to
//! the file's folder, or absolute; `/` or `\` separators; `file://` URLs) are matched to
//! catalog tracks by path, and entries that match nothing are skipped and logged. The playlist
//! keeps its id across re-syncs. A playlist whose file is gone is removed. Moves keep track ids
//! (the writer folds a moved file into its old row), so entries survive a move until the file
//! itself is edited.
//!
//! `.m3u8` is UTF-8; `.m3u` is UTF-8 when it decodes as such, else Latin-1 (Windows-1252,
//! which is what Windows players write).

use crate::db::schema::{playlists, tracks};
use crate::people::playlists::{first_admin, write_entries};
use diesel::prelude::*;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Extensions (lower case) of playlist files.
pub const PLAYLIST_EXTENSIONS: &[&str] = &["m3u", "m3u8"];

/// Unresolved entries named one by one in the log, per file (the rest are counted).
const LOGGED_MISSES: usize = 5;

/// A playlist file the walker found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistFile {
    pub path: PathBuf,
    pub mtime_ms: i64,
}

/// What a playlist file says: its `#PLAYLIST:` name, if any, and its entries in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedPlaylist {
    pub name: Option<String>,
    pub entries: Vec<String>,
}

/// What one sync did, for the log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncStats {
    pub imported: usize,
    pub updated: usize,
    pub removed: usize,
}

/// The text of a playlist file: UTF-8 (BOM dropped); for `.m3u`, Windows-1252 when the bytes
/// are not UTF-8.
pub fn decode(bytes: &[u8], extension: &str) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) if extension == "m3u" => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Parses (extended) M3U text: `#` lines are directives or comments (`#PLAYLIST:` names the
/// playlist; `#EXTM3U`, `#EXTINF` and the rest carry nothing we need), other non-empty lines
/// are entries.
pub fn parse(text: &str) -> ParsedPlaylist {
    let mut out = ParsedPlaylist::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(directive) = line.strip_prefix('#') {
            if let Some(name) = directive.strip_prefix("PLAYLIST:") {
                let name = name.trim();
                if !name.is_empty() {
                    out.name = Some(name.to_string());
                }
            }
            continue;
        }
        out.entries.push(line.to_string());
    }
    out
}

/// Removes `.` and `..` components without touching the file system (the file may be gone, or
/// reached through a link the catalog does not use).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The music folder and folder-relative path an entry points at, if it lies in a music
/// folder. `dir` is the playlist file's folder; `folders` are (id, root) pairs.
pub fn resolve(entry: &str, dir: &Path, folders: &[(i32, PathBuf)]) -> Option<(i32, String)> {
    let path: PathBuf = if entry.contains("://") {
        // Only local files; streams and other URLs are not tracks of ours.
        url::Url::parse(entry).ok()?.to_file_path().ok()?
    } else {
        let entry = entry.replace('\\', "/");
        let bytes = entry.as_bytes();
        if bytes.len() > 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
            // A Windows drive path ("C:/Music/..."): another machine's file system.
            return None;
        }
        dir.join(entry)
    };
    let path = normalize(&path);
    let (id, root) = folders
        .iter()
        .filter(|(_, root)| path.starts_with(root))
        .max_by_key(|(_, root)| root.as_os_str().len())?;
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    (!parts.is_empty()).then(|| (*id, parts.join("/")))
}

/// Whether `path` lies in one of the scanned scopes: (root, folder-relative scope) pairs,
/// `""` meaning the whole folder.
fn in_scopes(path: &Path, scopes: &[(PathBuf, String)]) -> bool {
    scopes.iter().any(|(root, rel)| {
        let base = if rel.is_empty() {
            root.clone()
        } else {
            root.join(rel)
        };
        path.starts_with(base)
    })
}

/// Brings the imported playlists in line with the files found by a complete walk of
/// `scopes`: new and changed files are (re)imported, playlists whose file is gone from a
/// scanned scope (or from every music folder) are removed. `on_error` hears about files that
/// cannot be read. Without an admin nothing is imported yet (a later scan will).
pub fn sync(
    conn: &mut SqliteConnection,
    folders: &[(i32, PathBuf)],
    scopes: &[(PathBuf, String)],
    found: &[PlaylistFile],
    now_ms: i64,
    on_error: &mut dyn FnMut(&Path, String),
) -> QueryResult<SyncStats> {
    let mut stats = SyncStats::default();
    let known: HashMap<String, (i32, Option<i64>)> = playlists::table
        .filter(playlists::source_path.is_not_null())
        .select((
            playlists::source_path,
            playlists::id,
            playlists::source_mtime,
        ))
        .load::<(Option<String>, i32, Option<i64>)>(conn)?
        .into_iter()
        .filter_map(|(path, id, mtime)| Some((path?, (id, mtime))))
        .collect();

    let changed: Vec<&PlaylistFile> = found
        .iter()
        .filter(|f| {
            let key = f.path.to_string_lossy();
            known
                .get(key.as_ref())
                .is_none_or(|(_, m)| *m != Some(f.mtime_ms))
        })
        .collect();
    if !changed.is_empty() {
        match first_admin(conn)? {
            None => tracing::info!(
                files = changed.len(),
                "playlist files wait for the first admin account to be imported"
            ),
            Some(owner) => {
                for file in changed {
                    let key = file.path.to_string_lossy().into_owned();
                    let existing = known.get(&key).map(|(id, _)| *id);
                    match import(conn, folders, file, owner, existing, now_ms) {
                        Ok(true) if existing.is_some() => stats.updated += 1,
                        Ok(true) => stats.imported += 1,
                        Ok(false) => {}
                        Err(ImportError::Read(e)) => {
                            on_error(&file.path, format!("cannot read playlist: {e}"))
                        }
                        Err(ImportError::Db(e)) => return Err(e),
                    }
                }
            }
        }
    }

    let present: std::collections::HashSet<&Path> =
        found.iter().map(|f| f.path.as_path()).collect();
    for (path, (id, _)) in &known {
        let path = Path::new(path);
        let orphaned = !folders.iter().any(|(_, root)| path.starts_with(root));
        if !present.contains(path) && (orphaned || in_scopes(path, scopes)) {
            diesel::delete(playlists::table.find(id)).execute(conn)?;
            tracing::info!(path = %path.display(), "playlist file gone; playlist removed");
            stats.removed += 1;
        }
    }
    Ok(stats)
}

enum ImportError {
    Read(std::io::Error),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Db(e)
    }
}

/// Reads one file and writes its playlist (new, or `existing` re-synced) in one transaction.
/// Returns whether the name or the songs changed.
fn import(
    conn: &mut SqliteConnection,
    folders: &[(i32, PathBuf)],
    file: &PlaylistFile,
    owner: i32,
    existing: Option<i32>,
    now_ms: i64,
) -> Result<bool, ImportError> {
    let bytes = std::fs::read(&file.path).map_err(ImportError::Read)?;
    let extension = super::walk::extension(&file.path.to_string_lossy()).unwrap_or_default();
    let parsed = parse(&decode(&bytes, &extension));
    let dir = file.path.parent().unwrap_or(Path::new("/"));
    let mut track_ids = Vec::with_capacity(parsed.entries.len());
    let mut misses = 0usize;
    for entry in &parsed.entries {
        let id = match resolve(entry, dir, folders) {
            Some((folder, rel)) => tracks::table
                .filter(tracks::folder_id.eq(folder))
                .filter(tracks::path.eq(&rel))
                .select(tracks::id)
                .get_result::<i32>(conn)
                .optional()?,
            None => None,
        };
        match id {
            Some(id) => track_ids.push(id),
            None => {
                misses += 1;
                if misses <= LOGGED_MISSES {
                    tracing::warn!(playlist = %file.path.display(), entry = %entry, "playlist entry not found; skipped");
                }
            }
        }
    }
    if misses > LOGGED_MISSES {
        tracing::warn!(playlist = %file.path.display(), skipped = misses, "playlist entries not found");
    }
    let name = parsed.name.unwrap_or_else(|| {
        file.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "Playlist".into())
    });
    let source = file.path.to_string_lossy().into_owned();
    let changed = conn.immediate_transaction(|conn| -> QueryResult<bool> {
        let id = match existing {
            Some(id) => {
                let old_name: String = playlists::table
                    .find(id)
                    .select(playlists::name)
                    .get_result(conn)?;
                let old_tracks = crate::people::playlists::track_ids(
                    conn,
                    &crate::library::access::Scope::All,
                    id,
                )?;
                diesel::update(playlists::table.find(id))
                    .set(playlists::source_mtime.eq(file.mtime_ms))
                    .execute(conn)?;
                if old_name == name && old_tracks == track_ids {
                    return Ok(false);
                }
                diesel::update(playlists::table.find(id))
                    .set((playlists::name.eq(&name), playlists::updated_at.eq(now_ms)))
                    .execute(conn)?;
                id
            }
            None => diesel::insert_into(playlists::table)
                .values((
                    playlists::owner_id.eq(owner),
                    playlists::name.eq(&name),
                    playlists::public.eq(true),
                    playlists::source_path.eq(&source),
                    playlists::source_mtime.eq(file.mtime_ms),
                    playlists::created_at.eq(now_ms),
                    playlists::updated_at.eq(now_ms),
                ))
                .returning(playlists::id)
                .get_result(conn)?,
        };
        write_entries(conn, id, &track_ids)?;
        Ok(true)
    })?;
    if changed {
        tracing::info!(playlist = %file.path.display(), songs = track_ids.len(), "playlist imported");
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extended_m3u_and_skips_directives() {
        let text = "\u{feff}#EXTM3U\n#PLAYLIST: Road trip \n#EXTINF:123,Artist - Title\n\
                    a/01.mp3\r\n\n  # a comment\nhttp://radio.example/stream\n../b/02.flac\n";
        let parsed = parse(&decode(text.as_bytes(), "m3u8"));
        assert_eq!(parsed.name.as_deref(), Some("Road trip"));
        assert_eq!(
            parsed.entries,
            ["a/01.mp3", "http://radio.example/stream", "../b/02.flac"]
        );
    }

    #[test]
    fn m3u_falls_back_to_latin1() {
        // "Café.mp3" in Latin-1.
        let bytes = b"Caf\xe9.mp3\n";
        assert_eq!(parse(&decode(bytes, "m3u")).entries, ["Café.mp3"]);
        assert_eq!(
            parse(&decode("Café.mp3".as_bytes(), "m3u")).entries,
            ["Café.mp3"]
        );
    }

    #[test]
    fn resolves_relative_absolute_windows_and_file_urls() {
        let folders = vec![
            (1, PathBuf::from("/music")),
            (2, PathBuf::from("/music/extra")),
        ];
        let dir = Path::new("/music/lists");
        let r = |e: &str| resolve(e, dir, &folders);
        assert_eq!(r("../A/01.mp3"), Some((1, "A/01.mp3".into())));
        assert_eq!(r("..\\A\\01.mp3"), Some((1, "A/01.mp3".into())));
        assert_eq!(r("./x.mp3"), Some((1, "lists/x.mp3".into())));
        assert_eq!(r("/music/extra/B/1.ogg"), Some((2, "B/1.ogg".into())));
        assert_eq!(
            r("file:///music/A/My%20Song.mp3"),
            Some((1, "A/My Song.mp3".into()))
        );
        assert_eq!(r("/elsewhere/x.mp3"), None);
        assert_eq!(r("C:\\Music\\x.mp3"), None);
        assert_eq!(r("http://radio.example/stream"), None);
        assert_eq!(r("../../../etc/passwd"), None);
    }
}
