/*
 * route_filter: AS path and community patterns for the RIB browser, matched
 * inside SQLite on the stored attribute sets. See route_filter.h.
 */
#include "route_filter.h"

#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "common/check.h"
#include "common/rbuf.h"

static int parse_u32(const char **s, uint32_t max, uint32_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -1;
		p++;
	}
	*s = p;
	*out = (uint32_t)v;
	return 0;
}

int rf_as_path_parse(const char *s, struct rf_as_path *p, const char **why)
{
	memset(p, 0, sizeof *p);
	const char *c = s;
	if (*c == '^') {
		p->anchor_start = true;
		c++;
	}
	for (;;) {
		while (*c == ' ' || *c == '_' || *c == ',')
			c++;
		if (!*c || *c == '$')
			break;
		if (p->n == RF_MAX_ASNS) {
			*why = "at most 32 AS numbers";
			return -1;
		}
		if (parse_u32(&c, UINT32_MAX, &p->asn[p->n])) {
			*why = "expected AS numbers separated by spaces, with an optional ^ (first) and $ (origin)";
			return -1;
		}
		p->n++;
	}
	if (*c == '$') {
		p->anchor_end = true;
		c++;
	}
	if (*c || !p->n) {
		*why = "expected AS numbers separated by spaces, with an optional ^ (first) and $ (origin)";
		return -1;
	}
	return 0;
}

bool rf_as_path_match(const struct rf_as_path *p, const uint32_t *path, int n)
{
	for (int start = 0; start + p->n <= n; start++) {
		if (p->anchor_start && start > 0)
			return false;
		if (p->anchor_end && start + p->n != n)
			continue;
		if (!memcmp(path + start, p->asn, (size_t)p->n * sizeof *path))
			return true;
	}
	return false;
}

int rf_community_parse(const char *s, struct rf_community *c, const char **why)
{
	static const struct { const char *name; uint32_t value; } names[] = {
		{ "no-export", 0xFFFFFF01 }, { "no-advertise", 0xFFFFFF02 },
		{ "no-export-subconfed", 0xFFFFFF03 }, { "blackhole", 0xFFFF029A },
	};
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i].name)) {
			c->v[0] = names[i].value >> 16;
			c->v[1] = names[i].value & 0xFFFF;
			return 0;
		}
	int parts = 1;
	for (const char *p = s; *p; p++)
		parts += *p == ':';
	if (parts != 2 && parts != 3) {
		*why = "expected A:B, A:B:C (large), '*' for any part, or no-export, no-advertise, no-export-subconfed, blackhole";
		return -1;
	}
	c->large = parts == 3;
	const char *p = s;
	for (int i = 0; i < parts; i++) {
		if (*p == '*') {
			c->any[i] = true;
			p++;
		} else if (parse_u32(&p, c->large ? UINT32_MAX : 0xFFFF, &c->v[i])) {
			*why = c->large ? "large community parts are 0 to 4294967295 or '*'" : "community parts are 0 to 65535 or '*'";
			return -1;
		}
		if (i + 1 < parts && *p++ != ':')
			break;
	}
	if (*p) {
		*why = "expected A:B, A:B:C (large), '*' for any part, or a well-known name";
		return -1;
	}
	return 0;
}

bool rf_community_match(const struct rf_community *c, const uint8_t *attrs, size_t len)
{
	struct rbuf v;
	if (!bgp_attrs_find(attrs, len, c->large ? BGP_ATTR_LARGE_COMMUNITIES : BGP_ATTR_COMMUNITIES, &v))
		return false;
	int parts = c->large ? 3 : 2;
	for (;;) {
		uint32_t got[3] = { 0 };
		for (int i = 0; i < parts; i++) {
			uint16_t h;
			if (c->large ? rbuf_u32(&v, &got[i]) : rbuf_u16(&v, &h))
				return false;
			if (!c->large)
				got[i] = h;
		}
		bool ok = true;
		for (int i = 0; i < parts; i++)
			ok = ok && (c->any[i] || got[i] == c->v[i]);
		if (ok)
			return true;
	}
}

/* ------------------------------------------------------------ SQL */

/* The parsed pattern is kept with the statement (sqlite3_set_auxdata):
 * parsed once per query, not once per row. */
static void *pattern(sqlite3_context *ctx, sqlite3_value *arg, int idx, size_t size,
		     int (*parse)(const char *, void *, const char **))
{
	void *p = sqlite3_get_auxdata(ctx, idx);
	if (p)
		return p;
	const char *s = (const char *)sqlite3_value_text(arg), *why = NULL;
	p = pw_malloc(size);
	if (!s || parse(s, p, &why)) {
		free(p);
		sqlite3_result_error(ctx, why ? why : "no pattern", -1);
		return NULL;
	}
	sqlite3_set_auxdata(ctx, idx, p, free);
	return sqlite3_get_auxdata(ctx, idx); /* NULL if SQLite could not keep it */
}

static int parse_as_path(const char *s, void *p, const char **why) { return rf_as_path_parse(s, p, why); }
static int parse_community(const char *s, void *p, const char **why) { return rf_community_parse(s, p, why); }

static void sql_as_path_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const struct rf_as_path *pat = pattern(ctx, argv[2], 2, sizeof *pat, parse_as_path);
	if (!pat)
		return;
	const uint8_t *attrs = sqlite3_value_blob(argv[0]);
	int len = sqlite3_value_bytes(argv[0]);
	uint32_t path[256];
	int n = attrs ? bgp_attrs_as_path(attrs, (size_t)len, path, 256) : 0;
	uint32_t strip = (uint32_t)sqlite3_value_int64(argv[1]);
	int skip = strip && n && path[0] == strip; /* as displayed: FRR's own-AS prepend removed */
	sqlite3_result_int(ctx, attrs && rf_as_path_match(pat, path + skip, n - skip));
}

static void sql_community_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const struct rf_community *pat = pattern(ctx, argv[1], 1, sizeof *pat, parse_community);
	if (!pat)
		return;
	const uint8_t *attrs = sqlite3_value_blob(argv[0]);
	sqlite3_result_int(ctx, attrs && rf_community_match(pat, attrs, (size_t)sqlite3_value_bytes(argv[0])));
}

int rf_register(sqlite3 *db)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	int rc = sqlite3_create_function(db, "pw_as_path_match", 3, flags, NULL, sql_as_path_match, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "pw_community_match", 2, flags, NULL, sql_community_match, NULL, NULL);
	return rc;
}
