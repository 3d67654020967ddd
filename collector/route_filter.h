/*
 * route_filter: the RIB browser's attribute filters (`/api/v1/rib?as_path=
 * &community=`). Patterns are parsed once from the query string (web/qs.c
 * validates them, naming the parameter on error) and matched against the
 * canonical attribute sets stored in SQLite, through two SQL functions that
 * store_reader_open registers on every read-only connection:
 *   pw_as_path_match(attrs, strip_first_as, pattern)
 *   pw_community_match(attrs, pattern)
 *
 * AS path pattern: ASNs separated by spaces, '_' or ','; they must appear
 * consecutively in the path; '^' anchors at the neighbour (first AS), '$' at
 * the origin (last AS):  "12076" (anywhere), "^65020 12076", "65515$".
 * Community: "A:B" (RFC 1997, each 0..65535), "A:B:C" (large, RFC 8092, each
 * 0..4294967295), any part may be '*'; names no-export, no-advertise,
 * no-export-subconfed, blackhole.
 */
#ifndef PW_ROUTE_FILTER_H
#define PW_ROUTE_FILTER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { RF_MAX_ASNS = 32 };

struct rf_as_path {
	uint32_t asn[RF_MAX_ASNS];
	int n;
	bool anchor_start, anchor_end;
};
/* 0, or -1 with *why set. */
int rf_as_path_parse(const char *s, struct rf_as_path *p, const char **why);
bool rf_as_path_match(const struct rf_as_path *p, const uint32_t *path, int n);

struct rf_community {
	bool large;
	uint32_t v[3];
	bool any[3]; /* '*' */
};
int rf_community_parse(const char *s, struct rf_community *c, const char **why);
/* Against a canonical attribute set (collector/bgp.h). */
bool rf_community_match(const struct rf_community *c, const uint8_t *attrs, size_t len);

/* Registers the SQL functions on a connection. 0 or an SQLite error code. */
int rf_register(sqlite3 *db);

#endif
