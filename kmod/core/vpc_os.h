/*
 * vpc_os.h: everything the portable core asks of the operating system.
 *
 * The core includes no OS header; it reaches the OS only through these
 * functions, which kmod/os/freebsd and kmod/os/host implement.  The shape is
 * the kernel's, not userland's:
 *  - allocation says whether it may sleep (the data path never may);
 *  - two lock kinds: a non-sleeping mutex usable on the data path and a
 *    sleepable lock for control ops only;
 *  - readers of data-path structures run between os_epoch_enter/exit and
 *    memory they may still see is freed through os_epoch_defer (the network
 *    epoch on FreeBSD; a genuinely deferred queue on the host, so that ASan
 *    catches a use after a premature free);
 *  - time is a monotonic nanosecond clock; timers are drainable.
 * CI compiles the core with -ffreestanding -mgeneral-regs-only and checks
 * that every undefined symbol is an os_* function (or one of memcpy, memmove,
 * memset, memcmp, which a freestanding C compiler may emit by itself and
 * both kernels provide).
 */
#ifndef _VPC_OS_H_
#define _VPC_OS_H_

#include "vpc.h"

#ifndef _KERNEL
#include <stdbool.h>
#endif

/* Error numbers the core returns: FreeBSD's values (checked in the glue). */
#define VPC_EPERM         1
#define VPC_ENOENT        2
#define VPC_ENXIO         6
#define VPC_E2BIG         7
#define VPC_EBADF         9
#define VPC_ENOMEM       12
#define VPC_EBUSY        16
#define VPC_EEXIST       17
#define VPC_EINVAL       22
#define VPC_EMFILE       24
#define VPC_ENOTTY       25
#define VPC_EFBIG        27
#define VPC_ENOSPC       28
#define VPC_ERANGE       34
#define VPC_EAGAIN       35
#define VPC_EALREADY     37
#define VPC_EMSGSIZE     40
#define VPC_EOPNOTSUPP   45
#define VPC_EAFNOSUPPORT 47
#define VPC_ENOBUFS      55
#define VPC_ETIMEDOUT    60
#define VPC_ESTALE       70
#define VPC_EIDRM        82
#define VPC_EOVERFLOW    84
#define VPC_EPROTO       92

/* ---- Memory -------------------------------------------------------------- */

#define VPC_M_WAITOK  0x1   /* may sleep; never fails on FreeBSD */
#define VPC_M_NOWAIT  0x2   /* may fail; data path and under mutexes */
#define VPC_M_ZERO    0x4

void *os_alloc(size_t size, int flags);
void  os_free(void *p, size_t size);

/*
 * Deferred free: the callback runs once no reader that entered the epoch
 * before this call can still be inside it.  The context is embedded in the
 * object being freed; its first member is storage the OS uses (FreeBSD's
 * struct epoch_context is two pointers).
 */
struct os_defer {
	void *os_storage[4];
	void (*fn)(struct os_defer *);
};
void os_epoch_defer(struct os_defer *d, void (*fn)(struct os_defer *));

/* Read-side section of the data-path epoch; the tracker lives on the stack. */
struct os_epoch {
	void *os_storage[8];
};
void os_epoch_enter(struct os_epoch *e);
void os_epoch_exit(struct os_epoch *e);

/* ---- Locks ---------------------------------------------------------------- */

struct os_mtx;          /* non-sleeping: data path, timer callbacks */
struct os_mtx *os_mtx_create(const char *name);   /* may sleep */
void os_mtx_destroy(struct os_mtx *m);
void os_mtx_lock(struct os_mtx *m);
void os_mtx_unlock(struct os_mtx *m);

struct os_sx;           /* sleepable: control ops only */
struct os_sx *os_sx_create(const char *name);     /* may sleep */
void os_sx_destroy(struct os_sx *s);
void os_sx_xlock(struct os_sx *s);
void os_sx_xunlock(struct os_sx *s);

/* ---- Time, randomness, counters, logging --------------------------------- */

uint64_t os_now_ns(void);                   /* monotonic */
void     os_random(void *buf, size_t len);  /* non-blocking, good enough for keys */

struct os_counter;      /* per-CPU on FreeBSD (counter(9)) */
struct os_counter *os_counter_alloc(int mflags);
void     os_counter_free(struct os_counter *c);
void     os_counter_add(struct os_counter *c, uint64_t n);
uint64_t os_counter_fetch(struct os_counter *c);

#define VPC_LOG_ERR   3
#define VPC_LOG_WARN  4
#define VPC_LOG_INFO  6
#define VPC_LOG_DEBUG 7
/* Takes only %s %d %u %x %lu %llu %llx: the core rate-limits before calling. */
void os_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Timers --------------------------------------------------------------
 * A timer fires once after os_timer_arm; the callback runs with the mutex
 * given at creation held (callout_init_mtx), so it must not sleep.
 * os_timer_drain waits until a running callback has returned; call it
 * without that mutex held, from a context that may sleep.
 */
struct os_timer;
struct os_timer *os_timer_create(struct os_mtx *m, void (*fn)(void *), void *arg);
void os_timer_arm(struct os_timer *t, uint64_t delay_ns);
void os_timer_stop(struct os_timer *t);
void os_timer_drain(struct os_timer *t);
void os_timer_destroy(struct os_timer *t);  /* drains first */

/* ---- Handles ---------------------------------------------------------------
 * A handle is a descriptor in the calling process.  The core allocates its
 * struct vpc_hdl; the OS gives it a number in the caller's descriptor table
 * (FreeBSD: falloc/finit; host: a socket passed back over the connection).
 * os_handle_install may fail (EMFILE, ENOMEM); os_handle_uninstall takes a
 * just-installed handle back out when the op that made it fails later.
 */
struct vpc_hdl;
struct vpc_caller;      /* the OS's view of who is calling; opaque to the core */
int  os_handle_install(struct vpc_caller *c, struct vpc_hdl *h, vpc_handle_t *out);
void os_handle_uninstall(struct vpc_caller *c, vpc_handle_t fd);

/* ---- Lifecycle hooks ------------------------------------------------------
 * The OS attaches its side of an object (an ifnet or TAP device for a vmnic,
 * a UDP socket for a vcc) when it is created and detaches it before the core
 * frees it.  attach may sleep and may fail; detach may sleep.
 */
struct vpc_nic;
int  os_nic_attach(struct vpc_nic *nic);
void os_nic_detach(struct vpc_nic *nic);
void os_nic_mac_changed(struct vpc_nic *nic);

#endif /* _VPC_OS_H_ */
