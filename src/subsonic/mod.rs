//! The Subsonic/OpenSubsonic API: the only module that knows Subsonic names, parameters, error
//! codes and wire formats. Every method answers at /rest/NAME and /rest/NAME.view, by GET and
//! POST (form body merged with the query string), and every failure — unknown method, bad
//! parameter, failed sign-in — is a Subsonic envelope at HTTP 200 in the format asked for.

pub mod annotation;
pub mod artwork;
pub mod auth;
pub mod avatar;
pub mod browsing;
pub mod chat;
pub mod error;
pub mod folders;
pub mod info;
pub mod lists;
pub mod lyrics;
pub mod media;
pub mod model;
pub mod params;
pub mod play_queue;
pub mod playlists;
pub mod podcasts;
pub mod radio;
pub mod response;
pub mod scan_errors;
pub mod searching;
pub mod shared;
pub mod shares;
pub mod system;
pub mod transcoding;
pub mod users;

use crate::state::AppState;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use auth::{Ctx, authenticate};
use error::ApiError;
use futures_util::StreamExt;
use params::Params;
use response::{Element, Format, render};

/// How much of a refused, too large body is read and dropped, so that the client (still
/// sending) gets to read the error; past it the connection is closed.
const DRAIN_AT_MOST: usize = 64 * 1024 * 1024;

/// Mounts the API under /rest.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/rest/{method}").route(web::route().to(dispatch)));
}

/// CORS headers on every API response (envelopes and media alike), so web clients hosted
/// elsewhere work. Media responses expose the headers a player needs for ranged reads.
fn add_cors(headers: &mut header::HeaderMap) {
    let pairs = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "GET, POST, HEAD, OPTIONS",
        ),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "*"),
        (
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified, Content-Disposition",
        ),
        (header::ACCESS_CONTROL_MAX_AGE, "86400"),
    ];
    for (name, value) in pairs {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
}

/// What a method answers with: an envelope payload, or bytes (streams, images).
pub enum Reply {
    Envelope(Option<Element>),
    Media(HttpResponse),
}

async fn dispatch(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if req.method() == Method::OPTIONS {
        let mut response = HttpResponse::NoContent().finish();
        add_cors(response.headers_mut());
        return response;
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let limit = usize::try_from(state.config.limits.request_body_mb)
        .unwrap_or(usize::MAX)
        .saturating_mul(1024 * 1024);
    let body = if is_form {
        read_form(&mut payload, limit).await
    } else {
        Ok(Vec::new())
    };
    let (params, body_error) = match body {
        Ok(body) => (
            Params::parse(req.query_string(), is_form.then_some(body.as_slice())),
            None,
        ),
        Err(e) => (Params::parse(req.query_string(), None), Some(e)),
    };
    let method = req
        .match_info()
        .get("method")
        .unwrap_or_default()
        .trim_end_matches(".view")
        .to_string();
    let (format, result) = match params.format() {
        Ok(format) => {
            let result = match body_error {
                Some(message) => Err(ApiError::Refused(message)),
                None => call(&method, state, params, format.clone(), &req).await,
            };
            (format, result)
        }
        Err((format, e)) => (format, Err(e)),
    };
    let (ok, payload) = match result {
        Ok(Reply::Media(mut response)) => {
            add_cors(response.headers_mut());
            return response;
        }
        Ok(Reply::Envelope(payload)) => (true, payload),
        Err(e) => {
            if let ApiError::Internal(cause) = &e {
                tracing::error!(method = %method, "internal error: {cause}");
            }
            (false, Some(e.to_element()))
        }
    };
    let (content_type, body) = render(&format, ok, payload);
    let mut response = HttpResponse::Ok().content_type(content_type).body(body);
    add_cors(response.headers_mut());
    response
}

/// The form body, up to `limit` bytes. A larger one is refused, never cut and processed (its
/// rest is read and dropped, up to a bound, so the client gets to read the error).
async fn read_form(payload: &mut web::Payload, limit: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| format!("the request body could not be read: {e}"))?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            body = Vec::new();
            if seen > DRAIN_AT_MOST {
                break;
            }
        } else {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(format!(
            "the request body is larger than {} MiB (limits.request_body_mb)",
            limit / (1024 * 1024)
        ));
    }
    Ok(body)
}

async fn call(
    method: &str,
    state: web::Data<AppState>,
    params: Params,
    format: Format,
    req: &HttpRequest,
) -> Result<Reply, ApiError> {
    // The one method answered without authentication.
    if method == "getOpenSubsonicExtensions" {
        return Ok(Reply::Envelope(Some(system::open_subsonic_extensions())));
    }
    if MEDIA_METHODS.contains(&method) {
        let ctx = authenticate(state, params, format, req.clone()).await?;
        return route_media(method, ctx).await.map(Reply::Media);
    }
    if !is_known(method) {
        return Err(ApiError::UnknownMethod(method.to_string()));
    }
    let ctx = authenticate(state, params, format, req.clone()).await?;
    let default_stream = transcoding::DefaultStream::of(&ctx);
    let legacy_xml = ctx.format == Format::Xml
        && response::is_legacy_client(&ctx.state.config.api.legacy_clients, ctx.params.get("c"));
    let mut payload = route(method, ctx).await?;
    if let Some(payload) = payload.as_mut() {
        default_stream.annotate(payload);
        if legacy_xml {
            payload.drop_nested(response::OPEN_SUBSONIC_NESTED);
        }
    }
    Ok(Reply::Envelope(payload))
}

/// Methods that answer with bytes rather than an envelope (failures still get an envelope).
const MEDIA_METHODS: &[&str] = &[
    // streams and downloads (media.rs):
    "stream",
    "download",
    // cover art and avatars (artwork.rs):
    "getAvatar",
    "getCoverArt",
];

async fn route_media(method: &str, ctx: Ctx) -> Result<HttpResponse, ApiError> {
    match method {
        // streams and downloads (media.rs):
        "stream" => media::stream(ctx).await,
        "download" => media::download(ctx).await,
        // cover art and avatars (artwork.rs):
        "getAvatar" => avatar::get_avatar(ctx).await,
        "getCoverArt" => artwork::get_cover_art(ctx).await,
        other => Err(ApiError::UnknownMethod(other.to_string())),
    }
}

/// Every method this server answers (besides getOpenSubsonicExtensions).
const METHODS: &[&str] = &[
    "ping",
    "getLicense",
    "getScanStatus",
    "startScan",
    // scan errors and scan info for the web player's admin page (scan_errors.rs, system.rs):
    "getScanErrors",
    "getScanInfo",
    "getMusicFolders",
    "getGenres",
    "getArtists",
    "getArtist",
    "getAlbum",
    "getSong",
    // folders and info (folders.rs, info.rs):
    "getIndexes",
    "getMusicDirectory",
    "getArtistInfo",
    "getArtistInfo2",
    "getAlbumInfo",
    "getAlbumInfo2",
    "getSimilarSongs",
    "getSimilarSongs2",
    "getTopSongs",
    "getVideos",
    "getVideoInfo",
    // lists and search (lists.rs, searching.rs):
    "getAlbumList",
    "getAlbumList2",
    "getRandomSongs",
    "getSongsByGenre",
    "search",
    "search2",
    "search3",
    // annotations (annotation.rs):
    "star",
    "unstar",
    "setRating",
    "scrobble",
    "getNowPlaying",
    "getStarred",
    "getStarred2",
    // API keys (system.rs):
    "tokenInfo",
    "getUser",
    "getUsers",
    // lyrics (lyrics.rs):
    "getLyrics",
    "getLyricsBySongId",
    // users, playlists, queue, bookmarks, shares, radio, chat (issue 5 files):
    "getShares",
    "createShare",
    "updateShare",
    "deleteShare",
    "getInternetRadioStations",
    "createInternetRadioStation",
    "updateInternetRadioStation",
    "deleteInternetRadioStation",
    "addChatMessage",
    "getChatMessages",
    "getPodcasts",
    "getNewestPodcasts",
    "createUser",
    "updateUser",
    "deleteUser",
    "changePassword",
    "createApiKey",
    "getApiKeys",
    "deleteApiKey",
    "getPlaylists",
    "getPlaylist",
    "createPlaylist",
    "updatePlaylist",
    "deletePlaylist",
    "getPlayQueue",
    "savePlayQueue",
    "getPlayQueueByIndex",
    "savePlayQueueByIndex",
    "getBookmarks",
    "createBookmark",
    "deleteBookmark",
];

fn is_known(method: &str) -> bool {
    METHODS.contains(&method)
}

async fn route(method: &str, ctx: Ctx) -> Result<Option<Element>, ApiError> {
    match method {
        "ping" => system::ping(ctx).await,
        "getLicense" => system::get_license(ctx).await,
        "getScanStatus" => system::get_scan_status(ctx).await,
        "startScan" => system::start_scan(ctx).await,
        // scan errors for the web player's admin page (scan_errors.rs):
        "getScanErrors" => scan_errors::get_scan_errors(ctx).await,
        "getScanInfo" => system::get_scan_info(ctx).await,
        "getMusicFolders" => browsing::get_music_folders(ctx).await,
        "getGenres" => browsing::get_genres(ctx).await,
        "getArtists" => browsing::get_artists(ctx).await,
        "getArtist" => browsing::get_artist(ctx).await,
        "getAlbum" => browsing::get_album(ctx).await,
        "getSong" => browsing::get_song(ctx).await,
        // folders and info (folders.rs, info.rs):
        "getIndexes" => folders::get_indexes(ctx).await,
        "getMusicDirectory" => folders::get_music_directory(ctx).await,
        "getArtistInfo" => info::get_artist_info(ctx).await,
        "getArtistInfo2" => info::get_artist_info2(ctx).await,
        "getAlbumInfo" => info::get_album_info(ctx).await,
        "getAlbumInfo2" => info::get_album_info2(ctx).await,
        "getSimilarSongs" => info::get_similar_songs(ctx).await,
        "getSimilarSongs2" => info::get_similar_songs2(ctx).await,
        "getTopSongs" => info::get_top_songs(ctx).await,
        "getVideos" => folders::get_videos(ctx).await,
        "getVideoInfo" => folders::get_video_info(ctx).await,
        // lists and search (lists.rs, searching.rs):
        "getAlbumList" => lists::get_album_list(ctx).await,
        "getAlbumList2" => lists::get_album_list2(ctx).await,
        "getRandomSongs" => lists::get_random_songs(ctx).await,
        "getSongsByGenre" => lists::get_songs_by_genre(ctx).await,
        "search" => searching::search(ctx).await,
        "search2" => searching::search2(ctx).await,
        "search3" => searching::search3(ctx).await,
        // annotations (annotation.rs):
        "star" => annotation::star(ctx).await,
        "unstar" => annotation::unstar(ctx).await,
        "setRating" => annotation::set_rating(ctx).await,
        "scrobble" => annotation::scrobble(ctx).await,
        "getNowPlaying" => annotation::get_now_playing(ctx).await,
        "getStarred" => annotation::get_starred(ctx).await,
        "getStarred2" => annotation::get_starred2(ctx).await,
        // API keys (system.rs):
        "tokenInfo" => system::token_info(ctx).await,
        "getUser" => users::get_user(ctx).await,
        "getUsers" => users::get_users(ctx).await,
        // lyrics (lyrics.rs):
        "getLyrics" => lyrics::get_lyrics(ctx).await,
        "getLyricsBySongId" => lyrics::get_lyrics_by_song_id(ctx).await,
        // users, playlists, queue, bookmarks, shares, radio, chat (issue 5 files):
        "getShares" => shares::get_shares(ctx).await,
        "createShare" => shares::create_share(ctx).await,
        "updateShare" => shares::update_share(ctx).await,
        "deleteShare" => shares::delete_share(ctx).await,
        "getInternetRadioStations" => radio::get_internet_radio_stations(ctx).await,
        "createInternetRadioStation" => radio::create_internet_radio_station(ctx).await,
        "updateInternetRadioStation" => radio::update_internet_radio_station(ctx).await,
        "deleteInternetRadioStation" => radio::delete_internet_radio_station(ctx).await,
        "addChatMessage" => chat::add_chat_message(ctx).await,
        "getChatMessages" => chat::get_chat_messages(ctx).await,
        "getPodcasts" => podcasts::get_podcasts(ctx).await,
        "getNewestPodcasts" => podcasts::get_newest_podcasts(ctx).await,
        "createUser" => users::create_user(ctx).await,
        "updateUser" => users::update_user(ctx).await,
        "deleteUser" => users::delete_user(ctx).await,
        "changePassword" => users::change_password(ctx).await,
        "createApiKey" => users::create_api_key(ctx).await,
        "getApiKeys" => users::get_api_keys(ctx).await,
        "deleteApiKey" => users::delete_api_key(ctx).await,
        "getPlaylists" => playlists::get_playlists(ctx).await,
        "getPlaylist" => playlists::get_playlist(ctx).await,
        "createPlaylist" => playlists::create_playlist(ctx).await,
        "updatePlaylist" => playlists::update_playlist(ctx).await,
        "deletePlaylist" => playlists::delete_playlist(ctx).await,
        "getPlayQueue" => play_queue::get_play_queue(ctx).await,
        "savePlayQueue" => play_queue::save_play_queue(ctx).await,
        "getPlayQueueByIndex" => play_queue::get_play_queue_by_index(ctx).await,
        "savePlayQueueByIndex" => play_queue::save_play_queue_by_index(ctx).await,
        "getBookmarks" => play_queue::get_bookmarks(ctx).await,
        "createBookmark" => play_queue::create_bookmark(ctx).await,
        "deleteBookmark" => play_queue::delete_bookmark(ctx).await,
        other => Err(ApiError::UnknownMethod(other.to_string())),
    }
}
