/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_frame.c: parsing Ethernet, 802.1Q, the IPv4/IPv6 addresses and the
 * ports of an unfragmented TCP/UDP/SCTP datagram.
 * Every read is bounds-checked by os_pkt_copyout: a short frame is refused,
 * never read past.  This is fuzz target (b)'s first stop.
 */
#include "vpc_impl.h"
#include "vpc_frame.h"

static uint16_t
be16(const uint8_t *b)
{
	return ((uint16_t)(b[0] << 8 | b[1]));
}

/* Upper layers whose first four bytes are the two ports. */
static bool
has_ports(uint8_t proto)
{
	return (proto == 6 || proto == 17 || proto == 132 || proto == 136);
}

int
vpc_frame_parse(const struct vpc_pkt *p, struct vpc_frame *f)
{
	/* Everything read here is in the first 62 bytes: one read (or copy). */
	uint8_t copy[ETHER_HDR_LEN + ETHER_VLAN_LEN + 40 + 4];
	uint32_t len = os_pkt_len(p), n = len < sizeof(copy) ? len : sizeof(copy);
	const uint8_t *h, *ip;

	/* Every field set (no memset of the whole: this runs per frame). */
	f->vlan = 0;
	f->tagged = false;
	f->ip_af = 0;
	f->ip_proto = 0;
	memset(f->ip_dst, 0, sizeof(f->ip_dst));
	memset(f->ip_src, 0, sizeof(f->ip_src));
	f->l4_ports = 0;
	f->ip6_flow = 0;
	f->ip = NULL;
	if (n < ETHER_HDR_LEN || (h = vpc_pkt_bytes(p, 0, n, copy)) == NULL) {
		memset(f, 0, sizeof(*f));
		return (VPC_ERR(VPC_EINVAL));
	}
	memcpy(f->dst, h, 6);
	memcpy(f->src, h + 6, 6);
	f->ethertype = be16(h + 12);
	f->l2len = ETHER_HDR_LEN;
	if (f->ethertype == ETHERTYPE_VLAN || f->ethertype == ETHERTYPE_QINQ) {
		if (n < ETHER_HDR_LEN + ETHER_VLAN_LEN)
			return (VPC_ERR(VPC_EINVAL));
		f->tagged = true;
		f->vlan = be16(h + 14) & 0x0fff;
		f->ethertype = be16(h + 16);
		f->l2len += ETHER_VLAN_LEN;
	}
	/* The IP destination, when the frame is long enough to show it. */
	ip = h + f->l2len;
	if (f->ethertype == ETHERTYPE_IP && n >= f->l2len + 20 &&
	    (ip[0] >> 4) == 4) {
		uint32_t ihl = (ip[0] & 0x0fu) * 4;

		memcpy(f->ip_src, ip + 12, 4);
		memcpy(f->ip_dst, ip + 16, 4);
		f->ip_af = VPC_AF_INET;
		f->ip_proto = ip[9];
		/* Not a fragment: MF clear, offset 0 (DF may be set). */
		if (has_ports(ip[9]) && (be16(ip + 6) & 0x3fff) == 0 &&
		    ihl >= 20 && n >= f->l2len + ihl + 4)
			memcpy(&f->l4_ports, ip + ihl, 4);
	} else if (f->ethertype == ETHERTYPE_IPV6 && n >= f->l2len + 40 &&
	    (ip[0] >> 4) == 6) {
		memcpy(f->ip_src, ip + 8, 16);
		memcpy(f->ip_dst, ip + 24, 16);
		f->ip_af = VPC_AF_INET6;
		f->ip_proto = ip[6];
		f->ip6_flow = (uint32_t)(ip[1] & 0x0f) << 16 | be16(ip + 2);
		if (has_ports(ip[6]) && n >= f->l2len + 44)
			memcpy(&f->l4_ports, ip + 40, 4);
	}
	return (0);
}
