-- 004: time series behind the dashboard's plots and the prefix history's
-- "best path over time". Written by the store writer thread only, queued
-- from the loop (collector/series.c samples, alerts/alerts.c best paths);
-- read by the HTTP API (/api/v1/series/*). Times in microseconds (UTC).

-- Live routes per peer and view, sampled every series interval; a row only
-- when the count differs from the last row of its (peer, view): the value
-- holds until the next row.
CREATE TABLE series_prefixes (
  t         INTEGER NOT NULL,
  peer_id   INTEGER NOT NULL,          -- peers.id
  view      INTEGER NOT NULL,          -- 0 pre-policy .. 4 adj-rib-out-post
  prefixes  INTEGER NOT NULL
);
CREATE INDEX series_prefixes_key ON series_prefixes(peer_id, view, t);
CREATE INDEX series_prefixes_t ON series_prefixes(t);

-- BGP UPDATEs (BMP Route Monitoring messages) per router in each sampling
-- interval that had any, plus the first quiet interval after (a zero), so a
-- missing interval means no update.
CREATE TABLE series_updates (
  t          INTEGER NOT NULL,         -- end of the interval
  router_id  INTEGER NOT NULL,         -- routers.id
  seconds    REAL NOT NULL,            -- length of the interval
  updates    INTEGER NOT NULL
);
CREATE INDEX series_updates_key ON series_updates(router_id, t);
CREATE INDEX series_updates_t ON series_updates(t);

-- Per site and Azure prefix: which path was best from t on (a row on every
-- change of the kind or of the winning session).
CREATE TABLE best_paths (
  t           INTEGER NOT NULL,
  site        TEXT NOT NULL,
  prefix      TEXT NOT NULL,
  best        TEXT NOT NULL,           -- er | vpn | none | unknown
  peer        TEXT,                    -- the winning session's address
  decided_by  TEXT                     -- how (loc-rib, best-path step) or why unknown
);
CREATE INDEX best_paths_key ON best_paths(prefix, t);

-- Retention (collector/retention.c): the pruning cursor in history and the
-- horizon reached (`rib?at=` before it is refused: its history is gone).
INSERT INTO meta VALUES ('prune_cursor', 0), ('prune_next', 0), ('prune_count', 0), ('history_kept_since', 0);
