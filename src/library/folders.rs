//! Read queries for folder browsing (the real directory tree) and for the "info" and
//! "similar" answers built from local data only: artists sharing genres, play counts.

use super::access::Scope;
use super::sql::{self, Cached};
use super::{TrackView, track_views};
use crate::db::models::{Directory, ListedTrack};
use crate::db::schema::{
    album_artists, artists, directories, library_folders, track_artists, tracks,
};
use crate::names::{self, VARIOUS_ARTISTS};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use std::collections::HashMap;

/// The name of a music folder.
pub fn folder_name(conn: &mut SqliteConnection, folder_id: i32) -> QueryResult<Option<String>> {
    library_folders::table
        .find(folder_id)
        .select(library_folders::name)
        .get_result(conn)
        .optional()
}

/// One directory row.
pub fn directory(conn: &mut SqliteConnection, id: i32) -> QueryResult<Option<Directory>> {
    directories::table
        .find(id)
        .select(Directory::as_select())
        .get_result(conn)
        .optional()
}

/// Directory rows by id (any order; ids without a row are left out).
pub fn directories_by_id(conn: &mut SqliteConnection, ids: &[i32]) -> QueryResult<Vec<Directory>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            directories::table
                .filter(directories::id.eq_any(chunk))
                .select(Directory::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Which of these directories hold tracks directly: album folders, as Subsonic tells albums
/// from artists in folder mode (a folder with only sub-folders is an artist's).
pub fn with_direct_tracks(
    conn: &mut SqliteConnection,
    ids: &[i32],
) -> QueryResult<std::collections::HashSet<i32>> {
    let mut out = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let list = serde_json::to_string(chunk).unwrap_or_else(|_| "[]".into());
        let rows: Vec<IdRow> =
            Cached(diesel::sql_query(sql::DIRECTORIES_WITH_TRACKS).bind::<Text, _>(list))
                .load(conn)?;
        out.extend(rows.into_iter().map(|r| r.id));
    }
    Ok(out)
}

/// The library's change time in epoch milliseconds: the latest update of a directory or a
/// track (in the folders the scope shows). A removed file changes its directory's mtime, so
/// the directory row is updated too. 0 for an empty library.
pub fn last_modified(conn: &mut SqliteConnection, scope: &Scope) -> QueryResult<i64> {
    let mut dirs = directories::table
        .select(diesel::dsl::max(directories::updated_at))
        .into_boxed();
    let mut files = tracks::table
        .select(diesel::dsl::max(tracks::updated_at))
        .into_boxed();
    if let Scope::Only(ids) = scope {
        dirs = dirs.filter(directories::folder_id.eq_any(ids));
        files = files.filter(tracks::folder_id.eq_any(ids));
    }
    let a: Option<i64> = dirs.get_result(conn)?;
    let b: Option<i64> = files.get_result(conn)?;
    Ok(a.max(b).unwrap_or(0))
}

/// The root directory (path "") of each music folder the scope shows.
pub fn roots(conn: &mut SqliteConnection, scope: &Scope) -> QueryResult<Vec<Directory>> {
    let mut q = directories::table
        .filter(directories::path.eq(""))
        .order(directories::folder_id)
        .select(Directory::as_select())
        .into_boxed();
    if let Scope::Only(ids) = scope {
        q = q.filter(directories::folder_id.eq_any(ids));
    }
    q.load(conn)
}

/// The sub-folders of the given directories that hold audio somewhere below them, by name
/// (case-insensitive); folders holding only images or other files are left out.
pub fn subdirectories(
    conn: &mut SqliteConnection,
    parent_ids: &[i32],
) -> QueryResult<Vec<Directory>> {
    if parent_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(parent_ids).unwrap_or_else(|_| "[]".into());
    let mut rows: Vec<DirRow> =
        Cached(diesel::sql_query(sql::SUBDIRECTORIES_WITH_AUDIO).bind::<Text, _>(list))
            .load(conn)?;
    rows.sort_by_cached_key(|d| (d.name.to_lowercase(), d.name.clone(), d.id));
    Ok(rows.into_iter().map(Directory::from).collect())
}

#[derive(QueryableByName)]
struct DirRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Integer)]
    folder_id: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<Integer>)]
    parent_id: Option<i32>,
    #[diesel(sql_type = Text)]
    path: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    mtime: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    cover_art: Option<String>,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = BigInt)]
    updated_at: i64,
}

impl From<DirRow> for Directory {
    fn from(r: DirRow) -> Self {
        Directory {
            id: r.id,
            folder_id: r.folder_id,
            parent_id: r.parent_id,
            path: r.path,
            name: r.name,
            mtime: r.mtime,
            cover_art: r.cover_art,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The tracks lying directly in the given directories, by disc, track number and path.
pub fn tracks_in_directories(
    conn: &mut SqliteConnection,
    dir_ids: &[i32],
) -> QueryResult<Vec<TrackView>> {
    let rows: Vec<ListedTrack> = tracks::table
        .filter(tracks::directory_id.eq_any(dir_ids))
        .order((tracks::disc_number, tracks::track_number, tracks::path))
        .select(ListedTrack::as_select())
        .load(conn)?;
    track_views(conn, rows)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Integer)]
    id: i32,
}

/// The album artist credited on the most tracks below a directory (the directory that an
/// "artist info" or "artist radio" call in folder mode names).
pub fn main_artist_of_directory(
    conn: &mut SqliteConnection,
    dir: &Directory,
) -> QueryResult<Option<i32>> {
    most_common_below(conn, dir, sql::MAIN_ARTIST_BELOW)
}

/// The album with the most tracks below a directory.
pub fn main_album_of_directory(
    conn: &mut SqliteConnection,
    dir: &Directory,
) -> QueryResult<Option<i32>> {
    most_common_below(conn, dir, sql::MAIN_ALBUM_BELOW)
}

fn most_common_below(
    conn: &mut SqliteConnection,
    dir: &Directory,
    template: &str,
) -> QueryResult<Option<i32>> {
    let (condition, prefix) = if dir.path.is_empty() {
        ("1", String::new())
    } else {
        ("t.path >= ? || '/' AND t.path < ? || '0'", dir.path.clone())
    };
    let q = diesel::sql_query(template.replace(sql::BELOW, condition))
        .bind::<Integer, _>(dir.folder_id);
    let row: Option<IdRow> = if dir.path.is_empty() {
        Cached(q).get_result(conn).optional()?
    } else {
        Cached(q.bind::<Text, _>(&prefix).bind::<Text, _>(&prefix))
            .get_result(conn)
            .optional()?
    };
    Ok(row.map(|r| r.id))
}

/// The album artists of an album, in credit order.
pub fn album_artist_ids(conn: &mut SqliteConnection, album_id: i32) -> QueryResult<Vec<i32>> {
    album_artists::table
        .filter(album_artists::album_id.eq(album_id))
        .order((album_artists::role, album_artists::position))
        .select(album_artists::artist_id)
        .load(conn)
}

/// A track's artists, then its album artists (no repeats), and its album.
pub fn track_artist_ids(
    conn: &mut SqliteConnection,
    track_id: i32,
) -> QueryResult<Option<(Vec<i32>, i32)>> {
    let album: Option<i32> = tracks::table
        .find(track_id)
        .select(tracks::album_id)
        .get_result(conn)
        .optional()?;
    let Some(album_id) = album else {
        return Ok(None);
    };
    let credited: Vec<i32> = track_artists::table
        .filter(track_artists::track_id.eq(track_id))
        .filter(track_artists::role.eq_any(["artist", "albumartist"]))
        .order((track_artists::role, track_artists::position))
        .select(track_artists::artist_id)
        .load(conn)?;
    let mut ids = Vec::new();
    for id in credited {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(Some((ids, album_id)))
}

/// An artist by name (compared as the scanner does: case and spacing ignored).
pub fn artist_by_name(conn: &mut SqliteConnection, name: &str) -> QueryResult<Option<i32>> {
    artists::table
        .filter(artists::name_key.eq(names::normalize(name)))
        .select(artists::id)
        .get_result(conn)
        .optional()
}

/// Album artists sharing genres with the seed artists (the genres of their albums and
/// tracks): most shared genres first, then most matching albums, then by name. The seeds
/// and "Various Artists" are left out, and only albums the scope shows count.
pub fn similar_artists(
    conn: &mut SqliteConnection,
    seeds: &[i32],
    limit: i64,
    scope: &Scope,
) -> QueryResult<Vec<i32>> {
    if seeds.is_empty() || limit <= 0 {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(seeds).unwrap_or_else(|_| "[]".into());
    let query = diesel::sql_query(sql::in_scope(
        sql::SIMILAR_ARTISTS,
        &scope.bound_album_condition("aa.album_id"),
    ))
    .into_boxed()
    .bind::<Text, _>(list)
    .bind::<Text, _>(names::normalize(VARIOUS_ARTISTS));
    let rows: Vec<IdRow> = Cached(scope.bind_folders(query).bind::<BigInt, _>(limit)).load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Random tracks credited (as artist or album artist) to any of `artist_ids`, without
/// `exclude`, among those the scope shows.
pub fn random_tracks_of_artists(
    conn: &mut SqliteConnection,
    artist_ids: &[i32],
    exclude: Option<i32>,
    limit: i64,
    scope: &Scope,
) -> QueryResult<Vec<TrackView>> {
    if artist_ids.is_empty() || limit <= 0 {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(artist_ids).unwrap_or_else(|_| "[]".into());
    let in_scope = match scope {
        Scope::All => String::from("1"),
        _ => format!(
            "EXISTS (SELECT 1 FROM tracks t WHERE t.id = ta.track_id AND {})",
            scope.bound_condition("t.folder_id")
        ),
    };
    let query = diesel::sql_query(sql::in_scope(sql::RANDOM_TRACKS_OF_ARTISTS, &in_scope))
        .into_boxed()
        .bind::<Text, _>(list)
        .bind::<Integer, _>(exclude.unwrap_or(0));
    let rows: Vec<IdRow> = Cached(scope.bind_folders(query).bind::<BigInt, _>(limit)).load(conn)?;
    let ids: Vec<i32> = rows.into_iter().map(|r| r.id).collect();
    super::tracks_by_id(conn, &ids)
}

/// An artist's tracks (as artist or album artist) that the scope shows, most played first
/// (play counts summed over all users), then by album year (unknown last), album, disc, track
/// number and path.
pub fn top_tracks(
    conn: &mut SqliteConnection,
    artist_id: i32,
    limit: i64,
    scope: &Scope,
) -> QueryResult<Vec<TrackView>> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let query = diesel::sql_query(sql::in_scope(
        sql::TOP_TRACKS,
        &scope.bound_condition("t.folder_id"),
    ))
    .into_boxed()
    .bind::<Integer, _>(artist_id);
    let rows: Vec<IdRow> = Cached(scope.bind_folders(query).bind::<BigInt, _>(limit)).load(conn)?;
    let ids: Vec<i32> = rows.into_iter().map(|r| r.id).collect();
    super::tracks_by_id(conn, &ids)
}

/// For folder browsing: the directory that stands for each artist, in the music folder (of
/// those the scope shows) where it has the most tracks (as album artist): the deepest folder
/// holding all of them — or, for an artist with a single album, the folder above that album's
/// folder (the artist folder of an Artist/Album layout) unless that is the root; when the
/// common folder is the root, the top-level folder holding most of them. Artists whose tracks
/// all lie at a root are left out.
pub fn artist_directories(
    conn: &mut SqliteConnection,
    artist_ids: &[i32],
    scope: &Scope,
) -> QueryResult<HashMap<i32, i32>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        artist_id: i32,
        #[diesel(sql_type = Integer)]
        folder_id: i32,
        #[diesel(sql_type = Text)]
        path: String,
        #[diesel(sql_type = Integer)]
        album_id: i32,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    if artist_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = serde_json::to_string(artist_ids).unwrap_or_else(|_| "[]".into());
    let query = diesel::sql_query(sql::in_scope(
        sql::ARTIST_DIRECTORY_CANDIDATES,
        &scope.bound_condition("t.folder_id"),
    ))
    .into_boxed()
    .bind::<Text, _>(list);
    let rows: Vec<Row> = Cached(scope.bind_folders(query)).load(conn)?;
    let mut by_artist: HashMap<i32, Vec<Row>> = HashMap::new();
    for r in rows {
        by_artist.entry(r.artist_id).or_default().push(r);
    }
    let mut out = HashMap::new();
    for (artist_id, rows) in by_artist {
        let mut per_folder: HashMap<i32, i64> = HashMap::new();
        for r in &rows {
            *per_folder.entry(r.folder_id).or_default() += r.n;
        }
        let Some(folder) = per_folder
            .into_iter()
            .max_by_key(|(f, n)| (*n, -*f))
            .map(|(f, _)| f)
        else {
            continue;
        };
        let rows: Vec<&Row> = rows.iter().filter(|r| r.folder_id == folder).collect();
        let single_album = rows.iter().all(|r| r.album_id == rows[0].album_id);
        let paths: Vec<(&str, i64)> = rows.iter().map(|r| (r.path.as_str(), r.n)).collect();
        let Some(path) = representative_path(&paths, single_album) else {
            continue;
        };
        let id: Option<i32> = directories::table
            .filter(directories::folder_id.eq(folder))
            .filter(directories::path.eq(&path))
            .select(directories::id)
            .get_result(conn)
            .optional()?;
        if let Some(id) = id {
            out.insert(artist_id, id);
        }
    }
    Ok(out)
}

/// The folder standing for an artist, from the relative paths of the directories holding its
/// tracks (with track counts): see `artist_directories`. None when all lie at the root.
fn representative_path(paths: &[(&str, i64)], single_album: bool) -> Option<String> {
    let mut common: Option<Vec<&str>> = None;
    for (path, _) in paths {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        common = Some(match common {
            None => parts,
            Some(c) => c
                .iter()
                .zip(&parts)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    let common = common?.join("/");
    if !common.is_empty() {
        let album = names::album_folder(&common);
        if single_album && let Some((parent, _)) = album.rsplit_once('/') {
            return Some(parent.to_string());
        }
        return Some(if album.is_empty() {
            common.clone()
        } else {
            album.to_string()
        });
    }
    let mut top: HashMap<&str, i64> = HashMap::new();
    for (path, n) in paths {
        if let Some(first) = path.split('/').find(|p| !p.is_empty()) {
            *top.entry(first).or_default() += n;
        }
    }
    top.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(p, _)| p.to_string())
}

#[cfg(test)]
mod tests {
    use super::representative_path;

    #[test]
    fn an_artist_folder_is_the_common_ancestor_or_the_busiest_top_folder() {
        let rep = |paths: &[(&str, i64)], single| representative_path(paths, single);
        assert_eq!(
            rep(&[("A/One", 3), ("A/Two", 2)], false).as_deref(),
            Some("A")
        );
        assert_eq!(
            rep(&[("Rock/A/One", 3), ("Rock/A/Two/CD1", 2)], false).as_deref(),
            Some("Rock/A")
        );
        // One album: the folder above it (disc folders count as the album's).
        assert_eq!(
            rep(&[("A/One/Disc 1", 3), ("A/One/Disc 2", 2)], true).as_deref(),
            Some("A")
        );
        assert_eq!(rep(&[("A/One/CD 2", 3)], true).as_deref(), Some("A"));
        assert_eq!(rep(&[("One", 3)], true).as_deref(), Some("One"));
        // Tracks at the root too: the busiest top-level folder.
        assert_eq!(
            rep(&[("A/One", 1), ("B/Two", 4), ("", 9)], false).as_deref(),
            Some("B")
        );
        assert_eq!(rep(&[("", 2)], true), None);
        assert_eq!(rep(&[], false), None);
    }
}
