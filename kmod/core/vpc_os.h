/* SPDX-License-Identifier: BSD-2-Clause */
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

#ifdef _KERNEL
/* What <stddef.h>/<stdint.h> give the core elsewhere (vpc.h, hosted side). */
#include <sys/_null.h>
#include <sys/stdint.h>
#else
#include <stdbool.h>
#endif

/* The errno values the core returns (VPC_E*) are in vpc.h: userland sees them. */

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
	void *os_storage[2];
	void (*fn)(struct os_defer *);
};
void os_epoch_defer(struct os_defer *d, void (*fn)(struct os_defer *));

/* Read-side section of the data-path epoch; the tracker lives on the stack. */
struct os_epoch {
	void *os_storage[8];
};
void os_epoch_enter(struct os_epoch *e);
void os_epoch_exit(struct os_epoch *e);
/* Panics (FreeBSD INVARIANTS: NET_EPOCH_ASSERT) or aborts (host) outside. */
void os_epoch_assert(void);

/* ---- Locks ---------------------------------------------------------------- */

struct os_mtx;          /* non-sleeping: data path, timer callbacks */
struct os_mtx *os_mtx_create(const char *name);   /* may sleep */
void os_mtx_destroy(struct os_mtx *m);
void os_mtx_lock(struct os_mtx *m);
void os_mtx_unlock(struct os_mtx *m);
/* The calling thread holds m (FreeBSD: mtx_assert(MA_OWNED) under INVARIANTS). */
void os_mtx_assert_owned(struct os_mtx *m);

struct os_sx;           /* sleepable: control ops only */
struct os_sx *os_sx_create(const char *name);     /* may sleep */
void os_sx_destroy(struct os_sx *s);
void os_sx_xlock(struct os_sx *s);
void os_sx_xunlock(struct os_sx *s);
/* The calling thread holds s exclusively (FreeBSD: sx_assert(SA_XLOCKED)). */
void os_sx_assert_xlocked(struct os_sx *s);

/* ---- Time, randomness, counters, logging --------------------------------- */

uint64_t os_now_ns(void);                   /* monotonic */
/*
 * Monotonic at the OS's tick (a few ms; never ahead of os_now_ns): for a
 * per-packet expiry check that a few ms do not matter to and that a
 * precise clock read would make a large part of (the firewall's flows).
 * FreeBSD: os_now_ns itself, which is already getsbinuptime().
 */
uint64_t os_now_coarse_ns(void);
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

/*
 * Where an error was made, for whoever is debugging (VPC_ERR in vpc_impl.h,
 * in the spirit of OpenZFS's SET_ERROR): the host logs file:line at debug
 * level, FreeBSD fires the SDT probe vpc:::error.  Returns error.
 */
int os_error_trace(const char *file, int line, int error);

/* ---- Timers --------------------------------------------------------------
 * A timer fires once after os_timer_arm; the callback runs with the mutex
 * given at creation held (callout_init_mtx), so it must not sleep.  Given
 * NULL, the callback runs with no lock held (FreeBSD: callout_init(, 1)),
 * and os_timer_arm/stop need none (the callback may arm it again itself;
 * a stop may then lose to it).  os_timer_drain waits until a running
 * callback has returned and keeps it from arming again; call it without
 * that mutex held, from a context that may sleep.
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

/* ---- Packets ---------------------------------------------------------------
 * An opaque packet: an mbuf chain on FreeBSD, a flat buffer on the host.
 * Functions that may have to reallocate take struct vpc_pkt ** and may
 * replace the packet; when they fail they free it and set *pp to NULL.
 * All of them may be called on the data path: they never sleep.
 */
struct vpc_pkt;
uint32_t os_pkt_len(const struct vpc_pkt *p);
/* The first len bytes, contiguous and writable; NULL if the packet is shorter. */
void    *os_pkt_pullup(struct vpc_pkt **pp, uint32_t len);
/* Room for len more bytes at the front; returns their address. */
void    *os_pkt_prepend(struct vpc_pkt **pp, uint32_t len);
/* Drop len bytes from the front (len <= os_pkt_len). */
void     os_pkt_adj(struct vpc_pkt *p, uint32_t len);
/* Copy bytes [off, off + len) out; false if the packet is too short. */
bool     os_pkt_copyout(const struct vpc_pkt *p, uint32_t off, uint32_t len, void *dst);
/*
 * Bytes [off, off + len), read-only, where they already lie contiguously in
 * the packet's first buffer; NULL when they do not (the packet is shorter,
 * or they span buffers), and the caller copies them out instead.  A header
 * read per frame is then a pointer, not a copy (vpc_pkt_bytes).
 */
const void *os_pkt_peek(const struct vpc_pkt *p, uint32_t off, uint32_t len);
struct vpc_pkt *os_pkt_dup(const struct vpc_pkt *p);    /* NULL: no memory */
/*
 * A new packet of len bytes (1 <= len <= VPC_PKT_ALLOC_MAX), contiguous and
 * writable at *data, contents undefined; NULL when there is no memory (or len
 * is out of range).  For packets the core makes itself (ICMP answers).
 */
#define VPC_PKT_ALLOC_MAX 16384
struct vpc_pkt *os_pkt_alloc(uint32_t len, void **data);
void     os_pkt_free(struct vpc_pkt *p);
/* Link packets into a list (hold queues). */
struct vpc_pkt *os_pkt_next(const struct vpc_pkt *p);
void     os_pkt_set_next(struct vpc_pkt *p, struct vpc_pkt *next);
/* The flow hash the OS already knows (RSS), or 0. */
uint32_t os_pkt_flowid(const struct vpc_pkt *p);

/* ---- Objects' OS side ------------------------------------------------------
 * The OS attaches its side of a vmnic (an ifnet on FreeBSD, a TAP device on
 * the host) and of a vcc (UDP sockets).  Hooks that can fail are called
 * before the core changes anything, so a failure leaves all as it was.
 * They may sleep (control context, control lock held, no mutex).
 */
struct vpc_nic;
struct vpc_vcc;
int  os_nic_attach(struct vpc_nic *nic);
void os_nic_detach(struct vpc_nic *nic);
int  os_nic_set_mac(struct vpc_nic *nic, const uint8_t mac[6]);
int  os_nic_set_ifname(struct vpc_nic *nic, const char *name);
void os_nic_get_ifname(struct vpc_nic *nic, char name[VPC_IFNAMSIZ]);
/*
 * Give the vmnic's interface this MTU (the IP MTU, without the Ethernet
 * header).  An interface made later takes vpc_nic_mtu() at creation.  NIC_SET_MTU
 * calls it before it changes anything and fails with its error; when the MTU
 * follows the underlay (a vcc or a port changed) an error is only logged, and
 * the core's MTU, which the data path enforces, stays the one computed.
 */
int  os_nic_set_mtu(struct vpc_nic *nic, uint32_t mtu);
int  os_vcc_configure(struct vpc_vcc *vcc, const vpc_vcc_t *conf);
void os_vcc_detach(struct vpc_vcc *vcc);

/*
 * A vpclink's interface.  os_link_bind takes the interface ifname (it exists:
 * else ENODEV; taken by something that excludes us, such as a bridge: EBUSY;
 * no link support: EOPNOTSUPP) and gives its MAC; frames it brings go to
 * vpc_link_input (vpc_core.h) from then on.  os_link_unbind stops that and
 * restores the interface as it was.  Control context, may sleep.
 */
struct vpc_link;
int  os_link_bind(struct vpc_link *link, const char *ifname, uint8_t mac[6]);
void os_link_unbind(struct vpc_link *link);

/* ---- Output (data path: never sleep; the packet is consumed) -------------- */

/*
 * Deliver an Ethernet frame to the VM behind a vmnic: 0 when it was
 * delivered, an error when it was dropped, or OS_NIC_HELD when the glue
 * kept it to write later (the host's TAP merging, host_gro.c), in which
 * case the glue reports what became of it with vpc_nic_output_done
 * (vpc_core.h) before the batch it came in ends.  Consumed in every case.
 */
#define OS_NIC_HELD (-1)
int os_nic_output(struct vpc_nic *nic, struct vpc_pkt *p);

/* Send an Ethernet frame out of a bound link's interface. */
int os_link_output(struct vpc_link *link, struct vpc_pkt *p);
/* A frame vpc_link_input did not take: on to the node's own stack (host:
 * it has its own copy already, so this one is freed). */
void os_link_pass(struct vpc_link *link, struct vpc_pkt *p);

/* Where VXLAN goes on the underlay. */
struct vpc_underlay {
	uint8_t  af;            /* VPC_AF_INET or VPC_AF_INET6 */
	uint16_t port;          /* destination UDP port, host order */
	uint8_t  addr[16];
};
/* Send a VXLAN packet (p starts with the VXLAN header) over UDP from the
 * vcc's address, with source port sport (from the flow hash). */
int os_vcc_output(struct vpc_vcc *vcc, struct vpc_pkt *p,
    const struct vpc_underlay *dst, uint16_t sport);
/*
 * n such packets at once, each as os_vcc_output() would send it: each is
 * consumed and its result is errors[i].  The OS may hand them to its stack
 * together (vpc-hostd: one sendmmsg(2), where a datagram a system call
 * costs twice the CPU).  The core uses it where it releases many frames at
 * once (the held frames of a batch of answers), n at most VPC_TXBATCH_MAX.
 */
#define VPC_TXBATCH_MAX 32
void os_vcc_output_many(struct vpc_vcc *vcc, struct vpc_pkt **pkts,
    const struct vpc_underlay *dsts, const uint16_t *sports, int *errors,
    unsigned n);
/* VNI 0: send a raw Ethernet frame on the vcc's L2 device. */
int os_vcc_output_l2(struct vpc_vcc *vcc, struct vpc_pkt *p);
/* Datagrams for the vcc the OS dropped before the core saw them (its
 * socket buffers were full), since the vcc was made: VCCSTAT_RX_SOCK_DROPS.
 * Called from VCC_GET_STATS with the control lock held. */
uint64_t os_vcc_rx_drops(struct vpc_vcc *vcc);
/* Connections to the kernel refused for want of descriptors (the host
 * kernel's listeners; 0 where there are none): SYS_STATS conn_refused. */
uint64_t os_conn_refused(void);

/* Upcall requests are waiting to be read: wake the reader.  Called with no
 * core lock held. */
struct vpc_sys;
void os_upcall_notify(struct vpc_sys *sys);

/* Post a lifecycle event of the upcall agent (type "DEGRADED" or
 * "RECOVERED"; detail already checked: printable, no space or quote).
 * Called with the control lock (sx) held: must not call into the core. */
void os_agent_event(const char *type, const char *detail);

#endif /* _VPC_OS_H_ */
