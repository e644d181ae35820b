/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nbr.c: a switch's neighbour table, (af, IP) -> MAC, what the switch
 * answers ARP requests and neighbour solicitations from (vpc_arp.c,
 * vpc_nd.c).  It is the CAM's keyed table (vpc_ktab.h) with another key:
 * immutable entries, a published slot array read in the epoch without a
 * lock, writers under the switch's mutex, old entries freed after the
 * epoch, expiry checked at lookup, the switch's sweeper reclaiming.
 *
 * Entries are FOUND (the directory's answer: this MAC), NEGATIVE (known
 * absent: not answered) or LOCAL: the addresses a plugged vmnic was given
 * (NIC_SET_ADDR), owned by its port as the CAM's local entries are; ops
 * cannot set, delete or flush them.
 */
#include "vpc_ktab.h"

struct vpc_nbr {
	struct vpc_ktab kt;             /* its array published, the rest sw->mtx */
};

static void
ent_free_deferred(struct os_defer *d)
{
	struct vpc_nbr_ent *e = (struct vpc_nbr_ent *)((char *)d -
	    __builtin_offsetof(struct vpc_nbr_ent, k.defer));

	vpc_free(e, sizeof(*e));
}

int
vpc_nbr_create(struct vpc_switch *sw)
{
	struct vpc_nbr *nbr;
	int error;

	_Static_assert(__builtin_offsetof(struct vpc_nbr_ent, addr) == 4 &&
	    __builtin_offsetof(struct vpc_nbr_ent, kind) == VPC_NBR_KEYLEN &&
	    sizeof(vpc_nbr_key_t) == VPC_NBR_KEYLEN, "neighbour key layout");
	_Static_assert(sizeof(struct vpc_nbr_ent) <= 72,
	    "a neighbour entry fits 72 bytes");
	if ((nbr = vpc_alloc(sizeof(*nbr), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((error = vpc_ktab_init(&nbr->kt, VPC_NBR_KEYLEN,
	    __builtin_offsetof(struct vpc_nbr_ent, k), sizeof(struct vpc_nbr_ent),
	    ent_free_deferred)) != 0) {
		vpc_free(nbr, sizeof(*nbr));
		return (error);
	}
	sw->nbr = nbr;
	return (0);
}

void
vpc_nbr_destroy(struct vpc_switch *sw)
{
	if (sw->nbr == NULL)
		return;
	vpc_ktab_fini(&sw->nbr->kt);
	vpc_free(sw->nbr, sizeof(*sw->nbr));
	sw->nbr = NULL;
}

static void
key_of(uint8_t af, const uint8_t *addr, uint8_t k[VPC_NBR_KEYLEN])
{
	memset(k, 0, VPC_NBR_KEYLEN);
	k[0] = af;
	memcpy(k + 4, addr, af == VPC_AF_INET ? 4 : 16);
}

bool
vpc_nbr_addr_ok(uint8_t af, const uint8_t a[16])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (af == VPC_AF_INET)
		return (a[0] != 0 && a[0] != 127 && a[0] < 224);    /* 0/8, loopback,
		                                * multicast, class E and broadcast */
	if (vpc_all_zero(a, 16) || a[0] == 0xff)
		return (false);
	if (vpc_all_zero(a, 15) && a[15] == 1)
		return (false);
	return (memcmp(a, v4mapped, 12) != 0);
}

/* ---- The data path -------------------------------------------------------- */

/*
 * The key's words (vpc_ktab.h) made straight from (af, addr), as
 * vpc_ktab_words reads them from the key's bytes (af, three zero bytes, the
 * address; IPv4's followed by 12 zero bytes): words loaded from a key just
 * built on the stack would be loaded across the stores that wrote it, which
 * stalls (store forwarding fails: ~20 ns a lookup).  vpc_nbr_check holds
 * the two to each other.
 */
static inline void
key_words(uint8_t af, const uint8_t *addr, uint64_t w[4])
{
	w[0] = af | (uint64_t)vpc_ktab_le16(addr) << 32;
	if (af == VPC_AF_INET) {
		w[1] = vpc_ktab_le16(addr + 2);
		w[2] = w[3] = 0;
	} else {
		w[1] = vpc_ktab_word(addr + 2, 6);
		w[2] = vpc_ktab_word(addr + 8, 6);
		w[3] = vpc_ktab_le16(addr + 14);
	}
}

const struct vpc_nbr_ent *
vpc_nbr_lookup(struct vpc_switch *sw, uint8_t af, const uint8_t *addr)
{
	const struct vpc_nbr *nbr = sw->nbr;
	const struct vpc_nbr_ent *e;
	uint64_t w[4];

	VPC_ASSERT_EPOCH();
	key_words(af, addr, w);
	e = vpc_ktab_probe_words(&nbr->kt, vpc_load(nbr->kt.tab), w,
	    VPC_NBR_KEYLEN);
	if (e != NULL && e->k.expire_ns != 0 && vpc_ttl_now() >= e->k.expire_ns)
		return (NULL);
	return (e);
}

/*
 * The router asks for the same neighbour frame after frame (a VM's flow to
 * another subnet, an appliance next hop) and remembers the last answer with
 * the generation of sw's table read *before* the probe that found it.
 * While the table's generation is still that one, no entry of it has been
 * replaced or removed since (vpc_ktab.h: generations are unique across
 * tables, so it is also this switch's table), hence the entry is live
 * there; its key checked against the one asked for, it is the answer a
 * probe would give, for a load and a compare.  Any change (set, delete,
 * flush, expiry swept, a vmnic's address) moves the generation first, so
 * the next frame probes again.  Expiry is checked on every answer, as
 * vpc_nbr_lookup does.
 */
const struct vpc_nbr_ent *
vpc_nbr_lookup_hint(struct vpc_switch *sw, uint8_t af, const uint8_t *addr,
    const struct vpc_nbr_hint *hint, struct vpc_nbr_hint *out)
{
	const struct vpc_nbr *nbr = sw->nbr;
	const struct vpc_nbr_ent *e;
	uint64_t w[4];

	VPC_ASSERT_EPOCH();
	key_words(af, addr, w);
	out->gen = vpc_load(nbr->kt.gen);       /* before the probe: see above */
	if (hint != NULL && hint->gen == out->gen && hint->e != NULL &&
	    vpc_ktab_key_is(hint->e, w, VPC_NBR_KEYLEN))
		e = hint->e;
	else
		e = vpc_ktab_probe_words(&nbr->kt, vpc_load(nbr->kt.tab), w,
		    VPC_NBR_KEYLEN);
	out->e = e;
	if (e != NULL && e->k.expire_ns != 0 && vpc_ttl_now() >= e->k.expire_ns)
		return (NULL);
	return (e);
}

/* Written at most once per entry, so the line is not written per request. */
void
vpc_nbr_mark_used(const struct vpc_nbr_ent *e)
{
	if (__atomic_load_n(&e->used, __ATOMIC_RELAXED) == 0)
		__atomic_store_n(&((struct vpc_nbr_ent *)(uintptr_t)e)->used, 1,
		    __ATOMIC_RELAXED);
}

/* ---- Writers -------------------------------------------------------------- */

struct vpc_nbr_ent *
vpc_nbr_ent_new(void)
{
	return (vpc_alloc(sizeof(struct vpc_nbr_ent), VPC_M_WAITOK));
}

void
vpc_nbr_ent_free(struct vpc_nbr_ent *e)
{
	if (e != NULL)
		vpc_free(e, sizeof(*e));
}

/* The keyed table's callbacks take untyped entries: typed ones go through these. */
struct nbr_cb {
	bool (*match)(const struct vpc_nbr_ent *, void *);
	bool (*walk)(const struct vpc_nbr_ent *, uint64_t, void *);
	void *arg;
};

static bool
nbr_match_cb(const void *e, void *arg)
{
	const struct nbr_cb *cb = arg;

	return (cb->match(e, cb->arg));
}

static bool
nbr_walk_cb(const void *e, uint64_t cursor, void *arg)
{
	const struct nbr_cb *cb = arg;

	return (cb->walk(e, cursor, cb->arg));
}

int
vpc_nbr_reserve(struct vpc_switch *sw, uint32_t n)
{
	VPC_ASSERT_CTL(sw->obj.sys);
	return (vpc_ktab_reserve(&sw->nbr->kt, sw->mtx, n));
}

struct vpc_nbr_ent *
vpc_nbr_find(struct vpc_switch *sw, uint8_t af, const uint8_t *addr)
{
	uint8_t k[VPC_NBR_KEYLEN];

	VPC_ASSERT_MTX(sw->mtx);
	key_of(af, addr, k);
	return (vpc_ktab_find(&sw->nbr->kt, k));
}

void
vpc_nbr_put(struct vpc_switch *sw, struct vpc_nbr_ent *e)
{
	VPC_ASSERT_MTX(sw->mtx);
	(void)vpc_ktab_put(&sw->nbr->kt, e);
}

void
vpc_nbr_remove(struct vpc_switch *sw, struct vpc_nbr_ent *e)
{
	VPC_ASSERT_MTX(sw->mtx);
	vpc_ktab_remove(&sw->nbr->kt, e);
}

uint64_t
vpc_nbr_remove_if(struct vpc_switch *sw,
    bool (*match)(const struct vpc_nbr_ent *, void *), void *arg)
{
	struct nbr_cb cb = { match, NULL, arg };

	VPC_ASSERT_MTX(sw->mtx);
	return (vpc_ktab_remove_if(&sw->nbr->kt, nbr_match_cb, &cb));
}

int
vpc_nbr_walk(struct vpc_switch *sw, uint64_t marker,
    bool (*fn)(const struct vpc_nbr_ent *, uint64_t cursor, void *), void *arg)
{
	struct nbr_cb cb = { NULL, fn, arg };
	int error;

	os_mtx_lock(sw->mtx);
	error = vpc_ktab_walk(&sw->nbr->kt, marker, nbr_walk_cb, &cb);
	os_mtx_unlock(sw->mtx);
	return (error);
}

void
vpc_nbr_sweep(struct vpc_switch *sw, uint64_t now)
{
	VPC_ASSERT_MTX(sw->mtx);
	vpc_ktab_sweep(&sw->nbr->kt, now);
}

uint32_t
vpc_nbr_count(struct vpc_switch *sw)
{
	return (sw->nbr->kt.used);
}

bool
vpc_nbr_install(struct vpc_switch *sw, struct vpc_nbr_ent *e, bool *stale,
    bool *announce)
{
	struct vpc_nbr_ent *cur;
	bool ok = false;

	*stale = *announce = false;
	os_mtx_lock(sw->mtx);
	cur = vpc_nbr_find(sw, e->af, e->addr);
	if (cur != NULL && cur->kind == VPC_NBR_LOCAL)
		;
	else if (cur != NULL && cur->k.revision > e->k.revision)
		*stale = true;
	else {
		/* Local VMs asked for the old MAC: they should hear of the new. */
		*announce = e->kind == VPC_NBR_FOUND && cur != NULL &&
		    cur->kind == VPC_NBR_FOUND &&
		    __atomic_load_n(&cur->used, __ATOMIC_RELAXED) != 0 &&
		    !vpc_kent_expired(&cur->k, vpc_ttl_now()) &&
		    memcmp(cur->mac, e->mac, 6) != 0;
		vpc_nbr_put(sw, e);
		ok = true;
	}
	os_mtx_unlock(sw->mtx);
	if (*stale)
		sw_count(sw, VPC_SWSTAT_NBR_STALE);
	return (ok);
}

/* ---- Local entries -------------------------------------------------------- */

int
vpc_nbr_local_prepare(struct vpc_switch *sw, struct vpc_nbr_local *l)
{
	int error;

	l->e[0] = vpc_nbr_ent_new();
	l->e[1] = vpc_nbr_ent_new();
	if (l->e[0] == NULL || l->e[1] == NULL) {
		vpc_nbr_local_discard(l);
		return (VPC_ERR(VPC_ENOMEM));
	}
	if ((error = vpc_nbr_reserve(sw, 2)) != 0) {
		vpc_nbr_local_discard(l);
		return (error);
	}
	return (0);
}

void
vpc_nbr_local_discard(struct vpc_nbr_local *l)
{
	vpc_nbr_ent_free(l->e[0]);
	vpc_nbr_ent_free(l->e[1]);
	l->e[0] = l->e[1] = NULL;
}

int
vpc_nbr_local_conflict(struct vpc_switch *sw, const struct vpc_port *p,
    const vpc_nic_addr_t *a)
{
	const struct vpc_nbr_ent *e4 = NULL, *e6 = NULL;

	os_mtx_lock(sw->mtx);
	if ((a->flags & VPC_NIC_ADDR_INET) != 0)
		e4 = vpc_nbr_find(sw, VPC_AF_INET, a->addr4);
	if ((a->flags & VPC_NIC_ADDR_INET6) != 0)
		e6 = vpc_nbr_find(sw, VPC_AF_INET6, a->addr6);
	if ((e4 != NULL && e4->kind == VPC_NBR_LOCAL && e4->port != p) ||
	    (e6 != NULL && e6->kind == VPC_NBR_LOCAL && e6->port != p)) {
		os_mtx_unlock(sw->mtx);
		return (VPC_ERR(VPC_EADDRINUSE));
	}
	os_mtx_unlock(sw->mtx);
	return (0);
}

static bool
owned_by(const struct vpc_nbr_ent *e, void *arg)
{
	return (e->kind == VPC_NBR_LOCAL && e->port == arg);
}

void
vpc_nbr_local_clear(struct vpc_switch *sw, struct vpc_port *p)
{
	os_mtx_lock(sw->mtx);
	(void)vpc_nbr_remove_if(sw, owned_by, p);
	os_mtx_unlock(sw->mtx);
}

static void
local_put(struct vpc_switch *sw, struct vpc_port *p, struct vpc_nbr_ent *e,
    uint8_t af, const uint8_t *addr, const uint8_t mac[6])
{
	memset(e, 0, sizeof(*e));
	e->af = af;
	memcpy(e->addr, addr, af == VPC_AF_INET ? 4 : 16);
	e->kind = VPC_NBR_LOCAL;
	memcpy(e->mac, mac, 6);
	e->port = p;
	vpc_nbr_put(sw, e);
}

/*
 * Port p's vmnic now has this MAC and these addresses.  A local address
 * replaces whatever the directory said of it.  Entries of l not used are
 * freed.  Called where nothing can fail any more.
 */
void
vpc_nbr_local_apply(struct vpc_switch *sw, struct vpc_port *p,
    const uint8_t mac[6], const vpc_nic_addr_t *a, struct vpc_nbr_local *l)
{
	os_mtx_lock(sw->mtx);
	(void)vpc_nbr_remove_if(sw, owned_by, p);
	if (!vpc_mac_is_zero(mac)) {
		if ((a->flags & VPC_NIC_ADDR_INET) != 0) {
			local_put(sw, p, l->e[0], VPC_AF_INET, a->addr4, mac);
			l->e[0] = NULL;
		}
		if ((a->flags & VPC_NIC_ADDR_INET6) != 0) {
			local_put(sw, p, l->e[1], VPC_AF_INET6, a->addr6, mac);
			l->e[1] = NULL;
		}
	}
	os_mtx_unlock(sw->mtx);
	vpc_nbr_local_discard(l);
}

/* ---- Checks (vpc_check.c) ----------------------------------------------------- */

static void
check_ent(const void *ent, struct vpc_check *c, void *arg)
{
	const struct vpc_nbr_ent *e = ent;
	struct vpc_switch *sw = arg;
	const struct vpc_nic_l3 *l3;
	const vpc_nic_addr_t *a;
	const struct vpc_nic *nic;
	uint64_t w[4], kw[4];

	c->checked += 3;
	key_words(e->af, e->addr, w);
	vpc_ktab_words(e, VPC_NBR_KEYLEN, kw);
	if (memcmp(w, kw, sizeof(w)) != 0)
		vpc_check_fail(c, "neighbours: the lookup's key words are the "
		    "key's", 0, 1);
	if (e->kind < VPC_NBR_LOCAL || e->kind > VPC_NBR_NEGATIVE ||
	    (e->af != VPC_AF_INET && e->af != VPC_AF_INET6))
		vpc_check_fail(c, "neighbours: entry kind and family", e->kind,
		    VPC_NBR_FOUND);
	if (e->kind != VPC_NBR_LOCAL)
		return;
	if (e->port == NULL || e->port->sw != sw || e->port->obj.dead ||
	    e->port->peer == NULL || e->port->peer->type != VPC_TYPE_NIC) {
		vpc_check_fail(c, "neighbours: a local entry names a live vmnic "
		    "port of this switch", 0, 1);
		return;
	}
	nic = obj2nic(e->port->peer);
	l3 = nic->l3;
	a = &l3->addr;
	if (memcmp(nic->mac, e->mac, 6) != 0 ||
	    (e->af == VPC_AF_INET ? (a->flags & VPC_NIC_ADDR_INET) == 0 ||
	    memcmp(a->addr4, e->addr, 4) != 0 : (a->flags & VPC_NIC_ADDR_INET6) == 0 ||
	    memcmp(a->addr6, e->addr, 16) != 0))
		vpc_check_fail(c, "neighbours: a local entry has its vmnic's "
		    "MAC and address", 0, 1);
}

void
vpc_nbr_check(struct vpc_switch *sw, struct vpc_check *c)
{
	os_mtx_lock(sw->mtx);
	vpc_ktab_check(&sw->nbr->kt, c, check_ent, sw);
	os_mtx_unlock(sw->mtx);
}
