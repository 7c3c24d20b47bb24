//! Zip archives of files on disk, streamed while they are made: no temporary file, no archive in
//! memory. Entries are stored (audio is already compressed, so deflate would only burn CPU),
//! with sizes and CRCs in data descriptors since the output cannot seek back, and ZIP64 records
//! where sizes or offsets pass 4 GiB or entries pass 65,535 (the `zip` crate decides).
//!
//! Callers give a list of (entry name, file path): an album, an artist, a folder or a playlist
//! is only a different query producing that list.

use super::limits::BlockingIo;
use actix_web::web::Bytes;
use chrono::{Datelike, Timelike};
use futures_util::Stream;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, DateTime, ZIP64_BYTES_THR, ZipWriter};

/// Bytes handed to the HTTP body at a time: a download's memory is about one chunk.
const CHUNK: usize = 128 * 1024;

/// One file to put in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// The path inside the archive, '/'-separated ("Artist - Album/01 - Title.flac").
    pub name: String,
    /// The file on disk.
    pub path: PathBuf,
}

/// The archive of `entries` as a stream of chunks. Each chunk is made on the blocking pool
/// (through `io`) only when the HTTP body asks for it, so a client that stops reading holds no
/// thread, only the archive's state. A file that cannot be read ends the stream with an error
/// (the download is then cut short, never completed with a wrong entry).
pub fn zip_stream(
    entries: Vec<ZipEntry>,
    io: BlockingIo,
) -> impl Stream<Item = io::Result<Bytes>> + 'static {
    futures_util::stream::try_unfold(
        (Some(Producer::new(entries)), io),
        |(producer, io)| async move {
            let Some(mut producer) = producer else {
                return Ok(None);
            };
            let result = io
                .run(move || producer.next_chunk().map(|chunk| (chunk, producer)))
                .await;
            match result {
                Ok((Some(chunk), producer)) => Ok(Some((chunk, (Some(producer), io)))),
                Ok((None, _)) => Ok(None),
                Err(e) => {
                    tracing::warn!("zip download failed: {e}");
                    Err(e)
                }
            }
        },
    )
}

/// Writes the archive of `entries` to `out` and returns `out`. Entry names are made safe
/// (relative, no "..", '/' separators) and unique ("name (2).ext").
pub fn write_zip<W: Write>(entries: &[ZipEntry], mut out: W) -> io::Result<W> {
    let mut producer = Producer::new(entries.to_vec());
    while let Some(chunk) = producer.next_chunk()? {
        out.write_all(&chunk)?;
    }
    Ok(out)
}

/// An archive being made, one chunk at a time: the zip writer, the entries still to add and
/// the file being copied.
struct Producer {
    zip: Option<ZipWriter<StreamWriter<SharedBuf>>>,
    out: SharedBuf,
    entries: std::vec::IntoIter<ZipEntry>,
    used: HashSet<String>,
    current: Option<Copying>,
}

/// The entry whose bytes are being copied into the archive.
struct Copying {
    file: File,
    path: PathBuf,
    left: u64,
}

fn with_path(path: &std::path::Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Producer {
    fn new(entries: Vec<ZipEntry>) -> Self {
        let out = SharedBuf::default();
        Producer {
            zip: Some(ZipWriter::new_stream(out.clone())),
            out,
            entries: entries.into_iter(),
            used: HashSet::new(),
            current: None,
        }
    }

    /// The next CHUNK bytes of the archive (fewer at its end), None once it is all out.
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        while self.out.len() < CHUNK {
            let Some(zip) = self.zip.as_mut() else {
                break;
            };
            if let Some(copying) = &mut self.current {
                let want = copying.left.min((CHUNK - self.out.len()) as u64);
                let copied = io::copy(&mut (&mut copying.file).take(want), zip)
                    .map_err(|e| with_path(&copying.path, e))?;
                if copied == 0 && want > 0 {
                    return Err(with_path(
                        &copying.path,
                        io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the file shrank while it was being archived",
                        ),
                    ));
                }
                copying.left -= copied;
                if copying.left == 0 {
                    self.current = None;
                }
            } else if let Some(entry) = self.entries.next() {
                let file = File::open(&entry.path).map_err(|e| with_path(&entry.path, e))?;
                let meta = file.metadata().map_err(|e| with_path(&entry.path, e))?;
                let len = meta.len();
                let options = SimpleFileOptions::default()
                    .compression_method(CompressionMethod::Stored)
                    .large_file(len >= ZIP64_BYTES_THR)
                    .last_modified_time(
                        meta.modified()
                            .map_or_else(|_| DateTime::default(), dos_time),
                    );
                zip.start_file(unique_name(&entry.name, &mut self.used), options)?;
                self.current = (len > 0).then_some(Copying {
                    file,
                    path: entry.path,
                    left: len,
                });
            } else if let Some(zip) = self.zip.take() {
                zip.finish()?;
            }
        }
        let chunk = self.out.take();
        Ok((!chunk.is_empty()).then(|| Bytes::from(chunk)))
    }
}

/// The zip writer's output, shared with the producer that hands it out chunk by chunk.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.lock())
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A path inside the archive that cannot escape the extraction folder: '/'-separated
/// components without "", "." or "..", backslashes (a separator to Windows) replaced.
fn safe_name(name: &str) -> String {
    let parts: Vec<String> = name
        .split('/')
        .filter(|p| !matches!(*p, "" | "." | ".."))
        .map(|p| p.replace('\\', "_"))
        .collect();
    if parts.is_empty() {
        "file".to_string()
    } else {
        parts.join("/")
    }
}

/// `name` made safe and, when already used, numbered before its extension: "a.mp3",
/// "a (2).mp3", "a (3).mp3"... (archives with two equal names lose one on extraction).
fn unique_name(name: &str, used: &mut HashSet<String>) -> String {
    let name = safe_name(name);
    if used.insert(name.to_lowercase()) {
        return name;
    }
    let file_start = name.rfind('/').map_or(0, |i| i + 1);
    let (stem, ext) = match name[file_start..].rfind('.') {
        Some(dot) if dot > 0 => name.split_at(file_start + dot),
        _ => (name.as_str(), ""),
    };
    (2..)
        .map(|n| format!("{stem} ({n}){ext}"))
        .find(|candidate| used.insert(candidate.to_lowercase()))
        .unwrap_or(name)
}

/// An MS-DOS timestamp (local time, what unzip tools show) for a modification time; times a
/// DOS date cannot hold (before 1980, after 2107) become 1980-01-01.
fn dos_time(t: SystemTime) -> DateTime {
    let local = chrono::DateTime::<chrono::Local>::from(t);
    u16::try_from(local.year())
        .ok()
        .and_then(|year| {
            DateTime::from_date_and_time(
                year,
                local.month() as u8,
                local.day() as u8,
                local.hour() as u8,
                local.minute() as u8,
                local.second() as u8,
            )
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::io::{Cursor, Seek, SeekFrom};
    use std::path::Path;

    fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        path
    }

    fn entry(name: &str, path: &Path) -> ZipEntry {
        ZipEntry {
            name: name.into(),
            path: path.to_path_buf(),
        }
    }

    /// Every entry's name, method and bytes.
    fn read_back(zip: Vec<u8>) -> Vec<(String, CompressionMethod, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut f = archive.by_index(i).unwrap();
                let mut data = Vec::new();
                f.read_to_end(&mut data).unwrap();
                (f.name().unwrap().to_string(), f.compression(), data)
            })
            .collect()
    }

    #[test]
    fn entries_are_stored_byte_for_byte_under_safe_unique_names() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let a = write(dir.path(), "a.flac", &big);
        let b = write(dir.path(), "b.mp3", b"short");
        let empty = write(dir.path(), "empty.ogg", b"");
        let entries = vec![
            entry("Björk – Début/01 - Human Behaviour.flac", &a),
            entry("Björk – Début/02 - Crying.mp3", &b),
            entry("Björk – Début/02 - crying.mp3", &b),
            entry("Björk – Début/02 - Crying.mp3", &b),
            entry("../../etc/passwd", &b),
            entry("/abs/./x\\y.ogg", &empty),
            entry("noext", &b),
            entry("noext", &b),
        ];
        let zip = write_zip(&entries, Vec::new()).unwrap();
        let got = read_back(zip);
        let names: Vec<&str> = got.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Björk – Début/01 - Human Behaviour.flac",
                "Björk – Début/02 - Crying.mp3",
                "Björk – Début/02 - crying (2).mp3",
                "Björk – Début/02 - Crying (3).mp3",
                "etc/passwd",
                "abs/x_y.ogg",
                "noext",
                "noext (2)",
            ]
        );
        assert!(got.iter().all(|(_, m, _)| *m == CompressionMethod::Stored));
        assert_eq!(got[0].2, big);
        assert_eq!(got[1].2, b"short");
        assert_eq!(got[5].2, b"");
    }

    #[test]
    fn a_missing_file_fails_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        let entries = vec![entry("x.mp3", &dir.path().join("gone.mp3"))];
        let e = write_zip(&entries, Vec::new()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("gone.mp3"));
    }

    #[test]
    fn more_than_65535_entries_use_zip64_records() {
        let dir = tempfile::tempdir().unwrap();
        let one = write(dir.path(), "one", b"x");
        let entries: Vec<ZipEntry> = (0..70_000)
            .map(|i| entry(&format!("{i}.mp3"), &one))
            .collect();
        let zip = write_zip(&entries, Vec::new()).unwrap();
        // The ZIP64 end of central directory record is there...
        assert!(zip.windows(4).any(|w| w == [0x50, 0x4b, 0x06, 0x06]));
        // ...and a reader finds every entry through it.
        let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), 70_000);
        let mut last = String::new();
        archive
            .by_name("69999.mp3")
            .unwrap()
            .read_to_string(&mut last)
            .unwrap();
        assert_eq!(last, "x");
    }

    /// A writer to a file that leaves runs of zeros as holes, so a multi-GiB archive of sparse
    /// files takes almost no disk.
    struct SparseFile(File);

    impl Write for SparseFile {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.iter().all(|b| *b == 0) {
                self.0.seek(SeekFrom::Current(buf.len() as i64))?;
                Ok(buf.len())
            } else {
                self.0.write(buf)
            }
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Slow (reads and checksums 4 GiB): `cargo test --lib media::zip -- --ignored`.
    #[test]
    #[ignore]
    fn entries_and_offsets_past_4_gib() {
        let dir = tempfile::tempdir().unwrap();
        let huge = dir.path().join("huge.wav");
        File::create(&huge)
            .unwrap()
            .set_len(ZIP64_BYTES_THR + 10)
            .unwrap();
        let tail = write(dir.path(), "tail.mp3", b"after the big one");
        let entries = vec![entry("huge.wav", &huge), entry("tail.mp3", &tail)];
        let out_path = dir.path().join("out.zip");
        let out = File::create(&out_path).unwrap();
        let SparseFile(mut out) = write_zip(&entries, SparseFile(out)).unwrap();
        let end = out.stream_position().unwrap();
        out.set_len(end).unwrap();
        let mut archive = zip::ZipArchive::new(File::open(&out_path).unwrap()).unwrap();
        assert_eq!(archive.by_index(0).unwrap().size(), ZIP64_BYTES_THR + 10);
        let mut second = archive.by_index(1).unwrap();
        assert!(second.header_start() > ZIP64_BYTES_THR);
        let mut text = String::new();
        second.read_to_string(&mut text).unwrap();
        assert_eq!(text, "after the big one");
    }

    #[actix_web::test]
    async fn the_stream_is_the_archive_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 241) as u8).collect();
        let a = write(dir.path(), "a.flac", &data);
        let entries = vec![entry("x/a.flac", &a), entry("x/b.flac", &a)];
        let chunks: Vec<Bytes> = zip_stream(entries.clone(), BlockingIo::new(2))
            .map(|c| c.unwrap())
            .collect()
            .await;
        assert!(chunks.len() > 10, "streamed in pieces");
        assert!(chunks.iter().all(|c| c.len() <= CHUNK));
        let streamed: Vec<u8> = chunks.concat();
        assert_eq!(streamed, write_zip(&entries, Vec::new()).unwrap());
        let got = read_back(streamed);
        assert_eq!(got[1].2, data);
    }

    #[actix_web::test]
    async fn a_failed_entry_ends_the_stream_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.flac", b"abc");
        let entries = vec![
            entry("a.flac", &a),
            entry("b.flac", &dir.path().join("gone")),
        ];
        let items: Vec<io::Result<Bytes>> = zip_stream(entries, BlockingIo::new(2)).collect().await;
        assert!(items.last().unwrap().is_err());
    }

    #[test]
    fn dos_times() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let d = dos_time(t);
        assert_eq!(d.year(), 2023);
        assert_eq!(dos_time(SystemTime::UNIX_EPOCH).year(), 1980, "before 1980");
    }
}
