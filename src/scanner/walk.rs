//! Discovery: walks a music folder depth-first, one directory at a time, and hands each
//! directory's listing (audio files with their stat data, images, sidecar lyrics, playlists) to
//! a callback.
//!
//! Memory stays bounded by the depth of the tree and the size of one directory: nothing about
//! the library as a whole is kept, except the set of visited directories (for loop detection).
//! Symlinks are followed; a directory reached twice (a loop, or two links to one place) is
//! walked once. Problems are reported per path and never stop the walk.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Extensions (lower case) of the audio files the scanner reads.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "mp3", "mp2", "flac", "ogg", "oga", "opus", "spx", "m4a", "m4b", "mp4", "aac", "wav", "aif",
    "aiff", "aifc", "wv", "ape", "mpc", "wma", "dsf", "dff",
];

/// Extensions of audio formats the scanner cannot catalog (no reader, or protected): such
/// files are reported as problems, never skipped in silence.
pub const UNREAD_AUDIO_EXTENSIONS: &[&str] = &[
    "tak", "shn", "tta", "ofr", "ofs", "mka", "ac3", "dts", "ra", "rm", "amr", "awb", "au", "snd",
    "caf", "mid", "midi", "kar", "m4p", "m4r", "aa", "aax", "mod", "xm", "it", "s3m", "asf",
    "weba",
];

/// Extensions of files that are never audio (sidecars, documents, video, archives): the only
/// files of unknown type whose first bytes are not checked for audio.
const NON_AUDIO_EXTENSIONS: &[&str] = &[
    "txt", "log", "cue", "nfo", "pdf", "md5", "sfv", "ffp", "st5", "accurip", "db", "ini", "url",
    "html", "htm", "xml", "json", "doc", "docx", "odt", "rtf", "md", "srt", "sha1", "sha256",
    "par2", "zip", "rar", "7z", "gz", "tar", "exe", "torrent", "tif", "tiff", "ico", "psd", "svg",
    "heic", "avif", "jxl", "m3u", "m3u8", "pls", "xspf", "wpl", "mkv", "avi", "mov", "mpg", "mpeg",
    "wmv", "flv", "ts", "vob", "iso", "nrg", "toc", "lrc", "css", "js",
];

/// The audio format a file's first bytes announce, if any.
fn audio_signature(head: &[u8]) -> Option<&'static str> {
    let at = |i: usize, sig: &[u8]| head.get(i..i + sig.len()) == Some(sig);
    Some(if at(0, b"ID3") {
        "MP3"
    } else if at(0, b"fLaC") {
        "FLAC"
    } else if at(0, b"OggS") {
        "Ogg"
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        "WAV"
    } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        "AIFF"
    } else if at(0, &super::asf::HEADER) {
        "WMA"
    } else if let Some(kind) = super::dsd::sniff(head) {
        match kind {
            super::dsd::DsdKind::Dsf => "DSF",
            super::dsd::DsdKind::Dff => "DFF",
        }
    } else if at(0, b"wvpk") {
        "WavPack"
    } else if at(0, b"MAC ") {
        "Monkey's Audio"
    } else if at(0, b"MPCK") || at(0, b"MP+") {
        "Musepack"
    } else if at(4, b"ftypM4A") || at(4, b"ftypM4B") {
        "MP4 audio"
    } else {
        return None;
    })
}

/// What a file's name alone tells about a file the scanner does not catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnreadByName {
    /// An audio extension the scanner cannot read: reported with this reason.
    Unsupported(String),
    /// A name that is never audio (images, sidecars, documents...).
    NotAudio,
    /// Only the file's first bytes can tell ([`unread_audio_signature`]).
    Unknown,
}

/// See [`UnreadByName`].
pub fn unread_audio_by_name(ext: Option<&str>) -> UnreadByName {
    if let Some(ext) = ext {
        if UNREAD_AUDIO_EXTENSIONS.contains(&ext) {
            return UnreadByName::Unsupported(format!(".{ext} audio files are not supported"));
        }
        if IMAGE_EXTENSIONS.contains(&ext) || NON_AUDIO_EXTENSIONS.contains(&ext) {
            return UnreadByName::NotAudio;
        }
    }
    UnreadByName::Unknown
}

/// Whether a file under a name the scanner does not read holds audio, by its first bytes:
/// the reason to report it. Opens the file: the scan only calls it for files that are new
/// or changed since the last scan (see `run::DirContext`).
pub fn unread_audio_signature(path: &Path, name: &str) -> Option<String> {
    let mut head = [0u8; 16];
    let n = fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .ok()?;
    let kind = audio_signature(&head[..n])?;
    let name = extension(name).map_or_else(|| "no extension".to_owned(), |e| format!(".{e}"));
    Some(format!(
        "{kind} audio under a name the scanner does not read ({name}); rename it to include it"
    ))
}

/// Extensions of folder images considered as cover art.
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif", "bmp"];

/// Deepest directory nesting followed; deeper trees are reported, not walked.
const MAX_DEPTH: usize = 128;

/// One audio file found in a directory.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub name: String,
    /// Path relative to the music folder.
    pub rel_path: String,
    pub size: i64,
    pub mtime_ms: i64,
}

/// One directory's contents, as far as the scanner cares.
#[derive(Debug)]
pub struct DirListing {
    pub abs_path: PathBuf,
    /// Relative to the music folder, '/'-separated; "" for the folder itself.
    pub rel_path: String,
    pub name: String,
    pub mtime_ms: i64,
    pub audio: Vec<FileEntry>,
    pub images: Vec<String>,
    /// File names of .lrc files, for sidecar lyrics.
    pub lyrics_files: Vec<String>,
    /// M3U/M3U8 playlist files, with their stat data.
    pub playlists: Vec<FileEntry>,
    /// Files of unknown type whose first bytes may announce audio, with their stat data: the
    /// scan decides whether to look (the walk opens no file).
    pub unknown: Vec<FileEntry>,
}

impl DirListing {
    /// The relative path of this directory's parent ("" for a top-level folder), None for the
    /// music folder itself.
    pub fn parent_rel_path(&self) -> Option<&str> {
        if self.rel_path.is_empty() {
            None
        } else {
            Some(self.rel_path.rsplit_once('/').map_or("", |(p, _)| p))
        }
    }

    /// The sidecar .lrc file for an audio file name, if the directory has one.
    pub fn sidecar_lyrics(&self, audio_name: &str) -> Option<PathBuf> {
        let stem = audio_name.rsplit_once('.').map_or(audio_name, |(s, _)| s);
        self.lyrics_files
            .iter()
            .find(|l| l.rsplit_once('.').is_some_and(|(s, _)| s == stem))
            .map(|l| self.abs_path.join(l))
    }
}

/// Skip rules: hidden names always, plus the user's `scan.ignore` globs.
pub struct IgnoreRules {
    globs: GlobSet,
}

impl IgnoreRules {
    /// Compiles the patterns (already validated with the config).
    pub fn new(patterns: &[String]) -> Self {
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            if let Ok(glob) = GlobBuilder::new(pattern).literal_separator(false).build() {
                builder.add(glob);
            }
        }
        Self {
            globs: builder.build().unwrap_or_else(|_| GlobSet::empty()),
        }
    }

    /// Whether a file or folder (its name and its path relative to the music folder) is skipped.
    pub fn is_ignored(&self, name: &str, rel_path: &str) -> bool {
        name.starts_with('.') || self.globs.is_match(name) || self.globs.is_match(rel_path)
    }
}

/// Lower-case extension of a file name, if any.
pub fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .filter(|e| !e.is_empty())
}

/// Modification time in milliseconds since the epoch.
pub fn mtime_ms(meta: &fs::Metadata) -> i64 {
    meta.mtime() * 1000 + meta.mtime_nsec() / 1_000_000
}

/// Joins a relative directory path and a name.
pub fn join_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Threads that read folders ahead of the walk when they are not in the page cache. Cold, the
/// walk is bound by the disk (a directory block and inode blocks per folder, one read at a
/// time): the prefetchers keep several reads in flight, and the walk then finds its folders
/// cached. Warm, they find that out and stop (see `Prefetch`).
const PREFETCH_THREADS: usize = 8;

/// Most folders the prefetchers may have read ahead of the walk.
const PREFETCH_AHEAD: usize = 1024;

/// A prefetcher stops after a window of this many folders in which at most
/// `WARM_WINDOW / 100` needed the disk: a warm tree.
const WARM_WINDOW: usize = 1024;

/// A system call of a listing this fast found what it needed cached.
const CACHED_CALL: std::time::Duration = std::time::Duration::from_micros(25);

/// Walks the tree below `start` (whose path relative to the music folder is `start_rel`),
/// calling `on_dir` for every directory in pre-order (a parent before its children) and
/// `on_error` for every path that cannot be read. Stops early once `stop` says so.
pub fn walk(
    start: &Path,
    start_rel: &str,
    rules: &IgnoreRules,
    stop: &dyn Fn() -> bool,
    on_dir: &mut dyn FnMut(DirListing),
    on_error: &mut dyn FnMut(&Path, String),
) {
    let prefetch = Prefetch {
        stack: Mutex::new(vec![start.to_path_buf()]),
        read: AtomicUsize::new(0),
        walked: AtomicUsize::new(0),
        done: AtomicBool::new(false),
    };
    std::thread::scope(|s| {
        for _ in 0..PREFETCH_THREADS {
            s.spawn(|| prefetch.run());
        }
        // Set however the walk ends (a panicking callback too), so the scope can join.
        let _done = SetOnDrop(&prefetch.done);
        let mut visited = HashSet::new();
        walk_dir(
            start,
            start_rel.to_string(),
            0,
            rules,
            stop,
            &mut visited,
            &mut |listing| {
                prefetch.walked.fetch_add(1, Ordering::Relaxed);
                on_dir(listing);
            },
            on_error,
        );
    });
    tracing::debug!(
        folders = prefetch.walked.load(Ordering::Relaxed),
        prefetched = prefetch.read.load(Ordering::Relaxed),
        "walk finished"
    );
}

struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Reads folders (their entries and the entries' inodes) in the walk's order, ahead of it,
/// with several threads: a depth-first stack of folders to read, shared, the next one on top.
/// Only the kernel's caches keep what it read; the walk reads everything again, fast.
///
/// A prefetcher that reads a window of `WARM_WINDOW` folders nearly all from the cache stops:
/// on a warm tree it would only double the walk's system calls. (Cold, a tenth or more of the
/// folders need a read; the kernel's read-ahead of inode tables serves the rest.)
struct Prefetch {
    stack: Mutex<Vec<PathBuf>>,
    /// Folders read by the prefetchers, and visited by the walk.
    read: AtomicUsize,
    walked: AtomicUsize,
    done: AtomicBool,
}

impl Prefetch {
    fn run(&self) {
        let pause = std::time::Duration::from_micros(500);
        // Folders read, and read from the disk, in the current window.
        let (mut window, mut from_disk) = (0, 0);
        while !self.done.load(Ordering::Relaxed) {
            let ahead = self.read.load(Ordering::Relaxed);
            if ahead.saturating_sub(self.walked.load(Ordering::Relaxed)) >= PREFETCH_AHEAD {
                std::thread::sleep(pause);
                continue;
            }
            let next = self.stack.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(dir) = next else {
                // Another prefetcher may still push folders; the walk may still need them.
                std::thread::sleep(pause);
                continue;
            };
            // The slowest system call of the listing tells whether the disk was read: a
            // cached directory or inode takes microseconds, a read takes tens at least.
            let mut slowest = std::time::Duration::ZERO;
            let mut timed = |started: std::time::Instant| slowest = slowest.max(started.elapsed());
            let started = std::time::Instant::now();
            let Ok(reader) = fs::read_dir(&dir) else {
                continue;
            };
            timed(started);
            let mut subdirs = Vec::new();
            for entry in reader.flatten() {
                if entry.file_name().as_encoded_bytes().starts_with(b".") {
                    continue;
                }
                match entry.file_type() {
                    Ok(t) if t.is_dir() => subdirs.push(entry.path()),
                    // Loads the inode, as the walk's stat will want it.
                    _ => {
                        let started = std::time::Instant::now();
                        drop(entry.metadata());
                        timed(started);
                    }
                }
            }
            self.read.fetch_add(1, Ordering::Relaxed);
            window += 1;
            from_disk += usize::from(slowest >= CACHED_CALL);
            if window == WARM_WINDOW {
                if from_disk <= WARM_WINDOW / 100 {
                    return;
                }
                (window, from_disk) = (0, 0);
            }
            subdirs.sort();
            let mut stack = self.stack.lock().unwrap_or_else(|e| e.into_inner());
            stack.extend(subdirs.into_iter().rev());
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn walk_dir(
    dir: &Path,
    rel: String,
    depth: usize,
    rules: &IgnoreRules,
    stop: &dyn Fn() -> bool,
    visited: &mut HashSet<(u64, u64)>,
    on_dir: &mut dyn FnMut(DirListing),
    on_error: &mut dyn FnMut(&Path, String),
) {
    if stop() {
        return;
    }
    let dir_meta = match fs::metadata(dir) {
        Ok(m) => m,
        Err(e) => return on_error(dir, format!("cannot read folder: {e}")),
    };
    if !visited.insert((dir_meta.dev(), dir_meta.ino())) {
        return on_error(
            dir,
            "folder already scanned through another path (symlink loop or duplicate link)".into(),
        );
    }
    if depth > MAX_DEPTH {
        return on_error(dir, format!("folder nested deeper than {MAX_DEPTH} levels"));
    }
    let reader = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => return on_error(dir, format!("cannot list folder: {e}")),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut listing = DirListing {
        abs_path: dir.to_path_buf(),
        rel_path: rel,
        name,
        mtime_ms: mtime_ms(&dir_meta),
        audio: Vec::new(),
        images: Vec::new(),
        lyrics_files: Vec::new(),
        playlists: Vec::new(),
        unknown: Vec::new(),
    };
    let mut subdirs: Vec<(PathBuf, String)> = Vec::new();

    for entry in reader {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                on_error(dir, format!("cannot list folder entry: {e}"));
                continue;
            }
        };
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            on_error(
                &path,
                "file name is not valid UTF-8; rename it to include it".into(),
            );
            continue;
        };
        let rel_path = join_rel(&listing.rel_path, &name);
        if rules.is_ignored(&name, &rel_path) {
            continue;
        }
        let Ok(file_type) = entry.file_type() else {
            on_error(&path, "cannot read file type".into());
            continue;
        };
        // Follow symlinks; a dangling one is reported, not silently dropped.
        let meta = if file_type.is_symlink() {
            match fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    on_error(&path, format!("dangling or unreadable symlink: {e}"));
                    continue;
                }
            }
        } else if file_type.is_dir() {
            subdirs.push((path, rel_path));
            continue;
        } else {
            match entry.metadata() {
                Ok(m) => m,
                Err(e) => {
                    on_error(&path, format!("cannot stat file: {e}"));
                    continue;
                }
            }
        };
        if meta.is_dir() {
            subdirs.push((path, rel_path));
            continue;
        }
        if !meta.is_file() {
            continue;
        }
        let ext = extension(&name);
        let Some(ext) = ext.filter(|e| {
            AUDIO_EXTENSIONS.contains(&e.as_str())
                || IMAGE_EXTENSIONS.contains(&e.as_str())
                || e == "lrc"
                || super::m3u::PLAYLIST_EXTENSIONS.contains(&e.as_str())
        }) else {
            match unread_audio_by_name(extension(&name).as_deref()) {
                UnreadByName::Unsupported(reason) => on_error(&path, reason),
                UnreadByName::NotAudio => {}
                UnreadByName::Unknown => listing.unknown.push(FileEntry {
                    name,
                    rel_path,
                    size: meta.len() as i64,
                    mtime_ms: mtime_ms(&meta),
                }),
            }
            continue;
        };
        if AUDIO_EXTENSIONS.contains(&ext.as_str()) {
            listing.audio.push(FileEntry {
                name,
                rel_path,
                size: meta.len() as i64,
                mtime_ms: mtime_ms(&meta),
            });
        } else if IMAGE_EXTENSIONS.contains(&ext.as_str()) {
            listing.images.push(name);
        } else if ext == "lrc" {
            listing.lyrics_files.push(name);
        } else if super::m3u::PLAYLIST_EXTENSIONS.contains(&ext.as_str()) {
            listing.playlists.push(FileEntry {
                name,
                rel_path,
                size: meta.len() as i64,
                mtime_ms: mtime_ms(&meta),
            });
        }
    }
    // A stable order makes scans (and their ids) reproducible.
    listing.audio.sort_by(|a, b| a.name.cmp(&b.name));
    listing.images.sort();
    listing.playlists.sort_by(|a, b| a.name.cmp(&b.name));
    listing.unknown.sort_by(|a, b| a.name.cmp(&b.name));
    subdirs.sort();
    on_dir(listing);

    for (path, rel_path) in subdirs {
        walk_dir(
            &path,
            rel_path,
            depth + 1,
            rules,
            stop,
            visited,
            on_dir,
            on_error,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(root: &Path, rules: &IgnoreRules) -> (Vec<DirListing>, Vec<(PathBuf, String)>) {
        let mut dirs = Vec::new();
        let mut errors = Vec::new();
        walk(
            root,
            "",
            rules,
            &|| false,
            &mut |d| dirs.push(d),
            &mut |p, r| errors.push((p.to_path_buf(), r)),
        );
        (dirs, errors)
    }

    #[test]
    fn finds_files_skips_hidden_and_ignored_and_survives_links() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("A/Album/CD1")).unwrap();
        fs::create_dir_all(root.join(".hidden")).unwrap();
        fs::create_dir_all(root.join("skipme")).unwrap();
        fs::write(root.join("A/Album/CD1/01.MP3"), b"x").unwrap();
        fs::write(root.join("A/Album/01.lrc"), b"x").unwrap();
        fs::write(root.join("A/Album/cover.JPG"), b"x").unwrap();
        fs::write(root.join(".hidden/02.mp3"), b"x").unwrap();
        fs::write(root.join("skipme/03.mp3"), b"x").unwrap();
        fs::write(root.join("A/notes.txt"), b"x").unwrap();
        fs::write(root.join("A/Mix.M3U8"), b"x").unwrap();
        std::os::unix::fs::symlink(root, root.join("A/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("nowhere"), root.join("A/dangling.mp3")).unwrap();

        let rules = IgnoreRules::new(&["skipme".to_string()]);
        let (dirs, errors) = collect(root, &rules);
        let rels: Vec<&str> = dirs.iter().map(|d| d.rel_path.as_str()).collect();
        assert_eq!(rels, ["", "A", "A/Album", "A/Album/CD1"]);
        let cd1 = &dirs[3];
        assert_eq!(cd1.audio.len(), 1);
        assert_eq!(cd1.audio[0].rel_path, "A/Album/CD1/01.MP3");
        assert_eq!(cd1.parent_rel_path(), Some("A/Album"));
        assert_eq!(dirs[2].images, ["cover.JPG"]);
        assert_eq!(dirs[1].playlists[0].rel_path, "A/Mix.M3U8");
        assert!(dirs[2].sidecar_lyrics("01.flac").is_some());
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|(_, r)| r.contains("dangling")));
        assert!(errors.iter().any(|(_, r)| r.contains("already scanned")));
    }

    #[test]
    fn non_utf8_names_are_reported() {
        use std::os::unix::ffi::OsStrExt;
        let tmp = tempfile::tempdir().unwrap();
        let bad = tmp.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.mp3"));
        fs::write(&bad, b"x").unwrap();
        let (dirs, errors) = collect(tmp.path(), &IgnoreRules::new(&[]));
        assert_eq!(dirs.len(), 1);
        assert!(dirs[0].audio.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].1.contains("UTF-8"));
    }
}
