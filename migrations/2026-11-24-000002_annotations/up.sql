-- Per-user annotations (stars, ratings, play counts) and API keys.

-- item_type: 'track', 'album', 'artist'; item_id: the row id in that table. No foreign key on
-- item_id (it points into one of three tables), so rows are removed with their item by the
-- scanner's writer; a move keeps the track id and so keeps its annotations.
CREATE TABLE annotations (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    item_type TEXT NOT NULL,
    item_id INTEGER NOT NULL,
    starred_at BIGINT,
    rating INTEGER,
    play_count BIGINT NOT NULL DEFAULT 0,
    last_played BIGINT,
    PRIMARY KEY (user_id, item_type, item_id)
) WITHOUT ROWID;
CREATE INDEX annotations_item ON annotations(item_type, item_id);
CREATE INDEX annotations_starred ON annotations(user_id, item_type, starred_at) WHERE starred_at IS NOT NULL;

-- OpenSubsonic apiKeyAuthentication: only a SHA-256 of each key is stored.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used BIGINT
);
CREATE INDEX api_keys_user ON api_keys(user_id);
