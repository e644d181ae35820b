/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_ipv6.c: the IPv6 underlay.  The data-path vcc gets 2001:db8:77::1 (an
 * address on lo0) beside 127.0.0.1:
 *  - a remote MAC behind 2001:db8:77::1 makes A's frame leave as VXLAN over
 *    IPv6 (ip6_output()) and come back through the kernel UDP tunnel of
 *    the IPv6 socket (lo0: the round trip);
 *  - a remote MAC behind 2001:db8:78::2, a neighbour on vmnicA's subnet,
 *    makes it leave through an interface that offloads nothing (vmnicA),
 *    so ip6_output() completes the UDP checksum vcc_output6() starts (the
 *    pseudo-header sum and CSUM_UDP_IPV6, what a NIC is asked to finish;
 *    lo0 would only pretend: it marks IPv6 checksums good and cannot be
 *    told otherwise).  bpf on vmnicB, where the switch delivers that
 *    packet, sees it whole: its checksum must be valid.
 */
#include "tests.h"
#include "report.h"

static const uint8_t mac_x6[6] = { 0x02, 0, 0, 0, 0xa, 0x96 };
static const uint8_t mac_x7[6] = { 0x02, 0, 0, 0, 0xa, 0x97 };
static const uint8_t vcc6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, [15] = 1 };
static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x78, [15] = 1 };
static const uint8_t vtep6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x78, [15] = 2 };

/* An IPv6 VXLAN packet (at ip6) for VNI 789 carrying a frame to dst. */
static int
is_vxlan6(const uint8_t *ip6, long len, const uint8_t dst[6])
{
	return (len >= 40 + 8 + 8 + 14 && (ip6[0] >> 4) == 6 && ip6[6] == 17 &&
	    (ip6[42] << 8 | ip6[43]) == 4789 && ip6[48] == 0x08 &&
	    (ip6[52] << 16 | ip6[53] << 8 | ip6[54]) == DP_VNI &&
	    memcmp(ip6 + 56, dst, 6) == 0);
}

/* On lo0 (DLT_NULL: a 4-byte address family first). */
static int
match_lo0(const uint8_t *f, long len, void *arg __attribute__((unused)))
{
	uint32_t af;

	if (len < 4)
		return (0);
	memcpy(&af, f, 4);
	return (af == AF_INET6 && is_vxlan6(f + 4, len - 4, mac_x6));
}

/* On vmnicB (Ethernet, to B). */
static int
match_eth(const uint8_t *f, long len, void *arg __attribute__((unused)))
{
	return (len > 14 && memcmp(f, mac_b, 6) == 0 && f[12] == 0x86 &&
	    f[13] == 0xdd && is_vxlan6(f + 14, len - 14, mac_x7));
}

/* The UDP checksum over the IPv6 pseudo-header (RFC 8200 §8.1): 0 if valid. */
static uint16_t
udp6_cksum(const uint8_t *ip6, long caplen)
{
	uint32_t sum, ulen = (uint32_t)(ip6[44] << 8 | ip6[45]);
	uint8_t pseudo[8] = { 0, 0, (uint8_t)(ulen >> 8), (uint8_t)ulen,
	    0, 0, 0, 17 };

	if ((long)ulen + 40 > caplen)
		return (0xffff);
	sum = cksum_add(0, ip6 + 8, 32);	/* source, destination */
	sum = cksum_add(sum, pseudo, sizeof(pseudo));
	sum = cksum_add(sum, ip6 + 40, ulen);
	return (cksum_fold(sum));
}

static long
cam6(long swd, const uint8_t mac[6], const uint8_t addr[16])
{
	vpc_sw_cam_t cam;
	vpc_cam_set_result_t setres;
	long r;

	memset(&cam, 0, sizeof(cam));
	memcpy(cam.dstmac, mac, 6);
	cam.kind = VPC_CAM_REMOTE;
	cam.af = VPC_AF_INET6;
	memcpy(cam.addr, addr, 16);
	cam.ttl_ms = 600000;
	memset(&setres, 0, sizeof(setres));
	r = vctl_n(swd, VPC_OP_SW_CAM_SET, &cam, sizeof(cam), &setres,
	    sizeof(setres));
	return (r == 0 && setres.applied != 1 ? -1 : r);
}

void
ipv6_underlay(struct dp *d)
{
	static uint8_t pkt[4096];
	vpc_vcc_t vc = d->vc;
	vpc_sw_stats_t st0, st;
	vpc_vcc_stats_t vst0, vst;
	struct tap tl;
	long n;

	expect("ipv6: ifconfig lo0 inet6 2001:db8:77::1/128",
	    if_addr6(d->sock, "lo0", vcc6, 128), 0);
	vc.flags = VPC_VCC_INET | VPC_VCC_INET6;
	memcpy(vc.addr6, vcc6, 16);
	expect("ipv6: VCC_SET 127.0.0.1 and [2001:db8:77::1]:4789 (two sockets)",
	    vctl_n(d->vccd, VPC_OP_VCC_SET, &vc, sizeof(vc), 0, 0), 0);
	expect("ipv6: CAM_SET X6 behind 2001:db8:77::1 (this node)",
	    cam6(d->swd, mac_x6, vcc6), 0);

	/* The round trip through lo0 and the IPv6 tunnel socket. */
	expect("ipv6: bpf on lo0", tap_open(&tl, "lo0"), 0);
	sw_stats(d->swd, &st0);
	vcc_stats(d->vccd, &vst0);
	tap_send(&d->ta, mac_x6, mac_a, 0x61);
	n = tl.fd >= 0 ? tap_find(&tl, match_lo0, 0, pkt, sizeof(pkt)) : 0;
	check("ipv6: A -> X6 left as VXLAN over IPv6 to [2001:db8:77::1]:4789",
	    n > 0, n, 1);
	if (n > 0)
		check("ipv6: from the vcc's address, hop limit set",
		    memcmp(pkt + 4 + 8, vcc6, 16) == 0 && pkt[4 + 7] != 0,
		    pkt[4 + 7], 64);
	tap_close(&tl);
	msleep(200);
	sw_stats(d->swd, &st);
	vcc_stats(d->vccd, &vst);
	check("ipv6: counted as sent (TX_REMOTE, vcc TX)",
	    st.c[VPC_SWSTAT_TX_REMOTE] == st0.c[VPC_SWSTAT_TX_REMOTE] + 1 &&
	    vst.c[VPC_VCCSTAT_TX] == vst0.c[VPC_VCCSTAT_TX] + 1,
	    (long)(vst.c[VPC_VCCSTAT_TX] - vst0.c[VPC_VCCSTAT_TX]), 1);
	check("ipv6: and came back in through the IPv6 UDP tunnel (vcc RX)",
	    vst.c[VPC_VCCSTAT_RX] == vst0.c[VPC_VCCSTAT_RX] + 1,
	    (long)(vst.c[VPC_VCCSTAT_RX] - vst0.c[VPC_VCCSTAT_RX]), 1);
	check("ipv6: to VNI 789, dropped as A's own source (UNDERLAY_SPOOF)",
	    st.c[VPC_SWSTAT_RX_REMOTE] == st0.c[VPC_SWSTAT_RX_REMOTE] + 1 &&
	    st.c[VPC_SWSTAT_DROP_UNDERLAY_SPOOF] ==
	    st0.c[VPC_SWSTAT_DROP_UNDERLAY_SPOOF] + 1,
	    (long)(st.c[VPC_SWSTAT_RX_REMOTE] - st0.c[VPC_SWSTAT_RX_REMOTE]),
	    1);
	check("ipv6: no receive error (RX_BAD)", vst.c[VPC_VCCSTAT_RX_BAD] ==
	    vst0.c[VPC_VCCSTAT_RX_BAD], (long)vst.c[VPC_VCCSTAT_RX_BAD], 0);

	/* Out through an interface that offloads nothing: the checksum. */
	expect("ipv6: ifconfig vmnicA inet6 2001:db8:78::1/64 no_dad",
	    if_addr6(d->sock, d->na, a6, 64), 0);
	expect("ipv6: ndp -s 2001:db8:78::2 (B's MAC) on vmnicA",
	    ndp_set(d->sock, d->na, vtep6, mac_b), 0);
	expect("ipv6: CAM_SET X7 behind 2001:db8:78::2",
	    cam6(d->swd, mac_x7, vtep6), 0);
	tap_send(&d->ta, mac_x7, mac_a, 0x62);
	n = tap_find(&d->tb, match_eth, 0, pkt, sizeof(pkt));
	check("ipv6: A -> X7 left as VXLAN over IPv6 through vmnicA, to B",
	    n > 0, n, 1);
	if (n > 0) {
		check("ipv6: the UDP checksum is filled in (IPv6 has no zero sum)",
		    (pkt[14 + 46] | pkt[14 + 47]) != 0, 0, 1);
		expect("ipv6: and valid over the pseudo-header and the payload "
		    "(completed by ip6_output, CSUM_UDP_IPV6)",
		    udp6_cksum(pkt + 14, n - 14), 0);
	}
	expect("ipv6: the vcc back to IPv4 only",
	    vctl_n(d->vccd, VPC_OP_VCC_SET, &d->vc, sizeof(d->vc), 0, 0), 0);
}
