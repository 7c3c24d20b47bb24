//! Loudness the server measures: EBU R128 integrated loudness and true peak of tracks without
//! ReplayGain tags, served as ReplayGain 2.0 gains (see `gain`). `Loudness` owns the one
//! background thread that measures them after scans, an album at a time, at the lowest CPU
//! priority. Its progress is the set of tracks still lacking a current measurement (in the
//! database), so a restart resumes where it stopped, and a cancelled or interrupted album is
//! simply measured again next time.

pub mod analyse;
pub mod gain;
pub mod store;

use crate::config::Config;
use crate::scanner::ScanHandle;
use analyse::{Decoders, Failure};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// How the last run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Every album was measured.
    Finished,
    /// Stopped by an admin or the shutdown; resumes with the next run.
    Cancelled,
    /// A scan started; the scan's end starts the next run.
    Deferred,
    /// The database failed (logged); the next trigger tries again.
    Failed,
}

/// What the thread is doing, for getLoudnessStatus (the counts come from the database).
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub enabled: bool,
    /// A run is going on or asked for.
    pub running: bool,
    /// Tracks measured (or failed) in the current or last run.
    pub tracks_done: u64,
    /// Milliseconds of audio they held.
    pub audio_ms: u64,
    /// Epoch milliseconds when the last run ended, and how.
    pub last_end: Option<(i64, RunEnd)>,
}

#[derive(Default)]
struct State {
    /// A run asked for; `Some(true)` forgets every measurement first.
    requested: Option<bool>,
    running: bool,
    shutdown: bool,
    last_end: Option<(i64, RunEnd)>,
}

struct Inner {
    enabled: bool,
    database: PathBuf,
    decoders: Decoders,
    nice: i32,
    scans: ScanHandle,
    state: Mutex<State>,
    wake: Condvar,
    cancel: AtomicBool,
    tracks_done: AtomicU64,
    audio_ms: AtomicU64,
}

/// A cheap, clonable handle to the loudness thread.
#[derive(Clone)]
pub struct Loudness {
    inner: Arc<Inner>,
}

impl Loudness {
    /// The handle, and the thread when `loudness.enabled` (idle until triggered). `ffmpeg` is
    /// the transcoder's (what it can decode, we can measure).
    pub fn start(
        config: &Config,
        ffmpeg: Option<PathBuf>,
        scans: ScanHandle,
    ) -> (Loudness, Option<JoinHandle<()>>) {
        let handle = Loudness {
            inner: Arc::new(Inner {
                enabled: config.loudness.enabled,
                database: config.database.path.clone(),
                decoders: Decoders { ffmpeg },
                nice: config.loudness.nice,
                scans,
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                cancel: AtomicBool::new(false),
                tracks_done: AtomicU64::new(0),
                audio_ms: AtomicU64::new(0),
            }),
        };
        if !handle.inner.enabled {
            return (handle, None);
        }
        let worker = handle.clone();
        let thread = std::thread::Builder::new()
            .name("loudness".into())
            .spawn(move || worker.job_loop())
            .expect("cannot start the loudness thread");
        (handle, Some(thread))
    }

    pub fn enabled(&self) -> bool {
        self.inner.enabled
    }

    /// Asks for a run (merged with one already asked for); `full` measures everything again.
    /// Nothing when the job is turned off.
    pub fn trigger(&self, full: bool) {
        if !self.inner.enabled {
            return;
        }
        let mut state = self.lock();
        if state.shutdown {
            return;
        }
        state.requested = Some(state.requested.unwrap_or(false) || full);
        self.inner.wake.notify_all();
    }

    /// Stops the current run at its next decoded chunk (the album under way is dropped) and
    /// any run asked for; the next scan or trigger starts again.
    pub fn stop(&self) {
        let mut state = self.lock();
        state.requested = None;
        if state.running {
            self.inner.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Stops the thread for good (server shutdown).
    pub fn shutdown(&self) {
        let mut state = self.lock();
        state.shutdown = true;
        state.requested = None;
        self.inner.cancel.store(true, Ordering::Relaxed);
        self.inner.wake.notify_all();
    }

    pub fn status(&self) -> JobStatus {
        let state = self.lock();
        JobStatus {
            enabled: self.inner.enabled,
            running: state.running || state.requested.is_some(),
            tracks_done: self.inner.tracks_done.load(Ordering::Relaxed),
            audio_ms: self.inner.audio_ms.load(Ordering::Relaxed),
            last_end: state.last_end,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn job_loop(&self) {
        lower_priority(self.inner.nice);
        loop {
            let full = {
                let mut state = self.lock();
                loop {
                    if state.shutdown {
                        return;
                    }
                    if let Some(full) = state.requested.take() {
                        state.running = true;
                        // A stop asked before this run began does not cancel it.
                        self.inner.cancel.store(false, Ordering::Relaxed);
                        break full;
                    }
                    state = self
                        .inner
                        .wake
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
            };
            self.inner.tracks_done.store(0, Ordering::Relaxed);
            self.inner.audio_ms.store(0, Ordering::Relaxed);
            let end = self.run(full);
            crate::memory::release_freed_memory();
            let mut state = self.lock();
            state.running = false;
            state.last_end = Some((crate::db::now_ms(), end));
            self.inner.wake.notify_all();
        }
    }

    /// One run: album after album until none is left, a scan starts or it is cancelled.
    fn run(&self, full: bool) -> RunEnd {
        let started = std::time::Instant::now();
        let result = (|| -> Result<RunEnd, String> {
            let mut conn = crate::db::connect(&self.inner.database).map_err(|e| e.to_string())?;
            if full {
                let forgotten = store::forget_all(&mut conn).map_err(|e| e.to_string())?;
                tracing::info!(forgotten, "loudness: measuring every track again");
            }
            let pending = store::pending_count(&mut conn).map_err(|e| e.to_string())?;
            if pending > 0 {
                tracing::info!(pending, "loudness analysis started");
            }
            let mut after = 0;
            loop {
                if self.inner.cancel.load(Ordering::Relaxed) {
                    return Ok(RunEnd::Cancelled);
                }
                if self.inner.scans.status().scanning {
                    return Ok(RunEnd::Deferred);
                }
                let Some(album) = store::next_album(&mut conn, after).map_err(|e| e.to_string())?
                else {
                    return Ok(RunEnd::Finished);
                };
                after = album;
                if self.measure_album(&mut conn, album)? == RunEnd::Cancelled {
                    return Ok(RunEnd::Cancelled);
                }
            }
        })();
        let end = result.unwrap_or_else(|e| {
            tracing::error!("loudness analysis failed: {e}");
            RunEnd::Failed
        });
        let done = self.inner.tracks_done.load(Ordering::Relaxed);
        if done > 0 || end != RunEnd::Finished {
            let audio = self.inner.audio_ms.load(Ordering::Relaxed) as f64 / 1000.0;
            let seconds = started.elapsed().as_secs_f64();
            tracing::info!(
                tracks = done,
                seconds = format!("{seconds:.1}"),
                realtime = format!("{:.1}", audio / seconds.max(1e-9)),
                end = ?end,
                "loudness analysis ended"
            );
        }
        end
    }

    /// Measures and stores one album; `Cancelled` leaves it unstored.
    fn measure_album(
        &self,
        conn: &mut diesel::SqliteConnection,
        album: i32,
    ) -> Result<RunEnd, String> {
        let tracks = store::album_tracks(conn, album).map_err(|e| e.to_string())?;
        let measured = match measure_all(&self.inner.decoders, &tracks, &self.inner.cancel) {
            Ok(measured) => measured,
            Err(analyse::Cancelled) => return Ok(RunEnd::Cancelled),
        };
        let audio_ms: f64 = measured
            .iter()
            .filter_map(|m| m.as_ref().ok())
            .map(|m| m.seconds * 1000.0)
            .sum();
        let outcomes = outcomes(&tracks, &measured);
        for o in &outcomes {
            if let Some(reason) = &o.failure {
                tracing::warn!(path = %o.track.path.display(), "loudness not measured: {reason}");
            }
        }
        store::save_album(conn, album, &outcomes).map_err(|e| e.to_string())?;
        self.inner
            .tracks_done
            .fetch_add(tracks.len() as u64, Ordering::Relaxed);
        self.inner
            .audio_ms
            .fetch_add(audio_ms as u64, Ordering::Relaxed);
        Ok(RunEnd::Finished)
    }
}

/// Measures every track of an album (for the benchmark too).
pub fn measure_all(
    decoders: &Decoders,
    tracks: &[store::AlbumTrack],
    cancel: &AtomicBool,
) -> Result<Vec<Result<analyse::TrackLoudness, Failure>>, analyse::Cancelled> {
    tracks
        .iter()
        .map(|t| {
            let rate = t.sample_rate.and_then(|r| u32::try_from(r).ok());
            analyse::measure_track(decoders, &t.path, rate, cancel)
        })
        .collect()
}

/// Each track's values with its album's, ready to store.
pub fn outcomes<'a>(
    tracks: &'a [store::AlbumTrack],
    measured: &[Result<analyse::TrackLoudness, Failure>],
) -> Vec<store::Outcome<'a>> {
    let ok: Vec<&analyse::TrackLoudness> =
        measured.iter().filter_map(|m| m.as_ref().ok()).collect();
    let album = analyse::album_values(&ok);
    tracks
        .iter()
        .zip(measured)
        .map(|(track, m)| store::Outcome {
            track,
            values: analyse::measured(m, album),
            failure: m.as_ref().err().map(ToString::to_string),
        })
        .collect()
}

/// Lowers the calling thread's CPU priority (Linux: `nice` is per thread, and ffmpeg
/// processes it starts inherit it), so measuring yields to requests and scans.
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on our own thread id; no memory is shared with the call.
    unsafe {
        let tid = libc::gettid();
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice.clamp(0, 19)) != 0 {
            tracing::debug!(
                "loudness: cannot lower the thread's priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}
