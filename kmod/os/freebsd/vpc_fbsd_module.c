/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_module.c: the "vpc" module's events, the gate, and net.vpc.
 *
 * Load creates the core's instance (one per kernel), the vmnic cloner, the
 * vmnic receive taskqueue and /dev/vpc_upcall; the two syscall modules of
 * the same file register after it (SI_SUB_SYSCALLS > SI_SUB_PSEUDO).
 *
 * Unload refuses (EBUSY) while any object exists, committed or not, any
 * handle is open in any process, or the upcall device is open; MOD_QUIESCE
 * says so first, for "kldunload" without -f, and MOD_UNLOAD decides it
 * again under the gate held exclusive, so that no syscall or device open
 * can slip in between the check and the teardown.  We never tear live
 * objects down: a committed switch carries tenants' traffic, and pulling
 * it out from under bhyve guests because somebody typed kldunload is not
 * what an operator wants (they DESTROY what they committed, then unload).
 * kldunload -f skips only the quiesce step; MOD_UNLOAD still refuses.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/epoch.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/module.h>
#include <sys/proc.h>
#include <sys/priv.h>
#include <sys/sx.h>
#include <sys/sysctl.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

/*
 * The gate outlives the module events (SX_SYSINIT runs at SI_SUB_LOCK on
 * load and its SYSUNINIT after every MOD_UNLOAD), so a syscall that comes
 * in after MOD_UNLOAD, before its slot is deregistered, finds it intact
 * and the instance gone (ENXIO).
 */
static struct sx vpc_gate;
SX_SYSINIT(vpc_gate, &vpc_gate, "vpc gate");

static struct vpc_sys *vpc_instance;

struct vpc_sys *
vpc_fbsd_enter(void)
{
	/*
	 * Not loaded yet, or unloaded: do not touch the gate.  The kernel
	 * runs a tunable's handler (net.vpc.upcall.timeout_ms) when it
	 * registers our sysctls, before any SYSINIT of ours, so before
	 * SX_SYSINIT has initialized the gate.  The instance is only ever
	 * set while the gate exists; it is checked again under it.
	 */
	if (atomic_load_ptr(&vpc_instance) == NULL)
		return (NULL);
	sx_slock(&vpc_gate);
	if (vpc_instance == NULL) {
		sx_sunlock(&vpc_gate);
		return (NULL);
	}
	return (vpc_instance);
}

void
vpc_fbsd_exit(void)
{
	sx_sunlock(&vpc_gate);
}

struct vpc_sys *
vpc_fbsd_sys(void)
{
	return (atomic_load_ptr(&vpc_instance));
}

static bool
vpc_busy_locked(struct vpc_sys *sys)
{
	sx_assert(&vpc_gate, SA_LOCKED);
	return (sys != NULL && (vpc_sys_busy(sys) || vpc_fbsd_upcall_busy()));
}

bool
vpc_fbsd_busy(void)
{
	bool busy;

	sx_slock(&vpc_gate);
	busy = vpc_busy_locked(vpc_instance);
	sx_sunlock(&vpc_gate);
	return (busy);
}

/* ---- net.vpc ---------------------------------------------------------------- */

SYSCTL_NODE(_net, OID_AUTO, vpc, CTLFLAG_RW | CTLFLAG_MPSAFE, 0,
    "vpc virtual switch");
static SYSCTL_NODE(_net_vpc, OID_AUTO, upcall, CTLFLAG_RW | CTLFLAG_MPSAFE, 0,
    "Upcalls: switch misses asked of the agent (/dev/vpc_upcall)");
static SYSCTL_NODE(_net_vpc, OID_AUTO, syscall, CTLFLAG_RD | CTLFLAG_MPSAFE, 0,
    "Slots of the dynamic system calls");

/*
 * Unprivileged callers (no PRIV_NET_VXLAN: ordinary users, any jail) may
 * not use vpc_open(2) or the global ops at all unless this is set; they
 * would otherwise read every tenant's switches, MACs and VTEPs.  Handles
 * passed to them over a Unix socket keep working: a handle is a capability.
 */
static int vpc_unpriv_read;
SYSCTL_INT(_net_vpc, OID_AUTO, unprivileged_read, CTLFLAG_RW,
    &vpc_unpriv_read, 0,
    "Let unprivileged callers open objects and read global state");

bool
vpc_fbsd_may_read(struct thread *td __unused, bool priv)
{
	return (priv || atomic_load_int(&vpc_unpriv_read) != 0);
}

/*
 * Counters read from the core's SYS_STATS or SYS_UPCALL_STATS, exactly as
 * vpc_ctl(2) would; arg2 says which struct and where the uint64_t is.
 */
#define	VPC_STAT_UPCALL		0x10000
#define	VPC_STAT_SYS(f)		__offsetof(vpc_sys_stats_t, f)
#define	VPC_STAT_UP(f)		(VPC_STAT_UPCALL | \
				    __offsetof(vpc_upcall_stats_t, f))

static int
vpc_sysctl_stat(SYSCTL_HANDLER_ARGS)
{
	struct vpc_call call = { .caller = NULL, .priv = false };
	union {
		vpc_sys_stats_t		sys;
		vpc_upcall_stats_t	up;
	} st;
	struct vpc_sys *sys;
	uint64_t val = 0;
	size_t len, off;
	vpc_op_t op;
	int error;

	if ((arg2 & VPC_STAT_UPCALL) != 0) {
		op = VPC_OP_SYS_UPCALL_STATS;
		len = sizeof(st.up);
	} else {
		op = VPC_OP_SYS_STATS;
		len = sizeof(st.sys);
	}
	off = arg2 & ~VPC_STAT_UPCALL;
	KASSERT(off + sizeof(val) <= len, ("%s: offset %zu", __func__, off));
	if ((sys = vpc_fbsd_enter()) != NULL) {
		error = vpc_core_ctl(sys, &call, NULL, op, NULL, 0, &st, &len);
		vpc_fbsd_exit();
		if (error != 0)
			return (error);
		memcpy(&val, (char *)&st + off, sizeof(val));
	}
	return (sysctl_handle_64(oidp, &val, 0, req));
}

#define	VPC_SYSCTL_STAT(parent, name, which, descr)			\
	SYSCTL_PROC(parent, OID_AUTO, name,				\
	    CTLTYPE_U64 | CTLFLAG_RD | CTLFLAG_MPSAFE, NULL, which,	\
	    vpc_sysctl_stat, "QU", descr)

VPC_SYSCTL_STAT(_net_vpc, objects, VPC_STAT_SYS(objects),
    "Live objects, all types");
VPC_SYSCTL_STAT(_net_vpc, handles, VPC_STAT_SYS(handles),
    "Open handles, all processes");
VPC_SYSCTL_STAT(_net_vpc, mem_bytes, VPC_STAT_SYS(mem_bytes),
    "Bytes the core has allocated");
VPC_SYSCTL_STAT(_net_vpc, mem_allocs, VPC_STAT_SYS(mem_allocs),
    "Allocations the core has outstanding");
VPC_SYSCTL_STAT(_net_vpc, vmnics, VPC_STAT_SYS(by_type[VPC_TYPE_NIC]),
    "vmnic objects");
VPC_SYSCTL_STAT(_net_vpc, switches, VPC_STAT_SYS(by_type[VPC_TYPE_SWITCH]),
    "Switch objects");
VPC_SYSCTL_STAT(_net_vpc, ports, VPC_STAT_SYS(by_type[VPC_TYPE_SWPORT]),
    "Switch port objects");
VPC_SYSCTL_STAT(_net_vpc, vccs, VPC_STAT_SYS(by_type[VPC_TYPE_VCC]),
    "VXLAN endpoint objects");
VPC_SYSCTL_STAT(_net_vpc, routers, VPC_STAT_SYS(by_type[VPC_TYPE_ROUTER]),
    "Router objects");
VPC_SYSCTL_STAT(_net_vpc, nats, VPC_STAT_SYS(by_type[VPC_TYPE_NAT]),
    "NAT objects");
VPC_SYSCTL_STAT(_net_vpc, links, VPC_STAT_SYS(by_type[VPC_TYPE_LINK]),
    "Link objects");
VPC_SYSCTL_STAT(_net_vpc_upcall, pending, VPC_STAT_UP(pending),
    "Requests not yet answered");
VPC_SYSCTL_STAT(_net_vpc_upcall, undelivered, VPC_STAT_UP(undelivered),
    "Requests not yet read");
VPC_SYSCTL_STAT(_net_vpc_upcall, held, VPC_STAT_UP(held),
    "Frames held for pending requests");
VPC_SYSCTL_STAT(_net_vpc_upcall, readers, VPC_STAT_UP(readers),
    "Readers attached (0 or 1)");
VPC_SYSCTL_STAT(_net_vpc_upcall, delivered, VPC_STAT_UP(delivered),
    "Requests handed to readers");
VPC_SYSCTL_STAT(_net_vpc_upcall, requeued, VPC_STAT_UP(requeued),
    "Requests handed back when a reader went away");

/*
 * Also loader tunables: the handler keeps the value for MOD_LOAD.  arg2
 * says which: 0 the timeout while a reader is attached, 1 the (longer)
 * one while none is, so that an agent restarting within it loses nothing.
 */
static u_int vpc_upcall_timeout_ms = VPC_UPCALL_TIMEOUT_MS;
static u_int vpc_upcall_orphan_ms = VPC_UPCALL_ORPHAN_MS;

static int
vpc_sysctl_upcall_timeout(SYSCTL_HANDLER_ARGS)
{
	u_int *where = arg2 == 0 ? &vpc_upcall_timeout_ms : &vpc_upcall_orphan_ms;
	struct vpc_sys *sys;
	u_int ms;
	int error;

	ms = atomic_load_int(where);
	error = sysctl_handle_int(oidp, &ms, 0, req);
	if (error != 0 || req->newptr == NULL)
		return (error);
	if (ms < 100 || ms > VPC_CAM_TTL_MAX_MS)
		return (EINVAL);
	atomic_store_int(where, ms);
	if ((sys = vpc_fbsd_enter()) != NULL) {
		if (arg2 == 0)
			vpc_upcall_set_timeout(sys, ms);
		else
			vpc_upcall_set_orphan_timeout(sys, ms);
		vpc_fbsd_exit();
	}
	return (0);
}
SYSCTL_PROC(_net_vpc_upcall, OID_AUTO, timeout_ms,
    CTLTYPE_UINT | CTLFLAG_RWTUN | CTLFLAG_MPSAFE, NULL, 0,
    vpc_sysctl_upcall_timeout, "IU",
    "Milliseconds an unanswered request a reader holds waits before its "
    "frames are dropped");
SYSCTL_PROC(_net_vpc_upcall, OID_AUTO, orphan_timeout_ms,
    CTLTYPE_UINT | CTLFLAG_RWTUN | CTLFLAG_MPSAFE, NULL, 1,
    vpc_sysctl_upcall_timeout, "IU",
    "Milliseconds an unanswered request waits while no reader is attached "
    "(at least timeout_ms): an agent restarting within it loses nothing");

static int
vpc_sysctl_slot(SYSCTL_HANDLER_ARGS)
{
	int slot = vpc_fbsd_syscall_slot((int)arg2);

	return (sysctl_handle_int(oidp, &slot, 0, req));
}
SYSCTL_PROC(_net_vpc_syscall, OID_AUTO, vpc_open,
    CTLTYPE_INT | CTLFLAG_RD | CTLFLAG_MPSAFE, NULL, 0, vpc_sysctl_slot, "I",
    "System call number of vpc_open (also modstat of sys/vpc_open)");
SYSCTL_PROC(_net_vpc_syscall, OID_AUTO, vpc_ctl,
    CTLTYPE_INT | CTLFLAG_RD | CTLFLAG_MPSAFE, NULL, 1, vpc_sysctl_slot, "I",
    "System call number of vpc_ctl (also modstat of sys/vpc_ctl)");

static int
vpc_sysctl_log_dropped(SYSCTL_HANDLER_ARGS)
{
	uint64_t val = vpc_fbsd_log_dropped();

	return (sysctl_handle_64(oidp, &val, 0, req));
}
SYSCTL_PROC(_net_vpc, OID_AUTO, log_dropped,
    CTLTYPE_U64 | CTLFLAG_RD | CTLFLAG_MPSAFE, NULL, 0,
    vpc_sysctl_log_dropped, "QU", "Log lines suppressed by the rate limit");

/*
 * The core's invariant checker, on demand.  It walks the whole object graph
 * under the control lock, so it is hidden from "sysctl -a" (CTLFLAG_SKIP)
 * and privileged: anyone else could stall every control op with it.
 */
static int
vpc_sysctl_check(SYSCTL_HANDLER_ARGS)
{
	struct vpc_sys *sys;
	char why[120];
	int error;

	if ((error = priv_check(req->td, VPC_PRIV)) != 0)
		return (error);
	if ((sys = vpc_fbsd_enter()) == NULL)
		return (ENXIO);
	why[0] = '\0';
	error = vpc_sys_check(sys, why, sizeof(why));
	vpc_fbsd_exit();
	if (error == 0)
		strlcpy(why, "ok", sizeof(why));
	return (sysctl_handle_string(oidp, why, sizeof(why), req));
}
SYSCTL_PROC(_net_vpc, OID_AUTO, check,
    CTLTYPE_STRING | CTLFLAG_RD | CTLFLAG_MPSAFE | CTLFLAG_SKIP, NULL, 0,
    vpc_sysctl_check, "A",
    "Check the core's invariants now: \"ok\", or the first one that fails");

/* ---- Module events ------------------------------------------------------------------ */

static int
vpc_load(void)
{
	struct vpc_sys *sys;
	int error;

	vpc_fbsd_ifhook_load();		/* the departure event, first */
	if ((error = vpc_sys_create(&sys)) != 0) {
		vpc_fbsd_ifhook_unload();
		return (error);
	}
	if ((error = vpc_fbsd_nic_load()) != 0)
		goto fail_sys;
	if ((error = vpc_fbsd_upcall_load(sys)) != 0)
		goto fail_nic;
	vpc_upcall_set_timeout(sys, atomic_load_int(&vpc_upcall_timeout_ms));
	vpc_upcall_set_orphan_timeout(sys, atomic_load_int(&vpc_upcall_orphan_ms));
	sx_xlock(&vpc_gate);
	vpc_instance = sys;
	sx_xunlock(&vpc_gate);
	return (0);

fail_nic:
	vpc_fbsd_nic_unload();
fail_sys:
	(void)vpc_sys_destroy(sys);
	vpc_fbsd_ifhook_unload();
	vpc_fbsd_epoch_drain();
	return (error);
}

/* With INVARIANTS, the core checks itself one last time. */
static void
vpc_check_at_unload(struct vpc_sys *sys __unused)
{
#ifdef INVARIANTS
	char why[120];

	if (vpc_sys_check(sys, why, sizeof(why)) != 0)
		printf("vpc: invariant failed at unload: %s\n", why);
#endif
}

static int
vpc_unload(void)
{
	struct vpc_sys *sys;
	int error;

	sx_xlock(&vpc_gate);
	sys = vpc_instance;
	if (vpc_busy_locked(sys)) {
		sx_xunlock(&vpc_gate);
		return (EBUSY);
	}
	/* From here every entry point answers ENXIO. */
	vpc_instance = NULL;
	sx_xunlock(&vpc_gate);
	if (sys == NULL)
		return (0);

	/*
	 * No object is left, but a data-path thread that reached one before
	 * it died may still be inside the epoch, using what goes next: the
	 * instance (its upcall queue, counters, VNI table) and the upcall
	 * device's lock (os_upcall_notify).  Let every such reader leave.
	 */
	NET_EPOCH_WAIT();
	vpc_check_at_unload(sys);
	vpc_fbsd_upcall_unload();	/* destroy_dev: waits for d_* callers */
	vpc_fbsd_nic_unload();		/* cloner and receive taskqueue */
	error = vpc_sys_destroy(sys);	/* drains the upcall timer */
	KASSERT(error == 0, ("%s: instance still busy: %d", __func__, error));
	/* Every link and VNI 0 vcc let its interface go when it died. */
	vpc_fbsd_ifhook_unload();
	/*
	 * Objects, CAM tables and port sets are freed from network epoch
	 * callbacks that run our code, and some of those queue more: wait
	 * for every one of them before the text goes, and before
	 * malloc_uninit(M_VPC) counts what is left.  Sockets were closed
	 * when their vcc died; a tunneling callback still running then has
	 * finished by now too (a callback is queued behind the grace period).
	 */
	vpc_fbsd_epoch_drain();
	return (error);
}

static int
vpc_modevent(module_t mod __unused, int what, void *arg __unused)
{
	switch (what) {
	case MOD_LOAD:
		return (vpc_load());
	case MOD_QUIESCE:
		return (vpc_fbsd_busy() ? EBUSY : 0);
	case MOD_UNLOAD:
		return (vpc_unload());
	case MOD_SHUTDOWN:
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t vpc_mod = {
	"vpc",
	vpc_modevent,
	NULL
};
DECLARE_MODULE(vpc, vpc_mod, SI_SUB_PSEUDO, SI_ORDER_ANY);
MODULE_VERSION(vpc, 1);
