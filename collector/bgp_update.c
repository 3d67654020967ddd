/*
 * bgp_update: BGP UPDATE decoding (stage ③), RFC 4271 4.3, RFC 4760,
 * RFC 6793 (AS4), RFC 7911 (add-path), RFC 7606 (error handling).
 *
 *   +-----------------------------------------------------+
 *   |   Withdrawn Routes Length (2 octets)                |
 *   |   Withdrawn Routes (variable)                       |
 *   |   Total Path Attribute Length (2 octets)            |
 *   |   Path Attributes (variable)                        |
 *   |   Network Layer Reachability Information (variable) |
 *   +-----------------------------------------------------+
 *
 * Output: validated NLRI regions (IPv4 classic + one MP region each way) and
 * the canonical attribute set (see bgp.h) built into caller scratch.
 *
 * Add-path (RFC 7911) presence is decided from the bytes, not only from the
 * Peer Up OPENs: FRR 8.4 negotiates add-path but sends no path ids in BMP,
 * GoBGP 3.10 sends them only in live pre-policy messages. A region is
 * decoded the negotiated way when that is consistent, else the other way
 * (counted as a mismatch). When both ways are consistent, a first byte of 0
 * means a path id (a plain NLRI starting with length 0 would be a default
 * route followed by more prefixes, which no real table sends first).
 */
#include "bgp.h"
#include "bgp_attr.h"
#include "common/check.h"

#include <stdlib.h>
#include <string.h>

int bgp_pdu_split(struct rbuf pdu, uint8_t *type, struct rbuf *body, const char **why)
{
	static const uint8_t marker[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint16_t len;
	if (rbuf_left(&pdu) < BGP_HDR_LEN) {
		*why = "BGP message shorter than its header";
		return -1;
	}
	if (memcmp(rbuf_cur(&pdu), marker, 16) != 0) {
		*why = "BGP marker is not all ones";
		return -1;
	}
	if (rbuf_skip(&pdu, 16) || rbuf_u16(&pdu, &len) || rbuf_u8(&pdu, type) || len < BGP_HDR_LEN || len != pdu.len) {
		*why = "BGP length does not match the bytes carried";
		return -1;
	}
	*body = rbuf_rest(&pdu);
	return 0;
}

/* Consistency of a region under one add-path assumption. */
static bool nlri_valid(struct rbuf r, uint8_t afi, bool addpath)
{
	int max = pw_afi_maxlen(afi);
	while (rbuf_left(&r)) {
		uint8_t len;
		if (addpath && rbuf_skip(&r, 4))
			return false;
		if (rbuf_u8(&r, &len) || len > max || rbuf_skip(&r, (len + 7u) / 8))
			return false;
	}
	return true;
}

static int nlri_region(struct rbuf r, uint8_t afi, bool negotiated, struct bgp_nlri_set *out,
		       struct bgp_update *u)
{
	bool with = nlri_valid(r, afi, true), without = nlri_valid(r, afi, false);
	bool addpath;
	if (with && without)
		addpath = r.len > 0 && r.p[0] == 0;
	else if (with || without)
		addpath = with;
	else
		return -1;
	if (r.len && addpath != negotiated)
		u->addpath_mismatch = true;
	out->r = r;
	out->afi = afi;
	out->addpath = addpath;
	return 0;
}

int bgp_nlri_next(struct bgp_nlri_set *s, struct pw_prefix *p, uint32_t *path_id)
{
	uint8_t len;
	*path_id = 0;
	if (rbuf_left(&s->r) == 0)
		return 0;
	if (s->addpath && rbuf_u32(&s->r, path_id))
		return 0;
	if (rbuf_u8(&s->r, &len) || len > pw_afi_maxlen(s->afi))
		return 0;
	memset(p, 0, sizeof *p);
	p->afi = s->afi;
	p->len = len;
	if (rbuf_bytes(&s->r, p->addr, (len + 7u) / 8))
		return 0;
	/* what pw_prefix_mask does, here where the bytes past the length are
	 * zero already: only the last byte's host bits (every NLRI of a full
	 * table comes here) */
	if (len % 8)
		p->addr[len / 8] &= (uint8_t)(0xff00u >> (len % 8));
	return 1;
}

static int afi_index(uint16_t afi, uint8_t safi)
{
	if (safi != 1)
		return -1;
	return afi == 1 ? 0 : afi == 2 ? 1 : -1;
}

/* One received attribute, before normalisation. */
struct raw_attr {
	uint8_t flags, type;
	struct rbuf v;
};

/* In type order (types are distinct here). Insertion sort: routers send
 * attributes in type order already, so this is one compare per attribute
 * (qsort was 2.5 % of a full table's load). */
static void sort_attrs(struct raw_attr *list, int n)
{
	for (int i = 1; i < n; i++) {
		struct raw_attr a = list[i];
		int j = i;
		for (; j > 0 && list[j - 1].type > a.type; j--)
			list[j] = list[j - 1];
		list[j] = a;
	}
}

static uint8_t *put_attr(uint8_t *out, uint8_t flags, uint8_t type, const void *v, size_t len)
{
	out[0] = flags & (uint8_t)~0x10; /* extended-length bit is meaningless here */
	out[1] = type;
	pw_put16(out + 2, (uint16_t)len);
	if (len)
		memcpy(out + 4, v, len);
	return out + 4 + len;
}

int bgp_update_parse(struct rbuf body, const struct bgp_update_ctx *ctx, uint8_t *scratch,
		     size_t scratch_len, struct bgp_update *u, const char **why)
{
	memset(u, 0, sizeof *u);
	struct rbuf wd, attrs, nlri;
	uint16_t wd_len, attr_len;
	if (rbuf_u16(&body, &wd_len) || rbuf_sub(&body, wd_len, &wd)) {
		*why = "withdrawn routes length exceeds the message";
		return -1;
	}
	if (rbuf_u16(&body, &attr_len) || rbuf_sub(&body, attr_len, &attrs)) {
		*why = "path attribute length exceeds the message";
		return -1;
	}
	nlri = rbuf_rest(&body);
	if (scratch_len < bgp_update_scratch_len(attr_len)) {
		*why = "UPDATE larger than the decoder's scratch";
		return -1;
	}

	/* Pass 1: split attributes, judge each (RFC 7606). At most one per
	 * type: later duplicates are discarded (MP duplicates are fatal). */
	struct raw_attr list[64];
	int n = 0;
	uint64_t seen[4] = { 0 };
	while (rbuf_left(&attrs)) {
		struct raw_attr a;
		uint8_t l8;
		uint16_t len;
		if (rbuf_u8(&attrs, &a.flags) || rbuf_u8(&attrs, &a.type)) {
			*why = "truncated attribute header";
			return -1;
		}
		if (a.flags & 0x10) {
			if (rbuf_u16(&attrs, &len))
				goto bad_attr_len;
		} else {
			if (rbuf_u8(&attrs, &l8))
				goto bad_attr_len;
			len = l8;
		}
		if (rbuf_sub(&attrs, len, &a.v))
			goto bad_attr_len;
		uint64_t bit = 1ULL << (a.type % 64);
		if (seen[a.type / 64] & bit) {
			if (a.type == BGP_ATTR_MP_REACH || a.type == BGP_ATTR_MP_UNREACH) {
				*why = "MP_REACH/MP_UNREACH attribute repeated";
				return -1;
			}
			u->n_discarded++;
			u->problem = "attribute repeated; all but the first discarded";
			continue;
		}
		seen[a.type / 64] |= bit;
		if (n == (int)(sizeof list / sizeof list[0])) {
			u->n_discarded++;
			u->problem = "more than 64 distinct attributes; rest discarded";
			continue;
		}
		list[n++] = a;
	}

	bool have_as4 = false, used_as2 = false;
	struct raw_attr as4_path = { 0 }, as4_aggr = { 0 };
	for (int i = 0; i < n; i++) {
		if (list[i].type == BGP_ATTR_AS4_PATH) {
			as4_path = list[i];
			have_as4 = true;
		}
		if (list[i].type == BGP_ATTR_AS4_AGGREGATOR)
			as4_aggr = list[i];
	}

	sort_attrs(list, n);
	uint8_t *out = scratch;
	for (int i = 0; i < n; i++) {
		struct raw_attr *a = &list[i];
		const char *finding = NULL;
		uint8_t buf[8];
		switch (a->type) {
		case BGP_ATTR_AS_PATH: {
			/* The A flag says the width; trust the bytes when they
			 * disagree and only the other width parses. */
			int n2 = 0, n4 = 0;
			bool ok2 = bgp_as_path_check(a->v, 2, &n2) == 0;
			bool ok4 = bgp_as_path_check(a->v, 4, &n4) == 0;
			bool two = ctx->as2 ? (ok2 || !ok4) : (!ok4 && ok2);
			if (!(two ? ok2 : ok4)) {
				u->treat_as_withdraw = true;
				u->problem = "AS_PATH malformed";
				continue;
			}
			if (two != ctx->as2)
				u->as_width_mismatch = true;
			/* widen to 4-byte ASNs, then merge AS4_PATH (RFC 6793) */
			uint8_t *wide = NULL, *merged = NULL;
			struct rbuf path = a->v;
			if (two) {
				used_as2 = true;
				wide = pw_malloc(2 * a->v.len + as4_path.v.len + 2);
				path = rbuf_make(wide, bgp_as_path_widen(a->v, wide));
				int n4p = 0;
				if (have_as4 && bgp_as_path_check(as4_path.v, 4, &n4p) == 0) {
					merged = pw_malloc(path.len + as4_path.v.len + 2);
					path = rbuf_make(merged, bgp_as_path_merge(path, n2, as4_path.v, n4p, merged));
				}
			}
			/* the table's judgement on the path as stored: flags,
			 * 4-byte segments, a length the set can hold */
			if (path.len > 65535) {
				u->treat_as_withdraw = true;
				u->problem = "AS_PATH longer than 65535 bytes with 4-byte ASNs";
			} else if (bgp_attr_judge(a->flags, a->type, path, &finding) != BGP_ATTR_KEEP) {
				u->treat_as_withdraw = true;
				u->problem = finding;
			} else
				out = put_attr(out, a->flags, a->type, path.p, path.len);
			free(merged);
			free(wide);
			continue;
		}
		case BGP_ATTR_AGGREGATOR:
			if (a->v.len == 6) { /* 2-byte AGGREGATOR */
				struct rbuf v = a->v;
				uint16_t as2 = 0;
				rbuf_u16(&v, &as2);
				if (as2 == 23456 && as4_aggr.v.len == 8) {
					memcpy(buf, as4_aggr.v.p, 8);
				} else {
					pw_put32(buf, as2);
					memcpy(buf + 4, a->v.p + 2, 4);
				}
				struct rbuf v8 = rbuf_make(buf, 8);
				if (bgp_attr_judge(a->flags, a->type, v8, &finding) == BGP_ATTR_KEEP)
					out = put_attr(out, a->flags, a->type, buf, 8);
				else {
					u->n_discarded++;
					u->problem = finding;
				}
				continue;
			}
			break;
		case BGP_ATTR_AS4_PATH:
		case BGP_ATTR_AS4_AGGREGATOR:
			/* merged above when the session is 2-byte; a 4-byte
			 * speaker must not send them (RFC 6793): dropped. */
			if (!used_as2)
				u->n_discarded++;
			continue;
		case BGP_ATTR_MP_REACH: {
			struct rbuf v = a->v;
			uint16_t afi;
			uint8_t safi, nhl, reserved;
			struct rbuf nh, mp_nlri;
			if ((a->flags & 0xC0) != 0x80 || rbuf_u16(&v, &afi) || rbuf_u8(&v, &safi) ||
			    rbuf_u8(&v, &nhl) || rbuf_sub(&v, nhl, &nh) || rbuf_u8(&v, &reserved)) {
				*why = "MP_REACH_NLRI malformed";
				return -1;
			}
			(void)reserved;
			mp_nlri = rbuf_rest(&v);
			int ai = afi_index(afi, safi);
			if (ai < 0) {
				u->n_other_afi++;
				continue;
			}
			uint8_t pafi = ai == 0 ? PW_AFI_IPV4 : PW_AFI_IPV6;
			if (nhl != 4 && nhl != 16 && nhl != 32) {
				*why = "MP_REACH_NLRI next hop length invalid";
				return -1;
			}
			if (nlri_region(mp_nlri, pafi, ctx->addpath[ai], &u->announced[u->n_announced], u)) {
				*why = "MP_REACH_NLRI prefixes malformed";
				return -1;
			}
			u->n_announced++;
			out[0] = a->flags & (uint8_t)~0x10;
			out[1] = a->type;
			pw_put16(out + 2, (uint16_t)(4 + nh.len));
			pw_put16(out + 4, afi);
			out[6] = safi;
			out[7] = nhl;
			memcpy(out + 8, nh.p, nh.len);
			out += 8 + nh.len;
			continue;
		}
		case BGP_ATTR_MP_UNREACH: {
			struct rbuf v = a->v;
			uint16_t afi;
			uint8_t safi;
			if ((a->flags & 0xC0) != 0x80 || rbuf_u16(&v, &afi) || rbuf_u8(&v, &safi)) {
				*why = "MP_UNREACH_NLRI malformed";
				return -1;
			}
			int ai = afi_index(afi, safi);
			if (ai < 0) {
				u->n_other_afi++;
				continue;
			}
			uint8_t pafi = ai == 0 ? PW_AFI_IPV4 : PW_AFI_IPV6;
			struct rbuf rest = rbuf_rest(&v);
			if (rest.len == 0 && n == 1 && wd.len == 0 && nlri.len == 0) {
				u->eor = true;
				u->eor_afi = pafi;
			}
			if (nlri_region(rest, pafi, ctx->addpath[ai], &u->withdrawn[u->n_withdrawn], u)) {
				*why = "MP_UNREACH_NLRI prefixes malformed";
				return -1;
			}
			u->n_withdrawn++;
			continue;
		}
		default:
			break;
		}
		switch (bgp_attr_judge(a->flags, a->type, a->v, &finding)) {
		case BGP_ATTR_KEEP:
			out = put_attr(out, a->flags, a->type, a->v.p, a->v.len);
			break;
		case BGP_ATTR_DISCARD:
			u->n_discarded++;
			u->problem = finding;
			break;
		case BGP_ATTR_WITHDRAW:
			u->treat_as_withdraw = true;
			u->problem = finding;
			break;
		}
	}
	u->attrs = scratch;
	u->attrs_len = (size_t)(out - scratch);

	/* IPv4 withdrawn routes and NLRI (classic fields) */
	if (wd.len) {
		if (nlri_region(wd, PW_AFI_IPV4, ctx->addpath[0], &u->withdrawn[u->n_withdrawn], u)) {
			*why = "withdrawn routes malformed";
			return -1;
		}
		u->n_withdrawn++;
	}
	if (nlri.len) {
		if (nlri_region(nlri, PW_AFI_IPV4, ctx->addpath[0], &u->announced[u->n_announced], u)) {
			*why = "NLRI malformed";
			return -1;
		}
		u->n_announced++;
	}
	if (wd_len == 0 && attr_len == 0 && nlri.len == 0) {
		u->eor = true;
		u->eor_afi = PW_AFI_IPV4;
	}
	u->taw_from = u->n_withdrawn;
	if (u->treat_as_withdraw) {
		/* RFC 7606 2: the announced prefixes are handled as withdrawn */
		for (int i = 0; i < u->n_announced; i++)
			u->withdrawn[u->n_withdrawn++] = u->announced[i];
		u->n_announced = 0;
	}
	return 0;

bad_attr_len:
	/* RFC 7606 4: the attribute lengths are inconsistent with the total
	 * path attribute length. The NLRI field is still located by the
	 * total length, so treat-as-withdraw applies. */
	u->problem = "attribute length inconsistent with the attributes field";
	u->treat_as_withdraw = true;
	u->attrs = scratch;
	u->attrs_len = 0;
	u->n_announced = u->n_withdrawn = 0;
	if (wd.len && !nlri_region(wd, PW_AFI_IPV4, ctx->addpath[0], &u->withdrawn[u->n_withdrawn], u))
		u->n_withdrawn++;
	u->taw_from = u->n_withdrawn;
	if (nlri.len && !nlri_region(nlri, PW_AFI_IPV4, ctx->addpath[0], &u->withdrawn[u->n_withdrawn], u))
		u->n_withdrawn++;
	return 0;
}
