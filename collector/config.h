/*
 * config: the YAML configuration file (libyaml) and its defaults.
 * Read once at start-up by main.c; every other module gets plain values.
 * Unknown keys and wrong types are errors, each reported with its line.
 *
 *   collector:
 *     bmp_listen: "0.0.0.0:1790"
 *     http_listen: "127.0.0.1:8080"
 *     db: "pathwatch.db"
 *     max_message_bytes: 1048576
 *     resync_timeout: 120        # seconds
 *     series_interval: 10s       # sampling of the dashboard's plots
 *     retention: 0               # history older than this is pruned (0: kept)
 *     log_level: info            # error | warn | info | debug
 *     bmp_allow: [CIDR, ...]     # who may connect (default: anyone)
 *     max_routers: 256           # connected feeds at most
 *     bmp_message_timeout: 60s   # a message must be whole within it
 *     http_tls_cert: FILE, http_tls_key: FILE   # PEM: HTTPS instead of HTTP
 *     http_max_body_bytes: 65536 # request bodies at most
 *     http_rate_limit: 50        # requests/s per client address (0: none)
 *     http_rate_burst: 200
 *   api: { token | token_file | token_env }   # bearer token for write endpoints
 *   sites: [...]                 # see examples/sea-cust11.yaml
 *   receivers: [...], routes: [...]  # pager delivery, see docs/NOTIFICATIONS.md
 *   routers:                     # optional, per router (by sysName or address)
 *     - name: FW
 *       normalize_as_path: auto  # auto | yes | no (FRR's own-AS prepend in BMP)
 */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/notify.h"
#include "alerts/site.h"
#include "rib.h"

struct pw_config {
	char *bmp_listen;
	char *http_listen;
	char *db;
	uint32_t max_message_bytes;
	uint32_t resync_timeout_s;
	int64_t series_interval_ms;
	int64_t retention_ms;            /* 0: history kept for ever */
	char *log_level;
	struct pw_prefix *bmp_allow;     /* empty: any address */
	size_t n_bmp_allow;
	uint32_t max_routers;            /* 0: no limit */
	int64_t bmp_message_timeout_ms;  /* 0: none */
	char *http_tls_cert, *http_tls_key;         /* file paths, or NULL */
	char *http_tls_cert_pem, *http_tls_key_pem; /* their contents, read with the file */
	uint32_t http_max_body_bytes;
	uint32_t http_rate_limit, http_rate_burst;
	struct rib_router_conf *routers; /* names owned here */
	size_t n_routers;
	char *api_token;                 /* bearer token for write endpoints, or NULL */
	struct site *sites;
	size_t n_sites;
	struct notify_conf notify;       /* receivers: and routes: */
};

void config_defaults(struct pw_config *c);
/* Parses FILE over the current values. Returns the number of errors; each
 * is printed to `errs` (one line per error, "FILE:LINE: message"). */
int config_load(struct pw_config *c, const char *file, char *errs, size_t n);
/* The same from `len` bytes in memory (not NUL-terminated); `name` stands
 * for FILE in the messages. Never exits: bad input is only errors. */
int config_load_mem(struct pw_config *c, const char *name, const void *data, size_t len, char *errs, size_t n);
void config_free(struct pw_config *c);

#endif
