//! The filesystem watcher: changes settle for a moment (debounced), then only the folders
//! that changed are rescanned.

use super::walk::{AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, extension};
use super::{ScanHandle, ScanOptions};
use notify::RecursiveMode;
use notify::event::{AccessKind, AccessMode, EventKind, MetadataKind, ModifyKind};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A running watcher; watching stops when it is dropped.
pub type Watcher = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// What could be watched: the watcher (None when the system gave us none at all) and the
/// music folders left to periodic rescans instead.
pub struct Watching {
    pub watcher: Option<Watcher>,
    pub unwatched: Vec<PathBuf>,
}

/// Watches `folders` recursively and triggers a scan of the changed directories after `delay`
/// without further changes. A folder that cannot be watched (most often because its
/// directories exceed the system's inotify watch limit) is logged with the setting to raise
/// and returned in `unwatched`; it never stops the server.
pub fn start(folders: &[PathBuf], delay: Duration, scans: ScanHandle) -> Watching {
    let roots = folders.to_vec();
    let created = new_debouncer(
        delay,
        None,
        move |result: DebounceEventResult| match result {
            Ok(events) => {
                let mut dirs: Vec<PathBuf> = events
                    .iter()
                    .filter(|e| changes_content(&e.kind))
                    .flat_map(|e| e.paths.iter())
                    .filter_map(|p| directory_to_rescan(&roots, p))
                    .collect();
                dirs.sort();
                dirs.dedup();
                if !dirs.is_empty() {
                    tracing::debug!(?dirs, "files changed; rescanning");
                    scans.trigger(ScanOptions {
                        full: false,
                        paths: Some(dirs),
                    });
                }
            }
            Err(errors) => {
                for e in errors {
                    // New folders made after start-up can reach the limit too; the scheduled
                    // and periodic scans still find what lands in them.
                    tracing::warn!("file watcher: {e}{}", limit_hint(&e));
                }
            }
        },
    );
    match created {
        Ok(mut debouncer) => {
            let unwatched = watch_each(&mut debouncer, folders);
            Watching {
                watcher: Some(debouncer),
                unwatched,
            }
        }
        Err(e) => {
            tracing::warn!(
                "cannot start the file watcher: {e}{}; changes are found by periodic rescans",
                limit_hint(&e)
            );
            Watching {
                watcher: None,
                unwatched: folders.to_vec(),
            }
        }
    }
}

/// The two operations `watch_each` needs, so the fallback can be tested without exhausting
/// the machine's real inotify limit.
trait WatchFolders {
    fn watch(&mut self, folder: &Path) -> notify::Result<()>;
    fn unwatch(&mut self, folder: &Path) -> notify::Result<()>;
}

impl WatchFolders for Watcher {
    fn watch(&mut self, folder: &Path) -> notify::Result<()> {
        Debouncer::watch(self, folder, RecursiveMode::Recursive)
    }
    fn unwatch(&mut self, folder: &Path) -> notify::Result<()> {
        Debouncer::unwatch(self, folder)
    }
}

/// Watches each folder; returns those that could not be watched. A recursive watch that hits
/// the limit halfway leaves the directories it reached watched: they are released (for the
/// other folders) since the folder is rescanned periodically as a whole anyway.
fn watch_each(watcher: &mut impl WatchFolders, folders: &[PathBuf]) -> Vec<PathBuf> {
    let mut unwatched = Vec::new();
    for folder in folders {
        if let Err(e) = watcher.watch(folder) {
            tracing::warn!(
                folder = %folder.display(),
                "cannot watch this music folder: {e}{}; it is rescanned periodically instead",
                limit_hint(&e)
            );
            let _ = watcher.unwatch(folder);
            unwatched.push(folder.clone());
        }
    }
    unwatched
}

/// For an error caused by the inotify limits, the current limit and the command to raise it.
fn limit_hint(error: &notify::Error) -> String {
    let (setting, suggested) = match &error.kind {
        notify::ErrorKind::MaxFilesWatch => ("max_user_watches", 524_288),
        // inotify_init fails with EMFILE when the user has too many inotify instances.
        notify::ErrorKind::Io(io) if io.raw_os_error() == Some(libc::EMFILE) => {
            ("max_user_instances", 1024)
        }
        _ => return String::new(),
    };
    let current = std::fs::read_to_string(format!("/proc/sys/fs/inotify/{setting}"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    format!(
        " (fs.inotify.{setting} is {current}; raise it with `sysctl fs.inotify.{setting}={suggested}` \
         and keep it in /etc/sysctl.d/)"
    )
}

/// Rescans the folders that could not be watched every `every`, so what lands in them still
/// shows up without waiting for the nightly schedule.
pub async fn rescan_unwatched(folders: Vec<PathBuf>, every: Duration, scans: ScanHandle) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate; the start-up scan covers it
    loop {
        ticks.tick().await;
        scans.trigger(ScanOptions {
            full: false,
            paths: Some(folders.clone()),
        });
    }
}

/// Whether an event can change what the catalog holds. Opening and reading files (which the
/// scanner itself does) and access-time updates do not; without this filter every scan would
/// trigger the next.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any | EventKind::Other => true,
        EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::AccessTime | MetadataKind::Permissions | MetadataKind::Ownership,
        )) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
    }
}

/// The directory to rescan for a changed path: a directory itself, the folder holding a
/// changed audio, image or lyrics file; None for files the scanner does not care about
/// (such as a database or a download in progress).
fn directory_to_rescan(roots: &[PathBuf], path: &Path) -> Option<PathBuf> {
    // Hidden names inside a music folder are skipped by the scanner; the folder's own path
    // may well contain one (/home/me/.music).
    let inside = roots.iter().find_map(|r| path.strip_prefix(r).ok())?;
    if inside
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
    {
        return None;
    }
    if path.is_dir() {
        return Some(path.to_path_buf());
    }
    let name = path.file_name()?.to_string_lossy();
    let relevant = match extension(&name) {
        Some(ext) => {
            AUDIO_EXTENSIONS.contains(&ext.as_str())
                || IMAGE_EXTENSIONS.contains(&ext.as_str())
                || ext == "lrc"
                || super::m3u::PLAYLIST_EXTENSIONS.contains(&ext.as_str())
        }
        // No extension and gone: it may have been a folder.
        None => !path.exists(),
    };
    relevant
        .then(|| path.parent().map(Path::to_path_buf))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails with the inotify limit for the folders it is told to, and records what was
    /// released.
    #[derive(Default)]
    struct LimitedWatcher {
        over_limit: Vec<PathBuf>,
        watched: Vec<PathBuf>,
        released: Vec<PathBuf>,
    }

    impl WatchFolders for LimitedWatcher {
        fn watch(&mut self, folder: &Path) -> notify::Result<()> {
            if self.over_limit.iter().any(|f| f == folder) {
                return Err(notify::Error::new(notify::ErrorKind::MaxFilesWatch));
            }
            self.watched.push(folder.to_path_buf());
            Ok(())
        }
        fn unwatch(&mut self, folder: &Path) -> notify::Result<()> {
            self.released.push(folder.to_path_buf());
            Ok(())
        }
    }

    #[test]
    fn folders_over_the_watch_limit_are_released_and_left_to_rescans() {
        let folders: Vec<PathBuf> = ["/m/a", "/m/b", "/m/c"].map(PathBuf::from).to_vec();
        let mut watcher = LimitedWatcher {
            over_limit: vec![PathBuf::from("/m/b")],
            ..Default::default()
        };
        let unwatched = watch_each(&mut watcher, &folders);
        assert_eq!(unwatched, vec![PathBuf::from("/m/b")]);
        assert_eq!(watcher.released, vec![PathBuf::from("/m/b")]);
        assert_eq!(
            watcher.watched,
            vec![PathBuf::from("/m/a"), PathBuf::from("/m/c")]
        );
    }

    #[test]
    fn limit_errors_name_the_setting_to_raise() {
        let hint = limit_hint(&notify::Error::new(notify::ErrorKind::MaxFilesWatch));
        assert!(
            hint.contains("sysctl fs.inotify.max_user_watches="),
            "{hint}"
        );
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        let hint = limit_hint(&notify::Error::io(emfile));
        assert!(hint.contains("fs.inotify.max_user_instances"), "{hint}");
        let other = notify::Error::generic("something else");
        assert_eq!(limit_hint(&other), "");
    }

    #[test]
    fn playlist_audio_and_image_changes_rescan_their_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        std::fs::create_dir_all(root.join("A")).unwrap();
        for name in ["list.M3U", "mix.m3u8", "01.mp3", "cover.jpg", "notes.txt"] {
            std::fs::write(root.join("A").join(name), b"x").unwrap();
        }
        let roots = [root.clone()];
        for name in ["list.M3U", "mix.m3u8", "01.mp3", "cover.jpg"] {
            let changed = root.join("A").join(name);
            assert_eq!(directory_to_rescan(&roots, &changed), Some(root.join("A")));
        }
        assert_eq!(directory_to_rescan(&roots, &root.join("A/notes.txt")), None);
    }
}
