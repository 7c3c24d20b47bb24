//! The byte layout of a constant-bitrate MP3 transcode, computed before a single sample is
//! encoded: every frame's size and offset, the total length, and the Xing/LAME "Info" frame
//! that opens the stream. This is what makes a transcode seekable from its first byte.
//!
//! Output is MPEG-1 Layer III: 1152 samples per frame, `144 * bitrate / sample_rate` bytes
//! (+1 when the frame is padded). LAME decides padding with a running remainder that starts at
//! the encoder's first frame (encoder.c: `slot_lag -= frac_SpF; if < 0 { pad }`), so frame `k`
//! of an encoder is padded iff `ceil(k*frac/rate) > ceil((k-1)*frac/rate)` with
//! `frac = 144000*kbps % rate`. That pattern repeats every `rate / gcd(frac, rate)` frames (49
//! or 7 at 44.1 kHz, 1 at 48 kHz where no frame is ever padded). An encoder restarted at a
//! multiple of that period therefore pads exactly like the encoder that ran from the start:
//! segment encoders start on multiples of it (see [`Segments`]).

/// Samples per MPEG-1 Layer III frame (per channel).
pub const SAMPLES_PER_FRAME: u64 = 1152;
/// LAME's encoder delay: the samples of silence its output starts with.
pub const ENCODER_DELAY: u64 = 576;
/// Bytes of the frame header plus MPEG-1 stereo side information, where the Xing tag starts.
const XING_OFFSET: usize = 4 + 32;
/// CBR bitrates an MPEG-1 Layer III frame can carry, in kbps, by bitrate index 1..=14.
pub const STANDARD_BITRATES: [u32; 14] = [
    32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
];
/// Output sample rates we encode at (MPEG-1 rates; 32 kHz is never chosen).
pub const OUTPUT_RATES: [u32; 2] = [44_100, 48_000];
/// Audio frames a segment spans at least (2.5 s); rounded up to the padding period (98
/// frames, 2.56 s, at 44.1 kHz). A range starting anywhere encodes half of it on average
/// before its first byte; each segment costs a fresh decoder and encoder and its pre-roll.
const SEGMENT_TARGET_FRAMES: u64 = 96;
/// Frames an encoder restarted for a segment encodes and throws away first, so that its
/// filter bank and psychoacoustic model have history when the kept frames begin (the seam is
/// then as clean as a continuous encode: `tests::seam_quality_by_preroll`).
pub const MIN_PREROLL_FRAMES: u64 = 4;

/// The nearest standard bitrate at or below `kbps` (32 when `kbps` is below every one).
pub fn standard_bitrate_at_most(kbps: u32) -> u32 {
    STANDARD_BITRATES
        .iter()
        .rev()
        .copied()
        .find(|&b| b <= kbps)
        .unwrap_or(STANDARD_BITRATES[0])
}

/// The output rate for a source rate: 44.1 kHz for its family (11.025, 22.05, 88.2, 176.4 kHz),
/// 48 kHz for everything else (8, 16, 24, 32, 96, 192 kHz...).
pub fn output_rate_for(source_rate: u32) -> u32 {
    if source_rate > 0 && source_rate.is_multiple_of(11_025) {
        44_100
    } else {
        48_000
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The frame layout of one transcode: `samples` samples (per channel) at `sample_rate`,
/// encoded at `kbps`, opened by one unpadded Info frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub kbps: u32,
    pub sample_rate: u32,
    /// Samples per channel of audio the stream carries (what a gapless decoder returns).
    pub samples: u64,
    /// Audio frames after the Info frame.
    pub audio_frames: u64,
    /// Size of an unpadded frame.
    frame_size: u64,
    /// The padding remainder per frame: `144000 * kbps % sample_rate`.
    frac: u64,
}

impl Layout {
    /// The layout of `samples` samples at `sample_rate` (44100 or 48000) and `kbps` (one of
    /// [`STANDARD_BITRATES`]).
    pub fn new(kbps: u32, sample_rate: u32, samples: u64) -> Layout {
        debug_assert!(STANDARD_BITRATES.contains(&kbps));
        debug_assert!(OUTPUT_RATES.contains(&sample_rate));
        let bytes_numerator = 144_000 * u64::from(kbps);
        // Like LAME's flush: at least 576 samples of padding after the audio, so that a
        // decoder's own 529-sample delay never eats into it.
        let audio_frames = (samples + ENCODER_DELAY + 576).div_ceil(SAMPLES_PER_FRAME);
        Layout {
            kbps,
            sample_rate,
            samples,
            audio_frames,
            frame_size: bytes_numerator / u64::from(sample_rate),
            frac: bytes_numerator % u64::from(sample_rate),
        }
    }

    /// Size of the Info frame: an unpadded frame at the stream's bitrate, or at 64 kbps for
    /// lower bitrates, whose frames are too small to hold the tag (a stream may change bitrate
    /// from frame to frame).
    pub fn header_len(&self) -> u64 {
        144_000 * u64::from(self.info_kbps()) / u64::from(self.sample_rate)
    }

    fn info_kbps(&self) -> u32 {
        self.kbps.max(64)
    }

    /// Padded frames among an encoder's first `k` frames.
    fn pads_before(&self, k: u64) -> u64 {
        if k == 0 {
            0
        } else {
            ((k - 1) * self.frac).div_ceil(u64::from(self.sample_rate))
        }
    }

    /// Whether audio frame `k` is padded.
    pub fn is_padded(&self, k: u64) -> bool {
        self.pads_before(k + 1) > self.pads_before(k)
    }

    /// Size in bytes of audio frame `k`.
    pub fn frame_len(&self, k: u64) -> u64 {
        self.frame_size + u64::from(self.is_padded(k))
    }

    /// Byte offset of audio frame `k` in the stream (`k == audio_frames` gives the length).
    pub fn frame_offset(&self, k: u64) -> u64 {
        self.header_len() + k * self.frame_size + self.pads_before(k)
    }

    /// Length of the whole stream in bytes.
    pub fn total_len(&self) -> u64 {
        self.frame_offset(self.audio_frames)
    }

    /// The audio frame that holds byte `offset`, None inside the Info frame or past the end.
    pub fn frame_at(&self, offset: u64) -> Option<u64> {
        if offset < self.header_len() || offset >= self.total_len() {
            return None;
        }
        // frame_offset is increasing: the last frame starting at or before `offset`.
        let (mut lo, mut hi) = (0, self.audio_frames);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if self.frame_offset(mid) <= offset {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }

    /// Frames after which the padding pattern repeats.
    pub fn padding_period(&self) -> u64 {
        u64::from(self.sample_rate) / gcd(self.frac, u64::from(self.sample_rate))
    }

    /// Samples after the audio in the last frame: what a gapless decoder drops at the end.
    pub fn end_padding(&self) -> u64 {
        self.audio_frames * SAMPLES_PER_FRAME - ENCODER_DELAY - self.samples
    }

    /// The Info frame: a Xing "Info" tag (frame count, byte count, seek table) with the LAME
    /// extension (encoder delay and padding, for gapless decoding), its CRC filled in.
    pub fn info_frame(&self) -> Vec<u8> {
        let total = self.total_len();
        let mut tag: Vec<u8> = Vec::with_capacity(192 - XING_OFFSET);
        tag.extend_from_slice(b"Info");
        // Flags: frames, bytes, TOC, quality.
        tag.extend_from_slice(&0x0000_000Fu32.to_be_bytes());
        tag.extend_from_slice(&(self.audio_frames as u32).to_be_bytes());
        tag.extend_from_slice(&(total as u32).to_be_bytes());
        // TOC: for each percent of the duration, the byte position in 1/256ths of the file.
        tag.extend((0..100u64).map(|i| {
            let frame = i * self.audio_frames / 100;
            (self.frame_offset(frame) * 256 / total).min(255) as u8
        }));
        // Quality indicator as LAME writes it for its default settings.
        tag.extend_from_slice(&58u32.to_be_bytes());
        // LAME extension.
        tag.extend_from_slice(b"LAME3.100");
        tag.push(0x01); // tag revision 0, method 1 = CBR
        tag.push(0); // lowpass unknown
        tag.extend_from_slice(&[0; 4]); // peak amplitude unknown
        tag.extend_from_slice(&[0; 2]); // radio ReplayGain unset
        tag.extend_from_slice(&[0; 2]); // audiophile ReplayGain unset
        tag.push(0); // encoding flags, ATH type
        tag.push(self.kbps.min(255) as u8); // bitrate
        let (delay, padding) = (ENCODER_DELAY as u32, self.end_padding() as u32);
        tag.extend_from_slice(&[
            (delay >> 4) as u8,
            (((delay & 0x0F) << 4) | (padding >> 8)) as u8,
            padding as u8,
        ]);
        tag.push(0); // misc
        tag.push(0); // MP3 gain
        tag.extend_from_slice(&[0; 2]); // preset and surround
        tag.extend_from_slice(&(total as u32).to_be_bytes()); // music length
        tag.extend_from_slice(&[0; 2]); // music CRC: unknown before encoding; decoders ignore it
        let mut frame = vec![0u8; self.header_len() as usize];
        frame[..4].copy_from_slice(&frame_header(self.info_kbps(), self.sample_rate, false));
        let end = XING_OFFSET + tag.len();
        frame[XING_OFFSET..end].copy_from_slice(&tag);
        // The tag CRC covers the frame's first 190 bytes.
        let crc = crc16_arc(&frame[..end]);
        frame[end..end + 2].copy_from_slice(&crc.to_be_bytes());
        frame
    }
}

/// An MPEG-1 Layer III frame header: no CRC, joint stereo, "original" set (as LAME writes).
fn frame_header(kbps: u32, sample_rate: u32, padded: bool) -> [u8; 4] {
    let bitrate_index = STANDARD_BITRATES
        .iter()
        .position(|&b| b == kbps)
        .map_or(0, |i| i + 1) as u8;
    let rate_index = match sample_rate {
        44_100 => 0,
        48_000 => 1,
        _ => 2,
    };
    [
        0xFF,
        0xFB,
        (bitrate_index << 4) | (rate_index << 2) | (u8::from(padded) << 1),
        0x44,
    ]
}

/// The length of the MPEG-1 Layer III frame whose header starts `bytes`, None when it is not
/// one (used to split encoder output into frames).
pub fn mpeg1_layer3_frame_len(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] & 0xFE != 0xFA {
        return None;
    }
    let bitrate_index = (bytes[2] >> 4) as usize;
    let rate = match (bytes[2] >> 2) & 0x03 {
        0 => 44_100,
        1 => 48_000,
        2 => 32_000,
        _ => return None,
    };
    let kbps = *STANDARD_BITRATES.get(bitrate_index.checked_sub(1)?)?;
    let padding = usize::from((bytes[2] >> 1) & 1);
    Some(144_000 * kbps as usize / rate + padding)
}

/// CRC-16/ARC (polynomial 0x8005 reflected, initial 0): the CRC of the LAME tag.
fn crc16_arc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// How a transcode is cut into independently encoded segments. Segment `s`'s encoder starts
/// at frame `s*len` (a multiple of the padding period, so it pads like the one global
/// pattern) and throws away its first `preroll` frames: segment 0 holds audio frames
/// `[0, len+preroll)`, segment `s` the frames `[s*len+preroll, (s+1)*len+preroll)`. The
/// pre-roll itself need not be a multiple of the period (at 44.1 kHz it would be 49 frames,
/// 1.3 s, per segment). The full transcode is just its segments in order: a ranged restart
/// re-encodes one segment exactly as the full transcode did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    /// Audio frames per segment (a multiple of the padding period).
    pub len: u64,
    /// Frames encoded and discarded before a segment's first frame (fewer than `len`).
    pub preroll: u64,
}

impl Segments {
    /// The segmentation of `layout`.
    pub fn of(layout: &Layout) -> Segments {
        let period = layout.padding_period();
        Segments {
            len: SEGMENT_TARGET_FRAMES.div_ceil(period) * period,
            preroll: MIN_PREROLL_FRAMES,
        }
    }

    /// The segment holding audio frame `k`.
    pub fn of_frame(&self, k: u64) -> u64 {
        k.saturating_sub(self.preroll) / self.len
    }

    /// The first audio frame of segment `s`, and the frame its encoder starts at.
    pub fn start(&self, s: u64) -> (u64, u64) {
        if s == 0 {
            (0, 0)
        } else {
            (s * self.len + self.preroll, s * self.len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitrates_round_down_to_standard_ones() {
        assert_eq!(standard_bitrate_at_most(128), 128);
        assert_eq!(standard_bitrate_at_most(150), 128);
        assert_eq!(standard_bitrate_at_most(1000), 320);
        assert_eq!(standard_bitrate_at_most(10), 32);
    }

    #[test]
    fn output_rates_keep_the_family() {
        assert_eq!(output_rate_for(44_100), 44_100);
        assert_eq!(output_rate_for(88_200), 44_100);
        assert_eq!(output_rate_for(22_050), 44_100);
        assert_eq!(output_rate_for(48_000), 48_000);
        assert_eq!(output_rate_for(96_000), 48_000);
        assert_eq!(output_rate_for(32_000), 48_000);
    }

    #[test]
    fn at_48k_every_frame_has_one_size() {
        for kbps in STANDARD_BITRATES {
            let l = Layout::new(kbps, 48_000, 48_000 * 10);
            assert_eq!(l.padding_period(), 1);
            let size = u64::from(144_000 * kbps / 48_000);
            assert!((0..l.audio_frames).all(|k| l.frame_len(k) == size));
            assert_eq!(l.total_len(), l.header_len() + l.audio_frames * size);
        }
    }

    #[test]
    fn at_44k_padding_averages_to_the_bitrate() {
        let l = Layout::new(128, 44_100, 44_100 * 60);
        assert_eq!(l.header_len(), 417);
        assert_eq!(l.padding_period(), 49);
        // Over one period the frames carry exactly period * 144000 * kbps / rate bytes.
        let bytes: u64 = (0..49).map(|k| l.frame_len(k)).sum();
        assert_eq!(bytes * 44_100, 49 * 144_000 * 128);
        // No padding on an encoder's first frame; the pattern repeats every period.
        assert!(!l.is_padded(0));
        assert!((0..200).all(|k| l.is_padded(k) == l.is_padded(k + 49)));
        assert_eq!(Layout::new(112, 44_100, 1).padding_period(), 7);
    }

    #[test]
    fn offsets_and_frame_lookup_agree() {
        let l = Layout::new(192, 44_100, 44_100 * 30 + 17);
        let mut offset = l.header_len();
        for k in 0..l.audio_frames {
            assert_eq!(l.frame_offset(k), offset);
            assert_eq!(l.frame_at(offset), Some(k));
            assert_eq!(l.frame_at(offset + l.frame_len(k) - 1), Some(k));
            offset += l.frame_len(k);
        }
        assert_eq!(l.total_len(), offset);
        assert_eq!(l.frame_at(0), None);
        assert_eq!(l.frame_at(offset), None);
    }

    #[test]
    fn frame_count_leaves_room_for_delay_and_padding() {
        for samples in [0, 1, 1152, 44_100, 1_323_000, 1_323_001] {
            let l = Layout::new(128, 44_100, samples);
            assert!(l.end_padding() >= 576, "{samples}");
            assert!(l.end_padding() < 576 + 1152, "{samples}");
        }
    }

    #[test]
    fn info_frame_is_a_valid_frame_with_a_checked_lame_tag() {
        let l = Layout::new(128, 44_100, 44_100 * 30);
        let f = l.info_frame();
        assert_eq!(f.len() as u64, l.header_len());
        assert_eq!(mpeg1_layer3_frame_len(&f), Some(f.len()));
        assert_eq!(&f[36..40], b"Info");
        assert_eq!(
            u32::from_be_bytes(f[44..48].try_into().unwrap()) as u64,
            l.audio_frames
        );
        assert_eq!(
            u32::from_be_bytes(f[48..52].try_into().unwrap()) as u64,
            l.total_len()
        );
        assert_eq!(&f[156..165], b"LAME3.100");
        let trim = u32::from_be_bytes([0, f[177], f[178], f[179]]);
        assert_eq!(u64::from(trim >> 12), ENCODER_DELAY);
        assert_eq!(u64::from(trim & 0xFFF), l.end_padding());
        assert_eq!(u16::from_be_bytes([f[190], f[191]]), crc16_arc(&f[..190]));
        // Frames of low bitrates are too small for the tag: the Info frame is a 64 kbps one.
        let low = Layout::new(32, 48_000, 48_000);
        assert_eq!(low.header_len(), 192);
        assert_eq!(mpeg1_layer3_frame_len(&low.info_frame()), Some(192));
    }

    #[test]
    fn crc16_arc_matches_the_reference_check_value() {
        assert_eq!(crc16_arc(b"123456789"), 0xBB3D);
    }

    #[test]
    fn segment_encoders_start_on_padding_periods() {
        let l = Layout::new(128, 44_100, 44_100 * 300);
        let s = Segments::of(&l);
        assert_eq!((s.len, s.preroll), (98, 4));
        assert_eq!(s.start(0), (0, 0));
        assert_eq!(s.start(3), (3 * 98 + 4, 3 * 98));
        // Every frame belongs to exactly one segment, and segments follow on.
        for k in 0..2_000 {
            let seg = s.of_frame(k);
            assert!(s.start(seg).0 <= k && k < s.start(seg + 1).0, "frame {k}");
            assert_eq!(s.start(seg).1 % l.padding_period(), 0);
        }
        let s48 = Segments::of(&Layout::new(128, 48_000, 48_000));
        assert_eq!((s48.len, s48.preroll), (96, 4));
        assert_eq!(Segments::of(&Layout::new(112, 44_100, 1)).len, 98);
    }
}
