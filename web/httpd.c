/*
 * httpd: libmicrohttpd set-up, the route table and reply helpers (stage ⑦).
 * Each MHD pool thread keeps one read-only SQLite connection, closed by a
 * thread-key destructor when the thread ends.
 */
#include "httpd.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/log.h"
#include "feed.h"
#include "store_query.h"

struct web_server {
	struct MHD_Daemon *mhd;
	struct web_ctx ctx;
};

static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;

static void reader_free(void *p) { sqlite3_close(p); }
static void reader_key_init(void) { pthread_key_create(&reader_key, reader_free); }

sqlite3 *web_reader(const struct web_ctx *ctx, char *err, size_t n)
{
	pthread_once(&reader_once, reader_key_init);
	sqlite3 *db = pthread_getspecific(reader_key);
	if (!db) {
		db = store_reader_open(ctx->db_path, err, n);
		if (db)
			pthread_setspecific(reader_key, db);
	}
	return db;
}

enum MHD_Result web_reply_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (!text)
		return MHD_NO;
	size_t len = strlen(text);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result web_reply_error(struct MHD_Connection *c, unsigned status, const char *error, const char *detail,
				const char *param)
{
	json_t *j = json_pack("{s:s,s:s}", "error", error, "detail", detail ? detail : "");
	if (param)
		json_object_set_new(j, "parameter", json_string(param));
	return web_reply_json(c, status, j);
}

static const char index_html[] =
	"<!doctype html><html lang=en><meta charset=utf-8><title>pathwatch</title>"
	"<h1>pathwatch</h1><p>Passive BMP collector. JSON API:</p><ul>"
	"<li><a href=/api/v1/status>/api/v1/status</a>"
	"<li><a href=/api/v1/routers>/api/v1/routers</a>"
	"<li><a href=/api/v1/peers>/api/v1/peers</a>"
	"<li><a href=/api/v1/rib>/api/v1/rib</a>"
	"<li><a href=/api/v1/history>/api/v1/history</a></ul></html>\n";

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
	(void)version;
	(void)upload_data;
	struct web_server *ws = cls;
	if (!*req_cls) { /* first call: headers only */
		*req_cls = (void *)1;
		return MHD_YES;
	}
	if (*upload_size) { /* no endpoint takes a body yet */
		*upload_size = 0;
		return MHD_YES;
	}
	static const struct {
		const char *path;
		enum MHD_Result (*fn)(struct MHD_Connection *, const struct web_ctx *);
	} routes[] = {
		{ "/api/v1/status", api_status }, { "/api/v1/routers", api_routers }, { "/api/v1/peers", api_peers },
		{ "/api/v1/rib", api_rib },       { "/api/v1/history", api_history },
	};
	bool is_get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (!strcmp(url, routes[i].path)) {
			if (!is_get)
				return web_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", method, NULL);
			return routes[i].fn(c, &ws->ctx);
		}
	if (!strcmp(url, "/") && is_get) {
		struct MHD_Response *r = MHD_create_response_from_buffer(sizeof index_html - 1, (void *)index_html,
									 MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
		enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	return web_reply_error(c, MHD_HTTP_NOT_FOUND, "not found", url, NULL);
}

struct web_server *web_start(const char *listen, const struct web_ctx *ctx, char *err, size_t n)
{
	struct sockaddr_storage ss;
	if (feed_parse_listen(listen, &ss, err, n))
		return NULL;
	struct web_server *ws = pw_calloc(1, sizeof *ws);
	ws->ctx = *ctx;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	ws->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handler, ws, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				   MHD_OPTION_THREAD_POOL_SIZE, 4u, MHD_OPTION_CONNECTION_LIMIT, 256u,
				   MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				   (size_t)64 * 1024, MHD_OPTION_END);
	if (!ws->mhd) {
		snprintf(err, n, "HTTP listener on %s failed (address in use or not available)", listen);
		free(ws);
		return NULL;
	}
	return ws;
}

void web_stop(struct web_server *ws)
{
	if (!ws)
		return;
	MHD_stop_daemon(ws->mhd);
	free(ws);
}
