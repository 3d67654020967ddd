/*
 * rbuf: the one bounded reader for every byte that comes from the network.
 *
 * Place in the flow: feed -> [rbuf] -> bmp decode -> bgp decode. Every
 * decoder reads wire bytes only through these getters; each getter fails
 * (returns -1 and leaves the reader unchanged) on short input instead of
 * reading past the end. A length-prefixed region is split off as a child
 * reader (rbuf_sub) before it is parsed, so a lying inner length can never
 * reach outside its parent.
 *
 * Ownership: an rbuf never owns its bytes; it views memory owned by the caller
 * (the connection's wirebuf, a replay file, a stored attribute set).
 */
#ifndef PW_RBUF_H
#define PW_RBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rbuf {
	const uint8_t *p; /* start of the viewed region (not owned) */
	size_t len;       /* bytes in the region */
	size_t off;       /* read position, 0..len */
};

static inline struct rbuf rbuf_make(const void *p, size_t len)
{
	struct rbuf r = { (const uint8_t *)p, len, 0 };
	return r;
}

static inline size_t rbuf_left(const struct rbuf *r) { return r->len - r->off; }
static inline const uint8_t *rbuf_cur(const struct rbuf *r) { return r->p + r->off; }

static inline int rbuf_skip(struct rbuf *r, size_t n)
{
	if (rbuf_left(r) < n)
		return -1;
	r->off += n;
	return 0;
}

static inline int rbuf_u8(struct rbuf *r, uint8_t *v)
{
	if (rbuf_left(r) < 1)
		return -1;
	*v = r->p[r->off++];
	return 0;
}

static inline int rbuf_u16(struct rbuf *r, uint16_t *v)
{
	if (rbuf_left(r) < 2)
		return -1;
	const uint8_t *b = r->p + r->off;
	*v = (uint16_t)((b[0] << 8) | b[1]);
	r->off += 2;
	return 0;
}

static inline int rbuf_u32(struct rbuf *r, uint32_t *v)
{
	if (rbuf_left(r) < 4)
		return -1;
	const uint8_t *b = r->p + r->off;
	*v = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
	r->off += 4;
	return 0;
}

static inline int rbuf_u64(struct rbuf *r, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;
	if (rbuf_left(r) < 8)
		return -1;
	rbuf_u32(r, &hi);
	rbuf_u32(r, &lo);
	*v = ((uint64_t)hi << 32) | lo;
	return 0;
}

/* Copies n bytes out. */
static inline int rbuf_bytes(struct rbuf *r, void *dst, size_t n)
{
	if (rbuf_left(r) < n)
		return -1;
	memcpy(dst, r->p + r->off, n);
	r->off += n;
	return 0;
}

/* Splits the next n bytes off as a child reader and advances past them. */
static inline int rbuf_sub(struct rbuf *r, size_t n, struct rbuf *child)
{
	if (rbuf_left(r) < n)
		return -1;
	*child = rbuf_make(r->p + r->off, n);
	r->off += n;
	return 0;
}

/* The rest of the reader as a child; the parent is left empty. */
static inline struct rbuf rbuf_rest(struct rbuf *r)
{
	struct rbuf c = rbuf_make(r->p + r->off, rbuf_left(r));
	r->off = r->len;
	return c;
}

/* Big-endian helpers for writing (canonical attribute sets, tests). */
static inline void pw_put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static inline void pw_put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16); b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
}
static inline uint16_t pw_get16(const uint8_t *b) { return (uint16_t)((b[0] << 8) | b[1]); }
static inline uint32_t pw_get32(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

#endif
