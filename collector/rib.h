/*
 * rib: the live RIB (stage ④): router -> peer -> view -> prefix (+ path id)
 * -> interned attribute set, and the diff that turns what routers report
 * into history events (rib_event.h).
 *
 *   ingest --(announce/withdraw/peer up/down/EoR)--> [rib] --events--> store, ...
 *
 * Semantics kept here, once, for every feed:
 *  - an announce of an unchanged route writes nothing; a changed one is a
 *    CHANGE; a withdraw of an unknown route is ignored;
 *  - Peer Down withdraws each of the peer's routes with reason peer-down
 *    (repeated Peer Downs, or one for a peer never up, are harmless);
 *  - a router's new session (reconnect, or collector restart) marks its
 *    routes stale; the re-dump clears the mark without history, and what is
 *    still stale at the peer's End-of-RIB for that view and family, or at the
 *    resync deadline, is withdrawn with reason resync.
 *
 * Threading: the loop thread owns everything here. Other threads see the
 * RIB only through the store (SQLite) and the atomic counters below.
 * Ownership: routers and peers live as long as the rib; attribute sets are
 * reference counted by the routes that use them.
 */
#ifndef PW_RIB_H
#define PW_RIB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmp.h"
#include "common/mono.h"
#include "common/prefix.h"
#include "rib_event.h"

struct rib_attrset {
	uint64_t id;       /* store id */
	uint32_t refcnt;   /* routes referencing it (+ temporary refs) */
	uint32_t len;      /* its hash is in the table's tags, not here */
	uint8_t data[];    /* canonical attribute set, see bgp.h */
};

#define RIB_F_STALE 0x01
/* 40 bytes: the RIB holds one per route. The ADD-PATH path id is kept
 * beside the table (rib_table.path_ids), not here: almost every route has
 * path id 0. */
struct rib_route {
	struct rib_attrset *attrs; /* NULL: withdrawn, the slot keeps the route id */
	int64_t since_us;
	uint32_t route_id;         /* 0: empty slot */
	struct pw_prefix prefix;
	uint8_t flags;
};
_Static_assert(sizeof(struct rib_route) == 40, "struct rib_route grew");

/* Routes of one peer and view: the routes themselves in insertion order in
 * chunks (never moved: pointers to them stay valid), and an open-addressing
 * index of (hash, position) over them. Routes are never removed (a
 * withdrawn one keeps its route id), so positions are dense. */
struct rib_slot {
	uint32_t hash;
	uint32_t pos;   /* position + 1; 0: empty */
};
struct rib_table {
	struct rib_slot *index;
	uint32_t cap;   /* index slots: power of two, or 0 */
	uint32_t used;  /* routes (live or withdrawn) */
	uint32_t live;  /* routes with attributes */
	struct rib_route **chunks;
	uint32_t n_chunks;
	uint32_t *path_ids; /* path id by position; NULL while every one is 0 */
	uint32_t path_ids_cap;
};

/* Router-level counters (loop thread writes; exported as JSON/metrics). */
enum rib_counter {
	RC_MESSAGES, RC_BYTES, RC_ROUTE_MONITORING, RC_STATISTICS, RC_PEER_DOWN, RC_PEER_UP,
	RC_INITIATION, RC_TERMINATION, RC_ROUTE_MIRRORING, RC_MIRRORED_MESSAGES, RC_BAD_MESSAGES,
	RC_UPDATE_ERRORS, RC_ATTR_DISCARDED, RC_TREAT_AS_WITHDRAW, RC_OTHER_AFI_SKIPPED,
	RC_ADDPATH_MISMATCH, RC_FRAMING_ERRORS, RC_COUNTERS
};
const char *rib_counter_name(enum rib_counter c);

struct rib_router {
	uint32_t id;
	char *name;          /* sysName, else the address; unique */
	char *address;       /* last connection's remote address */
	char *sys_name, *sys_descr; /* from Initiation, may be NULL */
	char *termination;   /* JSON of the last Termination, or NULL */
	bool connected;
	bool strip_own_as;   /* FRR reports eBGP paths with its own AS prepended */
	uint32_t session;    /* increments on every new BMP session */
	int64_t connected_since_us, disconnected_since_us, last_message_us;
	pw_mono_t session_start;   /* monotonic start of the current session */
	uint32_t synced_session;   /* the session whose initial table completed */
	bool dump_started;         /* a route arrived in this session: Peer Ups after this are late */
	uint64_t counters[RC_COUNTERS];
	bool counters_dirty;
	struct rib_peer **peers;
	uint32_t n_peers, cap_peers;
	struct rib_peer *last_peer; /* look-up cache */
	struct rib *rib;
};

struct rib_peer {
	uint32_t id;
	struct rib_router *router;
	uint8_t type;        /* BMP peer type */
	uint64_t rd;
	uint8_t afi;
	uint8_t addr[16];
	uint32_t asn, bgp_id;
	uint32_t local_asn;  /* the monitored router's AS (its sent OPEN) */
	bool up;
	int64_t up_since_us, down_since_us;
	char *down_reason;   /* JSON, or NULL */
	char *session_info;  /* JSON: local address/ports, both OPENs, info TLVs */
	char *stats;         /* JSON: last Statistics Report counters */
	bool addpath_rx[2], addpath_tx[2]; /* negotiated, IPv4/IPv6 unicast */
	bool as4;
	uint32_t session;    /* router session in which it was last reported */
	uint8_t views_seen;  /* bit per view: reported in this session (exported) */
	uint8_t eor_seen;    /* bit per view: End-of-RIB received in this session */
	bool late_up;        /* came up after the initial dump: no End-of-RIB will come (FRR) */
	bool resyncing;
	pw_mono_t resync_deadline;
	struct rib_table views[BMP_VIEWS];
};

/* Per-router settings from the configuration, by router name. */
struct rib_router_conf {
	const char *name;
	int normalize_as_path; /* -1 auto (FRR detected from sysDescr), 0 no, 1 yes */
};

struct rib_config {
	uint32_t resync_timeout_ms; /* deadline after a reconnect for the re-dump */
	const struct rib_router_conf *routers; /* not owned; outlives the rib */
	size_t n_routers;
};

struct rib {
	struct rib_config cfg;
	struct rib_router **routers;
	uint32_t n_routers, cap_routers;
	struct rib_peer **peers_by_id; /* index = id, may have holes */
	uint32_t cap_peers_by_id;
	/* interned attribute sets */
	struct rib_attrset **attr_slots;
	uint32_t *attr_tags; /* per slot: 0 empty, else the set's hash (attr_tag): probing reads these, not the sets */
	uint32_t attr_cap, attr_used;
	uint32_t next_router_id, next_peer_id, next_route_id;
	uint64_t next_attr_id;
	struct { rib_event_fn fn; void *ctx; } subs[4];
	int n_subs;
	int64_t start_us;              /* when this process started (wall clock) */
	_Atomic uint64_t live_routes;  /* read by the HTTP threads */
	_Atomic uint32_t n_peers_total;
};

struct rib *rib_new(const struct rib_config *cfg);
/* New per-router settings (SIGHUP); each router takes them at its next
 * session. `routers` must outlive the rib, like the first. */
void rib_set_router_conf(struct rib *rib, const struct rib_router_conf *routers, size_t n);
void rib_free(struct rib *rib);
void rib_subscribe(struct rib *rib, rib_event_fn fn, void *ctx);

/* ---- routers ---- */
struct rib_router *rib_router_find(struct rib *rib, const char *name);
/* Starts a BMP session for `name` (creating the router on first sight):
 * marks its routes stale for resync. Returns NULL if a router of that name
 * is already connected (the caller picks another name). */
struct rib_router *rib_router_connect(struct rib *rib, const char *name, const char *address, int64_t now_us);
void rib_router_set_info(struct rib_router *r, const char *sys_name, const char *sys_descr);
void rib_router_terminated(struct rib_router *r, char *termination_json);
void rib_router_disconnect(struct rib_router *r, int64_t now_us);
void rib_router_changed(struct rib_router *r); /* emits RIB_EV_ROUTER */

/* ---- peers ---- */
struct rib_peer *rib_peer_get(struct rib_router *r, const struct bmp_peer_hdr *h);
/* Peer Up. Takes ownership of session_info. */
void rib_peer_up(struct rib_peer *p, char *session_info, int64_t time_us);
/* Peer Down: withdraws every route (reason peer-down). Takes ownership of reason. */
void rib_peer_down(struct rib_peer *p, char *reason_json, int64_t time_us, int64_t router_time_us);
void rib_peer_changed(struct rib_peer *p); /* emits RIB_EV_PEER */
/* Routes arrived for a peer without a Peer Up (Loc-RIB, FRR's own routes). */
void rib_peer_seen(struct rib_peer *p, int64_t time_us);

/* ---- attribute sets ---- */
/* Interns a canonical set; returns it with one reference for the caller. */
struct rib_attrset *rib_attrs_intern(struct rib *rib, const uint8_t *data, uint32_t len);
void rib_attrs_unref(struct rib *rib, struct rib_attrset *a);

/* ---- routes ---- */
void rib_announce(struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx, uint32_t path_id,
		  struct rib_attrset *attrs, int64_t time_us, int64_t router_time_us);
void rib_withdraw(struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx, uint32_t path_id,
		  enum rib_reason reason, int64_t time_us, int64_t router_time_us);
/* A hint, before rib_announce or rib_withdraw of the same route a few
 * prefixes later: starts loading its place in the table's index, so that
 * the cache misses of an UPDATE's prefixes overlap instead of queueing. */
void rib_prefetch(const struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx, uint32_t path_id);
/* End-of-RIB for (view, family): ends the resync of that table. */
void rib_end_of_rib(struct rib_peer *p, enum bmp_view v, uint8_t afi, int64_t time_us);
/* Resync deadlines; call periodically. */
void rib_tick(struct rib *rib, int64_t now_us);
const struct rib_route *rib_lookup(const struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx,
				   uint32_t path_id);
/* The route's slot even when withdrawn (attrs NULL; since_us = withdrawal). */
const struct rib_route *rib_lookup_slot(const struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx,
					uint32_t path_id);
/* A live route for the prefix with any path id (path id 0 first). */
const struct rib_route *rib_lookup_any(const struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx);
/* Calls fn for every live route of a peer's view; stops when fn returns non-zero. */
int rib_walk(const struct rib_peer *p, enum bmp_view v, int (*fn)(void *ctx, const struct rib_route *r), void *ctx);
/* A peer of the router by address (peer types global/RD/local), or NULL. */
struct rib_peer *rib_peer_find(const struct rib_router *r, uint8_t afi, const uint8_t addr[16]);
/* The router's Loc-RIB instance (peer type 3, default distinguisher), or NULL. */
struct rib_peer *rib_peer_loc_rib(const struct rib_router *r);
/* Routes arrived in a view of the peer (marks it exported this session). */
void rib_view_seen(struct rib_peer *p, enum bmp_view v);
/* True once every up peer sent End-of-RIB for each view it reported, or
 * `timeout_ms` after the session started: the initial table is complete.
 * It stays true for the rest of the session: FRR sends End-of-RIB only in
 * its initial dump, not for a peer that comes up later. */
bool rib_router_synced(struct rib_router *r, int64_t timeout_ms);

/* ---- state restored from the store at start-up (no events) ---- */
struct rib_router *rib_load_router(struct rib *rib, uint32_t id, const char *name, const char *address,
				   bool strip_own_as, uint32_t sessions, int64_t disconnected_since_us);
struct rib_peer *rib_load_peer(struct rib_router *r, uint32_t id, const struct bmp_peer_hdr *h,
			       uint32_t local_asn, bool up, int64_t up_since_us, int64_t down_since_us);
struct rib_attrset *rib_load_attrs(struct rib *rib, uint64_t id, const uint8_t *data, uint32_t len);
void rib_load_route(struct rib_peer *p, enum bmp_view v, const struct pw_prefix *pfx, uint32_t path_id,
		    uint32_t route_id, struct rib_attrset *attrs, int64_t since_us);
void rib_load_done(struct rib *rib, uint32_t max_route_id, uint64_t max_attr_id);

#endif
