/*
 * Unit tests: ingest.c on real BMP captures (tests/fixtures/bmp/, see its
 * README.md): FRR 8.4.4 and GoBGP 3.10.0 streams, split with
 * bmp_frame_check and fed through ingest_message into a RIB (no store).
 *
 *   test-ingest-fixtures DIR       DIR = tests/fixtures/bmp
 *
 * 1. Every capture: each message frames and decodes, and the per-message
 *    trace (what `pathwatch dump` prints) agrees with the independent
 *    decoder's .decoded.txt beside it: message types, peer, view, announced
 *    and withdrawn prefixes (with path ids), AS path, LOCAL_PREF and the
 *    add-path mismatch note.
 * 2. The RIB after given captures: routers, peers, routes, attributes.
 */
#include "bgp.h"
#include "bmp.h"
#include "common/log.h"
#include "ingest.h"
#include "rib.h"

#include <stdatomic.h>

#include "check_harness.h"

static const char *fixtures_dir;

struct blob {
	uint8_t *p;
	size_t n;
};

static struct blob read_file(const char *name)
{
	char path[1024];
	struct blob b = { NULL, 0 };
	snprintf(path, sizeof path, "%s/%s", fixtures_dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		check_failures++;
		return b;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b.p = malloc(n > 0 ? (size_t)n + 1 : 1);
	b.n = n > 0 ? fread(b.p, 1, (size_t)n, f) : 0;
	b.p[b.n] = 0;
	fclose(f);
	return b;
}

/* ------------------------------------------------------------ route events */

struct ev {
	enum rib_action action;
	enum rib_reason reason;
	enum bmp_view view;
	struct pw_prefix prefix;
	uint32_t path_id;
};
#define MAX_EVS 4096
static struct ev evs[MAX_EVS];
static int n_evs;

static void on_event(void *ctx, const struct rib_event *e)
{
	(void)ctx;
	if (e->kind != RIB_EV_ROUTE || n_evs == MAX_EVS)
		return;
	struct ev *x = &evs[n_evs++];
	x->action = e->route->action;
	x->reason = e->route->reason;
	x->view = e->route->view;
	x->prefix = e->route->prefix;
	x->path_id = e->route->path_id;
}

static int count_events(enum rib_action a, enum rib_reason r)
{
	int n = 0;
	for (int i = 0; i < n_evs; i++)
		n += evs[i].action == a && evs[i].reason == r;
	return n;
}

/* ------------------------------------------------ the reference decoder's lines */

struct ref {
	const char *file;
	char *text;
	char *lines[256];
	int n_lines, next;
	int mismatches;
};

/* "nlri=['a', 'b']" -> "a,b" */
static void ref_list(const char *line, const char *key, char *out, size_t n)
{
	out[0] = 0;
	const char *s = strstr(line, key);
	if (!s)
		return;
	s += strlen(key);
	const char *e = strchr(s, ']');
	size_t k = 0;
	for (; s && e && s < e && k + 1 < n; s++)
		if (*s == ',')
			out[k++] = ',';
		else if (*s != '\'' && !(*s == ' ' && s[-1] == ','))
			out[k++] = *s;
	out[k] = 0;
}

/* "aspath=[65020, 65515]" -> "65020 65515" */
static void ref_aspath(const char *line, char *out, size_t n)
{
	ref_list(line, "aspath=[", out, n);
	for (char *c = out; *c; c++)
		if (*c == ',')
			*c = ' ';
}

/* The n-th space-separated token. */
static void ref_token(const char *line, int idx, char *out, size_t n)
{
	out[0] = 0;
	for (int i = 0; i < idx && line; i++) {
		line = strchr(line, ' ');
		if (line)
			line++;
	}
	if (!line)
		return;
	size_t k = strcspn(line, " ");
	if (k >= n)
		k = n - 1;
	memcpy(out, line, k);
	out[k] = 0;
}

static void json_list(json_t *a, const char *sep, char *out, size_t n)
{
	size_t i, k = 0;
	json_t *v;
	out[0] = 0;
	json_array_foreach(a, i, v) {
		if (json_is_string(v))
			k += (size_t)snprintf(out + k, n - k, "%s%s", k ? sep : "", json_string_value(v));
		else if (json_is_integer(v))
			k += (size_t)snprintf(out + k, n - k, "%s%lld", k ? sep : "", (long long)json_integer_value(v));
		else
			k += (size_t)snprintf(out + k, n - k, "%s?", k ? sep : "");
		if (k >= n)
			break;
	}
}

static void differ(struct ref *r, const char *line, const char *what, const char *ours, const char *theirs)
{
	r->mismatches++;
	fprintf(stderr, "%s: %.40s...: %s differs: pathwatch \"%s\", reference \"%s\"\n", r->file, line, what, ours,
		theirs);
}

static void compare_trace(void *ctx, json_t *m)
{
	struct ref *r = ctx;
	if (r->next >= r->n_lines) {
		r->mismatches++;
		fprintf(stderr, "%s: more messages than reference lines\n", r->file);
		return;
	}
	const char *line = r->lines[r->next++];
	static const struct { const char *ref, *ours; } types[] = {
		{ "Initiation", "initiation" }, { "PeerUp", "peer-up" }, { "PeerDown", "peer-down" },
		{ "RouteMonitoring", "route-monitoring" }, { "StatisticsReport", "statistics" },
		{ "Termination", "termination" }, { "RouteMirroring", "route-mirroring" },
	};
	char tok[128], ours[1024], theirs[1024];
	ref_token(line, 1, tok, sizeof tok);
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *want = "?";
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(tok, types[i].ref) == 0)
			want = types[i].ours;
	if (!type || strcmp(type, want) != 0) {
		differ(r, line, "type", type ? type : "(none)", want);
		return;
	}
	if (json_object_get(m, "peer")) {
		ref_token(line, 2, tok, sizeof tok);
		const char *peer = json_string_value(json_object_get(m, "peer"));
		if (strncmp(tok, "peer=", 5) != 0 || !peer || strcmp(tok + 5, peer) != 0)
			differ(r, line, "peer", peer ? peer : "", tok);
		ref_token(line, 4, tok, sizeof tok);
		const char *view = json_string_value(json_object_get(m, "view"));
		const char *wv = strcmp(tok, "adj-rib-in-pre") == 0    ? "pre-policy"
				 : strcmp(tok, "adj-rib-in-post") == 0 ? "post-policy"
								       : tok;
		if (!view || strcmp(view, wv) != 0)
			differ(r, line, "view", view ? view : "", wv);
	}
	if (strcmp(type, "route-monitoring") != 0)
		return;
	if (json_object_get(m, "error")) {
		differ(r, line, "decoding", json_string_value(json_object_get(m, "error")), "ok");
		return;
	}
	json_list(json_object_get(m, "announced"), ",", ours, sizeof ours);
	ref_list(line, "nlri=[", theirs, sizeof theirs);
	if (strcmp(ours, theirs) != 0)
		differ(r, line, "announced", ours, theirs);
	json_list(json_object_get(m, "withdrawn"), ",", ours, sizeof ours);
	ref_list(line, "withdrawn=[", theirs, sizeof theirs);
	if (strcmp(ours, theirs) != 0)
		differ(r, line, "withdrawn", ours, theirs);
	bool mismatch = json_is_true(json_object_get(m, "addpath_mismatch"));
	bool ref_mismatch = strstr(line, "path-id presence differs") != NULL;
	if (mismatch != ref_mismatch)
		differ(r, line, "add-path mismatch", mismatch ? "yes" : "no", ref_mismatch ? "yes" : "no");
	json_t *attrs = json_object_get(m, "attributes");
	if (json_array_size(json_object_get(m, "announced"))) {
		json_list(json_object_get(attrs, "as_path"), " ", ours, sizeof ours);
		ref_aspath(line, theirs, sizeof theirs);
		if (strcmp(ours, theirs) != 0)
			differ(r, line, "as_path", ours, theirs);
		json_t *lp = json_object_get(attrs, "local_pref");
		if (json_is_integer(lp))
			snprintf(ours, sizeof ours, "lp=%lld", (long long)json_integer_value(lp));
		else
			snprintf(ours, sizeof ours, "lp=None");
		const char *l = strstr(line, "lp=");
		snprintf(theirs, sizeof theirs, "%.*s", l ? (int)strcspn(l, " ") : 0, l ? l : "");
		if (strcmp(ours, theirs) != 0)
			differ(r, line, "local_pref", ours, theirs);
	}
}

static void ref_load(struct ref *r, const char *bmp_name)
{
	char name[256];
	snprintf(name, sizeof name, "%.*s.decoded.txt", (int)(strlen(bmp_name) - 4), bmp_name);
	memset(r, 0, sizeof *r);
	r->file = bmp_name;
	struct blob b = read_file(name);
	r->text = (char *)b.p;
	for (char *s = r->text; s && *s && r->n_lines < 256;) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = 0;
		if (*s)
			r->lines[r->n_lines++] = s;
		s = nl ? nl + 1 : NULL;
	}
}

/* ------------------------------------------------------------ feeding */

/* Feeds a whole capture as one router session. Returns the message count,
 * or -1 if the stream does not frame cleanly to its end. */
static int feed(struct ingest_session *s, const struct blob *b, int64_t now_us)
{
	size_t off = 0, len = 0;
	const char *why = NULL;
	int n = 0;
	while (off < b->n) {
		int rc = bmp_frame_check(b->p + off, b->n - off, BMP_DEFAULT_MAX_MSG, &len, &why);
		if (rc != 1) {
			fprintf(stderr, "framing stopped at offset %zu: rc %d (%s)\n", off, rc, rc < 0 ? why : "short");
			return -1;
		}
		ingest_message(s, b->p + off, len, now_us + n);
		off += len;
		n++;
	}
	return n;
}

static uint64_t counter_sum(const struct rib *rib, enum rib_counter c)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < rib->n_routers; i++)
		n += rib->routers[i]->counters[c];
	return n;
}

/* Messages counted by type: route monitoring + statistics + ... */
static uint64_t per_type_sum(const struct rib *rib)
{
	static const enum rib_counter types[] = { RC_ROUTE_MONITORING, RC_STATISTICS, RC_PEER_DOWN, RC_PEER_UP,
						  RC_INITIATION, RC_TERMINATION, RC_ROUTE_MIRRORING };
	uint64_t n = 0;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		n += counter_sum(rib, types[i]);
	return n;
}

static void test_capture_vs_reference(const char *name)
{
	char title[128];
	snprintf(title, sizeof title, "%s: decodes like the reference", name);
	TEST_SECTION(title);
	struct blob b = read_file(name);
	if (!b.p)
		return;
	struct ref ref;
	ref_load(&ref, name);
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	struct ingest_session s;
	ingest_init(&s, rib, "192.0.2.200", BMP_DEFAULT_MAX_MSG);
	s.trace = compare_trace;
	s.trace_ctx = &ref;
	int n = feed(&s, &b, 1764072000000000LL);
	CHECK_INT(n, ==, ref.n_lines);
	CHECK_INT(ref.next, ==, ref.n_lines);
	CHECK_INT(ref.mismatches, ==, 0);
	CHECK_INT(per_type_sum(rib), ==, n);
	CHECK_INT(counter_sum(rib, RC_BAD_MESSAGES), ==, 0);
	CHECK_INT(counter_sum(rib, RC_UPDATE_ERRORS), ==, 0);
	CHECK_INT(counter_sum(rib, RC_TREAT_AS_WITHDRAW), ==, 0);
	CHECK_INT(counter_sum(rib, RC_ATTR_DISCARDED), ==, 0);
	ingest_close(&s, 1764072100000000LL);
	rib_free(rib);
	free(b.p);
	free(ref.text);
}

/* ------------------------------------------------------------ RIB look-ups */

static struct rib_peer *find_peer(struct rib_router *r, uint8_t type, const char *addr)
{
	struct pw_prefix a;
	const char *why;
	if (!r || pw_prefix_parse(addr, &a, &why))
		return NULL;
	for (uint32_t i = 0; i < r->n_peers; i++) {
		struct rib_peer *p = r->peers[i];
		if (p->type == type && p->afi == a.afi && memcmp(p->addr, a.addr, 16) == 0)
			return p;
	}
	return NULL;
}

static const struct rib_route *route(const struct rib_peer *p, enum bmp_view v, const char *prefix,
				     uint32_t path_id)
{
	struct pw_prefix q;
	const char *why;
	if (!p || pw_prefix_parse(prefix, &q, &why))
		return NULL;
	return rib_lookup(p, v, &q, path_id);
}

static bool local_pref(const struct rib_route *rt, uint32_t *lp)
{
	struct rbuf v;
	if (!rt || !bgp_attrs_find(rt->attrs->data, rt->attrs->len, BGP_ATTR_LOCAL_PREF, &v) || v.len != 4)
		return false;
	*lp = pw_get32(v.p);
	return true;
}

/* The route's AS_PATH as "65020 65515" (empty if none). */
static const char *as_path(const struct rib_route *rt)
{
	static char out[256];
	uint32_t asns[32];
	out[0] = 0;
	if (!rt)
		return "(no route)";
	int n = bgp_attrs_as_path(rt->attrs->data, rt->attrs->len, asns, 32);
	size_t k = 0;
	for (int i = 0; i < n && i < 32; i++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%u", i ? " " : "", asns[i]);
	return out;
}

static uint32_t peer_live(const struct rib_peer *p)
{
	uint32_t n = 0;
	for (int v = 0; v < BMP_VIEWS; v++)
		n += p->views[v].live;
	return n;
}

static void test_counters(void)
{
	TEST_SECTION("frr-steady-ce1.bmp: router counters count every message and byte");
	struct blob b = read_file("frr-steady-ce1.bmp");
	if (!b.p)
		return;
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	struct ingest_session s;
	ingest_init(&s, rib, "192.0.2.204", BMP_DEFAULT_MAX_MSG);
	int n = feed(&s, &b, 1764072000000000LL);
	struct rib_router *r = rib_router_find(rib, "CE1");
	if (CHECK(r != NULL)) {
		CHECK_INT(n, ==, 17);
		CHECK_INT(r->counters[RC_INITIATION], ==, 1);
		CHECK_INT(r->counters[RC_PEER_UP], ==, 2);
		/* "messages" and "bytes" include the Initiation that named the
		 * router, like "initiation" does (the 17 messages are 1981 bytes) */
		CHECK_INT(r->counters[RC_MESSAGES], ==, n);
		CHECK_INT(r->counters[RC_MESSAGES], ==, per_type_sum(rib));
		CHECK_INT(r->counters[RC_BYTES], ==, b.n);
	}
	ingest_close(&s, 1764072100000000LL);
	rib_free(rib);
	free(b.p);
}

static void test_frr_steady_fw(void)
{
	TEST_SECTION("frr-steady-fw.bmp: the firewall's RIB");
	struct blob b = read_file("frr-steady-fw.bmp");
	if (!b.p)
		return;
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	struct ingest_session s;
	ingest_init(&s, rib, "192.0.2.201", BMP_DEFAULT_MAX_MSG);
	CHECK(feed(&s, &b, 1764072000000000LL) > 0);

	struct rib_router *r = rib_router_find(rib, "FW");
	if (CHECK(r != NULL)) {
		CHECK(r->connected);
		CHECK_STR(r->sys_descr, "FRRouting 8.4.4");
		CHECK(r->strip_own_as);
		/* the four BGP neighbours had a Peer Up and are up */
		static const char *const nbrs[] = { "10.17.11.76", "10.17.11.77", "192.168.11.0", "192.168.11.2" };
		int with_peer_up = 0;
		for (uint32_t i = 0; i < r->n_peers; i++)
			with_peer_up += r->peers[i]->session_info != NULL;
		CHECK_INT(with_peer_up, ==, 4);
		for (int i = 0; i < 4; i++) {
			struct rib_peer *p = find_peer(r, BMP_PEER_GLOBAL, nbrs[i]);
			if (!CHECK(p != NULL)) {
				fprintf(stderr, "    peer %s\n", nbrs[i]);
				continue;
			}
			CHECK(p->up);
			CHECK(p->session_info != NULL);
			CHECK_INT(p->local_asn, ==, 65020);
		}
		struct rib_peer *vpn = find_peer(r, BMP_PEER_GLOBAL, "10.17.11.76");
		struct rib_peer *ce = find_peer(r, BMP_PEER_GLOBAL, "192.168.11.0");
		if (vpn) {
			CHECK_INT(vpn->asn, ==, 65515);
			const struct rib_route *pre = route(vpn, BMP_VIEW_PRE, "10.17.11.0/25", 0);
			const struct rib_route *post = route(vpn, BMP_VIEW_POST, "10.17.11.0/25", 0);
			uint32_t lp;
			CHECK(pre != NULL);
			CHECK(post != NULL);
			CHECK(!local_pref(pre, &lp)); /* eBGP: no LOCAL_PREF */
			CHECK_STR(as_path(post), "65020 65515"); /* FRR prepends its own AS */
			/* the echoed on-prem prefix: rejected, so pre-policy only */
			CHECK(route(vpn, BMP_VIEW_PRE, "10.1.11.0/25", 0) != NULL);
			CHECK(route(vpn, BMP_VIEW_POST, "10.1.11.0/25", 0) == NULL);
		}
		if (ce) {
			const struct rib_route *pre = route(ce, BMP_VIEW_PRE, "10.17.11.0/25", 0);
			const struct rib_route *post = route(ce, BMP_VIEW_POST, "10.17.11.0/25", 0);
			uint32_t lp = 0;
			CHECK(pre != NULL);
			if (CHECK(post != NULL)) {
				CHECK(local_pref(post, &lp));
				CHECK_INT(lp, ==, 150);
				CHECK_STR(as_path(post), "12076");
			}
			lp = 0;
			CHECK(local_pref(pre, &lp) && lp == 150);
			CHECK(route(ce, BMP_VIEW_PRE, "10.17.11.128/26", 0) != NULL);
		}
		/* locally originated: post-policy routes of peer 0.0.0.0 */
		struct rib_peer *self = find_peer(r, BMP_PEER_GLOBAL, "0.0.0.0");
		if (CHECK(self != NULL))
			CHECK(route(self, BMP_VIEW_POST, "10.1.11.0/25", 0) != NULL);
		CHECK(atomic_load(&rib->live_routes) > 0);
	}
	ingest_close(&s, 1764072100000000LL);
	if (r)
		CHECK(!r->connected);
	rib_free(rib);
	free(b.p);
}

static void test_frr_two_sessions(void)
{
	TEST_SECTION("probe-frr-1 + probe-frr-2: reconnect, re-dump, peer down");
	struct blob b1 = read_file("probe-frr-1.bmp"), b2 = read_file("probe-frr-2.bmp");
	if (!b1.p || !b2.p)
		return;
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	rib_subscribe(rib, on_event, NULL);
	n_evs = 0;
	struct ingest_session s;

	ingest_init(&s, rib, "192.0.2.202", BMP_DEFAULT_MAX_MSG);
	CHECK_INT(feed(&s, &b1, 1764072000000000LL), ==, 18);
	ingest_close(&s, 1764072010000000LL);

	struct rib_router *r = rib_router_find(rib, "DUT-FRR");
	if (!CHECK(r != NULL)) {
		rib_free(rib);
		return;
	}
	CHECK(!r->connected);
	struct rib_peer *p = find_peer(r, BMP_PEER_GLOBAL, "10.99.0.1");
	if (!CHECK(p != NULL)) {
		rib_free(rib);
		return;
	}
	/* after session 1: the neighbour's routes as last reported. FRR
	 * negotiates add-path but sends no path ids: path id 0 */
	CHECK(p->up);
	CHECK(p->addpath_rx[0]);
	CHECK(route(p, BMP_VIEW_PRE, "10.100.1.0/24", 0) != NULL);
	CHECK_STR(as_path(route(p, BMP_VIEW_POST, "10.100.1.0/24", 0)), "65001 65002 65010");
	CHECK(route(p, BMP_VIEW_PRE, "10.100.2.0/24", 0) == NULL); /* withdrawn at @1412 */
	CHECK(route(p, BMP_VIEW_POST, "10.100.2.0/24", 0) == NULL);
	CHECK(route(p, BMP_VIEW_PRE, "2001:db8:100::/48", 0) != NULL);
	CHECK(route(p, BMP_VIEW_POST, "2001:db8:100::/48", 0) != NULL);
	CHECK_INT(peer_live(p), ==, 4);
	CHECK_INT(count_events(RIB_WITHDRAW, RIB_REASON_PEER_DOWN), ==, 0);
	int after1 = n_evs;

	ingest_init(&s, rib, "192.0.2.202", BMP_DEFAULT_MAX_MSG);
	CHECK_INT(feed(&s, &b2, 1764072020000000LL), ==, 16);
	ingest_close(&s, 1764072030000000LL);

	/* the same router and peer, not a second one */
	CHECK_INT(rib->n_routers, ==, 1);
	CHECK(rib_router_find(rib, "DUT-FRR") == r);
	CHECK(find_peer(r, BMP_PEER_GLOBAL, "10.99.0.1") == p);
	CHECK(!p->up);
	CHECK(p->down_reason != NULL);
	CHECK_INT(peer_live(p), ==, 0);
	CHECK_INT(atomic_load(&rib->live_routes), ==, 0);
	CHECK(route(p, BMP_VIEW_PRE, "10.100.1.0/24", 0) == NULL);
	/* the re-dump changed 10.100.1.0/24's path back (CHANGE in both views),
	 * re-announced 10.100.2.0/24 pre-policy, and nothing was left stale */
	int changes = 0;
	for (int i = after1; i < n_evs; i++)
		changes += evs[i].action == RIB_CHANGE;
	CHECK_INT(changes, ==, 2);
	CHECK_INT(count_events(RIB_WITHDRAW, RIB_REASON_RESYNC), ==, 0);
	/* Peer Down withdrew the five live routes: 10.100.1.0/24 and
	 * 2001:db8:100::/48 pre and post, 10.100.2.0/24 pre */
	CHECK_INT(count_events(RIB_WITHDRAW, RIB_REASON_PEER_DOWN), ==, 5);
	rib_free(rib);
	free(b1.p);
	free(b2.p);
}

static void test_gobgp(void)
{
	TEST_SECTION("probe-gobgp-1: Loc-RIB and add-path");
	struct blob b = read_file("probe-gobgp-1.bmp");
	if (!b.p)
		return;
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	struct rib *rib = rib_new(&cfg);
	struct ingest_session s;
	ingest_init(&s, rib, "192.0.2.203", BMP_DEFAULT_MAX_MSG);
	CHECK_INT(feed(&s, &b, 1764072000000000LL), ==, 12);
	struct rib_router *r = rib_router_find(rib, "DUT-GoBGP");
	if (CHECK(r != NULL)) {
		/* Loc-RIB (peer type 3, RFC 9069), no Peer Up for it */
		struct rib_peer *loc = find_peer(r, BMP_PEER_LOC_RIB, "0.0.0.0");
		if (CHECK(loc != NULL)) {
			CHECK(loc->up);
			CHECK(route(loc, BMP_VIEW_LOCRIB, "10.200.0.0/24", 0) != NULL);
			CHECK(route(loc, BMP_VIEW_LOCRIB, "10.100.1.0/24", 0) != NULL);
			CHECK(route(loc, BMP_VIEW_LOCRIB, "2001:db8:100::/48", 0) != NULL);
			CHECK(route(loc, BMP_VIEW_PRE, "10.200.0.0/24", 0) == NULL);
		}
		struct rib_peer *p = find_peer(r, BMP_PEER_GLOBAL, "10.99.0.1");
		if (CHECK(p != NULL)) {
			CHECK(p->addpath_rx[0]);
			CHECK(!p->addpath_rx[1]);
			/* two paths of one prefix: two routes */
			const struct rib_route *r1 = route(p, BMP_VIEW_PRE, "10.100.1.0/24", 1);
			const struct rib_route *r2 = route(p, BMP_VIEW_PRE, "10.100.1.0/24", 2);
			if (CHECK(r1 != NULL) && CHECK(r2 != NULL)) {
				CHECK(r1->route_id != r2->route_id);
				CHECK(r1->attrs != r2->attrs);
				CHECK_STR(as_path(r1), "65002");
				CHECK_STR(as_path(r2), "65002 65010");
			}
			CHECK(route(p, BMP_VIEW_PRE, "10.100.1.0/24", 0) == NULL);
			CHECK(route(p, BMP_VIEW_PRE, "10.100.2.0/24", 1) != NULL);
			/* post-policy comes without path ids (GoBGP 3.10): the
			 * later path replaces the earlier under path id 0 */
			const struct rib_route *post = route(p, BMP_VIEW_POST, "10.100.1.0/24", 0);
			if (CHECK(post != NULL))
				CHECK_STR(as_path(post), "65002 65010");
			CHECK(route(p, BMP_VIEW_POST, "10.100.2.0/24", 0) == NULL); /* rejected by policy */
			CHECK(route(p, BMP_VIEW_PRE, "2001:db8:100::/48", 0) != NULL);
			CHECK_INT(r->counters[RC_ADDPATH_MISMATCH], ==, 2);
		}
	}
	ingest_close(&s, 1764072100000000LL);
	rib_free(rib);
	free(b.p);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURES_DIR (tests/fixtures/bmp)\n", argv[0]);
		return 2;
	}
	fixtures_dir = argv[1];
	pw_log_set_level(PW_LOG_ERROR);
	static const char *const captures[] = {
		"frr-steady-ce1.bmp", "frr-steady-ce2.bmp", "frr-steady-fw.bmp", "probe-frr-1.bmp",
		"probe-frr-2.bmp", "probe-gobgp-1.bmp", "probe-gobgp-2.bmp",
	};
	for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++)
		test_capture_vs_reference(captures[i]);
	test_counters();
	test_frr_steady_fw();
	test_frr_two_sessions();
	test_gobgp();
	return check_report("test_ingest_fixtures");
}
