//! In-process transcoding to constant-bitrate MP3 or Ogg Opus whose every byte is known in
//! advance (Opus: `ogg` and `opus_encode`; a planned transcode of either is a `Job`).
//!
//! `decide` says whether a request gets the original or a transcode (and at which bitrate);
//! `Transcoder::plan` looks at the file (decoder, sample count) and fixes the stream's exact
//! layout; `produce` encodes any byte range of it. A stream is cut into segments that are
//! encoded independently (see `layout::Segments`), so a range starting anywhere re-encodes one
//! segment and yields the very bytes the full transcode has there. Finished full transcodes go
//! to a disk cache. At most `max_concurrent` transcodes run at once.
//!
//! Knows nothing of HTTP (besides the body adapter in `stream.rs`) or of Subsonic.

pub mod cache;
pub mod decode;
pub mod layout;
pub mod mp3;
pub mod ogg;
pub mod opus_encode;
#[cfg(any(test, feature = "synth"))]
pub mod signal;
pub mod stream;

use crate::config::TranscodeConfig;
use cache::Cache;
use decode::Decoder;
use layout::{Layout, SAMPLES_PER_FRAME, Segments, mpeg1_layer3_frame_len};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a transcode cannot start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    /// Neither symphonia nor (a configured, present) ffmpeg can decode the file.
    #[error("cannot transcode {0}")]
    Unsupported(String),
    /// The source could not be read or decoded (missing, truncated, corrupt).
    #[error("cannot decode the source: {0}")]
    Source(String),
    #[error("MP3 encoder: {0}")]
    Encoder(String),
    /// The encoder's output does not match the precomputed layout (a bug, never sent on).
    #[error("encoder output does not match the frame layout: {0}")]
    Layout(String),
    #[error("timeOffset is at or past the end of the track")]
    OffsetPastEnd,
    #[error("too many transcodes are running; try again shortly")]
    Busy,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What to send for a stream request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The file as it is.
    Original,
    /// A constant-bitrate MP3 at `kbps` (a standard bitrate).
    Mp3 { kbps: u32 },
    /// A constant-bitrate Ogg Opus at `kbps` (see `opus_encode::opus_bitrate`).
    Opus { kbps: u32 },
}

impl Decision {
    /// The codec and bitrate of a transcode; None for the original.
    pub fn transcode(self) -> Option<(Codec, u32)> {
        match self {
            Decision::Original => None,
            Decision::Mp3 { kbps } => Some((Codec::Mp3, kbps)),
            Decision::Opus { kbps } => Some((Codec::Opus, kbps)),
        }
    }
}

/// What a transcode is encoded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Mp3,
    Opus,
}

impl Codec {
    /// The codec a `format` parameter names ("mp3", "opus"; any case).
    pub fn named(format: &str) -> Option<Codec> {
        if format.eq_ignore_ascii_case("mp3") {
            Some(Codec::Mp3)
        } else if format.eq_ignore_ascii_case("opus") {
            Some(Codec::Opus)
        } else {
            None
        }
    }

    /// The file suffix of the transcode (`transcodedSuffix`).
    pub fn suffix(self) -> &'static str {
        match self {
            Codec::Mp3 => "mp3",
            Codec::Opus => "opus",
        }
    }

    /// The MIME type of the transcode (`transcodedContentType`, Content-Type).
    pub fn content_type(self) -> &'static str {
        match self {
            Codec::Mp3 => "audio/mpeg",
            Codec::Opus => "audio/ogg",
        }
    }

    /// The bitrate this codec encodes at for a wanted `kbps`.
    pub fn bitrate(self, kbps: u32) -> u32 {
        match self {
            Codec::Mp3 => layout::standard_bitrate_at_most(kbps),
            Codec::Opus => opus_encode::opus_bitrate(kbps),
        }
    }

    /// Whether a source file of this suffix already is this codec.
    fn is_source(self, suffix: &str) -> bool {
        match self {
            Codec::Mp3 => suffix.eq_ignore_ascii_case("mp3"),
            Codec::Opus => suffix.eq_ignore_ascii_case("opus"),
        }
    }
}

/// What a stream request asks for, as far as the decision goes.
#[derive(Debug, Clone, Default)]
pub struct StreamRequest<'a> {
    /// `maxBitRate` in kbps (0 or None: no limit).
    pub max_bit_rate: Option<u32>,
    /// `format` (`mp3`, `raw`, anything else is treated as not given).
    pub format: Option<&'a str>,
    /// `timeOffset` in seconds.
    pub time_offset: f64,
    /// The user's own cap in kbps (0: none).
    pub user_max_bit_rate: u32,
    /// The client name (`c`), for per-client defaults.
    pub client: Option<&'a str>,
}

/// What the decision needs to know of the file.
#[derive(Debug, Clone, Copy)]
pub struct SourceFacts<'a> {
    /// File extension, lower case ("mp3", "flac"...).
    pub suffix: &'a str,
    /// Average bitrate in kbps, when known.
    pub bitrate: Option<u32>,
}

/// The transcoder's settings (from `[transcode]` in config.toml).
#[derive(Debug, Clone)]
pub struct Settings {
    pub cache_dir: PathBuf,
    pub cache_bytes: u64,
    pub max_concurrent: usize,
    pub wait: Duration,
    /// How long a transcode waits for a client that stopped reading (then it ends).
    pub idle: Duration,
    pub max_bit_rate: u32,
    pub client_max_bit_rate: Vec<(String, u32)>,
    pub default_bit_rate: u32,
    /// The ffmpeg program, when it is configured and found.
    pub ffmpeg: Option<PathBuf>,
    /// The format a client gets when its request names none (`[transcode.client_format]`).
    pub client_format: Vec<(String, Codec)>,
}

impl Settings {
    /// Settings from the config section; `database` locates the default cache folder.
    pub fn from_config(config: &TranscodeConfig, database: &Path) -> Settings {
        let cache_dir = if config.cache_dir.is_empty() {
            let mut beside = database.as_os_str().to_owned();
            beside.push(".transcode-cache");
            PathBuf::from(beside)
        } else {
            PathBuf::from(&config.cache_dir)
        };
        let max_concurrent = if config.max_concurrent == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            config.max_concurrent
        };
        Settings {
            cache_dir,
            cache_bytes: config.cache_size_mb.saturating_mul(1024 * 1024),
            max_concurrent,
            wait: Duration::from_secs(config.wait_secs),
            idle: Duration::from_secs(config.idle_secs.max(1)),
            max_bit_rate: config.max_bit_rate,
            client_max_bit_rate: config
                .client_max_bit_rate
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            default_bit_rate: config.default_bit_rate,
            ffmpeg: find_program(&config.ffmpeg),
            client_format: config
                .client_format
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), Codec::named(v)?)))
                .collect(),
        }
    }

    /// The configured format for a client (matched like `client_cap`), if any.
    pub fn client_codec(&self, client: Option<&str>) -> Option<Codec> {
        let client = client?;
        self.client_format
            .iter()
            .find(|(name, _)| crate::config::client_name_matches(name, client))
            .map(|(_, codec)| *codec)
    }

    /// The configured cap for a client: its own entry (matched case-insensitively, also as the
    /// prefix of names like "feishin_<device>"), else the server-wide one. 0 means none.
    pub fn client_cap(&self, client: Option<&str>) -> u32 {
        let Some(client) = client else {
            return self.max_bit_rate;
        };
        self.client_max_bit_rate
            .iter()
            .find(|(name, _)| crate::config::client_name_matches(name, client))
            .map_or(self.max_bit_rate, |(_, kbps)| *kbps)
    }

    /// Decides between the original and a transcode (MP3, or Opus when asked for).
    ///
    /// The lowest non-zero cap among `maxBitRate`, the user's and the client's (config)
    /// applies: a file above it (or of unknown bitrate) is transcoded to the nearest standard
    /// bitrate at or below it. `format=raw` sets aside the request's and the configured caps
    /// (defaults for clients that do not choose) but not the user's own maximum, which an
    /// admin set as a hard limit (Navidrome, whose caps are per player, always sends raw).
    /// `format=mp3` (or `opus`; a request without a format gets its client's configured one)
    /// transcodes files that are not already of that codec, and `timeOffset` needs a
    /// transcode (bytes cannot start at a time). Anything else gets the original.
    pub fn decide(&self, request: &StreamRequest<'_>, source: SourceFacts<'_>) -> Decision {
        let format = request.format.map(str::to_ascii_lowercase);
        let codec = match format.as_deref() {
            Some(named) => Codec::named(named),
            None => self.client_codec(request.client),
        };
        let to = codec.unwrap_or(Codec::Mp3);
        let transcode = |kbps: u32| match to {
            Codec::Mp3 => Decision::Mp3 {
                kbps: to.bitrate(kbps),
            },
            Codec::Opus => Decision::Opus {
                kbps: to.bitrate(kbps),
            },
        };
        let above = |cap: u32| source.bitrate.is_none_or(|b| b > cap);
        if format.as_deref() == Some("raw") {
            let cap = request.user_max_bit_rate;
            return if cap > 0 && above(cap) {
                transcode(cap)
            } else {
                Decision::Original
            };
        }
        let cap = [
            request.max_bit_rate.unwrap_or(0),
            request.user_max_bit_rate,
            self.client_cap(request.client),
        ]
        .into_iter()
        .filter(|&c| c > 0)
        .min();
        if let Some(cap) = cap
            && above(cap)
        {
            return transcode(cap);
        }
        if let Some(codec) = codec
            && !codec.is_source(source.suffix)
        {
            return transcode(cap.unwrap_or(u32::MAX).min(self.default_bit_rate));
        }
        if request.time_offset > 0.0 {
            // Keep the source's quality as far as the codec (and the cap) allows.
            return transcode(source.bitrate.unwrap_or(320).min(cap.unwrap_or(u32::MAX)));
        }
        Decision::Original
    }
}

/// Resolves a program name against PATH (or checks a path); None when empty or not found.
fn find_program(program: &str) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    let given = Path::new(program);
    if given.components().count() > 1 {
        return given.is_file().then(|| given.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// The file being transcoded, as the catalog knows it.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: i32,
    pub path: PathBuf,
    /// Modification time (ms) of the file when it was scanned: part of the cache key.
    pub mtime: i64,
    pub duration_ms: i64,
    pub sample_rate: Option<u32>,
}

/// Everything fixed about one transcode before it runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub path: PathBuf,
    pub decoder: Decoder,
    pub layout: Layout,
    pub segments: Segments,
    /// Output sample of the source where the stream begins (timeOffset).
    pub start: u64,
    /// The cache key (the cached file's name, with its format's suffix), for streams from
    /// the track's start (offset streams are not cached).
    pub cache_key: Option<String>,
    /// Identifies these exact bytes (track, file version, profile), for the ETag.
    pub identity: u64,
}

/// The shared transcoding service: settings, the concurrency cap and the cache.
pub struct Transcoder {
    pub settings: Settings,
    permits: Arc<Semaphore>,
    /// Requests waiting in `permit` (for the metrics).
    waiting: std::sync::atomic::AtomicUsize,
    pub cache: Cache,
}

impl Transcoder {
    /// The service as configured (`[transcode]`, the cache beside the database by default).
    pub fn from_config(config: &crate::config::Config) -> std::io::Result<Transcoder> {
        Transcoder::new(Settings::from_config(
            &config.transcode,
            &config.database.path,
        ))
    }

    /// Sets up the service; the cache folder is created (and cleaned of partial files).
    pub fn new(settings: Settings) -> std::io::Result<Transcoder> {
        let cache = Cache::open(&settings.cache_dir, settings.cache_bytes)?;
        Ok(Transcoder {
            permits: Arc::new(Semaphore::new(settings.max_concurrent.max(1))),
            waiting: Default::default(),
            settings,
            cache,
        })
    }

    /// Waits up to the configured time for a transcode slot; `Busy` when none frees up.
    pub async fn permit(&self) -> Result<OwnedSemaphorePermit, TranscodeError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Counted down also when the request is dropped while it waits.
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let waiting = Waiting(&self.waiting);
        let acquired =
            tokio::time::timeout(self.settings.wait, self.permits.clone().acquire_owned()).await;
        drop(waiting);
        match acquired {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(TranscodeError::Busy),
        }
    }

    /// Transcodes running and requests waiting for a slot, for the metrics.
    pub fn load(&self) -> (usize, usize) {
        let slots = self.settings.max_concurrent.max(1);
        let running = slots.saturating_sub(self.permits.available_permits());
        (
            running,
            self.waiting.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Fixes the layout of `source` transcoded at `kbps` from `time_offset` seconds: chooses
    /// the decoder (symphonia, else ffmpeg) and counts the samples. Blocking (reads headers).
    pub fn plan(
        &self,
        source: &Source,
        kbps: u32,
        time_offset: f64,
    ) -> Result<Plan, TranscodeError> {
        let measured = self.measure(source, layout::output_rate_for, time_offset)?;
        let rate = measured.rate;
        let layout = Layout::new(kbps, rate, measured.samples);
        let segments = Segments::of(&layout);
        // The segmentation decides the bytes too: cached files and ETags of another one
        // (15 s segments before) are never taken for these.
        let key = format!(
            "{}-{}-{}k-{}-{}-s{}p{}.mp3",
            source.id, source.mtime, kbps, rate, layout.samples, segments.len, segments.preroll
        );
        let start = measured.start;
        Ok(Plan {
            path: source.path.clone(),
            decoder: measured.decoder,
            segments,
            layout,
            start,
            identity: identity(&key, start),
            cache_key: (start == 0).then_some(key),
        })
    }

    /// Fixes the layout of `source` transcoded to Ogg Opus at `kbps` (mono when `channels`
    /// is 1, else stereo) from `time_offset` seconds, tagged with `tags`. Blocking.
    pub fn plan_opus(
        &self,
        source: &Source,
        kbps: u32,
        time_offset: f64,
        channels: u8,
        tags: &ogg::Tags,
    ) -> Result<opus_encode::OpusPlan, TranscodeError> {
        let channels = if channels == 1 { 1 } else { 2 };
        let measured = self.measure(source, |_| ogg::RATE, time_offset)?;
        let pre_skip = opus_encode::OpusEncoder::new(kbps, channels)?.lookahead()?;
        let layout = ogg::OggLayout::new(
            kbps,
            channels,
            measured.samples,
            pre_skip,
            measured.source_rate,
            tags,
        );
        // The tags are part of the bytes (and may change without the file: computed gains).
        let key = format!(
            "{}-{}-opus{}k-{}ch-{}-{:016x}-t2.opus",
            source.id,
            source.mtime,
            kbps,
            channels,
            layout.samples,
            identity(&format!("{tags:?}"), 0)
        );
        let start = measured.start;
        Ok(opus_encode::OpusPlan {
            path: source.path.clone(),
            decoder: measured.decoder,
            layout,
            start,
            identity: identity(&key, start),
            cache_key: (start == 0).then_some(key),
        })
    }

    /// Chooses the decoder for `source` and counts its samples at the output rate
    /// `rate_for(source rate)`, from `time_offset` seconds.
    fn measure(
        &self,
        source: &Source,
        rate_for: impl Fn(u32) -> u32,
        time_offset: f64,
    ) -> Result<Measured, TranscodeError> {
        let (decoder, source_rate, source_frames) = match decode::probe(&source.path) {
            Ok(info) => (Decoder::Symphonia, info.sample_rate, info.frames),
            Err(TranscodeError::Unsupported(format)) => match &self.settings.ffmpeg {
                Some(ffmpeg) => (
                    Decoder::Ffmpeg(ffmpeg.clone()),
                    source.sample_rate.unwrap_or(44_100),
                    None,
                ),
                None => return Err(TranscodeError::Unsupported(format)),
            },
            Err(e) => return Err(e),
        };
        let rate = rate_for(source_rate);
        let total = match source_frames {
            Some(frames) => (u128::from(frames) * u128::from(rate))
                .div_ceil(u128::from(source_rate.max(1))) as u64,
            None => (source.duration_ms.max(0) as u64 * u64::from(rate)).div_ceil(1000),
        };
        let start = (time_offset.max(0.0) * f64::from(rate)).round() as u64;
        if start >= total && (start > 0 || total == 0) {
            return Err(TranscodeError::OffsetPastEnd);
        }
        Ok(Measured {
            decoder,
            source_rate,
            rate,
            start,
            samples: total - start,
        })
    }
}

/// A source as a transcode will read it.
struct Measured {
    decoder: Decoder,
    source_rate: u32,
    /// The output rate.
    rate: u32,
    /// Output sample where the stream begins.
    start: u64,
    /// Output samples from `start` to the end.
    samples: u64,
}

/// Identifies a transcode's bytes (its cache key and start), for the ETag.
fn identity(key: &str, start: u64) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (key, start).hash(&mut h);
    h.finish()
}

/// A planned transcode of either codec: what the HTTP side needs to send it.
#[derive(Debug, Clone)]
pub enum Job {
    Mp3(Plan),
    Opus(opus_encode::OpusPlan),
}

impl Job {
    pub fn codec(&self) -> Codec {
        match self {
            Job::Mp3(_) => Codec::Mp3,
            Job::Opus(_) => Codec::Opus,
        }
    }

    /// Exact length of the whole stream in bytes.
    pub fn total_len(&self) -> u64 {
        match self {
            Job::Mp3(plan) => plan.layout.total_len(),
            Job::Opus(plan) => plan.layout.total_len(),
        }
    }

    /// Duration of the audio in seconds.
    pub fn seconds(&self) -> f64 {
        match self {
            Job::Mp3(plan) => plan.layout.samples as f64 / f64::from(plan.layout.sample_rate),
            Job::Opus(plan) => plan.layout.samples as f64 / f64::from(ogg::RATE),
        }
    }

    pub fn kbps(&self) -> u32 {
        match self {
            Job::Mp3(plan) => plan.layout.kbps,
            Job::Opus(plan) => plan.layout.kbps,
        }
    }

    pub fn sample_rate(&self) -> u32 {
        match self {
            Job::Mp3(plan) => plan.layout.sample_rate,
            Job::Opus(_) => ogg::RATE,
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Job::Mp3(plan) => &plan.path,
            Job::Opus(plan) => &plan.path,
        }
    }

    pub fn cache_key(&self) -> Option<&str> {
        match self {
            Job::Mp3(plan) => plan.cache_key.as_deref(),
            Job::Opus(plan) => plan.cache_key.as_deref(),
        }
    }

    pub fn identity(&self) -> u64 {
        match self {
            Job::Mp3(plan) => plan.identity,
            Job::Opus(plan) => plan.identity,
        }
    }

    /// Encodes the bytes `range` of the stream into `sink` (see `produce`). Blocking.
    pub fn produce(
        &self,
        range: Range<u64>,
        sink: &mut dyn FnMut(&[u8]) -> Flow,
    ) -> Result<Flow, TranscodeError> {
        match self {
            Job::Mp3(plan) => produce(plan, range, sink),
            Job::Opus(plan) => opus_encode::produce(plan, range, sink),
        }
    }
}

/// Whether a consumer wants more bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The consumer is gone (the client hung up): stop encoding.
    Stop,
}

/// Hands `sink` the part of `unit` (an encoded frame or page that starts at byte `offset` of
/// the output) that lies in `range`; sets `finished` and stops once the range's end is sent.
fn send_in_range(
    range: &Range<u64>,
    offset: u64,
    unit: &[u8],
    finished: &mut bool,
    sink: &mut dyn FnMut(&[u8]) -> Flow,
) -> Flow {
    let end = offset + unit.len() as u64;
    if end <= range.start {
        return Flow::Continue;
    }
    if offset >= range.end {
        *finished = true;
        return Flow::Stop;
    }
    let from = range.start.saturating_sub(offset) as usize;
    let to = (range.end.min(end) - offset) as usize;
    let flow = sink(&unit[from..to]);
    if end >= range.end && flow == Flow::Continue {
        *finished = true;
        return Flow::Stop;
    }
    flow
}

/// How far a source may fall short of its announced length before it counts as broken rather
/// than slightly mis-measured: 2 s or 2 %, whichever is more.
fn shortfall_tolerance(samples: u64, rate: u32) -> u64 {
    (u64::from(rate) * 2).max(samples / 50)
}

/// Encodes the bytes `range` of the plan's stream and hands them to `sink` in order. Returns
/// Ok(Flow::Stop) when the sink stopped it, Ok(Flow::Continue) when the range was sent.
/// Blocking: run it on a blocking thread.
pub fn produce(
    plan: &Plan,
    range: Range<u64>,
    sink: &mut dyn FnMut(&[u8]) -> Flow,
) -> Result<Flow, TranscodeError> {
    let layout = &plan.layout;
    let segments = &plan.segments;
    let range = range.start..range.end.min(layout.total_len());
    let first = layout
        .frame_at(range.start.max(layout.header_len()))
        .map(|k| segments.of_frame(k));
    let count = segments.of_frame(layout.audio_frames.saturating_sub(1)) + 1;
    produce_segments(
        range,
        &layout.info_frame(),
        first.map(|s| s..count),
        &mut |s, each| encode_segment(plan, s, &mut |k, frame| each(layout.frame_offset(k), frame)),
        sink,
    )
}

/// Encodes one segment, handing each of its units (MP3 frames, Ogg pages) to the callback
/// with the unit's byte offset in the stream.
type EncodeSegment<'a> =
    dyn FnMut(u64, &mut dyn FnMut(u64, &[u8]) -> Flow) -> Result<Flow, TranscodeError> + 'a;

/// The part of `produce` both codecs share: the `header` bytes that lie in `range`, then
/// `segments` (from the one holding `range.start`; None when it starts in the header or past
/// the audio) encoded one after the other until the range's end is sent.
fn produce_segments(
    range: Range<u64>,
    header: &[u8],
    segments: Option<Range<u64>>,
    encode: &mut EncodeSegment<'_>,
    sink: &mut dyn FnMut(&[u8]) -> Flow,
) -> Result<Flow, TranscodeError> {
    let header_len = header.len() as u64;
    if range.start < header_len {
        let part = &header[range.start as usize..range.end.min(header_len) as usize];
        if sink(part) == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    if range.end <= header_len {
        return Ok(Flow::Continue);
    }
    for s in segments.into_iter().flatten() {
        let mut finished = false;
        let flow = encode(s, &mut |offset, unit| {
            send_in_range(&range, offset, unit, &mut finished, sink)
        })?;
        if finished {
            return Ok(Flow::Continue);
        }
        if flow == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    Ok(Flow::Continue)
}

/// Encodes segment `s`: a fresh decoder and encoder from the segment's pre-roll, every frame
/// checked against the layout, the segment's own frames handed to `each` with their index.
fn encode_segment(
    plan: &Plan,
    s: u64,
    each: &mut dyn FnMut(u64, &[u8]) -> Flow,
) -> Result<Flow, TranscodeError> {
    let layout = &plan.layout;
    let (first, encoder_start) = plan.segments.start(s);
    let end = plan.segments.start(s + 1).0.min(layout.audio_frames);
    let start_sample = encoder_start * SAMPLES_PER_FRAME;
    let mut source = decode::open(
        &plan.decoder,
        &plan.path,
        layout.sample_rate,
        plan.start + start_sample,
    )?;
    let mut encoder = mp3::Mp3Encoder::new(layout.kbps, layout.sample_rate)?;
    // Real samples this encoder gets; after them, silence (the stream's announced length is
    // a promise: a longer source is cut, a shorter one padded).
    let real = layout.samples.saturating_sub(start_sample);
    let mut fed_real = 0u64;
    let mut source_done = real == 0;
    let mut pcm: Vec<f32> = Vec::with_capacity(SAMPLES_PER_FRAME as usize * 8);
    let mut chunk = vec![0f32; SAMPLES_PER_FRAME as usize * 2];
    let mut out: Vec<u8> = Vec::with_capacity(8 * 1024);
    let mut next = encoder_start;
    // LAME holds back about two frames; anything far beyond that means it went wrong.
    let max_chunks = end - encoder_start + 16;
    for _ in 0..max_chunks {
        while !source_done && pcm.len() < chunk.len() {
            if !source.read(&mut pcm)? {
                source_done = true;
            }
        }
        let wanted = (real - fed_real).min(SAMPLES_PER_FRAME) as usize;
        let available = wanted.min(pcm.len() / 2);
        chunk[..available * 2].copy_from_slice(&pcm[..available * 2]);
        chunk[available * 2..].fill(0.0);
        pcm.drain(..available * 2);
        if available < wanted {
            // The source ended before its announced length: within tolerance the rest is
            // silence; beyond it the file is broken and the stream ends here.
            let missing = real - fed_real - available as u64;
            if missing > shortfall_tolerance(layout.samples, layout.sample_rate) {
                return Err(TranscodeError::Source(format!(
                    "{} ended {:.1} s early",
                    plan.path.display(),
                    missing as f64 / f64::from(layout.sample_rate)
                )));
            }
            fed_real = real;
        } else {
            fed_real += available as u64;
        }
        encoder.encode(&chunk, &mut out)?;
        let mut taken = 0;
        while let Some(len) = mpeg1_layer3_frame_len(&out[taken..]) {
            if out.len() - taken < len {
                break;
            }
            let frame = &out[taken..taken + len];
            taken += len;
            if next >= first {
                if len as u64 != layout.frame_len(next) {
                    return Err(TranscodeError::Layout(format!(
                        "frame {next} is {len} bytes, expected {}",
                        layout.frame_len(next)
                    )));
                }
                if each(next, frame) == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
            next += 1;
            if next >= end {
                return Ok(Flow::Continue);
            }
        }
        out.drain(..taken);
        if out.len() >= 4 && mpeg1_layer3_frame_len(&out).is_none() {
            return Err(TranscodeError::Layout(
                "encoder output lost frame sync".into(),
            ));
        }
    }
    Err(TranscodeError::Layout(format!(
        "the encoder stopped at frame {next} of segment {s} (ends at {end})"
    )))
}

#[cfg(test)]
mod tests;
