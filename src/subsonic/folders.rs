//! Folder browsing over the real directory tree (getIndexes, getMusicDirectory) — what DSub,
//! Ultrasonic and Symfonium's folder view use — and the video endpoints (we have no videos).

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{self, Annotations, Artist, Child, Index, Indexes, Letters, View, song_list};
use super::response::{Element, ToElement};
use super::shared::read_as;
use super::sort_keys::{IGNORED_ARTICLES, index_letter, sort_key};
use crate::db::models::Directory;
use crate::library::Id;
use crate::library::cache::Key;
use crate::library::catalog::{
    self, AlbumPage, ArtistPage, DirectoryPage, FolderIndex, FolderNotes,
};

/// getIndexes: the top-level folders of the music folders the user may see (or of the one
/// `musicFolderId` names), indexed by letter, and the audio files lying directly in their
/// roots.
pub async fn get_indexes(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let since: Option<i64> = ctx.params.number("ifModifiedSince")?;
    let cache = ctx.state.catalog.cache();
    let (last_modified, content, written) = read_as(&ctx, move |c, viewer| {
        let (last, content) = catalog::folder_index(c, viewer, &cache, since)?;
        // Without folder notes (most libraries: few clients star or rate folders) the letters
        // are the same for every request of this catalog state and scope: written once.
        let written = match &content {
            Some(index) if index.folder_notes.is_empty() => {
                let key = Key::new("indexes written", &viewer.scope);
                Some(cache.get_or_build(c, key, |_| {
                    Ok(model::written_index(letters(
                        &index.folders,
                        &index.folder_notes,
                    )))
                })?)
            }
            _ => None,
        };
        Ok((last, content, written))
    })
    .await?;
    let indexes = |content| {
        let indexes = Indexes {
            last_modified,
            ignored_articles: IGNORED_ARTICLES,
            content,
        };
        Some(indexes.into_element("indexes"))
    };
    let Some(FolderIndex {
        folders: dirs,
        files: (files, notes),
        folder_notes: dir_notes,
    }) = content
    else {
        // Unchanged since the client's copy: no index (DSub then keeps what it has).
        return Ok(indexes(None));
    };
    let letters = match written {
        Some(written) => Letters::Written(written),
        None => Letters::Built(letters(&dirs, &dir_notes)),
    };
    let view = View::of(&ctx);
    Ok(indexes(Some((letters, song_list(&files, &notes, &view)))))
}

/// The top folders by index letter, with the caller's notes of them.
fn letters(dirs: &[Directory], notes: &FolderNotes) -> Vec<Index<Artist>> {
    let mut keyed: Vec<(String, &Directory)> =
        dirs.iter().map(|d| (sort_key(&d.name, None), d)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    let mut groups: Vec<Index<Artist>> = Vec::new();
    for (key, dir) in keyed {
        let letter = index_letter(&key);
        let artist = Artist::folder(dir, notes.of(dir.id));
        match groups.last_mut() {
            Some(index) if index.name == letter => index.artists.push(artist),
            _ => groups.push(Index {
                name: letter,
                artists: vec![artist],
            }),
        }
    }
    groups
}

/// getMusicDirectory: one folder's sub-folders (those holding audio) and then its tracks. A
/// folder of a music folder the user may not see is not found (70).
pub async fn get_music_directory(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let raw = ctx.params.required("id")?;
    let parsed = Id::parse(raw);
    let id = match parsed {
        Some(Id::Directory(id)) => id,
        // Album and artist entries of getAlbumList/getStarred (Child items with isDir=true)
        // are opened with this method by folder-mode clients such as DSub.
        Some(Id::Album(id)) => return album_directory(ctx, id).await,
        Some(Id::Artist(id)) => return artist_directory(ctx, id).await,
        _ => return Err(ApiError::NotFound("Directory")),
    };
    let viewer = ctx.viewer.clone();
    let DirectoryPage {
        directory: dir,
        name,
        subfolders: subdirs,
        songs: (songs, notes),
        folder_notes: dir_notes,
    } = ctx
        .db(move |c| {
            catalog::music_directory(c, &viewer, id)?.ok_or(ApiError::NotFound("Directory"))
        })
        .await?;
    let view = View::of(&ctx);
    let mut children: Vec<Child> = subdirs
        .iter()
        .map(|d| Child::folder(d, dir_notes.of(d.id)))
        .collect();
    children.extend(song_list(&songs, &notes, &view));
    let directory = model::Directory {
        id: Id::Directory(dir.id),
        parent: dir.parent_id.map(Id::Directory),
        name,
        notes: dir_notes.of(dir.id),
        children,
    };
    Ok(Some(directory.into_element("directory")))
}

/// An album as a directory: its tracks, with the album artist as parent.
async fn album_directory(ctx: Ctx, album_id: i32) -> Result<Option<Element>, ApiError> {
    let viewer = ctx.viewer.clone();
    let AlbumPage {
        album,
        songs,
        song_notes: notes,
        ..
    } = ctx
        .db(move |c| catalog::album(c, &viewer, album_id)?.ok_or(ApiError::NotFound("Directory")))
        .await?;
    let view = View::of(&ctx);
    let directory = model::Directory {
        id: Id::Album(album_id),
        parent: album.artists.first().map(|a| Id::Artist(a.id)),
        name: album.album.name.clone(),
        notes: Annotations::default(),
        children: song_list(&songs, &notes, &view),
    };
    Ok(Some(directory.into_element("directory")))
}

/// An album artist as a directory: their albums as sub-directories.
async fn artist_directory(ctx: Ctx, artist_id: i32) -> Result<Option<Element>, ApiError> {
    let viewer = ctx.viewer.clone();
    let ArtistPage { artist, albums, .. } = ctx
        .db(move |c| catalog::artist(c, &viewer, artist_id)?.ok_or(ApiError::NotFound("Directory")))
        .await?;
    let directory = model::Directory {
        id: Id::Artist(artist_id),
        parent: None,
        name: artist.name.clone(),
        notes: Annotations::default(),
        children: albums
            .iter()
            .map(|a| Child::album(a, Annotations::default()))
            .collect(),
    };
    Ok(Some(directory.into_element("directory")))
}

/// getVideos: we serve no videos, so always the empty container.
pub async fn get_videos(_ctx: Ctx) -> Result<Option<Element>, ApiError> {
    Ok(Some(model::Videos(Vec::new()).into_element("videos")))
}

/// getVideoInfo: no id names a video here.
pub async fn get_video_info(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.params.required("id")?;
    Err(ApiError::NotFound("Video"))
}
