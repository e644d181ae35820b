/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nat_snat.c: SNAT flows (vpc_nat_impl.h says how they are kept) and
 * the choice of a flow's external port.
 *
 * A new outbound 5-tuple (private address and port, remote address and
 * port, protocol; for ICMP echo the id is the port and the remote's is 0)
 * gets a flow holding one external port (echo id) of the private address's
 * block for that protocol: the first, from a keyed-hash starting point and
 * wrapping around the block, that no live flow of the same external address
 * and protocol uses towards the same remote address and port.  So a port
 * serves several remotes at once and each echo id (each ping) is its own
 * flow (opte#396); the mapping is address-and-port dependent (no endpoint-
 * independent mapping, RFC 4787 REQ-1 is not met) and filtering is endpoint
 * dependent (only the remote a flow was made for gets in).  When every port
 * of the block is taken towards that remote the packet is dropped and
 * counted, per private address and protocol and in total (never silent: opte
 * PR #347).  A full table is a counted drop too; nothing is evicted.
 *
 * Expiry is checked at every lookup: a flow past its idle timeout stops
 * matching at once, and its ports are free for the next flow; the sweeper (a
 * timer, every second, an eighth of the table or at least 4096 buckets)
 * only reclaims memory.
 */
#include "vpc_nat_impl.h"
#include "vpc_ktab.h"           /* vpc_ktab_mul_fold */

#define SWEEP_NS        1000000000ULL
#define NS_PER_S        1000000000ULL
#define TH_FIN          0x01
#define TH_SYN          0x02
#define TH_RST          0x04
#define TH_ACK          0x10

const size_t vpc_nat_flow_size = sizeof(struct vpc_nat_flow);
_Static_assert(sizeof(struct vpc_nat_flow) <= 128, "a flow is at most 128 bytes");

/* Keyed: which 0 for the outbound side, 1 for the inbound one. */
static uint32_t
nat_hash(const struct vpc_nat *n, unsigned which, uint32_t local,
    uint16_t lport, uint32_t remote, uint16_t rport, uint8_t proto)
{
	uint64_t w0 = (uint64_t)local << 32 | remote;
	uint64_t w1 = (uint64_t)lport << 32 | (uint64_t)rport << 16 | proto;
	uint64_t h = vpc_ktab_mul_fold(w0 ^ n->key[2 * which],
	    w1 ^ n->key[2 * which + 1]);

	return ((uint32_t)(h ^ (h >> 32)));
}

static uint64_t
flow_tmo_ns(const struct vpc_nat *n, uint8_t proto, uint8_t st)
{
	unsigned i;

	if (proto == VPC_IPPROTO_TCP)
		i = st == VPC_NAT_ST_EST ? NAT_TMO_EST :
		    st == VPC_NAT_ST_CLOSING ? NAT_TMO_CLOSING : NAT_TMO_INCIPIENT;
	else
		i = proto == VPC_IPPROTO_UDP ? NAT_TMO_UDP : NAT_TMO_ICMP;
	return ((uint64_t)__atomic_load_n(&n->tmo_s[i], __ATOMIC_RELAXED) *
	    NS_PER_S);
}

bool
vpc_nat_flow_expired(const struct vpc_nat *n, const struct vpc_nat_flow *f,
    uint64_t now)
{
	uint64_t last = __atomic_load_n(&f->last_ns, __ATOMIC_RELAXED);

	return (now > last && now - last > flow_tmo_ns(n, f->proto,
	    __atomic_load_n(&f->st, __ATOMIC_RELAXED)));
}

/* ---- Lookups (in the epoch, or with n->mtx) --------------------------------- */

static struct vpc_nat_flow *
find_out(const struct vpc_nat *n, uint32_t h, uint32_t priv, uint16_t pport,
    uint32_t remote, uint16_t rport, uint8_t proto)
{
	struct vpc_nat_flow *f;

	for (f = vpc_load(n->tout[h & n->mask]); f != NULL;
	    f = vpc_load(f->next_out))
		if (f->hout == h && f->priv == priv && f->remote == remote &&
		    f->pport == pport && f->rport == rport && f->proto == proto)
			return (f);
	return (NULL);
}

static struct vpc_nat_flow *
find_in(const struct vpc_nat *n, uint32_t h, uint32_t ext, uint16_t eport,
    uint32_t remote, uint16_t rport, uint8_t proto)
{
	struct vpc_nat_flow *f;

	for (f = vpc_load(n->tin[h & n->mask]); f != NULL;
	    f = vpc_load(f->next_in))
		if (f->hin == h && f->ext == ext && f->remote == remote &&
		    f->eport == eport && f->rport == rport && f->proto == proto)
			return (f);
	return (NULL);
}

struct vpc_nat_flow *
vpc_nat_flow_out(struct vpc_nat *n, uint32_t priv, uint16_t pport,
    uint32_t remote, uint16_t rport, uint8_t proto, uint64_t now)
{
	struct vpc_nat_flow *f;

	f = find_out(n, nat_hash(n, 0, priv, pport, remote, rport, proto), priv,
	    pport, remote, rport, proto);
	return (f != NULL && !vpc_nat_flow_expired(n, f, now) ? f : NULL);
}

struct vpc_nat_flow *
vpc_nat_flow_in(struct vpc_nat *n, uint32_t ext, uint16_t eport,
    uint32_t remote, uint16_t rport, uint8_t proto, uint64_t now)
{
	struct vpc_nat_flow *f;

	f = find_in(n, nat_hash(n, 1, ext, eport, remote, rport, proto), ext,
	    eport, remote, rport, proto);
	return (f != NULL && !vpc_nat_flow_expired(n, f, now) ? f : NULL);
}

/* ---- Writers (n->mtx) ---------------------------------------------------------- */

static void
flow_free_deferred(struct os_defer *d)
{
	struct vpc_nat_flow *f = (struct vpc_nat_flow *)(void *)((char *)d -
	    __builtin_offsetof(struct vpc_nat_flow, defer));

	vpc_free(f, sizeof(*f));
}

/* Take f out of both chains; readers still walking past it go on. */
static void
flow_unlink(struct vpc_nat *n, struct vpc_nat_flow *f)
{
	struct vpc_nat_flow **prev, *c;

	VPC_ASSERT_MTX(n->mtx);
	for (prev = &n->tout[f->hout & n->mask]; (c = *prev) != NULL;
	    prev = &c->next_out)
		if (c == f) {
			vpc_store(*prev, f->next_out);
			break;
		}
	for (prev = &n->tin[f->hin & n->mask]; (c = *prev) != NULL;
	    prev = &c->next_in)
		if (c == f) {
			vpc_store(*prev, f->next_in);
			break;
		}
	f->unlinked = 1;
	f->bind->flows[vpc_nat_proto_index(f->proto)]--;
	__atomic_store_n(&n->nflows, n->nflows - 1, __ATOMIC_RELAXED);
	vpc_nat_count(n, VPC_NATC_FLOWS_GONE);
	os_epoch_defer(&f->defer, flow_free_deferred);
}

struct vpc_nat_flow *
vpc_nat_flow_get(struct vpc_nat *n, struct vpc_nat_bind *b, uint16_t pport,
    uint32_t remote, uint16_t rport, uint8_t proto, uint64_t now,
    unsigned *why)
{
	struct vpc_nat_flow *f, *o;
	uint32_t hout, hin = 0, i, size, start;
	uint16_t eport = 0;
	unsigned pi = (unsigned)vpc_nat_proto_index(proto);
	bool found = false;

	hout = nat_hash(n, 0, b->priv, pport, remote, rport, proto);
	f = find_out(n, hout, b->priv, pport, remote, rport, proto);
	if (f != NULL && !vpc_nat_flow_expired(n, f, now))
		return (f);
	os_mtx_lock(n->mtx);
	/* Another CPU may have made it meanwhile; a dead one goes. */
	if ((f = find_out(n, hout, b->priv, pport, remote, rport, proto)) != NULL) {
		if (!vpc_nat_flow_expired(n, f, now)) {
			os_mtx_unlock(n->mtx);
			return (f);
		}
		flow_unlink(n, f);
	}
	if (b->dead) {
		*why = VPC_NATC_DROP_NOCFG;
		goto fail;
	}
	if (n->nflows >= n->max_flows) {
		*why = VPC_NATC_DROP_FULL;
		goto fail;
	}
	size = b->size;
	start = (hout >> 7) % size;
	for (i = 0; i < size && !found; i++) {
		eport = (uint16_t)(b->lo[pi] + (start + i) % size);
		hin = nat_hash(n, 1, b->ext, eport, remote, rport, proto);
		o = find_in(n, hin, b->ext, eport, remote, rport, proto);
		if (o == NULL)
			found = true;
		else if (vpc_nat_flow_expired(n, o, now)) {
			flow_unlink(n, o);
			found = true;
		}
	}
	if (!found) {
		__atomic_add_fetch(&b->exhausted[pi], 1, __ATOMIC_RELAXED);
		*why = VPC_NATC_DROP_EXHAUSTED;
		goto fail;
	}
	if ((f = vpc_alloc(sizeof(*f), VPC_M_NOWAIT | VPC_M_ZERO)) == NULL) {
		*why = VPC_NATC_DROP_NOMEM;
		goto fail;
	}
	f->priv = b->priv;
	f->ext = b->ext;
	f->remote = remote;
	f->pport = pport;
	f->eport = eport;
	f->rport = rport;
	f->proto = proto;
	f->st = VPC_NAT_ST_OPEN;
	f->hout = hout;
	f->hin = hin;
	f->last_ns = now;
	f->bind = b;
	f->next_out = n->tout[hout & n->mask];
	f->next_in = n->tin[hin & n->mask];
	b->flows[pi]++;
	__atomic_store_n(&n->nflows, n->nflows + 1, __ATOMIC_RELAXED);
	vpc_store(n->tout[hout & n->mask], f);
	vpc_store(n->tin[hin & n->mask], f);
	os_mtx_unlock(n->mtx);
	vpc_nat_count(n, VPC_NATC_FLOWS_NEW);
	return (f);
fail:
	os_mtx_unlock(n->mtx);
	return (NULL);
}

/*
 * TCP: incipient until the remote answers, then established; a FIN or RST
 * either way makes it closing (short timeout); a new SYN from the VM on a
 * closing flow opens it again with the same ports.  Lock-free: the state is
 * one byte, the last writer wins, and every outcome is a valid state.
 */
void
vpc_nat_flow_touch(struct vpc_nat_flow *f, int dir, uint8_t fl, uint64_t now)
{
	uint8_t st, nst;

	if (__atomic_load_n(&f->last_ns, __ATOMIC_RELAXED) < now)
		__atomic_store_n(&f->last_ns, now, __ATOMIC_RELAXED);
	if (f->proto != VPC_IPPROTO_TCP)
		return;
	st = nst = __atomic_load_n(&f->st, __ATOMIC_RELAXED);
	if ((fl & (TH_FIN | TH_RST)) != 0)
		nst = VPC_NAT_ST_CLOSING;
	else if (dir == VPC_NAT_IN && st == VPC_NAT_ST_OPEN)
		nst = VPC_NAT_ST_EST;
	else if (dir == VPC_NAT_OUT && st == VPC_NAT_ST_CLOSING &&
	    (fl & (TH_SYN | TH_ACK)) == TH_SYN)
		nst = VPC_NAT_ST_OPEN;
	if (nst != st)
		__atomic_store_n(&f->st, nst, __ATOMIC_RELAXED);
}

/* ---- The tables, the sweeper, unbinding ----------------------------------------- */

int
vpc_nat_flows_init(struct vpc_nat *n, uint32_t max_flows)
{
	uint32_t nb = 16;

	while (nb < max_flows / 2 && nb < (1u << 23))
		nb <<= 1;
	n->mask = nb - 1;
	n->tout = vpc_alloc((size_t)nb * sizeof(n->tout[0]),
	    VPC_M_WAITOK | VPC_M_ZERO);
	n->tin = vpc_alloc((size_t)nb * sizeof(n->tin[0]),
	    VPC_M_WAITOK | VPC_M_ZERO);
	return (n->tout != NULL && n->tin != NULL ? 0 : VPC_ERR(VPC_ENOMEM));
}

/* Nobody can reach the engine: free every flow now. */
void
vpc_nat_flows_fini(struct vpc_nat *n)
{
	struct vpc_nat_flow *f, *next;
	uint32_t i;

	if (n->tout != NULL) {
		for (i = 0; i <= n->mask; i++)
			for (f = n->tout[i]; f != NULL; f = next) {
				next = f->next_out;
				vpc_free(f, sizeof(*f));
			}
		vpc_free(n->tout, ((size_t)n->mask + 1) * sizeof(n->tout[0]));
	}
	if (n->tin != NULL)
		vpc_free(n->tin, ((size_t)n->mask + 1) * sizeof(n->tin[0]));
	n->tout = n->tin = NULL;
	n->nflows = 0;
}

/* With n->mtx: unlink the flows of bucket i that match (b, or expired). */
static void
bucket_reclaim(struct vpc_nat *n, uint32_t i, const struct vpc_nat_bind *b,
    uint64_t now)
{
	struct vpc_nat_flow *f, *next;

	for (f = n->tout[i]; f != NULL; f = next) {
		next = f->next_out;
		if (b != NULL ? f->bind == b : vpc_nat_flow_expired(n, f, now))
			flow_unlink(n, f);
	}
}

void
vpc_nat_flows_unbind(struct vpc_nat *n, struct vpc_nat_bind *b)
{
	uint32_t i;

	VPC_ASSERT_MTX(n->mtx);
	for (i = 0; i <= n->mask && b->flows[0] + b->flows[1] + b->flows[2] != 0;
	    i++)
		bucket_reclaim(n, i, b, 0);
}

void
vpc_nat_sweep_tick(void *arg)
{
	struct vpc_nat *n = arg;
	uint64_t now = n->clock();
	uint32_t total = n->mask + 1, k, i;

	VPC_ASSERT_MTX(n->mtx);
	if (n->nflows != 0) {
		k = total / 8 < 4096 ? (total < 4096 ? total : 4096) : total / 8;
		for (i = 0; i < k; i++) {
			n->sweep_at = (n->sweep_at + 1) & n->mask;
			bucket_reclaim(n, n->sweep_at, NULL, now);
		}
	}
	os_timer_arm(n->sweeper, SWEEP_NS);
}

void
vpc_nat_sweep(struct vpc_nat *n)
{
	uint64_t now = n->clock();
	uint32_t i;

	os_mtx_lock(n->mtx);
	for (i = 0; i <= n->mask; i++)
		bucket_reclaim(n, i, NULL, now);
	os_mtx_unlock(n->mtx);
}

void
vpc_nat_flow_walk(struct vpc_nat *n,
    void (*fn)(const struct vpc_nat_flowinfo *, void *), void *arg)
{
	struct vpc_nat_flowinfo fi;
	struct vpc_nat_flow *f;
	uint64_t now = n->clock(), last;
	uint32_t i;

	os_mtx_lock(n->mtx);
	for (i = 0; i <= n->mask; i++)
		for (f = n->tout[i]; f != NULL; f = f->next_out) {
			memset(&fi, 0, sizeof(fi));
			vpc_put32(fi.priv, f->priv);
			vpc_put32(fi.ext, f->ext);
			vpc_put32(fi.remote, f->remote);
			fi.pport = f->pport;
			fi.eport = f->eport;
			fi.rport = f->rport;
			fi.proto = f->proto;
			fi.state = f->st;
			last = f->last_ns;
			fi.idle_ns = now > last ? now - last : 0;
			fn(&fi, arg);
		}
	os_mtx_unlock(n->mtx);
}
