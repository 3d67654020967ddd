/*
 * retention: prunes history older than the configured age, in small steps
 * queued from the loop to the store writer (store_exec_group), so ingest is
 * never stalled behind one big delete. See retention.h.
 *
 * History keeps answering `rib?at=T` for every T inside the window: a row
 * older than the horizon is deleted only once a later row of the same route
 * (also older than the horizon) supersedes it, so the row in force at the
 * horizon stays; a route whose last old row is a withdraw was absent at the
 * horizon, and that row goes too. Rows are examined in id order from a
 * cursor kept in `meta`, at most `window` per step; a row examined deletes
 * the row before it in its route's chain (history.prev), the rows before
 * that one having gone when it was examined. The horizon actually reached is kept in
 * `meta` ('history_kept_since'): the API refuses `at=` before it.
 */
#include "retention.h"

#include <stdlib.h>

#include "common/check.h"
#include "common/log.h"
#include "store.h"

enum { STEP_US = 1000000, MIN_WINDOW = 2000, MAX_WINDOW = 200000 };

struct retention {
	struct store *store;
	int64_t age_us;
	int64_t next_us;
	uint64_t rows_seen; /* history rows written at the last step */
};

struct retention *retention_new(struct store *store, int64_t age_ms)
{
	if (age_ms <= 0)
		return NULL;
	struct retention *r = pw_calloc(1, sizeof *r);
	r->store = store;
	r->age_us = age_ms * 1000;
	r->rows_seen = store_history_rows(store);
	return r;
}

void retention_free(struct retention *r) { free(r); }

/* The step's window: the rows after the cursor older than the horizon. */
#define WINDOW                                                                                         \
	"SELECT id, route_id, action, prev FROM history WHERE id > (SELECT value FROM meta WHERE key = 'prune_cursor')" \
	" AND id <= (SELECT value FROM meta WHERE key = 'prune_next')"

void retention_tick(struct retention *r, int64_t now_us)
{
	if (!r || now_us < r->next_us)
		return;
	r->next_us = now_us + STEP_US;
	/* keep ahead of the rows written since the last step */
	uint64_t written = store_history_rows(r->store);
	int64_t window = (int64_t)(written - r->rows_seen) * 2;
	r->rows_seen = written;
	window = window < MIN_WINDOW ? MIN_WINDOW : window > MAX_WINDOW ? MAX_WINDOW : window;
	int64_t horizon = now_us - r->age_us;
	struct store_param p[] = { SP_I(horizon), SP_I(window) };
	struct store_stmt st[] = {
		/* where this step ends: the next `window` rows by id, those older
		 * than the horizon (times follow ids: they are a prefix) */
		{ "INSERT OR REPLACE INTO meta (key, value) SELECT 'prune_next', coalesce(max(id),"
		  " (SELECT value FROM meta WHERE key = 'prune_cursor')) FROM (SELECT id, time FROM history"
		  " WHERE id > (SELECT value FROM meta WHERE key = 'prune_cursor') ORDER BY id LIMIT ?2) WHERE time < ?1",
		  p, 2 },
		{ "INSERT OR REPLACE INTO meta (key, value) SELECT 'prune_count', count(*) FROM (" WINDOW ")", NULL, 0 },
		/* rows superseded by a row examined in this step: each row's
		 * predecessor in its route's chain (earlier steps took the
		 * rows before that one, when it was examined) */
		{ "DELETE FROM history WHERE id IN (SELECT h.id FROM (" WINDOW ") w JOIN history h"
		  " ON h.id = w.prev AND h.route_id = w.route_id)",
		  NULL, 0 },
		/* withdraws that are their route's newest row: absent at the horizon */
		{ "DELETE FROM history WHERE id IN (SELECT w.id FROM (" WINDOW ") w JOIN routes r ON r.id = w.route_id"
		  " WHERE w.action = 3 AND r.hist = w.id)",
		  NULL, 0 },
		{ "UPDATE meta SET value = (SELECT value FROM meta WHERE key = 'prune_next') WHERE key = 'prune_cursor'",
		  NULL, 0 },
		/* the horizon reached when the window was not full: no older row is left */
		{ "UPDATE meta SET value = ?1 WHERE key = 'history_kept_since'"
		  " AND (SELECT value FROM meta WHERE key = 'prune_count') < ?2",
		  p, 2 },
		/* the plots' series: plain age */
		{ "DELETE FROM series_prefixes WHERE rowid IN (SELECT rowid FROM series_prefixes WHERE t < ?1 LIMIT ?2)", p, 2 },
		{ "DELETE FROM series_updates WHERE rowid IN (SELECT rowid FROM series_updates WHERE t < ?1 LIMIT ?2)", p, 2 },
	};
	store_exec_group(r->store, st, (int)(sizeof st / sizeof st[0]));
}
