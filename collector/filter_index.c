/*
 * filter_index: candidate routes for the RIB browser's attribute filters,
 * from committed rows, for store_query.c. See filter_index.h.
 *
 * Tokens are 64-bit keys: a type in the top 4 bits, the value below. Each
 * token's posting list holds attribute set ids; a set's tokens are posted
 * together, so a repeated token (an AS prepended three times) is posted
 * once by looking at the list's last id. A page
 * takes the rarest of its pattern's tokens (every one of them is required),
 * marks that list's sets in a bitmap and scans the route array for routes
 * whose live set is marked.
 */
#include "filter_index.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "common/check.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/mono.h"
#include "common/rbuf.h"
#include "rib_event.h"

enum { T_ASN = 1, T_COMM, T_COMM_HI, T_LARGE, T_LARGE_GA };

static uint64_t token(uint64_t type, uint64_t v) { return type << 60 | (v & ((1ULL << 60) - 1)); }

static uint64_t large_token(const uint32_t g[3])
{
	return token(T_LARGE, pw_mix64((uint64_t)g[0] << 32 | g[1]) ^ g[2]);
}

struct plist {
	uint32_t *ids; /* attribute set ids, ascending */
	uint32_t n, cap;
};

struct filter_index {
	pthread_mutex_t mu;
	bool built;
	uint64_t *indexed;    /* by attribute set id: its tokens are posted */
	size_t indexed_words, n_indexed, live_at_build;
	uint32_t attr_max;    /* the highest set id posted */
	sqlite3_stmt *attr_by_id; /* while following history */
	uint64_t *live;       /* while building: the sets routes hold */
	size_t live_words;
	int follow_rc;
	uint64_t *keys;       /* token table, open addressing; 0 is empty */
	uint32_t *slot_list;  /* the slot's index in lists */
	size_t slots, used;
	struct plist *lists;
	size_t n_lists, cap_lists, list_bytes;
	int64_t hist_last;    /* the highest history id applied */
	uint32_t *route_attr; /* by route id: its live set, 0 when withdrawn */
	size_t route_n, route_cap;
	_Atomic size_t bytes; /* read by /metrics without the mutex */
};

struct filter_index *fidx_new(void)
{
	struct filter_index *fx = pw_calloc(1, sizeof *fx);
	pthread_mutex_init(&fx->mu, NULL);
	return fx;
}

/* Back to unbuilt, holding nothing. */
static void reset(struct filter_index *fx)
{
	for (size_t i = 0; i < fx->n_lists; i++)
		free(fx->lists[i].ids);
	free(fx->lists);
	free(fx->keys);
	free(fx->slot_list);
	free(fx->route_attr);
	free(fx->indexed);
	fx->built = false;
	fx->indexed = NULL;
	fx->indexed_words = fx->n_indexed = fx->live_at_build = 0;
	fx->attr_max = 0;
	fx->keys = NULL;
	fx->slot_list = NULL;
	fx->slots = fx->used = 0;
	fx->lists = NULL;
	fx->n_lists = fx->cap_lists = fx->list_bytes = 0;
	fx->hist_last = 0;
	fx->route_attr = NULL;
	fx->route_n = fx->route_cap = 0;
	atomic_store(&fx->bytes, 0);
}

void fidx_free(struct filter_index *fx)
{
	if (!fx)
		return;
	reset(fx);
	pthread_mutex_destroy(&fx->mu);
	free(fx);
}

size_t fidx_bytes(struct filter_index *fx) { return atomic_load(&fx->bytes); }

static void count_bytes(struct filter_index *fx)
{
	atomic_store(&fx->bytes, fx->slots * (sizeof *fx->keys + sizeof *fx->slot_list) +
					 fx->cap_lists * sizeof *fx->lists + fx->list_bytes +
					 fx->route_cap * sizeof *fx->route_attr + fx->indexed_words * sizeof *fx->indexed);
}

/* ------------------------------------------------------------ tokens */

static void grow_table(struct filter_index *fx)
{
	size_t slots = fx->slots ? 2 * fx->slots : 1024;
	uint64_t *keys = pw_calloc(slots, sizeof *keys);
	uint32_t *sl = pw_malloc(slots * sizeof *sl);
	for (size_t i = 0; i < fx->slots; i++) {
		if (!fx->keys[i])
			continue;
		size_t j = pw_mix64(fx->keys[i]) & (slots - 1);
		while (keys[j])
			j = (j + 1) & (slots - 1);
		keys[j] = fx->keys[i];
		sl[j] = fx->slot_list[i];
	}
	free(fx->keys);
	free(fx->slot_list);
	fx->keys = keys;
	fx->slot_list = sl;
	fx->slots = slots;
}

static struct plist *list_find(const struct filter_index *fx, uint64_t key)
{
	if (!fx->slots)
		return NULL;
	for (size_t i = pw_mix64(key) & (fx->slots - 1); fx->keys[i]; i = (i + 1) & (fx->slots - 1))
		if (fx->keys[i] == key)
			return &fx->lists[fx->slot_list[i]];
	return NULL;
}

static void post(struct filter_index *fx, uint64_t key, uint32_t attr_id)
{
	struct plist *l = list_find(fx, key);
	if (!l) {
		if ((fx->used + 1) * 10 > fx->slots * 7)
			grow_table(fx);
		size_t i = pw_mix64(key) & (fx->slots - 1);
		while (fx->keys[i])
			i = (i + 1) & (fx->slots - 1);
		if (fx->n_lists == fx->cap_lists) {
			fx->cap_lists = fx->cap_lists ? 2 * fx->cap_lists : 1024;
			fx->lists = pw_realloc(fx->lists, fx->cap_lists * sizeof *fx->lists);
		}
		fx->keys[i] = key;
		fx->slot_list[i] = (uint32_t)fx->n_lists;
		fx->used++;
		l = &fx->lists[fx->n_lists++];
		memset(l, 0, sizeof *l);
	}
	if (l->n && l->ids[l->n - 1] == attr_id)
		return; /* already posted for this set */
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap + l->cap / 2 + 1 : 2;
		l->ids = pw_realloc(l->ids, cap * sizeof *l->ids);
		fx->list_bytes += (cap - l->cap) * sizeof *l->ids;
		l->cap = cap;
	}
	l->ids[l->n++] = attr_id;
}

/* The tokens of one stored (canonical) attribute set. */
static void add_attrs(struct filter_index *fx, uint32_t id, const uint8_t *data, size_t len)
{
	uint32_t path[256];
	int n = bgp_attrs_as_path(data, len, path, 256); /* as route_filter.c reads it */
	for (int i = 0; i < n; i++)
		post(fx, token(T_ASN, path[i]), id);
	struct rbuf v;
	uint32_t c, g[3];
	if (bgp_attrs_find(data, len, BGP_ATTR_COMMUNITIES, &v))
		while (!rbuf_u32(&v, &c)) {
			post(fx, token(T_COMM, c), id);
			post(fx, token(T_COMM_HI, c >> 16), id);
		}
	if (bgp_attrs_find(data, len, BGP_ATTR_LARGE_COMMUNITIES, &v))
		while (!rbuf_u32(&v, &g[0]) && !rbuf_u32(&v, &g[1]) && !rbuf_u32(&v, &g[2])) {
			post(fx, large_token(g), id);
			post(fx, token(T_LARGE_GA, g[0]), id);
		}
}

/* The tokens every match must hold; how many. */
static int pattern_tokens(const struct rf_as_path *ap, const struct rf_community *cm, uint64_t *out)
{
	int n = 0;
	for (int i = 0; ap && i < ap->n; i++)
		out[n++] = token(T_ASN, ap->asn[i]);
	if (cm && !cm->large) {
		if (!cm->any[0] && !cm->any[1])
			out[n++] = token(T_COMM, cm->v[0] << 16 | cm->v[1]);
		else if (!cm->any[0])
			out[n++] = token(T_COMM_HI, cm->v[0]);
	} else if (cm) {
		if (!cm->any[0] && !cm->any[1] && !cm->any[2])
			out[n++] = large_token(cm->v);
		else if (!cm->any[0])
			out[n++] = token(T_LARGE_GA, cm->v[0]);
	}
	return n;
}

/* ------------------------------------------------------------ routes */

/* Room for route ids below `cap`, zeroed. */
static void reserve_routes(struct filter_index *fx, size_t cap)
{
	if (cap <= fx->route_cap)
		return;
	fx->route_attr = pw_realloc(fx->route_attr, cap * sizeof *fx->route_attr);
	memset(fx->route_attr + fx->route_cap, 0, (cap - fx->route_cap) * sizeof *fx->route_attr);
	fx->route_cap = cap;
}

static void set_route(struct filter_index *fx, int64_t route_id, int64_t attr_id)
{
	if (route_id <= 0 || route_id > UINT32_MAX)
		return;
	size_t r = (size_t)route_id;
	if (r >= fx->route_cap)
		reserve_routes(fx, r + r / 4 + 1024);
	if (r >= fx->route_n)
		fx->route_n = r + 1;
	fx->route_attr[r] = attr_id > 0 && attr_id <= UINT32_MAX ? (uint32_t)attr_id : 0;
}

/* ------------------------------------------------------------ sync */

static int fail(sqlite3 *db, sqlite3_stmt *s, char *err, size_t errn)
{
	snprintf(err, errn, "filter index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return -1;
}

/* Runs `sql` (its ?1 and ?2, if it has them, bound to a and b) and hands
 * each row to fn. */
static int each_row(struct filter_index *fx, sqlite3 *db, const char *sql, int64_t a, int64_t b,
		    void (*fn)(struct filter_index *, sqlite3_stmt *), char *err, size_t errn)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return fail(db, NULL, err, errn);
	if (sqlite3_bind_parameter_count(s) >= 1)
		sqlite3_bind_int64(s, 1, a);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, b);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(fx, s);
	if (rc != SQLITE_DONE)
		return fail(db, s, err, errn);
	sqlite3_finalize(s);
	return 0;
}

static bool is_indexed(const struct filter_index *fx, uint32_t a)
{
	return a / 64 < fx->indexed_words && fx->indexed[a / 64] >> (a % 64) & 1;
}

static void index_attrs(struct filter_index *fx, sqlite3_stmt *s)
{
	int64_t id = sqlite3_column_int64(s, 0);
	if (id <= 0 || id > UINT32_MAX || is_indexed(fx, (uint32_t)id))
		return; /* ids past 2^32 are beyond any RIB this runs; never posted */
	uint32_t a = (uint32_t)id;
	add_attrs(fx, a, sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1));
	if (a / 64 >= fx->indexed_words) {
		size_t words = a / 64 + a / 256 + 64;
		fx->indexed = pw_realloc(fx->indexed, words * sizeof *fx->indexed);
		memset(fx->indexed + fx->indexed_words, 0, (words - fx->indexed_words) * sizeof *fx->indexed);
		fx->indexed_words = words;
	}
	fx->indexed[a / 64] |= 1ULL << (a % 64);
	fx->n_indexed++;
	if (a > fx->attr_max)
		fx->attr_max = a;
}

static void row_live_attrs(struct filter_index *fx, sqlite3_stmt *s)
{
	int64_t id = sqlite3_column_int64(s, 0);
	if (id > 0 && (uint64_t)id / 64 < fx->live_words && fx->live[id / 64] >> (id % 64) & 1)
		index_attrs(fx, s);
}

static void row_route(struct filter_index *fx, sqlite3_stmt *s)
{
	set_route(fx, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1));
}

/* A route's change: its new set is read and posted the first time a
 * route takes it. */
static void row_history(struct filter_index *fx, sqlite3_stmt *s)
{
	int64_t attr = sqlite3_column_int(s, 2) == RIB_WITHDRAW ? 0 : sqlite3_column_int64(s, 1);
	if (attr > 0 && attr <= UINT32_MAX && !is_indexed(fx, (uint32_t)attr) && !fx->follow_rc) {
		sqlite3_stmt *q = fx->attr_by_id;
		sqlite3_bind_int64(q, 1, attr);
		int rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			index_attrs(fx, q);
		else if (rc != SQLITE_DONE)
			fx->follow_rc = rc;
		sqlite3_reset(q);
	}
	set_route(fx, sqlite3_column_int64(s, 0), attr);
}

static void row_max_route(struct filter_index *fx, sqlite3_stmt *s)
{
	int64_t max = sqlite3_column_int64(s, 0);
	if (max > 0 && max < UINT32_MAX)
		reserve_routes(fx, (size_t)max + (size_t)max / 64 + 1024); /* the table's ids, and some to come */
}

/* From nothing: every route's live set, and the sets live routes hold (the
 * attribute sets read in one pass, those no route holds skipped). */
static int build(struct filter_index *fx, sqlite3 *db, int64_t hmax, char *err, size_t errn)
{
	reset(fx);
	if (each_row(fx, db, "SELECT max(id) FROM routes", 0, 0, row_max_route, err, errn) ||
	    each_row(fx, db, "SELECT id, attr_id FROM routes", 0, 0, row_route, err, errn))
		return -1;
	uint32_t max = 0;
	for (size_t r = 0; r < fx->route_n; r++)
		max = fx->route_attr[r] > max ? fx->route_attr[r] : max;
	fx->live_words = max / 64 + 1;
	fx->live = pw_calloc(fx->live_words, sizeof *fx->live);
	for (size_t r = 0; r < fx->route_n; r++)
		fx->live[fx->route_attr[r] / 64] |= 1ULL << (fx->route_attr[r] % 64);
	int rc = each_row(fx, db, "SELECT id, data FROM attrs", 0, 0, row_live_attrs, err, errn);
	free(fx->live);
	fx->live = NULL;
	fx->live_words = 0;
	if (rc)
		return -1;
	fx->live_at_build = fx->n_indexed;
	fx->hist_last = hmax;
	fx->built = true;
	return 0;
}

/* Only what was committed since: the history rows, and the sets they name
 * for the first time. */
static int follow(struct filter_index *fx, sqlite3 *db, int64_t hmax, char *err, size_t errn)
{
	if (sqlite3_prepare_v2(db, "SELECT id, data FROM attrs WHERE id = ?1", -1, &fx->attr_by_id, NULL) != SQLITE_OK)
		return fail(db, NULL, err, errn);
	fx->follow_rc = 0;
	int rc = each_row(fx, db, "SELECT route_id, attr_id, action FROM history WHERE id > ?1 AND id <= ?2 ORDER BY id",
			  fx->hist_last, hmax, row_history, err, errn);
	if (!rc && fx->follow_rc)
		rc = fail(db, NULL, err, errn);
	sqlite3_finalize(fx->attr_by_id);
	fx->attr_by_id = NULL;
	fx->hist_last = hmax;
	return rc;
}

/* Brings the index to the caller's snapshot: 1, or 0 when the snapshot is
 * older than what the index already holds, or -1. Sets no live route holds
 * stay posted until the next build: one comes when the sets posted are
 * more than twice those live at the last build, plus REBUILD_SLACK (under
 * churn that brings new sets, memory stays bounded), or when more history
 * rows than routes were committed since the last page (reading routes is
 * then the cheaper way). */
enum { REBUILD_SLACK = 10000 };

static int sync(struct filter_index *fx, sqlite3 *db, char *err, size_t errn)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM history", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW)
		return fail(db, s, err, errn);
	int64_t hmax = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (fx->built && hmax < fx->hist_last)
		return 0;
	const char *why = !fx->built ? "first filtered page"
			  : (size_t)(hmax - fx->hist_last) > fx->route_n ? "more changes than routes since the last"
			  : fx->n_indexed > 2 * fx->live_at_build + REBUILD_SLACK ? "attribute sets no longer live"
										: NULL;
	pw_mono_t t0 = pw_mono_now();
	if (why ? build(fx, db, hmax, err, errn) : follow(fx, db, hmax, err, errn)) {
		reset(fx); /* built whole at the next filtered page */
		return -1;
	}
	count_bytes(fx);
	if (why)
		PW_INFO("msg=\"filter index built\" reason=\"%s\" routes=%zu attribute_sets=%zu tokens=%zu bytes=%zu ms=%lld",
			why, fx->route_n, fx->n_indexed, fx->used, fidx_bytes(fx), (long long)pw_mono_ms_since(t0));
	return 1;
}

/* ------------------------------------------------------------ candidates */

int fidx_candidates(struct filter_index *fx, sqlite3 *db, const struct rf_as_path *as_path,
		    const struct rf_community *community, size_t max, uint32_t **ids, size_t *n, char *err,
		    size_t errn)
{
	uint64_t want[RF_MAX_ASNS + 1];
	int nw = pattern_tokens(as_path, community, want);
	*ids = NULL;
	*n = 0;
	if (!nw)
		return 0;
	pthread_mutex_lock(&fx->mu);
	int rc = sync(fx, db, err, errn);
	if (rc <= 0)
		goto out;
	const struct plist *rarest = NULL;
	for (int i = 0; i < nw; i++) {
		const struct plist *l = list_find(fx, want[i]);
		if (!l)
			goto out; /* no stored set holds it: no route matches */
		if (!rarest || l->n < rarest->n)
			rarest = l;
	}
	uint64_t *marked = pw_calloc((size_t)fx->attr_max / 64 + 1, sizeof *marked);
	for (uint32_t i = 0; i < rarest->n; i++)
		marked[rarest->ids[i] / 64] |= 1ULL << (rarest->ids[i] % 64);
	size_t cap = 0;
	for (size_t r = 0; r < fx->route_n; r++) {
		uint32_t a = fx->route_attr[r];
		if (!a || a > fx->attr_max || !(marked[a / 64] >> (a % 64) & 1))
			continue;
		if (*n == max) { /* too many to fetch one by one: the walk finds a page sooner */
			free(*ids);
			*ids = NULL;
			*n = 0;
			rc = 0;
			break;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 256;
			*ids = pw_realloc(*ids, cap * sizeof **ids);
		}
		(*ids)[(*n)++] = (uint32_t)r;
	}
	free(marked);
out:
	pthread_mutex_unlock(&fx->mu);
	return rc;
}
