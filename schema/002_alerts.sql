-- 002: sites, rules and the alert lifecycle. Written by the store writer
-- (queued by alerts/ on the loop thread); read by the HTTP API.
-- Times are microseconds since the Unix epoch (UTC).

-- When monitoring of a site began (drill-overdue counts from here).
CREATE TABLE site_state (
  site        TEXT PRIMARY KEY,
  first_seen  INTEGER NOT NULL
);

-- One row per alert identity (rule, site, router, peer, prefix); an
-- identity that fires again after resolving re-opens the same row and
-- counts a flap. Nothing is deleted: transitions keep the timeline.
CREATE TABLE alerts (
  id              INTEGER PRIMARY KEY,
  identity        TEXT NOT NULL UNIQUE,
  rule            TEXT NOT NULL,
  site            TEXT NOT NULL,
  router          TEXT,
  peer            TEXT,
  prefix          TEXT,
  severity        TEXT NOT NULL,
  state           TEXT NOT NULL,      -- pending | firing | resolved
  since           INTEGER NOT NULL,   -- when the current state began
  started         INTEGER NOT NULL,   -- when the current episode began (first pending)
  firing_since    INTEGER,
  resolved_at     INTEGER,
  flaps           INTEGER NOT NULL DEFAULT 0,
  summary         TEXT,
  evidence        TEXT,               -- JSON
  unknown_reason  TEXT,               -- set while the rule cannot decide (feed down, view missing)
  ack_by          TEXT,
  ack_at          INTEGER,
  ack_comment     TEXT,
  silenced_by     INTEGER,            -- the active silence that matches it, if any
  updated         INTEGER NOT NULL
);
CREATE INDEX alerts_state ON alerts(state, since);

CREATE TABLE alert_transitions (
  id          INTEGER PRIMARY KEY,
  alert_id    INTEGER NOT NULL REFERENCES alerts(id),
  time        INTEGER NOT NULL,
  from_state  TEXT,
  to_state    TEXT NOT NULL,
  note        TEXT
);
CREATE INDEX alert_transitions_alert ON alert_transitions(alert_id, time);

-- Silences: matchers (JSON object of rule/site/router/peer/prefix), a time
-- window. Deleting one expires it (expired = time), the row stays.
CREATE TABLE silences (
  id          INTEGER PRIMARY KEY,
  matchers    TEXT NOT NULL,
  starts      INTEGER NOT NULL,
  ends        INTEGER NOT NULL,
  created_by  TEXT,
  comment     TEXT,
  created     INTEGER NOT NULL,
  expired     INTEGER
);

-- Declared failover drills; the failover seen during one is its result.
CREATE TABLE drills (
  id           INTEGER PRIMARY KEY,
  site         TEXT NOT NULL,
  started      INTEGER NOT NULL,
  ends         INTEGER NOT NULL,
  declared_by  TEXT,
  comment      TEXT,
  result       TEXT                -- JSON, once a failover was seen
);

-- Every failover (ER paths gone, VPN best) and failback observed, with the
-- convergence time measured on router timestamps.
CREATE TABLE failovers (
  id           INTEGER PRIMARY KEY,
  site         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  kind         TEXT NOT NULL,      -- failover | failback
  started      INTEGER NOT NULL,   -- the previous best path went away
  converged    INTEGER,            -- the new best path was in place (NULL: never)
  duration_ms  INTEGER,
  from_path    TEXT,
  to_path      TEXT,
  drill_id     INTEGER,
  detail       TEXT                -- JSON
);
CREATE INDEX failovers_site ON failovers(site, started);
