/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_mtu.c: a vmnic's MTU follows the underlay (vmnic A behind the vcc,
 * IPv4, MTU 1500: 1450); its ifnet's if_mtu follows NIC_SET_MTU, the
 * default and the vcc; "ifconfig mtu" goes through the core; what cannot
 * fit is EINVAL and changes nothing; a frame too big for the underlay gets
 * ICMP back.
 */
#include "tests.h"
#include "report.h"

void
mtu_rules(struct dp *d)
{
	vpc_vcc_t vcopy = d->vc, *vc = &vcopy;
	vpc_nic_mtu_t m;
	const char *na = d->na;
	long a = d->a, sock = d->sock;
	uint64_t gen;
	long r;

	memset(&m, 0, sizeof(m));
	r = vctl_n(a, VPC_OP_NIC_GET_MTU, 0, 0, &m, sizeof(m));
	check("mtu: a vmnic behind a 1500 IPv4 underlay gets 1450", r == 0 &&
	    m.mtu == 1450 && m.fit == 1450 && m.flags == VPC_NIC_MTU_AUTO,
	    r == 0 ? (long)m.mtu : r, 1450);
	expect("mtu: and so does its ifnet", if_mtu(sock, na), 1450);
	memset(&m, 0, sizeof(m));
	m.mtu = 1400;
	expect("mtu: NIC_SET_MTU 1400", vctl_n(a, VPC_OP_NIC_SET_MTU, &m,
	    sizeof(m), 0, 0), 0);
	expect("mtu: if_mtu follows NIC_SET_MTU", if_mtu(sock, na), 1400);
	gen = generation(a);
	m.mtu = 1500;
	expect("mtu: more than the underlay carries is EINVAL", vctl_n(a,
	    VPC_OP_NIC_SET_MTU, &m, sizeof(m), 0, 0), -EINVAL);
	m.mtu = 1279;
	expect("mtu: less than 1280 is EINVAL", vctl_n(a, VPC_OP_NIC_SET_MTU,
	    &m, sizeof(m), 0, 0), -EINVAL);
	expect("mtu: ifconfig mtu 1500 (over the underlay) is EINVAL",
	    if_set_mtu(sock, na, 1500), -EINVAL);
	memset(&m, 0, sizeof(m));
	r = vctl_n(a, VPC_OP_NIC_GET_MTU, 0, 0, &m, sizeof(m));
	check("mtu: ...and none of that changed anything", r == 0 &&
	    m.mtu == 1400 && m.flags == 0 && generation(a) == gen &&
	    if_mtu(sock, na) == 1400, r == 0 ? (long)m.mtu : r, 1400);
	expect("mtu: ifconfig mtu 1300 goes through the core",
	    if_set_mtu(sock, na, 1300), 0);
	memset(&m, 0, sizeof(m));
	r = vctl_n(a, VPC_OP_NIC_GET_MTU, 0, 0, &m, sizeof(m));
	check("mtu: NIC_GET_MTU says 1300", r == 0 && m.mtu == 1300 &&
	    if_mtu(sock, na) == 1300, r == 0 ? (long)m.mtu : r, 1300);
	memset(&m, 0, sizeof(m));
	m.mtu = 9000;
	m.flags = VPC_NIC_MTU_FORCE;
	expect("mtu: 9000 with FORCE", vctl_n(a, VPC_OP_NIC_SET_MTU, &m,
	    sizeof(m), 0, 0), 0);
	expect("mtu: if_mtu 9000", if_mtu(sock, na), 9000);
	memset(&m, 0, sizeof(m));
	expect("mtu: back to the default", vctl_n(a, VPC_OP_NIC_SET_MTU, &m,
	    sizeof(m), 0, 0), 0);
	expect("mtu: if_mtu 1450 again", if_mtu(sock, na), 1450);
	vc->mtu = 9000;
	expect("mtu: the vcc's MTU to 9000", vctl_n(d->vccd, VPC_OP_VCC_SET,
	    vc, sizeof(*vc), 0, 0), 0);
	expect("mtu: the default follows: if_mtu 8950", if_mtu(sock, na), 8950);
	vc->mtu = 0;
	expect("mtu: the vcc's MTU back to 1500", vctl_n(d->vccd,
	    VPC_OP_VCC_SET, vc, sizeof(*vc), 0, 0), 0);
	expect("mtu: if_mtu 1450", if_mtu(sock, na), 1450);
}

/*
 * A VM at 1500 behind a 1450 vmnic: a 1514-byte IPv4 frame with DF to
 * remote X gets ICMP fragmentation needed (MTU 1450) back on vmnicA, made
 * by the core in an mbuf of os_pkt_alloc's; without DF it is only dropped.
 */
void
too_big_rules(struct dp *d)
{
	static const uint8_t src_ip[4] = { 10, 9, 0, 1 }, dst_ip[4] = { 10, 9, 0, 99 };
	static uint8_t f[1514], icmp[1514];
	struct tap *ta = &d->ta;
	vpc_sw_stats_t st0, st;
	vpc_vcc_stats_t vst;
	vpc_nic_mtu_t m;
	uint64_t tx0;
	uint16_t c;
	long n, i;

	vcc_stats(d->vccd, &vst);
	tx0 = vst.c[VPC_VCCSTAT_TX];
	sw_stats(d->swd, &st0);
	memset(&m, 0, sizeof(m));
	m.mtu = 1500;
	m.flags = VPC_NIC_MTU_FORCE;
	expect("too big: vmnicA at 1500 (FORCE: bpf writes up to if_mtu)",
	    vctl_n(d->a, VPC_OP_NIC_SET_MTU, &m, sizeof(m), 0, 0), 0);
	memcpy(f, mac_x, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = 1500 >> 8;
	f[17] = 1500 & 0xff;
	f[20] = 0x40;				/* DF */
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, src_ip, 4);
	memcpy(f + 30, dst_ip, 4);
	for (i = 34; i < (long)sizeof(f); i++)
		f[i] = (uint8_t)i;
	c = cksum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	n = sc3(SYS_write, ta->fd, f, sizeof(f));
	check("too big: a 1514-byte frame with DF written on vmnicA",
	    n == (long)sizeof(f), n, (long)sizeof(f));
	n = tap_expect_icmp(ta, mac_a, icmp, sizeof(icmp));
	check("too big: ICMP comes back on vmnicA, 576 bytes of IPv4",
	    n == 14 + 576, n, 14 + 576);
	if (n == 14 + 576) {
		check("too big: from X's MAC and IP, to A's",
		    memcmp(icmp + 6, mac_x, 6) == 0 &&
		    memcmp(icmp + 26, dst_ip, 4) == 0 &&
		    memcmp(icmp + 30, src_ip, 4) == 0, 0, 0);
		expect("too big: the IP header checksum is valid",
		    cksum(icmp + 14, 20), 0);
		check("too big: type 3 code 4, next-hop MTU 1450", icmp[34] == 3 &&
		    icmp[35] == 4 && (icmp[40] << 8 | icmp[41]) == 1450,
		    icmp[40] << 8 | icmp[41], 1450);
		expect("too big: the ICMP checksum is valid",
		    cksum(icmp + 34, 576 - 20), 0);
		check("too big: it quotes the datagram", memcmp(icmp + 42, f + 14,
		    576 - 28) == 0, 0, 0);
	}
	f[20] = 0;				/* no DF: no answer */
	f[24] = f[25] = 0;
	c = cksum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	n = sc3(SYS_write, ta->fd, f, sizeof(f));
	check("too big: the same without DF", n == (long)sizeof(f), n,
	    (long)sizeof(f));
	expect("too big: gets no answer", tap_expect_icmp(ta, mac_a, icmp,
	    sizeof(icmp)), 0);
	sw_stats(d->swd, &st);
	vcc_stats(d->vccd, &vst);
	check("too big: both counted, one answered, none sent to the underlay",
	    st.c[VPC_SWSTAT_DROP_TOO_BIG] - st0.c[VPC_SWSTAT_DROP_TOO_BIG] == 2 &&
	    st.c[VPC_SWSTAT_ICMP_TOO_BIG] - st0.c[VPC_SWSTAT_ICMP_TOO_BIG] == 1 &&
	    vst.c[VPC_VCCSTAT_TX] == tx0,
	    (long)(st.c[VPC_SWSTAT_DROP_TOO_BIG] -
	    st0.c[VPC_SWSTAT_DROP_TOO_BIG]), 2);
	memset(&m, 0, sizeof(m));
	expect("too big: vmnicA back to the default MTU",
	    vctl_n(d->a, VPC_OP_NIC_SET_MTU, &m, sizeof(m), 0, 0), 0);
}
