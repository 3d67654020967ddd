/*
 * deliver: the delivery thread (stage ⑥b). It owns libcurl (multi
 * interface, its own thread so a slow or dead pager never slows the loop)
 * and the in-memory list of undelivered outbox rows.
 *
 * Per receiver, one request is in flight at a time and rows go in id order,
 * so an alert's resolve can never overtake its trigger. Rows due together
 * with the same group key go in one request (formats that group). Results:
 * 2xx delivered; network errors, timeouts, 5xx and 429 retried with
 * exponential back-off and jitter (Retry-After honoured); any other 4xx is
 * failed for good and reported (notify-failed). Every result is written
 * back through store_exec.
 */
#include <curl/curl.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/log.h"
#include "common/mono.h"
#include "common/prefix.h"
#include "notify.h"

enum { BACKOFF_BASE_MS = 1000, BACKOFF_MAX_MS = 300000, MAX_GROUP = 64 };
/* a notification lost for good keeps notify-failed firing this long */
#define FAILED_ALERT_US (3600LL * 1000000)

struct pending {
	struct outbox_row row;
	int attempts;
	int64_t next_attempt;
	bool in_flight;
	struct pending *next;
};

struct rstate {
	const struct receiver_conf *rc;
	struct pending *head;   /* undelivered rows, id order */
	CURL *easy;             /* the request in flight, or NULL */
	struct curl_slist *headers;
	char *body;
	struct pending *batch[MAX_GROUP];
	int n_batch;
	long status;
	char retry_after[64];
	int64_t failed_at;      /* last permanent failure (a notification lost for good) */
	char last_error[160];
};

struct deliver {
	const struct notify_conf *c;
	struct store *store;
	struct rstate *r;
	size_t n;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	struct pending *inbox;  /* guarded by lock: pushed by the loop */
	const struct notify_conf *next_conf; /* guarded by lock: a reload to take */
	bool stop;              /* guarded by lock */
	CURLM *multi;
};

struct deliver *deliver_new(const struct notify_conf *c, struct store *st)
{
	struct deliver *d = pw_calloc(1, sizeof *d);
	d->c = c;
	d->store = st;
	d->n = c->n_receivers;
	d->r = pw_calloc(d->n ? d->n : 1, sizeof *d->r);
	for (size_t i = 0; i < d->n; i++)
		d->r[i].rc = &c->receivers[i];
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

static struct rstate *rstate_of(struct deliver *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->r[i].rc && !strcmp(d->r[i].rc->name, name)) /* rc NULL: moved by take_conf */
			return &d->r[i];
	return NULL;
}

static void append(struct rstate *r, struct pending *p)
{
	struct pending **pp = &r->head;
	while (*pp && (*pp)->row.id < p->row.id)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
}

void deliver_push(struct deliver *d, struct outbox_row *row)
{
	struct pending *p = pw_calloc(1, sizeof *p);
	p->row = *row;
	memset(row, 0, sizeof *row);
	p->next_attempt = p->row.not_before;
	pthread_mutex_lock(&d->lock);
	p->next = d->inbox;
	d->inbox = p;
	pthread_mutex_unlock(&d->lock);
	if (d->multi)
		curl_multi_wakeup(d->multi);
}

int64_t deliver_load(struct deliver *d, sqlite3 *db, char *err, size_t n)
{
	sqlite3_stmt *s;
	int64_t max = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, receiver, group_key, alert_id, event, alert, dedup_key, created, not_before, attempts,"
			       " next_attempt FROM notifications WHERE state = 'pending' ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, n, "loading the outbox: %s", sqlite3_errmsg(db));
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct rstate *r = rstate_of(d, (const char *)sqlite3_column_text(s, 1));
		int64_t id = sqlite3_column_int64(s, 0);
		if (id > max)
			max = id;
		if (!r) {
			PW_WARN("msg=\"undelivered notification for a receiver no longer configured\" id=%lld receiver=%s",
				(long long)id, sqlite3_column_text(s, 1));
			continue;
		}
		struct pending *p = pw_calloc(1, sizeof *p);
		p->row.id = id;
		p->row.receiver = pw_strdup((const char *)sqlite3_column_text(s, 1));
		p->row.group_key = pw_strdup((const char *)sqlite3_column_text(s, 2));
		p->row.alert_id = sqlite3_column_int64(s, 3);
		p->row.event = pw_strdup((const char *)sqlite3_column_text(s, 4));
		p->row.alert_json = pw_strdup((const char *)sqlite3_column_text(s, 5));
		p->row.dedup_key = pw_strdup((const char *)sqlite3_column_text(s, 6));
		p->row.created = sqlite3_column_int64(s, 7);
		p->row.not_before = sqlite3_column_int64(s, 8);
		p->attempts = sqlite3_column_int(s, 9);
		p->next_attempt = sqlite3_column_int64(s, 10);
		append(r, p);
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT max(id) FROM notifications", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > max)
		max = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return max;
}

/* ---------------------------------------------------------------- payloads */

static json_t *row_alert(const struct pending *p)
{
	json_t *a = json_loads(p->row.alert_json, 0, NULL);
	return a ? a : json_object();
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *payload(struct rstate *r, int64_t now)
{
	const struct receiver_conf *rc = r->rc;
	char sent[PW_TIMESTRLEN];
	pw_time_format(now, sent, sizeof sent);
	struct pending *first = r->batch[0];
	bool resolved = !strcmp(first->row.event, "resolve");
	json_t *out;
	switch (rc->format) {
	case NF_PAGERDUTY: { /* Events API v2: one event per alert */
		json_t *a = row_alert(first);
		const char *sev = jstr(a, "severity");
		const char *action = resolved ? "resolve" : !strcmp(first->row.event, "acknowledge") ? "acknowledge" : "trigger";
		const char *src = jstr(a, "router") ? jstr(a, "router") : jstr(a, "site");
		out = json_pack("{s:s?,s:s,s:s}", "routing_key", rc->secret, "event_action", action, "dedup_key",
				first->row.dedup_key);
		if (!strcmp(action, "trigger")) {
			char summary[1024];
			snprintf(summary, sizeof summary, "[%s] %s", jstr(a, "site") ? jstr(a, "site") : "?",
				 jstr(a, "summary") ? jstr(a, "summary") : jstr(a, "rule") ? jstr(a, "rule") : "pathwatch alert");
			json_object_set_new(out, "payload",
					    json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s?,s:O}", "summary", summary, "source",
						      src ? src : "pathwatch", "severity",
						      sev && (!strcmp(sev, "critical") || !strcmp(sev, "warning") ||
							      !strcmp(sev, "info")) ? sev : "error",
						      "component", jstr(a, "peer"), "group", jstr(a, "site"), "class",
						      jstr(a, "rule"), "custom_details", a));
			json_object_set_new(out, "client", json_string("pathwatch"));
		}
		json_decref(a);
		break;
	}
	case NF_ALERTMANAGER: { /* webhook payload version 4 */
		json_t *alerts = json_array();
		for (int i = 0; i < r->n_batch; i++) {
			json_t *a = row_alert(r->batch[i]);
			bool res = !strcmp(r->batch[i]->row.event, "resolve");
			json_t *labels = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?}", "alertname", jstr(a, "rule"), "site",
						   jstr(a, "site"), "router", jstr(a, "router"), "peer", jstr(a, "peer"),
						   "prefix", jstr(a, "prefix"), "severity", jstr(a, "severity"));
			char *ev = json_dumps(json_object_get(a, "evidence"), JSON_COMPACT | JSON_ENCODE_ANY);
			unsigned char fp[32];
			unsigned int fl = 0;
			HMAC(EVP_sha256(), "pathwatch", 9, (const unsigned char *)r->batch[i]->row.dedup_key,
			     strlen(r->batch[i]->row.dedup_key), fp, &fl);
			char fps[17];
			for (int k = 0; k < 8; k++)
				snprintf(fps + 2 * k, 3, "%02x", fp[k]);
			json_array_append_new(alerts, json_pack("{s:s,s:o,s:{s:s?,s:s?},s:s?,s:s,s:s,s:s}", "status",
								res ? "resolved" : "firing", "labels", labels, "annotations",
								"summary", jstr(a, "summary"), "evidence", ev, "startsAt",
								jstr(a, "firing_since") ? jstr(a, "firing_since") : jstr(a, "started"),
								"endsAt",
								res && jstr(a, "resolved_at") ? jstr(a, "resolved_at")
											     : "0001-01-01T00:00:00Z",
								"generatorURL", "", "fingerprint", fps));
			free(ev);
			json_decref(a);
		}
		json_t *a0 = row_alert(first);
		out = json_pack("{s:s,s:s,s:i,s:s,s:s,s:{s:s?},s:{},s:{},s:s,s:o}", "version", "4", "groupKey",
				first->row.group_key, "truncatedAlerts", 0, "status", resolved ? "resolved" : "firing",
				"receiver", rc->name, "groupLabels", "site", jstr(a0, "site"), "commonLabels",
				"commonAnnotations", "externalURL", "", "alerts", alerts);
		json_decref(a0);
		break;
	}
	case NF_SLACK: {
		char text[4096];
		size_t k = 0;
		for (int i = 0; i < r->n_batch && k < sizeof text - 200; i++) {
			json_t *a = row_alert(r->batch[i]);
			const char *ev = r->batch[i]->row.event;
			k += (size_t)snprintf(text + k, sizeof text - k, "%s*%s* [%s] %s: %s", i ? "\n" : "",
					      !strcmp(ev, "resolve") ? "RESOLVED" : !strcmp(ev, "test") ? "TEST" : "FIRING",
					      jstr(a, "severity") ? jstr(a, "severity") : "-", jstr(a, "site") ? jstr(a, "site") : "-",
					      jstr(a, "summary") ? jstr(a, "summary") : "");
			json_decref(a);
		}
		out = json_pack("{s:s,s:s}", "text", text, "username", "pathwatch");
		break;
	}
	default: { /* generic, documented in docs/NOTIFICATIONS.md */
		json_t *alerts = json_array();
		for (int i = 0; i < r->n_batch; i++) {
			json_t *a = row_alert(r->batch[i]);
			json_object_set_new(a, "event", json_string(r->batch[i]->row.event));
			json_object_set_new(a, "dedup_key", json_string(r->batch[i]->row.dedup_key));
			json_object_set_new(a, "notification_id", json_integer(r->batch[i]->row.id));
			json_array_append_new(alerts, a);
		}
		out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "version", "1", "receiver", rc->name, "group_key",
				first->row.group_key, "status",
				resolved ? "resolved" : !strcmp(first->row.event, "test") ? "test" : "firing", "sent_at", sent,
				"alerts", alerts);
		break;
	}
	}
	char *body = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return body;
}

/* ----------------------------------------------------------------- sending */

static size_t discard_cb(char *p, size_t sz, size_t n, void *u) { (void)p, (void)u; return sz * n; }

static size_t header_cb(char *p, size_t sz, size_t n, void *u)
{
	struct rstate *r = u;
	size_t len = sz * n;
	if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		size_t k = 12;
		while (k < len && p[k] == ' ')
			k++;
		size_t m = len - k;
		while (m && (p[k + m - 1] == '\r' || p[k + m - 1] == '\n'))
			m--;
		if (m >= sizeof r->retry_after)
			m = sizeof r->retry_after - 1;
		memcpy(r->retry_after, p + k, m);
		r->retry_after[m] = 0;
	}
	return len;
}

static bool eligible(struct rstate *r, struct pending *p, int64_t now)
{
	if (p->next_attempt > now || p->row.not_before > now)
		return false;
	for (struct pending *q = r->head; q && q != p; q = q->next)
		if (q->row.alert_id && q->row.alert_id == p->row.alert_id)
			return false; /* an earlier row of the same alert goes first */
	return true;
}

static void start_request(struct deliver *d, struct rstate *r, int64_t now)
{
	r->n_batch = 0;
	for (struct pending *p = r->head; p && r->n_batch < MAX_GROUP; p = p->next) {
		if (!eligible(r, p, now))
			continue;
		if (r->n_batch == 0)
			r->batch[r->n_batch++] = p;
		else if (r->rc->format != NF_PAGERDUTY && !strcmp(p->row.group_key, r->batch[0]->row.group_key))
			r->batch[r->n_batch++] = p;
		if (r->rc->format == NF_PAGERDUTY)
			break;
	}
	if (!r->n_batch)
		return;
	r->body = payload(r, now);
	r->retry_after[0] = 0;
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	r->headers = curl_slist_append(r->headers, "User-Agent: pathwatch");
	if (r->rc->format == NF_GENERIC && r->rc->secret) {
		unsigned char mac[32];
		unsigned int ml = 0;
		HMAC(EVP_sha256(), r->rc->secret, (int)strlen(r->rc->secret), (const unsigned char *)r->body,
		     strlen(r->body), mac, &ml);
		char h[128] = "X-Pathwatch-Signature: sha256=";
		size_t k = strlen(h);
		for (unsigned i = 0; i < ml; i++)
			k += (size_t)snprintf(h + k, sizeof h - k, "%02x", mac[i]);
		r->headers = curl_slist_append(r->headers, h);
	}
	CURL *e = curl_easy_init();
	curl_easy_setopt(e, CURLOPT_URL, r->rc->url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->rc->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)r->rc->timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	for (int i = 0; i < r->n_batch; i++)
		r->batch[i]->in_flight = true;
	r->easy = e;
	curl_multi_add_handle(d->multi, e);
}

static int64_t retry_after_ms(const char *v)
{
	if (!*v)
		return 0;
	char *end;
	long s = strtol(v, &end, 10);
	if (!*end && s >= 0)
		return (int64_t)s * 1000;
	struct tm tm; /* an HTTP date */
	memset(&tm, 0, sizeof tm);
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
		int64_t t = (int64_t)timegm(&tm) * 1000 - pw_wall_us() / 1000;
		return t > 0 ? t : 0;
	}
	return 0;
}

static void finish(struct deliver *d, struct rstate *r, CURLcode cc)
{
	long status = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	int64_t now = pw_wall_us();
	bool ok = cc == CURLE_OK && status >= 200 && status < 300;
	bool retry = !ok && (cc != CURLE_OK || status >= 500 || status == 429);
	char err[160] = "";
	if (cc != CURLE_OK)
		snprintf(err, sizeof err, "%s", curl_easy_strerror(cc));
	else if (!ok)
		snprintf(err, sizeof err, "HTTP %ld", status);
	for (int i = 0; i < r->n_batch; i++) {
		struct pending *p = r->batch[i];
		p->in_flight = false;
		p->attempts++;
		if (ok || !retry) {
			struct store_param q[] = { SP_I(p->row.id), SP_T(ok ? "delivered" : "failed"), SP_I(p->attempts),
						   SP_T(ok ? NULL : err), SP_TIME(status), SP_TIME(ok ? now : 0) };
			store_exec(d->store,
				   "UPDATE notifications SET state = ?2, attempts = ?3, last_error = ?4, http_status = ?5,"
				   " delivered_at = ?6 WHERE id = ?1",
				   q, 6);
			struct pending **pp = &r->head; /* done: off the list */
			while (*pp != p)
				pp = &(*pp)->next;
			*pp = p->next;
			outbox_row_free(&p->row);
			free(p);
			r->batch[i] = NULL;
			continue;
		}
		/* exponential back-off with jitter, at least what Retry-After asks */
		int64_t ms = BACKOFF_BASE_MS;
		for (int k = 1; k < p->attempts && ms < BACKOFF_MAX_MS; k++)
			ms *= 2;
		if (ms > BACKOFF_MAX_MS)
			ms = BACKOFF_MAX_MS;
		ms = ms / 2 + (int64_t)(rand() % (int)(ms + 1));
		int64_t ra = retry_after_ms(r->retry_after);
		if (ra > ms)
			ms = ra;
		p->next_attempt = now + ms * 1000;
		struct store_param q[] = { SP_I(p->row.id), SP_I(p->attempts), SP_I(p->next_attempt), SP_T(err),
					   SP_TIME(status) };
		store_exec(d->store,
			   "UPDATE notifications SET attempts = ?2, next_attempt = ?3, last_error = ?4, http_status = ?5"
			   " WHERE id = ?1",
			   q, 5);
	}
	if (ok) {
		PW_INFO("msg=\"notification delivered\" receiver=%s notifications=%d status=%ld", r->rc->name, r->n_batch,
			status);
	} else if (retry) {
		PW_WARN("msg=\"notification delivery failed; will retry\" receiver=%s error=\"%s\"", r->rc->name, err);
	} else {
		pthread_mutex_lock(&d->lock);
		r->failed_at = now;
		snprintf(r->last_error, sizeof r->last_error, "%s", err);
		pthread_mutex_unlock(&d->lock);
		PW_ERR("msg=\"notification rejected by the receiver; not retried\" receiver=%s error=\"%s\"", r->rc->name, err);
	}
	curl_multi_remove_handle(d->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
	r->easy = NULL;
	r->headers = NULL;
	r->body = NULL;
	r->n_batch = 0;
}

void deliver_reconfigure(struct deliver *d, const struct notify_conf *c)
{
	pthread_mutex_lock(&d->lock);
	d->next_conf = c;
	pthread_mutex_unlock(&d->lock);
	if (d->multi)
		curl_multi_wakeup(d->multi);
}

static void free_rows(struct pending *p)
{
	for (struct pending *nx; p; p = nx) {
		nx = p->next;
		outbox_row_free(&p->row);
		free(p);
	}
}

/* A receiver's request in flight and queue, gone. */
static void rstate_drop(struct deliver *d, struct rstate *r)
{
	if (r->easy) {
		curl_multi_remove_handle(d->multi, r->easy);
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->headers);
		free(r->body);
	}
	free_rows(r->head);
}

/* Delivery thread, with d->lock held: the receivers of `c`, each kept one
 * with its queue, request in flight and failure record. */
static void take_conf(struct deliver *d, const struct notify_conf *c)
{
	struct rstate *nr = pw_calloc(c->n_receivers ? c->n_receivers : 1, sizeof *nr);
	for (size_t i = 0; i < c->n_receivers; i++) {
		struct rstate *old = rstate_of(d, c->receivers[i].name);
		if (old) {
			nr[i] = *old;
			old->rc = NULL; /* moved */
			if (nr[i].easy)
				curl_easy_setopt(nr[i].easy, CURLOPT_PRIVATE, &nr[i]);
		}
		nr[i].rc = &c->receivers[i];
	}
	for (size_t i = 0; i < d->n; i++) {
		struct rstate *r = &d->r[i];
		if (!r->rc)
			continue;
		PW_WARN("msg=\"receiver removed from the configuration: its undelivered notifications stay pending\" "
			"receiver=%s", r->rc->name);
		rstate_drop(d, r);
	}
	free(d->r);
	d->r = nr;
	d->n = c->n_receivers;
	d->c = c;
}

static void *deliver_main(void *arg)
{
	struct deliver *d = arg;
	for (;;) {
		pthread_mutex_lock(&d->lock);
		if (d->next_conf) {
			take_conf(d, d->next_conf);
			d->next_conf = NULL;
		}
		struct pending *in = d->inbox;
		d->inbox = NULL;
		bool stop = d->stop;
		pthread_mutex_unlock(&d->lock);
		while (in) {
			struct pending *next = in->next;
			struct rstate *r = rstate_of(d, in->row.receiver);
			if (r)
				append(r, in);
			else {
				outbox_row_free(&in->row);
				free(in);
			}
			in = next;
		}
		bool busy = false;
		for (size_t i = 0; i < d->n; i++)
			busy |= d->r[i].easy != NULL;
		if (stop && !busy)
			break;
		int64_t now = pw_wall_us();
		for (size_t i = 0; i < d->n && !stop; i++)
			if (!d->r[i].easy && d->r[i].head)
				start_request(d, &d->r[i], now);
		int running;
		curl_multi_perform(d->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(d->multi, &left)))
			if (m->msg == CURLMSG_DONE) {
				struct rstate *r;
				curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
				finish(d, r, m->data.result);
			}
		curl_multi_poll(d->multi, NULL, 0, 100, NULL);
	}
	return NULL;
}

int deliver_start(struct deliver *d, char *err, size_t n)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	d->multi = curl_multi_init();
	if (!d->multi || pthread_create(&d->thread, NULL, deliver_main, d)) {
		snprintf(err, n, "cannot start the notification thread");
		return -1;
	}
	d->started = true;
	return 0;
}

void deliver_stop(struct deliver *d)
{
	if (!d)
		return;
	if (d->started) {
		pthread_mutex_lock(&d->lock);
		d->stop = true;
		pthread_mutex_unlock(&d->lock);
		curl_multi_wakeup(d->multi);
		pthread_join(d->thread, NULL);
	}
	for (size_t i = 0; i < d->n; i++) {
		struct rstate *r = &d->r[i];
		rstate_drop(d, r);
	}
	free_rows(d->inbox);
	if (d->multi)
		curl_multi_cleanup(d->multi);
	free(d->r);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

size_t deliver_failures(struct deliver *d, char names[][64], char errors[][160], size_t max)
{
	size_t k = 0;
	pthread_mutex_lock(&d->lock);
	int64_t since = pw_wall_us() - FAILED_ALERT_US;
	for (size_t i = 0; i < d->n && k < max; i++)
		if (d->r[i].failed_at > since) {
			snprintf(names[k], 64, "%s", d->r[i].rc->name);
			snprintf(errors[k], 160, "%s", d->r[i].last_error);
			k++;
		}
	pthread_mutex_unlock(&d->lock);
	return k;
}
