/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * now_ns.h: the bench's C tools' one clock, CLOCK_MONOTONIC in ns: the
 * clock perf record -k CLOCK_MONOTONIC stamps its events with, so that
 * bench/tail.ts can put a probe's times beside them.
 */
#ifndef _BENCH_NOW_NS_H_
#define _BENCH_NOW_NS_H_

#include <stdint.h>
#include <time.h>

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

#endif
