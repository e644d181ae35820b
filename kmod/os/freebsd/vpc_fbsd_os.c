/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_os.c: the core's OS interface that is not about packets,
 * objects or descriptors: malloc(9), mutex(9), sx(9), the network epoch,
 * the uptime clock, arc4random(9), counter(9), log(9) and callout(9).
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/counter.h>
#include <sys/epoch.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mutex.h>
#include <sys/sdt.h>
#include <sys/sx.h>
#include <sys/callout.h>
#include <machine/stdarg.h>
#include <sys/syslog.h>
#include <sys/sysctl.h>
#include <sys/time.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

/* The ABI's errno values are FreeBSD's own (vpc.h promises it). */
_Static_assert(VPC_EPERM == EPERM && VPC_ENOENT == ENOENT &&
    VPC_ENXIO == ENXIO && VPC_E2BIG == E2BIG && VPC_EBADF == EBADF &&
    VPC_ENOMEM == ENOMEM && VPC_EACCES == EACCES && VPC_EBUSY == EBUSY && VPC_EEXIST == EEXIST &&
    VPC_ENODEV == ENODEV &&
    VPC_EINVAL == EINVAL && VPC_EMFILE == EMFILE && VPC_ENOTTY == ENOTTY &&
    VPC_EFBIG == EFBIG && VPC_ENOSPC == ENOSPC && VPC_ERANGE == ERANGE &&
    VPC_EAGAIN == EAGAIN && VPC_EALREADY == EALREADY &&
    VPC_EMSGSIZE == EMSGSIZE && VPC_EOPNOTSUPP == EOPNOTSUPP &&
    VPC_EAFNOSUPPORT == EAFNOSUPPORT && VPC_EADDRINUSE == EADDRINUSE &&
    VPC_EADDRNOTAVAIL == EADDRNOTAVAIL && VPC_ENOBUFS == ENOBUFS &&
    VPC_ETIMEDOUT == ETIMEDOUT && VPC_ESTALE == ESTALE &&
    VPC_EIDRM == EIDRM && VPC_EOVERFLOW == EOVERFLOW &&
    VPC_EPROTO == EPROTO, "vpc.h errno values differ from FreeBSD's");
_Static_assert(VPC_LOG_ERR == LOG_ERR && VPC_LOG_WARN == LOG_WARNING &&
    VPC_LOG_INFO == LOG_INFO && VPC_LOG_DEBUG == LOG_DEBUG,
    "vpc_os.h log levels differ from syslog's");

MALLOC_DEFINE(M_VPC, "vpc", "vpc virtual switch");

/* ---- Memory -------------------------------------------------------------- */

void *
os_alloc(size_t size, int flags)
{
	int mflags;

	KASSERT((flags & (VPC_M_WAITOK | VPC_M_NOWAIT)) == VPC_M_WAITOK ||
	    (flags & (VPC_M_WAITOK | VPC_M_NOWAIT)) == VPC_M_NOWAIT,
	    ("%s: exactly one of WAITOK and NOWAIT: %#x", __func__, flags));
	mflags = (flags & VPC_M_WAITOK) != 0 ? M_WAITOK : M_NOWAIT;
	if ((flags & VPC_M_ZERO) != 0)
		mflags |= M_ZERO;
	return (malloc(size, M_VPC, mflags));
}

void
os_free(void *p, size_t size __unused)
{
	free(p, M_VPC);
}

/* ---- The network epoch ---------------------------------------------------- */

_Static_assert(sizeof(struct epoch_tracker) <=
    sizeof(((struct os_epoch *)NULL)->os_storage),
    "struct epoch_tracker does not fit in struct os_epoch");
_Static_assert(sizeof(struct epoch_context) <=
    sizeof(((struct os_defer *)NULL)->os_storage),
    "struct epoch_context does not fit in struct os_defer");
_Static_assert(__offsetof(struct os_defer, os_storage) == 0,
    "os_defer's storage must come first");

void
os_epoch_enter(struct os_epoch *e)
{
	NET_EPOCH_ENTER(*(struct epoch_tracker *)(void *)e->os_storage);
}

void
os_epoch_exit(struct os_epoch *e)
{
	NET_EPOCH_EXIT(*(struct epoch_tracker *)(void *)e->os_storage);
}

void
os_epoch_assert(void)
{
	NET_EPOCH_ASSERT();
}

/*
 * Our callbacks still queued (the glue's own softc frees go through
 * os_epoch_defer too).  A callback may queue more: an object's fini
 * retires its CAM entries and table.  epoch_drain_callbacks() waits only
 * for what was queued before it was called, so unload drains until this
 * count is zero (vpc_fbsd_epoch_drain).
 */
static u_int vpc_epoch_pending;

/* Runs from the epoch's callback task: it must not sleep, and neither may
 * what the core defers (its fini functions only free). */
static void
vpc_epoch_cb(epoch_context_t ctx)
{
	struct os_defer *d = (struct os_defer *)(void *)ctx;

	d->fn(d);
	atomic_subtract_rel_int(&vpc_epoch_pending, 1);
}

void
os_epoch_defer(struct os_defer *d, void (*fn)(struct os_defer *))
{
	d->fn = fn;
	atomic_add_int(&vpc_epoch_pending, 1);
	NET_EPOCH_CALL(vpc_epoch_cb, (epoch_context_t)(void *)d->os_storage);
}

/*
 * Wait until no callback of ours is queued or running: before the module's
 * text and M_VPC go.  The last pass waits for the task that ran the last
 * callback to be done with it (a CPU's callbacks run one after another in
 * that CPU's task, the drain's marker among them).
 */
void
vpc_fbsd_epoch_drain(void)
{
	while (atomic_load_acq_int(&vpc_epoch_pending) != 0)
		epoch_drain_callbacks(net_epoch_preempt);
	epoch_drain_callbacks(net_epoch_preempt);
}

/* ---- Locks ------------------------------------------------------------------ */

struct os_mtx {
	struct mtx	m;
};

/*
 * MTX_DEF: the data path takes these inside the (preemptible) network
 * epoch, and callouts are bound to them with callout_init_mtx().  The
 * core's names are constants ("vpcsw", "vpc upcalls"), so WITNESS sees one
 * lock type per kind, which is what it should check the order of.
 */
struct os_mtx *
os_mtx_create(const char *name)
{
	struct os_mtx *m;

	m = malloc(sizeof(*m), M_VPC, M_WAITOK | M_ZERO);
	mtx_init(&m->m, name, NULL, MTX_DEF);
	return (m);
}

void
os_mtx_destroy(struct os_mtx *m)
{
	if (m == NULL)
		return;
	mtx_destroy(&m->m);
	free(m, M_VPC);
}

void
os_mtx_lock(struct os_mtx *m)
{
	mtx_lock(&m->m);
}

void
os_mtx_unlock(struct os_mtx *m)
{
	mtx_unlock(&m->m);
}

void
os_mtx_assert_owned(struct os_mtx *m __unused)
{
	mtx_assert(&m->m, MA_OWNED);
}

struct os_sx {
	struct sx	s;
};

struct os_sx *
os_sx_create(const char *name)
{
	struct os_sx *s;

	s = malloc(sizeof(*s), M_VPC, M_WAITOK | M_ZERO);
	sx_init(&s->s, name);
	return (s);
}

void
os_sx_destroy(struct os_sx *s)
{
	if (s == NULL)
		return;
	sx_destroy(&s->s);
	free(s, M_VPC);
}

void
os_sx_xlock(struct os_sx *s)
{
	sx_xlock(&s->s);
}

void
os_sx_xunlock(struct os_sx *s)
{
	sx_xunlock(&s->s);
}

void
os_sx_assert_xlocked(struct os_sx *s __unused)
{
	sx_assert(&s->s, SA_XLOCKED);
}

/* ---- Time, randomness, counters -------------------------------------------- */

/*
 * getsbinuptime(): monotonic and cheap (no timecounter read; tick
 * resolution), which is what a per-frame expiry check wants.  sbttons()
 * converts with integer arithmetic only.
 */
uint64_t
os_now_ns(void)
{
	return ((uint64_t)sbttons(getsbinuptime()));
}

/* Already at tick resolution: the same clock. */
uint64_t
os_now_coarse_ns(void)
{
	return (os_now_ns());
}

void
os_random(void *buf, size_t len)
{
	arc4random_buf(buf, len);
}

/* A struct os_counter * is a counter_u64_t; the type is only a name. */
struct os_counter *
os_counter_alloc(int mflags)
{
	return ((struct os_counter *)counter_u64_alloc(
	    (mflags & VPC_M_WAITOK) != 0 ? M_WAITOK : M_NOWAIT));
}

void
os_counter_free(struct os_counter *c)
{
	if (c != NULL)
		counter_u64_free((counter_u64_t)c);
}

void
os_counter_add(struct os_counter *c, uint64_t n)
{
	counter_u64_add((counter_u64_t)c, (int64_t)n);
}

uint64_t
os_counter_fetch(struct os_counter *c)
{
	return (counter_u64_fetch((counter_u64_t)c));
}

/* ---- Logging ------------------------------------------------------------------ */

/*
 * The core rate-limits what it logs; this is the backstop, so that nothing
 * the network can trigger floods the console: at most 10 lines a second,
 * the rest counted (net.vpc.log_dropped).
 */
static struct timeval vpc_log_last;
static int vpc_log_pps;
static counter_u64_t vpc_log_drops;

uint64_t
vpc_fbsd_log_dropped(void)
{
	return (vpc_log_drops != NULL ? counter_u64_fetch(vpc_log_drops) : 0);
}

static void
vpc_log_init(void *arg __unused)
{
	vpc_log_drops = counter_u64_alloc(M_WAITOK);
}
SYSINIT(vpc_log, SI_SUB_DRIVERS, SI_ORDER_FIRST, vpc_log_init, NULL);

static void
vpc_log_fini(void *arg __unused)
{
	counter_u64_free(vpc_log_drops);
	vpc_log_drops = NULL;
}
SYSUNINIT(vpc_log, SI_SUB_DRIVERS, SI_ORDER_FIRST, vpc_log_fini, NULL);

void
os_log(int level, const char *fmt, ...)
{
	char buf[192];
	va_list ap;

	if (!ppsratecheck(&vpc_log_last, &vpc_log_pps, 10)) {
		if (vpc_log_drops != NULL)
			counter_u64_add(vpc_log_drops, 1);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log(level, "vpc: %s\n", buf);
}

/* dtrace -n 'vpc:::error { printf("%s:%d %d", stringof(arg0), arg1, arg2); }' */
SDT_PROVIDER_DEFINE(vpc);
SDT_PROBE_DEFINE3(vpc, , , error, "const char *", "int", "int");

int
os_error_trace(const char *file __unused, int line __unused, int error)
{
	SDT_PROBE3(vpc, , , error, file, line, error);
	return (error);
}

/* ---- Timers -------------------------------------------------------------------- */

struct os_timer {
	struct callout	co;
	void		(*fn)(void *);
	void		*arg;
};

static void
vpc_timer_fire(void *arg)
{
	struct os_timer *t = arg;

	/* callout_init_mtx(): the callout system holds the mutex for us;
	 * callout_init(, 1) (no mutex): nothing is held. */
	t->fn(t->arg);
}

struct os_timer *
os_timer_create(struct os_mtx *m, void (*fn)(void *), void *arg)
{
	struct os_timer *t;

	t = malloc(sizeof(*t), M_VPC, M_WAITOK | M_ZERO);
	t->fn = fn;
	t->arg = arg;
	if (m != NULL)
		callout_init_mtx(&t->co, &m->m, 0);
	else
		callout_init(&t->co, 1);        /* MPSAFE, runs with no lock */
	return (t);
}

/* Called with the timer's mutex held (callout_reset asserts it); a timer
 * without one may be armed from anywhere, its own callback included. */
void
os_timer_arm(struct os_timer *t, uint64_t delay_ns)
{
	sbintime_t sbt;

	sbt = delay_ns > (uint64_t)INT64_MAX ? INT64_MAX :
	    nstosbt((int64_t)delay_ns);
	callout_reset_sbt(&t->co, sbt, 0, vpc_timer_fire, t, 0);
}

/* Called with the timer's mutex held: a callout_stop() then cannot race. */
void
os_timer_stop(struct os_timer *t)
{
	callout_stop(&t->co);
}

/*
 * Cancel and wait for a running callback to return.  Without the mutex and
 * from a sleepable context; callout_drain() also keeps a callback that
 * re-arms itself (the switch's sweeper) from scheduling again.
 */
void
os_timer_drain(struct os_timer *t)
{
	WITNESS_WARN(WARN_GIANTOK | WARN_SLEEPOK, NULL, "%s", __func__);
	callout_drain(&t->co);
}

void
os_timer_destroy(struct os_timer *t)
{
	if (t == NULL)
		return;
	os_timer_drain(t);
	free(t, M_VPC);
}

/* The host kernel's listeners refuse connections at their descriptor
 * limit; here vpc_open is a syscall and there is nothing to refuse. */
uint64_t
os_conn_refused(void)
{
	return (0);
}
