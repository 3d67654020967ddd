/* Shared by the unit tests that build RIB states: a prefix from its text,
 * exiting on a typo in the test itself. */
#ifndef PW_TEST_PREFIX_H
#define PW_TEST_PREFIX_H

#include <stdio.h>
#include <stdlib.h>

#include "common/prefix.h"

static inline struct pw_prefix pfx(const char *s)
{
	struct pw_prefix p;
	const char *why;
	if (pw_prefix_parse(s, &p, &why)) {
		fprintf(stderr, "bad prefix in test: %s\n", s);
		exit(2);
	}
	return p;
}

#endif
