/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_router_setup: see bench_router_setup.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_router_setup.h"
#include "host_loop.h"
#include "test_handles.h"
#include "test_os.h"

struct vpc_sys *bench_sys;
const struct vpc_call bench_call = { NULL, true };
static const char *bench_prog = "bench";

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

void
bench_must(int e, const char *what)
{
	if (e != 0) {
		fprintf(stderr, "%s: %s: %d\n", bench_prog, what, e);
		exit(1);
	}
}

int
bench_ctl(struct vpc_hdl *h, vpc_op_t op, const void *k, size_t kl, void *v, size_t vl)
{
	return (vpc_core_ctl(bench_sys, &bench_call, h, op, k, kl, v, &vl));
}

struct vpc_hdl *
bench_open(unsigned type, uint8_t n)
{
	vpc_id_t id;
	struct vpc_hdl *h = NULL;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xbe;
	id.bytes[15] = n;
	bench_must(vpc_core_open(bench_sys, &bench_call, &id, VPC_TYPE_WORD(type),
	    VPC_FLAG_CREATE, &h), "open");
	return (h);
}

static void
bench_switch(struct vpc_hdl *sw, struct vpc_hdl *vcc, uint32_t vni, uint8_t net)
{
	vpc_sw_vni_t v = { .vni = vni };
	vpc_sw_subnet_t sn;
	vpc_swport_t req, res;

	bench_must(bench_ctl(sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), "vni");
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	sn.addr[0] = 10;
	sn.addr[1] = net;
	bench_must(bench_ctl(sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0), "subnet");
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id = vcc->obj->id;
	bench_must(bench_ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    "uplink");
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	bench_must(bench_ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    "router port");
}

void
bench_net_init(struct bench_net *net, const char *prog, uint32_t vni)
{
	vpc_vcc_t vc;

	bench_prog = prog;
	hloop_init();
	/* Nothing the core sends is kept: the benches count, not check. */
	test_record = false;
	bench_must(vpc_sys_create(&bench_sys), "sys");
	net->vcc = bench_open(VPC_TYPE_VCC, 1);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	vc.addr4[0] = 192;
	vc.addr4[3] = 1;
	vc.mtu = 9000;
	bench_must(bench_ctl(net->vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0), "vcc");
	net->sw1 = bench_open(VPC_TYPE_SWITCH, 2);
	net->sw2 = bench_open(VPC_TYPE_SWITCH, 3);
	bench_switch(net->sw1, net->vcc, vni, 1);
	bench_switch(net->sw2, net->vcc, vni + 1, 2);
}

struct vpc_hdl *
bench_vmnic(struct vpc_hdl *sw, const uint8_t mac[6], uint32_t *desc)
{
	vpc_swport_t req, res;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac, 6);
	bench_must(bench_ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    "vmnic");
	*desc = (uint32_t)res.descriptor;
	return (test_handles[res.descriptor]);
}

void
bench_remote(struct vpc_hdl *sw, const uint8_t mac[6], const uint8_t ip[4])
{
	vpc_sw_cam_t c;
	vpc_sw_nbr_t n;
	vpc_cam_set_result_t r;

	memset(&c, 0, sizeof(c));
	memcpy(c.dstmac, mac, 6);
	c.kind = VPC_CAM_REMOTE;
	c.af = VPC_AF_INET;
	c.addr[0] = 192;
	c.addr[3] = 9;
	bench_must(bench_ctl(sw, VPC_OP_SW_CAM_SET, &c, sizeof(c), &r, sizeof(r)), "cam");
	memset(&n, 0, sizeof(n));
	n.af = VPC_AF_INET;
	n.kind = VPC_NBR_FOUND;
	memcpy(n.mac, mac, 6);
	memcpy(n.addr, ip, 4);
	bench_must(bench_ctl(sw, VPC_OP_SW_NBR_SET, &n, sizeof(n), &r, sizeof(r)), "nbr");
}

void
bench_attach(struct vpc_hdl *rtr, struct vpc_hdl *sw)
{
	vpc_rtr_attach_t at;

	memset(&at, 0, sizeof(at));
	at.switch_id = sw->obj->id;
	bench_must(bench_ctl(rtr, VPC_OP_RTR_ATTACH, &at, sizeof(at), NULL, 0), "attach");
}

void
bench_net_fini(struct bench_net *net)
{
	vpc_core_close(bench_sys, net->sw1);
	vpc_core_close(bench_sys, net->sw2);
	vpc_core_close(bench_sys, net->vcc);
	vpc_sys_teardown(bench_sys);
	hloop_reclaim();
	vpc_sys_destroy(bench_sys);
}
