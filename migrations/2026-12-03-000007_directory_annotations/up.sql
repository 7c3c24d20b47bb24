-- Folder-mode stars and ratings: star, unstar and setRating with a directory id ("dir-N", an
-- album or artist folder of getIndexes/getMusicDirectory) are kept in `annotations` with
-- item_type 'directory' and item_id = directories.id. The scanner's writer removes the
-- annotations of the tracks, albums and artists it deletes; a directory's go with its row.
CREATE TRIGGER directories_drop_annotations AFTER DELETE ON directories
BEGIN
    DELETE FROM annotations WHERE item_type = 'directory' AND item_id = OLD.id;
END;
