/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_cam.c: a switch's forwarding entries, keyed by (destination MAC,
 * source MAC), on the keyed table of vpc_ktab.h: 64-byte buckets of seven
 * entry pointers and their one-byte tags, a keyed multiply hash of the two
 * MACs as 48-bit words, immutable entries that the data path reads in the
 * epoch without a lock, writers replacing entries whole under the switch's
 * mutex and retiring the old ones through the epoch.  The neighbour table
 * (vpc_nbr.c) is the same table with another key.
 *
 * Entries are 72 bytes (vpc_impl.h): a LOCAL entry's port shares room with
 * the others' address, and the control fields (generation, revision, TTL)
 * hold the deferred free once the entry is retired.
 *
 * Expiry is checked at lookup: an entry past its time stops matching at
 * once; the sweeper only reclaims memory.
 */
#include "vpc_ktab.h"

#define CAM_KEYLEN 12           /* dst, src */

struct vpc_cam {
	struct vpc_ktab     kt;         /* its array published, the rest sw->mtx */
	uint32_t            nspecific;  /* entries with a source MAC */
};

static void
ent_free_deferred(struct os_defer *d)
{
	struct vpc_cam_ent *e = (struct vpc_cam_ent *)((char *)d -
	    __builtin_offsetof(struct vpc_cam_ent, k.defer));

	vpc_free(e, sizeof(*e));
}

static void
ent_removed(struct vpc_ktab *kt, const void *ent)
{
	const struct vpc_cam_ent *e = ent;

	if (!vpc_mac_is_zero(e->src))
		((struct vpc_cam *)(void *)kt)->nspecific--;
}

int
vpc_cam_create(struct vpc_switch *sw)
{
	struct vpc_cam *cam;
	int error;

	_Static_assert(__builtin_offsetof(struct vpc_cam_ent, src) == 6 &&
	    __builtin_offsetof(struct vpc_cam, kt) == 0, "CAM key layout");
	_Static_assert(sizeof(struct vpc_cam_ent) <= 72, "a CAM entry fits 72 bytes");
	cam = vpc_alloc(sizeof(*cam), VPC_M_WAITOK | VPC_M_ZERO);
	if (cam == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((error = vpc_ktab_init(&cam->kt, CAM_KEYLEN,
	    __builtin_offsetof(struct vpc_cam_ent, k), sizeof(struct vpc_cam_ent),
	    ent_free_deferred)) != 0) {
		vpc_free(cam, sizeof(*cam));
		return (error);
	}
	cam->kt.removed = ent_removed;
	cam->nspecific = 0;
	sw->cam = cam;
	return (0);
}

/* The switch is gone and no reader can reach it: free everything now-ish. */
void
vpc_cam_destroy(struct vpc_switch *sw)
{
	struct vpc_cam *cam = sw->cam;

	if (cam == NULL)
		return;
	vpc_ktab_fini(&cam->kt);
	vpc_free(cam, sizeof(*cam));
	sw->cam = NULL;
}

/* ---- The data path -------------------------------------------------------- */

/* A MAC as a key word (vpc_ktab.h): the key (dst, src) is two of them. */
static inline uint64_t
mac_word(const uint8_t m[6])
{
	return (vpc_ktab_word(m, 6));
}

static VPC_HOT_INLINE const struct vpc_cam_ent *
probe_words(const struct vpc_cam *cam, const struct vpc_kslots *t,
    uint64_t d, uint64_t s)
{
	const uint64_t w[2] = { d, s };

	return (vpc_ktab_probe_words(&cam->kt, t, w, CAM_KEYLEN));
}

const struct vpc_cam_ent *
vpc_cam_lookup(struct vpc_switch *sw, const uint8_t dst[6],
    const uint8_t src[6])
{
	const struct vpc_cam *cam = sw->cam;
	const struct vpc_kslots *t = vpc_load(cam->kt.tab);
	const struct vpc_cam_ent *e = NULL;
	uint64_t d = mac_word(dst);

	VPC_ASSERT_EPOCH();
	if (vpc_load(cam->nspecific) != 0)
		e = probe_words(cam, t, d, mac_word(src));
	if (e == NULL)
		e = probe_words(cam, t, d, 0);
	/* Expired: it stops matching at once.  Static entries need no clock. */
	if (e != NULL && e->k.expire_ns != 0 && vpc_ttl_now() >= e->k.expire_ns)
		return (NULL);
	return (e);
}

/*
 * Hints for a caller that knows its next lookups ahead (a batch of frames):
 * the bucket a (dst, any) lookup starts at, then, once that line is in,
 * the entries its tags point at.  Prefetches only: they change nothing and
 * promise nothing.
 */
void
vpc_cam_prefetch(struct vpc_switch *sw, const uint8_t dst[6])
{
	const uint64_t w[2] = { mac_word(dst), 0 };

	vpc_ktab_prefetch(&sw->cam->kt, w, CAM_KEYLEN);
}

void
vpc_cam_prefetch_entry(struct vpc_switch *sw, const uint8_t dst[6])
{
	const uint64_t w[2] = { mac_word(dst), 0 };

	vpc_ktab_prefetch_entry(&sw->cam->kt, w, CAM_KEYLEN);
}

/*
 * Does the table outgrow the caches enough that a burst should prefetch
 * for it?  Judged by its published bucket array: at VPC_PREFETCH_MIN
 * entries' worth of buckets (it grows with the entries) and more.
 */
bool
vpc_cam_prefetch_pays(struct vpc_switch *sw)
{
	const struct vpc_kslots *t = vpc_load(sw->cam->kt.tab);

	return (((uint64_t)t->mask + 1) * VPC_KTAB_BSLOTS >= vpc_prefetch_min);
}

/*
 * For a burst's hints (vpc_fwd_burst.c): the entry a (dst, any) lookup
 * finds, expired or not (no clock read), or NULL.  Reads only, in the
 * epoch; the frame's real lookup is vpc_cam_lookup's, later.
 */
const struct vpc_cam_ent *
vpc_cam_peek(struct vpc_switch *sw, const uint8_t dst[6])
{
	const struct vpc_cam *cam = sw->cam;

	VPC_ASSERT_EPOCH();
	return (probe_words(cam, vpc_load(cam->kt.tab), mac_word(dst), 0));
}

/* ---- Writers -------------------------------------------------------------- */

struct vpc_cam_ent *
vpc_cam_ent_new(void)
{
	return (vpc_alloc(sizeof(struct vpc_cam_ent), VPC_M_WAITOK));
}

void
vpc_cam_ent_free(struct vpc_cam_ent *e)
{
	vpc_free(e, sizeof(*e));
}

/* The keyed table's callbacks take untyped entries: typed ones go through these. */
struct cam_cb {
	bool (*match)(const struct vpc_cam_ent *, void *);
	bool (*walk)(const struct vpc_cam_ent *, uint64_t, void *);
	void *arg;
};

static bool
cam_match_cb(const void *e, void *arg)
{
	const struct cam_cb *cb = arg;

	return (cb->match(e, cb->arg));
}

static bool
cam_walk_cb(const void *e, uint64_t cursor, void *arg)
{
	const struct cam_cb *cb = arg;

	return (cb->walk(e, cursor, cb->arg));
}

int
vpc_cam_reserve(struct vpc_switch *sw, uint32_t n)
{
	VPC_ASSERT_CTL(sw->obj.sys);
	return (vpc_ktab_reserve(&sw->cam->kt, sw->mtx, n));
}

struct vpc_cam_ent *
vpc_cam_find(struct vpc_switch *sw, const uint8_t dst[6], const uint8_t src[6])
{
	uint8_t k[CAM_KEYLEN];

	VPC_ASSERT_MTX(sw->mtx);
	memcpy(k, dst, 6);
	memcpy(k + 6, src, 6);
	return (vpc_ktab_find(&sw->cam->kt, k));
}

void
vpc_cam_put(struct vpc_switch *sw, struct vpc_cam_ent *e)
{
	VPC_ASSERT_MTX(sw->mtx);
	if (vpc_ktab_put(&sw->cam->kt, e) && !vpc_mac_is_zero(e->src))
		sw->cam->nspecific++;
}

void
vpc_cam_remove(struct vpc_switch *sw, struct vpc_cam_ent *e)
{
	VPC_ASSERT_MTX(sw->mtx);
	vpc_ktab_remove(&sw->cam->kt, e);
}

uint64_t
vpc_cam_remove_if(struct vpc_switch *sw,
    bool (*match)(const struct vpc_cam_ent *, void *), void *arg)
{
	struct cam_cb cb = { match, NULL, arg };

	VPC_ASSERT_MTX(sw->mtx);
	return (vpc_ktab_remove_if(&sw->cam->kt, cam_match_cb, &cb));
}

uint32_t
vpc_cam_count(struct vpc_switch *sw)
{
	return (sw->cam->kt.used);
}

/* What the table costs now: entries, buckets and the table header. */
uint64_t
vpc_cam_bytes(struct vpc_switch *sw)
{
	return (vpc_ktab_bytes(&sw->cam->kt) + sizeof(struct vpc_cam));
}

/*
 * Walk from a marker (0, or a cursor handed out earlier) in slot order.  A
 * cursor names a slot of one table; after a resize it means nothing.
 */
int
vpc_cam_walk(struct vpc_switch *sw, uint64_t marker,
    bool (*fn)(const struct vpc_cam_ent *, uint64_t cursor, void *), void *arg)
{
	struct cam_cb cb = { NULL, fn, arg };
	int error;

	os_mtx_lock(sw->mtx);
	error = vpc_ktab_walk(&sw->cam->kt, marker, cam_walk_cb, &cb);
	os_mtx_unlock(sw->mtx);
	return (error);
}

/* Reclaim expired entries (the caller holds sw->mtx: a timer callback). */
void
vpc_cam_sweep(struct vpc_switch *sw, uint64_t now)
{
	VPC_ASSERT_MTX(sw->mtx);
	vpc_ktab_sweep(&sw->cam->kt, now);
}

static void
check_ent(const void *ent, struct vpc_check *c, void *arg)
{
	const struct vpc_cam_ent *e = ent;
	struct vpc_switch *sw = arg;

	c->checked++;
	if (e->kind < VPC_CAM_LOCAL || e->kind > VPC_CAM_NEGATIVE)
		vpc_check_fail(c, "CAM: entry kind", e->kind, VPC_CAM_REMOTE);
	c->checked++;
	if (e->kind == VPC_CAM_LOCAL && (e->port == NULL ||
	    e->port->sw != sw || e->port->obj.dead || e->port->peer == NULL ||
	    memcmp(obj2nic(e->port->peer)->mac, e->dst, 6) != 0))
		vpc_check_fail(c, "CAM: a local entry names a live port of "
		    "this switch with that MAC", 0, 1);
}

static bool
count_specific(const void *ent, uint64_t cursor, void *arg)
{
	(void)cursor;
	*(uint32_t *)arg += !vpc_mac_is_zero(((const struct vpc_cam_ent *)ent)->src);
	return (true);
}

/* Bookkeeping against the table itself (vpc_check.c). */
void
vpc_cam_check(struct vpc_switch *sw, struct vpc_check *c)
{
	uint32_t specific = 0;

	os_mtx_lock(sw->mtx);
	vpc_ktab_check(&sw->cam->kt, c, check_ent, sw);
	(void)vpc_ktab_walk(&sw->cam->kt, 0, count_specific, &specific);
	c->checked++;
	if (specific != sw->cam->nspecific)
		vpc_check_fail(c, "CAM: source-specific entries", specific,
		    sw->cam->nspecific);
	os_mtx_unlock(sw->mtx);
}
