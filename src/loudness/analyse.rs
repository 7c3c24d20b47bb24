//! Measuring one album: every track decoded (through `transcode::decode`, so whatever can be
//! streamed can be measured) into an EBU R128 meter, each track's integrated loudness and
//! true peak, and the album's loudness from all its tracks' gated blocks together (ReplayGain
//! 2.0's album gain, not an average of track values).

use super::gain::{ABSOLUTE_GATE_LUFS, Measured};
use crate::transcode::TranscodeError;
use crate::transcode::decode::{self, Decoder};
use ebur128::{EbuR128, Mode};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Why a track gets no computed gain (stored and logged; retried only when the file changes).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    #[error("cannot decode: {0}")]
    Undecodable(String),
    #[error("no audio: the file decodes to zero samples")]
    Empty,
    #[error("silent: no 400 ms block above the -70 LUFS gate (silence or shorter than 0.4 s)")]
    Silent,
    #[error("the meter gave no usable value: {0}")]
    Meter(String),
}

/// The analysis was cancelled (shutdown, an admin): nothing of the album is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// One track's measurement: its meter (kept for the album's loudness) and values.
pub struct TrackLoudness {
    meter: EbuR128,
    pub lufs: f64,
    pub true_peak: f64,
    /// Seconds of audio measured.
    pub seconds: f64,
}

/// How to reach the decoders.
#[derive(Debug, Clone, Default)]
pub struct Decoders {
    /// ffmpeg, for what symphonia cannot decode (when configured and found).
    pub ffmpeg: Option<PathBuf>,
}

impl Decoders {
    /// The decoder for `path` and the rate to decode at (the file's own: no resampling).
    fn choose(&self, path: &Path, rate_hint: Option<u32>) -> Result<(Decoder, u32), Failure> {
        match decode::probe(path) {
            Ok(info) => Ok((Decoder::Symphonia, info.sample_rate)),
            Err(TranscodeError::Unsupported(format)) => match &self.ffmpeg {
                Some(ffmpeg) => Ok((
                    Decoder::Ffmpeg(ffmpeg.clone()),
                    rate_hint
                        .filter(|r| (8_000..=384_000).contains(r))
                        .unwrap_or(48_000),
                )),
                // Symphonia also says "unsupported" for a file it cannot even begin to read
                // (an empty or truncated stream), so the reason names both possibilities.
                None => Err(Failure::Undecodable(format!(
                    "the built-in decoders cannot read this {format} file (unsupported, empty \
                     or truncated), and ffmpeg is not configured"
                ))),
            },
            Err(e) => Err(Failure::Undecodable(e.to_string())),
        }
    }
}

/// Measures one file: integrated loudness (LUFS) and true peak (linear) of its stereo decode
/// (mono counts as dual mono, as ReplayGain 2.0 scanners do; wider layouts are mixed down to
/// stereo first). `rate_hint` is the catalog's sample rate, for files only ffmpeg decodes.
pub fn measure_track(
    decoders: &Decoders,
    path: &Path,
    rate_hint: Option<u32>,
    cancel: &AtomicBool,
) -> Result<Result<TrackLoudness, Failure>, Cancelled> {
    let (decoder, rate) = match decoders.choose(path, rate_hint) {
        Ok(chosen) => chosen,
        Err(failure) => return Ok(Err(failure)),
    };
    let mut source = match decode::open(&decoder, path, rate, 0) {
        Ok(source) => source,
        Err(e) => return Ok(Err(Failure::Undecodable(e.to_string()))),
    };
    let mut meter = match EbuR128::new(2, rate, Mode::I | Mode::TRUE_PEAK) {
        Ok(meter) => meter,
        Err(e) => return Ok(Err(Failure::Meter(format!("{e:?}")))),
    };
    let mut samples: Vec<f32> = Vec::with_capacity(64 * 1024);
    let mut frames: u64 = 0;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(Cancelled);
        }
        samples.clear();
        // Several packets per meter call: fewer calls, same result.
        let mut more = true;
        while more && samples.len() < 32 * 1024 {
            more = match source.read(&mut samples) {
                Ok(more) => more,
                Err(e) => return Ok(Err(Failure::Undecodable(e.to_string()))),
            };
        }
        let whole = samples.len() / 2 * 2;
        if whole > 0 {
            if let Err(e) = meter.add_frames_f32(&samples[..whole]) {
                return Ok(Err(Failure::Meter(format!("{e:?}"))));
            }
            frames += (whole / 2) as u64;
        }
        if !more {
            break;
        }
    }
    Ok(finish(meter, frames, rate))
}

/// The values of a fed meter, or why there are none.
fn finish(meter: EbuR128, frames: u64, rate: u32) -> Result<TrackLoudness, Failure> {
    if frames == 0 {
        return Err(Failure::Empty);
    }
    let lufs = meter
        .loudness_global()
        .map_err(|e| Failure::Meter(format!("{e:?}")))?;
    if lufs.is_nan() {
        return Err(Failure::Meter(
            "loudness is NaN (the decoder sent NaN samples)".into(),
        ));
    }
    if !lufs.is_finite() || lufs < ABSOLUTE_GATE_LUFS {
        return Err(Failure::Silent);
    }
    let mut true_peak = 0.0f64;
    for channel in 0..2 {
        let p = meter
            .true_peak(channel)
            .map_err(|e| Failure::Meter(format!("{e:?}")))?;
        if !p.is_finite() {
            return Err(Failure::Meter(format!("true peak is {p}")));
        }
        true_peak = true_peak.max(p);
    }
    Ok(TrackLoudness {
        meter,
        lufs,
        true_peak,
        seconds: frames as f64 / f64::from(rate),
    })
}

/// The album's loudness over every measured track's blocks together, and its true peak (the
/// loudest track's); none when no track was measured.
pub fn album_values(tracks: &[&TrackLoudness]) -> (Option<f64>, Option<f64>) {
    if tracks.is_empty() {
        return (None, None);
    }
    let lufs = EbuR128::loudness_global_multiple(tracks.iter().map(|t| &t.meter))
        .ok()
        .filter(|l| l.is_finite() && *l >= ABSOLUTE_GATE_LUFS);
    let peak = tracks.iter().map(|t| t.true_peak).fold(0.0f64, f64::max);
    (lufs, lufs.map(|_| peak))
}

/// One track's stored values: its own and its album's.
pub fn measured(
    track: &Result<TrackLoudness, Failure>,
    album: (Option<f64>, Option<f64>),
) -> Measured {
    match track {
        Ok(t) => Measured {
            track_lufs: Some(t.lufs),
            track_peak: Some(t.true_peak),
            album_lufs: album.0,
            album_peak: album.1,
        },
        // A track without a measurement of its own still belongs to its album, but serving
        // an album gain for audio that could not be measured would be a guess.
        Err(_) => Measured::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fed(seconds: f64, amplitude: f64, rate: u32) -> Result<TrackLoudness, Failure> {
        let mut meter = EbuR128::new(2, rate, Mode::I | Mode::TRUE_PEAK).unwrap();
        let frames = (seconds * f64::from(rate)) as usize;
        let samples: Vec<f32> = (0..frames)
            .flat_map(|i| {
                let s =
                    amplitude * (std::f64::consts::TAU * 1000.0 * i as f64 / f64::from(rate)).sin();
                [s as f32, s as f32]
            })
            .collect();
        meter.add_frames_f32(&samples).unwrap();
        finish(meter, frames as u64, rate)
    }

    #[test]
    fn a_stereo_1khz_sine_reads_its_peak_level_in_lufs() {
        // EBU Tech 3341: a stereo 1 kHz sine at -23 dBFS reads -23 LUFS.
        let t = fed(5.0, 10f64.powf(-23.0 / 20.0), 48_000).unwrap();
        assert!((t.lufs + 23.0).abs() < 0.1, "{}", t.lufs);
        assert!((t.true_peak - 10f64.powf(-23.0 / 20.0)).abs() < 0.002);
    }

    #[test]
    fn silence_and_nothing_are_failures() {
        assert_eq!(fed(3.0, 0.0, 44_100).err(), Some(Failure::Silent));
        assert_eq!(fed(0.2, 0.5, 44_100).err(), Some(Failure::Silent));
        assert_eq!(fed(0.0, 0.5, 44_100).err(), Some(Failure::Empty));
    }

    #[test]
    fn album_loudness_pools_the_blocks() {
        // Equal lengths at -20 and -14 dBFS: the pooled energy's mean, not the mean of LUFS.
        let quiet = fed(4.0, 0.1, 48_000).unwrap();
        let loud = fed(4.0, 10f64.powf(-14.0 / 20.0), 48_000).unwrap();
        let (lufs, peak) = album_values(&[&quiet, &loud]);
        let expected = 10.0 * ((10f64.powf(-2.0) + 10f64.powf(-1.4)) / 2.0).log10();
        assert!(
            (lufs.unwrap() - expected).abs() < 0.1,
            "{lufs:?} vs {expected}"
        );
        assert!((peak.unwrap() - loud.true_peak).abs() < 1e-12);
        assert_eq!(album_values(&[]), (None, None));
    }
}
