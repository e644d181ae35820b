/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwd_bench: the switch's forwarding cost without I/O, for bench/forward.
 *
 *  - forward: prebuilt frames from a vmnic to remote MACs through
 *    vpc_nic_input (parse, anti-spoof, CAM lookup, VXLAN encapsulation, the
 *    vcc's output, here a no-op that frees the packet), each frame copied
 *    into a fresh packet first, as a driver would hand one over; one
 *    vpc_nic_input a frame, and vpc_nic_input_burst on 32 at a time (what
 *    vpc-hostd now hands over from a TAP); the entries carry the agent's
 *    default TTL, and the clock each lookup checks it against is refreshed
 *    per chunk of frames, as vpc-hostd's loop does each wakeup;
 *  - forward-addr: UDP from a second vmnic with an IPv4 address (as DHCP
 *    configures a guest), whose IP header the switch parses per frame;
 *  - baseline: for the same frames, a lookup in a plain open-addressing
 *    table of the same keys and the same copy into a fresh packet;
 *  - ARP: prebuilt ARP requests from a vmnic for 1k addresses whose
 *    neighbour entries are installed, answered by the switch (validation,
 *    neighbour lookup, the reply built and handed to the vmnic's output, a
 *    no-op here), each request copied into a fresh packet first; its rate
 *    beside the forwarding rate of the same run (issue 12: >= 1 Mpps, and
 *    within twice the cost of forwarding a frame).  On a switch of its own
 *    (subnet, the vmnic's address, the neighbours), so that the forwarding
 *    switch keeps the configuration of every earlier run (no subnet, no
 *    address) and the rounds can alternate;
 *  - CAM lookups alone at 1k, 100k and 1M entries (ns each; keys drawn from
 *    the whole table), at 1M also prefetched ahead as a caller with a batch
 *    would, and what an entry costs in memory; then the same lookups as the
 *    data path makes them: frames to the keys' MACs at 1k and 1M, one at a
 *    time and in bursts of 8, 16 and 32, and from those the 1M lookup's
 *    cost inside the path (the 1k lookup plus what the 1M path costs more);
 *  - neighbour table lookups (IPv4) alone at 1k, 100k and 1M entries, the
 *    same way, and what an entry costs.
 * Rounds alternate (forwarding, baseline and ARP; each table size and the
 * 1k table) and medians are printed.  Prints one JSON object.  The ratios
 * are the point: machines here are noisy.
 *
 *   fwd_bench SECONDS [forward [BURST]|forward-addr|baseline|arp|cam|nbr]   one loop alone
 *   (cam, nbr: lookups in the 1k tables), for a profiler
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

#define NFRAMES 4096
/*
 * Entries live as long as vpc-agent's answers do by default (--ttl): a
 * frame's lookup then checks its expiry against the clock, as it does in
 * the field (a static entry would skip that).
 */
#define AGENT_TTL_MS 300000
#define FRAME_LEN 128

static struct vpc_sys *sys;
static const struct vpc_call call = { NULL, true };
static uint8_t frames[NFRAMES][FRAME_LEN];
static uint8_t frames_addr[NFRAMES][FRAME_LEN];        /* addr_setup's */
static uint64_t sink;
/* Frames the last run_* handled: the one-loop modes print it, so that a
 * count of instructions over the run (callgrind) is per frame. */
static uint64_t last_frames;

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
		c->ttl_ms = AGENT_TTL_MS;
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

	if (tx == 0 || os_counter_fetch(s->ctr[VPC_SWSTAT_MISSES]) != 0 ||
	    os_counter_fetch(s->ctr[VPC_SWSTAT_DROP_SPOOF]) != 0 ||
	    os_counter_fetch(s->ctr[VPC_SWSTAT_DROP_IP_SPOOF]) != 0) {
		fprintf(stderr, "fwd_bench: frames did not take the remote path\n");
		return (0);
	}
	return (tx);
}

/* ---- ARP and the neighbour table ---------------------------------------------- */

#define NARP 1000
static uint8_t arps[NFRAMES][60];
static const uint8_t arp_mac[6] = { 2, 0, 0, 0, 0, 3 };        /* the vmnic's */

static void
ip_of(uint32_t i, uint8_t ip[4])
{
	ip[0] = 10;
	ip[1] = (uint8_t)(i >> 16);
	ip[2] = (uint8_t)(i >> 8);
	ip[3] = (uint8_t)i;
}

/* The switch's subnet 10.0.0.0/8. */
static void
subnet_setup(struct vpc_hdl *sw)
{
	vpc_sw_subnet_t sn;
	size_t vl = 0;

	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 8;
	sn.addr[0] = 10;
	if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, &vl) != 0)
		abort();
}

/* FOUND entries for 10.0.0.2 + [from, to), through the real op. */
static void
install_nbr(struct vpc_hdl *sw, uint32_t from, uint32_t to)
{
	static vpc_sw_nbr_t batch[VPC_NBR_BATCH_MAX];
	vpc_cam_set_result_t res;
	uint32_t i, n = 0;
	size_t vl;

	for (i = from; i < to; i++) {
		vpc_sw_nbr_t *e = &batch[n++];

		memset(e, 0, sizeof(*e));
		e->af = VPC_AF_INET;
		e->kind = VPC_NBR_FOUND;
		e->ttl_ms = AGENT_TTL_MS;
		mac_of(i, e->mac);
		ip_of(i + 2, e->addr);
		if (n == VPC_NBR_BATCH_MAX || i + 1 == to) {
			vl = sizeof(res);
			if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_NBR_SET, batch,
			    n * sizeof(batch[0]), &res, &vl) != 0 || res.applied != n)
				abort();
			n = 0;
			hloop_reclaim();
		}
	}
}

/* The switch's subnet 10.0.0.0/8, the vmnic's address 10.255.255.1, and
 * FOUND entries for 10.0.0.2 .. 10.0.3.233 (1000 addresses). */
static void
arp_setup(struct vpc_hdl *sw, struct vpc_hdl *nich)
{
	vpc_nic_addr_t ad;
	uint32_t i;
	size_t vl = 0;

	subnet_setup(sw);
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, (uint8_t[]){ 10, 255, 255, 1 }, 4);
	if (vpc_core_ctl(sys, &call, nich, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, &vl) != 0)
		abort();
	install_nbr(sw, 0, NARP);
	for (i = 0; i < NFRAMES; i++) {
		uint8_t *b = arps[i];

		memset(b, 0, 60);
		memset(b, 0xff, 6);
		memcpy(b + 6, arp_mac, 6);
		b[12] = 0x08;
		b[13] = 0x06;
		b[15] = 1;
		b[16] = 0x08;
		b[18] = 6;
		b[19] = 4;
		b[21] = 1;
		memcpy(b + 22, arp_mac, 6);
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
		host_clock_refresh();   /* as vpc-hostd's loop does each wakeup */
	} while (t < secs);
	last_frames = n;
	return ((double)n / t);
}

/* ---- Runs ------------------------------------------------------------------- */

/*
 * burst 1: one vpc_nic_input a frame (the frames of a chunk in one epoch
 * section); more: vpc_nic_input_burst on that many at a time with a tx
 * batch, as vpc-hostd hands over what it read from a TAP.
 */
static struct vpc_txbatch tx;

static double
run_forward(struct vpc_nic *nic, uint8_t (*fr)[FRAME_LEN], double secs,
    unsigned burst)
{
	struct vpc_pkt *pk[VPC_BURST_MAX];
	struct os_epoch et;
	uint64_t n = 0;
	double t0 = now(), t;
	unsigned i, k;

	do {
		os_epoch_enter(&et);
		if (burst <= 1)
			for (i = 0; i < NFRAMES; i++)
				vpc_nic_input(nic, host_pkt_new(fr[i], FRAME_LEN));
		else
			for (i = 0; i < NFRAMES; i += burst) {
				for (k = 0; k < burst; k++)
					pk[k] = host_pkt_new(fr[i + k], FRAME_LEN);
				vpc_nic_input_burst(nic, pk, burst, &tx);
			}
		os_epoch_exit(&et);
		n += NFRAMES;
		t = now() - t0;
		host_clock_refresh();   /* as vpc-hostd's loop does each wakeup */
	} while (t < secs);
	last_frames = n;
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
		host_clock_refresh();   /* as vpc-hostd's loop does each wakeup */
	} while (t < secs);
	last_frames = n;
	return ((double)n / t);
}

/*
 * ns per CAM lookup of a present key, keys drawn at random from the whole
 * table (a million of them: at 1M entries nearly every lookup meets a table
 * line and an entry no recent lookup touched, as a busy switch's would).
 */
#define NKEYS (1u << 20)
#define ROUNDS 3
#define NBURSTS 4

struct ltable {
	struct vpc_switch *sw;
	uint8_t          (*keys)[6];    /* NKEYS lookups */
};

static void
draw_keys(struct ltable *lt, uint32_t nentries)
{
	uint64_t r = 0x9e3779b97f4a7c15ULL;
	uint32_t i;

	for (i = 0; i < NKEYS; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		mac_of((uint32_t)(r % nentries), lt->keys[i]);
	}
}

static double
lookup_ns(const struct ltable *lt, bool prefetch)
{
	static const uint8_t any[6];
	struct os_epoch et;
	uint64_t n = 0;
	uint32_t i;
	double t0, t;

	os_epoch_enter(&et);
	t0 = now();
	do {
		for (i = 0; i < NKEYS; i++) {
			if (prefetch) {
				vpc_cam_prefetch(lt->sw, lt->keys[(i + 16) % NKEYS]);
				vpc_cam_prefetch_entry(lt->sw, lt->keys[(i + 8) % NKEYS]);
			}
			sink += (uintptr_t)vpc_cam_lookup(lt->sw, lt->keys[i], any);
		}
		n += NKEYS;
		t = now() - t0;
		host_clock_refresh();   /* as vpc-hostd's loop does each wakeup */
	} while (t < 0.2);
	os_epoch_exit(&et);
	return (t * 1e9 / (double)n);
}

/*
 * The CAM as the data path meets it: ns per frame forwarded from nic (on
 * lt's switch) to the MACs of lt's keys in turn (drawn from the whole
 * table), one vpc_nic_input a frame (burst 1) or in bursts.  Each frame is
 * the forwarding run's frame with its destination set, in a fresh packet.
 */
static double
fwd_keys_ns(struct vpc_nic *nic, const struct ltable *lt, unsigned burst)
{
	struct vpc_pkt *pk[VPC_BURST_MAX];
	struct os_epoch et;
	uint64_t n = 0;
	uint32_t i = 0;
	unsigned k, c;
	double t0 = now(), t;

	do {
		for (c = 0; c < 4096 / burst; c++) {
			for (k = 0; k < burst; k++, i = (i + 1) & (NKEYS - 1)) {
				pk[k] = host_pkt_new(frames[0], FRAME_LEN);
				memcpy(host_pkt_data(pk[k]), lt->keys[i], 6);
			}
			os_epoch_enter(&et);
			if (burst == 1)
				vpc_nic_input(nic, pk[0]);
			else
				vpc_nic_input_burst(nic, pk, burst, &tx);
			os_epoch_exit(&et);
			n += burst;
		}
		t = now() - t0;
		host_clock_refresh();   /* as vpc-hostd's loop does each wakeup */
	} while (t < 0.2);
	return (t * 1e9 / (double)n);
}

/* The same for the neighbour table: IPv4 addresses drawn from the whole table. */
struct ntable {
	struct vpc_switch *sw;
	uint8_t          (*keys)[4];    /* NKEYS lookups */
};

static void
draw_addrs(struct ntable *nt, uint32_t nentries)
{
	uint64_t r = 0x9e3779b97f4a7c15ULL;
	uint32_t i;

	for (i = 0; i < NKEYS; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		ip_of(2 + (uint32_t)(r % nentries), nt->keys[i]);
	}
}

static double
nbr_lookup_ns(const struct ntable *nt)
{
	struct os_epoch et;
	uint64_t n = 0;
	uint32_t i;
	double t0, t;

	os_epoch_enter(&et);
	t0 = now();
	do {
		for (i = 0; i < NKEYS; i++)
			sink += (uintptr_t)vpc_nbr_lookup(nt->sw, VPC_AF_INET, nt->keys[i]);
		n += NKEYS;
		t = now() - t0;
		host_clock_refresh();   /* as vpc-hostd's loop does each wakeup */
	} while (t < 0.2);
	os_epoch_exit(&et);
	return (t * 1e9 / (double)n);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return (v[n / 2]);
}

/* A vmnic port on sw with this MAC: its vmnic's handle. */
static struct vpc_hdl *
add_vmnic(struct vpc_hdl *sw, const uint8_t mac[6])
{
	vpc_swport_t req, res;
	size_t vl = sizeof(res);

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac, 6);
	if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, &vl) != 0)
		abort();
	return (test_handles[res.descriptor]);
}

/*
 * A second vmnic on the forwarding switch, as a guest configured by DHCP
 * has it: an IPv4 address, and UDP datagrams from that address to the same
 * MACs as the forwarding run's frames.  The switch then parses each one's
 * IP header (is it DHCP? is its source the VM's?) before forwarding it.
 */
static const uint8_t addr_mac[6] = { 2, 0, 0, 0, 0, 5 };
static const uint8_t addr_ip[4] = { 10, 0, 0, 5 };

static struct vpc_hdl *
addr_setup(struct vpc_hdl *sw)
{
	struct vpc_hdl *nich = add_vmnic(sw, addr_mac);
	vpc_nic_addr_t ad;
	size_t vl = 0;
	uint32_t i;

	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, addr_ip, 4);
	if (vpc_core_ctl(sys, &call, nich, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), NULL, &vl) != 0)
		abort();
	for (i = 0; i < NFRAMES; i++) {
		uint8_t *f = frames_addr[i], *ip = f + 14;

		memcpy(f, frames[i], FRAME_LEN);
		memcpy(f + 6, addr_mac, 6);
		memset(ip, 0, 28);
		ip[0] = 0x45;
		ip[3] = FRAME_LEN - 14;
		ip[8] = 64;
		ip[9] = 17;                     /* UDP */
		memcpy(ip + 12, addr_ip, 4);
		memcpy(ip + 16, (uint8_t[]){ 10, 0, (uint8_t)(i >> 8), (uint8_t)i }, 4);
		vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
		ip[20] = 0x30;                  /* ports 12345 -> 4660 */
		ip[21] = 0x39;
		ip[22] = 0x12;
		ip[23] = 0x34;
		ip[25] = FRAME_LEN - 34;        /* length; no checksum (IPv4) */
	}
	return (nich);
}

static struct vpc_hdl *
new_switch(uint32_t n, uint32_t vni)
{
	struct vpc_hdl *sw = open_new(VPC_TYPE_SWITCH, n);
	vpc_sw_vni_t v = { .vni = vni };
	size_t vl = 0;

	if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, &vl) != 0)
		abort();
	return (sw);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0, fwd, fwdb, fwda, base, arp;
	double fwdbr[ROUNDS], fwdar[ROUNDS], p1k[2][ROUNDS], p1m[NBURSTS][ROUNDS], l1k_m, pk1, pkb;
	static const unsigned bursts[NBURSTS] = { 1, 8, 16, VPC_BURST_MAX };
	struct vpc_hdl *nic2;
	unsigned b;
	double fwdr[ROUNDS], baser[ROUNDS], arpr[ROUNDS], l1k[2 * ROUNDS],
	    l100k[ROUNDS], l1m[ROUNDS], l1mp[ROUNDS], n1kr[2 * ROUNDS],
	    n100k[ROUNDS], n1m[ROUNDS];
	struct ltable small, big;
	struct ntable nsmall, nbig;
	struct vpc_hdl *sw, *sw2, *sw3, *sw4, *vcc, *nich, *arpnich, *addrnich;
	int n1k = 0, nn1k = 0;
	vpc_vcc_t vc;
	vpc_swport_t req, res;
	struct vpc_switch *s, *s3;
	uint64_t mem0, mem1, nmem0, nmem1;
	size_t vl;
	int i;

	hloop_init();
	test_record = false;            /* outputs just free the packet */
	if (vpc_sys_create(&sys) != 0)
		return (1);
	host_clock_refresh();
	sw = new_switch(1, 100);
	vcc = open_new(VPC_TYPE_VCC, 2);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	vc.addr4[0] = 198;
	vc.addr4[3] = 1;
	vl = 0;
	vpc_core_ctl(sys, &call, vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, &vl);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id.bytes[0] = 0xbe;
	req.peer_id.bytes[8] = 2;
	vl = sizeof(res);
	if (vpc_core_ctl(sys, &call, sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, &vl) != 0)
		return (1);
	nich = add_vmnic(sw, (uint8_t[]){ 2, 0, 0, 0, 0, 1 });
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
	addrnich = addr_setup(sw);
	/* ARP on a switch of its own, with 1k neighbours. */
	sw3 = new_switch(4, 300);
	arpnich = add_vmnic(sw3, arp_mac);
	s3 = obj2sw(sw3->obj);
	arp_setup(sw3, arpnich);

	/* One loop alone, for a profiler: fwd_bench SECONDS forward [BURST]|baseline|arp */
	if (argc > 2 && strcmp(argv[2], "forward") == 0) {
		printf("{\"forward_mpps\": %.3f",
		    run_forward(obj2nic(nich->obj), frames, secs,
		    argc > 3 ? (unsigned)atoi(argv[3]) : 1) / 1e6);
		printf(", \"frames\": %llu}\n", (unsigned long long)last_frames);
		return (0);
	}
	if (argc > 2 && strcmp(argv[2], "forward-addr") == 0) {
		printf("{\"forward_addr_mpps\": %.3f",
		    run_forward(obj2nic(addrnich->obj), frames_addr, secs, 1) / 1e6);
		printf(", \"frames\": %llu}\n", (unsigned long long)last_frames);
		return (0);
	}
	if (argc > 2 && strcmp(argv[2], "baseline") == 0) {
		printf("{\"baseline_mpps\": %.3f", run_baseline(secs) / 1e6);
		printf(", \"frames\": %llu}\n", (unsigned long long)last_frames);
		return (0);
	}
	if (argc > 2 && strcmp(argv[2], "arp") == 0) {
		printf("{\"arp_mpps\": %.3f",
		    run_arp(obj2nic(arpnich->obj), secs) / 1e6);
		printf(", \"frames\": %llu}\n", (unsigned long long)last_frames);
		return (0);
	}
	if (argc > 2 && strcmp(argv[2], "nbr") == 0) {
		nsmall.sw = s3;
		if ((nsmall.keys = calloc(NKEYS, 4)) == NULL)
			return (1);
		draw_addrs(&nsmall, NARP);
		for (i = 0; i < 5 * secs; i++)
			printf("{\"nbr_lookup_ns_1k\": %.1f}\n", nbr_lookup_ns(&nsmall));
		return (0);
	}
	if (argc > 2 && strcmp(argv[2], "cam") == 0) {
		small.sw = s;
		if ((small.keys = calloc(NKEYS, 6)) == NULL)
			return (1);
		draw_keys(&small, 1000);
		for (i = 0; i < 5 * secs; i++)
			printf("{\"lookup_ns_1k\": %.1f}\n", lookup_ns(&small, false));
		return (0);
	}
	/* Rounds alternate, so that a noisy neighbour hurts all; medians. */
	for (i = 0; i < ROUNDS; i++) {
		fwdr[i] = run_forward(obj2nic(nich->obj), frames, secs / ROUNDS, 1);
		fwdbr[i] = run_forward(obj2nic(nich->obj), frames, secs / ROUNDS,
		    VPC_BURST_MAX);
		fwdar[i] = run_forward(obj2nic(addrnich->obj), frames_addr,
		    secs / ROUNDS, 1);
		baser[i] = run_baseline(secs / ROUNDS);
		arpr[i] = run_arp(obj2nic(arpnich->obj), secs / ROUNDS);
	}
	fwd = median(fwdr, ROUNDS);
	fwdb = median(fwdbr, ROUNDS);
	fwda = median(fwdar, ROUNDS);
	base = median(baser, ROUNDS);
	arp = median(arpr, ROUNDS);
	if (swstat_check_remote(s) == 0)
		return (1);
	if (os_counter_fetch(s3->ctr[VPC_SWSTAT_ARP_REPLIES]) == 0 ||
	    os_counter_fetch(s3->ctr[VPC_SWSTAT_L3_MISSES]) != 0) {
		fprintf(stderr, "fwd_bench: ARP requests were not answered from the table\n");
		return (1);
	}

	/*
	 * Lookups: the 1k table is the forwarding switch's; another switch's
	 * grows to 100k and 1M.  Each size is measured in rounds alternating
	 * with the 1k table, whose figure is the median of all its rounds.
	 * The same for neighbours: the ARP switch's 1k, a fourth switch's
	 * 100k and 1M.
	 */
	small.sw = s;
	small.keys = calloc(NKEYS, 6);
	big.keys = calloc(NKEYS, 6);
	nsmall.sw = s3;
	nsmall.keys = calloc(NKEYS, 4);
	nbig.keys = calloc(NKEYS, 4);
	if (small.keys == NULL || big.keys == NULL || nsmall.keys == NULL ||
	    nbig.keys == NULL)
		return (1);
	sw2 = new_switch(3, 200);
	big.sw = obj2sw(sw2->obj);
	draw_keys(&small, 1000);
	install(sw2, 0, 100000);
	draw_keys(&big, 100000);
	for (i = 0; i < ROUNDS; i++) {
		l1k[n1k++] = lookup_ns(&small, false);
		l100k[i] = lookup_ns(&big, false);
	}
	mem0 = vpc_mem_bytes();
	install(sw2, 100000, 1000000);
	mem1 = vpc_mem_bytes();
	draw_keys(&big, 1000000);
	for (i = 0; i < ROUNDS; i++) {
		l1k[n1k++] = lookup_ns(&small, false);
		l1m[i] = lookup_ns(&big, false);
		l1mp[i] = lookup_ns(&big, true);
	}
	/*
	 * The same lookups in the data path: frames to the keys' MACs, from a
	 * vmnic of each switch (the 1M switch gets one and an uplink now), one
	 * frame at a time and in bursts of 8, 16 and 32.  The 1k switch's
	 * figure at burst 1 and 32 alternates with the 1M one's.
	 */
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id.bytes[0] = 0xbe;
	req.peer_id.bytes[8] = 2;
	vl = sizeof(res);
	if (vpc_core_ctl(sys, &call, sw2, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, &vl) != 0)
		return (1);
	nic2 = add_vmnic(sw2, (uint8_t[]){ 2, 0, 0, 0, 0, 1 });
	for (i = 0; i < ROUNDS; i++) {
		p1k[0][i] = fwd_keys_ns(obj2nic(nich->obj), &small, 1);
		p1k[1][i] = fwd_keys_ns(obj2nic(nich->obj), &small, VPC_BURST_MAX);
		for (b = 0; b < NBURSTS; b++)
			p1m[b][i] = fwd_keys_ns(obj2nic(nic2->obj), &big, bursts[b]);
	}
	if (swstat_check_remote(big.sw) == 0)
		return (1);

	sw4 = new_switch(5, 400);
	subnet_setup(sw4);
	nbig.sw = obj2sw(sw4->obj);
	draw_addrs(&nsmall, NARP);
	install_nbr(sw4, 0, 100000);
	draw_addrs(&nbig, 100000);
	for (i = 0; i < ROUNDS; i++) {
		n1kr[nn1k++] = nbr_lookup_ns(&nsmall);
		n100k[i] = nbr_lookup_ns(&nbig);
	}
	nmem0 = vpc_mem_bytes();
	install_nbr(sw4, 100000, 1000000);
	nmem1 = vpc_mem_bytes();
	draw_addrs(&nbig, 1000000);
	for (i = 0; i < ROUNDS; i++) {
		n1kr[nn1k++] = nbr_lookup_ns(&nsmall);
		n1m[i] = nbr_lookup_ns(&nbig);
	}
	if (vpc_nbr_count(nbig.sw) != 1000000)
		return (1);

	printf("{\"forward_mpps\": %.3f, \"baseline_mpps\": %.3f, \"ratio\": %.3f",
	    fwd / 1e6, base / 1e6, fwd / base);
	printf(", \"arp_mpps\": %.3f, \"arp_cost_vs_forward\": %.3f", arp / 1e6, fwd / arp);
	printf(", \"forward_addr_mpps\": %.3f, \"addr_ratio\": %.3f", fwda / 1e6,
	    fwda / base);
	printf(", \"lookup_ns\": {\"1k\": %.1f, \"100k\": %.1f, \"1M\": %.1f}",
	    median(l1k, n1k), median(l100k, ROUNDS), median(l1m, ROUNDS));
	printf(", \"lookup_ns_prefetched_1M\": %.1f", median(l1mp, ROUNDS));
	/*
	 * What a lookup at 1M costs inside the data path: the 1k lookup alone
	 * plus what forwarding to 1M MACs costs over forwarding to 1k (the
	 * rest of the path is the same frames, the same code).
	 */
	l1k_m = median(l1k, n1k);
	pk1 = median(p1k[0], ROUNDS);
	pkb = median(p1k[1], ROUNDS);
	printf(", \"forward_burst_mpps\": %.3f, \"burst_ratio\": %.3f",
	    fwdb / 1e6, fwdb / base);
	printf(", \"path_ns\": {\"1k\": %.1f, \"1M\": %.1f}", pk1,
	    median(p1m[0], ROUNDS));
	printf(", \"path_ns_burst\": {\"1k\": %.1f", pkb);
	for (b = 1; b < NBURSTS; b++)
		printf(", \"1M_%u\": %.1f", bursts[b], median(p1m[b], ROUNDS));
	printf("}, \"lookup_ns_in_path_1M\": %.1f, \"lookup_ns_in_path_1M_burst\": %.1f",
	    l1k_m + median(p1m[0], ROUNDS) - pk1,
	    l1k_m + median(p1m[NBURSTS - 1], ROUNDS) - pkb);
	printf(", \"entries\": %u, \"bytes_per_entry\": %.1f, \"table_bytes_per_entry\": %.1f",
	    vpc_cam_count(big.sw), (double)(mem1 - mem0) / 900000.0,
	    (double)vpc_cam_bytes(big.sw) / vpc_cam_count(big.sw));
	printf(", \"nbr_lookup_ns\": {\"1k\": %.1f, \"100k\": %.1f, \"1M\": %.1f}",
	    median(n1kr, nn1k), median(n100k, ROUNDS), median(n1m, ROUNDS));
	printf(", \"nbr_bytes_per_entry\": %.1f, \"cam_entry_size\": %zu, \"nbr_entry_size\": %zu}\n",
	    (double)(nmem1 - nmem0) / 900000.0, sizeof(struct vpc_cam_ent),
	    sizeof(struct vpc_nbr_ent));
	return ((int)(sink & 0));
}
