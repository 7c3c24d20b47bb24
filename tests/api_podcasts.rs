//! Podcasts end to end over real HTTP, against a local feed server (a thread with a
//! TcpListener serving generated feeds, WAV episodes and a PNG): subscribing, refreshing (an
//! episode appears once), automatic and asked-for downloads, a download cut off halfway and
//! resumed with a Range request, streams with Range and transcoding, getCoverArt, bookmarks,
//! scrobbles, retention, deletions, the podcast role, and every bad input (invalid XML, 404,
//! 500, a 50 MB feed, a redirect loop, a moved feed, enclosures that are not audio, a folder
//! that cannot be written). XML is XSD-validated and JSON schema-validated by `call_both`.

mod common;

use common::api::*;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the fake feed server answers for a path.
#[derive(Clone)]
enum Route {
    /// A body (ranges answered with 206 when asked for).
    Body {
        status: u16,
        content_type: &'static str,
        bytes: Vec<u8>,
    },
    /// A redirect to another path of this server.
    Redirect { status: u16, to: String },
    /// A body whose first answer without a Range stops after `cut_at` bytes (the length
    /// announced in full); later answers are whole (or the asked-for range).
    CutOnce {
        bytes: Vec<u8>,
        cut_at: usize,
        cut_done: bool,
    },
    /// `mb` megabytes of feed-looking bytes with no Content-Length.
    Huge { mb: usize },
}

/// A request the fake feed server saw: its path and its Range header.
type Request = (String, Option<String>);

/// The fake feed server: routes by path, and the requests it saw (path, Range header).
#[derive(Clone)]
struct FeedServer {
    port: u16,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl FeedServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = FeedServer {
            port: listener.local_addr().unwrap().port(),
            routes: Default::default(),
            seen: Default::default(),
        };
        let worker = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let worker = worker.clone();
                std::thread::spawn(move || worker.answer(stream));
            }
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn set(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }

    fn body(&self, path: &str, content_type: &'static str, bytes: Vec<u8>) {
        self.set(
            path,
            Route::Body {
                status: 200,
                content_type,
                bytes,
            },
        );
    }

    fn ranges_asked(&self, path: &str) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .filter_map(|(_, r)| r.clone())
            .collect()
    }

    fn answer(&self, mut stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut range = None;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("range")
            {
                range = Some(value.trim().to_string());
            }
        }
        self.seen
            .lock()
            .unwrap()
            .push((path.clone(), range.clone()));
        let route = self.routes.lock().unwrap().get(&path).cloned();
        let from = range
            .as_deref()
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|r| r.parse::<usize>().ok());
        match route {
            None => respond(&mut stream, 404, "text/plain", b"not here", None),
            Some(Route::Body {
                status,
                content_type,
                bytes,
            }) => respond(&mut stream, status, content_type, &bytes, from),
            Some(Route::Redirect { status, to }) => {
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} Moved\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
            Some(Route::CutOnce {
                bytes,
                cut_at,
                cut_done,
            }) => {
                if from.is_none() && !cut_done {
                    self.set(
                        &path,
                        Route::CutOnce {
                            bytes: bytes.clone(),
                            cut_at,
                            cut_done: true,
                        },
                    );
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        bytes.len()
                    );
                    let _ = stream.write_all(&bytes[..cut_at]);
                    let _ = stream.flush();
                    // Closing here leaves the client short of the announced length.
                } else {
                    respond(&mut stream, 200, "audio/wav", &bytes, from);
                }
            }
            Some(Route::Huge { mb }) => {
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n<rss><channel><title>"
                );
                let chunk = vec![b'x'; 1024 * 1024];
                for _ in 0..mb {
                    if stream.write_all(&chunk).is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"</title></channel></rss>");
            }
        }
    }
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    bytes: &[u8],
    from: Option<usize>,
) {
    match from.filter(|f| status == 200 && *f < bytes.len()) {
        Some(from) => {
            let _ = write!(
                stream,
                "HTTP/1.1 206 Partial Content\r\nContent-Type: {content_type}\r\nContent-Range: bytes {from}-{}/{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len() - 1,
                bytes.len(),
                bytes.len() - from
            );
            let _ = stream.write_all(&bytes[from..]);
        }
        None => {
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            let _ = stream.write_all(bytes);
        }
    }
}

/// An episode of a generated feed: (guid, title, day of June 2026, enclosure path, type).
struct Item<'a>(&'a str, &'a str, u32, &'a str, &'a str);

/// An RSS 2.0 feed with iTunes tags.
fn rss(title: &str, image: Option<&str>, items: &[Item]) -> Vec<u8> {
    let mut out = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>{title}</title><description>About {title}</description>"#
    );
    if let Some(image) = image {
        out.push_str(&format!(r#"<itunes:image href="{image}"/>"#));
    }
    for Item(guid, title, day, url, kind) in items {
        out.push_str(&format!(
            r#"<item><title>{title}</title><guid>{guid}</guid><description>Notes of {title}</description>
<pubDate>{day:02} Jun 2026 10:00:00 +0000</pubDate><itunes:duration>0:02</itunes:duration>
<enclosure url="{url}" type="{kind}" length="1000"/></item>"#
        ));
    }
    out.push_str("</channel></rss>");
    out.into_bytes()
}

/// A WAV file's bytes: `seconds` of a tone.
fn wav(seconds: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.wav");
    write_wav(&path, 44_100 * seconds);
    std::fs::read(path).unwrap()
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 30, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// A call that changes something, made once: in XML (XSD-validated) when `xml`, else in JSON
/// (schema-validated). Returns the JSON response, or for XML `{"status": ...}`.
fn change(server: &Server, method: &str, query: &str, xml: bool) -> Value {
    if xml {
        let r = server.get(&format!("/rest/{method}.view?{query}"));
        assert_eq!(r.status, 200);
        assert_valid_xml(&r.body);
        let status = if r.body.contains("status=\"ok\"") {
            "ok"
        } else {
            "failed"
        };
        serde_json::json!({ "status": status, "body": r.body })
    } else {
        let r = server.get(&format!("/rest/{method}?{query}&f=json"));
        let whole: Value = serde_json::from_str(&r.body).unwrap();
        assert_valid_json(method, &whole);
        r.json()
    }
}

fn ok(r: &Value) {
    assert_eq!(r["status"], "ok", "{r}");
}

fn start(podcast_folder: &Path, extra: &str) -> Server {
    start_server_configured(
        &["music"],
        &format!(
            "[podcasts]\nfolder = {:?}\nschedule = \"\"\n{extra}",
            podcast_folder.display().to_string()
        ),
        0,
        |_| {},
    )
}

/// Waits (up to 30 s) until `check` gives Some.
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn channels(server: &Server) -> Vec<Value> {
    let r = server.call_both("getPodcasts", ADMIN);
    ok(&r);
    r["podcasts"]["channel"].as_array().unwrap().clone()
}

/// The channel with feed `url`, once `ready` says it is.
fn channel_when(server: &Server, url: &str, ready: impl Fn(&Value) -> bool) -> Value {
    wait_for(&format!("channel {url}"), || {
        let r = server
            .get(&format!("/rest/getPodcasts?{ADMIN}&f=json"))
            .json();
        r["podcasts"]["channel"]
            .as_array()?
            .iter()
            .find(|c| c["url"] == url && ready(c))
            .cloned()
    })
}

fn episodes(channel: &Value) -> Vec<Value> {
    channel["episode"].as_array().cloned().unwrap_or_default()
}

fn episode_by_title(channel: &Value, title: &str) -> Value {
    episodes(channel)
        .into_iter()
        .find(|e| e["title"] == title)
        .unwrap_or_else(|| panic!("no episode {title} in {channel}"))
}

fn settled(c: &Value) -> bool {
    c["status"] != "new"
        && c["status"] != "downloading"
        && episodes(c).iter().all(|e| e["status"] != "downloading")
}

#[test]
fn subscribe_refresh_download_stream_bookmark_and_retention() {
    let feeds = FeedServer::start();
    let audio1 = wav(2);
    let audio2 = wav(3);
    let audio3 = wav(2);
    let audio4 = wav(1);
    feeds.body("/e1.wav", "audio/wav", audio1.clone());
    feeds.body("/e2.wav", "audio/wav", audio2.clone());
    feeds.body("/e3.wav", "audio/wav", audio3.clone());
    feeds.body("/e4.wav", "audio/wav", audio4.clone());
    feeds.body("/cover.png", "image/png", png());
    let image = feeds.url("/cover.png");
    let (e1, e2, e3, e4) = (
        feeds.url("/e1.wav"),
        feeds.url("/e2.wav"),
        feeds.url("/e3.wav"),
        feeds.url("/e4.wav"),
    );
    feeds.body(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Tea Talk",
            Some(&image),
            &[
                Item("g2", "Second", 2, &e2, "audio/wav"),
                Item("g1", "First", 1, &e1, "audio/wav"),
            ],
        ),
    );
    let folder = tempfile::tempdir().unwrap();
    let server = start(folder.path(), "download_new = 1\nkeep = 2\n");
    let url = feeds.url("/feed.xml");

    // The podcast role: bob has none until an admin grants it.
    let denied = server.call_both("createPodcastChannel", &format!("{BOB}&url={url}"));
    assert_error(&denied, 50);
    for method in [
        "refreshPodcasts",
        "deletePodcastChannel",
        "deletePodcastEpisode",
        "downloadPodcastEpisode",
    ] {
        assert_error(&server.call_both(method, &format!("{BOB}&id=pe-1")), 50);
    }
    assert_error(
        &server.call_both("createPodcastChannel", &format!("{ADMIN}&url=ftp://x/feed")),
        0,
    );
    assert_error(&server.call_both("createPodcastChannel", ADMIN), 10);

    ok(&change(
        &server,
        "createPodcastChannel",
        &format!("{ADMIN}&url={url}"),
        true,
    ));
    assert_error(
        &server.call_both("createPodcastChannel", &format!("{ADMIN}&url={url}")),
        0,
    );
    let channel = channel_when(&server, &url, |c| {
        settled(c) && episodes(c).iter().any(|e| e["status"] == "completed")
    });
    assert_eq!(channel["status"], "completed", "{channel}");
    assert_eq!(channel["title"], "Tea Talk");
    assert_eq!(channel["description"], "About Tea Talk");
    assert_eq!(channel["originalImageUrl"], image);
    let channel_id = channel["id"].as_str().unwrap().to_string();
    assert!(channel_id.starts_with("pc-"));
    assert_eq!(channel["coverArt"], channel_id);
    // Newest first; only the newest was downloaded by itself (download_new = 1).
    let titles: Vec<&str> = channel["episode"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Second", "First"]);
    let second = episode_by_title(&channel, "Second");
    let first = episode_by_title(&channel, "First");
    assert_eq!(second["status"], "completed");
    assert_eq!(first["status"], "new");
    assert!(first.get("streamId").is_none());
    let second_id = second["id"].as_str().unwrap().to_string();
    assert!(second_id.starts_with("pe-"));
    assert_eq!(second["streamId"], second_id);
    assert_eq!(second["channelId"], channel_id);
    assert_eq!(second["type"], "podcast");
    assert_eq!(second["duration"], 3, "read from the downloaded file");
    assert_eq!(second["size"], audio2.len());
    assert_eq!(second["suffix"], "wav");
    assert_eq!(second["publishDate"], "2026-06-02T10:00:00.000Z");
    assert_eq!(second["description"], "Notes of Second");

    // includeEpisodes=false, id, getNewestPodcasts, getPodcastEpisode.
    let r = server.call_both("getPodcasts", &format!("{ADMIN}&includeEpisodes=false"));
    assert!(r["podcasts"]["channel"][0].get("episode").is_none(), "{r}");
    let r = server.call_both("getPodcasts", &format!("{BOB}&id={channel_id}"));
    assert_eq!(r["podcasts"]["channel"].as_array().unwrap().len(), 1);
    assert_error(
        &server.call_both("getPodcasts", &format!("{BOB}&id=pc-999")),
        70,
    );
    assert_error(
        &server.call_both("getPodcasts", &format!("{BOB}&id=tr-1")),
        70,
    );
    let r = server.call_both("getNewestPodcasts", &format!("{BOB}&count=1"));
    ok(&r);
    assert_eq!(r["newestPodcasts"]["episode"][0]["id"], second_id);
    assert_eq!(r["newestPodcasts"]["episode"].as_array().unwrap().len(), 1);
    assert_error(
        &server.call_both("getNewestPodcasts", &format!("{BOB}&count=-1")),
        0,
    );
    let r = server.call_both("getPodcastEpisode", &format!("{BOB}&id={second_id}"));
    ok(&r);
    assert_eq!(r["podcastEpisode"]["title"], "Second");
    assert_error(
        &server.call_both("getPodcastEpisode", &format!("{BOB}&id=pe-999")),
        70,
    );
    assert_error(&server.call_both("getPodcastEpisode", BOB), 10);

    // Streams: the file as downloaded, ranges, a transcode, a download.
    let whole = server.fetch(&format!("/rest/stream?{BOB}&id={second_id}"), &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, audio2);
    let part = server.fetch(
        &format!("/rest/stream?{BOB}&id={second_id}"),
        &[("Range", "bytes=100-199")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, audio2[100..200]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{}", audio2.len()).as_str())
    );
    let mp3 = server.fetch(
        &format!("/rest/stream?{BOB}&id={second_id}&format=mp3&maxBitRate=128&timeOffset=1"),
        &[],
    );
    assert_eq!(mp3.status, 200);
    assert_eq!(mp3.header("content-type"), Some("audio/mpeg"));
    assert!(mp3.body.len() > 1000);
    let download = server.fetch(&format!("/rest/download?{BOB}&id={second_id}"), &[]);
    assert_eq!(download.status, 200);
    assert_eq!(download.body, audio2);
    // Not downloaded yet: nothing to stream.
    let first_id = first["id"].as_str().unwrap().to_string();
    let r = server
        .get(&format!("/rest/stream?{BOB}&id={first_id}&f=json"))
        .json();
    assert_error(&r, 70);

    // The channel image, as it is and resized, for the channel and its episodes.
    let art = server.fetch(&format!("/rest/getCoverArt?{BOB}&id={channel_id}"), &[]);
    assert_eq!(art.status, 200);
    assert_eq!(art.header("content-type"), Some("image/png"));
    let small = server.fetch(
        &format!("/rest/getCoverArt?{BOB}&id={second_id}&size=16"),
        &[],
    );
    assert_eq!(small.status, 200);
    let small = image::load_from_memory(&small.body).unwrap();
    assert_eq!((small.width(), small.height()), (16, 12));

    // Bookmarks in episodes, per user; scrobbles count plays.
    ok(&server.call_both(
        "createBookmark",
        &format!("{BOB}&id={second_id}&position=1234&comment=here"),
    ));
    let r = server.call_both("getBookmarks", BOB);
    ok(&r);
    let mark = &r["bookmarks"]["bookmark"][0];
    assert_eq!(mark["position"], 1234);
    assert_eq!(mark["entry"]["id"], second_id);
    assert_eq!(mark["comment"], "here");
    let r = server.call_both("getBookmarks", ADMIN);
    assert_eq!(r["bookmarks"]["bookmark"], serde_json::json!([]), "{r}");
    assert_error(
        &server.call_both("createBookmark", &format!("{BOB}&id=pe-999&position=1")),
        70,
    );
    ok(&change(
        &server,
        "deleteBookmark",
        &format!("{BOB}&id={second_id}"),
        false,
    ));
    assert_error(
        &server.call_both("deleteBookmark", &format!("{BOB}&id={second_id}")),
        70,
    );
    ok(&change(
        &server,
        "scrobble",
        &format!("{BOB}&id={second_id}"),
        true,
    ));
    let r = server.call_both("getPodcastEpisode", &format!("{BOB}&id={second_id}"));
    assert_eq!(r["podcastEpisode"]["playCount"], 1);
    assert!(r["podcastEpisode"]["played"].is_string());
    assert_error(
        &server.call_both("scrobble", &format!("{BOB}&id=pe-999")),
        70,
    );

    // A refresh with a new episode: it appears once, however often the feed is read, and is
    // downloaded by itself.
    feeds.body(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Tea Talk",
            Some(&image),
            &[
                Item("g3", "Third", 3, &e3, "audio/wav"),
                Item("g2", "Second", 2, &e2, "audio/wav"),
                Item("g1", "First", 1, &e1, "audio/wav"),
            ],
        ),
    );
    ok(&server.call_both("refreshPodcasts", ADMIN));
    ok(&server.call_both("refreshPodcasts", ADMIN));
    channel_when(&server, &url, |c| {
        settled(c)
            && episodes(c)
                .iter()
                .any(|e| e["title"] == "Third" && e["status"] == "completed")
    });
    ok(&server.call_both("refreshPodcasts", ADMIN));
    std::thread::sleep(Duration::from_millis(500));
    let channel = channel_when(&server, &url, settled);
    let titles: Vec<String> = episodes(&channel)
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(titles, ["Third", "Second", "First"], "each GUID once");

    // Retention: keep = 2. A fourth episode downloaded deletes the oldest completed one
    // (Second) from disk; its row says deleted.
    let second_file =
        std::fs::read_dir(folder.path().join(format!("channel-{}", &channel_id[3..])))
            .unwrap()
            .filter_map(|e| e.ok())
            .find(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("episode-{}.", &second_id[3..]))
            })
            .expect("the second episode's file")
            .path();
    feeds.body(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Tea Talk",
            Some(&image),
            &[
                Item("g4", "Fourth", 4, &e4, "audio/wav"),
                Item("g3", "Third", 3, &e3, "audio/wav"),
                Item("g2", "Second", 2, &e2, "audio/wav"),
                Item("g1", "First", 1, &e1, "audio/wav"),
            ],
        ),
    );
    // bob may manage podcasts once granted the role.
    ok(&server.call_both(
        "updateUser",
        &format!("{ADMIN}&username=bob&podcastRole=true"),
    ));
    let r = server.call_both("getUser", &format!("{ADMIN}&username=bob"));
    assert_eq!(r["user"]["podcastRole"], true);
    ok(&server.call_both("refreshPodcasts", BOB));
    let channel = channel_when(&server, &url, |c| {
        settled(c)
            && episodes(c)
                .iter()
                .any(|e| e["title"] == "Fourth" && e["status"] == "completed")
    });
    assert_eq!(episode_by_title(&channel, "Second")["status"], "deleted");
    assert_eq!(episode_by_title(&channel, "Third")["status"], "completed");
    assert!(!second_file.exists(), "retention removed the file");

    // deletePodcastEpisode: gone from disk, marked deleted, not brought back by a refresh.
    let third_id = episode_by_title(&channel, "Third")["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&server.call_both("deletePodcastEpisode", &format!("{BOB}&id={third_id}")));
    assert_error(
        &server.call_both("deletePodcastEpisode", &format!("{BOB}&id=pe-999")),
        70,
    );
    ok(&server.call_both("refreshPodcasts", BOB));
    std::thread::sleep(Duration::from_millis(300));
    let channel = channel_when(&server, &url, settled);
    assert_eq!(episode_by_title(&channel, "Third")["status"], "deleted");
    let r = server
        .get(&format!("/rest/stream?{BOB}&id={third_id}&f=json"))
        .json();
    assert_error(&r, 70);

    // downloadPodcastEpisode fetches an older one again.
    ok(&server.call_both("downloadPodcastEpisode", &format!("{BOB}&id={first_id}")));
    assert_error(
        &server.call_both("downloadPodcastEpisode", &format!("{BOB}&id=pe-999")),
        70,
    );

    // deletePodcastChannel: the channel, its episodes and its folder go.
    ok(&change(
        &server,
        "deletePodcastChannel",
        &format!("{BOB}&id={channel_id}"),
        false,
    ));
    assert_error(
        &server.call_both("deletePodcastChannel", &format!("{BOB}&id={channel_id}")),
        70,
    );
    assert!(channels(&server).is_empty());
    wait_for("the channel folder to go", || {
        (!folder
            .path()
            .join(format!("channel-{}", &channel_id[3..]))
            .exists())
        .then_some(())
    });
}

#[test]
fn a_download_cut_off_halfway_resumes_with_a_range_request() {
    let feeds = FeedServer::start();
    let audio = wav(4);
    let half = audio.len() / 2;
    feeds.set(
        "/long.wav",
        Route::CutOnce {
            bytes: audio.clone(),
            cut_at: half,
            cut_done: false,
        },
    );
    let episode_url = feeds.url("/long.wav");
    feeds.body(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Long",
            None,
            &[Item("l1", "Long one", 5, &episode_url, "audio/wav")],
        ),
    );
    let folder = tempfile::tempdir().unwrap();
    let server = start(folder.path(), "download_new = 0\n");
    let url = feeds.url("/feed.xml");
    ok(&change(
        &server,
        "createPodcastChannel",
        &format!("{ADMIN}&url={url}"),
        false,
    ));
    let channel = channel_when(&server, &url, settled);
    let episode = episode_by_title(&channel, "Long one");
    assert_eq!(
        episode["status"], "new",
        "download_new = 0 downloads nothing"
    );
    let id = episode["id"].as_str().unwrap().to_string();

    ok(&change(
        &server,
        "downloadPodcastEpisode",
        &format!("{ADMIN}&id={id}"),
        true,
    ));
    let failed = channel_when(&server, &url, |c| {
        episode_by_title(c, "Long one")["status"] == "error"
    });
    let message = episode_by_title(&failed, "Long one")["errorMessage"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("cut off"), "{message}");
    assert!(feeds.ranges_asked("/long.wav").is_empty());

    ok(&change(
        &server,
        "downloadPodcastEpisode",
        &format!("{ADMIN}&id={id}"),
        false,
    ));
    channel_when(&server, &url, |c| {
        episode_by_title(c, "Long one")["status"] == "completed"
    });
    assert_eq!(
        feeds.ranges_asked("/long.wav"),
        [format!("bytes={half}-")],
        "the second attempt asks for the rest only"
    );
    let whole = server.fetch(&format!("/rest/stream?{ADMIN}&id={id}"), &[]);
    assert_eq!(whole.body, audio, "the resumed file is the whole file");
}

#[test]
fn bad_feeds_and_bad_episodes_show_their_errors_and_stop_nothing_else() {
    let feeds = FeedServer::start();
    feeds.body(
        "/invalid.xml",
        "application/rss+xml",
        b"<rss><channel><title>x</channel>".to_vec(),
    );
    feeds.body(
        "/page.html",
        "text/html",
        b"<html><body>hello</body></html>".to_vec(),
    );
    feeds.set(
        "/broken",
        Route::Body {
            status: 500,
            content_type: "text/plain",
            bytes: b"oops".to_vec(),
        },
    );
    feeds.set("/huge.xml", Route::Huge { mb: 50 });
    feeds.set(
        "/loop-a",
        Route::Redirect {
            status: 302,
            to: "/loop-b".into(),
        },
    );
    feeds.set(
        "/loop-b",
        Route::Redirect {
            status: 302,
            to: "/loop-a".into(),
        },
    );
    feeds.set(
        "/old.xml",
        Route::Redirect {
            status: 301,
            to: "/new.xml".into(),
        },
    );
    let audio = wav(1);
    feeds.body("/ok.wav", "audio/wav", audio.clone());
    feeds.body("/video.mp4", "video/mp4", vec![0u8; 500]);
    feeds.body(
        "/fake.mp3",
        "audio/mpeg",
        b"<html>not audio at all</html>".to_vec(),
    );
    let (ok_wav, video, fake) = (
        feeds.url("/ok.wav"),
        feeds.url("/video.mp4"),
        feeds.url("/fake.mp3"),
    );
    feeds.body(
        "/new.xml",
        "application/rss+xml",
        rss(
            "Moved",
            None,
            &[
                Item("m3", "Good", 3, &ok_wav, "audio/wav"),
                Item("m2", "Fake audio", 2, &fake, "audio/mpeg"),
                Item("m1", "A video", 1, &video, "video/mp4"),
            ],
        ),
    );
    feeds.body(
        "/unwritable.xml",
        "application/rss+xml",
        rss(
            "Unwritable",
            None,
            &[Item("u1", "Nowhere", 1, &ok_wav, "audio/wav")],
        ),
    );
    let folder = tempfile::tempdir().unwrap();
    let server = start(folder.path(), "download_new = 5\n");

    let expect = [
        ("/invalid.xml", "not valid XML"),
        ("/page.html", "not an RSS or Atom feed"),
        ("/missing.xml", "HTTP 404"),
        ("/broken", "HTTP 500"),
        ("/huge.xml", "larger than the limit"),
        ("/loop-a", "loop"),
    ];
    for (i, (path, _)) in expect.iter().enumerate() {
        let query = format!("{ADMIN}&url={}", feeds.url(path));
        ok(&change(&server, "createPodcastChannel", &query, i % 2 == 0));
    }
    // The unwritable channel's folder is taken by a file (the channel ids follow the order of
    // creation: this is the seventh).
    std::fs::create_dir_all(folder.path()).unwrap();
    std::fs::write(folder.path().join("channel-7"), b"in the way").unwrap();
    let query = format!("{ADMIN}&url={}", feeds.url("/unwritable.xml"));
    ok(&change(&server, "createPodcastChannel", &query, false));
    let query = format!("{ADMIN}&url={}", feeds.url("/old.xml"));
    ok(&change(&server, "createPodcastChannel", &query, true));

    for (path, words) in expect {
        let channel = channel_when(&server, &feeds.url(path), |c| c["status"] == "error");
        let message = channel["errorMessage"].as_str().unwrap();
        assert!(message.contains(words), "{path}: {message}");
    }

    // The moved feed is stored under its new URL, and its episodes each show their state.
    let moved = channel_when(&server, &feeds.url("/new.xml"), |c| {
        settled(c) && episode_by_title(c, "Good")["status"] == "completed"
    });
    assert_eq!(moved["status"], "completed");
    let video_episode = episode_by_title(&moved, "A video");
    assert_eq!(video_episode["status"], "skipped");
    assert!(
        video_episode["errorMessage"]
            .as_str()
            .unwrap()
            .contains("not audio"),
        "{video_episode}"
    );
    let fake_episode = episode_by_title(&moved, "Fake audio");
    assert_eq!(fake_episode["status"], "error");
    assert!(
        fake_episode["errorMessage"]
            .as_str()
            .unwrap()
            .contains("not audio"),
        "{fake_episode}"
    );
    let leftovers: Vec<String> = std::fs::read_dir(
        folder
            .path()
            .join(format!("channel-{}", &moved["id"].as_str().unwrap()[3..])),
    )
    .unwrap()
    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
    .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "only the good episode is kept: {leftovers:?}"
    );

    // A folder that cannot be written: the episode says why.
    let unwritable = channel_when(&server, &feeds.url("/unwritable.xml"), |c| {
        episodes(c).iter().any(|e| e["status"] == "error")
    });
    let message = episode_by_title(&unwritable, "Nowhere")["errorMessage"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("cannot write"), "{message}");

    // The server still answers everything else.
    ok(&server.call_both("ping", ADMIN));
    assert_eq!(channels(&server).len(), 8);
}
