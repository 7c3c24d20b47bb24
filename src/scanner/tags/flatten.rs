//! Per-format flattening: each tag becomes `(Field, value)` pairs through the names table, and
//! the tags of a file are merged field by field (the first tag that has a field gives all of it).

use std::borrow::Cow;

use lofty::id3::v1::{GENRES, Id3v1Tag};
use lofty::id3::v2::{Frame, Id3v2Tag};
use lofty::mp4::{AtomData, AtomIdent, Ilst};

use super::lyrics::sylt_to_lrc;
use super::names::{
    FIELD_COUNT, Field, asf_field, field_from_name, id3_frame_field, mp4_fourcc_field, riff_field,
};
use super::open::OwnedTag;
use super::values::clean_text;

/// The `(field, value)` pairs of one tag, in file order. Values are raw (not yet cleaned).
pub(super) type Bag<'a> = Vec<(Field, Cow<'a, str>)>;

/// Values of all tags merged: each field comes wholly from the first tag that has it.
pub(super) struct Merged<'a> {
    pub(super) items: Vec<(Field, Cow<'a, str>)>,
}

impl<'a> Merged<'a> {
    pub(super) fn new(bags: Vec<Bag<'a>>) -> Self {
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

    pub(super) fn all(&self, field: Field) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .filter(move |(f, _)| *f == field)
            .map(|(_, v)| v.as_ref())
    }

    /// The first value of `field` that is non-empty after cleaning.
    pub(super) fn first(&self, field: Field) -> Option<String> {
        self.all(field).find_map(clean_text)
    }

    /// All cleaned, non-empty values of `field`, deduplicated, in order.
    pub(super) fn cleaned(&self, field: Field) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in self.all(field).filter_map(clean_text) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}

pub(super) fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c.is_control())
}

/// The MusicBrainz owner of ID3 UFID frames holding the recording id.
pub(super) const MUSICBRAINZ_UFID_OWNER: &str = "http://musicbrainz.org";

pub(super) fn flatten_id3v2<'a>(tag: &'a Id3v2Tag, bag: &mut Bag<'a>) {
    for frame in tag {
        match frame {
            Frame::Text(f) => {
                if let Some(field) = id3_frame_field(f.id().as_str()) {
                    bag.extend(f.value.split('\0').map(|v| (field, Cow::Borrowed(v))));
                }
            }
            Frame::UserText(f) => {
                if let Some(field) = field_from_name(&f.description) {
                    bag.extend(f.content.split('\0').map(|v| (field, Cow::Borrowed(v))));
                }
            }
            Frame::Timestamp(f) => {
                let Some(field) = id3_frame_field(f.id().as_str()) else {
                    continue;
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

pub(super) fn flatten_asf<'a>(items: &'a [(String, String)], bag: &mut Bag<'a>) {
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

pub(super) fn flatten_id3v1<'a>(tag: &'a Id3v1Tag, bag: &mut Bag<'a>) {
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

pub(super) fn flatten_ilst<'a>(tag: &'a Ilst, bag: &mut Bag<'a>) {
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
pub(super) fn pair_from_mp4(data: &[u8]) -> Option<(u16, u16)> {
    if data.len() < 6 {
        return None;
    }
    Some((
        u16::from_be_bytes([data[2], data[3]]),
        u16::from_be_bytes([data[4], data[5]]),
    ))
}

impl OwnedTag {
    /// Appends this tag's mapped items to `bag`.
    pub(super) fn flatten<'a>(&'a self, bag: &mut Bag<'a>) {
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
}
