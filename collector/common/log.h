/*
 * log: one line per event to stderr, "ts=... level=... msg" with key=value
 * fields, journald-friendly. Errors caused by a remote router go through
 * pw_log_rl with a per-call-site rate limit, so one router sending garbage
 * cannot flood the log.
 */
#ifndef PW_LOG_H
#define PW_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum pw_log_level { PW_LOG_ERROR = 0, PW_LOG_WARN, PW_LOG_INFO, PW_LOG_DEBUG };

void pw_log_set_level(enum pw_log_level lvl);
int pw_log_parse_level(const char *s, enum pw_log_level *out);
int pw_log_enabled(enum pw_log_level lvl);
void pw_log(enum pw_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rate limit state, one static per call site: at most `burst` lines per
 * 10 s window, then one "suppressed=N" summary when the window rolls. */
struct pw_ratelimit {
	int64_t window_start_ms;
	uint32_t count;
	uint32_t suppressed;
};
void pw_log_rl(struct pw_ratelimit *rl, enum pw_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define PW_ERR(...) pw_log(PW_LOG_ERROR, __VA_ARGS__)
#define PW_WARN(...) pw_log(PW_LOG_WARN, __VA_ARGS__)
#define PW_INFO(...) pw_log(PW_LOG_INFO, __VA_ARGS__)
#define PW_DEBUG(...) do { if (pw_log_enabled(PW_LOG_DEBUG)) pw_log(PW_LOG_DEBUG, __VA_ARGS__); } while (0)

/* A remote-caused problem: rate limited per call site. */
#define PW_REMOTE(lvl, ...) do { static struct pw_ratelimit rl_; pw_log_rl(&rl_, (lvl), __VA_ARGS__); } while (0)

#endif
