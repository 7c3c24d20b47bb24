//! Opening a file: sniffing what it is, parsing it with lofty or our own readers (WMA, DSF,
//! DFF), and keeping its tags in merge priority order.

use std::io;
use std::io::{Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use lofty::aac::AacFile;
use lofty::ape::{ApeFile, ApeTag};
use lofty::config::ParseOptions;
use lofty::error::FileParseError;
use lofty::file::{AudioFile, FileType};
use lofty::flac::FlacFile;
use lofty::id3::v1::Id3v1Tag;
use lofty::id3::v2::{Frame, Id3v2Tag};
use lofty::iff::aiff::{AiffFile, AiffTextChunks};
use lofty::iff::wav::{RiffInfoList, WavFile, WavFormat};
use lofty::mp4::{Ilst, Mp4Codec, Mp4File};
use lofty::mpeg::{Layer, MpegFile};
use lofty::musepack::MpcFile;
use lofty::ogg::tag::VorbisComments;
use lofty::ogg::{OggPictureStorage, OpusFile, SpeexFile, VorbisFile};
use lofty::picture::Picture;
use lofty::probe::Probe;
use lofty::properties::FileProperties;
use lofty::wavpack::WavPackFile;

use crate::scanner::asf::AsfPicture;
use crate::scanner::cached_file::CachedFile;
use crate::scanner::dsd::DsdKind;
use crate::scanner::picture_free::{without_id3_chunk, without_pictures};
use crate::scanner::{asf, dsd};

use super::TagError;

/// A parsed file: its type, properties, codec name and tags in merge priority order.
pub(super) struct Parsed {
    /// For the formats read by our own readers, `FileType::Custom` with the suffix.
    pub(super) file_type: FileType,
    pub(super) properties: FileProperties,
    pub(super) codec: &'static str,
    pub(super) tags: Vec<OwnedTag>,
    /// Whether a picture is embedded, when the reader already knows (our own readers);
    /// `None` for lofty's formats, which are checked by walking headers.
    pub(super) has_picture: Option<bool>,
}

/// A format-specific tag taken out of a lofty file.
pub(super) enum OwnedTag {
    Id3v2(Id3v2Tag),
    Id3v1(Id3v1Tag),
    Ape(ApeTag),
    Vorbis(VorbisComments, Vec<Picture>),
    Ilst(Ilst),
    Riff(RiffInfoList),
    Aiff(AiffTextChunks),
    /// ASF attributes as text (content description fields and `WM/...` attributes).
    Asf(Vec<(String, String)>, Vec<AsfPicture>),
    /// DSDIFF `DIIN` texts: `DITI` (title), `DIAR` (artist).
    Diin(Vec<(&'static str, String)>),
}

/// Parses the file; returns what was read and the open reader (for the picture check).
pub(super) fn open_and_parse(
    path: &Path,
    read_cover_art: bool,
) -> Result<(Parsed, CachedFile), TagError> {
    let mut reader = CachedFile::open(path).map_err(TagError::Open)?;
    if reader.is_empty() {
        return Err(TagError::Empty);
    }
    // Frame-sync sniffing mistakes some images for MPEG audio (a JPEG starts FF D8 FF E0):
    // reject well-known non-audio signatures up front.
    if is_known_non_audio(reader.head()) {
        return Err(TagError::NotAudio);
    }
    if let Some(parsed) = parse_own_format(&mut reader, read_cover_art)? {
        return Ok((parsed, reader));
    }
    let options = ParseOptions::new().read_cover_art(read_cover_art);
    // Content sniffing first; the extension (matched case-insensitively) only when the content
    // is not recognised. This is what `Probe::open(path)?.guess_file_type()` does, except that
    // we keep both answers to tell "corrupt audio" from "not audio at all".
    let probe = Probe::new(reader)
        .options(options)
        .guess_file_type()
        .map_err(|e| TagError::Corrupt(e.to_string()))?;
    let sniffed = probe.file_type();
    let Some(file_type) = sniffed.or_else(|| FileType::from_path(path)) else {
        return Err(TagError::NotAudio);
    };
    let reader = probe.into_inner();
    let len = reader.len();
    // Without pictures, the parser is shown a view of the file with them cut out (WAV and
    // AIFF: without their ID3v2 chunk, whose tag is read here, pictures left out).
    let mut id3_chunk = None;
    let view = if read_cover_art {
        Err(reader)
    } else {
        match without_id3_chunk(reader, len, file_type) {
            Ok((view, tag)) => {
                id3_chunk = Some(tag);
                Ok(view)
            }
            Err(reader) => without_pictures(reader, len, file_type),
        }
    };
    let (result, reader) = match view {
        Ok(mut view) => {
            let result = catch_unwind(AssertUnwindSafe(|| parse_as(file_type, &mut view, options)))
                // Only pictures are ever cut: the file has one.
                .map(|parsed| {
                    parsed.map(|p| Parsed {
                        has_picture: Some(true),
                        ..p
                    })
                });
            (result, view.into_inner())
        }
        Err(mut reader) => {
            let result = catch_unwind(AssertUnwindSafe(|| {
                parse_as(file_type, &mut reader, options)
            }));
            (result, reader)
        }
    };
    match result {
        Err(_) => Err(TagError::Panicked),
        // An Ogg stream cut inside its headers parses, but has no audio page to time it.
        Ok(Ok(parsed))
            if parsed.properties.duration().is_zero()
                && matches!(
                    parsed.file_type,
                    FileType::Vorbis | FileType::Opus | FileType::Speex
                ) =>
        {
            Err(TagError::Corrupt("no audio pages".to_owned()))
        }
        Ok(Ok(mut parsed)) => {
            if let Some(bytes) = id3_chunk {
                // First, where lofty puts a WAV's or AIFF's ID3v2 tag.
                let tag = id3v2_from_bytes(&bytes).map_err(TagError::Corrupt)?;
                parsed.tags.insert(0, OwnedTag::Id3v2(tag));
            }
            Ok((parsed, reader))
        }
        Ok(Err(_)) if sniffed.is_none() => Err(TagError::NotAudio),
        Ok(Err(e)) => Err(TagError::Corrupt(describe_error(&e))),
    }
}

/// Reads the formats lofty does not (ASF/WMA, DSF, DFF) with our own readers, recognised by
/// their content; `None` for everything else.
pub(super) fn parse_own_format(
    reader: &mut CachedFile,
    read_cover_art: bool,
) -> Result<Option<Parsed>, TagError> {
    let head = reader.head();
    let is_asf = asf::is_asf(head);
    let dsd_kind = dsd::sniff(head);
    if !is_asf && dsd_kind.is_none() {
        return Ok(None);
    }
    let len = reader.len();
    let result = catch_unwind(AssertUnwindSafe(|| {
        if is_asf {
            asf::read(reader, len, read_cover_art)
                .map(asf_parsed)
                .map_err(|e| e.to_string())
        } else {
            dsd::read(reader, len, read_cover_art)
                .map_err(|e| e.to_string())
                .and_then(|f| dsd_parsed(f, dsd_kind))
        }
    }));
    match result {
        Err(_) => Err(TagError::Panicked),
        Ok(Err(e)) => Err(TagError::Corrupt(e)),
        Ok(Ok(parsed)) => Ok(Some(parsed)),
    }
}

pub(super) fn asf_parsed(f: asf::AsfFile) -> Parsed {
    let properties = FileProperties::new(
        std::time::Duration::from_millis(f.duration_ms),
        None,
        f.bitrate,
        f.sample_rate,
        f.bits_per_sample.and_then(|b| u8::try_from(b).ok()),
        f.channels.and_then(|c| u8::try_from(c).ok()),
        None,
    );
    Parsed {
        file_type: FileType::Custom("wma"),
        properties,
        codec: f.codec,
        has_picture: Some(!f.pictures.is_empty()),
        tags: vec![OwnedTag::Asf(f.items, f.pictures)],
    }
}

pub(super) fn dsd_parsed(f: dsd::DsdFile, kind: Option<DsdKind>) -> Result<Parsed, String> {
    let properties = FileProperties::new(
        std::time::Duration::from_millis(f.duration_ms),
        Some(f.bitrate),
        Some(f.bitrate),
        Some(f.sample_rate),
        Some(1),
        u8::try_from(f.channels).ok(),
        None,
    );
    let mut tags = Vec::new();
    let mut has_picture = f.id3v2_pictures_cut;
    if let Some(bytes) = &f.id3v2 {
        let tag = id3v2_from_bytes(bytes)?;
        has_picture |= (&tag).into_iter().any(|f| matches!(f, Frame::Picture(_)));
        tags.push(OwnedTag::Id3v2(tag));
    }
    let diin: Vec<(&'static str, String)> = [("DITI", f.title), ("DIAR", f.artist)]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
    if !diin.is_empty() {
        tags.push(OwnedTag::Diin(diin));
    }
    Ok(Parsed {
        file_type: FileType::Custom(match kind {
            Some(DsdKind::Dff) => "dff",
            _ => "dsf",
        }),
        properties,
        codec: f.codec,
        tags,
        has_picture: Some(has_picture),
    })
}

/// Parses a whole ID3v2 tag held in memory. lofty only parses ID3v2 inside a file, so the tag
/// is wrapped in the smallest AIFF file that holds it (an `ID3 ` chunk; no audio properties
/// are read).
pub(crate) fn id3v2_from_bytes(tag: &[u8]) -> Result<Id3v2Tag, String> {
    let len = u32::try_from(tag.len()).map_err(|_| "ID3v2 tag too large".to_owned())?;
    let padded = tag.len() + (tag.len() & 1);
    let mut aiff = Vec::with_capacity(20 + padded);
    aiff.extend_from_slice(b"FORM");
    aiff.extend_from_slice(&(12 + padded as u32).to_be_bytes());
    aiff.extend_from_slice(b"AIFFID3 ");
    aiff.extend_from_slice(&len.to_be_bytes());
    aiff.extend_from_slice(tag);
    aiff.resize(20 + padded, 0);
    let options = ParseOptions::new().read_properties(false);
    let mut file = AiffFile::read_from(&mut io::Cursor::new(aiff), options)
        .map_err(|e| format!("ID3v2 tag: {}", describe_error(&e)))?;
    Ok(file.remove_id3v2().unwrap_or_default())
}

/// Signatures of common non-audio files found in music folders (images, documents,
/// archives, playlists and other text).
pub(super) fn is_known_non_audio(head: &[u8]) -> bool {
    const SIGNATURES: [&[u8]; 8] = [
        b"\xff\xd8\xff", // JPEG
        b"\x89PNG",      // PNG
        b"GIF8",         // GIF
        b"%PDF",         // PDF
        b"PK\x03\x04",   // ZIP (also EPUB, DOCX)
        b"<?xml",        // XML, cue/nfo exports
        b"#EXTM3U",      // playlists
        b"\xef\xbb\xbf", // UTF-8 BOM: text
    ];
    SIGNATURES.iter().any(|sig| head.starts_with(sig))
        || (head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP")
}

/// The whole source chain of a lofty error, e.g. "failed to parse Mpeg file: File contains no
/// frames".
pub(super) fn describe_error(e: &FileParseError) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !msg.ends_with(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

pub(super) fn parse_as<R: Read + Seek>(
    file_type: FileType,
    r: &mut R,
    options: ParseOptions,
) -> Result<Parsed, FileParseError> {
    let mut tags = Vec::with_capacity(3);
    let (properties, codec): (FileProperties, &'static str) = match file_type {
        FileType::Mpeg => {
            let mut f = MpegFile::read_from(r, options)?;
            let codec = match f.properties().layer() {
                Layer::Layer1 => "MP1",
                Layer::Layer2 => "MP2",
                Layer::Layer3 => "MP3",
            };
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            tags.extend(f.remove_ape().map(OwnedTag::Ape));
            tags.extend(f.remove_id3v1().map(OwnedTag::Id3v1));
            ((*f.properties()).into(), codec)
        }
        FileType::Aac => {
            // lofty walks every frame for the properties; the estimate reads the first ones.
            let estimate = crate::scanner::adts::estimate_file(r);
            r.seek(io::SeekFrom::Start(0))
                .map_err(FileParseError::from)?;
            let mut aac_options = options;
            let aac_options = aac_options.read_properties(estimate.is_none());
            let mut f = AacFile::read_from(r, aac_options)?;
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            tags.extend(f.remove_id3v1().map(OwnedTag::Id3v1));
            let properties = match estimate {
                Some(e) => FileProperties::new(
                    e.duration,
                    Some(e.bitrate),
                    Some(e.bitrate),
                    Some(e.sample_rate),
                    None,
                    Some(e.channels),
                    None,
                ),
                None => (*f.properties()).into(),
            };
            (properties, "AAC")
        }
        FileType::Flac => {
            let mut f = FlacFile::read_from(r, options)?;
            let pictures = f.pictures().iter().map(|(p, _)| p.clone()).collect();
            tags.extend(
                f.remove_vorbis_comments()
                    .map(|v| OwnedTag::Vorbis(v, pictures)),
            );
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            ((*f.properties()).into(), "FLAC")
        }
        FileType::Vorbis => {
            let mut f = VorbisFile::read_from(r, options)?;
            tags.push(vorbis_tag(f.remove_vorbis_comments()));
            ((*f.properties()).into(), "Vorbis")
        }
        FileType::Opus => {
            let mut f = OpusFile::read_from(r, options)?;
            tags.push(vorbis_tag(f.remove_vorbis_comments()));
            ((*f.properties()).into(), "Opus")
        }
        FileType::Speex => {
            let mut f = SpeexFile::read_from(r, options)?;
            tags.push(vorbis_tag(f.remove_vorbis_comments()));
            ((*f.properties()).into(), "Speex")
        }
        FileType::Mp4 => {
            let mut f = Mp4File::read_from(r, options)?;
            let codec = match f.properties().codec() {
                Some(Mp4Codec::ALAC) => "ALAC",
                Some(Mp4Codec::MP3) => "MP3",
                Some(Mp4Codec::FLAC) => "FLAC",
                _ => "AAC",
            };
            tags.extend(f.remove_ilst().map(OwnedTag::Ilst));
            (f.properties().clone().into(), codec)
        }
        FileType::Wav => {
            let mut f = WavFile::read_from(r, options)?;
            let codec = match f.properties().format() {
                WavFormat::PCM | WavFormat::IEEE_FLOAT => "PCM",
                _ => "WAV",
            };
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            tags.extend(f.remove_riff_info().map(OwnedTag::Riff));
            ((*f.properties()).into(), codec)
        }
        FileType::Aiff => {
            let mut f = AiffFile::read_from(r, options)?;
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            tags.extend(f.remove_text_chunks().map(OwnedTag::Aiff));
            (f.properties().clone().into(), "PCM")
        }
        FileType::WavPack => {
            let mut f = WavPackFile::read_from(r, options)?;
            tags.extend(f.remove_ape().map(OwnedTag::Ape));
            tags.extend(f.remove_id3v1().map(OwnedTag::Id3v1));
            ((*f.properties()).into(), "WavPack")
        }
        FileType::Ape => {
            let mut f = ApeFile::read_from(r, options)?;
            tags.extend(f.remove_ape().map(OwnedTag::Ape));
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            tags.extend(f.remove_id3v1().map(OwnedTag::Id3v1));
            (f.properties().clone().into(), "APE")
        }
        FileType::Mpc => {
            let mut f = MpcFile::read_from(r, options)?;
            tags.extend(f.remove_ape().map(OwnedTag::Ape));
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            tags.extend(f.remove_id3v1().map(OwnedTag::Id3v1));
            (f.properties().clone().into(), "Musepack")
        }
        _ => {
            return Err(FileParseError::from(io::Error::other(
                "unsupported file type",
            )));
        }
    };
    Ok(Parsed {
        file_type,
        properties,
        codec,
        tags,
        has_picture: None,
    })
}

pub(super) fn vorbis_tag(mut comments: VorbisComments) -> OwnedTag {
    let pictures = comments
        .remove_pictures()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    OwnedTag::Vorbis(comments, pictures)
}

pub(super) fn suffix_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// MIME type by extension (as Navidrome does), falling back to the detected container.
pub(super) fn content_type_for(suffix: &str, file_type: FileType) -> &'static str {
    match suffix {
        "mp3" | "mp2" | "mp1" => "audio/mpeg",
        "flac" => "audio/flac",
        "ogg" | "oga" | "opus" | "spx" => "audio/ogg",
        "m4a" | "m4b" | "m4p" | "mp4" => "audio/mp4",
        "wav" | "wave" => "audio/wav",
        "aif" | "aiff" | "aifc" => "audio/aiff",
        "wv" => "audio/x-wavpack",
        "ape" => "audio/x-ape",
        "mpc" | "mp+" | "mpp" => "audio/x-musepack",
        "aac" => "audio/aac",
        "wma" | "asf" => "audio/x-ms-wma",
        "dsf" => "audio/x-dsf",
        "dff" => "audio/x-dff",
        _ => match file_type {
            FileType::Mpeg => "audio/mpeg",
            FileType::Flac => "audio/flac",
            FileType::Vorbis | FileType::Opus | FileType::Speex => "audio/ogg",
            FileType::Mp4 => "audio/mp4",
            FileType::Wav => "audio/wav",
            FileType::Aiff => "audio/aiff",
            FileType::WavPack => "audio/x-wavpack",
            FileType::Ape => "audio/x-ape",
            FileType::Mpc => "audio/x-musepack",
            FileType::Aac => "audio/aac",
            FileType::Custom("wma") => "audio/x-ms-wma",
            FileType::Custom("dsf") => "audio/x-dsf",
            FileType::Custom("dff") => "audio/x-dff",
            _ => "application/octet-stream",
        },
    }
}
