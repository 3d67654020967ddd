/*
 * alerts: the alert lifecycle and the stateful checks (stage ⑥).
 *
 *   tick (loop thread, every second) --> rules_evaluate + failover tracking
 *   + drill-overdue --> findings --> alerts: pending -> firing -> resolved
 *   (per-rule `for` and `hold`), flap count, acknowledgements, silences,
 *   drills --> store_exec (SQLite, same writer queue as the RIB)
 *                                   --> /sites snapshot (JSON, for HTTP)
 *
 * An alert's identity is (rule, site, router, peer, prefix). A rule that
 * answers UNKNOWN for an alert's scope leaves the alert as it is (with the
 * reason), never resolved: a blind monitor does not report recovery.
 * State survives restarts: alerts, silences, drills and the last failovers
 * are loaded back from SQLite before the loop starts.
 *
 * Threading: loop thread only, except alerts_sites_json (any thread: copies
 * the last snapshot under a mutex). HTTP write requests reach the alerts
 * through the loop (loopcall.h), never directly.
 */
#ifndef PW_ALERTS_H
#define PW_ALERTS_H

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "rib.h"
#include "site.h"
#include "store.h"

struct alerts;

struct notify;
struct deliver;
/* `sites` stay owned by the caller and must outlive the alerts; notify and
 * deliver may be NULL (no receivers configured). */
struct alerts *alerts_new(struct rib *rib, struct store *st, const struct site *sites, size_t n_sites,
			  struct notify *notify, struct deliver *deliver);
void alerts_free(struct alerts *a);
/* A new site list (SIGHUP; loop thread). Sites are matched by name: a kept
 * site keeps its alerts, failover trackers (per Azure prefix), first-seen
 * time and drills; a removed site's alerts are dropped from memory and stay
 * in SQLite as they were. `sites` must outlive the alerts, like the first. */
void alerts_reconfigure(struct alerts *a, const struct site *sites, size_t n_sites);
/* Restores alerts, silences, drills and failover memory; before store_start. */
int alerts_load(struct alerts *a, sqlite3 *db, char *err, size_t n);
/* Live events for the dashboard (loop thread): "alert" on every transition
 * or acknowledgement, "site" when a site's picture changes. `data` is
 * stolen by the listener. */
typedef void (*alerts_listener_fn)(void *ctx, const char *event, json_t *data);
void alerts_set_listener(struct alerts *a, alerts_listener_fn fn, void *ctx);
/* Evaluates every site and moves alerts along their lifecycle. */
void alerts_tick(struct alerts *a, int64_t now_us);
/* True when a site names this router: a change on it can change a rule's
 * outcome, so the loop runs alerts_tick soon rather than at the next second. */
bool alerts_watches(const struct alerts *a, const char *router);
/* The last /api/v1/sites answer (new reference; any thread). */
json_t *alerts_sites_json(struct alerts *a);

/* Commands (loop thread). Each returns 0, or an HTTP status with err set. */
int alerts_ack(struct alerts *a, int64_t id, const char *by, const char *comment, int64_t now_us, char *err, size_t n);
int alerts_silence_add(struct alerts *a, json_t *matchers, int64_t starts_us, int64_t ends_us, const char *by,
		       const char *comment, int64_t now_us, int64_t *id, char *err, size_t n);
int alerts_silence_expire(struct alerts *a, int64_t id, int64_t now_us, char *err, size_t n);
/* A test notification to a receiver: 0 and *id, or 404. */
int alerts_notify_test(struct alerts *a, const char *receiver, int64_t now_us, int64_t *id, char *err, size_t n);
int alerts_drill_add(struct alerts *a, const char *site, int64_t duration_us, const char *by, const char *comment,
		     int64_t now_us, int64_t *id, char *err, size_t n);

#endif
