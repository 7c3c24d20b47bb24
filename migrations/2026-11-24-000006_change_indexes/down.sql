DROP INDEX directories_updated;
DROP INDEX tracks_updated;
