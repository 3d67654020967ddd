/* config: see config.h. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/check.h"
#include "common/log.h"
#include "feed.h"

void config_defaults(struct pw_config *c)
{
	memset(c, 0, sizeof *c);
	c->bmp_listen = pw_strdup("0.0.0.0:1790");
	c->http_listen = pw_strdup("127.0.0.1:8080");
	c->db = pw_strdup("pathwatch.db");
	c->max_message_bytes = 1u << 20;
	c->resync_timeout_s = 120;
	c->series_interval_ms = 10000;
	c->log_level = pw_strdup("info");
	c->max_routers = 256;
	c->bmp_message_timeout_ms = 60000;
	c->http_max_body_bytes = 64 * 1024;
	c->http_rate_limit = 50;
	c->http_rate_burst = 200;
}

void config_free(struct pw_config *c)
{
	free(c->bmp_listen);
	free(c->http_listen);
	free(c->db);
	free(c->log_level);
	free(c->bmp_allow);
	free(c->http_tls_cert);
	free(c->http_tls_key);
	free(c->http_tls_cert_pem);
	if (c->http_tls_key_pem) /* a private key does not linger in freed memory */
		explicit_bzero(c->http_tls_key_pem, strlen(c->http_tls_key_pem));
	free(c->http_tls_key_pem);
	for (size_t i = 0; i < c->n_routers; i++)
		free((char *)c->routers[i].name);
	free(c->routers);
	free(c->api_token);
	for (size_t i = 0; i < c->n_sites; i++)
		site_free(&c->sites[i]);
	free(c->sites);
	notify_conf_free(&c->notify);
}

struct errbuf {
	const char *file;
	char *buf;
	size_t n, used;
	int count;
};

static void err_at(struct errbuf *e, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	e->count++;
	if (e->used >= e->n)
		return;
	int k = snprintf(e->buf + e->used, e->n - e->used, "%s:%lu: ", e->file,
			 node ? (unsigned long)node->start_mark.line + 1 : 0UL);
	if (k > 0)
		e->used += (size_t)k;
	if (e->used >= e->n)
		return;
	va_start(ap, fmt);
	k = vsnprintf(e->buf + e->used, e->n - e->used, fmt, ap);
	va_end(ap);
	if (k > 0)
		e->used += (size_t)k;
	if (e->used < e->n - 1) {
		e->buf[e->used++] = '\n';
		e->buf[e->used] = 0;
	}
}

static const char *scalar(yaml_node_t *n) { return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL; }

static void set_string(struct errbuf *e, yaml_node_t *v, const char *key, char **dst)
{
	const char *s = scalar(v);
	if (!s || !*s) {
		err_at(e, v, "%s: expected a non-empty string", key);
		return;
	}
	free(*dst);
	*dst = pw_strdup(s);
}

static void set_uint(struct errbuf *e, yaml_node_t *v, const char *key, uint32_t *dst, uint32_t min, uint32_t max)
{
	const char *s = scalar(v);
	char *end;
	errno = 0;
	unsigned long x = s ? strtoul(s, &end, 10) : 0;
	if (!s || !*s || *end || errno || x < min || x > max || s[0] == '-') {
		err_at(e, v, "%s: expected a whole number from %u to %u", key, min, max);
		return;
	}
	*dst = (uint32_t)x;
}

/* A PEM file (certificate or private key) read whole. */
static void set_pem(struct errbuf *e, yaml_node_t *v, const char *key, const char *kind, char **path, char **pem)
{
	set_string(e, v, key, path);
	if (!*path)
		return;
	FILE *f = fopen(*path, "rb");
	if (!f) {
		err_at(e, v, "%s: %s: %s", key, *path, strerror(errno));
		return;
	}
	size_t cap = 1 << 20;
	char *buf = pw_malloc(cap + 1);
	size_t len = fread(buf, 1, cap, f);
	bool too_big = len == cap && fgetc(f) != EOF;
	fclose(f);
	buf[len] = 0;
	if (too_big || !strstr(buf, "-----BEGIN ") || !strstr(buf, kind)) {
		err_at(e, v, "%s: %s: not a PEM %s", key, *path, kind);
		explicit_bzero(buf, len);
		free(buf);
		return;
	}
	free(*pem);
	*pem = buf;
}

static void set_listen(struct errbuf *e, yaml_node_t *v, const char *key, char **dst)
{
	struct sockaddr_storage ss;
	char why[160];
	const char *s = scalar(v);
	if (!s || feed_parse_listen(s, &ss, why, sizeof why)) {
		err_at(e, v, "%s: %s", key, s ? why : "expected ADDR:PORT");
		return;
	}
	set_string(e, v, key, dst);
}

static void load_routers(struct pw_config *c, yaml_document_t *doc, yaml_node_t *seq, struct errbuf *e)
{
	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(e, seq, "routers: expected a list");
		return;
	}
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *map = yaml_document_get_node(doc, *it);
		if (map->type != YAML_MAPPING_NODE) {
			err_at(e, map, "routers: each entry is a mapping with a name");
			continue;
		}
		struct rib_router_conf rc = { NULL, -1 };
		char *name = NULL;
		for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
			const char *key = scalar(k), *val = scalar(v);
			if (key && !strcmp(key, "name"))
				set_string(e, v, "name", &name);
			else if (key && !strcmp(key, "normalize_as_path")) {
				if (val && !strcmp(val, "auto"))
					rc.normalize_as_path = -1;
				else if (val && (!strcmp(val, "yes") || !strcmp(val, "true")))
					rc.normalize_as_path = 1;
				else if (val && (!strcmp(val, "no") || !strcmp(val, "false")))
					rc.normalize_as_path = 0;
				else
					err_at(e, v, "normalize_as_path: expected auto, yes or no");
			} else
				err_at(e, k, "routers: unknown key \"%s\"", key ? key : "?");
		}
		if (!name) {
			err_at(e, map, "routers: entry without a name");
			continue;
		}
		rc.name = name;
		c->routers = pw_realloc(c->routers, (c->n_routers + 1) * sizeof *c->routers);
		c->routers[c->n_routers++] = rc;
	}
}


/* ------------------------------------------------------------------ sites */

typedef yaml_node_pair_t pair_t;
#define FOR_PAIRS(map, it) for (pair_t *it = (map)->data.mapping.pairs.start; it < (map)->data.mapping.pairs.top; it++)

static bool want_map(struct errbuf *e, yaml_node_t *n, const char *what)
{
	if (n && n->type == YAML_MAPPING_NODE)
		return true;
	err_at(e, n, "%s: expected a mapping", what);
	return false;
}

static bool want_seq(struct errbuf *e, yaml_node_t *n, const char *what)
{
	if (n && n->type == YAML_SEQUENCE_NODE)
		return true;
	err_at(e, n, "%s: expected a list", what);
	return false;
}

/* "500ms", "10s", "2m", "1h", "90d", or plain seconds. */
static void set_duration(struct errbuf *e, yaml_node_t *v, const char *key, int64_t *ms)
{
	const char *s = scalar(v);
	char *end;
	errno = 0;
	double x = s ? strtod(s, &end) : -1;
	if (!s || end == s || !(x >= 0) || isinf(x) || errno) { /* also refuses nan and inf */
		err_at(e, v, "%s: expected a duration like 500ms, 10s, 5m, 2h or 90d", key);
		return;
	}
	double mult = !*end || !strcmp(end, "s") ? 1000 : !strcmp(end, "ms") ? 1 : !strcmp(end, "m") ? 60000
		      : !strcmp(end, "h") ? 3600000 : !strcmp(end, "d") ? 86400000 : -1;
	if (mult < 0) {
		err_at(e, v, "%s: unknown unit \"%s\" (ms, s, m, h, d)", key, end);
		return;
	}
	if (x * mult > 100 * 365 * 86400000.0) { /* and an int64_t holds it */
		err_at(e, v, "%s: longer than 100 years", key);
		return;
	}
	*ms = (int64_t)(x * mult);
}

static void set_asn(struct errbuf *e, yaml_node_t *v, const char *key, uint32_t *dst)
{
	set_uint(e, v, key, dst, 1, 4294967295u);
}

static void set_prefixes(struct errbuf *e, yaml_node_t *v, yaml_document_t *doc, const char *key,
			 struct pw_prefix **out, size_t *n)
{
	if (!want_seq(e, v, key))
		return;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *x = yaml_document_get_node(doc, *it);
		const char *why = "expected a prefix";
		struct pw_prefix pfx;
		if (!scalar(x) || pw_prefix_parse(scalar(x), &pfx, &why)) {
			err_at(e, x, "%s: \"%s\": %s", key, scalar(x) ? scalar(x) : "?", why);
			continue;
		}
		*out = pw_realloc(*out, (*n + 1) * sizeof **out);
		(*out)[(*n)++] = pfx;
	}
}

/* { router: NAME, peer: ADDRESS [, name: TEXT] [, link: primary|secondary] } */
static void peer_ref(struct errbuf *e, yaml_document_t *doc, yaml_node_t *m, const char *what, struct site_peer_ref *r,
		     bool named, bool linked)
{
	memset(r, 0, sizeof *r);
	r->link = -1;
	if (!want_map(e, m, what))
		return;
	FOR_PAIRS(m, it_k) {
		yaml_node_t *k = yaml_document_get_node(doc, it_k->key), *v = yaml_document_get_node(doc, it_k->value);
		const char *key = scalar(k) ? scalar(k) : "?";
		if (!strcmp(key, "router"))
			set_string(e, v, "router", &r->router);
		else if (!strcmp(key, "peer")) {
			struct pw_prefix pfx;
			const char *why = "expected an address";
			if (!scalar(v) || pw_prefix_parse(scalar(v), &pfx, &why) || pfx.len != pw_afi_maxlen(pfx.afi))
				err_at(e, v, "%s.peer: \"%s\": %s", what, scalar(v) ? scalar(v) : "?",
				       strcmp(why, "expected an address") ? why : "expected an IP address");
			else {
				set_string(e, v, "peer", &r->peer);
				r->afi = pfx.afi;
				memcpy(r->addr, pfx.addr, 16);
			}
		} else if (named && !strcmp(key, "name"))
			set_string(e, v, "name", &r->name);
		else if (linked && !strcmp(key, "link")) {
			const char *l = scalar(v);
			if (l && !strcmp(l, "primary"))
				r->link = 0;
			else if (l && !strcmp(l, "secondary"))
				r->link = 1;
			else
				err_at(e, v, "%s.link: expected primary or secondary", what);
		} else
			err_at(e, k, "%s: unknown key \"%s\"", what, key);
	}
	if (!r->router || !r->peer)
		err_at(e, m, "%s: needs router and peer", what);
}

static void peer_list(struct errbuf *e, yaml_document_t *doc, yaml_node_t *v, const char *what,
		      struct site_peer_ref **out, size_t *n, bool named, bool linked)
{
	if (!want_seq(e, v, what))
		return;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		*out = pw_realloc(*out, (*n + 1) * sizeof **out);
		peer_ref(e, doc, yaml_document_get_node(doc, *it), what, &(*out)[(*n)++], named, linked);
	}
}

static void rule_settings(struct errbuf *e, yaml_document_t *doc, yaml_node_t *m, const char *what,
			  struct rule_conf *rc)
{
	if (!want_map(e, m, what))
		return;
	FOR_PAIRS(m, it_k) {
		yaml_node_t *k = yaml_document_get_node(doc, it_k->key), *v = yaml_document_get_node(doc, it_k->value);
		const char *key = scalar(k) ? scalar(k) : "?";
		if (!strcmp(key, "for"))
			set_duration(e, v, "for", &rc->for_ms);
		else if (!strcmp(key, "hold"))
			set_duration(e, v, "hold", &rc->hold_ms);
		else if (!strcmp(key, "severity")) {
			if (!scalar(v) || severity_parse(scalar(v), &rc->severity))
				err_at(e, v, "%s.severity: expected info, warning or critical", what);
		} else if (!strcmp(key, "enabled")) {
			const char *b = scalar(v);
			if (b && (!strcmp(b, "true") || !strcmp(b, "yes")))
				rc->enabled = true;
			else if (b && (!strcmp(b, "false") || !strcmp(b, "no")))
				rc->enabled = false;
			else
				err_at(e, v, "%s.enabled: expected true or false", what);
		} else
			err_at(e, k, "%s: unknown key \"%s\"", what, key);
	}
}

static bool site_has_router(const struct site *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_routers; i++)
		if (!strcmp(s->routers[i], name))
			return true;
	return false;
}

static void load_site(struct pw_config *c, yaml_document_t *doc, yaml_node_t *m, struct errbuf *e)
{
	struct site s;
	memset(&s, 0, sizeof s);
	s.failover_ms = 10000;
	s.drill_period_ms = 90LL * 86400000;
	s.initial_sync_ms = 60000;
	struct rule_conf def = { 5000, 10000, SEV_WARNING, true };
	yaml_node_t *rules = NULL;
	if (!want_map(e, m, "sites[]"))
		return;
	FOR_PAIRS(m, it_k) {
		yaml_node_t *k = yaml_document_get_node(doc, it_k->key), *v = yaml_document_get_node(doc, it_k->value);
		const char *key = scalar(k) ? scalar(k) : "?";
		if (!strcmp(key, "name"))
			set_string(e, v, "name", &s.name);
		else if (!strcmp(key, "description"))
			set_string(e, v, "description", &s.description);
		else if (!strcmp(key, "routers")) {
			if (!want_seq(e, v, "routers"))
				continue;
			for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
				yaml_node_t *x = yaml_document_get_node(doc, *it);
				if (!scalar(x) || !*scalar(x)) {
					err_at(e, x, "routers: expected router names");
					continue;
				}
				s.routers = pw_realloc(s.routers, (s.n_routers + 1) * sizeof *s.routers);
				s.routers[s.n_routers++] = pw_strdup(scalar(x));
			}
		} else if (!strcmp(key, "expressroute")) {
			if (!want_map(e, v, "expressroute"))
				continue;
			FOR_PAIRS(v, it_k2) {
				yaml_node_t *k2 = yaml_document_get_node(doc, it_k2->key), *v2 = yaml_document_get_node(doc, it_k2->value);
				const char *key2 = scalar(k2) ? scalar(k2) : "?";
				int i = !strcmp(key2, "primary") ? 0 : !strcmp(key2, "secondary") ? 1 : -1;
				if (i < 0) {
					err_at(e, k2, "expressroute: unknown key \"%s\" (primary, secondary)", key2);
					continue;
				}
				if (s.has_er[i]) { /* libyaml keeps duplicate keys */
					err_at(e, k2, "expressroute.%s given twice", key2);
					continue;
				}
				peer_ref(e, doc, v2, i ? "expressroute.secondary" : "expressroute.primary", &s.er[i], false, false);
				s.has_er[i] = true;
			}
		} else if (!strcmp(key, "er_paths"))
			peer_list(e, doc, v, "er_paths", &s.er_paths, &s.n_er_paths, false, true);
		else if (!strcmp(key, "vpn"))
			peer_list(e, doc, v, "vpn", &s.vpn, &s.n_vpn, true, false);
		else if (!strcmp(key, "onprem_prefixes"))
			set_prefixes(e, v, doc, key, &s.onprem, &s.n_onprem);
		else if (!strcmp(key, "azure_prefixes"))
			set_prefixes(e, v, doc, key, &s.azure, &s.n_azure);
		else if (!strcmp(key, "asns")) {
			if (!want_map(e, v, "asns"))
				continue;
			FOR_PAIRS(v, it_k2) {
				yaml_node_t *k2 = yaml_document_get_node(doc, it_k2->key), *v2 = yaml_document_get_node(doc, it_k2->value);
				const char *key2 = scalar(k2) ? scalar(k2) : "?";
				if (!strcmp(key2, "msee"))
					set_asn(e, v2, "asns.msee", &s.asn_msee);
				else if (!strcmp(key2, "vpn_gateway"))
					set_asn(e, v2, "asns.vpn_gateway", &s.asn_vpn);
				else if (!strcmp(key2, "onprem"))
					set_asn(e, v2, "asns.onprem", &s.asn_onprem);
				else
					err_at(e, k2, "asns: unknown key \"%s\" (msee, vpn_gateway, onprem)", key2);
			}
		} else if (!strcmp(key, "er_local_pref"))
			set_uint(e, v, key, &s.er_local_pref, 0, 4294967295u);
		else if (!strcmp(key, "failover_time"))
			set_duration(e, v, key, &s.failover_ms);
		else if (!strcmp(key, "drill_period"))
			set_duration(e, v, key, &s.drill_period_ms);
		else if (!strcmp(key, "initial_sync_timeout"))
			set_duration(e, v, key, &s.initial_sync_ms);
		else if (!strcmp(key, "feed_silence"))
			set_duration(e, v, key, &s.feed_silence_ms);
		else if (!strcmp(key, "rules"))
			rules = v;
		else
			err_at(e, k, "sites[]: unknown key \"%s\"", key);
	}
	/* rules: "default" first, then each rule over it */
	if (rules && want_map(e, rules, "rules")) {
		FOR_PAIRS(rules, it_r) {
			yaml_node_t *v = yaml_document_get_node(doc, it_r->value);
			const char *key = scalar(yaml_document_get_node(doc, it_r->key));
			if (key && !strcmp(key, "default"))
				rule_settings(e, doc, v, "rules.default", &def);
		}
	}
	for (int i = 0; i < RULE_COUNT; i++)
		s.rules[i] = def;
	if (rules && rules->type == YAML_MAPPING_NODE) {
		FOR_PAIRS(rules, it_k) {
			yaml_node_t *k = yaml_document_get_node(doc, it_k->key), *v = yaml_document_get_node(doc, it_k->value);
			const char *key = scalar(k) ? scalar(k) : "?";
			enum rule_id r;
			char what[64];
			if (!strcmp(key, "default"))
				continue;
			if (rule_parse(key, &r)) {
				err_at(e, k, "rules: no rule named \"%s\"", key);
				continue;
			}
			snprintf(what, sizeof what, "rules.%s", key);
			rule_settings(e, doc, v, what, &s.rules[r]);
		}
	}
	if (!s.name)
		err_at(e, m, "sites[]: a site needs a name");
	if (!s.n_routers)
		err_at(e, m, "site %s: routers: list the routers that send BMP", s.name ? s.name : "?");
	for (size_t i = 0; i < c->n_sites; i++)
		if (s.name && c->sites[i].name && !strcmp(c->sites[i].name, s.name))
			err_at(e, m, "site %s: defined twice", s.name);
	struct site_peer_ref *all[64];
	size_t n = 0;
	for (int i = 0; i < 2; i++)
		if (s.has_er[i])
			all[n++] = &s.er[i];
	for (size_t i = 0; i < s.n_er_paths && n < 64; i++)
		all[n++] = &s.er_paths[i];
	for (size_t i = 0; i < s.n_vpn && n < 64; i++)
		all[n++] = &s.vpn[i];
	for (size_t i = 0; i < n; i++)
		if (all[i]->router && !site_has_router(&s, all[i]->router))
			err_at(e, m, "site %s: router %s is used but not listed in routers", s.name ? s.name : "?", all[i]->router);
	c->sites = pw_realloc(c->sites, (c->n_sites + 1) * sizeof *c->sites);
	c->sites[c->n_sites++] = s;
}

static void load_api(struct pw_config *c, yaml_document_t *doc, yaml_node_t *m, struct errbuf *e)
{
	if (!want_map(e, m, "api"))
		return;
	FOR_PAIRS(m, it_k) {
		yaml_node_t *k = yaml_document_get_node(doc, it_k->key), *v = yaml_document_get_node(doc, it_k->value);
		const char *key = scalar(k) ? scalar(k) : "?";
		char *val = NULL;
		if (!strcmp(key, "token"))
			set_string(e, v, key, &val);
		else if (!strcmp(key, "token_file")) {
			char *path = NULL;
			set_string(e, v, key, &path);
			FILE *f = path ? fopen(path, "r") : NULL;
			char buf[512];
			if (path && !f)
				err_at(e, v, "token_file: %s: %s", path, strerror(errno));
			else if (f) {
				size_t len = fread(buf, 1, sizeof buf - 1, f);
				buf[len] = 0;
				buf[strcspn(buf, "\r\n")] = 0;
				if (!*buf)
					err_at(e, v, "token_file: %s is empty", path);
				else
					val = pw_strdup(buf);
				fclose(f);
			}
			free(path);
		} else if (!strcmp(key, "token_env")) {
			const char *name = scalar(v), *env = name ? getenv(name) : NULL;
			if (!name || !*name)
				err_at(e, v, "token_env: expected a variable name");
			else if (!env || !*env)
				PW_WARN("msg=\"api.token_env is not set: write endpoints will be refused\" variable=%s", name);
			else
				val = pw_strdup(env);
		} else
			err_at(e, k, "api: unknown key \"%s\" (token, token_file, token_env)", key);
		if (val) {
			free(c->api_token);
			c->api_token = val;
		}
	}
}

/* ------------------------------------------------------------- receivers */

/* A secret from the file itself, a file, or the environment. */
static void set_secret(struct errbuf *e, yaml_node_t *v, const char *key, const char *how, char **dst)
{
	const char *s = scalar(v);
	if (!s || !*s) {
		err_at(e, v, "%s: expected a non-empty string", key);
		return;
	}
	char *val = NULL;
	if (!strcmp(how, "env")) {
		const char *env = getenv(s);
		if (!env || !*env) {
			err_at(e, v, "%s: environment variable %s is not set", key, s);
			return;
		}
		val = pw_strdup(env);
	} else if (!strcmp(how, "file")) {
		FILE *f = fopen(s, "r");
		char buf[1024];
		if (!f) {
			err_at(e, v, "%s: %s: %s", key, s, strerror(errno));
			return;
		}
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		buf[strcspn(buf, "\r\n")] = 0;
		if (!*buf) {
			err_at(e, v, "%s: %s is empty", key, s);
			return;
		}
		val = pw_strdup(buf);
	} else
		val = pw_strdup(s);
	free(*dst);
	*dst = val;
}

static void load_receivers(struct pw_config *c, yaml_document_t *doc, yaml_node_t *seq, struct errbuf *e)
{
	if (!want_seq(e, seq, "receivers"))
		return;
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = yaml_document_get_node(doc, *it);
		struct receiver_conf r = { 0 };
		r.timeout_ms = 10000;
		bool has_format = false;
		if (!want_map(e, m, "receivers[]"))
			continue;
		FOR_PAIRS(m, it_k) {
			yaml_node_t *k = yaml_document_get_node(doc, it_k->key), *v = yaml_document_get_node(doc, it_k->value);
			const char *key = scalar(k) ? scalar(k) : "?";
			if (!strcmp(key, "name"))
				set_string(e, v, key, &r.name);
			else if (!strcmp(key, "format")) {
				if (!scalar(v) || notify_format_parse(scalar(v), &r.format))
					err_at(e, v, "format: expected generic, alertmanager, pagerduty or slack");
				has_format = true;
			} else if (!strcmp(key, "url") || !strcmp(key, "url_file") || !strcmp(key, "url_env"))
				set_secret(e, v, key, key[3] == '_' ? key + 4 : "", &r.url);
			else if (!strcmp(key, "secret") || !strcmp(key, "secret_file") || !strcmp(key, "secret_env") ||
				 !strcmp(key, "routing_key") || !strcmp(key, "routing_key_file") || !strcmp(key, "routing_key_env")) {
				const char *us = strrchr(key, '_');
				set_secret(e, v, key, us && (!strcmp(us, "_file") || !strcmp(us, "_env")) ? us + 1 : "", &r.secret);
			} else if (!strcmp(key, "timeout"))
				set_duration(e, v, key, &r.timeout_ms);
			else
				err_at(e, k, "receivers[]: unknown key \"%s\"", key);
		}
		if (!r.name || !r.url || !has_format) {
			err_at(e, m, "receivers[]: needs name, format and url (or url_file / url_env)");
		} else if (strncmp(r.url, "http://", 7) && strncmp(r.url, "https://", 8))
			err_at(e, m, "receiver %s: url must be http:// or https://", r.name);
		else if (r.format == NF_PAGERDUTY && !r.secret)
			err_at(e, m, "receiver %s: pagerduty needs routing_key (or routing_key_file / routing_key_env)", r.name);
		for (size_t i = 0; r.name && i < c->notify.n_receivers; i++)
			if (c->notify.receivers[i].name && !strcmp(c->notify.receivers[i].name, r.name))
				err_at(e, m, "receiver %s: defined twice", r.name);
		c->notify.receivers = pw_realloc(c->notify.receivers, (c->notify.n_receivers + 1) * sizeof r);
		c->notify.receivers[c->notify.n_receivers++] = r;
	}
}

static void load_routes(struct pw_config *c, yaml_document_t *doc, yaml_node_t *seq, struct errbuf *e)
{
	if (!want_seq(e, seq, "routes"))
		return;
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = yaml_document_get_node(doc, *it);
		struct route_conf r = { .severity = -1, .group_wait_ms = 10000, .repeat_ms = 4 * 3600000LL };
		if (!want_map(e, m, "routes[]"))
			continue;
		FOR_PAIRS(m, it_k) {
			yaml_node_t *k = yaml_document_get_node(doc, it_k->key), *v = yaml_document_get_node(doc, it_k->value);
			const char *key = scalar(k) ? scalar(k) : "?";
			if (!strcmp(key, "receiver"))
				set_string(e, v, key, &r.receiver);
			else if (!strcmp(key, "match")) {
				if (!want_map(e, v, "match"))
					continue;
				FOR_PAIRS(v, it_m) {
					yaml_node_t *k2 = yaml_document_get_node(doc, it_m->key), *v2 = yaml_document_get_node(doc, it_m->value);
					const char *key2 = scalar(k2) ? scalar(k2) : "?";
					enum rule_id rid;
					enum severity sev;
					if (!strcmp(key2, "site"))
						set_string(e, v2, key2, &r.site);
					else if (!strcmp(key2, "rule")) {
						if (!scalar(v2) || rule_parse(scalar(v2), &rid))
							err_at(e, v2, "match.rule: no rule named \"%s\"", scalar(v2) ? scalar(v2) : "?");
						else
							set_string(e, v2, key2, &r.rule);
					} else if (!strcmp(key2, "severity")) {
						if (!scalar(v2) || severity_parse(scalar(v2), &sev))
							err_at(e, v2, "match.severity: expected info, warning or critical");
						else
							r.severity = (int)sev;
					} else
						err_at(e, k2, "match: unknown key \"%s\" (site, rule, severity)", key2);
				}
			} else if (!strcmp(key, "continue")) {
				const char *b = scalar(v);
				if (b && (!strcmp(b, "true") || !strcmp(b, "false")))
					r.cont = !strcmp(b, "true");
				else
					err_at(e, v, "continue: expected true or false");
			} else if (!strcmp(key, "group_wait"))
				set_duration(e, v, key, &r.group_wait_ms);
			else if (!strcmp(key, "repeat_interval"))
				set_duration(e, v, key, &r.repeat_ms);
			else
				err_at(e, k, "routes[]: unknown key \"%s\"", key);
		}
		if (!r.receiver)
			err_at(e, m, "routes[]: needs a receiver");
		c->notify.routes = pw_realloc(c->notify.routes, (c->notify.n_routes + 1) * sizeof r);
		c->notify.routes[c->notify.n_routes++] = r;
	}
}

static void load_collector(struct pw_config *c, yaml_document_t *doc, yaml_node_t *map, struct errbuf *e)
{
	if (map->type != YAML_MAPPING_NODE) {
		err_at(e, map, "collector: expected a mapping");
		return;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
		const char *key = scalar(k);
		if (!key)
			err_at(e, k, "collector: keys must be plain strings");
		else if (!strcmp(key, "bmp_listen"))
			set_listen(e, v, key, &c->bmp_listen);
		else if (!strcmp(key, "http_listen"))
			set_listen(e, v, key, &c->http_listen);
		else if (!strcmp(key, "db"))
			set_string(e, v, key, &c->db);
		else if (!strcmp(key, "max_message_bytes"))
			set_uint(e, v, key, &c->max_message_bytes, 4096, 64u << 20);
		else if (!strcmp(key, "resync_timeout"))
			set_uint(e, v, key, &c->resync_timeout_s, 1, 86400);
		else if (!strcmp(key, "retention"))
			set_duration(e, v, key, &c->retention_ms);
		else if (!strcmp(key, "series_interval")) {
			int before = e->count;
			set_duration(e, v, key, &c->series_interval_ms);
			if (e->count == before && (c->series_interval_ms < 1000 || c->series_interval_ms > 3600000))
				err_at(e, v, "series_interval: expected from 1s to 1h");
		}
		else if (!strcmp(key, "log_level")) {
			enum pw_log_level lvl;
			if (!scalar(v) || pw_log_parse_level(scalar(v), &lvl))
				err_at(e, v, "log_level: expected error, warn, info or debug");
			else
				set_string(e, v, key, &c->log_level);
		} else if (!strcmp(key, "bmp_allow")) {
			free(c->bmp_allow);
			c->bmp_allow = NULL;
			c->n_bmp_allow = 0;
			set_prefixes(e, v, doc, key, &c->bmp_allow, &c->n_bmp_allow);
			if (v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.start == v->data.sequence.items.top)
				err_at(e, v, "bmp_allow: an empty list refuses every router (leave the key out to allow any address)");
		} else if (!strcmp(key, "max_routers"))
			set_uint(e, v, key, &c->max_routers, 0, 1000000);
		else if (!strcmp(key, "bmp_message_timeout"))
			set_duration(e, v, key, &c->bmp_message_timeout_ms);
		else if (!strcmp(key, "http_tls_cert"))
			set_pem(e, v, key, "CERTIFICATE", &c->http_tls_cert, &c->http_tls_cert_pem);
		else if (!strcmp(key, "http_tls_key"))
			set_pem(e, v, key, "PRIVATE KEY", &c->http_tls_key, &c->http_tls_key_pem);
		else if (!strcmp(key, "http_max_body_bytes"))
			set_uint(e, v, key, &c->http_max_body_bytes, 1024, 16u << 20);
		else if (!strcmp(key, "http_rate_limit"))
			set_uint(e, v, key, &c->http_rate_limit, 0, 1000000);
		else if (!strcmp(key, "http_rate_burst"))
			set_uint(e, v, key, &c->http_rate_burst, 1, 1000000);
		else
			err_at(e, k, "collector: unknown key \"%s\"", key);
	}
	if (!c->http_tls_cert != !c->http_tls_key)
		err_at(e, map, "collector: http_tls_cert and http_tls_key go together");
}

/* The document from an initialised parser: every key checked, errors
 * written to e (FILE:LINE: message). */
static void load_document(struct pw_config *c, yaml_parser_t *parser, struct errbuf *e)
{
	yaml_document_t doc;
	if (!yaml_parser_load(parser, &doc)) {
		e->count++;
		snprintf(e->buf, e->n, "%s:%lu: YAML syntax error: %s\n", e->file,
			 (unsigned long)parser->problem_mark.line + 1, parser->problem ? parser->problem : "unknown");
		return;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key), *v = yaml_document_get_node(&doc, p->value);
			const char *key = scalar(k);
			if (key && !strcmp(key, "collector"))
				load_collector(c, &doc, v, e);
			else if (key && !strcmp(key, "routers"))
				load_routers(c, &doc, v, e);
			else if (key && !strcmp(key, "api"))
				load_api(c, &doc, v, e);
			else if (key && !strcmp(key, "receivers"))
				load_receivers(c, &doc, v, e);
			else if (key && !strcmp(key, "routes"))
				load_routes(c, &doc, v, e);
			else if (key && !strcmp(key, "sites")) {
				if (want_seq(e, v, "sites"))
					for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
						load_site(c, &doc, yaml_document_get_node(&doc, *it), e);
			}
			else
				err_at(e, k, "unknown top-level key \"%s\"", key ? key : "?");
		}
	} else if (root && !(root->type == YAML_SCALAR_NODE && !*scalar(root)))
		err_at(e, root, "expected a mapping at the top level");
	for (size_t i = 0; i < c->notify.n_routes; i++) {
		bool found = false;
		for (size_t j = 0; j < c->notify.n_receivers; j++)
			found |= c->notify.routes[i].receiver && c->notify.receivers[j].name &&
				 !strcmp(c->notify.routes[i].receiver, c->notify.receivers[j].name);
		if (c->notify.routes[i].receiver && !found)
			err_at(e, root, "routes: receiver %s is not defined in receivers", c->notify.routes[i].receiver);
	}
	yaml_document_delete(&doc);
}

int config_load(struct pw_config *c, const char *file, char *errs, size_t n)
{
	struct errbuf e = { file, errs, n, 0, 0 };
	if (n)
		errs[0] = 0;
	FILE *f = fopen(file, "rb");
	if (!f) {
		err_at(&e, NULL, "cannot open: %s", strerror(errno));
		return e.count;
	}
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	load_document(c, &parser, &e);
	yaml_parser_delete(&parser);
	fclose(f);
	return e.count;
}

int config_load_mem(struct pw_config *c, const char *name, const void *data, size_t len, char *errs, size_t n)
{
	struct errbuf e = { name, errs, n, 0, 0 };
	if (n)
		errs[0] = 0;
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, data, len);
	load_document(c, &parser, &e);
	yaml_parser_delete(&parser);
	return e.count;
}
