//! Transcoding benchmark, cache off, by the code `stream` uses: for a lossless and a lossy
//! (MP3 320 kbps) source of `--seconds` (default 240) of generated music (melody, overtones,
//! noise and a level envelope: it does not compress trivially), encoded to `--kbps` (default
//! 128) MP3 and Ogg Opus, it measures the first body chunk (what the server sends first,
//! `stream::FIRST_CHUNK` bytes) of a fresh transcode from the start and of
//! `Range: bytes=<middle>-` (p50 and max of `--runs`, default 7), and the speed of a full
//! transcode. When ffmpeg is on PATH it transcodes the same files with libmp3lame (and
//! libopus, when built with it) in the same run and prints our speed against its.
//! The lossless source is FLAC when ffmpeg can make it, else WAV.
//!
//! Usage: cargo build --release --features synth --bin transcode-bench &&
//!        ./target/release/transcode-bench [--seconds N] [--kbps K] [--runs R]

use mediastreamer::transcode::ogg::Tags;
use mediastreamer::transcode::signal::{mp3_bytes, tones, wav_bytes};
use mediastreamer::transcode::stream::FIRST_CHUNK;
use mediastreamer::transcode::{Codec, Flow, Job, Settings, Source, Transcoder};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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
    source: String,
    codec: Codec,
    first_byte_ms: (f64, f64),
    middle_range_ms: (f64, f64),
    full_seconds: f64,
    ffmpeg_seconds: Option<f64>,
    bytes: u64,
}

/// p50 and max of `samples` (milliseconds).
fn p50_max(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], *samples.last().unwrap())
}

/// Milliseconds to the first body chunk the server would send (`FIRST_CHUNK` bytes) of a
/// fresh plan from the start or from the middle (planning included, as a request pays it).
fn first_byte(plan: impl Fn() -> Job, middle: bool) -> f64 {
    let started = Instant::now();
    let job = plan();
    let total = job.total_len();
    let from = if middle { total / 2 + 1 } else { 0 };
    let mut first = None;
    let mut got = 0;
    job.produce(from..total, &mut |b| {
        got += b.len();
        if got < FIRST_CHUNK {
            return Flow::Continue;
        }
        first.get_or_insert(started.elapsed());
        Flow::Stop
    })
    .expect("transcode");
    first.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// Seconds ffmpeg takes to transcode `path` with `encoder` at `kbps` to a null sink.
fn ffmpeg_seconds(path: &Path, encoder: &str, kbps: u32) -> Option<f64> {
    let started = Instant::now();
    let format = if encoder == "libopus" { "ogg" } else { "mp3" };
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-threads", "1", "-i"])
        .arg(path)
        .args(["-vn", "-c:a", encoder, "-b:a", &format!("{kbps}k")])
        .args(["-f", format, "-y", "/dev/null"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    status.success().then(|| started.elapsed().as_secs_f64())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds = arg("--seconds", 240.0);
    let kbps = arg("--kbps", 128.0) as u32;
    let runs = (arg("--runs", 7.0) as usize).max(1);
    let dir = tempfile_dir()?;
    let signal = tones(44_100, 2, seconds);
    let wav = dir.join("source.wav");
    std::fs::write(&wav, wav_bytes(44_100, 2, &signal))?;
    let flac = dir.join("source.flac");
    let made_flac = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&wav)
        .args(["-c:a", "flac", "-y"])
        .arg(&flac)
        .status()
        .is_ok_and(|s| s.success());
    let lossless = if made_flac { flac } else { wav };
    let mp3 = dir.join("source.mp3");
    std::fs::write(&mp3, mp3_bytes(320, 44_100, &signal)?)?;
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
        client_format: Vec::new(),
    })?;
    let tags = Tags {
        title: "Bench".into(),
        ..Tags::default()
    };
    let mut results = Vec::new();
    for path in [lossless, mp3] {
        let size = std::fs::metadata(&path)?.len();
        let name = format!(
            "{} ({:.1} MB)",
            path.extension().unwrap().to_string_lossy(),
            size as f64 / 1e6
        );
        let source = Source {
            id: 1,
            path: path.clone(),
            mtime: 0,
            duration_ms: (seconds * 1000.0) as i64,
            sample_rate: Some(44_100),
        };
        for codec in [Codec::Mp3, Codec::Opus] {
            let plan = || match codec {
                Codec::Mp3 => Job::Mp3(transcoder.plan(&source, kbps, 0.0).expect("plan")),
                Codec::Opus => Job::Opus(
                    transcoder
                        .plan_opus(&source, kbps, 0.0, 2, &tags)
                        .expect("plan"),
                ),
            };
            let first_byte_ms = p50_max((0..runs).map(|_| first_byte(plan, false)).collect());
            let middle_range_ms = p50_max((0..runs).map(|_| first_byte(plan, true)).collect());
            let job = plan();
            let total = job.total_len();
            let started = Instant::now();
            let mut sent = 0u64;
            job.produce(0..total, &mut |b| {
                sent += b.len() as u64;
                Flow::Continue
            })?;
            let full_seconds = started.elapsed().as_secs_f64();
            assert_eq!(sent, total);
            let encoder = match codec {
                Codec::Mp3 => "libmp3lame",
                Codec::Opus => "libopus",
            };
            results.push(Measured {
                source: name.clone(),
                codec,
                first_byte_ms,
                middle_range_ms,
                full_seconds,
                ffmpeg_seconds: ffmpeg_seconds(&path, encoder, kbps),
                bytes: total,
            });
        }
    }
    std::fs::remove_dir_all(&dir)?;
    println!("fresh transcodes (cache off) of {seconds} s of music at {kbps} kbps, {runs} runs");
    println!(
        "{:<16} {:<5} {:>17} {:>17} {:>9} {:>9} {:>10} {:>8} {:>10}",
        "source",
        "to",
        "1st byte p50/max",
        "middle p50/max",
        "full (s)",
        "× realtime",
        "ffmpeg (s)",
        "vs ffmpeg",
        "bytes"
    );
    for r in &results {
        let (ffmpeg, ratio) = match r.ffmpeg_seconds {
            Some(f) => (format!("{f:.2}"), format!("{:.2}×", f / r.full_seconds)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<16} {:<5} {:>8.1}/{:<8.1} {:>8.1}/{:<8.1} {:>9.2} {:>10.1} {:>10} {:>8} {:>10}",
            r.source,
            r.codec.suffix(),
            r.first_byte_ms.0,
            r.first_byte_ms.1,
            r.middle_range_ms.0,
            r.middle_range_ms.1,
            r.full_seconds,
            seconds / r.full_seconds,
            ffmpeg,
            ratio,
            r.bytes
        );
    }
    println!("(vs ffmpeg: ffmpeg's time over ours, single-threaded ffmpeg; > 1 means faster)");
    Ok(())
}

/// A fresh scratch directory under the system temp dir.
fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("transcode-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
