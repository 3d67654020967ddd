/*
 * store_keys: the prefix index (stage ⑤, beside the store writer).
 *
 *   store writer --(after each commit: the new routes' keys)--> keys thread
 *   --(sorted; a transaction per hand-over)--> route_keys in <db>-keys
 *   (a SQLite file of its own, WAL) <-- the API's read-only connections,
 *   which attach it (store_reader_open)
 *
 * route_keys (prefix key, route id) orders the routes by prefix for the
 * API's prefix filters and pages. A full table arrives in the router's
 * order, so its keys go in at random places of a large B-tree: half of the
 * writer's time for four peers' tables, when they were in the database's
 * own file. In a file of their own they are written by a thread of their
 * own, on the other core, while the writer goes on with the routes and
 * their history.
 *
 * The file holds derived data: each key is a routes row's (prefix, id), and
 * routes rows are never deleted and never change prefix. Its `through` is
 * the highest route id up to which every key is committed. The writer hands
 * keys over only once their routes rows are committed (a rolled-back id
 * would be given to another prefix). When the store opens, the keys of
 * routes past `through` are copied from the database (after a crash, or
 * the first start on a database from before this file), and a file that
 * belongs to another database, or to a later state of this one (a backup
 * restored beside it), is emptied and rebuilt. Backups need the database
 * only.
 */
#ifndef PW_STORE_KEYS_H
#define PW_STORE_KEYS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/prefix.h"

struct store_keys;

/* A transaction's new keys, in route id order; start from { 0 }. Packed:
 * a four-peer table's keys are millions of these on their way. */
struct skey_v4 {
	uint32_t id;
	uint8_t key[PW_PREFIX_KEY_LEN_V4];
} __attribute__((packed));
struct skey_v6 {
	uint32_t id;
	uint8_t key[PW_PREFIX_KEY_LEN];
} __attribute__((packed));
struct skey_run {
	struct skey_v4 *v4;
	struct skey_v6 *v6;
	size_t n4, n6, cap4, cap6;
};
/* Room for `more` keys of each family (so that a run grows by what it
 * needs, not by doubling); skey_run_add adds into the room reserved. */
void skey_run_reserve(struct skey_run *r, size_t more4, size_t more6);
void skey_run_add(struct skey_run *r, uint32_t id, const uint8_t *key, size_t len);
void skey_run_free(struct skey_run *r);

/* The index file's name for the database at db_path (malloc'd). */
char *skeys_path(const char *db_path);
/* Attaches `file` to db as `schema` (a name of ours, not the user's): the
 * readers attach the index as "keys", the index attaches the database as
 * "db" to catch up. An SQLite code. */
int skeys_attach(sqlite3 *db, const char *file, const char *schema);
/* Opens (creating if needed) the index of the database at db_path (opened
 * and migrated by the store) and brings it up to date with its routes.
 * NULL on failure, with a message in err. */
struct store_keys *skeys_open(const char *db_path, char *err, size_t n);
void skeys_start(struct store_keys *k);
/* Hands over a committed transaction's keys (r is left empty); blocks
 * while more than SKEYS_MAX_PENDING keys wait for the keys thread, unless
 * its commits fail (then they wait in memory, at most ~10-22 bytes per new
 * route, and the store says it is failing). */
enum { SKEYS_MAX_PENDING = 500000 };
void skeys_push(struct store_keys *k, struct skey_run *r);
/* Keys handed over and not yet committed. */
uint64_t skeys_pending(const struct store_keys *k);
/* The index's commits fail (disk full, damaged file); retried each second. */
bool skeys_failing(const struct store_keys *k);
/* Blocks until every key handed over so far is committed. */
void skeys_sync(struct store_keys *k);
/* Commits what was handed over, stops the thread and closes. */
void skeys_close(struct store_keys *k);

#endif
