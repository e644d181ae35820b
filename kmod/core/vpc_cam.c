/*
 * vpc_cam.c: a switch's forwarding entries.
 *
 * An open-addressing table (linear probing, a keyed hash) of pointers to
 * immutable entries, laid out in 64-byte buckets: seven entry pointers and
 * their seven one-byte tags (hash bits) in one cache line.  A probe reads a
 * bucket's tags in one load and follows only the pointers whose tag matches,
 * so a lookup touches one table line and, for a hit, the entry; a miss
 * usually touches the table line alone.  Probing goes slot by slot, bucket
 * after bucket, exactly as linear probing over a flat array would; a tag
 * says empty (probing stops), tombstone (it goes on) or which hash.
 *
 * The data path reads it inside the epoch without a lock: it loads the
 * table pointer, then a bucket's tag word, then the pointers its tags name.
 * Writers hold the switch's mutex; a new entry's pointer is stored before
 * its tag (both release), so a reader that sees the tag sees the pointer.
 * An entry is never edited in place: a change stores a new pointer into its
 * slot (same key, same tag) and retires the old one through the epoch.
 * Growing allocates the new table *before* the mutex is taken (only control
 * code inserts, and it may sleep), rehashes under the mutex, publishes the
 * new table and retires the old one.  Entries are shared between the old and
 * new tables, so growing allocates nothing per entry.
 *
 * The hash is keyed (VMs choose MACs, and their traffic to unknown MACs
 * makes negative entries): per table a secret of 192 random bits, and the
 * (dst, src) pair hashed with one 64x64->128-bit multiply of the key words
 * xored with two secret words, folded (the wyhash construction, which Go's
 * maps and Zig's use, seeded, against hash flooding).  Without the secret a
 * VM cannot aim MACs at one probe chain: it sees no hash value, only how
 * fast frames go, and what it can make the switch insert is rate-limited
 * (upcall policy) and short-lived (negative TTL); the Linux bridge's FDB
 * relies on less (jhash with a random salt).  SipHash-1-3 cost 12 ns of a
 * ~90 ns forwarding path; this costs about 1.
 *
 * Expiry is checked at lookup: an entry past its time stops matching at
 * once; the sweeper only reclaims memory.
 */
#include "vpc_impl.h"

#define CAM_BSLOTS       7u             /* slots per bucket */
#define CAM_MIN_BUCKETS  8u
#define CAM_MAX_BUCKETS  (1u << 27)     /* slot numbers fit in 32 bits */
#define TAG_EMPTY        0
#define TAG_TOMB         1

/* Tag byte i of a bucket is byte i of its tag word; byte 7 is unused. */
struct cam_bucket {
	uint64_t             tags;
	struct vpc_cam_ent  *ent[CAM_BSLOTS];
};
_Static_assert(sizeof(struct cam_bucket) == 64, "a bucket is a cache line");

struct vpc_camtab {
	struct os_defer     defer;
	uint32_t            mask;           /* buckets - 1 */
	uint64_t            id;             /* which table: dump markers */
	struct cam_bucket  *b;              /* 64-byte aligned, in mem[] */
	char                mem[];
};

struct vpc_cam {
	struct vpc_camtab  *tab;            /* published */
	uint64_t            secret[3];      /* the hash's key */
	uint32_t            used;           /* live entries */
	uint32_t            tombs;
	uint32_t            nspecific;      /* entries with a source MAC */
	uint64_t            next_gen;
	uint64_t            ntables;
	uint32_t            sweep_at;       /* a slot number */
};

/* A position in a table: slot i of bucket b. */
struct cam_pos {
	uint32_t b, i;
};

static size_t
tab_size(uint32_t nbuckets)
{
	return (sizeof(struct vpc_camtab) + 63 +
	    (size_t)nbuckets * sizeof(struct cam_bucket));
}

static uint32_t
nslots(const struct vpc_camtab *t)
{
	return ((t->mask + 1) * CAM_BSLOTS);
}

static struct vpc_camtab *
tab_new(uint32_t nbuckets)
{
	struct vpc_camtab *t = vpc_alloc(tab_size(nbuckets), VPC_M_WAITOK);

	if (t != NULL) {
		t->mask = nbuckets - 1;
		t->b = (struct cam_bucket *)(((uintptr_t)t->mem + 63) &
		    ~(uintptr_t)63);
	}
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
	/* From here on gen, revision and ttl_ms are the defer's storage. */
	os_epoch_defer(&e->defer, ent_free_deferred);
}

/* ---- Hashing ---------------------------------------------------------------- */

static uint64_t
mul_fold(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 r = (unsigned __int128)a * b;

	return ((uint64_t)r ^ (uint64_t)(r >> 64));
#else
	uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu,
	    bh = b >> 32, ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh,
	    mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);

	return (((ll & 0xffffffffu) | (mid << 32)) ^
	    (hh + (lh >> 32) + (hl >> 32) + (mid >> 32)));
#endif
}

/*
 * A MAC as a number: its six bytes in this CPU's order (the table never
 * leaves the machine).  Two loads, inlined even where memcpy is not.
 */
static uint64_t
mac_word(const uint8_t m[6])
{
	uint32_t lo;
	uint16_t hi;

	__builtin_memcpy(&lo, m, 4);
	__builtin_memcpy(&hi, m + 4, 2);
	return ((uint64_t)hi << 32 | lo);
}

static uint64_t
word_hash(const struct vpc_cam *cam, uint64_t d, uint64_t s)
{
	/* 48-bit words, and the secrets' top bits are set: never zero. */
	return (mul_fold(d ^ cam->secret[0], s ^ cam->secret[1]) ^ cam->secret[2]);
}

static uint64_t
key_hash(const struct vpc_cam *cam, const uint8_t dst[6], const uint8_t src[6])
{
	return (word_hash(cam, mac_word(dst), mac_word(src)));
}

/* The bucket a hash starts at (low bits), its tag (high bits: 2-255). */
static uint32_t
home(const struct vpc_camtab *t, uint64_t h)
{
	return ((uint32_t)h & t->mask);
}

static uint8_t
tag_of(uint64_t h)
{
	uint8_t tag = (uint8_t)(h >> 56);

	return (tag < 2 ? tag + 2 : tag);
}

static uint8_t
tag_at(uint64_t tags, uint32_t i)
{
	return ((uint8_t)(tags >> (8 * i)));
}

static bool
ent_is_words(const struct vpc_cam_ent *e, uint64_t d, uint64_t s)
{
	return (mac_word(e->dst) == d && mac_word(e->src) == s);
}

static bool
ent_is(const struct vpc_cam_ent *e, const uint8_t dst[6], const uint8_t src[6])
{
	return (ent_is_words(e, mac_word(dst), mac_word(src)));
}

int
vpc_cam_create(struct vpc_switch *sw)
{
	struct vpc_cam *cam;

	cam = vpc_alloc(sizeof(*cam), VPC_M_WAITOK);
	if (cam == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((cam->tab = tab_new(CAM_MIN_BUCKETS)) == NULL) {
		vpc_free(cam, sizeof(*cam));
		return (VPC_ERR(VPC_ENOMEM));
	}
	cam->tab->id = ++cam->ntables;
	os_random(cam->secret, sizeof(cam->secret));
	cam->secret[0] |= 1ull << 63;
	cam->secret[1] |= 1ull << 63;
	sw->cam = cam;
	return (0);
}

/* The switch is gone and no reader can reach it: free everything now-ish. */
void
vpc_cam_destroy(struct vpc_switch *sw)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t;
	uint32_t b, i;

	if (cam == NULL)
		return;
	t = cam->tab;
	for (b = 0; b <= t->mask; b++)
		for (i = 0; i < CAM_BSLOTS; i++)
			if (tag_at(t->b[b].tags, i) > TAG_TOMB)
				ent_retire(t->b[b].ent[i]);
	os_epoch_defer(&t->defer, tab_free);
	vpc_free(cam, sizeof(*cam));
	sw->cam = NULL;
}

/* ---- The data path -------------------------------------------------------- */

/* Byte i of the result is 0x80 where byte i of x is zero, else 0. */
#define SLOT_BITS 0x0080808080808080ull     /* the marks of bytes 0-6 */

static uint64_t
zero_bytes(uint64_t x)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;

	return (~(((x & low7) + low7) | x | low7));
}

static const struct vpc_cam_ent *
probe_words(const struct vpc_cam *cam, const struct vpc_camtab *t,
    uint64_t d, uint64_t s)
{
	uint64_t h = word_hash(cam, d, s), tags, want, empty, match;
	uint32_t b = home(t, h), n, i;
	const struct vpc_cam_ent *e;

	want = 0x0101010101010101ull * tag_of(h);
	for (n = 0; n <= t->mask; n++, b = (b + 1) & t->mask) {
		/* Byte 7 is no slot: it reads as a tombstone, never matches. */
		tags = vpc_load(t->b[b].tags) | (uint64_t)TAG_TOMB << 56;
		empty = zero_bytes(tags);
		match = zero_bytes(tags ^ want) & SLOT_BITS;
		if (empty != 0)         /* only slots before the first empty one */
			match &= (empty & -empty) - 1;
		for (; match != 0; match &= match - 1) {
			i = (uint32_t)__builtin_ctzll(match) / 8;
			e = vpc_load(t->b[b].ent[i]);
			if (e != NULL && ent_is_words(e, d, s))
				return (e);
		}
		if (empty != 0)
			return (NULL);
	}
	return (NULL);
}

static const struct vpc_cam_ent *
probe(const struct vpc_cam *cam, const struct vpc_camtab *t,
    const uint8_t dst[6], const uint8_t src[6])
{
	return (probe_words(cam, t, mac_word(dst), mac_word(src)));
}

const struct vpc_cam_ent *
vpc_cam_lookup(struct vpc_switch *sw, const uint8_t dst[6],
    const uint8_t src[6])
{
	const struct vpc_cam *cam = sw->cam;
	const struct vpc_camtab *t = vpc_load(cam->tab);
	const struct vpc_cam_ent *e = NULL;
	uint64_t d = mac_word(dst);

	VPC_ASSERT_EPOCH();
	if (vpc_load(cam->nspecific) != 0)
		e = probe_words(cam, t, d, mac_word(src));
	if (e == NULL)
		e = probe_words(cam, t, d, 0);
	/* Expired: it stops matching at once.  Static entries need no clock. */
	if (e != NULL && e->expire_ns != 0 && os_now_ns() >= e->expire_ns)
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
	const struct vpc_cam *cam = sw->cam;
	const struct vpc_camtab *t = vpc_load(cam->tab);

	__builtin_prefetch(&t->b[home(t, word_hash(cam, mac_word(dst), 0))]);
}

void
vpc_cam_prefetch_entry(struct vpc_switch *sw, const uint8_t dst[6])
{
	const struct vpc_cam *cam = sw->cam;
	const struct vpc_camtab *t = vpc_load(cam->tab);
	uint64_t h = word_hash(cam, mac_word(dst), 0), tags, match;
	const struct cam_bucket *bk = &t->b[home(t, h)];

	tags = vpc_load(bk->tags) | (uint64_t)TAG_TOMB << 56;
	match = zero_bytes(tags ^ (0x0101010101010101ull * tag_of(h))) & SLOT_BITS;
	if (match != 0)
		__builtin_prefetch(vpc_load(bk->ent[__builtin_ctzll(match) / 8]));
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

/* Set slot p's tag (the word is written whole, for readers; mutex held). */
static void
set_tag(struct vpc_camtab *t, struct cam_pos p, uint8_t tag)
{
	uint64_t tags = t->b[p.b].tags & ~(0xffull << (8 * p.i));

	vpc_store(t->b[p.b].tags, tags | (uint64_t)tag << (8 * p.i));
}

/*
 * Where e's key is (found) or where it would go: the first tombstone or
 * empty slot of its probe sequence.  Mutex held.
 */
static bool
locate(const struct vpc_cam *cam, const struct vpc_camtab *t,
    const uint8_t dst[6], const uint8_t src[6], struct cam_pos *at)
{
	uint64_t h = key_hash(cam, dst, src);
	uint32_t b = home(t, h), n, i;
	uint8_t tag = tag_of(h), tg;
	bool have_free = false;

	for (n = 0; n <= t->mask; n++, b = (b + 1) & t->mask) {
		for (i = 0; i < CAM_BSLOTS; i++) {
			tg = tag_at(t->b[b].tags, i);
			if (tg == tag && ent_is(t->b[b].ent[i], dst, src)) {
				at->b = b;
				at->i = i;
				return (true);
			}
			if (tg <= TAG_TOMB && !have_free) {
				at->b = b;
				at->i = i;
				have_free = true;
			}
			if (tg == TAG_EMPTY)
				return (false);
		}
	}
	return (false);         /* full of tombstones: reserve() prevents it */
}

/* Put every live entry of t into the fresh table nt (mutex held). */
static void
rehash_into(struct vpc_cam *cam, struct vpc_camtab *t, struct vpc_camtab *nt)
{
	struct cam_pos p;
	uint32_t b, i;

	for (b = 0; b <= t->mask; b++) {
		for (i = 0; i < CAM_BSLOTS; i++) {
			struct vpc_cam_ent *e = t->b[b].ent[i];

			if (tag_at(t->b[b].tags, i) <= TAG_TOMB)
				continue;
			(void)locate(cam, nt, e->dst, e->src, &p);
			nt->b[p.b].ent[p.i] = e;
			set_tag(nt, p, tag_at(t->b[b].tags, i));
		}
	}
}

/*
 * Growth keeps (live + tombstones) at most 3/4 of the slots (a bucket is
 * read whole, so a miss still reads one or two lines); a rehash sizes the
 * table for twice the live entries and clears the tombstones.
 */
int
vpc_cam_reserve(struct vpc_switch *sw, uint32_t n)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t, *nt;
	uint64_t want;
	uint32_t nb;

	VPC_ASSERT_CTL(sw->obj.sys);
	os_mtx_lock(sw->mtx);
	t = cam->tab;
	want = (uint64_t)cam->used + n;
	if ((want + cam->tombs) * 4 <= (uint64_t)nslots(t) * 3) {
		os_mtx_unlock(sw->mtx);
		return (0);
	}
	os_mtx_unlock(sw->mtx);

	for (nb = CAM_MIN_BUCKETS; (uint64_t)nb * CAM_BSLOTS < want * 2; nb *= 2)
		if (nb >= CAM_MAX_BUCKETS)
			return (VPC_ERR(VPC_ENOSPC));
	if ((nt = tab_new(nb)) == NULL)
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
	struct vpc_camtab *t = sw->cam->tab;
	struct cam_pos p;

	VPC_ASSERT_MTX(sw->mtx);
	return (locate(sw->cam, t, dst, src, &p) ? t->b[p.b].ent[p.i] : NULL);
}

void
vpc_cam_put(struct vpc_switch *sw, struct vpc_cam_ent *e)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t = cam->tab;
	struct vpc_cam_ent *cur;
	struct cam_pos p;

	VPC_ASSERT_MTX(sw->mtx);
	e->gen = ++cam->next_gen;
	if (locate(cam, t, e->dst, e->src, &p)) {
		cur = t->b[p.b].ent[p.i];
		vpc_store(t->b[p.b].ent[p.i], e);       /* same key, same tag */
		ent_retire(cur);
		return;
	}
	/* reserve() left room: p is a tombstone or an empty slot. */
	if (tag_at(t->b[p.b].tags, p.i) == TAG_TOMB)
		cam->tombs--;
	cam->used++;
	if (!vpc_mac_is_zero(e->src))
		cam->nspecific++;
	vpc_store(t->b[p.b].ent[p.i], e);
	set_tag(t, p, tag_of(key_hash(cam, e->dst, e->src)));
}

/* Take the entry in slot p out (mutex held). */
static void
remove_at(struct vpc_cam *cam, struct vpc_camtab *t, struct cam_pos p)
{
	struct vpc_cam_ent *e = t->b[p.b].ent[p.i];

	set_tag(t, p, TAG_TOMB);
	vpc_store(t->b[p.b].ent[p.i], (struct vpc_cam_ent *)NULL);
	cam->used--;
	cam->tombs++;
	if (!vpc_mac_is_zero(e->src))
		cam->nspecific--;
	ent_retire(e);
}

void
vpc_cam_remove(struct vpc_switch *sw, struct vpc_cam_ent *e)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t = cam->tab;
	struct cam_pos p;

	VPC_ASSERT_MTX(sw->mtx);
	if (locate(cam, t, e->dst, e->src, &p) && t->b[p.b].ent[p.i] == e)
		remove_at(cam, t, p);
}

uint64_t
vpc_cam_remove_if(struct vpc_switch *sw,
    bool (*match)(const struct vpc_cam_ent *, void *), void *arg)
{
	struct vpc_camtab *t = sw->cam->tab;
	struct cam_pos p;
	uint64_t n = 0;

	VPC_ASSERT_MTX(sw->mtx);
	for (p.b = 0; p.b <= t->mask; p.b++) {
		for (p.i = 0; p.i < CAM_BSLOTS; p.i++) {
			if (tag_at(t->b[p.b].tags, p.i) > TAG_TOMB &&
			    match(t->b[p.b].ent[p.i], arg)) {
				remove_at(sw->cam, t, p);
				n++;
			}
		}
	}
	return (n);
}

uint32_t
vpc_cam_count(struct vpc_switch *sw)
{
	return (sw->cam->used);
}

/* What the table costs now: entries, the table and its header. */
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
	uint64_t s;
	int error = 0;

	os_mtx_lock(sw->mtx);
	t = sw->cam->tab;
	if (marker != 0 && (marker >> 32) != t->id)
		error = VPC_ERR(VPC_ESTALE);
	for (s = marker & 0xffffffffu; error == 0 && s < nslots(t); s++) {
		uint32_t b = (uint32_t)(s / CAM_BSLOTS), i = (uint32_t)(s % CAM_BSLOTS);

		if (tag_at(t->b[b].tags, i) > TAG_TOMB &&
		    !fn(t->b[b].ent[i], (t->id << 32) | (s + 1), arg))
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
	uint32_t total = nslots(t), budget = total / 8, k, s;
	struct cam_pos p;

	VPC_ASSERT_MTX(sw->mtx);
	if (budget < 1024)
		budget = 1024;
	for (k = 0; k < budget && k < total; k++) {
		s = (cam->sweep_at + k) % total;
		p.b = s / CAM_BSLOTS;
		p.i = s % CAM_BSLOTS;
		if (tag_at(t->b[p.b].tags, p.i) > TAG_TOMB) {
			const struct vpc_cam_ent *e = t->b[p.b].ent[p.i];

			if (e->expire_ns != 0 && now >= e->expire_ns)
				remove_at(cam, t, p);
		}
	}
	cam->sweep_at = (cam->sweep_at + k) % total;
}

/* Bookkeeping against the table itself (vpc_check.c). */
void
vpc_cam_check(struct vpc_switch *sw, struct vpc_check *c)
{
	struct vpc_cam *cam = sw->cam;
	struct vpc_camtab *t;
	uint32_t b, i, live = 0, tombs = 0, specific = 0;

	os_mtx_lock(sw->mtx);
	t = cam->tab;
	for (b = 0; b <= t->mask; b++) {
		if (tag_at(t->b[b].tags, 7) != 0)
			vpc_check_fail(c, "CAM: a bucket's eighth tag byte is unused", 0, 1);
		for (i = 0; i < CAM_BSLOTS; i++) {
			const struct vpc_cam_ent *e = t->b[b].ent[i];
			uint8_t tg = tag_at(t->b[b].tags, i);

			if (tg == TAG_EMPTY || tg == TAG_TOMB) {
				if (e != NULL)
					vpc_check_fail(c, "CAM: a free slot holds no entry", 0, 1);
				tombs += tg == TAG_TOMB;
				continue;
			}
			live++;
			specific += !vpc_mac_is_zero(e->src);
			c->checked++;
			if (e == NULL || tg != tag_of(key_hash(cam, e->dst, e->src))) {
				vpc_check_fail(c, "CAM: a slot's tag is its entry's", 0, 1);
				continue;
			}
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
	}
	c->checked += 4;
	if (live != cam->used)
		vpc_check_fail(c, "CAM: live entries", live, cam->used);
	if (tombs != cam->tombs)
		vpc_check_fail(c, "CAM: tombstones", tombs, cam->tombs);
	if (specific != cam->nspecific)
		vpc_check_fail(c, "CAM: source-specific entries", specific, cam->nspecific);
	if ((uint64_t)(live + tombs) * 4 > (uint64_t)nslots(t) * 3 + 4)
		vpc_check_fail(c, "CAM: load under 3/4", live + tombs, nslots(t) * 3 / 4);
	os_mtx_unlock(sw->mtx);
}
