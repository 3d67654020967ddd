/*
 * Invariants the fuzz targets check on what the parsers return, beyond
 * "no crash": a broken one aborts with its place, so libFuzzer keeps the
 * input as a crash and the replay test fails on it.
 */
#ifndef PW_FUZZ_CHECK_H
#define PW_FUZZ_CHECK_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/prefix.h"

#define FUZZ_CHECK(cond)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* A decoded or parsed prefix: length within its family, no host bits, and
 * both its store key and its text form give it back unchanged. */
static inline void fuzz_check_prefix(const struct pw_prefix *p)
{
	FUZZ_CHECK(p->afi == PW_AFI_IPV4 || p->afi == PW_AFI_IPV6);
	FUZZ_CHECK(p->len <= pw_afi_maxlen(p->afi));
	FUZZ_CHECK(!pw_prefix_host_bits_set(p));
	uint8_t key[PW_PREFIX_KEY_LEN];
	struct pw_prefix back;
	size_t klen = pw_prefix_key(p, key);
	FUZZ_CHECK(klen == pw_prefix_key_len(p->afi));
	FUZZ_CHECK(pw_prefix_from_key(key, klen, &back) == 0);
	FUZZ_CHECK(memcmp(&back, p, sizeof back) == 0);
	char text[PW_PREFIXSTRLEN];
	const char *why = NULL;
	pw_prefix_format(p, text, sizeof text);
	FUZZ_CHECK(pw_prefix_parse(text, &back, &why) == 0);
	FUZZ_CHECK(memcmp(&back, p, sizeof back) == 0);
}

/* The view [p, p+n) lies inside [base, base+len). */
static inline int fuzz_inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	return (n == 0 && p == NULL) || (p >= base && n <= len && p - base <= (ptrdiff_t)(len - n));
}

#endif
