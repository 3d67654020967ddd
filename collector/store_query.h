/*
 * store_query: the store's read API (stage ⑤, read side). Called from the
 * HTTP threads, each with its own read-only SQLite connection (WAL: readers
 * never block the writer). Answers are jansson objects owned by the caller.
 * Everything served here is committed state; /api/v1/status says how much
 * is still queued (store_pending).
 */
#ifndef PW_STORE_QUERY_H
#define PW_STORE_QUERY_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/prefix.h"

struct filter_index;

sqlite3 *store_reader_open(const char *path, char *err, size_t n);

enum store_match { STORE_MATCH_EXACT, STORE_MATCH_LONGER, STORE_MATCH_SHORTER };

struct store_route_filter {
	const char *router;          /* name, or NULL */
	const char *peer;            /* address text, or NULL */
	int view;                    /* enum bmp_view, or -1 for all */
	bool has_prefix;
	struct pw_prefix prefix;
	enum store_match match;
	const char *as_path;         /* route_filter.h pattern, or NULL (rib only) */
	const char *community;       /* route_filter.h pattern, or NULL (rib only) */
};

struct store_rib_query {
	struct store_route_filter f;
	int limit;
	const char *cursor;          /* opaque, from a previous answer's "next" */
	bool has_at;
	int64_t at_us;               /* RIB as of this time, from history */
};

struct store_history_query {
	struct store_route_filter f;
	int limit;
	const char *cursor;
	bool has_from, has_to;
	int64_t from_us, to_us;
	bool newest_first;
};

/* Each returns a new object (the pages below: its JSON text, malloc'd), or
 * NULL with err set; *bad_param is set to the parameter's name when the
 * fault is the caller's (e.g. a bad cursor). */
json_t *store_q_routers(sqlite3 *db, char *err, size_t n);
json_t *store_q_peers(sqlite3 *db, const char *router, char *err, size_t n);
/* The oldest time history still answers for (0: nothing pruned). */
int64_t store_q_kept_since(sqlite3 *db);
/* fx: the process's filter index (filter_index.h), or NULL to walk. */
char *store_q_rib(sqlite3 *db, struct filter_index *fx, const struct store_rib_query *q, const char **bad_param,
		    char *err, size_t n);
char *store_q_history(sqlite3 *db, const struct store_history_query *q, const char **bad_param, char *err,
			size_t n);
/* The /rib cursor: the hex of the last row's prefix key, ".", its route id
 * (routes.id, below 10^18). Parse accepts exactly what format writes. */
#define STORE_RIB_CURSOR_LEN (2 * PW_PREFIX_KEY_LEN + 24)
int store_rib_cursor_parse(const char *c, uint8_t key[PW_PREFIX_KEY_LEN], size_t *klen, int64_t *id);
void store_rib_cursor_format(const uint8_t *key, size_t klen, int64_t id, char *buf, size_t n);

/* Counts for /api/v1/status: routers, routers_connected, peers, peers_up. */
int store_q_counts(sqlite3 *db, int64_t out[4]);

#endif
