/*
 * metrics: GET /metrics in the Prometheus text format (stage ⑦), from the
 * committed state (router counters are written every second), the store's
 * and the RIB's atomics, and this server's own request counters.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmp.h"
#include "common/check.h"
#include "common/text.h"
#include "feed.h"
#include "filter_index.h"
#include "httpd.h"
#include "rib.h"
#include "store.h"

/* ---------------------------------------------------- request counters */

enum { MAX_SLOTS = 256 };
static struct {
	const char *endpoint;
	unsigned status;
	uint64_t n;
} slots[MAX_SLOTS];
static int n_slots;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

void web_count_request(const char *endpoint, unsigned status)
{
	pthread_mutex_lock(&slots_lock);
	int i;
	for (i = 0; i < n_slots; i++)
		if (slots[i].status == status && !strcmp(slots[i].endpoint, endpoint))
			break;
	if (i == n_slots && n_slots < MAX_SLOTS) {
		slots[i].endpoint = endpoint;
		slots[i].status = status;
		n_slots++;
	}
	if (i < n_slots)
		slots[i].n++;
	pthread_mutex_unlock(&slots_lock);
}

/* ------------------------------------------------------------ the page */

/* Label values: backslash, quote and newline escaped. */
static const char *lv(const char *s, char *buf, size_t n)
{
	size_t k = 0;
	for (; s && *s && k + 3 < n; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			buf[k++] = '\\';
			buf[k++] = *s == '\n' ? 'n' : *s;
		} else
			buf[k++] = *s;
	}
	buf[k] = 0;
	return buf;
}

enum MHD_Result web_metrics(struct MHD_Connection *c, const struct web_ctx *ctx)
{
	char err[256], b1[256], b2[256];
	sqlite3 *db = web_reader(ctx, err, sizeof err);
	if (!db)
		return web_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "store unavailable", err, NULL);
	struct pw_buf t = { 0 };
	sqlite3_stmt *s;

	pw_buf_printf(&t, "# HELP pathwatch_bmp_messages_total BMP messages received, per router and type.\n"
		"# TYPE pathwatch_bmp_messages_total counter\n");
	static const char *const types[] = { "route_monitoring", "statistics", "peer_down", "peer_up", "initiation",
					     "termination", "route_mirroring" };
	static const char *const errors[] = { "bad_messages", "update_errors", "attributes_discarded",
					      "treat_as_withdraw", "framing_errors", "addpath_mismatch", "other_afi_skipped" };
	json_t *routers = json_array();
	if (sqlite3_prepare_v2(db, "SELECT name, counters, connected FROM routers ORDER BY name", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			json_t *cj = json_loads((const char *)sqlite3_column_text(s, 1) ? (const char *)sqlite3_column_text(s, 1) : "{}",
						0, NULL);
			json_array_append_new(routers, json_pack("{s:s,s:o,s:b}", "name", sqlite3_column_text(s, 0), "c",
								 cj ? cj : json_object(), "up", sqlite3_column_int(s, 2)));
		}
		sqlite3_finalize(s);
	}
	size_t i;
	json_t *r;
	json_array_foreach(routers, i, r) {
		const char *name = lv(json_string_value(json_object_get(r, "name")), b1, sizeof b1);
		for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
			pw_buf_printf(&t, "pathwatch_bmp_messages_total{router=\"%s\",type=\"%s\"} %lld\n", name, types[k],
			              (long long)json_integer_value(json_object_get(json_object_get(r, "c"), types[k])));
	}
	pw_buf_printf(&t, "# HELP pathwatch_bmp_bytes_total BMP bytes received, per router.\n# TYPE pathwatch_bmp_bytes_total counter\n");
	json_array_foreach(routers, i, r)
		pw_buf_printf(&t, "pathwatch_bmp_bytes_total{router=\"%s\"} %lld\n", lv(json_string_value(json_object_get(r, "name")), b1, sizeof b1),
		              (long long)json_integer_value(json_object_get(json_object_get(r, "c"), "bytes")));
	pw_buf_printf(&t, "# HELP pathwatch_parse_errors_total Messages and attributes that did not decode, per router and kind.\n"
		"# TYPE pathwatch_parse_errors_total counter\n");
	json_array_foreach(routers, i, r)
		for (size_t k = 0; k < sizeof errors / sizeof errors[0]; k++)
			pw_buf_printf(&t, "pathwatch_parse_errors_total{router=\"%s\",kind=\"%s\"} %lld\n",
			              lv(json_string_value(json_object_get(r, "name")), b1, sizeof b1), errors[k],
			              (long long)json_integer_value(json_object_get(json_object_get(r, "c"), errors[k])));
	pw_buf_printf(&t, "# HELP pathwatch_router_connected 1 while the router's BMP feed is connected.\n"
		"# TYPE pathwatch_router_connected gauge\n");
	json_array_foreach(routers, i, r)
		pw_buf_printf(&t, "pathwatch_router_connected{router=\"%s\"} %d\n", lv(json_string_value(json_object_get(r, "name")), b1, sizeof b1),
		              json_is_true(json_object_get(r, "up")));
	json_decref(routers);

	pw_buf_printf(&t, "# HELP pathwatch_routes Live routes, per router, peer and view (committed).\n# TYPE pathwatch_routes gauge\n");
	if (sqlite3_prepare_v2(db,
			       "SELECT ro.name, p.address, p.n_pre, p.n_post, p.n_loc_rib, p.n_out_pre, p.n_out_post"
			       " FROM peers p JOIN routers ro ON ro.id = p.router_id ORDER BY ro.name, p.address",
			       -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW)
			for (int v = 0; v < BMP_VIEWS; v++)
				if (sqlite3_column_int64(s, 2 + v))
					pw_buf_printf(&t, "pathwatch_routes{router=\"%s\",peer=\"%s\",view=\"%s\"} %lld\n",
					              lv((const char *)sqlite3_column_text(s, 0), b1, sizeof b1),
					              lv((const char *)sqlite3_column_text(s, 1), b2, sizeof b2), bmp_view_name((enum bmp_view)v),
					              (long long)sqlite3_column_int64(s, 2 + v));
		sqlite3_finalize(s);
	}
	uint64_t batches, total_us, last_us;
	store_batch_stats(ctx->store, &batches, &total_us, &last_us);
	pw_buf_printf(&t,
	              "# HELP pathwatch_rib_routes Live RIB entries in memory, all views.\n# TYPE pathwatch_rib_routes gauge\n"
	              "pathwatch_rib_routes %llu\n"
	              "# HELP pathwatch_history_rows_total History rows committed.\n# TYPE pathwatch_history_rows_total counter\n"
	              "pathwatch_history_rows_total %llu\n"
	              "# HELP pathwatch_store_queue_depth Changes not yet committed: queued for the store writer, or new routes' keys for the prefix index.\n"
	              "# TYPE pathwatch_store_queue_depth gauge\npathwatch_store_queue_depth %llu\n"
	              "# HELP pathwatch_store_index_pending New routes committed whose keys the prefix index has not yet committed"
	              " (missing from prefix queries until then).\n"
	              "# TYPE pathwatch_store_index_pending gauge\npathwatch_store_index_pending %llu\n"
	              "# HELP pathwatch_store_queue_bytes Memory of the queued changes; the feeds pause above %d.\n"
	              "# TYPE pathwatch_store_queue_bytes gauge\npathwatch_store_queue_bytes %llu\n"
	              "# HELP pathwatch_store_batches_total Store transactions committed.\n# TYPE pathwatch_store_batches_total counter\n"
	              "pathwatch_store_batches_total %llu\n"
	              "# HELP pathwatch_store_batch_seconds_total Time spent committing batches.\n"
	              "# TYPE pathwatch_store_batch_seconds_total counter\npathwatch_store_batch_seconds_total %.6f\n"
	              "# HELP pathwatch_store_last_batch_seconds Commit time of the last batch.\n"
	              "# TYPE pathwatch_store_last_batch_seconds gauge\npathwatch_store_last_batch_seconds %.6f\n"
	              "# HELP pathwatch_store_failing 1 while commits to the database or its prefix index fail (disk full, locked).\n# TYPE pathwatch_store_failing gauge\n"
	              "pathwatch_store_failing %d\n"
	              "# HELP pathwatch_filter_index_bytes Memory of the index of the RIB browser's as_path and community filters"
	              " (0 until the first filtered page).\n# TYPE pathwatch_filter_index_bytes gauge\npathwatch_filter_index_bytes %zu\n",
	              (unsigned long long)atomic_load(&ctx->rib->live_routes), (unsigned long long)store_history_rows(ctx->store),
	              (unsigned long long)store_pending(ctx->store), (unsigned long long)store_index_pending(ctx->store),
	              STORE_HIGH_WATER,
	              (unsigned long long)store_queue_bytes(ctx->store), (unsigned long long)batches, total_us / 1e6, last_us / 1e6,
	              store_failing(ctx->store), ctx->fidx ? fidx_bytes(ctx->fidx) : 0);

	const struct feed_stats *fst = ctx->feed_stats;
	if (fst) {
		pw_buf_printf(&t,
		              "# HELP pathwatch_bmp_feeds_connected BMP connections open now.\n# TYPE pathwatch_bmp_feeds_connected gauge\n"
		              "pathwatch_bmp_feeds_connected %u\n"
		              "# HELP pathwatch_bmp_connections_accepted_total BMP connections accepted.\n"
		              "# TYPE pathwatch_bmp_connections_accepted_total counter\npathwatch_bmp_connections_accepted_total %llu\n"
		              "# HELP pathwatch_bmp_accept_errors_total BMP accepts that failed (out of file descriptors, ...).\n"
		              "# TYPE pathwatch_bmp_accept_errors_total counter\npathwatch_bmp_accept_errors_total %llu\n"
		              "# HELP pathwatch_bmp_connections_refused_total BMP connections closed at accept, per reason.\n"
		              "# TYPE pathwatch_bmp_connections_refused_total counter\n",
		              atomic_load(&fst->connected), (unsigned long long)atomic_load(&fst->accepted),
		              (unsigned long long)atomic_load(&fst->accept_errors));
		for (int k = 0; k < FEED_REFUSALS; k++)
			pw_buf_printf(&t, "pathwatch_bmp_connections_refused_total{reason=\"%s\"} %llu\n",
			              feed_refusal_name((enum feed_refusal)k), (unsigned long long)atomic_load(&fst->refused[k]));
		pw_buf_printf(&t, "# HELP pathwatch_bmp_feeds_closed_total BMP feeds closed, per reason.\n"
			"# TYPE pathwatch_bmp_feeds_closed_total counter\n");
		for (int k = 0; k < FEED_CLOSE_REASONS; k++)
			pw_buf_printf(&t, "pathwatch_bmp_feeds_closed_total{reason=\"%s\"} %llu\n",
			              feed_close_reason_name((enum feed_close_reason)k), (unsigned long long)atomic_load(&fst->closed[k]));
	}

	pw_buf_printf(&t, "# HELP pathwatch_alerts Alerts per state.\n# TYPE pathwatch_alerts gauge\n");
	static const char *const states[] = { "pending", "firing", "resolved" };
	for (int k = 0; k < 3; k++) {
		long long n = 0;
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM alerts WHERE state = ?1", -1, &s, NULL) == SQLITE_OK) {
			sqlite3_bind_text(s, 1, states[k], -1, SQLITE_STATIC);
			if (sqlite3_step(s) == SQLITE_ROW)
				n = sqlite3_column_int64(s, 0);
			sqlite3_finalize(s);
		}
		pw_buf_printf(&t, "pathwatch_alerts{state=\"%s\"} %lld\n", states[k], n);
	}
	pw_buf_printf(&t, "# HELP pathwatch_notifications Notifications per receiver and outcome.\n"
		"# TYPE pathwatch_notifications gauge\n");
	if (sqlite3_prepare_v2(db, "SELECT receiver, state, count(*) FROM notifications GROUP BY receiver, state", -1, &s,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW)
			pw_buf_printf(&t, "pathwatch_notifications{receiver=\"%s\",state=\"%s\"} %lld\n",
			              lv((const char *)sqlite3_column_text(s, 0), b1, sizeof b1), sqlite3_column_text(s, 1),
			              (long long)sqlite3_column_int64(s, 2));
		sqlite3_finalize(s);
	}
	pw_buf_printf(&t, "# HELP pathwatch_http_requests_total HTTP requests served, per endpoint and status.\n"
		"# TYPE pathwatch_http_requests_total counter\n");
	pthread_mutex_lock(&slots_lock);
	for (int k = 0; k < n_slots; k++)
		pw_buf_printf(&t, "pathwatch_http_requests_total{endpoint=\"%s\",status=\"%u\"} %llu\n", slots[k].endpoint, slots[k].status,
		              (unsigned long long)slots[k].n);
	pthread_mutex_unlock(&slots_lock);

	struct MHD_Response *resp = MHD_create_response_from_buffer(t.len, t.s, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	web_count_request("/metrics", 200);
	return ret;
}
