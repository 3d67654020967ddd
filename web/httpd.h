/* httpd (internal to web/): replies and the per-thread read connection. */
#ifndef PW_HTTPD_H
#define PW_HTTPD_H

#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "web.h"

/* Sends `body` (stolen) as JSON with `status`. */
enum MHD_Result web_reply_json(struct MHD_Connection *c, unsigned status, json_t *body);
/* The same for a body already written as JSON text (malloc'd, stolen). */
enum MHD_Result web_reply_json_text(struct MHD_Connection *c, unsigned status, char *text);
/* {"error": error, "detail": detail[, "parameter": param]} */
enum MHD_Result web_reply_error(struct MHD_Connection *c, unsigned status, const char *error, const char *detail,
				const char *param);
/* This HTTP thread's read-only connection (opened on first use). */
sqlite3 *web_reader(const struct web_ctx *ctx, char *err, size_t n);

/* Declares `db`, this thread's read connection, or replies 503. */
#define WEB_READER(c, ctx, db)                                                                          \
	char err_[256];                                                                                 \
	sqlite3 *db = web_reader(ctx, err_, sizeof err_);                                               \
	if (!db)                                                                                        \
		return web_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "store unavailable", err_, NULL)

/* One request: its body (bounded) and path arguments. */
struct web_req {
	struct MHD_Connection *c;
	const char *method;
	const char *body;   /* NUL-terminated, may be empty */
	size_t body_len;
	int64_t id;         /* {id} in the path, or -1 */
	char name[128];     /* {name} in the path, or "" */
};

/* Checks "Authorization: Bearer <token>". Returns MHD_YES after sending
 * the refusal (401/403) when not allowed, or MHD_NO when allowed. */
enum MHD_Result web_refuse_unauthorized(struct MHD_Connection *c, const struct web_ctx *ctx, bool *refused);

/* api_alerts.c */
enum MHD_Result api_sites(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_alerts(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_alert(const struct web_req *r, const struct web_ctx *ctx);
enum MHD_Result api_alert_ack(const struct web_req *r, const struct web_ctx *ctx);
enum MHD_Result api_silences(const struct web_req *r, const struct web_ctx *ctx);
enum MHD_Result api_silence_delete(const struct web_req *r, const struct web_ctx *ctx);
enum MHD_Result api_failovers(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_best_paths(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_series_prefixes(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_series_updates(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_drills(const struct web_req *r, const struct web_ctx *ctx);
enum MHD_Result api_notifications(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_receiver_test(const struct web_req *r, const struct web_ctx *ctx);

/* metrics.c */
enum MHD_Result web_metrics(struct MHD_Connection *c, const struct web_ctx *ctx);
void web_count_request(const char *endpoint, unsigned status);

/* api.c */
enum MHD_Result api_status(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_routers(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_peers(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_rib(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_history(struct MHD_Connection *c, const struct web_ctx *ctx);

#endif
