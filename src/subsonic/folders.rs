//! Folder browsing over the real directory tree (getIndexes, getMusicDirectory) — what DSub,
//! Ultrasonic and Symfonium's folder view use — and the video endpoints (we have no videos).

use super::annotation::with_annotation;
use super::auth::Ctx;
use super::browsing::{IGNORED_ARTICLES, index_letter, sort_key};
use super::error::ApiError;
use super::model::{self, iso_time};
use super::response::Element;
use super::shared::{scope_param, track_notes};
use crate::db::models::Directory;
use crate::library::access::Scope;
use crate::library::annotations::{self, Annotation, ItemKind};
use crate::library::{self, Id, TrackView, folders};
use diesel::SqliteConnection;
use std::collections::HashMap;

/// Tracks as `Child` elements named `name`, with the caller's stars, ratings and plays.
pub(super) fn song_list(
    name: &'static str,
    songs: &[TrackView],
    notes: &HashMap<i32, Annotation>,
) -> Vec<Element> {
    songs
        .iter()
        .map(|t| with_annotation(model::child(name, t), notes.get(&t.track.id)))
        .collect()
}

/// The caller's stars and ratings of some directories, and everyone's average ratings.
#[derive(Default)]
pub(super) struct FolderNotes {
    mine: HashMap<i32, Annotation>,
    average: HashMap<i32, f64>,
}

impl FolderNotes {
    pub(super) fn load(
        c: &mut SqliteConnection,
        user: i32,
        dir_ids: &[i32],
    ) -> Result<Self, ApiError> {
        Ok(Self {
            mine: annotations::of_items(c, user, ItemKind::Directory, dir_ids)?,
            average: annotations::average_ratings(c, ItemKind::Directory, dir_ids)?,
        })
    }

    /// Adds `starred`, `userRating` and `averageRating` to a directory entry: a `Child` with
    /// `isDir`, a folder-mode `Artist` or a `Directory` (all three carry them in the XSD).
    pub(super) fn annotate(&self, el: Element, dir_id: i32) -> Element {
        let mine = self.mine.get(&dir_id);
        el.attr_opt("starred", mine.and_then(|a| a.starred_at).map(iso_time))
            .attr_opt("userRating", mine.and_then(|a| a.rating))
            .attr_opt(
                "averageRating",
                self.average
                    .get(&dir_id)
                    .map(|a| (a * 100.0).round() / 100.0),
            )
    }
}

/// A folder as a `Child` with `isDir=true` (named `name`), with the caller's notes.
pub(super) fn folder_child(name: &'static str, dir: &Directory, notes: &FolderNotes) -> Element {
    let id = Id::Directory(dir.id).to_string();
    let el = Element::new(name)
        .attr("id", &id)
        .attr_opt(
            "parent",
            dir.parent_id.map(|p| Id::Directory(p).to_string()),
        )
        .attr("isDir", true)
        .attr("title", &dir.name)
        .attr_opt(
            "coverArt",
            library::covers::directory_cover(dir).map(|c| c.to_string()),
        )
        .attr("created", iso_time(dir.created_at));
    notes.annotate(el, dir.id)
}

/// A folder as a folder-mode `Artist` (getIndexes, getStarred), with the caller's notes.
pub(super) fn folder_artist(dir: &Directory, notes: &FolderNotes) -> Element {
    notes.annotate(
        Element::new("artist")
            .attr("id", Id::Directory(dir.id).to_string())
            .attr("name", &dir.name),
        dir.id,
    )
}

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
    let indexes = Element::new("indexes")
        .attr("lastModified", last_modified)
        .attr("ignoredArticles", IGNORED_ARTICLES);
    let Some((dirs, files, notes, dir_notes)) = content else {
        // Unchanged since the client's copy: no index (DSub then keeps what it has).
        return Ok(Some(indexes));
    };
    let mut keyed: Vec<(String, &Directory)> =
        dirs.iter().map(|d| (sort_key(&d.name, None), d)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    let mut groups: Vec<(String, Vec<Element>)> = Vec::new();
    for (key, dir) in keyed {
        let letter = index_letter(&key);
        let artist = folder_artist(dir, &dir_notes);
        match groups.last_mut() {
            Some((l, list)) if *l == letter => list.push(artist),
            _ => groups.push((letter, vec![artist])),
        }
    }
    Ok(Some(
        indexes
            .list(
                "index",
                groups
                    .into_iter()
                    .map(|(letter, list)| {
                        Element::new("index")
                            .attr("name", letter)
                            .list("artist", list)
                    })
                    .collect(),
            )
            .list("child", song_list("child", &files, &notes)),
    ))
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
    let mut children: Vec<Element> = subdirs
        .iter()
        .map(|d| folder_child("child", d, &dir_notes))
        .collect();
    children.extend(song_list("child", &songs, &notes));
    let directory = Element::new("directory")
        .attr("id", Id::Directory(dir.id).to_string())
        .attr_opt(
            "parent",
            dir.parent_id.map(|p| Id::Directory(p).to_string()),
        )
        .attr("name", name);
    Ok(Some(
        dir_notes
            .annotate(directory, dir.id)
            .list("child", children),
    ))
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
    Ok(Some(
        Element::new("directory")
            .attr("id", Id::Album(album_id).to_string())
            .attr_opt(
                "parent",
                album.artists.first().map(|a| Id::Artist(a.id).to_string()),
            )
            .attr("name", &album.album.name)
            .list("child", song_list("child", &songs, &notes)),
    ))
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
    Ok(Some(
        Element::new("directory")
            .attr("id", Id::Artist(artist_id).to_string())
            .attr("name", &artist.name)
            .list(
                "child",
                albums
                    .iter()
                    .map(|a| super::annotation::album_child("child", a))
                    .collect(),
            ),
    ))
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
