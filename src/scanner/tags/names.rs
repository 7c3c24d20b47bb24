//! What a tag item means, whatever the format: the neutral [`Field`] list and one table of the
//! names each format stores a field under (as music taggers such as MusicBrainz Picard keep
//! it). Adding a field is one enum variant and one row here.

use std::collections::HashMap;
use std::sync::LazyLock;

/// What a tag item means, independent of the tag format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Field {
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
    /// Only from ID3 SYLT frames, LRC-formatted lyrics and sidecar files: no key of its own.
    SyncedLyrics,
}

pub(super) const FIELD_COUNT: usize = Field::SyncedLyrics as usize + 1;

/// The names one field is stored under in each format.
struct FieldNames {
    field: Field,
    /// ID3v2.4 text and timestamp frames (lofty upgrades v2.2/v2.3 ids to these).
    id3: &'static [&'static str],
    /// Vorbis comment, APE item, ID3 `TXXX` description and MP4 freeform (`----`) names,
    /// written upper-case without spaces, underscores or hyphens (how they are compared).
    text: &'static [&'static str],
    /// MP4 `ilst` atoms.
    mp4: &'static [&'static [u8; 4]],
    /// ASF attributes (names not listed outside `WM/` are looked up in `text`).
    asf: &'static [&'static str],
    /// RIFF INFO chunk ids.
    riff: &'static [&'static str],
}

const fn names(
    field: Field,
    id3: &'static [&'static str],
    text: &'static [&'static str],
    mp4: &'static [&'static [u8; 4]],
    asf: &'static [&'static str],
    riff: &'static [&'static str],
) -> FieldNames {
    FieldNames {
        field,
        id3,
        text,
        mp4,
        asf,
        riff,
    }
}

use Field::*;

#[rustfmt::skip]
const TABLE: &[FieldNames] = &[
    //    field            ID3v2 frames      Vorbis/APE/TXXX/freeform                 MP4 atoms     ASF attributes          RIFF INFO
    names(Title,           &["TIT2"],         &["TITLE"],                               &[b"\xa9nam"], &["Title"],             &["INAM"]),
    names(SortTitle,       &["TSOT"],         &["TITLESORT", "SORTTITLE"],              &[b"sonm"],    &["WM/TitleSortOrder"], &[]),
    names(Album,           &["TALB"],         &["ALBUM"],                               &[b"\xa9alb"], &["WM/AlbumTitle"],     &["IPRD"]),
    names(SortAlbum,       &["TSOA"],         &["ALBUMSORT", "SORTALBUM"],              &[b"soal"],    &["WM/AlbumSortOrder"], &[]),
    names(Artist,          &["TPE1"],         &["ARTIST"],                              &[b"\xa9ART"], &["Author"],            &["IART"]),
    names(Artists,         &[],               &["ARTISTS"],                             &[],           &["WM/ARTISTS"],        &[]),
    names(ArtistSort,      &["TSOP"],         &["ARTISTSORT", "SORTARTIST"],            &[b"soar"],    &["WM/ArtistSortOrder"], &[]),
    names(AlbumArtist,     &["TPE2"],         &["ALBUMARTIST"],                         &[b"aART"],    &["WM/AlbumArtist"],    &[]),
    names(AlbumArtists,    &[],               &["ALBUMARTISTS"],                        &[],           &[],                    &[]),
    names(AlbumArtistSort, &["TSO2"],         &["ALBUMARTISTSORT", "SORTALBUMARTIST"],  &[b"soaa"],    &["WM/AlbumArtistSortOrder"], &[]),
    names(Composer,        &["TCOM"],         &["COMPOSER"],                            &[b"\xa9wrt"], &["WM/Composer"],       &["IMUS", "IWRI"]),
    names(Genre,           &["TCON"],         &["GENRE"],                               &[b"\xa9gen"], &["WM/Genre"],          &["IGNR"]),
    names(Track,           &["TRCK"],         &["TRACKNUMBER", "TRACK"],                &[b"trkn"],    &["WM/TrackNumber"],    &["ITRK", "IPRT"]),
    names(TrackTotal,      &[],               &["TRACKTOTAL", "TOTALTRACKS", "TRACKC"], &[],           &[],                    &["IFRM"]),
    names(Disc,            &["TPOS"],         &["DISCNUMBER", "DISC", "DISKNUMBER"],    &[b"disk"],    &["WM/PartOfSet"],      &[]),
    names(DiscTotal,       &[],               &["DISCTOTAL", "TOTALDISCS", "DISCC", "DISKTOTAL"], &[], &[],                    &[]),
    names(DiscSubtitle,    &["TSST"],         &["DISCSUBTITLE", "SETSUBTITLE"],         &[],           &["WM/SetSubTitle"],    &[]),
    // Timestamps normally arrive as timestamp frames; text forms appear when invalid.
    names(Date,            &["TDRC", "TYER"], &["DATE"],                                &[b"\xa9day"], &[],                    &["ICRD"]),
    names(Year,            &[],               &["YEAR"],                                &[],           &["WM/Year"],           &[]),
    names(ReleaseDate,     &["TDRL"],         &["RELEASEDATE"],                         &[],           &[],                    &[]),
    names(OriginalDate,    &["TDOR", "TORY"], &["ORIGINALDATE", "ORIGINALYEAR", "ORIGINALRELEASEDATE"], &[], &["WM/OriginalReleaseYear", "WM/OriginalReleaseTime"], &[]),
    names(Comment,         &[],               &["COMMENT"],                             &[b"\xa9cmt"], &["Description"],       &["ICMT"]),
    names(Description,     &[],               &["DESCRIPTION"],                         &[],           &[],                    &[]),
    names(Bpm,             &["TBPM"],         &["BPM"],                                 &[b"tmpo"],    &["WM/BeatsPerMinute"], &[]),
    names(Isrc,            &["TSRC"],         &["ISRC"],                                &[],           &["WM/ISRC"],           &[]),
    names(Compilation,     &["TCMP"],         &["COMPILATION", "ITUNESCOMPILATION"],    &[b"cpil"],    &["WM/IsCompilation"],  &[]),
    names(ReleaseType,     &[],               &["RELEASETYPE", "MUSICBRAINZALBUMTYPE"], &[],           &[],                    &[]),
    names(Label,           &["TPUB"],         &["LABEL", "ORGANIZATION", "PUBLISHER"],  &[],           &["WM/Publisher"],      &[]),
    names(Grouping,        &["TIT1"],         &["GROUPING"],                            &[b"\xa9grp"], &["WM/ContentGroupDescription"], &[]),
    names(AppleGrouping,   &["GRP1"],         &[],                                      &[],           &[],                    &[]),
    names(Mood,            &["TMOO"],         &["MOOD"],                                &[],           &["WM/Mood"],           &[]),
    names(MbRecording,     &[],               &["MUSICBRAINZTRACKID", "MUSICBRAINZRECORDINGID"], &[], &[],                     &[]),
    names(MbTrack,         &[],               &["MUSICBRAINZRELEASETRACKID"],           &[],           &[],                    &[]),
    names(MbRelease,       &[],               &["MUSICBRAINZALBUMID", "MUSICBRAINZRELEASEID"], &[],   &[],                     &[]),
    names(MbReleaseGroup,  &[],               &["MUSICBRAINZRELEASEGROUPID"],           &[],           &[],                    &[]),
    names(MbArtist,        &[],               &["MUSICBRAINZARTISTID"],                 &[],           &[],                    &[]),
    names(MbAlbumArtist,   &[],               &["MUSICBRAINZALBUMARTISTID", "MUSICBRAINZRELEASEARTISTID"], &[], &[],           &[]),
    names(RgTrackGain,     &[],               &["REPLAYGAINTRACKGAIN"],                 &[],           &[],                    &[]),
    names(RgTrackPeak,     &[],               &["REPLAYGAINTRACKPEAK"],                 &[],           &[],                    &[]),
    names(RgAlbumGain,     &[],               &["REPLAYGAINALBUMGAIN"],                 &[],           &[],                    &[]),
    names(RgAlbumPeak,     &[],               &["REPLAYGAINALBUMPEAK"],                 &[],           &[],                    &[]),
    names(R128TrackGain,   &[],               &["R128TRACKGAIN"],                       &[],           &[],                    &[]),
    names(R128AlbumGain,   &[],               &["R128ALBUMGAIN"],                       &[],           &[],                    &[]),
    names(Lyrics,          &[],               &["LYRICS", "UNSYNCEDLYRICS"],            &[b"\xa9lyr"], &["WM/Lyrics"],         &[]),
];

/// The table turned into one lookup map per format, built on first use.
struct Index {
    id3: HashMap<&'static str, Field>,
    text: HashMap<&'static [u8], Field>,
    mp4: HashMap<[u8; 4], Field>,
    asf: HashMap<&'static str, Field>,
    riff: HashMap<&'static str, Field>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let mut index = Index {
        id3: HashMap::new(),
        text: HashMap::new(),
        mp4: HashMap::new(),
        asf: HashMap::new(),
        riff: HashMap::new(),
    };
    for row in TABLE {
        let f = row.field;
        index.id3.extend(row.id3.iter().map(|&k| (k, f)));
        index
            .text
            .extend(row.text.iter().map(|k| (k.as_bytes(), f)));
        index.mp4.extend(row.mp4.iter().map(|&&k| (k, f)));
        index.asf.extend(row.asf.iter().map(|&k| (k, f)));
        index.riff.extend(row.riff.iter().map(|&k| (k, f)));
    }
    index
});

/// Maps a textual key (Vorbis comment, APE item, ID3 TXXX description, MP4 freeform name) to a
/// field. Case, spaces, underscores and hyphens are ignored, so "MusicBrainz Track Id" and
/// "MUSICBRAINZ_TRACKID" are the same key.
pub(super) fn field_from_name(key: &str) -> Option<Field> {
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
    INDEX.text.get(&buf[..n]).copied()
}

/// ID3v2 text and timestamp frames.
pub(super) fn id3_frame_field(id: &str) -> Option<Field> {
    INDEX.id3.get(id).copied()
}

/// MP4 `ilst` four-character atoms.
pub(super) fn mp4_fourcc_field(fourcc: &[u8; 4]) -> Option<Field> {
    INDEX.mp4.get(fourcc).copied()
}

/// RIFF INFO chunk ids.
pub(super) fn riff_field(id: &str) -> Option<Field> {
    INDEX.riff.get(id).copied()
}

/// ASF attribute names: the content description's fields, `WM/...` names, and the
/// `MusicBrainz/...` and `REPLAYGAIN_...` names MusicBrainz Picard and foobar2000 write.
pub(super) fn asf_field(name: &str) -> Option<Field> {
    if let Some(field) = INDEX.asf.get(name) {
        return Some(*field);
    }
    if name.starts_with("WM/") {
        return None;
    }
    // "MusicBrainz/Track Id" reads as "MusicBrainz Track Id".
    field_from_name(&name.replace('/', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_name_means_two_fields() {
        let mut seen = std::collections::HashSet::new();
        for row in TABLE {
            let columns: [(&str, Vec<Vec<u8>>); 5] = [
                (
                    "id3",
                    row.id3.iter().map(|k| k.as_bytes().to_vec()).collect(),
                ),
                (
                    "text",
                    row.text.iter().map(|k| k.as_bytes().to_vec()).collect(),
                ),
                ("mp4", row.mp4.iter().map(|k| k.to_vec()).collect()),
                (
                    "asf",
                    row.asf.iter().map(|k| k.as_bytes().to_vec()).collect(),
                ),
                (
                    "riff",
                    row.riff.iter().map(|k| k.as_bytes().to_vec()).collect(),
                ),
            ];
            for (column, keys) in columns {
                for key in keys {
                    assert!(seen.insert((column, key.clone())), "{column} {key:?} twice");
                }
            }
        }
    }

    #[test]
    fn text_names_are_written_as_they_are_compared() {
        for row in TABLE {
            for name in row.text {
                assert!(
                    name.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn every_field_but_synced_lyrics_has_a_row() {
        assert_eq!(TABLE.len(), FIELD_COUNT - 1);
        for (i, row) in TABLE.iter().enumerate() {
            assert_eq!(row.field as usize, i, "{:?} out of enum order", row.field);
        }
    }

    #[test]
    fn lookups_per_format() {
        assert_eq!(field_from_name("MusicBrainz Track Id"), Some(MbRecording));
        assert_eq!(field_from_name("musicbrainz_trackid"), Some(MbRecording));
        assert_eq!(field_from_name("replaygain-album-gain"), Some(RgAlbumGain));
        assert_eq!(field_from_name("NOT A FIELD"), None);
        assert_eq!(id3_frame_field("TDOR"), Some(OriginalDate));
        assert_eq!(mp4_fourcc_field(b"\xa9ART"), Some(Artist));
        assert_eq!(riff_field("IWRI"), Some(Composer));
        assert_eq!(asf_field("WM/AlbumArtist"), Some(AlbumArtist));
        assert_eq!(asf_field("MusicBrainz/Album Id"), Some(MbRelease));
        assert_eq!(asf_field("WM/Track"), None);
        assert_eq!(asf_field("Copyright"), None);
    }
}
