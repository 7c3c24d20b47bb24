//! `stream` when it transcodes: the Subsonic parameters (maxBitRate, format, timeOffset,
//! estimateContentLength, c) mapped onto `transcode`'s decision, and the HTTP answer: an exact
//! Content-Length, Range (206/416) and conditional requests against the transcode's own
//! validators, HEAD, the disk cache, and the concurrency cap.

use super::auth::Ctx;
use super::error::ApiError;
use crate::library::files::TrackFile;
use crate::media::conditional::{self, Decision as Conditional, Validators};
use crate::media::file_response::{read_chunks, select_range};
use crate::state::AppState;
use crate::transcode::{self, Decision, Flow, Plan, Source, SourceFacts, StreamRequest};
use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use std::time::{Duration, UNIX_EPOCH};

/// The MIME type and suffix of what the transcoder sends.
pub const TRANSCODED_CONTENT_TYPE: &str = "audio/mpeg";
pub const TRANSCODED_SUFFIX: &str = "mp3";

/// What a plain `stream` request (no maxBitRate, no format) of this caller would get, for the
/// `transcodedSuffix`/`transcodedContentType` hints on songs: the user's cap, the client's (or
/// the server-wide) default from `[transcode]`.
pub struct DefaultStream<'a> {
    settings: &'a transcode::Settings,
    request: StreamRequest<'a>,
}

impl<'a> DefaultStream<'a> {
    pub fn of(ctx: &'a Ctx) -> Self {
        Self::new(
            &ctx.state.transcoder.settings,
            ctx.user.max_bit_rate.max(0) as u32,
            ctx.params.get("c"),
        )
    }

    pub fn new(
        settings: &'a transcode::Settings,
        user_max_bit_rate: u32,
        client: Option<&'a str>,
    ) -> Self {
        Self {
            settings,
            request: StreamRequest {
                user_max_bit_rate,
                client,
                ..StreamRequest::default()
            },
        }
    }

    /// Whether a plain stream of a file with this suffix and bitrate (kbps) is transcoded.
    pub fn transcodes(&self, suffix: &str, bitrate: Option<i32>) -> bool {
        let source = SourceFacts {
            suffix,
            bitrate: bitrate.and_then(|b| u32::try_from(b).ok()),
        };
        matches!(
            self.settings.decide(&self.request, source),
            Decision::Mp3 { .. }
        )
    }
}

/// The transcode `stream` should send for this request, or None for the original file.
pub async fn stream_transcoded(
    ctx: &Ctx,
    track: &TrackFile,
) -> Result<Option<HttpResponse>, ApiError> {
    let time_offset = ctx.params.number::<f64>("timeOffset")?.unwrap_or(0.0);
    if !time_offset.is_finite() || time_offset < 0.0 {
        return Err(ApiError::BadParam("timeOffset"));
    }
    let request = StreamRequest {
        max_bit_rate: ctx.params.number::<u32>("maxBitRate")?,
        format: ctx.params.get("format"),
        time_offset,
        user_max_bit_rate: ctx.user.max_bit_rate.max(0) as u32,
        client: ctx.params.get("c"),
    };
    // Our Content-Length is always exact, which is what estimateContentLength asks for.
    ctx.params.boolean("estimateContentLength")?;
    let t = &track.track;
    let facts = SourceFacts {
        suffix: &t.audio.suffix,
        bitrate: t.audio.bitrate.map(|b| b.max(0) as u32),
    };
    let transcoder = &ctx.state.transcoder;
    let Decision::Mp3 { kbps } = transcoder.settings.decide(&request, facts) else {
        return Ok(None);
    };
    let path = track.path.clone();
    if !web::block(move || path.is_file()).await? {
        // The original path answers a vanished file (error 70, and a rescan of its folder).
        return Ok(None);
    }
    send_mp3(&ctx.request, &ctx.state, track, kbps, time_offset)
        .await
        .map(Some)
}

/// Sends `track` as MP3 at `kbps` from `time_offset` seconds (the plan, then the bytes); also
/// the share page's transcode.
pub async fn send_mp3(
    request: &HttpRequest,
    state: &web::Data<AppState>,
    track: &TrackFile,
    kbps: u32,
    time_offset: f64,
) -> Result<HttpResponse, ApiError> {
    let t = &track.track;
    let source = Source {
        id: t.id,
        path: track.path.clone(),
        mtime: t.file.mtime,
        duration_ms: t.audio.duration_ms,
        sample_rate: t.audio.sample_rate.map(|r| r.max(0) as u32),
    };
    let worker = state.clone();
    let plan = web::block(move || worker.transcoder.plan(&source, kbps, time_offset))
        .await?
        .map_err(|e| plan_error(e, track))?;
    respond(request, state, plan, t.file.mtime).await
}

fn plan_error(e: transcode::TranscodeError, track: &TrackFile) -> ApiError {
    use transcode::TranscodeError as E;
    match e {
        E::Unsupported(_) => ApiError::Refused(e.to_string()),
        E::OffsetPastEnd => ApiError::BadParam("timeOffset"),
        other => {
            tracing::warn!(path = %track.path.display(), "cannot transcode: {other}");
            ApiError::Refused(format!("cannot transcode this file: {other}"))
        }
    }
}

/// Answers with the plan's bytes: from the cache when they are there, else encoded now.
async fn respond(
    request: &HttpRequest,
    state: &AppState,
    plan: Plan,
    mtime_ms: i64,
) -> Result<HttpResponse, ApiError> {
    let transcoder = &state.transcoder;
    let layout = plan.layout;
    let len = layout.total_len();
    let modified = UNIX_EPOCH + Duration::from_millis(mtime_ms.max(0) as u64);
    let validators = Validators::new(len, modified, plan.identity);
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
    let seconds = layout.samples as f64 / f64::from(layout.sample_rate);
    builder
        .insert_header((header::CONTENT_TYPE, TRANSCODED_CONTENT_TYPE))
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
    if let Some(key) = &plan.cache_key
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
        .map_err(|e| ApiError::Refused(e.to_string()))?;
    tracing::info!(
        path = %plan.path.display(),
        kbps = layout.kbps,
        rate = layout.sample_rate,
        from = start,
        "transcoding"
    );
    // A stream of the whole transcode is also written to the cache.
    let cache = (start == 0 && count == len)
        .then_some(plan.cache_key.as_deref())
        .flatten()
        .and_then(|key| transcoder.cache.writer(key, len));
    let idle = transcoder.settings.idle;
    let body = transcode::stream::blocking_body(idle, move |sink| {
        let _permit = permit;
        let mut cache = cache;
        let result = transcode::produce(&plan, start..start + count, &mut |bytes| {
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
                tracing::debug!(path = %plan.path.display(), "client left a transcode")
            }
            Err(e) => {
                tracing::warn!(path = %plan.path.display(), "transcode stopped: {e}");
                sink.fail(e.to_string());
            }
        }
    });
    Ok(builder.body(SizedStream::new(count, body)))
}
