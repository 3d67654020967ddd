/* text: see text.h. Leaf module. */
#include "text.h"
#include "check.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at s (max n bytes), or 0. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t len;
	uint32_t min;
	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; }
	else return 0;
	if (len > n)
		return 0;
	uint32_t cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *pw_text_dup(const void *p, size_t n)
{
	const uint8_t *s = p;
	char *out = pw_malloc(n * 3 + 1);
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq(s + i, n - i);
		if (l) {
			memcpy(out + k, s + i, l);
			k += l;
			i += l;
		} else {
			memcpy(out + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
		}
	}
	out[k] = 0;
	return out;
}

json_t *pw_json_text(const void *p, size_t n)
{
	char *t = pw_text_dup(p, n);
	json_t *j = json_string(t);
	free(t);
	return j;
}

char *pw_hex(const void *p, size_t n)
{
	const uint8_t *b = p;
	static const char digits[] = "0123456789abcdef";
	char *s = pw_malloc(n * 2 + 1);
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 15];
	}
	s[n * 2] = 0;
	return s;
}

/* ------------------------------------------------------------ pw_buf */

/* Room for n more bytes and the NUL. */
static void buf_reserve(struct pw_buf *b, size_t n)
{
	if (b->len + n < b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (b->len + n >= cap)
		cap *= 2;
	b->s = pw_realloc(b->s, cap);
	b->cap = cap;
}

void pw_buf_put(struct pw_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void pw_buf_puts(struct pw_buf *b, const char *str) { pw_buf_put(b, str, strlen(str)); }

void pw_buf_printf(struct pw_buf *b, const char *fmt, ...)
{
	buf_reserve(b, 0);
	for (;;) { /* written where it fits, else again after growing */
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		pw_require(n >= 0);
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		buf_reserve(b, (size_t)n);
	}
}

int pw_buf_json(const char *p, size_t n, void *arg)
{
	pw_buf_put(arg, p, n);
	return 0;
}
