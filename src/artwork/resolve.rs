//! Which file holds the art of an item: the scan's choice for albums (a folder image or the
//! embedded picture of one of its tracks), a track's own picture (else its album's), a folder's
//! image, an artist's `artist.*` image (else one of their albums' covers), a playlist's first
//! track with art.

use super::{ArtworkError, join};
use crate::db::schema::{
    album_artists, albums, directories, library_folders, playlist_tracks, track_artists, tracks,
};
use crate::library::access::Scope;
use crate::library::{Id, folders};
use diesel::prelude::*;
use std::path::{Path, PathBuf};

/// Where an image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// An image file.
    File = 1,
    /// The front cover (else first picture) embedded in an audio file.
    Embedded = 2,
}

/// The file an item's art is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub kind: SourceKind,
    path: PathBuf,
}

impl Source {
    /// The image or audio file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Image file extensions an artist image may have (as the scanner's folder images).
const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif", "bmp"];

/// How many albums or playlist entries are tried when looking for someone else's cover.
const FALLBACK_CANDIDATES: i64 = 50;

/// The art of `item`; None when it has none (or no such item exists).
pub fn resolve(conn: &mut SqliteConnection, item: Id) -> Result<Option<Source>, ArtworkError> {
    resolve_in(conn, item, &Scope::All)
}

/// `resolve` for a caller who sees `scope`: a playlist (which may hold songs of any folder)
/// shows the art of its first song in the scope. Other items lie in one folder; the caller
/// checks that they are visible.
pub fn resolve_in(
    conn: &mut SqliteConnection,
    item: Id,
    scope: &Scope,
) -> Result<Option<Source>, ArtworkError> {
    match item {
        Id::Album(n) => album(conn, n),
        Id::Track(n) => track(conn, n),
        Id::Directory(n) => directory(conn, n),
        Id::Artist(n) => artist(conn, n),
        Id::Playlist(n) => playlist(conn, n, scope),
        // See `podcast_image`.
        Id::PodcastChannel(_) | Id::PodcastEpisode(_) => Ok(None),
    }
}

/// The image of a podcast channel or episode (its channel's), saved in the podcast `folder`
/// when the feed was refreshed. Podcast art lies outside the music folders, so `resolve_in`
/// does not answer it and the caller passes the folder.
pub fn podcast_image(
    conn: &mut SqliteConnection,
    item: Id,
    folder: &Path,
) -> Result<Option<Source>, ArtworkError> {
    use crate::podcasts::store;
    let channel = match item {
        Id::PodcastChannel(n) => Some(n),
        Id::PodcastEpisode(n) => store::channel_of(conn, n)?,
        _ => None,
    };
    let Some(channel) = channel else {
        return Ok(None);
    };
    Ok(store::channel_image(conn, channel)?
        .and_then(|rel| existing(SourceKind::File, folder.join(rel))))
}

fn track_file(conn: &mut SqliteConnection, track_id: i32) -> QueryResult<Option<PathBuf>> {
    let row: Option<(String, String)> = tracks::table
        .inner_join(library_folders::table)
        .filter(tracks::id.eq(track_id))
        .select((library_folders::path, tracks::path))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(folder, rel)| join(&folder, &rel)))
}

fn existing(kind: SourceKind, path: PathBuf) -> Option<Source> {
    path.is_file().then_some(Source { kind, path })
}

fn album(conn: &mut SqliteConnection, album_id: i32) -> Result<Option<Source>, ArtworkError> {
    let row: Option<(Option<i32>, Option<i32>)> = albums::table
        .find(album_id)
        .select((albums::cover_directory_id, albums::cover_track_id))
        .get_result(conn)
        .optional()?;
    let Some((cover_dir, cover_track)) = row else {
        return Ok(None);
    };
    if let Some(dir) = cover_dir
        && let Some(found) = directory(conn, dir)?
    {
        return Ok(Some(found));
    }
    if let Some(track) = cover_track
        && let Some(path) = track_file(conn, track)?
        && let Some(found) = existing(SourceKind::Embedded, path)
    {
        return Ok(Some(found));
    }
    // The scan's choice has gone since: any track of the album with a picture.
    let others: Vec<i32> = tracks::table
        .filter(tracks::album_id.eq(album_id))
        .filter(tracks::has_embedded_art)
        .order(tracks::id)
        .limit(FALLBACK_CANDIDATES)
        .select(tracks::id)
        .load(conn)?;
    for id in others {
        if let Some(path) = track_file(conn, id)?
            && let Some(found) = existing(SourceKind::Embedded, path)
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

fn track(conn: &mut SqliteConnection, track_id: i32) -> Result<Option<Source>, ArtworkError> {
    let row: Option<(bool, i32)> = tracks::table
        .find(track_id)
        .select((tracks::has_embedded_art, tracks::album_id))
        .get_result(conn)
        .optional()?;
    let Some((embedded, album_id)) = row else {
        return Ok(None);
    };
    if embedded
        && let Some(path) = track_file(conn, track_id)?
        && let Some(found) = existing(SourceKind::Embedded, path)
    {
        return Ok(Some(found));
    }
    album(conn, album_id)
}

/// A directory's absolute path.
fn directory_path(conn: &mut SqliteConnection, dir_id: i32) -> QueryResult<Option<PathBuf>> {
    let row: Option<(String, String)> = directories::table
        .inner_join(library_folders::table)
        .filter(directories::id.eq(dir_id))
        .select((library_folders::path, directories::path))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(folder, rel)| join(&folder, &rel)))
}

fn directory(conn: &mut SqliteConnection, dir_id: i32) -> Result<Option<Source>, ArtworkError> {
    let image: Option<Option<String>> = directories::table
        .find(dir_id)
        .select(directories::cover_art)
        .get_result(conn)
        .optional()?;
    let Some(Some(image)) = image else {
        return Ok(None);
    };
    let Some(dir) = directory_path(conn, dir_id)? else {
        return Ok(None);
    };
    Ok(existing(SourceKind::File, dir.join(image)))
}

/// An image named `artist.<image extension>` (any case) in `dir`, the first by name.
pub fn artist_image_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let Some(name) = name.to_str() else {
                return false;
            };
            let Some((stem, ext)) = name.rsplit_once('.') else {
                return false;
            };
            stem.eq_ignore_ascii_case("artist")
                && IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
        })
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.into_iter().next()
}

fn artist(conn: &mut SqliteConnection, artist_id: i32) -> Result<Option<Source>, ArtworkError> {
    if let Some(dir_id) =
        folders::artist_directories(conn, &[artist_id], &Scope::All)?.get(&artist_id)
        && let Some(dir) = directory_path(conn, *dir_id)?
        && let Some(path) = artist_image_in(&dir)
    {
        return Ok(Some(Source {
            kind: SourceKind::File,
            path,
        }));
    }
    // Their albums, newest first (the artist as they look now); then albums they play on.
    let own: Vec<i32> = album_artists::table
        .inner_join(albums::table)
        .filter(album_artists::artist_id.eq(artist_id))
        .filter(
            albums::cover_directory_id
                .is_not_null()
                .or(albums::cover_track_id.is_not_null()),
        )
        .order((albums::year.desc(), albums::id.desc()))
        .limit(FALLBACK_CANDIDATES)
        .select(albums::id)
        .load(conn)?;
    let appearances: Vec<i32> = if own.is_empty() {
        track_artists::table
            .inner_join(tracks::table)
            .inner_join(albums::table.on(albums::id.eq(tracks::album_id)))
            .filter(track_artists::artist_id.eq(artist_id))
            .filter(
                albums::cover_directory_id
                    .is_not_null()
                    .or(albums::cover_track_id.is_not_null()),
            )
            .select(albums::id)
            .distinct()
            .limit(FALLBACK_CANDIDATES)
            .load(conn)?
    } else {
        Vec::new()
    };
    for id in own.into_iter().chain(appearances) {
        if let Some(found) = album(conn, id)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

fn playlist(
    conn: &mut SqliteConnection,
    playlist_id: i32,
    scope: &Scope,
) -> Result<Option<Source>, ArtworkError> {
    let mut query = playlist_tracks::table
        .inner_join(tracks::table)
        .filter(playlist_tracks::playlist_id.eq(playlist_id))
        .into_boxed();
    if let Scope::Only(folders) = scope {
        query = query.filter(tracks::folder_id.eq_any(folders));
    }
    let entries: Vec<i32> = query
        .order(playlist_tracks::position)
        .limit(FALLBACK_CANDIDATES)
        .select(playlist_tracks::track_id)
        .load(conn)?;
    for id in entries {
        if let Some(found) = track(conn, id)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}
