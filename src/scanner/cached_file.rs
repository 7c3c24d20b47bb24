//! A file reader for tag parsing that costs few system calls: the head and the tail of the file
//! (where tags and headers live) are read once each, seeking only moves a cursor, and anything
//! else is read with one positioned read per window.
//!
//! lofty reads through many small `read`s and `seek`s; on a plain `File` (or a `BufReader`,
//! which drops its buffer on every seek) that was ~25 lseeks and ~12 reads per file.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Bytes read at the start of every file: ID3v2 tags, FLAC metadata, Ogg headers, most MP4
/// `moov` atoms of small files. Files up to this size are read whole in one call. (128 KiB
/// was measured to cost a seventh of a scan of real files in copying alone, mostly picture
/// bytes that are never parsed; what lies beyond is read in windows when a parser needs it.)
const HEAD: u64 = 64 * 1024;
/// Bytes read at the end: ID3v1, APE tags, Lyrics3, a trailing `moov`.
const TAIL: u64 = 16 * 1024;
/// Size of the window refilled for reads elsewhere.
const WINDOW: usize = 16 * 1024;
/// The window refilled for a small read (a header of a few bytes): walks that jump from
/// header to header (Ogg pages across a picture, IFF chunks) would copy a whole `WINDOW`
/// for each.
const SMALL_WINDOW: usize = 4 * 1024;
/// Reads up to this size refill a `SMALL_WINDOW`.
const SMALL_READ: usize = 512;

/// See the module documentation.
pub struct CachedFile {
    file: File,
    len: u64,
    pos: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
    tail_start: u64,
    window: Vec<u8>,
    window_start: u64,
}

fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

thread_local! {
    /// Buffers of files this thread closed, kept for the next file: a fresh 64 KiB buffer
    /// per file was zeroed and faulted in page by page (a tenth of a real-material scan).
    static SPARE_BUFFERS: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Most buffers a thread keeps (a file's head, tail and window).
const SPARE_LIMIT: usize = 3;

fn spare_buffer() -> Vec<u8> {
    SPARE_BUFFERS
        .with(|spare| spare.borrow_mut().pop())
        .unwrap_or_default()
}

fn return_buffer(mut buf: Vec<u8>) {
    if buf.capacity() == 0 {
        return;
    }
    buf.clear();
    SPARE_BUFFERS.with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < SPARE_LIMIT {
            spare.push(buf);
        }
    });
}

/// Reads up to `len` bytes at `offset` into `buf` (cleared first), without zeroing it first.
fn read_into(file: &File, buf: &mut Vec<u8>, len: usize, offset: u64) -> io::Result<()> {
    buf.clear();
    buf.reserve(len);
    let spare = &mut buf.spare_capacity_mut()[..len];
    let mut filled = 0;
    while filled < len {
        // SAFETY: the pointer and length describe `spare[filled..]`, memory `buf` owns;
        // pread writes at most that many bytes into it and nothing reads it before.
        let n = unsafe {
            libc::pread(
                file.as_raw_fd(),
                spare[filled..].as_mut_ptr().cast(),
                len - filled,
                (offset + filled as u64) as libc::off_t,
            )
        };
        match n {
            0 => break,
            n if n > 0 => filled += n as usize,
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    // SAFETY: pread initialised the first `filled` bytes of the spare capacity.
    unsafe { buf.set_len(filled) };
    Ok(())
}

impl CachedFile {
    /// Opens `path` and reads its head (and tail, for larger files).
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::from(io::ErrorKind::IsADirectory));
        }
        let len = meta.len();
        let mut head = spare_buffer();
        read_into(&file, &mut head, len.min(HEAD) as usize, 0)?;
        let (tail, tail_start) = if len > HEAD {
            let start = len - TAIL.min(len - HEAD);
            let mut tail = spare_buffer();
            read_into(&file, &mut tail, (len - start) as usize, start)?;
            (tail, start)
        } else {
            (Vec::new(), len)
        };
        Ok(Self {
            file,
            len,
            pos: 0,
            head,
            tail,
            tail_start,
            window: spare_buffer(),
            window_start: 0,
        })
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first bytes of the file (up to 64 KiB), for signature checks.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The cached bytes at `pos`, if any cache holds that position.
    fn cached(&self, pos: u64) -> Option<&[u8]> {
        let from = |buf: &'_ [u8], start: u64| -> Option<usize> {
            (pos >= start && pos < start + buf.len() as u64).then(|| (pos - start) as usize)
        };
        if let Some(i) = from(&self.head, 0) {
            return Some(&self.head[i..]);
        }
        if let Some(i) = from(&self.tail, self.tail_start) {
            return Some(&self.tail[i..]);
        }
        from(&self.window, self.window_start).map(|i| &self.window[i..])
    }
}

impl Drop for CachedFile {
    fn drop(&mut self) {
        for buf in [&mut self.head, &mut self.tail, &mut self.window] {
            return_buffer(std::mem::take(buf));
        }
    }
}

impl Read for CachedFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        if self.cached(self.pos).is_none() {
            if out.len() >= WINDOW {
                // A large read (a picture, a big atom) goes straight into the caller's buffer.
                let n = read_full_at(&self.file, out, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            let fill = if out.len() <= SMALL_READ {
                SMALL_WINDOW
            } else {
                WINDOW
            };
            read_into(&self.file, &mut self.window, fill, self.pos)?;
            let n = self.window.len();
            self.window_start = self.pos;
            if n == 0 {
                return Ok(0);
            }
        }
        let available = self.cached(self.pos).unwrap_or_default();
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for CachedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_byte_in_any_order_for_small_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        for size in [0usize, 10, 70_000, 200_000, 400_000] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let path = dir.path().join(format!("f{size}"));
            std::fs::write(&path, &data).unwrap();
            let mut f = CachedFile::open(&path).unwrap();
            assert_eq!(f.len(), size as u64);
            let mut all = Vec::new();
            f.read_to_end(&mut all).unwrap();
            assert_eq!(all, data);
            for &(at, n) in &[
                (0u64, 5usize),
                (150_000, 100),
                (399_990, 20),
                (130_000, 40_000),
                (5, 3),
            ] {
                f.seek(SeekFrom::Start(at)).unwrap();
                let mut buf = vec![0; n];
                let got = f.read(&mut buf).unwrap();
                let expect = data.get(at as usize..).map_or(0, |s| s.len().min(n));
                assert_eq!(got.min(expect), got);
                if got > 0 {
                    assert_eq!(&buf[..got], &data[at as usize..at as usize + got]);
                }
            }
            f.seek(SeekFrom::End(-1)).ok();
        }
    }
}
