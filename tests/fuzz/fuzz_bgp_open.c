/*
 * Fuzz target: the BGP messages a BMP Peer Up and Peer Down carry --
 * OPEN with its optional parameters and capabilities (RFC 5492, RFC 9072
 * extended parameters; multiprotocol, 4-octet AS, add-path, graceful
 * restart, hostname, ...) through bgp_open_decode, and NOTIFICATION through
 * bgp_notification_json.
 *
 * Input: byte 0 bit 0 picks NOTIFICATION (1) or OPEN (0); the rest is the
 * message body, behind a BGP header the target writes with the right
 * marker and length. Checked: decoding with and without the JSON gives the
 * same session values; a 2-byte-AS speaker's ASN fits 16 bits; add-path
 * holds only send/receive bits; the JSON serialises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "common/check.h"
#include "fuzz_check.h"

static void check_json(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > BGP_MAX_EXT_LEN - BGP_HDR_LEN)
		return 0;
	size_t len = BGP_HDR_LEN + size - 1;
	uint8_t *pdu = pw_malloc(len);
	memset(pdu, 0xff, 16);
	pw_put16(pdu + 16, (uint16_t)len);
	pdu[18] = (data[0] & 1) ? BGP_NOTIFICATION : BGP_OPEN;
	memcpy(pdu + BGP_HDR_LEN, data + 1, size - 1);
	const char *why = NULL;

	if (pdu[18] == BGP_NOTIFICATION) {
		json_t *n = bgp_notification_json(rbuf_make(pdu, len), &why);
		FUZZ_CHECK(n || why);
		if (n) {
			FUZZ_CHECK(json_is_string(json_object_get(n, "name")));
			check_json(n);
			json_decref(n);
		}
	} else {
		struct bgp_open o, plain;
		json_t *j = NULL;
		int rc = bgp_open_decode(rbuf_make(pdu, len), &o, &j, &why);
		int rc2 = bgp_open_decode(rbuf_make(pdu, len), &plain, NULL, &why);
		FUZZ_CHECK(rc == rc2);
		if (rc == 0) {
			FUZZ_CHECK(j != NULL);
			FUZZ_CHECK(o.version == plain.version && o.asn == plain.asn && o.hold_time == plain.hold_time &&
				   o.bgp_id == plain.bgp_id && o.as4 == plain.as4 &&
				   memcmp(o.addpath, plain.addpath, sizeof o.addpath) == 0);
			FUZZ_CHECK(o.as4 || o.asn <= 65535);
			FUZZ_CHECK(o.addpath[0] <= 3 && o.addpath[1] <= 3);
			FUZZ_CHECK(json_is_array(json_object_get(j, "capabilities")));
			check_json(j);
			json_decref(j);
		} else
			FUZZ_CHECK(j == NULL && why != NULL);
	}
	free(pdu);
	return 0;
}
