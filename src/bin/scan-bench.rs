//! Scan benchmark: times the `mediastreamer` binary scanning a synthetic library.
//!
//! Generates N tracks with `mediastreamer::synth`, then runs `mediastreamer --config CFG scan
//! --json` as a child process: a first full scan, a rescan with nothing changed, and rescans
//! after adding, deleting, retagging and moving K files; with `--cold`, a full scan after the
//! page cache was dropped. Prints a table and one JSON line.
//! `--material small` (the default, quick) copies tiny templates; `--material real` writes
//! files of real sizes with real-sized pictures (see `synth::RealMaterial`). Either way the
//! bench first times reading every file's head and tail with two threads: the floor a scan
//! cannot beat on this machine.
//! `--library DIR` scans an existing library instead (full scan and no-change rescans only;
//! DIR is never modified), e.g. the 1M-track one. `--watch` then starts the server with its
//! watcher and times how long a file added to a watched folder takes to show in search3.
//! Needs the release binary next to this one: `cargo build --release --features synth`.

use std::fs;
use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use clap::Parser;
use lofty::config::WriteOptions;
use lofty::file::TaggedFileExt;
use lofty::tag::{Accessor, TagExt};
use mediastreamer::synth::generate_library;

#[path = "common/material.rs"]
mod material;
use material::MaterialArgs;
use serde_json::{Value, json};

/// Time `mediastreamer scan` on a generated library: full scan, no-op rescan, incremental
/// rescans, peak memory.
#[derive(Parser)]
struct Args {
    /// Tracks in the generated library.
    #[arg(long, default_value_t = 20_000)]
    tracks: usize,
    /// Files added, deleted, retagged and moved (each) for the incremental rescans.
    #[arg(long, default_value_t = 100)]
    changes: usize,
    /// Library generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Work in DIR (must be empty or missing) and keep library, database, config and logs.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    #[command(flatten)]
    material: MaterialArgs,
    /// Also drop the page cache (needs root) and time a cold full scan, a cold no-change
    /// rescan and a cold floor.
    #[arg(long)]
    cold: bool,
    /// Scan this existing library instead of generating one: full scan and no-change rescans
    /// only (`--tracks`, `--changes` and the material options are ignored); DIR is never
    /// written to.
    #[arg(long, value_name = "DIR")]
    library: Option<PathBuf>,
    /// Finally start the server with its file watcher and time how long a file added to a
    /// watched folder takes to be found by search3 (in an album folder of a generated
    /// library; in a second, empty music folder with `--library`).
    #[arg(long)]
    watch: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = server_binary()?;
    let work = WorkDir::create(args.keep.clone())?;
    let report = run(&args, &binary, &work.path)?;
    report.print(&binary, &work);
    Ok(())
}

/// The `mediastreamer` binary next to this one (target/release/ for a release build).
fn server_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating scan-bench")?;
    let binary = exe.with_file_name("mediastreamer");
    if !binary.is_file() {
        bail!(
            "{} not found: build it first with `cargo build --release --features synth` \
             (and run target/release/scan-bench)",
            binary.display()
        );
    }
    Ok(binary)
}

/// The benchmark's folder; removed on exit unless the user asked to keep it.
struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    fn create(keep: Option<PathBuf>) -> anyhow::Result<Self> {
        let (path, kept) = match keep {
            Some(dir) => (dir, true),
            None => (
                std::env::temp_dir().join(format!("scan-bench-{}", std::process::id())),
                false,
            ),
        };
        if path.exists() && fs::read_dir(&path)?.next().is_some() {
            bail!("{} is not empty", path.display());
        }
        fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        // The config file needs absolute paths.
        let path = path.canonicalize()?;
        Ok(Self { path, keep: kept })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Counts a step's scan is expected to report.
#[derive(Default)]
struct Expect {
    tracks: u64,
    added: u64,
    updated: u64,
    moved: u64,
    removed: u64,
}

/// One timed scan.
struct Step {
    name: String,
    wall_seconds: f64,
    summary: Summary,
    max_rss_kib: u64,
}

/// The fields of `scan --json` that the benchmark reads.
#[derive(Default)]
struct Summary {
    tracks: u64,
    albums: u64,
    artists: u64,
    added: u64,
    updated: u64,
    moved: u64,
    removed: u64,
    errors: u64,
    seconds: Option<f64>,
    first_errors: Vec<String>,
}

struct Report {
    material: String,
    library_bytes: u64,
    library_stored_bytes: u64,
    /// Files per second reading heads and tails, page cache warm and cold.
    warm_floor: f64,
    cold_floor: Option<f64>,
    tracks: usize,
    changes: usize,
    albums: usize,
    artists: usize,
    generate_seconds: f64,
    steps: Vec<Step>,
    watch: Option<WatchTiming>,
    warnings: Vec<String>,
}

/// The watcher step: server start-up (watches set up) and the added file's latency.
struct WatchTiming {
    startup_seconds: f64,
    visible_seconds: f64,
}

fn run(args: &Args, binary: &Path, work: &Path) -> anyhow::Result<Report> {
    // With `--library`, the watcher step adds its file to a second music folder of its own.
    let (library, drop_folder) = match &args.library {
        Some(dir) => (
            dir.canonicalize()
                .with_context(|| format!("opening {}", dir.display()))?,
            Some(work.join("watched")),
        ),
        None => (work.join("library"), None),
    };
    let mut folders = vec![library.clone()];
    if let Some(drop_folder) = &drop_folder {
        fs::create_dir_all(drop_folder)?;
        folders.push(drop_folder.clone());
    }
    let config = write_config(work, &folders, None)?;
    let library_spec = |tracks, seed| args.material.library(tracks, seed);

    let started = Instant::now();
    let generated = match &args.library {
        Some(_) => None,
        None => Some(
            generate_library(&library, &library_spec(args.tracks, args.seed)?)
                .context("generating the library")?,
        ),
    };
    let generate_seconds = started.elapsed().as_secs_f64();
    let files = audio_files(&library)?;
    match &generated {
        Some(generated) => {
            eprintln!(
                "generated {} tracks in {generate_seconds:.1} s",
                generated.tracks
            );
            ensure!(
                files.len() == generated.tracks,
                "found {} audio files, generated {}",
                files.len(),
                generated.tracks
            );
        }
        None => eprintln!("{}: {} audio files", library.display(), files.len()),
    }
    let tracks = files.len();
    let size = library_size(&files)?;
    // The first pass warms the page cache; the second is the warm floor.
    read_heads_and_tails(&files)?;
    let warm_floor = read_heads_and_tails(&files)?;

    let mut bench = Bench {
        binary,
        config: &config,
        logs: work,
        steps: Vec::new(),
        warnings: Vec::new(),
    };
    let n = tracks as u64;
    let k = args.changes as u64;
    bench.scan(
        "full scan",
        Expect {
            tracks: n,
            added: n,
            ..Expect::default()
        },
    )?;
    bench.scan(
        "rescan, no change",
        Expect {
            tracks: n,
            ..Expect::default()
        },
    )?;

    if args.changes > 0 && generated.is_some() {
        ensure!(
            files.len() >= 3 * args.changes,
            "--changes {} needs at least {} tracks",
            args.changes,
            3 * args.changes
        );
        // Three disjoint sets spread over the whole library.
        let picks = 3 * args.changes;
        let files = &files;
        let pick = |set: usize| {
            (0..args.changes)
                .map(|j| files[(3 * j + set) * files.len() / picks].clone())
                .collect::<Vec<_>>()
        };
        let (deleted, moved) = (pick(0), pick(2));
        // lofty writes no WMA or DSD tags: retag files of the other formats, spread the same
        // way over what the other two sets left.
        let retaggable: Vec<&PathBuf> = files
            .iter()
            .filter(|f| !deleted.contains(f) && !moved.contains(f))
            .filter(|f| {
                !matches!(
                    f.extension().and_then(|e| e.to_str()),
                    Some("wma" | "dsf" | "dff")
                )
            })
            .collect();
        let retagged: Vec<PathBuf> = (0..args.changes)
            .map(|j| retaggable[j * retaggable.len() / args.changes].clone())
            .collect();

        generate_library(
            &library.join("Added by scan-bench"),
            &library_spec(args.changes, args.seed.wrapping_add(1))?,
        )
        .context("generating added tracks")?;
        bench.scan(
            &format!("add {k}"),
            Expect {
                tracks: n + k,
                added: k,
                ..Expect::default()
            },
        )?;

        for path in &deleted {
            fs::remove_file(path).with_context(|| format!("deleting {}", path.display()))?;
        }
        bench.scan(
            &format!("delete {k}"),
            Expect {
                tracks: n,
                removed: k,
                ..Expect::default()
            },
        )?;

        for path in &retagged {
            retag(path).with_context(|| format!("retagging {}", path.display()))?;
        }
        bench.scan(
            &format!("retag {k}"),
            Expect {
                tracks: n,
                updated: k,
                ..Expect::default()
            },
        )?;

        let moved_dir = library.join("Moved by scan-bench");
        fs::create_dir_all(&moved_dir)?;
        for (i, path) in moved.iter().enumerate() {
            let name = path.file_name().context("file without a name")?;
            // Numbered: different albums may hold files with the same name.
            let dest = moved_dir.join(format!("{i:05} {}", name.to_string_lossy()));
            fs::rename(path, &dest).with_context(|| format!("moving {}", path.display()))?;
        }
        bench.scan(
            &format!("move {k}"),
            Expect {
                tracks: n,
                moved: k,
                ..Expect::default()
            },
        )?;
    }

    let mut cold_floor = None;
    if args.cold {
        match drop_page_cache() {
            Ok(()) => {
                cold_floor = Some(read_heads_and_tails(&audio_files(&library)?)?);
                for suffix in ["", "-wal", "-shm"] {
                    let _ = fs::remove_file(work.join(format!("bench.db{suffix}")));
                }
                drop_page_cache()?;
                bench.scan(
                    "full scan, cold",
                    Expect {
                        tracks: n,
                        added: n,
                        ..Expect::default()
                    },
                )?;
                drop_page_cache()?;
                bench.scan(
                    "rescan, no change, cold",
                    Expect {
                        tracks: n,
                        ..Expect::default()
                    },
                )?;
            }
            Err(e) => bench.warnings.push(format!(
                "cold steps skipped: cannot drop the page cache: {e:#}"
            )),
        }
    }

    let watch = if args.watch {
        eprintln!("watcher…");
        let target = match &drop_folder {
            Some(folder) => folder.clone(),
            None => files
                .first()
                .and_then(|f| f.parent())
                .context("no album folder")?
                .to_path_buf(),
        };
        Some(time_watcher(binary, work, &folders, &target)?)
    } else {
        None
    };

    let first = bench.steps.first().map(|s| &s.summary);
    Ok(Report {
        material: match &args.library {
            Some(dir) => format!("existing library {}", dir.display()),
            None => args.material.describe().to_owned(),
        },
        library_bytes: size.apparent,
        library_stored_bytes: size.stored,
        warm_floor,
        cold_floor,
        tracks,
        changes: if generated.is_some() { args.changes } else { 0 },
        albums: generated
            .as_ref()
            .map_or(first.map_or(0, |s| s.albums as usize), |g| g.albums),
        artists: generated
            .as_ref()
            .map_or(first.map_or(0, |s| s.artists as usize), |g| g.artists),
        generate_seconds,
        watch,
        steps: bench.steps,
        warnings: bench.warnings,
    })
}

/// The server killed when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server with its watcher on the scanned catalog, waits until it answers (its
/// watches are set up before it serves), then moves a new MP3 into `target` and polls search3
/// for its title every 20 ms.
fn time_watcher(
    binary: &Path,
    work: &Path,
    folders: &[PathBuf],
    target: &Path,
) -> anyhow::Result<WatchTiming> {
    use mediastreamer::synth::{Format, TrackSpec, tagged_bytes};
    use std::time::Duration;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = write_config(work, folders, Some(port))?;
    let added = Command::new(binary)
        .arg("--config")
        .arg(&config)
        .args(["user", "add", "bench", "--password", "benchpw", "--admin"])
        .output()?;
    ensure!(
        added.status.success(),
        "adding the bench user: {}",
        String::from_utf8_lossy(&added.stderr)
    );
    let log = fs::File::create(work.join("watch-server.log"))?;
    let started = Instant::now();
    let _server = Server(
        Command::new(binary)
            .arg("--config")
            .arg(&config)
            .env("MEDIASTREAMER_LOUDNESS__ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?,
    );
    let call = |method: &str, query: &str| -> Option<Value> {
        let url = format!(
            "http://127.0.0.1:{port}/rest/{method}?u=bench&p=benchpw&v=1.16.1&c=scan-bench&f=json&{query}"
        );
        let mut response = ureq::get(&url).call().ok()?;
        let body = response.body_mut().read_to_string().ok()?;
        serde_json::from_str(&body).ok()
    };
    while call("ping", "").is_none() {
        ensure!(
            started.elapsed() < Duration::from_secs(900),
            "the server did not answer within 15 minutes"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let startup_seconds = started.elapsed().as_secs_f64();

    let title = format!("Watchbench{}", std::process::id());
    let spec = TrackSpec {
        title: title.clone(),
        artist: "Scan Bench".into(),
        album: "Watched by scan-bench".into(),
        ..TrackSpec::default()
    };
    // Written beside, then moved in: the watcher sees one complete file appear.
    let staged = work.join(format!("{title}.mp3"));
    fs::write(&staged, tagged_bytes(Format::Mp3, &spec)?)?;
    let added_at = Instant::now();
    fs::rename(&staged, target.join(format!("{title}.mp3")))?;
    let query = format!("query={title}&songCount=1&albumCount=0&artistCount=0");
    loop {
        let found = call("search3", &query).is_some_and(|r| {
            r["subsonic-response"]["searchResult3"]["song"]
                .as_array()
                .is_some_and(|songs| !songs.is_empty())
        });
        if found {
            break;
        }
        ensure!(
            added_at.elapsed() < Duration::from_secs(120),
            "the added file did not show in search3 within 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(WatchTiming {
        startup_seconds,
        visible_seconds: added_at.elapsed().as_secs_f64(),
    })
}

/// The scans' config (`config.toml`), or with a port the watcher step's (`watch.toml`).
fn write_config(
    work: &Path,
    folders: &[PathBuf],
    watch_port: Option<u16>,
) -> anyhow::Result<PathBuf> {
    let toml_string = |path: &Path| -> anyhow::Result<String> {
        let text = path.to_str().context("the work folder path is not UTF-8")?;
        Ok(toml::Value::String(text.to_owned()).to_string())
    };
    let folders = folders
        .iter()
        .map(|f| toml_string(f))
        .collect::<anyhow::Result<Vec<_>>>()?
        .join(", ");
    let config = format!(
        "[server]\naddress = \"127.0.0.1:{}\"\n\n\
         [library]\nfolders = [{folders}]\n\n\
         [database]\npath = {}\n\n\
         [scan]\nschedule = \"\"\non_startup = false\nwatch = {}\n\n\
         [log]\nlevel = \"info\"\n",
        watch_port.unwrap_or(0),
        toml_string(&work.join("bench.db"))?,
        watch_port.is_some()
    );
    let path = work.join(if watch_port.is_some() {
        "watch.toml"
    } else {
        "config.toml"
    });
    fs::write(&path, config)?;
    Ok(path)
}

/// Every file under `root` the scanner reads as audio, sorted.
fn audio_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    use mediastreamer::scanner::walk::{AUDIO_EXTENSIONS, extension};
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                dirs.push(path);
            } else if path
                .file_name()
                .and_then(|n| extension(n.to_str()?))
                .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.as_str()))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Bytes of the library as its files' sizes say, and as stored on disk.
struct LibrarySize {
    apparent: u64,
    stored: u64,
}

fn library_size(files: &[PathBuf]) -> anyhow::Result<LibrarySize> {
    use std::os::unix::fs::MetadataExt;
    let mut size = LibrarySize {
        apparent: 0,
        stored: 0,
    };
    for path in files {
        let meta = fs::metadata(path)?;
        size.apparent += meta.len();
        size.stored += meta.blocks() * 512;
    }
    Ok(size)
}

/// Bytes read at each end of a file by [`read_heads_and_tails`]: what a tag reader needs for
/// most files (tags, the first frames, end tags), not counting large embedded pictures.
const FLOOR_READ: u64 = 64 * 1024;

/// Reads the first and last [`FLOOR_READ`] bytes of every file with two threads and returns
/// files per second: the floor of a scan on this machine.
fn read_heads_and_tails(files: &[PathBuf]) -> anyhow::Result<f64> {
    use std::io::{Seek, SeekFrom};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    let mut buffer = vec![0; FLOOR_READ as usize];
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let mut file = fs::File::open(path)?;
                        let len = file.metadata()?.len();
                        let head = file.read(&mut buffer)?;
                        if len > FLOOR_READ + head as u64 {
                            file.seek(SeekFrom::Start(len - FLOOR_READ))?;
                            file.read_exact(&mut buffer)?;
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("reader thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(files.len() as f64 / started.elapsed().as_secs_f64())
}

/// Writes back dirty pages and drops the page cache (root only).
fn drop_page_cache() -> anyhow::Result<()> {
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
    fs::write("/proc/sys/vm/drop_caches", "3").context("writing /proc/sys/vm/drop_caches")
}

/// Changes the title, so the file's tags, size and mtime all change.
fn retag(path: &Path) -> anyhow::Result<()> {
    let mut file = lofty::read_from_path(path)?;
    let tag = file.primary_tag_mut().context("no tag")?;
    let title = tag.title().unwrap_or_default().into_owned();
    tag.set_title(format!("{title} (retagged by scan-bench)"));
    tag.save_to_path(path, WriteOptions::default())?;
    Ok(())
}

struct Bench<'a> {
    binary: &'a Path,
    config: &'a Path,
    logs: &'a Path,
    steps: Vec<Step>,
    warnings: Vec<String>,
}

impl Bench<'_> {
    /// Runs one scan, records its numbers and warns where the counts differ from `expect`.
    fn scan(&mut self, name: &str, expect: Expect) -> anyhow::Result<()> {
        eprintln!("{name}…");
        let log_path = self.logs.join(format!("scan-{}.log", self.steps.len() + 1));
        let log = fs::File::create(&log_path)?;
        let started = Instant::now();
        let mut child = Command::new(self.binary)
            .arg("--config")
            .arg(self.config)
            .args(["scan", "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let pid = child.id();
        let running = std::sync::atomic::AtomicBool::new(true);
        let (stdout, status, max_rss_kib) = std::thread::scope(|scope| -> anyhow::Result<_> {
            // The peak is read from the child's own /proc entry while it runs: the kernel's
            // ru_maxrss of a child spawned with vfork semantics starts from this process's
            // peak, which the real material's templates make large.
            let peak = scope.spawn(|| {
                let mut peak = 0;
                while running.load(std::sync::atomic::Ordering::Relaxed) {
                    peak = peak.max(peak_rss_kib(pid));
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                peak
            });
            let mut stdout = String::new();
            let read = child
                .stdout
                .take()
                .context("child stdout")
                .and_then(|mut out| Ok(out.read_to_string(&mut stdout)?));
            // Before reaping: a zombie's /proc entry has no memory figures.
            std::thread::sleep(std::time::Duration::from_millis(20));
            running.store(false, std::sync::atomic::Ordering::Relaxed);
            let peak = peak.join().unwrap_or(0);
            read?;
            let status = wait_for(pid)?;
            Ok((stdout, status, peak))
        })?;
        let wall_seconds = started.elapsed().as_secs_f64();
        if !status.success() {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            bail!(
                "{name}: mediastreamer {status}; last lines of {}:\n{}",
                log_path.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        let summary = parse_summary(&stdout)
            .with_context(|| format!("{name}: no JSON summary on stdout: {stdout:?}"))?;

        let checks = [
            ("tracks", summary.tracks, expect.tracks),
            ("added", summary.added, expect.added),
            ("updated", summary.updated, expect.updated),
            ("moved", summary.moved, expect.moved),
            ("removed", summary.removed, expect.removed),
            ("errors", summary.errors, 0),
        ];
        for (field, got, want) in checks {
            if got != want {
                self.warnings
                    .push(format!("{name}: {field} = {got}, expected {want}"));
            }
        }
        for error in &summary.first_errors {
            self.warnings.push(format!("{name}: scan error: {error}"));
        }
        self.steps.push(Step {
            name: name.to_owned(),
            wall_seconds,
            summary,
            max_rss_kib,
        });
        Ok(())
    }
}

/// Waits for the child and returns its exit status.
fn wait_for(pid: u32) -> anyhow::Result<ExitStatus> {
    let pid = libc::pid_t::try_from(pid)?;
    let mut status = 0;
    loop {
        // SAFETY: the out-pointer is valid for writes for the duration of the call.
        let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
        if reaped == pid {
            return Ok(ExitStatus::from_raw(status));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error).context("waiting for mediastreamer");
        }
    }
}

/// The peak resident memory (VmHWM) of a running process in KiB; 0 once it has exited.
fn peak_rss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// The last stdout line that is a JSON object (the contract says there is exactly one).
fn parse_summary(stdout: &str) -> Option<Summary> {
    let value: Value = stdout
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .find(Value::is_object)?;
    let count = |key: &str| value.get(key).and_then(Value::as_u64).unwrap_or(0);
    let first_errors = value
        .get("error_list")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .take(5)
                .map(|e| {
                    let field = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("?");
                    format!("{}: {}", field("path"), field("reason"))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Summary {
        tracks: count("tracks"),
        albums: count("albums"),
        artists: count("artists"),
        added: count("added"),
        updated: count("updated"),
        moved: count("moved"),
        removed: count("removed"),
        errors: count("errors"),
        seconds: value.get("seconds").and_then(Value::as_f64),
        first_errors,
    })
}

impl Report {
    fn print(&self, binary: &Path, work: &WorkDir) {
        println!(
            "scan-bench: {} tracks ({} albums, {} artists) generated in {:.1} s, \
             {} changes per step, {}",
            self.tracks,
            self.albums,
            self.artists,
            self.generate_seconds,
            self.changes,
            binary.display()
        );
        println!(
            "material: {}; {:.2} GB by file size, {:.2} GB stored; heads and tails read at \
             {:.0} files/s warm{}",
            self.material,
            self.library_bytes as f64 / 1e9,
            self.library_stored_bytes as f64 / 1e9,
            self.warm_floor,
            self.cold_floor
                .map_or(String::new(), |f| format!(", {f:.0} files/s cold"))
        );
        println!(
            "{:<20} {:>8} {:>8} {:>9} {:>7} {:>7} {:>6} {:>7} {:>6} {:>7} {:>7} {:>8} {:>8}",
            "step",
            "wall s",
            "scan s",
            "tracks/s",
            "added",
            "updated",
            "moved",
            "removed",
            "errors",
            "tracks",
            "albums",
            "artists",
            "RSS MiB"
        );
        for step in &self.steps {
            let s = &step.summary;
            println!(
                "{:<20} {:>8.2} {:>8} {:>9.0} {:>7} {:>7} {:>6} {:>7} {:>6} {:>7} {:>7} {:>8} {:>8.1}",
                step.name,
                step.wall_seconds,
                s.seconds.map_or("-".to_owned(), |v| format!("{v:.2}")),
                s.tracks as f64 / step.wall_seconds,
                s.added,
                s.updated,
                s.moved,
                s.removed,
                s.errors,
                s.tracks,
                s.albums,
                s.artists,
                mib(step.max_rss_kib)
            );
        }
        for (step, floor) in [
            ("full scan", Some(self.warm_floor)),
            ("full scan, cold", self.cold_floor),
        ] {
            if let (Some(s), Some(floor)) = (self.steps.iter().find(|s| s.name == step), floor) {
                let rate = s.summary.tracks as f64 / s.wall_seconds;
                println!(
                    "{step}: {rate:.0} tracks/s, {:.0} % of the floor",
                    100.0 * rate / floor
                );
            }
        }
        if let Some(w) = &self.watch {
            println!(
                "watcher: server answered {:.1} s after start (watches set up); an added file \
                 showed in search3 after {:.2} s",
                w.startup_seconds, w.visible_seconds
            );
        }
        for warning in &self.warnings {
            println!("warning: {warning}");
        }
        if work.keep {
            println!("kept: {}", work.path.display());
        }
        println!("{}", self.json());
    }

    fn json(&self) -> Value {
        let seconds = |prefix: &str| {
            self.steps
                .iter()
                .find(|s| s.name.starts_with(prefix))
                .map(|s| s.wall_seconds)
        };
        let full = seconds("full scan");
        let cold = self
            .steps
            .iter()
            .find(|s| s.name == "full scan, cold")
            .map(|s| s.wall_seconds);
        json!({
            "bench": "scan",
            "material": self.material,
            "library_bytes": self.library_bytes,
            "library_stored_bytes": self.library_stored_bytes,
            "floor_files_per_second_warm": self.warm_floor,
            "floor_files_per_second_cold": self.cold_floor,
            "cold_full_scan_seconds": cold,
            "cold_full_scan_tracks_per_second": cold.map(|s| self.tracks as f64 / s),
            "tracks": self.tracks,
            "changes": self.changes,
            "generate_seconds": self.generate_seconds,
            "full_scan_seconds": full,
            "full_scan_tracks_per_second": full.map(|s| self.tracks as f64 / s),
            "noop_rescan_seconds": seconds("rescan"),
            "add_seconds": seconds("add"),
            "delete_seconds": seconds("delete"),
            "retag_seconds": seconds("retag"),
            "move_seconds": seconds("move"),
            "noop_rescan_cold_seconds": self
                .steps
                .iter()
                .find(|s| s.name == "rescan, no change, cold")
                .map(|s| s.wall_seconds),
            "watch_startup_seconds": self.watch.as_ref().map(|w| w.startup_seconds),
            "watch_visible_seconds": self.watch.as_ref().map(|w| w.visible_seconds),
            "peak_rss_mib": mib(self.steps.iter().map(|s| s.max_rss_kib).max().unwrap_or(0)),
            "warnings": self.warnings.len(),
        })
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
