/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtr_bench: the router, in the core, no I/O (bench/router.ts prints it).
 *
 *  - routed vs switched forwarding of the same frames: a vmnic's frame to a
 *    remote MAC of its own switch (CAM lookup + VXLAN encapsulation), and
 *    to an address of another subnet through the gateway (route lookup,
 *    neighbour lookup, MAC rewrite, TTL and checksum, then the same CAM
 *    lookup and encapsulation); both copy a prebuilt frame per packet;
 *  - routed frames to two destinations in turn ("alt"): each misses the
 *    router's memo of the vmnic's last destination (vpc_router_fwd.c), its
 *    worst case (every lookup done again, the memo rewritten now and then);
 *  - route lookup at 10, 1,000 and 100,000 routes, IPv4 and IPv6 (custom
 *    drop routes of random prefixes, lengths 8-28 / 16-64; random addresses);
 *  - memory per route and per attachment (the core's own accounting), and
 *    the time to replace the table with 100,000 routes (the table and its
 *    lookup trie are built on the writer's side, once per change).
 * Output: one JSON object.  "rtr_bench SECS routed" forwards routed frames
 * only (to profile them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpc_impl.h"
#include "host_loop.h"
#include "host_pkt.h"
#include "test_handles.h"
#include "test_os.h"

static struct vpc_sys *sys;
static const struct vpc_call call = { NULL, true };
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng);
}

/*
 * The thread's CPU time: everything measured runs in this one thread, and
 * on a shared machine wall time also counts the time others had the CPU,
 * which moved the ratios by 0.2 from run to run.
 */
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
		fprintf(stderr, "rtr_bench: %s: %d\n", what, e);
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
	id.bytes[0] = 0xbe;
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

/* A remote MAC on sw (CAM) with an address (neighbour table). */
static void
remote(struct vpc_hdl *sw, const uint8_t mac[6], const uint8_t ip[4])
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
	must(ctl(sw, VPC_OP_SW_CAM_SET, &c, sizeof(c), &r, sizeof(r)), "cam");
	memset(&n, 0, sizeof(n));
	n.af = VPC_AF_INET;
	n.kind = VPC_NBR_FOUND;
	memcpy(n.mac, mac, 6);
	memcpy(n.addr, ip, 4);
	must(ctl(sw, VPC_OP_SW_NBR_SET, &n, sizeof(n), &r, sizeof(r)), "nbr");
}

static void
frame(uint8_t *b, const uint8_t src[6], const uint8_t dst[6], const uint8_t sip[4],
    const uint8_t dip[4])
{
	uint8_t *ip = b + 14;

	memset(b, 0, 128);
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	vpc_put16(ip + 2, 114);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
}

/* One batch of 1000 frames b from nic: its CPU time. */
static double
batch(struct vpc_nic *n, const uint8_t *b)
{
	struct os_epoch et;
	double t0 = now();
	int i;

	os_epoch_enter(&et);
	for (i = 0; i < 1000; i++)
		vpc_nic_input(n, host_pkt_new(b, 128));
	os_epoch_exit(&et);
	hloop_reclaim();
	return (now() - t0);
}

/* The same, frames a and b in turn: each routed one misses the router's
 * memo of the vmnic's last destination (the lookups all done again). */
static double
batch_alt(struct vpc_nic *n, const uint8_t *a, const uint8_t *b)
{
	struct os_epoch et;
	double t0 = now();
	int i;

	os_epoch_enter(&et);
	for (i = 0; i < 1000; i++)
		vpc_nic_input(n, host_pkt_new(i % 2 == 0 ? a : b, 128));
	os_epoch_exit(&et);
	hloop_reclaim();
	return (now() - t0);
}

/*
 * Switched and routed frames in alternate batches for secs each, so that
 * whatever else the machine does weighs on both alike: Mpps of each.  With
 * rt2_b, also routed frames to two destinations in turn (*alt_mpps).
 */
static void
mpps_pair(struct vpc_hdl *nic, const uint8_t *sw_b, const uint8_t *rt_b,
    const uint8_t *rt2_b, double secs, double *sw_mpps, double *rt_mpps,
    double *alt_mpps)
{
	struct vpc_nic *n = obj2nic(nic->obj);
	double tsw = 0, trt = 0, talt = 0;
	uint64_t count = 0;

	do {
		tsw += batch(n, sw_b);
		if (rt_b != NULL)
			trt += batch(n, rt_b);
		if (rt2_b != NULL)
			talt += batch_alt(n, rt_b, rt2_b);
		count += 1000;
	} while (tsw < secs);
	*sw_mpps = (double)count / tsw / 1e6;
	*rt_mpps = rt_b != NULL ? (double)count / trt / 1e6 : 0;
	*alt_mpps = rt2_b != NULL ? (double)count / talt / 1e6 : 0;
}

/*
 * ROUTE_REPLACE of n routes.  One call carries at most VPC_CTL_MAX_KEYLEN
 * bytes (910 routes): past that the handler is called directly, as
 * vpc_core_ctl would with the control lock held (a bench reaching inside).
 */
static int
replace_big(struct vpc_hdl *rtr, const vpc_rt_route_t *rs, uint32_t n)
{
	struct vpc_ctx x;
	int error;

	if (n * sizeof(*rs) <= VPC_CTL_MAX_KEYLEN)
		return (ctl(rtr, VPC_OP_RTR_ROUTE_REPLACE, rs, n * sizeof(*rs), NULL, 0));
	memset(&x, 0, sizeof(x));
	x.sys = sys;
	x.call = &call;
	x.hdl = rtr;
	x.obj = rtr->obj;
	x.key = rs;
	x.keylen = n * sizeof(*rs);
	os_sx_xlock(sys->ctl);
	error = vpc_op_rtr_route_replace(&x);
	os_sx_xunlock(sys->ctl);
	return (error);
}

/* Route lookups at n custom routes of family af: ns per lookup. */
static double
lookups(struct vpc_hdl *rtr, uint8_t af, uint32_t n, double *bytes_per_route,
    double *replace_ms)
{
	vpc_rt_route_t *rs = calloc(n, sizeof(*rs));
	const struct vpc_rtable *t;
	struct os_epoch et;
	uint8_t (*addrs)[16];
	uint64_t m0, iters = 0, hits = 0;
	double t0, el;
	uint32_t i;

	/* Unique prefixes: the route's index in the first 24 (IPv4) or 48
	 * (IPv6) bits; lengths 24-28 / 48-64, random bits below. */
	for (i = 0; i < n; i++) {
		unsigned plen = af == VPC_AF_INET ? 24 + rnd() % 5 : 48 + rnd() % 17, j;
		uint64_t a = rnd(), b = rnd();

		rs[i].af = af;
		rs[i].prefixlen = (uint8_t)plen;
		rs[i].target = VPC_RT_DROP;
		memcpy(rs[i].prefix, &a, 8);
		memcpy(rs[i].prefix + 8, &b, 8);
		if (af == VPC_AF_INET) {
			rs[i].prefix[0] = (uint8_t)(11 + (i >> 16));
			rs[i].prefix[1] = (uint8_t)(i >> 8);
			rs[i].prefix[2] = (uint8_t)i;
			memset(rs[i].prefix + 4, 0, 12);
		} else {
			rs[i].prefix[0] = 0x20;
			rs[i].prefix[1] = 0x01;
			rs[i].prefix[2] = (uint8_t)(i >> 16);
			rs[i].prefix[3] = (uint8_t)(i >> 8);
			rs[i].prefix[4] = (uint8_t)i;
			rs[i].prefix[5] = 0;
		}
		for (j = plen; j < 128; j++)
			rs[i].prefix[j / 8] &= (uint8_t)~(0x80 >> (j % 8));
	}
	{
		vpc_rt_route_t none;

		memset(&none, 0, sizeof(none));
		must(ctl(rtr, VPC_OP_RTR_ROUTE_REPLACE, &none, sizeof(none), NULL, 0), "clear");
	}
	hloop_reclaim();
	m0 = vpc_mem_bytes();
	t0 = now();
	must(replace_big(rtr, rs, n), "replace");
	*replace_ms = (now() - t0) * 1e3;
	hloop_reclaim();
	*bytes_per_route = (double)(vpc_mem_bytes() - m0) / n;
	addrs = calloc(4096, 16);
	for (i = 0; i < 4096; i++) {
		/* Half the lookups inside a route's prefix, half anywhere. */
		uint64_t a = rnd(), b = rnd();

		memcpy(addrs[i], &a, 8);
		memcpy(addrs[i] + 8, &b, 8);
		if (i % 2 == 0)
			memcpy(addrs[i], rs[rnd() % n].prefix, af == VPC_AF_INET ? 3 : 6);
		if (af == VPC_AF_INET)
			memset(addrs[i] + 4, 0, 12);
	}
	t0 = now();
	os_epoch_enter(&et);
	t = vpc_load(obj2rtr(rtr->obj)->table);
	do {
		for (i = 0; i < 4096; i++)
			hits += vpc_rtable_lookup(t, af, addrs[i]) != NULL;
		iters += 4096;
	} while ((el = now() - t0) < 0.3);
	os_epoch_exit(&et);
	free(addrs);
	free(rs);
	if (hits == 0)
		fprintf(stderr, "rtr_bench: no lookup hit\n");
	return (el / (double)iters * 1e9);
}

int
main(int argc, char **argv)
{
	static const uint8_t mac_a[6] = { 2, 0, 0, 0, 5, 0xa }, mac_x[6] = { 2, 0, 0, 0, 5, 0x42 };
	static const uint8_t mac_y[6] = { 2, 0, 0, 0, 5, 0x43 };
	static const uint8_t ip_a[4] = { 10, 1, 0, 10 }, ip_x[4] = { 10, 1, 0, 50 };
	static const uint8_t mac_z[6] = { 2, 0, 0, 0, 5, 0x44 };
	static const uint8_t ip_y[4] = { 10, 2, 0, 50 }, ip_z[4] = { 10, 2, 0, 51 };
	double secs = argc > 1 ? atof(argv[1]) : 1.0, sw_mpps, rt_mpps, alt_mpps, bpr;
	struct vpc_hdl *vcc, *sw1, *sw2, *rtr, *nic;
	vpc_swport_t req, res;
	vpc_rtr_attach_t at;
	vpc_vcc_t vc;
	vpc_sw_gateway_t gw;
	uint8_t sw_frame[128], rt_frame[128], rt2_frame[128];
	uint64_t m0, m1;
	static const uint32_t sizes[] = { 10, 1000, 100000 };
	double ns4[3], ns6[3], bpr4 = 0, bpr6 = 0, ms, ms4 = 0, ms6 = 0;
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
	mk_switch(sw1, vcc, 701, 1);
	mk_switch(sw2, vcc, 702, 2);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_a, 6);
	must(ctl(sw1, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), "vmnic");
	nic = test_handles[res.descriptor];
	remote(sw1, mac_x, ip_x);
	remote(sw2, mac_y, ip_y);
	remote(sw2, mac_z, ip_z);
	rtr = mk(VPC_TYPE_ROUTER, 4);
	hloop_reclaim();
	m0 = vpc_mem_bytes();
	memset(&at, 0, sizeof(at));
	at.switch_id = sw1->obj->id;
	must(ctl(rtr, VPC_OP_RTR_ATTACH, &at, sizeof(at), NULL, 0), "attach");
	hloop_reclaim();
	m1 = vpc_mem_bytes();
	at.switch_id = sw2->obj->id;
	must(ctl(rtr, VPC_OP_RTR_ATTACH, &at, sizeof(at), NULL, 0), "attach");
	must(ctl(sw1, VPC_OP_SW_GET_GATEWAY, NULL, 0, &gw, sizeof(gw)), "gateway");
	frame(sw_frame, mac_a, mac_x, ip_a, ip_x);
	frame(rt_frame, mac_a, gw.mac, ip_a, ip_y);
	frame(rt2_frame, mac_a, gw.mac, ip_a, ip_z);
	/* "rtr_bench SECS routed": only routed frames, for a profiler. */
	if (argc > 2 && strcmp(argv[2], "routed") == 0) {
		mpps_pair(nic, rt_frame, NULL, NULL, secs, &rt_mpps, &sw_mpps, &alt_mpps);
		printf("{\"routed_mpps\": %.3f}\n", rt_mpps);
		return (0);
	}
	mpps_pair(nic, sw_frame, rt_frame, rt2_frame, secs, &sw_mpps, &rt_mpps, &alt_mpps);
	if (os_counter_fetch(obj2rtr(rtr->obj)->ctr[VPC_RTRSTAT_ROUTED]) == 0) {
		fprintf(stderr, "rtr_bench: nothing was routed\n");
		return (1);
	}
	for (i = 0; i < 3; i++) {
		ns4[i] = lookups(rtr, VPC_AF_INET, sizes[i], &bpr, &ms);
		if (i == 2) {
			bpr4 = bpr;
			ms4 = ms;
		}
		ns6[i] = lookups(rtr, VPC_AF_INET6, sizes[i], &bpr, &ms);
		if (i == 2) {
			bpr6 = bpr;
			ms6 = ms;
		}
	}
	printf("{\"switched_mpps\": %.3f, \"routed_mpps\": %.3f, \"ratio\": %.3f,\n"
	    " \"routed_alt_mpps\": %.3f, \"ratio_alt\": %.3f,\n"
	    " \"lookup4_ns\": {\"10\": %.1f, \"1000\": %.1f, \"100000\": %.1f},\n"
	    " \"lookup6_ns\": {\"10\": %.1f, \"1000\": %.1f, \"100000\": %.1f},\n"
	    " \"bytes_per_route4\": %.1f, \"bytes_per_route6\": %.1f, \"bytes_per_attachment\": %.1f,\n"
	    " \"router_object_bytes\": %zu, \"replace4_ms\": %.1f, \"replace6_ms\": %.1f}\n",
	    sw_mpps, rt_mpps, rt_mpps / sw_mpps, alt_mpps, alt_mpps / sw_mpps, ns4[0], ns4[1], ns4[2], ns6[0], ns6[1], ns6[2],
	    bpr4, bpr6, (double)(m1 - m0), sizeof(struct vpc_router), ms4, ms6);
	vpc_core_close(sys, nic);
	test_handles[res.descriptor] = NULL;
	vpc_core_close(sys, rtr);
	vpc_core_close(sys, sw1);
	vpc_core_close(sys, sw2);
	vpc_core_close(sys, vcc);
	vpc_sys_teardown(sys);
	hloop_reclaim();
	vpc_sys_destroy(sys);
	return (0);
}
