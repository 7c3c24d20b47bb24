-- Which music folders hold each album's tracks (an album tagged with an album artist or a
-- MusicBrainz id may span folders). A folder-restricted user's album lists, searches and stars
-- ask "has this album a visible track?" for every candidate album: answered here by one probe
-- of a small index rather than by reading the album's track rows (at a million tracks, 475 ms
-- for a random album list, 16 ms at 20,000). Kept by the scanner's writer for every album a
-- batch touches, in the batch's transaction.
CREATE TABLE album_folders (
    album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    folder_id INTEGER NOT NULL REFERENCES library_folders(id) ON DELETE CASCADE,
    PRIMARY KEY (album_id, folder_id)
) WITHOUT ROWID;
CREATE INDEX album_folders_folder ON album_folders(folder_id, album_id);
INSERT INTO album_folders (album_id, folder_id)
    SELECT DISTINCT album_id, folder_id FROM tracks;

-- Album views read the disc subtitles of the albums shown; few tracks have one, and without
-- this index finding them read every track row of every album on a page.
CREATE INDEX tracks_disc_subtitles ON tracks(album_id, disc_number) WHERE disc_subtitle IS NOT NULL;
