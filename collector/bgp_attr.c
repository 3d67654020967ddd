/*
 * bgp_attr: the attribute table (stage ③b). Bounds, RFC 7606 outcome and
 * JSON writer per attribute type; AS_PATH checks, widening and AS4 merge.
 *
 * RFC 7606 section 7 is the source of the outcomes below. One deliberate
 * leniency: a missing well-known mandatory attribute is not turned into a
 * withdraw. A monitor records what the router reported (its Adj-RIB-In or
 * Loc-RIB already reflects the router's own error handling), so dropping
 * such routes would show a RIB that differs from the router's.
 */
#include "bgp_attr.h"

#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "common/prefix.h"
#include "common/text.h"

typedef int (*attr_check_fn)(struct rbuf v);
typedef void (*attr_json_fn)(json_t *route, struct rbuf v, const struct bgp_render_opts *o);

struct attr_desc {
	const char *name;
	uint8_t flags;       /* expected optional (0x80) and transitive (0x40) bits */
	uint16_t min, max;   /* value length bounds */
	uint16_t mult;       /* length must be a multiple of this (0: any) */
	uint8_t on_error;    /* enum bgp_attr_outcome */
	attr_check_fn check; /* extra value check, or NULL */
	attr_json_fn json;   /* renderer, or NULL (handled elsewhere) */
};

#define F_WK 0x40 /* well-known: not optional, transitive */
#define F_OT 0xC0 /* optional transitive */
#define F_ON 0x80 /* optional non-transitive */

static int check_origin(struct rbuf v) { return v.p[0] <= 2 ? 0 : -1; }
static int check_as_path(struct rbuf v) { int n; return bgp_as_path_check(v, 4, &n); }

static void json_origin(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	(void)o;
	static const char *const names[] = { "igp", "egp", "incomplete" };
	json_object_set_new(r, "origin", json_string(names[v.p[0] <= 2 ? v.p[0] : 2]));
}

static json_t *as_path_json(struct rbuf v, uint32_t strip)
{
	json_t *path = json_array();
	bool first = true;
	uint8_t type, cnt;
	while (rbuf_u8(&v, &type) == 0 && rbuf_u8(&v, &cnt) == 0) {
		json_t *seg = (type == BGP_AS_SEQUENCE) ? path : json_array();
		for (int i = 0; i < cnt; i++) {
			uint32_t asn;
			if (rbuf_u32(&v, &asn))
				break;
			if (first && strip && type == BGP_AS_SEQUENCE && asn == strip) {
				first = false;
				continue;
			}
			first = false;
			json_array_append_new(seg, json_integer(asn));
		}
		if (type == BGP_AS_SET)
			json_array_append_new(path, seg);
		else if (type == BGP_AS_CONFED_SEQUENCE)
			json_array_append_new(path, json_pack("{s:o}", "confed_sequence", seg));
		else if (type == BGP_AS_CONFED_SET)
			json_array_append_new(path, json_pack("{s:o}", "confed_set", seg));
	}
	return path;
}

static void json_as_path(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	uint32_t strip = 0;
	/* Strip only when the path really starts with the ASN (FRR quirk). */
	if (o && o->strip_first_as && v.len >= 6 && v.p[0] == BGP_AS_SEQUENCE && v.p[1] >= 1 &&
	    pw_get32(v.p + 2) == o->strip_first_as)
		strip = o->strip_first_as;
	json_object_set_new(r, "as_path", as_path_json(v, strip));
	if (strip)
		json_object_set_new(r, "as_path_raw", as_path_json(v, 0));
}

static void json_next_hop(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	char buf[PW_ADDRSTRLEN];
	if (o && o->afi != PW_AFI_IPV4 && json_object_get(r, "next_hop"))
		return; /* an IPv6 route keeps the MP_REACH next hop */
	pw_addr_format(PW_AFI_IPV4, v.p, buf, sizeof buf);
	json_object_set_new(r, "next_hop", json_string(buf));
}

static void json_mp_next_hop(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	/* canonical MP form: afi(2) safi(1) nh_len(1) next hop */
	uint16_t afi;
	uint8_t safi, nhl;
	char buf[PW_ADDRSTRLEN];
	if (rbuf_u16(&v, &afi) || rbuf_u8(&v, &safi) || rbuf_u8(&v, &nhl) || rbuf_left(&v) < nhl)
		return;
	const uint8_t *nh = rbuf_cur(&v);
	if (o && o->afi == PW_AFI_IPV4 && afi != 1 && json_object_get(r, "next_hop"))
		return;
	if (nhl == 4)
		pw_addr_format(PW_AFI_IPV4, nh, buf, sizeof buf);
	else if (nhl == 16 || nhl == 32) {
		pw_addr_format(PW_AFI_IPV6, nh, buf, sizeof buf);
		if (nhl == 32) {
			char ll[PW_ADDRSTRLEN];
			pw_addr_format(PW_AFI_IPV6, nh + 16, ll, sizeof ll);
			json_object_set_new(r, "next_hop_link_local", json_string(ll));
		}
	} else
		snprintf(buf, sizeof buf, "(%u-byte next hop)", nhl);
	json_object_set_new(r, "next_hop", json_string(buf));
}

static void json_u32(json_t *r, const char *key, struct rbuf v)
{
	json_object_set_new(r, key, json_integer(pw_get32(v.p)));
}
static void json_med(json_t *r, struct rbuf v, const struct bgp_render_opts *o) { (void)o; json_u32(r, "med", v); }
static void json_local_pref(json_t *r, struct rbuf v, const struct bgp_render_opts *o) { (void)o; json_u32(r, "local_pref", v); }
static void json_otc(json_t *r, struct rbuf v, const struct bgp_render_opts *o) { (void)o; json_u32(r, "only_to_customer", v); }

static void json_atomic(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	(void)v; (void)o;
	json_object_set_new(r, "atomic_aggregate", json_true());
}

static void json_aggregator(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	(void)o;
	char buf[PW_ADDRSTRLEN];
	pw_addr_format(PW_AFI_IPV4, v.p + 4, buf, sizeof buf);
	json_object_set_new(r, "aggregator", json_pack("{s:I,s:s}", "asn", (json_int_t)pw_get32(v.p), "address", buf));
}

static void json_communities(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	(void)o;
	json_t *a = json_array();
	char buf[24];
	for (size_t i = 0; i + 4 <= v.len; i += 4) {
		snprintf(buf, sizeof buf, "%u:%u", pw_get16(v.p + i), pw_get16(v.p + i + 2));
		json_array_append_new(a, json_string(buf));
	}
	json_object_set_new(r, "communities", a);
}

static void json_large_communities(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	(void)o;
	json_t *a = json_array();
	char buf[40];
	for (size_t i = 0; i + 12 <= v.len; i += 12) {
		snprintf(buf, sizeof buf, "%u:%u:%u", pw_get32(v.p + i), pw_get32(v.p + i + 4), pw_get32(v.p + i + 8));
		json_array_append_new(a, json_string(buf));
	}
	json_object_set_new(r, "large_communities", a);
}

/* RFC 4360 / 5668 / 7153: route targets and origins get their usual text
 * form; anything else is shown as 16 hex digits. */
static void ext_community_text(const uint8_t *c, char *buf, size_t n)
{
	uint8_t type = c[0] & 0x3f, sub = c[1];
	const char *kind = sub == 0x02 ? "rt" : sub == 0x03 ? "soo" : NULL;
	if (kind && type == 0x00)
		snprintf(buf, n, "%s:%u:%u", kind, pw_get16(c + 2), pw_get32(c + 4));
	else if (kind && type == 0x01) {
		char a[PW_ADDRSTRLEN];
		pw_addr_format(PW_AFI_IPV4, c + 2, a, sizeof a);
		snprintf(buf, n, "%s:%s:%u", kind, a, pw_get16(c + 6));
	} else if (kind && type == 0x02)
		snprintf(buf, n, "%s:%u:%u", kind, pw_get32(c + 2), pw_get16(c + 6));
	else {
		size_t k = (size_t)snprintf(buf, n, "0x");
		for (int i = 0; i < 8 && k + 2 < n; i++)
			k += (size_t)snprintf(buf + k, n - k, "%02x", c[i]);
	}
}

static void json_ext_communities(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	(void)o;
	json_t *a = json_array();
	char buf[64];
	for (size_t i = 0; i + 8 <= v.len; i += 8) {
		ext_community_text(v.p + i, buf, sizeof buf);
		json_array_append_new(a, json_string(buf));
	}
	json_object_set_new(r, "extended_communities", a);
}

static void json_originator(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	(void)o;
	char buf[PW_ADDRSTRLEN];
	pw_addr_format(PW_AFI_IPV4, v.p, buf, sizeof buf);
	json_object_set_new(r, "originator_id", json_string(buf));
}

static void json_cluster_list(json_t *r, struct rbuf v, const struct bgp_render_opts *o)
{
	(void)o;
	json_t *a = json_array();
	char buf[PW_ADDRSTRLEN];
	for (size_t i = 0; i + 4 <= v.len; i += 4) {
		pw_addr_format(PW_AFI_IPV4, v.p + i, buf, sizeof buf);
		json_array_append_new(a, json_string(buf));
	}
	json_object_set_new(r, "cluster_list", a);
}

/* Indexed by type code. min/max are value lengths. */
static const struct attr_desc attr_table[256] = {
	[BGP_ATTR_ORIGIN] = { "ORIGIN", F_WK, 1, 1, 0, BGP_ATTR_WITHDRAW, check_origin, json_origin },
	[BGP_ATTR_AS_PATH] = { "AS_PATH", F_WK, 0, 65535, 0, BGP_ATTR_WITHDRAW, check_as_path, json_as_path },
	[BGP_ATTR_NEXT_HOP] = { "NEXT_HOP", F_WK, 4, 4, 0, BGP_ATTR_WITHDRAW, NULL, json_next_hop },
	[BGP_ATTR_MED] = { "MULTI_EXIT_DISC", F_ON, 4, 4, 0, BGP_ATTR_WITHDRAW, NULL, json_med },
	[BGP_ATTR_LOCAL_PREF] = { "LOCAL_PREF", F_WK, 4, 4, 0, BGP_ATTR_WITHDRAW, NULL, json_local_pref },
	[BGP_ATTR_ATOMIC_AGGREGATE] = { "ATOMIC_AGGREGATE", F_WK, 0, 0, 0, BGP_ATTR_DISCARD, NULL, json_atomic },
	[BGP_ATTR_AGGREGATOR] = { "AGGREGATOR", F_OT, 8, 8, 0, BGP_ATTR_DISCARD, NULL, json_aggregator },
	[BGP_ATTR_COMMUNITIES] = { "COMMUNITIES", F_OT, 4, 65535, 4, BGP_ATTR_WITHDRAW, NULL, json_communities },
	[BGP_ATTR_ORIGINATOR_ID] = { "ORIGINATOR_ID", F_ON, 4, 4, 0, BGP_ATTR_WITHDRAW, NULL, json_originator },
	[BGP_ATTR_CLUSTER_LIST] = { "CLUSTER_LIST", F_ON, 4, 65535, 4, BGP_ATTR_WITHDRAW, NULL, json_cluster_list },
	[BGP_ATTR_MP_REACH] = { "MP_REACH_NLRI", F_ON, 4, 65535, 0, BGP_ATTR_WITHDRAW, NULL, json_mp_next_hop },
	[BGP_ATTR_MP_UNREACH] = { "MP_UNREACH_NLRI", F_ON, 3, 65535, 0, BGP_ATTR_WITHDRAW, NULL, NULL },
	[BGP_ATTR_EXT_COMMUNITIES] = { "EXTENDED_COMMUNITIES", F_OT, 8, 65535, 8, BGP_ATTR_WITHDRAW, NULL, json_ext_communities },
	[BGP_ATTR_AS4_PATH] = { "AS4_PATH", F_OT, 0, 65535, 0, BGP_ATTR_DISCARD, check_as_path, NULL },
	[BGP_ATTR_AS4_AGGREGATOR] = { "AS4_AGGREGATOR", F_OT, 8, 8, 0, BGP_ATTR_DISCARD, NULL, NULL },
	[BGP_ATTR_LARGE_COMMUNITIES] = { "LARGE_COMMUNITIES", F_OT, 12, 65535, 12, BGP_ATTR_WITHDRAW, NULL, json_large_communities },
	[BGP_ATTR_OTC] = { "ONLY_TO_CUSTOMER", F_OT, 4, 4, 0, BGP_ATTR_WITHDRAW, NULL, json_otc },
};

const char *bgp_attr_name(uint8_t type)
{
	return attr_table[type].name ? attr_table[type].name : "unknown";
}

enum bgp_attr_outcome bgp_attr_judge(uint8_t flags, uint8_t type, struct rbuf v, const char **why)
{
	const struct attr_desc *d = &attr_table[type];
	if (!d->name)
		return BGP_ATTR_KEEP; /* unknown: kept as raw bytes */
	if ((flags & 0xC0) != d->flags) {
		*why = "attribute flags conflict with its type";
		return (enum bgp_attr_outcome)d->on_error;
	}
	if (v.len < d->min || v.len > d->max || (d->mult && v.len % d->mult)) {
		*why = "attribute length out of bounds for its type";
		return (enum bgp_attr_outcome)d->on_error;
	}
	if (d->check && d->check(v)) {
		*why = "attribute value malformed";
		return (enum bgp_attr_outcome)d->on_error;
	}
	return BGP_ATTR_KEEP;
}

int bgp_as_path_check(struct rbuf v, int width, int *n_count)
{
	int n = 0;
	uint8_t type, cnt;
	while (rbuf_left(&v)) {
		if (rbuf_u8(&v, &type) || rbuf_u8(&v, &cnt))
			return -1;
		if (type < BGP_AS_SET || type > BGP_AS_CONFED_SET || cnt == 0)
			return -1;
		if (rbuf_skip(&v, (size_t)cnt * (size_t)width))
			return -1;
		n += type == BGP_AS_SEQUENCE ? cnt : type == BGP_AS_SET ? 1 : 0;
	}
	*n_count = n;
	return 0;
}

size_t bgp_as_path_widen(struct rbuf v, uint8_t *out)
{
	size_t k = 0;
	uint8_t type, cnt;
	while (rbuf_u8(&v, &type) == 0 && rbuf_u8(&v, &cnt) == 0) {
		out[k++] = type;
		out[k++] = cnt;
		for (int i = 0; i < cnt; i++) {
			uint16_t asn;
			if (rbuf_u16(&v, &asn))
				return k;
			pw_put32(out + k, asn);
			k += 4;
		}
	}
	return k;
}

size_t bgp_as_path_merge(struct rbuf as_path, int n_path, struct rbuf as4_path, int n_as4, uint8_t *out)
{
	if (n_path < n_as4) { /* RFC 6793: AS4_PATH ignored */
		memcpy(out, as_path.p, as_path.len);
		return as_path.len;
	}
	int take = n_path - n_as4;
	size_t k = 0;
	uint8_t type, cnt;
	while (take > 0 && rbuf_u8(&as_path, &type) == 0 && rbuf_u8(&as_path, &cnt) == 0) {
		int emit = cnt;
		if (type == BGP_AS_SEQUENCE && cnt > take)
			emit = take;
		out[k++] = type;
		out[k++] = (uint8_t)emit;
		memcpy(out + k, rbuf_cur(&as_path), (size_t)emit * 4);
		k += (size_t)emit * 4;
		rbuf_skip(&as_path, (size_t)cnt * 4);
		if (type == BGP_AS_SEQUENCE)
			take -= emit;
		else if (type == BGP_AS_SET)
			take -= 1;
	}
	memcpy(out + k, as4_path.p, as4_path.len);
	return k + as4_path.len;
}

int bgp_attrs_next(struct rbuf *r, uint8_t *flags, uint8_t *type, struct rbuf *value)
{
	uint16_t len;
	if (rbuf_left(r) == 0)
		return 0;
	if (rbuf_u8(r, flags) || rbuf_u8(r, type) || rbuf_u16(r, &len) || rbuf_sub(r, len, value))
		return 0; /* a canonical set is built by us; a short one just ends */
	return 1;
}

bool bgp_attrs_find(const uint8_t *attrs, size_t len, uint8_t type, struct rbuf *value)
{
	struct rbuf r = rbuf_make(attrs, len);
	uint8_t f, t;
	while (bgp_attrs_next(&r, &f, &t, value))
		if (t == type)
			return true;
	return false;
}

int bgp_attrs_as_path(const uint8_t *attrs, size_t len, uint32_t *out, int max)
{
	struct rbuf v;
	int n = 0;
	uint8_t type, cnt;
	if (!bgp_attrs_find(attrs, len, BGP_ATTR_AS_PATH, &v))
		return 0;
	while (rbuf_u8(&v, &type) == 0 && rbuf_u8(&v, &cnt) == 0)
		for (int i = 0; i < cnt; i++) {
			uint32_t asn;
			if (rbuf_u32(&v, &asn))
				return n;
			if (n < max)
				out[n++] = asn;
		}
	return n;
}

void bgp_attrs_to_json(const uint8_t *attrs, size_t len, const struct bgp_render_opts *o, json_t *route)
{
	json_object_set_new(route, "origin", json_null());
	json_object_set_new(route, "as_path", json_array());
	json_object_set_new(route, "next_hop", json_null());
	json_object_set_new(route, "med", json_null());
	json_object_set_new(route, "local_pref", json_null());
	json_object_set_new(route, "communities", json_array());
	json_object_set_new(route, "large_communities", json_array());
	json_object_set_new(route, "extended_communities", json_array());
	json_object_del(route, "next_hop"); /* so the right family's next hop wins below */
	json_t *unknown = NULL;
	struct rbuf r = rbuf_make(attrs, len), v;
	uint8_t flags, type;
	while (bgp_attrs_next(&r, &flags, &type, &v)) {
		const struct attr_desc *d = &attr_table[type];
		if (d->json) {
			d->json(route, v, o);
			continue;
		}
		if (d->name)
			continue;
		if (!unknown)
			unknown = json_array();
		char *hex = pw_hex(v.p, v.len);
		json_array_append_new(unknown, json_pack("{s:i,s:i,s:s}", "type", type, "flags", flags, "value", hex));
		free(hex);
	}
	if (!json_object_get(route, "next_hop"))
		json_object_set_new(route, "next_hop", json_null());
	if (unknown)
		json_object_set_new(route, "unknown_attributes", unknown);
}
