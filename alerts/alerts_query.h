/*
 * alerts_query: the read side of alerts/ for the HTTP API (any HTTP
 * thread, its own read-only connection). Committed state from SQLite.
 */
#ifndef PW_ALERTS_QUERY_H
#define PW_ALERTS_QUERY_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

/* state/site/rule may be NULL; cursor is the last id of the previous page. */
json_t *alerts_q_list(sqlite3 *db, const char *state, const char *site, const char *rule, int limit, int64_t cursor,
		      char *err, size_t n);
/* One alert with its timeline; NULL and *found = 0 if there is none. */
json_t *alerts_q_get(sqlite3 *db, int64_t id, int *found, char *err, size_t n);
json_t *alerts_q_silences(sqlite3 *db, int64_t now_us, char *err, size_t n);
json_t *alerts_q_failovers(sqlite3 *db, const char *site, const char *prefix, int limit, char *err, size_t n);
/* Per site and Azure prefix, the best path over [from, to]:
 * {"series":[{"site","prefix","points":[[time, best, peer, decided_by]]}]},
 * the first point being the path in force at `from`. */
json_t *alerts_q_best_paths(sqlite3 *db, const char *prefix, const char *site, int64_t from_us, int64_t to_us,
			    char *err, size_t n);
json_t *alerts_q_drills(sqlite3 *db, const char *site, char *err, size_t n);
/* The delivery log (no payloads, no secrets). */
json_t *alerts_q_notifications(sqlite3 *db, const char *receiver, const char *state, int64_t alert_id, int limit,
			       char *err, size_t n);

#endif
