//! Searching: search3 (tag mode), search2 (folder-style results) and the deprecated search.
//!
//! An empty query — missing, "", or the two literal quotes `""` — lists the whole library,
//! paged: Symfonium and Feishin sync libraries that way (`songCount=500&songOffset=N`).
//! Items carry the user's annotations, so a sync also picks up stars, ratings and plays.

use super::annotation::{with_star, with_star_and_rating};
use super::auth::Ctx;
use super::error::ApiError;
use super::lists::{album_child_elements, album_id3_elements, song_elements};
use super::model;
use super::response::Element;
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
    let (artists, notes) = &found.artists;
    Ok(Some(
        Element::new("searchResult3")
            .list(
                "artist",
                artists
                    .iter()
                    .map(|v| with_star(model::artist("artist", v), notes.get(&v.id)))
                    .collect(),
            )
            .list("album", album_id3_elements(&found.albums))
            .list("song", song_elements("song", &found.songs)),
    ))
}

pub async fn search2(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let found = find(&ctx).await?;
    let (artists, notes) = &found.artists;
    Ok(Some(
        Element::new("searchResult2")
            .list(
                "artist",
                artists
                    .iter()
                    .map(|v| {
                        with_star_and_rating(
                            Element::new("artist")
                                .attr("id", Id::Artist(v.id).to_string())
                                .attr("name", &v.name),
                            notes.get(&v.id),
                        )
                    })
                    .collect(),
            )
            .list("album", album_child_elements(&found.albums))
            .list("song", song_elements("song", &found.songs)),
    ))
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
    Ok(Some(
        Element::new("searchResult")
            .attr("offset", page.offset.min(i32::MAX.into()))
            .attr("totalHits", total.min(i32::MAX.into()))
            .list("match", song_elements("match", &songs)),
    ))
}
