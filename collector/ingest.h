/*
 * ingest: applies decoded BMP messages of one router session to the RIB
 * (between stage ② and ④). The same code serves live feeds (feed.c) and
 * offline replay of captured streams (pathwatch replay / dump).
 *
 *   framed message --> bmp_msg_decode --> per type: Initiation names the
 *   router; Peer Up/Down, Route Monitoring (bgp_update_parse, add-path from
 *   the Peer Up OPENs), Statistics, Termination, Mirroring --> rib_*
 *
 * A message that does not decode is dropped, counted and logged with the
 * router and peer; the session goes on.
 */
#ifndef PW_INGEST_H
#define PW_INGEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "rib.h"

/* Called with a JSON description of each message (pathwatch dump). */
typedef void (*ingest_trace_fn)(void *ctx, json_t *msg);

struct ingest_session {
	struct rib *rib;
	struct rib_router *router;   /* NULL until the session is named */
	char address[64];            /* remote address, the name of last resort */
	const char *forced_name;     /* replay --router NAME, or NULL */
	uint8_t *scratch;            /* canonical attribute set buffer */
	size_t scratch_len;
	ingest_trace_fn trace;
	void *trace_ctx;
};

void ingest_init(struct ingest_session *s, struct rib *rib, const char *address, size_t max_msg);
/* One framed BMP message. */
void ingest_message(struct ingest_session *s, const uint8_t *msg, size_t len, int64_t now_us);
/* Counts a framing error against the router (if named). */
void ingest_framing_error(struct ingest_session *s, const char *why);
/* The connection ended: the router's state is kept and marked stale. */
void ingest_close(struct ingest_session *s, int64_t now_us);

#endif
