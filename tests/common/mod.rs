//! Shared helpers for the integration tests: a temporary library of real, tagged audio files,
//! a config pointing at it, and scans run against a real SQLite catalog.
#![allow(dead_code)]

pub mod api;

use diesel::prelude::*;
use mediastreamer::config::{self, CliOverrides, Config};
use mediastreamer::scanner::{ScanOptions, ScanProgress, ScanReport, run_scan};
use mediastreamer::synth::{Format, TrackSpec, write_track};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// A music folder and a database in a temporary directory.
pub struct TestLibrary {
    pub dir: tempfile::TempDir,
    pub music: PathBuf,
    pub config: Config,
}

impl TestLibrary {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("music");
        std::fs::create_dir(&music).unwrap();
        let music = std::fs::canonicalize(&music).unwrap();
        let env = vec![
            ("MEDIASTREAMER_SCAN__SCHEDULE".to_string(), String::new()),
            ("MEDIASTREAMER_SCAN__WATCH".to_string(), "false".to_string()),
            ("MEDIASTREAMER_SCAN__WORKERS".to_string(), "2".to_string()),
        ];
        let cli = CliOverrides {
            address: Some("127.0.0.1:0".into()),
            folders: vec![music.clone()],
            database: Some(dir.path().join("catalog.db")),
        };
        let config = config::load(None, &env, &cli).unwrap();
        mediastreamer::db::open_and_migrate(&config.database.path).unwrap();
        Self { dir, music, config }
    }

    /// Writes a tagged track at `rel` (relative to the music folder).
    pub fn add(&self, rel: &str, format: Format, spec: &TrackSpec) -> PathBuf {
        let path = self.music.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        write_track(&path, format, spec).unwrap();
        path
    }

    /// Writes raw bytes at `rel`.
    pub fn add_raw(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.music.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn scan(&self) -> (ScanReport, usize) {
        self.scan_with(ScanOptions::default())
    }

    /// Runs a scan; returns the report and how many files had their tags read.
    pub fn scan_with(&self, options: ScanOptions) -> (ScanReport, usize) {
        let progress = ScanProgress::default();
        let report = run_scan(&self.config, &options, &progress, &AtomicBool::new(false)).unwrap();
        let read = progress
            .files_read
            .load(std::sync::atomic::Ordering::Relaxed);
        (report, read)
    }

    pub fn conn(&self) -> SqliteConnection {
        mediastreamer::db::connect(&self.config.database.path).unwrap()
    }

    /// The id of the track at `rel`, if the catalog has it.
    pub fn track_id(&self, rel: &str) -> Option<i32> {
        use mediastreamer::db::schema::tracks;
        tracks::table
            .filter(tracks::path.eq(rel))
            .select(tracks::id)
            .first(&mut self.conn())
            .optional()
            .unwrap()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.music.join(rel)
    }
}

/// A track spec with the common fields filled.
pub fn spec(
    title: &str,
    artist: &str,
    album: &str,
    album_artist: Option<&str>,
    track: u32,
) -> TrackSpec {
    TrackSpec {
        title: title.into(),
        artist: artist.into(),
        album: album.into(),
        album_artist: album_artist.map(Into::into),
        track: Some((track, None)),
        year: Some(2001),
        ..Default::default()
    }
}

/// Sets a file's modification time into the past so a rewrite is always seen as a change
/// even within the same millisecond.
pub fn age(path: &Path) {
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(old).unwrap();
}

/// A FLAC file of whole 4096-sample blocks (so symphonia 0.5 syncs to it) of `samples`
/// (interleaved, -1.0..1.0), 16-bit.
pub fn flac_bytes(rate: u32, channels: u16, samples: &[f32]) -> Vec<u8> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let block = 4096 * channels as usize;
    let mut ints: Vec<i32> = samples.iter().map(|s| (s * 32_767.0) as i32).collect();
    ints.resize(ints.len().div_ceil(block) * block, 0);
    let config = flacenc::config::Encoder::default().into_verified().unwrap();
    let source =
        flacenc::source::MemSource::from_samples(&ints, channels as usize, 16, rate as usize);
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size).unwrap();
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).unwrap();
    sink.as_slice().to_vec()
}
