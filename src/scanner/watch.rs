//! The filesystem watcher: changes settle for a moment (debounced), then only the folders
//! that changed are rescanned.

use super::walk::{AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, extension};
use super::{ScanHandle, ScanOptions};
use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A running watcher; watching stops when it is dropped.
pub type Watcher = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// Watches `folders` recursively and triggers a scan of the changed directories after `delay`
/// without further changes.
pub fn start(folders: &[PathBuf], delay: Duration, scans: ScanHandle) -> notify::Result<Watcher> {
    let mut debouncer = new_debouncer(delay, None, move |result: DebounceEventResult| {
        match result {
            Ok(events) => {
                let mut dirs: Vec<PathBuf> = events
                    .iter()
                    .flat_map(|e| e.paths.iter())
                    .filter_map(|p| directory_to_rescan(p))
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
                    tracing::warn!("file watcher: {e}");
                }
            }
        }
    })?;
    for folder in folders {
        debouncer.watch(folder, RecursiveMode::Recursive)?;
    }
    Ok(debouncer)
}

/// The directory to rescan for a changed path: a directory itself, the folder holding a
/// changed audio, image or lyrics file; None for files the scanner does not care about
/// (such as a database or a download in progress).
fn directory_to_rescan(path: &Path) -> Option<PathBuf> {
    if path
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
        }
        // No extension and gone: it may have been a folder.
        None => !path.exists(),
    };
    relevant.then(|| path.parent().map(Path::to_path_buf)).flatten()
}
