//! Cover art over real HTTP: coverArt ids on songs, albums, artists and folders; getCoverArt
//! for folder images (JPEG and PNG), embedded pictures and artist images (from the artist's
//! folder, else an album cover); resizing that keeps the aspect ratio; the disk cache; ETag and
//! 304; ids that change when the art does; the signed public image URLs of artist and album
//! info; errors 10, 50 and 70 in XML and JSON.

mod common;

use common::api::*;
use diesel::prelude::*;
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb, Rgba};
use mediastreamer::synth::{Format, TrackSpec, cover_jpg};
use serde_json::Value;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Fixture {
    server: Server,
    music: PathBuf,
    db: PathBuf,
}

fn jpeg(w: u32, h: u32, shade: u8) -> Vec<u8> {
    let img = ImageBuffer::from_fn(w, h, |x, y| Rgb([shade, (x % 200) as u8, (y % 200) as u8]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(w, h, |x, _| Rgba([0, 0, 255, (x % 256) as u8]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(img)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut paths = (PathBuf::new(), PathBuf::new());
        let server = start_server(7, |music| {
            paths = (
                music.to_path_buf(),
                music.parent().unwrap().join("catalog.db"),
            );
            let with_art = |spec: TrackSpec| TrackSpec {
                embedded_art: true,
                ..spec
            };
            // A folder image (PNG, 200x100) beside a track with its own picture and one without.
            put(
                music,
                "Band/Album A/01.mp3",
                Format::Mp3,
                with_art(song("A1", "Band", "Album A", "Band", 1)),
            );
            put(
                music,
                "Band/Album A/02.mp3",
                Format::Mp3,
                song("A2", "Band", "Album A", "Band", 2),
            );
            std::fs::write(music.join("Band/Album A/cover.png"), png(200, 100)).unwrap();
            std::fs::write(music.join("Band/artist.jpg"), jpeg(300, 300, 10)).unwrap();
            // Only an embedded picture; the artist has no image of their own.
            put(
                music,
                "Solo/Only/01.flac",
                Format::Flac,
                with_art(song("S1", "Solo", "Only", "Solo", 1)),
            );
            // No art at all.
            put(
                music,
                "Plain/Bare/01.ogg",
                Format::Ogg,
                song("P1", "Plain", "Bare", "Plain", 1),
            );
            // A big wide JPEG folder image.
            put(
                music,
                "Wide/Panorama/01.mp3",
                Format::Mp3,
                song("W1", "Wide", "Panorama", "Wide", 1),
            );
            std::fs::write(music.join("Wide/Panorama/cover.jpg"), jpeg(800, 400, 200)).unwrap();
            // Art that the test replaces.
            put(
                music,
                "Change/Me/01.mp3",
                Format::Mp3,
                song("C1", "Change", "Me", "Change", 1),
            );
            std::fs::write(music.join("Change/Me/cover.jpg"), jpeg(40, 40, 50)).unwrap();
            // A disc folder inside an album folder that holds the image.
            put(
                music,
                "Multi/Set/CD1/01.mp3",
                Format::Mp3,
                song("M1", "Multi", "Set", "Multi", 1),
            );
            std::fs::write(music.join("Multi/Set/folder.jpg"), jpeg(30, 60, 90)).unwrap();
        });
        Fixture {
            server,
            music: paths.0,
            db: paths.1,
        }
    })
}

fn server() -> &'static Server {
    &fixture().server
}

fn db() -> SqliteConnection {
    mediastreamer::db::connect(&fixture().db).unwrap()
}

fn cache_dir() -> PathBuf {
    let mut name = fixture().db.as_os_str().to_owned();
    name.push(".artwork-cache");
    PathBuf::from(name)
}

fn json(method: &str, query: &str) -> Value {
    let r = server().call_both(method, &format!("{ADMIN}&{query}"));
    assert_eq!(r["status"], "ok", "{r}");
    r
}

fn album(name: &str) -> Value {
    let list = json("getAlbumList2", "type=alphabeticalByName&size=100");
    let id = list["albumList2"]["album"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no album {name}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    json("getAlbum", &format!("id={id}"))["album"].clone()
}

fn artist(name: &str) -> Value {
    let r = json("getArtists", "");
    r["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().clone())
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no artist {name}"))
}

fn cover(id: &str, extra: &str) -> RawResponse {
    server().fetch(&format!("/rest/getCoverArt?{ADMIN}&id={id}{extra}"), &[])
}

fn decode(body: &[u8]) -> DynamicImage {
    image::load_from_memory(body).unwrap()
}

#[test]
fn cover_art_ids_are_versioned_and_only_where_there_is_art() {
    let a = album("Album A");
    let album_cover = a["coverArt"].as_str().unwrap();
    let album_id = a["id"].as_str().unwrap();
    assert!(album_cover.starts_with(&format!("{album_id}-")), "{a}");
    assert!(!album_cover.contains(';'));
    let songs = a["song"].as_array().unwrap();
    // A1 has its own picture; A2 shows the album's.
    assert!(songs[0]["coverArt"].as_str().unwrap().starts_with("tr-"));
    assert_eq!(songs[1]["coverArt"], album_cover);
    // getSong, search3 and the album lists carry the same ids.
    let song = json(
        "getSong",
        &format!("id={}", songs[1]["id"].as_str().unwrap()),
    );
    assert_eq!(song["song"]["coverArt"], album_cover);
    let list = json("getAlbumList", "type=alphabeticalByName&size=100");
    let child = list["albumList"]["album"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "Album A")
        .unwrap()
        .clone();
    assert_eq!(child["coverArt"], album_cover);

    // No art: no coverArt attribute.
    let bare = album("Bare");
    assert!(bare.get("coverArt").is_none(), "{bare}");
    assert!(bare["song"][0].get("coverArt").is_none());

    let band = artist("Band");
    let band_cover = band["coverArt"].as_str().unwrap();
    assert!(band_cover.starts_with(&format!("{}-", band["id"].as_str().unwrap())));
    assert_eq!(
        json("getArtist", &format!("id={}", band["id"].as_str().unwrap()))["artist"]["coverArt"],
        band_cover
    );

    // Folders: the album folder carries its image's id, the artist folder (no chosen image)
    // none.
    let indexes = json("getIndexes", "");
    let band_dir = indexes["indexes"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().clone())
        .find(|a| a["name"] == "Band")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = json("getMusicDirectory", &format!("id={band_dir}"));
    let album_dir = dir["directory"]["child"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "Album A")
        .unwrap()
        .clone();
    let dir_cover = album_dir["coverArt"].as_str().unwrap();
    assert!(dir_cover.starts_with(&format!("{}-", album_dir["id"].as_str().unwrap())));
    let r = cover(dir_cover, "");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        std::fs::read(fixture().music.join("Band/Album A/cover.png")).unwrap()
    );
}

#[test]
fn folder_images_and_embedded_pictures_with_caching_headers() {
    let a = album("Album A");
    let id = a["coverArt"].as_str().unwrap();
    let r = cover(id, "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    let file = std::fs::read(fixture().music.join("Band/Album A/cover.png")).unwrap();
    assert_eq!(r.body, file);
    assert_eq!(r.header("content-length").unwrap(), file.len().to_string());
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let etag = r.header("etag").unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");

    // The client's copy is current: 304, no body.
    let again = server().fetch(
        &format!("/rest/getCoverArt?{ADMIN}&id={id}"),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let stale = server().fetch(
        &format!("/rest/getCoverArt?{ADMIN}&id={id}"),
        &[("If-None-Match", "\"other\"")],
    );
    assert_eq!(stale.status, 200);

    // The bare album id works too, with a shorter cache life.
    let bare = cover(a["id"].as_str().unwrap(), "");
    assert_eq!(bare.body, file);
    assert_eq!(bare.header("cache-control"), Some("public, max-age=86400"));

    // A track's own embedded picture; an album whose cover is embedded.
    let song_cover = a["song"][0]["coverArt"].as_str().unwrap();
    let r = cover(song_cover, "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert_eq!(r.body, cover_jpg());
    let solo = album("Only");
    let r = cover(solo["coverArt"].as_str().unwrap(), "");
    assert_eq!(r.body, cover_jpg());

    // A disc folder's album uses the image in the album folder above it.
    let set = album("Set");
    let r = cover(set["coverArt"].as_str().unwrap(), "");
    assert_eq!(
        r.body,
        std::fs::read(fixture().music.join("Multi/Set/folder.jpg")).unwrap()
    );
}

#[test]
fn resizing_keeps_the_aspect_ratio_never_enlarges_and_keeps_png() {
    let wide = album("Panorama");
    let id = wide["coverArt"].as_str().unwrap();
    let r = cover(id, "&size=200");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    let img = decode(&r.body);
    assert_eq!((img.width(), img.height()), (200, 100));
    // Larger than the original: the original itself.
    let big = cover(id, "&size=2000");
    assert_eq!(
        big.body,
        std::fs::read(fixture().music.join("Wide/Panorama/cover.jpg")).unwrap()
    );
    // Sizes change the ETag.
    assert_ne!(r.header("etag"), big.header("etag"));

    let png = cover(album("Album A")["coverArt"].as_str().unwrap(), "&size=50");
    assert_eq!(png.header("content-type"), Some("image/png"));
    let img = decode(&png.body);
    assert_eq!((img.width(), img.height()), (50, 25));
    assert!(img.color().has_alpha());
}

fn cache_files() -> Vec<PathBuf> {
    std::fs::read_dir(cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn resized_images_are_served_from_the_disk_cache() {
    let id = album("Panorama")["coverArt"].as_str().unwrap().to_string();
    let before = cache_files();
    let first = cover(&id, "&size=123");
    assert_eq!(decode(&first.body).width(), 123);
    // Other tests write to the cache at the same time: find this image's copy by content.
    let new: Vec<PathBuf> = cache_files()
        .into_iter()
        .filter(|p| !before.contains(p) && std::fs::read(p).is_ok_and(|b| b == first.body))
        .collect();
    assert_eq!(new.len(), 1, "one resized copy written: {new:?}");
    // The second request reads the cached copy: replace it and see the replacement served.
    let marker = jpeg(10, 10, 7);
    std::fs::write(&new[0], &marker).unwrap();
    let second = cover(&id, "&size=123");
    assert_eq!(second.body, marker);
    assert_eq!(second.header("etag"), first.header("etag"));
    assert!(
        !cache_files()
            .iter()
            .any(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
    );
}

#[test]
fn artist_images_come_from_the_artist_folder_else_an_album() {
    let band = artist("Band");
    let r = cover(band["coverArt"].as_str().unwrap(), "");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        std::fs::read(fixture().music.join("Band/artist.jpg")).unwrap()
    );
    let small = cover(band["coverArt"].as_str().unwrap(), "&size=100");
    let img = decode(&small.body);
    assert_eq!((img.width(), img.height()), (100, 100));
    // No artist image: the cover of their album.
    let solo = artist("Solo");
    let r = cover(solo["coverArt"].as_str().unwrap(), "");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, cover_jpg());
}

/// Asserts that getCoverArt with `query` fails with `code`, in XML and in JSON.
fn cover_error(query: &str, code: i64) {
    let xml = server().fetch(&format!("/rest/getCoverArt?{query}"), &[]);
    assert_eq!(xml.status, 200);
    assert!(xml.header("content-type").unwrap().starts_with("text/xml"));
    let body = String::from_utf8(xml.body).unwrap();
    assert!(body.contains(&format!("code=\"{code}\"")), "{body}");
    assert_valid_xml(&body);
    let json = server().fetch(&format!("/rest/getCoverArt?{query}&f=json"), &[]);
    assert!(
        json.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_error(&json.json(), code);
}

#[test]
fn errors_missing_unknown_no_art_and_no_role() {
    cover_error(ADMIN, 10);
    cover_error(&format!("{ADMIN}&id=al-99999"), 70);
    cover_error(&format!("{ADMIN}&id=al-99999-abcdef12"), 70);
    cover_error(&format!("{ADMIN}&id=nonsense"), 70);
    cover_error(&format!("{ADMIN}&id=al-1;al-2"), 70);
    let bare = album("Bare");
    cover_error(&format!("{ADMIN}&id={}", bare["id"].as_str().unwrap()), 70);
    cover_error(
        &format!("{ADMIN}&id={}", bare["song"][0]["id"].as_str().unwrap()),
        70,
    );
    // An album artist without any art: no coverArt, and their bare id finds nothing.
    let plain = artist("Plain");
    assert!(plain.get("coverArt").is_none(), "{plain}");
    cover_error(&format!("{ADMIN}&id={}", plain["id"].as_str().unwrap()), 70);
    cover_error(
        &format!(
            "{ADMIN}&id={}&size=big",
            album("Album A")["coverArt"].as_str().unwrap()
        ),
        0,
    );
    // Without the cover-art role.
    use mediastreamer::db::schema::users;
    diesel::update(users::table.filter(users::name.eq("bob")))
        .set(users::cover_art_role.eq(false))
        .execute(&mut db())
        .unwrap();
    let id = album("Album A")["coverArt"].as_str().unwrap().to_string();
    cover_error(&format!("{BOB}&id={id}"), 50);
}

/// Starts a scan and waits until `done` holds (the scan runs in the background).
fn rescan_until(done: impl Fn() -> bool) {
    let r = server().get(&format!("/rest/startScan?{ADMIN}&f=json"));
    assert_eq!(r.json()["status"], "ok");
    let began = Instant::now();
    while !done() {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the rescan never showed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_new_image_gives_a_new_cover_id_and_new_bytes() {
    let before = album("Me");
    let old_id = before["coverArt"].as_str().unwrap().to_string();
    let old = cover(&old_id, "");
    let dir = fixture().music.join("Change/Me");
    // Replaced the way editors and taggers do it: a new file renamed over the old one.
    let new_image = jpeg(60, 30, 250);
    std::fs::write(dir.join(".new.jpg"), &new_image).unwrap();
    std::fs::rename(dir.join(".new.jpg"), dir.join("cover.jpg")).unwrap();
    rescan_until(|| album("Me")["coverArt"] != old_id.as_str());
    let after = album("Me");
    let new_id = after["coverArt"].as_str().unwrap().to_string();
    assert_ne!(new_id, old_id);
    let r = cover(&new_id, "");
    assert_eq!(r.body, new_image);
    assert_ne!(r.header("etag"), old.header("etag"));
    assert_eq!(after["song"][0]["coverArt"], new_id.as_str());

    // Overwritten in place (no rescan sees it): the same id, but new bytes and a new ETag,
    // so a revalidating client notices.
    let in_place = jpeg(20, 20, 1);
    std::fs::write(dir.join("cover.jpg"), &in_place).unwrap();
    let r2 = server().fetch(
        &format!("/rest/getCoverArt?{ADMIN}&id={new_id}"),
        &[("If-None-Match", r.header("etag").unwrap())],
    );
    assert_eq!(r2.status, 200);
    assert_eq!(r2.body, in_place);
}

/// The path and query of an absolute URL.
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").unwrap().1;
    &rest[rest.find('/').unwrap()..]
}

#[test]
fn info_image_urls_are_signed_public_links_to_our_cover_art() {
    let band = artist("Band");
    let info = json(
        "getArtistInfo2",
        &format!("id={}", band["id"].as_str().unwrap()),
    );
    let info = &info["artistInfo2"];
    let large = info["largeImageUrl"].as_str().unwrap();
    assert!(large.starts_with("http://localhost/img/"), "{large}");
    assert!(info["smallImageUrl"].as_str().unwrap().contains("size=150"));
    assert!(
        info["mediumImageUrl"]
            .as_str()
            .unwrap()
            .contains("size=300")
    );
    // No credentials needed.
    let r = server().fetch(path_of(large), &[]);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let img = decode(&r.body);
    assert_eq!((img.width(), img.height()), (300, 300));
    // An artist's image is revalidated: a new artist.* file does not change its id.
    assert_eq!(r.header("cache-control"), Some("public, max-age=86400"));
    let small = server().fetch(path_of(info["smallImageUrl"].as_str().unwrap()), &[]);
    assert_eq!(decode(&small.body).width(), 150);

    // The folder-mode variant carries them too.
    let info1 = json(
        "getArtistInfo",
        &format!("id={}", band["id"].as_str().unwrap()),
    );
    assert_eq!(info1["artistInfo"]["largeImageUrl"], large);

    // A changed size, id or signature is refused.
    let forged = path_of(large).replace("size=600", "size=601");
    assert_eq!(server().fetch(&forged, &[]).status, 403);
    let other = album("Only")["coverArt"].as_str().unwrap().to_string();
    let sig = large.split("sig=").nth(1).unwrap();
    assert_eq!(
        server()
            .fetch(&format!("/img/{other}?size=600&sig={sig}"), &[])
            .status,
        403
    );
    assert_eq!(
        server()
            .fetch(&format!("/img/{other}?size=600"), &[])
            .status,
        403
    );

    // Album info: the album's cover, resized.
    let a = album("Panorama");
    let info = json(
        "getAlbumInfo2",
        &format!("id={}", a["id"].as_str().unwrap()),
    );
    let url = info["albumInfo"]["mediumImageUrl"].as_str().unwrap();
    assert!(url.contains(a["coverArt"].as_str().unwrap()));
    let img = decode(&server().fetch(path_of(url), &[]).body);
    assert_eq!((img.width(), img.height()), (300, 150));
    let info = json("getAlbumInfo", &format!("id={}", a["id"].as_str().unwrap()));
    assert_eq!(info["albumInfo"]["mediumImageUrl"], url);

    // No art: no image URLs.
    let bare = album("Bare");
    let info = json(
        "getAlbumInfo2",
        &format!("id={}", bare["id"].as_str().unwrap()),
    );
    assert!(info["albumInfo"].get("smallImageUrl").is_none(), "{info}");
}

#[test]
fn the_cache_directory_lies_beside_the_database() {
    let _ = fixture();
    assert!(cache_dir().is_dir());
    assert!(Path::new(&format!("{}.artwork.key", fixture().db.display())).is_file());
}

#[test]
fn a_huge_cover_is_decoded_once_for_all_the_sizes_asked_for() {
    let server = start_server(1, |music| {
        put(
            music,
            "Huge/Cover/01.mp3",
            Format::Mp3,
            song("One", "Huge", "Cover", "Huge", 1),
        );
        std::fs::write(music.join("Huge/Cover/cover.jpg"), jpeg(3000, 2000, 40)).unwrap();
    });
    let list = server
        .get(&format!("/rest/getAlbumList2?{ADMIN}&type=newest&f=json"))
        .json();
    let id = list["albumList2"]["album"][0]["coverArt"]
        .as_str()
        .unwrap()
        .to_string();
    // Four clients ask for four new sizes at once.
    let sizes = [100u32, 200, 300, 400];
    let images: Vec<DynamicImage> = std::thread::scope(|s| {
        let handles: Vec<_> = sizes
            .iter()
            .map(|size| {
                let path = format!("/rest/getCoverArt?{ADMIN}&id={id}&size={size}");
                let server = &server;
                s.spawn(move || decode(&server.fetch(&path, &[]).body))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (image, size) in images.iter().zip(sizes) {
        let height = (f64::from(size) * 2.0 / 3.0).round() as u32;
        assert_eq!((image.width(), image.height()), (size, height));
    }
    // The cache holds one copy at 1500 pixels, made from the original once, which every
    // size was made from, beside the four resized copies.
    let cache = server
        .config
        .parent()
        .unwrap()
        .join("catalog.db.artwork-cache");
    let mut widths: Vec<u32> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| decode(&std::fs::read(e.unwrap().path()).unwrap()).width())
        .collect();
    widths.sort_unstable();
    assert_eq!(widths, [100, 200, 300, 400, 1500]);
}
