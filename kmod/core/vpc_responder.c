/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_responder.c: what the switch answers itself, before a VM's frame is
 * filtered or forwarded.
 *
 * Every answer a guest needs to run without hand-made configuration comes
 * from the node it runs on (DESIGN.md section 8): ARP and neighbour
 * solicitations for its peers and its gateway, DHCP, router solicitations,
 * echo to the gateway.  None of it is flooded, none of it crosses the
 * underlay, and none of it passes the port's rule sets (a firewall must not
 * be able to cut a guest off its own gateway).  First, the frame's IP source
 * must be the VM's own address where one is configured (anti-spoofing); last,
 * what is still broadcast or multicast meets the switch's BUM policy.
 */
#include "vpc_l3.h"

static bool
drop(struct vpc_switch *sw, unsigned why, struct vpc_pkt *p)
{
	sw_count(sw, why);
	os_pkt_free(p);
	return (true);
}

bool
vpc_l3_drop(struct vpc_l3in *in, unsigned why, struct vpc_pkt *p)
{
	return (drop(in->sw, why, p));
}

bool
vpc_l3_in_subnet(const struct vpc_subnet *s, uint8_t af, const uint8_t *addr)
{
	uint8_t a[16];

	if (s->plen == 0)
		return (false);
	memset(a, 0, sizeof(a));
	memcpy(a, addr, af == VPC_AF_INET ? 4 : 16);
	return (vpc_subnet_contains(s, a));
}

bool
vpc_l3_is_gateway(const struct vpc_swcfg *cfg, uint8_t af, const uint8_t *addr)
{
	if (af == VPC_AF_INET)
		return (cfg->gw.has4 && memcmp(addr, cfg->gw.addr4, 4) == 0);
	return (cfg->gw.has6 && (memcmp(addr, cfg->gw.addr6, 16) == 0 ||
	    memcmp(addr, cfg->gw.ll6, 16) == 0));
}

void
vpc_l3_reply(struct vpc_l3in *in, struct vpc_pkt *reply)
{
	if (reply == NULL)
		return;
	vpc_sw_to_nic(in->sw, in->nic, reply);
}

static bool
is_link_local6(const uint8_t a[16])
{
	return (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

/*
 * A VM may only speak from its own address: where NIC_SET_ADDR gave it one,
 * IPv4 from it (or 0.0.0.0 to a DHCP server, before it has a lease), IPv6
 * from it, from its link-local addresses, or from :: (duplicate address
 * detection, MLD before an address is ready).
 */
static bool
source_ok(const struct vpc_l3in *in)
{
	const vpc_nic_addr_t *a = &in->l3->addr;
	const struct vpc_ipinfo *ip = &in->ip;

	if (ip->af == VPC_AF_INET) {
		if ((a->flags & VPC_NIC_ADDR_INET) == 0 || memcmp(ip->src, a->addr4, 4) == 0)
			return (true);
		return (vpc_all_zero(ip->src, 4) && ip->proto == VPC_IPPROTO_UDP &&
		    ip->ports_seen && vpc_get16(ip->l4 + 2) == VPC_DHCP_SERVER_PORT);
	}
	if ((a->flags & VPC_NIC_ADDR_INET6) == 0 || memcmp(ip->src, a->addr6, 16) == 0)
		return (true);
	return (is_link_local6(ip->src) || vpc_all_zero(ip->src, 16));
}

/* ICMPv6 the switch takes: neighbour discovery (RFC 4861), every type. */
static bool
icmp6_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	switch (in->ip.l4[0]) {
	case VPC_ND_NEIGHBOR_SOLICIT:
	case VPC_ND_NEIGHBOR_ADVERT:
		return (vpc_nd_input(in, p));
	case VPC_ND_ROUTER_SOLICIT:
	case VPC_ND_ROUTER_ADVERT:      /* a VM posing as a router: RA guard */
	case VPC_ND_REDIRECT:
		return (vpc_ra_input(in, p));
	default:
		return (false);
	}
}

/*
 * Is the IP header worth parsing?  Only when something below may act on it;
 * every branch of respond() that reads in->ip is listed here, with what
 * lets its frames through:
 *
 *   - the source check, source_ok() (anti-spoofing): the vmnic has an
 *     address of the frame's family (NIC_SET_ADDR);
 *   - ICMPv6, icmp6_input(): neighbour solicitations and advertisements
 *     (vpc_nd.c), router solicitations, advertisements and redirects
 *     (vpc_ra.c), maybe behind extension headers: so any IPv6 next header
 *     but TCP and UDP;
 *   - DHCP, vpc_dhcp_input(): UDP over IPv4 (to port 67, or from a server
 *     in a VM to 68; the port is read by the parse);
 *   - the gateway, vpc_gw_echo_input() and the drop of whatever else is
 *     sent to it: the frame is sent to the gateway's MAC.
 *
 * The bulk of a VM's traffic (TCP and UDP between VMs of a vmnic with no
 * address) is none of these, and parsing it would change nothing below; it
 * costs as much as the rest of forwarding.
 *
 * WHOEVER ADDS A BRANCH BELOW THAT READS in->ip MUST EXTEND THIS TEST, or
 * the branch never sees the frames it is for; and add a frame for it to
 * t_lazy in kmod/tests/unit/test_l3.c, which sends one per branch that
 * reaches it only through its own clause.  DHCPv4 and router solicitations
 * and advertisements (branch l3b) pass already (UDP over IPv4; ICMPv6).
 * DHCPv6 (UDP over IPv6, to port 547), when it comes, does NOT: add
 * f->ip_proto == VPC_IPPROTO_UDP to the IPv6 case then (or narrower, once
 * frame parsing records the port).
 */
static bool
ip_wanted(const struct vpc_l3in *in, const struct vpc_frame *f)
{
	if (in->to_gw_mac)
		return (true);
	if (f->ip_af == VPC_AF_INET)
		return ((in->l3->addr.flags & VPC_NIC_ADDR_INET) != 0 ||
		    f->ip_proto == VPC_IPPROTO_UDP);
	return ((in->l3->addr.flags & VPC_NIC_ADDR_INET6) != 0 ||
	    (f->ip_proto != VPC_IPPROTO_TCP && f->ip_proto != VPC_IPPROTO_UDP));
}

/*
 * The frame a vmnic sent, after its MAC was checked.  True when it was
 * taken here (answered, held for an upcall, or dropped and counted).
 */
static bool
respond(struct vpc_switch *sw, struct vpc_port *port, struct vpc_nic *nic,
    struct vpc_pkt *p, const struct vpc_frame *f, bool reinjected,
    struct vpc_l3in *in)
{
	/* In the epoch: both callers assert it (vpc_nic_input, through
	 * vpc_responder_input, and vpc_l3_reinject). */
	in->reinjected = reinjected;
	in->sw = sw;
	in->port = port;
	in->nic = nic;
	in->cfg = vpc_load(sw->cfg);
	in->l3 = vpc_load(nic->l3);
	in->f = f;
	in->to_gw_mac = memcmp(f->dst, in->cfg->gw.mac, 6) == 0;
	in->ip_ok = false;
	if (f->ethertype == ETHERTYPE_ARP)
		return (vpc_arp_input(in, p));
	if (f->ip_af != 0 && ip_wanted(in, f) &&
	    vpc_ip_parse(p, f->l2len, &in->ip) == 0)
		in->ip_ok = true;
	if (in->ip_ok) {
		if (!source_ok(in))
			return (drop(sw, VPC_SWSTAT_DROP_IP_SPOOF, p));
		if (in->ip.af == VPC_AF_INET6 && in->ip.proto == VPC_IPPROTO_ICMPV6 &&
		    in->ip.l4_seen && icmp6_input(in, p))
			return (true);
		/* DHCP to a server (67), or from a server in a VM (68). */
		if (in->ip.af == VPC_AF_INET && in->ip.proto == VPC_IPPROTO_UDP &&
		    in->ip.ports_seen &&
		    (vpc_get16(in->ip.l4 + 2) == VPC_DHCP_SERVER_PORT ||
		    vpc_get16(in->ip.l4 + 2) == VPC_DHCP_CLIENT_PORT) &&
		    vpc_dhcp_input(in, p))
			return (true);
		if (in->to_gw_mac && vpc_l3_is_gateway(in->cfg, in->ip.af, in->ip.dst)) {
			if (vpc_gw_echo_input(in, p))
				return (true);
			return (drop(sw, VPC_SWSTAT_GW_DROP, p));  /* nothing else listens */
		}
	}
	if (vpc_mac_is_multicast(f->dst) && in->cfg->policy.bum == VPC_BUM_DROP)
		return (drop(sw, VPC_SWSTAT_DROP_BUM, p));
	return (false);
}

bool
vpc_responder_input(struct vpc_switch *sw, struct vpc_port *port,
    struct vpc_nic *nic, struct vpc_pkt *p, const struct vpc_frame *f,
    struct vpc_l3in *in)
{
	return (respond(sw, port, nic, p, f, false, in));
}

/*
 * A held ARP request or NS, its L3 upcall answered: through the responder
 * again, which now finds the neighbour entry (or a negative one).  Whatever
 * changed meanwhile (the port gone, its vmnic's MAC, the switch's subnet)
 * makes it a drop, counted.
 */
void
vpc_l3_reinject(struct vpc_switch *sw, struct vpc_port *in, struct vpc_pkt *p)
{
	struct vpc_obj *peer;
	struct vpc_nic *nic;
	struct vpc_frame f;
	struct vpc_l3in l3;

	VPC_ASSERT_EPOCH();
	if (in != NULL && in->kind == VPC_PORT_ROUTER) {
		vpc_router_reinject(sw, in, p);         /* a routed frame */
		return;
	}
	peer = in != NULL && !in->obj.dead ? vpc_load(in->peer) : NULL;
	nic = peer != NULL && peer->type == VPC_TYPE_NIC ? obj2nic(peer) : NULL;
	if (sw->obj.dead || nic == NULL || vpc_frame_parse(p, &f) != 0 ||
	    vpc_mac64(f.src) != __atomic_load_n(&nic->mac64, __ATOMIC_RELAXED) ||
	    !respond(sw, in, nic, p, &f, true, &l3))
		drop(sw, VPC_SWSTAT_L3_REMISS, p);
}

/*
 * Is the upper-layer checksum of this datagram right?  IPv4 ICMP covers the
 * message only; ICMPv6, TCP and UDP also the pseudo-header (RFC 8200 8.1).
 */
bool
vpc_l4_cksum_ok(const struct vpc_pkt *p, const struct vpc_ipinfo *ip)
{
	uint32_t len = ip->l3off + ip->l3len - ip->l4off, sum = 0;
	uint8_t pseudo[8];

	if (ip->af == VPC_AF_INET6 || ip->proto != VPC_IPPROTO_ICMP) {
		unsigned alen = ip->af == VPC_AF_INET ? 4 : 16;

		sum = vpc_cksum_add(vpc_cksum_add(0, ip->src, alen), ip->dst, alen);
		vpc_put32(pseudo, len);
		vpc_put32(pseudo + 4, ip->proto);
		sum = vpc_cksum_add(sum, pseudo, sizeof(pseudo));
	}
	return (vpc_pkt_cksum_add(&sum, p, ip->l4off, len) &&
	    vpc_cksum_finish(sum) == 0);
}

/*
 * Echo to the gateway (ping 10.0.0.1, ping6 the gateway or its link-local):
 * the reply carries the request's identifier, sequence and data.
 */
bool
vpc_gw_echo_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	const struct vpc_ipinfo *ip = &in->ip;
	struct vpc_icmp_reply r;
	uint8_t hdr[VPC_ICMP_HDR_LEN];
	bool v4 = ip->af == VPC_AF_INET;

	if (ip->proto != (v4 ? VPC_IPPROTO_ICMP : VPC_IPPROTO_ICMPV6) ||
	    ip->later_frag || !ip->l4_seen ||
	    ip->l4[0] != (v4 ? VPC_ICMP_ECHO : VPC_ICMP6_ECHO_REQUEST))
		return (false);
	if (ip->l4[1] != 0 || !os_pkt_copyout(p, ip->l4off, sizeof(hdr), hdr) ||
	    !vpc_l4_cksum_ok(p, ip)) {
		sw_count(in->sw, VPC_SWSTAT_GW_DROP);
		os_pkt_free(p);
		return (true);
	}
	memset(&r, 0, sizeof(r));
	r.af = ip->af;
	r.type = v4 ? VPC_ICMP_ECHOREPLY : VPC_ICMP6_ECHO_REPLY;
	r.word = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 |
	    (uint32_t)hdr[6] << 8 | hdr[7];
	memcpy(r.eth_src, in->cfg->gw.mac, 6);
	memcpy(r.eth_dst, in->f->src, 6);
	memcpy(r.ip_src, ip->dst, 16);
	memcpy(r.ip_dst, ip->src, 16);
	r.body_off = ip->l4off + VPC_ICMP_HDR_LEN;
	r.body_max = ip->l3off + ip->l3len - r.body_off;
	sw_count(in->sw, VPC_SWSTAT_GW_TO_GATEWAY);
	vpc_l3_reply(in, vpc_icmp_build(&r, p));
	os_pkt_free(p);
	return (true);
}
