//! Media annotation: star, unstar, setRating, scrobble, and the lists they feed: getStarred,
//! getStarred2, getNowPlaying. Folders (`dir-` ids) can be starred and rated too; they show
//! in the folder-mode answers only (getStarred, getAlbumList, getIndexes, getMusicDirectory). Stars, ratings and play counts are per user
//! (`library::annotations`); "now playing" lives in memory (`AppState::now_playing`).

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{
    self, AlbumID3, Annotations, Artist, ArtistID3, Child, NowPlaying, Starred2, View,
};
use super::response::{Element, ToElement};
use super::shared::{annotated_tracks, read_as};
use crate::db;
use crate::library::access::{self, Scope};
use crate::library::annotations::{
    self, AnnotateError, Annotation, Item, ItemKind, NowPlayingEntry,
};
use crate::library::{self, Id, TrackView, catalog};
use crate::scrobbling;
use std::collections::HashMap;

impl From<AnnotateError> for ApiError {
    fn from(e: AnnotateError) -> Self {
        match e {
            AnnotateError::NotFound(kind) => ApiError::NotFound(kind.label()),
            AnnotateError::Db(e) => e.into(),
        }
    }
}

/// The non-empty values of a repeated parameter.
fn values<'a>(ctx: &'a Ctx, key: &str) -> Vec<&'a str> {
    ctx.params
        .all(key)
        .into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// The item an `id` names: a song, an album, an artist, or a folder (the API's "file (song)
/// or folder (album/artist)": folder-mode clients send the `dir-` ids of getIndexes and
/// getMusicDirectory).
fn item_of(raw: &str) -> Result<Item, ApiError> {
    match Id::parse(raw) {
        Some(Id::Track(n)) => Ok((ItemKind::Track, n)),
        Some(Id::Album(n)) => Ok((ItemKind::Album, n)),
        Some(Id::Artist(n)) => Ok((ItemKind::Artist, n)),
        Some(Id::Directory(n)) => Ok((ItemKind::Directory, n)),
        _ => Err(ApiError::NotFound("Item")),
    }
}

/// The items named by `id` (songs, albums, artists, folders), `albumId` and `artistId`.
fn star_items(ctx: &Ctx) -> Result<Vec<Item>, ApiError> {
    let mut items: Vec<Item> = Vec::new();
    for raw in values(ctx, "id") {
        items.push(item_of(raw)?);
    }
    for raw in values(ctx, "albumId") {
        match Id::parse(raw) {
            Some(Id::Album(n)) => items.push((ItemKind::Album, n)),
            _ => return Err(ApiError::NotFound("Album")),
        }
    }
    for raw in values(ctx, "artistId") {
        match Id::parse(raw) {
            Some(Id::Artist(n)) => items.push((ItemKind::Artist, n)),
            _ => return Err(ApiError::NotFound("Artist")),
        }
    }
    if items.is_empty() {
        return Err(ApiError::MissingParam("id"));
    }
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(*i));
    Ok(items)
}

/// Items of folders the user may not see are "not found", as everywhere else.
fn check_visible(
    c: &mut diesel::SqliteConnection,
    scope: &Scope,
    items: &[Item],
) -> Result<(), ApiError> {
    if scope.is_all() {
        return Ok(());
    }
    for &(kind, n) in items {
        let id = match kind {
            ItemKind::Track => Id::Track(n),
            ItemKind::Album => Id::Album(n),
            ItemKind::Artist => Id::Artist(n),
            ItemKind::Directory => Id::Directory(n),
        };
        if !access::id_in_scope(c, scope, id)? {
            return Err(ApiError::NotFound(kind.label()));
        }
    }
    Ok(())
}

async fn set_starred(ctx: Ctx, star: bool) -> Result<Option<Element>, ApiError> {
    let items = star_items(&ctx)?;
    let scope = ctx.viewer.scope.clone();
    let user_id = ctx.user.id;
    let loved = ctx
        .write(move |c| {
            check_visible(c, &scope, &items)?;
            let now = db::now_ms();
            annotations::set_starred(c, user_id, &items, star, now)?;
            // Songs (not albums or artists) become Last.fm loves for users who asked for it.
            let songs: Vec<i32> = items
                .iter()
                .filter(|(kind, _)| *kind == ItemKind::Track)
                .map(|&(_, n)| n)
                .collect();
            Ok(scrobbling::store::enqueue_loves(
                c, user_id, &songs, star, now,
            )?)
        })
        .await?;
    if loved > 0 {
        ctx.state.scrobbler.wake();
    }
    Ok(None)
}

pub async fn star(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    set_starred(ctx, true).await
}

pub async fn unstar(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    set_starred(ctx, false).await
}

pub async fn set_rating(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let raw = ctx.params.required("id")?;
    let rating: i32 = ctx
        .params
        .number("rating")?
        .ok_or(ApiError::MissingParam("rating"))?;
    if !(0..=5).contains(&rating) {
        return Err(ApiError::BadParam("rating"));
    }
    let item = item_of(raw)?;
    let scope = ctx.viewer.scope.clone();
    let user_id = ctx.user.id;
    let rating = (rating > 0).then_some(rating);
    ctx.write(move |c| {
        check_visible(c, &scope, &[item])?;
        Ok(annotations::set_rating(c, user_id, item, rating)?)
    })
    .await?;
    Ok(None)
}

/// `scrobble` of podcast episodes ("pe-N", all of them): a submission counts a play on each
/// episode (its play count and last play, which every user sees: podcasts are shared);
/// "playing now" is not kept for episodes.
async fn scrobble_episodes(ctx: &Ctx, raw_ids: &[&str]) -> Result<Option<Element>, ApiError> {
    let ids = raw_ids
        .iter()
        .map(|raw| match Id::parse(raw) {
            Some(Id::PodcastEpisode(n)) => Ok(n),
            _ => Err(ApiError::BadParam("id")),
        })
        .collect::<Result<Vec<i32>, _>>()?;
    let time = ctx.params.number::<i64>("time")?.filter(|t| *t >= 0);
    if ctx.params.boolean("submission")?.unwrap_or(true) {
        let at = time.unwrap_or_else(db::now_ms);
        ctx.write(move |c| {
            for id in ids {
                crate::podcasts::store::record_play(c, id, at)?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(None)
}

pub async fn scrobble(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let raw_ids = values(&ctx, "id");
    if raw_ids.is_empty() {
        return Err(ApiError::MissingParam("id"));
    }
    if raw_ids
        .iter()
        .any(|r| matches!(Id::parse(r), Some(Id::PodcastEpisode(_))))
    {
        return scrobble_episodes(&ctx, &raw_ids).await;
    }
    let ids = raw_ids
        .into_iter()
        .map(|raw| match Id::parse(raw) {
            Some(Id::Track(n)) => Ok(n),
            _ => Err(ApiError::NotFound("Song")),
        })
        .collect::<Result<Vec<i32>, _>>()?;
    // `time` values pair with `id` values by position; a missing one means now.
    let times = ctx
        .params
        .all("time")
        .into_iter()
        .map(|t| match t.trim() {
            "" => Ok(None),
            t => t
                .parse::<i64>()
                .ok()
                .filter(|t| *t >= 0)
                .map(Some)
                .ok_or(ApiError::BadParam("time")),
        })
        .collect::<Result<Vec<Option<i64>>, _>>()?;
    let submission = ctx.params.boolean("submission")?.unwrap_or(true);
    let client = ctx
        .params
        .get("c")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let now = db::now_ms();
    let user_id = ctx.user.id;
    let scope = ctx.viewer.scope.clone();
    let items: Vec<Item> = ids.iter().map(|&n| (ItemKind::Track, n)).collect();
    if submission {
        let plays: Vec<(i32, i64)> = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, times.get(i).copied().flatten().unwrap_or(now)))
            .collect();
        // The listens join the scrobbling queue in the same transaction as the play counts.
        let queued = ctx
            .write(move |c| {
                check_visible(c, &scope, &items)?;
                annotations::record_plays(c, user_id, &plays)?;
                Ok(scrobbling::store::enqueue_listens(
                    c,
                    user_id,
                    &plays,
                    client.as_deref(),
                )?)
            })
            .await?;
        if queued > 0 {
            ctx.state.scrobbler.wake();
        }
    } else {
        let lookup = ids.clone();
        let (first, player) = (ids[0], client.clone());
        let (durations, outside): (HashMap<i32, i64>, _) = ctx
            .db(move |c| {
                check_visible(c, &scope, &items)?;
                let durations = library::durations(c, &lookup)?;
                // Where "now playing" goes besides getNowPlaying: the user's working links.
                let targets = scrobbling::store::working_links(c, user_id)?;
                let track = match targets.is_empty() {
                    true => None,
                    false => scrobbling::store::track_info(c, first, player.as_deref())?,
                };
                Ok((durations, track.map(|t| (targets, t))))
            })
            .await?;
        if ids.iter().any(|id| !durations.contains_key(id)) {
            return Err(ApiError::NotFound("Song"));
        }
        let track_id = ids[0];
        if let Some((targets, track)) = outside {
            ctx.state.scrobbler.now_playing(targets, &track);
        }
        ctx.state.now_playing.record(NowPlayingEntry::new(
            user_id,
            ctx.user.name.clone(),
            track_id,
            client,
            now,
            durations[&track_id],
        ));
    }
    Ok(None)
}

/// getNowPlaying: what everyone is playing, limited to the tracks the caller may see.
pub async fn get_now_playing(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let now = db::now_ms();
    let entries = ctx.state.now_playing.current(now);
    let mut ids: Vec<i32> = entries.iter().map(|e| e.track_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let scope = ctx.viewer.scope.clone();
    let user_id = ctx.user.id;
    let (views, notes) = ctx
        .db(move |c| {
            let ids = access::tracks_in_scope(c, &scope, &ids)?;
            annotated_tracks(c, user_id, &ids)
        })
        .await?;
    let views: HashMap<i32, TrackView> = views.into_iter().map(|v| (v.track.id, v)).collect();
    let view = View::of(&ctx);
    let list = entries.iter().filter_map(|e| {
        let v = views.get(&e.track_id)?;
        Some(model::NowPlayingEntry {
            song: Child::song(v, notes.get(&e.track_id), &view),
            username: e.username.clone(),
            minutes_ago: ((now - e.at_ms).max(0) / 60_000) as i32,
            player_id: 0,
            player_name: e.player.clone(),
        })
    });
    Ok(Some(NowPlaying(list.collect()).into_element("nowPlaying")))
}

/// Merges two lists that are each most recently starred first into one.
fn by_star_time<T>(a: Vec<(i64, T)>, b: Vec<(i64, T)>) -> Vec<T> {
    let mut all: Vec<(i64, T)> = a.into_iter().chain(b).collect();
    // Stable: equal times keep tags before folders.
    all.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    all.into_iter().map(|(_, el)| el).collect()
}

fn song_list(songs: &[(TrackView, Annotation)], view: &View) -> Vec<Child> {
    songs
        .iter()
        .map(|(v, a)| Child::song(v, Some(a), view))
        .collect()
}

pub async fn get_starred2(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let s = read_as(&ctx, move |c, viewer| Ok(catalog::starred(c, viewer)?)).await?;
    let view = View::of(&ctx);
    let starred = Starred2 {
        artists: s
            .artists
            .iter()
            .map(|(v, a)| ArtistID3::new(v, Annotations::star(Some(a))))
            .collect(),
        albums: s
            .albums
            .iter()
            .map(|(v, a)| AlbumID3::new(v, Some(a), &view))
            .collect(),
        songs: song_list(&s.songs, &view),
    };
    Ok(Some(starred.into_element("starred2")))
}

pub async fn get_starred(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let (s, f) = read_as(&ctx, move |c, viewer| {
        Ok(catalog::starred_with_folders(c, viewer)?)
    })
    .await?;
    let view = View::of(&ctx);
    let artists = s
        .artists
        .iter()
        .map(|(v, a)| {
            let artist = Artist {
                id: Id::Artist(v.id),
                name: v.name.clone(),
                notes: Annotations::star_and_rating(Some(a)),
            };
            (a.starred_at.unwrap_or_default(), artist)
        })
        .collect();
    let folder_artists = f
        .artists
        .iter()
        .map(|(d, at)| (*at, Artist::folder(d, f.notes.of(d.id))))
        .collect();
    let albums = s
        .albums
        .iter()
        .map(|(v, a)| {
            let album = Child::album(v, Annotations::media(Some(a)));
            (a.starred_at.unwrap_or_default(), album)
        })
        .collect();
    let folder_albums = f
        .albums
        .iter()
        .map(|(d, at)| (*at, Child::folder(d, f.notes.of(d.id))))
        .collect();
    let starred = model::Starred {
        artists: by_star_time(artists, folder_artists),
        albums: by_star_time(albums, folder_albums),
        songs: song_list(&s.songs, &view),
    };
    Ok(Some(starred.into_element("starred")))
}
