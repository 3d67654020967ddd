/* config: see config.h. */
#include "config.h"

#include <errno.h>
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
	c->log_level = pw_strdup("info");
}

void config_free(struct pw_config *c)
{
	free(c->bmp_listen);
	free(c->http_listen);
	free(c->db);
	free(c->log_level);
	for (size_t i = 0; i < c->n_routers; i++)
		free((char *)c->routers[i].name);
	free(c->routers);
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
		else if (!strcmp(key, "log_level")) {
			enum pw_log_level lvl;
			if (!scalar(v) || pw_log_parse_level(scalar(v), &lvl))
				err_at(e, v, "log_level: expected error, warn, info or debug");
			else
				set_string(e, v, key, &c->log_level);
		} else
			err_at(e, k, "collector: unknown key \"%s\"", key);
	}
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
	yaml_document_t doc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		e.count++;
		snprintf(errs, n, "%s:%lu: YAML syntax error: %s\n", file, (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "unknown");
		yaml_parser_delete(&parser);
		fclose(f);
		return e.count;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key), *v = yaml_document_get_node(&doc, p->value);
			const char *key = scalar(k);
			if (key && !strcmp(key, "collector"))
				load_collector(c, &doc, v, &e);
			else if (key && !strcmp(key, "routers"))
				load_routers(c, &doc, v, &e);
			else
				err_at(&e, k, "unknown top-level key \"%s\"", key ? key : "?");
		}
	} else if (root && !(root->type == YAML_SCALAR_NODE && !*scalar(root)))
		err_at(&e, root, "expected a mapping at the top level");
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return e.count;
}
