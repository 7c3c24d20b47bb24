//! Podcasts: subscriptions to RSS/Atom feeds whose episodes are downloaded into the podcast
//! folder and then played like songs. `feed` parses (pure), `store` keeps the rows, `http`
//! fetches (ureq), and `Podcasts` (here) is the service the server holds: one refresh thread
//! and `concurrent_downloads` download threads, fed by a queue, so no HTTP ever runs on the
//! async workers and a slow or broken feed holds up nothing but its own job. Every failure
//! ends as a status with a message on the channel or episode it belongs to.

pub mod feed;
pub mod http;
pub mod schema;
pub mod store;

use crate::config::Config;
use crate::db::{self, DbPool};
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use store::{FileFacts, Status};

/// Largest channel image fetched, in bytes.
const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;

/// The podcast service: queues refreshes and downloads for its threads.
#[derive(Clone)]
pub struct Podcasts {
    inner: Arc<Inner>,
}

struct Inner {
    pool: DbPool,
    folder: PathBuf,
    download_new: usize,
    keep: usize,
    client: http::Client,
    queue: Mutex<Queue>,
    wake: Condvar,
    stop: AtomicBool,
}

#[derive(Default)]
struct Queue {
    /// Channels to refresh; None: all of them.
    refreshes: VecDeque<Option<i32>>,
    downloads: VecDeque<i32>,
    /// Episodes queued or being downloaded (each is fetched by one thread at a time).
    pending: HashSet<i32>,
    /// Jobs being worked on, for `wait_idle`.
    busy: usize,
}

impl Podcasts {
    /// Starts the threads. Episodes a stopped server left half-downloaded are queued again.
    pub fn start(config: &Config, pool: DbPool) -> Podcasts {
        let p = &config.podcasts;
        let timeout = Duration::from_secs(p.timeout_secs);
        let inner = Arc::new(Inner {
            pool,
            folder: config.podcast_folder(),
            download_new: p.download_new,
            keep: p.keep,
            client: http::Client::new(http::Limits {
                timeout,
                max_redirects: p.max_redirects,
                max_feed_bytes: p.max_feed_mb * 1024 * 1024,
                max_episode_bytes: p.max_episode_mb * 1024 * 1024,
            }),
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let refresher = inner.clone();
        std::thread::Builder::new()
            .name("podcast-refresh".into())
            .spawn(move || refresher.refresh_loop())
            .expect("spawn the podcast refresh thread");
        for n in 0..p.concurrent_downloads {
            let worker = inner.clone();
            std::thread::Builder::new()
                .name(format!("podcast-download-{n}"))
                .spawn(move || worker.download_loop())
                .expect("spawn a podcast download thread");
        }
        let service = Podcasts { inner };
        match service.inner.with_conn(store::interrupted) {
            Ok(ids) => ids.into_iter().for_each(|id| service.download(id)),
            Err(e) => tracing::warn!("podcasts: cannot read interrupted downloads: {e}"),
        }
        service
    }

    /// Queues a refresh of one channel, or of all (None).
    pub fn refresh(&self, channel: Option<i32>) {
        let mut q = self.inner.lock();
        if !q.refreshes.contains(&channel) && !q.refreshes.contains(&None) {
            q.refreshes.push_back(channel);
        }
        drop(q);
        self.inner.wake.notify_all();
    }

    /// Queues the download of an episode (once, however often asked).
    pub fn download(&self, episode: i32) {
        let mut q = self.inner.lock();
        if q.pending.insert(episode) {
            q.downloads.push_back(episode);
        }
        drop(q);
        self.inner.wake.notify_all();
    }

    /// Where episodes and channel images are kept.
    pub fn folder(&self) -> &Path {
        &self.inner.folder
    }

    /// The absolute path of a file the store names relative to the podcast folder.
    pub fn file(&self, relative: &str) -> PathBuf {
        self.inner.folder.join(relative)
    }

    /// Removes an episode's file (a deleted episode, retention), logging what fails.
    pub fn remove_file(&self, relative: &str) {
        self.inner.remove_file(relative);
    }

    /// Removes a channel's folder after the channel was deleted.
    pub fn remove_channel_files(&self, channel: i32) {
        let dir = self.inner.folder.join(channel_dir(channel));
        if dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            tracing::warn!(dir = %dir.display(), "podcasts: cannot remove a channel's files: {e}");
        }
    }

    /// Whether nothing is queued or running (for tests and benchmarks).
    pub fn is_idle(&self) -> bool {
        let q = self.inner.lock();
        q.refreshes.is_empty() && q.downloads.is_empty() && q.busy == 0
    }

    /// Stops the threads at their next chunk (a download's `.part` file stays to resume).
    pub fn shutdown(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        self.inner.wake.notify_all();
    }
}

/// A downloaded episode as the media paths know files: a `TrackFile` whose row carries the
/// episode's audio properties (read from the file when it was downloaded), so `stream`
/// (ranges, transcoding, timeOffset) and `download` serve it like a song. Its id is the
/// episode's negated, which keeps transcode-cache keys and ETags apart from the tracks'.
/// None until the episode is downloaded (or when its file is gone).
pub fn playable(
    conn: &mut diesel::SqliteConnection,
    episode_id: i32,
    folder: &Path,
) -> diesel::QueryResult<Option<crate::library::files::TrackFile>> {
    use crate::db::models::{AudioProps, FileFacts as TrackFacts, Track, TrackTags};
    let Some((e, channel)) = store::episode(conn, episode_id)? else {
        return Ok(None);
    };
    let (Status::Completed, Some(relative)) = (e.status(), e.file_path.as_deref()) else {
        return Ok(None);
    };
    let path = folder.join(relative);
    if !path.is_file() {
        return Ok(None);
    }
    let track = Track {
        id: -e.id,
        folder_id: 0,
        directory_id: 0,
        album_id: 0,
        file: TrackFacts {
            path: relative.to_string(),
            size: e.total_bytes.unwrap_or(0),
            mtime: e.file_mtime.unwrap_or(0),
            fingerprint: 0,
        },
        audio: AudioProps {
            suffix: e.suffix.clone().unwrap_or_default(),
            content_type: e
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            codec: String::new(),
            duration_ms: e.duration_ms.unwrap_or(0),
            bitrate: e.bitrate,
            sample_rate: e.sample_rate,
            bit_depth: None,
            channels: None,
        },
        tags: TrackTags {
            title: e.title.clone(),
            album_name: channel.title.clone().unwrap_or_default(),
            ..Default::default()
        },
        attachments: Default::default(),
        created_at: e.created_at,
        updated_at: e.created_at,
    };
    Ok(Some(crate::library::files::TrackFile { track, path }))
}

/// Starts the cron job that refreshes every channel (`podcasts.schedule`, validated by the
/// config). Returns the running scheduler; `shutdown` stops it.
pub async fn schedule(
    expression: &str,
    podcasts: Podcasts,
) -> Result<tokio_cron_scheduler::JobScheduler, tokio_cron_scheduler::JobSchedulerError> {
    use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
    let normalized =
        crate::config::cron_schedule(expression).map_err(|_| JobSchedulerError::ParseSchedule)?;
    let scheduler = JobScheduler::new().await?;
    let job = Job::new_async_tz(normalized.as_str(), chrono::Local, move |_, _| {
        let podcasts = podcasts.clone();
        Box::pin(async move {
            tracing::info!("scheduled podcast refresh");
            podcasts.refresh(None);
        })
    })?;
    scheduler.add(job).await?;
    scheduler.start().await?;
    Ok(scheduler)
}

/// The folder of a channel's files, relative to the podcast folder.
fn channel_dir(channel: i32) -> String {
    format!("channel-{channel}")
}

/// What the next idle thread of a kind takes.
enum Job {
    Refresh(Option<i32>),
    Download(i32),
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_conn<T>(
        &self,
        work: impl FnOnce(&mut diesel::SqliteConnection) -> diesel::QueryResult<T>,
    ) -> Result<T, String> {
        let mut conn = self.pool.get().map_err(|e| e.to_string())?;
        work(&mut conn).map_err(|e| e.to_string())
    }

    /// Waits for a job `take` finds, or None once stopping.
    fn next(&self, take: impl Fn(&mut Queue) -> Option<Job>) -> Option<Job> {
        let mut q = self.lock();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(job) = take(&mut q) {
                q.busy += 1;
                return Some(job);
            }
            q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn done(&self) {
        self.lock().busy -= 1;
        self.wake.notify_all();
    }

    fn refresh_loop(self: Arc<Self>) {
        while let Some(Job::Refresh(channel)) =
            self.next(|q| q.refreshes.pop_front().map(Job::Refresh))
        {
            let ids = match channel {
                Some(id) => vec![id],
                None => self
                    .with_conn(store::channels)
                    .map(|all| all.into_iter().map(|c| c.id).collect())
                    .unwrap_or_else(|e| {
                        tracing::warn!("podcasts: cannot list channels: {e}");
                        Vec::new()
                    }),
            };
            for id in ids {
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
                self.refresh_channel(id);
            }
            self.done();
        }
    }

    fn download_loop(self: Arc<Self>) {
        while let Some(Job::Download(id)) =
            self.next(|q| q.downloads.pop_front().map(Job::Download))
        {
            self.download_episode(id);
            self.lock().pending.remove(&id);
            self.done();
        }
    }

    /// Fetches and stores one channel's feed; its failure is the channel's status.
    fn refresh_channel(&self, id: i32) {
        let channel = match self.with_conn(|c| store::channel(c, id)) {
            Ok(Some(channel)) => channel,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("podcasts: cannot read channel {id}: {e}");
                return;
            }
        };
        let _ = self.with_conn(|c| store::set_channel_status(c, id, Status::Downloading, None));
        let limit = self.client.limits().max_feed_bytes;
        let result = self
            .client
            .document(&channel.url, limit)
            .map_err(|e| format!("cannot fetch the feed: {e}"))
            .and_then(|doc| {
                feed::parse(&doc.bytes)
                    .map(|parsed| (parsed, doc.moved_to))
                    .map_err(|e| e.to_string())
            });
        let (parsed, moved_to) = match result {
            Ok(ok) => ok,
            Err(message) => {
                tracing::info!(url = %channel.url, "podcast refresh failed: {message}");
                let _ = self
                    .with_conn(|c| store::set_channel_status(c, id, Status::Error, Some(&message)));
                return;
            }
        };
        if let Some(url) = &moved_to {
            tracing::info!(from = %channel.url, to = %url, "podcast feed moved");
        }
        let mut conn = match self.pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!("podcasts: {e}");
                return;
            }
        };
        if let Err(e) = store::apply_feed(&mut conn, id, &parsed, moved_to.as_deref(), db::now_ms())
        {
            tracing::warn!("podcasts: cannot store channel {id}: {e}");
            return;
        }
        if let Some(image) = parsed.image_url.as_deref() {
            self.fetch_image(&mut conn, id, image, channel.image_url.as_deref());
        }
        match store::newest_new(&mut conn, id, self.download_new) {
            Ok(ids) => {
                drop(conn);
                let mut q = self.lock();
                for episode in ids {
                    if q.pending.insert(episode) {
                        q.downloads.push_back(episode);
                    }
                }
                drop(q);
                self.wake.notify_all();
            }
            Err(e) => tracing::warn!("podcasts: {e}"),
        }
    }

    /// Saves the channel image when it is new or missing (a failure only leaves no art).
    fn fetch_image(
        &self,
        conn: &mut diesel::SqliteConnection,
        id: i32,
        url: &str,
        previous: Option<&str>,
    ) {
        let existing = store::channel_image(conn, id).ok().flatten();
        if previous == Some(url)
            && existing
                .as_ref()
                .is_some_and(|p| self.folder.join(p).is_file())
        {
            return;
        }
        let image = match self.client.document(url, MAX_IMAGE_BYTES) {
            Ok(doc) => doc.bytes,
            Err(e) => {
                tracing::info!(url, "podcast image not fetched: {e}");
                return;
            }
        };
        if image::guess_format(&image).is_err() {
            tracing::info!(url, "podcast image is not a picture");
            return;
        }
        let relative = format!("{}/cover.img", channel_dir(id));
        match write_atomically(&self.folder.join(&relative), &image) {
            Ok(()) => {
                let _ = store::set_image(conn, id, &relative);
            }
            Err(e) => tracing::warn!("podcasts: cannot save a channel image: {e}"),
        }
    }

    /// Downloads one episode into `channel-N/episode-M.<ext>` through a `.part` file; any
    /// failure is the episode's status (the `.part` stays for the next attempt to resume).
    fn download_episode(&self, id: i32) {
        let (episode, _) = match self.with_conn(|c| store::episode(c, id)) {
            Ok(Some(found)) => found,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("podcasts: cannot read episode {id}: {e}");
                return;
            }
        };
        match self.with_conn(|c| {
            store::mark_downloading(c, id).map_err(|e| match e {
                store::StoreError::Db(e) => e,
                _ => diesel::result::Error::NotFound,
            })
        }) {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
        let dir = self.folder.join(channel_dir(episode.channel_id));
        let part = dir.join(format!("episode-{id}.part"));
        let outcome = std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot write {}: {e}", dir.display()))
            .and_then(|()| {
                self.client
                    .download(&episode.enclosure_url, &part, &self.stop, |bytes, total| {
                        let _ = self.with_conn(|c| store::set_progress(c, id, bytes, total));
                    })
                    .map_err(|e| match e {
                        http::FetchError::Stopped => String::new(),
                        other => other.to_string(),
                    })
            })
            .and_then(|(_, content_type)| self.finish(id, &episode, &part, content_type));
        // The episode (or its whole channel) was deleted while this download ran: what the
        // download wrote goes too, so a deleted channel's folder does not come back.
        if matches!(self.with_conn(|c| store::episode(c, id)), Ok(None)) {
            let _ = std::fs::remove_file(&part);
            if let Ok(facts) = &outcome {
                let _ = std::fs::remove_file(self.folder.join(&facts.file_path));
            }
            // Only succeeds when the folder is empty, i.e. nothing else of the channel is left.
            let _ = std::fs::remove_dir(&dir);
            return;
        }
        match outcome {
            Ok(facts) => {
                let _ = self.with_conn(|c| store::set_completed(c, id, &facts));
                self.retain(episode.channel_id);
            }
            // Stopping: the row stays `downloading`, so the next start resumes it.
            Err(message) if message.is_empty() => {}
            Err(message) => {
                tracing::info!(episode = id, "podcast download failed: {message}");
                let _ = self.with_conn(|c| store::set_error(c, id, &message));
            }
        }
    }

    /// Checks the downloaded `.part` is audio, gives it its name and reads its properties.
    fn finish(
        &self,
        id: i32,
        episode: &store::Episode,
        part: &Path,
        content_type: Option<String>,
    ) -> Result<FileFacts, String> {
        let suffix = suffix_for(&episode.enclosure_url, content_type.as_deref());
        let relative = format!("{}/episode-{id}.{suffix}", channel_dir(episode.channel_id));
        let target = self.folder.join(&relative);
        std::fs::rename(part, &target)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        let meta = crate::scanner::tags::read_track(&target, None, &Default::default());
        let meta = match meta {
            Ok(meta) if meta.audio.duration_ms > 0 || meta.audio.bitrate.is_some() => meta,
            Ok(_) | Err(_) => {
                let _ = std::fs::remove_file(&target);
                let kind = content_type.unwrap_or_else(|| "unknown type".into());
                return Err(format!(
                    "the downloaded file is not audio this server can play ({kind})"
                ));
            }
        };
        let stat = std::fs::metadata(&target).map_err(|e| e.to_string())?;
        let mtime = stat
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        Ok(FileFacts {
            file_path: relative,
            size: stat.len() as i64,
            mtime,
            suffix: meta.audio.suffix,
            content_type: meta.audio.content_type,
            duration_ms: meta.audio.duration_ms,
            bitrate: meta.audio.bitrate,
            sample_rate: meta.audio.sample_rate,
        })
    }

    /// Deletes the files of a channel's episodes beyond `keep`.
    fn retain(&self, channel: i32) {
        match self.with_conn(|c| store::apply_retention(c, channel, self.keep)) {
            Ok(files) => files.iter().for_each(|f| self.remove_file(f)),
            Err(e) => tracing::warn!("podcasts: retention of channel {channel}: {e}"),
        }
    }

    fn remove_file(&self, relative: &str) {
        let path = self.folder.join(relative);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), "podcasts: cannot remove a file: {e}");
        }
    }
}

/// The file extension an episode is saved with: the enclosure URL's when it names an audio
/// type, else one for its content type.
fn suffix_for(url: &str, content_type: Option<&str>) -> String {
    const AUDIO: &[&str] = &[
        "mp3", "m4a", "m4b", "aac", "ogg", "oga", "opus", "flac", "wav", "mp4",
    ];
    let path = url.split(['?', '#']).next().unwrap_or("");
    let from_url = path
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|ext| AUDIO.contains(&ext.as_str()));
    if let Some(ext) = from_url {
        return ext;
    }
    let kind = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match kind.as_str() {
        "audio/mp4" | "audio/x-m4a" | "audio/m4a" => "m4a",
        "audio/aac" => "aac",
        "audio/ogg" | "application/ogg" => "ogg",
        "audio/opus" => "opus",
        "audio/flac" | "audio/x-flac" => "flac",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        _ => "mp3",
    }
    .to_string()
}

/// Writes `bytes` to `path` through a temporary file in the same folder.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episode_file_suffixes() {
        assert_eq!(suffix_for("http://x/a/ep.MP3?t=1", None), "mp3");
        assert_eq!(suffix_for("http://x/a/ep.m4a", Some("audio/mpeg")), "m4a");
        assert_eq!(
            suffix_for("http://x/a/play", Some("audio/ogg; codecs=opus")),
            "ogg"
        );
        assert_eq!(suffix_for("http://x/a/ep.php", Some("audio/x-wav")), "wav");
        assert_eq!(suffix_for("http://x/a/ep", None), "mp3");
    }
}
