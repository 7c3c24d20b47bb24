//! Scrobbling under failures: starts the real server (the `mediastreamer` binary next to this
//! one) on a generated library with a fake ListenBrainz service (`scrobbling::fake`) that
//! fails every third request with 503, links a user, scrobbles `--listens` listens through the
//! API (`--per-call` at a time, each with its own time), and waits until the service has taken
//! them all. Checks that every listen arrived once and in order, and prints the times.
//! `cargo run --features synth --bin scrobble-bench` (or `--release`).

use anyhow::{Context, bail};
use clap::Parser;
use mediastreamer::scrobbling::fake::{FakeService, Reply, Request};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

/// Scrobble many listens through a service that fails a third of the requests.
#[derive(Parser)]
struct Args {
    /// Listens to scrobble.
    #[arg(long, default_value_t = 10_000)]
    listens: usize,
    /// Listens per scrobble call (repeated id and time).
    #[arg(long, default_value_t = 1)]
    per_call: usize,
    /// Tracks in the generated library.
    #[arg(long, default_value_t = 100)]
    tracks: usize,
    /// Keep the work folder here instead of a temporary one.
    #[arg(long)]
    keep: Option<PathBuf>,
}

const AUTH: &str = "u=bench&p=benchpw&v=1.16.1&c=scrobble-bench&f=json";
/// The first listen's time (epoch seconds); listen i is at FIRST + i.
const FIRST: i64 = 1_600_000_000;

fn get(port: u16, path: &str) -> anyhow::Result<serde_json::Value> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let n = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
            rest = &rest[eol + 4 + n..];
        }
        body = out;
    }
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(v["subsonic-response"].clone())
}

fn ok(r: serde_json::Value) -> anyhow::Result<serde_json::Value> {
    if r["status"] != "ok" {
        bail!("the server answered {r}");
    }
    Ok(r)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The fake: every third submission fails (503); the others' listens are recorded.
    let seen = Arc::new(AtomicUsize::new(0));
    let taken: Arc<Mutex<Vec<i64>>> = Arc::default();
    let (seen2, taken2) = (seen.clone(), taken.clone());
    let fake = FakeService::start(move |r: &Request| match r.path() {
        "/1/validate-token" => Reply::json(200, json!({"valid": true, "user_name": "bench"})),
        "/1/submit-listens" => {
            let n = seen2.fetch_add(1, Ordering::SeqCst);
            if n % 3 == 2 {
                return Reply::json(503, json!({"error": "unavailable"}));
            }
            let body = r.json();
            if body["listen_type"] != "playing_now" {
                let mut taken = taken2.lock().unwrap_or_else(|e| e.into_inner());
                for listen in body["payload"].as_array().into_iter().flatten() {
                    taken.push(listen["listened_at"].as_i64().unwrap_or(-1));
                }
            }
            Reply::json(200, json!({"status": "ok"}))
        }
        _ => Reply::json(404, json!({"error": "no such endpoint"})),
    });
    let extra = format!(
        "[scrobbling]\nlistenbrainz = [{{ id = \"lb\", url = \"{}\" }}]\nretry_initial_ms = 10\nretry_max_ms = 200\n",
        fake.url()
    );
    let library = mediastreamer::synth::LibrarySpec {
        tracks: args.tracks,
        ..Default::default()
    };
    let server = common::start("scrobble-bench", args.keep.as_deref(), &[library], &extra)?;
    server.wait_for_scan(args.tracks, |port| {
        get(port, &format!("/rest/getScanStatus?{AUTH}")).ok()
    })?;
    let port = server.port;
    ok(get(
        port,
        &format!("/rest/linkListenBrainz?{AUTH}&service=lb&token=t"),
    )?)?;
    let songs = ok(get(
        port,
        &format!("/rest/search3?{AUTH}&query=&songCount=500&artistCount=0&albumCount=0"),
    )?)?;
    let ids: Vec<String> = songs["searchResult3"]["song"]
        .as_array()
        .context("no songs")?
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    if ids.is_empty() {
        bail!("the library has no songs");
    }

    eprintln!("scrobbling {} listens…", args.listens);
    let start = Instant::now();
    let mut i = 0;
    while i < args.listens {
        let mut path = format!("/rest/scrobble?{AUTH}&submission=true");
        for j in i..(i + args.per_call).min(args.listens) {
            path.push_str(&format!(
                "&id={}&time={}",
                ids[j % ids.len()],
                (FIRST + j as i64) * 1000
            ));
        }
        ok(get(port, &path)?)?;
        i += args.per_call;
    }
    let scrobbled = start.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    while taken.lock().unwrap_or_else(|e| e.into_inner()).len() < args.listens {
        if Instant::now() > deadline {
            bail!("not everything arrived within 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let delivered = start.elapsed();
    // Anything more (a duplicate) would come right after; give it a moment.
    std::thread::sleep(Duration::from_millis(500));
    let taken = taken.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let expected: Vec<i64> = (0..args.listens as i64).map(|j| FIRST + j).collect();
    let requests = seen.load(Ordering::SeqCst);
    let failed = (requests + 1) / 3;
    println!(
        "{} listens, {} per scrobble call: scrobble calls took {:.2} s ({:.2} ms per call)",
        args.listens,
        args.per_call,
        scrobbled.as_secs_f64(),
        scrobbled.as_secs_f64() * 1000.0 / args.listens.div_ceil(args.per_call) as f64
    );
    println!(
        "all delivered {:.2} s after the first scrobble; {requests} requests to the service, {failed} failed (503)",
        delivered.as_secs_f64()
    );
    if taken != expected {
        let dupes = taken.len().saturating_sub(args.listens);
        bail!(
            "WRONG: {} listens arrived ({dupes} extra), or out of order",
            taken.len()
        );
    }
    println!("check: every listen arrived exactly once, in order, with its own time");
    println!(
        "server memory afterwards: {:.0} MiB resident",
        common::status_mib(server.pid, "VmRSS:")
    );
    Ok(())
}
