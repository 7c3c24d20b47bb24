//! stream and download: a track's original file (ranges, HEAD, validators: see `media`), and
//! zip archives of albums, artists and folders for download. Transcoding is decided in
//! `transcoding.rs`; `serve_original` is what every "send the file as it is" path calls.

use super::auth::Ctx;
use super::error::ApiError;
use super::transcode_decision::{self, Plan};
use crate::db::models::Role;
use crate::delivery::limits::{SlotBody, StreamSlot};
use crate::delivery::{self, FileInfo, ServeError, ZipEntry, transcoded};
use crate::library::Id;
use crate::library::files::{self, Archive, TrackFile};
use crate::scanner::ScanOptions;
use actix_web::body::BoxBody;
use actix_web::http::{Method, header};
use actix_web::{HttpResponse, web};
use std::path::{Path, PathBuf};

/// A track to stream: its catalog row (codec, bitrate, duration... for the transcoding
/// decision) and the absolute path of its file.
pub type StreamTrack = TrackFile;

/// stream: the track's audio. Plays are not counted here (clients scrobble).
pub async fn stream(ctx: Ctx) -> Result<HttpResponse, ApiError> {
    ctx.require_role(Role::Stream)?;
    let slot = stream_slot(&ctx)?;
    let track = requested_track(&ctx).await?;
    let response = match super::transcoding::stream_transcoded(&ctx, &track).await? {
        Some(transcoded) => transcoded,
        None => serve_original(&ctx, &track).await?,
    };
    Ok(holding(response, slot))
}

/// getTranscodeDecision (OpenSubsonic `transcoding`): see `transcode_decision`.
pub async fn get_transcode_decision(
    ctx: Ctx,
) -> Result<Option<super::response::Element>, ApiError> {
    transcode_decision::get_transcode_decision(ctx).await
}

/// getTranscodeStream: exactly what getTranscodeDecision decided, from `offset` seconds.
pub async fn get_transcode_stream(ctx: Ctx) -> Result<HttpResponse, ApiError> {
    ctx.require_role(Role::Stream)?;
    let slot = stream_slot(&ctx)?;
    let (track, plan, offset) = transcode_decision::requested_stream(&ctx).await?;
    let response = match plan {
        Plan::Direct => serve_original(&ctx, &track).await?,
        Plan::Transcode { codec, kbps } => {
            transcoded::send(&ctx.request, &ctx.state, &track, codec, kbps, offset).await?
        }
    };
    Ok(holding(response, slot))
}

/// download: a track's original file as an attachment, or a zip of an album (ar-N: all the
/// artist's albums, dir-N: a folder tree). Never transcoded.
pub async fn download(ctx: Ctx) -> Result<HttpResponse, ApiError> {
    ctx.require_role(Role::Download)?;
    let slot = stream_slot(&ctx)?;
    download_item(&ctx).await.map(|r| holding(r, slot))
}

/// One more media connection of the caller, or an error when they have all theirs open
/// (`[limits] streams_per_user`): connections a client never reads cannot pile up.
fn stream_slot(ctx: &Ctx) -> Result<StreamSlot, ApiError> {
    let streams = &ctx.state.media.streams;
    streams.open(ctx.user.id).ok_or_else(|| {
        ApiError::Refused(format!(
            "too many streams and downloads open for this user (at most {}); close some",
            streams.per_user()
        ))
    })
}

/// `response` with a body that keeps `slot` until it is sent or the client is gone.
fn holding(response: HttpResponse, slot: StreamSlot) -> HttpResponse {
    response.map_body(|_, body| BoxBody::new(SlotBody::new(body, slot)))
}

async fn download_item(ctx: &Ctx) -> Result<HttpResponse, ApiError> {
    let id = Id::parse(ctx.params.required("id")?);
    let scope = ctx.viewer.scope.clone();
    let archive = match id {
        Some(Id::Track(_) | Id::PodcastEpisode(_)) => {
            let track = requested_track(ctx).await?;
            let name = track
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| {
                    format!("{}.{}", track.track.tags.title, track.track.audio.suffix)
                });
            return send_file(ctx, &track, Some(&name)).await;
        }
        Some(Id::Album(id)) => {
            ctx.db(move |c| Ok(files::album_archive(c, id, &scope)?))
                .await?
        }
        Some(Id::Artist(id)) => {
            ctx.db(move |c| Ok(files::artist_archive(c, id, &scope)?))
                .await?
        }
        Some(Id::Directory(id)) => {
            ctx.db(move |c| Ok(files::directory_archive(c, id, &scope)?))
                .await?
        }
        Some(Id::Playlist(id)) => {
            let actor = super::shared::actor(ctx).await?;
            ctx.db(move |c| Ok(crate::people::playlists::archive(c, &actor, id)?))
                .await?
        }
        _ => None,
    };
    let archive = archive.ok_or(ApiError::NotFound("Item"))?;
    send_archive(ctx, archive).await
}

/// The track named by `id`: error 10 without one, 70 for anything that is not a track the
/// user may see.
async fn requested_track(ctx: &Ctx) -> Result<StreamTrack, ApiError> {
    let id = match Id::parse(ctx.params.required("id")?) {
        Some(Id::Track(id)) => id,
        Some(Id::PodcastEpisode(id)) => return requested_episode(ctx, id).await,
        _ => return Err(ApiError::NotFound("Song")),
    };
    let scope = ctx.viewer.scope.clone();
    ctx.db(move |c| {
        let Some(track) = files::track_file(c, id)? else {
            return Ok(None);
        };
        let visible = scope.allows(track.track.folder_id);
        Ok(visible.then_some(track))
    })
    .await?
    .ok_or(ApiError::NotFound("Song"))
}

/// A downloaded podcast episode as a track to stream (70 until it is downloaded).
async fn requested_episode(ctx: &Ctx, id: i32) -> Result<StreamTrack, ApiError> {
    let folder = ctx.state.podcasts.folder().to_path_buf();
    ctx.db(move |c| Ok(crate::podcasts::playable(c, id, &folder)?))
        .await?
        .ok_or(ApiError::NotFound("Downloaded podcast episode"))
}

/// Sends the track's file as it is, with Range and conditional request support. A file that
/// vanished since the scan is error 70, and its folder is rescanned so the catalog catches up.
pub async fn serve_original(ctx: &Ctx, track: &StreamTrack) -> Result<HttpResponse, ApiError> {
    send_file(ctx, track, None).await
}

async fn send_file(
    ctx: &Ctx,
    track: &StreamTrack,
    download_name: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let info = FileInfo {
        content_type: &track.track.audio.content_type,
        identity: track.track.id as u64,
        download_name,
    };
    match delivery::serve_file(&ctx.request, &track.path, info, &ctx.state.media.io).await {
        Ok(mut response) => {
            if response.status().is_success() {
                // What Navidrome sends; some players show it before the stream's own header.
                let seconds = format!("{:.2}", track.track.audio.duration_ms as f64 / 1000.0);
                if let Ok(value) = header::HeaderValue::from_str(&seconds) {
                    response
                        .headers_mut()
                        .insert(header::HeaderName::from_static("x-content-duration"), value);
                }
            }
            Ok(response)
        }
        Err(ServeError::Missing(path)) => {
            tracing::warn!(path = %path.display(), "a catalogued file is gone; rescanning its folder");
            rescan_folders_of(ctx, [path.as_path()]);
            Err(ApiError::NotFound("Song file"))
        }
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// Streams the archive as a zip. Files that vanished since the scan are left out (and their
/// folders rescanned); with none left, error 70.
async fn send_archive(ctx: &Ctx, archive: Archive) -> Result<HttpResponse, ApiError> {
    let Archive { name, entries } = archive;
    let (present, missing): (Vec<ZipEntry>, Vec<ZipEntry>) =
        web::block(move || entries.into_iter().partition(|e| e.path.is_file())).await?;
    if !missing.is_empty() {
        tracing::warn!(
            count = missing.len(),
            "catalogued files are gone; zipping the rest and rescanning their folders"
        );
        rescan_folders_of(ctx, missing.iter().map(|e| e.path.as_path()));
    }
    if present.is_empty() {
        return Err(ApiError::NotFound("Item"));
    }
    let mut builder = HttpResponse::Ok();
    builder
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            delivery::file_response::attachment(&format!("{name}.zip")),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if ctx.request.method() == Method::HEAD {
        let nothing = futures_util::stream::empty::<Result<web::Bytes, std::io::Error>>();
        return Ok(builder.streaming(nothing));
    }
    Ok(builder.streaming(delivery::zip_stream(present, ctx.state.media.io.clone())))
}

/// Asks the scanner to look at the folders holding `files` (one coalesced request).
fn rescan_folders_of<'a>(ctx: &Ctx, files: impl IntoIterator<Item = &'a Path>) {
    let mut dirs: Vec<PathBuf> = files
        .into_iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    ctx.state.scans.trigger(ScanOptions {
        full: false,
        paths: Some(dirs),
    });
}
