-- 009: route_keys (008) moves to a file of its own beside the database,
-- <db>-keys, written by a thread of its own (collector/store_keys.h): a
-- full table's keys go in at random places of a large B-tree, half of the
-- writer's time for four peers' tables. That file is rebuilt from routes
-- when the store opens; db_id tells it which database it indexes.
INSERT INTO meta (key, value) VALUES ('db_id', random() & 0x7fffffffffffffff);
DROP TABLE IF EXISTS route_keys;
