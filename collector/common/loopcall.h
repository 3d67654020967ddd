/*
 * loopcall: runs a function on the libuv loop thread on behalf of another
 * thread (an HTTP handler) and waits for it. This is how write requests
 * (acknowledge, silence, drill) reach state that the loop owns: a message,
 * never a shared lock on loop data. The loop never blocks, so the wait is
 * short; when the loop shuts down, waiting and later calls fail instead.
 */
#ifndef PW_LOOPCALL_H
#define PW_LOOPCALL_H

#include <uv.h>

struct loopcall;

/* On the loop thread. */
struct loopcall *loopcall_new(uv_loop_t *loop);
/* On the loop thread, at shutdown: fails pending and future calls. */
void loopcall_close(struct loopcall *lc);
/* After the loop ended and no other thread can call any more. */
void loopcall_free(struct loopcall *lc);
/* From any other thread: 0 after fn(arg) ran on the loop, -1 if the loop is
 * shutting down (fn did not run). */
int loopcall_run(struct loopcall *lc, void (*fn)(void *arg), void *arg);

#endif
