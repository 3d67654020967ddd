/*
 * Unit tests of collector/store_queue.c: ops encoded into chunks between
 * the loop and the store's writer come out exactly as they went in, in
 * order, whatever the mix (full-table routes, churn on random routes,
 * IPv6 keys, ADD-PATH ids, withdraws, attribute sets, statements in
 * groups), however the writer takes them; a group is never split; the
 * byte count the watermarks use goes back to zero.
 */
#include "check_harness.h"
#include "common/prefix.h"
#include "store_queue.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

enum { N = 300000 };
static struct store_op ops[N], out[N];
static uint8_t keys[N][PW_PREFIX_KEY_LEN];
static uint8_t attr_bytes[4096];

/* A mix that exercises every field and both directions of every delta. */
static void make_ops(void)
{
	uint32_t route = 0;
	uint64_t attr = 1;
	int64_t t = 1764000000000000;
	for (int i = 0; i < N; i++) {
		struct store_op *op = &ops[i];
		memset(op, 0, sizeof *op);
		uint64_t r = next();
		int what = (int)(r % 100);
		if (what < 3) { /* an attribute set, up to 4 KB */
			op->kind = OP_ATTR;
			op->attr.id = ++attr;
			op->attr.len = (uint32_t)(next() % (i % 50 == 0 ? sizeof attr_bytes : 64));
			op->attr.data = attr_bytes + next() % (sizeof attr_bytes - op->attr.len + 1);
		} else if (what < 5) { /* a statement; sometimes a group of several */
			int g = (int)(next() % 4);
			for (int j = 0; j <= g && i < N; j++, i++) {
				op = &ops[i];
				memset(op, 0, sizeof *op);
				op->kind = OP_EXEC;
				op->exec.sql = "SELECT 1";
				op->exec.n = j;
				op->exec.p = (struct store_param *)(uintptr_t)(0x1000 + i);
				op->group_more = j < g;
			}
			i--;
		} else {
			op->kind = OP_ROUTE;
			bool full_table = (i / 20000) % 2 == 0;
			op->new_key = full_table || what < 10;
			op->route_id = op->new_key ? ++route : (what == 10 ? UINT32_MAX : (uint32_t)(next() % (route + 1)));
			op->route.peer_id = full_table ? 7 : (uint32_t)(next() % 5);
			op->route.path_id = what < 15 ? (uint32_t)next() : 0;
			op->view = (uint8_t)(next() % 3);
			op->action = (uint8_t)(next() % 3);
			op->reason = (uint8_t)(next() % 4);
			op->key_v6 = what % 7 == 0;
			for (int k = 0; k < PW_PREFIX_KEY_LEN; k++)
				keys[i][k] = (uint8_t)next();
			if (op->new_key && op->key_v6)
				op->route.key.v6 = keys[i];
			else if (op->new_key)
				memcpy(op->route.key.v4, keys[i], PW_PREFIX_KEY_LEN_V4);
			op->route.attr_id = what % 9 == 0 ? 0 : what % 4 == 0 ? (next() % attr) + 1 : attr;
			if (what == 11)
				op->route.attr_id = UINT64_C(1) << 62;
			t += (int64_t)(next() % 2000) - 100;
			op->route.time = t;
			op->route.router_time = what % 5 == 0 ? 0 : t - (int64_t)(next() % 5000000);
		}
	}
}

static void check_same(const struct store_op *a, const struct store_op *b, int i)
{
	bool same = a->kind == b->kind && a->group_more == b->group_more;
	if (same && a->kind == OP_ROUTE) {
		size_t kl, kl2;
		const uint8_t *ka = op_key(a, &kl), *kb = op_key(b, &kl2);
		same = a->new_key == b->new_key && a->action == b->action && a->view == b->view &&
		       a->reason == b->reason && a->key_v6 == b->key_v6 && a->route_id == b->route_id &&
		       a->route.peer_id == b->route.peer_id && a->route.path_id == b->route.path_id &&
		       a->route.attr_id == b->route.attr_id && a->route.time == b->route.time &&
		       a->route.router_time == b->route.router_time &&
		       (!a->new_key || (kl == kl2 && memcmp(ka, kb, kl) == 0));
	} else if (same && a->kind == OP_ATTR) {
		same = a->attr.id == b->attr.id && a->attr.len == b->attr.len &&
		       memcmp(a->attr.data, b->attr.data, a->attr.len) == 0;
	} else if (same) {
		same = a->exec.sql == b->exec.sql && a->exec.n == b->exec.n && a->exec.p == b->exec.p;
	}
	if (!CHECK(same))
		fprintf(stderr, "    op %d (kind %d) differs after the queue\n", i, a->kind);
}

/* Pushes everything in steps while taking in pieces of min_ops, the way
 * the loop and the writer interleave. */
static void round_trip(size_t min_ops, int push_step)
{
	struct opq q = { 0 };
	size_t pushed_bytes = 0, taken_bytes = 0, done = 0;
	int i = 0, failures = check_failures;
	while (done < N) {
		/* a group is pushed whole, as store_exec_group does under the lock */
		for (int j = 0; i < N && (j < push_step || ops[i - 1].group_more); j++, i++)
			pushed_bytes += opq_push(&q, &ops[i]);
		if (i < N && next() % 3 == 0)
			continue; /* the writer is busy: the queue grows */
		size_t n, bytes;
		struct opq_chunk *c = opq_take(&q, min_ops, &n, &bytes);
		if (!c)
			continue;
		opq_decode(c, out);
		for (size_t k = 0; k < n && check_failures == failures; k++)
			check_same(&ops[done + k], &out[k], (int)(done + k));
		if (!CHECK(!out[n - 1].group_more))
			fprintf(stderr, "    a group was split after op %zu\n", done + n - 1);
		done += n;
		taken_bytes += bytes;
		opq_free_chunks(c);
	}
	CHECK_INT(done, ==, N);
	CHECK_INT(q.nops, ==, 0);
	CHECK_INT(q.bytes, ==, 0);
	CHECK_INT(taken_bytes, ==, pushed_bytes);
	CHECK(q.head == NULL && q.tail == NULL);
	CHECK(opq_take(&q, 1, &(size_t){ 0 }, &(size_t){ 0 }) == NULL);
}

/* A full table's route ops are small in the queue: what lets the loop
 * read a whole table without pausing its feed (the watermark is in bytes). */
static void full_table_size(void)
{
	struct opq q = { 0 };
	size_t bytes = 0;
	int64_t t = 1764000000000000;
	for (uint32_t i = 1; i <= 100000; i++) {
		uint8_t key[PW_PREFIX_KEY_LEN_V4] = { 1, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 0, 24 };
		struct store_op op = { .kind = OP_ROUTE, .new_key = true, .route_id = i };
		op.route.peer_id = 3;
		memcpy(op.route.key.v4, key, sizeof key);
		op.route.attr_id = 1000 + i / 4;
		op.route.time = t += 1;
		op.route.router_time = t - 300;
		bytes += opq_push(&q, &op);
	}
	size_t used = 0;
	for (struct opq_chunk *c = q.head; c; c = c->next)
		used += c->len;
	CHECK_INT(used, <=, 100000 * 16);
	CHECK_INT(bytes, ==, q.bytes);
	size_t n, b;
	opq_free_chunks(opq_take(&q, SIZE_MAX, &n, &b));
	CHECK_INT(n, ==, 100000);
	CHECK_INT(b, ==, bytes);
}

int main(void)
{
	for (size_t i = 0; i < sizeof attr_bytes; i++)
		attr_bytes[i] = (uint8_t)next();
	make_ops();
	TEST_SECTION("ops round-trip, taken one chunk at a time");
	round_trip(1, 1000);
	TEST_SECTION("ops round-trip, taken by 100k, pushed by 50k");
	round_trip(100000, 50000);
	TEST_SECTION("ops round-trip, everything at once");
	round_trip(SIZE_MAX, N);
	TEST_SECTION("a full table's route ops take at most 16 bytes each");
	full_table_size();
	return check_report("test-store-queue");
}
