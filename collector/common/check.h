/*
 * check.h: the two kinds of assertion (after Knot Resolver's kr_require /
 * kr_fails_assert).
 *
 *   pw_require(cond)      the impossible happened inside our own code: abort.
 *   pw_fails_assert(cond) a broken invariant the process survives: logs the
 *                         place once per call site and evaluates to true, so
 *                         the caller can drop one message or one feed instead
 *                         of taking every router down with it.
 */
#ifndef PW_CHECK_H
#define PW_CHECK_H

#include <stdbool.h>
#include <stdlib.h>

void pw_check_failed(const char *expr, const char *file, int line, bool fatal);

#define pw_require(cond) \
	do { if (!(cond)) pw_check_failed(#cond, __FILE__, __LINE__, true); } while (0)

#define pw_fails_assert(cond) \
	(!(cond) ? (pw_check_failed(#cond, __FILE__, __LINE__, false), true) : false)

/* Allocation that cannot fail quietly: out of memory is fatal by design. */
void *pw_malloc(size_t n);
void *pw_calloc(size_t n, size_t sz);
void *pw_realloc(void *p, size_t n);
char *pw_strdup(const char *s);

#endif
