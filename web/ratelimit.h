/*
 * ratelimit: per-client request budget for the HTTP server (stage ⑦), a
 * token bucket per client address: `rate` requests a second on average,
 * `burst` at once. Checked before any handler runs; a client over its
 * budget gets 429 with Retry-After. The table is bounded (a fixed number of
 * slots, least recently seen client evicted), so many addresses cost no
 * more memory than one.
 *
 * Threading: any HTTP thread (one mutex).
 */
#ifndef PW_RATELIMIT_H
#define PW_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct web_ratelimit;

/* rate == 0: no limit (web_rl_take always allows). */
struct web_ratelimit *web_rl_new(unsigned rate, unsigned burst);
void web_rl_free(struct web_ratelimit *rl);
/* Takes one request from the client's budget. False when over it, with
 * *retry_after_s the whole seconds until the next request is allowed. */
bool web_rl_take(struct web_ratelimit *rl, const struct sockaddr *client, int64_t now_ms, unsigned *retry_after_s);

#endif
