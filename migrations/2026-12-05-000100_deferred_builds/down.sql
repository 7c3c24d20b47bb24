DROP TABLE deferred_builds;
