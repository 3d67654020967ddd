/*
 * Unit tests: store.c -- the writer thread against a real SQLite file:
 * back-pressure (the drain callback that resumes paused feeds), a batch's
 * new routes rows in id order and their keys in key order (rows and
 * history as the RIB said, whatever the arrival order, with changes in the
 * same batch), a backlog's
 * batches grouped into fewer transactions, replayed whole on a failure,
 * the WAL copied into the database file while the writer goes on,
 * steady changes gathered into a few commits a second, and the loop's
 * staged changes handed over whole.
 */
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_harness.h"
#include "test_prefix.h"
#include "common/embedded.h"
#include "common/log.h"

#define T0 1764072000000000LL

static char dir[] = "/tmp/pw-test-store-XXXXXX";

static struct store *open_store(const char *name)
{
	char path[128], err[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct store *st = store_open(path, err, sizeof err);
	if (!st)
		fprintf(stderr, "store_open: %s\n", err);
	return st;
}

struct drained {
	struct store *st;
	_Atomic int calls;
	_Atomic uint64_t bytes_at_call;
};

static void on_drained(void *ctx)
{
	struct drained *d = ctx;
	atomic_store(&d->bytes_at_call, store_queue_bytes(d->st));
	atomic_fetch_add(&d->calls, 1);
}

static void wait_calls(struct drained *d, int n)
{
	for (int i = 0; i < 500 && atomic_load(&d->calls) < n; i++)
		usleep(10000);
}

static void test_drain_callback(void)
{
	TEST_SECTION("back-pressure: the writer calls back below the low watermark, only when armed");
	struct store *st = open_store("drain.db");
	if (!CHECK(st))
		return;
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	struct drained d = { .st = st };
	store_on_drained(st, on_drained, &d);
	/* queued before the writer runs: above the high watermark */
	const struct store_param p[] = { SP_T("drain-test"), SP_I(1) };
	CHECK(!store_backlogged(st));
	while (store_queue_bytes(st) <= STORE_HIGH_WATER)
		store_exec(st, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", p, 2);
	CHECK(store_backlogged(st)); /* arms the callback */
	store_start(st, rib);
	wait_calls(&d, 1);
	CHECK_INT(atomic_load(&d.calls), ==, 1);
	CHECK_INT(atomic_load(&d.bytes_at_call), <, STORE_LOW_WATER);
	store_flush(st);
	CHECK(!store_backlogged(st));
	CHECK_INT(store_queue_bytes(st), ==, 0);

	/* not armed (nobody was paused): a second drain stays silent */
	for (int i = 0; i < 100000; i++)
		store_exec(st, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", p, 2);
	store_flush(st);
	CHECK_INT(atomic_load(&d.calls), ==, 1);
	store_on_drained(st, NULL, NULL);
	store_close(st);
	rib_free(rib);
}

static const uint8_t set_a[] = { 0x40, 0x01, 0x00, 0x01, 0x00 };
static const uint8_t set_b[] = { 0x40, 0x01, 0x00, 0x01, 0x02 };

/* Router R1 connected, with its peer 192.0.2.1 (AS 65001) up. */
static const struct bmp_peer_hdr peer_hdr = {
	.type = BMP_PEER_GLOBAL, .afi = PW_AFI_IPV4, .addr = { 192, 0, 2, 1 }, .asn = 65001
};
static struct rib_peer *r1_peer_up(struct rib *rib)
{
	struct rib_router *r = rib_router_connect(rib, "R1", "198.51.100.1", T0);
	struct rib_peer *peer = rib_peer_get(r, &peer_hdr);
	rib_peer_up(peer, NULL, T0);
	return peer;
}

/* A second connection to the database at `path`, with its prefix index
 * (route_keys) attached as the API's readers have it. */
static sqlite3 *open_other(const char *path)
{
	sqlite3 *db = NULL;
	char sql[300];
	snprintf(sql, sizeof sql, "ATTACH DATABASE '%s-keys' AS keys", path);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	return db;
}

/* A store `name` started on a new RIB, and a second connection to its file
 * (whose path goes to `path`): the tests' other writer, and their reader. */
static struct store *start_with_other(const char *name, struct rib **rib, sqlite3 **other, char *path, size_t n)
{
	struct store *st = open_store(name);
	if (!CHECK(st))
		return NULL;
	snprintf(path, n, "%s/%s", dir, name);
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	*rib = rib_new(&cfg);
	store_start(st, *rib);
	*other = open_other(path);
	return st;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The index of the database at `path` holds exactly one key per routes
 * row, each that row's, and says so (through = the last route id). */
static void check_index(const char *path, int64_t routes)
{
	sqlite3 *db = open_other(path);
	CHECK_INT(q_int(db, "SELECT count(*) FROM routes"), ==, routes);
	CHECK_INT(q_int(db, "SELECT count(*) FROM route_keys"), ==, routes);
	CHECK_INT(q_int(db, "SELECT count(*) FROM route_keys k JOIN routes r ON r.id = k.id AND r.prefix = k.prefix"), ==,
		  routes);
	CHECK_INT(q_int(db, "SELECT value = (SELECT max(id) FROM routes) FROM keys_meta WHERE key = 'through'"), ==, 1);
	sqlite3_close(db);
}

static void test_ordered_inserts(void)
{
	TEST_SECTION("new route keys inserted in key order; changes in the same batch still apply");
	enum { N = 10000 }; /* past the RIB's small chunks (8128 routes) */
	char path[128];
	struct rib *rib;
	sqlite3 *other;
	struct store *st = start_with_other("order.db", &rib, &other, path, sizeof path);
	if (!st)
		return;
	/* the order in which the writer inserts routes rows and their keys */
	CHECK(sqlite3_exec(other,
			   "CREATE TABLE insert_order (route_id INTEGER);"
			   "CREATE TRIGGER log_insert AFTER INSERT ON routes BEGIN INSERT INTO insert_order VALUES (new.id); END;"
			   "CREATE TABLE keys.key_order (prefix BLOB, route_id INTEGER);"
			   "CREATE TRIGGER keys.log_key AFTER INSERT ON route_keys BEGIN"
			   " INSERT INTO key_order VALUES (new.prefix, new.id); END",
			   NULL, NULL, NULL) == SQLITE_OK);
	/* hold the write lock so that everything below lands in one batch */
	CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);

	struct rib_peer *peer = r1_peer_up(rib);
	struct rib_attrset *a = rib_attrs_intern(rib, set_a, sizeof set_a);
	struct rib_attrset *b = rib_attrs_intern(rib, set_b, sizeof set_b);
	/* keys in a scrambled order (7919 is prime to N: a permutation) */
	for (uint32_t i = 0; i < N; i++) {
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 24 };
		pw_put32(q.addr, 0x0a000000u + (((i * 7919u) % N) << 8));
		rib_announce(peer, BMP_VIEW_PRE, &q, 0, a, T0 + i, 0);
	}
	/* the same prefixes from a second peer, interleaved: equal keys */
	struct bmp_peer_hdr h2 = peer_hdr;
	h2.addr[3] = 2;
	struct rib_peer *peer2 = rib_peer_get(peer->router, &h2);
	rib_peer_up(peer2, NULL, T0);
	for (uint32_t i = 0; i < 300; i++) {
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 24 };
		pw_put32(q.addr, 0x0a000000u + (((i * 7919u) % N) << 8));
		rib_announce(peer2, BMP_VIEW_PRE, &q, 0, b, T0 + i, 0);
	}
	/* IPv6 keys (18 bytes, queued out of line) among them */
	static const char *const v6[] = { "2001:db8:9::/48", "2001:db8::/32", "2001:db8:5::/48" };
	for (int i = 0; i < 3; i++) {
		struct pw_prefix q = pfx(v6[i]);
		rib_announce(peer, BMP_VIEW_PRE, &q, 0, a, T0 + i, 0);
	}
	struct pw_prefix changed = pfx("10.0.0.0/24"), gone = pfx("10.0.1.0/24");
	rib_announce(peer, BMP_VIEW_PRE, &changed, 0, b, T0 + N, 0);
	rib_withdraw(peer, BMP_VIEW_PRE, &gone, 0, RIB_REASON_NONE, T0 + N + 1, 0);
	uint32_t changed_id = rib_lookup(peer, BMP_VIEW_PRE, &changed, 0)->route_id;
	uint32_t gone_id = rib_lookup_slot(peer, BMP_VIEW_PRE, &gone, 0)->route_id;
	rib_attrs_unref(rib, a);
	rib_attrs_unref(rib, b);
	usleep(50000); /* the writer has taken what was queued and waits for the lock */
	sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
	store_flush(st);
	CHECK(!store_failing(st));

	CHECK_INT(q_int(other, "SELECT count(*) FROM routes"), ==, N + 303);
	CHECK_INT(q_int(other, "SELECT count(*) FROM routes WHERE attr_id IS NOT NULL"), ==, N + 302);
	CHECK_INT(q_int(other, "SELECT count(*) FROM history"), ==, N + 305);
	CHECK_INT(store_history_rows(st), ==, N + 305);
	/* routes rows appended in id order; their keys inserted in (prefix,
	 * route id) order within a batch: IPv4 before IPv6, equal keys by id.
	 * The writer may wake and take the first ops before the rest are
	 * queued (a second batch, sorted on its own): a few places where the
	 * key order starts again, where an unsorted batch has thousands */
	CHECK_INT(q_int(other, "SELECT count(*) FROM insert_order"), ==, N + 303);
	CHECK_INT(q_int(other, "SELECT count(*) FROM (SELECT route_id AS id, lag(route_id) OVER w AS pid FROM insert_order"
			       " WINDOW w AS (ORDER BY rowid)) WHERE pid IS NOT NULL AND id < pid"),
		  ==, 0);
	CHECK_INT(q_int(other, "SELECT count(*) FROM key_order k JOIN routes r ON r.id = k.route_id AND r.prefix = k.prefix"),
		  ==, N + 303);
	CHECK_INT(q_int(other, "SELECT count(*) FROM (SELECT prefix AS p, route_id AS id, lag(prefix) OVER w AS pp,"
			       " lag(route_id) OVER w AS pid FROM key_order"
			       " WINDOW w AS (ORDER BY rowid)) WHERE pp IS NOT NULL AND (p < pp OR (p = pp AND id < pid))"),
		  <=, 2);
	/* the IPv6 keys whole, after the IPv4 ones, in order */
	CHECK_INT(q_int(other, "SELECT group_concat(hex(prefix)) = '0220010DB800000000000000000000000020,"
			       "0220010DB800050000000000000000000030,0220010DB800090000000000000000000030'"
			       " FROM (SELECT prefix FROM route_keys WHERE prefix > x'01ff' ORDER BY prefix)"),
		  ==, 1);
	char sql[320];
	snprintf(sql, sizeof sql, "SELECT attr_id FROM routes WHERE id = %u", changed_id);
	CHECK_INT(q_int(other, sql), ==, b->id);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM routes WHERE id = %u AND attr_id IS NULL", gone_id);
	CHECK_INT(q_int(other, sql), ==, 1);
	/* the route's history in its order: announce, then change */
	snprintf(sql, sizeof sql, "SELECT group_concat(action, ',') FROM (SELECT action FROM history WHERE route_id = %u ORDER BY id)",
		 changed_id);
	sqlite3_stmt *s;
	if (CHECK(sqlite3_prepare_v2(other, sql, -1, &s, NULL) == SQLITE_OK) && CHECK(sqlite3_step(s) == SQLITE_ROW))
		CHECK_STR((const char *)sqlite3_column_text(s, 0), "1,2");
	sqlite3_finalize(s);
	/* each route's history is a chain from routes.hist back by prev */
	snprintf(sql, sizeof sql,
		 "SELECT h.action = 2 AND p.action = 1 AND p.prev IS NULL AND p.id < h.id FROM routes r"
		 " JOIN history h ON h.id = r.hist AND h.route_id = r.id JOIN history p ON p.id = h.prev AND p.route_id = r.id"
		 " WHERE r.id = %u",
		 changed_id);
	CHECK_INT(q_int(other, sql), ==, 1);
	snprintf(sql, sizeof sql, "SELECT h.action FROM routes r JOIN history h ON h.id = r.hist WHERE r.id = %u", gone_id);
	CHECK_INT(q_int(other, sql), ==, 3);
	CHECK_INT(q_int(other, "SELECT count(*) FROM routes r JOIN history h ON h.id = r.hist AND h.route_id = r.id"), ==, N + 303);
	CHECK_INT(q_int(other, "SELECT count(*) FROM history WHERE prev IS NOT NULL"), ==, 2);
	/* the live counts of the peer follow */
	CHECK_INT(q_int(other, "SELECT n_pre FROM peers"), ==, N + 2);
	sqlite3_close(other);
	store_close(st);
	rib_free(rib);
}

/* Another thread's writes (the webhook delivery's results) while the loop
 * announces. */
static void *exec_from_other_thread(void *arg)
{
	struct store *st = arg;
	for (int i = 0; i < 2000; i++) {
		char key[32];
		snprintf(key, sizeof key, "other-%d", i);
		const struct store_param p[] = { SP_T(key), SP_I(i) };
		store_exec(st, "INSERT INTO meta (key, value) VALUES (?1, ?2)", p, 2);
	}
	return NULL;
}

static int64_t count_blob(sqlite3 *db, const char *sql, const void *b, int n)
{
	sqlite3_stmt *s;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(s, 1, b, n, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return v;
}

static void test_stage(void)
{
	TEST_SECTION("the loop's staged changes: set bytes and IPv6 keys copied before the RIB frees them, "
		     "handed over by store_flush, beside another thread's writes");
	enum { SETS = 40, V6 = 600, BIG = 40000 };
	char path[128];
	struct rib *rib;
	sqlite3 *other;
	struct store *st = start_with_other("stage.db", &rib, &other, path, sizeof path);
	if (!st)
		return;
	struct rib_peer *peer = r1_peer_up(rib);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, exec_from_other_thread, st) == 0);
	/* one route re-announced with 40 sets: some larger than the stage's
	 * byte area, most filling it; each set is freed by the RIB when the
	 * next announce replaces it, before the stage goes to the queue */
	static uint8_t set[BIG];
	for (int i = 0; i < BIG; i++)
		set[i] = (uint8_t)(i * 7);
	struct pw_prefix one = pfx("10.9.0.0/16");
	for (int k = 0; k < SETS; k++) {
		set[0] = (uint8_t)k;
		struct rib_attrset *a = rib_attrs_intern(rib, set, k % 4 ? 6000u + (uint32_t)k : BIG);
		rib_announce(peer, BMP_VIEW_PRE, &one, 0, a, T0 + k, 0);
		rib_attrs_unref(rib, a);
	}
	/* more IPv6 routes than the stage holds: it goes several times */
	struct rib_attrset *small = rib_attrs_intern(rib, set_a, sizeof set_a);
	for (int i = 0; i < V6; i++) {
		char text[64];
		snprintf(text, sizeof text, "2001:db8:%x::/48", i);
		struct pw_prefix q = pfx(text);
		rib_announce(peer, BMP_VIEW_PRE, &q, 0, small, T0 + i, 0);
	}
	/* and a few, fewer than a stage: only store_flush hands them over */
	static const char *const few[] = { "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24" };
	for (int i = 0; i < 3; i++) {
		struct pw_prefix q = pfx(few[i]);
		rib_announce(peer, BMP_VIEW_PRE, &q, 0, small, T0 + i, 0);
	}
	rib_attrs_unref(rib, small);
	pthread_join(th, NULL);
	store_flush(st);
	CHECK(!store_failing(st));

	CHECK_INT(q_int(other, "SELECT count(*) FROM history"), ==, SETS + V6 + 3);
	CHECK_INT(q_int(other, "SELECT count(*) FROM routes WHERE attr_id IS NOT NULL"), ==, 1 + V6 + 3);
	int right = 0;
	for (int k = 0; k < SETS; k++) { /* every set's bytes, as they were */
		set[0] = (uint8_t)k;
		right += count_blob(other, "SELECT count(*) FROM attrs WHERE data = ?1", set,
				    k % 4 ? 6000 + k : BIG) == 1;
	}
	CHECK_INT(right, ==, SETS);
	set[0] = SETS - 1;
	CHECK_INT(count_blob(other, "SELECT count(*) FROM routes r JOIN attrs a ON a.id = r.attr_id"
				    " WHERE length(r.prefix) = 6 AND a.data = ?1", set, 6000 + SETS - 1), ==, 1);
	right = 0;
	for (int i = 0; i < V6; i++) { /* every IPv6 key whole */
		char text[64];
		snprintf(text, sizeof text, "2001:db8:%x::/48", i);
		struct pw_prefix q = pfx(text);
		uint8_t key[PW_PREFIX_KEY_LEN];
		int n = (int)pw_prefix_key(&q, key);
		right += count_blob(other, "SELECT count(*) FROM route_keys k JOIN routes r ON r.id = k.id"
					   " AND r.prefix = k.prefix WHERE k.prefix = ?1", key, n) == 1;
	}
	CHECK_INT(right, ==, V6);
	for (int i = 0; i < 3; i++) {
		struct pw_prefix q = pfx(few[i]);
		uint8_t key[PW_PREFIX_KEY_LEN];
		CHECK_INT(count_blob(other, "SELECT count(*) FROM route_keys WHERE prefix = ?1", key,
				     (int)pw_prefix_key(&q, key)), ==, 1);
	}
	CHECK_INT(q_int(other, "SELECT count(*) FROM meta WHERE key LIKE 'other-%'"), ==, 2000);
	sqlite3_close(other);
	store_close(st);
	rib_free(rib);
}

/* A backlog (a full table) is committed several batches per transaction,
 * and a commit that fails replays every batch of its transaction: after
 * the failure, every route and history row is there, once. */
static void test_grouped_commits(void)
{
	TEST_SECTION("a backlog commits several batches per transaction; a failed one is replayed whole");
	enum { N = 350000 }; /* more than 3 batches of STORE_MAX_BATCH (100k) ops */
	char path[128], moved[160];
	struct rib *rib;
	sqlite3 *other;
	struct store *st = start_with_other("group.db", &rib, &other, path, sizeof path);
	if (!st)
		return;
	snprintf(moved, sizeof moved, "%s/group-moved.db", dir);
	/* hold the write lock while the backlog is queued */
	CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
	uint64_t batches0, total_us, last_us;
	store_batch_stats(st, &batches0, &total_us, &last_us);
	struct rib_peer *peer = r1_peer_up(rib);
	struct rib_attrset *a = rib_attrs_intern(rib, set_a, sizeof set_a);
	for (uint32_t i = 0; i < N; i++) {
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 32 };
		pw_put32(q.addr, 0x0b000000u + i);
		rib_announce(peer, BMP_VIEW_PRE, &q, 0, a, T0 + i, 0);
	}
	rib_attrs_unref(rib, a);
	/* the file moves away: the writer's first commit is refused */
	CHECK(rename(path, moved) == 0);
	sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
	for (int i = 0; i < 1000 && !store_failing(st); i++)
		usleep(10000);
	CHECK(store_failing(st));
	CHECK_INT(q_int(other, "SELECT count(*) FROM routes"), ==, 0);
	CHECK(rename(moved, path) == 0);
	store_flush(st);
	CHECK(!store_failing(st));
	uint64_t batches;
	store_batch_stats(st, &batches, &total_us, &last_us);
	CHECK_INT(batches - batches0, <=, 3); /* one per batch would be 4 or more */
	CHECK_INT(q_int(other, "SELECT count(*) FROM routes WHERE attr_id IS NOT NULL"), ==, N);
	CHECK_INT(q_int(other, "SELECT count(*) FROM history"), ==, N);
	CHECK_INT(q_int(other, "SELECT max(id) - min(id) + 1 FROM history"), ==, N); /* the retry reused the ids */
	CHECK_INT(store_history_rows(st), ==, N);
	CHECK_INT(q_int(other, "SELECT n_pre FROM peers"), ==, N);
	/* every key once, its route's: the replayed transaction's keys were
	 * handed over once, after its commit */
	check_index(path, N);
	/* the WAL is copied into the database file while the collector runs,
	 * by the checkpointer (the writer copies only past 4000 WAL pages) */
	struct stat sb = { .st_size = 0 };
	for (int i = 0; i < 500 && (stat(path, &sb) || sb.st_size < (10 << 20)); i++)
		usleep(10000);
	CHECK_INT(sb.st_size, >=, 10 << 20);
	sqlite3_close(other);
	store_close(st);
	rib_free(rib);
}

/* Under a steady stream of changes, commits are gathered (one per 200 ms,
 * not one per wake-up of the writer), and nothing is lost. */
static void test_gathered_commits(void)
{
	TEST_SECTION("steady changes are committed a few times a second, not at every arrival");
	enum { LOAD = 5000, STEPS = 400, PER_STEP = 20 };
	struct store *st = open_store("gather.db");
	if (!CHECK(st))
		return;
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	store_start(st, rib);
	struct rib_peer *peer = r1_peer_up(rib);
	struct rib_attrset *a = rib_attrs_intern(rib, set_a, sizeof set_a);
	uint32_t next = 0;
	for (; next < LOAD; next++) { /* a table: the next commits may gather */
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 32 };
		pw_put32(q.addr, 0x0c000000u + next);
		rib_announce(peer, BMP_VIEW_PRE, &q, 0, a, T0 + next, 0);
	}
	store_flush(st);
	uint64_t batches0, batches, total_us, last_us;
	store_batch_stats(st, &batches0, &total_us, &last_us);
	for (int i = 0; i < STEPS; i++) { /* ~10k changes a second for ~1 s */
		for (int k = 0; k < PER_STEP; k++, next++) {
			struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 32 };
			pw_put32(q.addr, 0x0c000000u + next);
			rib_announce(peer, BMP_VIEW_PRE, &q, 0, a, T0 + next, 0);
		}
		usleep(2000);
	}
	rib_attrs_unref(rib, a);
	store_flush(st);
	store_batch_stats(st, &batches, &total_us, &last_us);
	/* one commit per 200 ms (and a flush) is ~8; one per arrival, hundreds */
	CHECK_INT(batches - batches0, <=, 25);
	CHECK_INT(store_history_rows(st), ==, LOAD + STEPS * PER_STEP);
	store_close(st);
	rib_free(rib);
}

/* A database written before migration 006 (18-byte IPv4 keys) opens, its
 * IPv4 keys become 6 bytes, IPv6 keys stay, and the routes load. */
extern const struct pw_embedded pw_schema_migrations[];

/* A database file `name` as pathwatch wrote it at migration 005, with the
 * rows of `sql`; its path in `path`. */
static bool write_v5_db(const char *name, const char *sql, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	sqlite3 *db;
	if (!CHECK(sqlite3_open(path, &db) == SQLITE_OK))
		return false;
	for (int i = 0; i < 5; i++)
		CHECK(sqlite3_exec(db, (const char *)pw_schema_migrations[i].data, NULL, NULL, NULL) == SQLITE_OK);
	bool ok = CHECK(sqlite3_exec(db, "PRAGMA user_version = 5", NULL, NULL, NULL) == SQLITE_OK) &&
		  CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	return ok;
}

static void test_migration_006(void)
{
	TEST_SECTION("migration 006: IPv4 prefix keys of an older database become 6 bytes and still load");
	static const char old[] =
		"INSERT INTO routers (id, name) VALUES (1, 'R1');"
		"INSERT INTO peers (id, router_id, peer_type, rd, afi, address, address_bin, asn, state)"
		" VALUES (1, 1, 0, 0, 1, '192.0.2.1', zeroblob(16), 65001, 'up');"
		"INSERT INTO attrs VALUES (1, x'00');"
		/* 10.17.11.0/25, 2001:db8::/32 and a withdrawn 192.0.2.0/28 in the 18-byte layout */
		"INSERT INTO routes VALUES (1, 1, 0, x'010a110b0000000000000000000000000019', 0, 1, 5);"
		"INSERT INTO routes VALUES (2, 1, 0, x'0220010db800000000000000000000000020', 0, 1, 5);"
		"INSERT INTO routes VALUES (3, 1, 0, x'01c00002000000000000000000000000001c', 0, NULL, 5);";
	char path[128];
	if (!write_v5_db("old.db", old, path, sizeof path))
		return;
	struct store *st = open_store("old.db");
	if (!CHECK(st))
		return;
	sqlite3 *other = open_other(path);
	CHECK_INT(q_int(other, "PRAGMA user_version"), >=, 6);
	CHECK_INT(q_int(other, "SELECT length(prefix) FROM routes WHERE id = 1"), ==, 6);
	CHECK_INT(q_int(other, "SELECT prefix = x'010a110b0019' FROM routes WHERE id = 1"), ==, 1);
	CHECK_INT(q_int(other, "SELECT prefix = x'01c00002001c' FROM routes WHERE id = 3"), ==, 1);
	CHECK_INT(q_int(other, "SELECT length(prefix) FROM routes WHERE id = 2"), ==, 18);
	/* route_keys (migration 008, then the prefix index's file) walks IPv4
	 * (by address) before IPv6 */
	CHECK_INT(q_int(other, "SELECT group_concat(id) = '1,3,2' FROM route_keys"), ==, 1);
	CHECK_INT(q_int(other, "SELECT count(*) FROM sqlite_master WHERE name = 'routes_prefix'"), ==, 0);
	sqlite3_close(other);
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	char err[256] = "";
	CHECK_INT(store_load(st, rib, err, sizeof err), ==, 0);
	struct rib_router *r = rib_router_find(rib, "R1");
	struct rib_peer *p = r && r->n_peers ? r->peers[0] : NULL;
	if (CHECK(p)) {
		struct pw_prefix v4 = pfx("10.17.11.0/25"), v6 = pfx("2001:db8::/32"), gone = pfx("192.0.2.0/28");
		const struct rib_route *rt = rib_lookup(p, BMP_VIEW_PRE, &v4, 0);
		CHECK(rt && rt->route_id == 1);
		rt = rib_lookup(p, BMP_VIEW_PRE, &v6, 0);
		CHECK(rt && rt->route_id == 2);
		rt = rib_lookup_slot(p, BMP_VIEW_PRE, &gone, 0);
		CHECK(rt && rt->route_id == 3 && !rt->attrs);
	}
	store_close(st);
	rib_free(rib);
}

/* A store on the existing database `name`, its RIB loaded into a new one
 * (*rib), started (the test's thread is the rib's). */
static struct store *start_loaded(const char *name, struct rib **rib)
{
	struct store *st = open_store(name);
	if (!CHECK(st))
		return NULL;
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	*rib = rib_new(&cfg);
	char err[256] = "";
	CHECK_INT(store_load(st, *rib, err, sizeof err), ==, 0);
	store_start(st, *rib);
	return st;
}

/* A database written before migration 007 (history found by its
 * (route_id, time) index) gets its chains; rows written after the
 * migration continue them, with ids above every pruned row's. */
static void test_migration_007(void)
{
	TEST_SECTION("migration 007: history of an older database becomes per-route chains that new rows continue");
	/* as at 006: that migration changed only the keys (with the store's
	 * function), so 005 with 6-byte keys */
	static const char old[] =
		"INSERT INTO routers (id, name) VALUES (1, 'R1');"
		"INSERT INTO peers (id, router_id, peer_type, rd, afi, address, address_bin, asn, state)"
		" VALUES (1, 1, 0, 0, 1, '192.0.2.1', x'c0000201000000000000000000000000', 65001, 'up');"
		"INSERT INTO attrs VALUES (1, x'40010100'), (2, x'40010102');"
		"INSERT INTO routes VALUES (1, 1, 0, x'010a000000' || x'18', 0, 2, 30);"
		"INSERT INTO routes VALUES (2, 1, 0, x'010a000100' || x'18', 0, NULL, 40);"
		/* interleaved: route 1 announce, change; route 2 announce, withdraw;
		 * rows 2 and 3 were pruned (ids up to 60 examined) */
		"INSERT INTO history (id, route_id, time, action, attr_id) VALUES (1, 1, 10, 1, 1), (4, 2, 20, 1, 1),"
		" (5, 1, 30, 2, 2), (7, 2, 40, 3, 1);"
		"UPDATE meta SET value = 60 WHERE key = 'prune_cursor';";
	char path[128];
	if (!write_v5_db("old7.db", old, path, sizeof path))
		return;

	struct rib *rib;
	struct store *st = start_loaded("old7.db", &rib);
	if (!st)
		return;
	sqlite3 *other = open_other(path);
	CHECK_INT(q_int(other, "PRAGMA user_version"), >=, 7);
	CHECK_INT(q_int(other, "SELECT count(*) FROM sqlite_master WHERE name = 'history_route'"), ==, 0);
	CHECK_INT(q_int(other, "SELECT group_concat(id || ':' || coalesce(prev, '-'), ' ') = '1:- 4:- 5:1 7:4' FROM history"),
		  ==, 1);
	CHECK_INT(q_int(other, "SELECT group_concat(hist) = '5,7' FROM routes"), ==, 1);

	struct rib_peer *peer = r1_peer_up(rib);
	struct rib_attrset *a = rib_attrs_intern(rib, set_a, sizeof set_a);
	struct pw_prefix p1 = pfx("10.0.0.0/24"), p2 = pfx("10.0.1.0/24");
	rib_withdraw(peer, BMP_VIEW_PRE, &p1, 0, RIB_REASON_NONE, T0 + 1, 0); /* an existing route changes */
	rib_announce(peer, BMP_VIEW_PRE, &p2, 0, a, T0 + 2, 0);                /* a withdrawn one returns */
	rib_attrs_unref(rib, a);
	store_flush(st);
	CHECK(!store_failing(st));
	/* ids above the pruned rows' (60); each row links to its route's previous newest */
	CHECK_INT(q_int(other, "SELECT group_concat(id || ':' || route_id || ':' || prev, ' ') = '61:1:5 62:2:7'"
			       " FROM history WHERE id > 7"),
		  ==, 1);
	CHECK_INT(q_int(other, "SELECT group_concat(hist) = '61,62' FROM routes"), ==, 1);
	/* every route's key, once, in the prefix index's file (migration 009
	 * dropped 008's table from the database) */
	CHECK_INT(q_int(other, "SELECT count(*) FROM route_keys k JOIN routes r ON r.id = k.id AND r.prefix = k.prefix"),
		  ==, 2);
	CHECK_INT(q_int(other, "SELECT count(*) FROM route_keys"), ==, 2);
	CHECK_INT(q_int(other, "SELECT count(*) FROM main.sqlite_master WHERE name = 'route_keys'"), ==, 0);
	sqlite3_close(other);
	store_close(st);
	rib_free(rib);
}

/* ---------------------------------------------------------- prefix index */

/* Routes announced from R1's peer through a store on `name` (its existing
 * RIB loaded first): n of <10 + base>.x.y.0/24 in a scrambled order (every
 * 50th an IPv6 /48), or the prefixes of `list`. Once store_flush returns,
 * the index holds every key (total routes). */
static void add_routes(const char *name, uint32_t base, uint32_t n, const char *const *list, int64_t total)
{
	struct rib *rib;
	struct store *st = start_loaded(name, &rib);
	if (!st)
		return;
	struct rib_peer *peer = r1_peer_up(rib);
	struct rib_attrset *a = rib_attrs_intern(rib, set_a, sizeof set_a);
	for (uint32_t i = 0; i < n; i++) {
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 24 };
		pw_put32(q.addr, (10 + base) << 24 | ((i * 7919u) % n) << 8);
		if (list) {
			q = pfx(list[i]);
		} else if (i % 50 == 49) {
			q = (struct pw_prefix){ .afi = PW_AFI_IPV6, .len = 48 };
			pw_put32(q.addr, 0x20010db8u);
			q.addr[4] = (uint8_t)base;
			q.addr[5] = (uint8_t)i;
		}
		rib_announce(peer, BMP_VIEW_PRE, &q, 0, a, T0 + i, 0);
	}
	rib_attrs_unref(rib, a);
	store_flush(st);
	CHECK(!store_failing(st));
	CHECK_INT(store_pending(st), ==, 0);
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	check_index(path, total);
	store_close(st);
	rib_free(rib);
}

static void run_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

/* `to` becomes a copy of the closed database `from` (no WAL left). */
static void copy_file(const char *from, const char *to)
{
	char cmd[800];
	snprintf(cmd, sizeof cmd, "cp %s %s && rm -f %s-wal %s-shm", from, to, to, to);
	CHECK(system(cmd) == 0);
}

static void test_prefix_index(void)
{
	TEST_SECTION("the prefix index's file: written after each commit, caught up or rebuilt when it is behind, "
		     "damaged, or not the database's");
	char path[128], keys[160], saved[160], saved2[160], cmd[600];
	snprintf(path, sizeof path, "%s/index.db", dir);
	snprintf(keys, sizeof keys, "%s-keys", path);
	add_routes("index.db", 1, 3000, NULL, 3000);

	/* a crash after the database's commit and before the index's: the
	 * keys past `through` are copied at the next start */
	run_sql(keys, "DELETE FROM route_keys WHERE id > 1000; UPDATE keys_meta SET value = 1000 WHERE key = 'through'");
	add_routes("index.db", 2, 10, NULL, 3010);

	/* removed (or from before migration 009): built again */
	snprintf(cmd, sizeof cmd, "rm -f %s %s-wal %s-shm", keys, keys, keys);
	CHECK(system(cmd) == 0);
	add_routes("index.db", 3, 10, NULL, 3020);

	/* not a database: removed and built again */
	snprintf(cmd, sizeof cmd, "head -c 40000 /dev/urandom > %s", keys);
	CHECK(system(cmd) == 0);
	add_routes("index.db", 4, 10, NULL, 3030);

	/* the database restored from a backup beside a newer index: its keys
	 * of the routes lost would name the ids that new routes get next */
	snprintf(saved, sizeof saved, "%s/index-backup", dir);
	copy_file(path, saved);
	add_routes("index.db", 5, 500, NULL, 3530);
	copy_file(saved, path);
	add_routes("index.db", 6, 20, NULL, 3050); /* ids 3031.. again, other prefixes */

	/* a backup from another branch of its history, restored beside an
	 * index that agrees with it on the newest route: the epoch tells */
	static const char *const branch1[] = { "192.0.2.0/25", "198.51.100.0/24", "203.0.113.0/24" };
	static const char *const branch2[] = { "192.0.2.128/25", "2001:db8:77::/48", "203.0.113.0/24" };
	copy_file(path, saved);
	add_routes("index.db", 0, 3, branch1, 3053);
	snprintf(saved2, sizeof saved2, "%s/index-backup2", dir);
	copy_file(path, saved2);
	copy_file(saved, path);
	add_routes("index.db", 0, 3, branch2, 3053);
	copy_file(saved2, path); /* ids 3051-3053: branch 1's; the index has branch 2's */
	add_routes("index.db", 7, 1, NULL, 3054);

	/* another database's index beside it, its newest key one the
	 * database has too */
	add_routes("second.db", 8, 4000, NULL, 4000);
	snprintf(saved, sizeof saved, "%s/second.db-keys", dir);
	copy_file(keys, saved);
	add_routes("second.db", 9, 5, NULL, 4005);

	/* a key that is not its route's (the newest): rebuilt, not trusted */
	run_sql(keys, "UPDATE route_keys SET prefix = x'01c0000200' || x'18'"
		      " WHERE id = (SELECT value FROM keys_meta WHERE key = 'through')");
	add_routes("index.db", 10, 1, NULL, 3055);
}

/* Announces n routes of <10 + base>.x.0.0/16 and hands them to the writer
 * (the test's thread is the rib's). */
static void announce_n(struct rib *rib, struct rib_peer *peer, uint32_t base, uint32_t n)
{
	struct rib_attrset *a = rib_attrs_intern(rib, set_a, sizeof set_a);
	for (uint32_t i = 0; i < n; i++) {
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 16 };
		pw_put32(q.addr, (10 + base) << 24 | i << 16);
		rib_announce(peer, BMP_VIEW_PRE, &q, 0, a, T0 + i, 0);
	}
	rib_attrs_unref(rib, a);
}

static void wait_failing(struct store *st)
{
	for (int i = 0; i < 1000 && !store_failing(st); i++)
		usleep(10000);
}

static void test_prefix_index_failing(void)
{
	TEST_SECTION("the prefix index's commits fail: the store says so and keeps the keys; it still stops");
	char path[128], keys[160];
	struct rib *rib;
	sqlite3 *other, *lock;
	struct store *st = start_with_other("failing.db", &rib, &other, path, sizeof path);
	if (!st)
		return;
	snprintf(keys, sizeof keys, "%s-keys", path);
	CHECK(sqlite3_open(keys, &lock) == SQLITE_OK);
	CHECK(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK); /* the index's writer waits */
	struct rib_peer *peer = r1_peer_up(rib);
	announce_n(rib, peer, 1, 100);
	store_publish(st);
	wait_failing(st);
	CHECK(store_failing(st));
	CHECK_INT(q_int(other, "SELECT count(*) FROM routes"), ==, 100); /* the database takes them */
	CHECK_INT(store_pending(st), ==, 100);                          /* their keys wait */
	CHECK_INT(store_index_pending(st), ==, 100);
	CHECK_INT(q_int(other, "SELECT count(*) FROM route_keys"), ==, 0);
	sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL);
	store_flush(st);
	CHECK(!store_failing(st));
	check_index(path, 100);

	/* stopped while failing: the keys are given up, and the next start
	 * copies them from the database */
	CHECK(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
	announce_n(rib, peer, 2, 50);
	store_publish(st);
	wait_failing(st);
	CHECK(store_failing(st));
	store_close(st);
	rib_free(rib);
	sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(lock);
	CHECK_INT(q_int(other, "SELECT count(*) FROM routes"), ==, 150);
	CHECK_INT(q_int(other, "SELECT count(*) FROM route_keys"), ==, 100);
	sqlite3_close(other);
	add_routes("failing.db", 3, 1, NULL, 151);
}


int main(void)
{
	pw_log_set_level(PW_LOG_WARN);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_drain_callback();
	test_ordered_inserts();
	test_stage();
	test_grouped_commits();
	test_gathered_commits();
	test_migration_006();
	test_migration_007();
	test_prefix_index();
	test_prefix_index_failing();
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_report("test_store");
}
