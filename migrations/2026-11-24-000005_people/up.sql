-- People's things: folder access, playlists, play queues, bookmarks, shares, internet radio,
-- chat and avatars. Track references cascade: a track whose file is gone leaves every list it
-- was in (a moved file keeps its track id, so it stays).

-- Per-user access to music folders: with all_folders set (the default) a user sees every
-- folder, including ones added later; otherwise only the folders listed in user_folders.
ALTER TABLE users ADD COLUMN all_folders BOOLEAN NOT NULL DEFAULT 1;
CREATE TABLE user_folders (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    folder_id INTEGER NOT NULL REFERENCES library_folders(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, folder_id)
) WITHOUT ROWID;

CREATE TABLE playlists (
    id INTEGER PRIMARY KEY NOT NULL,
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
CREATE INDEX playlists_owner ON playlists(owner_id);
CREATE TABLE playlist_tracks (
    playlist_id INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    PRIMARY KEY (playlist_id, position)
) WITHOUT ROWID;
CREATE INDEX playlist_tracks_track ON playlist_tracks(track_id);

-- One saved play queue per user.
CREATE TABLE play_queues (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- Index into play_queue_tracks of the current track.
    current_index INTEGER,
    position_ms BIGINT NOT NULL DEFAULT 0,
    changed_at BIGINT NOT NULL,
    changed_by TEXT NOT NULL
);
CREATE TABLE play_queue_tracks (
    user_id INTEGER NOT NULL REFERENCES play_queues(user_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, position)
) WITHOUT ROWID;
CREATE INDEX play_queue_tracks_track ON play_queue_tracks(track_id);

CREATE TABLE bookmarks (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    position_ms BIGINT NOT NULL,
    comment TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, track_id)
) WITHOUT ROWID;
CREATE INDEX bookmarks_track ON bookmarks(track_id);

-- Public links: id is the random, unguessable token in /share/ID.
CREATE TABLE shares (
    id TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    description TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_visited BIGINT,
    visit_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX shares_user ON shares(user_id);
CREATE TABLE share_tracks (
    share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    PRIMARY KEY (share_id, position)
) WITHOUT ROWID;
CREATE INDEX share_tracks_track ON share_tracks(track_id);

CREATE TABLE radio_stations (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    stream_url TEXT NOT NULL,
    homepage_url TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX chat_messages_time ON chat_messages(created_at);

CREATE TABLE user_avatars (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    updated_at BIGINT NOT NULL
);
