/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_l3.h: the switch's own L3 answers, shared by the responder
 * (vpc_responder.c) and the protocols it hands frames to: ARP (vpc_arp.c),
 * neighbour discovery (vpc_nd.c), DHCPv4 (vpc_dhcp.c), router
 * advertisements (vpc_ra.c).  Everything here runs on the data path: inside
 * the epoch, never sleeping, no lock but what each says.
 *
 * Order on the way out of a VM (DESIGN.md section 8): source anti-spoofing,
 * then this responder (ARP/ND/DHCP/RA/echo, never filtered), then the
 * port's egress rule set, then the switch.
 */
#ifndef _VPC_L3_H_
#define _VPC_L3_H_

#include "vpc_impl.h"

#define VPC_IPPROTO_TCP        6
#define VPC_IPPROTO_UDP        17
#define VPC_UDP_HDR_LEN        8
#define VPC_ICMP_ECHO          8
#define VPC_ICMP6_ECHO_REQUEST 128
#define VPC_ND_ROUTER_SOLICIT  133
#define VPC_ND_ROUTER_ADVERT   134
#define VPC_ND_NEIGHBOR_SOLICIT 135
#define VPC_ND_NEIGHBOR_ADVERT 136
#define VPC_ND_REDIRECT        137
#define VPC_DHCP_SERVER_PORT   67
#define VPC_DHCP_CLIENT_PORT   68

/* A frame a vmnic sent, as the responder sees it. */
struct vpc_l3in {
	struct vpc_switch        *sw;
	struct vpc_port          *port;         /* the vmnic's port */
	struct vpc_nic           *nic;
	const struct vpc_swcfg   *cfg;          /* subnets, gateway, policy */
	const struct vpc_nic_l3  *l3;           /* the VM's addresses, DHCP */
	const struct vpc_frame   *f;
	struct vpc_ipinfo         ip;           /* when ip_ok */
	bool                      ip_ok;        /* a well-formed IPv4/IPv6 header */
	bool                      to_gw_mac;    /* destination MAC is the gateway's */
	bool                      reinjected;   /* a held ARP/NS after its answer:
	                                         * a miss now is not asked again */
};

/*
 * Each protocol's entry: true when it took the frame (answered, held for an
 * upcall, or dropped and counted); false to let it go on to the switch.
 */
bool vpc_arp_input(struct vpc_l3in *in, struct vpc_pkt *p);
bool vpc_nd_input(struct vpc_l3in *in, struct vpc_pkt *p);      /* NS, NA */
bool vpc_ra_input(struct vpc_l3in *in, struct vpc_pkt *p);      /* RS */
bool vpc_dhcp_input(struct vpc_l3in *in, struct vpc_pkt *p);
bool vpc_gw_echo_input(struct vpc_l3in *in, struct vpc_pkt *p); /* to the gateway */

/* Send a frame the switch made back to the vmnic the request came from. */
void vpc_l3_reply(struct vpc_l3in *in, struct vpc_pkt *reply);

/* Is the upper-layer checksum (with the pseudo-header where it has one) right? */
bool vpc_l4_cksum_ok(const struct vpc_pkt *p, const struct vpc_ipinfo *ip);

/* Is addr inside s (a subnet that is set)? */
bool vpc_l3_in_subnet(const struct vpc_subnet *s, uint8_t af, const uint8_t *addr);

/* Drop a frame the responder took, counting why; returns true (taken). */
bool vpc_l3_drop(struct vpc_l3in *in, unsigned why, struct vpc_pkt *p);

/* Is addr (af) the gateway's, or (IPv6) its link-local? */
bool vpc_l3_is_gateway(const struct vpc_swcfg *cfg, uint8_t af,
    const uint8_t *addr);

#endif /* _VPC_L3_H_ */
