/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_core.h: the portable core's API, as the OS glue calls it.
 *
 * One struct vpc_sys is one instance of the whole object graph (one per
 * kernel; the host kernel and the fuzzers make their own).  Control entry
 * points may sleep and serialize on the instance's control lock; data-path
 * entry points (later: frame input) never sleep.
 */
#ifndef _VPC_CORE_H_
#define _VPC_CORE_H_

#include "vpc_os.h"

struct vpc_sys;
struct vpc_hdl;
struct vpc_opdesc;

/* Who is calling, as the glue saw it. */
struct vpc_call {
	struct vpc_caller *caller;  /* handed back to os_handle_install() */
	bool priv;                  /* may create and mutate */
};

int  vpc_sys_create(struct vpc_sys **out);
/* EBUSY while any object or handle exists; then frees everything. */
int  vpc_sys_destroy(struct vpc_sys *sys);
bool vpc_sys_busy(struct vpc_sys *sys);
/* Kill every object (handles must be closed first). */
void vpc_sys_teardown(struct vpc_sys *sys);
/*
 * Check every invariant of the object graph (control context; takes the
 * control lock and the others it needs).  0, or VPC_EPROTO with the first
 * failure described in why.
 */
int  vpc_sys_check(struct vpc_sys *sys, char *why, size_t len);

/*
 * vpc_open(): returns 0 and a new handle for the glue to install, or an errno.
 * The handle remembers whether the caller was privileged.
 */
int  vpc_core_open(struct vpc_sys *sys, const struct vpc_call *call,
         const vpc_id_t *id, vpc_type_t type, vpc_flags_t flags,
         struct vpc_hdl **out);
/* The descriptor is gone: drop the handle (may destroy an uncommitted object). */
void vpc_core_close(struct vpc_sys *sys, struct vpc_hdl *h);
/* Object type of what a handle refers to (for the glue's fstat and logs). */
unsigned vpc_hdl_objtype(const struct vpc_hdl *h);

/*
 * Validation the glue runs before it copies anything in: op known and
 * applicable to the handle (h may be NULL for VPC_HANDLE_NONE), keylen and
 * *vallen acceptable.  On success *usable is how many value bytes the op may
 * write (vallen capped at VPC_CTL_MAX_VALLEN), and *desc describes the op
 * (the glue needs vpc_opdesc_handle_off() to undo a descriptor on a failed
 * copy-out).
 */
int  vpc_ctl_check(const struct vpc_hdl *h, vpc_op_t op, size_t keylen,
         size_t vallen, size_t *usable, const struct vpc_opdesc **desc);
/*
 * Run an op on kernel copies of key and value.  Calls vpc_ctl_check itself.
 * *vallen: in, the value buffer's size; out, the bytes written (or, with
 * ERANGE, the bytes needed).
 */
int  vpc_core_ctl(struct vpc_sys *sys, const struct vpc_call *call,
         struct vpc_hdl *h, vpc_op_t op, const void *key, size_t keylen,
         void *val, size_t *vallen);
/*
 * The same in two steps, for a glue that can answer its caller before the
 * op's frames go out (vpc-hostd replies, then sends).  vpc_core_ctl_start
 * runs the op and returns with the control lock dropped; when the op left
 * frames to send (the held frames of answered upcalls) or reserved room for
 * them, it returns inside the epoch with them in *later.
 * vpc_core_ctl_finish sends them, leaves the epoch and frees *later.  Every
 * start is followed by its finish; in between the control lock is free and
 * other ops may run.  vpc_core_ctl is start then finish.
 */
struct vpc_ctl_later {
	struct vpc_after *after;        /* NULL: nothing to send or free */
	uint32_t          nafter, nafter_cap;
	struct os_epoch   et;
};
int  vpc_core_ctl_start(struct vpc_sys *sys, const struct vpc_call *call,
         struct vpc_hdl *h, vpc_op_t op, const void *key, size_t keylen,
         void *val, size_t *vallen, struct vpc_ctl_later *later);
void vpc_core_ctl_finish(struct vpc_sys *sys, struct vpc_ctl_later *later);
/* Offset in the value of a descriptor the op returns, or -1. */
int  vpc_opdesc_handle_off(const struct vpc_opdesc *d);
/*
 * Whether the op changes anything.  The glue copies results out after the
 * op has run, so before running such an op it makes sure the copy-out
 * cannot fault: an error must mean nothing happened.
 */
bool vpc_opdesc_changes_state(const struct vpc_opdesc *d);
const char *vpc_op_name(vpc_op_t op);

/* ---- The data path (inside the epoch; never sleeps; consumes p) ---------- */

struct vpc_nic;
struct vpc_vcc;
struct vpc_pkt;
/* A frame the VM behind this vmnic sent. */
void vpc_nic_input(struct vpc_nic *nic, struct vpc_pkt *p);
/*
 * Frames for the underlay, gathered and sent together through
 * os_vcc_output_many() (one vcc at a time, in order), each counted as it
 * fared: while held frames are released (vpc_core_ctl_finish), and for a
 * burst from a vmnic when its caller lends one.  Every switch and vcc in
 * it stays alive until the flush: the caller holds the epoch throughout.
 * The core fills it and empties it before it returns to the glue.
 */
struct vpc_switch;
struct vpc_txbatch {
	struct vpc_vcc     *vcc;
	unsigned            n;
	struct vpc_switch  *sw[VPC_TXBATCH_MAX];
	struct vpc_pkt     *pkts[VPC_TXBATCH_MAX];
	struct vpc_underlay dsts[VPC_TXBATCH_MAX];
	uint16_t            sports[VPC_TXBATCH_MAX];
	int                 errors[VPC_TXBATCH_MAX];
};
/*
 * Frames the VM behind this vmnic sent, in order: exactly vpc_nic_input on
 * each in turn, faster when the glue has several at once (it prefetches
 * what their lookups will read, VPC_BURST_MAX frames at a time;
 * vpc_fwd_burst.c).  One epoch section may cover the whole burst.  With tx
 * (storage the glue owns, empty, used by one burst at a time) the frames
 * for the underlay leave in batches, each destination's in order, all of
 * them before this returns; with NULL each leaves as it is forwarded.
 */
#define VPC_BURST_MAX 32
void vpc_nic_input_burst(struct vpc_nic *nic, struct vpc_pkt *const *pkts,
         unsigned n, struct vpc_txbatch *tx);
/* A UDP datagram that arrived at the vcc's port (VXLAN header first). */
void vpc_vcc_input(struct vpc_vcc *vcc, struct vpc_pkt *p);
/*
 * Frames os_nic_output held (OS_NIC_HELD) were written to the VM, or were
 * not: counted now on the vmnic's switch as os_nic_output's answer would
 * have been (TX_LOCAL or DROP_TX), so that a frame the switch counted as
 * delivered was.  In the epoch.
 */
void vpc_nic_output_done(struct vpc_nic *nic, uint32_t frames, bool delivered);
/* VNI 0: a frame from the vcc's raw L2 device. */
void vpc_vcc_l2_input(struct vpc_vcc *vcc, struct vpc_pkt *p);
/* VNI 0: is there an uplink on this VLAN (0: untagged) to take a frame? */
bool vpc_vcc_l2_wants(struct vpc_vcc *vcc, uint16_t vlan);

/* A frame a bound vpclink's interface brought (vpc_link.c): taken, or
 * handed back through os_link_pass. */
struct vpc_link;
void vpc_link_input(struct vpc_link *link, struct vpc_pkt *p);
void **vpc_link_osp(struct vpc_link *link);

/* What the glue may know of a vmnic and a vcc. */
void **vpc_nic_osp(struct vpc_nic *nic);        /* the glue's own pointer */
void   vpc_nic_mac(const struct vpc_nic *nic, uint8_t mac[6]);
const char *vpc_nic_ifname(const struct vpc_nic *nic);
struct vpc_sys *vpc_nic_sys(const struct vpc_nic *nic);
/* The vmnic's MTU in effect (IP MTU, without the Ethernet header). */
uint32_t vpc_nic_mtu(const struct vpc_nic *nic);
/*
 * Someone asked the OS's interface for an MTU (FreeBSD: ifconfig's
 * SIOCSIFMTU).  Takes the control lock (may sleep), finds the vmnic match()
 * says is the one, and sets its MTU as NIC_SET_MTU would without
 * VPC_NIC_MTU_FORCE (os_nic_set_mtu is called with the lock held).  0, or
 * VPC_EINVAL (out of bounds, more than the underlay carries), or VPC_ENXIO
 * (no such vmnic any more).
 */
int vpc_nic_mtu_request(struct vpc_sys *sys,
    bool (*match)(struct vpc_nic *, void *), void *arg, uint32_t mtu);
void **vpc_vcc_osp(struct vpc_vcc *vcc);
struct vpc_sys *vpc_vcc_sys(const struct vpc_vcc *vcc);

/* ---- The upcall channel ------------------------------------------------------ */

/* One reader at a time: EBUSY for a second. */
int    vpc_upcall_attach(struct vpc_sys *sys);
/* The reader went away: what it had not answered goes to the next one. */
void   vpc_upcall_detach(struct vpc_sys *sys);
/* Whole vpc_upcall_req_t records into buf; returns the bytes written. */
size_t vpc_upcall_read(struct vpc_sys *sys, void *buf, size_t len);
bool   vpc_upcall_readable(struct vpc_sys *sys);
/* How long an unanswered request waits while a reader is attached (default
 * VPC_UPCALL_TIMEOUT_MS; >= 100), and while none is (default
 * VPC_UPCALL_ORPHAN_MS; never less than the first). */
void   vpc_upcall_set_timeout(struct vpc_sys *sys, uint32_t ms);
void   vpc_upcall_set_orphan_timeout(struct vpc_sys *sys, uint32_t ms);

/* The op table, for tools that generate the TypeScript layouts. */
struct vpc_opinfo {
	vpc_op_t    op;
	const char *name;
	uint32_t    types;      /* bit (1 << VPC_TYPE_*); bit 0 = VPC_HANDLE_NONE */
	uint32_t    keysz;      /* exact size, or element size when key_array */
	const char *keytype;    /* its type's name in vpc.h; NULL: no key */
	uint32_t    valsz;      /* exact size, or element size when val_array */
	const char *valtype;    /* its type's name in vpc.h; NULL: no value */
	uint8_t     key_array;
	uint8_t     val_array;
	uint8_t     mutating;
	uint8_t     privileged;
	uint8_t     changes_state;      /* vpc_opdesc_changes_state() */
	int32_t     handle_off;
};
size_t vpc_op_count(void);
void   vpc_op_info(size_t i, struct vpc_opinfo *out);

#endif /* _VPC_CORE_H_ */
