/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_natgw.c: vpclink and vpcnat as objects, driven directly, no daemon:
 * every op's bad input with its errno and the state unchanged, the
 * lifetime rules (EBUSY while attached or in use), and translated round
 * trips through router, NAT and link (the link's output recorded by
 * test_os.c): an EIP both ways, SNAT both ways, ARP answers for the NAT's
 * addresses, what is not the NAT's left to the node, no EIP and no SNAT
 * dropped and counted, the flow dump and its resume.  Part of test_core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_impl.h"
#include "vpc_l3.h"
#include "vpc_nat_impl.h"
#include "host_loop.h"
#include "host_pkt.h"
#include "test_handles.h"
#include "test_os.h"
#include "test_natgw.h"

static struct ng {
	struct vpc_sys *sys;
	struct vpc_hdl *vcc, *sw1, *sw2, *rtr, *rtr2, *nat, *nat2, *link, *link2;
	struct vpc_hdl *nic_a, *nic_c, *nic_d;
	vpc_sw_gateway_t gw1;
	const char     *name;
	int            *failed;
} t;

#define TEST_AREA "natgw"
#define TEST_STATE t
#include "test_area.h"

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 5, 0xa };
static const uint8_t mac_c[6] = { 2, 0, 0, 0, 5, 0xc };
static const uint8_t mac_d[6] = { 2, 0, 0, 0, 5, 0xd };
static const uint8_t up_mac[6] = { 2, 0x99, 0, 0, 0, 1 };
static const uint8_t ip_a[4] = { 10, 7, 0, 10 }, ip_c[4] = { 10, 7, 0, 11 };
static const uint8_t ip_d[4] = { 10, 7, 0, 12 };
static const uint8_t eip[4] = { 203, 0, 113, 10 }, snat_ip[4] = { 203, 0, 113, 20 };
static const uint8_t remote[4] = { 198, 51, 100, 7 };
/* The upstream by address (t_upstream_arp), and the MAC it answers with. */
static const uint8_t up_ip[4] = { 203, 0, 113, 1 };
static const uint8_t up_mac2[6] = { 2, 0x99, 0, 0, 0, 2 };
/* test_os.c's links have the MAC 02:4c:00:00:00:<name length>: "up0". */
static const uint8_t link_mac[6] = { 2, 0x4c, 0, 0, 0, 3 };

static struct vpc_hdl *
open_new(unsigned type, uint8_t n)
{
	return (open_tagged(0xe5, type, n));
}

static uint64_t
gen(struct vpc_hdl *h)
{
	vpc_obj_info_t info;

	if (ctl(h, VPC_OP_GET_INFO, NULL, 0, &info, sizeof(info)) != 0)
		return (0);
	return (info.generation);
}

static uint64_t
nstat(unsigned which)
{
	vpc_nat_stats_t st;

	if (ctl(t.nat, VPC_OP_NAT_GET_STATS, NULL, 0, &st, sizeof(st)) != 0)
		return (~0ull);
	return (st.c[which]);
}

static uint64_t
lstat_(unsigned which)
{
	vpc_link_stats_t st;

	if (ctl(t.link, VPC_OP_LINK_GET_STATS, NULL, 0, &st, sizeof(st)) != 0)
		return (~0ull);
	return (st.c[which]);
}

/* Ethernet + IPv4 (checksum right) + UDP with a right checksum. */
static struct vpc_pkt *
udp4(const uint8_t smac[6], const uint8_t dmac[6], const uint8_t src[4],
    const uint8_t dst[4], uint16_t sport, uint16_t dport, uint8_t ttl)
{
	uint8_t b[14 + 20 + 8 + 5], *ip = b + 14, ph[12];
	uint32_t sum;

	memset(b, 0, sizeof(b));
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	vpc_put16(ip + 2, 20 + 8 + 5);
	ip[8] = ttl;
	ip[9] = VPC_IPPROTO_UDP;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
	vpc_put16(ip + 20, sport);
	vpc_put16(ip + 22, dport);
	vpc_put16(ip + 24, 13);
	memcpy(ip + 28, "hello", 5);
	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = VPC_IPPROTO_UDP;
	vpc_put16(ph + 10, 13);
	sum = vpc_cksum_add(vpc_cksum_add(0, ph, 12), ip + 20, 13);
	vpc_put16(ip + 26, vpc_cksum_finish(sum));
	return (host_pkt_new(b, sizeof(b)));
}

/* Are the IPv4 header and UDP checksums of the frame at b right? */
static bool
sums_ok(const uint8_t *b, uint32_t len)
{
	const uint8_t *ip = b + 14;
	uint8_t ph[12];
	uint16_t ulen = vpc_get16(ip + 24);

	if (len < 14 + 28 || vpc_cksum_finish(vpc_cksum_add(0, ip, 20)) != 0)
		return (false);
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	vpc_put16(ph + 10, ulen);
	return (vpc_cksum_finish(vpc_cksum_add(vpc_cksum_add(0, ph, 12), ip + 20,
	    ulen)) == 0);
}

static struct vpc_pkt *
arp_req(const uint8_t tpa[4])
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6];

	return (vpc_arp_build(bc, 1, up_mac, remote, zero, tpa));
}

static void
in_link(struct vpc_hdl *l, struct vpc_pkt *p)
{
	struct os_epoch et;

	os_epoch_enter(&et);
	vpc_link_input(obj2link(l->obj), p);
	os_epoch_exit(&et);
}

static int
mk_vm(const uint8_t mac[6], const uint8_t ip4[4], struct vpc_hdl **out)
{
	vpc_swport_t req, res;
	vpc_nic_addr_t ad;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac, 6);
	EXPECT_EQ(ctl(t.sw1, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	*out = test_handles[res.descriptor];
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, ip4, 4);
	EXPECT_EQ(ctl(*out, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0), 0);
	return (0);
}

static int
mk_switch(struct vpc_hdl *sw, uint32_t vni, uint8_t net)
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
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id = t.vcc->obj->id;
	EXPECT_EQ(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	EXPECT_EQ(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	return (0);
}

static int
setup(void)
{
	vpc_vcc_t vc;
	vpc_rtr_attach_t a;

	t.vcc = open_new(VPC_TYPE_VCC, 1);
	t.sw1 = open_new(VPC_TYPE_SWITCH, 2);
	t.sw2 = open_new(VPC_TYPE_SWITCH, 3);
	t.rtr = open_new(VPC_TYPE_ROUTER, 4);
	t.rtr2 = open_new(VPC_TYPE_ROUTER, 5);
	t.nat = open_new(VPC_TYPE_NAT, 6);
	t.nat2 = open_new(VPC_TYPE_NAT, 7);
	t.link = open_new(VPC_TYPE_LINK, 8);
	t.link2 = open_new(VPC_TYPE_LINK, 9);
	EXPECT(t.vcc != NULL && t.rtr != NULL && t.rtr2 != NULL && t.nat != NULL &&
	    t.nat2 != NULL && t.link != NULL && t.link2 != NULL);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	memcpy(vc.addr4, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	EXPECT_EQ(ctl(t.vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0), 0);
	if (mk_switch(t.sw1, 701, 7) || mk_switch(t.sw2, 702, 8))
		return (-1);
	if (mk_vm(mac_a, ip_a, &t.nic_a) || mk_vm(mac_c, ip_c, &t.nic_c) ||
	    mk_vm(mac_d, ip_d, &t.nic_d))
		return (-1);
	memset(&a, 0, sizeof(a));
	a.switch_id = t.sw1->obj->id;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_ATTACH, &a, sizeof(a), NULL, 0), 0);
	a.switch_id = t.sw2->obj->id;
	EXPECT_EQ(ctl(t.rtr2, VPC_OP_RTR_ATTACH, &a, sizeof(a), NULL, 0), 0);
	EXPECT_EQ(ctl(t.sw1, VPC_OP_SW_GET_GATEWAY, NULL, 0, &t.gw1, sizeof(t.gw1)), 0);
	return (0);
}

/* ---- Cases ---------------------------------------------------------------------- */

static int
link_set(struct vpc_hdl *l, const char *name)
{
	vpc_link_t k;

	memset(&k, 0, sizeof(k));
	memcpy(k.ifname, name, strlen(name) < sizeof(k.ifname) ? strlen(name) : sizeof(k.ifname));
	return (ctl(l, VPC_OP_LINK_SET, &k, sizeof(k), NULL, 0));
}

static int
t_link(void)
{
	struct { vpc_link_t k; int error; } bad[6];
	vpc_link_t out;
	uint64_t g0;
	unsigned i, binds0 = test_link_binds;

	memset(bad, 0, sizeof(bad));
	strcpy(bad[0].k.ifname, "bad name");            bad[0].error = VPC_EINVAL;
	memset(bad[1].k.ifname, 'a', VPC_IFNAMSIZ);      bad[1].error = VPC_EINVAL;
	strcpy(bad[2].k.ifname, "up0");  bad[2].k._pad0[0] = 1; bad[2].error = VPC_EINVAL;
	strcpy(bad[3].k.ifname, "up0");  bad[3].k.mac[0] = 2;   bad[3].error = VPC_EINVAL;
	strcpy(bad[4].k.ifname, "up0");  bad[4].k.ifname[5] = 'x'; bad[4].error = VPC_EINVAL;
	strcpy(bad[5].k.ifname, "nx0");                  bad[5].error = VPC_ENODEV;
	g0 = gen(t.link);
	for (i = 0; i < nitems(bad); i++)
		if (ctl(t.link, VPC_OP_LINK_SET, &bad[i].k, sizeof(bad[i].k), NULL, 0) !=
		    bad[i].error)
			FAIL("bad link %u: not errno %d", i, bad[i].error);
	EXPECT_EQ(gen(t.link), g0);
	EXPECT_EQ(test_link_binds, binds0);
	EXPECT_EQ(ctl(t.link, VPC_OP_LINK_GET, NULL, 0, &out, sizeof(out)), 0);
	EXPECT_EQ(out.bound, 0);
	EXPECT_EQ(link_set(t.link, ""), 0);             /* unbinding nothing */
	EXPECT_EQ(link_set(t.link, "up0"), 0);
	EXPECT_EQ(link_set(t.link, "up0"), VPC_EALREADY);
	EXPECT_EQ(link_set(t.link, "up1"), VPC_EALREADY);
	g0 = gen(t.link2);
	EXPECT_EQ(link_set(t.link2, "up0"), VPC_EBUSY);  /* another link has it */
	EXPECT_EQ(gen(t.link2), g0);
	EXPECT_EQ(link_set(t.link2, "other0"), 0);
	EXPECT_EQ(test_link_binds, binds0 + 2);
	EXPECT_EQ(ctl(t.link, VPC_OP_LINK_GET, NULL, 0, &out, sizeof(out)), 0);
	EXPECT_EQ(out.bound, 1);
	EXPECT(strcmp(out.ifname, "up0") == 0);
	EXPECT(memcmp(out.mac, link_mac, 6) == 0);
	EXPECT_EQ(out.users, 0);
	return (0);
}

static int
set_nat(struct vpc_hdl *rtr, struct vpc_hdl *nat)
{
	vpc_rtr_nat_t k;

	memset(&k, 0, sizeof(k));
	if (nat != NULL)
		k.nat_id = nat->obj->id;
	return (ctl(rtr, VPC_OP_RTR_SET_NAT, &k, sizeof(k), NULL, 0));
}

static int
internet(struct vpc_hdl *rtr, vpc_op_t op)
{
	vpc_rt_route_t r;

	memset(&r, 0, sizeof(r));
	r.af = VPC_AF_INET;
	r.target = VPC_RT_INTERNET;
	return (ctl(rtr, op, &r, sizeof(r), NULL, 0));
}

static int
eip_op(vpc_op_t op, const uint8_t priv[4], const uint8_t ext[4])
{
	vpc_nat_eip_t k;

	memset(&k, 0, sizeof(k));
	memcpy(k.priv, priv, 4);
	if (ext != NULL)
		memcpy(k.ext, ext, 4);
	return (ctl(t.nat, op, &k, sizeof(k), NULL, 0));
}

static uint32_t
neips(void)
{
	return (obj2natgw(t.nat->obj)->eng->cfg->neip);
}

static int
t_attach(void)
{
	vpc_rtr_nat_t k, out;
	vpc_nat_link_t nl;
	vpc_txn_t txn;
	uint64_t g0;

	/* No NAT: INTERNET routes are refused, and so are private addresses. */
	EXPECT_EQ(internet(t.rtr, VPC_OP_RTR_ROUTE_SET), VPC_EOPNOTSUPP);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_BIND, ip_a, eip), VPC_EADDRNOTAVAIL);
	EXPECT_EQ(neips(), 0);
	g0 = gen(t.rtr);
	memset(&k, 0, sizeof(k));
	k.nat_id = t.nat->obj->id;
	k._pad0[2] = 1;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_SET_NAT, &k, sizeof(k), NULL, 0), VPC_EINVAL);
	memset(&k, 0, sizeof(k));
	memset(&k.nat_id, 0x66, 16);
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_SET_NAT, &k, sizeof(k), NULL, 0), VPC_ENOENT);
	EXPECT_EQ(set_nat(t.rtr, t.link), VPC_EINVAL);  /* not a NAT */
	EXPECT_EQ(gen(t.rtr), g0);
	EXPECT(obj2rtr(t.rtr->obj)->nat == NULL);
	/* A stale token changes nothing. */
	EXPECT_EQ(ctl(t.rtr, VPC_OP_GET_TXN, NULL, 0, &txn, sizeof(txn)), 0);
	EXPECT_EQ(internet(t.rtr2, VPC_OP_RTR_ROUTE_SET), VPC_EOPNOTSUPP);
	EXPECT_EQ(set_nat(t.rtr, t.nat), 0);
	k.nat_id = t.nat2->obj->id;
	k.txn = txn;
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_SET_NAT, &k, sizeof(k), NULL, 0), VPC_ESTALE);
	EXPECT_EQ(set_nat(t.rtr, t.nat2), VPC_EEXIST);   /* one per router */
	EXPECT_EQ(set_nat(t.rtr2, t.nat), VPC_EBUSY);    /* one router per NAT */
	EXPECT_EQ(set_nat(t.rtr, t.nat), 0);             /* again: nothing changes */
	EXPECT_EQ(ctl(t.rtr, VPC_OP_RTR_GET_NAT, NULL, 0, &out, sizeof(out)), 0);
	EXPECT(memcmp(&out.nat_id, &t.nat->obj->id, 16) == 0);
	/* Destroying an attached NAT: EBUSY. */
	EXPECT_EQ(ctl(t.nat, VPC_OP_DESTROY, &(vpc_txn_t){ 0 }, sizeof(vpc_txn_t),
	    NULL, 0), VPC_EBUSY);
	EXPECT(!t.nat->obj->dead);
	/* The link: bad ids, then ours; a second NAT cannot take it. */
	memset(&nl, 0, sizeof(nl));
	memset(&nl.link_id, 0x66, 16);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SET_LINK, &nl, sizeof(nl), NULL, 0), VPC_ENOENT);
	nl.link_id = t.rtr->obj->id;
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SET_LINK, &nl, sizeof(nl), NULL, 0), VPC_EINVAL);
	nl.link_id = t.link->obj->id;
	nl.router_id = t.rtr->obj->id;                  /* an out field */
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SET_LINK, &nl, sizeof(nl), NULL, 0), VPC_EINVAL);
	EXPECT(obj2natgw(t.nat->obj)->link == NULL);
	memset(&nl.router_id, 0, 16);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SET_LINK, &nl, sizeof(nl), NULL, 0), 0);
	g0 = gen(t.nat2);
	EXPECT_EQ(ctl(t.nat2, VPC_OP_NAT_SET_LINK, &nl, sizeof(nl), NULL, 0), VPC_EBUSY);
	EXPECT_EQ(gen(t.nat2), g0);
	EXPECT_EQ(ctl(t.link, VPC_OP_DESTROY, &(vpc_txn_t){ 0 }, sizeof(vpc_txn_t),
	    NULL, 0), VPC_EBUSY);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_GET_LINK, NULL, 0, &nl, sizeof(nl)), 0);
	EXPECT(memcmp(&nl.link_id, &t.link->obj->id, 16) == 0);
	EXPECT(memcmp(&nl.router_id, &t.rtr->obj->id, 16) == 0);
	/* Now INTERNET routes are accepted. */
	EXPECT_EQ(internet(t.rtr, VPC_OP_RTR_ROUTE_SET), 0);
	/* ...and the NAT cannot be detached under them. */
	EXPECT_EQ(set_nat(t.rtr, NULL), VPC_EBUSY);
	EXPECT(obj2rtr(t.rtr->obj)->nat == obj2natgw(t.nat->obj));
	return (0);
}

static int
t_config(void)
{
	vpc_nat_config_t c, out;
	struct { vpc_nat_config_t c; int error; } bad[9];
	uint64_t g0 = gen(t.nat);
	unsigned i;

	memset(bad, 0, sizeof(bad));
	bad[0].c.upstream_mac[0] = 1;                   bad[0].error = VPC_EINVAL;
	bad[1].c.udp_s = VPC_NAT_TIMEOUT_MAX_S + 1;     bad[1].error = VPC_EINVAL;
	bad[2].c.max_flows = VPC_NAT_MAX_FLOWS + 1;     bad[2].error = VPC_EINVAL;
	bad[3].c._pad0[1] = 1;                          bad[3].error = VPC_EINVAL;
	bad[4].c.flows = 1;                             bad[4].error = VPC_EINVAL;
	/* The upstream by address: a host's, and not with a MAC too. */
	memcpy(bad[5].c.upstream_ip, up_ip, 4);
	memcpy(bad[5].c.upstream_mac, up_mac, 6);       bad[5].error = VPC_EINVAL;
	bad[6].c.upstream_ip[0] = 127;
	bad[6].c.upstream_ip[3] = 1;                    bad[6].error = VPC_EINVAL;
	bad[7].c.upstream_ip[0] = 224;
	bad[7].c.upstream_ip[3] = 1;                    bad[7].error = VPC_EINVAL;
	bad[8].c.upstream_ip[3] = 1;    /* 0.0.0.1 */   bad[8].error = VPC_EINVAL;
	for (i = 0; i < nitems(bad); i++)
		if (ctl(t.nat, VPC_OP_NAT_SET_CONFIG, &bad[i].c, sizeof(bad[i].c), NULL, 0) !=
		    bad[i].error)
			FAIL("bad config %u: not errno %d", i, bad[i].error);
	EXPECT_EQ(gen(t.nat), g0);
	EXPECT_EQ(obj2natgw(t.nat->obj)->arp.ip, 0);
	/* A smaller table while empty: a fresh engine. */
	memset(&c, 0, sizeof(c));
	c.max_flows = 64;
	c.udp_s = 30;
	memcpy(c.upstream_mac, up_mac, 6);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SET_CONFIG, &c, sizeof(c), NULL, 0), 0);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_GET_CONFIG, NULL, 0, &out, sizeof(out)), 0);
	EXPECT_EQ(out.max_flows, 64);
	EXPECT_EQ(out.udp_s, 30);
	EXPECT_EQ(out.tcp_est_s, VPC_NAT_TCP_EST_S);
	EXPECT(memcmp(out.upstream_mac, up_mac, 6) == 0);
	return (0);
}

static int
t_addresses(void)
{
	static const uint8_t lo[4] = { 127, 0, 0, 1 }, outside[4] = { 10, 9, 9, 9 };
	vpc_nat_pool_t p;
	vpc_nat_snat_t s, so, sk;
	vpc_nat_config_t c;
	uint64_t g0;

	g0 = gen(t.nat);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_BIND, lo, eip), VPC_EINVAL);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_BIND, ip_a, lo), VPC_EINVAL);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_BIND, outside, eip), VPC_EADDRNOTAVAIL);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_UNBIND, ip_a, NULL), VPC_ENOENT);
	EXPECT_EQ(gen(t.nat), g0);
	EXPECT_EQ(neips(), 0);
	test_sent_reset();
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_BIND, ip_a, eip), 0);
	/* A gratuitous ARP for it went out of the link. */
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(test_sent[0].kind, TEST_TO_LINK);
	EXPECT(memcmp(test_sent[0].data + 14 + 14, eip, 4) == 0);
	g0 = gen(t.nat);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_BIND, ip_a, snat_ip), VPC_EEXIST);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_BIND, ip_c, eip), VPC_EEXIST);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_UNBIND, ip_a, snat_ip), VPC_ENOENT);
	EXPECT_EQ(gen(t.nat), g0);
	EXPECT_EQ(neips(), 1);
	/* Pools. */
	memset(&p, 0, sizeof(p));
	memcpy(p.ext, eip, 4);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_POOL_ADD, &p, sizeof(p), NULL, 0), VPC_EADDRINUSE);
	memcpy(p.ext, snat_ip, 4);
	p.lo = 2000;
	p.hi = 1000;
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_POOL_ADD, &p, sizeof(p), NULL, 0), VPC_EINVAL);
	p.lo = 2000;
	p.hi = 2063;
	p.block = 16;
	p._pad0[0] = 1;
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_POOL_ADD, &p, sizeof(p), NULL, 0), VPC_EINVAL);
	EXPECT_EQ(obj2natgw(t.nat->obj)->eng->npools, 0);
	EXPECT_EQ(gen(t.nat), g0);
	/* SNAT: no pool yet, then one. */
	memset(&s, 0, sizeof(s));
	memcpy(s.priv, ip_c, 4);
	memcpy(s.ext, snat_ip, 4);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SNAT_BIND, &s, sizeof(s), NULL, 0), VPC_ENOENT);
	p._pad0[0] = 0;
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_POOL_ADD, &p, sizeof(p), NULL, 0), 0);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_POOL_ADD, &p, sizeof(p), NULL, 0), VPC_EEXIST);
	g0 = gen(t.nat);
	memcpy(s.priv, ip_a, 4);                        /* has an EIP */
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SNAT_BIND, &s, sizeof(s), NULL, 0), VPC_EEXIST);
	memcpy(s.priv, outside, 4);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SNAT_BIND, &s, sizeof(s), NULL, 0), VPC_EADDRNOTAVAIL);
	memcpy(s.priv, ip_c, 4);
	s.flows[1] = 1;                                 /* an out field */
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SNAT_BIND, &s, sizeof(s), NULL, 0), VPC_EINVAL);
	EXPECT_EQ(obj2natgw(t.nat->obj)->eng->cfg->nbind, 0);
	EXPECT_EQ(gen(t.nat), g0);
	s.flows[1] = 0;
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SNAT_BIND, &s, sizeof(s), NULL, 0), 0);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SNAT_BIND, &s, sizeof(s), NULL, 0), VPC_EEXIST);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_BIND, ip_c, (uint8_t[]){ 203, 0, 113, 11 }),
	    VPC_EEXIST);                                /* has SNAT */
	memset(&p.lo, 0, 6);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_POOL_DEL, &p, sizeof(p), NULL, 0), VPC_EBUSY);
	memset(&sk, 0, sizeof(sk));
	memcpy(sk.priv, ip_c, 4);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SNAT_GET, &sk, sizeof(sk), &so, sizeof(so)), 0);
	EXPECT(memcmp(so.ext, snat_ip, 4) == 0);
	EXPECT_EQ(so.block_size, 16);
	EXPECT(so.block_lo[VPC_NAT_PROTO_UDP] >= 2000 && so.block_lo[VPC_NAT_PROTO_UDP] < 2064);
	/* The table size cannot change under a configuration. */
	memset(&c, 0, sizeof(c));
	c.max_flows = 128;
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SET_CONFIG, &c, sizeof(c), NULL, 0), VPC_EBUSY);
	EXPECT_EQ(obj2natgw(t.nat->obj)->eng->max_flows, 64);
	return (0);
}

static int
t_roundtrip(void)
{
	const struct test_sent *s;
	const uint8_t *ip;
	uint16_t eport;
	vpc_nat_flow_req_t fr;
	vpc_nat_flow_t fl[4];
	vpc_nat_snat_t so, sk;
	size_t vl;

	/* VM a, with an EIP: out translated, from the link's MAC to upstream. */
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, remote, 4000, 53, 64));
	EXPECT_EQ(test_nsent, 1);
	s = &test_sent[0];
	EXPECT_EQ(s->kind, TEST_TO_LINK);
	EXPECT(memcmp(s->data, up_mac, 6) == 0 && memcmp(s->data + 6, link_mac, 6) == 0);
	ip = s->data + 14;
	EXPECT(memcmp(ip + 12, eip, 4) == 0 && memcmp(ip + 16, remote, 4) == 0);
	EXPECT_EQ(ip[8], 63);
	EXPECT(sums_ok(s->data, s->len));
	EXPECT_EQ(nstat(VPC_NATSTAT_OUT_EIP), 1);
	/* The answer comes in on the link and reaches VM a, routed. */
	test_sent_reset();
	in_link(t.link, udp4(up_mac, link_mac, remote, eip, 53, 4000, 60));
	EXPECT_EQ(test_nsent, 1);
	s = &test_sent[0];
	EXPECT_EQ(s->kind, TEST_TO_NIC);
	EXPECT(s->to == t.nic_a->obj);
	EXPECT(memcmp(s->data, mac_a, 6) == 0 && memcmp(s->data + 6, t.gw1.mac, 6) == 0);
	ip = s->data + 14;
	EXPECT(memcmp(ip + 16, ip_a, 4) == 0 && memcmp(ip + 12, remote, 4) == 0);
	EXPECT_EQ(ip[8], 59);
	EXPECT(sums_ok(s->data, s->len));
	EXPECT_EQ(nstat(VPC_NATSTAT_IN_EIP), 1);
	EXPECT_EQ(nstat(VPC_NATSTAT_RX_DELIVERED), 1);

	/* VM c, with SNAT: a port of its block, and back. */
	test_sent_reset();
	in_nic(t.nic_c, udp4(mac_c, t.gw1.mac, ip_c, remote, 5000, 53, 64));
	EXPECT_EQ(test_nsent, 1);
	s = &test_sent[0];
	EXPECT_EQ(s->kind, TEST_TO_LINK);
	ip = s->data + 14;
	EXPECT(memcmp(ip + 12, snat_ip, 4) == 0);
	eport = vpc_get16(ip + 20);
	EXPECT(eport >= 2000 && eport <= 2063);
	EXPECT(sums_ok(s->data, s->len));
	test_sent_reset();
	in_link(t.link, udp4(up_mac, link_mac, remote, snat_ip, 53, eport, 60));
	EXPECT_EQ(test_nsent, 1);
	s = &test_sent[0];
	EXPECT(s->kind == TEST_TO_NIC && s->to == t.nic_c->obj);
	ip = s->data + 14;
	EXPECT(memcmp(ip + 16, ip_c, 4) == 0);
	EXPECT_EQ(vpc_get16(ip + 22), 5000);
	EXPECT(sums_ok(s->data, s->len));
	/* From another remote port: no flow, dropped and counted. */
	test_sent_reset();
	in_link(t.link, udp4(up_mac, link_mac, remote, snat_ip, 54, eport, 60));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(nstat(VPC_NATSTAT_DROP_NOFLOW), 1);

	/* VM d, neither: nothing leaves, the drop is counted. */
	test_sent_reset();
	in_nic(t.nic_d, udp4(mac_d, t.gw1.mac, ip_d, remote, 6000, 53, 64));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(nstat(VPC_NATSTAT_DROP_NOCFG), 1);

	/* ARP: the NAT's addresses are answered, others left to the node. */
	test_sent_reset();
	in_link(t.link, arp_req(eip));
	in_link(t.link, arp_req(snat_ip));
	in_link(t.link, arp_req((uint8_t[]){ 203, 0, 113, 99 }));
	EXPECT_EQ(test_nsent, 3);
	EXPECT_EQ(test_sent[0].kind, TEST_TO_LINK);
	EXPECT_EQ(vpc_get16(test_sent[0].data + 14 + 6), 2);    /* a reply */
	EXPECT(memcmp(test_sent[0].data + 14 + 8, link_mac, 6) == 0);
	EXPECT(memcmp(test_sent[0].data + 14 + 14, eip, 4) == 0);
	EXPECT(memcmp(test_sent[0].data, up_mac, 6) == 0);
	EXPECT_EQ(test_sent[1].kind, TEST_TO_LINK);
	EXPECT_EQ(test_sent[2].kind, TEST_LINK_PASSED);
	EXPECT_EQ(lstat_(VPC_LINKSTAT_ARP_REPLIES), 2);
	/* IPv4 for another address, or to another MAC: the node's. */
	test_sent_reset();
	in_link(t.link, udp4(up_mac, link_mac, remote, (uint8_t[]){ 203, 0, 113, 1 }, 1, 2, 9));
	in_link(t.link, udp4(up_mac, up_mac, remote, eip, 53, 4000, 9));
	EXPECT_EQ(test_nsent, 2);
	EXPECT(test_sent[0].kind == TEST_LINK_PASSED && test_sent[1].kind == TEST_LINK_PASSED);

	/* The flow dump: c's one flow, then nothing after it. */
	memset(&fr, 0, sizeof(fr));
	vl = sizeof(fl);
	EXPECT_EQ(vpc_core_ctl(t.sys, &call, t.nat, VPC_OP_NAT_FLOW_DUMP, &fr, sizeof(fr),
	    fl, &vl), 0);
	EXPECT_EQ(vl, sizeof(fl[0]));
	EXPECT(memcmp(fl[0].priv, ip_c, 4) == 0 && fl[0].eport == eport &&
	    fl[0].pport == 5000 && fl[0].proto == VPC_IPPROTO_UDP);
	fr.resume = 1;
	fr.proto = fl[0].proto;
	memcpy(fr.ext, fl[0].ext, 4);
	memcpy(fr.remote, fl[0].remote, 4);
	fr.eport = fl[0].eport;
	fr.rport = fl[0].rport;
	vl = sizeof(fl);
	EXPECT_EQ(vpc_core_ctl(t.sys, &call, t.nat, VPC_OP_NAT_FLOW_DUMP, &fr, sizeof(fr),
	    fl, &vl), 0);
	EXPECT_EQ(vl, 0);
	fr.resume = 2;
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_FLOW_DUMP, &fr, sizeof(fr), fl, sizeof(fl)),
	    VPC_EINVAL);
	memset(&sk, 0, sizeof(sk));
	memcpy(sk.priv, ip_c, 4);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_SNAT_GET, &sk, sizeof(sk), &so, sizeof(so)), 0);
	EXPECT_EQ(so.flows[VPC_NAT_PROTO_UDP], 1);

	/* Unbinding the EIP stops it at once: a's traffic is dropped now. */
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_UNBIND, ip_a, eip), 0);
	test_sent_reset();
	in_nic(t.nic_a, udp4(mac_a, t.gw1.mac, ip_a, remote, 4000, 53, 64));
	in_link(t.link, udp4(up_mac, link_mac, remote, eip, 53, 4000, 60));
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(test_sent[0].kind, TEST_LINK_PASSED);
	EXPECT_EQ(nstat(VPC_NATSTAT_DROP_NOCFG), 2);
	return (0);
}

/* ---- The upstream by IPv4 address, resolved by ARP -------------------------- */

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
	return (fake_now);
}

static int
set_upstream(const uint8_t ip4[4], const uint8_t mac[6])
{
	vpc_nat_config_t c;

	memset(&c, 0, sizeof(c));
	c.max_flows = 64;               /* as it is: the engine stays */
	c.udp_s = 30;
	if (ip4 != NULL)
		memcpy(c.upstream_ip, ip4, 4);
	if (mac != NULL)
		memcpy(c.upstream_mac, mac, 6);
	return (ctl(t.nat, VPC_OP_NAT_SET_CONFIG, &c, sizeof(c), NULL, 0));
}

/* Is sent frame i our request for the upstream (from the link, a NAT
 * address as the sender)? */
static bool
is_request(unsigned i)
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct test_sent *s = &test_sent[i];
	const uint8_t *a = s->data + 14;

	return (i < test_nsent && s->kind == TEST_TO_LINK && s->len >= 42 &&
	    memcmp(s->data, bc, 6) == 0 && memcmp(s->data + 6, link_mac, 6) == 0 &&
	    vpc_get16(s->data + 12) == ETHERTYPE_ARP && vpc_get16(a + 6) == 1 &&
	    memcmp(a + 8, link_mac, 6) == 0 && memcmp(a + 14, snat_ip, 4) == 0 &&
	    memcmp(a + 24, up_ip, 4) == 0);
}

/* Is sent frame i VM c's packet, translated (SNAT), to the MAC m? */
static bool
is_out(unsigned i, const uint8_t m[6])
{
	const struct test_sent *s = &test_sent[i];

	return (i < test_nsent && s->kind == TEST_TO_LINK &&
	    memcmp(s->data, m, 6) == 0 && memcmp(s->data + 6, link_mac, 6) == 0 &&
	    vpc_get16(s->data + 12) == ETHERTYPE_IP &&
	    memcmp(s->data + 14 + 12, snat_ip, 4) == 0 && sums_ok(s->data, s->len));
}

static void
vm_c_sends(void)
{
	test_sent_reset();
	in_nic(t.nic_c, udp4(mac_c, t.gw1.mac, ip_c, remote, 5000, 53, 64));
}

/* NAT_GET_UPSTREAM, checked against what is expected (mac NULL: zero). */
static int
upstream_is(uint8_t state, const uint8_t *mac, const uint8_t *ip4,
    uint32_t learned_ms, uint32_t asked_ms)
{
	vpc_nat_upstream_t u;

	memset(&u, 0xa5, sizeof(u));
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_GET_UPSTREAM, NULL, 0, &u, sizeof(u)), 0);
	EXPECT_EQ(u.state, state);
	EXPECT(mac ? memcmp(u.mac, mac, 6) == 0 : vpc_all_zero(u.mac, 6));
	EXPECT(ip4 ? memcmp(u.ip, ip4, 4) == 0 : vpc_all_zero(u.ip, 4));
	EXPECT_EQ(u.learned_ms, learned_ms);
	EXPECT_EQ(u.asked_ms, asked_ms);
	EXPECT(u._pad0 == 0 && u._pad1 == 0);
	return (0);
}

static int
t_upstream_arp(void)
{
	const uint64_t s1 = 1000000000ull;
	struct vpc_natgw *ng = obj2natgw(t.nat->obj);
	vpc_nat_config_t out;
	uint64_t g0, unres;

	fake_now = 1000 * s1;
	vpc_nat_set_clock(ng->eng, fake_clock);
	/* The fixture's upstream is by MAC. */
	EXPECT_EQ(upstream_is(VPC_NAT_UPSTREAM_BY_MAC, up_mac, NULL, 0, 0), 0);
	/* Configured by address: a request goes out at once. */
	test_sent_reset();
	EXPECT_EQ(set_upstream(up_ip, NULL), 0);
	EXPECT_EQ(test_nsent, 1);
	EXPECT(is_request(0));
	/* Asked this very moment: 1 ms at least, so 0 keeps meaning never. */
	EXPECT_EQ(upstream_is(VPC_NAT_UPSTREAM_UNRESOLVED, NULL, up_ip, 0, 1), 0);
	EXPECT_EQ(nstat(VPC_NATSTAT_ARP_REQUESTS), 1);
	EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_GET_CONFIG, NULL, 0, &out, sizeof(out)), 0);
	EXPECT(memcmp(out.upstream_ip, up_ip, 4) == 0);
	EXPECT(vpc_all_zero(out.upstream_mac, 6));
	/* Unresolved: dropped and counted; no second request within a second. */
	unres = nstat(VPC_NATSTAT_DROP_UNRESOLVED);
	vm_c_sends();
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(nstat(VPC_NATSTAT_DROP_UNRESOLVED), unres + 1);
	fake_now += s1 - 1;
	vm_c_sends();
	EXPECT_EQ(test_nsent, 0);
	/* Reading it is not asking: nothing sent, the time goes on. */
	test_sent_reset();
	EXPECT_EQ(upstream_is(VPC_NAT_UPSTREAM_UNRESOLVED, NULL, up_ip, 0, 999), 0);
	EXPECT_EQ(test_nsent, 0);
	/* A second later: dropped again, and asked again. */
	fake_now += 1;
	vm_c_sends();
	EXPECT_EQ(test_nsent, 1);
	EXPECT(is_request(0));
	EXPECT_EQ(nstat(VPC_NATSTAT_DROP_UNRESOLVED), unres + 3);
	EXPECT_EQ(nstat(VPC_NATSTAT_ARP_REQUESTS), 2);
	/* Replies that are not the upstream's answer to us: not learned, the
	 * node's. */
	test_sent_reset();
	in_link(t.link, vpc_arp_build(link_mac, 2, up_mac2, remote, link_mac, snat_ip));
	in_link(t.link, vpc_arp_build(up_mac, 2, up_mac2, up_ip, up_mac, snat_ip));
	in_link(t.link, vpc_arp_build(link_mac, 2, up_mac2, up_ip, link_mac,
	    (uint8_t[]){ 203, 0, 113, 99 }));
	EXPECT_EQ(test_nsent, 3);
	EXPECT(test_sent[0].kind == TEST_LINK_PASSED && test_sent[2].kind == TEST_LINK_PASSED);
	EXPECT_EQ(nstat(VPC_NATSTAT_ARP_LEARNED), 0);
	vm_c_sends();
	EXPECT_EQ(test_nsent, 0);
	/* The answer: learned and taken; frames go to the MAC it gave. */
	test_sent_reset();
	in_link(t.link, vpc_arp_build(link_mac, 2, up_mac2, up_ip, link_mac, snat_ip));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(nstat(VPC_NATSTAT_ARP_LEARNED), 1);
	EXPECT_EQ(upstream_is(VPC_NAT_UPSTREAM_RESOLVED, up_mac2, up_ip, 1, 1), 0);
	vm_c_sends();
	EXPECT_EQ(test_nsent, 1);
	EXPECT(is_out(0, up_mac2));
	/* Old (the refresh time): still used, and asked again, once a second. */
	fake_now += VPC_NATGW_ARP_REFRESH_NS;
	EXPECT_EQ(upstream_is(VPC_NAT_UPSTREAM_REFRESHING, up_mac2, up_ip,
	    60000, 60000), 0);
	vm_c_sends();
	EXPECT_EQ(test_nsent, 2);
	EXPECT(is_request(0) && is_out(1, up_mac2));    /* asked, then sent */
	vm_c_sends();
	EXPECT_EQ(test_nsent, 1);
	EXPECT(is_out(0, up_mac2));
	/* No answer until it expires: unresolved again, dropped, asked. */
	fake_now += VPC_NATGW_ARP_EXPIRE_NS - VPC_NATGW_ARP_REFRESH_NS;
	unres = nstat(VPC_NATSTAT_DROP_UNRESOLVED);
	vm_c_sends();
	EXPECT_EQ(test_nsent, 1);
	EXPECT(is_request(0));
	EXPECT_EQ(nstat(VPC_NATSTAT_DROP_UNRESOLVED), unres + 1);
	EXPECT_EQ(upstream_is(VPC_NAT_UPSTREAM_UNRESOLVED, NULL, up_ip, 0, 1), 0);
	/* The upstream asking for one of our addresses teaches its MAC too,
	 * and is answered. */
	test_sent_reset();
	in_link(t.link, vpc_arp_build((const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	    1, up_mac, up_ip, (const uint8_t[6]){ 0 }, snat_ip));
	EXPECT_EQ(test_nsent, 1);
	EXPECT(test_sent[0].kind == TEST_TO_LINK && vpc_get16(test_sent[0].data + 20) == 2);
	EXPECT_EQ(nstat(VPC_NATSTAT_ARP_LEARNED), 2);
	vm_c_sends();
	EXPECT(test_nsent == 1 && is_out(0, up_mac));
	/* Bad input changes nothing: still by address, still resolved. */
	g0 = gen(t.nat);
	EXPECT_EQ(set_upstream(up_ip, up_mac), VPC_EINVAL);
	EXPECT_EQ(set_upstream((const uint8_t[]){ 127, 0, 0, 1 }, NULL), VPC_EINVAL);
	EXPECT_EQ(gen(t.nat), g0);
	EXPECT_EQ(ng->arp.ip, vpc_nat_get32(up_ip));
	vm_c_sends();
	EXPECT(test_nsent == 1 && is_out(0, up_mac));
	/* The same address again keeps what was learned; another forgets it. */
	test_sent_reset();
	EXPECT_EQ(set_upstream(up_ip, NULL), 0);
	EXPECT_EQ(test_nsent, 0);
	vm_c_sends();
	EXPECT(test_nsent == 1 && is_out(0, up_mac));
	test_sent_reset();
	EXPECT_EQ(set_upstream((const uint8_t[]){ 203, 0, 113, 2 }, NULL), 0);
	EXPECT_EQ(test_nsent, 1);       /* asked for the new one */
	vm_c_sends();
	EXPECT_EQ(test_nsent, 0);
	/* Back to the MAC form: used as is, no ARP. */
	EXPECT_EQ(set_upstream(NULL, up_mac), 0);
	EXPECT_EQ(ng->arp.ip, 0);
	EXPECT_EQ(upstream_is(VPC_NAT_UPSTREAM_BY_MAC, up_mac, NULL, 0, 0), 0);
	/* Bad sizes: EINVAL, nothing written, nothing asked. */
	{
		vpc_nat_upstream_t u;
		uint8_t key[4] = { 0 };

		test_sent_reset();
		memset(&u, 0xa5, sizeof(u));
		EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_GET_UPSTREAM, NULL, 0, &u,
		    sizeof(u) - 1), VPC_EINVAL);
		EXPECT_EQ(ctl(t.nat, VPC_OP_NAT_GET_UPSTREAM, key, sizeof(key),
		    &u, sizeof(u)), VPC_EINVAL);
		EXPECT_EQ(u.state, 0xa5);
		EXPECT_EQ(ctl(t.link, VPC_OP_NAT_GET_UPSTREAM, NULL, 0, &u,
		    sizeof(u)), VPC_ENOTTY);            /* not a NAT */
		EXPECT_EQ(u.state, 0xa5);
		EXPECT_EQ(test_nsent, 0);
	}
	/* None at all: nothing is sent, and it says so. */
	EXPECT_EQ(set_upstream(NULL, NULL), 0);
	EXPECT_EQ(upstream_is(VPC_NAT_UPSTREAM_NONE, NULL, NULL, 0, 0), 0);
	EXPECT_EQ(set_upstream(NULL, up_mac), 0);
	vm_c_sends();
	EXPECT(test_nsent == 1 && is_out(0, up_mac));
	vpc_nat_set_clock(ng->eng, NULL);
	return (0);
}

/* Is sent frame i a gratuitous ARP for ext from the link? */
static bool
is_garp(unsigned i, const uint8_t ext[4])
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct test_sent *s = &test_sent[i];
	const uint8_t *a = s->data + 14;

	return (i < test_nsent && s->kind == TEST_TO_LINK && s->len >= 42 &&
	    memcmp(s->data, bc, 6) == 0 && vpc_get16(s->data + 12) == ETHERTYPE_ARP &&
	    vpc_get16(a + 6) == 1 && memcmp(a + 8, link_mac, 6) == 0 &&
	    memcmp(a + 14, ext, 4) == 0 && memcmp(a + 24, ext, 4) == 0);
}

/* An EIP that moves here while the link is down (bound on this NAT after
 * its old node let go) is announced when the link comes up, as is every
 * address of the NAT; the upstream by address is asked anew. */
static int
t_link_up(void)
{
	uint64_t garps = lstat_(VPC_LINKSTAT_GARP_SENT);

	EXPECT_EQ(link_set(t.link, ""), 0);
	test_sent_reset();
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_BIND, ip_a, eip), 0);
	EXPECT_EQ(set_upstream(up_ip, NULL), 0);
	EXPECT_EQ(test_nsent, 0);                       /* nowhere to send */
	EXPECT_EQ(link_set(t.link, "up0"), 0);
	EXPECT_EQ(test_nsent, 3);
	EXPECT(is_garp(0, eip) && is_garp(1, snat_ip) && is_request(2));
	EXPECT_EQ(lstat_(VPC_LINKSTAT_GARP_SENT), garps + 2);
	/* As it was: the MAC form, no EIP. */
	EXPECT_EQ(set_upstream(NULL, up_mac), 0);
	EXPECT_EQ(eip_op(VPC_OP_NAT_EIP_UNBIND, ip_a, eip), 0);
	return (0);
}

static int
t_teardown(void)
{
	vpc_txn_t zero = 0;

	/* The link unbound: translated traffic is dropped and counted. */
	EXPECT_EQ(link_set(t.link, ""), 0);
	test_sent_reset();
	in_nic(t.nic_c, udp4(mac_c, t.gw1.mac, ip_c, remote, 5001, 53, 64));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(nstat(VPC_NATSTAT_DROP_NO_LINK), 1);
	EXPECT_EQ(link_set(t.link, "up0"), 0);
	/* Detach in order: the route, the NAT, then destroy both. */
	EXPECT_EQ(internet(t.rtr, VPC_OP_RTR_ROUTE_DEL), 0);
	EXPECT_EQ(set_nat(t.rtr, NULL), 0);
	EXPECT(obj2natgw(t.nat->obj)->rtr == NULL);
	EXPECT_EQ(internet(t.rtr, VPC_OP_RTR_ROUTE_SET), VPC_EOPNOTSUPP);
	EXPECT_EQ(ctl(t.nat, VPC_OP_DESTROY, &zero, sizeof(zero), NULL, 0), 0);
	EXPECT(obj2link(t.link->obj)->nat == NULL);
	EXPECT_EQ(ctl(t.link, VPC_OP_DESTROY, &zero, sizeof(zero), NULL, 0), 0);
	/* A router destroyed with its NAT attached lets go of it. */
	EXPECT_EQ(set_nat(t.rtr2, t.nat2), 0);
	EXPECT_EQ(ctl(t.rtr2, VPC_OP_DESTROY, &zero, sizeof(zero), NULL, 0), 0);
	EXPECT(obj2natgw(t.nat2->obj)->rtr == NULL);
	EXPECT_EQ(ctl(t.nat2, VPC_OP_DESTROY, &zero, sizeof(zero), NULL, 0), 0);
	return (0);
}

int
test_natgw(struct vpc_sys *sys, int *failed)
{
	static const struct test_case cases[] = {
		{ "setup", setup },
		{ "link: bind, bad input, EBUSY, EALREADY", t_link },
		{ "router attach, link, lifetime (EBUSY)", t_attach },
		{ "configuration: bad input, a fresh engine", t_config },
		{ "EIPs, pools, SNAT: bad input, state unchanged", t_addresses },
		{ "round trips: EIP, SNAT, ARP, no configuration, dump", t_roundtrip },
		{ "the upstream by address: ARP request, learn, refresh, expiry", t_upstream_arp },
		{ "the link up again: a gratuitous ARP for each address", t_link_up },
		{ "unbound link, detach, destroy", t_teardown },
	};
	size_t i;
	int passed;

	t.sys = sys;
	t.failed = failed;
	passed = run_cases(cases, nitems(cases));
	close_test_handles();
	{
		struct vpc_hdl *hs[] = { t.nat, t.nat2, t.link, t.link2, t.rtr, t.rtr2,
		    t.sw1, t.sw2, t.vcc };

		for (i = 0; i < nitems(hs); i++)
			if (hs[i] != NULL)
				vpc_core_close(sys, hs[i]);
	}
	hloop_reclaim();
	return (passed);
}
