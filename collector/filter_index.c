/*
 * filter_index: candidate routes for the RIB browser's attribute filters,
 * from committed rows, for store_query.c. See filter_index.h.
 *
 * Tokens are 64-bit keys: a type in the top 4 bits, the value below. Each
 * token's posting list holds attribute set ids; a set's tokens are posted
 * together, so a repeated token (an AS prepended three times) is posted
 * once by looking at the list's last id. A page takes the rarest of its
 * pattern's tokens (every one of them is required), marks that list's sets
 * in a bitmap and scans the route array for routes whose live set is
 * marked.
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
	uint32_t *ids; /* attribute set slots, in the order they were posted */
	uint32_t n, cap;
};

/* uint64 keys (never 0) to uint32 values, open addressing. */
struct u64map {
	uint64_t *keys; /* 0: empty */
	uint32_t *vals;
	size_t cap, used;
};

static bool map_get(const struct u64map *m, uint64_t key, uint32_t *val)
{
	if (!m->cap)
		return false;
	for (size_t i = pw_mix64(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			*val = m->vals[i];
			return true;
		}
	return false;
}

/* A key not in the map yet. */
static void map_put(struct u64map *m, uint64_t key, uint32_t val)
{
	if ((m->used + 1) * 10 > m->cap * 7) {
		struct u64map g = { .cap = m->cap ? 2 * m->cap : 1024 };
		g.keys = pw_calloc(g.cap, sizeof *g.keys);
		g.vals = pw_malloc(g.cap * sizeof *g.vals);
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i])
				map_put(&g, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		*m = g;
	}
	size_t i = pw_mix64(key) & (m->cap - 1);
	while (m->keys[i])
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->vals[i] = val;
	m->used++;
}

static void map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

static size_t map_bytes(const struct u64map *m) { return m->cap * (sizeof *m->keys + sizeof *m->vals); }

/* Attribute set ids are 64-bit and never reused (the RIB gives a set
 * interned again a new one), so under churn they climb far past the number
 * of sets alive: the index numbers the sets it knows densely, from 1
 * (slots), and everything in it is by slot. */
struct filter_index {
	pthread_mutex_t mu;
	bool built;
	struct u64map tokens; /* token -> index in lists */
	struct plist *lists;
	size_t n_lists, cap_lists, list_bytes;
	struct u64map slots;  /* attribute set id -> slot */
	uint32_t n_slots;     /* slots given: 1 .. n_slots */
	uint32_t live_at_build;
	int64_t hist_last;    /* the highest history id applied */
	uint32_t *route_attr; /* by route id: its live set's slot, 0 when withdrawn */
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
	map_free(&fx->tokens);
	map_free(&fx->slots);
	free(fx->route_attr);
	fx->built = false;
	fx->lists = NULL;
	fx->n_lists = fx->cap_lists = fx->list_bytes = 0;
	fx->n_slots = fx->live_at_build = 0;
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
	atomic_store(&fx->bytes, map_bytes(&fx->tokens) + fx->cap_lists * sizeof *fx->lists + fx->list_bytes +
					 map_bytes(&fx->slots) + fx->route_cap * sizeof *fx->route_attr);
}

/* ------------------------------------------------------------ tokens */

static void post(struct filter_index *fx, uint64_t key, uint32_t slot)
{
	uint32_t li;
	if (!map_get(&fx->tokens, key, &li)) {
		if (fx->n_lists == fx->cap_lists) {
			fx->cap_lists = fx->cap_lists ? 2 * fx->cap_lists : 1024;
			fx->lists = pw_realloc(fx->lists, fx->cap_lists * sizeof *fx->lists);
		}
		li = (uint32_t)fx->n_lists++;
		memset(&fx->lists[li], 0, sizeof fx->lists[li]);
		map_put(&fx->tokens, key, li);
	}
	struct plist *l = &fx->lists[li];
	if (l->n && l->ids[l->n - 1] == slot)
		return; /* already posted for this set */
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap + l->cap / 2 + 1 : 2;
		l->ids = pw_realloc(l->ids, cap * sizeof *l->ids);
		fx->list_bytes += (cap - l->cap) * sizeof *l->ids;
		l->cap = cap;
	}
	l->ids[l->n++] = slot;
}

/* The tokens of one stored (canonical) attribute set, posted for its slot. */
static void add_attrs(struct filter_index *fx, uint32_t slot, const uint8_t *data, size_t len)
{
	uint32_t path[256];
	int n = bgp_attrs_as_path(data, len, path, 256); /* as route_filter.c reads it */
	for (int i = 0; i < n; i++)
		post(fx, token(T_ASN, path[i]), slot);
	struct rbuf v;
	uint32_t c, g[3];
	if (bgp_attrs_find(data, len, BGP_ATTR_COMMUNITIES, &v))
		while (!rbuf_u32(&v, &c)) {
			post(fx, token(T_COMM, c), slot);
			post(fx, token(T_COMM_HI, c >> 16), slot);
		}
	if (bgp_attrs_find(data, len, BGP_ATTR_LARGE_COMMUNITIES, &v))
		while (!rbuf_u32(&v, &g[0]) && !rbuf_u32(&v, &g[1]) && !rbuf_u32(&v, &g[2])) {
			post(fx, large_token(g), slot);
			post(fx, token(T_LARGE_GA, g[0]), slot);
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

static void set_route(struct filter_index *fx, int64_t route_id, uint32_t slot)
{
	if (route_id <= 0 || route_id > UINT32_MAX)
		return; /* the RIB's route ids are 32-bit */
	size_t r = (size_t)route_id;
	if (r >= fx->route_cap)
		reserve_routes(fx, r + r / 4 + 1024);
	if (r >= fx->route_n)
		fx->route_n = r + 1;
	fx->route_attr[r] = slot;
}

/* The slot of attribute set `id` (0 for none), given now if it has none:
 * *is_new then, its tokens not posted yet. */
static uint32_t slot_of(struct filter_index *fx, int64_t id, bool *is_new)
{
	uint32_t slot = 0;
	*is_new = false;
	if (id <= 0 || map_get(&fx->slots, (uint64_t)id, &slot) || fx->n_slots == UINT32_MAX)
		return slot;
	slot = ++fx->n_slots;
	map_put(&fx->slots, (uint64_t)id, slot);
	*is_new = true;
	return slot;
}

/* ------------------------------------------------------------ sync */

static int fail(sqlite3 *db, sqlite3_stmt *s, char *err, size_t errn)
{
	snprintf(err, errn, "filter index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return -1;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	return sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK ? s : NULL;
}

/* From nothing: every route's live set, then the tokens of those sets in
 * one pass over attrs (the sets no route holds skipped). */
static int build(struct filter_index *fx, sqlite3 *db, int64_t hmax, char *err, size_t errn)
{
	reset(fx);
	sqlite3_stmt *s = prepare(db, "SELECT max(id) FROM routes");
	if (!s || sqlite3_step(s) != SQLITE_ROW)
		return fail(db, s, err, errn);
	int64_t max = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (max > 0 && max < UINT32_MAX)
		reserve_routes(fx, (size_t)max + (size_t)max / 64 + 1024); /* the table's ids, and some to come */
	if (!(s = prepare(db, "SELECT id, attr_id FROM routes")))
		return fail(db, NULL, err, errn);
	int rc;
	bool is_new;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		set_route(fx, sqlite3_column_int64(s, 0), slot_of(fx, sqlite3_column_int64(s, 1), &is_new));
	if (rc != SQLITE_DONE)
		return fail(db, s, err, errn);
	sqlite3_finalize(s);
	if (!(s = prepare(db, "SELECT id, data FROM attrs")))
		return fail(db, NULL, err, errn);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		uint32_t slot;
		if (map_get(&fx->slots, (uint64_t)sqlite3_column_int64(s, 0), &slot))
			add_attrs(fx, slot, sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1));
	}
	if (rc != SQLITE_DONE)
		return fail(db, s, err, errn);
	sqlite3_finalize(s);
	fx->live_at_build = fx->n_slots;
	fx->hist_last = hmax;
	fx->built = true;
	return 0;
}

/* Only what was committed since: the history rows, and the tokens of a set
 * the first time a route takes it. */
static int follow(struct filter_index *fx, sqlite3 *db, int64_t hmax, char *err, size_t errn)
{
	sqlite3_stmt *h = prepare(db, "SELECT route_id, attr_id, action FROM history WHERE id > ?1 AND id <= ?2 ORDER BY id");
	sqlite3_stmt *a = prepare(db, "SELECT data FROM attrs WHERE id = ?1");
	int rc = h && a ? SQLITE_OK : SQLITE_ERROR;
	if (!rc) {
		sqlite3_bind_int64(h, 1, fx->hist_last);
		sqlite3_bind_int64(h, 2, hmax);
	}
	while (!rc && (rc = sqlite3_step(h)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		int64_t attr = sqlite3_column_int(h, 2) == RIB_WITHDRAW ? 0 : sqlite3_column_int64(h, 1);
		bool is_new;
		uint32_t slot = slot_of(fx, attr, &is_new);
		if (is_new) { /* a set no route held at the build, or a new one */
			sqlite3_bind_int64(a, 1, attr);
			int arc = sqlite3_step(a);
			if (arc == SQLITE_ROW)
				add_attrs(fx, slot, sqlite3_column_blob(a, 0), (size_t)sqlite3_column_bytes(a, 0));
			else if (arc != SQLITE_DONE)
				rc = arc;
			sqlite3_reset(a);
		}
		set_route(fx, sqlite3_column_int64(h, 0), slot);
	}
	if (rc != SQLITE_DONE)
		snprintf(err, errn, "filter index: %s", sqlite3_errmsg(db));
	sqlite3_finalize(h);
	sqlite3_finalize(a);
	fx->hist_last = hmax;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Brings the index to the caller's snapshot: 1, or 0 when the snapshot is
 * older than what the index already holds, or -1 (the index is then
 * dropped, and built whole at the next filtered page). The snapshot's
 * version is the highest history id there is or was (retention may delete
 * the newest rows, never above its cursor), so it never goes back. Sets no
 * live route holds stay posted until the next build: one comes when the
 * sets known are more than twice those live at the last build, plus
 * REBUILD_SLACK (under churn that brings new sets, memory stays bounded),
 * or when more history rows than routes were committed since the last page
 * (reading routes is then the cheaper way). */
enum { REBUILD_SLACK = 10000 };

static int sync(struct filter_index *fx, sqlite3 *db, char *err, size_t errn)
{
	sqlite3_stmt *s = prepare(db, "SELECT max(coalesce((SELECT max(id) FROM history), 0),"
				      " coalesce((SELECT value FROM meta WHERE key = 'prune_cursor'), 0))");
	if (!s || sqlite3_step(s) != SQLITE_ROW)
		return fail(db, s, err, errn);
	int64_t hmax = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (fx->built && hmax < fx->hist_last)
		return 0;
	const char *why = !fx->built ? "first filtered page"
			  : (size_t)(hmax - fx->hist_last) > fx->route_n ? "more changes than routes since the last"
			  : fx->n_slots > 2 * (size_t)fx->live_at_build + REBUILD_SLACK ? "attribute sets no longer live"
											 : NULL;
	pw_mono_t t0 = pw_mono_now();
	if (why ? build(fx, db, hmax, err, errn) : follow(fx, db, hmax, err, errn)) {
		reset(fx);
		return -1;
	}
	count_bytes(fx);
	if (why)
		PW_INFO("msg=\"filter index built\" reason=\"%s\" routes=%zu attribute_sets=%u tokens=%zu bytes=%zu ms=%lld",
			why, fx->route_n, fx->n_slots, fx->tokens.used, fidx_bytes(fx), (long long)pw_mono_ms_since(t0));
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
		uint32_t li;
		if (!map_get(&fx->tokens, want[i], &li))
			goto out; /* no set a route holds has it: no route matches */
		if (!rarest || fx->lists[li].n < rarest->n)
			rarest = &fx->lists[li];
	}
	uint64_t *marked = pw_calloc((size_t)fx->n_slots / 64 + 1, sizeof *marked);
	for (uint32_t i = 0; i < rarest->n; i++)
		marked[rarest->ids[i] / 64] |= 1ULL << (rarest->ids[i] % 64);
	size_t cap = 0;
	for (size_t r = 0; r < fx->route_n; r++) {
		uint32_t a = fx->route_attr[r];
		if (!a || !(marked[a / 64] >> (a % 64) & 1))
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
