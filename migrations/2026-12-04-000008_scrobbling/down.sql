DROP TABLE scrobble_queue;
DROP TABLE scrobble_links;
