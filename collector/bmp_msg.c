/*
 * bmp_msg: BMP common header framing and per-type decoding (stage ②).
 *
 *  Common header (RFC 7854 4.1):
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |    Version    |                 Message Length                |
 *   |               |    Msg. Type  |
 *
 *  Per type, after the common header (and the 42-byte per-peer header for
 *  Route Monitoring, Statistics, Peer Down, Peer Up, Route Mirroring):
 *   0 Route Monitoring: one BGP UPDATE PDU
 *   1 Statistics Report: count(4), then count x { type(2) len(2) value }
 *   2 Peer Down: reason(1), data (NOTIFICATION PDU | FSM event(2) | TLVs)
 *   3 Peer Up: local address(16) local port(2) remote port(2),
 *              sent OPEN PDU, received OPEN PDU, information TLVs
 *   4 Initiation, 5 Termination: TLVs
 *   6 Route Mirroring: TLVs (0: BGP message, 1: information code)
 */
#include "bmp.h"
#include "bgp.h"

#include <string.h>

static const char *const view_names[BMP_VIEWS] = { "pre-policy", "post-policy", "loc-rib",
						    "adj-rib-out-pre", "adj-rib-out-post" };

const char *bmp_view_name(enum bmp_view v) { return v < BMP_VIEWS ? view_names[v] : "unknown"; }

const char *bmp_peer_type_name(int t)
{
	static const char *const names[] = { "global", "rd-instance", "local-instance", "loc-rib" };
	return t >= 0 && t <= 3 ? names[t] : "unknown";
}

int bmp_view_parse(const char *s, enum bmp_view *v)
{
	for (int i = 0; i < BMP_VIEWS; i++)
		if (strcmp(s, view_names[i]) == 0) {
			*v = (enum bmp_view)i;
			return 0;
		}
	return -1;
}

const char *bmp_msg_type_name(uint8_t type)
{
	static const char *const names[BMP_MSG_TYPES] = { "route-monitoring", "statistics", "peer-down",
							  "peer-up", "initiation", "termination",
							  "route-mirroring" };
	return type < BMP_MSG_TYPES ? names[type] : "unknown";
}

const char *bmp_stat_name(uint16_t type)
{
	static const char *const names[] = {
		"rejected-by-inbound-policy", "duplicate-prefix-advertisements", "duplicate-withdraws",
		"invalidated-cluster-list-loop", "invalidated-as-path-loop", "invalidated-originator-id",
		"invalidated-as-confed-loop", "adj-rib-in-routes", "loc-rib-routes",
		"adj-rib-in-routes-per-afi-safi", "loc-rib-routes-per-afi-safi",
		"updates-treat-as-withdraw", "prefixes-treat-as-withdraw", "duplicate-update-messages",
		"adj-rib-out-pre-routes", "adj-rib-out-post-routes", "adj-rib-out-pre-routes-per-afi-safi",
		"adj-rib-out-post-routes-per-afi-safi",
	};
	return type < sizeof names / sizeof names[0] ? names[type] : NULL;
}

const char *bmp_down_reason_name(uint8_t reason)
{
	switch (reason) {
	case 1: return "local-notification";
	case 2: return "local-no-notification";
	case 3: return "remote-notification";
	case 4: return "remote-no-notification";
	case 5: return "peer-deconfigured";
	case 6: return "local-system-closed";
	default: return "unknown";
	}
}

int bmp_frame_check(const uint8_t *buf, size_t avail, size_t max_len, size_t *msg_len, const char **why)
{
	struct rbuf r = rbuf_make(buf, avail);
	uint8_t version;
	uint32_t len;
	*msg_len = 0;
	if (rbuf_u8(&r, &version))
		return 0;
	if (version != BMP_VERSION) {
		*why = "unsupported BMP version";
		return -1;
	}
	if (rbuf_u32(&r, &len) || rbuf_left(&r) < 1) /* the type byte completes the header */
		return 0;
	if (len < BMP_COMMON_HDR_LEN) {
		*why = "BMP length below the common header";
		return -1;
	}
	if (len > max_len) {
		*why = "BMP length above the configured maximum";
		return -1;
	}
	*msg_len = len;
	return avail >= len;
}

int bmp_tlv_next(struct rbuf *r, uint16_t *type, struct rbuf *value)
{
	uint16_t len;
	if (rbuf_left(r) == 0)
		return 0;
	if (rbuf_u16(r, type) || rbuf_u16(r, &len) || rbuf_sub(r, len, value))
		return -1;
	return 1;
}

static int peer_hdr(struct rbuf *r, struct bmp_peer_hdr *h, const char **why)
{
	if (rbuf_u8(r, &h->type) || rbuf_u8(r, &h->flags) || rbuf_u64(r, &h->rd) ||
	    rbuf_bytes(r, h->addr, 16) || rbuf_u32(r, &h->asn) || rbuf_u32(r, &h->bgp_id) ||
	    rbuf_u32(r, &h->ts_sec) || rbuf_u32(r, &h->ts_usec)) {
		*why = "message shorter than the per-peer header";
		return -1;
	}
	if (h->type > BMP_PEER_LOC_RIB) {
		*why = "unknown peer type";
		return -1;
	}
	if (h->type == BMP_PEER_LOC_RIB) {
		h->view = BMP_VIEW_LOCRIB;
		h->afi = PW_AFI_IPV4; /* address is zero for Loc-RIB */
		bool all_zero = true;
		for (int i = 0; i < 16; i++)
			all_zero &= h->addr[i] == 0;
		if (!all_zero)
			h->afi = PW_AFI_IPV6;
	} else {
		bool post = h->flags & BMP_PEER_FLAG_L;
		if (h->flags & BMP_PEER_FLAG_O)
			h->view = post ? BMP_VIEW_OUT_POST : BMP_VIEW_OUT_PRE;
		else
			h->view = post ? BMP_VIEW_POST : BMP_VIEW_PRE;
		h->afi = (h->flags & BMP_PEER_FLAG_V) ? PW_AFI_IPV6 : PW_AFI_IPV4;
	}
	if (h->afi == PW_AFI_IPV4) /* RFC 7854: IPv4 in the last 4 bytes */
		memmove(h->addr, h->addr + 12, 4), memset(h->addr + 4, 0, 12);
	return 0;
}

/* A BGP PDU whose length comes from its own header. */
static int bgp_pdu(struct rbuf *r, struct rbuf *pdu, const char **why)
{
	struct rbuf peek = *r; /* the length field, after the 16-byte marker */
	uint16_t len;
	if (rbuf_left(r) < BGP_HDR_LEN || rbuf_skip(&peek, 16) || rbuf_u16(&peek, &len)) {
		*why = "BGP message truncated";
		return -1;
	}
	if (len < BGP_HDR_LEN || rbuf_sub(r, len, pdu)) {
		*why = "BGP message length exceeds the BMP message";
		return -1;
	}
	return 0;
}

int bmp_msg_decode(const uint8_t *msg, size_t len, struct bmp_msg *m, const char **why)
{
	memset(m, 0, sizeof *m);
	struct rbuf r = rbuf_make(msg, len);
	uint8_t version;
	uint32_t mlen;
	if (rbuf_u8(&r, &version) || rbuf_u32(&r, &mlen) || rbuf_u8(&r, &m->type) || mlen != len) {
		*why = "BMP common header inconsistent";
		return -1;
	}
	switch (m->type) {
	case BMP_ROUTE_MONITORING:
	case BMP_STATISTICS:
	case BMP_PEER_DOWN:
	case BMP_PEER_UP:
	case BMP_ROUTE_MIRRORING:
		m->has_peer = true;
		if (peer_hdr(&r, &m->peer, why))
			return -1;
		break;
	case BMP_INITIATION:
	case BMP_TERMINATION:
		break;
	default:
		*why = "unknown BMP message type";
		return -1;
	}
	switch (m->type) {
	case BMP_ROUTE_MONITORING:
		return bgp_pdu(&r, &m->pdu, why);
	case BMP_STATISTICS:
		if (rbuf_u32(&r, &m->stats_count)) {
			*why = "statistics report truncated";
			return -1;
		}
		m->tlvs = rbuf_rest(&r);
		return 0;
	case BMP_PEER_DOWN:
		if (rbuf_u8(&r, &m->down_reason)) {
			*why = "peer down truncated";
			return -1;
		}
		m->down_data = rbuf_rest(&r);
		return 0;
	case BMP_PEER_UP:
		if (rbuf_bytes(&r, m->local_addr, 16) || rbuf_u16(&r, &m->local_port) ||
		    rbuf_u16(&r, &m->remote_port)) {
			*why = "peer up truncated";
			return -1;
		}
		if (m->peer.afi == PW_AFI_IPV4)
			memmove(m->local_addr, m->local_addr + 12, 4), memset(m->local_addr + 4, 0, 12);
		if (bgp_pdu(&r, &m->sent_open, why) || bgp_pdu(&r, &m->recv_open, why))
			return -1;
		m->tlvs = rbuf_rest(&r);
		return 0;
	default:
		m->tlvs = rbuf_rest(&r);
		return 0;
	}
}
