/*
 * rib: the live RIB and its diff (stage ④). See rib.h for the semantics.
 *
 * Route tables (rib.h) keep the routes densely in chunks and index them
 * with an open-addressing table (linear probing) of (hash, position) keyed
 * by (prefix, path id): 8 bytes per index slot at <= 70 % load instead of a
 * whole route per slot. A withdrawn route keeps its place with attrs =
 * NULL, so its route id (the store's key for its history) is reused when it
 * comes back; routes are therefore never deleted and probing needs no
 * tombstones.
 * Attribute sets are interned in one table for the whole RIB and freed when
 * the last route lets go of them.
 */
#include "rib.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/hash.h"
#include "common/log.h"

const char *rib_action_name(enum rib_action a)
{
	return a == RIB_ANNOUNCE ? "announce" : a == RIB_CHANGE ? "change" : "withdraw";
}

const char *rib_reason_name(enum rib_reason r)
{
	switch (r) {
	case RIB_REASON_PEER_DOWN: return "peer-down";
	case RIB_REASON_RESYNC: return "resync";
	case RIB_REASON_TREAT_AS_WITHDRAW: return "treat-as-withdraw";
	default: return NULL;
	}
}

const char *rib_counter_name(enum rib_counter c)
{
	static const char *const names[RC_COUNTERS] = {
		"messages", "bytes", "route_monitoring", "statistics", "peer_down", "peer_up",
		"initiation", "termination", "route_mirroring", "mirrored_messages", "bad_messages",
		"update_errors", "attributes_discarded", "treat_as_withdraw", "other_afi_skipped",
		"addpath_mismatch", "framing_errors",
	};
	return names[c];
}

static void emit(struct rib *rib, const struct rib_event *ev)
{
	for (int i = 0; i < rib->n_subs; i++)
		rib->subs[i].fn(rib->subs[i].ctx, ev);
}

void rib_subscribe(struct rib *rib, rib_event_fn fn, void *ctx)
{
	pw_require(rib->n_subs < (int)(sizeof rib->subs / sizeof rib->subs[0]));
	rib->subs[rib->n_subs].fn = fn;
	rib->subs[rib->n_subs].ctx = ctx;
	rib->n_subs++;
}

struct rib *rib_new(const struct rib_config *cfg)
{
	struct rib *rib = pw_calloc(1, sizeof *rib);
	rib->cfg = *cfg;
	rib->next_router_id = rib->next_peer_id = rib->next_route_id = 1;
	rib->next_attr_id = 1;
	rib->start_us = pw_wall_us();
	return rib;
}

/* Chunk c holds 64 << c routes up to 4096 (a small table stays small), then
 * 4096 each: FIRST_CHUNKS chunks cover the first SMALL_ROUTES positions. */
enum { CHUNK_MIN_BITS = 6, CHUNK_MAX_BITS = 12, FIRST_CHUNKS = CHUNK_MAX_BITS - CHUNK_MIN_BITS + 1,
       SMALL_ROUTES = ((1 << FIRST_CHUNKS) - 1) << CHUNK_MIN_BITS };

static inline uint32_t chunk_of(uint32_t pos, uint32_t *off)
{
	if (pos < SMALL_ROUTES) {
		uint32_t c = 31 - (uint32_t)__builtin_clz((pos >> CHUNK_MIN_BITS) + 1);
		*off = pos - (((1u << c) - 1) << CHUNK_MIN_BITS);
		return c;
	}
	*off = (pos - SMALL_ROUTES) & ((1u << CHUNK_MAX_BITS) - 1);
	return FIRST_CHUNKS + ((pos - SMALL_ROUTES) >> CHUNK_MAX_BITS);
}

static inline struct rib_route *table_at(const struct rib_table *t, uint32_t pos)
{
	uint32_t off, c = chunk_of(pos, &off);
	return &t->chunks[c][off];
}

static void table_free(struct rib *rib, struct rib_table *t)
{
	for (uint32_t i = 0; i < t->used; i++) {
		struct rib_route *r = table_at(t, i);
		if (r->attrs)
			rib_attrs_unref(rib, r->attrs);
	}
	for (uint32_t c = 0; c < t->n_chunks; c++)
		free(t->chunks[c]);
	free(t->chunks);
	free(t->index);
	free(t->path_ids);
}

void rib_free(struct rib *rib)
{
	if (!rib)
		return;
	for (uint32_t i = 0; i < rib->n_routers; i++) {
		struct rib_router *r = rib->routers[i];
		for (uint32_t j = 0; j < r->n_peers; j++) {
			struct rib_peer *p = r->peers[j];
			for (int v = 0; v < BMP_VIEWS; v++)
				table_free(rib, &p->views[v]);
			free(p->down_reason);
			free(p->session_info);
			free(p->stats);
			free(p);
		}
		free(r->peers);
		free(r->name);
		free(r->address);
		free(r->sys_name);
		free(r->sys_descr);
		free(r->termination);
		free(r);
	}
	free(rib->routers);
	free(rib->peers_by_id);
	for (uint32_t i = 0; i < rib->attr_cap; i++)
		if (rib->attr_tags[i])
			free(rib->attr_slots[i]);
	free(rib->attr_slots);
	free(rib->attr_tags);
	free(rib);
}

/* ---------------------------------------------------------------- hashing */

static uint64_t route_hash(const struct pw_prefix *p, uint32_t path_id)
{
	uint64_t a, b;
	memcpy(&a, p->addr, 8);
	memcpy(&b, p->addr + 8, 8);
	return pw_mix64(a ^ pw_mix64(b ^ ((uint64_t)p->len << 40) ^ ((uint64_t)p->afi << 48) ^ path_id));
}

/* An attribute set's hash: eight bytes a step (a byte-at-a-time FNV took
 * an eighth of the loop's time in a full table), the length folded in. */
static uint32_t bytes_hash(const uint8_t *d, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;
	uint32_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, d + i, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	w = 0;
	memcpy(&w, d + i, n - i);
	return (uint32_t)pw_mix64(h ^ w);
}

static inline uint32_t table_path_id(const struct rib_table *t, uint32_t pos)
{
	return t->path_ids ? t->path_ids[pos] : 0;
}

/* Records the path id of a new position (the array exists from the first
 * non-zero one on, and then covers every position). */
static void table_set_path_id(struct rib_table *t, uint32_t pos, uint32_t path_id)
{
	if (!path_id && !t->path_ids)
		return;
	if (pos >= t->path_ids_cap) {
		uint32_t ncap = t->path_ids_cap ? t->path_ids_cap : 64;
		while (ncap <= pos)
			ncap *= 2;
		t->path_ids = pw_realloc(t->path_ids, (size_t)ncap * sizeof *t->path_ids);
		memset(t->path_ids + t->path_ids_cap, 0, (size_t)(ncap - t->path_ids_cap) * sizeof *t->path_ids);
		t->path_ids_cap = ncap;
	}
	t->path_ids[pos] = path_id;
}

static bool same_key(const struct rib_table *t, uint32_t pos, const struct rib_route *r, const struct pw_prefix *p,
		     uint32_t path_id)
{
	return r->prefix.len == p->len && r->prefix.afi == p->afi && memcmp(r->prefix.addr, p->addr, 16) == 0 &&
	       table_path_id(t, pos) == path_id;
}

/* ----------------------------------------------------------- route tables */

static struct rib_route *table_find(struct rib_table *t, const struct pw_prefix *p, uint32_t path_id)
{
	if (!t->cap)
		return NULL;
	uint32_t mask = t->cap - 1, h = (uint32_t)route_hash(p, path_id);
	for (uint32_t i = h & mask;; i = (i + 1) & mask) {
		const struct rib_slot *sl = &t->index[i];
		if (!sl->pos)
			return NULL;
		if (sl->hash == h) {
			struct rib_route *r = table_at(t, sl->pos - 1);
			if (same_key(t, sl->pos - 1, r, p, path_id))
				return r;
		}
	}
}

static void table_grow(struct rib_table *t)
{
	uint32_t ncap = t->cap ? t->cap * 2 : 64;
	/* malloc + memset, not calloc: calloc's fresh pages are read (the zero
	 * page) before they are written, and each first write is then a
	 * copy-on-write fault with a TLB shoot-down of every thread's CPU */
	struct rib_slot *ns = pw_malloc((size_t)ncap * sizeof *ns);
	memset(ns, 0, (size_t)ncap * sizeof *ns);
	for (uint32_t i = 0; i < t->cap; i++) {
		const struct rib_slot *sl = &t->index[i];
		if (!sl->pos)
			continue;
		uint32_t j = sl->hash & (ncap - 1);
		while (ns[j].pos)
			j = (j + 1) & (ncap - 1);
		ns[j] = *sl;
	}
	free(t->index);
	t->index = ns;
	t->cap = ncap;
}

/* Finds the route, or appends a new one (route_id 0, for the caller to set;
 * `used` counts it already). */
static struct rib_route *table_slot(struct rib_table *t, const struct pw_prefix *p, uint32_t path_id)
{
	if ((uint64_t)(t->used + 1) * 10 > (uint64_t)t->cap * 7)
		table_grow(t);
	uint32_t mask = t->cap - 1, h = (uint32_t)route_hash(p, path_id);
	uint32_t i = h & mask;
	for (;; i = (i + 1) & mask) {
		const struct rib_slot *sl = &t->index[i];
		if (!sl->pos)
			break;
		if (sl->hash == h) {
			struct rib_route *r = table_at(t, sl->pos - 1);
			if (same_key(t, sl->pos - 1, r, p, path_id))
				return r;
		}
	}
	pw_require(t->used < UINT32_MAX - 1);
	uint32_t pos = t->used++, off, c = chunk_of(pos, &off);
	if (c == t->n_chunks) {
		uint32_t n = c < FIRST_CHUNKS ? 1u << (c + CHUNK_MIN_BITS) : 1u << CHUNK_MAX_BITS;
		t->chunks = pw_realloc(t->chunks, (c + 1) * sizeof *t->chunks);
		t->chunks[c] = pw_malloc(n * sizeof **t->chunks);
		t->n_chunks++;
	}
	struct rib_route *r = &t->chunks[c][off];
	memset(r, 0, sizeof *r);
	r->prefix = *p;
	table_set_path_id(t, pos, path_id);
	t->index[i].hash = h;
	t->index[i].pos = pos + 1;
	return r;
}

/* -------------------------------------------------------- attribute sets */

/* A slot's tag: the set's hash (never 0, which marks an empty slot), kept
 * beside the slots rather than in the set. A probe compares tags, which sit
 * 16 to a cache line, and reads a set only when its tag matches: most
 * probes of a new set (a full table's UPDATEs mostly bring new ones) then
 * cost no cache miss each; growing and deleting never read the sets. */
static inline uint32_t attr_tag(uint32_t h) { return h ? h : 1; }

static void attr_insert_slot(struct rib *rib, struct rib_attrset *a, uint32_t tag)
{
	uint32_t mask = rib->attr_cap - 1;
	uint32_t i = tag & mask;
	while (rib->attr_tags[i])
		i = (i + 1) & mask;
	rib->attr_slots[i] = a;
	rib->attr_tags[i] = tag;
}

static void attr_grow(struct rib *rib)
{
	uint32_t ocap = rib->attr_cap;
	struct rib_attrset **old = rib->attr_slots;
	uint32_t *old_tags = rib->attr_tags;
	rib->attr_cap = ocap ? ocap * 2 : 1024;
	rib->attr_slots = pw_malloc(rib->attr_cap * sizeof *rib->attr_slots);
	rib->attr_tags = pw_calloc(rib->attr_cap, sizeof *rib->attr_tags);
	for (uint32_t i = 0; i < ocap; i++)
		if (old_tags[i])
			attr_insert_slot(rib, old[i], old_tags[i]);
	free(old);
	free(old_tags);
}

static struct rib_attrset *attr_new(struct rib *rib, uint64_t id, const uint8_t *data, uint32_t len, uint32_t h)
{
	if ((uint64_t)(rib->attr_used + 1) * 10 > (uint64_t)rib->attr_cap * 7)
		attr_grow(rib);
	/* offsetof, not sizeof: the data starts in the struct's tail padding */
	struct rib_attrset *a = pw_malloc(offsetof(struct rib_attrset, data) + len);
	a->id = id;
	a->refcnt = 0;
	a->len = len;
	memcpy(a->data, data, len);
	attr_insert_slot(rib, a, attr_tag(h));
	rib->attr_used++;
	return a;
}

struct rib_attrset *rib_attrs_intern(struct rib *rib, const uint8_t *data, uint32_t len)
{
	uint32_t h = bytes_hash(data, len);
	if (rib->attr_cap) {
		uint32_t mask = rib->attr_cap - 1, tag = attr_tag(h);
		for (uint32_t i = tag & mask; rib->attr_tags[i]; i = (i + 1) & mask) {
			if (rib->attr_tags[i] != tag)
				continue;
			struct rib_attrset *a = rib->attr_slots[i];
			if (a->len == len && memcmp(a->data, data, len) == 0) {
				a->refcnt++;
				return a;
			}
		}
	}
	struct rib_attrset *a = attr_new(rib, rib->next_attr_id++, data, len, h);
	a->refcnt = 1;
	struct rib_event ev = { .kind = RIB_EV_ATTRSET, .attrs = a };
	emit(rib, &ev);
	return a;
}

void rib_attrs_unref(struct rib *rib, struct rib_attrset *a)
{
	if (pw_fails_assert(a->refcnt > 0))
		return;
	if (--a->refcnt)
		return;
	/* backward-shift deletion keeps probe chains intact */
	uint32_t mask = rib->attr_cap - 1, i = attr_tag(bytes_hash(a->data, a->len)) & mask;
	while (!rib->attr_tags[i] || rib->attr_slots[i] != a)
		i = (i + 1) & mask;
	uint32_t j = i;
	for (;;) {
		rib->attr_tags[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!rib->attr_tags[j])
				goto done;
			uint32_t k = rib->attr_tags[j] & mask;
			/* move j back to i unless its home k lies cyclically in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		rib->attr_slots[i] = rib->attr_slots[j];
		rib->attr_tags[i] = rib->attr_tags[j];
		i = j;
	}
done:
	rib->attr_used--;
	free(a);
}

/* ---------------------------------------------------------------- routers */

struct rib_router *rib_router_find(struct rib *rib, const char *name)
{
	for (uint32_t i = 0; i < rib->n_routers; i++)
		if (strcmp(rib->routers[i]->name, name) == 0)
			return rib->routers[i];
	return NULL;
}

static struct rib_router *router_add(struct rib *rib, uint32_t id, const char *name)
{
	struct rib_router *r = pw_calloc(1, sizeof *r);
	r->id = id;
	r->name = pw_strdup(name);
	r->rib = rib;
	if (rib->n_routers == rib->cap_routers) {
		rib->cap_routers = rib->cap_routers ? rib->cap_routers * 2 : 16;
		rib->routers = pw_realloc(rib->routers, rib->cap_routers * sizeof *rib->routers);
	}
	rib->routers[rib->n_routers++] = r;
	if (id >= rib->next_router_id)
		rib->next_router_id = id + 1;
	return r;
}

void rib_router_changed(struct rib_router *r)
{
	struct rib_event ev = { .kind = RIB_EV_ROUTER, .router = r };
	emit(r->rib, &ev);
	r->counters_dirty = false;
}

static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? pw_strdup(src) : NULL;
}

static void mark_stale(struct rib_peer *p, pw_mono_t deadline)
{
	p->views_seen = p->eor_seen = 0;
	for (int v = 0; v < BMP_VIEWS; v++) {
		struct rib_table *t = &p->views[v];
		for (uint32_t i = 0; i < t->used; i++) {
			struct rib_route *r = table_at(t, i);
			if (r->attrs)
				r->flags |= RIB_F_STALE;
		}
	}
	/* also for a peer without routes: the deadline checks that it was
	 * reported again at all */
	p->resyncing = true;
	p->resync_deadline = deadline;
}

void rib_set_router_conf(struct rib *rib, const struct rib_router_conf *routers, size_t n)
{
	rib->cfg.routers = routers;
	rib->cfg.n_routers = n;
}

/* FRR's BMP reports eBGP paths with its own AS prepended (FRR 8.x): the
 * API shows them normalised unless the configuration says otherwise. */
static void router_apply_conf(struct rib_router *r)
{
	const struct rib_config *cfg = &r->rib->cfg;
	int mode = -1;
	for (size_t i = 0; i < cfg->n_routers; i++)
		if (strcmp(cfg->routers[i].name, r->name) == 0)
			mode = cfg->routers[i].normalize_as_path;
	if (mode >= 0)
		r->strip_own_as = mode;
	else if (r->sys_descr)
		r->strip_own_as = strncmp(r->sys_descr, "FRRouting", 9) == 0;
}

struct rib_router *rib_router_connect(struct rib *rib, const char *name, const char *address, int64_t now_us)
{
	struct rib_router *r = rib_router_find(rib, name);
	if (r && r->connected)
		return NULL;
	if (!r)
		r = router_add(rib, rib->next_router_id, name);
	set_str(&r->address, address);
	r->connected = true;
	r->session++;
	r->connected_since_us = now_us;
	r->last_message_us = now_us;
	r->session_start = pw_mono_now();
	r->dump_started = false;
	free(r->termination);
	r->termination = NULL;
	router_apply_conf(r);
	pw_mono_t deadline = pw_mono_add_ms(pw_mono_now(), rib->cfg.resync_timeout_ms);
	for (uint32_t i = 0; i < r->n_peers; i++)
		mark_stale(r->peers[i], deadline);
	rib_router_changed(r);
	return r;
}

void rib_router_set_info(struct rib_router *r, const char *sys_name, const char *sys_descr)
{
	set_str(&r->sys_name, sys_name);
	set_str(&r->sys_descr, sys_descr);
	router_apply_conf(r);
	rib_router_changed(r);
}

void rib_router_terminated(struct rib_router *r, char *termination_json)
{
	free(r->termination);
	r->termination = termination_json;
	rib_router_changed(r);
}

void rib_router_disconnect(struct rib_router *r, int64_t now_us)
{
	if (!r->connected)
		return;
	r->connected = false;
	r->disconnected_since_us = now_us;
	rib_router_changed(r);
}

/* ------------------------------------------------------------------ peers */

void rib_peer_changed(struct rib_peer *p)
{
	struct rib_event ev = { .kind = RIB_EV_PEER, .router = p->router, .peer = p };
	emit(p->router->rib, &ev);
}

static struct rib_peer *peer_add(struct rib_router *r, uint32_t id, const struct bmp_peer_hdr *h)
{
	struct rib *rib = r->rib;
	struct rib_peer *p = pw_calloc(1, sizeof *p);
	p->id = id;
	p->router = r;
	p->type = h->type;
	p->rd = h->rd;
	p->afi = h->afi;
	memcpy(p->addr, h->addr, 16);
	p->asn = h->asn;
	p->bgp_id = h->bgp_id;
	if (r->n_peers == r->cap_peers) {
		r->cap_peers = r->cap_peers ? r->cap_peers * 2 : 8;
		r->peers = pw_realloc(r->peers, r->cap_peers * sizeof *r->peers);
	}
	r->peers[r->n_peers++] = p;
	if (id >= rib->cap_peers_by_id) {
		uint32_t ncap = rib->cap_peers_by_id ? rib->cap_peers_by_id : 64;
		while (ncap <= id)
			ncap *= 2;
		rib->peers_by_id = pw_realloc(rib->peers_by_id, ncap * sizeof *rib->peers_by_id);
		memset(rib->peers_by_id + rib->cap_peers_by_id, 0,
		       (ncap - rib->cap_peers_by_id) * sizeof *rib->peers_by_id);
		rib->cap_peers_by_id = ncap;
	}
	rib->peers_by_id[id] = p;
	if (id >= rib->next_peer_id)
		rib->next_peer_id = id + 1;
	atomic_fetch_add(&rib->n_peers_total, 1);
	return p;
}

static bool peer_matches(const struct rib_peer *p, const struct bmp_peer_hdr *h)
{
	return p->type == h->type && p->rd == h->rd && p->afi == h->afi && memcmp(p->addr, h->addr, 16) == 0;
}

struct rib_peer *rib_peer_get(struct rib_router *r, const struct bmp_peer_hdr *h)
{
	if (r->last_peer && peer_matches(r->last_peer, h))
		return r->last_peer;
	for (uint32_t i = 0; i < r->n_peers; i++)
		if (peer_matches(r->peers[i], h))
			return r->last_peer = r->peers[i];
	struct rib_peer *p = peer_add(r, r->rib->next_peer_id, h);
	p->session = r->session;
	rib_peer_changed(p);
	return r->last_peer = p;
}

static bool peer_has_routes(const struct rib_peer *p)
{
	for (int v = 0; v < BMP_VIEWS; v++)
		if (p->views[v].live)
			return true;
	return false;
}

void rib_peer_up(struct rib_peer *p, char *session_info, int64_t time_us)
{
	struct rib_router *r = p->router;
	/* A second Peer Up in one session without a Peer Down: the session
	 * restarted behind our back and the routes will be sent again. */
	if (p->session == r->session && p->up && peer_has_routes(p))
		mark_stale(p, pw_mono_add_ms(pw_mono_now(), r->rib->cfg.resync_timeout_ms));
	if (p->session != r->session || !p->up)
		p->views_seen = p->eor_seen = 0;
	p->late_up = r->dump_started;
	p->session = r->session;
	if (!p->up)
		p->up_since_us = time_us;
	p->up = true;
	free(p->session_info);
	p->session_info = session_info;
	free(p->down_reason);
	p->down_reason = NULL;
	rib_peer_changed(p);
}

void rib_peer_seen(struct rib_peer *p, int64_t time_us)
{
	p->session = p->router->session;
	if (!p->up) {
		p->up = true;
		p->up_since_us = time_us;
		rib_peer_changed(p);
	}
}

static void route_event(struct rib_peer *p, enum bmp_view v, struct rib_route *r, uint32_t path_id, bool new_key,
			enum rib_action action, enum rib_reason reason, const struct rib_attrset *attrs,
			int64_t time_us, int64_t router_time_us)
{
	struct rib_route_change ch = {
		.peer = p, .view = v, .route_id = r->route_id, .new_key = new_key, .prefix = r->prefix,
		.path_id = path_id, .action = action, .reason = reason, .attrs = attrs,
		.time_us = time_us, .router_time_us = router_time_us,
	};
	struct rib_event ev = { .kind = RIB_EV_ROUTE, .router = p->router, .peer = p, .route = &ch };
	emit(p->router->rib, &ev);
}

static void route_withdraw(struct rib_peer *p, enum bmp_view v, struct rib_route *r, uint32_t path_id,
			   enum rib_reason reason, int64_t time_us, int64_t router_time_us)
{
	struct rib *rib = p->router->rib;
	struct rib_attrset *old = r->attrs;
	r->attrs = NULL;
	r->flags = 0;
	r->since_us = router_time_us ? router_time_us : time_us;
	p->views[v].live--;
	atomic_fetch_sub(&rib->live_routes, 1);
	route_event(p, v, r, path_id, false, RIB_WITHDRAW, reason, old, time_us, router_time_us);
	rib_attrs_unref(rib, old);
}

/* Withdraws routes of one view (afi 0: every family) that match `stale_only`. */
static void sweep(struct rib_peer *p, enum bmp_view v, uint8_t afi, bool stale_only, enum rib_reason reason,
		  int64_t time_us, int64_t router_time_us)
{
	struct rib_table *t = &p->views[v];
	for (uint32_t i = 0; i < t->used && t->live; i++) {
		struct rib_route *r = table_at(t, i);
		if (!r->attrs || (afi && r->prefix.afi != afi) || (stale_only && !(r->flags & RIB_F_STALE)))
			continue;
		route_withdraw(p, v, r, table_path_id(t, i), reason, time_us, router_time_us);
	}
}

void rib_peer_down(struct rib_peer *p, char *reason_json, int64_t time_us, int64_t router_time_us)
{
	for (int v = 0; v < BMP_VIEWS; v++)
		sweep(p, (enum bmp_view)v, 0, false, RIB_REASON_PEER_DOWN, time_us, router_time_us);
	p->resyncing = false;
	bool was_up = p->up;
	p->up = false;
	p->session = p->router->session;
	if (was_up || !p->down_since_us)
		p->down_since_us = time_us;
	free(p->down_reason);
	p->down_reason = reason_json;
	rib_peer_changed(p);
}

/* ----------------------------------------------------------------- routes */

void rib_prefetch(const struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx, uint32_t path_id)
{
	const struct rib_table *t = &p->views[v];
	if (t->cap)
		__builtin_prefetch(&t->index[(uint32_t)route_hash(pfx, path_id) & (t->cap - 1)]);
}

void rib_announce(struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx, uint32_t path_id,
		  struct rib_attrset *attrs, int64_t time_us, int64_t router_time_us)
{
	struct rib *rib = p->router->rib;
	struct rib_table *t = &p->views[v];
	struct rib_route *r = table_slot(t, pfx, path_id);
	bool new_key = false;
	if (!r->route_id) {
		r->route_id = rib->next_route_id++;
		new_key = true;
	}
	if (r->attrs == attrs) { /* unchanged: no history (a resync re-dump) */
		r->flags &= (uint8_t)~RIB_F_STALE;
		return;
	}
	enum rib_action action = r->attrs ? RIB_CHANGE : RIB_ANNOUNCE;
	struct rib_attrset *old = r->attrs;
	attrs->refcnt++;
	r->attrs = attrs;
	r->flags &= (uint8_t)~RIB_F_STALE;
	r->since_us = router_time_us ? router_time_us : time_us;
	if (!old) {
		t->live++;
		atomic_fetch_add(&rib->live_routes, 1);
	}
	route_event(p, v, r, path_id, new_key, action, RIB_REASON_NONE, attrs, time_us, router_time_us);
	if (old)
		rib_attrs_unref(rib, old);
}

void rib_withdraw(struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx, uint32_t path_id,
		  enum rib_reason reason, int64_t time_us, int64_t router_time_us)
{
	struct rib_route *r = table_find(&p->views[v], pfx, path_id);
	if (!r || !r->attrs)
		return; /* FRR withdraws post-policy routes its policy never let in */
	route_withdraw(p, v, r, path_id, reason, time_us, router_time_us);
}

const struct rib_route *rib_lookup_slot(const struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx,
					uint32_t path_id)
{
	return table_find((struct rib_table *)&p->views[v], pfx, path_id);
}

void rib_view_seen(struct rib_peer *p, enum bmp_view v)
{
	p->views_seen |= (uint8_t)(1u << v);
	p->router->dump_started = true;
}

const struct rib_route *rib_lookup_any(const struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx)
{
	const struct rib_route *r = rib_lookup(p, v, pfx, 0);
	int fam = pfx->afi == PW_AFI_IPV4 ? 0 : 1;
	if (r || !(p->addpath_rx[fam] || p->addpath_tx[fam]))
		return r; /* path ids other than 0 only come with add-path */
	const struct rib_table *t = &p->views[v];
	for (uint32_t i = 0; i < t->used; i++) { /* add-path: any path id */
		const struct rib_route *x = table_at(t, i);
		if (x->attrs && x->prefix.afi == pfx->afi && x->prefix.len == pfx->len &&
		    memcmp(x->prefix.addr, pfx->addr, 16) == 0)
			return x;
	}
	return NULL;
}

int rib_walk(const struct rib_peer *p, enum bmp_view v, int (*fn)(void *ctx, const struct rib_route *r), void *ctx)
{
	const struct rib_table *t = &p->views[v];
	for (uint32_t i = 0; i < t->used; i++) {
		const struct rib_route *r = table_at(t, i);
		if (r->attrs) {
			int rc = fn(ctx, r);
			if (rc)
				return rc;
		}
	}
	return 0;
}

struct rib_peer *rib_peer_find(const struct rib_router *r, uint8_t afi, const uint8_t addr[16])
{
	for (uint32_t i = 0; i < r->n_peers; i++) {
		struct rib_peer *p = r->peers[i];
		if (p->type != BMP_PEER_LOC_RIB && p->afi == afi && memcmp(p->addr, addr, 16) == 0)
			return p;
	}
	return NULL;
}

struct rib_peer *rib_peer_loc_rib(const struct rib_router *r)
{
	for (uint32_t i = 0; i < r->n_peers; i++)
		if (r->peers[i]->type == BMP_PEER_LOC_RIB && r->peers[i]->rd == 0)
			return r->peers[i];
	return NULL;
}

bool rib_router_synced(struct rib_router *r, int64_t timeout_ms)
{
	if (!r->connected)
		return false;
	if (r->synced_session == r->session)
		return true;
	if (pw_mono_ms_since(r->session_start) >= timeout_ms) {
		r->synced_session = r->session;
		return true;
	}
	bool any = false;
	for (uint32_t i = 0; i < r->n_peers; i++) {
		const struct rib_peer *p = r->peers[i];
		static const uint8_t zero[16];
		if (!p->up || p->session != r->session || p->type == BMP_PEER_LOC_RIB || !memcmp(p->addr, zero, 16) ||
		    p->late_up)
			continue; /* no End-of-RIB for these: GoBGP's Loc-RIB, FRR's own routes (peer 0.0.0.0),
				     a peer that came up after the initial dump */
		if (!p->views_seen || (p->views_seen & ~p->eor_seen))
			return false;
		any = true;
	}
	if (any)
		r->synced_session = r->session;
	return any;
}

const struct rib_route *rib_lookup(const struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx,
				   uint32_t path_id)
{
	struct rib_route *r = table_find((struct rib_table *)&p->views[v], pfx, path_id);
	return r && r->attrs ? r : NULL;
}

void rib_end_of_rib(struct rib_peer *p, enum bmp_view v, uint8_t afi, int64_t time_us)
{
	p->views_seen |= (uint8_t)(1u << v);
	p->eor_seen |= (uint8_t)(1u << v);
	if (p->resyncing)
		sweep(p, v, afi, true, RIB_REASON_RESYNC, time_us, 0);
}

void rib_tick(struct rib *rib, int64_t now_us)
{
	pw_mono_t now = pw_mono_now();
	for (uint32_t i = 0; i < rib->n_routers; i++) {
		struct rib_router *r = rib->routers[i];
		if (r->counters_dirty)
			rib_router_changed(r);
		if (!r->connected)
			continue; /* a feed that is gone keeps its routes, stale */
		for (uint32_t j = 0; j < r->n_peers; j++) {
			struct rib_peer *p = r->peers[j];
			if (!p->resyncing || pw_mono_before(now, p->resync_deadline))
				continue;
			for (int v = 0; v < BMP_VIEWS; v++)
				sweep(p, (enum bmp_view)v, 0, true, RIB_REASON_RESYNC, now_us, 0);
			p->resyncing = false;
			if (p->session != r->session && p->up) {
				/* not reported at all in the new session */
				p->up = false;
				p->down_since_us = now_us;
				free(p->down_reason);
				p->down_reason = pw_strdup("{\"reason\":\"not-reported-after-reconnect\"}");
				rib_peer_changed(p);
			}
			PW_INFO("msg=\"resync deadline passed\" router=%s peer_id=%u", r->name, p->id);
		}
	}
}

/* ------------------------------------------------------ loading from store */

struct rib_router *rib_load_router(struct rib *rib, uint32_t id, const char *name, const char *address,
				   bool strip_own_as, uint32_t sessions, int64_t disconnected_since_us)
{
	struct rib_router *r = router_add(rib, id, name);
	r->disconnected_since_us = disconnected_since_us;
	set_str(&r->address, address);
	r->strip_own_as = strip_own_as;
	r->session = sessions;
	return r;
}

struct rib_peer *rib_load_peer(struct rib_router *r, uint32_t id, const struct bmp_peer_hdr *h,
			       uint32_t local_asn, bool up, int64_t up_since_us, int64_t down_since_us)
{
	struct rib_peer *p = peer_add(r, id, h);
	p->local_asn = local_asn;
	p->up = up;
	p->up_since_us = up_since_us;
	p->down_since_us = down_since_us;
	p->session = r->session;
	return p;
}

struct rib_attrset *rib_load_attrs(struct rib *rib, uint64_t id, const uint8_t *data, uint32_t len)
{
	return attr_new(rib, id, data, len, bytes_hash(data, len));
}

void rib_load_route(struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx, uint32_t path_id,
		    uint32_t route_id, struct rib_attrset *attrs, int64_t since_us)
{
	struct rib_table *t = &p->views[v];
	struct rib_route *r = table_slot(t, pfx, path_id);
	if (pw_fails_assert(!r->route_id))
		return;
	r->route_id = route_id;
	r->since_us = since_us;
	if (attrs) {
		attrs->refcnt++;
		r->attrs = attrs;
		t->live++;
		atomic_fetch_add(&p->router->rib->live_routes, 1);
	}
}

void rib_load_done(struct rib *rib, uint32_t max_route_id, uint64_t max_attr_id)
{
	if (max_route_id >= rib->next_route_id)
		rib->next_route_id = max_route_id + 1;
	if (max_attr_id >= rib->next_attr_id)
		rib->next_attr_id = max_attr_id + 1;
	/* attribute sets loaded but not used by any live route */
	for (uint32_t i = 0; i < rib->attr_cap; i++) {
		struct rib_attrset *a = rib->attr_tags[i] ? rib->attr_slots[i] : NULL;
		if (a && a->refcnt == 0) {
			a->refcnt = 1;
			rib_attrs_unref(rib, a);
			i--; /* backward shift may have moved another set here */
		}
	}
}
