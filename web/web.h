/*
 * web: the HTTP server (stage ⑦): libmicrohttpd with its own thread pool,
 * a parameter whitelist per endpoint (qs.c), one handler per resource.
 *
 *   browser / curl --HTTP--> [web] --> store_query (own read-only SQLite
 *   connection per HTTP thread) and the RIB's atomic counters
 *
 * Handlers never touch loop-thread state except through atomics.
 */
#ifndef PW_WEB_H
#define PW_WEB_H

#include <stddef.h>
#include <stdint.h>

struct rib;
struct store;
struct alerts;
struct loopcall;
struct sse_hub;
struct feed_stats;
struct filter_index;

/* HTTP connections served at once (each holds a thread and a database
 * reader); beyond it libmicrohttpd refuses them. */
enum { WEB_MAX_CONNECTIONS = 256 };

struct web_ctx {
	struct rib *rib;
	struct store *store;
	struct alerts *alerts;   /* /sites snapshot; commands through lc */
	struct loopcall *lc;     /* runs write requests on the loop thread */
	struct sse_hub *sse;     /* the live event stream */
	const char *api_token;   /* bearer token for write endpoints; NULL: refused */
	const char *db_path;
	struct filter_index *fidx; /* the RIB browser's attribute filters, shared by the HTTP threads */
	int64_t start_us;
	const char *bmp_listen;
	const struct feed_stats *feed_stats; /* BMP accept/refuse/close counters */
};

/* How the server listens and what it accepts (fixed until a restart). */
struct web_options {
	const char *listen;                 /* ADDR:PORT */
	const char *tls_cert, *tls_key;     /* PEM text, both or neither: HTTPS */
	size_t max_body;                    /* request body bytes at most (413 beyond) */
	unsigned rate, burst;               /* requests/s and burst per client address; rate 0: no limit */
};

struct web_server;
struct web_server *web_start(const struct web_options *o, const struct web_ctx *ctx, char *err, size_t n);
void web_stop(struct web_server *ws);

#endif
