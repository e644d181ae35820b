/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_l3.c: ARP and neighbour discovery answered by the switch, the
 * neighbour table and its ops, L3 upcalls, announcements of moved
 * addresses, driven directly (no daemon).  Part of test_core.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vpc_impl.h"            /* white-box: handles to objects */
#include "vpc_l3.h"
#include "host_loop.h"
#include "host_pkt.h"
#include "test_handles.h"
#include "test_l3.h"
#include "test_os.h"

static struct l3 {
	struct vpc_sys *sys;
	struct vpc_hdl *sw, *vcc, *nic_a, *nic_b;
	struct vpc_hdl *nic_c;          /* no address: t_lazy */
	struct vpc_hdl *tab;            /* t_table's switch */
	const char     *name;
	int            *failed;
} t;

#define TEST_AREA "l3"
#define TEST_STATE t
#include "test_area.h"

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 3, 0xa };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 3, 0xb };
static const uint8_t mac_c[6] = { 2, 0, 0, 0, 3, 0xc };
static const uint8_t mac_x[6] = { 2, 0, 0, 0, 3, 0x42 };     /* remote */
static const uint8_t mac_y[6] = { 2, 0, 0, 0, 3, 0x43 };     /* remote */
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ip_a[4] = { 10, 0, 0, 10 }, ip_b[4] = { 10, 0, 0, 11 };
static const uint8_t ip_gw[4] = { 10, 0, 0, 1 }, ip_x[4] = { 10, 0, 0, 50 };
static const uint8_t ip_n[4] = { 10, 0, 0, 51 };
static const uint8_t ip6_a[16] = { 0x20, 1, 0xd, 0xb8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa };
static const uint8_t ip6_b[16] = { 0x20, 1, 0xd, 0xb8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb };
static const uint8_t ip6_x[16] = { 0x20, 1, 0xd, 0xb8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50 };


static struct vpc_hdl *
open_new(unsigned type, uint8_t n)
{
	return (open_tagged(0xd3, type, n));
}

static uint64_t
swstat(unsigned which)
{
	return (sw_counter(t.sw, which));
}

/* An ARP message from a vmnic; fields as given. */
static struct vpc_pkt *
arp(const uint8_t src[6], uint16_t htype, uint16_t op, const uint8_t sha[6],
    const uint8_t spa[4], const uint8_t tpa[4])
{
	uint8_t b[60];

	memset(b, 0, sizeof(b));
	memcpy(b, bcast, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x08;
	b[13] = 0x06;
	vpc_put16(b + 14, htype);
	vpc_put16(b + 16, 0x0800);
	b[18] = 6;
	b[19] = 4;
	vpc_put16(b + 20, op);
	memcpy(b + 22, sha, 6);
	memcpy(b + 28, spa, 4);
	memcpy(b + 38, tpa, 4);
	return (host_pkt_new(b, sizeof(b)));
}

static struct vpc_pkt *
arp_req(const uint8_t src[6], const uint8_t spa[4], const uint8_t tpa[4])
{
	return (arp(src, 1, 1, src, spa, tpa));
}

/* A neighbour solicitation: src (:: for DAD) asking for target; opt: the
 * options' bytes (SLLA and such), hlim, and whether to spoil the checksum. */
static struct vpc_pkt *
ns(const uint8_t smac[6], const uint8_t src[16], const uint8_t target[16],
    const uint8_t *opt, uint32_t optlen, uint8_t hlim, bool bad_sum)
{
	uint8_t b[200], *ip, *icmp, dst[16] = { 0xff, 2, [11] = 1, [12] = 0xff }, pseudo[8];
	uint32_t len = 24 + optlen, sum;

	memcpy(dst + 13, target + 13, 3);
	memset(b, 0, sizeof(b));
	memcpy(b, (uint8_t[]){ 0x33, 0x33, 0xff, target[13], target[14], target[15] }, 6);
	memcpy(b + 6, smac, 6);
	b[12] = 0x86;
	b[13] = 0xdd;
	ip = b + 14;
	ip[0] = 0x60;
	vpc_put16(ip + 4, (uint16_t)len);
	ip[6] = 58;
	ip[7] = hlim;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	icmp = ip + 40;
	icmp[0] = 135;
	memcpy(icmp + 8, target, 16);
	if (optlen > 0)
		memcpy(icmp + 24, opt, optlen);
	sum = vpc_cksum_add(vpc_cksum_add(0, src, 16), dst, 16);
	vpc_put32(pseudo, len);
	vpc_put32(pseudo + 4, 58);
	sum = vpc_cksum_add(vpc_cksum_add(sum, pseudo, 8), icmp, len);
	vpc_put16(icmp + 2, (uint16_t)(vpc_cksum_finish(sum) ^ (bad_sum ? 1 : 0)));
	return (host_pkt_new(b, 14 + 40 + len));
}

static int
answer(const vpc_upcall_ans_t *a, int32_t *res)
{
	return (ctl(NULL, VPC_OP_SYS_UPCALL_ANSWER, a, sizeof(*a), res,
	    sizeof(*res)));
}

/* The one reply sent, to nic: an ARP reply saying ip is at mac. */
static int
check_arp_reply(const struct test_sent *s, struct vpc_hdl *to,
    const uint8_t mac[6], const uint8_t ip[4])
{
	EXPECT(s->kind == TEST_TO_NIC && s->to == (const void *)to->obj);
	EXPECT_EQ(s->len, 60);
	EXPECT(memcmp(s->data + 6, mac, 6) == 0);
	EXPECT(s->data[12] == 0x08 && s->data[13] == 0x06);
	EXPECT_EQ(vpc_get16(s->data + 20), 2);
	EXPECT(memcmp(s->data + 22, mac, 6) == 0);
	EXPECT(memcmp(s->data + 28, ip, 4) == 0);
	return (0);
}

/* ---- Setup ---------------------------------------------------------------------- */

static int
setup(void)
{
	vpc_sw_vni_t v = { .vni = 300 };
	vpc_sw_subnet_t sn;
	vpc_nic_addr_t ad;
	vpc_vcc_t vc;
	vpc_swport_t req, res;

	t.sw = open_new(VPC_TYPE_SWITCH, 1);
	t.vcc = open_new(VPC_TYPE_VCC, 2);
	EXPECT(t.sw != NULL && t.vcc != NULL);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	memcpy(sn.addr, (uint8_t[]){ 10, 0, 0, 0 }, 4);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0), 0);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET6;
	sn.prefixlen = 64;
	memcpy(sn.addr, ip6_a, 8);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0), 0);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	memcpy(vc.addr4, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	EXPECT_EQ(ctl(t.vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	memcpy(&req.peer_id, &(vpc_id_t){ .bytes = { 0xd3, [15] = 2 } }, 16);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_a, 6);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	t.nic_a = test_handles[res.descriptor];
	memcpy(req.smac, mac_b, 6);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	t.nic_b = test_handles[res.descriptor];
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET | VPC_NIC_ADDR_INET6;
	memcpy(ad.addr4, ip_a, 4);
	memcpy(ad.addr6, ip6_a, 16);
	EXPECT_EQ(ctl(t.nic_a, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0), 0);
	memcpy(ad.addr4, ip_b, 4);
	memcpy(ad.addr6, ip6_b, 16);
	EXPECT_EQ(ctl(t.nic_b, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0), 0);
	/* B's address on A is refused: B's port owns it. */
	EXPECT_EQ(ctl(t.nic_a, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0),
	    VPC_EADDRINUSE);
	EXPECT_EQ(vpc_nbr_count(obj2sw(t.sw->obj)), 4);
	return (0);
}

/* ---- Cases ---------------------------------------------------------------------- */

static int
t_local_and_gateway(void)
{
	vpc_sw_gateway_t gw;

	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_GET_GATEWAY, NULL, 0, &gw, sizeof(gw)), 0);
	test_sent_reset();
	in_nic(t.nic_a, arp_req(mac_a, ip_a, ip_b));
	EXPECT_EQ(test_nsent, 1);
	if (check_arp_reply(&test_sent[0], t.nic_a, mac_b, ip_b) != 0)
		return (-1);
	EXPECT(memcmp(test_sent[0].data, mac_a, 6) == 0);
	test_sent_reset();
	in_nic(t.nic_a, arp_req(mac_a, ip_a, ip_gw));
	EXPECT_EQ(test_nsent, 1);
	if (check_arp_reply(&test_sent[0], t.nic_a, gw.mac, ip_gw) != 0)
		return (-1);
	EXPECT_EQ(swstat(VPC_SWSTAT_ARP_REPLIES), 2);
	EXPECT_EQ(swstat(VPC_SWSTAT_FLOODED), 0);
	/* Outside the subnet: not the switch's business, flooded as before. */
	test_sent_reset();
	in_nic(t.nic_a, arp_req(mac_a, ip_a, (uint8_t[]){ 192, 168, 0, 1 }));
	EXPECT_EQ(test_nsent, 1);
	EXPECT(test_sent[0].to == (const void *)t.nic_b->obj);
	EXPECT_EQ(swstat(VPC_SWSTAT_FLOODED), 1);
	return (0);
}

static int
t_bad_arp(void)
{
	uint8_t ip_bc[4] = { 10, 0, 0, 255 }, ip_net[4] = { 10, 0, 0, 0 },
	    lo[4] = { 127, 0, 0, 1 };
	uint64_t before[VPC_SWSTAT_COUNT];
	unsigned i;
	struct { struct vpc_pkt *p; unsigned ctr; } cases[] = {
		{ arp(mac_a, 6, 1, mac_a, ip_a, ip_b), VPC_SWSTAT_ARP_DROP_BAD },
		{ arp(mac_a, 1, 3, mac_a, ip_a, ip_b), VPC_SWSTAT_ARP_DROP_BAD },
		{ arp(mac_a, 1, 1, mac_b, ip_a, ip_b), VPC_SWSTAT_ARP_DROP_SPOOF },
		{ arp(mac_a, 1, 1, mac_a, ip_x, ip_b), VPC_SWSTAT_ARP_DROP_SPOOF },
		{ arp(mac_a, 1, 1, mac_a, ip_a, ip_a), VPC_SWSTAT_ARP_GRATUITOUS },
		{ arp(mac_a, 1, 2, mac_a, ip_a, ip_b), VPC_SWSTAT_ARP_DROP_REPLY },
		{ arp_req(mac_a, ip_a, ip_bc), VPC_SWSTAT_ARP_DROP_TARGET },
		{ arp_req(mac_a, ip_a, ip_net), VPC_SWSTAT_ARP_DROP_TARGET },
		{ arp_req(mac_a, (uint8_t[4]){ 0 }, ip_a), VPC_SWSTAT_ARP_PROBE_QUIET },
	};

	(void)lo;
	for (i = 0; i < nitems(cases); i++) {
		unsigned j;

		for (j = 0; j < VPC_SWSTAT_COUNT; j++)
			before[j] = swstat(j);
		test_sent_reset();
		in_nic(t.nic_a, cases[i].p);
		if (test_nsent != 0)
			FAIL("case %u answered", i);
		if (swstat(cases[i].ctr) != before[cases[i].ctr] + 1)
			FAIL("case %u: counter %u", i, cases[i].ctr);
		if (swstat(VPC_SWSTAT_UPCALLS) != before[VPC_SWSTAT_UPCALLS])
			FAIL("case %u raised an upcall", i);
	}
	/* A probe for another VM's address finds it taken. */
	test_sent_reset();
	in_nic(t.nic_a, arp_req(mac_a, (uint8_t[4]){ 0 }, ip_b));
	EXPECT_EQ(test_nsent, 1);
	return (0);
}

static int
t_miss(void)
{
	vpc_upcall_req_t r;
	vpc_upcall_ans_t a;
	vpc_cam_key_t ck;
	vpc_sw_cam_t cam;
	vpc_nbr_key_t nk;
	vpc_sw_nbr_t nb;
	int32_t res;

	EXPECT_EQ(vpc_upcall_attach(t.sys), 0);
	test_sent_reset();
	in_nic(t.nic_a, arp_req(mac_a, ip_a, ip_x));
	in_nic(t.nic_a, arp_req(mac_a, ip_a, ip_x));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(VPC_SWSTAT_L3_UPCALLS), 1);
	EXPECT_EQ(swstat(VPC_SWSTAT_L3_MISSES), 2);
	EXPECT_EQ(vpc_upcall_read(t.sys, &r, sizeof(r)), sizeof(r));
	EXPECT_EQ(r.kind, VPC_UPCALL_L3MISS);
	EXPECT_EQ(r.dst_af, VPC_AF_INET);
	EXPECT(memcmp(r.dst_ip, ip_x, 4) == 0);
	EXPECT(vpc_mac_is_zero(r.dstmac));
	EXPECT(memcmp(r.srcmac, mac_a, 6) == 0);
	/* An answer without the MAC, or an L2-style one, is refused. */
	memset(&a, 0, sizeof(a));
	a.req_id = r.req_id;
	a.generation = r.generation;
	a.status = VPC_UPCALL_FOUND;
	a.af = VPC_AF_INET;
	memcpy(a.addr, (uint8_t[]){ 192, 0, 2, 9 }, 4);
	a.ttl_ms = 600000;
	a.revision = 5;
	EXPECT_EQ(answer(&a, &res), 0);
	EXPECT_EQ(res, VPC_EINVAL);
	memcpy(a.mac, mac_x, 6);
	EXPECT_EQ(answer(&a, &res), 0);
	EXPECT_EQ(res, 0);
	/* Both held requests answered, from the table now filled. */
	EXPECT_EQ(test_nsent, 2);
	if (check_arp_reply(&test_sent[0], t.nic_a, mac_x, ip_x) != 0)
		return (-1);
	memset(&ck, 0, sizeof(ck));
	memcpy(ck.dstmac, mac_x, 6);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_CAM_GET, &ck, sizeof(ck), &cam, sizeof(cam)), 0);
	EXPECT_EQ(cam.kind, VPC_CAM_REMOTE);
	EXPECT_EQ(cam.revision, 5);
	memset(&nk, 0, sizeof(nk));
	nk.af = VPC_AF_INET;
	memcpy(nk.addr, ip_x, 4);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_GET, &nk, sizeof(nk), &nb, sizeof(nb)), 0);
	EXPECT_EQ(nb.kind, VPC_NBR_FOUND);
	EXPECT(memcmp(nb.mac, mac_x, 6) == 0);
	EXPECT_EQ(nb.flags, VPC_NBR_F_USED);
	/* The next one needs no upcall. */
	test_sent_reset();
	in_nic(t.nic_b, arp_req(mac_b, ip_b, ip_x));
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(swstat(VPC_SWSTAT_L3_UPCALLS), 1);

	/* Not found: no reply, counted, cached. */
	test_sent_reset();
	in_nic(t.nic_a, arp_req(mac_a, ip_a, ip_n));
	EXPECT_EQ(vpc_upcall_read(t.sys, &r, sizeof(r)), sizeof(r));
	memset(&a, 0, sizeof(a));
	a.req_id = r.req_id;
	a.generation = r.generation;
	a.status = VPC_UPCALL_NOT_FOUND;
	a.ttl_ms = 600000;
	EXPECT_EQ(answer(&a, &res), 0);
	EXPECT_EQ(res, 0);
	in_nic(t.nic_a, arp_req(mac_a, ip_a, ip_n));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(VPC_SWSTAT_L3_NEGATIVE), 1);
	EXPECT_EQ(swstat(VPC_SWSTAT_NBR_NEGATIVE), 1);
	EXPECT_EQ(swstat(VPC_SWSTAT_L3_UPCALLS), 2);
	return (0);
}

static int
t_move(void)
{
	vpc_sw_nbr_t n;
	vpc_cam_set_result_t res;

	/* ip_x was used: moving it to mac_y tells both local VMs. */
	memset(&n, 0, sizeof(n));
	n.af = VPC_AF_INET;
	n.kind = VPC_NBR_FOUND;
	memcpy(n.mac, mac_y, 6);
	memcpy(n.addr, ip_x, 4);
	n.revision = 4;                 /* older than the answer's 5: stale */
	test_sent_reset();
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_SET, &n, sizeof(n), &res, sizeof(res)), 0);
	EXPECT_EQ(res.applied, 0);
	EXPECT_EQ(res.stale, 1);
	EXPECT_EQ(test_nsent, 0);
	n.revision = 6;
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_SET, &n, sizeof(n), &res, sizeof(res)), 0);
	EXPECT_EQ(res.applied, 1);
	EXPECT_EQ(test_nsent, 2);
	EXPECT_EQ(swstat(VPC_SWSTAT_NBR_ANNOUNCED), 2);
	EXPECT(memcmp(test_sent[0].data, bcast, 6) == 0);
	EXPECT(memcmp(test_sent[0].data + 6, mac_y, 6) == 0);
	EXPECT(memcmp(test_sent[0].data + 28, ip_x, 4) == 0);
	EXPECT(memcmp(test_sent[0].data + 38, ip_x, 4) == 0);
	/* Set again with the same MAC: nothing to announce. */
	test_sent_reset();
	n.revision = 7;
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_SET, &n, sizeof(n), &res, sizeof(res)), 0);
	EXPECT_EQ(test_nsent, 0);
	return (0);
}

static int
t_nd(void)
{
	uint8_t slla[8] = { 1, 1 }, zero_opt[8] = { 1, 0 }, bad_slla[8] = { 1, 1 };
	uint8_t any[16] = { 0 };
	struct vpc_ipinfo ip;
	struct vpc_pkt *p;
	unsigned i;

	memcpy(slla + 2, mac_a, 6);
	memcpy(bad_slla + 2, mac_b, 6);
	test_sent_reset();
	in_nic(t.nic_a, ns(mac_a, ip6_a, ip6_b, slla, 8, 255, false));
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(swstat(VPC_SWSTAT_NA_REPLIES), 1);
	EXPECT(memcmp(test_sent[0].data, mac_a, 6) == 0);
	EXPECT(memcmp(test_sent[0].data + 6, mac_b, 6) == 0);
	p = host_pkt_new(test_sent[0].data, test_sent[0].len);
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), 0);
	EXPECT(vpc_l4_cksum_ok(p, &ip));
	os_pkt_free(p);
	EXPECT_EQ(test_sent[0].data[14 + 40], 136);
	EXPECT_EQ(test_sent[0].data[14 + 40 + 4], 0x60);       /* S, O */
	EXPECT(memcmp(test_sent[0].data + 14 + 40 + 8, ip6_b, 16) == 0);
	EXPECT(memcmp(test_sent[0].data + 14 + 40 + 26, mac_b, 6) == 0);
	EXPECT(memcmp(test_sent[0].data + 14 + 24, ip6_a, 16) == 0);
	/* Bad ones: counted, not answered. */
	{
		struct { struct vpc_pkt *p; unsigned ctr; } cases[] = {
			{ ns(mac_a, ip6_a, ip6_b, slla, 8, 64, false), VPC_SWSTAT_ND_DROP_BAD },
			{ ns(mac_a, ip6_a, ip6_b, slla, 8, 255, true), VPC_SWSTAT_ND_DROP_BAD },
			{ ns(mac_a, ip6_a, ip6_b, zero_opt, 8, 255, false), VPC_SWSTAT_ND_DROP_BAD },
			{ ns(mac_a, ip6_a, ip6_b, NULL, 0, 255, false), VPC_SWSTAT_ND_DROP_BAD },
			{ ns(mac_a, ip6_a, ip6_b, bad_slla, 8, 255, false), VPC_SWSTAT_ND_DROP_SPOOF },
			{ ns(mac_a, any, ip6_b, slla, 8, 255, false), VPC_SWSTAT_ND_DROP_BAD },
			{ ns(mac_a, any, ip6_a, NULL, 0, 255, false), VPC_SWSTAT_ND_DAD_QUIET },
		};

		for (i = 0; i < nitems(cases); i++) {
			uint64_t c = swstat(cases[i].ctr);

			test_sent_reset();
			in_nic(t.nic_a, cases[i].p);
			if (test_nsent != 0)
				FAIL("ND case %u answered", i);
			if (swstat(cases[i].ctr) != c + 1)
				FAIL("ND case %u: counter %u", i, cases[i].ctr);
		}
	}
	/* DAD for a taken address: an NA to all-nodes, S clear. */
	test_sent_reset();
	in_nic(t.nic_a, ns(mac_a, any, ip6_b, NULL, 0, 255, false));
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(test_sent[0].data[14 + 40 + 4], 0x20);
	EXPECT_EQ(test_sent[0].data[14 + 24], 0xff);
	/* A miss: an L3 upcall for the IPv6 address. */
	{
		vpc_upcall_req_t r;

		test_sent_reset();
		in_nic(t.nic_a, ns(mac_a, ip6_a, ip6_x, slla, 8, 255, false));
		EXPECT_EQ(test_nsent, 0);
		EXPECT_EQ(vpc_upcall_read(t.sys, &r, sizeof(r)), sizeof(r));
		EXPECT_EQ(r.kind, VPC_UPCALL_L3MISS);
		EXPECT_EQ(r.dst_af, VPC_AF_INET6);
		EXPECT(memcmp(r.dst_ip, ip6_x, 16) == 0);
	}
	vpc_upcall_detach(t.sys);
	return (0);
}

static int
t_ops(void)
{
	vpc_sw_nbr_t n[2], out[16];
	vpc_cam_set_result_t res;
	vpc_nbr_key_t k;
	vpc_list_req_t lr;
	vpc_cam_flush_t f = { VPC_VNI_ANY, 0 };
	uint64_t flushed;
	size_t vl;

	memset(n, 0, sizeof(n));
	n[0].af = VPC_AF_INET;
	n[0].kind = VPC_NBR_FOUND;
	memcpy(n[0].mac, mac_x, 6);
	memcpy(n[0].addr, (uint8_t[]){ 10, 0, 0, 77 }, 4);
	n[1] = n[0];
	/* Bad input: nothing applied. */
	memcpy(n[1].addr, (uint8_t[]){ 10, 0, 1, 77 }, 4);       /* outside */
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_SET, n, sizeof(n), &res, sizeof(res)), VPC_EINVAL);
	memcpy(n[1].addr, ip_a, 4);                             /* local */
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_SET, n, sizeof(n), &res, sizeof(res)), VPC_EBUSY);
	memset(&k, 0, sizeof(k));
	k.af = VPC_AF_INET;
	memcpy(k.addr, (uint8_t[]){ 10, 0, 0, 77 }, 4);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_GET, &k, sizeof(k), out, sizeof(out[0])), VPC_ENOENT);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_SET, n, sizeof(n[0]), &res, sizeof(res)), 0);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_GET, &k, sizeof(k), out, sizeof(out[0])), 0);
	memcpy(k.addr, ip_a, 4);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_DEL, &k, sizeof(k), NULL, 0), VPC_EBUSY);
	memset(&lr, 0, sizeof(lr));
	vl = sizeof(out);
	EXPECT_EQ(vpc_core_ctl(t.sys, &call, t.sw, VPC_OP_SW_NBR_DUMP, &lr, sizeof(lr), out, &vl), 0);
	EXPECT_EQ(vl, 7 * sizeof(vpc_sw_nbr_t));      /* 4 local, x, n, .77, x6? */
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_NBR_FLUSH, &f, sizeof(f), &flushed, sizeof(flushed)), 0);
	EXPECT_EQ(flushed, 3);
	EXPECT_EQ(vpc_nbr_count(obj2sw(t.sw->obj)), 4);
	return (0);
}

/* ---- What the responder parses ---------------------------------------------- */

/* An IPv4 datagram from a vmnic, its header checksum right. */
static struct vpc_pkt *
ip4(const uint8_t dmac[6], const uint8_t smac[6], uint8_t proto,
    const uint8_t src[4], const uint8_t dst[4], const uint8_t *l4, uint32_t l4len)
{
	uint8_t b[200], *ip = b + 14;

	memset(b, 0, sizeof(b));
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	vpc_put16(ip + 2, (uint16_t)(20 + l4len));
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	vpc_put16(ip + 10, (uint16_t)vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
	memcpy(ip + 20, l4, l4len);
	return (host_pkt_new(b, 14 + 20 + l4len));
}

/*
 * The responder parses the IP header only when a branch may act on it
 * (ip_wanted() in vpc_responder.c).  Each branch, with frames that reach it
 * only through its own clause: from a vmnic without an address, echo and
 * anything else to the gateway, and neighbour solicitations; from one with
 * an address, the source check.  DHCP from a vmnic without an address (or a
 * DHCP service): to the server port, and a server's reply from a VM.  And
 * what no branch wants (TCP between VMs, no address) is forwarded, not
 * taken.
 */
static int
t_lazy(void)
{
	uint8_t echo[16] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1, 'v', 'p', 'c' };
	uint8_t tcp[20] = { 0x30, 0x39, 0, 80, [12] = 0x50 };
	uint8_t udp[8] = { 0x30, 0x39, 0, 9, 0, 8 };
	uint8_t ll_c[16] = { 0xfe, 0x80, [15] = 0xc }, slla[8] = { 1, 1 };
	vpc_sw_gateway_t gw;
	vpc_swport_t req, res;
	uint64_t c;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_c, 6);
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	t.nic_c = test_handles[res.descriptor];
	EXPECT_EQ(ctl(t.sw, VPC_OP_SW_GET_GATEWAY, NULL, 0, &gw, sizeof(gw)), 0);
	vpc_put16(echo + 2, (uint16_t)vpc_cksum_finish(vpc_cksum_add(0, echo, sizeof(echo))));

	/* Echo to the gateway, from a vmnic without an address: answered. */
	c = swstat(VPC_SWSTAT_GW_TO_GATEWAY);
	test_sent_reset();
	in_nic(t.nic_c, ip4(gw.mac, mac_c, VPC_IPPROTO_ICMP, (uint8_t[]){ 10, 0, 0, 12 },
	    ip_gw, echo, sizeof(echo)));
	EXPECT_EQ(swstat(VPC_SWSTAT_GW_TO_GATEWAY), c + 1);
	EXPECT_EQ(test_nsent, 1);
	EXPECT(test_sent[0].to == (const void *)t.nic_c->obj);
	/* Anything else to the gateway: dropped and counted. */
	c = swstat(VPC_SWSTAT_GW_DROP);
	test_sent_reset();
	in_nic(t.nic_c, ip4(gw.mac, mac_c, VPC_IPPROTO_UDP, (uint8_t[]){ 10, 0, 0, 12 },
	    ip_gw, udp, sizeof(udp)));
	EXPECT_EQ(swstat(VPC_SWSTAT_GW_DROP), c + 1);
	EXPECT_EQ(test_nsent, 0);
	/* A neighbour solicitation, from a vmnic without an address: answered. */
	memcpy(slla + 2, mac_c, 6);
	c = swstat(VPC_SWSTAT_NA_REPLIES);
	test_sent_reset();
	in_nic(t.nic_c, ns(mac_c, ll_c, ip6_b, slla, 8, 255, false));
	EXPECT_EQ(swstat(VPC_SWSTAT_NA_REPLIES), c + 1);
	EXPECT_EQ(test_nsent, 1);
	EXPECT(test_sent[0].to == (const void *)t.nic_c->obj);
	/* DHCP, no address: taken by vpc_dhcp.c, whatever it makes of it. */
	c = swstat(VPC_SWSTAT_DHCP_NOT_SERVED);
	test_sent_reset();
	udp[0] = 0;
	udp[1] = 68;                    /* from the client port to the server's */
	udp[3] = 67;
	in_nic(t.nic_c, ip4(bcast, mac_c, VPC_IPPROTO_UDP, (uint8_t[]){ 0, 0, 0, 0 },
	    (uint8_t[]){ 255, 255, 255, 255 }, udp, sizeof(udp)));
	EXPECT_EQ(swstat(VPC_SWSTAT_DHCP_NOT_SERVED), c + 1);
	EXPECT_EQ(test_nsent, 0);
	c = swstat(VPC_SWSTAT_DHCP_SNOOPED);
	udp[1] = 67;                    /* a server's reply, from a VM */
	udp[3] = 68;
	in_nic(t.nic_c, ip4(bcast, mac_c, VPC_IPPROTO_UDP, (uint8_t[]){ 10, 0, 0, 12 },
	    (uint8_t[]){ 255, 255, 255, 255 }, udp, sizeof(udp)));
	EXPECT_EQ(swstat(VPC_SWSTAT_DHCP_SNOOPED), c + 1);
	EXPECT_EQ(test_nsent, 0);
	/* TCP to a VM, no address: nobody's business here, forwarded. */
	c = swstat(VPC_SWSTAT_DROP_IP_SPOOF);
	test_sent_reset();
	in_nic(t.nic_c, ip4(mac_b, mac_c, VPC_IPPROTO_TCP, (uint8_t[]){ 10, 0, 0, 99 },
	    ip_b, tcp, sizeof(tcp)));
	EXPECT_EQ(test_nsent, 1);
	EXPECT(test_sent[0].to == (const void *)t.nic_b->obj);
	EXPECT_EQ(swstat(VPC_SWSTAT_DROP_IP_SPOOF), c);
	/* The same from a vmnic with an address, from another one: a spoof. */
	test_sent_reset();
	in_nic(t.nic_a, ip4(mac_b, mac_a, VPC_IPPROTO_TCP, (uint8_t[]){ 10, 0, 0, 99 },
	    ip_b, tcp, sizeof(tcp)));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(VPC_SWSTAT_DROP_IP_SPOOF), c + 1);
	/* From its own: forwarded. */
	test_sent_reset();
	in_nic(t.nic_a, ip4(mac_b, mac_a, VPC_IPPROTO_TCP, ip_a, ip_b, tcp, sizeof(tcp)));
	EXPECT_EQ(test_nsent, 1);
	EXPECT(test_sent[0].to == (const void *)t.nic_b->obj);
	return (0);
}

/* ---- The table itself ----------------------------------------------------------- */

#define NTAB 3000                       /* per family: several resizes */

/* Entry i of family af in t_table's switch (10.1.0.0/16, 2001:db8:2::/64),
 * with the IPv6 address varying in every key word. */
static void
tab_addr(uint8_t af, uint32_t i, uint8_t a[16])
{
	memset(a, 0, 16);
	if (af == VPC_AF_INET) {
		memcpy(a, (uint8_t[]){ 10, 1, (uint8_t)((i + 1) >> 8), (uint8_t)(i + 1) }, 4);
		return;
	}
	memcpy(a, (uint8_t[]){ 0x20, 1, 0xd, 0xb8, 0, 2 }, 6);
	a[9] = (uint8_t)(i * 7);
	a[13] = (uint8_t)(i >> 4);
	a[14] = (uint8_t)((i + 1) >> 8);
	a[15] = (uint8_t)(i + 1);
}

static int
tab_set(struct vpc_hdl *h, uint8_t af, uint32_t from, uint32_t to, uint32_t ttl_ms)
{
	static vpc_sw_nbr_t batch[VPC_NBR_BATCH_MAX];
	vpc_cam_set_result_t res;
	uint32_t i, n = 0;

	for (i = from; i < to; i++) {
		vpc_sw_nbr_t *e = &batch[n++];

		memset(e, 0, sizeof(*e));
		e->af = af;
		e->kind = VPC_NBR_FOUND;
		e->ttl_ms = ttl_ms;
		memcpy(e->mac, (uint8_t[]){ 2, 1, 0, af, (uint8_t)(i >> 8), (uint8_t)i }, 6);
		tab_addr(af, i, e->addr);
		if (n == VPC_NBR_BATCH_MAX || i + 1 == to) {
			EXPECT_EQ(ctl(h, VPC_OP_SW_NBR_SET, batch, n * sizeof(batch[0]),
			    &res, sizeof(res)), 0);
			EXPECT_EQ(res.applied, n);
			n = 0;
		}
	}
	return (0);
}

/* How many of entries [from, to) of af the data path finds (with their MAC). */
static uint32_t
tab_found(struct vpc_switch *sw, uint8_t af, uint32_t from, uint32_t to)
{
	const struct vpc_nbr_ent *e;
	struct os_epoch et;
	uint8_t a[16];
	uint32_t i, n = 0;

	os_epoch_enter(&et);
	for (i = from; i < to; i++) {
		tab_addr(af, i, a);
		e = vpc_nbr_lookup(sw, af, a);
		n += e != NULL && e->kind == VPC_NBR_FOUND && e->af == af &&
		    e->mac[4] == (uint8_t)(i >> 8) && e->mac[5] == (uint8_t)i &&
		    memcmp(e->addr, a, af == VPC_AF_INET ? 4 : 16) == 0;
	}
	os_epoch_exit(&et);
	return (n);
}

/*
 * The neighbour table on the keyed table (vpc_ktab.h: tagged 64-byte
 * buckets, the keyed multiply hash over the key's words): thousands of IPv4
 * and IPv6 entries through several resizes, each found by its address and
 * nothing else found; a dump's cursor from before a resize is ESTALE; expiry
 * at lookup; the sweeper reclaims.  On a switch of its own.
 */
static int
t_table(void)
{
	vpc_sw_vni_t v = { .vni = 301 };
	vpc_sw_subnet_t sn;
	vpc_list_req_t lr;
	vpc_sw_nbr_t out[4];
	struct vpc_hdl *h;
	struct vpc_switch *sw;
	struct timespec ts = { 0, 5000000 };
	uint64_t cursor;
	size_t vl;
	int i;

	h = t.tab = open_new(VPC_TYPE_SWITCH, 9);   /* closed at the end: the
	                                         * invariants are checked first */
	EXPECT(h != NULL);
	sw = obj2sw(h->obj);
	EXPECT_EQ(ctl(h, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 16;
	memcpy(sn.addr, (uint8_t[]){ 10, 1 }, 2);
	EXPECT_EQ(ctl(h, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0), 0);
	sn.af = VPC_AF_INET6;
	sn.prefixlen = 64;
	memcpy(sn.addr, (uint8_t[]){ 0x20, 1, 0xd, 0xb8, 0, 2 }, 6);
	EXPECT_EQ(ctl(h, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0), 0);

	/* A dump's first page, then enough entries to resize the table. */
	if (tab_set(h, VPC_AF_INET, 0, 100, 0) != 0)
		return (-1);
	memset(&lr, 0, sizeof(lr));
	vl = sizeof(out);
	EXPECT_EQ(vpc_core_ctl(t.sys, &call, h, VPC_OP_SW_NBR_DUMP, &lr,
	    sizeof(lr), out, &vl), 0);
	EXPECT_EQ(vl, sizeof(out));
	cursor = out[3].cursor;
	if (tab_set(h, VPC_AF_INET, 100, NTAB, 0) != 0 ||
	    tab_set(h, VPC_AF_INET6, 0, NTAB, 0) != 0)
		return (-1);
	EXPECT_EQ(vpc_nbr_count(sw), 2 * NTAB);
	lr.marker = cursor;
	vl = sizeof(out);
	EXPECT_EQ(vpc_core_ctl(t.sys, &call, h, VPC_OP_SW_NBR_DUMP, &lr,
	    sizeof(lr), out, &vl), VPC_ESTALE);

	/* Every entry found by its address, in both families; none else. */
	EXPECT_EQ(tab_found(sw, VPC_AF_INET, 0, NTAB), NTAB);
	EXPECT_EQ(tab_found(sw, VPC_AF_INET6, 0, NTAB), NTAB);
	EXPECT_EQ(tab_found(sw, VPC_AF_INET, NTAB, 2 * NTAB), 0);
	EXPECT_EQ(tab_found(sw, VPC_AF_INET6, NTAB, 2 * NTAB), 0);

	/* Replaced by entries of 1 ms: gone at lookup once it passed (the
	 * table still holds them), then reclaimed by the sweeper. */
	if (tab_set(h, VPC_AF_INET6, 0, 1000, 1) != 0)
		return (-1);
	nanosleep(&ts, NULL);
	EXPECT_EQ(tab_found(sw, VPC_AF_INET6, 0, NTAB), NTAB - 1000);
	EXPECT_EQ(vpc_nbr_count(sw), 2 * NTAB);
	os_mtx_lock(sw->mtx);
	for (i = 0; i < 9; i++)         /* an eighth of the table per sweep */
		vpc_nbr_sweep(sw, os_now_ns());
	os_mtx_unlock(sw->mtx);
	EXPECT_EQ(vpc_nbr_count(sw), 2 * NTAB - 1000);
	EXPECT_EQ(tab_found(sw, VPC_AF_INET, 0, NTAB), NTAB);

	/* Removed (a flush): tombstones; found again once set again. */
	{
		vpc_cam_flush_t f = { VPC_VNI_ANY, 0 };
		uint64_t flushed;

		EXPECT_EQ(ctl(h, VPC_OP_SW_NBR_FLUSH, &f, sizeof(f), &flushed,
		    sizeof(flushed)), 0);
		EXPECT_EQ(flushed, 2 * NTAB - 1000);
	}
	EXPECT_EQ(tab_found(sw, VPC_AF_INET, 0, NTAB), 0);
	if (tab_set(h, VPC_AF_INET, 0, NTAB, 0) != 0)
		return (-1);
	EXPECT_EQ(tab_found(sw, VPC_AF_INET, 0, NTAB), NTAB);
	return (0);
}

int
test_l3(struct vpc_sys *sys, int *failed)
{
	static const struct test_case cases[] = {
		{ "setup", setup },
		{ "ARP for local VMs and the gateway", t_local_and_gateway },
		{ "bad ARP", t_bad_arp },
		{ "ARP miss, L3 upcall, answer", t_miss },
		{ "an address moves", t_move },
		{ "neighbour discovery", t_nd },
		{ "neighbour ops", t_ops },
		{ "what the responder parses, from vmnics with and without addresses", t_lazy },
		{ "the neighbour table through resizes, expiry, sweeps", t_table },
	};
	int passed;

	t.sys = sys;
	t.failed = failed;
	passed = run_cases(cases, nitems(cases));
	close_test_handles();
	if (t.sw != NULL)
		vpc_core_close(sys, t.sw);
	if (t.vcc != NULL)
		vpc_core_close(sys, t.vcc);
	if (t.tab != NULL)
		vpc_core_close(sys, t.tab);
	hloop_reclaim();
	return (passed);
}
