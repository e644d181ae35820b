/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fw_bench: the port firewall in the core, no I/O (outputs only freed):
 * established-flow frames through a 100-rule ingress set against the same
 * frames with no firewall (ratio), new flows a second through 10, 100 and
 * 480 rules (the last rule allows), and the size of a flow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpc_impl.h"
#include "host_loop.h"
#include "host_os.h"
#include "host_pkt.h"
#include "test_handles.h"
#include "test_os.h"

static struct vpc_sys *sys;
static const struct vpc_call call = { NULL, true };
static struct vpc_hdl *sw, *na, *nb;
static vpc_id_t port_b;
static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0xa }, mac_b[6] = { 2, 0, 0, 0, 0, 0xb };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
ctl(struct vpc_hdl *h, vpc_op_t op, const void *k, size_t kl, void *v, size_t vl)
{
	return (vpc_core_ctl(sys, &call, h, op, k, kl, v, &vl));
}

static void
udp_frame(uint8_t *b, uint16_t sport)
{
	uint8_t *ip = b + 14;

	memset(b, 0, 64);
	memcpy(b, mac_b, 6);
	memcpy(b + 6, mac_a, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	vpc_put16(ip + 2, 28);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){ 10, 9, 0, 10 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 9, 0, 11 }, 4);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
	vpc_put16(ip + 20, sport);
	vpc_put16(ip + 22, 53);
	vpc_put16(ip + 24, 8);
}

static double
run_frames(int n, uint16_t sport0, int distinct)
{
	uint8_t b[64];
	struct os_epoch et;
	double t0 = now_s();
	int i;

	for (i = 0; i < n; i++) {
		udp_frame(b, (uint16_t)(sport0 + (distinct ? i : 0)));
		os_epoch_enter(&et);
		vpc_nic_input(obj2nic(na->obj), host_pkt_new(b, 64));
		os_epoch_exit(&et);
		if ((i & 1023) == 0)
			hloop_reclaim();
	}
	return ((now_s() - t0) / n * 1e9);
}

static void
rules(uint32_t set, uint32_t n)
{
	static vpc_fw_rule_t r[VPC_FW_RULES_MAX];
	uint32_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		r[i].set_id = set;
		r[i].dir = VPC_FW_DIR_IN;
		r[i].action = VPC_FW_ALLOW;
		r[i].proto = VPC_FW_PROTO_TCP;         /* never matches UDP... */
		r[i].priority = i;
		r[i].nports = 1;
		r[i].port_lo[0] = r[i].port_hi[0] = (uint32_t)(1000 + i);
	}
	r[n - 1].proto = VPC_FW_PROTO_UDP;      /* ...but the last one */
	r[n - 1].port_lo[0] = r[n - 1].port_hi[0] = 53;
	if (ctl(NULL, VPC_OP_FW_SET_RULES, r, n * sizeof(r[0]), NULL, 0) != 0)
		abort();
}

static void
attach(uint32_t in)
{
	vpc_sw_port_fw_t a;

	memset(&a, 0, sizeof(a));
	a.port_id = port_b;
	a.flags = in ? VPC_FLAG_SWP_FW_INGRESS : 0;
	a.ingress = in;
	if (ctl(sw, VPC_OP_SW_PORT_SET_FW, &a, sizeof(a), NULL, 0) != 0)
		abort();
}

int
main(void)
{
	vpc_id_t id;
	vpc_sw_vni_t v = { .vni = 77 };
	vpc_swport_t req, res;
	vpc_fw_config_t c;
	vpc_fw_set_t s;
	double base, fw, nf;
	uint32_t sizes[] = { 10, 100, 480 }, k;
	int round;

	hloop_init();
	test_record = false;
	if (vpc_sys_create(&sys) != 0)
		return (1);
	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xbe;
	if (vpc_core_open(sys, &call, &id, VPC_TYPE_WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE, &sw) != 0)
		return (1);
	ctl(sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_a, 6);
	ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	na = test_handles[res.descriptor];
	memcpy(req.smac, mac_b, 6);
	ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	nb = test_handles[res.descriptor];
	port_b = res.port_id;
	memset(&c, 0, sizeof(c));
	c.max_flows = c.max_flows_port = 4u << 20;
	ctl(NULL, VPC_OP_FW_SET_CONFIG, &c, sizeof(c), NULL, 0);
	memset(&s, 0, sizeof(s));
	for (k = 0; k < 3; k++) {
		s.id = 100 + k;
		ctl(NULL, VPC_OP_FW_SET_CREATE, &s, sizeof(s), NULL, 0);
		rules(s.id, sizes[k]);
	}
	printf("flow: %zu bytes an entry (limit 128), plus its share of the buckets\n", vpc_fw_flow_size);
	for (round = 0; round < 3; round++) {
		attach(0);
		base = run_frames(200000, 5000, 0);
		attach(101);
		(void)run_frames(1, 5000, 0);                   /* the flow */
		fw = run_frames(200000, 5000, 0);
		printf("established flow, 100-rule set: %.1f ns/frame vs %.1f without: ratio %.2f (no firewall / firewall)\n",
		    fw, base, base / fw);
	}
	for (k = 0; k < 3; k++) {
		attach(0);
		attach(100 + k);
		nf = run_frames(100000, 10000, 1);
		printf("new flows through %u rules (the last allows): %.0f flows/s (%.1f ns each)\n",
		    sizes[k], 1e9 / nf, nf);
	}
	attach(0);
	vpc_core_close(sys, sw);
	return (0);
}
