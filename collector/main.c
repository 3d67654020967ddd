/*
 * main: wiring only. Reads the configuration, opens the store and loads the
 * RIB from it, starts the store writer, the BMP listener (libuv loop, this
 * thread) and the HTTP server (its own threads), and shuts them down in
 * reverse order on SIGINT/SIGTERM. Also the offline commands: replay, dump,
 * check-config.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "alerts/alerts.h"
#include "alerts/notify.h"
#include "bmp.h"
#include "common/check.h"
#include "common/loopcall.h"
#include "common/log.h"
#include "common/mono.h"
#include "config.h"
#include "feed.h"
#include "filter_index.h"
#include "ingest.h"
#include "rib.h"
#include "retention.h"
#include "series.h"
#include "store.h"
#include "web/sse.h"
#include "web/web.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"pathwatch %s: passive BMP collector (live RIB, route history, backup-path checks)\n"
		"\n"
		"usage:\n"
		"  pathwatch [--config FILE] [--bmp-listen ADDR:PORT] [--http-listen ADDR:PORT] [--db PATH]\n"
		"            [--log-level error|warn|info|debug]\n"
		"      run the collector (routers connect to the BMP listener; the API is on HTTP)\n"
		"  pathwatch replay FILE.bmp [--router NAME] [--db PATH] [--config FILE]\n"
		"      feed a captured raw BMP stream through the same pipeline into the database\n"
		"  pathwatch dump FILE.bmp\n"
		"      print each message of a captured BMP stream as one JSON line\n"
		"  pathwatch check-config FILE\n"
		"      validate a configuration file; every error is reported with its line\n"
		"\n"
		"options:\n"
		"  --config FILE          YAML configuration (default: none, built-in defaults)\n"
		"  --bmp-listen ADDR:PORT BMP listener (default 0.0.0.0:1790)\n"
		"  --http-listen ADDR:PORT HTTP API (default 127.0.0.1:8080)\n"
		"  --db PATH              SQLite database (default ./pathwatch.db)\n"
		"  --router NAME          replay: name the router (default: its sysName)\n"
		"  --log-level LEVEL      log verbosity (default info)\n"
		"  -h, --help             this text\n"
		"  --version              print the version\n",
		PW_VERSION);
}

struct args {
	const char *command; /* NULL: run */
	const char *file;
	const char *config;
	const char *bmp_listen, *http_listen, *db, *router, *log_level;
};

enum { O_CONFIG = 256, O_BMP, O_HTTP, O_DB, O_ROUTER, O_LOG, O_VERSION };

static int take_option(int c, struct args *a)
{
	switch (c) {
	case O_CONFIG: a->config = optarg; return 0;
	case O_BMP: a->bmp_listen = optarg; return 0;
	case O_HTTP: a->http_listen = optarg; return 0;
	case O_DB: a->db = optarg; return 0;
	case O_ROUTER: a->router = optarg; return 0;
	case O_LOG: a->log_level = optarg; return 0;
	case 'h': usage(stdout); exit(0);
	case O_VERSION: printf("pathwatch %s\n", PW_VERSION); exit(0);
	default: usage(stderr); return -1;
	}
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, 0, O_CONFIG }, { "bmp-listen", required_argument, 0, O_BMP },
		{ "http-listen", required_argument, 0, O_HTTP }, { "db", required_argument, 0, O_DB },
		{ "router", required_argument, 0, O_ROUTER }, { "log-level", required_argument, 0, O_LOG },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, O_VERSION }, { 0, 0, 0, 0 },
	};
	memset(a, 0, sizeof *a);
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
		if (take_option(c, a))
			return -1;
	if (optind < argc) {
		a->command = argv[optind++];
		if (strcmp(a->command, "replay") && strcmp(a->command, "dump") && strcmp(a->command, "check-config")) {
			fprintf(stderr, "pathwatch: unknown command \"%s\"\n", a->command);
			usage(stderr);
			return -1;
		}
		if (optind >= argc) {
			fprintf(stderr, "pathwatch %s: FILE is missing\n", a->command);
			return -1;
		}
		a->file = argv[optind++];
		/* options may also follow the file */
		while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
			if (take_option(c, a))
				return -1;
		if (optind < argc) {
			fprintf(stderr, "pathwatch: unexpected argument \"%s\"\n", argv[optind]);
			return -1;
		}
	}
	if (a->router && (!a->command || strcmp(a->command, "replay"))) {
		fprintf(stderr, "pathwatch: --router applies to replay only\n");
		return -1;
	}
	return 0;
}

/* The flags over the file's values. */
static void apply_flags(const struct args *a, struct pw_config *cfg)
{
#define OVERRIDE(field, val) do { if (val) { free(cfg->field); cfg->field = pw_strdup(val); } } while (0)
	OVERRIDE(bmp_listen, a->bmp_listen);
	OVERRIDE(http_listen, a->http_listen);
	OVERRIDE(db, a->db);
	OVERRIDE(log_level, a->log_level);
#undef OVERRIDE
}

/* Configuration file first, then the flags over it. */
static int load_config(const struct args *a, struct pw_config *cfg)
{
	config_defaults(cfg);
	if (a->config) {
		char errs[4096];
		int n = config_load(cfg, a->config, errs, sizeof errs);
		if (n) {
			fprintf(stderr, "%s", errs);
			fprintf(stderr, "pathwatch: %d error%s in %s\n", n, n == 1 ? "" : "s", a->config);
			return -1;
		}
	}
	apply_flags(a, cfg);
	enum pw_log_level lvl;
	if (pw_log_parse_level(cfg->log_level, &lvl)) {
		fprintf(stderr, "pathwatch: log level must be error, warn, info or debug\n");
		return -1;
	}
	pw_log_set_level(lvl);
	return 0;
}

/* ------------------------------------------------------- file streams */

/* Reads a raw BMP stream from `path` through the framing check, in bounded
 * chunks, calling `fn` per whole message. Returns 0, or -1 after printing
 * why (unreadable file, framing error, trailing partial message). */
static int for_each_message(const char *path, size_t max_msg,
			    void (*fn)(void *ctx, const uint8_t *msg, size_t len, size_t offset), void *ctx)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "pathwatch: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 16, start = 0, end = 0, offset = 0;
	uint8_t *buf = pw_malloc(cap);
	int rc = 0;
	for (;;) {
		size_t got = fread(buf + end, 1, cap - end, f);
		end += got;
		for (;;) {
			size_t len;
			const char *why;
			int fr = bmp_frame_check(buf + start, end - start, max_msg, &len, &why);
			if (fr < 0) {
				fprintf(stderr, "pathwatch: %s: offset %zu: %s\n", path, offset, why);
				rc = -1;
				goto out;
			}
			if (fr == 0) {
				if (len) { /* the header is in: the message needs `len` bytes */
					size_t need = len;
					if (need > cap - start) {
						memmove(buf, buf + start, end - start);
						end -= start;
						start = 0;
						if (need > cap) {
							cap = need;
							buf = pw_realloc(buf, cap);
						}
					}
				}
				break;
			}
			fn(ctx, buf + start, len, offset);
			start += len;
			offset += len;
		}
		if (start) {
			memmove(buf, buf + start, end - start);
			end -= start;
			start = 0;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "pathwatch: %s: read error\n", path);
		rc = -1;
	} else if (end) {
		fprintf(stderr, "pathwatch: %s: %zu trailing bytes after offset %zu are not a whole message\n", path, end,
			offset);
		rc = -1;
	}
out:
	free(buf);
	fclose(f);
	return rc;
}

struct file_ingest {
	struct ingest_session sess;
	size_t messages;
	size_t offset;
};

static void ingest_cb(void *ctx, const uint8_t *msg, size_t len, size_t offset)
{
	struct file_ingest *fi = ctx;
	fi->offset = offset;
	ingest_message(&fi->sess, msg, len, pw_wall_us());
	fi->messages++;
}

static void dump_trace(void *ctx, json_t *msg)
{
	struct file_ingest *fi = ctx;
	json_t *o = json_pack("{s:I}", "offset", (json_int_t)fi->offset);
	json_object_update(o, msg);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(o);
}

static const char *basename_of(const char *p)
{
	const char *b = strrchr(p, '/');
	return b ? b + 1 : p;
}

static int cmd_dump(const struct args *a, const struct pw_config *cfg)
{
	struct rib_config rc = { .resync_timeout_ms = cfg->resync_timeout_s * 1000, .routers = cfg->routers,
				  .n_routers = cfg->n_routers };
	struct rib *rib = rib_new(&rc);
	struct file_ingest fi = { 0 };
	char addr[300];
	snprintf(addr, sizeof addr, "file:%s", basename_of(a->file));
	ingest_init(&fi.sess, rib, addr, cfg->max_message_bytes);
	fi.sess.trace = dump_trace;
	fi.sess.trace_ctx = &fi;
	int r = for_each_message(a->file, cfg->max_message_bytes, ingest_cb, &fi);
	ingest_close(&fi.sess, pw_wall_us());
	rib_free(rib);
	return r ? 1 : 0;
}

static int cmd_replay(const struct args *a, const struct pw_config *cfg)
{
	char err[512];
	struct store *st = store_open(cfg->db, err, sizeof err);
	if (!st) {
		fprintf(stderr, "pathwatch: %s\n", err);
		return 1;
	}
	struct rib_config rc = { .resync_timeout_ms = cfg->resync_timeout_s * 1000, .routers = cfg->routers,
				  .n_routers = cfg->n_routers };
	struct rib *rib = rib_new(&rc);
	if (store_load(st, rib, err, sizeof err)) {
		fprintf(stderr, "pathwatch: %s\n", err);
		store_close(st);
		rib_free(rib);
		return 1;
	}
	store_start(st, rib);
	struct file_ingest fi = { 0 };
	char addr[300];
	snprintf(addr, sizeof addr, "file:%s", basename_of(a->file));
	ingest_init(&fi.sess, rib, addr, cfg->max_message_bytes);
	fi.sess.forced_name = a->router;
	int r = for_each_message(a->file, cfg->max_message_bytes, ingest_cb, &fi);
	ingest_close(&fi.sess, pw_wall_us());
	store_flush(st);
	fprintf(stderr, "pathwatch: replayed %zu messages from %s into %s (%llu history rows in total)\n", fi.messages,
		a->file, cfg->db, (unsigned long long)store_history_rows(st));
	store_close(st);
	rib_free(rib);
	return r ? 1 : 0;
}

/* ------------------------------------------------------------- daemon */

struct daemon {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t rules_timer;
	uv_timer_t rules_soon; /* one-shot: a site's router changed */
	uv_prepare_t publish;  /* before the loop waits: its staged changes to the store */
	struct feed_server *feeds;
	struct rib *rib;
	struct alerts *alerts;
	struct series *series;
	struct retention *retention;
	struct notify *notify;
	struct deliver *deliver;
	struct loopcall *lc;
	struct sse_hub *sse;
	const struct args *args;
	const struct pw_config *cfg;  /* the running configuration */
	/* every configuration loaded by SIGHUP, the running one included: kept
	 * until exit, since other threads may still hold pointers into them */
	struct pw_config **loaded;
	size_t n_loaded;
};

/* alerts -> live event stream */
static void alerts_to_sse(void *ctx, const char *event, json_t *data) { sse_publish(ctx, event, data); }

enum { RULES_TICK_MS = 1000 };

static void rules_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	int64_t now = pw_wall_us();
	alerts_tick(d->alerts, now);
	series_tick(d->series, now);
	retention_tick(d->retention, now);
}

static struct feed_policy feed_policy_of(const struct pw_config *c)
{
	return (struct feed_policy){ c->bmp_allow, c->n_bmp_allow, c->max_routers, c->bmp_message_timeout_ms };
}

/* The keys a reload does not change (listeners, database, HTTP server,
 * token): named in `out` when they differ. */
static void restart_only_changes(const struct pw_config *o, const struct pw_config *n, char *out, size_t len)
{
#define DIFF_STR(k) (!o->k != !n->k || (o->k && strcmp(o->k, n->k)))
	struct {
		const char *name;
		bool differs;
	} keys[] = {
		{ "bmp_listen", DIFF_STR(bmp_listen) }, { "http_listen", DIFF_STR(http_listen) }, { "db", DIFF_STR(db) },
		{ "max_message_bytes", o->max_message_bytes != n->max_message_bytes },
		{ "resync_timeout", o->resync_timeout_s != n->resync_timeout_s },
		{ "http_tls_cert", DIFF_STR(http_tls_cert_pem) }, { "http_tls_key", DIFF_STR(http_tls_key_pem) },
		{ "http_max_body_bytes", o->http_max_body_bytes != n->http_max_body_bytes },
		{ "http_rate_limit", o->http_rate_limit != n->http_rate_limit || o->http_rate_burst != n->http_rate_burst },
		{ "api", DIFF_STR(api_token) }, { "series_interval", o->series_interval_ms != n->series_interval_ms },
		{ "retention", o->retention_ms != n->retention_ms },
	};
#undef DIFF_STR
	size_t used = 0;
	out[0] = 0;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (keys[i].differs && used < len) {
			int k = snprintf(out + used, len - used, "%s%s", used ? "," : "", keys[i].name);
			used += k > 0 ? (size_t)k : 0;
		}
}

/* SIGHUP, on the loop thread: the file read again; if valid, sites, rules,
 * receivers, routes, per-router settings, the BMP policy and the log level
 * take effect without touching a connection; if not, each error is logged
 * and the running configuration stays. */
static void on_reload(uv_signal_t *h, int signum)
{
	(void)signum;
	struct daemon *d = h->data;
	const char *file = d->args->config;
	if (!file) {
		PW_WARN("msg=\"SIGHUP: started without --config, nothing to reload\"");
		return;
	}
	struct pw_config *n = pw_malloc(sizeof *n);
	char errs[4096];
	config_defaults(n);
	int ne = config_load(n, file, errs, sizeof errs);
	enum pw_log_level lvl = PW_LOG_INFO;
	if (!ne) {
		apply_flags(d->args, n);
		ne = pw_log_parse_level(n->log_level, &lvl) ? 1 : 0;
		if (ne)
			snprintf(errs, sizeof errs, "--log-level: expected error, warn, info or debug\n");
	}
	if (ne) {
		PW_ERR("msg=\"configuration reload rejected: the running configuration is kept\" file=%s errors=%d", file, ne);
		for (char *line = strtok(errs, "\n"); line; line = strtok(NULL, "\n"))
			PW_ERR("msg=\"configuration error\" error=\"%s\"", line);
		config_free(n);
		free(n);
		return;
	}
	char restart[256];
	restart_only_changes(d->cfg, n, restart, sizeof restart);
	pw_log_set_level(lvl);
	struct feed_policy fp = feed_policy_of(n);
	feed_server_set_policy(d->feeds, &fp);
	rib_set_router_conf(d->rib, n->routers, n->n_routers);
	alerts_reconfigure(d->alerts, n->sites, n->n_sites);
	notify_reconfigure(d->notify, &n->notify);
	deliver_reconfigure(d->deliver, &n->notify);
	d->loaded = pw_realloc(d->loaded, (d->n_loaded + 1) * sizeof *d->loaded);
	d->loaded[d->n_loaded++] = n;
	d->cfg = n;
	PW_INFO("msg=\"configuration reloaded\" file=%s sites=%zu receivers=%zu routes=%zu bmp_allow=%zu max_routers=%u",
		file, n->n_sites, n->notify.n_receivers, n->notify.n_routes, n->n_bmp_allow, n->max_routers);
	if (*restart)
		PW_WARN("msg=\"changed settings that take effect only at the next restart\" keys=%s", restart);
}

/* A change on a router a site names: the rules run within RULES_SOON_MS
 * (at most that often under churn) instead of waiting for the next tick. */
enum { RULES_SOON_MS = 10 };

static void rules_soon_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	alerts_tick(d->alerts, pw_wall_us());
}

static void rib_to_rules(void *ctx, const struct rib_event *ev)
{
	struct daemon *d = ctx;
	if (ev->kind == RIB_EV_ATTRSET || !ev->router || uv_is_active((uv_handle_t *)&d->rules_soon))
		return;
	if (alerts_watches(d->alerts, ev->router->name))
		uv_timer_start(&d->rules_soon, rules_soon_cb, RULES_SOON_MS, 0);
}

/* The collector's core, stopped in this order on every way out: delivery's
 * last results go into the store queue, and store_close commits every change
 * seen (the loop's stage too) before it closes. */
static void core_close(struct deliver *dl, struct store *st, struct alerts *alerts, struct notify *nt, struct rib *rib)
{
	deliver_stop(dl);
	store_close(st);
	alerts_free(alerts);
	notify_free(nt);
	rib_free(rib);
}

static void publish_cb(uv_prepare_t *h) { store_publish(h->data); }

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	PW_INFO("msg=\"shutting down\" signal=%d", signum);
	loopcall_close(d->lc);
	sse_hub_close(d->sse); /* ends the live streams so the HTTP server can stop */
	uv_timer_stop(&d->rules_timer);
	uv_close((uv_handle_t *)&d->rules_timer, NULL);
	uv_timer_stop(&d->rules_soon);
	uv_close((uv_handle_t *)&d->rules_soon, NULL);
	uv_close((uv_handle_t *)&d->publish, NULL); /* store_close publishes the rest */
	feed_server_stop(d->feeds);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
}

/* Every router connection, HTTP client and database file is a descriptor:
 * take the hard limit (systemd's soft default is 1024) and say whether the
 * configured router limit fits. Running out is survived (accept fails and
 * is counted), not planned for. */
static void raise_fd_limit(const struct pw_config *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	/* routers + HTTP connections (and their database readers) + the rest */
	unsigned long long need = (unsigned long long)cfg->max_routers + 2 * WEB_MAX_CONNECTIONS + 64;
	if (!cfg->max_routers || rl.rlim_cur < need)
		PW_WARN("msg=\"file descriptor limit may be reached: connections beyond it are refused at accept\" "
			"fd_limit=%llu max_routers=%u", (unsigned long long)rl.rlim_cur, cfg->max_routers);
	else
		PW_DEBUG("msg=\"file descriptor limit\" fd_limit=%llu", (unsigned long long)rl.rlim_cur);
}

static int cmd_run(const struct args *args, const struct pw_config *cfg)
{
	char err[512];
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(cfg);
	struct store *st = store_open(cfg->db, err, sizeof err);
	if (!st) {
		PW_ERR("msg=\"cannot open the database\" error=\"%s\"", err);
		return 1;
	}
	struct rib_config rc = { .resync_timeout_ms = cfg->resync_timeout_s * 1000, .routers = cfg->routers,
				  .n_routers = cfg->n_routers };
	struct rib *rib = rib_new(&rc);
	/* made even without receivers: a reload may add some */
	struct deliver *dl = deliver_new(&cfg->notify, st);
	struct notify *nt = notify_new(&cfg->notify, dl);
	struct alerts *alerts = alerts_new(rib, st, cfg->sites, cfg->n_sites, nt, dl);
	int64_t max_note = 0;
	if (store_load(st, rib, err, sizeof err) || alerts_load(alerts, store_load_db(st), err, sizeof err) ||
	    (nt && notify_load(nt, store_load_db(st), err, sizeof err)) ||
	    (dl && (max_note = deliver_load(dl, store_load_db(st), err, sizeof err)) < 0)) {
		PW_ERR("msg=\"cannot load state from the database\" error=\"%s\"", err);
		core_close(dl, st, alerts, nt, rib);
		return 1;
	}
	if (nt)
		notify_set_next_id(nt, max_note + 1);
	store_start(st, rib);
	if (dl && deliver_start(dl, err, sizeof err)) {
		PW_ERR("msg=\"%s\"", err);
		core_close(dl, st, alerts, nt, rib);
		return 1;
	}

	struct daemon d;
	memset(&d, 0, sizeof d);
	uv_loop_init(&d.loop);
	d.alerts = alerts;
	d.series = series_new(rib, st, cfg->series_interval_ms);
	d.retention = retention_new(st, cfg->retention_ms);
	d.rib = rib;
	d.notify = nt;
	d.deliver = dl;
	d.args = args;
	d.cfg = cfg;
	d.lc = loopcall_new(&d.loop);
	d.sse = sse_hub_new();
	rib_subscribe(rib, sse_rib_event, d.sse);
	alerts_set_listener(alerts, alerts_to_sse, d.sse);
	uv_timer_init(&d.loop, &d.rules_timer);
	d.rules_timer.data = &d;
	uv_timer_start(&d.rules_timer, rules_cb, 0, RULES_TICK_MS);
	uv_timer_init(&d.loop, &d.rules_soon);
	d.rules_soon.data = &d;
	uv_prepare_init(&d.loop, &d.publish);
	d.publish.data = st;
	uv_prepare_start(&d.publish, publish_cb);
	rib_subscribe(rib, rib_to_rules, &d);
	d.feeds = feed_server_start(&d.loop, rib, st, cfg->bmp_listen, cfg->max_message_bytes, err, sizeof err);
	struct feed_policy fp = feed_policy_of(cfg);
	if (d.feeds)
		feed_server_set_policy(d.feeds, &fp);
	struct web_ctx wctx = { .rib = rib, .store = st, .alerts = alerts, .lc = d.lc, .sse = d.sse, .api_token = cfg->api_token,
				.db_path = cfg->db, .fidx = fidx_new(), .start_us = pw_wall_us(), .bmp_listen = cfg->bmp_listen,
				.feed_stats = d.feeds ? feed_server_stats(d.feeds) : NULL };
	struct web_options wo = { .listen = cfg->http_listen, .tls_cert = cfg->http_tls_cert_pem,
				  .tls_key = cfg->http_tls_key_pem, .max_body = cfg->http_max_body_bytes,
				  .rate = cfg->http_rate_limit, .burst = cfg->http_rate_burst };
	struct web_server *ws = d.feeds ? web_start(&wo, &wctx, err, sizeof err) : NULL;
	if (!d.feeds || !ws) {
		PW_ERR("msg=\"cannot start\" error=\"%s\"", err);
		loopcall_close(d.lc);
		uv_close((uv_handle_t *)&d.rules_timer, NULL);
		uv_close((uv_handle_t *)&d.rules_soon, NULL);
		uv_close((uv_handle_t *)&d.publish, NULL);
		feed_server_stop(d.feeds);
		uv_run(&d.loop, UV_RUN_DEFAULT);
		feed_server_free(d.feeds);
		loopcall_free(d.lc);
		sse_hub_free(d.sse);
		series_free(d.series);
		retention_free(d.retention);
		core_close(dl, st, alerts, nt, rib);
		fidx_free(wctx.fidx);
		return 1;
	}
	uv_signal_init(&d.loop, &d.sigint);
	uv_signal_init(&d.loop, &d.sigterm);
	uv_signal_init(&d.loop, &d.sighup);
	d.sigint.data = d.sigterm.data = d.sighup.data = &d;
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sighup, on_reload, SIGHUP);
	const char *scheme = cfg->http_tls_cert_pem ? "https" : "http";
	PW_INFO("msg=\"pathwatch started\" version=%s bmp_listen=%s http=%s://%s/ db=%s", PW_VERSION, cfg->bmp_listen,
		scheme, cfg->http_listen, cfg->db);
	fprintf(stderr,
		"pathwatch is running.\n"
		"  Point routers' BMP at %s (FRR: 'bmp connect ADDR port PORT'; GoBGP: [[bmp-servers]]).\n"
		"  API: %s://%s/api/v1/status   Database: %s   Stop: Ctrl-C\n",
		cfg->bmp_listen, scheme, cfg->http_listen, cfg->db);

	if (!cfg->api_token && cfg->n_sites)
		PW_WARN("msg=\"no API token configured: acknowledge, silence and drill requests are refused\"");
	PW_INFO("msg=\"monitoring sites\" sites=%zu receivers=%zu", cfg->n_sites, cfg->notify.n_receivers);

	uv_run(&d.loop, UV_RUN_DEFAULT);

	web_stop(ws); /* after loopcall_close: a waiting handler was failed, not left hanging */
	fidx_free(wctx.fidx);
	feed_server_free(d.feeds);
	loopcall_free(d.lc);
	sse_hub_free(d.sse);
	series_free(d.series);
	retention_free(d.retention);
	core_close(dl, st, alerts, nt, rib);
	uv_loop_close(&d.loop);
	for (size_t i = 0; i < d.n_loaded; i++) {
		config_free(d.loaded[i]);
		free(d.loaded[i]);
	}
	free(d.loaded);
	PW_INFO("msg=\"stopped\"");
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	struct pw_config cfg;
	if (parse_args(argc, argv, &a))
		return 2;
	if (a.command && !strcmp(a.command, "check-config")) {
		struct args ca = a;
		ca.config = a.file;
		if (load_config(&ca, &cfg)) {
			config_free(&cfg);
			return 1;
		}
		printf("%s: ok\n", a.file);
		config_free(&cfg);
		return 0;
	}
	if (load_config(&a, &cfg)) {
		config_free(&cfg);
		return 2;
	}
	int rc;
	if (!a.command)
		rc = cmd_run(&a, &cfg);
	else if (!strcmp(a.command, "replay"))
		rc = cmd_replay(&a, &cfg);
	else
		rc = cmd_dump(&a, &cfg);
	config_free(&cfg);
	return rc;
}
