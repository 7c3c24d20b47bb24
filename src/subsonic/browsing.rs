//! Tag-based browsing: getMusicFolders, getGenres, getArtists, getArtist, getAlbum, getSong.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{
    AlbumID3, AlbumWithSongs, Annotations, ArtistID3, ArtistWithAlbums, ArtistsID3, Child, Genre,
    Genres, Index, MusicFolder, MusicFolders, View, written_index,
};
use super::response::{Element, ToElement};
use super::shared::read_as;
use super::sort_keys::{IGNORED_ARTICLES, index_letter, sort_key};
use crate::library::catalog::{self, AlbumPage, ArtistPage};
use crate::library::{ArtistView, Id};

/// getMusicFolders: the folders the user may see.
pub async fn get_music_folders(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let viewer = ctx.viewer.clone();
    let folders = ctx
        .db(move |c| Ok(catalog::music_folders(c, &viewer)?))
        .await?;
    Ok(Some(
        MusicFolders(
            folders
                .into_iter()
                .map(|(id, name)| MusicFolder { id, name })
                .collect(),
        )
        .into_element("musicFolders"),
    ))
}

/// getGenres: counts of the songs and albums the user may see.
pub async fn get_genres(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let viewer = ctx.viewer.clone();
    let cache = ctx.state.catalog.cache();
    let genres = ctx
        .db(move |c| Ok(catalog::genres(c, &viewer, &cache)?))
        .await?;
    Ok(Some(
        Genres(
            genres
                .iter()
                .map(|g| Genre {
                    name: g.name.clone(),
                    song_count: g.song_count,
                    album_count: g.album_count,
                })
                .collect(),
        )
        .into_element("genres"),
    ))
}

/// getArtists: album artists of the albums the user may see (of one folder with
/// `musicFolderId`), indexed by letter.
pub async fn get_artists(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let cache = ctx.state.catalog.cache();
    let index = read_as(&ctx, move |c, viewer| {
        Ok(catalog::artists_index(c, viewer, &cache, |artists| {
            written_index(
                by_letter(artists)
                    .into_iter()
                    .map(|(letter, artists)| Index {
                        name: letter,
                        artists: artists
                            .iter()
                            .map(|a| ArtistID3::new(a, Annotations::default()))
                            .collect(),
                    })
                    .collect(),
            )
        })?)
    })
    .await?;
    let artists = ArtistsID3 {
        ignored_articles: IGNORED_ARTICLES,
        index,
    };
    Ok(Some(artists.into_element("artists")))
}

/// Artists in sort-key order, grouped by index letter (what the catalog caches for
/// getArtists).
fn by_letter(mut artists: Vec<ArtistView>) -> Vec<(String, Vec<ArtistView>)> {
    artists.sort_by_cached_key(|a| sort_key(&a.name, a.sort_name.as_deref()));
    let mut index: Vec<(String, Vec<ArtistView>)> = Vec::new();
    for a in artists {
        let letter = index_letter(&sort_key(&a.name, a.sort_name.as_deref()));
        match index.last_mut() {
            Some((name, group)) if *name == letter => group.push(a),
            _ => index.push((letter, vec![a])),
        }
    }
    index
}

fn id_param(ctx: &Ctx) -> Result<Id, ApiError> {
    let raw = ctx.params.required("id")?;
    Id::parse(raw).ok_or(ApiError::NotFound("id"))
}

pub async fn get_artist(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let Id::Artist(id) = id_param(&ctx)? else {
        return Err(ApiError::NotFound("Artist"));
    };
    let viewer = ctx.viewer.clone();
    let ArtistPage {
        artist,
        albums,
        artist_notes,
        album_notes,
    } = ctx
        .db(move |c| catalog::artist(c, &viewer, id)?.ok_or(ApiError::NotFound("Artist")))
        .await?;
    let view = View::of(&ctx);
    let artist = ArtistWithAlbums {
        artist: ArtistID3::new(&artist, Annotations::star(artist_notes.get(&id))),
        albums: albums
            .iter()
            .map(|a| AlbumID3::new(a, album_notes.get(&a.album.id), &view))
            .collect(),
    };
    Ok(Some(artist.into_element("artist")))
}

pub async fn get_album(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let Id::Album(id) = id_param(&ctx)? else {
        return Err(ApiError::NotFound("Album"));
    };
    let viewer = ctx.viewer.clone();
    let AlbumPage {
        album,
        songs,
        album_notes,
        song_notes,
    } = ctx
        .db(move |c| catalog::album(c, &viewer, id)?.ok_or(ApiError::NotFound("Album")))
        .await?;
    let view = View::of(&ctx);
    let album = AlbumWithSongs {
        album: AlbumID3::new(&album, album_notes.get(&id), &view).with_labels_and_moods(&songs),
        songs: songs
            .iter()
            .map(|s| Child::song(s, song_notes.get(&s.track.id), &view))
            .collect(),
    };
    Ok(Some(album.into_element("album")))
}

pub async fn get_song(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let Id::Track(id) = id_param(&ctx)? else {
        return Err(ApiError::NotFound("Song"));
    };
    let viewer = ctx.viewer.clone();
    let (song, notes) = ctx
        .db(move |c| catalog::song(c, &viewer, id)?.ok_or(ApiError::NotFound("Song")))
        .await?;
    let view = View::of(&ctx);
    Ok(Some(
        Child::song(&song, notes.get(&id), &view).into_element("song"),
    ))
}
