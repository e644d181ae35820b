/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_link.c: vpclink and the VNI 0 uplink on FreeBSD (vpc_fbsd_ifhook.c):
 * an epair(4) is the "physical" NIC, its a end taken by vpc, bpf(4) on its
 * b end is the outside world.
 *  - A router with a switch (10.81.0.0/24, VMs A and B), its INTERNET
 *    route to a NAT whose link is epairNa: A's UDP to an outside address
 *    leaves epairNb with the pool's address and port (checksums right),
 *    the reply written into epairNb reaches A untranslated; an ARP request
 *    for B's EIP gets the link's answer; UDP to the EIP reaches B.
 *  - The node's own traffic on the taken NIC: an ARP request for
 *    epairNa's own address is answered by the FreeBSD stack.
 *  - A VNI 0 switch whose uplink is a vcc on the same epairNa (VLAN 42):
 *    VM C's broadcast and unknown unicast leave epairNb tagged 42, a
 *    frame tagged 42 written into epairNb reaches C, one tagged 43 does
 *    not.
 *  - Refusals, each with its errno and nothing changed: lo0 (not
 *    Ethernet), a name that does not exist, a bridge member (EBUSY), a
 *    second vcc on the NIC (EBUSY), and if_bridge refusing the taken NIC.
 *  - Letting go: LINK_SET "" and DESTROY put promiscuous mode and the
 *    capabilities back and take the hook out (a bridge may take the NIC
 *    then); ifconfig destroy of a bound epair detaches (departure event)
 *    and the link can be unbound and destroyed after it.
 * link_unload_prep/link_unload_after (called from t_unload.c): a link
 * bound when its last handle goes just before kldunload lets go of its
 * NIC.
 */
#include "tests.h"
#include "report.h"

#define	LK_ID_RTR	150
#define	LK_ID_SW	151
#define	LK_ID_NAT	152
#define	LK_ID_LINK	153
#define	LK_ID_LINK2	154
#define	LK_ID_VCC	155
#define	LK_ID_VCC2	156
#define	LK_ID_SW0	157

#define	IFF_PROMISC	0x100
#define	LK_VLAN		42

/* if_bridge's ioctl (net/if_bridgevar.h, net/if.h), for its refusals. */
struct ifdrv {
	char		ifd_name[16];
	unsigned long	ifd_cmd;
	size_t		ifd_len;
	void		*ifd_data;
};
struct ifbreq {
	char		ifbr_ifsname[16];
	uint32_t	ifbr_ifsflags;
	uint32_t	ifbr_stpflags;
	uint32_t	ifbr_path_cost;
	uint8_t		ifbr_portno, ifbr_priority, ifbr_proto, ifbr_role;
	uint8_t		ifbr_state;
	uint32_t	ifbr_addrcnt;
	uint32_t	ifbr_addrmax;
	uint32_t	ifbr_addrexceeded;
	uint8_t		pad[32];
};
_Static_assert(sizeof(struct ifdrv) == 40, "ifdrv");
_Static_assert(sizeof(struct ifbreq) == 80, "ifbreq");
#define	SIOCSDRVSPEC	IOW('i', 123, sizeof(struct ifdrv))
#define	BRDGADD		0
#define	BRDGDEL		1

static const uint8_t lk_ma[6] = { 0x02, 0, 0, 0, 0x1b, 0x01 };
static const uint8_t lk_mb[6] = { 0x02, 0, 0, 0, 0x1b, 0x02 };
static const uint8_t lk_mc[6] = { 0x02, 0, 0, 0, 0x1b, 0x03 };
static const uint8_t lk_up[6] = { 0x02, 0x99, 0, 0, 0x1b, 0x99 };	/* upstream */
static const uint8_t lk_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t lk_ip_a[4] = { 10, 81, 0, 10 };
static const uint8_t lk_ip_b[4] = { 10, 81, 0, 11 };
static const uint8_t lk_far[4] = { 192, 0, 2, 77 };		/* outside */
static const uint8_t lk_upip[4] = { 198, 51, 100, 1 };	/* the upstream */
static const uint8_t lk_node[4] = { 198, 51, 100, 2 };	/* epairNa's own */
static const uint8_t lk_eip[4] = { 198, 51, 100, 10 };
static const uint8_t lk_pool[4] = { 198, 51, 100, 20 };

static void
lk_put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static int
lk_streq(const char *a, const char *b)
{
	size_t n = slen(a);

	return (n == slen(b) && memcmp(a, b, n) == 0);
}

static uint16_t
lk_get16(const uint8_t *b)
{
	return ((uint16_t)(b[0] << 8 | b[1]));
}

/* ---- Interfaces -------------------------------------------------------------------- */

/* ifconfig epair create: the a end's name in a, the b end's in b. */
static long
lk_epair(long sock, char a[VPC_IFNAMSIZ], char b[VPC_IFNAMSIZ])
{
	struct ifreq ifr;
	size_t n;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, "epair");
	if ((r = sc3(SYS_ioctl, sock, SIOCIFCREATE2, &ifr)) < 0)
		return (r);
	memset(a, 0, VPC_IFNAMSIZ);
	memcpy(a, ifr.ifr_name, 15);
	n = slen(a);
	if (n < 2 || a[n - 1] != 'a')
		return (-EINVAL);
	memcpy(b, a, VPC_IFNAMSIZ);
	b[n - 1] = 'b';
	return (0);
}

static long
lk_bridge_create(long sock, char name[VPC_IFNAMSIZ])
{
	struct ifreq ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, "bridge");
	if ((r = sc3(SYS_ioctl, sock, SIOCIFCREATE2, &ifr)) < 0)
		return (r);
	memset(name, 0, VPC_IFNAMSIZ);
	memcpy(name, ifr.ifr_name, 15);
	return (0);
}

/* ifconfig BRIDGE addm|deletem MEMBER */
static long
lk_bridge_member(long sock, const char *bridge, unsigned long cmd,
    const char *member)
{
	struct ifbreq req;
	struct ifdrv ifd;

	memset(&req, 0, sizeof(req));
	copyname(req.ifbr_ifsname, member);
	memset(&ifd, 0, sizeof(ifd));
	copyname(ifd.ifd_name, bridge);
	ifd.ifd_cmd = cmd;
	ifd.ifd_len = sizeof(req);
	ifd.ifd_data = &req;
	return (sc3(SYS_ioctl, sock, SIOCSDRVSPEC, &ifd));
}

static int
lk_promisc(long sock, const char *name)
{
	long f = if_flags(sock, name);

	return (f >= 0 && (f & IFF_PROMISC) != 0);
}

/* ---- Frames ------------------------------------------------------------------------ */

/* UDP/IPv4 with a 16-byte payload and a real UDP checksum: 58 bytes. */
#define	LK_UDP_LEN	(14 + 20 + 8 + 16)

static void
lk_udp(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
    const uint8_t sip[4], uint16_t sport, const uint8_t dip[4], uint16_t dport)
{
	uint8_t *ip = f + 14, *u = ip + 20, ph[12];
	uint16_t s;

	memset(f, 0, LK_UDP_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	lk_put16(ip + 2, 20 + 8 + 16);
	lk_put16(ip + 4, 0x1b1b);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	lk_put16(ip + 10, cksum(ip, 20));
	lk_put16(u, sport);
	lk_put16(u + 2, dport);
	lk_put16(u + 4, 8 + 16);
	memcpy(u + 8, "vpc-boot-link-1.", 16);
	memcpy(ph, sip, 4);
	memcpy(ph + 4, dip, 4);
	ph[8] = 0;
	ph[9] = 17;
	lk_put16(ph + 10, 8 + 16);
	s = cksum_fold(cksum_add(cksum_add(0, ph, 12), u, 8 + 16));
	lk_put16(u + 6, s == 0 ? 0xffff : s);
}

/* Are the IPv4 header's and the UDP checksum of frame f right? */
static int
lk_sums_ok(const uint8_t *f)
{
	const uint8_t *ip = f + 14, *u = ip + 20;
	uint8_t ph[12];
	uint16_t ulen = lk_get16(u + 4);

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	lk_put16(ph + 10, ulen);
	return (cksum(ip, 20) == 0 && ulen == 8 + 16 &&
	    cksum_fold(cksum_add(cksum_add(0, ph, 12), u, ulen)) == 0);
}

/* An ARP request (or reply) frame: 42 bytes. */
static void
lk_arp(uint8_t *f, const uint8_t dmac[6], uint16_t op, const uint8_t sha[6],
    const uint8_t spa[4], const uint8_t tha[6], const uint8_t tpa[4])
{
	memset(f, 0, 42);
	memcpy(f, dmac, 6);
	memcpy(f + 6, sha, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	lk_put16(f + 14, 1);
	lk_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	lk_put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, tpa, 4);
}

/* What a captured frame must be; NULL fields match anything. */
struct lk_match {
	const uint8_t	*src;		/* Ethernet source */
	const uint8_t	*dst;		/* Ethernet destination */
	uint16_t	 etype;		/* 0x0800 UDP, 0x0806 ARP, TEST_ETHERTYPE */
	const uint8_t	*ipsrc;		/* UDP: IP source; ARP: sender's IP */
	const uint8_t	*ipdst;		/* UDP: IP destination; ARP: target's IP */
	uint16_t	 dport;		/* UDP: destination port (0: any) */
	uint16_t	 arpop;
	int		 vlan;		/* 802.1Q tag expected (-1: untagged) */
	uint8_t		 tag;		/* TEST_ETHERTYPE: the frame's tag */
};

static int
lk_match_fn(const uint8_t *f, long len, void *arg)
{
	const struct lk_match *m = arg;
	long off = 0;

	if (len < 14 || (m->src != NULL && memcmp(f + 6, m->src, 6) != 0) ||
	    (m->dst != NULL && memcmp(f, m->dst, 6) != 0))
		return (0);
	if (m->vlan >= 0) {
		if (len < 18 || lk_get16(f + 12) != 0x8100 ||
		    (lk_get16(f + 14) & 0xfff) != m->vlan)
			return (0);
		off = 4;
	} else if (lk_get16(f + 12) == 0x8100)
		return (0);
	f += off;
	len -= off;
	if (lk_get16(f + 12) != m->etype)
		return (0);
	switch (m->etype) {
	case 0x0800:
		return (len >= LK_UDP_LEN && f[14] == 0x45 && f[23] == 17 &&
		    (m->ipsrc == NULL || memcmp(f + 26, m->ipsrc, 4) == 0) &&
		    (m->ipdst == NULL || memcmp(f + 30, m->ipdst, 4) == 0) &&
		    (m->dport == 0 || lk_get16(f + 36) == m->dport));
	case 0x0806:
		return (len >= 42 && lk_get16(f + 20) == m->arpop &&
		    (m->ipsrc == NULL || memcmp(f + 28, m->ipsrc, 4) == 0) &&
		    (m->ipdst == NULL || memcmp(f + 38, m->ipdst, 4) == 0));
	case TEST_ETHERTYPE:
		return (len >= 15 && f[14] == m->tag);
	}
	return (0);
}

static long
lk_find(struct tap *t, struct lk_match *m, uint8_t *out, size_t max)
{
	return (tap_find(t, lk_match_fn, m, out, max));
}

/* A fragment of A's UDP datagram to the outside, IP id 0x2b2b: the first
 * (its UDP header and 16 bytes, more follow) or the last (8 bytes at
 * offset 3 words).  Returns its length. */
static long
lk_frag(uint8_t *f, const uint8_t gwmac[6], int first)
{
	uint8_t *ip = f + 14;

	lk_udp(f, gwmac, lk_ma, lk_ip_a, 40001, lk_far, 53);
	lk_put16(ip + 4, 0x2b2b);
	if (first)
		lk_put16(ip + 6, 0x2000);
	else {
		lk_put16(ip + 2, 20 + 8);
		lk_put16(ip + 6, 3);
		memcpy(ip + 20, "fragment", 8);
	}
	lk_put16(ip + 10, 0);
	lk_put16(ip + 10, cksum(ip, 20));
	return (first ? LK_UDP_LEN : 14 + 20 + 8);
}

/* A fragment leaving the link: IP id 0x2b2b, this offset field, and
 * the source the NAT gave it. */
struct lk_fmatch {
	const uint8_t	*src, *ipsrc;
	uint16_t	 off;
};

static int
lk_fmatch_fn(const uint8_t *f, long len, void *arg)
{
	const struct lk_fmatch *m = arg;

	return (len >= 14 + 20 && memcmp(f + 6, m->src, 6) == 0 &&
	    f[12] == 0x08 && f[13] == 0 && lk_get16(f + 18) == 0x2b2b &&
	    lk_get16(f + 20) == m->off && memcmp(f + 26, m->ipsrc, 4) == 0 &&
	    cksum(f + 14, 20) == 0);
}

/* A test frame tagged with vlan (TEST_ETHERTYPE inside), 68 bytes. */
static long
lk_send_tagged(struct tap *t, const uint8_t dst[6], const uint8_t src[6],
    uint16_t vlan, uint8_t tag)
{
	uint8_t f[68];

	test_frame(f + 4, dst, src, tag);
	memcpy(f, f + 4, 12);
	lk_put16(f + 12, 0x8100);
	lk_put16(f + 14, vlan);
	return (sc3(SYS_write, t->fd, f, sizeof(f)));
}

/* ---- Objects ----------------------------------------------------------------------- */

static long
lk_set(long link, const char *ifname)
{
	vpc_link_t k;

	memset(&k, 0, sizeof(k));
	memcpy(k.ifname, ifname, slen(ifname));
	return (vctl_n(link, VPC_OP_LINK_SET, &k, sizeof(k), 0, 0));
}

static long
lk_get(long link, vpc_link_t *out)
{
	memset(out, 0, sizeof(*out));
	return (vctl_n(link, VPC_OP_LINK_GET, 0, 0, out, sizeof(*out)));
}

static uint64_t
lk_stat(long link, unsigned which)
{
	vpc_link_stats_t st;

	memset(&st, 0, sizeof(st));
	if (vctl_n(link, VPC_OP_LINK_GET_STATS, 0, 0, &st, sizeof(st)) != 0)
		return (~0ull);
	return (st.c[which]);
}

static long
lk_open(unsigned idn, unsigned type)
{
	vpc_id_t id = mkid(idn);

	return (vopen(&id, WORD(type), VPC_FLAG_CREATE));
}

/* A vcc on 127.0.0.1:port (its own: the sockets are bound before the L2
 * device is taken), with the L2 device l2 (NULL: none). */
static long
lk_vcc_set(long vccd, uint16_t port, const char *l2)
{
	vpc_vcc_t c;

	memset(&c, 0, sizeof(c));
	c.flags = VPC_VCC_INET;
	memcpy(c.addr4, loopback, 4);
	c.udp_port = port;
	if (l2 != NULL)
		memcpy(c.l2_ifname, l2, slen(l2));
	return (vctl_n(vccd, VPC_OP_VCC_SET, &c, sizeof(c), 0, 0));
}

static long
lk_vcc_l2(long vccd, char name[VPC_IFNAMSIZ])
{
	vpc_vcc_t c;
	long r;

	memset(&c, 0, sizeof(c));
	r = vctl_n(vccd, VPC_OP_VCC_GET, 0, 0, &c, sizeof(c));
	memcpy(name, c.l2_ifname, VPC_IFNAMSIZ);
	return (r);
}

struct lk {
	long		sock;
	char		ea[VPC_IFNAMSIZ], eb[VPC_IFNAMSIZ];	/* the NIC, outside */
	char		na[VPC_IFNAMSIZ], nb[VPC_IFNAMSIZ], nc[VPC_IFNAMSIZ];
	char		br[VPC_IFNAMSIZ], bm[VPC_IFNAMSIZ];	/* bridge, member */
	uint8_t		mac[6];		/* the link's (epairNa's) */
	vpc_sw_gateway_t gw;
	long		rtr, sw, nat, link, a, b, vcc, sw0, c;
	struct tap	tb, ta, tvb, tc;	/* epairNb, vmnics A, B, C */
};

/* Router, switch with A and B, NAT with a pool, A's SNAT, B's EIP, link. */
static int
lk_build(struct lk *l)
{
	vpc_id_t swid = mkid(LK_ID_SW), natid = mkid(LK_ID_NAT);
	vpc_id_t linkid = mkid(LK_ID_LINK);
	vpc_rtr_attach_t at;
	vpc_rtr_nat_t rn;
	vpc_nat_link_t nl;
	vpc_nat_config_t nc;
	vpc_nat_pool_t pool;
	vpc_nat_snat_t sn;
	vpc_nat_eip_t eip;
	vpc_rt_route_t rt;
	vpc_sw_subnet_t sub;
	vpc_swport_t req, res;
	vpc_nic_addr_t ad;
	long r;

	l->rtr = lk_open(LK_ID_RTR, VPC_TYPE_ROUTER);
	l->sw = lk_open(LK_ID_SW, VPC_TYPE_SWITCH);
	l->nat = lk_open(LK_ID_NAT, VPC_TYPE_NAT);
	check("link: a router, a switch, a NAT", l->rtr >= 0 && l->sw >= 0 &&
	    l->nat >= 0, l->rtr < 0 ? l->rtr : l->sw < 0 ? l->sw : l->nat, 3);
	if (l->rtr < 0 || l->sw < 0 || l->nat < 0)
		return (-1);
	memset(&sub, 0, sizeof(sub));
	sub.af = VPC_AF_INET;
	sub.prefixlen = 24;
	memcpy(sub.addr, (uint8_t[]){ 10, 81, 0, 0 }, 4);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	r = vctl_n(l->sw, VPC_OP_SW_SET_SUBNET, &sub, sizeof(sub), 0, 0);
	if (r == 0)
		r = vctl_n(l->sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res,
		    sizeof(res));
	memset(&at, 0, sizeof(at));
	at.switch_id = swid;
	if (r == 0)
		r = vctl_n(l->rtr, VPC_OP_RTR_ATTACH, &at, sizeof(at), 0, 0);
	if (r == 0)
		r = vctl_n(l->sw, VPC_OP_SW_GET_GATEWAY, 0, 0, &l->gw,
		    sizeof(l->gw));
	expect("link: switch 10.81.0.0/24 attached to the router", r, 0);
	l->a = add_vmnic_port(l->sw, lk_ma, 0);
	l->b = add_vmnic_port(l->sw, lk_mb, 0);
	check("link: vmnics A and B", l->a >= 0 && l->b >= 0,
	    l->a < 0 ? l->a : l->b, 3);
	if (r != 0 || l->a < 0 || l->b < 0)
		return (-1);
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, lk_ip_a, 4);
	r = vctl_n(l->a, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), 0, 0);
	memcpy(ad.addr4, lk_ip_b, 4);
	if (r == 0)
		r = vctl_n(l->b, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), 0, 0);
	/* Their addresses are neighbour entries of the switch too. */
	expect("link: NIC_SET_ADDR: A 10.81.0.10 and B 10.81.0.11", r, 0);

	memset(&nc, 0, sizeof(nc));
	memcpy(nc.upstream_mac, lk_up, 6);
	r = vctl_n(l->nat, VPC_OP_NAT_SET_CONFIG, &nc, sizeof(nc), 0, 0);
	memset(&nl, 0, sizeof(nl));
	nl.link_id = linkid;
	if (r == 0)
		r = vctl_n(l->nat, VPC_OP_NAT_SET_LINK, &nl, sizeof(nl), 0, 0);
	memset(&rn, 0, sizeof(rn));
	rn.nat_id = natid;
	if (r == 0)
		r = vctl_n(l->rtr, VPC_OP_RTR_SET_NAT, &rn, sizeof(rn), 0, 0);
	memset(&rt, 0, sizeof(rt));
	rt.af = VPC_AF_INET;
	rt.target = VPC_RT_INTERNET;
	if (r == 0)
		r = vctl_n(l->rtr, VPC_OP_RTR_ROUTE_SET, &rt, sizeof(rt), 0, 0);
	memset(&pool, 0, sizeof(pool));
	memcpy(pool.ext, lk_pool, 4);
	pool.lo = 5000;
	pool.hi = 5063;
	pool.block = 16;
	if (r == 0)
		r = vctl_n(l->nat, VPC_OP_NAT_POOL_ADD, &pool, sizeof(pool), 0, 0);
	memset(&sn, 0, sizeof(sn));
	memcpy(sn.priv, lk_ip_a, 4);
	memcpy(sn.ext, lk_pool, 4);
	if (r == 0)
		r = vctl_n(l->nat, VPC_OP_NAT_SNAT_BIND, &sn, sizeof(sn), 0, 0);
	expect("link: the NAT: upstream MAC, the link, the router's INTERNET "
	    "route, a pool, A's SNAT", r, 0);
	/* The EIP last: its gratuitous ARP goes out of the bound link. */
	memset(&eip, 0, sizeof(eip));
	memcpy(eip.priv, lk_ip_b, 4);
	memcpy(eip.ext, lk_eip, 4);
	expect("link: EIP_BIND B to 198.51.100.10", vctl_n(l->nat,
	    VPC_OP_NAT_EIP_BIND, &eip, sizeof(eip), 0, 0), 0);
	return (0);
}

/* ---- The areas --------------------------------------------------------------------- */

static void
lk_bind(struct lk *l)
{
	vpc_link_t got;
	long caps0 = if_getcaps(l->sock, l->ea), r;
	uint64_t g0;

	check("link: epairNa is not promiscuous before", !lk_promisc(l->sock,
	    l->ea), if_flags(l->sock, l->ea), 0);
	g0 = generation(l->link);
	expect("link: LINK_SET lo0 (not Ethernet) is ENODEV",
	    lk_set(l->link, "lo0"), -VPC_ENODEV);
	expect("link: LINK_SET of no such interface is ENODEV",
	    lk_set(l->link, "nxlink0"), -VPC_ENODEV);
	expect("link: LINK_SET of a bridge member is EBUSY",
	    lk_set(l->link, l->bm), -VPC_EBUSY);
	expect("link: LINK_SET of the bridge itself (not Ethernet) is ENODEV",
	    lk_set(l->link, l->br), -VPC_ENODEV);
	r = lk_get(l->link, &got);
	check("link: the refusals left it unbound, nameless, the same generation",
	    r == 0 && got.bound == 0 && got.ifname[0] == '\0' &&
	    generation(l->link) == g0, r != 0 ? r : got.bound, 0);
	expect("link: LINK_SET epairNa", lk_set(l->link, l->ea), 0);
	r = lk_get(l->link, &got);
	memcpy(l->mac, got.mac, 6);
	check("link: LINK_GET: bound, its name, a unicast MAC, one user",
	    r == 0 && got.bound == 1 && lk_streq(got.ifname, l->ea) &&
	    (got.mac[0] & 1) == 0 && got.users == 1, r != 0 ? r : got.bound, 1);
	check("link: epairNa is promiscuous now", lk_promisc(l->sock, l->ea),
	    if_flags(l->sock, l->ea), IFF_PROMISC);
	check("link: its capabilities unchanged (epair has no LRO to strip)",
	    if_getcaps(l->sock, l->ea) == caps0, if_getcaps(l->sock, l->ea),
	    caps0);
	expect("link: LINK_SET again while bound is EALREADY",
	    lk_set(l->link, l->ea), -VPC_EALREADY);
	expect("link: if_bridge refuses the taken epairNa (EBUSY)",
	    lk_bridge_member(l->sock, l->br, BRDGADD, l->ea), -EBUSY);
}

static void
lk_traffic(struct lk *l)
{
	struct lk_match m;
	uint8_t f[LK_UDP_LEN], got[256];
	uint16_t xport;
	long n;

	/* The gratuitous ARP for the EIP went out when the link was bound. */
	memset(&m, 0, sizeof(m));
	m.src = l->mac;
	m.etype = 0x0806;
	m.arpop = 1;
	m.ipsrc = lk_eip;
	m.ipdst = lk_eip;
	m.vlan = -1;
	check("link: the EIP's gratuitous ARP left epairNb from the link's MAC",
	    lk_find(&l->tb, &m, 0, 0) != 0, 0, 1);

	/* SNAT: A to the outside. */
	lk_udp(f, l->gw.mac, lk_ma, lk_ip_a, 40000, lk_far, 53);
	expect("link: bpf write of UDP 10.81.0.10:40000 -> 192.0.2.77:53 on A",
	    sc3(SYS_write, l->ta.fd, f, sizeof(f)), LK_UDP_LEN);
	memset(&m, 0, sizeof(m));
	m.src = l->mac;
	m.dst = lk_up;
	m.etype = 0x0800;
	m.ipdst = lk_far;
	m.dport = 53;
	m.vlan = -1;
	n = lk_find(&l->tb, &m, got, sizeof(got));
	xport = lk_get16(got + 34);
	check("link: it leaves epairNb SNATed: the pool's address and a port "
	    "of its block, TTL 63, both checksums right",
	    n >= LK_UDP_LEN && memcmp(got + 26, lk_pool, 4) == 0 &&
	    xport >= 5000 && xport <= 5063 && got[22] == 63 &&
	    lk_sums_ok(got) && memcmp(got + 42, "vpc-boot-link-1.", 16) == 0,
	    n, LK_UDP_LEN);

	/* The reply, written into epairNb to the link's MAC. */
	lk_udp(f, l->mac, lk_up, lk_far, 53, lk_pool, xport);
	expect("link: bpf write of the reply into epairNb",
	    sc3(SYS_write, l->tb.fd, f, sizeof(f)), LK_UDP_LEN);
	memset(&m, 0, sizeof(m));
	m.dst = lk_ma;
	m.etype = 0x0800;
	m.ipdst = lk_ip_a;
	m.vlan = -1;
	n = lk_find(&l->ta, &m, got, sizeof(got));
	check("link: the reply reaches A untranslated: 10.81.0.10:40000 from "
	    "192.0.2.77:53, the gateway's MAC, checksums right",
	    n >= LK_UDP_LEN && memcmp(got + 6, l->gw.mac, 6) == 0 &&
	    memcmp(got + 26, lk_far, 4) == 0 && lk_get16(got + 34) == 53 &&
	    lk_get16(got + 36) == 40000 && lk_sums_ok(got), n, LK_UDP_LEN);

	/* A datagram in two fragments: the later one follows its first. */
	{
		struct lk_fmatch fm = { l->mac, lk_pool, 0x2000 };
		long fl;

		fl = lk_frag(f, l->gw.mac, 1);
		expect("link: bpf write of a first fragment (UDP to "
		    "192.0.2.77:53, MF, id 0x2b2b) on A",
		    sc3(SYS_write, l->ta.fd, f, fl), fl);
		check("link: the first fragment leaves epairNb SNATed (the "
		    "pool's address, id kept, IP checksum right)",
		    tap_find(&l->tb, lk_fmatch_fn, &fm, 0, 0) != 0, 0, 1);
		fl = lk_frag(f, l->gw.mac, 0);
		expect("link: bpf write of its last fragment (offset 3) on A",
		    sc3(SYS_write, l->ta.fd, f, fl), fl);
		fm.off = 3;
		check("link: the last fragment leaves with the same source",
		    tap_find(&l->tb, lk_fmatch_fn, &fm, 0, 0) != 0, 0, 1);
	}

	/* ARP for the EIP, from the upstream. */
	lk_arp(f, lk_bcast, 1, lk_up, lk_upip, (const uint8_t[6]){ 0 }, lk_eip);
	expect("link: bpf write of who-has 198.51.100.10 into epairNb",
	    sc3(SYS_write, l->tb.fd, f, 42), 42);
	memset(&m, 0, sizeof(m));
	m.src = l->mac;
	m.dst = lk_up;
	m.etype = 0x0806;
	m.arpop = 2;
	m.ipsrc = lk_eip;
	m.ipdst = lk_upip;
	m.vlan = -1;
	n = lk_find(&l->tb, &m, got, sizeof(got));
	check("link: the EIP is answered: at the link's MAC, to the upstream",
	    n >= 42 && memcmp(got + 22, l->mac, 6) == 0 &&
	    memcmp(got + 32, lk_up, 6) == 0, n, 42);

	/* Inbound to the EIP. */
	lk_udp(f, l->mac, lk_up, lk_far, 5353, lk_eip, 7000);
	expect("link: bpf write of UDP to 198.51.100.10:7000 into epairNb",
	    sc3(SYS_write, l->tb.fd, f, sizeof(f)), LK_UDP_LEN);
	memset(&m, 0, sizeof(m));
	m.dst = lk_mb;
	m.etype = 0x0800;
	m.ipdst = lk_ip_b;
	m.dport = 7000;
	m.vlan = -1;
	n = lk_find(&l->tvb, &m, got, sizeof(got));
	check("link: it reaches B at 10.81.0.11:7000, from 192.0.2.77, "
	    "checksums right", n >= LK_UDP_LEN &&
	    memcmp(got + 26, lk_far, 4) == 0 && lk_sums_ok(got), n,
	    LK_UDP_LEN);

	/* The node's own: ARP for epairNa's address, answered by FreeBSD. */
	lk_arp(f, lk_bcast, 1, lk_up, lk_upip, (const uint8_t[6]){ 0 }, lk_node);
	expect("link: bpf write of who-has 198.51.100.2 (epairNa's own) "
	    "into epairNb", sc3(SYS_write, l->tb.fd, f, 42), 42);
	memset(&m, 0, sizeof(m));
	m.src = l->mac;
	m.etype = 0x0806;
	m.arpop = 2;
	m.ipsrc = lk_node;
	m.ipdst = lk_upip;
	m.vlan = -1;
	check("link: the node's stack answers it through the taken NIC",
	    lk_find(&l->tb, &m, 0, 0) != 0, 0, 1);

	check("link: stats: taken >= 3, passed >= 1, 1 ARP reply, tx >= 3, "
	    "no tx error", lk_stat(l->link, VPC_LINKSTAT_RX_TAKEN) >= 3 &&
	    lk_stat(l->link, VPC_LINKSTAT_RX_PASSED) >= 1 &&
	    lk_stat(l->link, VPC_LINKSTAT_ARP_REPLIES) == 1 &&
	    lk_stat(l->link, VPC_LINKSTAT_TX) >= 3 &&
	    lk_stat(l->link, VPC_LINKSTAT_TX_ERRORS) == 0,
	    (long)lk_stat(l->link, VPC_LINKSTAT_RX_TAKEN), 3);
}

/* A VNI 0 switch on the same NIC, VLAN 42, with VM C. */
static void
lk_vni0(struct lk *l)
{
	vpc_id_t vccid = mkid(LK_ID_VCC);
	vpc_swport_t req, res;
	vpc_sw_vni_t v;
	struct lk_match m;
	char name[VPC_IFNAMSIZ];
	long vcc2, r;

	l->vcc = lk_open(LK_ID_VCC, VPC_TYPE_VCC);
	l->sw0 = lk_open(LK_ID_SW0, VPC_TYPE_SWITCH);
	check("vni0: a vcc and a switch", l->vcc >= 0 && l->sw0 >= 0,
	    l->vcc < 0 ? l->vcc : l->sw0, 3);
	if (l->vcc < 0 || l->sw0 < 0)
		return;
	expect("vni0: VCC_SET l2_ifname lo0 (not Ethernet) is ENODEV",
	    lk_vcc_set(l->vcc, 4799, "lo0"), -VPC_ENODEV);
	expect("vni0: VCC_SET l2_ifname of no such interface is ENXIO",
	    lk_vcc_set(l->vcc, 4799, "nxl2if0"), -VPC_ENXIO);
	expect("vni0: VCC_SET l2_ifname epairNa (shared with the link)",
	    lk_vcc_set(l->vcc, 4799, l->ea), 0);
	memset(&v, 0, sizeof(v));
	expect("vni0: SW_SET_VNI 0 (raw L2, no VXLAN)", vctl_n(l->sw0,
	    VPC_OP_SW_SET_VNI, &v, sizeof(v), 0, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_VLAN_ID;
	req.vlan_id = LK_VLAN;
	req.peer_id = vccid;
	expect("vni0: a VNI 0 uplink into it, VLAN 42", vctl_n(l->sw0,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	l->c = add_vmnic_port(l->sw0, lk_mc, 0);
	check("vni0: vmnic C", l->c >= 0, l->c, 3);
	if (l->c < 0 || nic_ifname(l->c, l->nc) != 0 ||
	    if_up(l->sock, l->nc) != 0 || tap_open(&l->tc, l->nc) != 0) {
		check("vni0: C up, bpf on it", 0, 0, 1);
		return;
	}
	vcc2 = lk_open(LK_ID_VCC2, VPC_TYPE_VCC);
	if (vcc2 >= 0) {
		expect("vni0: a second vcc on epairNa is EBUSY",
		    lk_vcc_set(vcc2, 4798, l->ea), -VPC_EBUSY);
		r = lk_vcc_l2(vcc2, name);
		check("vni0: and it stays unconfigured", r == 0 &&
		    name[0] == '\0', r, 0);
		sc3(SYS_close, vcc2, 0, 0);
	}
	expect("vni0: VCC_SET of the first vcc to lo0 is ENODEV",
	    lk_vcc_set(l->vcc, 4799, "lo0"), -VPC_ENODEV);
	r = lk_vcc_l2(l->vcc, name);
	check("vni0: and it keeps epairNa", r == 0 && lk_streq(name, l->ea),
	    r, 0);

	expect("vni0: bpf write of a broadcast on C", tap_send(&l->tc,
	    lk_bcast, lk_mc, 0x51), 64);
	memset(&m, 0, sizeof(m));
	m.src = lk_mc;
	m.dst = lk_bcast;
	m.etype = TEST_ETHERTYPE;
	m.vlan = LK_VLAN;
	m.tag = 0x51;
	check("vni0: it leaves epairNb tagged with VLAN 42",
	    lk_find(&l->tb, &m, 0, 0) != 0, 0, 1);
	expect("vni0: bpf write of an unknown unicast on C", tap_send(&l->tc,
	    mac_y, lk_mc, 0x52), 64);
	m.dst = mac_y;
	m.tag = 0x52;
	check("vni0: it leaves epairNb tagged with VLAN 42 too",
	    lk_find(&l->tb, &m, 0, 0) != 0, 0, 1);
	expect("vni0: bpf write of a frame tagged 42 to C into epairNb",
	    lk_send_tagged(&l->tb, lk_mc, mac_y, LK_VLAN, 0x53), 68);
	check("vni0: it reaches C, untagged",
	    tap_expect(&l->tc, lk_mc, 0x53), 0, 1);
	expect("vni0: bpf write of a frame tagged 43 to C into epairNb",
	    lk_send_tagged(&l->tb, lk_mc, mac_y, LK_VLAN + 1, 0x54), 68);
	check("vni0: it does not reach C (no uplink on VLAN 43)",
	    !tap_expect(&l->tc, lk_mc, 0x54), 1, 0);
}

/* Unbind, destroy: promiscuous off, the hook gone (a bridge may take it). */
static void
lk_release(struct lk *l)
{
	vpc_link_t got;
	long r;

	if (l->vcc >= 0) {
		expect("vni0: VCC_SET without l2_ifname lets epairNa go",
		    lk_vcc_set(l->vcc, 4799, NULL), 0);
		check("link: epairNa still promiscuous (the link holds it)",
		    lk_promisc(l->sock, l->ea), if_flags(l->sock, l->ea),
		    IFF_PROMISC);
	}
	expect("link: LINK_SET \"\" unbinds", lk_set(l->link, ""), 0);
	r = lk_get(l->link, &got);
	check("link: LINK_GET: unbound, nameless", r == 0 && got.bound == 0 &&
	    got.ifname[0] == '\0', r != 0 ? r : got.bound, 0);
	check("link: epairNa is not promiscuous any more",
	    !lk_promisc(l->sock, l->ea), if_flags(l->sock, l->ea), 0);
	expect("link: the hook is out: if_bridge takes epairNa",
	    lk_bridge_member(l->sock, l->br, BRDGADD, l->ea), 0);
	expect("link: and lets it go", lk_bridge_member(l->sock, l->br,
	    BRDGDEL, l->ea), 0);
	expect("link: LINK_SET epairNa again", lk_set(l->link, l->ea), 0);
	check("link: promiscuous again", lk_promisc(l->sock, l->ea),
	    if_flags(l->sock, l->ea), IFF_PROMISC);
}

/* Bound when its epair is destroyed: the departure event lets go. */
static void
lk_departure(long sock)
{
	char a[VPC_IFNAMSIZ], b[VPC_IFNAMSIZ];
	vpc_link_t got;
	long link2, r;

	if (lk_epair(sock, a, b) != 0 || if_up(sock, a) != 0) {
		check("link: a second epair", 0, 0, 1);
		return;
	}
	link2 = lk_open(LK_ID_LINK2, VPC_TYPE_LINK);
	check("link: a second link", link2 >= 0, link2, 3);
	if (link2 < 0) {
		if_destroy(sock, a);
		return;
	}
	expect("link: the second link bound to the second epair",
	    lk_set(link2, a), 0);
	expect("link: ifconfig destroy of that epair while bound",
	    if_destroy(sock, a), 0);
	expect("link: it is gone", if_flags(sock, a), -ENXIO);
	r = lk_get(link2, &got);
	check("link: the link still names it (as on the host)", r == 0 &&
	    got.bound == 1 && lk_streq(got.ifname, a), r, 0);
	expect("link: LINK_SET \"\" after the departure", lk_set(link2, ""), 0);
	expect("link: DESTROY the second link", destroy(link2), 0);
	sc3(SYS_close, link2, 0, 0);
	invariants("link: the core's invariants after the departure");
}

static void
lk_teardown(struct lk *l)
{
	vpc_rt_route_t rt;
	vpc_rtr_nat_t rn;

	if (l->rtr >= 0) {
		memset(&rt, 0, sizeof(rt));
		rt.af = VPC_AF_INET;
		rt.target = VPC_RT_INTERNET;
		(void)vctl_n(l->rtr, VPC_OP_RTR_ROUTE_DEL, &rt, sizeof(rt), 0, 0);
		memset(&rn, 0, sizeof(rn));
		(void)vctl_n(l->rtr, VPC_OP_RTR_SET_NAT, &rn, sizeof(rn), 0, 0);
	}
	if (l->nat >= 0)
		expect("link: DESTROY the NAT (it lets go of the link)",
		    destroy(l->nat), 0);
	if (l->link >= 0) {
		expect("link: DESTROY of the bound link", destroy(l->link), 0);
		check("link: epairNa is not promiscuous after it",
		    !lk_promisc(l->sock, l->ea), if_flags(l->sock, l->ea), 0);
		expect("link: and if_bridge may take it",
		    lk_bridge_member(l->sock, l->br, BRDGADD, l->ea), 0);
	}
	tap_close(&l->tb);
	tap_close(&l->ta);
	tap_close(&l->tvb);
	tap_close(&l->tc);
	if (l->rtr >= 0)
		(void)destroy(l->rtr);
	if (l->vcc >= 0)
		(void)destroy(l->vcc);
	if (l->sw0 >= 0)
		(void)destroy(l->sw0);
	if (l->sw >= 0)
		(void)destroy(l->sw);
	if (l->br[0] != '\0')
		expect("link: ifconfig destroy of the bridge",
		    if_destroy(l->sock, l->br), 0);
	if (l->ea[0] != '\0')
		expect("link: ifconfig destroy of the epair",
		    if_destroy(l->sock, l->ea), 0);
	if (l->bm[0] != '\0')
		(void)if_destroy(l->sock, l->bm);
}

void
link_checks(long sock)
{
	uint64_t objs0 = sysctl_u64("net.vpc.objects");
	char bb[VPC_IFNAMSIZ];
	struct lk l;
	long *hs[] = { &l.rtr, &l.sw, &l.nat, &l.link, &l.a, &l.b, &l.vcc,
	    &l.sw0, &l.c };
	unsigned i;

	memset(&l, 0, sizeof(l));
	l.sock = sock;
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
		*hs[i] = -1;
	l.tb.fd = l.ta.fd = l.tvb.fd = l.tc.fd = -1;
	if (lk_epair(sock, l.ea, l.eb) != 0) {
		check("link: ifconfig epair create", 0, 0, 1);
		return;
	}
	expect("link: epairNa up, 198.51.100.2/24", if_up(sock, l.ea) == 0 &&
	    if_up(sock, l.eb) == 0 ? if_addr4(sock, l.ea, lk_node, 24) : -1, 0);
	/* A bridge with another epair's end: a NIC vpc must not take. */
	if (lk_bridge_create(sock, l.br) != 0 || lk_epair(sock, l.bm, bb) != 0 ||
	    lk_bridge_member(sock, l.br, BRDGADD, l.bm) != 0) {
		check("link: a bridge with a member", 0, 0, 1);
		goto out;
	}
	/* The outside first: LINK_SET sends the EIP's gratuitous ARP. */
	expect("link: bpf on epairNb", tap_open(&l.tb, l.eb), 0);
	l.link = lk_open(LK_ID_LINK, VPC_TYPE_LINK);
	check("link: vpc_open(LINK, CREATE)", l.link >= 0, l.link, 3);
	if (l.link < 0 || lk_build(&l) != 0)
		goto out;
	lk_bind(&l);
	if (nic_ifname(l.a, l.na) != 0 || if_up(sock, l.na) != 0 ||
	    nic_ifname(l.b, l.nb) != 0 || if_up(sock, l.nb) != 0 ||
	    tap_open(&l.ta, l.na) != 0 || tap_open(&l.tvb, l.nb) != 0 ||
	    l.tb.fd < 0) {
		check("link: A and B up, bpf on A, B and epairNb", 0, 0, 1);
		goto out;
	}
	lk_traffic(&l);
	lk_vni0(&l);
	lk_release(&l);
	lk_departure(sock);
out:
	lk_teardown(&l);
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
		if (*hs[i] >= 0)
			sc3(SYS_close, *hs[i], 0, 0);
	check("link: no object left after the handles are closed",
	    sysctl_u64("net.vpc.objects") == objs0,
	    (long)sysctl_u64("net.vpc.objects"), (long)objs0);
	invariants("link: the core's invariants hold");
}

/* ---- Unload (t_unload.c) ----------------------------------------------------------- */

/* An epair and a link bound to its a end, uncommitted: the handle. */
long
link_unload_prep(long sock, char ifname[VPC_IFNAMSIZ])
{
	char b[VPC_IFNAMSIZ];
	long link;

	if (lk_epair(sock, ifname, b) != 0 || if_up(sock, ifname) != 0)
		return (-1);
	link = lk_open(LK_ID_LINK, VPC_TYPE_LINK);
	if (link >= 0 && lk_set(link, ifname) != 0) {
		sc3(SYS_close, link, 0, 0);
		return (-1);
	}
	check("unload: a link bound to an epair, to die just before it",
	    link >= 0 && lk_promisc(sock, ifname), link, 3);
	return (link);
}

/* The module is gone: the NIC is as it was, and a bridge may take it. */
void
link_unload_after(long sock, const char *ifname)
{
	char br[VPC_IFNAMSIZ];

	check("unload: the link's epair is not promiscuous any more",
	    !lk_promisc(sock, ifname), if_flags(sock, ifname), 0);
	if (lk_bridge_create(sock, br) == 0) {
		expect("unload: the hook is out: if_bridge takes that epair",
		    lk_bridge_member(sock, br, BRDGADD, ifname), 0);
		(void)if_destroy(sock, br);
	}
	expect("unload: ifconfig destroy of that epair",
	    if_destroy(sock, ifname), 0);
}
