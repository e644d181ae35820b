/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_race.c: "ifconfig vmnicN destroy" from one process racing vpc_ctl
 * DESTROY of the same vmnic from another, 1,000 times.  The ioctl may see
 * EBUSY (the object lives), ENXIO (the interface is gone, or unlinked by
 * os_nic_detach() right now), or 0 (it came in after the core marked the
 * softc detaching, and tore the interface down for it); DESTROY always
 * succeeds; nothing panics, nothing leaks, no vmnic is left behind.
 */
#include "tests.h"
#include "report.h"

#define	RACE_ROUNDS	1000

struct race {
	volatile uint32_t	gen;		/* a new vmnic to shoot at */
	volatile uint32_t	stop;
	char			name[16];
	volatile uint32_t	attempts;	/* ioctls made, all told */
	volatile uint32_t	busy, gone, won, other;
	volatile int32_t	other_errno;
};

static void
racer(struct race *r, long sock)
{
	uint32_t seen = 0;
	char name[16];
	long e;

	while (!r->stop) {
		if (r->gen == seen) {
			sc3(SYS_sched_yield, 0, 0, 0);
			continue;
		}
		seen = r->gen;
		memcpy(name, (const void *)r->name, sizeof(name));
		while (r->gen == seen && !r->stop) {
			e = if_destroy(sock, name);
			r->attempts++;
			if (e == -EBUSY)
				r->busy++;
			else if (e == -ENXIO)
				r->gone++;
			else if (e == 0)
				r->won++;
			else {
				r->other++;
				r->other_errno = (int32_t)e;
			}
			if (e != -EBUSY)
				break;
		}
	}
	sc3(SYS_exit, 0, 0, 0);
}

static void
wait_attempt(struct race *r)
{
	uint32_t a0 = r->attempts;
	int n;

	for (n = 0; n < 2000 && r->attempts == a0; n++) {
		sc3(SYS_sched_yield, 0, 0, 0);
		if (n > 100)
			msleep(1);
	}
}

void
destroy_race(long sock)
{
	vpc_id_t id = mkid(80);
	struct race *r;
	char name[VPC_IFNAMSIZ];
	uint64_t objects0, allocs0;
	long pid, h, e;
	int i, created = 0, destroyed = 0, status;

	r = (struct race *)sc6(SYS_mmap, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANON, -1, 0);
	check("race: shared memory", (long)r > 0, (long)r, 1);
	if ((long)r <= 0)
		return;
	memset(r, 0, sizeof(*r));
	objects0 = sysctl_u64("net.vpc.objects");
	allocs0 = sysctl_u64("net.vpc.mem_allocs");
	pid = sc3(SYS_fork, 0, 0, 0);
	if (pid == 0)
		racer(r, sock);
	check("race: the ifconfig-destroy process", pid > 0, pid, 1);
	for (i = 0; pid > 0 && i < RACE_ROUNDS; i++) {
		h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
		if (h < 0)
			break;
		created++;
		if (nic_ifname(h, name) == 0) {
			memcpy(r->name, name, 16);
			r->gen++;
		}
		/*
		 * Even rounds: let the racer shoot at the live vmnic first (on
		 * one CPU it may otherwise never run in time); odd rounds:
		 * DESTROY at once, racing whatever it is doing.
		 */
		if ((i & 1) == 0)
			wait_attempt(r);
		if (destroy(h) == 0)
			destroyed++;
		sc3(SYS_close, h, 0, 0);
	}
	r->stop = 1;
	if (pid > 0)
		sc6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0);
	lput("vpc-init: race: ioctl EBUSY ");
	lnum(r->busy);
	lput(", ENXIO ");
	lnum(r->gone);
	lput(", 0 (tore it down for the core) ");
	lnum(r->won);
	lflush();
	check("race: 1,000 vmnics made and DESTROYed",
	    created == RACE_ROUNDS && destroyed == RACE_ROUNDS, destroyed,
	    RACE_ROUNDS);
	check("race: the ioctl never saw anything but EBUSY, ENXIO or 0",
	    r->other == 0, r->other_errno, 0);
	check("race: the ioctl did meet the live vmnics (EBUSY)",
	    r->busy > 0, r->busy, 1);
	e = if_flags(sock, name);
	expect("race: no vmnic left behind", e, -ENXIO);
	check("race: no object left", sysctl_u64("net.vpc.objects") ==
	    objects0, (long)sysctl_u64("net.vpc.objects"), (long)objects0);
	check("race: the core's allocations did not grow",
	    sysctl_u64("net.vpc.mem_allocs") <= allocs0,
	    (long)sysctl_u64("net.vpc.mem_allocs"), (long)allocs0);
	invariants("race: the core's invariants after it");
	sc3(SYS_munmap, (long)r, PAGE_SIZE, 0);
}
