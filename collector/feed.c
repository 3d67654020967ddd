/*
 * feed: libuv TCP listener and per-router connections (stage ①). See feed.h.
 */
#include "feed.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmp.h"
#include "common/check.h"
#include "common/log.h"
#include "common/mono.h"
#include "ingest.h"

enum { FEED_INITIAL_BUF = 64 * 1024, FEED_TICK_MS = 1000 };

struct feed {
	uv_tcp_t tcp;          /* handle.data = this feed */
	struct feed_server *fs;
	struct ingest_session sess;
	uint8_t *buf;          /* bounded: cap <= max_msg + FEED_INITIAL_BUF */
	size_t cap, start, end;
	bool paused, closing;
	struct feed *prev, *next;
};

struct feed_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_timer_t tick;
	uv_async_t drained;    /* the store writer: queue below its low watermark */
	struct rib *rib;
	struct store *store;
	size_t max_msg;
	struct feed *feeds;
	unsigned n_feeds;
	bool stopping;
};

int feed_parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t n)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1]) {
		snprintf(err, n, "\"%s\": expected ADDR:PORT", s);
		return -1;
	}
	size_t hl = (size_t)(colon - s);
	if (hl >= sizeof host) {
		snprintf(err, n, "\"%s\": address too long", s);
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535) {
		snprintf(err, n, "\"%s\": port must be 0-65535", s);
		return -1;
	}
	char *h = host;
	if (h[0] == '[' && hl > 2 && h[hl - 1] == ']') {
		h[hl - 1] = 0;
		h++;
	}
	if (uv_ip4_addr(h, (int)port, (struct sockaddr_in *)ss) == 0 && strchr(h, '.'))
		return 0;
	if (uv_ip6_addr(h, (int)port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	snprintf(err, n, "\"%s\": not an IPv4 or IPv6 address", s);
	return -1;
}

static void feed_closed_cb(uv_handle_t *h)
{
	struct feed *f = h->data;
	struct feed_server *fs = f->fs;
	ingest_close(&f->sess, pw_wall_us());
	if (f->prev)
		f->prev->next = f->next;
	else
		fs->feeds = f->next;
	if (f->next)
		f->next->prev = f->prev;
	fs->n_feeds--;
	free(f->buf);
	free(f);
}

static void feed_close(struct feed *f)
{
	if (f->closing)
		return;
	f->closing = true;
	uv_read_stop((uv_stream_t *)&f->tcp);
	uv_close((uv_handle_t *)&f->tcp, feed_closed_cb);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct feed *f = h->data;
	/* hand out the free tail only: the buffer never grows here */
	buf->base = (char *)f->buf + f->end;
	buf->len = f->cap - f->end;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	(void)b;
	struct feed *f = s->data;
	struct feed_server *fs = f->fs;
	if (nread < 0) {
		if (nread != UV_EOF)
			PW_INFO("msg=\"BMP connection error\" address=%s error=%s", f->sess.address, uv_strerror((int)nread));
		feed_close(f);
		return;
	}
	f->end += (size_t)nread;
	int64_t now = pw_wall_us();
	for (;;) {
		size_t len = 0;
		const char *why = NULL;
		int rc = bmp_frame_check(f->buf + f->start, f->end - f->start, fs->max_msg, &len, &why);
		if (rc < 0) {
			ingest_framing_error(&f->sess, why);
			feed_close(f);
			return;
		}
		if (rc == 0) {
			/* a header announcing a message larger than the buffer:
			 * grow once, up to the (checked) message length */
			if (f->end - f->start >= BMP_COMMON_HDR_LEN) {
				size_t need = pw_get32(f->buf + f->start + 1);
				if (need > f->cap) {
					f->cap = need;
					f->buf = pw_realloc(f->buf, f->cap);
				}
			}
			break;
		}
		ingest_message(&f->sess, f->buf + f->start, len, now);
		f->start += len;
	}
	if (f->start) { /* keep the partial message at the front */
		memmove(f->buf, f->buf + f->start, f->end - f->start);
		f->end -= f->start;
		f->start = 0;
	}
	if (fs->store && store_backlogged(fs->store) && !f->paused) {
		uv_read_stop(s);
		f->paused = true;
		PW_DEBUG("msg=\"feed paused: store backlog\" router=%s", f->sess.router ? f->sess.router->name : f->sess.address);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct feed_server *fs = server->data;
	if (status < 0) {
		PW_WARN("msg=\"BMP accept failed\" error=%s", uv_strerror(status));
		return;
	}
	struct feed *f = pw_calloc(1, sizeof *f);
	f->fs = fs;
	uv_tcp_init(fs->loop, &f->tcp);
	f->tcp.data = f;
	if (uv_accept(server, (uv_stream_t *)&f->tcp) != 0) {
		uv_close((uv_handle_t *)&f->tcp, (uv_close_cb)free);
		return;
	}
	struct sockaddr_storage ss;
	int sl = sizeof ss;
	char addr[64] = "unknown";
	if (uv_tcp_getpeername(&f->tcp, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			uv_ip4_name((struct sockaddr_in *)&ss, addr, sizeof addr);
		else
			uv_ip6_name((struct sockaddr_in6 *)&ss, addr, sizeof addr);
		if (strncmp(addr, "::ffff:", 7) == 0)
			memmove(addr, addr + 7, strlen(addr + 7) + 1);
	}
	ingest_init(&f->sess, fs->rib, addr, fs->max_msg);
	f->cap = FEED_INITIAL_BUF;
	f->buf = pw_malloc(f->cap);
	f->next = fs->feeds;
	if (fs->feeds)
		fs->feeds->prev = f;
	fs->feeds = f;
	fs->n_feeds++;
	uv_tcp_nodelay(&f->tcp, 1);
	uv_tcp_keepalive(&f->tcp, 1, 60);
	PW_INFO("msg=\"BMP connection accepted\" address=%s", addr);
	uv_read_start((uv_stream_t *)&f->tcp, alloc_cb, read_cb);
}

/* Resumes the paused feeds unless the store is (again) above its high
 * watermark, in which case the store calls back when it drains. */
static void resume_feeds(struct feed_server *fs)
{
	if (fs->stopping || (fs->store && store_backlogged(fs->store)))
		return;
	for (struct feed *f = fs->feeds; f; f = f->next)
		if (f->paused && !f->closing) {
			f->paused = false;
			uv_read_start((uv_stream_t *)&f->tcp, alloc_cb, read_cb);
		}
}

static void drained_cb(uv_async_t *a) { resume_feeds(a->data); }

/* writer thread */
static void store_drained(void *ctx) { uv_async_send(ctx); }

static void tick_cb(uv_timer_t *t)
{
	struct feed_server *fs = t->data;
	rib_tick(fs->rib, pw_wall_us());
	resume_feeds(fs); /* a safety net: the drain callback resumes them first */
}

struct feed_server *feed_server_start(uv_loop_t *loop, struct rib *rib, struct store *store, const char *listen,
				      size_t max_msg, char *err, size_t n)
{
	struct sockaddr_storage ss;
	if (feed_parse_listen(listen, &ss, err, n))
		return NULL;
	struct feed_server *fs = pw_calloc(1, sizeof *fs);
	fs->loop = loop;
	fs->rib = rib;
	fs->store = store;
	fs->max_msg = max_msg;
	uv_tcp_init(loop, &fs->listener);
	fs->listener.data = fs;
	int rc = uv_tcp_bind(&fs->listener, (struct sockaddr *)&ss, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&fs->listener, 128, on_connection);
	if (rc) {
		snprintf(err, n, "BMP listener on %s: %s", listen, uv_strerror(rc));
		uv_close((uv_handle_t *)&fs->listener, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
		free(fs);
		return NULL;
	}
	uv_timer_init(loop, &fs->tick);
	fs->tick.data = fs;
	uv_timer_start(&fs->tick, tick_cb, FEED_TICK_MS, FEED_TICK_MS);
	uv_async_init(loop, &fs->drained, drained_cb);
	fs->drained.data = fs;
	if (store)
		store_on_drained(store, store_drained, &fs->drained);
	return fs;
}

unsigned feed_server_connections(const struct feed_server *fs) { return fs->n_feeds; }

void feed_server_stop(struct feed_server *fs)
{
	if (!fs || fs->stopping)
		return;
	fs->stopping = true;
	if (fs->store)
		store_on_drained(fs->store, NULL, NULL); /* before the handle goes */
	uv_close((uv_handle_t *)&fs->drained, NULL);
	uv_timer_stop(&fs->tick);
	uv_close((uv_handle_t *)&fs->tick, NULL);
	uv_close((uv_handle_t *)&fs->listener, NULL);
	for (struct feed *f = fs->feeds; f; f = f->next)
		feed_close(f);
}

void feed_server_free(struct feed_server *fs)
{
	free(fs);
}
