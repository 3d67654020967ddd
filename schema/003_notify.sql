-- 003: the notification outbox. A row is written in the same transaction as
-- the alert transition that caused it (store_exec_group), then delivered by
-- the delivery thread; its results are written back through the same queue.
-- Times are microseconds since the Unix epoch (UTC).
CREATE TABLE notifications (
  id            INTEGER PRIMARY KEY,
  receiver      TEXT NOT NULL,
  group_key     TEXT NOT NULL,      -- rows of one group due together go in one request
  alert_id      INTEGER,            -- NULL for a test notification
  event         TEXT NOT NULL,      -- trigger | resolve | acknowledge | repeat | test
  alert         TEXT NOT NULL,      -- JSON snapshot of the alert at the event
  dedup_key     TEXT NOT NULL,      -- stable per alert and receiver
  created       INTEGER NOT NULL,
  not_before    INTEGER NOT NULL,   -- created + the route's group_wait
  state         TEXT NOT NULL,      -- pending | delivered | failed
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_attempt  INTEGER NOT NULL,
  last_error    TEXT,
  http_status   INTEGER,
  delivered_at  INTEGER
);
CREATE INDEX notifications_state ON notifications(state, id);
CREATE INDEX notifications_alert ON notifications(alert_id, id);
