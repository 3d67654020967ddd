/* alerts_query: see alerts_query.h. */
#include "alerts_query.h"

#include <stdio.h>
#include <string.h>

#include "common/prefix.h"

static json_t *t_json(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	char buf[PW_TIMESTRLEN];
	pw_time_format(sqlite3_column_int64(s, i), buf, sizeof buf);
	return json_string(buf);
}

static json_t *s_json(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? json_string(t) : json_null();
}

static json_t *j_json(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	json_t *j = t ? json_loads(t, 0, NULL) : NULL;
	return j ? j : json_null();
}

#define ALERT_COLS                                                                                           \
	"id, rule, state, site, router, peer, prefix, severity, since, started, firing_since, resolved_at, flaps," \
	" summary, evidence, unknown_reason, ack_by, ack_at, ack_comment, silenced_by, updated"

static json_t *alert_json(sqlite3_stmt *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "rule", s_json(s, 1));
	json_object_set_new(o, "state", s_json(s, 2));
	json_object_set_new(o, "site", s_json(s, 3));
	json_object_set_new(o, "router", s_json(s, 4));
	json_object_set_new(o, "peer", s_json(s, 5));
	json_object_set_new(o, "prefix", s_json(s, 6));
	json_object_set_new(o, "severity", s_json(s, 7));
	json_object_set_new(o, "since", t_json(s, 8));
	json_object_set_new(o, "started", t_json(s, 9));
	json_object_set_new(o, "firing_since", t_json(s, 10));
	json_object_set_new(o, "resolved_at", t_json(s, 11));
	json_object_set_new(o, "flaps", json_integer(sqlite3_column_int64(s, 12)));
	json_object_set_new(o, "summary", s_json(s, 13));
	json_object_set_new(o, "evidence", j_json(s, 14));
	json_object_set_new(o, "unknown", s_json(s, 15));
	if (sqlite3_column_type(s, 16) != SQLITE_NULL)
		json_object_set_new(o, "acknowledged",
				    json_pack("{s:o,s:o,s:o}", "by", s_json(s, 16), "at", t_json(s, 17), "comment", s_json(s, 18)));
	else
		json_object_set_new(o, "acknowledged", json_null());
	json_object_set_new(o, "silenced", json_boolean(sqlite3_column_type(s, 19) != SQLITE_NULL));
	json_object_set_new(o, "silence_id",
			    sqlite3_column_type(s, 19) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(s, 19)));
	json_object_set_new(o, "updated", t_json(s, 20));
	return o;
}

static json_t *fail(sqlite3 *db, sqlite3_stmt *s, char *err, size_t n)
{
	snprintf(err, n, "query failed: %s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return NULL;
}

json_t *alerts_q_list(sqlite3 *db, const char *state, const char *site, const char *rule, int limit, int64_t cursor,
		      char *err, size_t n)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db,
			       "SELECT " ALERT_COLS " FROM alerts WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR site = ?2)"
			       " AND (?3 IS NULL OR rule = ?3) AND (?4 = 0 OR id < ?4) ORDER BY id DESC LIMIT ?5",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(db, NULL, err, n);
	if (state)
		sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	if (site)
		sqlite3_bind_text(s, 2, site, -1, SQLITE_STATIC);
	if (rule)
		sqlite3_bind_text(s, 3, rule, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, cursor);
	sqlite3_bind_int(s, 5, limit + 1);
	json_t *arr = json_array(), *next = json_null();
	int rc, count = 0;
	int64_t last = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count == limit) {
			char c[24];
			snprintf(c, sizeof c, "%lld", (long long)last);
			next = json_string(c);
			break;
		}
		last = sqlite3_column_int64(s, 0);
		json_array_append_new(arr, alert_json(s));
		count++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(arr);
		json_decref(next);
		return fail(db, s, err, n);
	}
	sqlite3_finalize(s);
	return json_pack("{s:o,s:o}", "alerts", arr, "next", next);
}

json_t *alerts_q_get(sqlite3 *db, int64_t id, int *found, char *err, size_t n)
{
	sqlite3_stmt *s;
	*found = 0;
	if (sqlite3_prepare_v2(db, "SELECT " ALERT_COLS " FROM alerts WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
		return fail(db, NULL, err, n);
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return NULL;
	}
	json_t *o = alert_json(s);
	sqlite3_finalize(s);
	*found = 1;
	if (sqlite3_prepare_v2(db,
			       "SELECT time, from_state, to_state, note FROM alert_transitions WHERE alert_id = ?1 ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK) {
		json_decref(o);
		return fail(db, NULL, err, n);
	}
	sqlite3_bind_int64(s, 1, id);
	json_t *tl = json_array();
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(tl, json_pack("{s:o,s:o,s:o,s:o}", "time", t_json(s, 0), "from", s_json(s, 1), "to",
						    s_json(s, 2), "note", s_json(s, 3)));
	sqlite3_finalize(s);
	json_object_set_new(o, "transitions", tl);
	return o;
}

json_t *alerts_q_silences(sqlite3 *db, int64_t now, char *err, size_t n)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, matchers, starts, ends, created_by, comment, created, expired FROM silences"
			       " ORDER BY ends > ?1 DESC, id DESC",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(db, NULL, err, n);
	sqlite3_bind_int64(s, 1, now);
	json_t *arr = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t starts = sqlite3_column_int64(s, 2), ends = sqlite3_column_int64(s, 3);
		json_array_append_new(arr, json_pack("{s:I,s:o,s:o,s:o,s:b,s:o,s:o,s:o,s:o}", "id",
						     (json_int_t)sqlite3_column_int64(s, 0), "matchers", j_json(s, 1), "starts",
						     t_json(s, 2), "ends", t_json(s, 3), "active", now >= starts && now < ends,
						     "created_by", s_json(s, 4), "comment", s_json(s, 5), "created", t_json(s, 6),
						     "expired", t_json(s, 7)));
	}
	sqlite3_finalize(s);
	return json_pack("{s:o}", "silences", arr);
}

json_t *alerts_q_failovers(sqlite3 *db, const char *site, const char *prefix, int limit, char *err, size_t n)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, site, prefix, kind, started, converged, duration_ms, from_path, to_path, drill_id,"
			       " detail FROM failovers WHERE (?1 IS NULL OR site = ?1) AND (?3 IS NULL OR prefix = ?3)"
			       " ORDER BY id DESC LIMIT ?2",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(db, NULL, err, n);
	if (site)
		sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit);
	if (prefix)
		sqlite3_bind_text(s, 3, prefix, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(
			arr, json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)sqlite3_column_int64(s, 0),
				       "site", s_json(s, 1), "prefix", s_json(s, 2), "kind", s_json(s, 3), "started", t_json(s, 4),
				       "converged", t_json(s, 5), "duration_ms",
				       sqlite3_column_type(s, 6) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(s, 6)),
				       "from", s_json(s, 7), "to", s_json(s, 8), "drill_id",
				       sqlite3_column_type(s, 9) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(s, 9)),
				       "detail", j_json(s, 10)));
	sqlite3_finalize(s);
	return json_pack("{s:o}", "failovers", arr);
}

json_t *alerts_q_drills(sqlite3 *db, const char *site, char *err, size_t n)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, site, started, ends, declared_by, comment, result FROM drills"
			       " WHERE ?1 IS NULL OR site = ?1 ORDER BY id DESC",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(db, NULL, err, n);
	if (site)
		sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)sqlite3_column_int64(s, 0),
						     "site", s_json(s, 1), "started", t_json(s, 2), "ends", t_json(s, 3),
						     "declared_by", s_json(s, 4), "comment", s_json(s, 5), "result", j_json(s, 6)));
	sqlite3_finalize(s);
	return json_pack("{s:o}", "drills", arr);
}

json_t *alerts_q_notifications(sqlite3 *db, const char *receiver, const char *state, int64_t alert_id, int limit,
			       char *err, size_t n)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, receiver, group_key, alert_id, event, dedup_key, created, not_before, state, attempts,"
			       " next_attempt, last_error, http_status, delivered_at FROM notifications"
			       " WHERE (?1 IS NULL OR receiver = ?1) AND (?2 IS NULL OR state = ?2) AND (?3 = 0 OR alert_id = ?3)"
			       " ORDER BY id DESC LIMIT ?4",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(db, NULL, err, n);
	if (receiver)
		sqlite3_bind_text(s, 1, receiver, -1, SQLITE_STATIC);
	if (state)
		sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, alert_id);
	sqlite3_bind_int(s, 4, limit);
	json_t *arr = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *o = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:o,s:o,s:o,s:o}", "id",
				      (json_int_t)sqlite3_column_int64(s, 0), "receiver", s_json(s, 1), "group_key", s_json(s, 2),
				      "alert_id",
				      sqlite3_column_type(s, 3) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(s, 3)),
				      "event", s_json(s, 4), "dedup_key", s_json(s, 5), "created", t_json(s, 6), "not_before",
				      t_json(s, 7), "state", s_json(s, 8), "attempts", sqlite3_column_int(s, 9), "next_attempt",
				      t_json(s, 10), "last_error", s_json(s, 11), "http_status",
				      sqlite3_column_type(s, 12) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int(s, 12)),
				      "delivered_at", t_json(s, 13));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(s);
	return json_pack("{s:o}", "notifications", arr);
}

json_t *alerts_q_best_paths(sqlite3 *db, const char *prefix, const char *site, int64_t from_us, int64_t to_us,
			    char *err, size_t n)
{
	sqlite3_stmt *keys = NULL, *before = NULL, *range = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT DISTINCT site, prefix FROM best_paths WHERE (?1 IS NULL OR prefix = ?1)"
			       " AND (?2 IS NULL OR site = ?2) ORDER BY site, prefix",
			       -1, &keys, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT t, best, peer, decided_by FROM best_paths WHERE site = ?1 AND prefix = ?2 AND t < ?3"
			       " ORDER BY t DESC LIMIT 1",
			       -1, &before, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT t, best, peer, decided_by FROM best_paths WHERE site = ?1 AND prefix = ?2"
			       " AND t >= ?3 AND t <= ?4 ORDER BY t",
			       -1, &range, NULL) != SQLITE_OK) {
		sqlite3_finalize(keys);
		sqlite3_finalize(before);
		return fail(db, range, err, n);
	}
	if (prefix)
		sqlite3_bind_text(keys, 1, prefix, -1, SQLITE_STATIC);
	if (site)
		sqlite3_bind_text(keys, 2, site, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	while (sqlite3_step(keys) == SQLITE_ROW) {
		json_t *points = json_array();
		sqlite3_stmt *sts[2] = { before, range };
		for (int i = 0; i < 2; i++) {
			sqlite3_bind_value(sts[i], 1, sqlite3_column_value(keys, 0));
			sqlite3_bind_value(sts[i], 2, sqlite3_column_value(keys, 1));
			sqlite3_bind_int64(sts[i], 3, from_us);
			if (i)
				sqlite3_bind_int64(sts[i], 4, to_us);
			while (sqlite3_step(sts[i]) == SQLITE_ROW) {
				json_t *t = i ? t_json(sts[i], 0) : NULL;
				if (!t) { /* the path in force at `from` */
					char b[PW_TIMESTRLEN];
					pw_time_format(from_us, b, sizeof b);
					t = json_string(b);
				}
				json_array_append_new(points, json_pack("[o,o,o,o]", t, s_json(sts[i], 1), s_json(sts[i], 2),
									s_json(sts[i], 3)));
			}
			sqlite3_reset(sts[i]);
		}
		json_array_append_new(arr, json_pack("{s:o,s:o,s:o}", "site", s_json(keys, 0), "prefix", s_json(keys, 1),
						     "points", points));
	}
	sqlite3_finalize(keys);
	sqlite3_finalize(before);
	sqlite3_finalize(range);
	return json_pack("{s:o}", "series", arr);
}
