//! What the benchmark programs share: the real server (the `mediastreamer` binary next to
//! them) started on generated music folders in a work folder, with an admin `bench`/`benchpw`,
//! and its memory read from /proc.

// Not every benchmark takes `--material` (scrobble-bench's library only needs to exist).
#[allow(dead_code)]
pub mod material;

use anyhow::{Context, bail};
use mediastreamer::synth::{LibrarySpec, generate_library};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server under measurement; killed when dropped, and its work folder removed unless
/// the caller asked to keep it.
pub struct BenchServer {
    pub port: u16,
    pub pid: u32,
    /// The work folder: `library/`, `config.toml`, `bench.db`.
    work: PathBuf,
    keep: bool,
    process: Child,
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.work);
        }
    }
}

impl BenchServer {
    /// Waits until the start-up scan has cataloged `tracks` tracks; `status` asks
    /// getScanStatus (None when the server does not answer yet).
    pub fn wait_for_scan(
        &self,
        tracks: usize,
        status: impl Fn(u16) -> Option<serde_json::Value>,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            if let Some(r) = status(self.port)
                && r["scanStatus"]["scanning"] == false
                && r["scanStatus"]["count"].as_u64() == Some(tracks as u64)
            {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(600) {
                bail!("the server did not finish its start-up scan");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Generates one music folder per spec of `libraries` in the work folder (`keep`, or a
/// temporary folder named after `bench`) unless they are there already, writes a config (plus
/// `extra_config` lines), adds the admin and starts the server. The start-up scan is still
/// running on return.
pub fn start(
    bench: &str,
    keep: Option<&Path>,
    libraries: &[LibrarySpec],
    extra_config: &str,
) -> anyhow::Result<BenchServer> {
    let binary = std::env::current_exe()?
        .parent()
        .context("no parent folder")?
        .join("mediastreamer");
    start_binary(&binary, bench, keep, libraries, extra_config)
}

/// `start` with another server binary (an older build, to compare in the same session).
pub fn start_binary(
    binary: &Path,
    bench: &str,
    keep: Option<&Path>,
    libraries: &[LibrarySpec],
    extra_config: &str,
) -> anyhow::Result<BenchServer> {
    if !binary.is_file() {
        bail!(
            "{} not found: run `cargo build --release --features synth` first",
            binary.display()
        );
    }
    let work: PathBuf = match keep {
        Some(dir) => dir.to_path_buf(),
        None => std::env::temp_dir().join(format!("{bench}-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work)?;
    let mut folders = Vec::new();
    for (i, spec) in libraries.iter().enumerate() {
        let music = work.join(format!("library-{}", i + 1));
        if !music.exists() {
            eprintln!("generating {} tracks in {}…", spec.tracks, music.display());
            generate_library(&music, spec)?;
        }
        folders.push(format!("{music:?}"));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = work.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\naddress = \"127.0.0.1:{port}\"\n[library]\nfolders = [{}]\n[database]\npath = {:?}\n[scan]\nschedule = \"\"\nwatch = false\n[log]\nlevel = \"warn\"\n{extra_config}",
            folders.join(", "),
            work.join("bench.db")
        ),
    )?;
    let _ = Command::new(binary)
        .arg("--config")
        .arg(&config)
        .args(["user", "add", "bench", "--password", "benchpw", "--admin"])
        .output()?;
    let process = Command::new(binary)
        .arg("--config")
        .arg(&config)
        // Loudness analysis of the generated library would share the CPU with the requests
        // measured (loudness-bench measures it on its own).
        .env("MEDIASTREAMER_LOUDNESS__ENABLED", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(BenchServer {
        port,
        pid: process.id(),
        work,
        keep: keep.is_some(),
        process,
    })
}

/// A field of /proc/PID/status (`VmRSS:`, `VmHWM:`) in MiB.
pub fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
