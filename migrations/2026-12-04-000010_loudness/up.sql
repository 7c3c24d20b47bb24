-- Loudness the server measured (EBU R128), kept apart from the ReplayGain tags on `tracks` so
-- tags always win. One row per analysed track; the row is current only while the track's file
-- facts (size, mtime, fingerprint) and album membership are those it was measured with, so a
-- changed file, or an album that gained or lost tracks, is analysed again. A track that could
-- not be measured keeps a row with `failure` set (and no values): it is not retried until its
-- file changes.
CREATE TABLE track_loudness (
    track_id INTEGER PRIMARY KEY NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    size BIGINT NOT NULL,
    mtime BIGINT NOT NULL,
    fingerprint BIGINT NOT NULL,
    album_id INTEGER NOT NULL,
    -- how many tracks the album had when its loudness was measured
    album_tracks INTEGER NOT NULL,
    -- integrated loudness in LUFS and true peak (linear, 1.0 = full scale)
    track_lufs DOUBLE,
    track_peak DOUBLE,
    album_lufs DOUBLE,
    album_peak DOUBLE,
    failure TEXT,
    analysed_at BIGINT NOT NULL
);
