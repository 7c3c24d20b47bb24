//! Reading real files end to end: every format, field and fallback of the tag layer.

use super::flatten::*;
use super::lyrics::*;
use super::open::*;
use super::*;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

use lofty::ape::ApeTag;
use lofty::file::FileType;
use lofty::id3::v1::Id3v1Tag;
use lofty::id3::v2::{Frame, Id3v2Tag, SynchronizedTextFrame, TimestampFormat};
use lofty::iff::aiff::AiffTextChunks;
use lofty::iff::wav::RiffInfoList;
use lofty::mp4::{AtomData, AtomIdent, Ilst};
use lofty::ogg::OggPictureStorage;
use lofty::ogg::tag::VorbisComments;
use lofty::picture::Picture;
use lofty::tag::ItemValue;

use crate::scanner::asf;
use crate::scanner::dsd;
use crate::scanner::embedded_art::has_embedded_picture;
use crate::scanner::meta::TrackMeta;

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
        assert_eq!(meta.audio.suffix, suffix, "{file}");
        assert_eq!(meta.audio.codec, codec, "{file}");
        assert_eq!(meta.audio.content_type, content_type, "{file}");
        assert_eq!(meta.audio.sample_rate, Some(rate), "{file}");
        assert_eq!(meta.audio.channels, Some(channels), "{file}");
        assert!(
            (meta.audio.duration_ms - length_ms).abs() <= 50,
            "{file}: duration {} ms, expected about {length_ms} ms",
            meta.audio.duration_ms
        );
        assert!(meta.audio.bitrate.is_some_and(|b| b > 0), "{file}: bitrate");
        assert!(
            !meta.attachments.has_embedded_art,
            "{file}: templates carry no art"
        );
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
            read(&Path::new(TEMPLATES).join(file)).audio.bit_depth,
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
        (meta.audio.suffix.as_str(), meta.audio.codec.as_str()),
        ("flac", "FLAC")
    );

    // A FLAC stream misnamed .mp3 is still read as FLAC (content sniffing).
    let (_d, misnamed) = fixture("tone.flac", "oops.mp3");
    let meta = read(&misnamed);
    assert_eq!(meta.audio.codec, "FLAC");
    assert_eq!(meta.audio.suffix, "mp3");
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
    assert_eq!(meta.tags.artist_display, "Alpha / Beta");
    assert_eq!(meta.album_artists, strings(&["Gamma", "Delta"]));
    assert_eq!(
        meta.tags.album_artist_display.as_deref(),
        Some("Gamma / Delta")
    );
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
    assert_eq!(meta.tags.artist_display, "Alpha / Beta");
    assert_eq!(meta.album_artists, strings(&["Alpha"]));
    assert_eq!(meta.tags.album_artist_display.as_deref(), Some("Alpha"));
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
    assert_eq!(meta.tags.artist_display, "Alpha feat. Beta & Gamma");
    assert_eq!(meta.album_artists, strings(&["Alpha", "Friends"]));
    assert_eq!(
        meta.tags.album_artist_display.as_deref(),
        Some("Alpha & Friends")
    );
}

#[test]
fn id3_artists_txxx_without_display_string_is_joined_for_display() {
    let (_d, path) = fixture("tone.mp3", "a.mp3");
    save_id3v2(&path, vec![txxx("ARTISTS", "Alpha\0Beta")]);
    let meta = read(&path);
    assert_eq!(meta.artists, strings(&["Alpha", "Beta"]));
    assert_eq!(meta.tags.artist_display, "Alpha / Beta");
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
        meta.tags.artist_display,
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
    assert_eq!(meta.tags.artist_display, "Alpha / Beta");
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
    assert!(meta.tags.compilation);
    assert_eq!(meta.album_artists, strings(&[VARIOUS_ARTISTS]));
    assert_eq!(
        meta.tags.album_artist_display.as_deref(),
        Some(VARIOUS_ARTISTS)
    );

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
    assert!(meta.tags.compilation);
    assert_eq!(meta.album_artists, strings(&[VARIOUS_ARTISTS]));

    let (_d, flac) = fixture("tone.flac", "a.flac");
    save_vorbis(&flac, &[("COMPILATION", "0"), ("ARTIST", "Alpha")]);
    let meta = read(&flac);
    assert!(!meta.tags.compilation);
    assert!(meta.album_artists.is_empty());
    assert_eq!(meta.tags.album_artist_display, None);
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
            meta.tags.track_number,
            meta.tags.track_total,
            meta.tags.disc_number,
            meta.tags.disc_total
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
            meta.tags.track_number,
            meta.tags.track_total,
            meta.tags.disc_number,
            meta.tags.disc_total
        ),
        (Some(5), Some(14), Some(2), Some(3))
    );

    let (_d, ogg) = fixture("tone.ogg", "a.ogg");
    save_vorbis(&ogg, &[("TRACKNUMBER", "7/9"), ("TRACKTOTAL", "9")]);
    let meta = read(&ogg);
    assert_eq!(
        (meta.tags.track_number, meta.tags.track_total),
        (Some(7), Some(9))
    );

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
            meta.tags.track_number,
            meta.tags.track_total,
            meta.tags.disc_number,
            meta.tags.disc_total
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
        (
            meta.tags.track_number,
            meta.tags.track_total,
            meta.tags.disc_number
        ),
        (None, None, None)
    );
    assert_eq!(meta.tags.bpm, None);
    assert_eq!(meta.tags.year, None);
    assert_eq!(meta.tags.release_date, None);
    assert_eq!(meta.tags.rg_track_gain, None);
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
    assert_eq!(meta.tags.year, Some(1999));
    assert_eq!(meta.tags.release_date.as_deref(), Some("2001-05-06"));
    assert_eq!(meta.tags.original_date.as_deref(), Some("1970"));

    let (_d, ogg) = fixture("tone.ogg", "a.ogg");
    save_vorbis(&ogg, &[("YEAR", "1987"), ("ORIGINALYEAR", "1960")]);
    let meta = read(&ogg);
    assert_eq!(meta.tags.year, Some(1987));
    assert_eq!(meta.tags.release_date.as_deref(), Some("1987"));
    assert_eq!(meta.tags.original_date.as_deref(), Some("1960"));

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
    assert_eq!(meta.tags.year, Some(1999));
    assert_eq!(meta.tags.release_date.as_deref(), Some("1999-03-21"));
    assert_eq!(meta.tags.original_date.as_deref(), Some("1970-01"));

    // ID3v2.3 stores the year in TYER (and day/month in TDAT); lofty upgrades it on read.
    let mut tag = Id3v2Tag::new();
    tag.insert(text_frame("TYER", "1984"));
    tag.insert(text_frame("TDAT", "2103"));
    tag.save_to_path(&mp3, WriteOptions::new().use_id3v23(true))
        .expect("write v2.3");
    let meta = read(&mp3);
    assert_eq!(meta.tags.year, Some(1984));
    assert_eq!(meta.tags.release_date.as_deref(), Some("1984-03-21"));
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
    assert_eq!(meta.tags.title, "Old");

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
    assert_eq!(meta.tags.rg_track_gain, Some(-6.54));
    assert_eq!(meta.tags.rg_track_peak, Some(0.998));
    assert_eq!(meta.tags.rg_album_gain, Some(1.2));
    assert_eq!(meta.tags.rg_album_peak, Some(1.0));
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
    assert_eq!(meta.tags.rg_track_gain, Some(-3.1));
    assert_eq!(meta.tags.rg_album_gain, Some(-2.5));

    // Opus R128 gains are Q7.8 relative to -23 LUFS; ReplayGain's reference is 5 dB louder.
    let (_d, opus) = fixture("tone.opus", "a.opus");
    save_vorbis(&opus, &[("R128_TRACK_GAIN", "-512")]);
    assert_eq!(read(&opus).tags.rg_track_gain, Some(3.0));
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
    assert_eq!(meta.tags.rg_track_gain, Some(-7.25));
    assert_eq!(meta.tags.rg_track_peak, Some(0.5));
    assert_eq!(meta.tags.rg_album_gain, Some(-8.0));
    assert_eq!(meta.audio.codec, "ALAC");
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
    assert_eq!(meta.tags.title, "Ape Title");
    assert_eq!(meta.artists, strings(&["Alpha", "Beta"]));
    assert_eq!(meta.album_artists, strings(&["Alpha"]));
    assert_eq!(
        (meta.tags.track_number, meta.tags.track_total),
        (Some(2), Some(9))
    );
    assert_eq!(meta.tags.year, Some(2003));
    assert_eq!(meta.tags.release_date.as_deref(), Some("2003-04-05"));
    assert_eq!(meta.tags.rg_track_gain, Some(-4.0));
    assert_eq!(meta.tags.mb_recording_id.as_deref(), Some("rec-id"));
    assert_eq!(meta.tags.release_type.as_deref(), Some("album"));
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
    assert_eq!(meta.tags.title, "Title");
    assert_eq!(meta.tags.album_name, "Album");
    assert_eq!(meta.tags.sort_title.as_deref(), Some("Title, The"));
    assert_eq!(meta.sort_album.as_deref(), Some("Album, The"));
    assert_eq!(meta.artist_sort.as_deref(), Some("Artist, The"));
    assert_eq!(meta.album_artist_sort.as_deref(), Some("Album Artist, The"));
    assert_eq!(meta.tags.disc_subtitle.as_deref(), Some("The Early Years"));
    assert_eq!(meta.tags.bpm, Some(128));
    assert_eq!(meta.tags.isrc.as_deref(), Some("USRC17607839"));
    assert_eq!(meta.tags.label.as_deref(), Some("Label Records"));
    assert_eq!(meta.tags.grouping.as_deref(), Some("Grouped"));
    assert_eq!(meta.tags.mood.as_deref(), Some("Calm"));
    assert_eq!(meta.tags.comment.as_deref(), Some("A real comment"));
    assert_eq!(meta.tags.mb_recording_id.as_deref(), Some("recording-uuid"));
    assert_eq!(meta.tags.mb_track_id.as_deref(), Some("track-uuid"));
    assert_eq!(meta.tags.mb_release_id.as_deref(), Some("release-uuid"));
    assert_eq!(meta.tags.mb_release_group_id.as_deref(), Some("group-uuid"));
    assert_eq!(meta.tags.mb_artist_id.as_deref(), Some("artist-uuid"));
    assert_eq!(
        meta.tags.mb_album_artist_id.as_deref(),
        Some("album-artist-uuid")
    );
    assert_eq!(meta.tags.release_type.as_deref(), Some("album; live"));
    assert!(!meta.tags.compilation);
}

#[test]
fn id3_txxx_musicbrainz_track_id_is_the_recording() {
    let (_d, mp3) = fixture("tone.mp3", "a.mp3");
    save_id3v2(&mp3, vec![txxx("MusicBrainz Track Id", "recording-uuid")]);
    let meta = read(&mp3);
    assert_eq!(meta.tags.mb_recording_id.as_deref(), Some("recording-uuid"));
    assert_eq!(meta.tags.mb_track_id, None);
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
    assert_eq!(meta.tags.sort_title.as_deref(), Some("Title, The"));
    assert_eq!(meta.sort_album.as_deref(), Some("Album, The"));
    assert_eq!(meta.artist_sort.as_deref(), Some("Artist, The"));
    assert_eq!(meta.album_artist_sort.as_deref(), Some("Album Artist, The"));
    assert_eq!(meta.tags.disc_subtitle.as_deref(), Some("Bonus"));
    assert_eq!(meta.tags.bpm, Some(121));
    assert_eq!(meta.tags.isrc.as_deref(), Some("GBAYE0601498"));
    assert_eq!(meta.tags.label.as_deref(), Some("Org Records"));
    assert_eq!(meta.tags.grouping.as_deref(), Some("Group"));
    assert_eq!(meta.tags.mood.as_deref(), Some("Happy"));
    assert_eq!(
        meta.tags.release_type.as_deref(),
        Some("album; compilation")
    );
    assert!(meta.tags.compilation);
    assert_eq!(meta.tags.comment.as_deref(), Some("Nice"));
    assert_eq!(meta.tags.mb_recording_id.as_deref(), Some("recording-uuid"));
    assert_eq!(meta.tags.mb_track_id.as_deref(), Some("track-uuid"));
    assert_eq!(meta.tags.mb_release_id.as_deref(), Some("release-uuid"));
    assert_eq!(meta.tags.mb_release_group_id.as_deref(), Some("group-uuid"));
    assert_eq!(meta.tags.mb_artist_id.as_deref(), Some("artist-uuid"));
    assert_eq!(
        meta.tags.mb_album_artist_id.as_deref(),
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
    assert_eq!(meta.tags.title, "Title");
    assert_eq!(meta.tags.sort_title.as_deref(), Some("Title, The"));
    assert_eq!(meta.artist_sort.as_deref(), Some("Artist, The"));
    assert_eq!(meta.tags.grouping.as_deref(), Some("Group"));
    assert_eq!(meta.tags.year, Some(2012));
    assert_eq!(meta.tags.release_date.as_deref(), Some("2012-10-01"));
    assert_eq!(meta.tags.bpm, Some(96));
    assert_eq!(meta.tags.mb_recording_id.as_deref(), Some("recording-uuid"));
    assert_eq!(meta.tags.label.as_deref(), Some("Label"));
    assert_eq!(meta.tags.disc_subtitle.as_deref(), Some("Live"));
    assert_eq!(meta.tags.original_date.as_deref(), Some("1980-02-03"));
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
    assert_eq!(meta.tags.title, "V2 Title");
    assert_eq!(meta.tags.album_name, "Ape Album");
    assert_eq!(meta.artists, strings(&["V1 Artist"]));
    assert_eq!(meta.tags.year, Some(1980));
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
    assert_eq!(meta.tags.title, "Riff Title");
    assert_eq!(meta.artists, strings(&["Riff Artist"]));
    assert_eq!(meta.tags.year, Some(2001));
    assert_eq!(meta.genres, strings(&["Ambient"]));

    save_id3v2(&wav, vec![text_frame("TIT2", "Id3 Title")]);
    let meta = read(&wav);
    assert_eq!(meta.tags.title, "Id3 Title");
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
    assert_eq!(meta.tags.title, "Aiff Name");
    assert_eq!(meta.artists, strings(&["Aiff Author"]));

    save_id3v2(&aiff, vec![text_frame("TPE1", "Id3 Artist")]);
    let meta = read(&aiff);
    assert_eq!(meta.tags.title, "Aiff Name");
    assert_eq!(meta.artists, strings(&["Id3 Artist"]));
}

#[test]
fn speex_mpc_and_ape_files_carry_tags() {
    let (_d, spx) = fixture("tone.spx", "a.spx");
    save_vorbis(&spx, &[("TITLE", "Speex Title")]);
    assert_eq!(read(&spx).tags.title, "Speex Title");

    for template in ["tone.mpc", "tone.ape"] {
        let (_d, path) = fixture(template, template);
        save_ape(&path, &[("Title", "Ape Title"), ("Genre", "Jazz")]);
        let meta = read(&path);
        assert_eq!(meta.tags.title, "Ape Title", "{template}");
        assert_eq!(meta.genres, strings(&["Jazz"]), "{template}");
    }

    let (_d, aac) = fixture("tone.aac", "a.aac");
    save_id3v2(&aac, vec![text_frame("TIT2", "Adts Title")]);
    let meta = read(&aac);
    assert_eq!(meta.tags.title, "Adts Title");
    assert_eq!(meta.audio.codec, "AAC");
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
    assert_eq!(meta.attachments.lyrics, None);
    assert_eq!(
        meta.attachments.synced_lyrics.as_deref(),
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
    assert_eq!(
        meta.attachments.lyrics.as_deref(),
        Some("[Chorus]\nPlain words")
    );
    assert_eq!(meta.attachments.synced_lyrics, None);

    let (_d, m4a) = fixture("tone.m4a", "a.m4a");
    let mut ilst = Ilst::new();
    ilst.insert(Atom::new(
        AtomIdent::Fourcc(*b"\xa9lyr"),
        AtomData::UTF8("Some lyrics".to_owned()),
    ));
    ilst.save_to_path(&m4a, WriteOptions::default())
        .expect("write ilst");
    assert_eq!(
        read(&m4a).attachments.lyrics.as_deref(),
        Some("Some lyrics")
    );
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
        meta.attachments.synced_lyrics.as_deref(),
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
        meta.attachments.synced_lyrics.as_deref(),
        Some("[00:01.00]Sidecar\n[00:02.00]Lyrics")
    );

    save_vorbis(&ogg, &[("LYRICS", "[00:05.00]From the tag")]);
    let meta = read_track(&ogg, Some(&lrc), &opts).expect("readable");
    assert_eq!(
        meta.attachments.synced_lyrics.as_deref(),
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
    assert_eq!(meta.attachments.synced_lyrics, None);
    assert_eq!(meta.attachments.lyrics, None);
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
    assert_eq!(meta.tags.title, "BadTitle");
    assert_eq!(meta.tags.album_name, "Café 東京 — Ünïcode");
    assert_eq!(meta.artists, strings(&["Björk"]));
    assert_eq!(meta.tags.artist_display, "Björk");
    assert_eq!(meta.tags.comment.as_deref(), Some("line 1\nline 2\tend"));
}

#[test]
fn untagged_files_fall_back_to_path_names() {
    let (_d, flac) = fixture("tone.flac", "Great Album/Disc 2/07 - Song.flac");
    let meta = read(&flac);
    assert_eq!(meta.tags.title, "07 - Song");
    assert_eq!(meta.tags.album_name, "Great Album");
    assert_eq!(meta.artists, strings(&[UNKNOWN_ARTIST]));
    assert_eq!(meta.tags.artist_display, UNKNOWN_ARTIST);
    assert!(meta.album_artists.is_empty());
    assert_eq!(meta.tags.track_number, None);

    let (_d, mp3) = fixture("tone.mp3", "Other Album/cd3/x.mp3");
    assert_eq!(read(&mp3).tags.album_name, "Other Album");

    let (_d, ogg) = fixture("tone.ogg", "Plain Folder/song.ogg");
    let meta = read(&ogg);
    assert_eq!(
        (meta.tags.title.as_str(), meta.tags.album_name.as_str()),
        ("song", "Plain Folder")
    );

    // Tags with a title but no album still take the album from the folder.
    save_vorbis(&ogg, &[("TITLE", "Tagged")]);
    let meta = read(&ogg);
    assert_eq!(
        (meta.tags.title.as_str(), meta.tags.album_name.as_str()),
        ("Tagged", "Plain Folder")
    );
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
    assert_eq!(meta.tags.title, "Été – 東京", "{what}");
    assert_eq!(meta.artists, strings(&["Anna", "Ben"]), "{what}");
    assert_eq!(meta.tags.artist_display, "Anna feat. Ben", "{what}");
    assert_eq!(meta.tags.album_name, "Album", "{what}");
    assert_eq!(meta.album_artists, strings(&["Anna"]), "{what}");
    assert_eq!(meta.tags.track_number, Some(3), "{what}");
    assert_eq!(meta.tags.disc_number, Some(2), "{what}");
    assert_eq!(meta.tags.disc_total, Some(2), "{what}");
    assert_eq!(meta.tags.year, Some(1999), "{what}");
    assert_eq!(meta.genres, strings(&["Rock", "Jazz"]), "{what}");
    assert!(meta.tags.compilation, "{what}");
    assert_eq!(
        meta.tags.mb_recording_id.as_deref(),
        Some("0b4e3c1a-1111-4222-8333-444455556666"),
        "{what}"
    );
    assert_eq!(
        meta.tags.mb_release_id.as_deref(),
        Some("1b4e3c1a-1111-4222-8333-444455556666"),
        "{what}"
    );
    assert_eq!(meta.tags.rg_track_gain, Some(-6.5), "{what}");
    assert_eq!(meta.tags.rg_album_gain, Some(-7.25), "{what}");
    assert_eq!(meta.attachments.lyrics.as_deref(), Some("la la"), "{what}");
    assert_eq!(meta.tags.comment.as_deref(), Some("hello"), "{what}");
    assert_eq!(meta.composers, strings(&["Clara Writer"]), "{what}");
    assert_eq!(meta.tags.disc_subtitle.as_deref(), Some("Bonus"), "{what}");
    assert_eq!(meta.tags.label.as_deref(), Some("Label Records"), "{what}");
    assert_eq!(meta.tags.mood.as_deref(), Some("Calm"), "{what}");
    assert!(meta.attachments.has_embedded_art, "{what}");
}

#[test]
fn wma_tags_and_properties() {
    use crate::synth::{Format, TrackSpec};
    let meta = synth_read(Format::Wma, &full_synth_spec());
    assert_full_spec(&meta, "wma");
    assert_eq!(
        (meta.audio.suffix.as_str(), meta.audio.content_type.as_str()),
        ("wma", "audio/x-ms-wma")
    );
    assert_eq!(meta.audio.codec, "WMA");
    assert_eq!(
        (meta.audio.sample_rate, meta.audio.channels),
        (Some(44100), Some(2))
    );
    assert_eq!(meta.audio.bitrate, Some(32));
    assert!(
        (meta.audio.duration_ms - 510).abs() <= 50,
        "{}",
        meta.audio.duration_ms
    );

    // Untagged: names from the path, no art.
    let bare = synth_read(Format::Wma, &TrackSpec::default());
    assert_eq!(
        (bare.tags.title.as_str(), bare.tags.album_name.as_str()),
        ("t", "Folder")
    );
    assert_eq!(bare.artists, strings(&[UNKNOWN_ARTIST]));
    assert!(!bare.attachments.has_embedded_art);
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
    assert_eq!(meta.tags.title, "Song");
    assert_eq!(meta.artists, strings(&["A", "B"]));
    assert_eq!(meta.tags.track_number, Some(5));
    assert_eq!(meta.genres, strings(&["Rock", "Pop"]));
    assert_eq!(meta.album_artists, strings(&["Band"]));
    assert_eq!(meta.tags.original_date.as_deref(), Some("1970"));
    assert_eq!(meta.tags.release_date.as_deref(), Some("1999-03-21"));
    assert_eq!(meta.artist_sort.as_deref(), Some("Band, The"));
    assert_eq!(meta.tags.bpm, Some(120));
    assert_eq!(meta.tags.isrc.as_deref(), Some("USRC17607839"));
    assert_eq!(meta.tags.mb_artist_id.as_deref(), Some("artist-id"));
    assert_eq!(
        meta.tags.mb_album_artist_id.as_deref(),
        Some("album-artist-id")
    );
    assert_eq!(meta.tags.mb_release_group_id.as_deref(), Some("group-id"));
    assert_eq!(meta.tags.mb_track_id.as_deref(), Some("track-id"));
    assert_eq!(meta.tags.release_type.as_deref(), Some("album"));
    assert_eq!(meta.tags.rg_track_peak, Some(0.98));
    assert_eq!(meta.tags.rg_album_peak, Some(0.99));

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
        assert_eq!(meta.audio.suffix, what);
        assert_eq!(meta.audio.content_type, content_type);
        assert_eq!(meta.audio.codec, "DSD", "{what}");
        assert_eq!(meta.audio.sample_rate, Some(2_822_400), "{what}");
        assert_eq!(
            (meta.audio.channels, meta.audio.bit_depth),
            (Some(2), Some(1)),
            "{what}"
        );
        assert_eq!(meta.audio.bitrate, Some(5644), "{what}");
        assert_eq!(meta.audio.duration_ms, 500, "{what}");
        let bare = synth_read(format, &TrackSpec::default());
        assert_eq!(bare.tags.title, "t", "{what}");
        assert!(!bare.attachments.has_embedded_art, "{what}");
        assert_eq!(bare.audio.duration_ms, 500, "{what}");
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
    assert_eq!(meta.tags.title, "Master Title");
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
                let _ = dsd::read(&mut c, b.len() as u64, true)
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
    assert!(!read(&mp3).attachments.has_embedded_art);

    let apic = || Frame::Picture(AttachedPictureFrame::new(TextEncoding::UTF8, cover()));
    save_id3v2(&mp3, vec![text_frame("TIT2", "Art"), apic()]);
    let meta = read(&mp3);
    assert!(meta.attachments.has_embedded_art);
    assert_eq!(meta.tags.title, "Art");

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
        assert!(read(&path).attachments.has_embedded_art, "{template}");
    }
}

#[test]
fn embedded_picture_in_flac_and_ogg() {
    for template in ["tone.flac", "tone.ogg", "tone.opus", "tone.spx"] {
        let (_d, path) = fixture(template, template);
        save_vorbis(&path, &[("TITLE", "No art")]);
        assert!(!read(&path).attachments.has_embedded_art, "{template}");

        let mut tag = VorbisComments::new();
        tag.push("TITLE".to_owned(), "Art".to_owned());
        tag.insert_picture(cover(), None).expect("picture");
        tag.save_to_path(&path, WriteOptions::default())
            .expect("write Vorbis comments");
        let meta = read(&path);
        assert!(meta.attachments.has_embedded_art, "{template}");
        assert_eq!(meta.tags.title, "Art", "{template}");
    }
}

#[test]
fn embedded_picture_in_mp4() {
    let (_d, m4a) = fixture("tone.m4a", "a.m4a");
    let mut ilst = Ilst::new();
    ilst.set_title("No art".to_owned());
    ilst.save_to_path(&m4a, WriteOptions::default())
        .expect("write ilst");
    assert!(!read(&m4a).attachments.has_embedded_art);

    ilst.insert_picture(cover());
    ilst.save_to_path(&m4a, WriteOptions::default())
        .expect("write ilst");
    let meta = read(&m4a);
    assert!(meta.attachments.has_embedded_art);
    assert_eq!(meta.tags.title, "No art");
}

#[test]
fn embedded_picture_in_ape_tags() {
    for template in ["tone.wv", "tone.mp3", "tone.ape"] {
        let (_d, path) = fixture(template, template);
        save_ape(&path, &[("Title", "No art")]);
        assert!(!read(&path).attachments.has_embedded_art, "{template}");

        let mut tag = ApeTag::new();
        tag.insert(
            ApeItem::new("Title".to_owned(), ItemValue::Text("Art".to_owned())).expect("item"),
        );
        let mut value = b"cover.jpg\0".to_vec();
        value.extend_from_slice(cover().data());
        tag.insert(
            ApeItem::new("Cover Art (Front)".to_owned(), ItemValue::Binary(value)).expect("item"),
        );
        tag.save_to_path(&path, WriteOptions::default())
            .expect("write APE");
        let meta = read(&path);
        assert!(meta.attachments.has_embedded_art, "{template}");
        assert_eq!(meta.tags.title, "Art", "{template}");
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
