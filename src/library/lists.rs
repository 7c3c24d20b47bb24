//! Album and song lists (getAlbumList(2), getRandomSongs, getSongsByGenre): which ids, in which
//! order. Each query returns one page of ids; `album_views` / `tracks_by_id` turn them into
//! views. Every non-random order ends with the id, so pages are stable.
//!
//! The SQL is built as text: every value inlined is an integer the caller parsed (ids, years,
//! limits), and text (genre names) goes through `genre_id` first, so nothing a client sends is
//! spliced in as SQL.

use super::access::Scope;
use crate::db::schema::{genres, tracks};
use diesel::dsl::{max, min};
use diesel::prelude::*;
use diesel::sql_types::Integer;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// Which albums, in which order (the `type` of getAlbumList).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlbumOrder {
    Random,
    /// Most recently added first.
    Newest,
    /// The user's ratings, best first (rated albums only).
    Highest,
    /// The user's plays of the album (or of its tracks), most first (played albums only).
    Frequent,
    /// The user's last play of the album (or of its tracks), latest first.
    Recent,
    /// Sort name (or name), case-insensitively.
    ByName,
    /// The first album artist's sort name (or name without a leading article), then album.
    ByArtist {
        ignored_articles: String,
    },
    /// The user's starred albums, most recently starred first.
    Starred,
    /// Years `from..=to` ascending; descending when `from > to`.
    ByYear {
        from: i32,
        to: i32,
    },
    /// Albums with this genre (name, case-insensitive), by name.
    ByGenre(String),
}

/// One page of an album list.
#[derive(Debug, Clone)]
pub struct AlbumQuery {
    pub order: AlbumOrder,
    pub user_id: i32,
    /// Only albums with tracks in these music folders.
    pub scope: Scope,
    pub limit: i64,
    pub offset: i64,
}

#[derive(QueryableByName)]
pub(crate) struct IdRow {
    #[diesel(sql_type = Integer)]
    pub id: i32,
}

pub(crate) fn load_ids(conn: &mut SqliteConnection, sql: &str) -> QueryResult<Vec<i32>> {
    Ok(diesel::sql_query(sql)
        .load::<IdRow>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// The id of a genre by name (case-insensitive: the column is `COLLATE NOCASE`).
pub fn genre_id(conn: &mut SqliteConnection, name: &str) -> QueryResult<Option<i32>> {
    genres::table
        .filter(genres::name.eq(name))
        .select(genres::id)
        .get_result(conn)
        .optional()
}

/// SQL for an album's sort key: its sort name, or its name.
fn album_name_key(alias: &str) -> String {
    format!("COALESCE(NULLIF({alias}.sort_name, ''), {alias}.name) COLLATE NOCASE")
}

/// SQL that strips one leading article (from a space-separated list) off `expr`, as
/// `subsonic::browsing::sort_key` does for the artist index.
fn strip_articles(expr: &str, articles: &str) -> String {
    let mut sql = String::from("CASE");
    for article in articles.split_whitespace() {
        // Articles are plain words; anything else is skipped rather than quoted.
        if !article.chars().all(|c| c.is_alphanumeric()) {
            continue;
        }
        let n = article.chars().count();
        let _ = write!(
            sql,
            " WHEN {expr} LIKE '{article} %' AND length({expr}) > {} THEN substr({expr}, {})",
            n + 1,
            n + 2
        );
    }
    if sql == "CASE" {
        return expr.to_string();
    }
    let _ = write!(sql, " ELSE {expr} END");
    sql
}

/// One page of album ids for `q`.
pub fn album_ids(conn: &mut SqliteConnection, q: &AlbumQuery) -> QueryResult<Vec<i32>> {
    let user = q.user_id;
    let mut with = String::new();
    let mut from = String::from("albums a");
    let mut conds: Vec<String> = Vec::new();
    let name_key = album_name_key("a");
    let order = match &q.order {
        AlbumOrder::Random => "random()".to_string(),
        AlbumOrder::Newest => "a.created_at DESC, a.id DESC".to_string(),
        AlbumOrder::ByName => format!("{name_key}, a.id"),
        AlbumOrder::ByArtist { ignored_articles } => {
            let artist_name = strip_articles("ar.name", ignored_articles);
            let display = strip_articles("a.artist_display", ignored_articles);
            format!(
                "COALESCE((SELECT COALESCE(NULLIF(ar.sort_name, ''), {artist_name}) \
                   FROM album_artists aa JOIN artists ar ON ar.id = aa.artist_id \
                   WHERE aa.album_id = a.id ORDER BY aa.role, aa.position LIMIT 1), \
                 {display}) COLLATE NOCASE, {name_key}, a.id"
            )
        }
        AlbumOrder::Highest => {
            from.push_str(&format!(
                " JOIN annotations an ON an.user_id = {user} AND an.item_type = 'album' \
                  AND an.item_id = a.id"
            ));
            conds.push("an.rating > 0".into());
            "an.rating DESC, a.id".to_string()
        }
        AlbumOrder::Starred => {
            from.push_str(&format!(
                " JOIN annotations an ON an.user_id = {user} AND an.item_type = 'album' \
                  AND an.item_id = a.id"
            ));
            conds.push("an.starred_at IS NOT NULL".into());
            "an.starred_at DESC, a.id".to_string()
        }
        AlbumOrder::Frequent | AlbumOrder::Recent => {
            // Plays of the album itself and the sum over its tracks; the larger counts (a
            // scrobble may record either or both).
            with = format!(
                "WITH plays(album_id, n, last) AS ( \
                   SELECT t.album_id, SUM(an.play_count), MAX(an.last_played) \
                     FROM annotations an JOIN tracks t ON t.id = an.item_id \
                    WHERE an.user_id = {user} AND an.item_type = 'track' \
                      AND (an.play_count > 0 OR an.last_played IS NOT NULL) \
                    GROUP BY t.album_id \
                   UNION ALL \
                   SELECT item_id, play_count, last_played FROM annotations \
                    WHERE user_id = {user} AND item_type = 'album' \
                      AND (play_count > 0 OR last_played IS NOT NULL)), \
                 stats(album_id, n, last) AS ( \
                   SELECT album_id, MAX(n), MAX(last) FROM plays GROUP BY album_id) "
            );
            from = "stats s JOIN albums a ON a.id = s.album_id".into();
            if q.order == AlbumOrder::Frequent {
                conds.push("s.n > 0".into());
                "s.n DESC, a.id".to_string()
            } else {
                conds.push("s.last IS NOT NULL".into());
                "s.last DESC, a.id".to_string()
            }
        }
        AlbumOrder::ByYear { from: y1, to: y2 } => {
            let (lo, hi, dir) = if y1 <= y2 {
                (y1, y2, "ASC")
            } else {
                (y2, y1, "DESC")
            };
            conds.push(format!("a.year BETWEEN {lo} AND {hi}"));
            format!("a.year {dir}, {name_key}, a.id")
        }
        AlbumOrder::ByGenre(name) => {
            let Some(genre) = genre_id(conn, name)? else {
                return Ok(Vec::new());
            };
            from.push_str(&format!(
                " JOIN album_genres ag ON ag.album_id = a.id AND ag.genre_id = {genre}"
            ));
            format!("{name_key}, a.id")
        }
    };
    if !q.scope.is_all() {
        conds.push(q.scope.album_condition("a.id"));
    }
    let mut sql = format!("{with}SELECT a.id AS id FROM {from}");
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    let _ = write!(
        sql,
        " ORDER BY {order} LIMIT {} OFFSET {}",
        q.limit.max(0),
        q.offset.max(0)
    );
    load_ids(conn, &sql)
}

/// An entry of a folder-mode album list (getAlbumList `starred` and `highest`): an album, or
/// an album folder a folder-mode client starred or rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderListItem {
    Album(i32),
    Directory(i32),
}

/// One page of getAlbumList's `starred` (most recently starred first) or `highest` (best
/// rated first) with the user's album folders among the albums: folders holding tracks the
/// scope shows directly. Other orders have no folders; they return albums only.
pub fn folder_list_items(
    conn: &mut SqliteConnection,
    q: &AlbumQuery,
) -> QueryResult<Vec<FolderListItem>> {
    let (condition, order) = match q.order {
        AlbumOrder::Starred => ("an.starred_at IS NOT NULL", "an.starred_at DESC"),
        AlbumOrder::Highest => ("an.rating > 0", "an.rating DESC"),
        _ => {
            return Ok(album_ids(conn, q)?
                .into_iter()
                .map(FolderListItem::Album)
                .collect());
        }
    };
    let album_visible = match &q.scope {
        Scope::All => "EXISTS (SELECT 1 FROM albums a WHERE a.id = an.item_id)".to_string(),
        scope => scope.album_condition("an.item_id"),
    };
    let folder_visible = format!(
        "EXISTS (SELECT 1 FROM tracks t WHERE t.directory_id = an.item_id AND {})",
        q.scope.condition("t.folder_id")
    );
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
        #[diesel(sql_type = Integer)]
        id: i32,
    }
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT an.item_type AS kind, an.item_id AS id FROM annotations an \
         WHERE an.user_id = {} AND {condition} \
           AND ((an.item_type = 'album' AND {album_visible}) \
             OR (an.item_type = 'directory' AND {folder_visible})) \
         ORDER BY {order}, an.item_type, an.item_id LIMIT {} OFFSET {}",
        q.user_id,
        q.limit.max(0),
        q.offset.max(0)
    ))
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| match r.kind.as_str() {
            "album" => FolderListItem::Album(r.id),
            _ => FolderListItem::Directory(r.id),
        })
        .collect())
}

/// For each album, the directory above the one its (first) track lies in: its parent in the
/// folder tree. Albums at the top of a music folder have none.
pub fn album_parents(
    conn: &mut SqliteConnection,
    album_ids: &[i32],
) -> QueryResult<HashMap<i32, i32>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        album_id: i32,
        #[diesel(sql_type = diesel::sql_types::Nullable<Integer>)]
        parent_id: Option<i32>,
    }
    let mut out = HashMap::new();
    for chunk in album_ids.chunks(500) {
        let list = crate::db::id_list(chunk);
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT a.id AS album_id, \
               (SELECT d.parent_id FROM tracks t JOIN directories d ON d.id = t.directory_id \
                 WHERE t.album_id = a.id ORDER BY t.id LIMIT 1) AS parent_id \
             FROM albums a WHERE a.id IN ({list})"
        ))
        .load(conn)?;
        out.extend(
            rows.into_iter()
                .filter_map(|r| r.parent_id.map(|p| (r.album_id, p))),
        );
    }
    Ok(out)
}

/// Which songs getRandomSongs may pick from.
#[derive(Debug, Clone)]
pub struct SongFilter {
    pub genre: Option<String>,
    pub from_year: Option<i32>,
    pub to_year: Option<i32>,
    pub scope: Scope,
}

/// Up to `size` random track ids matching `f`.
pub fn random_track_ids(
    conn: &mut SqliteConnection,
    f: &SongFilter,
    size: i64,
) -> QueryResult<Vec<i32>> {
    if f.genre.is_none() && f.from_year.is_none() && f.to_year.is_none() && f.scope.is_all() {
        return sampled_track_ids(conn, size);
    }
    let mut sql = String::from("SELECT t.id AS id FROM tracks t");
    if let Some(name) = &f.genre {
        let Some(genre) = genre_id(conn, name)? else {
            return Ok(Vec::new());
        };
        let _ = write!(
            sql,
            " JOIN track_genres tg ON tg.track_id = t.id AND tg.genre_id = {genre}"
        );
    }
    let mut conds = Vec::new();
    let (lo, hi) = match (f.from_year, f.to_year) {
        (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
        other => other,
    };
    if let Some(lo) = lo {
        conds.push(format!("t.year >= {lo}"));
    }
    if let Some(hi) = hi {
        conds.push(format!("t.year <= {hi}"));
    }
    if !f.scope.is_all() {
        conds.push(f.scope.condition("t.folder_id"));
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    let _ = write!(sql, " ORDER BY random() LIMIT {}", size.max(0));
    load_ids(conn, &sql)
}

/// Up to `size` distinct random track ids, uniformly, without sorting the whole table
/// (ORDER BY random() costs 7 ms at 100,000 tracks): track ids are rowids handed out in order,
/// with gaps only where files went away, so random picks between the smallest and largest id
/// mostly hit a track. A few rounds of picks cover the gaps; a table too sparse for that is
/// topped up with ORDER BY random().
fn sampled_track_ids(conn: &mut SqliteConnection, size: i64) -> QueryResult<Vec<i32>> {
    let size = usize::try_from(size).unwrap_or(0);
    // Two queries: SQLite answers a lone min() or max() from the end of the index, but
    // both in one query scan the table.
    let lo: Option<i32> = tracks::table.select(min(tracks::id)).get_result(conn)?;
    let hi: Option<i32> = tracks::table.select(max(tracks::id)).get_result(conn)?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Vec::new());
    };
    let span = u64::from(hi.abs_diff(lo)) + 1;
    let mut chosen: Vec<i32> = Vec::with_capacity(size);
    let mut tried: HashSet<i32> = HashSet::new();
    for _round in 0..4 {
        let missing = size - chosen.len();
        if missing == 0 || tried.len() as u64 >= span {
            break;
        }
        let mut raw = vec![0u8; missing * 2 * 8];
        if getrandom::fill(&mut raw).is_err() {
            break;
        }
        let picks: Vec<i32> = raw
            .chunks_exact(8)
            .map(|b| lo + (u64::from_le_bytes(b.try_into().unwrap_or_default()) % span) as i32)
            .filter(|id| tried.insert(*id))
            .collect();
        let found: HashSet<i32> = load_ids(
            conn,
            &format!(
                "SELECT id FROM tracks WHERE id IN ({})",
                crate::db::id_list(&picks)
            ),
        )?
        .into_iter()
        .collect();
        chosen.extend(
            picks
                .into_iter()
                .filter(|id| found.contains(id))
                .take(missing),
        );
    }
    if chosen.len() < size {
        let rest = load_ids(
            conn,
            &format!(
                "SELECT id FROM tracks WHERE id NOT IN ({}) ORDER BY random() LIMIT {}",
                crate::db::id_list(&chosen),
                size - chosen.len()
            ),
        )?;
        chosen.extend(rest);
    }
    Ok(chosen)
}

/// One page of the tracks of a genre, in id order (the order the scanner found them in, so
/// albums stay together).
pub fn track_ids_by_genre(
    conn: &mut SqliteConnection,
    genre: &str,
    scope: &Scope,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<i32>> {
    let Some(genre) = genre_id(conn, genre)? else {
        return Ok(Vec::new());
    };
    let join = match scope {
        Scope::All => String::new(),
        _ => format!(
            " JOIN tracks t ON t.id = tg.track_id AND {}",
            scope.condition("t.folder_id")
        ),
    };
    load_ids(
        conn,
        &format!(
            "SELECT tg.track_id AS id FROM track_genres tg{join} WHERE tg.genre_id = {genre} \
             ORDER BY tg.track_id LIMIT {} OFFSET {}",
            limit.max(0),
            offset.max(0)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_are_stripped_in_sql_like_in_the_index() {
        let sql = strip_articles("x", "The El");
        assert_eq!(
            sql,
            "CASE WHEN x LIKE 'The %' AND length(x) > 4 THEN substr(x, 5) \
             WHEN x LIKE 'El %' AND length(x) > 3 THEN substr(x, 4) ELSE x END"
        );
        assert_eq!(strip_articles("x", "it's"), "x");
    }

    /// A catalog whose track ids are `ids` (gaps where files went away).
    fn catalog_with_track_ids(ids: &[i32]) -> (tempfile::TempDir, SqliteConnection) {
        let tracks: Vec<(i32, i32)> = ids.iter().map(|&id| (id, 1)).collect();
        super::super::test_catalog::catalog(&tracks)
    }

    #[test]
    fn sampled_random_tracks_are_distinct_existing_and_cover_every_track() {
        // Dense ids with a gap, and a sparse table where most picks miss.
        let dense: Vec<i32> = (1..=300).filter(|n| !(100..200).contains(n)).collect();
        let sparse = [1, 5_000, 9_000, 20_000, 1_000_000];
        for ids in [&dense[..], &sparse[..]] {
            let (_dir, mut c) = catalog_with_track_ids(ids);
            let mut seen = HashSet::new();
            for _ in 0..60 {
                let got = sampled_track_ids(&mut c, 50).unwrap();
                assert_eq!(got.len(), 50.min(ids.len()), "{got:?}");
                let distinct: HashSet<i32> = got.iter().copied().collect();
                assert_eq!(distinct.len(), got.len(), "{got:?}");
                assert!(got.iter().all(|id| ids.contains(id)), "{got:?}");
                seen.extend(got);
            }
            // Every track can come up (60 draws of 50 from 200 miss one with p < 1e-8).
            assert_eq!(seen.len(), ids.len());
        }
        let (_dir, mut empty) = catalog_with_track_ids(&[]);
        assert!(sampled_track_ids(&mut empty, 50).unwrap().is_empty());
    }
}
