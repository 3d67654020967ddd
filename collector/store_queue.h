/*
 * store_queue: the queue between the loop (stage ④'s events, turned into
 * ops by store.c) and the store's writer thread (stage ⑤). Internal to
 * store.c.
 *
 * An op is what the writer applies: a route change, an attribute set, a
 * router or peer row, or a generic statement. In the queue, ops are
 * encoded into chunks of bytes: a route op as the difference from the
 * chunk's previous route op (route ids of new keys count up by one, peers
 * and attribute ids repeat, times are microseconds apart), 12 to 16 bytes
 * for a route of a full table instead of the 48 of `struct store_op`; an
 * attribute set's bytes inline. A full table fits in the queue with the
 * memory that a third of it took as structs, so the loop need not pause
 * its feeds while the writer catches up. The writer takes whole chunks
 * (a chunk decodes on its own) and decodes them into `struct store_op`s
 * whose keys and attribute bytes point into the chunks: the chunks live
 * until the batch is committed.
 */
#ifndef PW_STORE_QUEUE_H
#define PW_STORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/prefix.h"
#include "store.h"

enum op_kind { OP_ROUTER, OP_PEER, OP_ATTR, OP_ROUTE, OP_EXEC };

/* Router and peer rows are rare: out of line, owned by the op. */
struct op_router {
	uint32_t id, sessions;
	bool connected, strip_own_as;
	int64_t connected_since, disconnected_since, last_message;
	char *name, *address, *sys_name, *sys_descr, *termination, *counters;
};
struct op_peer {
	uint32_t id, router_id, asn, bgp_id, local_asn;
	uint8_t type, afi;
	bool up;
	uint64_t rd;
	uint8_t addr[16];
	int64_t up_since, down_since;
	char *down_reason, *session_info, *stats;
};

struct store_op {
	uint8_t kind : 4;
	bool group_more : 1; /* the next op belongs to the same transaction */
	/* OP_ROUTE's small fields */
	bool new_key : 1;    /* the route's first op ever: its key is set */
	uint8_t action : 2;  /* enum rib_action */
	uint8_t view : 3;    /* enum bmp_view */
	uint8_t reason : 2;  /* enum rib_reason */
	bool key_v6 : 1;     /* the key is PW_PREFIX_KEY_LEN bytes, else _V4 */
	uint32_t route_id;
	union {
		struct op_router *router; /* owned */
		struct op_peer *peer;     /* owned */
		struct {
			uint64_t id;
			uint32_t len;
			const uint8_t *data; /* borrowed: copied into the queue */
		} attr;
		struct {
			uint32_t peer_id, path_id;
			union { /* only with new_key */
				uint8_t v4[8];     /* PW_PREFIX_KEY_LEN_V4 bytes, in the op: the
						      writer sorts a batch's new keys */
				const uint8_t *v6; /* borrowed, as attr.data */
			} key;
			uint64_t attr_id;
			int64_t time, router_time; /* routes.since is router_time, else time */
		} route;
		struct {
			const char *sql;
			int n;
			struct store_param *p; /* owned, with owned text copies */
		} exec;
	};
};
_Static_assert(sizeof(struct store_op) <= 48, "struct store_op grew");
_Static_assert(BMP_VIEWS <= 8 && RIB_REASON_TREAT_AS_WITHDRAW < 4 && RIB_WITHDRAW < 4 && OP_EXEC < 8,
	       "a route op's bit-field (or its encoding, store_queue.c) is too narrow");

/* A route op's key (new_key only) and its length. */
static inline const uint8_t *op_key(const struct store_op *op, size_t *len)
{
	*len = op->key_v6 ? PW_PREFIX_KEY_LEN : PW_PREFIX_KEY_LEN_V4;
	return op->key_v6 ? op->route.key.v6 : op->route.key.v4;
}

/* A chunk of encoded ops. */
struct opq_chunk {
	struct opq_chunk *next;
	size_t len, cap;
	uint32_t nops;
	bool last_group_more; /* its last op's group continues in the next chunk */
	uint8_t data[];
};

struct opq {
	struct opq_chunk *head, *tail; /* tail is appended to until taken */
	uint64_t nops;
	size_t bytes; /* chunks' allocated sizes */
	/* the encoder's previous route op, in the tail chunk */
	uint32_t prev_route, prev_peer;
	uint64_t prev_attr;
	int64_t prev_time, prev_rtime;
};

/* Appends op (the queue takes its owned pointers; borrowed ones are
 * copied). Returns the bytes allocated for it (0 or a new chunk's size). */
size_t opq_push(struct opq *q, const struct store_op *op);
/* Detaches whole chunks from the front: at least min_ops ops if queued,
 * never ending inside a group. Sets *nops and *bytes to what was taken. */
struct opq_chunk *opq_take(struct opq *q, size_t min_ops, size_t *nops, size_t *bytes);
/* Decodes every op of the chunk list into out (room for all of them). */
void opq_decode(const struct opq_chunk *c, struct store_op *out);
void opq_free_chunks(struct opq_chunk *c);

#endif
