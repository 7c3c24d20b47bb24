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

/// Watches `folders` recursively and triggers a scan of the changed directories after `delay`
/// without further changes.
pub fn start(folders: &[PathBuf], delay: Duration, scans: ScanHandle) -> notify::Result<Watcher> {
    let roots = folders.to_vec();
    let mut debouncer = new_debouncer(
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
                    tracing::warn!("file watcher: {e}");
                }
            }
        },
    )?;
    for folder in folders {
        debouncer.watch(folder, RecursiveMode::Recursive)?;
    }
    Ok(debouncer)
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
