//! Parsing tag values: cleaning text, splitting names and genres, numbers ("3/12"), dates,
//! gains, flags, and disc-folder names. Pure functions.

use lofty::id3::v1::GENRES;

use super::GENRE_EXTRA_SEPARATORS;

/// Strips C0/C1 control characters (keeping tab, newline and carriage return) and trims
/// surrounding whitespace; `None` when nothing is left.
pub fn clean_text(s: &str) -> Option<String> {
    let trimmed = s.trim_matches(|c: char| c.is_whitespace() || is_stripped_control(c));
    if trimmed.is_empty() {
        return None;
    }
    if !trimmed.chars().any(is_stripped_control) {
        return Some(trimmed.to_owned());
    }
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !is_stripped_control(*c))
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}

pub(super) fn is_stripped_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

// Shared with the read side (album folders), so it lives in `crate::names`.
pub use crate::names::is_disc_folder_name;

/// Splits each value on the separators; cleans, drops empties, deduplicates (keeping order).
pub(super) fn split_names<'v>(values: impl Iterator<Item = &'v str>, seps: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        for part in split_on(value, seps) {
            if let Some(name) = clean_text(part)
                && !out.contains(&name)
            {
                out.push(name);
            }
        }
    }
    out
}

/// Genres: ID3v1 numeric references ("(17)", "17", "(17)Rock") become names, values are split
/// on the separators and on ";", "/" and ",", and duplicates are dropped case-insensitively.
pub(super) fn genres<'v>(values: impl Iterator<Item = &'v str>, seps: &[&str]) -> Vec<String> {
    let mut all_seps: Vec<&str> = seps.to_vec();
    all_seps.extend(GENRE_EXTRA_SEPARATORS);
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: &str| {
        for part in split_on(name, &all_seps) {
            if let Some(g) = clean_text(part)
                && !out.iter().any(|o| o.eq_ignore_ascii_case(&g) || *o == g)
            {
                out.push(g);
            }
        }
    };
    for value in values {
        let mut rest = value.trim();
        // Leading "(n)" references, possibly several: "(17)(31)", "(17)Rock".
        while let Some(after) = rest.strip_prefix('(') {
            if after.starts_with('(') {
                // "((" escapes a literal parenthesis.
                rest = after;
                break;
            }
            let Some(close) = after.find(')') else {
                break;
            };
            let inner = &after[..close];
            match genre_reference(inner) {
                Some(name) => push(name),
                None => push(inner),
            }
            rest = after[close + 1..].trim_start();
        }
        if rest.is_empty() {
            continue;
        }
        match genre_reference(rest) {
            Some(name) => push(name),
            None => push(rest),
        }
    }
    out
}

/// An ID3v1 genre number ("17") or ID3v2 shorthand ("RX", "CR") as a name.
pub(super) fn genre_reference(s: &str) -> Option<&'static str> {
    let s = s.trim();
    match s {
        "RX" => return Some("Remix"),
        "CR" => return Some("Cover"),
        _ => {}
    }
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<usize>().ok().and_then(|n| GENRES.get(n).copied())
}

/// Splits `s` at every occurrence of any separator (ASCII case-insensitive).
pub(super) fn split_on<'s>(s: &'s str, seps: &[&str]) -> Vec<&'s str> {
    let bytes = s.as_bytes();
    let mut parts = Vec::with_capacity(2);
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let hit = seps.iter().find(|sep| {
            let sep = sep.as_bytes();
            bytes
                .get(i..i + sep.len())
                .is_some_and(|window| window.eq_ignore_ascii_case(sep))
        });
        match hit {
            Some(sep) => {
                if let Some(part) = s.get(start..i) {
                    parts.push(part);
                }
                i += sep.len();
                start = i;
            }
            None => i += 1,
        }
    }
    if let Some(part) = s.get(start..) {
        parts.push(part);
    }
    parts
}

/// "3/12" → (3, 12); "03" → (3, None). Negative or oversized numbers are ignored.
pub(super) fn parse_pair(s: &str) -> (Option<i32>, Option<i32>) {
    let (number, total) = match s.split_once('/') {
        Some((n, t)) => (n, Some(t)),
        None => (s, None),
    };
    let num = |t: &str| t.trim().parse::<i32>().ok().filter(|v| *v >= 0);
    (num(number), total.and_then(num))
}

/// A possibly partial calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PartialDate {
    pub(super) year: i32,
    pub(super) month: Option<u32>,
    pub(super) day: Option<u32>,
}

impl std::fmt::Display for PartialDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(month) = self.month {
            write!(f, "-{month:02}")?;
            if let Some(day) = self.day {
                write!(f, "-{day:02}")?;
            }
        }
        Ok(())
    }
}

/// Parses "1999", "1999-03", "1999-03-21", "1999-03-21T10:00:00", "1999/03/21", "19990321"
/// and "21.03.1999". Years outside 1..=9999 (not four digits) are rejected; an invalid month
/// or day is dropped rather than failing the whole date.
pub(super) fn parse_date(s: &str) -> Option<PartialDate> {
    let s = s.trim();
    let b = s.as_bytes();
    let digits = |from: usize| {
        b[from.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let number = |from: usize, len: usize| -> Option<u32> { s.get(from..from + len)?.parse().ok() };
    let lead = digits(0);

    let (year, mut month, mut day) = if lead == 8 {
        // Compact "YYYYMMDD".
        (number(0, 4)?, number(4, 2), number(6, 2))
    } else if (1..=2).contains(&lead) && b.get(lead) == Some(&b'.') {
        // European "DD.MM.YYYY".
        let m_len = digits(lead + 1);
        let y_at = lead + 1 + m_len + 1;
        if !(1..=2).contains(&m_len) || b.get(lead + 1 + m_len) != Some(&b'.') || digits(y_at) != 4
        {
            return None;
        }
        (number(y_at, 4)?, number(lead + 1, m_len), number(0, lead))
    } else if lead == 4 {
        let year = number(0, 4)?;
        let mut month = None;
        let mut day = None;
        if matches!(b.get(4), Some(b'-' | b'/' | b'.')) && (1..=2).contains(&digits(5)) {
            let m_len = digits(5);
            month = number(5, m_len);
            let d_at = 5 + m_len + 1;
            if matches!(b.get(5 + m_len), Some(b'-' | b'/' | b'.'))
                && (1..=2).contains(&digits(d_at))
            {
                day = number(d_at, digits(d_at));
            }
        }
        (year, month, day)
    } else {
        return None;
    };
    if !(1..=9999).contains(&year) {
        return None;
    }
    if !month.is_some_and(|m| (1..=12).contains(&m)) {
        month = None;
        day = None;
    }
    if !day.is_some_and(|d| (1..=31).contains(&d)) {
        day = None;
    }
    Some(PartialDate {
        year: i32::try_from(year).ok()?,
        month,
        day,
    })
}

/// "120", "120.5" → rounded beats per minute; zero, negative and absurd values are ignored.
pub(super) fn parse_bpm(s: &str) -> Option<i32> {
    let v: f64 = s.trim().replace(',', ".").parse().ok()?;
    (v.is_finite() && v > 0.0 && v < 10_000.0).then(|| v.round() as i32)
}

/// "-6.54 dB", "+1.2 dB", "0.998" → f64.
pub(super) fn parse_gain(s: &str) -> Option<f64> {
    let mut t = s.trim();
    if t.len() >= 2 && t[t.len() - 2..].eq_ignore_ascii_case("db") {
        t = t[..t.len() - 2].trim_end();
    }
    let v: f64 = if t.contains(',') && !t.contains('.') {
        t.replace(',', ".").parse().ok()?
    } else {
        t.parse().ok()?
    };
    v.is_finite().then_some(v)
}

pub(super) fn is_truthy(s: &str) -> bool {
    let t = s.trim();
    t.eq_ignore_ascii_case("true")
        || t.eq_ignore_ascii_case("yes")
        || t.parse::<i64>().is_ok_and(|n| n != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_date_accepts_common_forms() {
        let d = |s: &str| parse_date(s).map(|d| d.to_string());
        assert_eq!(d("1999").as_deref(), Some("1999"));
        assert_eq!(d("1999-03").as_deref(), Some("1999-03"));
        assert_eq!(d("1999-03-21").as_deref(), Some("1999-03-21"));
        assert_eq!(d("1999-03-21T10:00:00").as_deref(), Some("1999-03-21"));
        assert_eq!(d("1999-3-7 10:00").as_deref(), Some("1999-03-07"));
        assert_eq!(d("1999/03/21").as_deref(), Some("1999-03-21"));
        assert_eq!(d("1999.03.21").as_deref(), Some("1999-03-21"));
        assert_eq!(d("19990321").as_deref(), Some("1999-03-21"));
        assert_eq!(d("21.03.1999").as_deref(), Some("1999-03-21"));
        assert_eq!(d("2004-00-00").as_deref(), Some("2004"));
        assert_eq!(d("1999-13-01").as_deref(), Some("1999"));
        assert_eq!(d(" 2010 (remaster)").as_deref(), Some("2010"));
        assert_eq!(d("0000"), None);
        assert_eq!(d("99999"), None);
        assert_eq!(d("99"), None);
        assert_eq!(d("March 1999"), None);
        assert_eq!(d(""), None);
    }

    #[test]
    fn parse_gain_forms() {
        assert_eq!(parse_gain("-6.54 dB"), Some(-6.54));
        assert_eq!(parse_gain("+1.2 dB"), Some(1.2));
        assert_eq!(parse_gain("0.998"), Some(0.998));
        assert_eq!(parse_gain(" -3,5 DB "), Some(-3.5));
        assert_eq!(parse_gain("NaN"), None);
        assert_eq!(parse_gain("inf dB"), None);
        assert_eq!(parse_gain(""), None);
    }

    #[test]
    fn clean_text_rules() {
        assert_eq!(clean_text("  a\u{0}b  ").as_deref(), Some("ab"));
        assert_eq!(clean_text("\u{9f}x\r\n").as_deref(), Some("x"));
        assert_eq!(clean_text("a\r\nb").as_deref(), Some("a\r\nb"));
        assert_eq!(clean_text("  \u{1}\u{2} "), None);
        assert_eq!(clean_text(""), None);
        assert_eq!(clean_text("🎵 ok").as_deref(), Some("🎵 ok"));
    }

    #[test]
    fn disc_folder_names() {
        for yes in [
            "Disc 1",
            "disc01",
            "CD2",
            "CD 2",
            "cd-3",
            "Disk 3",
            "DISC_4",
            "CD1 (Bonus)",
            "Disc 2 - Live",
        ] {
            assert!(is_disc_folder_name(yes), "{yes}");
        }
        for no in [
            "Discovery",
            "Disco 2000",
            "CD",
            "CDs",
            "Disc",
            "CD 2000",
            "My Disc 1",
            "cd2x",
            "",
        ] {
            assert!(!is_disc_folder_name(no), "{no}");
        }
    }
}
