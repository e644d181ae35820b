/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_os.h: what the host kernel's OS layer offers the rest of vpc-hostd
 * beyond the core's os_* interface.
 */
#ifndef _HOST_OS_H_
#define _HOST_OS_H_

#include <stdbool.h>
#include <stdint.h>

/* Messages at or below this level are printed (VPC_LOG_*). */
extern int host_log_level;

/*
 * Fault injection for tests: when nonzero, the Nth os_alloc from now fails
 * (and counting stops).  Set through the daemon's test-only op or a fuzzer.
 */
extern uint64_t host_fail_alloc_at;
extern uint64_t host_alloc_calls;
/* Counts an allocation and says whether this one is to fail. */
bool host_fault_alloc(void);

/*
 * Added to os_now_ns(): a test that drives the core directly moves time
 * forward with it (then hloop_run_timers()) instead of sleeping, so what it
 * checks never depends on how fast the machine is.  0 in the daemon.
 */
extern uint64_t host_clock_skew_ns;

/*
 * When set, os_pkt_peek() always answers NULL, as it does on FreeBSD for
 * bytes past an mbuf chain's first buffer: host packets are flat, so this is
 * how tests reach the core's copy-out fallback.  false in the daemon.
 */
extern bool host_pkt_no_peek;

/*
 * os_now_coarse_ns() reads a copy of the coarse clock taken here (the
 * loop does, once a wakeup) instead of the clock, until host_clock_forget().
 */
void host_clock_refresh(void);
void host_clock_forget(void);

#endif
