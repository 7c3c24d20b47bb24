//! Ogg Opus transcodes: libopus (through the `opus` crate, linked against the system
//! libopus) in hard-CBR mode, packets laid out by `ogg::OggLayout`.
//!
//! Like the MP3 path, a stream is encoded in independent segments whose
//! encoders start `PREROLL_PACKETS` early (segments: whole pages, ~5 s) on a freshly opened decoder, so the full transcode
//! and a ranged restart compute the very same packets, and a range starting anywhere encodes
//! from the start of its segment only.

use super::decode::{self, Decoder};
use super::ogg::{OggLayout, PACKET_SAMPLES, PREROLL_PACKETS, RATE};
use super::{Flow, TranscodeError, shortfall_tolerance};
use std::ops::Range;
use std::path::PathBuf;

/// Opus bitrates we encode at: the MP3 ladder's values, within what Opus supports.
pub fn opus_bitrate(kbps: u32) -> u32 {
    super::layout::standard_bitrate_at_most(kbps).clamp(6, 510)
}

/// Everything fixed about one Opus transcode before it runs.
#[derive(Debug, Clone)]
pub struct OpusPlan {
    pub path: PathBuf,
    pub decoder: Decoder,
    pub layout: OggLayout,
    /// Output sample (48 kHz) of the source where the stream begins (timeOffset).
    pub start: u64,
    pub cache_key: Option<String>,
    pub identity: u64,
}

/// A hard-CBR libopus encoder for 20 ms packets.
pub struct OpusEncoder {
    encoder: opus::Encoder,
    channels: usize,
    packet_len: usize,
}

impl OpusEncoder {
    pub fn new(kbps: u32, channels: u8) -> Result<Self, TranscodeError> {
        let e = |what: &str, err: opus::Error| TranscodeError::Encoder(format!("{what}: {err}"));
        let layout = if channels == 1 {
            opus::Channels::Mono
        } else {
            opus::Channels::Stereo
        };
        let mut encoder = opus::Encoder::new(RATE, layout, opus::Application::Audio)
            .map_err(|err| e("init", err))?;
        encoder
            .set_bitrate(opus::Bitrate::Bits(kbps as i32 * 1000))
            .map_err(|err| e("bitrate", err))?;
        // Hard CBR: every packet exactly `packet_len` bytes (what makes the layout exact).
        encoder.set_vbr(false).map_err(|err| e("vbr", err))?;
        Ok(OpusEncoder {
            encoder,
            channels: usize::from(channels),
            packet_len: super::ogg::packet_len(kbps) as usize,
        })
    }

    /// Samples the decoder must drop at the start (the encoder's look-ahead): the pre-skip.
    pub fn lookahead(&mut self) -> Result<u16, TranscodeError> {
        let samples = self
            .encoder
            .get_lookahead()
            .map_err(|err| TranscodeError::Encoder(format!("lookahead: {err}")))?;
        u16::try_from(samples).map_err(|_| TranscodeError::Encoder("odd look-ahead".into()))
    }

    /// Encodes one packet's worth of interleaved samples (960 per channel) into `out`, which
    /// ends up exactly `packet_len` bytes long.
    pub fn encode(&mut self, pcm: &[f32], out: &mut Vec<u8>) -> Result<(), TranscodeError> {
        debug_assert_eq!(pcm.len(), PACKET_SAMPLES as usize * self.channels);
        out.clear();
        out.resize(self.packet_len, 0);
        let len = self
            .encoder
            .encode_float(pcm, out)
            .map_err(|err| TranscodeError::Encoder(format!("encode: {err}")))?;
        if len < self.packet_len {
            // Opus padding (RFC 6716 3.2.5): same audio, the announced size.
            opus::packet::pad(out, len)
                .map_err(|err| TranscodeError::Layout(format!("padding a packet: {err}")))?;
        }
        Ok(())
    }
}

/// Encodes the bytes `range` of the plan's stream and hands them to `sink` in order (see
/// `transcode::produce`). Blocking.
pub fn produce(
    plan: &OpusPlan,
    range: Range<u64>,
    sink: &mut dyn FnMut(&[u8]) -> Flow,
) -> Result<Flow, TranscodeError> {
    let layout = &plan.layout;
    let range = range.start..range.end.min(layout.total_len());
    let per_segment = layout.segment_packets() / layout.packets_per_page;
    let first = layout
        .page_at(range.start.max(layout.header_len()))
        .map(|p| p / per_segment);
    let count = layout.pages().div_ceil(per_segment);
    super::produce_segments(
        range,
        layout.headers(),
        first.map(|s| s..count),
        &mut |s, each| encode_segment(plan, s, &mut |p, page| each(layout.page_offset(p), page)),
        sink,
    )
}

/// Encodes segment `s` and hands each of its pages to `each` with the page's index.
fn encode_segment(
    plan: &OpusPlan,
    s: u64,
    each: &mut dyn FnMut(u64, &[u8]) -> Flow,
) -> Result<Flow, TranscodeError> {
    let layout = &plan.layout;
    let per_segment = layout.segment_packets();
    let first = s * per_segment;
    let end = (first + per_segment).min(layout.packets);
    let encoder_start = first.saturating_sub(PREROLL_PACKETS);
    let start_sample = encoder_start * PACKET_SAMPLES;
    let mut source = decode::open(&plan.decoder, &plan.path, RATE, plan.start + start_sample)?;
    let mut encoder = OpusEncoder::new(layout.kbps, layout.channels)?;
    // Real samples this encoder gets; then silence (the announced length is a promise).
    let real = layout.samples.saturating_sub(start_sample);
    let mut fed_real = 0u64;
    let mut source_done = real == 0;
    let frame = PACKET_SAMPLES as usize;
    let channels = usize::from(layout.channels);
    let mut pcm: Vec<f32> = Vec::with_capacity(frame * 8);
    let mut block = vec![0f32; frame * channels];
    let mut packet = Vec::with_capacity(layout.packet_len() as usize);
    let mut page_packets: Vec<u8> = Vec::new();
    let mut page = first / layout.packets_per_page;
    for k in encoder_start..end {
        while !source_done && pcm.len() < frame * 2 {
            if !source.read(&mut pcm)? {
                source_done = true;
            }
        }
        let wanted = (real - fed_real).min(PACKET_SAMPLES) as usize;
        let available = wanted.min(pcm.len() / 2);
        if available < wanted {
            let missing = real - fed_real - available as u64;
            if missing > shortfall_tolerance(layout.samples, RATE) {
                return Err(TranscodeError::Source(format!(
                    "{} ended {:.1} s early",
                    plan.path.display(),
                    missing as f64 / f64::from(RATE)
                )));
            }
            fed_real = real;
        } else {
            fed_real += available as u64;
        }
        let stereo = &pcm[..available * 2];
        if channels == 2 {
            block[..available * 2].copy_from_slice(stereo);
        } else {
            for (out, pair) in block.iter_mut().zip(stereo.chunks_exact(2)) {
                *out = (pair[0] + pair[1]) * 0.5;
            }
        }
        block[available * channels..].fill(0.0);
        pcm.drain(..available * 2);
        encoder.encode(&block, &mut packet)?;
        if k < first {
            continue;
        }
        page_packets.extend_from_slice(&packet);
        let on_page = layout.packets_on(page);
        if page_packets.len() as u64 == on_page * layout.packet_len() {
            let packets: Vec<&[u8]> = page_packets
                .chunks_exact(layout.packet_len() as usize)
                .collect();
            let bytes = layout.audio_page(page, &packets);
            if each(page, &bytes) == Flow::Stop {
                return Ok(Flow::Stop);
            }
            page_packets.clear();
            page += 1;
        }
    }
    if !page_packets.is_empty() {
        return Err(TranscodeError::Layout(format!(
            "segment {s} ended inside page {page}"
        )));
    }
    Ok(Flow::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libopus in hard-CBR mode gives packets of the size the layout announces (padded where
    /// it gives fewer), at the ladder's bitrates, in stereo and mono, for music and silence.
    #[test]
    fn packets_have_the_announced_size() {
        for kbps in [32, 64, 128, 320] {
            for channels in [1u8, 2] {
                let mut encoder = OpusEncoder::new(kbps, channels).unwrap();
                assert!(encoder.lookahead().unwrap() > 0);
                let mut packet = Vec::new();
                for k in 0..100 {
                    let block: Vec<f32> = (0..960 * usize::from(channels))
                        .map(|i| {
                            if k < 50 {
                                let t = (k * 960 + i) as f32 / 48_000.0;
                                0.3 * (t * 440.0 * std::f32::consts::TAU).sin()
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    encoder.encode(&block, &mut packet).unwrap();
                    assert_eq!(packet.len() as u64, super::super::ogg::packet_len(kbps));
                    let decoded = opus::packet::get_nb_samples(&packet, 48_000).unwrap();
                    assert_eq!(decoded, 960);
                }
            }
        }
    }

    #[test]
    fn bitrates_come_from_the_mp3_ladder() {
        assert_eq!(opus_bitrate(128), 128);
        assert_eq!(opus_bitrate(100), 96);
        assert_eq!(opus_bitrate(1000), 320);
        assert_eq!(opus_bitrate(1), 32);
    }
    /// `input` (interleaved stereo, 48 kHz) as packets of one fresh encoder.
    fn packets(input: &[f32]) -> Vec<Vec<u8>> {
        let mut encoder = OpusEncoder::new(128, 2).unwrap();
        input
            .chunks(PACKET_SAMPLES as usize * 2)
            .map(|chunk| {
                let mut block = chunk.to_vec();
                block.resize(PACKET_SAMPLES as usize * 2, 0.0);
                let mut packet = Vec::new();
                encoder.encode(&block, &mut packet).unwrap();
                packet
            })
            .collect()
    }

    fn decoded(packets: &[Vec<u8>]) -> Vec<f32> {
        let mut decoder = opus::Decoder::new(RATE, opus::Channels::Stereo).unwrap();
        let mut out = Vec::new();
        let mut block = vec![0f32; PACKET_SAMPLES as usize * 2];
        for packet in packets {
            let n = decoder.decode_float(packet, &mut block, false).unwrap();
            out.extend_from_slice(&block[..n * 2]);
        }
        out
    }

    /// The seam between two Opus segments, as `transcode::tests::seam_quality_by_preroll`
    /// measures it for MP3: SNR against the source over the 4 packets after the seam, next to
    /// one continuous encode's. The pre-roll in use must leave no loss above 1 dB; without
    /// one the seam shows. `cargo test --lib opus_seam -- --nocapture` prints the table.
    /// Measured (libopus 1.3, 128 kbps): 0 packets lose 12-16 dB, 4 packets up to 3.7 dB, 8
    /// packets still 2.1 dB at one seam, 16 packets (the pre-roll in use, 6 % of a 5 s
    /// segment) nothing: unlike LAME, libopus needs about 300 ms to forget its start.
    #[test]
    fn opus_seam_quality_by_preroll() {
        let input = crate::transcode::signal::tones(RATE, 2, 6.0);
        let continuous = packets(&input);
        let lag = OpusEncoder::new(128, 2).unwrap().lookahead().unwrap() as usize * 2;
        let reference = decoded(&continuous);
        let source: Vec<f32> = (0..reference.len())
            .map(|i| input.get(i.wrapping_sub(lag)).copied().unwrap_or(0.0))
            .collect();
        let snr = |a: &[f32], span: std::ops::Range<usize>| {
            let (mut err, mut sig) = (0f64, 0f64);
            for i in span {
                err += (f64::from(a[i]) - f64::from(source[i])).powi(2);
                sig += f64::from(source[i]).powi(2);
            }
            10.0 * (sig / err.max(1e-30)).log10()
        };
        let packet = PACKET_SAMPLES as usize * 2;
        let mut worst_in_use = f64::INFINITY;
        for preroll in [0usize, 2, 4, 8, 16] {
            let mut losses = Vec::new();
            for encoder_start in [50usize, 100, 150, 200] {
                let seam = encoder_start + preroll;
                let restarted = packets(&input[encoder_start * packet..]);
                let mut stitched = continuous[..seam].to_vec();
                stitched.extend_from_slice(&restarted[preroll..]);
                assert_eq!(stitched.len(), continuous.len());
                let ours = decoded(&stitched);
                let span = seam * packet..(seam + 4) * packet;
                losses.push(snr(&reference, span.clone()) - snr(&ours, span));
            }
            let worst = losses.iter().copied().fold(f64::MIN, f64::max);
            println!("Opus pre-roll {preroll:>2} packets: SNR loss at the seam {losses:.2?} dB");
            if preroll as u64 == PREROLL_PACKETS {
                worst_in_use = worst;
            }
            if preroll == 0 {
                assert!(worst > 1.0, "a seam without pre-roll should show: {worst}");
            }
        }
        assert!(worst_in_use < 1.0, "the seam loses {worst_in_use} dB");
    }
}
