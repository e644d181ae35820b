/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_ktab.c: the keyed table's writers, walker, sweeper and checker (see
 * vpc_ktab.h; the lookup is inline there).  Every function but init, fini,
 * reserve and walk runs with the owner's mutex held.
 */
#include "vpc_ktab.h"

#define KTAB_MIN_BUCKETS 8u
#define KTAB_MAX_BUCKETS (1u << 27)     /* slot numbers fit in 32 bits */

/* A position in an array: slot i of bucket b. */
struct kpos {
	uint32_t b, i;
};

static size_t
slots_size(uint32_t nbuckets)
{
	return (sizeof(struct vpc_kslots) + 63 +
	    (size_t)nbuckets * sizeof(struct vpc_kbucket));
}

static uint32_t
nslots(const struct vpc_kslots *t)
{
	return ((t->mask + 1) * VPC_KTAB_BSLOTS);
}

static struct vpc_kslots *
slots_new(uint32_t nbuckets)
{
	struct vpc_kslots *t = vpc_alloc(slots_size(nbuckets), VPC_M_WAITOK);

	if (t != NULL) {
		t->mask = nbuckets - 1;
		t->b = (struct vpc_kbucket *)(((uintptr_t)t->mem + 63) &
		    ~(uintptr_t)63);            /* vpc_alloc zeroed it: all empty */
	}
	return (t);
}

static void
slots_free(struct os_defer *d)
{
	struct vpc_kslots *t = (struct vpc_kslots *)d;

	vpc_free(t, slots_size(t->mask + 1));
}

static uint8_t
tag_at(const struct vpc_kslots *t, uint32_t b, uint32_t i)
{
	return ((uint8_t)(t->b[b].tags >> (8 * i)));
}

/* Set slot p's tag (the word is written whole, for readers). */
static void
set_tag(struct vpc_kslots *t, struct kpos p, uint8_t tag)
{
	uint64_t tags = t->b[p.b].tags & ~(0xffull << (8 * p.i));

	vpc_store(t->b[p.b].tags, tags | (uint64_t)tag << (8 * p.i));
}

static uint64_t
key_hash(const struct vpc_ktab *kt, const void *key)
{
	uint64_t w[VPC_KTAB_MAXWORDS];

	vpc_ktab_words(key, kt->keylen, w);
	return (vpc_ktab_hash(kt, w, kt->keylen));
}

/*
 * A table changed (an entry replaced or removed): a fresh generation, from a
 * counter shared by every table so that no two tables ever have the same
 * one.  Stored (release) after the slot and before the old entry is retired:
 * a reader that still sees the old generation entered the epoch before the
 * retire, so the entry it remembered outlives its use.  Owner's mutex held.
 */
static uint64_t ktab_generations;

static void
vpc_ktab_changed(struct vpc_ktab *kt)
{
	vpc_store(kt->gen, __atomic_add_fetch(&ktab_generations, 1, __ATOMIC_RELAXED));
}

int
vpc_ktab_init(struct vpc_ktab *kt, uint16_t keylen, uint16_t kent_off,
    uint32_t entsize, void (*free_fn)(struct os_defer *))
{
	uint32_t i;

	memset(kt, 0, sizeof(*kt));
	if (keylen == 0 || keylen > VPC_KTAB_MAXKEY)
		return (VPC_ERR(VPC_EINVAL));
	if ((kt->tab = slots_new(KTAB_MIN_BUCKETS)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	kt->tab->id = ++kt->ntables;
	vpc_ktab_changed(kt);
	kt->keylen = keylen;
	kt->kent_off = kent_off;
	kt->entsize = entsize;
	kt->free_fn = free_fn;
	os_random(kt->secret, sizeof(kt->secret));
	/* A 48-bit word xored with one of these is never zero. */
	for (i = 0; i < VPC_KTAB_MAXWORDS; i++)
		kt->secret[i] |= 1ull << 63;
	return (0);
}

void
vpc_ktab_retire(struct vpc_ktab *kt, void *e)
{
	/* From here on the kent's control fields are the defer's storage. */
	os_epoch_defer(&vpc_kent(kt, e)->defer, kt->free_fn);
}

void
vpc_ktab_fini(struct vpc_ktab *kt)
{
	struct vpc_kslots *t = kt->tab;
	uint32_t b, i;

	if (t == NULL)
		return;
	vpc_ktab_changed(kt);
	for (b = 0; b <= t->mask; b++)
		for (i = 0; i < VPC_KTAB_BSLOTS; i++)
			if (tag_at(t, b, i) > VPC_KTAB_TAG_TOMB)
				vpc_ktab_retire(kt, t->b[b].ent[i]);
	os_epoch_defer(&t->defer, slots_free);
	kt->tab = NULL;
}

/*
 * Where key is (found) or where it would go: the first tombstone or empty
 * slot of its probe sequence (at->b UINT32_MAX: none, which reserve()
 * prevents).  Mutex held, or t not published yet.
 */
static bool
locate(const struct vpc_ktab *kt, const struct vpc_kslots *t, const void *key,
    struct kpos *at)
{
	uint64_t w[VPC_KTAB_MAXWORDS], h;
	uint32_t b, n, i;
	uint8_t tag, tg;
	bool have_free = false;

	vpc_ktab_words(key, kt->keylen, w);
	h = vpc_ktab_hash(kt, w, kt->keylen);
	b = vpc_ktab_home(t, h);
	tag = vpc_ktab_tag(h);
	at->b = UINT32_MAX;
	at->i = 0;
	for (n = 0; n <= t->mask; n++, b = (b + 1) & t->mask) {
		for (i = 0; i < VPC_KTAB_BSLOTS; i++) {
			tg = tag_at(t, b, i);
			if (tg == tag &&
			    vpc_ktab_key_is(t->b[b].ent[i], w, kt->keylen)) {
				at->b = b;
				at->i = i;
				return (true);
			}
			if (tg <= VPC_KTAB_TAG_TOMB && !have_free) {
				at->b = b;
				at->i = i;
				have_free = true;
			}
			if (tg == VPC_KTAB_TAG_EMPTY)
				return (false);
		}
	}
	return (false);         /* full of tombstones: reserve() prevents it */
}

/* Put every live entry of t into the fresh array nt (mutex held). */
static void
rehash_into(struct vpc_ktab *kt, struct vpc_kslots *t, struct vpc_kslots *nt)
{
	struct kpos p;
	uint32_t b, i;

	for (b = 0; b <= t->mask; b++) {
		for (i = 0; i < VPC_KTAB_BSLOTS; i++) {
			void *e = t->b[b].ent[i];

			if (tag_at(t, b, i) <= VPC_KTAB_TAG_TOMB)
				continue;
			(void)locate(kt, nt, e, &p);
			nt->b[p.b].ent[p.i] = e;
			set_tag(nt, p, tag_at(t, b, i));
		}
	}
}

/*
 * Growth keeps (live + tombstones) at most 3/4 of the slots (a bucket is
 * read whole, so a miss still reads one or two lines); a rehash sizes the
 * array for twice the live entries and clears the tombstones.
 */
int
vpc_ktab_reserve(struct vpc_ktab *kt, struct os_mtx *mtx, uint32_t n)
{
	struct vpc_kslots *t, *nt;
	uint64_t want;
	uint32_t nb;

	os_mtx_lock(mtx);
	t = kt->tab;
	want = (uint64_t)kt->used + n;
	if ((want + kt->tombs) * 4 <= (uint64_t)nslots(t) * 3) {
		os_mtx_unlock(mtx);
		return (0);
	}
	os_mtx_unlock(mtx);

	for (nb = KTAB_MIN_BUCKETS; (uint64_t)nb * VPC_KTAB_BSLOTS < want * 2; nb *= 2)
		if (nb >= KTAB_MAX_BUCKETS)
			return (VPC_ERR(VPC_ENOSPC));
	if ((nt = slots_new(nb)) == NULL)
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
	struct kpos p;

	return (locate(kt, kt->tab, key, &p) ? kt->tab->b[p.b].ent[p.i] : NULL);
}

bool
vpc_ktab_put(struct vpc_ktab *kt, void *e)
{
	struct vpc_kslots *t = kt->tab;
	struct kpos p;
	void *cur;

	vpc_kent(kt, e)->gen = ++kt->next_gen;
	if (locate(kt, t, e, &p)) {
		cur = t->b[p.b].ent[p.i];
		vpc_store(t->b[p.b].ent[p.i], e);       /* same key, same tag */
		vpc_ktab_changed(kt);
		if (kt->removed != NULL)
			kt->removed(kt, cur);
		vpc_ktab_retire(kt, cur);
		return (false);
	}
	/* reserve() left room: p is a tombstone or an empty slot. */
	if (p.b == UINT32_MAX) {
		vpc_ktab_retire(kt, e);         /* unreachable, but never a leak */
		return (false);
	}
	if (tag_at(t, p.b, p.i) == VPC_KTAB_TAG_TOMB)
		kt->tombs--;
	kt->used++;
	vpc_store(t->b[p.b].ent[p.i], e);       /* the pointer, then its tag */
	set_tag(t, p, vpc_ktab_tag(key_hash(kt, e)));
	return (true);
}

/* Take the entry in slot p out. */
static void
remove_at(struct vpc_ktab *kt, struct vpc_kslots *t, struct kpos p)
{
	void *e = t->b[p.b].ent[p.i];

	set_tag(t, p, VPC_KTAB_TAG_TOMB);
	vpc_store(t->b[p.b].ent[p.i], (void *)NULL);
	vpc_ktab_changed(kt);
	kt->used--;
	kt->tombs++;
	if (kt->removed != NULL)
		kt->removed(kt, e);
	vpc_ktab_retire(kt, e);
}

void
vpc_ktab_remove(struct vpc_ktab *kt, void *e)
{
	struct vpc_kslots *t = kt->tab;
	struct kpos p;

	if (locate(kt, t, e, &p) && t->b[p.b].ent[p.i] == e)
		remove_at(kt, t, p);
}

uint64_t
vpc_ktab_remove_if(struct vpc_ktab *kt, bool (*match)(const void *, void *),
    void *arg)
{
	struct vpc_kslots *t = kt->tab;
	struct kpos p;
	uint64_t n = 0;

	for (p.b = 0; p.b <= t->mask; p.b++) {
		for (p.i = 0; p.i < VPC_KTAB_BSLOTS; p.i++) {
			if (tag_at(t, p.b, p.i) > VPC_KTAB_TAG_TOMB &&
			    match(t->b[p.b].ent[p.i], arg)) {
				remove_at(kt, t, p);
				n++;
			}
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
	uint64_t s;

	if (marker != 0 && (marker >> 32) != t->id)
		return (VPC_ERR(VPC_ESTALE));
	for (s = marker & 0xffffffffu; s < nslots(t); s++) {
		uint32_t b = (uint32_t)(s / VPC_KTAB_BSLOTS),
		    i = (uint32_t)(s % VPC_KTAB_BSLOTS);

		if (tag_at(t, b, i) > VPC_KTAB_TAG_TOMB &&
		    !fn(t->b[b].ent[i], (t->id << 32) | (s + 1), arg))
			break;
	}
	return (0);
}

/* A slice of the array per call, so a big table is never scanned in one go. */
void
vpc_ktab_sweep(struct vpc_ktab *kt, uint64_t now)
{
	struct vpc_kslots *t = kt->tab;
	uint32_t total = nslots(t), budget = total / 8, k, s;
	struct kpos p;

	if (budget < 1024)
		budget = 1024;
	for (k = 0; k < budget && k < total; k++) {
		s = (kt->sweep_at + k) % total;
		p.b = s / VPC_KTAB_BSLOTS;
		p.i = s % VPC_KTAB_BSLOTS;
		if (tag_at(t, p.b, p.i) > VPC_KTAB_TAG_TOMB &&
		    vpc_kent_expired(vpc_kent(kt, t->b[p.b].ent[p.i]), now))
			remove_at(kt, t, p);
	}
	kt->sweep_at = (kt->sweep_at + k) % total;
}

/* What the table costs now: entries and the bucket array. */
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
	uint32_t b, i, live = 0, tombs = 0;

	for (b = 0; b <= t->mask; b++) {
		c->checked++;
		if (tag_at(t, b, 7) != 0)
			vpc_check_fail(c, "keyed table: a bucket's eighth tag byte "
			    "is unused", 0, 1);
		for (i = 0; i < VPC_KTAB_BSLOTS; i++) {
			const void *e = t->b[b].ent[i];
			uint8_t tg = tag_at(t, b, i);

			if (tg <= VPC_KTAB_TAG_TOMB) {
				c->checked++;
				if (e != NULL)
					vpc_check_fail(c, "keyed table: a free slot "
					    "holds no entry", 0, 1);
				tombs += tg == VPC_KTAB_TAG_TOMB;
				continue;
			}
			live++;
			c->checked++;
			if (e == NULL || tg != vpc_ktab_tag(key_hash(kt, e))) {
				vpc_check_fail(c, "keyed table: a slot's tag is its "
				    "entry's", tg, 0);
				continue;
			}
			c->checked++;
			if (vpc_ktab_probe(kt, t, e, kt->keylen) != e)
				vpc_check_fail(c, "keyed table: an entry is found by "
				    "its key", 0, 1);
			if (fn != NULL)
				fn(e, c, arg);
		}
	}
	c->checked += 3;
	if (live != kt->used)
		vpc_check_fail(c, "keyed table: live entries", live, kt->used);
	if (tombs != kt->tombs)
		vpc_check_fail(c, "keyed table: tombstones", tombs, kt->tombs);
	if ((uint64_t)(live + tombs) * 4 > (uint64_t)nslots(t) * 3 + 4)
		vpc_check_fail(c, "keyed table: load under 3/4", live + tombs,
		    nslots(t) * 3 / 4);
}
