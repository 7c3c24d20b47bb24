//! Search over the FTS5 indexes (tracks_fts, albums_fts, artists_fts; rowid = entity id) and
//! the whole-library listing an empty query means (clients sync libraries with it, page by
//! page).
//!
//! Query words match in any order and any column, each as a prefix, case- and
//! accent-insensitively (the tokenizer folds both). Each word is quoted, so nothing a client
//! types is FTS syntax; the match expression is always a bound parameter.
//!
//! Orders are stable across pages: by relevance (bm25) then id for a query that matches at
//! most MAX_RANKED items of a kind in the whole catalog, by id for a broader one (ranking
//! scores every match; the id order FTS5 walks and stops at the page); for the full
//! listing an order an index delivers directly, so deep pages stay cheap (for tracks, OFFSET
//! walks a narrow covering index, not the wide table: ~15 ms at offset 500,000).

use super::access::Scope;
use super::cache::{CatalogCache, Key};
use super::sql::{self, Cached, Statement};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use std::collections::HashSet;
use std::sync::Arc;

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

/// Most matches of a kind in the whole catalog that a query's results are ranked by
/// relevance. FTS5 ranks by scoring every match (about 0.6 µs each: 7 ms for "the" at 20,000
/// small tracks, 12,800 matches; hundreds of ms at a million), so a broader query lists its
/// matches by id instead, which FTS5 walks in doclist order and stops at the page. Told from
/// the whole catalog, not the viewer's folders, so a query orders alike for every user and
/// on every page, and the count itself is a bounded walk without joins (0.2 ms).
pub const MAX_RANKED: i64 = 5_000;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Whether `expression` matches at most MAX_RANKED items of the FTS table `up_to` counts
/// (one of sql's `*_MATCHING_UP_TO`).
fn is_narrow(conn: &mut SqliteConnection, up_to: &str, expression: &str) -> QueryResult<bool> {
    let matches: Count = Cached(
        diesel::sql_query(up_to)
            .bind::<Text, _>(expression)
            .bind::<BigInt, _>(MAX_RANKED + 1),
    )
    .get_result(conn)?;
    Ok(matches.n <= MAX_RANKED)
}

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
    cache: &CatalogCache,
    words: &[String],
    scope: &Scope,
    page: Page,
) -> QueryResult<Vec<i32>> {
    // "is an album artist (of an album `scope` shows)"
    let is_album_artist = |st: &mut Statement, scope: &Scope| {
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
        is_album_artist(&mut st, scope);
        return st
            .push(" ORDER BY ar.id")
            .page(page.limit, page.offset)
            .load_ids(conn);
    }
    let expression = fts_expression(words, None);
    let narrow = is_narrow(conn, sql::ARTISTS_MATCHING_UP_TO, &expression)?;
    st.push_text(sql::ARTISTS_MATCHING, &expression)
        .where_begun()
        .and_where();
    if narrow && !scope.is_all() {
        is_album_artist(&mut st, &Scope::All);
        let ranked = st.push(sql::BY_RANK_ARTISTS).load_ids(conn)?;
        let visible = visible_ids(conn, cache, "album artists", scope, |st| {
            st.push(sql::ARTISTS).and_where();
            is_album_artist(st, scope);
        })?;
        return Ok(visible_page(ranked, &|id| visible.contains(id), page));
    }
    is_album_artist(&mut st, scope);
    st.push(if narrow {
        sql::BY_RANK_ARTISTS
    } else {
        sql::BY_ID
    })
    .page(page.limit, page.offset)
    .load_ids(conn)
}

/// Albums matching the words (name or artist; all albums when there are none) that the
/// scope shows.
pub fn album_ids(
    conn: &mut SqliteConnection,
    cache: &CatalogCache,
    words: &[String],
    scope: &Scope,
    page: Page,
) -> QueryResult<Vec<i32>> {
    let mut st = Statement::default();
    let order = if words.is_empty() {
        st.push(sql::ALBUMS);
        " ORDER BY a.id"
    } else {
        let expression = fts_expression(words, None);
        st.push_text(sql::ALBUMS_MATCHING, &expression)
            .where_begun();
        if !is_narrow(conn, sql::ALBUMS_MATCHING_UP_TO, &expression)? {
            sql::BY_ID
        } else if scope.is_all() {
            sql::BY_RANK
        } else {
            let ranked = st.push(sql::BY_RANK).load_ids(conn)?;
            let visible = visible_ids(conn, cache, "albums", scope, |st| {
                st.push(sql::ALBUMS)
                    .and_where()
                    .push_scope(&scope.bound_album_condition("a.id"), scope);
            })?;
            return Ok(visible_page(ranked, &|id| visible.contains(id), page));
        }
    };
    if !scope.is_all() {
        let album = if words.is_empty() { "a.id" } else { "f.rowid" };
        st.and_where()
            .push_scope(&scope.bound_album_condition(album), scope);
    }
    st.push(order).page(page.limit, page.offset).load_ids(conn)
}

/// The ids a folder-restricted scope shows of one kind (`what`), selected by the statement
/// `select` writes, cached until the catalog changes: a narrow query's ranked matches are
/// filtered with it, where the scope condition per match (an album's tracks, an artist's
/// albums' tracks) cost the listener several times the admin's search.
fn visible_ids(
    conn: &mut SqliteConnection,
    cache: &CatalogCache,
    what: &str,
    scope: &Scope,
    select: impl FnOnce(&mut Statement),
) -> QueryResult<Arc<HashSet<i32>>> {
    cache.get_or_build(conn, Key::new(format!("visible {what}"), scope), |c| {
        let mut st = Statement::default();
        select(&mut st);
        Ok(st.load_ids(c)?.into_iter().collect())
    })
}

/// `page` of the `ranked` ids that are `visible`, in their order.
fn visible_page(ranked: Vec<i32>, visible: &dyn Fn(&i32) -> bool, page: Page) -> Vec<i32> {
    let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(page.limit).unwrap_or(0);
    ranked
        .into_iter()
        .filter(|id| visible(id))
        .skip(skip)
        .take(take)
        .collect()
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
        let expression = fts_expression(words, None);
        // The count and, for the whole catalog, a broad query's first pages at once: a long
        // prefix word makes FTS5 merge its terms' doclists for every statement.
        let first: Vec<i32> = Cached(
            diesel::sql_query(sql::TRACK_IDS_MATCHING_UP_TO)
                .bind::<Text, _>(&expression)
                .bind::<BigInt, _>(MAX_RANKED + 1),
        )
        .load::<sql::IdRow>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
        let narrow = i64::try_from(first.len()).unwrap_or(i64::MAX) <= MAX_RANKED;
        let end = page.offset.saturating_add(page.limit);
        if !narrow && scope.is_all() && usize::try_from(end).is_ok_and(|end| end <= first.len()) {
            return Ok(visible_page(first, &|_| true, page));
        }
        st.push(sql::TRACKS_MATCHING);
        // The join only when filtering (a lookup per match walked).
        if !scope.is_all() {
            st.push(sql::TRACKS_MATCHING_JOIN);
        }
        st.and_where().push_text(sql::TRACKS_MATCH, &expression);
        if !scope.is_all() {
            st.and_where()
                .push_scope(&scope.bound_condition("t.folder_id"), scope);
        }
        st.push(if narrow { sql::BY_RANK } else { sql::BY_ID });
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

    /// A catalog of `n` tracks (odd ids in folder 1, even in folder 2) whose search index
    /// holds `title(id)`, artist "Ar", album "Al" for each.
    fn indexed(n: i32, title: impl Fn(i32) -> String) -> (tempfile::TempDir, SqliteConnection) {
        let (dir, mut c) = super::super::test_catalog::catalog(&[]);
        c.transaction(|c| {
            diesel::sql_query(format!(
                "INSERT INTO tracks (id, folder_id, directory_id, album_id, path, size, mtime, \
                 suffix, content_type, codec, duration_ms, title, album_name, artist_display, \
                 fingerprint, created_at, updated_at) \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
                 SELECT i, 2 - i % 2, 2 - i % 2, 1, 'a/' || i, 1, 0, 'mp3', 'audio/mpeg', \
                 'mp3', 1000, 'T', 'Al', 'Ar', i, 0, 0 FROM n"
            ))
            .execute(c)?;
            for id in 1..=n {
                diesel::sql_query(
                    "INSERT INTO tracks_fts (rowid, title, artist, album) VALUES (?, ?, 'Ar', 'Al')",
                )
                .bind::<diesel::sql_types::Integer, _>(id)
                .bind::<Text, _>(title(id))
                .execute(c)?;
            }
            QueryResult::Ok(())
        })
        .unwrap();
        (dir, c)
    }

    #[test]
    fn a_narrow_query_is_ranked_exact_titles_first() {
        let (_dir, mut c) = indexed(40, |id| match id {
            7 => "Love".into(),
            30 => "Love".into(),
            _ => format!("Lovely long {id} song"),
        });
        let all = Page {
            limit: 100,
            offset: 0,
        };
        for scope in [Scope::All, Scope::only(vec![2])] {
            let ids = track_ids(&mut c, &query_words("love"), &scope, all).unwrap();
            let visible = |id: i32| scope.allows(2 - id % 2);
            let exact: Vec<i32> = [7, 30].into_iter().filter(|&id| visible(id)).collect();
            assert_eq!(ids[..exact.len()], exact, "{scope:?}");
            assert_eq!(ids.len(), (1..=40).filter(|&id| visible(id)).count());
        }
    }

    #[test]
    fn a_broad_query_lists_by_id_in_stable_pages_for_every_scope() {
        let n = i32::try_from(MAX_RANKED).unwrap() + 300;
        // The shortest (best-ranked) titles last: the order must not be relevance.
        let (_dir, mut c) = indexed(n, |id| {
            if id > n - 10 {
                "the".into()
            } else {
                format!("the {id} a long title to rank low")
            }
        });
        for scope in [Scope::All, Scope::only(vec![1])] {
            let expected: Vec<i32> = (1..=n).filter(|&id| scope.allows(2 - id % 2)).collect();
            let mut paged = Vec::new();
            for offset in (0..).step_by(500) {
                let page = Page { limit: 500, offset };
                let ids = track_ids(&mut c, &query_words("th"), &scope, page).unwrap();
                if ids.is_empty() {
                    break;
                }
                paged.extend(ids);
            }
            assert_eq!(paged, expected, "{scope:?}");
        }
        // Narrow again: a word only the last ten carry ranks.
        let ids = track_ids(&mut c, &query_words("1234"), &Scope::All, Page::EVERYTHING).unwrap();
        assert_eq!(ids, [1234]);
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
