/* embedded: files compiled into the binary by tools/embed.c. */
#ifndef PW_EMBEDDED_H
#define PW_EMBEDDED_H

#include <stddef.h>

struct pw_embedded {
	const char *name;           /* file name, NULL ends the list */
	const unsigned char *data;  /* NUL-terminated for convenience */
	size_t len;
};

#endif
