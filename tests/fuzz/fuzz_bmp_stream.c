/*
 * Fuzz target: a raw BMP byte stream, as a router would send it, through
 * framing (bmp_frame_check), per-message decoding, BGP UPDATE/OPEN/
 * NOTIFICATION decoding, the RIB diff and the JSON renderers (the dump
 * trace) -- the whole path every network byte takes before the store.
 *
 * Built two ways: with libFuzzer (-Dfuzzing=true, clang) for fuzzing runs,
 * and with replay_main.c as an ordinary test that replays the corpus and
 * every crash ever found.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bmp.h"
#include "common/log.h"
#include "ingest.h"
#include "rib.h"

static void trace(void *ctx, json_t *msg)
{
	(void)ctx;
	free(json_dumps(msg, JSON_COMPACT));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum { MAX_MSG = 1 << 16 };
	pw_log_set_level(PW_LOG_ERROR);
	struct rib_config rc = { .resync_timeout_ms = 1000 };
	struct rib *rib = rib_new(&rc);
	struct ingest_session s;
	ingest_init(&s, rib, "fuzz", MAX_MSG);
	s.trace = trace;
	size_t off = 0, len;
	const char *why;
	while (off < size && bmp_frame_check(data + off, size - off, MAX_MSG, &len, &why) == 1) {
		ingest_message(&s, data + off, len, 1000000);
		off += len;
	}
	/* a second session of the same router exercises the resync path */
	rib_tick(rib, 2000000);
	ingest_close(&s, 3000000);
	rib_free(rib);
	return 0;
}
