/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_router.c: the router (vpcr, issue 13) on the real data path.  Two
 * switches (10.61.0.0/24 and 10.62.0.0/24) are attached to one router
 * through their router ports; an ICMP echo written with bpf(4) on vmnic A
 * to A's gateway MAC for VM B's address comes out of vmnic B rewritten
 * (B's gateway MAC as source, TTL - 1, the IPv4 checksum right), with B's
 * neighbour entry set beforehand (SW_NBR_SET) so that no upcall is needed.
 * TTL 1 gets ICMP time exceeded back on A; a custom route (a next hop in
 * B's subnet) is followed, ROUTE_REPLACE turns it into a drop route and
 * the next frame gets ICMP unreachable; the counters add up; destroy.
 */
#include "tests.h"
#include "report.h"

#define	RT_VNI_A	6101
#define	RT_VNI_B	6102

static const uint8_t rt_ma[6] = { 0x02, 0, 0, 0, 0xd, 0x01 };
static const uint8_t rt_mb[6] = { 0x02, 0, 0, 0, 0xd, 0x02 };
static const uint8_t rt_ip_a[4] = { 10, 61, 0, 10 };
static const uint8_t rt_ip_b[4] = { 10, 62, 0, 10 };
static const uint8_t rt_far[4] = { 10, 63, 0, 5 };	/* behind B: a custom route */

static void
rt_put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* An ICMP echo request (id 0x5252, this sequence) from A to dst, sent to
 * A's gateway MAC, with this TTL. */
static long
rt_ping(struct tap *t, const uint8_t gwmac[6], const uint8_t dst[4],
    uint8_t ttl, uint8_t seq)
{
	uint8_t f[14 + 20 + 8 + 16], *ip = f + 14, *icmp = ip + 20;

	memset(f, 0, sizeof(f));
	memcpy(f, gwmac, 6);
	memcpy(f + 6, rt_ma, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	rt_put16(ip + 2, 20 + 8 + 16);
	rt_put16(ip + 4, 0x1300 + seq);
	ip[8] = ttl;
	ip[9] = 1;
	memcpy(ip + 12, rt_ip_a, 4);
	memcpy(ip + 16, dst, 4);
	rt_put16(ip + 10, cksum(ip, 20));
	icmp[0] = 8;
	rt_put16(icmp + 4, 0x5252);
	rt_put16(icmp + 6, seq);
	memcpy(icmp + 8, "vpc-boot-router.", 16);
	rt_put16(icmp + 2, cksum(icmp, 8 + 16));
	return (sc3(SYS_write, t->fd, f, sizeof(f)));
}

struct rt_match {
	const uint8_t	*dst;		/* Ethernet destination */
	uint8_t		 type;		/* ICMP type (IPv4 header of 20 bytes) */
	uint8_t		 seq;		/* echo: its sequence; errors: the quoted one's */
};

static int
rt_match_icmp(const uint8_t *f, long len, void *arg)
{
	struct rt_match *m = arg;
	unsigned seqat = m->type == 8 ? 34 + 7 : 34 + 8 + 20 + 7;

	return (len > (long)seqat && memcmp(f, m->dst, 6) == 0 && f[12] == 0x08 &&
	    f[13] == 0 && f[14] == 0x45 && f[23] == 1 && f[34] == m->type &&
	    f[seqat] == m->seq);
}

static long
rt_expect(struct tap *t, const uint8_t dst[6], uint8_t type, uint8_t seq,
    uint8_t *out, size_t max)
{
	struct rt_match m = { dst, type, seq };

	return (tap_find(t, rt_match_icmp, &m, out, max));
}

static uint64_t
rt_stat(long rtr, unsigned which)
{
	vpc_rtr_stats_t st;

	memset(&st, 0, sizeof(st));
	if (vctl_n(rtr, VPC_OP_RTR_GET_STATS, 0, 0, &st, sizeof(st)) != 0)
		return (~0ull);
	return (st.c[which]);
}

static long
rt_nroutes(long rtr)
{
	vpc_rt_route_t buf[16];
	vpc_list_req_t lr;
	size_t vl = sizeof(buf);
	long r;

	memset(&lr, 0, sizeof(lr));
	r = vctl(rtr, VPC_OP_RTR_ROUTE_DUMP, &lr, sizeof(lr), buf, &vl);
	return (r != 0 ? r : (long)(vl / sizeof(buf[0])));
}

/* A switch with a VNI, an IPv4 /24 10.net.0.0 and a router port. */
static long
rt_switch(unsigned idn, uint32_t vni, uint8_t net)
{
	vpc_id_t id = mkid(idn);
	vpc_sw_vni_t v;
	vpc_sw_subnet_t sn;
	vpc_swport_t req, res;
	long swd, r;

	swd = vopen(&id, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	if (swd < 0)
		return (swd);
	memset(&v, 0, sizeof(v));
	v.vni = vni;
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	memcpy(sn.addr, (uint8_t[]){ 10, net, 0, 0 }, 4);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	if ((r = vctl_n(swd, VPC_OP_SW_SET_VNI, &v, sizeof(v), 0, 0)) != 0 ||
	    (r = vctl_n(swd, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), 0, 0)) != 0 ||
	    (r = vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res,
	    sizeof(res))) != 0) {
		sc3(SYS_close, swd, 0, 0);
		return (r);
	}
	return (swd);
}

void
router_checks(long sock)
{
	vpc_id_t rid = mkid(90), swa_id = mkid(91), swb_id = mkid(92);
	vpc_rtr_attach_t at;
	vpc_rt_route_t rt;
	vpc_sw_gateway_t gwa, gwb;
	vpc_nic_addr_t ad;
	vpc_sw_nbr_t nb;
	vpc_cam_set_result_t cr;
	struct tap ta, tb;
	uint8_t f[256], *ip;
	char na[VPC_IFNAMSIZ], nbn[VPC_IFNAMSIZ];
	long rtr, swa = -1, swb = -1, a = -1, b = -1, r, n, nr;
	uint64_t g0;

	ta.fd = tb.fd = -1;
	rtr = vopen(&rid, WORD(VPC_TYPE_ROUTER), VPC_FLAG_CREATE);
	check("router: vpc_open(ROUTER, CREATE)", rtr >= 0, rtr, 3);
	if (rtr < 0)
		return;
	expect("router: COMMIT", commit(rtr), 0);
	swa = rt_switch(91, RT_VNI_A, 61);
	swb = rt_switch(92, RT_VNI_B, 62);
	check("router: two switches with a VNI, a subnet and a router port",
	    swa >= 0 && swb >= 0, swa >= 0 ? swb : swa, 3);
	if (swa < 0 || swb < 0)
		goto out;
	/* A with its default gateway (10.61.0.1), B with 10.62.0.254 set on attach. */
	memset(&at, 0, sizeof(at));
	at.switch_id = swa_id;
	expect("router: RTR_ATTACH switch A", vctl_n(rtr, VPC_OP_RTR_ATTACH, &at,
	    sizeof(at), 0, 0), 0);
	expect("router: RTR_ATTACH switch A again is EEXIST", vctl_n(rtr,
	    VPC_OP_RTR_ATTACH, &at, sizeof(at), 0, 0), -VPC_EEXIST);
	at.switch_id = swb_id;
	at.flags = VPC_GW_ADDR4;
	memcpy(at.addr4, (uint8_t[]){ 10, 62, 0, 254 }, 4);
	expect("router: RTR_ATTACH switch B with gateway 10.62.0.254", vctl_n(rtr,
	    VPC_OP_RTR_ATTACH, &at, sizeof(at), 0, 0), 0);
	memset(&gwa, 0, sizeof(gwa));
	memset(&gwb, 0, sizeof(gwb));
	r = vctl_n(swa, VPC_OP_SW_GET_GATEWAY, 0, 0, &gwa, sizeof(gwa));
	if (r == 0)
		r = vctl_n(swb, VPC_OP_SW_GET_GATEWAY, 0, 0, &gwb, sizeof(gwb));
	check("router: the gateways: 10.61.0.1 and 10.62.0.254, distinct MACs",
	    r == 0 && gwa.has4 && gwb.has4 && gwa.addr4[3] == 1 &&
	    gwb.addr4[3] == 254 && memcmp(gwa.mac, gwb.mac, 6) != 0, r, 0);
	check("router: two connected routes", rt_nroutes(rtr) == 2,
	    rt_nroutes(rtr), 2);

	/* A custom route, and a bad one: errno, nothing changed. */
	g0 = generation(rtr);
	memset(&rt, 0, sizeof(rt));
	rt.af = VPC_AF_INET;
	rt.prefixlen = 33;
	rt.target = VPC_RT_DROP;
	memcpy(rt.prefix, (uint8_t[]){ 10, 63, 0, 0 }, 4);
	expect("router: ROUTE_SET with prefixlen 33 is EINVAL", vctl_n(rtr,
	    VPC_OP_RTR_ROUTE_SET, &rt, sizeof(rt), 0, 0), -VPC_EINVAL);
	rt.prefixlen = 24;
	rt.target = VPC_RT_NEXTHOP;
	memcpy(rt.nexthop, (uint8_t[]){ 10, 99, 0, 1 }, 4);
	expect("router: ROUTE_SET via a next hop in no subnet is EADDRNOTAVAIL",
	    vctl_n(rtr, VPC_OP_RTR_ROUTE_SET, &rt, sizeof(rt), 0, 0),
	    -VPC_EADDRNOTAVAIL);
	nr = rt_nroutes(rtr);
	check("router: the bad routes changed nothing (generation, routes)",
	    generation(rtr) == g0 && nr == 2, nr, 2);
	memcpy(rt.nexthop, rt_ip_b, 4);
	expect("router: ROUTE_SET 10.63.0.0/24 via 10.62.0.10", vctl_n(rtr,
	    VPC_OP_RTR_ROUTE_SET, &rt, sizeof(rt), 0, 0), 0);
	check("router: the generation moved, three routes",
	    generation(rtr) > g0 && rt_nroutes(rtr) == 3, rt_nroutes(rtr), 3);

	/* VM A (its address set), VM B (its neighbour entry set). */
	a = add_vmnic_port(swa, rt_ma, 0);
	b = add_vmnic_port(swb, rt_mb, 0);
	check("router: a vmnic on each switch", a >= 0 && b >= 0, a >= 0 ? b : a, 3);
	if (a < 0 || b < 0)
		goto out;
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, rt_ip_a, 4);
	expect("router: NIC_SET_ADDR 10.61.0.10 on A", vctl_n(a,
	    VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), 0, 0), 0);
	memset(&nb, 0, sizeof(nb));
	nb.af = VPC_AF_INET;
	nb.kind = VPC_NBR_FOUND;
	memcpy(nb.mac, rt_mb, 6);
	memcpy(nb.addr, rt_ip_b, 4);
	memset(&cr, 0, sizeof(cr));
	expect("router: SW_NBR_SET 10.62.0.10 is at B's MAC", vctl_n(swb,
	    VPC_OP_SW_NBR_SET, &nb, sizeof(nb), &cr, sizeof(cr)), 0);
	if (nic_ifname(a, na) != 0 || if_up(sock, na) != 0 ||
	    nic_ifname(b, nbn) != 0 || if_up(sock, nbn) != 0 ||
	    tap_open(&ta, na) != 0 || tap_open(&tb, nbn) != 0) {
		check("router: vmnics A and B up, bpf on each", 0, 0, 1);
		goto out;
	}

	/* A to B across the router. */
	expect("router: bpf write of an echo from A to 10.62.0.10 via A's gateway",
	    rt_ping(&ta, gwa.mac, rt_ip_b, 64, 1), 14 + 20 + 8 + 16);
	n = rt_expect(&tb, rt_mb, 8, 1, f, sizeof(f));
	ip = f + 14;
	check("router: routed to B: B's gateway MAC, B's MAC, TTL 63, checksum right",
	    n >= 14 + 20 + 8 + 16 && memcmp(f + 6, gwb.mac, 6) == 0 &&
	    ip[8] == 63 && cksum(ip, 20) == 0 && memcmp(ip + 12, rt_ip_a, 4) == 0 &&
	    memcmp(ip + 16, rt_ip_b, 4) == 0 &&
	    memcmp(ip + 28, "vpc-boot-router.", 16) == 0, n, 58);

	/* TTL 1: time exceeded from A's gateway, quoting the datagram. */
	expect("router: bpf write of an echo with TTL 1",
	    rt_ping(&ta, gwa.mac, rt_ip_b, 1, 2), 14 + 20 + 8 + 16);
	n = rt_expect(&ta, rt_ma, 11, 2, f, sizeof(f));
	check("router: TTL 1 gets ICMP time exceeded from A's gateway on A",
	    n >= 14 + 20 + 8 + 28 && memcmp(f + 6, gwa.mac, 6) == 0 &&
	    f[35] == 0 && cksum(ip, 20) == 0 && memcmp(ip + 12, gwa.addr4, 4) == 0 &&
	    memcmp(ip + 16, rt_ip_a, 4) == 0 &&
	    memcmp(ip + 28 + 16, rt_ip_b, 4) == 0, n, 70);

	/* The custom route: to B's MAC, the next hop's. */
	expect("router: bpf write of an echo to 10.63.0.5",
	    rt_ping(&ta, gwa.mac, rt_far, 64, 3), 14 + 20 + 8 + 16);
	n = rt_expect(&tb, rt_mb, 8, 3, f, sizeof(f));
	check("router: 10.63.0.5 follows the custom route to the next hop B",
	    n >= 14 + 20 + 8 + 16 && memcmp(f + 6, gwb.mac, 6) == 0 &&
	    ip[8] == 63 && cksum(ip, 20) == 0 && memcmp(ip + 16, rt_far, 4) == 0,
	    n, 58);

	/* ROUTE_REPLACE: 10.63.0.0/24 is now a drop route. */
	memset(&rt, 0, sizeof(rt));
	rt.af = VPC_AF_INET;
	rt.prefixlen = 24;
	rt.target = VPC_RT_DROP;
	memcpy(rt.prefix, (uint8_t[]){ 10, 63, 0, 0 }, 4);
	g0 = generation(rtr);
	expect("router: ROUTE_REPLACE with 10.63.0.0/24 drop", vctl_n(rtr,
	    VPC_OP_RTR_ROUTE_REPLACE, &rt, sizeof(rt), 0, 0), 0);
	memset(&rt, 0, sizeof(rt));
	rt.af = VPC_AF_INET;
	memcpy(rt.prefix, rt_far, 4);
	memset(f, 0, sizeof(f));
	r = vctl_n(rtr, VPC_OP_RTR_ROUTE_LOOKUP, &rt, sizeof(rt), f,
	    sizeof(vpc_rt_route_t));
	check("router: after the replace: three routes, 10.63.0.5 matches a drop",
	    r == 0 && generation(rtr) > g0 && rt_nroutes(rtr) == 3 &&
	    ((vpc_rt_route_t *)(void *)f)->target == VPC_RT_DROP, r, 0);
	expect("router: bpf write of an echo to 10.63.0.5 again",
	    rt_ping(&ta, gwa.mac, rt_far, 64, 4), 14 + 20 + 8 + 16);
	n = rt_expect(&ta, rt_ma, 3, 4, f, sizeof(f));
	check("router: the new table: ICMP unreachable from A's gateway",
	    n >= 14 + 20 + 8 + 28 && memcmp(f + 6, gwa.mac, 6) == 0 &&
	    cksum(ip, 20) == 0 && memcmp(ip + 12, gwa.addr4, 4) == 0 &&
	    memcmp(ip + 28 + 16, rt_far, 4) == 0, n, 70);

	check("router: stats: 2 routed, 1 TTL exceeded, 1 blackhole, 2 ICMP sent",
	    rt_stat(rtr, VPC_RTRSTAT_ROUTED) == 2 &&
	    rt_stat(rtr, VPC_RTRSTAT_TTL_EXCEEDED) == 1 &&
	    rt_stat(rtr, VPC_RTRSTAT_BLACKHOLE) == 1 &&
	    rt_stat(rtr, VPC_RTRSTAT_ICMP_SENT) == 2 &&
	    rt_stat(rtr, VPC_RTRSTAT_NBR_MISS) == 0,
	    (long)rt_stat(rtr, VPC_RTRSTAT_ROUTED), 2);
out:
	tap_close(&ta);
	tap_close(&tb);
	expect("router: DESTROY", destroy(rtr), 0);
	sc3(SYS_close, rtr, 0, 0);
	if (a >= 0)
		sc3(SYS_close, a, 0, 0);
	if (b >= 0)
		sc3(SYS_close, b, 0, 0);
	if (swa >= 0)
		sc3(SYS_close, swa, 0, 0);
	if (swb >= 0)
		sc3(SYS_close, swb, 0, 0);
	invariants("router: the core's invariants hold");
}
