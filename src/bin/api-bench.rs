//! API benchmark: starts the real server (the `mediastreamer` binary next to this one) on a
//! generated library and measures request latency over one keep-alive connection (p50, p95),
//! a whole-library sync through search3 pages of 500, 200 concurrent clients, and idle memory.
//! Needs a release build:
//! `cargo build --release --features synth && ./target/release/api-bench --tracks 20000`.

use anyhow::{Context, bail};
use clap::Parser;

mod common;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Time Subsonic API calls against a generated library.
#[derive(Parser)]
struct Args {
    /// Tracks in the generated library.
    #[arg(long, default_value_t = 20_000)]
    tracks: usize,
    /// Requests per measured call.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Concurrent clients in the load test.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Keep the work folder here instead of a temporary one.
    #[arg(long)]
    keep: Option<PathBuf>,
}

const AUTH: &str = "u=bench&p=benchpw&v=1.16.1&c=api-bench&f=json";

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Self {
            reader: BufReader::new(stream),
        })
    }

    /// GETs `path`; returns (status, body).
    fn get(&mut self, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        self.reader.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
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

    /// GETs a Subsonic call and checks it succeeded; returns the parsed response.
    fn call(&mut self, method: &str, query: &str) -> anyhow::Result<serde_json::Value> {
        let (status, body) = self.get(&format!("/rest/{method}?{AUTH}&{query}"))?;
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        let r = v["subsonic-response"].clone();
        if status != 200 || r["status"] != "ok" {
            bail!("{method}?{query}: HTTP {status}: {r}");
        }
        Ok(r)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn rss_mib(pid: u32) -> f64 {
    common::status_mib(pid, "VmRSS:")
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = common::start("api-bench", args.keep.as_deref(), args.tracks, "")?;
    let (port, pid) = (server.port, server.pid);
    server.wait_for_scan(args.tracks, |port| {
        Conn::open(port).ok()?.call("getScanStatus", "").ok()
    })?;
    std::thread::sleep(Duration::from_secs(2));
    let idle_rss = rss_mib(pid);

    let mut conn = Conn::open(port)?;
    let some = conn.call("getAlbumList2", "type=newest&size=1")?;
    let album = some["albumList2"]["album"][0]["id"]
        .as_str()
        .unwrap_or("al-1")
        .to_string();
    let album_json = conn.call("getAlbum", &format!("id={album}"))?;
    let song = album_json["album"]["song"][0]["id"]
        .as_str()
        .unwrap_or("tr-1")
        .to_string();
    let mut cases: Vec<(String, String, String, f64)> = vec![
        (
            "getArtists".into(),
            "getArtists".into(),
            String::new(),
            20.0,
        ),
        (
            "getIndexes".into(),
            "getIndexes".into(),
            String::new(),
            20.0,
        ),
        (
            "search3 empty, 500".into(),
            "search3".into(),
            "query=&songCount=500&albumCount=0&artistCount=0".into(),
            20.0,
        ),
        (
            "getAlbum".into(),
            "getAlbum".into(),
            format!("id={album}"),
            5.0,
        ),
        (
            "getSong".into(),
            "getSong".into(),
            format!("id={song}"),
            5.0,
        ),
        (
            "search3 word".into(),
            "search3".into(),
            "query=love".into(),
            5.0,
        ),
        (
            "getRandomSongs 50".into(),
            "getRandomSongs".into(),
            "size=50".into(),
            5.0,
        ),
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
        cases.push((
            format!("getAlbumList2 {t} 500"),
            "getAlbumList2".into(),
            format!("type={t}&size=500"),
            20.0,
        ));
    }
    cases.push((
        "getAlbumList2 byYear 500".into(),
        "getAlbumList2".into(),
        "type=byYear&fromYear=2020&toYear=1950&size=500".into(),
        20.0,
    ));
    cases.push((
        "getAlbumList2 byGenre 500".into(),
        "getAlbumList2".into(),
        "type=byGenre&genre=Rock&size=500".into(),
        20.0,
    ));

    println!(
        "api-bench: {} tracks, {} requests per call, server pid {pid}",
        args.tracks, args.requests
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9}",
        "call", "p50 ms", "p95 ms", "target"
    );
    let mut results = serde_json::Map::new();
    let mut misses = 0;
    for (label, method, query, target) in &cases {
        let mut times = Vec::with_capacity(args.requests);
        for _ in 0..args.requests {
            let start = Instant::now();
            conn.call(method, query)?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
        if p95 > *target {
            misses += 1;
        }
        println!(
            "{label:<30} {p50:>9.2} {p95:>9.2} {:>9}",
            format!("<{target}")
        );
        results.insert(
            label.clone(),
            serde_json::json!({"p50_ms": p50, "p95_ms": p95}),
        );
    }

    // Whole-library sync, Symfonium style.
    let start = Instant::now();
    let mut synced = 0usize;
    loop {
        let r = conn.call(
            "search3",
            &format!("query=&songCount=500&songOffset={synced}&albumCount=0&artistCount=0"),
        )?;
        let n = r["searchResult3"]["song"].as_array().map_or(0, Vec::len);
        synced += n;
        if n < 500 {
            break;
        }
    }
    let sync_s = start.elapsed().as_secs_f64();
    println!("whole-library sync: {synced} songs in {sync_s:.2} s (target < 1 s at 20,000)");

    // Concurrent clients mixing list calls and whole-file streams.
    let songs: Vec<String> = conn.call("getRandomSongs", "size=100")?["randomSongs"]["song"]
        .as_array()
        .context("no random songs")?
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    let songs = &songs;
    let start = Instant::now();
    let errors: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.clients)
            .map(|i| {
                s.spawn(move || {
                    let Ok(mut c) = Conn::open(port) else {
                        return 10;
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
                        .filter(|k| match calls[(i + k) % calls.len()] {
                            ("stream", _) => {
                                let id = &songs[(i * 10 + k) % songs.len()];
                                !matches!(
                                    c.get(&format!("/rest/stream?{AUTH}&id={id}")),
                                    Ok((200, body)) if !body.is_empty()
                                )
                            }
                            (m, q) => c.call(m, q).is_err(),
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(10)).sum()
    });
    let load_s = start.elapsed().as_secs_f64();
    let total = args.clients * 10;
    println!(
        "{} clients x 10 calls: {errors} errors, {:.0} requests/s",
        args.clients,
        total as f64 / load_s
    );
    let busy_rss = rss_mib(pid);
    // The server gives a burst's memory back once requests stop for a couple of seconds.
    std::thread::sleep(Duration::from_secs(5));
    let rested_rss = rss_mib(pid);
    println!(
        "idle RSS after the scan: {idle_rss:.1} MiB; right after the run: {busy_rss:.1} MiB; \
         5 s later: {rested_rss:.1} MiB"
    );
    results.insert("rested_rss_mib".into(), rested_rss.into());
    if misses > 0 {
        println!("{misses} call(s) above their p95 target");
    }
    results.insert("sync_seconds".into(), sync_s.into());
    results.insert("synced_songs".into(), synced.into());
    results.insert("load_errors".into(), errors.into());
    results.insert(
        "load_requests_per_second".into(),
        (total as f64 / load_s).into(),
    );
    results.insert("idle_rss_mib".into(), idle_rss.into());
    results.insert("tracks".into(), args.tracks.into());
    println!("{}", serde_json::Value::Object(results));
    Ok(())
}
