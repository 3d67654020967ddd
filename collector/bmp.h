/*
 * bmp: BMP framing and per-message decoding (stage ②), RFC 7854, RFC 8671
 * (Adj-RIB-Out), RFC 9069 (Loc-RIB).
 *
 *   feed bytes --> [bmp_frame_check] --> one whole message
 *              --> [bmp_msg_decode]  --> struct bmp_msg (views into the
 *                                        message; BGP PDUs left for bgp.h)
 *
 * A framing error (bad version, length below the common header, length
 * above the configured maximum) means the stream cannot be re-synchronised:
 * the caller closes that router's feed. A message that frames correctly but
 * does not decode is dropped alone and counted.
 */
#ifndef PW_BMP_H
#define PW_BMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rbuf.h"

enum bmp_msg_type {
	BMP_ROUTE_MONITORING = 0, BMP_STATISTICS = 1, BMP_PEER_DOWN = 2, BMP_PEER_UP = 3,
	BMP_INITIATION = 4, BMP_TERMINATION = 5, BMP_ROUTE_MIRRORING = 6, BMP_MSG_TYPES = 7,
};
#define BMP_VERSION 3
#define BMP_COMMON_HDR_LEN 6
#define BMP_PEER_HDR_LEN 42
#define BMP_DEFAULT_MAX_MSG (1u << 20)

/* The RIB a route belongs to. Order is the store's numbering: keep it. */
enum bmp_view {
	BMP_VIEW_PRE = 0,      /* Adj-RIB-In pre-policy */
	BMP_VIEW_POST = 1,     /* Adj-RIB-In post-policy (L flag) */
	BMP_VIEW_LOCRIB = 2,   /* Loc-RIB, peer type 3 (RFC 9069) */
	BMP_VIEW_OUT_PRE = 3,  /* Adj-RIB-Out pre-policy (O flag, RFC 8671) */
	BMP_VIEW_OUT_POST = 4, /* Adj-RIB-Out post-policy (O and L flags) */
	BMP_VIEWS = 5,
};
const char *bmp_view_name(enum bmp_view v);
/* A per-peer header's peer type (RFC 7854, 9069) as the API names it. */
const char *bmp_peer_type_name(int t);
int bmp_view_parse(const char *s, enum bmp_view *v);
const char *bmp_msg_type_name(uint8_t type);

enum bmp_peer_type { BMP_PEER_GLOBAL = 0, BMP_PEER_RD = 1, BMP_PEER_LOCAL = 2, BMP_PEER_LOC_RIB = 3 };
#define BMP_PEER_FLAG_V 0x80 /* IPv6 peer address */
#define BMP_PEER_FLAG_L 0x40 /* post-policy */
#define BMP_PEER_FLAG_A 0x20 /* legacy 2-byte AS_PATH */
#define BMP_PEER_FLAG_O 0x10 /* Adj-RIB-Out */
#define BMP_PEER_FLAG_F 0x80 /* Loc-RIB: filtered */

/*  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Peer Type   |  Peer Flags   |
 * |         Peer Distinguisher (present based on peer type)       |
 * |                 Peer Address (16 bytes)                       |
 * |                           Peer AS                             |
 * |                         Peer BGP ID                           |
 * |                    Timestamp (seconds)                        |
 * |                  Timestamp (microseconds)                     |
 */
struct bmp_peer_hdr {
	uint8_t type, flags;
	uint64_t rd;
	uint8_t afi;        /* PW_AFI_IPV4 / PW_AFI_IPV6 (from the V flag) */
	uint8_t addr[16];   /* IPv4 in the first 4 bytes */
	uint32_t asn, bgp_id;
	uint32_t ts_sec, ts_usec;
	enum bmp_view view; /* derived from type and flags */
};

struct bmp_msg {
	uint8_t type;
	bool has_peer;
	struct bmp_peer_hdr peer;
	/* Type-specific parts, all views into the message bytes. */
	struct rbuf tlvs;           /* initiation, termination, peer up info, stats, mirroring */
	struct rbuf pdu;            /* route monitoring: the BGP UPDATE */
	struct rbuf sent_open, recv_open; /* peer up */
	uint8_t local_addr[16];
	uint16_t local_port, remote_port;
	uint8_t down_reason;        /* peer down */
	struct rbuf down_data;
	uint32_t stats_count;       /* statistics report */
};

/* Checks the common header at buf. Returns 1 when a whole message of
 * *msg_len bytes is available, 0 when more bytes are needed (*msg_len is
 * then the message's checked length once its header is in, else 0), -1 on
 * a framing error with *why. Never reads past avail. */
int bmp_frame_check(const uint8_t *buf, size_t avail, size_t max_len, size_t *msg_len, const char **why);

/* Decodes one framed message. Returns 0, or -1 with *why (message unusable). */
int bmp_msg_decode(const uint8_t *msg, size_t len, struct bmp_msg *m, const char **why);

/* TLV iteration: type(2) length(2) value. 1 with the TLV, 0 at the end,
 * -1 if the TLV overruns its region. */
int bmp_tlv_next(struct rbuf *r, uint16_t *type, struct rbuf *value);

/* Statistics Report counter types (RFC 7854 4.8, RFC 8671, IANA). */
const char *bmp_stat_name(uint16_t type);
/* Peer Down reason (RFC 7854 4.9, RFC 9069). */
const char *bmp_down_reason_name(uint8_t reason);

#endif
