//! What every request handler can reach: configuration, the database pool, the scanner.

use crate::config::Config;
use crate::db::DbPool;
use crate::scanner::ScanHandle;
use crate::subsonic::auth::LoginThrottle;
use crate::users::PasswordKey;

/// Shared application state (cheap to clone the `web::Data` around it).
pub struct AppState {
    /// Requests served, for giving a burst's memory back once it is over.
    pub activity: std::sync::Arc<crate::memory::Activity>,
    pub config: Config,
    /// Users, setup and health checks; the API's catalog reads and writes go through `catalog`.
    pub pool: DbPool,
    /// The catalog service (the same pool, one transaction per operation).
    pub catalog: crate::library::catalog::Catalog,
    pub scans: ScanHandle,
    pub password_key: PasswordKey,
    /// Cover art: the resized-image cache and the signer of public image URLs.
    pub artwork: crate::artwork::Artwork,
    pub login_throttle: LoginThrottle,
    /// First-run setup's one-time token (see `setup`).
    pub setup_token: crate::setup::SetupToken,
    /// What users are playing now (scrobble submission=false), for getNowPlaying.
    pub now_playing: crate::library::annotations::NowPlaying,
    /// MP3 transcoding: decisions, the concurrency cap, the transcode cache.
    pub transcoder: crate::transcode::Transcoder,
    /// Bounds on media streams: blocking file reads at once, connections per user.
    pub media: crate::delivery::MediaLimits,
    /// Prometheus metrics (counted always; served at /metrics when enabled).
    pub metrics: crate::ops::metrics::Metrics,
    /// The loudness analysis job (ReplayGain for untagged tracks).
    pub loudness: crate::loudness::Loudness,
    /// Podcast subscriptions: the refresh and download threads' queue, the podcast folder.
    pub podcasts: crate::podcasts::Podcasts,
    /// Scrobbling to ListenBrainz and Last.fm: the links' services and the queue's workers.
    pub scrobbler: crate::scrobbling::Scrobbler,
}
