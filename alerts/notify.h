/*
 * notify: pager delivery (stage ⑥b).
 *
 *   alert transition (loop) --[notify_event: routing]--> outbox rows, queued
 *   in ONE store transaction with the transition --> SQLite
 *                          \--> deliver_push --> delivery thread (libcurl
 *   multi, one request in flight per receiver, order per alert kept,
 *   retries with back-off and jitter, Retry-After) --> receiver
 *                                                  \--> results via store_exec
 *
 * At least once: a row is in SQLite before its delivery can be recorded,
 * the delivery thread reloads undelivered rows at start-up, and a restart
 * that lost an uncommitted transition also lost its rows (the rule fires
 * again). The dedup key (stable per alert and receiver) lets the receiver
 * drop the duplicates a restart can cause. Secrets (routing keys, HMAC
 * secrets, webhook URLs) are never logged or served by the API.
 */
#ifndef PW_NOTIFY_H
#define PW_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "site.h"
#include "store.h"

enum notify_format { NF_GENERIC, NF_ALERTMANAGER, NF_PAGERDUTY, NF_SLACK };
const char *notify_format_name(enum notify_format f);
int notify_format_parse(const char *s, enum notify_format *f);

struct receiver_conf {
	char *name;
	enum notify_format format;
	char *url;          /* secret for Slack-style webhooks: never logged */
	char *secret;       /* generic: HMAC-SHA256 key; pagerduty: routing key */
	int64_t timeout_ms;
};

/* Alertmanager-like routing: the first route that matches takes the alert;
 * with `continue` the next matching routes take it too. */
struct route_conf {
	char *receiver;
	char *site, *rule;  /* NULL: any */
	int severity;       /* enum severity, or -1: any */
	bool cont;
	int64_t group_wait_ms, repeat_ms;
};

struct notify_conf {
	struct receiver_conf *receivers;
	size_t n_receivers;
	struct route_conf *routes;
	size_t n_routes;
};
void notify_conf_free(struct notify_conf *c);

/* The alert as a notification carries it. */
struct notify_alert {
	int64_t id;
	const char *identity, *rule, *site, *router, *peer, *prefix, *severity, *state, *summary, *evidence;
	int64_t since, started, firing_since, resolved_at, ack_at;
	const char *ack_by, *ack_comment;
	int sev;            /* enum severity */
};

struct deliver;
struct notify;

/* One outbox row (one alert event for one receiver). */
struct outbox_row {
	int64_t id, alert_id, created, not_before;
	char *receiver, *group_key, *event, *alert_json, *dedup_key;
};
void outbox_row_free(struct outbox_row *r);
/* The INSERT for a row: its SQL and 10 parameters (pointing into r). */
extern const char NOTIFY_INSERT_SQL[];
void outbox_row_params(const struct outbox_row *r, struct store_param p[10]);

/* Loop side. */
struct notify *notify_new(const struct notify_conf *c, struct deliver *d);
void notify_free(struct notify *n);
/* New receivers and routes (SIGHUP; loop thread); `c` must outlive n. */
void notify_reconfigure(struct notify *n, const struct notify_conf *c);
void notify_set_next_id(struct notify *n, int64_t next);
/* Restores which alerts were already paged (no second page after a restart). */
int notify_load(struct notify *n, struct sqlite3 *db, char *err, size_t errlen);
/* An alert event ("trigger", "resolve", "acknowledge", "repeat"): fills up
 * to max rows, one per receiver the routes give, and returns the count. The
 * caller queues their INSERTs in the same store group as the transition,
 * then hands the rows to notify_dispatch. */
int notify_event(struct notify *n, const struct notify_alert *a, const char *event, int64_t now,
		 struct outbox_row *rows, int max);
/* Gives rows to the delivery thread (taking them over). */
void notify_dispatch(struct notify *n, struct outbox_row *rows, int count);
/* The event a firing alert is due now: a trigger held back by a silence,
 * or a repeat after the route's repeat interval; NULL if none. */
const char *notify_due(struct notify *n, const struct notify_alert *a, bool silenced, int64_t now);
/* Forget an alert's notification state (it resolved). */
void notify_forget(struct notify *n, int64_t alert_id);
bool notify_configured(const struct notify *n, const char *receiver);
/* Fills a test notification row for a receiver: 0, or 404. */
int notify_test(struct notify *n, const char *receiver, int64_t now, struct outbox_row *row);

/* Delivery thread. */
struct deliver *deliver_new(const struct notify_conf *c, struct store *st);
/* Starts the thread (after deliver_load). */
int deliver_start(struct deliver *d, char *err, size_t n);
/* Takes over a row (from the loop thread). */
void deliver_push(struct deliver *d, struct outbox_row *row);
/* Loads undelivered rows from SQLite (before the loop starts). Returns the
 * highest notification id seen, or -1 on error. */
int64_t deliver_load(struct deliver *d, struct sqlite3 *db, char *err, size_t n);
void deliver_stop(struct deliver *d);
/* New receivers (SIGHUP; loop thread): the delivery thread takes them at its
 * next turn, keeping each kept receiver's queue and request in flight;
 * rows for a removed receiver stay pending in SQLite. `c` must outlive d. */
void deliver_reconfigure(struct deliver *d, const struct notify_conf *c);
/* Receivers that lost a notification for good (4xx) in the last hour: name, error. */
size_t deliver_failures(struct deliver *d, char names[][64], char errors[][160], size_t max);

#endif
