-- 006: IPv4 prefix keys shrink from 18 to 6 bytes (afi | 4 address bytes |
-- length; collector/common/prefix.h): IPv4 rows, the bulk of a table, and
-- their routes_prefix entries get smaller, so the index a full table is
-- inserted into spans fewer pages. pw_key_v4_compact is registered by the
-- store for this migration (SQLite 3.40 has no unhex() to do it in SQL).
UPDATE routes SET prefix = pw_key_v4_compact(prefix) WHERE length(prefix) = 18 AND substr(prefix, 1, 1) = x'01';
