/*
 * series: samples the live RIB for the dashboard's plots (loop thread) and
 * answers the plot queries (HTTP threads). See series.h.
 *
 * Sampling writes only what changed, so a quiet collector adds no rows:
 * a (peer, view) count is written when it differs from the last one written,
 * a router's update count when its interval had updates (and once more, as
 * a zero, when it goes quiet).
 */
#include "series.h"

#include <stdlib.h>
#include <string.h>

#include "bmp.h"
#include "common/check.h"
#include "common/prefix.h"
#include "rib.h"
#include "store.h"

enum { UNSET = -1 };

struct series {
	struct rib *rib;
	struct store *store;
	int64_t interval_us;
	int64_t last_us;        /* last sample, 0: none yet */
	int64_t *peer_last;     /* [peer id * BMP_VIEWS + view]: last count written */
	uint32_t peer_cap;      /* peers covered */
	struct router_last {
		int64_t messages; /* Route Monitoring counter at the last sample, UNSET */
		bool active;      /* the last interval had updates (a zero is due) */
	} *router_last;
	uint32_t router_cap;
};

struct series *series_new(struct rib *rib, struct store *store, int64_t interval_ms)
{
	struct series *s = pw_calloc(1, sizeof *s);
	s->rib = rib;
	s->store = store;
	s->interval_us = interval_ms * 1000;
	return s;
}

void series_free(struct series *s)
{
	if (!s)
		return;
	free(s->peer_last);
	free(s->router_last);
	free(s);
}

/* Grows an array of `size`-byte elements to cover index `need`, filling
 * new elements with 0xff bytes (UNSET / -1). */
static void *grow(void *arr, uint32_t *cap, uint32_t need, size_t size)
{
	if (need < *cap)
		return arr;
	uint32_t ncap = *cap ? *cap : 16;
	while (ncap <= need)
		ncap *= 2;
	arr = pw_realloc(arr, (size_t)ncap * size);
	memset((char *)arr + (size_t)*cap * size, 0xff, (size_t)(ncap - *cap) * size);
	*cap = ncap;
	return arr;
}

static void sample_peers(struct series *s, int64_t now)
{
	struct rib *rib = s->rib;
	for (uint32_t id = 0; id < rib->cap_peers_by_id; id++) {
		const struct rib_peer *p = rib->peers_by_id[id];
		if (!p)
			continue;
		s->peer_last = grow(s->peer_last, &s->peer_cap, id, BMP_VIEWS * sizeof *s->peer_last);
		for (int v = 0; v < BMP_VIEWS; v++) {
			int64_t *last = &s->peer_last[(size_t)id * BMP_VIEWS + v];
			int64_t n = p->views[v].live;
			/* a view the router never exported stays out of the plots */
			if (n == *last || (*last == UNSET && !n && !(p->views_seen & (1u << v))))
				continue;
			*last = n;
			struct store_param prm[] = { SP_I(now), SP_I(id), SP_I(v), SP_I(n) };
			store_exec(s->store, "INSERT INTO series_prefixes (t, peer_id, view, prefixes) VALUES (?1,?2,?3,?4)",
				   prm, 4);
		}
	}
}

static void sample_routers(struct series *s, int64_t now)
{
	double seconds = s->last_us ? (double)(now - s->last_us) / 1e6 : 0;
	for (uint32_t i = 0; i < s->rib->n_routers; i++) {
		const struct rib_router *r = s->rib->routers[i];
		s->router_last = grow(s->router_last, &s->router_cap, r->id, sizeof *s->router_last);
		struct router_last *l = &s->router_last[r->id];
		int64_t cur = (int64_t)r->counters[RC_ROUTE_MONITORING];
		if (!s->last_us) { /* baseline: counters restored from the database */
			l->messages = cur;
			l->active = false;
			continue;
		}
		if (l->messages == UNSET) /* a router new since the first sample counts from zero */
			l->messages = 0;
		int64_t delta = cur >= l->messages ? cur - l->messages : cur; /* counters restart with the process */
		l->messages = cur;
		if (!delta && !l->active)
			continue;
		l->active = delta > 0;
		char sec[32];
		snprintf(sec, sizeof sec, "%.3f", seconds);
		struct store_param prm[] = { SP_I(now), SP_I(r->id), SP_T(sec), SP_I(delta) };
		store_exec(s->store,
			   "INSERT INTO series_updates (t, router_id, seconds, updates) VALUES (?1,?2,CAST(?3 AS REAL),?4)",
			   prm, 4);
	}
}

void series_tick(struct series *s, int64_t now_us)
{
	if (s->last_us && now_us - s->last_us < s->interval_us)
		return;
	sample_peers(s, now_us);
	sample_routers(s, now_us);
	s->last_us = now_us;
}

/* ------------------------------------------------------------ queries */

static json_t *fail(sqlite3 *db, sqlite3_stmt *st, char *err, size_t n)
{
	snprintf(err, n, "query failed: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return NULL;
}

static json_t *time_json(int64_t us)
{
	char b[PW_TIMESTRLEN];
	pw_time_format(us, b, sizeof b);
	return json_string(b);
}

static json_t *answer(const struct series_query *q, json_t *series)
{
	return json_pack("{s:o,s:o,s:o}", "from", time_json(q->from_us), "to", time_json(q->to_us), "series", series);
}

static int64_t bucket_width(const struct series_query *q)
{
	int64_t w = (q->to_us - q->from_us) / (q->points > 0 ? q->points : 1);
	return w > 0 ? w : 1;
}

/* One bucket of a prefix-count series: its lowest, highest and last rows,
 * so a dip or a spike shorter than the bucket still shows. */
struct bucket {
	int64_t n;
	struct { int64_t t, v; } lo, hi, last;
};

static void bucket_flush(struct bucket *b, json_t *points)
{
	if (!b->n)
		return;
	int64_t ts[3] = { b->lo.t, b->hi.t, b->last.t }, vs[3] = { b->lo.v, b->hi.v, b->last.v };
	for (int i = 0; i < 3; i++) { /* in time order, each row once */
		int k = -1;
		for (int j = 0; j < 3; j++)
			if (ts[j] >= 0 && (k < 0 || ts[j] < ts[k]))
				k = j;
		if (k < 0)
			break;
		json_array_append_new(points, json_pack("[o,I]", time_json(ts[k]), (json_int_t)vs[k]));
		for (int j = 0; j < 3; j++)
			if (j != k && ts[j] == ts[k])
				ts[j] = -1;
		ts[k] = -1;
	}
	b->n = 0;
}

/* Appends one (peer, view) series: the value in force at `from`, then per
 * bucket the rows of its lowest, highest and last values. */
static int peer_view_points(sqlite3_stmt *before, sqlite3_stmt *range, int64_t id, int v,
			    const struct series_query *q, json_t *points)
{
	int64_t w = bucket_width(q);
	sqlite3_bind_int64(before, 1, id);
	sqlite3_bind_int(before, 2, v);
	sqlite3_bind_int64(before, 3, q->from_us);
	if (sqlite3_step(before) == SQLITE_ROW)
		json_array_append_new(points, json_pack("[o,I]", time_json(q->from_us),
							(json_int_t)sqlite3_column_int64(before, 0)));
	int rc = sqlite3_reset(before);
	sqlite3_bind_int64(range, 1, id);
	sqlite3_bind_int(range, 2, v);
	sqlite3_bind_int64(range, 3, q->from_us);
	sqlite3_bind_int64(range, 4, q->to_us);
	struct bucket b = { 0 };
	int64_t cur = -1;
	while (sqlite3_step(range) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(range, 0), val = sqlite3_column_int64(range, 1);
		if ((t - q->from_us) / w != cur) {
			bucket_flush(&b, points);
			cur = (t - q->from_us) / w;
		}
		if (!b.n++ || val < b.lo.v)
			b.lo.t = t, b.lo.v = val;
		if (b.n == 1 || val > b.hi.v)
			b.hi.t = t, b.hi.v = val;
		b.last.t = t, b.last.v = val;
	}
	bucket_flush(&b, points);
	int rc2 = sqlite3_reset(range);
	return rc != SQLITE_OK ? rc : rc2;
}

json_t *series_q_prefixes(sqlite3 *db, const struct series_query *q, char *err, size_t n)
{
	sqlite3_stmt *peers = NULL, *before = NULL, *range = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT p.id, ro.name, p.address, p.peer_type, p.asn FROM peers p JOIN routers ro ON ro.id = p.router_id"
			       " WHERE (?1 IS NULL OR ro.name = ?1) AND (?2 IS NULL OR p.address = ?2)"
			       " ORDER BY ro.name, p.afi, p.address_bin, p.peer_type",
			       -1, &peers, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT prefixes FROM series_prefixes WHERE peer_id = ?1 AND view = ?2 AND t < ?3"
			       " ORDER BY t DESC LIMIT 1",
			       -1, &before, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT t, prefixes FROM series_prefixes WHERE peer_id = ?1 AND view = ?2 AND t >= ?3 AND t <= ?4"
			       " ORDER BY t",
			       -1, &range, NULL) != SQLITE_OK) {
		sqlite3_finalize(before);
		sqlite3_finalize(peers);
		return fail(db, range, err, n);
	}
	if (q->router)
		sqlite3_bind_text(peers, 1, q->router, -1, SQLITE_STATIC);
	if (q->peer)
		sqlite3_bind_text(peers, 2, q->peer, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	int rc = SQLITE_OK;
	while (rc == SQLITE_OK && sqlite3_step(peers) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(peers, 0);
		int pt = sqlite3_column_int(peers, 3);
		for (int v = 0; v < BMP_VIEWS && rc == SQLITE_OK; v++) {
			if (q->view >= 0 && v != q->view)
				continue;
			json_t *points = json_array();
			rc = peer_view_points(before, range, id, v, q, points);
			if (!json_array_size(points)) {
				json_decref(points);
				continue;
			}
			json_array_append_new(
				arr, json_pack("{s:s,s:s,s:s,s:I,s:s,s:o}", "router", (const char *)sqlite3_column_text(peers, 1),
					       "peer", (const char *)sqlite3_column_text(peers, 2), "peer_type",
					       bmp_peer_type_name(pt), "asn",
					       (json_int_t)sqlite3_column_int64(peers, 4), "view",
					       bmp_view_name((enum bmp_view)v), "points", points));
		}
	}
	if (rc != SQLITE_OK || sqlite3_reset(peers) != SQLITE_OK) {
		json_decref(arr);
		sqlite3_finalize(before);
		sqlite3_finalize(range);
		return fail(db, peers, err, n);
	}
	sqlite3_finalize(before);
	sqlite3_finalize(range);
	sqlite3_finalize(peers);
	return answer(q, arr);
}

static int64_t bucket_end(const struct series_query *q, int64_t bucket, int64_t w)
{
	int64_t end = q->from_us + (bucket + 1) * w;
	return end < q->to_us ? end : q->to_us;
}

static void append_rate(json_t *points, int64_t t, int64_t updates, double seconds)
{
	json_array_append_new(points, json_pack("[o,f,f]", time_json(t), seconds > 0 ? (double)updates / seconds : 0.0, seconds));
}

json_t *series_q_updates(sqlite3 *db, const struct series_query *q, char *err, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT ro.name, u.t, u.seconds, u.updates FROM series_updates u JOIN routers ro ON ro.id = u.router_id"
			       " WHERE (?1 IS NULL OR ro.name = ?1) AND u.t > ?2 AND u.t <= ?3 ORDER BY ro.name, u.t",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(db, NULL, err, n);
	if (q->router)
		sqlite3_bind_text(st, 1, q->router, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, q->from_us);
	sqlite3_bind_int64(st, 3, q->to_us);
	int64_t w = bucket_width(q);
	json_t *arr = json_array(), *points = NULL;
	char router[256] = "";
	/* A row at least a bucket long is a point of its own; shorter rows are
	 * summed per bucket and divided by the bucket's width. */
	int64_t bucket = -1, sum = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int64_t t = sqlite3_column_int64(st, 1), updates = sqlite3_column_int64(st, 3);
		double secs = sqlite3_column_double(st, 2);
		int64_t b = (t - q->from_us - 1) / w;
		bool new_router = strcmp(name, router) != 0;
		if (bucket >= 0 && (new_router || b != bucket || secs * 1e6 >= (double)w)) {
			append_rate(points, bucket_end(q, bucket, w), sum, (double)w / 1e6);
			bucket = -1;
			sum = 0;
		}
		if (new_router) {
			snprintf(router, sizeof router, "%s", name);
			points = json_array();
			json_array_append_new(arr, json_pack("{s:s,s:o}", "router", name, "points", points));
		}
		if (secs * 1e6 >= (double)w) {
			append_rate(points, t, updates, secs);
		} else {
			bucket = b;
			sum += updates;
		}
	}
	if (bucket >= 0)
		append_rate(points, bucket_end(q, bucket, w), sum, (double)w / 1e6);
	if (step != SQLITE_DONE) {
		json_decref(arr);
		return fail(db, st, err, n);
	}
	sqlite3_finalize(st);
	return answer(q, arr);
}
