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
 * Threading: loop thread only, except the store's drain callback, which
 * only signals the loop. Handles are embedded in their owner and
 * freed in the close callback.
 */
#ifndef PW_FEED_H
#define PW_FEED_H

#include <stddef.h>
#include <uv.h>

#include "rib.h"
#include "store.h"

struct feed_server;

/* Listens on addr:port. NULL with err set on failure. */
struct feed_server *feed_server_start(uv_loop_t *loop, struct rib *rib, struct store *store, const char *listen,
				      size_t max_msg, char *err, size_t n);
/* Closes the listener and every feed (their routers are marked disconnected). */
void feed_server_stop(struct feed_server *fs);
unsigned feed_server_connections(const struct feed_server *fs);
/* Frees the server after the loop has run its close callbacks. */
void feed_server_free(struct feed_server *fs);

/* Splits "ADDR:PORT" / "[V6]:PORT" into a sockaddr. */
int feed_parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t n);

#endif
