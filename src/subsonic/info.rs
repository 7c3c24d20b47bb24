//! Artist and album info, similar songs and top songs — from local data only (no Last.fm):
//! MusicBrainz ids from the tags, "similar" = album artists sharing genres, "top" = play
//! counts summed over users. Biographies and notes are left out (empty text fields are never
//! written); image URLs point at our own cover art (signed public URLs, see artwork.rs).

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{
    AlbumInfo, Annotations, Artist, ArtistID3, ArtistInfo, SimilarArtist, Songs, View, song_list,
};
use super::response::{Element, ToElement};
use super::shared::{info_images, track_notes};
use crate::library::access::{self, Scope};
use crate::library::annotations::{self, ItemKind};
use crate::library::{self, Id, folders};

/// Similar songs are drawn from the seed artists and this many similar artists.
const SIMILAR_ARTISTS_FOR_SONGS: i64 = 20;
/// The most entries one call returns, whatever `count` asks for.
const MAX_COUNT: i64 = 500;

fn id_param(ctx: &Ctx, what: &'static str) -> Result<Id, ApiError> {
    Id::parse(ctx.params.required("id")?).ok_or(ApiError::NotFound(what))
}

fn count_param(ctx: &Ctx, default: i64) -> Result<i64, ApiError> {
    Ok(ctx
        .params
        .number::<i64>("count")?
        .unwrap_or(default)
        .clamp(0, MAX_COUNT))
}

/// What "info" and "similar" calls start from.
struct Seed {
    /// The artists an id stands for: an artist itself, an album's album artists, a track's
    /// artists and album artists, a folder's main album artist (none without audio).
    artists: Vec<i32>,
    /// The track to leave out of "similar songs".
    exclude: Option<i32>,
}

/// The seed of an id; `None`: no such item, or one the scope does not show.
fn seed_artists(
    c: &mut diesel::SqliteConnection,
    id: Id,
    scope: &Scope,
) -> Result<Option<Seed>, ApiError> {
    let seed = |artists: Vec<i32>, exclude: Option<i32>| Seed { artists, exclude };
    if !scope.is_all() && !access::id_in_scope(c, scope, id)? {
        return Ok(None);
    }
    Ok(match id {
        Id::Artist(n) => library::artist(c, n)?.map(|_| seed(vec![n], None)),
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
        Id::Playlist(_) => None,
    })
}

/// getArtistInfo (any id; `similarArtist` entries are `Artist`s — folders when the id was a
/// folder, so folder-mode clients can open them) and getArtistInfo2 (artist ids;
/// `similarArtist` entries are `ArtistID3`s).
async fn artist_info(ctx: Ctx, id3: bool) -> Result<Option<Element>, ApiError> {
    let id = id_param(&ctx, "Artist")?;
    if id3 && !matches!(id, Id::Artist(_)) {
        return Err(ApiError::NotFound("Artist"));
    }
    let count = count_param(&ctx, 20)?;
    let folder_mode = matches!(id, Id::Directory(_));
    let scope = ctx.viewer.scope.clone();
    let user = ctx.user.id;
    let (seed, similar, dirs, notes) = ctx
        .db(move |c| {
            let seeds = seed_artists(c, id, &scope)?
                .ok_or(ApiError::NotFound("Artist"))?
                .artists;
            let seed = library::artist_views(c, &seeds[..seeds.len().min(1)])?.pop();
            let similar_ids = folders::similar_artists(c, &seeds, count, &scope)?;
            let similar = library::artist_views_in(c, &similar_ids, &scope)?;
            let notes = annotations::of_items(c, user, ItemKind::Artist, &similar_ids)?;
            let dirs = if folder_mode {
                Some(folders::artist_directories(c, &similar_ids, &scope)?)
            } else {
                None
            };
            Ok((seed, similar, dirs, notes))
        })
        .await?;
    let name = if id3 { "artistInfo2" } else { "artistInfo" };
    let similar = similar
        .iter()
        .filter_map(|a| {
            if id3 {
                let artist = ArtistID3::new(a, Annotations::star(notes.get(&a.id)));
                return Some(SimilarArtist::Id3(artist));
            }
            // Folders carry no annotations; tag-mode artists carry the caller's star.
            let (id, note) = match &dirs {
                Some(dirs) => (Id::Directory(*dirs.get(&a.id)?), None),
                None => (Id::Artist(a.id), notes.get(&a.id)),
            };
            Some(SimilarArtist::Folder(Artist {
                id,
                name: a.name.clone(),
                notes: Annotations::star(note),
            }))
        })
        .collect();
    let info = ArtistInfo {
        music_brainz_id: seed.as_ref().and_then(|a| a.mbid.clone()),
        images: seed
            .and_then(|a| a.cover_art)
            .map(|cover| info_images(&ctx, &cover)),
        similar,
    };
    Ok(Some(info.into_element(name)))
}

pub async fn get_artist_info(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    artist_info(ctx, false).await
}

pub async fn get_artist_info2(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    artist_info(ctx, true).await
}

/// getAlbumInfo (album, track or folder id: the track's album, the folder's main album) and
/// getAlbumInfo2 (album ids): the album's MusicBrainz release id when tagged.
async fn album_info(ctx: Ctx, id3: bool) -> Result<Option<Element>, ApiError> {
    let id = id_param(&ctx, "Album")?;
    if id3 && !matches!(id, Id::Album(_)) {
        return Err(ApiError::NotFound("Album"));
    }
    let scope = ctx.viewer.scope.clone();
    let album = ctx
        .db(move |c| {
            if !scope.is_all() && !access::id_in_scope(c, &scope, id)? {
                return Err(ApiError::NotFound("Album"));
            }
            let album_id = match id {
                Id::Album(n) => Some(n),
                Id::Track(n) => Some(
                    folders::track_artist_ids(c, n)?
                        .ok_or(ApiError::NotFound("Album"))?
                        .1,
                ),
                Id::Directory(n) => {
                    let dir = folders::directory(c, n)?.ok_or(ApiError::NotFound("Album"))?;
                    folders::main_album_of_directory(c, &dir)?
                }
                Id::Artist(_) | Id::Playlist(_) => return Err(ApiError::NotFound("Album")),
            };
            let Some(album_id) = album_id else {
                // A folder without audio: nothing to tell.
                return Ok(None);
            };
            let album = library::album_views(c, &[album_id])?
                .pop()
                .ok_or(ApiError::NotFound("Album"))?;
            Ok(Some(album.album))
        })
        .await?;
    let cover = album.as_ref().and_then(library::covers::album_cover);
    let info = AlbumInfo {
        music_brainz_id: album.and_then(|a| a.mbid),
        images: cover.map(|cover| info_images(&ctx, &cover)),
    };
    Ok(Some(info.into_element("albumInfo")))
}

pub async fn get_album_info(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    album_info(ctx, false).await
}

pub async fn get_album_info2(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    album_info(ctx, true).await
}

/// getSimilarSongs (artist, album, track or folder id) and getSimilarSongs2 (artist ids):
/// random tracks by the seed artists interleaved with random tracks by artists sharing their
/// genres, without the seed track.
async fn similar_songs(ctx: Ctx, id3: bool) -> Result<Option<Element>, ApiError> {
    let id = id_param(&ctx, "Artist")?;
    if id3 && !matches!(id, Id::Artist(_)) {
        return Err(ApiError::NotFound("Artist"));
    }
    let count = count_param(&ctx, 50)?;
    let scope = ctx.viewer.scope.clone();
    let user = ctx.user.id;
    let (songs, notes) = ctx
        .db(move |c| {
            let Seed {
                artists: seeds,
                exclude,
            } = seed_artists(c, id, &scope)?.ok_or(ApiError::NotFound("Item"))?;
            let own = folders::random_tracks_of_artists(c, &seeds, exclude, count, &scope)?;
            let similar = folders::similar_artists(c, &seeds, SIMILAR_ARTISTS_FOR_SONGS, &scope)?;
            let others = folders::random_tracks_of_artists(c, &similar, exclude, count, &scope)?;
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
            let notes = track_notes(c, user, &out)?;
            Ok((out, notes))
        })
        .await?;
    let name = if id3 { "similarSongs2" } else { "similarSongs" };
    let view = View::of(&ctx);
    Ok(Some(
        Songs(song_list(&songs, &notes, &view)).into_element(name),
    ))
}

pub async fn get_similar_songs(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    similar_songs(ctx, false).await
}

pub async fn get_similar_songs2(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    similar_songs(ctx, true).await
}

/// getTopSongs: an artist's (by name) most played tracks; an unknown artist has none.
pub async fn get_top_songs(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let name = ctx.params.required("artist")?.to_string();
    let count = count_param(&ctx, 50)?;
    let scope = ctx.viewer.scope.clone();
    let user = ctx.user.id;
    let (songs, notes) = ctx
        .db(move |c| {
            let songs = match folders::artist_by_name(c, &name)? {
                Some(id) => folders::top_tracks(c, id, count, &scope)?,
                None => Vec::new(),
            };
            let notes = track_notes(c, user, &songs)?;
            Ok((songs, notes))
        })
        .await?;
    let view = View::of(&ctx);
    Ok(Some(
        Songs(song_list(&songs, &notes, &view)).into_element("topSongs"),
    ))
}
