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
use super::shared::{annotated_albums, annotated_tracks, count_param, scope_param};
use crate::library::annotations::{self, Annotation, ItemKind};
use crate::library::search::{self, FieldQuery, Page};
use crate::library::{AlbumView, ArtistView, Id, TrackView};
use std::collections::HashMap;

/// Most items of one kind a search call returns (clients sync 500 at a time).
const MAX_SEARCH: i64 = 10_000;

type Annotated<T> = (Vec<T>, HashMap<i32, Annotation>);

/// What search2 and search3 found.
struct Found {
    artists: Annotated<ArtistView>,
    albums: Annotated<AlbumView>,
    songs: Annotated<TrackView>,
}

fn page(ctx: &Ctx, count: &'static str, offset: &'static str) -> Result<Page, ApiError> {
    Ok(Page {
        limit: count_param(ctx, count, 20, MAX_SEARCH)?,
        offset: count_param(ctx, offset, 0, i64::MAX)?,
    })
}

async fn find(ctx: &Ctx) -> Result<Found, ApiError> {
    let words = search::query_words(ctx.params.get("query").unwrap_or(""));
    let artist_page = page(ctx, "artistCount", "artistOffset")?;
    let album_page = page(ctx, "albumCount", "albumOffset")?;
    let song_page = page(ctx, "songCount", "songOffset")?;
    let scope = scope_param(ctx).await?;
    let user_id = ctx.user.id;
    ctx.db(move |c| {
        let artists = if artist_page.limit > 0 {
            let ids = search::artist_ids(c, &words, &scope, artist_page)?;
            let views = crate::library::artist_views_in(c, &ids, &scope)?;
            let notes = annotations::of_items(c, user_id, ItemKind::Artist, &ids)?;
            (views, notes)
        } else {
            Default::default()
        };
        let albums = if album_page.limit > 0 {
            let ids = search::album_ids(c, &words, &scope, album_page)?;
            annotated_albums(c, user_id, &ids, &scope)?
        } else {
            Default::default()
        };
        let songs = if song_page.limit > 0 {
            let ids = search::track_ids(c, &words, &scope, song_page)?;
            annotated_tracks(c, user_id, &ids)?
        } else {
            Default::default()
        };
        Ok(Found {
            artists,
            albums,
            songs,
        })
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
    let scope = ctx.viewer.scope.clone();
    let user_id = ctx.user.id;
    let (total, songs) = ctx
        .db(move |c| {
            let (total, ids) = search::track_ids_by_fields(c, &query, &scope, page)?;
            Ok((total, annotated_tracks(c, user_id, &ids)?))
        })
        .await?;
    let view = View::of(&ctx);
    let result = SearchResult {
        offset: page.offset.min(i32::MAX.into()),
        total_hits: total.min(i32::MAX.into()),
        matches: song_children(&songs, &view),
    };
    Ok(Some(result.into_element("searchResult")))
}
