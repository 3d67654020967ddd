/*
 * text: turning router-supplied bytes into safe text (JSON strings, hex).
 * Routers send sysName, sysDescr and free-text TLVs that need not be valid
 * UTF-8; they are shown with invalid bytes replaced, never dropped.
 */
#ifndef PW_TEXT_H
#define PW_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* New JSON string from untrusted bytes (invalid UTF-8 and NULs -> U+FFFD). */
json_t *pw_json_text(const void *p, size_t n);
/* Same, as a malloc'd NUL-terminated C string. */
char *pw_text_dup(const void *p, size_t n);
/* Lower-case hex of n bytes, malloc'd. */
char *pw_hex(const void *p, size_t n);

#endif
