/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_vcc.c: a vcc, this node's VXLAN endpoint, is a kernel UDP socket
 * per address family, bound to the configured address and port, in vnet0
 * (the underlay is the host's network, whoever configured it).
 *
 * Receive: udp_set_kernel_tunneling(), set between socreate() and sobind()
 * as if_vxlan.c does.  udp_input() calls us inside the network epoch with
 * the inpcb referenced but unlocked; we must consume the mbuf and must not
 * sleep.  We strip IP and UDP and give the VXLAN payload to the core.
 *
 * Transmit: as if_vxlan.c does, we build UDP and IP/IPv6 ourselves in
 * front of what the core gives us (VXLAN header + inner frame) and call
 * ip_output()/ip6_output() directly, so the UDP source port is the one the
 * core picked from the inner flow (RFC 7348 §5; a bound socket could not
 * vary it).  IPv4 carries a zero UDP checksum (allowed by RFC 7348);
 * IPv6 gets a real one (CSUM_UDP_IPV6: the stack or the NIC finishes it).
 * The VTEP never fragments: a packet over the configured underlay MTU is
 * refused here (EMSGSIZE), and DF / IP6PO_DONTFRAG make the stack refuse
 * one that does not fit the outgoing interface; the core counts both.
 *
 * Nesting: an underlay route that leads back into a vmnic (the vcc's
 * address or a VTEP routed through a vmnic of a switch) would make
 * ip_output() call vmnic_transmit(), which runs the switch, which
 * encapsulates again, on the same thread, 50 bytes longer each time, until
 * the MTU stops it or (first) the kernel stack overflows.  As gif(4) does
 * (if_tunnel_check_nesting()), every packet we encapsulate carries an
 * m_tag per encapsulation; one that would exceed net.vpc.max_nesting
 * (default 1: no VXLAN inside our own VXLAN), or that already went through
 * this very vcc (a loop, whatever the limit), is dropped with ELOOP and
 * counted in net.vpc.underlay_nested (the core counts it as TX_ERR and
 * DROP_TX too).  Decapsulation removes the tags: a frame from the underlay
 * starts at depth 0.
 *
 * VNI 0 (a raw L2 uplink on l2_ifname): the vcc takes that Ethernet
 * ifnet with the if_bridge hook (vpc_fbsd_ifhook.c), which may serve a
 * vpclink at the same time.  Frames whose VLAN (0: untagged) a VNI 0
 * uplink of this vcc takes reach vpc_vcc_l2_input with the tag back in
 * band (ether_input moved it into M_VLANTAG); the rest stay the node's.
 * The core sends tagged frames with the tag in band (it builds them so for
 * the host kernel too), and they go out with if_transmit as they are: any
 * NIC sends an in-band tag, whether it could insert one or not.  A name
 * that does not exist is ENXIO (as on the host), one that is not Ethernet
 * ENODEV, one in a bridge or lagg or with a VNI 0 vcc already EBUSY.
 */
#include "opt_inet.h"
#include "opt_inet6.h"

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/counter.h>
#include <sys/kernel.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/proc.h>
#include <sys/protosw.h>
#include <sys/socket.h>
#include <sys/socketvar.h>
#include <sys/sysctl.h>
#include <sys/ucred.h>

#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_var.h>
#include <net/route.h>
#include <net/vnet.h>

#include <netinet/in.h>
#include <netinet/in_pcb.h>
#include <netinet/in_var.h>
#include <netinet/ip.h>
#include <netinet/ip_var.h>
#include <netinet/udp.h>
#include <netinet/udp_var.h>
#include <netinet/ip6.h>
#include <netinet6/in6_var.h>
#include <netinet6/ip6_var.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

struct vcc_softc {
	struct vpc_vcc	*vcc;		/* NULL once detached */
	struct vnet	*vnet;		/* where the sockets live */
	struct socket	*so4;
	struct socket	*so6;
	struct vpc_ifhook *l2;		/* VNI 0: the taken ifnet, or NULL */
	vpc_vcc_t	 conf;		/* immutable: a change makes a new softc */
	struct os_defer	 defer;		/* freed after the epoch */
};

static struct vcc_softc *
vcc_of(struct vpc_vcc *vcc)
{
	return (atomic_load_ptr((struct vcc_softc **)vpc_vcc_osp(vcc)));
}

/* ---- The nesting guard (see the top) ------------------------------------------ */

#define	MTAG_VPC_NESTING	1450723363	/* our m_tag cookie, "VPCn" */
#define	VPC_MAX_NESTING_LIMIT	8		/* each level costs kernel stack */

static int vpc_max_nesting = 1;
static COUNTER_U64_DEFINE_EARLY(vpc_underlay_nested);

static int
vpc_sysctl_max_nesting(SYSCTL_HANDLER_ARGS)
{
	int error, v;

	v = atomic_load_int(&vpc_max_nesting);
	error = sysctl_handle_int(oidp, &v, 0, req);
	if (error != 0 || req->newptr == NULL)
		return (error);
	if (v < 1 || v > VPC_MAX_NESTING_LIMIT)
		return (EINVAL);
	atomic_store_int(&vpc_max_nesting, v);
	return (0);
}
SYSCTL_PROC(_net_vpc, OID_AUTO, max_nesting,
    CTLTYPE_INT | CTLFLAG_RW | CTLFLAG_MPSAFE, NULL, 0,
    vpc_sysctl_max_nesting, "I",
    "VXLAN encapsulations one packet may go through (1: no nesting)");
SYSCTL_COUNTER_U64(_net_vpc, OID_AUTO, underlay_nested, CTLFLAG_RD,
    &vpc_underlay_nested,
    "Packets dropped: the underlay led back into a vmnic (nesting, loop)");

/*
 * Count the encapsulations m went through (our tags), refuse one too many
 * or one through sc again, and tag m for this one.
 */
static int
vcc_check_nesting(struct vcc_softc *sc, struct mbuf *m)
{
	struct m_tag *mtag = NULL;
	int depth = 1;			/* this encapsulation */
	bool loop = false;

	while ((mtag = m_tag_locate(m, MTAG_VPC_NESTING, 0, mtag)) != NULL) {
		if (*(struct vcc_softc **)(mtag + 1) == sc)
			loop = true;	/* through this very vcc again */
		depth++;
	}
	if (loop || depth > atomic_load_int(&vpc_max_nesting)) {
		counter_u64_add(vpc_underlay_nested, 1);
		os_log(VPC_LOG_WARN, "underlay packet nested %d deep%s: "
		    "dropped (does an underlay route lead into a vmnic?)",
		    depth, loop ? " through one vcc" : "");
		return (ELOOP);
	}
	mtag = m_tag_alloc(MTAG_VPC_NESTING, 0, sizeof(sc), M_NOWAIT);
	if (mtag == NULL)
		return (ENOBUFS);
	*(struct vcc_softc **)(mtag + 1) = sc;
	m_tag_prepend(m, mtag);
	return (0);
}

/* A decapsulated frame starts at depth 0. */
static void
vcc_clear_nesting(struct mbuf *m)
{
	struct m_tag *mtag;

	while ((mtag = m_tag_locate(m, MTAG_VPC_NESTING, 0, NULL)) != NULL)
		m_tag_delete(m, mtag);
}

/* ---- Receive (udp_input, in the network epoch) ------------------------------- */

static bool
vcc_udp_input(struct mbuf *m, int off, struct inpcb *inp __unused,
    const struct sockaddr *sa __unused, void *ctx)
{
	struct vcc_softc *sc = ctx;
	struct vpc_vcc *vcc;

	M_ASSERTPKTHDR(m);
	NET_EPOCH_ASSERT();
	vcc = atomic_load_ptr(&sc->vcc);
	if (vcc == NULL) {
		m_freem(m);
		return (true);
	}
	/* The VXLAN header first; the outer packet's metadata is not the
	 * inner frame's (checksum flags above all). */
	m_adj_decap(m, off + sizeof(struct udphdr));
	m->m_pkthdr.csum_flags = 0;
	m->m_flags &= ~(M_BCAST | M_MCAST);
	m_clrprotoflags(m);
	vcc_clear_nesting(m);
	vpc_vcc_input(vcc, vpc_m2pkt(m));
	return (true);
}

/* ---- Sockets (control context) ---------------------------------------------- */

static void
vcc_close(struct vcc_softc *sc)
{
	struct vpc_ifhook *l2 = sc->l2;

	if (l2 != NULL) {
		atomic_store_rel_ptr((uintptr_t *)&sc->l2, (uintptr_t)NULL);
		vpc_ifhook_release(l2, false);
	}
	if (sc->so4 != NULL) {
		(void)udp_set_kernel_tunneling(sc->so4, NULL, NULL, NULL);
		soclose(sc->so4);
		sc->so4 = NULL;
	}
	if (sc->so6 != NULL) {
		(void)udp_set_kernel_tunneling(sc->so6, NULL, NULL, NULL);
		soclose(sc->so6);
		sc->so6 = NULL;
	}
}

static int
vcc_socket(struct vcc_softc *sc, int af, struct socket **sop)
{
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	} local;
	struct thread *td = curthread;
	struct socket *so;
	int error;

	bzero(&local, sizeof(local));
	if (af == AF_INET) {
		local.sin.sin_len = sizeof(local.sin);
		local.sin.sin_family = AF_INET;
		local.sin.sin_port = htons(sc->conf.udp_port);
		memcpy(&local.sin.sin_addr, sc->conf.addr4, 4);
	} else {
		local.sin6.sin6_len = sizeof(local.sin6);
		local.sin6.sin6_family = AF_INET6;
		local.sin6.sin6_port = htons(sc->conf.udp_port);
		memcpy(&local.sin6.sin6_addr, sc->conf.addr6, 16);
	}

	error = socreate(af, &so, SOCK_DGRAM, IPPROTO_UDP, td->td_ucred, td);
	if (error != 0)
		return (error);
	error = udp_set_kernel_tunneling(so, vcc_udp_input, NULL, sc);
	if (error == 0 && af == AF_INET6) {
		struct sockopt sopt;
		int one = 1;

		bzero(&sopt, sizeof(sopt));
		sopt.sopt_dir = SOPT_SET;
		sopt.sopt_level = IPPROTO_IPV6;
		sopt.sopt_name = IPV6_V6ONLY;
		sopt.sopt_val = &one;
		sopt.sopt_valsize = sizeof(one);
		error = sosetopt(so, &sopt);
	}
	if (error == 0)
		error = sobind(so, &local.sa, td);
	if (error != 0) {
		soclose(so);
		return (error);
	}
	*sop = so;
	return (0);
}

static void
vcc_free(struct os_defer *d)
{
	struct vcc_softc *sc = __containerof(d, struct vcc_softc, defer);

	free(sc, M_VPC);
}

/*
 * Close now, free after the epoch (a callback or an output may be in it;
 * counted, so that unload waits for it).
 */
static void
vcc_retire(struct vcc_softc *sc)
{
	atomic_store_ptr(&sc->vcc, NULL);
	CURVNET_SET(sc->vnet);
	vcc_close(sc);
	CURVNET_RESTORE();
	os_epoch_defer(&sc->defer, vcc_free);
}

static struct vcc_softc *
vcc_open(struct vpc_vcc *vcc, const vpc_vcc_t *conf, int *errorp)
{
	struct vcc_softc *sc;
	int error = 0;

	sc = malloc(sizeof(*sc), M_VPC, M_WAITOK | M_ZERO);
	sc->vcc = vcc;
	sc->conf = *conf;
#ifdef VIMAGE
	sc->vnet = vnet0;
#endif
	CURVNET_SET(sc->vnet);
#ifdef INET
	if ((conf->flags & VPC_VCC_INET) != 0)
		error = vcc_socket(sc, AF_INET, &sc->so4);
#else
	if ((conf->flags & VPC_VCC_INET) != 0)
		error = EAFNOSUPPORT;
#endif
#ifdef INET6
	if (error == 0 && (conf->flags & VPC_VCC_INET6) != 0)
		error = vcc_socket(sc, AF_INET6, &sc->so6);
#else
	if (error == 0 && (conf->flags & VPC_VCC_INET6) != 0)
		error = EAFNOSUPPORT;
#endif
	CURVNET_RESTORE();
	if (error == 0 && conf->l2_ifname[0] != '\0') {
		uint8_t mac[ETHER_ADDR_LEN];

		error = vpc_ifhook_take(conf->l2_ifname, NULL, vcc, &sc->l2, mac);
	}
	if (error != 0) {
		/*
		 * The IPv4 socket may be bound already, with udp_input()
		 * inside vcc_udp_input() on sc: not free(9) at once.
		 */
		vcc_retire(sc);
		*errorp = error;
		return (NULL);
	}
	return (sc);
}

/*
 * The old sockets hold the address, so they go first; if the new
 * configuration cannot be applied, the old one is put back (as the host
 * kernel does).
 */
int
os_vcc_configure(struct vpc_vcc *vcc, const vpc_vcc_t *conf)
{
	struct vcc_softc *old = vcc_of(vcc), *sc;
	int error = 0, ignored;

	if (old != NULL) {
		CURVNET_SET(old->vnet);
		vcc_close(old);
		CURVNET_RESTORE();
	}
	sc = vcc_open(vcc, conf, &error);
	if (sc == NULL && old != NULL)
		sc = vcc_open(vcc, &old->conf, &ignored);
	atomic_store_rel_ptr((uintptr_t *)vpc_vcc_osp(vcc), (uintptr_t)sc);
	if (old != NULL)
		vcc_retire(old);
	return (error);
}

void
os_vcc_detach(struct vpc_vcc *vcc)
{
	struct vcc_softc *sc = vcc_of(vcc);

	if (sc == NULL)
		return;
	atomic_store_rel_ptr((uintptr_t *)vpc_vcc_osp(vcc), (uintptr_t)NULL);
	vcc_retire(sc);
}

/* ---- Transmit (data path, in the epoch; consumes p) ----------------------------- */

#ifdef INET
static int
vcc_output4(struct vcc_softc *sc, struct mbuf *m,
    const struct vpc_underlay *dst, uint16_t sport)
{
	struct udphdr *uh;
	struct ip *ip;
	int len = m->m_pkthdr.len;

	M_PREPEND(m, sizeof(*ip) + sizeof(*uh), M_NOWAIT);
	if (m == NULL)
		return (ENOBUFS);
	ip = mtod(m, struct ip *);
	ip->ip_tos = 0;
	ip->ip_len = htons(m->m_pkthdr.len);
	ip->ip_off = htons(IP_DF);
	ip->ip_ttl = V_ip_defttl;
	ip->ip_p = IPPROTO_UDP;
	ip->ip_sum = 0;
	memcpy(&ip->ip_src, sc->conf.addr4, 4);
	memcpy(&ip->ip_dst, dst->addr, 4);
	uh = (struct udphdr *)(ip + 1);
	uh->uh_sport = htons(sport);
	uh->uh_dport = htons(dst->port);
	uh->uh_ulen = htons(len + sizeof(*uh));
	uh->uh_sum = 0;
	/* ip_output() sets version, header length and id, and the IP sum. */
	return (ip_output(m, NULL, NULL, 0, NULL, NULL));
}
#endif

#ifdef INET6
static int
vcc_output6(struct vcc_softc *sc, struct mbuf *m,
    const struct vpc_underlay *dst, uint16_t sport)
{
	struct ip6_pktopts opts;
	struct ip6_hdr *ip6;
	struct udphdr *uh;
	int len = m->m_pkthdr.len;

	M_PREPEND(m, sizeof(*ip6) + sizeof(*uh), M_NOWAIT);
	if (m == NULL)
		return (ENOBUFS);
	ip6 = mtod(m, struct ip6_hdr *);
	ip6->ip6_flow = 0;
	ip6->ip6_vfc = IPV6_VERSION;
	ip6->ip6_plen = 0;		/* ip6_output() fills it in */
	ip6->ip6_nxt = IPPROTO_UDP;
	ip6->ip6_hlim = V_ip6_defhlim;
	memcpy(&ip6->ip6_src, sc->conf.addr6, 16);
	memcpy(&ip6->ip6_dst, dst->addr, 16);
	uh = (struct udphdr *)(ip6 + 1);
	uh->uh_sport = htons(sport);
	uh->uh_dport = htons(dst->port);
	uh->uh_ulen = htons(len + sizeof(*uh));
	uh->uh_sum = in6_cksum_pseudo(ip6, len + sizeof(*uh), IPPROTO_UDP, 0);
	m->m_pkthdr.csum_flags = CSUM_UDP_IPV6;
	m->m_pkthdr.csum_data = offsetof(struct udphdr, uh_sum);

	ip6_initpktopts(&opts);
	opts.ip6po_flags |= IP6PO_DONTFRAG;
	return (ip6_output(m, &opts, NULL, 0, NULL, NULL, NULL));
}
#endif

int
os_vcc_output(struct vpc_vcc *vcc, struct vpc_pkt *p,
    const struct vpc_underlay *dst, uint16_t sport)
{
	struct vcc_softc *sc = vcc_of(vcc);
	struct mbuf *m = vpc_pkt2m(p);
	uint32_t mtu, hdrlen;
	int error;

	NET_EPOCH_ASSERT();
	if (sc == NULL) {
		m_freem(m);
		return (ENXIO);
	}
	if (dst->af == VPC_AF_INET &&
	    (sc->conf.flags & VPC_VCC_INET) != 0)
		hdrlen = sizeof(struct ip) + sizeof(struct udphdr);
	else if (dst->af == VPC_AF_INET6 &&
	    (sc->conf.flags & VPC_VCC_INET6) != 0)
		hdrlen = sizeof(struct ip6_hdr) + sizeof(struct udphdr);
	else {
		m_freem(m);
		return (EAFNOSUPPORT);
	}
	mtu = sc->conf.mtu != 0 ? sc->conf.mtu : ETHERMTU;
	if ((uint32_t)m->m_pkthdr.len + hdrlen > mtu) {
		m_freem(m);
		return (EMSGSIZE);	/* never fragment */
	}
	if ((error = vcc_check_nesting(sc, m)) != 0) {
		m_freem(m);
		return (error);
	}

	/* Nothing of the inner frame's metadata applies to the outer packet. */
	m->m_nextpkt = NULL;
	m->m_pkthdr.csum_flags = 0;
	m->m_flags &= ~(M_BCAST | M_MCAST);
	m_clrprotoflags(m);
	M_SETFIB(m, RT_DEFAULT_FIB);

	/* The frame may come from a vmnic in a vnet jail: send in ours. */
	CURVNET_SET(sc->vnet);
	switch (dst->af) {
#ifdef INET
	case VPC_AF_INET:
		error = vcc_output4(sc, m, dst, sport);
		break;
#endif
#ifdef INET6
	case VPC_AF_INET6:
		error = vcc_output6(sc, m, dst, sport);
		break;
#endif
	default:
		m_freem(m);
		error = EAFNOSUPPORT;
		break;
	}
	CURVNET_RESTORE();
	return (error);
}

/*
 * Socket-buffer drops: there are none to count.  udp_append() (14.2,
 * sys/netinet/udp_usrreq.c; udp6_append() likewise) hands the datagram to
 * a kernel-tunneling socket's u_tun_func before it would sbappendaddr() it,
 * and vcc_udp_input() always consumes it, so nothing is ever queued on
 * these sockets and soroverflow() (which keeps no per-socket count anyway:
 * only so_rerror with SO_RERROR, and the global udps_fullsock) cannot
 * happen for them.  Whatever the core cannot take it counts itself; loss
 * before UDP (NIC rings, the netisr queue) is the system's to report
 * (netstat -Q, the driver's counters).
 */
uint64_t
os_vcc_rx_drops(struct vpc_vcc *vcc __unused)
{
	return (0);
}

/* FreeBSD's ip_output takes one packet at a time: one by one. */
void
os_vcc_output_many(struct vpc_vcc *vcc, struct vpc_pkt **pkts,
    const struct vpc_underlay *dsts, const uint16_t *sports, int *errors,
    unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		errors[i] = os_vcc_output(vcc, pkts[i], &dsts[i], sports[i]);
}

/* VNI 0: the frame (tagged in band by the core) out of the taken ifnet. */
int
os_vcc_output_l2(struct vpc_vcc *vcc, struct vpc_pkt *p)
{
	struct vcc_softc *sc = vcc_of(vcc);
	struct vpc_ifhook *l2;

	NET_EPOCH_ASSERT();
	l2 = sc != NULL ? atomic_load_ptr(&sc->l2) : NULL;
	if (l2 == NULL) {
		m_freem(vpc_pkt2m(p));
		return (ENXIO);
	}
	return (vpc_ifhook_output(l2, vpc_pkt2m(p)));
}
