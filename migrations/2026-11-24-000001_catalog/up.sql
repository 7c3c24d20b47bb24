-- The music catalog: folders, the real directory tree, tracks, artists, albums, genres,
-- and full-text search indexes kept in step by triggers. Times are unix milliseconds.

CREATE TABLE library_folders (
    id INTEGER PRIMARY KEY NOT NULL,
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE directories (
    id INTEGER PRIMARY KEY NOT NULL,
    folder_id INTEGER NOT NULL REFERENCES library_folders(id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES directories(id) ON DELETE CASCADE,
    -- relative to the library folder, '/'-separated; '' is the folder itself
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    mtime BIGINT NOT NULL,
    -- file name of the folder image chosen at scan time (cover.jpg, folder.png, ...)
    cover_art TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (folder_id, path)
);
CREATE INDEX directories_parent ON directories(parent_id);

CREATE TABLE artists (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- lower-cased, trimmed name: one artist row per spelling, whatever the case
    name_key TEXT NOT NULL UNIQUE,
    sort_name TEXT,
    mbid TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE albums (
    id INTEGER PRIMARY KEY NOT NULL,
    -- the grouping key (see README: album grouping); one album per key
    album_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    sort_name TEXT,
    artist_display TEXT NOT NULL,
    year INTEGER,
    original_date TEXT,
    release_date TEXT,
    mbid TEXT,
    release_group_mbid TEXT,
    compilation BOOLEAN NOT NULL DEFAULT 0,
    release_type TEXT,
    -- cover source: a folder image (directory + its cover_art) or a track's embedded picture
    cover_directory_id INTEGER REFERENCES directories(id) ON DELETE SET NULL,
    cover_track_id INTEGER REFERENCES tracks(id) ON DELETE SET NULL,
    song_count INTEGER NOT NULL DEFAULT 0,
    disc_count INTEGER NOT NULL DEFAULT 0,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    size BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE tracks (
    id INTEGER PRIMARY KEY NOT NULL,
    folder_id INTEGER NOT NULL REFERENCES library_folders(id) ON DELETE CASCADE,
    directory_id INTEGER NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    album_id INTEGER NOT NULL REFERENCES albums(id),
    -- relative to the library folder, '/'-separated
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    mtime BIGINT NOT NULL,
    suffix TEXT NOT NULL,
    content_type TEXT NOT NULL,
    codec TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    bitrate INTEGER,
    sample_rate INTEGER,
    bit_depth INTEGER,
    channels INTEGER,
    title TEXT NOT NULL,
    sort_title TEXT,
    album_name TEXT NOT NULL,
    artist_display TEXT NOT NULL,
    album_artist_display TEXT,
    track_number INTEGER,
    track_total INTEGER,
    disc_number INTEGER,
    disc_total INTEGER,
    disc_subtitle TEXT,
    year INTEGER,
    release_date TEXT,
    original_date TEXT,
    comment TEXT,
    bpm INTEGER,
    isrc TEXT,
    compilation BOOLEAN NOT NULL DEFAULT 0,
    release_type TEXT,
    label TEXT,
    grouping TEXT,
    mood TEXT,
    mb_recording_id TEXT,
    mb_track_id TEXT,
    mb_release_id TEXT,
    mb_release_group_id TEXT,
    mb_artist_id TEXT,
    mb_album_artist_id TEXT,
    rg_track_gain DOUBLE,
    rg_track_peak DOUBLE,
    rg_album_gain DOUBLE,
    rg_album_peak DOUBLE,
    lyrics TEXT,
    synced_lyrics TEXT,
    has_embedded_art BOOLEAN NOT NULL DEFAULT 0,
    -- 64-bit hash that identifies the same recording after a move or rename
    -- (see scanner/writer.rs: fingerprint)
    fingerprint BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (folder_id, path)
);
CREATE INDEX tracks_directory ON tracks(directory_id);
CREATE INDEX tracks_album ON tracks(album_id);
CREATE INDEX tracks_fingerprint ON tracks(fingerprint);

-- role: 'artist', 'albumartist', 'composer'; position keeps tag order
CREATE TABLE track_artists (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    artist_id INTEGER NOT NULL REFERENCES artists(id),
    role TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (track_id, role, position)
) WITHOUT ROWID;
CREATE INDEX track_artists_artist ON track_artists(artist_id, role);

CREATE TABLE album_artists (
    album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    artist_id INTEGER NOT NULL REFERENCES artists(id),
    role TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (album_id, role, position)
) WITHOUT ROWID;
CREATE INDEX album_artists_artist ON album_artists(artist_id, role);

CREATE TABLE genres (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE track_genres (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    genre_id INTEGER NOT NULL REFERENCES genres(id),
    position INTEGER NOT NULL,
    PRIMARY KEY (track_id, genre_id)
) WITHOUT ROWID;
CREATE INDEX track_genres_genre ON track_genres(genre_id);

CREATE TABLE album_genres (
    album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    genre_id INTEGER NOT NULL REFERENCES genres(id),
    PRIMARY KEY (album_id, genre_id)
) WITHOUT ROWID;
CREATE INDEX album_genres_genre ON album_genres(genre_id);

-- Files the scanner could not read, with why; kept so an unchanged bad file is not
-- re-read on every scan and so the web UI can list them.
CREATE TABLE scan_errors (
    id INTEGER PRIMARY KEY NOT NULL,
    folder_id INTEGER NOT NULL REFERENCES library_folders(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    mtime BIGINT NOT NULL,
    reason TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    UNIQUE (folder_id, path)
);

CREATE TABLE scans (
    id INTEGER PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    completed BOOLEAN NOT NULL DEFAULT 0,
    tracks INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    moved INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    is_admin BOOLEAN NOT NULL DEFAULT 0,
    -- hex(nonce || ChaCha20-Poly1305 ciphertext) under the key kept beside the database
    password_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Full-text search: diacritics folded, prefix indexes for search-as-you-type. The rowid is
-- the track/album/artist id. The scanner's writer keeps them in step once per batch (one
-- statement per table), not by triggers: a trigger per row makes FTS5 flush its pending
-- index at every statement, which cost a fifth of a full scan.
CREATE VIRTUAL TABLE tracks_fts USING fts5(
    title, artist, album, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE VIRTUAL TABLE albums_fts USING fts5(
    name, artist, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE VIRTUAL TABLE artists_fts USING fts5(
    name, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
