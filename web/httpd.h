/* httpd (internal to web/): replies and the per-thread read connection. */
#ifndef PW_HTTPD_H
#define PW_HTTPD_H

#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>

#include "web.h"

/* Sends `body` (stolen) as JSON with `status`. */
enum MHD_Result web_reply_json(struct MHD_Connection *c, unsigned status, json_t *body);
/* {"error": error, "detail": detail[, "parameter": param]} */
enum MHD_Result web_reply_error(struct MHD_Connection *c, unsigned status, const char *error, const char *detail,
				const char *param);
/* This HTTP thread's read-only connection (opened on first use). */
sqlite3 *web_reader(const struct web_ctx *ctx, char *err, size_t n);

/* api.c */
enum MHD_Result api_status(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_routers(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_peers(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_rib(struct MHD_Connection *c, const struct web_ctx *ctx);
enum MHD_Result api_history(struct MHD_Connection *c, const struct web_ctx *ctx);

#endif
