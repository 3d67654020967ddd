/*
 * feed: the BMP listener and one `struct feed` per router connection
 * (stage ①).
 *
 *   router --TCP--> [feed: bounded receive buffer] --whole messages--> ingest
 *
 * Every byte from a router lands in that connection's buffer, which grows
 * only up to the configured maximum message size (plus one read). A full
 * buffer, or a store queue above its high watermark, stops reading
 * (back-pressure: TCP pushes back on the router) instead of growing; the
 * store writer wakes the loop (uv_async) when its queue is below the low
 * watermark and the feeds read again. A framing error closes that feed only.
 *
 * Who may connect is the policy (feed_server_set_policy; replaced on
 * SIGHUP): an allow-list of CIDRs and a limit on connected routers, checked
 * at accept (a refused connection is closed at once, logged with a rate
 * limit and counted), as is any connection that would leave fewer than a
 * reserve of file descriptors (so a flood of routers cannot starve the HTTP
 * server or the database of descriptors); and a message timeout: once a connection opens or a
 * message begins, the message must be whole within it, else the feed is
 * closed (a peer trickling bytes cannot hold a slot). Every refusal and
 * every closed feed is counted by reason in `struct feed_stats` (atomics,
 * read by /metrics from any thread).
 *
 * Threading: loop thread only, except the store's drain callback, which
 * only signals the loop. Handles are embedded in their owner and
 * freed in the close callback.
 */
#ifndef PW_FEED_H
#define PW_FEED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/prefix.h"
#include "rib.h"
#include "store.h"

struct feed_server;

struct feed_policy {
	const struct pw_prefix *allow; /* may connect; n_allow == 0: any address */
	size_t n_allow;
	unsigned max_routers;          /* connected feeds at most; 0: no limit */
	int64_t message_timeout_ms;    /* 0: none */
};

enum feed_refusal {
	FEED_REFUSED_NOT_ALLOWED,
	FEED_REFUSED_ROUTER_LIMIT,
	FEED_REFUSED_FD_LIMIT, /* the process is near its descriptor limit: the rest is kept for HTTP and SQLite */
	FEED_REFUSALS
};
enum feed_close_reason {
	FEED_CLOSED_EOF,         /* the router closed (mid-message or not) */
	FEED_CLOSED_ERROR,       /* a socket error */
	FEED_CLOSED_FRAMING,     /* bad version, length below the header or above the maximum */
	FEED_CLOSED_TIMEOUT,     /* a message not whole within the message timeout */
	FEED_CLOSED_NOT_ALLOWED, /* its address left the allow-list on reload */
	FEED_CLOSED_SHUTDOWN,
	FEED_CLOSE_REASONS
};
const char *feed_refusal_name(enum feed_refusal r);
const char *feed_close_reason_name(enum feed_close_reason r);

/* Written on the loop thread, read anywhere. */
struct feed_stats {
	atomic_uint_fast64_t accepted;
	atomic_uint_fast64_t accept_errors; /* accept(2) failed: EMFILE, ENFILE, ... */
	atomic_uint_fast64_t refused[FEED_REFUSALS];
	atomic_uint_fast64_t closed[FEED_CLOSE_REASONS];
	atomic_uint connected;
};

/* Listens on addr:port. NULL with err set on failure. */
struct feed_server *feed_server_start(uv_loop_t *loop, struct rib *rib, struct store *store, const char *listen,
				      size_t max_msg, char *err, size_t n);
/* Copies the policy in (loop thread). Feeds already connected from an
 * address the new allow-list refuses are closed. */
void feed_server_set_policy(struct feed_server *fs, const struct feed_policy *p);
/* Valid until feed_server_free. */
const struct feed_stats *feed_server_stats(const struct feed_server *fs);
/* Closes the listener and every feed (their routers are marked disconnected). */
void feed_server_stop(struct feed_server *fs);
unsigned feed_server_connections(const struct feed_server *fs);
/* Frees the server after the loop has run its close callbacks. */
void feed_server_free(struct feed_server *fs);

/* Splits "ADDR:PORT" / "[V6]:PORT" into a sockaddr. */
int feed_parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t n);

#endif
