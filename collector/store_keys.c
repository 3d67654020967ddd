/*
 * store_keys: the prefix index in a file of its own, written by its own
 * thread (stage ⑤). See store_keys.h.
 */
#include "store_keys.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/check.h"
#include "common/log.h"
#include "common/mono.h"
#include "common/text.h"

/* keys per INSERT statement: one execution for many rows' B-tree work */
enum { KEYS_PER_STMT = 32 };

struct run_node {
	struct skey_run run;
	struct run_node *next;
};

struct store_keys {
	char *path;
	sqlite3 *db; /* the keys thread's (before skeys_start: the opener's) */
	sqlite3_stmt *st_one, *st_many, *st_through;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	struct run_node *head, *tail; /* guarded by lock */
	bool stop;                    /* guarded by lock */
	uint64_t pushed, written;     /* guarded by lock: keys handed over, and written (or given up at stop) */
	_Atomic uint64_t pending;
	_Atomic bool failing;         /* its commits fail: skeys_push no longer waits */
	bool gave_up;                 /* keys thread only: stopped while failing, see write_runs */
};

void skey_run_reserve(struct skey_run *r, size_t more4, size_t more6)
{
	if (r->cap4 - r->n4 < more4) {
		r->cap4 = r->n4 + more4;
		r->v4 = pw_realloc(r->v4, r->cap4 * sizeof *r->v4);
	}
	if (r->cap6 - r->n6 < more6) {
		r->cap6 = r->n6 + more6;
		r->v6 = pw_realloc(r->v6, r->cap6 * sizeof *r->v6);
	}
}

void skey_run_add(struct skey_run *r, uint32_t id, const uint8_t *key, size_t len)
{
	bool v4 = len == PW_PREFIX_KEY_LEN_V4;
	pw_require(v4 || len == PW_PREFIX_KEY_LEN);
	pw_require(v4 ? r->n4 < r->cap4 : r->n6 < r->cap6); /* reserved */
	if (v4) {
		struct skey_v4 *k = &r->v4[r->n4++];
		k->id = id;
		memcpy(k->key, key, len);
	} else {
		struct skey_v6 *k = &r->v6[r->n6++];
		k->id = id;
		memcpy(k->key, key, len);
	}
}

void skey_run_free(struct skey_run *r)
{
	free(r->v4);
	free(r->v6);
	*r = (struct skey_run){ .n4 = 0 };
}

char *skeys_path(const char *db_path)
{
	size_t n = strlen(db_path) + sizeof "-keys";
	char *p = pw_malloc(n);
	snprintf(p, n, "%s-keys", db_path);
	return p;
}

int skeys_attach(sqlite3 *db, const char *file, const char *schema)
{
	char sql[64];
	snprintf(sql, sizeof sql, "ATTACH DATABASE ?1 AS %s", schema);
	sqlite3_stmt *a = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &a, NULL);
	if (!rc) {
		sqlite3_bind_text(a, 1, file, -1, SQLITE_STATIC);
		rc = sqlite3_step(a) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
	}
	sqlite3_finalize(a);
	return rc;
}

/* ------------------------------------------------------------- sorting */

/* SQLite's order of the BLOB keys: bytes, then route id (IPv6 keys all
 * have the same length). */
static int cmp_v6(const void *a, const void *b)
{
	const struct skey_v6 *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof x->key);
	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* IPv4 keys in id order, sorted by key as cmp_v4 would: a stable radix
 * sort on the key's five varying bytes (address and length; the family
 * byte is the same) keeps equal keys (one prefix from several peers) in id
 * order. qsort's indirect comparisons cost 4 % of the writer's time when
 * it sorted. */
static void sort_v4(struct skey_v4 *v, size_t n)
{
	if (n < 2)
		return;
	struct skey_v4 *tmp = pw_malloc(n * sizeof *tmp), *in = v, *out = tmp;
	for (int b = PW_PREFIX_KEY_LEN_V4 - 1; b >= 1; b--) {
		size_t count[256] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[in[i].key[b]]++;
		if (count[in[0].key[b]] == n)
			continue; /* every key has this byte */
		size_t sum = 0;
		for (int d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			out[count[in[i].key[b]]++] = in[i];
		struct skey_v4 *t = in;
		in = out;
		out = t;
	}
	if (in != v)
		memcpy(v, in, n * sizeof *v);
	free(tmp);
}

/* ------------------------------------------------------------- writing */

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : sqlite3_errcode(db);
}

static int step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : rc;
}

static int insert_keys(struct store_keys *k, const void *v, size_t size, size_t n, size_t len)
{
	const uint8_t *p = v;
	size_t i = 0;
	int rc = 0;
	for (; i + KEYS_PER_STMT <= n && !rc; i += KEYS_PER_STMT) {
		for (int j = 0; j < KEYS_PER_STMT; j++) {
			const uint8_t *row = p + (i + (size_t)j) * size;
			uint32_t id;
			memcpy(&id, row, sizeof id);
			sqlite3_bind_blob(k->st_many, 2 * j + 1, row + sizeof id, (int)len, SQLITE_STATIC);
			sqlite3_bind_int64(k->st_many, 2 * j + 2, id);
		}
		rc = step(k->st_many);
	}
	for (; i < n && !rc; i++) {
		const uint8_t *row = p + i * size;
		uint32_t id;
		memcpy(&id, row, sizeof id);
		sqlite3_bind_blob(k->st_one, 1, row + sizeof id, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(k->st_one, 2, id);
		rc = step(k->st_one);
	}
	return rc;
}

/* One transaction: the keys of `r` and the new `through`. */
static int write_run(struct store_keys *k, const struct skey_run *r, uint32_t through)
{
	int rc = exec(k->db, "BEGIN IMMEDIATE");
	if (!rc)
		rc = insert_keys(k, r->v4, sizeof *r->v4, r->n4, PW_PREFIX_KEY_LEN_V4);
	if (!rc)
		rc = insert_keys(k, r->v6, sizeof *r->v6, r->n6, PW_PREFIX_KEY_LEN);
	if (!rc) {
		sqlite3_bind_int64(k->st_through, 1, through);
		rc = step(k->st_through);
	}
	if (!rc)
		rc = exec(k->db, "COMMIT");
	if (rc)
		exec(k->db, "ROLLBACK");
	return rc;
}

/* Writes the runs handed over (in id order) as one sorted run, retrying a
 * failed transaction until it commits. Only when the store closes while
 * they fail are they given up, and every later run with them, so that
 * `through` stays below them and the next start copies them from the
 * database. Returns the number of keys. */
static size_t write_runs(struct store_keys *k, struct run_node *list)
{
	/* the first run, with the others' keys appended */
	uint32_t through = 0;
	size_t more4 = 0, more6 = 0;
	for (struct run_node *x = list; x; x = x->next) {
		const struct skey_run *r = &x->run;
		if (r->n4 && r->v4[r->n4 - 1].id > through)
			through = r->v4[r->n4 - 1].id;
		if (r->n6 && r->v6[r->n6 - 1].id > through)
			through = r->v6[r->n6 - 1].id;
		if (x != list) {
			more4 += r->n4;
			more6 += r->n6;
		}
	}
	struct skey_run all = list->run;
	skey_run_reserve(&all, more4, more6);
	for (struct run_node *x = list->next, *next; x; x = next) {
		next = x->next;
		if (x->run.n4)
			memcpy(all.v4 + all.n4, x->run.v4, x->run.n4 * sizeof *all.v4);
		if (x->run.n6)
			memcpy(all.v6 + all.n6, x->run.v6, x->run.n6 * sizeof *all.v6);
		all.n4 += x->run.n4;
		all.n6 += x->run.n6;
		skey_run_free(&x->run);
		free(x);
	}
	free(list); /* its run is `all` */
	sort_v4(all.v4, all.n4);
	if (all.n6)
		qsort(all.v6, all.n6, sizeof *all.v6, cmp_v6);
	pw_mono_t t0 = pw_mono_now();
	int rc = 0;
	while (!k->gave_up && (rc = write_run(k, &all, through))) {
		if (!atomic_load(&k->failing)) {
			PW_ERR("msg=\"prefix index commit failed; retrying\" index=%s error=\"%s\" keys=%zu", k->path,
			       sqlite3_errstr(rc), all.n4 + all.n6);
			pthread_mutex_lock(&k->lock);
			atomic_store(&k->failing, true);
			pthread_cond_broadcast(&k->done); /* a waiting skeys_push goes on */
			pthread_mutex_unlock(&k->lock);
		}
		pthread_mutex_lock(&k->lock);
		bool stop = k->stop;
		pthread_mutex_unlock(&k->lock);
		if (stop) {
			PW_WARN("msg=\"prefix index left behind at stop; the next start copies its keys from the database\""
				" index=%s keys=%zu",
				k->path, all.n4 + all.n6);
			k->gave_up = true;
			continue;
		}
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
	if (!k->gave_up) {
		if (atomic_exchange(&k->failing, false))
			PW_INFO("msg=\"prefix index commits recovered\" index=%s", k->path);
		PW_DEBUG("msg=\"keys committed\" keys=%zu through=%u ms=%.1f", all.n4 + all.n6, through,
			 (pw_mono_now().ns - t0.ns) / 1e6);
	}
	size_t n = all.n4 + all.n6;
	skey_run_free(&all);
	return n;
}

static void *keys_main(void *arg)
{
	struct store_keys *k = arg;
	pthread_mutex_lock(&k->lock);
	for (;;) {
		while (!k->head && !k->stop)
			pthread_cond_wait(&k->wake, &k->lock);
		if (!k->head)
			break; /* stopped, and everything handed over is written */
		struct run_node *list = k->head;
		k->head = k->tail = NULL;
		pthread_mutex_unlock(&k->lock);
		size_t n = write_runs(k, list);
		pthread_mutex_lock(&k->lock);
		k->written += n;
		atomic_fetch_sub(&k->pending, n);
		pthread_cond_broadcast(&k->done);
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

void skeys_push(struct store_keys *k, struct skey_run *r)
{
	size_t n = r->n4 + r->n6;
	if (!n)
		return;
	struct run_node *x = pw_malloc(sizeof *x);
	x->run = *r;
	x->next = NULL;
	*r = (struct skey_run){ .n4 = 0 };
	pthread_mutex_lock(&k->lock);
	while (atomic_load(&k->pending) >= SKEYS_MAX_PENDING && !atomic_load(&k->failing))
		pthread_cond_wait(&k->done, &k->lock);
	if (k->tail)
		k->tail->next = x;
	else
		k->head = x;
	k->tail = x;
	k->pushed += n;
	atomic_fetch_add(&k->pending, n);
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
}

uint64_t skeys_pending(const struct store_keys *k) { return atomic_load(&k->pending); }
bool skeys_failing(const struct store_keys *k) { return atomic_load(&k->failing); }

void skeys_sync(struct store_keys *k)
{
	pthread_mutex_lock(&k->lock);
	uint64_t target = k->pushed;
	while (k->started && k->written < target)
		pthread_cond_wait(&k->done, &k->lock);
	pthread_mutex_unlock(&k->lock);
}

/* ------------------------------------------------------------- opening */

static int64_t q_int(sqlite3 *db, const char *sql, int64_t arg, int64_t none)
{
	sqlite3_stmt *s;
	int64_t v = none;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return none;
	sqlite3_bind_int64(s, 1, arg);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* With the database attached as "db": empties the index unless it was
 * written for the database as it is, then copies the keys of the routes
 * past `through`, and marks both files with a new epoch. An SQLite code. */
static int catch_up(struct store_keys *k, char *err, size_t n)
{
	int64_t max_id = q_int(k->db, "SELECT coalesce(max(id), 0) FROM db.routes", 0, -1);
	int64_t version = q_int(k->db, "PRAGMA db.user_version", 0, -1);
	if (max_id < 0 || version < 0) {
		snprintf(err, n, "cannot read the routes of the database: %s", sqlite3_errmsg(k->db));
		return SQLITE_ERROR;
	}
	/* Each start marks the database and its index with the same new
	 * epoch: a database restored from a backup (or copied from another)
	 * has another one than the index beside it. A migration may rewrite
	 * the keys. And the newest key must be its route's. */
	int64_t db_epoch = q_int(k->db, "SELECT value FROM db.meta WHERE key = 'keys_epoch'", 0, -1);
	int64_t epoch = q_int(k->db, "SELECT value FROM keys_meta WHERE key = 'epoch'", 0, -1);
	int64_t written = q_int(k->db, "SELECT value FROM keys_meta WHERE key = 'schema'", 0, -1);
	int64_t through = q_int(k->db, "SELECT value FROM keys_meta WHERE key = 'through'", 0, 0);
	bool any = q_int(k->db, "SELECT EXISTS (SELECT 1 FROM route_keys)", 0, 0);
	const char *why = NULL;
	if (!any && !through)
		; /* empty: nothing to trust or distrust */
	else if (epoch != db_epoch)
		why = "it was written for another database, or another state of this one (a backup restored?)";
	else if (written != version)
		why = "the database was migrated since";
	else if (through > max_id)
		why = "it is newer than the database";
	else if (through ? !q_int(k->db,
				  "SELECT EXISTS (SELECT 1 FROM route_keys WHERE id = ?1"
				  " AND prefix = (SELECT prefix FROM db.routes WHERE id = ?1))",
				  through, 0)
			 : any)
		why = "its newest key is not the database's";
	pw_mono_t t0 = pw_mono_now();
	/* this transaction takes both files' write locks (the database is
	 * attached); nothing else writes them before the store starts */
	int rc = exec(k->db, "BEGIN IMMEDIATE");
	if (!rc && why) {
		PW_WARN("msg=\"prefix index rebuilt from the database\" index=%s reason=\"%s\"", k->path, why);
		rc = exec(k->db, "DELETE FROM route_keys");
		through = 0;
	}
	sqlite3_stmt *s = NULL;
	if (!rc && through < max_id &&
	    !(rc = sqlite3_prepare_v2(k->db,
				      "INSERT INTO route_keys (prefix, id) SELECT prefix, id FROM db.routes"
				      " WHERE id > ?1 AND id <= ?2 ORDER BY prefix, id",
				      -1, &s, NULL))) {
		sqlite3_bind_int64(s, 1, through);
		sqlite3_bind_int64(s, 2, max_id);
		rc = step(s);
		sqlite3_finalize(s);
	}
	int64_t next = q_int(k->db, "SELECT random() & 0x7fffffffffffffff", 0, 0);
	if (!rc && !(rc = sqlite3_prepare_v2(k->db,
					     "INSERT OR REPLACE INTO keys_meta (key, value) VALUES ('epoch', ?1),"
					     " ('schema', ?2), ('through', ?3)",
					     -1, &s, NULL))) {
		sqlite3_bind_int64(s, 1, next);
		sqlite3_bind_int64(s, 2, version);
		sqlite3_bind_int64(s, 3, max_id);
		rc = step(s);
		sqlite3_finalize(s);
	}
	/* two files, two commits: a crash between them leaves two epochs, and
	 * the next start rebuilds */
	if (!rc && !(rc = sqlite3_prepare_v2(k->db, "INSERT OR REPLACE INTO db.meta (key, value) VALUES ('keys_epoch', ?1)",
					     -1, &s, NULL))) {
		sqlite3_bind_int64(s, 1, next);
		rc = step(s);
		sqlite3_finalize(s);
	}
	if (!rc)
		rc = exec(k->db, "COMMIT");
	if (rc) {
		snprintf(err, n, "cannot bring the prefix index %s up to date: %s", k->path, sqlite3_errmsg(k->db));
		exec(k->db, "ROLLBACK");
		return rc;
	}
	if (max_id > through)
		PW_INFO("msg=\"prefix index brought up to date\" index=%s keys=%lld ms=%.0f", k->path,
			(long long)(max_id - through), (pw_mono_now().ns - t0.ns) / 1e6);
	return 0;
}

/* Opens the index file, creating it if needed, and brings it up to date.
 * An SQLite code, with a message in err. */
static int open_index(struct store_keys *k, const char *db_path, char *err, size_t n)
{
	int rc = sqlite3_open_v2(k->path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc) {
		snprintf(err, n, "cannot open the prefix index %s: %s", k->path, k->db ? sqlite3_errmsg(k->db) : "out of memory");
		return rc;
	}
	/* nothing else writes the file: a lock held longer is a fault,
	 * reported (skeys_failing) and retried each second */
	sqlite3_busy_timeout(k->db, 1000);
	/* the same pages, WAL and durability as the database (store.c).
	 * SQLite's default 2 MB of page cache: a transaction's keys are
	 * sorted, so each leaf is visited once, and a four-peer table's keys
	 * went in as fast as with 8 or 32 MB (7.5 s; 30 MB more would be 6 of
	 * the 100 bytes a route may take) */
	if ((rc = exec(k->db, "PRAGMA page_size=16384")) || (rc = exec(k->db, "PRAGMA journal_mode=WAL")) ||
	    (rc = exec(k->db, "PRAGMA synchronous=NORMAL")) || (rc = exec(k->db, "PRAGMA cache_size=-2048")) ||
	    (rc = exec(k->db, "PRAGMA journal_size_limit=67108864")) || /* a table's commits leave ~100 MB */
	    (rc = exec(k->db, "CREATE TABLE IF NOT EXISTS route_keys (prefix BLOB NOT NULL, id INTEGER NOT NULL,"
			      " PRIMARY KEY (prefix, id)) WITHOUT ROWID")) ||
	    (rc = exec(k->db, "CREATE TABLE IF NOT EXISTS keys_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"))) {
		snprintf(err, n, "cannot open the prefix index %s: %s", k->path, sqlite3_errmsg(k->db));
		return rc;
	}
	if ((rc = skeys_attach(k->db, db_path, "db"))) {
		snprintf(err, n, "cannot attach %s to the prefix index: %s", db_path, sqlite3_errmsg(k->db));
		return rc;
	}
	rc = catch_up(k, err, n);
	/* attached, the database would be locked by each of the keys thread's
	 * transactions too */
	int rc2 = exec(k->db, "DETACH DATABASE db");
	if (!rc && rc2)
		snprintf(err, n, "cannot detach %s from the prefix index: %s", db_path, sqlite3_errmsg(k->db));
	return rc ? rc : rc2;
}

struct store_keys *skeys_open(const char *db_path, char *err, size_t n)
{
	struct store_keys *k = pw_calloc(1, sizeof *k);
	k->path = skeys_path(db_path);
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->wake, NULL);
	pthread_cond_init(&k->done, NULL);
	int rc = open_index(k, db_path, err, n);
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) {
		/* derived data: a damaged file is built again */
		PW_WARN("msg=\"prefix index unreadable; removed and rebuilt from the database\" index=%s error=\"%s\"", k->path,
			err);
		sqlite3_close(k->db);
		k->db = NULL;
		static const char *const sfx[] = { "", "-wal", "-shm" };
		for (int i = 0; i < 3; i++) {
			char f[PATH_MAX];
			snprintf(f, sizeof f, "%s%s", k->path, sfx[i]);
			unlink(f);
		}
		rc = open_index(k, db_path, err, n);
	}
	if (rc)
		goto fail;
	struct pw_buf many = { 0 };
	pw_buf_puts(&many, "INSERT OR FAIL INTO route_keys (prefix, id) VALUES (?,?)");
	for (int i = 1; i < KEYS_PER_STMT; i++)
		pw_buf_puts(&many, ",(?,?)");
	/* OR FAIL: no statement journal (store.c, ROWS_PER_STMT) */
	rc = sqlite3_prepare_v2(k->db, many.s, -1, &k->st_many, NULL);
	free(many.s);
	if (rc || sqlite3_prepare_v2(k->db, "INSERT INTO route_keys (prefix, id) VALUES (?1, ?2)", -1, &k->st_one, NULL) ||
	    sqlite3_prepare_v2(k->db, "INSERT OR REPLACE INTO keys_meta (key, value) VALUES ('through', ?1)", -1,
			       &k->st_through, NULL)) {
		snprintf(err, n, "cannot prepare the prefix index's statements: %s", sqlite3_errmsg(k->db));
		goto fail;
	}
	return k;
fail:
	skeys_close(k);
	return NULL;
}

void skeys_start(struct store_keys *k)
{
	pw_require(pthread_create(&k->thread, NULL, keys_main, k) == 0);
	k->started = true;
}

void skeys_close(struct store_keys *k)
{
	if (!k)
		return;
	if (k->started) {
		pthread_mutex_lock(&k->lock);
		k->stop = true;
		pthread_cond_signal(&k->wake);
		pthread_mutex_unlock(&k->lock);
		pthread_join(k->thread, NULL);
	}
	sqlite3_finalize(k->st_one);
	sqlite3_finalize(k->st_many);
	sqlite3_finalize(k->st_through);
	sqlite3_close(k->db);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->wake);
	pthread_cond_destroy(&k->done);
	free(k->path);
	free(k);
}
