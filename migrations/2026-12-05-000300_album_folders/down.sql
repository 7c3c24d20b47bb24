DROP TABLE album_folders;
