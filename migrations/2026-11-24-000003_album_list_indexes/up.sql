-- Indexes for the album lists that order the whole albums table (newest, byYear), so deep
-- pages do not sort every album.
CREATE INDEX albums_created ON albums(created_at, id);
CREATE INDEX albums_year ON albums(year, id);
