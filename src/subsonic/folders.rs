//! Folder browsing over the real directory tree (getIndexes, getMusicDirectory) — what DSub,
//! Ultrasonic and Symfonium's folder view use — and the video endpoints (we have no videos).

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{self, Annotations, Artist, Child, Index, Indexes, View, song_list};
use super::response::{Element, ToElement};
use super::shared::{FolderNotes, scope_param, track_notes};
use super::sort_keys::{IGNORED_ARTICLES, index_letter, sort_key};
use crate::db::models::Directory;
use crate::library::access::Scope;
use crate::library::{self, Id, folders};

/// getIndexes: the top-level folders of the music folders the user may see (or of the one
/// `musicFolderId` names), indexed by letter, and the audio files lying directly in their
/// roots.
pub async fn get_indexes(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let since: Option<i64> = ctx.params.number("ifModifiedSince")?;
    let scope = scope_param(&ctx).await?;
    let user = ctx.user.id;
    let (last_modified, content) = ctx
        .db(move |c| {
            let last = folders::last_modified(c, &scope)?;
            if since.is_some_and(|s| last <= s) {
                return Ok((last, None));
            }
            let root_ids: Vec<i32> = folders::roots(c, &scope)?.iter().map(|d| d.id).collect();
            let dirs = folders::subdirectories(c, &root_ids)?;
            let files = folders::tracks_in_directories(c, &root_ids)?;
            let notes = track_notes(c, user, &files)?;
            let dir_ids: Vec<i32> = dirs.iter().map(|d| d.id).collect();
            let dir_notes = FolderNotes::load(c, user, &dir_ids)?;
            Ok((last, Some((dirs, files, notes, dir_notes))))
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
    let Some((dirs, files, notes, dir_notes)) = content else {
        // Unchanged since the client's copy: no index (DSub then keeps what it has).
        return Ok(indexes(None));
    };
    let mut keyed: Vec<(String, &Directory)> =
        dirs.iter().map(|d| (sort_key(&d.name, None), d)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    let mut groups: Vec<Index<Artist>> = Vec::new();
    for (key, dir) in keyed {
        let letter = index_letter(&key);
        let artist = Artist::folder(dir, dir_notes.of(dir.id));
        match groups.last_mut() {
            Some(index) if index.name == letter => index.artists.push(artist),
            _ => groups.push(Index {
                name: letter,
                artists: vec![artist],
            }),
        }
    }
    let view = View::of(&ctx);
    Ok(indexes(Some((groups, song_list(&files, &notes, &view)))))
}

/// getMusicDirectory: one folder's sub-folders (those holding audio) and then its tracks. A
/// folder of a music folder the user may not see is not found (70).
pub async fn get_music_directory(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let raw = ctx.params.required("id")?;
    let parsed = Id::parse(raw);
    let scope = ctx.viewer.scope.clone();
    let id = match parsed {
        Some(Id::Directory(id)) => id,
        // Album and artist entries of getAlbumList/getStarred (Child items with isDir=true)
        // are opened with this method by folder-mode clients such as DSub.
        Some(Id::Album(id)) => return album_directory(ctx, id, scope).await,
        Some(Id::Artist(id)) => return artist_directory(ctx, id, scope).await,
        _ => return Err(ApiError::NotFound("Directory")),
    };
    let user = ctx.user.id;
    let (dir, name, subdirs, songs, notes, dir_notes) = ctx
        .db(move |c| {
            let dir = folders::directory(c, id)?
                .filter(|d| scope.allows(d.folder_id))
                .ok_or(ApiError::NotFound("Directory"))?;
            // A music folder's root is shown under the music folder's name.
            let name = match dir.parent_id {
                None => folders::folder_name(c, dir.folder_id)?.unwrap_or_else(|| dir.name.clone()),
                Some(_) => dir.name.clone(),
            };
            let subdirs = folders::subdirectories(c, &[id])?;
            let songs = folders::tracks_in_directories(c, &[id])?;
            let notes = track_notes(c, user, &songs)?;
            let mut dir_ids: Vec<i32> = subdirs.iter().map(|d| d.id).collect();
            dir_ids.push(id);
            let dir_notes = FolderNotes::load(c, user, &dir_ids)?;
            Ok((dir, name, subdirs, songs, notes, dir_notes))
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
async fn album_directory(
    ctx: Ctx,
    album_id: i32,
    scope: Scope,
) -> Result<Option<Element>, ApiError> {
    let user = ctx.user.id;
    let (album, songs, notes) = ctx
        .db(move |c| {
            let album = library::album_views_in(c, &[album_id], &scope)?
                .pop()
                .ok_or(ApiError::NotFound("Directory"))?;
            let songs = library::tracks_of_album_in(c, album_id, &scope)?;
            let notes = track_notes(c, user, &songs)?;
            Ok((album, songs, notes))
        })
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
async fn artist_directory(
    ctx: Ctx,
    artist_id: i32,
    scope: Scope,
) -> Result<Option<Element>, ApiError> {
    let (artist, albums) = ctx
        .db(move |c| {
            let artist =
                library::artist_in(c, artist_id, &scope)?.ok_or(ApiError::NotFound("Directory"))?;
            Ok((artist, library::albums_of_artist_in(c, artist_id, &scope)?))
        })
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
    Ok(Some(Element::new("videos").list("video", Vec::new())))
}

/// getVideoInfo: no id names a video here.
pub async fn get_video_info(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.params.required("id")?;
    Err(ApiError::NotFound("Video"))
}
