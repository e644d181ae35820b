/*
 * vpc_ktab.c: the keyed table's writers, walker, sweeper and checker (see
 * vpc_ktab.h; the lookup is inline there).  Every function but init, fini,
 * reserve and walk runs with the owner's mutex held.
 */
#include "vpc_ktab.h"

#define KTAB_MIN_SLOTS 64u

static size_t
slots_size(uint32_t nslots)
{
	return (sizeof(struct vpc_kslots) + nslots * sizeof(void *));
}

static struct vpc_kslots *
slots_new(uint32_t nslots)
{
	struct vpc_kslots *t = vpc_alloc(slots_size(nslots), VPC_M_WAITOK);

	if (t != NULL)
		t->mask = nslots - 1;
	return (t);
}

static void
slots_free(struct os_defer *d)
{
	struct vpc_kslots *t = (struct vpc_kslots *)d;

	vpc_free(t, slots_size(t->mask + 1));
}

static uint32_t
slot_of(const struct vpc_ktab *kt, const void *key)
{
	return ((uint32_t)vpc_hash(&kt->key, key, kt->keylen));
}

int
vpc_ktab_init(struct vpc_ktab *kt, uint16_t keylen, uint16_t kent_off,
    uint32_t entsize, void (*free_fn)(struct os_defer *))
{
	memset(kt, 0, sizeof(*kt));
	if ((kt->tab = slots_new(KTAB_MIN_SLOTS)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	kt->tab->id = ++kt->ntables;
	kt->keylen = keylen;
	kt->kent_off = kent_off;
	kt->entsize = entsize;
	kt->free_fn = free_fn;
	vpc_hashkey_init(&kt->key);
	return (0);
}

void
vpc_ktab_retire(struct vpc_ktab *kt, void *e)
{
	os_epoch_defer(&vpc_kent(kt, e)->defer, kt->free_fn);
}

void
vpc_ktab_fini(struct vpc_ktab *kt)
{
	struct vpc_kslots *t = kt->tab;
	uint32_t i;

	if (t == NULL)
		return;
	for (i = 0; i <= t->mask; i++)
		if (t->slot[i] != NULL && t->slot[i] != VPC_KTAB_TOMB)
			vpc_ktab_retire(kt, t->slot[i]);
	os_epoch_defer(&t->defer, slots_free);
	kt->tab = NULL;
}

/* Put every live entry of t into the fresh array nt (mutex held). */
static void
rehash_into(struct vpc_ktab *kt, struct vpc_kslots *t, struct vpc_kslots *nt)
{
	uint32_t i, j;

	for (i = 0; i <= t->mask; i++) {
		void *e = t->slot[i];

		if (e == NULL || e == VPC_KTAB_TOMB)
			continue;
		for (j = slot_of(kt, e); nt->slot[j & nt->mask] != NULL; j++)
			;
		nt->slot[j & nt->mask] = e;
	}
}

/*
 * Growth keeps (live + tombstones) under 5/8 of the slots, so a miss probes
 * a couple of slots on average; a rehash sizes the array for twice the live
 * entries and clears the tombstones.
 */
int
vpc_ktab_reserve(struct vpc_ktab *kt, struct os_mtx *mtx, uint32_t n)
{
	struct vpc_kslots *t, *nt;
	uint64_t want;
	uint32_t nslots;

	os_mtx_lock(mtx);
	t = kt->tab;
	want = (uint64_t)kt->used + n;
	if ((want + kt->tombs) * 8 <= ((uint64_t)t->mask + 1) * 5) {
		os_mtx_unlock(mtx);
		return (0);
	}
	os_mtx_unlock(mtx);

	for (nslots = KTAB_MIN_SLOTS; nslots < want * 2; nslots *= 2)
		if (nslots >= (1u << 30))
			return (VPC_ERR(VPC_ENOSPC));
	if ((nt = slots_new(nslots)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));

	os_mtx_lock(mtx);
	/* Only control code inserts, and it holds the control lock: the
	 * count cannot have grown, only shrunk (the sweeper). */
	t = kt->tab;
	rehash_into(kt, t, nt);
	nt->id = ++kt->ntables;
	kt->tombs = 0;
	kt->sweep_at = 0;
	vpc_store(kt->tab, nt);
	os_mtx_unlock(mtx);
	os_epoch_defer(&t->defer, slots_free);
	return (0);
}

void *
vpc_ktab_find(struct vpc_ktab *kt, const void *key)
{
	return ((void *)(uintptr_t)vpc_ktab_probe(kt, kt->tab, key, kt->keylen));
}

bool
vpc_ktab_put(struct vpc_ktab *kt, void *e)
{
	struct vpc_kslots *t = kt->tab;
	uint32_t i = slot_of(kt, e), n, free_at = UINT32_MAX;
	void *cur;

	vpc_kent(kt, e)->gen = ++kt->next_gen;
	for (n = 0; n <= t->mask; n++, i++) {
		cur = t->slot[i & t->mask];
		if (cur == NULL)
			break;
		if (cur == VPC_KTAB_TOMB) {
			if (free_at == UINT32_MAX)
				free_at = i & t->mask;
			continue;
		}
		if (memcmp(cur, e, kt->keylen) == 0) {
			vpc_store(t->slot[i & t->mask], e);
			if (kt->removed != NULL)
				kt->removed(kt, cur);
			vpc_ktab_retire(kt, cur);
			return (false);
		}
	}
	if (free_at != UINT32_MAX)
		kt->tombs--;
	else
		free_at = i & t->mask;  /* reserve() left room: never full */
	kt->used++;
	vpc_store(t->slot[free_at], e);
	return (true);
}

void
vpc_ktab_remove(struct vpc_ktab *kt, void *e)
{
	struct vpc_kslots *t = kt->tab;
	uint32_t i = slot_of(kt, e), n;

	for (n = 0; n <= t->mask; n++, i++) {
		if (t->slot[i & t->mask] == NULL)
			return;
		if (t->slot[i & t->mask] == e) {
			vpc_store(t->slot[i & t->mask], VPC_KTAB_TOMB);
			kt->used--;
			kt->tombs++;
			if (kt->removed != NULL)
				kt->removed(kt, e);
			vpc_ktab_retire(kt, e);
			return;
		}
	}
}

uint64_t
vpc_ktab_remove_if(struct vpc_ktab *kt, bool (*match)(const void *, void *),
    void *arg)
{
	struct vpc_kslots *t = kt->tab;
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i <= t->mask; i++) {
		void *e = t->slot[i];

		if (e != NULL && e != VPC_KTAB_TOMB && match(e, arg)) {
			vpc_ktab_remove(kt, e);
			n++;
		}
	}
	return (n);
}

/* A cursor names a slot of one array; after a resize it means nothing. */
int
vpc_ktab_walk(struct vpc_ktab *kt, uint64_t marker,
    bool (*fn)(const void *, uint64_t cursor, void *), void *arg)
{
	struct vpc_kslots *t = kt->tab;
	uint64_t i;

	if (marker != 0 && (marker >> 32) != t->id)
		return (VPC_ERR(VPC_ESTALE));
	for (i = marker & 0xffffffffu; i <= t->mask; i++) {
		const void *e = t->slot[i];

		if (e != NULL && e != VPC_KTAB_TOMB &&
		    !fn(e, (t->id << 32) | (i + 1), arg))
			break;
	}
	return (0);
}

/* A slice of the array per call, so a big table is never scanned in one go. */
void
vpc_ktab_sweep(struct vpc_ktab *kt, uint64_t now)
{
	struct vpc_kslots *t = kt->tab;
	uint32_t budget = (t->mask + 1) / 8, i;

	if (budget < 1024)
		budget = 1024;
	for (i = 0; i < budget && i <= t->mask; i++) {
		uint32_t at = (kt->sweep_at + i) & t->mask;
		void *e = t->slot[at];

		if (e != NULL && e != VPC_KTAB_TOMB &&
		    vpc_kent_expired(vpc_kent(kt, e), now))
			vpc_ktab_remove(kt, e);
	}
	kt->sweep_at = (kt->sweep_at + i) & t->mask;
}

uint64_t
vpc_ktab_bytes(const struct vpc_ktab *kt)
{
	return ((uint64_t)kt->used * kt->entsize + slots_size(kt->tab->mask + 1));
}

void
vpc_ktab_check(struct vpc_ktab *kt, struct vpc_check *c,
    void (*fn)(const void *, struct vpc_check *, void *), void *arg)
{
	struct vpc_kslots *t = kt->tab;
	uint32_t i, live = 0, tombs = 0;

	for (i = 0; i <= t->mask; i++) {
		const void *e = t->slot[i];

		if (e == NULL)
			continue;
		if (e == VPC_KTAB_TOMB) {
			tombs++;
			continue;
		}
		live++;
		c->checked++;
		if (vpc_ktab_probe(kt, t, e, kt->keylen) != e)
			vpc_check_fail(c, "keyed table: an entry is found by its key", 0, 1);
		if (fn != NULL)
			fn(e, c, arg);
	}
	c->checked += 3;
	if (live != kt->used)
		vpc_check_fail(c, "keyed table: live entries", live, kt->used);
	if (tombs != kt->tombs)
		vpc_check_fail(c, "keyed table: tombstones", tombs, kt->tombs);
	if ((uint64_t)(live + tombs) * 8 > ((uint64_t)t->mask + 1) * 5 + 8)
		vpc_check_fail(c, "keyed table: load under 5/8", live + tombs,
		    (t->mask + 1) * 5 / 8);
}
