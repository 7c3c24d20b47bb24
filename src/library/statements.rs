//! Every raw SQL statement the read side and people's things run, run once against a
//! migrated database, for each shape of scope (every folder, some, none): SQLite prepares a
//! statement only when it runs, so a typo or a column a migration renamed fails here, not in
//! a user's request. The read side's raw SQL lives in `sql.rs`; every statement listed there
//! (`sql::COMPLETE`) is prepared here as well, so a new one cannot escape the test.

use super::access::Scope;
use super::annotations::{self, ItemKind};
use super::cache::CatalogCache;
use super::lists::{self, AlbumOrder, AlbumQuery, SongFilter};
use super::search::{self, FieldQuery, Page};
use super::{covers, files, folders, lyrics, test_catalog};
use crate::people::{chat, play_queue, playlists};
use diesel::connection::{Connection, InstrumentationEvent};
use diesel::prelude::*;
use std::sync::{Arc, Mutex};

fn scopes() -> [Scope; 3] {
    [Scope::All, Scope::Only(vec![1]), Scope::Only(vec![])]
}

fn lists_and_search(c: &mut SqliteConnection, scope: &Scope) {
    for order in [
        AlbumOrder::Random,
        AlbumOrder::Newest,
        AlbumOrder::Highest,
        AlbumOrder::Frequent,
        AlbumOrder::Recent,
        AlbumOrder::ByName,
        AlbumOrder::ByArtist {
            ignored_articles: "The".into(),
        },
        AlbumOrder::Starred,
        AlbumOrder::ByYear {
            from: 2000,
            to: 1990,
        },
        AlbumOrder::ByGenre("Rock".into()),
    ] {
        let q = AlbumQuery {
            order,
            user_id: 1,
            limit: 10,
            offset: 0,
            scope: scope.clone(),
        };
        lists::album_ids(c, &q).unwrap();
        lists::folder_list_items(c, &q).unwrap();
    }
    lists::album_parents(c, &[1]).unwrap();
    let filter = SongFilter {
        genre: Some("Rock".into()),
        from_year: Some(1990),
        to_year: Some(2000),
        scope: scope.clone(),
    };
    lists::random_track_ids(c, &filter, 5).unwrap();
    lists::track_ids_by_genre(c, "Rock", scope, 5, 0).unwrap();
    let words = search::query_words("t1 al");
    let page = Page {
        limit: 5,
        offset: 0,
    };
    let cache = CatalogCache::default();
    search::artist_ids(c, &cache, &words, scope, page).unwrap();
    search::album_ids(c, &cache, &words, scope, page).unwrap();
    search::track_ids(c, &words, scope, page).unwrap();
    search::track_ids(c, &[], scope, page).unwrap();
    let fields = FieldQuery {
        artist: words.clone(),
        album: words.clone(),
        title: words.clone(),
        any: words.clone(),
        newer_than: Some(0),
    };
    search::track_ids_by_fields(c, &fields, scope, page).unwrap();
    search::track_ids_by_fields(c, &FieldQuery::default(), scope, page).unwrap();
}

fn browsing(c: &mut SqliteConnection, scope: &Scope) {
    super::genres(c, scope).unwrap();
    super::album_views_in(c, &[1], scope).unwrap();
    super::album_artists_index(c, scope).unwrap();
    super::artist_in(c, 1, scope).unwrap();
    super::artist_views_in(c, &[1], scope).unwrap();
    super::albums_of_artist_in(c, 1, scope).unwrap();
    super::tracks_of_album_in(c, 1, scope).unwrap();
    for kind in [
        ItemKind::Track,
        ItemKind::Album,
        ItemKind::Artist,
        ItemKind::Directory,
    ] {
        annotations::starred(c, 1, kind, scope).unwrap();
        annotations::of_items(c, 1, kind, &[1, 2]).unwrap();
        annotations::average_ratings(c, kind, &[1, 2]).unwrap();
    }
    folders::last_modified(c, scope).unwrap();
    folders::roots(c, scope).unwrap();
    folders::with_direct_tracks(c, &[1, 2]).unwrap();
    folders::subdirectories(c, &[1, 2]).unwrap();
    folders::tracks_in_directories(c, &[1, 2]).unwrap();
    let root = folders::directory(c, 1).unwrap().unwrap();
    folders::main_artist_of_directory(c, &root).unwrap();
    folders::main_album_of_directory(c, &root).unwrap();
    folders::similar_artists(c, &[1], 5, scope).unwrap();
    folders::random_tracks_of_artists(c, &[1], Some(1), 5, scope).unwrap();
    folders::top_tracks(c, 1, 5, scope).unwrap();
    folders::artist_directories(c, &[1], scope).unwrap();
    files::album_archive(c, 1, scope).unwrap();
    files::artist_archive(c, 1, scope).unwrap();
    files::directory_archive(c, 1, scope).unwrap();
    covers::album_covers(c, &[1]).unwrap();
    covers::artist_covers(c, &[1]).unwrap();
    lyrics::of_track(c, 1, 1000).unwrap();
    lyrics::find_by_artist_title(c, Some("Ar"), "T1", 1000).unwrap();
    lyrics::find_by_artist_title(c, None, "T1", 1000).unwrap();
    for id in [super::Id::Artist(1), super::Id::Album(1)] {
        super::access::id_in_scope(c, scope, id).unwrap();
    }
    playlists::find(c, scope, 1).unwrap();
    playlists::visible_to(c, scope, 1).unwrap();
    playlists::track_ids(c, scope, 1).unwrap();
    play_queue::load(
        c,
        &super::access::Viewer {
            scope: scope.clone(),
            ..super::access::Viewer::everything(1, false)
        },
    )
    .unwrap();
}

#[test]
fn every_raw_statement_prepares_and_runs_for_every_kind_of_scope() {
    let (_dir, mut c) = test_catalog::catalog(&[(1, 1), (2, 2)]);
    for scope in scopes() {
        lists_and_search(&mut c, &scope);
        browsing(&mut c, &scope);
    }
    // The writes with raw statements.
    let items = [(ItemKind::Track, 1), (ItemKind::Album, 1)];
    annotations::set_starred(&mut c, 1, &items, true, 1).unwrap();
    annotations::set_rating(&mut c, 1, (ItemKind::Track, 1), Some(3)).unwrap();
    annotations::set_rating(&mut c, 1, (ItemKind::Track, 1), None).unwrap();
    annotations::record_plays(&mut c, 1, &[(1, 5)]).unwrap();
    annotations::set_starred(&mut c, 1, &items, false, 2).unwrap();
    chat::add(&mut c, 1, "hi", 1).unwrap();
    chat::since(&mut c, Some(0)).unwrap();
    // And the reads again, over rows that now exist.
    for scope in scopes() {
        lists_and_search(&mut c, &scope);
        browsing(&mut c, &scope);
    }
}

#[test]
fn every_whole_statement_of_the_sql_module_prepares() {
    let (_dir, mut c) = test_catalog::catalog(&[(1, 1)]);
    for sql in super::sql::COMPLETE {
        // EXPLAIN prepares the statement without running it (parameters stay unbound).
        let sql = sql
            .replace(super::sql::SCOPE, "1")
            .replace(super::sql::SCOPE_TRACKS, "1")
            .replace(super::sql::BELOW, "1");
        diesel::sql_query(format!("EXPLAIN {sql}"))
            .execute(&mut c)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    for tail in super::sql::PLAYLIST_TAILS {
        let sql = super::sql::in_scope(super::sql::PLAYLISTS, "1");
        diesel::sql_query(format!("EXPLAIN {sql}{tail}"))
            .execute(&mut c)
            .unwrap_or_else(|e| panic!("{e}: {sql}{tail}"));
    }
}

/// The SQL text of the last statement `run` sent (Diesel's instrumentation sees every one).
fn last_statement(c: &mut SqliteConnection, run: impl FnOnce(&mut SqliteConnection)) -> String {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&seen);
    c.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().unwrap().push(query.to_string());
        }
    });
    run(c);
    c.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    let last = seen.lock().unwrap().pop().unwrap();
    last.split(" -- binds:").next().unwrap().to_string()
}

/// SQLite's plan for `sql` (its parameters unbound: the plan does not depend on them).
fn plan(c: &mut SqliteConnection, sql: &str) -> String {
    #[derive(QueryableByName)]
    struct Step {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    let steps: Vec<Step> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load(c)
        .unwrap();
    steps
        .into_iter()
        .map(|s| s.detail)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The hot pages keep the plans they had when values were spliced into the text: the same
/// indexes, and no sort where an index delivers the order (binding only adds the one-off
/// `json_each` list of the folder ids).
#[test]
fn hot_list_and_search_queries_keep_their_index_plans() {
    let (_dir, mut c) = test_catalog::catalog(&[(1, 1), (2, 2)]);
    let page = Page {
        limit: 10,
        offset: 20,
    };
    let words = search::query_words("t1");
    let album_list = |order: AlbumOrder, scope: &Scope| {
        let q = AlbumQuery {
            order,
            user_id: 1,
            scope: scope.clone(),
            limit: 10,
            offset: 20,
        };
        move |c: &mut SqliteConnection| {
            lists::album_ids(c, &q).unwrap();
        }
    };
    let some = Scope::Only(vec![1, 2]);
    let no_sort: &[&str] = &["TEMP B-TREE"];
    let by_artist = AlbumOrder::ByArtist {
        ignored_articles: "The".into(),
    };
    type Run<'a> = Box<dyn FnOnce(&mut SqliteConnection) + 'a>;
    // "Has this album a visible track?": one probe of `album_folders`' key.
    const ALBUM_SCOPE_PROBE: &str =
        "scope_af EXISTS USING PRIMARY KEY (album_id=? AND folder_id=?)";
    let cases: Vec<(&str, Run, &[&str], &[&str])> = vec![
        (
            "newest",
            Box::new(album_list(AlbumOrder::Newest, &Scope::All)),
            &["SCAN a USING COVERING INDEX albums_created"],
            no_sort,
        ),
        (
            "newest, some folders",
            Box::new(album_list(AlbumOrder::Newest, &some)),
            &[
                "SCAN a USING COVERING INDEX albums_created",
                ALBUM_SCOPE_PROBE,
            ],
            no_sort,
        ),
        (
            // No index holds the sort key: one scan of albums and a sort, as before.
            "alphabeticalByName",
            Box::new(album_list(AlbumOrder::ByName, &some)),
            &["SCAN a", ALBUM_SCOPE_PROBE, "USE TEMP B-TREE FOR ORDER BY"],
            &[],
        ),
        (
            "alphabeticalByArtist",
            Box::new(album_list(by_artist, &Scope::All)),
            &[
                "SCAN a",
                "SEARCH aa USING PRIMARY KEY (album_id=?)",
                "USE TEMP B-TREE FOR ORDER BY",
            ],
            &[],
        ),
        (
            "byYear",
            Box::new(album_list(
                AlbumOrder::ByYear {
                    from: 1990,
                    to: 2000,
                },
                &Scope::All,
            )),
            &["SEARCH a USING INDEX albums_year (year>? AND year<?)"],
            &[],
        ),
        (
            "starred",
            Box::new(album_list(AlbumOrder::Starred, &some)),
            &[
                "SEARCH an USING COVERING INDEX annotations_starred (user_id=? AND item_type=? AND starred_at>?)",
            ],
            &[],
        ),
        (
            "search3 \"\" songs",
            Box::new(|c: &mut SqliteConnection| {
                search::track_ids(c, &[], &Scope::All, page).unwrap();
            }),
            &["SCAN t USING COVERING INDEX tracks_album"],
            no_sort,
        ),
        (
            "search3 \"\" songs, some folders",
            Box::new(|c: &mut SqliteConnection| {
                search::track_ids(c, &[], &some, page).unwrap();
            }),
            &["SEARCH t USING COVERING INDEX sqlite_autoindex_tracks_1 (folder_id=?)"],
            no_sort,
        ),
        (
            "search3 \"\" albums, some folders",
            Box::new(|c: &mut SqliteConnection| {
                search::album_ids(c, &CatalogCache::default(), &[], &some, page).unwrap();
            }),
            &["SCAN a", ALBUM_SCOPE_PROBE],
            no_sort,
        ),
        (
            "search3 \"\" artists, some folders",
            Box::new(|c: &mut SqliteConnection| {
                search::artist_ids(c, &CatalogCache::default(), &[], &some, page).unwrap();
            }),
            &[
                "SCAN ar",
                "USING COVERING INDEX album_artists_artist (artist_id=?)",
            ],
            no_sort,
        ),
        (
            "FTS songs, some folders",
            Box::new(|c: &mut SqliteConnection| {
                search::track_ids(c, &words, &some, page).unwrap();
            }),
            &[
                "SCAN f VIRTUAL TABLE INDEX 0:M",
                "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)",
            ],
            &[],
        ),
        (
            // A narrow query: its ranked matches are filtered with the albums the folders
            // show, built (last) on the first search.
            "FTS albums, some folders",
            Box::new(|c: &mut SqliteConnection| {
                search::album_ids(c, &CatalogCache::default(), &words, &some, page).unwrap();
            }),
            &["SCAN a", ALBUM_SCOPE_PROBE],
            &[],
        ),
        (
            "FTS artists",
            Box::new(|c: &mut SqliteConnection| {
                search::artist_ids(c, &CatalogCache::default(), &words, &Scope::All, page).unwrap();
            }),
            &[
                "SCAN f VIRTUAL TABLE INDEX 0:M",
                "SEARCH ar USING INTEGER PRIMARY KEY (rowid=?)",
            ],
            &[],
        ),
    ];
    for (name, run, wanted, unwanted) in cases {
        let sql = last_statement(&mut c, run);
        let plan = plan(&mut c, &sql);
        for step in wanted {
            assert!(
                plan.contains(step),
                "{name}: no `{step}` in\n{plan}\nof {sql}"
            );
        }
        for step in unwanted {
            assert!(
                !plan.contains(step),
                "{name}: `{step}` in\n{plan}\nof {sql}"
            );
        }
    }
}
