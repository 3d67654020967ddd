/*
 * retention: `collector.retention` in the configuration. Every second, on
 * the loop, it queues one pruning step to the store writer: history rows
 * older than the age that are no longer needed to answer `rib?at=` inside
 * the window, and the plots' series rows older than the age. The horizon
 * reached is in meta 'history_kept_since'; store_query refuses `at=` before it.
 */
#ifndef PW_RETENTION_H
#define PW_RETENTION_H

#include <stdint.h>

struct store;
struct retention;

/* NULL (nothing pruned, ever) when age_ms <= 0. The store outlives it. */
struct retention *retention_new(struct store *store, int64_t age_ms);
void retention_free(struct retention *r);
void retention_tick(struct retention *r, int64_t now_us);

#endif
