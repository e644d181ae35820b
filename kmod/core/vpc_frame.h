/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_frame.h: what the switch needs to know about an Ethernet frame, read
 * without modifying it (so an mbuf chain stays as it came).
 */
#ifndef _VPC_FRAME_H_
#define _VPC_FRAME_H_

#include "vpc_os.h"

#define ETHER_HDR_LEN      14
#define ETHER_VLAN_LEN     4
#define ETHERTYPE_IP       0x0800
#define ETHERTYPE_ARP      0x0806
#define ETHERTYPE_VLAN     0x8100
#define ETHERTYPE_QINQ     0x88a8
#define ETHERTYPE_IPV6     0x86dd
#define VXLAN_HDR_LEN      8
#define VXLAN_FLAG_I       0x08

struct vpc_ipinfo;

struct vpc_frame {
	uint8_t  dst[6];
	uint8_t  src[6];
	uint16_t ethertype;             /* after an 802.1Q tag */
	uint16_t vlan;                  /* the tag's VLAN id, when tagged */
	bool     tagged;
	uint8_t  ip_af;                 /* 0, VPC_AF_INET or VPC_AF_INET6 */
	uint8_t  ip_proto;              /* protocol (IPv6: the first next header) */
	uint8_t  ip_dst[16];
	uint8_t  ip_src[16];
	/*
	 * TCP, UDP, UDP-Lite or SCTP: the source and destination ports as they
	 * lie in the frame, when the datagram is not a fragment and its first
	 * upper-layer header follows the IP header (IPv6: no extension
	 * header); 0 otherwise.  What the underlay's ECMP sees of a flow
	 * (flow_sport, vpc_fwd.c).
	 */
	uint32_t l4_ports;
	uint32_t ip6_flow;              /* IPv6: the flow label; 0 otherwise */
	uint32_t l2len;                 /* Ethernet header, with its tag */
	/*
	 * The IP header's parse (vpc_ip_parse) of these very bytes, when one
	 * was made and was well formed, so that a later reader (the port
	 * firewall at delivery) need not parse it again; NULL otherwise
	 * (vpc_frame_parse sets NULL).  Set by vpc_nic_input from the
	 * responder's parse; it lives on that caller's stack, so a frame
	 * kept beyond it (held for an upcall) is parsed again anyway.
	 */
	const struct vpc_ipinfo *ip;
};

/* 0, or VPC_EINVAL for a frame too short for its headers. */
int vpc_frame_parse(const struct vpc_pkt *p, struct vpc_frame *f);

#endif
