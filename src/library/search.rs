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

use super::lists::{IdRow, album_in_folder, load_ids};
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

/// The words of a client's query, with FTS syntax characters removed. Empty for `""`, an
/// empty string, `*` and the like: those mean "everything".
pub fn query_words(raw: &str) -> Vec<String> {
    raw.split_whitespace()
        .map(|w| w.chars().filter(|c| !matches!(c, '"' | '*')).collect())
        .filter(|w: &String| !w.is_empty())
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

/// Album artists matching the words (all album artists when there are none), optionally only
/// those with an album in `folder`.
pub fn artist_ids(
    conn: &mut SqliteConnection,
    words: &[String],
    folder: Option<i32>,
    page: Page,
) -> QueryResult<Vec<i32>> {
    let in_folder = match folder {
        Some(f) => format!(
            " AND EXISTS (SELECT 1 FROM tracks ft WHERE ft.album_id = aa.album_id \
                AND ft.folder_id = {f})"
        ),
        None => String::new(),
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

/// Albums matching the words (name or artist; all albums when there are none).
pub fn album_ids(
    conn: &mut SqliteConnection,
    words: &[String],
    folder: Option<i32>,
    page: Page,
) -> QueryResult<Vec<i32>> {
    if words.is_empty() {
        let filter = folder
            .map(|f| format!(" WHERE {}", album_in_folder("a", f)))
            .unwrap_or_default();
        return load_ids(
            conn,
            &format!(
                "SELECT a.id AS id FROM albums a{filter} ORDER BY a.id{}",
                page.sql()
            ),
        );
    }
    let filter = folder
        .map(|f| {
            format!(
                " AND EXISTS (SELECT 1 FROM tracks ft WHERE ft.album_id = f.rowid \
                   AND ft.folder_id = {f})"
            )
        })
        .unwrap_or_default();
    let sql = format!(
        "SELECT f.rowid AS id FROM albums_fts f \
         WHERE albums_fts MATCH ?{filter} ORDER BY f.rank, f.rowid{}",
        page.sql()
    );
    load_matching(conn, &sql, &fts_expression(words, None))
}

/// Tracks matching the words (title, artist or album; all tracks when there are none).
///
/// The full listing is in album order (`tracks_album` index: album id, then track id) or, for
/// one folder of several, in path order (the folder+path index) — both walked without
/// touching the table, so paging deep into a large library stays fast.
pub fn track_ids(
    conn: &mut SqliteConnection,
    words: &[String],
    folder: Option<i32>,
    page: Page,
) -> QueryResult<Vec<i32>> {
    if words.is_empty() {
        let sql = match folder {
            None => format!(
                "SELECT t.id AS id FROM tracks t ORDER BY t.album_id, t.id{}",
                page.sql()
            ),
            Some(f) => format!(
                "SELECT t.id AS id FROM tracks t WHERE t.folder_id = {f} ORDER BY t.path{}",
                page.sql()
            ),
        };
        return load_ids(conn, &sql);
    }
    // The join only when filtering: ranking is the cost of a broad query, not the rows.
    let (join, filter) = match folder {
        Some(f) => (
            " JOIN tracks t ON t.id = f.rowid",
            format!(" AND t.folder_id = {f}"),
        ),
        None => ("", String::new()),
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
    page: Page,
) -> QueryResult<(i64, Vec<i32>)> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let expr = q.expression();
    let newer = q
        .newer_than
        .map(|ms| format!("t.created_at > {ms}"))
        .unwrap_or_default();
    if expr.is_empty() {
        let filter = if newer.is_empty() {
            String::new()
        } else {
            format!(" WHERE {newer}")
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
    let (join, filter) = if newer.is_empty() {
        ("", String::new())
    } else {
        (" JOIN tracks t ON t.id = f.rowid", format!(" AND {newer}"))
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
}
