/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_mbuf.c: mbuf pressure.  With net.vpc.debug.mbuf_headroom (INVARIANTS
 * kernels) the mbuf zone is limited to what is in use plus a few, and
 * frames go to hold queues (misses nobody answers) and floods (copies with
 * M_NOWAIT) meanwhile.  Writers block in the zone until held frames are
 * freed (the upcall timeout, shortened here); every frame is accounted
 * for in the switch's counters, nothing panics, the mbufs come back, and
 * the switch works afterwards.
 */
#include "tests.h"
#include "report.h"

#define	MISS_MACS	8
#define	PER_MAC		8
#define	FLOODS		8

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static long
zone_current(void)
{
	return (sysctl_int("vm.uma.mbuf.stats.current"));
}

void
mbuf_pressure(struct dp *d)
{
	uint8_t miss[6] = { 0x02, 0, 0, 0, 0xe, 0 };
	vpc_sw_stats_t st0, st;
	uint64_t fails0, sleeps0, fails, sleeps;
	long timeout, base, r, sent = 0;
	int i, k;

	r = sysctl_int("net.vpc.debug.mbuf_headroom");
	if (r == -ENOENT) {
		note("mbuf: no net.vpc.debug.mbuf_headroom (not an INVARIANTS "
		    "kernel): mbuf pressure not tested");
		return;
	}
	expect("mbuf: net.vpc.debug.mbuf_headroom is off (-1)", r, -1);
	timeout = sysctl_int("net.vpc.upcall.timeout_ms");
	expect("mbuf: net.vpc.upcall.timeout_ms=200", sysctl_set_int(
	    "net.vpc.upcall.timeout_ms", 200), 0);
	msleep(3500);			/* earlier tests' misses expire */
	base = zone_current();
	fails0 = sysctl_u64("vm.uma.mbuf.stats.fails");
	sleeps0 = sysctl_u64("vm.uma.mbuf.limit.sleeps");
	sw_stats(d->swd, &st0);

	expect("mbuf: the mbuf zone limited to what is in use + 4",
	    sysctl_set_int("net.vpc.debug.mbuf_headroom", 4), 0);
	for (k = 0; k < PER_MAC; k++) {
		for (i = 0; i < MISS_MACS; i++) {
			miss[5] = (uint8_t)i;
			if (tap_send(&d->ta, miss, mac_a, (uint8_t)k) == 64)
				sent++;
		}
		if (tap_send(&d->ta, bcast, mac_a, (uint8_t)k) == 64)
			sent++;
	}
	msleep(1000);			/* every request times out */
	fails = sysctl_u64("vm.uma.mbuf.stats.fails");
	sleeps = sysctl_u64("vm.uma.mbuf.limit.sleeps");
	expect("mbuf: the zone's own limit back",
	    sysctl_set_int("net.vpc.debug.mbuf_headroom", -1), 0);
	lput("vpc-init: mbuf: zone allocation failures ");
	lnum((long)(fails - fails0));
	lput(", writers slept ");
	lnum((long)(sleeps - sleeps0));
	lput(" times");
	lflush();
	check("mbuf: every frame was written (writers wait for mbufs)",
	    sent == MISS_MACS * PER_MAC + FLOODS, sent,
	    MISS_MACS * PER_MAC + FLOODS);
	check("mbuf: the limit was hit (allocations failed or slept)",
	    fails > fails0 || sleeps > sleeps0, (long)(fails - fails0), 1);
	sw_stats(d->swd, &st);
#define	D(k)	((long)(st.c[VPC_SWSTAT_##k] - st0.c[VPC_SWSTAT_##k]))
	expect("mbuf: every miss counted", D(MISSES), MISS_MACS * PER_MAC);
	expect("mbuf: each held, or dropped and counted (HELD + HOLD_DROPS + "
	    "LOST)", D(HELD) + D(HOLD_DROPS) + D(LOST), MISS_MACS * PER_MAC);
	expect("mbuf: every held frame dropped on the timeout and counted",
	    D(HELD_DROPPED), D(HELD));
	expect("mbuf: every flood counted", D(FLOODED), FLOODS);
	check("mbuf: each flood copy delivered or counted (TX_LOCAL + DROP_TX)",
	    D(TX_LOCAL) + D(DROP_TX) >= FLOODS, D(TX_LOCAL) + D(DROP_TX),
	    FLOODS);
#undef D
	expect("mbuf: nothing held any more (net.vpc.upcall.held)",
	    (long)sysctl_u64("net.vpc.upcall.held"), 0);
	expect("mbuf: nothing pending (net.vpc.upcall.pending)",
	    (long)sysctl_u64("net.vpc.upcall.pending"), 0);
	r = zone_current();
	check("mbuf: the mbufs came back (vm.uma.mbuf.stats.current)",
	    r <= base + 16, r - base, 0);
	tap_send(&d->ta, mac_b, mac_a, 0x7e);
	check("mbuf: and the switch still switches (A -> B)",
	    tap_expect(&d->tb, mac_b, 0x7e), 0, 1);
	expect("mbuf: net.vpc.upcall.timeout_ms back",
	    sysctl_set_int("net.vpc.upcall.timeout_ms", (int)timeout), 0);
	invariants("mbuf: the core's invariants after it");
}
