//! Real audio made on the spot, for tests and the transcode benchmark: a deterministic
//! multi-tone signal with a moving melody, noise and a level envelope (so the encoder has
//! real work), written as PCM WAV (any rate, any channel count) or as an MP3.

use super::TranscodeError;
use super::mp3::Mp3Encoder;

/// `seconds` of interleaved samples (-1.0..1.0) at `rate` with `channels` channels; every
/// channel differs a little so a downmix has something to mix.
pub fn tones(rate: u32, channels: u16, seconds: f64) -> Vec<f32> {
    let frames = (seconds * f64::from(rate)) as usize;
    let mut noise = 0x1234_5678u32;
    let mut out = Vec::with_capacity(frames * usize::from(channels));
    for i in 0..frames {
        let t = i as f64 / f64::from(rate);
        // A note every quarter second, from a pentatonic scale.
        let note = [220.0, 247.5, 277.2, 330.0, 370.0][(t * 4.0) as usize % 5];
        let envelope = 0.6 + 0.4 * (t * 0.7 * std::f64::consts::TAU).sin();
        for c in 0..channels {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let hiss = f64::from(noise >> 8) / f64::from(1u32 << 24) - 0.5;
            let tone = (t * note * (1.0 + f64::from(c) * 0.01) * std::f64::consts::TAU).sin()
                + 0.3 * (t * 3_520.0 * std::f64::consts::TAU).sin()
                + 0.1 * hiss;
            out.push((0.4 * envelope * tone) as f32);
        }
    }
    out
}

/// A 16-bit PCM WAV file (WAVE_FORMAT_EXTENSIBLE with the standard channel mask beyond two
/// channels, e.g. 5.1 = FL FR FC LFE BL BR).
pub fn wav_bytes(rate: u32, channels: u16, samples: &[f32]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let extensible = channels > 2;
    let fmt_len: u32 = if extensible { 40 } else { 16 };
    let mut out = Vec::with_capacity(samples.len() * 2 + 68);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + 8 + fmt_len + 8 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&fmt_len.to_le_bytes());
    out.extend_from_slice(&(if extensible { 0xFFFEu16 } else { 1 }).to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    if extensible {
        out.extend_from_slice(&22u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        let mask: u32 = (1u32 << channels) - 1;
        out.extend_from_slice(&mask.to_le_bytes());
        // KSDATAFORMAT_SUBTYPE_PCM
        out.extend_from_slice(&[
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38,
            0x9B, 0x71,
        ]);
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32_767.0) as i16).to_le_bytes());
    }
    out
}

/// A plain CBR MP3 stream (no Xing tag) of stereo `samples` at `rate` (44100 or 48000).
pub fn mp3_bytes(kbps: u32, rate: u32, samples: &[f32]) -> Result<Vec<u8>, TranscodeError> {
    let mut encoder = Mp3Encoder::new(kbps, rate)?;
    let mut out = Vec::new();
    for chunk in samples.chunks(1152 * 2) {
        encoder.encode(chunk, &mut out)?;
    }
    // Silence pushes the encoder's last frames out.
    encoder.encode(&[0.0; 1152 * 2 * 3], &mut out)?;
    Ok(out)
}
