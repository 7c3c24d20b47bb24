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
use super::shared::info_images;
use crate::library::{self, Id, catalog};

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

/// getArtistInfo (any id; `similarArtist` entries are `Artist`s — folders when the id was a
/// folder, so folder-mode clients can open them) and getArtistInfo2 (artist ids;
/// `similarArtist` entries are `ArtistID3`s).
async fn artist_info(ctx: Ctx, id3: bool) -> Result<Option<Element>, ApiError> {
    let id = id_param(&ctx, "Artist")?;
    if id3 && !matches!(id, Id::Artist(_)) {
        return Err(ApiError::NotFound("Artist"));
    }
    let count = count_param(&ctx, 20)?;
    let viewer = ctx.viewer.clone();
    let catalog::ArtistInfo {
        seed,
        similar,
        similar_notes: notes,
        similar_folders: dirs,
    } = ctx
        .db(move |c| {
            catalog::artist_info(c, &viewer, id, count)?.ok_or(ApiError::NotFound("Artist"))
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
    let viewer = ctx.viewer.clone();
    let album = ctx
        .db(move |c| catalog::album_info(c, &viewer, id)?.ok_or(ApiError::NotFound("Album")))
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
    let viewer = ctx.viewer.clone();
    let (songs, notes) = ctx
        .db(move |c| {
            catalog::similar_songs(c, &viewer, id, count)?.ok_or(ApiError::NotFound("Item"))
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
    let viewer = ctx.viewer.clone();
    let (songs, notes) = ctx
        .db(move |c| Ok(catalog::top_songs(c, &viewer, &name, count)?))
        .await?;
    let view = View::of(&ctx);
    Ok(Some(
        Songs(song_list(&songs, &notes, &view)).into_element("topSongs"),
    ))
}
