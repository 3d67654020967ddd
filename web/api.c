/*
 * api: the read endpoints of /api/v1 (stage ⑦). Each parses its whitelisted
 * parameters (qs.c), asks store_query for committed state, and replies
 * JSON; /status also reads the RIB's and the store's atomic counters.
 */
#include <stdio.h>
#include <string.h>

#include "common/mono.h"
#include "common/prefix.h"
#include "httpd.h"
#include "qs.h"
#include "rib.h"
#include "series.h"
#include "store.h"
#include "store_query.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

static enum MHD_Result bad_request(struct MHD_Connection *c, const struct qs *q)
{
	return web_reply_error(c, MHD_HTTP_BAD_REQUEST, "bad parameter", q->why, q->bad_param);
}

static enum MHD_Result store_error(struct MHD_Connection *c, const char *err)
{
	return web_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "store unavailable", err, NULL);
}


enum MHD_Result api_status(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	if (qs_parse(c, 0, &q))
		return bad_request(c, &q);
	WEB_READER(c, ctx, db);
	int64_t counts[4];
	if (store_q_counts(db, counts))
		return store_error(c, sqlite3_errmsg(db));
	char now[PW_TIMESTRLEN], started[PW_TIMESTRLEN];
	int64_t t = pw_wall_us();
	pw_time_format(t, now, sizeof now);
	pw_time_format(ctx->start_us, started, sizeof started);
	json_t *j = json_object();
	json_object_set_new(j, "version", json_string(PW_VERSION));
	json_object_set_new(j, "time", json_string(now));
	json_object_set_new(j, "started", json_string(started));
	json_object_set_new(j, "uptime_seconds", json_integer((t - ctx->start_us) / 1000000));
	json_object_set_new(j, "routers", json_integer(counts[0]));
	json_object_set_new(j, "routers_connected", json_integer(counts[1]));
	json_object_set_new(j, "peers", json_integer(counts[2]));
	json_object_set_new(j, "peers_up", json_integer(counts[3]));
	json_object_set_new(j, "routes", json_integer((json_int_t)atomic_load(&ctx->rib->live_routes)));
	json_object_set_new(j, "history_rows", json_integer((json_int_t)store_history_rows(ctx->store)));
	json_object_set_new(j, "store_pending", json_integer((json_int_t)store_pending(ctx->store)));
	json_object_set_new(j, "store_ok", json_boolean(!store_failing(ctx->store)));
	int64_t kept = store_q_kept_since(db);
	char kept_s[PW_TIMESTRLEN];
	pw_time_format(kept, kept_s, sizeof kept_s);
	json_object_set_new(j, "history_kept_since", kept ? json_string(kept_s) : json_null());
	json_object_set_new(j, "db", json_string(ctx->db_path));
	json_object_set_new(j, "bmp_listen", json_string(ctx->bmp_listen));
	return web_reply_json(c, MHD_HTTP_OK, j);
}

enum MHD_Result api_routers(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	if (qs_parse(c, 0, &q))
		return bad_request(c, &q);
	WEB_READER(c, ctx, db);
	json_t *j = store_q_routers(db, err_, sizeof err_);
	return j ? web_reply_json(c, MHD_HTTP_OK, j) : store_error(c, err_);
}

enum MHD_Result api_peers(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	if (qs_parse(c, QS_BIT(QS_ROUTER), &q))
		return bad_request(c, &q);
	WEB_READER(c, ctx, db);
	json_t *j = store_q_peers(db, q.str[QS_ROUTER], err_, sizeof err_);
	return j ? web_reply_json(c, MHD_HTTP_OK, j) : store_error(c, err_);
}

static void route_filter(const struct qs *q, struct store_route_filter *f)
{
	f->router = q->str[QS_ROUTER];
	f->peer = q->str[QS_PEER];
	f->view = q->view;
	f->has_prefix = q->present & QS_BIT(QS_PREFIX);
	f->prefix = q->prefix;
	f->match = (enum store_match)q->match;
}

static enum MHD_Result query_reply(struct MHD_Connection *c, char *text, const char *bad, const char *err)
{
	if (text)
		return web_reply_json_text(c, MHD_HTTP_OK, text);
	if (bad)
		return web_reply_error(c, MHD_HTTP_BAD_REQUEST, "bad parameter", err, bad);
	return store_error(c, err);
}

enum MHD_Result api_rib(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	uint32_t allowed = QS_BIT(QS_ROUTER) | QS_BIT(QS_PEER) | QS_BIT(QS_VIEW) | QS_BIT(QS_PREFIX) |
			   QS_BIT(QS_MATCH) | QS_BIT(QS_LIMIT) | QS_BIT(QS_CURSOR) | QS_BIT(QS_AT) | QS_BIT(QS_AS_PATH) |
			   QS_BIT(QS_COMMUNITY);
	if (qs_parse(c, allowed, &q))
		return bad_request(c, &q);
	WEB_READER(c, ctx, db);
	struct store_rib_query rq = { .limit = q.limit, .cursor = q.str[QS_CURSOR] };
	route_filter(&q, &rq.f);
	rq.f.as_path = q.str[QS_AS_PATH];
	rq.f.community = q.str[QS_COMMUNITY];
	rq.has_at = q.present & QS_BIT(QS_AT);
	rq.at_us = q.at;
	const char *bad = NULL;
	char *page = store_q_rib(db, ctx->fidx, &rq, &bad, err_, sizeof err_);
	return query_reply(c, page, bad, err_);
}

enum MHD_Result api_history(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	struct qs q;
	uint32_t allowed = QS_BIT(QS_ROUTER) | QS_BIT(QS_PEER) | QS_BIT(QS_VIEW) | QS_BIT(QS_PREFIX) |
			   QS_BIT(QS_MATCH) | QS_BIT(QS_LIMIT) | QS_BIT(QS_CURSOR) | QS_BIT(QS_FROM) | QS_BIT(QS_TO) |
			   QS_BIT(QS_ORDER);
	if (qs_parse(c, allowed, &q))
		return bad_request(c, &q);
	WEB_READER(c, ctx, db);
	struct store_history_query hq = { .limit = q.limit, .cursor = q.str[QS_CURSOR], .newest_first = q.newest_first };
	route_filter(&q, &hq.f);
	hq.has_from = q.present & QS_BIT(QS_FROM);
	hq.from_us = q.from;
	hq.has_to = q.present & QS_BIT(QS_TO);
	hq.to_us = q.to;
	const char *bad = NULL;
	char *page = store_q_history(db, &hq, &bad, err_, sizeof err_);
	return query_reply(c, page, bad, err_);
}

static enum MHD_Result series_reply(struct MHD_Connection *c, const struct web_ctx *ctx, uint32_t allowed,
				    json_t *(*fn)(sqlite3 *, const struct series_query *, char *, size_t))
{
	struct qs q;
	if (qs_parse(c, allowed | QS_BIT(QS_FROM) | QS_BIT(QS_TO) | QS_BIT(QS_POINTS), &q))
		return bad_request(c, &q);
	WEB_READER(c, ctx, db);
	struct series_query sq = { .router = q.str[QS_ROUTER], .peer = q.str[QS_PEER], .view = q.view, .points = q.points };
	qs_time_range(&q, &sq.from_us, &sq.to_us);
	json_t *j = fn(db, &sq, err_, sizeof err_);
	return j ? web_reply_json(c, MHD_HTTP_OK, j) : store_error(c, err_);
}

enum MHD_Result api_series_prefixes(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	return series_reply(c, ctx, QS_BIT(QS_ROUTER) | QS_BIT(QS_PEER) | QS_BIT(QS_VIEW), series_q_prefixes);
}

enum MHD_Result api_series_updates(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	return series_reply(c, ctx, QS_BIT(QS_ROUTER), series_q_updates);
}
