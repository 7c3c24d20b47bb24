//! Errors that stop the program (start-up and command-line failures). No HTTP here.

use std::path::PathBuf;

/// Why the server or a command could not run.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Users(#[from] crate::users::UserError),
    #[error(transparent)]
    Scan(#[from] crate::scanner::ScanError),
    #[error("backup: {0}")]
    Backup(#[from] crate::ops::backup::BackupError),
    #[error(
        "config key `server.address`: cannot listen on {address}: {source}; choose a free port or another address"
    )]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("cannot start the scan schedule: {0}")]
    Schedule(#[from] tokio_cron_scheduler::JobSchedulerError),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
