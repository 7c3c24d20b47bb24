//! Giving memory back to the system. glibc keeps freed heap pages for reuse, so a server that
//! served a burst (200 clients, 500-album pages) or ran a scan would keep that peak while it
//! idles; these return the unused pages once things go quiet.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Returns unused heap pages to the kernel.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused heap pages to the kernel; it has no
    // preconditions and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Counts HTTP requests, so the trimmer can tell when a burst is over.
#[derive(Debug, Default)]
pub struct Activity {
    requests: AtomicU64,
}

impl Activity {
    pub fn record(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// How long without a new request counts as quiet.
const QUIET: Duration = Duration::from_secs(2);

/// Runs for the server's life: once per burst of requests, after `QUIET` without a new one,
/// gives the freed memory back (off the async threads; a trim takes milliseconds).
pub async fn trim_when_idle(activity: std::sync::Arc<Activity>) {
    let mut last_seen = activity.count();
    let mut trimmed_at = last_seen;
    loop {
        tokio::time::sleep(QUIET).await;
        let now = activity.count();
        if now == last_seen && now != trimmed_at {
            let _ = tokio::task::spawn_blocking(release_freed_memory).await;
            trimmed_at = now;
        }
        last_seen = now;
    }
}
