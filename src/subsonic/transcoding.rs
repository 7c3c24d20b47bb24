//! `stream` when it transcodes: the Subsonic parameters (maxBitRate, format, timeOffset,
//! estimateContentLength, c) mapped onto `transcode`'s decision; the HTTP answer is
//! `delivery::transcoded`'s.

use super::auth::Ctx;
use super::error::ApiError;
use crate::delivery::transcoded::{self, SendError};
use crate::library::files::TrackFile;
use crate::transcode::{self, Codec, SourceFacts, StreamRequest};
use actix_web::{HttpResponse, web};

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

    /// What a plain stream of a file with this suffix and bitrate (kbps) is transcoded to;
    /// None when it is sent as it is.
    pub fn transcodes_to(&self, suffix: &str, bitrate: Option<i32>) -> Option<Codec> {
        let source = SourceFacts {
            suffix,
            bitrate: bitrate.and_then(|b| u32::try_from(b).ok()),
        };
        self.settings
            .decide(&self.request, source)
            .transcode()
            .map(|(codec, _)| codec)
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
    let Some((codec, kbps)) = transcoder.settings.decide(&request, facts).transcode() else {
        return Ok(None);
    };
    let path = track.path.clone();
    if !web::block(move || path.is_file()).await? {
        // The original path answers a vanished file (error 70, and a rescan of its folder).
        return Ok(None);
    }
    Ok(Some(
        transcoded::send(&ctx.request, &ctx.state, track, codec, kbps, time_offset).await?,
    ))
}

impl From<SendError> for ApiError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Refused(why) => ApiError::Refused(why),
            SendError::OffsetPastEnd => ApiError::BadParam("timeOffset"),
            SendError::Blocking(e) => e.into(),
        }
    }
}
