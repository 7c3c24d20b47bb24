//! `scan`: one scan of the music folders, with a progress bar and a summary (or JSON).

use mediastreamer::config::Config;
use mediastreamer::error::AppError;
use mediastreamer::scanner::{self, ScanOptions, ScanProgress, ScanReport};
use mediastreamer::{db, server};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use super::tokio_runtime;

pub fn run(config: &Config, full: bool, json: bool) -> Result<(), AppError> {
    db::open_and_migrate(&config.database.path)?;
    let progress = ScanProgress::default();
    let cancel = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let options = ScanOptions { full, paths: None };
    let show_bar = !json && std::io::stderr().is_terminal();
    let runtime = tokio_runtime()?;
    let report = std::thread::scope(|s| {
        // Ctrl-C stops the scan at a batch boundary; the catalog stays consistent.
        s.spawn(|| {
            runtime.block_on(async {
                tokio::select! {
                    _ = server::shutdown_signal() => {
                        eprintln!("stopping the scan…");
                        cancel.store(true, Ordering::Relaxed);
                    }
                    _ = wait_flag(&done) => {}
                }
            })
        });
        if show_bar {
            s.spawn(|| progress_bar(&progress, &done));
        }
        let result = scanner::run_scan(config, &options, &progress, &cancel);
        done.store(true, Ordering::Relaxed);
        result
    })?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| AppError::Io(e.into()))?
        );
    } else {
        print_summary(&report);
    }
    Ok(())
}

async fn wait_flag(flag: &AtomicBool) {
    while !flag.load(Ordering::Relaxed) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn progress_bar(progress: &ScanProgress, done: &AtomicBool) {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    while !done.load(Ordering::Relaxed) {
        bar.set_message(format!(
            "{} files seen, {} read, {} errors",
            progress.files_seen.load(Ordering::Relaxed),
            progress.files_read.load(Ordering::Relaxed),
            progress.errors.load(Ordering::Relaxed)
        ));
        bar.tick();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

fn print_summary(r: &ScanReport) {
    println!(
        "{} in {:.2} s: {} tracks, {} albums, {} artists in the catalog",
        if r.interrupted {
            "Scan interrupted"
        } else {
            "Scan finished"
        },
        r.seconds,
        r.tracks,
        r.albums,
        r.artists
    );
    println!(
        "  {} added, {} updated, {} moved, {} removed, {} could not be read",
        r.added, r.updated, r.moved, r.removed, r.errors
    );
    for issue in r.error_list.iter().take(20) {
        println!("  ! {}: {}", issue.path, issue.reason);
    }
    if r.error_list.len() > 20 {
        println!("  … and {} more (see scan --json)", r.errors - 20);
    }
}
