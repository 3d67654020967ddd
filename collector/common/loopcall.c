/* loopcall: see loopcall.h. */
#include "loopcall.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"

struct call {
	void (*fn)(void *);
	void *arg;
	int state; /* 0 queued, 1 done, -1 failed */
	struct call *next;
};

struct loopcall {
	uv_async_t async; /* async.data = this */
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct call *head, *tail; /* guarded by lock */
	bool closed;              /* guarded by lock */
};

static void drain(struct loopcall *lc, int state)
{
	for (;;) {
		pthread_mutex_lock(&lc->lock);
		struct call *c = lc->head;
		if (c) {
			lc->head = c->next;
			if (!lc->head)
				lc->tail = NULL;
		}
		pthread_mutex_unlock(&lc->lock);
		if (!c)
			return;
		if (state > 0)
			c->fn(c->arg);
		pthread_mutex_lock(&lc->lock);
		c->state = state;
		pthread_cond_broadcast(&lc->done);
		pthread_mutex_unlock(&lc->lock);
	}
}

static void async_cb(uv_async_t *h) { drain(h->data, 1); }

struct loopcall *loopcall_new(uv_loop_t *loop)
{
	struct loopcall *lc = pw_calloc(1, sizeof *lc);
	pthread_mutex_init(&lc->lock, NULL);
	pthread_cond_init(&lc->done, NULL);
	uv_async_init(loop, &lc->async, async_cb);
	lc->async.data = lc;
	return lc;
}

void loopcall_free(struct loopcall *lc)
{
	if (!lc)
		return;
	pthread_mutex_destroy(&lc->lock);
	pthread_cond_destroy(&lc->done);
	free(lc);
}

void loopcall_close(struct loopcall *lc)
{
	pthread_mutex_lock(&lc->lock);
	lc->closed = true;
	pthread_mutex_unlock(&lc->lock);
	drain(lc, -1);
	uv_close((uv_handle_t *)&lc->async, NULL);
}

int loopcall_run(struct loopcall *lc, void (*fn)(void *arg), void *arg)
{
	struct call c = { fn, arg, 0, NULL };
	pthread_mutex_lock(&lc->lock);
	if (lc->closed) {
		pthread_mutex_unlock(&lc->lock);
		return -1;
	}
	if (lc->tail)
		lc->tail->next = &c;
	else
		lc->head = &c;
	lc->tail = &c;
	uv_async_send(&lc->async);
	while (c.state == 0)
		pthread_cond_wait(&lc->done, &lc->lock);
	pthread_mutex_unlock(&lc->lock);
	return c.state > 0 ? 0 : -1;
}
