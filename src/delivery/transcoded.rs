//! Sending a transcode over HTTP: an exact Content-Length, Range (206/416) and conditional
//! requests against the transcode's own validators, HEAD, the disk cache, and the concurrency
//! cap. Shared by the API's `stream` and the public share page; knows no Subsonic.

use super::conditional::{self, Decision as Conditional, Validators};
use super::file_response::{read_chunks, select_range};
use crate::library::files::TrackFile;
use crate::state::AppState;
use crate::transcode::{self, Codec, Flow, Job, Source};
use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use std::time::{Duration, UNIX_EPOCH};

/// Why a transcode cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The file cannot be transcoded, or the transcoders are all busy (the reason, for logs).
    #[error("{0}")]
    Refused(String),
    #[error("the time offset lies past the end of the song")]
    OffsetPastEnd,
    #[error(transparent)]
    Blocking(#[from] actix_web::error::BlockingError),
}

/// Sends `track` as MP3 at `kbps` from `time_offset` seconds (the plan, then the bytes).
pub async fn send_mp3(
    request: &HttpRequest,
    state: &web::Data<AppState>,
    track: &TrackFile,
    kbps: u32,
    time_offset: f64,
) -> Result<HttpResponse, SendError> {
    send(request, state, track, Codec::Mp3, kbps, time_offset).await
}

/// Sends `track` transcoded to `codec` at `kbps` from `time_offset` seconds.
pub async fn send(
    request: &HttpRequest,
    state: &web::Data<AppState>,
    track: &TrackFile,
    codec: Codec,
    kbps: u32,
    time_offset: f64,
) -> Result<HttpResponse, SendError> {
    let job = plan(state, track, codec, kbps, time_offset).await?;
    respond(request, state, job, track.track.file.mtime).await
}

/// Plans the transcode of `track` (blocking work, off the worker).
pub async fn plan(
    state: &web::Data<AppState>,
    track: &TrackFile,
    codec: Codec,
    kbps: u32,
    time_offset: f64,
) -> Result<Job, SendError> {
    let t = &track.track;
    let source = Source {
        id: t.id,
        path: track.path.clone(),
        mtime: t.file.mtime,
        duration_ms: t.audio.duration_ms,
        sample_rate: t.audio.sample_rate.map(|r| r.max(0) as u32),
    };
    let worker = state.clone();
    let job = match codec {
        Codec::Mp3 => {
            web::block(move || {
                worker
                    .transcoder
                    .plan(&source, kbps, time_offset)
                    .map(Job::Mp3)
            })
            .await?
        }
        Codec::Opus => {
            let channels = if t.audio.channels == Some(1) { 1 } else { 2 };
            let track = t.clone();
            web::block(move || {
                // The gain is read once per request and fixed for its stream; it is part of
                // the plan's identity (cache key, ETag), never of the layout.
                let gains = worker
                    .catalog
                    .read(|c| {
                        crate::loudness::store::served_gains(c, &track)
                            .map_err(crate::db::DbError::from)
                    })
                    .unwrap_or_else(|e| {
                        tracing::warn!("reading the loudness of track {}: {e}", track.id);
                        crate::loudness::gain::Gains::tagged(&track.tags)
                    });
                let tags = transcode::ogg::Tags {
                    title: track.tags.title.clone(),
                    artist: track.tags.artist_display.clone(),
                    album: track.tags.album_name.clone(),
                    replay_gain_track: gains.track_gain.filter(|g| g.is_finite()),
                    replay_gain_album: gains.album_gain.filter(|g| g.is_finite()),
                };
                worker
                    .transcoder
                    .plan_opus(&source, kbps, time_offset, channels, &tags)
                    .map(Job::Opus)
            })
            .await?
        }
    };
    job.map_err(|e| plan_error(e, track))
}

fn plan_error(e: transcode::TranscodeError, track: &TrackFile) -> SendError {
    use transcode::TranscodeError as E;
    match e {
        E::Unsupported(_) => SendError::Refused(e.to_string()),
        E::OffsetPastEnd => SendError::OffsetPastEnd,
        other => {
            tracing::warn!(path = %track.path.display(), "cannot transcode: {other}");
            SendError::Refused(format!("cannot transcode this file: {other}"))
        }
    }
}

/// Answers with the plan's bytes: from the cache when they are there, else encoded now.
async fn respond(
    request: &HttpRequest,
    state: &AppState,
    plan: Job,
    mtime_ms: i64,
) -> Result<HttpResponse, SendError> {
    let transcoder = &state.transcoder;
    let len = plan.total_len();
    let modified = UNIX_EPOCH + Duration::from_millis(mtime_ms.max(0) as u64);
    let validators = Validators::new(len, modified, plan.identity());
    let mut builder = HttpResponse::Ok();
    builder
        .insert_header((header::ETAG, validators.etag.to_string()))
        .insert_header((header::LAST_MODIFIED, validators.last_modified))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    let honour_range = match conditional::evaluate(request, &validators) {
        Conditional::NotModified => return Ok(builder.status(StatusCode::NOT_MODIFIED).finish()),
        Conditional::PreconditionFailed => {
            return Ok(builder.status(StatusCode::PRECONDITION_FAILED).finish());
        }
        Conditional::Send { honour_range } => honour_range,
    };
    let seconds = plan.seconds();
    builder
        .insert_header((header::CONTENT_TYPE, plan.codec().content_type()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if let Ok(value) = HeaderValue::from_str(&format!("{seconds:.2}")) {
        builder.insert_header((header::HeaderName::from_static("x-content-duration"), value));
    }
    let (start, count) = match select_range(request, &mut builder, len, honour_range) {
        Ok(span) => span,
        Err(unsatisfiable) => return Ok(*unsatisfiable),
    };
    if request.method() == Method::HEAD {
        let nothing = futures_util::stream::empty::<Result<web::Bytes, std::io::Error>>();
        return Ok(builder.body(SizedStream::new(count, nothing)));
    }
    if let Some(key) = plan.cache_key()
        && let Some(path) = transcoder.cache.lookup(key, len)
        && let Ok(Ok(file)) = web::block(move || std::fs::File::open(path)).await
    {
        tracing::debug!(key, "transcode served from the cache");
        let body = read_chunks(file, start, count, state.media.io.clone());
        return Ok(builder.body(SizedStream::new(count, body)));
    }
    let permit = transcoder
        .permit()
        .await
        .map_err(|e| SendError::Refused(e.to_string()))?;
    tracing::info!(
        path = %plan.path().display(),
        codec = plan.codec().suffix(),
        kbps = plan.kbps(),
        rate = plan.sample_rate(),
        from = start,
        "transcoding"
    );
    // A stream of the whole transcode is also written to the cache.
    let cache = (start == 0 && count == len)
        .then_some(plan.cache_key())
        .flatten()
        .and_then(|key| transcoder.cache.writer(key, len));
    let idle = transcoder.settings.idle;
    let body = transcode::stream::blocking_body(idle, move |sink| {
        let _permit = permit;
        let mut cache = cache;
        let result = plan.produce(start..start + count, &mut |bytes| {
            if let Some(writer) = &mut cache {
                writer.write(bytes);
            }
            sink.send(bytes)
        });
        match result {
            Ok(Flow::Continue) => {
                if let Some(writer) = cache {
                    writer.commit();
                }
            }
            Ok(Flow::Stop) => {
                tracing::debug!(path = %plan.path().display(), "client left a transcode")
            }
            Err(e) => {
                tracing::warn!(path = %plan.path().display(), "transcode stopped: {e}");
                sink.fail(e.to_string());
            }
        }
    });
    Ok(builder.body(SizedStream::new(count, body)))
}
