//! The library scanner: walks the music folders, reads tags, and keeps the catalog in sync.
//!
//! `run_scan` does one scan. `ScanHandle` owns the one scan thread of a running server: every
//! trigger (start-up, schedule, watcher, CLI, API) goes through `trigger`, and requests that
//! arrive while a scan runs are merged into the next one.

pub mod adts;
pub mod album_rules;
pub mod asf;
pub mod cached_file;
pub mod dsd;
pub mod embedded_art;
pub mod grouping;
pub mod m3u;
pub mod meta;
pub mod ogg_comments;
pub mod picture_free;
mod prepared;
mod run;
pub mod schedule;
pub mod tags;
pub mod walk;
pub mod watch;
pub mod writer;

pub use run::{
    ScanError, ScanIssue, ScanOptions, ScanProgress, ScanReport, run_scan, sync_folders,
};

use crate::config::Config;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// What clients see of the scanner (Subsonic getScanStatus and the web UI).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanStatus {
    pub scanning: bool,
    /// Audio files looked at by the running scan (or the last one).
    pub files_seen: usize,
    /// Tracks in the catalog after the last finished scan.
    pub tracks: i64,
    /// Files the running (or last) scan could not read.
    pub errors: usize,
    /// When the last scan finished, in ms since the epoch.
    pub last_finished_ms: Option<i64>,
}

#[derive(Default)]
struct State {
    pending: Option<ScanOptions>,
    running: bool,
    shutdown: bool,
    last_report: Option<ScanReport>,
    last_finished_ms: Option<i64>,
    completed_scans: u64,
}

struct Inner {
    config: Config,
    state: Mutex<State>,
    wake: Condvar,
    cancel: AtomicBool,
    progress: Mutex<Arc<ScanProgress>>,
    /// Called on the scan thread after every scan (see `after_each_scan`).
    after_scan: Mutex<Vec<AfterScan>>,
}

type AfterScan = Box<dyn Fn() + Send + Sync>;

/// A cheap, clonable handle to the server's scan thread.
#[derive(Clone)]
pub struct ScanHandle {
    inner: Arc<Inner>,
}

impl ScanHandle {
    /// Starts the scan thread (idle until triggered).
    pub fn start(config: Config) -> (ScanHandle, JoinHandle<()>) {
        let handle = ScanHandle {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                cancel: AtomicBool::new(false),
                progress: Mutex::new(Arc::new(ScanProgress::default())),
                after_scan: Mutex::new(Vec::new()),
            }),
        };
        let worker = handle.clone();
        let thread = std::thread::Builder::new()
            .name("scanner".into())
            .spawn(move || worker.scan_loop())
            .expect("cannot start the scanner thread");
        (handle, thread)
    }

    /// Asks for a scan. If one is running, the request is merged into the next scan; several
    /// requests made meanwhile become one.
    pub fn trigger(&self, options: ScanOptions) {
        let mut state = self.lock();
        if state.shutdown {
            return;
        }
        state.pending = Some(match state.pending.take() {
            Some(p) => p.merge(options),
            None => options,
        });
        self.inner.wake.notify_all();
    }

    /// Runs `then` after every scan, finished or interrupted (what a scan committed is
    /// consistent either way): work that follows the catalog, like loudness analysis.
    pub fn after_each_scan(&self, then: impl Fn() + Send + Sync + 'static) {
        if let Ok(mut list) = self.inner.after_scan.lock() {
            list.push(Box::new(then));
        }
    }

    /// The current status.
    pub fn status(&self) -> ScanStatus {
        let state = self.lock();
        let progress = self
            .inner
            .progress
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default();
        ScanStatus {
            scanning: state.running || state.pending.is_some(),
            files_seen: progress.files_seen.load(Ordering::Relaxed),
            tracks: state.last_report.as_ref().map_or(0, |r| r.tracks),
            errors: progress.errors.load(Ordering::Relaxed),
            last_finished_ms: state.last_finished_ms,
        }
    }

    /// The report of the last finished scan.
    pub fn last_report(&self) -> Option<ScanReport> {
        self.lock().last_report.clone()
    }

    /// Blocks until no scan is running or pending; returns the number of scans completed so
    /// far. For tests and the CLI.
    pub fn wait_idle(&self) -> u64 {
        let mut state = self.lock();
        while (state.running || state.pending.is_some()) && !state.shutdown {
            state = self
                .inner
                .wake
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        state.completed_scans
    }

    /// Stops the scan thread: a running scan stops at the next batch boundary (what was
    /// committed stays, consistent), pending requests are dropped.
    pub fn shutdown(&self) {
        let mut state = self.lock();
        state.shutdown = true;
        state.pending = None;
        self.inner.cancel.store(true, Ordering::Relaxed);
        self.inner.wake.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn scan_loop(&self) {
        loop {
            let options = {
                let mut state = self.lock();
                loop {
                    if state.shutdown {
                        return;
                    }
                    if let Some(options) = state.pending.take() {
                        state.running = true;
                        break options;
                    }
                    state = self
                        .inner
                        .wake
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
            };
            let progress = Arc::new(ScanProgress::default());
            if let Ok(mut p) = self.inner.progress.lock() {
                *p = progress.clone();
            }
            tracing::info!(full = options.full, paths = ?options.paths, "scan started");
            let result = run_scan(&self.inner.config, &options, &progress, &self.inner.cancel);
            // Memory freed by a scan (caches, the writer's page cache) goes back too.
            crate::memory::release_freed_memory();
            let mut state = self.lock();
            state.running = false;
            match result {
                Ok(report) => {
                    tracing::info!(
                        tracks = report.tracks,
                        added = report.added,
                        updated = report.updated,
                        moved = report.moved,
                        removed = report.removed,
                        errors = report.errors,
                        seconds = format!("{:.2}", report.seconds),
                        interrupted = report.interrupted,
                        "scan finished"
                    );
                    if !report.interrupted {
                        state.last_finished_ms = Some(crate::db::now_ms());
                        state.completed_scans += 1;
                    }
                    state.last_report = Some(report);
                }
                Err(e) => tracing::error!("scan failed: {e}"),
            }
            self.inner.wake.notify_all();
            drop(state);
            if let Ok(list) = self.inner.after_scan.lock() {
                list.iter().for_each(|then| then());
            }
        }
    }
}
