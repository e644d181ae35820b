/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_dhcp.c: DHCP and router advertisements from the switch (vpc_dhcp.c,
 * vpc_ra.c).
 */
#include "tests.h"
#include "report.h"

/*
 * DHCP and router advertisements from the switch (vpc_dhcp.c, vpc_ra.c):
 * a switch on 10.77.0.0/24 and fd77::/64 with one vmnic port (10.77.0.10,
 * DHCP on).  A DISCOVER written with bpf on the vmnic gets an OFFER of its
 * address from the gateway; a router solicitation gets an advertisement
 * from the gateway's link-local; with a 4 s interval an unsolicited one
 * comes from the switch's timer (a callout with no mutex, into the epoch).
 */
static long
tap_expect_l4(struct tap *t, const uint8_t dst[6], int v6, uint8_t *out,
    size_t max)
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
			if (caplen <= max && memcmp(f, dst, 6) == 0 && (v6 ?
			    caplen >= 62 && f[12] == 0x86 && f[13] == 0xdd &&
			    f[20] == 58 && f[54] == 134 :
			    caplen >= 42 + 240 && f[12] == 0x08 && f[13] == 0 &&
			    f[23] == 17 && f[34] == 0 && f[35] == 67)) {
				memcpy(out, f, caplen);
				return (caplen);
			}
			off += (hdrlen + caplen + 7) & ~7L;	/* BPF_WORDALIGN */
		}
	}
	return (0);
}

void
dhcp_ra(long sock)
{
	static const uint8_t me4[4] = { 10, 77, 0, 10 }, gw4[4] = { 10, 77, 0, 1 };
	static const uint8_t mcast_all[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static uint8_t f[400], in[1514];
	vpc_id_t swid = mkid(50);
	vpc_swport_t req, res;
	vpc_sw_subnet_t sub;
	vpc_nic_addr_t ad;
	vpc_nic_dhcp_t dh;
	vpc_sw_gateway_t gw;
	vpc_sw_policy_t pol;
	vpc_sw_stats_t st;
	struct tap ta;
	char na[VPC_IFNAMSIZ];
	uint32_t sum;
	long swd, a = -1, r, n, i;

	ta.fd = -1;
	swd = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("dhcp: a switch", swd >= 0, swd, 3);
	if (swd < 0)
		return;
	memset(&sub, 0, sizeof(sub));
	sub.af = VPC_AF_INET;
	sub.prefixlen = 24;
	memcpy(sub.addr, (uint8_t[]){ 10, 77, 0, 0 }, 4);
	expect("dhcp: subnet 10.77.0.0/24", vctl_n(swd, VPC_OP_SW_SET_SUBNET,
	    &sub, sizeof(sub), 0, 0), 0);
	memset(&sub, 0, sizeof(sub));
	sub.af = VPC_AF_INET6;
	sub.prefixlen = 64;
	sub.addr[0] = 0xfd;
	sub.addr[1] = 0x77;
	expect("dhcp: subnet fd77::/64", vctl_n(swd, VPC_OP_SW_SET_SUBNET,
	    &sub, sizeof(sub), 0, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_a, 6);
	r = vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	if (r == 0)
		a = res.descriptor;
	check("dhcp: a vmnic port", r == 0 && a >= 0, r, 0);
	if (a < 0 || nic_ifname(a, na) != 0)
		goto out;
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET | VPC_NIC_ADDR_INET6;
	memcpy(ad.addr4, me4, 4);
	/* fd77::ff:fe00:a01, what SLAAC forms from mac_a: the RA says A. */
	memcpy(ad.addr6, (uint8_t[]){ 0xfd, 0x77, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0xff, 0xfe, 0, 0x0a, 0x01 }, 16);
	expect("dhcp: NIC_SET_ADDR 10.77.0.10, fd77::ff:fe00:a01",
	    vctl_n(a, VPC_OP_NIC_SET_ADDR,
	    &ad, sizeof(ad), 0, 0), 0);
	memset(&dh, 0, sizeof(dh));
	dh.flags = VPC_DHCP_ENABLE;
	memcpy(dh.hostname, "vm-a", 5);
	expect("dhcp: NIC_SET_DHCP on", vctl_n(a, VPC_OP_NIC_SET_DHCP, &dh,
	    sizeof(dh), 0, 0), 0);
	memset(&gw, 0, sizeof(gw));
	expect("dhcp: SW_GET_GATEWAY", vctl_n(swd, VPC_OP_SW_GET_GATEWAY, 0, 0,
	    &gw, sizeof(gw)), 0);
	expect("dhcp: ifconfig up", if_up(sock, na), 0);
	expect("dhcp: bpf on the vmnic", tap_open(&ta, na), 0);
	if (ta.fd < 0)
		goto out;

	/* DHCPDISCOVER from 0.0.0.0 to the broadcast, no UDP checksum. */
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (20 + 8 + 244) >> 8;
	f[17] = (20 + 8 + 244) & 0xff;
	f[22] = 64;
	f[23] = 17;
	memset(f + 30, 0xff, 4);
	sum = cksum(f + 14, 20);
	f[24] = (uint8_t)(sum >> 8);
	f[25] = (uint8_t)sum;
	f[35] = 68;
	f[37] = 67;
	f[39] = 8 + 244;
	f[42] = 1;				/* BOOTREQUEST */
	f[43] = 1;
	f[44] = 6;
	f[46] = 0x5a;				/* xid */
	memcpy(f + 42 + 28, mac_a, 6);		/* chaddr */
	memcpy(f + 42 + 236, (uint8_t[]){ 99, 130, 83, 99, 53, 1, 1, 255 }, 8);
	n = sc3(SYS_write, ta.fd, f, 42 + 244);
	check("dhcp: a DISCOVER written on the vmnic", n == 42 + 244, n, 42 + 244);
	n = tap_expect_l4(&ta, mac_a, 0, in, sizeof(in));
	check("dhcp: an OFFER comes back, to the vmnic's MAC", n > 0, n, 1);
	if (n > 0) {
		check("dhcp: from the gateway's MAC and 10.77.0.1",
		    memcmp(in + 6, gw.mac, 6) == 0 && memcmp(in + 26, gw4, 4) == 0,
		    0, 0);
		check("dhcp: yiaddr is the vmnic's address 10.77.0.10",
		    memcmp(in + 42 + 16, me4, 4) == 0 && in[42 + 4] == 0x5a,
		    in[42 + 19], 10);
		check("dhcp: message type OFFER, then server id 10.77.0.1",
		    in[42 + 240] == 53 && in[42 + 242] == 2 &&
		    in[42 + 243] == 54 && memcmp(in + 42 + 245, gw4, 4) == 0,
		    in[42 + 242], 2);
		expect("dhcp: the IP header checksum is valid", cksum(in + 14, 20), 0);
	}

	/* A router solicitation from fe80::a01 with its link-layer address. */
	memset(f, 0, sizeof(f));
	memcpy(f, (uint8_t[]){ 0x33, 0x33, 0, 0, 0, 2 }, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[19] = 16;				/* payload length */
	f[20] = 58;
	f[21] = 255;
	f[22] = 0xfe;
	f[23] = 0x80;
	f[36] = 0x0a;
	f[37] = 0x01;
	f[38] = 0xff;
	f[39] = 0x02;
	f[53] = 2;
	f[54] = 133;				/* RS */
	f[62] = 1;				/* source link-layer address */
	f[63] = 1;
	memcpy(f + 64, mac_a, 6);
	{
		uint8_t ph[40 + 16];

		memcpy(ph, f + 22, 32);
		memset(ph + 32, 0, 8);
		ph[35] = 16;
		ph[39] = 58;
		memcpy(ph + 40, f + 54, 16);
		sum = cksum(ph, sizeof(ph));
		f[56] = (uint8_t)(sum >> 8);
		f[57] = (uint8_t)sum;
	}
	n = sc3(SYS_write, ta.fd, f, 70);
	check("ra: a router solicitation written on the vmnic", n == 70, n, 70);
	n = tap_expect_l4(&ta, mac_a, 1, in, sizeof(in));
	check("ra: an advertisement comes back, to the vmnic's MAC", n > 0, n, 1);
	if (n > 0) {
		check("ra: from the gateway's link-local, hop limit 255",
		    memcmp(in + 22, gw.ll6, 16) == 0 && in[21] == 255, in[21], 255);
		check("ra: M and O clear, a router lifetime",
		    (in[59] & 0xc0) == 0 && (in[60] << 8 | in[61]) != 0, in[59], 0);
		for (i = 70; i + 32 <= n && in[i] != 3; i += in[i + 1] * 8)
			if (in[i + 1] == 0)
				break;
		check("ra: the prefix fd77::/64, on-link and autonomous",
		    i + 32 <= n && in[i] == 3 && in[i + 2] == 64 &&
		    in[i + 3] == 0xc0 && in[i + 16] == 0xfd && in[i + 17] == 0x77,
		    i, 0);
	}
	memset(&st, 0, sizeof(st));
	vctl_n(swd, VPC_OP_SW_GET_STATS, 0, 0, &st, sizeof(st));
	check("dhcp: counted: one OFFER; ra: RAs sent",
	    st.c[VPC_SWSTAT_DHCP_OFFER] == 1 && st.c[VPC_SWSTAT_RA_SENT] >= 1,
	    (long)st.c[VPC_SWSTAT_DHCP_OFFER], 1);

	/* Unsolicited: the timer, a second after the interval changes. */
	memset(&pol, 0, sizeof(pol));
	pol.ra_interval_s = 4;
	expect("ra: SW_SET_POLICY ra_interval_s 4", vctl_n(swd,
	    VPC_OP_SW_SET_POLICY, &pol, sizeof(pol), 0, 0), 0);
	n = 0;
	for (i = 0; i < 3 && n == 0; i++)
		n = tap_expect_l4(&ta, mcast_all, 1, in, sizeof(in));
	check("ra: an unsolicited RA to ff02::1 from the switch's timer", n > 0 &&
	    in[38] == 0xff && in[39] == 0x02 && in[53] == 1, n, 1);
	memset(&st, 0, sizeof(st));
	vctl_n(swd, VPC_OP_SW_GET_STATS, 0, 0, &st, sizeof(st));
	check("ra: counted as periodic", st.c[VPC_SWSTAT_RA_PERIODIC] >= 1,
	    (long)st.c[VPC_SWSTAT_RA_PERIODIC], 1);
out:
	if (ta.fd >= 0)
		sc3(SYS_close, ta.fd, 0, 0);
	if (a >= 0)
		sc3(SYS_close, a, 0, 0);
	/* The last handle: the switch dies, its timer drained with it. */
	sc3(SYS_close, swd, 0, 0);
	invariants("dhcp: the core's invariants hold after the switch is gone");
}
