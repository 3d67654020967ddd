/* ratelimit: see ratelimit.h. */
#include "ratelimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"

enum { RL_SETS = 256, RL_WAYS = 4 };

struct slot {
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint8_t family;   /* 0: free */
	double tokens;
	int64_t last_ms;
};

struct web_ratelimit {
	unsigned rate, burst;
	pthread_mutex_t lock;
	struct slot slots[RL_SETS][RL_WAYS];
};

struct web_ratelimit *web_rl_new(unsigned rate, unsigned burst)
{
	struct web_ratelimit *rl = pw_calloc(1, sizeof *rl);
	rl->rate = rate;
	rl->burst = burst ? burst : rate;
	pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void web_rl_free(struct web_ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static uint8_t client_key(const struct sockaddr *sa, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return AF_INET6;
	}
	return AF_UNSPEC + 1; /* unknown clients share one budget */
}

bool web_rl_take(struct web_ratelimit *rl, const struct sockaddr *client, int64_t now_ms, unsigned *retry_after_s)
{
	if (!rl || !rl->rate)
		return true;
	uint8_t addr[16];
	uint8_t fam = client_key(client, addr);
	uint32_t h = 2166136261u; /* FNV-1a */
	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	pthread_mutex_lock(&rl->lock);
	struct slot *set = rl->slots[h % RL_SETS], *s = NULL, *oldest = &set[0];
	for (int w = 0; w < RL_WAYS; w++) {
		if (set[w].family == fam && !memcmp(set[w].addr, addr, 16)) {
			s = &set[w];
			break;
		}
		if (!oldest->family) /* a free slot is taken first */
			continue;
		if (!set[w].family || set[w].last_ms < oldest->last_ms)
			oldest = &set[w];
	}
	if (!s) { /* a new client (or one evicted): a full bucket */
		s = oldest;
		s->family = fam;
		memcpy(s->addr, addr, 16);
		s->tokens = rl->burst;
		s->last_ms = now_ms;
	}
	if (now_ms > s->last_ms) {
		s->tokens += (double)(now_ms - s->last_ms) * rl->rate / 1000.0;
		if (s->tokens > rl->burst)
			s->tokens = rl->burst;
		s->last_ms = now_ms;
	}
	bool ok = s->tokens >= 1.0;
	if (ok)
		s->tokens -= 1.0;
	else
		*retry_after_s = (unsigned)((1.0 - s->tokens) / rl->rate) + 1;
	pthread_mutex_unlock(&rl->lock);
	return ok;
}
