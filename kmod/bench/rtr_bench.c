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

#include "vpc_impl.h"
#include "host_loop.h"
#include "host_pkt.h"
#include "bench_router_setup.h"
#include "test_handles.h"
#include "test_os.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng);
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
	double t0 = bench_now();
	int i;

	os_epoch_enter(&et);
	for (i = 0; i < 1000; i++)
		vpc_nic_input(n, host_pkt_new(b, 128));
	os_epoch_exit(&et);
	hloop_reclaim();
	return (bench_now() - t0);
}

/* The same, frames a and b in turn: each routed one misses the router's
 * memo of the vmnic's last destination (the lookups all done again). */
static double
batch_alt(struct vpc_nic *n, const uint8_t *a, const uint8_t *b)
{
	struct os_epoch et;
	double t0 = bench_now();
	int i;

	os_epoch_enter(&et);
	for (i = 0; i < 1000; i++)
		vpc_nic_input(n, host_pkt_new(i % 2 == 0 ? a : b, 128));
	os_epoch_exit(&et);
	hloop_reclaim();
	return (bench_now() - t0);
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
		return (bench_ctl(rtr, VPC_OP_RTR_ROUTE_REPLACE, rs, n * sizeof(*rs), NULL, 0));
	memset(&x, 0, sizeof(x));
	x.sys = bench_sys;
	x.call = &bench_call;
	x.hdl = rtr;
	x.obj = rtr->obj;
	x.key = rs;
	x.keylen = n * sizeof(*rs);
	os_sx_xlock(bench_sys->ctl);
	error = vpc_op_rtr_route_replace(&x);
	os_sx_xunlock(bench_sys->ctl);
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
		bench_must(bench_ctl(rtr, VPC_OP_RTR_ROUTE_REPLACE, &none, sizeof(none), NULL, 0), "clear");
	}
	hloop_reclaim();
	m0 = vpc_mem_bytes();
	t0 = bench_now();
	bench_must(replace_big(rtr, rs, n), "replace");
	*replace_ms = (bench_now() - t0) * 1e3;
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
	t0 = bench_now();
	os_epoch_enter(&et);
	t = vpc_load(obj2rtr(rtr->obj)->table);
	do {
		for (i = 0; i < 4096; i++)
			hits += vpc_rtable_lookup(t, af, addrs[i]) != NULL;
		iters += 4096;
	} while ((el = bench_now() - t0) < 0.3);
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
	struct bench_net net;
	struct vpc_hdl *rtr, *nic;
	vpc_sw_gateway_t gw;
	uint32_t desc;
	uint8_t sw_frame[128], rt_frame[128], rt2_frame[128];
	uint64_t m0, m1;
	static const uint32_t sizes[] = { 10, 1000, 100000 };
	double ns4[3], ns6[3], bpr4 = 0, bpr6 = 0, ms, ms4 = 0, ms6 = 0;
	unsigned i;

	bench_net_init(&net, "rtr_bench", 701);
	nic = bench_vmnic(net.sw1, mac_a, &desc);
	bench_remote(net.sw1, mac_x, ip_x);
	bench_remote(net.sw2, mac_y, ip_y);
	bench_remote(net.sw2, mac_z, ip_z);
	rtr = bench_open(VPC_TYPE_ROUTER, 4);
	hloop_reclaim();
	m0 = vpc_mem_bytes();
	bench_attach(rtr, net.sw1);
	hloop_reclaim();
	m1 = vpc_mem_bytes();
	bench_attach(rtr, net.sw2);
	bench_must(bench_ctl(net.sw1, VPC_OP_SW_GET_GATEWAY, NULL, 0, &gw, sizeof(gw)), "gateway");
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
	vpc_core_close(bench_sys, nic);
	test_handles[desc] = NULL;
	vpc_core_close(bench_sys, rtr);
	bench_net_fini(&net);
	return (0);
}
