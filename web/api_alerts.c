/*
 * api_alerts: /api/v1/sites, /alerts, /silences, /failovers, /drills
 * (stage ⑦). Reads come from SQLite (committed state) or the alerts'
 * published /sites snapshot; writes need the bearer token and run on the
 * loop thread through loopcall (the alerts are the loop's state).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts.h"
#include "alerts/alerts_query.h"
#include "common/loopcall.h"
#include "common/mono.h"
#include "common/prefix.h"
#include "httpd.h"
#include "qs.h"


#define REQUIRE_TOKEN(c, ctx)                                           \
	do {                                                            \
		bool refused_;                                          \
		enum MHD_Result r_ = web_refuse_unauthorized(c, ctx, &refused_); \
		if (refused_)                                           \
			return r_;                                      \
	} while (0)

static enum MHD_Result reply(struct MHD_Connection *c, json_t *j, const char *err)
{
	return j ? web_reply_json(c, MHD_HTTP_OK, j)
		 : web_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "store unavailable", err, NULL);
}

static enum MHD_Result bad(struct MHD_Connection *c, const struct qs *q)
{
	return web_reply_error(c, MHD_HTTP_BAD_REQUEST, "bad parameter", q->why, q->bad_param);
}

enum MHD_Result api_sites(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	if (qs_parse(c, 0, &q))
		return bad(c, &q);
	return web_reply_json(c, MHD_HTTP_OK, alerts_sites_json(ctx->alerts));
}

enum MHD_Result api_alerts(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	if (qs_parse(c, QS_BIT(QS_STATE) | QS_BIT(QS_SITE) | QS_BIT(QS_RULE) | QS_BIT(QS_LIMIT) | QS_BIT(QS_CURSOR), &q))
		return bad(c, &q);
	int64_t cursor = 0;
	if (q.str[QS_CURSOR]) {
		char *end;
		cursor = strtoll(q.str[QS_CURSOR], &end, 10);
		if (*end || cursor <= 0)
			return web_reply_error(c, MHD_HTTP_BAD_REQUEST, "bad parameter", "not a cursor returned by this endpoint",
					       "cursor");
	}
	WEB_READER(c, ctx, db);
	return reply(c, alerts_q_list(db, q.str[QS_STATE], q.str[QS_SITE], q.str[QS_RULE], q.limit, cursor, err_, sizeof err_),
		     err_);
}

enum MHD_Result api_alert(const struct web_req *r, const struct web_ctx *ctx)
{
	WEB_READER(r->c, ctx, db);
	int found;
	json_t *j = alerts_q_get(db, r->id, &found, err_, sizeof err_);
	if (!j && !found && !*err_) {
		char d[64];
		snprintf(d, sizeof d, "no alert with id %lld", (long long)r->id);
		return web_reply_error(r->c, MHD_HTTP_NOT_FOUND, "not found", d, NULL);
	}
	return reply(r->c, j, err_);
}

enum MHD_Result api_failovers(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	if (qs_parse(c, QS_BIT(QS_SITE) | QS_BIT(QS_PREFIX) | QS_BIT(QS_LIMIT), &q))
		return bad(c, &q);
	char pf[PW_PREFIXSTRLEN];
	if (q.present & QS_BIT(QS_PREFIX))
		pw_prefix_format(&q.prefix, pf, sizeof pf);
	WEB_READER(c, ctx, db);
	return reply(c, alerts_q_failovers(db, q.str[QS_SITE], q.present & QS_BIT(QS_PREFIX) ? pf : NULL, q.limit, err_,
					   sizeof err_),
		     err_);
}

enum MHD_Result api_best_paths(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	if (qs_parse(c, QS_BIT(QS_SITE) | QS_BIT(QS_PREFIX) | QS_BIT(QS_FROM) | QS_BIT(QS_TO), &q))
		return bad(c, &q);
	char pf[PW_PREFIXSTRLEN];
	if (q.present & QS_BIT(QS_PREFIX))
		pw_prefix_format(&q.prefix, pf, sizeof pf);
	int64_t from, to;
	qs_time_range(&q, &from, &to);
	WEB_READER(c, ctx, db);
	return reply(c,
		     alerts_q_best_paths(db, q.present & QS_BIT(QS_PREFIX) ? pf : NULL, q.str[QS_SITE], from, to, err_,
					 sizeof err_),
		     err_);
}

/* ------------------------------------------------------------ writes */

/* The body as a JSON object, or a 400 sent. */
static json_t *body_object(const struct web_req *r, enum MHD_Result *sent)
{
	json_error_t e;
	json_t *j = r->body_len ? json_loadb(r->body, r->body_len, 0, &e) : json_object();
	if (!json_is_object(j)) {
		char d[200];
		snprintf(d, sizeof d, "the body must be a JSON object%s%s", j ? "" : ": ", j ? "" : e.text);
		json_decref(j);
		*sent = web_reply_error(r->c, MHD_HTTP_BAD_REQUEST, "bad request body", d, NULL);
		return NULL;
	}
	return j;
}

static const char *opt_str(json_t *o, const char *key, bool *bad_type)
{
	json_t *v = json_object_get(o, key);
	if (v && !json_is_string(v))
		*bad_type = true;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Seconds (a JSON number or parsed text) to microseconds: -1 unless finite
 * and within 10 000 years (more is a typo, and its cast would be undefined). */
static int seconds_us(double s, int64_t *us)
{
	if (!isfinite(s) || fabs(s) > 1e4 * 366 * 86400)
		return -1;
	*us = (int64_t)(s * 1e6);
	return 0;
}

/* A time field: RFC 3339 string or Unix seconds; absent -> dflt. */
static int opt_time(json_t *o, const char *key, int64_t dflt, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (json_is_integer(v) || json_is_real(v))
		return seconds_us(json_number_value(v), out);
	return json_is_string(v) && !pw_time_parse(json_string_value(v), out) ? 0 : -1;
}

/* "90m", "2h", "1d", "30s" or seconds as a number. */
static int opt_duration(json_t *o, const char *key, int64_t dflt, int64_t *us)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*us = dflt;
		return 0;
	}
	if (json_is_number(v))
		return json_number_value(v) > 0 ? seconds_us(json_number_value(v), us) : -1;
	if (!json_is_string(v))
		return -1;
	char *end;
	double x = strtod(json_string_value(v), &end);
	double m = !*end || !strcmp(end, "s") ? 1e6 : !strcmp(end, "m") ? 6e7 : !strcmp(end, "h") ? 3.6e9
		   : !strcmp(end, "d") ? 8.64e10 : -1;
	if (end == json_string_value(v) || m < 0 || !(x > 0))
		return -1;
	return seconds_us(x * (m / 1e6), us);
}

enum cmd_kind { CMD_ACK, CMD_SILENCE_ADD, CMD_SILENCE_EXPIRE, CMD_DRILL, CMD_RECEIVER_TEST };

struct cmd {
	struct alerts *alerts;
	enum cmd_kind kind;
	int64_t id, starts, ends, duration, now;
	const char *by, *comment, *site;
	json_t *matchers;
	int status;
	int64_t new_id;
	char err[200];
};

static void run_cmd(void *arg)
{
	struct cmd *c = arg;
	switch (c->kind) {
	case CMD_ACK:
		c->status = alerts_ack(c->alerts, c->id, c->by, c->comment, c->now, c->err, sizeof c->err);
		break;
	case CMD_SILENCE_ADD:
		c->status = alerts_silence_add(c->alerts, c->matchers, c->starts, c->ends, c->by, c->comment, c->now, &c->new_id,
					       c->err, sizeof c->err);
		break;
	case CMD_SILENCE_EXPIRE:
		c->status = alerts_silence_expire(c->alerts, c->id, c->now, c->err, sizeof c->err);
		break;
	case CMD_DRILL:
		c->status = alerts_drill_add(c->alerts, c->site, c->duration, c->by, c->comment, c->now, &c->new_id, c->err,
					     sizeof c->err);
		break;
	case CMD_RECEIVER_TEST:
		c->status = alerts_notify_test(c->alerts, c->site, c->now, &c->new_id, c->err, sizeof c->err);
		break;
	}
}

static enum MHD_Result run(const struct web_req *r, const struct web_ctx *ctx, struct cmd *c, json_t *ok_body)
{
	c->alerts = ctx->alerts;
	c->now = pw_wall_us();
	if (loopcall_run(ctx->lc, run_cmd, c)) {
		json_decref(ok_body);
		return web_reply_error(r->c, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down", "the collector is stopping", NULL);
	}
	if (c->status) {
		json_decref(ok_body);
		return web_reply_error(r->c, (unsigned)c->status,
				       c->status == 404 ? "not found" : c->status == 409 ? "conflict" : "bad request", c->err, NULL);
	}
	if (c->new_id)
		json_object_set_new(ok_body, "id", json_integer(c->new_id));
	bool created = c->kind == CMD_SILENCE_ADD || c->kind == CMD_DRILL || c->kind == CMD_RECEIVER_TEST;
	return web_reply_json(r->c, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, ok_body);
}

enum MHD_Result api_alert_ack(const struct web_req *r, const struct web_ctx *ctx)
{
	REQUIRE_TOKEN(r->c, ctx);
	enum MHD_Result sent;
	json_t *b = body_object(r, &sent);
	if (!b)
		return sent;
	bool bt = false;
	struct cmd c = { .kind = CMD_ACK, .id = r->id, .by = opt_str(b, "by", &bt), .comment = opt_str(b, "comment", &bt) };
	if (bt || !c.by || !*c.by) {
		json_decref(b);
		return web_reply_error(r->c, MHD_HTTP_BAD_REQUEST, "bad request body",
				       "{\"by\": \"who acknowledges\", \"comment\": \"optional\"}", "by");
	}
	enum MHD_Result ret = run(r, ctx, &c, json_pack("{s:I,s:b}", "alert", (json_int_t)r->id, "acknowledged", 1));
	json_decref(b);
	return ret;
}

enum MHD_Result api_silences(const struct web_req *r, const struct web_ctx *ctx)
{
	if (!strcmp(r->method, MHD_HTTP_METHOD_GET) || !strcmp(r->method, MHD_HTTP_METHOD_HEAD)) {
		WEB_READER(r->c, ctx, db);
		return reply(r->c, alerts_q_silences(db, pw_wall_us(), err_, sizeof err_), err_);
	}
	if (!strcmp(r->method, MHD_HTTP_METHOD_DELETE)) {
		/* DELETE /api/v1/silences?id=N */
		REQUIRE_TOKEN(r->c, ctx);
		const char *id = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, "id");
		char *end;
		long long v = id ? strtoll(id, &end, 10) : -1;
		if (!id || *end || v <= 0)
			return web_reply_error(r->c, MHD_HTTP_BAD_REQUEST, "bad parameter", "id of the silence to expire", "id");
		struct web_req rr = *r;
		rr.id = v;
		return api_silence_delete(&rr, ctx);
	}
	REQUIRE_TOKEN(r->c, ctx);
	enum MHD_Result sent;
	json_t *b = body_object(r, &sent);
	if (!b)
		return sent;
	bool bt = false;
	int64_t now = pw_wall_us(), starts, ends, dur;
	struct cmd c = { .kind = CMD_SILENCE_ADD, .by = opt_str(b, "created_by", &bt), .comment = opt_str(b, "comment", &bt),
			 .matchers = json_object_get(b, "matchers") };
	const char *why = NULL;
	if (bt)
		why = "created_by and comment must be strings";
	else if (opt_time(b, "starts", now, &starts))
		why = "starts: RFC 3339 time or Unix seconds";
	else if (json_object_get(b, "ends") ? opt_time(b, "ends", 0, &ends) != 0 : 0)
		why = "ends: RFC 3339 time or Unix seconds";
	else if (!json_object_get(b, "ends") && (!json_object_get(b, "duration") || opt_duration(b, "duration", 0, &dur)))
		why = "give ends, or a duration like \"2h\"";
	if (why) {
		json_decref(b);
		return web_reply_error(r->c, MHD_HTTP_BAD_REQUEST, "bad request body", why, NULL);
	}
	if (!json_object_get(b, "ends"))
		ends = starts + dur;
	c.starts = starts;
	c.ends = ends;
	if (!c.by)
		c.by = "api";
	enum MHD_Result ret = run(r, ctx, &c, json_object());
	json_decref(b);
	return ret;
}

enum MHD_Result api_silence_delete(const struct web_req *r, const struct web_ctx *ctx)
{
	REQUIRE_TOKEN(r->c, ctx);
	struct cmd c = { .kind = CMD_SILENCE_EXPIRE, .id = r->id };
	return run(r, ctx, &c, json_pack("{s:I,s:b}", "silence", (json_int_t)r->id, "expired", 1));
}

enum MHD_Result api_drills(const struct web_req *r, const struct web_ctx *ctx)
{
	if (!strcmp(r->method, MHD_HTTP_METHOD_GET) || !strcmp(r->method, MHD_HTTP_METHOD_HEAD)) {
		WEB_READER(r->c, ctx, db);
		return reply(r->c, alerts_q_drills(db, NULL, err_, sizeof err_), err_);
	}
	REQUIRE_TOKEN(r->c, ctx);
	enum MHD_Result sent;
	json_t *b = body_object(r, &sent);
	if (!b)
		return sent;
	bool bt = false;
	struct cmd c = { .kind = CMD_DRILL, .site = opt_str(b, "site", &bt), .by = opt_str(b, "declared_by", &bt),
			 .comment = opt_str(b, "comment", &bt) };
	if (bt || !c.site || opt_duration(b, "duration", 3600000000LL, &c.duration)) {
		json_decref(b);
		return web_reply_error(r->c, MHD_HTTP_BAD_REQUEST, "bad request body",
				       "{\"site\": NAME, \"duration\": \"1h\", \"declared_by\": WHO, \"comment\": TEXT}", NULL);
	}
	if (!c.by)
		c.by = "api";
	enum MHD_Result ret = run(r, ctx, &c, json_object());
	json_decref(b);
	return ret;
}

enum MHD_Result api_notifications(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	if (qs_parse(c, QS_BIT(QS_RECEIVER) | QS_BIT(QS_STATE) | QS_BIT(QS_ALERT) | QS_BIT(QS_LIMIT), &q))
		return bad(c, &q);
	WEB_READER(c, ctx, db);
	int64_t alert = q.str[QS_ALERT] ? strtoll(q.str[QS_ALERT], NULL, 10) : 0;
	return reply(c, alerts_q_notifications(db, q.str[QS_RECEIVER], q.str[QS_STATE], alert, q.limit, err_, sizeof err_),
		     err_);
}

enum MHD_Result api_receiver_test(const struct web_req *r, const struct web_ctx *ctx)
{
	REQUIRE_TOKEN(r->c, ctx);
	struct cmd c = { .kind = CMD_RECEIVER_TEST, .site = r->name };
	return run(r, ctx, &c, json_pack("{s:s,s:s}", "receiver", r->name, "event", "test"));
}
