/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nat_impl.h: the NAT engine's insides, shared by its files:
 * vpc_nat_cfg.c (the engine, its configuration), vpc_nat_snat.c (flows and
 * ports), vpc_nat_xlate.c (the translator), vpc_nat_csum.c (checksums).
 *
 * Configuration is an immutable snapshot (struct vpc_nat_cfg: EIPs sorted
 * both ways, SNAT bindings and pool addresses sorted), replaced whole on a
 * change and freed after the epoch; the data path binary-searches it with no
 * lock.  A binding (struct vpc_nat_bind) outlives snapshots: it holds its
 * blocks and its counters, and is freed after the epoch once unbound.
 *
 * Flows: one entry in two chained hash tables, by the outbound 5-tuple
 * (private address and port, remote address and port, protocol) and by the
 * inbound one (external address and port, remote, protocol).  Readers walk
 * chains in the epoch without a lock; writers (a new flow, the sweeper, an
 * unbind) hold n->mtx; an entry is unlinked from both chains and freed after
 * the epoch.  Its mutable fields (state, last-seen) are atomic words.  The
 * tables are sized once, at creation, for the flow limit.
 *
 * Addresses are kept as host-order uint32_t.
 */
#ifndef _VPC_NAT_IMPL_H_
#define _VPC_NAT_IMPL_H_

#include "vpc_impl.h"
#include "vpc_l3.h"
#include "vpc_nat.h"

struct vpc_nat_eip {
	uint32_t priv, ext;
};

/* A pool: one external address's ports, in blocks (ctl only). */
struct vpc_nat_pool {
	uint32_t  ext;
	uint16_t  lo, hi, block;
	uint32_t  nblocks;
	uint32_t  nbinds;
	uint64_t *used[VPC_NAT_NPROTO];     /* a bit per block */
	size_t    words;
};

/* A private address in SNAT. */
struct vpc_nat_bind {
	uint32_t             priv, ext;     /* RO */
	uint16_t             lo[VPC_NAT_NPROTO];    /* RO: block starts */
	uint16_t             size;          /* RO: ports per block */
	uint8_t              dead;          /* n->mtx: unbound, no new flow */
	uint32_t             flows[VPC_NAT_NPROTO];         /* n->mtx */
	uint64_t             exhausted[VPC_NAT_NPROTO];     /* atomic */
	struct vpc_nat_pool *pool;          /* ctl */
	struct os_defer      defer;
};

/* A binding in the snapshot: its key beside it, so a search reads one array. */
struct vpc_nat_bref {
	uint32_t             priv;
	struct vpc_nat_bind *b;
};

struct vpc_nat_cfg {
	struct os_defer       defer;
	uint32_t              neip, nbind, npool;
	struct vpc_nat_eip   *eip_priv;     /* sorted by priv */
	struct vpc_nat_eip   *eip_ext;      /* sorted by ext */
	struct vpc_nat_bref  *bind;         /* sorted by priv */
	uint32_t              pool_ext[VPC_NAT_POOLS_MAX];  /* sorted */
	size_t                size;         /* of the allocation */
};

/* 96 bytes. */
struct vpc_nat_flow {
	struct vpc_nat_flow *next_out, *next_in;        /* published chains */
	uint32_t             priv, ext, remote;         /* RO */
	uint16_t             pport, eport, rport;       /* RO */
	uint8_t              proto;     /* RO: IP protocol */
	uint8_t              st;        /* atomic: VPC_NAT_ST_* */
	uint32_t             hout, hin; /* RO */
	uint64_t             last_ns;   /* atomic */
	struct vpc_nat_bind *bind;      /* RO */
	uint8_t              unlinked;  /* n->mtx */
	struct os_defer      defer;
};

struct vpc_nat {
	struct vpc_nat_cfg  *cfg;       /* published, never NULL */
	struct os_mtx       *mtx;       /* flow writers, the sweeper */
	struct os_timer     *sweeper;
	uint64_t           (*clock)(void);
	struct vpc_nat_flow **tout, **tin;      /* RO arrays of mask + 1 */
	uint32_t             mask;
	uint32_t             max_flows; /* RO */
	uint32_t             nflows;    /* n->mtx (read atomically) */
	uint32_t             sweep_at;  /* n->mtx */
	uint32_t             tmo_s[5];  /* ctl writes, data path reads (atomic) */
	uint64_t             key[4];    /* RO: hash secrets */
	struct vpc_nat_pool *pools[VPC_NAT_POOLS_MAX];  /* ctl */
	uint32_t             npools;    /* ctl */
	struct os_counter   *c[VPC_NATC_COUNT];
	struct vpc_fragmem  *frags;     /* RO: SNAT datagrams in fragments,
	                                 * written under n->mtx (vpc_fragmem.c);
	                                 * last: the hot fields keep their lines */
};

enum { NAT_TMO_INCIPIENT, NAT_TMO_EST, NAT_TMO_CLOSING, NAT_TMO_UDP,
    NAT_TMO_ICMP };

static inline uint32_t
vpc_nat_get32(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3]);
}

static inline int
vpc_nat_proto_index(uint8_t proto)
{
	return (proto == VPC_IPPROTO_TCP ? VPC_NAT_TCP :
	    proto == VPC_IPPROTO_UDP ? VPC_NAT_UDP : VPC_NAT_ICMP);
}

static inline void
vpc_nat_count(struct vpc_nat *n, unsigned which)
{
	os_counter_add(n->c[which], 1);
}

/* The snapshot's answers (in the epoch). */
const struct vpc_nat_eip *vpc_nat_eip_by_priv(const struct vpc_nat_cfg *c,
    uint32_t priv);
const struct vpc_nat_eip *vpc_nat_eip_by_ext(const struct vpc_nat_cfg *c,
    uint32_t ext);
struct vpc_nat_bind *vpc_nat_bind_by_priv(const struct vpc_nat_cfg *c,
    uint32_t priv);
bool vpc_nat_is_pool(const struct vpc_nat_cfg *c, uint32_t ext);

/* Flows (vpc_nat_snat.c). */
struct vpc_nat_flow *vpc_nat_flow_out(struct vpc_nat *n, uint32_t priv,
    uint16_t pport, uint32_t remote, uint16_t rport, uint8_t proto,
    uint64_t now);
struct vpc_nat_flow *vpc_nat_flow_in(struct vpc_nat *n, uint32_t ext,
    uint16_t eport, uint32_t remote, uint16_t rport, uint8_t proto,
    uint64_t now);
/* The live flow for this outbound 5-tuple, made if need be; NULL with the
 * counter to bump in *why. */
struct vpc_nat_flow *vpc_nat_flow_get(struct vpc_nat *n, struct vpc_nat_bind *b,
    uint16_t pport, uint32_t remote, uint16_t rport, uint8_t proto,
    uint64_t now, unsigned *why);
/* A packet of the flow went dir with these TCP flags (0 for others). */
void vpc_nat_flow_touch(struct vpc_nat_flow *f, int dir, uint8_t tcpflags,
    uint64_t now);
bool vpc_nat_flow_expired(const struct vpc_nat *n, const struct vpc_nat_flow *f,
    uint64_t now);
int  vpc_nat_flows_init(struct vpc_nat *n, uint32_t max_flows);
void vpc_nat_flows_fini(struct vpc_nat *n);
/* With n->mtx: remove b's flows (b is dead). */
void vpc_nat_flows_unbind(struct vpc_nat *n, struct vpc_nat_bind *b);
void vpc_nat_sweep_tick(void *arg);

#endif /* _VPC_NAT_IMPL_H_ */
