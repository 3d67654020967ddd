/*
 * store_queue: ops encoded into chunks between the loop and the store's
 * writer thread (stage ⑤). See store_queue.h.
 *
 * Layout of an op: one byte, kind (3 bits) | group_more << 3; then
 * - OP_ROUTE: new_key << 4 | key_v6 << 5 | action << 6 in that byte; a
 *   second byte view | reason << 3 | same peer << 5 | path id << 6 |
 *   router time << 7; the route id's difference from the previous route
 *   op's (zigzag varint); the peer id if not the same; the path id if not
 *   0; the key's bytes if new; the attribute id as 0 (none) or 1 + the
 *   zigzag of its difference from the previous non-zero one; the time's
 *   difference; the router time's difference from the previous one if not 0.
 * - OP_ATTR: the id and the length (varints), then the bytes.
 * - the others: the struct itself (its owned pointers travel with it).
 * The "previous" values start from 0 in each chunk, so a chunk decodes on
 * its own. These bytes are the loop's own, never a network's: a decoding
 * that does not end at the chunk's end is a programming error.
 */
#include "store_queue.h"

#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/prefix.h"

enum { CHUNK_SIZE = 256 * 1024, OP_MAX_FIXED = 80 };

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static uint64_t get_varint(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	for (int shift = 0;; shift += 7) {
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	*pp = p;
	return v;
}

static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static int64_t get_zigzag(const uint8_t **pp) { return unzigzag(get_varint(pp)); }

/* Room for need more bytes at the tail: a new chunk when the tail is full
 * or was taken. Returns the bytes allocated. */
static size_t reserve(struct opq *q, size_t need)
{
	if (q->tail && q->tail->cap - q->tail->len >= need)
		return 0;
	size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;
	struct opq_chunk *c = pw_malloc(sizeof *c + cap);
	c->next = NULL;
	c->len = 0;
	c->cap = cap;
	c->nops = 0;
	c->last_group_more = false;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->prev_route = q->prev_peer = 0;
	q->prev_attr = 0;
	q->prev_time = q->prev_rtime = 0;
	q->bytes += sizeof *c + cap;
	return sizeof *c + cap;
}

size_t opq_push(struct opq *q, const struct store_op *op)
{
	size_t key_len;
	const uint8_t *key = op_key(op, &key_len);
	size_t need = OP_MAX_FIXED + (op->kind == OP_ATTR ? op->attr.len : op->kind == OP_ROUTE ? key_len : 0);
	size_t added = reserve(q, need);
	struct opq_chunk *c = q->tail;
	uint8_t *p = c->data + c->len;
	uint8_t head = (uint8_t)(op->kind | op->group_more << 3);
	switch (op->kind) {
	case OP_ROUTE: {
		bool same_peer = op->route.peer_id == q->prev_peer;
		*p++ = (uint8_t)(head | op->new_key << 4 | op->key_v6 << 5 | op->action << 6);
		*p++ = (uint8_t)(op->view | op->reason << 3 | same_peer << 5 | (op->route.path_id != 0) << 6 |
				 (op->route.router_time != 0) << 7);
		p = put_varint(p, zigzag((int64_t)op->route_id - (int64_t)q->prev_route));
		q->prev_route = op->route_id;
		if (!same_peer)
			p = put_varint(p, op->route.peer_id);
		q->prev_peer = op->route.peer_id;
		if (op->route.path_id)
			p = put_varint(p, op->route.path_id);
		if (op->new_key) {
			memcpy(p, key, key_len);
			p += key_len;
		}
		if (op->route.attr_id) {
			p = put_varint(p, 1 + zigzag((int64_t)(op->route.attr_id - q->prev_attr)));
			q->prev_attr = op->route.attr_id;
		} else
			*p++ = 0;
		p = put_varint(p, zigzag(op->route.time - q->prev_time));
		q->prev_time = op->route.time;
		if (op->route.router_time) {
			p = put_varint(p, zigzag(op->route.router_time - q->prev_rtime));
			q->prev_rtime = op->route.router_time;
		}
		break;
	}
	case OP_ATTR:
		*p++ = head;
		p = put_varint(p, op->attr.id);
		p = put_varint(p, op->attr.len);
		memcpy(p, op->attr.data, op->attr.len);
		p += op->attr.len;
		break;
	default:
		*p++ = head;
		memcpy(p, op, sizeof *op);
		p += sizeof *op;
		break;
	}
	c->len = (size_t)(p - c->data);
	pw_require(c->len <= c->cap); /* OP_MAX_FIXED bounds every op's fixed part */
	c->nops++;
	c->last_group_more = op->group_more;
	q->nops++;
	return added;
}

struct opq_chunk *opq_take(struct opq *q, size_t min_ops, size_t *nops, size_t *bytes)
{
	struct opq_chunk *first = q->head, *last = NULL;
	*nops = *bytes = 0;
	while (q->head && (*nops < min_ops || last->last_group_more)) {
		last = q->head;
		q->head = last->next;
		*nops += last->nops;
		*bytes += sizeof *last + last->cap;
	}
	if (!last)
		return NULL;
	last->next = NULL;
	if (!q->head)
		q->tail = NULL; /* the next op starts a chunk */
	q->nops -= *nops;
	q->bytes -= *bytes;
	return first;
}

void opq_decode(const struct opq_chunk *c, struct store_op *out)
{
	for (; c; c = c->next) {
		const uint8_t *p = c->data, *end = c->data + c->len;
		uint32_t prev_route = 0, prev_peer = 0;
		uint64_t prev_attr = 0;
		int64_t prev_time = 0, prev_rtime = 0;
		for (uint32_t i = 0; i < c->nops; i++) {
			struct store_op *op = out++;
			uint8_t head = *p++;
			switch (head & 7) {
			case OP_ROUTE: {
				uint8_t b = *p++;
				memset(op, 0, sizeof *op);
				op->kind = OP_ROUTE;
				op->group_more = head >> 3 & 1;
				op->new_key = head >> 4 & 1;
				op->key_v6 = head >> 5 & 1;
				op->action = head >> 6 & 3;
				op->view = b & 7;
				op->reason = b >> 3 & 3;
				prev_route = (uint32_t)((int64_t)prev_route + get_zigzag(&p));
				op->route_id = prev_route;
				if (!(b >> 5 & 1))
					prev_peer = (uint32_t)get_varint(&p);
				op->route.peer_id = prev_peer;
				if (b >> 6 & 1)
					op->route.path_id = (uint32_t)get_varint(&p);
				if (op->new_key && op->key_v6) {
					op->route.key.v6 = p;
					p += PW_PREFIX_KEY_LEN;
				} else if (op->new_key) {
					memcpy(op->route.key.v4, p, PW_PREFIX_KEY_LEN_V4);
					p += PW_PREFIX_KEY_LEN_V4;
				}
				uint64_t a = get_varint(&p);
				if (a) {
					prev_attr += (uint64_t)unzigzag(a - 1);
					op->route.attr_id = prev_attr;
				}
				prev_time += get_zigzag(&p);
				op->route.time = prev_time;
				if (b >> 7) {
					prev_rtime += get_zigzag(&p);
					op->route.router_time = prev_rtime;
				}
				break;
			}
			case OP_ATTR:
				memset(op, 0, sizeof *op);
				op->kind = OP_ATTR;
				op->group_more = head >> 3 & 1;
				op->attr.id = get_varint(&p);
				op->attr.len = (uint32_t)get_varint(&p);
				op->attr.data = p;
				p += op->attr.len;
				break;
			default:
				memcpy(op, p, sizeof *op);
				p += sizeof *op;
				break;
			}
		}
		pw_require(p == end);
	}
}

void opq_free_chunks(struct opq_chunk *c)
{
	while (c) {
		struct opq_chunk *next = c->next;
		free(c);
		c = next;
	}
}
