-- What a scan that started on an empty catalog (a bulk load) left to build once at its end
-- instead of row by row: secondary indexes its own statements do not need (`sql` is the
-- CREATE INDEX statement they were dropped with) and the full-text indexes (`sql` NULL,
-- filled from their tables). A row left behind by a scan killed in its bulk phase is built
-- at the next start or scan (db/deferred.rs).
CREATE TABLE deferred_builds (
    name TEXT PRIMARY KEY NOT NULL,
    sql TEXT
);
