/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_loop.h: the host kernel's one event loop (epoll), its timers and the
 * deferred-free queue that stands in for FreeBSD's network epoch.
 *
 * vpc-hostd is single-threaded: control requests, frames and timers all run
 * on this loop, so "inside the epoch" means "inside a loop iteration", and
 * memory handed to os_epoch_defer is freed after the iteration ends.
 */
#ifndef _HOST_LOOP_H_
#define _HOST_LOOP_H_

#include <stdbool.h>
#include <stdint.h>

struct hsrc;
typedef void hsrc_fn(struct hsrc *src, uint32_t events);

struct hsrc {
	int          fd;
	hsrc_fn     *fn;
	void        *arg;
	bool         hup_first;     /* hangups of these run before other events */
	bool         retired;       /* closed: ignore its pending events */
	/* fd is the only reference to its file (never dup'ed, passed or
	 * shared), so close(2) alone takes it out of the epoll set. */
	bool         sole_ref;
	void       (*free_fn)(struct hsrc *);
	struct hsrc *retired_next;
};

int  hloop_init(void);
void hloop_fini(void);
int  hloop_add(struct hsrc *src, uint32_t events);
int  host_loop_fd(void);
/* Free p (malloc'd) once the current batch of events is done. */
void host_defer_free(void *p);
int  hloop_mod(struct hsrc *src, uint32_t events);
/* Stop watching src and free it (free_fn) once the current batch is done. */
void hloop_retire(struct hsrc *src);
/*
 * accept4() for a level-triggered listener that stays idle at the descriptor
 * limit.  Returns the new connection, or -1 when there was nothing to take
 * or the connection was refused: at EMFILE/ENFILE a reserve descriptor is
 * given up to accept it, refuse(fd) tells the client why, and it is closed.
 * Without a reserve, the listener pauses for a moment instead of spinning.
 * Logged once when the limit is hit and once when descriptors are free
 * again; every refusal is counted in host_conn_refused.
 */
int  hloop_accept(struct hsrc *listener, void (*refuse)(int fd));
extern uint64_t host_conn_refused;
/*
 * fn runs once at the end of every wakeup of the loop (after the events of
 * an epoll_wait, and after the timers), so that work the events only marked
 * (records for the upcall reader) goes out in one go rather than one system
 * call per event.  One hook; NULL: none.
 */
void hloop_set_batch_end(void (*fn)(void));
/*
 * Run that hook now, from inside an event: for a source that works through
 * many items in one event (a TAP's frames), so that what its first items
 * raised (a burst's first miss) is not held back until it has read the rest.
 */
void hloop_batch_end_now(void);
/* Run until hloop_stop(); returns 0, or -1 if epoll failed. */
int  hloop_run(void);
void hloop_stop(void);
/* Run the timers that are due (the loop does; tests that drive the core
 * directly call it after moving host_clock_skew_ns). */
void hloop_run_timers(void);
/* Free what os_epoch_defer queued; called between iterations and at exit. */
void hloop_reclaim(void);

#endif
