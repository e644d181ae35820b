/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_common.c: see fuzz_common.h.  Any broken invariant or leaked byte is
 * turned into an abort(), which libFuzzer reports as a crash with the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_impl.h"
#include "host_loop.h"
#include "test_handles.h"
#include "test_os.h"
#include "fuzz_common.h"

const struct vpc_call fuzz_call = { NULL, true };
static uint64_t allocs_at_start;
static bool started;

void
fuzz_check(struct vpc_sys *sys)
{
	char why[160];

	if (vpc_sys_check(sys, why, sizeof(why)) != 0) {
		fprintf(stderr, "invariant violated: %s\n", why);
		abort();
	}
}

static struct vpc_hdl *
make(struct fuzz_graph *g, unsigned type, uint8_t n)
{
	vpc_id_t id;
	struct vpc_hdl *h = NULL;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xf0;
	id.bytes[15] = n;
	if (vpc_core_open(g->sys, &fuzz_call, &id, VPC_TYPE_WORD(type),
	    VPC_FLAG_CREATE, &h) != 0)
		abort();
	g->h[g->nh++] = h;
	return (h);
}

static void
ctl(struct fuzz_graph *g, struct vpc_hdl *h, vpc_op_t op, const void *k,
    size_t kl, void *v, size_t vl)
{
	if (vpc_core_ctl(g->sys, &fuzz_call, h, op, k, kl, v, &vl) != 0)
		abort();        /* the graph is built from valid calls only */
	(void)g;
}

static struct vpc_nic *
nic_of(struct vpc_hdl *h)
{
	return (obj2nic(h->obj));
}

static void
add_vmnic(struct fuzz_graph *g, struct vpc_hdl *sw, uint8_t last,
    struct vpc_nic **out)
{
	vpc_swport_t req, res;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	req.smac[0] = 0x02;
	req.smac[5] = last;
	ctl(g, sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	g->h[g->nh++] = test_handles[res.descriptor];
	test_handles[res.descriptor] = NULL;
	*out = nic_of(g->h[g->nh - 1]);
}

/* The first vmnic's L3: 10.0.0.10 and fd00::10, DHCP with every option
 * (frames from it reach vpc_dhcp.c's parser and builder). */
static void
l3_vmnic(struct fuzz_graph *g, struct vpc_hdl *h)
{
	vpc_nic_addr_t a;
	vpc_nic_dhcp_t d;

	memset(&a, 0, sizeof(a));
	a.flags = VPC_NIC_ADDR_INET | VPC_NIC_ADDR_INET6;
	memcpy(a.addr4, (uint8_t[]){ 10, 0, 0, 10 }, 4);
	a.addr6[0] = 0xfd;
	a.addr6[15] = 0x10;
	ctl(g, h, VPC_OP_NIC_SET_ADDR, &a, sizeof(a), NULL, 0);
	memset(&d, 0, sizeof(d));
	d.flags = VPC_DHCP_ENABLE;
	d.lease_s = 3600;
	d.ndns = 2;
	memcpy(d.dns, (uint8_t[]){ 10, 0, 0, 53, 192, 0, 2, 53 }, 8);
	d.nroutes = 2;
	memcpy(d.route_dst, (uint8_t[]){ 198, 51, 100, 0, 192, 0, 2, 128 }, 8);
	memcpy(d.route_gw, (uint8_t[]){ 10, 0, 0, 254, 10, 0, 0, 253 }, 8);
	d.route_plen[0] = 24;
	d.route_plen[1] = 25;
	memcpy(d.domain, "example.internal", 17);
	memcpy(d.hostname, "vm-a", 5);
	ctl(g, h, VPC_OP_NIC_SET_DHCP, &d, sizeof(d), NULL, 0);
}

void
fuzz_graph_build(struct fuzz_graph *g)
{
	struct vpc_hdl *sw, *sw0, *vcc, *nr;
	vpc_sw_vni_t v = { .vni = 100 };
	vpc_sw_subnet_t sub;
	vpc_vcc_t vc;
	vpc_swport_t req, res;
	vpc_vmnic_t m;
	vpc_sw_cam_t cam[2];
	vpc_cam_set_result_t cr;

	if (!started) {
		hloop_init();
		test_record = false;
		allocs_at_start = vpc_mem_allocs();
		started = true;
	}
	memset(g, 0, sizeof(*g));
	if (vpc_sys_create(&g->sys) != 0)
		abort();
	sw = make(g, VPC_TYPE_SWITCH, 1);
	vcc = make(g, VPC_TYPE_VCC, 2);
	g->vcc = obj2vcc(vcc->obj);
	ctl(g, sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0);
	memset(&sub, 0, sizeof(sub));
	sub.af = VPC_AF_INET;
	sub.prefixlen = 24;
	sub.addr[0] = 10;
	ctl(g, sw, VPC_OP_SW_SET_SUBNET, &sub, sizeof(sub), NULL, 0);
	memset(&sub, 0, sizeof(sub));
	sub.af = VPC_AF_INET6;
	sub.prefixlen = 64;
	sub.addr[0] = 0xfd;
	ctl(g, sw, VPC_OP_SW_SET_SUBNET, &sub, sizeof(sub), NULL, 0);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	vc.addr4[0] = 198;
	vc.addr4[3] = 1;
	memcpy(vc.l2_ifname, "eth9", 5);
	ctl(g, vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id = vcc->obj->id;
	ctl(g, sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	add_vmnic(g, sw, 0x0a, &g->nic_a);
	l3_vmnic(g, g->h[g->nh - 1]);
	add_vmnic(g, sw, 0x0b, &g->nic_b);
	/* L3: an IPv6 subnet too, vmnic B's addresses (a local neighbour),
	 * and a learned neighbour of each family, so ARP and ND have answers. */
	memset(&sub, 0, sizeof(sub));
	sub.af = VPC_AF_INET6;
	sub.prefixlen = 64;
	memcpy(sub.addr, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
	ctl(g, sw, VPC_OP_SW_SET_SUBNET, &sub, sizeof(sub), NULL, 0);
	{
		vpc_nic_addr_t ad;
		vpc_sw_nbr_t nb[2];
		vpc_cam_set_result_t nr_res;

		memset(&ad, 0, sizeof(ad));
		ad.flags = VPC_NIC_ADDR_INET | VPC_NIC_ADDR_INET6;
		memcpy(ad.addr4, (uint8_t[]){ 10, 0, 0, 11 }, 4);
		memcpy(ad.addr6, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 0x0b }, 16);
		ctl(g, g->h[g->nh - 1], VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, 0);
		memset(nb, 0, sizeof(nb));
		nb[0].af = VPC_AF_INET;
		nb[0].kind = VPC_NBR_FOUND;
		memcpy(nb[0].mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x42 }, 6);
		memcpy(nb[0].addr, (uint8_t[]){ 10, 0, 0, 7 }, 4);
		nb[1] = nb[0];
		nb[1].af = VPC_AF_INET6;
		memcpy(nb[1].addr, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 7 }, 16);
		ctl(g, sw, VPC_OP_SW_NBR_SET, nb, sizeof(nb), &nr_res, sizeof(nr_res));
	}
	nr = make(g, VPC_TYPE_NIC, 3);
	memset(&m, 0, sizeof(m));
	m.mac[0] = 0x02;
	m.mac[5] = 0x01;
	ctl(g, nr, VPC_OP_NIC_SET_MAC, &m, sizeof(m), NULL, 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	req.peer_id = nr->obj->id;
	ctl(g, sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	g->nic_r = nic_of(nr);
	memset(cam, 0, sizeof(cam));
	cam[0].dstmac[0] = 0x02;
	cam[0].dstmac[5] = 0x42;
	cam[0].kind = VPC_CAM_REMOTE;
	cam[0].af = VPC_AF_INET;
	memcpy(cam[0].addr, (uint8_t[]){ 198, 0, 0, 7 }, 4);
	cam[1].dstmac[0] = 0x02;
	cam[1].dstmac[5] = 0x43;
	cam[1].kind = VPC_CAM_NEGATIVE;
	cam[1].ttl_ms = 60000;
	ctl(g, sw, VPC_OP_SW_CAM_SET, cam, sizeof(cam), &cr, sizeof(cr));

	sw0 = make(g, VPC_TYPE_SWITCH, 4);
	v.vni = 0;
	ctl(g, sw0, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_VLAN_ID;
	req.vlan_id = 7;
	req.peer_id = vcc->obj->id;
	ctl(g, sw0, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	{
		struct vpc_nic *n0;

		add_vmnic(g, sw0, 0x0c, &n0);
	}
	fuzz_check(g->sys);
}

void
fuzz_graph_destroy(struct fuzz_graph *g)
{
	int i;

	for (i = 0; i < g->nh; i++)
		if (g->h[i] != NULL)
			vpc_core_close(g->sys, g->h[i]);
	for (i = 0; i < TEST_MAX_HANDLES; i++) {
		if (test_handles[i] != NULL) {
			vpc_core_close(g->sys, test_handles[i]);
			test_handles[i] = NULL;
		}
	}
	fuzz_check(g->sys);
	vpc_upcall_detach(g->sys);
	vpc_sys_teardown(g->sys);
	hloop_reclaim();
	if (vpc_sys_destroy(g->sys) != 0)
		abort();
	hloop_reclaim();
	if (vpc_mem_allocs() != allocs_at_start) {
		fprintf(stderr, "leak: %llu allocations outstanding\n",
		    (unsigned long long)(vpc_mem_allocs() - allocs_at_start));
		abort();
	}
}
