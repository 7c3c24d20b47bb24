//! Cover art: finds the image for an album, track, artist, folder or playlist (folder images
//! chosen at scan time, embedded pictures read with lofty on demand, `artist.*` images in an
//! artist's folder), resizes it keeping the aspect ratio, and keeps resized copies in a
//! size-bounded disk cache. Also signs the public image URLs handed to clients that load them
//! without credentials. Knows nothing of Subsonic; all of it is blocking work, to be run off
//! the async threads.

pub mod cache;
pub mod picture;
pub mod resolve;
pub mod signing;

use crate::config::Config;
use crate::error::AppError;
use cache::DiskCache;
use sha2::{Digest, Sha256};
use signing::UrlSigner;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

pub use resolve::{Source, SourceKind, resolve};

/// Bump when the resize or encoding changes, so cached copies made the old way are not used.
const RENDER_VERSION: u8 = 2;

/// Sizes up to this are made from a copy of the picture at this size, kept in the cache: a
/// huge original is decoded once, not once per size asked for.
const MASTER_SIZE: u32 = 1500;

/// Why an image could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ArtworkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no picture could be read: {message}")]
    NoPicture { path: PathBuf, message: String },
    #[error("{path}: not a usable image: {message}")]
    BadImage { path: PathBuf, message: String },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// An image ready to send.
#[derive(Debug, Clone)]
pub struct Image {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    /// A strong validator: changes whenever the source file or the requested size does.
    pub etag: String,
}

/// The artwork service: the resized-image cache and the URL signer.
pub struct Artwork {
    cache: DiskCache,
    signer: UrlSigner,
    /// Decoded pixels held at once by all requests.
    decodes: picture::DecodeBudget,
    making_master: std::sync::Mutex<()>,
}

impl Artwork {
    /// Opens the cache (configured, or beside the database) and the URL signing key (beside
    /// the database, created on first start).
    pub fn open(config: &Config) -> Result<Self, AppError> {
        let dir = cache_dir(config);
        let cache =
            DiskCache::open(&dir, config.artwork.cache_size_mb * 1024 * 1024).map_err(|e| {
                AppError::File {
                    path: dir.clone(),
                    message: format!("cannot open the artwork cache: {e}"),
                }
            })?;
        let signer = UrlSigner::load_or_create(&config.database.path)?;
        Ok(Self {
            cache,
            signer,
            decodes: picture::DecodeBudget::new(picture::MAX_DECODE_BYTES),
            making_master: Default::default(),
        })
    }

    /// The signer of public image URLs.
    pub fn signer(&self) -> &UrlSigner {
        &self.signer
    }

    /// The disk cache of resized images.
    pub fn cache(&self) -> &DiskCache {
        &self.cache
    }

    /// The image of `source`, its longest side at most `size` pixels (never enlarged); the
    /// original bytes when `size` is None. Resized copies and embedded pictures come from the
    /// cache when they are there.
    pub fn render(&self, source: &Source, size: Option<u32>) -> Result<Image, ArtworkError> {
        let path = source.path();
        let meta = std::fs::metadata(path).map_err(|e| ArtworkError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let key = cache_key(source, &meta, size);
        let etag = format!("\"{}\"", &key[..32]);
        if let Some(bytes) = self.cache.get(&key) {
            return Ok(Image {
                content_type: picture::content_type(&bytes),
                bytes,
                etag,
            });
        }
        let bytes = match size {
            None => self.original(source)?,
            Some(size) if size <= MASTER_SIZE => {
                self.fit(source, &self.master(source, &meta)?, size)?
            }
            Some(size) => self.fit(source, &self.original(source)?, size)?,
        };
        // A folder image at its own size is read straight from the folder; everything that
        // cost work to produce is kept.
        if size.is_some() || source.kind == SourceKind::Embedded {
            self.cache.put(&key, &bytes);
        }
        Ok(Image {
            content_type: picture::content_type(&bytes),
            bytes,
            etag,
        })
    }
}

impl Artwork {
    /// The source's picture as it is.
    fn original(&self, source: &Source) -> Result<Vec<u8>, ArtworkError> {
        let path = source.path();
        match source.kind {
            SourceKind::File => std::fs::read(path).map_err(|e| ArtworkError::Io {
                path: path.to_path_buf(),
                source: e,
            }),
            SourceKind::Embedded => picture::embedded(path),
        }
    }

    /// The source's picture at MASTER_SIZE, from the cache, else made (one at a time, so a
    /// burst of requests for a new cover in several sizes decodes its original once).
    fn master(&self, source: &Source, meta: &std::fs::Metadata) -> Result<Vec<u8>, ArtworkError> {
        let key = cache_key(source, meta, Some(MASTER_SIZE));
        if let Some(bytes) = self.cache.get(&key) {
            return Ok(bytes);
        }
        let _one_at_a_time = self.making_master.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bytes) = self.cache.get(&key) {
            return Ok(bytes);
        }
        let master = self.fit(source, &self.original(source)?, MASTER_SIZE)?;
        self.cache.put(&key, &master);
        Ok(master)
    }

    /// `bytes` resized to `size`, decoded within the decode budget.
    fn fit(&self, source: &Source, bytes: &[u8], size: u32) -> Result<Vec<u8>, ArtworkError> {
        picture::fit_within(bytes, size, Some(&self.decodes)).map_err(|message| {
            ArtworkError::BadImage {
                path: source.path().to_path_buf(),
                message,
            }
        })
    }
}

/// Where resized images are kept: `artwork.cache_dir`, else `<database>.artwork-cache`.
pub fn cache_dir(config: &Config) -> PathBuf {
    if config.artwork.cache_dir.trim().is_empty() {
        let mut name = config.database.path.as_os_str().to_owned();
        name.push(".artwork-cache");
        PathBuf::from(name)
    } else {
        PathBuf::from(&config.artwork.cache_dir)
    }
}

/// Names one rendering of one version of a source file.
fn cache_key(source: &Source, meta: &std::fs::Metadata, size: Option<u32>) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let mut hash = Sha256::new();
    hash.update([RENDER_VERSION, source.kind as u8]);
    hash.update(source.path().as_os_str().as_encoded_bytes());
    hash.update(mtime.to_le_bytes());
    hash.update(meta.len().to_le_bytes());
    hash.update(size.unwrap_or(0).to_le_bytes());
    hex::encode(hash.finalize())
}

/// The path of a catalog entry from its music folder's path and its relative path.
fn join(folder: &str, rel: &str) -> PathBuf {
    let base = Path::new(folder);
    if rel.is_empty() {
        base.to_path_buf()
    } else {
        base.join(rel)
    }
}
