//! What the scanner does differently on real-world files: large embedded pictures are never
//! parsed (the tags and the has-art flag are still right), and ADTS AAC durations are
//! estimated from the first frames (within a stated tolerance of the exact duration).

use std::io::{Seek, SeekFrom};
use std::path::Path;

use lofty::file::FileType;
use mediastreamer::scanner::dsd;
use mediastreamer::scanner::picture_free::{without_id3_chunk, without_pictures};
use std::process::Command;

use lofty::config::WriteOptions;
use lofty::file::TaggedFileExt;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::tag::{Accessor, TagExt};
use mediastreamer::scanner::tags::{TagOptions, read_track};
use mediastreamer::synth::{
    Format, TrackSpec, tag_audio_with_picture, tagged_bytes, template_bytes,
};

fn options() -> TagOptions {
    TagOptions {
        artist_separators: Vec::new(),
    }
}

fn spec(title: &str) -> TrackSpec {
    TrackSpec {
        title: title.into(),
        artist: "Picture Band".into(),
        album: "Heavy Covers".into(),
        album_artist: Some("Picture Band".into()),
        track: Some((3, Some(9))),
        year: Some(2001),
        genres: vec!["Rock".into()],
        ..TrackSpec::default()
    }
}

/// A JPEG-looking picture of `len` bytes (noise after the header, as compressed data is).
fn big_jpeg(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0];
    out.extend((4..len).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    }));
    out
}

/// Writes `format` tagged from `spec`, then embeds a front cover of `picture_len` bytes
/// (0: none) the way a tagger does (lofty cannot write DSF and DFF: the project's generator
/// writes their ID3v2 tag with the picture in it).
fn write_with_picture(path: &Path, format: Format, spec: &TrackSpec, picture_len: usize) {
    if matches!(format, Format::Dsf | Format::Dff) {
        let picture = (picture_len > 0).then(|| big_jpeg(picture_len));
        let untagged = template_bytes(format).to_vec();
        let bytes = tag_audio_with_picture(format, untagged, spec, picture.as_deref()).unwrap();
        std::fs::write(path, bytes).unwrap();
        return;
    }
    std::fs::write(path, tagged_bytes(format, spec).unwrap()).unwrap();
    if picture_len == 0 {
        return;
    }
    let mut file = lofty::read_from_path(path).unwrap();
    let tag = file.primary_tag_mut().unwrap();
    tag.push_picture(
        Picture::unchecked(big_jpeg(picture_len))
            .pic_type(PictureType::CoverFront)
            .mime_type(MimeType::Jpeg)
            .build(),
    );
    tag.save_to_path(path, WriteOptions::default()).unwrap();
}

#[test]
fn a_file_with_a_huge_picture_gets_its_tags_properties_and_has_art_flag() {
    let dir = tempfile::tempdir().unwrap();
    for format in [
        Format::Mp3,
        Format::M4a,
        Format::Flac,
        Format::Aac,
        Format::Ogg,
        Format::Opus,
        Format::Speex,
        Format::Wav,
        Format::Aiff,
        Format::Dsf,
        Format::Dff,
    ] {
        let ext = format.extension();
        let plain = dir.path().join(format!("plain.{ext}"));
        let heavy = dir.path().join(format!("heavy.{ext}"));
        write_with_picture(&plain, format, &spec("Weight"), 0);
        write_with_picture(&heavy, format, &spec("Weight"), 3_000_000);
        assert!(std::fs::metadata(&heavy).unwrap().len() > 3_000_000);

        let without = read_track(&plain, None, &options()).unwrap();
        let with =
            read_track(&heavy, None, &options()).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert!(with.attachments.has_embedded_art, "{format:?}: has art");
        assert!(!without.attachments.has_embedded_art, "{format:?}");
        assert_eq!(with.tags.title, "Weight", "{format:?}");
        assert_eq!(with.tags, without.tags, "{format:?}: tags");
        assert_eq!(with.artists, ["Picture Band"], "{format:?}");
        assert_eq!(with.genres, ["Rock"], "{format:?}");
        assert_eq!(
            with.audio.duration_ms, without.audio.duration_ms,
            "{format:?}: duration"
        );
        assert_eq!(with.audio.sample_rate, without.audio.sample_rate);
        assert_eq!(with.audio.codec, without.audio.codec);
        assert_picture_left_unread(&heavy, format);
    }
}

/// The picture of `path` is cut out of what the parser is shown (FLAC's is skipped by lofty
/// itself: its block is seeked over), so a scan never reads it.
fn assert_picture_left_unread(path: &Path, format: Format) {
    let mut file = std::fs::File::open(path).unwrap();
    let len = file.metadata().unwrap().len();
    if matches!(format, Format::Dsf | Format::Dff) {
        let dsd = dsd::read(&mut file, len, false).unwrap();
        assert!(dsd.id3v2_pictures_cut, "{format:?}: picture cut");
        assert!(dsd.id3v2.unwrap().len() < 100_000, "{format:?}: tag read");
        return;
    }
    let file_type = match format {
        Format::Mp3 => FileType::Mpeg,
        Format::M4a => FileType::Mp4,
        Format::Aac => FileType::Aac,
        Format::Ogg => FileType::Vorbis,
        Format::Opus => FileType::Opus,
        Format::Speex => FileType::Speex,
        Format::Wav => FileType::Wav,
        Format::Aiff => FileType::Aiff,
        _ => return,
    };
    let cut = match file_type {
        FileType::Wav | FileType::Aiff => without_id3_chunk(file, len, file_type).map(|(v, _)| v),
        _ => without_pictures(file, len, file_type),
    };
    let Ok(mut view) = cut else {
        panic!("{format:?}: nothing cut");
    };
    let shown = view.seek(SeekFrom::End(0)).unwrap();
    // Ogg keeps the value's bytes on the pages where it starts and ends (at most 2 x 64 KiB).
    assert!(shown < 200_000, "{format:?}: {shown} of {len} bytes shown");
}

/// Every ADTS frame header of `bytes` from `start`: (frames, sample rate), the exact count.
fn count_adts_frames(bytes: &[u8], mut pos: usize) -> (u64, u32) {
    const RATES: [u32; 13] = [
        96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
    ];
    let (mut frames, mut rate) = (0, 0);
    while pos + 7 <= bytes.len() && bytes[pos] == 0xFF && bytes[pos + 1] & 0xF0 == 0xF0 {
        rate = RATES[usize::from((bytes[pos + 2] >> 2) & 0x0F)];
        let len = (usize::from(bytes[pos + 3] & 3) << 11)
            | (usize::from(bytes[pos + 4]) << 3)
            | usize::from(bytes[pos + 5] >> 5);
        frames += u64::from(bytes[pos + 6] & 3) + 1;
        pos += len;
    }
    (frames, rate)
}

#[test]
fn adts_aac_duration_is_estimated_within_one_percent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.aac");
    // Three minutes whose loudness and content change along the way, so the encoder's frame
    // sizes vary (quiet start, loud noisy end) and a sample of the start is not the average.
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("sine=frequency=440:duration=180,volume='0.05+0.9*t/180':eval=frame")
        .args([
            "-f",
            "lavfi",
            "-i",
            "anoisesrc=duration=180:amplitude=0.3:color=pink",
        ])
        .args([
            "-filter_complex",
            "[1]volume='t/180':eval=frame[n];[0][n]amix=inputs=2:duration=shortest",
            "-ac",
            "2",
            "-c:a",
            "aac",
            "-b:a",
            "160k",
            "-f",
            "adts",
        ])
        .arg(&path)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
    // Tagged like a user's file: an ID3v2 tag in front of the stream.
    let mut tag = lofty::tag::Tag::new(lofty::tag::TagType::Id3v2);
    tag.set_title("Long One".into());
    tag.save_to_path(&path, WriteOptions::default()).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let id3 = if bytes.starts_with(b"ID3") {
        10 + bytes[6..10]
            .iter()
            .fold(0usize, |n, b| (n << 7) | usize::from(b & 0x7F))
    } else {
        0
    };
    let (frames, rate) = count_adts_frames(&bytes, id3);
    assert!(frames > 7000, "{frames} frames"); // 180 s at 44.1 kHz: 7752
    let exact_ms = frames * 1024 * 1000 / u64::from(rate);

    let meta = read_track(&path, None, &options()).unwrap();
    assert_eq!(meta.tags.title, "Long One");
    assert_eq!(meta.audio.codec, "AAC");
    assert_eq!(meta.audio.sample_rate, Some(i32::try_from(rate).unwrap()));
    let estimated = u64::try_from(meta.audio.duration_ms).unwrap();
    let error = estimated.abs_diff(exact_ms) as f64 / exact_ms as f64;
    assert!(
        error < 0.01,
        "estimated {estimated} ms, exact {exact_ms} ms ({:.2} % off)",
        error * 100.0
    );
    let bitrate = meta.audio.bitrate.unwrap();
    assert!((120..=200).contains(&bitrate), "{bitrate} kbps");
}
