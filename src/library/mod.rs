//! Read side of the catalog: the queries the API answers from, returning plain rows and views
//! (no wire format here), the id scheme clients see, folder access (`access`), and the catalog
//! service that runs each operation in one transaction (`catalog`). People's own things
//! (playlists, shares, queues...) are in `crate::people`.

pub mod access;
pub mod annotations;
pub mod cache;
pub mod catalog;
pub mod covers;
pub mod files;
pub mod folders;
pub mod lists;
pub mod lyrics;
pub mod search;
pub(crate) mod sql;
#[cfg(test)]
mod statements;
#[cfg(test)]
pub(crate) mod test_catalog;

use crate::db::models::{Album, ListedTrack};
use crate::db::schema::{
    album_artists, album_folders, album_genres, albums, artists, genres, library_folders,
    scan_errors, track_artists, track_genres, tracks,
};
use access::Scope;
use diesel::prelude::*;
use sql::Cached;
use std::collections::HashMap;

/// Ids clients see are type-prefixed strings ("ar-1", "al-1", "tr-1", "dir-1", "pl-1") so
/// endpoints that take any id can tell them apart, and never contain ';' (DSub splits on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    Artist(i32),
    Album(i32),
    Track(i32),
    Directory(i32),
    Playlist(i32),
    /// A podcast channel ("pc-1") and episode ("pe-1"), see `crate::podcasts`.
    PodcastChannel(i32),
    PodcastEpisode(i32),
}

impl Id {
    /// Parses a client id.
    pub fn parse(s: &str) -> Option<Id> {
        let (prefix, n) = s.split_once('-')?;
        let n: i32 = n.parse().ok().filter(|n| *n > 0)?;
        match prefix {
            "ar" => Some(Id::Artist(n)),
            "al" => Some(Id::Album(n)),
            "tr" => Some(Id::Track(n)),
            "dir" => Some(Id::Directory(n)),
            "pl" => Some(Id::Playlist(n)),
            "pc" => Some(Id::PodcastChannel(n)),
            "pe" => Some(Id::PodcastEpisode(n)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Artist(n) => write!(f, "ar-{n}"),
            Id::Album(n) => write!(f, "al-{n}"),
            Id::Track(n) => write!(f, "tr-{n}"),
            Id::Directory(n) => write!(f, "dir-{n}"),
            Id::Playlist(n) => write!(f, "pl-{n}"),
            Id::PodcastChannel(n) => write!(f, "pc-{n}"),
            Id::PodcastEpisode(n) => write!(f, "pe-{n}"),
        }
    }
}

/// An artist credit: id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub id: i32,
    pub name: String,
}

/// A track with its credits and genres.
#[derive(Debug, Clone)]
pub struct TrackView {
    pub track: ListedTrack,
    pub artists: Vec<Credit>,
    pub album_artists: Vec<Credit>,
    pub composers: Vec<Credit>,
    pub genres: Vec<String>,
    /// The id of the track's picture (its own, else its album's); none without art.
    pub cover_art: Option<covers::CoverArtId>,
    /// The loudness the server measured for this very file, if any (tags still win).
    pub measured_loudness: Option<crate::loudness::gain::Measured>,
}

/// An album with its credits and genres.
#[derive(Debug, Clone)]
pub struct AlbumView {
    pub album: Album,
    pub artists: Vec<Credit>,
    pub genres: Vec<String>,
    /// (disc number, disc subtitle) for the discs that have a subtitle.
    pub disc_titles: Vec<(i32, String)>,
}

/// An artist with the number of albums it is album artist of.
#[derive(Debug, Clone)]
pub struct ArtistView {
    pub id: i32,
    pub name: String,
    pub sort_name: Option<String>,
    pub mbid: Option<String>,
    pub album_count: i64,
    /// The id of the artist's image, for album artists.
    pub cover_art: Option<covers::CoverArtId>,
}

/// Genre with its song and album counts.
#[derive(Debug, Clone)]
pub struct GenreView {
    pub name: String,
    pub song_count: i64,
    pub album_count: i64,
}

/// How many tracks the catalog holds (every folder).
pub fn track_count(conn: &mut SqliteConnection) -> QueryResult<i64> {
    tracks::table.count().get_result(conn)
}

/// The durations (ms) of the tracks among `ids` that exist.
pub fn durations(conn: &mut SqliteConnection, ids: &[i32]) -> QueryResult<HashMap<i32, i64>> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        found.extend(
            Cached(
                tracks::table
                    .filter(sql::in_ids("tracks.id", chunk))
                    .select((tracks::id, tracks::duration_ms)),
            )
            .load::<(i32, i64)>(conn)?,
        );
    }
    Ok(found)
}

/// A file a scan could not read: (folder name, path, size, reason, seen at).
pub type ScanErrorRow = (String, String, i64, String, i64);

/// The files the scans could not read, `limit` from `offset` ordered by folder and path, as
/// (folder name, path, size, reason, seen at), and how many there are in all.
pub fn scan_errors(
    conn: &mut SqliteConnection,
    limit: i64,
    offset: i64,
) -> QueryResult<(i64, Vec<ScanErrorRow>)> {
    let total: i64 = scan_errors::table.count().get_result(conn)?;
    let rows = scan_errors::table
        .inner_join(library_folders::table)
        .order((scan_errors::folder_id, scan_errors::path))
        .limit(limit)
        .offset(offset)
        .select((
            library_folders::name,
            scan_errors::path,
            scan_errors::size,
            scan_errors::reason,
            scan_errors::seen_at,
        ))
        .load(conn)?;
    Ok((total, rows))
}

/// The music folders: (id, name).
pub fn music_folders(conn: &mut SqliteConnection) -> QueryResult<Vec<(i32, String)>> {
    library_folders::table
        .order(library_folders::id)
        .select((library_folders::id, library_folders::name))
        .load(conn)
}

/// Artists that are album artists of albums the scope shows, with the number of those albums.
pub fn album_artists_index(
    conn: &mut SqliteConnection,
    scope: &Scope,
) -> QueryResult<Vec<ArtistView>> {
    type Row = (i32, String, Option<String>, Option<String>, i64);
    let rows: Vec<Row> = artists::table
        .inner_join(album_artists::table)
        .filter(scope.album_artists_filter())
        .group_by(artists::id)
        .select((
            artists::id,
            artists::name,
            artists::sort_name,
            artists::mbid,
            diesel::dsl::count(album_artists::album_id),
        ))
        .load(conn)?;
    let mut views: Vec<ArtistView> = rows
        .into_iter()
        .map(|(id, name, sort_name, mbid, album_count)| ArtistView {
            id,
            name,
            sort_name,
            mbid,
            album_count,
            cover_art: None,
        })
        .collect();
    covers::fill_artist_covers(conn, &mut views)?;
    Ok(views)
}

/// One artist, with its album count.
pub fn artist(conn: &mut SqliteConnection, id: i32) -> QueryResult<Option<ArtistView>> {
    artist_in(conn, id, &Scope::All)
}

/// One artist the scope shows (credited on a visible track), with its visible album count.
pub fn artist_in(
    conn: &mut SqliteConnection,
    id: i32,
    scope: &Scope,
) -> QueryResult<Option<ArtistView>> {
    if !scope.is_all() && !access::id_in_scope(conn, scope, Id::Artist(id))? {
        return Ok(None);
    }
    let row: Option<(i32, String, Option<String>, Option<String>)> = artists::table
        .find(id)
        .select((
            artists::id,
            artists::name,
            artists::sort_name,
            artists::mbid,
        ))
        .get_result(conn)
        .optional()?;
    let Some((id, name, sort_name, mbid)) = row else {
        return Ok(None);
    };
    let album_count: i64 = album_artists::table
        .filter(album_artists::artist_id.eq(id))
        .filter(scope.album_artists_filter())
        .count()
        .get_result(conn)?;
    let mut view = [ArtistView {
        id,
        name,
        sort_name,
        mbid,
        album_count,
        cover_art: None,
    }];
    covers::fill_artist_covers(conn, &mut view)?;
    let [view] = view;
    Ok(Some(view))
}

/// Artists by id with their album counts, in the order given (missing ids skipped).
pub fn artist_views(conn: &mut SqliteConnection, ids: &[i32]) -> QueryResult<Vec<ArtistView>> {
    artist_views_in(conn, ids, &Scope::All)
}

/// Artists by id with the number of their albums the scope shows, in the order given
/// (missing ids skipped; the caller chooses visible ids).
pub fn artist_views_in(
    conn: &mut SqliteConnection,
    ids: &[i32],
    scope: &Scope,
) -> QueryResult<Vec<ArtistView>> {
    type Row = (i32, String, Option<String>, Option<String>);
    let mut rows: HashMap<i32, Row> = HashMap::new();
    let mut counts: HashMap<i32, i64> = HashMap::new();
    for chunk in ids.chunks(500) {
        let found: Vec<Row> = Cached(
            artists::table
                .filter(sql::in_ids("artists.id", chunk))
                .select((
                    artists::id,
                    artists::name,
                    artists::sort_name,
                    artists::mbid,
                )),
        )
        .load(conn)?;
        rows.extend(found.into_iter().map(|r| (r.0, r)));
        let n: Vec<(i32, i64)> = Cached(
            album_artists::table
                .filter(sql::in_ids("album_artists.artist_id", chunk))
                .filter(scope.album_artists_filter())
                .group_by(album_artists::artist_id)
                .select((
                    album_artists::artist_id,
                    diesel::dsl::count(album_artists::album_id),
                )),
        )
        .load(conn)?;
        counts.extend(n);
    }
    let mut views: Vec<ArtistView> = ids
        .iter()
        .filter_map(|id| {
            rows.remove(id)
                .map(|(id, name, sort_name, mbid)| ArtistView {
                    id,
                    name,
                    sort_name,
                    mbid,
                    album_count: counts.get(&id).copied().unwrap_or(0),
                    cover_art: None,
                })
        })
        .collect();
    covers::fill_artist_covers(conn, &mut views)?;
    Ok(views)
}

/// Albums an artist is album artist of that the scope shows, oldest first.
pub fn albums_of_artist_in(
    conn: &mut SqliteConnection,
    artist_id: i32,
    scope: &Scope,
) -> QueryResult<Vec<AlbumView>> {
    let ids: Vec<i32> = album_artists::table
        .filter(album_artists::artist_id.eq(artist_id))
        .filter(scope.album_artists_filter())
        .select(album_artists::album_id)
        .load(conn)?;
    let mut views = album_views_in(conn, &ids, scope)?;
    views.sort_by(|a, b| {
        (a.album.year, a.album.name.to_lowercase())
            .cmp(&(b.album.year, b.album.name.to_lowercase()))
    });
    Ok(views)
}

/// Albums by id, with credits and genres, in the order given (missing ids skipped).
pub fn album_views(conn: &mut SqliteConnection, ids: &[i32]) -> QueryResult<Vec<AlbumView>> {
    let mut rows: HashMap<i32, Album> = HashMap::new();
    let mut credits: HashMap<i32, Vec<Credit>> = HashMap::new();
    let mut genre_names: HashMap<i32, Vec<String>> = HashMap::new();
    let mut disc_titles: HashMap<i32, Vec<(i32, String)>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let discs: Vec<(i32, Option<i32>, Option<String>)> = Cached(
            tracks::table
                .filter(sql::in_ids("tracks.album_id", chunk))
                .filter(tracks::disc_subtitle.is_not_null())
                .select((tracks::album_id, tracks::disc_number, tracks::disc_subtitle))
                .distinct()
                .order((tracks::album_id, tracks::disc_number)),
        )
        .load(conn)?;
        for (album_id, disc, title) in discs {
            let list = disc_titles.entry(album_id).or_default();
            let disc = disc.unwrap_or(1);
            if let Some(title) = title
                && !list.iter().any(|(d, _)| *d == disc)
            {
                list.push((disc, title));
            }
        }
        for album in Cached(
            albums::table
                .filter(sql::in_ids("albums.id", chunk))
                .select(Album::as_select()),
        )
        .load(conn)?
        {
            rows.insert(album.id, album);
        }
        let links: Vec<(i32, i32, String)> = Cached(
            album_artists::table
                .inner_join(artists::table)
                .filter(sql::in_ids("album_artists.album_id", chunk))
                .order((album_artists::album_id, album_artists::position))
                .select((album_artists::album_id, artists::id, artists::name)),
        )
        .load(conn)?;
        for (album_id, id, name) in links {
            credits
                .entry(album_id)
                .or_default()
                .push(Credit { id, name });
        }
        let gs: Vec<(i32, String)> = Cached(
            album_genres::table
                .inner_join(genres::table)
                .filter(sql::in_ids("album_genres.album_id", chunk))
                .order(genres::name)
                .select((album_genres::album_id, genres::name)),
        )
        .load(conn)?;
        for (album_id, name) in gs {
            genre_names.entry(album_id).or_default().push(name);
        }
    }
    Ok(ids
        .iter()
        .filter_map(|id| {
            rows.remove(id).map(|album| AlbumView {
                artists: credits.remove(id).unwrap_or_default(),
                genres: genre_names.remove(id).unwrap_or_default(),
                disc_titles: disc_titles.remove(id).unwrap_or_default(),
                album,
            })
        })
        .collect())
}

/// `album_views` for a user who may not see every folder: song count, duration and size
/// count only the tracks the scope shows (an album can span music folders).
pub fn album_views_in(
    conn: &mut SqliteConnection,
    ids: &[i32],
    scope: &Scope,
) -> QueryResult<Vec<AlbumView>> {
    let mut views = album_views(conn, ids)?;
    if scope.is_all() {
        return Ok(views);
    }
    // The music folders of each album: one wholly inside the scope keeps its stored totals,
    // one wholly outside goes, and only one in both (rare) has its visible tracks summed.
    let mut folders_of: HashMap<i32, Vec<i32>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i32, i32)> = Cached(
            album_folders::table
                .filter(sql::in_ids("album_folders.album_id", chunk))
                .select((album_folders::album_id, album_folders::folder_id)),
        )
        .load(conn)?;
        for (album_id, folder_id) in rows {
            folders_of.entry(album_id).or_default().push(folder_id);
        }
    }
    let shown = |id: i32| -> (bool, bool) {
        let folders = folders_of.get(&id).map(Vec::as_slice).unwrap_or_default();
        let visible = folders.iter().filter(|f| scope.allows(**f)).count();
        (visible > 0, visible < folders.len())
    };
    let partly: Vec<i32> = ids
        .iter()
        .copied()
        .filter(|&id| shown(id) == (true, true))
        .collect();
    #[derive(QueryableByName)]
    struct Totals {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        album_id: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        songs: i32,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        duration_ms: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        size: i64,
    }
    let mut totals: HashMap<i32, Totals> = HashMap::new();
    let folders = scope.folders_bind().unwrap_or_default();
    for chunk in partly.chunks(500) {
        let rows: Vec<Totals> = Cached(
            diesel::sql_query(sql::in_scope(
                sql::ALBUM_TOTALS,
                &scope.bound_condition("folder_id"),
            ))
            .bind::<diesel::sql_types::Text, _>(
                serde_json::to_string(chunk).unwrap_or_else(|_| "[]".into()),
            )
            .bind::<diesel::sql_types::Text, _>(&folders),
        )
        .load(conn)?;
        totals.extend(rows.into_iter().map(|t| (t.album_id, t)));
    }
    views.retain_mut(|v| match shown(v.album.id) {
        (false, _) => false,
        (true, false) => true,
        (true, true) => match totals.get(&v.album.id) {
            Some(t) => {
                v.album.song_count = t.songs;
                v.album.duration_ms = t.duration_ms;
                v.album.size = t.size;
                true
            }
            None => false,
        },
    });
    Ok(views)
}

/// An album's tracks that the scope shows, in disc and track order.
pub fn tracks_of_album_in(
    conn: &mut SqliteConnection,
    album_id: i32,
    scope: &Scope,
) -> QueryResult<Vec<TrackView>> {
    let rows: Vec<ListedTrack> = tracks::table
        .filter(tracks::album_id.eq(album_id))
        .filter(scope.tracks_filter())
        .order((tracks::disc_number, tracks::track_number, tracks::path))
        .select(ListedTrack::as_select())
        .load(conn)?;
    track_views(conn, rows)
}

/// Tracks by id, in the order given (missing ids skipped).
pub fn tracks_by_id(conn: &mut SqliteConnection, ids: &[i32]) -> QueryResult<Vec<TrackView>> {
    let mut rows: HashMap<i32, ListedTrack> = HashMap::new();
    for chunk in ids.chunks(500) {
        for t in Cached(
            tracks::table
                .filter(sql::in_ids("tracks.id", chunk))
                .select(ListedTrack::as_select()),
        )
        .load(conn)?
        {
            rows.insert(t.id, t);
        }
    }
    let ordered = ids.iter().filter_map(|id| rows.remove(id)).collect();
    track_views(conn, ordered)
}

/// Adds credits and genres to track rows (three queries per 500 tracks).
pub fn track_views(
    conn: &mut SqliteConnection,
    rows: Vec<ListedTrack>,
) -> QueryResult<Vec<TrackView>> {
    let ids: Vec<i32> = rows.iter().map(|t| t.id).collect();
    let mut credits: HashMap<(i32, String), Vec<Credit>> = HashMap::new();
    let mut genre_names: HashMap<i32, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let links: Vec<(i32, String, i32, String)> = Cached(
            track_artists::table
                .inner_join(artists::table)
                .filter(sql::in_ids("track_artists.track_id", chunk))
                .order((
                    track_artists::track_id,
                    track_artists::role,
                    track_artists::position,
                ))
                .select((
                    track_artists::track_id,
                    track_artists::role,
                    artists::id,
                    artists::name,
                )),
        )
        .load(conn)?;
        for (track_id, role, id, name) in links {
            credits
                .entry((track_id, role))
                .or_default()
                .push(Credit { id, name });
        }
        let gs: Vec<(i32, String)> = Cached(
            track_genres::table
                .inner_join(genres::table)
                .filter(sql::in_ids("track_genres.track_id", chunk))
                .order((track_genres::track_id, track_genres::position))
                .select((track_genres::track_id, genres::name)),
        )
        .load(conn)?;
        for (track_id, name) in gs {
            genre_names.entry(track_id).or_default().push(name);
        }
    }
    let mut album_ids: Vec<i32> = rows.iter().map(|t| t.album_id).collect();
    album_ids.sort_unstable();
    album_ids.dedup();
    let album_covers = covers::album_covers(conn, &album_ids)?;
    let mut loudness = crate::loudness::store::stored_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|track| TrackView {
            measured_loudness: loudness
                .remove(&track.id)
                .filter(|m| m.is_of(&track.file, track.album_id))
                .map(|m| m.values),
            artists: credits
                .remove(&(track.id, "artist".to_string()))
                .unwrap_or_default(),
            album_artists: credits
                .remove(&(track.id, "albumartist".to_string()))
                .unwrap_or_default(),
            composers: credits
                .remove(&(track.id, "composer".to_string()))
                .unwrap_or_default(),
            genres: genre_names.remove(&track.id).unwrap_or_default(),
            cover_art: covers::track_cover(&track, album_covers.get(&track.album_id)),
            track,
        })
        .collect())
}

/// Every genre with its counts, by name. For a scope narrower than every folder, the counts
/// are of visible songs and albums, and genres with no visible song are left out.
pub fn genres(conn: &mut SqliteConnection, scope: &Scope) -> QueryResult<Vec<GenreView>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        songs: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        albums: i64,
    }
    let rows: Vec<Row> = match scope.folders_bind() {
        None => Cached(diesel::sql_query(sql::GENRES)).load(conn)?,
        Some(folders) => Cached(
            diesel::sql_query(
                sql::GENRES_IN_SCOPE
                    .replace(sql::SCOPE_TRACKS, &scope.bound_condition("t.folder_id"))
                    .replace(sql::SCOPE, &scope.bound_album_condition("ag.album_id")),
            )
            .bind::<diesel::sql_types::Text, _>(folders),
        )
        .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| GenreView {
            name: r.name,
            song_count: r.songs,
            album_count: r.albums,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_junk() {
        for id in [
            Id::Artist(3),
            Id::Album(7),
            Id::Track(1),
            Id::Directory(9),
            Id::Playlist(4),
            Id::PodcastChannel(5),
            Id::PodcastEpisode(6),
        ] {
            assert_eq!(Id::parse(&id.to_string()), Some(id));
        }
        for bad in ["", "7", "al-", "al-x", "xx-1", "al-0", "al--1", "al-1;al-2"] {
            assert_eq!(Id::parse(bad), None, "{bad}");
        }
    }
}
