/*
 * Unit tests: rib.c -- the live RIB's diff semantics (rib.h): which
 * announce/withdraw/peer-down/reconnect/End-of-RIB sequences produce which
 * history events, route id reuse, attribute set interning and refcounts,
 * and the live route counters.
 */
#include "rib.h"

#include <stdatomic.h>

#include "check_harness.h"
#include "test_prefix.h"
#include "common/log.h"

/* ------------------------------------------------------------ event log */

struct rec {
	enum rib_event_kind kind;
	enum rib_action action;
	enum rib_reason reason;
	enum bmp_view view;
	uint32_t route_id, path_id;
	bool new_key;
	struct pw_prefix prefix;
	const struct rib_attrset *attrs;
	const struct rib_peer *peer;
};

#define MAX_EVS 20000
static struct rec evs[MAX_EVS];
static int n_evs;

static void on_event(void *ctx, const struct rib_event *ev)
{
	(void)ctx;
	if (n_evs == MAX_EVS)
		return;
	struct rec *r = &evs[n_evs++];
	memset(r, 0, sizeof *r);
	r->kind = ev->kind;
	r->peer = ev->peer;
	if (ev->kind == RIB_EV_ATTRSET)
		r->attrs = ev->attrs;
	if (ev->kind == RIB_EV_ROUTE) {
		r->action = ev->route->action;
		r->reason = ev->route->reason;
		r->view = ev->route->view;
		r->route_id = ev->route->route_id;
		r->path_id = ev->route->path_id;
		r->new_key = ev->route->new_key;
		r->prefix = ev->route->prefix;
		r->attrs = ev->route->attrs;
	}
}

static int count_kind(int from, enum rib_event_kind k)
{
	int n = 0;
	for (int i = from; i < n_evs; i++)
		n += evs[i].kind == k;
	return n;
}

/* The only route event since `from`, or NULL (with a failed check) if
 * there is not exactly one. */
static const struct rec *only_route_event(int from, int line)
{
	const struct rec *found = NULL;
	int n = 0;
	for (int i = from; i < n_evs; i++)
		if (evs[i].kind == RIB_EV_ROUTE) {
			found = &evs[i];
			n++;
		}
	if (n != 1) {
		fprintf(stderr, "%s:%d: expected exactly one route event, got %d\n", __FILE__, line, n);
		check_failures++;
		return NULL;
	}
	return found;
}
#define ONLY_ROUTE_EVENT(from) only_route_event((from), __LINE__)


static bool same_prefix(const struct pw_prefix *a, const char *s)
{
	struct pw_prefix b = pfx(s);
	return a->afi == b.afi && a->len == b.len && memcmp(a->addr, b.addr, 16) == 0;
}

static uint64_t live(struct rib *rib) { return atomic_load(&rib->live_routes); }

static uint32_t peer_live(const struct rib_peer *p)
{
	uint32_t n = 0;
	for (int v = 0; v < BMP_VIEWS; v++)
		n += p->views[v].live;
	return n;
}

static struct bmp_peer_hdr peer_hdr_v4(uint8_t last_octet, uint32_t asn)
{
	struct bmp_peer_hdr h;
	memset(&h, 0, sizeof h);
	h.type = BMP_PEER_GLOBAL;
	h.afi = PW_AFI_IPV4;
	h.addr[0] = 192;
	h.addr[1] = 0;
	h.addr[2] = 2;
	h.addr[3] = last_octet;
	h.asn = asn;
	h.bgp_id = 0xc0000200u | last_octet;
	return h;
}

/* Canonical sets (bgp.h): ORIGIN IGP, and ORIGIN INCOMPLETE. */
static const uint8_t set_a[] = { 0x40, 0x01, 0x00, 0x01, 0x00 };
static const uint8_t set_b[] = { 0x40, 0x01, 0x00, 0x01, 0x02 };

#define T0 1764072000000000LL

/* ------------------------------------------------------------ tests */

static void test_diff(void)
{
	TEST_SECTION("announce / change / withdraw / peer down / resync");
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	rib_subscribe(rib, on_event, NULL);
	n_evs = 0;

	struct rib_router *r = rib_router_connect(rib, "R1", "198.51.100.1", T0);
	if (!CHECK(r != NULL))
		return;
	CHECK(r->connected);
	CHECK_INT(count_kind(0, RIB_EV_ROUTER), ==, 1);
	CHECK(rib_router_find(rib, "R1") == r);
	/* a second connection under the same name while connected: refused */
	CHECK(rib_router_connect(rib, "R1", "198.51.100.2", T0) == NULL);
	CHECK_STR(r->address, "198.51.100.1");

	struct bmp_peer_hdr h = peer_hdr_v4(1, 65002);
	int mark = n_evs;
	struct rib_peer *p = rib_peer_get(r, &h);
	CHECK_INT(count_kind(mark, RIB_EV_PEER), ==, 1);
	CHECK(rib_peer_get(r, &h) == p);
	CHECK_INT(count_kind(mark, RIB_EV_PEER), ==, 1);
	rib_peer_up(p, strdup("{}"), T0);
	CHECK(p->up);

	/* interning: one ATTRSET event per distinct set, one ref per intern */
	mark = n_evs;
	struct rib_attrset *A = rib_attrs_intern(rib, set_a, sizeof set_a);
	CHECK_INT(count_kind(mark, RIB_EV_ATTRSET), ==, 1);
	CHECK_INT(A->refcnt, ==, 1);
	struct rib_attrset *A2 = rib_attrs_intern(rib, set_a, sizeof set_a);
	CHECK(A2 == A);
	CHECK_INT(A->refcnt, ==, 2);
	CHECK_INT(count_kind(mark, RIB_EV_ATTRSET), ==, 1);
	rib_attrs_unref(rib, A2);
	struct rib_attrset *B = rib_attrs_intern(rib, set_b, sizeof set_b);
	CHECK(B != A);
	CHECK(B->id != A->id);
	CHECK_INT(count_kind(mark, RIB_EV_ATTRSET), ==, 2);
	CHECK_INT(rib->attr_used, ==, 2);

	const struct pw_prefix p1 = pfx("10.0.1.0/24"), p2 = pfx("10.0.2.0/24"), p3 = pfx("10.0.3.0/24"),
			       p6 = pfx("2001:db8::/32");
	const struct rec *e;

	/* announce: ANNOUNCE with a new route id */
	mark = n_evs;
	rib_announce(p, BMP_VIEW_PRE, &p1, 0, A, T0 + 1, 0);
	uint32_t id1 = 0;
	if ((e = ONLY_ROUTE_EVENT(mark))) {
		CHECK_INT(e->action, ==, RIB_ANNOUNCE);
		CHECK(e->new_key);
		CHECK(e->route_id != 0);
		CHECK(e->attrs == A);
		CHECK_INT(e->reason, ==, RIB_REASON_NONE);
		CHECK_INT(e->view, ==, BMP_VIEW_PRE);
		CHECK(e->peer == p);
		CHECK(same_prefix(&e->prefix, "10.0.1.0/24"));
		id1 = e->route_id;
	}
	CHECK_INT(A->refcnt, ==, 2); /* ours + the route's */
	CHECK_INT(live(rib), ==, 1);
	const struct rib_route *rt = rib_lookup(p, BMP_VIEW_PRE, &p1, 0);
	CHECK(rt && rt->attrs == A && rt->route_id == id1);
	CHECK(rib_lookup(p, BMP_VIEW_POST, &p1, 0) == NULL);
	CHECK(rib_lookup(p, BMP_VIEW_PRE, &p1, 1) == NULL); /* another path id */

	/* the same announce again: nothing to record */
	mark = n_evs;
	rib_announce(p, BMP_VIEW_PRE, &p1, 0, A, T0 + 2, 0);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 0);
	CHECK_INT(A->refcnt, ==, 2);
	CHECK_INT(live(rib), ==, 1);

	/* other attributes: CHANGE, same route id */
	mark = n_evs;
	rib_announce(p, BMP_VIEW_PRE, &p1, 0, B, T0 + 3, 0);
	if ((e = ONLY_ROUTE_EVENT(mark))) {
		CHECK_INT(e->action, ==, RIB_CHANGE);
		CHECK_INT(e->route_id, ==, id1);
		CHECK(!e->new_key);
		CHECK(e->attrs == B);
	}
	CHECK_INT(A->refcnt, ==, 1);
	CHECK_INT(B->refcnt, ==, 2);
	CHECK_INT(live(rib), ==, 1);

	/* withdraw: WITHDRAW, no reason; the event names the set withdrawn */
	mark = n_evs;
	rib_withdraw(p, BMP_VIEW_PRE, &p1, 0, RIB_REASON_NONE, T0 + 4, 0);
	if ((e = ONLY_ROUTE_EVENT(mark))) {
		CHECK_INT(e->action, ==, RIB_WITHDRAW);
		CHECK_INT(e->reason, ==, RIB_REASON_NONE);
		CHECK_INT(e->route_id, ==, id1);
		CHECK(e->attrs == B);
	}
	CHECK_INT(live(rib), ==, 0);
	CHECK_INT(B->refcnt, ==, 1);
	CHECK(rib_lookup(p, BMP_VIEW_PRE, &p1, 0) == NULL);

	/* withdraw of an unknown route, or of one already withdrawn: nothing */
	mark = n_evs;
	rib_withdraw(p, BMP_VIEW_PRE, &p2, 0, RIB_REASON_NONE, T0 + 5, 0);
	rib_withdraw(p, BMP_VIEW_PRE, &p1, 0, RIB_REASON_NONE, T0 + 5, 0);
	rib_withdraw(p, BMP_VIEW_POST, &p1, 0, RIB_REASON_NONE, T0 + 5, 0);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 0);
	CHECK_INT(live(rib), ==, 0);

	/* re-announce after the withdraw: ANNOUNCE reusing the route id */
	mark = n_evs;
	rib_announce(p, BMP_VIEW_PRE, &p1, 0, A, T0 + 6, 0);
	if ((e = ONLY_ROUTE_EVENT(mark))) {
		CHECK_INT(e->action, ==, RIB_ANNOUNCE);
		CHECK_INT(e->route_id, ==, id1);
		CHECK(!e->new_key);
	}
	/* another path id is another route */
	mark = n_evs;
	rib_announce(p, BMP_VIEW_PRE, &p1, 7, A, T0 + 6, 0);
	if ((e = ONLY_ROUTE_EVENT(mark))) {
		CHECK(e->new_key);
		CHECK(e->route_id != id1);
		CHECK_INT(e->path_id, ==, 7);
	}
	CHECK_INT(live(rib), ==, 2);
	rib_withdraw(p, BMP_VIEW_PRE, &p1, 7, RIB_REASON_NONE, T0 + 6, 0);
	CHECK_INT(live(rib), ==, 1);

	/* peer down: one withdraw per live route in every view, then the peer */
	rib_announce(p, BMP_VIEW_POST, &p1, 0, A, T0 + 7, 0);
	rib_announce(p, BMP_VIEW_PRE, &p3, 0, B, T0 + 7, 0);
	rib_announce(p, BMP_VIEW_PRE, &p6, 0, A, T0 + 7, 0);
	CHECK_INT(live(rib), ==, 4);
	CHECK_INT(peer_live(p), ==, 4);
	mark = n_evs;
	rib_peer_down(p, strdup("{\"code\":1}"), T0 + 8, 0);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 4);
	int pre = 0, post = 0, pd = 0;
	for (int i = mark; i < n_evs; i++)
		if (evs[i].kind == RIB_EV_ROUTE) {
			pd += evs[i].action == RIB_WITHDRAW && evs[i].reason == RIB_REASON_PEER_DOWN;
			pre += evs[i].view == BMP_VIEW_PRE;
			post += evs[i].view == BMP_VIEW_POST;
		}
	CHECK_INT(pd, ==, 4);
	CHECK_INT(pre, ==, 3);
	CHECK_INT(post, ==, 1);
	CHECK_INT(count_kind(mark, RIB_EV_PEER), ==, 1);
	CHECK(n_evs > mark && evs[n_evs - 1].kind == RIB_EV_PEER); /* the peer after its routes */
	CHECK(!p->up);
	CHECK_STR(p->down_reason, "{\"code\":1}");
	CHECK_INT(live(rib), ==, 0);
	CHECK_INT(peer_live(p), ==, 0);
	CHECK_INT(A->refcnt, ==, 1);
	CHECK_INT(B->refcnt, ==, 1);

	/* a second Peer Down: no route events */
	mark = n_evs;
	rib_peer_down(p, strdup("{\"code\":2}"), T0 + 9, 0);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 0);
	CHECK(!p->up);

	/* the peer comes back with routes in two views and two families */
	rib_peer_up(p, strdup("{}"), T0 + 10);
	CHECK(p->up);
	rib_announce(p, BMP_VIEW_PRE, &p1, 0, A, T0 + 10, 0);
	rib_announce(p, BMP_VIEW_PRE, &p3, 0, B, T0 + 10, 0);
	rib_announce(p, BMP_VIEW_PRE, &p6, 0, A, T0 + 10, 0);
	rib_announce(p, BMP_VIEW_POST, &p1, 0, A, T0 + 10, 0);
	CHECK_INT(live(rib), ==, 4);

	/* the router's BMP session ends and starts again: routes are kept */
	uint32_t session = r->session;
	mark = n_evs;
	rib_router_disconnect(r, T0 + 11);
	CHECK(!r->connected);
	struct rib_router *again = rib_router_connect(rib, "R1", "198.51.100.1", T0 + 12);
	CHECK(again == r);
	CHECK(r->connected);
	CHECK_INT(r->session, ==, session + 1);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 0);
	CHECK_INT(live(rib), ==, 4);
	CHECK(rib_lookup(p, BMP_VIEW_PRE, &p1, 0) != NULL);
	CHECK(rib_lookup(p, BMP_VIEW_PRE, &p3, 0) != NULL);
	CHECK(rib_router_connect(rib, "R1", "198.51.100.3", T0 + 12) == NULL);

	/* the re-dump of an unchanged route: no history */
	mark = n_evs;
	CHECK(rib_peer_get(r, &h) == p);
	rib_peer_up(p, strdup("{}"), T0 + 13);
	rib_announce(p, BMP_VIEW_PRE, &p1, 0, A, T0 + 13, 0);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 0);

	/* End-of-RIB for pre-policy IPv4: what was not re-sent is withdrawn
	 * (reason resync); IPv6 and post-policy are not touched */
	mark = n_evs;
	rib_end_of_rib(p, BMP_VIEW_PRE, PW_AFI_IPV4, T0 + 14);
	if ((e = ONLY_ROUTE_EVENT(mark))) {
		CHECK_INT(e->action, ==, RIB_WITHDRAW);
		CHECK_INT(e->reason, ==, RIB_REASON_RESYNC);
		CHECK(same_prefix(&e->prefix, "10.0.3.0/24"));
		CHECK_INT(e->view, ==, BMP_VIEW_PRE);
	}
	CHECK(rib_lookup(p, BMP_VIEW_PRE, &p1, 0) != NULL);
	CHECK(rib_lookup(p, BMP_VIEW_PRE, &p3, 0) == NULL);
	CHECK(rib_lookup(p, BMP_VIEW_PRE, &p6, 0) != NULL);
	CHECK(rib_lookup(p, BMP_VIEW_POST, &p1, 0) != NULL);
	CHECK_INT(live(rib), ==, 3);

	/* a second EoR changes nothing */
	mark = n_evs;
	rib_end_of_rib(p, BMP_VIEW_PRE, PW_AFI_IPV4, T0 + 15);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 0);

	mark = n_evs;
	rib_end_of_rib(p, BMP_VIEW_PRE, PW_AFI_IPV6, T0 + 15);
	if ((e = ONLY_ROUTE_EVENT(mark))) {
		CHECK_INT(e->reason, ==, RIB_REASON_RESYNC);
		CHECK(same_prefix(&e->prefix, "2001:db8::/32"));
	}
	mark = n_evs;
	rib_end_of_rib(p, BMP_VIEW_POST, PW_AFI_IPV4, T0 + 15);
	if ((e = ONLY_ROUTE_EVENT(mark))) {
		CHECK_INT(e->reason, ==, RIB_REASON_RESYNC);
		CHECK_INT(e->view, ==, BMP_VIEW_POST);
	}
	CHECK_INT(live(rib), ==, 1);
	CHECK_INT(peer_live(p), ==, 1);

	/* routes announced after the resync are not stale: an EoR keeps them */
	rib_announce(p, BMP_VIEW_PRE, &p3, 0, B, T0 + 16, 0);
	mark = n_evs;
	rib_end_of_rib(p, BMP_VIEW_PRE, PW_AFI_IPV4, T0 + 17);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 0);
	CHECK_INT(live(rib), ==, 2);

	/* all gone: the attribute sets go with the last reference */
	rib_peer_down(p, NULL, T0 + 18, 0);
	CHECK_INT(live(rib), ==, 0);
	CHECK_INT(A->refcnt, ==, 1);
	CHECK_INT(B->refcnt, ==, 1);
	CHECK_INT(rib->attr_used, ==, 2);
	rib_attrs_unref(rib, A);
	rib_attrs_unref(rib, B);
	CHECK_INT(rib->attr_used, ==, 0);

	/* a set interned again after being freed is announced again */
	mark = n_evs;
	A = rib_attrs_intern(rib, set_a, sizeof set_a);
	CHECK_INT(count_kind(mark, RIB_EV_ATTRSET), ==, 1);
	CHECK_INT(rib->attr_used, ==, 1);
	rib_attrs_unref(rib, A);
	CHECK_INT(rib->attr_used, ==, 0);

	rib_free(rib);
}

static void test_resync_deadline(void)
{
	TEST_SECTION("resync deadline (rib_tick)");
	struct rib_config cfg = { .resync_timeout_ms = 0 };
	struct rib *rib = rib_new(&cfg);
	rib_subscribe(rib, on_event, NULL);
	n_evs = 0;

	struct rib_router *r = rib_router_connect(rib, "R2", "198.51.100.9", T0);
	struct bmp_peer_hdr h1 = peer_hdr_v4(1, 65002), h2 = peer_hdr_v4(2, 65003);
	struct rib_peer *p1 = rib_peer_get(r, &h1), *p2 = rib_peer_get(r, &h2);
	rib_peer_up(p1, NULL, T0);
	rib_peer_up(p2, NULL, T0);
	struct rib_attrset *A = rib_attrs_intern(rib, set_a, sizeof set_a);
	const struct pw_prefix a = pfx("10.1.0.0/16"), b = pfx("10.2.0.0/16");
	rib_announce(p1, BMP_VIEW_PRE, &a, 0, A, T0, 0);
	rib_announce(p1, BMP_VIEW_PRE, &b, 0, A, T0, 0);
	rib_announce(p2, BMP_VIEW_PRE, &a, 0, A, T0, 0);
	rib_attrs_unref(rib, A);
	CHECK_INT(live(rib), ==, 3);

	/* reconnect; peer 1 re-sends one route, peer 2 is never reported */
	rib_router_disconnect(r, T0 + 1);
	CHECK(rib_router_connect(rib, "R2", "198.51.100.9", T0 + 2) == r);
	rib_peer_up(rib_peer_get(r, &h1), NULL, T0 + 3);
	A = rib_attrs_intern(rib, set_a, sizeof set_a);
	rib_announce(p1, BMP_VIEW_PRE, &a, 0, A, T0 + 3, 0);
	rib_attrs_unref(rib, A);

	/* the deadline (0 ms) has passed: stale routes go, reason resync */
	int mark = n_evs;
	rib_tick(rib, T0 + 4);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 2);
	for (int i = mark; i < n_evs; i++)
		if (evs[i].kind == RIB_EV_ROUTE) {
			CHECK_INT(evs[i].action, ==, RIB_WITHDRAW);
			CHECK_INT(evs[i].reason, ==, RIB_REASON_RESYNC);
		}
	CHECK(rib_lookup(p1, BMP_VIEW_PRE, &a, 0) != NULL);
	CHECK(rib_lookup(p1, BMP_VIEW_PRE, &b, 0) == NULL);
	CHECK(rib_lookup(p2, BMP_VIEW_PRE, &a, 0) == NULL);
	CHECK_INT(live(rib), ==, 1);
	CHECK(p1->up);
	CHECK(!p2->up); /* not reported at all after the reconnect */

	/* a later tick has nothing left to do */
	mark = n_evs;
	rib_tick(rib, T0 + 5);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 0);

	/* a disconnected router keeps its routes past the deadline */
	rib_router_disconnect(r, T0 + 6);
	rib_tick(rib, T0 + 7);
	CHECK_INT(live(rib), ==, 1);
	rib_free(rib);
}

/* A new RIB logging its events, with one router and one peer up. */
static struct rib_peer *rib_with_peer(struct rib **rib, const char *router, const char *addr, uint32_t asn)
{
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	*rib = rib_new(&cfg);
	rib_subscribe(*rib, on_event, NULL);
	n_evs = 0;
	struct rib_router *r = rib_router_connect(*rib, router, addr, T0);
	struct bmp_peer_hdr h = peer_hdr_v4(1, asn);
	struct rib_peer *p = rib_peer_get(r, &h);
	rib_peer_up(p, NULL, T0);
	return p;
}

/* ADD-PATH: path ids live beside the table (rib_table.path_ids), created
 * at the first non-zero one and grown past many chunks. */
static void test_addpath_ids(void)
{
	TEST_SECTION("add-path: the same prefix with several path ids, across table growth and peer down");
	enum { N = 2000, PIDS = 3 };
	struct rib *rib;
	struct rib_peer *p = rib_with_peer(&rib, "R4", "198.51.100.8", 65004);
	uint8_t d[8] = { 0x80, 0x04, 0x00, 0x04, 0, 0, 0, 1 };
	struct rib_attrset *a = rib_attrs_intern(rib, d, sizeof d);
	/* path id 0 first for many prefixes, so the array is created late */
	for (uint32_t pid = 0; pid < PIDS; pid++)
		for (uint32_t i = 0; i < N; i++) {
			struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 32 };
			pw_put32(q.addr, 0x0a000000u + i);
			rib_announce(p, BMP_VIEW_PRE, &q, pid * 10, a, T0, 0);
		}
	CHECK_INT(count_kind(0, RIB_EV_ROUTE), ==, N * PIDS);
	CHECK_INT(peer_live(p), ==, N * PIDS);
	int wrong = 0;
	for (uint32_t i = 0; i < N; i++) {
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 32 };
		pw_put32(q.addr, 0x0a000000u + i);
		const struct rib_route *x = rib_lookup(p, BMP_VIEW_PRE, &q, 0), *y = rib_lookup(p, BMP_VIEW_PRE, &q, 10),
				       *z = rib_lookup(p, BMP_VIEW_PRE, &q, 20);
		wrong += !x || !y || !z || x == y || y == z || x == z || rib_lookup(p, BMP_VIEW_PRE, &q, 5) != NULL;
	}
	CHECK_INT(wrong, ==, 0);
	/* a withdraw names its path id: only that route goes */
	struct pw_prefix q7 = { .afi = PW_AFI_IPV4, .len = 32 };
	pw_put32(q7.addr, 0x0a000007u);
	int mark = n_evs;
	rib_withdraw(p, BMP_VIEW_PRE, &q7, 10, RIB_REASON_NONE, T0 + 1, 0);
	CHECK_INT(count_kind(mark, RIB_EV_ROUTE), ==, 1);
	CHECK_INT(evs[mark].path_id, ==, 10);
	CHECK(rib_lookup(p, BMP_VIEW_PRE, &q7, 0) && rib_lookup(p, BMP_VIEW_PRE, &q7, 20));
	CHECK(!rib_lookup(p, BMP_VIEW_PRE, &q7, 10));
	/* peer down withdraws each route with its own path id */
	mark = n_evs;
	rib_peer_down(p, NULL, T0 + 2, 0);
	int per_pid[PIDS] = { 0 };
	for (int i = mark; i < n_evs; i++)
		if (evs[i].kind == RIB_EV_ROUTE && evs[i].path_id % 10 == 0 && evs[i].path_id / 10 < PIDS)
			per_pid[evs[i].path_id / 10]++;
	CHECK_INT(per_pid[0], ==, N);
	CHECK_INT(per_pid[1], ==, N - 1);
	CHECK_INT(per_pid[2], ==, N);
	rib_attrs_unref(rib, a);
	rib_free(rib);
}

static void test_many(void)
{
	TEST_SECTION("many routes and sets: table growth and set deletion");
	enum { N = 3000 };
	struct rib *rib;
	struct rib_peer *p = rib_with_peer(&rib, "R3", "198.51.100.7", 65002);

	/* N distinct sets (a MED per route), each used by one route */
	static struct rib_attrset *sets[N];
	static uint32_t ids[N];
	for (int i = 0; i < N; i++) {
		uint8_t d[8] = { 0x80, 0x04, 0x00, 0x04 };
		pw_put32(d + 4, (uint32_t)i);
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 32 };
		pw_put32(q.addr, 0x0a000000u + (uint32_t)i);
		sets[i] = rib_attrs_intern(rib, d, sizeof d);
		rib_announce(p, BMP_VIEW_PRE, &q, 0, sets[i], T0, 0);
		rib_attrs_unref(rib, sets[i]);
		ids[i] = rib_lookup(p, BMP_VIEW_PRE, &q, 0) ? rib_lookup(p, BMP_VIEW_PRE, &q, 0)->route_id : 0;
	}
	CHECK_INT(live(rib), ==, N);
	CHECK_INT(rib->attr_used, ==, N);
	CHECK_INT(count_kind(0, RIB_EV_ATTRSET), ==, N);
	bool distinct = true;
	for (int i = 1; i < N; i++)
		distinct &= ids[i] != 0 && ids[i] != ids[i - 1];
	CHECK(distinct);

	/* withdraw every odd route: their sets are freed; every even set
	 * must still be found by interning (probe chains intact) */
	for (int i = 1; i < N; i += 2) {
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 32 };
		pw_put32(q.addr, 0x0a000000u + (uint32_t)i);
		rib_withdraw(p, BMP_VIEW_PRE, &q, 0, RIB_REASON_NONE, T0, 0);
	}
	CHECK_INT(live(rib), ==, N / 2);
	CHECK_INT(rib->attr_used, ==, N / 2);
	int mark = n_evs, lost = 0;
	for (int i = 0; i < N; i += 2) {
		uint8_t d[8] = { 0x80, 0x04, 0x00, 0x04 };
		pw_put32(d + 4, (uint32_t)i);
		struct rib_attrset *s = rib_attrs_intern(rib, d, sizeof d);
		lost += s != sets[i];
		rib_attrs_unref(rib, s);
	}
	CHECK_INT(lost, ==, 0);
	CHECK_INT(count_kind(mark, RIB_EV_ATTRSET), ==, 0);

	/* route ids survive table growth: each even route still has its id */
	int wrong = 0;
	for (int i = 0; i < N; i += 2) {
		struct pw_prefix q = { .afi = PW_AFI_IPV4, .len = 32 };
		pw_put32(q.addr, 0x0a000000u + (uint32_t)i);
		const struct rib_route *rt = rib_lookup(p, BMP_VIEW_PRE, &q, 0);
		wrong += !rt || rt->route_id != ids[i] || rt->attrs != sets[i];
	}
	CHECK_INT(wrong, ==, 0);

	rib_peer_down(p, NULL, T0 + 1, 0);
	CHECK_INT(live(rib), ==, 0);
	CHECK_INT(rib->attr_used, ==, 0);
	rib_free(rib);
}

/* The interned attribute sets under load: growth, probing past other sets'
 * slots, deletions that shift the probe chains back. Every set is found
 * again until its last reference goes, and only then made anew. */
static void test_attr_table(void)
{
	TEST_SECTION("attribute sets: 60k interned, every other one released, the rest still found");
	enum { N = 60000 };
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	static struct rib_attrset *sets[N];
	uint8_t d[12] = { 0x40, 0x01, 0x01, 0x00, 0x40, 0x04, 0x04 };
	int lost = 0, dup = 0;
	for (uint32_t i = 0; i < N; i++) {
		memcpy(d + 8, &i, 4);
		sets[i] = rib_attrs_intern(rib, d, sizeof d);
	}
	CHECK_INT(rib->attr_used, ==, N);
	for (uint32_t i = 0; i < N; i += 2) /* the last reference of half of them */
		rib_attrs_unref(rib, sets[i]);
	CHECK_INT(rib->attr_used, ==, N / 2);
	for (uint32_t i = 1; i < N; i += 2) {
		memcpy(d + 8, &i, 4);
		struct rib_attrset *a = rib_attrs_intern(rib, d, sizeof d);
		lost += a != sets[i];
		rib_attrs_unref(rib, a);
	}
	CHECK_INT(lost, ==, 0);
	CHECK_INT(rib->attr_used, ==, N / 2);
	uint64_t next_id = rib->next_attr_id;
	for (uint32_t i = 0; i < N; i += 2) { /* released ones come back as new sets */
		memcpy(d + 8, &i, 4);
		sets[i] = rib_attrs_intern(rib, d, sizeof d);
		dup += sets[i]->id < next_id;
	}
	CHECK_INT(dup, ==, 0);
	CHECK_INT(rib->attr_used, ==, N);
	for (uint32_t i = 0; i < N; i++)
		rib_attrs_unref(rib, sets[i]);
	CHECK_INT(rib->attr_used, ==, 0);
	rib_free(rib);
}

int main(void)
{
	pw_log_set_level(PW_LOG_WARN);
	test_attr_table();
	test_diff();
	test_resync_deadline();
	test_many();
	test_addpath_ids();
	return check_report("test_rib");
}
