-- Back to plain rowid ids (ids may be reused again).
CREATE TABLE playlists_old (
    id INTEGER PRIMARY KEY NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    comment TEXT,
    public BOOLEAN NOT NULL DEFAULT 0,
    source_path TEXT UNIQUE,
    source_mtime BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO playlists_old SELECT id, owner_id, name, comment, public, source_path,
    source_mtime, created_at, updated_at FROM playlists;
CREATE TABLE playlist_tracks_old (
    playlist_id INTEGER NOT NULL REFERENCES playlists_old(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    PRIMARY KEY (playlist_id, position)
) WITHOUT ROWID;
INSERT INTO playlist_tracks_old SELECT playlist_id, position, track_id FROM playlist_tracks;
DROP TABLE playlist_tracks;
DROP TABLE playlists;
ALTER TABLE playlists_old RENAME TO playlists;
ALTER TABLE playlist_tracks_old RENAME TO playlist_tracks;
CREATE INDEX playlists_owner ON playlists(owner_id);
CREATE INDEX playlist_tracks_track ON playlist_tracks(track_id);
