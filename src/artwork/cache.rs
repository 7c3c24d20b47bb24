//! A size-bounded disk cache of rendered images: one file per key, written atomically (a
//! temporary file renamed into place, so a reader never sees half an image), the least
//! recently used files removed once the total passes the bound. The use order lives in memory
//! and survives restarts through the files' modification times, which a hit refreshes.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Prefix of files being written; left-overs of a crash are removed at start-up.
const TEMP_PREFIX: &str = ".tmp-";

/// The cache directory and what is in it.
pub struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    index: Mutex<Index>,
}

#[derive(Default)]
struct Index {
    /// key -> (size, last use tick)
    entries: HashMap<String, (u64, u64)>,
    /// last use tick -> key, oldest first
    by_use: BTreeMap<u64, String>,
    total: u64,
    clock: u64,
}

impl Index {
    fn touch(&mut self, key: &str) {
        self.clock += 1;
        let tick = self.clock;
        if let Some(entry) = self.entries.get_mut(key) {
            self.by_use.remove(&entry.1);
            entry.1 = tick;
            self.by_use.insert(tick, key.to_string());
        }
    }

    fn insert(&mut self, key: &str, size: u64) {
        self.remove(key);
        self.clock += 1;
        self.entries.insert(key.to_string(), (size, self.clock));
        self.by_use.insert(self.clock, key.to_string());
        self.total += size;
    }

    fn remove(&mut self, key: &str) {
        if let Some((size, tick)) = self.entries.remove(key) {
            self.by_use.remove(&tick);
            self.total -= size;
        }
    }
}

impl DiskCache {
    /// Opens (creating) the cache directory and indexes what a previous run left there.
    pub fn open(dir: &Path, max_bytes: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut found: Vec<(SystemTime, String, u64)> = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = entry.metadata()?;
            if !meta.is_file() {
                continue;
            }
            if name.starts_with(TEMP_PREFIX) {
                let _ = std::fs::remove_file(entry.path());
                continue;
            }
            found.push((
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                name,
                meta.len(),
            ));
        }
        found.sort();
        let mut index = Index::default();
        for (_, name, size) in found {
            index.insert(&name, size);
        }
        let cache = Self {
            dir: dir.to_path_buf(),
            max_bytes,
            index: Mutex::new(index),
        };
        cache.evict();
        Ok(cache)
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Total size of the cached files in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }

    /// The cached bytes of `key`, marking them as just used.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        if !self.lock().entries.contains_key(key) {
            return None;
        }
        let path = self.path_of(key);
        match std::fs::read(&path) {
            Ok(bytes) => {
                self.lock().touch(key);
                // Keeps the use order for the next start; a failure only costs that.
                if let Ok(file) = std::fs::File::options().write(true).open(&path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                Some(bytes)
            }
            Err(_) => {
                // Removed behind our back: forget it.
                self.lock().remove(key);
                None
            }
        }
    }

    /// Stores `bytes` under `key` (atomically), then trims the cache to its bound. Failures
    /// are logged: a cache that cannot write only costs speed.
    pub fn put(&self, key: &str, bytes: &[u8]) {
        let size = bytes.len() as u64;
        if size > self.max_bytes {
            return;
        }
        if let Err(e) = self.write_file(key, bytes) {
            tracing::warn!(dir = %self.dir.display(), "cannot write to the artwork cache: {e}");
            return;
        }
        self.lock().insert(key, size);
        self.evict();
    }

    fn write_file(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(|e| std::io::Error::other(e.to_string()))?;
        let temp = self
            .dir
            .join(format!("{TEMP_PREFIX}{key}-{}", hex::encode(suffix)));
        let written = (|| {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(bytes)?;
            std::fs::rename(&temp, self.path_of(key))
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written
    }

    /// Removes the least recently used files until the total fits the bound.
    fn evict(&self) {
        let mut victims = Vec::new();
        {
            let mut index = self.lock();
            while index.total > self.max_bytes {
                let Some((_, key)) = index.by_use.pop_first() else {
                    break;
                };
                if let Some((size, _)) = index.entries.remove(&key) {
                    index.total -= size;
                }
                victims.push(key);
            }
        }
        for key in victims {
            let _ = std::fs::remove_file(self.path_of(&key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn least_recently_used_go_first_and_the_bound_holds() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::open(dir.path(), 300).unwrap();
        cache.put("a", &[1; 100]);
        cache.put("b", &[2; 100]);
        cache.put("c", &[3; 100]);
        assert_eq!(cache.get("a").unwrap(), vec![1; 100]);
        cache.put("d", &[4; 100]);
        // b was the least recently used.
        assert_eq!(files(dir.path()), ["a", "c", "d"]);
        assert!(cache.get("b").is_none());
        assert_eq!(cache.total_bytes(), 300);
        // Too big for the cache at all: not stored, nothing evicted.
        cache.put("huge", &[0; 301]);
        assert_eq!(files(dir.path()), ["a", "c", "d"]);
    }

    #[test]
    fn a_restart_keeps_entries_and_drops_half_written_files() {
        let dir = tempfile::tempdir().unwrap();
        {
            let cache = DiskCache::open(dir.path(), 1000).unwrap();
            cache.put("kept", b"image");
        }
        std::fs::write(dir.path().join(".tmp-kept-123"), b"ima").unwrap();
        let cache = DiskCache::open(dir.path(), 1000).unwrap();
        assert_eq!(files(dir.path()), ["kept"]);
        assert_eq!(cache.get("kept").unwrap(), b"image");
        // A smaller bound at start-up trims at once.
        drop(cache);
        let cache = DiskCache::open(dir.path(), 2).unwrap();
        assert!(files(dir.path()).is_empty());
        assert_eq!(cache.total_bytes(), 0);
    }

    #[test]
    fn a_file_removed_behind_the_cache_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::open(dir.path(), 1000).unwrap();
        cache.put("x", b"1");
        std::fs::remove_file(dir.path().join("x")).unwrap();
        assert!(cache.get("x").is_none());
        assert_eq!(cache.total_bytes(), 0);
    }
}
