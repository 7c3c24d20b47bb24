//! A view of an audio file with its embedded pictures cut out, for the tag parser.
//!
//! lofty's `read_cover_art(false)` drops pictures only after reading them: an ID3v2 `APIC`
//! frame is copied to a sink, an MP4 `ilst` is read whole, `covr` included, and so are an
//! Ogg comment packet and a WAV/AIFF `id3 ` chunk. A third of real libraries carry pictures of
//! 0.5-3 MB in every file, so that was most of the bytes a scan read. [`without_pictures`]
//! finds the pictures by walking headers only and returns a [`Spliced`] view of the file in
//! which they are missing and the sizes of the structures around them are patched: the parser
//! reads a file that never had pictures, and nothing of the pictures is read. Something is
//! cut only when there is a picture, so a view means the file has one; otherwise
//! `embedded_art` tells it from the real file.
//!
//! Only the common layouts are cut: an ID3v2.3/2.4 tag at the start of the file (MP3, ADTS
//! AAC) or at a known place ([`id3v2_tag_without_pictures`]: DSF, DFF; [`without_id3_chunk`]:
//! WAV, AIFF), MP4's `moov/udta/meta/ilst/covr` with 32-bit atom sizes, and the whole Ogg pages
//! inside a picture field of the comment header. Anything unusual (unsynchronised or extended
//! ID3v2 headers, 64-bit MP4 sizes, a frame that does not add up, an Ogg field length split
//! across pages) gives `None`, and the file is parsed as it is.

use std::io::{self, Read, Seek, SeekFrom};

use lofty::file::FileType;

/// One change to the file: bytes replaced in place, or a range left out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Edit {
    /// Four bytes at `at` read as `bytes`.
    Patch { at: u64, bytes: [u8; 4] },
    /// `start..end` is left out.
    Cut { start: u64, end: u64 },
}

/// A part of the spliced view: a range of the file, or bytes held here.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    File { start: u64, len: u64 },
    Bytes([u8; 4]),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::File { len, .. } => *len,
            Piece::Bytes(b) => b.len() as u64,
        }
    }
}

/// The file seen through a list of edits. Reads and seeks go to the wrapped reader (a
/// `CachedFile`, where a seek only moves a cursor).
pub struct Spliced<R> {
    inner: R,
    /// (start in the view, piece), in order.
    pieces: Vec<(u64, Piece)>,
    len: u64,
    pos: u64,
}

impl<R> Spliced<R> {
    fn new(inner: R, file_len: u64, mut edits: Vec<Edit>) -> Self {
        edits.sort_by_key(|e| match e {
            Edit::Patch { at, .. } => *at,
            Edit::Cut { start, .. } => *start,
        });
        let mut pieces = Vec::new();
        let mut view = 0;
        let mut file = 0;
        let mut push = |piece: Piece, view: &mut u64| {
            if piece.len() > 0 {
                let len = piece.len();
                pieces.push((*view, piece));
                *view += len;
            }
        };
        for edit in edits {
            match edit {
                Edit::Patch { at, bytes } => {
                    push(
                        Piece::File {
                            start: file,
                            len: at - file,
                        },
                        &mut view,
                    );
                    push(Piece::Bytes(bytes), &mut view);
                    file = at + 4;
                }
                Edit::Cut { start, end } => {
                    push(
                        Piece::File {
                            start: file,
                            len: start - file,
                        },
                        &mut view,
                    );
                    file = end;
                }
            }
        }
        push(
            Piece::File {
                start: file,
                len: file_len.saturating_sub(file),
            },
            &mut view,
        );
        Self {
            inner,
            pieces,
            len: view,
            pos: 0,
        }
    }

    /// The wrapped reader back.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read + Seek> Read for Spliced<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let index = self.pieces.partition_point(|(start, _)| *start <= self.pos) - 1;
        let (start, piece) = &self.pieces[index];
        let offset = self.pos - start;
        let want = (piece.len() - offset).min(buf.len() as u64) as usize;
        let n = match piece {
            Piece::Bytes(bytes) => {
                buf[..want].copy_from_slice(&bytes[offset as usize..offset as usize + want]);
                want
            }
            Piece::File { start, .. } => {
                self.inner.seek(SeekFrom::Start(start + offset))?;
                self.inner.read(&mut buf[..want])?
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R> Seek for Spliced<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

/// The view of `r` (`len` bytes, parsed as `file_type`) without its embedded pictures, or the
/// reader back (positioned at the start) when there is nothing to cut or the layout is not
/// one this module knows.
pub fn without_pictures<R: Read + Seek>(
    mut r: R,
    len: u64,
    file_type: FileType,
) -> Result<Spliced<R>, R> {
    let edits = match file_type {
        FileType::Mpeg | FileType::Aac => id3v2_picture_edits(&mut r, 0, len),
        FileType::Mp4 => mp4_cover_edits(&mut r, len),
        FileType::Vorbis | FileType::Opus | FileType::Speex => ogg_picture_edits(&mut r),
        _ => None,
    };
    if r.seek(SeekFrom::Start(0)).is_err() {
        return Err(r);
    }
    match edits {
        Some(edits) if !edits.is_empty() => Ok(Spliced::new(r, len, edits)),
        _ => Err(r),
    }
}

/// WAV and AIFF: lofty reads their `id3 ` chunk whole, pictures included. When that chunk's
/// ID3v2 tag has pictures, returns the tag read without them and a view of the file without
/// the chunk (the container's size patched), for the parser to read everything else; else
/// the reader back (positioned at the start).
pub fn without_id3_chunk<R: Read + Seek>(
    mut r: R,
    len: u64,
    file_type: FileType,
) -> Result<(Spliced<R>, Vec<u8>), R> {
    let found = match file_type {
        FileType::Wav => id3_chunk_cut(&mut r, len, b"RIFF", u32::from_le_bytes, u32::to_le_bytes),
        FileType::Aiff => id3_chunk_cut(&mut r, len, b"FORM", u32::from_be_bytes, u32::to_be_bytes),
        _ => None,
    };
    if r.seek(SeekFrom::Start(0)).is_err() {
        return Err(r);
    }
    match found {
        Some((edits, tag)) => Ok((Spliced::new(r, len, edits), tag)),
        None => Err(r),
    }
}

/// The edits that leave out the top-level `id3 `/`ID3 ` chunk of a RIFF or FORM file, and its
/// tag without pictures; `None` without such a chunk or without pictures in it.
fn id3_chunk_cut<R: Read + Seek>(
    r: &mut R,
    len: u64,
    magic: &[u8; 4],
    size_of: fn([u8; 4]) -> u32,
    size_bytes: fn(u32) -> [u8; 4],
) -> Option<(Vec<Edit>, Vec<u8>)> {
    let header: [u8; 12] = read_at(r, 0)?;
    if &header[..4] != magic {
        return None;
    }
    let container = u64::from(size_of(header[4..8].try_into().ok()?));
    let mut pos = 12u64;
    for _ in 0..10_000 {
        let chunk: [u8; 8] = read_at(r, pos)?;
        let size = u64::from(size_of(chunk[4..8].try_into().ok()?));
        let end = pos + 8 + size + (size & 1);
        if end > len {
            return None;
        }
        if chunk[..4].eq_ignore_ascii_case(b"id3 ") {
            let tag = id3v2_tag_without_pictures(r, pos + 8, pos + 8 + size)?;
            let removed = end - pos;
            let edits = vec![
                Edit::Patch {
                    at: 4,
                    bytes: size_bytes(u32::try_from(container.checked_sub(removed)?).ok()?),
                },
                Edit::Cut { start: pos, end },
            ];
            return Some((edits, tag));
        }
        pos = end;
    }
    None
}

fn read_at<const N: usize, R: Read + Seek>(r: &mut R, at: u64) -> Option<[u8; N]> {
    let mut buf = [0; N];
    r.seek(SeekFrom::Start(at)).ok()?;
    r.read_exact(&mut buf).ok()?;
    Some(buf)
}

fn synchsafe(b: [u8; 4]) -> u64 {
    b.iter().fold(0, |n, b| (n << 7) | u64::from(b & 0x7F))
}

fn to_synchsafe(n: u64) -> Option<[u8; 4]> {
    if n >= 1 << 28 {
        return None;
    }
    Some([
        (n >> 21) as u8 & 0x7F,
        (n >> 14) as u8 & 0x7F,
        (n >> 7) as u8 & 0x7F,
        n as u8 & 0x7F,
    ])
}

/// The ID3v2.3/2.4 tag at `at` (ending before `len`) without its `APIC` frames, as bytes;
/// `None` when it has none or a layout [`id3v2_picture_edits`] does not cut. For tags read
/// whole into memory (DSF and DSDIFF keep theirs at the end of the file).
pub fn id3v2_tag_without_pictures<R: Read + Seek>(r: &mut R, at: u64, len: u64) -> Option<Vec<u8>> {
    let edits = id3v2_picture_edits(r, at, len)?;
    let size = synchsafe(read_at(r, at + 6)?);
    let cut: u64 = edits
        .iter()
        .map(|e| match e {
            Edit::Cut { start, end } => end - start,
            Edit::Patch { .. } => 0,
        })
        .sum();
    let mut view = Spliced::new(r, len, edits);
    view.seek(SeekFrom::Start(at)).ok()?;
    let mut tag = vec![0; usize::try_from(10 + size - cut).ok()?];
    view.read_exact(&mut tag).ok()?;
    Some(tag)
}

/// `APIC` frames of an ID3v2.3/2.4 tag at `at` (ending before `len`), cut, and the tag's
/// size patched.
fn id3v2_picture_edits<R: Read + Seek>(r: &mut R, at: u64, len: u64) -> Option<Vec<Edit>> {
    let header: [u8; 10] = read_at(r, at)?;
    if &header[..3] != b"ID3" {
        return None;
    }
    let version = header[3];
    let flags = header[5];
    // Unsynchronisation (2.3), an extended header or a footer: parsed as it is.
    if !(version == 3 || version == 4) || flags & 0xD0 != 0 {
        return None;
    }
    let size = synchsafe(header[6..10].try_into().ok()?);
    let end = at + 10 + size;
    if end > len {
        return None;
    }
    let mut edits = Vec::new();
    let mut cut = 0;
    let mut pos = at + 10;
    while pos + 10 <= end {
        let frame: [u8; 10] = read_at(r, pos)?;
        if frame[0] == 0 {
            break; // padding
        }
        if !frame[..4]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return None;
        }
        let size_bytes: [u8; 4] = frame[4..8].try_into().ok()?;
        let frame_size = if version == 4 {
            synchsafe(size_bytes)
        } else {
            u64::from(u32::from_be_bytes(size_bytes))
        };
        let frame_end = pos + 10 + frame_size;
        if frame_end > end {
            return None;
        }
        if &frame[..4] == b"APIC" {
            edits.push(Edit::Cut {
                start: pos,
                end: frame_end,
            });
            cut += frame_end - pos;
        }
        pos = frame_end;
    }
    if cut == 0 {
        return None;
    }
    edits.push(Edit::Patch {
        at: at + 6,
        bytes: to_synchsafe(size - cut)?,
    });
    Some(edits)
}

/// The whole pages inside the picture fields of an Ogg comment header, cut, and the fields'
/// lengths patched to what is left of them: the few KB of each value on the pages where it
/// starts and ends, which the parser skips undecoded when it reads no pictures.
fn ogg_picture_edits<R: Read + Seek>(r: &mut R) -> Option<Vec<Edit>> {
    let mut edits = Vec::new();
    for field in crate::scanner::ogg_comments::picture_fields(r)? {
        if field.inner_bytes == 0 {
            continue;
        }
        let left = u64::from(field.len) - field.inner_bytes;
        edits.push(Edit::Patch {
            at: field.len_at?,
            bytes: u32::try_from(left).ok()?.to_le_bytes(),
        });
        edits.extend(
            field
                .inner_pages
                .iter()
                .map(|&(start, end)| Edit::Cut { start, end }),
        );
    }
    (!edits.is_empty()).then_some(edits)
}

/// An MP4 atom: where it starts, its size and its name.
struct Atom {
    start: u64,
    size: u64,
    name: [u8; 4],
}

/// The children of the atom content `start..end` with 32-bit sizes; `None` on a 64-bit or
/// malformed size.
fn atoms<R: Read + Seek>(r: &mut R, start: u64, end: u64) -> Option<Vec<Atom>> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos + 8 <= end {
        let header: [u8; 8] = read_at(r, pos)?;
        let size = match u64::from(u32::from_be_bytes(header[..4].try_into().ok()?)) {
            0 => end - pos,
            size if size < 8 || pos + size > end => return None,
            size => size,
        };
        out.push(Atom {
            start: pos,
            size,
            name: header[4..8].try_into().ok()?,
        });
        pos += size;
        if out.len() > 10_000 {
            return None;
        }
    }
    Some(out)
}

/// `covr` atoms of `moov/udta/meta/ilst`, cut, and the sizes of the four atoms around them
/// patched.
fn mp4_cover_edits<R: Read + Seek>(r: &mut R, len: u64) -> Option<Vec<Edit>> {
    let find = |list: Vec<Atom>, name: &[u8; 4]| list.into_iter().find(|a| &a.name == name);
    let moov = find(atoms(r, 0, len)?, b"moov")?;
    let udta = find(atoms(r, moov.start + 8, moov.start + moov.size)?, b"udta")?;
    let meta = find(atoms(r, udta.start + 8, udta.start + udta.size)?, b"meta")?;
    // iTunes writes `meta` as a full atom (4 bytes of version and flags before `hdlr`).
    let probe: [u8; 8] = read_at(r, meta.start + 8)?;
    let meta_content = if &probe[4..8] == b"hdlr" {
        meta.start + 8
    } else {
        meta.start + 12
    };
    let ilst = find(atoms(r, meta_content, meta.start + meta.size)?, b"ilst")?;
    let covers: Vec<Atom> = atoms(r, ilst.start + 8, ilst.start + ilst.size)?
        .into_iter()
        .filter(|a| &a.name == b"covr")
        .collect();
    let cut: u64 = covers.iter().map(|a| a.size).sum();
    if cut == 0 {
        return None;
    }
    let mut edits: Vec<Edit> = covers
        .iter()
        .map(|a| Edit::Cut {
            start: a.start,
            end: a.start + a.size,
        })
        .collect();
    for parent in [&moov, &udta, &meta, &ilst] {
        let size = u32::try_from(parent.size - cut).ok()?;
        edits.push(Edit::Patch {
            at: parent.start,
            bytes: size.to_be_bytes(),
        });
    }
    Some(edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read_all<R: Read + Seek>(mut r: R) -> Vec<u8> {
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        out
    }

    fn id3_frame(id: &[u8; 4], body: &[u8], version: u8) -> Vec<u8> {
        let size = body.len() as u64;
        let size = if version == 4 {
            to_synchsafe(size).unwrap()
        } else {
            (size as u32).to_be_bytes()
        };
        [&id[..], &size, &[0, 0], body].concat()
    }

    fn id3_tag(frames: &[Vec<u8>], padding: usize, version: u8) -> Vec<u8> {
        let body: Vec<u8> = [frames.concat(), vec![0; padding]].concat();
        let size = to_synchsafe(body.len() as u64).unwrap();
        [&b"ID3"[..], &[version, 0, 0], &size, &body].concat()
    }

    #[test]
    fn id3v2_pictures_are_cut_and_the_tag_size_patched() {
        for version in [3, 4] {
            let title = id3_frame(b"TIT2", b"\x03Song", version);
            let picture = id3_frame(b"APIC", &[0xAB; 5000], version);
            let artist = id3_frame(b"TPE1", b"\x03Band", version);
            let audio = [0xFF, 0xFB, 0x90, 0x00, 1, 2, 3];
            let with = [
                id3_tag(&[title.clone(), picture, artist.clone()], 16, version),
                audio.to_vec(),
            ]
            .concat();
            let without = [
                id3_tag(&[title.clone(), artist.clone()], 16, version),
                audio.to_vec(),
            ]
            .concat();
            let len = with.len() as u64;
            let view = without_pictures(Cursor::new(with), len, FileType::Mpeg)
                .unwrap_or_else(|_| panic!("v2.{version}: nothing cut"));
            assert_eq!(view.len, without.len() as u64);
            assert_eq!(read_all(view), without, "v2.{version}");
        }
    }

    #[test]
    fn seeks_and_small_reads_across_pieces_see_the_view() {
        let tag = id3_tag(
            &[
                id3_frame(b"APIC", &[7; 100], 4),
                id3_frame(b"TIT2", b"\x03Hi", 4),
            ],
            0,
            4,
        );
        let file = [tag, b"tail-bytes".to_vec()].concat();
        let len = file.len() as u64;
        let mut view = without_pictures(Cursor::new(file), len, FileType::Mpeg)
            .unwrap_or_else(|_| panic!("nothing cut"));
        let expected = [
            id3_tag(&[id3_frame(b"TIT2", b"\x03Hi", 4)], 0, 4),
            b"tail-bytes".to_vec(),
        ]
        .concat();
        for (at, n) in [(0, 3), (5, 4), (8, 9), (expected.len() as u64 - 6, 6)] {
            view.seek(SeekFrom::Start(at)).unwrap();
            let mut buf = vec![0; n];
            view.read_exact(&mut buf).unwrap();
            assert_eq!(buf, expected[at as usize..at as usize + n], "at {at}");
        }
        assert_eq!(view.seek(SeekFrom::End(0)).unwrap(), expected.len() as u64);
        let mut rest = [0; 4];
        assert_eq!(view.read(&mut rest).unwrap(), 0);
    }

    #[test]
    fn no_picture_or_an_odd_layout_leaves_the_file_as_it_is() {
        let plain = id3_tag(&[id3_frame(b"TIT2", b"\x03Song", 4)], 0, 4);
        let len = plain.len() as u64;
        assert!(without_pictures(Cursor::new(plain), len, FileType::Mpeg).is_err());
        // A frame running past the tag's end: not ours to guess.
        let mut bad = id3_tag(&[id3_frame(b"APIC", &[1; 50], 4)], 0, 4);
        bad[17] = 0x7F;
        let len = bad.len() as u64;
        assert!(without_pictures(Cursor::new(bad), len, FileType::Mpeg).is_err());
        // Tag-wide unsynchronisation in 2.3.
        let mut unsync = id3_tag(&[id3_frame(b"APIC", &[1; 50], 3)], 0, 3);
        unsync[5] = 0x80;
        let len = unsync.len() as u64;
        assert!(without_pictures(Cursor::new(unsync), len, FileType::Mpeg).is_err());
    }

    fn atom(name: &[u8; 4], content: &[u8]) -> Vec<u8> {
        [
            &((content.len() + 8) as u32).to_be_bytes()[..],
            name,
            content,
        ]
        .concat()
    }

    #[test]
    fn mp4_covers_are_cut_and_their_parents_resized() {
        let mp4 = |with_cover: bool| {
            let mut ilst = atom(b"\xa9nam", &atom(b"data", b"\0\0\0\x01\0\0\0\0Song"));
            if with_cover {
                ilst.extend(atom(b"covr", &atom(b"data", &[0xCD; 3000])));
            }
            ilst.extend(atom(b"\xa9ART", &atom(b"data", b"\0\0\0\x01\0\0\0\0Band")));
            let meta = [
                vec![0; 4],
                atom(b"hdlr", &[0; 25]),
                atom(b"ilst", &ilst),
                atom(b"free", &[0; 8]),
            ]
            .concat();
            let moov = [
                atom(b"mvhd", &[0; 100]),
                atom(b"udta", &atom(b"meta", &meta)),
            ]
            .concat();
            [
                atom(b"ftyp", b"M4A \0\0\0\0"),
                atom(b"moov", &moov),
                atom(b"mdat", &[9; 64]),
            ]
            .concat()
        };
        let (with, without) = (mp4(true), mp4(false));
        let len = with.len() as u64;
        let view = without_pictures(Cursor::new(with), len, FileType::Mp4)
            .unwrap_or_else(|_| panic!("nothing cut"));
        assert_eq!(read_all(view), without);
        let len = without.len() as u64;
        assert!(without_pictures(Cursor::new(without), len, FileType::Mp4).is_err());
    }
}
