//! Search over the FTS5 indexes (tracks_fts, albums_fts, artists_fts; rowid = entity id) and
//! the whole-library listing an empty query means (clients sync libraries with it, page by
//! page).
//!
//! Query words match in any order and any column, each as a prefix, case- and
//! accent-insensitively (the tokenizer folds both). Each word is quoted, so nothing a client
//! types is FTS syntax; the match expression is always a bound parameter.
//!
//! Orders are stable across pages: by relevance (bm25) then id for a query; for the full
//! listing an order an index delivers directly, so deep pages stay cheap (for tracks, OFFSET
//! walks a narrow covering index, not the wide table: ~15 ms at offset 500,000).

use super::access::Scope;
use super::sql::{self, Statement};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// One page: how many, from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// Every row, from the first.
    pub const EVERYTHING: Page = Page {
        limit: i64::MAX,
        offset: 0,
    };
}

/// Most words of a query that count, and most characters of a word (longer words match as
/// their prefix): no real search needs more, and a huge query must stay an ordinary search
/// rather than a huge FTS5 expression.
const MAX_WORDS: usize = 24;
const MAX_WORD_CHARS: usize = 100;

/// The words of a client's query, with FTS syntax characters removed. Control characters
/// (NUL above all: FTS5 reads a quoted string up to it and then fails) separate words like
/// spaces. Empty for `""`, an empty string, `*` and the like: those mean "everything".
pub fn query_words(raw: &str) -> Vec<String> {
    raw.split(|c: char| c.is_whitespace() || c.is_control())
        .map(|w| {
            w.chars()
                .filter(|c| !matches!(c, '"' | '*'))
                .take(MAX_WORD_CHARS)
                .collect()
        })
        .filter(|w: &String| !w.is_empty())
        .take(MAX_WORDS)
        .collect()
}

/// An FTS5 expression: every word as a quoted prefix, all required; `column` restricts the
/// words to one column.
pub fn fts_expression(words: &[String], column: Option<&str>) -> String {
    words
        .iter()
        .map(|w| match column {
            Some(c) => format!("{c} : \"{w}\"*"),
            None => format!("\"{w}\"*"),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Album artists matching the words (all album artists when there are none), only those
/// with an album the scope shows.
pub fn artist_ids(
    conn: &mut SqliteConnection,
    words: &[String],
    scope: &Scope,
    page: Page,
) -> QueryResult<Vec<i32>> {
    // "is an album artist (of an album the scope shows)"
    let is_album_artist = |st: &mut Statement| {
        st.push(sql::IS_ALBUM_ARTIST);
        if !scope.is_all() {
            st.push(" AND ")
                .push_scope(&scope.bound_album_condition("aa.album_id"), scope);
        }
        st.push(")");
    };
    let mut st = Statement::default();
    if words.is_empty() {
        st.push(sql::ARTISTS).and_where();
        is_album_artist(&mut st);
        st.push(" ORDER BY ar.id");
    } else {
        st.push_text(sql::ARTISTS_MATCHING, &fts_expression(words, None))
            .where_begun()
            .and_where();
        is_album_artist(&mut st);
        st.push(sql::BY_RANK_ARTISTS);
    }
    st.page(page.limit, page.offset).load_ids(conn)
}

/// Albums matching the words (name or artist; all albums when there are none) that the
/// scope shows.
pub fn album_ids(
    conn: &mut SqliteConnection,
    words: &[String],
    scope: &Scope,
    page: Page,
) -> QueryResult<Vec<i32>> {
    let mut st = Statement::default();
    if words.is_empty() {
        st.push(sql::ALBUMS);
    } else {
        st.push_text(sql::ALBUMS_MATCHING, &fts_expression(words, None))
            .where_begun();
    }
    if !scope.is_all() {
        let album = if words.is_empty() { "a.id" } else { "f.rowid" };
        st.and_where()
            .push_scope(&scope.bound_album_condition(album), scope);
    }
    st.push(if words.is_empty() {
        " ORDER BY a.id"
    } else {
        sql::BY_RANK
    })
    .page(page.limit, page.offset)
    .load_ids(conn)
}

/// Tracks matching the words (title, artist or album; all tracks when there are none) that
/// the scope shows.
///
/// The full listing is in album order (`tracks_album` index: album id, then track id) or, for
/// some folders of several, in folder and path order (the folder+path index) — both walked
/// without touching the table, so paging deep into a large library stays fast.
pub fn track_ids(
    conn: &mut SqliteConnection,
    words: &[String],
    scope: &Scope,
    page: Page,
) -> QueryResult<Vec<i32>> {
    let mut st = Statement::default();
    if words.is_empty() {
        st.push(sql::TRACKS);
        if scope.is_all() {
            st.push(sql::TRACKS_BY_ALBUM);
        } else {
            st.and_where()
                .push_scope(&scope.bound_condition("t.folder_id"), scope)
                .push(sql::TRACKS_BY_PATH);
        }
    } else {
        st.push(sql::TRACKS_MATCHING);
        // The join only when filtering: ranking is the cost of a broad query, not the rows.
        if !scope.is_all() {
            st.push(sql::TRACKS_MATCHING_JOIN);
        }
        st.and_where()
            .push_text(sql::TRACKS_MATCH, &fts_expression(words, None));
        if !scope.is_all() {
            st.and_where()
                .push_scope(&scope.bound_condition("t.folder_id"), scope);
        }
        st.push(sql::BY_RANK);
    }
    st.page(page.limit, page.offset).load_ids(conn)
}

/// The criteria of the deprecated `search` method: words per field, all required.
#[derive(Debug, Clone, Default)]
pub struct FieldQuery {
    pub artist: Vec<String>,
    pub album: Vec<String>,
    pub title: Vec<String>,
    pub any: Vec<String>,
    /// Only tracks added after this time (epoch ms).
    pub newer_than: Option<i64>,
}

impl FieldQuery {
    fn expression(&self) -> String {
        [
            (&self.artist, Some("artist")),
            (&self.album, Some("album")),
            (&self.title, Some("title")),
            (&self.any, None),
        ]
        .into_iter()
        .filter(|(words, _)| !words.is_empty())
        .map(|(words, column)| fts_expression(words, column))
        .collect::<Vec<_>>()
        .join(" AND ")
    }
}

/// Tracks matching a field query: the total number of hits and one page of ids.
pub fn track_ids_by_fields(
    conn: &mut SqliteConnection,
    q: &FieldQuery,
    scope: &Scope,
    page: Page,
) -> QueryResult<(i64, Vec<i32>)> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let expr = q.expression();
    let filters_tracks = q.newer_than.is_some() || !scope.is_all();
    // The statement up to its WHERE clause, over the FTS index or the whole table.
    let statement = |select_fts: &str, select_tracks: &str| {
        let mut st = Statement::default();
        if expr.is_empty() {
            st.push(select_tracks);
        } else {
            st.push(select_fts);
            if filters_tracks {
                st.push(sql::TRACKS_MATCHING_JOIN);
            }
            st.and_where().push_text(sql::TRACKS_MATCH, &expr);
        }
        if let Some(ms) = q.newer_than {
            st.and_where().push_ints("t.created_at > ?", &[ms]);
        }
        if !scope.is_all() {
            st.and_where()
                .push_scope(&scope.bound_condition("t.folder_id"), scope);
        }
        st
    };
    let total: Count = statement(sql::COUNT_TRACKS_MATCHING, sql::COUNT_TRACKS)
        .query()
        .get_result(conn)?;
    let ids = statement(sql::TRACKS_MATCHING, sql::TRACKS)
        .push(if expr.is_empty() {
            sql::TRACKS_BY_ALBUM
        } else {
            sql::BY_RANK
        })
        .page(page.limit, page.offset)
        .load_ids(conn)?;
    Ok((total.n, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_prefixes_and_quotes_mean_everything() {
        assert!(query_words("").is_empty());
        assert!(query_words("\"\"").is_empty());
        assert!(query_words(" * ").is_empty());
        let words = query_words("Björk \"jo\"ga* AND");
        assert_eq!(words, ["Björk", "joga", "AND"]);
        assert_eq!(
            fts_expression(&words, None),
            "\"Björk\"* AND \"joga\"* AND \"AND\"*"
        );
        assert_eq!(
            fts_expression(&words[..1], Some("artist")),
            "artist : \"Björk\"*"
        );
    }

    #[test]
    fn control_characters_split_words_and_long_queries_are_capped() {
        assert!(query_words("\0").is_empty());
        assert_eq!(query_words("a\0b\u{1}c\td"), ["a", "b", "c", "d"]);
        let long = "x".repeat(5000);
        assert_eq!(query_words(&long)[0].len(), MAX_WORD_CHARS);
        assert_eq!(query_words(&"w ".repeat(1000)).len(), MAX_WORDS);
    }
}
