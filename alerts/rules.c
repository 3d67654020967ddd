/*
 * rules: the stale-backup checks of DOMAIN.md as pure functions of the RIB
 * and a site (stage ⑥). See rules.h. Runs on the loop thread, which owns
 * the RIB; reads only.
 *
 * FRR quirks handled here, once: eBGP paths reported with the router's own
 * AS prepended (normalised when the router is flagged so, like the API),
 * and eBGP routes without LOCAL_PREF (BGP's default of 100 applies).
 */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "common/check.h"
#include "common/mono.h"

static const char *const rule_names[RULE_COUNT] = {
	"vpn-session-down", "vpn-routes-missing", "vpn-advert-missing", "asymmetric-preference",
	"vpn-more-specific", "er-not-redundant", "unexpected-origin", "failover-slow", "drill-overdue", "feed-down",
	"notify-failed", "store-failing",
};
const char *rule_name(enum rule_id r) { return r < RULE_COUNT ? rule_names[r] : "unknown"; }
int rule_parse(const char *s, enum rule_id *r)
{
	for (int i = 0; i < RULE_COUNT; i++)
		if (!strcmp(s, rule_names[i])) {
			*r = (enum rule_id)i;
			return 0;
		}
	return -1;
}

static const char *const sev_names[] = { "info", "warning", "critical" };
const char *severity_name(enum severity s) { return s <= SEV_CRITICAL ? sev_names[s] : "unknown"; }
int severity_parse(const char *s, enum severity *out)
{
	for (int i = 0; i <= SEV_CRITICAL; i++)
		if (!strcmp(s, sev_names[i])) {
			*out = (enum severity)i;
			return 0;
		}
	return -1;
}

const char *best_kind_name(enum best_kind k)
{
	static const char *const n[] = { "unknown", "none", "er", "vpn" };
	return n[k];
}

void findings_clear(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		json_decref(f->v[i].evidence);
	f->n = 0;
}

void findings_free(struct findings *f)
{
	findings_clear(f);
	free(f->v);
	f->v = NULL;
	f->cap = 0;
}

struct finding *findings_add(struct findings *out, enum rule_id rule, enum verdict v, const char *router,
			     const char *peer, const char *prefix)
{
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 32;
		out->v = pw_realloc(out->v, out->cap * sizeof *out->v);
	}
	struct finding *f = &out->v[out->n++];
	memset(f, 0, sizeof *f);
	f->rule = rule;
	f->verdict = v;
	snprintf(f->router, sizeof f->router, "%s", router ? router : "");
	snprintf(f->peer, sizeof f->peer, "%s", peer ? peer : "");
	snprintf(f->prefix, sizeof f->prefix, "%s", prefix ? prefix : "");
	if (v == VERDICT_FIRE)
		f->evidence = json_object();
	return f;
}

static struct finding *add(struct findings *out, enum rule_id rule, enum verdict v, const char *router,
			   const char *peer, const struct pw_prefix *pfx)
{
	char pf[PW_PREFIXSTRLEN] = "";
	if (pfx)
		pw_prefix_format(pfx, pf, sizeof pf);
	return findings_add(out, rule, v, router, peer, pf);
}

static void unknown(struct findings *out, enum rule_id rule, const char *router, const char *peer, const char *why)
{
	struct finding *f = add(out, rule, VERDICT_UNKNOWN, router, peer, NULL);
	snprintf(f->reason, sizeof f->reason, "%s", why);
}

/* ----------------------------------------------------------- RIB helpers */

const char *rules_router_blind(const struct site *s, struct rib *rib, const char *name, char *buf, size_t n)
{
	struct rib_router *r = rib_router_find(rib, name);
	if (!r) {
		snprintf(buf, n, "%s has never connected its BMP feed", name);
		return buf;
	}
	if (!r->connected) {
		char t[PW_TIMESTRLEN];
		pw_time_format(r->disconnected_since_us, t, sizeof t);
		snprintf(buf, n, "%s's BMP feed is down (since %s)", name, t);
		return buf;
	}
	if (s->feed_silence_ms > 0 && pw_wall_us() - r->last_message_us > s->feed_silence_ms * 1000) {
		snprintf(buf, n, "%s's BMP feed has been silent for %llds", name,
			 (long long)((pw_wall_us() - r->last_message_us) / 1000000));
		return buf;
	}
	if (!rib_router_synced(r, s->initial_sync_ms)) {
		snprintf(buf, n, "waiting for %s's initial table (End-of-RIB)", name);
		return buf;
	}
	return NULL;
}

static struct rib_peer *peer_of(struct rib *rib, const struct site_peer_ref *ref)
{
	struct rib_router *r = rib_router_find(rib, ref->router);
	return r ? rib_peer_find(r, ref->afi, ref->addr) : NULL;
}

/* The Adj-RIB-In view a rule reads: post-policy when exported, else pre. */
static enum bmp_view in_view(const struct rib_peer *p)
{
	if (p->views_seen & (1u << BMP_VIEW_POST))
		return BMP_VIEW_POST;
	if (p->views_seen & (1u << BMP_VIEW_PRE))
		return BMP_VIEW_PRE;
	return BMP_VIEW_POST;
}

static bool ebgp(const struct rib_peer *p) { return p->local_asn && p->asn != p->local_asn; }

/* AS path as the router holds it (FRR's own-AS prepend removed). */
static int norm_path(const struct rib_peer *p, enum bmp_view v, const struct rib_attrset *a, uint32_t *out, int max)
{
	int n = bgp_attrs_as_path(a->data, a->len, out, max);
	if (n > 0 && p->router->strip_own_as && ebgp(p) && (v == BMP_VIEW_PRE || v == BMP_VIEW_POST) &&
	    out[0] == p->local_asn) {
		memmove(out, out + 1, (size_t)(n - 1) * sizeof *out);
		n--;
	}
	return n;
}

static bool attr_u32(const struct rib_attrset *a, uint8_t type, uint32_t *v)
{
	struct rbuf r;
	if (!bgp_attrs_find(a->data, a->len, type, &r) || r.len != 4)
		return false;
	*v = pw_get32(r.p);
	return true;
}

static json_t *route_json(const struct rib_peer *p, enum bmp_view v, const struct rib_route *rt)
{
	char a[PW_ADDRSTRLEN], pf[PW_PREFIXSTRLEN];
	pw_addr_format(p->afi, p->addr, a, sizeof a);
	pw_prefix_format(&rt->prefix, pf, sizeof pf);
	json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:s}", "router", p->router->name, "peer", a, "peer_asn",
			      (json_int_t)p->asn, "view", bmp_view_name(v), "prefix", pf);
	struct bgp_render_opts o = { .afi = rt->prefix.afi };
	if (p->router->strip_own_as && ebgp(p) && (v == BMP_VIEW_PRE || v == BMP_VIEW_POST))
		o.strip_first_as = p->local_asn;
	bgp_attrs_to_json(rt->attrs->data, rt->attrs->len, &o, j);
	return j;
}

/* -------------------------------------------------------------- the rules */

static void rule_feed_down(const struct site *s, struct rib *rib, struct findings *out)
{
	/* after a start, routers get the initial sync time to (re)connect
	 * before a missing feed counts: a restart is not an outage */
	int64_t up_ms = (pw_wall_us() - rib->start_us) / 1000;
	for (size_t i = 0; i < s->n_routers; i++) {
		const char *name = s->routers[i];
		struct rib_router *r = rib_router_find(rib, name);
		char why[200];
		bool silent = r && r->connected && s->feed_silence_ms > 0 &&
			      pw_wall_us() - r->last_message_us > s->feed_silence_ms * 1000;
		if (r && r->connected && !silent)
			continue;
		if (!silent && up_ms < s->initial_sync_ms) {
			snprintf(why, sizeof why, "pathwatch started %llds ago: waiting for %s to connect", (long long)(up_ms / 1000),
				 name);
			unknown(out, RULE_FEED_DOWN, name, NULL, why);
			continue;
		}
		struct finding *f = add(out, RULE_FEED_DOWN, VERDICT_FIRE, name, NULL, NULL);
		rules_router_blind(s, rib, name, why, sizeof why);
		snprintf(f->summary, sizeof f->summary, "%s: the monitor is blind to this router", why);
		json_object_set_new(f->evidence, "connected", json_boolean(r && r->connected));
		json_object_set_new(f->evidence, "ever_connected", json_boolean(r != NULL));
		if (r) {
			char t[PW_TIMESTRLEN];
			pw_time_format(r->last_message_us, t, sizeof t);
			json_object_set_new(f->evidence, "last_message", json_string(t));
			if (r->address)
				json_object_set_new(f->evidence, "address", json_string(r->address));
		}
	}
}

static void rule_vpn_session(const struct site *s, struct rib *rib, struct findings *out)
{
	char why[200];
	for (size_t i = 0; i < s->n_vpn; i++) {
		const struct site_peer_ref *v = &s->vpn[i];
		if (rules_router_blind(s, rib, v->router, why, sizeof why)) {
			unknown(out, RULE_VPN_SESSION_DOWN, v->router, v->peer, why);
			continue;
		}
		struct rib_peer *p = peer_of(rib, v);
		if (p && p->up)
			continue;
		struct finding *f = add(out, RULE_VPN_SESSION_DOWN, VERDICT_FIRE, v->router, v->peer, NULL);
		snprintf(f->summary, sizeof f->summary, "VPN %s: BGP session %s <-> %s is %s", v->name ? v->name : "peer",
			 v->router, v->peer, p ? "down" : "not reported (never up)");
		json_object_set_new(f->evidence, "state", json_string(p ? "down" : "never-up"));
		if (p && p->down_reason) {
			json_t *dr = json_loads(p->down_reason, 0, NULL);
			json_object_set_new(f->evidence, "down_reason", dr ? dr : json_null());
		}
		if (p && p->down_since_us) {
			char t[PW_TIMESTRLEN];
			pw_time_format(p->down_since_us, t, sizeof t);
			json_object_set_new(f->evidence, "down_since", json_string(t));
		}
		if (v->name)
			json_object_set_new(f->evidence, "vpn_instance", json_string(v->name));
	}
}

static void rule_vpn_routes(const struct site *s, struct rib *rib, struct findings *out)
{
	char why[200];
	for (size_t i = 0; i < s->n_vpn; i++) {
		const struct site_peer_ref *v = &s->vpn[i];
		if (rules_router_blind(s, rib, v->router, why, sizeof why)) {
			unknown(out, RULE_VPN_ROUTES_MISSING, v->router, v->peer, why);
			continue;
		}
		struct rib_peer *p = peer_of(rib, v);
		if (!p || !p->up)
			continue; /* vpn-session-down says it */
		enum bmp_view view = in_view(p);
		for (size_t k = 0; k < s->n_azure; k++) {
			if (rib_lookup_any(p, view, &s->azure[k]))
				continue;
			struct finding *f = add(out, RULE_VPN_ROUTES_MISSING, VERDICT_FIRE, v->router, v->peer, &s->azure[k]);
			snprintf(f->summary, sizeof f->summary, "Azure prefix %s missing from VPN %s (%s, %s) while the session is up",
				 f->prefix, v->name ? v->name : v->peer, v->peer, bmp_view_name(view));
			json_object_set_new(f->evidence, "view", json_string(bmp_view_name(view)));
			json_object_set_new(f->evidence, "routes_from_peer", json_integer(p->views[view].live));
			json_object_set_new(f->evidence, "session_up_since", json_integer(p->up_since_us));
		}
	}
}

static void rule_vpn_advert(const struct site *s, struct rib *rib, struct findings *out)
{
	char why[200];
	for (size_t i = 0; i < s->n_vpn; i++) {
		const struct site_peer_ref *v = &s->vpn[i];
		if (rules_router_blind(s, rib, v->router, why, sizeof why)) {
			unknown(out, RULE_VPN_ADVERT_MISSING, v->router, v->peer, why);
			continue;
		}
		struct rib_peer *p = peer_of(rib, v);
		if (!p || !p->up)
			continue;
		enum bmp_view view;
		if (p->views_seen & (1u << BMP_VIEW_OUT_POST))
			view = BMP_VIEW_OUT_POST;
		else if (p->views_seen & (1u << BMP_VIEW_OUT_PRE))
			view = BMP_VIEW_OUT_PRE;
		else {
			snprintf(why, sizeof why, "%s exports no Adj-RIB-Out (RFC 8671) for %s", v->router, v->peer);
			unknown(out, RULE_VPN_ADVERT_MISSING, v->router, v->peer, why);
			continue;
		}
		for (size_t k = 0; k < s->n_onprem; k++) {
			if (rib_lookup_any(p, view, &s->onprem[k]))
				continue;
			struct finding *f = add(out, RULE_VPN_ADVERT_MISSING, VERDICT_FIRE, v->router, v->peer, &s->onprem[k]);
			snprintf(f->summary, sizeof f->summary, "on-prem prefix %s is not advertised to VPN %s (%s %s)", f->prefix,
				 v->name ? v->name : v->peer, v->router, bmp_view_name(view));
			json_object_set_new(f->evidence, "view", json_string(bmp_view_name(view)));
			json_object_set_new(f->evidence, "routes_advertised", json_integer(p->views[view].live));
		}
	}
}

/* vpn-more-specific: prefixes advertised toward a VPN peer that are more
 * specific than an on-prem prefix (Azure would prefer them over ER). */
struct more_specific_ctx {
	const struct site *s;
	const struct rib_peer *p;
	enum bmp_view view;
	const char *router, *peer, *source;
	struct findings *out;
};

static int more_specific_cb(void *arg, const struct rib_route *rt)
{
	struct more_specific_ctx *c = arg;
	for (size_t k = 0; k < c->s->n_onprem; k++) {
		const struct pw_prefix *q = &c->s->onprem[k];
		if (rt->prefix.afi != q->afi || rt->prefix.len <= q->len)
			continue;
		struct pw_prefix m = rt->prefix;
		m.len = q->len;
		pw_prefix_mask(&m);
		if (memcmp(m.addr, q->addr, 16))
			continue;
		char qs[PW_PREFIXSTRLEN];
		pw_prefix_format(q, qs, sizeof qs);
		struct finding *f = add(c->out, RULE_VPN_MORE_SPECIFIC, VERDICT_FIRE, c->router, c->peer, &rt->prefix);
		snprintf(f->summary, sizeof f->summary,
			 "%s advertises %s over the VPN, more specific than on-prem %s over ExpressRoute: return traffic turns asymmetric",
			 c->router, f->prefix, qs);
		json_object_set_new(f->evidence, "onprem_prefix", json_string(qs));
		json_object_set_new(f->evidence, "source", json_string(c->source));
		json_object_set_new(f->evidence, "route", route_json(c->p, c->view, rt));
	}
	return 0;
}

static void rule_vpn_more_specific(const struct site *s, struct rib *rib, struct findings *out)
{
	char why[200];
	for (size_t i = 0; i < s->n_vpn; i++) {
		const struct site_peer_ref *v = &s->vpn[i];
		if (rules_router_blind(s, rib, v->router, why, sizeof why)) {
			unknown(out, RULE_VPN_MORE_SPECIFIC, v->router, v->peer, why);
			continue;
		}
		struct rib_router *r = rib_router_find(rib, v->router);
		struct rib_peer *p = peer_of(rib, v);
		struct more_specific_ctx c = { s, p, BMP_VIEW_OUT_POST, v->router, v->peer, "adj-rib-out", out };
		if (p && (p->views_seen & (1u << BMP_VIEW_OUT_POST))) {
			rib_walk(p, BMP_VIEW_OUT_POST, more_specific_cb, &c);
		} else if (p && (p->views_seen & (1u << BMP_VIEW_OUT_PRE))) {
			c.view = BMP_VIEW_OUT_PRE;
			rib_walk(p, BMP_VIEW_OUT_PRE, more_specific_cb, &c);
		} else {
			/* no Adj-RIB-Out: the router's own originated routes (FRR
			 * reports them as post-policy routes of peer 0.0.0.0) are
			 * what it exports to every peer; checked once per router */
			bool done = false;
			for (size_t j = 0; j < i && !done; j++) {
				struct rib_peer *pj = peer_of(rib, &s->vpn[j]);
				done = !strcmp(s->vpn[j].router, v->router) &&
				       !(pj && (pj->views_seen & ((1u << BMP_VIEW_OUT_POST) | (1u << BMP_VIEW_OUT_PRE))));
			}
			if (done)
				continue;
			uint8_t zero[16] = { 0 };
			struct rib_peer *self = rib_peer_find(r, PW_AFI_IPV4, zero);
			if (!self || !(self->views_seen & (1u << BMP_VIEW_POST))) {
				snprintf(why, sizeof why, "%s exports neither an Adj-RIB-Out nor its originated routes", v->router);
				unknown(out, RULE_VPN_MORE_SPECIFIC, v->router, NULL, why);
				continue;
			}
			c.p = self;
			c.view = BMP_VIEW_POST;
			c.peer = NULL;
			c.source = "originated routes (no Adj-RIB-Out exported)";
			rib_walk(self, BMP_VIEW_POST, more_specific_cb, &c);
		}
	}
}

static void rule_er_redundant(const struct site *s, struct rib *rib, struct findings *out)
{
	static const char *const link_name[2] = { "primary", "secondary" };
	struct rib_peer *peers[2] = { NULL, NULL };
	bool usable[2] = { false, false };
	char why[200];
	for (int i = 0; i < 2; i++) {
		if (!s->has_er[i])
			continue;
		const struct site_peer_ref *e = &s->er[i];
		if (rules_router_blind(s, rib, e->router, why, sizeof why)) {
			unknown(out, RULE_ER_NOT_REDUNDANT, e->router, e->peer, why);
			continue;
		}
		peers[i] = peer_of(rib, e);
		if (peers[i] && peers[i]->up) {
			usable[i] = true;
			continue;
		}
		struct finding *f = add(out, RULE_ER_NOT_REDUNDANT, VERDICT_FIRE, e->router, e->peer, NULL);
		snprintf(f->summary, sizeof f->summary, "ExpressRoute %s session %s <-> %s (MSEE) is down: ER is not active-active",
			 link_name[i], e->router, e->peer);
		json_object_set_new(f->evidence, "link", json_string(link_name[i]));
		json_object_set_new(f->evidence, "state", json_string(peers[i] ? "down" : "never-up"));
		if (peers[i] && peers[i]->down_reason) {
			json_t *dr = json_loads(peers[i]->down_reason, 0, NULL);
			json_object_set_new(f->evidence, "down_reason", dr ? dr : json_null());
		}
	}
	for (size_t k = 0; k < s->n_azure; k++)
		for (int i = 0; i < 2; i++) {
			if (!usable[i])
				continue;
			if (rib_lookup_any(peers[i], in_view(peers[i]), &s->azure[k]))
				continue;
			const struct site_peer_ref *e = &s->er[i];
			struct finding *f = add(out, RULE_ER_NOT_REDUNDANT, VERDICT_FIRE, e->router, e->peer, &s->azure[k]);
			snprintf(f->summary, sizeof f->summary, "Azure prefix %s is not learned over the ExpressRoute %s link (%s <-> %s)",
				 f->prefix, link_name[i], e->router, e->peer);
			json_object_set_new(f->evidence, "link", json_string(link_name[i]));
			json_object_set_new(f->evidence, "view", json_string(bmp_view_name(in_view(peers[i]))));
		}
}

static void check_origin(const struct site *s, struct rib *rib, const struct site_peer_ref *ref, uint32_t expect,
			 const char *path, struct findings *out)
{
	char why[200];
	(void)s;
	if (rules_router_blind(s, rib, ref->router, why, sizeof why)) {
		unknown(out, RULE_UNEXPECTED_ORIGIN, ref->router, ref->peer, why);
		return;
	}
	struct rib_peer *p = peer_of(rib, ref);
	if (!p || !p->up)
		return;
	enum bmp_view view = in_view(p);
	for (size_t k = 0; k < s->n_azure; k++) {
		const struct rib_route *rt = rib_lookup_any(p, view, &s->azure[k]);
		uint32_t asns[64];
		if (!rt)
			continue;
		int n = norm_path(p, view, rt->attrs, asns, 64);
		if (n > 0 && asns[0] == expect)
			continue;
		struct finding *f = add(out, RULE_UNEXPECTED_ORIGIN, VERDICT_FIRE, ref->router, ref->peer, &s->azure[k]);
		snprintf(f->summary, sizeof f->summary, "Azure prefix %s over %s (%s) has an AS path starting with %s, expected %u",
			 f->prefix, path, ref->peer, n > 0 ? "another AS" : "nothing (empty path)", expect);
		json_object_set_new(f->evidence, "expected_first_as", json_integer(expect));
		json_object_set_new(f->evidence, "route", route_json(p, view, rt));
	}
}

static void rule_unexpected_origin(const struct site *s, struct rib *rib, struct findings *out)
{
	if (s->asn_vpn)
		for (size_t i = 0; i < s->n_vpn; i++)
			check_origin(s, rib, &s->vpn[i], s->asn_vpn, "VPN", out);
	if (s->asn_msee) {
		for (int i = 0; i < 2; i++)
			if (s->has_er[i])
				check_origin(s, rib, &s->er[i], s->asn_msee, "ExpressRoute", out);
		for (size_t i = 0; i < s->n_er_paths; i++)
			check_origin(s, rib, &s->er_paths[i], s->asn_msee, "the ExpressRoute path (iBGP from a CE)", out);
	}
}

/* ------------------------------------------------------ best path (rule 4) */

struct cand {
	bool er;
	const struct site_peer_ref *ref;
	const struct rib_peer *p;
	enum bmp_view view;
	const struct rib_route *rt;
	uint32_t lp, med, first_as;
	bool lp_default, has_med;
	int path_len, origin;
};

static void cand_fill(struct cand *c)
{
	uint32_t asns[64];
	c->lp_default = !attr_u32(c->rt->attrs, BGP_ATTR_LOCAL_PREF, &c->lp);
	if (c->lp_default)
		c->lp = 100;
	c->has_med = attr_u32(c->rt->attrs, BGP_ATTR_MED, &c->med);
	if (!c->has_med)
		c->med = 0;
	c->path_len = norm_path(c->p, c->view, c->rt->attrs, asns, 64);
	c->first_as = c->path_len > 0 ? asns[0] : 0;
	struct rbuf o;
	c->origin = bgp_attrs_find(c->rt->attrs->data, c->rt->attrs->len, BGP_ATTR_ORIGIN, &o) && o.len == 1 ? o.p[0] : 2;
}

/* RFC 4271 9.1.2.2 order; returns <0 if a is better, with the deciding step. */
static int cand_cmp(const struct cand *a, const struct cand *b, const char **step)
{
	if (a->lp != b->lp) {
		*step = "local-pref";
		return a->lp > b->lp ? -1 : 1;
	}
	if (a->path_len != b->path_len) {
		*step = "as-path length";
		return a->path_len < b->path_len ? -1 : 1;
	}
	if (a->origin != b->origin) {
		*step = "origin";
		return a->origin < b->origin ? -1 : 1;
	}
	if (a->first_as == b->first_as && a->med != b->med) {
		*step = "med";
		return a->med < b->med ? -1 : 1;
	}
	if (ebgp(a->p) != ebgp(b->p)) {
		*step = "ebgp over ibgp";
		return ebgp(a->p) ? -1 : 1;
	}
	*step = "router id";
	return a->p->bgp_id <= b->p->bgp_id ? -1 : 1;
}

void best_path_free(struct best_path *b)
{
	json_decref(b->candidates);
	b->candidates = NULL;
}

static const char *facing_router(const struct site *s)
{
	return s->n_vpn ? s->vpn[0].router : s->n_er_paths ? s->er_paths[0].router : NULL;
}

void rules_best_path(const struct site *s, struct rib *rib, const struct pw_prefix *pfx, struct best_path *b)
{
	memset(b, 0, sizeof *b);
	b->candidates = json_array();
	const char *fw = facing_router(s);
	if (!fw) {
		snprintf(b->why_unknown, sizeof b->why_unknown, "the site names no VPN or ER sessions on one router");
		return;
	}
	if (rules_router_blind(s, rib, fw, b->why_unknown, sizeof b->why_unknown))
		return;
	struct cand cands[16];
	int n = 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t cnt = pass ? s->n_vpn : s->n_er_paths;
		const struct site_peer_ref *refs = pass ? s->vpn : s->er_paths;
		for (size_t i = 0; i < cnt && n < 16; i++) {
			struct rib_peer *p = peer_of(rib, &refs[i]);
			if (!p || !p->up)
				continue;
			enum bmp_view view = in_view(p);
			const struct rib_route *rt = rib_lookup_any(p, view, pfx);
			if (!rt)
				continue;
			struct cand *c = &cands[n++];
			memset(c, 0, sizeof *c);
			c->er = !pass;
			c->ref = &refs[i];
			c->p = p;
			c->view = view;
			c->rt = rt;
			cand_fill(c);
			b->er_present |= c->er;
			b->vpn_present |= !c->er;
		}
	}
	int best = -1;
	const char *step = "only path";
	struct rib_router *r = rib_router_find(rib, fw);
	struct rib_peer *loc = rib_peer_loc_rib(r);
	if (loc && (loc->views_seen & (1u << BMP_VIEW_LOCRIB))) {
		const struct rib_route *lr = rib_lookup_any(loc, BMP_VIEW_LOCRIB, pfx);
		snprintf(b->decided_by, sizeof b->decided_by, "loc-rib");
		if (!lr)
			b->kind = BEST_NONE;
		for (int i = 0; lr && i < n && best < 0; i++)
			if (cands[i].rt->attrs == lr->attrs)
				best = i;
		if (lr && best < 0) {
			/* Loc-RIB attributes may differ (local-pref set by policy):
			 * match on the next hop */
			struct rbuf nh1, nh2;
			bool h1 = bgp_attrs_find(lr->attrs->data, lr->attrs->len, BGP_ATTR_NEXT_HOP, &nh1);
			for (int i = 0; h1 && i < n && best < 0; i++)
				if (bgp_attrs_find(cands[i].rt->attrs->data, cands[i].rt->attrs->len, BGP_ATTR_NEXT_HOP, &nh2) &&
				    nh1.len == nh2.len && !memcmp(nh1.p, nh2.p, nh1.len))
					best = i;
			if (best < 0) {
				snprintf(b->why_unknown, sizeof b->why_unknown,
					 "%s's Loc-RIB best path for the prefix matches neither an ER nor a VPN session", fw);
				b->kind = BEST_UNKNOWN;
			}
		}
	} else if (n) {
		best = 0;
		for (int i = 1; i < n; i++)
			if (cand_cmp(&cands[i], &cands[best], &step) < 0)
				best = i;
		/* say what decided between the winner and the best path of the
		 * other kind (ER vs VPN): that is the question asked */
		int other = -1;
		for (int i = 0; i < n; i++)
			if (cands[i].er != cands[best].er && (other < 0 || cand_cmp(&cands[i], &cands[other], &step) < 0))
				other = i;
		if (other >= 0)
			cand_cmp(&cands[best], &cands[other], &step);
		else
			step = cands[best].er ? "only ER paths present" : "only VPN paths present";
		snprintf(b->decided_by, sizeof b->decided_by, "post-policy best-path: %s", step);
	} else {
		b->kind = BEST_NONE;
		snprintf(b->decided_by, sizeof b->decided_by, "no ER or VPN path in %s's Adj-RIB-In", fw);
	}
	if (best >= 0) {
		b->kind = cands[best].er ? BEST_ER : BEST_VPN;
		b->peer = cands[best].ref->peer;
		b->changed_us = cands[best].rt->since_us;
	}
	for (int i = 0; i < n; i++) {
		const struct cand *c = &cands[i];
		json_t *j = route_json(c->p, c->view, c->rt);
		json_object_set_new(j, "path", json_string(c->er ? "er" : "vpn"));
		json_object_set_new(j, "effective_local_pref", json_integer(c->lp));
		json_object_set_new(j, "local_pref_defaulted", json_boolean(c->lp_default));
		json_object_set_new(j, "best", json_boolean(i == best));
		json_array_append_new(b->candidates, j);
	}
}

static void rule_asymmetric(const struct site *s, struct rib *rib, struct findings *out)
{
	const char *fw = facing_router(s);
	if (!fw)
		return;
	for (size_t k = 0; k < s->n_azure; k++) {
		struct best_path b;
		rules_best_path(s, rib, &s->azure[k], &b);
		if (b.kind == BEST_UNKNOWN) {
			char why[200];
			bool blind = rules_router_blind(s, rib, fw, why, sizeof why) != NULL;
			struct finding *f = add(out, RULE_ASYMMETRIC_PREFERENCE, VERDICT_UNKNOWN, fw, NULL, blind ? NULL : &s->azure[k]);
			snprintf(f->reason, sizeof f->reason, "%s", b.why_unknown);
			best_path_free(&b);
			if (blind)
				return; /* nothing else can be decided on this router */
			continue;
		}
		if (b.kind == BEST_VPN && b.er_present) {
			struct finding *f = add(out, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, fw, NULL, &s->azure[k]);
			snprintf(f->summary, sizeof f->summary,
				 "%s prefers the VPN path (%s) for Azure prefix %s although an ExpressRoute path is present (%.60s)", fw,
				 b.peer, f->prefix, b.decided_by);
			json_object_set_new(f->evidence, "decided_by", json_string(b.decided_by));
			json_object_set(f->evidence, "candidates", b.candidates);
		}
		best_path_free(&b);
	}
	/* ER-learned routes must carry the expected local-pref toward the
	 * router facing both paths */
	char why[200];
	for (size_t i = 0; s->er_local_pref && i < s->n_er_paths; i++) {
		const struct site_peer_ref *e = &s->er_paths[i];
		if (rules_router_blind(s, rib, e->router, why, sizeof why))
			continue; /* already unknown above */
		struct rib_peer *p = peer_of(rib, e);
		if (!p || !p->up)
			continue;
		enum bmp_view view = in_view(p);
		for (size_t k = 0; k < s->n_azure; k++) {
			const struct rib_route *rt = rib_lookup_any(p, view, &s->azure[k]);
			uint32_t lp = 0;
			bool has = rt && attr_u32(rt->attrs, BGP_ATTR_LOCAL_PREF, &lp);
			if (!rt || (has && lp == s->er_local_pref))
				continue;
			struct finding *f = add(out, RULE_ASYMMETRIC_PREFERENCE, VERDICT_FIRE, e->router, e->peer, &s->azure[k]);
			if (has)
				snprintf(f->summary, sizeof f->summary,
					 "ER-learned route for %s via %s has local-pref %u, expected %u", f->prefix, e->peer, lp,
					 s->er_local_pref);
			else
				snprintf(f->summary, sizeof f->summary, "ER-learned route for %s via %s carries no local-pref, expected %u",
					 f->prefix, e->peer, s->er_local_pref);
			json_object_set_new(f->evidence, "local_pref", has ? json_integer(lp) : json_null());
			json_object_set_new(f->evidence, "expected_local_pref", json_integer(s->er_local_pref));
			json_object_set_new(f->evidence, "route", route_json(p, view, rt));
		}
	}
}

void rules_evaluate(const struct site *s, struct rib *rib, int64_t now_us, struct findings *out)
{
	(void)now_us;
	if (s->rules[RULE_FEED_DOWN].enabled)
		rule_feed_down(s, rib, out);
	if (s->rules[RULE_VPN_SESSION_DOWN].enabled)
		rule_vpn_session(s, rib, out);
	if (s->rules[RULE_VPN_ROUTES_MISSING].enabled)
		rule_vpn_routes(s, rib, out);
	if (s->rules[RULE_VPN_ADVERT_MISSING].enabled)
		rule_vpn_advert(s, rib, out);
	if (s->rules[RULE_ASYMMETRIC_PREFERENCE].enabled)
		rule_asymmetric(s, rib, out);
	if (s->rules[RULE_VPN_MORE_SPECIFIC].enabled)
		rule_vpn_more_specific(s, rib, out);
	if (s->rules[RULE_ER_NOT_REDUNDANT].enabled)
		rule_er_redundant(s, rib, out);
	if (s->rules[RULE_UNEXPECTED_ORIGIN].enabled)
		rule_unexpected_origin(s, rib, out);
}

void site_free(struct site *s)
{
	free(s->name);
	free(s->description);
	for (size_t i = 0; i < s->n_routers; i++)
		free(s->routers[i]);
	free(s->routers);
	struct site_peer_ref *lists[] = { s->er_paths, s->vpn };
	size_t counts[] = { s->n_er_paths, s->n_vpn };
	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < counts[l]; i++) {
			free(lists[l][i].router);
			free(lists[l][i].peer);
			free(lists[l][i].name);
		}
		free(lists[l]);
	}
	for (int i = 0; i < 2; i++) {
		free(s->er[i].router);
		free(s->er[i].peer);
		free(s->er[i].name);
	}
	free(s->onprem);
	free(s->azure);
}
