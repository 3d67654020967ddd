-- 007: each route's history is a chain instead of an index. A history row
-- names the route's previous row (prev), and the route names its newest
-- (routes.hist). The (route_id, time) index goes: under churn each change
-- inserted an entry at a random place in it (one random page written per
-- change besides the routes row), and a commit slowed as history grew.
-- Readers walk the chain back from routes.hist by row id (rib?at=, history
-- of a prefix); a walk ends at a NULL prev or at a row that is gone
-- (pruned) or belongs to another route.
ALTER TABLE history ADD COLUMN prev INTEGER;
ALTER TABLE routes ADD COLUMN hist INTEGER;
UPDATE history SET prev = (SELECT max(p.id) FROM history p WHERE p.route_id = history.route_id AND p.id < history.id);
UPDATE routes SET hist = (SELECT max(h.id) FROM history h WHERE h.route_id = routes.id);
DROP INDEX history_route;
