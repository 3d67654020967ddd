/*
 * bgp_open: OPEN (RFC 4271 4.2, RFC 5492 capabilities, RFC 9072 extended
 * optional parameters) and NOTIFICATION (RFC 4271 4.5) decoding, for the
 * OPENs carried in BMP Peer Up and the NOTIFICATION in Peer Down (stage ③).
 *
 *   OPEN:  version(1) my_as(2) hold_time(2) bgp_id(4) opt_len(1) params
 *          param: type(1) len(1) value   (type 2 = capabilities)
 *          RFC 9072: opt_len 255, first param type 255 -> len(2) params,
 *          each param with a 2-byte length.
 *   capability: code(1) len(1) value
 */
#include "bgp.h"
#include "common/text.h"

#include <stdio.h>
#include <string.h>

static const char *afi_name(uint16_t afi)
{
	return afi == 1 ? "ipv4" : afi == 2 ? "ipv6" : afi == 25 ? "l2vpn" : "other";
}
static const char *safi_name(uint8_t safi)
{
	switch (safi) {
	case 1: return "unicast";
	case 2: return "multicast";
	case 4: return "labeled-unicast";
	case 70: return "evpn";
	case 128: return "vpn";
	case 133: return "flowspec";
	default: return "other";
	}
}

static json_t *afi_safi_json(uint16_t afi, uint8_t safi)
{
	return json_pack("{s:i,s:i,s:s}", "afi", afi, "safi", safi, "family",
			 afi == 1 || afi == 2 ? (safi == 1 ? afi_name(afi) : safi_name(safi)) : "other");
}

static char *hex_of(struct rbuf v) { return pw_hex(v.p, v.len); }

static int fam_index(uint16_t afi, uint8_t safi)
{
	return safi == 1 && afi == 1 ? 0 : safi == 1 && afi == 2 ? 1 : -1;
}

/* One capability: fills `o`, appends its JSON. Returns -1 if malformed. */
static int decode_cap(uint8_t code, struct rbuf v, struct bgp_open *o, json_t *caps)
{
	json_t *c = json_object();
	json_object_set_new(c, "code", json_integer(code));
	const char *name = NULL;
	switch (code) {
	case 1: { /* multiprotocol, RFC 4760 */
		uint16_t afi;
		uint8_t res, safi;
		if (rbuf_u16(&v, &afi) || rbuf_u8(&v, &res) || rbuf_u8(&v, &safi))
			goto bad;
		name = "multiprotocol";
		json_object_set_new(c, "family", afi_safi_json(afi, safi));
		break;
	}
	case 2: name = "route-refresh"; break;
	case 128: name = "route-refresh-old"; break;
	case 70: name = "enhanced-route-refresh"; break;
	case 5: { /* extended next hop, RFC 8950 */
		name = "extended-next-hop";
		json_t *a = json_array();
		json_object_set_new(c, "families", a);
		uint16_t afi, nh_afi, safi;
		while (rbuf_left(&v) && rbuf_u16(&v, &afi) == 0 && rbuf_u16(&v, &safi) == 0 && rbuf_u16(&v, &nh_afi) == 0)
			json_array_append_new(a, json_pack("{s:i,s:i,s:i}", "afi", afi, "safi", safi, "next_hop_afi", nh_afi));
		break;
	}
	case 6: name = "extended-message"; break;
	case 64: { /* graceful restart, RFC 4724 */
		uint16_t ft;
		if (rbuf_u16(&v, &ft))
			goto bad;
		name = "graceful-restart";
		json_object_set_new(c, "restart_state", json_boolean(ft & 0x8000));
		json_object_set_new(c, "notification", json_boolean(ft & 0x4000));
		json_object_set_new(c, "restart_time", json_integer(ft & 0x0fff));
		json_t *a = json_array();
		json_object_set_new(c, "families", a); /* owned by c from here: freed on error */
		uint16_t afi;
		uint8_t safi, fl;
		while (rbuf_left(&v)) {
			if (rbuf_u16(&v, &afi) || rbuf_u8(&v, &safi) || rbuf_u8(&v, &fl))
				goto bad;
			json_t *f = afi_safi_json(afi, safi);
			json_object_set_new(f, "forwarding_preserved", json_boolean(fl & 0x80));
			json_array_append_new(a, f);
		}
		break;
	}
	case 65: { /* 4-octet AS, RFC 6793 */
		uint32_t asn;
		if (rbuf_u32(&v, &asn))
			goto bad;
		name = "4-octet-as";
		o->as4 = true;
		o->asn = asn;
		json_object_set_new(c, "asn", json_integer(asn));
		break;
	}
	case 69: { /* add-path, RFC 7911 */
		name = "add-path";
		json_t *a = json_array();
		json_object_set_new(c, "families", a);
		uint16_t afi;
		uint8_t safi, sr;
		while (rbuf_left(&v)) {
			if (rbuf_u16(&v, &afi) || rbuf_u8(&v, &safi) || rbuf_u8(&v, &sr))
				goto bad;
			int fi = fam_index(afi, safi);
			if (fi >= 0)
				o->addpath[fi] = sr & 3;
			json_t *f = afi_safi_json(afi, safi);
			json_object_set_new(f, "send", json_boolean(sr & BGP_ADDPATH_SEND));
			json_object_set_new(f, "receive", json_boolean(sr & BGP_ADDPATH_RECEIVE));
			json_array_append_new(a, f);
		}
		break;
	}
	case 71: name = "long-lived-graceful-restart"; break;
	case 73: { /* FQDN, draft-walton-bgp-hostname-capability */
		uint8_t hl, dl;
		char host[256], dom[256];
		if (rbuf_u8(&v, &hl) || rbuf_bytes(&v, host, hl))
			goto bad;
		host[hl] = 0;
		dl = 0;
		if (rbuf_u8(&v, &dl) == 0 && rbuf_bytes(&v, dom, dl))
			goto bad;
		dom[dl] = 0;
		name = "hostname";
		json_object_set_new(c, "hostname", pw_json_text(host, hl));
		json_object_set_new(c, "domain", pw_json_text(dom, dl));
		break;
	}
	default:
		name = "unknown";
		break;
	}
	json_object_set_new(c, "name", json_string(name));
	if (strcmp(name, "unknown") == 0 || code == 71) {
		char *hex = hex_of(v);
		json_object_set_new(c, "value", json_string(hex));
		free(hex);
	}
	json_array_append_new(caps, c);
	return 0;
bad:
	json_decref(c);
	return -1;
}

int bgp_open_decode(struct rbuf pdu, struct bgp_open *o, json_t **json, const char **why)
{
	uint8_t type, opt_len;
	uint16_t my_as;
	struct rbuf body, params;
	memset(o, 0, sizeof *o);
	if (json)
		*json = NULL;
	if (bgp_pdu_split(pdu, &type, &body, why))
		return -1;
	if (type != BGP_OPEN) {
		*why = "expected an OPEN message";
		return -1;
	}
	if (rbuf_u8(&body, &o->version) || rbuf_u16(&body, &my_as) || rbuf_u16(&body, &o->hold_time) ||
	    rbuf_u32(&body, &o->bgp_id) || rbuf_u8(&body, &opt_len))
		goto short_open;
	o->asn = my_as;
	bool extended = false;
	if (opt_len == 255 && rbuf_left(&body) >= 3 && rbuf_cur(&body)[0] == 255) {
		uint16_t elen;
		if (rbuf_skip(&body, 1) || rbuf_u16(&body, &elen) || rbuf_sub(&body, elen, &params))
			goto short_open;
		extended = true;
	} else if (rbuf_sub(&body, opt_len, &params))
		goto short_open;

	json_t *caps = json_array();
	while (rbuf_left(&params)) {
		uint8_t ptype, l8;
		uint16_t plen;
		struct rbuf pv;
		if (rbuf_u8(&params, &ptype))
			goto bad_param;
		if (extended) {
			if (rbuf_u16(&params, &plen))
				goto bad_param;
		} else {
			if (rbuf_u8(&params, &l8))
				goto bad_param;
			plen = l8;
		}
		if (rbuf_sub(&params, plen, &pv))
			goto bad_param;
		if (ptype != 2)
			continue; /* only capabilities remain in use */
		while (rbuf_left(&pv)) {
			uint8_t code, clen;
			struct rbuf cv;
			if (rbuf_u8(&pv, &code) || rbuf_u8(&pv, &clen) || rbuf_sub(&pv, clen, &cv) ||
			    decode_cap(code, cv, o, caps))
				goto bad_param;
		}
	}
	if (json) {
		char id[PW_ADDRSTRLEN];
		uint8_t idb[4];
		pw_put32(idb, o->bgp_id);
		pw_addr_format(PW_AFI_IPV4, idb, id, sizeof id);
		*json = json_pack("{s:i,s:I,s:i,s:s,s:o}", "version", o->version, "asn", (json_int_t)o->asn,
				  "hold_time", o->hold_time, "bgp_id", id, "capabilities", caps);
	} else
		json_decref(caps);
	return 0;
bad_param:
	json_decref(caps);
	*why = "OPEN optional parameters malformed";
	return -1;
short_open:
	*why = "OPEN message truncated";
	return -1;
}

/* RFC 4271 6, RFC 4486 (cease subcodes), RFC 7313, RFC 8203 */
const char *bgp_notification_name(uint8_t code, uint8_t subcode)
{
	static const char *const codes[] = { "unknown", "message header error", "OPEN message error",
					     "UPDATE message error", "hold timer expired",
					     "finite state machine error", "cease", "route refresh message error" };
	static const char *const cease[] = { "cease", "maximum number of prefixes reached",
					     "administrative shutdown", "peer de-configured",
					     "administrative reset", "connection rejected",
					     "other configuration change", "connection collision resolution",
					     "out of resources", "hard reset", "BFD down" };
	if (code == 6 && subcode < sizeof cease / sizeof cease[0])
		return cease[subcode];
	return code < sizeof codes / sizeof codes[0] ? codes[code] : "unknown";
}

json_t *bgp_notification_json(struct rbuf pdu, const char **why)
{
	uint8_t type, code, sub;
	struct rbuf body;
	if (bgp_pdu_split(pdu, &type, &body, why))
		return NULL;
	if (type != BGP_NOTIFICATION) {
		*why = "expected a NOTIFICATION message";
		return NULL;
	}
	if (rbuf_u8(&body, &code) || rbuf_u8(&body, &sub)) {
		*why = "NOTIFICATION truncated";
		return NULL;
	}
	struct rbuf data = rbuf_rest(&body);
	json_t *j = json_pack("{s:i,s:i,s:s}", "code", code, "subcode", sub, "name", bgp_notification_name(code, sub));
	/* RFC 8203/9003: shutdown communication, a length-prefixed UTF-8 text */
	if (code == 6 && (sub == 2 || sub == 4) && data.len >= 1 && data.p[0] + 1u <= data.len)
		json_object_set_new(j, "message", pw_json_text(data.p + 1, data.p[0]));
	char *hex = hex_of(data);
	json_object_set_new(j, "data", json_string(hex));
	free(hex);
	return j;
}
