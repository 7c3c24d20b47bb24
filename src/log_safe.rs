//! Text a client sent, made safe for a log line: a client decides what it sends, so it must
//! neither grow the log without bound (a 1 MB user name on every failed sign-in) nor forge
//! lines (a `%0A` in a name). Use `short` on every client-supplied value that is logged.

/// Longest client-supplied value kept in a log line, in characters.
pub const MAX_CHARS: usize = 64;

/// `text` cut to `MAX_CHARS` characters (marked with `…`), with control characters, and the
/// backslash that introduces the escapes, escaped (`\n`, `\u{1b}`, `\\`).
pub fn short(text: &str) -> String {
    limited(text, MAX_CHARS)
}

/// `short` with another length limit (request paths are longer than names).
pub fn limited(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 2));
    for (i, c) in text.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        if c.is_control() || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_and_control_characters_escaped() {
        assert_eq!(short("bob"), "bob");
        assert_eq!(short("é€"), "é€");
        assert_eq!(
            short("x\nINFO forged line\r\u{1b}[31m\\"),
            "x\\nINFO forged line\\r\\u{1b}[31m\\\\"
        );
        let long = "a".repeat(1_000_000);
        let cut = short(&long);
        assert_eq!(cut.chars().count(), MAX_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(limited("abcdef", 3), "abc…");
        assert!(!short(&"\n".repeat(100)).contains('\n'));
    }
}
