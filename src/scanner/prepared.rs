//! Fixed SQL statements for the writer's hottest inserts, prepared once per connection.
//!
//! Diesel caches a statement keyed by its Rust type only when the type fully determines the
//! SQL. A track insert built from the `Insertable` groups does not qualify (a `None` field
//! leaves its column out), so Diesel walked its 50-column query four times per row (to build
//! the SQL as the cache key, to check it may be cached, for the column names and for the
//! binds): a fifth of the writer's time in a million-track first scan. A [`Stmt`] carries its
//! SQL in its type ([`Sql`]): Diesel looks it up by type and only binds the values.

use crate::db::models::TrackData;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Double, Integer, Nullable, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{QueryResult, RunQueryDsl};
use std::marker::PhantomData;

/// A statement's fixed text: one type per statement (the type is the cache key).
pub trait Sql: 'static {
    const SQL: &'static str;
}

/// One value bound to a statement.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Int(i32),
    OptInt(Option<i32>),
    Big(i64),
    Bool(bool),
    Text(&'a str),
    OptText(Option<&'a str>),
    OptDouble(Option<f64>),
}

/// A statement of `S` with its values, in the order of the SQL's parameters. Its result, when
/// loaded, is one integer column (`RETURNING id`).
pub struct Stmt<'a, S> {
    values: Vec<Value<'a>>,
    sql: PhantomData<S>,
}

impl<'a, S: Sql> Stmt<'a, S> {
    pub fn new(values: Vec<Value<'a>>) -> Self {
        Self {
            values,
            sql: PhantomData,
        }
    }
}

impl<S: Sql> QueryId for Stmt<'_, S> {
    type QueryId = S;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<S: Sql> QueryFragment<Sqlite> for Stmt<'_, S> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        // Diesel writes each parameter's `?` itself: the SQL goes in between the binds.
        let mut parts = S::SQL.split('?');
        out.push_sql(parts.next().unwrap_or_default());
        for (value, part) in self.values.iter().zip(parts) {
            match value {
                Value::Int(v) => out.push_bind_param::<Integer, _>(v)?,
                Value::OptInt(v) => out.push_bind_param::<Nullable<Integer>, _>(v)?,
                Value::Big(v) => out.push_bind_param::<BigInt, _>(v)?,
                Value::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                Value::Text(v) => out.push_bind_param::<Text, _>(*v)?,
                Value::OptText(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Value::OptDouble(v) => out.push_bind_param::<Nullable<Double>, _>(v)?,
            }
            out.push_sql(part);
        }
        debug_assert_eq!(S::SQL.matches('?').count(), self.values.len());
        Ok(())
    }
}

impl<S: Sql> Query for Stmt<'_, S> {
    type SqlType = Integer;
}

impl<S: Sql> RunQueryDsl<SqliteConnection> for Stmt<'_, S> {}

/// `INSERT INTO tracks` of every column but `id`, returning the new id. The column list is
/// checked against the table by a test: a column added to the schema must be added here.
pub struct InsertTrack;

impl Sql for InsertTrack {
    const SQL: &'static str = "INSERT INTO tracks (folder_id, directory_id, album_id, \
        path, size, mtime, fingerprint, \
        suffix, content_type, codec, duration_ms, bitrate, sample_rate, bit_depth, channels, \
        title, sort_title, album_name, artist_display, album_artist_display, track_number, \
        track_total, disc_number, disc_total, disc_subtitle, year, release_date, original_date, \
        comment, bpm, isrc, compilation, release_type, label, grouping, mood, mb_recording_id, \
        mb_track_id, mb_release_id, mb_release_group_id, mb_artist_id, mb_album_artist_id, \
        rg_track_gain, rg_track_peak, rg_album_gain, rg_album_peak, \
        lyrics, synced_lyrics, has_embedded_art, \
        updated_at, created_at) \
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
        ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
}

/// Inserts a new track row (`created_at` = `updated_at`) and returns its id.
pub fn insert_track(conn: &mut SqliteConnection, data: &TrackData<'_>) -> QueryResult<i32> {
    use Value::*;
    let (file, audio, tags, att) = (data.file, data.audio, data.tags, data.attachments);
    let values = vec![
        Int(data.folder_id),
        Int(data.directory_id),
        Int(data.album_id),
        Text(&file.path),
        Big(file.size),
        Big(file.mtime),
        Big(file.fingerprint),
        Text(&audio.suffix),
        Text(&audio.content_type),
        Text(&audio.codec),
        Big(audio.duration_ms),
        OptInt(audio.bitrate),
        OptInt(audio.sample_rate),
        OptInt(audio.bit_depth),
        OptInt(audio.channels),
        Text(&tags.title),
        OptText(tags.sort_title.as_deref()),
        Text(&tags.album_name),
        Text(&tags.artist_display),
        OptText(tags.album_artist_display.as_deref()),
        OptInt(tags.track_number),
        OptInt(tags.track_total),
        OptInt(tags.disc_number),
        OptInt(tags.disc_total),
        OptText(tags.disc_subtitle.as_deref()),
        OptInt(tags.year),
        OptText(tags.release_date.as_deref()),
        OptText(tags.original_date.as_deref()),
        OptText(tags.comment.as_deref()),
        OptInt(tags.bpm),
        OptText(tags.isrc.as_deref()),
        Bool(tags.compilation),
        OptText(tags.release_type.as_deref()),
        OptText(tags.label.as_deref()),
        OptText(tags.grouping.as_deref()),
        OptText(tags.mood.as_deref()),
        OptText(tags.mb_recording_id.as_deref()),
        OptText(tags.mb_track_id.as_deref()),
        OptText(tags.mb_release_id.as_deref()),
        OptText(tags.mb_release_group_id.as_deref()),
        OptText(tags.mb_artist_id.as_deref()),
        OptText(tags.mb_album_artist_id.as_deref()),
        OptDouble(tags.rg_track_gain),
        OptDouble(tags.rg_track_peak),
        OptDouble(tags.rg_album_gain),
        OptDouble(tags.rg_album_peak),
        OptText(att.lyrics.as_deref()),
        OptText(att.synced_lyrics.as_deref()),
        Bool(att.has_embedded_art),
        Big(data.updated_at),
        Big(data.updated_at),
    ];
    Stmt::<InsertTrack>::new(values).get_result(conn)
}

pub struct InsertTrackArtist;

impl Sql for InsertTrackArtist {
    const SQL: &'static str =
        "INSERT INTO track_artists (track_id, artist_id, role, position) VALUES (?, ?, ?, ?)";
}

/// Links a track to an artist in a role ("artist", "albumartist", "composer").
pub fn insert_track_artist(
    conn: &mut SqliteConnection,
    track_id: i32,
    artist_id: i32,
    role: &str,
    position: i32,
) -> QueryResult<usize> {
    use Value::*;
    Stmt::<InsertTrackArtist>::new(vec![
        Int(track_id),
        Int(artist_id),
        Text(role),
        Int(position),
    ])
    .execute(conn)
}

pub struct InsertTrackGenre;

impl Sql for InsertTrackGenre {
    const SQL: &'static str =
        "INSERT INTO track_genres (track_id, genre_id, position) VALUES (?, ?, ?)";
}

/// Links a track to a genre.
pub fn insert_track_genre(
    conn: &mut SqliteConnection,
    track_id: i32,
    genre_id: i32,
    position: i32,
) -> QueryResult<usize> {
    use Value::*;
    Stmt::<InsertTrackGenre>::new(vec![Int(track_id), Int(genre_id), Int(position)]).execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::{Attachments, AudioProps, FileFacts, Track, TrackTags};
    use crate::db::schema::tracks;
    use diesel::prelude::*;

    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        name: String,
    }

    #[derive(QueryableByName)]
    struct Links {
        #[diesel(sql_type = Integer)]
        a: i32,
        #[diesel(sql_type = Text)]
        r: String,
        #[diesel(sql_type = Integer)]
        p: i32,
        #[diesel(sql_type = Integer)]
        g: i32,
    }

    /// Every column of `tracks` but the id is written, each once.
    #[test]
    fn track_insert_names_every_column() {
        let (_tmp, mut conn) = crate::library::test_catalog::catalog(&[]);
        let mut table: Vec<String> =
            diesel::sql_query("SELECT name FROM pragma_table_info('tracks')")
                .load::<Column>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|c| c.name)
                .filter(|n| n != "id")
                .collect();
        let list = InsertTrack::SQL
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .unwrap()
            .0;
        let mut written: Vec<String> = list.split(',').map(|c| c.trim().to_owned()).collect();
        let params = InsertTrack::SQL.matches('?').count();
        assert_eq!(written.len(), params);
        table.sort();
        written.sort();
        assert_eq!(table, written);
    }

    /// What the statement stores reads back as the very values given.
    #[test]
    fn inserted_track_reads_back() {
        let (_tmp, mut conn) = crate::library::test_catalog::catalog(&[]);
        // The test catalog has music folder 1, its root directory 1 and album 1.
        let file = FileFacts {
            path: "a/x.mp3".into(),
            size: 12,
            mtime: 34,
            fingerprint: -5,
        };
        let audio = AudioProps {
            suffix: "mp3".into(),
            content_type: "audio/mpeg".into(),
            codec: "MP3".into(),
            duration_ms: 1000,
            bitrate: Some(128),
            sample_rate: None,
            bit_depth: Some(16),
            channels: Some(2),
        };
        let tags = TrackTags {
            title: "T".into(),
            sort_title: Some("S".into()),
            album_name: "Al".into(),
            artist_display: "Ar".into(),
            track_number: Some(3),
            disc_subtitle: Some("D".into()),
            compilation: true,
            mb_album_artist_id: Some("mb".into()),
            rg_track_gain: Some(-1.5),
            rg_album_peak: Some(0.9),
            ..TrackTags::default()
        };
        let attachments = Attachments {
            lyrics: None,
            synced_lyrics: Some("[00:01.00]x".into()),
            has_embedded_art: true,
        };
        let data = TrackData {
            folder_id: 1,
            directory_id: 1,
            album_id: 1,
            file: &file,
            audio: &audio,
            tags: &tags,
            attachments: &attachments,
            updated_at: 99,
        };
        let id = insert_track(&mut conn, &data).unwrap();
        let row: Track = tracks::table
            .find(id)
            .select(Track::as_select())
            .get_result(&mut conn)
            .unwrap();
        assert_eq!((row.folder_id, row.directory_id, row.album_id), (1, 1, 1));
        assert_eq!(row.file, file);
        assert_eq!(row.audio, audio);
        assert_eq!(row.tags, tags);
        assert_eq!(row.attachments, attachments);
        assert_eq!((row.created_at, row.updated_at), (99, 99));
        diesel::sql_query(
            "INSERT INTO artists (id, name, name_key, created_at) VALUES (7, 'Ar', 'ar', 0)",
        )
        .execute(&mut conn)
        .unwrap();
        diesel::sql_query("INSERT INTO genres (id, name) VALUES (8, 'Rock')")
            .execute(&mut conn)
            .unwrap();
        insert_track_artist(&mut conn, id, 7, "composer", 2).unwrap();
        insert_track_genre(&mut conn, id, 8, 1).unwrap();
        let links: (i32, String, i32, i32) = diesel::sql_query(
            "SELECT ta.artist_id AS a, ta.role AS r, ta.position AS p, tg.genre_id AS g \
             FROM track_artists ta, track_genres tg WHERE ta.track_id = ?1 AND tg.track_id = ?1",
        )
        .bind::<Integer, _>(id)
        .load::<Links>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|l| (l.a, l.r, l.p, l.g))
        .next()
        .unwrap();
        assert_eq!(links, (7, "composer".to_owned(), 2, 8));
    }
}
