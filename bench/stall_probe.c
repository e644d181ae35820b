/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stall_probe: how often this machine's CPUs stop running what is on them,
 * with no other task taking over: the stalls a virtual machine's vCPUs
 * suffer when its host runs something else (steal time, which this
 * hypervisor does not report in /proc/stat) or handles a long exit.
 *
 *   stall_probe SECONDS [MIN_US]
 *
 * One thread pinned to each CPU reads CLOCK_MONOTONIC in a loop for
 * SECONDS.  A gap of at least MIN_US (250) between two reads is a stall
 * when the thread was not switched out meanwhile: its voluntary and
 * involuntary context switches (getrusage RUSAGE_THREAD, read every 1,000
 * reads and after each gap) did not change.  A gap with a switch is
 * another task's turn, counted apart.  Every CPU is busy while it runs, so
 * run it when nothing else is measured.  Prints one JSON object: per CPU
 * the stalls, how many of them >= 1 ms, the longest and the time lost (us).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "now_ns.h"

struct spinner {
	pthread_t th;
	int       cpu;
	uint64_t  secs, min_ns;
	uint64_t  stalls, over_1ms, longest_ns, lost_ns, switched;
};

static long
switches(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (ru.ru_nvcsw + ru.ru_nivcsw);
}

static void *
spin(void *arg)
{
	struct spinner *s = arg;
	cpu_set_t set;
	uint64_t end, last, t, gap;
	long sw, sw_now;
	unsigned n = 0;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		return (NULL);
	sched_yield();                  /* now on that CPU */
	sw = switches();
	last = now_ns();
	end = last + s->secs * 1000000000u;
	while ((t = now_ns()) < end) {
		gap = t - last;
		if (gap >= s->min_ns) {
			sw_now = switches();
			if (sw_now == sw) {
				s->stalls++;
				s->over_1ms += gap >= 1000000u;
				s->lost_ns += gap;
				if (gap > s->longest_ns)
					s->longest_ns = gap;
			} else
				s->switched++;
			sw = sw_now;
			t = now_ns();   /* not the getrusage's time */
		} else if (++n % 1000 == 0) {
			sw = switches();
			t = now_ns();
		}
		last = t;
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct spinner *s;
	uint64_t secs, min_us;
	long i;

	if (argc < 2 || (secs = strtoull(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: stall_probe SECONDS [MIN_US]\n");
		return (2);
	}
	min_us = argc > 2 ? strtoull(argv[2], NULL, 10) : 250;
	if (ncpu < 1 || (s = calloc((size_t)ncpu, sizeof(*s))) == NULL)
		return (1);
	for (i = 0; i < ncpu; i++) {
		s[i].cpu = (int)i;
		s[i].secs = secs;
		s[i].min_ns = min_us * 1000u;
		if (pthread_create(&s[i].th, NULL, spin, &s[i]) != 0)
			return (1);
	}
	for (i = 0; i < ncpu; i++)
		pthread_join(s[i].th, NULL);
	printf("{\"seconds\":%llu,\"min_us\":%llu,\"cpus\":[", (unsigned long long)secs,
	    (unsigned long long)min_us);
	for (i = 0; i < ncpu; i++)
		printf("%s{\"cpu\":%d,\"stalls\":%llu,\"over_1ms\":%llu,\"longest_us\":%.1f,"
		    "\"lost_us\":%.1f,\"switched\":%llu}", i ? "," : "", s[i].cpu,
		    (unsigned long long)s[i].stalls, (unsigned long long)s[i].over_1ms,
		    (double)s[i].longest_ns / 1e3, (double)s[i].lost_ns / 1e3,
		    (unsigned long long)s[i].switched);
	printf("]}\n");
	free(s);
	return (0);
}
