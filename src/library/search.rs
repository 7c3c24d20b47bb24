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
use super::lists::{IdRow, load_ids};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

/// One page: how many, from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    fn sql(&self) -> String {
        format!(" LIMIT {} OFFSET {}", self.limit.max(0), self.offset.max(0))
    }
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

fn load_matching(conn: &mut SqliteConnection, sql: &str, expr: &str) -> QueryResult<Vec<i32>> {
    Ok(diesel::sql_query(sql)
        .bind::<Text, _>(expr)
        .load::<IdRow>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// Album artists matching the words (all album artists when there are none), only those
/// with an album the scope shows.
pub fn artist_ids(
    conn: &mut SqliteConnection,
    words: &[String],
    scope: &Scope,
    page: Page,
) -> QueryResult<Vec<i32>> {
    let in_folder = match scope {
        Scope::All => String::new(),
        _ => format!(" AND {}", scope.album_condition("aa.album_id")),
    };
    let is_album_artist =
        format!("EXISTS (SELECT 1 FROM album_artists aa WHERE aa.artist_id = ar.id{in_folder})");
    if words.is_empty() {
        return load_ids(
            conn,
            &format!(
                "SELECT ar.id AS id FROM artists ar WHERE {is_album_artist} ORDER BY ar.id{}",
                page.sql()
            ),
        );
    }
    let sql = format!(
        "SELECT ar.id AS id FROM artists_fts f JOIN artists ar ON ar.id = f.rowid \
         WHERE artists_fts MATCH ? AND {is_album_artist} ORDER BY f.rank, ar.id{}",
        page.sql()
    );
    load_matching(conn, &sql, &fts_expression(words, None))
}

/// Albums matching the words (name or artist; all albums when there are none) that the
/// scope shows.
pub fn album_ids(
    conn: &mut SqliteConnection,
    words: &[String],
    scope: &Scope,
    page: Page,
) -> QueryResult<Vec<i32>> {
    if words.is_empty() {
        let filter = match scope {
            Scope::All => String::new(),
            _ => format!(" WHERE {}", scope.album_condition("a.id")),
        };
        return load_ids(
            conn,
            &format!(
                "SELECT a.id AS id FROM albums a{filter} ORDER BY a.id{}",
                page.sql()
            ),
        );
    }
    let filter = match scope {
        Scope::All => String::new(),
        _ => format!(" AND {}", scope.album_condition("f.rowid")),
    };
    let sql = format!(
        "SELECT f.rowid AS id FROM albums_fts f \
         WHERE albums_fts MATCH ?{filter} ORDER BY f.rank, f.rowid{}",
        page.sql()
    );
    load_matching(conn, &sql, &fts_expression(words, None))
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
    if words.is_empty() {
        let sql = match scope {
            Scope::All => format!(
                "SELECT t.id AS id FROM tracks t ORDER BY t.album_id, t.id{}",
                page.sql()
            ),
            _ => format!(
                "SELECT t.id AS id FROM tracks t WHERE {} ORDER BY t.folder_id, t.path{}",
                scope.condition("t.folder_id"),
                page.sql()
            ),
        };
        return load_ids(conn, &sql);
    }
    // The join only when filtering: ranking is the cost of a broad query, not the rows.
    let (join, filter) = match scope {
        Scope::All => ("", String::new()),
        _ => (
            " JOIN tracks t ON t.id = f.rowid",
            format!(" AND {}", scope.condition("t.folder_id")),
        ),
    };
    let sql = format!(
        "SELECT f.rowid AS id FROM tracks_fts f{join} \
         WHERE tracks_fts MATCH ?{filter} ORDER BY f.rank, f.rowid{}",
        page.sql()
    );
    load_matching(conn, &sql, &fts_expression(words, None))
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
    let mut track_conds: Vec<String> = Vec::new();
    if let Some(ms) = q.newer_than {
        track_conds.push(format!("t.created_at > {ms}"));
    }
    if !scope.is_all() {
        track_conds.push(scope.condition("t.folder_id"));
    }
    let track_filter = track_conds.join(" AND ");
    if expr.is_empty() {
        let filter = if track_filter.is_empty() {
            String::new()
        } else {
            format!(" WHERE {track_filter}")
        };
        let total: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM tracks t{filter}"))
            .get_result(conn)?;
        let ids = load_ids(
            conn,
            &format!(
                "SELECT t.id AS id FROM tracks t{filter} ORDER BY t.album_id, t.id{}",
                page.sql()
            ),
        )?;
        return Ok((total.n, ids));
    }
    let (join, filter) = if track_filter.is_empty() {
        ("", String::new())
    } else {
        (
            " JOIN tracks t ON t.id = f.rowid",
            format!(" AND {track_filter}"),
        )
    };
    let from = format!("FROM tracks_fts f{join} WHERE tracks_fts MATCH ?");
    let total: Count = diesel::sql_query(format!("SELECT count(*) AS n {from}{filter}"))
        .bind::<Text, _>(&expr)
        .get_result(conn)?;
    let ids = load_matching(
        conn,
        &format!(
            "SELECT f.rowid AS id {from}{filter} ORDER BY f.rank, f.rowid{}",
            page.sql()
        ),
        &expr,
    )?;
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
