//! The transcode cache: finished transcodes on disk, keyed by track, file version and profile,
//! bounded in size with the least recently used entries going first.
//!
//! An entry is written to a temporary `.part` file and renamed into place only once complete
//! and synced, so a half-written transcode is never served; leftovers of a crash are removed
//! at start-up. Recency is kept in memory (seeded from the files' modification times).
//!
//! A key is the entry's file name and ends in its format's suffix (`.mp3`, `.opus`). Entries
//! of an older naming (Opus saved as `.mp3`) or layout are never read: the plans' keys name
//! their layout version, so no new key equals an old one; they only age out.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Suffixes of the entries (the transcodes' formats).
const FORMATS: &[&str] = &["mp3", "opus"];
const PARTIAL: &str = "part";

/// A handle on the cache (cheap to clone).
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    max_bytes: u64,
    index: Mutex<Index>,
}

#[derive(Default)]
struct Index {
    entries: HashMap<String, Entry>,
    total: u64,
    /// Logical clock for recency.
    clock: u64,
}

#[derive(Clone, Copy)]
struct Entry {
    size: u64,
    last_used: u64,
}

impl Cache {
    /// Opens the cache in `dir` (created when missing) holding at most `max_bytes`; 0
    /// disables it.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<Cache> {
        let mut index = Index::default();
        if max_bytes > 0 {
            fs::create_dir_all(dir)?;
            let mut found = Vec::new();
            for entry in fs::read_dir(dir)? {
                let entry = entry?;
                let path = entry.path();
                match path.extension().and_then(|e| e.to_str()) {
                    Some(PARTIAL) => {
                        // A transcode that was being written when the server stopped.
                        let _ = fs::remove_file(&path);
                    }
                    Some(format) if FORMATS.contains(&format) => {
                        let meta = entry.metadata()?;
                        let Some(key) = path.file_name().and_then(|s| s.to_str()) else {
                            continue;
                        };
                        found.push((meta.modified().ok(), key.to_string(), meta.len()));
                    }
                    _ => {}
                }
            }
            found.sort();
            for (_, key, size) in found {
                index.clock += 1;
                index.total += size;
                let last_used = index.clock;
                index.entries.insert(key, Entry { size, last_used });
            }
        }
        let cache = Cache {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                max_bytes,
                index: Mutex::new(index),
            }),
        };
        cache.evict();
        Ok(cache)
    }

    /// Whether the cache keeps anything at all.
    pub fn enabled(&self) -> bool {
        self.inner.max_bytes > 0
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.inner.dir.join(key)
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.inner.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached file for `key` when it is there with the expected length (marking it as
    /// just used).
    pub fn lookup(&self, key: &str, len: u64) -> Option<PathBuf> {
        let path = self.path_of(key);
        let mut index = self.index();
        let size = index.entries.get(key)?.size;
        let on_disk = fs::metadata(&path).map(|m| m.len()).ok();
        if size != len || on_disk != Some(len) {
            index.entries.remove(key);
            index.total -= size;
            drop(index);
            let _ = fs::remove_file(&path);
            return None;
        }
        index.clock += 1;
        let now = index.clock;
        if let Some(entry) = index.entries.get_mut(key) {
            entry.last_used = now;
        }
        Some(path)
    }

    /// Starts writing an entry for `key` that will hold `len` bytes; None when the cache is
    /// off or the entry would not fit at all.
    pub fn writer(&self, key: &str, len: u64) -> Option<CacheWriter> {
        if !self.enabled() || len > self.inner.max_bytes {
            return None;
        }
        let temp = self
            .inner
            .dir
            .join(format!("{key}.{:016x}.{PARTIAL}", rand_suffix()));
        match File::create(&temp) {
            Ok(file) => Some(CacheWriter {
                cache: self.clone(),
                key: key.to_string(),
                expected: len,
                written: 0,
                file: Some(BufWriter::with_capacity(64 * 1024, file)),
                temp,
            }),
            Err(e) => {
                tracing::warn!("transcode cache: cannot create {}: {e}", temp.display());
                None
            }
        }
    }

    /// Bytes the cache holds now.
    pub fn total_bytes(&self) -> u64 {
        self.index().total
    }

    fn insert(&self, key: &str, size: u64) {
        let mut index = self.index();
        index.clock += 1;
        let entry = Entry {
            size,
            last_used: index.clock,
        };
        if let Some(old) = index.entries.insert(key.to_string(), entry) {
            index.total -= old.size;
        }
        index.total += size;
        drop(index);
        self.evict();
    }

    /// Removes least recently used entries until the cache fits its bound.
    fn evict(&self) {
        loop {
            let mut index = self.index();
            if index.total <= self.inner.max_bytes {
                return;
            }
            let Some((key, entry)) = index
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, e)| (k.clone(), *e))
            else {
                return;
            };
            index.entries.remove(&key);
            index.total -= entry.size;
            drop(index);
            if let Err(e) = fs::remove_file(self.path_of(&key))
                && e.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!("transcode cache: cannot remove {key}: {e}");
            }
        }
    }
}

/// A random-enough suffix so that two concurrent writers of one key never share a file.
fn rand_suffix() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return std::process::id() as u64;
    }
    u64::from_le_bytes(bytes)
}

/// One entry being written; it becomes visible only through `commit`, and its temporary file
/// is removed if it is dropped unfinished.
pub struct CacheWriter {
    cache: Cache,
    key: String,
    expected: u64,
    written: u64,
    file: Option<BufWriter<File>>,
    temp: PathBuf,
}

impl CacheWriter {
    /// Appends bytes; on a write error the entry is abandoned (the stream goes on).
    pub fn write(&mut self, bytes: &[u8]) {
        let Some(file) = &mut self.file else {
            return;
        };
        if let Err(e) = file.write_all(bytes) {
            tracing::warn!("transcode cache: writing {}: {e}", self.temp.display());
            self.file = None;
            let _ = fs::remove_file(&self.temp);
            return;
        }
        self.written += bytes.len() as u64;
    }

    /// Makes the entry visible if it is complete: synced to disk, then renamed into place.
    pub fn commit(mut self) {
        let Some(file) = self.file.take() else {
            return;
        };
        if self.written != self.expected {
            let _ = fs::remove_file(&self.temp);
            return;
        }
        let done = file
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .and_then(|()| fs::rename(&self.temp, self.cache.path_of(&self.key)));
        match done {
            Ok(()) => self.cache.insert(&self.key, self.written),
            Err(e) => {
                tracing::warn!("transcode cache: cannot store {}: {e}", self.key);
                let _ = fs::remove_file(&self.temp);
            }
        }
    }
}

impl Drop for CacheWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(cache: &Cache, key: &str, bytes: &[u8]) {
        let mut w = cache.writer(key, bytes.len() as u64).unwrap();
        w.write(bytes);
        w.commit();
    }

    #[test]
    fn entries_appear_only_when_complete() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 1000).unwrap();
        let mut w = cache.writer("a", 10).unwrap();
        w.write(b"12345");
        assert!(cache.lookup("a", 10).is_none());
        drop(w);
        // The abandoned temporary file is gone too.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut short = cache.writer("a", 10).unwrap();
        short.write(b"12345");
        short.commit();
        assert!(cache.lookup("a", 10).is_none());
        store(&cache, "a", b"0123456789");
        let path = cache.lookup("a", 10).unwrap();
        assert_eq!(fs::read(path).unwrap(), b"0123456789");
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 25).unwrap();
        store(&cache, "a", &[1; 10]);
        store(&cache, "b", &[2; 10]);
        assert!(cache.lookup("a", 10).is_some());
        store(&cache, "c", &[3; 10]);
        assert!(cache.lookup("b", 10).is_none(), "b was least recently used");
        assert!(cache.lookup("a", 10).is_some());
        assert!(cache.lookup("c", 10).is_some());
        assert_eq!(cache.total_bytes(), 20);
    }

    #[test]
    fn reopening_keeps_entries_and_drops_partial_files() {
        let dir = tempfile::tempdir().unwrap();
        {
            let cache = Cache::open(dir.path(), 100).unwrap();
            store(&cache, "kept.mp3", &[7; 20]);
            store(&cache, "also.opus", &[8; 20]);
        }
        fs::write(dir.path().join("crashed.0123.part"), b"half").unwrap();
        let cache = Cache::open(dir.path(), 100).unwrap();
        assert!(cache.lookup("kept.mp3", 20).is_some());
        assert!(cache.lookup("also.opus", 20).is_some());
        assert!(!dir.path().join("crashed.0123.part").exists());
        // A smaller bound evicts at start-up.
        drop(cache);
        let cache = Cache::open(dir.path(), 10).unwrap();
        assert!(cache.lookup("kept.mp3", 20).is_none());
    }

    #[test]
    fn a_zero_bound_disables_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("off"), 0).unwrap();
        assert!(!cache.enabled());
        assert!(cache.writer("a", 1).is_none());
        assert!(!dir.path().join("off").exists());
    }
}
