/*
 * Unit tests: common/rbuf.h (the bounded reader every wire byte goes
 * through) and common/prefix.c (prefix and time text forms, store keys).
 */
#include "common/prefix.h"
#include "common/rbuf.h"

#include "check_harness.h"

static void test_rbuf_getters_short_input(void)
{
	TEST_SECTION("rbuf getters fail on short input without moving");
	/* three bytes: too short for u32/u64, enough for u16 + u8 */
	/* (backed by 8 bytes so that GCC does not warn about the out-of-bounds
	 * copies these checks prove are never made; the reader sees 3) */
	static const uint8_t b3[8] = { 0x01, 0x02, 0x03, 0xee, 0xee, 0xee, 0xee, 0xee };
	struct rbuf r = rbuf_make(b3, 3);
	uint8_t v8 = 0xee;
	uint16_t v16 = 0xeeee;
	uint32_t v32 = 0xeeeeeeee;
	uint64_t v64 = 0xeeeeeeeeeeeeeeeeULL;
	uint8_t dst[8] = { 0 };

	CHECK_INT(rbuf_left(&r), ==, 3);
	CHECK_INT(rbuf_u32(&r, &v32), ==, -1);
	CHECK_INT(r.off, ==, 0);
	CHECK_INT(v32, ==, 0xeeeeeeee); /* output untouched on failure */
	CHECK_INT(rbuf_u64(&r, &v64), ==, -1);
	CHECK_INT(r.off, ==, 0);
	CHECK_INT(rbuf_bytes(&r, dst, 4), ==, -1);
	CHECK_INT(r.off, ==, 0);
	CHECK_INT(dst[0], ==, 0);
	CHECK_INT(rbuf_skip(&r, 4), ==, -1);
	CHECK_INT(r.off, ==, 0);

	CHECK_INT(rbuf_u16(&r, &v16), ==, 0);
	CHECK_INT(v16, ==, 0x0102);
	CHECK_INT(r.off, ==, 2);
	CHECK_INT(rbuf_u16(&r, &v16), ==, -1); /* one byte left */
	CHECK_INT(r.off, ==, 2);
	CHECK_INT(v16, ==, 0x0102);
	CHECK_INT(rbuf_u8(&r, &v8), ==, 0);
	CHECK_INT(v8, ==, 0x03);
	CHECK_INT(rbuf_left(&r), ==, 0);
	CHECK_INT(rbuf_u8(&r, &v8), ==, -1);
	CHECK_INT(r.off, ==, 3);
	CHECK_INT(rbuf_skip(&r, 0), ==, 0); /* skipping nothing at the end is fine */

	/* big-endian values */
	static const uint8_t b8[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	r = rbuf_make(b8, sizeof b8);
	CHECK_INT(rbuf_u64(&r, &v64), ==, 0);
	CHECK(v64 == 0x0102030405060708ULL);
	r = rbuf_make(b8, sizeof b8);
	CHECK_INT(rbuf_u32(&r, &v32), ==, 0);
	CHECK_INT(v32, ==, 0x01020304);
	CHECK_INT(rbuf_bytes(&r, dst, 4), ==, 0);
	CHECK(memcmp(dst, b8 + 4, 4) == 0);

	/* empty reader */
	r = rbuf_make(NULL, 0);
	CHECK_INT(rbuf_u8(&r, &v8), ==, -1);
	CHECK_INT(rbuf_left(&r), ==, 0);

	/* writers and readers agree */
	uint8_t w[4];
	pw_put16(w, 0xfde9);
	CHECK_INT(pw_get16(w), ==, 0xfde9);
	pw_put32(w, 4200000001u);
	CHECK(w[0] == 0xfa && w[1] == 0x56 && w[2] == 0xea && w[3] == 0x01);
	CHECK_INT(pw_get32(w), ==, 4200000001u);
}

static void test_rbuf_sub(void)
{
	TEST_SECTION("rbuf_sub bounds");
	/* a length-prefixed region of 2 bytes followed by 2 more bytes */
	static const uint8_t b[] = { 0xaa, 0xbb, 0xcc, 0xdd };
	struct rbuf r = rbuf_make(b, sizeof b), c = { 0 };
	uint32_t v32;
	uint16_t v16;

	CHECK_INT(rbuf_sub(&r, 5, &c), ==, -1); /* longer than the parent */
	CHECK_INT(r.off, ==, 0);
	CHECK(c.p == NULL);

	CHECK_INT(rbuf_sub(&r, 2, &c), ==, 0);
	CHECK_INT(r.off, ==, 2);
	CHECK_INT(c.len, ==, 2);
	CHECK_INT(c.off, ==, 0);
	/* the child cannot read into the parent's remaining bytes */
	CHECK_INT(rbuf_u32(&c, &v32), ==, -1);
	CHECK_INT(rbuf_u16(&c, &v16), ==, 0);
	CHECK_INT(v16, ==, 0xaabb);
	CHECK_INT(rbuf_u16(&c, &v16), ==, -1);

	/* exactly the rest, then nothing */
	CHECK_INT(rbuf_sub(&r, 3, &c), ==, -1);
	CHECK_INT(rbuf_sub(&r, 2, &c), ==, 0);
	CHECK_INT(rbuf_left(&r), ==, 0);
	CHECK_INT(rbuf_u16(&c, &v16), ==, 0);
	CHECK_INT(v16, ==, 0xccdd);
	CHECK_INT(rbuf_sub(&r, 0, &c), ==, 0); /* an empty region is legal */
	CHECK_INT(c.len, ==, 0);
	CHECK_INT(rbuf_sub(&r, 1, &c), ==, -1);

	/* rbuf_rest takes what is left and empties the parent */
	r = rbuf_make(b, sizeof b);
	rbuf_skip(&r, 1);
	struct rbuf rest = rbuf_rest(&r);
	CHECK_INT(rest.len, ==, 3);
	CHECK(rest.p == b + 1);
	CHECK_INT(rbuf_left(&r), ==, 0);
}

static void test_prefix_parse(void)
{
	TEST_SECTION("pw_prefix_parse");
	struct pw_prefix p;
	const char *why = NULL;

	CHECK_INT(pw_prefix_parse("10.17.11.0/25", &p, &why), ==, 0);
	CHECK_INT(p.afi, ==, PW_AFI_IPV4);
	CHECK_INT(p.len, ==, 25);
	CHECK(p.addr[0] == 10 && p.addr[1] == 17 && p.addr[2] == 11 && p.addr[3] == 0);
	for (int i = 4; i < 16; i++)
		CHECK_INT(p.addr[i], ==, 0);

	why = NULL;
	CHECK_INT(pw_prefix_parse("10.17.11.5/25", &p, &why), ==, -1);
	CHECK(why && strstr(why, "host bits"));

	CHECK_INT(pw_prefix_parse("2001:db8::/32", &p, &why), ==, 0);
	CHECK_INT(p.afi, ==, PW_AFI_IPV6);
	CHECK_INT(p.len, ==, 32);
	CHECK(p.addr[0] == 0x20 && p.addr[1] == 0x01 && p.addr[2] == 0x0d && p.addr[3] == 0xb8);

	CHECK_INT(pw_prefix_parse("::/0", &p, &why), ==, 0);
	CHECK_INT(p.afi, ==, PW_AFI_IPV6);
	CHECK_INT(p.len, ==, 0);

	CHECK_INT(pw_prefix_parse("0.0.0.0/0", &p, &why), ==, 0);
	CHECK_INT(p.afi, ==, PW_AFI_IPV4);
	CHECK_INT(p.len, ==, 0);

	/* a bare address is a host route */
	CHECK_INT(pw_prefix_parse("1.2.3.4", &p, &why), ==, 0);
	CHECK_INT(p.afi, ==, PW_AFI_IPV4);
	CHECK_INT(p.len, ==, 32);
	CHECK(p.addr[3] == 4);
	CHECK_INT(pw_prefix_parse("2001:db8::1", &p, &why), ==, 0);
	CHECK_INT(p.len, ==, 128);

	static const char *const bad[] = {
		"garbage", "", "10.0.0.0/", "10.0.0.0/abc", "10.0.0.0/8x", "10.0.0.0/-1",
		"10.0.0.0/33", "1.2.3.4/33", "2001:db8::/129", "10.0.0/8", "/8", "10.0.0.0 /8",
		"10.0.0.0/99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		int rc = pw_prefix_parse(bad[i], &p, &why);
		if (rc != -1 || !why)
			fprintf(stderr, "    input: \"%s\"\n", bad[i]);
		CHECK_INT(rc, ==, -1);
		CHECK(why != NULL);
	}
	why = NULL;
	pw_prefix_parse("10.0.0.0/33", &p, &why);
	CHECK(why && strstr(why, "too long"));
}

static void test_prefix_format(void)
{
	TEST_SECTION("pw_prefix_format round trip");
	static const char *const good[] = {
		"10.17.11.0/25", "2001:db8::/32", "::/0", "0.0.0.0/0", "2001:db8:100::/48",
		"10.100.1.0/24", "192.168.11.18/32", "fe80::1/128",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct pw_prefix p;
		const char *why = NULL;
		char buf[PW_PREFIXSTRLEN];
		CHECK_INT(pw_prefix_parse(good[i], &p, &why), ==, 0);
		pw_prefix_format(&p, buf, sizeof buf);
		CHECK_STR(buf, good[i]);
	}
	struct pw_prefix p;
	const char *why;
	char buf[PW_PREFIXSTRLEN];
	pw_prefix_parse("1.2.3.4", &p, &why);
	pw_prefix_format(&p, buf, sizeof buf);
	CHECK_STR(buf, "1.2.3.4/32");

	char a[PW_ADDRSTRLEN];
	static const uint8_t v4[16] = { 192, 0, 2, 1 };
	pw_addr_format(PW_AFI_IPV4, v4, a, sizeof a);
	CHECK_STR(a, "192.0.2.1");
}

static int key_cmp(const uint8_t *a, const uint8_t *b) { return memcmp(a, b, PW_PREFIX_KEY_LEN); }

static bool key_inside(const struct pw_prefix *outer, const char *s)
{
	struct pw_prefix p;
	const char *why;
	uint8_t lo[PW_PREFIX_KEY_LEN], hi[PW_PREFIX_KEY_LEN], k[PW_PREFIX_KEY_LEN];
	if (pw_prefix_parse(s, &p, &why)) {
		fprintf(stderr, "    cannot parse %s\n", s);
		return false;
	}
	pw_prefix_key(outer, lo);
	pw_prefix_key_last(outer, hi);
	pw_prefix_key(&p, k);
	return key_cmp(lo, k) <= 0 && key_cmp(k, hi) <= 0;
}

static void test_prefix_keys(void)
{
	TEST_SECTION("prefix keys: more-specifics sort inside the range");
	struct pw_prefix p8, p6;
	const char *why;
	pw_prefix_parse("10.0.0.0/8", &p8, &why);

	/* the prefix itself and its more-specifics are inside */
	CHECK(key_inside(&p8, "10.0.0.0/8"));
	CHECK(key_inside(&p8, "10.0.0.0/9"));
	CHECK(key_inside(&p8, "10.128.0.0/9"));
	CHECK(key_inside(&p8, "10.17.11.0/25"));
	CHECK(key_inside(&p8, "10.255.255.255/32"));
	CHECK(key_inside(&p8, "10.0.0.0/32"));
	/* less-specifics, neighbours and the other family are outside */
	CHECK(!key_inside(&p8, "10.0.0.0/7"));
	CHECK(!key_inside(&p8, "0.0.0.0/0"));
	CHECK(!key_inside(&p8, "8.0.0.0/6"));
	CHECK(!key_inside(&p8, "11.0.0.0/8"));
	CHECK(!key_inside(&p8, "9.255.255.255/32"));
	CHECK(!key_inside(&p8, "11.0.0.0/32"));
	CHECK(!key_inside(&p8, "a00::/8"));

	pw_prefix_parse("2001:db8::/32", &p6, &why);
	CHECK(key_inside(&p6, "2001:db8:100::/48"));
	CHECK(key_inside(&p6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	CHECK(!key_inside(&p6, "2001:db9::/32"));
	CHECK(!key_inside(&p6, "2001::/16"));
	CHECK(!key_inside(&p6, "10.0.0.0/8"));

	/* key layout: afi | address (4 bytes for IPv4, 16 for IPv6) | length */
	uint8_t k[PW_PREFIX_KEY_LEN];
	struct pw_prefix q;
	pw_prefix_parse("10.17.11.0/25", &q, &why);
	CHECK_INT(pw_prefix_key(&q, k), ==, 6);
	CHECK_INT(k[0], ==, PW_AFI_IPV4);
	CHECK(k[1] == 10 && k[2] == 17 && k[3] == 11 && k[4] == 0);
	CHECK_INT(k[5], ==, 25);
	struct pw_prefix q6;
	uint8_t k6[PW_PREFIX_KEY_LEN];
	pw_prefix_parse("2001:db8::/32", &q6, &why);
	CHECK_INT(pw_prefix_key(&q6, k6), ==, 18);
	CHECK(k6[0] == PW_AFI_IPV6 && k6[1] == 0x20 && k6[2] == 0x01 && k6[17] == 32);
	CHECK(memcmp(k, k6, sizeof k) < 0); /* every IPv4 key sorts before every IPv6 key */

	/* from_key inverts key, and rejects what is not a key */
	struct pw_prefix back;
	CHECK_INT(pw_prefix_from_key(k, 6, &back), ==, 0);
	CHECK(back.afi == q.afi && back.len == q.len && memcmp(back.addr, q.addr, 16) == 0);
	CHECK_INT(pw_prefix_from_key(k6, 18, &back), ==, 0);
	CHECK(back.afi == q6.afi && back.len == q6.len && memcmp(back.addr, q6.addr, 16) == 0);
	CHECK_INT(pw_prefix_from_key(k, 5, &back), ==, -1);
	CHECK_INT(pw_prefix_from_key(k, 18, &back), ==, -1); /* an IPv4 key is 6 bytes */
	CHECK_INT(pw_prefix_from_key(k6, 6, &back), ==, -1);
	CHECK_INT(pw_prefix_from_key(k, 0, &back), ==, -1);
	uint8_t bad[PW_PREFIX_KEY_LEN];
	memcpy(bad, k, sizeof bad);
	bad[0] = 3;
	CHECK_INT(pw_prefix_from_key(bad, 6, &back), ==, -1);
	memcpy(bad, k, sizeof bad);
	bad[5] = 33;
	CHECK_INT(pw_prefix_from_key(bad, 6, &back), ==, -1);
}

/* Host bits cleared for every length, the other bits kept; a prefix with
 * host bits set is told from one without. */
static void test_prefix_mask(void)
{
	TEST_SECTION("prefix mask: every length of both families");
	for (int len = 0; len <= 128; len++) {
		struct pw_prefix p = { len <= 32 ? PW_AFI_IPV4 : PW_AFI_IPV6, (uint8_t)len, { 0 } };
		memset(p.addr, 0xff, 16);
		pw_prefix_mask(&p);
		int ones = 0, wrong = 0;
		for (int bit = 0; bit < 128; bit++) {
			bool set = p.addr[bit / 8] & (0x80 >> (bit % 8));
			ones += set;
			wrong += set != (bit < len);
		}
		if (!CHECK(wrong == 0 && ones == len))
			fprintf(stderr, "    /%d: %d bits set, %d wrong\n", len, ones, wrong);
		CHECK(!pw_prefix_host_bits_set(&p));
		if (len < 128) {
			p.addr[len / 8] |= (uint8_t)(0x80 >> (len % 8)); /* the first host bit */
			CHECK(pw_prefix_host_bits_set(&p));
		}
	}
}

static void test_time(void)
{
	TEST_SECTION("pw_time_parse / pw_time_format");
	const int64_t t0 = 1795608000LL * 1000000; /* 2026-11-25T12:00:00Z */
	int64_t us = 0;

	CHECK_INT(pw_time_parse("2026-11-25T12:00:00Z", &us), ==, 0);
	CHECK_INT(us, ==, t0);
	CHECK_INT(pw_time_parse("2026-11-25T12:00:00.5Z", &us), ==, 0);
	CHECK_INT(us, ==, t0 + 500000);
	CHECK_INT(pw_time_parse("2026-11-25T12:00:00.123456Z", &us), ==, 0);
	CHECK_INT(us, ==, t0 + 123456);
	/* digits beyond microseconds are dropped, not rounded into seconds */
	CHECK_INT(pw_time_parse("2026-11-25T12:00:00.1234569Z", &us), ==, 0);
	CHECK_INT(us, ==, t0 + 123456);
	/* offsets: local 14:00 at +02:00 is 12:00 UTC */
	CHECK_INT(pw_time_parse("2026-11-25T14:00:00+02:00", &us), ==, 0);
	CHECK_INT(us, ==, t0);
	CHECK_INT(pw_time_parse("2026-11-25T06:30:00-05:30", &us), ==, 0);
	CHECK_INT(us, ==, t0);
	/* Unix seconds: 1764072000 is 2025-11-25T12:00:00Z */
	CHECK_INT(pw_time_parse("1764072000", &us), ==, 0);
	CHECK_INT(us, ==, 1764072000LL * 1000000);
	CHECK_INT(pw_time_parse("1764072000.25", &us), ==, 0);
	CHECK_INT(us, ==, 1764072000LL * 1000000 + 250000);

	static const char *const bad[] = {
		"garbage", "", "2026-11-25", "2026-11-25T12:00:00", "2026-13-01T00:00:00Z",
		"2026-11-25T25:00:00Z", "2026-11-25T12:00:00.Z", "2026-11-25T12:00:00Zjunk",
		"2026-11-25T12:00:00+0200", "1.2.3", "17640720x", "2026/11/25T12:00:00Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		us = 777;
		int rc = pw_time_parse(bad[i], &us);
		if (rc != -1)
			fprintf(stderr, "    input: \"%s\"\n", bad[i]);
		CHECK_INT(rc, ==, -1);
	}

	char buf[PW_TIMESTRLEN];
	pw_time_format(t0 + 123456, buf, sizeof buf);
	CHECK_STR(buf, "2026-11-25T12:00:00.123456Z");
	pw_time_format(1764072000LL * 1000000, buf, sizeof buf);
	CHECK_STR(buf, "2025-11-25T12:00:00.000000Z");
	pw_time_format(0, buf, sizeof buf);
	CHECK_STR(buf, "1970-01-01T00:00:00.000000Z");
	pw_time_format(-1, buf, sizeof buf); /* one microsecond before the epoch */
	CHECK_STR(buf, "1969-12-31T23:59:59.999999Z");

	/* format -> parse round trip */
	int64_t samples[] = { t0, t0 + 1, t0 + 999999, 1764072000LL * 1000000 + 42 };
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		pw_time_format(samples[i], buf, sizeof buf);
		CHECK_INT(pw_time_parse(buf, &us), ==, 0);
		CHECK_INT(us, ==, samples[i]);
	}
}

int main(void)
{
	test_rbuf_getters_short_input();
	test_rbuf_sub();
	test_prefix_parse();
	test_prefix_format();
	test_prefix_keys();
	test_prefix_mask();
	test_time();
	return check_report("test_rbuf_prefix");
}
