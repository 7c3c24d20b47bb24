//! Formats lofty does not read (WMA, DSF, DFF) end to end over real HTTP: cataloged with their
//! tags, streamed as they are with their content types, embedded pictures served as cover
//! art, and transcoded through ffmpeg, or refused clearly when ffmpeg is turned off.
//!
//! The ffmpeg test needs ffmpeg on the PATH and fails without it (CI installs it).

mod common;

use common::api::{ADMIN, Server, assert_error, assert_valid_xml, put};
use mediastreamer::synth::{Format, TrackSpec, cover_jpg, tagged_bytes};
use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

const FORMATS: [(Format, &str); 3] = [
    (Format::Wma, "audio/x-ms-wma"),
    (Format::Dsf, "audio/x-dsf"),
    (Format::Dff, "audio/x-dff"),
];

fn spec(format: Format, n: u32) -> TrackSpec {
    TrackSpec {
        title: format!("{} song", format.name()),
        artist: "Anna".into(),
        album: "Formats".into(),
        album_artist: Some("Anna".into()),
        track: Some((n, None)),
        year: Some(2004),
        genres: vec!["Rock".into()],
        embedded_art: true,
        ..Default::default()
    }
}

fn build(music: &Path) {
    for (n, (format, _)) in FORMATS.iter().enumerate() {
        put(
            music,
            &format!("Anna/Formats/{n}.{}", format.extension()),
            *format,
            spec(*format, n as u32 + 1),
        );
    }
    // Files the scanner cannot read: reported by getScanErrors, never silently absent.
    let bad = music.join("Bad");
    std::fs::create_dir_all(&bad).unwrap();
    let wma = tagged_bytes(Format::Wma, &TrackSpec::default()).unwrap();
    std::fs::write(bad.join("corrupt.wma"), &wma[..100]).unwrap();
    std::fs::write(bad.join("garbage.dsf"), [0x5a; 4096]).unwrap();
    std::fs::write(bad.join("lossless.tak"), b"tBaK and more").unwrap();
}

struct Library {
    server: Server,
    /// Song ids by suffix.
    ids: HashMap<String, String>,
}

fn ids_by_suffix(port: u16) -> HashMap<String, String> {
    common::api::admin_songs(port)
        .iter()
        .map(|s| {
            (
                s["suffix"].as_str().unwrap().to_owned(),
                s["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The default server: ffmpeg as configured by default ("ffmpeg" on the PATH).
fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let server = common::api::start_server(3, build);
        let ids = ids_by_suffix(server.port);
        Library { server, ids }
    })
}

/// A server with ffmpeg turned off.
fn without_ffmpeg() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let server = common::api::start_server_configured(
            &["music"],
            "[transcode]\nffmpeg = \"\"\n",
            3,
            |folders| build(&folders[0]),
        );
        let ids = ids_by_suffix(server.port);
        Library { server, ids }
    })
}

/// Decodes MP3 bytes with symphonia: samples per channel and the sample rate.
fn decode_mp3(bytes: &[u8]) -> (u64, u32) {
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let options = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let mut format = symphonia::default::get_probe()
        .format(&hint, stream, &options, &MetadataOptions::default())
        .unwrap()
        .format;
    let params = format.default_track().unwrap().codec_params.clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .unwrap();
    let mut frames = 0u64;
    while let Ok(packet) = format.next_packet() {
        let decoded = decoder.decode(&packet).unwrap();
        let mut buffer = SampleBuffer::<f32>::new(decoded.capacity() as u64, *decoded.spec());
        buffer.copy_interleaved_ref(decoded);
        frames += buffer.samples().len() as u64 / 2;
    }
    (frames, params.sample_rate.unwrap())
}

#[test]
fn songs_carry_their_tags_and_audio_properties() {
    let lib = library();
    for (format, content_type) in FORMATS {
        let id = &lib.ids[format.extension()];
        let r = lib.server.call_both("getSong", &format!("{ADMIN}&id={id}"));
        let song = &r["song"];
        let what = format.extension();
        assert_eq!(song["title"], format!("{} song", format.name()), "{what}");
        assert_eq!(song["artist"], "Anna", "{what}");
        assert_eq!(song["album"], "Formats", "{what}");
        assert_eq!(song["year"], 2004, "{what}");
        assert_eq!(song["genre"], "Rock", "{what}");
        assert_eq!(song["suffix"], what);
        assert_eq!(song["contentType"], content_type);
        assert_eq!(song["channelCount"], 2, "{what}");
        assert!(song["coverArt"].is_string(), "{what}: {song}");
        let rate = if format == Format::Wma {
            44_100
        } else {
            2_822_400
        };
        assert_eq!(song["samplingRate"], rate, "{what}");
        assert!(song["bitRate"].as_i64().unwrap() > 0, "{what}");
    }
}

#[test]
fn unreadable_wma_dsd_and_unsupported_audio_are_scan_errors() {
    let lib = library();
    let r = lib.server.call_both("getScanErrors", ADMIN);
    assert_eq!(r["status"], "ok", "{r}");
    let list = r["scanErrors"]["scanError"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{r}");
    let reason = |path: &str| {
        list.iter()
            .find(|e| e["path"] == path)
            .and_then(|e| e["reason"].as_str())
            .unwrap_or_else(|| panic!("{path} not listed: {r}"))
            .to_owned()
    };
    assert!(reason("Bad/corrupt.wma").starts_with("truncated or corrupt: ASF header"));
    assert_eq!(
        reason("Bad/garbage.dsf"),
        "not an audio file (unrecognised content)"
    );
    assert_eq!(
        reason("Bad/lossless.tak"),
        ".tak audio files are not supported"
    );
}

#[test]
fn originals_stream_with_their_content_types() {
    let lib = library();
    for (format, content_type) in FORMATS {
        let id = &lib.ids[format.extension()];
        for extra in ["", "&format=raw"] {
            let r = lib
                .server
                .fetch(&format!("/rest/stream.view?{ADMIN}&id={id}{extra}"), &[]);
            assert_eq!(r.status, 200, "{format:?}{extra}");
            assert_eq!(r.header("content-type"), Some(content_type), "{format:?}");
            let original = tagged_bytes(format, &spec(format, 0)).unwrap();
            assert_eq!(r.body.len(), original.len(), "{format:?}");
        }
        let r = lib
            .server
            .fetch(&format!("/rest/download.view?{ADMIN}&id={id}"), &[]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some(content_type), "{format:?}");
    }
}

#[test]
fn embedded_pictures_are_cover_art() {
    let lib = library();
    for (format, _) in FORMATS {
        let id = &lib.ids[format.extension()];
        let song = lib
            .server
            .get(&format!("/rest/getSong?{ADMIN}&id={id}&f=json"))
            .json();
        let cover = song["song"]["coverArt"].as_str().unwrap().to_owned();
        let r = lib
            .server
            .fetch(&format!("/rest/getCoverArt.view?{ADMIN}&id={cover}"), &[]);
        assert_eq!(r.status, 200, "{format:?}");
        assert_eq!(r.header("content-type"), Some("image/jpeg"), "{format:?}");
        assert_eq!(r.body, cover_jpg(), "{format:?}");
    }
}

#[test]
fn wma_and_dsd_transcode_through_ffmpeg() {
    let ffmpeg = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output();
    assert!(
        ffmpeg.is_ok_and(|o| o.status.success()),
        "this test needs ffmpeg on the PATH (apt-get install ffmpeg)"
    );
    let lib = library();
    for (format, _) in FORMATS {
        let id = &lib.ids[format.extension()];
        let r = lib.server.fetch(
            &format!("/rest/stream.view?{ADMIN}&id={id}&format=mp3&f=json"),
            &[],
        );
        assert_eq!(
            r.status,
            200,
            "{format:?}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("content-type"), Some("audio/mpeg"), "{format:?}");
        let announced: usize = r.header("content-length").unwrap().parse().unwrap();
        assert_eq!(r.body.len(), announced, "{format:?}");
        let (frames, rate) = decode_mp3(&r.body);
        assert_eq!(rate, 44_100, "{format:?}");
        // 0.5 s of audio (WMA's header says 0.51 s): the stream is as long as the song.
        let seconds = frames as f64 / 44_100.0;
        assert!((0.49..=0.53).contains(&seconds), "{format:?}: {seconds} s");
    }
}

#[test]
fn without_ffmpeg_transcoding_is_refused_clearly() {
    let lib = without_ffmpeg();
    for (format, content_type) in FORMATS {
        let ext = format.extension();
        let id = &lib.ids[ext];
        let path = format!("/rest/stream.view?{ADMIN}&id={id}&format=mp3");
        let json = lib.server.fetch(&format!("{path}&f=json"), &[]).json();
        assert_error(&json, 0);
        assert_eq!(json["error"]["message"], format!("cannot transcode {ext}"));
        let xml = lib.server.fetch(&path, &[]);
        let xml = String::from_utf8(xml.body).unwrap();
        assert!(xml.contains(&format!("cannot transcode {ext}")), "{xml}");
        assert_valid_xml(&xml);
        // The original is still there.
        let raw = lib.server.fetch(
            &format!("/rest/stream.view?{ADMIN}&id={id}&format=raw"),
            &[],
        );
        assert_eq!(raw.header("content-type"), Some(content_type));
    }
}
