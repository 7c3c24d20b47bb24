//! Image bytes: embedded pictures read with lofty, resizing with the `image` crate, and the
//! content type of encoded bytes.
//!
//! Output format: a PNG source stays PNG (logos, drawings and transparency survive); every
//! other source becomes JPEG at quality 85, which is what photos of album covers want and what
//! every client decodes.

use super::ArtworkError;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, imageops::FilterType};
use lofty::ape::ApeTag;
use lofty::config::ParseOptions;
use lofty::file::{AudioFile, FileType, TaggedFileExt};
use lofty::picture::{Picture, PictureType};
use std::io::Cursor;
use std::path::Path;
use std::sync::{Condvar, Mutex};

/// JPEG quality of resized images.
const JPEG_QUALITY: u8 = 85;

/// Largest source image decoded, in bytes of pixel data (a 8000 x 8000 RGBA picture): bigger
/// ones are refused rather than allowed to exhaust memory.
pub const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// The front cover embedded in an audio file (else its first picture).
pub fn embedded(path: &Path) -> Result<Vec<u8>, ArtworkError> {
    let no_picture = |message: String| ArtworkError::NoPicture {
        path: path.to_path_buf(),
        message,
    };
    let mut pictures: Vec<Picture> = Vec::new();
    let file_type = FileType::from_path(path);
    if file_type.is_none() {
        // WMA, DSF, DFF: lofty does not read them; the scanner's own readers do.
        if let Some(found) = crate::scanner::tags::own_format_pictures(path) {
            let found = found.map_err(|e| no_picture(e.to_string()))?;
            return found
                .iter()
                .find(|(kind, _)| *kind == 3)
                .or_else(|| found.first())
                .map(|(_, data)| data.clone())
                .ok_or_else(|| no_picture("the file has no picture".into()));
        }
    }
    if matches!(
        file_type,
        Some(FileType::Ape | FileType::WavPack | FileType::Mpc)
    ) {
        // lofty's generic tag drops APE pictures; read the APE items themselves.
        if let Some(tag) = ape_tag(path, file_type).map_err(no_picture)? {
            for item in &tag {
                if let lofty::tag::ItemValue::Binary(bytes) = item.value()
                    && item.key().to_ascii_lowercase().starts_with("cover art")
                    && let Ok(p) = Picture::from_ape_bytes(item.key(), bytes.as_slice())
                {
                    pictures.push(p);
                }
            }
        }
    }
    if pictures.is_empty() {
        let tagged = lofty::read_from_path(path).map_err(|e| no_picture(e.to_string()))?;
        for tag in tagged.tags() {
            pictures.extend(tag.pictures().iter().cloned());
        }
    }
    let chosen = pictures
        .iter()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pictures.first())
        .ok_or_else(|| no_picture("the file has no picture".into()))?;
    Ok(chosen.data().to_vec())
}

fn ape_tag(path: &Path, file_type: Option<FileType>) -> Result<Option<ApeTag>, String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let options = ParseOptions::new();
    let tag = match file_type {
        Some(FileType::Ape) => lofty::ape::ApeFile::read_from(&mut file, options)
            .map_err(|e| e.to_string())?
            .ape()
            .cloned(),
        Some(FileType::WavPack) => lofty::wavpack::WavPackFile::read_from(&mut file, options)
            .map_err(|e| e.to_string())?
            .ape()
            .cloned(),
        Some(FileType::Mpc) => lofty::musepack::MpcFile::read_from(&mut file, options)
            .map_err(|e| e.to_string())?
            .ape()
            .cloned(),
        _ => None,
    };
    Ok(tag)
}

/// The MIME type of encoded image bytes (JPEG when unrecognised: the usual cover format).
pub fn content_type(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(ImageFormat::Png) => "image/png",
        Ok(ImageFormat::Gif) => "image/gif",
        Ok(ImageFormat::WebP) => "image/webp",
        Ok(ImageFormat::Bmp) => "image/bmp",
        _ => "image/jpeg",
    }
}

/// Decodes `bytes`, refusing pictures too large to decode safely.
pub fn decode(bytes: &[u8]) -> Result<(DynamicImage, ImageFormat), String> {
    decode_within(bytes, None).map(|(image, format, _)| (image, format))
}

/// Decodes `bytes`, first reserving the decoded size from `budget` (waiting while other
/// decodes use it up); the reservation lasts as long as the returned one.
fn decode_within<'a>(
    bytes: &[u8],
    budget: Option<&'a DecodeBudget>,
) -> Result<(DynamicImage, ImageFormat, Option<Reservation<'a>>), String> {
    let open = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())
    };
    let mut reader = open()?;
    let format = reader
        .format()
        .ok_or_else(|| "unknown image format".to_string())?;
    let reservation = match budget {
        Some(budget) => {
            let decoder = reader.into_decoder().map_err(|e| e.to_string())?;
            let (w, h) = decoder.dimensions();
            let need = decoder.total_bytes();
            if need > MAX_DECODE_BYTES {
                return Err(format!("{w} x {h} pixels is too large to decode"));
            }
            reader = open()?;
            Some(budget.reserve(need))
        }
        None => None,
    };
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| e.to_string())?;
    Ok((image, format, reservation))
}

/// The image scaled so its longest side is `size` pixels, keeping the aspect ratio. An image
/// already that small is returned as it is (never enlarged, never re-encoded).
pub fn fit(bytes: &[u8], size: u32) -> Result<Vec<u8>, String> {
    fit_within(bytes, size, None)
}

/// `fit`, decoding only within `budget` (see `DecodeBudget`).
pub fn fit_within(
    bytes: &[u8],
    size: u32,
    budget: Option<&DecodeBudget>,
) -> Result<Vec<u8>, String> {
    // The reservation lasts until the resized copy is made.
    let (image, format, _reservation) = decode_within(bytes, budget)?;
    let size = size.max(1);
    let (w, h) = (image.width(), image.height());
    if w.max(h) <= size {
        return Ok(bytes.to_vec());
    }
    let ratio = f64::from(size) / f64::from(w.max(h));
    let scaled = |side: u32| ((f64::from(side) * ratio).round() as u32).max(1);
    // A picture many times the size is first shrunk with a fast filter that needs no
    // floating-point copy of the whole picture (hundreds of MB for a 9000 x 9000 cover).
    let image = if w.max(h) > size.saturating_mul(3) {
        let step = size.saturating_mul(2);
        image.thumbnail(step, step)
    } else {
        image
    };
    let resized = image.resize_exact(scaled(w), scaled(h), FilterType::CatmullRom);
    let mut out = Cursor::new(Vec::new());
    if format == ImageFormat::Png {
        resized
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|e| e.to_string())?;
    } else {
        let rgb = DynamicImage::ImageRgb8(resized.to_rgb8());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
        rgb.write_with_encoder(encoder).map_err(|e| e.to_string())?;
    }
    Ok(out.into_inner())
}

/// Bytes of decoded pictures held at once by all the decodes that share it: a burst of
/// requests for huge pictures waits in turn instead of decoding them all together.
pub struct DecodeBudget {
    total: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

/// Part of a budget in use; given back when dropped.
struct Reservation<'a> {
    budget: &'a DecodeBudget,
    bytes: u64,
}

impl DecodeBudget {
    pub fn new(total: u64) -> Self {
        Self {
            total,
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits until `bytes` fit in what is left (or, bigger than the whole budget, until no
    /// other decode runs). Blocking.
    fn reserve(&self, bytes: u64) -> Reservation<'_> {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used > 0 && *used + bytes > self.total {
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += bytes;
        Reservation {
            budget: self,
            bytes,
        }
    }

    /// Bytes reserved now.
    pub fn in_use(&self) -> u64 {
        *self.used.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().unwrap_or_else(|e| e.into_inner());
        *used -= self.bytes;
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, Rgba};

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img)
            .write_to(&mut out, ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn fit_keeps_the_aspect_ratio_and_never_enlarges() {
        let wide = jpeg(400, 200);
        let small = fit(&wide, 100).unwrap();
        assert_eq!(content_type(&small), "image/jpeg");
        let (img, _) = decode(&small).unwrap();
        assert_eq!((img.width(), img.height()), (100, 50));
        let tall = jpeg(120, 360);
        let (img, _) = decode(&fit(&tall, 90).unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (30, 90));
        assert_eq!(fit(&wide, 400).unwrap(), wide);
        assert_eq!(fit(&wide, 1000).unwrap(), wide);
    }

    #[test]
    fn png_stays_png_with_its_transparency() {
        let img = ImageBuffer::from_fn(64, 32, |x, _| Rgba([255, 0, 0, (x * 4) as u8]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(img)
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        let small = fit(out.get_ref(), 16).unwrap();
        assert_eq!(content_type(&small), "image/png");
        let (img, _) = decode(&small).unwrap();
        assert_eq!((img.width(), img.height()), (16, 8));
        assert!(img.color().has_alpha());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(fit(b"not an image at all", 10).is_err());
        assert!(decode(&[]).is_err());
    }

    #[test]
    fn embedded_pictures_of_every_tag_kind() {
        use crate::synth::{Format, TrackSpec, cover_jpg, write_track};
        let dir = tempfile::tempdir().unwrap();
        for format in Format::all() {
            let path = dir.path().join(format!("t.{}", format.extension()));
            let spec = TrackSpec {
                title: "x".into(),
                embedded_art: true,
                ..Default::default()
            };
            write_track(&path, *format, &spec).unwrap();
            let bytes = embedded(&path).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(bytes, cover_jpg(), "{format:?}");
            let bare = dir.path().join(format!("bare.{}", format.extension()));
            write_track(&bare, *format, &TrackSpec::default()).unwrap();
            assert!(embedded(&bare).is_err(), "{format:?}");
        }
    }

    #[test]
    fn decodes_wait_for_the_budget_and_give_it_back() {
        let budget = std::sync::Arc::new(DecodeBudget::new(100));
        let first = budget.reserve(80);
        let (tx, rx) = std::sync::mpsc::channel();
        let waiting = budget.clone();
        let t = std::thread::spawn(move || {
            let r = waiting.reserve(30);
            tx.send(waiting.in_use()).unwrap();
            drop(r);
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "80 + 30 is over 100: it waits"
        );
        drop(first);
        assert_eq!(
            rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(),
            30
        );
        t.join().unwrap();
        assert_eq!(budget.in_use(), 0);
        // Bigger than the whole budget: it runs alone.
        drop(budget.reserve(1000));
        // A picture whose size fits the budget goes through it.
        let big = jpeg(600, 300);
        let small = fit_within(&big, 100, Some(&budget)).unwrap();
        let (img, _) = decode(&small).unwrap();
        assert_eq!((img.width(), img.height()), (100, 50));
        assert_eq!(budget.in_use(), 0);
    }
}
