/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nat_cfg.c: the NAT engine and its configuration (vpc_nat.h): EIPs,
 * SNAT pools and bindings, timeouts, counters.  Every change builds a new
 * snapshot (struct vpc_nat_cfg) from the published one, publishes it and
 * retires the old one after the epoch, so the data path never takes a lock
 * to read the configuration.  Callers serialize these calls (the control
 * lock once wired); they may sleep.
 *
 * SNAT port blocks: a pool is ports [lo, hi] of one external address cut
 * into floor((hi - lo + 1) / block) blocks of `block` ports (the remainder
 * at the top is unused).  A binding takes, for each protocol (TCP, UDP, ICMP
 * echo ids: three separate port spaces), the lowest free block of that
 * protocol and keeps it until it is unbound.  A block belongs to one private
 * address at a time, so two private addresses of one external address never
 * share a port of one protocol (omicron#1793).
 */
#include "vpc_nat_impl.h"

#define SWEEP_NS        1000000000ULL
#define TMO_MAX_S       (366u * 86400u)

/*
 * The OS's tick clock: timeouts are seconds, so a few ms do not matter, and
 * a precise clock read per packet was a tenth of an established flow's
 * cost (bench/nat).  Every use (flows, expiry, the sweeper) reads this one.
 */
static uint64_t
default_clock(void)
{
	return (os_now_coarse_ns());
}

/* ---- Snapshots ------------------------------------------------------------ */

static size_t
cfg_size(uint32_t neip, uint32_t nbind)
{
	return (sizeof(struct vpc_nat_cfg) + 2 * (size_t)neip *
	    sizeof(struct vpc_nat_eip) + (size_t)nbind *
	    sizeof(struct vpc_nat_bref));
}

static struct vpc_nat_cfg *
cfg_new(uint32_t neip, uint32_t nbind)
{
	size_t size = cfg_size(neip, nbind);
	struct vpc_nat_cfg *c;
	char *m;

	if ((c = vpc_alloc(size, VPC_M_WAITOK | VPC_M_ZERO)) == NULL)
		return (NULL);
	c->size = size;
	c->neip = neip;
	c->nbind = nbind;
	m = (char *)(c + 1);
	c->bind = (struct vpc_nat_bref *)(void *)m;
	m += (size_t)nbind * sizeof(struct vpc_nat_bref);
	c->eip_priv = (struct vpc_nat_eip *)(void *)m;
	c->eip_ext = c->eip_priv + neip;
	return (c);
}

static void
cfg_free_deferred(struct os_defer *d)
{
	struct vpc_nat_cfg *c = (struct vpc_nat_cfg *)(void *)d;

	vpc_free(c, c->size);
}

static void
cfg_publish(struct vpc_nat *n, struct vpc_nat_cfg *c)
{
	struct vpc_nat_cfg *old = n->cfg;
	uint32_t i, j, k;

	/* The pools' addresses, sorted (a handful: insertion). */
	c->npool = n->npools;
	for (i = 0; i < n->npools; i++) {
		k = n->pools[i]->ext;
		for (j = i; j > 0 && c->pool_ext[j - 1] > k; j--)
			c->pool_ext[j] = c->pool_ext[j - 1];
		c->pool_ext[j] = k;
	}
	vpc_store(n->cfg, c);
	if (old != NULL)
		os_epoch_defer(&old->defer, cfg_free_deferred);
}

/* Where key goes in a sorted array of n (first element not below it). */
#define LOWER_BOUND(arr, n, field, key) ({                              \
	uint32_t lo_ = 0, hi_ = (n);                                    \
	while (lo_ < hi_) {                                             \
		uint32_t mid_ = lo_ + (hi_ - lo_) / 2;                  \
		if ((arr)[mid_]field < (key))                           \
			lo_ = mid_ + 1;                                 \
		else                                                    \
			hi_ = mid_;                                     \
	}                                                               \
	lo_;                                                            \
})

const struct vpc_nat_eip *
vpc_nat_eip_by_priv(const struct vpc_nat_cfg *c, uint32_t priv)
{
	uint32_t i = LOWER_BOUND(c->eip_priv, c->neip, .priv, priv);

	return (i < c->neip && c->eip_priv[i].priv == priv ? &c->eip_priv[i] :
	    NULL);
}

const struct vpc_nat_eip *
vpc_nat_eip_by_ext(const struct vpc_nat_cfg *c, uint32_t ext)
{
	uint32_t i = LOWER_BOUND(c->eip_ext, c->neip, .ext, ext);

	return (i < c->neip && c->eip_ext[i].ext == ext ? &c->eip_ext[i] : NULL);
}

struct vpc_nat_bind *
vpc_nat_bind_by_priv(const struct vpc_nat_cfg *c, uint32_t priv)
{
	uint32_t i = LOWER_BOUND(c->bind, c->nbind, .priv, priv);

	return (i < c->nbind && c->bind[i].priv == priv ? c->bind[i].b : NULL);
}

bool
vpc_nat_is_pool(const struct vpc_nat_cfg *c, uint32_t ext)
{
	uint32_t i;

	for (i = 0; i < c->npool; i++)
		if (c->pool_ext[i] == ext)
			return (true);
	return (false);
}

/* A copy of c with room for dneip more EIPs and dnbind more bindings. */
static struct vpc_nat_cfg *
cfg_copy(const struct vpc_nat_cfg *c, int dneip, int dnbind)
{
	struct vpc_nat_cfg *nc;

	nc = cfg_new((uint32_t)((int)c->neip + dneip),
	    (uint32_t)((int)c->nbind + dnbind));
	if (nc == NULL)
		return (NULL);
	if (dneip == 0) {
		memcpy(nc->eip_priv, c->eip_priv, c->neip * sizeof(c->eip_priv[0]));
		memcpy(nc->eip_ext, c->eip_ext, c->neip * sizeof(c->eip_ext[0]));
	}
	if (dnbind == 0)
		memcpy(nc->bind, c->bind, c->nbind * sizeof(c->bind[0]));
	return (nc);
}

/* Copy a sorted array of n, inserting (ins) or dropping (at) element at. */
static void
arr_insert(void *dst, const void *src, uint32_t n, uint32_t at,
    const void *ins, size_t esz)
{
	memcpy(dst, src, at * esz);
	memcpy((char *)dst + at * esz, ins, esz);
	memcpy((char *)dst + (at + 1) * esz, (const char *)src + at * esz,
	    (n - at) * esz);
}

static void
arr_remove(void *dst, const void *src, uint32_t n, uint32_t at, size_t esz)
{
	memcpy(dst, src, at * esz);
	memcpy((char *)dst + at * esz, (const char *)src + (at + 1) * esz,
	    (n - at - 1) * esz);
}

/* ---- The engine ------------------------------------------------------------- */

static bool
host_addr(uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);

	return (top != 0 && top != 127 && top < 224);
}

int
vpc_nat_create(uint32_t max_flows, struct vpc_nat **out)
{
	static const struct vpc_nat_timeouts defaults;
	struct vpc_nat *n;
	unsigned i;

	if (max_flows == 0)
		max_flows = VPC_NAT_FLOWS_DEFAULT;
	if (max_flows > VPC_NAT_FLOWS_MAX)
		return (VPC_ERR(VPC_EINVAL));
	if ((n = vpc_alloc(sizeof(*n), VPC_M_WAITOK | VPC_M_ZERO)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	n->clock = default_clock;
	n->max_flows = max_flows;
	os_random(n->key, sizeof(n->key));
	for (i = 0; i < 4; i++)
		n->key[i] |= 3ULL << 62;        /* never a zero product */
	(void)vpc_nat_set_timeouts(n, &defaults);
	if (vpc_counters_alloc(n->c, VPC_NATC_COUNT) != 0)
		goto fail;
	if ((n->cfg = cfg_new(0, 0)) == NULL)
		goto fail;
	if ((n->mtx = os_mtx_create("vpc nat")) == NULL)
		goto fail;
	if ((n->frags = vpc_fragmem_create()) == NULL)
		goto fail;
	if (vpc_nat_flows_init(n, max_flows) != 0)
		goto fail;
	if ((n->sweeper = os_timer_create(n->mtx, vpc_nat_sweep_tick, n)) == NULL)
		goto fail;
	os_mtx_lock(n->mtx);
	os_timer_arm(n->sweeper, SWEEP_NS);
	os_mtx_unlock(n->mtx);
	*out = n;
	return (0);
fail:
	vpc_nat_destroy(n);
	return (VPC_ERR(VPC_ENOMEM));
}

static void
pool_free(struct vpc_nat_pool *p)
{
	unsigned i;

	for (i = 0; i < VPC_NAT_NPROTO; i++)
		if (p->used[i] != NULL)
			vpc_free(p->used[i], p->words * sizeof(uint64_t));
	vpc_free(p, sizeof(*p));
}

void
vpc_nat_destroy(struct vpc_nat *n)
{
	struct vpc_nat_cfg *c = n->cfg;
	uint32_t i;

	if (n->sweeper != NULL)
		os_timer_destroy(n->sweeper);
	vpc_nat_flows_fini(n);
	if (c != NULL) {
		for (i = 0; i < c->nbind; i++)
			vpc_free(c->bind[i].b, sizeof(*c->bind[i].b));
		vpc_free(c, c->size);
	}
	for (i = 0; i < n->npools; i++)
		pool_free(n->pools[i]);
	if (n->mtx != NULL)
		os_mtx_destroy(n->mtx);
	vpc_fragmem_destroy(n->frags);
	vpc_counters_free(n->c, VPC_NATC_COUNT);
	vpc_free(n, sizeof(*n));
}

int
vpc_nat_set_timeouts(struct vpc_nat *n, const struct vpc_nat_timeouts *t)
{
	const uint32_t given[5] = { t->tcp_incipient_s, t->tcp_est_s,
	    t->tcp_closing_s, t->udp_s, t->icmp_s };
	static const uint32_t def[5] = { VPC_NAT_TCP_INCIPIENT_S,
	    VPC_NAT_TCP_EST_S, VPC_NAT_TCP_CLOSING_S, VPC_NAT_UDP_S,
	    VPC_NAT_ICMP_S };
	unsigned i;

	for (i = 0; i < 5; i++)
		if (given[i] > TMO_MAX_S)
			return (VPC_ERR(VPC_EINVAL));
	for (i = 0; i < 5; i++)
		__atomic_store_n(&n->tmo_s[i], given[i] != 0 ? given[i] : def[i],
		    __ATOMIC_RELAXED);
	return (0);
}

void
vpc_nat_get_timeouts(const struct vpc_nat *n, struct vpc_nat_timeouts *t)
{
	t->tcp_incipient_s = n->tmo_s[NAT_TMO_INCIPIENT];
	t->tcp_est_s = n->tmo_s[NAT_TMO_EST];
	t->tcp_closing_s = n->tmo_s[NAT_TMO_CLOSING];
	t->udp_s = n->tmo_s[NAT_TMO_UDP];
	t->icmp_s = n->tmo_s[NAT_TMO_ICMP];
}

void
vpc_nat_set_clock(struct vpc_nat *n, uint64_t (*clock)(void))
{
	n->clock = clock != NULL ? clock : default_clock;
}

uint64_t
vpc_nat_counter(const struct vpc_nat *n, unsigned which)
{
	return (which < VPC_NATC_COUNT ? os_counter_fetch(n->c[which]) : 0);
}

uint32_t
vpc_nat_nflows(const struct vpc_nat *n)
{
	return (__atomic_load_n(&n->nflows, __ATOMIC_RELAXED));
}

/* ---- EIPs --------------------------------------------------------------------- */

int
vpc_nat_eip_bind(struct vpc_nat *n, const uint8_t priv_[4], const uint8_t ext_[4])
{
	const struct vpc_nat_cfg *c = n->cfg;
	struct vpc_nat_cfg *nc;
	struct vpc_nat_eip e;
	uint32_t ip, ie;

	e.priv = vpc_nat_get32(priv_);
	e.ext = vpc_nat_get32(ext_);
	if (!host_addr(e.priv) || !host_addr(e.ext))
		return (VPC_ERR(VPC_EINVAL));
	if (vpc_nat_eip_by_priv(c, e.priv) != NULL ||
	    vpc_nat_eip_by_ext(c, e.ext) != NULL)
		return (VPC_ERR(VPC_EEXIST));
	if (vpc_nat_is_pool(c, e.ext))
		return (VPC_ERR(VPC_EADDRINUSE));
	if (c->neip >= VPC_NAT_EIPS_MAX)
		return (VPC_ERR(VPC_ENOSPC));
	if ((nc = cfg_copy(c, 1, 0)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	ip = LOWER_BOUND(c->eip_priv, c->neip, .priv, e.priv);
	ie = LOWER_BOUND(c->eip_ext, c->neip, .ext, e.ext);
	arr_insert(nc->eip_priv, c->eip_priv, c->neip, ip, &e, sizeof(e));
	arr_insert(nc->eip_ext, c->eip_ext, c->neip, ie, &e, sizeof(e));
	cfg_publish(n, nc);
	return (0);
}

int
vpc_nat_eip_unbind(struct vpc_nat *n, const uint8_t priv_[4])
{
	const struct vpc_nat_cfg *c = n->cfg;
	const struct vpc_nat_eip *e;
	struct vpc_nat_cfg *nc;
	uint32_t priv = vpc_nat_get32(priv_), ip, ie;

	if ((e = vpc_nat_eip_by_priv(c, priv)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	if ((nc = cfg_copy(c, -1, 0)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	ip = (uint32_t)(e - c->eip_priv);
	ie = LOWER_BOUND(c->eip_ext, c->neip, .ext, e->ext);
	arr_remove(nc->eip_priv, c->eip_priv, c->neip, ip, sizeof(*e));
	arr_remove(nc->eip_ext, c->eip_ext, c->neip, ie, sizeof(*e));
	cfg_publish(n, nc);
	return (0);
}

/* ---- SNAT pools and bindings ------------------------------------------------ */

static struct vpc_nat_pool *
pool_find(struct vpc_nat *n, uint32_t ext)
{
	uint32_t i;

	for (i = 0; i < n->npools; i++)
		if (n->pools[i]->ext == ext)
			return (n->pools[i]);
	return (NULL);
}

int
vpc_nat_pool_add(struct vpc_nat *n, const uint8_t ext_[4], uint16_t lo,
    uint16_t hi, uint16_t block)
{
	struct vpc_nat_cfg *nc;
	struct vpc_nat_pool *p;
	uint32_t ext = vpc_nat_get32(ext_), nb;
	unsigned i;

	if (lo == 0 && hi == 0 && block == 0) {
		lo = VPC_NAT_PORT_LO;
		hi = VPC_NAT_PORT_HI;
		block = VPC_NAT_BLOCK;
	}
	if (!host_addr(ext) || lo == 0 || hi < lo || block == 0 ||
	    (nb = ((uint32_t)hi - lo + 1) / block) == 0)
		return (VPC_ERR(VPC_EINVAL));
	if (pool_find(n, ext) != NULL)
		return (VPC_ERR(VPC_EEXIST));
	if (vpc_nat_eip_by_ext(n->cfg, ext) != NULL)
		return (VPC_ERR(VPC_EADDRINUSE));
	if (n->npools >= VPC_NAT_POOLS_MAX)
		return (VPC_ERR(VPC_ENOSPC));
	if ((p = vpc_alloc(sizeof(*p), VPC_M_WAITOK | VPC_M_ZERO)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	p->ext = ext;
	p->lo = lo;
	p->hi = hi;
	p->block = block;
	p->nblocks = nb;
	p->words = (nb + 63) / 64;
	for (i = 0; i < VPC_NAT_NPROTO; i++)
		if ((p->used[i] = vpc_alloc(p->words * sizeof(uint64_t),
		    VPC_M_WAITOK | VPC_M_ZERO)) == NULL)
			goto nomem;
	if ((nc = cfg_copy(n->cfg, 0, 0)) == NULL)
		goto nomem;
	n->pools[n->npools++] = p;
	cfg_publish(n, nc);
	return (0);
nomem:
	pool_free(p);
	return (VPC_ERR(VPC_ENOMEM));
}

int
vpc_nat_pool_del(struct vpc_nat *n, const uint8_t ext_[4])
{
	struct vpc_nat_pool *p;
	struct vpc_nat_cfg *nc;
	uint32_t i;

	if ((p = pool_find(n, vpc_nat_get32(ext_))) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	if (p->nbinds != 0)
		return (VPC_ERR(VPC_EBUSY));
	if ((nc = cfg_copy(n->cfg, 0, 0)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	for (i = 0; n->pools[i] != p; i++)
		;
	n->pools[i] = n->pools[--n->npools];
	cfg_publish(n, nc);
	/* No snapshot names it now, and readers never follow a pool. */
	pool_free(p);
	return (0);
}

/* The lowest free block of a pool for one protocol, or -1. */
static int64_t
block_free(const struct vpc_nat_pool *p, unsigned proto)
{
	size_t w;
	uint64_t free_bits;
	uint32_t b;

	for (w = 0; w < p->words; w++) {
		free_bits = ~p->used[proto][w];
		if (free_bits == 0)
			continue;
		b = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(free_bits));
		return (b < p->nblocks ? (int64_t)b : -1);
	}
	return (-1);
}

static void
block_set(struct vpc_nat_pool *p, unsigned proto, uint32_t b, bool on)
{
	if (on)
		p->used[proto][b / 64] |= 1ULL << (b % 64);
	else
		p->used[proto][b / 64] &= ~(1ULL << (b % 64));
}

int
vpc_nat_snat_bind(struct vpc_nat *n, const uint8_t priv_[4], const uint8_t ext_[4])
{
	const struct vpc_nat_cfg *c = n->cfg;
	struct vpc_nat_cfg *nc;
	struct vpc_nat_pool *p;
	struct vpc_nat_bind *b;
	struct vpc_nat_bref ref;
	uint32_t priv = vpc_nat_get32(priv_), at;
	int64_t blk[VPC_NAT_NPROTO];
	unsigned i;

	if (!host_addr(priv))
		return (VPC_ERR(VPC_EINVAL));
	if (vpc_nat_bind_by_priv(c, priv) != NULL)
		return (VPC_ERR(VPC_EEXIST));
	if ((p = pool_find(n, vpc_nat_get32(ext_))) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	if (c->nbind >= VPC_NAT_BINDS_MAX)
		return (VPC_ERR(VPC_ENOSPC));
	for (i = 0; i < VPC_NAT_NPROTO; i++)
		if ((blk[i] = block_free(p, i)) < 0)
			return (VPC_ERR(VPC_ENOSPC));
	if ((b = vpc_alloc(sizeof(*b), VPC_M_WAITOK | VPC_M_ZERO)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((nc = cfg_copy(c, 0, 1)) == NULL) {
		vpc_free(b, sizeof(*b));
		return (VPC_ERR(VPC_ENOMEM));
	}
	b->priv = priv;
	b->ext = p->ext;
	b->size = p->block;
	b->pool = p;
	for (i = 0; i < VPC_NAT_NPROTO; i++) {
		b->lo[i] = (uint16_t)(p->lo + (uint32_t)blk[i] * p->block);
		block_set(p, i, (uint32_t)blk[i], true);
	}
	p->nbinds++;
	at = LOWER_BOUND(c->bind, c->nbind, .priv, priv);
	ref.priv = priv;
	ref.b = b;
	arr_insert(nc->bind, c->bind, c->nbind, at, &ref, sizeof(ref));
	cfg_publish(n, nc);
	return (0);
}

static void
bind_free_deferred(struct os_defer *d)
{
	struct vpc_nat_bind *b = (struct vpc_nat_bind *)(void *)((char *)d -
	    __builtin_offsetof(struct vpc_nat_bind, defer));

	vpc_free(b, sizeof(*b));
}

int
vpc_nat_snat_unbind(struct vpc_nat *n, const uint8_t priv_[4])
{
	const struct vpc_nat_cfg *c = n->cfg;
	struct vpc_nat_cfg *nc;
	struct vpc_nat_bind *b;
	struct vpc_nat_pool *p;
	uint32_t priv = vpc_nat_get32(priv_), at;
	unsigned i;

	if ((b = vpc_nat_bind_by_priv(c, priv)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	if ((nc = cfg_copy(c, 0, -1)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	at = LOWER_BOUND(c->bind, c->nbind, .priv, priv);
	arr_remove(nc->bind, c->bind, c->nbind, at, sizeof(c->bind[0]));
	cfg_publish(n, nc);
	/* A reader that still sees the old snapshot makes no flow for b now. */
	os_mtx_lock(n->mtx);
	b->dead = 1;
	vpc_nat_flows_unbind(n, b);
	os_mtx_unlock(n->mtx);
	p = b->pool;
	for (i = 0; i < VPC_NAT_NPROTO; i++)
		block_set(p, i, (uint32_t)(b->lo[i] - p->lo) / p->block, false);
	p->nbinds--;
	os_epoch_defer(&b->defer, bind_free_deferred);
	return (0);
}

int
vpc_nat_snat_get(struct vpc_nat *n, const uint8_t priv_[4],
    struct vpc_nat_snat_info *out)
{
	struct vpc_nat_bind *b;
	unsigned i;

	if ((b = vpc_nat_bind_by_priv(n->cfg, vpc_nat_get32(priv_))) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	memset(out, 0, sizeof(*out));
	vpc_put32(out->ext, b->ext);
	out->size = b->size;
	os_mtx_lock(n->mtx);
	for (i = 0; i < VPC_NAT_NPROTO; i++) {
		out->lo[i] = b->lo[i];
		out->flows[i] = b->flows[i];
		out->exhausted[i] = __atomic_load_n(&b->exhausted[i],
		    __ATOMIC_RELAXED);
	}
	os_mtx_unlock(n->mtx);
	return (0);
}
