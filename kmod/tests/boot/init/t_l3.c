/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_l3.c: what the switch answers itself (issue 12): an ARP request written
 * with bpf(4) on a vmnic gets its reply from the kernel (a local VM's
 * address and the gateway's), a ping to the gateway gets its echo reply, a
 * neighbour solicitation gets its NA, and a gratuitous ARP is dropped and
 * counted.
 */
#include "tests.h"
#include "report.h"

/* Wait (~3 s) for a frame to dst of this EtherType whose byte at `at` is
 * `val` (the ARP op's low byte, the ICMP type); copy it out.  Its length, or 0. */
static long
l3_expect(struct tap *t, const uint8_t dst[6], uint16_t etype, unsigned at,
    uint8_t val, uint8_t *out, size_t max)
{
	long n, off;
	int tries;

	for (tries = 0; tries < 10; tries++) {
		n = sc3(SYS_read, t->fd, t->buf, t->blen);
		if (n < 0)
			return (0);
		for (off = 0; off + 26 <= n;) {
			uint32_t caplen;
			uint16_t hdrlen;
			const uint8_t *f;

			memcpy(&caplen, t->buf + off + 16, 4);
			memcpy(&hdrlen, t->buf + off + 24, 2);
			f = t->buf + off + hdrlen;
			if (caplen > at && caplen <= max && memcmp(f, dst, 6) == 0 &&
			    f[12] == (etype >> 8) && f[13] == (etype & 0xff) &&
			    f[at] == val) {
				memcpy(out, f, caplen);
				return (caplen);
			}
			off += (hdrlen + caplen + 7) & ~7L;	/* BPF_WORDALIGN */
		}
	}
	return (0);
}

static long
l3_arp(struct tap *t, const uint8_t src[6], const uint8_t spa[4],
    const uint8_t tpa[4])
{
	uint8_t f[60];

	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	f[15] = 1;
	f[16] = 0x08;
	f[18] = 6;
	f[19] = 4;
	f[21] = 1;
	memcpy(f + 22, src, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 38, tpa, 4);
	return (sc3(SYS_write, t->fd, f, sizeof(f)));
}

static void
l3_put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* An echo request from src to the gateway (its MAC gwmac, address gw). */
static long
l3_ping(struct tap *t, const uint8_t src[6], const uint8_t gwmac[6],
    const uint8_t sip[4], const uint8_t gw[4])
{
	uint8_t f[14 + 20 + 8 + 16], *ip = f + 14, *icmp = ip + 20;

	memset(f, 0, sizeof(f));
	memcpy(f, gwmac, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	l3_put16(ip + 2, 20 + 8 + 16);
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, gw, 4);
	l3_put16(ip + 10, cksum(ip, 20));
	icmp[0] = 8;
	l3_put16(icmp + 4, 0x4242);
	l3_put16(icmp + 6, 7);
	memcpy(icmp + 8, "vpc-boot-echo...", 16);
	l3_put16(icmp + 2, cksum(icmp, 8 + 16));
	return (sc3(SYS_write, t->fd, f, sizeof(f)));
}

/* A neighbour solicitation from sip (with the source link-layer option)
 * for target, to its solicited-node group. */
static long
l3_ns(struct tap *t, const uint8_t src[6], const uint8_t sip[16],
    const uint8_t target[16])
{
	uint8_t f[14 + 40 + 32], *ip = f + 14, *icmp = ip + 40, ps[40 + 32];

	memset(f, 0, sizeof(f));
	f[0] = 0x33;
	f[1] = 0x33;
	f[2] = 0xff;
	memcpy(f + 3, target + 13, 3);
	memcpy(f + 6, src, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip[0] = 0x60;
	l3_put16(ip + 4, 32);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, sip, 16);
	ip[24] = 0xff;
	ip[25] = 0x02;
	ip[35] = 1;
	ip[36] = 0xff;
	memcpy(ip + 37, target + 13, 3);
	icmp[0] = 135;
	memcpy(icmp + 8, target, 16);
	icmp[24] = 1;
	icmp[25] = 1;
	memcpy(icmp + 26, src, 6);
	/* The checksum covers the pseudo-header: addresses, length, next header. */
	memset(ps, 0, sizeof(ps));
	memcpy(ps, ip + 8, 32);
	ps[35] = 32;
	ps[39] = 58;
	memcpy(ps + 40, icmp, 32);
	l3_put16(icmp + 2, cksum(ps, sizeof(ps)));
	return (sc3(SYS_write, t->fd, f, sizeof(f)));
}

static uint64_t
l3_stat(long swd, unsigned which)
{
	vpc_sw_stats_t st;

	memset(&st, 0, sizeof(st));
	if (vctl_n(swd, VPC_OP_SW_GET_STATS, 0, 0, &st, sizeof(st)) != 0)
		return (~0ull);
	return (st.c[which]);
}

void
l3_checks(long sock)
{
	static const uint8_t ma[6] = { 0x02, 0, 0, 0, 0xc, 0x01 };
	static const uint8_t mb[6] = { 0x02, 0, 0, 0, 0xc, 0x02 };
	static const uint8_t ip_a[4] = { 10, 9, 0, 10 }, ip_b[4] = { 10, 9, 0, 11 };
	static const uint8_t ip6_a[16] = { 0x20, 1, 0xd, 0xb8, 0, 9, [15] = 0xa };
	static const uint8_t ip6_b[16] = { 0x20, 1, 0xd, 0xb8, 0, 9, [15] = 0xb };
	vpc_id_t swid = mkid(60);
	vpc_sw_subnet_t sn;
	vpc_sw_gateway_t gw;
	vpc_nic_addr_t ad;
	vpc_swport_t req, res;
	struct tap ta;
	uint8_t f[256];
	char na[VPC_IFNAMSIZ];
	long swd, a = -1, b = -1, r, n;
	uint64_t garp;

	swd = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("l3: a switch", swd >= 0, swd, 3);
	if (swd < 0)
		return;
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	memcpy(sn.addr, (uint8_t[]){ 10, 9, 0, 0 }, 4);
	expect("l3: SW_SET_SUBNET 10.9.0.0/24",
	    vctl_n(swd, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), 0, 0), 0);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET6;
	sn.prefixlen = 64;
	memcpy(sn.addr, ip6_a, 8);
	expect("l3: SW_SET_SUBNET 2001:db8:9::/64",
	    vctl_n(swd, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), 0, 0), 0);
	memset(&gw, 0, sizeof(gw));
	r = vctl_n(swd, VPC_OP_SW_GET_GATEWAY, 0, 0, &gw, sizeof(gw));
	check("l3: the gateway is the subnet's first host", r == 0 && gw.has4 &&
	    gw.addr4[0] == 10 && gw.addr4[3] == 1 && gw.mac[0] == 0x02, r, 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, ma, 6);
	r = vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	if (r == 0)
		a = res.descriptor;
	memcpy(req.smac, mb, 6);
	r = vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	if (r == 0)
		b = res.descriptor;
	check("l3: two vmnic ports", a >= 0 && b >= 0, r, 0);
	if (a < 0 || b < 0)
		goto out;
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET | VPC_NIC_ADDR_INET6;
	memcpy(ad.addr4, ip_a, 4);
	memcpy(ad.addr6, ip6_a, 16);
	expect("l3: NIC_SET_ADDR on A", vctl_n(a, VPC_OP_NIC_SET_ADDR, &ad,
	    sizeof(ad), 0, 0), 0);
	memcpy(ad.addr4, ip_b, 4);
	memcpy(ad.addr6, ip6_b, 16);
	expect("l3: NIC_SET_ADDR on B", vctl_n(b, VPC_OP_NIC_SET_ADDR, &ad,
	    sizeof(ad), 0, 0), 0);
	expect("l3: B's address on A is EADDRINUSE", vctl_n(a,
	    VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), 0, 0), -VPC_EADDRINUSE);
	if (nic_ifname(a, na) != 0 || if_up(sock, na) != 0 || tap_open(&ta, na) != 0) {
		check("l3: vmnic A up, bpf on it", 0, 0, 1);
		goto out;
	}

	/* ARP for B, from A: the switch answers with B's MAC. */
	expect("l3: bpf write of an ARP request for B", l3_arp(&ta, ma, ip_a, ip_b), 60);
	n = l3_expect(&ta, ma, 0x0806, 21, 2, f, sizeof(f));
	check("l3: the kernel's ARP reply: B's address is at B's MAC", n >= 42 &&
	    memcmp(f + 6, mb, 6) == 0 && memcmp(f + 22, mb, 6) == 0 &&
	    memcmp(f + 28, ip_b, 4) == 0 && memcmp(f + 32, ma, 6) == 0, n, 60);
	/* ARP for the gateway: its MAC. */
	expect("l3: bpf write of an ARP request for the gateway",
	    l3_arp(&ta, ma, ip_a, gw.addr4), 60);
	n = l3_expect(&ta, ma, 0x0806, 21, 2, f, sizeof(f));
	check("l3: the kernel's ARP reply for the gateway: its MAC", n >= 42 &&
	    memcmp(f + 22, gw.mac, 6) == 0 && memcmp(f + 28, gw.addr4, 4) == 0, n, 60);
	/* A ping to the gateway: the echo reply, same id, sequence and data. */
	expect("l3: bpf write of an echo request to the gateway",
	    l3_ping(&ta, ma, gw.mac, ip_a, gw.addr4), 14 + 20 + 8 + 16);
	n = l3_expect(&ta, ma, 0x0800, 34, 0, f, sizeof(f));
	check("l3: the gateway's echo reply", n >= 14 + 20 + 8 + 16 &&
	    memcmp(f + 6, gw.mac, 6) == 0 && memcmp(f + 26, gw.addr4, 4) == 0 &&
	    memcmp(f + 30, ip_a, 4) == 0 && f[38] == 0x42 && f[41] == 7 &&
	    memcmp(f + 42, "vpc-boot-echo...", 16) == 0 &&
	    cksum(f + 14, 20) == 0 && cksum(f + 34, 8 + 16) == 0, n, 58);
	/* An NS for B's IPv6 address: an NA from B's MAC, S and O set. */
	expect("l3: bpf write of a neighbour solicitation for B",
	    l3_ns(&ta, ma, ip6_a, ip6_b), 14 + 40 + 32);
	n = l3_expect(&ta, ma, 0x86dd, 54, 136, f, sizeof(f));
	check("l3: the kernel's neighbour advertisement: B's MAC", n >= 14 + 40 + 32 &&
	    memcmp(f + 6, mb, 6) == 0 && memcmp(f + 54 + 8, ip6_b, 16) == 0 &&
	    f[54 + 4] == 0x60 && f[54 + 24] == 2 && memcmp(f + 54 + 26, mb, 6) == 0, n, 86);
	/* A gratuitous ARP is not answered: dropped and counted. */
	garp = l3_stat(swd, VPC_SWSTAT_ARP_GRATUITOUS);
	l3_arp(&ta, ma, ip_a, ip_a);
	for (r = 0; r < 30 && l3_stat(swd, VPC_SWSTAT_ARP_GRATUITOUS) == garp; r++)
		msleep(100);
	check("l3: a gratuitous ARP is dropped and counted",
	    l3_stat(swd, VPC_SWSTAT_ARP_GRATUITOUS) == garp + 1,
	    (long)l3_stat(swd, VPC_SWSTAT_ARP_GRATUITOUS), (long)garp + 1);
	check("l3: counters: ARP replies, NA replies, the gateway's echo",
	    l3_stat(swd, VPC_SWSTAT_ARP_REPLIES) == 2 &&
	    l3_stat(swd, VPC_SWSTAT_NA_REPLIES) == 1 &&
	    l3_stat(swd, VPC_SWSTAT_GW_TO_GATEWAY) == 1,
	    (long)l3_stat(swd, VPC_SWSTAT_ARP_REPLIES), 2);
	sc3(SYS_close, ta.fd, 0, 0);
out:
	if (a >= 0)
		sc3(SYS_close, a, 0, 0);
	if (b >= 0)
		sc3(SYS_close, b, 0, 0);
	sc3(SYS_close, swd, 0, 0);
	invariants("l3: the core's invariants hold");
}
