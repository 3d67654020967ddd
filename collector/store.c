/*
 * store: the SQLite writer thread, migrations and start-up load. See store.h.
 */
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/check.h"
#include "common/embedded.h"
#include "common/log.h"
#include "common/mono.h"
#include "store_keys.h"
#include "store_queue.h"

extern const struct pw_embedded pw_schema_migrations[];

enum { STORE_MAX_BATCH = 100000 };
/* While a backlog waits (a full table), one transaction spans up to
 * TXN_MAX_BATCHES batches: a batch of a table's new keys lands on most
 * leaves of route_keys (schema/008), and each commit writes every page it
 * dirtied into the WAL, so fewer, larger commits write each leaf fewer
 * times (4 peers' tables: 20 % faster, a third less system time; beyond 4
 * the 32 MB page cache spills and it gains nothing). A batch is followed
 * by another in the same transaction only if at least TXN_GROUP_MIN ops
 * are queued: under churn the queue holds less after each batch, which
 * then commits at once. */
enum { TXN_MAX_BATCHES = 4, TXN_GROUP_MIN = STORE_MAX_BATCH / 2 };
/* Under steady churn the writer would commit every thousand changes or so,
 * and random changes dirty most pages of the routes table whatever their
 * number: so after a transaction of TXN_GATHER_AFTER ops or more, the next
 * begins TXN_GATHER_MS after it began, unless TXN_GATHER_OPS ops wait or
 * store_flush is waiting. At 50k changes/s: ~10k changes a commit instead
 * of ~1k, and the writer's share of a core 0.69 -> 0.42; readers see a
 * change up to that much later. A quiet feed's changes commit at once. */
enum { TXN_GATHER_AFTER = 500, TXN_GATHER_MS = 200, TXN_GATHER_OPS = 20000 };
/* The WAL is copied into the database file (checkpointed) by a thread of
 * its own once a commit leaves CKPT_FRAMES pages in it (SQLite's default
 * threshold; SQLite ran the copy inside the writer's commit: a fifth of
 * the writer's time for a full table). The WAL starts over only at a write
 * transaction that begins after a complete copy, and the writer of a
 * backlog begins its next one at once: so at CKPT_WRITER_FRAMES (64 MB of
 * 16 KB pages) the writer copies the rest itself, which bounds the file. */
enum { CKPT_FRAMES = 1000, CKPT_WRITER_FRAMES = 4 * CKPT_FRAMES };
/* The writer's array of decoded ops is freed when the queue is empty if
 * it holds more than this many. */
enum { BATCH_KEEP = 65536 };
/* Routes and history rows are inserted this many per statement: one
 * execution (binding, VDBE start-up, reset) for many rows' B-tree work.
 * The multi-row statements are INSERT OR FAIL: with the default ABORT,
 * SQLite keeps a statement journal (a temporary file) to undo a failing
 * statement's earlier rows, which tripled the writer's system time; a
 * failed batch is rolled back whole anyway. */
enum { ROWS_PER_STMT = 32, ROUTE_COLS = 8, HIST_COLS = 7 };
enum { STAGE_OPS = 256, STAGE_BYTES = 32 * 1024 };

/* A route op and the history row id it was given. */
struct row_ref {
	const struct store_op *op;
	int64_t hist;
};

struct store {
	char *path;
	dev_t dev;   /* the file opened: if `path` stops naming it, commits stop */
	ino_t ino;
	sqlite3 *db; /* the write connection: writer thread (and start-up) only */
	struct store_keys *keys; /* the prefix index, written by its own thread */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	struct opq queue;     /* guarded by lock */
	bool stop;            /* guarded by lock */
	bool gathering;       /* guarded by lock: the writer waits for more ops */
	int flushing;         /* guarded by lock: store_flush callers waiting */
	pw_mono_t last_txn;   /* writer only: when its last transaction began */
	size_t last_txn_ops;  /* writer only: and its size */
	uint64_t enqueued, committed; /* guarded by lock: op sequence numbers */
	_Atomic uint64_t pending;     /* ops queued or in the batch being committed */
	_Atomic uint64_t queue_bytes; /* their chunks' sizes */
	_Atomic uint64_t history_rows;
	_Atomic bool failing;
	_Atomic uint64_t batches, batch_us_total, batch_us_last;
	_Atomic bool drain_armed;     /* a feed is paused: call drained_fn below the low watermark */
	/* the checkpointer thread: its own connection copies the WAL into the
	 * database file, off the writer thread */
	pthread_t ckpt_thread;
	sqlite3 *ckpt_db;
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_wake;
	bool ckpt_wanted, ckpt_stop; /* guarded by ckpt_lock */
	_Atomic bool ckpt_failing;
	void (*drained_fn)(void *);   /* guarded by lock */
	void *drained_ctx;
	/* writer-only */
	sqlite3_stmt *st_router, *st_peer, *st_attr, *st_route_new, *st_route_upd, *st_hist, *st_hist_chg, *st_count,
		*st_meta;
	sqlite3_stmt *st_route_new_n, *st_hist_n; /* the same, ROWS_PER_STMT rows at a time */
	struct skey_run txn_keys; /* the open transaction's new keys, for the index once it commits */
	/* History row ids are given by the writer, in op order, so that a new
	 * route's row can name its first history row (routes.hist) when it is
	 * inserted, before that history row. Never an id used before, even by
	 * a row since pruned: see prepare. */
	int64_t next_hist;
	struct row_ref hist_rows[ROWS_PER_STMT]; /* first announces not yet inserted */
	int n_hist_rows;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} exec_cache[64];
	int n_exec_cache;
	/* the rib's thread's route and attribute-set changes, staged: see
	 * stage_op. Only that thread (store_start's caller) touches these. */
	pthread_t rib_thread;
	struct store_op stage[STAGE_OPS];
	uint8_t stage_bytes[STAGE_BYTES]; /* their borrowed bytes, copied */
	size_t n_stage, stage_used;
};

static int exec(sqlite3 *db, const char *sql, char *err, size_t n)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (err)
			snprintf(err, n, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* pw_key_v4_compact(key) for migration 006: an 18-byte IPv4 key (afi |
 * 16 address bytes | length) to its 6-byte form; anything else unchanged. */
static void key_v4_compact(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const uint8_t *k = sqlite3_value_blob(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	if (k && n == 18 && k[0] == PW_AFI_IPV4) {
		uint8_t c[PW_PREFIX_KEY_LEN_V4] = { k[0], k[1], k[2], k[3], k[4], k[17] };
		sqlite3_result_blob(ctx, c, sizeof c, SQLITE_TRANSIENT);
	} else {
		sqlite3_result_value(ctx, argv[0]);
	}
}

static int migrate(sqlite3 *db, char *err, size_t n)
{
	sqlite3_stmt *st;
	int version = 0, known = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	for (const struct pw_embedded *m = pw_schema_migrations; m->name; m++)
		known++;
	if (sqlite3_create_function(db, "pw_key_v4_compact", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, key_v4_compact,
				    NULL, NULL) != SQLITE_OK) {
		snprintf(err, n, "cannot register a migration function: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (version > known) {
		snprintf(err, n, "database schema version %d is newer than this pathwatch knows (%d)", version, known);
		return -1;
	}
	for (int i = version; i < known; i++) {
		const struct pw_embedded *m = &pw_schema_migrations[i];
		char sql[64];
		if (exec(db, "BEGIN IMMEDIATE", err, n))
			return -1;
		if (exec(db, (const char *)m->data, err, n)) {
			char e2[256];
			snprintf(e2, sizeof e2, "migration %s: %s", m->name, err);
			snprintf(err, n, "%s", e2);
			exec(db, "ROLLBACK", NULL, 0);
			return -1;
		}
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", i + 1);
		if (exec(db, sql, err, n) || exec(db, "COMMIT", err, n))
			return -1;
		PW_INFO("msg=\"schema migration applied\" migration=%s", m->name);
	}
	return 0;
}

struct store *store_open(const char *path, char *err, size_t n)
{
	/* no global mutex around every SQLite allocation for statistics nobody
	 * reads; only effective before SQLite initialises (the first open) */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	struct store *st = pw_calloc(1, sizeof *st);
	st->path = pw_strdup(path);
	pthread_mutex_init(&st->lock, NULL);
	pthread_condattr_t ca; /* the writer's waits for more ops are timed: monotonic */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&st->done, NULL);
	pthread_mutex_init(&st->ckpt_lock, NULL);
	pthread_cond_init(&st->ckpt_wake, NULL);
	/* NOMUTEX: the write connection is used by one thread at a time (the
	 * loader, then the writer thread it hands over to in store_start) */
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, n, "cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* 16 KB pages for a new database (an existing one keeps its own): a
	 * full table's inserts and each commit's WAL writes go by pages, and
	 * four peers' tables were written 18 % faster, a 1M table 15 %, churn
	 * the same (bench/README.md). A file that is not a database fails
	 * here, loudly */
	if (exec(st->db, "PRAGMA page_size=16384", err, n) || exec(st->db, "PRAGMA journal_mode=WAL", err, n) ||
	    exec(st->db, "PRAGMA synchronous=NORMAL", err, n)) {
		char e2[300];
		snprintf(e2, sizeof e2, "%s: %s", path, err);
		snprintf(err, n, "%s", e2);
		goto fail;
	}
	if (migrate(st->db, err, n) || !(st->keys = skeys_open(path, err, n)))
		goto fail;
	/* Pages of the file are read through a shared mapping (as the
	 * readers do, store_query.c), not pread() into the page cache, which
	 * then holds mostly the transaction's dirty pages: 16 MB (the default
	 * is 2 MB; it grows only as used). Under churn a change updates its
	 * route's row at a random place, so a commit touches most pages of the
	 * routes table: without the mapping, reading them cost the writer a
	 * fifth more time at 24 MB, and more at 16 MB, while each 8 MB of cache
	 * is nearly 2 of the 100 bytes a route of a four-peer table may take
	 * (bench/README.md). The mapped pages are the kernel's page cache. */
	sqlite3_exec(st->db, "PRAGMA mmap_size=" STORE_MMAP_SIZE, NULL, NULL, NULL);
	if (exec(st->db, "PRAGMA cache_size=-16384", err, n))
		goto fail;
	struct stat sb;
	if (stat(path, &sb)) {
		snprintf(err, n, "cannot stat %s: %s", path, strerror(errno));
		goto fail;
	}
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	return st;
fail:
	sqlite3_close(st->db);
	skeys_close(st->keys);
	free(st->path);
	free(st);
	return NULL;
}

const char *store_path(const struct store *st) { return st->path; }
/* the writer's ops first: it hands a transaction's keys over before it
 * takes the transaction's ops off `pending`, so the sum never misses them */
uint64_t store_pending(const struct store *st)
{
	uint64_t ops = atomic_load(&st->pending);
	return ops + skeys_pending(st->keys);
}
uint64_t store_index_pending(const struct store *st) { return skeys_pending(st->keys); }
uint64_t store_queue_bytes(const struct store *st) { return atomic_load(&st->queue_bytes); }
uint64_t store_history_rows(const struct store *st) { return atomic_load(&st->history_rows); }
bool store_failing(const struct store *st) { return atomic_load(&st->failing) || skeys_failing(st->keys); }
void store_batch_stats(const struct store *st, uint64_t *batches, uint64_t *total_us, uint64_t *last_us)
{
	*batches = atomic_load(&st->batches);
	*total_us = atomic_load(&st->batch_us_total);
	*last_us = atomic_load(&st->batch_us_last);
}

bool store_backlogged(struct store *st)
{
	if (atomic_load(&st->queue_bytes) <= STORE_HIGH_WATER)
		return false;
	/* armed before the size is read again: either this reads the writer's
	 * decrement, or the writer sees the flag (both sequentially consistent) */
	atomic_store(&st->drain_armed, true);
	return atomic_load(&st->queue_bytes) > STORE_HIGH_WATER;
}

void store_on_drained(struct store *st, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&st->lock);
	st->drained_fn = fn;
	st->drained_ctx = ctx;
	pthread_mutex_unlock(&st->lock);
}

/* ------------------------------------------------------------------ load */

static int64_t col_i64(sqlite3_stmt *s, int i) { return sqlite3_column_int64(s, i); }
static const char *col_txt(sqlite3_stmt *s, int i) { return (const char *)sqlite3_column_text(s, i); }
static char *dup_or_null(const char *s) { return s ? pw_strdup(s) : NULL; }

struct attr_ref {
	uint64_t id;
	struct rib_attrset *a;
};
static int cmp_attr_ref(const void *a, const void *b)
{
	uint64_t x = ((const struct attr_ref *)a)->id, y = ((const struct attr_ref *)b)->id;
	return x < y ? -1 : x > y;
}

int store_load(struct store *st, struct rib *rib, char *err, size_t n)
{
	sqlite3 *db = st->db;
	sqlite3_stmt *s;
	int rc = -1;
	struct attr_ref *refs = NULL;
	size_t nrefs = 0, caprefs = 0;
	uint32_t max_route = 0;
	uint64_t max_attr = 0;
	uint64_t loaded = 0;

	if (exec(db, "BEGIN", err, n))
		return -1;
	int64_t now = pw_wall_us();
	if (sqlite3_prepare_v2(db,
			       "SELECT id, name, address, strip_own_as, sessions, connected, disconnected_since FROM routers",
			       -1, &s, NULL))
		goto sqlerr;
	while (sqlite3_step(s) == SQLITE_ROW) /* a feed that was up is down since now */
		rib_load_router(rib, (uint32_t)col_i64(s, 0), col_txt(s, 1), col_txt(s, 2), col_i64(s, 3), (uint32_t)col_i64(s, 4),
				col_i64(s, 5) ? now : col_i64(s, 6));
	sqlite3_finalize(s);

	if (sqlite3_prepare_v2(db,
			       "SELECT p.id, r.name, peer_type, rd, afi, address_bin, asn, bgp_id, local_asn, state, up_since,"
			       " down_since, down_reason, session_info, stats FROM peers p JOIN routers r ON r.id = p.router_id",
			       -1, &s, NULL))
		goto sqlerr;
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct rib_router *r = rib_router_find(rib, col_txt(s, 1));
		struct bmp_peer_hdr h = { 0 };
		if (pw_fails_assert(r) || sqlite3_column_bytes(s, 5) != 16)
			continue;
		h.type = (uint8_t)col_i64(s, 2);
		h.rd = (uint64_t)col_i64(s, 3);
		h.afi = (uint8_t)col_i64(s, 4);
		memcpy(h.addr, sqlite3_column_blob(s, 5), 16);
		h.asn = (uint32_t)col_i64(s, 6);
		struct in_addr id;
		if (col_txt(s, 7) && inet_pton(AF_INET, col_txt(s, 7), &id) == 1)
			h.bgp_id = ntohl(id.s_addr);
		const char *state = col_txt(s, 9);
		struct rib_peer *p = rib_load_peer(r, (uint32_t)col_i64(s, 0), &h, (uint32_t)col_i64(s, 8),
						   state && strcmp(state, "up") == 0, col_i64(s, 10), col_i64(s, 11));
		p->down_reason = dup_or_null(col_txt(s, 12));
		p->session_info = dup_or_null(col_txt(s, 13));
		p->stats = dup_or_null(col_txt(s, 14));
	}
	sqlite3_finalize(s);

	if (sqlite3_prepare_v2(db,
			       "SELECT id, data FROM attrs WHERE id IN (SELECT attr_id FROM routes WHERE attr_id IS NOT NULL)"
			       " ORDER BY id",
			       -1, &s, NULL))
		goto sqlerr;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (nrefs == caprefs) {
			caprefs = caprefs ? caprefs * 2 : 1024;
			refs = pw_realloc(refs, caprefs * sizeof *refs);
		}
		refs[nrefs].id = (uint64_t)col_i64(s, 0);
		refs[nrefs].a = rib_load_attrs(rib, refs[nrefs].id, sqlite3_column_blob(s, 1),
					       (uint32_t)sqlite3_column_bytes(s, 1));
		nrefs++;
	}
	sqlite3_finalize(s);

	if (sqlite3_prepare_v2(db, "SELECT id, peer_id, view, prefix, path_id, attr_id, since FROM routes", -1, &s, NULL))
		goto sqlerr;
	while (sqlite3_step(s) == SQLITE_ROW) {
		uint32_t pid = (uint32_t)col_i64(s, 1);
		int view = (int)col_i64(s, 2);
		struct pw_prefix pfx;
		if (pid >= rib->cap_peers_by_id || !rib->peers_by_id[pid] || view < 0 || view >= BMP_VIEWS ||
		    pw_prefix_from_key(sqlite3_column_blob(s, 3), (size_t)sqlite3_column_bytes(s, 3), &pfx)) {
			PW_WARN("msg=\"skipping unreadable route row\" id=%lld", (long long)col_i64(s, 0));
			continue;
		}
		struct rib_attrset *a = NULL;
		if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
			struct attr_ref key = { (uint64_t)col_i64(s, 5), NULL };
			struct attr_ref *f = bsearch(&key, refs, nrefs, sizeof *refs, cmp_attr_ref);
			if (f)
				a = f->a;
		}
		uint32_t rid = (uint32_t)col_i64(s, 0);
		rib_load_route(rib->peers_by_id[pid], (enum bmp_view)view, &pfx, (uint32_t)col_i64(s, 4), rid, a,
			       col_i64(s, 6));
		if (rid > max_route)
			max_route = rid;
		loaded += a != NULL;
	}
	sqlite3_finalize(s);

	if (sqlite3_prepare_v2(db, "SELECT (SELECT max(id) FROM attrs), (SELECT value FROM meta WHERE key='history_rows')",
			       -1, &s, NULL))
		goto sqlerr;
	if (sqlite3_step(s) == SQLITE_ROW) {
		max_attr = (uint64_t)col_i64(s, 0);
		atomic_store(&st->history_rows, (uint64_t)col_i64(s, 1));
	}
	sqlite3_finalize(s);
	rib_load_done(rib, max_route, max_attr);
	/* the feeds are gone until the routers reconnect */
	char sql[160];
	snprintf(sql, sizeof sql,
		 "UPDATE routers SET connected = 0, disconnected_since = %lld WHERE connected = 1", (long long)now);
	if (exec(db, sql, err, n))
		goto out;
	rc = exec(db, "COMMIT", err, n);
	PW_INFO("msg=\"state loaded from the store\" routers=%u live_routes=%llu attribute_sets=%zu", rib->n_routers,
		(unsigned long long)loaded, nrefs);
	goto out;
sqlerr:
	snprintf(err, n, "loading state: %s", sqlite3_errmsg(db));
out:
	if (rc)
		exec(db, "ROLLBACK", NULL, 0);
	free(refs);
	return rc;
}

/* ------------------------------------------------------ events -> queue */

static void enqueue_many(struct store *st, const struct store_op *ops, size_t n)
{
	size_t added = 0;
	pthread_mutex_lock(&st->lock);
	bool was_empty = st->queue.nops == 0;
	for (size_t i = 0; i < n; i++)
		added += opq_push(&st->queue, &ops[i]);
	st->enqueued += n;
	atomic_fetch_add(&st->pending, n);
	if (added)
		atomic_fetch_add(&st->queue_bytes, added);
	if (was_empty || (st->gathering && st->queue.nops >= TXN_GATHER_OPS))
		pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
}

/* Route and attribute-set changes come from the rib's thread, a few per
 * UPDATE: they are staged there and handed to the queue STAGE_OPS at a time
 * or by store_publish (the loop calls it before it waits), so that the lock,
 * the counters and the writer's wake-up are paid per read, not per route.
 * Their borrowed bytes are copied into the stage: the rib may free an
 * attribute set before the stage is published. */
static void stage_publish(struct store *st)
{
	if (st->n_stage)
		enqueue_many(st, st->stage, st->n_stage);
	st->n_stage = st->stage_used = 0;
}

static void stage_op(struct store *st, const struct store_op *op)
{
	const uint8_t *src = NULL;
	size_t len = 0;
	if (op->kind == OP_ATTR) {
		src = op->attr.data;
		len = op->attr.len;
	} else if (op->kind == OP_ROUTE && op->new_key && op->key_v6) {
		src = op->route.key.v6;
		len = PW_PREFIX_KEY_LEN;
	}
	if (st->n_stage == STAGE_OPS || st->stage_used + len > STAGE_BYTES)
		stage_publish(st);
	if (len > STAGE_BYTES) { /* a set larger than the stage: straight to the queue */
		enqueue_many(st, op, 1);
		return;
	}
	struct store_op *s = &st->stage[st->n_stage++];
	*s = *op;
	if (src) { /* even of 0 bytes: the op must not keep the rib's pointer */
		uint8_t *copy = st->stage_bytes + st->stage_used;
		memcpy(copy, src, len);
		st->stage_used += len;
		if (op->kind == OP_ATTR)
			s->attr.data = copy;
		else
			s->route.key.v6 = copy;
	}
}

/* The stage goes first when the caller is the rib's thread (what another
 * thread queues or waits for is ordered only against what was published). */
static void publish_if_owner(struct store *st)
{
	if (st->started && pthread_equal(pthread_self(), st->rib_thread))
		stage_publish(st);
}

/* Any other op: from the rib's thread after what it staged, so that its
 * ops stay in order; other threads' go straight in. */
static void enqueue(struct store *st, const struct store_op *ops, size_t n)
{
	publish_if_owner(st);
	enqueue_many(st, ops, n);
}

void store_publish(struct store *st)
{
	pw_require(pthread_equal(pthread_self(), st->rib_thread));
	stage_publish(st);
}

static char *counters_json(const struct rib_router *r)
{
	size_t cap = 64 * RC_COUNTERS, k = 0;
	char *s = pw_malloc(cap);
	k += (size_t)snprintf(s + k, cap - k, "{");
	for (int i = 0; i < RC_COUNTERS; i++)
		k += (size_t)snprintf(s + k, cap - k, "%s\"%s\":%llu", i ? "," : "", rib_counter_name((enum rib_counter)i),
				      (unsigned long long)r->counters[i]);
	snprintf(s + k, cap - k, "}");
	return s;
}

static void on_rib_event(void *ctx, const struct rib_event *ev)
{
	struct store *st = ctx;
	struct store_op op;
	uint8_t key[PW_PREFIX_KEY_LEN]; /* a new route's: copied into the queue */
	memset(&op, 0, sizeof op);
	switch (ev->kind) {
	case RIB_EV_ROUTER: {
		const struct rib_router *r = ev->router;
		op.kind = OP_ROUTER;
		op.router = pw_calloc(1, sizeof *op.router);
		op.router->id = r->id;
		op.router->sessions = r->session;
		op.router->connected = r->connected;
		op.router->strip_own_as = r->strip_own_as;
		op.router->connected_since = r->connected_since_us;
		op.router->disconnected_since = r->disconnected_since_us;
		op.router->last_message = r->last_message_us;
		op.router->name = pw_strdup(r->name);
		op.router->address = dup_or_null(r->address);
		op.router->sys_name = dup_or_null(r->sys_name);
		op.router->sys_descr = dup_or_null(r->sys_descr);
		op.router->termination = dup_or_null(r->termination);
		op.router->counters = counters_json(r);
		break;
	}
	case RIB_EV_PEER: {
		const struct rib_peer *p = ev->peer;
		op.kind = OP_PEER;
		op.peer = pw_calloc(1, sizeof *op.peer);
		op.peer->id = p->id;
		op.peer->router_id = p->router->id;
		op.peer->asn = p->asn;
		op.peer->bgp_id = p->bgp_id;
		op.peer->local_asn = p->local_asn;
		op.peer->type = p->type;
		op.peer->afi = p->afi;
		op.peer->up = p->up;
		op.peer->rd = p->rd;
		memcpy(op.peer->addr, p->addr, 16);
		op.peer->up_since = p->up_since_us;
		op.peer->down_since = p->down_since_us;
		op.peer->down_reason = dup_or_null(p->down_reason);
		op.peer->session_info = dup_or_null(p->session_info);
		op.peer->stats = dup_or_null(p->stats);
		break;
	}
	case RIB_EV_ATTRSET:
		op.kind = OP_ATTR;
		op.attr.id = ev->attrs->id;
		op.attr.len = ev->attrs->len;
		op.attr.data = ev->attrs->data; /* copied into the queue */
		break;
	case RIB_EV_ROUTE: {
		const struct rib_route_change *c = ev->route;
		op.kind = OP_ROUTE;
		op.route_id = c->route_id;
		op.route.peer_id = c->peer->id;
		op.route.path_id = c->path_id;
		op.view = (uint8_t)c->view & 7;
		op.action = (uint8_t)c->action & 3;
		op.reason = (uint8_t)c->reason & 3;
		op.new_key = c->new_key;
		if (c->new_key) {
			op.key_v6 = pw_prefix_key(&c->prefix, key) != PW_PREFIX_KEY_LEN_V4;
			if (op.key_v6)
				op.route.key.v6 = key;
			else
				memcpy(op.route.key.v4, key, PW_PREFIX_KEY_LEN_V4);
		}
		op.route.attr_id = c->attrs ? c->attrs->id : 0;
		op.route.time = c->time_us;
		op.route.router_time = c->router_time_us;
		break;
	}
	}
	if (op.kind == OP_ROUTE || op.kind == OP_ATTR)
		stage_op(st, &op);
	else
		enqueue(st, &op, 1);
}

static void exec_op(struct store_op *op, const char *sql, const struct store_param *params, int n)
{
	memset(op, 0, sizeof *op);
	pw_require(n <= STORE_MAX_PARAMS);
	op->kind = OP_EXEC;
	op->exec.sql = sql;
	op->exec.n = n;
	op->exec.p = pw_calloc((size_t)(n ? n : 1), sizeof *op->exec.p);
	for (int i = 0; i < n; i++) {
		op->exec.p[i] = params[i];
		if (params[i].type == SP_TEXT)
			op->exec.p[i].s = pw_strdup(params[i].s);
	}
}

void store_exec(struct store *st, const char *sql, const struct store_param *params, int n)
{
	struct store_op op;
	exec_op(&op, sql, params, n);
	enqueue(st, &op, 1);
}

void store_exec_group(struct store *st, const struct store_stmt *stmts, int n)
{
	if (n <= 0)
		return;
	struct store_op *ops = pw_calloc((size_t)n, sizeof *ops);
	for (int i = 0; i < n; i++) {
		exec_op(&ops[i], stmts[i].sql, stmts[i].params, stmts[i].n);
		ops[i].group_more = i + 1 < n;
	}
	enqueue(st, ops, (size_t)n);
	free(ops);
}

struct sqlite3 *store_load_db(struct store *st)
{
	pw_require(!st->started);
	return st->db;
}

/* ---------------------------------------------------------------- writer */

static void op_free(struct store_op *op)
{
	switch (op->kind) {
	case OP_ROUTER:
		free(op->router->name), free(op->router->address), free(op->router->sys_name);
		free(op->router->sys_descr), free(op->router->termination), free(op->router->counters);
		free(op->router);
		break;
	case OP_PEER:
		free(op->peer->down_reason), free(op->peer->session_info), free(op->peer->stats);
		free(op->peer);
		break;
	case OP_ATTR:
	case OP_ROUTE: /* their bytes are in the batch's chunks */
		break;
	case OP_EXEC:
		for (int i = 0; i < op->exec.n; i++)
			if (op->exec.p[i].type == SP_TEXT)
				free((char *)op->exec.p[i].s);
		free(op->exec.p);
		break;
	}
}

static sqlite3_stmt *exec_stmt(struct store *st, const char *sql)
{
	for (int i = 0; i < st->n_exec_cache; i++)
		if (st->exec_cache[i].sql == sql)
			return st->exec_cache[i].stmt;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		PW_ERR("msg=\"store statement failed to prepare\" error=\"%s\" sql=\"%.80s\"", sqlite3_errmsg(st->db), sql);
		return NULL;
	}
	if (st->n_exec_cache < (int)(sizeof st->exec_cache / sizeof st->exec_cache[0])) {
		st->exec_cache[st->n_exec_cache].sql = sql;
		st->exec_cache[st->n_exec_cache++].stmt = s;
	}
	return s;
}

/* "INSERT ... VALUES " followed by ROWS_PER_STMT groups of `cols` "?". */
static char *multi_row_sql(const char *head, int cols)
{
	size_t cap = strlen(head) + (size_t)ROWS_PER_STMT * (size_t)(2 * cols + 3) + 1, k = 0;
	char *s = pw_malloc(cap);
	k += (size_t)snprintf(s, cap, "%s", head);
	for (int r = 0; r < ROWS_PER_STMT; r++) {
		s[k++] = r ? ',' : '(';
		if (r)
			s[k++] = '(';
		for (int c = 0; c < cols; c++) {
			if (c)
				s[k++] = ',';
			s[k++] = '?';
		}
		s[k++] = ')';
	}
	s[k] = 0;
	pw_require(k < cap);
	return s;
}

static int prepare(struct store *st)
{
	static const char *const sql[] = {
		"INSERT INTO routers (id, name, address, sys_name, sys_descr, connected, connected_since,"
		" disconnected_since, last_message, sessions, strip_own_as, termination, counters)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13) ON CONFLICT(id) DO UPDATE SET"
		" name=?2, address=?3, sys_name=?4, sys_descr=?5, connected=?6, connected_since=?7,"
		" disconnected_since=?8, last_message=?9, sessions=?10, strip_own_as=?11, termination=?12, counters=?13",
		"INSERT INTO peers (id, router_id, peer_type, rd, afi, address, address_bin, asn, bgp_id, local_asn,"
		" state, up_since, down_since, down_reason, session_info, stats)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16) ON CONFLICT(id) DO UPDATE SET"
		" asn=?8, bgp_id=?9, local_asn=?10, state=?11, up_since=?12, down_since=?13, down_reason=?14,"
		" session_info=?15, stats=?16",
		"INSERT OR REPLACE INTO attrs (id, data) VALUES (?1, ?2)",
		"INSERT INTO routes (id, peer_id, view, prefix, path_id, attr_id, since, hist) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
		"UPDATE routes SET attr_id = ?2, since = ?3, hist = ?4 WHERE id = ?1",
		"INSERT INTO history (id, route_id, time, router_time, action, reason, attr_id) VALUES (?1,?2,?3,?4,?5,?6,?7)",
		/* a change: the row before it is the route's newest until now */
		"INSERT INTO history (id, route_id, time, router_time, action, reason, attr_id, prev)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,(SELECT hist FROM routes WHERE id = ?2))",
		"UPDATE peers SET n_pre = n_pre + ?2, n_post = n_post + ?3, n_loc_rib = n_loc_rib + ?4,"
		" n_out_pre = n_out_pre + ?5, n_out_post = n_out_post + ?6 WHERE id = ?1",
		"UPDATE meta SET value = value + ?1 WHERE key = 'history_rows'",
	};
	sqlite3_stmt **out[] = { &st->st_router, &st->st_peer, &st->st_attr, &st->st_route_new, &st->st_route_upd,
				 &st->st_hist, &st->st_hist_chg, &st->st_count, &st->st_meta };
	char *route_n = multi_row_sql(
		"INSERT OR FAIL INTO routes (id, peer_id, view, prefix, path_id, attr_id, since, hist) VALUES ", ROUTE_COLS);
	char *hist_n = multi_row_sql(
		"INSERT OR FAIL INTO history (id, route_id, time, router_time, action, reason, attr_id) VALUES ", HIST_COLS);
	/* the next history row id: above every row there is, and above every
	 * row pruned (all at or below prune_cursor), so that a chain's link to
	 * a pruned row never leads to a newer row */
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db,
				    "SELECT max(coalesce((SELECT max(id) FROM history), 0),"
				    " coalesce((SELECT value FROM meta WHERE key = 'prune_cursor'), 0)) + 1",
				    -1, &s, NULL);
	if (!rc && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		st->next_hist = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	for (size_t i = 0; i < sizeof sql / sizeof sql[0] && !rc; i++)
		rc = sqlite3_prepare_v3(st->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, out[i], NULL);
	if (!rc)
		rc = sqlite3_prepare_v3(st->db, route_n, -1, SQLITE_PREPARE_PERSISTENT, &st->st_route_new_n, NULL);
	if (!rc)
		rc = sqlite3_prepare_v3(st->db, hist_n, -1, SQLITE_PREPARE_PERSISTENT, &st->st_hist_n, NULL);
	free(route_n);
	free(hist_n);
	if (rc) {
		PW_ERR("msg=\"store statement failed to prepare\" error=\"%s\"", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}
static void bind_time(sqlite3_stmt *s, int i, int64_t t)
{
	if (t)
		sqlite3_bind_int64(s, i, t);
	else
		sqlite3_bind_null(s, i);
}

static int step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : rc;
}

/* Per-peer live-count deltas of one batch. */
struct count_delta {
	uint32_t peer_id;
	int64_t d[BMP_VIEWS];
};

/* routes.since: the router's time of the change, else the collector's */
static int64_t route_since(const struct store_op *op)
{
	return op->route.router_time ? op->route.router_time : op->route.time;
}

static void bind_route_row(sqlite3_stmt *s, int base, const struct row_ref *row)
{
	const struct store_op *op = row->op;
	sqlite3_bind_int64(s, base + 1, op->route_id);
	sqlite3_bind_int64(s, base + 2, op->route.peer_id);
	sqlite3_bind_int(s, base + 3, op->view);
	size_t key_len;
	const uint8_t *key = op_key(op, &key_len);
	sqlite3_bind_blob(s, base + 4, key, (int)key_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, base + 5, op->route.path_id);
	if (op->route.attr_id)
		sqlite3_bind_int64(s, base + 6, (int64_t)op->route.attr_id);
	sqlite3_bind_int64(s, base + 7, route_since(op));
	sqlite3_bind_int64(s, base + 8, row->hist);
}

static void bind_hist_row(sqlite3_stmt *s, int base, const struct row_ref *row)
{
	const struct store_op *op = row->op;
	sqlite3_bind_int64(s, base + 1, row->hist);
	sqlite3_bind_int64(s, base + 2, op->route_id);
	sqlite3_bind_int64(s, base + 3, op->route.time);
	bind_time(s, base + 4, op->route.router_time);
	sqlite3_bind_int(s, base + 5, op->action);
	if (op->reason)
		sqlite3_bind_int(s, base + 6, op->reason);
	if (op->route.attr_id)
		sqlite3_bind_int64(s, base + 7, (int64_t)op->route.attr_id);
}

/* Inserts n rows, ROWS_PER_STMT at a time with `many`, the rest with `one`
 * (unset parameters are NULL: step clears the bindings). */
static int insert_rows(sqlite3_stmt *one, sqlite3_stmt *many, int cols,
		       void (*bind)(sqlite3_stmt *, int, const struct row_ref *), const struct row_ref *v, size_t n)
{
	size_t i = 0;
	int rc = 0;
	for (; i + ROWS_PER_STMT <= n && !rc; i += ROWS_PER_STMT) {
		/* the next statement's ops (a batch's new routes are spread
		 * among its other ops) */
		for (size_t j = i + ROWS_PER_STMT; j < i + 2 * ROWS_PER_STMT && j < n; j++)
			__builtin_prefetch(v[j].op);
		for (int j = 0; j < ROWS_PER_STMT; j++)
			bind(many, j * cols, &v[i + j]);
		rc = step(many);
	}
	for (; i < n && !rc; i++) {
		bind(one, 0, &v[i]);
		rc = step(one);
	}
	return rc;
}

/* A new route's first history row has no previous row: these are
 * inserted a statement's worth at a time; before any op other than a
 * route's they are flushed (an exec may read or prune history). */
static int flush_history(struct store *st)
{
	int rc = insert_rows(st->st_hist, st->st_hist_n, HIST_COLS, bind_hist_row, st->hist_rows,
			     (size_t)st->n_hist_rows);
	st->n_hist_rows = 0;
	return rc;
}

static int apply_op(struct store *st, const struct store_op *op, struct count_delta **deltas, size_t *nd,
		    uint64_t *hist)
{
	sqlite3_stmt *s;
	char addr[PW_ADDRSTRLEN], id[PW_ADDRSTRLEN];
	int frc;
	if (op->kind != OP_ROUTE && st->n_hist_rows && (frc = flush_history(st)))
		return frc;
	switch (op->kind) {
	case OP_EXEC: {
		s = exec_stmt(st, op->exec.sql);
		if (!s)
			return 0; /* a programming error, logged: not retried for ever */
		for (int i = 0; i < op->exec.n; i++) {
			const struct store_param *p = &op->exec.p[i];
			if (p->type == SP_INT)
				sqlite3_bind_int64(s, i + 1, p->i);
			else if (p->type == SP_TEXT)
				sqlite3_bind_text(s, i + 1, p->s, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(s, i + 1);
		}
		int rc = step(s);
		bool cached = false;
		for (int i = 0; i < st->n_exec_cache; i++)
			cached |= st->exec_cache[i].stmt == s;
		if (!cached)
			sqlite3_finalize(s);
		if (rc == SQLITE_CONSTRAINT || rc == SQLITE_MISMATCH || rc == SQLITE_RANGE || rc == SQLITE_ERROR) {
			/* the statement itself is wrong: retrying cannot help and
			 * must not hold up the RIB's writes */
			PW_ERR("msg=\"store statement rejected; skipped\" error=\"%s\" sql=\"%.80s\"", sqlite3_errstr(rc),
			       op->exec.sql);
			return 0;
		}
		return rc;
	}
	case OP_ROUTER:
		s = st->st_router;
		sqlite3_bind_int64(s, 1, op->router->id);
		bind_text(s, 2, op->router->name);
		bind_text(s, 3, op->router->address);
		bind_text(s, 4, op->router->sys_name);
		bind_text(s, 5, op->router->sys_descr);
		sqlite3_bind_int(s, 6, op->router->connected);
		bind_time(s, 7, op->router->connected_since);
		bind_time(s, 8, op->router->disconnected_since);
		bind_time(s, 9, op->router->last_message);
		sqlite3_bind_int64(s, 10, op->router->sessions);
		sqlite3_bind_int(s, 11, op->router->strip_own_as);
		bind_text(s, 12, op->router->termination);
		bind_text(s, 13, op->router->counters);
		return step(s);
	case OP_PEER: {
		uint8_t idb[4];
		s = st->st_peer;
		pw_addr_format(op->peer->afi, op->peer->addr, addr, sizeof addr);
		pw_put32(idb, op->peer->bgp_id);
		pw_addr_format(PW_AFI_IPV4, idb, id, sizeof id);
		sqlite3_bind_int64(s, 1, op->peer->id);
		sqlite3_bind_int64(s, 2, op->peer->router_id);
		sqlite3_bind_int(s, 3, op->peer->type);
		sqlite3_bind_int64(s, 4, (int64_t)op->peer->rd);
		sqlite3_bind_int(s, 5, op->peer->afi);
		bind_text(s, 6, addr);
		sqlite3_bind_blob(s, 7, op->peer->addr, 16, SQLITE_STATIC);
		sqlite3_bind_int64(s, 8, op->peer->asn);
		bind_text(s, 9, id);
		sqlite3_bind_int64(s, 10, op->peer->local_asn);
		bind_text(s, 11, op->peer->up ? "up" : "down");
		bind_time(s, 12, op->peer->up_since);
		bind_time(s, 13, op->peer->down_since);
		bind_text(s, 14, op->peer->down_reason);
		bind_text(s, 15, op->peer->session_info);
		bind_text(s, 16, op->peer->stats);
		return step(s);
	}
	case OP_ATTR:
		s = st->st_attr;
		sqlite3_bind_int64(s, 1, (int64_t)op->attr.id);
		sqlite3_bind_blob(s, 2, op->attr.data, (int)op->attr.len, SQLITE_STATIC);
		return step(s);
	case OP_ROUTE: {
		int rc;
		struct row_ref row = { op, st->next_hist++ };
		if (op->new_key) { /* its routes row, naming this row, was inserted first: see commit_batch */
			st->hist_rows[st->n_hist_rows++] = row;
			if (st->n_hist_rows == ROWS_PER_STMT && (rc = flush_history(st)))
				return rc;
		} else { /* the history row links to the route's newest, then becomes it */
			bind_hist_row(st->st_hist_chg, 0, &row);
			if ((rc = step(st->st_hist_chg)))
				return rc;
			s = st->st_route_upd;
			sqlite3_bind_int64(s, 1, op->route_id);
			if (op->route.attr_id && op->action != RIB_WITHDRAW)
				sqlite3_bind_int64(s, 2, (int64_t)op->route.attr_id);
			sqlite3_bind_int64(s, 3, route_since(op));
			sqlite3_bind_int64(s, 4, row.hist);
			if ((rc = step(s)))
				return rc;
		}
		(*hist)++;
		int delta = op->action == RIB_ANNOUNCE ? 1 : op->action == RIB_WITHDRAW ? -1 : 0;
		if (delta) {
			struct count_delta *d = NULL;
			for (size_t i = *nd; i-- > 0;)
				if ((*deltas)[i].peer_id == op->route.peer_id) {
					d = &(*deltas)[i];
					break;
				}
			if (!d) {
				*deltas = pw_realloc(*deltas, (*nd + 1) * sizeof **deltas);
				d = &(*deltas)[(*nd)++];
				memset(d, 0, sizeof *d);
				d->peer_id = op->route.peer_id;
			}
			d->d[op->view] += delta;
		}
		return 0;
	}
	}
	return 0;
}

/* The batch's new routes: their routes rows in op order, which is route id
 * order (a new key takes the next id), so they are appended at the end of
 * the table. Their keys go to the prefix index (store_keys.h) once the
 * transaction commits. Nothing else in a batch reads these rows before
 * they exist: an op on a key follows its insert. Each routes row names its
 * first history row: the id apply_op will give that op (one per route op,
 * in order from st->next_hist). */
static int insert_new_routes(struct store *st, struct store_op *ops, size_t n)
{
	size_t k = 0, k6 = 0;
	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == OP_ROUTE && ops[i].new_key) {
			k++;
			k6 += ops[i].key_v6;
		}
	if (!k)
		return 0;
	skey_run_reserve(&st->txn_keys, k - k6, k6);
	struct row_ref *rows = pw_malloc(k * sizeof *rows);
	size_t j = 0;
	int64_t hist = st->next_hist;
	for (size_t i = 0; i < n; i++) {
		if (ops[i].kind != OP_ROUTE)
			continue;
		if (ops[i].new_key) {
			rows[j++] = (struct row_ref){ &ops[i], hist };
			size_t len;
			const uint8_t *key = op_key(&ops[i], &len);
			skey_run_add(&st->txn_keys, ops[i].route_id, key, len);
		}
		hist++;
	}
	int rc = insert_rows(st->st_route_new, st->st_route_new_n, ROUTE_COLS, bind_route_row, rows, k);
	free(rows);
	return rc;
}

/* Applies one batch of ops inside the writer's open transaction; *hist_out
 * is the number of history rows it wrote. */
static int apply_batch(struct store *st, struct store_op *ops, size_t n, uint64_t *hist_out)
{
	struct count_delta *deltas = NULL;
	size_t nd = 0;
	uint64_t hist = 0;
	st->n_hist_rows = 0;
	int rc = insert_new_routes(st, ops, n);
	for (size_t i = 0; i < n && !rc; i++)
		rc = apply_op(st, &ops[i], &deltas, &nd, &hist);
	if (!rc && st->n_hist_rows)
		rc = flush_history(st);
	for (size_t i = 0; i < nd && !rc; i++) {
		sqlite3_bind_int64(st->st_count, 1, deltas[i].peer_id);
		for (int v = 0; v < BMP_VIEWS; v++)
			sqlite3_bind_int64(st->st_count, 2 + v, deltas[i].d[v]);
		rc = step(st->st_count);
	}
	if (!rc && hist) {
		sqlite3_bind_int64(st->st_meta, 1, (int64_t)hist);
		rc = step(st->st_meta);
	}
	free(deltas);
	*hist_out = hist;
	return rc;
}

/* Committing into a file that was removed or replaced would lose it all at
 * restart. */
const char *store_file_moved(const struct store *st)
{
	struct stat sb;
	if (stat(st->path, &sb))
		return errno == ENOENT ? "the database file was removed" : "the database file cannot be checked";
	if (sb.st_dev != st->dev || sb.st_ino != st->ino)
		return "the database file was replaced by another file";
	return NULL;
}

/* The writer's open transaction: the batches applied in it, kept (and
 * counted in queue_bytes) until it commits, so that a failed commit can be
 * replayed whole. */
struct txn {
	struct txn_part {
		struct opq_chunk *chunks;
		size_t n, bytes;
		bool owns; /* it has ops that own memory (op_free) */
	} part[TXN_MAX_BATCHES];
	int nparts;
	size_t ops, bytes;
	uint64_t hist;       /* history rows written */
	int64_t first_hist;  /* st->next_hist at BEGIN */
	pw_mono_t t0;        /* at BEGIN */
	struct store_op *batch; /* one part's ops, decoded */
	size_t batch_cap;
};

static int txn_begin(struct store *st, struct txn *t)
{
	t->first_hist = st->next_hist;
	t->hist = 0;
	st->txn_keys.n4 = st->txn_keys.n6 = 0; /* a retry adds them again */
	return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : sqlite3_errcode(st->db);
}

static int txn_apply_part(struct store *st, struct txn *t, int i)
{
	struct txn_part *p = &t->part[i];
	if (t->batch_cap < p->n) {
		t->batch_cap = p->n;
		t->batch = pw_realloc(t->batch, t->batch_cap * sizeof *t->batch);
	}
	opq_decode(p->chunks, t->batch);
	p->owns = false;
	for (size_t k = 0; k < p->n; k++)
		p->owns |= t->batch[k].kind != OP_ROUTE && t->batch[k].kind != OP_ATTR;
	uint64_t hist = 0;
	int rc = apply_batch(st, t->batch, p->n, &hist);
	t->hist += hist;
	return rc;
}

/* Frees what the transaction's ops own (router, peer and statement ops own
 * their strings; a replay decodes the same pointers again, so they live
 * until the commit) and their chunks. */
static void txn_free_parts(struct txn *t)
{
	for (int i = 0; i < t->nparts; i++) {
		struct txn_part *p = &t->part[i];
		if (p->owns) {
			opq_decode(p->chunks, t->batch); /* the part's ops, again */
			for (size_t k = 0; k < p->n; k++)
				op_free(&t->batch[k]);
		}
		opq_free_chunks(p->chunks);
	}
}

/* Commits the open transaction (rc: its first failure, or 0). A failure is
 * rolled back, reported loudly, and the same batches are applied again
 * until a commit succeeds: nothing taken from the queue is dropped. */
static void txn_commit(struct store *st, struct txn *t, int rc)
{
	for (;;) {
		const char *moved = rc ? NULL : store_file_moved(st);
		if (!rc && !moved && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			rc = sqlite3_errcode(st->db);
		if (!rc && !moved)
			break;
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->next_hist = t->first_hist; /* the retry gives the same ids */
		if (!atomic_exchange(&st->failing, true))
			PW_ERR("msg=\"store commit failed; retrying\" db=%s error=\"%s\" ops=%zu", st->path,
			       moved ? moved : sqlite3_errstr(rc), t->ops);
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
		rc = txn_begin(st, t);
		for (int i = 0; i < t->nparts && !rc; i++)
			rc = txn_apply_part(st, t, i);
	}
	if (atomic_exchange(&st->failing, false))
		PW_INFO("msg=\"store commits recovered\" db=%s", st->path);
	skeys_push(st->keys, &st->txn_keys); /* their routes rows are committed */
	uint64_t us = (uint64_t)((pw_mono_now().ns - t->t0.ns) / 1000);
	PW_DEBUG("msg=\"batch committed\" ops=%zu batches=%d bytes=%zu history_rows=%llu ms=%.1f", t->ops,
		 t->nparts, t->bytes, (unsigned long long)t->hist, us / 1e3);
	atomic_fetch_add(&st->history_rows, t->hist);
	atomic_fetch_add(&st->batches, 1);
	atomic_fetch_add(&st->batch_us_total, us);
	atomic_store(&st->batch_us_last, us);
	txn_free_parts(t);
	pthread_mutex_lock(&st->lock);
	st->committed += t->ops;
	atomic_fetch_sub(&st->pending, t->ops);
	atomic_fetch_sub(&st->queue_bytes, t->bytes);
	if (atomic_load(&st->queue_bytes) < STORE_LOW_WATER && atomic_exchange(&st->drain_armed, false) &&
	    st->drained_fn)
		st->drained_fn(st->drained_ctx);
	bool idle = !st->queue.nops;
	pthread_cond_broadcast(&st->done);
	pthread_mutex_unlock(&st->lock);
	st->last_txn = t->t0;
	st->last_txn_ops = t->ops;
	t->nparts = 0;
	t->ops = t->bytes = 0;
	if (idle && t->batch_cap > BATCH_KEEP) { /* a full table's batches are not kept for ever */
		free(t->batch);
		t->batch = NULL;
		t->batch_cap = 0;
	}
}

/* With st->lock held: waits for more ops before a transaction begins
 * (TXN_GATHER_MS above). */
static void gather(struct store *st)
{
	pw_mono_t end = pw_mono_add_ms(st->last_txn, TXN_GATHER_MS);
	if (st->last_txn_ops < TXN_GATHER_AFTER || !pw_mono_before(pw_mono_now(), end))
		return;
	struct timespec until = { (time_t)(end.ns / 1000000000), (long)(end.ns % 1000000000) };
	st->gathering = true;
	while (st->queue.nops < TXN_GATHER_OPS && !st->stop && !st->flushing &&
	       pthread_cond_timedwait(&st->wake, &st->lock, &until) != ETIMEDOUT)
		;
	st->gathering = false;
}

static void *writer_main(void *arg)
{
	struct store *st = arg;
	struct txn t = { .nparts = 0 };
	for (;;) {
		pthread_mutex_lock(&st->lock);
		if (t.nparts && (t.nparts == TXN_MAX_BATCHES || st->queue.nops < TXN_GROUP_MIN)) {
			pthread_mutex_unlock(&st->lock);
			txn_commit(st, &t, 0);
			continue;
		}
		while (!st->queue.nops && !st->stop) /* no transaction is open here */
			pthread_cond_wait(&st->wake, &st->lock);
		if (!t.nparts)
			gather(st);
		if (!st->queue.nops && st->stop) {
			pthread_mutex_unlock(&st->lock);
			break;
		}
		/* whole chunks, about STORE_MAX_BATCH ops; never a split group */
		struct txn_part *p = &t.part[t.nparts];
		p->chunks = opq_take(&st->queue, STORE_MAX_BATCH, &p->n, &p->bytes);
		pthread_mutex_unlock(&st->lock);
		int rc = 0;
		if (!t.nparts) {
			t.t0 = pw_mono_now();
			rc = txn_begin(st, &t);
		}
		t.nparts++;
		t.ops += p->n;
		t.bytes += p->bytes;
		if (!rc)
			rc = txn_apply_part(st, &t, t.nparts - 1);
		if (rc)
			txn_commit(st, &t, rc);
	}
	free(t.batch);
	return NULL;
}

/* --------------------------------------------------------- checkpointer */

static void ckpt_run(struct store *st, sqlite3 *db)
{
	int frames = 0, copied = 0;
	int64_t t0 = pw_mono_now().ns;
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
	PW_DEBUG("msg=\"WAL checkpoint\" rc=%d frames=%d copied=%d ms=%.1f", rc, frames, copied,
		 (pw_mono_now().ns - t0) / 1e6);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) { /* the WAL keeps the data: nothing is lost */
		if (!atomic_exchange(&st->ckpt_failing, true))
			PW_WARN("msg=\"WAL checkpoint failed; the WAL file grows until one succeeds\" db=%s error=\"%s\"",
				st->path, sqlite3_errstr(rc));
	} else if (rc == SQLITE_OK && atomic_exchange(&st->ckpt_failing, false)) {
		PW_INFO("msg=\"WAL checkpoints recovered\" db=%s", st->path);
	}
}

/* After each of the writer's commits, on the writer thread. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)name;
	struct store *st = arg;
	if (frames >= CKPT_WRITER_FRAMES) {
		ckpt_run(st, db);
	} else if (frames >= CKPT_FRAMES) {
		pthread_mutex_lock(&st->ckpt_lock);
		st->ckpt_wanted = true;
		pthread_cond_signal(&st->ckpt_wake);
		pthread_mutex_unlock(&st->ckpt_lock);
	}
	return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->ckpt_lock);
	for (;;) {
		while (!st->ckpt_wanted && !st->ckpt_stop)
			pthread_cond_wait(&st->ckpt_wake, &st->ckpt_lock);
		if (st->ckpt_stop)
			break;
		st->ckpt_wanted = false;
		pthread_mutex_unlock(&st->ckpt_lock);
		ckpt_run(st, st->ckpt_db);
		pthread_mutex_lock(&st->ckpt_lock);
	}
	pthread_mutex_unlock(&st->ckpt_lock);
	return NULL;
}

/* Starts the checkpointer; without its connection, SQLite's own
 * checkpoints (in the writer's commits) stay. */
static void ckpt_start(struct store *st)
{
	/* the connection learns that the file is in WAL mode when it first
	 * reads it: until then its checkpoints do nothing */
	if (sqlite3_open_v2(st->path, &st->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->ckpt_db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
		PW_WARN("msg=\"no checkpointer connection; the writer checkpoints\" db=%s error=\"%s\"", st->path,
			st->ckpt_db ? sqlite3_errmsg(st->ckpt_db) : "out of memory");
		sqlite3_close(st->ckpt_db);
		st->ckpt_db = NULL;
		return;
	}
	pw_require(pthread_create(&st->ckpt_thread, NULL, ckpt_main, st) == 0);
	sqlite3_wal_hook(st->db, on_wal_commit, st); /* replaces SQLite's autocheckpoint */
}

static void ckpt_stop(struct store *st)
{
	if (!st->ckpt_db)
		return;
	pthread_mutex_lock(&st->ckpt_lock);
	st->ckpt_stop = true;
	pthread_cond_signal(&st->ckpt_wake);
	pthread_mutex_unlock(&st->ckpt_lock);
	pthread_join(st->ckpt_thread, NULL);
	sqlite3_close(st->ckpt_db);
	st->ckpt_db = NULL;
}

void store_start(struct store *st, struct rib *rib)
{
	pw_require(prepare(st) == 0);
	rib_subscribe(rib, on_rib_event, st);
	st->rib_thread = pthread_self();
	ckpt_start(st);
	skeys_start(st->keys);
	pw_require(pthread_create(&st->thread, NULL, writer_main, st) == 0);
	st->started = true;
}

void store_flush(struct store *st)
{
	publish_if_owner(st);
	pthread_mutex_lock(&st->lock);
	uint64_t target = st->enqueued;
	st->flushing++;
	pthread_cond_signal(&st->wake); /* no gathering while somebody waits */
	while (st->started && st->committed < target)
		pthread_cond_wait(&st->done, &st->lock);
	st->flushing--;
	pthread_mutex_unlock(&st->lock);
	skeys_sync(st->keys);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->started) {
		publish_if_owner(st);
		pthread_mutex_lock(&st->lock);
		st->stop = true;
		pthread_cond_signal(&st->wake);
		pthread_mutex_unlock(&st->lock);
		pthread_join(st->thread, NULL);
		ckpt_stop(st); /* then the writer's close, the last, checkpoints the rest */
	}
	skeys_close(st->keys); /* writes what the writer handed over */
	skey_run_free(&st->txn_keys);
	sqlite3_stmt *stmts[] = { st->st_router, st->st_peer, st->st_attr, st->st_route_new,
				  st->st_route_upd, st->st_hist, st->st_hist_chg, st->st_count, st->st_meta,
				  st->st_route_new_n, st->st_hist_n };
	for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
		sqlite3_finalize(stmts[i]);
	for (int i = 0; i < st->n_exec_cache; i++)
		sqlite3_finalize(st->exec_cache[i].stmt);
	sqlite3_close(st->db);
	opq_free_chunks(st->queue.head);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->wake);
	pthread_cond_destroy(&st->done);
	pthread_mutex_destroy(&st->ckpt_lock);
	pthread_cond_destroy(&st->ckpt_wake);
	free(st->path);
	free(st);
}
