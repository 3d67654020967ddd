/*
 * prefix: IPv4/IPv6 prefixes and addresses, their text forms, and the
 * sort key used by the store so that exact, more-specific (longer) and
 * less-specific (shorter) look-ups are index range scans:
 *
 *   key = afi(1) | address(4 for IPv4, 16 for IPv6) | len(1)
 *
 * 6 bytes for IPv4, 18 for IPv6 (PW_PREFIX_KEY_LEN: the buffer size). Keys
 * of one family have one length and the family byte comes first, so memcmp
 * order (SQLite's BLOB order) = (family, address, length): every prefix
 * inside P/l sorts between key(P/l) and key(last address of P/l, len 255).
 * Also: wall-clock time in RFC 3339 form, parsed and printed.
 */
#ifndef PW_PREFIX_H
#define PW_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PW_AFI_IPV4 = 1, PW_AFI_IPV6 = 2 };
#define PW_PREFIX_KEY_LEN 18
#define PW_ADDRSTRLEN 48
#define PW_PREFIXSTRLEN 56
#define PW_TIMESTRLEN 40

struct pw_prefix {
	uint8_t afi; /* PW_AFI_IPV4 or PW_AFI_IPV6 */
	uint8_t len; /* prefix length in bits */
	uint8_t addr[16];
};

static inline int pw_afi_maxlen(uint8_t afi) { return afi == PW_AFI_IPV4 ? 32 : 128; }

#define PW_PREFIX_KEY_LEN_V4 6
/* Writes the key, zero-padded to PW_PREFIX_KEY_LEN; returns its length. */
size_t pw_prefix_key(const struct pw_prefix *p, uint8_t key[PW_PREFIX_KEY_LEN]);
static inline size_t pw_prefix_key_len(uint8_t afi) { return afi == PW_AFI_IPV4 ? PW_PREFIX_KEY_LEN_V4 : PW_PREFIX_KEY_LEN; }
int pw_prefix_from_key(const uint8_t *key, size_t len, struct pw_prefix *p);
/* Last key inside p (for range scans of more-specifics); returns its length. */
size_t pw_prefix_key_last(const struct pw_prefix *p, uint8_t key[PW_PREFIX_KEY_LEN]);
void pw_prefix_mask(struct pw_prefix *p);
bool pw_prefix_host_bits_set(const struct pw_prefix *p);
/* Whether the address (afi, 16 bytes as in struct pw_prefix) lies inside p. */
bool pw_prefix_contains(const struct pw_prefix *p, uint8_t afi, const uint8_t addr[16]);

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (full length).
 * Returns 0, or -1 with *why set to a static explanation. */
int pw_prefix_parse(const char *s, struct pw_prefix *p, const char **why);
void pw_prefix_format(const struct pw_prefix *p, char *buf, size_t n);
void pw_addr_format(uint8_t afi, const uint8_t *addr, char *buf, size_t n);

/* RFC 3339 UTC with microseconds: 2026-11-25T12:00:00.123456Z */
void pw_time_format(int64_t us, char *buf, size_t n);
/* Accepts RFC 3339 (Z or +hh:mm offset, optional fraction) or Unix seconds
 * (integer or decimal). */
int pw_time_parse(const char *s, int64_t *us);

#endif
