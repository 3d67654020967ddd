/*
 * Fuzz target: one BMP message of any type, decoded (bmp_msg_decode) and
 * applied to a router session (ingest_message: TLVs, Peer Up OPENs, Peer
 * Down NOTIFICATION, Statistics counters, Route Monitoring UPDATE, the RIB
 * and the JSON trace).
 *
 * Input: byte 0 picks the message type (mod 8: the seven RFC 7854 types and
 * one unknown type); the rest is the message after the common header, which
 * the target writes with the right length. One target rather than one per
 * type: every type shares the per-peer header and the TLV format, so what
 * the fuzzer learns on one type is tried on the others by a one-byte
 * mutation, and libFuzzer spends its time on whichever type still yields
 * new coverage instead of a fixed share each; no input is wasted on a
 * length field that does not match (framing is bmp_stream's job).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "bmp.h"
#include "common/check.h"
#include "common/log.h"
#include "fuzz_check.h"
#include "ingest.h"
#include "rib.h"

static void trace(void *ctx, json_t *msg)
{
	(void)ctx;
	char *text = json_dumps(msg, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	free(text);
}

static void check_pdu(struct rbuf pdu, const uint8_t *msg, size_t len)
{
	FUZZ_CHECK(fuzz_inside(pdu.p, pdu.len, msg, len));
	FUZZ_CHECK(pdu.len >= BGP_HDR_LEN && pdu.len == pw_get16(pdu.p + 16));
}

/* What bmp_msg_decode promises about a message it accepted. */
static void check_decoded(const struct bmp_msg *m, const uint8_t *msg, size_t len)
{
	FUZZ_CHECK(m->type < BMP_MSG_TYPES);
	FUZZ_CHECK(m->has_peer == (m->type != BMP_INITIATION && m->type != BMP_TERMINATION));
	if (m->has_peer) {
		FUZZ_CHECK(m->peer.type <= BMP_PEER_LOC_RIB && m->peer.view < BMP_VIEWS);
		FUZZ_CHECK(m->peer.afi == PW_AFI_IPV4 || m->peer.afi == PW_AFI_IPV6);
		static const uint8_t zero[12];
		if (m->peer.afi == PW_AFI_IPV4)
			FUZZ_CHECK(memcmp(m->peer.addr + 4, zero, 12) == 0);
	}
	FUZZ_CHECK(fuzz_inside(m->tlvs.p, m->tlvs.len, msg, len));
	FUZZ_CHECK(fuzz_inside(m->down_data.p, m->down_data.len, msg, len));
	if (m->type == BMP_ROUTE_MONITORING)
		check_pdu(m->pdu, msg, len);
	if (m->type == BMP_PEER_UP) {
		check_pdu(m->sent_open, msg, len);
		check_pdu(m->recv_open, msg, len);
	}
	/* TLV iteration ends, each TLV inside the region */
	struct rbuf tlvs = m->tlvs, v;
	uint16_t type;
	size_t n = 0;
	while (bmp_tlv_next(&tlvs, &type, &v) == 1) {
		FUZZ_CHECK(fuzz_inside(v.p, v.len, m->tlvs.p, m->tlvs.len));
		FUZZ_CHECK(++n <= m->tlvs.len / 4);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum { MAX_MSG = 1 << 16 };
	if (size < 1 || size - 1 > MAX_MSG - BMP_COMMON_HDR_LEN)
		return 0;
	pw_log_set_level(PW_LOG_ERROR);
	size_t len = BMP_COMMON_HDR_LEN + size - 1;
	uint8_t *msg = pw_malloc(len); /* exactly the message: ASan sees a read past it */
	msg[0] = BMP_VERSION;
	pw_put32(msg + 1, (uint32_t)len);
	msg[5] = data[0] % 8;
	memcpy(msg + BMP_COMMON_HDR_LEN, data + 1, size - 1);

	struct bmp_msg m;
	const char *why = NULL;
	if (bmp_msg_decode(msg, len, &m, &why) == 0)
		check_decoded(&m, msg, len);
	else
		FUZZ_CHECK(why != NULL);

	struct rib_config rc = { .resync_timeout_ms = 1000 };
	struct rib *rib = rib_new(&rc);
	struct ingest_session s;
	ingest_init(&s, rib, "fuzz", MAX_MSG);
	s.trace = trace;
	ingest_message(&s, msg, len, 1000000);
	ingest_close(&s, 2000000);
	rib_free(rib);
	free(msg);
	return 0;
}
