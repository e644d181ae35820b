/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_nic.c: a vmnic is an Ethernet ifnet, "vmnicN".
 *
 * The ifnet follows the core's object, not the other way round: NIC objects
 * are made through vpc_open(2) (or by a switch port), and os_nic_attach()
 * creates the interface with 14's if_clone KPI (ifc_attach_cloner() once,
 * ifc_create_ifp() per vmnic).  "ifconfig vmnic create" is refused
 * (EOPNOTSUPP), and "ifconfig vmnic0 destroy" answers EBUSY while the core
 * object exists; only the core (os_nic_detach) or a forced detach of the
 * cloner (IFC_F_FORCE, module unload, when no object can exist) destroys
 * one.  The cloner lives in vnet0: vmnics are the host's; an operator may
 * move one into a vnet jail (ifconfig vmnic0 vnet j), and it comes back
 * when the jail dies.
 *
 * The two directions, seen from the VM behind the vmnic:
 *  - What the VM sends is what the ifnet *transmits* (if_transmit): bhyve's
 *    netgraph backend writes into ng_ether's "lower" hook, which hands it
 *    to ether_output_frame() and so to us; the host stack (an address on
 *    vmnic0) or a bpf(4) writer gets there the same way.  We tap bpf and
 *    give the frame to the switch, vpc_nic_input(), inside the network
 *    epoch.
 *  - What the switch delivers to the VM is *input* to the ifnet: if_input(),
 *    i.e. ether_input(), which taps bpf and, when ng_ether's "lower" hook
 *    is connected, diverts the frame there (to bhyve) before the host stack
 *    could see it.
 * Input is never dispatched from inside the switch: a frame the host stack
 * sends on vmnicA (holding, say, a TCP inpcb lock) could otherwise come
 * straight back up through vmnicB into the same stack on the same thread.
 * So os_nic_output() queues the frame on the vmnic (bounded, drops counted
 * as IQDROPS) and a taskqueue thread calls if_input() with no lock held,
 * as epair(4) does for the same reason.
 *
 * The MTU is the core object's (NIC_SET_MTU, or the default that follows
 * the underlay): os_nic_set_mtu() sets if_mtu and tells the stack as
 * ifhwioctl() would.  "ifconfig vmnic0 mtu N" goes to the core too, as an
 * unforced NIC_SET_MTU would (EINVAL outside 1280-9000 or over what the
 * underlay carries); it needs VPC_PRIV besides PRIV_NET_SETIFMTU, so root
 * in a jail the vmnic was moved into gets EPERM, as for any other object.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/mutex.h>
#include <sys/priority.h>
#include <sys/priv.h>
#include <sys/proc.h>
#include <sys/smp.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/sysctl.h>
#include <sys/taskqueue.h>

#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_var.h>
#include <net/if_clone.h>
#include <net/if_types.h>
#include <net/route.h>
#include <net/vnet.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

_Static_assert(VPC_IFNAMSIZ == IFNAMSIZ, "VPC_IFNAMSIZ is not IFNAMSIZ");
_Static_assert(VPC_NIC_MTU_MIN >= IF_MINMTU && VPC_NIC_MTU_MAX <= IF_MAXMTU,
    "vmnic MTUs outside what ifnets take");

struct vmnic_softc {
	struct mtx	 mtx;		/* the fields below, the receive queue */
	if_t		 ifp;		/* NULL once the interface is gone */
	struct vpc_nic	*nic;		/* the core's object; NULL once detached */
	bool		 detaching;	/* the core asked for the interface to go */
	bool		 rx_dying;	/* no more queueing or scheduling */
	bool		 rx_running;	/* a task thread is delivering rxq */
	struct mbufq	 rxq;		/* frames for the VM, to if_input() */
	struct task	 rxtask;
	struct os_defer	 defer;		/* freed after the epoch */
};

static const char vmnic_name[] = "vmnic";
static struct if_clone *vmnic_cloner;
static struct taskqueue *vmnic_tq;

static int vmnic_rxq_len = 1024;
SYSCTL_INT(_net_vpc, OID_AUTO, vmnic_rxq_len, CTLFLAG_RDTUN,
    &vmnic_rxq_len, 0, "Frames queued per vmnic towards the VM");

/* ---- The ifnet ------------------------------------------------------------ */

static void
vmnic_init(void *arg)
{
	struct vmnic_softc *sc = arg;
	if_t ifp = sc->ifp;

	if (ifp == NULL)
		return;
	if_setdrvflagbits(ifp, IFF_DRV_RUNNING, 0);
	if_link_state_change(ifp, LINK_STATE_UP);
}

static bool	vmnic_is(struct vpc_nic *nic, void *arg);

/*
 * ifconfig's MTU: the core's object decides (and calls os_nic_set_mtu,
 * which sets if_mtu before we return; ifhwioctl then tells the stack).
 */
static int
vmnic_ioctl_mtu(if_t ifp, int mtu)
{
	struct vpc_sys *sys;
	int error;

	if (mtu == if_getmtu(ifp))
		return (0);
	if ((error = priv_check(curthread, VPC_PRIV)) != 0)
		return (error);
	if (mtu < VPC_NIC_MTU_MIN || mtu > VPC_NIC_MTU_MAX)
		return (EINVAL);
	if ((sys = vpc_fbsd_enter()) == NULL)
		return (ENXIO);
	error = vpc_nic_mtu_request(sys, vmnic_is, ifp, (uint32_t)mtu);
	vpc_fbsd_exit();
	return (error);
}

static int
vmnic_ioctl(if_t ifp, u_long cmd, caddr_t data)
{
	struct ifreq *ifr = (struct ifreq *)data;

	switch (cmd) {
	case SIOCSIFFLAGS:
		if ((if_getflags(ifp) & IFF_UP) != 0) {
			if_setdrvflagbits(ifp, IFF_DRV_RUNNING, 0);
			if_link_state_change(ifp, LINK_STATE_UP);
		} else {
			if_setdrvflagbits(ifp, 0, IFF_DRV_RUNNING);
			if_link_state_change(ifp, LINK_STATE_DOWN);
		}
		return (0);
	case SIOCADDMULTI:
	case SIOCDELMULTI:
		return (0);		/* the switch floods multicast */
	case SIOCSIFMTU:
		return (vmnic_ioctl_mtu(ifp, ifr->ifr_mtu));
	default:
		return (ether_ioctl(ifp, cmd, data));
	}
}

/* The VM sent a frame: into the switch. */
static int
vmnic_transmit(if_t ifp, struct mbuf *m)
{
	struct vmnic_softc *sc = if_getsoftc(ifp);
	struct epoch_tracker et;
	struct vpc_nic *nic;
	int len;

	ETHER_BPF_MTAP(ifp, m);
	if ((if_getdrvflags(ifp) & IFF_DRV_RUNNING) == 0) {
		m_freem(m);
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		return (ENETDOWN);
	}
	/* Nothing offloaded: we advertise no capabilities. */
	if ((m->m_flags & M_VLANTAG) != 0) {
		m = ether_vlanencap(m, m->m_pkthdr.ether_vtag);
		if (m == NULL) {
			if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
			return (ENOBUFS);
		}
		m->m_flags &= ~M_VLANTAG;
	}
	m->m_nextpkt = NULL;
	m->m_pkthdr.csum_flags = 0;
	len = m->m_pkthdr.len;

	NET_EPOCH_ENTER(et);
	nic = atomic_load_ptr(&sc->nic);
	if (nic == NULL) {
		NET_EPOCH_EXIT(et);
		m_freem(m);
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		return (ENXIO);
	}
	vpc_nic_input(nic, vpc_m2pkt(m));
	NET_EPOCH_EXIT(et);
	if_inc_counter(ifp, IFCOUNTER_OPACKETS, 1);
	if_inc_counter(ifp, IFCOUNTER_OBYTES, len);
	return (0);
}

static void
vmnic_qflush(if_t ifp __unused)
{
	/* No transmit queue: frames go into the switch at once. */
}

/*
 * Frames for the VM, outside the switch's call chain (see the top).  The
 * taskqueue has a thread per CPU and runs a task that is enqueued again
 * while it runs on another thread at once: rx_running keeps delivery for
 * one vmnic on one thread at a time, so the VM gets its frames in order.
 * The thread that finds it set leaves the frames to the one delivering.
 */
static void
vmnic_rx_task(void *arg, int pending __unused)
{
	struct vmnic_softc *sc = arg;
	struct epoch_tracker et;
	struct mbuf *m, *n;
	if_t ifp;
	int count;

	mtx_lock(&sc->mtx);
	if (sc->rx_running) {
		mtx_unlock(&sc->mtx);
		return;
	}
	sc->rx_running = true;
	while ((m = mbufq_flush(&sc->rxq)) != NULL) {
		ifp = sc->ifp;
		mtx_unlock(&sc->mtx);
		for (count = 0, n = m; n != NULL; n = n->m_nextpkt)
			count++;
		if_inc_counter(ifp, IFCOUNTER_IPACKETS, count);
		NET_EPOCH_ENTER(et);
		if_input(ifp, m);	/* a chain: ether_input splits it */
		NET_EPOCH_EXIT(et);
		mtx_lock(&sc->mtx);
	}
	sc->rx_running = false;
	mtx_unlock(&sc->mtx);
}

/* ---- if_clone ------------------------------------------------------------- */

static int
vmnic_clone_create(struct if_clone *ifc __unused, char *name __unused,
    size_t len __unused, struct ifc_data *ifd, if_t *ifpp)
{
	struct vmnic_softc *sc;
	uint8_t mac[ETHER_ADDR_LEN];
	if_t ifp;

	/* Only os_nic_attach() passes a kernel pointer. */
	if ((ifd->flags & IFC_F_SYSSPACE) == 0 || ifd->params == NULL)
		return (EOPNOTSUPP);
	sc = ifd->params;

	ifp = if_alloc(IFT_ETHER);
	if_initname(ifp, vmnic_name, ifd->unit);
	if_setsoftc(ifp, sc);
	if_setflags(ifp, IFF_BROADCAST | IFF_SIMPLEX | IFF_MULTICAST);
	if_setinitfn(ifp, vmnic_init);
	if_setioctlfn(ifp, vmnic_ioctl);
	if_settransmitfn(ifp, vmnic_transmit);
	if_setqflushfn(ifp, vmnic_qflush);
	mtx_lock(&sc->mtx);
	sc->ifp = ifp;
	mtx_unlock(&sc->mtx);
	/* The core's MAC: all zero until NIC_SET_MAC. */
	vpc_nic_mac(sc->nic, mac);
	ether_ifattach(ifp, mac);
	if_setmtu(ifp, (int)vpc_nic_mtu(sc->nic));	/* ether_ifattach: 1500 */
	*ifpp = ifp;
	return (0);
}

/* Take the interface down for good; the softc stays (the core owns it). */
static void
vmnic_teardown(struct vmnic_softc *sc, if_t ifp)
{
	mtx_lock(&sc->mtx);
	sc->rx_dying = true;
	mtx_unlock(&sc->mtx);
	taskqueue_drain(vmnic_tq, &sc->rxtask);
	mtx_lock(&sc->mtx);
	mbufq_drain(&sc->rxq);
	mtx_unlock(&sc->mtx);

	ether_ifdetach(ifp);	/* bpf, ng_ether and addresses go; if_dead() */
	mtx_lock(&sc->mtx);
	sc->ifp = NULL;
	mtx_unlock(&sc->mtx);
	if_free(ifp);
}

static int
vmnic_clone_destroy(struct if_clone *ifc __unused, if_t ifp, uint32_t flags)
{
	struct vmnic_softc *sc = if_getsoftc(ifp);
	bool detaching;

	mtx_lock(&sc->mtx);
	detaching = sc->detaching;
	mtx_unlock(&sc->mtx);
	if (!detaching && (flags & IFC_F_FORCE) == 0)
		return (EBUSY);	/* the core's object holds it: DESTROY that */
	vmnic_teardown(sc, ifp);
	return (0);
}

/* The interface, referenced, or NULL once it is gone. */
static if_t
vmnic_ifp_ref(struct vmnic_softc *sc)
{
	if_t ifp;

	mtx_lock(&sc->mtx);
	ifp = sc->ifp;
	if (ifp != NULL)
		if_ref(ifp);
	mtx_unlock(&sc->mtx);
	return (ifp);
}

static struct vmnic_softc *
vmnic_of(struct vpc_nic *nic)
{
	return (atomic_load_ptr((struct vmnic_softc **)vpc_nic_osp(nic)));
}

/*
 * vpc_nic_mtu_request's match, with the control lock held: a live vmnic's
 * softc is live, and the ifnet we compare with is referenced by the ioctl
 * that asks, so no other vmnic can have it.
 */
static bool
vmnic_is(struct vpc_nic *nic, void *arg)
{
	struct vmnic_softc *sc = vmnic_of(nic);
	bool is;

	if (sc == NULL)
		return (false);
	mtx_lock(&sc->mtx);
	is = sc->ifp == arg;
	mtx_unlock(&sc->mtx);
	return (is);
}

/* ---- The core's hooks (control context, control lock held) ------------------ */

int
os_nic_attach(struct vpc_nic *nic)
{
	struct ifc_data ifd;
	struct vmnic_softc *sc;
	if_t ifp;
	int error;

	sc = malloc(sizeof(*sc), M_VPC, M_WAITOK | M_ZERO);
	mtx_init(&sc->mtx, "vmnic", NULL, MTX_DEF);
	mbufq_init(&sc->rxq, vmnic_rxq_len);
	TASK_INIT(&sc->rxtask, 0, vmnic_rx_task, sc);
	sc->nic = nic;

	bzero(&ifd, sizeof(ifd));
	ifd.flags = IFC_F_SYSSPACE;
	ifd.params = sc;
	CURVNET_SET(vnet0);
	error = ifc_create_ifp(vmnic_name, &ifd, &ifp);
	CURVNET_RESTORE();
	if (error != 0) {
		mtx_destroy(&sc->mtx);
		free(sc, M_VPC);
		/*
		 * EEXIST (another interface is literally named "vmnic") would
		 * read as "id in use" to vpc_open's caller: out of names.
		 */
		return (error == EEXIST ? ENOSPC : error);
	}
	atomic_store_rel_ptr((uintptr_t *)vpc_nic_osp(nic), (uintptr_t)sc);
	return (0);
}

static void
vmnic_free(struct os_defer *d)
{
	struct vmnic_softc *sc = __containerof(d, struct vmnic_softc, defer);

	mtx_destroy(&sc->mtx);
	free(sc, M_VPC);
}

void
os_nic_detach(struct vpc_nic *nic)
{
	struct vmnic_softc *sc = vmnic_of(nic);
	if_t ifp;
	int error;

	if (sc == NULL)
		return;
	atomic_store_rel_ptr((uintptr_t *)vpc_nic_osp(nic), (uintptr_t)NULL);
	mtx_lock(&sc->mtx);
	atomic_store_ptr(&sc->nic, NULL);	/* transmit stops feeding us */
	sc->detaching = true;
	mtx_unlock(&sc->mtx);

	/*
	 * if_clone_destroyif() unlinks the interface from the cloner before it
	 * calls us; ENXIO means somebody else has it unlinked right now (a
	 * racing "ifconfig destroy" that is about to get EBUSY and put it
	 * back, or that saw "detaching" and is destroying it for us).
	 */
	while ((ifp = vmnic_ifp_ref(sc)) != NULL) {
		error = if_clone_destroyif(vmnic_cloner, ifp);
		if_rele(ifp);
		if (error == 0)
			break;
		KASSERT(error == ENXIO, ("%s: destroy: %d", __func__, error));
		pause("vmnicdt", 1);
	}
	/*
	 * Data-path readers may still hold sc (os_nic_output): after them,
	 * and counted, so that unload waits for it (vpc_fbsd_epoch_drain).
	 */
	os_epoch_defer(&sc->defer, vmnic_free);
}

int
os_nic_set_mac(struct vpc_nic *nic, const uint8_t mac[6])
{
	struct vmnic_softc *sc = vmnic_of(nic);
	if_t ifp;
	int error;

	if (sc == NULL || (ifp = vmnic_ifp_ref(sc)) == NULL)
		return (ENXIO);
	CURVNET_SET(if_getvnet(ifp));
	error = if_setlladdr(ifp, mac, ETHER_ADDR_LEN);
	CURVNET_RESTORE();
	if_rele(ifp);
	return (error);
}

/* What ifhwioctl(SIOCSIFMTU) does after the driver took a new MTU. */
int
os_nic_set_mtu(struct vpc_nic *nic, uint32_t mtu)
{
	struct vmnic_softc *sc = vmnic_of(nic);
	if_t ifp;

	if (mtu < VPC_NIC_MTU_MIN || mtu > VPC_NIC_MTU_MAX)
		return (EINVAL);
	if (sc == NULL || (ifp = vmnic_ifp_ref(sc)) == NULL)
		return (ENXIO);
	CURVNET_SET(if_getvnet(ifp));
	if (if_getmtu(ifp) != (int)mtu) {
		if_setmtu(ifp, (int)mtu);
		rt_ifmsg(ifp, 0);
		if_notifymtu(ifp);
	}
	CURVNET_RESTORE();
	if_rele(ifp);
	return (0);
}

/*
 * if_rename() renames an interface that is up, too (ng_ether follows the
 * new name).  One that was moved into a vnet jail is that jail's to name
 * now: EBUSY, as the ABI says.
 */
int
os_nic_set_ifname(struct vpc_nic *nic, const char *name)
{
	struct vmnic_softc *sc = vmnic_of(nic);
	char newname[IFNAMSIZ];
	if_t ifp;
	int error;

	if (sc == NULL || (ifp = vmnic_ifp_ref(sc)) == NULL)
		return (ENXIO);
#ifdef VIMAGE
	if (if_getvnet(ifp) != vnet0) {
		if_rele(ifp);
		return (EBUSY);
	}
#endif
	strlcpy(newname, name, sizeof(newname));
	CURVNET_SET(if_getvnet(ifp));
	error = if_rename(ifp, newname);
	CURVNET_RESTORE();
	if_rele(ifp);
	return (error);
}

void
os_nic_get_ifname(struct vpc_nic *nic, char name[VPC_IFNAMSIZ])
{
	struct vmnic_softc *sc = vmnic_of(nic);
	if_t ifp;

	if (sc != NULL && (ifp = vmnic_ifp_ref(sc)) != NULL) {
		strlcpy(name, if_name(ifp), VPC_IFNAMSIZ);
		if_rele(ifp);
	} else
		strlcpy(name, vpc_nic_ifname(nic), VPC_IFNAMSIZ);
}

/* ---- Output to the VM (data path, in the epoch; consumes p) ------------------- */

int
os_nic_output(struct vpc_nic *nic, struct vpc_pkt *p)
{
	struct vmnic_softc *sc = vmnic_of(nic);
	struct mbuf *m = vpc_pkt2m(p);
	bool kick;
	int error;

	if (sc == NULL) {
		m_freem(m);
		return (ENXIO);
	}
	m->m_nextpkt = NULL;
	if (m->m_len < ETHER_HDR_LEN &&
	    (m = m_pullup(m, ETHER_HDR_LEN)) == NULL)
		return (ENOBUFS);
	/* What the outer packet or another ifnet left behind is not ours. */
	m_clrprotoflags(m);
	m->m_flags &= ~(M_BCAST | M_MCAST);
	m->m_pkthdr.csum_flags = 0;

	mtx_lock(&sc->mtx);
	if (sc->rx_dying || sc->ifp == NULL ||
	    (if_getflags(sc->ifp) & IFF_UP) == 0) {
		mtx_unlock(&sc->mtx);
		m_freem(m);
		return (ENETDOWN);
	}
	if_setrcvif(m, sc->ifp);
	error = mbufq_enqueue(&sc->rxq, m);
	kick = error == 0 && mbufq_len(&sc->rxq) == 1;
	if (kick)
		taskqueue_enqueue(vmnic_tq, &sc->rxtask);
	if (error != 0)
		if_inc_counter(sc->ifp, IFCOUNTER_IQDROPS, 1);
	mtx_unlock(&sc->mtx);
	if (error != 0)
		m_freem(m);
	return (error);
}

/* ---- Module load and unload ------------------------------------------------------ */

int
vpc_fbsd_nic_load(void)
{
	struct if_clone_addreq req;

	vmnic_tq = taskqueue_create("vpc_vmnic", M_WAITOK,
	    taskqueue_thread_enqueue, &vmnic_tq);
	taskqueue_start_threads(&vmnic_tq, mp_ncpus, PI_NET, "vmnic rx");

	bzero(&req, sizeof(req));
	req.flags = IFC_F_AUTOUNIT;
	req.create_f = vmnic_clone_create;
	req.destroy_f = vmnic_clone_destroy;
	CURVNET_SET(vnet0);
	vmnic_cloner = ifc_attach_cloner(vmnic_name, &req);
	CURVNET_RESTORE();
	if (vmnic_cloner == NULL) {
		taskqueue_free(vmnic_tq);
		vmnic_tq = NULL;
		return (EEXIST);
	}
	return (0);
}

/* No vmnic exists any more (no object does); a leftover would be forced. */
void
vpc_fbsd_nic_unload(void)
{
	if (vmnic_cloner != NULL) {
		CURVNET_SET(vnet0);
		ifc_detach_cloner(vmnic_cloner);
		CURVNET_RESTORE();
		vmnic_cloner = NULL;
	}
	if (vmnic_tq != NULL) {
		taskqueue_free(vmnic_tq);
		vmnic_tq = NULL;
	}
}
