/*
 * Unit tests: filter_index.c with store_query.c -- the RIB browser's
 * as_path and community pages served from the index's candidates give,
 * row for row and page by page, what the walk of every route gives; the
 * index finds exactly the live routes whose sets hold the pattern's token,
 * and follows what is committed after it was built: changed and withdrawn
 * routes, new sets, new routes, a long gap (routes read again), and churn
 * that brings new sets with ids past 2^32 (memory stays bounded).
 * Real store writer, real SQLite file.
 */
#include "filter_index.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "check_harness.h"
#include "common/log.h"
#include "common/text.h"
#include "rib.h"
#include "store.h"
#include "store_query.h"

#define T0 1764072000000000LL
enum { N = 3000, PEERS = 2, ORIGINS = 97 };

static char dir[] = "/tmp/pw-test-fidx-XXXXXX";

/* Route i of a peer: path [peer AS, 100 + i % 50, 1000 + i % 7, origin];
 * origins 5000.. never appear elsewhere in a path. Communities
 * (65000 + i % 3):(i % 11) and, for one route in five, the large community
 * 65001:(i % 4):7. */
static uint32_t origin_of(uint32_t i, uint32_t round) { return 5000 + (i + 31 * round) % ORIGINS; }

static struct rib_attrset *attrs_for(struct rib *rib, uint32_t peer_as, uint32_t i, uint32_t round)
{
	uint8_t b[128];
	size_t n = 0;
	uint32_t path[] = { peer_as, 100 + i % 50, 1000 + i % 7, origin_of(i, round) };
	b[n++] = 0x40, b[n++] = 1, b[n++] = 0, b[n++] = 1, b[n++] = 0; /* ORIGIN IGP */
	b[n++] = 0x40, b[n++] = 2, b[n++] = 0, b[n++] = 2 + 4 * 4, b[n++] = 2, b[n++] = 4;
	for (int k = 0; k < 4; k++)
		pw_put32(b + n, path[k]), n += 4;
	b[n++] = 0xC0, b[n++] = 8, b[n++] = 0, b[n++] = 4;
	pw_put32(b + n, (65000 + i % 3) << 16 | (i % 11)), n += 4;
	if (i % 5 == 0) {
		b[n++] = 0xC0, b[n++] = 32, b[n++] = 0, b[n++] = 12;
		pw_put32(b + n, 65001), pw_put32(b + n + 4, i % 4), pw_put32(b + n + 8, 7), n += 12;
	}
	return rib_attrs_intern(rib, b, (uint32_t)n);
}

static struct pw_prefix prefix_of(uint32_t i)
{
	struct pw_prefix p = { .afi = PW_AFI_IPV4, .len = 24 };
	pw_put32(p.addr, 0x0a000000u + (((i * 7919u) % N) << 8)); /* scrambled: ids are not prefix order */
	return p;
}

/* Announces route i of every peer with the sets of `round`. */
static void announce(struct rib *rib, struct rib_peer **peers, uint32_t i, uint32_t round, int64_t t)
{
	for (int p = 0; p < PEERS; p++) {
		struct rib_attrset *a = attrs_for(rib, 65001 + (uint32_t)p, i, round);
		struct pw_prefix q = prefix_of(i);
		rib_announce(peers[p], BMP_VIEW_PRE, &q, 0, a, t, 0);
		rib_attrs_unref(rib, a);
	}
}

/* Every page of `query` (a rib query string's filters, as the API takes
 * them) read with the index and by the walk: the same routes, the same
 * cursors. Returns the routes counted. */
static int same_pages(sqlite3 *db, struct filter_index *fx, const char *as_path, const char *community,
		      const char *peer, int limit)
{
	struct store_rib_query q = { .f = { .view = -1, .peer = peer, .as_path = as_path, .community = community },
				     .limit = limit };
	char cursor[STORE_RIB_CURSOR_LEN] = "";
	int total = 0;
	for (int page = 0; page < 1000; page++) {
		const char *bad = NULL;
		char err[256] = "";
		q.cursor = *cursor ? cursor : NULL;
		char *ta = store_q_rib(db, fx, &q, &bad, err, sizeof err);
		char *tb = store_q_rib(db, NULL, &q, &bad, err, sizeof err);
		json_t *a = ta ? json_loads(ta, 0, NULL) : NULL;
		if (!CHECK(ta && tb && a)) {
			fprintf(stderr, "  %s\n", err);
			free(ta);
			free(tb);
			return -1;
		}
		if (!CHECK(!strcmp(ta, tb)))
			fprintf(stderr, "  as_path=%s community=%s page %d differs:\n  index %.300s\n  walk  %.300s\n",
				as_path ? as_path : "-", community ? community : "-", page, ta, tb);
		free(ta);
		free(tb);
		total += (int)json_array_size(json_object_get(a, "routes"));
		json_t *next = json_object_get(a, "next");
		bool more = json_is_string(next);
		if (more)
			snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
		json_decref(a);
		if (!more)
			break;
	}
	return total;
}

static size_t candidates(sqlite3 *db, struct filter_index *fx, const char *as_path, const char *community,
			 size_t max, int *rc)
{
	struct rf_as_path ap;
	struct rf_community cm;
	const char *why;
	if (as_path)
		CHECK(rf_as_path_parse(as_path, &ap, &why) == 0);
	if (community)
		CHECK(rf_community_parse(community, &cm, &why) == 0);
	uint32_t *ids;
	size_t n;
	char err[256];
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	*rc = fidx_candidates(fx, db, as_path ? &ap : NULL, community ? &cm : NULL, max, &ids, &n, err, sizeof err);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	free(ids);
	return n;
}

/* The patterns compared; each run of them checks every page. */
static void compare_all(sqlite3 *db, struct filter_index *fx, const char *when)
{
	TEST_SECTION(when);
	static const struct { const char *as_path, *community; } pats[] = {
		{ "5003$", NULL }, { "5003", NULL }, { "1002 5010$", NULL }, { "^65001 120", NULL }, { "^65002", NULL },
		{ "65001 5003", NULL }, { "99999", NULL }, { NULL, "65001:3" }, { NULL, "65002:*" }, { NULL, "*:3" },
		{ NULL, "65001:2:7" }, { NULL, "65001:*:7" }, { NULL, "no-export" }, { "5040$", "65000:*" },
		{ "1003", "65002:10" },
	};
	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		same_pages(db, fx, pats[i].as_path, pats[i].community, NULL, 7);
		same_pages(db, fx, pats[i].as_path, pats[i].community, "192.0.2.2", 100);
	}
}

/* Live routes (all peers) whose origin is `o`, by the test's own account. */
static size_t live_with_origin(const bool *live, const uint32_t *round, uint32_t o)
{
	size_t n = 0;
	for (uint32_t i = 0; i < N; i++)
		n += live[i] && origin_of(i, round[i]) == o ? PEERS : 0;
	return n;
}

/* Live routes (all peers) with the community a:b. */
static size_t live_with_community(const bool *live, uint32_t a, uint32_t b)
{
	size_t n = 0;
	for (uint32_t i = 0; i < N; i++)
		n += live[i] && 65000 + i % 3 == a && i % 11 == b ? PEERS : 0;
	return n;
}

int main(void)
{
	pw_log_set_level(PW_LOG_WARN);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	char path[128], err[256];
	snprintf(path, sizeof path, "%s/fidx.db", dir);
	struct store *st = store_open(path, err, sizeof err);
	if (!CHECK(st)) {
		fprintf(stderr, "store_open: %s\n", err);
		return check_report("test_filter_index");
	}
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	store_start(st, rib);
	struct rib_router *r = rib_router_connect(rib, "R1", "198.51.100.1", T0);
	struct rib_peer *peers[PEERS];
	for (int p = 0; p < PEERS; p++) {
		struct bmp_peer_hdr h = { .type = BMP_PEER_GLOBAL, .afi = PW_AFI_IPV4, .addr = { 192, 0, 2, (uint8_t)(1 + p) },
					  .asn = 65001 + (uint32_t)p };
		peers[p] = rib_peer_get(r, &h);
		rib_peer_up(peers[p], NULL, T0);
	}
	static bool live[N];
	static uint32_t round[N];
	for (uint32_t i = 0; i < N; i++) {
		announce(rib, peers, i, 0, T0 + i);
		live[i] = true;
	}
	store_flush(st);
	sqlite3 *db = store_reader_open(path, err, sizeof err);
	struct filter_index *fx = fidx_new();
	if (!CHECK(db))
		goto done;

	CHECK_INT(fidx_bytes(fx), ==, 0); /* nothing until a filtered page */
	compare_all(db, fx, "a table: pages from the index's candidates equal the walk's, page by page");
	CHECK_INT(fidx_bytes(fx), >, 4 * N);
	int rc;
	/* exactly the live routes with that origin, and no more */
	CHECK_INT(candidates(db, fx, "5003$", NULL, 100000, &rc), ==, live_with_origin(live, round, 5003));
	CHECK_INT(rc, ==, 1);
	CHECK_INT(candidates(db, fx, "99999", NULL, 100000, &rc), ==, 0); /* no set holds it */
	CHECK_INT(rc, ==, 1);
	CHECK_INT(candidates(db, fx, NULL, "65001:3", 100000, &rc), ==, live_with_community(live, 65001, 3));
	CHECK_INT(rc, ==, 1);
	candidates(db, fx, "^65001", NULL, 1000, &rc); /* every route of a peer: more than max */
	CHECK_INT(rc, ==, 0);
	candidates(db, fx, NULL, "*:3", 100000, &rc); /* nothing to look up */
	CHECK_INT(rc, ==, 0);

	/* committed after the index was built: new sets (origins move), withdraws,
	 * re-announces of withdrawn routes, new routes */
	for (uint32_t i = 0; i < N; i += 7) {
		round[i] = 1;
		announce(rib, peers, i, 1, T0 + N + i);
	}
	for (uint32_t i = 3; i < N; i += 13) {
		for (int p = 0; p < PEERS; p++) {
			struct pw_prefix q = prefix_of(i);
			rib_withdraw(peers[p], BMP_VIEW_PRE, &q, 0, RIB_REASON_NONE, T0 + 2 * N + i, 0);
		}
		live[i] = false;
	}
	for (uint32_t i = 3; i < N; i += 26) {
		announce(rib, peers, i, round[i], T0 + 3 * N + i);
		live[i] = true;
	}
	store_flush(st);
	compare_all(db, fx, "changes committed after the build: the index follows history");
	for (uint32_t o = 5000; o < 5000 + ORIGINS; o += 9) {
		char pat[16];
		snprintf(pat, sizeof pat, "%u$", o);
		CHECK_INT(candidates(db, fx, pat, NULL, 100000, &rc), ==, live_with_origin(live, round, o));
	}

	/* more changes than routes since the last page: routes are read again */
	for (uint32_t k = 0; k < 3; k++)
		for (uint32_t i = 0; i < N; i++) {
			round[i] = 2 + k;
			announce(rib, peers, i, round[i], T0 + (4 + k) * N + i);
			live[i] = true;
		}
	store_flush(st);
	compare_all(db, fx, "after more changes than routes: routes read again");
	CHECK_INT(candidates(db, fx, "5003$", NULL, 100000, &rc), ==, live_with_origin(live, round, 5003));

	/* churn that brings new sets, a filtered page after each round: the
	 * sets no route holds any more are dropped at a rebuild, so memory stays
	 * bounded (without the rebuilds it grows with every round). The RIB
	 * numbers sets on from past 2^32, as after a long run of churn (a set
	 * interned again gets a new id): the index finds them all the same,
	 * and its size does not follow the ids. */
	TEST_SECTION("churn with new sets, ids past 2^32: every match found, the index rebuilt, its memory bounded");
	rib_load_done(rib, 0, (1ULL << 32) + 5);
	size_t after_build = fidx_bytes(fx), most = 0;
	for (uint32_t k = 0; k < 16; k++) {
		for (uint32_t i = 0; i < N; i++) {
			round[i] = 10 + k;
			announce(rib, peers, i, round[i], T0 + (10 + k) * N + i);
		}
		store_flush(st);
		CHECK_INT(candidates(db, fx, "5003$", NULL, 100000, &rc), ==, live_with_origin(live, round, 5003));
		if (fidx_bytes(fx) > most)
			most = fidx_bytes(fx);
	}
	fprintf(stderr, "  index bytes: %zu after a build, at most %zu over 16 rounds of new sets\n", after_build, most);
	CHECK_INT(most, <, 6 * after_build);
	compare_all(db, fx, "after the rebuilds");

done:
	fidx_free(fx);
	sqlite3_close(db);
	store_close(st);
	rib_free(rib);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_report("test_filter_index");
}
