/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_nat: packets through the NAT translation engine (vpc_nat_xlate), not
 * wired to any object yet, so driven directly.  An input is a sequence of
 * records [flags, clock step, length (2 bytes, big-endian), packet]: flags
 * bit 0 picks the direction (0: out, 1: in), bit 1 puts an Ethernet header
 * (14 bytes) in front; the clock moves step * 8 s first, so flows made by
 * one record meet the next, expire, fill the table (8 flows) and exhaust a
 * block (4 ports).  Each input gets a fresh engine: EIP 10.0.0.5 <->
 * 203.0.113.10, SNAT for 10.0.0.6 and 10.0.0.7 on 198.51.100.1.
 *
 * After a translation: the IP header checksum is right; an upper-layer
 * checksum that was right before is right after (a zero UDP checksum stays
 * zero); going out the source is an external address, coming in the
 * destination a private one.  At the end nothing has leaked.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_nat_impl.h"
#include "host_loop.h"
#include "host_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
uint64_t vpc_mem_allocs(void);

static uint64_t now_ns;

static uint64_t
fuzz_clock(void)
{
	return (now_ns);
}

/* The upper layer's checksum (pseudo-header for TCP, UDP) verifies:
 * 1 yes, 0 no, -1 not checkable (fragment, other protocol, none). */
static int
l4_verifies(const uint8_t *ip, uint32_t len)
{
	uint32_t hl = (uint32_t)(ip[0] & 0xf) * 4, s = 0, l4len;
	uint8_t ph[12];

	if ((vpc_get16(ip + 6) & 0x3fff) != 0 || len < hl)
		return (-1);
	l4len = len - hl;
	switch (ip[9]) {
	case 6:
		if (l4len < 20)
			return (-1);
		break;
	case 17:
		if (l4len < 8 || vpc_get16(ip + hl + 6) == 0)
			return (-1);
		break;
	case 1:
		if (l4len < 8)
			return (-1);
		break;
	default:
		return (-1);
	}
	if (ip[9] != 1) {
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = ip[9];
		vpc_put16(ph + 10, (uint16_t)l4len);
		s = vpc_cksum_add(0, ph, 12);
	}
	return (vpc_cksum_finish(vpc_cksum_add(s, ip + hl, l4len)) == 0);
}

static bool
udp_zero(const uint8_t *ip, uint32_t len)
{
	uint32_t hl = (uint32_t)(ip[0] & 0xf) * 4;

	return (ip[9] == 17 && (vpc_get16(ip + 6) & 0x3fff) == 0 &&
	    len >= hl + 8 && vpc_get16(ip + hl + 6) == 0);
}

static void
one(struct vpc_nat *n, const uint8_t *b, uint32_t len, uint8_t flags)
{
	static const uint32_t ext[2] = { 0xcb00710a, 0xc6336401 };
	static const uint32_t priv[3] = { 0x0a000005, 0x0a000006, 0x0a000007 };
	uint32_t l3 = (flags & 2) != 0 ? 14 : 0, iplen = 0, a, i;
	int dir = (flags & 1) != 0 ? VPC_NAT_IN : VPC_NAT_OUT, before = -1, v;
	bool zero = false, ok;
	struct vpc_pkt *p;
	struct vpc_ipinfo ip;
	struct os_epoch et;
	uint8_t *d;

	if ((p = host_pkt_new(b, len)) == NULL)
		return;
	if (vpc_ip_parse(p, l3, &ip) == 0 && ip.af == VPC_AF_INET) {
		iplen = ip.l3len;
		before = l4_verifies(host_pkt_data(p) + l3, iplen);
		zero = udp_zero(host_pkt_data(p) + l3, iplen);
	}
	os_epoch_enter(&et);
	v = vpc_nat_xlate(n, &p, l3, dir);
	os_epoch_exit(&et);
	if (v == VPC_NAT_XLATED) {
		if (p == NULL || iplen == 0)
			abort();
		d = host_pkt_data(p) + l3;
		if (vpc_cksum_finish(vpc_cksum_add(0, d, (size_t)(d[0] & 0xf) *
		    4)) != 0)
			abort();                /* the IP header's */
		if (before == 1 && l4_verifies(d, iplen) != 1)
			abort();                /* the upper layer's */
		if (zero && !udp_zero(d, iplen))
			abort();
		a = vpc_nat_get32(d + (dir == VPC_NAT_OUT ? 12 : 16));
		ok = false;
		for (i = 0; i < (dir == VPC_NAT_OUT ? 2u : 3u); i++)
			ok |= a == (dir == VPC_NAT_OUT ? ext[i] : priv[i]);
		if (!ok)
			abort();                /* leaked or misdirected */
	} else if (v == VPC_NAT_DROP && p == NULL)
		return;
	if (p != NULL)
		os_pkt_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool started;
	static const uint8_t e_priv[4] = { 10, 0, 0, 5 }, e_ext[4] = { 203, 0,
	    113, 10 }, s_ext[4] = { 198, 51, 100, 1 }, s_a[4] = { 10, 0, 0, 6 },
	    s_b[4] = { 10, 0, 0, 7 };
	struct vpc_nat *n;
	uint64_t allocs;
	size_t off = 0;
	uint32_t len;

	if (!started) {
		hloop_init();
		started = true;
	}
	allocs = vpc_mem_allocs();
	if (vpc_nat_create(8, &n) != 0)
		abort();
	now_ns = 1000000000ULL;
	vpc_nat_set_clock(n, fuzz_clock);
	if (vpc_nat_eip_bind(n, e_priv, e_ext) != 0 ||
	    vpc_nat_pool_add(n, s_ext, 1024, 1035, 4) != 0 ||
	    vpc_nat_snat_bind(n, s_a, s_ext) != 0 ||
	    vpc_nat_snat_bind(n, s_b, s_ext) != 0)
		abort();
	while (off + 4 <= size) {
		now_ns += (uint64_t)data[off + 1] * 8 * 1000000000ULL;
		len = (uint32_t)data[off + 2] << 8 | data[off + 3];
		if (len > size - off - 4)
			len = (uint32_t)(size - off - 4);
		if (len > 0)
			one(n, data + off + 4, len, data[off]);
		off += 4 + len;
	}
	if (vpc_nat_snat_unbind(n, s_a) != 0)
		abort();
	vpc_nat_sweep(n);
	vpc_nat_destroy(n);
	hloop_reclaim();
	if (vpc_mem_allocs() != allocs)
		abort();
	return (0);
}
