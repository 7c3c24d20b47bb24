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
//!
//! The steps, one file each: `open` (sniff and parse), `names` (the one table of tag names per
//! field and format), `flatten` (per-format flattening and merging), `fill` (merged fields into
//! a `TrackMeta`), `values` (parsing numbers, dates, gains, names), `lyrics` (LRC, SYLT,
//! sidecars) and `inspect` (the raw dump).

use std::io;
use std::path::Path;

use lofty::file::FileType;
use lofty::id3::v2::Frame;

use crate::scanner::embedded_art::has_embedded_picture_in;
use crate::scanner::meta::TrackMeta;

mod fill;
mod flatten;
mod inspect;
mod lyrics;
mod names;
mod open;
#[cfg(test)]
mod tests;
mod values;

use fill::{fill_fallbacks, fill_from_tags, fill_properties};
use flatten::{Bag, Merged};
use lyrics::read_sidecar;
use open::{OwnedTag, content_type_for, open_and_parse, suffix_of};
pub use values::{clean_text, is_disc_folder_name};

/// The artist name used when a file names no artist at all.
pub const UNKNOWN_ARTIST: &str = "Unknown Artist";

/// The album artist assumed for compilations that name none.
pub use crate::names::VARIOUS_ARTISTS;

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

    let mut meta = TrackMeta::default();
    meta.audio.suffix = suffix_of(path);
    meta.audio.codec = parsed.codec.to_owned();
    meta.audio.content_type = content_type_for(&meta.audio.suffix, parsed.file_type).to_owned();
    fill_properties(&mut meta, &parsed.properties);
    fill_from_tags(&mut meta, &merged, opts);
    fill_fallbacks(&mut meta, path);

    if meta.attachments.synced_lyrics.is_none()
        && let Some(lrc) = sidecar_lrc
    {
        meta.attachments.synced_lyrics = read_sidecar(lrc);
    }
    meta.attachments.has_embedded_art = match parsed.has_picture {
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
