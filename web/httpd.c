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
#include "common/embedded.h"
#include "qs.h"
#include "sse.h"
#include "common/log.h"
#include "feed.h"
#include "store_query.h"

struct web_server {
	struct MHD_Daemon *mhd;
	struct web_ctx ctx;
};

extern const struct pw_embedded pw_static_files[];

/* The endpoint being served on this thread, for the request counters. */
static __thread const char *tl_endpoint = "other";

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
	web_count_request(tl_endpoint, status);
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



enum { WEB_MAX_BODY = 64 * 1024 };

struct body {
	char *data;
	size_t len;
	bool too_big;
};

static void completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	struct body *b = *req_cls;
	if (b) {
		free(b->data);
		free(b);
	}
	*req_cls = NULL;
}

enum MHD_Result web_refuse_unauthorized(struct MHD_Connection *c, const struct web_ctx *ctx, bool *refused)
{
	*refused = true;
	if (!ctx->api_token)
		return web_reply_error(c, MHD_HTTP_FORBIDDEN, "write endpoints are disabled",
				       "no API token is configured (api.token, token_file or token_env)", NULL);
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t tl = strlen(ctx->api_token);
	bool ok = h && !strncmp(h, "Bearer ", 7) && strlen(h + 7) == tl;
	unsigned char diff = 0; /* compare without an early exit */
	for (size_t i = 0; ok && i < tl; i++)
		diff |= (unsigned char)(h[7 + i] ^ ctx->api_token[i]);
	if (ok && !diff) {
		*refused = false;
		return MHD_NO;
	}
	json_t *j = json_pack("{s:s,s:s}", "error", "unauthorized", "detail", "a valid \"Authorization: Bearer\" token is required");
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return ret;
}

static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" }, { ".json", "application/json" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".woff2", "font/woff2" }, { ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* The dashboard: files compiled in, looked up by exact name (a path with
 * ".." can only miss). */
static enum MHD_Result serve_static(struct MHD_Connection *c, const char *name)
{
	for (const struct pw_embedded *f = pw_static_files; f->name; f++)
		if (!strcmp(f->name, name)) {
			struct MHD_Response *r =
				MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(name));
			MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
			MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
			enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
			MHD_destroy_response(r);
			web_count_request("/static", 200);
			return ret;
		}
	return web_reply_error(c, MHD_HTTP_NOT_FOUND, "not found", name, NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
	(void)version;
	struct web_server *ws = cls;
	if (!*req_cls) { /* first call: headers only */
		*req_cls = pw_calloc(1, sizeof(struct body));
		return MHD_YES;
	}
	struct body *b = *req_cls;
	if (*upload_size) { /* bounded body */
		if (b->len + *upload_size > WEB_MAX_BODY)
			b->too_big = true;
		else {
			b->data = pw_realloc(b->data, b->len + *upload_size + 1);
			memcpy(b->data + b->len, upload_data, *upload_size);
			b->len += *upload_size;
			b->data[b->len] = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (b->too_big)
		return web_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large", "at most 64 KiB", NULL);
	struct web_req req = { c, method, b->data ? b->data : "", b->len, -1, "" };
	tl_endpoint = "other";
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	bool post = !strcmp(method, MHD_HTTP_METHOD_POST), del = !strcmp(method, MHD_HTTP_METHOD_DELETE);
	if (!strcmp(url, "/api/v1/events") && get) {
		struct MHD_Response *r = sse_response(ws->ctx.sse);
		enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		web_count_request("/api/v1/events", 200);
		return ret;
	}
	if (!strcmp(url, "/metrics") && get)
		return web_metrics(c, &ws->ctx);
	if (!strncmp(url, "/static/", 8) && get)
		return serve_static(c, url + 8);
	if ((tl_endpoint = "/api/v1/alerts/{id}", qs_path_id(url, "/api/v1/alerts/", "", &req.id)) && get)
		return api_alert(&req, &ws->ctx);
	if ((tl_endpoint = "/api/v1/alerts/{id}/ack", qs_path_id(url, "/api/v1/alerts/", "/ack", &req.id)) && post)
		return api_alert_ack(&req, &ws->ctx);
	if ((tl_endpoint = "/api/v1/silences/{id}", qs_path_id(url, "/api/v1/silences/", "", &req.id)) && del)
		return api_silence_delete(&req, &ws->ctx);
	tl_endpoint = "other";
	if (!strcmp(url, "/api/v1/silences") && (get || post || del) && (tl_endpoint = "/api/v1/silences"))
		return api_silences(&req, &ws->ctx);
	if (!strcmp(url, "/api/v1/drills") && (get || post) && (tl_endpoint = "/api/v1/drills"))
		return api_drills(&req, &ws->ctx);
	static const char rpfx[] = "/api/v1/receivers/", rsfx[] = "/test";
	size_t ul = strlen(url);
	if (post && !strncmp(url, rpfx, sizeof rpfx - 1) && ul > sizeof rpfx - 1 + sizeof rsfx - 1 &&
	    !strcmp(url + ul - (sizeof rsfx - 1), rsfx) && ul - (sizeof rpfx - 1) - (sizeof rsfx - 1) < sizeof req.name) {
		size_t nl = ul - (sizeof rpfx - 1) - (sizeof rsfx - 1);
		memcpy(req.name, url + sizeof rpfx - 1, nl);
		req.name[nl] = 0;
		tl_endpoint = "/api/v1/receivers/{name}/test";
		return api_receiver_test(&req, &ws->ctx);
	}
	static const struct {
		const char *path;
		enum MHD_Result (*fn)(struct MHD_Connection *, const struct web_ctx *);
	} routes[] = {
		{ "/api/v1/status", api_status }, { "/api/v1/routers", api_routers }, { "/api/v1/peers", api_peers },
		{ "/api/v1/rib", api_rib },       { "/api/v1/history", api_history }, { "/api/v1/sites", api_sites },
		{ "/api/v1/alerts", api_alerts }, { "/api/v1/failovers", api_failovers },
		{ "/api/v1/notifications", api_notifications },
	};
	bool is_get = get;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (!strcmp(url, routes[i].path)) {
			tl_endpoint = routes[i].path;
			if (!is_get)
				return web_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", method, NULL);
			return routes[i].fn(c, &ws->ctx);
		}
	if (!strcmp(url, "/") && is_get)
		return serve_static(c, "index.html");
	return web_reply_error(c, MHD_HTTP_NOT_FOUND, "not found", url, NULL);
}

struct web_server *web_start(const char *listen, const struct web_ctx *ctx, char *err, size_t n)
{
	struct sockaddr_storage ss;
	if (feed_parse_listen(listen, &ss, err, n))
		return NULL;
	struct web_server *ws = pw_calloc(1, sizeof *ws);
	ws->ctx = *ctx;
	/* a thread per connection: a live event stream holds its thread */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_POLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	ws->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handler, ws, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				   MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				   MHD_OPTION_CONNECTION_LIMIT, 256u,
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
