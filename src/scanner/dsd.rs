//! A small reader for DSD audio files, which lofty does not read: DSF (Sony's DSD Stream File,
//! little-endian chunks, an ID3v2 tag at the offset its header gives) and DFF (Philips'
//! DSDIFF 1.5, big-endian chunks: `FVER`, `PROP` with `FS  `/`CHNL`/`CMPR`, the `DSD ` or
//! `DST ` sound data, `DIIN` with `DITI` title and `DIAR` artist, and the unofficial but
//! common `ID3 ` chunk).
//!
//! Only headers and the tag are read, never the sound data. Sizes are checked against the file
//! and each parent chunk before anything is read or allocated, the tag is capped, and errors
//! are values, never panics.

use std::io::{Read, Seek, SeekFrom};

/// Why a file could not be read as DSF or DFF.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DsdError {
    #[error("not a DSF or DFF file")]
    NotDsd,
    #[error("DSD header: {0}")]
    Corrupt(&'static str),
}

/// Which container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsdKind {
    Dsf,
    Dff,
}

/// Largest ID3v2 tag loaded (pictures included).
const MAX_TAG: u64 = 64 * 1024 * 1024;
/// Longest DIIN text kept.
const MAX_TEXT: u64 = 64 * 1024;
/// Most chunks visited at one level.
const MAX_CHUNKS: u32 = 10_000;

/// What the headers say about a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DsdFile {
    pub duration_ms: u64,
    /// DSD sample rate (2822400 for DSD64).
    pub sample_rate: u32,
    pub channels: u16,
    /// Bitrate of the raw DSD stream, kbit/s.
    pub bitrate: u32,
    /// "DSD", or "DST" for a compressed DFF.
    pub codec: &'static str,
    /// The ID3v2 tag's bytes (header included), when the file has one; without its pictures
    /// when `id3v2_pictures_cut`.
    pub id3v2: Option<Vec<u8>>,
    /// Whether pictures were left out of `id3v2` (they were not read).
    pub id3v2_pictures_cut: bool,
    /// DFF `DITI` (title) and `DIAR` (artist) texts.
    pub title: Option<String>,
    pub artist: Option<String>,
}

/// The container `head` (the first bytes of a file) starts, if it is DSF or DFF.
pub fn sniff(head: &[u8]) -> Option<DsdKind> {
    if head.starts_with(b"DSD \x1c\0\0\0\0\0\0\0") {
        Some(DsdKind::Dsf)
    } else if head.len() >= 16 && head.starts_with(b"FRM8") && &head[12..16] == b"DSD " {
        Some(DsdKind::Dff)
    } else {
        None
    }
}

/// Reads a DSF or DFF file of `len` bytes; its ID3v2 tag without pictures unless
/// `read_pictures`.
pub fn read<R: Read + Seek>(r: &mut R, len: u64, read_pictures: bool) -> Result<DsdFile, DsdError> {
    let mut head = [0u8; 16];
    r.seek(SeekFrom::Start(0)).map_err(|_| DsdError::NotDsd)?;
    r.read_exact(&mut head).map_err(|_| DsdError::NotDsd)?;
    match sniff(&head) {
        Some(DsdKind::Dsf) => read_dsf(r, len, read_pictures),
        Some(DsdKind::Dff) => read_dff(r, len, read_pictures),
        None => Err(DsdError::NotDsd),
    }
}

fn truncated<T>(_: T) -> DsdError {
    DsdError::Corrupt("truncated")
}

fn read_array<const N: usize, R: Read>(r: &mut R) -> Result<[u8; N], DsdError> {
    let mut buf = [0u8; N];
    r.read_exact(&mut buf).map_err(truncated)?;
    Ok(buf)
}

fn read_exact_vec<R: Read>(r: &mut R, n: u64) -> Result<Vec<u8>, DsdError> {
    let mut buf = Vec::new();
    r.take(n).read_to_end(&mut buf).map_err(truncated)?;
    if buf.len() as u64 != n {
        return Err(DsdError::Corrupt("truncated"));
    }
    Ok(buf)
}

/// The ID3v2 tag at `pos`, if a whole one is there and it is not too large, and whether its
/// pictures were left out: they are unless `pictures` is set or the tag's layout is unusual.
fn id3v2_at<R: Read + Seek>(
    r: &mut R,
    pos: u64,
    end: u64,
    pictures: bool,
) -> Result<Option<(Vec<u8>, bool)>, DsdError> {
    if pos.checked_add(10).is_none_or(|e| e > end) {
        return Ok(None);
    }
    if !pictures
        && let Some(tag) = crate::scanner::picture_free::id3v2_tag_without_pictures(r, pos, end)
    {
        return Ok(Some((tag, true)));
    }
    r.seek(SeekFrom::Start(pos)).map_err(truncated)?;
    let header: [u8; 10] = read_array(r)?;
    if &header[..3] != b"ID3" || header[6..10].iter().any(|b| b & 0x80 != 0) {
        return Ok(None);
    }
    let size = header[6..10]
        .iter()
        .fold(0u64, |acc, b| (acc << 7) | u64::from(*b));
    let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
    let total = 10 + size + footer;
    if total > MAX_TAG || pos + total > end {
        return Err(DsdError::Corrupt(
            "ID3v2 tag reaches past the end of the file",
        ));
    }
    let mut tag = header.to_vec();
    tag.extend(read_exact_vec(r, total - 10)?);
    Ok(Some((tag, false)))
}

fn read_dsf<R: Read + Seek>(r: &mut R, len: u64, pictures: bool) -> Result<DsdFile, DsdError> {
    // "DSD " chunk: id, size (28), file size, metadata offset.
    r.seek(SeekFrom::Start(20)).map_err(truncated)?;
    let metadata_at = u64::from_le_bytes(read_array(r)?);
    // "fmt " chunk.
    let fmt: [u8; 52] = read_array(r)?;
    if &fmt[..4] != b"fmt " {
        return Err(DsdError::Corrupt("no fmt chunk"));
    }
    let u32_at = |i: usize| u32::from_le_bytes([fmt[i], fmt[i + 1], fmt[i + 2], fmt[i + 3]]);
    let channels = u32_at(24);
    let sample_rate = u32_at(28);
    let bits = u32_at(32);
    let mut count = [0u8; 8];
    count.copy_from_slice(&fmt[36..44]);
    let samples = u64::from_le_bytes(count);
    if !(1..=6).contains(&channels) || sample_rate == 0 || !matches!(bits, 1 | 8) {
        return Err(DsdError::Corrupt("unsupported fmt chunk"));
    }
    let (id3v2, id3v2_pictures_cut) = match metadata_at {
        0 => (None, false),
        at => match id3v2_at(r, at, len, pictures)? {
            Some((tag, cut)) => (Some(tag), cut),
            None => (None, false),
        },
    };
    Ok(DsdFile {
        duration_ms: samples.saturating_mul(1000) / u64::from(sample_rate),
        sample_rate,
        channels: channels as u16,
        bitrate: (u64::from(sample_rate) * u64::from(channels) / 1000) as u32,
        codec: "DSD",
        id3v2,
        id3v2_pictures_cut,
        ..DsdFile::default()
    })
}

/// One DFF chunk header: id and size, the body starting at `start`.
struct Chunk {
    id: [u8; 4],
    start: u64,
    size: u64,
}

/// The chunks between `start` and `end` (bodies padded to even sizes).
fn dff_chunks<R: Read + Seek>(r: &mut R, start: u64, end: u64) -> Result<Vec<Chunk>, DsdError> {
    let mut chunks = Vec::new();
    let mut pos = start;
    while pos + 12 <= end && chunks.len() < MAX_CHUNKS as usize {
        r.seek(SeekFrom::Start(pos)).map_err(truncated)?;
        let id: [u8; 4] = read_array(r)?;
        let size = u64::from_be_bytes(read_array(r)?);
        let body = pos + 12;
        if size > end - body {
            return Err(DsdError::Corrupt("chunk reaches past its parent"));
        }
        chunks.push(Chunk {
            id,
            start: body,
            size,
        });
        pos = body + size + (size & 1);
    }
    Ok(chunks)
}

fn read_dff<R: Read + Seek>(r: &mut R, len: u64, pictures: bool) -> Result<DsdFile, DsdError> {
    r.seek(SeekFrom::Start(4)).map_err(truncated)?;
    let form_size = u64::from_be_bytes(read_array(r)?);
    // Some writers get the form size wrong; the file's end bounds it either way.
    let end = form_size.saturating_add(12).min(len);
    let mut file = DsdFile {
        codec: "DSD",
        ..DsdFile::default()
    };
    let mut sound_bytes = None;
    let mut dst_frames = None;
    for chunk in dff_chunks(r, 16, end)? {
        let chunk_end = chunk.start + chunk.size;
        match &chunk.id {
            b"PROP" => {
                r.seek(SeekFrom::Start(chunk.start)).map_err(truncated)?;
                if chunk.size < 4 || &read_array::<4, _>(r)? != b"SND " {
                    continue;
                }
                for prop in dff_chunks(r, chunk.start + 4, chunk_end)? {
                    r.seek(SeekFrom::Start(prop.start)).map_err(truncated)?;
                    match &prop.id {
                        b"FS  " if prop.size >= 4 => {
                            file.sample_rate = u32::from_be_bytes(read_array(r)?);
                        }
                        b"CHNL" if prop.size >= 2 => {
                            file.channels = u16::from_be_bytes(read_array(r)?);
                        }
                        b"CMPR" if prop.size >= 4 && &read_array::<4, _>(r)? == b"DST " => {
                            file.codec = "DST";
                        }
                        _ => {}
                    }
                }
            }
            b"DSD " => sound_bytes = Some(chunk.size),
            b"DST " => {
                for sub in dff_chunks(r, chunk.start, chunk_end)? {
                    if &sub.id == b"FRTE" && sub.size >= 6 {
                        r.seek(SeekFrom::Start(sub.start)).map_err(truncated)?;
                        let frames = u32::from_be_bytes(read_array(r)?);
                        let rate = u16::from_be_bytes(read_array(r)?);
                        dst_frames = Some((frames, rate));
                    }
                }
            }
            b"DIIN" => {
                for sub in dff_chunks(r, chunk.start, chunk_end)? {
                    let slot = match &sub.id {
                        b"DITI" => &mut file.title,
                        b"DIAR" => &mut file.artist,
                        _ => continue,
                    };
                    if sub.size < 4 {
                        continue;
                    }
                    r.seek(SeekFrom::Start(sub.start)).map_err(truncated)?;
                    let count = u64::from(u32::from_be_bytes(read_array(r)?));
                    let n = count.min(sub.size - 4).min(MAX_TEXT);
                    let bytes = read_exact_vec(r, n)?;
                    // DSDIFF text is ASCII by the book; real files carry Latin-1 or UTF-8.
                    *slot = Some(match String::from_utf8(bytes) {
                        Ok(s) => s,
                        Err(e) => e.into_bytes().iter().map(|&b| char::from(b)).collect(),
                    });
                }
            }
            b"ID3 " if file.id3v2.is_none() => {
                if let Some((tag, cut)) = id3v2_at(r, chunk.start, chunk_end, pictures)? {
                    file.id3v2 = Some(tag);
                    file.id3v2_pictures_cut = cut;
                }
            }
            _ => {}
        }
    }
    if file.sample_rate == 0 || file.channels == 0 {
        return Err(DsdError::Corrupt("no sample rate or channel count"));
    }
    file.duration_ms = match (sound_bytes, dst_frames) {
        (Some(bytes), _) => {
            let samples = bytes * 8 / u64::from(file.channels);
            samples.saturating_mul(1000) / u64::from(file.sample_rate)
        }
        (None, Some((frames, rate))) if rate > 0 => u64::from(frames) * 1000 / u64::from(rate),
        _ => return Err(DsdError::Corrupt("no sound data chunk")),
    };
    file.bitrate = (u64::from(file.sample_rate) * u64::from(file.channels) / 1000) as u32;
    Ok(file)
}
