/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_fw.c: stateful per-port firewall (security groups).  docs/firewall.md
 * says what it does; this says how.
 *
 * Rule sets are system-level configuration named by a uint32_t id (not
 * vpc_open objects): a sorted list in struct vpc_fw, changed under the
 * control lock.  A set's rules are compiled into an immutable array
 * (struct vpc_fwrules), published and replaced whole, the old one freed
 * after the epoch.  The array holds the inbound rules, then the outbound
 * ones, each part sorted by (priority, deny before allow, order given):
 * evaluation is a linear scan of one direction's part that stops at the
 * first match, run only when a flow is created or re-evaluated, never for
 * a packet of a known flow.
 *
 * Flows live in one hash table for all ports, keyed by (port, VNI,
 * family, protocol, the VM's address and port, the remote's address and
 * port): a flow is stored from the VM's side, so a packet in either
 * direction finds it with one lookup.  The table is open addressing over
 * 64-byte buckets (one cache line: six 16-bit tags, an overflow count and
 * six flow pointers; see "The flow table" below), so a lookup reads one
 * bucket line and the one flow its tag names, never a chain of entries.
 * Readers probe inside the epoch without a lock; writers (a new flow, a
 * removal, the sweeper) take fw->mtx; entries are removed from their slot
 * and freed after the epoch.  A flow's
 * mutable fields (its state byte, last-seen time, generation and packet
 * counts) are single words, read and written atomically (the counts are
 * plain increments: see flow_touch).  The table is bounded (per port and in
 * total): a flow that does not fit is dropped and counted, never an
 * allocation that grows without bound.  Expiry is checked at lookup; the
 * sweeper (a timer of its own, every second, with fw->mtx) reclaims.
 *
 * Lock order: ctl, then fw->mtx.  fw->mtx is never held with sw->mtx or
 * the upcall queue's mutex, and nothing is sent while it is held.
 */
#include "vpc_impl.h"
#include "vpc_l3.h"

#define IPPROTO_TCP_    6
#define IPPROTO_UDP_    17
#define TH_FIN  0x01
#define TH_SYN  0x02
#define TH_RST  0x04
#define TH_ACK  0x10

#define SWEEP_NS        1000000000ULL
#define NS_PER_S        1000000000ULL

/* The state byte: the TCP state in the low 4 bits and these. */
#define ST_MASK         0x0f
#define ST_FIN_INIT     0x10    /* the initiator sent a FIN */
#define ST_FIN_RESP     0x20    /* the responder did */
#define ST_REPLY        0x40    /* a packet from the responder was seen */

struct vpc_fwrule {
	uint32_t          prio;
	uint32_t          index;        /* position as given */
	uint8_t           dir;
	uint8_t           action;
	uint8_t           proto;        /* VPC_FW_PROTO_* */
	uint8_t           ipproto;      /* the IP protocol it needs, 0: any */
	uint8_t           flags;
	uint8_t           icmp_type, icmp_code;
	uint8_t           remote;
	uint8_t           af;
	uint8_t           nports;
	uint32_t          vni;
	uint8_t           net[16], mask[16];
	struct vpc_switch *sw;          /* REMOTE_SWITCH: referenced */
	uint16_t          lo[VPC_FW_PORTS_MAX], hi[VPC_FW_PORTS_MAX];
	uint64_t          hits;         /* atomic */
	vpc_fw_rule_t     given;        /* what FW_RULE_DUMP gives back */
};

struct vpc_fwrules {
	struct os_defer   defer;
	uint64_t          gen;          /* unique over every set */
	uint32_t          n, nin;       /* [0, nin): in; [nin, n): out */
	struct vpc_fwrule r[];
};

struct vpc_fwset {
	uint32_t            id;         /* RO */
	uint32_t            flags;      /* ctl writes, data path reads (atomic) */
	uint32_t            nports;     /* ctl: ports that attach it */
	struct vpc_fwrules *rules;      /* published, never NULL */
	struct vpc_fwset   *next;       /* ctl: sorted by id */
	struct os_defer     defer;
};

/* A port's sets, immutable once published on it. */
struct vpc_portfw {
	struct os_defer   defer;
	struct vpc_fwset *in, *out;     /* NULL: the default of that direction */
};

/* A flow's key, from the VM's side (l = the VM, r = the remote). */
struct vpc_fwkey {
	uint32_t vni;
	uint8_t  af, proto;
	uint16_t lport, rport;
	uint8_t  _pad[2];
	uint8_t  laddr[16], raddr[16];
};

/*
 * 104 bytes (112 allocated on the host; the limit is 128).  What a lookup
 * reads comes first: the port and the key, the state, then the times.  No
 * chain link: the bucket holds the pointer; its home bucket is its hash's
 * (flow_home, recomputed by writers, not stored: 4 bytes would make the
 * entry 112).
 */
struct vpc_fwflow {
	const struct vpc_port *port;    /* RO */
	struct vpc_fwkey       key;     /* RO */
	uint8_t                dir;     /* RO: who started it */
	uint8_t                st;      /* atomic: state byte */
	uint16_t               tag;     /* RO: its slot's (fw_tag of its hash) */
	uint64_t               last_ns; /* atomic: last packet */
	uint64_t               gen;     /* atomic: generation that allowed it */
	uint32_t               pkts_out, pkts_in;  /* atomic */
	struct os_defer        defer;
};
_Static_assert(sizeof(struct vpc_fwflow) <= 128, "a flow is at most 128 bytes");
_Static_assert(sizeof(struct vpc_fwflow) <= 104, "a flow fits a 112-byte malloc chunk");
const size_t vpc_fw_flow_size = sizeof(struct vpc_fwflow);

/*
 * The flow table.  Open addressing with linear probing over buckets of one
 * cache line each.  A slot is empty when its pointer is NULL (its tag is 0
 * then).  A flow goes in the first free slot from its home bucket (the
 * hash's low bits) on; every bucket it passes over on the way counts it in
 * `over` (the overflow count of Folly's F14 tables), so a lookup reads its
 * home bucket, compares the 16-bit tags (one in 65,535 of the other flows
 * there has ours), follows the pointers whose tag matches, and goes on to the next bucket only while `over` says some flow that passed
 * through is further on.  A removal empties its slot at once and takes its
 * count back from the buckets it passed: no tombstones, so churn (a SYN
 * flood, short flows) never lengthens the probes.  Sized for the total
 * limit at 2/3 of the slots at most (tab_size_for); an insert looks at most
 * FW_PROBE_MAX buckets on (beyond that, or with no free slot: the table is
 * full, fwTableFull).
 *
 * Readers (the data path, in the epoch, no lock) load a tag with acquire
 * and then the pointer; a writer (fw->mtx) stores the pointer, then the tag,
 * both with release, and empties a slot tag first.  A reader racing a
 * writer may see the pointer of the slot's next flow, or NULL: it compares
 * the key, so it finds the flow it looks for or nothing, as with a chain.
 * Flows are never moved, and freed after the epoch.
 */
#define FW_BSLOTS       6
#define FW_PROBE_MAX    64u

struct vpc_fwbucket {
	uint16_t           tag[FW_BSLOTS];  /* atomic: 0 (empty) or the hash's top */
	uint32_t           over;            /* atomic: flows that passed over it */
	struct vpc_fwflow *ent[FW_BSLOTS];  /* published */
};
_Static_assert(sizeof(struct vpc_fwbucket) == 64, "a bucket is a cache line");

struct vpc_fwtab {
	struct os_defer      defer;
	uint32_t             mask;      /* buckets - 1 */
	struct vpc_fwbucket *b;         /* 64-byte aligned, in mem[] */
	char                 mem[];
};

struct vpc_fw {
	struct os_mtx      *mtx;        /* RO: flow writers, the sweeper */
	struct os_timer    *sweeper;    /* RO */
	struct vpc_fwtab   *tab;        /* published; replaced only when empty */
	uint32_t            nflows;     /* fw->mtx (read atomically) */
	uint32_t            sweep_at;   /* fw->mtx */
	uint64_t            next_gen;   /* ctl */
	struct vpc_fwset   *sets;       /* ctl */
	uint32_t            nsets;      /* ctl */
	vpc_fw_config_t     conf;       /* ctl: as set (0: defaults) */
	uint32_t            tmo_s[8];   /* ctl writes, data path reads (atomic) */
	uint32_t            max_port;   /* likewise */
	uint32_t            max_total;  /* likewise */
	uint64_t            k0, k1;     /* RO: hash keys */
	struct vpc_fragmem *frags;      /* RO: datagrams whose first fragment
	                                 * passed (vpc_fragmem.c) */
};

enum { TMO_SYN, TMO_EST, TMO_FIN, TMO_TW, TMO_CLOSED, TMO_UDP, TMO_ICMP,
    TMO_OTHER };

/* ---- Small helpers -------------------------------------------------------- */

static uint8_t
ld8(const uint8_t *p)
{
	return (__atomic_load_n(p, __ATOMIC_RELAXED));
}

static bool
fw_established(uint8_t proto, uint8_t st)
{
	if (proto == IPPROTO_TCP_)
		return ((st & ST_MASK) == VPC_FW_TCP_ESTABLISHED ||
		    (st & ST_MASK) == VPC_FW_TCP_FIN_WAIT);
	return ((st & ST_REPLY) != 0);
}

static uint64_t
fw_timeout_ns(const struct vpc_fw *fw, uint8_t proto, uint8_t st)
{
	unsigned i;

	if (proto == IPPROTO_TCP_) {
		switch (st & ST_MASK) {
		case VPC_FW_TCP_ESTABLISHED:
			i = TMO_EST;
			break;
		case VPC_FW_TCP_FIN_WAIT:
			i = TMO_FIN;
			break;
		case VPC_FW_TCP_TIME_WAIT:
			i = TMO_TW;
			break;
		case VPC_FW_TCP_CLOSED:
			i = TMO_CLOSED;
			break;
		default:
			i = TMO_SYN;
			break;
		}
	} else if (proto == IPPROTO_UDP_)
		i = TMO_UDP;
	else if (proto == VPC_IPPROTO_ICMP || proto == VPC_IPPROTO_ICMPV6)
		i = TMO_ICMP;
	else
		i = TMO_OTHER;
	return ((uint64_t)__atomic_load_n(&fw->tmo_s[i], __ATOMIC_RELAXED) *
	    NS_PER_S);
}

static bool
flow_expired(const struct vpc_fw *fw, const struct vpc_fwflow *e, uint64_t now)
{
	uint64_t last = __atomic_load_n(&e->last_ns, __ATOMIC_RELAXED);

	return (now > last && now - last >
	    fw_timeout_ns(fw, e->key.proto, ld8(&e->st)));
}

static inline uint32_t
ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return (v);
}

/*
 * Keyed (k0, k1: a remote cannot aim its flows at one chain) and cheap: two
 * lanes whose multiplies overlap, then one finishing mix.  An IPv4 key's
 * address bytes past the first four are zero (key_orient, the memset in
 * fw_parse), so they are skipped: four multiplies where IPv6 needs six.
 *
 * The key is read field by field, each at the width it was written with,
 * not as 64-bit words: the packet's key was just built by small stores (a
 * byte, two, four), and a wide load over several stores still in the store
 * buffer cannot be forwarded from them but waits for them to reach the
 * cache, which cost an established flow's packet more than everything else
 * the firewall does to it.  Nothing needs the hash to follow the layout.
 */
static inline uint64_t
fw_hash(const struct vpc_fw *fw, const struct vpc_port *port,
    const struct vpc_fwkey *k)
{
	uint64_t a, b;

	a = ((uint64_t)k->vni << 32 | (uint32_t)k->af << 24 |
	    (uint32_t)k->proto << 16 | k->lport) ^ fw->k0;
	b = ((uint64_t)k->rport << 32 | ld32(k->laddr)) ^ fw->k1;
	a *= 0x9e3779b97f4a7c15ULL;
	b *= 0xc2b2ae3d27d4eb4fULL;
	a += (((uint64_t)(uintptr_t)port ^ ld32(k->raddr)) ^ fw->k1) *
	    0xbf58476d1ce4e5b9ULL;
	if (k->af != VPC_AF_INET) {
		a += (((uint64_t)ld32(k->laddr + 4) << 32 | ld32(k->laddr + 8)) ^
		    fw->k0) * 0x165667b19e3779f9ULL;
		b += (((uint64_t)ld32(k->laddr + 12) << 32 | ld32(k->raddr + 4)) ^
		    fw->k1) * 0x94d049bb133111ebULL;
		a += (((uint64_t)ld32(k->raddr + 8) << 32 | ld32(k->raddr + 12)) ^
		    fw->k0) * 0x9e3779b97f4a7c15ULL;
	}
	a ^= (b >> 29) ^ (b << 35);
	a ^= a >> 32;
	a *= 0xbf58476d1ce4e5b9ULL;
	a ^= a >> 29;
	return (a);
}

/* A hash's tag: its top 16 bits, never 0 (an empty slot's). */
static inline uint16_t
fw_tag(uint64_t h)
{
	uint16_t t = (uint16_t)(h >> 48);

	return (t != 0 ? t : 1);
}

/* A stored flow's home bucket (before the mask): its hash's low bits. */
static uint32_t
flow_home(const struct vpc_fw *fw, const struct vpc_fwflow *e)
{
	return ((uint32_t)fw_hash(fw, e->port, &e->key));
}

/*
 * A stored flow's key (old) against a packet's (new, just built: read as
 * fw_hash does, no load over several of its stores).  No early exit and
 * no memcmp call: both cost more than the comparison.  The pad is zero in
 * both (fw_parse's memset, and the copy of it a flow keeps).
 */
static inline bool
key_eq(const struct vpc_fwkey *old, const struct vpc_fwkey *k)
{
	uint32_t d;
	unsigned i;

	d = (old->vni ^ k->vni) | (uint32_t)(old->af ^ k->af) |
	    (uint32_t)(old->proto ^ k->proto) |
	    (uint32_t)(old->lport ^ k->lport) |
	    (uint32_t)(old->rport ^ k->rport);
	for (i = 0; i < 16; i += 4)
		d |= (ld32(old->laddr + i) ^ ld32(k->laddr + i)) |
		    (ld32(old->raddr + i) ^ ld32(k->raddr + i));
	return (d == 0);
}

static void
flow_free_deferred(struct os_defer *d)
{
	struct vpc_fwflow *e = (struct vpc_fwflow *)((char *)d -
	    __builtin_offsetof(struct vpc_fwflow, defer));

	vpc_free(e, sizeof(*e));
}

/*
 * The flow with this key in t, or NULL: the data path's probe (in the
 * epoch, no lock) and the writers' (fw->mtx).  home and tag: its hash's.
 */
static inline struct vpc_fwflow *
flow_probe(const struct vpc_fwtab *t, const struct vpc_port *port,
    const struct vpc_fwkey *k, uint32_t home, uint16_t tag, uint32_t *bp,
    unsigned *ip)
{
	const struct vpc_fwbucket *bk;
	struct vpc_fwflow *e;
	uint32_t b = home & t->mask, n;
	unsigned i;

	/* No flow is further than FW_PROBE_MAX - 1 buckets from its home: a
	 * crowded table (a limit raised past its slots) never makes a probe
	 * of the data path walk it all. */
	for (n = 0; n < FW_PROBE_MAX && n <= t->mask; n++,
	    b = (b + 1) & t->mask) {
		bk = &t->b[b];
		for (i = 0; i < FW_BSLOTS; i++) {
			if (__atomic_load_n(&bk->tag[i], __ATOMIC_ACQUIRE) != tag)
				continue;
			e = vpc_load(((struct vpc_fwbucket *)(uintptr_t)bk)->ent[i]);
			if (e != NULL && e->port == port && key_eq(&e->key, k)) {
				*bp = b;
				*ip = i;
				return (e);
			}
		}
		if (__atomic_load_n(&bk->over, __ATOMIC_RELAXED) == 0)
			break;
	}
	return (NULL);
}

/* With fw->mtx: where e is (false: not in t any more). */
static bool
flow_slot(const struct vpc_fw *fw, const struct vpc_fwtab *t,
    const struct vpc_fwflow *e, uint32_t *bp, unsigned *ip)
{
	uint32_t b = flow_home(fw, e) & t->mask, n;
	unsigned i;

	for (n = 0; n < FW_PROBE_MAX && n <= t->mask; n++,
	    b = (b + 1) & t->mask) {
		for (i = 0; i < FW_BSLOTS; i++)
			if (t->b[b].ent[i] == e) {
				*bp = b;
				*ip = i;
				return (true);
			}
		if (t->b[b].over == 0)
			break;
	}
	return (false);
}

/* With fw->mtx: the buckets from home up to b (not b) count a flow or not. */
static void
flow_pass_over(struct vpc_fwtab *t, uint32_t home, uint32_t b, int by)
{
	uint32_t x;

	for (x = home & t->mask; x != b; x = (x + 1) & t->mask)
		__atomic_store_n(&t->b[x].over, t->b[x].over + (uint32_t)by,
		    __ATOMIC_RELAXED);
}

/* With fw->mtx: take e out of slot i of bucket b; freed after the epoch. */
static void
flow_unlink(struct vpc_fw *fw, struct vpc_fwtab *t, uint32_t b, unsigned i,
    struct vpc_fwflow *e)
{
	struct vpc_port *p = (struct vpc_port *)(uintptr_t)e->port;

	VPC_ASSERT_MTX(fw->mtx);
	__atomic_store_n(&t->b[b].tag[i], 0, __ATOMIC_RELEASE);
	vpc_store(t->b[b].ent[i], NULL);
	flow_pass_over(t, flow_home(fw, e), b, -1);
	p->fw_flows--;
	__atomic_store_n(&fw->nflows, fw->nflows - 1, __ATOMIC_RELAXED);
	os_epoch_defer(&e->defer, flow_free_deferred);
}

/* With fw->mtx: remove what match says from bucket b. */
static uint32_t
bucket_remove_if(struct vpc_fw *fw, struct vpc_fwtab *t, uint32_t b,
    bool (*match)(struct vpc_fw *, const struct vpc_fwflow *, const void *,
    uint64_t), const void *arg, uint64_t now)
{
	struct vpc_fwflow *e;
	uint32_t n = 0;
	unsigned i;

	for (i = 0; i < FW_BSLOTS; i++)
		if ((e = t->b[b].ent[i]) != NULL && match(fw, e, arg, now)) {
			flow_unlink(fw, t, b, i, e);
			n++;
		}
	return (n);
}

static bool
match_expired(struct vpc_fw *fw, const struct vpc_fwflow *e, const void *arg,
    uint64_t now)
{
	(void)arg;
	return (flow_expired(fw, e, now));
}

static bool
match_port(struct vpc_fw *fw, const struct vpc_fwflow *e, const void *arg,
    uint64_t now)
{
	(void)fw;
	(void)now;
	return (e->port == arg);
}

static void
sweep_tick(void *arg)
{
	struct vpc_fw *fw = arg;
	struct vpc_fwtab *t = fw->tab;
	uint64_t now = os_now_coarse_ns();
	uint32_t n, i, total;

	VPC_ASSERT_MTX(fw->mtx);
	if (t != NULL && fw->nflows != 0) {
		total = t->mask + 1;
		n = total / 8 < 4096 ? (total < 4096 ? total : 4096) : total / 8;
		for (i = 0; i < n; i++) {
			fw->sweep_at = (fw->sweep_at + 1) & t->mask;
			bucket_remove_if(fw, t, fw->sweep_at, match_expired,
			    NULL, now);
		}
	}
	os_timer_arm(fw->sweeper, SWEEP_NS);
}

/* Buckets in the flow table (the bench's memory per flow). */
uint32_t
vpc_fw_buckets(struct vpc_sys *sys)
{
	const struct vpc_fwtab *t = vpc_load(sys->fw->tab);

	return (t != NULL ? t->mask + 1 : 0);
}

/* Reclaim every expired flow now (tests, benches, a full table). */
void
vpc_fw_sweep_all(struct vpc_sys *sys)
{
	struct vpc_fw *fw = sys->fw;
	struct vpc_fwtab *t;
	uint64_t now = os_now_coarse_ns();
	uint32_t i;

	os_mtx_lock(fw->mtx);
	if ((t = fw->tab) != NULL)
		for (i = 0; i <= t->mask; i++)
			bucket_remove_if(fw, t, i, match_expired, NULL, now);
	os_mtx_unlock(fw->mtx);
}

/* ---- Configuration -------------------------------------------------------- */

static void
conf_apply(struct vpc_fw *fw, const vpc_fw_config_t *c)
{
#define DEF(v, d) ((v) != 0 ? (v) : (d))
	uint32_t t[8] = {
		DEF(c->tcp_syn_s, VPC_FW_TCP_SYN_S),
		DEF(c->tcp_est_s, VPC_FW_TCP_EST_S),
		DEF(c->tcp_fin_s, VPC_FW_TCP_FIN_S),
		DEF(c->tcp_timewait_s, VPC_FW_TCP_TIMEWAIT_S),
		DEF(c->tcp_closed_s, VPC_FW_TCP_CLOSED_S),
		DEF(c->udp_s, VPC_FW_UDP_S),
		DEF(c->icmp_s, VPC_FW_ICMP_S),
		DEF(c->other_s, VPC_FW_OTHER_S),
	};
	unsigned i;

	for (i = 0; i < 8; i++)
		__atomic_store_n(&fw->tmo_s[i], t[i], __ATOMIC_RELAXED);
	__atomic_store_n(&fw->max_total, DEF(c->max_flows, VPC_FW_FLOWS_TOTAL),
	    __ATOMIC_RELAXED);
	__atomic_store_n(&fw->max_port, DEF(c->max_flows_port,
	    VPC_FW_FLOWS_PORT), __ATOMIC_RELAXED);
#undef DEF
}

/*
 * Buckets for the total limit: a power of two, at least a quarter as many
 * as flows, so a full table fills at most 2/3 of its slots (16 bytes of
 * bucket a flow at the limit; VPC_FW_FLOWS_LIMIT, 4M: 1M buckets, 64 MB).
 */
static uint32_t
tab_size_for(uint32_t max_total)
{
	uint32_t n = 256;

	while (n < max_total / 4 && n < (1u << 20))
		n <<= 1;
	return (n);
}

static size_t
tab_bytes(uint32_t nb)
{
	return (sizeof(struct vpc_fwtab) + (size_t)nb *
	    sizeof(struct vpc_fwbucket) + 63);
}

static struct vpc_fwtab *
tab_new(uint32_t nb)
{
	struct vpc_fwtab *t;

	t = vpc_alloc(tab_bytes(nb), VPC_M_WAITOK);
	if (t != NULL) {
		t->mask = nb - 1;
		t->b = (struct vpc_fwbucket *)(((uintptr_t)t->mem + 63) &
		    ~(uintptr_t)63);    /* vpc_alloc zeroed it: all empty */
	}
	return (t);
}

static void
tab_free_deferred(struct os_defer *d)
{
	struct vpc_fwtab *t = (struct vpc_fwtab *)(void *)d;

	vpc_free(t, tab_bytes(t->mask + 1));
}

int
vpc_fw_create(struct vpc_sys *sys)
{
	struct vpc_fw *fw;

	fw = vpc_alloc(sizeof(*fw), VPC_M_WAITOK);
	if (fw == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((fw->frags = vpc_fragmem_create()) == NULL)
		goto fail;
	if ((fw->mtx = os_mtx_create("vpc fw")) == NULL)
		goto fail;
	if ((fw->sweeper = os_timer_create(fw->mtx, sweep_tick, fw)) == NULL)
		goto fail;
	os_random(&fw->k0, sizeof(fw->k0));
	os_random(&fw->k1, sizeof(fw->k1));
	conf_apply(fw, &fw->conf);
	sys->fw = fw;
	os_mtx_lock(fw->mtx);
	os_timer_arm(fw->sweeper, SWEEP_NS);
	os_mtx_unlock(fw->mtx);
	return (0);
fail:
	if (fw->mtx != NULL)
		os_mtx_destroy(fw->mtx);
	vpc_fragmem_destroy(fw->frags);
	vpc_free(fw, sizeof(*fw));
	return (VPC_ERR(VPC_ENOMEM));
}

static void rules_release(struct vpc_fwrules *rs);

static void
rules_free_deferred(struct os_defer *d)
{
	struct vpc_fwrules *rs = (struct vpc_fwrules *)(void *)d;

	vpc_free(rs, sizeof(*rs) + (size_t)rs->n * sizeof(rs->r[0]));
}

static void
set_free_deferred(struct os_defer *d)
{
	struct vpc_fwset *s = (struct vpc_fwset *)((char *)d -
	    __builtin_offsetof(struct vpc_fwset, defer));

	vpc_free(s, sizeof(*s));
}

/*
 * Rule sets are configuration an operator made, like a committed object:
 * while one exists the FreeBSD module refuses to unload (vpc_sys_busy).
 */
bool
vpc_fw_has_sets(struct vpc_sys *sys)
{
	VPC_ASSERT_CTL(sys);
	return (sys->fw != NULL && sys->fw->nsets != 0);
}

/* Host teardown: every object is gone, so no port holds a set. */
void
vpc_fw_drop_sets(struct vpc_sys *sys)
{
	struct vpc_fw *fw = sys->fw;
	struct vpc_fwset *s;

	VPC_ASSERT_CTL(sys);
	if (fw == NULL)
		return;
	while ((s = fw->sets) != NULL) {
		fw->sets = s->next;
		fw->nsets--;
		rules_release(s->rules);
		os_epoch_defer(&s->rules->defer, rules_free_deferred);
		os_epoch_defer(&s->defer, set_free_deferred);
	}
}

void
vpc_fw_destroy(struct vpc_sys *sys)
{
	struct vpc_fw *fw = sys->fw;

	if (fw == NULL)
		return;
	os_timer_destroy(fw->sweeper);
	os_sx_xlock(sys->ctl);
	vpc_fw_drop_sets(sys);
	os_sx_xunlock(sys->ctl);
	if (fw->tab != NULL)
		os_epoch_defer(&fw->tab->defer, tab_free_deferred);
	os_mtx_destroy(fw->mtx);
	vpc_fragmem_destroy(fw->frags);
	vpc_free(fw, sizeof(*fw));
	sys->fw = NULL;
}

/* ---- Rules: check and compile (control) ------------------------------------- */

static struct vpc_fwset *
set_find(struct vpc_fw *fw, uint32_t id)
{
	struct vpc_fwset *s;

	for (s = fw->sets; s != NULL && s->id < id; s = s->next)
		;
	return (s != NULL && s->id == id ? s : NULL);
}

static int
rule_check(struct vpc_sys *sys, const vpc_fw_rule_t *r, struct vpc_obj **swo)
{
	unsigned i, alen;

	*swo = NULL;
	if (r->priority > VPC_FW_PRIO_MAX)
		return (VPC_ERR(VPC_EINVAL));
	if (r->dir != VPC_FW_DIR_IN && r->dir != VPC_FW_DIR_OUT)
		return (VPC_ERR(VPC_EINVAL));
	if (r->action != VPC_FW_ALLOW && r->action != VPC_FW_DENY)
		return (VPC_ERR(VPC_EINVAL));
	if (r->proto > VPC_FW_PROTO_NUMBER)
		return (VPC_ERR(VPC_EINVAL));   /* unknown protocol */
	if (r->proto != VPC_FW_PROTO_NUMBER && r->proto_num != 0)
		return (VPC_ERR(VPC_EINVAL));
	if (r->proto == VPC_FW_PROTO_NUMBER && r->proto_num == 255)
		return (VPC_ERR(VPC_EINVAL));   /* reserved */
	if ((r->flags & ~(VPC_FW_R_ICMP_TYPE | VPC_FW_R_ICMP_CODE)) != 0)
		return (VPC_ERR(VPC_EINVAL));
	if (r->flags != 0 && r->proto != VPC_FW_PROTO_ICMP &&
	    r->proto != VPC_FW_PROTO_ICMP6)
		return (VPC_ERR(VPC_EINVAL));
	if ((r->flags & VPC_FW_R_ICMP_CODE) != 0 &&
	    (r->flags & VPC_FW_R_ICMP_TYPE) == 0)
		return (VPC_ERR(VPC_EINVAL));   /* a code without a type */
	if (((r->flags & VPC_FW_R_ICMP_TYPE) == 0 && r->icmp_type != 0) ||
	    ((r->flags & VPC_FW_R_ICMP_CODE) == 0 && r->icmp_code != 0))
		return (VPC_ERR(VPC_EINVAL));
	if (r->nports > VPC_FW_PORTS_MAX)
		return (VPC_ERR(VPC_EINVAL));
	if (r->nports != 0 && r->proto != VPC_FW_PROTO_TCP &&
	    r->proto != VPC_FW_PROTO_UDP)
		return (VPC_ERR(VPC_EINVAL));
	for (i = 0; i < VPC_FW_PORTS_MAX; i++) {
		if (i >= r->nports) {
			if (r->port_lo[i] != 0 || r->port_hi[i] != 0)
				return (VPC_ERR(VPC_EINVAL));
			continue;
		}
		if (r->port_lo[i] == 0 || r->port_lo[i] > 65535 ||
		    r->port_hi[i] == 0 || r->port_hi[i] > 65535 ||
		    r->port_lo[i] > r->port_hi[i])
			return (VPC_ERR(VPC_EINVAL));
	}
	if (r->_pad0 != 0 || r->hits != 0 || r->cursor != 0)
		return (VPC_ERR(VPC_EINVAL));
	if (r->remote != VPC_FW_REMOTE_CIDR &&
	    (r->af != 0 || r->plen != 0 || !vpc_all_zero(r->addr, 16)))
		return (VPC_ERR(VPC_EINVAL));
	if (r->remote != VPC_FW_REMOTE_VNI && r->vni != 0)
		return (VPC_ERR(VPC_EINVAL));
	if (r->remote != VPC_FW_REMOTE_SWITCH &&
	    !vpc_id_is_nil(&r->switch_id))
		return (VPC_ERR(VPC_EINVAL));
	switch (r->remote) {
	case VPC_FW_REMOTE_ANY:
		break;
	case VPC_FW_REMOTE_CIDR:
		if (r->af != VPC_AF_INET && r->af != VPC_AF_INET6)
			return (VPC_ERR(VPC_EINVAL));
		alen = r->af == VPC_AF_INET ? 4 : 16;
		if (r->plen > alen * 8 || !vpc_all_zero(r->addr + alen, 16 - alen))
			return (VPC_ERR(VPC_EINVAL));
		for (i = 0; i < alen * 8; i++)          /* host bits */
			if (i >= r->plen &&
			    (r->addr[i / 8] & (0x80 >> (i % 8))) != 0)
				return (VPC_ERR(VPC_EINVAL));
		break;
	case VPC_FW_REMOTE_SWITCH:
		*swo = vpc_reg_lookup(sys, &r->switch_id);
		if (*swo == NULL)
			return (VPC_ERR(VPC_ENOENT));
		if ((*swo)->type != VPC_TYPE_SWITCH) {
			*swo = NULL;
			return (VPC_ERR(VPC_EINVAL));
		}
		break;
	case VPC_FW_REMOTE_VNI:
		if (r->vni > VPC_VNI_MAX)
			return (VPC_ERR(VPC_EINVAL));
		break;
	default:
		return (VPC_ERR(VPC_EINVAL));
	}
	return (0);
}

static int
rule_cmp(const struct vpc_fwrule *a, const struct vpc_fwrule *b)
{
	if (a->dir != b->dir)
		return (a->dir == VPC_FW_DIR_IN ? -1 : 1);
	if (a->prio != b->prio)
		return (a->prio < b->prio ? -1 : 1);
	if (a->action != b->action)
		return (a->action == VPC_FW_DENY ? -1 : 1);
	return (a->index < b->index ? -1 : a->index > b->index ? 1 : 0);
}

static void
rule_compile(const vpc_fw_rule_t *g, uint32_t index, struct vpc_obj *swo,
    struct vpc_fwrule *c)
{
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->given = *g;
	c->given.hits = 0;
	c->given.cursor = 0;
	c->prio = g->priority;
	c->index = index;
	c->dir = g->dir;
	c->action = g->action;
	c->proto = g->proto;
	switch (g->proto) {
	case VPC_FW_PROTO_TCP:
		c->ipproto = IPPROTO_TCP_;
		break;
	case VPC_FW_PROTO_UDP:
		c->ipproto = IPPROTO_UDP_;
		break;
	case VPC_FW_PROTO_ICMP:
		c->ipproto = VPC_IPPROTO_ICMP;
		c->af = VPC_AF_INET;
		break;
	case VPC_FW_PROTO_ICMP6:
		c->ipproto = VPC_IPPROTO_ICMPV6;
		c->af = VPC_AF_INET6;
		break;
	case VPC_FW_PROTO_NUMBER:
		c->ipproto = g->proto_num;
		break;
	}
	c->flags = g->flags;
	c->icmp_type = g->icmp_type;
	c->icmp_code = g->icmp_code;
	c->remote = g->remote;
	if (g->remote == VPC_FW_REMOTE_CIDR) {
		if (c->af != 0 && c->af != g->af)
			c->remote = 0xff;       /* ICMP to an IPv6 net: never */
		c->af = g->af;
		for (i = 0; i < g->plen; i++)
			c->mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		for (i = 0; i < 16; i++)
			c->net[i] = g->addr[i] & c->mask[i];
	}
	c->vni = g->vni;
	if (swo != NULL) {
		vpc_obj_ref(swo);
		c->sw = obj2sw(swo);
	}
	c->nports = g->nports;
	for (i = 0; i < g->nports; i++) {
		c->lo[i] = (uint16_t)g->port_lo[i];
		c->hi[i] = (uint16_t)g->port_hi[i];
	}
}

static struct vpc_fwrules *
rules_alloc(uint32_t n)
{
	struct vpc_fwrules *rs;

	rs = vpc_alloc(sizeof(*rs) + (size_t)n * sizeof(rs->r[0]), VPC_M_WAITOK);
	if (rs != NULL)
		rs->n = n;
	return (rs);
}

/* Control: drop the switch references of rules no longer in use. */
static void
rules_release(struct vpc_fwrules *rs)
{
	uint32_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->r[i].sw != NULL) {
			vpc_obj_rele(&rs->r[i].sw->obj);
			rs->r[i].sw = NULL;     /* readers test obj.dead first */
		}
}

/* Insertion sort (stable, n <= VPC_FW_RULES_MAX, control path only). */
static void
rules_sort(struct vpc_fwrules *rs)
{
	struct vpc_fwrule tmp;
	uint32_t i, j;

	for (i = 1; i < rs->n; i++) {
		if (rule_cmp(&rs->r[i - 1], &rs->r[i]) <= 0)
			continue;
		tmp = rs->r[i];
		for (j = i; j > 0 && rule_cmp(&rs->r[j - 1], &tmp) > 0; j--)
			rs->r[j] = rs->r[j - 1];
		rs->r[j] = tmp;
	}
	for (i = 0; i < rs->n && rs->r[i].dir == VPC_FW_DIR_IN; i++)
		;
	rs->nin = i;
}

/*
 * Build the compiled form of rules (nothing referenced yet on failure).
 * Exported for the C tests and the bench, which compile more rules than
 * one op carries.
 */
int
vpc_fw_compile(struct vpc_sys *sys, const vpc_fw_rule_t *rules, uint32_t n,
    struct vpc_fwrules **out)
{
	struct vpc_obj *swo[1];
	struct vpc_fwrules *rs;
	uint32_t i;
	int error;

	VPC_ASSERT_CTL(sys);
	for (i = 0; i < n; i++)
		if ((error = rule_check(sys, &rules[i], swo)) != 0)
			return (error);
	if ((rs = rules_alloc(n)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	for (i = 0; i < n; i++) {
		(void)rule_check(sys, &rules[i], swo);
		rule_compile(&rules[i], i, swo[0], &rs->r[i]);
	}
	rules_sort(rs);
	rs->gen = ++sys->fw->next_gen;
	*out = rs;
	return (0);
}

/* Control: publish rs as s's rules; the old ones go after the epoch. */
static void
set_publish_rules(struct vpc_fwset *s, struct vpc_fwrules *rs)
{
	struct vpc_fwrules *old = s->rules;

	vpc_store(s->rules, rs);
	if (old != NULL) {
		rules_release(old);
		os_epoch_defer(&old->defer, rules_free_deferred);
	}
}

/* ---- The data path ------------------------------------------------------- */

/* What the firewall knows of one packet. */
struct fwpkt {
	struct vpc_fwkey key;           /* from the VM's side */
	uint8_t  dir;                   /* of this packet */
	uint8_t  tcpflags;
	uint8_t  icmp_type, icmp_code;
	uint16_t dport;                 /* this packet's destination port */
	bool     related;               /* an ICMP error; key: the flow quoted */
	bool     echo_reply;
	bool     frag_first;            /* the first fragment of a datagram */
	uint32_t frag_id;               /* its datagram's id, when fragmented */
};

/* FW_PARSE_FRAG: a later fragment; fp->key has its addresses and protocol. */
enum { FW_PARSE_OK, FW_PARSE_PASS, FW_PARSE_INVALID, FW_PARSE_FRAG };

static bool
icmp_is_error(uint8_t af, uint8_t type)
{
	if (af == VPC_AF_INET)
		return (type == 3 || type == 4 || type == 11 || type == 12);
	return (type >= 1 && type <= 4);
}

/* Fill the key from a packet going dir: the VM is the source going out. */
static void
key_orient(struct vpc_fwkey *k, uint8_t dir, uint8_t af, const uint8_t *src,
    const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	unsigned alen = af == VPC_AF_INET ? 4 : 16;

	k->af = af;
	if (dir == VPC_FW_DIR_OUT) {
		memcpy(k->laddr, src, alen);
		memcpy(k->raddr, dst, alen);
		k->lport = sport;
		k->rport = dport;
	} else {
		memcpy(k->laddr, dst, alen);
		memcpy(k->raddr, src, alen);
		k->lport = dport;
		k->rport = sport;
	}
}

/*
 * The datagram an ICMP error quotes, at off: its IP header and the first 8
 * bytes after it.  The flow it belongs to went the other way.
 */
static int
parse_quoted(const struct vpc_pkt *p, uint32_t off, uint8_t af, uint8_t dir,
    struct fwpkt *fp)
{
	uint8_t h[40 + 8], proto;
	uint32_t hl;
	uint16_t sport = 0, dport = 0;

	if (af == VPC_AF_INET) {
		if (!os_pkt_copyout(p, off, 20, h) || (h[0] >> 4) != 4)
			return (FW_PARSE_INVALID);
		hl = (uint32_t)(h[0] & 0x0f) * 4;
		if (hl < 20)
			return (FW_PARSE_INVALID);
		proto = h[9];
		if (!os_pkt_copyout(p, off + hl, 8, h + 20))
			return (FW_PARSE_INVALID);
		sport = vpc_get16(h + 20);
		dport = vpc_get16(h + 22);
		if (proto == VPC_IPPROTO_ICMP) {
			sport = vpc_get16(h + 24);      /* echo id */
			dport = 0;
		}
		/* The quoted packet went the other way: flip the direction. */
		key_orient(&fp->key, dir == VPC_FW_DIR_IN ? VPC_FW_DIR_OUT :
		    VPC_FW_DIR_IN, af, h + 12, h + 16, sport, dport);
	} else {
		if (!os_pkt_copyout(p, off, 48, h) || (h[0] >> 4) != 6)
			return (FW_PARSE_INVALID);
		proto = h[6];
		sport = vpc_get16(h + 40);
		dport = vpc_get16(h + 42);
		if (proto == VPC_IPPROTO_ICMPV6) {
			sport = vpc_get16(h + 44);
			dport = 0;
		}
		key_orient(&fp->key, dir == VPC_FW_DIR_IN ? VPC_FW_DIR_OUT :
		    VPC_FW_DIR_IN, af, h + 8, h + 24, sport, dport);
	}
	if ((proto == VPC_IPPROTO_ICMP || proto == VPC_IPPROTO_ICMPV6)) {
		/* An echo's flow: the id on the VM's side, 0 on the other. */
		fp->key.lport = sport;
		fp->key.rport = 0;
	} else if (proto != IPPROTO_TCP_ && proto != IPPROTO_UDP_)
		fp->key.lport = fp->key.rport = 0;
	fp->key.proto = proto;
	fp->related = true;
	return (FW_PARSE_OK);
}

/*
 * The common case, TCP or UDP in IPv4 without options, read with one copy
 * (the IP header and the TCP header up to its flags) and checked as
 * vpc_ip_parse would (version, header length, total length within the
 * frame, header checksum, fragment offset, both ports inside the datagram),
 * with the same result.  vpc_ip_parse's copies, its memset and its byte-wise
 * checksum were the largest part of what the firewall added to a packet of
 * an established flow.  False: not that case, the general parse decides.
 */
static bool
fw_parse4_fast(const struct vpc_pkt *p, uint32_t l3off, uint8_t dir,
    struct fwpkt *fp, int *res)
{
	uint8_t h[20 + 14];
	uint32_t len = os_pkt_len(p), l3len, w32;
	uint64_t sum;
	uint16_t w16;
	unsigned i;

	if (len < l3off + sizeof(h) || !os_pkt_copyout(p, l3off, sizeof(h), h) ||
	    h[0] != 0x45 || (h[9] != IPPROTO_TCP_ && h[9] != IPPROTO_UDP_))
		return (false);
	/*
	 * In host order (RFC 1071: the one's complement sum is at most
	 * byte-swapped by that, and all-ones either way when the header is
	 * right), the first word as two halves and the rest as 32-bit words,
	 * folded after.  Not the first as one 32-bit load: it would span the
	 * two overlapping stores a copy of 34 bytes is made of and wait for
	 * them (see fw_hash).
	 */
	memcpy(&w16, h, 2);
	sum = w16;
	memcpy(&w16, h + 2, 2);
	sum += w16;
	for (i = 4; i < 20; i += 4) {
		memcpy(&w32, h + i, 4);
		sum += w32;
	}
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	l3len = vpc_get16(h + 2);
	/* Fragments (MF or an offset): the general parse, which notes the
	 * datagram's id (vpc_fragmem.c). */
	if ((vpc_get16(h + 6) & 0x3fff) != 0)
		return (false);
	if (l3len < 20 + 4 || l3len > len - l3off ||
	    vpc_cksum_finish((uint32_t)sum) != 0) {
		*res = FW_PARSE_INVALID;
		return (true);
	}
	fp->key.proto = h[9];
	if (h[9] == IPPROTO_TCP_)
		fp->tcpflags = h[20 + 13];      /* in the frame (len above) */
	fp->dport = vpc_get16(h + 22);
	key_orient(&fp->key, dir, VPC_AF_INET, h + 12, h + 16,
	    vpc_get16(h + 20), fp->dport);
	*res = FW_PARSE_OK;
	return (true);
}

static int
fw_parse(const struct vpc_pkt *p, const struct vpc_frame *f, uint8_t dir,
    uint32_t vni, struct fwpkt *fp)
{
	struct vpc_ipinfo own;
	const struct vpc_ipinfo *ip = f->ip;
	uint8_t b[8];
	int res;

	memset(fp, 0, sizeof(*fp));
	fp->dir = dir;
	fp->key.vni = vni;
	if (f->ethertype != ETHERTYPE_IP && f->ethertype != ETHERTYPE_IPV6)
		return (FW_PARSE_PASS);         /* ARP and the rest: not IP */
	/*
	 * The switch's parse of these bytes when there is one (the
	 * responder's, on the way out of the sending VM: vpc_frame.h), else
	 * our own: the same function or the fast path's same checks.
	 */
	if (ip == NULL) {
		if (f->ethertype == ETHERTYPE_IP &&
		    fw_parse4_fast(p, f->l2len, dir, fp, &res))
			return (res);
		if (vpc_ip_parse(p, f->l2len, &own) != 0)
			return (FW_PARSE_INVALID);
		ip = &own;
	}
	fp->key.proto = ip->proto;
	fp->frag_id = ip->frag_id;
	if (ip->later_frag) {
		/* No ports: judged by its datagram's first fragment. */
		key_orient(&fp->key, dir, ip->af, ip->src, ip->dst, 0, 0);
		return (FW_PARSE_FRAG);
	}
	fp->frag_first = ip->more_frags;
	switch (ip->proto) {
	case IPPROTO_TCP_:
		if (!ip->ports_seen || !os_pkt_copyout(p, ip->l4off + 13, 1, b))
			return (FW_PARSE_INVALID);
		fp->tcpflags = b[0];
		/* FALLTHROUGH */
	case IPPROTO_UDP_:
		if (!ip->ports_seen)
			return (FW_PARSE_INVALID);
		fp->dport = vpc_get16(ip->l4 + 2);
		key_orient(&fp->key, dir, ip->af, ip->src, ip->dst,
		    vpc_get16(ip->l4), fp->dport);
		return (FW_PARSE_OK);
	case VPC_IPPROTO_ICMP:
	case VPC_IPPROTO_ICMPV6:
		if (!ip->l4_seen || (ip->proto == VPC_IPPROTO_ICMP) !=
		    (ip->af == VPC_AF_INET))
			return (FW_PARSE_INVALID);
		fp->icmp_type = ip->l4[0];
		fp->icmp_code = ip->l4[1];
		if (ip->af == VPC_AF_INET6 && ((fp->icmp_type >= 130 &&
		    fp->icmp_type <= 137) || fp->icmp_type == 143))
			return (FW_PARSE_PASS);  /* MLD and ND: always */
		if (icmp_is_error(ip->af, fp->icmp_type)) {
			fp->key.vni = vni;
			return (parse_quoted(p, ip->l4off + 8, ip->af, dir, fp));
		}
		if (!os_pkt_copyout(p, ip->l4off + 4, 2, b))
			return (FW_PARSE_INVALID);
		key_orient(&fp->key, dir, ip->af, ip->src, ip->dst, 0, 0);
		/* Echo: the flow is (the id, 0) whichever side asked. */
		fp->key.lport = vpc_get16(b);
		fp->key.rport = 0;
		fp->echo_reply = fp->icmp_type == (ip->af == VPC_AF_INET ? 0 : 129);
		return (FW_PARSE_OK);
	default:
		key_orient(&fp->key, dir, ip->af, ip->src, ip->dst, 0, 0);
		return (FW_PARSE_OK);
	}
}

static bool
remote_in_switch(const struct vpc_switch *sw, uint8_t af, const uint8_t *a)
{
	const struct vpc_swcfg *cfg;

	if (sw == NULL || __atomic_load_n(&sw->obj.dead, __ATOMIC_RELAXED))
		return (false);
	cfg = vpc_load(((struct vpc_switch *)(uintptr_t)sw)->cfg);
	if (af == VPC_AF_INET)
		return (cfg->sub4.plen != 0 && vpc_subnet_contains(&cfg->sub4, a));
	return (cfg->sub6.plen != 0 && vpc_subnet_contains(&cfg->sub6, a));
}

/* What a new flow's first packet looks like to the rules. */
struct fwmatch {
	uint8_t  dir, af, ipproto, icmp_type, icmp_code;
	bool     is_icmp_type;
	uint16_t dport;                 /* the service port */
	const uint8_t *raddr;
};

static bool
rule_matches(struct vpc_sys *sys, const struct vpc_fwrule *r,
    const struct fwmatch *m)
{
	unsigned i;

	if (r->ipproto != 0 || r->proto == VPC_FW_PROTO_NUMBER) {
		if (r->ipproto != m->ipproto)
			return (false);
		if (r->af != 0 && r->remote != VPC_FW_REMOTE_CIDR &&
		    r->af != m->af)
			return (false);
	}
	if (r->flags != 0) {
		if (!m->is_icmp_type || r->icmp_type != m->icmp_type)
			return (false);
		if ((r->flags & VPC_FW_R_ICMP_CODE) != 0 &&
		    r->icmp_code != m->icmp_code)
			return (false);
	}
	if (r->nports != 0) {
		for (i = 0; i < r->nports; i++)
			if (m->dport >= r->lo[i] && m->dport <= r->hi[i])
				break;
		if (i == r->nports)
			return (false);
	}
	switch (r->remote) {
	case VPC_FW_REMOTE_ANY:
		return (true);
	case VPC_FW_REMOTE_CIDR:
		if (r->af != m->af)
			return (false);
		for (i = 0; i < (m->af == VPC_AF_INET ? 4u : 16u); i++)
			if ((m->raddr[i] & r->mask[i]) != r->net[i])
				return (false);
		return (true);
	case VPC_FW_REMOTE_SWITCH:
		return (remote_in_switch(r->sw, m->af, m->raddr));
	case VPC_FW_REMOTE_VNI:
		return (remote_in_switch(vpc_vnitab_lookup(sys, r->vni), m->af,
		    m->raddr));
	default:
		return (false);
	}
}

/* The first rule of dir that matches (counted), or NULL. */
static const struct vpc_fwrule *
rules_eval(struct vpc_sys *sys, const struct vpc_fwrules *rs,
    const struct fwmatch *m)
{
	uint32_t i = m->dir == VPC_FW_DIR_IN ? 0 : rs->nin;
	uint32_t end = m->dir == VPC_FW_DIR_IN ? rs->nin : rs->n;

	for (; i < end; i++)
		if (rule_matches(sys, &rs->r[i], m)) {
			__atomic_add_fetch(&((struct vpc_fwrule *)(uintptr_t)
			    &rs->r[i])->hits, 1, __ATOMIC_RELAXED);
			return (&rs->r[i]);
		}
	return (NULL);
}

/* Allowed?  Without a set, or no rule matching: in denied, out allowed. */
static bool
fw_decide(struct vpc_sys *sys, const struct vpc_fwset *s,
    const struct fwmatch *m, uint64_t *gen)
{
	const struct vpc_fwrules *rs;
	const struct vpc_fwrule *r;

	if (s == NULL) {
		*gen = 0;
		return (m->dir == VPC_FW_DIR_OUT);
	}
	rs = vpc_load(((struct vpc_fwset *)(uintptr_t)s)->rules);
	*gen = rs->gen;
	r = rules_eval(sys, rs, m);
	if (r == NULL)
		return (m->dir == VPC_FW_DIR_OUT);
	return (r->action == VPC_FW_ALLOW);
}

static void
match_of_flow(const struct vpc_fwflow *e, struct fwmatch *m)
{
	memset(m, 0, sizeof(*m));
	m->dir = e->dir;
	m->af = e->key.af;
	m->ipproto = e->key.proto;
	m->raddr = e->key.raddr;
	m->dport = e->dir == VPC_FW_DIR_OUT ? e->key.rport : e->key.lport;
	if (e->key.proto == VPC_IPPROTO_ICMP || e->key.proto == VPC_IPPROTO_ICMPV6) {
		m->is_icmp_type = true;
		m->icmp_type = e->key.proto == VPC_IPPROTO_ICMP ? 8 : 128;
		m->dport = 0;
	}
}

static struct vpc_fwflow *
flow_lookup(const struct vpc_fwtab *t, const struct vpc_port *port,
    const struct vpc_fwkey *k, uint64_t h)
{
	uint32_t b;
	unsigned i;

	if (t == NULL)
		return (NULL);
	return (flow_probe(t, port, k, (uint32_t)h, fw_tag(h), &b, &i));
}

enum { INS_OK, INS_FULL };

/*
 * With nothing held: add a flow (or take the live one another CPU added
 * meanwhile), replacing a dead one with its key.
 */
static int
flow_insert(struct vpc_fw *fw, struct vpc_port *port, const struct fwpkt *fp,
    uint64_t h, uint64_t gen, uint64_t now, struct vpc_fwflow **out)
{
	struct vpc_fwtab *t;
	struct vpc_fwflow *e, *n;
	uint32_t home = (uint32_t)h, b, k;
	uint16_t tag = fw_tag(h);
	unsigned i;

	os_mtx_lock(fw->mtx);
	t = fw->tab;
	if ((e = flow_probe(t, port, &fp->key, home, tag, &b, &i)) != NULL) {
		if (!flow_expired(fw, e, now) &&
		    (ld8(&e->st) & ST_MASK) != VPC_FW_TCP_TIME_WAIT &&
		    (ld8(&e->st) & ST_MASK) != VPC_FW_TCP_CLOSED) {
			os_mtx_unlock(fw->mtx);
			*out = e;
			return (INS_OK);
		}
		flow_unlink(fw, t, b, i, e);
	}
	/* The first free slot from home on, FW_PROBE_MAX buckets at most. */
	for (k = 0, b = home & t->mask; k < FW_PROBE_MAX && k <= t->mask;
	    k++, b = (b + 1) & t->mask)
		for (i = 0; i < FW_BSLOTS; i++)
			if (t->b[b].ent[i] == NULL)
				goto found;
found:
	if (k == FW_PROBE_MAX || k > t->mask ||
	    port->fw_flows >= __atomic_load_n(&fw->max_port, __ATOMIC_RELAXED) ||
	    fw->nflows >= __atomic_load_n(&fw->max_total, __ATOMIC_RELAXED) ||
	    (n = vpc_alloc(sizeof(*n), VPC_M_NOWAIT)) == NULL) {
		os_mtx_unlock(fw->mtx);
		return (INS_FULL);
	}
	n->port = port;
	n->key = fp->key;
	n->tag = tag;
	n->last_ns = now;
	n->gen = gen;
	n->dir = fp->dir;
	n->st = fp->key.proto == IPPROTO_TCP_ ? VPC_FW_TCP_SYN_SENT : 0;
	flow_pass_over(t, home, b, 1);
	vpc_store(t->b[b].ent[i], n);
	__atomic_store_n(&t->b[b].tag[i], tag, __ATOMIC_RELEASE);
	port->fw_flows++;
	__atomic_store_n(&fw->nflows, fw->nflows + 1, __ATOMIC_RELAXED);
	os_mtx_unlock(fw->mtx);
	*out = n;
	return (INS_OK);
}

/* Remove e unless it went already (the sweeper, a flush, another CPU). */
static void
flow_remove(struct vpc_fw *fw, struct vpc_fwflow *e)
{
	struct vpc_fwtab *t;
	uint32_t b;
	unsigned i;

	os_mtx_lock(fw->mtx);
	t = fw->tab;
	if (flow_slot(fw, t, e, &b, &i))
		flow_unlink(fw, t, b, i, e);
	os_mtx_unlock(fw->mtx);
}

enum { TCP_PASS, TCP_INVALID, TCP_RESTART };

/* A packet of a known TCP flow: the state moves (lock-free). */
static int
tcp_track(struct vpc_fwflow *e, bool from_init, uint8_t fl)
{
	uint8_t o, n, s;

	o = ld8(&e->st);
	do {
		n = o;
		s = o & ST_MASK;
		if (!from_init)
			n |= ST_REPLY;
		if ((fl & TH_RST) != 0) {
			n = (uint8_t)((n & ~ST_MASK) | VPC_FW_TCP_CLOSED);
		} else if ((fl & (TH_SYN | TH_ACK)) == TH_SYN) {
			if (s == VPC_FW_TCP_TIME_WAIT || s == VPC_FW_TCP_CLOSED)
				return (TCP_RESTART);
		} else if ((fl & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
			if (!from_init && s == VPC_FW_TCP_SYN_SENT)
				n = (uint8_t)((n & ~ST_MASK) | VPC_FW_TCP_SYN_RCVD);
		} else {
			if (s == VPC_FW_TCP_SYN_SENT && !from_init)
				return (TCP_INVALID);   /* no SYN-ACK yet */
			if (s == VPC_FW_TCP_SYN_RCVD && from_init &&
			    (fl & TH_ACK) != 0)
				n = (uint8_t)((n & ~ST_MASK) |
				    VPC_FW_TCP_ESTABLISHED);
			if ((fl & TH_FIN) != 0) {
				n |= from_init ? ST_FIN_INIT : ST_FIN_RESP;
				s = n & ST_MASK;
				if ((n & (ST_FIN_INIT | ST_FIN_RESP)) ==
				    (ST_FIN_INIT | ST_FIN_RESP))
					n = (uint8_t)((n & ~ST_MASK) |
					    VPC_FW_TCP_TIME_WAIT);
				else if (s == VPC_FW_TCP_ESTABLISHED ||
				    s == VPC_FW_TCP_SYN_RCVD ||
				    s == VPC_FW_TCP_SYN_SENT)
					n = (uint8_t)((n & ~ST_MASK) |
					    VPC_FW_TCP_FIN_WAIT);
			}
		}
		if (n == o)
			return (TCP_PASS);
	} while (!__atomic_compare_exchange_n(&e->st, &o, n, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (TCP_PASS);
}

/* Flags no TCP segment may carry. */
static bool
tcp_flags_bad(uint8_t fl)
{
	if ((fl & (TH_SYN | TH_FIN | TH_RST | TH_ACK)) == 0)
		return (true);                  /* null scan */
	if ((fl & TH_SYN) != 0 && (fl & (TH_FIN | TH_RST)) != 0)
		return (true);
	if ((fl & TH_FIN) != 0 && (fl & TH_ACK) == 0)
		return (true);                  /* FIN scan, xmas */
	return (false);
}

static void
fw_drop(struct vpc_switch *sw, unsigned why, struct vpc_pkt *p)
{
	sw_count(sw, why);
	os_pkt_free(p);
}

/*
 * A packet of e went dir at now.  The last-seen time is written only when
 * it moved by TOUCH_NS or more: expiry (timeouts are whole seconds) comes
 * at most that much early, and a busy flow's line is not written with a new
 * nanosecond on every packet.  The packet counts are statistics (the dump):
 * a plain increment, not a locked one, which costs a packet several times
 * less; two CPUs counting the same flow the same way at the same instant
 * may lose one (a direction's packets come from one interface queue, so
 * one CPU, nearly always).
 */
#define TOUCH_NS        (1ULL << 24)    /* ~16.8 ms */

static void
flow_touch(struct vpc_fwflow *e, uint8_t dir, uint64_t now)
{
	uint32_t *c = dir == VPC_FW_DIR_OUT ? &e->pkts_out : &e->pkts_in;
	uint64_t last = __atomic_load_n(&e->last_ns, __ATOMIC_RELAXED);

	if (now > last && now - last >= TOUCH_NS)
		__atomic_store_n(&e->last_ns, now, __ATOMIC_RELAXED);
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1,
	    __ATOMIC_RELAXED);
}

/*
 * A fragmented datagram's fingerprint (vpc_fragmem.c): the flow key's
 * addresses, protocol and VNI with the datagram's id in place of the ports,
 * its direction and the port, under the firewall's keyed hash.  The same
 * for every fragment of one datagram: the later ones' keys have no ports.
 */
static uint64_t
frag_print(const struct vpc_fw *fw, const struct vpc_port *port,
    const struct fwpkt *fp)
{
	struct vpc_fwkey k = fp->key;

	k.lport = (uint16_t)fp->frag_id;
	k.rport = (uint16_t)(fp->frag_id >> 16);
	return (fw_hash(fw, port, &k) ^ (fp->dir == VPC_FW_DIR_IN ?
	    0x9e3779b97f4a7c15ULL : 0));
}

/* A first fragment passed: its later ones will (vpc_fragmem.c). */
static void
frag_passed(struct vpc_fw *fw, const struct vpc_port *port,
    const struct fwpkt *fp, uint64_t now)
{
	if (fp->frag_first)
		vpc_fragmem_remember(fw->frags, frag_print(fw, port, fp), now, 0);
}

/*
 * The port's rule sets on one frame going dir (VPC_FW_DIR_OUT: from its VM,
 * after the responder; VPC_FW_DIR_IN: to its VM).  True: it passes.  False:
 * it was dropped, counted and freed.  In the epoch, no lock held.
 */
bool
vpc_fw_filter(struct vpc_switch *sw, struct vpc_port *port,
    const struct vpc_portfw *pf, uint8_t dir, struct vpc_pkt *p,
    const struct vpc_frame *f)
{
	struct vpc_sys *sys = sw->obj.sys;
	struct vpc_fw *fw = sys->fw;
	const struct vpc_fwset *s;
	const struct vpc_swcfg *cfg = vpc_load(sw->cfg);
	const struct vpc_fwtab *t;
	struct vpc_fwflow *e;
	struct fwmatch m;
	struct fwpkt fp;
	uint64_t now, gen, cur, h;
	bool from_init;

	VPC_ASSERT_EPOCH();
	switch (fw_parse(p, f, dir, cfg->vni, &fp)) {
	case FW_PARSE_PASS:
		return (true);
	case FW_PARSE_INVALID:
		fw_drop(sw, VPC_SWSTAT_FW_INVALID, p);
		return (false);
	case FW_PARSE_FRAG:
		if (vpc_fragmem_find(fw->frags, frag_print(fw, port, &fp),
		    os_now_coarse_ns(), NULL))
			return (true);
		fw_drop(sw, VPC_SWSTAT_FW_INVALID, p);
		return (false);
	}
	/* The bucket's line is asked for as soon as its place is known. */
	h = fw_hash(fw, port, &fp.key);
	if ((t = vpc_load(fw->tab)) != NULL)
		vpc_prefetch(&t->b[(uint32_t)h & t->mask]);
	now = os_now_coarse_ns();
	e = flow_lookup(t, port, &fp.key, h);
	if (e != NULL && flow_expired(fw, e, now))
		e = NULL;
	if (fp.related) {
		/* An ICMP error passes for a flow it belongs to, else it is
		 * dropped by default: errors never start flows. */
		if (e != NULL)
			return (true);
		fw_drop(sw, dir == VPC_FW_DIR_IN ? VPC_SWSTAT_FW_DENY :
		    VPC_SWSTAT_FW_INVALID, p);
		return (false);
	}
	if (fp.key.proto == IPPROTO_TCP_ && tcp_flags_bad(fp.tcpflags)) {
		fw_drop(sw, VPC_SWSTAT_FW_INVALID, p);
		return (false);
	}
	if (e != NULL) {
		from_init = e->dir == dir;
		/* The rules changed since it was allowed: judged again. */
		s = e->dir == VPC_FW_DIR_IN ? pf->in : pf->out;
		cur = s != NULL ? vpc_load(((struct vpc_fwset *)(uintptr_t)s)->rules)->gen : 0;
		gen = __atomic_load_n(&e->gen, __ATOMIC_RELAXED);
		if (gen != cur) {
			if (s != NULL && (__atomic_load_n(&s->flags,
			    __ATOMIC_RELAXED) & VPC_FW_SET_KEEP_ESTABLISHED) != 0 &&
			    fw_established(e->key.proto, ld8(&e->st)))
				gen = cur;
			else {
				match_of_flow(e, &m);
				if (!fw_decide(sys, s, &m, &gen)) {
					flow_remove(fw, e);
					fw_drop(sw, VPC_SWSTAT_FW_DENY, p);
					return (false);
				}
			}
			__atomic_store_n(&e->gen, gen, __ATOMIC_RELAXED);
		}
		if (fp.key.proto == IPPROTO_TCP_) {
			switch (tcp_track(e, from_init, fp.tcpflags)) {
			case TCP_INVALID:
				fw_drop(sw, VPC_SWSTAT_FW_INVALID, p);
				return (false);
			case TCP_RESTART:
				e = NULL;       /* a new SYN: a new flow */
				break;
			default:
				break;
			}
		} else if (!from_init && (ld8(&e->st) & ST_REPLY) == 0)
			__atomic_or_fetch(&e->st, ST_REPLY, __ATOMIC_RELAXED);
		if (e != NULL) {
			flow_touch(e, dir, now);
			frag_passed(fw, port, &fp, now);
			return (true);
		}
	}
	/* A new flow: it must be able to start one. */
	if (fp.key.proto == IPPROTO_TCP_ &&
	    (fp.tcpflags & (TH_SYN | TH_ACK | TH_RST)) != TH_SYN) {
		fw_drop(sw, VPC_SWSTAT_FW_INVALID, p);
		return (false);
	}
	memset(&m, 0, sizeof(m));
	m.dir = dir;
	m.af = fp.key.af;
	m.ipproto = fp.key.proto;
	m.raddr = fp.key.raddr;
	m.dport = fp.dport;
	if (fp.key.proto == VPC_IPPROTO_ICMP || fp.key.proto == VPC_IPPROTO_ICMPV6) {
		m.is_icmp_type = true;
		m.icmp_type = fp.icmp_type;
		m.icmp_code = fp.icmp_code;
	}
	s = dir == VPC_FW_DIR_IN ? pf->in : pf->out;
	if (!fw_decide(sys, s, &m, &gen)) {
		fw_drop(sw, VPC_SWSTAT_FW_DENY, p);
		return (false);
	}
	if (flow_insert(fw, port, &fp, h, gen, now, &e) != INS_OK) {
		fw_drop(sw, VPC_SWSTAT_FW_TABLE_FULL, p);
		return (false);
	}
	sw_count(sw, VPC_SWSTAT_FW_FLOWS_NEW);
	flow_touch(e, dir, now);
	frag_passed(fw, port, &fp, now);
	return (true);
}

/* ---- Hints for a burst (vpc_fwd_burst.c) ------------------------------------ */

/*
 * Do the flows' lines miss the caches often enough that a burst should ask
 * for them ahead?  Below VPC_PREFETCH_MIN flows they mostly stay in the
 * CPU's caches and the hints (a parse and a hash a frame) would only cost.
 */
bool
vpc_fw_prefetch_pays(const struct vpc_sys *sys)
{
	const struct vpc_fw *fw = sys->fw;

	return (fw != NULL && __atomic_load_n(&fw->nflows, __ATOMIC_RELAXED) >=
	    vpc_prefetch_min);
}

/*
 * The key vpc_fw_filter will build for this frame, for the common cases
 * only (TCP or UDP over IPv4 without options, or directly over IPv6):
 * false for anything else, which then simply gets no hint.  fp as fw_parse
 * leaves it, so the hash is the one the filter will compute.  Not checked
 * as the filter checks (a bad checksum only wastes a prefetch), and not
 * through fw_parse4_fast, whose only caller the filter's parse stays, so
 * that the compiler keeps it inline there.
 */
static bool
hint_key(const struct vpc_pkt *p, uint32_t l3off, uint16_t ethertype,
    uint8_t dir, uint32_t vni, struct fwpkt *fp)
{
	uint8_t h[40 + 4];

	memset(fp, 0, sizeof(*fp));
	fp->dir = dir;
	fp->key.vni = vni;
	if (ethertype == ETHERTYPE_IP) {
		if (!os_pkt_copyout(p, l3off, 20 + 4, h) || h[0] != 0x45 ||
		    (h[9] != IPPROTO_TCP_ && h[9] != IPPROTO_UDP_) ||
		    (vpc_get16(h + 6) & 0x1fff) != 0)
			return (false);
		fp->key.proto = h[9];
		key_orient(&fp->key, dir, VPC_AF_INET, h + 12, h + 16,
		    vpc_get16(h + 20), vpc_get16(h + 22));
		return (true);
	}
	if (ethertype != ETHERTYPE_IPV6 ||
	    !os_pkt_copyout(p, l3off, sizeof(h), h) || (h[0] >> 4) != 6 ||
	    (h[6] != IPPROTO_TCP_ && h[6] != IPPROTO_UDP_))
		return (false);
	fp->key.proto = h[6];
	key_orient(&fp->key, dir, VPC_AF_INET6, h + 8, h + 24,
	    vpc_get16(h + 40), vpc_get16(h + 42));
	return (true);
}

/*
 * Stage one of a burst: ask for the bucket line the lookup of this frame's
 * flow on port, going dir, starts at, and note it (and the tag) in *hint
 * for stage two; hint->bucket NULL: no hint.  Reads the frame and the
 * published table, changes nothing (in the epoch).
 */
void
vpc_fw_prefetch(struct vpc_switch *sw, const struct vpc_port *port,
    uint8_t dir, const struct vpc_pkt *p, uint32_t l3off, uint16_t ethertype,
    struct vpc_fw_hint *hint)
{
	const struct vpc_fw *fw = sw->obj.sys->fw;
	const struct vpc_fwtab *t;
	struct fwpkt fp;
	uint64_t h;

	VPC_ASSERT_EPOCH();
	hint->bucket = NULL;
	if (fw == NULL || (t = vpc_load(fw->tab)) == NULL ||
	    !hint_key(p, l3off, ethertype, dir, vpc_load(sw->cfg)->vni, &fp))
		return;
	h = fw_hash(fw, port, &fp.key);
	hint->bucket = &t->b[(uint32_t)h & t->mask];
	hint->tag = fw_tag(h);
	vpc_prefetch(hint->bucket);
}

/*
 * Stage two, once the bucket's line is (likely) in: ask for the flow its
 * first matching tag names, the one entry a lookup reads, all of it: the
 * key is on its first line, but what an established packet then reads and
 * writes (the generation, the counts) is on the next, and an entry is not
 * line-aligned.  A prefetch only: a slot a writer changed meanwhile just
 * makes it a wasted one.
 */
void
vpc_fw_prefetch_flow(const struct vpc_fw_hint *hint)
{
	const struct vpc_fwbucket *bk = hint->bucket;
	const char *e;
	unsigned i;

	if (bk == NULL)
		return;
	for (i = 0; i < FW_BSLOTS; i++)
		if (__atomic_load_n(&bk->tag[i], __ATOMIC_ACQUIRE) == hint->tag) {
			e = (const char *)vpc_load(((struct vpc_fwbucket *)
			    (uintptr_t)bk)->ent[i]);
			if (e == NULL)
				return;
			vpc_prefetch(e);
			vpc_prefetch(e + 64);
			vpc_prefetch(e + sizeof(struct vpc_fwflow) - 1);
			return;
		}
}

/* ---- Ports (control) -------------------------------------------------------- */

static void
portfw_free_deferred(struct os_defer *d)
{
	vpc_free(d, sizeof(struct vpc_portfw));
}

/*
 * Check a port's firewall request and prepare what it becomes (NULL: no
 * firewall).  flags: VPC_FLAG_SWP_FW_*; an id comes with its flag.
 */
int
vpc_fw_port_prepare(struct vpc_sys *sys, uint64_t flags, uint32_t in_id,
    uint32_t out_id, struct vpc_portfw **out)
{
	struct vpc_fwset *in = NULL, *eg = NULL;
	struct vpc_portfw *pf;

	VPC_ASSERT_CTL(sys);
	*out = NULL;
	if (((flags & VPC_FLAG_SWP_FW_INGRESS) != 0) != (in_id != 0) ||
	    ((flags & VPC_FLAG_SWP_FW_EGRESS) != 0) != (out_id != 0))
		return (VPC_ERR(VPC_EINVAL));
	if (in_id != 0 && (in = set_find(sys->fw, in_id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	if (out_id != 0 && (eg = set_find(sys->fw, out_id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	if (in == NULL && eg == NULL)
		return (0);
	if ((pf = vpc_alloc(sizeof(*pf), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	pf->in = in;
	pf->out = eg;
	*out = pf;
	return (0);
}

void
vpc_fw_port_discard(struct vpc_portfw *pf)
{
	if (pf != NULL)
		vpc_free(pf, sizeof(*pf));
}

static void
port_flows_flush(struct vpc_sys *sys, struct vpc_port *p)
{
	struct vpc_fw *fw = sys->fw;
	uint32_t i;

	os_mtx_lock(fw->mtx);
	if (fw->tab != NULL && p->fw_flows != 0)
		for (i = 0; i <= fw->tab->mask && p->fw_flows != 0; i++)
			bucket_remove_if(fw, fw->tab, i, match_port, p, 0);
	os_mtx_unlock(fw->mtx);
}

/* The port's sets become pf's (which may be NULL); cannot fail. */
void
vpc_fw_port_apply(struct vpc_port *p, struct vpc_portfw *pf)
{
	struct vpc_portfw *old = p->fw;

	VPC_ASSERT_CTL(p->obj.sys);
	if (pf != NULL) {
		if (pf->in != NULL)
			pf->in->nports++;
		if (pf->out != NULL)
			pf->out->nports++;
	}
	vpc_store(p->fw, pf);
	if (old != NULL) {
		if (old->in != NULL)
			old->in->nports--;
		if (old->out != NULL)
			old->out->nports--;
		os_epoch_defer(&old->defer, portfw_free_deferred);
	}
	if (pf == NULL)
		port_flows_flush(p->obj.sys, p);
}

void
vpc_fw_port_describe(const struct vpc_port *p, vpc_swport_t *out)
{
	if (p->fw == NULL)
		return;
	if (p->fw->in != NULL) {
		out->flags |= VPC_FLAG_SWP_FW_INGRESS;
		out->fw_state_table = p->fw->in->id;
	}
	if (p->fw->out != NULL) {
		out->flags |= VPC_FLAG_SWP_FW_EGRESS;
		out->fw_egress_ruleset = p->fw->out->id;
	}
}

/* ---- Invariants -------------------------------------------------------------- */

void
vpc_fw_count_refs(struct vpc_sys *sys)
{
	struct vpc_fwset *s;
	uint32_t i;

	for (s = sys->fw->sets; s != NULL; s = s->next)
		for (i = 0; i < s->rules->n; i++)
			if (s->rules->r[i].sw != NULL)
				s->rules->r[i].sw->obj.check_refs++;
}

void
vpc_fw_check(struct vpc_sys *sys, struct vpc_check *c)
{
	struct vpc_fw *fw = sys->fw;
	struct vpc_fwset *s;
	struct vpc_obj *o;
	struct vpc_fwtab *t;
	struct vpc_fwflow *e, *f;
	uint64_t users = 0, nports = 0, flows = 0, pflows = 0, passed = 0,
	    over = 0;
	uint32_t b, x, fb, home;
	unsigned i, fi;

	c->checked++;
	for (s = fw->sets; s != NULL; s = s->next) {
		nports += s->nports;
		if (s->next != NULL && s->next->id <= s->id)
			vpc_check_fail(c, "fw: sets out of order", s->next->id, s->id);
	}
	VPC_LIST_FOREACH(o, &sys->objs, link) {
		if (o->type != VPC_TYPE_SWPORT)
			continue;
		pflows += obj2port(o)->fw_flows;
		if (obj2port(o)->fw != NULL)
			users += (obj2port(o)->fw->in != NULL) +
			    (obj2port(o)->fw->out != NULL);
	}
	if (users != nports)
		vpc_check_fail(c, "fw: set users", nports, users);
	os_mtx_lock(fw->mtx);
	/*
	 * Every slot: a tag exactly when a flow, the flow's own; each flow
	 * found by a probe for its key; the overflow counts the sum of the
	 * buckets each flow passed over from its home.
	 */
	for (b = 0; (t = fw->tab) != NULL && b <= t->mask; b++) {
		over += t->b[b].over;
		for (i = 0; i < FW_BSLOTS; i++) {
			if ((e = t->b[b].ent[i]) == NULL) {
				if (t->b[b].tag[i] != 0)
					vpc_check_fail(c, "fw: tag of an empty slot",
					    b, t->b[b].tag[i]);
				continue;
			}
			flows++;
			if (t->b[b].tag[i] != e->tag)
				vpc_check_fail(c, "fw: slot tag", e->tag,
				    t->b[b].tag[i]);
			home = flow_home(fw, e);
			for (x = home & t->mask; x != b; x = (x + 1) & t->mask)
				passed++;
			f = flow_probe(t, e->port, &e->key, home, e->tag, &fb, &fi);
			if (f != e)
				vpc_check_fail(c, "fw: flow not found by its key",
				    b, i);
		}
	}
	if (passed != over)
		vpc_check_fail(c, "fw: overflow counts", passed, over);
	if (flows != fw->nflows)
		vpc_check_fail(c, "fw: flow count", flows, fw->nflows);
	if (pflows != fw->nflows)
		vpc_check_fail(c, "fw: flows by port", pflows, fw->nflows);
	os_mtx_unlock(fw->mtx);
}

/* ---- Ops --------------------------------------------------------------------- */

static int
set_ref_key(struct vpc_ctx *x, struct vpc_fwset **out)
{
	vpc_fw_set_ref_t ref;

	memcpy(&ref, x->key, sizeof(ref));
	if (ref._pad0 != 0 || ref.id == 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((*out = set_find(x->sys->fw, ref.id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	return (0);
}

static void
set_describe(const struct vpc_fwset *s, vpc_fw_set_t *out)
{
	memset(out, 0, sizeof(*out));
	out->id = s->id;
	out->flags = s->flags;
	out->nrules = s->rules->n;
	out->nports = s->nports;
	out->generation = s->rules->gen;
}

int
vpc_op_fw_set_create(struct vpc_ctx *x)
{
	struct vpc_fw *fw = x->sys->fw;
	struct vpc_fwset *s, **pp;
	struct vpc_fwrules *rs;
	vpc_fw_set_t req;

	memcpy(&req, x->key, sizeof(req));
	if (req.id == 0 || (req.flags & ~VPC_FW_SET_KEEP_ESTABLISHED) != 0 ||
	    req.nrules != 0 || req.nports != 0 || req.generation != 0)
		return (VPC_ERR(VPC_EINVAL));
	if (set_find(fw, req.id) != NULL)
		return (VPC_ERR(VPC_EEXIST));
	if (fw->nsets >= VPC_FW_SETS_MAX)
		return (VPC_ERR(VPC_ENOSPC));
	if ((s = vpc_alloc(sizeof(*s), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((rs = rules_alloc(0)) == NULL) {
		vpc_free(s, sizeof(*s));
		return (VPC_ERR(VPC_ENOMEM));
	}
	if (fw->tab == NULL) {
		/* The first set: the flow table, sized for the limit. */
		struct vpc_fwtab *t = tab_new(tab_size_for(fw->max_total));

		if (t == NULL) {
			vpc_free(rs, sizeof(*rs));
			vpc_free(s, sizeof(*s));
			return (VPC_ERR(VPC_ENOMEM));
		}
		os_mtx_lock(fw->mtx);
		vpc_store(fw->tab, t);
		os_mtx_unlock(fw->mtx);
	}
	rs->gen = ++fw->next_gen;
	s->id = req.id;
	s->flags = req.flags;
	s->rules = rs;
	for (pp = &fw->sets; *pp != NULL && (*pp)->id < s->id; pp = &(*pp)->next)
		;
	s->next = *pp;
	*pp = s;
	fw->nsets++;
	return (0);
}

int
vpc_op_fw_set_destroy(struct vpc_ctx *x)
{
	struct vpc_fw *fw = x->sys->fw;
	struct vpc_fwset *s, **pp;
	int error;

	if ((error = set_ref_key(x, &s)) != 0)
		return (error);
	if (s->nports != 0)
		return (VPC_ERR(VPC_EBUSY));
	for (pp = &fw->sets; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	fw->nsets--;
	rules_release(s->rules);
	os_epoch_defer(&s->rules->defer, rules_free_deferred);
	os_epoch_defer(&s->defer, set_free_deferred);
	return (0);
}

int
vpc_op_fw_set_rules(struct vpc_ctx *x)
{
	const vpc_fw_rule_t *r = x->key;
	uint32_t n = (uint32_t)(x->keylen / sizeof(*r)), i;
	struct vpc_fwrules *rs;
	struct vpc_fwset *s;
	int error;

	if (n > VPC_FW_RULES_MAX)
		return (VPC_ERR(VPC_E2BIG));
	for (i = 1; i < n; i++)
		if (r[i].set_id != r[0].set_id)
			return (VPC_ERR(VPC_EINVAL));
	if (r[0].set_id == 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((s = set_find(x->sys->fw, r[0].set_id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	if ((error = vpc_fw_compile(x->sys, r, n, &rs)) != 0)
		return (error);
	set_publish_rules(s, rs);
	return (0);
}

int
vpc_op_fw_set_flush(struct vpc_ctx *x)
{
	struct vpc_fwrules *rs;
	struct vpc_fwset *s;
	int error;

	if ((error = set_ref_key(x, &s)) != 0)
		return (error);
	if ((rs = rules_alloc(0)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	rs->gen = ++x->sys->fw->next_gen;
	set_publish_rules(s, rs);
	return (0);
}

int
vpc_op_fw_set_get(struct vpc_ctx *x)
{
	struct vpc_fwset *s;
	int error;

	if ((error = set_ref_key(x, &s)) != 0)
		return (error);
	set_describe(s, x->val);
	return (0);
}

int
vpc_op_fw_set_modify(struct vpc_ctx *x)
{
	struct vpc_fwset *s;
	vpc_fw_set_t req;

	memcpy(&req, x->key, sizeof(req));
	if (req.id == 0 || (req.flags & ~VPC_FW_SET_KEEP_ESTABLISHED) != 0 ||
	    req.nrules != 0 || req.nports != 0 || req.generation != 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((s = set_find(x->sys->fw, req.id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	__atomic_store_n(&s->flags, req.flags, __ATOMIC_RELAXED);
	return (0);
}

int
vpc_op_fw_set_list(struct vpc_ctx *x)
{
	vpc_list_req_t req;
	struct vpc_fwset *s;
	size_t fit = x->vallen / sizeof(vpc_fw_set_t), n = 0, rest = 0;

	memcpy(&req, x->key, sizeof(req));
	if (req.obj_type != 0 || !vpc_all_zero(req._pad0, sizeof(req._pad0)) ||
	    req.marker > 0xffffffffu)
		return (VPC_ERR(VPC_EINVAL));
	for (s = x->sys->fw->sets; s != NULL; s = s->next) {
		if (s->id <= req.marker)
			continue;
		if (n < fit)
			set_describe(s, (vpc_fw_set_t *)x->val + n++);
		else
			rest++;
	}
	if (n == 0 && rest > 0) {
		x->vallen = sizeof(vpc_fw_set_t);
		return (VPC_ERR(VPC_ERANGE));
	}
	x->vallen = n * sizeof(vpc_fw_set_t);
	return (0);
}

/* The marker: the generation's low 32 bits, then the index after. */
int
vpc_op_fw_rule_dump(struct vpc_ctx *x)
{
	vpc_fw_dump_req_t req;
	const struct vpc_fwrules *rs;
	struct vpc_fwset *s;
	vpc_fw_rule_t *out = x->val;
	size_t fit = x->vallen / sizeof(*out), n = 0;
	uint32_t i;

	memcpy(&req, x->key, sizeof(req));
	if (req._pad0 != 0 || req.id == 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((s = set_find(x->sys->fw, req.id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	rs = s->rules;
	i = (uint32_t)req.marker;
	if (req.marker != 0 && (req.marker >> 32) != (rs->gen & 0xffffffffu))
		return (VPC_ERR(VPC_ESTALE));
	if (i > rs->n)
		return (VPC_ERR(VPC_EINVAL));
	if (fit == 0 && i < rs->n) {
		x->vallen = sizeof(*out);
		return (VPC_ERR(VPC_ERANGE));
	}
	for (; i < rs->n && n < fit; i++, n++) {
		out[n] = rs->r[i].given;
		out[n].hits = __atomic_load_n(&rs->r[i].hits, __ATOMIC_RELAXED);
		out[n].cursor = (rs->gen & 0xffffffffu) << 32 | (i + 1);
	}
	x->vallen = n * sizeof(*out);
	return (0);
}

int
vpc_op_fw_set_config(struct vpc_ctx *x)
{
	struct vpc_fw *fw = x->sys->fw;
	vpc_fw_config_t c;
	struct vpc_fwtab *t = NULL, *old = NULL;
	uint32_t *tm = &c.tcp_syn_s, i, total, perport;

	memcpy(&c, x->key, sizeof(c));
	if (c.flows != 0)
		return (VPC_ERR(VPC_EINVAL));
	for (i = 0; i < 8; i++)
		if (tm[i] > VPC_FW_TIMEOUT_MAX_S)
			return (VPC_ERR(VPC_EINVAL));
	total = c.max_flows != 0 ? c.max_flows : VPC_FW_FLOWS_TOTAL;
	perport = c.max_flows_port != 0 ? c.max_flows_port : VPC_FW_FLOWS_PORT;
	if (total > VPC_FW_FLOWS_LIMIT || perport > total)
		return (VPC_ERR(VPC_EINVAL));
	/* A table sized for the new limit, if it is empty now. */
	if (fw->tab != NULL && tab_size_for(total) != fw->tab->mask + 1 &&
	    __atomic_load_n(&fw->nflows, __ATOMIC_RELAXED) == 0 &&
	    (t = tab_new(tab_size_for(total))) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	fw->conf = c;
	conf_apply(fw, &c);
	if (t != NULL) {
		os_mtx_lock(fw->mtx);
		if (fw->nflows == 0) {
			old = fw->tab;
			vpc_store(fw->tab, t);
			fw->sweep_at = 0;
		} else
			old = t;        /* a flow came meanwhile: keep the old */
		os_mtx_unlock(fw->mtx);
		os_epoch_defer(&old->defer, tab_free_deferred);
	}
	return (0);
}

int
vpc_op_fw_get_config(struct vpc_ctx *x)
{
	struct vpc_fw *fw = x->sys->fw;
	vpc_fw_config_t c;
	uint32_t *tm = &c.tcp_syn_s, i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < 8; i++)
		tm[i] = fw->tmo_s[i];
	c.max_flows = fw->max_total;
	c.max_flows_port = fw->max_port;
	c.flows = __atomic_load_n(&fw->nflows, __ATOMIC_RELAXED);
	memcpy(x->val, &c, sizeof(c));
	return (0);
}

struct vpc_port *vpc_port_lookup(struct vpc_switch *sw, const vpc_id_t *id);

int
vpc_op_sw_port_set_fw(struct vpc_ctx *x)
{
	vpc_sw_port_fw_t req;
	struct vpc_portfw *pf;
	struct vpc_port *p;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((req.flags & ~(uint32_t)(VPC_FLAG_SWP_FW_INGRESS |
	    VPC_FLAG_SWP_FW_EGRESS)) != 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((p = vpc_port_lookup(obj2sw(x->obj), &req.port_id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	if (p->kind != VPC_PORT_VMNIC)
		return (VPC_ERR(VPC_EINVAL));
	if ((error = vpc_fw_port_prepare(x->sys, req.flags, req.ingress,
	    req.egress, &pf)) != 0)
		return (error);
	vpc_fw_port_apply(p, pf);
	vpc_obj_changed(x->obj, req.txn);
	return (0);
}

/* The marker is the bucket to go on from: whole buckets (6 slots) only. */
int
vpc_op_sw_fw_flows(struct vpc_ctx *x)
{
	struct vpc_fw *fw = x->sys->fw;
	vpc_fw_flow_req_t req;
	vpc_fw_flow_t *out = x->val, *o;
	size_t fit = x->vallen / sizeof(*out), n = 0, k;
	struct vpc_fwflow *e;
	struct vpc_fwtab *t;
	struct vpc_port *p;
	uint64_t now = os_now_coarse_ns(), tmo, last;
	uint32_t i;
	unsigned j;

	memcpy(&req, x->key, sizeof(req));
	if ((p = vpc_port_lookup(obj2sw(x->obj), &req.port_id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	os_mtx_lock(fw->mtx);
	t = fw->tab;
	for (i = (uint32_t)req.marker; t != NULL && i <= t->mask &&
	    req.marker <= t->mask; i++) {
		k = 0;
		for (j = 0; j < FW_BSLOTS; j++)
			if ((e = t->b[i].ent[j]) != NULL && e->port == p &&
			    !flow_expired(fw, e, now))
				k++;
		if (k == 0)
			continue;
		if (n + k > fit) {
			if (n == 0) {
				os_mtx_unlock(fw->mtx);
				x->vallen = k * sizeof(*out);
				return (VPC_ERR(VPC_ERANGE));
			}
			break;
		}
		for (j = 0; j < FW_BSLOTS; j++) {
			e = t->b[i].ent[j];
			if (e == NULL || e->port != p || flow_expired(fw, e, now))
				continue;
			o = &out[n++];
			memset(o, 0, sizeof(*o));
			o->af = e->key.af;
			o->proto = e->key.proto;
			o->dir = e->dir;
			o->state = e->key.proto == IPPROTO_TCP_ ?
			    (ld8(&e->st) & ST_MASK) : 0;
			o->lport = e->key.lport;
			o->rport = e->key.rport;
			o->vni = e->key.vni;
			tmo = fw_timeout_ns(fw, e->key.proto, ld8(&e->st));
			last = e->last_ns;
			o->expire_ms = (uint32_t)((last + tmo > now ?
			    last + tmo - now : 0) / 1000000);
			memcpy(o->laddr, e->key.laddr, 16);
			memcpy(o->raddr, e->key.raddr, 16);
			o->pkts_out = e->pkts_out;
			o->pkts_in = e->pkts_in;
			o->cursor = (uint64_t)i + 1;
		}
	}
	os_mtx_unlock(fw->mtx);
	x->vallen = n * sizeof(*out);
	return (0);
}
