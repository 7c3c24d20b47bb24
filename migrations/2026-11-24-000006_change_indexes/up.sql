-- getIndexes' lastModified is the newest change to the folder tree or its tracks: with these
-- indexes max(updated_at) is one index probe, not a scan of every track (53 ms at 100,000).
CREATE INDEX tracks_updated ON tracks(updated_at);
CREATE INDEX directories_updated ON directories(updated_at);
