/*
 * Fuzz target: one BGP UPDATE body (after the 19-byte header) through
 * bgp_update_parse -- withdrawn routes, path attributes (the RFC 7606
 * table, AS_PATH widening and AS4 merge, MP_REACH/MP_UNREACH), NLRI with
 * and without add-path -- then the canonical set's renderers.
 *
 * Input: byte 0 is the session as the BMP per-peer header and the Peer Up
 * OPENs would set it (bit 0: 2-byte AS_PATH, bit 1: add-path IPv4,
 * bit 2: add-path IPv6); the rest is the body.
 *
 * Checked beyond "no crash": the canonical set fits the scratch, is sorted
 * with no duplicates, and every known attribute in it passes the table's
 * judgement; canonicalising it again gives the same bytes (two UPDATEs
 * with the same attributes must intern to one set); every NLRI region walks
 * to its end; every prefix round-trips through its store key and text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "bgp_attr.h"
#include "common/check.h"
#include "fuzz_check.h"

static void check_region(struct bgp_nlri_set s)
{
	struct pw_prefix p;
	uint32_t path_id;
	while (bgp_nlri_next(&s, &p, &path_id))
		fuzz_check_prefix(&p);
	FUZZ_CHECK(rbuf_left(&s.r) == 0); /* a validated region decodes to its end */
}

/* The canonical set as an UPDATE body again (no NLRI, MP_REACH with its
 * reserved byte and no prefixes). Returns the body length, 0 if too long. */
static size_t reencode(const uint8_t *attrs, size_t len, uint8_t *out, size_t room)
{
	struct rbuf r = rbuf_make(attrs, len), v;
	uint8_t flags, type;
	size_t k = 4;
	while (bgp_attrs_next(&r, &flags, &type, &v)) {
		size_t extra = type == BGP_ATTR_MP_REACH ? 1 : 0, vlen = v.len + extra;
		if (k + 4 + vlen > room || k + 4 + vlen - 4 > 65535)
			return 0;
		out[k++] = flags | (vlen > 255 ? 0x10 : 0);
		out[k++] = type;
		if (vlen > 255) {
			pw_put16(out + k, (uint16_t)vlen);
			k += 2;
		} else
			out[k++] = (uint8_t)vlen;
		memcpy(out + k, v.p, v.len);
		k += v.len;
		if (extra)
			out[k++] = 0;
	}
	pw_put16(out, 0);
	pw_put16(out + 2, (uint16_t)(k - 4));
	return k;
}

static void check_canonical(const struct bgp_update *u)
{
	struct rbuf r = rbuf_make(u->attrs, u->attrs_len), v;
	uint8_t flags, type;
	int last = -1;
	while (bgp_attrs_next(&r, &flags, &type, &v)) {
		const char *why = NULL;
		FUZZ_CHECK(type > last); /* sorted, one per type */
		last = type;
		FUZZ_CHECK(!(flags & 0x10));
		FUZZ_CHECK(type != BGP_ATTR_MP_UNREACH && type != BGP_ATTR_AS4_PATH && type != BGP_ATTR_AS4_AGGREGATOR);
		if (type != BGP_ATTR_MP_REACH) /* kept in its own reduced form */
			FUZZ_CHECK(bgp_attr_judge(flags, type, v, &why) == BGP_ATTR_KEEP);
	}
	FUZZ_CHECK(rbuf_left(&r) == 0); /* the set parses to its end */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > BGP_MAX_EXT_LEN - BGP_HDR_LEN)
		return 0;
	struct bgp_update_ctx ctx = { .as2 = data[0] & 1, .addpath = { data[0] & 2, data[0] & 4 } };
	/* the body alone, in a buffer of its exact size */
	size_t blen = size - 1;
	uint8_t *body = pw_malloc(blen ? blen : 1);
	memcpy(body, data + 1, blen);
	/* scratch exactly as large as the decoder asks for this attribute length */
	struct rbuf peek = rbuf_make(body, blen);
	uint16_t wd_len = 0, attr_len = 0;
	if (rbuf_u16(&peek, &wd_len) || rbuf_skip(&peek, wd_len) || rbuf_u16(&peek, &attr_len))
		attr_len = 0;
	size_t scratch_len = bgp_update_scratch_len(attr_len);
	uint8_t *scratch = pw_malloc(scratch_len);

	struct bgp_update u;
	const char *why = NULL;
	if (bgp_update_parse(rbuf_make(body, blen), &ctx, scratch, scratch_len, &u, &why)) {
		FUZZ_CHECK(why != NULL);
		goto out;
	}
	FUZZ_CHECK(u.attrs == scratch && u.attrs_len <= scratch_len);
	FUZZ_CHECK(u.n_withdrawn <= 4 && u.n_announced <= 2 && u.taw_from <= u.n_withdrawn);
	FUZZ_CHECK(!u.treat_as_withdraw || u.n_announced == 0);
	for (int i = 0; i < u.n_withdrawn; i++)
		check_region(u.withdrawn[i]);
	for (int i = 0; i < u.n_announced; i++)
		check_region(u.announced[i]);
	check_canonical(&u);

	/* canonical(canonical(x)) == canonical(x) */
	size_t room = u.attrs_len * 2 + 8;
	uint8_t *again = pw_malloc(room);
	size_t alen = reencode(u.attrs, u.attrs_len, again, room);
	if (alen) {
		struct bgp_update_ctx plain = { 0 };
		size_t s2len = bgp_update_scratch_len(alen);
		uint8_t *s2 = pw_malloc(s2len);
		struct bgp_update u2;
		FUZZ_CHECK(bgp_update_parse(rbuf_make(again, alen), &plain, s2, s2len, &u2, &why) == 0);
		FUZZ_CHECK(!u2.treat_as_withdraw && u2.n_discarded == 0);
		FUZZ_CHECK(u2.attrs_len == u.attrs_len && memcmp(u2.attrs, u.attrs, u.attrs_len) == 0);
		free(s2);
	}
	free(again);

	for (uint8_t afi = PW_AFI_IPV4; afi <= PW_AFI_IPV6; afi++) {
		json_t *route = json_object();
		struct bgp_render_opts o = { .afi = afi, .strip_first_as = 65000 };
		bgp_attrs_to_json(u.attrs, u.attrs_len, &o, route);
		char *text = json_dumps(route, JSON_COMPACT);
		FUZZ_CHECK(text != NULL);
		free(text);
		json_decref(route);
	}
	uint32_t path[64];
	FUZZ_CHECK(bgp_attrs_as_path(u.attrs, u.attrs_len, path, 64) >= 0);
out:
	free(scratch);
	free(body);
	return 0;
}
