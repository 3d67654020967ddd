-- 005: routes_peer (peer_id, view) was never used by a query (the API walks
-- routes_prefix, live counts are in peers.n_*), yet every new route key paid
-- for an insert into it: about a fifth of the B-tree work of a full table.
DROP INDEX IF EXISTS routes_peer;
