//! Loudness analysis benchmark: tracks per second and the realtime factor of measuring
//! real-sized files (EBU R128 integrated loudness and true peak, album loudness) with the same
//! code the background job runs, for a lossless (FLAC, made with ffmpeg when it is installed,
//! else WAV) and a lossy (MP3 320 kbps) source of `--seconds` (default 240) of generated music,
//! `--tracks` (default 4) files of each, measured as one album per format.
//!
//! Usage: cargo build --release --features synth --bin loudness-bench &&
//! ./target/release/loudness-bench [--seconds N] [--tracks N]

use mediastreamer::loudness::analyse::Decoders;
use mediastreamer::loudness::store::AlbumTrack;
use mediastreamer::loudness::{measure_all, outcomes};
use mediastreamer::transcode::signal::{mp3_bytes, tones, wav_bytes};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// FLAC made by ffmpeg from `wav`, if ffmpeg runs.
fn flac_from(wav: &Path, flac: &Path) -> bool {
    Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(wav)
        .args(["-c:a", "flac"])
        .arg(flac)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds = arg("--seconds", 240.0);
    let tracks = (arg("--tracks", 4.0) as usize).max(1);
    let dir = std::env::temp_dir().join(format!("loudness-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let signal = tones(44_100, 2, seconds);
    let wav = dir.join("source.wav");
    std::fs::write(&wav, wav_bytes(44_100, 2, &signal))?;
    let lossless = if flac_from(&wav, &dir.join("source.flac")) {
        "flac"
    } else {
        "wav"
    };
    std::fs::write(dir.join("source.mp3"), mp3_bytes(320, 44_100, &signal)?)?;
    println!(
        "loudness-bench: {tracks} tracks of {seconds:.0} s per format (44.1 kHz stereo), one thread"
    );
    let decoders = Decoders { ffmpeg: None };
    for (label, ext) in [(lossless, lossless), ("mp3-320", "mp3")] {
        // Distinct files, so the page cache does not make later tracks cheaper than real ones.
        let album: Vec<AlbumTrack> = (0..tracks)
            .map(|i| -> std::io::Result<AlbumTrack> {
                let path: PathBuf = dir.join(format!("{label}-{i}.{ext}"));
                std::fs::copy(dir.join(format!("source.{ext}")), &path)?;
                Ok(AlbumTrack {
                    id: i as i32,
                    size: std::fs::metadata(&path)?.len() as i64,
                    path,
                    mtime: 0,
                    fingerprint: 0,
                    sample_rate: Some(44_100),
                })
            })
            .collect::<Result<_, _>>()?;
        let started = Instant::now();
        let measured =
            measure_all(&decoders, &album, &AtomicBool::new(false)).map_err(|_| "cancelled")?;
        let stored = outcomes(&album, &measured);
        let elapsed = started.elapsed().as_secs_f64();
        if let Some(failure) = stored.iter().find_map(|o| o.failure.clone()) {
            return Err(format!("{label}: {failure}").into());
        }
        let first = &stored[0].values;
        println!(
            "{label:>8}: {:.2} tracks/s, {:.1}x realtime ({elapsed:.2} s; track {:.2} LUFS, true peak {:.3}, album {:.2} LUFS)",
            tracks as f64 / elapsed,
            tracks as f64 * seconds / elapsed,
            first.track_lufs.unwrap_or(f64::NAN),
            first.track_peak.unwrap_or(f64::NAN),
            first.album_lufs.unwrap_or(f64::NAN),
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
