//! Reads one audio file's tags and audio properties into a [`TrackMeta`]: the scanner's pure
//! tag layer (a path in, a struct out; no database, no async, no global state).
//!
//! lofty parses the container and hands us its format-specific tags (ID3v2, ID3v1, APEv2,
//! Vorbis comments, MP4 `ilst`, RIFF INFO, AIFF text chunks). Each tag is flattened into a list
//! of `(Field, value)` pairs by a small per-format mapper, the tags are merged field by field
//! (primary tag first, the others only fill gaps), and the merged values are cleaned, split and
//! parsed into [`TrackMeta`]. Mapping the format keys ourselves, rather than through lofty's
//! generic `Tag`, keeps keys lofty does not know (`TXXX:MusicBrainz Track Id`, `RELEASETYPE` in
//! APE, `SYLT`, ...) and avoids converting every item twice.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use lofty::aac::AacFile;
use lofty::ape::{ApeFile, ApeTag};
use lofty::config::ParseOptions;
use lofty::error::FileParseError;
use lofty::file::{AudioFile, FileType};
use lofty::flac::FlacFile;
use lofty::id3::v1::{GENRES, Id3v1Tag};
use lofty::id3::v2::{Frame, Id3v2Tag, Id3v2Version, SynchronizedTextFrame, TimestampFormat};
use lofty::iff::aiff::{AiffFile, AiffTextChunks};
use lofty::iff::wav::{RiffInfoList, WavFile, WavFormat};
use lofty::mp4::{AtomData, AtomIdent, Ilst, Mp4Codec, Mp4File};
use lofty::mpeg::{Layer, MpegFile};
use lofty::musepack::MpcFile;
use lofty::ogg::tag::VorbisComments;
use lofty::ogg::{OggPictureStorage, OpusFile, SpeexFile, VorbisFile};
use lofty::picture::Picture;
use lofty::probe::Probe;
use lofty::properties::FileProperties;
use lofty::tag::ItemValue;
use lofty::wavpack::WavPackFile;

use crate::scanner::asf::{self, AsfPicture};
use crate::scanner::cached_file::CachedFile;
use crate::scanner::dsd::{self, DsdKind};
#[cfg(test)]
use crate::scanner::embedded_art::has_embedded_picture;
use crate::scanner::embedded_art::has_embedded_picture_in;
use crate::scanner::meta::TrackMeta;

/// The artist name used when a file names no artist at all.
pub const UNKNOWN_ARTIST: &str = "Unknown Artist";
/// The album artist assumed for compilations that name none (kept in `crate::names`, which the
/// read side shares).
pub use crate::names::{VARIOUS_ARTISTS, is_disc_folder_name};
/// The album name used when neither the tag nor the folder gives one.
pub const UNKNOWN_ALBUM: &str = "Unknown Album";

/// Separators that genres are split on in addition to the artist separators.
const GENRE_EXTRA_SEPARATORS: [&str; 3] = [";", "/", ","];

/// How tag text is interpreted: the knobs a user may configure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagOptions {
    /// Strings that separate several names inside one artist, album-artist or composer value
    /// ("A feat. B"). Matched case-insensitively (ASCII). Genres are also split on `;`, `/` and
    /// `,`.
    pub artist_separators: Vec<String>,
}

impl Default for TagOptions {
    fn default() -> Self {
        Self {
            artist_separators: [" / ", "; ", " feat. ", " ft. "]
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }
}

/// Why a file could not be read as audio. Display is a short reason for scan reports.
#[derive(Debug, thiserror::Error)]
pub enum TagError {
    /// The file could not be opened or its metadata read.
    #[error("cannot open: {0}")]
    Open(#[source] io::Error),
    /// The file has zero bytes.
    #[error("empty file")]
    Empty,
    /// Neither the content nor the extension names an audio format lofty reads, or the content
    /// is not audio although the extension says so.
    #[error("not an audio file (unrecognised content)")]
    NotAudio,
    /// The content looks like audio but could not be parsed.
    #[error("truncated or corrupt: {0}")]
    Corrupt(String),
    /// The parser panicked; the panic was contained.
    #[error("parser panicked")]
    Panicked,
}

/// One tag as found in a file, every item rendered as text: what `inspect` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTag {
    /// "ID3v2.4", "ID3v1", "APEv2", "Vorbis Comments", "MP4 ilst", "RIFF INFO", "AIFF text".
    pub tag_type: String,
    /// Key/value pairs in file order; pictures summarised as "<picture: mime, N bytes>".
    pub items: Vec<(String, String)>,
}

/// Reads tags and audio properties of the file at `path` into a [`TrackMeta`].
///
/// `sidecar_lrc` is an `.lrc` file found next to the track; its text becomes `synced_lyrics`
/// when the tags carry no synchronised lyrics. Picture data is never loaded; whether a picture
/// is embedded is found by walking headers (see [`has_embedded_picture`]).
///
/// Files without tags still give a `TrackMeta` (title from the file name, album from the
/// folder, "Unknown Artist"). Empty, truncated, corrupt and non-audio files give a [`TagError`].
pub fn read_track(
    path: &Path,
    sidecar_lrc: Option<&Path>,
    opts: &TagOptions,
) -> Result<TrackMeta, TagError> {
    let (parsed, mut reader) = open_and_parse(path, false)?;

    let mut bags: Vec<Bag<'_>> = Vec::with_capacity(parsed.tags.len());
    for tag in &parsed.tags {
        let mut bag = Bag::new();
        tag.flatten(&mut bag);
        bags.push(bag);
    }
    let merged = Merged::new(bags);

    let mut meta = TrackMeta {
        suffix: suffix_of(path),
        codec: parsed.codec.to_owned(),
        ..TrackMeta::default()
    };
    meta.content_type = content_type_for(&meta.suffix, parsed.file_type).to_owned();
    fill_properties(&mut meta, &parsed.properties);
    fill_from_tags(&mut meta, &merged, opts);
    fill_fallbacks(&mut meta, path);

    if meta.synced_lyrics.is_none()
        && let Some(lrc) = sidecar_lrc
    {
        meta.synced_lyrics = read_sidecar(lrc);
    }
    meta.has_embedded_art = match parsed.has_picture {
        Some(known) => known,
        None => {
            let len = reader.len();
            has_embedded_picture_in(&mut reader, len, parsed.file_type)
        }
    };
    Ok(meta)
}

/// Reads every tag in the file at `path` with every item as text, for `inspect`.
///
/// Unlike [`read_track`] this loads pictures (to summarise them) and applies no mapping.
pub fn read_raw_tags(path: &Path) -> Result<Vec<RawTag>, TagError> {
    let (parsed, _) = open_and_parse(path, true)?;
    Ok(parsed.tags.iter().map(OwnedTag::raw).collect())
}

/// An embedded picture: its ID3v2/APIC picture type (3 = front cover) and image bytes.
pub type EmbeddedPicture = (u8, Vec<u8>);

/// The embedded pictures of a file read by our own readers (WMA, DSF, DFF); `None` when the
/// file is in a format lofty reads.
pub fn own_format_pictures(path: &Path) -> Option<Result<Vec<EmbeddedPicture>, TagError>> {
    let parsed = match open_and_parse(path, true) {
        Ok((parsed, _)) => parsed,
        Err(e) => return Some(Err(e)),
    };
    if !matches!(parsed.file_type, FileType::Custom(_)) {
        return None;
    }
    let mut pictures = Vec::new();
    for tag in parsed.tags {
        match tag {
            OwnedTag::Asf(_, found) => {
                pictures.extend(found.into_iter().map(|p| (p.picture_type, p.data)));
            }
            OwnedTag::Id3v2(tag) => {
                for frame in tag {
                    if let Frame::Picture(f) = frame {
                        let picture = f.picture.into_owned();
                        pictures.push((picture.pic_type().as_u8(), picture.into_data()));
                    }
                }
            }
            _ => {}
        }
    }
    Some(Ok(pictures
        .into_iter()
        .filter(|(_, d)| !d.is_empty())
        .collect()))
}

/// Strips C0/C1 control characters (keeping tab, newline and carriage return) and trims
/// surrounding whitespace; `None` when nothing is left.
pub fn clean_text(s: &str) -> Option<String> {
    let trimmed = s.trim_matches(|c: char| c.is_whitespace() || is_stripped_control(c));
    if trimmed.is_empty() {
        return None;
    }
    if !trimmed.chars().any(is_stripped_control) {
        return Some(trimmed.to_owned());
    }
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !is_stripped_control(*c))
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}

fn is_stripped_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

// ---------------------------------------------------------------------------------------------
// opening and parsing

/// A parsed file: its type, properties, codec name and tags in merge priority order.
struct Parsed {
    /// For the formats read by our own readers, `FileType::Custom` with the suffix.
    file_type: FileType,
    properties: FileProperties,
    codec: &'static str,
    tags: Vec<OwnedTag>,
    /// Whether a picture is embedded, when the reader already knows (our own readers);
    /// `None` for lofty's formats, which are checked by walking headers.
    has_picture: Option<bool>,
}

/// A format-specific tag taken out of a lofty file.
enum OwnedTag {
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
fn open_and_parse(path: &Path, read_cover_art: bool) -> Result<(Parsed, CachedFile), TagError> {
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
    let mut reader = probe.into_inner();
    let result = catch_unwind(AssertUnwindSafe(|| {
        parse_as(file_type, &mut reader, options)
    }));
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
        Ok(Ok(parsed)) => Ok((parsed, reader)),
        Ok(Err(_)) if sniffed.is_none() => Err(TagError::NotAudio),
        Ok(Err(e)) => Err(TagError::Corrupt(describe_error(&e))),
    }
}

/// Reads the formats lofty does not (ASF/WMA, DSF, DFF) with our own readers, recognised by
/// their content; `None` for everything else.
fn parse_own_format(
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
            dsd::read(reader, len)
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

fn asf_parsed(f: asf::AsfFile) -> Parsed {
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

fn dsd_parsed(f: dsd::DsdFile, kind: Option<DsdKind>) -> Result<Parsed, String> {
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
    let mut has_picture = false;
    if let Some(bytes) = &f.id3v2 {
        // Parsed with its pictures, to know whether one is there: the tag is in memory anyway.
        let tag = id3v2_from_bytes(bytes)?;
        has_picture = (&tag).into_iter().any(|f| matches!(f, Frame::Picture(_)));
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
fn is_known_non_audio(head: &[u8]) -> bool {
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
fn describe_error(e: &FileParseError) -> String {
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

fn parse_as<R: Read + Seek>(
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
            let mut f = AacFile::read_from(r, options)?;
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            tags.extend(f.remove_id3v1().map(OwnedTag::Id3v1));
            ((*f.properties()).into(), "AAC")
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

fn vorbis_tag(mut comments: VorbisComments) -> OwnedTag {
    let pictures = comments
        .remove_pictures()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    OwnedTag::Vorbis(comments, pictures)
}

// ---------------------------------------------------------------------------------------------
// the neutral field list

/// What a tag item means, independent of the tag format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Title,
    SortTitle,
    Album,
    SortAlbum,
    Artist,
    Artists,
    ArtistSort,
    AlbumArtist,
    AlbumArtists,
    AlbumArtistSort,
    Composer,
    Genre,
    Track,
    TrackTotal,
    Disc,
    DiscTotal,
    DiscSubtitle,
    Date,
    Year,
    ReleaseDate,
    OriginalDate,
    Comment,
    /// A comment with a description (ID3 COMM) or a DESCRIPTION field: used when no plain
    /// comment exists.
    Description,
    Bpm,
    Isrc,
    Compilation,
    ReleaseType,
    Label,
    Grouping,
    /// iTunes' ID3 grouping frame (GRP1), used when TIT1 is absent.
    AppleGrouping,
    Mood,
    MbRecording,
    MbTrack,
    MbRelease,
    MbReleaseGroup,
    MbArtist,
    MbAlbumArtist,
    RgTrackGain,
    RgTrackPeak,
    RgAlbumGain,
    RgAlbumPeak,
    R128TrackGain,
    R128AlbumGain,
    Lyrics,
    SyncedLyrics,
}

const FIELD_COUNT: usize = Field::SyncedLyrics as usize + 1;

/// The `(field, value)` pairs of one tag, in file order. Values are raw (not yet cleaned).
type Bag<'a> = Vec<(Field, Cow<'a, str>)>;

/// Values of all tags merged: each field comes wholly from the first tag that has it.
struct Merged<'a> {
    items: Vec<(Field, Cow<'a, str>)>,
}

impl<'a> Merged<'a> {
    fn new(bags: Vec<Bag<'a>>) -> Self {
        let mut owner = [usize::MAX; FIELD_COUNT];
        let mut items = Vec::with_capacity(bags.first().map_or(0, Vec::len) + 8);
        for (i, bag) in bags.into_iter().enumerate() {
            for (field, value) in bag {
                if is_blank(&value) {
                    continue;
                }
                let slot = &mut owner[field as usize];
                if *slot == usize::MAX {
                    *slot = i;
                }
                if *slot == i {
                    items.push((field, value));
                }
            }
        }
        Self { items }
    }

    fn all(&self, field: Field) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .filter(move |(f, _)| *f == field)
            .map(|(_, v)| v.as_ref())
    }

    /// The first value of `field` that is non-empty after cleaning.
    fn first(&self, field: Field) -> Option<String> {
        self.all(field).find_map(clean_text)
    }

    /// All cleaned, non-empty values of `field`, deduplicated, in order.
    fn cleaned(&self, field: Field) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in self.all(field).filter_map(clean_text) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}

fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c.is_control())
}

/// Maps a textual key (Vorbis comment, APE item, ID3 TXXX description, MP4 freeform name) to a
/// field. Case, spaces, underscores and hyphens are ignored, so "MusicBrainz Track Id" and
/// "MUSICBRAINZ_TRACKID" are the same key.
fn field_from_name(key: &str) -> Option<Field> {
    use Field::*;
    let mut buf = [0u8; 40];
    let mut n = 0;
    for b in key.bytes() {
        if matches!(b, b' ' | b'_' | b'-') {
            continue;
        }
        let slot = buf.get_mut(n)?;
        *slot = b.to_ascii_uppercase();
        n += 1;
    }
    Some(match &buf[..n] {
        b"TITLE" => Title,
        b"TITLESORT" | b"SORTTITLE" => SortTitle,
        b"ALBUM" => Album,
        b"ALBUMSORT" | b"SORTALBUM" => SortAlbum,
        b"ARTIST" => Artist,
        b"ARTISTS" => Artists,
        b"ARTISTSORT" | b"SORTARTIST" => ArtistSort,
        b"ALBUMARTIST" => AlbumArtist,
        b"ALBUMARTISTS" => AlbumArtists,
        b"ALBUMARTISTSORT" | b"SORTALBUMARTIST" => AlbumArtistSort,
        b"COMPOSER" => Composer,
        b"GENRE" => Genre,
        b"TRACKNUMBER" | b"TRACK" => Track,
        b"TRACKTOTAL" | b"TOTALTRACKS" | b"TRACKC" => TrackTotal,
        b"DISCNUMBER" | b"DISC" | b"DISKNUMBER" => Disc,
        b"DISCTOTAL" | b"TOTALDISCS" | b"DISCC" | b"DISKTOTAL" => DiscTotal,
        b"DISCSUBTITLE" | b"SETSUBTITLE" => DiscSubtitle,
        b"DATE" => Date,
        b"YEAR" => Year,
        b"RELEASEDATE" => ReleaseDate,
        b"ORIGINALDATE" | b"ORIGINALYEAR" | b"ORIGINALRELEASEDATE" => OriginalDate,
        b"COMMENT" => Comment,
        b"DESCRIPTION" => Description,
        b"BPM" => Bpm,
        b"ISRC" => Isrc,
        b"COMPILATION" | b"ITUNESCOMPILATION" => Compilation,
        b"RELEASETYPE" | b"MUSICBRAINZALBUMTYPE" => ReleaseType,
        b"LABEL" | b"ORGANIZATION" | b"PUBLISHER" => Label,
        b"GROUPING" => Grouping,
        b"MOOD" => Mood,
        b"MUSICBRAINZTRACKID" | b"MUSICBRAINZRECORDINGID" => MbRecording,
        b"MUSICBRAINZRELEASETRACKID" => MbTrack,
        b"MUSICBRAINZALBUMID" | b"MUSICBRAINZRELEASEID" => MbRelease,
        b"MUSICBRAINZRELEASEGROUPID" => MbReleaseGroup,
        b"MUSICBRAINZARTISTID" => MbArtist,
        b"MUSICBRAINZALBUMARTISTID" | b"MUSICBRAINZRELEASEARTISTID" => MbAlbumArtist,
        b"REPLAYGAINTRACKGAIN" => RgTrackGain,
        b"REPLAYGAINTRACKPEAK" => RgTrackPeak,
        b"REPLAYGAINALBUMGAIN" => RgAlbumGain,
        b"REPLAYGAINALBUMPEAK" => RgAlbumPeak,
        b"R128TRACKGAIN" => R128TrackGain,
        b"R128ALBUMGAIN" => R128AlbumGain,
        b"LYRICS" | b"UNSYNCEDLYRICS" => Lyrics,
        _ => return None,
    })
}

/// ID3v2 text frames (after lofty's upgrade of v2.2/v2.3 ids to v2.4 ones).
fn id3_text_field(id: &str) -> Option<Field> {
    use Field::*;
    Some(match id {
        "TIT2" => Title,
        "TSOT" => SortTitle,
        "TALB" => Album,
        "TSOA" => SortAlbum,
        "TPE1" => Artist,
        "TSOP" => ArtistSort,
        "TPE2" => AlbumArtist,
        "TSO2" => AlbumArtistSort,
        "TCOM" => Composer,
        "TCON" => Genre,
        "TRCK" => Track,
        "TPOS" => Disc,
        "TSST" => DiscSubtitle,
        // Timestamps normally arrive as timestamp frames; text forms appear when invalid.
        "TDRC" | "TYER" => Date,
        "TDRL" => ReleaseDate,
        "TDOR" | "TORY" => OriginalDate,
        "TBPM" => Bpm,
        "TSRC" => Isrc,
        "TCMP" => Compilation,
        "TPUB" => Label,
        "TIT1" => Grouping,
        "GRP1" => AppleGrouping,
        "TMOO" => Mood,
        _ => return None,
    })
}

/// MP4 `ilst` four-character atoms.
fn mp4_fourcc_field(fourcc: &[u8; 4]) -> Option<Field> {
    use Field::*;
    Some(match fourcc {
        b"\xa9nam" => Title,
        b"sonm" => SortTitle,
        b"\xa9alb" => Album,
        b"soal" => SortAlbum,
        b"\xa9ART" => Artist,
        b"soar" => ArtistSort,
        b"aART" => AlbumArtist,
        b"soaa" => AlbumArtistSort,
        b"\xa9wrt" => Composer,
        b"\xa9gen" => Genre,
        b"trkn" => Track,
        b"disk" => Disc,
        b"\xa9day" => Date,
        b"cpil" => Compilation,
        b"tmpo" => Bpm,
        b"\xa9cmt" => Comment,
        b"\xa9grp" => Grouping,
        b"\xa9lyr" => Lyrics,
        _ => return None,
    })
}

/// RIFF INFO chunk ids.
fn riff_field(id: &str) -> Option<Field> {
    use Field::*;
    Some(match id {
        "INAM" => Title,
        "IPRD" => Album,
        "IART" => Artist,
        "IMUS" | "IWRI" => Composer,
        "IGNR" => Genre,
        "ITRK" | "IPRT" => Track,
        "IFRM" => TrackTotal,
        "ICRD" => Date,
        "ICMT" => Comment,
        _ => return None,
    })
}

/// The MusicBrainz owner of ID3 UFID frames holding the recording id.
const MUSICBRAINZ_UFID_OWNER: &str = "http://musicbrainz.org";

impl OwnedTag {
    /// Appends this tag's mapped items to `bag`.
    fn flatten<'a>(&'a self, bag: &mut Bag<'a>) {
        match self {
            OwnedTag::Id3v2(tag) => flatten_id3v2(tag, bag),
            OwnedTag::Id3v1(tag) => flatten_id3v1(tag, bag),
            OwnedTag::Ape(tag) => {
                for item in tag {
                    let Some(field) = field_from_name(item.key()) else {
                        continue;
                    };
                    if let Some(values) = item.text_values() {
                        bag.extend(values.map(|v| (field, Cow::Borrowed(v))));
                    }
                }
            }
            OwnedTag::Vorbis(tag, _) => {
                for (key, value) in tag.items() {
                    if let Some(field) = field_from_name(key) {
                        bag.push((field, Cow::Borrowed(value)));
                    }
                }
            }
            OwnedTag::Ilst(tag) => flatten_ilst(tag, bag),
            OwnedTag::Riff(tag) => {
                for (key, value) in tag {
                    if let Some(field) = riff_field(key) {
                        bag.push((field, Cow::Borrowed(value.as_str())));
                    }
                }
            }
            OwnedTag::Aiff(tag) => {
                if let Some(name) = &tag.name {
                    bag.push((Field::Title, Cow::Borrowed(name.as_str())));
                }
                if let Some(author) = &tag.author {
                    bag.push((Field::Artist, Cow::Borrowed(author.as_str())));
                }
                for comment in tag.comments.iter().flatten() {
                    bag.push((Field::Comment, Cow::Borrowed(comment.text.as_str())));
                }
                for annotation in tag.annotations.iter().flatten() {
                    bag.push((Field::Description, Cow::Borrowed(annotation.as_str())));
                }
            }
            OwnedTag::Asf(items, _) => flatten_asf(items, bag),
            OwnedTag::Diin(items) => {
                for (key, value) in items {
                    let field = if *key == "DITI" {
                        Field::Title
                    } else {
                        Field::Artist
                    };
                    bag.push((field, Cow::Borrowed(value.as_str())));
                }
            }
        }
    }

    fn raw(&self) -> RawTag {
        let mut items = Vec::new();
        let tag_type = match self {
            OwnedTag::Id3v2(tag) => {
                raw_id3v2(tag, &mut items);
                match tag.original_version() {
                    Id3v2Version::V2 => "ID3v2.2",
                    Id3v2Version::V3 => "ID3v2.3",
                    Id3v2Version::V4 => "ID3v2.4",
                }
            }
            OwnedTag::Id3v1(tag) => {
                let mut push = |k: &str, v: Option<String>| {
                    if let Some(v) = v {
                        items.push((k.to_owned(), v));
                    }
                };
                push("Title", tag.title.clone());
                push("Artist", tag.artist.clone());
                push("Album", tag.album.clone());
                push("Year", tag.year.map(|y| y.to_string()));
                push("Comment", tag.comment.clone());
                push("Track", tag.track_number.map(|t| t.to_string()));
                push(
                    "Genre",
                    tag.genre.map(|g| match GENRES.get(usize::from(g)) {
                        Some(name) => format!("{g} ({name})"),
                        None => g.to_string(),
                    }),
                );
                "ID3v1"
            }
            OwnedTag::Ape(tag) => {
                for item in tag {
                    let value = match item.value() {
                        ItemValue::Text(t) | ItemValue::Locator(t) => t.replace('\0', " \\0 "),
                        ItemValue::Binary(b)
                            if item.key().to_ascii_lowercase().starts_with("cover art") =>
                        {
                            // APE binary pictures: "file name\0image bytes".
                            let data_len = b
                                .iter()
                                .position(|&c| c == 0)
                                .map_or(b.len(), |p| b.len() - p - 1);
                            format!("<picture: {}, {data_len} bytes>", sniff_mime(b))
                        }
                        ItemValue::Binary(b) => format!("<binary: {} bytes>", b.len()),
                    };
                    items.push((item.key().to_owned(), value));
                }
                "APEv2"
            }
            OwnedTag::Vorbis(tag, pictures) => {
                items.push(("(vendor)".to_owned(), tag.vendor().to_owned()));
                for (k, v) in tag.items() {
                    items.push((k.to_owned(), v.to_owned()));
                }
                for p in pictures {
                    items.push(("METADATA_BLOCK_PICTURE".to_owned(), picture_summary(p)));
                }
                "Vorbis Comments"
            }
            OwnedTag::Ilst(tag) => {
                for atom in tag {
                    let key = match atom.ident() {
                        AtomIdent::Fourcc(fc) => fc.iter().map(|&b| char::from(b)).collect(),
                        AtomIdent::Freeform { mean, name } => format!("----:{mean}:{name}"),
                    };
                    for data in atom.data() {
                        let value = match data {
                            AtomData::UTF8(s) | AtomData::UTF16(s) => s.clone(),
                            AtomData::Picture(p) => picture_summary(p),
                            AtomData::SignedInteger(i) => i.to_string(),
                            AtomData::UnsignedInteger(u) => u.to_string(),
                            AtomData::Bool(b) => b.to_string(),
                            AtomData::Unknown { code, data } => match pair_from_mp4(data) {
                                Some((n, t)) if matches!(atom.ident(), AtomIdent::Fourcc(f) if f == b"trkn" || f == b"disk") =>
                                {
                                    format!("{n}/{t}")
                                }
                                _ => format!("<data {code:?}: {} bytes>", data.len()),
                            },
                        };
                        items.push((key.clone(), value));
                    }
                }
                "MP4 ilst"
            }
            OwnedTag::Riff(tag) => {
                for (k, v) in tag {
                    items.push((k.clone(), v.clone()));
                }
                "RIFF INFO"
            }
            OwnedTag::Aiff(tag) => {
                let fields = [
                    ("NAME", &tag.name),
                    ("AUTH", &tag.author),
                    ("(c) ", &tag.copyright),
                ];
                for (k, v) in fields {
                    if let Some(v) = v {
                        items.push((k.to_owned(), v.clone()));
                    }
                }
                for a in tag.annotations.iter().flatten() {
                    items.push(("ANNO".to_owned(), a.clone()));
                }
                for c in tag.comments.iter().flatten() {
                    items.push(("COMT".to_owned(), c.text.clone()));
                }
                "AIFF text"
            }
            OwnedTag::Asf(tag, pictures) => {
                items.extend(tag.iter().cloned());
                for p in pictures {
                    items.push((
                        asf::PICTURE_ATTRIBUTE.to_owned(),
                        format!("<picture: {}, {} bytes>", p.mime_type, p.len),
                    ));
                }
                "ASF"
            }
            OwnedTag::Diin(tag) => {
                for (k, v) in tag {
                    items.push(((*k).to_owned(), v.clone()));
                }
                "DSDIFF DIIN"
            }
        };
        RawTag {
            tag_type: tag_type.to_owned(),
            items,
        }
    }
}

fn flatten_id3v2<'a>(tag: &'a Id3v2Tag, bag: &mut Bag<'a>) {
    for frame in tag {
        match frame {
            Frame::Text(f) => {
                if let Some(field) = id3_text_field(f.id().as_str()) {
                    bag.extend(f.value.split('\0').map(|v| (field, Cow::Borrowed(v))));
                }
            }
            Frame::UserText(f) => {
                if let Some(field) = field_from_name(&f.description) {
                    bag.extend(f.content.split('\0').map(|v| (field, Cow::Borrowed(v))));
                }
            }
            Frame::Timestamp(f) => {
                let field = match f.id().as_str() {
                    "TDRC" => Field::Date,
                    "TDRL" => Field::ReleaseDate,
                    "TDOR" => Field::OriginalDate,
                    _ => continue,
                };
                bag.push((field, Cow::Owned(f.timestamp.to_string())));
            }
            Frame::Comment(f) => {
                let desc = f.description.trim();
                // iTunes stores normalisation and gapless data as comments ("iTunNORM", ...).
                if desc.len() >= 4 && desc[..4].eq_ignore_ascii_case("itun") {
                    continue;
                }
                let field = if desc.is_empty() {
                    Field::Comment
                } else {
                    Field::Description
                };
                bag.push((field, Cow::Borrowed(f.content.as_ref())));
            }
            Frame::UnsynchronizedText(f) => {
                bag.push((Field::Lyrics, Cow::Borrowed(f.content.as_ref())));
            }
            Frame::UniqueFileIdentifier(f) if f.owner == MUSICBRAINZ_UFID_OWNER => {
                let id = String::from_utf8_lossy(&f.identifier);
                bag.push((Field::MbRecording, Cow::Owned(id.into_owned())));
            }
            Frame::Binary(f) if f.id().as_str() == "SYLT" => {
                if let Some(lrc) = sylt_to_lrc(&f.data) {
                    bag.push((Field::SyncedLyrics, Cow::Owned(lrc)));
                }
            }
            _ => {}
        }
    }
}

/// ASF attribute names: the content description's fields, `WM/...` names, and the
/// `MusicBrainz/...` and `REPLAYGAIN_...` names MusicBrainz Picard and foobar2000 write.
fn asf_field(name: &str) -> Option<Field> {
    use Field::*;
    if let Some(wm) = name.strip_prefix("WM/") {
        return Some(match wm {
            "AlbumTitle" => Album,
            "AlbumArtist" => AlbumArtist,
            "ARTISTS" => Artists,
            "TrackNumber" => Track,
            "PartOfSet" => Disc,
            "Year" => Year,
            "OriginalReleaseYear" | "OriginalReleaseTime" => OriginalDate,
            "Genre" => Genre,
            "Composer" => Composer,
            "Lyrics" => Lyrics,
            "Publisher" => Label,
            "ContentGroupDescription" => Grouping,
            "Mood" => Mood,
            "BeatsPerMinute" => Bpm,
            "ISRC" => Isrc,
            "SetSubTitle" => DiscSubtitle,
            "TitleSortOrder" => SortTitle,
            "AlbumSortOrder" => SortAlbum,
            "ArtistSortOrder" => ArtistSort,
            "AlbumArtistSortOrder" => AlbumArtistSort,
            "IsCompilation" => Compilation,
            _ => return None,
        });
    }
    match name {
        "Title" => Some(Title),
        "Author" => Some(Artist),
        "Description" => Some(Comment),
        "Copyright" | "Rating" => None,
        // "MusicBrainz/Track Id" reads as "MusicBrainz Track Id".
        other => field_from_name(&other.replace('/', " ")),
    }
}

fn flatten_asf<'a>(items: &'a [(String, String)], bag: &mut Bag<'a>) {
    let has_track_number = items.iter().any(|(k, _)| k == "WM/TrackNumber");
    for (key, value) in items {
        if let Some(field) = asf_field(key) {
            bag.push((field, Cow::Borrowed(value.as_str())));
        } else if key == "WM/Track" && !has_track_number {
            // The old, zero-based track attribute.
            if let Ok(n) = value.trim().parse::<u32>() {
                bag.push((Field::Track, Cow::Owned((n + 1).to_string())));
            }
        }
    }
}

fn flatten_id3v1<'a>(tag: &'a Id3v1Tag, bag: &mut Bag<'a>) {
    let text = [
        (Field::Title, &tag.title),
        (Field::Artist, &tag.artist),
        (Field::Album, &tag.album),
        (Field::Comment, &tag.comment),
    ];
    for (field, value) in text {
        if let Some(v) = value {
            bag.push((field, Cow::Borrowed(v.as_str())));
        }
    }
    if let Some(year) = tag.year {
        bag.push((Field::Year, Cow::Owned(year.to_string())));
    }
    if let Some(track) = tag.track_number.filter(|t| *t > 0) {
        bag.push((Field::Track, Cow::Owned(track.to_string())));
    }
    if let Some(name) = tag.genre.and_then(|g| GENRES.get(usize::from(g))) {
        bag.push((Field::Genre, Cow::Borrowed(name)));
    }
}

fn flatten_ilst<'a>(tag: &'a Ilst, bag: &mut Bag<'a>) {
    for atom in tag {
        match atom.ident() {
            AtomIdent::Fourcc(fourcc) => {
                let Some(field) = mp4_fourcc_field(fourcc) else {
                    continue;
                };
                for data in atom.data() {
                    match data {
                        AtomData::UTF8(s) | AtomData::UTF16(s) => {
                            bag.push((field, Cow::Borrowed(s.as_str())));
                        }
                        AtomData::SignedInteger(i) => bag.push((field, Cow::Owned(i.to_string()))),
                        AtomData::UnsignedInteger(u) => {
                            bag.push((field, Cow::Owned(u.to_string())));
                        }
                        AtomData::Bool(b) => {
                            bag.push((field, Cow::Borrowed(if *b { "1" } else { "0" })));
                        }
                        AtomData::Unknown { data, .. } => {
                            let total_field = match field {
                                Field::Track => Field::TrackTotal,
                                Field::Disc => Field::DiscTotal,
                                _ => continue,
                            };
                            if let Some((number, total)) = pair_from_mp4(data) {
                                if number > 0 {
                                    bag.push((field, Cow::Owned(number.to_string())));
                                }
                                if total > 0 {
                                    bag.push((total_field, Cow::Owned(total.to_string())));
                                }
                            }
                        }
                        AtomData::Picture(_) => {}
                    }
                }
            }
            AtomIdent::Freeform { name, .. } => {
                let Some(field) = field_from_name(name) else {
                    continue;
                };
                for data in atom.data() {
                    match data {
                        AtomData::UTF8(s) | AtomData::UTF16(s) => {
                            bag.push((field, Cow::Borrowed(s.as_str())));
                        }
                        AtomData::Unknown { data, .. } => {
                            bag.push((field, String::from_utf8_lossy(data)));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// `trkn`/`disk` payload: 2 reserved bytes, number (u16 BE), total (u16 BE).
fn pair_from_mp4(data: &[u8]) -> Option<(u16, u16)> {
    if data.len() < 6 {
        return None;
    }
    Some((
        u16::from_be_bytes([data[2], data[3]]),
        u16::from_be_bytes([data[4], data[5]]),
    ))
}

// ---------------------------------------------------------------------------------------------
// building the TrackMeta

fn fill_properties(meta: &mut TrackMeta, p: &FileProperties) {
    let positive = |v: u32| (v > 0).then(|| i32::try_from(v).ok()).flatten();
    meta.duration_ms = i64::try_from(p.duration().as_millis()).unwrap_or(i64::MAX);
    meta.bitrate = p.overall_bitrate().or(p.audio_bitrate()).and_then(positive);
    meta.sample_rate = p.sample_rate().and_then(positive);
    meta.bit_depth = p.bit_depth().map(u32::from).and_then(positive);
    meta.channels = p.channels().map(u32::from).and_then(positive);
}

fn fill_from_tags(meta: &mut TrackMeta, m: &Merged<'_>, opts: &TagOptions) {
    let seps: Vec<&str> = opts
        .artist_separators
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();

    if let Some(title) = m.first(Field::Title) {
        meta.title = title;
    }
    meta.sort_title = m.first(Field::SortTitle);
    if let Some(album) = m.first(Field::Album) {
        meta.album = album;
    }
    meta.sort_album = m.first(Field::SortAlbum);

    // Track artists.
    let (artists, display) = people(m, Field::Artist, Field::Artists, &seps);
    meta.artists = artists;
    meta.artist_display = display.unwrap_or_default();
    meta.artist_sort = joined(m, Field::ArtistSort);

    // Album artists.
    let (album_artists, album_display) = people(m, Field::AlbumArtist, Field::AlbumArtists, &seps);
    meta.album_artists = album_artists;
    meta.album_artist_display = album_display;
    meta.album_artist_sort = joined(m, Field::AlbumArtistSort);

    meta.composers = split_names(m.all(Field::Composer), &seps);
    meta.genres = genres(m.all(Field::Genre), &seps);

    // Numbering.
    let (track, track_total) = m
        .first(Field::Track)
        .map_or((None, None), |s| parse_pair(&s));
    meta.track_number = track;
    meta.track_total = track_total
        .or_else(|| m.first(Field::TrackTotal).and_then(|s| parse_pair(&s).0))
        .filter(|n| *n > 0);
    let (disc, disc_total) = m
        .first(Field::Disc)
        .map_or((None, None), |s| parse_pair(&s));
    meta.disc_number = disc;
    meta.disc_total = disc_total
        .or_else(|| m.first(Field::DiscTotal).and_then(|s| parse_pair(&s).0))
        .filter(|n| *n > 0);
    meta.disc_subtitle = m.first(Field::DiscSubtitle);

    // Dates.
    let first_date = |field: Field| m.all(field).find_map(parse_date);
    let recorded = first_date(Field::Date).or_else(|| first_date(Field::Year));
    let released = first_date(Field::ReleaseDate);
    meta.year = recorded.or(released).map(|d| d.year);
    meta.release_date = released.or(recorded).map(|d| d.to_string());
    meta.original_date = first_date(Field::OriginalDate).map(|d| d.to_string());

    // Other tags.
    meta.comment = m
        .first(Field::Comment)
        .or_else(|| m.first(Field::Description));
    meta.bpm = m.all(Field::Bpm).find_map(parse_bpm);
    meta.isrc = m.first(Field::Isrc);
    meta.compilation = m.first(Field::Compilation).is_some_and(|v| is_truthy(&v));
    let release_types = m.cleaned(Field::ReleaseType);
    meta.release_type = (!release_types.is_empty()).then(|| release_types.join("; "));
    meta.label = m.first(Field::Label);
    meta.grouping = m
        .first(Field::Grouping)
        .or_else(|| m.first(Field::AppleGrouping));
    meta.mood = m.first(Field::Mood);

    // MusicBrainz.
    meta.mb_recording_id = m.first(Field::MbRecording);
    meta.mb_track_id = m.first(Field::MbTrack);
    meta.mb_release_id = m.first(Field::MbRelease);
    meta.mb_release_group_id = m.first(Field::MbReleaseGroup);
    meta.mb_artist_id = m.first(Field::MbArtist);
    meta.mb_album_artist_id = m.first(Field::MbAlbumArtist);

    // ReplayGain; Opus R128 gains (Q7.8 dB relative to -23 LUFS) are converted to the
    // ReplayGain reference (-18 LUFS) when no ReplayGain tag exists.
    let gain = |field: Field| m.all(field).find_map(parse_gain);
    let r128 = |field: Field| {
        m.all(field)
            .find_map(|v| v.trim().parse::<i16>().ok())
            .map(|q| f64::from(q) / 256.0 + 5.0)
    };
    meta.rg_track_gain = gain(Field::RgTrackGain).or_else(|| r128(Field::R128TrackGain));
    meta.rg_track_peak = gain(Field::RgTrackPeak);
    meta.rg_album_gain = gain(Field::RgAlbumGain).or_else(|| r128(Field::R128AlbumGain));
    meta.rg_album_peak = gain(Field::RgAlbumPeak);

    // Lyrics: LRC-formatted lyrics tags count as synchronised.
    meta.synced_lyrics = m.first(Field::SyncedLyrics);
    for text in m.all(Field::Lyrics).filter_map(clean_text) {
        if is_lrc(&text) {
            if meta.synced_lyrics.is_none() {
                meta.synced_lyrics = Some(text);
            }
        } else if meta.lyrics.is_none() {
            meta.lyrics = Some(text);
        }
    }

    if meta.compilation && meta.album_artists.is_empty() {
        meta.album_artists = vec![VARIOUS_ARTISTS.to_owned()];
        meta.album_artist_display = Some(VARIOUS_ARTISTS.to_owned());
    }
}

/// Title, album and artist fallbacks for files whose tags lack them.
fn fill_fallbacks(meta: &mut TrackMeta, path: &Path) {
    if meta.title.is_empty() {
        meta.title = path
            .file_stem()
            .and_then(|s| clean_text(&s.to_string_lossy()))
            .unwrap_or_default();
    }
    if meta.album.is_empty() {
        meta.album = album_from_folders(path).unwrap_or_else(|| UNKNOWN_ALBUM.to_owned());
    }
    if meta.artists.is_empty() {
        meta.artists = vec![UNKNOWN_ARTIST.to_owned()];
    }
    if meta.artist_display.is_empty() {
        meta.artist_display = meta.artists.join(" / ");
    }
}

fn album_from_folders(path: &Path) -> Option<String> {
    let folder_name = |p: &Path| p.file_name().and_then(|n| clean_text(&n.to_string_lossy()));
    let parent = path.parent()?;
    let name = folder_name(parent)?;
    if is_disc_folder_name(&name)
        && let Some(above) = parent.parent().and_then(folder_name)
    {
        return Some(above);
    }
    Some(name)
}

/// Artists (or album artists) from the single-name field and the explicit multi-name field:
/// the list prefers the explicit field (ARTISTS), else splits the display values on the
/// separators; the display string is the single display value, else the values joined.
fn people(
    m: &Merged<'_>,
    display_field: Field,
    list_field: Field,
    seps: &[&str],
) -> (Vec<String>, Option<String>) {
    let display_values = m.cleaned(display_field);
    let explicit = m.cleaned(list_field);
    let display = match display_values.len() {
        0 if explicit.is_empty() => None,
        0 => Some(explicit.join(" / ")),
        1 => display_values.first().cloned(),
        _ => Some(display_values.join(" / ")),
    };
    let list = if explicit.is_empty() {
        split_names(display_values.iter().map(String::as_str), seps)
    } else {
        explicit
    };
    (list, display)
}

/// All cleaned values of `field`, joined with " / " when there are several.
fn joined(m: &Merged<'_>, field: Field) -> Option<String> {
    let values = m.cleaned(field);
    (!values.is_empty()).then(|| values.join(" / "))
}

/// Splits each value on the separators; cleans, drops empties, deduplicates (keeping order).
fn split_names<'v>(values: impl Iterator<Item = &'v str>, seps: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        for part in split_on(value, seps) {
            if let Some(name) = clean_text(part)
                && !out.contains(&name)
            {
                out.push(name);
            }
        }
    }
    out
}

/// Genres: ID3v1 numeric references ("(17)", "17", "(17)Rock") become names, values are split
/// on the separators and on ";", "/" and ",", and duplicates are dropped case-insensitively.
fn genres<'v>(values: impl Iterator<Item = &'v str>, seps: &[&str]) -> Vec<String> {
    let mut all_seps: Vec<&str> = seps.to_vec();
    all_seps.extend(GENRE_EXTRA_SEPARATORS);
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: &str| {
        for part in split_on(name, &all_seps) {
            if let Some(g) = clean_text(part)
                && !out.iter().any(|o| o.eq_ignore_ascii_case(&g) || *o == g)
            {
                out.push(g);
            }
        }
    };
    for value in values {
        let mut rest = value.trim();
        // Leading "(n)" references, possibly several: "(17)(31)", "(17)Rock".
        while let Some(after) = rest.strip_prefix('(') {
            if after.starts_with('(') {
                // "((" escapes a literal parenthesis.
                rest = after;
                break;
            }
            let Some(close) = after.find(')') else {
                break;
            };
            let inner = &after[..close];
            match genre_reference(inner) {
                Some(name) => push(name),
                None => push(inner),
            }
            rest = after[close + 1..].trim_start();
        }
        if rest.is_empty() {
            continue;
        }
        match genre_reference(rest) {
            Some(name) => push(name),
            None => push(rest),
        }
    }
    out
}

/// An ID3v1 genre number ("17") or ID3v2 shorthand ("RX", "CR") as a name.
fn genre_reference(s: &str) -> Option<&'static str> {
    let s = s.trim();
    match s {
        "RX" => return Some("Remix"),
        "CR" => return Some("Cover"),
        _ => {}
    }
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<usize>().ok().and_then(|n| GENRES.get(n).copied())
}

/// Splits `s` at every occurrence of any separator (ASCII case-insensitive).
fn split_on<'s>(s: &'s str, seps: &[&str]) -> Vec<&'s str> {
    let bytes = s.as_bytes();
    let mut parts = Vec::with_capacity(2);
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let hit = seps.iter().find(|sep| {
            let sep = sep.as_bytes();
            bytes
                .get(i..i + sep.len())
                .is_some_and(|window| window.eq_ignore_ascii_case(sep))
        });
        match hit {
            Some(sep) => {
                if let Some(part) = s.get(start..i) {
                    parts.push(part);
                }
                i += sep.len();
                start = i;
            }
            None => i += 1,
        }
    }
    if let Some(part) = s.get(start..) {
        parts.push(part);
    }
    parts
}

/// "3/12" → (3, 12); "03" → (3, None). Negative or oversized numbers are ignored.
fn parse_pair(s: &str) -> (Option<i32>, Option<i32>) {
    let (number, total) = match s.split_once('/') {
        Some((n, t)) => (n, Some(t)),
        None => (s, None),
    };
    let num = |t: &str| t.trim().parse::<i32>().ok().filter(|v| *v >= 0);
    (num(number), total.and_then(num))
}

/// A possibly partial calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PartialDate {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
}

impl std::fmt::Display for PartialDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(month) = self.month {
            write!(f, "-{month:02}")?;
            if let Some(day) = self.day {
                write!(f, "-{day:02}")?;
            }
        }
        Ok(())
    }
}

/// Parses "1999", "1999-03", "1999-03-21", "1999-03-21T10:00:00", "1999/03/21", "19990321"
/// and "21.03.1999". Years outside 1..=9999 (not four digits) are rejected; an invalid month
/// or day is dropped rather than failing the whole date.
fn parse_date(s: &str) -> Option<PartialDate> {
    let s = s.trim();
    let b = s.as_bytes();
    let digits = |from: usize| {
        b[from.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let number = |from: usize, len: usize| -> Option<u32> { s.get(from..from + len)?.parse().ok() };
    let lead = digits(0);

    let (year, mut month, mut day) = if lead == 8 {
        // Compact "YYYYMMDD".
        (number(0, 4)?, number(4, 2), number(6, 2))
    } else if (1..=2).contains(&lead) && b.get(lead) == Some(&b'.') {
        // European "DD.MM.YYYY".
        let m_len = digits(lead + 1);
        let y_at = lead + 1 + m_len + 1;
        if !(1..=2).contains(&m_len) || b.get(lead + 1 + m_len) != Some(&b'.') || digits(y_at) != 4
        {
            return None;
        }
        (number(y_at, 4)?, number(lead + 1, m_len), number(0, lead))
    } else if lead == 4 {
        let year = number(0, 4)?;
        let mut month = None;
        let mut day = None;
        if matches!(b.get(4), Some(b'-' | b'/' | b'.')) && (1..=2).contains(&digits(5)) {
            let m_len = digits(5);
            month = number(5, m_len);
            let d_at = 5 + m_len + 1;
            if matches!(b.get(5 + m_len), Some(b'-' | b'/' | b'.'))
                && (1..=2).contains(&digits(d_at))
            {
                day = number(d_at, digits(d_at));
            }
        }
        (year, month, day)
    } else {
        return None;
    };
    if !(1..=9999).contains(&year) {
        return None;
    }
    if !month.is_some_and(|m| (1..=12).contains(&m)) {
        month = None;
        day = None;
    }
    if !day.is_some_and(|d| (1..=31).contains(&d)) {
        day = None;
    }
    Some(PartialDate {
        year: i32::try_from(year).ok()?,
        month,
        day,
    })
}

/// "120", "120.5" → rounded beats per minute; zero, negative and absurd values are ignored.
fn parse_bpm(s: &str) -> Option<i32> {
    let v: f64 = s.trim().replace(',', ".").parse().ok()?;
    (v.is_finite() && v > 0.0 && v < 10_000.0).then(|| v.round() as i32)
}

/// "-6.54 dB", "+1.2 dB", "0.998" → f64.
fn parse_gain(s: &str) -> Option<f64> {
    let mut t = s.trim();
    if t.len() >= 2 && t[t.len() - 2..].eq_ignore_ascii_case("db") {
        t = t[..t.len() - 2].trim_end();
    }
    let v: f64 = if t.contains(',') && !t.contains('.') {
        t.replace(',', ".").parse().ok()?
    } else {
        t.parse().ok()?
    };
    v.is_finite().then_some(v)
}

fn is_truthy(s: &str) -> bool {
    let t = s.trim();
    t.eq_ignore_ascii_case("true")
        || t.eq_ignore_ascii_case("yes")
        || t.parse::<i64>().is_ok_and(|n| n != 0)
}

/// Whether lyrics text is LRC: some line starts with a time tag such as "[01:23.45]".
fn is_lrc(text: &str) -> bool {
    text.lines()
        .any(|line| starts_with_time_tag(line.trim_start()))
}

fn starts_with_time_tag(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some(close) = rest.find(']') else {
        return false;
    };
    let tag = &rest[..close];
    let Some((minutes, seconds)) = tag.split_once(':') else {
        return false;
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let seconds_ok = match seconds.split_once(['.', ':']) {
        Some((s, frac)) => all_digits(s) && all_digits(frac),
        None => all_digits(seconds),
    };
    all_digits(minutes) && seconds_ok
}

/// Converts an ID3 SYLT frame with millisecond timestamps to LRC text.
fn sylt_to_lrc(data: &[u8]) -> Option<String> {
    let frame = SynchronizedTextFrame::parse(data, Default::default()).ok()?;
    if frame.timestamp_format != TimestampFormat::MS {
        // MPEG-frame timestamps would need the frame rate; not converted.
        return None;
    }
    let mut lrc = String::new();
    for (ms, text) in &frame.content {
        let text = text.trim_matches(|c: char| c == '\n' || c == '\r');
        let (min, sec, cs) = (ms / 60_000, (ms / 1000) % 60, (ms % 1000) / 10);
        let _ = writeln!(lrc, "[{min:02}:{sec:02}.{cs:02}]{text}");
    }
    clean_text(&lrc)
}

/// Sidecar lyrics larger than this are not read: real `.lrc` files are a few KiB, and the
/// catalog should not hold (nor the API parse) tens of megabytes of text for one song.
const MAX_SIDECAR_BYTES: u64 = 4 << 20;

fn read_sidecar(path: &Path) -> Option<String> {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() > MAX_SIDECAR_BYTES
    {
        tracing::warn!(path = %path.display(), bytes = meta.len(), "sidecar lyrics too large; ignored");
        return None;
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            clean_text(text.trim_start_matches('\u{feff}'))
        }
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "cannot read sidecar lyrics");
            None
        }
    }
}

fn suffix_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// MIME type by extension (as Navidrome does), falling back to the detected container.
fn content_type_for(suffix: &str, file_type: FileType) -> &'static str {
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

// ---------------------------------------------------------------------------------------------
// raw rendering for `inspect`

fn raw_id3v2(tag: &Id3v2Tag, items: &mut Vec<(String, String)>) {
    for frame in tag {
        let id = frame.id_str().to_owned();
        let (key, value) = match frame {
            Frame::Text(f) => (id, f.value.replace('\0', " \\0 ")),
            Frame::UserText(f) => (
                format!("TXXX:{}", f.description),
                f.content.replace('\0', " \\0 "),
            ),
            Frame::Url(f) => (id, f.url().to_owned()),
            Frame::UserUrl(f) => (format!("WXXX:{}", f.description), f.content.to_string()),
            Frame::Comment(f) => (
                format!(
                    "COMM:{}:{}",
                    String::from_utf8_lossy(&f.language),
                    f.description
                ),
                f.content.to_string(),
            ),
            Frame::UnsynchronizedText(f) => (
                format!(
                    "USLT:{}:{}",
                    String::from_utf8_lossy(&f.language),
                    f.description
                ),
                f.content.to_string(),
            ),
            Frame::Timestamp(f) => (id, f.timestamp.to_string()),
            Frame::UniqueFileIdentifier(f) => (
                format!("UFID:{}", f.owner),
                String::from_utf8_lossy(&f.identifier).into_owned(),
            ),
            Frame::Picture(f) => (id, picture_summary(&f.picture)),
            Frame::Popularimeter(f) => (
                format!("POPM:{}", f.email),
                format!("rating {}, play count {}", f.rating, f.counter),
            ),
            Frame::KeyValue(f) => (
                id,
                f.key_value_pairs
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Frame::Binary(f) if f.id().as_str() == "SYLT" => (
                id,
                sylt_to_lrc(&f.data).unwrap_or_else(|| format!("<binary: {} bytes>", f.data.len())),
            ),
            Frame::Binary(f) => (id, format!("<binary: {} bytes>", f.data.len())),
            other => (id, format!("<{} frame>", other.id_str())),
        };
        items.push((key, value));
    }
}

fn picture_summary(p: &Picture) -> String {
    let mime = p.mime_type().map_or_else(
        || sniff_mime(p.data()).to_owned(),
        |m| m.as_str().to_owned(),
    );
    format!("<picture: {mime}, {} bytes>", p.data().len())
}

fn sniff_mime(data: &[u8]) -> &'static str {
    let payload = data
        .iter()
        .position(|&b| b == 0)
        .and_then(|p| data.get(p + 1..))
        .filter(|rest| rest.starts_with(b"\xff\xd8") || rest.starts_with(b"\x89PNG"))
        .unwrap_or(data);
    if payload.starts_with(b"\xff\xd8") {
        "image/jpeg"
    } else if payload.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::PathBuf;

    use lofty::TextEncoding;
    use lofty::ape::ApeItem;
    use lofty::config::WriteOptions;
    use lofty::id3::v2::{
        AttachedPictureFrame, CommentFrame, ExtendedTextFrame, FrameId, SyncTextContentType,
        TextInformationFrame, TimestampFrame, UniqueFileIdentifierFrame, UnsynchronizedTextFrame,
    };
    use lofty::mp4::Atom;
    use lofty::picture::{MimeType, PictureType};
    use lofty::tag::{Accessor, TagExt};

    const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/templates");

    /// Copies a template into a fresh temp dir under `dest` (which may contain folders).
    fn fixture(template: &str, dest: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(dest);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::copy(Path::new(TEMPLATES).join(template), &path).expect("copy template");
        (dir, path)
    }

    fn read(path: &Path) -> TrackMeta {
        read_track(path, None, &TagOptions::default()).expect("readable track")
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn cover() -> Picture {
        let data = std::fs::read(Path::new(TEMPLATES).join("cover.jpg")).expect("cover.jpg");
        Picture::unchecked(data)
            .pic_type(PictureType::CoverFront)
            .mime_type(MimeType::Jpeg)
            .build()
    }

    fn text_frame(id: &'static str, value: &str) -> Frame<'static> {
        Frame::Text(TextInformationFrame::new(
            FrameId::new(id).expect("frame id"),
            TextEncoding::UTF8,
            value.to_owned(),
        ))
    }

    fn txxx(description: &str, value: &str) -> Frame<'static> {
        Frame::UserText(ExtendedTextFrame::new(
            TextEncoding::UTF8,
            description.to_owned(),
            value.to_owned(),
        ))
    }

    fn save_id3v2(path: &Path, frames: Vec<Frame<'static>>) {
        let mut tag = Id3v2Tag::new();
        for frame in frames {
            tag.insert(frame);
        }
        tag.save_to_path(path, WriteOptions::default())
            .expect("write ID3v2");
    }

    fn save_vorbis(path: &Path, items: &[(&str, &str)]) {
        let mut tag = VorbisComments::new();
        for (k, v) in items {
            tag.push((*k).to_owned(), (*v).to_owned());
        }
        tag.save_to_path(path, WriteOptions::default())
            .expect("write Vorbis comments");
    }

    fn save_ape(path: &Path, items: &[(&str, &str)]) {
        let mut tag = ApeTag::new();
        for (k, v) in items {
            let item = ApeItem::new((*k).to_owned(), ItemValue::Text((*v).to_owned()));
            tag.insert(item.expect("valid APE item"));
        }
        tag.save_to_path(path, WriteOptions::default())
            .expect("write APE");
    }

    fn freeform(name: &str, value: &str) -> Atom<'static> {
        Atom::new(
            AtomIdent::Freeform {
                mean: Cow::Borrowed("com.apple.iTunes"),
                name: Cow::Owned(name.to_owned()),
            },
            AtomData::UTF8(value.to_owned()),
        )
    }

    // --- properties -------------------------------------------------------------------------

    #[test]
    fn every_template_reads_its_properties() {
        // (file, codec, content type, sample rate, channels, stream length in ms as ffprobe
        // reports it: MP3 and ADTS include encoder delay/padding, Opus its pre-skip).
        let cases = [
            ("tone.mp3", "MP3", "audio/mpeg", 44100, 2, 549),
            ("tone.flac", "FLAC", "audio/flac", 44100, 2, 500),
            ("tone.ogg", "Vorbis", "audio/ogg", 44100, 2, 500),
            ("tone.opus", "Opus", "audio/ogg", 48000, 2, 507),
            ("tone.spx", "Speex", "audio/ogg", 16000, 1, 500),
            ("tone.m4a", "AAC", "audio/mp4", 44100, 2, 500),
            ("tone-alac.m4a", "ALAC", "audio/mp4", 44100, 2, 500),
            ("tone.aac", "AAC", "audio/aac", 44100, 2, 534),
            ("tone.wav", "PCM", "audio/wav", 44100, 2, 100),
            ("tone.aiff", "PCM", "audio/aiff", 44100, 2, 100),
            ("tone.wv", "WavPack", "audio/x-wavpack", 44100, 2, 500),
            ("tone.ape", "APE", "audio/x-ape", 44100, 2, 500),
            ("tone.mpc", "Musepack", "audio/x-musepack", 44100, 2, 500),
            ("tone.wma", "WMA", "audio/x-ms-wma", 44100, 2, 510),
        ];
        for (file, codec, content_type, rate, channels, length_ms) in cases {
            let meta = read(&Path::new(TEMPLATES).join(file));
            let suffix = file.rsplit('.').next().unwrap_or_default();
            assert_eq!(meta.suffix, suffix, "{file}");
            assert_eq!(meta.codec, codec, "{file}");
            assert_eq!(meta.content_type, content_type, "{file}");
            assert_eq!(meta.sample_rate, Some(rate), "{file}");
            assert_eq!(meta.channels, Some(channels), "{file}");
            assert!(
                (meta.duration_ms - length_ms).abs() <= 50,
                "{file}: duration {} ms, expected about {length_ms} ms",
                meta.duration_ms
            );
            assert!(meta.bitrate.is_some_and(|b| b > 0), "{file}: bitrate");
            assert!(!meta.has_embedded_art, "{file}: templates carry no art");
        }
        let lossless = [
            "tone.flac",
            "tone-alac.m4a",
            "tone.wav",
            "tone.aiff",
            "tone.wv",
        ];
        for file in lossless {
            assert_eq!(
                read(&Path::new(TEMPLATES).join(file)).bit_depth,
                Some(16),
                "{file}"
            );
        }
    }

    #[test]
    fn extension_is_matched_case_insensitively_and_content_wins() {
        let (_d, upper) = fixture("tone.flac", "Song.FLAC");
        let meta = read(&upper);
        assert_eq!(
            (meta.suffix.as_str(), meta.codec.as_str()),
            ("flac", "FLAC")
        );

        // A FLAC stream misnamed .mp3 is still read as FLAC (content sniffing).
        let (_d, misnamed) = fixture("tone.flac", "oops.mp3");
        let meta = read(&misnamed);
        assert_eq!(meta.codec, "FLAC");
        assert_eq!(meta.suffix, "mp3");
    }

    // --- artists ----------------------------------------------------------------------------

    #[test]
    fn id3v24_null_separated_artists_are_separate_names() {
        let (_d, path) = fixture("tone.mp3", "a.mp3");
        save_id3v2(
            &path,
            vec![
                text_frame("TPE1", "Alpha\0Beta"),
                text_frame("TPE2", "Gamma\0Delta"),
                text_frame("TCOM", "Bach\0Handel"),
            ],
        );
        let meta = read(&path);
        assert_eq!(meta.artists, strings(&["Alpha", "Beta"]));
        assert_eq!(meta.artist_display, "Alpha / Beta");
        assert_eq!(meta.album_artists, strings(&["Gamma", "Delta"]));
        assert_eq!(meta.album_artist_display.as_deref(), Some("Gamma / Delta"));
        assert_eq!(meta.composers, strings(&["Bach", "Handel"]));
    }

    #[test]
    fn repeated_vorbis_fields_are_separate_names() {
        let (_d, path) = fixture("tone.flac", "a.flac");
        save_vorbis(
            &path,
            &[
                ("ARTIST", "Alpha"),
                ("ARTIST", "Beta"),
                ("ARTIST", "Alpha"),
                ("ALBUMARTIST", "Alpha"),
                ("COMPOSER", "Bach"),
                ("COMPOSER", "Handel"),
                ("GENRE", "Rock"),
                ("GENRE", "Jazz"),
            ],
        );
        let meta = read(&path);
        assert_eq!(meta.artists, strings(&["Alpha", "Beta"]));
        assert_eq!(meta.artist_display, "Alpha / Beta");
        assert_eq!(meta.album_artists, strings(&["Alpha"]));
        assert_eq!(meta.album_artist_display.as_deref(), Some("Alpha"));
        assert_eq!(meta.composers, strings(&["Bach", "Handel"]));
        assert_eq!(meta.genres, strings(&["Rock", "Jazz"]));
    }

    #[test]
    fn artists_tag_is_preferred_over_splitting_the_display_string() {
        let (_d, path) = fixture("tone.ogg", "a.ogg");
        save_vorbis(
            &path,
            &[
                ("ARTIST", "Alpha feat. Beta & Gamma"),
                ("ARTISTS", "Alpha"),
                ("ARTISTS", "Beta & Gamma"),
                ("ALBUMARTIST", "Alpha & Friends"),
                ("ALBUMARTISTS", "Alpha"),
                ("ALBUMARTISTS", "Friends"),
            ],
        );
        let meta = read(&path);
        assert_eq!(meta.artists, strings(&["Alpha", "Beta & Gamma"]));
        assert_eq!(meta.artist_display, "Alpha feat. Beta & Gamma");
        assert_eq!(meta.album_artists, strings(&["Alpha", "Friends"]));
        assert_eq!(
            meta.album_artist_display.as_deref(),
            Some("Alpha & Friends")
        );
    }

    #[test]
    fn id3_artists_txxx_without_display_string_is_joined_for_display() {
        let (_d, path) = fixture("tone.mp3", "a.mp3");
        save_id3v2(&path, vec![txxx("ARTISTS", "Alpha\0Beta")]);
        let meta = read(&path);
        assert_eq!(meta.artists, strings(&["Alpha", "Beta"]));
        assert_eq!(meta.artist_display, "Alpha / Beta");
    }

    #[test]
    fn display_string_is_split_on_separators() {
        let (_d, path) = fixture("tone.mp3", "a.mp3");
        save_id3v2(
            &path,
            vec![
                text_frame("TPE1", "Alpha Feat. Beta / Gamma; Delta ft. Epsilon"),
                text_frame("TCOM", "Lennon / McCartney"),
            ],
        );
        let meta = read(&path);
        assert_eq!(
            meta.artists,
            strings(&["Alpha", "Beta", "Gamma", "Delta", "Epsilon"])
        );
        assert_eq!(
            meta.artist_display,
            "Alpha Feat. Beta / Gamma; Delta ft. Epsilon"
        );
        assert_eq!(meta.composers, strings(&["Lennon", "McCartney"]));

        // Separators are configurable; "AC/DC" survives the default " / ".
        save_id3v2(&path, vec![text_frame("TPE1", "AC/DC & Friends")]);
        assert_eq!(read(&path).artists, strings(&["AC/DC & Friends"]));
        let opts = TagOptions {
            artist_separators: strings(&[" & "]),
        };
        let meta = read_track(&path, None, &opts).expect("readable");
        assert_eq!(meta.artists, strings(&["AC/DC", "Friends"]));
    }

    #[test]
    fn repeated_mp4_atoms_are_separate_names() {
        let (_d, path) = fixture("tone.m4a", "a.m4a");
        let mut ilst = Ilst::new();
        let many = |fourcc: &[u8; 4], values: &[&str]| {
            Atom::from_collection(
                AtomIdent::Fourcc(*fourcc),
                values
                    .iter()
                    .map(|v| AtomData::UTF8((*v).to_owned()))
                    .collect(),
            )
            .expect("atom")
        };
        ilst.insert(many(b"\xa9ART", &["Alpha", "Beta"]));
        ilst.insert(many(b"aART", &["Gamma"]));
        ilst.insert(many(b"\xa9wrt", &["Bach", "Handel"]));
        ilst.insert(freeform("ARTISTS", "Alpha"));
        ilst.save_to_path(&path, WriteOptions::default())
            .expect("write ilst");
        let meta = read(&path);
        // The explicit ARTISTS atom wins for the list; the display keeps the ©ART values.
        assert_eq!(meta.artists, strings(&["Alpha"]));
        assert_eq!(meta.artist_display, "Alpha / Beta");
        assert_eq!(meta.album_artists, strings(&["Gamma"]));
        assert_eq!(meta.composers, strings(&["Bach", "Handel"]));
    }

    #[test]
    fn compilation_without_album_artist_means_various_artists() {
        let (_d, path) = fixture("tone.mp3", "a.mp3");
        save_id3v2(
            &path,
            vec![text_frame("TPE1", "Alpha"), text_frame("TCMP", "1")],
        );
        let meta = read(&path);
        assert!(meta.compilation);
        assert_eq!(meta.album_artists, strings(&[VARIOUS_ARTISTS]));
        assert_eq!(meta.album_artist_display.as_deref(), Some(VARIOUS_ARTISTS));

        save_id3v2(
            &path,
            vec![text_frame("TCMP", "1"), text_frame("TPE2", "DJ Mix")],
        );
        assert_eq!(read(&path).album_artists, strings(&["DJ Mix"]));

        let (_d, m4a) = fixture("tone.m4a", "a.m4a");
        let mut ilst = Ilst::new();
        ilst.set_flag(AtomIdent::Fourcc(*b"cpil"), true);
        ilst.save_to_path(&m4a, WriteOptions::default())
            .expect("write ilst");
        let meta = read(&m4a);
        assert!(meta.compilation);
        assert_eq!(meta.album_artists, strings(&[VARIOUS_ARTISTS]));

        let (_d, flac) = fixture("tone.flac", "a.flac");
        save_vorbis(&flac, &[("COMPILATION", "0"), ("ARTIST", "Alpha")]);
        let meta = read(&flac);
        assert!(!meta.compilation);
        assert!(meta.album_artists.is_empty());
        assert_eq!(meta.album_artist_display, None);
    }

    // --- numbers and dates ------------------------------------------------------------------

    #[test]
    fn track_and_disc_numbers_with_totals() {
        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        save_id3v2(
            &mp3,
            vec![text_frame("TRCK", "3/12"), text_frame("TPOS", "1/2")],
        );
        let meta = read(&mp3);
        assert_eq!(
            (
                meta.track_number,
                meta.track_total,
                meta.disc_number,
                meta.disc_total
            ),
            (Some(3), Some(12), Some(1), Some(2))
        );

        let (_d, flac) = fixture("tone.flac", "a.flac");
        save_vorbis(
            &flac,
            &[
                ("TRACKNUMBER", "05"),
                ("TOTALTRACKS", "14"),
                ("DISCNUMBER", "2"),
                ("DISCTOTAL", "3"),
            ],
        );
        let meta = read(&flac);
        assert_eq!(
            (
                meta.track_number,
                meta.track_total,
                meta.disc_number,
                meta.disc_total
            ),
            (Some(5), Some(14), Some(2), Some(3))
        );

        let (_d, ogg) = fixture("tone.ogg", "a.ogg");
        save_vorbis(&ogg, &[("TRACKNUMBER", "7/9"), ("TRACKTOTAL", "9")]);
        let meta = read(&ogg);
        assert_eq!((meta.track_number, meta.track_total), (Some(7), Some(9)));

        let (_d, m4a) = fixture("tone.m4a", "a.m4a");
        let mut ilst = Ilst::new();
        ilst.set_track(4);
        ilst.set_track_total(10);
        ilst.set_disk(1);
        ilst.set_disk_total(2);
        ilst.save_to_path(&m4a, WriteOptions::default())
            .expect("write ilst");
        let meta = read(&m4a);
        assert_eq!(
            (
                meta.track_number,
                meta.track_total,
                meta.disc_number,
                meta.disc_total
            ),
            (Some(4), Some(10), Some(1), Some(2))
        );
    }

    #[test]
    fn numbers_that_do_not_fit_are_ignored() {
        let (_d, flac) = fixture("tone.flac", "a.flac");
        save_vorbis(
            &flac,
            &[
                ("TRACKNUMBER", "4294967296/99999999999"),
                ("DISCNUMBER", "-1"),
                ("BPM", "1e300"),
                ("DATE", "99999"),
                ("REPLAYGAIN_TRACK_GAIN", "loud"),
            ],
        );
        let meta = read(&flac);
        assert_eq!(
            (meta.track_number, meta.track_total, meta.disc_number),
            (None, None, None)
        );
        assert_eq!(meta.bpm, None);
        assert_eq!(meta.year, None);
        assert_eq!(meta.release_date, None);
        assert_eq!(meta.rg_track_gain, None);
    }

    #[test]
    fn dates_partial_original_and_release() {
        let (_d, flac) = fixture("tone.flac", "a.flac");
        save_vorbis(
            &flac,
            &[
                ("DATE", "1999-03"),
                ("ORIGINALDATE", "1970"),
                ("RELEASEDATE", "2001-05-06"),
            ],
        );
        let meta = read(&flac);
        assert_eq!(meta.year, Some(1999));
        assert_eq!(meta.release_date.as_deref(), Some("2001-05-06"));
        assert_eq!(meta.original_date.as_deref(), Some("1970"));

        let (_d, ogg) = fixture("tone.ogg", "a.ogg");
        save_vorbis(&ogg, &[("YEAR", "1987"), ("ORIGINALYEAR", "1960")]);
        let meta = read(&ogg);
        assert_eq!(meta.year, Some(1987));
        assert_eq!(meta.release_date.as_deref(), Some("1987"));
        assert_eq!(meta.original_date.as_deref(), Some("1960"));

        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        let recorded = "1999-03-21T10:00".parse().expect("timestamp");
        let original = "1970-01".parse().expect("timestamp");
        save_id3v2(
            &mp3,
            vec![
                Frame::Timestamp(TimestampFrame::new(
                    FrameId::new("TDRC").expect("id"),
                    TextEncoding::UTF8,
                    recorded,
                )),
                Frame::Timestamp(TimestampFrame::new(
                    FrameId::new("TDOR").expect("id"),
                    TextEncoding::UTF8,
                    original,
                )),
            ],
        );
        let meta = read(&mp3);
        assert_eq!(meta.year, Some(1999));
        assert_eq!(meta.release_date.as_deref(), Some("1999-03-21"));
        assert_eq!(meta.original_date.as_deref(), Some("1970-01"));

        // ID3v2.3 stores the year in TYER (and day/month in TDAT); lofty upgrades it on read.
        let mut tag = Id3v2Tag::new();
        tag.insert(text_frame("TYER", "1984"));
        tag.insert(text_frame("TDAT", "2103"));
        tag.save_to_path(&mp3, WriteOptions::new().use_id3v23(true))
            .expect("write v2.3");
        let meta = read(&mp3);
        assert_eq!(meta.year, Some(1984));
        assert_eq!(meta.release_date.as_deref(), Some("1984-03-21"));
    }

    #[test]
    fn parse_date_accepts_common_forms() {
        let d = |s: &str| parse_date(s).map(|d| d.to_string());
        assert_eq!(d("1999").as_deref(), Some("1999"));
        assert_eq!(d("1999-03").as_deref(), Some("1999-03"));
        assert_eq!(d("1999-03-21").as_deref(), Some("1999-03-21"));
        assert_eq!(d("1999-03-21T10:00:00").as_deref(), Some("1999-03-21"));
        assert_eq!(d("1999-3-7 10:00").as_deref(), Some("1999-03-07"));
        assert_eq!(d("1999/03/21").as_deref(), Some("1999-03-21"));
        assert_eq!(d("1999.03.21").as_deref(), Some("1999-03-21"));
        assert_eq!(d("19990321").as_deref(), Some("1999-03-21"));
        assert_eq!(d("21.03.1999").as_deref(), Some("1999-03-21"));
        assert_eq!(d("2004-00-00").as_deref(), Some("2004"));
        assert_eq!(d("1999-13-01").as_deref(), Some("1999"));
        assert_eq!(d(" 2010 (remaster)").as_deref(), Some("2010"));
        assert_eq!(d("0000"), None);
        assert_eq!(d("99999"), None);
        assert_eq!(d("99"), None);
        assert_eq!(d("March 1999"), None);
        assert_eq!(d(""), None);
    }

    // --- genres -----------------------------------------------------------------------------

    #[test]
    fn id3v1_numeric_genres_become_names() {
        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        let v1 = Id3v1Tag {
            title: Some("Old".to_owned()),
            genre: Some(17),
            ..Id3v1Tag::default()
        };
        v1.save_to_path(&mp3, WriteOptions::default())
            .expect("write ID3v1");
        let meta = read(&mp3);
        assert_eq!(meta.genres, strings(&["Rock"]));
        assert_eq!(meta.title, "Old");

        for (tcon, expected) in [
            ("(17)", vec!["Rock"]),
            ("17", vec!["Rock"]),
            ("(17)Rock", vec!["Rock"]),
            ("(9)(31)", vec!["Metal", "Trance"]),
            ("(RX)", vec!["Remix"]),
            ("Rock\0Jazz", vec!["Rock", "Jazz"]),
        ] {
            save_id3v2(&mp3, vec![text_frame("TCON", tcon)]);
            assert_eq!(read(&mp3).genres, strings(&expected), "TCON {tcon:?}");
        }
    }

    #[test]
    fn genres_are_split_and_deduplicated() {
        let (_d, flac) = fixture("tone.flac", "a.flac");
        save_vorbis(
            &flac,
            &[
                ("GENRE", "Rock; Pop/Jazz, Blues"),
                ("GENRE", "rock"),
                ("GENRE", "Drum & Bass"),
            ],
        );
        assert_eq!(
            read(&flac).genres,
            strings(&["Rock", "Pop", "Jazz", "Blues", "Drum & Bass"])
        );
    }

    // --- ReplayGain -------------------------------------------------------------------------

    #[test]
    fn replaygain_from_id3_txxx_in_any_case() {
        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        save_id3v2(
            &mp3,
            vec![
                txxx("replaygain_track_gain", "-6.54 dB"),
                txxx("REPLAYGAIN_TRACK_PEAK", "0.998"),
                txxx("Replaygain_Album_Gain", "+1.20 dB"),
                txxx("replaygain_album_peak", "1.000000"),
            ],
        );
        let meta = read(&mp3);
        assert_eq!(meta.rg_track_gain, Some(-6.54));
        assert_eq!(meta.rg_track_peak, Some(0.998));
        assert_eq!(meta.rg_album_gain, Some(1.2));
        assert_eq!(meta.rg_album_peak, Some(1.0));
    }

    #[test]
    fn replaygain_from_vorbis_and_r128() {
        let (_d, ogg) = fixture("tone.ogg", "a.ogg");
        save_vorbis(
            &ogg,
            &[
                ("REPLAYGAIN_TRACK_GAIN", "-3.10 dB"),
                ("replaygain_album_gain", "-2,5 dB"),
            ],
        );
        let meta = read(&ogg);
        assert_eq!(meta.rg_track_gain, Some(-3.1));
        assert_eq!(meta.rg_album_gain, Some(-2.5));

        // Opus R128 gains are Q7.8 relative to -23 LUFS; ReplayGain's reference is 5 dB louder.
        let (_d, opus) = fixture("tone.opus", "a.opus");
        save_vorbis(&opus, &[("R128_TRACK_GAIN", "-512")]);
        assert_eq!(read(&opus).rg_track_gain, Some(3.0));
    }

    #[test]
    fn replaygain_from_mp4_freeform_atoms() {
        let (_d, m4a) = fixture("tone-alac.m4a", "a.m4a");
        let mut ilst = Ilst::new();
        ilst.insert(freeform("replaygain_track_gain", "-7.25 dB"));
        ilst.insert(freeform("replaygain_track_peak", "0.5"));
        ilst.insert(freeform("REPLAYGAIN_ALBUM_GAIN", "-8 dB"));
        ilst.save_to_path(&m4a, WriteOptions::default())
            .expect("write ilst");
        let meta = read(&m4a);
        assert_eq!(meta.rg_track_gain, Some(-7.25));
        assert_eq!(meta.rg_track_peak, Some(0.5));
        assert_eq!(meta.rg_album_gain, Some(-8.0));
        assert_eq!(meta.codec, "ALAC");
    }

    #[test]
    fn replaygain_and_names_from_ape_in_wavpack() {
        let (_d, wv) = fixture("tone.wv", "a.wv");
        save_ape(
            &wv,
            &[
                ("Title", "Ape Title"),
                ("Artist", "Alpha; Beta"),
                ("Album Artist", "Alpha"),
                ("Track", "2/9"),
                ("Year", "2003-04-05"),
                ("REPLAYGAIN_TRACK_GAIN", "-4.00 dB"),
                ("MUSICBRAINZ_TRACKID", "rec-id"),
                ("RELEASETYPE", "album"),
            ],
        );
        let meta = read(&wv);
        assert_eq!(meta.title, "Ape Title");
        assert_eq!(meta.artists, strings(&["Alpha", "Beta"]));
        assert_eq!(meta.album_artists, strings(&["Alpha"]));
        assert_eq!((meta.track_number, meta.track_total), (Some(2), Some(9)));
        assert_eq!(meta.year, Some(2003));
        assert_eq!(meta.release_date.as_deref(), Some("2003-04-05"));
        assert_eq!(meta.rg_track_gain, Some(-4.0));
        assert_eq!(meta.mb_recording_id.as_deref(), Some("rec-id"));
        assert_eq!(meta.release_type.as_deref(), Some("album"));
    }

    #[test]
    fn parse_gain_forms() {
        assert_eq!(parse_gain("-6.54 dB"), Some(-6.54));
        assert_eq!(parse_gain("+1.2 dB"), Some(1.2));
        assert_eq!(parse_gain("0.998"), Some(0.998));
        assert_eq!(parse_gain(" -3,5 DB "), Some(-3.5));
        assert_eq!(parse_gain("NaN"), None);
        assert_eq!(parse_gain("inf dB"), None);
        assert_eq!(parse_gain(""), None);
    }

    // --- other fields -----------------------------------------------------------------------

    #[test]
    fn id3_sort_names_ids_and_misc_fields() {
        let (_d, mp3) = fixture("tone.mp3", "Music/Album/a.mp3");
        let comment = |desc: &str, text: &str| {
            Frame::Comment(CommentFrame::new(
                TextEncoding::UTF8,
                *b"eng",
                desc.to_owned(),
                text.to_owned(),
            ))
        };
        save_id3v2(
            &mp3,
            vec![
                text_frame("TIT2", "Title"),
                text_frame("TALB", "Album"),
                text_frame("TPE1", "The Artist"),
                text_frame("TPE2", "The Album Artist"),
                text_frame("TSOT", "Title, The"),
                text_frame("TSOA", "Album, The"),
                text_frame("TSOP", "Artist, The"),
                text_frame("TSO2", "Album Artist, The"),
                text_frame("TSST", "The Early Years"),
                text_frame("TBPM", "128"),
                text_frame("TSRC", "USRC17607839"),
                text_frame("TPUB", "Label Records"),
                text_frame("TIT1", "Grouped"),
                text_frame("TMOO", "Calm"),
                comment("iTunNORM", " 0000044E 00000000"),
                comment("", "A real comment"),
                Frame::UniqueFileIdentifier(UniqueFileIdentifierFrame::new(
                    MUSICBRAINZ_UFID_OWNER,
                    b"recording-uuid".to_vec(),
                )),
                txxx("MusicBrainz Release Track Id", "track-uuid"),
                txxx("MusicBrainz Album Id", "release-uuid"),
                txxx("MusicBrainz Release Group Id", "group-uuid"),
                txxx("MusicBrainz Artist Id", "artist-uuid\0artist2-uuid"),
                txxx("MusicBrainz Album Artist Id", "album-artist-uuid"),
                txxx("MusicBrainz Album Type", "album\0live"),
            ],
        );
        let meta = read(&mp3);
        assert_eq!(meta.title, "Title");
        assert_eq!(meta.album, "Album");
        assert_eq!(meta.sort_title.as_deref(), Some("Title, The"));
        assert_eq!(meta.sort_album.as_deref(), Some("Album, The"));
        assert_eq!(meta.artist_sort.as_deref(), Some("Artist, The"));
        assert_eq!(meta.album_artist_sort.as_deref(), Some("Album Artist, The"));
        assert_eq!(meta.disc_subtitle.as_deref(), Some("The Early Years"));
        assert_eq!(meta.bpm, Some(128));
        assert_eq!(meta.isrc.as_deref(), Some("USRC17607839"));
        assert_eq!(meta.label.as_deref(), Some("Label Records"));
        assert_eq!(meta.grouping.as_deref(), Some("Grouped"));
        assert_eq!(meta.mood.as_deref(), Some("Calm"));
        assert_eq!(meta.comment.as_deref(), Some("A real comment"));
        assert_eq!(meta.mb_recording_id.as_deref(), Some("recording-uuid"));
        assert_eq!(meta.mb_track_id.as_deref(), Some("track-uuid"));
        assert_eq!(meta.mb_release_id.as_deref(), Some("release-uuid"));
        assert_eq!(meta.mb_release_group_id.as_deref(), Some("group-uuid"));
        assert_eq!(meta.mb_artist_id.as_deref(), Some("artist-uuid"));
        assert_eq!(
            meta.mb_album_artist_id.as_deref(),
            Some("album-artist-uuid")
        );
        assert_eq!(meta.release_type.as_deref(), Some("album; live"));
        assert!(!meta.compilation);
    }

    #[test]
    fn id3_txxx_musicbrainz_track_id_is_the_recording() {
        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        save_id3v2(&mp3, vec![txxx("MusicBrainz Track Id", "recording-uuid")]);
        let meta = read(&mp3);
        assert_eq!(meta.mb_recording_id.as_deref(), Some("recording-uuid"));
        assert_eq!(meta.mb_track_id, None);
    }

    #[test]
    fn vorbis_sort_names_ids_and_misc_fields() {
        let (_d, flac) = fixture("tone.flac", "a.flac");
        save_vorbis(
            &flac,
            &[
                ("TITLESORT", "Title, The"),
                ("ALBUMSORT", "Album, The"),
                ("ARTISTSORT", "Artist, The"),
                ("ALBUMARTISTSORT", "Album Artist, The"),
                ("DISCSUBTITLE", "Bonus"),
                ("BPM", "120.5"),
                ("ISRC", "GBAYE0601498"),
                ("ORGANIZATION", "Org Records"),
                ("GROUPING", "Group"),
                ("MOOD", "Happy"),
                ("RELEASETYPE", "album"),
                ("RELEASETYPE", "compilation"),
                ("COMPILATION", "1"),
                ("COMMENT", "Nice"),
                ("MUSICBRAINZ_TRACKID", "recording-uuid"),
                ("MUSICBRAINZ_RELEASETRACKID", "track-uuid"),
                ("MUSICBRAINZ_ALBUMID", "release-uuid"),
                ("MUSICBRAINZ_RELEASEGROUPID", "group-uuid"),
                ("MUSICBRAINZ_ARTISTID", "artist-uuid"),
                ("MUSICBRAINZ_ALBUMARTISTID", "album-artist-uuid"),
            ],
        );
        let meta = read(&flac);
        assert_eq!(meta.sort_title.as_deref(), Some("Title, The"));
        assert_eq!(meta.sort_album.as_deref(), Some("Album, The"));
        assert_eq!(meta.artist_sort.as_deref(), Some("Artist, The"));
        assert_eq!(meta.album_artist_sort.as_deref(), Some("Album Artist, The"));
        assert_eq!(meta.disc_subtitle.as_deref(), Some("Bonus"));
        assert_eq!(meta.bpm, Some(121));
        assert_eq!(meta.isrc.as_deref(), Some("GBAYE0601498"));
        assert_eq!(meta.label.as_deref(), Some("Org Records"));
        assert_eq!(meta.grouping.as_deref(), Some("Group"));
        assert_eq!(meta.mood.as_deref(), Some("Happy"));
        assert_eq!(meta.release_type.as_deref(), Some("album; compilation"));
        assert!(meta.compilation);
        assert_eq!(meta.comment.as_deref(), Some("Nice"));
        assert_eq!(meta.mb_recording_id.as_deref(), Some("recording-uuid"));
        assert_eq!(meta.mb_track_id.as_deref(), Some("track-uuid"));
        assert_eq!(meta.mb_release_id.as_deref(), Some("release-uuid"));
        assert_eq!(meta.mb_release_group_id.as_deref(), Some("group-uuid"));
        assert_eq!(meta.mb_artist_id.as_deref(), Some("artist-uuid"));
        assert_eq!(
            meta.mb_album_artist_id.as_deref(),
            Some("album-artist-uuid")
        );
    }

    #[test]
    fn mp4_sort_names_and_freeform_fields() {
        let (_d, m4a) = fixture("tone.m4a", "a.m4a");
        let mut ilst = Ilst::new();
        let one = |fourcc: &[u8; 4], v: &str| {
            Atom::new(AtomIdent::Fourcc(*fourcc), AtomData::UTF8(v.to_owned()))
        };
        ilst.insert(one(b"\xa9nam", "Title"));
        ilst.insert(one(b"sonm", "Title, The"));
        ilst.insert(one(b"soar", "Artist, The"));
        ilst.insert(one(b"\xa9grp", "Group"));
        ilst.insert(one(b"\xa9day", "2012-10-01T07:00:00Z"));
        ilst.insert(Atom::new(
            AtomIdent::Fourcc(*b"tmpo"),
            AtomData::SignedInteger(96),
        ));
        ilst.insert(freeform("MusicBrainz Track Id", "recording-uuid"));
        ilst.insert(freeform("LABEL", "Label"));
        ilst.insert(freeform("DISCSUBTITLE", "Live"));
        ilst.insert(freeform("ORIGINALDATE", "1980-02-03"));
        ilst.save_to_path(&m4a, WriteOptions::default())
            .expect("write ilst");
        let meta = read(&m4a);
        assert_eq!(meta.title, "Title");
        assert_eq!(meta.sort_title.as_deref(), Some("Title, The"));
        assert_eq!(meta.artist_sort.as_deref(), Some("Artist, The"));
        assert_eq!(meta.grouping.as_deref(), Some("Group"));
        assert_eq!(meta.year, Some(2012));
        assert_eq!(meta.release_date.as_deref(), Some("2012-10-01"));
        assert_eq!(meta.bpm, Some(96));
        assert_eq!(meta.mb_recording_id.as_deref(), Some("recording-uuid"));
        assert_eq!(meta.label.as_deref(), Some("Label"));
        assert_eq!(meta.disc_subtitle.as_deref(), Some("Live"));
        assert_eq!(meta.original_date.as_deref(), Some("1980-02-03"));
    }

    #[test]
    fn mp3_merges_id3v2_ape_and_id3v1() {
        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        save_id3v2(
            &mp3,
            vec![text_frame("TIT2", "V2 Title"), text_frame("TALB", "")],
        );
        save_ape(&mp3, &[("Album", "Ape Album"), ("Title", "Ape Title")]);
        let v1 = Id3v1Tag {
            title: Some("V1 Title".to_owned()),
            artist: Some("V1 Artist".to_owned()),
            year: Some(1980),
            genre: Some(17),
            ..Id3v1Tag::default()
        };
        v1.save_to_path(&mp3, WriteOptions::default())
            .expect("write ID3v1");
        let meta = read(&mp3);
        assert_eq!(meta.title, "V2 Title");
        assert_eq!(meta.album, "Ape Album");
        assert_eq!(meta.artists, strings(&["V1 Artist"]));
        assert_eq!(meta.year, Some(1980));
        assert_eq!(meta.genres, strings(&["Rock"]));
        let raw = read_raw_tags(&mp3).expect("raw tags");
        let types: Vec<&str> = raw.iter().map(|t| t.tag_type.as_str()).collect();
        assert_eq!(types, ["ID3v2.4", "APEv2", "ID3v1"]);
    }

    #[test]
    fn wav_riff_info_fills_gaps_left_by_id3() {
        let (_d, wav) = fixture("tone.wav", "a.wav");
        let mut info = RiffInfoList::new();
        info.insert("INAM".to_owned(), "Riff Title".to_owned());
        info.insert("IART".to_owned(), "Riff Artist".to_owned());
        info.insert("ICRD".to_owned(), "2001".to_owned());
        info.insert("IGNR".to_owned(), "Ambient".to_owned());
        info.save_to_path(&wav, WriteOptions::default())
            .expect("write RIFF INFO");
        let meta = read(&wav);
        assert_eq!(meta.title, "Riff Title");
        assert_eq!(meta.artists, strings(&["Riff Artist"]));
        assert_eq!(meta.year, Some(2001));
        assert_eq!(meta.genres, strings(&["Ambient"]));

        save_id3v2(&wav, vec![text_frame("TIT2", "Id3 Title")]);
        let meta = read(&wav);
        assert_eq!(meta.title, "Id3 Title");
        assert_eq!(meta.artists, strings(&["Riff Artist"]));
    }

    #[test]
    fn aiff_text_chunks_and_id3() {
        let (_d, aiff) = fixture("tone.aiff", "a.aiff");
        let chunks = AiffTextChunks {
            name: Some("Aiff Name".to_owned()),
            author: Some("Aiff Author".to_owned()),
            ..AiffTextChunks::default()
        };
        chunks
            .save_to_path(&aiff, WriteOptions::default())
            .expect("write AIFF text");
        let meta = read(&aiff);
        assert_eq!(meta.title, "Aiff Name");
        assert_eq!(meta.artists, strings(&["Aiff Author"]));

        save_id3v2(&aiff, vec![text_frame("TPE1", "Id3 Artist")]);
        let meta = read(&aiff);
        assert_eq!(meta.title, "Aiff Name");
        assert_eq!(meta.artists, strings(&["Id3 Artist"]));
    }

    #[test]
    fn speex_mpc_and_ape_files_carry_tags() {
        let (_d, spx) = fixture("tone.spx", "a.spx");
        save_vorbis(&spx, &[("TITLE", "Speex Title")]);
        assert_eq!(read(&spx).title, "Speex Title");

        for template in ["tone.mpc", "tone.ape"] {
            let (_d, path) = fixture(template, template);
            save_ape(&path, &[("Title", "Ape Title"), ("Genre", "Jazz")]);
            let meta = read(&path);
            assert_eq!(meta.title, "Ape Title", "{template}");
            assert_eq!(meta.genres, strings(&["Jazz"]), "{template}");
        }

        let (_d, aac) = fixture("tone.aac", "a.aac");
        save_id3v2(&aac, vec![text_frame("TIT2", "Adts Title")]);
        let meta = read(&aac);
        assert_eq!(meta.title, "Adts Title");
        assert_eq!(meta.codec, "AAC");
    }

    // --- lyrics -----------------------------------------------------------------------------

    #[test]
    fn lrc_formatted_lyrics_tag_becomes_synced_lyrics() {
        let (_d, flac) = fixture("tone.flac", "a.flac");
        save_vorbis(
            &flac,
            &[("LYRICS", "[ar:Someone]\n[00:01.00]Hello\n[00:02.50]World")],
        );
        let meta = read(&flac);
        assert_eq!(meta.lyrics, None);
        assert_eq!(
            meta.synced_lyrics.as_deref(),
            Some("[ar:Someone]\n[00:01.00]Hello\n[00:02.50]World")
        );

        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        save_id3v2(
            &mp3,
            vec![Frame::UnsynchronizedText(UnsynchronizedTextFrame::new(
                TextEncoding::UTF8,
                *b"eng",
                String::new(),
                "[Chorus]\nPlain words\n".to_owned(),
            ))],
        );
        let meta = read(&mp3);
        assert_eq!(meta.lyrics.as_deref(), Some("[Chorus]\nPlain words"));
        assert_eq!(meta.synced_lyrics, None);

        let (_d, m4a) = fixture("tone.m4a", "a.m4a");
        let mut ilst = Ilst::new();
        ilst.insert(Atom::new(
            AtomIdent::Fourcc(*b"\xa9lyr"),
            AtomData::UTF8("Some lyrics".to_owned()),
        ));
        ilst.save_to_path(&m4a, WriteOptions::default())
            .expect("write ilst");
        assert_eq!(read(&m4a).lyrics.as_deref(), Some("Some lyrics"));
    }

    #[test]
    fn sylt_frame_becomes_lrc() {
        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        let sylt = SynchronizedTextFrame::new(
            TextEncoding::UTF8,
            *b"eng",
            TimestampFormat::MS,
            SyncTextContentType::Lyrics,
            None,
            vec![(1_000, "Hello".to_owned()), (62_345, "\nWorld".to_owned())],
        );
        let data = sylt.as_bytes(WriteOptions::default()).expect("SYLT bytes");
        let frame = Frame::Binary(lofty::id3::v2::BinaryFrame::new(
            FrameId::new("SYLT").expect("id"),
            data,
        ));
        save_id3v2(&mp3, vec![frame]);
        let meta = read(&mp3);
        assert_eq!(
            meta.synced_lyrics.as_deref(),
            Some("[00:01.00]Hello\n[01:02.34]World")
        );
    }

    #[test]
    fn sidecar_lrc_is_used_when_the_tags_have_no_synced_lyrics() {
        let (dir, ogg) = fixture("tone.ogg", "a.ogg");
        let lrc = dir.path().join("a.lrc");
        std::fs::write(&lrc, "\u{feff}[00:01.00]Side\u{1}car\n[00:02.00]Lyrics\n").expect("lrc");
        let opts = TagOptions::default();
        let meta = read_track(&ogg, Some(&lrc), &opts).expect("readable");
        assert_eq!(
            meta.synced_lyrics.as_deref(),
            Some("[00:01.00]Sidecar\n[00:02.00]Lyrics")
        );

        save_vorbis(&ogg, &[("LYRICS", "[00:05.00]From the tag")]);
        let meta = read_track(&ogg, Some(&lrc), &opts).expect("readable");
        assert_eq!(
            meta.synced_lyrics.as_deref(),
            Some("[00:05.00]From the tag")
        );

        // A missing sidecar is not an error.
        let gone = dir.path().join("gone.lrc");
        assert!(read_track(&ogg, Some(&gone), &opts).is_ok());
    }

    #[test]
    fn a_huge_sidecar_lrc_is_not_read_into_the_catalog() {
        let (dir, ogg) = fixture("tone.ogg", "a.ogg");
        let lrc = dir.path().join("a.lrc");
        let line = "[00:01.00]la la la la la la la la la la la la la la la la\n";
        let huge = line.repeat((MAX_SIDECAR_BYTES as usize / line.len()) + 1);
        std::fs::write(&lrc, &huge).expect("lrc");
        let meta = read_track(&ogg, Some(&lrc), &TagOptions::default()).expect("readable");
        assert_eq!(meta.synced_lyrics, None);
        assert_eq!(meta.lyrics, None);
    }

    // --- text hygiene and fallbacks ---------------------------------------------------------

    #[test]
    fn control_characters_are_stripped_and_unicode_kept() {
        let (_d, flac) = fixture("tone.flac", "a.flac");
        save_vorbis(
            &flac,
            &[
                ("TITLE", "Bad\u{1}Title\u{7f}"),
                ("ALBUM", "  Café \u{85}東京 — Ünïcode  "),
                ("ARTIST", "\u{0}\u{1b}"),
                ("ARTIST", "Björk\u{0}"),
                ("COMMENT", "line 1\nline 2\tend\u{8}"),
            ],
        );
        let meta = read(&flac);
        assert_eq!(meta.title, "BadTitle");
        assert_eq!(meta.album, "Café 東京 — Ünïcode");
        assert_eq!(meta.artists, strings(&["Björk"]));
        assert_eq!(meta.artist_display, "Björk");
        assert_eq!(meta.comment.as_deref(), Some("line 1\nline 2\tend"));
    }

    #[test]
    fn clean_text_rules() {
        assert_eq!(clean_text("  a\u{0}b  ").as_deref(), Some("ab"));
        assert_eq!(clean_text("\u{9f}x\r\n").as_deref(), Some("x"));
        assert_eq!(clean_text("a\r\nb").as_deref(), Some("a\r\nb"));
        assert_eq!(clean_text("  \u{1}\u{2} "), None);
        assert_eq!(clean_text(""), None);
        assert_eq!(clean_text("🎵 ok").as_deref(), Some("🎵 ok"));
    }

    #[test]
    fn untagged_files_fall_back_to_path_names() {
        let (_d, flac) = fixture("tone.flac", "Great Album/Disc 2/07 - Song.flac");
        let meta = read(&flac);
        assert_eq!(meta.title, "07 - Song");
        assert_eq!(meta.album, "Great Album");
        assert_eq!(meta.artists, strings(&[UNKNOWN_ARTIST]));
        assert_eq!(meta.artist_display, UNKNOWN_ARTIST);
        assert!(meta.album_artists.is_empty());
        assert_eq!(meta.track_number, None);

        let (_d, mp3) = fixture("tone.mp3", "Other Album/cd3/x.mp3");
        assert_eq!(read(&mp3).album, "Other Album");

        let (_d, ogg) = fixture("tone.ogg", "Plain Folder/song.ogg");
        let meta = read(&ogg);
        assert_eq!(
            (meta.title.as_str(), meta.album.as_str()),
            ("song", "Plain Folder")
        );

        // Tags with a title but no album still take the album from the folder.
        save_vorbis(&ogg, &[("TITLE", "Tagged")]);
        let meta = read(&ogg);
        assert_eq!(
            (meta.title.as_str(), meta.album.as_str()),
            ("Tagged", "Plain Folder")
        );
    }

    #[test]
    fn disc_folder_names() {
        for yes in [
            "Disc 1",
            "disc01",
            "CD2",
            "CD 2",
            "cd-3",
            "Disk 3",
            "DISC_4",
            "CD1 (Bonus)",
            "Disc 2 - Live",
        ] {
            assert!(is_disc_folder_name(yes), "{yes}");
        }
        for no in [
            "Discovery",
            "Disco 2000",
            "CD",
            "CDs",
            "Disc",
            "CD 2000",
            "My Disc 1",
            "cd2x",
            "",
        ] {
            assert!(!is_disc_folder_name(no), "{no}");
        }
    }

    // --- formats with our own readers: WMA, DSF, DFF -----------------------------------------

    /// Writes `format` tagged with `spec` (synth) and reads it back.
    fn synth_read(format: crate::synth::Format, spec: &crate::synth::TrackSpec) -> TrackMeta {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(format!("Folder/t.{}", format.extension()));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        crate::synth::write_track(&path, format, spec).expect("write");
        read(&path)
    }

    fn full_synth_spec() -> crate::synth::TrackSpec {
        crate::synth::TrackSpec {
            disc_subtitle: Some("Bonus".to_owned()),
            ..crate::synth::tests::full_spec()
        }
    }

    /// The fields every format carries the same way.
    fn assert_full_spec(meta: &TrackMeta, what: &str) {
        assert_eq!(meta.title, "Été – 東京", "{what}");
        assert_eq!(meta.artists, strings(&["Anna", "Ben"]), "{what}");
        assert_eq!(meta.artist_display, "Anna feat. Ben", "{what}");
        assert_eq!(meta.album, "Album", "{what}");
        assert_eq!(meta.album_artists, strings(&["Anna"]), "{what}");
        assert_eq!(meta.track_number, Some(3), "{what}");
        assert_eq!(meta.disc_number, Some(2), "{what}");
        assert_eq!(meta.disc_total, Some(2), "{what}");
        assert_eq!(meta.year, Some(1999), "{what}");
        assert_eq!(meta.genres, strings(&["Rock", "Jazz"]), "{what}");
        assert!(meta.compilation, "{what}");
        assert_eq!(
            meta.mb_recording_id.as_deref(),
            Some("0b4e3c1a-1111-4222-8333-444455556666"),
            "{what}"
        );
        assert_eq!(
            meta.mb_release_id.as_deref(),
            Some("1b4e3c1a-1111-4222-8333-444455556666"),
            "{what}"
        );
        assert_eq!(meta.rg_track_gain, Some(-6.5), "{what}");
        assert_eq!(meta.rg_album_gain, Some(-7.25), "{what}");
        assert_eq!(meta.lyrics.as_deref(), Some("la la"), "{what}");
        assert_eq!(meta.comment.as_deref(), Some("hello"), "{what}");
        assert_eq!(meta.composers, strings(&["Clara Writer"]), "{what}");
        assert_eq!(meta.disc_subtitle.as_deref(), Some("Bonus"), "{what}");
        assert_eq!(meta.label.as_deref(), Some("Label Records"), "{what}");
        assert_eq!(meta.mood.as_deref(), Some("Calm"), "{what}");
        assert!(meta.has_embedded_art, "{what}");
    }

    #[test]
    fn wma_tags_and_properties() {
        use crate::synth::{Format, TrackSpec};
        let meta = synth_read(Format::Wma, &full_synth_spec());
        assert_full_spec(&meta, "wma");
        assert_eq!(
            (meta.suffix.as_str(), meta.content_type.as_str()),
            ("wma", "audio/x-ms-wma")
        );
        assert_eq!(meta.codec, "WMA");
        assert_eq!((meta.sample_rate, meta.channels), (Some(44100), Some(2)));
        assert_eq!(meta.bitrate, Some(32));
        assert!((meta.duration_ms - 510).abs() <= 50, "{}", meta.duration_ms);

        // Untagged: names from the path, no art.
        let bare = synth_read(Format::Wma, &TrackSpec::default());
        assert_eq!((bare.title.as_str(), bare.album.as_str()), ("t", "Folder"));
        assert_eq!(bare.artists, strings(&[UNKNOWN_ARTIST]));
        assert!(!bare.has_embedded_art);
    }

    #[test]
    fn wma_attributes_other_taggers_write() {
        let bytes = crate::synth::wma_with_attributes(
            "Song",
            "A / B",
            &[
                ("WM/Track", "4"), // zero-based: track 5
                ("WM/Genre", "Rock"),
                ("WM/Genre", "Pop"),
                ("WM/AlbumArtist", "Band"),
                ("WM/OriginalReleaseYear", "1970"),
                ("WM/Year", "1999-03-21"),
                ("WM/ArtistSortOrder", "Band, The"),
                ("WM/BeatsPerMinute", "120"),
                ("WM/ISRC", "USRC17607839"),
                ("MusicBrainz/Artist Id", "artist-id"),
                ("MusicBrainz/Album Artist Id", "album-artist-id"),
                ("MusicBrainz/Release Group Id", "group-id"),
                ("MusicBrainz/Release Track Id", "track-id"),
                ("MusicBrainz/Album Type", "album"),
                ("REPLAYGAIN_TRACK_PEAK", "0.98"),
                ("REPLAYGAIN_ALBUM_PEAK", "0.99"),
                ("WM/EncodingTime", "ignored"),
            ],
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("x.wma");
        std::fs::write(&path, bytes).expect("write");
        let meta = read(&path);
        assert_eq!(meta.title, "Song");
        assert_eq!(meta.artists, strings(&["A", "B"]));
        assert_eq!(meta.track_number, Some(5));
        assert_eq!(meta.genres, strings(&["Rock", "Pop"]));
        assert_eq!(meta.album_artists, strings(&["Band"]));
        assert_eq!(meta.original_date.as_deref(), Some("1970"));
        assert_eq!(meta.release_date.as_deref(), Some("1999-03-21"));
        assert_eq!(meta.artist_sort.as_deref(), Some("Band, The"));
        assert_eq!(meta.bpm, Some(120));
        assert_eq!(meta.isrc.as_deref(), Some("USRC17607839"));
        assert_eq!(meta.mb_artist_id.as_deref(), Some("artist-id"));
        assert_eq!(meta.mb_album_artist_id.as_deref(), Some("album-artist-id"));
        assert_eq!(meta.mb_release_group_id.as_deref(), Some("group-id"));
        assert_eq!(meta.mb_track_id.as_deref(), Some("track-id"));
        assert_eq!(meta.release_type.as_deref(), Some("album"));
        assert_eq!(meta.rg_track_peak, Some(0.98));
        assert_eq!(meta.rg_album_peak, Some(0.99));

        // `inspect` lists every attribute as found.
        let raw = read_raw_tags(&path).expect("raw");
        assert_eq!(raw.len(), 1);
        assert_eq!(raw[0].tag_type, "ASF");
        assert_eq!(raw[0].items[0], ("Title".to_owned(), "Song".to_owned()));
        assert!(
            raw[0]
                .items
                .contains(&("WM/EncodingTime".to_owned(), "ignored".to_owned()))
        );
    }

    #[test]
    fn dsf_and_dff_tags_and_properties() {
        use crate::synth::{Format, TrackSpec};
        for (format, content_type) in [(Format::Dsf, "audio/x-dsf"), (Format::Dff, "audio/x-dff")] {
            let what = format.extension();
            let meta = synth_read(format, &full_synth_spec());
            assert_full_spec(&meta, what);
            assert_eq!(meta.suffix, what);
            assert_eq!(meta.content_type, content_type);
            assert_eq!(meta.codec, "DSD", "{what}");
            assert_eq!(meta.sample_rate, Some(2_822_400), "{what}");
            assert_eq!(
                (meta.channels, meta.bit_depth),
                (Some(2), Some(1)),
                "{what}"
            );
            assert_eq!(meta.bitrate, Some(5644), "{what}");
            assert_eq!(meta.duration_ms, 500, "{what}");
            let bare = synth_read(format, &TrackSpec::default());
            assert_eq!(bare.title, "t", "{what}");
            assert!(!bare.has_embedded_art, "{what}");
            assert_eq!(bare.duration_ms, 500, "{what}");
        }
    }

    /// A DFF chunk: id, big-endian u64 size, body, pad byte.
    fn dff_chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    #[test]
    fn dff_edited_master_title_and_artist() {
        use crate::synth::{Format, template_bytes};
        let mut bytes = template_bytes(Format::Dff).to_vec();
        let text = |s: &str| {
            let mut b = (s.len() as u32).to_be_bytes().to_vec();
            b.extend_from_slice(s.as_bytes());
            b
        };
        let mut diin = dff_chunk(b"DITI", &text("Master Title"));
        diin.extend(dff_chunk(b"DIAR", &text("Master Artist")));
        bytes.extend(dff_chunk(b"DIIN", &diin));
        let size = bytes.len() as u64 - 12;
        bytes[4..12].copy_from_slice(&size.to_be_bytes());
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.dff");
        std::fs::write(&path, &bytes).expect("write");
        let meta = read(&path);
        assert_eq!(meta.title, "Master Title");
        assert_eq!(meta.artists, strings(&["Master Artist"]));
        let raw = read_raw_tags(&path).expect("raw");
        assert_eq!(raw[0].tag_type, "DSDIFF DIIN");
    }

    #[test]
    fn broken_wma_dsf_and_dff_files_are_errors_with_reasons() {
        use crate::synth::{Format, TrackSpec, tagged_bytes};
        let dir = tempfile::tempdir().expect("temp dir");
        let opts = TagOptions::default();
        for format in [Format::Wma, Format::Dsf, Format::Dff] {
            let ext = format.extension();
            let garbage = dir.path().join(format!("garbage.{ext}"));
            std::fs::write(&garbage, "not audio at all\n".repeat(20)).expect("write");
            let err = read_track(&garbage, None, &opts).expect_err(ext);
            assert!(matches!(err, TagError::NotAudio), "{ext}: {err}");

            let bytes = tagged_bytes(format, &TrackSpec::default()).expect("bytes");
            let cut = dir.path().join(format!("cut.{ext}"));
            std::fs::write(&cut, &bytes[..70]).expect("write");
            let err = read_track(&cut, None, &opts).expect_err(ext);
            assert!(matches!(err, TagError::Corrupt(_)), "{ext}: {err}");
            assert!(
                err.to_string().starts_with("truncated or corrupt: "),
                "{err}"
            );
        }
    }

    /// A tiny deterministic generator for the fuzz tests.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn own_readers_survive_truncation_and_bit_flips() {
        use crate::synth::{Format, tagged_bytes};
        use std::io::Cursor;
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for format in [Format::Wma, Format::Dsf, Format::Dff] {
            let bytes = tagged_bytes(format, &full_synth_spec()).expect("bytes");
            // The readers themselves, without read_track's catch_unwind: a panic fails here.
            let parse = |b: &[u8]| {
                let mut c = Cursor::new(b);
                if format == Format::Wma {
                    let _ = asf::read(&mut c, b.len() as u64, true);
                } else {
                    let _ = dsd::read(&mut c, b.len() as u64)
                        .map(|f| f.id3v2.map(|t| id3v2_from_bytes(&t)));
                }
            };
            // The headers and tags sit at the start of a WMA, and at the start and end of a
            // DSD file: cut through every byte of them, and at spaced points elsewhere.
            let len = bytes.len();
            let hot: Vec<std::ops::Range<usize>> = if format == Format::Wma {
                std::iter::once(0..2048.min(len)).collect()
            } else {
                vec![0..200, len.saturating_sub(2048)..len]
            };
            for keep in hot.iter().cloned().flatten().chain((0..len).step_by(997)) {
                parse(&bytes[..keep]);
            }
            for _ in 0..3000 {
                let mut mutated = bytes.clone();
                for _ in 0..1 + rng.next() % 4 {
                    let range = &hot[rng.next() as usize % hot.len()];
                    let at = range.start + rng.next() as usize % range.len();
                    match rng.next() % 3 {
                        0 => mutated[at] ^= 1 << (rng.next() % 8),
                        1 => mutated[at] = 0xFF,
                        _ => mutated[at] = 0,
                    }
                }
                parse(&mutated);
            }
        }
    }

    // --- errors -----------------------------------------------------------------------------

    #[test]
    fn zero_byte_truncated_and_non_audio_files_are_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        let opts = TagOptions::default();

        let empty = dir.path().join("empty.mp3");
        std::fs::write(&empty, b"").expect("write");
        let err = read_track(&empty, None, &opts).expect_err("empty");
        assert!(matches!(err, TagError::Empty), "{err}");
        assert_eq!(err.to_string(), "empty file");

        let text = dir.path().join("notes.mp3");
        std::fs::write(
            &text,
            "These are not the droids you are looking for.\n".repeat(40),
        )
        .expect("write");
        let err = read_track(&text, None, &opts).expect_err("text");
        assert!(matches!(err, TagError::NotAudio), "{err}");
        assert_eq!(err.to_string(), "not an audio file (unrecognised content)");

        let image = dir.path().join("cover.flac");
        std::fs::copy(Path::new(TEMPLATES).join("cover.jpg"), &image).expect("copy");
        let err = read_track(&image, None, &opts).expect_err("image");
        assert!(matches!(err, TagError::NotAudio), "{err}");

        let missing = dir.path().join("missing.mp3");
        let err = read_track(&missing, None, &opts).expect_err("missing");
        assert!(matches!(err, TagError::Open(_)), "{err}");
        assert!(err.to_string().starts_with("cannot open: "), "{err}");

        let unknown = dir.path().join("tone.xyz");
        std::fs::write(&unknown, b"\x00\x01\x02\x03 some bytes").expect("write");
        assert!(matches!(
            read_track(&unknown, None, &opts),
            Err(TagError::NotAudio)
        ));

        for (template, keep) in [
            ("tone.flac", 60),
            ("tone.m4a", 40),
            ("tone.ogg", 100),
            ("tone.wv", 20),
        ] {
            let bytes = std::fs::read(Path::new(TEMPLATES).join(template)).expect("template");
            let truncated = dir.path().join(format!("truncated-{template}"));
            std::fs::write(&truncated, &bytes[..keep]).expect("write");
            let err = read_track(&truncated, None, &opts).expect_err(template);
            assert!(matches!(err, TagError::Corrupt(_)), "{template}: {err}");
            assert!(
                err.to_string().starts_with("truncated or corrupt: "),
                "{err}"
            );
        }
    }

    #[test]
    fn every_truncation_of_every_template_is_handled_without_panicking() {
        let dir = tempfile::tempdir().expect("temp dir");
        let opts = TagOptions::default();
        for entry in std::fs::read_dir(TEMPLATES).expect("templates") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if !name.starts_with("tone") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("template");
            let cut = dir.path().join(&name);
            let mut keep = 1;
            while keep < bytes.len() {
                std::fs::write(&cut, &bytes[..keep]).expect("write");
                let result = read_track(&cut, None, &opts);
                assert!(
                    !matches!(result, Err(TagError::Panicked)),
                    "{name} cut at {keep}"
                );
                keep = keep * 3 / 2 + 1;
            }
        }
    }

    // --- embedded pictures ------------------------------------------------------------------

    #[test]
    fn embedded_picture_in_id3v2() {
        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        save_id3v2(&mp3, vec![text_frame("TIT2", "No art")]);
        assert!(!read(&mp3).has_embedded_art);

        let apic = || Frame::Picture(AttachedPictureFrame::new(TextEncoding::UTF8, cover()));
        save_id3v2(&mp3, vec![text_frame("TIT2", "Art"), apic()]);
        let meta = read(&mp3);
        assert!(meta.has_embedded_art);
        assert_eq!(meta.title, "Art");

        // ID3v2.3 as well.
        let mut tag = Id3v2Tag::new();
        tag.insert(text_frame("TIT2", "v2.3"));
        tag.insert(apic());
        tag.save_to_path(&mp3, WriteOptions::new().use_id3v23(true))
            .expect("write v2.3");
        assert!(has_embedded_picture(&mp3, FileType::Mpeg));

        // WAV "id3 " and AIFF "ID3 " chunks.
        for (template, file_type) in [("tone.wav", FileType::Wav), ("tone.aiff", FileType::Aiff)] {
            let (_d, path) = fixture(template, template);
            save_id3v2(&path, vec![text_frame("TIT2", "x")]);
            assert!(!has_embedded_picture(&path, file_type), "{template}");
            save_id3v2(&path, vec![text_frame("TIT2", "x"), apic()]);
            assert!(has_embedded_picture(&path, file_type), "{template}");
            assert!(read(&path).has_embedded_art, "{template}");
        }
    }

    #[test]
    fn embedded_picture_in_flac_and_ogg() {
        for template in ["tone.flac", "tone.ogg", "tone.opus", "tone.spx"] {
            let (_d, path) = fixture(template, template);
            save_vorbis(&path, &[("TITLE", "No art")]);
            assert!(!read(&path).has_embedded_art, "{template}");

            let mut tag = VorbisComments::new();
            tag.push("TITLE".to_owned(), "Art".to_owned());
            tag.insert_picture(cover(), None).expect("picture");
            tag.save_to_path(&path, WriteOptions::default())
                .expect("write Vorbis comments");
            let meta = read(&path);
            assert!(meta.has_embedded_art, "{template}");
            assert_eq!(meta.title, "Art", "{template}");
        }
    }

    #[test]
    fn embedded_picture_in_mp4() {
        let (_d, m4a) = fixture("tone.m4a", "a.m4a");
        let mut ilst = Ilst::new();
        ilst.set_title("No art".to_owned());
        ilst.save_to_path(&m4a, WriteOptions::default())
            .expect("write ilst");
        assert!(!read(&m4a).has_embedded_art);

        ilst.insert_picture(cover());
        ilst.save_to_path(&m4a, WriteOptions::default())
            .expect("write ilst");
        let meta = read(&m4a);
        assert!(meta.has_embedded_art);
        assert_eq!(meta.title, "No art");
    }

    #[test]
    fn embedded_picture_in_ape_tags() {
        for template in ["tone.wv", "tone.mp3", "tone.ape"] {
            let (_d, path) = fixture(template, template);
            save_ape(&path, &[("Title", "No art")]);
            assert!(!read(&path).has_embedded_art, "{template}");

            let mut tag = ApeTag::new();
            tag.insert(
                ApeItem::new("Title".to_owned(), ItemValue::Text("Art".to_owned())).expect("item"),
            );
            let mut value = b"cover.jpg\0".to_vec();
            value.extend_from_slice(cover().data());
            tag.insert(
                ApeItem::new("Cover Art (Front)".to_owned(), ItemValue::Binary(value))
                    .expect("item"),
            );
            tag.save_to_path(&path, WriteOptions::default())
                .expect("write APE");
            let meta = read(&path);
            assert!(meta.has_embedded_art, "{template}");
            assert_eq!(meta.title, "Art", "{template}");
        }

        // An APE tag before an ID3v1 tag.
        let (_d, mp3) = fixture("tone.mp3", "b.mp3");
        let mut tag = ApeTag::new();
        let mut value = b"c.jpg\0".to_vec();
        value.extend_from_slice(cover().data());
        tag.insert(
            ApeItem::new("Cover Art (Back)".to_owned(), ItemValue::Binary(value)).expect("item"),
        );
        tag.save_to_path(&mp3, WriteOptions::default())
            .expect("write APE");
        let v1 = Id3v1Tag {
            title: Some("v1".to_owned()),
            ..Id3v1Tag::default()
        };
        v1.save_to_path(&mp3, WriteOptions::default())
            .expect("write ID3v1");
        assert!(has_embedded_picture(&mp3, FileType::Mpeg));
    }

    #[test]
    fn raw_tags_list_items_and_summarise_pictures() {
        let (_d, mp3) = fixture("tone.mp3", "a.mp3");
        save_id3v2(
            &mp3,
            vec![
                text_frame("TIT2", "Title"),
                txxx("REPLAYGAIN_TRACK_GAIN", "-1 dB"),
                Frame::Picture(AttachedPictureFrame::new(TextEncoding::UTF8, cover())),
            ],
        );
        let raw = read_raw_tags(&mp3).expect("raw");
        assert_eq!(raw.len(), 1);
        assert_eq!(raw[0].tag_type, "ID3v2.4");
        let items = &raw[0].items;
        assert!(
            items.contains(&("TIT2".to_owned(), "Title".to_owned())),
            "{items:?}"
        );
        assert!(
            items.contains(&("TXXX:REPLAYGAIN_TRACK_GAIN".to_owned(), "-1 dB".to_owned())),
            "{items:?}"
        );
        let size = cover().data().len();
        assert!(
            items.contains(&(
                "APIC".to_owned(),
                format!("<picture: image/jpeg, {size} bytes>")
            )),
            "{items:?}"
        );

        let (_d, flac) = fixture("tone.flac", "a.flac");
        save_vorbis(&flac, &[("ARTIST", "A"), ("ARTIST", "B")]);
        let raw = read_raw_tags(&flac).expect("raw");
        assert_eq!(raw[0].tag_type, "Vorbis Comments");
        let artists: Vec<&str> = raw[0]
            .items
            .iter()
            .filter(|(k, _)| k == "ARTIST")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(artists, ["A", "B"]);
    }

    /// Prints the time per `read_track` on small tagged files; run with
    /// `cargo test --lib scanner::tags -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing report, not a check"]
    fn timing_report() {
        for template in ["tone.mp3", "tone.flac", "tone.m4a", "tone.ogg"] {
            let (_d, path) = fixture(template, template);
            match template {
                "tone.mp3" => save_id3v2(
                    &path,
                    vec![
                        text_frame("TIT2", "Title"),
                        text_frame("TPE1", "Artist"),
                        text_frame("TALB", "Album"),
                        text_frame("TRCK", "3/12"),
                        txxx("REPLAYGAIN_TRACK_GAIN", "-6 dB"),
                    ],
                ),
                "tone.m4a" => {
                    let mut ilst = Ilst::new();
                    ilst.set_title("Title".to_owned());
                    ilst.set_artist("Artist".to_owned());
                    ilst.set_album("Album".to_owned());
                    ilst.save_to_path(&path, WriteOptions::default())
                        .expect("write");
                }
                _ => save_vorbis(
                    &path,
                    &[
                        ("TITLE", "Title"),
                        ("ARTIST", "Artist"),
                        ("ALBUM", "Album"),
                        ("TRACKNUMBER", "3"),
                    ],
                ),
            }
            let opts = TagOptions::default();
            let n = 2000;
            let start = std::time::Instant::now();
            for _ in 0..n {
                std::hint::black_box(read_track(&path, None, &opts).expect("readable"));
            }
            let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
            println!("{template}: {per:.1} µs per read_track");
        }
    }
}
