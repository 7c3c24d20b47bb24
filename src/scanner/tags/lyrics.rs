//! Lyrics: LRC detection, ID3 SYLT frames as LRC text, and sidecar `.lrc` files.

use std::fmt::Write as _;
use std::path::Path;

use lofty::id3::v2::{SynchronizedTextFrame, TimestampFormat};

pub(super) use crate::lrc::is_lrc;

use super::values::clean_text;

/// Converts an ID3 SYLT frame with millisecond timestamps to LRC text.
pub(super) fn sylt_to_lrc(data: &[u8]) -> Option<String> {
    let frame = SynchronizedTextFrame::parse(data, Default::default()).ok()?;
    if frame.timestamp_format != TimestampFormat::MS {
        // MPEG-frame timestamps would need the frame rate; not converted.
        return None;
    }
    let mut lrc = String::new();
    for (ms, text) in &frame.content {
        let text = text.trim_matches(|c: char| c == '\n' || c == '\r');
        let (min, sec, cs) = (ms / 60_000, (ms / 1000) % 60, (ms % 1000) / 10);
        let _ = writeln!(lrc, "[{min:02}:{sec:02}.{cs:02}]{text}");
    }
    clean_text(&lrc)
}

/// Sidecar lyrics larger than this are not read: real `.lrc` files are a few KiB, and the
/// catalog should not hold (nor the API parse) tens of megabytes of text for one song.
pub(super) const MAX_SIDECAR_BYTES: u64 = 4 << 20;

pub(super) fn read_sidecar(path: &Path) -> Option<String> {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() > MAX_SIDECAR_BYTES
    {
        tracing::warn!(path = %path.display(), bytes = meta.len(), "sidecar lyrics too large; ignored");
        return None;
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            clean_text(text.trim_start_matches('\u{feff}'))
        }
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "cannot read sidecar lyrics");
            None
        }
    }
}
