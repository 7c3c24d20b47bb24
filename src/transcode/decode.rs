//! Decoded audio for the encoder: interleaved stereo f32 at the output rate, starting at any
//! sample. Symphonia decodes in-process; ffmpeg (when configured) decodes what symphonia
//! cannot. Both are opened afresh for every segment, so a segment's samples depend only on the
//! file and the segment's start, never on what was decoded before (see `layout::Segments`).

use super::TranscodeError;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use symphonia::core::audio::{Channels, SampleBuffer};
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// What decodes a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoder {
    /// In-process (MP3, FLAC, WAV, AIFF, Ogg Vorbis, AAC and ALAC in MP4).
    Symphonia,
    /// An ffmpeg executable, for everything else.
    Ffmpeg(PathBuf),
}

/// What the transcode needs to know about a source before decoding it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub sample_rate: u32,
    /// Samples per channel when the container says (FLAC, WAV, MP3 with a Xing tag...).
    pub frames: Option<u64>,
}

/// A source of interleaved stereo samples at the output rate.
pub trait PcmSource: Send {
    /// Appends the next decoded samples to `out`; Ok(false) once the source has ended.
    fn read(&mut self, out: &mut Vec<f32>) -> Result<bool, TranscodeError>;
}

struct Opened {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
    track_id: u32,
    sample_rate: u32,
    frames: Option<u64>,
}

fn open_symphonia(path: &Path) -> Result<Opened, TranscodeError> {
    let file = File::open(path).map_err(|e| TranscodeError::Source(e.to_string()))?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let format_options = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &format_options, &MetadataOptions::default())
        .map_err(|e| unsupported_or_corrupt(e, path))?;
    let format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| TranscodeError::Unsupported(format_name(path)))?;
    let params = track.codec_params.clone();
    let track_id = track.id;
    let decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| unsupported_or_corrupt(e, path))?;
    let sample_rate = params
        .sample_rate
        .ok_or_else(|| TranscodeError::Unsupported(format_name(path)))?;
    Ok(Opened {
        format,
        decoder,
        track_id,
        sample_rate,
        frames: params.n_frames,
    })
}

/// The name a user knows a file's format by: its extension.
pub fn format_name(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| "this file".into())
}

fn unsupported_or_corrupt(e: SymphoniaError, path: &Path) -> TranscodeError {
    match e {
        SymphoniaError::Unsupported(_) => TranscodeError::Unsupported(format_name(path)),
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            TranscodeError::Unsupported(format_name(path))
        }
        other => TranscodeError::Source(other.to_string()),
    }
}

/// Formats symphonia has no decoder for, sent to ffmpeg without asking symphonia: its probe
/// scans for a sync word and can take DSD or WMA packet bytes for MPEG frames and "decode"
/// noise.
const FFMPEG_ONLY: &[&str] = &["wma", "asf", "dsf", "dff"];

/// Reads a file's stream parameters with symphonia; `Unsupported` when symphonia has no
/// demuxer or decoder for it.
pub fn probe(path: &Path) -> Result<SourceInfo, TranscodeError> {
    let format = format_name(path);
    if FFMPEG_ONLY.contains(&format.as_str()) {
        return Err(TranscodeError::Unsupported(format));
    }
    let opened = open_symphonia(path)?;
    Ok(SourceInfo {
        sample_rate: opened.sample_rate,
        frames: opened.frames,
    })
}

/// Opens `path` for samples at `out_rate`, starting at output sample `start`.
pub fn open(
    decoder: &Decoder,
    path: &Path,
    out_rate: u32,
    start: u64,
) -> Result<Box<dyn PcmSource>, TranscodeError> {
    match decoder {
        Decoder::Symphonia => Ok(Box::new(SymphoniaPcm::open(path, out_rate, start)?)),
        Decoder::Ffmpeg(program) => Ok(Box::new(FfmpegPcm::open(program, path, out_rate, start)?)),
    }
}

/// Samples decoded in-process.
struct SymphoniaPcm {
    opened: Opened,
    /// Source samples still to drop before `start` (after an inexact or failed seek).
    skip_until: u64,
    /// Timestamp of the next decoded sample, once known.
    position: Option<u64>,
    mixer: Option<Downmix>,
    resampler: Option<StereoResampler>,
    /// Whether the decoder's last samples have been pushed through the resampler.
    flushed: bool,
    stereo: Vec<f32>,
    /// The decoded packet, interleaved, and the layout it was made for.
    buffer: Option<(SampleBuffer<f32>, symphonia::core::audio::SignalSpec)>,
}

impl SymphoniaPcm {
    fn open(path: &Path, out_rate: u32, start: u64) -> Result<Self, TranscodeError> {
        let mut opened = open_symphonia(path)?;
        let source_rate = opened.sample_rate;
        let source_start = (u128::from(start) * u128::from(source_rate) + u128::from(out_rate) / 2)
            / u128::from(out_rate);
        let source_start = source_start as u64;
        if source_start > 0 {
            // An accurate seek lands on a packet at or before the target; a format that
            // cannot seek is decoded from its start instead. Either way the samples before
            // `source_start` are dropped below, so the result is the same.
            let to = SeekTo::TimeStamp {
                ts: source_start,
                track_id: opened.track_id,
            };
            if opened.format.seek(SeekMode::Accurate, to).is_ok() {
                opened.decoder.reset();
            } else {
                opened = open_symphonia(path)?;
            }
        }
        let resampler = if source_rate == out_rate {
            None
        } else {
            Some(StereoResampler::new(source_rate, out_rate)?)
        };
        Ok(SymphoniaPcm {
            opened,
            skip_until: source_start,
            position: None,
            mixer: None,
            resampler,
            flushed: false,
            stereo: Vec::new(),
            buffer: None,
        })
    }

    /// Decodes one packet into `self.stereo` (source rate); Ok(false) at the end.
    fn decode_packet(&mut self) -> Result<bool, TranscodeError> {
        self.stereo.clear();
        let packet = match self.opened.format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(false);
            }
            // A chained stream (a new logical Ogg stream) ends the track for us.
            Err(SymphoniaError::ResetRequired) => return Ok(false),
            Err(e) => return Err(TranscodeError::Source(e.to_string())),
        };
        if packet.track_id() != self.opened.track_id {
            return Ok(true);
        }
        let position = *self.position.get_or_insert(packet.ts());
        let silence;
        let (channels, samples): (Channels, &[f32]) = match self.opened.decoder.decode(&packet) {
            Ok(decoded) => {
                let spec = *decoded.spec();
                // One buffer for the whole stream (a new one only when a packet outgrows it
                // or the layout changes): no allocation per packet.
                let fits = self.buffer.as_ref().is_some_and(|(b, s)| {
                    *s == spec && b.capacity() >= decoded.capacity() * spec.channels.count()
                });
                if !fits {
                    self.buffer = Some((
                        SampleBuffer::<f32>::new(decoded.capacity() as u64, spec),
                        spec,
                    ));
                }
                let (buffer, _) = self.buffer.as_mut().expect("set above");
                buffer.copy_interleaved_ref(decoded);
                (spec.channels, buffer.samples())
            }
            Err(SymphoniaError::DecodeError(why)) => {
                // One bad packet: keep time with silence and go on.
                tracing::warn!(
                    "skipping an undecodable packet at ts {}: {why}",
                    packet.ts()
                );
                silence = vec![0.0; packet.dur() as usize * 2];
                (Channels::FRONT_LEFT | Channels::FRONT_RIGHT, &silence)
            }
            Err(e) => return Err(TranscodeError::Source(e.to_string())),
        };
        let mixer = self.mixer.get_or_insert_with(|| Downmix::new(channels));
        if mixer.channels != channels {
            *mixer = Downmix::new(channels);
        }
        let frames = (samples.len() / mixer.count.max(1)) as u64;
        let skip = self.skip_until.saturating_sub(position).min(frames) as usize;
        self.position = Some(position + frames);
        mixer.mix(&samples[skip * mixer.count..], &mut self.stereo);
        Ok(true)
    }
}

impl PcmSource for SymphoniaPcm {
    fn read(&mut self, out: &mut Vec<f32>) -> Result<bool, TranscodeError> {
        loop {
            if self.flushed {
                return Ok(false);
            }
            let more = self.decode_packet()?;
            let before = out.len();
            match (&mut self.resampler, more) {
                (None, true) => out.extend_from_slice(&self.stereo),
                (None, false) => return Ok(false),
                (Some(r), true) => r.push(&self.stereo, out)?,
                (Some(r), false) => {
                    r.finish(out)?;
                    self.flushed = true;
                }
            }
            if out.len() > before || self.flushed {
                return Ok(true);
            }
        }
    }
}

/// Samples decoded by an ffmpeg child process (killed when dropped).
struct FfmpegPcm {
    child: Child,
    stdout: ChildStdout,
    bytes: Vec<u8>,
}

impl FfmpegPcm {
    fn open(
        program: &Path,
        path: &Path,
        out_rate: u32,
        start: u64,
    ) -> Result<Self, TranscodeError> {
        let mut command = Command::new(program);
        command.args(["-nostdin", "-v", "error"]);
        if start > 0 {
            // As an input option -ss seeks, then decodes and drops up to the exact time.
            let seconds = start as f64 / f64::from(out_rate);
            command.arg("-ss").arg(format!("{seconds:.6}"));
        }
        command
            .arg("-i")
            .arg(path)
            .args(["-map", "0:a:0", "-vn", "-f", "f32le", "-ac", "2", "-ar"])
            .arg(out_rate.to_string())
            .arg("-")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command
            .spawn()
            .map_err(|e| TranscodeError::Source(format!("cannot run ffmpeg: {e}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| TranscodeError::Source("ffmpeg has no output pipe".into()))?;
        Ok(FfmpegPcm {
            child,
            stdout,
            bytes: Vec::new(),
        })
    }
}

impl PcmSource for FfmpegPcm {
    fn read(&mut self, out: &mut Vec<f32>) -> Result<bool, TranscodeError> {
        let mut chunk = [0u8; 32 * 1024];
        let n = self
            .stdout
            .read(&mut chunk)
            .map_err(|e| TranscodeError::Source(format!("reading from ffmpeg: {e}")))?;
        if n == 0 {
            let status = self
                .child
                .wait()
                .map_err(|e| TranscodeError::Source(e.to_string()))?;
            if !status.success() {
                return Err(TranscodeError::Source(format!("ffmpeg failed ({status})")));
            }
            return Ok(false);
        }
        self.bytes.extend_from_slice(&chunk[..n]);
        let whole = self.bytes.len() / 4 * 4;
        out.extend(
            self.bytes[..whole]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        self.bytes.drain(..whole);
        Ok(true)
    }
}

impl Drop for FfmpegPcm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Mixes any channel layout down to stereo: front channels straight, centre and surrounds at
/// -3 dB, LFE dropped (ITU-R BS.775), scaled down when the sum could clip.
struct Downmix {
    channels: Channels,
    count: usize,
    /// (left gain, right gain) per input channel, in interleaving order.
    gains: Vec<(f32, f32)>,
}

impl Downmix {
    fn new(channels: Channels) -> Downmix {
        const H: f32 = std::f32::consts::FRAC_1_SQRT_2;
        let count = channels.count();
        let gains: Vec<(f32, f32)> = if count == 1 {
            vec![(1.0, 1.0)]
        } else if count == 2 {
            vec![(1.0, 0.0), (0.0, 1.0)]
        } else {
            channels
                .iter()
                .map(|c| {
                    if c == Channels::FRONT_LEFT {
                        (1.0, 0.0)
                    } else if c == Channels::FRONT_RIGHT {
                        (0.0, 1.0)
                    } else if c == Channels::LFE1 || c == Channels::LFE2 {
                        (0.0, 0.0)
                    } else if c.intersects(
                        Channels::REAR_LEFT
                            | Channels::SIDE_LEFT
                            | Channels::FRONT_LEFT_CENTRE
                            | Channels::REAR_LEFT_CENTRE
                            | Channels::FRONT_LEFT_WIDE
                            | Channels::FRONT_LEFT_HIGH
                            | Channels::TOP_FRONT_LEFT
                            | Channels::TOP_REAR_LEFT,
                    ) {
                        (H, 0.0)
                    } else if c.intersects(
                        Channels::REAR_RIGHT
                            | Channels::SIDE_RIGHT
                            | Channels::FRONT_RIGHT_CENTRE
                            | Channels::REAR_RIGHT_CENTRE
                            | Channels::FRONT_RIGHT_WIDE
                            | Channels::FRONT_RIGHT_HIGH
                            | Channels::TOP_FRONT_RIGHT
                            | Channels::TOP_REAR_RIGHT,
                    ) {
                        (0.0, H)
                    } else {
                        (H, H)
                    }
                })
                .collect()
        };
        let loudest = gains
            .iter()
            .fold((0.0f32, 0.0f32), |(l, r), (gl, gr)| (l + gl, r + gr));
        let scale = 1.0 / loudest.0.max(loudest.1).max(1.0);
        Downmix {
            channels,
            count,
            gains: gains
                .into_iter()
                .map(|(l, r)| (l * scale, r * scale))
                .collect(),
        }
    }

    fn mix(&self, interleaved: &[f32], out: &mut Vec<f32>) {
        if self.count == 2 {
            out.extend_from_slice(interleaved);
            return;
        }
        for frame in interleaved.chunks_exact(self.count) {
            let (mut l, mut r) = (0.0, 0.0);
            for (s, (gl, gr)) in frame.iter().zip(&self.gains) {
                l += s * gl;
                r += s * gr;
            }
            out.push(l);
            out.push(r);
        }
    }
}

/// Stereo sample-rate conversion with rubato's FFT resampler (fixed ratio), its start-up delay
/// trimmed so that output sample 0 is input sample 0.
struct StereoResampler {
    fft: Fft<f32>,
    pending: Vec<f32>,
    scratch: Vec<f32>,
    delay_left: usize,
}

impl StereoResampler {
    fn new(from: u32, to: u32) -> Result<Self, TranscodeError> {
        let fft = Fft::<f32>::new(from as usize, to as usize, 1024, 2, FixedSync::Input)
            .map_err(|e| TranscodeError::Source(format!("resampler: {e}")))?;
        let delay_left = fft.output_delay();
        Ok(StereoResampler {
            scratch: vec![0.0; fft.output_frames_max() * 2],
            fft,
            pending: Vec::new(),
            delay_left,
        })
    }

    fn run(&mut self, out: &mut Vec<f32>) -> Result<(), TranscodeError> {
        loop {
            let need = self.fft.input_frames_next();
            if self.pending.len() < need * 2 {
                return Ok(());
            }
            let resample =
                |e: &dyn std::fmt::Display| TranscodeError::Source(format!("resampler: {e}"));
            let input = InterleavedSlice::new(&self.pending[..need * 2], 2, need)
                .map_err(|e| resample(&e))?;
            let frames_out = self.scratch.len() / 2;
            let mut output = InterleavedSlice::new_mut(&mut self.scratch, 2, frames_out)
                .map_err(|e| resample(&e))?;
            let (used, written) = self
                .fft
                .process_into_buffer(&input, &mut output, None)
                .map_err(|e| resample(&e))?;
            self.pending.drain(..used * 2);
            let skip = self.delay_left.min(written);
            self.delay_left -= skip;
            out.extend_from_slice(&self.scratch[skip * 2..written * 2]);
        }
    }

    fn push(&mut self, stereo: &[f32], out: &mut Vec<f32>) -> Result<(), TranscodeError> {
        self.pending.extend_from_slice(stereo);
        self.run(out)
    }

    /// Pushes silence through so the last real samples come out.
    fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), TranscodeError> {
        let tail = self.fft.input_frames_max() * 2 + self.fft.output_delay() * 4;
        self.pending.resize(self.pending.len() + tail * 2, 0.0);
        self.run(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_one_mixes_down_without_clipping() {
        let layout = Channels::FRONT_LEFT
            | Channels::FRONT_RIGHT
            | Channels::FRONT_CENTRE
            | Channels::LFE1
            | Channels::REAR_LEFT
            | Channels::REAR_RIGHT;
        let mix = Downmix::new(layout);
        let mut out = Vec::new();
        // Full scale on every channel must not exceed full scale on either side.
        mix.mix(&[1.0; 6], &mut out);
        assert!(out[0] <= 1.0 + 1e-6 && out[0] > 0.9, "{out:?}");
        // The LFE alone is silent; the centre alone lands equally on both sides.
        out.clear();
        mix.mix(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0], &mut out);
        assert_eq!(out, vec![0.0, 0.0]);
        out.clear();
        mix.mix(&[0.0, 0.0, 1.0, 0.0, 0.0, 0.0], &mut out);
        assert!(out[0] > 0.0 && (out[0] - out[1]).abs() < 1e-6);
    }

    #[test]
    fn wma_and_dsd_are_left_to_ffmpeg() {
        use crate::synth::{Format, TrackSpec, write_track};
        let dir = tempfile::tempdir().unwrap();
        for format in [Format::Wma, Format::Dsf, Format::Dff] {
            let path = dir.path().join(format!("t.{}", format.extension()));
            write_track(&path, format, &TrackSpec::default()).unwrap();
            // Audio data that happens to hold MPEG frames must not make symphonia "decode" it.
            let mut bytes = std::fs::read(&path).unwrap();
            let mp3 = crate::synth::template_bytes(Format::Mp3);
            if bytes.len() > 2 * mp3.len() {
                let at = bytes.len() / 2;
                bytes[at..at + mp3.len()].copy_from_slice(mp3);
            }
            std::fs::write(&path, bytes).unwrap();
            match probe(&path) {
                Err(TranscodeError::Unsupported(name)) => assert_eq!(name, format.extension()),
                other => panic!("{format:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn mono_goes_to_both_sides() {
        let mix = Downmix::new(Channels::FRONT_LEFT);
        let mut out = Vec::new();
        mix.mix(&[0.5, -0.25], &mut out);
        assert_eq!(out, vec![0.5, 0.5, -0.25, -0.25]);
    }

    #[test]
    fn resampling_halves_96k_and_keeps_the_length() {
        let mut r = StereoResampler::new(96_000, 48_000).unwrap();
        let input: Vec<f32> = (0..96_000)
            .flat_map(|i| {
                let s = (i as f32 / 96_000.0 * 1_000.0 * std::f32::consts::TAU).sin() * 0.5;
                [s, s]
            })
            .collect();
        let mut out = Vec::new();
        r.push(&input, &mut out).unwrap();
        r.finish(&mut out).unwrap();
        let frames = out.len() / 2;
        assert!(frames >= 48_000, "{frames}");
        // No start-up delay: the sine's first peak is where it belongs (sample 12 at 48 kHz).
        let peak = (0..48)
            .max_by(|&a, &b| out[a * 2].total_cmp(&out[b * 2]))
            .unwrap();
        assert!((11..=13).contains(&peak), "{peak}");
    }
}
