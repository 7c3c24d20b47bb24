//! Per-user annotations (stars, ratings, play counts, last played) and the in-memory "now
//! playing" list. No wire format here: the Subsonic layer (`subsonic::annotation`) parses
//! parameters and renders; this module reads and writes the `annotations` table.
//!
//! Writes run in one immediate transaction per call (all items exist or nothing changes), and
//! counters are changed with `INSERT ... ON CONFLICT DO UPDATE` arithmetic in SQL, so concurrent
//! calls never lose an update.

use super::access::Scope;
use super::sql::{self, Cached};
use crate::db::schema::annotations::dsl as an;
use crate::db::schema::{albums, artists, directories, tracks};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use std::collections::HashMap;
use std::sync::Mutex;

/// What an annotation is about: the `item_type` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Track,
    Album,
    Artist,
    /// A folder of the real directory tree (folder-mode clients star and rate those).
    Directory,
}

impl ItemKind {
    /// The `item_type` value stored in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Track => "track",
            ItemKind::Album => "album",
            ItemKind::Artist => "artist",
            ItemKind::Directory => "directory",
        }
    }

    /// A human name, for "not found" messages.
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::Track => "Song",
            ItemKind::Album => "Album",
            ItemKind::Artist => "Artist",
            ItemKind::Directory => "Directory",
        }
    }
}

/// One annotatable item: its kind and row id.
pub type Item = (ItemKind, i32);

/// One user's annotation of one item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotation {
    /// Epoch milliseconds.
    pub starred_at: Option<i64>,
    /// 1..=5.
    pub rating: Option<i32>,
    pub play_count: i64,
    /// Epoch milliseconds.
    pub last_played: Option<i64>,
}

/// Why an annotation write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    /// The item does not exist; nothing was changed.
    #[error("{} not found", .0.label())]
    NotFound(ItemKind),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Whether the item exists in the catalog.
pub fn exists(conn: &mut SqliteConnection, (kind, id): Item) -> QueryResult<bool> {
    use diesel::dsl::exists;
    match kind {
        ItemKind::Track => diesel::select(exists(tracks::table.find(id))).get_result(conn),
        ItemKind::Album => diesel::select(exists(albums::table.find(id))).get_result(conn),
        ItemKind::Artist => diesel::select(exists(artists::table.find(id))).get_result(conn),
        ItemKind::Directory => diesel::select(exists(directories::table.find(id))).get_result(conn),
    }
}

fn check_all_exist(conn: &mut SqliteConnection, items: &[Item]) -> Result<(), AnnotateError> {
    for &item in items {
        if !exists(conn, item)? {
            return Err(AnnotateError::NotFound(item.0));
        }
    }
    Ok(())
}

/// Removes the row when nothing is left in it (not starred, not rated, never played).
fn drop_if_empty(conn: &mut SqliteConnection, user_id: i32, (kind, id): Item) -> QueryResult<()> {
    diesel::delete(
        the_annotation(user_id, (kind, id))
            .filter(an::starred_at.is_null())
            .filter(an::rating.is_null())
            .filter(an::play_count.eq(0))
            .filter(an::last_played.is_null()),
    )
    .execute(conn)?;
    Ok(())
}

/// Stars (`star = true`) or unstars every item for the user. Every item must exist, otherwise
/// nothing changes. Starring again keeps the first star's time; unstarring an item that is not
/// starred does nothing.
pub fn set_starred(
    conn: &mut SqliteConnection,
    user_id: i32,
    items: &[Item],
    star: bool,
    now_ms: i64,
) -> Result<(), AnnotateError> {
    crate::db::immediate(conn, |conn| {
        check_all_exist(conn, items)?;
        for &(kind, id) in items {
            if star {
                Cached(
                    diesel::sql_query(sql::STAR)
                        .bind::<Integer, _>(user_id)
                        .bind::<Text, _>(kind.as_str())
                        .bind::<Integer, _>(id)
                        .bind::<BigInt, _>(now_ms),
                )
                .execute(conn)?;
            } else {
                diesel::update(the_annotation(user_id, (kind, id)))
                    .set(an::starred_at.eq(None::<i64>))
                    .execute(conn)?;
                drop_if_empty(conn, user_id, (kind, id))?;
            }
        }
        Ok(())
    })
}

/// Sets the user's rating of an item (1..=5); `None` removes it.
pub fn set_rating(
    conn: &mut SqliteConnection,
    user_id: i32,
    item: Item,
    rating: Option<i32>,
) -> Result<(), AnnotateError> {
    crate::db::immediate(conn, |conn| {
        check_all_exist(conn, &[item])?;
        let (kind, id) = item;
        match rating {
            Some(rating) => {
                Cached(
                    diesel::sql_query(sql::RATE)
                        .bind::<Integer, _>(user_id)
                        .bind::<Text, _>(kind.as_str())
                        .bind::<Integer, _>(id)
                        .bind::<Integer, _>(rating),
                )
                .execute(conn)?;
            }
            None => {
                diesel::update(the_annotation(user_id, item))
                    .set(an::rating.eq(None::<i32>))
                    .execute(conn)?;
                drop_if_empty(conn, user_id, item)?;
            }
        }
        Ok(())
    })
}

/// Counts plays: each (track id, time in epoch ms) adds one play to the track, its album and
/// each of its artists and album artists, and moves their last-played time forward. Every
/// track must exist, otherwise nothing changes.
pub fn record_plays(
    conn: &mut SqliteConnection,
    user_id: i32,
    plays: &[(i32, i64)],
) -> Result<(), AnnotateError> {
    crate::db::immediate(conn, |conn| {
        let items: Vec<Item> = plays.iter().map(|&(t, _)| (ItemKind::Track, t)).collect();
        check_all_exist(conn, &items)?;
        for &(track_id, at) in plays {
            // The play counts for the track, its album and its artists.
            for play in [sql::PLAY_OF_TRACK, sql::PLAY_OF_ALBUM, sql::PLAY_OF_ARTISTS] {
                Cached(
                    diesel::sql_query(play)
                        .bind::<Integer, _>(user_id)
                        .bind::<BigInt, _>(at)
                        .bind::<Integer, _>(track_id),
                )
                .execute(conn)?;
            }
        }
        Ok(())
    })
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Integer)]
    item_id: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    starred_at: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    rating: Option<i32>,
    #[diesel(sql_type = BigInt)]
    play_count: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_played: Option<i64>,
}

impl Row {
    fn split(self) -> (i32, Annotation) {
        (
            self.item_id,
            Annotation {
                starred_at: self.starred_at,
                rating: self.rating,
                play_count: self.play_count,
                last_played: self.last_played,
            },
        )
    }
}

/// One annotation row, as a typed filter.
type OneAnnotation = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<an::annotations, diesel::dsl::Eq<an::user_id, i32>>,
        diesel::dsl::Eq<an::item_type, &'static str>,
    >,
    diesel::dsl::Eq<an::item_id, i32>,
>;

/// The user's annotation of one item (for the typed updates and deletes).
fn the_annotation(user_id: i32, (kind, id): Item) -> OneAnnotation {
    an::annotations
        .filter(an::user_id.eq(user_id))
        .filter(an::item_type.eq(kind.as_str()))
        .filter(an::item_id.eq(id))
}

/// Ids as a JSON array: one bound parameter, read with `json_each`.
fn json_ids(ids: &[i32]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

/// The user's annotations of these items of one kind (items without one are absent).
pub fn of_items(
    conn: &mut SqliteConnection,
    user_id: i32,
    kind: ItemKind,
    ids: &[i32],
) -> QueryResult<HashMap<i32, Annotation>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Row> = Cached(
            diesel::sql_query(sql::ANNOTATIONS_OF_ITEMS)
                .bind::<Integer, _>(user_id)
                .bind::<Text, _>(kind.as_str())
                .bind::<Text, _>(json_ids(chunk)),
        )
        .load(conn)?;
        out.extend(rows.into_iter().map(Row::split));
    }
    Ok(out)
}

/// Every annotation the user made of items of one kind (`of_items` for many items of a kind
/// people annotate few of: the caller picks what it needs).
pub fn of_kind(
    conn: &mut SqliteConnection,
    user_id: i32,
    kind: ItemKind,
) -> QueryResult<HashMap<i32, Annotation>> {
    let rows: Vec<Row> = Cached(
        diesel::sql_query(sql::ANNOTATIONS_OF_KIND)
            .bind::<Integer, _>(user_id)
            .bind::<Text, _>(kind.as_str()),
    )
    .load(conn)?;
    Ok(rows.into_iter().map(Row::split).collect())
}

/// One item's average rating, as the rating aggregates return it.
#[derive(QueryableByName)]
struct Avg {
    #[diesel(sql_type = Integer)]
    item_id: i32,
    #[diesel(sql_type = diesel::sql_types::Double)]
    average: f64,
}

/// The average rating of every rated item of one kind (`average_ratings` for many items).
pub fn average_ratings_of_kind(
    conn: &mut SqliteConnection,
    kind: ItemKind,
) -> QueryResult<HashMap<i32, f64>> {
    let rows: Vec<Avg> =
        Cached(diesel::sql_query(sql::AVERAGE_RATINGS_OF_KIND).bind::<Text, _>(kind.as_str()))
            .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.item_id, r.average)).collect())
}

/// The average rating (1.0..=5.0) all users gave each of these items of one kind (items
/// nobody rated are absent): the `averageRating` clients show beside the user's own.
pub fn average_ratings(
    conn: &mut SqliteConnection,
    kind: ItemKind,
    ids: &[i32],
) -> QueryResult<HashMap<i32, f64>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Avg> = Cached(
            diesel::sql_query(sql::AVERAGE_RATINGS)
                .bind::<Text, _>(kind.as_str())
                .bind::<Text, _>(json_ids(chunk)),
        )
        .load(conn)?;
        out.extend(rows.into_iter().map(|r| (r.item_id, r.average)));
    }
    Ok(out)
}

/// The items of one kind the user starred, most recently starred first, only those the scope
/// shows (a track in a visible folder; an album or artist with such a track).
pub fn starred(
    conn: &mut SqliteConnection,
    user_id: i32,
    kind: ItemKind,
    scope: &Scope,
) -> QueryResult<Vec<(i32, Annotation)>> {
    let mut sql = sql::STARRED.to_string();
    if !scope.is_all() {
        let visible = match kind {
            ItemKind::Track => format!(
                "EXISTS (SELECT 1 FROM tracks t WHERE t.id = a.item_id AND {})",
                scope.bound_condition("t.folder_id")
            ),
            ItemKind::Album => scope.bound_album_condition("a.item_id"),
            ItemKind::Artist => scope.bound_artist_condition("a.item_id"),
            ItemKind::Directory => format!(
                "EXISTS (SELECT 1 FROM directories d WHERE d.id = a.item_id AND {})",
                scope.bound_condition("d.folder_id")
            ),
        };
        sql.push_str(" AND ");
        sql.push_str(&visible);
    }
    sql.push_str(" ORDER BY a.starred_at DESC, a.item_id DESC");
    // The scope's `:folders` comes after the user and the kind.
    let query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Integer, _>(user_id)
        .bind::<Text, _>(kind.as_str());
    let rows: Vec<Row> = match scope.folders_bind() {
        Some(folders) => Cached(query.bind::<Text, _>(folders)).load(conn)?,
        None => Cached(query).load(conn)?,
    };
    Ok(rows.into_iter().map(Row::split).collect())
}

/// How long a "now playing" entry lasts at least (longer for longer tracks).
pub const NOW_PLAYING_MIN_MS: i64 = 10 * 60 * 1000;
/// Most entries kept (one per user and player; old ones go first).
const NOW_PLAYING_MAX: usize = 1000;

/// One "now playing" notification (scrobble with submission=false).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NowPlayingEntry {
    pub user_id: i32,
    pub username: String,
    pub track_id: i32,
    /// The client name (`c`).
    pub player: Option<String>,
    /// When it was reported, epoch ms.
    pub at_ms: i64,
    /// When it stops being shown, epoch ms.
    pub expires_ms: i64,
}

impl NowPlayingEntry {
    /// An entry reported at `at_ms` for a track lasting `duration_ms`: shown for the track's
    /// length, and at least ten minutes.
    pub fn new(
        user_id: i32,
        username: String,
        track_id: i32,
        player: Option<String>,
        at_ms: i64,
        duration_ms: i64,
    ) -> Self {
        Self {
            user_id,
            username,
            track_id,
            player,
            at_ms,
            expires_ms: at_ms + duration_ms.max(NOW_PLAYING_MIN_MS),
        }
    }
}

/// What users are playing right now, in memory (lost on restart, which is fine).
#[derive(Debug, Default)]
pub struct NowPlaying {
    entries: Mutex<Vec<NowPlayingEntry>>,
}

impl NowPlaying {
    /// Records an entry, replacing the same user's previous one from the same player.
    pub fn record(&self, entry: NowPlayingEntry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| {
            e.expires_ms > entry.at_ms && !(e.user_id == entry.user_id && e.player == entry.player)
        });
        entries.push(entry);
        if entries.len() > NOW_PLAYING_MAX {
            entries.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
            entries.truncate(NOW_PLAYING_MAX);
        }
    }

    /// The entries still current at `now_ms`, most recent first (expired ones are dropped).
    pub fn current(&self, now_ms: i64) -> Vec<NowPlayingEntry> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.expires_ms > now_ms);
        let mut out = entries.clone();
        out.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_annotated_averaged_and_go_with_their_directory() {
        let (_dir, mut c) = crate::library::test_catalog::catalog(&[(1, 1)]);
        diesel::sql_query(
            "INSERT INTO directories (id, folder_id, parent_id, path, name, mtime, \
             created_at, updated_at) VALUES (3, 1, 1, 'a', 'a', 0, 0, 0)",
        )
        .execute(&mut c)
        .unwrap();
        let folder = (ItemKind::Directory, 3);
        set_starred(&mut c, 1, &[folder], true, 5).unwrap();
        set_rating(&mut c, 1, folder, Some(5)).unwrap();
        set_rating(&mut c, 2, folder, Some(2)).unwrap();
        let mine = of_items(&mut c, 1, ItemKind::Directory, &[3]).unwrap();
        assert_eq!((mine[&3].starred_at, mine[&3].rating), (Some(5), Some(5)));
        let avg = average_ratings(&mut c, ItemKind::Directory, &[3]).unwrap();
        assert_eq!(avg[&3], 3.5);
        let starred = starred(&mut c, 1, ItemKind::Directory, &Scope::Only(vec![2])).unwrap();
        assert!(starred.is_empty(), "a folder of a hidden music folder");
        assert!(matches!(
            set_starred(&mut c, 1, &[(ItemKind::Directory, 99)], true, 5),
            Err(AnnotateError::NotFound(ItemKind::Directory))
        ));
        // The scanner deletes a vanished folder's row; its annotations go with it.
        diesel::sql_query("DELETE FROM directories WHERE id = 3")
            .execute(&mut c)
            .unwrap();
        assert!(
            of_items(&mut c, 1, ItemKind::Directory, &[3])
                .unwrap()
                .is_empty()
        );
        assert!(
            of_items(&mut c, 2, ItemKind::Directory, &[3])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn now_playing_replaces_per_player_and_expires() {
        let np = NowPlaying::default();
        np.record(NowPlayingEntry::new(
            1,
            "a".into(),
            10,
            Some("x".into()),
            1_000,
            60_000,
        ));
        np.record(NowPlayingEntry::new(
            1,
            "a".into(),
            11,
            Some("x".into()),
            2_000,
            60_000,
        ));
        np.record(NowPlayingEntry::new(
            1,
            "a".into(),
            12,
            Some("y".into()),
            3_000,
            60_000,
        ));
        np.record(NowPlayingEntry::new(
            2,
            "b".into(),
            13,
            None,
            4_000,
            NOW_PLAYING_MIN_MS * 2,
        ));
        let now = np.current(5_000);
        let tracks: Vec<i32> = now.iter().map(|e| e.track_id).collect();
        assert_eq!(tracks, [13, 12, 11]);
        // Ten minutes at least; longer tracks last their length.
        let later = np.current(3_000 + NOW_PLAYING_MIN_MS);
        assert_eq!(later.iter().map(|e| e.track_id).collect::<Vec<_>>(), [13]);
        assert!(np.current(4_000 + 2 * NOW_PLAYING_MIN_MS).is_empty());
    }
}
