/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fw_bench: the port firewall in the core, no I/O (outputs only freed):
 * established-flow frames through a 100-rule ingress set against the same
 * frames with no firewall (ratio), new flows a second through 10, 100 and
 * 480 rules (the last rule allows), the firewall's cost per packet with 1M
 * flows against 1k, and the memory of a flow.  The ratio and the lookup
 * cost are printed twice, labelled: frames handed over one at a time
 * (vpc_nic_input, the data path until bursts) and in bursts of 32
 * (vpc_nic_input_burst, what vpc-hostd now does with a TAP's frames).
 * Modes for a profiler: "est [n]" and "base [n]" (established frames with
 * / without the set), "ab [chunks] [burst]" (the ratio alone), "lookup n
 * [stride] [burst]" (the lookup measure at n flows alone, made with that
 * stride: 1 by default; frames burst at a time: 1 by default).
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

/*
 * vpc-hostd's loop reads the coarse clock once a wakeup and the data path
 * reads that copy (host_os.c); a wakeup reads up to 64 frames of a TAP
 * (TAP_READ_BATCH) for each of up to 256 ready descriptors.  The bench
 * refreshes the copy every CLOCK_EVERY frames: what one busy TAP gives.
 */
#define CLOCK_EVERY 64

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

static void udp_frame2(uint8_t *b, uint16_t sport, uint16_t dport);

static void
udp_frame(uint8_t *b, uint16_t sport)
{
	udp_frame2(b, sport, 53);
}

static void
udp_frame2(uint8_t *b, uint16_t sport, uint16_t dport)
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
	vpc_put16(ip + 22, dport);
	vpc_put16(ip + 24, 8);
}

/*
 * How frames reach the switch: burst 1, one vpc_nic_input each in its own
 * epoch section (the data path until bursts); more, vpc_nic_input_burst on
 * that many at a time in one section with a tx batch, as vpc-hostd now
 * hands over what it read from a TAP.
 */
static unsigned burst = 1;
static struct vpc_txbatch tx;
static struct vpc_pkt *pend[VPC_BURST_MAX];
static unsigned npend;

static void
flush(void)
{
	struct os_epoch et;

	if (npend == 0)
		return;
	os_epoch_enter(&et);
	vpc_nic_input_burst(obj2nic(na->obj), pend, npend, &tx);
	os_epoch_exit(&et);
	npend = 0;
}

/* One frame at a time: exactly the loop main's bench had, so that the
 * one-at-a-time figures compare with earlier runs. */
static inline void
put(struct vpc_pkt *p)
{
	struct os_epoch et;

	if (burst <= 1) {
		os_epoch_enter(&et);
		vpc_nic_input(obj2nic(na->obj), p);
		os_epoch_exit(&et);
		return;
	}
	pend[npend++] = p;
	if (npend >= burst)
		flush();
}

static double
run_frames(int n, uint16_t sport0, int distinct)
{
	uint8_t b[64];
	double t0 = now_s();
	int i;

	for (i = 0; i < n; i++) {
		if (i % CLOCK_EVERY == 0)
			host_clock_refresh();   /* as the loop does */
		udp_frame(b, (uint16_t)(sport0 + (distinct ? i : 0)));
		put(host_pkt_new(b, 64));
		if ((i & 1023) == 0)
			hloop_reclaim();
	}
	flush();
	return ((now_s() - t0) / n * 1e9);
}

static void attach(uint32_t in);

/*
 * Flow i of a population: (source port, destination port) from i, so up
 * to 2^26 distinct flows between the same two addresses.  Frames are built
 * ahead (checksums and all) and visited in a scattered order (a stride
 * prime to n), so the time is the lookup's, cache misses included, not
 * the building's nor a walk the prefetcher guesses.
 */
static uint8_t (*pop)[64];

static void
pop_build(uint32_t n)
{
	uint32_t i;

	free(pop);
	if ((pop = malloc((size_t)n * 64)) == NULL)
		abort();
	for (i = 0; i < n; i++)
		udp_frame2(pop[i], (uint16_t)(1024 + (i & 1023)),
		    (uint16_t)(1024 + (i >> 10)));
}

static double
run_pop_stride(uint32_t n, uint32_t frames, uint32_t stride)
{
	double t0 = now_s();
	uint32_t i, j = 0;

	for (i = 0; i < frames; i++) {
		if (i % CLOCK_EVERY == 0)
			host_clock_refresh();   /* as the loop does */
		j = (j + stride) % n;
		put(host_pkt_new(pop[j], 64));
		if ((i & 1023) == 0)
			hloop_reclaim();
	}
	flush();
	return ((now_s() - t0) / frames * 1e9);
}

static double
run_pop(uint32_t n, uint32_t frames)
{
	return (run_pop_stride(n, frames, 40503));     /* prime */
}

/* Flows in the table now. */
static uint32_t
flows_now(void)
{
	vpc_fw_config_t c;

	memset(&c, 0, sizeof(c));
	if (ctl(NULL, VPC_OP_FW_GET_CONFIG, NULL, 0, &c, sizeof(c)) != 0)
		abort();
	return (c.flows);
}

/*
 * The firewall's cost per established packet with n flows in the table:
 * the same scattered frames with the set (every flow made first) minus
 * without it, each side's best chunk of 200,000 frames (three a side a
 * round; 15 rounds at 1k, 3 at 1M, where a round makes a million flows):
 * the VM is shared, and a chunk that lost the CPU or the memory bus to
 * other work says nothing about either path.  Set 103 allows all UDP in.
 * made_stride: the order the flows are made in.  The timed frames visit
 * them with a stride of 40503; made in that same order, flow i's entry is
 * allocated just after flow i-1's and the entries are read as a sequence
 * the CPU's prefetcher follows (only the buckets are scattered: the
 * measure main had); made in index order (stride 1), the entries are as
 * scattered as the buckets, as when flows are not met in the order they
 * started, which is the usual case.
 */
static double
lookup_cost(uint32_t n, uint32_t made_stride, double *with, double *without)
{
	double t;
	int r, k, rounds = n <= 65536 ? 15 : 3;

	pop_build(n);
	*with = *without = 1e30;
	for (r = 0; r < rounds; r++) {
		attach(0);                      /* flushes the port's flows */
		hloop_reclaim();                /* their frees: not timed */
		for (k = 0; k < 3; k++)
			if ((t = run_pop(n, 200000)) < *without)
				*without = t;
		attach(103);
		(void)run_pop_stride(n, n, made_stride);    /* the flows */
		if (flows_now() != n) {         /* none refused: all timed hit */
			fprintf(stderr, "fw_bench: %u flows of %u made\n",
			    flows_now(), n);
			abort();
		}
		for (k = 0; k < 3; k++)
			if ((t = run_pop(n, 200000)) < *with)
				*with = t;
	}
	attach(0);
	return (*with - *without);
}

/*
 * The same frames without and with the 100-rule set, in alternating chunks
 * (the machine is shared: a chunk that lost the CPU or its caches to
 * another process says nothing about either path), each side's fastest
 * chunk kept.  Re-attaching the set flushes the port's flows, so each
 * firewall chunk starts with one new flow (a microsecond in 20,000 frames).
 */
static void
run_ab(int chunks, int per, double *base, double *fw)
{
	double t;
	int i;

	*base = *fw = 1e30;
	for (i = 0; i < chunks; i++) {
		attach(0);
		if ((t = run_frames(per, 5000, 0)) < *base)
			*base = t;
		attach(101);
		(void)run_frames(1, 5000, 0);           /* the flow */
		if ((t = run_frames(per, 5000, 0)) < *fw)
			*fw = t;
	}
	attach(0);
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
main(int argc, char **argv)
{
	vpc_id_t id;
	vpc_sw_vni_t v = { .vni = 77 };
	vpc_swport_t req, res;
	vpc_fw_config_t c;
	vpc_fw_set_t s;
	double base, fw, nf;
	uint32_t sizes[] = { 10, 100, 480 }, k;
	int round;
	vpc_fw_rule_t r1[1];
	double c1k, c1m, w1k, wo1k, w1m, wo1m;
	static const char *const how[2] = {
		"one frame at a time (vpc_nic_input)",
		"bursts of 32 (vpc_nic_input_burst, vpc-hostd's path)",
	};
	static const struct {
		uint32_t    stride;
		const char *what;
	} made[] = {
		{ 40503, "in the order the frames visit them (entries read in sequence)" },
		{ 1, "in another order (entries scattered)" },
	};

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
	/* The 1M population fills the table to its limit: the worst load. */
	c.max_flows = c.max_flows_port = 1u << 20;
	ctl(NULL, VPC_OP_FW_SET_CONFIG, &c, sizeof(c), NULL, 0);
	memset(&s, 0, sizeof(s));
	for (k = 0; k < 3; k++) {
		s.id = 100 + k;
		ctl(NULL, VPC_OP_FW_SET_CREATE, &s, sizeof(s), NULL, 0);
		rules(s.id, sizes[k]);
	}
	if (argc > 1 && strcmp(argv[1], "ab") == 0) {
		burst = argc > 3 ? (unsigned)atoi(argv[3]) : 1;
		if (burst < 1 || burst > VPC_BURST_MAX)
			burst = 1;
		run_ab(argc > 2 ? atoi(argv[2]) : 50, 20000, &base, &fw);
		printf("%.1f vs %.1f: %.2f\n", fw, base, base / fw);
		vpc_core_close(sys, sw);
		return (0);
	}
	if (argc > 1 && strcmp(argv[1], "est") == 0) {
		/* For a profiler: established frames only, through the set. */
		attach(101);
		(void)run_frames(1, 5000, 0);
		fw = run_frames(argc > 2 ? atoi(argv[2]) : 5000000, 5000, 0);
		printf("established flow, 100-rule set: %.1f ns/frame\n", fw);
		attach(0);
		vpc_core_close(sys, sw);
		return (0);
	}
	if (argc > 2 && strcmp(argv[1], "lookup") == 0) {
		/* For a profiler: the 1k/1M lookup measure at one size. */
		memset(r1, 0, sizeof(r1));
		r1[0].set_id = s.id = 103;
		r1[0].dir = VPC_FW_DIR_IN;
		r1[0].action = VPC_FW_ALLOW;
		r1[0].proto = VPC_FW_PROTO_UDP;
		ctl(NULL, VPC_OP_FW_SET_CREATE, &s, sizeof(s), NULL, 0);
		if (ctl(NULL, VPC_OP_FW_SET_RULES, r1, sizeof(r1), NULL, 0) != 0)
			abort();
		burst = argc > 4 ? (unsigned)atoi(argv[4]) : 1;
		if (burst < 1 || burst > VPC_BURST_MAX)
			burst = 1;
		c1k = lookup_cost((uint32_t)atoi(argv[2]),
		    argc > 3 ? (uint32_t)atoi(argv[3]) : 1, &w1k, &wo1k);
		printf("flow lookup, %s flows, frames %u at a time: %.1f ns/frame vs %.1f without: the firewall adds %.1f ns\n",
		    argv[2], burst, w1k, wo1k, c1k);
		vpc_core_close(sys, sw);
		return (0);
	}
	if (argc > 1 && strcmp(argv[1], "base") == 0) {
		base = run_frames(argc > 2 ? atoi(argv[2]) : 5000000, 5000, 0);
		printf("no firewall: %.1f ns/frame\n", base);
		vpc_core_close(sys, sw);
		return (0);
	}
	printf("flow: %zu bytes an entry (limit 128), plus its share of the buckets\n", vpc_fw_flow_size);
	for (round = 0; round < 6; round++) {
		burst = round % 2 == 0 ? 1 : VPC_BURST_MAX;
		run_ab(20, 20000, &base, &fw);
		printf("established flow, 100-rule set, %s: %.1f ns/frame vs %.1f without: ratio %.2f (no firewall / firewall; best of 20 alternating chunks of 20,000 each)\n",
		    how[burst > 1], fw, base, base / fw);
	}
	burst = 1;
	for (k = 0; k < 3; k++) {
		attach(0);
		attach(100 + k);
		nf = run_frames(100000, 10000, 1);
		printf("new flows through %u rules (the last allows): %.0f flows/s (%.1f ns each)\n",
		    sizes[k], 1e9 / nf, nf);
	}
	attach(0);
	memset(r1, 0, sizeof(r1));
	r1[0].set_id = s.id = 103;
	r1[0].dir = VPC_FW_DIR_IN;
	r1[0].action = VPC_FW_ALLOW;
	r1[0].proto = VPC_FW_PROTO_UDP;
	ctl(NULL, VPC_OP_FW_SET_CREATE, &s, sizeof(s), NULL, 0);
	if (ctl(NULL, VPC_OP_FW_SET_RULES, r1, sizeof(r1), NULL, 0) != 0)
		abort();
	printf("flow lookup: flow limits raised for this bench to %u per port, %u in all (VPC_OP_FW_SET_CONFIG)\n",
	    c.max_flows_port, c.max_flows);
	for (k = 0; k < 4; k++) {
		burst = k % 2 == 0 ? 1 : VPC_BURST_MAX;
		c1k = lookup_cost(1024, made[k / 2].stride, &w1k, &wo1k);
		c1m = lookup_cost(1u << 20, made[k / 2].stride, &w1m, &wo1m);
		printf("flow lookup, %s, flows made %s, 1k flows: %.1f ns/frame vs %.1f without: the firewall adds %.1f ns\n",
		    how[burst > 1], made[k / 2].what, w1k, wo1k, c1k);
		printf("flow lookup, %s, flows made %s, 1M flows: %.1f ns/frame vs %.1f without: the firewall adds %.1f ns (%.2fx the cost at 1k; limit 2x)\n",
		    how[burst > 1], made[k / 2].what, w1m, wo1m, c1m, c1m / c1k);
	}
	burst = 1;
	printf("memory per flow at 1M (the limit): %zu-byte entry (allocated as %zu) + %.1f bytes of buckets (%u buckets of 64 bytes for the %u-flow limit) = %.1f bytes (limit 128)\n",
	    vpc_fw_flow_size, (vpc_fw_flow_size + 8 + 15) & ~(size_t)15,
	    (double)vpc_fw_buckets(sys) * 64 / (1u << 20), vpc_fw_buckets(sys),
	    c.max_flows, (double)((vpc_fw_flow_size + 8 + 15) & ~(size_t)15) +
	    (double)vpc_fw_buckets(sys) * 64 / (1u << 20));
	vpc_core_close(sys, sw);
	return (0);
}
