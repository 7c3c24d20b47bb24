//! `mediastreamer backup DIR`: a consistent copy of the catalog and its key files, safe while
//! the server runs.
//!
//! The database is copied with SQLite's `VACUUM INTO`, which reads one snapshot inside a read
//! transaction: a scan committing batches meanwhile is either wholly in the copy or not at
//! all, and neither side waits on the other for long (WAL mode). The key files beside the
//! database (`<db>.key` for the stored passwords, `<db>.artwork.key` for signed image URLs)
//! are written once when first needed, so a plain copy of them is consistent too.
//!
//! Restore: stop the server, copy every file of the backup into the database's folder (the
//! database's file name is kept), start it again.

use diesel::RunQueryDsl;
use std::path::{Path, PathBuf};

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub database: PathBuf,
    pub keys: Vec<PathBuf>,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists already; back up into an empty or new folder")]
    Exists(PathBuf),
    #[error("database {0} does not exist")]
    NoDatabase(PathBuf),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("copying the database: {0}")]
    Vacuum(#[from] diesel::result::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Copies the database at `database` and its key files into `dir` (created when missing).
/// Never overwrites: an earlier backup in `dir` is an error.
pub fn backup(database: &Path, dir: &Path) -> Result<Backup, BackupError> {
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database.to_path_buf()));
    }
    let name = database
        .file_name()
        .ok_or_else(|| BackupError::NoDatabase(database.to_path_buf()))?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let target = dir.join(name);
    if target.exists() {
        return Err(BackupError::Exists(target));
    }
    // Written under a temporary name so that a failed backup never looks like a good one.
    let mut partial = target.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let mut conn = crate::db::connect(database)?;
    let quoted = partial.to_string_lossy().replace('\'', "''");
    diesel::sql_query(format!("VACUUM INTO '{quoted}'")).execute(&mut conn)?;
    drop(conn);
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(io(&partial))?;
    std::fs::rename(&partial, &target).map_err(io(&target))?;
    let bytes = std::fs::metadata(&target).map_err(io(&target))?.len();

    let mut keys = Vec::new();
    for key in key_files(database)? {
        let copy = dir.join(key.file_name().expect("a key file has a name"));
        if copy.exists() {
            return Err(BackupError::Exists(copy));
        }
        let secret = std::fs::read(&key).map_err(io(&key))?;
        crate::keyfile::write_private(&copy, &secret).map_err(io(&copy))?;
        keys.push(copy);
    }
    Ok(Backup {
        database: target,
        keys,
        bytes,
    })
}

/// The key files kept beside `database`: `<name>.key`, `<name>.artwork.key`, ...
fn key_files(database: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let name = database.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!("{name}.");
    let folder = match database.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(io(folder))? {
        let entry = entry.map_err(io(folder))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with(&prefix) && file.ends_with(".key") && entry.path().is_file() {
            keys.push(entry.path());
        }
    }
    keys.sort();
    Ok(keys)
}
