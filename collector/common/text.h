/*
 * text: turning router-supplied bytes into safe text (JSON strings, hex).
 * Routers send sysName, sysDescr and free-text TLVs that need not be valid
 * UTF-8; they are shown with invalid bytes replaced, never dropped. And a
 * growing text buffer, for the HTTP bodies written piece by piece.
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

/* A text that grows as it is written, always NUL-terminated once written
 * to; start from { 0 }, take `s` (malloc'd) when done. */
struct pw_buf {
	char *s;
	size_t len, cap;
};
void pw_buf_put(struct pw_buf *b, const void *p, size_t n);
void pw_buf_puts(struct pw_buf *b, const char *str);
void pw_buf_printf(struct pw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* jansson's json_dump_callback() writer: `arg` is a struct pw_buf. */
int pw_buf_json(const char *p, size_t n, void *arg);

#endif
