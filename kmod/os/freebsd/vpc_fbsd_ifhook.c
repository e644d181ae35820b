/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_ifhook.c: taking over an Ethernet ifnet for a vpclink (the
 * outside of a NAT) and a VNI 0 vcc (a raw, VLAN-tagged L2 uplink).
 *
 * The hook is the one if_bridge(4) uses: the if_bridge, if_bridge_input,
 * if_bridge_output and if_bridge_linkstate fields of struct ifnet
 * (sys/net/if_private.h).  ether_input_internal() gives every received
 * frame to if_bridge_input() once it has tapped bpf, trimmed the FCS and
 * moved an in-band 802.1Q tag into M_VLANTAG; a frame the hook returns goes
 * on to carp, the M_PROMISC check and ether_demux() as if nothing had been
 * there, and the hook is not called for it again (if_bridge's
 * bridge_input() returns m for its member's own frames the same way).
 * ether_output() gives the node's own frames to if_bridge_output(), which
 * here sends them on with ether_output_frame() unchanged.
 *
 * Taking (vpc_ifhook_take) makes bridge_ioctl_add()'s checks: the
 * interface exists (ENXIO; the link answers ENODEV), is Ethernet or a VLAN (else ENODEV, as the
 * host kernel answers for a non-Ethernet link), is in no bridge or lagg
 * and is not hooked by anything else (EBUSY); then LRO off (merged
 * segments would reach NAT larger than the MTU), promiscuous mode on (a
 * VNI 0 switch's VMs have their own MACs), the hook installed last.  All
 * of it is put back when the last user lets go; when the interface departs
 * (ifnet_departure_event) the hook is taken out and, as if_bridge does for
 * a departing member, nothing else is restored.  The interface's MTU is
 * not changed (if_bridge matches members to the bridge's; vpc has no MTU
 * of its own for an uplink): a frame longer than the interface's MTU is
 * refused at output with EMSGSIZE, which the core counts.
 *
 * One ifnet serves at most one vpclink and one VNI 0 vcc at a time.  What
 * arrives goes:
 *  - to the vcc when the core says a VNI 0 uplink of it takes that VLAN
 *    (vpc_vcc_l2_wants; 0 is untagged), except unicast to the interface's
 *    own MAC (the node's and the link's); a broadcast or multicast frame
 *    is copied to the vcc and goes on as well (ARP for the node, for an
 *    EIP);
 *  - untagged, to the link, whose core (vpc_link_input) takes what is for
 *    its NAT and hands the rest back through os_link_pass, which this file
 *    turns into the hook's return value: on to the stack;
 *  - everything else straight back to the stack, untouched (the node's
 *    own traffic, its vlan(4) children's, a VXLAN underlay on this NIC).
 *
 * Frames in flight: ether_input_internal() and ether_output() run in the
 * network epoch and read if_bridge before they call the hooks.  Letting go
 * clears if_bridge first, waits for the epoch (no reader past the check is
 * left) and drains the interface's link-state task (do_link_state_change()
 * calls if_bridge_linkstate outside the epoch) before the function
 * pointers are cleared, so a NULL hook is never called.  The hook itself
 * is freed after the epoch (counted: unload waits for it), and the ifnet
 * is held by a reference from take to let-go.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/eventhandler.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/sx.h>
#include <sys/sysctl.h>
#include <sys/taskqueue.h>

#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_var.h>
#include <net/if_dl.h>
#include <net/if_private.h>
#include <net/if_types.h>
#include <net/if_vlan_var.h>
#include <net/vnet.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

struct vpc_ifhook {
	struct ifnet	*ifp;		/* held; NULL once let go or departed */
	struct vpc_link	*link;		/* the users; NULL: none */
	struct vpc_vcc	*vcc;
	uint8_t		 mac[ETHER_ADDR_LEN];
	bool		 lro_off;	/* we turned IFCAP_LRO off */
	struct os_defer	 defer;
};

/* Orders takes, lets-go and departures; never held on the data path. */
static struct sx vpc_ifhook_sx;
static eventhandler_tag vpc_ifhook_departure_tag;

static struct mbuf *ifhook_input(struct ifnet *, struct mbuf *);
static int ifhook_output(struct ifnet *, struct mbuf *, struct sockaddr *,
    struct rtentry *);
static void ifhook_linkstate(struct ifnet *);

static bool
ifhook_is_ours(const struct ifnet *ifp)
{
	return (ifp->if_bridge != NULL && ifp->if_bridge_input == ifhook_input);
}

/* ---- Data path ------------------------------------------------------------------- */

/* A frame for the VNI 0 vcc: the tag back in band, where the core reads it. */
static void
ifhook_to_vcc(struct vpc_vcc *vcc, struct mbuf *m)
{
	if ((m->m_flags & M_VLANTAG) != 0) {
		m = ether_vlanencap(m, m->m_pkthdr.ether_vtag);
		if (m == NULL)
			return;
		m->m_flags &= ~M_VLANTAG;
	}
	/* Nothing of the NIC's metadata is the VM's business. */
	m->m_pkthdr.csum_flags = 0;
	m->m_flags &= ~(M_BCAST | M_MCAST);
	m_clrprotoflags(m);
	vpc_vcc_l2_input(vcc, vpc_m2pkt(m));
}

static bool
ifhook_for_vcc(struct vpc_ifhook *h, struct vpc_vcc *vcc, struct mbuf *m)
{
	const struct ether_header *eh = mtod(m, const struct ether_header *);
	uint16_t vlan;

	if (!ETHER_IS_MULTICAST(eh->ether_dhost) &&
	    memcmp(eh->ether_dhost, h->mac, ETHER_ADDR_LEN) == 0)
		return (false);		/* the node's, or the link's */
	vlan = (m->m_flags & M_VLANTAG) != 0 ?
	    EVL_VLANOFTAG(m->m_pkthdr.ether_vtag) : 0;
	return (vpc_vcc_l2_wants(vcc, vlan));
}

/*
 * The link's core takes the frame or hands it to os_link_pass(), which
 * puts it in *slot (found through PH_loc, the packet header's scratch
 * space, which nothing between ether_input and us uses once LRO is off):
 * the frame the stack gets back.
 */
static struct mbuf *
ifhook_to_link(struct vpc_link *link, struct mbuf *m)
{
	struct mbuf *slot = NULL;

	m->m_pkthdr.PH_loc.ptr = &slot;
	vpc_link_input(link, vpc_m2pkt(m));
	if (slot != NULL)
		slot->m_pkthdr.PH_loc.ptr = NULL;
	return (slot);
}

void
vpc_ifhook_pass(struct mbuf *m)
{
	struct mbuf **slot = m->m_pkthdr.PH_loc.ptr;

	M_ASSERTPKTHDR(m);
	KASSERT(slot != NULL && *slot == NULL,
	    ("%s: not from ifhook_to_link", __func__));
	if (slot == NULL) {
		m_freem(m);
		return;
	}
	m->m_pkthdr.PH_loc.ptr = NULL;
	*slot = m;
}

static struct mbuf *
ifhook_input(struct ifnet *ifp, struct mbuf *m)
{
	struct vpc_ifhook *h = atomic_load_ptr(&ifp->if_bridge);
	struct vpc_link *link;
	struct vpc_vcc *vcc;
	struct mbuf *mc;

	NET_EPOCH_ASSERT();
	M_ASSERTPKTHDR(m);
	if (h == NULL)
		return (m);
	vcc = atomic_load_ptr(&h->vcc);
	if (vcc != NULL && ifhook_for_vcc(h, vcc, m)) {
		if ((m->m_flags & (M_BCAST | M_MCAST)) == 0) {
			ifhook_to_vcc(vcc, m);
			return (NULL);
		}
		if ((mc = m_dup(m, M_NOWAIT)) != NULL)
			ifhook_to_vcc(vcc, mc);
	}
	link = atomic_load_ptr(&h->link);
	/* The link's core passes tagged frames: they are not its NAT's. */
	if (link == NULL || (m->m_flags & M_VLANTAG) != 0)
		return (m);
	return (ifhook_to_link(link, m));
}

/* The node's own frames (ether_output): sent as if we were not here. */
static int
ifhook_output(struct ifnet *ifp, struct mbuf *m, struct sockaddr *sa __unused,
    struct rtentry *rt __unused)
{
	return (ether_output_frame(ifp, m));
}

/* Nothing follows the link state (the core has no use for it yet).  It
 * takes no lock: letting go drains the task that calls it. */
static void
ifhook_linkstate(struct ifnet *ifp __unused)
{
}

int
vpc_ifhook_output(struct vpc_ifhook *h, struct mbuf *m)
{
	struct ether_header *eh;
	struct ifnet *ifp;
	u_int max;
	int error;

	NET_EPOCH_ASSERT();
	ifp = atomic_load_ptr(&h->ifp);
	if (ifp == NULL) {
		m_freem(m);
		return (ENXIO);		/* departed: the link stays named */
	}
	if (m->m_len < ETHER_HDR_LEN &&
	    (m = m_pullup(m, ETHER_HDR_LEN)) == NULL)
		return (ENOBUFS);
	eh = mtod(m, struct ether_header *);
	max = ifp->if_mtu + ETHER_HDR_LEN;
	if (ntohs(eh->ether_type) == ETHERTYPE_VLAN)
		max += ETHER_VLAN_ENCAP_LEN;
	if ((u_int)m->m_pkthdr.len > max) {
		m_freem(m);
		return (EMSGSIZE);
	}
	/* Checksums are whole (the core finishes what it rewrites). */
	m->m_nextpkt = NULL;
	m->m_pkthdr.csum_flags = 0;
	m->m_flags &= ~(M_BCAST | M_MCAST | M_VLANTAG);
	m_clrprotoflags(m);
	if (ETHER_IS_MULTICAST(eh->ether_dhost))
		m->m_flags |= ETHER_IS_BROADCAST(eh->ether_dhost) ?
		    M_BCAST : M_MCAST;
	m->m_pkthdr.rcvif = NULL;
	CURVNET_SET(ifp->if_vnet);
	error = ifp->if_transmit(ifp, m);
	CURVNET_RESTORE();
	return (error);
}

/* ---- Taking and letting go (control context, may sleep) ------------------------ */

static int
ifhook_setcap(struct ifnet *ifp, int caps)
{
	struct ifreq ifr;

	if (ifp->if_capenable == caps)
		return (0);
	bzero(&ifr, sizeof(ifr));
	strlcpy(ifr.ifr_name, ifp->if_xname, sizeof(ifr.ifr_name));
	ifr.ifr_reqcap = caps;
	return ((*ifp->if_ioctl)(ifp, SIOCSIFCAP, (caddr_t)&ifr));
}

/*
 * Take the hook out of ifp; restore what we changed unless it is going
 * away (gone: the departure event, as bridge_delete_member(, 1) does).
 */
static void
ifhook_untake(struct vpc_ifhook *h, bool gone)
{
	struct ifnet *ifp = h->ifp;

	sx_assert(&vpc_ifhook_sx, SA_XLOCKED);
	CURVNET_SET(ifp->if_vnet);	/* ifpromisc's routing message */
	atomic_store_rel_ptr((uintptr_t *)&ifp->if_bridge, (uintptr_t)NULL);
	NET_EPOCH_WAIT();
	taskqueue_drain(taskqueue_swi, &ifp->if_linktask);
	ifp->if_bridge_input = NULL;
	ifp->if_bridge_output = NULL;
	ifp->if_bridge_linkstate = NULL;
	if (!gone) {
		(void)ifpromisc(ifp, 0);
		if (h->lro_off && (ifp->if_capenable & IFCAP_LRO) == 0)
			(void)ifhook_setcap(ifp, ifp->if_capenable | IFCAP_LRO);
	}
	atomic_store_rel_ptr((uintptr_t *)&h->ifp, (uintptr_t)NULL);
	CURVNET_RESTORE();
	if_rele(ifp);
}

static void
ifhook_free(struct os_defer *d)
{
	free(__containerof(d, struct vpc_ifhook, defer), M_VPC);
}

static int
ifhook_install(struct ifnet *ifp, struct vpc_ifhook **hp)
{
	struct vpc_ifhook *h;
	int error;

	if (ifp->if_bridge != NULL || ifp->if_lagg != NULL)
		return (EBUSY);
	switch (ifp->if_type) {
	case IFT_ETHER:
	case IFT_L2VLAN:
		break;
	default:
		return (ENODEV);	/* a lagg port is IFT_IEEE8023ADLAG */
	}
	if (ifp->if_ioctl == NULL || ifp->if_transmit == NULL)
		return (ENODEV);
	h = malloc(sizeof(*h), M_VPC, M_WAITOK | M_ZERO);
	if ((ifp->if_capenable & IFCAP_LRO) != 0) {
		error = ifhook_setcap(ifp, ifp->if_capenable & ~IFCAP_LRO);
		if (error != 0) {
			free(h, M_VPC);
			return (error);
		}
		h->lro_off = true;
	}
	if ((error = ifpromisc(ifp, 1)) != 0) {
		if (h->lro_off)
			(void)ifhook_setcap(ifp, ifp->if_capenable | IFCAP_LRO);
		free(h, M_VPC);
		return (error);
	}
	memcpy(h->mac, IF_LLADDR(ifp), ETHER_ADDR_LEN);
	h->ifp = ifp;
	ifp->if_bridge_input = ifhook_input;
	ifp->if_bridge_output = ifhook_output;
	ifp->if_bridge_linkstate = ifhook_linkstate;
	/* Last, and after the functions: readers test it, then call them. */
	atomic_store_rel_ptr((uintptr_t *)&ifp->if_bridge, (uintptr_t)h);
	*hp = h;
	return (0);
}

int
vpc_ifhook_take(const char *ifname, struct vpc_link *link, struct vpc_vcc *vcc,
    struct vpc_ifhook **hp, uint8_t mac[ETHER_ADDR_LEN])
{
	struct vpc_ifhook *h;
	struct ifnet *ifp;
	int error = 0;

	KASSERT((link == NULL) != (vcc == NULL), ("%s: one user", __func__));
	sx_xlock(&vpc_ifhook_sx);
	/* vpc's objects belong to vnet0, as the vcc's sockets do. */
	CURVNET_SET(vnet0);
	ifp = ifunit_ref(ifname);
	CURVNET_RESTORE();
	if (ifp == NULL) {
		sx_xunlock(&vpc_ifhook_sx);
		return (ENXIO);		/* the link says ENODEV */
	}
	if (ifhook_is_ours(ifp)) {
		/* Shared by a link and a vcc: one of each at most. */
		h = ifp->if_bridge;
		if ((link != NULL && h->link != NULL) ||
		    (vcc != NULL && h->vcc != NULL))
			error = EBUSY;
		if_rele(ifp);		/* the hook holds one already */
	} else {
		/* ifpromisc() and SIOCSIFCAP send routing messages: V_ state. */
		CURVNET_SET(ifp->if_vnet);
		error = ifhook_install(ifp, &h);
		CURVNET_RESTORE();
		if (error != 0)
			if_rele(ifp);
	}
	if (error == 0) {
		if (link != NULL)
			atomic_store_rel_ptr((uintptr_t *)&h->link, (uintptr_t)link);
		else
			atomic_store_rel_ptr((uintptr_t *)&h->vcc, (uintptr_t)vcc);
		memcpy(mac, h->mac, ETHER_ADDR_LEN);
		*hp = h;
	}
	sx_xunlock(&vpc_ifhook_sx);
	return (error);
}

/*
 * A user lets go; the last one puts the interface back.  The caller has
 * made h unreachable from its own data path already; a frame that found
 * it before may still be using it, hence the deferred free.
 */
void
vpc_ifhook_release(struct vpc_ifhook *h, bool link)
{
	sx_xlock(&vpc_ifhook_sx);
	if (link)
		atomic_store_rel_ptr((uintptr_t *)&h->link, (uintptr_t)NULL);
	else
		atomic_store_rel_ptr((uintptr_t *)&h->vcc, (uintptr_t)NULL);
	if (h->link != NULL || h->vcc != NULL) {
		sx_xunlock(&vpc_ifhook_sx);
		return;
	}
	if (h->ifp != NULL)
		ifhook_untake(h, false);
	sx_xunlock(&vpc_ifhook_sx);
	os_epoch_defer(&h->defer, ifhook_free);
}

/*
 * The interface goes away (destroyed, or moved to another vnet): the hook
 * comes out, the users keep theirs (output answers ENXIO) until they let go.
 * A rename sends this event too; the interface stays, and so do we.
 */
static void
ifhook_departure(void *arg __unused, struct ifnet *ifp)
{
	if ((ifp->if_flags & IFF_RENAMING) != 0)
		return;
	sx_xlock(&vpc_ifhook_sx);
	if (ifhook_is_ours(ifp)) {
		struct vpc_ifhook *h = ifp->if_bridge;

		os_log(VPC_LOG_INFO, "%s departs: its vpc link/uplink lets go",
		    ifp->if_xname);
		ifhook_untake(h, true);
	}
	sx_xunlock(&vpc_ifhook_sx);
}

static bool vpc_ifhook_loaded;

void
vpc_fbsd_ifhook_load(void)
{
	vpc_ifhook_loaded = true;
	sx_init(&vpc_ifhook_sx, "vpc_ifhook");
	/*
	 * First: if_bridge's own handler (bridge_ifdetach) takes a non-NULL
	 * if_bridge for its softc and would lock our hook as a bridge's
	 * (a panic the boot test met); with ours out first it finds NULL.
	 */
	vpc_ifhook_departure_tag = EVENTHANDLER_REGISTER(ifnet_departure_event,
	    ifhook_departure, NULL, EVENTHANDLER_PRI_FIRST);
}

/* After the instance is gone: every user has let go. */
void
vpc_fbsd_ifhook_unload(void)
{
	if (!vpc_ifhook_loaded)
		return;
	vpc_ifhook_loaded = false;
	EVENTHANDLER_DEREGISTER(ifnet_departure_event, vpc_ifhook_departure_tag);
	sx_destroy(&vpc_ifhook_sx);
}
