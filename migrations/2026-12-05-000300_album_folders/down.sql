DROP TABLE album_folders;
DROP INDEX tracks_disc_subtitles;
