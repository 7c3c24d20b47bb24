//! Loudness the server measures, over real HTTP on generated audio whose loudness is known
//! from first principles: 1 kHz stereo sines at set levels read (BS.1770) their peak level in
//! dBFS plus the K-weighting's gain at 1 kHz minus 0.691 dB, so track gains, the album gain
//! (pooled blocks) and true peaks are checked within 0.1 dB through getSong and getAlbum.
//! Also: tags win, bad files get a reason and no gain, a changed file is measured again, a
//! restart resumes, full re-analysis, the admin methods and their errors.

mod common;

use common::api::{ADMIN, BOB, Server, assert_error, put, start_server_configured};
use mediastreamer::synth::{Format, TrackSpec, tag_audio};
use std::path::Path;
use std::time::{Duration, Instant};

const RATE: u32 = 48_000;
/// Whole 4096-sample FLAC blocks (no zero padding to skew the level): 9.984 s.
const FRAMES: usize = 4096 * 117;

/// A stereo 1 kHz sine with peak `dbfs`, `frames` long, as interleaved samples.
fn sine(dbfs: f64, frames: usize) -> Vec<f32> {
    let amplitude = 10f64.powf(dbfs / 20.0);
    (0..frames)
        .flat_map(|i| {
            let s = amplitude * (std::f64::consts::TAU * 1000.0 * i as f64 / f64::from(RATE)).sin();
            [s as f32, s as f32]
        })
        .collect()
}

/// A 16-bit stereo FLAC of `samples` (whole blocks), tagged with `spec`.
fn flac(samples: &[f32], spec: &TrackSpec) -> Vec<u8> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let ints: Vec<i32> = samples
        .iter()
        .map(|s| (f64::from(*s) * 32_767.0).round() as i32)
        .collect();
    assert_eq!(ints.len() % (4096 * 2), 0);
    let config = flacenc::config::Encoder::default().into_verified().unwrap();
    let source = flacenc::source::MemSource::from_samples(&ints, 2, 16, RATE as usize);
    let stream = flacenc::encode_with_fixed_block_size(&config, source, 4096).unwrap();
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).unwrap();
    tag_audio(Format::Flac, sink.as_slice().to_vec(), spec).unwrap()
}

/// A FLAC stream that holds no samples: a STREAMINFO saying 0 samples, and no frame.
fn empty_flac() -> Vec<u8> {
    let mut info = Vec::new();
    info.extend_from_slice(&4096u16.to_be_bytes());
    info.extend_from_slice(&4096u16.to_be_bytes());
    info.extend_from_slice(&[0; 6]); // frame sizes unknown
    let packed: u64 = (u64::from(RATE) << 44) | (1 << 41) | (15 << 36);
    info.extend_from_slice(&packed.to_be_bytes());
    info.extend_from_slice(&[0; 16]); // MD5 unknown
    let mut out = b"fLaC".to_vec();
    out.push(0x80); // the last metadata block, STREAMINFO
    out.extend_from_slice(&(info.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&info);
    out
}

fn spec(title: &str, album: &str, n: u32) -> TrackSpec {
    TrackSpec {
        title: title.into(),
        artist: "Generator".into(),
        album: album.into(),
        album_artist: Some("Generator".into()),
        track: Some((n, None)),
        ..Default::default()
    }
}

/// |H(e^jw)|² of one biquad.
fn biquad_power(b: [f64; 3], a: [f64; 3], w: f64) -> f64 {
    let eval = |c: [f64; 3]| {
        let re = c[0] + c[1] * w.cos() + c[2] * (2.0 * w).cos();
        let im = -c[1] * w.sin() - c[2] * (2.0 * w).sin();
        re * re + im * im
    };
    eval(b) / eval(a)
}

/// What BS.1770 adds to a 1 kHz tone's mean-square level at 48 kHz: the K-weighting's power
/// gain (the standard's two biquads, evaluated at 1 kHz) and the -0.691 dB constant.
fn k_weighting_offset_db() -> f64 {
    let w = std::f64::consts::TAU * 1000.0 / f64::from(RATE);
    let shelf = biquad_power(
        [
            1.535_124_859_586_97,
            -2.691_696_189_406_38,
            1.198_392_810_852_85,
        ],
        [1.0, -1.690_659_293_182_41, 0.732_480_774_215_85],
        w,
    );
    let high_pass = biquad_power(
        [1.0, -2.0, 1.0],
        [1.0, -1.990_047_454_833_98, 0.990_072_250_366_21],
        w,
    );
    10.0 * (shelf * high_pass).log10() - 0.691
}

/// The loudness of a stereo 1 kHz sine with peak `dbfs`: both channels' mean square A²/2
/// summed (A²), K-weighted.
fn sine_lufs(dbfs: f64) -> f64 {
    dbfs + k_weighting_offset_db()
}

/// The pooled loudness of equally long stereo 1 kHz sines (all blocks above the gates).
fn album_lufs(levels: &[f64]) -> f64 {
    let mean: f64 = levels.iter().map(|l| 10f64.powf(l / 10.0)).sum::<f64>() / levels.len() as f64;
    10.0 * mean.log10() + k_weighting_offset_db()
}

fn build(music: &Path) {
    for (n, (name, dbfs)) in [("one", -20.0), ("two", -14.0)].into_iter().enumerate() {
        let dir = music.join("Tones");
        std::fs::create_dir_all(&dir).unwrap();
        let bytes = flac(&sine(dbfs, FRAMES), &spec(name, "Tones", n as u32 + 1));
        std::fs::write(dir.join(format!("{name}.flac")), bytes).unwrap();
    }
    let tagged = TrackSpec {
        rg_track_gain: Some(-7.5),
        rg_album_gain: Some(-6.25),
        ..spec("tagged", "Tagged", 1)
    };
    std::fs::create_dir_all(music.join("Tagged")).unwrap();
    std::fs::write(
        music.join("Tagged/tagged.flac"),
        flac(&sine(-20.0, FRAMES), &tagged),
    )
    .unwrap();
    let bad = music.join("Bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("silence.flac"),
        flac(&sine(-200.0, 4096 * 30), &spec("silence", "Bad", 1)),
    )
    .unwrap();
    std::fs::write(
        bad.join("empty.flac"),
        tag_audio(Format::Flac, empty_flac(), &spec("empty", "Bad", 2)).unwrap(),
    )
    .unwrap();
    // Only ffmpeg decodes WMA, and the server runs without it.
    put(
        music,
        "Bad/noffmpeg.wma",
        Format::Wma,
        spec("noffmpeg", "Bad", 3),
    );
}

const CONFIG: &str = "[transcode]\nffmpeg = \"\"\n[loudness]\nenabled = false\nnice = 5\n";

fn status(server: &Server) -> serde_json::Value {
    let r = server.call_both("getLoudnessStatus", ADMIN);
    assert_eq!(r["status"], "ok", "{r}");
    r["loudnessStatus"].clone()
}

/// Waits until no run is going on and nothing is pending.
fn wait_done(server: &Server) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let s = status(server);
        if s["running"] == false && s["pending"] == 0 {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "analysis never finished: {s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Song JSON objects by title (getAlbum of every album of search3 "").
fn songs(server: &Server) -> std::collections::HashMap<String, serde_json::Value> {
    common::api::admin_songs(server.port)
        .into_iter()
        .map(|s| (s["title"].as_str().unwrap().to_string(), s))
        .collect()
}

fn song(server: &Server, title: &str) -> serde_json::Value {
    let id = songs(server)[title]["id"].as_str().unwrap().to_string();
    let r = server.call_both("getSong", &format!("{ADMIN}&id={id}"));
    r["song"].clone()
}

fn close(value: &serde_json::Value, expected: f64, tolerance: f64) -> bool {
    value
        .as_f64()
        .is_some_and(|v| (v - expected).abs() <= tolerance)
}

fn assert_close(value: &serde_json::Value, expected: f64, tolerance: f64, what: &str) {
    assert!(
        close(value, expected, tolerance),
        "{what}: {value} is not {expected:.3} ± {tolerance}"
    );
}

/// The nice value of the server's "loudness" thread (Linux /proc).
fn loudness_thread_nice(pid: u32) -> Option<i64> {
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let task = task.ok()?.path();
        let comm = std::fs::read_to_string(task.join("comm")).ok()?;
        if comm.trim() == "loudness" {
            let stat = std::fs::read_to_string(task.join("stat")).ok()?;
            // Fields after the parenthesised name: state is field 3, nice field 19.
            let rest = &stat[stat.rfind(')')? + 2..];
            return rest.split(' ').nth(16)?.parse().ok();
        }
    }
    None
}

#[test]
fn loudness_is_measured_served_and_kept_current() {
    let mut server = start_server_configured(&["music"], CONFIG, 6, |f| build(&f[0]));

    // Turned off: nothing measured, the untagged tracks wait, starting is refused.
    let s = status(&server);
    assert_eq!(s["enabled"], false);
    assert_eq!(s["pending"], 5, "{s}");
    assert_eq!(s["measured"], 0);
    let refused = server.call_both("startLoudnessAnalysis", ADMIN);
    assert_error(&refused, 0);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("loudness.enabled")
    );
    assert!(song(&server, "one")["replayGain"]["trackGain"].is_null());

    // Turned on, the restarted server resumes from what is still missing.
    server.restart_with(&[("MEDIASTREAMER_LOUDNESS__ENABLED", "true")]);
    assert_eq!(
        loudness_thread_nice(server.pid()),
        Some(5),
        "the thread runs at loudness.nice"
    );
    let s = wait_done(&server);
    assert_eq!(s["enabled"], true);
    assert_eq!(s["measured"], 2, "{s}");
    assert_eq!(s["failed"], 3, "{s}");

    let one = song(&server, "one")["replayGain"].clone();
    let two = song(&server, "two")["replayGain"].clone();
    let album = -18.0 - album_lufs(&[-20.0, -14.0]);
    assert_close(
        &one["trackGain"],
        -18.0 - sine_lufs(-20.0),
        0.1,
        "track gain at -20 dBFS",
    );
    assert_close(
        &two["trackGain"],
        -18.0 - sine_lufs(-14.0),
        0.1,
        "track gain at -14 dBFS",
    );
    assert_close(&one["albumGain"], album, 0.1, "album gain");
    assert_close(&two["albumGain"], album, 0.1, "album gain");
    assert_close(&one["trackPeak"], 0.1, 0.002, "true peak at -20 dBFS");
    assert_close(
        &two["trackPeak"],
        10f64.powf(-14.0 / 20.0),
        0.002,
        "true peak at -14 dBFS",
    );
    assert_eq!(one["albumPeak"], two["albumPeak"]);
    assert_close(
        &one["albumPeak"],
        10f64.powf(-14.0 / 20.0),
        0.002,
        "album peak",
    );

    // getAlbum serves the same values.
    let album_id = songs(&server)["one"]["albumId"]
        .as_str()
        .unwrap()
        .to_string();
    let a = server.call_both("getAlbum", &format!("{ADMIN}&id={album_id}"));
    for s in a["album"]["song"].as_array().unwrap() {
        assert_close(
            &s["replayGain"]["albumGain"],
            album,
            0.1,
            "getAlbum album gain",
        );
    }

    // Tags win (and the tagged track is not measured at all).
    let tagged = song(&server, "tagged")["replayGain"].clone();
    assert_eq!(tagged["trackGain"], -7.5);
    assert_eq!(tagged["albumGain"], -6.25);

    // Bad input: no gain, and the reason is listed.
    for title in ["silence", "empty", "noffmpeg"] {
        let rg = song(&server, title)["replayGain"].clone();
        assert!(
            rg["trackGain"].is_null() && rg["albumGain"].is_null(),
            "{title}: {rg}"
        );
    }
    let failures = s["failure"].as_array().unwrap();
    let reason = |file: &str| {
        failures
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(file))
            .map(|f| f["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no failure for {file}: {failures:?}"))
    };
    assert!(
        reason("silence.flac").starts_with("silent"),
        "{}",
        reason("silence.flac")
    );
    // Symphonia cannot open a FLAC stream without frames (and there is no ffmpeg here); a
    // stream that opens but holds no samples is "no audio" (unit-tested in loudness::analyse).
    assert!(
        reason("empty.flac").starts_with("cannot decode"),
        "{}",
        reason("empty.flac")
    );
    assert!(
        reason("noffmpeg.wma").contains("cannot decode"),
        "{}",
        reason("noffmpeg.wma")
    );

    // A changed file is measured again, and so is its album.
    let music = server.config.parent().unwrap().join("music");
    std::thread::sleep(Duration::from_millis(1100)); // a new mtime even on coarse clocks
    std::fs::write(
        music.join("Tones/one.flac"),
        flac(&sine(-26.0, FRAMES), &spec("one", "Tones", 1)),
    )
    .unwrap();
    let scan = server.call_both("startScan", ADMIN);
    assert_eq!(scan["status"], "ok");
    let expected = -18.0 - sine_lufs(-26.0);
    let start = Instant::now();
    while !close(
        &song(&server, "one")["replayGain"]["trackGain"],
        expected,
        0.1,
    ) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the changed file was not measured again"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_done(&server);
    let album = -18.0 - album_lufs(&[-26.0, -14.0]);
    assert_close(
        &song(&server, "two")["replayGain"]["albumGain"],
        album,
        0.1,
        "new album gain",
    );
    assert_close(
        &song(&server, "one")["replayGain"]["albumGain"],
        album,
        0.1,
        "new album gain",
    );

    // Measuring everything again measures every untagged track again.
    let r = server.call_both("startLoudnessAnalysis", &format!("{ADMIN}&full=true"));
    assert_eq!(r["loudnessStatus"]["running"], true, "{r}");
    let s = wait_done(&server);
    assert_eq!(s["runTracks"], 5, "{s}");
    assert_eq!(s["lastRunEnd"], "finished");
    assert_close(
        &song(&server, "one")["replayGain"]["trackGain"],
        expected,
        0.1,
        "after full",
    );

    // Stopping answers the status; only admins may call any of the methods.
    let r = server.call_both("stopLoudnessAnalysis", ADMIN);
    assert_eq!(r["status"], "ok");
    for method in [
        "getLoudnessStatus",
        "startLoudnessAnalysis",
        "stopLoudnessAnalysis",
    ] {
        assert_error(&server.call_both(method, BOB), 50);
    }
}

#[test]
fn a_run_can_be_stopped_and_started_again() {
    // Six minutes of audio in one album: long enough to be stopped while it is measured.
    let server = start_server_configured(&["music"], "[loudness]\nnice = 0\n", 6, |f| {
        let dir = f[0].join("Long");
        std::fs::create_dir_all(&dir).unwrap();
        let samples = mediastreamer::transcode::signal::tones(RATE, 2, 60.0);
        let wav = mediastreamer::transcode::signal::wav_bytes(RATE, 2, &samples);
        for n in 1..=6 {
            std::fs::write(dir.join(format!("{n:02}.wav")), &wav).unwrap();
        }
    });
    let stopped = server.call_both("stopLoudnessAnalysis", ADMIN);
    assert_eq!(stopped["status"], "ok", "{stopped}");
    let start = Instant::now();
    let s = loop {
        let s = status(&server);
        if s["running"] == false && !s["lastRunEnd"].is_null() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run did not stop: {s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(s["lastRunEnd"], "cancelled", "{s}");
    // The album under way is dropped whole: nothing half-stored.
    assert_eq!(s["pending"], 6, "{s}");
    assert_eq!(s["measured"], 0, "{s}");

    server.call_both("startLoudnessAnalysis", ADMIN);
    let s = wait_done(&server);
    assert_eq!(s["lastRunEnd"], "finished", "{s}");
    assert_eq!(s["measured"], 6, "{s}");
}
