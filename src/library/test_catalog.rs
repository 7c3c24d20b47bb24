//! A small migrated catalog for the library's unit tests: users admin (1, an admin) and bob
//! (2), music folders 1 and 2 with their root directories, album 1, and the tracks asked for.

use crate::db;
use diesel::prelude::*;

/// A catalog whose tracks are `(id, folder)`: track `id` lasts `id` seconds, is track number
/// `id`, and lies at `a/<id>.mp3` in the folder's root directory.
pub fn catalog(tracks: &[(i32, i32)]) -> (tempfile::TempDir, SqliteConnection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    db::open_and_migrate(&path).unwrap();
    let mut conn = db::connect(&path).unwrap();
    for sql in [
        "INSERT INTO users (id, name, is_admin, password_enc, created_at, updated_at) \
         VALUES (1, 'admin', 1, '', 0, 0), (2, 'bob', 0, '', 0, 0)",
        "INSERT INTO library_folders (id, path, name, created_at) \
         VALUES (1, '/m', 'm', 0), (2, '/n', 'n', 0)",
        "INSERT INTO directories (id, folder_id, path, name, mtime, created_at, updated_at) \
         VALUES (1, 1, '', 'm', 0, 0, 0), (2, 2, '', 'n', 0, 0, 0)",
        "INSERT INTO albums (id, album_key, name, artist_display, created_at, updated_at) \
         VALUES (1, 'k', 'Al', 'Ar', 0, 0)",
    ] {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    for (n, folder) in tracks {
        diesel::sql_query(format!(
            "INSERT INTO tracks (id, folder_id, directory_id, album_id, path, size, mtime, \
             suffix, content_type, codec, duration_ms, title, album_name, artist_display, \
             fingerprint, track_number, created_at, updated_at) \
             VALUES ({n}, {folder}, {folder}, 1, 'a/{n}.mp3', 1, 0, 'mp3', 'audio/mpeg', \
             'mp3', {n}000, 'T{n}', 'Al', 'Ar', {n}, {n}, 0, 0)"
        ))
        .execute(&mut conn)
        .unwrap();
    }
    // What the scanner's writer records with its tracks.
    diesel::sql_query(
        "INSERT INTO album_folders (album_id, folder_id) \
         SELECT DISTINCT album_id, folder_id FROM tracks",
    )
    .execute(&mut conn)
    .unwrap();
    (dir, conn)
}
