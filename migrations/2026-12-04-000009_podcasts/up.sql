-- Podcasts: subscribed channels, their episodes (one row per GUID, kept after deletion so a
-- refresh does not bring a deleted episode back), people's bookmarks in episodes, and the
-- podcast role (admins hold every role; others get it through createUser/updateUser).
ALTER TABLE users ADD COLUMN podcast_role BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE podcast_channels (
    id INTEGER PRIMARY KEY NOT NULL,
    url TEXT NOT NULL UNIQUE,
    title TEXT,
    description TEXT,
    image_url TEXT,
    -- The channel image saved in the podcast folder (relative to it), once fetched.
    image_path TEXT,
    -- new (never fetched), downloading (being refreshed), completed, error.
    status TEXT NOT NULL DEFAULT 'new',
    error_message TEXT,
    created_at BIGINT NOT NULL,
    refreshed_at BIGINT
);

CREATE TABLE podcast_episodes (
    id INTEGER PRIMARY KEY NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES podcast_channels(id) ON DELETE CASCADE,
    guid TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    -- Epoch milliseconds, from pubDate / published / updated.
    published_at BIGINT,
    -- Seconds, from itunes:duration (the downloaded file's own duration wins once known).
    feed_duration_secs INTEGER,
    enclosure_url TEXT NOT NULL,
    enclosure_length BIGINT,
    enclosure_type TEXT,
    -- new, downloading, completed, error, skipped, deleted.
    status TEXT NOT NULL DEFAULT 'new',
    error_message TEXT,
    -- Relative to the podcast folder, once completed.
    file_path TEXT,
    -- Bytes on disk so far (progress while downloading), and expected in all when known.
    downloaded_bytes BIGINT NOT NULL DEFAULT 0,
    total_bytes BIGINT,
    -- Read from the downloaded file by the tag reader.
    suffix TEXT,
    content_type TEXT,
    duration_ms BIGINT,
    bitrate INTEGER,
    sample_rate INTEGER,
    file_mtime BIGINT,
    play_count INTEGER NOT NULL DEFAULT 0,
    played_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (channel_id, guid)
);
CREATE INDEX podcast_episodes_newest ON podcast_episodes(published_at DESC);

CREATE TABLE podcast_bookmarks (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    episode_id INTEGER NOT NULL REFERENCES podcast_episodes(id) ON DELETE CASCADE,
    position_ms BIGINT NOT NULL,
    comment TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, episode_id)
);
