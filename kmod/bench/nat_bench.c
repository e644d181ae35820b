/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nat_bench: the NAT translation engine alone (vpc_nat_xlate, no objects,
 * no I/O): new SNAT flows a second, the cost of translating a packet of an
 * established flow with 1k and with 1M flows in the table (and the ratio,
 * issue 15 asks <= 2), against an EIP's stateless rewrite, and the bytes a
 * flow costs.  One CPU.  Usage: nat_bench [flows (default 1000000: 2^20 would
 * need more private addresses than 16 pools of 63 blocks hold)].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpc_nat_impl.h"
#include "host_loop.h"
#include "host_pkt.h"

#define ITERS 2000000u

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* A UDP packet (no checksum: the path is the same) from priv:sport. */
static void
udp(uint8_t *ip, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	memset(ip, 0, 28);
	ip[0] = 0x45;
	vpc_put16(ip + 2, 28 + 8);
	ip[8] = 64;
	ip[9] = 17;
	vpc_put32(ip + 12, src);
	vpc_put32(ip + 16, dst);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
	vpc_put16(ip + 20, sport);
	vpc_put16(ip + 22, dport);
	vpc_put16(ip + 24, 8 + 8);
}

/* Flow i: private address 10.x (by i / 1000), port 10000 + i % 1000. */
static uint32_t
priv_of(uint32_t i)
{
	return (0x0a000000u + 1 + i / 1000);
}

static uint16_t
port_of(uint32_t i)
{
	return ((uint16_t)(10000 + i % 1000));
}

/* ns per packet translating outbound packets of flows [0, nflows), in a
 * scrambled order. */
static double
run(struct vpc_nat *n, struct vpc_pkt *p, uint32_t nflows, bool eip)
{
	struct os_epoch et;
	uint8_t *ip = host_pkt_data(p);
	uint32_t k, i;
	double t0;
	int bad = 0;

	t0 = now_s();
	os_epoch_enter(&et);
	for (k = 0; k < ITERS; k++) {
		i = (uint32_t)(((uint64_t)k * 2654435761u) % nflows);
		udp(ip, eip ? 0x0b000001u : priv_of(i), port_of(i), 0xc0000250u, 53);
		bad |= vpc_nat_xlate(n, &p, 0, VPC_NAT_OUT) != VPC_NAT_XLATED;
	}
	os_epoch_exit(&et);
	if (bad)
		printf("nat_bench: a packet was not translated\n");
	return ((now_s() - t0) * 1e9 / ITERS);
}

int
main(int argc, char **argv)
{
	uint32_t nflows = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
	uint32_t i, npriv = (nflows + 999) / 1000;
	struct vpc_nat *n;
	struct vpc_pkt *p;
	struct os_epoch et;
	uint8_t a[4], e[4];
	double t0, setup, small, big, eipns;

	hloop_init();
	if (nflows < 1000 || npriv > 16 * 63 ||
	    vpc_nat_create(nflows, &n) != 0 || (p = host_pkt_new(NULL, 64)) == NULL)
		return (1);
	for (i = 0; i < 16; i++) {
		vpc_put32(a, 0xc6336400u + 1 + i);
		if (vpc_nat_pool_add(n, a, 0, 0, 0) != 0)
			return (1);
	}
	for (i = 0; i < npriv; i++) {
		vpc_put32(a, priv_of(i * 1000));
		vpc_put32(e, 0xc6336400u + 1 + i % 16);
		if (vpc_nat_snat_bind(n, a, e) != 0)
			return (1);
	}
	vpc_put32(a, 0x0b000001u);
	vpc_put32(e, 0xcb00710au);
	(void)vpc_nat_eip_bind(n, a, e);

	/* Flow setup: every flow new, in order. */
	t0 = now_s();
	os_epoch_enter(&et);
	for (i = 0; i < nflows; i++) {
		udp(host_pkt_data(p), priv_of(i), port_of(i), 0xc0000250u, 53);
		if (vpc_nat_xlate(n, &p, 0, VPC_NAT_OUT) != VPC_NAT_XLATED)
			return (1);
	}
	os_epoch_exit(&et);
	setup = (now_s() - t0);
	big = run(n, p, nflows, false);
	small = run(n, p, 1000, false);
	eipns = run(n, p, 1, true);
	printf("nat_bench: %u flows set up at %.0f flows/s\n", nflows,
	    nflows / setup);
	printf("nat_bench: established, 1k flows: %.1f ns/packet; %u flows: "
	    "%.1f ns/packet (ratio %.2f); EIP: %.1f ns/packet\n", small, nflows,
	    big, big / small, eipns);
	printf("nat_bench: a flow is %zu bytes, buckets %zu bytes a flow of the "
	    "limit\n", vpc_nat_flow_size, (size_t)((n->mask + 1) * 2 *
	    sizeof(void *) / nflows));
	os_pkt_free(p);
	vpc_nat_destroy(n);
	hloop_reclaim();
	hloop_fini();
	return (0);
}
