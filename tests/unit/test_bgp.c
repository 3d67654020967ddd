/*
 * Unit tests: bgp_update.c, bgp_attr.c, bgp_open.c -- UPDATE decoding
 * (RFC 4271 4.3, RFC 4760 MP-BGP, RFC 6793 AS4, RFC 7911 add-path, RFC 7606
 * error handling), the canonical attribute set and its JSON rendering, OPEN
 * (RFC 4271 4.2, RFC 5492, RFC 9072) and NOTIFICATION (RFC 4271 4.5).
 *
 * UPDATE vectors are bodies: what follows the 19-byte BGP header.
 *
 *   test-bgp                       run the tests
 *   test-bgp --write-vectors DIR   also write each UPDATE wrapped in a BMP
 *                                  Route Monitoring message to DIR
 */
#include "bgp.h"
#include "bmp.h"
#include "common/prefix.h"

#include "check_harness.h"

#define MARKER 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
	       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/* Attributes reused by several vectors (RFC 4271 5.1). */
#define A_ORIGIN_IGP 0x40, 0x01, 0x01, 0x00                                     /* 4 bytes */
#define A_AS_PATH_65002 0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xea     /* 9: SEQ [65002], 4-byte */
#define A_NEXT_HOP 0x40, 0x03, 0x04, 192, 0, 2, 1                               /* 7: 192.0.2.1 */
#define N_10_100_1 0x18, 10, 100, 1                                             /* 10.100.1.0/24 */

/* (a) IPv4 UPDATE: ORIGIN IGP, AS_PATH SEQ [65002 65003] (4-byte ASNs),
 * NEXT_HOP 192.0.2.1, LOCAL_PREF 150, COMMUNITIES 65000:100; NLRI
 * 10.100.1.0/24 and 10.101.0.0/16. */
static const uint8_t upd_ipv4[] = {
	0x00, 0x00,                                     /* withdrawn routes length */
	0x00, 0x26,                                     /* path attributes length 38 */
	A_ORIGIN_IGP,
	0x40, 0x02, 0x0a, 0x02, 0x02, 0x00, 0x00, 0xfd, 0xea, 0x00, 0x00, 0xfd, 0xeb,
	A_NEXT_HOP,
	0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x96,       /* LOCAL_PREF 150 */
	0xc0, 0x08, 0x04, 0xfd, 0xe8, 0x00, 0x64,       /* COMMUNITIES 65000:100 */
	N_10_100_1,
	0x10, 10, 101,                                  /* 10.101.0.0/16 */
};

/* (b) 2-byte session (RFC 6793 4.2.3): AS_PATH SEQ [65001 23456] in 2-byte
 * ASNs, AS4_PATH SEQ [4200000001], AGGREGATOR in its 2-byte form (AS 65001,
 * 192.0.2.1); NLRI 10.100.1.0/24. */
static const uint8_t upd_as2_merge[] = {
	0x00, 0x00,
	0x00, 0x26,                                     /* 38 */
	A_ORIGIN_IGP,
	0x40, 0x02, 0x06, 0x02, 0x02, 0xfd, 0xe9, 0x5b, 0xa0, /* AS_PATH [65001 23456] */
	A_NEXT_HOP,
	0xc0, 0x07, 0x06, 0xfd, 0xe9, 192, 0, 2, 1,      /* AGGREGATOR 65001 192.0.2.1 */
	0xc0, 0x11, 0x06, 0x02, 0x01, 0xfa, 0x56, 0xea, 0x01, /* AS4_PATH [4200000001] */
	N_10_100_1,
};

/* (b') 2-byte session, the aggregator is a 4-byte AS: AGGREGATOR AS_TRANS
 * 23456 + AS4_AGGREGATOR 4200000001 192.0.2.1; AS_PATH [23456] with
 * AS4_PATH [4200000001]. */
static const uint8_t upd_as2_as4_aggregator[] = {
	0x00, 0x00,
	0x00, 0x2f,                                     /* 47 */
	A_ORIGIN_IGP,
	0x40, 0x02, 0x04, 0x02, 0x01, 0x5b, 0xa0,       /* AS_PATH [23456] */
	A_NEXT_HOP,
	0xc0, 0x07, 0x06, 0x5b, 0xa0, 192, 0, 2, 1,      /* AGGREGATOR 23456 192.0.2.1 */
	0xc0, 0x11, 0x06, 0x02, 0x01, 0xfa, 0x56, 0xea, 0x01, /* AS4_PATH */
	0xc0, 0x12, 0x08, 0xfa, 0x56, 0xea, 0x01, 192, 0, 2, 1, /* AS4_AGGREGATOR */
	N_10_100_1,
};

/* (b'') a 4-byte session receiving AS4_PATH (RFC 6793: must not be sent
 * between NEW speakers): discarded, AS_PATH [65002] kept. */
static const uint8_t upd_as4_path_on_4byte[] = {
	0x00, 0x00,
	0x00, 0x1d,                                     /* 29 */
	A_ORIGIN_IGP, A_AS_PATH_65002, A_NEXT_HOP,
	0xc0, 0x11, 0x06, 0x02, 0x01, 0xfa, 0x56, 0xea, 0x01,
	N_10_100_1,
};

/* (c1) RFC 7606 7.1: ORIGIN value 5 (undefined) -> treat-as-withdraw. Also
 * withdraws 10.99.1.0/24 in the withdrawn routes field. */
static const uint8_t upd_bad_origin[] = {
	0x00, 0x04, 0x18, 10, 99, 1,                    /* withdrawn 10.99.1.0/24 */
	0x00, 0x14,                                     /* 20 */
	0x40, 0x01, 0x01, 0x05,                         /* ORIGIN 5 */
	A_AS_PATH_65002, A_NEXT_HOP,
	N_10_100_1,
};

/* (c2) RFC 7606 7.6: ATOMIC_AGGREGATE of length 1 -> attribute discard. */
static const uint8_t upd_bad_atomic[] = {
	0x00, 0x00,
	0x00, 0x18,                                     /* 24 */
	A_ORIGIN_IGP, A_AS_PATH_65002, A_NEXT_HOP,
	0x40, 0x06, 0x01, 0x00,                         /* ATOMIC_AGGREGATE, length 1 */
	N_10_100_1,
};

/* (c3) RFC 7606 7.8: COMMUNITIES of length 3 -> treat-as-withdraw. */
static const uint8_t upd_bad_communities[] = {
	0x00, 0x00,
	0x00, 0x1a,                                     /* 26 */
	A_ORIGIN_IGP, A_AS_PATH_65002, A_NEXT_HOP,
	0xc0, 0x08, 0x03, 0xfd, 0xe8, 0x00,
	N_10_100_1,
};

/* (c4) RFC 7606 3(g): MULTI_EXIT_DISC twice (10, then 20) -> the second
 * is discarded. */
static const uint8_t upd_dup_med[] = {
	0x00, 0x00,
	0x00, 0x22,                                     /* 34 */
	A_ORIGIN_IGP, A_AS_PATH_65002, A_NEXT_HOP,
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x0a,       /* MED 10 */
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x14,       /* MED 20 */
	N_10_100_1,
};

/* (c5) RFC 7606 4: NEXT_HOP claims 8 bytes, the attributes field (11) ends
 * after 4 -> treat-as-withdraw; the NLRI is still found by the total length. */
static const uint8_t upd_attr_overrun[] = {
	0x00, 0x00,
	0x00, 0x0b,                                     /* 11 */
	A_ORIGIN_IGP,
	0x40, 0x03, 0x08, 192, 0, 2, 1,                 /* NEXT_HOP length 8, 4 present */
	N_10_100_1,
};

/* (c6) RFC 4760 3: MP_REACH_NLRI (IPv6 unicast) with a next hop of length 7
 * -> the NLRI cannot be trusted: session reset class, unusable (-1). */
static const uint8_t upd_mp_nh7[] = {
	0x00, 0x00,
	0x00, 0x18,                                     /* 24 */
	A_ORIGIN_IGP,
	0x80, 0x0e, 0x11,                               /* MP_REACH_NLRI, 17 */
	0x00, 0x02, 0x01, 0x07,                         /* AFI 2 SAFI 1, next hop length 7 */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x01,
	0x00,                                           /* reserved */
	0x20, 0x20, 0x01, 0x0d, 0xb8,                   /* 2001:db8::/32 */
};

/* (c7) withdrawn routes length 16 with 4 bytes of withdrawn routes and an
 * empty attributes length after them: unusable (-1). */
static const uint8_t upd_wd_overrun[] = {
	0x00, 0x10, 0x18, 10, 100, 1, 0x00, 0x00,
};

/* (c8) RFC 7606 3(c): ORIGIN sent as optional (flags 0xc0) -> flags conflict,
 * treat-as-withdraw. */
static const uint8_t upd_origin_flags[] = {
	0x00, 0x00,
	0x00, 0x14,                                     /* 20 */
	0xc0, 0x01, 0x01, 0x00,
	A_AS_PATH_65002, A_NEXT_HOP,
	N_10_100_1,
};

/* (d1) RFC 4724 2: End-of-RIB for IPv4 unicast, the empty UPDATE. */
static const uint8_t upd_eor_ipv4[] = { 0x00, 0x00, 0x00, 0x00 };

/* (d2) End-of-RIB for IPv6 unicast: only MP_UNREACH_NLRI AFI 2 SAFI 1 and
 * no prefixes. */
static const uint8_t upd_eor_ipv6[] = {
	0x00, 0x00, 0x00, 0x06, 0x80, 0x0f, 0x03, 0x00, 0x02, 0x01,
};

/* (d3) not an End-of-RIB: withdraws 10.100.1.0/24 only. */
static const uint8_t upd_withdraw_only[] = { 0x00, 0x04, N_10_100_1, 0x00, 0x00 };

/* (e1) RFC 7911: add-path negotiated but the NLRI carries no path id
 * (FRR 8.4 in BMP): 10.100.1.0/24 plain. */
static const uint8_t upd_addpath_missing[] = {
	0x00, 0x00,
	0x00, 0x14,                                     /* 20 */
	A_ORIGIN_IGP, A_AS_PATH_65002, A_NEXT_HOP,
	N_10_100_1,
};

/* (e2) RFC 7911 3: NLRI with path ids: path 1 10.100.1.0/24, path 2
 * 10.100.2.0/24. */
static const uint8_t upd_addpath_ids[] = {
	0x00, 0x00,
	0x00, 0x14,                                     /* 20 */
	A_ORIGIN_IGP, A_AS_PATH_65002, A_NEXT_HOP,
	0x00, 0x00, 0x00, 0x01, 0x18, 10, 100, 1,
	0x00, 0x00, 0x00, 0x02, 0x18, 10, 100, 2,
};

/* (f1) RFC 4760 3 / RFC 2545 3: MP_REACH_NLRI IPv6 unicast with a 32-byte
 * next hop (global 2001:db8::1 + link-local fe80::1), NLRI 2001:db8:100::/48. */
static const uint8_t upd_mp_ipv6[] = {
	0x00, 0x00,
	0x00, 0x3c,                                     /* 60 */
	A_ORIGIN_IGP, A_AS_PATH_65002,
	0x80, 0x0e, 0x2c,                               /* MP_REACH_NLRI, 44 */
	0x00, 0x02, 0x01, 0x20,                         /* AFI 2 SAFI 1, next hop 32 */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x00,                                           /* reserved */
	0x30, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00,       /* 2001:db8:100::/48 */
};

/* (f2) RFC 4364 4.3.4: MP_REACH_NLRI AFI 1 SAFI 128 (VPN-IPv4), next hop
 * RD 0:0 + 192.0.2.1, one labelled VPN prefix (label 16, RD 65001:1,
 * 10.100.1.0/24): a family this collector does not keep. */
static const uint8_t upd_mp_vpn[] = {
	0x00, 0x00,
	0x00, 0x30,                                     /* 48 */
	A_ORIGIN_IGP, A_AS_PATH_65002,
	0x80, 0x0e, 0x20,                               /* MP_REACH_NLRI, 32 */
	0x00, 0x01, 0x80, 0x0c,                         /* AFI 1 SAFI 128, next hop 12 */
	0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1,
	0x00,
	0x70, 0x00, 0x01, 0x01, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x00, 0x00, 0x01, 10, 100, 1,
};

/* (g) an unassigned optional transitive attribute, type 99, value 01 02 03:
 * kept and shown raw. */
static const uint8_t upd_unknown_attr[] = {
	0x00, 0x00,
	0x00, 0x1a,                                     /* 26 */
	A_ORIGIN_IGP, A_AS_PATH_65002, A_NEXT_HOP,
	0xc0, 0x63, 0x03, 0x01, 0x02, 0x03,
	N_10_100_1,
};

/* (i1) ORIGIN, AS_PATH, NEXT_HOP, MED 10 in type order; 10.100.1.0/24. */
static const uint8_t upd_canon_a[] = {
	0x00, 0x00,
	0x00, 0x1b,                                     /* 27 */
	A_ORIGIN_IGP, A_AS_PATH_65002, A_NEXT_HOP,
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x0a,
	N_10_100_1,
};

/* (i2) the same attributes in reverse order, AS_PATH with the extended
 * length flag (0x10, 2-byte length); another prefix 10.100.2.0/24. */
static const uint8_t upd_canon_b[] = {
	0x00, 0x00,
	0x00, 0x1c,                                     /* 28 */
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x0a,
	A_NEXT_HOP,
	0x50, 0x02, 0x00, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xea,
	A_ORIGIN_IGP,
	0x18, 10, 100, 2,
};

/* (i3) as (i1) from a 2-byte session: AS_PATH [65002] in 2-byte ASNs. */
static const uint8_t upd_canon_as2[] = {
	0x00, 0x00,
	0x00, 0x19,                                     /* 25 */
	A_ORIGIN_IGP,
	0x40, 0x02, 0x04, 0x02, 0x01, 0xfd, 0xea,
	A_NEXT_HOP,
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x0a,
	N_10_100_1,
};

/* (i4) as (i1) with MED 20. */
static const uint8_t upd_canon_med20[] = {
	0x00, 0x00,
	0x00, 0x1b,
	A_ORIGIN_IGP, A_AS_PATH_65002, A_NEXT_HOP,
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x14,
	N_10_100_1,
};

/* (h1) OPEN (RFC 4271 4.2): version 4, My AS 23456 (AS_TRANS), hold 180,
 * id 192.0.2.1; capabilities (RFC 5492): multiprotocol IPv4 unicast
 * (RFC 4760), 4-octet AS 4200000001 (RFC 6793), add-path IPv4 unicast
 * send/receive 3 (RFC 7911), graceful restart 120 s with IPv4 unicast
 * forwarding preserved (RFC 4724). 57 bytes. */
static const uint8_t open_caps[] = {
	MARKER, 0x00, 0x39, 0x01,
	0x04, 0x5b, 0xa0, 0x00, 0xb4, 192, 0, 2, 1,
	0x1c,                                           /* optional parameters length 28 */
	0x02, 0x1a,                                     /* capabilities, 26 */
	0x01, 0x04, 0x00, 0x01, 0x00, 0x01,
	0x41, 0x04, 0xfa, 0x56, 0xea, 0x01,
	0x45, 0x04, 0x00, 0x01, 0x01, 0x03,
	0x40, 0x06, 0x00, 0x78, 0x00, 0x01, 0x01, 0x80,
};

/* (h2) OPEN with RFC 9072 extended optional parameters: non-ext length 255,
 * type 255, extended length 9; one capabilities parameter with a 2-byte
 * length holding 4-octet AS 65001. 41 bytes. */
static const uint8_t open_ext_params[] = {
	MARKER, 0x00, 0x29, 0x01,
	0x04, 0xfd, 0xe9, 0x00, 0xb4, 192, 0, 2, 1,
	0xff, 0xff, 0x00, 0x09,
	0x02, 0x00, 0x06, 0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
};

/* (h3) OPEN cut after 4 body bytes (BGP length 23 agrees). */
static const uint8_t open_truncated[] = { MARKER, 0x00, 0x17, 0x01, 0x04, 0xfd, 0xe9, 0x00 };

/* (h4) OPEN whose optional parameters length (8) runs past the message. */
static const uint8_t open_opt_overrun[] = {
	MARKER, 0x00, 0x1d, 0x01, 0x04, 0xfd, 0xe9, 0x00, 0xb4, 192, 0, 2, 1, 0x08,
};

/* (h5) OPEN with a capability (4-octet AS, length 4) longer than its
 * parameter (length 4: 2 bytes of value present). */
static const uint8_t open_cap_overrun[] = {
	MARKER, 0x00, 0x23, 0x01, 0x04, 0xfd, 0xe9, 0x00, 0xb4, 192, 0, 2, 1, 0x06,
	0x02, 0x04, 0x41, 0x04, 0x00, 0x00,
};

/* NOTIFICATION (RFC 4271 4.5) cease / administrative shutdown with the
 * RFC 9003 shutdown communication "maintenance". */
static const uint8_t notif_shutdown[] = {
	MARKER, 0x00, 0x21, 0x03, 0x06, 0x02,
	0x0b, 'm', 'a', 'i', 'n', 't', 'e', 'n', 'a', 'n', 'c', 'e',
};

/* NOTIFICATION hold timer expired (code 4, subcode 0), no data. */
static const uint8_t notif_hold[] = { MARKER, 0x00, 0x15, 0x03, 0x04, 0x00 };

/* ------------------------------------------------------------ helpers */

static uint8_t scratch[8192];

static int parse(const uint8_t *body, size_t n, const struct bgp_update_ctx *ctx, struct bgp_update *u,
		 const char **why)
{
	static const struct bgp_update_ctx plain = { 0 };
	*why = NULL;
	return bgp_update_parse(rbuf_make(body, n), ctx ? ctx : &plain, scratch, sizeof scratch, u, why);
}
#define PARSE(v, ctx, u, why) parse((v), sizeof(v), (ctx), (u), (why))

/* Prefixes of a region as "P" or "P#pathid", comma-separated. */
static const char *nlri_text(struct bgp_nlri_set s)
{
	static char out[512];
	struct pw_prefix p;
	uint32_t id;
	size_t k = 0;
	out[0] = 0;
	while (bgp_nlri_next(&s, &p, &id) == 1) {
		char b[PW_PREFIXSTRLEN];
		pw_prefix_format(&p, b, sizeof b);
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", k ? "," : "", b);
		if (s.addpath)
			k += (size_t)snprintf(out + k, sizeof out - k, "#%u", id);
	}
	return out;
}

static json_t *render(const struct bgp_update *u, uint8_t afi)
{
	struct bgp_render_opts o = { .afi = afi };
	json_t *j = json_object();
	bgp_attrs_to_json(u->attrs, u->attrs_len, &o, j);
	return j;
}

static const char *jstr(json_t *j, const char *key) { return json_string_value(json_object_get(j, key)); }
static long long jint(json_t *j, const char *key) { return json_integer_value(json_object_get(j, key)); }

/* The JSON as_path as text: "65001 4200000001". */
static const char *as_path_text(json_t *route)
{
	static char out[256];
	json_t *a = json_object_get(route, "as_path"), *v;
	size_t i, k = 0;
	out[0] = 0;
	json_array_foreach(a, i, v) {
		if (json_is_integer(v))
			k += (size_t)snprintf(out + k, sizeof out - k, "%s%lld", k ? " " : "",
					      (long long)json_integer_value(v));
		else
			k += (size_t)snprintf(out + k, sizeof out - k, "%s?", k ? " " : "");
	}
	return out;
}

/* ------------------------------------------------------------ tests */

static void test_ipv4_update(void)
{
	TEST_SECTION("(a) IPv4 UPDATE");
	struct bgp_update u;
	const char *why;
	CHECK_INT(PARSE(upd_ipv4, NULL, &u, &why), ==, 0);
	CHECK_INT(u.n_announced, ==, 1); /* one region: the IPv4 NLRI field */
	CHECK_INT(u.n_withdrawn, ==, 0);
	CHECK(!u.treat_as_withdraw && !u.eor && !u.addpath_mismatch && !u.as_width_mismatch);
	CHECK_INT(u.n_discarded, ==, 0);
	CHECK(u.problem == NULL);
	if (u.n_announced == 1) {
		CHECK_INT(u.announced[0].afi, ==, PW_AFI_IPV4);
		CHECK(!u.announced[0].addpath);
		CHECK_STR(nlri_text(u.announced[0]), "10.100.1.0/24,10.101.0.0/16");
	}
	json_t *j = render(&u, PW_AFI_IPV4);
	CHECK_STR(jstr(j, "origin"), "igp");
	CHECK_STR(as_path_text(j), "65002 65003");
	CHECK_STR(jstr(j, "next_hop"), "192.0.2.1");
	CHECK_INT(jint(j, "local_pref"), ==, 150);
	CHECK(json_is_null(json_object_get(j, "med")));
	json_t *c = json_object_get(j, "communities");
	CHECK_INT(json_array_size(c), ==, 1);
	CHECK_STR(json_string_value(json_array_get(c, 0)), "65000:100");
	CHECK_INT(json_array_size(json_object_get(j, "large_communities")), ==, 0);
	CHECK(json_object_get(j, "unknown_attributes") == NULL);
	json_decref(j);

	uint32_t path[8];
	CHECK_INT(bgp_attrs_as_path(u.attrs, u.attrs_len, path, 8), ==, 2);
	CHECK(path[0] == 65002 && path[1] == 65003);
	struct rbuf v;
	CHECK(bgp_attrs_find(u.attrs, u.attrs_len, BGP_ATTR_LOCAL_PREF, &v) && v.len == 4 && pw_get32(v.p) == 150);
	CHECK(!bgp_attrs_find(u.attrs, u.attrs_len, BGP_ATTR_MED, &v));

	/* host bits past the length (routers may leave them set) are cleared;
	 * the bytes past the length's are not read */
	static const uint8_t v4[] = { 25, 10, 1, 2, 0xff, 23, 10, 1, 3, 0, 32, 192, 0, 2, 7, 1, 0xff };
	struct bgp_nlri_set s4 = { rbuf_make(v4, sizeof v4), PW_AFI_IPV4, false };
	CHECK_STR(nlri_text(s4), "10.1.2.128/25,10.1.2.0/23,0.0.0.0/0,192.0.2.7/32,128.0.0.0/1");
	static const uint8_t v6[] = { 33, 0x20, 0x01, 0x0d, 0xb8, 0xff, 127, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				      0, 0, 0, 0, 0, 0, 0, 0xff };
	struct bgp_nlri_set s6 = { rbuf_make(v6, sizeof v6), PW_AFI_IPV6, false };
	CHECK_STR(nlri_text(s6), "2001:db8:8000::/33,2001:db8::fe/127");

	/* an empty set renders as nulls and empty arrays */
	u.attrs_len = 0;
	j = render(&u, PW_AFI_IPV4);
	CHECK(json_is_null(json_object_get(j, "origin")));
	CHECK(json_is_null(json_object_get(j, "next_hop")));
	CHECK_INT(json_array_size(json_object_get(j, "as_path")), ==, 0);
	json_decref(j);
}

static void test_as2(void)
{
	TEST_SECTION("(b) 2-byte sessions: AS4_PATH merge, AGGREGATOR widening");
	struct bgp_update u;
	const char *why;
	struct bgp_update_ctx as2 = { .as2 = true };
	struct rbuf v;

	CHECK_INT(PARSE(upd_as2_merge, &as2, &u, &why), ==, 0);
	CHECK_INT(u.n_discarded, ==, 0);
	CHECK(!u.treat_as_withdraw && !u.as_width_mismatch);
	json_t *j = render(&u, PW_AFI_IPV4);
	CHECK_STR(as_path_text(j), "65001 4200000001");
	json_t *ag = json_object_get(j, "aggregator");
	CHECK_INT(jint(ag, "asn"), ==, 65001);
	CHECK_STR(jstr(ag, "address"), "192.0.2.1");
	json_decref(j);
	/* canonical: AGGREGATOR in 8 bytes, no AS4_PATH of its own */
	CHECK(bgp_attrs_find(u.attrs, u.attrs_len, BGP_ATTR_AGGREGATOR, &v) && v.len == 8 && pw_get32(v.p) == 65001);
	CHECK(!bgp_attrs_find(u.attrs, u.attrs_len, BGP_ATTR_AS4_PATH, &v));
	CHECK_STR(nlri_text(u.announced[0]), "10.100.1.0/24");

	CHECK_INT(PARSE(upd_as2_as4_aggregator, &as2, &u, &why), ==, 0);
	CHECK_INT(u.n_discarded, ==, 0);
	j = render(&u, PW_AFI_IPV4);
	CHECK_STR(as_path_text(j), "4200000001");
	ag = json_object_get(j, "aggregator");
	CHECK_INT(jint(ag, "asn"), ==, 4200000001LL);
	CHECK_STR(jstr(ag, "address"), "192.0.2.1");
	json_decref(j);
	CHECK(!bgp_attrs_find(u.attrs, u.attrs_len, BGP_ATTR_AS4_AGGREGATOR, &v));

	/* a 4-byte session does not merge AS4_PATH: discarded */
	CHECK_INT(PARSE(upd_as4_path_on_4byte, NULL, &u, &why), ==, 0);
	CHECK_INT(u.n_discarded, ==, 1);
	CHECK(!u.treat_as_withdraw);
	CHECK_INT(u.n_announced, ==, 1);
	j = render(&u, PW_AFI_IPV4);
	CHECK_STR(as_path_text(j), "65002");
	json_decref(j);
}

static void test_rfc7606(void)
{
	TEST_SECTION("(c) RFC 7606 outcomes");
	struct bgp_update u;
	const char *why;
	struct rbuf v;

	/* ORIGIN 5: treat-as-withdraw; the announced prefix moves to withdrawn[taw_from..] */
	CHECK_INT(PARSE(upd_bad_origin, NULL, &u, &why), ==, 0);
	CHECK(u.treat_as_withdraw);
	CHECK(u.problem != NULL);
	CHECK_INT(u.n_announced, ==, 0);
	CHECK_INT(u.n_withdrawn, ==, 2);
	CHECK_INT(u.taw_from, ==, 1);
	if (u.n_withdrawn == 2) {
		CHECK_STR(nlri_text(u.withdrawn[0]), "10.99.1.0/24");
		CHECK_STR(nlri_text(u.withdrawn[1]), "10.100.1.0/24");
	}
	CHECK(!bgp_attrs_find(u.attrs, u.attrs_len, BGP_ATTR_ORIGIN, &v));

	/* ATOMIC_AGGREGATE length 1: discarded, the route still announced */
	CHECK_INT(PARSE(upd_bad_atomic, NULL, &u, &why), ==, 0);
	CHECK(!u.treat_as_withdraw);
	CHECK_INT(u.n_discarded, ==, 1);
	CHECK(u.problem != NULL);
	CHECK_INT(u.n_announced, ==, 1);
	CHECK_INT(u.n_withdrawn, ==, 0);
	if (u.n_announced == 1)
		CHECK_STR(nlri_text(u.announced[0]), "10.100.1.0/24");
	CHECK(!bgp_attrs_find(u.attrs, u.attrs_len, BGP_ATTR_ATOMIC_AGGREGATE, &v));
	CHECK(bgp_attrs_find(u.attrs, u.attrs_len, BGP_ATTR_NEXT_HOP, &v));
	json_t *j = render(&u, PW_AFI_IPV4);
	CHECK(json_object_get(j, "atomic_aggregate") == NULL);
	CHECK_STR(jstr(j, "origin"), "igp");
	json_decref(j);

	/* COMMUNITIES of length 3: treat-as-withdraw */
	CHECK_INT(PARSE(upd_bad_communities, NULL, &u, &why), ==, 0);
	CHECK(u.treat_as_withdraw);
	CHECK_INT(u.n_announced, ==, 0);
	CHECK_INT(u.n_withdrawn, ==, 1);
	CHECK_INT(u.taw_from, ==, 0);
	if (u.n_withdrawn == 1)
		CHECK_STR(nlri_text(u.withdrawn[0]), "10.100.1.0/24");

	/* duplicate MED: the first kept, the second discarded */
	CHECK_INT(PARSE(upd_dup_med, NULL, &u, &why), ==, 0);
	CHECK(!u.treat_as_withdraw);
	CHECK_INT(u.n_discarded, ==, 1);
	CHECK_INT(u.n_announced, ==, 1);
	j = render(&u, PW_AFI_IPV4);
	CHECK_INT(jint(j, "med"), ==, 10);
	json_decref(j);

	/* attribute length past the attributes field: treat-as-withdraw, 0 */
	CHECK_INT(PARSE(upd_attr_overrun, NULL, &u, &why), ==, 0);
	CHECK(u.treat_as_withdraw);
	CHECK_INT(u.n_announced, ==, 0);
	CHECK_INT(u.attrs_len, ==, 0);
	CHECK_INT(u.n_withdrawn, ==, 1);
	CHECK_INT(u.taw_from, ==, 0);
	if (u.n_withdrawn == 1)
		CHECK_STR(nlri_text(u.withdrawn[0]), "10.100.1.0/24");

	/* ORIGIN with optional flags: flags conflict, treat-as-withdraw */
	CHECK_INT(PARSE(upd_origin_flags, NULL, &u, &why), ==, 0);
	CHECK(u.treat_as_withdraw);
	CHECK_INT(u.n_announced, ==, 0);

	/* MP_REACH next hop of 7 bytes: unusable */
	CHECK_INT(PARSE(upd_mp_nh7, NULL, &u, &why), ==, -1);
	CHECK(why != NULL);

	/* withdrawn length past the message: unusable */
	CHECK_INT(PARSE(upd_wd_overrun, NULL, &u, &why), ==, -1);
	CHECK(why != NULL);
	/* a body of 1 byte: unusable */
	CHECK_INT(parse(upd_eor_ipv4, 1, NULL, &u, &why), ==, -1);
	/* path attributes length past the message */
	static const uint8_t attr_len_over[] = { 0x00, 0x00, 0x00, 0x10, 0x40, 0x01, 0x01, 0x00 };
	CHECK_INT(PARSE(attr_len_over, NULL, &u, &why), ==, -1);
	/* an NLRI prefix length of 33: unusable */
	static const uint8_t nlri_33[] = { 0x00, 0x00, 0x00, 0x04, A_ORIGIN_IGP, 0x21, 10, 0, 0, 0, 0 };
	CHECK_INT(PARSE(nlri_33, NULL, &u, &why), ==, -1);
}

static void test_eor(void)
{
	TEST_SECTION("(d) End-of-RIB");
	struct bgp_update u;
	const char *why;
	CHECK_INT(PARSE(upd_eor_ipv4, NULL, &u, &why), ==, 0);
	CHECK(u.eor);
	CHECK_INT(u.eor_afi, ==, PW_AFI_IPV4);
	CHECK_INT(u.n_announced, ==, 0);

	CHECK_INT(PARSE(upd_eor_ipv6, NULL, &u, &why), ==, 0);
	CHECK(u.eor);
	CHECK_INT(u.eor_afi, ==, PW_AFI_IPV6);
	CHECK_INT(u.n_announced, ==, 0);

	CHECK_INT(PARSE(upd_withdraw_only, NULL, &u, &why), ==, 0);
	CHECK(!u.eor);
	CHECK_INT(u.n_withdrawn, ==, 1);
	CHECK_STR(nlri_text(u.withdrawn[0]), "10.100.1.0/24");

	/* an MP_UNREACH withdrawing an IPv6 prefix is no End-of-RIB */
	static const uint8_t mp_unreach_pfx[] = {
		0x00, 0x00, 0x00, 0x0b, 0x80, 0x0f, 0x08, 0x00, 0x02, 0x01,
		0x30, 0x20, 0x01, 0x0d, 0xb8, /* 2001:db8:100::/48 with 4 of its 6 bytes */
	};
	/* (a prefix cut short inside MP_UNREACH: unusable) */
	CHECK_INT(PARSE(mp_unreach_pfx, NULL, &u, &why), ==, -1);
	static const uint8_t mp_unreach_ok[] = {
		0x00, 0x00, 0x00, 0x0d, 0x80, 0x0f, 0x0a, 0x00, 0x02, 0x01,
		0x30, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, /* 2001:db8:100::/48 */
	};
	CHECK_INT(PARSE(mp_unreach_ok, NULL, &u, &why), ==, 0);
	CHECK(!u.eor);
	CHECK_INT(u.n_withdrawn, ==, 1);
	if (u.n_withdrawn == 1) {
		CHECK_INT(u.withdrawn[0].afi, ==, PW_AFI_IPV6);
		CHECK_STR(nlri_text(u.withdrawn[0]), "2001:db8:100::/48");
	}
}

static void test_addpath(void)
{
	TEST_SECTION("(e) add-path");
	struct bgp_update u;
	const char *why;
	struct bgp_update_ctx ap = { .addpath = { true, false } };
	struct pw_prefix p;
	uint32_t id = 99;

	CHECK_INT(PARSE(upd_addpath_missing, &ap, &u, &why), ==, 0);
	CHECK(u.addpath_mismatch);
	CHECK_INT(u.n_announced, ==, 1);
	if (u.n_announced == 1) {
		CHECK(!u.announced[0].addpath);
		struct bgp_nlri_set s = u.announced[0];
		CHECK_INT(bgp_nlri_next(&s, &p, &id), ==, 1);
		CHECK_INT(id, ==, 0);
		CHECK_STR(nlri_text(u.announced[0]), "10.100.1.0/24");
		CHECK_INT(bgp_nlri_next(&s, &p, &id), ==, 0);
	}

	CHECK_INT(PARSE(upd_addpath_ids, &ap, &u, &why), ==, 0);
	CHECK(!u.addpath_mismatch);
	CHECK_INT(u.n_announced, ==, 1);
	if (u.n_announced == 1) {
		CHECK(u.announced[0].addpath);
		CHECK_STR(nlri_text(u.announced[0]), "10.100.1.0/24#1,10.100.2.0/24#2");
	}

	/* path ids present without negotiation (GoBGP 3.10 pre-policy):
	 * decoded with path ids, counted as a mismatch */
	CHECK_INT(PARSE(upd_addpath_ids, NULL, &u, &why), ==, 0);
	CHECK(u.addpath_mismatch);
	if (u.n_announced == 1)
		CHECK_STR(nlri_text(u.announced[0]), "10.100.1.0/24#1,10.100.2.0/24#2");

	/* the plain vector without negotiation: no mismatch */
	CHECK_INT(PARSE(upd_addpath_missing, NULL, &u, &why), ==, 0);
	CHECK(!u.addpath_mismatch);
}

static void test_mp_reach(void)
{
	TEST_SECTION("(f) MP_REACH_NLRI");
	struct bgp_update u;
	const char *why;
	CHECK_INT(PARSE(upd_mp_ipv6, NULL, &u, &why), ==, 0);
	CHECK_INT(u.n_announced, ==, 1);
	CHECK(!u.treat_as_withdraw);
	if (u.n_announced == 1) {
		CHECK_INT(u.announced[0].afi, ==, PW_AFI_IPV6);
		CHECK_STR(nlri_text(u.announced[0]), "2001:db8:100::/48");
	}
	json_t *j = render(&u, PW_AFI_IPV6);
	CHECK_STR(jstr(j, "next_hop"), "2001:db8::1");
	CHECK_STR(jstr(j, "next_hop_link_local"), "fe80::1");
	CHECK_STR(as_path_text(j), "65002");
	json_decref(j);
	/* canonical MP_REACH: afi(2) safi(1) nh_len(1) next hop, no NLRI */
	struct rbuf v;
	if (CHECK(bgp_attrs_find(u.attrs, u.attrs_len, BGP_ATTR_MP_REACH, &v))) {
		CHECK_INT(v.len, ==, 4 + 32);
		CHECK(pw_get16(v.p) == 2 && v.p[2] == 1 && v.p[3] == 32);
	}

	CHECK_INT(PARSE(upd_mp_vpn, NULL, &u, &why), ==, 0);
	CHECK_INT(u.n_other_afi, ==, 1);
	CHECK_INT(u.n_announced, ==, 0);
	CHECK_INT(u.n_withdrawn, ==, 0);
	CHECK(!u.treat_as_withdraw && !u.eor);
}

static void test_unknown_attr(void)
{
	TEST_SECTION("(g) unknown attribute kept");
	struct bgp_update u;
	const char *why;
	CHECK_INT(PARSE(upd_unknown_attr, NULL, &u, &why), ==, 0);
	CHECK_INT(u.n_announced, ==, 1);
	CHECK(!u.treat_as_withdraw);
	CHECK_INT(u.n_discarded, ==, 0);
	struct rbuf v;
	CHECK(bgp_attrs_find(u.attrs, u.attrs_len, 99, &v) && v.len == 3);
	json_t *j = render(&u, PW_AFI_IPV4);
	json_t *un = json_object_get(j, "unknown_attributes");
	if (CHECK(json_array_size(un) == 1)) {
		json_t *a = json_array_get(un, 0);
		CHECK_INT(jint(a, "type"), ==, 99);
		CHECK_INT(jint(a, "flags"), ==, 0xc0);
		CHECK_STR(jstr(a, "value"), "010203");
	}
	CHECK_STR(jstr(j, "next_hop"), "192.0.2.1");
	json_decref(j);
}

static json_t *cap_named(json_t *open, const char *name)
{
	json_t *caps = json_object_get(open, "capabilities"), *c;
	size_t i;
	json_array_foreach(caps, i, c)
		if (jstr(c, "name") && strcmp(jstr(c, "name"), name) == 0)
			return c;
	return NULL;
}

static void test_open(void)
{
	TEST_SECTION("(h) OPEN and NOTIFICATION");
	struct bgp_open o;
	json_t *j = NULL;
	const char *why = NULL;

	CHECK_INT(bgp_open_decode(rbuf_make(open_caps, sizeof open_caps), &o, &j, &why), ==, 0);
	CHECK_INT(o.version, ==, 4);
	CHECK_INT(o.asn, ==, 4200000001LL);
	CHECK(o.as4);
	CHECK_INT(o.hold_time, ==, 180);
	CHECK_INT(o.bgp_id, ==, 0xc0000201);
	CHECK_INT(o.addpath[0], ==, BGP_ADDPATH_SEND | BGP_ADDPATH_RECEIVE);
	CHECK_INT(o.addpath[1], ==, 0);
	if (CHECK(j != NULL)) {
		CHECK_INT(jint(j, "asn"), ==, 4200000001LL);
		CHECK_INT(jint(j, "hold_time"), ==, 180);
		CHECK_STR(jstr(j, "bgp_id"), "192.0.2.1");
		CHECK_INT(json_array_size(json_object_get(j, "capabilities")), ==, 4);
		json_t *c = cap_named(j, "multiprotocol");
		if (CHECK(c != NULL))
			CHECK_STR(jstr(json_object_get(c, "family"), "family"), "ipv4");
		c = cap_named(j, "4-octet-as");
		if (CHECK(c != NULL))
			CHECK_INT(jint(c, "asn"), ==, 4200000001LL);
		c = cap_named(j, "add-path");
		if (CHECK(c != NULL)) {
			json_t *f = json_array_get(json_object_get(c, "families"), 0);
			CHECK(json_is_true(json_object_get(f, "send")));
			CHECK(json_is_true(json_object_get(f, "receive")));
		}
		c = cap_named(j, "graceful-restart");
		if (CHECK(c != NULL)) {
			CHECK_INT(jint(c, "restart_time"), ==, 120);
			json_t *f = json_array_get(json_object_get(c, "families"), 0);
			CHECK(json_is_true(json_object_get(f, "forwarding_preserved")));
		}
		json_decref(j);
	}

	j = NULL;
	CHECK_INT(bgp_open_decode(rbuf_make(open_ext_params, sizeof open_ext_params), &o, &j, &why), ==, 0);
	CHECK_INT(o.asn, ==, 65001);
	CHECK(o.as4);
	if (CHECK(j != NULL)) {
		CHECK(cap_named(j, "4-octet-as") != NULL);
		json_decref(j);
	}

	static const struct { const uint8_t *p; size_t n; const char *what; } bad[] = {
		{ open_truncated, sizeof open_truncated, "truncated" },
		{ open_opt_overrun, sizeof open_opt_overrun, "optional parameters overrun" },
		{ open_cap_overrun, sizeof open_cap_overrun, "capability overrun" },
		{ notif_hold, sizeof notif_hold, "not an OPEN" },
		{ open_caps, sizeof open_caps - 1, "BGP length disagrees" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		j = (json_t *)1;
		why = NULL;
		int rc = bgp_open_decode(rbuf_make(bad[i].p, bad[i].n), &o, &j, &why);
		if (rc != -1)
			fprintf(stderr, "    case: %s\n", bad[i].what);
		CHECK_INT(rc, ==, -1);
		CHECK(why != NULL);
		CHECK(j == NULL);
	}

	/* NOTIFICATION */
	json_t *n = bgp_notification_json(rbuf_make(notif_shutdown, sizeof notif_shutdown), &why);
	if (CHECK(n != NULL)) {
		CHECK_INT(jint(n, "code"), ==, 6);
		CHECK_INT(jint(n, "subcode"), ==, 2);
		CHECK_STR(jstr(n, "name"), "administrative shutdown");
		CHECK_STR(jstr(n, "message"), "maintenance");
		CHECK_STR(jstr(n, "data"), "0b6d61696e74656e616e6365");
		json_decref(n);
	}
	n = bgp_notification_json(rbuf_make(notif_hold, sizeof notif_hold), &why);
	if (CHECK(n != NULL)) {
		CHECK_STR(jstr(n, "name"), "hold timer expired");
		CHECK(json_object_get(n, "message") == NULL);
		json_decref(n);
	}
	static const uint8_t notif_cut[] = { MARKER, 0x00, 0x14, 0x03, 0x06 };
	CHECK(bgp_notification_json(rbuf_make(notif_cut, sizeof notif_cut), &why) == NULL);
	CHECK(bgp_notification_json(rbuf_make(open_caps, sizeof open_caps), &why) == NULL);
	CHECK_STR(bgp_notification_name(6, 4), "administrative reset");
	CHECK_STR(bgp_notification_name(3, 1), "UPDATE message error");

	/* bgp_pdu_split: marker and length */
	uint8_t type;
	struct rbuf body;
	CHECK_INT(bgp_pdu_split(rbuf_make(notif_hold, sizeof notif_hold), &type, &body, &why), ==, 0);
	CHECK_INT(type, ==, BGP_NOTIFICATION);
	CHECK_INT(body.len, ==, 2);
	uint8_t badm[sizeof notif_hold];
	memcpy(badm, notif_hold, sizeof badm);
	badm[3] = 0xfe;
	CHECK_INT(bgp_pdu_split(rbuf_make(badm, sizeof badm), &type, &body, &why), ==, -1);
}

static void test_canonical(void)
{
	TEST_SECTION("(i) canonical attribute sets");
	static uint8_t a[512], b[512];
	size_t alen = 0, blen = 0;
	struct bgp_update u;
	const char *why;
	struct bgp_update_ctx as2 = { .as2 = true };

	CHECK_INT(PARSE(upd_canon_a, NULL, &u, &why), ==, 0);
	memcpy(a, u.attrs, u.attrs_len);
	alen = u.attrs_len;

	/* the documented form: sorted by type, 4-byte lengths... */
	static const uint8_t expect[] = {
		0x40, 0x01, 0x00, 0x01, 0x00,
		0x40, 0x02, 0x00, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xea,
		0x40, 0x03, 0x00, 0x04, 192, 0, 2, 1,
		0x80, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0a,
	};
	CHECK_INT(alen, ==, sizeof expect);
	CHECK(alen == sizeof expect && memcmp(a, expect, alen) == 0);

	/* ... so a different order and the extended-length flag give the same bytes */
	CHECK_INT(PARSE(upd_canon_b, NULL, &u, &why), ==, 0);
	memcpy(b, u.attrs, u.attrs_len);
	blen = u.attrs_len;
	CHECK_INT(blen, ==, alen);
	CHECK(alen == blen && memcmp(a, b, alen) == 0);

	/* ... and so does the 2-byte form of the same AS_PATH */
	CHECK_INT(PARSE(upd_canon_as2, &as2, &u, &why), ==, 0);
	CHECK_INT(u.attrs_len, ==, alen);
	CHECK(u.attrs_len == alen && memcmp(u.attrs, a, alen) == 0);

	/* a different MED is a different set */
	CHECK_INT(PARSE(upd_canon_med20, NULL, &u, &why), ==, 0);
	CHECK(u.attrs_len == alen && memcmp(u.attrs, a, alen) != 0);
}

/* ------------------------------------------------------------ vectors */

/* Wraps an UPDATE body in a BGP header and a BMP Route Monitoring message
 * (peer 192.0.2.1 AS 65002, pre-policy, `flags`). Returns the length. */
static size_t wrap_rm(const uint8_t *body, size_t n, uint8_t flags, uint8_t *out)
{
	static const uint8_t peer[42] = {
		0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1,
		0x00, 0x00, 0xfd, 0xea, 192, 0, 2, 1,
		0x69, 0x25, 0x9a, 0x40, 0x00, 0x00, 0x00, 0x00,
	};
	size_t total = 6 + 42 + 19 + n;
	out[0] = 3;
	pw_put32(out + 1, (uint32_t)total);
	out[5] = BMP_ROUTE_MONITORING;
	memcpy(out + 6, peer, 42);
	out[7] = flags;
	memset(out + 48, 0xff, 16);
	pw_put16(out + 64, (uint16_t)(19 + n));
	out[66] = BGP_UPDATE;
	memcpy(out + 67, body, n);
	return total;
}

static int write_vectors(const char *dir)
{
	static const struct { const char *name; const uint8_t *p; size_t n; uint8_t flags; } v[] = {
#define V(name, arr, flags) { name, arr, sizeof arr, flags }
		V("bmp-rm-ipv4-update.bin", upd_ipv4, 0),
		V("bmp-rm-as2-as4-path-merge.bin", upd_as2_merge, BMP_PEER_FLAG_A),
		V("bmp-rm-as2-as4-aggregator.bin", upd_as2_as4_aggregator, BMP_PEER_FLAG_A),
		V("bmp-rm-as4-path-on-4byte-session.bin", upd_as4_path_on_4byte, 0),
		V("bmp-rm-7606-bad-origin.bin", upd_bad_origin, 0),
		V("bmp-rm-7606-bad-atomic-aggregate.bin", upd_bad_atomic, 0),
		V("bmp-rm-7606-bad-communities.bin", upd_bad_communities, 0),
		V("bmp-rm-7606-duplicate-med.bin", upd_dup_med, 0),
		V("bmp-rm-7606-attribute-overrun.bin", upd_attr_overrun, 0),
		V("bmp-rm-7606-origin-flags.bin", upd_origin_flags, 0),
		V("bmp-rm-mp-reach-nexthop-len7.bin", upd_mp_nh7, 0),
		V("bmp-rm-withdrawn-overrun.bin", upd_wd_overrun, 0),
		V("bmp-rm-eor-ipv4.bin", upd_eor_ipv4, 0),
		V("bmp-rm-eor-ipv6.bin", upd_eor_ipv6, 0),
		V("bmp-rm-addpath-ids.bin", upd_addpath_ids, 0),
		V("bmp-rm-mp-reach-ipv6-linklocal.bin", upd_mp_ipv6, 0),
		V("bmp-rm-mp-reach-vpnv4.bin", upd_mp_vpn, 0),
		V("bmp-rm-unknown-attribute.bin", upd_unknown_attr, 0),
		V("bmp-rm-extended-length-flag.bin", upd_canon_b, 0),
#undef V
	};
	uint8_t buf[512];
	int rc = 0;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n = wrap_rm(v[i].p, v[i].n, v[i].flags, buf);
		rc |= vector_write(dir, v[i].name, buf, n);
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-vectors") == 0 && write_vectors(argv[2]))
		return 2;
	test_ipv4_update();
	test_as2();
	test_rfc7606();
	test_eor();
	test_addpath();
	test_mp_reach();
	test_unknown_attr();
	test_open();
	test_canonical();
	return check_report("test_bgp");
}
