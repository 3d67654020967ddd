/*
 * alerts: lifecycle, silences, drills, failover tracking. See alerts.h.
 */
#include "alerts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/log.h"
#include "common/mono.h"
#include "notify.h"
#include "rules.h"

enum astate { A_PENDING, A_FIRING, A_RESOLVED };
static const char *const state_names[] = { "pending", "firing", "resolved" };

struct alert {
	int64_t id;
	char *identity;
	enum rule_id rule;
	size_t site;
	char *router, *peer, *prefix; /* NULL when not part of the identity */
	enum astate state;
	int64_t since, started, firing_since, resolved_at, clear_since, updated;
	int64_t flaps;
	char *summary, *evidence, *unknown_reason;
	char *ack_by, *ack_comment;
	int64_t ack_at;
	int64_t silenced_by;
	bool seen;
};

struct silence {
	int64_t id;
	char *m[5]; /* rule, site, router, peer, prefix: NULL = any */
	int64_t starts, ends;
};

struct drill {
	int64_t id;
	size_t site;
	int64_t started, ends;
};

/* Per site and Azure prefix: which path was best, and an open failover. */
struct tracker {
	enum best_kind last;
	int64_t lost_us;      /* the ER path went away (router time), 0: none open */
	bool slow;            /* the last failover was slow or never converged */
	char slow_summary[200];
	json_t *slow_evidence;
	bool recorded;        /* a best_paths row was written by this process */
	enum best_kind rec_kind;
	char rec_peer[64];    /* the winning session of the last row written */
};

struct alerts {
	struct rib *rib;
	struct store *store;
	const struct site *sites;
	size_t n_sites;
	struct alert **v;
	size_t n, cap;
	struct silence *sil;
	size_t n_sil;
	struct drill *drills;
	size_t n_drills;
	struct tracker **track;      /* [site][azure prefix] */
	int64_t *first_seen;         /* per site */
	int64_t *last_drill;         /* per site: last failover or declared drill */
	int64_t next_alert_id, next_silence_id, next_drill_id, next_failover_id;
	struct findings f;
	struct notify *notify;
	struct deliver *deliver;
	alerts_listener_fn listen;
	void *listen_ctx;
	char *last_sites;            /* the last published /sites text */
	pthread_mutex_t snap_lock;
	json_t *snapshot;            /* guarded by snap_lock */
};

static char *dup0(const char *s) { return s && *s ? pw_strdup(s) : NULL; }
static bool same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }
static bool same_text(const char *a, const char *b) { return same(a && *a ? a : NULL, b && *b ? b : NULL); }

struct alerts *alerts_new(struct rib *rib, struct store *st, const struct site *sites, size_t n_sites,
			  struct notify *notify, struct deliver *deliver)
{
	struct alerts *a = pw_calloc(1, sizeof *a);
	a->notify = notify;
	a->deliver = deliver;
	a->rib = rib;
	a->store = st;
	a->sites = sites;
	a->n_sites = n_sites;
	a->next_alert_id = a->next_silence_id = a->next_drill_id = a->next_failover_id = 1;
	a->track = pw_calloc(n_sites ? n_sites : 1, sizeof *a->track);
	a->first_seen = pw_calloc(n_sites ? n_sites : 1, sizeof *a->first_seen);
	a->last_drill = pw_calloc(n_sites ? n_sites : 1, sizeof *a->last_drill);
	for (size_t i = 0; i < n_sites; i++)
		a->track[i] = pw_calloc(sites[i].n_azure ? sites[i].n_azure : 1, sizeof **a->track);
	pthread_mutex_init(&a->snap_lock, NULL);
	return a;
}

static void alert_free(struct alert *x)
{
	free(x->identity), free(x->router), free(x->peer), free(x->prefix), free(x->summary);
	free(x->evidence), free(x->unknown_reason), free(x->ack_by), free(x->ack_comment);
	free(x);
}

static int find_site(const struct site *sites, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(sites[i].name, name))
			return (int)i;
	return -1;
}

static int find_prefix(const struct pw_prefix *v, size_t n, const struct pw_prefix *p)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].afi == p->afi && v[i].len == p->len && !memcmp(v[i].addr, p->addr, 16))
			return (int)i;
	return -1;
}

void alerts_reconfigure(struct alerts *a, const struct site *sites, size_t n_sites)
{
	struct tracker **track = pw_calloc(n_sites ? n_sites : 1, sizeof *track);
	int64_t *first_seen = pw_calloc(n_sites ? n_sites : 1, sizeof *first_seen);
	int64_t *last_drill = pw_calloc(n_sites ? n_sites : 1, sizeof *last_drill);
	int *to = pw_calloc(a->n_sites ? a->n_sites : 1, sizeof *to); /* old site -> new, or -1 */
	for (size_t i = 0; i < a->n_sites; i++)
		to[i] = find_site(sites, n_sites, a->sites[i].name);
	for (size_t j = 0; j < n_sites; j++) {
		track[j] = pw_calloc(sites[j].n_azure ? sites[j].n_azure : 1, sizeof **track);
		int i = find_site(a->sites, a->n_sites, sites[j].name);
		if (i < 0)
			continue;
		first_seen[j] = a->first_seen[i];
		last_drill[j] = a->last_drill[i];
		for (size_t k = 0; k < sites[j].n_azure; k++) {
			int ok = find_prefix(a->sites[i].azure, a->sites[i].n_azure, &sites[j].azure[k]);
			if (ok >= 0) { /* moved: the old slot no longer owns the evidence */
				track[j][k] = a->track[i][ok];
				a->track[i][ok].slow_evidence = NULL;
			}
		}
	}
	for (size_t i = 0; i < a->n_sites; i++) {
		for (size_t k = 0; k < a->sites[i].n_azure; k++)
			json_decref(a->track[i][k].slow_evidence);
		free(a->track[i]);
	}
	free(a->track), free(a->first_seen), free(a->last_drill);
	a->track = track, a->first_seen = first_seen, a->last_drill = last_drill;
	size_t kept = 0;
	for (size_t k = 0; k < a->n; k++) {
		struct alert *x = a->v[k];
		if (to[x->site] < 0) {
			PW_INFO("msg=\"site removed from the configuration: its alert is no longer evaluated\" alert=%lld site=%s",
				(long long)x->id, a->sites[x->site].name);
			alert_free(x);
			continue;
		}
		x->site = (size_t)to[x->site];
		a->v[kept++] = x;
	}
	a->n = kept;
	kept = 0;
	for (size_t k = 0; k < a->n_drills; k++)
		if (to[a->drills[k].site] >= 0) {
			a->drills[kept] = a->drills[k];
			a->drills[kept++].site = (size_t)to[a->drills[k].site];
		}
	a->n_drills = kept;
	free(to);
	a->sites = sites;
	a->n_sites = n_sites;
}

void alerts_free(struct alerts *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		alert_free(a->v[i]);
	free(a->v);
	for (size_t i = 0; i < a->n_sil; i++)
		for (int k = 0; k < 5; k++)
			free(a->sil[i].m[k]);
	free(a->sil);
	free(a->drills);
	for (size_t i = 0; i < a->n_sites; i++) {
		for (size_t k = 0; k < a->sites[i].n_azure; k++)
			json_decref(a->track[i][k].slow_evidence);
		free(a->track[i]);
	}
	free(a->track);
	free(a->first_seen);
	free(a->last_drill);
	findings_free(&a->f);
	json_decref(a->snapshot);
	free(a->last_sites);
	pthread_mutex_destroy(&a->snap_lock);
	free(a);
}

void alerts_set_listener(struct alerts *a, alerts_listener_fn fn, void *ctx)
{
	a->listen = fn;
	a->listen_ctx = ctx;
}

static void announce(struct alerts *a, const struct alert *x)
{
	if (!a->listen)
		return;
	a->listen(a->listen_ctx, "alert",
		  json_pack("{s:I,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s?,s:b,s:b}", "id", (json_int_t)x->id, "rule", rule_name(x->rule),
			    "state", state_names[x->state], "site", a->sites[x->site].name, "router", x->router, "peer", x->peer,
			    "prefix", x->prefix, "severity", severity_name(a->sites[x->site].rules[x->rule].severity), "summary",
			    x->summary, "acknowledged", x->ack_by != NULL, "silenced", x->silenced_by != 0));
}

static int site_index(const struct alerts *a, const char *name)
{
	for (size_t i = 0; i < a->n_sites; i++)
		if (!strcmp(a->sites[i].name, name))
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------ persistence */

static int64_t silenced_by(const struct alerts *a, const struct alert *x, int64_t now);

static const char ALERT_UPSERT_SQL[] =
	"INSERT INTO alerts (id, identity, rule, site, router, peer, prefix, severity, state, since, started,"
	" firing_since, resolved_at, flaps, summary, evidence, unknown_reason, ack_by, ack_at, ack_comment,"
	" silenced_by, updated) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22)"
	" ON CONFLICT(id) DO UPDATE SET severity=?8, state=?9, since=?10, started=?11, firing_since=?12,"
	" resolved_at=?13, flaps=?14, summary=?15, evidence=?16, unknown_reason=?17, ack_by=?18, ack_at=?19,"
	" ack_comment=?20, silenced_by=?21, updated=?22";
enum { ALERT_PARAMS = 22 };

static void alert_params(struct alerts *a, struct alert *x, int64_t now, struct store_param p[ALERT_PARAMS])
{
	x->updated = now;
	const struct site *s = &a->sites[x->site];
	struct store_param v[ALERT_PARAMS] = {
		SP_I(x->id), SP_T(x->identity), SP_T(rule_name(x->rule)), SP_T(s->name), SP_T(x->router), SP_T(x->peer),
		SP_T(x->prefix), SP_T(severity_name(s->rules[x->rule].severity)), SP_T(state_names[x->state]),
		SP_I(x->since), SP_I(x->started), SP_TIME(x->firing_since), SP_TIME(x->resolved_at), SP_I(x->flaps),
		SP_T(x->summary), SP_T(x->evidence), SP_T(x->unknown_reason), SP_T(x->ack_by), SP_TIME(x->ack_at),
		SP_T(x->ack_comment), SP_TIME(x->silenced_by), SP_I(x->updated),
	};
	memcpy(p, v, sizeof v);
}

static void persist(struct alerts *a, struct alert *x, int64_t now)
{
	struct store_param p[ALERT_PARAMS];
	alert_params(a, x, now, p);
	store_exec(a->store, ALERT_UPSERT_SQL, p, ALERT_PARAMS);
}

static void notify_view(const struct alerts *a, const struct alert *x, struct notify_alert *na)
{
	const struct site *s = &a->sites[x->site];
	*na = (struct notify_alert){
		.id = x->id, .identity = x->identity, .rule = rule_name(x->rule), .site = s->name, .router = x->router,
		.peer = x->peer, .prefix = x->prefix, .severity = severity_name(s->rules[x->rule].severity),
		.state = state_names[x->state], .summary = x->summary, .evidence = x->evidence, .since = x->since,
		.started = x->started, .firing_since = x->firing_since, .resolved_at = x->resolved_at, .ack_at = x->ack_at,
		.ack_by = x->ack_by, .ack_comment = x->ack_comment, .sev = (int)s->rules[x->rule].severity,
	};
}

enum { MAX_ROWS = 16 };

/* Queues the alert's change, an optional timeline entry and the
 * notifications of `event` (may be NULL) as ONE transaction, then hands the
 * notifications to the delivery thread. */
static void commit(struct alerts *a, struct alert *x, int64_t now, const struct store_param *tl, const char *event,
		   bool with_alert)
{
	struct store_stmt st[2 + MAX_ROWS];
	struct store_param ap[ALERT_PARAMS], rp[MAX_ROWS][10];
	struct outbox_row rows[MAX_ROWS];
	int n = 0, nrows = 0;
	if (with_alert) {
		alert_params(a, x, now, ap);
		st[n++] = (struct store_stmt){ ALERT_UPSERT_SQL, ap, ALERT_PARAMS };
	}
	if (tl)
		st[n++] = (struct store_stmt){
			"INSERT INTO alert_transitions (alert_id, time, from_state, to_state, note) VALUES (?1,?2,?3,?4,?5)", tl, 5 };
	if (event && a->notify) {
		struct notify_alert na;
		notify_view(a, x, &na);
		nrows = notify_event(a->notify, &na, event, now, rows, MAX_ROWS);
		for (int i = 0; i < nrows; i++) {
			outbox_row_params(&rows[i], rp[i]);
			st[n++] = (struct store_stmt){ NOTIFY_INSERT_SQL, rp[i], 10 };
		}
	}
	store_exec_group(a->store, st, n);
	if (nrows)
		notify_dispatch(a->notify, rows, nrows);
}

static void transition(struct alerts *a, struct alert *x, enum astate to, int64_t now, const char *note)
{
	bool fresh = x->since == 0;
	enum astate from = x->state;
	x->state = to;
	x->since = now;
	struct store_param p[] = { SP_I(x->id), SP_I(now), SP_T(fresh ? NULL : state_names[from]), SP_T(state_names[to]),
				   SP_T(note) };
	const char *event = NULL;
	if (to == A_FIRING && !silenced_by(a, x, now))
		event = "trigger";
	else if (to == A_RESOLVED && from == A_FIRING)
		event = "resolve";
	commit(a, x, now, p, event, true);
	if (to == A_RESOLVED && a->notify)
		notify_forget(a->notify, x->id);
	announce(a, x);
	PW_INFO("msg=\"alert %s\" id=%lld rule=%s site=%s router=%s peer=%s prefix=%s summary=\"%s\"", state_names[to],
		(long long)x->id, rule_name(x->rule), a->sites[x->site].name, x->router ? x->router : "-",
		x->peer ? x->peer : "-", x->prefix ? x->prefix : "-", x->summary ? x->summary : "");
}

/* ---------------------------------------------------------------- silences */

static bool silence_matches(const struct silence *s, const struct alerts *a, const struct alert *x, int64_t now)
{
	if (now < s->starts || now >= s->ends)
		return false;
	const char *v[5] = { rule_name(x->rule), a->sites[x->site].name, x->router, x->peer, x->prefix };
	for (int k = 0; k < 5; k++)
		if (s->m[k] && !same(s->m[k], v[k]))
			return false;
	return true;
}

static int64_t silenced_by(const struct alerts *a, const struct alert *x, int64_t now)
{
	for (size_t i = 0; i < a->n_sil; i++)
		if (silence_matches(&a->sil[i], a, x, now))
			return a->sil[i].id;
	return 0;
}

/* --------------------------------------------------------------- lifecycle */

static struct alert *find_or_new(struct alerts *a, size_t site, const struct finding *f, bool *created)
{
	char ident[512];
	snprintf(ident, sizeof ident, "%s|%s|%s|%s|%s", rule_name(f->rule), a->sites[site].name, f->router, f->peer,
		 f->prefix);
	*created = false;
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i]->identity, ident))
			return a->v[i];
	struct alert *x = pw_calloc(1, sizeof *x);
	x->id = a->next_alert_id++;
	x->identity = pw_strdup(ident);
	x->rule = f->rule;
	x->site = site;
	x->router = dup0(f->router);
	x->peer = dup0(f->peer);
	x->prefix = dup0(f->prefix);
	x->state = A_RESOLVED;
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = pw_realloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->n++] = x;
	*created = true;
	return x;
}

static const struct finding *unknown_for(const struct alerts *a, const struct alert *x, size_t site_first,
					 size_t site_end)
{
	for (size_t i = site_first; i < site_end; i++) {
		const struct finding *f = &a->f.v[i];
		if (f->verdict != VERDICT_UNKNOWN || f->rule != x->rule)
			continue;
		if (*f->router && !same_text(f->router, x->router))
			continue;
		if (*f->peer && !same_text(f->peer, x->peer))
			continue;
		if (*f->prefix && !same_text(f->prefix, x->prefix))
			continue;
		return f;
	}
	return NULL;
}

static void apply_findings(struct alerts *a, size_t site, size_t first, size_t end, int64_t now)
{
	const struct site *s = &a->sites[site];
	for (size_t i = first; i < end; i++) {
		const struct finding *f = &a->f.v[i];
		if (f->verdict != VERDICT_FIRE)
			continue;
		bool created;
		struct alert *x = find_or_new(a, site, f, &created);
		const struct rule_conf *rc = &s->rules[f->rule];
		char *ev = json_dumps(f->evidence, JSON_COMPACT | JSON_SORT_KEYS);
		bool changed = !same(x->summary, f->summary) || !same(x->evidence, ev);
		free(x->summary);
		x->summary = pw_strdup(f->summary);
		free(x->evidence);
		x->evidence = ev;
		if (x->unknown_reason) {
			free(x->unknown_reason);
			x->unknown_reason = NULL;
			changed = true;
		}
		x->seen = true;
		x->clear_since = 0;
		if (x->state == A_RESOLVED) {
			if (!created)
				x->flaps++;
			x->started = now;
			x->firing_since = x->resolved_at = 0;
			free(x->ack_by), free(x->ack_comment);
			x->ack_by = x->ack_comment = NULL;
			x->ack_at = 0;
			transition(a, x, A_PENDING, now, created ? "finding appeared" : "finding appeared again (flap)");
			changed = false;
		}
		if (x->state == A_PENDING && now - x->started >= rc->for_ms * 1000) {
			x->firing_since = now;
			transition(a, x, A_FIRING, now, "held for the rule's for: duration");
			changed = false;
		}
		if (changed)
			persist(a, x, now);
	}
	for (size_t i = 0; i < a->n; i++) {
		struct alert *x = a->v[i];
		if (x->site != site || x->seen || x->state == A_RESOLVED)
			continue;
		const struct finding *u = unknown_for(a, x, first, end);
		if (u) { /* blind: keep the state, say why */
			x->clear_since = 0;
			if (!same(x->unknown_reason, u->reason)) {
				free(x->unknown_reason);
				x->unknown_reason = pw_strdup(u->reason);
				persist(a, x, now);
			}
			continue;
		}
		if (x->unknown_reason) {
			free(x->unknown_reason);
			x->unknown_reason = NULL;
			persist(a, x, now);
		}
		if (x->state == A_PENDING) {
			x->resolved_at = now;
			transition(a, x, A_RESOLVED, now, "cleared before firing");
			continue;
		}
		if (!x->clear_since)
			x->clear_since = now;
		if (now - x->clear_since >= s->rules[x->rule].hold_ms * 1000) {
			x->resolved_at = now;
			transition(a, x, A_RESOLVED, now, "gone for the rule's hold duration");
		}
	}
}

/* ------------------------------------------------------ failovers, drills */

static void record_failover(struct alerts *a, size_t site, const struct pw_prefix *pfx, const char *kind,
			    int64_t started, int64_t converged, const char *from, const char *to, json_t *detail)
{
	char pf[PW_PREFIXSTRLEN];
	pw_prefix_format(pfx, pf, sizeof pf);
	int64_t drill = 0;
	for (size_t i = 0; i < a->n_drills; i++)
		if (a->drills[i].site == site && started >= a->drills[i].started && started <= a->drills[i].ends)
			drill = a->drills[i].id;
	char *d = json_dumps(detail, JSON_COMPACT);
	int64_t id = a->next_failover_id++;
	struct store_param p[] = { SP_I(id), SP_T(a->sites[site].name), SP_T(pf), SP_T(kind), SP_I(started), SP_TIME(converged),
				   converged ? SP_I((converged - started) / 1000) : SP_TIME(0), SP_T(from), SP_T(to),
				   SP_TIME(drill), SP_T(d) };
	store_exec(a->store,
		   "INSERT INTO failovers (id, site, prefix, kind, started, converged, duration_ms, from_path, to_path,"
		   " drill_id, detail) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
		   p, 11);
	if (drill) {
		struct store_param q[] = { SP_I(drill), SP_T(d) };
		store_exec(a->store, "UPDATE drills SET result = ?2 WHERE id = ?1", q, 2);
	}
	free(d);
	if (!strcmp(kind, "failover") && started > a->last_drill[site])
		a->last_drill[site] = started;
	PW_INFO("msg=\"%s observed\" site=%s prefix=%s duration_ms=%lld", kind, a->sites[site].name, pf,
		converged ? (long long)((converged - started) / 1000) : -1LL);
}

/* The router time at which the ER routes for the prefix went away. */
static int64_t er_lost_time(const struct alerts *a, const struct site *s, const struct pw_prefix *pfx, int64_t now)
{
	int64_t t = 0;
	for (size_t i = 0; i < s->n_er_paths; i++) {
		struct rib_router *r = rib_router_find(a->rib, s->er_paths[i].router);
		struct rib_peer *p = r ? rib_peer_find(r, s->er_paths[i].afi, s->er_paths[i].addr) : NULL;
		for (int v = BMP_VIEW_PRE; p && v <= BMP_VIEW_POST; v++) {
			const struct rib_route *rt = rib_lookup_slot(p, (enum bmp_view)v, pfx, 0);
			if (rt && !rt->attrs && rt->since_us > t)
				t = rt->since_us;
		}
	}
	return t ? t : now;
}

/* A best_paths row when the best path's kind or winning session changed. */
static void record_best(struct alerts *a, size_t site, struct tracker *t, const char *pf, const struct best_path *b,
			int64_t now)
{
	const char *peer = b->peer ? b->peer : "";
	if (t->recorded && t->rec_kind == b->kind && !strcmp(t->rec_peer, peer))
		return;
	t->recorded = true;
	t->rec_kind = b->kind;
	snprintf(t->rec_peer, sizeof t->rec_peer, "%s", peer);
	struct store_param p[] = { SP_I(now), SP_T(a->sites[site].name), SP_T(pf), SP_T(best_kind_name(b->kind)),
				   SP_T(b->peer), SP_T(b->kind == BEST_UNKNOWN ? b->why_unknown : b->decided_by) };
	store_exec(a->store,
		   "INSERT INTO best_paths (t, site, prefix, best, peer, decided_by) VALUES (?1,?2,?3,?4,?5,?6)", p, 6);
}

static void track_failovers(struct alerts *a, size_t site, int64_t now, json_t *best_out)
{
	const struct site *s = &a->sites[site];
	for (size_t k = 0; k < s->n_azure; k++) {
		struct tracker *t = &a->track[site][k];
		struct best_path b;
		char pf[PW_PREFIXSTRLEN];
		pw_prefix_format(&s->azure[k], pf, sizeof pf);
		rules_best_path(s, a->rib, &s->azure[k], &b);
		json_t *bj = json_pack("{s:s,s:s,s:s?,s:O}", "prefix", pf, "best", best_kind_name(b.kind), "decided_by",
				       b.kind == BEST_UNKNOWN ? b.why_unknown : b.decided_by, "candidates", b.candidates);
		json_object_set_new(bj, "symmetric",
				    b.kind == BEST_UNKNOWN ? json_null() : json_boolean(!(b.kind == BEST_VPN && b.er_present)));
		json_array_append_new(best_out, bj);
		record_best(a, site, t, pf, &b, now);
		if (b.kind == BEST_UNKNOWN) {
			best_path_free(&b);
			continue;
		}
		if (t->last == BEST_ER && b.kind != BEST_ER && !t->lost_us)
			t->lost_us = er_lost_time(a, s, &s->azure[k], now);
		if (t->lost_us && b.kind == BEST_VPN) {
			int64_t conv = b.changed_us > t->lost_us ? b.changed_us : t->lost_us;
			json_t *d = json_pack("{s:s,s:O}", "decided_by", b.decided_by, "candidates", b.candidates);
			record_failover(a, site, &s->azure[k], "failover", t->lost_us, conv, "er", "vpn", d);
			int64_t ms = (conv - t->lost_us) / 1000;
			t->slow = ms > s->failover_ms;
			json_decref(t->slow_evidence);
			t->slow_evidence = t->slow ? json_pack("{s:I,s:I,s:O}", "duration_ms", (json_int_t)ms, "threshold_ms",
							       (json_int_t)s->failover_ms, "detail", d)
						   : NULL;
			snprintf(t->slow_summary, sizeof t->slow_summary,
				 "failover of %s to the VPN took %lld ms, more than the site's %lld ms", pf, (long long)ms,
				 (long long)s->failover_ms);
			json_decref(d);
			t->lost_us = 0;
		} else if (t->lost_us && b.kind == BEST_ER) {
			/* ER came back before the VPN took over */
			json_t *d = json_pack("{s:s}", "note", "ER returned before any VPN path became best");
			record_failover(a, site, &s->azure[k], "failover", t->lost_us, 0, "er", "none", d);
			json_decref(d);
			t->lost_us = 0;
		} else if (t->lost_us && now - t->lost_us > s->failover_ms * 1000 && !t->slow) {
			t->slow = true;
			json_decref(t->slow_evidence);
			t->slow_evidence = json_pack("{s:I,s:s,s:O}", "threshold_ms", (json_int_t)s->failover_ms, "best",
						     best_kind_name(b.kind), "candidates", b.candidates);
			snprintf(t->slow_summary, sizeof t->slow_summary,
				 "ExpressRoute paths for %s are gone and no VPN path took over within %lld ms", pf,
				 (long long)s->failover_ms);
		}
		if (t->last == BEST_VPN && b.kind == BEST_ER) {
			json_t *d = json_pack("{s:s}", "decided_by", b.decided_by);
			record_failover(a, site, &s->azure[k], "failback", b.changed_us ? b.changed_us : now,
					b.changed_us ? b.changed_us : now, "vpn", "er", d);
			json_decref(d);
		}
		t->last = b.kind;
		if (t->slow && s->rules[RULE_FAILOVER_SLOW].enabled) {
			struct finding *f = findings_add(&a->f, RULE_FAILOVER_SLOW, VERDICT_FIRE, s->n_vpn ? s->vpn[0].router : "",
							 NULL, pf);
			snprintf(f->summary, sizeof f->summary, "%s", t->slow_summary);
			if (t->slow_evidence)
				json_object_update(f->evidence, t->slow_evidence);
		}
		best_path_free(&b);
	}
}

static void check_drill(struct alerts *a, size_t site, int64_t now)
{
	const struct site *s = &a->sites[site];
	if (!s->rules[RULE_DRILL_OVERDUE].enabled || s->drill_period_ms <= 0)
		return;
	int64_t last = a->last_drill[site] > a->first_seen[site] ? a->last_drill[site] : a->first_seen[site];
	if (now - last <= s->drill_period_ms * 1000)
		return;
	struct finding *f = findings_add(&a->f, RULE_DRILL_OVERDUE, VERDICT_FIRE, NULL, NULL, NULL);
	char t[PW_TIMESTRLEN];
	pw_time_format(last, t, sizeof t);
	snprintf(f->summary, sizeof f->summary, "no failover observed or drill recorded for site %s since %s (period %lld days)",
		 s->name, t, (long long)(s->drill_period_ms / 86400000));
	json_object_set_new(f->evidence, "last_failover_or_drill", json_string(t));
	json_object_set_new(f->evidence, "drill_period_ms", json_integer(s->drill_period_ms));
	json_object_set_new(f->evidence, "ever", json_boolean(a->last_drill[site] != 0));
}

/* ---------------------------------------------------------------- the tick */

static json_t *path_json(struct alerts *a, const struct site *s, const char *kind, const struct site_peer_ref *ref)
{
	char why[200];
	json_t *j = json_pack("{s:s,s:s,s:s}", "path", kind, "router", ref->router, "peer", ref->peer);
	if (ref->name)
		json_object_set_new(j, "name", json_string(ref->name));
	json_object_set_new(j, "prefixes_expected", json_integer((json_int_t)s->n_azure));
	const char *blind = rules_router_blind(s, a->rib, ref->router, why, sizeof why);
	struct rib_router *r = rib_router_find(a->rib, ref->router);
	struct rib_peer *p = r ? rib_peer_find(r, ref->afi, ref->addr) : NULL;
	if (blind && !(r && r->connected)) {
		json_object_set_new(j, "state", json_string("unknown"));
		json_object_set_new(j, "reason", json_string(blind));
		json_object_set_new(j, "prefixes_present", json_null());
		return j;
	}
	json_object_set_new(j, "state", json_string(p && p->up ? "up" : "down"));
	if (blind)
		json_object_set_new(j, "reason", json_string(blind));
	char t[PW_TIMESTRLEN];
	int64_t since = p ? (p->up ? p->up_since_us : p->down_since_us) : 0;
	if (since) {
		pw_time_format(since, t, sizeof t);
		json_object_set_new(j, "since", json_string(t));
	}
	int present = 0;
	if (p && p->up) {
		enum bmp_view v = (p->views_seen & (1u << BMP_VIEW_POST)) ? BMP_VIEW_POST : BMP_VIEW_PRE;
		for (size_t k = 0; k < s->n_azure; k++)
			present += rib_lookup_any(p, v, &s->azure[k]) != NULL;
	}
	json_object_set_new(j, "prefixes_present", json_integer(present));
	return j;
}

bool alerts_watches(const struct alerts *a, const char *router)
{
	for (size_t si = 0; si < a->n_sites; si++)
		for (size_t i = 0; i < a->sites[si].n_routers; i++)
			if (!strcmp(a->sites[si].routers[i], router))
				return true;
	return false;
}

void alerts_tick(struct alerts *a, int64_t now)
{
	findings_clear(&a->f);
	for (size_t i = 0; i < a->n; i++)
		a->v[i]->seen = false;
	json_t *sites = json_array();
	for (size_t si = 0; si < a->n_sites; si++) {
		const struct site *s = &a->sites[si];
		if (!a->first_seen[si]) {
			a->first_seen[si] = now;
			struct store_param p[] = { SP_T(s->name), SP_I(now) };
			store_exec(a->store, "INSERT OR IGNORE INTO site_state (site, first_seen) VALUES (?1, ?2)", p, 2);
		}
		size_t first = a->f.n;
		rules_evaluate(s, a->rib, now, &a->f);
		json_t *best = json_array();
		track_failovers(a, si, now, best);
		check_drill(a, si, now);
		if (si == 0 && a->deliver && s->rules[RULE_NOTIFY_FAILED].enabled) {
			char names[16][64], errs[16][160];
			size_t nf = deliver_failures(a->deliver, names, errs, 16);
			for (size_t k = 0; k < nf; k++) {
				struct finding *f = findings_add(&a->f, RULE_NOTIFY_FAILED, VERDICT_FIRE, NULL, names[k], NULL);
				snprintf(f->summary, sizeof f->summary, "receiver %.60s rejected a notification (%.100s): pages are not arriving",
					 names[k], errs[k]);
				json_object_set_new(f->evidence, "receiver", json_string(names[k]));
				json_object_set_new(f->evidence, "error", json_string(errs[k]));
			}
		}
		if (si == 0 && s->rules[RULE_STORE_FAILING].enabled && store_failing(a->store)) {
			/* the transition and its notifications queue behind the failing
			 * commits, but the pages go out: delivery starts from memory */
			struct finding *f = findings_add(&a->f, RULE_STORE_FAILING, VERDICT_FIRE, NULL, NULL, NULL);
			snprintf(f->summary, sizeof f->summary,
				 "the database %.100s or its prefix index does not take commits (disk full, locked, damaged or "
				 "replaced: see the log); %llu changes wait in memory", store_path(a->store), (unsigned long long)store_pending(a->store));
			json_object_set_new(f->evidence, "db", json_string(store_path(a->store)));
			json_object_set_new(f->evidence, "pending", json_integer((json_int_t)store_pending(a->store)));
		}
		apply_findings(a, si, first, a->f.n, now);

		/* the site's picture for /api/v1/sites */
		json_t *paths = json_array();
		static const char *const er_kind[2] = { "er-primary", "er-secondary" };
		for (int i = 0; i < 2; i++)
			if (s->has_er[i])
				json_array_append_new(paths, path_json(a, s, er_kind[i], &s->er[i]));
		for (size_t i = 0; i < s->n_vpn; i++)
			json_array_append_new(paths, path_json(a, s, "vpn", &s->vpn[i]));
		int firing = 0, crit = 0;
		for (size_t i = 0; i < a->n; i++)
			if (a->v[i]->site == si && a->v[i]->state == A_FIRING) {
				firing++;
				crit += s->rules[a->v[i]->rule].severity == SEV_CRITICAL;
			}
		const char *sym = "symmetric";
		for (size_t i = 0; i < json_array_size(best); i++) {
			json_t *v = json_object_get(json_array_get(best, i), "symmetric");
			if (json_is_null(v) && strcmp(sym, "asymmetric"))
				sym = "unknown";
			else if (json_is_false(v))
				sym = "asymmetric";
		}
		/* "unknown" when the monitor is blind to a router; a view a router
		 * does not export is listed under "unknown" but is not blindness */
		bool unknown = false;
		char why[200];
		for (size_t i = 0; i < s->n_routers; i++)
			unknown |= rules_router_blind(s, a->rib, s->routers[i], why, sizeof why) != NULL;
		char t1[PW_TIMESTRLEN], t2[PW_TIMESTRLEN];
		int64_t last = a->last_drill[si];
		int64_t due = (last > a->first_seen[si] ? last : a->first_seen[si]) + s->drill_period_ms * 1000;
		pw_time_format(last, t1, sizeof t1);
		pw_time_format(due, t2, sizeof t2);
		json_t *sj = json_pack("{s:s,s:s?,s:s,s:o,s:o,s:s,s:i,s:s?,s:s}", "name", s->name, "description",
				       s->description, "health",
				       crit ? "critical" : firing ? "degraded" : unknown ? "unknown" : "ok", "paths", paths,
				       "best_paths", best, "symmetry", sym, "alerts_firing", firing, "last_failover",
				       last ? t1 : NULL, "next_drill_due", t2);
		json_t *unk = json_array();
		for (size_t i = first; i < a->f.n; i++) {
			const struct finding *f = &a->f.v[i];
			bool dup = false; /* one line per rule, router and reason */
			for (size_t j = first; j < i && !dup; j++)
				dup = a->f.v[j].verdict == VERDICT_UNKNOWN && a->f.v[j].rule == f->rule &&
				      !strcmp(a->f.v[j].router, f->router) && !strcmp(a->f.v[j].reason, f->reason);
			if (f->verdict == VERDICT_UNKNOWN && !dup)
				json_array_append_new(unk, json_pack("{s:s,s:s,s:s}", "rule", rule_name(f->rule), "router",
								     f->router, "reason", f->reason));
		}
		json_object_set_new(sj, "unknown", unk);
		json_array_append_new(sites, sj);
	}
	/* notifications due without a transition: triggers held back by a
	 * silence that has ended, repeats while an alert keeps firing */
	for (size_t i = 0; a->notify && i < a->n; i++) {
		struct alert *x = a->v[i];
		if (x->state != A_FIRING)
			continue;
		struct notify_alert na;
		notify_view(a, x, &na);
		const char *ev = notify_due(a->notify, &na, silenced_by(a, x, now) != 0, now);
		if (ev)
			commit(a, x, now, NULL, ev, false);
	}
	/* silences: an alert's silence state follows the clock */
	for (size_t i = 0; i < a->n; i++) {
		struct alert *x = a->v[i];
		int64_t sb = x->state == A_RESOLVED ? 0 : silenced_by(a, x, now);
		if (sb != x->silenced_by) {
			x->silenced_by = sb;
			persist(a, x, now);
			announce(a, x); /* a silence started or ended */
		}
	}
	json_t *snap = json_pack("{s:o}", "sites", sites);
	if (a->listen) { /* "site" only when the picture changed */
		char *text = json_dumps(snap, JSON_COMPACT | JSON_SORT_KEYS);
		if (text && (!a->last_sites || strcmp(text, a->last_sites))) {
			a->listen(a->listen_ctx, "site", json_incref(snap));
			free(a->last_sites);
			a->last_sites = text;
		} else
			free(text);
	}
	pthread_mutex_lock(&a->snap_lock);
	json_decref(a->snapshot);
	a->snapshot = snap;
	pthread_mutex_unlock(&a->snap_lock);
}

json_t *alerts_sites_json(struct alerts *a)
{
	pthread_mutex_lock(&a->snap_lock);
	json_t *j = a->snapshot ? json_incref(a->snapshot) : json_pack("{s:[]}", "sites");
	pthread_mutex_unlock(&a->snap_lock);
	return j;
}

/* ---------------------------------------------------------------- commands */

int alerts_ack(struct alerts *a, int64_t id, const char *by, const char *comment, int64_t now, char *err, size_t n)
{
	for (size_t i = 0; i < a->n; i++) {
		struct alert *x = a->v[i];
		if (x->id != id)
			continue;
		if (x->state == A_RESOLVED) {
			snprintf(err, n, "alert %lld is resolved; nothing to acknowledge", (long long)id);
			return 409;
		}
		free(x->ack_by), free(x->ack_comment);
		x->ack_by = pw_strdup(by);
		x->ack_comment = comment ? pw_strdup(comment) : NULL;
		x->ack_at = now;
		struct store_param p[] = { SP_I(x->id), SP_I(now), SP_T(state_names[x->state]), SP_T(state_names[x->state]),
					   SP_T("acknowledged") };
		commit(a, x, now, p, "acknowledge", true);
		announce(a, x);
		PW_INFO("msg=\"alert acknowledged\" id=%lld by=\"%s\"", (long long)id, by);
		return 0;
	}
	snprintf(err, n, "no alert with id %lld", (long long)id);
	return 404;
}

static const char *const matcher_keys[5] = { "rule", "site", "router", "peer", "prefix" };

int alerts_silence_add(struct alerts *a, json_t *matchers, int64_t starts, int64_t ends, const char *by,
		       const char *comment, int64_t now, int64_t *id, char *err, size_t n)
{
	struct silence s = { 0 };
	if (!json_is_object(matchers) || json_object_size(matchers) == 0) {
		snprintf(err, n, "matchers: an object with at least one of rule, site, router, peer, prefix");
		return 400;
	}
	const char *key;
	json_t *val;
	json_object_foreach(matchers, key, val)
	{
		int k = -1;
		for (int i = 0; i < 5; i++)
			if (!strcmp(key, matcher_keys[i]))
				k = i;
		if (k < 0 || !json_is_string(val)) {
			snprintf(err, n, "matchers.%s: unknown matcher or not a string", key);
			return 400;
		}
		enum rule_id r;
		if (k == 0 && rule_parse(json_string_value(val), &r)) {
			snprintf(err, n, "matchers.rule: no rule named \"%s\"", json_string_value(val));
			return 400;
		}
	}
	if (ends <= starts || ends <= now) {
		snprintf(err, n, "ends must be after starts and in the future");
		return 400;
	}
	for (int i = 0; i < 5; i++) {
		json_t *v = json_object_get(matchers, matcher_keys[i]);
		s.m[i] = v ? pw_strdup(json_string_value(v)) : NULL;
	}
	s.id = a->next_silence_id++;
	s.starts = starts;
	s.ends = ends;
	a->sil = pw_realloc(a->sil, (a->n_sil + 1) * sizeof *a->sil);
	a->sil[a->n_sil++] = s;
	char *m = json_dumps(matchers, JSON_COMPACT | JSON_SORT_KEYS);
	struct store_param p[] = { SP_I(s.id), SP_T(m), SP_I(starts), SP_I(ends), SP_T(by), SP_T(comment), SP_I(now) };
	store_exec(a->store,
		   "INSERT INTO silences (id, matchers, starts, ends, created_by, comment, created) VALUES (?1,?2,?3,?4,?5,?6,?7)",
		   p, 7);
	PW_INFO("msg=\"silence added\" id=%lld matchers=%s by=\"%s\"", (long long)s.id, m, by);
	free(m);
	*id = s.id;
	return 0;
}

int alerts_silence_expire(struct alerts *a, int64_t id, int64_t now, char *err, size_t n)
{
	for (size_t i = 0; i < a->n_sil; i++)
		if (a->sil[i].id == id) {
			if (a->sil[i].ends > now)
				a->sil[i].ends = now;
			struct store_param p[] = { SP_I(id), SP_I(now) };
			store_exec(a->store, "UPDATE silences SET expired = ?2, ends = min(ends, ?2) WHERE id = ?1", p, 2);
			PW_INFO("msg=\"silence expired\" id=%lld", (long long)id);
			return 0;
		}
	snprintf(err, n, "no active silence with id %lld", (long long)id);
	return 404;
}

int alerts_notify_test(struct alerts *a, const char *receiver, int64_t now, int64_t *id, char *err, size_t n)
{
	if (!a->notify || !notify_configured(a->notify, receiver)) {
		snprintf(err, n, "no receiver named \"%s\"", receiver);
		return 404;
	}
	struct outbox_row row;
	int rc = notify_test(a->notify, receiver, now, &row);
	if (rc) {
		snprintf(err, n, "no receiver named \"%s\"", receiver);
		return rc;
	}
	struct store_param p[10];
	outbox_row_params(&row, p);
	store_exec(a->store, NOTIFY_INSERT_SQL, p, 10);
	*id = row.id;
	notify_dispatch(a->notify, &row, 1);
	return 0;
}

int alerts_drill_add(struct alerts *a, const char *site, int64_t duration, const char *by, const char *comment,
		     int64_t now, int64_t *id, char *err, size_t n)
{
	int si = site_index(a, site);
	if (si < 0) {
		snprintf(err, n, "no site named \"%s\"", site);
		return 404;
	}
	if (duration <= 0 || duration > 7LL * 86400 * 1000000) {
		snprintf(err, n, "duration must be between 1 second and 7 days");
		return 400;
	}
	struct drill d = { a->next_drill_id++, (size_t)si, now, now + duration };
	a->drills = pw_realloc(a->drills, (a->n_drills + 1) * sizeof *a->drills);
	a->drills[a->n_drills++] = d;
	if (now > a->last_drill[si])
		a->last_drill[si] = now;
	struct store_param p[] = { SP_I(d.id), SP_T(site), SP_I(d.started), SP_I(d.ends), SP_T(by), SP_T(comment) };
	store_exec(a->store, "INSERT INTO drills (id, site, started, ends, declared_by, comment) VALUES (?1,?2,?3,?4,?5,?6)", p,
		   6);
	PW_INFO("msg=\"drill declared\" id=%lld site=%s by=\"%s\"", (long long)d.id, site, by);
	*id = d.id;
	return 0;
}

/* ------------------------------------------------------------------- load */

static char *col(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? pw_strdup(t) : NULL;
}

int alerts_load(struct alerts *a, sqlite3 *db, char *err, size_t n)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, rule, site, router, peer, prefix, state, since, started, firing_since, resolved_at,"
			       " flaps, summary, evidence, unknown_reason, ack_by, ack_at, ack_comment, silenced_by, identity"
			       " FROM alerts",
			       -1, &s, NULL))
		goto fail;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		if (id >= a->next_alert_id)
			a->next_alert_id = id + 1;
		enum rule_id r;
		int si = site_index(a, (const char *)sqlite3_column_text(s, 2));
		if (rule_parse((const char *)sqlite3_column_text(s, 1), &r) || si < 0)
			continue; /* a site removed from the configuration: its alerts stay in history */
		struct alert *x = pw_calloc(1, sizeof *x);
		x->id = id;
		x->rule = r;
		x->site = (size_t)si;
		x->router = col(s, 3), x->peer = col(s, 4), x->prefix = col(s, 5);
		const char *st = (const char *)sqlite3_column_text(s, 6);
		x->state = !strcmp(st, "pending") ? A_PENDING : !strcmp(st, "firing") ? A_FIRING : A_RESOLVED;
		x->since = sqlite3_column_int64(s, 7);
		x->started = sqlite3_column_int64(s, 8);
		x->firing_since = sqlite3_column_int64(s, 9);
		x->resolved_at = sqlite3_column_int64(s, 10);
		x->flaps = sqlite3_column_int64(s, 11);
		x->summary = col(s, 12), x->evidence = col(s, 13), x->unknown_reason = col(s, 14);
		x->ack_by = col(s, 15);
		x->ack_at = sqlite3_column_int64(s, 16);
		x->ack_comment = col(s, 17);
		x->silenced_by = sqlite3_column_int64(s, 18);
		x->identity = col(s, 19);
		if (a->n == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 64;
			a->v = pw_realloc(a->v, a->cap * sizeof *a->v);
		}
		a->v[a->n++] = x;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT id, matchers, starts, ends FROM silences", -1, &s, NULL))
		goto fail;
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct silence x = { .id = sqlite3_column_int64(s, 0), .starts = sqlite3_column_int64(s, 2),
				     .ends = sqlite3_column_int64(s, 3) };
		if (x.id >= a->next_silence_id)
			a->next_silence_id = x.id + 1;
		json_t *m = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL);
		for (int k = 0; k < 5; k++) {
			json_t *v = json_object_get(m, matcher_keys[k]);
			x.m[k] = json_is_string(v) ? pw_strdup(json_string_value(v)) : NULL;
		}
		json_decref(m);
		a->sil = pw_realloc(a->sil, (a->n_sil + 1) * sizeof *a->sil);
		a->sil[a->n_sil++] = x;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT id, site, started, ends FROM drills", -1, &s, NULL))
		goto fail;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		if (id >= a->next_drill_id)
			a->next_drill_id = id + 1;
		int si = site_index(a, (const char *)sqlite3_column_text(s, 1));
		if (si < 0)
			continue;
		struct drill d = { id, (size_t)si, sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3) };
		if (d.started > a->last_drill[si])
			a->last_drill[si] = d.started;
		a->drills = pw_realloc(a->drills, (a->n_drills + 1) * sizeof *a->drills);
		a->drills[a->n_drills++] = d;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT site, first_seen FROM site_state", -1, &s, NULL))
		goto fail;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int si = site_index(a, (const char *)sqlite3_column_text(s, 0));
		if (si >= 0)
			a->first_seen[si] = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	/* failovers: the id sequence, the last one per site, and per prefix
	 * whether the last failover was slow (the finding persists) */
	if (sqlite3_prepare_v2(db, "SELECT id, site, prefix, kind, started, converged, duration_ms FROM failovers ORDER BY id",
			       -1, &s, NULL))
		goto fail;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		if (id >= a->next_failover_id)
			a->next_failover_id = id + 1;
		int si = site_index(a, (const char *)sqlite3_column_text(s, 1));
		if (si < 0 || strcmp((const char *)sqlite3_column_text(s, 3), "failover"))
			continue;
		int64_t started = sqlite3_column_int64(s, 4);
		if (started > a->last_drill[si])
			a->last_drill[si] = started;
		const struct site *st = &a->sites[si];
		struct pw_prefix pfx;
		const char *why;
		if (pw_prefix_parse((const char *)sqlite3_column_text(s, 2), &pfx, &why))
			continue;
		for (size_t k = 0; k < st->n_azure; k++)
			if (!memcmp(&st->azure[k], &pfx, sizeof pfx)) {
				struct tracker *t = &a->track[si][k];
				bool never = sqlite3_column_type(s, 5) == SQLITE_NULL;
				int64_t ms = sqlite3_column_int64(s, 6);
				t->slow = never || ms > st->failover_ms;
				json_decref(t->slow_evidence);
				t->slow_evidence = t->slow ? json_pack("{s:I,s:b}", "failover_id", (json_int_t)id, "converged", !never) : NULL;
				snprintf(t->slow_summary, sizeof t->slow_summary, "the last failover of %s %s",
					 sqlite3_column_text(s, 2), never ? "never converged to the VPN" : "was slower than the threshold");
			}
	}
	sqlite3_finalize(s);
	return 0;
fail:
	snprintf(err, n, "loading alerts: %s", sqlite3_errmsg(db));
	return -1;
}
