//! The MP3 encoder: LAME through `mp3lame-encoder`, set up so that every frame stands alone.
//!
//! Constant bitrate, joint stereo, no resampling inside LAME (we hand it 44.1 or 48 kHz), no
//! Xing tag of its own (the stream's Info frame is computed up front by `layout`), and no bit
//! reservoir: with the reservoir a frame's audio may live partly in earlier frames, so a
//! stream stitched from two encoder runs would tear. The safe crate has no setter for the
//! reservoir or for bitrates it does not list (56 kbps), so those two go through
//! `mp3lame-sys` on the builder's pointer.

use super::TranscodeError;
use mp3lame_encoder::{Builder, Encoder, InterleavedPcm, Mode, Quality};

/// One LAME encoder producing stand-alone CBR frames from interleaved stereo f32 samples.
pub struct Mp3Encoder {
    encoder: Encoder,
}

/// Worst-case output bytes for `samples` input samples per channel (LAME's own bound:
/// 1.25 * samples + 7200).
fn output_bound(samples: usize) -> usize {
    samples * 5 / 4 + 7200
}

impl Mp3Encoder {
    /// An encoder at `kbps` (a standard bitrate) and `sample_rate` (44100 or 48000).
    pub fn new(kbps: u32, sample_rate: u32) -> Result<Self, TranscodeError> {
        let lame = |what: &str, e: mp3lame_encoder::BuildError| {
            TranscodeError::Encoder(format!("{what}: {e:?}"))
        };
        let mut builder =
            Builder::new().ok_or_else(|| TranscodeError::Encoder("lame_init failed".into()))?;
        builder
            .set_num_channels(2)
            .map_err(|e| lame("channels", e))?;
        builder
            .set_sample_rate(sample_rate)
            .map_err(|e| lame("sample rate", e))?;
        builder
            .set_output_sample_rate(std::num::NonZeroU32::new(sample_rate))
            .map_err(|e| lame("output sample rate", e))?;
        builder
            .set_mode(Mode::JointStereo)
            .map_err(|e| lame("mode", e))?;
        // LAME's -q 5: its default speed/quality trade-off (-q 2 costs about twice the time).
        builder
            .set_quality(Quality::Good)
            .map_err(|e| lame("quality", e))?;
        builder
            .set_to_write_vbr_tag(false)
            .map_err(|e| lame("Xing tag", e))?;
        // SAFETY: `as_ptr` is the builder's live `lame_global_flags`, owned by `builder` for
        // the whole block; these setters only store an int in it before `lame_init_params`
        // (called by `build`), which is how LAME expects them to be used.
        let (brate, reservoir) = unsafe {
            let flags = builder.as_ptr();
            (
                mp3lame_sys::lame_set_brate(flags, kbps as libc::c_int),
                mp3lame_sys::lame_set_disable_reservoir(flags, 1),
            )
        };
        if brate != 0 || reservoir != 0 {
            return Err(TranscodeError::Encoder(format!(
                "LAME refused bitrate {kbps} or the reservoir setting"
            )));
        }
        let encoder = builder.build().map_err(|e| lame("init", e))?;
        Ok(Mp3Encoder { encoder })
    }

    /// Encodes interleaved stereo samples (-1.0..1.0), appending whatever frames are complete
    /// to `out`.
    pub fn encode(&mut self, pcm: &[f32], out: &mut Vec<u8>) -> Result<(), TranscodeError> {
        out.reserve(output_bound(pcm.len() / 2));
        self.encoder
            .encode_to_vec(InterleavedPcm(pcm), out)
            .map_err(|e| TranscodeError::Encoder(format!("encode: {e:?}")))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcode::layout::{Layout, mpeg1_layer3_frame_len};

    fn tone(samples: usize, rate: u32) -> Vec<f32> {
        (0..samples)
            .flat_map(|i| {
                let t = i as f32 / rate as f32;
                let s = 0.3 * (t * 440.0 * std::f32::consts::TAU).sin()
                    + 0.2 * (t * 3_000.0 * std::f32::consts::TAU).sin();
                [s, -s]
            })
            .collect()
    }

    fn frames(bytes: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let len = mpeg1_layer3_frame_len(rest).expect("a frame header");
            out.push(&rest[..len]);
            rest = &rest[len..];
        }
        out
    }

    /// The padding pattern LAME really writes is the one `layout` predicts, at both rates and
    /// every bitrate (56 kbps included).
    #[test]
    fn lame_pads_frames_as_the_layout_says() {
        for rate in [44_100, 48_000] {
            for kbps in [56, 112, 128, 320] {
                let mut encoder = Mp3Encoder::new(kbps, rate).unwrap();
                let mut out = Vec::new();
                for chunk in tone(rate as usize * 3, rate).chunks(1152 * 2) {
                    encoder.encode(chunk, &mut out).unwrap();
                }
                let layout = Layout::new(kbps, rate, rate as u64 * 3);
                let frames = frames(&out);
                assert!(frames.len() > 100);
                for (k, frame) in frames.iter().enumerate() {
                    assert_eq!(
                        frame.len() as u64,
                        layout.frame_len(k as u64),
                        "{kbps} kbps at {rate} Hz, frame {k}"
                    );
                    // Every frame is stand-alone: main_data_begin (the first 9 bits after
                    // the header) is 0, so no frame borrows bytes from the one before.
                    let main_data_begin = (u16::from(frame[4]) << 1) | u16::from(frame[5] >> 7);
                    assert_eq!(main_data_begin, 0, "frame {k} uses the bit reservoir");
                }
            }
        }
    }
}
