/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_upcall.c: /dev/vpc_upcall: one reader (EBUSY), EAGAIN when empty, whole
 * records, poll, kqueue, a blocking read woken by a miss, a request handed
 * to the next reader when one goes away, and a sleeping reader interrupted
 * by a signal (EINTR, or restarted with SA_RESTART) losing nothing.
 */
#include "tests.h"
#include "report.h"

void
up_open(struct dp *d)
{
	vpc_upcall_req_t rec[4];
	long up2;

	d->up = sc3(SYS_open, "/dev/vpc_upcall", O_RDONLY | O_NONBLOCK, 0);
	check("upcall: open /dev/vpc_upcall", d->up >= 0, d->up, 3);
	up2 = sc3(SYS_open, "/dev/vpc_upcall", O_RDONLY | O_NONBLOCK, 0);
	expect("upcall: a second reader is EBUSY", up2, -EBUSY);
	if (up2 >= 0)
		sc3(SYS_close, up2, 0, 0);
	expect("upcall: nothing pending: EAGAIN (non-blocking)",
	    sc3(SYS_read, d->up, rec, sizeof(rec)), -EAGAIN);
	expect("upcall: a buffer under one record is EINVAL",
	    sc3(SYS_read, d->up, rec, sizeof(rec[0]) - 1), -EINVAL);
	check("upcall: net.vpc.upcall.readers is 1",
	    sysctl_u64("net.vpc.upcall.readers") == 1,
	    (long)sysctl_u64("net.vpc.upcall.readers"), 1);
}

/* A -> Y: a miss; the reader gets one record; the answer is taken. */
void
up_miss(struct dp *d)
{
	vpc_upcall_req_t rec[4];
	vpc_upcall_ans_t ans;
	int32_t ansres;
	size_t vallen;
	long r;

	tap_send(&d->ta, mac_y, mac_a, 3);
	msleep(100);
	memset(rec, 0, sizeof(rec));
	r = sc3(SYS_read, d->up, rec, sizeof(rec));
	check("upcall: a miss gives exactly one whole record", r ==
	    (long)sizeof(rec[0]), r, (long)sizeof(rec[0]));
	check("upcall: the record names VNI 789 and MAC Y",
	    rec[0].magic == VPC_UPCALL_MAGIC && rec[0].vni == DP_VNI &&
	    memcmp(rec[0].dstmac, mac_y, 6) == 0, rec[0].vni, DP_VNI);
	memset(&ans, 0, sizeof(ans));
	ans.req_id = rec[0].req_id;
	ans.generation = rec[0].generation;
	ans.status = VPC_UPCALL_NOT_FOUND;
	ansres = -1;
	vallen = sizeof(ansres);
	r = vctl(-1, VPC_OP_SYS_UPCALL_ANSWER, &ans, sizeof(ans), &ansres,
	    &vallen);
	check("upcall: the answer is taken", r == 0 && ansres == 0, r, 0);
	check("sysctl: net.vpc.upcall.pending is 0 after it",
	    sysctl_u64("net.vpc.upcall.pending") == 0,
	    (long)sysctl_u64("net.vpc.upcall.pending"), 0);
}

/* Z: a miss that is read, then its reader goes away unanswered. */
void
up_requeue(struct dp *d)
{
	vpc_upcall_req_t rec[4];
	long r;

	expect("upcall: poll(2) says nothing to read", poll1(d->up, POLLIN, 0),
	    0);
	tap_send(&d->ta, mac_z, mac_a, 4);
	expect("upcall: poll(2) wakes up with POLLIN on a miss",
	    poll1(d->up, POLLIN, 2000), POLLIN);
	r = sc3(SYS_read, d->up, rec, sizeof(rec));
	check("upcall: a second miss (Z) is read", r == (long)sizeof(rec[0]),
	    r, (long)sizeof(rec[0]));
	sc3(SYS_close, d->up, 0, 0);
	d->up = sc3(SYS_open, "/dev/vpc_upcall", O_RDONLY | O_NONBLOCK, 0);
	memset(rec, 0, sizeof(rec));
	r = d->up >= 0 ? sc3(SYS_read, d->up, rec, sizeof(rec)) : d->up;
	check("upcall: the next reader gets the unanswered request again",
	    r == (long)sizeof(rec[0]) && memcmp(rec[0].dstmac, mac_z, 6) == 0,
	    r, (long)sizeof(rec[0]));
	check("sysctl: net.vpc.upcall.requeued is 1",
	    sysctl_u64("net.vpc.upcall.requeued") == 1,
	    (long)sysctl_u64("net.vpc.upcall.requeued"), 1);
}

void
up_kqueue(struct dp *d)
{
	vpc_upcall_req_t rec[4];
	struct kevent kev;
	struct timespec ts = { 2, 0 };
	long kq, r;

	if (d->up < 0)
		return;
	kq = sc3(SYS_kqueue, 0, 0, 0);
	memset(&kev, 0, sizeof(kev));
	kev.ident = (unsigned long)d->up;
	kev.filter = EVFILT_READ;
	kev.flags = EV_ADD;
	r = kq >= 0 ? sc6(SYS_kevent, kq, (long)&kev, 1, 0, 0, 0) : kq;
	expect("upcall: kqueue EVFILT_READ registers", r, 0);
	tap_send(&d->ta, mac_w, mac_a, 5);
	memset(&kev, 0, sizeof(kev));
	r = sc6(SYS_kevent, kq, 0, 0, (long)&kev, 1, (long)&ts);
	check("upcall: kevent(2) fires on the next miss", r == 1 &&
	    kev.filter == EVFILT_READ && kev.data > 0, r, 1);
	r = sc3(SYS_read, d->up, rec, sizeof(rec));
	check("upcall: and the record is there", r ==
	    (long)sizeof(rec[0]) && memcmp(rec[0].dstmac, mac_w, 6) == 0,
	    r, (long)sizeof(rec[0]));
	if (kq >= 0)
		sc3(SYS_close, kq, 0, 0);
}

/* A blocking read that sleeps until the next miss wakes it. */
void
up_blocking(struct dp *d)
{
	vpc_upcall_req_t rec[4];
	int status = -1;
	long pid, r;

	if (d->up < 0)
		return;
	expect("upcall: fcntl(F_SETFL) clears O_NONBLOCK (FIONBIO)",
	    sc3(SYS_fcntl, d->up, F_SETFL, 0), 0);
	pid = sc3(SYS_fork, 0, 0, 0);
	if (pid == 0) {
		r = sc3(SYS_read, d->up, rec, sizeof(rec));
		sc3(SYS_exit, r == (long)sizeof(rec[0]) &&
		    memcmp(rec[0].dstmac, mac_v, 6) == 0 ? 0 : 1, 0, 0);
	}
	check("upcall: the child sleeps in read(2) (wchan vpcup)",
	    pid > 0 && wait_sleeping(pid, "vpcup"), pid, 1);
	tap_send(&d->ta, mac_v, mac_a, 6);
	r = pid > 0 ? sc6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0) : pid;
	check("upcall: a blocking read(2) sleeps until a miss wakes it",
	    r == pid && status == 0, status, 0);
	sc3(SYS_fcntl, d->up, F_SETFL, O_NONBLOCK);
}

/* ---- A sleeping reader and a signal ------------------------------------------- */

static volatile int signals;

static void
on_signal(int sig __attribute__((unused)))
{
	signals++;
}

static const uint8_t mac_s1[6] = { 0x02, 0, 0, 0, 0xa, 0x31 };
static const uint8_t mac_s2[6] = { 0x02, 0, 0, 0, 0xa, 0x32 };

/*
 * The child: with a handler installed without SA_RESTART, a read(2)
 * sleeping in the device returns EINTR; the next read gets the miss the
 * parent raises after the signal.  With SA_RESTART, the interrupted read is
 * restarted by the kernel (ERESTART) and returns the next record as if
 * nothing happened.  Exit status: one bit per failed step.
 */
static void
eintr_child(long up, long ready)
{
	struct sigaction sa;
	vpc_upcall_req_t rec[4];
	int fails = 0;
	long r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	if (sc3(SYS_sigaction, SIGUSR1, &sa, 0) != 0)
		sc3(SYS_exit, 0x40, 0, 0);
	sc3(SYS_write, ready, "1", 1);
	r = sc3(SYS_read, up, rec, sizeof(rec));
	if (r != -EINTR || signals != 1)
		fails |= 1;
	sc3(SYS_write, ready, "2", 1);
	r = sc3(SYS_read, up, rec, sizeof(rec));
	if (r != (long)sizeof(rec[0]) || memcmp(rec[0].dstmac, mac_s1, 6) != 0)
		fails |= 2;
	sa.sa_flags = SA_RESTART;
	if (sc3(SYS_sigaction, SIGUSR1, &sa, 0) != 0)
		fails |= 4;
	sc3(SYS_write, ready, "3", 1);
	r = sc3(SYS_read, up, rec, sizeof(rec));
	if (r != (long)sizeof(rec[0]) || memcmp(rec[0].dstmac, mac_s2, 6) != 0 ||
	    signals != 2)
		fails |= 8;
	sc3(SYS_exit, fails, 0, 0);
}

/* The child's next step, or give up after 5 s (a check fails; no hang). */
static void
wait_step(long fd)
{
	char c;

	if (poll1(fd, POLLIN, 5000) > 0)
		sc3(SYS_read, fd, &c, 1);
}

void
up_eintr(struct dp *d)
{
	int fds[2], status = -1, i;
	long pid, r = 0;

	if (d->up < 0 || sc3(SYS_pipe2, fds, 0, 0) < 0)
		return;
	sc3(SYS_fcntl, d->up, F_SETFL, 0);
	pid = sc3(SYS_fork, 0, 0, 0);
	if (pid == 0)
		eintr_child(d->up, fds[1]);
	check("eintr: a reader child", pid > 0, pid, 1);
	if (pid > 0) {
		/* 1: it sleeps in read(2); a signal interrupts it. */
		wait_step(fds[0]);
		check("eintr: the reader sleeps in read(2) (wchan vpcup)",
		    wait_sleeping(pid, "vpcup"), 0, 1);
		expect("eintr: SIGUSR1 to the reader sleeping in read(2)",
		    sc3(SYS_kill, pid, SIGUSR1, 0), 0);
		/* 2: it reads again; the miss raised now is not lost. */
		wait_step(fds[0]);
		msleep(300);
		tap_send(&d->ta, mac_s1, mac_a, 7);
		/* 3: with SA_RESTART the read survives the signal. */
		wait_step(fds[0]);
		check("eintr: asleep in read(2) again, SA_RESTART this time",
		    wait_sleeping(pid, "vpcup"), 0, 1);
		sc3(SYS_kill, pid, SIGUSR1, 0);
		msleep(300);
		tap_send(&d->ta, mac_s2, mac_a, 8);
		for (i = 0; i < 50; i++) {
			r = sc6(SYS_wait4, pid, (long)&status, WNOHANG, 0, 0, 0);
			if (r != 0)
				break;
			msleep(100);
		}
		if (r == 0) {
			sc3(SYS_kill, pid, SIGKILL, 0);
			sc6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0);
		}
		check("eintr: the child exited by itself", r == pid, r, pid);
		status = (status >> 8) & 0xff;
		check("eintr: read(2) returned EINTR, the handler ran once",
		    r == pid && (status & 0x41) == 0, status, 0);
		check("eintr: the next read(2) got the miss raised after it",
		    r == pid && (status & 2) == 0, status, 0);
		check("eintr: with SA_RESTART the read(2) was restarted",
		    r == pid && (status & 12) == 0, status, 0);
		check("eintr: nothing waits undelivered",
		    sysctl_u64("net.vpc.upcall.undelivered") == 0,
		    (long)sysctl_u64("net.vpc.upcall.undelivered"), 0);
	}
	sc3(SYS_close, fds[0], 0, 0);
	sc3(SYS_close, fds[1], 0, 0);
	sc3(SYS_fcntl, d->up, F_SETFL, O_NONBLOCK);
}
