-- 008: the prefix order of routes is a table of its own instead of an index
-- on routes(prefix). route_keys holds one (prefix, route id) per route, for
-- ever, like routes; only the store writer inserts into it, in prefix order,
-- and nothing updates or deletes it. The writer can then insert a batch's new
-- routes rows in id order (appended at the end of the table, full pages)
-- while their keys go into route_keys in prefix order; with the index, each
-- routes row went in at its key's place in prefix order, at a random id, and
-- a full table's rows cost a B-tree search and a shift of the leaf each.
-- Readers range-scan route_keys and look routes up by id (store_query.c).
CREATE TABLE route_keys (
  prefix  BLOB NOT NULL,
  id      INTEGER NOT NULL,
  PRIMARY KEY (prefix, id)
) WITHOUT ROWID;
INSERT INTO route_keys (prefix, id) SELECT prefix, id FROM routes ORDER BY prefix, id;
DROP INDEX IF EXISTS routes_prefix;
