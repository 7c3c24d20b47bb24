//! Every method this server answers, in one table: its name, how it answers (an envelope or
//! bytes) and its handler. `call` in mod.rs looks methods up here and nowhere else.

use super::auth::Ctx;
use super::error::ApiError;
use super::loudness;
use super::response::Element;
use super::streamed::Streamed;
use super::{
    annotation, artwork, avatar, browsing, chat, folders, info, lists, lyrics, media, play_queue,
    playlists, podcasts, radio, scan_errors, scrobble_links, searching, shares, system, users,
};
use actix_web::HttpResponse;
use futures_util::future::LocalBoxFuture;

type EnvelopeFuture = LocalBoxFuture<'static, Result<Option<Element>, ApiError>>;
type MediaFuture = LocalBoxFuture<'static, Result<HttpResponse, ApiError>>;
type StreamedFuture = LocalBoxFuture<'static, Result<Streamed, ApiError>>;

/// How a method answers.
#[derive(Clone, Copy)]
pub enum Handler {
    /// An envelope, without authentication (getOpenSubsonicExtensions: clients probe it
    /// before signing in).
    Open(fn() -> Element),
    /// An envelope payload (or none), for a signed-in caller.
    Envelope(fn(Ctx) -> EnvelopeFuture),
    /// Bytes (streams, images), for a signed-in caller; failures still get an envelope.
    Media(fn(Ctx) -> MediaFuture),
    /// An envelope written while its list is read (answers that grow with the library, see
    /// `streamed`), for a signed-in caller; failures before its head get an error envelope.
    Streamed(fn(Ctx) -> StreamedFuture),
}

pub struct Method {
    pub name: &'static str,
    pub handler: Handler,
}

macro_rules! envelope {
    ($name:literal, $handler:path) => {
        Method {
            name: $name,
            handler: Handler::Envelope(|ctx| Box::pin($handler(ctx))),
        }
    };
}

macro_rules! media {
    ($name:literal, $handler:path) => {
        Method {
            name: $name,
            handler: Handler::Media(|ctx| Box::pin($handler(ctx))),
        }
    };
}

macro_rules! streamed {
    ($name:literal, $handler:path) => {
        Method {
            name: $name,
            handler: Handler::Streamed(|ctx| Box::pin($handler(ctx))),
        }
    };
}

/// The method named `name`, if this server answers it.
pub fn find(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.name == name)
}

pub static METHODS: &[Method] = &[
    Method {
        name: "getOpenSubsonicExtensions",
        handler: Handler::Open(system::open_subsonic_extensions),
    },
    // system and scanning (system.rs, scan_errors.rs):
    envelope!("ping", system::ping),
    envelope!("getLicense", system::get_license),
    envelope!("getScanStatus", system::get_scan_status),
    envelope!("startScan", system::start_scan),
    envelope!("getScanErrors", scan_errors::get_scan_errors),
    envelope!("getScanInfo", system::get_scan_info),
    // loudness analysis (loudness.rs):
    envelope!("getLoudnessStatus", loudness::get_loudness_status),
    envelope!("startLoudnessAnalysis", loudness::start_loudness_analysis),
    envelope!("stopLoudnessAnalysis", loudness::stop_loudness_analysis),
    // tag browsing (browsing.rs):
    envelope!("getMusicFolders", browsing::get_music_folders),
    envelope!("getGenres", browsing::get_genres),
    envelope!("getArtists", browsing::get_artists),
    envelope!("getArtist", browsing::get_artist),
    envelope!("getAlbum", browsing::get_album),
    envelope!("getSong", browsing::get_song),
    // folders and info (folders.rs, info.rs):
    envelope!("getIndexes", folders::get_indexes),
    envelope!("getMusicDirectory", folders::get_music_directory),
    envelope!("getArtistInfo", info::get_artist_info),
    envelope!("getArtistInfo2", info::get_artist_info2),
    envelope!("getAlbumInfo", info::get_album_info),
    envelope!("getAlbumInfo2", info::get_album_info2),
    envelope!("getSimilarSongs", info::get_similar_songs),
    envelope!("getSimilarSongs2", info::get_similar_songs2),
    envelope!("getTopSongs", info::get_top_songs),
    envelope!("getVideos", folders::get_videos),
    envelope!("getVideoInfo", folders::get_video_info),
    // lists and search (lists.rs, searching.rs):
    envelope!("getAlbumList", lists::get_album_list),
    envelope!("getAlbumList2", lists::get_album_list2),
    envelope!("getRandomSongs", lists::get_random_songs),
    envelope!("getSongsByGenre", lists::get_songs_by_genre),
    envelope!("search", searching::search),
    envelope!("search2", searching::search2),
    envelope!("search3", searching::search3),
    // annotations (annotation.rs):
    envelope!("star", annotation::star),
    envelope!("unstar", annotation::unstar),
    envelope!("setRating", annotation::set_rating),
    envelope!("scrobble", annotation::scrobble),
    envelope!("getNowPlaying", annotation::get_now_playing),
    envelope!("getStarred", annotation::get_starred),
    envelope!("getStarred2", annotation::get_starred2),
    // lyrics (lyrics.rs):
    envelope!("getLyrics", lyrics::get_lyrics),
    envelope!("getLyricsBySongId", lyrics::get_lyrics_by_song_id),
    // users and API keys (users.rs, system.rs):
    envelope!("tokenInfo", system::token_info),
    envelope!("getUser", users::get_user),
    envelope!("getUsers", users::get_users),
    envelope!("createUser", users::create_user),
    envelope!("updateUser", users::update_user),
    envelope!("deleteUser", users::delete_user),
    envelope!("changePassword", users::change_password),
    envelope!("createApiKey", users::create_api_key),
    envelope!("getApiKeys", users::get_api_keys),
    envelope!("deleteApiKey", users::delete_api_key),
    // shares (shares.rs):
    envelope!("getShares", shares::get_shares),
    envelope!("createShare", shares::create_share),
    envelope!("updateShare", shares::update_share),
    envelope!("deleteShare", shares::delete_share),
    // radio, chat, podcasts (radio.rs, chat.rs, podcasts.rs):
    envelope!(
        "getInternetRadioStations",
        radio::get_internet_radio_stations
    ),
    envelope!(
        "createInternetRadioStation",
        radio::create_internet_radio_station
    ),
    envelope!(
        "updateInternetRadioStation",
        radio::update_internet_radio_station
    ),
    envelope!(
        "deleteInternetRadioStation",
        radio::delete_internet_radio_station
    ),
    envelope!("addChatMessage", chat::add_chat_message),
    envelope!("getChatMessages", chat::get_chat_messages),
    envelope!("getPodcasts", podcasts::get_podcasts),
    envelope!("getNewestPodcasts", podcasts::get_newest_podcasts),
    envelope!("getPodcastEpisode", podcasts::get_podcast_episode),
    envelope!("refreshPodcasts", podcasts::refresh_podcasts),
    envelope!("createPodcastChannel", podcasts::create_podcast_channel),
    envelope!("deletePodcastChannel", podcasts::delete_podcast_channel),
    envelope!("deletePodcastEpisode", podcasts::delete_podcast_episode),
    envelope!("downloadPodcastEpisode", podcasts::download_podcast_episode),
    // playlists, queue, bookmarks (playlists.rs, play_queue.rs):
    envelope!("getPlaylists", playlists::get_playlists),
    streamed!("getPlaylist", playlists::get_playlist),
    streamed!("createPlaylist", playlists::create_playlist),
    envelope!("updatePlaylist", playlists::update_playlist),
    envelope!("deletePlaylist", playlists::delete_playlist),
    streamed!("getPlayQueue", play_queue::get_play_queue),
    envelope!("savePlayQueue", play_queue::save_play_queue),
    streamed!("getPlayQueueByIndex", play_queue::get_play_queue_by_index),
    envelope!("savePlayQueueByIndex", play_queue::save_play_queue_by_index),
    envelope!("getBookmarks", play_queue::get_bookmarks),
    envelope!("createBookmark", play_queue::create_bookmark),
    envelope!("deleteBookmark", play_queue::delete_bookmark),
    // streams, downloads, cover art and avatars (media.rs, artwork.rs, avatar.rs):
    media!("stream", media::stream),
    media!("download", media::download),
    media!("getAvatar", avatar::get_avatar),
    media!("getCoverArt", artwork::get_cover_art),
    // scrobbling links, ours (scrobble_links.rs):
    envelope!("getScrobbleServices", scrobble_links::get_scrobble_services),
    envelope!("linkListenBrainz", scrobble_links::link_listenbrainz),
    envelope!("getLastFmAuthUrl", scrobble_links::get_last_fm_auth_url),
    envelope!(
        "updateScrobbleService",
        scrobble_links::update_scrobble_service
    ),
    envelope!(
        "unlinkScrobbleService",
        scrobble_links::unlink_scrobble_service
    ),
    // the OpenSubsonic `transcoding` extension (media.rs over transcode_decision.rs):
    envelope!("getTranscodeDecision", media::get_transcode_decision),
    media!("getTranscodeStream", media::get_transcode_stream),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_method_is_registered_once() {
        let mut seen = HashSet::new();
        for m in METHODS {
            assert!(seen.insert(m.name), "{} is registered twice", m.name);
        }
        assert!(find("getAlbum").is_some());
        assert!(find("getAlbum.view").is_none(), "the suffix is cut before");
        assert!(find("nope").is_none());
    }

    #[test]
    fn only_the_extensions_list_is_answered_without_sign_in() {
        let open: Vec<&str> = METHODS
            .iter()
            .filter(|m| matches!(m.handler, Handler::Open(_)))
            .map(|m| m.name)
            .collect();
        assert_eq!(open, ["getOpenSubsonicExtensions"]);
        let media: Vec<&str> = METHODS
            .iter()
            .filter(|m| matches!(m.handler, Handler::Media(_)))
            .map(|m| m.name)
            .collect();
        assert_eq!(
            media,
            [
                "stream",
                "download",
                "getAvatar",
                "getCoverArt",
                "getTranscodeStream"
            ]
        );
    }

    /// The methods of each advertised OpenSubsonic extension (system::EXTENSIONS) answer.
    #[test]
    fn advertised_extensions_have_their_methods() {
        for name in [
            "tokenInfo",
            "getPlayQueueByIndex",
            "savePlayQueueByIndex",
            "getLyricsBySongId",
            "stream",
            "getPodcastEpisode",
            "getTranscodeDecision",
            "getTranscodeStream",
        ] {
            assert!(find(name).is_some(), "{name}");
        }
    }
}
