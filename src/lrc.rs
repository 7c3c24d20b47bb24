//! LRC time tags, shared by the scanner (is a lyrics tag LRC?) and the read side (parsing
//! synchronised lyrics): both must agree on what a time tag is.

/// `mm:ss`, `mm:ss.f`, `mm:ss.ff`, `mm:ss.fff` or `mm:ss:ff` in milliseconds.
pub fn time_tag(s: &str) -> Option<i64> {
    let s = s.trim();
    let (minutes, rest) = s.split_once(':')?;
    let (seconds, fraction) = match rest.find(['.', ':']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(minutes) || !digits(seconds) || seconds.len() > 2 {
        return None;
    }
    let minutes: i64 = minutes.parse().ok()?;
    let seconds: i64 = seconds.parse().ok()?;
    if seconds >= 60 {
        return None;
    }
    let millis = match fraction {
        None => 0,
        Some(f) if digits(f) => {
            // Tenths, hundredths or thousandths; anything finer is cut.
            let mut padded: String = f.chars().take(3).collect();
            while padded.len() < 3 {
                padded.push('0');
            }
            padded.parse::<i64>().ok()?
        }
        Some(_) => return None,
    };
    Some(minutes * 60_000 + seconds * 1000 + millis)
}

/// Whether lyrics text is LRC: some line starts with a time tag such as "[01:23.45]".
pub fn is_lrc(text: &str) -> bool {
    text.lines().any(|line| {
        line.trim_start()
            .strip_prefix('[')
            .and_then(|rest| rest.split_once(']'))
            .is_some_and(|(tag, _)| time_tag(tag).is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_tags_in_every_common_shape() {
        assert_eq!(time_tag("00:12"), Some(12_000));
        assert_eq!(time_tag("01:02.5"), Some(62_500));
        assert_eq!(time_tag("01:02.50"), Some(62_500));
        assert_eq!(time_tag("01:02.505"), Some(62_505));
        assert_eq!(time_tag("01:02:50"), Some(62_500));
        assert_eq!(time_tag("1:02.05"), Some(62_050));
        assert_eq!(time_tag("75:00.00"), Some(4_500_000));
        assert_eq!(time_tag("00:12.3456"), Some(12_345));
        for bad in ["", "12", "ar:x", "00:60.00", "00:1x", "0a:12", "00:12.x"] {
            assert_eq!(time_tag(bad), None, "{bad}");
        }
    }

    #[test]
    fn lrc_is_text_with_a_line_starting_with_a_time_tag() {
        assert!(is_lrc("intro\n  [00:01.00]first"));
        assert!(is_lrc("[01:02:50]x"));
        assert!(!is_lrc("plain words\n[chorus]"));
        assert!(!is_lrc("a line [00:01.00] with a time inside"));
        assert!(!is_lrc("[00:61]not a time"));
    }
}
