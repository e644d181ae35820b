/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_mtu.c: MTUs and the ICMP builder, driven directly (part of
 * test_core): the checksum helpers against RFC 1071/1624's own examples and
 * an independent implementation, the token bucket on a clock of our own,
 * NIC_SET_MTU/NIC_GET_MTU (bounds, FORCE, defaults following the vcc and the
 * port, errors leaving everything as it was), frames too big for the
 * underlay answered with ICMP / ICMPv6 (checked byte by byte: addresses,
 * lengths, both checksums, the quote), what gets no answer, frames over a
 * vmnic's MTU and spoofed sources from the underlay.
 */
#include <stdio.h>
#include <string.h>

#include "vpc_impl.h"            /* white-box: handles to objects */
#include "host_loop.h"
#include "host_pkt.h"
#include "test_handles.h"
#include "test_mtu.h"
#include "test_os.h"
#include "test_rand.h"

static struct mt {
	struct vpc_sys *sys;
	struct vpc_hdl *sw, *vcc, *nic_a, *nic_b, *loose;
	const char     *name;
	int            *failed;
} mt;

#define TEST_AREA "mtu"
#define TEST_STATE mt
#include "test_area.h"

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 3, 0xa };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 3, 0xb };
static const uint8_t mac_r4[6] = { 2, 0, 0, 0, 3, 0x44 };    /* behind an IPv4 VTEP */
static const uint8_t mac_r6[6] = { 2, 0, 0, 0, 3, 0x66 };    /* behind an IPv6 VTEP */
static const uint8_t ip_a[4] = { 10, 3, 0, 10 }, ip_r[4] = { 10, 3, 0, 44 };
static const uint8_t ip6_a[16] = { 0xfd, 0, [15] = 0x0a };
static const uint8_t ip6_r[16] = { 0xfd, 0, [15] = 0x44 };


/* ---- Helpers --------------------------------------------------------------------- */

static struct vpc_hdl *
open_new(unsigned type, uint8_t n)
{
	return (open_tagged(0xd3, type, n));
}

static uint64_t
swstat(unsigned which)
{
	return (sw_counter(mt.sw, which));
}

static vpc_nic_mtu_t
get_mtu(struct vpc_hdl *h)
{
	vpc_nic_mtu_t m;

	memset(&m, 0xee, sizeof(m));
	(void)ctl(h, VPC_OP_NIC_GET_MTU, NULL, 0, &m, sizeof(m));
	return (m);
}

static int
set_mtu(struct vpc_hdl *h, uint32_t mtu, uint32_t flags)
{
	vpc_nic_mtu_t m = { .mtu = mtu, .flags = flags };

	return (ctl(h, VPC_OP_NIC_SET_MTU, &m, sizeof(m), NULL, 0));
}

static uint64_t
generation(struct vpc_hdl *h)
{
	vpc_obj_info_t info;

	(void)ctl(h, VPC_OP_GET_INFO, NULL, 0, &info, sizeof(info));
	return (info.generation);
}

static int
set_vcc(uint32_t mtu, bool v6)
{
	vpc_vcc_t vc;

	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET | (v6 ? VPC_VCC_INET6 : 0);
	memcpy(vc.addr4, (uint8_t[]){ 192, 0, 2, 30 }, 4);
	if (v6)
		memcpy(vc.addr6, ip6_a, 16);
	vc.mtu = mtu;
	return (ctl(mt.vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0));
}

/* An independent RFC 1071 checksum: 0 over a range that carries a valid one. */
static uint16_t
cksum(const uint8_t *b, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

static uint16_t
be16(const uint8_t *b)
{
	return ((uint16_t)(b[0] << 8 | b[1]));
}

static uint8_t fb[9300];

/*
 * An Ethernet frame of len bytes carrying IPv4 (af 4; df; proto) or IPv6
 * (af 6; proto as next header) from A to dst, with a valid header checksum
 * and a counting pattern as payload.
 */
static struct vpc_pkt *
ipframe(const uint8_t dst[6], int af, uint32_t len, bool df, uint8_t proto)
{
	uint8_t *ip = fb + 14;
	uint32_t i;

	memset(fb, 0, len);
	memcpy(fb, dst, 6);
	memcpy(fb + 6, mac_a, 6);
	for (i = 14; i < len; i++)
		fb[i] = (uint8_t)i;
	if (af == 4) {
		fb[12] = 0x08;
		fb[13] = 0x00;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)((len - 14) >> 8);
		ip[3] = (uint8_t)(len - 14);
		ip[4] = 0x12;
		ip[6] = df ? 0x40 : 0;
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, ip_a, 4);
		memcpy(ip + 16, ip_r, 4);
		i = cksum(ip, 20, 0);
		ip[10] = (uint8_t)(i >> 8);
		ip[11] = (uint8_t)i;
		if (proto == 1)
			ip[20] = 3;     /* an ICMP error */
	} else {
		fb[12] = 0x86;
		fb[13] = 0xdd;
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[4] = (uint8_t)((len - 54) >> 8);
		ip[5] = (uint8_t)(len - 54);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, ip6_a, 16);
		memcpy(ip + 24, ip6_r, 16);
		if (proto == 58)
			ip[40] = 1;     /* an ICMPv6 error */
	}
	return (host_pkt_new(fb, len));
}

static void
from_a(struct vpc_pkt *p)
{
	struct os_epoch et;

	os_epoch_enter(&et);
	vpc_nic_input(obj2nic(mt.nic_a->obj), p);
	os_epoch_exit(&et);
}

static void
from_underlay(const uint8_t dst[6], const uint8_t src[6], uint32_t framelen)
{
	static uint8_t b[9400];
	struct os_epoch et;

	memset(b, 0, 8 + framelen);
	b[0] = 0x08;
	b[6] = 30;                      /* VNI 30 */
	memcpy(b + 8, dst, 6);
	memcpy(b + 14, src, 6);
	b[20] = 0x88;
	b[21] = 0xb5;
	os_epoch_enter(&et);
	vpc_vcc_input(obj2vcc(mt.vcc->obj), host_pkt_new(b, 8 + framelen));
	os_epoch_exit(&et);
}

/* ---- Setup: switch VNI 30, vcc (IPv4, default MTU), vmnics A and B ------------------ */

static int
setup(void)
{
	vpc_sw_vni_t v = { .vni = 30 };
	vpc_swport_t req, res;
	vpc_sw_cam_t cam[2];
	vpc_cam_set_result_t cr;

	mt.sw = open_new(VPC_TYPE_SWITCH, 1);
	mt.vcc = open_new(VPC_TYPE_VCC, 2);
	mt.loose = open_new(VPC_TYPE_NIC, 3);
	EXPECT(mt.sw != NULL && mt.vcc != NULL && mt.loose != NULL);
	EXPECT_EQ(ctl(mt.sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_a, 6);
	EXPECT_EQ(ctl(mt.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	mt.nic_a = test_handles[res.descriptor];
	test_handles[res.descriptor] = NULL;
	memcpy(req.smac, mac_b, 6);
	EXPECT_EQ(ctl(mt.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	mt.nic_b = test_handles[res.descriptor];
	test_handles[res.descriptor] = NULL;
	/* Plugged in, but no uplink yet: 1500, and nothing to fit. */
	EXPECT_EQ(get_mtu(mt.nic_a).mtu, 1500);
	EXPECT_EQ(get_mtu(mt.nic_a).fit, 0);
	EXPECT_EQ(get_mtu(mt.nic_a).flags, VPC_NIC_MTU_AUTO);
	EXPECT_EQ(set_vcc(0, false), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id = mt.vcc->obj->id;
	test_mtu_calls = 0;
	EXPECT_EQ(ctl(mt.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	/* The uplink came: both follow the underlay, and the OS was told. */
	EXPECT_EQ(test_mtu_calls, 2);
	EXPECT_EQ(test_last_mtu, 1450);
	memset(cam, 0, sizeof(cam));
	memcpy(cam[0].dstmac, mac_r4, 6);
	cam[0].kind = VPC_CAM_REMOTE;
	cam[0].af = VPC_AF_INET;
	memcpy(cam[0].addr, (uint8_t[]){ 192, 0, 2, 31 }, 4);
	memcpy(cam[1].dstmac, mac_r6, 6);
	cam[1].kind = VPC_CAM_REMOTE;
	cam[1].af = VPC_AF_INET6;
	memcpy(cam[1].addr, ip6_r, 16);
	EXPECT_EQ(ctl(mt.sw, VPC_OP_SW_CAM_SET, cam, sizeof(cam), &cr, sizeof(cr)), 0);
	EXPECT_EQ(cr.applied, 2);
	return (0);
}

/* ---- The pure parts ---------------------------------------------------------------- */

static int
t_cksum(void)
{
	/* RFC 1071 4.1's example: the sum is ddf2, the checksum its complement. */
	static const uint8_t ex[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t h[20] = { 0x45, 0, 0, 84, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0,
	    10, 0, 0, 1, 10, 0, 0, 2 };
	static const uint8_t nd[4] = { 192, 168, 77, 9 };
	uint16_t c, c2;
	uint32_t i;

	EXPECT_EQ(vpc_cksum_finish(vpc_cksum_add(0, ex, sizeof(ex))), 0xffff & ~0xddf2);
	/* Split at an even boundary, the same; an odd tail is padded. */
	EXPECT_EQ(vpc_cksum_add(vpc_cksum_add(0, ex, 4), ex + 4, 4),
	    vpc_cksum_add(0, ex, 8));
	EXPECT_EQ(vpc_cksum_finish(vpc_cksum_add(0, ex, 3)), cksum(ex, 3, 0));
	/* Against the plain sum: every length 0-300 at every start 0-7, of
	 * random bytes and of 0xff (every carry), whole and in two pieces
	 * split at an even length. */
	{
		static uint8_t rb[320];
		uint32_t len, off, cut, r = 0x2545f491;
		int pass;

		for (pass = 0; pass < 2; pass++) {
			if (pass == 0)
				test_rand_bytes(rb, sizeof(rb), &r);
			else
				memset(rb, 0xff, sizeof(rb));
			for (off = 0; off < 8; off++)
				for (len = 0; len <= 300; len++) {
					c = cksum(rb + off, len, 0);
					cut = (len / 2) & ~1u;
					if (vpc_cksum_finish(vpc_cksum_add(0, rb + off, len)) != c ||
					    vpc_cksum_finish(vpc_cksum_add(vpc_cksum_add(0,
					    rb + off, cut), rb + off + cut, len - cut)) != c)
						FAIL("length %u at %u (pass %d)", len, off, pass);
				}
		}
	}
	/* RFC 1624 3's example: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives 0x0000. */
	EXPECT_EQ(vpc_cksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
	/* Incremental = recomputed, for an address and for the TTL word. */
	c = cksum(h, 20, 0);
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
	EXPECT_EQ(cksum(h, 20, 0), 0);
	c2 = vpc_cksum_update32(c, h + 16, nd);
	memcpy(h + 16, nd, 4);
	h[10] = h[11] = 0;
	EXPECT_EQ(c2, cksum(h, 20, 0));
	for (i = 0; i < 64; i++) {              /* TTL down to 0, one by one */
		uint16_t old = be16(h + 8);

		h[10] = (uint8_t)(c2 >> 8);
		h[11] = (uint8_t)c2;
		h[8]--;
		c2 = vpc_cksum_update16(c2, old, be16(h + 8));
		h[10] = h[11] = 0;
		EXPECT_EQ(c2, cksum(h, 20, 0));
	}
	return (0);
}

static int
t_ratelim(void)
{
	struct vpc_ratelim rl;
	const uint64_t ms = 1000000;
	uint64_t t0 = 5000 * ms;
	int i, n;

	vpc_ratelim_init(&rl, 10, 5, t0);       /* 10/s, 5 saved */
	for (n = 0, i = 0; i < 20; i++)
		n += vpc_ratelim_take(&rl, t0);
	EXPECT_EQ(n, 5);
	EXPECT(!vpc_ratelim_take(&rl, t0 + 99 * ms));
	EXPECT(vpc_ratelim_take(&rl, t0 + 100 * ms));  /* one token a 100 ms */
	EXPECT(!vpc_ratelim_take(&rl, t0 + 150 * ms));
	EXPECT(vpc_ratelim_take(&rl, t0 + 200 * ms));  /* the 50 ms were kept */
	EXPECT(!vpc_ratelim_take(&rl, t0 + 200 * ms));
	for (n = 0, i = 0; i < 20; i++)         /* an hour later: a full bucket */
		n += vpc_ratelim_take(&rl, t0 + 3600000 * ms);
	EXPECT_EQ(n, 5);
	EXPECT(!vpc_ratelim_take(&rl, t0));     /* time going back adds nothing */
	/* 1000 tries over 10 s of our clock: 5 + 100 granted. */
	vpc_ratelim_init(&rl, 10, 5, t0);
	for (n = 0, i = 0; i < 1000; i++)
		n += vpc_ratelim_take(&rl, t0 + (uint64_t)i * 10 * ms);
	EXPECT_EQ(n, 5 + 99);
	return (0);
}

/*
 * An IPv4 datagram at offset 14 of a frame of flen bytes: a header of hlen
 * bytes (options: NOPs), the total length l3len, the fragment field frag,
 * protocol 17; bytes after the header count up from 0xa0.  Its header
 * checksum is right.
 */
static struct vpc_pkt *
ip4frame(uint32_t flen, uint32_t hlen, uint32_t l3len, uint16_t frag)
{
	uint8_t *ip = fb + 14;
	uint32_t i, c;

	memset(fb, 0, flen);
	memcpy(fb, mac_r4, 6);
	memcpy(fb + 6, mac_a, 6);
	fb[12] = 0x08;
	for (i = 14 + hlen; i < flen; i++)
		fb[i] = (uint8_t)(0xa0 + i - 14 - hlen);
	memset(ip + 20, 1, hlen > 20 ? hlen - 20 : 0);
	ip[0] = (uint8_t)(0x40 | hlen / 4);
	ip[2] = (uint8_t)(l3len >> 8);
	ip[3] = (uint8_t)l3len;
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, ip_a, 4);
	memcpy(ip + 16, ip_r, 4);
	c = cksum(ip, hlen, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	return (host_pkt_new(fb, flen));
}

/* vpc_ip_parse of one frame: its error, and ip as it left it. */
static int
parse_ip4(uint32_t flen, uint32_t hlen, uint32_t l3len, uint16_t frag,
    struct vpc_ipinfo *ip)
{
	struct vpc_pkt *p = ip4frame(flen, hlen, l3len, frag);
	int error = vpc_ip_parse(p, 14, ip);

	os_pkt_free(p);
	return (error);
}

/*
 * IPv4 is parsed from one copy of the first 64 bytes (the largest header
 * and the upper layer's first 4): options move the upper layer, which is
 * read only within the datagram, and every bound is still checked.
 */
static int
t_parse4(void)
{
	static const uint8_t first4[4] = { 0xa0, 0xa1, 0xa2, 0xa3 };
	struct vpc_ipinfo ip;
	struct vpc_pkt *p;

	/* No options; options; the largest header, its ports at bytes 60-63. */
	EXPECT_EQ(parse_ip4(14 + 100, 20, 100, 0, &ip), 0);
	EXPECT(ip.af == VPC_AF_INET && ip.proto == 17 && ip.l3len == 100 &&
	    ip.l4off == 34 && ip.ports_seen && ip.l4_seen &&
	    memcmp(ip.l4, first4, 4) == 0 && memcmp(ip.src, ip_a, 4) == 0 &&
	    memcmp(ip.dst, ip_r, 4) == 0 && !ip.df && ip.frag_id == 0);
	EXPECT_EQ(parse_ip4(14 + 100, 24, 100, 0x4000, &ip), 0);
	EXPECT(ip.l4off == 38 && ip.ports_seen && ip.df &&
	    memcmp(ip.l4, first4, 4) == 0);
	EXPECT_EQ(parse_ip4(14 + 64, 60, 64, 0, &ip), 0);
	EXPECT(ip.l4off == 74 && ip.ports_seen && memcmp(ip.l4, first4, 4) == 0);
	/* Room for two bytes of the upper layer, or none, within the datagram
	 * (the frame's padding after it is not the datagram's). */
	EXPECT_EQ(parse_ip4(14 + 64, 60, 62, 0, &ip), 0);
	EXPECT(ip.l4_seen && !ip.ports_seen && ip.l4[0] == 0xa0 && ip.l4[1] == 0xa1 &&
	    ip.l4[2] == 0 && ip.l4[3] == 0);
	EXPECT_EQ(parse_ip4(14 + 60, 60, 60, 0, &ip), 0);
	EXPECT(!ip.l4_seen && !ip.ports_seen && ip.l4off == 74);
	EXPECT_EQ(parse_ip4(14 + 46, 20, 21, 0, &ip), 0);
	EXPECT(!ip.l4_seen && ip.l3len == 21);
	/* Fragments: the first shows its ports, a later one nothing of them. */
	EXPECT_EQ(parse_ip4(14 + 100, 20, 100, 0x2000, &ip), 0);
	EXPECT(ip.more_frags && !ip.later_frag && ip.ports_seen);
	EXPECT_EQ(parse_ip4(14 + 100, 20, 100, 0x0010, &ip), 0);
	EXPECT(ip.later_frag && !ip.l4_seen && !ip.ports_seen);
	/* Bounds: a header longer than the frame, a total length past it or
	 * shorter than the header, a header length under 20, a short frame,
	 * the offset at or past the end, another version, a bad checksum. */
	EXPECT_EQ(parse_ip4(14 + 40, 60, 40, 0, &ip), VPC_EINVAL);
	EXPECT_EQ(parse_ip4(14 + 100, 20, 101, 0, &ip), VPC_EINVAL);
	EXPECT_EQ(parse_ip4(14 + 100, 24, 22, 0, &ip), VPC_EINVAL);
	p = ip4frame(14 + 100, 20, 100, 0);
	host_pkt_data(p)[14] = 0x44;            /* IHL 4: 16 bytes */
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), VPC_EINVAL);
	host_pkt_data(p)[14] = 0x55;            /* version 5 */
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), VPC_EINVAL);
	host_pkt_data(p)[14] = 0x45;
	host_pkt_data(p)[14 + 11] ^= 1;         /* the header checksum */
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), VPC_EINVAL);
	EXPECT_EQ(vpc_ip_parse(p, 114, &ip), VPC_EINVAL);
	EXPECT_EQ(vpc_ip_parse(p, 200, &ip), VPC_EINVAL);
	os_pkt_free(p);
	p = ip4frame(14 + 19, 20, 19, 0);       /* 19 bytes: no whole header */
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), VPC_EINVAL);
	os_pkt_free(p);
	return (0);
}

static int
t_parse(void)
{
	struct vpc_ipinfo ip;
	struct vpc_pkt *p;
	uint8_t *ip6;

	p = ipframe(mac_r4, 4, 100, true, 17);
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), 0);
	EXPECT(ip.af == VPC_AF_INET && ip.df && !ip.later_frag && ip.proto == 17);
	EXPECT_EQ(ip.l3len, 86);
	EXPECT_EQ(ip.l4off, 34);
	EXPECT(vpc_icmp_error_allowed(&ip, true));
	os_pkt_free(p);
	/* A bad header checksum, a length past the frame: not IP to us. */
	p = ipframe(mac_r4, 4, 100, true, 17);
	host_pkt_data(p)[14 + 11] ^= 1;
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), VPC_EINVAL);
	os_pkt_free(p);
	os_pkt_free(ipframe(mac_r4, 4, 100, true, 17));
	p = host_pkt_new(fb, 60);               /* 86 bytes of IP in 46 */
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), VPC_EINVAL);
	os_pkt_free(p);
	/* ICMP errors get no error, nor do multicast destinations (IPv4). */
	p = ipframe(mac_r4, 4, 100, true, 1);
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), 0);
	EXPECT(!vpc_icmp_error_allowed(&ip, true));
	ip.l4[0] = 8;                           /* an echo request would */
	EXPECT(vpc_icmp_error_allowed(&ip, true));
	ip.dst[0] = 239;
	EXPECT(!vpc_icmp_error_allowed(&ip, true));
	ip.dst[0] = 10;
	ip.src[0] = 127;
	EXPECT(!vpc_icmp_error_allowed(&ip, true));
	os_pkt_free(p);
	/* IPv6: hop-by-hop options, then an ICMPv6 error: no answer. */
	p = ipframe(mac_r6, 6, 200, false, 0);
	ip6 = host_pkt_data(p) + 14;
	ip6[40] = 58;                           /* HBH: next header ICMPv6 */
	ip6[41] = 0;                            /* 8 bytes */
	ip6[48] = 1;                            /* destination unreachable */
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), 0);
	EXPECT(ip.af == VPC_AF_INET6 && ip.proto == 58 && ip.l4off == 14 + 48);
	EXPECT(!vpc_icmp_error_allowed(&ip, true));
	ip6[48] = 128;                          /* echo request: yes */
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), 0);
	EXPECT(vpc_icmp_error_allowed(&ip, true));
	/* Multicast destination: only packet too big. */
	ip6[24] = 0xff;
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), 0);
	EXPECT(vpc_icmp_error_allowed(&ip, true));
	EXPECT(!vpc_icmp_error_allowed(&ip, false));
	os_pkt_free(p);
	/* A later fragment: not even parsed past the fragment header. */
	p = ipframe(mac_r6, 6, 200, false, 44);
	ip6 = host_pkt_data(p) + 14;
	ip6[40] = 6;
	ip6[43] = 0x08;                         /* offset 1 (8 bytes) */
	EXPECT_EQ(vpc_ip_parse(p, 14, &ip), 0);
	EXPECT(ip.later_frag && !vpc_icmp_error_allowed(&ip, true));
	os_pkt_free(p);
	return (0);
}

/*
 * The parsers read a header in place when it lies contiguously in the
 * packet (os_pkt_peek), else from a copy: on FreeBSD, when it spans an mbuf
 * chain's buffers.  Host packets are flat, so here every peek is refused
 * and the same cases must give the same answers from the copies.
 */
static int
t_parse_copied(void)
{
	int r;

	host_pkt_no_peek = true;
	r = t_parse4();
	if (r == 0)
		r = t_parse();
	host_pkt_no_peek = false;
	return (r);
}

/* vpc_frame_parse, read in place and copied, on random frames: the same. */
static int
t_frame_copied(void)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x1234 };
	static const uint8_t protos[] = { 6, 17, 132, 136, 1, 58 };
	uint8_t b[96];
	uint32_t r = 0x9e3779b9, len, i;
	struct vpc_frame f1, f2;
	struct vpc_pkt *p;
	int e1, e2;

	for (i = 0; i < 20000; i++) {
		test_rand_bytes(b, sizeof(b), &r);
		len = (r >> 8) % sizeof(b);
		/* Mostly frames the parser goes deep into: a known type, behind a
		 * tag or not, IPv4 or IPv6 of a protocol with ports, no fragment. */
		vpc_put16(b + 12, types[(r >> 4) % 6]);
		vpc_put16(b + 16, types[(r >> 12) % 2]);
		b[14] = b[18] = (r & 1) ? 0x45 : 0x60;
		b[14 + 9] = b[18 + 9] = protos[(r >> 20) % 6];
		b[14 + 6] = b[18 + 6] = (r & 2) ? protos[(r >> 24) % 6] : 0x20;
		b[14 + 7] = b[18 + 7] = (r & 4) ? 0 : b[14 + 7];
		p = host_pkt_new(b, len);
		EXPECT(p != NULL);
		memset(&f1, 0xa5, sizeof(f1));
		memset(&f2, 0xa5, sizeof(f2));
		e1 = vpc_frame_parse(p, &f1);
		host_pkt_no_peek = true;
		e2 = vpc_frame_parse(p, &f2);
		host_pkt_no_peek = false;
		os_pkt_free(p);
		EXPECT_EQ(e1, e2);
		if (e1 == 0)
			EXPECT(memcmp(&f1, &f2, sizeof(f1)) == 0);
	}
	return (0);
}

/* ---- NIC_SET_MTU / NIC_GET_MTU --------------------------------------------------------- */

static int
t_ops(void)
{
	vpc_nic_mtu_t m, bad;
	vpc_swport_t req, res;
	vpc_swport_ref_t ref;
	vpc_txn_t txn;
	uint64_t gen;
	size_t i;

	m = get_mtu(mt.nic_a);
	EXPECT(m.mtu == 1450 && m.fit == 1450 && m.flags == VPC_NIC_MTU_AUTO);
	m = get_mtu(mt.loose);
	EXPECT(m.mtu == 1500 && m.fit == 0 && m.flags == VPC_NIC_MTU_AUTO);
	/* Refused, and nothing changes: bounds, flags, fit, padding, the underlay. */
	{
		static const vpc_nic_mtu_t cases[] = {
			{ .mtu = 1279 }, { .mtu = 9001 }, { .mtu = 65535 },
			{ .mtu = 1400, .flags = 0x4 }, { .mtu = 1400, .flags = VPC_NIC_MTU_AUTO },
			{ .mtu = 0, .flags = VPC_NIC_MTU_FORCE }, { .mtu = 1400, .fit = 1 },
			{ .mtu = 1451 }, { .mtu = 1500 }, { .mtu = 9000 },
		};

		gen = generation(mt.nic_a);
		test_mtu_calls = 0;
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			bad = cases[i];
			EXPECT_EQ(ctl(mt.nic_a, VPC_OP_NIC_SET_MTU, &bad, sizeof(bad),
			    NULL, 0), VPC_EINVAL);
		}
		EXPECT_EQ(generation(mt.nic_a), gen);
		EXPECT_EQ(test_mtu_calls, 0);
		m = get_mtu(mt.nic_a);
		EXPECT(m.mtu == 1450 && m.flags == VPC_NIC_MTU_AUTO);
	}
	/* A stale token. */
	EXPECT_EQ(ctl(mt.nic_a, VPC_OP_GET_TXN, NULL, 0, &txn, sizeof(txn)), 0);
	EXPECT_EQ(set_mtu(mt.nic_a, 1400, 0), 0);
	bad = (vpc_nic_mtu_t){ .txn = txn, .mtu = 1300 };
	EXPECT_EQ(ctl(mt.nic_a, VPC_OP_NIC_SET_MTU, &bad, sizeof(bad), NULL, 0),
	    VPC_ESTALE);
	EXPECT_EQ(get_mtu(mt.nic_a).mtu, 1400);
	EXPECT_EQ(test_last_mtu, 1400);
	EXPECT_EQ(get_mtu(mt.nic_a).flags, 0);
	/* The OS refuses: so does the op, and nothing changes. */
	gen = generation(mt.nic_a);
	test_mtu_error = VPC_EPERM;
	EXPECT_EQ(set_mtu(mt.nic_a, 1300, 0), VPC_EPERM);
	test_mtu_error = 0;
	EXPECT_EQ(get_mtu(mt.nic_a).mtu, 1400);
	EXPECT_EQ(generation(mt.nic_a), gen);
	/* The same again is no change at all. */
	EXPECT_EQ(set_mtu(mt.nic_a, 1400, 0), 0);
	EXPECT_EQ(generation(mt.nic_a), gen);
	/* More than fits, with FORCE. */
	EXPECT_EQ(set_mtu(mt.nic_a, 9000, VPC_NIC_MTU_FORCE), 0);
	m = get_mtu(mt.nic_a);
	EXPECT(m.mtu == 9000 && m.fit == 1450 && m.flags == VPC_NIC_MTU_FORCE);
	/* The vcc changes: B follows, A keeps what was set. */
	EXPECT_EQ(set_vcc(9000, true), 0);
	EXPECT_EQ(get_mtu(mt.nic_b).mtu, 9000 - 70);
	EXPECT_EQ(get_mtu(mt.nic_b).fit, 9000 - 70);
	EXPECT_EQ(get_mtu(mt.nic_a).mtu, 9000);
	EXPECT_EQ(set_vcc(65000, false), 0);
	EXPECT_EQ(get_mtu(mt.nic_b).mtu, VPC_NIC_MTU_MAX);   /* clamped */
	EXPECT_EQ(get_mtu(mt.nic_b).fit, 65000 - 50);
	EXPECT_EQ(set_vcc(576, false), 0);
	EXPECT_EQ(get_mtu(mt.nic_b).mtu, VPC_NIC_MTU_MIN);   /* clamped */
	EXPECT_EQ(set_vcc(0, false), 0);
	EXPECT_EQ(get_mtu(mt.nic_b).mtu, 1450);
	/* Back to the default. */
	EXPECT_EQ(set_mtu(mt.nic_a, 0, 0), 0);
	m = get_mtu(mt.nic_a);
	EXPECT(m.mtu == 1450 && m.flags == VPC_NIC_MTU_AUTO);
	/* A standalone vmnic: any MTU in bounds until plugged... */
	EXPECT_EQ(set_mtu(mt.loose, 9000, 0), 0);
	EXPECT_EQ(set_mtu(mt.loose, 0, 0), 0);
	/* ...then the default follows where it is plugged, and unplugged. */
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC;
	req.peer_id = mt.loose->obj->id;
	EXPECT_EQ(ctl(mt.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	EXPECT_EQ(get_mtu(mt.loose).mtu, 1450);
	memset(&ref, 0, sizeof(ref));
	ref.port_id = res.port_id;
	EXPECT_EQ(ctl(mt.sw, VPC_OP_SW_DEL_PORT, &ref, sizeof(ref), NULL, 0), 0);
	EXPECT_EQ(get_mtu(mt.loose).mtu, 1500);
	EXPECT_EQ(get_mtu(mt.loose).fit, 0);
	return (0);
}

/* ---- Too big for the underlay --------------------------------------------------------- */

/* The recorded frame i is a well-formed ICMP(v6) error about `orig`. */
static int
check_icmp(unsigned i, int af, const uint8_t *orig, uint32_t origlen,
    uint32_t want_mtu)
{
	const struct test_sent *s = &test_sent[i];
	const uint8_t *ip = s->data + 14, *icmp;
	uint32_t quote;

	EXPECT_EQ(s->kind, TEST_TO_NIC);
	EXPECT(s->to == obj2nic(mt.nic_a->obj));
	EXPECT(memcmp(s->data, mac_a, 6) == 0);         /* back to the sender */
	EXPECT(memcmp(s->data + 6, orig, 6) == 0);      /* from whom it was for */
	if (af == 4) {
		quote = origlen - 14 < 548 ? origlen - 14 : 548;
		EXPECT_EQ(s->len, 14 + 20 + 8 + quote);
		EXPECT(s->len - 14 <= 576);
		EXPECT(be16(s->data + 12) == 0x0800 && ip[0] == 0x45);
		EXPECT_EQ(be16(ip + 2), s->len - 14);
		EXPECT_EQ(be16(ip + 6), 0x4000);
		EXPECT_EQ(ip[9], 1);
		EXPECT_EQ(cksum(ip, 20, 0), 0);
		EXPECT(memcmp(ip + 12, ip_r, 4) == 0 && memcmp(ip + 16, ip_a, 4) == 0);
		icmp = ip + 20;
		EXPECT(icmp[0] == 3 && icmp[1] == 4);
		EXPECT_EQ(be16(icmp + 4), 0);
		EXPECT_EQ(be16(icmp + 6), want_mtu);
		EXPECT_EQ(cksum(icmp, 8 + quote, 0), 0);
	} else {
		uint32_t pseudo = 0, k;

		quote = origlen - 14 < 1232 ? origlen - 14 : 1232;
		EXPECT_EQ(s->len, 14 + 40 + 8 + quote);
		EXPECT(s->len - 14 <= 1280);
		EXPECT(be16(s->data + 12) == 0x86dd && ip[0] == 0x60);
		EXPECT_EQ(be16(ip + 4), 8 + quote);
		EXPECT_EQ(ip[6], 58);
		EXPECT(memcmp(ip + 8, ip6_r, 16) == 0 && memcmp(ip + 24, ip6_a, 16) == 0);
		icmp = ip + 40;
		EXPECT(icmp[0] == 2 && icmp[1] == 0);
		EXPECT_EQ((uint32_t)be16(icmp + 4) << 16 | be16(icmp + 6), want_mtu);
		for (k = 8; k < 40; k += 2)
			pseudo += be16(ip + k);
		pseudo += 8 + quote + 58;
		EXPECT_EQ(cksum(icmp, 8 + quote, pseudo), 0);
	}
	EXPECT(memcmp(icmp + 8, orig + 14, quote) == 0); /* the quote */
	return (0);
}

static int
t_too_big(void)
{
	uint64_t big0 = swstat(VPC_SWSTAT_DROP_TOO_BIG);
	uint64_t icmp0 = swstat(VPC_SWSTAT_ICMP_TOO_BIG);

	/* Exactly what fits goes out: 1450 bytes of IP, 1500 on the underlay. */
	test_sent_reset();
	from_a(ipframe(mac_r4, 4, 14 + 1450, true, 17));
	from_a(ipframe(mac_r6, 6, 14 + 1430, false, 17));
	EXPECT_EQ(test_nsent, 2);
	EXPECT(test_sent[0].kind == TEST_TO_VCC && test_sent[0].len == 8 + 14 + 1450);
	EXPECT(test_sent[1].kind == TEST_TO_VCC && test_sent[1].len == 8 + 14 + 1430);
	/* One byte more: fragmentation needed, the next-hop MTU 1450. */
	test_sent_reset();
	from_a(ipframe(mac_r4, 4, 14 + 1451, true, 17));
	EXPECT_EQ(test_nsent, 1);
	if (check_icmp(0, 4, fb, 14 + 1451, 1450) != 0)
		return (-1);
	/* To an IPv6 VTEP the outer header is 20 bytes longer: 1430. */
	test_sent_reset();
	from_a(ipframe(mac_r6, 4, 14 + 1500, true, 6));
	EXPECT_EQ(test_nsent, 1);
	if (check_icmp(0, 4, fb, 14 + 1500, 1430) != 0)
		return (-1);
	/* IPv6: packet too big, quoting as much as fits in 1280 bytes. */
	test_sent_reset();
	from_a(ipframe(mac_r4, 6, 14 + 1500, false, 6));
	EXPECT_EQ(test_nsent, 1);
	if (check_icmp(0, 6, fb, 14 + 1500, 1450) != 0)
		return (-1);
	test_sent_reset();
	from_a(ipframe(mac_r6, 6, 14 + 9000, false, 17));
	EXPECT_EQ(test_nsent, 1);
	if (check_icmp(0, 6, fb, 14 + 9000, 1430) != 0)
		return (-1);
	EXPECT_EQ(swstat(VPC_SWSTAT_DROP_TOO_BIG) - big0, 4);
	EXPECT_EQ(swstat(VPC_SWSTAT_ICMP_TOO_BIG) - icmp0, 4);
	/* No answer, only a counted drop: IPv4 without DF (never fragmented),
	 * an ICMP error, a header with a bad checksum, not IP at all. */
	test_sent_reset();
	from_a(ipframe(mac_r4, 4, 14 + 1500, false, 17));
	from_a(ipframe(mac_r4, 4, 14 + 1500, true, 1));
	{
		struct vpc_pkt *p = ipframe(mac_r4, 4, 14 + 1500, true, 17);

		host_pkt_data(p)[14 + 10] ^= 0x40;
		from_a(p);
		p = ipframe(mac_r4, 4, 14 + 1500, true, 17);
		host_pkt_data(p)[12] = 0x88;    /* another EtherType */
		host_pkt_data(p)[13] = 0xb5;
		from_a(p);
	}
	from_a(ipframe(mac_r6, 6, 14 + 1500, false, 58));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(VPC_SWSTAT_DROP_TOO_BIG) - big0, 9);
	EXPECT_EQ(swstat(VPC_SWSTAT_ICMP_TOO_BIG) - icmp0, 4);
	/* No memory for the answer: counted, nothing sent, nothing leaked. */
	{
		struct vpc_pkt *p = ipframe(mac_r4, 4, 14 + 1500, true, 17);
		uint64_t tx0 = swstat(VPC_SWSTAT_DROP_TX);

		host_fail_alloc_at = 1;         /* the next allocation: the answer */
		from_a(p);
		host_fail_alloc_at = 0;
		EXPECT_EQ(test_nsent, 0);
		EXPECT_EQ(swstat(VPC_SWSTAT_DROP_TX) - tx0, 1);
		EXPECT_EQ(swstat(VPC_SWSTAT_ICMP_TOO_BIG) - icmp0, 4);
	}
	return (0);
}

/*
 * The rate limit on the real clock: whatever the machine's speed, every
 * frame is either answered or counted as limited, and no more are answered
 * than the bucket held plus what the elapsed time added.
 */
static int
t_rate(void)
{
	uint64_t icmp0 = swstat(VPC_SWSTAT_ICMP_TOO_BIG);
	uint64_t rl0 = swstat(VPC_SWSTAT_ICMP_RATELIMITED);
	uint64_t t0 = os_now_ns(), ms, answered, limited;
	int i, n = 1000;

	test_record = false;
	for (i = 0; i < n; i++)
		from_a(ipframe(mac_r4, 4, 14 + 1500, true, 17));
	test_record = true;
	ms = (os_now_ns() - t0) / 1000000 + 1;
	answered = swstat(VPC_SWSTAT_ICMP_TOO_BIG) - icmp0;
	limited = swstat(VPC_SWSTAT_ICMP_RATELIMITED) - rl0;
	EXPECT_EQ(answered + limited, (uint64_t)n);
	EXPECT(answered <= VPC_ICMP_BURST + ms * VPC_ICMP_RATE / 1000 + 1);
	return (0);
}

/* ---- From the underlay -------------------------------------------------------------------- */

static int
t_underlay(void)
{
	static const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	static const uint8_t zero[6];
	uint64_t over0 = swstat(VPC_SWSTAT_DROP_OVER_MTU);
	uint64_t spoof0 = swstat(VPC_SWSTAT_DROP_UNDERLAY_SPOOF);

	EXPECT_EQ(get_mtu(mt.nic_b).mtu, 1450);
	test_sent_reset();
	from_underlay(mac_b, mac_r4, 14 + 1450);        /* fits B */
	EXPECT_EQ(test_nsent, 1);
	EXPECT(test_sent[0].to == obj2nic(mt.nic_b->obj));
	from_underlay(mac_b, mac_r4, 14 + 1451);        /* over B's MTU */
	from_underlay(mac_b, mac_r4, 9014);
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(swstat(VPC_SWSTAT_DROP_OVER_MTU) - over0, 2);
	/* A bigger MTU lets them through. */
	EXPECT_EQ(set_mtu(mt.nic_b, 9000, VPC_NIC_MTU_FORCE), 0);
	from_underlay(mac_b, mac_r4, 9014);
	EXPECT_EQ(test_nsent, 2);
	EXPECT_EQ(set_mtu(mt.nic_b, 0, 0), 0);
	/* Sources the underlay cannot have: A's (local), multicast, zero. */
	test_sent_reset();
	from_underlay(mac_b, mac_a, 64);
	from_underlay(mac_b, mcast, 64);
	from_underlay(mac_b, zero, 64);
	from_underlay(mcast, mac_a, 64);                /* flooded otherwise */
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(VPC_SWSTAT_DROP_UNDERLAY_SPOOF) - spoof0, 4);
	from_underlay(mac_b, mac_r4, 64);               /* a remote source is fine */
	EXPECT_EQ(test_nsent, 1);
	/* Local delivery respects the destination's MTU too. */
	test_sent_reset();
	over0 = swstat(VPC_SWSTAT_DROP_OVER_MTU);
	from_a(ipframe(mac_b, 4, 14 + 1500, true, 17));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(VPC_SWSTAT_DROP_OVER_MTU) - over0, 1);
	return (0);
}

int
test_mtu(struct vpc_sys *sys, int *failed)
{
	static const struct test_case cases[] = {
		{ "setup", setup },
		{ "checksums (RFC 1071, RFC 1624)", t_cksum },
		{ "token bucket", t_ratelim },
		{ "IP headers and when errors are allowed", t_parse },
		{ "IPv4 headers from one copy: options, the upper layer, bounds", t_parse4 },
		{ "the same IP headers copied out, as from an mbuf chain", t_parse_copied },
		{ "frames read in place and copied out: the same parse", t_frame_copied },
		{ "NIC_SET_MTU and NIC_GET_MTU", t_ops },
		{ "too big for the underlay: ICMP and ICMPv6", t_too_big },
		{ "ICMP rate limit", t_rate },
		{ "from the underlay: MTU and spoofed sources", t_underlay },
	};
	size_t i;
	int passed;

	mt.sys = sys;
	mt.failed = failed;
	passed = run_cases(cases, nitems(cases));
	test_record = true;
	test_mtu_error = 0;
	{
		struct vpc_hdl **h[] = { &mt.nic_a, &mt.nic_b, &mt.loose, &mt.sw,
		    &mt.vcc };

		for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
			if (*h[i] != NULL)
				vpc_core_close(sys, *h[i]);
			*h[i] = NULL;
		}
	}
	hloop_reclaim();
	return (passed);
}
