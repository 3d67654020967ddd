/*
 * Unit tests: alerts/rules.c -- the stale-backup rules of DOMAIN.md ("What
 * the monitor must flag") as pure functions of hand-made RIB states and the
 * reference site (examples/sea-cust11.yaml, with short router names):
 *
 *   CE1 --eBGP-- MSEE 192.168.11.18 (AS 12076)   primary ER link
 *   CE2 --eBGP-- MSEE 192.168.11.22 (AS 12076)   secondary ER link
 *   FW  --iBGP-- CE1 192.168.11.0, CE2 192.168.11.2 (AS 65020, local-pref 150)
 *   FW  --eBGP-- VPN gateway 10.17.11.76 / .77 (AS 65515)
 *   on-prem 10.1.11.0/25; Azure 10.17.11.0/25 and 10.17.11.128/26
 *
 * Each section starts from the healthy state, breaks one thing, and checks
 * the findings (rule, verdict, router, peer, prefix, evidence) and that
 * nothing else fires. Routers are synced by End-of-RIB (initial_sync_ms is
 * long unless a section says otherwise), so the tests do not depend on time.
 */
#include "alerts/rules.h"
#include "common/mono.h"

#include <stdarg.h>

#include "bgp.h"
#include "check_harness.h"
#include "test_prefix.h"
#include "common/check.h"
#include "common/log.h"
#include "common/rbuf.h"

#define T0 1764072000000000LL
#define LONG_SYNC_MS (3600LL * 1000)
#define NO_LP (-1)

enum { ORIGIN_IGP = 0, ORIGIN_EGP = 1, ORIGIN_INCOMPLETE = 2 };


/* ------------------------------------------------ canonical attribute sets */

/* bgp.h: { flags(1) type(1) length(2 BE) value } sorted by type, 4-byte ASNs. */
struct aset {
	uint8_t d[512];
	uint32_t n;
};

static void put_attr(struct aset *a, uint8_t flags, uint8_t type, const uint8_t *v, uint16_t len)
{
	a->d[a->n++] = flags;
	a->d[a->n++] = type;
	a->d[a->n++] = (uint8_t)(len >> 8);
	a->d[a->n++] = (uint8_t)len;
	memcpy(a->d + a->n, v, len);
	a->n += len;
}

struct attrs_spec {
	int origin;            /* ORIGIN_*, or -1: no ORIGIN */
	const uint32_t *path;  /* one AS_SEQUENCE (empty: AS_PATH with no segment) */
	int n_path;
	const char *next_hop;  /* IPv4 */
	int64_t med;           /* <0: none */
	int64_t local_pref;    /* <0: none */
};

static struct rib_attrset *intern_spec(struct rib *rib, const struct attrs_spec *s)
{
	struct aset a = { .n = 0 };
	uint8_t v[300];
	if (s->origin >= 0) {
		v[0] = (uint8_t)s->origin;
		put_attr(&a, 0x40, BGP_ATTR_ORIGIN, v, 1);
	}
	uint16_t len = 0;
	if (s->n_path) {
		v[0] = BGP_AS_SEQUENCE;
		v[1] = (uint8_t)s->n_path;
		for (int i = 0; i < s->n_path; i++)
			pw_put32(v + 2 + 4 * i, s->path[i]);
		len = (uint16_t)(2 + 4 * s->n_path);
	}
	put_attr(&a, 0x40, BGP_ATTR_AS_PATH, v, len);
	if (s->next_hop) {
		struct pw_prefix nh = pfx(s->next_hop);
		put_attr(&a, 0x40, BGP_ATTR_NEXT_HOP, nh.addr, 4);
	}
	if (s->med >= 0) {
		pw_put32(v, (uint32_t)s->med);
		put_attr(&a, 0x80, BGP_ATTR_MED, v, 4);
	}
	if (s->local_pref >= 0) {
		pw_put32(v, (uint32_t)s->local_pref);
		put_attr(&a, 0x40, BGP_ATTR_LOCAL_PREF, v, 4);
	}
	return rib_attrs_intern(rib, a.d, a.n);
}

/* PATH(a, b, ...) -> pointer, count; NOPATH for an empty AS_PATH */
#define PATH(...) (const uint32_t[]){ __VA_ARGS__ }, (int)(sizeof((const uint32_t[]){ __VA_ARGS__ }) / 4)
#define NOPATH NULL, 0

static void ann_spec(struct rib_peer *p, enum bmp_view v, const char *prefix, const struct attrs_spec *s)
{
	struct rib *rib = p->router->rib;
	struct rib_attrset *a = intern_spec(rib, s);
	struct pw_prefix q = pfx(prefix);
	rib_view_seen(p, v);
	rib_announce(p, v, &q, 0, a, T0, T0);
	rib_attrs_unref(rib, a);
}

/* The path exactly as the router reports it over BMP. */
static void ann_raw(struct rib_peer *p, enum bmp_view v, const char *prefix, const char *nh, int64_t lp,
		    const uint32_t *path, int n)
{
	struct attrs_spec s = { ORIGIN_IGP, path, n, nh, -1, lp };
	ann_spec(p, v, prefix, &s);
}

static bool is_ebgp(const struct rib_peer *p) { return p->local_asn && p->asn != p->local_asn; }

/* The path as the neighbour sent it: an FRR-like router (strip_own_as)
 * reports eBGP paths in Adj-RIB-In with its own AS prepended (FRR 8.4). */
static void ann(struct rib_peer *p, enum bmp_view v, const char *prefix, const char *nh, int64_t lp,
		const uint32_t *path, int n)
{
	uint32_t full[32];
	int k = 0;
	if (p->router->strip_own_as && is_ebgp(p) && (v == BMP_VIEW_PRE || v == BMP_VIEW_POST))
		full[k++] = p->local_asn;
	for (int i = 0; i < n; i++)
		full[k++] = path[i];
	ann_raw(p, v, prefix, nh, lp, full, k);
}

static void wd(struct rib_peer *p, enum bmp_view v, const char *prefix)
{
	struct pw_prefix q = pfx(prefix);
	rib_withdraw(p, v, &q, 0, RIB_REASON_NONE, T0 + 1, 0);
}

static struct rib_peer *mkpeer(struct rib_router *r, uint8_t type, const char *addr, uint32_t asn, const char *bgp_id,
			       uint32_t local_asn)
{
	struct bmp_peer_hdr h;
	memset(&h, 0, sizeof h);
	h.type = type;
	h.afi = PW_AFI_IPV4;
	struct pw_prefix a = pfx(addr), id = pfx(bgp_id);
	memcpy(h.addr, a.addr, 16);
	h.asn = asn;
	h.bgp_id = pw_get32(id.addr);
	h.view = type == BMP_PEER_LOC_RIB ? BMP_VIEW_LOCRIB : BMP_VIEW_POST;
	struct rib_peer *p = rib_peer_get(r, &h);
	p->local_asn = local_asn;
	return p;
}

/* ------------------------------------------------------------------ site */

static void ref_set(struct site_peer_ref *r, const char *router, const char *peer, const char *name, int link)
{
	r->router = pw_strdup(router);
	r->peer = pw_strdup(peer);
	r->name = name ? pw_strdup(name) : NULL;
	struct pw_prefix a = pfx(peer);
	r->afi = a.afi;
	memcpy(r->addr, a.addr, 16);
	r->link = link;
}

static const char *const AZ[2] = { "10.17.11.0/25", "10.17.11.128/26" };
static const char *const ONPREM = "10.1.11.0/25";
static const char *const MSEE_ADDR[2] = { "192.168.11.18", "192.168.11.22" };
static const char *const CE_NAME[2] = { "CE1", "CE2" };
static const char *const FW_AT_CE[2] = { "192.168.11.1", "192.168.11.3" }; /* the FW as each CE sees it */
static const char *const CE_AT_FW[2] = { "192.168.11.0", "192.168.11.2" }; /* each CE as the FW sees it */
static const char *const CE_ID[2] = { "10.0.0.1", "10.0.0.2" };
static const char *const VPN_ADDR[2] = { "10.17.11.76", "10.17.11.77" };

static void site_init(struct site *s, int64_t initial_sync_ms)
{
	memset(s, 0, sizeof *s);
	s->name = pw_strdup("sea-cust11");
	s->description = pw_strdup("reference site");
	s->n_routers = 3;
	s->routers = pw_calloc(3, sizeof *s->routers);
	s->routers[0] = pw_strdup("CE1");
	s->routers[1] = pw_strdup("CE2");
	s->routers[2] = pw_strdup("FW");
	for (int i = 0; i < 2; i++) {
		ref_set(&s->er[i], CE_NAME[i], MSEE_ADDR[i], NULL, i);
		s->has_er[i] = true;
	}
	s->n_er_paths = 2;
	s->er_paths = pw_calloc(2, sizeof *s->er_paths);
	s->n_vpn = 2;
	s->vpn = pw_calloc(2, sizeof *s->vpn);
	for (int i = 0; i < 2; i++) {
		ref_set(&s->er_paths[i], "FW", CE_AT_FW[i], NULL, i);
		ref_set(&s->vpn[i], "FW", VPN_ADDR[i], i ? "instance1" : "instance0", 0);
	}
	s->n_onprem = 1;
	s->onprem = pw_calloc(1, sizeof *s->onprem);
	s->onprem[0] = pfx(ONPREM);
	s->n_azure = 2;
	s->azure = pw_calloc(2, sizeof *s->azure);
	s->azure[0] = pfx(AZ[0]);
	s->azure[1] = pfx(AZ[1]);
	s->asn_msee = 12076;
	s->asn_vpn = 65515;
	s->asn_onprem = 65020;
	s->er_local_pref = 150;
	s->failover_ms = 10000;
	s->drill_period_ms = 90LL * 86400 * 1000;
	s->initial_sync_ms = initial_sync_ms;
	s->feed_silence_ms = 0;
	for (int r = 0; r < RULE_COUNT; r++)
		s->rules[r] = (struct rule_conf){ .for_ms = 0, .hold_ms = 0, .severity = SEV_WARNING, .enabled = true };
}

/* ----------------------------------------------------------------- world */

struct wopts {
	bool frr;              /* routers report like FRR 8.4 (own AS prepended on eBGP) */
	bool no_vpn1;          /* the .77 session was never reported */
	bool no_self;          /* the FW does not report its originated routes */
	bool loc_rib;          /* the FW exports a Loc-RIB (GoBGP style), filled by the test */
	bool vpn1_no_eor;      /* .77 is up and sending routes, End-of-RIB not yet received */
	enum bmp_view in;      /* the Adj-RIB-In view the routers export */
	int64_t initial_sync_ms;
};

struct world {
	struct rib *rib;
	struct site site;
	struct rib_router *ce[2], *fw;
	struct rib_peer *msee[2], *ce_fw[2]; /* on the CEs */
	struct rib_peer *er[2], *vpn[2], *self, *loc; /* on the FW */
	enum bmp_view in;
	struct findings fs;
};

/* The healthy reference state (DOMAIN.md "What healthy looks like"). */
static void world_init(struct world *w, const struct wopts *o)
{
	memset(w, 0, sizeof *w);
	struct rib_config cfg = { .resync_timeout_ms = 60000 };
	w->rib = rib_new(&cfg);
	w->rib->start_us -= 7200LL * 1000000; /* the start-up grace for feed-down has passed */
	site_init(&w->site, o->initial_sync_ms ? o->initial_sync_ms : LONG_SYNC_MS);
	enum bmp_view in = w->in = o->in;
	/* like a router's BMP dump: every Peer Up first, then the routes and
	 * End-of-RIBs (a Peer Up after the first route is a peer that came up
	 * later, from which FRR sends no End-of-RIB) */
	for (int i = 0; i < 2; i++) {
		struct rib_router *r = w->ce[i] = rib_router_connect(w->rib, CE_NAME[i], i ? "198.51.100.2" : "198.51.100.1", T0);
		r->strip_own_as = o->frr;
		w->msee[i] = mkpeer(r, BMP_PEER_GLOBAL, MSEE_ADDR[i], 12076, MSEE_ADDR[i], 65020);
		rib_peer_up(w->msee[i], pw_strdup("{}"), T0);
		w->ce_fw[i] = mkpeer(r, BMP_PEER_GLOBAL, FW_AT_CE[i], 65020, "10.0.0.3", 65020);
		rib_peer_up(w->ce_fw[i], pw_strdup("{}"), T0);
		/* the MSEE: Azure prefixes with AS path 12076 65515 */
		for (int k = 0; k < 2; k++)
			ann(w->msee[i], in, AZ[k], MSEE_ADDR[i], NO_LP, PATH(12076, 65515));
		rib_end_of_rib(w->msee[i], in, PW_AFI_IPV4, T0);
		/* the FW over iBGP: the on-prem prefix */
		ann(w->ce_fw[i], in, ONPREM, FW_AT_CE[i], 100, NOPATH);
		rib_end_of_rib(w->ce_fw[i], in, PW_AFI_IPV4, T0);
	}
	struct rib_router *fw = w->fw = rib_router_connect(w->rib, "FW", "198.51.100.3", T0);
	fw->strip_own_as = o->frr;
	for (int i = 0; i < 2; i++) {
		w->er[i] = mkpeer(fw, BMP_PEER_GLOBAL, CE_AT_FW[i], 65020, CE_ID[i], 65020);
		rib_peer_up(w->er[i], pw_strdup("{}"), T0);
		if (i == 1 && o->no_vpn1)
			continue;
		w->vpn[i] = mkpeer(fw, BMP_PEER_GLOBAL, VPN_ADDR[i], 65515, VPN_ADDR[i], 65020);
		rib_peer_up(w->vpn[i], pw_strdup("{}"), T0);
	}
	for (int i = 0; i < 2; i++) {
		/* ER path: iBGP from each CE with local-pref 150 */
		for (int k = 0; k < 2; k++)
			ann(w->er[i], in, AZ[k], CE_AT_FW[i], 150, PATH(12076, 65515));
		rib_end_of_rib(w->er[i], in, PW_AFI_IPV4, T0);
		/* VPN: eBGP to 65515, no LOCAL_PREF (eBGP) */
		if (i == 1 && o->no_vpn1)
			continue;
		for (int k = 0; k < 2; k++)
			ann(w->vpn[i], in, AZ[k], VPN_ADDR[i], NO_LP, PATH(65515));
		if (!(i == 1 && o->vpn1_no_eor))
			rib_end_of_rib(w->vpn[i], in, PW_AFI_IPV4, T0);
	}
	if (!o->no_self) {
		/* FRR: the router's own routes, post-policy, peer 0.0.0.0 AS 0 */
		w->self = mkpeer(fw, BMP_PEER_GLOBAL, "0.0.0.0", 0, "0.0.0.0", 0);
		rib_peer_seen(w->self, T0);
		ann_raw(w->self, BMP_VIEW_POST, ONPREM, "0.0.0.0", NO_LP, NOPATH);
	}
	if (o->loc_rib) {
		w->loc = mkpeer(fw, BMP_PEER_LOC_RIB, "0.0.0.0", 65020, "10.0.0.3", 65020);
		rib_peer_seen(w->loc, T0);
		rib_view_seen(w->loc, BMP_VIEW_LOCRIB);
	}
}

static void world_free(struct world *w)
{
	findings_free(&w->fs);
	rib_free(w->rib);
	site_free(&w->site);
}

/* --------------------------------------------------------------- findings */

static void dump(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];
		char *ev = f->evidence ? json_dumps(f->evidence, JSON_COMPACT) : NULL;
		fprintf(stderr, "    [%zu] %s %s router=%s peer=%s prefix=%s\n        %s%s\n        %s\n", i,
			rule_name(f->rule), f->verdict == VERDICT_FIRE ? "FIRE" : "UNKNOWN", f->router, f->peer, f->prefix,
			f->verdict == VERDICT_FIRE ? "summary: " : "reason: ", f->verdict == VERDICT_FIRE ? f->summary : f->reason,
			ev ? ev : "");
		free(ev);
	}
}

/* Every finding well formed: FIRE has a summary and an evidence object,
 * UNKNOWN has a reason and no evidence. */
static const struct findings *eval(struct world *w)
{
	findings_clear(&w->fs);
	rules_evaluate(&w->site, w->rib, pw_wall_us(), &w->fs);
	for (size_t i = 0; i < w->fs.n; i++) {
		const struct finding *f = &w->fs.v[i];
		if (f->verdict == VERDICT_FIRE) {
			CHECK(f->summary[0] != '\0');
			CHECK(json_is_object(f->evidence));
		} else {
			CHECK(f->verdict == VERDICT_UNKNOWN);
			CHECK(f->reason[0] != '\0');
			CHECK(f->evidence == NULL);
		}
	}
	return &w->fs;
}

#define ANY (-1)

/* NULL matches anything; "" matches only an empty field. */
static bool match(const struct finding *f, int rule, int verdict, const char *router, const char *peer,
		  const char *prefix)
{
	return (rule == ANY || f->rule == (enum rule_id)rule) && (verdict == ANY || f->verdict == (enum verdict)verdict) &&
	       (!router || !strcmp(f->router, router)) && (!peer || !strcmp(f->peer, peer)) &&
	       (!prefix || !strcmp(f->prefix, prefix));
}

static int count(const struct findings *fs, int rule, int verdict, const char *router, const char *peer,
		 const char *prefix)
{
	int n = 0;
	for (size_t i = 0; i < fs->n; i++)
		n += match(&fs->v[i], rule, verdict, router, peer, prefix);
	return n;
}

static const struct finding *find(const struct findings *fs, int rule, int verdict, const char *router,
				  const char *peer, const char *prefix)
{
	for (size_t i = 0; i < fs->n; i++)
		if (match(&fs->v[i], rule, verdict, router, peer, prefix))
			return &fs->v[i];
	return NULL;
}

static int fires(const struct findings *fs) { return count(fs, ANY, VERDICT_FIRE, NULL, NULL, NULL); }

static const char *ev_str(const struct finding *f, const char *key)
{
	return f && f->evidence ? json_string_value(json_object_get(f->evidence, key)) : NULL;
}

static long long ev_int(const struct finding *f, const char *key)
{
	json_t *v = f && f->evidence ? json_object_get(f->evidence, key) : NULL;
	return json_is_integer(v) ? (long long)json_integer_value(v) : -999;
}

/* First ASN of route.<key> (as_path / as_path_raw) in the evidence. */
static long long ev_route_first_as(const struct finding *f, const char *key)
{
	json_t *r = f && f->evidence ? json_object_get(f->evidence, "route") : NULL;
	json_t *p = r ? json_object_get(r, key) : NULL;
	json_t *a = json_is_array(p) ? json_array_get(p, 0) : NULL;
	return json_is_integer(a) ? (long long)json_integer_value(a) : -999;
}

static bool contains(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

/* Section bookkeeping: dumps the findings when a check of the section failed. */
static int section_mark;
#define SECTION(name) (TEST_SECTION(name), section_mark = check_failures)
static void section_end(const struct world *w)
{
	if (check_failures != section_mark) {
		fprintf(stderr, "  findings of the failed section:\n");
		dump(&w->fs);
	}
}

static const struct wopts FRR = { .frr = true, .in = BMP_VIEW_POST };
static const struct wopts JUNOS = { .frr = false, .in = BMP_VIEW_POST };

/* --------------------------------------------------------- 1: healthy */

static void check_best(struct world *w, const char *prefix, enum best_kind kind, const char *peer,
		       const char *decided_by, int line)
{
	struct best_path b;
	struct pw_prefix q = pfx(prefix);
	rules_best_path(&w->site, w->rib, &q, &b);
	int before = check_failures;
	CHECK_INT(b.kind, ==, kind);
	if (peer || b.peer)
		CHECK_STR(b.peer, peer);
	if (decided_by)
		CHECK_STR(b.decided_by, decided_by);
	if (check_failures != before) {
		char *c = json_dumps(b.candidates, JSON_COMPACT);
		fprintf(stderr, "    (check_best from line %d: %s kind=%s decided_by=\"%s\" why_unknown=\"%s\")\n    %s\n", line,
			prefix, best_kind_name(b.kind), b.decided_by, b.why_unknown, c ? c : "");
		free(c);
	}
	best_path_free(&b);
}
#define CHECK_BEST(w, prefix, kind, peer, by) check_best((w), (prefix), (kind), (peer), (by), __LINE__)

static void test_healthy(void)
{
	struct world w;
	const struct findings *fs;

	SECTION("healthy reference state, FRR-like routers (own AS prepended)");
	world_init(&w, &FRR);
	fs = eval(&w);
	CHECK_INT(fires(fs), ==, 0);
	/* no Adj-RIB-Out exported: advert-missing cannot decide, per VPN peer */
	CHECK_INT(count(fs, RULE_VPN_ADVERT_MISSING, VERDICT_UNKNOWN, "FW", NULL, NULL), ==, 2);
	for (int i = 0; i < 2; i++) {
		const struct finding *f = find(fs, RULE_VPN_ADVERT_MISSING, VERDICT_UNKNOWN, "FW", VPN_ADDR[i], "");
		if (CHECK(f != NULL))
			CHECK(contains(f->reason, "Adj-RIB-Out"));
	}
	/* more-specific decided from the originated routes (only the /25): no finding */
	CHECK_INT(count(fs, RULE_VPN_MORE_SPECIFIC, ANY, NULL, NULL, NULL), ==, 0);
	/* nothing else is unknown: every router synced by End-of-RIB */
	CHECK_INT(fs->n, ==, 2);
	for (int k = 0; k < 2; k++)
		CHECK_BEST(&w, AZ[k], BEST_ER, "192.168.11.0", "post-policy best-path: local-pref");
	{
		struct best_path b;
		struct pw_prefix q = pfx(AZ[0]);
		rules_best_path(&w.site, w.rib, &q, &b);
		CHECK(b.er_present);
		CHECK(b.vpn_present);
		CHECK_INT(json_array_size(b.candidates), ==, 4);
		CHECK_INT(b.changed_us, ==, T0);
		size_t i;
		json_t *c;
		int n_best = 0;
		json_array_foreach(b.candidates, i, c)
		{
			bool best = json_is_true(json_object_get(c, "best"));
			n_best += best;
			const char *path = json_string_value(json_object_get(c, "path"));
			if (best) {
				CHECK_STR(path, "er");
				CHECK_STR(json_string_value(json_object_get(c, "peer")), "192.168.11.0");
			}
			if (path && !strcmp(path, "vpn")) {
				CHECK_INT(json_integer_value(json_object_get(c, "effective_local_pref")), ==, 100);
				CHECK(json_is_true(json_object_get(c, "local_pref_defaulted")));
				/* FRR's prepend removed in what is shown */
				json_t *ap = json_object_get(c, "as_path");
				CHECK_INT(json_array_size(ap), ==, 1);
				CHECK_INT(json_integer_value(json_array_get(ap, 0)), ==, 65515);
			} else {
				CHECK_INT(json_integer_value(json_object_get(c, "effective_local_pref")), ==, 150);
			}
		}
		CHECK_INT(n_best, ==, 1);
		best_path_free(&b);
	}
	section_end(&w);
	world_free(&w);

	SECTION("healthy reference state, Junos-like routers (paths as sent)");
	world_init(&w, &JUNOS);
	fs = eval(&w);
	CHECK_INT(fires(fs), ==, 0);
	CHECK_INT(count(fs, RULE_VPN_ADVERT_MISSING, VERDICT_UNKNOWN, "FW", NULL, NULL), ==, 2);
	CHECK_INT(fs->n, ==, 2);
	CHECK_BEST(&w, AZ[1], BEST_ER, "192.168.11.0", "post-policy best-path: local-pref");
	section_end(&w);
	world_free(&w);

	SECTION("healthy, pre-policy Adj-RIB-In only");
	struct wopts pre = FRR;
	pre.in = BMP_VIEW_PRE;
	world_init(&w, &pre);
	fs = eval(&w);
	CHECK_INT(fires(fs), ==, 0);
	CHECK_INT(fs->n, ==, 2);
	CHECK_BEST(&w, AZ[0], BEST_ER, "192.168.11.0", "post-policy best-path: local-pref");
	section_end(&w);
	world_free(&w);

	SECTION("healthy, FW exports neither Adj-RIB-Out nor originated routes: more-specific UNKNOWN");
	struct wopts noself = FRR;
	noself.no_self = true;
	world_init(&w, &noself);
	fs = eval(&w);
	CHECK_INT(fires(fs), ==, 0);
	{
		const struct finding *f = find(fs, RULE_VPN_MORE_SPECIFIC, VERDICT_UNKNOWN, "FW", NULL, NULL);
		if (CHECK(f != NULL))
			CHECK(contains(f->reason, "neither an Adj-RIB-Out nor its originated routes"));
		CHECK_INT(count(fs, RULE_VPN_MORE_SPECIFIC, ANY, NULL, NULL, NULL), ==, 1);
	}
	section_end(&w);
	world_free(&w);

	SECTION("healthy with Adj-RIB-Out (RFC 8671) toward both VPN peers: no finding at all");
	world_init(&w, &FRR);
	for (int i = 0; i < 2; i++) {
		ann(w.vpn[i], BMP_VIEW_OUT_POST, ONPREM, "192.168.11.88", NO_LP, PATH(65020));
		rib_end_of_rib(w.vpn[i], BMP_VIEW_OUT_POST, PW_AFI_IPV4, T0);
	}
	fs = eval(&w);
	CHECK_INT(fs->n, ==, 0);
	section_end(&w);
	world_free(&w);

	SECTION("a disabled rule says nothing");
	world_init(&w, &FRR);
	w.site.rules[RULE_VPN_ADVERT_MISSING].enabled = false;
	rib_peer_down(w.vpn[0], NULL, T0 + 5, 0);
	w.site.rules[RULE_VPN_SESSION_DOWN].enabled = false;
	fs = eval(&w);
	CHECK_INT(fs->n, ==, 0);
	section_end(&w);
	world_free(&w);
}

/* ------------------------------------------------- 2: each failure alone */

static void test_vpn_session(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("VPN peer down -> vpn-session-down FIRE for that peer");
	world_init(&w, &FRR);
	rib_peer_down(w.vpn[0], pw_strdup("{\"reason\":\"remote-notification\",\"code\":6}"), T0 + 10, 0);
	fs = eval(&w);
	f = find(fs, RULE_VPN_SESSION_DOWN, VERDICT_FIRE, "FW", "10.17.11.76", "");
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "state"), "down");
		CHECK_STR(ev_str(f, "vpn_instance"), "instance0");
		CHECK(json_is_object(json_object_get(f->evidence, "down_reason")));
		CHECK(ev_str(f, "down_since") != NULL);
		CHECK(contains(f->summary, "instance0"));
	}
	CHECK_INT(count(fs, RULE_VPN_SESSION_DOWN, ANY, NULL, NULL, NULL), ==, 1);
	/* the session rule says it; routes-missing / advert stay quiet for .76 */
	CHECK_INT(count(fs, ANY, ANY, NULL, "10.17.11.76", NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	/* the other instance still backs up ER; best path unchanged */
	CHECK_BEST(&w, AZ[0], BEST_ER, "192.168.11.0", "post-policy best-path: local-pref");
	section_end(&w);

	SECTION("VPN peer back up -> vpn-session-down gone");
	rib_peer_up(w.vpn[0], pw_strdup("{}"), T0 + 20);
	for (int k = 0; k < 2; k++)
		ann(w.vpn[0], BMP_VIEW_POST, AZ[k], VPN_ADDR[0], NO_LP, PATH(65515));
	rib_end_of_rib(w.vpn[0], BMP_VIEW_POST, PW_AFI_IPV4, T0 + 20);
	fs = eval(&w);
	CHECK_INT(fires(fs), ==, 0);
	section_end(&w);
	world_free(&w);

	SECTION("VPN peer never up (no Peer Up at all) -> FIRE state never-up");
	struct wopts o = FRR;
	o.no_vpn1 = true;
	world_init(&w, &o);
	fs = eval(&w);
	f = find(fs, RULE_VPN_SESSION_DOWN, VERDICT_FIRE, "FW", "10.17.11.77", "");
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "state"), "never-up");
		CHECK_STR(ev_str(f, "vpn_instance"), "instance1");
		CHECK(json_object_get(f->evidence, "down_reason") == NULL);
	}
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);
}

static void test_vpn_routes(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("Azure prefix absent from a VPN peer's Adj-RIB-In -> vpn-routes-missing FIRE");
	world_init(&w, &FRR);
	wd(w.vpn[1], BMP_VIEW_POST, AZ[1]);
	fs = eval(&w);
	f = find(fs, RULE_VPN_ROUTES_MISSING, VERDICT_FIRE, "FW", "10.17.11.77", "10.17.11.128/26");
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "view"), "post-policy");
		CHECK_INT(ev_int(f, "routes_from_peer"), ==, 1);
		CHECK_INT(ev_int(f, "session_up_since"), ==, T0);
	}
	CHECK_INT(count(fs, RULE_VPN_ROUTES_MISSING, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);

	SECTION("both Azure prefixes gone from both VPN peers -> 4 FIREs, still no asymmetric");
	wd(w.vpn[1], BMP_VIEW_POST, AZ[0]);
	wd(w.vpn[0], BMP_VIEW_POST, AZ[0]);
	wd(w.vpn[0], BMP_VIEW_POST, AZ[1]);
	fs = eval(&w);
	CHECK_INT(count(fs, RULE_VPN_ROUTES_MISSING, VERDICT_FIRE, "FW", NULL, NULL), ==, 4);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			CHECK(find(fs, RULE_VPN_ROUTES_MISSING, VERDICT_FIRE, "FW", VPN_ADDR[i], AZ[k]) != NULL);
	CHECK_INT(fires(fs), ==, 4);
	CHECK_BEST(&w, AZ[0], BEST_ER, "192.168.11.0", "post-policy best-path: only ER paths present");
	section_end(&w);
	world_free(&w);

	SECTION("pre- and post-policy Adj-RIB-In both exported: the rules read post-policy");
	world_init(&w, &FRR);
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < 2; k++) {
			/* as received: the CEs' routes before the FW's import policy */
			ann(w.er[i], BMP_VIEW_PRE, AZ[k], CE_AT_FW[i], 100, PATH(12076, 65515));
			ann(w.vpn[i], BMP_VIEW_PRE, AZ[k], VPN_ADDR[i], NO_LP, PATH(65515));
		}
		rib_end_of_rib(w.er[i], BMP_VIEW_PRE, PW_AFI_IPV4, T0);
		rib_end_of_rib(w.vpn[i], BMP_VIEW_PRE, PW_AFI_IPV4, T0);
	}
	fs = eval(&w);
	CHECK_INT(fires(fs), ==, 0);
	CHECK_BEST(&w, AZ[0], BEST_ER, "192.168.11.0", "post-policy best-path: local-pref");
	/* the import policy drops the /26 from .77: received, but not usable */
	wd(w.vpn[1], BMP_VIEW_POST, AZ[1]);
	fs = eval(&w);
	f = find(fs, RULE_VPN_ROUTES_MISSING, VERDICT_FIRE, "FW", "10.17.11.77", AZ[1]);
	if (CHECK(f != NULL))
		CHECK_STR(ev_str(f, "view"), "post-policy");
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);
}

static void test_vpn_advert(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("Adj-RIB-Out exported without the on-prem prefix -> vpn-advert-missing FIRE");
	world_init(&w, &FRR);
	ann(w.vpn[0], BMP_VIEW_OUT_POST, ONPREM, "192.168.11.88", NO_LP, PATH(65020));
	rib_end_of_rib(w.vpn[0], BMP_VIEW_OUT_POST, PW_AFI_IPV4, T0);
	/* .77: the table is exported (End-of-RIB), but holds only another prefix */
	ann(w.vpn[1], BMP_VIEW_OUT_POST, "10.99.0.0/24", "192.168.11.88", NO_LP, PATH(65020));
	rib_end_of_rib(w.vpn[1], BMP_VIEW_OUT_POST, PW_AFI_IPV4, T0);
	fs = eval(&w);
	f = find(fs, RULE_VPN_ADVERT_MISSING, VERDICT_FIRE, "FW", "10.17.11.77", "10.1.11.0/25");
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "view"), "adj-rib-out-post");
		CHECK_INT(ev_int(f, "routes_advertised"), ==, 1);
	}
	/* .76 advertises it: decided, nothing said */
	CHECK_INT(count(fs, RULE_VPN_ADVERT_MISSING, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);

	SECTION("withdrawn toward .76 as well -> two FIREs");
	wd(w.vpn[0], BMP_VIEW_OUT_POST, ONPREM);
	fs = eval(&w);
	CHECK(find(fs, RULE_VPN_ADVERT_MISSING, VERDICT_FIRE, "FW", "10.17.11.76", "10.1.11.0/25") != NULL);
	CHECK_INT(count(fs, RULE_VPN_ADVERT_MISSING, VERDICT_FIRE, NULL, NULL, NULL), ==, 2);
	CHECK_INT(fires(fs), ==, 2);
	section_end(&w);
	world_free(&w);

	SECTION("pre-policy Adj-RIB-Out only: used when post-policy is not exported");
	world_init(&w, &FRR);
	for (int i = 0; i < 2; i++) {
		if (i == 0)
			ann(w.vpn[i], BMP_VIEW_OUT_PRE, ONPREM, "192.168.11.88", NO_LP, PATH(65020));
		rib_end_of_rib(w.vpn[i], BMP_VIEW_OUT_PRE, PW_AFI_IPV4, T0);
	}
	fs = eval(&w);
	f = find(fs, RULE_VPN_ADVERT_MISSING, VERDICT_FIRE, "FW", "10.17.11.77", "10.1.11.0/25");
	if (CHECK(f != NULL))
		CHECK_STR(ev_str(f, "view"), "adj-rib-out-pre");
	CHECK_INT(count(fs, RULE_VPN_ADVERT_MISSING, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);
}

static void test_asymmetric(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("ER routes with local-pref 100 -> asymmetric FIRE (VPN wins) and local-pref mismatch per ER path");
	world_init(&w, &FRR);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			ann(w.er[i], BMP_VIEW_POST, AZ[k], CE_AT_FW[i], 100, PATH(12076, 65515));
	fs = eval(&w);
	for (int k = 0; k < 2; k++) {
		f = find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", "", AZ[k]);
		if (CHECK(f != NULL)) {
			/* VPN [65515] (prepend removed) is shorter than ER [12076 65515] */
			CHECK_STR(ev_str(f, "decided_by"), "post-policy best-path: as-path length");
			json_t *c = json_object_get(f->evidence, "candidates");
			CHECK_INT(json_array_size(c), ==, 4);
			size_t i;
			json_t *x;
			json_array_foreach(c, i, x)
			{
				if (json_is_true(json_object_get(x, "best"))) {
					CHECK_STR(json_string_value(json_object_get(x, "path")), "vpn");
					CHECK_STR(json_string_value(json_object_get(x, "peer")), "10.17.11.76");
				}
			}
			CHECK(contains(f->summary, "10.17.11.76"));
		}
		for (int i = 0; i < 2; i++) {
			f = find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", CE_AT_FW[i], AZ[k]);
			if (CHECK(f != NULL)) {
				CHECK_INT(ev_int(f, "local_pref"), ==, 100);
				CHECK_INT(ev_int(f, "expected_local_pref"), ==, 150);
				CHECK(json_is_object(json_object_get(f->evidence, "route")));
			}
		}
		CHECK_BEST(&w, AZ[k], BEST_VPN, "10.17.11.76", "post-policy best-path: as-path length");
	}
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, NULL, NULL, NULL), ==, 6);
	CHECK_INT(fires(fs), ==, 6);
	section_end(&w);
	world_free(&w);

	SECTION("ER routes with local-pref 100 and equally long paths -> VPN by ebgp over ibgp");
	world_init(&w, &FRR);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			ann(w.er[i], BMP_VIEW_POST, AZ[k], CE_AT_FW[i], 100, PATH(12076));
	fs = eval(&w);
	f = find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", "", AZ[0]);
	if (CHECK(f != NULL))
		CHECK_STR(ev_str(f, "decided_by"), "post-policy best-path: ebgp over ibgp");
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, NULL, NULL, NULL), ==, 6);
	CHECK_BEST(&w, AZ[1], BEST_VPN, "10.17.11.76", "post-policy best-path: ebgp over ibgp");
	section_end(&w);
	world_free(&w);

	SECTION("ER routes without LOCAL_PREF -> local-pref FIRE with local_pref null");
	world_init(&w, &JUNOS);
	ann(w.er[1], BMP_VIEW_POST, AZ[0], CE_AT_FW[1], NO_LP, PATH(12076, 65515));
	fs = eval(&w);
	f = find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", "192.168.11.2", AZ[0]);
	if (CHECK(f != NULL)) {
		CHECK(json_is_null(json_object_get(f->evidence, "local_pref")));
		CHECK(contains(f->summary, "no local-pref"));
	}
	/* CE1's path still carries 150: ER stays best, no asymmetric */
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("policy flip: VPN routes with local-pref 200 -> asymmetric FIRE by local-pref, ER local-pref fine");
	world_init(&w, &FRR);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			ann(w.vpn[i], BMP_VIEW_POST, AZ[k], VPN_ADDR[i], 200, PATH(65515));
	fs = eval(&w);
	for (int k = 0; k < 2; k++) {
		f = find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", "", AZ[k]);
		if (CHECK(f != NULL))
			CHECK_STR(ev_str(f, "decided_by"), "post-policy best-path: local-pref");
	}
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, NULL, NULL, NULL), ==, 2);
	CHECK_INT(fires(fs), ==, 2);
	section_end(&w);
	world_free(&w);

	SECTION("ER withdrawn: VPN best but no ER path present -> no asymmetric");
	world_init(&w, &FRR);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			wd(w.er[i], BMP_VIEW_POST, AZ[k]);
	fs = eval(&w);
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, ANY, NULL, NULL, NULL), ==, 0);
	CHECK_BEST(&w, AZ[0], BEST_VPN, "10.17.11.76", "post-policy best-path: only VPN paths present");
	/* and nothing at all */
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			wd(w.vpn[i], BMP_VIEW_POST, AZ[k]);
	CHECK_BEST(&w, AZ[0], BEST_NONE, NULL, NULL);
	section_end(&w);
	world_free(&w);
}

static void test_more_specific(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("a /26 inside on-prem in the Adj-RIB-Out toward a VPN peer -> vpn-more-specific FIRE");
	world_init(&w, &FRR);
	for (int i = 0; i < 2; i++) {
		ann(w.vpn[i], BMP_VIEW_OUT_POST, ONPREM, "192.168.11.88", NO_LP, PATH(65020));
		rib_end_of_rib(w.vpn[i], BMP_VIEW_OUT_POST, PW_AFI_IPV4, T0);
	}
	ann(w.vpn[0], BMP_VIEW_OUT_POST, "10.1.11.0/26", "192.168.11.88", NO_LP, PATH(65020));
	/* not inside 10.1.11.0/25: not flagged */
	ann(w.vpn[0], BMP_VIEW_OUT_POST, "10.1.11.128/26", "192.168.11.88", NO_LP, PATH(65020));
	ann(w.vpn[0], BMP_VIEW_OUT_POST, "10.1.0.0/16", "192.168.11.88", NO_LP, PATH(65020));
	fs = eval(&w);
	f = find(fs, RULE_VPN_MORE_SPECIFIC, VERDICT_FIRE, "FW", "10.17.11.76", "10.1.11.0/26");
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "onprem_prefix"), "10.1.11.0/25");
		CHECK_STR(ev_str(f, "source"), "adj-rib-out");
		json_t *r = json_object_get(f->evidence, "route");
		CHECK_STR(json_string_value(json_object_get(r, "view")), "adj-rib-out-post");
		CHECK_STR(json_string_value(json_object_get(r, "prefix")), "10.1.11.0/26");
	}
	CHECK_INT(count(fs, RULE_VPN_MORE_SPECIFIC, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("a /26 among the FW's originated routes (peer 0.0.0.0, no Adj-RIB-Out) -> FIRE");
	world_init(&w, &FRR);
	ann_raw(w.self, BMP_VIEW_POST, "10.1.11.0/26", "0.0.0.0", NO_LP, NOPATH);
	ann_raw(w.self, BMP_VIEW_POST, "192.168.11.0/31", "0.0.0.0", NO_LP, NOPATH);
	fs = eval(&w);
	f = find(fs, RULE_VPN_MORE_SPECIFIC, VERDICT_FIRE, "FW", "", "10.1.11.0/26");
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "onprem_prefix"), "10.1.11.0/25");
		CHECK(contains(ev_str(f, "source"), "originated"));
	}
	/* said once for the router, not per VPN peer */
	CHECK_INT(count(fs, RULE_VPN_MORE_SPECIFIC, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);
}

static void test_er_redundant(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("one ER session down -> er-not-redundant FIRE for that link");
	world_init(&w, &FRR);
	rib_peer_down(w.msee[1], pw_strdup("{\"reason\":\"bfd-down\"}"), T0 + 10, 0);
	fs = eval(&w);
	f = find(fs, RULE_ER_NOT_REDUNDANT, VERDICT_FIRE, "CE2", "192.168.11.22", "");
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "link"), "secondary");
		CHECK_STR(ev_str(f, "state"), "down");
		CHECK(json_is_object(json_object_get(f->evidence, "down_reason")));
	}
	CHECK_INT(count(fs, RULE_ER_NOT_REDUNDANT, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("a CE whose MSEE session was never reported -> FIRE state never-up");
	world_init(&w, &FRR);
	/* rename the configured MSEE peer of CE1 to an address CE1 never reported */
	{
		struct pw_prefix a = pfx("192.168.11.30");
		memcpy(w.site.er[0].addr, a.addr, 16);
		free(w.site.er[0].peer);
		w.site.er[0].peer = pw_strdup("192.168.11.30");
	}
	fs = eval(&w);
	f = find(fs, RULE_ER_NOT_REDUNDANT, VERDICT_FIRE, "CE1", "192.168.11.30", "");
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "link"), "primary");
		CHECK_STR(ev_str(f, "state"), "never-up");
	}
	CHECK_INT(count(fs, RULE_ER_NOT_REDUNDANT, ANY, NULL, NULL, NULL), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("Azure prefix learned over only one ER link -> FIRE for the other link with the prefix");
	world_init(&w, &FRR);
	wd(w.msee[0], BMP_VIEW_POST, AZ[1]);
	fs = eval(&w);
	f = find(fs, RULE_ER_NOT_REDUNDANT, VERDICT_FIRE, "CE1", "192.168.11.18", "10.17.11.128/26");
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "link"), "primary");
		CHECK_STR(ev_str(f, "view"), "post-policy");
	}
	CHECK_INT(count(fs, RULE_ER_NOT_REDUNDANT, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);
}

static void test_origin(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("VPN route whose normalised AS path starts with 64999 -> unexpected-origin FIRE");
	world_init(&w, &FRR);
	ann(w.vpn[1], BMP_VIEW_POST, AZ[0], VPN_ADDR[1], NO_LP, PATH(64999, 65515)); /* raw 65020 64999 65515 */
	fs = eval(&w);
	f = find(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_FIRE, "FW", "10.17.11.77", AZ[0]);
	if (CHECK(f != NULL)) {
		CHECK_INT(ev_int(f, "expected_first_as"), ==, 65515);
		CHECK_INT(ev_route_first_as(f, "as_path"), ==, 64999);
		CHECK_INT(ev_route_first_as(f, "as_path_raw"), ==, 65020);
		CHECK(contains(f->summary, "65515"));
	}
	CHECK_INT(count(fs, RULE_UNEXPECTED_ORIGIN, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("ER route (CE's MSEE session) whose path does not start with 12076 -> FIRE");
	world_init(&w, &FRR);
	ann(w.msee[0], BMP_VIEW_POST, AZ[1], MSEE_ADDR[0], NO_LP, PATH(65515)); /* raw 65020 65515 */
	fs = eval(&w);
	f = find(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_FIRE, "CE1", "192.168.11.18", AZ[1]);
	if (CHECK(f != NULL)) {
		CHECK_INT(ev_int(f, "expected_first_as"), ==, 12076);
		CHECK_INT(ev_route_first_as(f, "as_path"), ==, 65515);
	}
	CHECK_INT(count(fs, RULE_UNEXPECTED_ORIGIN, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("ER path on the FW (iBGP from CE2) not starting with 12076 -> FIRE");
	world_init(&w, &FRR);
	ann(w.er[1], BMP_VIEW_POST, AZ[0], CE_AT_FW[1], 150, PATH(64999, 65515));
	fs = eval(&w);
	f = find(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_FIRE, "FW", "192.168.11.2", AZ[0]);
	if (CHECK(f != NULL)) {
		CHECK_INT(ev_int(f, "expected_first_as"), ==, 12076);
		CHECK_INT(ev_route_first_as(f, "as_path"), ==, 64999);
	}
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("VPN route with an empty AS path -> FIRE (empty path)");
	world_init(&w, &JUNOS);
	ann(w.vpn[0], BMP_VIEW_POST, AZ[1], VPN_ADDR[0], NO_LP, NOPATH);
	fs = eval(&w);
	f = find(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_FIRE, "FW", "10.17.11.76", AZ[1]);
	if (CHECK(f != NULL))
		CHECK(contains(f->summary, "empty path"));
	CHECK_INT(count(fs, RULE_UNEXPECTED_ORIGIN, ANY, NULL, NULL, NULL), ==, 1);
	section_end(&w);
	world_free(&w);
}

static void test_feed_down(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("CE disconnected -> feed-down FIRE, its rules UNKNOWN, never FIRE");
	world_init(&w, &FRR);
	rib_router_disconnect(w.ce[0], T0 + 100);
	/* while blind, CE1's MSEE session also goes down: the rules must not say so */
	rib_peer_down(w.msee[0], NULL, T0 + 200, 0);
	fs = eval(&w);
	f = find(fs, RULE_FEED_DOWN, VERDICT_FIRE, "CE1", "", "");
	if (CHECK(f != NULL)) {
		CHECK(json_is_false(json_object_get(f->evidence, "connected")));
		CHECK(json_is_true(json_object_get(f->evidence, "ever_connected")));
		CHECK_STR(ev_str(f, "address"), "198.51.100.1");
		CHECK(contains(f->summary, "blind"));
	}
	f = find(fs, RULE_ER_NOT_REDUNDANT, VERDICT_UNKNOWN, "CE1", "192.168.11.18", "");
	if (CHECK(f != NULL))
		CHECK(contains(f->reason, "feed is down"));
	CHECK(find(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_UNKNOWN, "CE1", "192.168.11.18", "") != NULL);
	CHECK_INT(count(fs, RULE_ER_NOT_REDUNDANT, VERDICT_FIRE, NULL, NULL, NULL), ==, 0);
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("FW disconnected -> feed-down FIRE, every FW rule UNKNOWN");
	world_init(&w, &FRR);
	rib_router_disconnect(w.fw, T0 + 100);
	rib_peer_down(w.vpn[0], NULL, T0 + 200, 0);
	fs = eval(&w);
	CHECK(find(fs, RULE_FEED_DOWN, VERDICT_FIRE, "FW", "", "") != NULL);
	CHECK_INT(fires(fs), ==, 1);
	for (int i = 0; i < 2; i++) {
		CHECK(find(fs, RULE_VPN_SESSION_DOWN, VERDICT_UNKNOWN, "FW", VPN_ADDR[i], "") != NULL);
		CHECK(find(fs, RULE_VPN_ROUTES_MISSING, VERDICT_UNKNOWN, "FW", VPN_ADDR[i], "") != NULL);
		CHECK(find(fs, RULE_VPN_ADVERT_MISSING, VERDICT_UNKNOWN, "FW", VPN_ADDR[i], "") != NULL);
		CHECK(find(fs, RULE_VPN_MORE_SPECIFIC, VERDICT_UNKNOWN, "FW", VPN_ADDR[i], "") != NULL);
		CHECK(find(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_UNKNOWN, "FW", VPN_ADDR[i], "") != NULL);
		CHECK(find(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_UNKNOWN, "FW", CE_AT_FW[i], "") != NULL);
	}
	f = find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_UNKNOWN, "FW", "", "");
	if (CHECK(f != NULL))
		CHECK(contains(f->reason, "feed is down"));
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, ANY, NULL, NULL, NULL), ==, 1);
	{
		struct best_path b;
		struct pw_prefix q = pfx(AZ[0]);
		rules_best_path(&w.site, w.rib, &q, &b);
		CHECK_INT(b.kind, ==, BEST_UNKNOWN);
		CHECK(contains(b.why_unknown, "FW"));
		best_path_free(&b);
	}
	/* CE rules still decide */
	CHECK_INT(count(fs, RULE_ER_NOT_REDUNDANT, ANY, NULL, NULL, NULL), ==, 0);
	section_end(&w);

	SECTION("FW reconnects: rules UNKNOWN until its peers' End-of-RIB");
	CHECK(rib_router_connect(w.rib, "FW", "198.51.100.3", T0 + 300) == w.fw);
	fs = eval(&w);
	CHECK_INT(fires(fs), ==, 0);
	f = find(fs, RULE_VPN_SESSION_DOWN, VERDICT_UNKNOWN, "FW", "10.17.11.77", "");
	if (CHECK(f != NULL))
		CHECK(contains(f->reason, "initial table"));
	section_end(&w);
	world_free(&w);

	SECTION("a site router that never connected -> feed-down FIRE, ever_connected false");
	world_init(&w, &FRR);
	w.site.routers = realloc(w.site.routers, 4 * sizeof *w.site.routers);
	w.site.routers[3] = pw_strdup("FW2");
	w.site.n_routers = 4;
	fs = eval(&w);
	f = find(fs, RULE_FEED_DOWN, VERDICT_FIRE, "FW2", "", "");
	if (CHECK(f != NULL)) {
		CHECK(json_is_false(json_object_get(f->evidence, "ever_connected")));
		CHECK(contains(f->summary, "never connected"));
	}
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("a connected but silent feed (feed_silence) -> feed-down FIRE, its rules UNKNOWN");
	world_init(&w, &FRR);
	w.site.feed_silence_ms = 60000;
	int64_t now = pw_wall_us();
	w.ce[0]->last_message_us = now - 3600LL * 1000000;
	w.ce[1]->last_message_us = now;
	w.fw->last_message_us = now;
	fs = eval(&w);
	f = find(fs, RULE_FEED_DOWN, VERDICT_FIRE, "CE1", "", "");
	if (CHECK(f != NULL)) {
		CHECK(json_is_true(json_object_get(f->evidence, "connected")));
		CHECK(contains(f->summary, "silent"));
	}
	f = find(fs, RULE_ER_NOT_REDUNDANT, VERDICT_UNKNOWN, "CE1", NULL, NULL);
	if (CHECK(f != NULL))
		CHECK(contains(f->reason, "silent"));
	CHECK_INT(fires(fs), ==, 1);
	section_end(&w);
	world_free(&w);

	SECTION("just after pathwatch starts, a router not yet reconnected is UNKNOWN, not feed-down");
	world_init(&w, &FRR);
	w.rib->start_us = pw_wall_us(); /* the collector has just (re)started */
	rib_router_disconnect(w.fw, T0 + 100);
	fs = eval(&w);
	f = find(fs, RULE_FEED_DOWN, VERDICT_UNKNOWN, "FW", NULL, NULL);
	if (CHECK(f != NULL))
		CHECK(contains(f->reason, "waiting for FW to connect"));
	CHECK_INT(fires(fs), ==, 0);
	section_end(&w);
	world_free(&w);
}

/* ------------------------------------------------------- 3: FRR quirks */

static void test_frr_quirks(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("FRR: VPN path [65020 65515] from a strip_own_as router is not unexpected-origin");
	world_init(&w, &FRR);
	{
		const struct rib_route *rt = rib_lookup_any(w.vpn[0], BMP_VIEW_POST, &w.site.azure[0]);
		uint32_t asns[8];
		int n = rt ? bgp_attrs_as_path(rt->attrs->data, rt->attrs->len, asns, 8) : 0;
		/* the fixture really holds the raw FRR path */
		CHECK_INT(n, ==, 2);
		CHECK_INT(n > 0 ? asns[0] : 0, ==, 65020);
		CHECK_INT(n > 1 ? asns[1] : 0, ==, 65515);
	}
	fs = eval(&w);
	CHECK_INT(count(fs, RULE_UNEXPECTED_ORIGIN, ANY, NULL, NULL, NULL), ==, 0);
	section_end(&w);

	SECTION("the same raw path from a non-FRR router (strip_own_as false) IS unexpected-origin");
	w.fw->strip_own_as = false;
	fs = eval(&w);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++) {
			f = find(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_FIRE, "FW", VPN_ADDR[i], AZ[k]);
			if (CHECK(f != NULL)) {
				CHECK_INT(ev_route_first_as(f, "as_path"), ==, 65020);
				CHECK(json_object_get(json_object_get(f->evidence, "route"), "as_path_raw") == NULL);
			}
		}
	CHECK_INT(count(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_FIRE, NULL, NULL, NULL), ==, 4);
	section_end(&w);
	world_free(&w);

	SECTION("FRR-like router, a path without the prepend (first AS is not the own AS) is kept as is");
	world_init(&w, &FRR);
	ann_raw(w.vpn[0], BMP_VIEW_POST, AZ[0], VPN_ADDR[0], NO_LP, PATH(65515));
	fs = eval(&w);
	CHECK_INT(count(fs, RULE_UNEXPECTED_ORIGIN, ANY, NULL, NULL, NULL), ==, 0);
	section_end(&w);

	SECTION("FRR-like router: iBGP paths are never stripped (ER path [65020 ...] is unexpected)");
	ann_raw(w.er[0], BMP_VIEW_POST, AZ[0], CE_AT_FW[0], 150, PATH(65020, 12076, 65515));
	fs = eval(&w);
	CHECK(find(fs, RULE_UNEXPECTED_ORIGIN, VERDICT_FIRE, "FW", "192.168.11.0", AZ[0]) != NULL);
	section_end(&w);
	world_free(&w);

	SECTION("eBGP route without LOCAL_PREF counts as 100 in best path");
	world_init(&w, &FRR);
	for (int i = 0; i < 2; i++)
		ann(w.er[i], BMP_VIEW_POST, AZ[0], CE_AT_FW[i], 99, PATH(12076, 65515));
	for (int i = 0; i < 2; i++)
		ann(w.er[i], BMP_VIEW_POST, AZ[1], CE_AT_FW[i], 101, PATH(12076, 65515));
	CHECK_BEST(&w, AZ[0], BEST_VPN, "10.17.11.76", "post-policy best-path: local-pref"); /* 100 > 99 */
	CHECK_BEST(&w, AZ[1], BEST_ER, "192.168.11.0", "post-policy best-path: local-pref"); /* 101 > 100 */
	section_end(&w);
	world_free(&w);

	SECTION("MED compared only between paths from the same neighbour AS; router id breaks ties");
	world_init(&w, &JUNOS);
	for (int k = 0; k < 2; k++) {
		struct attrs_spec s = { ORIGIN_IGP, PATH(12076, 65515), CE_AT_FW[0], 50, 150 };
		ann_spec(w.er[0], BMP_VIEW_POST, AZ[k], &s);
	}
	/* CE2's MED 0 beats CE1's 50 although CE1 has the lower router id */
	CHECK_BEST(&w, AZ[0], BEST_ER, "192.168.11.2", "post-policy best-path: local-pref");
	{
		struct best_path b;
		struct pw_prefix q = pfx(AZ[0]);
		rules_best_path(&w.site, w.rib, &q, &b);
		size_t i;
		json_t *c;
		json_array_foreach(b.candidates, i, c)
		{
			if (json_is_true(json_object_get(c, "best")))
				CHECK_STR(json_string_value(json_object_get(c, "peer")), "192.168.11.2");
		}
		best_path_free(&b);
	}
	section_end(&w);
	world_free(&w);
}

/* ---------------------------------------------------- 4: Loc-RIB (GoBGP) */

static void loc_copy(struct world *w, const struct rib_peer *from, const char *prefix)
{
	struct pw_prefix q = pfx(prefix);
	const struct rib_route *rt = rib_lookup_any(from, w->in, &q);
	if (!CHECK(rt != NULL))
		return;
	rib_announce(w->loc, BMP_VIEW_LOCRIB, &q, 0, rt->attrs, T0, T0);
}

static void test_loc_rib(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;
	struct wopts o = JUNOS;
	o.loc_rib = true;

	SECTION("Loc-RIB on the FW: best path from Loc-RIB (decided_by loc-rib)");
	world_init(&w, &o);
	/* Loc-RIB holds CE2's route although Adj-RIB-In order would pick CE1 */
	loc_copy(&w, w.er[1], AZ[0]);
	loc_copy(&w, w.er[1], AZ[1]);
	fs = eval(&w);
	CHECK_INT(fires(fs), ==, 0);
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, ANY, NULL, NULL, NULL), ==, 0);
	CHECK_BEST(&w, AZ[0], BEST_ER, "192.168.11.2", "loc-rib");
	section_end(&w);

	SECTION("Loc-RIB entry = the VPN route's attributes while ER routes exist -> asymmetric FIRE");
	loc_copy(&w, w.vpn[1], AZ[1]);
	fs = eval(&w);
	f = find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", "", AZ[1]);
	if (CHECK(f != NULL)) {
		CHECK_STR(ev_str(f, "decided_by"), "loc-rib");
		CHECK(contains(f->summary, "10.17.11.77"));
	}
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, ANY, NULL, NULL, NULL), ==, 1);
	CHECK_INT(fires(fs), ==, 1);
	CHECK_BEST(&w, AZ[1], BEST_VPN, "10.17.11.77", "loc-rib");
	section_end(&w);
	world_free(&w);

	SECTION("Loc-RIB attributes differ (policy), matched on the next hop");
	world_init(&w, &o);
	for (int k = 0; k < 2; k++) {
		/* Loc-RIB: the VPN .76 route with local-pref set by an import policy */
		struct attrs_spec s = { ORIGIN_IGP, PATH(65515), VPN_ADDR[0], -1, 300 };
		ann_spec(w.loc, BMP_VIEW_LOCRIB, AZ[k], &s);
	}
	fs = eval(&w);
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", "", NULL), ==, 2);
	CHECK_BEST(&w, AZ[0], BEST_VPN, "10.17.11.76", "loc-rib");
	section_end(&w);
	world_free(&w);

	SECTION("Loc-RIB without the prefix -> BEST_NONE, no asymmetric");
	world_init(&w, &o);
	loc_copy(&w, w.er[0], AZ[0]);
	CHECK_BEST(&w, AZ[1], BEST_NONE, NULL, "loc-rib");
	fs = eval(&w);
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, ANY, NULL, NULL, NULL), ==, 0);
	section_end(&w);
	world_free(&w);

	SECTION("Loc-RIB entry matching neither session -> asymmetric UNKNOWN, not FIRE");
	world_init(&w, &o);
	{
		struct attrs_spec s = { ORIGIN_INCOMPLETE, NOPATH, "192.0.2.99", 0, 100 };
		ann_spec(w.loc, BMP_VIEW_LOCRIB, AZ[0], &s);
		ann_spec(w.loc, BMP_VIEW_LOCRIB, AZ[1], &s);
	}
	CHECK_BEST(&w, AZ[0], BEST_UNKNOWN, NULL, NULL);
	fs = eval(&w);
	f = find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_UNKNOWN, "FW", NULL, NULL);
	if (CHECK(f != NULL))
		CHECK(contains(f->reason, "matches neither"));
	CHECK_INT(count(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, NULL, NULL, NULL), ==, 0);
	section_end(&w);
	world_free(&w);

	/* BUG (alerts/rules.c rule_asymmetric, the `return;` after the
	 * BEST_UNKNOWN unknown()): an UNKNOWN best path for one Azure prefix
	 * (here: its Loc-RIB entry matches no session) ends the whole rule, so
	 * (a) the other Azure prefixes are not evaluated: 10.17.11.128/26's
	 * Loc-RIB entry is the VPN route while ER routes are present, which
	 * must FIRE; (b) the ER local-pref check on er_paths is skipped
	 * although the FW is synced (its comment assumes the only UNKNOWN is a
	 * blind router). Expected to fail until rules.c is fixed. */
	SECTION("Loc-RIB unknown for one prefix must not hide the other prefix or the ER local-pref check");
	world_init(&w, &o);
	{
		struct attrs_spec s = { ORIGIN_INCOMPLETE, NOPATH, "192.0.2.99", 0, 100 };
		ann_spec(w.loc, BMP_VIEW_LOCRIB, AZ[0], &s);
	}
	loc_copy(&w, w.vpn[0], AZ[1]);
	ann(w.er[0], BMP_VIEW_POST, AZ[1], CE_AT_FW[0], 120, PATH(12076, 65515));
	fs = eval(&w);
	CHECK(find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_UNKNOWN, "FW", "", AZ[0]) != NULL); /* the unknown names its prefix */
	CHECK(find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", "", AZ[1]) != NULL);
	CHECK(find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", "192.168.11.0", AZ[1]) != NULL);
	section_end(&w);
	world_free(&w);
}

/* ---------------------------------------------- 5: initial table pending */

static void test_initial_table(void)
{
	struct world w;
	const struct findings *fs;
	const struct finding *f;

	SECTION("a peer that comes up after the initial dump (FRR: no End-of-RIB) does not hold the rules back");
	world_init(&w, &FRR);
	rib_peer_down(w.vpn[1], NULL, T0 + 5, 0);
	rib_peer_up(w.vpn[1], pw_strdup("{}"), T0 + 10); /* late: after the dump's routes */
	ann(w.vpn[1], w.in, AZ[0], VPN_ADDR[1], NO_LP, PATH(65515));
	fs = eval(&w);
	f = find(fs, RULE_VPN_ROUTES_MISSING, VERDICT_FIRE, "FW", VPN_ADDR[1], AZ[1]);
	CHECK(f != NULL); /* decided, not "waiting for the initial table" */
	section_end(&w);
	world_free(&w);

	SECTION("a VPN peer up without End-of-RIB, initial_sync not elapsed -> UNKNOWN, no FIRE");
	struct wopts o = FRR;
	o.vpn1_no_eor = true;
	world_init(&w, &o);
	/* failures that would fire on a synced FW */
	rib_peer_down(w.vpn[0], NULL, T0 + 5, 0);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			ann(w.er[i], BMP_VIEW_POST, AZ[k], CE_AT_FW[i], 100, PATH(12076, 65515));
	wd(w.vpn[1], BMP_VIEW_POST, AZ[1]);
	fs = eval(&w);
	CHECK_INT(fires(fs), ==, 0);
	int fw_unknown = 0;
	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *x = &fs->v[i];
		if (!strcmp(x->router, "FW")) {
			fw_unknown++;
			CHECK(x->verdict == VERDICT_UNKNOWN);
			CHECK(contains(x->reason, "initial table"));
		}
	}
	CHECK_INT(fw_unknown, >=, 9);
	for (int i = 0; i < 2; i++)
		CHECK(find(fs, RULE_VPN_SESSION_DOWN, VERDICT_UNKNOWN, "FW", VPN_ADDR[i], "") != NULL);
	f = find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_UNKNOWN, "FW", "", "");
	if (CHECK(f != NULL))
		CHECK_STR(f->reason, "waiting for FW's initial table (End-of-RIB)");
	CHECK_BEST(&w, AZ[0], BEST_UNKNOWN, NULL, NULL);
	/* the CEs are synced and decide */
	CHECK_INT(count(fs, ANY, ANY, "CE1", NULL, NULL), ==, 0);
	section_end(&w);

	SECTION("End-of-RIB arrives -> the rules decide and fire");
	rib_end_of_rib(w.vpn[1], BMP_VIEW_POST, PW_AFI_IPV4, T0 + 10);
	fs = eval(&w);
	CHECK(find(fs, RULE_VPN_SESSION_DOWN, VERDICT_FIRE, "FW", "10.17.11.76", "") != NULL);
	CHECK(find(fs, RULE_VPN_ROUTES_MISSING, VERDICT_FIRE, "FW", "10.17.11.77", AZ[1]) != NULL);
	CHECK(find(fs, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, "FW", "", AZ[0]) != NULL);
	CHECK_INT(count(fs, ANY, ANY, NULL, NULL, NULL) - fires(fs), ==, 1); /* advert-missing .77 UNKNOWN only */
	section_end(&w);
	world_free(&w);

	SECTION("no End-of-RIB but initial_sync_ms elapsed (0) -> the rules decide");
	o.initial_sync_ms = 0;
	world_init(&w, &o);
	w.site.initial_sync_ms = 0;
	rib_peer_down(w.vpn[0], NULL, T0 + 5, 0);
	fs = eval(&w);
	CHECK(find(fs, RULE_VPN_SESSION_DOWN, VERDICT_FIRE, "FW", "10.17.11.76", "") != NULL);
	CHECK_INT(count(fs, ANY, VERDICT_UNKNOWN, NULL, NULL, NULL), ==, 1); /* advert-missing .77 */
	section_end(&w);
	world_free(&w);

	SECTION("the FW's originated routes and Loc-RIB need no End-of-RIB");
	struct wopts l = JUNOS;
	l.loc_rib = true;
	world_init(&w, &l);
	loc_copy(&w, w.er[0], AZ[0]);
	loc_copy(&w, w.er[0], AZ[1]);
	fs = eval(&w);
	CHECK_INT(count(fs, ANY, VERDICT_UNKNOWN, NULL, NULL, NULL), ==, 2); /* advert-missing x2 */
	CHECK_INT(fires(fs), ==, 0);
	section_end(&w);
	world_free(&w);
}

int main(void)
{
	pw_log_set_level(PW_LOG_WARN);
	test_healthy();
	test_vpn_session();
	test_vpn_routes();
	test_vpn_advert();
	test_asymmetric();
	test_more_specific();
	test_er_redundant();
	test_origin();
	test_feed_down();
	test_frr_quirks();
	test_loc_rib();
	test_initial_table();
	return check_report("test_rules");
}
