/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_router.c: the router (vpcr) driven directly, no daemon: attachments,
 * the route table and its ops (every bad input with its errno and the
 * state unchanged), longest-prefix match and its ties, atomic replace and
 * the staged replace, dump with a marker, and the data path: rewrite, TTL, ICMP errors, the
 * neighbour miss and its held frame, admission drops, routed misses
 * charged to the sending vmnic's upcall rate.  Part of test_core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_impl.h"
#include "vpc_l3.h"
#include "host_loop.h"
#include "host_pkt.h"
#include "test_handles.h"
#include "test_os.h"
#include "test_router.h"

static struct rt {
	struct vpc_sys *sys;
	struct vpc_hdl *sw1, *sw2, *sw3, *vcc, *nic_a, *nic_b, *rtr;
	vpc_sw_gateway_t gw1, gw2;
	const char     *name;
	int            *failed;
} t;

#define TEST_AREA "router"
#define TEST_STATE t
#include "test_area.h"

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 4, 0xa };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 4, 0xb };
static const uint8_t mac_x[6] = { 2, 0, 0, 0, 4, 0x42 };
static const uint8_t ip_a[4] = { 10, 1, 0, 10 }, ip_b[4] = { 10, 2, 0, 10 };
static const uint8_t ip_x[4] = { 10, 2, 0, 50 };
static const uint8_t ip6_a[16] = { 0x20, 1, 0xd, 0xb8, 0, 1, [15] = 0xa };
static const uint8_t ip6_b[16] = { 0x20, 1, 0xd, 0xb8, 0, 2, [15] = 0xb };


static struct vpc_hdl *
open_new(unsigned type, uint8_t n)
{
	return (open_tagged(0xe4, type, n));
}

static uint64_t
rstat(unsigned which)
{
	vpc_rtr_stats_t st;

	if (ctl(t.rtr, VPC_OP_RTR_GET_STATS, NULL, 0, &st, sizeof(st)) != 0)
		return (~0ull);
	return (st.c[which]);
}

static uint64_t
gen(struct vpc_hdl *h)
{
	vpc_obj_info_t info;

	if (ctl(h, VPC_OP_GET_INFO, NULL, 0, &info, sizeof(info)) != 0)
		return (0);
	return (info.generation);
}

/* Ethernet + IPv4 (checksum right) + 8 bytes of UDP, to dmac. */
static struct vpc_pkt *
udp4(const uint8_t smac[6], const uint8_t dmac[6], const uint8_t src[4],
    const uint8_t dst[4], uint8_t ttl)
{
	uint8_t b[14 + 20 + 8 + 4], *ip = b + 14;

	memset(b, 0, sizeof(b));
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	vpc_put16(ip + 2, 20 + 8 + 4);
	ip[8] = ttl;
	ip[9] = VPC_IPPROTO_UDP;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
	vpc_put16(ip + 20, 1234);
	vpc_put16(ip + 22, 5678);
	vpc_put16(ip + 24, 12);
	memcpy(ip + 28, "data", 4);
	return (host_pkt_new(b, sizeof(b)));
}

static struct vpc_pkt *
udp6(const uint8_t smac[6], const uint8_t dmac[6], const uint8_t src[16],
    const uint8_t dst[16], uint8_t hlim)
{
	uint8_t b[14 + 40 + 8], *ip = b + 14;

	memset(b, 0, sizeof(b));
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	b[12] = 0x86;
	b[13] = 0xdd;
	ip[0] = 0x60;
	vpc_put16(ip + 4, 8);
	ip[6] = VPC_IPPROTO_UDP;
	ip[7] = hlim;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	vpc_put16(ip + 40, 1234);
	vpc_put16(ip + 42, 5678);
	vpc_put16(ip + 44, 8);
	return (host_pkt_new(b, sizeof(b)));
}

static void __attribute__((noinline))
route(vpc_rt_route_t *r, uint8_t af, const uint8_t *prefix, uint8_t plen,
    uint8_t target)
{
	memset(r, 0, sizeof(*r));
	r->af = af;
	r->prefixlen = plen;
	r->target = target;
	memcpy(r->prefix, prefix, af == VPC_AF_INET6 ? 16 : 4);  /* a bad af: an IPv4-sized prefix */
}

static int __attribute__((noinline))
lookup(uint8_t af, const uint8_t *addr, vpc_rt_route_t *out)
{
	vpc_rt_route_t k;

	memset(&k, 0, sizeof(k));
	k.af = af;
	memcpy(k.prefix, addr, af == VPC_AF_INET ? 4 : 16);
	return (ctl(t.rtr, VPC_OP_RTR_ROUTE_LOOKUP, &k, sizeof(k), out, sizeof(*out)));
}

static int
nroutes(void)
{
	vpc_rt_route_t buf[64];
	vpc_list_req_t lr;
	size_t vl = sizeof(buf);

	memset(&lr, 0, sizeof(lr));
	if (vpc_core_ctl(t.sys, &call, t.rtr, VPC_OP_RTR_ROUTE_DUMP, &lr, sizeof(lr),
	    buf, &vl) != 0)
		return (-1);
	return ((int)(vl / sizeof(buf[0])));
}

/* ---- Setup ---------------------------------------------------------------------- */

static int
mk_switch(struct vpc_hdl *sw, uint32_t vni, uint8_t net, bool router_port)
{
	vpc_sw_vni_t v = { .vni = vni };
	vpc_sw_subnet_t sn;
	vpc_swport_t req, res;

	EXPECT(sw != NULL);
	EXPECT_EQ(ctl(sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	memcpy(sn.addr, (uint8_t[]){ 10, net, 0, 0 }, 4);
	EXPECT_EQ(ctl(sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0), 0);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET6;
	sn.prefixlen = 64;
	memcpy(sn.addr, (uint8_t[]){ 0x20, 1, 0xd, 0xb8, 0, net }, 6);
	EXPECT_EQ(ctl(sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id = t.vcc->obj->id;
	EXPECT_EQ(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	if (router_port) {
		memset(&req, 0, sizeof(req));
		req.flags = VPC_FLAG_SWP_ROUTER;
		EXPECT_EQ(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	}
	return (0);
}

static int
mk_vm(struct vpc_hdl *sw, const uint8_t mac[6], const uint8_t ip4[4],
    const uint8_t ip6[16], struct vpc_hdl **out)
{
	vpc_swport_t req, res;
	vpc_nic_addr_t ad;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac, 6);
	EXPECT_EQ(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	*out = test_handles[res.descriptor];
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET | VPC_NIC_ADDR_INET6;
	memcpy(ad.addr4, ip4, 4);
	memcpy(ad.addr6, ip6, 16);
	EXPECT_EQ(ctl(*out, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0), 0);
	return (0);
}

static int
setup(void)
{
	vpc_vcc_t vc;

	t.vcc = open_new(VPC_TYPE_VCC, 1);
	t.sw1 = open_new(VPC_TYPE_SWITCH, 2);
	t.sw2 = open_new(VPC_TYPE_SWITCH, 3);
	t.sw3 = open_new(VPC_TYPE_SWITCH, 4);
	t.rtr = open_new(VPC_TYPE_ROUTER, 5);
	EXPECT(t.vcc != NULL && t.rtr != NULL);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	memcpy(vc.addr4, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	EXPECT_EQ(ctl(t.vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0), 0);
	if (mk_switch(t.sw1, 501, 1, true) || mk_switch(t.sw2, 502, 2, true) ||
	    mk_switch(t.sw3, 503, 3, false))
		return (-1);
	if (mk_vm(t.sw1, mac_a, ip_a, ip6_a, &t.nic_a) ||
	    mk_vm(t.sw2, mac_b, ip_b, ip6_b, &t.nic_b))
		return (-1);
	EXPECT_EQ(ctl(t.sw1, VPC_OP_SW_GET_GATEWAY, NULL, 0, &t.gw1, sizeof(t.gw1)), 0);
	EXPECT_EQ(ctl(t.sw2, VPC_OP_SW_GET_GATEWAY, NULL, 0, &t.gw2, sizeof(t.gw2)), 0);
	return (0);
}

/* ---- Cases ---------------------------------------------------------------------- */

static int
t_attach(void)
{
	vpc_rtr_attach_t a, list[4];
	vpc_sw_gateway_t gw;
	vpc_id_t nowhere;
	uint64_t g0;
	size_t vl;
	unsigned i;
	struct { vpc_rtr_attach_t a; int error; } bad[6];

	memset(bad, 0, sizeof(bad));
	memset(&nowhere, 0x77, sizeof(nowhere));
	bad[0].a.switch_id = nowhere;                   bad[0].error = VPC_ENOENT;
	bad[1].a.switch_id = t.sw3->obj->id;            bad[1].error = VPC_ENXIO;
	bad[2].a.switch_id = t.sw1->obj->id;            bad[2].a._pad0[1] = 1;
	bad[2].error = VPC_EINVAL;
	bad[3].a.switch_id = t.sw1->obj->id;            bad[3].a.flags = VPC_GW_ADDR4;
	memcpy(bad[3].a.addr4, (uint8_t[]){ 10, 9, 0, 1 }, 4);
	bad[3].error = VPC_EINVAL;                      /* outside the subnet */
	bad[4].a.switch_id = t.sw1->obj->id;            bad[4].a.flags = 0x80;
	bad[4].error = VPC_EINVAL;
	bad[5].a.switch_id = t.sw1->obj->id;            bad[5].a.vni = 3;
	bad[5].error = VPC_EINVAL;
	g0 = gen(t.rtr);
	for (i = 0; i < nitems(bad); i++) {
		if (ctl(t.rtr, VPC_OP_RTR_ATTACH, &bad[i].a, sizeof(bad[i].a), NULL, 0) !=
		    bad[i].error)
			FAIL("bad attach %u: not errno %d", i, bad[i].error);
	}
	EXPECT_EQ(gen(t.rtr), g0);
	EXPECT_EQ(obj2rtr(t.rtr->obj)->natt, 0);
	EXPECT_EQ(nroutes(), 0);
	/* sw1 with its default gateway, sw2 with one set on attach. */
	memset(&a, 0, sizeof(a));
	a.switch_id = t.sw1->obj->id;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ATTACH, &a, sizeof(a), NULL, 0), 0);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ATTACH, &a, sizeof(a), NULL, 0), VPC_EEXIST);
	a.switch_id = t.sw2->obj->id;
	a.flags = VPC_GW_ADDR4;
	memcpy(a.addr4, (uint8_t[]){ 10, 2, 0, 254 }, 4);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ATTACH, &a, sizeof(a), NULL, 0), 0);
	EXPECT(gen(t.rtr) > g0);
	EXPECT_EQ(ctl(t.sw2, VPC_OP_SW_GET_GATEWAY, NULL, 0, &gw, sizeof(gw)), 0);
	EXPECT(memcmp(gw.addr4, a.addr4, 4) == 0);
	t.gw2 = gw;
	vl = sizeof(list);
	EXPECT_EQ(vpc_core_ctl(t.sys, &call, t.rtr, VPC_OP_RTR_LIST_ATTACH, NULL, 0,
	    list, &vl), 0);
	EXPECT_EQ(vl, 2 * sizeof(list[0]));
	EXPECT(memcmp(&list[1].switch_id, &t.sw2->obj->id, 16) == 0);
	EXPECT_EQ(list[1].vni, 502);
	EXPECT(memcmp(list[1].addr4, a.addr4, 4) == 0);
	EXPECT(memcmp(list[0].mac, t.gw1.mac, 6) == 0);
	/* Connected routes: two subnets each. */
	EXPECT_EQ(nroutes(), 4);
	/* The switch's router port now names the router. */
	EXPECT(obj2sw(t.sw1->obj)->router->peer == t.rtr->obj);
	return (0);
}

static int
t_routes(void)
{
	static const uint8_t p10[4] = { 10, 0, 0, 0 }, p9[4] = { 10, 9, 0, 0 };
	vpc_rt_route_t r, out;
	uint64_t g0;
	unsigned i;
	struct { vpc_rt_route_t r; int error; } bad[16];
	int n0;

	memset(bad, 0, sizeof(bad));
	route(&bad[0].r, 5, p10, 8, VPC_RT_DROP);          bad[0].error = VPC_EAFNOSUPPORT;
	route(&bad[1].r, VPC_AF_INET, p10, 33, VPC_RT_DROP); bad[1].error = VPC_EINVAL;
	route(&bad[2].r, VPC_AF_INET, ip_a, 24, VPC_RT_DROP); bad[2].error = VPC_EINVAL;
	route(&bad[3].r, VPC_AF_INET, (uint8_t[]){ 224, 0, 0, 0 }, 4, VPC_RT_DROP);
	bad[3].error = VPC_EINVAL;                          /* multicast */
	route(&bad[4].r, VPC_AF_INET, (uint8_t[]){ 0, 0, 0, 0 }, 8, VPC_RT_DROP);
	bad[4].error = VPC_EINVAL;                          /* unspecified */
	route(&bad[5].r, VPC_AF_INET, p9, 16, VPC_RT_NEXTHOP);
	memcpy(bad[5].r.nexthop, ip6_b, 16);                /* family mismatch */
	bad[5].error = VPC_EINVAL;
	route(&bad[6].r, VPC_AF_INET, p9, 16, VPC_RT_NEXTHOP);
	memcpy(bad[6].r.nexthop, (uint8_t[]){ 10, 3, 0, 5 }, 4);
	bad[6].error = VPC_EADDRNOTAVAIL;                   /* in no attached subnet */
	route(&bad[7].r, VPC_AF_INET, p9, 16, VPC_RT_SUBNET);
	bad[7].r.switch_id = t.sw3->obj->id;                /* not attached */
	bad[7].error = VPC_ENXIO;
	route(&bad[8].r, VPC_AF_INET, p9, 16, VPC_RT_INTERNET);
	bad[8].error = VPC_EOPNOTSUPP;
	route(&bad[9].r, VPC_AF_INET, p9, 16, VPC_RT_DROP);
	bad[9].r._pad0[2] = 1;                              /* padding */
	bad[9].error = VPC_EINVAL;
	route(&bad[10].r, VPC_AF_INET, p9, 16, 9);          bad[10].error = VPC_EINVAL;
	route(&bad[11].r, VPC_AF_INET, p9, 16, VPC_RT_DROP);
	bad[11].r.cls = VPC_RT_CONNECTED;                   bad[11].error = VPC_EINVAL;
	route(&bad[12].r, VPC_AF_INET6, ip6_a, 129, VPC_RT_DROP); bad[12].error = VPC_EINVAL;
	route(&bad[13].r, VPC_AF_INET6, (uint8_t[16]){ 0xff, 2 }, 16, VPC_RT_DROP);
	bad[13].error = VPC_EINVAL;
	route(&bad[14].r, VPC_AF_INET, p9, 16, VPC_RT_NEXTHOP);
	memcpy(bad[14].r.nexthop, t.gw2.addr4, 4);          /* the router itself */
	bad[14].error = VPC_EINVAL;
	route(&bad[15].r, VPC_AF_INET, p9, 16, VPC_RT_DROP);
	bad[15].r.prefix[5] = 1;                            /* past an IPv4 prefix */
	bad[15].error = VPC_EINVAL;
	g0 = gen(t.rtr);
	n0 = nroutes();
	for (i = 0; i < nitems(bad); i++) {
		if (ctl(t.rtr, VPC_OP_RTR_ROUTE_SET, &bad[i].r, sizeof(bad[i].r), NULL, 0) !=
		    bad[i].error)
			FAIL("bad route %u: not errno %d", i, bad[i].error);
		if (ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, &bad[i].r, sizeof(bad[i].r),
		    NULL, 0) != bad[i].error)
			FAIL("bad route %u in a replace: not errno %d", i, bad[i].error);
	}
	EXPECT_EQ(gen(t.rtr), g0);
	EXPECT_EQ(nroutes(), n0);

	/* Longest prefix: 10/8 drop, 10.2.0.0/24 connected. */
	route(&r, VPC_AF_INET, p10, 8, VPC_RT_DROP);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0), 0);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0), VPC_EEXIST);
	EXPECT(gen(t.rtr) > g0);
	EXPECT_EQ(lookup(VPC_AF_INET, ip_x, &out), 0);
	EXPECT_EQ(out.cls, VPC_RT_CONNECTED);
	EXPECT(memcmp(&out.switch_id, &t.sw2->obj->id, 16) == 0);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 10, 7, 1, 1 }, &out), 0);
	EXPECT_EQ(out.target, VPC_RT_DROP);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 11, 7, 1, 1 }, &out), VPC_ENOENT);
	/* Custom over connected for the same prefix; deleted, connected again. */
	route(&r, VPC_AF_INET, (uint8_t[]){ 10, 2, 0, 0 }, 24, VPC_RT_NEXTHOP);
	memcpy(r.nexthop, ip_b, 4);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0), 0);
	EXPECT_EQ(lookup(VPC_AF_INET, ip_x, &out), 0);
	EXPECT_EQ(out.cls, VPC_RT_CUSTOM);
	EXPECT_EQ(out.target, VPC_RT_NEXTHOP);
	EXPECT(memcmp(&out.switch_id, &t.sw2->obj->id, 16) == 0);
	/* Two custom routes of one prefix: the older wins. */
	route(&out, VPC_AF_INET, (uint8_t[]){ 10, 2, 0, 0 }, 24, VPC_RT_DROP);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_SET, &out, sizeof(out), NULL, 0), 0);
	EXPECT_EQ(lookup(VPC_AF_INET, ip_x, &out), 0);
	EXPECT_EQ(out.target, VPC_RT_NEXTHOP);
	/* Delete: exact match only. */
	g0 = gen(t.rtr);
	memcpy(r.nexthop, (uint8_t[]){ 10, 2, 0, 11 }, 4);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_DEL, &r, sizeof(r), NULL, 0), VPC_ENOENT);
	r.cls = VPC_RT_CONNECTED;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_DEL, &r, sizeof(r), NULL, 0), VPC_ENOENT);
	r.cls = 0;
	r.prefixlen = 40;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_DEL, &r, sizeof(r), NULL, 0), VPC_EINVAL);
	EXPECT_EQ(gen(t.rtr), g0);
	r.prefixlen = 24;
	memcpy(r.nexthop, ip_b, 4);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_DEL, &r, sizeof(r), NULL, 0), 0);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_DEL, &r, sizeof(r), NULL, 0), VPC_ENOENT);
	EXPECT_EQ(lookup(VPC_AF_INET, ip_x, &out), 0);
	EXPECT_EQ(out.target, VPC_RT_DROP);             /* the custom drop is left */
	route(&out, VPC_AF_INET, (uint8_t[]){ 10, 2, 0, 0 }, 24, VPC_RT_DROP);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_DEL, &out, sizeof(out), NULL, 0), 0);
	EXPECT_EQ(lookup(VPC_AF_INET, ip_x, &out), 0);
	EXPECT_EQ(out.cls, VPC_RT_CONNECTED);
	/* GET: that exact prefix. */
	route(&r, VPC_AF_INET, p10, 8, 0);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_GET, &r, sizeof(r), &out, sizeof(out)), 0);
	EXPECT_EQ(out.target, VPC_RT_DROP);
	r.prefixlen = 9;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_GET, &r, sizeof(r), &out, sizeof(out)), VPC_ENOENT);
	/* IPv6: a default route. */
	route(&r, VPC_AF_INET6, (uint8_t[16]){ 0 }, 0, VPC_RT_DROP);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0), 0);
	EXPECT_EQ(lookup(VPC_AF_INET6, (uint8_t[16]){ 0x20, 1, 5 }, &out), 0);
	EXPECT_EQ(out.prefixlen, 0);
	EXPECT_EQ(lookup(VPC_AF_INET6, ip6_b, &out), 0);
	EXPECT_EQ(out.prefixlen, 64);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_DEL, &r, sizeof(r), NULL, 0), 0);
	return (0);
}

static int
t_replace_dump(void)
{
	vpc_rt_route_t rs[3], none, one, out;
	vpc_list_req_t lr;
	uint64_t g0, seen = 0;
	size_t vl;
	int n0 = nroutes(), got = 0;

	/* Now: connected (4) + 10/8 drop. */
	EXPECT_EQ(n0, 5);
	route(&rs[0], VPC_AF_INET, (uint8_t[]){ 10, 9, 0, 0 }, 16, VPC_RT_NEXTHOP);
	memcpy(rs[0].nexthop, ip_b, 4);
	route(&rs[1], VPC_AF_INET, (uint8_t[]){ 172, 16, 0, 0 }, 12, VPC_RT_DROP);
	route(&rs[2], VPC_AF_INET, (uint8_t[]){ 10, 9, 0, 0 }, 16, VPC_RT_NEXTHOP);
	memcpy(rs[2].nexthop, ip_b, 4);
	/* A duplicate inside: nothing changes. */
	g0 = gen(t.rtr);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, rs, sizeof(rs), NULL, 0), VPC_EEXIST);
	EXPECT_EQ(gen(t.rtr), g0);
	EXPECT_EQ(nroutes(), 5);
	/* A stale token: ESTALE, nothing changes. */
	rs[0].txn = 12345;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, rs, 2 * sizeof(rs[0]), NULL, 0),
	    VPC_ESTALE);
	rs[0].txn = 0;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, rs, 2 * sizeof(rs[0]), NULL, 0), 0);
	EXPECT_EQ(nroutes(), 6);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 10, 7, 0, 1 }, &out), VPC_ENOENT);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 10, 9, 3, 1 }, &out), 0);
	EXPECT_EQ(out.target, VPC_RT_NEXTHOP);
	/* Dump one at a time with the marker: every route, in serial order. */
	memset(&lr, 0, sizeof(lr));
	for (;;) {
		vl = sizeof(one);
		EXPECT_EQ(vpc_core_ctl(t.sys, &call, t.rtr, VPC_OP_RTR_ROUTE_DUMP, &lr,
		    sizeof(lr), &one, &vl), 0);
		if (vl == 0)
			break;
		EXPECT(one.serial > seen);
		seen = lr.marker = one.serial;
		got++;
	}
	EXPECT_EQ(got, 6);
	vl = 0;
	lr.marker = 0;
	EXPECT_EQ(vpc_core_ctl(t.sys, &call, t.rtr, VPC_OP_RTR_ROUTE_DUMP, &lr,
	    sizeof(lr), NULL, &vl), VPC_ERANGE);
	EXPECT_EQ(vl, 6 * sizeof(one));
	/* NONE clears the custom routes; with anything else set: EINVAL. */
	memset(&none, 0, sizeof(none));
	none.af = 4;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, &none, sizeof(none), NULL, 0), VPC_EINVAL);
	none.af = 0;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, &none, sizeof(none), NULL, 0), 0);
	EXPECT_EQ(nroutes(), 4);
	return (0);
}

/* ---- The staged replace ------------------------------------------------------------ */

/* A /32 drop route to 100.64.0.0 + i: as many distinct routes as wanted. */
static void
drop32(vpc_rt_route_t *r, uint32_t i)
{
	uint8_t a[4] = { 100, (uint8_t)(64 + (i >> 16)), (uint8_t)(i >> 8), (uint8_t)i };

	route(r, VPC_AF_INET, a, 32, VPC_RT_DROP);
}

static int
stage_begin(struct vpc_hdl *h, uint64_t *token)
{
	vpc_rt_stage_t k, v;
	int error;

	memset(&k, 0, sizeof(k));
	error = ctl(h, VPC_OP_RTR_STAGE_BEGIN, &k, sizeof(k), &v, sizeof(v));
	if (error == 0)
		*token = v.token;
	return (error);
}

/* Append rs[0..n) to the stage token, which the first entry names. */
static int
stage_append(struct vpc_hdl *h, uint64_t token, vpc_rt_route_t *rs, size_t n,
    uint32_t *staged)
{
	vpc_rt_stage_t v;
	int error;

	rs[0].serial = token;
	memset(&v, 0, sizeof(v));
	error = ctl(h, VPC_OP_RTR_STAGE_APPEND, rs, n * sizeof(*rs), &v, sizeof(v));
	rs[0].serial = 0;
	if (error == 0 && staged != NULL)
		*staged = v.nroutes;
	return (error);
}

static int
stage_end(struct vpc_hdl *h, vpc_op_t op, uint64_t token, vpc_txn_t txn)
{
	vpc_rt_stage_t k;

	memset(&k, 0, sizeof(k));
	k.token = token;
	k.txn = txn;
	return (ctl(h, op, &k, sizeof(k), NULL, 0));
}

/* Batches of drop32 routes first..first+n into the stage. */
static int
stage_fill(uint64_t token, uint32_t first, uint32_t n, uint32_t *staged)
{
	vpc_rt_route_t *rs = calloc(900, sizeof(*rs));
	uint32_t done, k, i;
	int error = 0;

	if (rs == NULL)
		return (VPC_ENOMEM);
	for (done = 0; done < n && error == 0; done += k) {
		k = n - done < 900 ? n - done : 900;
		for (i = 0; i < k; i++)
			drop32(&rs[i], first + done + i);
		error = stage_append(t.rtr, token, rs, k, staged);
	}
	free(rs);
	return (error);
}

/*
 * The staged replace: a table of any size up to the cap, loaded in
 * batches, swapped in whole.  Every refusal: its errno, the stage as it
 * was (the next good append counts on from there) and the live table
 * untouched (generation, custom routes); a commit after a bad append takes
 * the good batches only.  One stage per router, the owner's alone; it goes
 * with ABORT, COMMIT and its handle.
 */
static int
t_stage(void)
{
	struct vpc_router *rtr = obj2rtr(t.rtr->obj);
	vpc_rt_route_t bad[3], out;
	struct vpc_hdl *other = NULL;
	uint64_t token, tok2, g0;
	uint32_t staged = 0, live0 = rtr->ncustom;
	vpc_rtr_attach_t a;
	vpc_rt_stage_t k, v;
	unsigned i;
	struct { int error; } cases[6];
	static vpc_rt_route_t big[300];
	uint64_t mem0;

	EXPECT_EQ(live0, 0);
	EXPECT_EQ(vpc_core_open(t.sys, &call, &t.rtr->obj->id,
	    VPC_TYPE_WORD(VPC_TYPE_ROUTER), VPC_FLAG_OPEN, &other), 0);
	g0 = gen(t.rtr);
	/* BEGIN: a token; a second stage, from either handle: EBUSY. */
	memset(&k, 0, sizeof(k));
	k.token = 5;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_STAGE_BEGIN, &k, sizeof(k), &v, sizeof(v)), VPC_EINVAL);
	EXPECT_EQ(stage_begin(t.rtr, &token), 0);
	EXPECT(token != 0);
	EXPECT_EQ(stage_begin(t.rtr, &tok2), VPC_EBUSY);
	EXPECT_EQ(stage_begin(other, &tok2), VPC_EBUSY);
	/* Two good batches: 1800 staged, nothing live. */
	EXPECT_EQ(stage_fill(token, 0, 1800, &staged), 0);
	EXPECT_EQ(staged, 1800);
	EXPECT_EQ(rtr->ncustom, live0);
	EXPECT_EQ(gen(t.rtr), g0);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 100, 64, 0, 5 }, &out), VPC_ENOENT);
	/* Another handle, or another token: not this stage. */
	drop32(&bad[0], 5000);
	EXPECT_EQ(stage_append(other, token, bad, 1, NULL), VPC_ENOENT);
	EXPECT_EQ(stage_append(t.rtr, token + 1, bad, 1, NULL), VPC_ENOENT);
	EXPECT_EQ(stage_end(other, VPC_OP_RTR_STAGE_COMMIT, token, 0), VPC_ENOENT);
	EXPECT_EQ(stage_end(other, VPC_OP_RTR_STAGE_ABORT, token, 0), VPC_ENOENT);
	/* Bad batches, the bad entry last after good ones: nothing staged, not
	 * even the room the stage grew for one (1800 + 300 > its 2048). */
	mem0 = vpc_mem_bytes();
	memset(cases, 0, sizeof(cases));
	for (i = 0; i < nitems(cases); i++) {
		drop32(&bad[0], 6000 + 3 * i);
		drop32(&bad[1], 6001 + 3 * i);
		drop32(&bad[2], 6002 + 3 * i);
		switch (i) {
		case 0:                 /* host bits */
			bad[2].prefixlen = 16;
			cases[i].error = VPC_EINVAL;
			break;
		case 1:                 /* staged already */
			drop32(&bad[2], 17);
			cases[i].error = VPC_EEXIST;
			break;
		case 2:                 /* twice in the batch */
			drop32(&bad[2], 6001 + 3 * i);
			cases[i].error = VPC_EEXIST;
			break;
		case 3:                 /* a next hop in no attached subnet */
			route(&bad[2], VPC_AF_INET, (uint8_t[]){ 10, 77, 0, 0 }, 16,
			    VPC_RT_NEXTHOP);
			memcpy(bad[2].nexthop, (uint8_t[]){ 10, 3, 0, 5 }, 4);
			cases[i].error = VPC_EADDRNOTAVAIL;
			break;
		case 4:                 /* a token in a later entry: not this one's */
			bad[2].serial = token + 7;
			cases[i].error = VPC_EINVAL;
			break;
		case 5:                 /* a transaction token: COMMIT's, not here */
			bad[2].txn = 1;
			cases[i].error = VPC_EINVAL;
			break;
		}
		if (stage_append(t.rtr, token, bad, 3, NULL) != cases[i].error)
			FAIL("bad batch %u: not errno %d", i, cases[i].error);
	}
	for (i = 0; i < nitems(big); i++)
		drop32(&big[i], 8000 + i);
	big[nitems(big) - 1].prefixlen = 16;            /* host bits */
	EXPECT_EQ(stage_append(t.rtr, token, big, nitems(big), NULL), VPC_EINVAL);
	EXPECT_EQ(gen(t.rtr), g0);
	EXPECT_EQ(rtr->ncustom, live0);
	EXPECT_EQ(vpc_mem_bytes(), mem0);
	/* The good entries of the refused batches were not kept either. */
	drop32(&bad[0], 6000);
	EXPECT_EQ(stage_append(t.rtr, token, bad, 1, &staged), 0);
	EXPECT_EQ(staged, 1801);
	/* COMMIT refused: a stale txn, garbage; nothing changes. */
	EXPECT_EQ(stage_end(t.rtr, VPC_OP_RTR_STAGE_COMMIT, token, 12345), VPC_ESTALE);
	memset(&k, 0, sizeof(k));
	k.token = token;
	k.nroutes = 1;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_STAGE_COMMIT, &k, sizeof(k), NULL, 0), VPC_EINVAL);
	EXPECT_EQ(gen(t.rtr), g0);
	EXPECT_EQ(rtr->ncustom, live0);
	/* COMMIT after the bad appends: the good routes, all at once. */
	EXPECT_EQ(stage_end(t.rtr, VPC_OP_RTR_STAGE_COMMIT, token, 0), 0);
	EXPECT(gen(t.rtr) > g0);
	EXPECT_EQ(rtr->ncustom, 1801);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 100, 64, 7, 7 }, &out), 0);  /* 1799 */
	EXPECT_EQ(out.target, VPC_RT_DROP);
	EXPECT_EQ(out.cls, VPC_RT_CUSTOM);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 100, 64, 7, 8 }, &out), VPC_ENOENT);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 100, 64, 23, 112 }, &out), 0);  /* 6000 */
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 100, 64, 23, 113 }, &out), VPC_ENOENT);
	/* The stage is gone with it. */
	EXPECT_EQ(stage_append(t.rtr, token, bad, 1, NULL), VPC_ENOENT);
	EXPECT_EQ(stage_end(t.rtr, VPC_OP_RTR_STAGE_ABORT, token, 0), VPC_ENOENT);

	/* ABORT: the live table as it was; a new stage may begin. */
	g0 = gen(t.rtr);
	EXPECT_EQ(stage_begin(t.rtr, &token), 0);
	EXPECT_EQ(stage_fill(token, 50000, 10, NULL), 0);
	EXPECT_EQ(stage_end(t.rtr, VPC_OP_RTR_STAGE_ABORT, token, 1), VPC_EINVAL);
	EXPECT_EQ(stage_end(t.rtr, VPC_OP_RTR_STAGE_ABORT, token, 0), 0);
	EXPECT_EQ(gen(t.rtr), g0);
	EXPECT_EQ(rtr->ncustom, 1801);
	EXPECT(rtr->stage == NULL);

	/* A stage whose handle is closed is freed: the router may stage again. */
	EXPECT_EQ(stage_begin(other, &tok2), 0);
	drop32(&bad[0], 70000);
	EXPECT_EQ(stage_append(other, tok2, bad, 1, NULL), 0);
	vpc_core_close(t.sys, other);
	other = NULL;
	EXPECT(rtr->stage == NULL);
	EXPECT_EQ(gen(t.rtr), g0);

	/* Checked again at COMMIT: a next hop whose subnet went since. */
	EXPECT_EQ(stage_begin(t.rtr, &token), 0);
	route(&bad[0], VPC_AF_INET, (uint8_t[]){ 10, 77, 0, 0 }, 16, VPC_RT_NEXTHOP);
	memcpy(bad[0].nexthop, ip_b, 4);
	EXPECT_EQ(stage_append(t.rtr, token, bad, 1, NULL), 0);
	memset(&a, 0, sizeof(a));
	a.switch_id = t.sw2->obj->id;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_DETACH, &a, sizeof(a), NULL, 0), 0);
	g0 = gen(t.rtr);
	EXPECT_EQ(stage_end(t.rtr, VPC_OP_RTR_STAGE_COMMIT, token, 0), VPC_EADDRNOTAVAIL);
	EXPECT_EQ(gen(t.rtr), g0);
	EXPECT_EQ(rtr->ncustom, 1801);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ATTACH, &a, sizeof(a), NULL, 0), 0);
	EXPECT_EQ(stage_end(t.rtr, VPC_OP_RTR_STAGE_COMMIT, token, 0), 0);
	EXPECT_EQ(rtr->ncustom, 1);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 10, 77, 1, 1 }, &out), 0);
	EXPECT_EQ(out.target, VPC_RT_NEXTHOP);

	/* The cap: exactly VPC_RTR_MAX_ROUTES stage and commit; one more is
	 * ENOSPC, nothing of it kept. */
	EXPECT_EQ(stage_begin(t.rtr, &token), 0);
	EXPECT_EQ(stage_fill(token, 0, VPC_RTR_MAX_ROUTES, &staged), 0);
	EXPECT_EQ(staged, VPC_RTR_MAX_ROUTES);
	drop32(&bad[0], VPC_RTR_MAX_ROUTES);
	EXPECT_EQ(stage_append(t.rtr, token, bad, 1, NULL), VPC_ENOSPC);
	EXPECT_EQ(rtr->ncustom, 1);
	EXPECT_EQ(stage_end(t.rtr, VPC_OP_RTR_STAGE_COMMIT, token, 0), 0);
	EXPECT_EQ(rtr->ncustom, VPC_RTR_MAX_ROUTES);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 100, 65, 255, 255 }, &out), 0);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 100, 66, 0, 0 }, &out), VPC_ENOENT);
	/* An empty stage committed: no custom routes. */
	EXPECT_EQ(stage_begin(t.rtr, &token), 0);
	EXPECT_EQ(stage_end(t.rtr, VPC_OP_RTR_STAGE_COMMIT, token, 0), 0);
	EXPECT_EQ(rtr->ncustom, 0);
	EXPECT_EQ(nroutes(), 4);
	return (0);
}

static const struct test_sent *
sent_to(const void *to)
{
	unsigned i;

	for (i = 0; i < test_nsent; i++)
		if (test_sent[i].to == to)
			return (&test_sent[i]);
	return (NULL);
}

static int
t_forward(void)
{
	const struct test_sent *s;
	const uint8_t *ip;
	uint64_t r0 = rstat(VPC_RTRSTAT_ROUTED);

	/* A to B across the router: rewritten MACs, TTL - 1, checksum right. */
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, ip_b, 64));
	EXPECT_EQ(test_nsent, 1);
	EXPECT((s = sent_to(t.nic_b->obj)) != NULL);
	EXPECT(memcmp(s->data, mac_b, 6) == 0);
	EXPECT(memcmp(s->data + 6, t.gw2.mac, 6) == 0);
	ip = s->data + 14;
	EXPECT_EQ(ip[8], 63);
	EXPECT_EQ(vpc_cksum_finish(vpc_cksum_add(0, ip, 20)), 0);
	EXPECT(memcmp(ip + 28, "data", 4) == 0);
	EXPECT_EQ(rstat(VPC_RTRSTAT_ROUTED), r0 + 1);
	/* IPv6: hop limit - 1. */
	test_sent_reset();
	in_nic(t.nic_a, udp6(mac_a, t.gw1.mac, ip6_a, ip6_b, 2));
	EXPECT((s = sent_to(t.nic_b->obj)) != NULL);
	EXPECT_EQ(s->data[14 + 7], 1);
	EXPECT(memcmp(s->data + 6, t.gw2.mac, 6) == 0);
	/* Not to the gateway MAC: dropped, counted. */
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, mac_x, ip_a, ip_b, 64));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(rstat(VPC_RTRSTAT_DROP_NOT_GW), 1);
	return (0);
}

/* The one ICMP error sent to A: type, code, from the gateway, quoting. */
static int
check_icmp4(uint8_t type, uint8_t code)
{
	const struct test_sent *s = sent_to(t.nic_a->obj);
	const uint8_t *ip;

	EXPECT_EQ(test_nsent, 1);
	EXPECT(s != NULL);
	EXPECT(memcmp(s->data, mac_a, 6) == 0);
	EXPECT(memcmp(s->data + 6, t.gw1.mac, 6) == 0);
	ip = s->data + 14;
	EXPECT_EQ(ip[9], VPC_IPPROTO_ICMP);
	EXPECT(memcmp(ip + 12, t.gw1.addr4, 4) == 0);
	EXPECT(memcmp(ip + 16, ip_a, 4) == 0);
	EXPECT_EQ(ip[20], type);
	EXPECT_EQ(ip[21], code);
	EXPECT_EQ(vpc_cksum_finish(vpc_cksum_add(0, ip, 20)), 0);
	EXPECT_EQ(vpc_cksum_finish(vpc_cksum_add(0, ip + 20, vpc_get16(ip + 2) - 20)), 0);
	EXPECT(memcmp(ip + 28 + 12, ip_a, 4) == 0);      /* the quoted header */
	return (0);
}

static int
t_icmp(void)
{
	vpc_rt_route_t r;
	const struct test_sent *s;

	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, ip_b, 1));
	if (check_icmp4(VPC_ICMP_TIMXCEED, 0) != 0)
		return (-1);
	EXPECT_EQ(rstat(VPC_RTRSTAT_TTL_EXCEEDED), 1);
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, (uint8_t[]){ 192, 168, 7, 7 }, 64));
	if (check_icmp4(VPC_ICMP_UNREACH, 0) != 0)
		return (-1);
	EXPECT_EQ(rstat(VPC_RTRSTAT_NO_ROUTE), 1);
	route(&r, VPC_AF_INET, (uint8_t[]){ 192, 168, 0, 0 }, 16, VPC_RT_DROP);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0), 0);
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, (uint8_t[]){ 192, 168, 7, 7 }, 64));
	if (check_icmp4(VPC_ICMP_UNREACH, 0) != 0)
		return (-1);
	EXPECT_EQ(rstat(VPC_RTRSTAT_BLACKHOLE), 1);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_DEL, &r, sizeof(r), NULL, 0), 0);
	/* IPv6, hop limit 1: time exceeded from the gateway. */
	test_sent_reset();
	in_nic(t.nic_a, udp6(mac_a, t.gw1.mac, ip6_a, ip6_b, 1));
	EXPECT_EQ(test_nsent, 1);
	EXPECT((s = sent_to(t.nic_a->obj)) != NULL);
	EXPECT_EQ(s->data[14 + 6], VPC_IPPROTO_ICMPV6);
	EXPECT(memcmp(s->data + 14 + 8, t.gw1.addr6, 16) == 0);
	EXPECT_EQ(s->data[14 + 40], VPC_ICMP6_TIME_EXCEEDED);
	/* Echo to the other subnet's gateway: answered from it. */
	return (0);
}

static int
t_admission(void)
{
	struct { struct vpc_pkt *p; unsigned ctr; } cases[] = {
		{ udp4(mac_a, t.gw1.mac, ip_a, (uint8_t[]){ 224, 1, 1, 1 }, 64),
		    VPC_RTRSTAT_DROP_BCAST },
		{ udp4(mac_a, t.gw1.mac, ip_a, (uint8_t[]){ 255, 255, 255, 255 }, 64),
		    VPC_RTRSTAT_DROP_BCAST },
		{ udp4(mac_a, t.gw1.mac, ip_a, (uint8_t[]){ 127, 0, 0, 1 }, 64),
		    VPC_RTRSTAT_DROP_MARTIAN },
		{ udp4(mac_a, t.gw1.mac, ip_a, (uint8_t[]){ 169, 254, 1, 1 }, 64),
		    VPC_RTRSTAT_DROP_MARTIAN },
		{ udp6(mac_a, t.gw1.mac, ip6_a, (uint8_t[16]){ 0xff, 0x0e, [15] = 1 }, 64),
		    VPC_RTRSTAT_DROP_BCAST },
	};
	unsigned i;

	for (i = 0; i < nitems(cases); i++) {
		uint64_t before = rstat(cases[i].ctr);

		test_sent_reset();
		in_nic(t.nic_a, cases[i].p);
		if (test_nsent != 0)
			FAIL("case %u sent something", i);
		if (rstat(cases[i].ctr) != before + 1)
			FAIL("case %u: counter %u", i, cases[i].ctr);
	}
	return (0);
}

static int
t_miss(void)
{
	vpc_upcall_req_t rq;
	vpc_upcall_ans_t a;
	const struct test_sent *s;
	int32_t res;

	EXPECT_EQ(vpc_upcall_attach(t.sys), 0);
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, ip_x, 9));
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, ip_x, 9));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(rstat(VPC_RTRSTAT_NBR_MISS), 2);
	EXPECT_EQ(vpc_upcall_read(t.sys, &rq, sizeof(rq)), sizeof(rq));
	EXPECT_EQ(rq.kind, VPC_UPCALL_L3MISS);
	EXPECT_EQ(rq.vni, 502);                          /* the destination's */
	EXPECT(memcmp(rq.dst_ip, ip_x, 4) == 0);
	EXPECT(memcmp(&rq.switch_id, &t.sw2->obj->id, 16) == 0);
	memset(&a, 0, sizeof(a));
	a.req_id = rq.req_id;
	a.generation = rq.generation;
	a.status = VPC_UPCALL_FOUND;
	a.af = VPC_AF_INET;
	memcpy(a.addr, (uint8_t[]){ 192, 0, 2, 9 }, 4);
	a.ttl_ms = 600000;
	a.revision = 1;
	memcpy(a.mac, mac_x, 6);
	EXPECT_EQ(ctl(NULL, VPC_OP_SYS_UPCALL_ANSWER, &a, sizeof(a), &res, sizeof(res)), 0);
	EXPECT_EQ(res, 0);
	/* Both held frames, parsed again, out over VXLAN with VNI 502. */
	EXPECT_EQ(test_nsent, 2);
	s = &test_sent[0];
	EXPECT_EQ(s->kind, TEST_TO_VCC);
	EXPECT_EQ(s->data[4], 0);
	EXPECT_EQ((s->data[4] << 16) | (s->data[5] << 8) | s->data[6], 502);
	EXPECT(memcmp(s->data + 8, mac_x, 6) == 0);
	EXPECT(memcmp(s->data + 8 + 6, t.gw2.mac, 6) == 0);
	EXPECT_EQ(s->data[8 + 14 + 8], 8);               /* TTL 9 - 1, once */
	EXPECT_EQ(vpc_cksum_finish(vpc_cksum_add(0, s->data + 8 + 14, 20)), 0);
	EXPECT_EQ(rstat(VPC_RTRSTAT_REINJECTED), 2);
	/* The next one needs no upcall. */
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, ip_x, 9));
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(test_sent[0].kind, TEST_TO_VCC);
	vpc_upcall_detach(t.sys);
	return (0);
}

/* Route one frame A -> dst (TTL 9) and return what was sent, or NULL. */
static const struct test_sent *
route_one(const uint8_t dst[4])
{
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, dst, 9));
	return (test_nsent == 1 ? &test_sent[0] : NULL);
}

static int
set_nbr4(struct vpc_hdl *sw, const uint8_t ip[4], uint8_t kind, const uint8_t mac[6])
{
	static uint64_t revision = 100;         /* newer than t_miss's answer */
	vpc_sw_nbr_t n;
	vpc_cam_set_result_t r;
	int error;

	memset(&n, 0, sizeof(n));
	n.af = VPC_AF_INET;
	n.kind = kind;
	if (mac != NULL)
		memcpy(n.mac, mac, 6);
	memcpy(n.addr, ip, 4);
	n.revision = ++revision;
	memset(&r, 0, sizeof(r));
	error = ctl(sw, VPC_OP_SW_NBR_SET, &n, sizeof(n), &r, sizeof(r));
	return (error != 0 ? error : r.applied == 1 ? 0 : -1);
}

/*
 * The router remembers the last route and neighbour per sending vmnic
 * (the memo of vpc_router_fwd.c): every change of the entry takes effect on the
 * very next frame, never a remembered MAC.  After t_miss: ip_x is FOUND
 * (mac_x) in sw2's table, no upcall reader attached.
 */
static int
t_nbr_change(void)
{
	static const uint8_t mac_y[6] = { 2, 0, 0, 0, 4, 0x43 };
	static const uint8_t ip_b2[4] = { 10, 2, 0, 11 };
	const struct test_sent *s;
	vpc_nbr_key_t k;
	vpc_sw_cam_t c;
	vpc_cam_set_result_t r;
	vpc_nic_addr_t ad;
	uint64_t miss, neg;

	/* mac_y is reachable (CAM) too, so only the neighbour decides. */
	memset(&c, 0, sizeof(c));
	memcpy(c.dstmac, mac_y, 6);
	c.kind = VPC_CAM_REMOTE;
	c.af = VPC_AF_INET;
	memcpy(c.addr, (uint8_t[]){ 192, 0, 2, 10 }, 4);
	EXPECT_EQ(ctl(t.sw2, VPC_OP_SW_CAM_SET, &c, sizeof(c), &r, sizeof(r)), 0);
	/* Twice to mac_x: the second from what the first remembered. */
	EXPECT((s = route_one(ip_x)) != NULL && s->kind == TEST_TO_VCC);
	EXPECT(memcmp(s->data + 8, mac_x, 6) == 0);
	EXPECT((s = route_one(ip_x)) != NULL && s->kind == TEST_TO_VCC);
	EXPECT(memcmp(s->data + 8, mac_x, 6) == 0);
	/* The entry now says mac_y: the next frame goes to mac_y. */
	EXPECT_EQ(set_nbr4(t.sw2, ip_x, VPC_NBR_FOUND, mac_y), 0);
	EXPECT((s = route_one(ip_x)) != NULL && s->kind == TEST_TO_VCC);
	EXPECT(memcmp(s->data + 8, mac_y, 6) == 0);
	/* Known absent: host unreachable, nothing routed. */
	neg = rstat(VPC_RTRSTAT_NBR_NEGATIVE);
	EXPECT_EQ(set_nbr4(t.sw2, ip_x, VPC_NBR_NEGATIVE, NULL), 0);
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, ip_x, 9));
	if (check_icmp4(VPC_ICMP_UNREACH, 1) != 0)
		return (-1);
	EXPECT_EQ(rstat(VPC_RTRSTAT_NBR_NEGATIVE), neg + 1);
	/* Found again, then deleted: the next frame is a miss. */
	EXPECT_EQ(set_nbr4(t.sw2, ip_x, VPC_NBR_FOUND, mac_x), 0);
	EXPECT((s = route_one(ip_x)) != NULL && memcmp(s->data + 8, mac_x, 6) == 0);
	memset(&k, 0, sizeof(k));
	k.af = VPC_AF_INET;
	memcpy(k.addr, ip_x, 4);
	EXPECT_EQ(ctl(t.sw2, VPC_OP_SW_NBR_DEL, &k, sizeof(k), NULL, 0), 0);
	miss = rstat(VPC_RTRSTAT_NBR_MISS);
	EXPECT(route_one(ip_x) == NULL);
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(rstat(VPC_RTRSTAT_NBR_MISS), miss + 1);
	/* A local vmnic's address moves: its old one misses at once. */
	EXPECT((s = route_one(ip_b)) != NULL && s->to == t.nic_b->obj);
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET | VPC_NIC_ADDR_INET6;
	memcpy(ad.addr4, ip_b2, 4);
	memcpy(ad.addr6, ip6_b, 16);
	EXPECT_EQ(ctl(t.nic_b, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0), 0);
	miss = rstat(VPC_RTRSTAT_NBR_MISS);
	EXPECT(route_one(ip_b) == NULL);
	EXPECT_EQ(rstat(VPC_RTRSTAT_NBR_MISS), miss + 1);
	EXPECT((s = route_one(ip_b2)) != NULL && s->to == t.nic_b->obj);
	memcpy(ad.addr4, ip_b, 4);
	EXPECT_EQ(ctl(t.nic_b, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0), 0);
	EXPECT((s = route_one(ip_b)) != NULL && s->to == t.nic_b->obj);
	return (0);
}

/* Likewise a route change, whatever the memo holds: on the next frame. */
static int
t_route_change(void)
{
	vpc_rt_route_t r;
	uint64_t bh;

	EXPECT(route_one(ip_b) != NULL && test_sent[0].to == t.nic_b->obj);
	EXPECT(route_one(ip_b) != NULL && test_sent[0].to == t.nic_b->obj);
	/* A longer drop route over B: unreachable at once. */
	bh = rstat(VPC_RTRSTAT_BLACKHOLE);
	route(&r, VPC_AF_INET, ip_b, 32, VPC_RT_DROP);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0), 0);
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, ip_b, 9));
	if (check_icmp4(VPC_ICMP_UNREACH, 0) != 0)
		return (-1);
	EXPECT_EQ(rstat(VPC_RTRSTAT_BLACKHOLE), bh + 1);
	/* Gone again: routed to B on the next frame. */
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_DEL, &r, sizeof(r), NULL, 0), 0);
	EXPECT(route_one(ip_b) != NULL && test_sent[0].to == t.nic_b->obj);
	/* A whole-table replace with the drop route in it, then without. */
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, &r, sizeof(r), NULL, 0), 0);
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, ip_b, 9));
	EXPECT_EQ(rstat(VPC_RTRSTAT_BLACKHOLE), bh + 2);
	EXPECT(sent_to(t.nic_b->obj) == NULL);
	memset(&r, 0, sizeof(r));
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, &r, sizeof(r), NULL, 0), 0);
	EXPECT(route_one(ip_b) != NULL && test_sent[0].to == t.nic_b->obj);
	return (0);
}

/* An address in sw2's IPv6 subnet no neighbour entry has: a routed miss. */
static void
unknown6(uint8_t a[16], unsigned i)
{
	memcpy(a, ip6_b, 16);
	a[13] = 0x77;
	vpc_put16(a + 14, (uint16_t)i);
}

/* Answer every pending request "not found", so that none is left behind. */
static int
drain_upcalls(void)
{
	vpc_upcall_req_t rq[16];
	vpc_upcall_ans_t a;
	size_t n, i;
	int32_t res;

	EXPECT_EQ(vpc_upcall_attach(t.sys), 0);
	while ((n = vpc_upcall_read(t.sys, rq, sizeof(rq)) / sizeof(rq[0])) > 0) {
		for (i = 0; i < n; i++) {
			memset(&a, 0, sizeof(a));
			a.req_id = rq[i].req_id;
			a.generation = rq[i].generation;
			a.status = VPC_UPCALL_NOT_FOUND;
			EXPECT_EQ(ctl(NULL, VPC_OP_SYS_UPCALL_ANSWER, &a, sizeof(a), &res,
			    sizeof(res)), 0);
			EXPECT_EQ(res, 0);
		}
	}
	vpc_upcall_detach(t.sys);
	return (0);
}

/*
 * Routed misses are charged to the sending vmnic's upcall rate, at its own
 * switch's policy (sw1: 1 a second, burst 3), as its switched misses are;
 * the egress switch (sw2) keeps the default rate, which would let them all
 * through.  Each frame goes to a new address of sw2, so each would be a new
 * request.  A's bucket starts with exactly the burst; whatever the machine's
 * speed, each frame is either asked or refused, no more are asked than the
 * burst plus what the elapsed time added, and the refused ones are counted
 * (sw2's upcallRatelimited and lost, the router's UPCALL_RATELIMITED).
 * Another VM of the same switch (C) still raises its own; a frame of A's for
 * an address already asked is held, at no cost.
 */
static int
t_routed_ratelimit(void)
{
	static const uint8_t mac_c[6] = { 2, 0, 0, 0, 4, 0xc };
	static const uint8_t ip_c[4] = { 10, 1, 0, 12 };
	static const uint8_t ip6_c[16] = { 0x20, 1, 0xd, 0xb8, 0, 1, [15] = 0xc };
	const unsigned n = 50, rate = 1, burst = 3;
	uint64_t up0, rl0, lost0, rrl0, miss0, up1, rl1, dups0, sw1rl0, t0, secs;
	struct vpc_hdl *nic_c;
	vpc_sw_policy_t pol, saved;
	uint8_t dst[16];
	unsigned i;

	EXPECT_EQ(ctl(t.sw1, VPC_OP_SW_GET_POLICY, NULL, 0, &saved, sizeof(saved)), 0);
	pol = saved;
	pol.upcall_rate = rate;
	pol.upcall_burst = burst;
	EXPECT_EQ(ctl(t.sw1, VPC_OP_SW_SET_POLICY, &pol, sizeof(pol), NULL, 0), 0);
	if (mk_vm(t.sw1, mac_c, ip_c, ip6_c, &nic_c) != 0)
		return (-1);
	up0 = sw_counter(t.sw2, VPC_SWSTAT_L3_UPCALLS);
	rl0 = sw_counter(t.sw2, VPC_SWSTAT_UPCALL_RATELIMITED);
	lost0 = sw_counter(t.sw2, VPC_SWSTAT_LOST);
	sw1rl0 = sw_counter(t.sw1, VPC_SWSTAT_UPCALL_RATELIMITED);
	rrl0 = rstat(VPC_RTRSTAT_UPCALL_RATELIMITED);
	miss0 = rstat(VPC_RTRSTAT_NBR_MISS);
	/* A's bucket: exactly the burst, now (it may hold more from before). */
	t0 = os_now_ns();
	vpc_ratelim_init(&obj2nic(t.nic_a->obj)->upcall_rl, rate, burst, t0);
	test_sent_reset();
	for (i = 0; i < n; i++) {
		unknown6(dst, i);
		in_nic(t.nic_a, udp6(mac_a, t.gw1.mac, ip6_a, dst, 64));
	}
	secs = (os_now_ns() - t0) / 1000000000u + 1;
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(rstat(VPC_RTRSTAT_NBR_MISS), miss0 + n);
	up1 = sw_counter(t.sw2, VPC_SWSTAT_L3_UPCALLS) - up0;
	rl1 = sw_counter(t.sw2, VPC_SWSTAT_UPCALL_RATELIMITED) - rl0;
	EXPECT_EQ(up1 + rl1, n);
	EXPECT(up1 >= 1);
	EXPECT(up1 <= burst + secs * rate);
	EXPECT(rl1 >= n - burst - secs * rate);
	EXPECT_EQ(sw_counter(t.sw2, VPC_SWSTAT_LOST) - lost0, rl1);
	EXPECT_EQ(rstat(VPC_RTRSTAT_UPCALL_RATELIMITED) - rrl0, rl1);
	EXPECT_EQ(sw_counter(t.sw1, VPC_SWSTAT_UPCALL_RATELIMITED), sw1rl0);
	/* The first address was asked: another frame for it is held, free. */
	dups0 = sw_counter(t.sw2, VPC_SWSTAT_DUPS);
	unknown6(dst, 0);
	in_nic(t.nic_a, udp6(mac_a, t.gw1.mac, ip6_a, dst, 64));
	EXPECT_EQ(sw_counter(t.sw2, VPC_SWSTAT_DUPS), dups0 + 1);
	EXPECT_EQ(rstat(VPC_RTRSTAT_UPCALL_RATELIMITED) - rrl0, rl1);
	/* C, behind the same switch, has its own bucket: both asked. */
	up0 = sw_counter(t.sw2, VPC_SWSTAT_L3_UPCALLS);
	for (i = 0; i < 2; i++) {
		unknown6(dst, 1000 + i);
		in_nic(nic_c, udp6(mac_c, t.gw1.mac, ip6_c, dst, 64));
	}
	EXPECT_EQ(sw_counter(t.sw2, VPC_SWSTAT_L3_UPCALLS), up0 + 2);
	EXPECT_EQ(rstat(VPC_RTRSTAT_UPCALL_RATELIMITED) - rrl0, rl1);
	if (drain_upcalls() != 0)
		return (-1);
	saved.txn = 0;
	EXPECT_EQ(ctl(t.sw1, VPC_OP_SW_SET_POLICY, &saved, sizeof(saved), NULL, 0), 0);
	return (0);
}

/*
 * The lookup trie against a linear scan of the same table: random routes
 * of every length, nested in a few crowded prefixes so that most lookups
 * cross several of them, on top of the connected routes (ties included:
 * a custom copy of a connected prefix).  The routes there before come back.
 */
static uint64_t lpm_rng = 0x2545f4914f6cdd1dULL;

static uint64_t
lpm_rnd(void)
{
	lpm_rng ^= lpm_rng << 13;
	lpm_rng ^= lpm_rng >> 7;
	lpm_rng ^= lpm_rng << 17;
	return (lpm_rng);
}

static bool
lpm_match(const uint8_t *prefix, unsigned plen, const uint8_t *a)
{
	unsigned i;

	for (i = 0; i < plen; i++)
		if (((prefix[i / 8] ^ a[i / 8]) & (0x80 >> (i % 8))) != 0)
			return (false);
	return (true);
}

static const struct vpc_rt *
lpm_linear(const struct vpc_rtable *tb, uint8_t af, const uint8_t *a)
{
	const struct vpc_rt *best = NULL;
	uint32_t i;

	for (i = 0; i < tb->n; i++) {
		const struct vpc_rt *r = &tb->r[i];

		if (r->af != af || !lpm_match(r->prefix, r->plen, a))
			continue;
		if (best == NULL || r->plen > best->plen || (r->plen == best->plen &&
		    (r->cls != best->cls ? r->cls == VPC_RT_CUSTOM : r->serial < best->serial)))
			best = r;
	}
	return (best);
}

/* A random address of family af: inside the crowded prefixes, or anywhere. */
static void
lpm_addr(uint8_t af, uint8_t a[16], bool crowded)
{
	uint64_t x = lpm_rnd(), y = lpm_rnd();

	memcpy(a, &x, 8);
	memcpy(a + 8, &y, 8);
	if (af == VPC_AF_INET)
		memset(a + 4, 0, 12);
	if (!crowded)
		return;
	if (af == VPC_AF_INET) {
		a[0] = (uint8_t)(10 + x % 2);
		a[1] = (uint8_t)(y % 3);
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[4] = 0;
		a[5] = (uint8_t)(y % 3);
	}
}

static int
t_lpm_random(void)
{
	struct vpc_router *rtr = obj2rtr(t.rtr->obj);
	uint32_t nsaved = rtr->ncustom, n = 0, i, tries;
	vpc_rt_route_t *saved, *rs;
	const struct vpc_rtable *tb;
	struct os_epoch et;
	int bad = 0;

	saved = calloc(nsaved + 1, sizeof(*saved));
	rs = calloc(900, sizeof(*rs));
	if (saved == NULL || rs == NULL)
		return (-1);
	if (nsaved > 0)                 /* custom is NULL when there are none */
		memcpy(saved, rtr->custom, nsaved * sizeof(*saved));
	for (i = 0; i < nsaved; i++) {
		saved[i].serial = 0;
		saved[i].cls = 0;
	}
	/* A custom copy of sw1's connected route: custom wins the tie. */
	route(&rs[n++], VPC_AF_INET, (uint8_t[]){ 10, 1, 0, 0 }, 24, VPC_RT_DROP);
	route(&rs[n++], VPC_AF_INET, (uint8_t[]){ 0, 0, 0, 0 }, 0, VPC_RT_DROP);
	for (tries = 0; n < 900 && tries < 100000; tries++) {
		uint8_t af = tries % 2 == 0 ? VPC_AF_INET : VPC_AF_INET6;
		unsigned bits = af == VPC_AF_INET ? 32 : 128, plen, j;
		vpc_rt_route_t r;

		/* Mostly long prefixes in the crowd, some short ones anywhere. */
		plen = lpm_rnd() % 8 == 0 ? 1 + lpm_rnd() % 16 : 1 + lpm_rnd() % bits;
		route(&r, af, (uint8_t[16]){ 0 }, (uint8_t)plen, VPC_RT_DROP);
		lpm_addr(af, r.prefix, plen > 16);
		for (j = plen; j < 128; j++)
			r.prefix[j / 8] &= (uint8_t)~(0x80 >> (j % 8));
		if (r.prefix[0] == 0 || (af == VPC_AF_INET ? r.prefix[0] >= 224 : r.prefix[0] == 0xff))
			continue;       /* unspecified, multicast: not a route */
		for (j = 0; j < n; j++)
			if (rs[j].af == af && rs[j].prefixlen == plen &&
			    memcmp(rs[j].prefix, r.prefix, 16) == 0)
				break;
		if (j == n)
			rs[n++] = r;
	}
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, rs, n * sizeof(*rs), NULL, 0), 0);
	os_epoch_enter(&et);
	tb = vpc_load(rtr->table);
	for (i = 0; i < 200000 && bad < 5; i++) {
		uint8_t af = i % 2 == 0 ? VPC_AF_INET : VPC_AF_INET6, a[16];
		const struct vpc_rt *want, *got;

		lpm_addr(af, a, i % 5 != 0);
		want = lpm_linear(tb, af, a);
		got = vpc_rtable_lookup(tb, af, a);
		if (want != got) {
			printf("# lpm: af %u address %02x%02x%02x%02x%02x%02x: want /%d, got /%d\n",
			    af, a[0], a[1], a[2], a[3], a[4], a[5],
			    want != NULL ? want->plen : -1, got != NULL ? got->plen : -1);
			bad++;
		}
	}
	os_epoch_exit(&et);
	EXPECT_EQ(bad, 0);
	/* None before: the one empty entry that means "no routes". */
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_REPLACE, saved,
	    (nsaved > 0 ? nsaved : 1) * sizeof(*saved), NULL, 0), 0);
	free(saved);
	free(rs);
	return (0);
}

static int
t_detach_destroy(void)
{
	vpc_rtr_attach_t a;
	vpc_rt_route_t r, out;
	vpc_txn_t txn = 0;
	size_t vl = sizeof(txn);

	/* A route through sw2, then sw2 detached: it stays, unusable. */
	route(&r, VPC_AF_INET, (uint8_t[]){ 10, 9, 0, 0 }, 16, VPC_RT_SUBNET);
	r.switch_id = t.sw2->obj->id;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0), 0);
	memset(&a, 0, sizeof(a));
	a.switch_id = t.sw2->obj->id;
	a.flags = 1;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_DETACH, &a, sizeof(a), NULL, 0), VPC_EINVAL);
	a.flags = 0;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_DETACH, &a, sizeof(a), NULL, 0), 0);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_DETACH, &a, sizeof(a), NULL, 0), VPC_ENOENT);
	EXPECT(obj2sw(t.sw2->obj)->router->peer == NULL);
	EXPECT_EQ(nroutes(), 3);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 10, 9, 1, 1 }, &out), 0);
	EXPECT_EQ(out.flags, VPC_RT_F_UNUSABLE);
	EXPECT_EQ(lookup(VPC_AF_INET, ip_b, &out), VPC_ENOENT);
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, ip_b, 64));
	if (check_icmp4(VPC_ICMP_UNREACH, 0) != 0)
		return (-1);
	/* Attached again: it works again. */
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ATTACH, &a, sizeof(a), NULL, 0), 0);
	EXPECT_EQ(lookup(VPC_AF_INET, (uint8_t[]){ 10, 9, 1, 1 }, &out), 0);
	EXPECT_EQ(out.flags, 0);
	/* The router port deleted: detached. */
	EXPECT_EQ(ctl(t.sw1, VPC_OP_GET_TXN, NULL, 0, &txn, vl), 0);
	{
		vpc_swport_ref_t ref;

		memset(&ref, 0, sizeof(ref));
		ref.port_id = obj2sw(t.sw1->obj)->router->obj.id;
		EXPECT_EQ(ctl(t.sw1, VPC_OP_SW_DEL_PORT, &ref, sizeof(ref), NULL, 0), 0);
	}
	EXPECT_EQ(obj2rtr(t.rtr->obj)->natt, 1);
	/* Destroyed (a token of another object: ESTALE): detached from the rest. */
	EXPECT_EQ(ctl(t.rtr, VPC_OP_DESTROY, &txn, sizeof(txn), NULL, 0), VPC_ESTALE);
	txn = 0;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_DESTROY, &txn, sizeof(txn), NULL, 0), 0);
	EXPECT(obj2sw(t.sw2->obj)->router->peer == NULL);
	test_sent_reset();
	in_nic(t.nic_b, udp4(mac_b, t.gw2.mac, ip_b, ip_a, 64));
	EXPECT_EQ(test_nsent, 0);
	return (0);
}

int
test_router(struct vpc_sys *sys, int *failed)
{
	static const struct test_case cases[] = {
		{ "setup", setup },
		{ "attach: bad input, two switches, gateways", t_attach },
		{ "routes: bad input, longest prefix, ties, delete", t_routes },
		{ "replace, dump with a marker", t_replace_dump },
		{ "staged replace: batches, errors change nothing, the cap", t_stage },
		{ "forwarding: rewrite, TTL, checksum", t_forward },
		{ "ICMP errors from the gateway", t_icmp },
		{ "admission drops", t_admission },
		{ "neighbour miss: held, answered, routed", t_miss },
		{ "a changed neighbour takes effect on the next frame", t_nbr_change },
		{ "a changed route takes effect on the next frame", t_route_change },
		{ "routed misses: the sending vmnic's upcall rate", t_routed_ratelimit },
		{ "lookup: the trie agrees with a linear scan", t_lpm_random },
		{ "detach, port deleted, destroy", t_detach_destroy },
	};
	size_t i;
	int passed;

	t.sys = sys;
	t.failed = failed;
	passed = run_cases(cases, nitems(cases));
	close_test_handles();
	{
		struct vpc_hdl *hs[] = { t.rtr, t.sw1, t.sw2, t.sw3, t.vcc };

		for (i = 0; i < nitems(hs); i++)
			if (hs[i] != NULL)
				vpc_core_close(sys, hs[i]);
	}
	hloop_reclaim();
	return (passed);
}
