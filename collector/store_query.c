/*
 * store_query: read-only queries for the HTTP API. See store_query.h.
 *
 * Routes are ordered by the prefix key (common/prefix.h: 6 bytes for IPv4,
 * 18 for IPv6) in route_keys (prefix, route id; the prefix index's file,
 * attached: store_keys.h), so prefix
 * filters are range scans of it, each row then looked up in routes by id,
 * and pages are keyset-paginated on (prefix, route id): a page costs the
 * same on page 1 and page 10000. A route's history is a chain from routes.hist
 * back by history.prev (schema/007): `at=` and a prefix's history walk it.
 */
#include "store_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "bmp.h"
#include "filter_index.h"
#include "common/check.h"
#include "common/log.h"
#include "common/text.h"
#include "rib_event.h"
#include "route_filter.h"
#include "store.h"
#include "store_keys.h"

sqlite3 *store_reader_open(const char *path, char *err, size_t n)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, n, "cannot open %s read-only: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 2000);
	/* Pages of the database file are read through a shared mapping, not
	 * one pread() into this connection's small page cache each: a page
	 * that walks routes in prefix order (filters without an index) spent
	 * most of its time in those system calls. Pages still in the WAL are
	 * read as before. The mapping is address space: the pages it touches
	 * are the kernel's page cache, shared by every connection (they show
	 * in the process's RSS as file pages, which the kernel can reclaim).
	 * STORE_MMAP_SIZE covers some 15M routes at ~130 bytes each. */
	sqlite3_exec(db, "PRAGMA mmap_size=" STORE_MMAP_SIZE, NULL, NULL, NULL);
	/* route_keys is in the prefix index's file (store_keys.h), attached
	 * read-only as this connection is; the queries name it unqualified */
	char *keys = skeys_path(path);
	if (skeys_attach(db, keys, "keys") != SQLITE_OK) {
		snprintf(err, n, "cannot open the prefix index %s read-only: %s", keys, sqlite3_errmsg(db));
		free(keys);
		sqlite3_close(db);
		return NULL;
	}
	free(keys);
	sqlite3_exec(db, "PRAGMA keys.mmap_size=" STORE_MMAP_SIZE, NULL, NULL, NULL);
	if (rf_register(db) != SQLITE_OK) {
		snprintf(err, n, "cannot register the route filters on %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* ------------------------------------------------------------ SQL builder */

struct bind {
	enum { B_INT, B_TEXT, B_BLOB } type;
	int64_t i;
	const char *t;
	uint8_t blob[PW_PREFIX_KEY_LEN];
	size_t blob_len;
};

/* a `shorter` IPv6 /128 binds 129 keys (a history query matches the
 * prefix once, in its chain walk) */
enum { SQL_MAX_BINDS = 160 };

struct sql {
	char s[4096];
	size_t len;
	struct bind b[SQL_MAX_BINDS];
	int nb;
};

static void sql_add(struct sql *q, const char *text)
{
	size_t l = strlen(text);
	pw_require(q->len + l < sizeof q->s);
	memcpy(q->s + q->len, text, l + 1);
	q->len += l;
}
static void bind_int(struct sql *q, int64_t v) { pw_require(q->nb < SQL_MAX_BINDS); q->b[q->nb].type = B_INT; q->b[q->nb++].i = v; }
static void bind_txt(struct sql *q, const char *t) { pw_require(q->nb < SQL_MAX_BINDS); q->b[q->nb].type = B_TEXT; q->b[q->nb++].t = t; }
static void bind_key(struct sql *q, const uint8_t *k, size_t len)
{
	pw_require(q->nb < SQL_MAX_BINDS && len <= PW_PREFIX_KEY_LEN);
	q->b[q->nb].type = B_BLOB;
	q->b[q->nb].blob_len = len;
	memcpy(q->b[q->nb++].blob, k, len);
}

static sqlite3_stmt *sql_prepare(sqlite3 *db, struct sql *q, char *err, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, q->s, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, n, "query failed: %s", sqlite3_errmsg(db));
		return NULL;
	}
	for (int i = 0; i < q->nb; i++) {
		struct bind *b = &q->b[i];
		if (b->type == B_INT)
			sqlite3_bind_int64(st, i + 1, b->i);
		else if (b->type == B_TEXT)
			sqlite3_bind_text(st, i + 1, b->t, -1, SQLITE_STATIC);
		else
			sqlite3_bind_blob(st, i + 1, b->blob, (int)b->blob_len, SQLITE_STATIC);
	}
	return st;
}

/* " AND <routes alias>.prefix ..." for the filter's prefix and match. */
static void add_prefix_filter(struct sql *q, const struct store_route_filter *f, const char *alias)
{
	uint8_t key[PW_PREFIX_KEY_LEN];
	sql_add(q, " AND ");
	sql_add(q, alias);
	switch (f->match) {
	case STORE_MATCH_EXACT:
		sql_add(q, ".prefix = ?");
		bind_key(q, key, pw_prefix_key(&f->prefix, key));
		break;
	case STORE_MATCH_LONGER: /* the prefix and every more-specific */
		sql_add(q, ".prefix BETWEEN ? AND ?");
		bind_key(q, key, pw_prefix_key(&f->prefix, key));
		bind_key(q, key, pw_prefix_key_last(&f->prefix, key));
		break;
	case STORE_MATCH_SHORTER: /* the prefix and every less-specific */
		sql_add(q, ".prefix IN (");
		for (int l = 0; l <= f->prefix.len; l++) {
			struct pw_prefix p = f->prefix;
			p.len = (uint8_t)l;
			pw_prefix_mask(&p);
			sql_add(q, l ? ",?" : "?");
			bind_key(q, key, pw_prefix_key(&p, key));
		}
		sql_add(q, ")");
		break;
	}
}

/* WHERE clauses shared by rib and history (routes r, peers p, routers ro;
 * the prefix on `key`: route_keys or routes). */
static void add_filter(struct sql *q, const struct store_route_filter *f, const char *key)
{
	if (f->router) {
		sql_add(q, " AND ro.name = ?");
		bind_txt(q, f->router);
	}
	if (f->peer) {
		sql_add(q, " AND p.address = ?");
		bind_txt(q, f->peer);
	}
	if (f->view >= 0) {
		sql_add(q, " AND r.view = ?");
		bind_int(q, f->view);
	}
	if (f->has_prefix)
		add_prefix_filter(q, f, key);
}

/* ------------------------------------------------------------ route JSON */

static void time_json(json_t *o, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		json_object_set_new(o, key, json_null());
		return;
	}
	char buf[PW_TIMESTRLEN];
	pw_time_format(sqlite3_column_int64(st, col), buf, sizeof buf);
	json_object_set_new(o, key, json_string(buf));
}

/* Columns, in order, of every route-shaped row:
 *  0 r.id, 1 r.prefix, 2 r.path_id, 3 r.view, 4 p.address, 5 p.asn,
 *  6 p.local_asn, 7 ro.name, 8 ro.strip_own_as, 9 ro.connected,
 *  10 attribute data (or NULL), 11 since */
#define ROUTE_COLS "r.id, r.prefix, r.path_id, r.view, p.address, p.asn, p.local_asn, ro.name, ro.strip_own_as, ro.connected"

static json_t *route_json(sqlite3_stmt *st, bool with_since)
{
	json_t *o = json_object();
	struct pw_prefix pfx;
	char buf[PW_PREFIXSTRLEN];
	int view = sqlite3_column_int(st, 3);
	uint32_t asn = (uint32_t)sqlite3_column_int64(st, 5), local = (uint32_t)sqlite3_column_int64(st, 6);
	json_object_set_new(o, "router", json_string((const char *)sqlite3_column_text(st, 7)));
	json_object_set_new(o, "peer", json_string((const char *)sqlite3_column_text(st, 4)));
	json_object_set_new(o, "peer_asn", json_integer(asn));
	json_object_set_new(o, "view", json_string(bmp_view_name((enum bmp_view)view)));
	if (pw_prefix_from_key(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), &pfx) == 0) {
		pw_prefix_format(&pfx, buf, sizeof buf);
		json_object_set_new(o, "prefix", json_string(buf));
	} else
		json_object_set_new(o, "prefix", json_null());
	json_object_set_new(o, "path_id", json_integer(sqlite3_column_int64(st, 2)));
	if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
		/* FRR prepends its own AS to eBGP paths in BMP Adj-RIB-In */
		bool ebgp_in = (view == BMP_VIEW_PRE || view == BMP_VIEW_POST) && local && asn != local;
		struct bgp_render_opts ro = {
			.afi = pfx.afi,
			.strip_first_as = sqlite3_column_int(st, 8) && ebgp_in ? local : 0,
		};
		bgp_attrs_to_json(sqlite3_column_blob(st, 10), (size_t)sqlite3_column_bytes(st, 10), &ro, o);
	}
	if (with_since)
		time_json(o, "since", st, 11);
	json_object_set_new(o, "stale", json_boolean(!sqlite3_column_int(st, 9)));
	return o;
}

/* ------------------------------------------------------------ page text */

/* A page as JSON text, {"<rows>":[row,...],"next":cursor or null}. Each
 * row's object is written out and freed as soon as it is built: a page of
 * 10 000 routes as one tree was some 200 000 small objects, and building,
 * dumping and freeing that tree cost more than the query that read it. */
struct page_text {
	struct pw_buf b;
	int rows;
};
enum { PAGE_UNWRITABLE = -1 }; /* a row's JSON failed: not an SQLite code */

static void page_open(struct page_text *t, const char *rows)
{
	*t = (struct page_text){ .rows = 0 };
	pw_buf_puts(&t->b, "{\"");
	pw_buf_puts(&t->b, rows);
	pw_buf_puts(&t->b, "\":[");
}

/* Appends `row` (stolen) as the API writes every body; -1 (and the page is
 * not to be sent) if it could not be written. */
static int page_row(struct page_text *t, json_t *row)
{
	if (t->rows++)
		pw_buf_puts(&t->b, ",");
	int rc = row ? json_dump_callback(row, pw_buf_json, &t->b, JSON_COMPACT | JSON_ENSURE_ASCII) : -1;
	json_decref(row);
	return rc;
}

/* Ends a page whose query stopped with `rc`: SQLITE_ROW, a row beyond the
 * page (its "next" is `next`, a cursor: hex digits, '.' and digits);
 * SQLITE_DONE, the last page; else the error, and the page is dropped. */
static char *page_end(sqlite3 *db, sqlite3_stmt *st, struct page_text *t, int rc, const char *next, char *err,
		      size_t n)
{
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, n, "query failed: %s",
			 rc == PAGE_UNWRITABLE ? "a row could not be written as JSON" : sqlite3_errmsg(db));
		sqlite3_finalize(st);
		free(t->b.s);
		return NULL;
	}
	sqlite3_finalize(st);
	pw_buf_puts(&t->b, "],\"next\":");
	if (rc == SQLITE_ROW) {
		pw_buf_puts(&t->b, "\"");
		pw_buf_puts(&t->b, next);
		pw_buf_puts(&t->b, "\"}");
	} else
		pw_buf_puts(&t->b, "null}");
	return t->b.s;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int store_rib_cursor_parse(const char *c, uint8_t key[PW_PREFIX_KEY_LEN], size_t *klen, int64_t *id)
{
	const char *dot = strchr(c, '.');
	size_t len = dot ? (size_t)(dot - c) / 2 : 0;
	if (!dot || (size_t)(dot - c) != 2 * len || (len != PW_PREFIX_KEY_LEN_V4 && len != PW_PREFIX_KEY_LEN))
		return -1;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(c[2 * i]), lo = hex_digit(c[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	*klen = len;
	const char *d = dot + 1;
	if (!*d || strspn(d, "0123456789") != strlen(d) || (d[0] == '0' && d[1]) || strlen(d) > 18)
		return -1; /* digits as written by store_rib_cursor_format, below 10^18 */
	*id = strtoll(d, NULL, 10);
	return 0;
}

void store_rib_cursor_format(const uint8_t *key, size_t klen, int64_t id, char *buf, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < klen && i < PW_PREFIX_KEY_LEN && k + 3 <= n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%02x", key[i]);
	snprintf(buf + k, n - k, ".%lld", (long long)id);
}

/* A filtered page's candidates at most. Each is one row-id look-up, and
 * all are sorted: at 50k that is some 100 ms, about what a walk of one
 * peer's table in prefix order takes to find a page when 1 route in 200
 * matches. */
enum { RIB_MAX_CANDIDATES = 50000 };

/* The live routes whose attributes may match the page's as_path and
 * community filters, as a JSON array of route ids for json_each(), or
 * NULL when the page is to walk route_keys in prefix order instead. */
static char *rib_candidates(sqlite3 *db, struct filter_index *fx, const struct store_route_filter *f)
{
	struct rf_as_path ap;
	struct rf_community cm;
	const char *why;
	if ((f->as_path && rf_as_path_parse(f->as_path, &ap, &why)) ||
	    (f->community && rf_community_parse(f->community, &cm, &why)))
		return NULL; /* the walk's SQL function names the fault */
	uint32_t *ids;
	size_t n;
	char err[256];
	int rc = fidx_candidates(fx, db, f->as_path ? &ap : NULL, f->community ? &cm : NULL, RIB_MAX_CANDIDATES, &ids,
				 &n, err, sizeof err);
	if (rc < 0)
		PW_WARN("msg=\"filtered page walks the routes instead\" error=\"%s\"", err);
	if (rc <= 0)
		return NULL;
	char *json = pw_malloc(11 * n + 3), *p = json;
	*p++ = '[';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, i ? ",%u" : "%u", ids[i]);
	strcpy(p, "]");
	free(ids);
	return json;
}

static char *rib_page(sqlite3 *db, const struct store_rib_query *q, const char *candidates,
			const char **bad_param, char *err, size_t n)
{
	struct sql s = { .len = 0 };
	if (q->has_at) {
		/* the latest change at or before `at` of each route key: its
		 * history chain walked back from the newest row */
		sql_add(&s, "SELECT " ROUTE_COLS ", a.data, coalesce(h.router_time, h.time), h.action"
			    " FROM route_keys k CROSS JOIN routes r ON r.id = k.id JOIN peers p ON p.id = r.peer_id"
			    " JOIN routers ro ON ro.id = p.router_id JOIN history h ON h.id = (WITH RECURSIVE"
			    " c(id, prev, time) AS (SELECT h2.id, h2.prev, h2.time FROM history h2 WHERE h2.id = r.hist"
			    " AND h2.route_id = r.id UNION ALL SELECT h2.id, h2.prev, h2.time FROM c JOIN history h2"
			    " ON h2.id = c.prev AND h2.route_id = r.id WHERE c.time > ?1)"
			    " SELECT id FROM c WHERE time <= ?1 LIMIT 1)"
			    " LEFT JOIN attrs a ON a.id = h.attr_id WHERE h.action != 3");
		bind_int(&s, q->at_us);
	} else if (candidates) {
		/* only the candidates' rows, looked up by id (CROSS JOIN keeps
		 * that order of loops), then sorted */
		sql_add(&s, "SELECT " ROUTE_COLS ", a.data, r.since FROM json_each(?) c CROSS JOIN routes r ON r.id = c.value"
			    " JOIN peers p ON p.id = r.peer_id"
			    " JOIN routers ro ON ro.id = p.router_id JOIN attrs a ON a.id = r.attr_id"
			    " WHERE r.attr_id IS NOT NULL");
		bind_txt(&s, candidates);
	} else {
		/* walking route_keys in order lets a page stop after `limit`
		 * rows instead of sorting a whole peer's table */
		sql_add(&s, "SELECT " ROUTE_COLS ", a.data, r.since FROM route_keys k CROSS JOIN routes r ON r.id = k.id"
			    " JOIN peers p ON p.id = r.peer_id"
			    " JOIN routers ro ON ro.id = p.router_id JOIN attrs a ON a.id = r.attr_id"
			    " WHERE r.attr_id IS NOT NULL");
	}
	/* the order (and the cursor) is route_keys' when it is walked, the
	 * same columns of routes when the candidates are sorted */
	bool sorted = candidates && !q->has_at;
	add_filter(&s, &q->f, sorted ? "r" : "k");
	if (q->f.as_path) { /* matched on the path as shown: FRR's own-AS prepend removed */
		sql_add(&s, " AND pw_as_path_match(a.data, CASE WHEN ro.strip_own_as AND r.view IN (0, 1) AND p.local_asn != 0"
			    " AND p.asn != p.local_asn THEN p.local_asn ELSE 0 END, ?)");
		bind_txt(&s, q->f.as_path);
	}
	if (q->f.community) {
		sql_add(&s, " AND pw_community_match(a.data, ?)");
		bind_txt(&s, q->f.community);
	}
	if (q->cursor) {
		uint8_t key[PW_PREFIX_KEY_LEN];
		size_t klen;
		int64_t id;
		if (store_rib_cursor_parse(q->cursor, key, &klen, &id)) {
			*bad_param = "cursor";
			snprintf(err, n, "not a cursor returned by this endpoint");
			return NULL;
		}
		sql_add(&s, sorted ? " AND (r.prefix, r.id) > (?, ?)" : " AND (k.prefix, k.id) > (?, ?)");
		bind_key(&s, key, klen);
		bind_int(&s, id);
	}
	sql_add(&s, sorted ? " ORDER BY r.prefix, r.id LIMIT ?" : " ORDER BY k.prefix, k.id LIMIT ?");
	bind_int(&s, q->limit + 1);
	sqlite3_stmt *st = sql_prepare(db, &s, err, n);
	if (!st)
		return NULL;
	struct page_text page;
	page_open(&page, "routes");
	char next[STORE_RIB_CURSOR_LEN] = "";
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (page.rows == q->limit)
			break; /* there is more: "next" names the last row returned */
		if (page_row(&page, route_json(st, true))) {
			rc = PAGE_UNWRITABLE;
			break;
		}
		if (page.rows == q->limit)
			store_rib_cursor_format(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
						sqlite3_column_int64(st, 0), next, sizeof next);
	}
	return page_end(db, st, &page, rc, next, err, n);
}

char *store_q_rib(sqlite3 *db, struct filter_index *fx, const struct store_rib_query *q, const char **bad_param,
		    char *err, size_t n)
{
	int64_t kept_since = store_q_kept_since(db);
	if (q->has_at && q->at_us < kept_since) {
		char t[PW_TIMESTRLEN];
		pw_time_format(kept_since, t, sizeof t);
		*bad_param = "at";
		snprintf(err, n, "history before %s has been pruned (collector.retention): the RIB at that time is not known", t);
		return NULL;
	}
	/* the live RIB filtered by attributes: the index and the page read
	 * one snapshot, begun here */
	bool txn = fx && !q->has_at && (q->f.as_path || q->f.community) && sqlite3_get_autocommit(db) &&
		   sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	char *candidates = txn ? rib_candidates(db, fx, &q->f) : NULL;
	char *j = rib_page(db, q, candidates, bad_param, err, n);
	free(candidates);
	if (txn && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); /* never left in a read transaction */
	return j;
}

char *store_q_history(sqlite3 *db, const struct store_history_query *q, const char **bad_param, char *err,
			size_t n)
{
	struct sql s = { .len = 0 };
	sql_add(&s, "SELECT " ROUTE_COLS ", a.data, h.router_time, h.id, h.time, h.action, h.reason"
		    " FROM history h JOIN routes r ON r.id = h.route_id JOIN peers p ON p.id = r.peer_id"
		    " JOIN routers ro ON ro.id = p.router_id LEFT JOIN attrs a ON a.id = h.attr_id WHERE 1");
	/* with a prefix, the rows are those of the prefix's routes' history
	 * chains (each row checked to be its route's), not a walk of all
	 * history: the prefix is matched there, once */
	struct store_route_filter f = q->f;
	f.has_prefix = false;
	add_filter(&s, &f, "r");
	if (q->f.has_prefix) {
		sql_add(&s, " AND h.id IN (WITH RECURSIVE c(id, prev, rid, time) AS (SELECT h2.id, h2.prev, h2.route_id,"
			    " h2.time FROM route_keys k2 CROSS JOIN routes r2 ON r2.id = k2.id JOIN history h2"
			    " ON h2.id = r2.hist AND h2.route_id = r2.id WHERE 1");
		add_prefix_filter(&s, &q->f, "k2");
		sql_add(&s, " UNION ALL SELECT h2.id, h2.prev, h2.route_id, h2.time FROM c JOIN history h2"
			    " ON h2.id = c.prev AND h2.route_id = c.rid");
		if (q->has_from) { /* no need to walk further back */
			sql_add(&s, " WHERE c.time >= ?");
			bind_int(&s, q->from_us);
		}
		sql_add(&s, ") SELECT id FROM c)");
	}
	if (q->has_from) {
		sql_add(&s, " AND h.time >= ?");
		bind_int(&s, q->from_us);
	}
	if (q->has_to) {
		sql_add(&s, " AND h.time <= ?");
		bind_int(&s, q->to_us);
	}
	if (q->cursor) {
		char *end;
		long long id = strtoll(q->cursor, &end, 10);
		if (*end || !*q->cursor || id < 0) {
			*bad_param = "cursor";
			snprintf(err, n, "not a cursor returned by this endpoint");
			return NULL;
		}
		sql_add(&s, q->newest_first ? " AND h.id < ?" : " AND h.id > ?");
		bind_int(&s, id);
	}
	sql_add(&s, q->newest_first ? " ORDER BY h.id DESC LIMIT ?" : " ORDER BY h.id LIMIT ?");
	bind_int(&s, q->limit + 1);
	sqlite3_stmt *st = sql_prepare(db, &s, err, n);
	if (!st)
		return NULL;
	struct page_text page;
	page_open(&page, "events");
	char next[32] = "";
	int rc;
	long long last_id = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (page.rows == q->limit) {
			snprintf(next, sizeof next, "%lld", last_id);
			break;
		}
		json_t *e = route_json(st, false);
		int action = sqlite3_column_int(st, 14);
		const char *reason = sqlite3_column_type(st, 15) == SQLITE_NULL
					     ? NULL
					     : rib_reason_name((enum rib_reason)sqlite3_column_int(st, 15));
		last_id = sqlite3_column_int64(st, 12);
		json_object_set_new(e, "id", json_integer(last_id));
		time_json(e, "time", st, 13);
		time_json(e, "router_time", st, 11);
		json_object_set_new(e, "action", json_string(rib_action_name((enum rib_action)action)));
		json_object_set_new(e, "reason", reason ? json_string(reason) : json_null());
		json_object_del(e, "stale");
		if (page_row(&page, e)) {
			rc = PAGE_UNWRITABLE;
			break;
		}
	}
	return page_end(db, st, &page, rc, next, err, n);
}

static json_t *json_column(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	json_t *j = t ? json_loads(t, 0, NULL) : NULL;
	return j ? j : json_null();
}

json_t *store_q_routers(sqlite3 *db, char *err, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT ro.name, ro.address, ro.connected, ro.sys_name, ro.sys_descr, ro.connected_since,"
			       " ro.disconnected_since, ro.last_message, ro.sessions, ro.termination, ro.counters,"
			       " (SELECT count(*) FROM peers p WHERE p.router_id = ro.id),"
			       " (SELECT count(*) FROM peers p WHERE p.router_id = ro.id AND p.state = 'up'),"
			       " ro.strip_own_as FROM routers ro ORDER BY ro.name",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, n, "query failed: %s", sqlite3_errmsg(db));
		return NULL;
	}
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string((const char *)sqlite3_column_text(st, 0)));
		const char *addr = (const char *)sqlite3_column_text(st, 1);
		json_object_set_new(o, "address", addr ? json_string(addr) : json_null());
		json_object_set_new(o, "connected", json_boolean(sqlite3_column_int(st, 2)));
		json_object_set_new(o, "stale", json_boolean(!sqlite3_column_int(st, 2)));
		const char *sn = (const char *)sqlite3_column_text(st, 3), *sd = (const char *)sqlite3_column_text(st, 4);
		json_object_set_new(o, "sys_name", sn ? json_string(sn) : json_null());
		json_object_set_new(o, "sys_descr", sd ? json_string(sd) : json_null());
		time_json(o, "connected_since", st, 5);
		time_json(o, "disconnected_since", st, 6);
		time_json(o, "last_message", st, 7);
		json_object_set_new(o, "sessions", json_integer(sqlite3_column_int64(st, 8)));
		json_object_set_new(o, "termination", json_column(st, 9));
		json_object_set_new(o, "counters", json_column(st, 10));
		json_object_set_new(o, "peers", json_integer(sqlite3_column_int64(st, 11)));
		json_object_set_new(o, "peers_up", json_integer(sqlite3_column_int64(st, 12)));
		json_object_set_new(o, "as_path_normalized", json_boolean(sqlite3_column_int(st, 13)));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return json_pack("{s:o}", "routers", arr);
}

json_t *store_q_peers(sqlite3 *db, const char *router, char *err, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT ro.name, p.address, p.asn, p.state, p.bgp_id, p.peer_type, p.rd, p.local_asn,"
			       " p.up_since, p.down_since, p.down_reason, p.session_info, p.stats,"
			       " p.n_pre, p.n_post, p.n_loc_rib, p.n_out_pre, p.n_out_post, ro.connected"
			       " FROM peers p JOIN routers ro ON ro.id = p.router_id"
			       " WHERE ?1 IS NULL OR ro.name = ?1 ORDER BY ro.name, p.afi, p.address_bin, p.peer_type",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, n, "query failed: %s", sqlite3_errmsg(db));
		return NULL;
	}
	if (router)
		sqlite3_bind_text(st, 1, router, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_object();
		int pt = sqlite3_column_int(st, 5);
		json_object_set_new(o, "router", json_string((const char *)sqlite3_column_text(st, 0)));
		json_object_set_new(o, "address", json_string((const char *)sqlite3_column_text(st, 1)));
		json_object_set_new(o, "asn", json_integer(sqlite3_column_int64(st, 2)));
		json_object_set_new(o, "state", json_string((const char *)sqlite3_column_text(st, 3)));
		json_object_set_new(o, "bgp_id", json_string((const char *)sqlite3_column_text(st, 4)));
		json_object_set_new(o, "peer_type", json_string(bmp_peer_type_name(pt)));
		json_object_set_new(o, "rd", json_integer(sqlite3_column_int64(st, 6)));
		json_object_set_new(o, "local_asn", json_integer(sqlite3_column_int64(st, 7)));
		time_json(o, "up_since", st, 8);
		time_json(o, "down_since", st, 9);
		json_object_set_new(o, "down_reason", json_column(st, 10));
		json_object_set_new(o, "session", json_column(st, 11));
		json_object_set_new(o, "stats", json_column(st, 12));
		json_t *c = json_object();
		for (int v = 0; v < BMP_VIEWS; v++)
			json_object_set_new(c, bmp_view_name((enum bmp_view)v), json_integer(sqlite3_column_int64(st, 13 + v)));
		json_object_set_new(o, "prefixes", c);
		json_object_set_new(o, "stale", json_boolean(!sqlite3_column_int(st, 18)));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return json_pack("{s:o}", "peers", arr);
}

int64_t store_q_kept_since(sqlite3 *db)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'history_kept_since'", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_q_counts(sqlite3 *db, int64_t out[4])
{
	sqlite3_stmt *st;
	memset(out, 0, 4 * sizeof *out);
	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT count(*) FROM routers), (SELECT count(*) FROM routers WHERE connected),"
			       " (SELECT count(*) FROM peers), (SELECT count(*) FROM peers WHERE state = 'up')",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; i < 4; i++)
			out[i] = sqlite3_column_int64(st, i);
	sqlite3_finalize(st);
	return 0;
}
