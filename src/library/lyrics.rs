//! Lyrics: LRC parsing (synchronised lyrics as the scanner stores them, from SYLT frames,
//! LRC-formatted lyrics tags and sidecar `.lrc` files), plain lyrics split into lines, and the
//! lookups the API answers from (a track's lyrics; a song by artist and title).
//!
//! LRC as found in the wild: `[mm:ss]`, `[mm:ss.x]`, `[mm:ss.xx]`, `[mm:ss.xxx]` and
//! `[mm:ss:xx]` time tags, several time tags before one line, metadata tags (`[ar:]`, `[ti:]`,
//! `[offset:+/-ms]`, `[la:]`/`[lang:]`...), and enhanced LRC's `<mm:ss.xx>` word times
//! (removed: we serve line timing only).

use super::search::{fts_expression, query_words};
use super::sql::Cached;
use crate::db::schema::tracks;
use crate::lrc::time_tag;
use diesel::expression::{SqlLiteral, UncheckedBind};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

/// Lyrics ready to serve: lines with their start times when synchronised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lyrics {
    /// Language code as tagged; "und" when unknown.
    pub lang: String,
    pub synced: bool,
    /// Milliseconds to apply to every start time; positive means earlier (LRC `[offset:]`).
    pub offset_ms: i64,
    /// `[ar:]` and `[ti:]` of an LRC file.
    pub artist: Option<String>,
    pub title: Option<String>,
    pub lines: Vec<Line>,
}

/// One line; `start_ms` only in synchronised lyrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub start_ms: Option<i64>,
    pub text: String,
}

impl Lyrics {
    /// The lines as plain text, one per line (time tags gone).
    pub fn plain_text(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Plain (unsynchronised) lyrics as lines; surrounding blank lines dropped, inner ones kept
/// (they separate verses).
pub fn parse_plain(text: &str) -> Lyrics {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let text = text.trim();
    let lines = if text.is_empty() {
        Vec::new()
    } else {
        text.split(['\n', '\r'])
            .map(|l| Line {
                start_ms: None,
                text: l.trim_end().to_string(),
            })
            .collect()
    };
    Lyrics {
        lang: "und".into(),
        synced: false,
        offset_ms: 0,
        artist: None,
        title: None,
        lines,
    }
}

/// One bracketed tag at the start of a line.
enum Tag {
    Time(i64),
    Meta(String, String),
}

/// Parses the tag at the start of `s` (which starts with '['); returns it and the rest.
fn leading_tag(s: &str) -> Option<(Tag, &str)> {
    let end = s.find(']')?;
    let inside = &s[1..end];
    let rest = &s[end + 1..];
    if let Some(ms) = time_tag(inside) {
        return Some((Tag::Time(ms), rest));
    }
    let (key, value) = inside.split_once(':')?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphabetic() || c == '#') {
        return None;
    }
    Some((
        Tag::Meta(key.to_ascii_lowercase(), value.trim().to_string()),
        rest,
    ))
}

/// Removes enhanced-LRC word times (`<00:12.34>`) from a line's text.
fn strip_word_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let inside = &rest[open + 1..open + close];
        out.push_str(&rest[..open]);
        if time_tag(inside).is_none() {
            out.push_str(&rest[open..=open + close]);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses LRC text. Lines carrying several time tags appear once per tag; lines are ordered
/// by start time (ties keep file order). Text without any time tag is returned unsynchronised.
pub fn parse_lrc(text: &str) -> Lyrics {
    let mut lyrics = Lyrics {
        lang: "und".into(),
        synced: false,
        offset_ms: 0,
        artist: None,
        title: None,
        lines: Vec::new(),
    };
    let mut timed: Vec<Line> = Vec::new();
    let mut untimed: Vec<Line> = Vec::new();
    for raw in text.trim_start_matches('\u{feff}').lines() {
        let mut rest = raw.trim();
        let mut starts: Vec<i64> = Vec::new();
        let mut had_meta = false;
        while rest.starts_with('[') {
            let Some((tag, after)) = leading_tag(rest) else {
                break;
            };
            match tag {
                Tag::Time(ms) => starts.push(ms),
                Tag::Meta(key, value) => {
                    had_meta = true;
                    match key.as_str() {
                        "offset" => {
                            lyrics.offset_ms = value.trim_start_matches('+').parse().unwrap_or(0)
                        }
                        "la" | "lang" | "language" if !value.is_empty() => lyrics.lang = value,
                        "ar" if !value.is_empty() => lyrics.artist = Some(value),
                        "ti" if !value.is_empty() => lyrics.title = Some(value),
                        _ => {}
                    }
                }
            }
            rest = after.trim_start();
        }
        let line_text = strip_word_times(rest);
        if !starts.is_empty() {
            for start_ms in starts {
                timed.push(Line {
                    start_ms: Some(start_ms),
                    text: line_text.clone(),
                });
            }
        } else if !had_meta {
            untimed.push(Line {
                start_ms: None,
                text: line_text,
            });
        }
    }
    if timed.is_empty() {
        // Not LRC after all: keep the words, without the blank edges.
        while untimed.first().is_some_and(|l| l.text.is_empty()) {
            untimed.remove(0);
        }
        while untimed.last().is_some_and(|l| l.text.is_empty()) {
            untimed.pop();
        }
        lyrics.lines = untimed;
    } else {
        timed.sort_by_key(|l| l.start_ms);
        lyrics.synced = true;
        lyrics.lines = timed;
    }
    lyrics
}

/// What the catalog holds for one track's lyrics.
#[derive(Debug, Clone)]
pub struct TrackLyrics {
    pub track_id: i32,
    pub title: String,
    pub artist: String,
    /// Plain lyrics (USLT, LYRICS...).
    pub plain: Option<String>,
    /// LRC text (SYLT, an LRC-formatted lyrics tag, or a sidecar `.lrc` file).
    pub synced: Option<String>,
}

impl TrackLyrics {
    /// Every version the track has: synchronised first, then plain.
    pub fn parsed(&self) -> Vec<Lyrics> {
        let mut out = Vec::new();
        if let Some(lrc) = &self.synced {
            let parsed = parse_lrc(lrc);
            if !parsed.lines.is_empty() {
                out.push(parsed);
            }
        }
        if let Some(plain) = &self.plain {
            let parsed = parse_plain(plain);
            if !parsed.lines.is_empty() {
                out.push(parsed);
            }
        }
        out
    }
}

type LyricsRow = (
    i32,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// A lyrics column as the catalog holds it when it is at most `max_bytes` long, else NULL: a
/// huge text (a 50 MB sidecar `.lrc`) is never loaded, let alone parsed into a response.
/// The limit is a bound parameter (the statement's text is the same whatever the config).
fn at_most(column: &'static str, max_bytes: u64) -> AtMost {
    diesel::dsl::sql::<Nullable<Text>>(&format!("CASE WHEN length(CAST({column} AS BLOB)) <= "))
        .bind::<BigInt, _>(i64::try_from(max_bytes).unwrap_or(i64::MAX))
        .sql(&format!(" THEN {column} END"))
}

/// `at_most`'s expression: SQL text around one bound `BIGINT`.
type AtMost = SqlLiteral<
    Nullable<Text>,
    UncheckedBind<SqlLiteral<Nullable<Text>>, diesel::dsl::AsExprOf<i64, BigInt>>,
>;

fn byte_length(column: &str) -> SqlLiteral<Nullable<BigInt>> {
    diesel::dsl::sql(&format!("length(CAST({column} AS BLOB))"))
}

#[allow(clippy::type_complexity)]
fn lyrics_columns(
    max_bytes: u64,
) -> (
    tracks::id,
    tracks::title,
    tracks::artist_display,
    AtMost,
    AtMost,
    SqlLiteral<Nullable<BigInt>>,
    SqlLiteral<Nullable<BigInt>>,
) {
    (
        tracks::id,
        tracks::title,
        tracks::artist_display,
        at_most("lyrics", max_bytes),
        at_most("synced_lyrics", max_bytes),
        byte_length("lyrics"),
        byte_length("synced_lyrics"),
    )
}

fn from_row(
    (track_id, title, artist, plain, synced, plain_len, synced_len): LyricsRow,
) -> TrackLyrics {
    for (text, len) in [(&plain, plain_len), (&synced, synced_len)] {
        if let (None, Some(len)) = (text, len) {
            tracing::warn!(
                track_id,
                bytes = len,
                "lyrics larger than limits.lyrics_kb are ignored"
            );
        }
    }
    TrackLyrics {
        track_id,
        title,
        artist,
        plain,
        synced,
    }
}

/// A track's lyrics, each text only when at most `max_bytes` long; None when there is no such
/// track.
pub fn of_track(
    conn: &mut SqliteConnection,
    track_id: i32,
    max_bytes: u64,
) -> QueryResult<Option<TrackLyrics>> {
    let row: Option<LyricsRow> = tracks::table
        .find(track_id)
        .select(lyrics_columns(max_bytes))
        .get_result(conn)
        .optional()?;
    Ok(row.map(from_row))
}

/// How many candidate tracks a lookup by artist and title looks at.
const CANDIDATES: i64 = 200;

/// The lyrics of a song found by title and (optionally) artist, compared ignoring case
/// (Unicode-aware) and surrounding spaces; the artist matches the track's artist credit or
/// any of its artists. Tracks with lyrics win; None when no track has any. Texts longer than
/// `max_bytes` are left out.
pub fn find_by_artist_title(
    conn: &mut SqliteConnection,
    artist: Option<&str>,
    title: &str,
    max_bytes: u64,
) -> QueryResult<Option<TrackLyrics>> {
    let norm = |s: &str| s.trim().to_lowercase();
    let want_title = norm(title);
    let want_artist = artist.map(norm).filter(|a| !a.is_empty());
    // Candidates through the search index (words of the title), else an exact SQL match for
    // titles with no indexable word.
    let words: Vec<String> = query_words(title)
        .into_iter()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    let rows: Vec<LyricsRow> = if words.is_empty() {
        tracks::table
            .filter(tracks::title.eq(title.trim()))
            .filter(
                tracks::lyrics
                    .is_not_null()
                    .or(tracks::synced_lyrics.is_not_null()),
            )
            .order(tracks::id)
            .limit(CANDIDATES)
            .select(lyrics_columns(max_bytes))
            .load(conn)?
    } else {
        #[derive(QueryableByName)]
        struct IdRow {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            id: i32,
        }
        let ids: Vec<i32> = Cached(
            diesel::sql_query(super::sql::TITLES_WITH_LYRICS)
                .bind::<Text, _>(fts_expression(&words, Some("title")))
                .bind::<diesel::sql_types::BigInt, _>(CANDIDATES),
        )
        .load::<IdRow>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
        tracks::table
            .filter(tracks::id.eq_any(&ids))
            .order(tracks::id)
            .select(lyrics_columns(max_bytes))
            .load(conn)?
    };
    let mut matching: Vec<TrackLyrics> = rows
        .into_iter()
        .filter(|r| norm(&r.1) == want_title)
        .map(from_row)
        .collect();
    if let Some(want) = &want_artist {
        use crate::db::schema::{artists, track_artists};
        let ids: Vec<i32> = matching.iter().map(|t| t.track_id).collect();
        let credits: Vec<(i32, String)> = track_artists::table
            .inner_join(artists::table)
            .filter(track_artists::track_id.eq_any(&ids))
            .select((track_artists::track_id, artists::name))
            .load(conn)?;
        matching.retain(|t| {
            norm(&t.artist) == *want
                || credits
                    .iter()
                    .any(|(id, name)| *id == t.track_id && norm(name) == *want)
        });
    }
    Ok(matching.into_iter().find(|t| !t.parsed().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ms: i64, text: &str) -> Line {
        Line {
            start_ms: Some(ms),
            text: text.into(),
        }
    }

    #[test]
    fn lrc_lines_metadata_offset_and_language() {
        let lrc = "\u{feff}[ar:Somebody]\r\n[ti:Song]\n[la:en]\n[offset:+250]\n[length: 03:10]\n\
                   [00:01.00]First\n[00:03.50][00:10.00]Twice\n[00:05:00]Third <00:05.50>word\n\
                   [00:07.000]\n";
        let l = parse_lrc(lrc);
        assert!(l.synced);
        assert_eq!(l.lang, "en");
        assert_eq!(l.offset_ms, 250);
        assert_eq!(l.artist.as_deref(), Some("Somebody"));
        assert_eq!(l.title.as_deref(), Some("Song"));
        assert_eq!(
            l.lines,
            vec![
                line(1000, "First"),
                line(3500, "Twice"),
                line(5000, "Third word"),
                line(7000, ""),
                line(10_000, "Twice"),
            ]
        );
        let negative = parse_lrc("[offset:-1200]\n[lang:de]\n[00:01]x");
        assert_eq!(negative.offset_ms, -1200);
        assert_eq!(negative.lang, "de");
    }

    #[test]
    fn text_without_time_tags_is_plain() {
        let l = parse_lrc("\n[Chorus]\nLa la\n\nLa\n\n");
        assert!(!l.synced);
        assert_eq!(l.lang, "und");
        let texts: Vec<&str> = l.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["[Chorus]", "La la", "", "La"]);
        assert!(l.lines.iter().all(|l| l.start_ms.is_none()));
    }

    #[test]
    fn plain_lyrics_keep_verse_breaks() {
        let l = parse_plain("\r\nOne\r\nTwo\r\n\r\nThree\n");
        assert!(!l.synced);
        assert_eq!(l.plain_text(), "One\nTwo\n\nThree");
        assert!(parse_plain("  \n ").lines.is_empty());
    }

    #[test]
    fn a_time_tag_after_text_is_text() {
        let l = parse_lrc("[00:01.00]at [00:02.00] noon");
        assert_eq!(l.lines, vec![line(1000, "at [00:02.00] noon")]);
    }

    #[test]
    fn lyrics_longer_than_the_limit_are_left_out() {
        let (_dir, mut c) = crate::library::test_catalog::catalog(&[(1, 1)]);
        diesel::update(tracks::table.find(1))
            .set(tracks::lyrics.eq("é 3456789"))
            .execute(&mut c)
            .unwrap();
        let plain = |c: &mut SqliteConnection, max| of_track(c, 1, max).unwrap().unwrap().plain;
        // Bytes, not characters: "é" is two.
        assert_eq!(plain(&mut c, 10).as_deref(), Some("é 3456789"));
        assert_eq!(plain(&mut c, 9), None);
        assert_eq!(plain(&mut c, u64::MAX).as_deref(), Some("é 3456789"));
    }
}
