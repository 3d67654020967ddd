/*
 * check_harness: the unit tests' tiny assertion kit. A failed CHECK prints
 * file:line and the expression (and the values for the typed variants),
 * counts the failure and lets the test go on; check_report() at the end of
 * main turns the count into the exit status (meson: non-zero = failed).
 * No bare assert(): it disappears under NDEBUG and stops at the first fault.
 *
 * Also: vector_write() to save a byte vector as a file (tests/vectors/ seeds
 * the fuzzer corpus).
 */
#ifndef PW_CHECK_HARNESS_H
#define PW_CHECK_HARNESS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

static inline bool check_fail_(const char *file, int line, const char *expr)
{
	check_failures++;
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
	return false;
}

/* Evaluates to the condition, so a test can skip what depends on it:
 *     if (CHECK(p != NULL)) { ... use p ... } */
#define CHECK(cond) \
	(check_count++, (cond) ? true : check_fail_(__FILE__, __LINE__, #cond))

/* Integers compared as signed 64-bit, both values printed on failure. */
#define CHECK_INT(a, op, b)                                                                              \
	do {                                                                                             \
		long long ca_ = (long long)(a), cb_ = (long long)(b);                                    \
		check_count++;                                                                           \
		if (!(ca_ op cb_)) {                                                                     \
			check_fail_(__FILE__, __LINE__, #a " " #op " " #b);                              \
			fprintf(stderr, "    left:  %lld\n    right: %lld\n", ca_, cb_);                 \
		}                                                                                        \
	} while (0)

/* Strings (NULL is only equal to NULL). */
#define CHECK_STR(a, b)                                                                                  \
	do {                                                                                             \
		const char *ca_ = (a), *cb_ = (b);                                                       \
		check_count++;                                                                           \
		if (!((ca_ == NULL && cb_ == NULL) || (ca_ && cb_ && strcmp(ca_, cb_) == 0))) {          \
			check_fail_(__FILE__, __LINE__, #a " == " #b);                                   \
			fprintf(stderr, "    left:  %s%s%s\n    right: %s%s%s\n", ca_ ? "\"" : "",        \
				ca_ ? ca_ : "NULL", ca_ ? "\"" : "", cb_ ? "\"" : "", cb_ ? cb_ : "NULL",  \
				cb_ ? "\"" : "");                                                        \
		}                                                                                        \
	} while (0)

/* Prints a section name, so a failure's context is visible in the log. */
#define TEST_SECTION(name) fprintf(stderr, "-- %s\n", (name))

static inline int check_report(const char *prog)
{
	if (check_failures) {
		fprintf(stderr, "%s: %d of %d checks FAILED\n", prog, check_failures, check_count);
		return 1;
	}
	fprintf(stderr, "%s: all %d checks passed\n", prog, check_count);
	return 0;
}

/* Writes a byte vector to DIR/NAME (used with --write-vectors DIR). */
static inline int vector_write(const char *dir, const char *name, const void *p, size_t n)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "cannot write %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	fprintf(stderr, "wrote %s (%zu bytes)\n", path, n);
	return 0;
}

#endif
