//! Typed configuration: built-in defaults < config file < MEDIASTREAMER_* environment < CLI flags.
//!
//! Every problem (unknown key, wrong type, impossible value) becomes one `ConfigError` whose text
//! names the key and says what to do, so start-up can stop with a single clear line.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The prefix of environment variables that override config keys: MEDIASTREAMER_SECTION__KEY.
pub const ENV_PREFIX: &str = "MEDIASTREAMER_";

/// The whole configuration, as validated at start-up.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub library: LibraryConfig,
    pub database: DatabaseConfig,
    pub scan: ScanConfig,
    pub log: LogConfig,
    pub artwork: ArtworkConfig,
    pub transcode: TranscodeConfig,
    pub api: ApiConfig,
    pub limits: LimitsConfig,
    pub metrics: MetricsConfig,
    pub loudness: LoudnessConfig,
    pub podcasts: PodcastsConfig,
    pub scrobbling: ScrobblingConfig,
}

/// Whether a client name `client` (the `c` parameter) is the configured name `configured`:
/// equal ignoring case, or starting with it followed by `_`, `-` or a space, so that "DSub"
/// also names "DSub_phone" (clients that put the device in their name). Used by every setting
/// keyed by client name (bitrate caps, legacy XML clients).
pub fn client_name_matches(configured: &str, client: &str) -> bool {
    let configured = configured.to_ascii_lowercase();
    let client = client.to_ascii_lowercase();
    client == configured
        || client
            .strip_prefix(&configured)
            .is_some_and(|rest| rest.starts_with(['_', '-', ' ']))
}

/// Subsonic API behaviour per client.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Client names (the `c` parameter) that get XML without OpenSubsonic's nested elements.
    pub legacy_clients: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            legacy_clients: vec!["DSub".into()],
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// host:port the HTTP server listens on.
    pub address: String,
    /// Reverse proxies (addresses or CIDR blocks) whose `Forwarded` / `X-Forwarded-For`
    /// name the client; from anyone else those headers are ignored.
    pub trusted_proxies: Vec<crate::client_addr::IpNet>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LibraryConfig {
    pub folders: Vec<FolderEntry>,
}

/// One music folder: a bare path, or a table with a display name.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum FolderEntry {
    Path(PathBuf),
    Named { path: PathBuf, name: Option<String> },
}

/// A music folder after validation: an absolute path and the name clients show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MusicFolder {
    pub path: PathBuf,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub path: PathBuf,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Cron expression (5 fields, or 6 with seconds first); empty disables scheduled scans.
    pub schedule: String,
    pub on_startup: bool,
    pub watch: bool,
    /// Seconds the watcher waits for a burst of changes to settle before rescanning.
    pub watch_delay_secs: u64,
    /// Seconds between rescans of music folders the watcher could not watch (inotify limits).
    pub unwatched_rescan_secs: u64,
    /// Glob patterns (matched against paths relative to the music folder, and file names).
    pub ignore: Vec<String>,
    /// Strings that separate several artists in one artist tag.
    pub artist_separators: Vec<String>,
    /// Cover-art sources in order of preference: file-name globs, and "embedded".
    pub cover_art_priority: Vec<String>,
    /// Tag-reading threads; 0 means one per core.
    pub workers: usize,
    /// Files committed per write transaction.
    pub batch_size: usize,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter: "info", "mediastreamer=debug", ...
    pub level: String,
    /// Human-readable lines, or one JSON object per line for log collectors.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Prometheus metrics at `/metrics`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Off by default: the endpoint answers 404 until enabled.
    pub enabled: bool,
    /// When not empty, scrapers must send `Authorization: Bearer <token>`.
    pub token: String,
}

/// Loudness the server measures (EBU R128, served as ReplayGain 2.0) for tracks without gain
/// tags: a background job after scans at the lowest CPU priority.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoudnessConfig {
    /// Measure after scans. Off: nothing new is measured; what was measured is still served.
    pub enabled: bool,
    /// The measuring thread's `nice` value, 0 (like requests) to 19 (only spare CPU time).
    pub nice: i32,
}

impl Default for LoudnessConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            nice: 19,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            address: "0.0.0.0:4533".into(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for LibraryConfig {
    fn default() -> Self {
        Self {
            folders: vec![FolderEntry::Path(PathBuf::from("./media"))],
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("./media.db"),
        }
    }
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            schedule: "0 3 * * *".into(),
            on_startup: true,
            watch: true,
            watch_delay_secs: 2,
            unwatched_rescan_secs: 300,
            ignore: Vec::new(),
            artist_separators: vec![" / ".into(), "; ".into(), " feat. ".into(), " ft. ".into()],
            cover_art_priority: ["cover.*", "folder.*", "front.*", "album.*", "embedded"]
                .map(String::from)
                .to_vec(),
            workers: 0,
            batch_size: 1000,
        }
    }
}

/// Cover art: where resized images are cached and how much room they may take.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ArtworkConfig {
    /// Directory of resized images; empty means `<database path>.artwork-cache`.
    pub cache_dir: String,
    /// Size bound of that directory in MiB; least recently used images go first.
    pub cache_size_mb: u64,
}

impl Default for ArtworkConfig {
    fn default() -> Self {
        Self {
            cache_dir: String::new(),
            cache_size_mb: 200,
        }
    }
}

/// Transcoding to MP3 (`stream` with maxBitRate, format=mp3 or timeOffset).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TranscodeConfig {
    /// Directory of finished transcodes; empty means `<database path>.transcode-cache`.
    pub cache_dir: String,
    /// Size bound of that directory in MiB (0 disables the cache); least recently used first.
    pub cache_size_mb: u64,
    /// Transcodes running at once (0: one per CPU core).
    pub max_concurrent: usize,
    /// Seconds a request waits for a transcode slot before it is refused.
    pub wait_secs: u64,
    /// Bitrate cap in kbps for every client (0: none).
    pub max_bit_rate: u32,
    /// Bitrate caps in kbps per client name (the `c` parameter), overriding `max_bit_rate`.
    pub client_max_bit_rate: std::collections::BTreeMap<String, u32>,
    /// Bitrate in kbps for `format=mp3` requests without a cap.
    pub default_bit_rate: u32,
    /// The ffmpeg program for formats the built-in decoders cannot read; "" disables it.
    pub ffmpeg: String,
    /// Seconds a transcode (or a streamed API answer) waits for its client to read before it
    /// gives up its slot (its database connection).
    pub idle_secs: u64,
    /// The format ("mp3" or "opus") per client name for requests that name none, matched like
    /// `client_max_bit_rate`.
    pub client_format: std::collections::BTreeMap<String, String>,
}

impl Default for TranscodeConfig {
    fn default() -> Self {
        Self {
            cache_dir: String::new(),
            cache_size_mb: 1024,
            max_concurrent: 16,
            wait_secs: 5,
            max_bit_rate: 0,
            client_max_bit_rate: Default::default(),
            default_bit_rate: 192,
            ffmpeg: "ffmpeg".into(),
            idle_secs: 30,
            client_format: Default::default(),
        }
    }
}

/// What one request or one user may take from the server.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest form body of an API request, in MiB; larger ones are refused with an error.
    pub request_body_mb: u64,
    /// Media connections (stream, download) one user may have open at once (0: no limit).
    pub streams_per_user: usize,
    /// Blocking file reads of media streams running at once, server-wide.
    pub stream_io_threads: usize,
    /// Largest lyrics text served (a sidecar `.lrc`, a tag), in KiB; bigger ones are ignored.
    pub lyrics_kb: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            request_body_mb: 8,
            streams_per_user: 32,
            stream_io_threads: 16,
            lyrics_kb: 1024,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// Why the configuration cannot be used; the message names the key and the remedy.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config key `{key}`: {message}")]
    Key { key: String, message: String },
}

fn key_error(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Key {
        key: key.to_string(),
        message: message.into(),
    }
}

/// Overrides given on the command line: the last layer.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub address: Option<String>,
    pub folders: Vec<PathBuf>,
    pub database: Option<PathBuf>,
}

/// Which config file to read: the --config flag, else MEDIASTREAMER_CONFIG, else ./config.toml
/// when present, else none (built-in defaults).
pub fn config_file_path(flag: Option<&Path>, env: &[(String, String)]) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    if let Some((_, value)) = env.iter().find(|(k, _)| k == "MEDIASTREAMER_CONFIG") {
        return Some(PathBuf::from(value));
    }
    let default = PathBuf::from("config.toml");
    default.is_file().then_some(default)
}

/// Podcast subscriptions: where episodes are kept, when feeds are refreshed, how many
/// episodes are fetched and kept per channel.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PodcastsConfig {
    /// Where episodes and channel images are saved; empty: `podcasts` beside the database.
    pub folder: String,
    /// Cron expression for refreshing every channel; empty disables scheduled refreshes.
    pub schedule: String,
    /// New episodes downloaded by themselves per channel at each refresh (newest first).
    pub download_new: usize,
    /// Downloaded episodes kept per channel (older ones are deleted); 0 keeps all.
    pub keep: usize,
    /// Episodes downloaded at the same time.
    pub concurrent_downloads: usize,
    /// Largest feed document accepted, in MB.
    pub max_feed_mb: u64,
    /// Largest episode file accepted, in MB.
    pub max_episode_mb: u64,
    /// Seconds a feed fetch may take in all, and a download may wait for the next bytes.
    pub timeout_secs: u64,
    /// HTTP redirects followed before a fetch gives up.
    pub max_redirects: u32,
}

impl Default for PodcastsConfig {
    fn default() -> Self {
        Self {
            folder: String::new(),
            schedule: "0 * * * *".into(),
            download_new: 1,
            keep: 10,
            concurrent_downloads: 2,
            max_feed_mb: 20,
            max_episode_mb: 2048,
            timeout_secs: 30,
            max_redirects: 5,
        }
    }
}

impl Config {
    /// The folder podcast episodes are saved in (`podcasts.folder`, else beside the database).
    pub fn podcast_folder(&self) -> PathBuf {
        if self.podcasts.folder.trim().is_empty() {
            let parent = self
                .database
                .path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            parent.join("podcasts")
        } else {
            PathBuf::from(self.podcasts.folder.trim())
        }
    }
}

/// Loads and validates the configuration from all layers. `env` is the process environment
/// (passed in so tests need not mutate global state).
pub fn load(
    file: Option<&Path>,
    env: &[(String, String)],
    cli: &CliOverrides,
) -> Result<Config, ConfigError> {
    let mut table = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            text.parse::<toml::Table>()
                .map_err(|e| ConfigError::Syntax {
                    path: path.to_path_buf(),
                    message: e.to_string().trim().to_string(),
                })?
        }
        None => toml::Table::new(),
    };
    apply_env(&mut table, env)?;
    apply_cli(&mut table, cli);

    let mut config: Config =
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let key = e.path().to_string();
            let message = e.inner().to_string();
            let message = message.lines().next().unwrap_or_default().to_string();
            key_error(if key == "." { "(top level)" } else { &key }, message)
        })?;
    // Relative paths in a config file are relative to the working directory, like the CLI's.
    config.validate()?;
    Ok(config)
}

/// MEDIASTREAMER_SECTION__KEY=value sets section.key; the value is read as TOML when it parses
/// (numbers, booleans, arrays) and as a plain string otherwise.
fn apply_env(table: &mut toml::Table, env: &[(String, String)]) -> Result<(), ConfigError> {
    for (name, value) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            continue; // MEDIASTREAMER_CONFIG, MEDIASTREAMER_ADMIN_PASSWORD, ...
        };
        let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        let parsed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.clone()));
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(section_table) = entry else {
            return Err(key_error(
                &section,
                format!("set by {name}, but it is not a section"),
            ));
        };
        section_table.insert(key, parsed);
    }
    Ok(())
}

fn apply_cli(table: &mut toml::Table, cli: &CliOverrides) {
    let mut set = |section: &str, key: &str, value: toml::Value| {
        let entry = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = entry {
            t.insert(key.to_string(), value);
        }
    };
    if let Some(address) = &cli.address {
        set("server", "address", toml::Value::String(address.clone()));
    }
    if !cli.folders.is_empty() {
        let folders = cli
            .folders
            .iter()
            .map(|p| toml::Value::String(p.to_string_lossy().into_owned()))
            .collect();
        set("library", "folders", toml::Value::Array(folders));
    }
    if let Some(db) = &cli.database {
        set(
            "database",
            "path",
            toml::Value::String(db.to_string_lossy().into_owned()),
        );
    }
}

impl Config {
    fn validate(&mut self) -> Result<(), ConfigError> {
        use std::net::ToSocketAddrs;
        if self
            .server
            .address
            .to_socket_addrs()
            .map(|mut a| a.next().is_none())
            .unwrap_or(true)
        {
            return Err(key_error(
                "server.address",
                format!(
                    "`{}` is not a host:port address; use e.g. \"0.0.0.0:4533\"",
                    self.server.address
                ),
            ));
        }
        if self.library.folders.is_empty() {
            return Err(key_error(
                "library.folders",
                "no music folder is configured; add at least one path",
            ));
        }
        for folder in self.music_folders() {
            if !folder.path.is_dir() {
                return Err(key_error(
                    "library.folders",
                    format!(
                        "music folder {} does not exist or is not a directory; create it or fix the path",
                        folder.path.display()
                    ),
                ));
            }
        }
        if self.database.path.as_os_str().is_empty() {
            return Err(key_error("database.path", "must not be empty"));
        }
        if !self.scan.schedule.trim().is_empty() {
            cron_schedule(&self.scan.schedule)
                .map_err(|message| key_error("scan.schedule", message))?;
        }
        if self.scan.unwatched_rescan_secs == 0 {
            return Err(key_error(
                "scan.unwatched_rescan_secs",
                "must be at least 1 (seconds between rescans of folders that cannot be watched)",
            ));
        }
        for pattern in &self.scan.ignore {
            globset::Glob::new(pattern).map_err(|e| {
                key_error(
                    "scan.ignore",
                    format!("`{pattern}` is not a valid glob pattern: {e}"),
                )
            })?;
        }
        for pattern in &self.scan.cover_art_priority {
            if pattern != "embedded" {
                globset::Glob::new(pattern).map_err(|e| {
                    key_error(
                        "scan.cover_art_priority",
                        format!("`{pattern}` is not a valid glob pattern or \"embedded\": {e}"),
                    )
                })?;
            }
        }
        if self.scan.artist_separators.iter().any(|s| s.is_empty()) {
            return Err(key_error(
                "scan.artist_separators",
                "an empty separator would split every character; remove it",
            ));
        }
        if self.scan.batch_size == 0 {
            return Err(key_error("scan.batch_size", "must be at least 1"));
        }
        if !(32..=320).contains(&self.transcode.default_bit_rate) {
            return Err(key_error(
                "transcode.default_bit_rate",
                "must be an MP3 bitrate between 32 and 320 (kbps)",
            ));
        }
        if let Some((client, format)) = self
            .transcode
            .client_format
            .iter()
            .find(|(_, f)| crate::transcode::Codec::named(f).is_none())
        {
            return Err(key_error(
                "transcode.client_format",
                format!("`{format}` for `{client}` is not a format we encode: use mp3 or opus"),
            ));
        }
        if !self.podcasts.schedule.trim().is_empty() {
            cron_schedule(&self.podcasts.schedule)
                .map_err(|message| key_error("podcasts.schedule", message))?;
        }
        if self.podcasts.concurrent_downloads == 0 {
            return Err(key_error(
                "podcasts.concurrent_downloads",
                "must be at least 1",
            ));
        }
        if self.podcasts.max_feed_mb == 0 || self.podcasts.max_episode_mb == 0 {
            return Err(key_error(
                "podcasts.max_feed_mb",
                "podcasts.max_feed_mb and podcasts.max_episode_mb must be at least 1",
            ));
        }
        if self.podcasts.timeout_secs == 0 {
            return Err(key_error("podcasts.timeout_secs", "must be at least 1"));
        }
        if self.limits.request_body_mb == 0 {
            return Err(key_error("limits.request_body_mb", "must be at least 1"));
        }
        if self.limits.stream_io_threads == 0 {
            return Err(key_error("limits.stream_io_threads", "must be at least 1"));
        }
        if !(0..=19).contains(&self.loudness.nice) {
            return Err(key_error(
                "loudness.nice",
                "must be between 0 (normal priority) and 19 (lowest)",
            ));
        }
        self.scrobbling.validate()?;
        tracing_subscriber::EnvFilter::try_new(&self.log.level).map_err(|e| {
            key_error(
                "log.level",
                format!(
                    "`{}` is not a log filter ({e}); use e.g. \"info\"",
                    self.log.level
                ),
            )
        })?;
        Ok(())
    }

    /// The configured music folders, with absolute paths and names (the folder's own name by
    /// default). Two entries naming one directory are kept once.
    pub fn music_folders(&self) -> Vec<MusicFolder> {
        let mut folders: Vec<MusicFolder> = Vec::new();
        for entry in &self.library.folders {
            let (path, name) = match entry {
                FolderEntry::Path(p) => (p.clone(), None),
                FolderEntry::Named { path, name } => (path.clone(), name.clone()),
            };
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            let name = name.unwrap_or_else(|| {
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "Music".into())
            });
            if !folders.iter().any(|f| f.path == path) {
                folders.push(MusicFolder { path, name });
            }
        }
        folders
    }

    /// Number of tag-reading threads to use.
    pub fn scan_workers(&self) -> usize {
        if self.scan.workers > 0 {
            self.scan.workers
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }
}

/// Normalises a cron expression to the 6-field form tokio-cron-scheduler wants (seconds first)
/// and checks that it parses. Five-field expressions (the classic crontab form) get "0" seconds.
pub fn cron_schedule(expression: &str) -> Result<String, String> {
    let expression = expression.trim();
    let fields = expression.split_whitespace().count();
    let normalized = match fields {
        5 => format!("0 {expression}"),
        6 | 7 => expression.to_string(),
        _ => {
            return Err(format!(
                "`{expression}` is not a cron expression (want 5 fields like \"0 3 * * *\", or \"\" to disable)"
            ));
        }
    };
    tokio_cron_scheduler::Job::new_async_tz(normalized.as_str(), chrono::Local, |_, _| {
        Box::pin(async {})
    })
    .map_err(|_| {
        format!(
            "`{expression}` is not a valid cron expression (e.g. \"0 3 * * *\" for 03:00 daily)"
        )
    })?;
    Ok(normalized)
}

/// Scrobbling to outside services (`scrobbling` module). With nothing configured, nothing is
/// sent anywhere; local play counts are kept either way.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScrobblingConfig {
    /// ListenBrainz API servers users may link (ListenBrainz itself, Maloja, Koito...).
    pub listenbrainz: Vec<ListenBrainzService>,
    pub lastfm: LastFmConfig,
    /// The address people reach this server at, e.g. "https://music.example.org", for
    /// Last.fm's callback; "" takes the scheme and host the browser used.
    pub public_url: String,
    /// The first wait after a failed send, in milliseconds; it doubles per failure.
    pub retry_initial_ms: u64,
    /// The longest wait between tries, in milliseconds.
    pub retry_max_ms: u64,
    /// How long one request to a service may take, in seconds.
    pub timeout_secs: u64,
}

impl Default for ScrobblingConfig {
    fn default() -> Self {
        Self {
            listenbrainz: Vec::new(),
            lastfm: LastFmConfig::default(),
            public_url: String::new(),
            retry_initial_ms: 5_000,
            retry_max_ms: 3_600_000,
            timeout_secs: 15,
        }
    }
}

/// One server that speaks the ListenBrainz API.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ListenBrainzService {
    /// A short stable name the links are stored under (letters, digits, `-`, `_`).
    pub id: String,
    /// What people see; the id when empty.
    #[serde(default)]
    pub name: String,
    /// The API's base URL (without `/1/...`).
    #[serde(default = "default_listenbrainz_url")]
    pub url: String,
}

fn default_listenbrainz_url() -> String {
    "https://api.listenbrainz.org".into()
}

/// Last.fm: the server owner's API account (https://www.last.fm/api/account/create).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LastFmConfig {
    /// Empty: Last.fm is not offered.
    pub api_key: String,
    pub secret: String,
    /// The API endpoint (changed only by tests).
    pub api_url: String,
    /// The web authentication page (changed only by tests).
    pub auth_url: String,
}

impl Default for LastFmConfig {
    fn default() -> Self {
        Self {
            api_key: String::new(),
            secret: String::new(),
            api_url: "https://ws.audioscrobbler.com/2.0/".into(),
            auth_url: "https://www.last.fm/api/auth/".into(),
        }
    }
}

impl LastFmConfig {
    pub fn enabled(&self) -> bool {
        !self.api_key.is_empty()
    }
}

/// The id Last.fm links are stored under.
pub const LASTFM_SERVICE: &str = "lastfm";

impl ScrobblingConfig {
    fn validate(&mut self) -> Result<(), ConfigError> {
        let http = |url: &str| url.starts_with("http://") || url.starts_with("https://");
        let mut ids = std::collections::HashSet::new();
        for service in &mut self.listenbrainz {
            let valid_id = !service.id.is_empty()
                && service
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid_id {
                return Err(key_error(
                    "scrobbling.listenbrainz",
                    format!(
                        "id `{}` must be letters, digits, `-` or `_`, e.g. \"listenbrainz\"",
                        service.id
                    ),
                ));
            }
            if service.id == LASTFM_SERVICE || !ids.insert(service.id.clone()) {
                return Err(key_error(
                    "scrobbling.listenbrainz",
                    format!("id `{}` is used twice (\"lastfm\" is taken)", service.id),
                ));
            }
            if !http(&service.url) {
                return Err(key_error(
                    "scrobbling.listenbrainz",
                    format!(
                        "url `{}` of `{}` is not an http(s) URL",
                        service.url, service.id
                    ),
                ));
            }
            service.url = service.url.trim_end_matches('/').to_string();
            if service.name.is_empty() {
                service.name = service.id.clone();
            }
        }
        let lastfm = &self.lastfm;
        if lastfm.api_key.is_empty() != lastfm.secret.is_empty() {
            return Err(key_error(
                "scrobbling.lastfm",
                "api_key and secret go together: set both (or neither)",
            ));
        }
        if !http(&lastfm.api_url) || !http(&lastfm.auth_url) {
            return Err(key_error(
                "scrobbling.lastfm",
                "api_url and auth_url must be http(s) URLs",
            ));
        }
        if !self.public_url.is_empty() && !http(&self.public_url) {
            return Err(key_error(
                "scrobbling.public_url",
                "must be an http(s) URL such as \"https://music.example.org\", or empty",
            ));
        }
        self.public_url = self.public_url.trim_end_matches('/').to_string();
        if self.retry_initial_ms == 0 || self.retry_max_ms < self.retry_initial_ms {
            return Err(key_error(
                "scrobbling.retry_initial_ms",
                "must be at least 1 and at most retry_max_ms",
            ));
        }
        if self.timeout_secs == 0 {
            return Err(key_error("scrobbling.timeout_secs", "must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn repo_config_toml_equals_the_built_in_defaults() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(repo.join("config.toml")).unwrap();
        let table: toml::Table = text.parse().unwrap();
        let parsed: Config = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("music");
        std::fs::create_dir(&music).unwrap();
        let file = write(
            dir.path(),
            &format!(
                "[server]\naddress = \"127.0.0.1:1111\"\n[library]\nfolders = [{{ path = {:?}, name = \"Mine\" }}]\n[scan]\nwatch = false\nworkers = 3\n",
                music
            ),
        );
        let env = env(&[
            ("MEDIASTREAMER_SERVER__ADDRESS", "127.0.0.1:2222"),
            ("MEDIASTREAMER_SCAN__WORKERS", "5"),
            ("MEDIASTREAMER_SCAN__SCHEDULE", ""),
            ("UNRELATED", "x"),
        ]);
        let cli = CliOverrides {
            address: Some("127.0.0.1:3333".into()),
            ..Default::default()
        };
        let config = load(Some(&file), &env, &cli).unwrap();
        assert_eq!(config.server.address, "127.0.0.1:3333");
        assert_eq!(config.scan.workers, 5);
        assert!(!config.scan.watch);
        assert_eq!(config.scan.schedule, "");
        let folders = config.music_folders();
        assert_eq!(folders.len(), 1);
        assert_eq!(folders[0].name, "Mine");
        assert!(folders[0].path.is_absolute());
    }

    #[test]
    fn scrobbling_services_are_checked_and_tidied() {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("music");
        std::fs::create_dir(&music).unwrap();
        let base = format!("[library]\nfolders = [{music:?}]\n[scrobbling]\n");
        let load_with = |extra: &str| {
            let file = write(dir.path(), &format!("{base}{extra}"));
            load(Some(&file), &[], &CliOverrides::default())
        };
        let config = load_with(
            "listenbrainz = [{ id = \"lb\" }, { id = \"maloja\", name = \"Maloja\", url = \"http://m:42/apis/listenbrainz/\" }]\n",
        )
        .unwrap();
        let lb = &config.scrobbling.listenbrainz;
        assert_eq!(
            (lb[0].name.as_str(), lb[0].url.as_str()),
            ("lb", "https://api.listenbrainz.org")
        );
        assert_eq!(
            lb[1].url, "http://m:42/apis/listenbrainz",
            "no trailing slash"
        );
        assert!(!config.scrobbling.lastfm.enabled());
        for (bad, key) in [
            (
                "listenbrainz = [{ id = \"a b\" }]",
                "scrobbling.listenbrainz",
            ),
            (
                "listenbrainz = [{ id = \"x\" }, { id = \"x\" }]",
                "scrobbling.listenbrainz",
            ),
            (
                "listenbrainz = [{ id = \"lastfm\" }]",
                "scrobbling.listenbrainz",
            ),
            (
                "listenbrainz = [{ id = \"x\", url = \"ftp://x\" }]",
                "scrobbling.listenbrainz",
            ),
            ("retry_initial_ms = 0", "scrobbling.retry_initial_ms"),
            (
                "public_url = \"music.example.org\"",
                "scrobbling.public_url",
            ),
            ("[scrobbling.lastfm]\napi_key = \"k\"", "scrobbling.lastfm"),
        ] {
            let err = load_with(bad).unwrap_err().to_string();
            assert!(err.contains(key), "{bad}: {err}");
        }
        let config = load_with("[scrobbling.lastfm]\napi_key = \"k\"\nsecret = \"s\"").unwrap();
        assert!(config.scrobbling.lastfm.enabled());
    }

    #[test]
    fn unknown_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "[scan]\nwatcher = true\n");
        let err = load(Some(&file), &[], &CliOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("scan"), "{err}");
        assert!(err.contains("watcher"), "{err}");
    }

    #[test]
    fn wrong_type_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "[scan]\non_startup = \"yes\"\n");
        let err = load(Some(&file), &[], &CliOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("scan.on_startup"), "{err}");
    }

    #[test]
    fn missing_music_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "[library]\nfolders = [\"/definitely/not/here\"]\n",
        );
        let err = load(Some(&file), &[], &CliOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("library.folders"), "{err}");
        assert!(err.contains("/definitely/not/here"), "{err}");
    }

    #[test]
    fn bad_cron_and_address_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().to_string_lossy().into_owned();
        let cli = CliOverrides {
            folders: vec![music.clone().into()],
            ..Default::default()
        };
        let err = load(
            None,
            &env(&[("MEDIASTREAMER_SCAN__SCHEDULE", "every day")]),
            &cli,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("scan.schedule"), "{err}");
        let err = load(
            None,
            &env(&[("MEDIASTREAMER_SERVER__ADDRESS", "nonsense")]),
            &cli,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("server.address"), "{err}");
    }

    #[test]
    fn a_zero_rescan_interval_for_unwatched_folders_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cli = CliOverrides {
            folders: vec![dir.path().to_path_buf()],
            ..Default::default()
        };
        let err = load(
            None,
            &env(&[("MEDIASTREAMER_SCAN__UNWATCHED_RESCAN_SECS", "0")]),
            &cli,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("scan.unwatched_rescan_secs"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let cli = CliOverrides {
            folders: vec![dir.path().to_path_buf()],
            ..Default::default()
        };
        let config = load(
            None,
            &env(&[(
                "MEDIASTREAMER_SERVER__TRUSTED_PROXIES",
                r#"["127.0.0.1", "10.0.0.0/8", "fd00::/8"]"#,
            )]),
            &cli,
        )
        .unwrap();
        let proxies = &config.server.trusted_proxies;
        assert_eq!(proxies.len(), 3);
        assert!(proxies[1].contains("10.20.30.40".parse().unwrap()));
        let err = load(
            None,
            &env(&[("MEDIASTREAMER_SERVER__TRUSTED_PROXIES", r#"["proxy.lan"]"#)]),
            &cli,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("server.trusted_proxies"), "{err}");
        assert!(err.contains("proxy.lan"), "{err}");
    }

    #[test]
    fn cron_accepts_five_and_six_fields() {
        assert_eq!(cron_schedule("0 3 * * *").unwrap(), "0 0 3 * * *");
        assert_eq!(cron_schedule("30 0 3 * * *").unwrap(), "30 0 3 * * *");
        assert!(cron_schedule("61 3 * * *").is_err());
    }
}
