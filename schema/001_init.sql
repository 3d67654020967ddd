-- 001: the collector core. Written by the store writer thread only;
-- read by the HTTP API through read-only connections.
-- Times are microseconds since the Unix epoch (UTC).

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO meta VALUES ('history_rows', 0);

-- One BMP speaker, known by its sysName (else its address).
CREATE TABLE routers (
  id                  INTEGER PRIMARY KEY,
  name                TEXT NOT NULL UNIQUE,
  address             TEXT,
  sys_name            TEXT,
  sys_descr           TEXT,
  connected           INTEGER NOT NULL DEFAULT 0,
  connected_since     INTEGER,
  disconnected_since  INTEGER,
  last_message        INTEGER,
  sessions            INTEGER NOT NULL DEFAULT 0,
  strip_own_as        INTEGER NOT NULL DEFAULT 0,  -- FRR's eBGP AS prepend in BMP
  termination         TEXT,                        -- JSON of the last Termination
  counters            TEXT                         -- JSON message/error counters
);

-- A BGP neighbour as reported in per-peer headers.
CREATE TABLE peers (
  id            INTEGER PRIMARY KEY,
  router_id     INTEGER NOT NULL REFERENCES routers(id),
  peer_type     INTEGER NOT NULL,
  rd            INTEGER NOT NULL,
  afi           INTEGER NOT NULL,
  address       TEXT NOT NULL,
  address_bin   BLOB NOT NULL,
  asn           INTEGER NOT NULL,
  bgp_id        TEXT,
  local_asn     INTEGER NOT NULL DEFAULT 0,
  state         TEXT NOT NULL,           -- 'up' | 'down'
  up_since      INTEGER,
  down_since    INTEGER,
  down_reason   TEXT,                    -- JSON
  session_info  TEXT,                    -- JSON: ports, both OPENs decoded, info TLVs
  stats         TEXT,                    -- JSON: last Statistics Report
  n_pre         INTEGER NOT NULL DEFAULT 0,  -- live routes per view (committed)
  n_post        INTEGER NOT NULL DEFAULT 0,
  n_loc_rib     INTEGER NOT NULL DEFAULT 0,
  n_out_pre     INTEGER NOT NULL DEFAULT 0,
  n_out_post    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX peers_router ON peers(router_id);

-- Interned attribute sets (canonical form, see collector/bgp.h), written once.
CREATE TABLE attrs (
  id    INTEGER PRIMARY KEY,
  data  BLOB NOT NULL
);

-- One row per route key (peer, view, prefix, path id), ever. attr_id is the
-- live attribute set, NULL when the route is withdrawn. prefix is the
-- 18-byte key of collector/common/prefix.h: range scans give exact,
-- longer and shorter matches for IPv4 and IPv6.
CREATE TABLE routes (
  id       INTEGER PRIMARY KEY,
  peer_id  INTEGER NOT NULL REFERENCES peers(id),
  view     INTEGER NOT NULL,   -- 0 pre-policy, 1 post-policy, 2 loc-rib, 3 adj-rib-out-pre, 4 adj-rib-out-post
  prefix   BLOB NOT NULL,
  path_id  INTEGER NOT NULL,
  attr_id  INTEGER,
  since    INTEGER
);
CREATE INDEX routes_prefix ON routes(prefix);
CREATE INDEX routes_peer ON routes(peer_id, view);

-- Append-only: one row per change. action 1 announce, 2 change, 3 withdraw;
-- reason NULL, 1 peer-down, 2 resync, 3 treat-as-withdraw.
CREATE TABLE history (
  id           INTEGER PRIMARY KEY,
  route_id     INTEGER NOT NULL,
  time         INTEGER NOT NULL,   -- collector receive time
  router_time  INTEGER,            -- per-peer header time, NULL if the router gave none
  action       INTEGER NOT NULL,
  reason       INTEGER,
  attr_id      INTEGER             -- the set announced, or for a withdraw the set withdrawn
);
CREATE INDEX history_route ON history(route_id, time);
