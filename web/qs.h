/*
 * qs: HTTP query parameters, whitelisted through a table (after OpenBGPD's
 * bgplgd qs.c): each endpoint names the parameters it accepts; anything
 * else, or a value that does not validate, is a 400 naming the parameter.
 */
#ifndef PW_QS_H
#define PW_QS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/prefix.h"

enum qs_param {
	QS_ROUTER, QS_PEER, QS_VIEW, QS_PREFIX, QS_MATCH, QS_LIMIT, QS_CURSOR, QS_AT, QS_FROM, QS_TO, QS_ORDER,
	QS_STATE, QS_SITE, QS_RULE, QS_RECEIVER, QS_ALERT, QS_POINTS, QS_AS_PATH, QS_COMMUNITY, QS_COUNT
};
#define QS_BIT(p) (1u << (p))

struct qs {
	uint32_t present;          /* QS_BIT of each parameter given */
	const char *str[QS_COUNT]; /* raw values (owned by MHD for the request) */
	int view;                  /* -1: all */
	struct pw_prefix prefix;
	int match;                 /* enum store_match */
	int limit;
	int points;                /* plots: points per series */
	int64_t at, from, to;
	bool newest_first;
	/* on error: */
	const char *bad_param;
	char why[160];
};

/* Parses the request's query string against `allowed`. 0, or -1 with
 * bad_param/why set. */
int qs_parse(struct MHD_Connection *c, uint32_t allowed, struct qs *q);
/* A plot's time range from `from`/`to`: by default the hour up to now. */
void api_time_range(const struct qs *q, int64_t *from_us, int64_t *to_us);

#endif
