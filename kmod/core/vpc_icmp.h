/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_icmp.h: the core's packet builder for answers it sends itself: the
 * Internet checksum (RFC 1071) with incremental update (RFC 1624), a parser
 * for the IPv4/IPv6 header of a frame, the rules for when an ICMP error may
 * be sent at all (RFC 1122 3.2.2, RFC 1812 4.3.2.7, RFC 4443 2.4), a builder
 * of Ethernet + IPv4 + ICMP or Ethernet + IPv6 + ICMPv6 packets carrying a
 * body taken from another packet (an error's quote, an echo's data), and an
 * integer token bucket to rate-limit them.
 *
 * The switch uses it for "fragmentation needed" and "packet too big" (MTU,
 * vpc_fwd.c); the gateway and router will use it for echo replies, time
 * exceeded and unreachables: the addresses and the header's second word are
 * parameters, nothing about the MTU case is built in.
 */
#ifndef _VPC_ICMP_H_
#define _VPC_ICMP_H_

#include "vpc_os.h"

#define VPC_IPPROTO_ICMP       1
#define VPC_IPPROTO_ICMPV6     58
#define VPC_ICMP_UNREACH        3
#define VPC_ICMP_UNREACH_NEEDFRAG 4
#define VPC_ICMP_TIMXCEED       11
#define VPC_ICMP_ECHOREPLY      0
#define VPC_ICMP6_PACKET_TOO_BIG 2
#define VPC_ICMP6_TIME_EXCEEDED 3
#define VPC_ICMP6_ECHO_REPLY    129

#define VPC_IPV4_HDR_LEN        20
#define VPC_IPV6_HDR_LEN        40
#define VPC_ICMP_HDR_LEN        8
/* What an error quotes at most: the whole reply within 576 bytes of IPv4
 * (RFC 1812 4.3.2.3), within 1280 bytes of IPv6 (RFC 4443 2.4(c)). */
#define VPC_ICMP4_ERR_MAX       576
#define VPC_ICMP6_ERR_MAX       1280

/* ---- Checksums -------------------------------------------------------------
 * Values are the 16-bit big-endian words read as integers; a checksum is
 * stored as such a word (vpc_put16).
 */
uint32_t vpc_cksum_add(uint32_t sum, const void *data, size_t len);
/* Add bytes [off, off + len) of a packet to *sum; false if it is shorter. */
bool vpc_pkt_cksum_add(uint32_t *sum, const struct vpc_pkt *p, uint32_t off,
    uint32_t len);
/* Fold a sum and complement it: the value to store in a header. */
uint16_t vpc_cksum_finish(uint32_t sum);
/* RFC 1624 eq. 3: the checksum after one 16-bit word changed from old to new. */
uint16_t vpc_cksum_update16(uint16_t cksum, uint16_t old, uint16_t new_);
/* The same for a 32-bit field (an IPv4 address), big-endian bytes. */
uint16_t vpc_cksum_update32(uint16_t cksum, const uint8_t old[4],
    const uint8_t new_[4]);

static inline uint16_t
vpc_get16(const uint8_t *b)
{
	return ((uint16_t)(b[0] << 8 | b[1]));
}
static inline void
vpc_put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}
static inline void
vpc_put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* ---- The IP header of a frame --------------------------------------------- */

struct vpc_ipinfo {
	uint8_t  af;            /* VPC_AF_INET or VPC_AF_INET6 */
	uint8_t  proto;         /* upper layer (IPv6: after extension headers) */
	bool     df;            /* IPv4: don't fragment */
	bool     later_frag;    /* a fragment other than the first */
	bool     more_frags;    /* a fragment other than the last (MF, M) */
	bool     l4_seen;       /* the first two upper-layer bytes are in l4[] */
	bool     ports_seen;    /* and the next two (TCP/UDP: both ports) */
	uint8_t  l4[4];         /* ICMP(v6): type, code; TCP/UDP: sport, dport */
	uint8_t  src[16], dst[16];  /* IPv4 in the first 4 bytes */
	uint32_t l3off;         /* where the IP header starts in the frame */
	uint32_t l3len;         /* IP datagram length, from its header */
	uint32_t l4off;         /* where the upper layer starts in the frame */
	uint32_t frag_id;       /* a fragment's datagram id (IPv4: the IP id;
	                         * IPv6: the fragment header's); 0 otherwise */
};

/*
 * Parse the IP header at l3off (IPv6: and its extension headers, as far as
 * they go).  0, or VPC_EINVAL when it is not a well-formed IPv4/IPv6 header
 * (version, header length, total length within the frame, header checksum).
 */
int vpc_ip_parse(const struct vpc_pkt *p, uint32_t l3off, struct vpc_ipinfo *ip);

/*
 * May an ICMP error be sent about this datagram?  Not about an ICMP error (or
 * redirect), a fragment other than the first, a datagram from an address that
 * is not one host's (unspecified, loopback, multicast, IPv4 limited
 * broadcast), nor to an IPv4 multicast or broadcast address; IPv6 multicast
 * destinations only for packet too big (ptb).
 */
bool vpc_icmp_error_allowed(const struct vpc_ipinfo *ip, bool ptb);

/* ---- The builder ------------------------------------------------------------ */

struct vpc_icmp_reply {
	uint8_t  af;            /* VPC_AF_INET: ICMP; VPC_AF_INET6: ICMPv6 */
	uint8_t  type, code;
	uint8_t  ttl;           /* TTL / hop limit; 0: 64 */
	uint32_t word;          /* the header's second word: MTU, id/seq, pointer */
	uint8_t  eth_src[6], eth_dst[6];
	uint8_t  ip_src[16], ip_dst[16];        /* IPv4 in the first 4 bytes */
	uint32_t body_off;      /* the body: bytes of `from` from here on... */
	uint32_t body_max;      /* ...at most this many */
};

/*
 * A new frame: Ethernet, IPv4 (no options, DF, id 0) or IPv6, ICMP or ICMPv6
 * with both checksums computed, then the body.  NULL without memory.  Never
 * sleeps.  For an error the body is the offending datagram from its IP header
 * on (body_off = its l3off) and body_max vpc_icmp_quote_max(af).
 */
struct vpc_pkt *vpc_icmp_build(const struct vpc_icmp_reply *r,
    const struct vpc_pkt *from);
uint32_t vpc_icmp_quote_max(uint8_t af);

/* ---- Rate limit --------------------------------------------------------------
 * A token bucket: `rate` tokens a second, at most `burst` saved, no floating
 * point and no lock (one 64-bit word: tokens and the time of the last refill
 * in milliseconds, updated by compare-and-swap).
 */
struct vpc_ratelim {
	uint64_t state;
	uint32_t rate;
	uint32_t burst;
};
void vpc_ratelim_init(struct vpc_ratelim *rl, uint32_t rate, uint32_t burst,
    uint64_t now_ns);
/* Take a token if there is one. */
bool vpc_ratelim_take(struct vpc_ratelim *rl, uint64_t now_ns);
/* The same with a rate and burst that live elsewhere (a policy that can
 * change while the bucket is in use). */
bool vpc_ratelim_take_at(struct vpc_ratelim *rl, uint32_t rate, uint32_t burst,
    uint64_t now_ns);

/* ICMP errors a switch sends: per switch, a second's worth in a burst. */
#define VPC_ICMP_RATE   100
#define VPC_ICMP_BURST  100

#endif /* _VPC_ICMP_H_ */
