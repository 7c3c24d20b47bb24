-- Playlist ids are never given out twice. Without AUTOINCREMENT SQLite gives a new row the
-- largest id + 1, so deleting the newest playlist freed its id for the next one, and a
-- client still holding the old id (a cached list, a second device, a cover URL) read,
-- changed or deleted someone else's new playlist. SQLite cannot add AUTOINCREMENT to a
-- table: both tables are rebuilt (entries first, so dropping the old playlists cascades to
-- nothing) and renamed into place (the rename rewrites the entries' reference).
CREATE TABLE playlists_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    comment TEXT,
    public BOOLEAN NOT NULL DEFAULT 0,
    -- An M3U/M3U8 file in a music folder this playlist was imported from (absolute path),
    -- and that file's mtime, so a scan re-syncs it when the file changes.
    source_path TEXT UNIQUE,
    source_mtime BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO playlists_new SELECT id, owner_id, name, comment, public, source_path,
    source_mtime, created_at, updated_at FROM playlists;
CREATE TABLE playlist_tracks_new (
    playlist_id INTEGER NOT NULL REFERENCES playlists_new(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    PRIMARY KEY (playlist_id, position)
) WITHOUT ROWID;
INSERT INTO playlist_tracks_new SELECT playlist_id, position, track_id FROM playlist_tracks;
DROP TABLE playlist_tracks;
DROP TABLE playlists;
ALTER TABLE playlists_new RENAME TO playlists;
ALTER TABLE playlist_tracks_new RENAME TO playlist_tracks;
CREATE INDEX playlists_owner ON playlists(owner_id);
CREATE INDEX playlist_tracks_track ON playlist_tracks(track_id);
