-- 009: route_keys (008) moves to a file of its own beside the database,
-- <db>-keys, written by a thread of its own (collector/store_keys.h): a
-- full table's keys go in at random places of a large B-tree, half of the
-- writer's time for four peers' tables. That file is derived data: the
-- store builds it from routes when it opens (and marks both files with an
-- epoch, meta.keys_epoch, so that it knows the file is this database's).
DROP TABLE IF EXISTS route_keys;
