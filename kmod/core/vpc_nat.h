/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nat.h: the NAT translation engine (vpcnat's core; docs/nat.md).
 *
 * One engine translates IPv4 between a VPC's private addresses and external
 * ones, in place, on the data path:
 *  - 1:1 external addresses (EIP): a private address bound to one external
 *    address, rewritten both ways with no state;
 *  - SNAT: private addresses share an external address (a pool); each bound
 *    private address gets, per protocol (TCP, UDP, ICMP echo), a block of
 *    that address's ports that no other private address of the pool gets;
 *    every outbound 5-tuple gets a flow that holds one external port (an echo
 *    id for ICMP) of that block; replies find it by the external side;
 *  - ICMP errors in either direction, the quoted datagram included (its
 *    addresses, ports or echo id, its IP and upper-layer checksums, and the
 *    error's own checksum), so traceroute and path MTU discovery work.
 * An outbound packet whose source has neither an EIP nor an SNAT binding is
 * dropped and counted: it never leaves with its private source.
 *
 * The NAT object (vpc_natgw*.c) owns one engine and calls it from its ops
 * and data path.  Configuration calls must be serialized by the caller (the
 * core's control lock) and may sleep; vpc_nat_xlate runs in the epoch,
 * never sleeps, and may run on many CPUs at once.
 */
#ifndef _VPC_NAT_H_
#define _VPC_NAT_H_

#include "vpc_os.h"

/* Protocols with their own port space (index of per-protocol arrays). */
#define VPC_NAT_TCP     0
#define VPC_NAT_UDP     1
#define VPC_NAT_ICMP    2       /* echo ids */
#define VPC_NAT_NPROTO  3

/* Idle timeouts, seconds (0 in vpc_nat_timeouts: this default). */
#define VPC_NAT_TCP_INCIPIENT_S 240     /* RFC 5382 REQ-5: >= 4 min */
#define VPC_NAT_TCP_EST_S       7440    /* RFC 5382 REQ-5: >= 2 h 4 min */
#define VPC_NAT_TCP_CLOSING_S   240     /* a FIN or RST seen: 2 MSL and more */
#define VPC_NAT_UDP_S           300     /* RFC 4787 REQ-5: >= 2 min, 5 advised */
#define VPC_NAT_ICMP_S          60      /* RFC 5508 REQ-1: >= 60 s */

/* Limits. */
#define VPC_NAT_FLOWS_DEFAULT   262144  /* tracked flows, whole engine */
#define VPC_NAT_FLOWS_MAX       (1u << 24)
#define VPC_NAT_POOLS_MAX       16      /* SNAT external addresses */
#define VPC_NAT_EIPS_MAX        65536
#define VPC_NAT_BINDS_MAX       65536   /* private addresses in SNAT */
/* A pool's ports when not given: 1024-65535 in blocks of 1024 (63 blocks). */
#define VPC_NAT_PORT_LO         1024
#define VPC_NAT_PORT_HI         65535
#define VPC_NAT_BLOCK           1024

/* Verdicts of vpc_nat_xlate. */
#define VPC_NAT_XLATED  0       /* translated in place: send it on */
#define VPC_NAT_NOTMINE 1       /* inbound, for no address of this engine */
#define VPC_NAT_DROP    2       /* dropped and counted: the caller frees it */

#define VPC_NAT_OUT     1       /* from a VM towards the outside */
#define VPC_NAT_IN      2       /* from the outside towards a VM */

/* Counters (vpc_nat_counter). */
enum {
	VPC_NATC_OUT_EIP,       /* translated: outbound by an EIP */
	VPC_NATC_IN_EIP,
	VPC_NATC_OUT_SNAT,      /* translated: outbound by an SNAT flow */
	VPC_NATC_IN_SNAT,
	VPC_NATC_ICMPERR_OUT,   /* ICMP errors translated, quote included */
	VPC_NATC_ICMPERR_IN,
	VPC_NATC_FLOWS_NEW,     /* SNAT flows created */
	VPC_NATC_FLOWS_GONE,    /* reclaimed (expired, unbound, flushed) */
	VPC_NATC_IN_NOTMINE,    /* inbound for none of our addresses */
	VPC_NATC_DROP_NOCFG,    /* outbound from a source with no EIP, no SNAT */
	VPC_NATC_DROP_FULL,     /* the flow table was full */
	VPC_NATC_DROP_EXHAUSTED,/* the source's port block was (also per source) */
	VPC_NATC_DROP_NOMEM,
	VPC_NATC_DROP_NOFLOW,   /* inbound to an SNAT address, no live flow */
	VPC_NATC_DROP_ICMP_NOFLOW, /* an ICMP error quoting no known flow */
	VPC_NATC_DROP_FRAG,     /* a fragment under SNAT (no reassembly) */
	VPC_NATC_DROP_PROTO,    /* under SNAT: not TCP, UDP or ICMP echo */
	VPC_NATC_DROP_AF,       /* outbound, not IPv4 */
	VPC_NATC_DROP_BAD,      /* malformed: header, length, quote */
	VPC_NATC_COUNT
};

struct vpc_nat;
struct vpc_pkt;

struct vpc_nat_timeouts {
	uint32_t tcp_incipient_s;       /* no reply yet */
	uint32_t tcp_est_s;
	uint32_t tcp_closing_s;         /* a FIN or RST seen */
	uint32_t udp_s;
	uint32_t icmp_s;
};

/* 0: VPC_NAT_FLOWS_DEFAULT; at most VPC_NAT_FLOWS_MAX (else EINVAL). */
int  vpc_nat_create(uint32_t max_flows, struct vpc_nat **out);
/* Nobody can reach it any more (no reader in or entering the epoch with it). */
void vpc_nat_destroy(struct vpc_nat *n);
/* Zero fields take the defaults; EINVAL above a day * 366. */
int  vpc_nat_set_timeouts(struct vpc_nat *n, const struct vpc_nat_timeouts *t);
void vpc_nat_get_timeouts(const struct vpc_nat *n, struct vpc_nat_timeouts *t);
/* The engine's clock (default os_now_ns): tests drive time with their own. */
void vpc_nat_set_clock(struct vpc_nat *n, uint64_t (*clock)(void));

/*
 * Addresses are IPv4, 4 bytes in network order.  Errors leave all as it was:
 * EINVAL: an address that is no host's (0/8, 127/8, multicast, class E) or a
 *         bad range;
 * EEXIST: the private address already has an EIP (or an SNAT binding), the
 *         external address is already an EIP;
 * EADDRINUSE: the external address is already used the other way (an EIP
 *         that is a pool's address, or the reverse);
 * ENOENT: nothing to unbind; no pool with that address;
 * ENOSPC: no free port block in the pool; a table at its maximum;
 * EBUSY:  a pool with private addresses bound to it.
 */
int vpc_nat_eip_bind(struct vpc_nat *n, const uint8_t priv[4],
    const uint8_t ext[4]);
int vpc_nat_eip_unbind(struct vpc_nat *n, const uint8_t priv[4]);
/* Ports [lo, hi] of ext in blocks of block ports; all 0: the defaults.
 * lo >= 1, block >= 1, at least one block. */
int vpc_nat_pool_add(struct vpc_nat *n, const uint8_t ext[4], uint16_t lo,
    uint16_t hi, uint16_t block);
int vpc_nat_pool_del(struct vpc_nat *n, const uint8_t ext[4]);
/* Give priv a block of the pool at ext for each protocol (first free). */
int vpc_nat_snat_bind(struct vpc_nat *n, const uint8_t priv[4],
    const uint8_t ext[4]);
/* Unbind: its flows are gone at once (removed before this returns). */
int vpc_nat_snat_unbind(struct vpc_nat *n, const uint8_t priv[4]);

struct vpc_nat_snat_info {
	uint8_t  ext[4];
	uint16_t lo[VPC_NAT_NPROTO];    /* the block: [lo, lo + size) */
	uint16_t size;
	uint32_t flows[VPC_NAT_NPROTO];
	uint64_t exhausted[VPC_NAT_NPROTO];     /* drops: no free port */
};
int vpc_nat_snat_get(struct vpc_nat *n, const uint8_t priv[4],
    struct vpc_nat_snat_info *out);

/*
 * Translate the IPv4 packet at l3off of *pp, going dir.  In the epoch.  The
 * headers are pulled up (which may replace *pp; on failure *pp is NULL and
 * the verdict VPC_NAT_DROP).  A dropped packet is the caller's to free.
 */
int vpc_nat_xlate(struct vpc_nat *n, struct vpc_pkt **pp, uint32_t l3off,
    int dir);

uint64_t vpc_nat_counter(const struct vpc_nat *n, unsigned which);
uint32_t vpc_nat_nflows(const struct vpc_nat *n);
/* Reclaim every expired flow now (the sweeper does a slice a second). */
void vpc_nat_sweep(struct vpc_nat *n);

/* A flow as the walk shows it (addresses in network order). */
struct vpc_nat_flowinfo {
	uint8_t  priv[4], ext[4], remote[4];
	uint16_t pport, eport, rport;   /* ICMP: the echo ids; rport 0 */
	uint8_t  proto;                 /* IP protocol */
	uint8_t  state;                 /* VPC_NAT_ST_* */
	uint64_t idle_ns;
};
#define VPC_NAT_ST_OPEN         0       /* UDP, ICMP; TCP: incipient */
#define VPC_NAT_ST_EST          1       /* TCP: the remote answered */
#define VPC_NAT_ST_CLOSING      2       /* TCP: a FIN or RST seen */
/* Every flow (live or not yet reclaimed), with the engine's mutex held. */
void vpc_nat_flow_walk(struct vpc_nat *n,
    void (*fn)(const struct vpc_nat_flowinfo *, void *), void *arg);
/* Bytes one tracked flow costs (its entry; buckets are extra). */
extern const size_t vpc_nat_flow_size;

/* ---- Checksum rewriting (vpc_nat_csum.c) ----------------------------------
 * RFC 1624 eq. 3 through vpc_cksum_update16 (vpc_icmp.c), with UDP's rule:
 * a zero UDP checksum means "none" and stays zero; a computed zero is sent
 * as 0xffff.  A "cover" is the checksum of an enclosing message that holds
 * the rewritten bytes (an ICMP error's, over its quote): it follows every
 * 16-bit word written, the inner checksums included.  Fields are at even
 * offsets from the start of what each checksum covers.
 */
#define VPC_NAT_CS_PLAIN 0      /* IPv4 header, TCP, ICMP */
#define VPC_NAT_CS_UDP   1
uint16_t vpc_nat_cksum_adj16(uint16_t cs, uint16_t old, uint16_t nw, int kind);
uint16_t vpc_nat_cksum_adj32(uint16_t cs, uint32_t old, uint32_t nw, int kind);
/* Write a 16-bit word (big-endian) at f; the checksum at cover follows. */
void vpc_nat_put16(uint8_t *f, uint16_t nw, uint8_t *cover);
/*
 * Rewrite the address at addr to nw: the IP header checksum at ipcs and the
 * upper layer's at l4cs (a pseudo-header over the address; NULL: none) follow,
 * and cover follows all of it.
 */
void vpc_nat_set_addr(uint8_t *addr, uint32_t nw, uint8_t *ipcs, uint8_t *l4cs,
    int l4kind, uint8_t *cover);
/* Rewrite a port (or an echo id) at f: the checksum at l4cs follows. */
void vpc_nat_set_port(uint8_t *f, uint16_t nw, uint8_t *l4cs, int l4kind,
    uint8_t *cover);

#endif /* _VPC_NAT_H_ */
