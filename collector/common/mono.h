/*
 * mono.h: monotonic time as its own type (after OpenBGPD's monotime.h), so
 * that ages and deadlines cannot be mixed up with wall-clock timestamps,
 * which are plain int64 microseconds since the Unix epoch (pw_wall_us()).
 */
#ifndef PW_MONO_H
#define PW_MONO_H

#include <stdint.h>
#include <time.h>

typedef struct { int64_t ns; } pw_mono_t;

static inline pw_mono_t pw_mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pw_mono_t m = { (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec };
	return m;
}
static inline pw_mono_t pw_mono_add_ms(pw_mono_t m, int64_t ms) { m.ns += ms * 1000000LL; return m; }
static inline int pw_mono_before(pw_mono_t a, pw_mono_t b) { return a.ns < b.ns; }
static inline int64_t pw_mono_ms_since(pw_mono_t then) { return (pw_mono_now().ns - then.ns) / 1000000LL; }
static inline int pw_mono_is_set(pw_mono_t m) { return m.ns != 0; }

/* Wall clock, microseconds since the epoch. */
static inline int64_t pw_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

#endif
