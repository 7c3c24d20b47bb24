-- Scrobbling to outside services (ListenBrainz-compatible servers, Last.fm): each user's links
-- and the durable queue of what is still to be sent. Rows are keyed by the service's id from
-- the configuration (`scrobbling.listenbrainz[].id`, or "lastfm").

CREATE TABLE scrobble_links (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    -- The ListenBrainz token or the Last.fm session key.
    credential TEXT NOT NULL,
    -- The account's name at the service, as the service reported it when linking.
    account TEXT,
    -- Last.fm: love/unlove a track when the user stars/unstars it.
    love_on_star BOOLEAN NOT NULL DEFAULT 0,
    -- Set when the service rejected the credential: nothing is sent until the user relinks
    -- (pending listens are kept and go out then).
    broken_reason TEXT,
    -- The last failure of a send that will be retried, for the status.
    last_error TEXT,
    -- Consecutive failed sends and when the next try may run (epoch ms): the backoff.
    failures INTEGER NOT NULL DEFAULT 0,
    retry_at BIGINT NOT NULL DEFAULT 0,
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, service)
) WITHOUT ROWID;

-- What is still to be sent, oldest first per (user, service). `kind` is 'listen', 'love' or
-- 'unlove'; `track` is the track's metadata as JSON, taken when it was played (so a file
-- removed later is still scrobbled as it was); `played_at` is epoch seconds.
CREATE TABLE scrobble_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,
    played_at BIGINT NOT NULL,
    track TEXT NOT NULL,
    FOREIGN KEY (user_id, service) REFERENCES scrobble_links(user_id, service) ON DELETE CASCADE
);
CREATE INDEX scrobble_queue_by_link ON scrobble_queue(user_id, service, id);
