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
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
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

use crate::scanner::embedded_art::has_embedded_picture;
use crate::scanner::meta::TrackMeta;

/// The artist name used when a file names no artist at all.
pub const UNKNOWN_ARTIST: &str = "Unknown Artist";
/// The album artist assumed for compilations that name none.
pub const VARIOUS_ARTISTS: &str = "Various Artists";
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
    let parsed = open_and_parse(path, false)?;

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
    meta.has_embedded_art = has_embedded_picture(path, parsed.file_type);
    Ok(meta)
}

/// Reads every tag in the file at `path` with every item as text, for `inspect`.
///
/// Unlike [`read_track`] this loads pictures (to summarise them) and applies no mapping.
pub fn read_raw_tags(path: &Path) -> Result<Vec<RawTag>, TagError> {
    let parsed = open_and_parse(path, true)?;
    Ok(parsed.tags.iter().map(OwnedTag::raw).collect())
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

/// Whether a folder name denotes one disc of a multi-disc album ("Disc 1", "CD2", "disk-03",
/// "CD 2 - Bonus"), case-insensitively. The album name then comes from the folder above.
pub fn is_disc_folder_name(name: &str) -> bool {
    let name = name.trim();
    let lower = name.as_bytes();
    let prefix_len = ["disc", "disk", "cd"]
        .iter()
        .find(|p| lower.len() >= p.len() && lower[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
        .map(|p| p.len());
    let Some(mut i) = prefix_len else {
        return false;
    };
    while i < lower.len() && matches!(lower[i], b' ' | b'_' | b'-' | b'.' | b'#') {
        i += 1;
    }
    let digits_start = i;
    while i < lower.len() && lower[i].is_ascii_digit() {
        i += 1;
    }
    let digits = i - digits_start;
    if !(1..=3).contains(&digits) {
        return false;
    }
    // Anything may follow the number as long as it is not glued on ("CD2 (Bonus)" is a disc,
    // "CD2000s" is not).
    i == lower.len() || !lower[i].is_ascii_alphanumeric()
}

fn is_stripped_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

// ---------------------------------------------------------------------------------------------
// opening and parsing

/// A parsed file: its type, properties, codec name and tags in merge priority order.
struct Parsed {
    file_type: FileType,
    properties: FileProperties,
    codec: &'static str,
    tags: Vec<OwnedTag>,
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
}

fn open_and_parse(path: &Path, read_cover_art: bool) -> Result<Parsed, TagError> {
    let file = File::open(path).map_err(TagError::Open)?;
    let md = file.metadata().map_err(TagError::Open)?;
    if md.is_dir() {
        return Err(TagError::Open(io::Error::from(io::ErrorKind::IsADirectory)));
    }
    if md.len() == 0 {
        return Err(TagError::Empty);
    }
    let mut reader = BufReader::new(file);
    // Frame-sync sniffing mistakes some images for MPEG audio (a JPEG starts FF D8 FF E0):
    // reject well-known non-audio signatures up front.
    if is_known_non_audio(reader.fill_buf().map_err(TagError::Open)?) {
        return Err(TagError::NotAudio);
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
        Ok(Ok(parsed)) => Ok(parsed),
        Ok(Err(_)) if sniffed.is_none() => Err(TagError::NotAudio),
        Ok(Err(e)) => Err(TagError::Corrupt(describe_error(&e))),
    }
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
            (f.properties().clone().into(), codec)
        }
        FileType::Aac => {
            let mut f = AacFile::read_from(r, options)?;
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            tags.extend(f.remove_id3v1().map(OwnedTag::Id3v1));
            (f.properties().clone().into(), "AAC")
        }
        FileType::Flac => {
            let mut f = FlacFile::read_from(r, options)?;
            let pictures = f.pictures().iter().map(|(p, _)| p.clone()).collect();
            tags.extend(
                f.remove_vorbis_comments()
                    .map(|v| OwnedTag::Vorbis(v, pictures)),
            );
            tags.extend(f.remove_id3v2().map(OwnedTag::Id3v2));
            (f.properties().clone().into(), "FLAC")
        }
        FileType::Vorbis => {
            let mut f = VorbisFile::read_from(r, options)?;
            tags.push(vorbis_tag(f.remove_vorbis_comments()));
            (f.properties().clone().into(), "Vorbis")
        }
        FileType::Opus => {
            let mut f = OpusFile::read_from(r, options)?;
            tags.push(vorbis_tag(f.remove_vorbis_comments()));
            (f.properties().clone().into(), "Opus")
        }
        FileType::Speex => {
            let mut f = SpeexFile::read_from(r, options)?;
            tags.push(vorbis_tag(f.remove_vorbis_comments()));
            (f.properties().clone().into(), "Speex")
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
            (f.properties().clone().into(), codec)
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
            (f.properties().clone().into(), "WavPack")
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

fn read_sidecar(path: &Path) -> Option<String> {
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

