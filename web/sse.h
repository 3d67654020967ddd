/*
 * sse: the live event stream, GET /api/v1/events (stage ⑦).
 *
 *   loop thread: RIB events (routes, peers), alert transitions, site
 *   changes --[sse_publish: format, append to a bounded ring]--> hub
 *   HTTP thread per client: waits on the hub, writes what is new
 *
 * The ring is bounded: a client that falls behind gets `event: reset`
 * (refetch everything) instead of an unbounded queue. Route events are
 * rate limited (a full-table dump would otherwise flood every browser);
 * when some were dropped, clients get one `event: reset` instead. An
 * `event: ping` every 15 s lets a page notice a stalled stream.
 */
#ifndef PW_SSE_H
#define PW_SSE_H

#include <jansson.h>
#include <microhttpd.h>

#include "rib_event.h"

struct sse_hub;

struct sse_hub *sse_hub_new(void);
/* Wakes every client and ends their streams (before the HTTP server stops). */
void sse_hub_close(struct sse_hub *h);
void sse_hub_free(struct sse_hub *h);
/* Any thread: one event with a JSON payload (stolen). */
void sse_publish(struct sse_hub *h, const char *event, json_t *data);
/* RIB subscriber (loop thread): route and peer changes. */
void sse_rib_event(void *hub, const struct rib_event *ev);
/* The streaming response for one client. */
struct MHD_Response *sse_response(struct sse_hub *h);

#endif
