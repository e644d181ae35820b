/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * natfwd_bench: translated vs plain routed forwarding, in the core, no I/O
 * (bench/nat.ts prints it).  The same vmnic sends, in alternate batches:
 *  - routed: UDP to a VM of another subnet (route, neighbour, rewrite, TTL,
 *    CAM, VXLAN encapsulation);
 *  - SNAT: UDP of 1,000 established flows to an outside address (route to
 *    the NAT, TTL, the flow found, source address and port rewritten with
 *    their checksums, Ethernet to the upstream, out of the link);
 *  - EIP: the same frames from a VM with an EIP (stateless rewrite).
 * Each copies a prebuilt frame per packet; the link's and the vcc's
 * outputs only free it.  Output: one JSON object with the ratios.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_nat_impl.h"
#include "host_loop.h"
#include "host_pkt.h"
#include "bench_router_setup.h"
#include "test_handles.h"
#include "test_os.h"

#define NFLOWS 1000
#define FLEN   128

/* A vmnic of sw with this MAC and address. */
static struct vpc_hdl *
mk_vm(struct vpc_hdl *sw, const uint8_t mac[6], const uint8_t ip[4], uint32_t *desc)
{
	struct vpc_hdl *nic = bench_vmnic(sw, mac, desc);
	vpc_nic_addr_t ad;

	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, ip, 4);
	bench_must(bench_ctl(nic, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0), "addr");
	return (nic);
}

/* UDP from sip:sport to dip:53, checksums right. */
static void
frame(uint8_t *b, const uint8_t src[6], const uint8_t dst[6], const uint8_t sip[4],
    const uint8_t dip[4], uint16_t sport)
{
	uint8_t *ip = b + 14, ph[12];
	uint16_t ulen = FLEN - 14 - 20;

	memset(b, 0, FLEN);
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	vpc_put16(ip + 2, FLEN - 14);
	ip[8] = 64;
	ip[9] = VPC_IPPROTO_UDP;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
	vpc_put16(ip + 20, sport);
	vpc_put16(ip + 22, 53);
	vpc_put16(ip + 24, ulen);
	memcpy(ph, sip, 4);
	memcpy(ph + 4, dip, 4);
	ph[8] = 0;
	ph[9] = VPC_IPPROTO_UDP;
	vpc_put16(ph + 10, ulen);
	vpc_put16(ip + 26, vpc_cksum_finish(vpc_cksum_add(vpc_cksum_add(0, ph, 12),
	    ip + 20, ulen)));
}

/* One batch of NFLOWS frames (frames[i] for i < NFLOWS) from nic: CPU time. */
static double
batch(struct vpc_nic *n, uint8_t (*frames)[FLEN])
{
	struct os_epoch et;
	double t0 = bench_now();
	int i;

	os_epoch_enter(&et);
	for (i = 0; i < NFLOWS; i++)
		vpc_nic_input(n, host_pkt_new(frames[i], FLEN));
	os_epoch_exit(&et);
	hloop_reclaim();
	return (bench_now() - t0);
}

int
main(int argc, char **argv)
{
	static const uint8_t mac_a[6] = { 2, 0, 0, 0, 6, 0xa }, mac_b[6] = { 2, 0, 0, 0, 6, 0xb };
	static const uint8_t mac_y[6] = { 2, 0, 0, 0, 6, 0x43 }, up[6] = { 2, 0x99, 0, 0, 0, 1 };
	static const uint8_t ip_a[4] = { 10, 1, 0, 10 }, ip_b[4] = { 10, 1, 0, 11 };
	static const uint8_t ip_y[4] = { 10, 2, 0, 50 }, out[4] = { 198, 51, 100, 7 };
	static const uint8_t pool[4] = { 203, 0, 113, 20 }, eip[4] = { 203, 0, 113, 10 };
	static uint8_t rt_f[NFLOWS][FLEN], snat_f[NFLOWS][FLEN], eip_f[NFLOWS][FLEN];
	double secs = argc > 1 ? atof(argv[1]) : 1.0, trt = 0, tsn = 0, tei = 0;
	struct bench_net net;
	struct vpc_hdl *rtr, *nat, *link, *nic_a, *nic_b;
	vpc_sw_gateway_t gw;
	vpc_link_t lk;
	vpc_nat_config_t nc;
	vpc_nat_link_t nl;
	vpc_rtr_nat_t rn;
	vpc_rt_route_t r;
	vpc_nat_pool_t pl;
	vpc_nat_snat_t sb;
	vpc_nat_eip_t eb;
	uint32_t da, db;
	uint64_t count = 0, tx0;
	unsigned i;

	bench_net_init(&net, "natfwd_bench", 801);
	nic_a = mk_vm(net.sw1, mac_a, ip_a, &da);
	nic_b = mk_vm(net.sw1, mac_b, ip_b, &db);
	/* A remote VM of subnet 2 (CAM + neighbour): the routed baseline. */
	bench_remote(net.sw2, mac_y, ip_y);
	rtr = bench_open(VPC_TYPE_ROUTER, 4);
	bench_attach(rtr, net.sw1);
	bench_attach(rtr, net.sw2);
	/* The link, the NAT, the default route to it. */
	link = bench_open(VPC_TYPE_LINK, 5);
	memset(&lk, 0, sizeof(lk));
	memcpy(lk.ifname, "up0", 3);
	bench_must(bench_ctl(link, VPC_OP_LINK_SET, &lk, sizeof(lk), NULL, 0), "link");
	nat = bench_open(VPC_TYPE_NAT, 6);
	memset(&nc, 0, sizeof(nc));
	memcpy(nc.upstream_mac, up, 6);
	bench_must(bench_ctl(nat, VPC_OP_NAT_SET_CONFIG, &nc, sizeof(nc), NULL, 0), "config");
	memset(&nl, 0, sizeof(nl));
	nl.link_id = link->obj->id;
	bench_must(bench_ctl(nat, VPC_OP_NAT_SET_LINK, &nl, sizeof(nl), NULL, 0), "set link");
	memset(&rn, 0, sizeof(rn));
	rn.nat_id = nat->obj->id;
	bench_must(bench_ctl(rtr, VPC_OP_RTR_SET_NAT, &rn, sizeof(rn), NULL, 0), "set nat");
	memset(&r, 0, sizeof(r));
	r.af = VPC_AF_INET;
	r.target = VPC_RT_INTERNET;
	bench_must(bench_ctl(rtr, VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0), "route");
	memset(&pl, 0, sizeof(pl));
	memcpy(pl.ext, pool, 4);
	bench_must(bench_ctl(nat, VPC_OP_NAT_POOL_ADD, &pl, sizeof(pl), NULL, 0), "pool");
	memset(&sb, 0, sizeof(sb));
	memcpy(sb.priv, ip_a, 4);
	memcpy(sb.ext, pool, 4);
	bench_must(bench_ctl(nat, VPC_OP_NAT_SNAT_BIND, &sb, sizeof(sb), NULL, 0), "snat");
	memset(&eb, 0, sizeof(eb));
	memcpy(eb.priv, ip_b, 4);
	memcpy(eb.ext, eip, 4);
	bench_must(bench_ctl(nat, VPC_OP_NAT_EIP_BIND, &eb, sizeof(eb), NULL, 0), "eip");
	bench_must(bench_ctl(net.sw1, VPC_OP_SW_GET_GATEWAY, NULL, 0, &gw, sizeof(gw)), "gateway");
	for (i = 0; i < NFLOWS; i++) {
		frame(rt_f[i], mac_a, gw.mac, ip_a, ip_y, (uint16_t)(10000 + i));
		frame(snat_f[i], mac_a, gw.mac, ip_a, out, (uint16_t)(10000 + i));
		frame(eip_f[i], mac_b, gw.mac, ip_b, out, (uint16_t)(10000 + i));
	}
	/* The SNAT flows exist before anything is measured: established ones. */
	(void)batch(obj2nic(nic_a->obj), snat_f);
	if (vpc_nat_nflows(obj2natgw(nat->obj)->eng) != NFLOWS) {
		fprintf(stderr, "natfwd_bench: %u flows, want %u\n",
		    vpc_nat_nflows(obj2natgw(nat->obj)->eng), NFLOWS);
		return (1);
	}
	tx0 = os_counter_fetch(obj2natgw(nat->obj)->ctr[VPC_NATSTAT_TX]);
	do {
		trt += batch(obj2nic(nic_a->obj), rt_f);
		tsn += batch(obj2nic(nic_a->obj), snat_f);
		tei += batch(obj2nic(nic_b->obj), eip_f);
		count += NFLOWS;
	} while (trt < secs);
	if (os_counter_fetch(obj2natgw(nat->obj)->ctr[VPC_NATSTAT_TX]) - tx0 != 2 * count) {
		fprintf(stderr, "natfwd_bench: not every translated frame went out\n");
		return (1);
	}
	printf("{\"routed_mpps\": %.3f, \"snat_mpps\": %.3f, \"eip_mpps\": %.3f,"
	    " \"snat_ratio\": %.3f, \"eip_ratio\": %.3f, \"flows\": %u}\n",
	    (double)count / trt / 1e6, (double)count / tsn / 1e6, (double)count / tei / 1e6,
	    trt / tsn, trt / tei, NFLOWS);
	vpc_core_close(bench_sys, nic_a);
	vpc_core_close(bench_sys, nic_b);
	test_handles[da] = test_handles[db] = NULL;
	for (struct vpc_hdl **h = (struct vpc_hdl *[]){ rtr, nat, link, NULL }; *h != NULL; h++)
		vpc_core_close(bench_sys, *h);
	bench_net_fini(&net);
	return (0);
}
