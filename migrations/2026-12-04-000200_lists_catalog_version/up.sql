-- The catalog's version: raised in every transaction that changes the catalog (the scanner's
-- writer calls library::cache::catalog_changed once per batch; music folders coming, going or
-- renamed raise it here), so answers cached in memory (library/cache.rs) are used only by
-- reads of the very state they were built from.
CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO catalog_version (id, n) VALUES (1, 0);

CREATE TRIGGER catalog_version_folder_added AFTER INSERT ON library_folders
BEGIN UPDATE catalog_version SET n = n + 1; END;
CREATE TRIGGER catalog_version_folder_changed AFTER UPDATE ON library_folders
BEGIN UPDATE catalog_version SET n = n + 1; END;
CREATE TRIGGER catalog_version_folder_removed AFTER DELETE ON library_folders
BEGIN UPDATE catalog_version SET n = n + 1; END;
