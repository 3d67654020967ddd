/* sse: see sse.h. */
#include "sse.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/prefix.h"
#include "rib.h"

enum { SSE_RING = 4096, SSE_ROUTES_PER_SECOND = 200, SSE_PING_S = 15 };

struct sse_hub {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *ring[SSE_RING];   /* formatted events; slot = seq % SSE_RING */
	uint64_t next_seq;      /* sequence of the next event */
	bool closing;
	/* route rate limit (loop thread only) */
	int64_t window_s;
	unsigned routes_in_window;
	bool routes_dropped;
};

struct sse_hub *sse_hub_new(void)
{
	struct sse_hub *h = pw_calloc(1, sizeof *h);
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &ca);
	pthread_condattr_destroy(&ca);
	h->next_seq = 1;
	return h;
}

void sse_hub_close(struct sse_hub *h)
{
	pthread_mutex_lock(&h->lock);
	h->closing = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

void sse_hub_free(struct sse_hub *h)
{
	if (!h)
		return;
	for (int i = 0; i < SSE_RING; i++)
		free(h->ring[i]);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
}

static void push(struct sse_hub *h, char *text)
{
	pthread_mutex_lock(&h->lock);
	size_t slot = h->next_seq % SSE_RING;
	free(h->ring[slot]);
	h->ring[slot] = text;
	h->next_seq++;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

void sse_publish(struct sse_hub *h, const char *event, json_t *data)
{
	char *d = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(data);
	if (!d)
		return;
	size_t n = strlen(event) + strlen(d) + 32;
	char *text = pw_malloc(n);
	snprintf(text, n, "event: %s\ndata: %s\n\n", event, d);
	free(d);
	push(h, text);
}

void sse_rib_event(void *arg, const struct rib_event *ev)
{
	struct sse_hub *h = arg;
	char a[PW_ADDRSTRLEN];
	if (ev->kind == RIB_EV_PEER) {
		pw_addr_format(ev->peer->afi, ev->peer->addr, a, sizeof a);
		sse_publish(h, "peer", json_pack("{s:s,s:s,s:s}", "router", ev->router->name, "address", a, "state",
						 ev->peer->up ? "up" : "down"));
		return;
	}
	if (ev->kind != RIB_EV_ROUTE)
		return;
	/* the second of the change's receive time (set by the read that
	 * brought it): a clock read per route was 6 % of a full table's load */
	int64_t s = ev->route->time_us / 1000000;
	if (s != h->window_s) {
		if (h->routes_dropped) /* some were not sent: clients refetch */
			sse_publish(h, "reset", json_pack("{s:s}", "reason", "route events were rate limited"));
		h->window_s = s;
		h->routes_in_window = 0;
		h->routes_dropped = false;
	}
	if (++h->routes_in_window > SSE_ROUTES_PER_SECOND) {
		h->routes_dropped = true;
		return;
	}
	char pf[PW_PREFIXSTRLEN];
	const struct rib_route_change *c = ev->route;
	pw_addr_format(c->peer->afi, c->peer->addr, a, sizeof a);
	pw_prefix_format(&c->prefix, pf, sizeof pf);
	sse_publish(h, "route", json_pack("{s:s,s:s,s:s,s:s,s:s}", "router", ev->router->name, "peer", a, "view",
					  bmp_view_name(c->view), "prefix", pf, "action", rib_action_name(c->action)));
}

/* ------------------------------------------------------------- streaming */

struct client {
	struct sse_hub *h;
	uint64_t next;     /* next sequence to send */
	char *out;         /* text being written */
	size_t len, off;
};

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct client *c = cls;
	if (c->off == c->len) {
		free(c->out);
		c->out = NULL;
		c->len = c->off = 0;
		pthread_mutex_lock(&c->h->lock);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += SSE_PING_S;
		while (!c->h->closing && c->next >= c->h->next_seq)
			if (pthread_cond_timedwait(&c->h->cond, &c->h->lock, &until))
				break;
		if (c->h->closing) {
			pthread_mutex_unlock(&c->h->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		uint64_t oldest = c->h->next_seq > SSE_RING ? c->h->next_seq - SSE_RING : 1;
		if (c->next < oldest) { /* fell behind the ring */
			c->out = pw_strdup("event: reset\ndata: {\"reason\":\"client fell behind\"}\n\n");
			c->next = c->h->next_seq;
		} else if (c->next < c->h->next_seq) {
			c->out = pw_strdup(c->h->ring[c->next % SSE_RING]);
			c->next++;
		} else
			c->out = pw_strdup("event: ping\ndata: {}\n\n"); /* visible to EventSource: a watchdog can use it */
		pthread_mutex_unlock(&c->h->lock);
		c->len = strlen(c->out);
	}
	size_t n = c->len - c->off < max ? c->len - c->off : max;
	memcpy(buf, c->out + c->off, n);
	c->off += n;
	return (ssize_t)n;
}

static void client_free(void *cls)
{
	struct client *c = cls;
	free(c->out);
	free(c);
}

struct MHD_Response *sse_response(struct sse_hub *h)
{
	struct client *c = pw_calloc(1, sizeof *c);
	c->h = h;
	pthread_mutex_lock(&h->lock);
	c->next = h->next_seq; /* only what happens from now on */
	pthread_mutex_unlock(&h->lock);
	c->out = pw_strdup("retry: 3000\nevent: hello\ndata: {}\n\n");
	c->len = strlen(c->out);
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, c, client_free);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return r;
}
