//! Per-user access to music folders: which folders a user may see, and whether one item lies
//! in them. Every catalog read the API answers goes through a `Scope`; a user who may see
//! every folder gets `Scope::All`, which adds nothing to any query (the common case stays as
//! fast as it was before access control existed).
//!
//! Admins and users with `all_folders` see every folder, including folders added later;
//! anyone else sees the folders listed in `user_folders` (possibly none).

use super::{Id, sql};
use crate::db::models::User;
use crate::db::schema::{
    albums, artists, directories, library_folders, track_artists, tracks, user_folders,
};
use diesel::dsl::exists;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Bool, Text};
use diesel::sqlite::Sqlite;

/// A condition for a Diesel query over `QS` whose folder ids are one bound parameter (never
/// SQL text): see `Scope::tracks_filter` and `Scope::album_artists_filter`.
pub type Filter<QS> = Box<dyn BoxableExpression<QS, Sqlite, SqlType = Bool>>;

/// The music folders a query may draw from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every folder: no filter at all.
    All,
    /// Only these folder ids (sorted, no repeats; may be empty: nothing is visible).
    Only(Vec<i32>),
}

/// Why a request's `musicFolderId` cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("no such music folder")]
    NoSuchFolder,
    #[error("the user may not see this music folder")]
    Forbidden,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

impl Scope {
    /// Whether the scope lets every folder through.
    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }

    /// Whether items of folder `folder_id` are visible.
    pub fn allows(&self, folder_id: i32) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(ids) => ids.binary_search(&folder_id).is_ok(),
        }
    }

    /// The visible folder ids as a JSON array: the bound parameter of the typed filters
    /// (SQLite reads it with `json_each`).
    fn folders_param(&self) -> String {
        match self {
            Scope::All => "null".into(),
            Scope::Only(ids) => format!("[{}]", crate::db::id_list(ids)),
        }
    }

    /// `before ? after` with the folder ids bound to `?`; nothing (`1`) for every folder, so
    /// the common case stays as fast as an unfiltered query.
    fn bound<QS>(&self, [before, after]: [&'static str; 2]) -> Filter<QS> {
        match self {
            Scope::All => Box::new(diesel::dsl::sql::<Bool>("1")),
            Scope::Only(_) => Box::new(
                diesel::dsl::sql::<Bool>(before)
                    .bind::<Text, _>(self.folders_param())
                    .sql(after),
            ),
        }
    }

    /// "`tracks.folder_id` is a visible folder", for queries over `tracks`.
    pub fn tracks_filter<QS>(&self) -> Filter<QS> {
        self.bound(sql::TRACK_IN_FOLDERS)
    }

    /// "the album `album_artists.album_id` has a visible track", for queries over
    /// `album_artists`.
    pub fn album_artists_filter<QS>(&self) -> Filter<QS> {
        self.bound(sql::ALBUM_ARTIST_IN_FOLDERS)
    }

    /// The folder ids for raw statements that use `bound_condition`: the value of their named
    /// parameter `:folders`, bound once at the place of its first occurrence. None for every
    /// folder (the conditions are then `1` and there is nothing to bind).
    pub fn folders_bind(&self) -> Option<String> {
        match self {
            Scope::All => None,
            Scope::Only(_) => Some(self.folders_param()),
        }
    }

    /// Binds `:folders` next in `query` when the scope has one (call it where `:folders` first
    /// occurs among the statement's parameters).
    pub fn bind_folders<'a>(
        &self,
        query: BoxedSqlQuery<'a, Sqlite, SqlQuery>,
    ) -> BoxedSqlQuery<'a, Sqlite, SqlQuery> {
        match self.folders_bind() {
            Some(folders) => query.bind::<Text, _>(folders),
            None => query,
        }
    }

    /// Raw-SQL condition "`column` is a visible folder" reading the ids from `:folders`.
    pub fn bound_condition(&self, column: &str) -> String {
        match self {
            Scope::All => "1".into(),
            Scope::Only(_) => format!("{column}{}", sql::IN_FOLDERS),
        }
    }

    /// Raw-SQL condition "the album `album_id` (an SQL expression) has a visible track",
    /// reading the ids from `:folders`.
    pub fn bound_album_condition(&self, album_id: &str) -> String {
        match self {
            Scope::All => "1".into(),
            Scope::Only(_) => self.has_track(sql::ALBUM_HAS_TRACK, album_id, sql::ALBUM_FOLDER),
        }
    }

    /// Raw-SQL condition "the artist `artist_id` (an SQL expression) is credited on a visible
    /// track" (as artist, album artist or composer), reading the ids from `:folders`.
    pub fn bound_artist_condition(&self, artist_id: &str) -> String {
        match self {
            Scope::All => "1".into(),
            Scope::Only(_) => self.has_track(sql::ARTIST_HAS_TRACK, artist_id, sql::SCOPE_T_FOLDER),
        }
    }

    /// `[before, and]` around `id` (an SQL expression), then the folder condition on
    /// `folder` and `)`.
    fn has_track(&self, [before, and]: [&str; 2], id: &str, folder: &str) -> String {
        let folders = self.bound_condition(folder);
        format!("{before}{id}{and}{folders})")
    }

    pub(crate) fn only(mut ids: Vec<i32>) -> Scope {
        ids.sort_unstable();
        ids.dedup();
        Scope::Only(ids)
    }
}

/// Who is asking, as every catalog operation sees them: resolved once when a request is
/// authenticated (`Viewer::resolve`), then handed to each operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: i32,
    pub is_admin: bool,
    /// The music folders the user may see (`Scope::All` when that is every folder).
    pub scope: Scope,
}

impl Viewer {
    /// Someone who sees every folder (the scanner, the command line, tests).
    pub fn everything(user_id: i32, is_admin: bool) -> Viewer {
        Viewer {
            user_id,
            is_admin,
            scope: Scope::All,
        }
    }

    /// The viewer a user is: no query for users who see every folder (the common case).
    pub fn resolve(conn: &mut SqliteConnection, user: &User) -> Result<Viewer, AccessError> {
        Ok(Viewer {
            user_id: user.id,
            is_admin: user.is_admin,
            scope: request_scope(conn, user, None)?,
        })
    }

    /// The viewer of one call: this one, its folders narrowed to `requested` (a client's
    /// `musicFolderId`) when given. A folder that does not exist is `NoSuchFolder`, one the
    /// viewer may not see is `Forbidden`; a narrowed scope that is every folder is `All`.
    pub fn narrowed(
        &self,
        conn: &mut SqliteConnection,
        requested: Option<i32>,
    ) -> Result<Viewer, AccessError> {
        let Some(folder) = requested else {
            return Ok(self.clone());
        };
        let all = all_folder_ids(conn)?;
        Ok(Viewer {
            scope: narrow(&self.scope, &all, folder)?,
            ..self.clone()
        })
    }

    /// Whether folder access hides the item `id` (then answer "not found"). False without a
    /// query for viewers who see every folder (whether the item exists is the caller's
    /// business); for others also true when the item does not exist.
    pub fn hides(&self, conn: &mut SqliteConnection, id: Id) -> QueryResult<bool> {
        if self.scope.is_all() {
            return Ok(false);
        }
        Ok(!id_in_scope(conn, &self.scope, id)?)
    }
}

/// `scope` narrowed to one folder, given every folder id.
fn narrow(scope: &Scope, all: &[i32], folder: i32) -> Result<Scope, AccessError> {
    if !all.contains(&folder) {
        return Err(AccessError::NoSuchFolder);
    }
    if !scope.allows(folder) {
        return Err(AccessError::Forbidden);
    }
    Ok(if all.len() == 1 {
        Scope::All
    } else {
        Scope::Only(vec![folder])
    })
}

/// Every music folder id, ascending.
fn all_folder_ids(conn: &mut SqliteConnection) -> QueryResult<Vec<i32>> {
    library_folders::table
        .order(library_folders::id)
        .select(library_folders::id)
        .load(conn)
}

/// The folders listed for a user in `user_folders` (what a restricted user may see).
pub fn listed_folders(conn: &mut SqliteConnection, user_id: i32) -> QueryResult<Vec<i32>> {
    user_folders::table
        .filter(user_folders::user_id.eq(user_id))
        .order(user_folders::folder_id)
        .select(user_folders::folder_id)
        .load(conn)
}

/// Whether the user sees every folder (known without looking anything up): callers can skip
/// access checks for them.
pub fn sees_everything(user: &User) -> bool {
    user.is_admin || user.all_folders
}

/// The folders a user may see.
pub fn user_scope(conn: &mut SqliteConnection, user: &User) -> QueryResult<Scope> {
    if sees_everything(user) {
        return Ok(Scope::All);
    }
    Ok(Scope::only(listed_folders(conn, user.id)?))
}

/// The ids of the folders a user may see (for getUser's `folder` list and getMusicFolders).
pub fn visible_folder_ids(conn: &mut SqliteConnection, user: &User) -> QueryResult<Vec<i32>> {
    let all = all_folder_ids(conn)?;
    Ok(match user_scope(conn, user)? {
        Scope::All => all,
        scope => all.into_iter().filter(|f| scope.allows(*f)).collect(),
    })
}

/// The scope of one request: the user's folders, narrowed to `requested` (a client's
/// `musicFolderId`) when given. A folder that does not exist is `NoSuchFolder`, one the user
/// may not see is `Forbidden`. A scope that covers every folder becomes `Scope::All`, so the
/// unfiltered (faster) queries serve it.
pub fn request_scope(
    conn: &mut SqliteConnection,
    user: &User,
    requested: Option<i32>,
) -> Result<Scope, AccessError> {
    if requested.is_none() && sees_everything(user) {
        return Ok(Scope::All);
    }
    let all = all_folder_ids(conn)?;
    let allowed = match user_scope(conn, user)? {
        Scope::All => all.clone(),
        Scope::Only(ids) => ids.into_iter().filter(|f| all.contains(f)).collect(),
    };
    let ids = match requested {
        None => allowed,
        Some(f) if !all.contains(&f) => return Err(AccessError::NoSuchFolder),
        Some(f) if !allowed.contains(&f) => return Err(AccessError::Forbidden),
        Some(f) => vec![f],
    };
    Ok(if ids.len() == all.len() {
        Scope::All
    } else {
        Scope::only(ids)
    })
}

/// Whether the track exists and lies in the scope.
pub fn track_in_scope(
    conn: &mut SqliteConnection,
    scope: &Scope,
    track_id: i32,
) -> QueryResult<bool> {
    let folder: Option<i32> = tracks::table
        .find(track_id)
        .select(tracks::folder_id)
        .get_result(conn)
        .optional()?;
    Ok(folder.is_some_and(|f| scope.allows(f)))
}

/// Whether an item of any kind (track, album, artist, folder) exists and the scope shows it:
/// an album or artist is visible when one of its tracks is. Playlists are not folder items
/// (always true here; the playlist rules decide).
pub fn id_in_scope(conn: &mut SqliteConnection, scope: &Scope, id: Id) -> QueryResult<bool> {
    match id {
        Id::Track(n) => track_in_scope(conn, scope, n),
        Id::Directory(n) => {
            let folder: Option<i32> = directories::table
                .find(n)
                .select(directories::folder_id)
                .get_result(conn)
                .optional()?;
            Ok(folder.is_some_and(|f| scope.allows(f)))
        }
        Id::Album(n) => match scope {
            Scope::All => diesel::select(exists(albums::table.find(n))).get_result(conn),
            Scope::Only(folders) => diesel::select(exists(
                tracks::table
                    .filter(tracks::album_id.eq(n))
                    .filter(tracks::folder_id.eq_any(folders)),
            ))
            .get_result(conn),
        },
        Id::Artist(n) => match scope {
            Scope::All => diesel::select(exists(artists::table.find(n))).get_result(conn),
            Scope::Only(folders) => diesel::select(exists(
                track_artists::table
                    .inner_join(tracks::table)
                    .filter(track_artists::artist_id.eq(n))
                    .filter(tracks::folder_id.eq_any(folders)),
            ))
            .get_result(conn),
        },
        // Playlists belong to users, not to music folders: their owners decide who sees them.
        Id::Playlist(_) => Ok(true),
        // Podcasts lie outside the music folders: every user sees them.
        Id::PodcastChannel(_) | Id::PodcastEpisode(_) => Ok(true),
    }
}

/// The tracks among `ids` the scope shows, in the order given (for playlists, queues and
/// shares that may hold tracks of folders a user may not see).
pub fn tracks_in_scope(
    conn: &mut SqliteConnection,
    scope: &Scope,
    ids: &[i32],
) -> QueryResult<Vec<i32>> {
    if scope.is_all() {
        return Ok(ids.to_vec());
    }
    let visible = shown_tracks(conn, scope, ids)?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| visible.contains(id))
        .collect())
}

/// The first of `ids` that is not a track `scope` shows (missing or in a hidden folder), for
/// lists a client fills (playlists, the play queue).
pub fn first_unshown_track(
    conn: &mut SqliteConnection,
    scope: &Scope,
    ids: &[i32],
) -> QueryResult<Option<i32>> {
    let shown = shown_tracks(conn, scope, ids)?;
    Ok(ids.iter().copied().find(|id| !shown.contains(id)))
}

/// Which of `ids` are tracks in a folder `scope` allows (one query per 500 ids).
fn shown_tracks(
    conn: &mut SqliteConnection,
    scope: &Scope,
    ids: &[i32],
) -> QueryResult<std::collections::HashSet<i32>> {
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let mut shown = std::collections::HashSet::with_capacity(unique.len());
    for chunk in unique.chunks(500) {
        let found: Vec<(i32, i32)> = tracks::table
            .filter(tracks::id.eq_any(chunk))
            .select((tracks::id, tracks::folder_id))
            .load(conn)?;
        shown.extend(
            found
                .into_iter()
                .filter(|(_, f)| scope.allows(*f))
                .map(|(id, _)| id),
        );
    }
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_neutral_for_all_and_bind_the_folders_otherwise() {
        assert_eq!(Scope::All.bound_condition("t.folder_id"), "1");
        assert_eq!(Scope::All.bound_album_condition("a.id"), "1");
        assert_eq!(Scope::All.folders_bind(), None);
        assert_eq!(Scope::Only(vec![]).folders_bind().as_deref(), Some("[]"));
        let some = Scope::only(vec![3, 1, 3]);
        assert_eq!(
            some.bound_condition("t.folder_id"),
            "t.folder_id IN (SELECT value FROM json_each(:folders))"
        );
        assert_eq!(some.folders_bind().as_deref(), Some("[1,3]"));
        let s = Scope::only(vec![2]);
        assert!(s.allows(2) && !s.allows(1));
        assert!(Scope::All.allows(99));
    }

    #[test]
    fn typed_filters_bind_the_folders() {
        let (_dir, mut c) = crate::library::test_catalog::catalog(&[(1, 1), (2, 2), (3, 2)]);
        let shown = |c: &mut SqliteConnection, scope: Scope| -> Vec<i32> {
            tracks::table
                .filter(scope.tracks_filter())
                .order(tracks::id)
                .select(tracks::id)
                .load(c)
                .unwrap()
        };
        assert_eq!(shown(&mut c, Scope::All), [1, 2, 3]);
        assert_eq!(shown(&mut c, Scope::only(vec![2])), [2, 3]);
        assert_eq!(shown(&mut c, Scope::only(vec![])), Vec::<i32>::new());
        diesel::sql_query(
            "INSERT INTO artists (id, name, name_key, created_at) VALUES (1, 'A', 'a', 0)",
        )
        .execute(&mut c)
        .unwrap();
        diesel::sql_query("INSERT INTO album_artists (album_id, artist_id, role, position) VALUES (1, 1, 'albumartist', 0)")
            .execute(&mut c)
            .unwrap();
        let albums = |c: &mut SqliteConnection, scope: Scope| -> i64 {
            crate::db::schema::album_artists::table
                .filter(scope.album_artists_filter())
                .count()
                .get_result(c)
                .unwrap()
        };
        assert_eq!(albums(&mut c, Scope::only(vec![2])), 1);
        assert_eq!(albums(&mut c, Scope::only(vec![3])), 0);
        assert_eq!(albums(&mut c, Scope::All), 1);
    }

    #[test]
    fn narrowing_checks_the_folder_and_collapses_to_all() {
        let all = [1, 2, 3];
        assert!(matches!(
            narrow(&Scope::All, &all, 9),
            Err(AccessError::NoSuchFolder)
        ));
        assert!(matches!(
            narrow(&Scope::only(vec![1]), &all, 2),
            Err(AccessError::Forbidden)
        ));
        assert_eq!(narrow(&Scope::All, &all, 2).unwrap(), Scope::Only(vec![2]));
        assert_eq!(narrow(&Scope::All, &[4], 4).unwrap(), Scope::All);
    }
}
