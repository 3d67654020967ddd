/* log: see log.h. Leaf module; used by every stage. */
#include "log.h"
#include "check.h"
#include "mono.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum pw_log_level g_level = PW_LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };
static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;

void pw_log_set_level(enum pw_log_level lvl) { g_level = lvl; }
int pw_log_enabled(enum pw_log_level lvl) { return lvl <= g_level; }

int pw_log_parse_level(const char *s, enum pw_log_level *out)
{
	for (int i = 0; i <= PW_LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum pw_log_level)i;
			return 0;
		}
	return -1;
}

static void vlog(enum pw_log_level lvl, const char *fmt, va_list ap)
{
	char ts[40];
	int64_t us = pw_wall_us();
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)((us / 1000) % 1000));
	pthread_mutex_lock(&g_log_lock);
	fprintf(stderr, "ts=%s level=%s ", ts, level_names[lvl]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&g_log_lock);
}

void pw_log(enum pw_log_level lvl, const char *fmt, ...)
{
	if (lvl > g_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

void pw_log_rl(struct pw_ratelimit *rl, enum pw_log_level lvl, const char *fmt, ...)
{
	enum { BURST = 10, WINDOW_MS = 10000 };
	if (lvl > g_level)
		return;
	int64_t now = pw_mono_now().ns / 1000000;
	if (now - rl->window_start_ms >= WINDOW_MS) {
		if (rl->suppressed)
			pw_log(PW_LOG_WARN, "msg=\"log lines suppressed by rate limit\" suppressed=%u",
			       rl->suppressed);
		rl->window_start_ms = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	if (rl->count >= BURST) {
		rl->suppressed++;
		return;
	}
	rl->count++;
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

void pw_check_failed(const char *expr, const char *file, int line, bool fatal)
{
	pw_log(PW_LOG_ERROR, "msg=\"internal check failed\" check=\"%s\" at=%s:%d fatal=%s", expr, file,
	       line, fatal ? "yes" : "no");
	if (fatal)
		abort();
}

void *pw_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		pw_log(PW_LOG_ERROR, "msg=\"out of memory\" bytes=%zu", n);
		abort();
	}
	return p;
}

void *pw_calloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p) {
		pw_log(PW_LOG_ERROR, "msg=\"out of memory\" bytes=%zu", n * sz);
		abort();
	}
	return p;
}

void *pw_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		pw_log(PW_LOG_ERROR, "msg=\"out of memory\" bytes=%zu", n);
		abort();
	}
	return q;
}

char *pw_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = pw_malloc(n);
	memcpy(d, s, n);
	return d;
}
