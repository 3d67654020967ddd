/* prefix: see prefix.h. Leaf module. */
#include "prefix.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t pw_prefix_key(const struct pw_prefix *p, uint8_t key[PW_PREFIX_KEY_LEN])
{
	size_t alen = p->afi == PW_AFI_IPV4 ? 4 : 16;
	memset(key, 0, PW_PREFIX_KEY_LEN);
	key[0] = p->afi;
	memcpy(key + 1, p->addr, alen);
	key[1 + alen] = p->len;
	return alen + 2;
}

int pw_prefix_from_key(const uint8_t *key, size_t len, struct pw_prefix *p)
{
	if (len < 1 || (key[0] != PW_AFI_IPV4 && key[0] != PW_AFI_IPV6) || len != pw_prefix_key_len(key[0]) ||
	    key[len - 1] > pw_afi_maxlen(key[0]))
		return -1;
	memset(p, 0, sizeof *p);
	p->afi = key[0];
	memcpy(p->addr, key + 1, len - 2);
	p->len = key[len - 1];
	return 0;
}

size_t pw_prefix_key_last(const struct pw_prefix *p, uint8_t key[PW_PREFIX_KEY_LEN])
{
	size_t n = pw_prefix_key(p, key);
	for (int bit = p->len; bit < pw_afi_maxlen(p->afi); bit++)
		key[1 + bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	key[n - 1] = 0xff;
	return n;
}

void pw_prefix_mask(struct pw_prefix *p)
{
	if (p->len >= 128)
		return;
	/* a byte at a time, not a bit: every NLRI of a full table comes here */
	unsigned full = p->len / 8u, rem = p->len % 8u;
	if (rem)
		p->addr[full++] &= (uint8_t)(0xff00u >> rem);
	memset(p->addr + full, 0, 16 - full);
}

bool pw_prefix_host_bits_set(const struct pw_prefix *p)
{
	struct pw_prefix m = *p;
	pw_prefix_mask(&m);
	return memcmp(m.addr, p->addr, 16) != 0;
}

bool pw_prefix_contains(const struct pw_prefix *p, uint8_t afi, const uint8_t addr[16])
{
	if (afi != p->afi)
		return false;
	struct pw_prefix a = { afi, p->len, { 0 } };
	memcpy(a.addr, addr, 16);
	pw_prefix_mask(&a);
	return memcmp(a.addr, p->addr, 16) == 0;
}

int pw_prefix_parse(const char *s, struct pw_prefix *p, const char **why)
{
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof buf) {
		*why = "not an IPv4 or IPv6 prefix";
		return -1;
	}
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	long len = -1;
	if (slash) {
		*slash = 0;
		char *end;
		if (!isdigit((unsigned char)slash[1])) {
			*why = "prefix length is not a number";
			return -1;
		}
		len = strtol(slash + 1, &end, 10);
		if (*end) {
			*why = "prefix length is not a number";
			return -1;
		}
	}
	memset(p, 0, sizeof *p);
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->afi = PW_AFI_IPV4;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->afi = PW_AFI_IPV6;
	else {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	int max = pw_afi_maxlen(p->afi);
	if (len < 0)
		len = max;
	if (len > max) {
		*why = "prefix length too long for the address family";
		return -1;
	}
	p->len = (uint8_t)len;
	if (pw_prefix_host_bits_set(p)) {
		*why = "host bits set after the prefix length";
		return -1;
	}
	return 0;
}

void pw_addr_format(uint8_t afi, const uint8_t *addr, char *buf, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];
	if (!inet_ntop(afi == PW_AFI_IPV4 ? AF_INET : AF_INET6, addr, tmp, sizeof tmp))
		snprintf(tmp, sizeof tmp, "?");
	snprintf(buf, n, "%s", tmp);
}

void pw_prefix_format(const struct pw_prefix *p, char *buf, size_t n)
{
	char a[PW_ADDRSTRLEN];
	pw_addr_format(p->afi, p->addr, a, sizeof a);
	snprintf(buf, n, "%s/%u", a, p->len);
}

void pw_time_format(int64_t us, char *buf, size_t n)
{
	time_t sec = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	long frac = (long)(us - (int64_t)sec * 1000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%06ldZ", frac);
}

static int parse_digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

int pw_time_parse(const char *s, int64_t *us)
{
	/* Unix seconds, possibly with a fraction. */
	const char *q = s;
	if (*q == '-')
		q++;
	if (*q && strspn(q, "0123456789.") == strlen(q) && strchr(q, '.') == strrchr(q, '.')) {
		char *end;
		double d = strtod(s, &end);
		if (*end || end == s)
			return -1;
		if (d > 1e11 || d < -1e11)
			return -1;
		*us = (int64_t)(d * 1e6 + (d >= 0 ? 0.5 : -0.5));
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	int Y, M, D, h, m, sec;
	const char *p = s;
	if (parse_digits(&p, 4, &Y) || *p++ != '-' || parse_digits(&p, 2, &M) || *p++ != '-' ||
	    parse_digits(&p, 2, &D) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &m))
		return -1;
	sec = 0;
	if (*p == ':') {
		p++;
		if (parse_digits(&p, 2, &sec))
			return -1;
	}
	int64_t frac_us = 0;
	if (*p == '.') {
		p++;
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			if (digits < 6) {
				frac_us = frac_us * 10 + (*p - '0');
				digits++;
			}
			p++;
		}
		if (digits == 0)
			return -1;
		while (digits++ < 6)
			frac_us *= 10;
	}
	int off_min = 0;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (parse_digits(&p, 2, &oh) || *p++ != ':' || parse_digits(&p, 2, &om))
			return -1;
		off_min = sign * (oh * 60 + om);
	} else
		return -1;
	if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -1;
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*us = ((int64_t)t - off_min * 60) * 1000000 + frac_us;
	return 0;
}
