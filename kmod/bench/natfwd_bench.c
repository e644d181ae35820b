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
#include <time.h>

#include "vpc_nat_impl.h"
#include "host_loop.h"
#include "host_pkt.h"
#include "test_handles.h"
#include "test_os.h"

#define NFLOWS 1000
#define FLEN   128

static struct vpc_sys *sys;
static const struct vpc_call call = { NULL, true };

/* The thread's CPU time (see rtr_bench.c: wall time counts the others). */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
must(int e, const char *what)
{
	if (e != 0) {
		fprintf(stderr, "natfwd_bench: %s: %d\n", what, e);
		exit(1);
	}
}

static int
ctl(struct vpc_hdl *h, vpc_op_t op, const void *k, size_t kl, void *v, size_t vl)
{
	return (vpc_core_ctl(sys, &call, h, op, k, kl, v, &vl));
}

static struct vpc_hdl *
mk(unsigned type, uint8_t n)
{
	vpc_id_t id;
	struct vpc_hdl *h = NULL;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xbf;
	id.bytes[15] = n;
	must(vpc_core_open(sys, &call, &id, VPC_TYPE_WORD(type), VPC_FLAG_CREATE, &h), "open");
	return (h);
}

static void
mk_switch(struct vpc_hdl *sw, struct vpc_hdl *vcc, uint32_t vni, uint8_t net)
{
	vpc_sw_vni_t v = { .vni = vni };
	vpc_sw_subnet_t sn;
	vpc_swport_t req, res;

	must(ctl(sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), "vni");
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	sn.addr[0] = 10;
	sn.addr[1] = net;
	must(ctl(sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0), "subnet");
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id = vcc->obj->id;
	must(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), "uplink");
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	must(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), "router port");
}

static struct vpc_hdl *
mk_vm(struct vpc_hdl *sw, const uint8_t mac[6], const uint8_t ip[4], uint32_t *desc)
{
	vpc_swport_t req, res;
	vpc_nic_addr_t ad;
	struct vpc_hdl *nic;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac, 6);
	must(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), "vmnic");
	nic = test_handles[res.descriptor];
	*desc = (uint32_t)res.descriptor;
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, ip, 4);
	must(ctl(nic, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0), "addr");
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
	double t0 = now();
	int i;

	os_epoch_enter(&et);
	for (i = 0; i < NFLOWS; i++)
		vpc_nic_input(n, host_pkt_new(frames[i], FLEN));
	os_epoch_exit(&et);
	hloop_reclaim();
	return (now() - t0);
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
	struct vpc_hdl *vcc, *sw1, *sw2, *rtr, *nat, *link, *nic_a, *nic_b;
	vpc_sw_gateway_t gw;
	vpc_rtr_attach_t at;
	vpc_vcc_t vc;
	vpc_link_t lk;
	vpc_nat_config_t nc;
	vpc_nat_link_t nl;
	vpc_rtr_nat_t rn;
	vpc_rt_route_t r;
	vpc_nat_pool_t pl;
	vpc_nat_snat_t sb;
	vpc_nat_eip_t eb;
	vpc_sw_nbr_t nb;
	vpc_sw_cam_t cam;
	vpc_cam_set_result_t res;
	uint32_t da, db;
	uint64_t count = 0, tx0;
	unsigned i;

	hloop_init();
	test_record = false;
	must(vpc_sys_create(&sys), "sys");
	vcc = mk(VPC_TYPE_VCC, 1);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	vc.addr4[0] = 192;
	vc.addr4[3] = 1;
	vc.mtu = 9000;
	must(ctl(vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0), "vcc");
	sw1 = mk(VPC_TYPE_SWITCH, 2);
	sw2 = mk(VPC_TYPE_SWITCH, 3);
	mk_switch(sw1, vcc, 801, 1);
	mk_switch(sw2, vcc, 802, 2);
	nic_a = mk_vm(sw1, mac_a, ip_a, &da);
	nic_b = mk_vm(sw1, mac_b, ip_b, &db);
	/* A remote VM of subnet 2 (CAM + neighbour): the routed baseline. */
	memset(&cam, 0, sizeof(cam));
	memcpy(cam.dstmac, mac_y, 6);
	cam.kind = VPC_CAM_REMOTE;
	cam.af = VPC_AF_INET;
	cam.addr[0] = 192;
	cam.addr[3] = 9;
	must(ctl(sw2, VPC_OP_SW_CAM_SET, &cam, sizeof(cam), &res, sizeof(res)), "cam");
	memset(&nb, 0, sizeof(nb));
	nb.af = VPC_AF_INET;
	nb.kind = VPC_NBR_FOUND;
	memcpy(nb.mac, mac_y, 6);
	memcpy(nb.addr, ip_y, 4);
	must(ctl(sw2, VPC_OP_SW_NBR_SET, &nb, sizeof(nb), &res, sizeof(res)), "nbr");
	rtr = mk(VPC_TYPE_ROUTER, 4);
	memset(&at, 0, sizeof(at));
	at.switch_id = sw1->obj->id;
	must(ctl(rtr, VPC_OP_RTR_ATTACH, &at, sizeof(at), NULL, 0), "attach");
	at.switch_id = sw2->obj->id;
	must(ctl(rtr, VPC_OP_RTR_ATTACH, &at, sizeof(at), NULL, 0), "attach");
	/* The link, the NAT, the default route to it. */
	link = mk(VPC_TYPE_LINK, 5);
	memset(&lk, 0, sizeof(lk));
	memcpy(lk.ifname, "up0", 3);
	must(ctl(link, VPC_OP_LINK_SET, &lk, sizeof(lk), NULL, 0), "link");
	nat = mk(VPC_TYPE_NAT, 6);
	memset(&nc, 0, sizeof(nc));
	memcpy(nc.upstream_mac, up, 6);
	must(ctl(nat, VPC_OP_NAT_SET_CONFIG, &nc, sizeof(nc), NULL, 0), "config");
	memset(&nl, 0, sizeof(nl));
	nl.link_id = link->obj->id;
	must(ctl(nat, VPC_OP_NAT_SET_LINK, &nl, sizeof(nl), NULL, 0), "set link");
	memset(&rn, 0, sizeof(rn));
	rn.nat_id = nat->obj->id;
	must(ctl(rtr, VPC_OP_RTR_SET_NAT, &rn, sizeof(rn), NULL, 0), "set nat");
	memset(&r, 0, sizeof(r));
	r.af = VPC_AF_INET;
	r.target = VPC_RT_INTERNET;
	must(ctl(rtr, VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0), "route");
	memset(&pl, 0, sizeof(pl));
	memcpy(pl.ext, pool, 4);
	must(ctl(nat, VPC_OP_NAT_POOL_ADD, &pl, sizeof(pl), NULL, 0), "pool");
	memset(&sb, 0, sizeof(sb));
	memcpy(sb.priv, ip_a, 4);
	memcpy(sb.ext, pool, 4);
	must(ctl(nat, VPC_OP_NAT_SNAT_BIND, &sb, sizeof(sb), NULL, 0), "snat");
	memset(&eb, 0, sizeof(eb));
	memcpy(eb.priv, ip_b, 4);
	memcpy(eb.ext, eip, 4);
	must(ctl(nat, VPC_OP_NAT_EIP_BIND, &eb, sizeof(eb), NULL, 0), "eip");
	must(ctl(sw1, VPC_OP_SW_GET_GATEWAY, NULL, 0, &gw, sizeof(gw)), "gateway");
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
	vpc_core_close(sys, nic_a);
	vpc_core_close(sys, nic_b);
	test_handles[da] = test_handles[db] = NULL;
	for (struct vpc_hdl **h = (struct vpc_hdl *[]){ rtr, nat, link, sw1, sw2, vcc, NULL }; *h != NULL; h++)
		vpc_core_close(sys, *h);
	vpc_sys_teardown(sys);
	hloop_reclaim();
	vpc_sys_destroy(sys);
	return (0);
}
