//! Album and song lists: getAlbumList, getAlbumList2, getRandomSongs, getSongsByGenre. Items
//! carry the user's annotations (starred, userRating, playCount, played) like getStarred's.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{
    AlbumList, AlbumList2, Annotations, Child, Songs, View, albums_id3, song_children,
};
use super::response::{Element, ToElement};
use super::shared::{count_param, read_as};
use super::sort_keys::IGNORED_ARTICLES;
use crate::library::catalog::{self, FolderAlbumList};
use crate::library::lists::{AlbumOrder, FolderListItem};
use crate::library::search::Page;
use std::collections::HashMap;

/// Most items a list call returns.
const MAX_LIST: i64 = 500;

/// The list type and its parameters.
fn album_order(ctx: &Ctx) -> Result<AlbumOrder, ApiError> {
    let kind = ctx.params.required("type")?;
    let year = |key: &'static str| -> Result<i32, ApiError> {
        ctx.params
            .number::<i32>(key)?
            .ok_or(ApiError::MissingParam(key))
    };
    Ok(match kind.trim().to_ascii_lowercase().as_str() {
        "random" => AlbumOrder::Random,
        "newest" => AlbumOrder::Newest,
        "highest" => AlbumOrder::Highest,
        "frequent" => AlbumOrder::Frequent,
        "recent" => AlbumOrder::Recent,
        "alphabeticalbyname" => AlbumOrder::ByName,
        "alphabeticalbyartist" => AlbumOrder::ByArtist {
            ignored_articles: IGNORED_ARTICLES.to_string(),
        },
        "starred" => AlbumOrder::Starred,
        "byyear" => AlbumOrder::ByYear {
            from: year("fromYear")?,
            to: year("toYear")?,
        },
        "bygenre" => match ctx.params.get("genre").map(str::trim) {
            Some(g) if !g.is_empty() => AlbumOrder::ByGenre(g.to_string()),
            _ => return Err(ApiError::MissingParam("genre")),
        },
        _ => return Err(ApiError::BadParam("type")),
    })
}

/// The page of the album list the parameters ask for.
fn album_page(ctx: &Ctx) -> Result<Page, ApiError> {
    Ok(Page {
        limit: count_param(ctx, "size", 10, MAX_LIST)?,
        offset: count_param(ctx, "offset", 0, i64::MAX)?,
    })
}

pub async fn get_album_list2(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let (order, page) = (album_order(&ctx)?, album_page(&ctx)?);
    let cache = ctx.state.catalog.cache();
    let albums = read_as(&ctx, move |c, viewer| {
        Ok(catalog::album_list(c, viewer, &cache, order, page)?)
    })
    .await?;
    let view = View::of(&ctx);
    Ok(Some(
        AlbumList2(albums_id3(&albums, &view)).into_element("albumList2"),
    ))
}

/// getAlbumList (folder mode): albums as `Child` directories; `starred` and `highest` also
/// list the album folders the user starred or rated (`dir-` ids), in one order with albums.
pub async fn get_album_list(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let (order, page) = (album_order(&ctx)?, album_page(&ctx)?);
    let cache = ctx.state.catalog.cache();
    let FolderAlbumList {
        items,
        albums,
        folders: dirs,
        folder_notes: dir_notes,
    } = read_as(&ctx, move |c, viewer| {
        Ok(catalog::folder_album_list(c, viewer, &cache, order, page)?)
    })
    .await?;
    let (views, notes) = &albums;
    let mut albums: HashMap<i32, Child> = views
        .iter()
        .map(|v| {
            let album = Child::album(v, Annotations::media(notes.get(&v.album.id)));
            (v.album.id, album)
        })
        .collect();
    let mut dirs: HashMap<i32, Child> = dirs
        .iter()
        .map(|d| (d.id, Child::folder(d, dir_notes.of(d.id))))
        .collect();
    let list = items.into_iter().filter_map(|item| match item {
        FolderListItem::Album(id) => albums.remove(&id),
        FolderListItem::Directory(id) => dirs.remove(&id),
    });
    Ok(Some(AlbumList(list.collect()).into_element("albumList")))
}

pub async fn get_random_songs(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let size = count_param(&ctx, "size", 10, MAX_LIST)?;
    let genre = ctx
        .params
        .get("genre")
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string);
    let years = (ctx.params.number("fromYear")?, ctx.params.number("toYear")?);
    let songs = read_as(&ctx, move |c, viewer| {
        Ok(catalog::random_songs(c, viewer, genre, years, size)?)
    })
    .await?;
    let view = View::of(&ctx);
    Ok(Some(
        Songs(song_children(&songs, &view)).into_element("randomSongs"),
    ))
}

pub async fn get_songs_by_genre(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let genre = ctx.params.required("genre")?.trim().to_string();
    if genre.is_empty() {
        return Err(ApiError::MissingParam("genre"));
    }
    let page = Page {
        limit: count_param(&ctx, "count", 10, MAX_LIST)?,
        offset: count_param(&ctx, "offset", 0, i64::MAX)?,
    };
    let songs = read_as(&ctx, move |c, viewer| {
        Ok(catalog::songs_by_genre(c, viewer, &genre, page)?)
    })
    .await?;
    let view = View::of(&ctx);
    Ok(Some(
        Songs(song_children(&songs, &view)).into_element("songsByGenre"),
    ))
}
