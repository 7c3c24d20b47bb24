//! The catalog service: owns the read pool, and runs every operation the API answers from in
//! one transaction, so a response never mixes two states of the catalog.
//!
//! Reads run in a deferred transaction (`BEGIN`): on a WAL database the first statement fixes
//! the snapshot every later statement of the operation sees, however many batches the scanner
//! commits meanwhile (getAlbum makes about eleven statements). Writes run in an immediate
//! transaction (`BEGIN IMMEDIATE`), so a writer never has to upgrade a read lock, which SQLite
//! answers with SQLITE_BUSY whatever the busy timeout.
//!
//! Who is asking is a `Viewer` (`access::Viewer`), resolved once per request at
//! authentication and passed to the operations. The operations below compose several library
//! reads for one protocol answer; run them inside `read`.

use super::access::{self, Viewer};
use super::annotations::{self, Annotation, ItemKind};
use super::cache::{CatalogCache, Key};
use super::lists::{self, AlbumOrder, AlbumQuery, FolderListItem, SongFilter};
use super::search::{self, FieldQuery, Page};
use super::{AlbumView, ArtistView, GenreView, Id, TrackView, folders};
use crate::db::DbPool;
use crate::db::models::{Album, Directory};
use diesel::SqliteConnection;
use diesel::connection::Connection;
use diesel::r2d2::PoolError;
use diesel::result::QueryResult;
use std::collections::HashMap;
use std::sync::Arc;

/// The viewer's annotations of items, by item id.
pub type Notes = HashMap<i32, Annotation>;

/// An album as the viewer sees it: totals of its visible tracks, those tracks in disc and
/// track order, and the viewer's annotations of the album and of each track.
pub struct AlbumPage {
    pub album: AlbumView,
    pub songs: Vec<TrackView>,
    pub album_notes: Notes,
    pub song_notes: Notes,
}

/// The album `id`, or None when it does not exist or has no track the viewer may see.
pub fn album(c: &mut SqliteConnection, viewer: &Viewer, id: i32) -> QueryResult<Option<AlbumPage>> {
    let scope = &viewer.scope;
    let Some(album) = super::album_views_in(c, &[id], scope)?.pop() else {
        return Ok(None);
    };
    let songs = super::tracks_of_album_in(c, id, scope)?;
    let ids: Vec<i32> = songs.iter().map(|s| s.track.id).collect();
    Ok(Some(AlbumPage {
        album,
        album_notes: annotations::of_items(c, viewer.user_id, ItemKind::Album, &[id])?,
        song_notes: annotations::of_items(c, viewer.user_id, ItemKind::Track, &ids)?,
        songs,
    }))
}

/// getSong: the track `id` with the viewer's annotation, or None when it does not exist or
/// lies in a folder the viewer may not see.
pub fn song(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    id: i32,
) -> QueryResult<Option<(TrackView, Notes)>> {
    if !viewer.scope.is_all() && !access::track_in_scope(c, &viewer.scope, id)? {
        return Ok(None);
    }
    let (mut views, notes) = songs(c, viewer, &[id])?;
    Ok(views.pop().map(|v| (v, notes)))
}

/// An artist as the viewer sees it: its visible album count, the albums it is album artist
/// of that the viewer may see (oldest first), and the viewer's annotations of both.
pub struct ArtistPage {
    pub artist: ArtistView,
    pub albums: Vec<AlbumView>,
    pub artist_notes: Notes,
    pub album_notes: Notes,
}

/// The artist `id`, or None when it does not exist or is credited on no visible track.
pub fn artist(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    id: i32,
) -> QueryResult<Option<ArtistPage>> {
    let scope = &viewer.scope;
    let Some(artist) = super::artist_in(c, id, scope)? else {
        return Ok(None);
    };
    let albums = super::albums_of_artist_in(c, id, scope)?;
    let ids: Vec<i32> = albums.iter().map(|a| a.album.id).collect();
    Ok(Some(ArtistPage {
        artist,
        artist_notes: annotations::of_items(c, viewer.user_id, ItemKind::Artist, &[id])?,
        album_notes: annotations::of_items(c, viewer.user_id, ItemKind::Album, &ids)?,
        albums,
    }))
}

/// What the viewer starred, with views and their annotations, most recently starred first.
pub struct Starred {
    pub artists: Vec<(ArtistView, Annotation)>,
    pub albums: Vec<(AlbumView, Annotation)>,
    pub songs: Vec<(TrackView, Annotation)>,
}

/// getStarred2: the artists, albums and songs the viewer starred that they may see.
pub fn starred(c: &mut SqliteConnection, viewer: &Viewer) -> QueryResult<Starred> {
    let (user_id, scope) = (viewer.user_id, &viewer.scope);
    let mut artists = Vec::new();
    for (id, a) in annotations::starred(c, user_id, ItemKind::Artist, scope)? {
        if let Some(v) = super::artist_in(c, id, scope)? {
            artists.push((v, a));
        }
    }
    let albums = annotations::starred(c, user_id, ItemKind::Album, scope)?;
    let ids: Vec<i32> = albums.iter().map(|(id, _)| *id).collect();
    let mut notes: Notes = albums.into_iter().collect();
    let albums = super::album_views_in(c, &ids, scope)?
        .into_iter()
        .filter_map(|v| notes.remove(&v.album.id).map(|a| (v, a)))
        .collect();
    let songs = annotations::starred(c, user_id, ItemKind::Track, scope)?;
    let ids: Vec<i32> = songs.iter().map(|(id, _)| *id).collect();
    let mut notes: Notes = songs.into_iter().collect();
    let songs = super::tracks_by_id(c, &ids)?
        .into_iter()
        .filter_map(|v| notes.remove(&v.track.id).map(|a| (v, a)))
        .collect();
    Ok(Starred {
        artists,
        albums,
        songs,
    })
}

/// The viewer's stars and ratings of some directories, and everyone's average ratings.
#[derive(Default)]
pub struct FolderNotes {
    pub mine: Notes,
    pub average: HashMap<i32, f64>,
}

/// From how many folders on `FolderNotes::load` reads every folder annotation rather than
/// looking each folder up (folders are annotated by few folder-mode clients, and getIndexes
/// of a large library lists tens of thousands).
const MANY_FOLDERS: usize = 500;

impl FolderNotes {
    /// Nobody rated these folders and the viewer starred none of them.
    pub fn is_empty(&self) -> bool {
        self.mine.is_empty() && self.average.is_empty()
    }

    pub fn load(c: &mut SqliteConnection, user_id: i32, dir_ids: &[i32]) -> QueryResult<Self> {
        if dir_ids.len() >= MANY_FOLDERS {
            let wanted: std::collections::HashSet<i32> = dir_ids.iter().copied().collect();
            let mut notes = Self {
                mine: annotations::of_kind(c, user_id, ItemKind::Directory)?,
                average: annotations::average_ratings_of_kind(c, ItemKind::Directory)?,
            };
            notes.mine.retain(|id, _| wanted.contains(id));
            notes.average.retain(|id, _| wanted.contains(id));
            return Ok(notes);
        }
        Ok(Self {
            mine: annotations::of_items(c, user_id, ItemKind::Directory, dir_ids)?,
            average: annotations::average_ratings(c, ItemKind::Directory, dir_ids)?,
        })
    }
}

/// The folders the viewer starred (folder mode), most recently starred first, with the star
/// time: album folders (holding tracks directly) and artist folders (holding only
/// sub-folders), as Subsonic tells them apart. Music folder roots are not listed (no index
/// shows them as entries).
pub struct StarredFolders {
    pub artists: Vec<(Directory, i64)>,
    pub albums: Vec<(Directory, i64)>,
    pub notes: FolderNotes,
}

/// getStarred: what `starred` lists, and the starred folders of folder-mode clients.
pub fn starred_with_folders(
    c: &mut SqliteConnection,
    viewer: &Viewer,
) -> QueryResult<(Starred, StarredFolders)> {
    let tagged = starred(c, viewer)?;
    let starred = annotations::starred(c, viewer.user_id, ItemKind::Directory, &viewer.scope)?;
    let ids: Vec<i32> = starred.iter().map(|(id, _)| *id).collect();
    let mut dirs: HashMap<i32, Directory> = folders::directories_by_id(c, &ids)?
        .into_iter()
        .filter(|d| d.parent_id.is_some())
        .map(|d| (d.id, d))
        .collect();
    let album_folders = folders::with_direct_tracks(c, &ids)?;
    let notes = FolderNotes::load(c, viewer.user_id, &ids)?;
    let (mut artists, mut albums) = (Vec::new(), Vec::new());
    for (id, a) in starred {
        let Some(dir) = dirs.remove(&id) else {
            continue;
        };
        let at = a.starred_at.unwrap_or_default();
        if album_folders.contains(&id) {
            albums.push((dir, at));
        } else {
            artists.push((dir, at));
        }
    }
    Ok((
        tagged,
        StarredFolders {
            artists,
            albums,
            notes,
        },
    ))
}

/// Items with the viewer's annotations of them.
pub type Annotated<T> = (Vec<T>, Notes);

/// Albums by id (in that order, the caller having chosen visible ones) with the viewer's
/// annotations; totals count the tracks the viewer may see.
pub fn albums(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    ids: &[i32],
) -> QueryResult<Annotated<AlbumView>> {
    let views = super::album_views_in(c, ids, &viewer.scope)?;
    let notes = annotations::of_items(c, viewer.user_id, ItemKind::Album, ids)?;
    Ok((views, notes))
}

/// Tracks by id (in that order) with the viewer's annotations.
pub fn songs(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    ids: &[i32],
) -> QueryResult<Annotated<TrackView>> {
    let views = super::tracks_by_id(c, ids)?;
    let notes = annotations::of_items(c, viewer.user_id, ItemKind::Track, ids)?;
    Ok((views, notes))
}

/// What search2/search3 ask for: the query's words and one page per kind (a page of 0 items
/// reads nothing).
pub struct SearchQuery {
    pub words: Vec<String>,
    pub artists: Page,
    pub albums: Page,
    pub songs: Page,
}

/// What search2/search3 found, with the viewer's annotations.
pub struct Found {
    pub artists: Annotated<ArtistView>,
    pub albums: Annotated<AlbumView>,
    pub songs: Annotated<TrackView>,
}

/// search2/search3: artists, albums and songs matching the words (everything for none) that
/// the viewer may see.
pub fn search(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    cache: &CatalogCache,
    q: &SearchQuery,
) -> QueryResult<Found> {
    let scope = &viewer.scope;
    let artists = if q.artists.limit > 0 {
        let ids = search::artist_ids(c, cache, &q.words, scope, q.artists)?;
        let views = super::artist_views_in(c, &ids, scope)?;
        let notes = annotations::of_items(c, viewer.user_id, ItemKind::Artist, &ids)?;
        (views, notes)
    } else {
        Default::default()
    };
    let albums = if q.albums.limit > 0 {
        let ids = search::album_ids(c, cache, &q.words, scope, q.albums)?;
        self::albums(c, viewer, &ids)?
    } else {
        Default::default()
    };
    let songs = if q.songs.limit > 0 {
        let ids = if q.words.is_empty() {
            whole_listing_page(c, viewer, cache, q.songs)?
        } else {
            search::track_ids(c, &q.words, scope, q.songs)?
        };
        self::songs(c, viewer, &ids)?
    } else {
        Default::default()
    };
    Ok(Found {
        artists,
        albums,
        songs,
    })
}

/// One page of the whole-library track listing (search3 ""), cut from the whole listing as
/// cached for the viewer's folders: clients sync a library with it page by page, and a deep
/// page would otherwise walk the index up to its offset (15 ms at offset 500,000).
fn whole_listing_page(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    cache: &CatalogCache,
    page: Page,
) -> QueryResult<Vec<i32>> {
    let all = cache.get_or_build(c, Key::new("every track", &viewer.scope), |c| {
        search::track_ids(c, &[], &viewer.scope, Page::EVERYTHING)
    })?;
    Ok(page_of(&all, page))
}

/// `page` of `all`.
fn page_of(all: &[i32], page: Page) -> Vec<i32> {
    let start = usize::try_from(page.offset.max(0))
        .unwrap_or(usize::MAX)
        .min(all.len());
    let len = usize::try_from(page.limit.max(0)).unwrap_or(usize::MAX);
    all[start..].iter().take(len).copied().collect()
}

/// The deprecated `search`: the number of songs matching a field query and one page of them.
pub fn search_by_fields(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    q: &FieldQuery,
    page: Page,
) -> QueryResult<(i64, Annotated<TrackView>)> {
    let (total, ids) = search::track_ids_by_fields(c, q, &viewer.scope, page)?;
    Ok((total, songs(c, viewer, &ids)?))
}

/// One page of getAlbumList2 (and of getAlbumList's orders without folders) in `order`,
/// with the viewer's annotations.
pub fn album_list(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    cache: &CatalogCache,
    order: AlbumOrder,
    page: Page,
) -> QueryResult<Annotated<AlbumView>> {
    let ids = match cached_album_ids(c, viewer, cache, &order, page)? {
        Some(ids) => ids,
        None => lists::album_ids(c, &album_query(viewer, order, page))?,
    };
    albums(c, viewer, &ids)
}

/// One page of an album list whose order depends on the catalog alone (by name, artist,
/// year or genre), cut from the whole list in that order as cached for the viewer's folders:
/// a deep page costs what the first one does. None for the orders that depend on the user
/// (starred, highest, frequent, recent) or on chance (random) or that an index gives
/// directly (newest).
fn cached_album_ids(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    cache: &CatalogCache,
    order: &AlbumOrder,
    page: Page,
) -> QueryResult<Option<Vec<i32>>> {
    let cacheable = matches!(
        order,
        AlbumOrder::ByName
            | AlbumOrder::ByArtist { .. }
            | AlbumOrder::ByYear { .. }
            | AlbumOrder::ByGenre(_)
    );
    if !cacheable {
        return Ok(None);
    }
    let key = Key::new(format!("albums {order:?}"), &viewer.scope);
    let all = cache.get_or_build(c, key, |c| {
        lists::album_ids(c, &album_query(viewer, order.clone(), Page::EVERYTHING))
    })?;
    Ok(Some(page_of(&all, page)))
}

fn album_query(viewer: &Viewer, order: AlbumOrder, page: Page) -> AlbumQuery {
    AlbumQuery {
        order,
        user_id: viewer.user_id,
        scope: viewer.scope.clone(),
        limit: page.limit,
        offset: page.offset,
    }
}

/// One page of getAlbumList (folder mode): albums and, for `starred` and `highest`, the
/// album folders the viewer starred or rated, in one order (`items`), with annotations.
pub struct FolderAlbumList {
    pub items: Vec<FolderListItem>,
    pub albums: Annotated<AlbumView>,
    pub folders: Vec<Directory>,
    pub folder_notes: FolderNotes,
}

/// getAlbumList: see `FolderAlbumList`.
pub fn folder_album_list(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    cache: &CatalogCache,
    order: AlbumOrder,
    page: Page,
) -> QueryResult<FolderAlbumList> {
    let items = match cached_album_ids(c, viewer, cache, &order, page)? {
        Some(ids) => ids.into_iter().map(FolderListItem::Album).collect(),
        None => lists::folder_list_items(c, &album_query(viewer, order, page))?,
    };
    let (mut album_ids, mut dir_ids) = (Vec::new(), Vec::new());
    for item in &items {
        match *item {
            FolderListItem::Album(id) => album_ids.push(id),
            FolderListItem::Directory(id) => dir_ids.push(id),
        }
    }
    Ok(FolderAlbumList {
        items,
        albums: albums(c, viewer, &album_ids)?,
        folders: folders::directories_by_id(c, &dir_ids)?,
        folder_notes: FolderNotes::load(c, viewer.user_id, &dir_ids)?,
    })
}

/// getRandomSongs: up to `size` random songs the viewer may see, of a genre and between two
/// years when given, with annotations.
pub fn random_songs(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    genre: Option<String>,
    (from_year, to_year): (Option<i32>, Option<i32>),
    size: i64,
) -> QueryResult<Annotated<TrackView>> {
    let filter = SongFilter {
        genre,
        from_year,
        to_year,
        scope: viewer.scope.clone(),
    };
    let ids = lists::random_track_ids(c, &filter, size)?;
    songs(c, viewer, &ids)
}

/// getSongsByGenre: one page of a genre's songs the viewer may see, with annotations.
pub fn songs_by_genre(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    genre: &str,
    page: Page,
) -> QueryResult<Annotated<TrackView>> {
    let ids = lists::track_ids_by_genre(c, genre, &viewer.scope, page.limit, page.offset)?;
    songs(c, viewer, &ids)
}

/// getIndexes' content: the top-level folders of the viewer's music folders (those holding
/// audio), the tracks lying directly in their roots, and the viewer's annotations of both.
pub struct FolderIndex {
    pub folders: Arc<Vec<Directory>>,
    pub files: (Arc<Vec<TrackView>>, Notes),
    pub folder_notes: FolderNotes,
}

/// getIndexes: the library's change time and, unless nothing changed after `since`, the
/// index.
pub fn folder_index(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    cache: &CatalogCache,
    since: Option<i64>,
) -> QueryResult<(i64, Option<FolderIndex>)> {
    // Cached too: for some folders of several no index gives it (a scan of every track).
    let last = *cache.get_or_build(c, Key::new("last modified", &viewer.scope), |c| {
        folders::last_modified(c, &viewer.scope)
    })?;
    if since.is_some_and(|s| last <= s) {
        return Ok((last, None));
    }
    // The folders and files (catalog only) are cached; the viewer's notes are read each time.
    let top = cache.get_or_build(c, Key::new("top folders and files", &viewer.scope), |c| {
        let root_ids: Vec<i32> = folders::roots(c, &viewer.scope)?
            .iter()
            .map(|d| d.id)
            .collect();
        Ok((
            Arc::new(folders::subdirectories(c, &root_ids)?),
            Arc::new(folders::tracks_in_directories(c, &root_ids)?),
        ))
    })?;
    let (dirs, files) = (top.0.clone(), top.1.clone());
    let file_notes = track_notes(c, viewer, &files)?;
    let dir_ids: Vec<i32> = dirs.iter().map(|d| d.id).collect();
    Ok((
        last,
        Some(FolderIndex {
            folder_notes: FolderNotes::load(c, viewer.user_id, &dir_ids)?,
            folders: dirs,
            files: (files, file_notes),
        }),
    ))
}

/// getMusicDirectory of a folder: the folder (a music folder's root named after the music
/// folder), its sub-folders holding audio, its tracks, and the viewer's annotations.
pub struct DirectoryPage {
    pub directory: Directory,
    pub name: String,
    pub subfolders: Vec<Directory>,
    pub songs: Annotated<TrackView>,
    /// Of the sub-folders and the folder itself.
    pub folder_notes: FolderNotes,
}

/// The folder `id`, or None when it does not exist or lies in a music folder the viewer may
/// not see.
pub fn music_directory(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    id: i32,
) -> QueryResult<Option<DirectoryPage>> {
    let Some(dir) = folders::directory(c, id)?.filter(|d| viewer.scope.allows(d.folder_id)) else {
        return Ok(None);
    };
    let name = match dir.parent_id {
        None => folders::folder_name(c, dir.folder_id)?.unwrap_or_else(|| dir.name.clone()),
        Some(_) => dir.name.clone(),
    };
    let subfolders = folders::subdirectories(c, &[id])?;
    let songs = folders::tracks_in_directories(c, &[id])?;
    let notes = track_notes(c, viewer, &songs)?;
    let mut dir_ids: Vec<i32> = subfolders.iter().map(|d| d.id).collect();
    dir_ids.push(id);
    Ok(Some(DirectoryPage {
        directory: dir,
        name,
        subfolders,
        songs: (songs, notes),
        folder_notes: FolderNotes::load(c, viewer.user_id, &dir_ids)?,
    }))
}

/// The viewer's annotations of these tracks.
fn track_notes(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    songs: &[TrackView],
) -> QueryResult<Notes> {
    let ids: Vec<i32> = songs.iter().map(|t| t.track.id).collect();
    annotations::of_items(c, viewer.user_id, ItemKind::Track, &ids)
}

/// Similar songs are drawn from the seed artists and this many similar artists.
const SIMILAR_ARTISTS_FOR_SONGS: i64 = 20;

/// What "info" and "similar" calls start from.
pub struct Seed {
    /// The artists an id stands for: an artist itself, an album's album artists, a track's
    /// artists and album artists, a folder's main album artist (none without audio).
    pub artists: Vec<i32>,
    /// The track to leave out of "similar songs".
    pub exclude: Option<i32>,
}

/// The seed of an id; `None`: no such item, or one the viewer may not see.
pub fn seed(c: &mut SqliteConnection, viewer: &Viewer, id: Id) -> QueryResult<Option<Seed>> {
    let scope = &viewer.scope;
    let seed = |artists: Vec<i32>, exclude: Option<i32>| Seed { artists, exclude };
    if !scope.is_all() && !access::id_in_scope(c, scope, id)? {
        return Ok(None);
    }
    Ok(match id {
        Id::Artist(n) => super::artist(c, n)?.map(|_| seed(vec![n], None)),
        Id::Album(n) => {
            let ids = folders::album_artist_ids(c, n)?;
            (!ids.is_empty()).then(|| seed(ids, None))
        }
        Id::Track(n) => folders::track_artist_ids(c, n)?.map(|(ids, _)| seed(ids, Some(n))),
        Id::Directory(n) => match folders::directory(c, n)? {
            None => None,
            Some(dir) => Some(seed(
                folders::main_artist_of_directory(c, &dir)?
                    .into_iter()
                    .collect(),
                None,
            )),
        },
        Id::Playlist(_) | Id::PodcastChannel(_) | Id::PodcastEpisode(_) => None,
    })
}

/// getArtistInfo(2): the first seed artist, up to `count` similar artists the viewer may see
/// with the viewer's stars, and for folder mode the folder standing for each.
pub struct ArtistInfo {
    pub seed: Option<ArtistView>,
    pub similar: Vec<ArtistView>,
    pub similar_notes: Notes,
    pub similar_folders: Option<HashMap<i32, i32>>,
}

/// See `ArtistInfo`; None when `id` is no item the viewer may see.
pub fn artist_info(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    id: Id,
    count: i64,
) -> QueryResult<Option<ArtistInfo>> {
    let scope = &viewer.scope;
    let Some(Seed { artists: seeds, .. }) = seed(c, viewer, id)? else {
        return Ok(None);
    };
    let first = super::artist_views(c, &seeds[..seeds.len().min(1)])?.pop();
    let similar_ids = folders::similar_artists(c, &seeds, count, scope)?;
    let similar = super::artist_views_in(c, &similar_ids, scope)?;
    let similar_notes = annotations::of_items(c, viewer.user_id, ItemKind::Artist, &similar_ids)?;
    let similar_folders = match id {
        Id::Directory(_) => Some(folders::artist_directories(c, &similar_ids, scope)?),
        _ => None,
    };
    Ok(Some(ArtistInfo {
        seed: first,
        similar,
        similar_notes,
        similar_folders,
    }))
}

/// getAlbumInfo(2): the album an id stands for (an album, a track's album, a folder's main
/// album). None: no such item the viewer may see; `Some(None)`: a folder without audio.
pub fn album_info(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    id: Id,
) -> QueryResult<Option<Option<Album>>> {
    if !viewer.scope.is_all() && !access::id_in_scope(c, &viewer.scope, id)? {
        return Ok(None);
    }
    let album_id = match id {
        Id::Album(n) => Some(n),
        Id::Track(n) => match folders::track_artist_ids(c, n)? {
            Some((_, album)) => Some(album),
            None => return Ok(None),
        },
        Id::Directory(n) => match folders::directory(c, n)? {
            Some(dir) => folders::main_album_of_directory(c, &dir)?,
            None => return Ok(None),
        },
        Id::Artist(_) | Id::Playlist(_) | Id::PodcastChannel(_) | Id::PodcastEpisode(_) => {
            return Ok(None);
        }
    };
    let Some(album_id) = album_id else {
        return Ok(Some(None));
    };
    Ok(super::album_views(c, &[album_id])?
        .pop()
        .map(|v| Some(v.album)))
}

/// getSimilarSongs(2): up to `count` random tracks by the seed artists interleaved with random
/// tracks by artists sharing their genres, without the seed track, with the viewer's
/// annotations. None when `id` is no item the viewer may see.
pub fn similar_songs(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    id: Id,
    count: i64,
) -> QueryResult<Option<Annotated<TrackView>>> {
    let scope = &viewer.scope;
    let Some(Seed {
        artists: seeds,
        exclude,
    }) = seed(c, viewer, id)?
    else {
        return Ok(None);
    };
    let own = folders::random_tracks_of_artists(c, &seeds, exclude, count, scope)?;
    let similar = folders::similar_artists(c, &seeds, SIMILAR_ARTISTS_FOR_SONGS, scope)?;
    let others = folders::random_tracks_of_artists(c, &similar, exclude, count, scope)?;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let (mut a, mut b) = (own.into_iter(), others.into_iter());
    while (out.len() as i64) < count {
        let (x, y) = (a.next(), b.next());
        if x.is_none() && y.is_none() {
            break;
        }
        for t in [x, y].into_iter().flatten() {
            if (out.len() as i64) < count && seen.insert(t.track.id) {
                out.push(t);
            }
        }
    }
    let notes = track_notes(c, viewer, &out)?;
    Ok(Some((out, notes)))
}

/// getTopSongs: an artist's (by name) most played tracks the viewer may see; an unknown
/// artist has none.
pub fn top_songs(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    artist_name: &str,
    count: i64,
) -> QueryResult<Annotated<TrackView>> {
    let songs = match folders::artist_by_name(c, artist_name)? {
        Some(id) => folders::top_tracks(c, id, count, &viewer.scope)?,
        None => Vec::new(),
    };
    let notes = track_notes(c, viewer, &songs)?;
    Ok((songs, notes))
}

/// getMusicFolders: the music folders the viewer may see, as (id, name), by id.
pub fn music_folders(c: &mut SqliteConnection, viewer: &Viewer) -> QueryResult<Vec<(i32, String)>> {
    let mut folders = super::music_folders(c)?;
    folders.retain(|(id, _)| viewer.scope.allows(*id));
    Ok(folders)
}

/// getGenres: every genre with the songs and albums the viewer may see (genres without any
/// left out for viewers who see only some folders).
pub fn genres(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    cache: &CatalogCache,
) -> QueryResult<Arc<Vec<GenreView>>> {
    cache.get_or_build(c, Key::new("genres", &viewer.scope), |c| {
        super::genres(c, &viewer.scope)
    })
}

/// getArtists: the album artists of the albums the viewer may see, as `arrange` orders and
/// groups them (the caller's one arrangement: it is cached with the artists until the
/// catalog changes).
pub fn artists_index<T: Send + Sync + 'static>(
    c: &mut SqliteConnection,
    viewer: &Viewer,
    cache: &CatalogCache,
    arrange: impl FnOnce(Vec<ArtistView>) -> T,
) -> QueryResult<Arc<T>> {
    cache.get_or_build(c, Key::new("artists", &viewer.scope), |c| {
        Ok(arrange(super::album_artists_index(c, &viewer.scope)?))
    })
}

/// The catalog: a pool of connections and the transaction rules for using them, and the
/// answers cached from it (`cache`).
#[derive(Clone)]
pub struct Catalog {
    pool: DbPool,
    cache: Arc<CatalogCache>,
}

impl Catalog {
    /// A catalog reading through `pool`.
    pub fn new(pool: DbPool) -> Catalog {
        Catalog {
            pool,
            cache: Arc::default(),
        }
    }

    /// The answers cached from this catalog, for the operations that take one.
    pub fn cache(&self) -> Arc<CatalogCache> {
        self.cache.clone()
    }

    /// Runs `work` in one read transaction (one snapshot). Blocking: call it off the async
    /// threads.
    pub fn read<T, E>(
        &self,
        work: impl FnOnce(&mut SqliteConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<PoolError>,
    {
        let mut conn = self.pool.get()?;
        conn.transaction(|c| work(c))
    }

    /// Runs `work` in one immediate (write) transaction. Blocking, like `read`.
    pub fn write<T, E>(
        &self,
        work: impl FnOnce(&mut SqliteConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<PoolError>,
    {
        let mut conn = self.pool.get()?;
        conn.immediate_transaction(|c| work(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db;
    use crate::library::access::{Scope, Viewer};
    use diesel::connection::SimpleConnection;

    #[derive(Debug, thiserror::Error)]
    enum TestError {
        #[error(transparent)]
        Db(#[from] diesel::result::Error),
        #[error(transparent)]
        Pool(#[from] PoolError),
    }

    /// The small test catalog (album 1 with track 1), its catalog service, and a second
    /// connection that plays the scanner.
    fn setup() -> (tempfile::TempDir, Catalog, SqliteConnection) {
        let (dir, scanner) = crate::library::test_catalog::catalog(&[(1, 1)]);
        let catalog = Catalog::new(db::pool(&dir.path().join("t.db"), 2).unwrap());
        (dir, catalog, scanner)
    }

    /// The scanner adds track 2 to album 1 and commits.
    fn scanner_adds_a_track(scanner: &mut SqliteConnection) {
        scanner
            .batch_execute(
                "INSERT INTO tracks (id, folder_id, directory_id, album_id, path, size, mtime, \
                 suffix, content_type, codec, duration_ms, title, album_name, artist_display, \
                 fingerprint, track_number, created_at, updated_at) \
                 VALUES (2, 1, 1, 1, 'a/2.mp3', 1, 0, 'mp3', 'audio/mpeg', 'mp3', 2000, 'T2', \
                 'Al', 'Ar', 2, 2, 0, 0)",
            )
            .unwrap();
    }

    fn album_tracks(c: &mut SqliteConnection) -> QueryResult<usize> {
        Ok(crate::library::tracks_of_album_in(c, 1, &Scope::All)?.len())
    }

    fn album_tracks_te(c: &mut SqliteConnection) -> Result<usize, TestError> {
        Ok(album_tracks(c)?)
    }

    #[test]
    fn a_read_sees_one_snapshot_while_a_writer_commits_between_its_statements() {
        let (_dir, catalog, mut scanner) = setup();
        let (before, after) = catalog
            .read(|c| -> Result<_, TestError> {
                let before = album_tracks(c)?;
                scanner_adds_a_track(&mut scanner);
                Ok((before, album_tracks(c)?))
            })
            .unwrap();
        assert_eq!(
            (before, after),
            (1, 1),
            "the commit must not split the read"
        );
        // The next operation sees the commit.
        assert_eq!(catalog.read(album_tracks_te).unwrap(), 2);
    }

    #[test]
    fn without_a_transaction_the_same_reads_would_see_two_states() {
        // The control for the test above: the same statements on a bare connection.
        let (_dir, catalog, mut scanner) = setup();
        let mut c = catalog.pool.get().unwrap();
        let before = album_tracks(&mut c).unwrap();
        scanner_adds_a_track(&mut scanner);
        assert_eq!((before, album_tracks(&mut c).unwrap()), (1, 2));
    }

    #[test]
    fn an_album_page_shows_only_what_the_viewer_may_see() {
        let (_dir, catalog, mut scanner) = setup();
        scanner_adds_a_track(&mut scanner);
        scanner
            .batch_execute(
                "UPDATE tracks SET folder_id = 2 WHERE id = 2; \
                 INSERT INTO album_folders (album_id, folder_id) VALUES (1, 2)",
            )
            .unwrap();
        let page = |viewer: Viewer| {
            catalog
                .read(|c| -> Result<_, TestError> { Ok(album(c, &viewer, 1)?) })
                .unwrap()
        };
        let everything = page(Viewer::everything(1, true)).unwrap();
        assert_eq!(everything.songs.len(), 2);
        let mut only_2 = Viewer::everything(2, false);
        only_2.scope = Scope::Only(vec![2]);
        let narrowed = page(only_2).unwrap();
        let ids: Vec<i32> = narrowed.songs.iter().map(|s| s.track.id).collect();
        assert_eq!(ids, [2]);
        assert_eq!(narrowed.album.album.song_count, 1);
        let mut nothing = Viewer::everything(2, false);
        nothing.scope = Scope::Only(vec![]);
        assert!(page(nothing).is_none());
    }

    #[test]
    fn a_write_commits_and_a_failed_one_rolls_back() {
        let (_dir, catalog, _scanner) = setup();
        catalog
            .write(|c| -> Result<_, TestError> {
                c.batch_execute("INSERT INTO library_folders (id, name, path, created_at) VALUES (3, 'C', '/c', 0)")?;
                Ok(())
            })
            .unwrap();
        let failed = catalog.write(|c| -> Result<(), TestError> {
            c.batch_execute(
                "INSERT INTO library_folders (id, name, path, created_at) VALUES (4, 'D', '/d', 0)",
            )?;
            Err(diesel::result::Error::RollbackTransaction.into())
        });
        assert!(failed.is_err());
        let folders = catalog
            .read(|c| -> Result<_, TestError> { Ok(crate::library::music_folders(c)?.len()) })
            .unwrap();
        assert_eq!(folders, 3);
    }

    #[test]
    fn a_write_operation_may_call_writes_that_open_their_own_transaction() {
        let (_dir, catalog, _scanner) = setup();
        catalog
            .write(|c| -> Result<_, TestError> {
                db::immediate(c, |c| {
                    c.batch_execute(
                        "INSERT INTO library_folders (id, name, path, created_at) \
                         VALUES (5, 'E', '/e', 0)",
                    )
                })?;
                Ok(())
            })
            .unwrap();
        let folders = catalog
            .read(|c| -> Result<_, TestError> { Ok(crate::library::music_folders(c)?.len()) })
            .unwrap();
        assert_eq!(folders, 3);
    }

    #[test]
    fn a_viewer_narrows_to_a_folder_it_may_see() {
        let (_dir, catalog, _scanner) = setup();
        let viewer = Viewer::everything(1, true);
        let scope = catalog
            .read(|c| -> Result<_, TestError> {
                Ok(viewer.narrowed(c, Some(1)).map_err(|e| e.to_string()))
            })
            .unwrap();
        assert_eq!(scope.unwrap().scope, Scope::Only(vec![1]));
    }

    /// Operations given a narrowed viewer: what bob stars or finds follows his folders.
    #[test]
    fn starred_search_and_folders_follow_the_viewers_folders() {
        let (_dir, mut c) = crate::library::test_catalog::catalog(&[(1, 1), (2, 2)]);
        let items = [
            (ItemKind::Track, 1),
            (ItemKind::Track, 2),
            (ItemKind::Album, 1),
        ];
        annotations::set_starred(&mut c, 2, &items, true, 1).unwrap();
        let bob = |scope| Viewer {
            user_id: 2,
            is_admin: false,
            scope,
        };
        let song_ids = |songs: &[(TrackView, Annotation)]| -> Vec<i32> {
            songs.iter().map(|(v, _)| v.track.id).collect()
        };
        let all = starred(&mut c, &bob(Scope::All)).unwrap();
        assert_eq!(song_ids(&all.songs), [2, 1]);
        assert_eq!(all.albums.len(), 1);
        let second = starred(&mut c, &bob(Scope::Only(vec![2]))).unwrap();
        assert_eq!(song_ids(&second.songs), [2]);
        // The album has a track bob may see; its totals count only that one.
        assert_eq!(second.albums[0].0.album.song_count, 1);
        let none = starred(&mut c, &bob(Scope::Only(vec![]))).unwrap();
        assert!(none.songs.is_empty() && none.albums.is_empty());

        let everything = SearchQuery {
            words: Vec::new(),
            artists: Page {
                limit: 10,
                offset: 0,
            },
            albums: Page {
                limit: 10,
                offset: 0,
            },
            songs: Page {
                limit: 10,
                offset: 0,
            },
        };
        let cache = CatalogCache::default();
        let found = search(&mut c, &bob(Scope::Only(vec![2])), &cache, &everything).unwrap();
        let ids: Vec<i32> = found.songs.0.iter().map(|v| v.track.id).collect();
        assert_eq!(ids, [2]);
        assert!(found.songs.1.contains_key(&2), "with bob's star");

        // Folder 1's root: hidden from a viewer of folder 2 only.
        assert!(
            music_directory(&mut c, &bob(Scope::Only(vec![2])), 1)
                .unwrap()
                .is_none()
        );
        let root = music_directory(&mut c, &bob(Scope::All), 1)
            .unwrap()
            .unwrap();
        assert_eq!(root.name, "m");
        let ids: Vec<i32> = root.songs.0.iter().map(|v| v.track.id).collect();
        assert_eq!(ids, [1]);
    }

    #[test]
    fn folder_notes_of_many_folders_are_those_of_each_folder() {
        let (_dir, mut c) = crate::library::test_catalog::catalog(&[]);
        c.batch_execute(
            "INSERT INTO annotations (user_id, item_type, item_id, starred_at, rating) VALUES \
             (1, 'directory', 5, 100, 4), (1, 'directory', 7, NULL, 2), \
             (2, 'directory', 5, NULL, 1), (2, 'directory', 900, 50, 5), \
             (1, 'album', 5, 10, 3)",
        )
        .unwrap();
        let few = FolderNotes::load(&mut c, 1, &[5, 7, 8]).unwrap();
        let many_ids: Vec<i32> = [5, 7, 8].into_iter().chain(1000..1600).collect();
        let many = FolderNotes::load(&mut c, 1, &many_ids).unwrap();
        for notes in [&few, &many] {
            assert_eq!(notes.mine.len(), 2);
            assert_eq!(notes.mine[&5].starred_at, Some(100));
            assert_eq!(notes.mine[&7].rating, Some(2));
            // Folder 900 is not asked for; the album annotation is of another kind.
            assert_eq!(notes.average.len(), 2);
            assert_eq!(notes.average[&5], 2.5);
            assert_eq!(notes.average[&7], 2.0);
        }
    }
}
