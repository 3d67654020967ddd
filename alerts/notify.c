/*
 * notify: routing alert events to receivers and writing outbox rows (loop
 * side of stage ⑥b). See notify.h.
 */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/log.h"
#include "common/prefix.h"

#include <sqlite3.h>

static const char *const format_names[] = { "generic", "alertmanager", "pagerduty", "slack" };
const char *notify_format_name(enum notify_format f) { return format_names[f]; }
int notify_format_parse(const char *s, enum notify_format *f)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, format_names[i])) {
			*f = (enum notify_format)i;
			return 0;
		}
	return -1;
}

void notify_conf_free(struct notify_conf *c)
{
	for (size_t i = 0; i < c->n_receivers; i++) {
		free(c->receivers[i].name);
		free(c->receivers[i].url);
		free(c->receivers[i].secret);
	}
	free(c->receivers);
	for (size_t i = 0; i < c->n_routes; i++) {
		free(c->routes[i].receiver);
		free(c->routes[i].site);
		free(c->routes[i].rule);
	}
	free(c->routes);
	memset(c, 0, sizeof *c);
}

const char NOTIFY_INSERT_SQL[] =
	"INSERT INTO notifications (id, receiver, group_key, alert_id, event, alert, dedup_key, created, not_before,"
	" state, next_attempt) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,'pending',?10)";

void outbox_row_params(const struct outbox_row *r, struct store_param p[10])
{
	p[0] = SP_I(r->id);
	p[1] = SP_T(r->receiver);
	p[2] = SP_T(r->group_key);
	p[3] = SP_TIME(r->alert_id);
	p[4] = SP_T(r->event);
	p[5] = SP_T(r->alert_json);
	p[6] = SP_T(r->dedup_key);
	p[7] = SP_I(r->created);
	p[8] = SP_I(r->not_before);
	p[9] = SP_I(r->not_before);
}

void outbox_row_free(struct outbox_row *r)
{
	free(r->receiver), free(r->group_key), free(r->event), free(r->alert_json), free(r->dedup_key);
	memset(r, 0, sizeof *r);
}

/* Per alert and route: whether a trigger went out, when it last did. */
struct sent {
	int64_t alert_id;
	size_t route;
	bool triggered;
	int64_t last;
};

/* An open trigger group: rows joining it go out at its deadline. */
struct group {
	char key[300];
	int64_t deadline;
};

struct notify {
	const struct notify_conf *c;
	struct group *groups;
	size_t n_groups, cap_groups;
	struct deliver *d;
	int64_t next_id;
	struct sent *sent;
	size_t n_sent, cap_sent;
};

struct notify *notify_new(const struct notify_conf *c, struct deliver *d)
{
	struct notify *n = pw_calloc(1, sizeof *n);
	n->c = c;
	n->d = d;
	n->next_id = 1;
	return n;
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	free(n->groups);
	free(n->sent);
	free(n);
}

void notify_reconfigure(struct notify *n, const struct notify_conf *c) { n->c = c; }

void notify_set_next_id(struct notify *n, int64_t next)
{
	if (next > n->next_id)
		n->next_id = next;
}

bool notify_configured(const struct notify *n, const char *receiver)
{
	for (size_t i = 0; i < n->c->n_receivers; i++)
		if (!strcmp(n->c->receivers[i].name, receiver))
			return true;
	return false;
}

static const struct receiver_conf *receiver(const struct notify *n, const char *name)
{
	for (size_t i = 0; i < n->c->n_receivers; i++)
		if (!strcmp(n->c->receivers[i].name, name))
			return &n->c->receivers[i];
	return NULL;
}

static bool route_matches(const struct route_conf *r, const struct notify_alert *a)
{
	return (!r->site || !strcmp(r->site, a->site)) && (!r->rule || !strcmp(r->rule, a->rule)) &&
	       (r->severity < 0 || r->severity == a->sev);
}

static struct sent *sent_of(struct notify *n, int64_t alert, size_t route)
{
	for (size_t i = 0; i < n->n_sent; i++)
		if (n->sent[i].alert_id == alert && n->sent[i].route == route)
			return &n->sent[i];
	if (n->n_sent == n->cap_sent) {
		n->cap_sent = n->cap_sent ? n->cap_sent * 2 : 64;
		n->sent = pw_realloc(n->sent, n->cap_sent * sizeof *n->sent);
	}
	struct sent *s = &n->sent[n->n_sent++];
	memset(s, 0, sizeof *s);
	s->alert_id = alert;
	s->route = route;
	return s;
}

void notify_forget(struct notify *n, int64_t alert_id)
{
	for (size_t i = 0; i < n->n_sent;)
		if (n->sent[i].alert_id == alert_id)
			n->sent[i] = n->sent[--n->n_sent];
		else
			i++;
}

static json_t *alert_json(const struct notify_alert *a)
{
	char t[6][PW_TIMESTRLEN];
	int64_t times[6] = { a->since, a->started, a->firing_since, a->resolved_at, a->ack_at, 0 };
	for (int i = 0; i < 5; i++)
		pw_time_format(times[i], t[i], sizeof t[i]);
	json_t *ev = a->evidence ? json_loads(a->evidence, 0, NULL) : NULL;
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s?,s:o,s:s,s:s,s:s?,s:s?}", "id", (json_int_t)a->id,
			      "rule", a->rule, "state", a->state, "site", a->site, "router", a->router, "peer", a->peer,
			      "prefix", a->prefix, "severity", a->severity, "summary", a->summary, "evidence",
			      ev ? ev : json_null(), "since", t[0], "started", t[1], "firing_since",
			      a->firing_since ? t[2] : NULL, "resolved_at", a->resolved_at ? t[3] : NULL);
	if (!j)
		return json_pack("{s:I}", "id", (json_int_t)a->id);
	json_object_set_new(j, "acknowledged",
			    a->ack_by ? json_pack("{s:s,s:s,s:s?}", "by", a->ack_by, "at", t[4], "comment", a->ack_comment)
				      : json_null());
	return j;
}

/* group_wait: the first trigger of a group opens it; later ones join and
 * all go out together at the first one's deadline (like Alertmanager). */
static int64_t group_deadline(struct notify *n, const char *key, int64_t now, int64_t wait_ms)
{
	for (size_t i = 0; i < n->n_groups;)
		if (n->groups[i].deadline <= now)
			n->groups[i] = n->groups[--n->n_groups]; /* closed */
		else if (!strcmp(n->groups[i].key, key))
			return n->groups[i].deadline;
		else
			i++;
	if (n->n_groups == n->cap_groups) {
		n->cap_groups = n->cap_groups ? n->cap_groups * 2 : 16;
		n->groups = pw_realloc(n->groups, n->cap_groups * sizeof *n->groups);
	}
	struct group *g = &n->groups[n->n_groups++];
	snprintf(g->key, sizeof g->key, "%s", key);
	g->deadline = now + wait_ms * 1000;
	return g->deadline;
}

static void fill_row(struct notify *n, struct outbox_row *r, const char *recv, const char *group, int64_t alert_id,
		     const char *event, json_t *aj, const char *dedup, int64_t now, int64_t wait_ms)
{
	r->id = n->next_id++;
	r->receiver = pw_strdup(recv);
	r->group_key = pw_strdup(group);
	r->alert_id = alert_id;
	r->event = pw_strdup(event);
	r->alert_json = json_dumps(aj, JSON_COMPACT);
	r->dedup_key = pw_strdup(dedup);
	r->created = now;
	r->not_before = wait_ms > 0 ? group_deadline(n, group, now, wait_ms) : now;
}

int notify_event(struct notify *n, const struct notify_alert *a, const char *event, int64_t now,
		 struct outbox_row *rows, int max)
{
	int count = 0;
	json_t *aj = NULL;
	bool trigger = !strcmp(event, "trigger") || !strcmp(event, "repeat");
	for (size_t i = 0; i < n->c->n_routes && count < max; i++) {
		const struct route_conf *rt = &n->c->routes[i];
		if (!route_matches(rt, a))
			continue;
		const struct receiver_conf *rc = receiver(n, rt->receiver);
		struct sent *s = sent_of(n, a->id, i);
		bool send = rc != NULL;
		if (!strcmp(event, "resolve"))
			send &= s->triggered; /* never a resolve for what was never paged */
		if (!strcmp(event, "acknowledge"))
			send &= s->triggered && rc->format == NF_PAGERDUTY;
		if (send) {
			if (!aj)
				aj = alert_json(a);
			char group[300], dedup[600];
			/* triggers of one site and route wait together (group_wait);
			 * everything else goes on its own */
			if (!strcmp(event, "trigger"))
				snprintf(group, sizeof group, "%s/%s/trigger/%zu", rc->name, a->site, i);
			else
				snprintf(group, sizeof group, "%s/%s/%lld/%s/%lld", rc->name, a->site, (long long)a->id, event,
					 (long long)now);
			snprintf(dedup, sizeof dedup, "pathwatch/%s", a->identity);
			fill_row(n, &rows[count++], rc->name, group, a->id, event, aj, dedup, now,
				 !strcmp(event, "trigger") ? rt->group_wait_ms : 0);
			if (trigger) {
				s->triggered = true;
				s->last = now;
			}
		}
		if (!rt->cont)
			break;
	}
	json_decref(aj);
	return count;
}

const char *notify_due(struct notify *n, const struct notify_alert *a, bool silenced, int64_t now)
{
	if (silenced)
		return NULL;
	for (size_t i = 0; i < n->c->n_routes; i++) {
		const struct route_conf *rt = &n->c->routes[i];
		if (!route_matches(rt, a))
			continue;
		struct sent *s = sent_of(n, a->id, i);
		if (!s->triggered)
			return "trigger"; /* held back by a silence that has ended */
		if (rt->repeat_ms > 0 && now - s->last >= rt->repeat_ms * 1000)
			return "repeat";
		if (!rt->cont)
			break;
	}
	return NULL;
}

void notify_dispatch(struct notify *n, struct outbox_row *rows, int count)
{
	for (int i = 0; i < count; i++)
		deliver_push(n->d, &rows[i]);
}

int notify_load(struct notify *n, struct sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db,
			       "SELECT alert_id, receiver, max(created) FROM notifications WHERE alert_id IS NOT NULL"
			       " AND event IN ('trigger', 'repeat') GROUP BY alert_id, receiver",
			       -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "loading notifications: %s", sqlite3_errmsg(db));
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *recv = (const char *)sqlite3_column_text(s, 1);
		for (size_t i = 0; i < n->c->n_routes; i++)
			if (!strcmp(n->c->routes[i].receiver, recv)) {
				struct sent *st = sent_of(n, sqlite3_column_int64(s, 0), i);
				st->triggered = true;
				st->last = sqlite3_column_int64(s, 2);
			}
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT max(id) FROM notifications", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		notify_set_next_id(n, sqlite3_column_int64(s, 0) + 1);
	sqlite3_finalize(s);
	return 0;
}

int notify_test(struct notify *n, const char *receiver_name, int64_t now, struct outbox_row *row)
{
	const struct receiver_conf *rc = receiver(n, receiver_name);
	if (!rc)
		return 404;
	char group[200], dedup[200];
	snprintf(group, sizeof group, "%s/test/%lld", rc->name, (long long)n->next_id);
	snprintf(dedup, sizeof dedup, "pathwatch/test/%lld", (long long)n->next_id);
	json_t *aj = json_pack("{s:s,s:s,s:s,s:s,s:s}", "rule", "test", "state", "firing", "site", "-", "severity", "info",
			       "summary", "pathwatch test notification: the receiver is reachable");
	memset(row, 0, sizeof *row);
	fill_row(n, row, rc->name, group, 0, "test", aj, dedup, now, 0);
	json_decref(aj);
	return 0;
}
