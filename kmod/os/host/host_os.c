/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_os.c: the core's OS interface on Linux userland: malloc, pthread
 * mutexes, CLOCK_MONOTONIC, getrandom(2), plain counters (one thread), and
 * logging to stderr.  Timers and the epoch live in host_loop.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "vpc_os.h"
#include "host_os.h"

int host_log_level = VPC_LOG_INFO;
uint64_t host_fail_alloc_at;
uint64_t host_alloc_calls;

/*
 * Fault injection: every allocation the core can make goes through here,
 * its own and the OS objects it asks for (locks, counters, timers), so a
 * test can fail the Nth one and check the op that saw it undid everything.
 */
bool
host_fault_alloc(void)
{
	host_alloc_calls++;
	return (host_fail_alloc_at != 0 && --host_fail_alloc_at == 0);
}

void *
os_alloc(size_t size, int flags)
{
	if (host_fault_alloc())
		return (NULL);
	if (size == 0)
		size = 1;
	return ((flags & VPC_M_ZERO) ? calloc(1, size) : malloc(size));
}

void
os_free(void *p, size_t size)
{
	(void)size;
	free(p);
}

/*
 * Mutexes remember their owner so the core's lock assertions can be
 * checked here, as OpenZFS's libspl does for ztest: a missing lock aborts
 * the sanitizer suite instead of racing quietly.
 */
struct os_mtx {
	pthread_mutex_t m;
	pthread_t       owner;
	bool            held;
};

static void
lock_violation(const char *what)
{
	fprintf(stderr, "vpc-hostd: lock assertion failed: %s\n", what);
	abort();
}

struct os_mtx *
os_mtx_create(const char *name)
{
	struct os_mtx *m = host_fault_alloc() ? NULL : calloc(1, sizeof(*m));

	(void)name;
	if (m != NULL)
		pthread_mutex_init(&m->m, NULL);
	return (m);
}

void
os_mtx_destroy(struct os_mtx *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->m);
	free(m);
}

void
os_mtx_lock(struct os_mtx *m)
{
	pthread_mutex_lock(&m->m);
	m->owner = pthread_self();
	m->held = true;
}

void
os_mtx_unlock(struct os_mtx *m)
{
	if (!m->held || !pthread_equal(m->owner, pthread_self()))
		lock_violation("mutex unlocked by a thread that does not hold it");
	m->held = false;
	pthread_mutex_unlock(&m->m);
}

void
os_mtx_assert_owned(struct os_mtx *m)
{
	if (!m->held || !pthread_equal(m->owner, pthread_self()))
		lock_violation("mutex not held");
}

/* The sleepable lock is a mutex too: userland has no "may not sleep". */
struct os_sx {
	pthread_mutex_t m;
	pthread_t       owner;
	bool            held;
};

struct os_sx *
os_sx_create(const char *name)
{
	struct os_sx *s = host_fault_alloc() ? NULL : calloc(1, sizeof(*s));

	(void)name;
	if (s != NULL)
		pthread_mutex_init(&s->m, NULL);
	return (s);
}

void
os_sx_destroy(struct os_sx *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->m);
	free(s);
}

void
os_sx_xlock(struct os_sx *s)
{
	pthread_mutex_lock(&s->m);
	s->owner = pthread_self();
	s->held = true;
}

void
os_sx_xunlock(struct os_sx *s)
{
	if (!s->held || !pthread_equal(s->owner, pthread_self()))
		lock_violation("control lock unlocked by a thread that does not hold it");
	s->held = false;
	pthread_mutex_unlock(&s->m);
}

void
os_sx_assert_xlocked(struct os_sx *s)
{
	if (!s->held || !pthread_equal(s->owner, pthread_self()))
		lock_violation("control lock not held");
}

/* Tests move the clock forward instead of waiting for it (host_os.h). */
uint64_t host_clock_skew_ns;

uint64_t
os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec +
	    host_clock_skew_ns);
}

/*
 * CLOCK_MONOTONIC_COARSE: the vDSO reads the last tick's time, no TSC
 * (about a quarter of CLOCK_MONOTONIC's cost); the same skew.
 *
 * It is still a call of ~5 ns in a KVM guest, read for every packet of a
 * firewalled port (a quarter of what the firewall adds to an established
 * flow's packet), where FreeBSD's getsbinuptime() is a memory read.  So
 * vpc-hostd's loop reads it once a wakeup (host_clock_refresh) and the data
 * path reads that copy: the frames of one wakeup see the time it began, a
 * few ms behind at most, as the clock's own tick is.  Without the loop
 * (tests and benches that drive the core directly) there is no copy and
 * every read is a clock read, unless they refresh it themselves.
 */
static uint64_t coarse_copy;    /* 0: no copy, read the clock */

static uint64_t
coarse_read(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

void
host_clock_refresh(void)
{
	__atomic_store_n(&coarse_copy, coarse_read(), __ATOMIC_RELAXED);
}

void
host_clock_forget(void)
{
	__atomic_store_n(&coarse_copy, 0, __ATOMIC_RELAXED);
}

uint64_t
os_now_coarse_ns(void)
{
	uint64_t c = __atomic_load_n(&coarse_copy, __ATOMIC_RELAXED);

	return ((c != 0 ? c : coarse_read()) + host_clock_skew_ns);
}

/*
 * getrandom(2) is a system call, and keys and ids are asked for a few bytes
 * at a time (a switch's CAM key, every port's id): bytes come from a pool
 * per thread, refilled 256 at a time, each handed out once and then wiped.
 * A child after fork() starts with an empty pool, never its parent's bytes.
 */
#define RANDOM_POOL 256

static __thread unsigned char rpool[RANDOM_POOL];
static __thread size_t rpool_left;
static pthread_once_t rpool_once = PTHREAD_ONCE_INIT;

static void
rpool_forked(void)
{
	memset(rpool, 0, sizeof(rpool));
	rpool_left = 0;
}

static void
rpool_init(void)
{
	(void)pthread_atfork(NULL, NULL, rpool_forked);
}

static void
random_fill(void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort();        /* only before the pool is seeded at boot */
		}
		p += n;
		len -= (size_t)n;
	}
}

void
os_random(void *buf, size_t len)
{
	unsigned char *p = buf, *from;
	size_t n;

	(void)pthread_once(&rpool_once, rpool_init);
	if (len >= RANDOM_POOL) {
		random_fill(buf, len);
		return;
	}
	while (len > 0) {
		if (rpool_left == 0) {
			random_fill(rpool, sizeof(rpool));
			rpool_left = sizeof(rpool);
		}
		n = len < rpool_left ? len : rpool_left;
		from = rpool + sizeof(rpool) - rpool_left;
		memcpy(p, from, n);
		memset(from, 0, n);
		rpool_left -= n;
		p += n;
		len -= n;
	}
}

struct os_counter {
	uint64_t v;
};

struct os_counter *
os_counter_alloc(int mflags)
{
	(void)mflags;
	return (host_fault_alloc() ? NULL : calloc(1, sizeof(struct os_counter)));
}

void
os_counter_free(struct os_counter *c)
{
	free(c);
}

/*
 * The host kernel's data path runs on one thread (the event loop), so a
 * plain add is what FreeBSD's per-CPU counter(9) is there: no lock prefix.
 */
void
os_counter_add(struct os_counter *c, uint64_t n)
{
	c->v += n;
}

uint64_t
os_counter_fetch(struct os_counter *c)
{
	return (c->v);
}

int
os_error_trace(const char *file, int line, int error)
{
	if (host_log_level >= VPC_LOG_DEBUG)
		fprintf(stderr, "vpc-hostd: debug: error %d made at %s:%d\n",
		    error, file, line);
	return (error);
}

void
os_log(int level, const char *fmt, ...)
{
	static const char *names[] = { [VPC_LOG_ERR] = "error",
	    [VPC_LOG_WARN] = "warn", [VPC_LOG_INFO] = "info",
	    [VPC_LOG_DEBUG] = "debug" };
	va_list ap;

	if (level > host_log_level)
		return;
	fprintf(stderr, "vpc-hostd: %s: ", level >= 0 && level <= VPC_LOG_DEBUG &&
	    names[level] != NULL ? names[level] : "log");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
