/*
 * store: SQLite persistence (stage ⑤).
 *
 *   rib events --(loop thread: encode an op into the queue)--> writer thread
 *   --(a transaction per batch, or per few batches of a backlog)--> SQLite
 *   (WAL) <-- read-only connections of the HTTP threads (store_query.h)
 *   writer --(a committed transaction's new route keys)--> the prefix index
 *   (store_keys.h: its own thread and file, attached by the readers)
 *
 * The writer thread owns the only write connection. A batch is whatever
 * queued while the previous one committed (bounded by STORE_MAX_BATCH ops);
 * while a backlog waits (a full table), up to four batches share one
 * transaction, and under steady churn a transaction begins at most every
 * 200 ms (store.c: TXN_GATHER_MS). A failed commit (disk full, locked) is
 * rolled back, reported loudly and retried with the same ops: nothing
 * queued is dropped. Durability: WAL with
 * synchronous=NORMAL, so a committed batch survives a crash of the process
 * (it is in the WAL file) but not necessarily a power loss or kernel crash
 * (the WAL is synced at checkpoints, not at every commit); the database is
 * consistent either way.
 * At start-up, store_load rebuilds the RIB from the tables (routers marked
 * disconnected, so their re-dump is diffed, not re-recorded).
 */
#ifndef PW_STORE_H
#define PW_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "rib.h"

struct store;

/* Opens (creating if needed) and migrates the database. NULL on failure
 * with a message in err (size n). */
struct store *store_open(const char *path, char *err, size_t n);
/* Loads routers, peers, attribute sets and routes into an empty RIB. */
int store_load(struct store *st, struct rib *rib, char *err, size_t n);
/* Subscribes to the RIB's events and starts the writer thread. Call it from
 * the thread that drives the RIB (the loop's): that thread stages its route
 * changes (see store_publish). */
void store_start(struct store *st, struct rib *rib);
/* Hands the route changes staged so far to the writer; the rib's thread
 * only. The loop calls it each time before it waits for I/O; the stage also
 * goes by itself when full (256 changes), before any other op of that
 * thread, and in store_flush and store_close called from it. */
void store_publish(struct store *st);
/* Blocks until everything queued so far is committed (from the rib's
 * thread: its stage too). */
void store_flush(struct store *st);
/* Flushes, stops the writer and closes. */
void store_close(struct store *st);

/* Generic write for later stages (alerts, notifications): one statement with
 * parameters, queued in order with the RIB's writes and committed in the
 * same batches. `sql` must be a string literal (it keys a statement cache);
 * text parameters are copied. */
enum store_param_type { SP_NULL, SP_INT, SP_TEXT };
struct store_param {
	enum store_param_type type;
	int64_t i;
	const char *s;
};
#define STORE_MAX_PARAMS 24
static inline struct store_param SP_I(int64_t v) { return (struct store_param){ SP_INT, v, NULL }; }
/* text, or NULL as SQL NULL */
static inline struct store_param SP_T(const char *v) { return (struct store_param){ v ? SP_TEXT : SP_NULL, 0, v }; }
/* a time, 0 as SQL NULL */
static inline struct store_param SP_TIME(int64_t v) { return (struct store_param){ v ? SP_INT : SP_NULL, v, NULL }; }
void store_exec(struct store *st, const char *sql, const struct store_param *params, int n);
/* Several statements committed in one transaction, never split between
 * batches (an alert transition and the notifications it causes). */
struct store_stmt {
	const char *sql;
	const struct store_param *params;
	int n;
};
void store_exec_group(struct store *st, const struct store_stmt *stmts, int n);
/* The write connection, for loading state before store_start only. */
struct sqlite3 *store_load_db(struct store *st);

const char *store_path(const struct store *st);
/* The writer and the readers read the database file (and the readers the
 * prefix index's) through a shared mapping of up to this many bytes:
 * 0x7fff0000, Debian's SQLite's most (its MAX_MMAP_SIZE), the first 2 GB
 * of the file; pages past it, or still in the WAL, are read as before. */
#define STORE_MMAP_SIZE "2147418112"
/* NULL while the path still names the file the store opened; else why not.
 * The writer commits nothing then, and no new reader may open the path:
 * SQLite would map the same WAL index twice in this process under two
 * files, its locks not seeing each other's, and the writer's view of it
 * could be rewritten under it. */
const char *store_file_moved(const struct store *st);
/* changes not yet committed: queued, or new routes' keys for the prefix
 * index (the second count alone: store_index_pending) */
uint64_t store_pending(const struct store *st);
uint64_t store_index_pending(const struct store *st);
uint64_t store_history_rows(const struct store *st); /* committed history rows */
bool store_failing(const struct store *st); /* the last commit failed, or the prefix index's */
/* Committed batches, their total and last commit time (microseconds). */
void store_batch_stats(const struct store *st, uint64_t *batches, uint64_t *total_us, uint64_t *last_us);
/* The queue's bytes: ops encoded into chunks (store_queue.h), from the
 * loop's enqueue until the writer has committed them. */
uint64_t store_queue_bytes(const struct store *st);
/* Queue watermarks, in bytes: feeds pause above the high one and resume
 * below the low one. A full table of a million IPv4 routes takes about
 * 27 MB, so it fits (with room for the writer's batch in flight) and the
 * loop reads it at its own speed; four such
 * tables at once are held at the high watermark (plus the writer's batch,
 * decoded: about STORE_MAX_BATCH ops of 48 bytes, 5 MB), and the writer
 * still has the low watermark's worth to work on while the feeds refill
 * the queue. */
enum { STORE_HIGH_WATER = 30 << 20, STORE_LOW_WATER = 22 << 20 };
/* True when the queue is above its high watermark: feeds stop reading.
 * A true answer arms the drain callback (store_on_drained). */
bool store_backlogged(struct store *st);
/* fn(ctx) is called on the writer thread (so it must be thread-safe, e.g.
 * uv_async_send) once the queue falls below its low watermark after
 * store_backlogged answered true. NULL unregisters; after that returns, fn
 * is not running and will not be called again. */
void store_on_drained(struct store *st, void (*fn)(void *ctx), void *ctx);

#endif
