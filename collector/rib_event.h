/*
 * rib_event: the one event type that stages after the RIB see (store now;
 * rules, live events later). The RIB calls every subscriber synchronously on
 * the loop thread, in order; a subscriber copies what it keeps and must not
 * block (the store queues to its writer thread).
 *
 * Pointers in an event are owned by the RIB and valid only during the call.
 */
#ifndef PW_RIB_EVENT_H
#define PW_RIB_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "bmp.h"
#include "common/prefix.h"

struct rib_router;
struct rib_peer;
struct rib_attrset;

enum rib_event_kind {
	RIB_EV_ROUTER,    /* router created or its state/identity changed */
	RIB_EV_PEER,      /* peer created or its state changed */
	RIB_EV_ATTRSET,   /* a new interned attribute set (written once) */
	RIB_EV_ROUTE,     /* a route changed: announce, change or withdraw */
};

enum rib_action { RIB_ANNOUNCE = 1, RIB_CHANGE = 2, RIB_WITHDRAW = 3 };
enum rib_reason {
	RIB_REASON_NONE = 0,
	RIB_REASON_PEER_DOWN = 1,     /* the peer's session went down */
	RIB_REASON_RESYNC = 2,        /* not re-sent after a reconnect */
	RIB_REASON_TREAT_AS_WITHDRAW = 3, /* RFC 7606 malformed attributes */
};
const char *rib_action_name(enum rib_action a);
const char *rib_reason_name(enum rib_reason r); /* NULL for NONE */

struct rib_route_change {
	const struct rib_peer *peer;
	enum bmp_view view;
	uint32_t route_id;        /* stable per (peer, view, prefix, path id) */
	bool new_key;             /* first time this route id is used */
	struct pw_prefix prefix;
	uint32_t path_id;
	enum rib_action action;
	enum rib_reason reason;
	const struct rib_attrset *attrs; /* new set; for a withdraw, the set withdrawn */
	int64_t time_us;          /* collector receive time */
	int64_t router_time_us;   /* per-peer header time, 0 if none */
};

struct rib_event {
	enum rib_event_kind kind;
	const struct rib_router *router;   /* ROUTER, PEER, ROUTE */
	const struct rib_peer *peer;       /* PEER, ROUTE */
	const struct rib_attrset *attrs;   /* ATTRSET */
	const struct rib_route_change *route; /* ROUTE */
};

typedef void (*rib_event_fn)(void *ctx, const struct rib_event *ev);

#endif
