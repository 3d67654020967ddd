/* qs: see qs.h. */
#include "qs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/site.h"
#include "bmp.h"
#include "common/mono.h"
#include "route_filter.h"
#include "store_query.h"

enum { QS_DEFAULT_LIMIT = 100, QS_MAX_LIMIT = 10000, QS_DEFAULT_POINTS = 600, QS_MAX_POINTS = 5000 };

static const char *const names[QS_COUNT] = { "router", "peer", "view", "prefix", "match", "limit",
					     "cursor", "at", "from", "to", "order", "state", "site", "rule", "receiver", "alert", "points", "as_path", "community" };

static void fail(struct qs *q, const char *param, const char *fmt, const char *detail)
{
	if (q->failed++)
		return;
	q->bad_param = param;
	snprintf(q->why, sizeof q->why, fmt, detail);
}

void qs_begin(struct qs *q)
{
	memset(q, 0, sizeof *q);
	q->view = -1;
	q->limit = QS_DEFAULT_LIMIT;
	q->points = QS_DEFAULT_POINTS;
	q->match = STORE_MATCH_EXACT;
}

int qs_add(struct qs *q, uint32_t allowed, const char *key, const char *value)
{
	int p = -1;
	for (int i = 0; i < QS_COUNT; i++)
		if (!strcmp(key, names[i]))
			p = i;
	if (p < 0 || !(allowed & QS_BIT(p))) {
		fail(q, key, "unknown parameter \"%s\" for this endpoint", key);
		return -1;
	}
	if (q->present & QS_BIT(p)) {
		fail(q, key, "parameter \"%s\" given twice", key);
		return -1;
	}
	if (!value || !*value) {
		fail(q, key, "parameter \"%s\" needs a value", key);
		return -1;
	}
	q->present |= QS_BIT(p);
	q->str[p] = value;
	const char *why = NULL;
	switch (p) {
	case QS_VIEW: {
		enum bmp_view v;
		if (bmp_view_parse(value, &v))
			fail(q, key, "%s", "view must be pre-policy, post-policy, loc-rib, adj-rib-out-pre or adj-rib-out-post");
		else
			q->view = (int)v;
		break;
	}
	case QS_PREFIX:
		if (pw_prefix_parse(value, &q->prefix, &why))
			fail(q, key, "prefix: %s", why);
		break;
	case QS_MATCH:
		if (!strcmp(value, "exact"))
			q->match = STORE_MATCH_EXACT;
		else if (!strcmp(value, "longer"))
			q->match = STORE_MATCH_LONGER;
		else if (!strcmp(value, "shorter"))
			q->match = STORE_MATCH_SHORTER;
		else
			fail(q, key, "%s", "match must be exact, longer or shorter");
		break;
	case QS_LIMIT:
	case QS_POINTS: {
		char *end;
		long v = strtol(value, &end, 10);
		long max = p == QS_LIMIT ? QS_MAX_LIMIT : QS_MAX_POINTS;
		if (*end || v < 1 || v > max) {
			char d[64];
			snprintf(d, sizeof d, "%s must be a whole number from 1 to %ld", key, max);
			fail(q, key, "%s", d);
		} else
			*(p == QS_LIMIT ? &q->limit : &q->points) = (int)v;
		break;
	}
	case QS_AT:
	case QS_FROM:
	case QS_TO: {
		int64_t *dst = p == QS_AT ? &q->at : p == QS_FROM ? &q->from : &q->to;
		if (pw_time_parse(value, dst))
			fail(q, key, "%s: expected RFC 3339 time (2026-11-25T12:00:00Z) or Unix seconds", key);
		break;
	}
	case QS_STATE: /* alert states, or notification states for /notifications */
		if (strcmp(value, "pending") && strcmp(value, "firing") && strcmp(value, "resolved") &&
		    strcmp(value, "delivered") && strcmp(value, "failed"))
			fail(q, key, "%s", "state must be pending, firing, resolved (alerts) or pending, delivered, failed (notifications)");
		break;
	case QS_ALERT: {
		char *end;
		long long v = strtoll(value, &end, 10);
		if (*end || v <= 0)
			fail(q, key, "%s", "alert must be an alert id");
		break;
	}
	case QS_RULE: {
		enum rule_id r;
		if (rule_parse(value, &r))
			fail(q, key, "rule: no rule named \"%s\"", value);
		break;
	}
	case QS_AS_PATH: {
		struct rf_as_path ap;
		if (rf_as_path_parse(value, &ap, &why))
			fail(q, key, "as_path: %s", why);
		break;
	}
	case QS_COMMUNITY: {
		struct rf_community cm;
		if (rf_community_parse(value, &cm, &why))
			fail(q, key, "community: %s", why);
		break;
	}
	case QS_ORDER:
		if (!strcmp(value, "desc"))
			q->newest_first = true;
		else if (strcmp(value, "asc"))
			fail(q, key, "%s", "order must be asc or desc");
		break;
	default:
		break;
	}
	return q->failed ? -1 : 0;
}

int qs_end(struct qs *q)
{
	if (!q->failed && (q->present & QS_BIT(QS_MATCH)) && !(q->present & QS_BIT(QS_PREFIX)))
		fail(q, "match", "%s", "match needs a prefix");
	if (!q->failed && (q->present & QS_BIT(QS_FROM)) && (q->present & QS_BIT(QS_TO)) && q->from > q->to)
		fail(q, "from", "%s", "from is after to");
	return q->failed ? -1 : 0;
}

struct iter {
	uint32_t allowed;
	struct qs *q;
};

static enum MHD_Result each(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct iter *it = cls;
	return qs_add(it->q, it->allowed, key, value) ? MHD_NO : MHD_YES;
}

int qs_parse(struct MHD_Connection *c, uint32_t allowed, struct qs *q)
{
	qs_begin(q);
	struct iter it = { allowed, q };
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, each, &it);
	return qs_end(q);
}

bool qs_path_id(const char *url, const char *prefix, const char *suffix, int64_t *id)
{
	size_t pl = strlen(prefix);
	if (strncmp(url, prefix, pl))
		return false;
	char *end;
	long long v = strtoll(url + pl, &end, 10);
	if (end == url + pl || v < 0 || strcmp(end, suffix))
		return false;
	*id = v;
	return true;
}

void qs_time_range(const struct qs *q, int64_t *from_us, int64_t *to_us)
{
	*to_us = q->present & QS_BIT(QS_TO) ? q->to : pw_wall_us();
	*from_us = q->present & QS_BIT(QS_FROM) ? q->from : *to_us - 3600 * (int64_t)1000000;
}
