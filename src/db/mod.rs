//! The SQLite catalog: connections with the right pragmas, embedded migrations, a read pool.
//!
//! Writers use `immediate_transaction` so a writer never upgrades a read lock mid-transaction
//! (which SQLite answers with SQLITE_BUSY regardless of busy_timeout); the scanner writes
//! through one writer thread in batches.

pub mod deferred;
pub mod models;
pub mod schema;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::path::{Path, PathBuf};

/// Every migration in migrations/, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = Pool<ConnectionManager<SqliteConnection>>;
pub type PooledConn = PooledConnection<ConnectionManager<SqliteConnection>>;

/// Database failures, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open database {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database query: {0}")]
    Query(#[from] diesel::result::Error),
}

/// Opens (creating it, readable by the owner only) a file used only for its lock.
pub fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

/// Pragmas every connection gets. WAL lets readers proceed while the scanner writes;
/// synchronous=NORMAL is durable across crashes of the process (not power loss of the last
/// transaction), which is what WAL mode is designed for.
const CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 10000;
PRAGMA synchronous = NORMAL;
PRAGMA temp_store = MEMORY;
PRAGMA cache_size = -16000;";

#[derive(Debug)]
struct Pragmas;

/// Readers keep a smaller page cache than the writer: there are eight of them, each keeps its
/// cache while the server idles, and the OS page cache holds the file anyway (16 MB each left
/// an idle server at ~200 MB after a burst of requests at 100,000 tracks).
const READER_CACHE: &str = "PRAGMA cache_size = -4000;";

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(CONNECTION_PRAGMAS)
            .and_then(|()| conn.batch_execute(READER_CACHE))
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Configures SQLite once, before its first connection.
///
/// Multi-thread mode (and no memory statistics, see below): a connection is only ever used by
/// one thread at a time (Diesel's connections are not `Sync`; the pool lends each to one
/// request), so the per-connection
/// mutexes of the default serialized mode only cost time (each column read locks and unlocks
/// one: about 9 % of the CPU of a 1,000-song answer). Once SQLite has started, it refuses the
/// change and stays serialized, which is merely slower.
///
/// The query planner stability guarantee on every connection (`SQLITE_DBCONFIG_ENABLE_QPSG`,
/// set by an auto extension): without it the planner reads the value bound to `LIMIT ?`, which
/// marks the statement as depending on it, and SQLite then throws the prepared statement away
/// and prepares it again every time a new value is bound, i.e. on every execution of every
/// paged list and of every Diesel `.first()`: the statement cache saved nothing for them.
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config with an option that takes no argument; SQLite itself refuses
        // it (SQLITE_MISUSE, ignored) once initialized, so it cannot race open connections.
        let _ =
            unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD) };
        // SAFETY: as above; this option takes one int. Without memory statistics SQLite's
        // allocator takes no global mutex per allocation (which was ~9 % of the scan writer's
        // samples at a million tracks); nothing reads them.
        let _ = unsafe {
            libsqlite3_sys::sqlite3_config(
                libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        // SAFETY: registers a function with the signature SQLite expects; it is called on each
        // new connection's own thread, with that connection.
        let _ = unsafe { libsqlite3_sys::sqlite3_auto_extension(Some(stable_plans)) };
    });
}

/// The auto extension of `configure_sqlite`: turns the planner stability guarantee on.
unsafe extern "C" fn stable_plans(
    db: *mut libsqlite3_sys::sqlite3,
    _error: *mut *mut std::ffi::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::ffi::c_int {
    // SAFETY: `db` is the connection being opened; this option takes an int and an optional
    // int pointer for the previous value.
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        );
    }
    libsqlite3_sys::SQLITE_OK
}

/// Opens one connection with the standard pragmas (the scanner's writer, the CLI).
pub fn connect(path: &Path) -> Result<SqliteConnection, DbError> {
    configure_sqlite();
    let url = path.to_string_lossy();
    let mut conn = SqliteConnection::establish(&url).map_err(|e| DbError::Open {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    conn.batch_execute(CONNECTION_PRAGMAS)?;
    Ok(conn)
}

/// Creates the database file if needed, switches it to WAL and applies pending migrations.
/// Run before anything else touches the catalog.
pub fn open_and_migrate(path: &Path) -> Result<(), DbError> {
    configure_sqlite();
    let open_err = |e: std::io::Error| DbError::Open {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(open_err)?;
    }
    make_private(path).map_err(open_err)?;
    let mut conn = connect(path)?;
    conn.batch_execute("PRAGMA journal_mode = WAL;")?;
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| DbError::Migration(e.to_string()))?;
    // Indexes a first scan killed in its bulk load left unbuilt (db/deferred.rs).
    deferred::repair(&mut conn)?;
    Ok(())
}

/// The database and its WAL files as they sit beside it.
fn database_files(path: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_path_buf(), with("-wal"), with("-shm")]
}

/// The catalog holds user names, e-mail addresses and encrypted passwords: it is readable by
/// the owner only, like the key files beside it. A new database is created 0600 (SQLite
/// creates its -wal and -shm files with the database's mode); files an older version left
/// readable by others are tightened.
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for file in database_files(path) {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

/// A pool of connections for readers (and short writes such as user management).
pub fn pool(path: &Path, max_size: u32) -> Result<DbPool, DbError> {
    configure_sqlite();
    let manager = ConnectionManager::<SqliteConnection>::new(path.to_string_lossy());
    Pool::builder()
        .max_size(max_size)
        .connection_customizer(Box::new(Pragmas))
        .build(manager)
        .map_err(|e| DbError::Open {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Runs `work` in an immediate transaction, or, when the connection is already in one (a
/// catalog write operation that calls several writes), as part of it (a savepoint). SQLite
/// cannot open an immediate transaction inside another.
pub fn immediate<T, E>(
    conn: &mut SqliteConnection,
    work: impl FnOnce(&mut SqliteConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth()?;
    if depth.is_some() {
        conn.transaction(work)
    } else {
        conn.immediate_transaction(work)
    }
}

/// Ids as a comma-separated SQL list for `IN (...)`: integers only, so nothing a client sent
/// can reach the SQL text.
pub fn id_list(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// Milliseconds since the Unix epoch: the unit of every time column.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_database_and_its_wal_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        open_and_migrate(&path).unwrap();
        // A write through a second connection, held open, so -wal and -shm exist now.
        let mut conn = connect(&path).unwrap();
        conn.batch_execute("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        for file in database_files(&path) {
            assert!(file.exists(), "{}", file.display());
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        drop(conn);

        // Files an older version made world-readable are tightened at the next start.
        use std::os::unix::fs::PermissionsExt;
        let old = dir.path().join("old.db");
        open_and_migrate(&old).unwrap();
        let mut keep = connect(&old).unwrap();
        keep.batch_execute("CREATE TABLE t (x);").unwrap();
        for file in database_files(&old) {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        open_and_migrate(&old).unwrap();
        for file in database_files(&old) {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[test]
    fn migrations_revert_and_reapply() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        open_and_migrate(&path).unwrap();
        let mut conn = connect(&path).unwrap();
        conn.revert_all_migrations(MIGRATIONS).unwrap();
        let left: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE '__diesel%' AND name NOT LIKE 'sqlite_%'",
        )
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(left, 0, "down migrations must drop everything");
        conn.run_pending_migrations(MIGRATIONS).unwrap();
        let tables: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tracks'",
        )
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(tables, 1);
    }
}
