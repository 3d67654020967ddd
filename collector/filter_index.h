/*
 * filter_index: the RIB browser's attribute filters (`rib?as_path=`,
 * `rib?community=`) answered from a short list of candidate routes instead
 * of a walk of every route in prefix order (stage ⑤, read side; one index
 * per process, shared by the HTTP threads, behind a mutex).
 *
 * It holds, in memory, for each token of an attribute set a route holds (an
 * ASN of its AS path; a community and its first half; a large community and
 * its global administrator) the ids of the sets that hold it, and each
 * route id's live attribute set. It follows committed rows only: every
 * change of a route's set has its history row, whose ids only grow, and a
 * set is read and posted the first time a route takes it. The index is
 * built at the first filtered page, not at start-up, so a collector nobody
 * filters pays nothing for it; after that each filtered page first reads
 * what was committed since the last one, and the index is built again when
 * the sets it holds are more than twice those live (memory stays bounded
 * under churn that brings new sets).
 *
 * Candidates are a superset: the page's query still matches each one with
 * the same SQL functions as the walk (route_filter.h).
 */
#ifndef PW_FILTER_INDEX_H
#define PW_FILTER_INDEX_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "route_filter.h"

struct filter_index;

struct filter_index *fidx_new(void);
void fidx_free(struct filter_index *fx);

/* Candidate route ids, ascending, for a page filtered by `as_path` and/or
 * `community` (either may be NULL). Call inside a read transaction of `db`
 * opened just before (BEGIN, no read yet): the index is brought to that
 * transaction's snapshot. Returns 1 with *ids (malloc'ed, the caller frees)
 * and *n set; 0 when the index cannot narrow the page down (no pattern part
 * to look up, such as `*:100`, or more than `max` candidates: walk instead);
 * -1 with err on an SQLite error. */
int fidx_candidates(struct filter_index *fx, sqlite3 *db, const struct rf_as_path *as_path,
		    const struct rf_community *community, size_t max, uint32_t **ids, size_t *n, char *err,
		    size_t errn);

/* Bytes held (0 until the first filtered page), for /metrics. */
size_t fidx_bytes(struct filter_index *fx);

#endif
