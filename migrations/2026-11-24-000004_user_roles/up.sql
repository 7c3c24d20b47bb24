-- Subsonic roles per user, the user's bitrate cap and e-mail. Defaults match what a new
-- account may do in Navidrome: play, download, make playlists, share, comment; settings
-- (own password) too. Upload, podcast and jukebox are features this server does not have.
ALTER TABLE users ADD COLUMN email TEXT;
-- kbps; 0 means no cap.
ALTER TABLE users ADD COLUMN max_bit_rate INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN settings_role BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN stream_role BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN download_role BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN playlist_role BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN cover_art_role BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN comment_role BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN share_role BOOLEAN NOT NULL DEFAULT 1;
