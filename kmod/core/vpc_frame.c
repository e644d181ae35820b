/*
 * vpc_frame.c: parsing Ethernet, 802.1Q and the IPv4/IPv6 destination.
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

int
vpc_frame_parse(const struct vpc_pkt *p, struct vpc_frame *f)
{
	uint8_t eh[ETHER_HDR_LEN + ETHER_VLAN_LEN];
	uint8_t ip[1];

	memset(f, 0, sizeof(*f));
	if (!os_pkt_copyout(p, 0, ETHER_HDR_LEN, eh))
		return (VPC_ERR(VPC_EINVAL));
	memcpy(f->dst, eh, 6);
	memcpy(f->src, eh + 6, 6);
	f->ethertype = be16(eh + 12);
	f->l2len = ETHER_HDR_LEN;
	if (f->ethertype == ETHERTYPE_VLAN || f->ethertype == ETHERTYPE_QINQ) {
		if (!os_pkt_copyout(p, 0, sizeof(eh), eh))
			return (VPC_ERR(VPC_EINVAL));
		f->tagged = true;
		f->vlan = be16(eh + 14) & 0x0fff;
		f->ethertype = be16(eh + 16);
		f->l2len += ETHER_VLAN_LEN;
	}
	/* The IP destination, when the frame is long enough to show it. */
	if (f->ethertype == ETHERTYPE_IP &&
	    os_pkt_copyout(p, f->l2len, 1, ip) && (ip[0] >> 4) == 4 &&
	    os_pkt_copyout(p, f->l2len + 16, 4, f->ip_dst))
		f->ip_af = VPC_AF_INET;
	else if (f->ethertype == ETHERTYPE_IPV6 &&
	    os_pkt_copyout(p, f->l2len, 1, ip) && (ip[0] >> 4) == 6 &&
	    os_pkt_copyout(p, f->l2len + 24, 16, f->ip_dst))
		f->ip_af = VPC_AF_INET6;
	return (0);
}
