//! Walking an Ogg stream's comment header (Vorbis, Opus, Speex) by its page headers and field
//! lengths, without reading the values: where the picture fields are and which whole pages
//! lie inside them. Used to tell whether a file has a picture (`embedded_art`) and to show the
//! tag parser the file without it (`picture_free`): a picture is carried base64-encoded in
//! a `METADATA_BLOCK_PICTURE` field, 3.5 MB for a 2.6 MB cover, spread over ~55 pages.

use std::io::{Read, Seek, SeekFrom};

/// Most fields walked, so a corrupt count cannot keep us busy.
const MAX_FIELDS: u32 = 1_000_000;

/// A picture field of the comment header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureField {
    /// The value's length in bytes (the key included, as stored).
    pub len: u32,
    /// Where the 4-byte length lies in the file, unless it is split across two pages.
    pub len_at: Option<u64>,
    /// File ranges of the pages (header and data) that lie wholly inside the value, merged.
    pub inner_pages: Vec<(u64, u64)>,
    /// Value bytes those pages hold.
    pub inner_bytes: u64,
}

/// The picture fields of the stream's comment header, in order; `None` when the stream does
/// not have the expected shape (first page the identification header, the comment header
/// from the second, one logical stream).
pub fn picture_fields<R: Read + Seek>(r: &mut R) -> Option<Vec<PictureField>> {
    let mut s = OggStream {
        r,
        pos: 0,
        left: 0,
        page_start: 0,
        serial: None,
    };
    // The identification header fills the first page; the comment header starts the second.
    s.next_page()?;
    s.skip(s.left)?;
    s.next_page()?;
    let (start_pos, start_left) = (s.pos, s.left);
    let mut magic = [0u8; 8];
    s.read(&mut magic[..7])?;
    if &magic[..7] != b"\x03vorbis" {
        s.read(&mut magic[7..])?;
        if &magic != b"OpusTags" {
            // Speex: the comment packet has no signature; start over at the page data.
            if start_left < 8 {
                return None;
            }
            s.pos = start_pos;
            s.left = start_left;
        }
    }
    let vendor_len = s.u32_le()?;
    s.skip(u64::from(vendor_len))?;
    let count = s.u32_le()?;
    if count > MAX_FIELDS {
        return None;
    }
    const KEYS: [&[u8]; 2] = [b"METADATA_BLOCK_PICTURE=", b"COVERART="];
    let mut pictures = Vec::new();
    for _ in 0..count {
        let len_at = (s.left >= 4).then_some(s.pos);
        let len = s.u32_le()?;
        let mut prefix = [0u8; 23];
        let take = usize::try_from(len).unwrap_or(usize::MAX).min(prefix.len());
        s.read(&mut prefix[..take])?;
        let key = &prefix[..take];
        let rest = u64::from(len) - take as u64;
        if KEYS
            .iter()
            .any(|k| key.len() >= k.len() && key[..k.len()].eq_ignore_ascii_case(k))
        {
            let (inner_pages, inner_bytes) = s.skip_collecting(rest)?;
            pictures.push(PictureField {
                len,
                len_at,
                inner_pages,
                inner_bytes,
            });
        } else {
            s.skip(rest)?;
        }
    }
    Some(pictures)
}

/// The data of consecutive Ogg pages read as one byte stream (page headers skipped).
struct OggStream<'r, R> {
    r: &'r mut R,
    /// File position of the next unread data byte.
    pos: u64,
    /// Unread data bytes left in the current page.
    left: u64,
    /// File position of the current page's header.
    page_start: u64,
    serial: Option<[u8; 4]>,
}

impl<R: Read + Seek> OggStream<'_, R> {
    /// Moves to the data of the next page; `None` at the end or on a malformed header.
    fn next_page(&mut self) -> Option<()> {
        self.r.seek(SeekFrom::Start(self.pos)).ok()?;
        let mut h = [0u8; 27];
        self.r.read_exact(&mut h).ok()?;
        if &h[..4] != b"OggS" {
            return None;
        }
        let serial = [h[14], h[15], h[16], h[17]];
        if *self.serial.get_or_insert(serial) != serial {
            return None;
        }
        let segments = usize::from(h[26]);
        let mut table = [0u8; 255];
        self.r.read_exact(&mut table[..segments]).ok()?;
        self.left = table[..segments].iter().map(|&b| u64::from(b)).sum();
        self.page_start = self.pos;
        self.pos += 27 + segments as u64;
        Some(())
    }

    fn read(&mut self, out: &mut [u8]) -> Option<()> {
        let mut done = 0;
        while done < out.len() {
            if self.left == 0 {
                self.next_page()?;
                continue;
            }
            let n = (out.len() - done).min(usize::try_from(self.left).unwrap_or(usize::MAX));
            self.r.seek(SeekFrom::Start(self.pos)).ok()?;
            self.r.read_exact(&mut out[done..done + n]).ok()?;
            done += n;
            self.pos += n as u64;
            self.left -= n as u64;
        }
        Some(())
    }

    fn skip(&mut self, n: u64) -> Option<()> {
        self.skip_collecting(n).map(|_| ())
    }

    /// Skips `n` data bytes; returns the file ranges of the pages entered on the way whose
    /// data was skipped whole (merged), and how many data bytes they held.
    fn skip_collecting(&mut self, mut n: u64) -> Option<(Vec<(u64, u64)>, u64)> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        let mut bytes = 0;
        let mut entered = false;
        while n > 0 {
            if self.left == 0 {
                self.next_page()?;
                entered = true;
                continue;
            }
            let k = n.min(self.left);
            if entered && k == self.left {
                let (start, end) = (self.page_start, self.pos + k);
                match ranges.last_mut() {
                    Some(last) if last.1 == start => last.1 = end,
                    _ => ranges.push((start, end)),
                }
                bytes += k;
            }
            self.pos += k;
            self.left -= k;
            n -= k;
        }
        Some((ranges, bytes))
    }

    fn u32_le(&mut self) -> Option<u32> {
        let mut b = [0u8; 4];
        self.read(&mut b)?;
        Some(u32::from_le_bytes(b))
    }
}
