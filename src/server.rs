//! `serve`: migrations, the start-up scan, the schedule and the watcher, until a signal says
//! stop. The Subsonic HTTP API is mounted here on the bound listener (next step of the project).

use crate::config::Config;
use crate::error::AppError;
use crate::scanner::{self, ScanHandle, ScanOptions};
use crate::{db, users};
use std::time::Duration;

/// Runs the server until SIGINT or SIGTERM. Returns once everything has stopped cleanly.
pub async fn serve(config: Config) -> Result<(), AppError> {
    db::open_and_migrate(&config.database.path)?;
    let _password_key = users::PasswordKey::load_or_create(&config.database.path)?;
    // Bind before any work so a taken port stops start-up at once with a clear message.
    let listener =
        std::net::TcpListener::bind(&config.server.address).map_err(|source| AppError::Bind {
            address: config.server.address.clone(),
            source,
        })?;
    tracing::info!(address = %listener.local_addr()?, "listening");

    let (scans, scan_thread) = ScanHandle::start(config.clone());
    // The watcher starts before the start-up scan so nothing changed in between is missed.
    let watcher = if config.scan.watch {
        let folders: Vec<_> = config.music_folders().into_iter().map(|f| f.path).collect();
        Some(scanner::watch::start(
            &folders,
            Duration::from_secs(config.scan.watch_delay_secs),
            scans.clone(),
        )?)
    } else {
        None
    };
    if config.scan.on_startup {
        scans.trigger(ScanOptions::default());
    }
    let scheduler = if config.scan.schedule.trim().is_empty() {
        None
    } else {
        Some(scanner::schedule::start(&config.scan.schedule, scans.clone()).await?)
    };

    shutdown_signal().await;
    tracing::info!("shutting down");
    drop(watcher);
    if let Some(mut scheduler) = scheduler
        && let Err(e) = scheduler.shutdown().await
    {
        tracing::warn!("scheduler shutdown: {e}");
    }
    scans.shutdown();
    // A running scan stops at its next batch boundary; wait for it off the async threads.
    let _ = tokio::task::spawn_blocking(move || scan_thread.join()).await;
    drop(listener);
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
