//! Tells whether an audio file carries an embedded picture by walking tag headers only.
//!
//! The scanner parses tags with lofty's `read_cover_art(false)`, which keeps picture bytes out of
//! memory but also forgets that a picture was there. This module answers that one question with a
//! handful of small reads and seeks: ID3v2 frame headers (also inside WAV and AIFF chunks), FLAC
//! metadata block headers, the MP4 atom tree down to `covr`, APEv2 item headers, and the first
//! 64 KiB of an Ogg stream. It never reads picture data and never fails loudly: any I/O or format
//! problem means "no picture".

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use lofty::file::FileType;

/// How much of an Ogg stream is searched for a `METADATA_BLOCK_PICTURE` comment when the
/// comment header cannot be walked.
const OGG_SEARCH_LIMIT: usize = 64 * 1024;

/// Upper bound on APE items walked, so a corrupt count cannot keep us busy.
const MAX_APE_ITEMS: u32 = 4096;

/// Upper bound on atoms, chunks, blocks or frames visited at one level.
const MAX_ENTRIES: u32 = 100_000;

/// Whether the file at `path`, already identified as `file_type`, has an embedded picture.
///
/// Reads headers only (never picture bytes, never the whole file). Any I/O error, truncation or
/// malformed structure yields `false`; this function never panics and never reports errors.
pub fn has_embedded_picture(path: &Path, file_type: FileType) -> bool {
    match crate::scanner::cached_file::CachedFile::open(path) {
        Ok(mut file) => {
            let len = file.len();
            has_embedded_picture_in(&mut file, len, file_type)
        }
        Err(_) => false,
    }
}

/// [`has_embedded_picture`] on an already open reader of `len` bytes (the scanner reuses the
/// reader the tags were parsed from).
pub fn has_embedded_picture_in<R: Read + Seek>(r: &mut R, len: u64, file_type: FileType) -> bool {
    let mut r = r;
    match file_type {
        FileType::Mpeg | FileType::Aac => id3v2_at_start(&mut r, len) || ape_at_end(&mut r, len),
        FileType::Ape | FileType::Mpc | FileType::WavPack => {
            ape_at_end(&mut r, len) || id3v2_at_start(&mut r, len)
        }
        FileType::Flac => flac_has_picture(&mut r, len) || id3v2_at_start(&mut r, len),
        FileType::Vorbis | FileType::Opus | FileType::Speex => ogg_has_picture(&mut r),
        FileType::Mp4 => mp4_has_cover(&mut r, len),
        FileType::Wav => riff_id3_has_picture(&mut r, len),
        FileType::Aiff => aiff_id3_has_picture(&mut r, len),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// small read helpers

fn read_array<const N: usize, R: Read>(r: &mut R) -> Option<[u8; N]> {
    let mut buf = [0u8; N];
    r.read_exact(&mut buf).ok()?;
    Some(buf)
}

fn seek_to<R: Seek>(r: &mut R, pos: u64) -> Option<()> {
    r.seek(SeekFrom::Start(pos)).ok().map(|_| ())
}

fn synchsafe(b: [u8; 4]) -> u32 {
    (u32::from(b[0] & 0x7f) << 21)
        | (u32::from(b[1] & 0x7f) << 14)
        | (u32::from(b[2] & 0x7f) << 7)
        | u32::from(b[3] & 0x7f)
}

// ---------------------------------------------------------------------------------------------
// ID3v2

fn id3v2_at_start<R: Read + Seek>(r: &mut R, len: u64) -> bool {
    id3v2_at(r, 0, len).unwrap_or(false)
}

/// Walks the frame headers of an ID3v2 tag starting at `start`, looking for APIC (v2.3/2.4) or
/// PIC (v2.2). `limit` is the end of the region the tag may occupy.
fn id3v2_at<R: Read + Seek>(r: &mut R, start: u64, limit: u64) -> Option<bool> {
    seek_to(r, start)?;
    let header: [u8; 10] = read_array(r)?;
    if &header[..3] != b"ID3" {
        return Some(false);
    }
    let major = header[3];
    let flags = header[5];
    let size_bytes = [header[6], header[7], header[8], header[9]];
    if size_bytes.iter().any(|b| b & 0x80 != 0) {
        return Some(false);
    }
    let tag_size = u64::from(synchsafe(size_bytes));
    let body_start = start + 10;
    let body_end = (body_start + tag_size).min(limit);

    // Tag-level unsynchronisation (v2.2/v2.3) may alter frame header bytes; fall back to a bounded
    // search of the tag body for the frame id instead of trusting the sizes.
    if flags & 0x80 != 0 && major < 4 {
        let needle: &[u8] = if major == 2 { b"PIC" } else { b"APIC" };
        return search_region(r, body_start, body_end, needle);
    }

    let mut pos = body_start;
    match major {
        2 => {
            if flags & 0x40 != 0 {
                // v2.2 "compression" flag: no defined scheme, nothing to walk.
                return Some(false);
            }
            for _ in 0..MAX_ENTRIES {
                if pos + 6 > body_end {
                    return Some(false);
                }
                seek_to(r, pos)?;
                let h: [u8; 6] = read_array(r)?;
                if !is_frame_id(&h[..3]) {
                    return Some(false);
                }
                if &h[..3] == b"PIC" {
                    return Some(true);
                }
                let size = (u64::from(h[3]) << 16) | (u64::from(h[4]) << 8) | u64::from(h[5]);
                pos += 6 + size;
            }
            Some(false)
        }
        3 | 4 => {
            if flags & 0x40 != 0 {
                seek_to(r, pos)?;
                let ext: [u8; 4] = read_array(r)?;
                let ext_size = if major == 3 {
                    // v2.3: size excludes the 4 size bytes themselves.
                    u64::from(u32::from_be_bytes(ext)) + 4
                } else {
                    u64::from(synchsafe(ext))
                };
                pos += ext_size;
            }
            for _ in 0..MAX_ENTRIES {
                if pos + 10 > body_end {
                    return Some(false);
                }
                seek_to(r, pos)?;
                let h: [u8; 10] = read_array(r)?;
                if !is_frame_id(&h[..4]) {
                    return Some(false);
                }
                if &h[..4] == b"APIC" {
                    return Some(true);
                }
                let raw = [h[4], h[5], h[6], h[7]];
                let size = if major == 3 {
                    u64::from(u32::from_be_bytes(raw))
                } else {
                    v24_frame_size(r, pos, raw, body_end)?
                };
                pos += 10 + size;
            }
            Some(false)
        }
        _ => Some(false),
    }
}

/// The size of an ID3v2.4 frame. Some writers (old iTunes) store plain big-endian sizes instead
/// of synchsafe ones: prefer whichever interpretation lands on a plausible next frame.
fn v24_frame_size<R: Read + Seek>(r: &mut R, pos: u64, raw: [u8; 4], end: u64) -> Option<u64> {
    let safe = u64::from(synchsafe(raw));
    let plain = u64::from(u32::from_be_bytes(raw));
    if raw.iter().any(|b| b & 0x80 != 0) {
        return Some(plain);
    }
    if safe == plain {
        return Some(safe);
    }
    let lands_well = |r: &mut R, size: u64| -> bool {
        let next = pos + 10 + size;
        if next == end || next + 4 > end {
            return next <= end;
        }
        if seek_to(r, next).is_none() {
            return false;
        }
        match read_array::<4, _>(r) {
            Some(id) => id[0] == 0 || is_frame_id(&id),
            None => false,
        }
    };
    if lands_well(r, safe) {
        Some(safe)
    } else if lands_well(r, plain) {
        Some(plain)
    } else {
        Some(safe)
    }
}

fn is_frame_id(id: &[u8]) -> bool {
    id.iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Searches `[start, end)` for `needle`, reading in small chunks.
fn search_region<R: Read + Seek>(r: &mut R, start: u64, end: u64, needle: &[u8]) -> Option<bool> {
    seek_to(r, start)?;
    let mut remaining = end.saturating_sub(start);
    let mut buf = vec![0u8; 8192];
    let keep = needle.len().saturating_sub(1);
    let mut filled = 0usize;
    while remaining > 0 {
        let want = (buf.len() - filled).min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = r.read(&mut buf[filled..filled + want]).ok()?;
        if n == 0 {
            break;
        }
        remaining -= n as u64;
        filled += n;
        if find(&buf[..filled], needle, false) {
            return Some(true);
        }
        if filled > keep {
            buf.copy_within(filled - keep..filled, 0);
            filled = keep;
        }
    }
    Some(false)
}

fn find(hay: &[u8], needle: &[u8], ignore_case: bool) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return false;
    };
    let Some(last_start) = hay.len().checked_sub(needle.len()) else {
        return false;
    };
    let (a, b) = if ignore_case {
        (first.to_ascii_lowercase(), first.to_ascii_uppercase())
    } else {
        (first, first)
    };
    let mut i = 0;
    while i <= last_start {
        let Some(offset) = hay[i..=last_start].iter().position(|&c| c == a || c == b) else {
            return false;
        };
        let at = i + offset;
        let candidate = &hay[at + 1..at + needle.len()];
        if (ignore_case && candidate.eq_ignore_ascii_case(rest)) || candidate == rest {
            return true;
        }
        i = at + 1;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// APEv2

/// Looks for an APEv2 footer at the end of the file (or just before an ID3v1 tag) and walks its
/// item headers for a "Cover Art (...)" key.
fn ape_at_end<R: Read + Seek>(r: &mut R, len: u64) -> bool {
    let mut candidates = [len.checked_sub(32), None];
    if len >= 128 + 32
        && seek_to(r, len - 128).is_some()
        && read_array::<3, _>(r).is_some_and(|t| &t == b"TAG")
    {
        candidates[1] = Some(len - 128 - 32);
    }
    candidates
        .into_iter()
        .flatten()
        .any(|footer| ape_footer_at(r, footer).unwrap_or(false))
}

fn ape_footer_at<R: Read + Seek>(r: &mut R, footer_pos: u64) -> Option<bool> {
    seek_to(r, footer_pos)?;
    let footer: [u8; 32] = read_array(r)?;
    if &footer[..8] != b"APETAGEX" {
        return Some(false);
    }
    let le =
        |i: usize| u32::from_le_bytes([footer[i], footer[i + 1], footer[i + 2], footer[i + 3]]);
    let tag_size = u64::from(le(12)); // items + footer, excluding any header
    let item_count = le(16).min(MAX_APE_ITEMS);
    let items_end = footer_pos;
    let mut pos = (footer_pos + 32).checked_sub(tag_size)?;
    for _ in 0..item_count {
        if pos + 8 > items_end {
            return Some(false);
        }
        seek_to(r, pos)?;
        let h: [u8; 8] = read_array(r)?;
        let value_size = u64::from(u32::from_le_bytes([h[0], h[1], h[2], h[3]]));
        // Key: 2..=255 printable ASCII bytes, NUL-terminated.
        let mut key = [0u8; 256];
        let mut key_len = 0usize;
        loop {
            let [b] = read_array::<1, _>(r)?;
            if b == 0 {
                break;
            }
            if key_len == key.len() {
                return Some(false);
            }
            key[key_len] = b;
            key_len += 1;
        }
        let key = &key[..key_len];
        if key.len() >= 9 && key[..9].eq_ignore_ascii_case(b"cover art") {
            return Some(value_size > 0);
        }
        pos += 8 + key_len as u64 + 1 + value_size;
    }
    Some(false)
}

// ---------------------------------------------------------------------------------------------
// FLAC

fn flac_has_picture<R: Read + Seek>(r: &mut R, len: u64) -> bool {
    flac_walk(r, len).unwrap_or(false)
}

fn flac_walk<R: Read + Seek>(r: &mut R, len: u64) -> Option<bool> {
    let mut pos = 0u64;
    seek_to(r, 0)?;
    let magic: [u8; 10] = read_array(r)?;
    if &magic[..3] == b"ID3" {
        let size = u64::from(synchsafe([magic[6], magic[7], magic[8], magic[9]]));
        let footer = if magic[5] & 0x10 != 0 { 10 } else { 0 };
        pos = 10 + size + footer;
        seek_to(r, pos)?;
        let m: [u8; 4] = read_array(r)?;
        if &m != b"fLaC" {
            return Some(false);
        }
    } else if &magic[..4] != b"fLaC" {
        return Some(false);
    }
    pos += 4;
    for _ in 0..MAX_ENTRIES {
        if pos + 4 > len {
            return Some(false);
        }
        seek_to(r, pos)?;
        let h: [u8; 4] = read_array(r)?;
        let last = h[0] & 0x80 != 0;
        let block_type = h[0] & 0x7f;
        let size = (u64::from(h[1]) << 16) | (u64::from(h[2]) << 8) | u64::from(h[3]);
        if block_type == 6 {
            return Some(size > 0);
        }
        if last || block_type == 127 {
            return Some(false);
        }
        pos += 4 + size;
    }
    Some(false)
}

// ---------------------------------------------------------------------------------------------
// Ogg

/// Ogg Vorbis/Opus/Speex: walks the comment header's field lengths (skipping over the values)
/// for a `METADATA_BLOCK_PICTURE` (or legacy `COVERART`) key. When the stream does not have the
/// expected shape, falls back to a case-insensitive search of the first 64 KiB.
fn ogg_has_picture<R: Read + Seek>(r: &mut R) -> bool {
    match ogg_walk_comments(r) {
        Some(found) => found,
        None => ogg_search(r),
    }
}

fn ogg_search<R: Read + Seek>(r: &mut R) -> bool {
    if seek_to(r, 0).is_none() {
        return false;
    }
    let mut buf = Vec::with_capacity(OGG_SEARCH_LIMIT);
    if r.take(OGG_SEARCH_LIMIT as u64)
        .read_to_end(&mut buf)
        .is_err()
    {
        return false;
    }
    if !buf.starts_with(b"OggS") {
        return false;
    }
    find(&buf, b"METADATA_BLOCK_PICTURE=", true) || find(&buf, b"COVERART=", true)
}

fn ogg_walk_comments<R: Read + Seek>(r: &mut R) -> Option<bool> {
    let pictures = crate::scanner::ogg_comments::picture_fields(r)?;
    Some(pictures.first().is_some_and(|p| p.len > 30))
}

// ---------------------------------------------------------------------------------------------
// MP4

/// One atom header: where its payload starts and ends.
struct AtomHeader {
    kind: [u8; 4],
    payload: u64,
    end: u64,
}

fn read_atom<R: Read + Seek>(r: &mut R, pos: u64, parent_end: u64) -> Option<AtomHeader> {
    if pos + 8 > parent_end {
        return None;
    }
    seek_to(r, pos)?;
    let h: [u8; 8] = read_array(r)?;
    let size32 = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
    let kind = [h[4], h[5], h[6], h[7]];
    let (payload, end) = match size32 {
        0 => (pos + 8, parent_end),
        1 => {
            let large: [u8; 8] = read_array(r)?;
            (pos + 16, pos.checked_add(u64::from_be_bytes(large))?)
        }
        s => (pos + 8, pos.checked_add(s)?),
    };
    if end < payload || end > parent_end {
        return None;
    }
    Some(AtomHeader { kind, payload, end })
}

/// Finds the first child atom of `kind` within `[start, end)`.
fn find_atom<R: Read + Seek>(
    r: &mut R,
    start: u64,
    end: u64,
    kind: &[u8; 4],
) -> Option<AtomHeader> {
    let mut pos = start;
    for _ in 0..MAX_ENTRIES {
        let atom = read_atom(r, pos, end)?;
        if &atom.kind == kind {
            return Some(atom);
        }
        if atom.end <= pos {
            return None;
        }
        pos = atom.end;
    }
    None
}

fn mp4_has_cover<R: Read + Seek>(r: &mut R, len: u64) -> bool {
    let Some(moov) = find_atom(r, 0, len, b"moov") else {
        return false;
    };
    let via_udta = find_atom(r, moov.payload, moov.end, b"udta")
        .and_then(|udta| find_atom(r, udta.payload, udta.end, b"meta"));
    if let Some(meta) = via_udta
        && meta_has_cover(r, &meta)
    {
        return true;
    }
    find_atom(r, moov.payload, moov.end, b"meta").is_some_and(|meta| meta_has_cover(r, &meta))
}

fn meta_has_cover<R: Read + Seek>(r: &mut R, meta: &AtomHeader) -> bool {
    // `meta` is a full box (4 zero bytes of version and flags) in ISO files, a plain container
    // in some QuickTime files: a child atom never starts with a zero size, so zeros mean a full box.
    let mut start = meta.payload;
    if seek_to(r, start).is_some() && read_array::<4, _>(r) == Some([0, 0, 0, 0]) {
        start += 4;
    }
    let Some(ilst) = find_atom(r, start, meta.end, b"ilst") else {
        return false;
    };
    // `covr` holds one `data` atom per picture (16 bytes of header before the image bytes).
    find_atom(r, ilst.payload, ilst.end, b"covr").is_some_and(|covr| covr.end - covr.payload > 16)
}

// ---------------------------------------------------------------------------------------------
// WAV / AIFF

fn riff_id3_has_picture<R: Read + Seek>(r: &mut R, len: u64) -> bool {
    iff_id3_has_picture(r, len, b"RIFF", u32::from_le_bytes).unwrap_or(false)
}

fn aiff_id3_has_picture<R: Read + Seek>(r: &mut R, len: u64) -> bool {
    iff_id3_has_picture(r, len, b"FORM", u32::from_be_bytes).unwrap_or(false)
}

/// Walks the top-level chunks of a RIFF (little-endian sizes) or FORM (big-endian) file for an
/// "id3 "/"ID3 " chunk and checks the ID3v2 tag inside it.
fn iff_id3_has_picture<R: Read + Seek>(
    r: &mut R,
    len: u64,
    magic: &[u8; 4],
    size_of: fn([u8; 4]) -> u32,
) -> Option<bool> {
    seek_to(r, 0)?;
    let h: [u8; 12] = read_array(r)?;
    if &h[..4] != magic {
        return Some(false);
    }
    let mut pos = 12u64;
    for _ in 0..MAX_ENTRIES {
        if pos + 8 > len {
            return Some(false);
        }
        seek_to(r, pos)?;
        let c: [u8; 8] = read_array(r)?;
        let size = u64::from(size_of([c[4], c[5], c[6], c[7]]));
        let id = &c[..4];
        if id.eq_ignore_ascii_case(b"id3 ") {
            let end = (pos + 8 + size).min(len);
            return id3v2_at(r, pos + 8, end);
        }
        pos += 8 + size + (size & 1);
    }
    Some(false)
}
