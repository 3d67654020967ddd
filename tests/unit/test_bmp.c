/*
 * Unit tests: bmp_msg.c -- BMP framing (RFC 7854 4.1), per-message decoding
 * (RFC 7854 4.2-4.10, RFC 8671 Adj-RIB-Out, RFC 9069 Loc-RIB) and TLVs.
 *
 *   test-bmp                       run the tests
 *   test-bmp --write-vectors DIR   also write the BMP vectors below to DIR
 *                                  (tests/vectors/, fuzzer seeds)
 */
#include "bgp.h"
#include "bmp.h"
#include "common/prefix.h"

#include "check_harness.h"

/* BGP marker (RFC 4271 4.1): 16 bytes of ones. */
#define MARKER 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
	       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/* Per-peer header (RFC 7854 4.2), 42 bytes: peer type, flags, zero peer
 * distinguisher, peer address 192.0.2.1 (IPv4: in the last 4 of 16 bytes),
 * peer AS 65002, peer BGP ID 192.0.2.1, timestamp 1764072000.123456. */
#define PEER_HDR_V4(type, flags)                                                \
	(type), (flags),                                                        \
	0, 0, 0, 0, 0, 0, 0, 0,                         /* distinguisher */     \
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1, /* address */         \
	0x00, 0x00, 0xfd, 0xea,                         /* AS 65002 */          \
	192, 0, 2, 1,                                   /* BGP ID */            \
	0x69, 0x25, 0x9a, 0x40,                         /* 1764072000 s */      \
	0x00, 0x01, 0xe2, 0x40                          /* 123456 us */

/* RFC 7854 4.3 Initiation: sysDescr (type 1) "FRRouting 8.4.4", sysName
 * (type 2) "R1". 31 bytes. */
static const uint8_t bmp_initiation[] = {
	0x03, 0x00, 0x00, 0x00, 0x1f, 0x04, /* v3, length 31, type 4 */
	0x00, 0x01, 0x00, 0x0f, 'F', 'R', 'R', 'o', 'u', 't', 'i', 'n', 'g', ' ', '8', '.', '4', '.', '4',
	0x00, 0x02, 0x00, 0x02, 'R', '1',
};

/* RFC 7854 4.10 Peer Up: IPv4 peer 192.0.2.1 AS 65002; local address
 * 192.0.2.2 port 179, remote port 50000; the sent and the received OPEN
 * (RFC 4271 4.2, each with the 4-octet AS capability, RFC 6793); one
 * information TLV (type 0, string "test"). 150 bytes. */
static const uint8_t bmp_peer_up[] = {
	0x03, 0x00, 0x00, 0x00, 0x96, 0x03, /* v3, length 150, type 3 */
	PEER_HDR_V4(0x00, 0x00),
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2, /* local address */
	0x00, 0xb3,                                       /* local port 179 */
	0xc3, 0x50,                                       /* remote port 50000 */
	/* sent OPEN, 37 bytes: version 4, AS 65001, hold 180, id 192.0.2.2,
	 * optional parameters (8): capabilities { 4-octet AS 65001 } */
	MARKER, 0x00, 0x25, 0x01,
	0x04, 0xfd, 0xe9, 0x00, 0xb4, 192, 0, 2, 2, 0x08,
	0x02, 0x06, 0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
	/* received OPEN, 37 bytes: version 4, AS 65002, hold 90, id 192.0.2.1,
	 * capabilities { 4-octet AS 65002 } */
	MARKER, 0x00, 0x25, 0x01,
	0x04, 0xfd, 0xea, 0x00, 0x5a, 192, 0, 2, 1, 0x08,
	0x02, 0x06, 0x41, 0x04, 0x00, 0x00, 0xfd, 0xea,
	/* information TLV: type 0 (string), length 4, "test" */
	0x00, 0x00, 0x00, 0x04, 't', 'e', 's', 't',
};

/* RFC 7854 4.9 Peer Down, reason 1 (local system closed, NOTIFICATION
 * follows): NOTIFICATION (RFC 4271 4.5) cease / administrative shutdown
 * (RFC 4486) with the RFC 9003 shutdown communication "maintenance". 82 bytes. */
static const uint8_t bmp_peer_down_notification[] = {
	0x03, 0x00, 0x00, 0x00, 0x52, 0x02, /* v3, length 82, type 2 */
	PEER_HDR_V4(0x00, 0x00),
	0x01,                               /* reason 1 */
	MARKER, 0x00, 0x21, 0x03,           /* NOTIFICATION, 33 bytes */
	0x06, 0x02,                         /* cease, administrative shutdown */
	0x0b, 'm', 'a', 'i', 'n', 't', 'e', 'n', 'a', 'n', 'c', 'e',
};

/* RFC 7854 4.6 Route Monitoring (pre-policy Adj-RIB-In): an UPDATE
 * (RFC 4271 4.3) announcing 10.100.1.0/24 with ORIGIN IGP, AS_PATH
 * [65002] (4-byte), NEXT_HOP 192.0.2.1. 95 bytes. Flags at offset 7,
 * peer type at offset 6: the variants below patch them. */
static const uint8_t bmp_route_monitoring[] = {
	0x03, 0x00, 0x00, 0x00, 0x5f, 0x00, /* v3, length 95, type 0 */
	PEER_HDR_V4(0x00, 0x00),
	MARKER, 0x00, 0x2f, 0x02,           /* UPDATE, 47 bytes */
	0x00, 0x00,                         /* withdrawn routes length 0 */
	0x00, 0x14,                         /* path attributes length 20 */
	0x40, 0x01, 0x01, 0x00,             /* ORIGIN IGP */
	0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xea, /* AS_PATH SEQ [65002] */
	0x40, 0x03, 0x04, 192, 0, 2, 1,     /* NEXT_HOP 192.0.2.1 */
	0x18, 10, 100, 1,                   /* NLRI 10.100.1.0/24 */
};
#define OFF_PEER_TYPE 6
#define OFF_PEER_FLAGS 7
#define OFF_PEER_ADDR 16

/* RFC 7854 4.8 Statistics Report, 2 counters: type 0 (rejected prefixes,
 * 32-bit) = 3 and type 7 (Adj-RIB-In routes, 64-bit gauge) = 5. 72 bytes. */
static const uint8_t bmp_statistics[] = {
	0x03, 0x00, 0x00, 0x00, 0x48, 0x01, /* v3, length 72, type 1 */
	PEER_HDR_V4(0x00, 0x00),
	0x00, 0x00, 0x00, 0x02,             /* stats count 2 */
	0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03,
	0x00, 0x07, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
};

/* RFC 7854 4.5 Termination: string TLV (type 0) "bye", reason TLV (type 1)
 * = 0 (administratively closed). 19 bytes. */
static const uint8_t bmp_termination[] = {
	0x03, 0x00, 0x00, 0x00, 0x13, 0x05, /* v3, length 19, type 5 */
	0x00, 0x00, 0x00, 0x03, 'b', 'y', 'e',
	0x00, 0x01, 0x00, 0x02, 0x00, 0x00,
};

/* RFC 7854 4.7 Route Mirroring: one information TLV (type 1) code 1
 * (messages lost). 54 bytes. */
static const uint8_t bmp_route_mirroring[] = {
	0x03, 0x00, 0x00, 0x00, 0x36, 0x06, /* v3, length 54, type 6 */
	PEER_HDR_V4(0x00, 0x00),
	0x00, 0x01, 0x00, 0x02, 0x00, 0x01,
};

/* Malformed: Route Monitoring whose message ends 20 bytes into the 42-byte
 * per-peer header (length 26). */
static const uint8_t bmp_truncated_peer_header[] = {
	0x03, 0x00, 0x00, 0x00, 0x1a, 0x00, /* v3, length 26, type 0 */
	0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Malformed: message type 9 (not assigned by RFC 7854), header only. */
static const uint8_t bmp_unknown_type[] = { 0x03, 0x00, 0x00, 0x00, 0x06, 0x09 };

/* A copy of bmp_route_monitoring with the peer type/flags replaced. */
static void rm_variant(uint8_t *out, uint8_t type, uint8_t flags)
{
	memcpy(out, bmp_route_monitoring, sizeof bmp_route_monitoring);
	out[OFF_PEER_TYPE] = type;
	out[OFF_PEER_FLAGS] = flags;
}

/* IPv6 peer 2001:db8::1 (V flag), otherwise the route monitoring above. */
static void rm_ipv6_peer(uint8_t *out)
{
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	rm_variant(out, BMP_PEER_GLOBAL, BMP_PEER_FLAG_V);
	memcpy(out + OFF_PEER_ADDR, a6, 16);
}

/* Loc-RIB (RFC 9069): peer type 3, zero peer address. */
static void rm_loc_rib(uint8_t *out)
{
	rm_variant(out, BMP_PEER_LOC_RIB, 0);
	memset(out + OFF_PEER_ADDR, 0, 16);
}

static void test_frame_check(void)
{
	TEST_SECTION("bmp_frame_check");
	size_t len = 0;
	const char *why = NULL;
	const uint8_t *m = bmp_route_monitoring;

	/* 1..5 bytes of a valid header: need more, no length known yet */
	for (size_t n = 1; n < BMP_COMMON_HDR_LEN; n++) {
		len = 12345;
		CHECK_INT(bmp_frame_check(m, n, BMP_DEFAULT_MAX_MSG, &len, &why), ==, 0);
		CHECK_INT(len, ==, 0);
	}
	CHECK_INT(bmp_frame_check(m, 0, BMP_DEFAULT_MAX_MSG, &len, &why), ==, 0);
	/* a whole header but not the whole message: need more, and how many */
	CHECK_INT(bmp_frame_check(m, BMP_COMMON_HDR_LEN, BMP_DEFAULT_MAX_MSG, &len, &why), ==, 0);
	CHECK_INT(len, ==, sizeof bmp_route_monitoring);
	CHECK_INT(bmp_frame_check(m, sizeof bmp_route_monitoring - 1, BMP_DEFAULT_MAX_MSG, &len, &why), ==, 0);
	CHECK_INT(len, ==, sizeof bmp_route_monitoring);

	/* the whole message */
	CHECK_INT(bmp_frame_check(m, sizeof bmp_route_monitoring, BMP_DEFAULT_MAX_MSG, &len, &why), ==, 1);
	CHECK_INT(len, ==, sizeof bmp_route_monitoring);
	/* the whole message followed by more bytes: only the first is framed */
	uint8_t two[2 * sizeof bmp_route_monitoring];
	memcpy(two, m, sizeof bmp_route_monitoring);
	memcpy(two + sizeof bmp_route_monitoring, m, sizeof bmp_route_monitoring);
	CHECK_INT(bmp_frame_check(two, sizeof two, BMP_DEFAULT_MAX_MSG, &len, &why), ==, 1);
	CHECK_INT(len, ==, sizeof bmp_route_monitoring);
	/* max_len equal to the length is allowed */
	CHECK_INT(bmp_frame_check(m, sizeof bmp_route_monitoring, sizeof bmp_route_monitoring, &len, &why), ==, 1);

	/* every vector in this file frames as exactly itself */
	const struct { const uint8_t *p; size_t n; } all[] = {
		{ bmp_initiation, sizeof bmp_initiation }, { bmp_peer_up, sizeof bmp_peer_up },
		{ bmp_peer_down_notification, sizeof bmp_peer_down_notification },
		{ bmp_statistics, sizeof bmp_statistics }, { bmp_termination, sizeof bmp_termination },
		{ bmp_route_mirroring, sizeof bmp_route_mirroring },
		{ bmp_truncated_peer_header, sizeof bmp_truncated_peer_header },
		{ bmp_unknown_type, sizeof bmp_unknown_type },
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		len = 0;
		CHECK_INT(bmp_frame_check(all[i].p, all[i].n, BMP_DEFAULT_MAX_MSG, &len, &why), ==, 1);
		CHECK_INT(len, ==, all[i].n);
	}

	/* version 2: framing error, even before the length is complete */
	static const uint8_t v2[] = { 0x02, 0x00, 0x00, 0x00, 0x06, 0x04 };
	why = NULL;
	CHECK_INT(bmp_frame_check(v2, sizeof v2, BMP_DEFAULT_MAX_MSG, &len, &why), ==, -1);
	CHECK(why != NULL);
	CHECK_INT(bmp_frame_check(v2, 1, BMP_DEFAULT_MAX_MSG, &len, &why), ==, -1);

	/* length 5: below the common header */
	static const uint8_t l5[] = { 0x03, 0x00, 0x00, 0x00, 0x05, 0x04 };
	why = NULL;
	CHECK_INT(bmp_frame_check(l5, sizeof l5, BMP_DEFAULT_MAX_MSG, &len, &why), ==, -1);
	CHECK(why != NULL);
	static const uint8_t l0[] = { 0x03, 0x00, 0x00, 0x00, 0x00, 0x04 };
	CHECK_INT(bmp_frame_check(l0, sizeof l0, BMP_DEFAULT_MAX_MSG, &len, &why), ==, -1);

	/* length above the maximum: an error as soon as the header is seen */
	why = NULL;
	CHECK_INT(bmp_frame_check(m, BMP_COMMON_HDR_LEN, sizeof bmp_route_monitoring - 1, &len, &why), ==, -1);
	CHECK(why != NULL);
	static const uint8_t huge[] = { 0x03, 0xff, 0xff, 0xff, 0xff, 0x00 };
	CHECK_INT(bmp_frame_check(huge, sizeof huge, BMP_DEFAULT_MAX_MSG, &len, &why), ==, -1);
	static const uint8_t just_over[] = { 0x03, 0x00, 0x10, 0x00, 0x01, 0x00 }; /* 1 MiB + 1 */
	CHECK_INT(bmp_frame_check(just_over, sizeof just_over, BMP_DEFAULT_MAX_MSG, &len, &why), ==, -1);
}

static void test_initiation_termination(void)
{
	TEST_SECTION("initiation / termination / statistics / mirroring");
	struct bmp_msg m;
	const char *why = NULL;
	uint16_t type;
	struct rbuf v;

	CHECK_INT(bmp_msg_decode(bmp_initiation, sizeof bmp_initiation, &m, &why), ==, 0);
	CHECK_INT(m.type, ==, BMP_INITIATION);
	CHECK(!m.has_peer);
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 1);
	CHECK_INT(type, ==, 1);
	CHECK(v.len == 15 && memcmp(v.p, "FRRouting 8.4.4", 15) == 0);
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 1);
	CHECK_INT(type, ==, 2);
	CHECK(v.len == 2 && memcmp(v.p, "R1", 2) == 0);
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 0);

	CHECK_INT(bmp_msg_decode(bmp_termination, sizeof bmp_termination, &m, &why), ==, 0);
	CHECK_INT(m.type, ==, BMP_TERMINATION);
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 1);
	CHECK_INT(type, ==, 0);
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 1);
	CHECK_INT(type, ==, 1);
	CHECK(v.len == 2 && pw_get16(v.p) == 0);
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 0);

	CHECK_INT(bmp_msg_decode(bmp_statistics, sizeof bmp_statistics, &m, &why), ==, 0);
	CHECK_INT(m.type, ==, BMP_STATISTICS);
	CHECK(m.has_peer);
	CHECK_INT(m.stats_count, ==, 2);
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 1);
	CHECK_INT(type, ==, 0);
	CHECK(v.len == 4 && pw_get32(v.p) == 3);
	CHECK_STR(bmp_stat_name(type), "rejected-by-inbound-policy");
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 1);
	CHECK_INT(type, ==, 7);
	CHECK(v.len == 8 && pw_get32(v.p + 4) == 5);
	CHECK_STR(bmp_stat_name(type), "adj-rib-in-routes");
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 0);

	CHECK_INT(bmp_msg_decode(bmp_route_mirroring, sizeof bmp_route_mirroring, &m, &why), ==, 0);
	CHECK_INT(m.type, ==, BMP_ROUTE_MIRRORING);
	CHECK(m.has_peer);
	CHECK_INT(m.tlvs.len, ==, 6);
}

static void check_peer_v4(const struct bmp_peer_hdr *h)
{
	CHECK_INT(h->afi, ==, PW_AFI_IPV4);
	CHECK(h->addr[0] == 192 && h->addr[1] == 0 && h->addr[2] == 2 && h->addr[3] == 1);
	bool rest_zero = true;
	for (int i = 4; i < 16; i++)
		rest_zero &= h->addr[i] == 0;
	CHECK(rest_zero);
	CHECK_INT(h->asn, ==, 65002);
	CHECK_INT(h->bgp_id, ==, 0xc0000201);
	CHECK_INT(h->ts_sec, ==, 1764072000);
	CHECK_INT(h->ts_usec, ==, 123456);
	char a[PW_ADDRSTRLEN];
	pw_addr_format(h->afi, h->addr, a, sizeof a);
	CHECK_STR(a, "192.0.2.1");
}

static void test_peer_up(void)
{
	TEST_SECTION("peer up");
	struct bmp_msg m;
	const char *why = NULL;
	CHECK_INT(bmp_msg_decode(bmp_peer_up, sizeof bmp_peer_up, &m, &why), ==, 0);
	CHECK_INT(m.type, ==, BMP_PEER_UP);
	CHECK(m.has_peer);
	CHECK_INT(m.peer.type, ==, BMP_PEER_GLOBAL);
	CHECK_INT(m.peer.view, ==, BMP_VIEW_PRE);
	check_peer_v4(&m.peer);
	char la[PW_ADDRSTRLEN];
	pw_addr_format(PW_AFI_IPV4, m.local_addr, la, sizeof la);
	CHECK_STR(la, "192.0.2.2");
	CHECK_INT(m.local_port, ==, 179);
	CHECK_INT(m.remote_port, ==, 50000);
	CHECK_INT(m.sent_open.len, ==, 37);
	CHECK_INT(m.recv_open.len, ==, 37);
	CHECK(m.sent_open.p == bmp_peer_up + 68);
	CHECK(m.recv_open.p == bmp_peer_up + 105);

	/* the OPENs are whole BGP messages: the BGP decoder takes them as is */
	struct bgp_open o;
	if (CHECK(bgp_open_decode(m.sent_open, &o, NULL, &why) == 0))
		CHECK_INT(o.asn, ==, 65001);
	if (CHECK(bgp_open_decode(m.recv_open, &o, NULL, &why) == 0)) {
		CHECK_INT(o.asn, ==, 65002);
		CHECK_INT(o.hold_time, ==, 90);
	}

	uint16_t type;
	struct rbuf v;
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 1);
	CHECK_INT(type, ==, 0);
	CHECK(v.len == 4 && memcmp(v.p, "test", 4) == 0);
	CHECK_INT(bmp_tlv_next(&m.tlvs, &type, &v), ==, 0);

	/* a sent OPEN whose BGP length runs past the BMP message: unusable */
	uint8_t bad[sizeof bmp_peer_up];
	memcpy(bad, bmp_peer_up, sizeof bad);
	bad[68 + 17] = 0xf0; /* sent OPEN length 0x00f0 */
	why = NULL;
	CHECK_INT(bmp_msg_decode(bad, sizeof bad, &m, &why), ==, -1);
	CHECK(why != NULL);
	/* ... or below the BGP header length */
	memcpy(bad, bmp_peer_up, sizeof bad);
	bad[68 + 17] = 0x12; /* 18 */
	CHECK_INT(bmp_msg_decode(bad, sizeof bad, &m, &why), ==, -1);
	/* Peer Up cut inside the local address: length 60 */
	memcpy(bad, bmp_peer_up, 60);
	bad[4] = 60;
	CHECK_INT(bmp_msg_decode(bad, 60, &m, &why), ==, -1);
}

static void test_peer_down(void)
{
	TEST_SECTION("peer down with NOTIFICATION");
	struct bmp_msg m;
	const char *why = NULL;
	CHECK_INT(bmp_msg_decode(bmp_peer_down_notification, sizeof bmp_peer_down_notification, &m, &why), ==, 0);
	CHECK_INT(m.type, ==, BMP_PEER_DOWN);
	check_peer_v4(&m.peer);
	CHECK_INT(m.down_reason, ==, 1);
	CHECK_STR(bmp_down_reason_name(m.down_reason), "local-notification");
	CHECK_INT(m.down_data.len, ==, 33);
	json_t *n = bgp_notification_json(m.down_data, &why);
	if (CHECK(n != NULL)) {
		CHECK_INT(json_integer_value(json_object_get(n, "code")), ==, 6);
		CHECK_INT(json_integer_value(json_object_get(n, "subcode")), ==, 2);
		CHECK_STR(json_string_value(json_object_get(n, "name")), "administrative shutdown");
		CHECK_STR(json_string_value(json_object_get(n, "message")), "maintenance");
		json_decref(n);
	}
	/* Peer Down without its reason byte: unusable */
	uint8_t cut[48];
	memcpy(cut, bmp_peer_down_notification, sizeof cut);
	cut[4] = sizeof cut;
	CHECK_INT(bmp_msg_decode(cut, sizeof cut, &m, &why), ==, -1);
}

static void test_route_monitoring_views(void)
{
	TEST_SECTION("route monitoring: views from peer type and flags");
	struct bmp_msg m;
	const char *why = NULL;
	uint8_t buf[sizeof bmp_route_monitoring];

	CHECK_INT(bmp_msg_decode(bmp_route_monitoring, sizeof bmp_route_monitoring, &m, &why), ==, 0);
	CHECK_INT(m.type, ==, BMP_ROUTE_MONITORING);
	CHECK_INT(m.peer.view, ==, BMP_VIEW_PRE);
	check_peer_v4(&m.peer);
	CHECK_INT(m.pdu.len, ==, 47);
	CHECK(m.pdu.p == bmp_route_monitoring + 48);
	CHECK_STR(bmp_view_name(m.peer.view), "pre-policy");

	static const struct { uint8_t type, flags; enum bmp_view view; const char *name; } cases[] = {
		{ BMP_PEER_GLOBAL, BMP_PEER_FLAG_L, BMP_VIEW_POST, "post-policy" },
		{ BMP_PEER_GLOBAL, BMP_PEER_FLAG_O, BMP_VIEW_OUT_PRE, "adj-rib-out-pre" },
		{ BMP_PEER_GLOBAL, BMP_PEER_FLAG_O | BMP_PEER_FLAG_L, BMP_VIEW_OUT_POST, "adj-rib-out-post" },
		{ BMP_PEER_RD, BMP_PEER_FLAG_L, BMP_VIEW_POST, "post-policy" },
		{ BMP_PEER_LOCAL, 0, BMP_VIEW_PRE, "pre-policy" },
		/* the A flag (2-byte AS_PATH) does not change the view */
		{ BMP_PEER_GLOBAL, BMP_PEER_FLAG_A, BMP_VIEW_PRE, "pre-policy" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rm_variant(buf, cases[i].type, cases[i].flags);
		memset(&m, 0xaa, sizeof m);
		CHECK_INT(bmp_msg_decode(buf, sizeof buf, &m, &why), ==, 0);
		CHECK_INT(m.peer.view, ==, cases[i].view);
		CHECK_STR(bmp_view_name(m.peer.view), cases[i].name);
		CHECK_INT(m.peer.afi, ==, PW_AFI_IPV4);
	}

	/* Loc-RIB: peer type 3 (RFC 9069); its F flag (0x80) is not the V flag */
	rm_loc_rib(buf);
	CHECK_INT(bmp_msg_decode(buf, sizeof buf, &m, &why), ==, 0);
	CHECK_INT(m.peer.type, ==, BMP_PEER_LOC_RIB);
	CHECK_INT(m.peer.view, ==, BMP_VIEW_LOCRIB);
	CHECK_STR(bmp_view_name(m.peer.view), "loc-rib");
	buf[OFF_PEER_FLAGS] = BMP_PEER_FLAG_F | BMP_PEER_FLAG_L;
	CHECK_INT(bmp_msg_decode(buf, sizeof buf, &m, &why), ==, 0);
	CHECK_INT(m.peer.view, ==, BMP_VIEW_LOCRIB);
	CHECK_INT(m.peer.afi, ==, PW_AFI_IPV4);

	/* V flag: IPv6 peer address, all 16 bytes */
	rm_ipv6_peer(buf);
	CHECK_INT(bmp_msg_decode(buf, sizeof buf, &m, &why), ==, 0);
	CHECK_INT(m.peer.afi, ==, PW_AFI_IPV6);
	CHECK_INT(m.peer.view, ==, BMP_VIEW_PRE);
	char a[PW_ADDRSTRLEN];
	pw_addr_format(m.peer.afi, m.peer.addr, a, sizeof a);
	CHECK_STR(a, "2001:db8::1");
	/* V and L: IPv6 post-policy */
	buf[OFF_PEER_FLAGS] = BMP_PEER_FLAG_V | BMP_PEER_FLAG_L;
	CHECK_INT(bmp_msg_decode(buf, sizeof buf, &m, &why), ==, 0);
	CHECK_INT(m.peer.view, ==, BMP_VIEW_POST);
	CHECK_INT(m.peer.afi, ==, PW_AFI_IPV6);

	/* peer type 4 is not defined: unusable */
	rm_variant(buf, 4, 0);
	why = NULL;
	CHECK_INT(bmp_msg_decode(buf, sizeof buf, &m, &why), ==, -1);
	CHECK(why != NULL);
}

static void test_malformed(void)
{
	TEST_SECTION("malformed messages");
	struct bmp_msg m;
	const char *why = NULL;

	CHECK_INT(bmp_msg_decode(bmp_truncated_peer_header, sizeof bmp_truncated_peer_header, &m, &why), ==, -1);
	CHECK(why != NULL);
	why = NULL;
	CHECK_INT(bmp_msg_decode(bmp_unknown_type, sizeof bmp_unknown_type, &m, &why), ==, -1);
	CHECK(why != NULL);

	/* the length given differs from the header's */
	CHECK_INT(bmp_msg_decode(bmp_route_monitoring, sizeof bmp_route_monitoring - 1, &m, &why), ==, -1);
	/* shorter than a common header */
	CHECK_INT(bmp_msg_decode(bmp_route_monitoring, 3, &m, &why), ==, -1);

	/* the BGP UPDATE's length runs past the BMP message */
	uint8_t buf[sizeof bmp_route_monitoring];
	memcpy(buf, bmp_route_monitoring, sizeof buf);
	buf[48 + 17] = 0x30; /* UPDATE length 48, one more than carried */
	why = NULL;
	CHECK_INT(bmp_msg_decode(buf, sizeof buf, &m, &why), ==, -1);
	CHECK(why != NULL);
	/* Route Monitoring with less than a BGP header after the peer header */
	memcpy(buf, bmp_route_monitoring, 60);
	buf[4] = 60;
	CHECK_INT(bmp_msg_decode(buf, 60, &m, &why), ==, -1);
}

static void test_tlv_next(void)
{
	TEST_SECTION("bmp_tlv_next");
	uint16_t type = 0;
	struct rbuf v;
	/* TLV type 1 claiming 10 bytes of value, 3 present */
	static const uint8_t over[] = { 0x00, 0x01, 0x00, 0x0a, 'a', 'b', 'c' };
	struct rbuf r = rbuf_make(over, sizeof over);
	CHECK_INT(bmp_tlv_next(&r, &type, &v), ==, -1);
	/* a TLV header cut after 3 bytes */
	static const uint8_t cut[] = { 0x00, 0x01, 0x00 };
	r = rbuf_make(cut, sizeof cut);
	CHECK_INT(bmp_tlv_next(&r, &type, &v), ==, -1);
	/* an empty value, then a good one, then the end */
	static const uint8_t ok[] = { 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 'x' };
	r = rbuf_make(ok, sizeof ok);
	CHECK_INT(bmp_tlv_next(&r, &type, &v), ==, 1);
	CHECK_INT(type, ==, 2);
	CHECK_INT(v.len, ==, 0);
	CHECK_INT(bmp_tlv_next(&r, &type, &v), ==, 1);
	CHECK_INT(type, ==, 0);
	CHECK(v.len == 1 && v.p[0] == 'x');
	CHECK_INT(bmp_tlv_next(&r, &type, &v), ==, 0);
}

static void test_names(void)
{
	TEST_SECTION("names");
	enum bmp_view v;
	for (int i = 0; i < BMP_VIEWS; i++) {
		CHECK_INT(bmp_view_parse(bmp_view_name((enum bmp_view)i), &v), ==, 0);
		CHECK_INT(v, ==, i);
	}
	CHECK_INT(bmp_view_parse("adj-rib-in", &v), ==, -1);
	CHECK_STR(bmp_msg_type_name(BMP_PEER_UP), "peer-up");
	CHECK_STR(bmp_msg_type_name(9), "unknown");
	CHECK_STR(bmp_down_reason_name(9), "unknown");
}

static int write_vectors(const char *dir)
{
	uint8_t buf[sizeof bmp_route_monitoring];
	int rc = 0;
	rc |= vector_write(dir, "bmp-initiation.bin", bmp_initiation, sizeof bmp_initiation);
	rc |= vector_write(dir, "bmp-peer-up.bin", bmp_peer_up, sizeof bmp_peer_up);
	rc |= vector_write(dir, "bmp-peer-down-notification.bin", bmp_peer_down_notification,
			   sizeof bmp_peer_down_notification);
	rc |= vector_write(dir, "bmp-route-monitoring-pre.bin", bmp_route_monitoring, sizeof bmp_route_monitoring);
	rm_variant(buf, BMP_PEER_GLOBAL, BMP_PEER_FLAG_L);
	rc |= vector_write(dir, "bmp-route-monitoring-post.bin", buf, sizeof buf);
	rm_variant(buf, BMP_PEER_GLOBAL, BMP_PEER_FLAG_O);
	rc |= vector_write(dir, "bmp-route-monitoring-adj-rib-out-pre.bin", buf, sizeof buf);
	rm_variant(buf, BMP_PEER_GLOBAL, BMP_PEER_FLAG_O | BMP_PEER_FLAG_L);
	rc |= vector_write(dir, "bmp-route-monitoring-adj-rib-out-post.bin", buf, sizeof buf);
	rm_loc_rib(buf);
	rc |= vector_write(dir, "bmp-route-monitoring-loc-rib.bin", buf, sizeof buf);
	rm_ipv6_peer(buf);
	rc |= vector_write(dir, "bmp-route-monitoring-ipv6-peer.bin", buf, sizeof buf);
	rc |= vector_write(dir, "bmp-statistics.bin", bmp_statistics, sizeof bmp_statistics);
	rc |= vector_write(dir, "bmp-termination.bin", bmp_termination, sizeof bmp_termination);
	rc |= vector_write(dir, "bmp-route-mirroring.bin", bmp_route_mirroring, sizeof bmp_route_mirroring);
	rc |= vector_write(dir, "bmp-truncated-peer-header.bin", bmp_truncated_peer_header,
			   sizeof bmp_truncated_peer_header);
	rc |= vector_write(dir, "bmp-unknown-type.bin", bmp_unknown_type, sizeof bmp_unknown_type);

	/* A whole session as one stream: initiation, peer up, a route,
	 * statistics, peer down (withdraws the route), termination. */
	uint8_t stream[1024];
	size_t n = 0;
#define APPEND(v) (memcpy(stream + n, (v), sizeof(v)), n += sizeof(v))
	APPEND(bmp_initiation);
	APPEND(bmp_peer_up);
	APPEND(bmp_route_monitoring);
	APPEND(bmp_statistics);
	APPEND(bmp_peer_down_notification);
	APPEND(bmp_termination);
#undef APPEND
	rc |= vector_write(dir, "bmp-session.bin", stream, n);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-vectors") == 0 && write_vectors(argv[2]))
		return 2;
	test_frame_check();
	test_initiation_termination();
	test_peer_up();
	test_peer_down();
	test_route_monitoring_views();
	test_malformed();
	test_tlv_next();
	test_names();
	return check_report("test_bmp");
}
