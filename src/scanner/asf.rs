//! A small reader for ASF files (WMA): audio properties and tags, which lofty does not read.
//!
//! Only the header object is read (a few KB at the start of the file; the audio packets after
//! it are never touched): the file and stream properties, the content description (title,
//! author, copyright, description, rating), the extended content description (`WM/...`,
//! `MusicBrainz/...`, `REPLAYGAIN_...` attributes) and the metadata and metadata library
//! objects inside the header extension (where taggers put values too large for the extended
//! content description, such as big `WM/Picture`s).
//!
//! Hostile input: every size is checked against what is left of its parent object before
//! anything is read or allocated, text values are capped, picture bytes are skipped unless
//! asked for, and the number of objects and attributes visited is bounded. Errors are values,
//! never panics. Reference: Microsoft's "Advanced Systems Format (ASF) Specification", rev. 01.20.05.

use std::io::{Read, Seek, SeekFrom};

/// Why a file could not be read as ASF.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AsfError {
    #[error("not an ASF file")]
    NotAsf,
    #[error("ASF header: {0}")]
    Corrupt(&'static str),
    #[error("ASF file has no audio stream")]
    NoAudio,
}

/// An ASF GUID as stored in files: the first three fields little-endian.
type Guid = [u8; 16];

const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> Guid {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

pub const HEADER: Guid = guid(
    0x75B2_2630,
    0x668E,
    0x11CF,
    [0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C],
);
pub const FILE_PROPERTIES: Guid = guid(
    0x8CAB_DCA1,
    0xA947,
    0x11CF,
    [0x8E, 0xE4, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65],
);
const STREAM_PROPERTIES: Guid = guid(
    0xB7DC_0791,
    0xA9B7,
    0x11CF,
    [0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65],
);
const AUDIO_MEDIA: Guid = guid(
    0xF869_9E40,
    0x5B4D,
    0x11CF,
    [0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B],
);
pub const CONTENT_DESCRIPTION: Guid = guid(
    0x75B2_2633,
    0x668E,
    0x11CF,
    [0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C],
);
pub const EXTENDED_CONTENT_DESCRIPTION: Guid = guid(
    0xD2D0_A440,
    0xE307,
    0x11D2,
    [0x97, 0xF0, 0x00, 0xA0, 0xC9, 0x5E, 0xA8, 0x50],
);
const HEADER_EXTENSION: Guid = guid(
    0x5FBF_03B5,
    0xA92E,
    0x11CF,
    [0x8E, 0xE3, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65],
);
const METADATA: Guid = guid(
    0xC5F8_CBEA,
    0x5BAF,
    0x4877,
    [0x84, 0x67, 0xAA, 0x8C, 0x44, 0xFA, 0x4C, 0xCA],
);
const METADATA_LIBRARY: Guid = guid(
    0x4423_1C94,
    0x9498,
    0x49D1,
    [0xA1, 0x41, 0x1D, 0x13, 0x4E, 0x45, 0x70, 0x54],
);

/// Largest header object accepted (pictures included).
const MAX_HEADER: u64 = 256 * 1024 * 1024;
/// Longest text value kept; longer ones are cut (lyrics are the longest real ones).
const MAX_TEXT: usize = 1024 * 1024;
/// Largest picture loaded when pictures are asked for.
const MAX_PICTURE: u64 = 32 * 1024 * 1024;
/// Most objects and attributes visited, so a corrupt count cannot keep us busy.
const MAX_ENTRIES: u32 = 10_000;

/// The attribute holding embedded pictures.
pub const PICTURE_ATTRIBUTE: &str = "WM/Picture";

/// One `WM/Picture`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsfPicture {
    /// ID3v2 APIC picture type (3 = front cover).
    pub picture_type: u8,
    pub mime_type: String,
    pub description: String,
    /// Size of the image bytes.
    pub len: usize,
    /// The image bytes; empty unless pictures were asked for.
    pub data: Vec<u8>,
}

/// What the header says about a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AsfFile {
    pub duration_ms: u64,
    /// Audio bitrate in kbit/s.
    pub bitrate: Option<u32>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u16>,
    pub bits_per_sample: Option<u16>,
    /// "WMA", "WMA Pro", "WMA Lossless", "WMA Voice", else the stream's codec tag.
    pub codec: &'static str,
    /// Every text-valued attribute in file order: the content description's fields as
    /// "Title", "Author", "Copyright", "Description" and "Rating", then attributes by name.
    /// Numbers and booleans are rendered as decimal text, other binary values summarised.
    pub items: Vec<(String, String)>,
    pub pictures: Vec<AsfPicture>,
}

/// Reads the header of an ASF file of `len` bytes from the reader's start.
pub fn read<R: Read + Seek>(r: &mut R, len: u64, read_pictures: bool) -> Result<AsfFile, AsfError> {
    r.seek(SeekFrom::Start(0)).map_err(|_| AsfError::NotAsf)?;
    let mut top = Limited::new(r, len.min(MAX_HEADER + 30));
    let id: Guid = top.array().map_err(|_| AsfError::NotAsf)?;
    if id != HEADER {
        return Err(AsfError::NotAsf);
    }
    let size = top.u64()?;
    if size < 30 || size > len {
        return Err(AsfError::Corrupt("header size out of range"));
    }
    if size > MAX_HEADER {
        return Err(AsfError::Corrupt("header larger than 256 MiB"));
    }
    let count = top.u32()?;
    top.skip(2)?; // reserved
    let mut header = Limited::new(top.inner, size - 30);
    let mut file = AsfFile::default();
    let mut props = Props::default();
    for _ in 0..count.min(MAX_ENTRIES) {
        if header.left == 0 {
            break;
        }
        let (id, mut obj) = header.object()?;
        match id {
            FILE_PROPERTIES => props.file(&mut obj)?,
            STREAM_PROPERTIES => props.stream(&mut obj)?,
            CONTENT_DESCRIPTION => content_description(&mut obj, &mut file.items)?,
            EXTENDED_CONTENT_DESCRIPTION => extended(&mut obj, &mut file, read_pictures)?,
            HEADER_EXTENSION => header_extension(&mut obj, &mut file, read_pictures)?,
            _ => {}
        }
        obj.finish()?;
    }
    let audio = props.audio.ok_or(AsfError::NoAudio)?;
    file.duration_ms = props.duration_ms;
    file.sample_rate = (audio.sample_rate > 0).then_some(audio.sample_rate);
    file.channels = (audio.channels > 0).then_some(audio.channels);
    file.bits_per_sample = (audio.bits > 0).then_some(audio.bits);
    file.bitrate = match audio.bytes_per_sec {
        0 if props.duration_ms > 0 => u32::try_from(len.saturating_mul(8) / props.duration_ms).ok(),
        0 => None,
        b => u32::try_from((u64::from(b) * 8).div_ceil(1000)).ok(),
    };
    file.codec = match audio.codec {
        0x0160 | 0x0161 => "WMA",
        0x0162 => "WMA Pro",
        0x0163 => "WMA Lossless",
        0x000A => "WMA Voice",
        0x0055 => "MP3",
        0x0001 => "PCM",
        _ => "ASF",
    };
    Ok(file)
}

#[derive(Default)]
struct Props {
    duration_ms: u64,
    audio: Option<AudioFormat>,
}

#[derive(Clone, Copy)]
struct AudioFormat {
    codec: u16,
    channels: u16,
    sample_rate: u32,
    bytes_per_sec: u32,
    bits: u16,
}

impl Props {
    fn file<R: Read + Seek>(&mut self, obj: &mut Limited<'_, R>) -> Result<(), AsfError> {
        obj.skip(16 + 8 + 8 + 8)?; // file id, file size, creation date, packet count
        let play_duration = obj.u64()?; // 100 ns units
        obj.skip(8)?; // send duration
        let preroll_ms = obj.u64()?;
        let flags = obj.u32()?;
        let broadcast = flags & 1 != 0;
        if !broadcast {
            self.duration_ms = (play_duration / 10_000).saturating_sub(preroll_ms);
        }
        Ok(())
    }

    fn stream<R: Read + Seek>(&mut self, obj: &mut Limited<'_, R>) -> Result<(), AsfError> {
        let kind: Guid = obj.array()?;
        obj.skip(16 + 8)?; // error correction type, time offset
        let specific_len = obj.u32()?;
        obj.skip(4 + 2 + 4)?; // error correction length, flags, reserved
        if kind != AUDIO_MEDIA || self.audio.is_some() || specific_len < 16 {
            return Ok(());
        }
        // WAVEFORMATEX
        self.audio = Some(AudioFormat {
            codec: obj.u16()?,
            channels: obj.u16()?,
            sample_rate: obj.u32()?,
            bytes_per_sec: obj.u32()?,
            bits: {
                obj.skip(2)?; // block align
                obj.u16()?
            },
        });
        Ok(())
    }
}

fn content_description<R: Read + Seek>(
    obj: &mut Limited<'_, R>,
    items: &mut Vec<(String, String)>,
) -> Result<(), AsfError> {
    let mut lens = [0u16; 5];
    for l in &mut lens {
        *l = obj.u16()?;
    }
    for (name, len) in ["Title", "Author", "Copyright", "Description", "Rating"]
        .into_iter()
        .zip(lens)
    {
        let text = obj.utf16(u64::from(len))?;
        if !text.is_empty() {
            items.push((name.to_owned(), text));
        }
    }
    Ok(())
}

fn extended<R: Read + Seek>(
    obj: &mut Limited<'_, R>,
    file: &mut AsfFile,
    read_pictures: bool,
) -> Result<(), AsfError> {
    let count = obj.u16()?;
    for _ in 0..count {
        let name_len = obj.u16()?;
        let name = obj.utf16(u64::from(name_len))?;
        let kind = obj.u16()?;
        let value_len = obj.u16()?;
        // Booleans take 4 bytes here and 2 in the metadata objects.
        attribute(obj, file, name, kind, u64::from(value_len), read_pictures)?;
    }
    Ok(())
}

fn header_extension<R: Read + Seek>(
    obj: &mut Limited<'_, R>,
    file: &mut AsfFile,
    read_pictures: bool,
) -> Result<(), AsfError> {
    obj.skip(16 + 2)?; // reserved GUID and u16
    let data_len = u64::from(obj.u32()?);
    if data_len > obj.left {
        return Err(AsfError::Corrupt("header extension larger than its object"));
    }
    let mut inner = Limited::new(obj.inner, data_len);
    for _ in 0..MAX_ENTRIES {
        if inner.left < 24 {
            break;
        }
        let (id, mut child) = inner.object()?;
        if id == METADATA || id == METADATA_LIBRARY {
            let count = child.u16()?;
            for _ in 0..count {
                child.skip(2 + 2)?; // language index (or reserved), stream number
                let name_len = child.u16()?;
                let kind = child.u16()?;
                let value_len = u64::from(child.u32()?);
                let name = child.utf16(u64::from(name_len))?;
                attribute(&mut child, file, name, kind, value_len, read_pictures)?;
            }
        }
        child.finish()?;
    }
    inner.skip(inner.left)?;
    obj.left -= data_len;
    Ok(())
}

/// Reads one attribute value of `len` bytes and records it.
fn attribute<R: Read + Seek>(
    obj: &mut Limited<'_, R>,
    file: &mut AsfFile,
    name: String,
    kind: u16,
    len: u64,
    read_pictures: bool,
) -> Result<(), AsfError> {
    if len > obj.left {
        return Err(AsfError::Corrupt("attribute larger than its object"));
    }
    let mut value = Limited::new(obj.inner, len);
    let text = match kind {
        0 => Some(value.utf16(len)?),
        1 if name == PICTURE_ATTRIBUTE => {
            if let Some(p) = picture(&mut value, read_pictures)? {
                file.pictures.push(p);
            }
            None
        }
        1 => Some(format!("<binary: {len} bytes>")),
        2 => match len {
            2 => Some((value.u16()? != 0).to_string()),
            4 => Some((value.u32()? != 0).to_string()),
            _ => None,
        },
        3 if len == 4 => Some(value.u32()?.to_string()),
        4 if len == 8 => Some(value.u64()?.to_string()),
        5 if len == 2 => Some(value.u16()?.to_string()),
        _ => None,
    };
    value.skip(value.left)?;
    obj.left -= len;
    if let Some(text) = text
        && !name.is_empty()
    {
        file.items.push((name, text));
    }
    Ok(())
}

/// A `WM/Picture` value: type, image length, MIME type, description, image bytes.
fn picture<R: Read + Seek>(
    value: &mut Limited<'_, R>,
    read_data: bool,
) -> Result<Option<AsfPicture>, AsfError> {
    let picture_type = value.u8()?;
    let len = u64::from(value.u32()?);
    let mime_type = value.utf16z()?;
    let description = value.utf16z()?;
    if len > value.left || len == 0 {
        return Ok(None);
    }
    let data = if read_data && len <= MAX_PICTURE {
        value.bytes(len)?
    } else {
        Vec::new()
    };
    Ok(Some(AsfPicture {
        picture_type,
        mime_type,
        description,
        len: len as usize,
        data,
    }))
}

/// A reader that may take at most `left` more bytes: each object is read through one, so no
/// size inside it can reach past its end.
struct Limited<'r, R> {
    inner: &'r mut R,
    left: u64,
}

impl<'r, R: Read + Seek> Limited<'r, R> {
    fn new(inner: &'r mut R, left: u64) -> Self {
        Self { inner, left }
    }

    fn take(&mut self, n: u64) -> Result<(), AsfError> {
        if n > self.left {
            return Err(AsfError::Corrupt("object shorter than its contents"));
        }
        self.left -= n;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], AsfError> {
        self.take(N as u64)?;
        let mut buf = [0u8; N];
        self.inner
            .read_exact(&mut buf)
            .map_err(|_| AsfError::Corrupt("truncated"))?;
        Ok(buf)
    }

    fn u8(&mut self) -> Result<u8, AsfError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, AsfError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, AsfError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, AsfError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn skip(&mut self, n: u64) -> Result<(), AsfError> {
        self.take(n)?;
        let n = i64::try_from(n).map_err(|_| AsfError::Corrupt("size out of range"))?;
        self.inner
            .seek(SeekFrom::Current(n))
            .map_err(|_| AsfError::Corrupt("truncated"))?;
        Ok(())
    }

    fn bytes(&mut self, n: u64) -> Result<Vec<u8>, AsfError> {
        self.take(n)?;
        let mut buf = Vec::new();
        (&mut *self.inner)
            .take(n)
            .read_to_end(&mut buf)
            .map_err(|_| AsfError::Corrupt("truncated"))?;
        if buf.len() as u64 != n {
            return Err(AsfError::Corrupt("truncated"));
        }
        Ok(buf)
    }

    /// `n` bytes of UTF-16LE, without the trailing NULs; text beyond [`MAX_TEXT`] is dropped.
    fn utf16(&mut self, n: u64) -> Result<String, AsfError> {
        let keep = n.min(MAX_TEXT as u64 * 2);
        let bytes = self.bytes(keep)?;
        self.skip(n - keep)?;
        Ok(decode_utf16(&bytes))
    }

    /// A NUL-terminated UTF-16LE string (at most [`MAX_TEXT`] characters).
    fn utf16z(&mut self) -> Result<String, AsfError> {
        let mut units = Vec::new();
        loop {
            let unit = self.u16()?;
            if unit == 0 {
                break;
            }
            if units.len() < MAX_TEXT {
                units.push(unit);
            }
        }
        Ok(String::from_utf16_lossy(&units))
    }

    /// The next child object: its GUID and a reader limited to its body.
    fn object(&mut self) -> Result<(Guid, Limited<'_, R>), AsfError> {
        let id: Guid = self.array()?;
        let size = self.u64()?;
        if size < 24 || size - 24 > self.left {
            return Err(AsfError::Corrupt("object size out of range"));
        }
        self.left -= size - 24;
        Ok((id, Limited::new(self.inner, size - 24)))
    }

    /// Skips whatever of the object was not read.
    fn finish(&mut self) -> Result<(), AsfError> {
        self.skip(self.left)
    }
}

fn decode_utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut text = String::from_utf16_lossy(&units);
    while text.ends_with('\0') {
        text.pop();
    }
    text
}

/// Whether `head` (the first bytes of a file) is the start of an ASF file.
pub fn is_asf(head: &[u8]) -> bool {
    head.starts_with(&HEADER)
}
