/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_router.c: the router (vpcr), its attachments and its route table.
 *
 * A router attaches to switches through their router ports: the port's
 * peer becomes the router (a port holds a reference, as it does on a
 * vmnic), and the router keeps the attachment (switch, port) in its own
 * table.  Each attachment's interface is the switch's gateway; its subnets
 * are the connected routes.  Custom routes are kept in serial order (the
 * dump marker).  The data path reads only the published table
 * (struct vpc_rtable): every change (route, attachment, an attached
 * switch's subnet) builds a whole new table from the control state,
 * publishes it with vpc_store and frees the old one through the epoch, so
 * a reader sees the old table or the new one, never a mix.  Every op
 * checks everything and allocates the new table before it changes a byte:
 * an error means nothing happened.
 *
 * Lookup: each table holds an open-addressing hash of (af, prefix length,
 * prefix) mapping each prefix to its best route (custom over connected,
 * then the lower serial): the exact-match side (ROUTE_GET, duplicates).
 * Longest-prefix match walks a multibit trie per family built from that
 * hash with the table (poptrie-like: 6 bits per node, bitmaps and popcount
 * instead of 64 pointers): one node per 6 bits of the destination down to
 * the longest prefix on its path, then one leaf; for IPv4 the first two
 * nodes are one load from a direct table of the first 12 bits.  Its cost
 * follows prefix lengths, not the number of routes; its memory is bounded
 * by a chain of at most 22 nodes per route (docs/router.md has the
 * figures).
 */
#include "vpc_impl.h"

/* ---- Addresses ------------------------------------------------------------- */

static unsigned
alen_of(uint8_t af)
{
	return (af == VPC_AF_INET ? 4 : 16);
}

static bool
bit_at(const uint8_t *a, unsigned i)
{
	return ((a[i / 8] & (0x80 >> (i % 8))) != 0);
}

static bool
subnet_has(const struct vpc_subnet *s, uint8_t af, const uint8_t *a)
{
	uint8_t b[16];

	if (s->plen == 0)
		return (false);
	memset(b, 0, 16);
	memcpy(b, a, alen_of(af));
	return (vpc_subnet_contains(s, b));
}

/* ---- The published table ----------------------------------------------------- */

static uint32_t
key_hash(uint64_t seed, uint8_t af, uint8_t plen, const uint8_t prefix[16])
{
	uint64_t a, b, h;

	memcpy(&a, prefix, 8);
	memcpy(&b, prefix + 8, 8);
	h = seed ^ ((uint64_t)af << 8 | plen);
	h = (h ^ a) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 29) ^ b) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return ((uint32_t)h);
}

/* Does route a beat route b of the same prefix? */
static bool
better(const struct vpc_rt *a, const struct vpc_rt *b)
{
	if (a->cls != b->cls)
		return (a->cls == VPC_RT_CUSTOM);
	return (a->serial < b->serial);
}

static const struct vpc_rt *
find_prefix(const struct vpc_rtable *t, uint8_t af, uint8_t plen,
    const uint8_t prefix[16])
{
	uint32_t i = key_hash(t->seed, af, plen, prefix) & t->mask, s;
	const struct vpc_rt *r;

	while ((s = t->slot[i]) != 0) {
		r = &t->r[s - 1];
		if (r->af == af && r->plen == plen &&
		    memcmp(r->prefix, prefix, 16) == 0)
			return (r);
		i = (i + 1) & t->mask;
	}
	return (NULL);
}

/* ---- The lookup trie ------------------------------------------------------------ */

/*
 * The 6 bits of a (big-endian, hi:lo) at bit d.  Bits past the address are
 * zero: a node near its end spreads a route over the slots it covers.
 */
static inline unsigned
pt_bits(uint64_t hi, uint64_t lo, unsigned d)
{
	uint64_t v;

	if (d == 0)
		v = hi;
	else if (d < 64)
		v = hi << d | lo >> (64 - d);
	else
		v = lo << (d - 64);
	return ((unsigned)(v >> (64 - VPC_PT_STRIDE)));
}

static inline uint64_t
be64_at(const uint8_t *a)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v = v << 8 | a[i];
	return (v);
}

/* Portable (no libgcc call in a kernel); the popcnt instruction when allowed. */
static inline unsigned
popc64(uint64_t x)
{
#if defined(__POPCNT__)
	return ((unsigned)__builtin_popcountll(x));
#else
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return ((unsigned)((x * 0x0101010101010101ULL) >> 56));
#endif
}

/*
 * The same, quicker when no or one bit is set: deep IPv4 nodes are sparse
 * (a /24 behind a direct-table entry is one child and one leaf run).  Not
 * for IPv6: random lookups in a large IPv6 table make the branch a coin
 * toss (its 100,000-route lookups measured slower with it, if noisily).
 */
static inline unsigned
popc64_sparse(uint64_t x)
{
	if ((x & (x - 1)) == 0)
		return (x != 0);
	return (popc64(x));
}

/*
 * Longest-prefix match: one node per 6 bits of the address down to the
 * longest prefix under it, then one leaf.  The work follows the prefix
 * lengths on the address's path, never the number of routes.
 */
const struct vpc_rt *
vpc_rtable_lookup(const struct vpc_rtable *t, uint8_t af, const uint8_t addr[16])
{
	const struct vpc_ptrie *pt = &t->trie[af == VPC_AF_INET6];
	const struct vpc_pnode *n = pt->node;
	uint64_t hi, lo, bit, below;
	uint32_t l;

	if (af == VPC_AF_INET) {
		hi = (uint64_t)addr[0] << 56 | (uint64_t)addr[1] << 48 |
		    (uint64_t)addr[2] << 40 | (uint64_t)addr[3] << 32;
		lo = 0;
	} else {
		hi = be64_at(addr);
		lo = be64_at(addr + 8);
	}
	/* IPv4's first two levels in one load (pt_direct); the rest of its
	 * 32 bits fit in hi alone. */
	if (pt->direct != NULL) {
		l = pt->direct[hi >> (64 - VPC_PT_DIRECT_BITS)];
		if ((l & VPC_PT_DIRECT_LEAF) != 0) {
			l &= ~VPC_PT_DIRECT_LEAF;
			return (l != 0 ? &t->r[l - 1] : NULL);
		}
		n = &pt->node[l];
		hi <<= VPC_PT_DIRECT_BITS;
		for (;;) {
			bit = 1ULL << (hi >> (64 - VPC_PT_STRIDE));
			below = bit | (bit - 1);
			if ((n->vec & bit) == 0)
				break;
			n = &pt->node[n->base1 + popc64_sparse(n->vec & below) - 1];
			hi <<= VPC_PT_STRIDE;
		}
		l = pt->leaf[n->base0 + popc64_sparse(n->lvec & below) - 1];
		return (l != 0 ? &t->r[l - 1] : NULL);
	}
	/* hi:lo shifts by a stride per node: its top bits are the next slot. */
	for (;;) {
		bit = 1ULL << (hi >> (64 - VPC_PT_STRIDE));
		below = bit | (bit - 1);
		if ((n->vec & bit) == 0)
			break;
		n = &pt->node[n->base1 + popc64(n->vec & below) - 1];
		hi = hi << VPC_PT_STRIDE | lo >> (64 - VPC_PT_STRIDE);
		lo <<= VPC_PT_STRIDE;
	}
	l = pt->leaf[n->base0 + popc64(n->lvec & below) - 1];
	return (l != 0 ? &t->r[l - 1] : NULL);
}

/*
 * Building a trie: routes ix[] (the best of each prefix of one family),
 * sorted by prefix then length, so that a node's routes are a run of ix[]
 * and, in each child's run, the routes that end in the node come first.
 * Two passes, counting then filling, number the nodes alike: each node's
 * children are one block, allocated before the children's own (depth
 * first), so a lone route's chain of nodes is contiguous in memory.
 */
#define PT_LEVELS       (128 / VPC_PT_STRIDE + 1)
struct ptbuild {
	const struct vpc_rtable *t;
	const uint32_t *ix;
	struct vpc_pnode *node;         /* NULL: counting */
	uint32_t       *leaf;
	uint32_t        nnodes, nleaves;
	uint32_t        val[PT_LEVELS][64];     /* per depth: the node's slots */
	uint8_t         vlen[PT_LEVELS][64];
};

static unsigned
prefix_bits(const uint8_t *prefix, unsigned d)
{
	return (pt_bits(be64_at(prefix), be64_at(prefix + 8), d));
}

/* Node self at depth d: routes ix[lo..hi) (longer than d), def above. */
static void
pt_node(struct ptbuild *b, uint32_t self, unsigned d, uint32_t def,
    uint32_t lo, uint32_t hi)
{
	const struct vpc_rtable *t = b->t;
	unsigned lvl = d / VPC_PT_STRIDE, end = d + VPC_PT_STRIDE, i, s;
	uint32_t *val = b->val[lvl], k, a, base0, base1, c;
	uint8_t *vlen = b->vlen[lvl];
	uint64_t vec = 0, lvec = 0;

	for (i = 0; i < 64; i++) {
		val[i] = def;
		vlen[i] = 0;
	}
	/* Routes that end here cover 2^(end - plen) slots; the longest wins. */
	for (k = lo; k < hi; k++) {
		const struct vpc_rt *r = &t->r[b->ix[k]];

		s = prefix_bits(r->prefix, d);
		if (r->plen > end) {
			vec |= 1ULL << s;
			continue;
		}
		for (i = s; i < s + (1U << (end - r->plen)); i++)
			if (r->plen > vlen[i]) {
				val[i] = b->ix[k] + 1;
				vlen[i] = r->plen;
			}
	}
	for (i = 0; i < 64; i++)
		if ((vec >> i & 1) == 0 && (i == 0 || (vec >> (i - 1) & 1) != 0 ||
		    val[i] != val[i - 1]))
			lvec |= 1ULL << i;
	base1 = b->nnodes;
	base0 = b->nleaves;
	b->nnodes += popc64(vec);
	b->nleaves += popc64(lvec);
	if (b->node != NULL) {
		b->node[self].vec = vec;
		b->node[self].lvec = lvec;
		b->node[self].base0 = base0;
		b->node[self].base1 = base1;
		for (i = 0, c = 0; i < 64; i++)
			if (lvec >> i & 1)
				b->leaf[base0 + c++] = val[i];
	}
	/* Each child: its slot's routes longer than this node. */
	for (k = lo, c = 0; k < hi; ) {
		s = prefix_bits(t->r[b->ix[k]].prefix, d);
		for (; k < hi && t->r[b->ix[k]].plen <= end &&
		    prefix_bits(t->r[b->ix[k]].prefix, d) == s; k++)
			;
		for (a = k; k < hi && prefix_bits(t->r[b->ix[k]].prefix, d) == s; k++)
			;
		if (a < k)
			pt_node(b, base1 + c++, end, val[s], a, k);
	}
}

/*
 * The direct table of a built trie: each value of the first 12 bits walked
 * through the root and its child as vpc_rtable_lookup would.
 */
static void
pt_direct(struct vpc_ptrie *pt)
{
	const struct vpc_pnode *n;
	uint64_t bit, below;
	uint32_t v, e;
	unsigned d, s;

	for (v = 0; v < 1u << VPC_PT_DIRECT_BITS; v++) {
		n = &pt->node[0];
		e = 0;
		for (d = 0; d < 2; d++) {
			s = d == 0 ? v >> VPC_PT_STRIDE : v & ((1u << VPC_PT_STRIDE) - 1);
			bit = 1ULL << s;
			below = bit | (bit - 1);
			if ((n->vec & bit) == 0) {
				e = VPC_PT_DIRECT_LEAF |
				    pt->leaf[n->base0 + popc64(n->lvec & below) - 1];
				break;
			}
			n = &pt->node[n->base1 + popc64(n->vec & below) - 1];
		}
		pt->direct[v] = d == 2 ? (uint32_t)(n - pt->node) : e;
	}
}

/* Sort order of the build: prefix, then length. */
static int
pt_cmp(const struct vpc_rtable *t, uint32_t a, uint32_t b)
{
	int c = memcmp(t->r[a].prefix, t->r[b].prefix, 16);

	if (c != 0)
		return (c);
	return ((int)t->r[a].plen - (int)t->r[b].plen);
}

/* Heapsort: in place, no recursion, no allocation. */
static void
pt_sort(const struct vpc_rtable *t, uint32_t *ix, uint32_t n)
{
	uint32_t start = n / 2, end = n, root, child, tmp;

	while (end > 1) {
		if (start > 0)
			start--;
		else {
			end--;
			tmp = ix[end];
			ix[end] = ix[0];
			ix[0] = tmp;
		}
		for (root = start; (child = 2 * root + 1) < end; root = child) {
			if (child + 1 < end && pt_cmp(t, ix[child], ix[child + 1]) < 0)
				child++;
			if (pt_cmp(t, ix[root], ix[child]) >= 0)
				break;
			tmp = ix[root];
			ix[root] = ix[child];
			ix[child] = tmp;
		}
	}
}

/* Both tries of t from its hash (each prefix's best); false without memory. */
static bool
pt_build(struct vpc_rtable *t)
{
	struct ptbuild *b;
	uint32_t *ix, n[2] = { 0, 0 }, off[2], i, f, lo, ndirect, *direct;
	uint32_t def[2] = { 0, 0 };
	size_t bytes;
	char *m;

	b = vpc_alloc(sizeof(*b), VPC_M_WAITOK);
	ix = vpc_alloc(((size_t)t->n + 1) * sizeof(*ix), VPC_M_WAITOK);
	if (b == NULL || ix == NULL) {
		if (b != NULL)
			vpc_free(b, sizeof(*b));
		if (ix != NULL)
			vpc_free(ix, ((size_t)t->n + 1) * sizeof(*ix));
		return (false);
	}
	for (i = 0; i <= t->mask; i++)
		if (t->slot[i] != 0)
			n[t->r[t->slot[i] - 1].af == VPC_AF_INET6]++;
	off[0] = 0;
	off[1] = n[0];
	for (i = 0; i <= t->mask; i++)
		if (t->slot[i] != 0) {
			f = t->r[t->slot[i] - 1].af == VPC_AF_INET6;
			ix[off[f]++] = t->slot[i] - 1;
		}
	pt_sort(t, ix, n[0]);
	pt_sort(t, ix + n[0], n[1]);
	memset(b, 0, sizeof(*b));
	b->t = t;
	/* Count both, then one allocation for both. */
	for (f = 0; f < 2; f++) {
		uint32_t *fx = ix + (f == 0 ? 0 : n[0]);

		lo = 0;
		if (n[f] > 0 && t->r[fx[0]].plen == 0)
			def[f] = fx[lo++] + 1;           /* the default route */
		b->ix = fx;
		b->nnodes = 1;
		b->nleaves = 0;
		pt_node(b, 0, 0, def[f], lo, n[f]);
		t->trie[f].nnodes = b->nnodes;
		t->trie[f].nleaves = b->nleaves;
	}
	/*
	 * IPv4 gets a direct table when its root has a child: 16 KiB that
	 * halve a /24's walk.  IPv6 walks from its root: two levels skipped
	 * of its 8-22 save less, and would cost another 16 KiB per table.
	 */
	ndirect = t->trie[0].nnodes > 1;
	bytes = (size_t)(t->trie[0].nnodes + t->trie[1].nnodes) * sizeof(struct vpc_pnode) +
	    (size_t)(t->trie[0].nleaves + t->trie[1].nleaves) * sizeof(uint32_t) +
	    (size_t)ndirect * (sizeof(uint32_t) << VPC_PT_DIRECT_BITS);
	if ((m = vpc_alloc(bytes, VPC_M_WAITOK)) == NULL) {
		vpc_free(b, sizeof(*b));
		vpc_free(ix, ((size_t)t->n + 1) * sizeof(*ix));
		return (false);
	}
	t->trie_mem = m;
	t->tbytes = bytes;
	t->trie[0].node = (struct vpc_pnode *)(void *)m;
	t->trie[1].node = t->trie[0].node + t->trie[0].nnodes;
	t->trie[0].leaf = (uint32_t *)(void *)(t->trie[1].node + t->trie[1].nnodes);
	t->trie[1].leaf = t->trie[0].leaf + t->trie[0].nleaves;
	direct = t->trie[1].leaf + t->trie[1].nleaves;
	for (f = 0; f < 2; f++) {
		b->ix = ix + (f == 0 ? 0 : n[0]);
		b->node = t->trie[f].node;
		b->leaf = t->trie[f].leaf;
		b->nnodes = 1;
		b->nleaves = 0;
		pt_node(b, 0, 0, def[f], def[f] != 0 ? 1 : 0, n[f]);
		t->trie[f].direct = NULL;
		if (f == 0 && ndirect != 0) {
			t->trie[f].direct = direct;
			pt_direct(&t->trie[f]);
		}
	}
	vpc_free(b, sizeof(*b));
	vpc_free(ix, ((size_t)t->n + 1) * sizeof(*ix));
	return (true);
}

static void
rtable_free(struct vpc_rtable *t)
{
	if (t->trie_mem != NULL)
		vpc_free(t->trie_mem, t->tbytes);
	vpc_free(t, t->bytes);
}

static void
rtable_free_cb(struct os_defer *d)
{
	rtable_free((struct vpc_rtable *)(void *)d);
}

static void
rtable_retire(struct vpc_rtable *t)
{
	if (t != NULL)
		os_epoch_defer(&t->defer, rtable_free_cb);
}

/* The attachment whose switch's subnet holds addr, or NULL. */
static const struct vpc_rtr_att *
att_holding(const struct vpc_router *rtr, uint8_t af, const uint8_t *addr)
{
	uint32_t i;

	for (i = 0; i < rtr->natt; i++) {
		const struct vpc_swcfg *c = rtr->att[i].sw->cfg;

		if (subnet_has(af == VPC_AF_INET ? &c->sub4 : &c->sub6, af, addr))
			return (&rtr->att[i]);
	}
	return (NULL);
}

bool
vpc_router_holds(const struct vpc_router *rtr, uint8_t af, const uint8_t *addr)
{
	VPC_ASSERT_CTL(rtr->obj.sys);
	return (att_holding(rtr, af, addr) != NULL);
}

static const struct vpc_rtr_att *
att_of_switch(const struct vpc_router *rtr, const vpc_id_t *id)
{
	uint32_t i;

	for (i = 0; i < rtr->natt; i++)
		if (memcmp(&rtr->att[i].sw->obj.id, id, sizeof(*id)) == 0)
			return (&rtr->att[i]);
	return (NULL);
}

static void
fill_custom(const struct vpc_router *rtr, struct vpc_rt *r, const vpc_rt_route_t *c)
{
	const struct vpc_rtr_att *a = NULL;

	memset(r, 0, sizeof(*r));
	r->af = c->af;
	r->plen = c->prefixlen;
	r->cls = VPC_RT_CUSTOM;
	r->target = c->target;
	memcpy(r->prefix, c->prefix, 16);
	memcpy(r->nexthop, c->nexthop, 16);
	r->swid = c->switch_id;
	r->serial = c->serial;
	if (c->target == VPC_RT_SUBNET)
		a = att_of_switch(rtr, &c->switch_id);
	else if (c->target == VPC_RT_NEXTHOP)
		a = att_holding(rtr, c->af, c->nexthop);
	if (a != NULL) {
		r->sw = a->sw;
		r->port = a->port;
	}
}

/* The last table serial handed out (every router's, so never one twice). */
static uint64_t rtable_serials;

/*
 * A new table from attachments att[0..natt) and custom routes c[0..nc),
 * both in serial order; NULL without memory.
 */
static struct vpc_rtable *
rtable_build(const struct vpc_router *rtr, const vpc_rt_route_t *c, uint32_t nc)
{
	struct vpc_rt *conn;
	struct vpc_rtable *t;
	uint32_t nconn = 0, n, nslots, i, j, k, h;
	size_t bytes;

	/* The connected routes: each attachment's subnets. */
	conn = vpc_alloc(2 * VPC_RTR_MAX_ATTACH * sizeof(*conn), VPC_M_WAITOK);
	if (conn == NULL)
		return (NULL);
	for (i = 0; i < rtr->natt; i++) {
		const struct vpc_rtr_att *a = &rtr->att[i];
		const struct vpc_swcfg *cfg = a->sw->cfg;
		const struct vpc_subnet *s[2] = { &cfg->sub4, &cfg->sub6 };

		for (k = 0; k < 2; k++) {
			struct vpc_rt *r = &conn[nconn];

			if (s[k]->plen == 0)
				continue;
			memset(r, 0, sizeof(*r));
			r->af = k == 0 ? VPC_AF_INET : VPC_AF_INET6;
			r->plen = s[k]->plen;
			r->cls = VPC_RT_CONNECTED;
			r->target = VPC_RT_SUBNET;
			memcpy(r->prefix, s[k]->addr, 16);
			r->swid = a->sw->obj.id;
			r->sw = a->sw;
			r->port = a->port;
			r->serial = a->serial + k;     /* IPv4, IPv6 */
			nconn++;
		}
	}
	n = nconn + nc;
	for (nslots = 16; nslots < 2 * n; nslots *= 2)
		;
	bytes = sizeof(*t) + (size_t)n * sizeof(struct vpc_rt) +
	    (size_t)nslots * sizeof(uint32_t);
	if ((t = vpc_alloc(bytes, VPC_M_WAITOK)) == NULL) {
		vpc_free(conn, 2 * VPC_RTR_MAX_ATTACH * sizeof(*conn));
		return (NULL);
	}
	memset(t, 0, bytes);
	t->bytes = bytes;
	/* Unique among all tables ever built: what a memo of a lookup in it is
	 * checked against (vpc_router_fwd.c). */
	t->serial = __atomic_add_fetch(&rtable_serials, 1, __ATOMIC_RELAXED);
	t->n = n;
	t->mask = nslots - 1;
	t->seed = rtr->seed;
	t->slot = (uint32_t *)(void *)&t->r[n];
	/* Merge both lists by serial. */
	for (i = j = k = 0; k < n; k++) {
		if (j >= nc || (i < nconn && conn[i].serial < c[j].serial))
			t->r[k] = conn[i++];
		else
			fill_custom(rtr, &t->r[k], &c[j++]);
	}
	vpc_free(conn, 2 * VPC_RTR_MAX_ATTACH * sizeof(*conn));
	/* Index each prefix's best route. */
	for (k = 0; k < n; k++) {
		const struct vpc_rt *r = &t->r[k];

		h = key_hash(t->seed, r->af, r->plen, r->prefix) & t->mask;
		for (;;) {
			uint32_t s = t->slot[h];

			if (s == 0) {
				t->slot[h] = k + 1;
				break;
			}
			if (t->r[s - 1].af == r->af && t->r[s - 1].plen == r->plen &&
			    memcmp(t->r[s - 1].prefix, r->prefix, 16) == 0) {
				if (better(r, &t->r[s - 1]))
					t->slot[h] = k + 1;
				break;
			}
			h = (h + 1) & t->mask;
		}
	}
	if (!pt_build(t)) {
		vpc_free(t, t->bytes);
		return (NULL);
	}
	return (t);
}

static void
rtable_publish(struct vpc_router *rtr, struct vpc_rtable *t)
{
	struct vpc_rtable *old = rtr->table;

	vpc_store(rtr->table, t);
	rtable_retire(old);
}

/* After an attached switch changed: the table again (ENOMEM: keep the old). */
static void
rebuild(struct vpc_router *rtr)
{
	struct vpc_rtable *t = rtable_build(rtr, rtr->custom, rtr->ncustom);

	if (t == NULL) {
		os_log(VPC_LOG_WARN, "vpc: router: no memory to rebuild its table");
		return;
	}
	rtable_publish(rtr, t);
	vpc_obj_changed(&rtr->obj, 0);
}

/* ---- The object ------------------------------------------------------------------ */

static int
router_init(struct vpc_obj *o)
{
	struct vpc_router *rtr = obj2rtr(o);
	int error;

	if ((error = vpc_counters_alloc(rtr->ctr, VPC_RTRSTAT_COUNT)) != 0)
		return (error);
	os_random(&rtr->seed, sizeof(rtr->seed));
	rtr->next_serial = 1;
	vpc_ratelim_init(&rtr->icmp_rl, VPC_ICMP_RATE, VPC_ICMP_BURST, os_now_ns());
	if ((rtr->table = rtable_build(rtr, NULL, 0)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	return (0);
}

/* Take the router out of attachment i's port (no table rebuilt). */
static void
unplug(struct vpc_router *rtr, uint32_t i)
{
	struct vpc_port *p = rtr->att[i].port;

	vpc_store(p->peer, NULL);
	memmove(&rtr->att[i], &rtr->att[i + 1],
	    (rtr->natt - i - 1) * sizeof(rtr->att[0]));
	rtr->natt--;
	if (!p->sw->obj.dead)
		vpc_obj_changed(&p->sw->obj, 0);
	vpc_obj_rele(&rtr->obj);        /* the port's reference */
}

static void
router_kill(struct vpc_obj *o)
{
	struct vpc_router *rtr = obj2rtr(o);
	struct vpc_rtable *t;

	VPC_ASSERT_CTL(o->sys);
	vpc_obj_ref(o);                 /* the ports' releases must not free it */
	vpc_rt_stage_free(rtr);
	while (rtr->natt > 0)
		unplug(rtr, rtr->natt - 1);
	if (rtr->nat != NULL)
		vpc_router_nat_gone(rtr);
	/* An empty table: nothing reaches a switch through it any more. */
	if ((t = rtable_build(rtr, NULL, 0)) != NULL)
		rtable_publish(rtr, t);
	vpc_obj_rele(o);
}

static void
router_fini(struct vpc_obj *o)
{
	struct vpc_router *rtr = obj2rtr(o);

	vpc_rt_stage_free(rtr);         /* init failed: never killed */
	if (rtr->table != NULL)
		rtable_free(rtr->table);
	vpc_free(rtr->custom, rtr->capcustom * sizeof(*rtr->custom));
	vpc_counters_free(rtr->ctr, VPC_RTRSTAT_COUNT);
}

/* A handle on it closed: a stage it began goes with it. */
static void
router_closed(struct vpc_obj *o, const struct vpc_hdl *h)
{
	struct vpc_router *rtr = obj2rtr(o);

	if (rtr->stage != NULL && vpc_rt_stage_owner(rtr) == h)
		vpc_rt_stage_free(rtr);
}

const struct vpc_objops vpc_router_ops = {
	.size = sizeof(struct vpc_router),
	.init = router_init,
	.kill = router_kill,
	.fini = router_fini,
	.closed = router_closed,
};

/* The router port p is going away (its switch or itself is killed). */
void
vpc_router_port_gone(struct vpc_port *p)
{
	struct vpc_router *rtr;
	uint32_t i;

	VPC_ASSERT_CTL(p->obj.sys);
	if (p->peer == NULL || p->peer->type != VPC_TYPE_ROUTER)
		return;
	rtr = obj2rtr(p->peer);
	for (i = 0; i < rtr->natt && rtr->att[i].port != p; i++)
		;
	if (i == rtr->natt)
		return;
	vpc_obj_ref(&rtr->obj);
	unplug(rtr, i);
	rebuild(rtr);
	vpc_obj_rele(&rtr->obj);
}

void
vpc_router_switch_changed(struct vpc_switch *sw)
{
	struct vpc_port *p = sw->router;

	VPC_ASSERT_CTL(sw->obj.sys);
	if (p != NULL && p->peer != NULL && p->peer->type == VPC_TYPE_ROUTER)
		rebuild(obj2rtr(p->peer));
}

/* ---- Attachments ---------------------------------------------------------------- */

static void
describe_att(const struct vpc_rtr_att *a, vpc_rtr_attach_t *out)
{
	const struct vpc_swcfg *c = a->sw->cfg;

	memset(out, 0, sizeof(*out));
	out->switch_id = a->sw->obj.id;
	out->flags = VPC_GW_MAC | (c->gw.has4 ? VPC_GW_ADDR4 : 0) |
	    (c->gw.has6 ? VPC_GW_ADDR6 : 0);
	memcpy(out->mac, c->gw.mac, 6);
	if (c->gw.has4)
		memcpy(out->addr4, c->gw.addr4, 4);
	if (c->gw.has6)
		memcpy(out->addr6, c->gw.addr6, 16);
	out->vni = a->sw->vni;
	out->plen4 = c->sub4.plen;
	out->plen6 = c->sub6.plen;
}

static struct vpc_switch *
switch_by_id(struct vpc_sys *sys, const vpc_id_t *id)
{
	struct vpc_obj *o = vpc_reg_lookup(sys, id);

	return (o != NULL && o->type == VPC_TYPE_SWITCH && !o->dead ? obj2sw(o) : NULL);
}

int
vpc_op_rtr_attach(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	struct vpc_rtable *t;
	struct vpc_switch *sw;
	struct vpc_port *p;
	vpc_rtr_attach_t req;
	vpc_sw_gateway_t gw, oldgw;
	struct vpc_rtr_att *a;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!vpc_all_zero(req._pad0, sizeof(req._pad0)) ||
	    !vpc_all_zero(req._pad1, sizeof(req._pad1)) || req.vni != 0 ||
	    req.plen4 != 0 || req.plen6 != 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((sw = switch_by_id(x->sys, &req.switch_id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	memset(&gw, 0, sizeof(gw));
	gw.flags = req.flags;
	memcpy(gw.addr4, req.addr4, 4);
	memcpy(gw.mac, req.mac, 6);
	memcpy(gw.addr6, req.addr6, 16);
	if ((error = vpc_gateway_check(sw, &gw)) != 0)
		return (error);
	if ((p = sw->router) == NULL)
		return (VPC_ERR(VPC_ENXIO));
	if (p->peer != NULL)
		return (p->peer->type == VPC_TYPE_ROUTER ? VPC_ERR(VPC_EEXIST) :
		    VPC_ERR(VPC_EBUSY));
	if (rtr->natt >= VPC_RTR_MAX_ATTACH)
		return (VPC_ERR(VPC_ENOSPC));
	/* The table first, then the gateway: either may fail, nothing changed. */
	a = &rtr->att[rtr->natt++];
	a->sw = sw;
	a->port = p;
	a->serial = rtr->next_serial;
	t = rtable_build(rtr, rtr->custom, rtr->ncustom);
	rtr->natt--;
	if (t == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if (req.flags != 0) {
		oldgw = sw->gw_conf;
		sw->gw_conf = gw;
		if (!vpc_swcfg_republish(sw)) {
			sw->gw_conf = oldgw;
			rtable_free(t);
			return (VPC_ERR(VPC_ENOMEM));
		}
	}
	rtr->natt++;
	rtr->next_serial += 2;                  /* its IPv4 and IPv6 routes */
	vpc_obj_ref(&rtr->obj);                 /* the port's link */
	vpc_store(p->peer, &rtr->obj);
	rtable_publish(rtr, t);
	vpc_obj_changed(&sw->obj, 0);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_rtr_detach(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	struct vpc_rtable *t;
	struct vpc_rtr_att saved;
	vpc_rtr_attach_t req;
	uint32_t i;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (req.flags != 0 || !vpc_all_zero(req.addr4, 4) ||
	    !vpc_all_zero(req.mac, 6) || !vpc_all_zero(req._pad0, sizeof(req._pad0)) ||
	    !vpc_all_zero(req.addr6, 16) || req.vni != 0 || req.plen4 != 0 ||
	    req.plen6 != 0 || !vpc_all_zero(req._pad1, sizeof(req._pad1)))
		return (VPC_ERR(VPC_EINVAL));
	for (i = 0; i < rtr->natt; i++)
		if (memcmp(&rtr->att[i].sw->obj.id, &req.switch_id, 16) == 0)
			break;
	if (i == rtr->natt)
		return (VPC_ERR(VPC_ENOENT));
	/* Build the table without it first: ENOMEM changes nothing. */
	saved = rtr->att[i];
	memmove(&rtr->att[i], &rtr->att[i + 1], (rtr->natt - i - 1) * sizeof(saved));
	rtr->natt--;
	t = rtable_build(rtr, rtr->custom, rtr->ncustom);
	memmove(&rtr->att[i + 1], &rtr->att[i], (rtr->natt - i) * sizeof(saved));
	rtr->att[i] = saved;
	rtr->natt++;
	if (t == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	unplug(rtr, i);
	rtable_publish(rtr, t);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_rtr_list_attach(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	size_t fit = x->vallen / sizeof(vpc_rtr_attach_t);
	vpc_rtr_attach_t out;
	uint32_t i;

	if (fit < rtr->natt) {
		x->vallen = rtr->natt * sizeof(out);
		return (VPC_ERR(VPC_ERANGE));
	}
	for (i = 0; i < rtr->natt; i++) {
		describe_att(&rtr->att[i], &out);
		memcpy((char *)x->val + i * sizeof(out), &out, sizeof(out));
	}
	x->vallen = rtr->natt * sizeof(out);
	return (0);
}

/* ---- Routes ---------------------------------------------------------------------- */

static bool
addr_multicast(uint8_t af, const uint8_t *a)
{
	return (af == VPC_AF_INET ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff);
}

/* What a route key may carry at all: family, length, host bits, padding. */
static int
check_prefix(const vpc_rt_route_t *r)
{
	unsigned alen, i;

	if (r->af != VPC_AF_INET && r->af != VPC_AF_INET6)
		return (VPC_ERR(VPC_EAFNOSUPPORT));
	alen = alen_of(r->af);
	if (r->prefixlen > alen * 8 || !vpc_all_zero(r->prefix + alen, 16 - alen) ||
	    !vpc_all_zero(r->_pad0, sizeof(r->_pad0)) || r->flags != 0 ||
	    r->serial != 0)
		return (VPC_ERR(VPC_EINVAL));
	for (i = r->prefixlen; i < alen * 8; i++)
		if (bit_at(r->prefix, i))
			return (VPC_ERR(VPC_EINVAL));   /* host bits set */
	return (0);
}

/*
 * A custom route as ROUTE_SET takes it (ROUTE_DEL: only its shape; the
 * switch and next hop need not be usable to be deleted).
 */
int
vpc_rt_check(const struct vpc_router *rtr, const vpc_rt_route_t *r, bool set)
{
	unsigned alen;
	uint32_t i;
	int error;

	if ((error = check_prefix(r)) != 0)
		return (error);
	alen = alen_of(r->af);
	if (r->cls != 0 && r->cls != VPC_RT_CUSTOM &&
	    (set || r->cls != VPC_RT_CONNECTED))
		return (VPC_ERR(VPC_EINVAL));
	/* A multicast destination, or an unspecified one but the default route. */
	if (addr_multicast(r->af, r->prefix) || (r->prefixlen != 0 &&
	    (r->af == VPC_AF_INET ? r->prefix[0] == 0 : vpc_all_zero(r->prefix, 16))))
		return (VPC_ERR(VPC_EINVAL));
	switch (r->target) {
	case VPC_RT_SUBNET:
		if (!vpc_all_zero(r->nexthop, 16) || vpc_id_is_nil(&r->switch_id))
			return (VPC_ERR(VPC_EINVAL));
		if (set && att_of_switch(rtr, &r->switch_id) == NULL)
			return (VPC_ERR(VPC_ENXIO));
		break;
	case VPC_RT_NEXTHOP:
		if (!vpc_id_is_nil(&r->switch_id) ||
		    !vpc_all_zero(r->nexthop + alen, 16 - alen) ||
		    !vpc_nbr_addr_ok(r->af, r->nexthop))
			return (VPC_ERR(VPC_EINVAL));
		if (!set)
			break;
		for (i = 0; i < rtr->natt; i++) {
			const struct vpc_gateway *g = &rtr->att[i].sw->cfg->gw;

			if ((r->af == VPC_AF_INET && g->has4 &&
			    memcmp(g->addr4, r->nexthop, 4) == 0) ||
			    (r->af == VPC_AF_INET6 && g->has6 &&
			    memcmp(g->addr6, r->nexthop, 16) == 0))
				return (VPC_ERR(VPC_EINVAL));   /* ourselves */
		}
		if (att_holding(rtr, r->af, r->nexthop) == NULL)
			return (VPC_ERR(VPC_EADDRNOTAVAIL));
		break;
	case VPC_RT_INTERNET:
		if (!vpc_all_zero(r->nexthop, 16) || !vpc_id_is_nil(&r->switch_id))
			return (VPC_ERR(VPC_EINVAL));
		if (set && rtr->nat == NULL)
			return (VPC_ERR(VPC_EOPNOTSUPP));       /* no NAT attached */
		break;
	case VPC_RT_DROP:
		if (!vpc_all_zero(r->nexthop, 16) || !vpc_id_is_nil(&r->switch_id))
			return (VPC_ERR(VPC_EINVAL));
		break;
	default:
		return (VPC_ERR(VPC_EINVAL));
	}
	return (0);
}

/* Same prefix, target and class (the class is always custom here). */
bool
vpc_rt_same(const vpc_rt_route_t *a, const vpc_rt_route_t *b)
{
	return (a->af == b->af && a->prefixlen == b->prefixlen &&
	    a->target == b->target && memcmp(a->prefix, b->prefix, 16) == 0 &&
	    memcmp(a->nexthop, b->nexthop, 16) == 0 &&
	    memcmp(&a->switch_id, &b->switch_id, 16) == 0);
}

static int
find_custom(const struct vpc_router *rtr, const vpc_rt_route_t *r)
{
	uint32_t i;

	for (i = 0; i < rtr->ncustom; i++)
		if (vpc_rt_same(&rtr->custom[i], r))
			return ((int)i);
	return (-1);
}

/* Install a new custom array c (cap entries, n used) and its table t. */
static void
commit_routes(struct vpc_router *rtr, vpc_rt_route_t *c, uint32_t n,
    uint32_t cap, struct vpc_rtable *t)
{
	if (c != rtr->custom)
		vpc_free(rtr->custom, rtr->capcustom * sizeof(*rtr->custom));
	rtr->custom = c;
	rtr->ncustom = n;
	rtr->capcustom = cap;
	rtable_publish(rtr, t);
}

static void
normalize(vpc_rt_route_t *r, uint64_t serial)
{
	r->txn = 0;
	r->cls = VPC_RT_CUSTOM;
	r->serial = serial;
}

int
vpc_op_rtr_route_set(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	vpc_rt_route_t req, *c;
	struct vpc_rtable *t;
	uint32_t cap;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((error = vpc_rt_check(rtr, &req, true)) != 0)
		return (error);
	if (find_custom(rtr, &req) >= 0)
		return (VPC_ERR(VPC_EEXIST));
	if (rtr->ncustom >= VPC_RTR_MAX_ROUTES)
		return (VPC_ERR(VPC_ENOSPC));
	/* A copy with the new route at the end (serials only grow). */
	cap = rtr->ncustom + 1 > rtr->capcustom ?
	    (rtr->capcustom == 0 ? 8 : rtr->capcustom * 2) : rtr->capcustom;
	if (cap > VPC_RTR_MAX_ROUTES)
		cap = VPC_RTR_MAX_ROUTES;
	if (cap != rtr->capcustom) {
		if ((c = vpc_alloc(cap * sizeof(*c), VPC_M_WAITOK)) == NULL)
			return (VPC_ERR(VPC_ENOMEM));
		if (rtr->ncustom > 0)
			memcpy(c, rtr->custom, rtr->ncustom * sizeof(*c));
	} else
		c = rtr->custom;
	normalize(&req, rtr->next_serial);
	c[rtr->ncustom] = req;
	if ((t = rtable_build(rtr, c, rtr->ncustom + 1)) == NULL) {
		if (c != rtr->custom)
			vpc_free(c, cap * sizeof(*c));
		return (VPC_ERR(VPC_ENOMEM));
	}
	rtr->next_serial++;
	commit_routes(rtr, c, rtr->ncustom + 1, cap, t);
	vpc_obj_changed(x->obj, ((const vpc_rt_route_t *)x->key)->txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_rtr_route_del(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	struct vpc_rtable *t;
	vpc_rt_route_t req, gone;
	int error, i;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((error = vpc_rt_check(rtr, &req, false)) != 0)
		return (error);
	/* Connected routes go only with their attachment. */
	if (req.cls == VPC_RT_CONNECTED || (i = find_custom(rtr, &req)) < 0)
		return (VPC_ERR(VPC_ENOENT));
	/* In place, undone if the new table cannot be had. */
	gone = rtr->custom[i];
	memmove(&rtr->custom[i], &rtr->custom[i + 1],
	    (rtr->ncustom - (uint32_t)i - 1) * sizeof(gone));
	if ((t = rtable_build(rtr, rtr->custom, rtr->ncustom - 1)) == NULL) {
		memmove(&rtr->custom[i + 1], &rtr->custom[i],
		    (rtr->ncustom - (uint32_t)i - 1) * sizeof(gone));
		rtr->custom[i] = gone;
		return (VPC_ERR(VPC_ENOMEM));
	}
	rtr->ncustom--;
	rtable_publish(rtr, t);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

static void
describe_rt(const struct vpc_rt *r, vpc_rt_route_t *out)
{
	memset(out, 0, sizeof(*out));
	out->af = r->af;
	out->prefixlen = r->plen;
	out->target = r->target;
	out->cls = r->cls;
	memcpy(out->prefix, r->prefix, 16);
	memcpy(out->nexthop, r->nexthop, 16);
	if (r->sw != NULL)
		out->switch_id = r->sw->obj.id;
	else
		out->switch_id = r->swid;
	if (r->sw == NULL && (r->target == VPC_RT_SUBNET || r->target == VPC_RT_NEXTHOP))
		out->flags |= VPC_RT_F_UNUSABLE;
	out->serial = r->serial;
}

int
vpc_op_rtr_route_get(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	const struct vpc_rt *r;
	vpc_rt_route_t req, out;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = check_prefix(&req)) != 0)
		return (error);
	if (req.txn != 0 || req.target != 0 || req.cls != 0 ||
	    !vpc_all_zero(req.nexthop, 16) || !vpc_id_is_nil(&req.switch_id))
		return (VPC_ERR(VPC_EINVAL));
	if ((r = find_prefix(rtr->table, req.af, req.prefixlen, req.prefix)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	describe_rt(r, &out);
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

int
vpc_op_rtr_route_lookup(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	const struct vpc_rt *r;
	vpc_rt_route_t req, out;
	unsigned alen;

	memcpy(&req, x->key, sizeof(req));
	if (req.af != VPC_AF_INET && req.af != VPC_AF_INET6)
		return (VPC_ERR(VPC_EAFNOSUPPORT));
	alen = alen_of(req.af);
	if (req.txn != 0 || req.prefixlen != 0 || req.target != 0 || req.cls != 0 ||
	    !vpc_all_zero(req.prefix + alen, 16 - alen) ||
	    !vpc_all_zero(req.nexthop, 16) || !vpc_id_is_nil(&req.switch_id) ||
	    req.flags != 0 || !vpc_all_zero(req._pad0, 4) || req.serial != 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((r = vpc_rtable_lookup(rtr->table, req.af, req.prefix)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	describe_rt(r, &out);
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

int
vpc_op_rtr_route_dump(struct vpc_ctx *x)
{
	const struct vpc_rtable *t = obj2rtr(x->obj)->table;
	size_t fit = x->vallen / sizeof(vpc_rt_route_t), n = 0;
	vpc_rt_route_t out;
	vpc_list_req_t req;
	uint32_t lo = 0, hi;

	memcpy(&req, x->key, sizeof(req));
	if (req.obj_type != 0 || !vpc_all_zero(req._pad0, sizeof(req._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	/* Routes are in serial order: the first after the marker. */
	hi = t->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->r[mid].serial <= req.marker)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (fit == 0 && lo < t->n) {
		size_t need = (t->n - lo) * sizeof(out);

		x->vallen = need < VPC_CTL_MAX_VALLEN ? need :
		    VPC_CTL_MAX_VALLEN - VPC_CTL_MAX_VALLEN % sizeof(out);
		return (VPC_ERR(VPC_ERANGE));
	}
	for (; lo < t->n && n < fit; lo++, n++) {
		describe_rt(&t->r[lo], &out);
		memcpy((char *)x->val + n * sizeof(out), &out, sizeof(out));
	}
	x->vallen = n * sizeof(out);
	return (0);
}

/* A hash of what vpc_rt_same compares (duplicate checks). */
uint32_t
vpc_rt_hash(const struct vpc_router *rtr, const vpc_rt_route_t *r)
{
	uint64_t hv;

	hv = key_hash(rtr->seed, r->af, r->prefixlen, r->prefix) ^
	    (uint64_t)r->target * 0x9e3779b97f4a7c15ULL;
	hv ^= key_hash(rtr->seed, r->target, 0, r->nexthop);
	hv ^= key_hash(rtr->seed, 0, 1, r->switch_id.bytes);
	return ((uint32_t)hv);
}

/* EEXIST if two of c[0..n) are the same route (a hash of their keys). */
static int
no_duplicates(const struct vpc_router *rtr, const vpc_rt_route_t *c, uint32_t n)
{
	uint32_t nslots, *slot, i, h, s;
	int error = 0;

	for (nslots = 16; nslots < 2 * n; nslots *= 2)
		;
	if ((slot = vpc_alloc(nslots * sizeof(*slot), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	memset(slot, 0, nslots * sizeof(*slot));
	for (i = 0; i < n && error == 0; i++) {
		for (h = vpc_rt_hash(rtr, &c[i]) & (nslots - 1); (s = slot[h]) != 0;
		    h = (h + 1) & (nslots - 1)) {
			if (vpc_rt_same(&c[s - 1], &c[i])) {
				error = VPC_ERR(VPC_EEXIST);
				break;
			}
		}
		slot[h] = i + 1;
	}
	vpc_free(slot, nslots * sizeof(*slot));
	return (error);
}

int
vpc_op_rtr_route_replace(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	const vpc_rt_route_t *in = x->key;
	size_t n = x->keylen / sizeof(vpc_rt_route_t), i, cap;
	vpc_rt_route_t first, r, *c = NULL;
	struct vpc_rtable *t;
	vpc_txn_t txn;
	int error;

	memcpy(&first, &in[0], sizeof(first));
	txn = first.txn;
	if ((error = vpc_txn_check(x->obj, txn)) != 0)
		return (error);
	if (n > VPC_RTR_MAX_ROUTES)
		return (VPC_ERR(VPC_ENOSPC));
	/* "No routes": one entry of target NONE and nothing else. */
	if (first.target == VPC_RT_NONE) {
		first.txn = 0;
		if (n != 1 || !vpc_all_zero(&first, sizeof(first)))
			return (VPC_ERR(VPC_EINVAL));
		n = 0;
	}
	cap = n > 0 ? n : 0;
	if (cap > 0 && (c = vpc_alloc(cap * sizeof(*c), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	for (i = 0; i < n; i++) {
		memcpy(&r, &in[i], sizeof(r));
		if (r.txn != 0 && r.txn != txn)
			error = VPC_ERR(VPC_EINVAL);
		else {
			r.txn = 0;
			error = vpc_rt_check(rtr, &r, true);
		}
		if (error != 0) {
			vpc_free(c, cap * sizeof(*c));
			return (error);
		}
		normalize(&r, rtr->next_serial + i);
		c[i] = r;
	}
	if (n > 1 && (error = no_duplicates(rtr, c, (uint32_t)n)) != 0) {
		vpc_free(c, cap * sizeof(*c));
		return (error);
	}
	if ((t = rtable_build(rtr, c, (uint32_t)n)) == NULL) {
		if (c != NULL)
			vpc_free(c, cap * sizeof(*c));
		return (VPC_ERR(VPC_ENOMEM));
	}
	rtr->next_serial += n;
	commit_routes(rtr, c, (uint32_t)n, (uint32_t)cap, t);
	vpc_obj_changed(x->obj, txn);
	x->vallen = 0;
	return (0);
}

/*
 * Make c[0..n) (each checked by vpc_rt_check, no two the same; cap entries
 * allocated) the custom routes, numbered from the next serial, and publish
 * their table.  0: c is the router's now.  ENOMEM: nothing changed, c is
 * still the caller's and as it was.
 */
int
vpc_rtr_install_custom(struct vpc_router *rtr, vpc_rt_route_t *c, uint32_t n,
    uint32_t cap)
{
	struct vpc_rtable *t;
	uint32_t i;

	for (i = 0; i < n; i++)
		normalize(&c[i], rtr->next_serial + i);
	if ((t = rtable_build(rtr, c, n)) == NULL) {
		for (i = 0; i < n; i++)
			c[i].cls = 0, c[i].serial = 0;
		return (VPC_ERR(VPC_ENOMEM));
	}
	rtr->next_serial += n;
	commit_routes(rtr, c, n, cap, t);
	return (0);
}

int
vpc_op_rtr_get_stats(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	vpc_rtr_stats_t st;
	unsigned i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < VPC_RTRSTAT_COUNT; i++)
		st.c[i] = os_counter_fetch(rtr->ctr[i]);
	memcpy(x->val, &st, sizeof(st));
	return (0);
}

/* ---- The NAT (RTR_SET_NAT) ------------------------------------------------------- */

/* The router lets go of its NAT: INTERNET routes lead nowhere until
 * another is attached (their frames get ICMP unreachable). */
void
vpc_router_nat_gone(struct vpc_router *rtr)
{
	struct vpc_natgw *ng = rtr->nat;

	VPC_ASSERT_CTL(rtr->obj.sys);
	if (ng == NULL)
		return;
	vpc_store(rtr->nat, NULL);
	vpc_store(ng->rtr, NULL);
	if (!ng->obj.dead)
		vpc_obj_changed(&ng->obj, 0);
	if (!rtr->obj.dead)
		vpc_obj_changed(&rtr->obj, 0);
	vpc_obj_rele(&ng->obj);         /* the router's reference */
}

static bool
has_internet_routes(const struct vpc_router *rtr)
{
	uint32_t i;

	for (i = 0; i < rtr->ncustom; i++)
		if (rtr->custom[i].target == VPC_RT_INTERNET)
			return (true);
	return (false);
}

int
vpc_op_rtr_set_nat(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	struct vpc_natgw *ng;
	vpc_rtr_nat_t req;
	struct vpc_obj *o;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!vpc_all_zero(req._pad0, sizeof(req._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	x->vallen = 0;
	if (vpc_id_is_nil(&req.nat_id)) {
		if (rtr->nat == NULL)
			return (0);
		if (has_internet_routes(rtr))
			return (VPC_ERR(VPC_EBUSY));
		vpc_router_nat_gone(rtr);
		vpc_obj_changed(x->obj, req.txn);
		return (0);
	}
	if ((o = vpc_reg_lookup(x->sys, &req.nat_id)) == NULL || o->dead)
		return (VPC_ERR(VPC_ENOENT));
	if (o->type != VPC_TYPE_NAT)
		return (VPC_ERR(VPC_EINVAL));
	ng = obj2natgw(o);
	if (ng == rtr->nat)
		return (0);
	if (rtr->nat != NULL)
		return (VPC_ERR(VPC_EEXIST));
	if (ng->rtr != NULL)
		return (VPC_ERR(VPC_EBUSY));
	vpc_obj_ref(o);
	vpc_store(ng->rtr, rtr);
	vpc_store(rtr->nat, ng);
	vpc_obj_changed(o, 0);
	vpc_obj_changed(x->obj, req.txn);
	return (0);
}

int
vpc_op_rtr_get_nat(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	vpc_rtr_nat_t out;

	memset(&out, 0, sizeof(out));
	if (rtr->nat != NULL)
		out.nat_id = rtr->nat->obj.id;
	memcpy(x->val, &out, sizeof(out));
	return (0);
}
