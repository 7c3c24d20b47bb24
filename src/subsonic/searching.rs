//! Searching: search3 (tag mode), search2 (folder-style results) and the deprecated search.
//!
//! An empty query — missing, "", or the two literal quotes `""` — lists the whole library,
//! paged: Symfonium and Feishin sync libraries that way (`songCount=500&songOffset=N`).
//! Items carry the user's annotations, so a sync also picks up stars, ratings and plays.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{
    Annotations, Artist, ArtistID3, SearchResult, SearchResult2, SearchResult3, View,
    album_children, albums_id3, song_children,
};
use super::response::{Element, ToElement};
use super::shared::{count_param, read_as};
use crate::library::Id;
use crate::library::catalog::{self, Found, SearchQuery};
use crate::library::search::{self, FieldQuery, Page};

/// Most items of one kind a search call returns (clients sync 500 at a time).
const MAX_SEARCH: i64 = 10_000;

fn page(ctx: &Ctx, count: &'static str, offset: &'static str) -> Result<Page, ApiError> {
    Ok(Page {
        limit: count_param(ctx, count, 20, MAX_SEARCH)?,
        offset: count_param(ctx, offset, 0, i64::MAX)?,
    })
}

async fn find(ctx: &Ctx) -> Result<Found, ApiError> {
    let query = SearchQuery {
        words: search::query_words(ctx.params.get("query").unwrap_or("")),
        artists: page(ctx, "artistCount", "artistOffset")?,
        albums: page(ctx, "albumCount", "albumOffset")?,
        songs: page(ctx, "songCount", "songOffset")?,
    };
    let cache = ctx.state.catalog.cache();
    read_as(ctx, move |c, viewer| {
        Ok(catalog::search(c, viewer, &cache, &query)?)
    })
    .await
}

pub async fn search3(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let found = find(&ctx).await?;
    let view = View::of(&ctx);
    let (artists, notes) = &found.artists;
    let result = SearchResult3 {
        artists: artists
            .iter()
            .map(|v| ArtistID3::new(v, Annotations::star(notes.get(&v.id))))
            .collect(),
        albums: albums_id3(&found.albums, &view),
        songs: song_children(&found.songs, &view),
    };
    Ok(Some(result.into_element("searchResult3")))
}

pub async fn search2(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let found = find(&ctx).await?;
    let view = View::of(&ctx);
    let (artists, notes) = &found.artists;
    let result = SearchResult2 {
        artists: artists
            .iter()
            .map(|v| Artist {
                id: Id::Artist(v.id),
                name: v.name.clone(),
                notes: Annotations::star_and_rating(notes.get(&v.id)),
            })
            .collect(),
        albums: album_children(&found.albums),
        songs: song_children(&found.songs, &view),
    };
    Ok(Some(result.into_element("searchResult2")))
}

/// The deprecated `search`: songs matching `artist`, `album`, `title` and `any` (all that are
/// given), added after `newerThan` (epoch ms), with the total number of hits.
pub async fn search(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let words = |key| search::query_words(ctx.params.get(key).unwrap_or(""));
    let query = FieldQuery {
        artist: words("artist"),
        album: words("album"),
        title: words("title"),
        any: words("any"),
        newer_than: ctx.params.number("newerThan")?,
    };
    let page = page(&ctx, "count", "offset")?;
    let viewer = ctx.viewer.clone();
    let (total, songs) = ctx
        .db(move |c| Ok(catalog::search_by_fields(c, &viewer, &query, page)?))
        .await?;
    let view = View::of(&ctx);
    let result = SearchResult {
        offset: page.offset.min(i32::MAX.into()),
        total_hits: total.min(i32::MAX.into()),
        matches: song_children(&songs, &view),
    };
    Ok(Some(result.into_element("searchResult")))
}
