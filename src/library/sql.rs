//! The raw SQL of the read side (library/), kept together: what Diesel's typed DSL cannot
//! express (FTS5 MATCH and rank, upserts reading the stored row, aggregates and correlated
//! subqueries in ORDER BY, CTEs, ids bound as one JSON array). Every value is a bound
//! parameter: no value is ever spliced into SQL text, so the text of each query shape is the
//! same for every user and every request. Templates mark where a scope condition goes
//! (`SCOPE`); `Statement` assembles the list and search queries from their pieces.
//!
//! Each piece says why it is raw. `COMPLETE` lists the whole statements; `statements.rs`
//! prepares each of them, so a new one cannot escape the prepare test (it also runs every
//! query function for every kind of scope).

use super::access::Scope;
use diesel::expression::{SqlLiteral, UncheckedBind};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, BoxedSqlQuery, Query, QueryFragment, QueryId, SqlQuery};
use diesel::sql_types::{BigInt, Bool, Integer, Text};
use diesel::sqlite::Sqlite;

// --- Album lists (getAlbumList(2)) ---

/// Albums in an order Diesel's typed `order_by` cannot take (COLLATE, random(), correlated
/// subqueries in ORDER BY): the statement text is assembled, so the select is too.
pub const ALBUMS: &str = "SELECT a.id AS id FROM albums a";
/// Albums with the user's annotation (starred, highest): joined with an `ON` of constants
/// that keeps the partial index `annotations_starred` usable.
pub const ALBUMS_ANNOTATED: &str = "SELECT a.id AS id FROM albums a \
     JOIN annotations an ON an.user_id = ? AND an.item_type = 'album' AND an.item_id = a.id";
/// Albums by the user's plays (frequent, recent): plays of the album itself and the sum over
/// its tracks, the larger counts (a scrobble may record either or both). A CTE with UNION ALL
/// and GROUP BY over aggregates: beyond Diesel's query builder.
pub const ALBUMS_BY_PLAYS: &str = "WITH plays(album_id, n, last) AS ( \
       SELECT t.album_id, SUM(an.play_count), MAX(an.last_played) \
         FROM annotations an JOIN tracks t ON t.id = an.item_id \
        WHERE an.user_id = ? AND an.item_type = 'track' \
          AND (an.play_count > 0 OR an.last_played IS NOT NULL) \
        GROUP BY t.album_id \
       UNION ALL \
       SELECT item_id, play_count, last_played FROM annotations \
        WHERE user_id = ? AND item_type = 'album' \
          AND (play_count > 0 OR last_played IS NOT NULL)), \
     stats(album_id, n, last) AS ( \
       SELECT album_id, MAX(n), MAX(last) FROM plays GROUP BY album_id) \
     SELECT a.id AS id FROM stats s JOIN albums a ON a.id = s.album_id";
/// Albums of one genre (byGenre), in an order Diesel cannot take (COLLATE).
pub const ALBUMS_OF_GENRE: &str = "SELECT a.id AS id FROM albums a \
     JOIN album_genres ag ON ag.album_id = a.id AND ag.genre_id = ?";
/// An album's sort key: its sort name, or its name (an expression with COLLATE).
pub const ALBUM_NAME_KEY: &str = "COALESCE(NULLIF(a.sort_name, ''), a.name) COLLATE NOCASE";
/// Newest first: the order of the `albums_created` index, walked backwards.
pub const NEWEST_ORDER: &str = "a.created_at DESC, a.id DESC";
/// byArtist's key, before and after the article-stripped artist name (`strip_articles`): the
/// first album artist's sort name, else its name, else the album's artist text — a correlated
/// scalar subquery in ORDER BY.
pub const BY_ARTIST_KEY_START: &str = "COALESCE((SELECT COALESCE(NULLIF(ar.sort_name, ''), ";
pub const BY_ARTIST_KEY_MIDDLE: &str = ") FROM album_artists aa JOIN artists ar ON ar.id = aa.artist_id \
       WHERE aa.album_id = a.id ORDER BY aa.role, aa.position LIMIT 1), ";
pub const BY_ARTIST_KEY_END: &str = ") COLLATE NOCASE";

/// The annotations of a folder-mode album list (starred, highest): albums and album folders
/// in one ordered page — a UNION of kinds Diesel cannot page over as one.
pub const FOLDER_LIST_ITEMS: &str = "SELECT an.item_type AS kind, an.item_id AS id \
     FROM annotations an WHERE an.user_id = ? AND ";
/// An album annotation's album exists (for every folder).
pub const ANNOTATED_ALBUM_EXISTS: &str = "EXISTS (SELECT 1 FROM albums a WHERE a.id = an.item_id)";
/// A folder annotation's folder holds a track in the scope (completed by the scope's
/// condition and `)`).
pub const ANNOTATED_FOLDER_HAS_TRACK: &str =
    "EXISTS (SELECT 1 FROM tracks t WHERE t.directory_id = an.item_id AND ";

/// For each album, the directory above its first track's: a correlated subquery with
/// ORDER BY/LIMIT per row.
pub const ALBUM_PARENTS: &str = "SELECT a.id AS album_id, \
       (SELECT d.parent_id FROM tracks t JOIN directories d ON d.id = t.directory_id \
         WHERE t.album_id = a.id ORDER BY t.id LIMIT 1) AS parent_id \
     FROM albums a WHERE a.id IN (SELECT value FROM json_each(?))";

// --- Song lists (getRandomSongs, getSongsByGenre) ---

/// Tracks in random order (ORDER BY random() is not in Diesel's DSL).
pub const TRACKS: &str = "SELECT t.id AS id FROM tracks t";
/// Joined to TRACKS for one genre.
pub const TRACKS_GENRE_JOIN: &str =
    " JOIN track_genres tg ON tg.track_id = t.id AND tg.genre_id = ?";
/// Which of a JSON array of ids are tracks (the ids are one parameter: `json_each`).
pub const EXISTING_TRACKS: &str =
    "SELECT t.id AS id FROM tracks t WHERE t.id IN (SELECT value FROM json_each(?))";
/// Tracks not in a JSON array of ids (then a scope condition and ORDER BY random()).
pub const OTHER_TRACKS: &str =
    "SELECT t.id AS id FROM tracks t WHERE t.id NOT IN (SELECT value FROM json_each(?))";
/// Which of a JSON array of ids are albums.
pub const EXISTING_ALBUMS: &str =
    "SELECT a.id AS id FROM albums a WHERE a.id IN (SELECT value FROM json_each(?))";
/// Albums not in a JSON array of ids.
pub const OTHER_ALBUMS: &str =
    "SELECT a.id AS id FROM albums a WHERE a.id NOT IN (SELECT value FROM json_each(?))";
/// The tracks of a genre in id order, straight from the `track_genres_genre` index (joined
/// with tracks only when a scope filters: TRACKS_OF_GENRE_SCOPED).
pub const TRACKS_OF_GENRE: &str = "SELECT tg.track_id AS id FROM track_genres tg";
pub const TRACKS_OF_GENRE_SCOPED: &str = " JOIN tracks t ON t.id = tg.track_id AND ";

// --- Search (search3, search2, search) ---

/// Artists of the whole-library listing (search3 ""), in id order.
pub const ARTISTS: &str = "SELECT ar.id AS id FROM artists ar";
/// Artists matching an FTS5 expression (MATCH and rank: FTS5, not in Diesel).
pub const ARTISTS_MATCHING: &str = "SELECT ar.id AS id FROM artists_fts f \
     JOIN artists ar ON ar.id = f.rowid WHERE artists_fts MATCH ?";
/// An artist is an album artist (completed by an optional scope condition and `)`): a
/// correlated EXISTS over the outer row.
pub const IS_ALBUM_ARTIST: &str =
    "EXISTS (SELECT 1 FROM album_artists aa WHERE aa.artist_id = ar.id";
/// Albums matching an FTS5 expression.
pub const ALBUMS_MATCHING: &str = "SELECT f.rowid AS id FROM albums_fts f WHERE albums_fts MATCH ?";
/// Tracks matching an FTS5 expression (joined to tracks only when filtering: ranking is the
/// cost of a broad query, not the rows).
pub const TRACKS_MATCHING: &str = "SELECT f.rowid AS id FROM tracks_fts f";
pub const TRACKS_MATCHING_JOIN: &str = " JOIN tracks t ON t.id = f.rowid";
pub const TRACKS_MATCH: &str = "tracks_fts MATCH ?";
/// How many tracks match (search's total), over the same FROM as TRACKS_MATCHING or TRACKS.
pub const COUNT_TRACKS_MATCHING: &str = "SELECT count(*) AS n FROM tracks_fts f";
pub const COUNT_TRACKS: &str = "SELECT count(*) AS n FROM tracks t";
/// Orders by FTS5 rank (a hidden column of the virtual table).
pub const BY_RANK_ARTISTS: &str = " ORDER BY f.rank, ar.id";
pub const BY_RANK: &str = " ORDER BY f.rank, f.rowid";
/// The order of a broad query's matches: FTS5 walks its doclists in rowid order and stops
/// at the LIMIT, where ranking would score every match first.
pub const BY_ID: &str = " ORDER BY f.rowid";
/// The first tracks of the whole catalog matching an FTS5 expression, by id, up to a bound
/// (expression, bound): their number, and a broad query's first pages.
pub const TRACK_IDS_MATCHING_UP_TO: &str = "SELECT rowid AS id FROM tracks_fts \
     WHERE tracks_fts MATCH ? ORDER BY rowid LIMIT ?";
/// How many albums (artists) of the whole catalog match an FTS5 expression, counting up to a
/// bound (expression, bound): whether a query is narrow enough to rank.
pub const ALBUMS_MATCHING_UP_TO: &str = "SELECT count(*) AS n FROM \
     (SELECT 1 FROM albums_fts WHERE albums_fts MATCH ? LIMIT ?)";
pub const ARTISTS_MATCHING_UP_TO: &str = "SELECT count(*) AS n FROM \
     (SELECT 1 FROM artists_fts WHERE artists_fts MATCH ? LIMIT ?)";
/// The whole-library track listing in index order: album (tracks_album), or folder and path
/// (the folder+path unique index) when a scope filters.
pub const TRACKS_BY_ALBUM: &str = " ORDER BY t.album_id, t.id";
pub const TRACKS_BY_PATH: &str = " ORDER BY t.folder_id, t.path";

// --- Annotations ---

/// Stars an item, keeping the first star's time: an upsert whose update reads both the
/// stored and the new row (`coalesce(annotations.x, excluded.x)`), beyond Diesel's `set`.
pub const STAR: &str = "INSERT INTO annotations (user_id, item_type, item_id, starred_at) \
     VALUES (?, ?, ?, ?) \
     ON CONFLICT (user_id, item_type, item_id) DO UPDATE \
     SET starred_at = coalesce(annotations.starred_at, excluded.starred_at)";
/// Rates an item: the upsert's update reads `excluded`, kept raw beside STAR.
pub const RATE: &str = "INSERT INTO annotations (user_id, item_type, item_id, rating) \
     VALUES (?, ?, ?, ?) \
     ON CONFLICT (user_id, item_type, item_id) DO UPDATE \
     SET rating = excluded.rating";
/// Counts one play of a track (user, time, track): INSERT ... SELECT with an upsert doing
/// arithmetic on the stored row, so concurrent scrobbles never lose a count.
pub const PLAY_OF_TRACK: &str = "INSERT INTO annotations (user_id, item_type, item_id, play_count, last_played) \
     SELECT ?, 'track', id, 1, ? FROM tracks WHERE id = ? \
     ON CONFLICT (user_id, item_type, item_id) DO UPDATE \
     SET play_count = annotations.play_count + 1, \
         last_played = max(coalesce(annotations.last_played, 0), excluded.last_played)";
/// Counts one play of a track's album (as PLAY_OF_TRACK).
pub const PLAY_OF_ALBUM: &str = "INSERT INTO annotations (user_id, item_type, item_id, play_count, last_played) \
     SELECT ?, 'album', album_id, 1, ? FROM tracks WHERE id = ? \
     ON CONFLICT (user_id, item_type, item_id) DO UPDATE \
     SET play_count = annotations.play_count + 1, \
         last_played = max(coalesce(annotations.last_played, 0), excluded.last_played)";
/// Counts one play of a track's artists and album artists (as PLAY_OF_TRACK, with DISTINCT).
pub const PLAY_OF_ARTISTS: &str = "INSERT INTO annotations (user_id, item_type, item_id, play_count, last_played) \
     SELECT DISTINCT ?, 'artist', artist_id, 1, ? FROM track_artists \
     WHERE track_id = ? AND role IN ('artist', 'albumartist') \
     ON CONFLICT (user_id, item_type, item_id) DO UPDATE \
     SET play_count = annotations.play_count + 1, \
         last_played = max(coalesce(annotations.last_played, 0), excluded.last_played)";
/// The user's annotations of a JSON array of items (user, kind, ids): `json_each` binds the
/// ids as one parameter, which Diesel's `eq_any` cannot (it binds one per id).
pub const ANNOTATIONS_OF_ITEMS: &str = "SELECT a.item_id AS item_id, \
       a.starred_at AS starred_at, a.rating AS rating, a.play_count AS play_count, \
       a.last_played AS last_played \
     FROM annotations a WHERE a.user_id = ? AND a.item_type = ? \
       AND a.item_id IN (SELECT value FROM json_each(?))";
/// All of the user's annotations of one kind (user, kind): for lists of more items than a
/// user annotates (getIndexes' thousands of folders), one index range instead of a lookup per
/// item.
pub const ANNOTATIONS_OF_KIND: &str = "SELECT a.item_id AS item_id, \
       a.starred_at AS starred_at, a.rating AS rating, a.play_count AS play_count, \
       a.last_played AS last_played \
     FROM annotations a WHERE a.user_id = ? AND a.item_type = ?";
/// Everyone's average rating of every rated item of one kind (kind): as AVERAGE_RATINGS.
pub const AVERAGE_RATINGS_OF_KIND: &str = "SELECT item_id, avg(rating) AS average \
     FROM annotations WHERE item_type = ? AND rating IS NOT NULL GROUP BY item_id";
/// Everyone's average rating of a JSON array of items (kind, ids): avg() as a Double.
pub const AVERAGE_RATINGS: &str = "SELECT item_id, avg(rating) AS average FROM annotations \
     WHERE item_type = ? AND item_id IN (SELECT value FROM json_each(?)) \
       AND rating IS NOT NULL GROUP BY item_id";
/// The user's starred items of one kind (user, kind), completed by a scope condition of
/// correlated EXISTS over the outer row, and an order.
pub const STARRED: &str = "SELECT a.item_id AS item_id, \
       a.starred_at AS starred_at, a.rating AS rating, a.play_count AS play_count, \
       a.last_played AS last_played \
     FROM annotations a \
     WHERE a.user_id = ? AND a.item_type = ? AND a.starred_at IS NOT NULL";

// --- Folders and artist info ---

/// Where a template's scope condition goes (`in_scope`): the scope's `:folders` condition,
/// or `1` for every folder.
pub const SCOPE: &str = "/*scope*/";
/// Where MAIN_*_BELOW's path range goes (`1` at a folder's root).
pub const BELOW: &str = "/*below*/";

/// `template` with its scope condition in place.
pub fn in_scope(template: &str, condition: &str) -> String {
    template.replace(SCOPE, condition)
}

/// Which of a JSON array of directories hold tracks directly: a correlated EXISTS.
pub const DIRECTORIES_WITH_TRACKS: &str = "SELECT d.id AS id FROM directories d \
     WHERE d.id IN (SELECT value FROM json_each(?)) \
       AND EXISTS (SELECT 1 FROM tracks t WHERE t.directory_id = d.id)";
/// The sub-folders of a JSON array of directories with audio somewhere below: a correlated
/// EXISTS over a path range computed from the outer row ("d.path/" to "d.path0", which the
/// tracks' unique (folder_id, path) index answers).
pub const SUBDIRECTORIES_WITH_AUDIO: &str = "SELECT d.id, d.folder_id, d.parent_id, d.path, \
       d.name, d.mtime, d.cover_art, d.created_at, d.updated_at \
     FROM directories d \
     WHERE d.parent_id IN (SELECT value FROM json_each(?)) \
       AND EXISTS (SELECT 1 FROM tracks t WHERE t.folder_id = d.folder_id \
         AND t.path >= d.path || '/' AND t.path < d.path || '0')";
/// The album artist on most tracks below a directory (folder, then BELOW's two path
/// prefixes): GROUP BY ordered by count(*), which Diesel's DSL cannot order by.
pub const MAIN_ARTIST_BELOW: &str = "SELECT aa.artist_id AS id FROM tracks t \
       JOIN album_artists aa ON aa.album_id = t.album_id \
     WHERE t.folder_id = ? AND /*below*/ \
     GROUP BY aa.artist_id ORDER BY count(*) DESC, aa.artist_id LIMIT 1";
/// The album with most tracks below a directory (as MAIN_ARTIST_BELOW).
pub const MAIN_ALBUM_BELOW: &str = "SELECT t.album_id AS id FROM tracks t \
     WHERE t.folder_id = ? AND /*below*/ \
     GROUP BY t.album_id ORDER BY count(*) DESC, t.album_id LIMIT 1";
/// Artists sharing genres with seed artists (seeds, Various Artists' key, [folders], limit):
/// CTEs, UNION and ordering by aggregates.
pub const SIMILAR_ARTISTS: &str = "WITH seeds AS (SELECT value AS id FROM json_each(?)), \
     seed_genres AS ( \
       SELECT ag.genre_id FROM album_genres ag \
         JOIN album_artists aa ON aa.album_id = ag.album_id \
         WHERE aa.artist_id IN (SELECT id FROM seeds) \
       UNION \
       SELECT tg.genre_id FROM track_genres tg \
         JOIN track_artists ta ON ta.track_id = tg.track_id \
         WHERE ta.artist_id IN (SELECT id FROM seeds) \
           AND ta.role IN ('artist', 'albumartist')) \
     SELECT a.id AS id FROM album_artists aa \
       JOIN album_genres ag ON ag.album_id = aa.album_id \
       JOIN artists a ON a.id = aa.artist_id \
     WHERE ag.genre_id IN (SELECT genre_id FROM seed_genres) \
       AND aa.artist_id NOT IN (SELECT id FROM seeds) \
       AND a.name_key <> ? AND /*scope*/ \
     GROUP BY a.id \
     ORDER BY count(DISTINCT ag.genre_id) DESC, count(DISTINCT aa.album_id) DESC, \
       a.name COLLATE NOCASE, a.id \
     LIMIT ?";
/// Random tracks of a JSON array of artists (artists, excluded track, [folders], limit):
/// ORDER BY random().
pub const RANDOM_TRACKS_OF_ARTISTS: &str = "SELECT ta.track_id AS id FROM track_artists ta \
     WHERE ta.artist_id IN (SELECT value FROM json_each(?)) \
       AND ta.role IN ('artist', 'albumartist') AND ta.track_id <> ? AND /*scope*/ \
     GROUP BY ta.track_id ORDER BY random() LIMIT ?";
/// An artist's most played tracks (artist, [folders], limit): a LEFT JOIN on an aggregate
/// subquery and `al.year IS NULL` in ORDER BY.
pub const TOP_TRACKS: &str = "SELECT t.id AS id FROM tracks t \
       JOIN albums al ON al.id = t.album_id \
       LEFT JOIN (SELECT item_id, sum(play_count) AS plays FROM annotations \
                  WHERE item_type = 'track' GROUP BY item_id) p ON p.item_id = t.id \
     WHERE t.id IN (SELECT track_id FROM track_artists \
                    WHERE artist_id = ? AND role IN ('artist', 'albumartist')) \
       AND /*scope*/ \
     ORDER BY coalesce(p.plays, 0) DESC, al.year IS NULL, al.year, t.album_id, \
       t.disc_number, t.track_number, t.path \
     LIMIT ?";
/// Per artist of a JSON array, the directories and albums of their tracks with counts
/// (artists, [folders]): a three-table GROUP BY into a by-name row.
pub const ARTIST_DIRECTORY_CANDIDATES: &str = "SELECT aa.artist_id AS artist_id, \
       d.folder_id AS folder_id, d.path AS path, t.album_id AS album_id, count(*) AS n \
     FROM tracks t \
       JOIN album_artists aa ON aa.album_id = t.album_id \
       JOIN directories d ON d.id = t.directory_id \
     WHERE aa.artist_id IN (SELECT value FROM json_each(?)) AND /*scope*/ \
     GROUP BY aa.artist_id, d.id, t.album_id";

// --- Albums, genres, covers, lyrics ---

/// Where GENRES_IN_SCOPE's track condition goes (its album condition goes at SCOPE).
pub const SCOPE_TRACKS: &str = "/*scope_tracks*/";

/// The visible songs, length and size of a JSON array of albums (albums, [folders]): an
/// aggregate per group into a by-name row.
pub const ALBUM_TOTALS: &str = "SELECT album_id, count(*) AS songs, \
       sum(duration_ms) AS duration_ms, sum(size) AS size FROM tracks \
     WHERE album_id IN (SELECT value FROM json_each(?)) AND /*scope*/ GROUP BY album_id";
/// Every genre with its song and album counts: correlated count subqueries per row.
pub const GENRES: &str = "SELECT g.name AS name, \
       (SELECT count(*) FROM track_genres tg WHERE tg.genre_id = g.id) AS songs, \
       (SELECT count(*) FROM album_genres ag WHERE ag.genre_id = g.id) AS albums \
     FROM genres g ORDER BY g.name COLLATE NOCASE";
/// GENRES counted in the scope (folders), genres without visible songs left out.
pub const GENRES_IN_SCOPE: &str = "SELECT name, songs, albums FROM (SELECT g.name AS name, \
       (SELECT count(*) FROM track_genres tg JOIN tracks t ON t.id = tg.track_id \
         WHERE tg.genre_id = g.id AND /*scope_tracks*/) AS songs, \
       (SELECT count(*) FROM album_genres ag WHERE ag.genre_id = g.id AND /*scope*/) AS albums \
     FROM genres g) WHERE songs > 0 ORDER BY name COLLATE NOCASE";
/// Per artist of a JSON array, the latest change of their albums and whether any has art:
/// max() over a boolean expression.
pub const ARTIST_COVER_STAMPS: &str = "SELECT aa.artist_id AS artist_id, \
       max(al.updated_at) AS albums_stamp, \
       max(al.cover_directory_id IS NOT NULL OR al.cover_track_id IS NOT NULL) AS has_art \
     FROM album_artists aa JOIN albums al ON al.id = aa.album_id \
     WHERE aa.artist_id IN (SELECT value FROM json_each(?)) \
     GROUP BY aa.artist_id";
/// Tracks whose title matches an FTS5 expression and that have lyrics (expression, limit).
pub const TITLES_WITH_LYRICS: &str = "SELECT f.rowid AS id FROM tracks_fts f \
       JOIN tracks t ON t.id = f.rowid \
     WHERE tracks_fts MATCH ? AND (t.lyrics IS NOT NULL OR t.synced_lyrics IS NOT NULL) \
     ORDER BY f.rowid LIMIT ?";

// --- People's playlists (people/playlists.rs) ---

/// Playlists with their owner's name and the totals of their songs in the scope: count,
/// length and the cover (the first entry with art, and a stamp of its art) as correlated
/// subqueries per row, which Diesel's select clause cannot hold. Completed by one of the
/// PLAYLIST_* tails; the scope condition (at SCOPE, four times) binds `:folders` first.
pub const PLAYLISTS: &str = "SELECT p.id AS id, p.owner_id AS owner_id, u.name AS owner_name, \
       p.name AS name, p.comment AS comment, p.public AS public, \
       p.source_path AS source_path, \
       (SELECT count(*) FROM playlist_tracks pt JOIN tracks t ON t.id = pt.track_id \
         WHERE pt.playlist_id = p.id AND /*scope*/) AS song_count, \
       (SELECT coalesce(sum(t.duration_ms), 0) FROM playlist_tracks pt \
         JOIN tracks t ON t.id = pt.track_id WHERE pt.playlist_id = p.id AND /*scope*/) \
         AS duration_ms, \
       (SELECT t.id FROM playlist_tracks pt JOIN tracks t ON t.id = pt.track_id \
         JOIN albums a ON a.id = t.album_id WHERE pt.playlist_id = p.id AND /*scope*/ \
         AND (t.has_embedded_art OR a.cover_directory_id IS NOT NULL \
              OR a.cover_track_id IS NOT NULL) \
         ORDER BY pt.position LIMIT 1) AS cover_track_id, \
       (SELECT t.mtime + a.updated_at FROM playlist_tracks pt \
         JOIN tracks t ON t.id = pt.track_id \
         JOIN albums a ON a.id = t.album_id WHERE pt.playlist_id = p.id AND /*scope*/ \
         AND (t.has_embedded_art OR a.cover_directory_id IS NOT NULL \
              OR a.cover_track_id IS NOT NULL) \
         ORDER BY pt.position LIMIT 1) AS cover_stamp, \
       p.created_at AS created_at, p.updated_at AS updated_at \
     FROM playlists p JOIN users u ON u.id = p.owner_id";
/// One playlist by id.
pub const PLAYLIST_BY_ID: &str = " WHERE p.id = ?";
/// A user's lists (their own and every public one), by name (COLLATE: not in Diesel's DSL).
pub const PLAYLISTS_SEEN_BY: &str =
    " WHERE p.owner_id = ? OR p.public ORDER BY p.name COLLATE NOCASE, p.id";
/// Every playlist, by owner and name (the command line).
pub const PLAYLISTS_BY_OWNER: &str = " ORDER BY u.name, p.name COLLATE NOCASE, p.id";
/// Playlists of one name (the command line).
pub const PLAYLISTS_NAMED: &str = " WHERE p.name = ? ORDER BY p.id";
/// PLAYLISTS' tails, for the prepare test.
#[cfg(test)]
pub const PLAYLIST_TAILS: &[&str] = &[
    PLAYLIST_BY_ID,
    PLAYLISTS_SEEN_BY,
    PLAYLISTS_BY_OWNER,
    PLAYLISTS_NAMED,
];

// --- Folder access (access.rs) ---

/// The typed scope filters' text around the folder ids, bound as one JSON array (`json_each`
/// is a table-valued function, not in Diesel's DSL): "tracks.folder_id is a visible folder".
pub const TRACK_IN_FOLDERS: [&str; 2] = ["tracks.folder_id IN (SELECT value FROM json_each(", "))"];
/// "The album `album_artists.album_id` has a visible track" (its folders: `album_folders`).
pub const ALBUM_ARTIST_IN_FOLDERS: [&str; 2] = [
    "EXISTS (SELECT 1 FROM album_folders scope_af \
     WHERE scope_af.album_id = album_artists.album_id \
     AND scope_af.folder_id IN (SELECT value FROM json_each(",
    ")))",
];
/// The raw statements' scope condition: "`column` is a visible folder", the ids read from the
/// named parameter `:folders` (completed by the column and FOLDERS_PARAM).
pub const IN_FOLDERS: &str = " IN (SELECT value FROM json_each(:folders))";
/// "The album `album_id` has a visible track" (around the album id expression, then
/// the folder condition on ALBUM_FOLDER and `)`): one probe of `album_folders`' key rather
/// than a read of the album's track rows.
pub const ALBUM_HAS_TRACK: [&str; 2] = [
    "EXISTS (SELECT 1 FROM album_folders scope_af WHERE scope_af.album_id = ",
    " AND ",
];
/// The folder column of ALBUM_HAS_TRACK's `scope_af`.
pub const ALBUM_FOLDER: &str = "scope_af.folder_id";
/// "The artist `artist_id` is credited on a visible track" (as ALBUM_HAS_TRACK).
pub const ARTIST_HAS_TRACK: [&str; 2] = [
    "EXISTS (SELECT 1 FROM track_artists scope_ta \
       JOIN tracks scope_t ON scope_t.id = scope_ta.track_id \
     WHERE scope_ta.artist_id = ",
    " AND ",
];
/// The folder column of ARTIST_HAS_TRACK's `scope_t`.
pub const SCOPE_T_FOLDER: &str = "scope_t.folder_id";

// --- Internet radio (people/radio.rs) ---

/// Stations by name ignoring case (COLLATE: not in Diesel's DSL).
pub const NAME_NOCASE: &str = "name COLLATE NOCASE";

/// The pieces that are whole statements, for the prepare test.
#[cfg(test)]
pub const COMPLETE: &[&str] = &[
    ALBUMS,
    ALBUMS_ANNOTATED,
    ALBUMS_BY_PLAYS,
    ALBUMS_OF_GENRE,
    ALBUM_PARENTS,
    TRACKS,
    EXISTING_TRACKS,
    OTHER_TRACKS,
    EXISTING_ALBUMS,
    OTHER_ALBUMS,
    TRACKS_OF_GENRE,
    ARTISTS,
    ARTISTS_MATCHING,
    ALBUMS_MATCHING,
    TRACK_IDS_MATCHING_UP_TO,
    ALBUMS_MATCHING_UP_TO,
    ARTISTS_MATCHING_UP_TO,
    TRACKS_MATCHING,
    COUNT_TRACKS_MATCHING,
    COUNT_TRACKS,
    STAR,
    RATE,
    PLAY_OF_TRACK,
    PLAY_OF_ALBUM,
    PLAY_OF_ARTISTS,
    ANNOTATIONS_OF_ITEMS,
    AVERAGE_RATINGS,
    STARRED,
    DIRECTORIES_WITH_TRACKS,
    SUBDIRECTORIES_WITH_AUDIO,
    MAIN_ARTIST_BELOW,
    MAIN_ALBUM_BELOW,
    SIMILAR_ARTISTS,
    RANDOM_TRACKS_OF_ARTISTS,
    TOP_TRACKS,
    ARTIST_DIRECTORY_CANDIDATES,
    ALBUM_TOTALS,
    GENRES,
    GENRES_IN_SCOPE,
    ARTIST_COVER_STAMPS,
    TITLES_WITH_LYRICS,
    PLAYLISTS,
    CATALOG_VERSION,
    CATALOG_CHANGED,
    ANNOTATIONS_OF_KIND,
    AVERAGE_RATINGS_OF_KIND,
];

// --- The catalog's version (cache.rs) ---

/// The catalog's version: a table of its own (migration 200), not in schema.rs, read and
/// raised only here.
pub const CATALOG_VERSION: &str = "SELECT n FROM catalog_version WHERE id = 1";
/// Raises the catalog's version (the writer, once per transaction that changes the catalog).
pub const CATALOG_CHANGED: &str = "UPDATE catalog_version SET n = n + 1 WHERE id = 1";

/// One value bound to a `?` (or to `:folders`) of a `Statement`.
#[derive(Debug, Clone, PartialEq)]
enum Param {
    Int(i64),
    Text(String),
}

/// A raw statement assembled from the pieces above, with its parameters in the order their
/// placeholders appear. The scope's folder ids are the named parameter `:folders`, bound once
/// at its first occurrence (SQLite numbers a repeated name once).
#[derive(Debug, Clone, Default)]
pub struct Statement {
    sql: String,
    params: Vec<Param>,
    folders_bound: bool,
    has_where: bool,
}

impl Statement {
    pub fn new(sql: &str) -> Statement {
        Statement {
            sql: sql.to_string(),
            ..Statement::default()
        }
    }

    #[cfg(test)]
    pub fn text(&self) -> &str {
        &self.sql
    }

    /// Appends SQL with no parameters.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends SQL whose `?`s take `ints`, in order.
    pub fn push_ints(&mut self, sql: &str, ints: &[i64]) -> &mut Self {
        debug_assert_eq!(sql.matches('?').count(), ints.len(), "{sql}");
        self.sql.push_str(sql);
        self.params.extend(ints.iter().copied().map(Param::Int));
        self
    }

    /// Appends SQL whose one `?` takes `text`.
    pub fn push_text(&mut self, sql: &str, text: &str) -> &mut Self {
        debug_assert_eq!(sql.matches('?').count(), 1, "{sql}");
        self.sql.push_str(sql);
        self.params.push(Param::Text(text.to_string()));
        self
    }

    /// Appends a condition of `scope` written with `:folders` (`Scope::bound_condition` and
    /// friends), binding the folder ids if this is their first occurrence.
    pub fn push_scope(&mut self, condition: &str, scope: &Scope) -> &mut Self {
        self.sql.push_str(condition);
        if let Some(folders) = scope.folders_bind()
            && condition.contains(":folders")
            && !self.folders_bound
        {
            self.params.push(Param::Text(folders));
            self.folders_bound = true;
        }
        self
    }

    /// Starts the next condition of the statement's WHERE clause: ` WHERE ` the first time,
    /// ` AND ` after.
    pub fn and_where(&mut self) -> &mut Self {
        self.sql
            .push_str(if self.has_where { " AND " } else { " WHERE " });
        self.has_where = true;
        self
    }

    /// Marks the WHERE clause as begun by SQL already pushed.
    pub fn where_begun(&mut self) -> &mut Self {
        self.has_where = true;
        self
    }

    /// ` LIMIT ? OFFSET ?` (negative values count as 0).
    pub fn page(&mut self, limit: i64, offset: i64) -> &mut Self {
        self.push_ints(" LIMIT ? OFFSET ?", &[limit.max(0), offset.max(0)])
    }

    /// The statement with its parameters bound, ready to load, through the connection's
    /// prepared-statement cache (its text is assembled from this module's pieces).
    pub fn query(&self) -> Cached<BoxedSqlQuery<'static, Sqlite, SqlQuery>> {
        Cached(self.bound(diesel::sql_query(self.sql.clone()).into_boxed()))
    }

    fn bound(
        &self,
        mut query: BoxedSqlQuery<'static, Sqlite, SqlQuery>,
    ) -> BoxedSqlQuery<'static, Sqlite, SqlQuery> {
        for p in &self.params {
            query = match p {
                Param::Int(v) => query.bind::<BigInt, _>(*v),
                Param::Text(s) => query.bind::<Text, _>(s.clone()),
            };
        }
        query
    }

    /// Runs a statement that selects one integer column `id`.
    pub fn load_ids(&self, conn: &mut SqliteConnection) -> QueryResult<Vec<i32>> {
        Ok(self
            .query()
            .load::<IdRow>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect())
    }
}

/// A raw query run through the connection's prepared-statement cache, keyed by its text.
/// Diesel never caches `sql_query` (its text could be anything, and an unbounded number of
/// texts would grow the cache without end), so each call parsed and planned its SQL again:
/// ~14 % of a search3's CPU. Only for queries whose text is one of this module's constants or
/// a `Statement` assembled from them, every value bound: a bounded set of texts.
pub struct Cached<Q>(pub Q);

impl<Q: QueryFragment<Sqlite>> QueryFragment<Sqlite> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Sqlite) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    // Keyed by the SQL text (and bind types), not by a type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

/// `column IN (ids)` for Diesel's typed queries, the ids bound as one JSON array: one
/// statement text whatever their number, so under `Cached` it is prepared once per connection
/// (Diesel's `eq_any` writes a placeholder per id: a new text for every count, never cached).
pub fn in_ids(column: &'static str, ids: &[i32]) -> InIds {
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    diesel::dsl::sql::<Bool>(&format!("{column} IN (SELECT value FROM json_each("))
        .bind::<Text, _>(list)
        .sql("))")
}

/// What `in_ids` makes.
pub type InIds =
    SqlLiteral<Bool, UncheckedBind<SqlLiteral<Bool>, diesel::dsl::AsExprOf<String, Text>>>;

impl<Q> RunQueryDsl<SqliteConnection> for Cached<Q> {}

/// A row of one integer column `id`.
#[derive(QueryableByName)]
pub struct IdRow {
    #[diesel(sql_type = Integer)]
    pub id: i32,
}

/// Appends `expr` with one leading article (from a space-separated list) stripped, as the
/// artist index's sort key does: a CASE over the articles, each one's pattern and lengths
/// bound. Articles that are not plain words are skipped.
pub fn strip_articles(st: &mut Statement, expr: &str, articles: &str) {
    let words: Vec<&str> = articles
        .split_whitespace()
        .filter(|a| a.chars().all(char::is_alphanumeric))
        .collect();
    if words.is_empty() {
        st.push(expr);
        return;
    }
    st.push("CASE");
    for article in words {
        let n = article.chars().count() as i64;
        st.push_text(&format!(" WHEN {expr} LIKE ?"), &format!("{article} %"))
            .push_ints(
                &format!(" AND length({expr}) > ? THEN substr({expr}, ?)"),
                &[n + 1, n + 2],
            );
    }
    st.push(&format!(" ELSE {expr} END"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_are_stripped_with_bound_patterns() {
        let mut st = Statement::default();
        strip_articles(&mut st, "x", "The El it's");
        assert_eq!(
            st.text(),
            "CASE WHEN x LIKE ? AND length(x) > ? THEN substr(x, ?) \
             WHEN x LIKE ? AND length(x) > ? THEN substr(x, ?) ELSE x END"
        );
        assert_eq!(
            st.params,
            [
                Param::Text("The %".into()),
                Param::Int(4),
                Param::Int(5),
                Param::Text("El %".into()),
                Param::Int(3),
                Param::Int(4),
            ]
        );
        let mut none = Statement::default();
        strip_articles(&mut none, "x", "it's");
        assert_eq!(none.text(), "x");
    }

    #[test]
    fn folders_are_bound_once_and_only_when_the_scope_filters() {
        let scope = Scope::Only(vec![1, 2]);
        let mut st = Statement::new("SELECT 1");
        st.and_where()
            .push_scope(&scope.bound_condition("a"), &scope)
            .and_where()
            .push_scope(&scope.bound_condition("b"), &scope)
            .page(5, -1);
        assert_eq!(
            st.text(),
            "SELECT 1 WHERE a IN (SELECT value FROM json_each(:folders)) \
             AND b IN (SELECT value FROM json_each(:folders)) LIMIT ? OFFSET ?"
        );
        assert_eq!(
            st.params,
            [Param::Text("[1,2]".into()), Param::Int(5), Param::Int(0)]
        );
        let mut all = Statement::new("SELECT 1");
        all.and_where()
            .push_scope(&Scope::All.bound_condition("a"), &Scope::All);
        assert_eq!(all.text(), "SELECT 1 WHERE 1");
        assert!(all.params.is_empty());
    }
}
