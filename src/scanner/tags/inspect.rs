//! The raw rendering of every tag item for `inspect` (no mapping applied).

use lofty::id3::v1::GENRES;
use lofty::id3::v2::{Frame, Id3v2Tag, Id3v2Version};
use lofty::mp4::{AtomData, AtomIdent};
use lofty::picture::Picture;
use lofty::tag::ItemValue;

use crate::scanner::asf;

use super::RawTag;
use super::flatten::pair_from_mp4;
use super::lyrics::sylt_to_lrc;
use super::open::OwnedTag;

pub(super) fn raw_id3v2(tag: &Id3v2Tag, items: &mut Vec<(String, String)>) {
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

pub(super) fn picture_summary(p: &Picture) -> String {
    let mime = p.mime_type().map_or_else(
        || sniff_mime(p.data()).to_owned(),
        |m| m.as_str().to_owned(),
    );
    format!("<picture: {mime}, {} bytes>", p.data().len())
}

pub(super) fn sniff_mime(data: &[u8]) -> &'static str {
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

impl OwnedTag {
    /// Every item as text, for `inspect`.
    pub(super) fn raw(&self) -> RawTag {
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
