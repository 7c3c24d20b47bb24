//! Album and song lists (getAlbumList(2), getRandomSongs, getSongsByGenre): which ids, in which
//! order. Each query returns one page of ids; `album_views` / `tracks_by_id` turn them into
//! views. Every non-random order ends with the id, so pages are stable.
//!
//! The statements are assembled from `sql`'s pieces with every value bound (`sql::Statement`),
//! so the text of each shape is the same for every request and nothing is spliced into SQL.

use super::access::Scope;
use super::sql::{self, Statement};
use crate::db::schema::{albums, genres, tracks};
use diesel::dsl::{max, min};
use diesel::prelude::*;
use diesel::sql_types::Integer;
use std::collections::{HashMap, HashSet};

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

/// The id of a genre by name (case-insensitive: the column is `COLLATE NOCASE`).
pub fn genre_id(conn: &mut SqliteConnection, name: &str) -> QueryResult<Option<i32>> {
    genres::table
        .filter(genres::name.eq(name))
        .select(genres::id)
        .get_result(conn)
        .optional()
}

/// One page of album ids for `q`.
pub fn album_ids(conn: &mut SqliteConnection, q: &AlbumQuery) -> QueryResult<Vec<i32>> {
    if q.order == AlbumOrder::Random {
        // A random page has no place in an order: any offset gives another random draw.
        return sampled_ids(conn, Drawn::Albums, &q.scope, q.limit);
    }
    let user = i64::from(q.user_id);
    let mut st = Statement::default();
    // The statement's FROM and conditions, then its order (which may bind values too).
    match &q.order {
        AlbumOrder::Highest | AlbumOrder::Starred => {
            st.push_ints(sql::ALBUMS_ANNOTATED, &[user]).and_where();
            st.push(if q.order == AlbumOrder::Highest {
                "an.rating > 0"
            } else {
                "an.starred_at IS NOT NULL"
            });
        }
        AlbumOrder::Frequent => {
            st.push_ints(sql::ALBUMS_BY_PLAYS, &[user, user])
                .and_where()
                .push("s.n > 0");
        }
        AlbumOrder::Recent => {
            st.push_ints(sql::ALBUMS_BY_PLAYS, &[user, user])
                .and_where()
                .push("s.last IS NOT NULL");
        }
        AlbumOrder::ByYear { from, to } => {
            let (lo, hi) = (from.min(to), from.max(to));
            st.push(sql::ALBUMS)
                .and_where()
                .push_ints("a.year BETWEEN ? AND ?", &[i64::from(*lo), i64::from(*hi)]);
        }
        AlbumOrder::ByGenre(name) => {
            let Some(genre) = genre_id(conn, name)? else {
                return Ok(Vec::new());
            };
            st.push_ints(sql::ALBUMS_OF_GENRE, &[i64::from(genre)]);
        }
        AlbumOrder::Random
        | AlbumOrder::Newest
        | AlbumOrder::ByName
        | AlbumOrder::ByArtist { .. } => {
            st.push(sql::ALBUMS);
        }
    }
    if !q.scope.is_all() {
        st.and_where()
            .push_scope(&q.scope.bound_album_condition("a.id"), &q.scope);
    }
    st.push(" ORDER BY ");
    let name_key = sql::ALBUM_NAME_KEY;
    match &q.order {
        AlbumOrder::Random => st.push("random()"),
        AlbumOrder::Newest => st.push(sql::NEWEST_ORDER),
        AlbumOrder::ByName | AlbumOrder::ByGenre(_) => st.push(&format!("{name_key}, a.id")),
        AlbumOrder::ByArtist { ignored_articles } => {
            st.push(sql::BY_ARTIST_KEY_START);
            sql::strip_articles(&mut st, "ar.name", ignored_articles);
            st.push(sql::BY_ARTIST_KEY_MIDDLE);
            sql::strip_articles(&mut st, "a.artist_display", ignored_articles);
            st.push(sql::BY_ARTIST_KEY_END)
                .push(&format!(", {name_key}, a.id"))
        }
        AlbumOrder::Highest => st.push("an.rating DESC, a.id"),
        AlbumOrder::Starred => st.push("an.starred_at DESC, a.id"),
        AlbumOrder::Frequent => st.push("s.n DESC, a.id"),
        AlbumOrder::Recent => st.push("s.last DESC, a.id"),
        AlbumOrder::ByYear { from, to } => {
            let dir = if from <= to { "ASC" } else { "DESC" };
            st.push(&format!("a.year {dir}, {name_key}, a.id"))
        }
    };
    st.page(q.limit, q.offset).load_ids(conn)
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
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
        #[diesel(sql_type = Integer)]
        id: i32,
    }
    let mut st = Statement::default();
    st.push_ints(sql::FOLDER_LIST_ITEMS, &[i64::from(q.user_id)])
        .push(condition)
        .push(" AND ((an.item_type = 'album' AND ");
    match &q.scope {
        Scope::All => st.push(sql::ANNOTATED_ALBUM_EXISTS),
        scope => st.push_scope(&scope.bound_album_condition("an.item_id"), scope),
    };
    st.push(") OR (an.item_type = 'directory' AND ")
        .push(sql::ANNOTATED_FOLDER_HAS_TRACK)
        .push_scope(&q.scope.bound_condition("t.folder_id"), &q.scope)
        .push("))) ORDER BY ")
        .push(order)
        .push(", an.item_type, an.item_id")
        .page(q.limit, q.offset);
    let rows: Vec<Row> = st.query().load(conn)?;
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
    let ids = serde_json::to_string(album_ids).unwrap_or_else(|_| "[]".into());
    let rows: Vec<Row> = Statement::default()
        .push_text(sql::ALBUM_PARENTS, &ids)
        .query()
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.parent_id.map(|p| (r.album_id, p)))
        .collect())
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
    if f.genre.is_none() && f.from_year.is_none() && f.to_year.is_none() {
        return sampled_ids(conn, Drawn::Tracks, &f.scope, size);
    }
    let mut st = Statement::new(sql::TRACKS);
    if let Some(name) = &f.genre {
        let Some(genre) = genre_id(conn, name)? else {
            return Ok(Vec::new());
        };
        st.push_ints(sql::TRACKS_GENRE_JOIN, &[i64::from(genre)]);
    }
    let (lo, hi) = match (f.from_year, f.to_year) {
        (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
        other => other,
    };
    if let Some(lo) = lo {
        st.and_where().push_ints("t.year >= ?", &[i64::from(lo)]);
    }
    if let Some(hi) = hi {
        st.and_where().push_ints("t.year <= ?", &[i64::from(hi)]);
    }
    if !f.scope.is_all() {
        st.and_where()
            .push_scope(&f.scope.bound_condition("t.folder_id"), &f.scope);
    }
    st.push_ints(" ORDER BY random() LIMIT ?", &[size.max(0)])
        .load_ids(conn)
}

/// What `sampled_ids` draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drawn {
    Tracks,
    Albums,
}

impl Drawn {
    /// The smallest and largest id (two queries: SQLite answers a lone min() or max() from
    /// the end of the index, but both in one query scan the table).
    fn id_range(self, conn: &mut SqliteConnection) -> QueryResult<Option<(i32, i32)>> {
        let (lo, hi): (Option<i32>, Option<i32>) = match self {
            Drawn::Tracks => (
                tracks::table.select(min(tracks::id)).get_result(conn)?,
                tracks::table.select(max(tracks::id)).get_result(conn)?,
            ),
            Drawn::Albums => (
                albums::table.select(min(albums::id)).get_result(conn)?,
                albums::table.select(max(albums::id)).get_result(conn)?,
            ),
        };
        Ok(lo.zip(hi))
    }

    /// `sql` (one of the kind's id statements, its JSON array bound) with the scope's
    /// condition.
    fn statement(self, sql: &str, ids: &[i32], scope: &Scope) -> Statement {
        let mut st = Statement::default();
        st.push_text(sql, &json_ids(ids)).where_begun();
        if !scope.is_all() {
            let visible = match self {
                Drawn::Tracks => scope.bound_condition("t.folder_id"),
                Drawn::Albums => scope.bound_album_condition("a.id"),
            };
            st.and_where().push_scope(&visible, scope);
        }
        st
    }

    fn existing(self) -> &'static str {
        match self {
            Drawn::Tracks => sql::EXISTING_TRACKS,
            Drawn::Albums => sql::EXISTING_ALBUMS,
        }
    }

    fn others(self) -> &'static str {
        match self {
            Drawn::Tracks => sql::OTHER_TRACKS,
            Drawn::Albums => sql::OTHER_ALBUMS,
        }
    }
}

/// Most ids tried in one round of `sampled_ids`.
const MAX_PICKS: usize = 20_000;

/// Up to `size` distinct random track or album ids the scope shows, uniformly, without
/// sorting the whole table (ORDER BY random() costs 7 ms at 100,000 tracks, and for a user
/// restricted to some folders it also tests every row): ids are rowids handed out in order,
/// with gaps only where files went away, so random picks between the smallest and largest id
/// mostly hit. Each round picks enough for what is missing at the hit rate seen so far (a
/// scope showing a tenth of the library needs ten times the picks); a catalog too sparse for
/// a few rounds is topped up with ORDER BY random().
fn sampled_ids(
    conn: &mut SqliteConnection,
    drawn: Drawn,
    scope: &Scope,
    size: i64,
) -> QueryResult<Vec<i32>> {
    let size = usize::try_from(size).unwrap_or(0);
    let Some((lo, hi)) = drawn.id_range(conn)? else {
        return Ok(Vec::new());
    };
    let span = u64::from(hi.abs_diff(lo)) + 1;
    let mut chosen: Vec<i32> = Vec::with_capacity(size);
    let mut tried: HashSet<i32> = HashSet::new();
    // Hits per pick so far (starts hopeful: most catalogs are dense and seen whole).
    let (mut picked, mut hit) = (0usize, 0usize);
    for _round in 0..4 {
        let missing = size - chosen.len();
        if missing == 0 || tried.len() as u64 >= span {
            break;
        }
        let rate = if picked == 0 {
            1.0
        } else {
            (hit as f64 / picked as f64).max(1.0 / 64.0)
        };
        let want = ((missing * 2) as f64 / rate).ceil() as usize;
        let want = want.min(MAX_PICKS).min(span as usize);
        let mut raw = vec![0u8; want * 8];
        if getrandom::fill(&mut raw).is_err() {
            break;
        }
        let picks: Vec<i32> = raw
            .chunks_exact(8)
            .map(|b| lo + (u64::from_le_bytes(b.try_into().unwrap_or_default()) % span) as i32)
            .filter(|id| tried.insert(*id))
            .collect();
        let found: HashSet<i32> = drawn
            .statement(drawn.existing(), &picks, scope)
            .load_ids(conn)?
            .into_iter()
            .collect();
        picked += picks.len();
        hit += found.len();
        chosen.extend(
            picks
                .into_iter()
                .filter(|id| found.contains(id))
                .take(missing),
        );
    }
    if chosen.len() < size {
        let rest = drawn
            .statement(drawn.others(), &chosen, scope)
            .push_ints(
                " ORDER BY random() LIMIT ?",
                &[(size - chosen.len()) as i64],
            )
            .load_ids(conn)?;
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
    let mut st = Statement::new(sql::TRACKS_OF_GENRE);
    if !scope.is_all() {
        st.push(sql::TRACKS_OF_GENRE_SCOPED)
            .push_scope(&scope.bound_condition("t.folder_id"), scope);
    }
    st.push_ints(" WHERE tg.genre_id = ?", &[i64::from(genre)])
        .push(" ORDER BY tg.track_id")
        .page(limit, offset)
        .load_ids(conn)
}

/// Ids as a JSON array: one bound parameter, read with `json_each`.
fn json_ids(ids: &[i32]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A catalog whose track ids are `ids` (gaps where files went away).
    fn catalog_with_track_ids(ids: &[i32]) -> (tempfile::TempDir, SqliteConnection) {
        let tracks: Vec<(i32, i32)> = ids.iter().map(|&id| (id, 1)).collect();
        super::super::test_catalog::catalog(&tracks)
    }

    #[test]
    fn sampled_random_tracks_of_a_small_scope_are_only_its_own_and_all_of_them() {
        // Folder 2 holds 1 track in 40: rounds must pick at the hit rate seen, and the ORDER
        // BY random() top-up must keep the scope too.
        let tracks: Vec<(i32, i32)> = (1..=2000)
            .map(|n| (n, if n % 40 == 0 { 2 } else { 1 }))
            .collect();
        let (_dir, mut c) = super::super::test_catalog::catalog(&tracks);
        let scope = Scope::only(vec![2]);
        let mut seen = HashSet::new();
        for _ in 0..40 {
            let got = sampled_ids(&mut c, Drawn::Tracks, &scope, 20).unwrap();
            assert_eq!(got.len(), 20, "{got:?}");
            assert_eq!(got.iter().collect::<HashSet<_>>().len(), 20, "{got:?}");
            assert!(got.iter().all(|id| id % 40 == 0), "{got:?}");
            seen.extend(got);
        }
        assert_eq!(seen.len(), 50);
        // More than the scope holds: all of it, once.
        let all = sampled_ids(&mut c, Drawn::Tracks, &scope, 500).unwrap();
        assert_eq!(all.len(), 50);
        // The album (in both folders) is drawn for either folder, never for one it is not in.
        for folder in [1, 2] {
            let albums = sampled_ids(&mut c, Drawn::Albums, &Scope::only(vec![folder]), 5);
            assert_eq!(albums.unwrap(), [1]);
        }
        assert!(
            sampled_ids(&mut c, Drawn::Albums, &Scope::only(vec![3]), 5)
                .unwrap()
                .is_empty()
        );
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
                let got = sampled_ids(&mut c, Drawn::Tracks, &Scope::All, 50).unwrap();
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
        assert!(
            sampled_ids(&mut empty, Drawn::Tracks, &Scope::All, 50)
                .unwrap()
                .is_empty()
        );
    }
}
