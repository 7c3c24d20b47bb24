//! Audio properties of an ADTS AAC stream (`.aac`) estimated from its first frames.
//!
//! An ADTS stream has no header giving its length: the exact duration needs every frame
//! header, which lofty walks (about 4 ms for a four-minute file, most of a scan's time for
//! such files). Like other servers, we read the frames in the first [`SAMPLE_BYTES`] only
//! and scale their average length to the audio's size. Encoders hold the bitrate steady over
//! a whole track, so the estimate stays within about 1 % of the exact duration for real
//! encodes (the unit tests below and the scanner tests bound it); a stream whose bitrate
//! changes a lot along the way is estimated like a CBR stream of its opening bitrate.

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

/// Bytes of audio whose frames are averaged: about 4 to 8 s of a 128-256 kbps stream.
pub const SAMPLE_BYTES: usize = 128 * 1024;

/// Samples per channel in one raw data block of AAC.
const SAMPLES_PER_BLOCK: u64 = 1024;

const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// One ADTS frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    sample_rate: u32,
    channels: u8,
    /// The whole frame, header included.
    len: usize,
    /// Raw data blocks in the frame (1024 samples each).
    blocks: u64,
}

fn frame_at(bytes: &[u8]) -> Option<Frame> {
    let h = bytes.get(..7)?;
    // Sync word 0xFFF, layer 0.
    if h[0] != 0xFF || h[1] & 0xF6 != 0xF0 {
        return None;
    }
    let sample_rate = *SAMPLE_RATES.get(usize::from((h[2] >> 2) & 0x0F))?;
    let channels = ((h[2] & 0x01) << 2) | (h[3] >> 6);
    let len = (usize::from(h[3] & 0x03) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
    let header_len = if h[1] & 0x01 == 0 { 9 } else { 7 };
    if len <= header_len {
        return None;
    }
    Some(Frame {
        sample_rate,
        channels,
        len,
        blocks: u64::from(h[6] & 0x03) + 1,
    })
}

/// What the estimate gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdtsEstimate {
    pub duration: Duration,
    /// kbps
    pub bitrate: u32,
    pub sample_rate: u32,
    pub channels: u8,
}

/// Estimates the properties of the ADTS stream in `audio` bytes of which `sample` is the
/// beginning (starting at the first frame or a little before it). Frames are trusted only
/// where the next one follows where the header says (as lofty checks); `None` when no two
/// frames in a row are found.
pub fn estimate(sample: &[u8], audio: u64) -> Option<AdtsEstimate> {
    let mut pos = (0..sample.len().saturating_sub(7)).find(|&i| {
        frame_at(&sample[i..])
            .and_then(|f| frame_at(sample.get(i + f.len..)?))
            .is_some()
    })?;
    let first = frame_at(&sample[pos..])?;
    let start = pos;
    let (mut frames_bytes, mut blocks) = (0u64, 0u64);
    while let Some(frame) = frame_at(&sample[pos..]) {
        if pos + frame.len > sample.len()
            || frame.sample_rate != first.sample_rate
            || frame.channels != first.channels
        {
            break;
        }
        frames_bytes += frame.len as u64;
        blocks += frame.blocks;
        pos += frame.len;
    }
    if blocks == 0 {
        return None;
    }
    let audio = audio.saturating_sub(start as u64).max(frames_bytes);
    let sample_rate = u64::from(first.sample_rate);
    // samples = audio bytes / bytes per block * samples per block.
    let micros = u128::from(audio) * u128::from(blocks) * u128::from(SAMPLES_PER_BLOCK) * 1_000_000
        / (u128::from(frames_bytes) * u128::from(sample_rate));
    let duration = Duration::from_micros(u64::try_from(micros).ok()?);
    let bitrate = frames_bytes * 8 * sample_rate / (blocks * SAMPLES_PER_BLOCK) / 1000;
    Some(AdtsEstimate {
        duration,
        bitrate: u32::try_from(bitrate).ok()?,
        sample_rate: first.sample_rate,
        channels: first.channels,
    })
}

/// [`estimate`] on a file: the audio runs from the end of a leading ID3v2 tag to the end of
/// the file, less a trailing ID3v1 tag.
pub fn estimate_file<R: Read + Seek>(r: &mut R) -> Option<AdtsEstimate> {
    let len = r.seek(SeekFrom::End(0)).ok()?;
    let mut id3 = [0u8; 10];
    r.seek(SeekFrom::Start(0)).ok()?;
    let audio_start = match r.read_exact(&mut id3) {
        Ok(()) if id3.starts_with(b"ID3") => {
            let size = id3[6..10]
                .iter()
                .fold(0u64, |size, b| (size << 7) | u64::from(b & 0x7F));
            let footer = if id3[5] & 0x10 != 0 { 10 } else { 0 };
            10 + size + footer
        }
        _ => 0,
    };
    let mut end = len;
    if len >= audio_start + 128 {
        let mut tag = [0u8; 3];
        r.seek(SeekFrom::Start(len - 128)).ok()?;
        r.read_exact(&mut tag).ok()?;
        if &tag == b"TAG" {
            end -= 128;
        }
    }
    let audio = end.checked_sub(audio_start)?;
    let mut sample = vec![0; audio.min(SAMPLE_BYTES as u64) as usize];
    r.seek(SeekFrom::Start(audio_start)).ok()?;
    r.read_exact(&mut sample).ok()?;
    estimate(&sample, audio)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ADTS frame header (no CRC) for a frame of `len` bytes, padded with zeros.
    fn frame(len: usize, rate_index: u8, channels: u8) -> Vec<u8> {
        let mut f = vec![
            0xFF,
            0xF1,
            (1 << 6) | (rate_index << 2) | (channels >> 2),
            ((channels & 3) << 6) | ((len >> 11) as u8 & 3),
            (len >> 3) as u8,
            ((len & 7) as u8) << 5 | 0x1F,
            0xFC,
        ];
        f.resize(len, 0);
        f
    }

    #[test]
    fn constant_frames_give_the_exact_duration() {
        // 44.1 kHz, 2 channels, 400-byte frames: 1000 frames = 1,024,000 samples.
        let stream: Vec<u8> = (0..1000).flat_map(|_| frame(400, 4, 2)).collect();
        let sample = &stream[..SAMPLE_BYTES.min(stream.len())];
        let e = estimate(&sample[..40_000], stream.len() as u64).unwrap();
        assert_eq!(e.sample_rate, 44100);
        assert_eq!(e.channels, 2);
        assert_eq!(e.duration.as_millis(), 1_024_000 * 1000 / 44100);
        // 400 bytes per 1024 samples at 44.1 kHz.
        assert_eq!(e.bitrate, 137);
    }

    #[test]
    fn junk_before_the_first_frame_and_a_false_sync_are_skipped() {
        let mut stream = vec![0u8, 0xFF, 0xF1, 0x50];
        stream.extend((0..50).flat_map(|_| frame(300, 3, 1)));
        let e = estimate(&stream, stream.len() as u64).unwrap();
        assert_eq!(e.sample_rate, 48000);
        assert_eq!(e.channels, 1);
        assert_eq!(e.duration.as_micros(), 50 * 1024 * 1_000_000 / 48000);
    }

    #[test]
    fn no_stream_no_estimate() {
        assert_eq!(estimate(&[0u8; 4096], 4096), None);
        // One lone frame: nothing confirms it.
        assert_eq!(estimate(&frame(300, 3, 2), 300), None);
    }
}
