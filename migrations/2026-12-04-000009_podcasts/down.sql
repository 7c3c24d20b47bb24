DROP TABLE podcast_bookmarks;
DROP TABLE podcast_episodes;
DROP TABLE podcast_channels;
ALTER TABLE users DROP COLUMN podcast_role;
