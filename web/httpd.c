/*
 * httpd: libmicrohttpd set-up, the route table and reply helpers (stage ⑦).
 * Each MHD pool thread keeps one read-only SQLite connection, closed by a
 * thread-key destructor when the thread ends.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/embedded.h"
#include "common/mono.h"
#include "qs.h"
#include "sse.h"
#include "common/log.h"
#include "feed.h"
#include "ratelimit.h"
#include "store.h"
#include "store_query.h"

struct web_server {
	struct MHD_Daemon *mhd;
	struct web_ctx ctx;
	size_t max_body;
	struct web_ratelimit *rl;
	char *tls_cert, *tls_key; /* PEM, kept until the daemon stops */
};

extern const struct pw_embedded pw_static_files[];

/* The endpoint being served on this thread, for the request counters. */
static __thread const char *tl_endpoint = "other";

static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;

/* Read connections outlive the connection threads that used them: when a
 * thread ends its connection is put back here, and the next thread takes
 * it instead of opening one (and parsing the schema, and warming a cache). */
enum { READER_POOL_MAX = 32 };
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *pool[READER_POOL_MAX];
static int pool_n;

static void reader_release(void *p)
{
	sqlite3 *db = p;
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_lock(&pool_mu);
	if (pool_n < READER_POOL_MAX) {
		pool[pool_n++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	sqlite3_close(db);
}
static void reader_key_init(void) { pthread_key_create(&reader_key, reader_release); }

static void reader_pool_close(void)
{
	pthread_mutex_lock(&pool_mu);
	while (pool_n)
		sqlite3_close(pool[--pool_n]);
	pthread_mutex_unlock(&pool_mu);
}

/* A connection opened before the store's file was replaced reads the
 * writer's file; a new one would open the other file: none is, then. */
static bool file_moved(const struct web_ctx *ctx, char *err, size_t n)
{
	const char *moved = ctx->store ? store_file_moved(ctx->store) : NULL;
	if (moved)
		snprintf(err, n, "%s: commits are stopped until it is back", moved);
	return moved != NULL;
}

sqlite3 *web_reader(const struct web_ctx *ctx, char *err, size_t n)
{
	pthread_once(&reader_once, reader_key_init);
	sqlite3 *db = pthread_getspecific(reader_key);
	if (db)
		return db;
	pthread_mutex_lock(&pool_mu);
	if (pool_n)
		db = pool[--pool_n];
	pthread_mutex_unlock(&pool_mu);
	if (!db) {
		if (file_moved(ctx, err, n))
			return NULL;
		db = store_reader_open(ctx->db_path, err, n);
		if (db && file_moved(ctx, err, n)) { /* replaced while it opened */
			sqlite3_close(db);
			return NULL;
		}
	}
	if (db)
		pthread_setspecific(reader_key, db);
	return db;
}

/* JSON `text` (malloc'd, stolen), with one extra header when `hname` is set. */
static enum MHD_Result reply_text_hdr(struct MHD_Connection *c, unsigned status, char *text, const char *hname,
				      const char *hvalue)
{
	if (!text)
		return MHD_NO;
	size_t len = strlen(text);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (hname)
		MHD_add_response_header(r, hname, hvalue);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	web_count_request(tl_endpoint, status);
	return ret;
}

/* `body` (stolen) as JSON, the same way. */
static enum MHD_Result reply_json_hdr(struct MHD_Connection *c, unsigned status, json_t *body, const char *hname,
				      const char *hvalue)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	return reply_text_hdr(c, status, text, hname, hvalue);
}

enum MHD_Result web_reply_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
	return reply_json_hdr(c, status, body, NULL, NULL);
}

enum MHD_Result web_reply_json_text(struct MHD_Connection *c, unsigned status, char *text)
{
	return reply_text_hdr(c, status, text, NULL, NULL);
}

enum MHD_Result web_reply_error(struct MHD_Connection *c, unsigned status, const char *error, const char *detail,
				const char *param)
{
	/* the detail may echo request bytes: not UTF-8, it is left out rather than the reply */
	json_t *d = json_string(detail ? detail : "");
	json_t *j = json_pack("{s:s,s:o}", "error", error, "detail", d ? d : json_string("(not valid UTF-8)"));
	if (param)
		json_object_set_new(j, "parameter", json_string(param));
	return web_reply_json(c, status, j);
}



struct body {
	char *data;
	size_t len;
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
	PW_REMOTE(PW_LOG_WARN, "msg=\"HTTP write refused: missing or wrong bearer token\" endpoint=%s", tl_endpoint);
	json_t *j = json_pack("{s:s,s:s}", "error", "unauthorized", "detail", "a valid \"Authorization: Bearer\" token is required");
	return reply_json_hdr(c, MHD_HTTP_UNAUTHORIZED, j, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
}

static enum MHD_Result body_too_large(const struct web_server *ws, struct MHD_Connection *c)
{
	char d[64];
	snprintf(d, sizeof d, "at most %zu bytes", ws->max_body);
	return web_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large", d, NULL);
}

/* Before any handler: the client's request budget and the declared body
 * size. MHD_YES after a refusal was queued, MHD_NO to go on. */
static enum MHD_Result refuse_early(struct web_server *ws, struct MHD_Connection *c, bool *refused)
{
	*refused = true;
	tl_endpoint = "other";
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	unsigned retry = 1;
	if (!web_rl_take(ws->rl, ci ? ci->client_addr : NULL, pw_mono_now().ns / 1000000, &retry)) {
		char ra[16], who[64] = "?";
		snprintf(ra, sizeof ra, "%u", retry);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ci->client_addr)->sin_addr, who, sizeof who);
		else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ci->client_addr)->sin6_addr, who, sizeof who);
		PW_REMOTE(PW_LOG_WARN, "msg=\"HTTP client over its request rate\" client=%s", who);
		return reply_json_hdr(c, MHD_HTTP_TOO_MANY_REQUESTS,
				      json_pack("{s:s,s:s}", "error", "too many requests", "detail", "slow down; see Retry-After"),
				      MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > ws->max_body)
		return body_too_large(ws, c);
	*refused = false;
	return MHD_NO;
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

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* Percent-decoding of the path and the query arguments, as libmicrohttpd's
 * own, except that %00 stays as it is: a decoded NUL would cut the C string
 * short ("index.html%00.js" would serve index.html). */
static size_t unescape_cb(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls, (void)c;
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 && (hi | lo)) {
			*w++ = (char)(hi << 4 | lo);
			r += 2;
		} else
			*w++ = *r;
	}
	*w = 0;
	return (size_t)(w - s);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
	(void)version;
	struct web_server *ws = cls;
	if (!*req_cls) { /* first call: headers only */
		bool refused;
		enum MHD_Result r = refuse_early(ws, c, &refused);
		if (refused)
			return r;
		*req_cls = pw_calloc(1, sizeof(struct body));
		return MHD_YES;
	}
	struct body *b = *req_cls;
	if (*upload_size) { /* bounded body */
		if (b->len + *upload_size > ws->max_body) {
			/* more than declared (or chunked): no reply can be queued
			 * mid-upload, so the connection is closed */
			PW_REMOTE(PW_LOG_WARN, "msg=\"HTTP request body over the limit; connection closed\" limit=%zu",
				  ws->max_body);
			return MHD_NO;
		} else {
			b->data = pw_realloc(b->data, b->len + *upload_size + 1);
			memcpy(b->data + b->len, upload_data, *upload_size);
			b->len += *upload_size;
			b->data[b->len] = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
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
		{ "/api/v1/notifications", api_notifications }, { "/api/v1/series/prefixes", api_series_prefixes },
		{ "/api/v1/series/updates", api_series_updates }, { "/api/v1/series/best_paths", api_best_paths },
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

static void web_free(struct web_server *ws)
{
	web_rl_free(ws->rl);
	free(ws->tls_cert);
	if (ws->tls_key) { /* a private key does not linger in freed memory */
		explicit_bzero(ws->tls_key, strlen(ws->tls_key));
		free(ws->tls_key);
	}
	free(ws);
}

struct web_server *web_start(const struct web_options *o, const struct web_ctx *ctx, char *err, size_t n)
{
	struct sockaddr_storage ss;
	if (feed_parse_listen(o->listen, &ss, err, n))
		return NULL;
	bool tls = o->tls_cert && o->tls_key;
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, n, "HTTPS is configured but this libmicrohttpd has no TLS support");
		return NULL;
	}
	struct web_server *ws = pw_calloc(1, sizeof *ws);
	ws->ctx = *ctx;
	ws->max_body = o->max_body;
	ws->rl = web_rl_new(o->rate, o->burst);
	/* a thread per connection: a live event stream holds its thread */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_POLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, NULL }, { MHD_OPTION_HTTPS_MEM_KEY, 0, NULL }, { MHD_OPTION_END, 0, NULL },
	};
	if (tls) {
		flags |= MHD_USE_TLS;
		ws->tls_cert = pw_strdup(o->tls_cert);
		ws->tls_key = pw_strdup(o->tls_key);
		tls_opts[0].ptr_value = ws->tls_cert;
		tls_opts[1].ptr_value = ws->tls_key;
	} else
		tls_opts[0].option = MHD_OPTION_END;
	ws->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handler, ws, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				   MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, NULL,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_MAX_CONNECTIONS,
				   MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				   (size_t)64 * 1024, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	if (!ws->mhd) {
		snprintf(err, n, "HTTP listener on %s failed (%s)", o->listen,
			 tls ? "address in use or not available, or the TLS certificate or key was rejected"
			     : "address in use or not available");
		web_free(ws);
		return NULL;
	}
	return ws;
}

void web_stop(struct web_server *ws)
{
	if (!ws)
		return;
	MHD_stop_daemon(ws->mhd); /* its threads have put their read connections back */
	reader_pool_close();
	web_free(ws);
}
