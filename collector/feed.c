/*
 * feed: libuv TCP listener and per-router connections (stage ①). See feed.h.
 */
#include "feed.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

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
	pw_mono_t partial_since; /* a message (or the first one) is pending since; 0: none */
	uint8_t afi, addr[16];   /* remote address, for the allow-list */
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
	unsigned n_feeds;        /* in the list, closing ones included */
	unsigned n_open;         /* not closing: what max_routers counts */
	bool stopping;
	struct pw_prefix *allow; /* owned copy of the policy's list */
	struct feed_policy policy;
	struct feed_stats stats;
	int fd_ceiling;          /* an accepted descriptor at or above it is refused */
};

const char *feed_refusal_name(enum feed_refusal r)
{
	static const char *const names[FEED_REFUSALS] = { "not_allowed", "router_limit", "fd_limit" };
	return r < FEED_REFUSALS ? names[r] : "?";
}

const char *feed_close_reason_name(enum feed_close_reason r)
{
	static const char *const names[FEED_CLOSE_REASONS] = { "eof", "error", "framing", "timeout", "not_allowed",
								"shutdown" };
	return r < FEED_CLOSE_REASONS ? names[r] : "?";
}

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

static void feed_close(struct feed *f, enum feed_close_reason why)
{
	if (f->closing)
		return;
	f->closing = true;
	f->fs->n_open--;
	atomic_fetch_add(&f->fs->stats.closed[why], 1);
	atomic_store(&f->fs->stats.connected, f->fs->n_open);
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
			PW_REMOTE(PW_LOG_INFO, "msg=\"BMP connection error\" address=%s error=%s", f->sess.address,
				  uv_strerror((int)nread));
		else if (f->end)
			PW_REMOTE(PW_LOG_WARN, "msg=\"BMP connection closed mid-message\" address=%s pending_bytes=%zu",
				  f->sess.address, f->end);
		feed_close(f, nread == UV_EOF ? FEED_CLOSED_EOF : FEED_CLOSED_ERROR);
		return;
	}
	f->end += (size_t)nread;
	int64_t now = pw_wall_us();
	bool completed = false;
	for (;;) {
		size_t len = 0;
		const char *why = NULL;
		int rc = bmp_frame_check(f->buf + f->start, f->end - f->start, fs->max_msg, &len, &why);
		if (rc < 0) {
			ingest_framing_error(&f->sess, why);
			feed_close(f, FEED_CLOSED_FRAMING);
			return;
		}
		if (rc == 0) {
			/* a header announcing a message larger than the buffer:
			 * grow once, up to the (checked) message length */
			if (len > f->cap) {
				f->cap = len;
				f->buf = pw_realloc(f->buf, f->cap);
			}
			break;
		}
		ingest_message(&f->sess, f->buf + f->start, len, now);
		f->start += len;
		completed = true;
	}
	if (f->start) { /* keep the partial message at the front */
		memmove(f->buf, f->buf + f->start, f->end - f->start);
		f->end -= f->start;
		f->start = 0;
	}
	/* the message timeout runs from the first byte of a pending message */
	if (completed || !f->end)
		f->partial_since = f->end ? pw_mono_now() : (pw_mono_t){ 0 };
	else if (!pw_mono_is_set(f->partial_since))
		f->partial_since = pw_mono_now();
	if (fs->store && store_backlogged(fs->store) && !f->paused) {
		uv_read_stop(s);
		f->paused = true;
		PW_DEBUG("msg=\"feed paused: store backlog\" router=%s", f->sess.router ? f->sess.router->name : f->sess.address);
	}
}

/* The peer's address as text (IPv4-mapped IPv6 shown as IPv4) and in
 * f->afi / f->addr; afi stays 0 when unknown. */
static void remote_address(struct feed *f, char *addr, size_t n)
{
	struct sockaddr_storage ss;
	int sl = sizeof ss;
	if (uv_tcp_getpeername(&f->tcp, (struct sockaddr *)&ss, &sl))
		return;
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	memset(f->addr, 0, sizeof f->addr);
	if (ss.ss_family == AF_INET) {
		f->afi = PW_AFI_IPV4;
		memcpy(f->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		const uint8_t *a = (const uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		bool mapped = !memcmp(a, v4mapped, 12);
		f->afi = mapped ? PW_AFI_IPV4 : PW_AFI_IPV6;
		memcpy(f->addr, mapped ? a + 12 : a, mapped ? 4 : 16);
	}
	if (f->afi)
		pw_addr_format(f->afi, f->addr, addr, n);
}

static bool allowed(const struct feed_server *fs, const struct feed *f)
{
	if (!fs->policy.n_allow)
		return true;
	for (size_t i = 0; i < fs->policy.n_allow; i++)
		if (pw_prefix_contains(&fs->policy.allow[i], f->afi, f->addr))
			return true;
	return false;
}

/* A refusal (enum feed_refusal), or -1: welcome. */
static int refused(const struct feed_server *fs, const struct feed *f)
{
	if (!allowed(fs, f))
		return FEED_REFUSED_NOT_ALLOWED;
	if (fs->policy.max_routers && fs->n_open >= fs->policy.max_routers)
		return FEED_REFUSED_ROUTER_LIMIT;
	/* descriptors are handed out lowest first: number N means N are open */
	uv_os_fd_t fd;
	if (fs->fd_ceiling && uv_fileno((const uv_handle_t *)&f->tcp, &fd) == 0 && fd >= fs->fd_ceiling)
		return FEED_REFUSED_FD_LIMIT;
	return -1;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct feed_server *fs = server->data;
	if (status < 0) { /* EMFILE and the like: libuv drops the pending connection, we go on */
		atomic_fetch_add(&fs->stats.accept_errors, 1);
		PW_REMOTE(PW_LOG_WARN, "msg=\"BMP accept failed\" error=%s", uv_strerror(status));
		return;
	}
	struct feed *f = pw_calloc(1, sizeof *f);
	f->fs = fs;
	uv_tcp_init(fs->loop, &f->tcp);
	f->tcp.data = f;
	if (uv_accept(server, (uv_stream_t *)&f->tcp) != 0) {
		atomic_fetch_add(&fs->stats.accept_errors, 1);
		uv_close((uv_handle_t *)&f->tcp, (uv_close_cb)free);
		return;
	}
	char addr[64] = "unknown";
	remote_address(f, addr, sizeof addr);
	int refusal = refused(fs, f);
	if (refusal >= 0) {
		atomic_fetch_add(&fs->stats.refused[refusal], 1);
		PW_REMOTE(PW_LOG_WARN, "msg=\"BMP connection refused\" address=%s reason=%s connected=%u", addr,
			  feed_refusal_name((enum feed_refusal)refusal), fs->n_open);
		uv_close((uv_handle_t *)&f->tcp, (uv_close_cb)free);
		return;
	}
	atomic_fetch_add(&fs->stats.accepted, 1);
	f->partial_since = pw_mono_now();
	ingest_init(&f->sess, fs->rib, addr, fs->max_msg);
	f->cap = FEED_INITIAL_BUF;
	f->buf = pw_malloc(f->cap);
	f->next = fs->feeds;
	if (fs->feeds)
		fs->feeds->prev = f;
	fs->feeds = f;
	fs->n_feeds++;
	fs->n_open++;
	atomic_store(&fs->stats.connected, fs->n_open);
	uv_tcp_nodelay(&f->tcp, 1);
	uv_tcp_keepalive(&f->tcp, 1, 60);
	PW_REMOTE(PW_LOG_INFO, "msg=\"BMP connection accepted\" address=%s", addr);
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
			if (pw_mono_is_set(f->partial_since))
				f->partial_since = pw_mono_now();
			uv_read_start((uv_stream_t *)&f->tcp, alloc_cb, read_cb);
		}
}

void feed_server_set_policy(struct feed_server *fs, const struct feed_policy *p)
{
	free(fs->allow);
	fs->allow = NULL;
	if (p->n_allow) {
		fs->allow = pw_malloc(p->n_allow * sizeof *fs->allow);
		memcpy(fs->allow, p->allow, p->n_allow * sizeof *fs->allow);
	}
	fs->policy = *p;
	fs->policy.allow = fs->allow;
	for (struct feed *f = fs->feeds, *next; f; f = next) {
		next = f->next;
		if (f->closing || allowed(fs, f))
			continue;
		PW_WARN("msg=\"BMP feed closed: its address is no longer in the allow-list\" address=%s router=%s",
			f->sess.address, f->sess.router ? f->sess.router->name : "-");
		feed_close(f, FEED_CLOSED_NOT_ALLOWED);
	}
}

const struct feed_stats *feed_server_stats(const struct feed_server *fs) { return &fs->stats; }

static void drained_cb(uv_async_t *a) { resume_feeds(a->data); }

/* writer thread */
static void store_drained(void *ctx) { uv_async_send(ctx); }

static void tick_cb(uv_timer_t *t)
{
	struct feed_server *fs = t->data;
	rib_tick(fs->rib, pw_wall_us());
	int64_t limit = fs->policy.message_timeout_ms;
	for (struct feed *f = fs->feeds, *next; limit && f; f = next) {
		next = f->next;
		/* a paused feed waits on us, not on its router */
		if (f->closing || f->paused || !pw_mono_is_set(f->partial_since) ||
		    pw_mono_ms_since(f->partial_since) < limit)
			continue;
		PW_REMOTE(PW_LOG_WARN,
			  "msg=\"BMP message not whole within the timeout; closing the feed\" address=%s router=%s "
			  "pending_bytes=%zu timeout_ms=%lld",
			  f->sess.address, f->sess.router ? f->sess.router->name : "-", f->end, (long long)limit);
		feed_close(f, FEED_CLOSED_TIMEOUT);
	}
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
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < INT_MAX) {
		int lim = (int)rl.rlim_cur, reserve = lim / 8 < 16 ? 16 : lim / 8 > 256 ? 256 : lim / 8;
		fs->fd_ceiling = lim - reserve;
	}
	uv_tcp_init(loop, &fs->listener);
	fs->listener.data = fs;
	int rc = uv_tcp_bind(&fs->listener, (struct sockaddr *)&ss, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&fs->listener, 511, on_connection);
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
		feed_close(f, FEED_CLOSED_SHUTDOWN);
}

void feed_server_free(struct feed_server *fs)
{
	if (fs)
		free(fs->allow);
	free(fs);
}
