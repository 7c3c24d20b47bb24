//! The byte layout of an Ogg Opus transcode, fixed before encoding.
//!
//! Hard-CBR Opus packets of 20 ms all have one size (`kbps * 2.5` bytes; a shorter packet is
//! padded to it, which Opus defines), and we put a fixed number of packets on every audio page
//! and never split a packet across pages, so every page's size, offset, sequence number and
//! granule position follow from the packet count: the stream has an exact length and any byte
//! can be located before a packet is encoded. Only a page's CRC needs its packets.
//!
//! Layout: the OpusHead page, the OpusTags page, then audio pages of `packets_per_page`
//! packets (the last one shorter, end-of-stream, its granule trimmed to the real length). The
//! stream is cut into segments of whole pages (5 s) that are encoded independently (each encoder
//! starts a few packets early and throws those away), like the MP3 path's `layout::Segments`.

/// Samples per channel in one Opus packet: 20 ms at 48 kHz.
pub const PACKET_SAMPLES: u64 = 960;
/// The Opus output (and granule) rate.
pub const RATE: u32 = 48_000;
/// Packets per audio page at most (0.5 s: a small first page means an early first byte).
const MAX_PACKETS_PER_PAGE: u64 = 25;
/// Pages per independently encoded segment (5 s: a range starting anywhere encodes 2.5 s
/// of audio on average before its first byte; the pre-roll costs 6 %).
const PAGES_PER_SEGMENT: u64 = 10;
/// Packets an encoder restarted for a segment encodes and throws away first (320 ms), so that
/// its analysis and prediction have history when the kept packets begin.
pub const PREROLL_PACKETS: u64 = 16;
/// Header size of an Ogg page without its lacing values.
const PAGE_HEADER: u64 = 27;
/// The logical stream's serial number (one stream per file, so any constant does).
const SERIAL: u32 = 0x4D53_4F50;
/// Longest tag value we write, in bytes (keeps OpusTags on one page).
const MAX_TAG_VALUE: usize = 1000;

/// What the OpusTags header carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    pub title: String,
    pub artist: String,
    pub album: String,
    /// ReplayGain 2.0 track gain in dB (referenced to -18 LUFS), when known.
    pub replay_gain_track: Option<f64>,
    /// ReplayGain 2.0 album gain in dB, when known.
    pub replay_gain_album: Option<f64>,
}

/// An R128 gain tag value: Q7.8 dB referenced to -23 LUFS (RFC 7845 5.2.1), so 5 dB below a
/// ReplayGain 2.0 gain (-18 LUFS).
pub fn r128_gain(replay_gain_db: f64) -> i16 {
    ((replay_gain_db - 5.0) * 256.0)
        .round()
        .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
}

/// The layout of one Ogg Opus transcode.
#[derive(Debug, Clone, PartialEq)]
pub struct OggLayout {
    pub kbps: u32,
    /// 1 or 2.
    pub channels: u8,
    /// Samples per channel the stream carries (after pre-skip, before end trimming).
    pub samples: u64,
    /// Samples the decoder drops at the start: the encoder's look-ahead.
    pub pre_skip: u16,
    /// Opus packets in the stream.
    pub packets: u64,
    pub packets_per_page: u64,
    /// The OpusHead and OpusTags pages.
    headers: Vec<u8>,
}

impl OggLayout {
    /// The layout of `samples` samples (48 kHz) of `channels` channels at `kbps` (an even
    /// number from 6 to 510), from an encoder with look-ahead `pre_skip`, tagged with `tags`.
    /// `input_rate` is the source's rate, recorded in OpusHead for information.
    pub fn new(
        kbps: u32,
        channels: u8,
        samples: u64,
        pre_skip: u16,
        input_rate: u32,
        tags: &Tags,
    ) -> OggLayout {
        debug_assert!(kbps.is_multiple_of(2) && (6..=510).contains(&kbps));
        let packet_len = packet_len(kbps);
        let packets = (u64::from(pre_skip) + samples)
            .div_ceil(PACKET_SAMPLES)
            .max(1);
        let packets_per_page = MAX_PACKETS_PER_PAGE.min(255 / lacing_len(packet_len));
        let mut headers = page(
            FLAG_BOS,
            0,
            0,
            &[&opus_head(channels, pre_skip, input_rate)],
        );
        headers.extend(page(0, 0, 1, &[&opus_tags(tags)]));
        OggLayout {
            kbps,
            channels,
            samples,
            pre_skip,
            packets,
            packets_per_page,
            headers,
        }
    }

    /// Bytes of every Opus packet.
    pub fn packet_len(&self) -> u64 {
        packet_len(self.kbps)
    }

    /// The two header pages.
    pub fn headers(&self) -> &[u8] {
        &self.headers
    }

    pub fn header_len(&self) -> u64 {
        self.headers.len() as u64
    }

    /// Audio pages in the stream.
    pub fn pages(&self) -> u64 {
        self.packets.div_ceil(self.packets_per_page)
    }

    /// Packets on audio page `p`.
    pub fn packets_on(&self, p: u64) -> u64 {
        (self.packets - p * self.packets_per_page).min(self.packets_per_page)
    }

    /// Size of audio page `p`.
    pub fn page_len(&self, p: u64) -> u64 {
        let n = self.packets_on(p);
        PAGE_HEADER + n * (lacing_len(self.packet_len()) + self.packet_len())
    }

    /// Offset of audio page `p` (`p == pages()` gives the length).
    pub fn page_offset(&self, p: u64) -> u64 {
        self.header_len() + p * self.page_len(0)
    }

    pub fn total_len(&self) -> u64 {
        let last = self.pages() - 1;
        self.page_offset(last) + self.page_len(last)
    }

    /// The audio page holding byte `offset`; None inside the headers or past the end.
    pub fn page_at(&self, offset: u64) -> Option<u64> {
        if offset < self.header_len() || offset >= self.total_len() {
            return None;
        }
        Some(((offset - self.header_len()) / self.page_len(0)).min(self.pages() - 1))
    }

    /// Granule position of audio page `p`: samples (with pre-skip) decoded by its end; the
    /// last page's is trimmed to the real length.
    pub fn granule(&self, p: u64) -> u64 {
        if p + 1 == self.pages() {
            u64::from(self.pre_skip) + self.samples
        } else {
            (p + 1) * self.packets_per_page * PACKET_SAMPLES
        }
    }

    /// Audio page `p` holding `packets` (each `packet_len()` bytes).
    pub fn audio_page(&self, p: u64, packets: &[&[u8]]) -> Vec<u8> {
        debug_assert_eq!(packets.len() as u64, self.packets_on(p));
        let flags = if p + 1 == self.pages() { FLAG_EOS } else { 0 };
        page(flags, self.granule(p), 2 + p as u32, packets)
    }

    /// Packets per segment (whole pages).
    pub fn segment_packets(&self) -> u64 {
        self.packets_per_page * PAGES_PER_SEGMENT
    }
}

/// Bytes of a hard-CBR 20 ms packet at `kbps`.
pub fn packet_len(kbps: u32) -> u64 {
    u64::from(kbps) * 5 / 2
}

/// Lacing values a packet of `len` bytes takes.
fn lacing_len(len: u64) -> u64 {
    len / 255 + 1
}

const FLAG_BOS: u8 = 0x02;
const FLAG_EOS: u8 = 0x04;

/// One Ogg page holding whole `packets`.
fn page(flags: u8, granule: u64, sequence: u32, packets: &[&[u8]]) -> Vec<u8> {
    let mut lacing = Vec::new();
    for packet in packets {
        lacing.extend(std::iter::repeat_n(255u8, packet.len() / 255));
        lacing.push((packet.len() % 255) as u8);
    }
    debug_assert!(lacing.len() <= 255);
    let body: usize = packets.iter().map(|p| p.len()).sum();
    let mut page = Vec::with_capacity(27 + lacing.len() + body);
    page.extend_from_slice(b"OggS");
    page.push(0); // version
    page.push(flags);
    page.extend_from_slice(&granule.to_le_bytes());
    page.extend_from_slice(&SERIAL.to_le_bytes());
    page.extend_from_slice(&sequence.to_le_bytes());
    page.extend_from_slice(&[0; 4]); // CRC, filled in below
    page.push(lacing.len() as u8);
    page.extend_from_slice(&lacing);
    for packet in packets {
        page.extend_from_slice(packet);
    }
    let crc = crc32_ogg(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

/// The OpusHead packet (RFC 7845 5.1), channel mapping family 0, no output gain.
fn opus_head(channels: u8, pre_skip: u16, input_rate: u32) -> Vec<u8> {
    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1);
    head.push(channels);
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&input_rate.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0);
    head
}

/// The OpusTags packet (RFC 7845 5.2): title, artist, album and the R128 gains when known.
fn opus_tags(tags: &Tags) -> Vec<u8> {
    let mut comments: Vec<String> = Vec::new();
    for (key, value) in [
        ("TITLE", &tags.title),
        ("ARTIST", &tags.artist),
        ("ALBUM", &tags.album),
    ] {
        if !value.is_empty() {
            comments.push(format!("{key}={}", truncate(value, MAX_TAG_VALUE)));
        }
    }
    // The packet's size must not depend on the gains (see `GAIN_ROOM`).
    let size = tags_len(&comments) + GAIN_ROOM;
    if let Some(gain) = tags.replay_gain_track {
        comments.push(format!("R128_TRACK_GAIN={}", r128_gain(gain)));
    }
    if let Some(gain) = tags.replay_gain_album {
        comments.push(format!("R128_ALBUM_GAIN={}", r128_gain(gain)));
    }
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"OpusTags");
    out.extend_from_slice(&(VENDOR.len() as u32).to_le_bytes());
    out.extend_from_slice(VENDOR);
    out.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for comment in comments {
        out.extend_from_slice(&(comment.len() as u32).to_le_bytes());
        out.extend_from_slice(comment.as_bytes());
    }
    // Zero padding after the comment list (RFC 7845 5.2 allows it; a first byte with its
    // low bit clear tells editors they may drop it).
    debug_assert!(out.len() <= size);
    out.resize(size, 0);
    out
}

const VENDOR: &[u8] = b"MediaStreamer";

/// Room the two R128 gain comments take at most (length field and the longest value each).
/// OpusTags is always this much longer than its text tags, so a gain measured between two
/// requests changes the tags' bytes but never the size of the header page, and so never the
/// offset of an audio page: the audio bytes of a stream do not depend on the gain.
const GAIN_ROOM: usize = 2 * (4 + "R128_TRACK_GAIN=-32768".len());

/// Bytes of an OpusTags packet holding `comments` and no padding.
fn tags_len(comments: &[String]) -> usize {
    8 + 4 + VENDOR.len() + 4 + comments.iter().map(|c| 4 + c.len()).sum::<usize>()
}

/// `s` cut to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The Ogg CRC: CRC-32 with polynomial 0x04C11DB7, not reflected, initial value and final XOR 0.
pub fn crc32_ogg(bytes: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (i, entry) in table.iter_mut().enumerate() {
            let mut r = (i as u32) << 24;
            for _ in 0..8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04C1_1DB7
                } else {
                    r << 1
                };
            }
            *entry = r;
        }
        table
    });
    bytes.iter().fold(0u32, |crc, &b| {
        (crc << 8) ^ table[((crc >> 24) as u8 ^ b) as usize]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> Tags {
        Tags {
            title: "Título".into(),
            artist: "Artist".into(),
            album: "Album".into(),
            replay_gain_track: Some(-7.5),
            replay_gain_album: None,
        }
    }

    /// Splits bytes into pages, checking each page's structure and CRC.
    fn pages(bytes: &[u8]) -> Vec<(u8, u64, u32, Vec<Vec<u8>>)> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            assert_eq!(&rest[..4], b"OggS");
            let segments = rest[26] as usize;
            let lacing = &rest[27..27 + segments];
            let body: usize = lacing.iter().map(|&l| l as usize).sum();
            let len = 27 + segments + body;
            let mut zeroed = rest[..len].to_vec();
            zeroed[22..26].fill(0);
            let crc = u32::from_le_bytes(rest[22..26].try_into().unwrap());
            assert_eq!(crc, crc32_ogg(&zeroed), "page CRC");
            let mut packets = Vec::new();
            let mut at = 27 + segments;
            let mut packet = Vec::new();
            for &l in lacing {
                packet.extend_from_slice(&rest[at..at + l as usize]);
                at += l as usize;
                if l < 255 {
                    packets.push(std::mem::take(&mut packet));
                }
            }
            assert!(packet.is_empty(), "no packet continues on the next page");
            out.push((
                rest[5],
                u64::from_le_bytes(rest[6..14].try_into().unwrap()),
                u32::from_le_bytes(rest[18..22].try_into().unwrap()),
                packets,
            ));
            rest = &rest[len..];
        }
        out
    }

    fn whole(layout: &OggLayout) -> Vec<u8> {
        let mut bytes = layout.headers().to_vec();
        let packet = vec![0xA5u8; layout.packet_len() as usize];
        for p in 0..layout.pages() {
            let packets: Vec<&[u8]> = (0..layout.packets_on(p)).map(|_| &packet[..]).collect();
            assert_eq!(bytes.len() as u64, layout.page_offset(p));
            let page = layout.audio_page(p, &packets);
            assert_eq!(page.len() as u64, layout.page_len(p));
            bytes.extend(page);
        }
        bytes
    }

    #[test]
    fn the_crc_is_ogg_s() {
        // CRC-32/POSIX without its final XOR (check value 0x765E7680 ^ 0xFFFFFFFF).
        assert_eq!(crc32_ogg(b"123456789"), 0x89A1_897F);
        assert_eq!(crc32_ogg(b""), 0);
    }

    #[test]
    fn pages_have_the_sizes_granules_and_flags_the_layout_says() {
        for kbps in [32, 56, 96, 128, 320, 510] {
            let samples = 48_000 * 37 + 123;
            let l = OggLayout::new(kbps, 2, samples, 312, 44_100, &tags());
            let bytes = whole(&l);
            assert_eq!(bytes.len() as u64, l.total_len(), "{kbps}");
            let pages = pages(&bytes);
            assert_eq!(pages.len() as u64, 2 + l.pages());
            // Header pages: BOS on the first, granule 0 on both.
            assert_eq!(pages[0].0, FLAG_BOS);
            assert_eq!((pages[0].1, pages[1].1), (0, 0));
            let head = &pages[0].3[0];
            assert_eq!(&head[..8], b"OpusHead");
            assert_eq!(head[9], 2);
            assert_eq!(u16::from_le_bytes([head[10], head[11]]), 312);
            assert!(pages[1].3[0].starts_with(b"OpusTags"));
            // Audio pages: sequence numbers follow on, granules count packets, the last page
            // ends the stream trimmed to the real length.
            let mut packets = 0u64;
            for (i, (flags, granule, sequence, content)) in pages.iter().enumerate().skip(2) {
                assert_eq!(*sequence as usize, i);
                assert!(content.iter().all(|p| p.len() as u64 == l.packet_len()));
                packets += content.len() as u64;
                if i + 1 == pages.len() {
                    assert_eq!(*flags, FLAG_EOS);
                    assert_eq!(*granule, samples + 312);
                    assert!(packets * PACKET_SAMPLES >= samples + 312);
                    assert!((packets - 1) * PACKET_SAMPLES < samples + 312);
                } else {
                    assert_eq!(*flags, 0);
                    assert_eq!(*granule, packets * PACKET_SAMPLES);
                }
            }
            assert_eq!(packets, l.packets);
        }
    }

    #[test]
    fn every_byte_finds_its_page() {
        let l = OggLayout::new(128, 1, 48_000 * 3, 312, 48_000, &Tags::default());
        assert_eq!(l.page_at(0), None);
        assert_eq!(l.page_at(l.header_len()), Some(0));
        for p in 0..l.pages() {
            assert_eq!(l.page_at(l.page_offset(p)), Some(p));
            assert_eq!(l.page_at(l.page_offset(p) + l.page_len(p) - 1), Some(p));
        }
        assert_eq!(l.page_at(l.total_len()), None);
    }

    #[test]
    fn tags_carry_the_r128_gain_5_db_below_replay_gain() {
        assert_eq!(r128_gain(-7.5), -3200);
        assert_eq!(r128_gain(5.0), 0);
        assert_eq!(r128_gain(1000.0), i16::MAX);
        let packet = opus_tags(&tags());
        let text = String::from_utf8_lossy(&packet);
        assert!(text.contains("TITLE=Título"));
        assert!(text.contains("ARTIST=Artist"));
        assert!(text.contains("ALBUM=Album"));
        assert!(text.contains("R128_TRACK_GAIN=-3200"));
        assert!(!text.contains("R128_ALBUM_GAIN"));
        // A huge title is cut (on a character boundary) so the tags stay on one page.
        let long = Tags {
            title: "é".repeat(100_000),
            ..tags()
        };
        let l = OggLayout::new(128, 2, 48_000, 312, 48_000, &long);
        assert_eq!(pages(l.headers()).len(), 2);
    }

    /// A gain known or not, large or small, changes the OpusTags bytes but not their size:
    /// every audio page keeps its offset and its bytes.
    #[test]
    fn the_gain_never_moves_an_audio_byte() {
        let without = Tags {
            replay_gain_track: None,
            ..tags()
        };
        let layouts: Vec<OggLayout> = [
            without.clone(),
            tags(),
            Tags {
                replay_gain_track: Some(-1000.0),
                replay_gain_album: Some(-1000.0),
                ..tags()
            },
            Tags {
                replay_gain_track: Some(0.0),
                replay_gain_album: Some(12.5),
                ..tags()
            },
        ]
        .iter()
        .map(|t| OggLayout::new(96, 2, 48_000 * 12, 312, 44_100, t))
        .collect();
        let plain = whole(&layouts[0]);
        for l in &layouts[1..] {
            assert_eq!(l.header_len(), layouts[0].header_len());
            assert_ne!(l.headers(), layouts[0].headers());
            let bytes = whole(l);
            assert_eq!(
                bytes[l.header_len() as usize..],
                plain[l.header_len() as usize..]
            );
            // Still two well-formed header pages.
            assert_eq!(pages(l.headers()).len(), 2);
        }
        let text = String::from_utf8_lossy(layouts[2].headers()).into_owned();
        assert!(text.contains("R128_TRACK_GAIN=-32768") && text.contains("R128_ALBUM_GAIN=-32768"));
        assert!(!String::from_utf8_lossy(layouts[0].headers()).contains("R128"));
    }

    #[test]
    fn pages_fit_the_lacing_table_at_every_bitrate() {
        for kbps in (6..=510).step_by(2) {
            let l = OggLayout::new(kbps, 2, 48_000 * 20, 312, 48_000, &Tags::default());
            assert!(
                l.packets_per_page * lacing_len(l.packet_len()) <= 255,
                "{kbps}"
            );
            assert!(l.packets_per_page >= 1);
        }
    }
}
