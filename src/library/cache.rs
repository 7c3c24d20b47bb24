//! Answers that depend on nothing but the catalog and the folders a viewer may see (getArtists,
//! getIndexes' folders, getGenres, the whole order of the name, artist, year and genre album
//! lists), kept in memory until the catalog changes. At a million tracks they cost 40-200 ms
//! to compute and nothing to look up; a viewer restricted to some folders gets its own entry,
//! built once, so it is as fast as an admin.
//!
//! The catalog's version is a counter in the database (`catalog_version`), raised by the
//! scanner's writer in every transaction that changes the catalog (`catalog_changed`) and by
//! triggers when music folders come or go. A lookup reads it in the caller's own read
//! transaction, so an entry is used only by a snapshot of the very catalog state it was built
//! from: a read that started before a commit neither uses nor stores the newer entries, and
//! one after it never sees the older ones. Nothing per user (stars, ratings, plays) is kept
//! here: callers add annotations to what they get.

use super::access::Scope;
use super::sql::{self, Cached};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most entries kept (kinds × scopes × list orders); past it the oldest version's entries are
/// dropped at once (a simple bound: entries are rebuilt on demand).
const MAX_ENTRIES: usize = 64;

/// What an entry answers, with the viewer's folders.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The kind of answer and anything else it depends on ("artists", "albums byArtist the
    /// an", …).
    pub what: String,
    pub scope: Scope,
}

impl Key {
    pub fn new(what: impl Into<String>, scope: &Scope) -> Key {
        Key {
            what: what.into(),
            scope: scope.clone(),
        }
    }
}

type Value = Arc<dyn Any + Send + Sync>;

#[derive(Default)]
struct Entries {
    /// The catalog version every entry was built from.
    version: i64,
    map: HashMap<Key, Value>,
}

/// The cache (one per catalog, shared by every request).
#[derive(Default)]
pub struct CatalogCache {
    entries: Mutex<Entries>,
    /// Held while an entry is built, so requests arriving together after a scan build it
    /// once rather than each on its own (a build must not look up another entry).
    building: Mutex<()>,
}

/// The catalog's version as the transaction of `conn` sees it.
pub fn catalog_version(conn: &mut SqliteConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let row: Option<Row> = Cached(diesel::sql_query(sql::CATALOG_VERSION))
        .get_result(conn)
        .optional()?;
    Ok(row.map_or(0, |r| r.n))
}

/// Marks the catalog changed, in the writer's transaction (the scanner's writer calls it once
/// per batch): every cached answer is built again from the next snapshot on.
pub fn catalog_changed(conn: &mut SqliteConnection) -> QueryResult<()> {
    Cached(diesel::sql_query(sql::CATALOG_CHANGED)).execute(conn)?;
    Ok(())
}

impl CatalogCache {
    /// The entry for `key` in the catalog state `conn`'s transaction sees, built by `build`
    /// (in that same transaction) when missing. An entry of another type under the same key
    /// is a caller's bug; it is rebuilt rather than trusted.
    pub fn get_or_build<T: Any + Send + Sync>(
        &self,
        conn: &mut SqliteConnection,
        key: Key,
        build: impl FnOnce(&mut SqliteConnection) -> QueryResult<T>,
    ) -> QueryResult<Arc<T>> {
        let version = catalog_version(conn)?;
        if let Some(found) = self.lookup(version, &key)
            && let Ok(found) = found.downcast::<T>()
        {
            return Ok(found);
        }
        let _building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        // Another request may have built it while this one waited.
        if let Some(found) = self.lookup(version, &key)
            && let Ok(found) = found.downcast::<T>()
        {
            return Ok(found);
        }
        let built = Arc::new(build(conn)?);
        self.store(version, key, built.clone());
        Ok(built)
    }

    fn lookup(&self, version: i64, key: &Key) -> Option<Value> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        (entries.version == version)
            .then(|| entries.map.get(key).cloned())
            .flatten()
    }

    fn store(&self, version: i64, key: Key, value: Value) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if version < entries.version {
            // Built from an older snapshot than the entries kept now: useless to later reads.
            return;
        }
        if version > entries.version || entries.map.len() >= MAX_ENTRIES {
            entries.map.clear();
            entries.version = version;
        }
        entries.map.insert(key, value);
    }

    /// How many entries are kept (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;

    fn catalog() -> (tempfile::TempDir, SqliteConnection) {
        super::super::test_catalog::catalog(&[(1, 1)])
    }

    fn count_builds(
        cache: &CatalogCache,
        c: &mut SqliteConnection,
        key: &Key,
        builds: &mut usize,
    ) -> i64 {
        *cache
            .get_or_build(c, key.clone(), |c| {
                *builds += 1;
                catalog_version(c)
            })
            .unwrap()
    }

    #[test]
    fn an_entry_lives_until_the_catalog_changes() {
        let (_dir, mut c) = catalog();
        let cache = CatalogCache::default();
        let key = Key::new("artists", &Scope::All);
        let mut builds = 0;
        let first = count_builds(&cache, &mut c, &key, &mut builds);
        assert_eq!(count_builds(&cache, &mut c, &key, &mut builds), first);
        assert_eq!(builds, 1);
        catalog_changed(&mut c).unwrap();
        let second = count_builds(&cache, &mut c, &key, &mut builds);
        assert_eq!((builds, second), (2, first + 1));
        // A change of the music folders counts too (a trigger).
        c.batch_execute(
            "INSERT INTO library_folders (id, path, name, created_at) VALUES (77, '/x', 'x', 0)",
        )
        .unwrap();
        count_builds(&cache, &mut c, &key, &mut builds);
        assert_eq!(builds, 3);
    }

    #[test]
    fn each_scope_and_kind_has_its_own_entry() {
        let (_dir, mut c) = catalog();
        let cache = CatalogCache::default();
        let mut builds = 0;
        for key in [
            Key::new("artists", &Scope::All),
            Key::new("artists", &Scope::Only(vec![1])),
            Key::new("artists", &Scope::Only(vec![])),
            Key::new("genres", &Scope::Only(vec![1])),
        ] {
            count_builds(&cache, &mut c, &key, &mut builds);
            count_builds(&cache, &mut c, &key, &mut builds);
        }
        assert_eq!((builds, cache.len()), (4, 4));
    }

    #[test]
    fn an_older_snapshot_neither_uses_nor_replaces_newer_entries() {
        let cache = CatalogCache::default();
        let key = Key::new("genres", &Scope::All);
        cache.store(5, key.clone(), Arc::new(5i64));
        assert!(cache.lookup(4, &key).is_none());
        cache.store(4, key.clone(), Arc::new(4i64));
        let kept = cache.lookup(5, &key).unwrap().downcast::<i64>().unwrap();
        assert_eq!(*kept, 5);
        // A newer version drops every older entry.
        cache.store(6, Key::new("artists", &Scope::All), Arc::new(6i64));
        assert!(cache.lookup(6, &key).is_none());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn requests_arriving_together_build_an_entry_once() {
        let (dir, _c) = catalog();
        let cache = CatalogCache::default();
        let builds = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let mut c = crate::db::connect(&dir.path().join("t.db")).unwrap();
                    let key = Key::new("artists", &Scope::All);
                    let got = cache
                        .get_or_build(&mut c, key, |_| {
                            builds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(100));
                            Ok(7i64)
                        })
                        .unwrap();
                    assert_eq!(*got, 7);
                });
            }
        });
        assert_eq!(builds.into_inner(), 1);
    }

    #[test]
    fn the_number_of_entries_is_bounded() {
        let cache = CatalogCache::default();
        for i in 0..(MAX_ENTRIES * 2) {
            cache.store(1, Key::new(format!("k{i}"), &Scope::All), Arc::new(i));
            assert!(cache.len() <= MAX_ENTRIES);
        }
    }
}
