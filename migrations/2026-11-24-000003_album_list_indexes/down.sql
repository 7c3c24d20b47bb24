DROP INDEX albums_year;
DROP INDEX albums_created;
