/*
 * vpc_cam.c: a switch's forwarding entries.
 *
 * An open-addressing table (linear probing, keyed SipHash) of pointers to
 * immutable entries.  The data path reads it inside the epoch without a
 * lock: it loads the table pointer, then slot pointers.  Writers hold the
 * switch's mutex, replace an entry by storing a new pointer into its slot and
 * retire the old one through the epoch: an entry is never edited in place.
 * Growing allocates the new table *before* the mutex is taken (only control
 * code inserts, and it may sleep), rehashes under the mutex, publishes the
 * new table and retires the old one.  Entries are shared between the old and
 * new tables, so growing allocates nothing per entry.
 *
 * Expiry is checked at lookup: an entry past its time stops matching at
 * once; the sweeper only reclaims memory.
 */
#include "vpc_impl.h"

#define CAM_MIN_SLOTS 64u
#define CAM_TOMB      ((struct vpc_cam_ent *)(uintptr_t)1)

struct vpc_camtab {
	struct os_defer     defer;
	uint32_t            mask;
	uint64_t            id;             /* which table: dump markers */
	struct vpc_cam_ent *slot[];
};

struct vpc_cam {
	struct vpc_camtab  *tab;            /* published */
	struct vpc_hashkey  key;
	uint32_t            used;           /* live entries */
	uint32_t            tombs;
	uint32_t            nspecific;      /* entries with a source MAC */
	uint64_t            next_gen;
	uint64_t            ntables;
	uint32_t            sweep_at;
};

static size_t
tab_size(uint32_t nslots)
{
	return (sizeof(struct vpc_camtab) + nslots * sizeof(struct vpc_cam_ent *));
}

static struct vpc_camtab *
tab_new(uint32_t nslots)
{
	struct vpc_camtab *t = vpc_alloc(tab_size(nslots), VPC_M_WAITOK);

	if (t != NULL)
		t->mask = nslots - 1;
	return (t);
}

static void
tab_free(struct os_defer *d)
{
	struct vpc_camtab *t = (struct vpc_camtab *)d;

	vpc_free(t, tab_size(t->mask + 1));
}

static void
ent_free_deferred(struct os_defer *d)
{
	struct vpc_cam_ent *e = (struct vpc_cam_ent *)((char *)d -
	    __builtin_offsetof(struct vpc_cam_ent, defer));

	vpc_free(e, sizeof(*e));
}

static void
ent_retire(struct vpc_cam_ent *e)
{
	os_epoch_defer(&e->defer, ent_free_deferred);
}

static uint32_t
slot_of(const struct vpc_cam *cam, const uint8_t dst[6], const uint8_t src[6])
{
	uint8_t k[12];

	memcpy(k, dst, 6);
	memcpy(k + 6, src, 6);
	return ((uint32_t)vpc_hash(&cam->key, k, sizeof(k)));
}

static bool
ent_is(const struct vpc_cam_ent *e, const uint8_t dst[6], const uint8_t src[6])
{
	return (memcmp(e->dst, dst, 6) == 0 && memcmp(e->src, src, 6) == 0);
}

int
vpc_cam_create(struct vpc_switch *sw)
{
	struct vpc_cam *cam;

	cam = vpc_alloc(sizeof(*cam), VPC_M_WAITOK);
	if (cam == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((cam->tab = tab_new(CAM_MIN_SLOTS)) == NULL) {
		vpc_free(cam, sizeof(*cam));
		return (VPC_ERR(VPC_ENOMEM));
	}
	cam->tab->id = ++cam->ntables;
	vpc_hashkey_init(&cam->key);
	sw->cam = cam;
	return (0);
}

/* The switch is gone and no reader can reach it: free everything now-ish. */
void
vpc_cam_destroy(struct vpc_switch *sw)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t;
	uint32_t i;

	if (cam == NULL)
		return;
	t = cam->tab;
	for (i = 0; i <= t->mask; i++)
		if (t->slot[i] != NULL && t->slot[i] != CAM_TOMB)
			ent_retire(t->slot[i]);
	os_epoch_defer(&t->defer, tab_free);
	vpc_free(cam, sizeof(*cam));
	sw->cam = NULL;
}

/* ---- The data path -------------------------------------------------------- */

static const struct vpc_cam_ent *
probe(const struct vpc_cam *cam, const struct vpc_camtab *t,
    const uint8_t dst[6], const uint8_t src[6])
{
	uint32_t i = slot_of(cam, dst, src), n;
	const struct vpc_cam_ent *e;

	for (n = 0; n <= t->mask; n++, i++) {
		e = vpc_load(t->slot[i & t->mask]);
		if (e == NULL)
			return (NULL);
		if (e != CAM_TOMB && ent_is(e, dst, src))
			return (e);
	}
	return (NULL);
}

const struct vpc_cam_ent *
vpc_cam_lookup(struct vpc_switch *sw, const uint8_t dst[6],
    const uint8_t src[6])
{
	static const uint8_t any[6];
	const struct vpc_cam *cam = sw->cam;
	const struct vpc_camtab *t = vpc_load(cam->tab);
	const struct vpc_cam_ent *e = NULL;

	VPC_ASSERT_EPOCH();
	if (vpc_load(cam->nspecific) != 0)
		e = probe(cam, t, dst, src);
	if (e == NULL)
		e = probe(cam, t, dst, any);
	/* Expired: it stops matching at once.  Static entries need no clock. */
	if (e != NULL && e->expire_ns != 0 && os_now_ns() >= e->expire_ns)
		return (NULL);
	return (e);
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

/* Put every live entry of t into the fresh table nt (mutex held). */
static void
rehash_into(struct vpc_cam *cam, struct vpc_camtab *t, struct vpc_camtab *nt)
{
	uint32_t i, j;

	for (i = 0; i <= t->mask; i++) {
		struct vpc_cam_ent *e = t->slot[i];

		if (e == NULL || e == CAM_TOMB)
			continue;
		for (j = slot_of(cam, e->dst, e->src); nt->slot[j & nt->mask] != NULL; j++)
			;
		nt->slot[j & nt->mask] = e;
	}
}

/*
 * Growth keeps (live + tombstones) under 5/8 of the slots, so a miss probes
 * a couple of slots on average; a rehash sizes the table for twice the live
 * entries and clears the tombstones.
 */
int
vpc_cam_reserve(struct vpc_switch *sw, uint32_t n)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t, *nt;
	uint64_t want;
	uint32_t nslots;

	VPC_ASSERT_CTL(sw->obj.sys);
	os_mtx_lock(sw->mtx);
	t = cam->tab;
	want = (uint64_t)cam->used + n;
	if ((want + cam->tombs) * 8 <= ((uint64_t)t->mask + 1) * 5) {
		os_mtx_unlock(sw->mtx);
		return (0);
	}
	os_mtx_unlock(sw->mtx);

	for (nslots = CAM_MIN_SLOTS; nslots < want * 2; nslots *= 2)
		if (nslots >= (1u << 30))
			return (VPC_ERR(VPC_ENOSPC));
	if ((nt = tab_new(nslots)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));

	os_mtx_lock(sw->mtx);
	/* Only control code inserts, and it holds the control lock: the
	 * count cannot have grown, only shrunk (the sweeper). */
	t = cam->tab;
	rehash_into(cam, t, nt);
	nt->id = ++cam->ntables;
	cam->tombs = 0;
	cam->sweep_at = 0;
	vpc_store(cam->tab, nt);
	os_mtx_unlock(sw->mtx);
	os_epoch_defer(&t->defer, tab_free);
	return (0);
}

struct vpc_cam_ent *
vpc_cam_find(struct vpc_switch *sw, const uint8_t dst[6], const uint8_t src[6])
{
	VPC_ASSERT_MTX(sw->mtx);
	return ((struct vpc_cam_ent *)(uintptr_t)probe(sw->cam, sw->cam->tab,
	    dst, src));
}

void
vpc_cam_put(struct vpc_switch *sw, struct vpc_cam_ent *e)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t = cam->tab;
	uint32_t i = slot_of(cam, e->dst, e->src), n, free_at = UINT32_MAX;
	struct vpc_cam_ent *cur;

	VPC_ASSERT_MTX(sw->mtx);
	e->gen = ++cam->next_gen;
	for (n = 0; n <= t->mask; n++, i++) {
		cur = t->slot[i & t->mask];
		if (cur == NULL)
			break;
		if (cur == CAM_TOMB) {
			if (free_at == UINT32_MAX)
				free_at = i & t->mask;
			continue;
		}
		if (ent_is(cur, e->dst, e->src)) {
			vpc_store(t->slot[i & t->mask], e);
			ent_retire(cur);
			return;
		}
	}
	if (free_at != UINT32_MAX)
		cam->tombs--;
	else
		free_at = i & t->mask;  /* reserve() left room: never full */
	cam->used++;
	if (!vpc_mac_is_zero(e->src))
		cam->nspecific++;
	vpc_store(t->slot[free_at], e);
}

void
vpc_cam_remove(struct vpc_switch *sw, struct vpc_cam_ent *e)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t = cam->tab;
	uint32_t i = slot_of(cam, e->dst, e->src), n;

	VPC_ASSERT_MTX(sw->mtx);
	for (n = 0; n <= t->mask; n++, i++) {
		if (t->slot[i & t->mask] == NULL)
			return;
		if (t->slot[i & t->mask] == e) {
			vpc_store(t->slot[i & t->mask], CAM_TOMB);
			cam->used--;
			cam->tombs++;
			if (!vpc_mac_is_zero(e->src))
				cam->nspecific--;
			ent_retire(e);
			return;
		}
	}
}

uint64_t
vpc_cam_remove_if(struct vpc_switch *sw,
    bool (*match)(const struct vpc_cam_ent *, void *), void *arg)
{
	struct vpc_camtab *t = sw->cam->tab;
	uint64_t n = 0;
	uint32_t i;

	VPC_ASSERT_MTX(sw->mtx);
	for (i = 0; i <= t->mask; i++) {
		struct vpc_cam_ent *e = t->slot[i];

		if (e != NULL && e != CAM_TOMB && match(e, arg)) {
			vpc_cam_remove(sw, e);
			n++;
		}
	}
	return (n);
}

uint32_t
vpc_cam_count(struct vpc_switch *sw)
{
	return (sw->cam->used);
}

/* What the table costs now: entries, slots and the table header. */
uint64_t
vpc_cam_bytes(struct vpc_switch *sw)
{
	return ((uint64_t)sw->cam->used * sizeof(struct vpc_cam_ent) +
	    tab_size(sw->cam->tab->mask + 1) + sizeof(struct vpc_cam));
}

/*
 * Walk from a marker (0, or a cursor handed out earlier) in slot order.  A
 * cursor names a slot of one table; after a resize it means nothing.
 */
int
vpc_cam_walk(struct vpc_switch *sw, uint64_t marker,
    bool (*fn)(const struct vpc_cam_ent *, uint64_t cursor, void *), void *arg)
{
	struct vpc_camtab *t;
	uint64_t i;
	int error = 0;

	os_mtx_lock(sw->mtx);
	t = sw->cam->tab;
	if (marker != 0 && (marker >> 32) != t->id)
		error = VPC_ERR(VPC_ESTALE);
	for (i = marker & 0xffffffffu; error == 0 && i <= t->mask; i++) {
		const struct vpc_cam_ent *e = t->slot[i];

		if (e != NULL && e != CAM_TOMB && !fn(e, (t->id << 32) | (i + 1), arg))
			break;
	}
	os_mtx_unlock(sw->mtx);
	return (error);
}

/*
 * Reclaim expired entries, a slice of the table per call, so a big table is
 * never scanned in one go (the caller holds sw->mtx: a timer callback).
 */
void
vpc_cam_sweep(struct vpc_switch *sw, uint64_t now)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t = cam->tab;
	uint32_t budget = (t->mask + 1) / 8, i;

	VPC_ASSERT_MTX(sw->mtx);
	if (budget < 1024)
		budget = 1024;
	for (i = 0; i < budget && i <= t->mask; i++) {
		uint32_t at = (cam->sweep_at + i) & t->mask;
		struct vpc_cam_ent *e = t->slot[at];

		if (e != NULL && e != CAM_TOMB && e->expire_ns != 0 &&
		    now >= e->expire_ns)
			vpc_cam_remove(sw, e);
	}
	cam->sweep_at = (cam->sweep_at + i) & t->mask;
}

/* Bookkeeping against the table itself (vpc_check.c). */
void
vpc_cam_check(struct vpc_switch *sw, struct vpc_check *c)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t;
	uint32_t i, live = 0, tombs = 0, specific = 0;

	os_mtx_lock(sw->mtx);
	t = cam->tab;
	for (i = 0; i <= t->mask; i++) {
		const struct vpc_cam_ent *e = t->slot[i];

		if (e == NULL)
			continue;
		if (e == CAM_TOMB) {
			tombs++;
			continue;
		}
		live++;
		specific += !vpc_mac_is_zero(e->src);
		c->checked++;
		if (e->kind < VPC_CAM_LOCAL || e->kind > VPC_CAM_NEGATIVE)
			vpc_check_fail(c, "CAM: entry kind", e->kind, VPC_CAM_REMOTE);
		c->checked++;
		if (e->kind == VPC_CAM_LOCAL && (e->port == NULL ||
		    e->port->sw != sw || e->port->obj.dead || e->port->peer == NULL ||
		    memcmp(obj2nic(e->port->peer)->mac, e->dst, 6) != 0))
			vpc_check_fail(c, "CAM: a local entry names a live port of "
			    "this switch with that MAC", 0, 1);
		c->checked++;
		if (probe(cam, t, e->dst, e->src) != e)
			vpc_check_fail(c, "CAM: an entry is found by its key", 0, 1);
	}
	c->checked += 4;
	if (live != cam->used)
		vpc_check_fail(c, "CAM: live entries", live, cam->used);
	if (tombs != cam->tombs)
		vpc_check_fail(c, "CAM: tombstones", tombs, cam->tombs);
	if (specific != cam->nspecific)
		vpc_check_fail(c, "CAM: source-specific entries", specific, cam->nspecific);
	if ((uint64_t)(live + tombs) * 8 > ((uint64_t)t->mask + 1) * 5 + 8)
		vpc_check_fail(c, "CAM: load under 5/8", live + tombs, (t->mask + 1) * 5 / 8);
	os_mtx_unlock(sw->mtx);
}
