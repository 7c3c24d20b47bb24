//! Transcoding benchmark: the realtime factor of a full transcode and the time to the first
//! byte of a range request into the middle of a track, for a lossless (WAV) and a lossy (MP3
//! 320 kbps) source of `--seconds` (default 300) of generated music, encoded to `--kbps`
//! (default 128) MP3 by the same code `stream` uses (cache off).
//!
//! Usage: cargo build --release --features synth && ./target/release/transcode-bench [--seconds N] [--kbps K]

use mediastreamer::transcode::signal::{mp3_bytes, tones, wav_bytes};
use mediastreamer::transcode::{self, Flow, Settings, Source, Transcoder};
use std::time::{Duration, Instant};

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Measured {
    source: &'static str,
    realtime_factor: f64,
    full_seconds: f64,
    ttfb_ms: f64,
    bytes: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds = arg("--seconds", 300.0);
    let kbps = arg("--kbps", 128.0) as u32;
    let dir = tempfile_dir()?;
    let signal = tones(44_100, 2, seconds);
    let sources = [
        ("wav", wav_bytes(44_100, 2, &signal)),
        ("mp3-320", mp3_bytes(320, 44_100, &signal)?),
    ];
    let transcoder = Transcoder::new(Settings {
        cache_dir: dir.join("cache"),
        cache_bytes: 0,
        max_concurrent: 1,
        wait: Duration::from_secs(1),
        idle: Duration::from_secs(30),
        max_bit_rate: 0,
        client_max_bit_rate: Vec::new(),
        default_bit_rate: 192,
        ffmpeg: None,
    })?;
    let mut results = Vec::new();
    for (name, bytes) in sources {
        let path = dir.join(format!(
            "source.{}",
            if name == "wav" { "wav" } else { "mp3" }
        ));
        std::fs::write(&path, bytes)?;
        let source = Source {
            id: 1,
            path,
            mtime: 0,
            duration_ms: (seconds * 1000.0) as i64,
            sample_rate: Some(44_100),
        };
        let plan = transcoder.plan(&source, kbps, 0.0)?;
        let total = plan.layout.total_len();
        let started = Instant::now();
        let mut sent = 0u64;
        transcode::produce(&plan, 0..total, &mut |b| {
            sent += b.len() as u64;
            Flow::Continue
        })?;
        let full = started.elapsed().as_secs_f64();
        assert_eq!(sent, total);
        // Time to the first byte of `Range: bytes=<middle>-`, stopping there like a player
        // that reads its first buffer.
        let middle = total / 2 + 1;
        let started = Instant::now();
        let mut first = None;
        transcode::produce(&plan, middle..total, &mut |_| {
            first.get_or_insert(started.elapsed());
            Flow::Stop
        })?;
        let ttfb = first.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
        results.push(Measured {
            source: name,
            realtime_factor: seconds / full,
            full_seconds: full,
            ttfb_ms: ttfb,
            bytes: total,
        });
    }
    std::fs::remove_dir_all(&dir)?;
    println!("transcode of {seconds} s of music to {kbps} kbps MP3");
    println!(
        "{:<10} {:>12} {:>14} {:>16} {:>12}",
        "source", "full (s)", "realtime ×", "ranged TTFB (ms)", "bytes"
    );
    for r in &results {
        println!(
            "{:<10} {:>12.2} {:>14.1} {:>16.1} {:>12}",
            r.source, r.full_seconds, r.realtime_factor, r.ttfb_ms, r.bytes
        );
    }
    let json: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{{\"source\":\"{}\",\"full_seconds\":{:.3},\"realtime_factor\":{:.1},\"ranged_ttfb_ms\":{:.1},\"bytes\":{}}}",
                r.source, r.full_seconds, r.realtime_factor, r.ttfb_ms, r.bytes
            )
        })
        .collect();
    println!(
        "{{\"seconds\":{seconds},\"kbps\":{kbps},\"results\":[{}]}}",
        json.join(",")
    );
    Ok(())
}

/// A fresh scratch directory under the system temp dir.
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("transcode-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
