//! Memory of one huge answer: starts the real server (the `mediastreamer` binary next to this
//! one) on a generated library, creates a playlist of `--entries` songs (the library's songs
//! repeated), then reads it with getPlaylist once and `--concurrent` at once, in JSON and XML,
//! and prints how far the server's resident memory rose above where it was before each call
//! (peak from /proc/PID/status VmHWM, reset through /proc/PID/clear_refs before each phase).
//! `cargo build --release --features synth && ./target/release/playlist-bench`.

use anyhow::{Context, bail};
use clap::Parser;
use common::status_mib;

mod common;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Measure the server's memory while it answers getPlaylist for a huge playlist.
#[derive(Parser)]
struct Args {
    /// Tracks in the generated library.
    #[arg(long, default_value_t = 2_000)]
    tracks: usize,
    /// Entries in the playlist (the library's tracks, repeated).
    #[arg(long, default_value_t = 100_000)]
    entries: usize,
    /// getPlaylist calls at once in the concurrent phase.
    #[arg(long, default_value_t = 4)]
    concurrent: usize,
    /// Keep the work folder here instead of a temporary one.
    #[arg(long)]
    keep: Option<PathBuf>,
    #[command(flatten)]
    material: common::material::MaterialArgs,
}

const AUTH: &str = "u=bench&p=benchpw&v=1.16.1&c=playlist-bench";

/// One request on its own connection; the whole raw response (headers and body, chunked or
/// not) is read until the server closes it. Returns (status line, body bytes after headers).
fn request(port: u16, method: &str, path: &str, body: &str) -> anyhow::Result<(String, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(600)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.lines().next().unwrap_or_default().to_string();
    let body = &raw[split + 4..];
    if head.contains("transfer-encoding: chunked") {
        return Ok((status, dechunk(body)));
    }
    Ok((status, body.to_vec()))
}

/// The bytes of a chunked body.
fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&s[..eol]);
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let rest = &s[eol + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        s = rest.get(n + 2..).unwrap_or_default();
    }
    out
}

/// A JSON call that must succeed; returns `subsonic-response`.
fn call(port: u16, method: &str, query: &str) -> anyhow::Result<serde_json::Value> {
    let (status, body) = request(
        port,
        "GET",
        &format!("/rest/{method}?{AUTH}&f=json&{query}"),
        "",
    )?;
    let v: serde_json::Value =
        serde_json::from_slice(&body).with_context(|| format!("{method}: {status}: not JSON"))?;
    let r = v["subsonic-response"].clone();
    if r["status"] != "ok" {
        bail!("{method}?{query}: {status}: {r}");
    }
    Ok(r)
}

/// Resets the peak (VmHWM) to the current resident size.
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// Runs `calls` getPlaylist calls at once; returns (peak growth MiB, seconds, body bytes each).
fn measure(
    pid: u32,
    port: u16,
    playlist: &str,
    format: &str,
    calls: usize,
) -> anyhow::Result<(f64, f64, usize)> {
    // Let the previous phase's memory go back (the server trims when idle).
    std::thread::sleep(Duration::from_secs(4));
    let before = status_mib(pid, "VmRSS:");
    reset_peak(pid);
    let start = Instant::now();
    let path = format!("/rest/getPlaylist?{AUTH}&f={format}&id={playlist}");
    let sizes: Vec<anyhow::Result<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..calls)
            .map(|_| {
                s.spawn(|| {
                    let (status, body) = request(port, "GET", &path, "")?;
                    let whole = body.ends_with(b"}}") || body.ends_with(b"</subsonic-response>");
                    if !status.contains(" 200 ")
                        || !whole
                        || !body.starts_with(b"<?xml")
                            && !body.starts_with(b"{\"subsonic-response\":{\"status\":\"ok\"")
                    {
                        bail!("getPlaylist: {status}: an incomplete or failed answer");
                    }
                    Ok(body.len())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("panicked")))
            })
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let peak = status_mib(pid, "VmHWM:");
    let mut size = 0;
    for s in sizes {
        size = s?;
    }
    Ok((peak - before, seconds, size))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // createPlaylist takes all the ids in one form body.
    let extra = "[limits]\nrequest_body_mb = 64\n";
    let library = args.material.library(args.tracks, 1)?;
    let server = common::start("playlist-bench", args.keep.as_deref(), &[library], extra)?;
    let (port, pid) = (server.port, server.pid);
    server.wait_for_scan(args.tracks, |port| call(port, "getScanStatus", "").ok())?;

    // The library's song ids, then a playlist of `entries` of them (repeated as needed).
    let mut songs = Vec::new();
    loop {
        let r = call(
            port,
            "search3",
            &format!(
                "query=&songCount=500&songOffset={}&albumCount=0&artistCount=0",
                songs.len()
            ),
        )?;
        let page = r["searchResult3"]["song"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        songs.extend(
            page.iter()
                .filter_map(|s| s["id"].as_str().map(str::to_string)),
        );
        if page.len() < 500 {
            break;
        }
    }
    if songs.is_empty() {
        bail!("the library has no songs");
    }
    let mut form = format!("{AUTH}&f=json&name=bench");
    for i in 0..args.entries {
        form.push_str("&songId=");
        form.push_str(&songs[i % songs.len()]);
    }
    let (status, body) = request(port, "POST", "/rest/createPlaylist", &form)?;
    let created: serde_json::Value =
        serde_json::from_slice(&body).with_context(|| format!("createPlaylist: {status}"))?;
    let playlist = created["subsonic-response"]["playlist"]["id"]
        .as_str()
        .with_context(|| {
            format!(
                "createPlaylist failed: {}",
                created["subsonic-response"]["error"]
            )
        })?
        .to_string();

    println!(
        "playlist-bench: {} entries ({} tracks, material {}), server pid {pid}, RSS {:.1} MiB",
        args.entries,
        songs.len(),
        args.material.describe(),
        status_mib(pid, "VmRSS:")
    );
    println!(
        "{:<28} {:>14} {:>9} {:>12}",
        "call", "RSS growth MiB", "seconds", "body bytes"
    );
    let mut results = serde_json::Map::new();
    for format in ["json", "xml"] {
        for calls in [1, args.concurrent] {
            let (growth, seconds, size) = measure(pid, port, &playlist, format, calls)?;
            let label = format!("getPlaylist {format} x{calls}");
            println!("{label:<28} {growth:>14.1} {seconds:>9.2} {size:>12}");
            results.insert(
                label,
                serde_json::json!({"rss_growth_mib": growth, "seconds": seconds}),
            );
        }
    }
    println!("{}", serde_json::Value::Object(results));
    Ok(())
}
