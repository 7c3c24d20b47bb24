//! The HTTP `Range` header (RFC 9110 §14): which bytes of a representation of known length a
//! request asks for.
//!
//! Policy, in the spirit of the RFC: a header we cannot use (another unit, bad syntax, a
//! range whose last byte is before its first) is ignored and the whole file is sent, as a
//! server that does not support ranges would; a valid header none of whose ranges overlaps the
//! file is unsatisfiable (416). One range is answered with exactly that range. Several ranges
//! are answered with the whole file (200) rather than a multipart/byteranges body: every
//! client must accept a 200 to a range request, audio players never ask for several ranges,
//! and it keeps the response a plain copy of the file.

/// An inclusive byte range inside a file: `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    /// The number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Never true: a range holds at least one byte (here for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `Content-Range` value for this range of a file of `total` bytes.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{total}", self.start, self.end)
    }
}

/// What to send for a request's Range header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// The whole file with 200: no header, or one to be ignored (unusable, or several ranges).
    Full,
    /// One range with 206.
    Partial(ByteRange),
    /// 416 with `Content-Range: bytes */LEN`.
    Unsatisfiable,
}

/// The `Content-Range` value of a 416 answer for a file of `total` bytes.
pub fn unsatisfied_content_range(total: u64) -> String {
    format!("bytes */{total}")
}

/// One range-spec as written, before it is checked against the file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-last` or `first-` (last = None).
    FromTo { first: u64, last: Option<u64> },
    /// `-n`: the last n bytes.
    Suffix(u64),
}

/// Decides what the Range header value `header` asks of a file of `len` bytes.
pub fn parse(header: &str, len: u64) -> RangeRequest {
    let Some(specs) = parse_specs(header) else {
        return RangeRequest::Full;
    };
    let satisfiable: Vec<ByteRange> = specs.iter().filter_map(|s| resolve(*s, len)).collect();
    match (specs.len(), satisfiable.as_slice()) {
        (_, []) => RangeRequest::Unsatisfiable,
        (1, [range]) => RangeRequest::Partial(*range),
        _ => RangeRequest::Full,
    }
}

/// The range-specs of a `bytes=` header, or None when the header is not one we can use.
fn parse_specs(header: &str) -> Option<Vec<Spec>> {
    let (unit, set) = header.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    // The list grammar allows empty elements ("0-1,,2-3"); a list of nothing is invalid.
    let specs = set
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_spec)
        .collect::<Option<Vec<_>>>()?;
    (!specs.is_empty()).then_some(specs)
}

fn parse_spec(spec: &str) -> Option<Spec> {
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        return Some(Spec::Suffix(digits(last)?));
    }
    let first = digits(first)?;
    let last = if last.is_empty() {
        None
    } else {
        Some(digits(last)?)
    };
    if last.is_some_and(|last| last < first) {
        return None;
    }
    Some(Spec::FromTo { first, last })
}

/// A non-empty run of ASCII digits (no sign, no spaces); values past u64 saturate, which
/// keeps their meaning ("more than the file") without failing.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse().unwrap_or(u64::MAX))
}

/// The bytes a spec selects in a file of `len` bytes, None when it selects none.
fn resolve(spec: Spec, len: u64) -> Option<ByteRange> {
    if len == 0 {
        return None;
    }
    match spec {
        Spec::FromTo { first, .. } if first >= len => None,
        Spec::FromTo { first, last } => Some(ByteRange {
            start: first,
            end: last.map_or(len - 1, |l| l.min(len - 1)),
        }),
        Spec::Suffix(0) => None,
        Spec::Suffix(n) => Some(ByteRange {
            start: len.saturating_sub(n),
            end: len - 1,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Partial(ByteRange { start, end })
    }

    #[test]
    fn single_ranges() {
        assert_eq!(parse("bytes=0-0", 100), partial(0, 0), "first byte");
        assert_eq!(parse("bytes=99-99", 100), partial(99, 99), "last byte");
        assert_eq!(parse("bytes=10-19", 100), partial(10, 19));
        assert_eq!(parse("bytes=0-99", 100), partial(0, 99), "exactly the file");
        assert_eq!(parse("bytes=0-", 100), partial(0, 99), "open-ended from 0");
        assert_eq!(parse("bytes=40-", 100), partial(40, 99), "open-ended");
        assert_eq!(
            parse("bytes=99-", 100),
            partial(99, 99),
            "open-ended last byte"
        );
    }

    #[test]
    fn suffix_ranges() {
        assert_eq!(parse("bytes=-1", 100), partial(99, 99));
        assert_eq!(parse("bytes=-30", 100), partial(70, 99));
        assert_eq!(parse("bytes=-100", 100), partial(0, 99));
        assert_eq!(
            parse("bytes=-500", 100),
            partial(0, 99),
            "larger than the file"
        );
        assert_eq!(
            parse("bytes=-99999999999999999999999", 100),
            partial(0, 99),
            "beyond u64"
        );
        assert_eq!(parse("bytes=-0", 100), RangeRequest::Unsatisfiable);
    }

    #[test]
    fn ranges_past_the_end() {
        assert_eq!(parse("bytes=50-1000", 100), partial(50, 99), "end clamped");
        assert_eq!(
            parse("bytes=0-99999999999999999999999", 100),
            partial(0, 99),
            "end beyond u64"
        );
        assert_eq!(parse("bytes=100-", 100), RangeRequest::Unsatisfiable);
        assert_eq!(parse("bytes=100-200", 100), RangeRequest::Unsatisfiable);
        assert_eq!(parse("bytes=5000-", 100), RangeRequest::Unsatisfiable);
        assert_eq!(
            parse("bytes=99999999999999999999999-", 100),
            RangeRequest::Unsatisfiable
        );
    }

    #[test]
    fn empty_files_satisfy_no_range() {
        for h in ["bytes=0-", "bytes=0-0", "bytes=-5", "bytes=-0"] {
            assert_eq!(parse(h, 0), RangeRequest::Unsatisfiable, "{h}");
        }
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for h in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=abc",
            "bytes=a-b",
            "bytes=-",
            "bytes=5",
            "bytes=1-2-3",
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=-+2",
            "bytes=1 -2",
            "bytes=20-10",
            "bytes=0-1,20-10",
            "bytes=0x10-",
            "items=0-10",
            "0-10",
            "bytes=٣-",
        ] {
            assert_eq!(parse(h, 100), RangeRequest::Full, "{h:?}");
        }
    }

    #[test]
    fn unit_and_spaces_are_tolerated() {
        assert_eq!(parse("Bytes=1-2", 100), partial(1, 2));
        assert_eq!(parse("  bytes = 1-2 ", 100), partial(1, 2));
        assert_eq!(
            parse("bytes=1-2,", 100),
            partial(1, 2),
            "empty list element"
        );
    }

    #[test]
    fn several_ranges_get_the_whole_file_unless_none_fits() {
        assert_eq!(parse("bytes=0-9,20-29", 100), RangeRequest::Full);
        assert_eq!(parse("bytes=0-9, -5", 100), RangeRequest::Full);
        assert_eq!(parse("bytes=0-9,500-", 100), RangeRequest::Full);
        assert_eq!(
            parse("bytes=200-300,500-", 100),
            RangeRequest::Unsatisfiable
        );
    }

    #[test]
    fn content_range_values() {
        let r = ByteRange { start: 5, end: 9 };
        assert_eq!(r.len(), 5);
        assert_eq!(r.content_range(100), "bytes 5-9/100");
        assert_eq!(unsatisfied_content_range(100), "bytes */100");
    }
}
