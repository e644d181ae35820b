/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_ktab.h: the keyed table a switch's CAM (vpc_cam.c) and neighbour table
 * (vpc_nbr.c) are both built on.
 *
 * An open-addressing table (linear probing, a keyed multiply hash) of
 * pointers to immutable entries, laid out in 64-byte buckets: seven entry
 * pointers and their seven one-byte tags (hash bits) in one cache line.  A
 * probe reads a bucket's tags in one load and follows only the pointers whose
 * tag matches, so a lookup touches one table line and, for a hit, the entry;
 * a miss usually touches the table line alone.  Probing goes slot by slot,
 * bucket after bucket, exactly as linear probing over a flat array would; a
 * tag says empty (probing stops), tombstone (it goes on) or which hash.
 *
 * An entry starts with its key (keylen bytes at offset 0) and embeds a
 * struct vpc_kent (at kent_off) with what the table itself needs of it:
 * expiry, generation, the deferred free.  The data path reads the table
 * inside the epoch without a lock: it loads the published bucket array, then
 * a bucket's tag word, then the pointers its tags name, and compares keys.
 * Writers hold the owner's mutex (the switch's); a new entry's pointer is
 * stored before its tag (both release), so a reader that sees the tag sees
 * the pointer.  An entry is never edited in place: a change stores a new
 * pointer into its slot (same key, same tag) and retires the old one through
 * the epoch; a removal leaves a tombstone tag and a NULL pointer.  Growing
 * allocates the new array *before* the mutex is taken (only control code
 * inserts, and it may sleep), rehashes under the mutex, publishes it and
 * retires the old one; entries are shared between the two arrays, so growing
 * allocates nothing per entry.
 *
 * The hash is keyed (VMs choose MACs and addresses, and their traffic to
 * unknown ones makes negative entries): per table a secret of random words,
 * and the key read as 48-bit little-endian words (six bytes each, the last
 * one shorter: a CAM key is its two MACs, a neighbour key four words, the
 * last of two bytes); each pair of words xored with two secret words,
 * multiplied 64x64->128 and folded (the wyhash construction, which Go's maps
 * and Zig's use, seeded, against hash flooding), the pairs' products xored
 * together and with a last secret word.  The secrets' top bits are set, so a
 * 48-bit word xored with one is never zero and no product collapses.
 * Without the secret a VM cannot aim keys at one probe chain: it sees no
 * hash value, only how fast frames go, and what it can make the switch
 * insert is rate-limited (upcall policy) and short-lived (negative TTL); the
 * Linux bridge's FDB relies on less (jhash with a random salt).  SipHash-1-3
 * cost 12 ns of a ~90 ns forwarding path; this costs about 1 for the CAM's
 * key (one multiply), 2 for a neighbour's (two).
 *
 * Expiry is checked at lookup by the owner (an entry past its time stops
 * matching at once); the sweeper only reclaims memory.
 *
 * The lookup is inline and takes the key length as a constant from its
 * caller, so the compiler turns the hash and the comparison into fixed-size
 * code for each table: sharing the code costs the CAM nothing (measured by
 * bench/forward, docs/datapath.md).
 */
#ifndef _VPC_KTAB_H_
#define _VPC_KTAB_H_

#include "vpc_impl.h"

#define VPC_KTAB_BSLOTS   7u            /* slots per bucket */
#define VPC_KTAB_MAXWORDS 4             /* 48-bit key words */
#define VPC_KTAB_MAXKEY   (6 * VPC_KTAB_MAXWORDS)       /* key bytes */
#define VPC_KTAB_TAG_EMPTY 0
#define VPC_KTAB_TAG_TOMB  1

/* struct vpc_kent, what the table needs of every entry, is in vpc_impl.h. */

/* Tag byte i of a bucket is byte i of its tag word; byte 7 is unused. */
struct vpc_kbucket {
	uint64_t  tags;
	void     *ent[VPC_KTAB_BSLOTS];
};
_Static_assert(sizeof(struct vpc_kbucket) == 64, "a bucket is a cache line");

/* The bucket array: published as a whole. */
struct vpc_kslots {
	struct os_defer     defer;
	uint32_t            mask;       /* buckets - 1 */
	uint64_t            id;         /* which array: dump markers */
	struct vpc_kbucket *b;          /* 64-byte aligned, in mem[] */
	char                mem[];
};

struct vpc_ktab {
	struct vpc_kslots *tab;         /* published; the rest: the owner's mutex */
	/*
	 * Published: a new value whenever an entry is replaced or removed (and
	 * when the table goes), stored before the old entry is retired.  Values
	 * are unique across all tables (vpc_ktab_changed), so a (gen, entry)
	 * pair remembered by a reader proves, while the table's gen still
	 * equals it, that the entry is live in this very table (vpc_nbr.c's
	 * neighbour cache).
	 */
	uint64_t           gen;
	/* The hash's key: one word per key word, then the last (RO). */
	uint64_t           secret[VPC_KTAB_MAXWORDS + 1];
	uint16_t           keylen;      /* key bytes at offset 0 of an entry */
	uint16_t           kent_off;    /* where its struct vpc_kent is */
	uint32_t           entsize;
	uint32_t           used;        /* live entries */
	uint32_t           tombs;
	uint32_t           sweep_at;    /* a slot number */
	uint64_t           next_gen;
	uint64_t           ntables;
	/* Frees an entry after the epoch (given its kent's defer). */
	void             (*free_fn)(struct os_defer *);
	/* Told of every entry that leaves the table (optional). */
	void             (*removed)(struct vpc_ktab *kt, const void *e);
};

static inline struct vpc_kent *
vpc_kent(const struct vpc_ktab *kt, const void *e)
{
	return ((struct vpc_kent *)(uintptr_t)((const char *)e + kt->kent_off));
}

/* Is e past its time at now? */
static inline bool
vpc_kent_expired(const struct vpc_kent *k, uint64_t now)
{
	return (k->expire_ns != 0 && now >= k->expire_ns);
}

/* ---- The hash ----------------------------------------------------------------- */

static inline uint64_t
vpc_ktab_mul_fold(uint64_t a, uint64_t b)
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

/* Little-endian loads (inlined even where memcpy is not). */
static inline uint32_t
vpc_ktab_le32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return (v);
}

static inline uint16_t
vpc_ktab_le16(const uint8_t *p)
{
	uint16_t v;

	__builtin_memcpy(&v, p, 2);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return (v);
}

/*
 * n (1-6) key bytes as a little-endian number: loads of 4, 2 and 1 bytes
 * (n is a constant wherever it matters).  Little-endian on every CPU, so a
 * table can also make a key's words from its parts (vpc_nbr.c does).
 */
static inline uint64_t
vpc_ktab_word(const uint8_t *p, size_t n)
{
	uint64_t w = 0;
	size_t o = 0;

	if (n >= 4) {
		w = vpc_ktab_le32(p);
		o = 4;
	}
	if (n - o >= 2) {
		w |= (uint64_t)vpc_ktab_le16(p + o) << (8 * o);
		o += 2;
	}
	if (n - o >= 1)
		w |= (uint64_t)p[o] << (8 * o);
	return (w);
}

/* Word i of a key of keylen bytes (i < vpc_ktab_nwords(keylen)). */
static inline uint64_t
vpc_ktab_key_word(const uint8_t *key, size_t keylen, size_t i)
{
	return (vpc_ktab_word(key + 6 * i,
	    keylen - 6 * i < 6 ? keylen - 6 * i : 6));
}

static inline size_t
vpc_ktab_nwords(size_t keylen)
{
	return ((keylen + 5) / 6);
}

/* A key as its words (all VPC_KTAB_MAXWORDS of w set; unused ones 0). */
static inline void
vpc_ktab_words(const void *key, size_t keylen, uint64_t *w)
{
	_Static_assert(VPC_KTAB_MAXWORDS == 4, "vpc_ktab_words unrolls four");
	w[0] = vpc_ktab_key_word(key, keylen, 0);
	w[1] = keylen > 6 ? vpc_ktab_key_word(key, keylen, 1) : 0;
	w[2] = keylen > 12 ? vpc_ktab_key_word(key, keylen, 2) : 0;
	w[3] = keylen > 18 ? vpc_ktab_key_word(key, keylen, 3) : 0;
}

static inline uint64_t
vpc_ktab_hash(const struct vpc_ktab *kt, const uint64_t *w, size_t keylen)
{
	size_t nw = vpc_ktab_nwords(keylen);
	uint64_t h = kt->secret[VPC_KTAB_MAXWORDS];

	h ^= vpc_ktab_mul_fold(w[0] ^ kt->secret[0],
	    (nw > 1 ? w[1] : 0) ^ kt->secret[1]);
	if (nw > 2)
		h ^= vpc_ktab_mul_fold(w[2] ^ kt->secret[2],
		    (nw > 3 ? w[3] : 0) ^ kt->secret[3]);
	return (h);
}

/* The bucket a hash starts at (low bits), its tag (high bits: 2-255). */
static inline uint32_t
vpc_ktab_home(const struct vpc_kslots *t, uint64_t h)
{
	return ((uint32_t)h & t->mask);
}

static inline uint8_t
vpc_ktab_tag(uint64_t h)
{
	uint8_t tag = (uint8_t)(h >> 56);

	return (tag < 2 ? tag + 2 : tag);
}

/* Is e's key these words? */
static inline bool
vpc_ktab_key_is(const void *e, const uint64_t *w, size_t keylen)
{
	if (vpc_ktab_key_word(e, keylen, 0) != w[0])
		return (false);
	if (keylen > 6 && vpc_ktab_key_word(e, keylen, 1) != w[1])
		return (false);
	if (keylen > 12 && vpc_ktab_key_word(e, keylen, 2) != w[2])
		return (false);
	return (keylen <= 18 || vpc_ktab_key_word(e, keylen, 3) == w[3]);
}

/* ---- The data path -------------------------------------------------------- */

/* Byte i of the result is 0x80 where byte i of x is zero, else 0. */
#define VPC_KTAB_SLOT_BITS 0x0080808080808080ull    /* the marks of bytes 0-6 */
#define VPC_KTAB_BYTES(b)  (0x0101010101010101ull * (uint8_t)(b))

static inline uint64_t
vpc_ktab_zero_bytes(uint64_t x)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;

	return (~(((x & low7) + low7) | x | low7));
}

/* A bucket's tags, byte 7 (no slot) reading as a tombstone: never matches. */
static inline uint64_t
vpc_ktab_tags(const struct vpc_kbucket *bk)
{
	return (vpc_load(bk->tags) | (uint64_t)VPC_KTAB_TAG_TOMB << 56);
}

/*
 * The entry with this key (as words) in bucket array t, or NULL: the data
 * path's probe (in the epoch; t loaded with vpc_load) and writers' (mutex
 * held).  keylen is the table's, passed as a constant by each table's caller.
 */
static VPC_HOT_INLINE const void *
vpc_ktab_probe_words(const struct vpc_ktab *kt, const struct vpc_kslots *t,
    const uint64_t *w, size_t keylen)
{
	uint64_t h = vpc_ktab_hash(kt, w, keylen), tags, want, empty, match;
	uint32_t b = vpc_ktab_home(t, h), n, i;
	const void *e;

	want = VPC_KTAB_BYTES(vpc_ktab_tag(h));
	for (n = 0; n <= t->mask; n++, b = (b + 1) & t->mask) {
		tags = vpc_ktab_tags(&t->b[b]);
		empty = vpc_ktab_zero_bytes(tags);
		match = vpc_ktab_zero_bytes(tags ^ want) & VPC_KTAB_SLOT_BITS;
		if (empty != 0)         /* only slots before the first empty one */
			match &= (empty & -empty) - 1;
		for (; match != 0; match &= match - 1) {
			i = (uint32_t)__builtin_ctzll(match) / 8;
			e = vpc_load(t->b[b].ent[i]);
			if (e != NULL && vpc_ktab_key_is(e, w, keylen))
				return (e);
		}
		if (empty != 0)
			return (NULL);
	}
	return (NULL);
}

static inline const void *
vpc_ktab_probe(const struct vpc_ktab *kt, const struct vpc_kslots *t,
    const void *key, size_t keylen)
{
	uint64_t w[VPC_KTAB_MAXWORDS];

	vpc_ktab_words(key, keylen, w);
	return (vpc_ktab_probe_words(kt, t, w, keylen));
}

/*
 * Hints for a caller that knows its next lookups ahead (a batch of frames):
 * the bucket a lookup of these words starts at, then, once that line is in,
 * the first entry its tags point at.  Prefetches only: they change nothing
 * and promise nothing (in the epoch).
 */
static inline void
vpc_ktab_prefetch(const struct vpc_ktab *kt, const uint64_t *w, size_t keylen)
{
	const struct vpc_kslots *t = vpc_load(kt->tab);

	vpc_prefetch(&t->b[vpc_ktab_home(t, vpc_ktab_hash(kt, w, keylen))]);
}

static inline void
vpc_ktab_prefetch_entry(const struct vpc_ktab *kt, const uint64_t *w,
    size_t keylen)
{
	const struct vpc_kslots *t = vpc_load(kt->tab);
	uint64_t h = vpc_ktab_hash(kt, w, keylen), match;
	const struct vpc_kbucket *bk = &t->b[vpc_ktab_home(t, h)];

	match = vpc_ktab_zero_bytes(vpc_ktab_tags(bk) ^
	    VPC_KTAB_BYTES(vpc_ktab_tag(h))) & VPC_KTAB_SLOT_BITS;
	if (match != 0)
		vpc_prefetch(vpc_load(bk->ent[__builtin_ctzll(match) / 8]));
}

/* ---- Writers and the rest (vpc_ktab.c) ----------------------------------------- */

/* EINVAL for a key longer than VPC_KTAB_MAXKEY. */
int  vpc_ktab_init(struct vpc_ktab *kt, uint16_t keylen, uint16_t kent_off,
         uint32_t entsize, void (*free_fn)(struct os_defer *));
/* Nobody can reach the table any more: retire every entry and the array. */
void vpc_ktab_fini(struct vpc_ktab *kt);
void vpc_ktab_retire(struct vpc_ktab *kt, void *e);
/* Room for n more entries (may sleep; takes mtx itself, must not hold it). */
int  vpc_ktab_reserve(struct vpc_ktab *kt, struct os_mtx *mtx, uint32_t n);
/* The rest with the owner's mutex held. */
void *vpc_ktab_find(struct vpc_ktab *kt, const void *key);
/* Put e in, replacing (and retiring) an entry with its key: true if it
 * was new.  Room must have been reserved. */
bool vpc_ktab_put(struct vpc_ktab *kt, void *e);
void vpc_ktab_remove(struct vpc_ktab *kt, void *e);
uint64_t vpc_ktab_remove_if(struct vpc_ktab *kt,
         bool (*match)(const void *, void *), void *arg);
/* Walk from a marker (0, or a cursor handed out by an earlier walk) in slot
 * order until fn returns false; ESTALE when the array changed since. */
int  vpc_ktab_walk(struct vpc_ktab *kt, uint64_t marker,
         bool (*fn)(const void *, uint64_t cursor, void *), void *arg);
/* Reclaim expired entries, a slice of the array per call. */
void vpc_ktab_sweep(struct vpc_ktab *kt, uint64_t now);
uint64_t vpc_ktab_bytes(const struct vpc_ktab *kt);
/* Bookkeeping against the array: counts, load, tags, every entry found by
 * its key; each entry is also handed to fn (owner's checks). */
void vpc_ktab_check(struct vpc_ktab *kt, struct vpc_check *c,
         void (*fn)(const void *, struct vpc_check *, void *), void *arg);

#endif /* _VPC_KTAB_H_ */
