/*
 * fwd_bench: the switch's forwarding cost without I/O, for bench/forward.
 *
 *  - forward: prebuilt frames from a vmnic to remote MACs through
 *    vpc_nic_input (parse, anti-spoof, CAM lookup, VXLAN encapsulation, the
 *    vcc's output, here a no-op that frees the packet), each frame copied
 *    into a fresh packet first, as a driver would hand one over;
 *  - baseline: for the same frames, a lookup in a plain open-addressing
 *    table of the same keys and the same copy into a fresh packet;
 *  - ARP: prebuilt ARP requests from a vmnic for 1k addresses whose
 *    neighbour entries are installed, answered by the switch (validation,
 *    neighbour lookup, the reply built and handed to the vmnic's output, a
 *    no-op here), each request copied into a fresh packet first; its rate
 *    beside the forwarding rate of the same run (issue 12: >= 1 Mpps, and
 *    within twice the cost of forwarding a frame);
 *  - CAM lookups alone at 1k, 100k and 1M entries (ns each), and what an
 *    entry costs in memory.
 * Prints one JSON object.  The ratio is the point: machines here are noisy.
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

#define NFRAMES 4096
#define FRAME_LEN 128

static struct vpc_sys *sys;
static const struct vpc_call call = { NULL, true };
static uint8_t frames[NFRAMES][FRAME_LEN];
static uint64_t sink;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static struct vpc_hdl *
open_new(unsigned type, uint32_t n)
{
	vpc_id_t id;
	struct vpc_hdl *h = NULL;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xbe;
	memcpy(&id.bytes[8], &n, sizeof(n));
	if (vpc_core_open(sys, &call, &id, VPC_TYPE_WORD(type), VPC_FLAG_CREATE, &h) != 0)
		abort();
	return (h);
}

static void
mac_of(uint32_t i, uint8_t m[6])
{
	m[0] = 0x02;
	m[1] = 0x10;
	m[2] = (uint8_t)(i >> 24);
	m[3] = (uint8_t)(i >> 16);
	m[4] = (uint8_t)(i >> 8);
	m[5] = (uint8_t)i;
}

/* n REMOTE entries for MACs 0..n-1, installed through the real op. */
static void
install(struct vpc_hdl *sw, uint32_t from, uint32_t to)
{
	static vpc_sw_cam_t batch[VPC_CAM_BATCH_MAX];
	vpc_cam_set_result_t res;
	uint32_t i, n = 0;
	size_t vl;

	for (i = from; i < to; i++) {
		vpc_sw_cam_t *c = &batch[n++];

		memset(c, 0, sizeof(*c));
		mac_of(i, c->dstmac);
		c->kind = VPC_CAM_REMOTE;
		c->af = VPC_AF_INET;
		c->addr[0] = 198;
		c->addr[1] = 51;
		c->addr[2] = 100;
		c->addr[3] = (uint8_t)(1 + i % 200);
		if (n == VPC_CAM_BATCH_MAX || i + 1 == to) {
			vl = sizeof(res);
			if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_CAM_SET, batch,
			    n * sizeof(batch[0]), &res, &vl) != 0)
				abort();
			n = 0;
			hloop_reclaim();
		}
	}
}

/* ---- The baseline: a plain table of the same keys ------------------------- */

static uint64_t *base_keys;
static uint32_t base_mask;

static uint64_t
key64(const uint8_t m[6])
{
	return ((uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 |
	    (uint64_t)m[3] << 16 | (uint64_t)m[4] << 8 | m[5]);
}

static uint32_t
mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return ((uint32_t)k);
}

static void
base_build(uint32_t n)
{
	uint32_t i, j;
	uint8_t m[6];

	for (base_mask = 1; base_mask < n * 2; base_mask <<= 1)
		;
	base_keys = calloc(base_mask, sizeof(*base_keys));
	base_mask--;
	for (i = 0; i < n; i++) {
		mac_of(i, m);
		for (j = mix(key64(m)); base_keys[j & base_mask] != 0; j++)
			;
		base_keys[j & base_mask] = key64(m);
	}
}

static bool
base_lookup(const uint8_t m[6])
{
	uint64_t k = key64(m);
	uint32_t j;

	for (j = mix(k); base_keys[j & base_mask] != 0; j++)
		if (base_keys[j & base_mask] == k)
			return (true);
	return (false);
}

/* The run measured the real path only if frames went out as VXLAN. */
static uint64_t
swstat_check_remote(struct vpc_switch *s)
{
	uint64_t tx = os_counter_fetch(s->ctr[VPC_SWSTAT_TX_REMOTE]);

	if (tx == 0 || os_counter_fetch(s->ctr[VPC_SWSTAT_MISSES]) != 0) {
		fprintf(stderr, "fwd_bench: frames did not take the remote path\n");
		return (0);
	}
	return (tx);
}

/* ---- ARP -------------------------------------------------------------------- */

#define NARP 1000
static uint8_t arps[NFRAMES][60];

static void
ip_of(uint32_t i, uint8_t ip[4])
{
	ip[0] = 10;
	ip[1] = (uint8_t)(i >> 16);
	ip[2] = (uint8_t)(i >> 8);
	ip[3] = (uint8_t)i;
}

/* The switch's subnet 10.0.0.0/8, the vmnic's address 10.255.255.1, and
 * FOUND entries for 10.0.0.2 .. 10.0.3.233 (1000 addresses). */
static void
arp_setup(struct vpc_hdl *sw, struct vpc_hdl *nich)
{
	static vpc_sw_nbr_t batch[VPC_NBR_BATCH_MAX];
	vpc_sw_subnet_t sn;
	vpc_nic_addr_t ad;
	vpc_cam_set_result_t res;
	uint32_t i, n = 0;
	size_t vl;

	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 8;
	sn.addr[0] = 10;
	vl = 0;
	if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, &vl) != 0)
		abort();
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, (uint8_t[]){ 10, 255, 255, 1 }, 4);
	if (vpc_core_ctl(sys, &call, nich, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, &vl) != 0)
		abort();
	for (i = 0; i < NARP; i++) {
		vpc_sw_nbr_t *e = &batch[n++];

		memset(e, 0, sizeof(*e));
		e->af = VPC_AF_INET;
		e->kind = VPC_NBR_FOUND;
		mac_of(i, e->mac);
		ip_of(i + 2, e->addr);
		if (n == VPC_NBR_BATCH_MAX || i + 1 == NARP) {
			vl = sizeof(res);
			if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_NBR_SET, batch,
			    n * sizeof(batch[0]), &res, &vl) != 0 || res.applied != n)
				abort();
			n = 0;
		}
	}
	for (i = 0; i < NFRAMES; i++) {
		uint8_t *b = arps[i];

		memset(b, 0, 60);
		memset(b, 0xff, 6);
		memcpy(b + 6, (uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 6);
		b[12] = 0x08;
		b[13] = 0x06;
		b[15] = 1;
		b[16] = 0x08;
		b[18] = 6;
		b[19] = 4;
		b[21] = 1;
		memcpy(b + 22, (uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 6);
		memcpy(b + 28, (uint8_t[]){ 10, 255, 255, 1 }, 4);
		ip_of(2 + (uint32_t)(i * 7919) % NARP, b + 38);
	}
	hloop_reclaim();
}

static double
run_arp(struct vpc_nic *nic, double secs)
{
	struct os_epoch et;
	uint64_t n = 0;
	double t0 = now(), t;
	int i;

	do {
		os_epoch_enter(&et);
		for (i = 0; i < NFRAMES; i++)
			vpc_nic_input(nic, host_pkt_new(arps[i], 60));
		os_epoch_exit(&et);
		n += NFRAMES;
		t = now() - t0;
	} while (t < secs);
	return ((double)n / t);
}

/* ---- Runs ------------------------------------------------------------------- */

static double
run_forward(struct vpc_nic *nic, double secs)
{
	struct os_epoch et;
	uint64_t n = 0;
	double t0 = now(), t;
	int i;

	do {
		os_epoch_enter(&et);
		for (i = 0; i < NFRAMES; i++)
			vpc_nic_input(nic, host_pkt_new(frames[i], FRAME_LEN));
		os_epoch_exit(&et);
		n += NFRAMES;
		t = now() - t0;
	} while (t < secs);
	return ((double)n / t);
}

static double
run_baseline(double secs)
{
	struct vpc_pkt *p;
	uint64_t n = 0;
	double t0 = now(), t;
	int i;

	do {
		for (i = 0; i < NFRAMES; i++) {
			p = host_pkt_new(frames[i], FRAME_LEN);
			sink += base_lookup(frames[i]);
			os_pkt_free(p);
		}
		n += NFRAMES;
		t = now() - t0;
	} while (t < secs);
	return ((double)n / t);
}

/* ns per CAM lookup of a present key, over a random spread of keys. */
static double
lookup_ns(struct vpc_switch *sw, uint32_t nentries)
{
	static const uint8_t any[6];
	struct os_epoch et;
	uint8_t keys[1024][6];
	uint64_t n = 0;
	uint32_t i, r = 12345;
	double t0, t;

	for (i = 0; i < 1024; i++) {
		r = r * 1103515245u + 12345u;
		mac_of((r >> 4) % nentries, keys[i]);
	}
	os_epoch_enter(&et);
	t0 = now();
	do {
		for (i = 0; i < 1024; i++)
			sink += (uintptr_t)vpc_cam_lookup(sw, keys[i], any);
		n += 1024;
		t = now() - t0;
	} while (t < 0.3);
	os_epoch_exit(&et);
	return (t * 1e9 / (double)n);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0, fwd, base, arp;
	struct vpc_hdl *sw, *vcc, *nich;
	vpc_sw_vni_t v = { .vni = 100 };
	vpc_vcc_t vc;
	vpc_swport_t req, res;
	struct vpc_switch *s;
	uint64_t mem0, mem1;
	size_t vl;
	int i;

	hloop_init();
	test_record = false;            /* outputs just free the packet */
	if (vpc_sys_create(&sys) != 0)
		return (1);
	sw = open_new(VPC_TYPE_SWITCH, 1);
	vcc = open_new(VPC_TYPE_VCC, 2);
	vl = 0;
	vpc_core_ctl(sys, &call, sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, &vl);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	vc.addr4[0] = 198;
	vc.addr4[3] = 1;
	vpc_core_ctl(sys, &call, vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, &vl);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id.bytes[0] = 0xbe;
	req.peer_id.bytes[8] = 2;
	vl = sizeof(res);
	if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, &vl) != 0)
		return (1);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, (uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 6);
	vl = sizeof(res);
	if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, &vl) != 0)
		return (1);
	nich = test_handles[res.descriptor];
	s = obj2sw(sw->obj);

	/* 1k entries: the forwarding run and its baseline. */
	install(sw, 0, 1000);
	for (i = 0; i < NFRAMES; i++) {
		memset(frames[i], 0, FRAME_LEN);
		mac_of((uint32_t)(i * 7919) % 1000, frames[i]);
		memcpy(frames[i] + 6, (uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 6);
		frames[i][12] = 0x08;
		frames[i][14] = 0x45;
	}
	base_build(1000);
	fwd = run_forward(obj2nic(nich->obj), secs);
	base = run_baseline(secs);
	fwd = (fwd + run_forward(obj2nic(nich->obj), secs)) / 2;
	base = (base + run_baseline(secs)) / 2;
	if (swstat_check_remote(s) == 0)
		return (1);
	arp_setup(sw, nich);
	arp = run_arp(obj2nic(nich->obj), secs);
	fwd = (fwd + run_forward(obj2nic(nich->obj), secs)) / 2;
	arp = (arp + run_arp(obj2nic(nich->obj), secs)) / 2;
	if (os_counter_fetch(s->ctr[VPC_SWSTAT_ARP_REPLIES]) == 0 ||
	    os_counter_fetch(s->ctr[VPC_SWSTAT_L3_MISSES]) != 0) {
		fprintf(stderr, "fwd_bench: ARP requests were not answered from the table\n");
		return (1);
	}

	printf("{\"forward_mpps\": %.3f, \"baseline_mpps\": %.3f, \"ratio\": %.3f",
	    fwd / 1e6, base / 1e6, fwd / base);
	printf(", \"arp_mpps\": %.3f, \"arp_cost_vs_forward\": %.3f", arp / 1e6, fwd / arp);
	printf(", \"lookup_ns\": {\"1k\": %.1f", lookup_ns(s, 1000));
	install(sw, 1000, 100000);
	printf(", \"100k\": %.1f", lookup_ns(s, 100000));
	mem0 = vpc_mem_bytes();
	install(sw, 100000, 1000000);
	mem1 = vpc_mem_bytes();
	printf(", \"1M\": %.1f}", lookup_ns(s, 1000000));
	printf(", \"entries\": %u, \"bytes_per_entry\": %.1f, \"table_bytes_per_entry\": %.1f}\n",
	    vpc_cam_count(s), (double)(mem1 - mem0) / 900000.0,
	    (double)vpc_cam_bytes(s) / vpc_cam_count(s));
	return ((int)(sink & 0));
}
