//! Writes a synthetic tagged music library (see `mediastreamer::synth`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use mediastreamer::synth::{Format, generate_library};

#[path = "common/material.rs"]
mod material;

/// Write a deterministic synthetic music library for tests and benchmarks.
#[derive(Parser)]
struct Args {
    /// Number of audio files to write.
    #[arg(long, default_value_t = 1000)]
    tracks: usize,
    /// Same seed, same library, byte for byte.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Comma-separated formats to use instead of the realistic mix (e.g. mp3,flac).
    #[arg(long, value_delimiter = ',')]
    formats: Vec<Format>,
    /// Folder to write into (created if missing).
    dir: PathBuf,
    #[command(flatten)]
    material: material::MaterialArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut spec = args.material.library(args.tracks, args.seed)?;
    if !args.formats.is_empty() {
        spec.formats = args.formats;
    }
    let started = Instant::now();
    let library = generate_library(&args.dir, &spec)
        .with_context(|| format!("writing library to {}", args.dir.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} tracks, {} albums, {} artists, {} folder covers, material {}, in {seconds:.1} s \
         ({:.0} tracks/s) -> {}",
        library.tracks,
        library.albums,
        library.artists,
        library.covers,
        args.material.describe(),
        library.tracks as f64 / seconds,
        args.dir.display()
    );
    Ok(())
}
