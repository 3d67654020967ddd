/*
 * Fuzz target: the configuration file (collector/config.c, libyaml) parsed
 * from memory with config_load_mem, as `pathwatch --config` and
 * `check-config` parse a file: collector, routers, api, sites (peers,
 * prefixes, durations, rules), receivers and routes.
 *
 * Checked: bad input only ever gives error lines ("fuzz.yaml:LINE: ...",
 * one count per error), never an exit; no duration is negative; a file with no errors gives a
 * configuration the rest of the program can rely on (values in their
 * ranges, every site named with routers, every route's receiver defined,
 * receiver URLs http(s)).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "config.h"
#include "feed.h"
#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	/* token_file / url_file may name any path: never wait on a terminal */
	if (!freopen("/dev/null", "r", stdin))
		return 0;
	return 0;
}

static bool receiver_defined(const struct pw_config *c, const char *name)
{
	for (size_t j = 0; j < c->notify.n_receivers; j++)
		if (!strcmp(c->notify.receivers[j].name, name))
			return true;
	return false;
}

/* set_duration stores only what it accepted: never a negative time (the
 * result, on x86, of casting an out-of-range double), errors or not. */
static void check_durations(const struct pw_config *c)
{
	for (size_t i = 0; i < c->n_sites; i++) {
		const struct site *s = &c->sites[i];
		FUZZ_CHECK(s->failover_ms >= 0 && s->drill_period_ms >= 0 && s->initial_sync_ms >= 0 &&
			   s->feed_silence_ms >= 0);
		for (int r = 0; r < RULE_COUNT; r++)
			FUZZ_CHECK(s->rules[r].for_ms >= 0 && s->rules[r].hold_ms >= 0);
	}
	for (size_t i = 0; i < c->notify.n_receivers; i++)
		FUZZ_CHECK(c->notify.receivers[i].timeout_ms >= 0);
	for (size_t i = 0; i < c->notify.n_routes; i++)
		FUZZ_CHECK(c->notify.routes[i].group_wait_ms >= 0 && c->notify.routes[i].repeat_ms >= 0);
}

static void check_good(const struct pw_config *c)
{
	struct sockaddr_storage ss;
	char why[160];
	FUZZ_CHECK(feed_parse_listen(c->bmp_listen, &ss, why, sizeof why) == 0);
	FUZZ_CHECK(feed_parse_listen(c->http_listen, &ss, why, sizeof why) == 0);
	FUZZ_CHECK(c->db && *c->db);
	FUZZ_CHECK(c->max_message_bytes >= 4096 && c->max_message_bytes <= 64u << 20);
	FUZZ_CHECK(c->resync_timeout_s >= 1 && c->resync_timeout_s <= 86400);
	enum pw_log_level lvl;
	FUZZ_CHECK(pw_log_parse_level(c->log_level, &lvl) == 0);
	for (size_t i = 0; i < c->n_routers; i++)
		FUZZ_CHECK(c->routers[i].name && *c->routers[i].name);
	for (size_t i = 0; i < c->n_sites; i++) {
		FUZZ_CHECK(c->sites[i].name && c->sites[i].n_routers > 0);
		for (size_t j = 0; j < c->sites[i].n_onprem; j++)
			fuzz_check_prefix(&c->sites[i].onprem[j]);
		for (size_t j = 0; j < c->sites[i].n_azure; j++)
			fuzz_check_prefix(&c->sites[i].azure[j]);
	}
	for (size_t i = 0; i < c->notify.n_receivers; i++) {
		const struct receiver_conf *r = &c->notify.receivers[i];
		FUZZ_CHECK(r->name && r->url);
		FUZZ_CHECK(!strncmp(r->url, "http://", 7) || !strncmp(r->url, "https://", 8));
	}
	for (size_t i = 0; i < c->notify.n_routes; i++)
		FUZZ_CHECK(c->notify.routes[i].receiver && receiver_defined(c, c->notify.routes[i].receiver));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	pw_log_set_level(PW_LOG_ERROR);
	struct pw_config c;
	char errs[4096];
	config_defaults(&c);
	int n = config_load_mem(&c, "fuzz.yaml", data, size, errs, sizeof errs);
	FUZZ_CHECK(n >= 0);
	check_durations(&c);
	if (n == 0) {
		FUZZ_CHECK(errs[0] == 0);
		check_good(&c);
	} else {
		FUZZ_CHECK(strncmp(errs, "fuzz.yaml:", 10) == 0);
	}
	config_free(&c);
	return 0;
}
