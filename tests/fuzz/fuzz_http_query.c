/*
 * Fuzz target: the values an HTTP request carries in its path and query
 * string -- web/qs.c's whitelist and per-parameter validation (view,
 * prefix, match, limit, points, times, state, alert id, rule, order, AS path
 * and community patterns: collector/route_filter.c), prefix and
 * time parsing (common/prefix.c), the /rib cursor (store_query.c) and the
 * numeric ids in paths (/api/v1/alerts/{id}/ack).
 *
 * Input: bytes 0-1 are the endpoint's set of allowed parameters (QS_BIT
 * mask; its top bit also allows the parameters numbered 16 and up:
 * points, as_path, community); the rest is a query string "k=v&k2=v2", split and %-decoded the
 * way libmicrohttpd does before qs_parse sees it. The same bytes are also
 * tried as a cursor and as a path.
 *
 * Checked: a rejected request names the parameter and says why; an
 * accepted one holds only allowed parameters with values in range, and its
 * prefix and times print back to the same values; a cursor that parses
 * prints back to the same text.
 */
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/prefix.h"
#include "fuzz_check.h"
#include "qs.h"
#include "store_query.h"

/* Printing a time and parsing it back is the identity (where the printed
 * year is one RFC 3339 can write). */
static void check_time(int64_t us)
{
	char text[PW_TIMESTRLEN];
	int64_t back;
	pw_time_format(us, text, sizeof text);
	if (pw_time_parse(text, &back) == 0)
		FUZZ_CHECK(back == us);
}

static void check_accepted(const struct qs *q, uint32_t allowed)
{
	FUZZ_CHECK((q->present & ~allowed) == 0);
	for (int p = 0; p < QS_COUNT; p++)
		FUZZ_CHECK(!(q->present & QS_BIT(p)) == !q->str[p]);
	FUZZ_CHECK(q->view >= -1 && q->view < 5);
	FUZZ_CHECK((q->view >= 0) == !!(q->present & QS_BIT(QS_VIEW)));
	FUZZ_CHECK(q->limit >= 1 && q->limit <= 10000);
	FUZZ_CHECK(q->points >= 1 && q->points <= 5000);
	if (q->present & QS_BIT(QS_PREFIX))
		fuzz_check_prefix(&q->prefix);
	if (q->present & QS_BIT(QS_AT))
		check_time(q->at);
	if (q->present & QS_BIT(QS_FROM))
		check_time(q->from);
	if (q->present & QS_BIT(QS_TO))
		check_time(q->to);
	if ((q->present & QS_BIT(QS_FROM)) && (q->present & QS_BIT(QS_TO)))
		FUZZ_CHECK(q->from <= q->to);
}

static void check_cursor(const char *c)
{
	uint8_t key[PW_PREFIX_KEY_LEN];
	size_t klen;
	int64_t id;
	char back[STORE_RIB_CURSOR_LEN];
	if (store_rib_cursor_parse(c, key, &klen, &id))
		return;
	store_rib_cursor_format(key, klen, id, back, sizeof back);
	FUZZ_CHECK(strcmp(back, c) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 8192)
		return 0;
	uint32_t allowed = (uint32_t)data[0] << 8 | data[1];
	if (allowed & 0x8000)
		allowed |= (QS_BIT(QS_COUNT) - 1) & ~0xFFFFu;
	size_t n = size - 2;
	char *text = pw_malloc(n + 1); /* a URL is a C string: it ends at a NUL */
	memcpy(text, data + 2, n);
	text[n] = 0;

	check_cursor(text);
	int64_t id;
	if (qs_path_id(text, "/api/v1/alerts/", "/ack", &id))
		FUZZ_CHECK(id >= 0);

	char *args = pw_strdup(text);
	struct qs q;
	qs_begin(&q);
	int failed = 0;
	for (char *save = NULL, *pair = strtok_r(args, "&", &save); pair && !failed;
	     pair = strtok_r(NULL, "&", &save)) {
		char *value = strchr(pair, '=');
		if (value)
			*value++ = 0;
		for (char *c = pair; *c; c++) /* libmicrohttpd: '+' is a space, then %XX */
			*c = *c == '+' ? ' ' : *c;
		MHD_http_unescape(pair);
		if (value) {
			for (char *c = value; *c; c++)
				*c = *c == '+' ? ' ' : *c;
			MHD_http_unescape(value);
			check_cursor(value);
		}
		failed = qs_add(&q, allowed, pair, value);
	}
	if (qs_end(&q) == 0) {
		FUZZ_CHECK(!failed);
		check_accepted(&q, allowed);
	} else
		FUZZ_CHECK(q.bad_param && q.why[0]);
	free(args);
	free(text);
	return 0;
}
