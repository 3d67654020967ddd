/*
 * series: the time series behind the dashboard's plots. On the loop, every
 * series interval, it samples the live RIB (routes per peer and view) and
 * the routers' Route Monitoring counters, and queues the rows that changed
 * to the store writer (tables series_prefixes / series_updates, schema 004).
 * The read side (series_q_*) runs on an HTTP thread's read-only connection.
 */
#ifndef PW_SERIES_H
#define PW_SERIES_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

struct rib;
struct store;

struct series;
/* Neither rib nor store is owned; both outlive the series. */
struct series *series_new(struct rib *rib, struct store *store, int64_t interval_ms);
void series_free(struct series *s);
/* Called on the loop as often as convenient; samples when an interval has
 * passed since the last sample (the first call samples). */
void series_tick(struct series *s, int64_t now_us);

/* Query: series within [from, to], at most `points` points each. */
struct series_query {
	const char *router, *peer; /* NULL: all */
	int view;                  /* -1: all */
	int64_t from_us, to_us;
	int points;
};
/* {"from","to","series":[{"router","peer","peer_type","asn","view",
 *  "points":[[time, prefixes], ...]}]}: each value holds from its time until
 * the next point; the first point is the value in force at `from`. Per
 * (to - from) / points the rows of the lowest, highest and last values are
 * kept, so short dips show at any zoom. */
json_t *series_q_prefixes(sqlite3 *db, const struct series_query *q, char *err, size_t n);
/* {"from","to","series":[{"router","points":[[time, per_second, seconds]]}]}:
 * each point is the rate over the `seconds` ending at its time; time not
 * covered by a point had no update. */
json_t *series_q_updates(sqlite3 *db, const struct series_query *q, char *err, size_t n);

#endif
