//! API benchmark: starts the real server (the `mediastreamer` binary next to this one) on two
//! generated music folders and measures, for an admin and for a non-admin user who sees only
//! the first folder: request latency over one keep-alive connection (p50, p95) with distinct
//! ids per request, a whole-library sync through search3 pages of 500, then 200 concurrent
//! clients (requests/s, p50/p99, errors, the server's peak RSS), and idle memory. Before
//! measuring, both users star, rate and play songs and albums, so the starred, highest,
//! frequent and recent lists have real content.
//! Needs a release build:
//! `cargo build --release --features synth && ./target/release/api-bench --tracks 20000`
//! (`--material real` for files of real sizes; see README "Benchmarks").

use anyhow::{Context, bail};
use clap::Parser;

mod common;
use common::material::MaterialArgs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Time Subsonic API calls against a generated library.
#[derive(Parser)]
struct Args {
    /// Tracks in the generated library (three quarters in the first music folder, the rest in
    /// the second).
    #[arg(long, default_value_t = 20_000)]
    tracks: usize,
    /// Requests per measured call.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Concurrent clients in the load test.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Keep the work folder here instead of a temporary one. Run again with the same folder,
    /// the server reuses its database (a rescan that finds no change) and the users' stars,
    /// ratings and plays (made once).
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Measure an existing library instead of generating one (with `--keep`): its top-level
    /// entries are linked into two music folders in the work folder, the first three quarters
    /// (by name) in the first and the rest in the second; `--tracks` is ignored.
    #[arg(long, value_name = "DIR", requires = "keep")]
    library: Option<PathBuf>,
    /// The server binary to measure (default: `mediastreamer` beside this program), e.g. an
    /// older build, to compare two builds in the same session.
    #[arg(long, value_name = "BIN")]
    server: Option<PathBuf>,
    /// Skip the concurrent clients' phase.
    #[arg(long)]
    no_load: bool,
    /// Most stars, ratings and plays of each kind per user (at a million tracks the shares
    /// below would mean half a million calls).
    #[arg(long, default_value_t = usize::MAX)]
    max_annotations: usize,
    #[command(flatten)]
    material: MaterialArgs,
}

const ADMIN: &str = "u=bench&p=benchpw";
const LISTENER: &str = "u=listener&p=listenerpw";
const COMMON_PARAMS: &str = "v=1.16.1&c=api-bench&f=json";

/// One keep-alive HTTP/1.1 connection, calling as one user.
struct Conn {
    reader: BufReader<TcpStream>,
    user: &'static str,
    port: u16,
}

fn connect(port: u16) -> anyhow::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    Ok(BufReader::new(stream))
}

impl Conn {
    fn open(port: u16, user: &'static str) -> anyhow::Result<Self> {
        Ok(Self {
            reader: connect(port)?,
            user,
            port,
        })
    }

    /// GETs `path`; returns (status, body). A connection the server closed while it sat idle
    /// (its keep-alive timeout, while the other user was measured) or timed out before its
    /// first request is opened again once.
    fn get(&mut self, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        let mut line = String::new();
        let sent = self.reader.get_mut().write_all(req.as_bytes());
        // A connection opened long before its first request was answered 408 and closed.
        if sent.is_err()
            || self.reader.read_line(&mut line).unwrap_or(0) == 0
            || line.split_whitespace().nth(1) == Some("408")
        {
            self.reader = connect(self.port)?;
            self.reader.get_mut().write_all(req.as_bytes())?;
            line.clear();
            self.reader.read_line(&mut line)?;
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("bad status line")?;
        let mut length = None;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse::<usize>().ok();
            }
        }
        let Some(length) = length else {
            bail!("response without Content-Length");
        };
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }

    fn stream(&mut self, id: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        self.get(&format!(
            "/rest/stream?{}&{COMMON_PARAMS}&id={id}",
            self.user
        ))
    }

    /// GETs a Subsonic call and checks it succeeded; returns the parsed response.
    fn call(&mut self, method: &str, query: &str) -> anyhow::Result<serde_json::Value> {
        let (status, body) = self.get(&self.path(method, query))?;
        Self::answer(method, query, status, &body)
    }

    fn path(&self, method: &str, query: &str) -> String {
        format!("/rest/{method}?{}&{COMMON_PARAMS}&{query}", self.user)
    }

    /// The `subsonic-response` of an answer, or why it is not a success.
    fn answer(
        method: &str,
        query: &str,
        status: u16,
        body: &[u8],
    ) -> anyhow::Result<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_slice(body).with_context(|| {
            format!(
                "{method}?{query}: HTTP {status}: {}",
                String::from_utf8_lossy(body)
            )
        })?;
        let r = v["subsonic-response"].clone();
        if status != 200 || r["status"] != "ok" {
            bail!("{method}?{query}: HTTP {status}: {r}");
        }
        Ok(r)
    }

    /// GETs a Subsonic call and tells whether it succeeded, from the envelope's first bytes
    /// only: the load phase shares the server's two cores, so it does not parse whole answers.
    fn call_succeeds(&mut self, method: &str, query: &str) -> bool {
        let Ok((status, body)) = self.get(&self.path(method, query)) else {
            return false;
        };
        let head = &body[..body.len().min(64)];
        status == 200 && head.windows(13).any(|w| w == br#""status":"ok""#)
    }

    /// The ids of every song this user sees, through search3 pages of 500; and the seconds
    /// it took (the whole-library sync Symfonium does).
    fn sync(&mut self) -> anyhow::Result<(Vec<String>, f64)> {
        let start = Instant::now();
        let mut ids = Vec::new();
        loop {
            let r = self.call(
                "search3",
                &format!(
                    "query=&songCount=500&songOffset={}&albumCount=0&artistCount=0",
                    ids.len()
                ),
            )?;
            let page = r["searchResult3"]["song"].as_array().cloned();
            let page = page.unwrap_or_default();
            ids.extend(
                page.iter()
                    .filter_map(|s| s["id"].as_str().map(str::to_string)),
            );
            if page.len() < 500 {
                break;
            }
        }
        Ok((ids, start.elapsed().as_secs_f64()))
    }

    /// The ids of every album this user sees.
    fn albums(&mut self) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::new();
        loop {
            let r = self.call(
                "getAlbumList2",
                &format!("type=alphabeticalByName&size=500&offset={}", ids.len()),
            )?;
            let page = r["albumList2"]["album"].as_array().cloned();
            let page = page.unwrap_or_default();
            ids.extend(
                page.iter()
                    .filter_map(|a| a["id"].as_str().map(str::to_string)),
            );
            if page.len() < 500 {
                break;
            }
        }
        Ok(ids)
    }
}

/// splitmix64, for choices that are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// What one user did before the measurement.
#[derive(Default)]
struct Annotated {
    starred: usize,
    rated: usize,
    plays: usize,
}

/// Stars 5 % of the songs and 10 % of the albums, rates 10 % of the songs and 5 % of the
/// albums, and plays 15 % of the songs (a few of them many times), as `conn`'s user.
fn annotate(
    conn: &mut Conn,
    songs: &[String],
    albums: &[String],
    seed: u64,
    most: usize,
) -> anyhow::Result<Annotated> {
    let mut rng = Rng(seed);
    let mut done = Annotated::default();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let now_ms = now.as_millis() as u64;
    for _ in 0..(songs.len() / 20).min(most) {
        conn.call("star", &format!("id={}", songs[rng.below(songs.len())]))?;
        done.starred += 1;
    }
    for _ in 0..(albums.len() / 10).min(most) {
        conn.call(
            "star",
            &format!("albumId={}", albums[rng.below(albums.len())]),
        )?;
        done.starred += 1;
    }
    for (list, share) in [(songs, 10), (albums, 20)] {
        for _ in 0..(list.len() / share).min(most) {
            let rating = 1 + rng.below(5);
            let id = &list[rng.below(list.len())];
            conn.call("setRating", &format!("id={id}&rating={rating}"))?;
            done.rated += 1;
        }
    }
    for _ in 0..(songs.len() * 15 / 100).min(most) {
        // A tenth of the plays go to a small set of favourites, as listening does.
        let id = if rng.below(10) == 0 {
            &songs[rng.below(songs.len().min(50))]
        } else {
            &songs[rng.below(songs.len())]
        };
        // Listened to at some time in the last 90 days.
        let time = now_ms - rng.below(90 * 24 * 3600) as u64 * 1000;
        conn.call("scrobble", &format!("id={id}&submission=true&time={time}"))?;
        done.plays += 1;
    }
    Ok(done)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn rss_mib(pid: u32) -> f64 {
    common::status_mib(pid, "VmRSS:")
}

/// One measured call: `queries` are used in turn, so each request asks for other ids.
struct Case {
    label: String,
    method: &'static str,
    queries: Vec<String>,
    target_ms: f64,
}

impl Case {
    fn new(label: impl Into<String>, method: &'static str, query: &str, target_ms: f64) -> Self {
        Self::rotating(label, method, vec![query.to_owned()], target_ms)
    }

    fn rotating(
        label: impl Into<String>,
        method: &'static str,
        queries: Vec<String>,
        target_ms: f64,
    ) -> Self {
        Self {
            label: label.into(),
            method,
            queries,
            target_ms,
        }
    }
}

/// The calls measured for a user who sees `songs` and `albums`.
fn cases(songs: &[String], albums: &[String]) -> Vec<Case> {
    // 200 distinct ids spread over the library.
    let spread = |ids: &[String], key: &str| -> Vec<String> {
        (0..200)
            .map(|i| format!("{key}={}", ids[i * ids.len() / 200]))
            .collect()
    };
    let deep = albums.len() * 4 / 5;
    let mut cases = vec![
        Case::new("getArtists", "getArtists", "", 20.0),
        Case::new("getIndexes", "getIndexes", "", 20.0),
        Case::new("getGenres", "getGenres", "", 20.0),
        Case::new(
            "search3 empty, 500",
            "search3",
            "query=&songCount=500&albumCount=0&artistCount=0",
            20.0,
        ),
        Case::rotating("getAlbum", "getAlbum", spread(albums, "id"), 5.0),
        Case::rotating("getSong", "getSong", spread(songs, "id"), 5.0),
        Case::rotating(
            "search3 word",
            "search3",
            ["silver", "midnight", "rivers", "golden", "harbor"]
                .map(|w| format!("query={w}"))
                .to_vec(),
            5.0,
        ),
        Case::new("getRandomSongs 50", "getRandomSongs", "size=50", 5.0),
        Case::new("getStarred2", "getStarred2", "", 20.0),
    ];
    for t in [
        "random",
        "newest",
        "highest",
        "frequent",
        "recent",
        "alphabeticalByName",
        "alphabeticalByArtist",
        "starred",
    ] {
        cases.push(Case::new(
            format!("getAlbumList2 {t} 500"),
            "getAlbumList2",
            &format!("type={t}&size=500"),
            20.0,
        ));
    }
    for t in ["alphabeticalByName", "alphabeticalByArtist"] {
        cases.push(Case::new(
            format!("getAlbumList2 {t} @{deep}"),
            "getAlbumList2",
            &format!("type={t}&size=500&offset={deep}"),
            20.0,
        ));
    }
    cases.push(Case::new(
        "getAlbumList2 byYear 500",
        "getAlbumList2",
        "type=byYear&fromYear=2020&toYear=1950&size=500",
        20.0,
    ));
    cases.push(Case::new(
        "getAlbumList2 byGenre 500",
        "getAlbumList2",
        "type=byGenre&genre=Rock&size=500",
        20.0,
    ));
    cases
}

/// p50 and p95 (ms) of `requests` calls of `case`: from the request to the answer's last
/// byte. Each answer is checked after its clock stops: parsing it is the client's time (at a
/// million tracks getArtists' 3 MB answer took this client ~40 ms to parse, more than the
/// server took to send it).
fn measure(conn: &mut Conn, case: &Case, requests: usize) -> anyhow::Result<(f64, f64)> {
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests {
        let query = &case.queries[i % case.queries.len()];
        let path = conn.path(case.method, query);
        let start = Instant::now();
        let (status, body) = conn.get(&path)?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        Conn::answer(case.method, query, status, &body)?;
    }
    times.sort_by(f64::total_cmp);
    Ok((percentile(&times, 0.5), percentile(&times, 0.95)))
}

/// What the concurrent phase measured.
struct Load {
    requests: usize,
    errors: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_rss_mib: f64,
}

/// `clients` connections at once (half admin, half listener), ten calls each, mixing list
/// calls and whole-file streams, while the server's RSS is sampled.
fn load(port: u16, pid: u32, clients: usize, songs: &[String]) -> Load {
    let sampling = AtomicBool::new(true);
    let start = Instant::now();
    let (results, peak_rss_mib) = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut peak = 0f64;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(rss_mib(pid));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        let handles: Vec<_> = (0..clients)
            .map(|i| {
                s.spawn(move || -> Vec<Option<f64>> {
                    let user = if i % 2 == 0 { ADMIN } else { LISTENER };
                    let Ok(mut c) = Conn::open(port, user) else {
                        return vec![None; 10];
                    };
                    let calls = [
                        ("getAlbumList2", "type=random&size=20"),
                        ("getArtists", ""),
                        ("search3", "query=the"),
                        ("stream", ""),
                        ("getRandomSongs", "size=10"),
                        ("getAlbumList2", "type=newest&size=50"),
                    ];
                    (0..10)
                        .map(|k| {
                            let started = Instant::now();
                            let ok = match calls[(i + k) % calls.len()] {
                                ("stream", _) => {
                                    // Songs both users see (the first folder's come first).
                                    let id = &songs[(i * 10 + k) % songs.len()];
                                    matches!(c.stream(id), Ok((200, body)) if !body.is_empty())
                                }
                                (m, q) => c.call_succeeds(m, q),
                            };
                            ok.then(|| started.elapsed().as_secs_f64() * 1000.0)
                        })
                        .collect()
                })
            })
            .collect();
        let results: Vec<Option<f64>> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|_| vec![None; 10]))
            .collect();
        sampling.store(false, Ordering::Relaxed);
        (results, sampler.join().unwrap_or(0.0))
    });
    let seconds = start.elapsed().as_secs_f64();
    let mut times: Vec<f64> = results.iter().flatten().copied().collect();
    times.sort_by(f64::total_cmp);
    Load {
        requests: results.len(),
        errors: results.iter().filter(|r| r.is_none()).count(),
        seconds,
        p50_ms: if times.is_empty() {
            0.0
        } else {
            percentile(&times, 0.5)
        },
        p99_ms: if times.is_empty() {
            0.0
        } else {
            percentile(&times, 0.99)
        },
        peak_rss_mib,
    }
}

/// Links the top-level entries of `library` into `work`'s two music folders (`library-1`:
/// the first three quarters by name, `library-2`: the rest) unless they exist already, so an
/// existing library is measured with two music folders without copying it.
fn link_library(library: &std::path::Path, work: &std::path::Path) -> anyhow::Result<()> {
    let folders = [work.join("library-1"), work.join("library-2")];
    if folders.iter().all(|f| f.is_dir()) {
        return Ok(());
    }
    let library = std::fs::canonicalize(library)?;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&library)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    let first = entries.len() * 3 / 4;
    for (i, folder) in folders.iter().enumerate() {
        let part = if i == 0 {
            &entries[..first]
        } else {
            &entries[first..]
        };
        let building = folder.with_extension("part");
        let _ = std::fs::remove_dir_all(&building);
        std::fs::create_dir_all(&building)?;
        for entry in part {
            let name = entry.file_name().context("entry without a name")?;
            std::os::unix::fs::symlink(entry, building.join(name))?;
        }
        std::fs::rename(&building, folder)?;
    }
    Ok(())
}

/// Waits for the end of the server's start-up scan of a library whose size is not known:
/// getScanInfo's `lastScan` is set once a scan has ended since the server started.
fn wait_for_startup_scan(port: u16) -> anyhow::Result<usize> {
    let start = Instant::now();
    loop {
        let info = Conn::open(port, ADMIN)
            .ok()
            .and_then(|mut c| c.call("getScanInfo", "").ok());
        if let Some(info) = info
            && info["scanInfo"]["scanning"] == false
            && !info["scanInfo"]["lastScan"].is_null()
        {
            return Ok(info["scanInfo"]["count"].as_u64().unwrap_or(0) as usize);
        }
        if start.elapsed() > Duration::from_secs(1800) {
            bail!("the server did not finish its start-up scan");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    let first = args.tracks * 3 / 4;
    let libraries = [
        args.material.library(first, 1)?,
        args.material.library(args.tracks - first, 2)?,
    ];
    // Steady state: the loudness analysis that follows a first scan (hours on a real library,
    // at the lowest priority) would otherwise run through some measurements and not others.
    let no_analysis = "[loudness]\nenabled = false\n";
    if let (Some(library), Some(work)) = (&args.library, &args.keep) {
        std::fs::create_dir_all(work)?;
        link_library(library, work)?;
    }
    let server = match &args.server {
        Some(binary) => common::start_binary(
            binary,
            "api-bench",
            args.keep.as_deref(),
            &libraries,
            no_analysis,
        )?,
        None => common::start("api-bench", args.keep.as_deref(), &libraries, no_analysis)?,
    };
    let (port, pid) = (server.port, server.pid);
    if args.library.is_some() {
        args.tracks = wait_for_startup_scan(port)?;
    } else {
        server.wait_for_scan(args.tracks, |port| {
            Conn::open(port, ADMIN).ok()?.call("getScanStatus", "").ok()
        })?;
    }
    let first = if args.library.is_some() { 0 } else { first };
    std::thread::sleep(Duration::from_secs(2));
    let idle_rss = rss_mib(pid);

    // The listener sees the first music folder only.
    let mut admin = Conn::open(port, ADMIN)?;
    let folders = admin.call("getMusicFolders", "")?;
    let first_folder = folders["musicFolders"]["musicFolder"][0]["id"].clone();
    let first_folder = first_folder
        .as_i64()
        .map(|n| n.to_string())
        .or_else(|| first_folder.as_str().map(str::to_string))
        .context("no music folder")?;
    // A kept database has the listener already.
    if admin.call("getUser", "username=listener").is_err() {
        admin.call(
            "createUser",
            &format!(
                "username=listener&password=listenerpw&email=listener@example.org\
                 &musicFolderId={first_folder}"
            ),
        )?;
    }
    let mut listener = Conn::open(port, LISTENER)?;

    let (admin_songs, admin_sync) = admin.sync()?;
    let (listener_songs, listener_sync) = listener.sync()?;
    let admin_albums = admin.albums()?;
    let listener_albums = listener.albums()?;
    // Annotated once per database: a kept one has its stars, ratings and plays.
    let marker = args.keep.as_ref().map(|k| k.join("annotated"));
    let started = Instant::now();
    let (a, l) = if marker.as_ref().is_some_and(|m| m.is_file()) {
        eprintln!("reusing the kept database's stars, ratings and plays");
        (Annotated::default(), Annotated::default())
    } else {
        eprintln!("starring, rating and playing as both users…");
        let most = args.max_annotations;
        let a = annotate(&mut admin, &admin_songs, &admin_albums, 11, most)?;
        let l = annotate(&mut listener, &listener_songs, &listener_albums, 12, most)?;
        if let Some(marker) = &marker {
            std::fs::write(marker, "")?;
        }
        (a, l)
    };
    eprintln!(
        "annotated in {:.1} s: admin {} stars, {} ratings, {} plays; listener {} stars, {} \
         ratings, {} plays",
        started.elapsed().as_secs_f64(),
        a.starred,
        a.rated,
        a.plays,
        l.starred,
        l.rated,
        l.plays
    );

    let material = match &args.library {
        Some(dir) => format!("existing library {}", dir.display()),
        None => args.material.describe().to_string(),
    };
    if args.library.is_some() {
        println!(
            "api-bench: {} tracks in two folders (linked from {}), {} requests per call, \
             server pid {pid}",
            args.tracks, material, args.requests
        );
    } else {
        println!(
            "api-bench: {} tracks in two folders ({} and {}), material {}, {} requests per call, \
             server pid {pid}",
            args.tracks,
            first,
            args.tracks - first,
            material,
            args.requests
        );
    }
    println!(
        "admin sees {} songs and {} albums; listener (non-admin, first folder only) {} and {}",
        admin_songs.len(),
        admin_albums.len(),
        listener_songs.len(),
        listener_albums.len()
    );
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "call", "admin p50", "p95", "user p50", "p95", "user/adm", "target"
    );
    let admin_cases = cases(&admin_songs, &admin_albums);
    let listener_cases = cases(&listener_songs, &listener_albums);
    let mut results = serde_json::Map::new();
    let mut misses = 0;
    for (case, user_case) in admin_cases.iter().zip(&listener_cases) {
        let (p50, p95) = measure(&mut admin, case, args.requests)?;
        let (user_p50, user_p95) = measure(&mut listener, user_case, args.requests)?;
        misses += usize::from(p95 > case.target_ms) + usize::from(user_p95 > case.target_ms);
        println!(
            "{:<38} {p50:>9.2} {p95:>9.2} {user_p50:>9.2} {user_p95:>9.2} {:>7.2} {:>7}",
            case.label,
            user_p95 / p95,
            format!("<{}", case.target_ms)
        );
        results.insert(
            case.label.clone(),
            serde_json::json!({
                "p50_ms": p50, "p95_ms": p95,
                "user_p50_ms": user_p50, "user_p95_ms": user_p95,
            }),
        );
    }
    println!(
        "whole-library sync: admin {} songs in {admin_sync:.2} s, listener {} in \
         {listener_sync:.2} s (target < 1 s at 20,000)",
        admin_songs.len(),
        listener_songs.len()
    );

    let load = if args.no_load {
        Load {
            requests: 0,
            errors: 0,
            seconds: 1.0,
            p50_ms: 0.0,
            p99_ms: 0.0,
            peak_rss_mib: 0.0,
        }
    } else {
        load(port, pid, args.clients, &listener_songs)
    };
    println!(
        "{} clients x 10 calls: {} errors, {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms, \
         server RSS peak {:.1} MiB (targets: >= 1,500 requests/s, p99 < 250 ms, 0 errors, \
         < 150 MiB)",
        args.clients,
        load.errors,
        load.requests as f64 / load.seconds,
        load.p50_ms,
        load.p99_ms,
        load.peak_rss_mib
    );
    // The server gives a burst's memory back once requests stop for a couple of seconds.
    std::thread::sleep(Duration::from_secs(5));
    let rested_rss = rss_mib(pid);
    println!("idle RSS after the scan: {idle_rss:.1} MiB; 5 s after the load: {rested_rss:.1} MiB");
    if misses > 0 {
        println!("{misses} measurement(s) above their p95 target");
    }
    results.insert("material".into(), material.into());
    results.insert("rested_rss_mib".into(), rested_rss.into());
    results.insert("sync_seconds".into(), admin_sync.into());
    results.insert("listener_sync_seconds".into(), listener_sync.into());
    results.insert("synced_songs".into(), admin_songs.len().into());
    results.insert("load_errors".into(), load.errors.into());
    results.insert(
        "load_requests_per_second".into(),
        (load.requests as f64 / load.seconds).into(),
    );
    results.insert("load_p99_ms".into(), load.p99_ms.into());
    results.insert("load_peak_rss_mib".into(), load.peak_rss_mib.into());
    results.insert("idle_rss_mib".into(), idle_rss.into());
    results.insert("tracks".into(), args.tracks.into());
    println!("{}", serde_json::Value::Object(results));
    Ok(())
}
