//! The files behind ids, for streams and downloads: a track's file on disk, and the files of
//! an album, an artist or a folder tree with the names they get inside a zip. A playlist
//! download is one more query producing the same `Vec<ZipEntry>` (see `archive_of_tracks`).

use super::access::Scope;
use crate::db::models::{Album, Directory, Track};
use crate::db::schema::{album_artists, albums, artists, directories, library_folders, tracks};
use crate::delivery::ZipEntry;
use diesel::prelude::*;
use std::path::{Path, PathBuf};

/// A track with the absolute path of its file.
#[derive(Debug, Clone)]
pub struct TrackFile {
    pub track: Track,
    pub path: PathBuf,
}

/// A zip download: what the archive is called (without ".zip") and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    pub name: String,
    pub entries: Vec<ZipEntry>,
}

/// One track and its file, if the track exists.
pub fn track_file(conn: &mut SqliteConnection, id: i32) -> QueryResult<Option<TrackFile>> {
    Ok(files(conn, tracks::table.filter(tracks::id.eq(id)).into_boxed())?.pop())
}

/// Tracks with their files, in the query's order.
fn files(
    conn: &mut SqliteConnection,
    query: tracks::BoxedQuery<'_, diesel::sqlite::Sqlite>,
) -> QueryResult<Vec<TrackFile>> {
    let rows: Vec<(Track, String)> = query
        .inner_join(library_folders::table)
        .order((tracks::disc_number, tracks::track_number, tracks::path))
        .select((Track::as_select(), library_folders::path))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(track, folder)| TrackFile {
            path: Path::new(&folder).join(&track.file.path),
            track,
        })
        .collect())
}

/// An album as "Album Artist - Album/NN - Title.ext" entries; None when the album does not
/// exist or has no track the scope lets through.
pub fn album_archive(
    conn: &mut SqliteConnection,
    album_id: i32,
    scope: &Scope,
) -> QueryResult<Option<Archive>> {
    let Some(album) = albums::table
        .find(album_id)
        .select(Album::as_select())
        .get_result(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let entries = album_entries(conn, &album, scope)?;
    Ok((!entries.is_empty()).then(|| Archive {
        name: album_folder_name(&album),
        entries,
    }))
}

/// Every album the artist is album artist of, one folder per album; None when the artist
/// does not exist or nothing of theirs is visible.
pub fn artist_archive(
    conn: &mut SqliteConnection,
    artist_id: i32,
    scope: &Scope,
) -> QueryResult<Option<Archive>> {
    let Some(name) = artists::table
        .find(artist_id)
        .select(artists::name)
        .get_result::<String>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    // Oldest first, as getArtist lists them.
    let albums: Vec<Album> = albums::table
        .filter(
            albums::id.eq_any(
                album_artists::table
                    .filter(album_artists::artist_id.eq(artist_id))
                    .select(album_artists::album_id),
            ),
        )
        .order((albums::year, albums::name))
        .select(Album::as_select())
        .load(conn)?;
    let mut entries = Vec::new();
    for album in &albums {
        entries.extend(album_entries(conn, album, scope)?);
    }
    Ok((!entries.is_empty()).then(|| Archive {
        name: safe_component(&name),
        entries,
    }))
}

/// A directory and everything below it, named as on disk under the directory's own name;
/// None when the directory does not exist, is not visible, or holds no track.
pub fn directory_archive(
    conn: &mut SqliteConnection,
    dir_id: i32,
    scope: &Scope,
) -> QueryResult<Option<Archive>> {
    let Some(dir) = directories::table
        .find(dir_id)
        .select(Directory::as_select())
        .get_result(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if !scope.allows(dir.folder_id) {
        return Ok(None);
    }
    let mut query = tracks::table
        .filter(tracks::folder_id.eq(dir.folder_id))
        .into_boxed();
    let prefix = if dir.path.is_empty() {
        String::new()
    } else {
        // Every path below "a/b" sorts between "a/b/" and "a/b0" ('0' follows '/'), which
        // the (folder_id, path) index answers.
        query = query
            .filter(tracks::path.ge(format!("{}/", dir.path)))
            .filter(tracks::path.lt(format!("{}0", dir.path)));
        format!("{}/", dir.path)
    };
    let name = match dir.name.as_str() {
        "" => library_folders::table
            .find(dir.folder_id)
            .select(library_folders::name)
            .get_result(conn)?,
        name => name.to_string(),
    };
    let root = safe_component(&name);
    let mut files = files(conn, query)?;
    files.sort_by(|a, b| a.track.file.path.cmp(&b.track.file.path));
    let entries: Vec<ZipEntry> = files
        .into_iter()
        .map(|f| ZipEntry {
            name: format!(
                "{root}/{}",
                f.track
                    .file
                    .path
                    .strip_prefix(&prefix)
                    .unwrap_or(&f.track.file.path)
            ),
            path: f.path,
        })
        .collect();
    Ok((!entries.is_empty()).then_some(Archive {
        name: root,
        entries,
    }))
}

/// Tracks in the order given as a flat archive of "NN - Artist - Title.ext" (NN = position),
/// for track lists that are not one album: a playlist download is this over its entries.
pub fn archive_of_tracks(name: &str, tracks: Vec<TrackFile>) -> Archive {
    let width = tracks.len().to_string().len().max(2);
    let root = safe_component(name);
    let entries = tracks
        .into_iter()
        .enumerate()
        .map(|(i, f)| ZipEntry {
            name: format!(
                "{root}/{:0width$} - {}.{}",
                i + 1,
                safe_component(&format!(
                    "{} - {}",
                    f.track.tags.artist_display, f.track.tags.title
                )),
                f.track.audio.suffix
            ),
            path: f.path,
        })
        .collect();
    Archive {
        name: root,
        entries,
    }
}

fn album_entries(
    conn: &mut SqliteConnection,
    album: &Album,
    scope: &Scope,
) -> QueryResult<Vec<ZipEntry>> {
    let folder = album_folder_name(album);
    let files = files(
        conn,
        tracks::table
            .filter(tracks::album_id.eq(album.id))
            .into_boxed(),
    )?;
    Ok(files
        .into_iter()
        .filter(|f| scope.allows(f.track.folder_id))
        .map(|f| ZipEntry {
            name: format!(
                "{folder}/{}",
                track_file_name(&f.track, album.disc_count > 1)
            ),
            path: f.path,
        })
        .collect())
}

/// "Album Artist - Album", safe as one path component.
fn album_folder_name(album: &Album) -> String {
    safe_component(&format!("{} - {}", album.artist_display, album.name))
}

/// "01 - Title.ext", "2-01 - Title.ext" on multi-disc albums, "Title.ext" without a number.
fn track_file_name(track: &Track, several_discs: bool) -> String {
    let number = match (track.tags.track_number, several_discs) {
        (Some(n), true) => format!("{}-{n:02} - ", track.tags.disc_number.unwrap_or(1)),
        (Some(n), false) => format!("{n:02} - "),
        (None, _) => String::new(),
    };
    format!(
        "{}.{}",
        safe_component(&format!("{number}{}", track.tags.title)),
        track.audio.suffix
    )
}

/// `name` as one file or folder name on every system: no separators, no characters Windows
/// forbids, no control characters, no leading or trailing dots and spaces.
fn safe_component(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        "Unknown".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_safe_everywhere() {
        assert_eq!(safe_component("AC/DC: Live?"), "AC_DC_ Live_");
        assert_eq!(safe_component("  ..hidden.. "), "hidden");
        assert_eq!(safe_component("a\u{7}b"), "a_b");
        assert_eq!(safe_component(".."), "Unknown");
        assert_eq!(safe_component("Björk – Début"), "Björk – Début");
    }
}
