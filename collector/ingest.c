/*
 * ingest: one router session's messages -> RIB. See ingest.h.
 */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "bmp.h"
#include "common/check.h"
#include "common/log.h"
#include "common/text.h"

void ingest_init(struct ingest_session *s, struct rib *rib, const char *address, size_t max_msg)
{
	memset(s, 0, sizeof *s);
	s->rib = rib;
	snprintf(s->address, sizeof s->address, "%s", address);
	s->scratch_len = bgp_update_scratch_len(max_msg);
	s->scratch = pw_malloc(s->scratch_len);
}

static const char *rname(const struct ingest_session *s)
{
	return s->router ? s->router->name : s->address;
}

static void peer_text(const struct bmp_peer_hdr *h, char *buf, size_t n)
{
	pw_addr_format(h->afi, h->addr, buf, n);
}

static void count(struct ingest_session *s, enum rib_counter c, uint64_t n)
{
	if (s->router) {
		s->router->counters[c] += n;
		s->router->counters_dirty = true;
	}
}

/* Names the session: forced name, else sysName, else the address. A name
 * already connected from elsewhere gets "@address" so that two routers
 * with one hostname cannot overwrite each other's state. */
static void start_session(struct ingest_session *s, const char *sys_name, int64_t now_us)
{
	char name[320];
	const char *base = s->forced_name ? s->forced_name : sys_name && *sys_name ? sys_name : s->address;
	if (s->router)
		rib_router_disconnect(s->router, now_us);
	snprintf(name, sizeof name, "%s", base);
	struct rib_router *r = rib_router_connect(s->rib, name, s->address, now_us);
	for (int i = 2; !r; i++) {
		if (i == 2)
			snprintf(name, sizeof name, "%s@%s", base, s->address);
		else
			snprintf(name, sizeof name, "%s@%s#%d", base, s->address, i);
		r = rib_router_connect(s->rib, name, s->address, now_us);
		if (r)
			PW_WARN("msg=\"router name already connected; renamed\" name=\"%s\" as=\"%s\"", base, name);
	}
	s->router = r;
	PW_INFO("msg=\"BMP session started\" router=%s address=%s session=%u", r->name, s->address, r->session);
}

static char *tlvs_json(struct rbuf tlvs, char **sys_name, char **sys_descr, bool termination)
{
	json_t *j = json_object(), *strings = json_array(), *other = json_array();
	uint16_t type;
	struct rbuf v;
	int rc;
	while ((rc = bmp_tlv_next(&tlvs, &type, &v)) == 1) {
		if (termination && type == 1 && v.len == 2) {
			static const char *const reasons[] = { "administratively closed", "unspecified",
							       "out of resources", "redundant connection",
							       "permanently administratively closed" };
			uint16_t code = pw_get16(v.p);
			json_object_set_new(j, "reason_code", json_integer(code));
			json_object_set_new(j, "reason", json_string(code < 5 ? reasons[code] : "unknown"));
		} else if (!termination && type == 1) {
			if (sys_descr && !*sys_descr)
				*sys_descr = pw_text_dup(v.p, v.len);
			json_object_set_new(j, "sys_descr", pw_json_text(v.p, v.len));
		} else if (!termination && type == 2) {
			if (sys_name && !*sys_name)
				*sys_name = pw_text_dup(v.p, v.len);
			json_object_set_new(j, "sys_name", pw_json_text(v.p, v.len));
		} else if (type == 0) {
			json_array_append_new(strings, pw_json_text(v.p, v.len));
		} else { /* kept as they came */
			char *hex = pw_hex(v.p, v.len);
			json_array_append_new(other, json_pack("{s:i,s:s}", "type", type, "value", hex));
			free(hex);
		}
	}
	if (json_array_size(strings))
		json_object_set(j, "strings", strings);
	if (json_array_size(other))
		json_object_set(j, "other", other);
	json_decref(strings);
	json_decref(other);
	if (rc < 0)
		json_object_set_new(j, "truncated", json_true());
	char *out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return out;
}

static json_t *trace_base(const struct bmp_msg *m, struct ingest_session *s)
{
	json_t *j = json_pack("{s:s}", "type", bmp_msg_type_name(m->type));
	json_object_set_new(j, "router", json_string(rname(s)));
	if (m->has_peer) {
		char a[PW_ADDRSTRLEN];
		peer_text(&m->peer, a, sizeof a);
		json_object_set_new(j, "peer", json_string(a));
		json_object_set_new(j, "peer_asn", json_integer(m->peer.asn));
		json_object_set_new(j, "view", json_string(bmp_view_name(m->peer.view)));
		json_object_set_new(j, "peer_type", json_integer(m->peer.type));
	}
	return j;
}

static void do_initiation(struct ingest_session *s, const struct bmp_msg *m, int64_t now_us, json_t *tr)
{
	char *sys_name = NULL, *sys_descr = NULL;
	char *info = tlvs_json(m->tlvs, &sys_name, &sys_descr, false);
	start_session(s, sys_name, now_us);
	rib_router_set_info(s->router, sys_name, sys_descr);
	if (tr) {
		json_t *ij = json_loads(info, 0, NULL);
		json_object_set_new(tr, "information", ij ? ij : json_null());
		json_object_set_new(tr, "router", json_string(rname(s)));
	}
	free(info);
	free(sys_name);
	free(sys_descr);
}

static void do_peer_up(struct ingest_session *s, struct rib_peer *p, const struct bmp_msg *m, int64_t now_us,
		       json_t *tr)
{
	struct bgp_open sent, recv;
	json_t *sj = NULL, *rj = NULL;
	const char *why = NULL;
	char pa[PW_ADDRSTRLEN], la[PW_ADDRSTRLEN];
	peer_text(&m->peer, pa, sizeof pa);
	bool ok_s = bgp_open_decode(m->sent_open, &sent, &sj, &why) == 0;
	bool ok_r = bgp_open_decode(m->recv_open, &recv, &rj, &why) == 0;
	if (!ok_s || !ok_r) {
		count(s, RC_BAD_MESSAGES, 1);
		PW_REMOTE(PW_LOG_WARN, "msg=\"peer up OPEN undecodable\" router=%s peer=%s why=\"%s\"", rname(s), pa, why);
	}
	p->local_asn = ok_s ? sent.asn : 0;
	p->as4 = ok_s && ok_r && sent.as4 && recv.as4;
	for (int i = 0; i < 2; i++) {
		/* routes received from the peer carry path ids if the router
		 * said it receives and the peer said it sends; and vice versa */
		p->addpath_rx[i] = ok_s && ok_r && (sent.addpath[i] & BGP_ADDPATH_RECEIVE) &&
				   (recv.addpath[i] & BGP_ADDPATH_SEND);
		p->addpath_tx[i] = ok_s && ok_r && (sent.addpath[i] & BGP_ADDPATH_SEND) &&
				   (recv.addpath[i] & BGP_ADDPATH_RECEIVE);
	}
	pw_addr_format(m->peer.afi, m->local_addr, la, sizeof la);
	json_t *info = json_pack("{s:s,s:i,s:i,s:o,s:o}", "local_address", la, "local_port", m->local_port,
				 "remote_port", m->remote_port, "sent_open", sj ? sj : json_null(),
				 "received_open", rj ? rj : json_null());
	json_t *tl = json_array();
	struct rbuf tlvs = m->tlvs, v;
	uint16_t type;
	while (bmp_tlv_next(&tlvs, &type, &v) == 1)
		json_array_append_new(tl, json_pack("{s:i,s:o}", "type", type, "value", pw_json_text(v.p, v.len)));
	json_object_set_new(info, "information", tl);
	if (tr) {
		json_t *ap = json_object();
		json_object_set_new(ap, "1/1", json_string(p->addpath_rx[0] ? "rx-pathid" : "no"));
		json_object_set_new(ap, "2/1", json_string(p->addpath_rx[1] ? "rx-pathid" : "no"));
		json_object_set_new(tr, "addpath", ap);
		json_object_set_new(tr, "session", json_deep_copy(info));
	}
	char *text = json_dumps(info, JSON_COMPACT);
	json_decref(info);
	p->asn = m->peer.asn;
	p->bgp_id = m->peer.bgp_id;
	rib_peer_up(p, text, now_us);
	PW_INFO("msg=\"peer up\" router=%s peer=%s asn=%u", rname(s), pa, m->peer.asn);
}

static void do_peer_down(struct ingest_session *s, struct rib_peer *p, const struct bmp_msg *m, int64_t now_us,
			 int64_t router_us, json_t *tr)
{
	json_t *j = json_pack("{s:i,s:s}", "code", m->down_reason, "reason", bmp_down_reason_name(m->down_reason));
	const char *why = NULL;
	if (m->down_reason == 1 || m->down_reason == 3) {
		json_t *n = bgp_notification_json(m->down_data, &why);
		json_object_set_new(j, "notification", n ? n : json_null());
	} else if (m->down_reason == 2 && m->down_data.len >= 2) {
		json_object_set_new(j, "fsm_event", json_integer(pw_get16(m->down_data.p)));
	} else if (m->down_data.len) {
		char *hex = pw_hex(m->down_data.p, m->down_data.len);
		json_object_set_new(j, "data", json_string(hex));
		free(hex);
	}
	if (tr)
		json_object_set_new(tr, "down", json_deep_copy(j));
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char pa[PW_ADDRSTRLEN];
	peer_text(&m->peer, pa, sizeof pa);
	PW_INFO("msg=\"peer down\" router=%s peer=%s reason=%s", rname(s), pa, bmp_down_reason_name(m->down_reason));
	rib_peer_down(p, text, now_us, router_us);
}

static void do_stats(struct ingest_session *s, struct rib_peer *p, const struct bmp_msg *m, json_t *tr)
{
	json_t *j = json_object();
	struct rbuf tlvs = m->tlvs, v;
	uint16_t type;
	uint32_t n = 0;
	while (n < m->stats_count && bmp_tlv_next(&tlvs, &type, &v) == 1) {
		n++;
		const char *name = bmp_stat_name(type);
		char key[48];
		json_t *val;
		if (v.len == 4)
			val = json_integer(pw_get32(v.p));
		else if (v.len == 8)
			val = json_integer((json_int_t)(((uint64_t)pw_get32(v.p) << 32) | pw_get32(v.p + 4)));
		else if (v.len == 11) { /* per AFI/SAFI: afi(2) safi(1) gauge(8) */
			snprintf(key, sizeof key, "%s:%u/%u", name ? name : "unknown", pw_get16(v.p), v.p[2]);
			json_object_set_new(j, key, json_integer((json_int_t)(((uint64_t)pw_get32(v.p + 3) << 32) |
									      pw_get32(v.p + 7))));
			continue;
		} else {
			char *hex = pw_hex(v.p, v.len);
			val = json_string(hex);
			free(hex);
		}
		if (name)
			json_object_set_new(j, name, val);
		else {
			snprintf(key, sizeof key, "type-%u", type); /* unknown: kept */
			json_object_set_new(j, key, val);
		}
	}
	if (n < m->stats_count) {
		count(s, RC_BAD_MESSAGES, 1);
		json_object_set_new(j, "truncated", json_true());
	}
	if (tr) {
		json_object_set_new(tr, "count", json_integer(m->stats_count));
		json_object_set_new(tr, "stats", json_deep_copy(j));
	}
	free(p->stats);
	p->stats = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	rib_peer_changed(p);
}

/* A second reader of an NLRI region, AHEAD prefixes in front of the one
 * applied: the RIB starts loading the index slot of each prefix a few
 * prefixes before it is needed (a full table's prefixes land at random
 * places in a 16 MB index: one cache miss each, now overlapping). */
enum { AHEAD = 6 };
struct ahead {
	struct bgp_nlri_set set;
	const struct rib_peer *peer;
	enum bmp_view view;
};

static void ahead_next(struct ahead *a)
{
	struct pw_prefix pfx;
	uint32_t path_id;
	if (bgp_nlri_next(&a->set, &pfx, &path_id))
		rib_prefetch(a->peer, a->view, &pfx, path_id);
}

static void ahead_start(struct ahead *a, const struct rib_peer *p, enum bmp_view v, const struct bgp_nlri_set *set)
{
	a->set = *set;
	a->peer = p;
	a->view = v;
	for (int i = 0; i < AHEAD; i++)
		ahead_next(a);
}

static void trace_prefix(json_t *arr, const struct pw_prefix *pfx, uint32_t path_id, bool addpath)
{
	char buf[PW_PREFIXSTRLEN + 24];
	pw_prefix_format(pfx, buf, sizeof buf);
	if (addpath)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " pathid=%u", path_id);
	json_array_append_new(arr, json_string(buf));
}

static void do_route_monitoring(struct ingest_session *s, struct rib_peer *p, const struct bmp_msg *m,
				int64_t now_us, int64_t router_us, json_t *tr)
{
	char pa[PW_ADDRSTRLEN];
	uint8_t type;
	struct rbuf body;
	const char *why = NULL;
	enum bmp_view view = m->peer.view;
	if (bgp_pdu_split(m->pdu, &type, &body, &why) || type != BGP_UPDATE) {
		count(s, RC_UPDATE_ERRORS, 1);
		peer_text(&m->peer, pa, sizeof pa);
		PW_REMOTE(PW_LOG_WARN, "msg=\"route monitoring without a usable UPDATE\" router=%s peer=%s why=\"%s\"",
			  rname(s), pa, why ? why : "not an UPDATE");
		return;
	}
	struct bgp_update_ctx ctx = { .as2 = m->peer.type != BMP_PEER_LOC_RIB && (m->peer.flags & BMP_PEER_FLAG_A) };
	bool out = view == BMP_VIEW_OUT_PRE || view == BMP_VIEW_OUT_POST;
	for (int i = 0; i < 2; i++)
		ctx.addpath[i] = view == BMP_VIEW_LOCRIB ? false : out ? p->addpath_tx[i] : p->addpath_rx[i];
	struct bgp_update u;
	if (bgp_update_parse(body, &ctx, s->scratch, s->scratch_len, &u, &why)) {
		count(s, RC_UPDATE_ERRORS, 1);
		peer_text(&m->peer, pa, sizeof pa);
		PW_REMOTE(PW_LOG_WARN, "msg=\"UPDATE dropped\" router=%s peer=%s view=%s why=\"%s\"", rname(s), pa,
			  bmp_view_name(view), why);
		if (tr)
			json_object_set_new(tr, "error", json_string(why));
		return;
	}
	if (u.n_discarded || u.treat_as_withdraw) {
		count(s, RC_ATTR_DISCARDED, u.n_discarded);
		count(s, RC_TREAT_AS_WITHDRAW, u.treat_as_withdraw);
		peer_text(&m->peer, pa, sizeof pa);
		PW_REMOTE(PW_LOG_WARN, "msg=\"RFC 7606 malformed attribute\" router=%s peer=%s view=%s outcome=%s why=\"%s\"",
			  rname(s), pa, bmp_view_name(view), u.treat_as_withdraw ? "treat-as-withdraw" : "attribute-discard",
			  u.problem ? u.problem : "");
	}
	count(s, RC_OTHER_AFI_SKIPPED, u.n_other_afi);
	count(s, RC_ADDPATH_MISMATCH, u.addpath_mismatch);
	rib_peer_seen(p, now_us);
	rib_view_seen(p, view);

	json_t *tw = tr ? json_array() : NULL, *ta = tr ? json_array() : NULL;
	struct pw_prefix pfx = { 0 };
	uint32_t path_id;
	struct ahead ah;
	for (int i = 0; i < u.n_withdrawn; i++) {
		enum rib_reason reason = i >= u.taw_from ? RIB_REASON_TREAT_AS_WITHDRAW : RIB_REASON_NONE;
		bool ap = u.withdrawn[i].addpath;
		ahead_start(&ah, p, view, &u.withdrawn[i]);
		while (bgp_nlri_next(&u.withdrawn[i], &pfx, &path_id)) {
			ahead_next(&ah);
			rib_withdraw(p, view, &pfx, path_id, reason, now_us, router_us);
			if (tw)
				trace_prefix(tw, &pfx, path_id, ap);
		}
	}
	if (u.n_announced) {
		struct rib_attrset *a = rib_attrs_intern(s->rib, u.attrs, (uint32_t)u.attrs_len);
		for (int i = 0; i < u.n_announced; i++) {
			bool ap = u.announced[i].addpath;
			ahead_start(&ah, p, view, &u.announced[i]);
			while (bgp_nlri_next(&u.announced[i], &pfx, &path_id)) {
				ahead_next(&ah);
				rib_announce(p, view, &pfx, path_id, a, now_us, router_us);
				if (ta)
					trace_prefix(ta, &pfx, path_id, ap);
			}
		}
		rib_attrs_unref(s->rib, a);
	}
	if (u.eor)
		rib_end_of_rib(p, view, u.eor_afi, now_us);
	if (tr) {
		json_object_set_new(tr, "announced", ta);
		json_object_set_new(tr, "withdrawn", tw);
		json_object_set_new(tr, "eor", json_boolean(u.eor));
		json_object_set_new(tr, "addpath_mismatch", json_boolean(u.addpath_mismatch));
		json_object_set_new(tr, "treat_as_withdraw", json_boolean(u.treat_as_withdraw));
		json_t *attrs = json_object();
		struct bgp_render_opts o = { .afi = pfx.afi ? pfx.afi : PW_AFI_IPV4 };
		bgp_attrs_to_json(u.attrs, u.attrs_len, &o, attrs);
		json_object_set_new(tr, "attributes", attrs);
	}
}

void ingest_message(struct ingest_session *s, const uint8_t *msg, size_t len, int64_t now_us)
{
	struct bmp_msg m;
	const char *why = NULL;
	int rc = bmp_msg_decode(msg, len, &m, &why);
	if (!s->router && !(rc == 0 && m.type == BMP_INITIATION)) {
		/* RFC 7854 wants Initiation first; name the router by address */
		start_session(s, NULL, now_us);
	}
	if (rc) {
		count(s, RC_MESSAGES, 1);
		count(s, RC_BYTES, len);
		count(s, RC_BAD_MESSAGES, 1);
		PW_REMOTE(PW_LOG_WARN, "msg=\"BMP message dropped\" router=%s type=%u why=\"%s\"", rname(s),
			  len > 5 ? msg[5] : 255, why);
		return;
	}
	json_t *tr = s->trace ? trace_base(&m, s) : NULL;
	int64_t router_us = m.has_peer && m.peer.ts_sec ? (int64_t)m.peer.ts_sec * 1000000 + m.peer.ts_usec : 0;
	struct rib_peer *p = m.has_peer && s->router ? rib_peer_get(s->router, &m.peer) : NULL;
	static const enum rib_counter per_type[BMP_MSG_TYPES] = {
		RC_ROUTE_MONITORING, RC_STATISTICS, RC_PEER_DOWN, RC_PEER_UP, RC_INITIATION, RC_TERMINATION,
		RC_ROUTE_MIRRORING,
	};
	switch (m.type) {
	case BMP_INITIATION:
		do_initiation(s, &m, now_us, tr);
		break;
	case BMP_TERMINATION: {
		char *t = tlvs_json(m.tlvs, NULL, NULL, true);
		if (tr) {
			json_t *tj = json_loads(t, 0, NULL);
			json_object_set_new(tr, "information", tj ? tj : json_null());
		}
		PW_INFO("msg=\"BMP termination\" router=%s info=%s", rname(s), t);
		rib_router_terminated(s->router, t);
		break;
	}
	case BMP_PEER_UP:
		do_peer_up(s, p, &m, now_us, tr);
		break;
	case BMP_PEER_DOWN:
		do_peer_down(s, p, &m, now_us, router_us, tr);
		break;
	case BMP_ROUTE_MONITORING:
		do_route_monitoring(s, p, &m, now_us, router_us, tr);
		break;
	case BMP_STATISTICS:
		do_stats(s, p, &m, tr);
		break;
	case BMP_ROUTE_MIRRORING: {
		struct rbuf tlvs = m.tlvs, v;
		uint16_t type;
		while (bmp_tlv_next(&tlvs, &type, &v) == 1)
			if (type == 0)
				count(s, RC_MIRRORED_MESSAGES, 1);
		break;
	}
	}
	/* counted after the switch: an Initiation names the router first */
	count(s, RC_MESSAGES, 1);
	count(s, RC_BYTES, len);
	count(s, per_type[m.type], 1);
	if (s->router)
		s->router->last_message_us = now_us;
	if (tr) {
		s->trace(s->trace_ctx, tr);
		json_decref(tr);
	}
}

void ingest_framing_error(struct ingest_session *s, const char *why)
{
	count(s, RC_FRAMING_ERRORS, 1);
	PW_REMOTE(PW_LOG_WARN, "msg=\"BMP framing error; closing the feed\" router=%s why=\"%s\"", rname(s), why);
}

void ingest_close(struct ingest_session *s, int64_t now_us)
{
	if (s->router) {
		rib_router_disconnect(s->router, now_us);
		PW_INFO("msg=\"BMP session ended\" router=%s", s->router->name);
	}
	s->router = NULL;
	free(s->scratch);
	s->scratch = NULL;
}
