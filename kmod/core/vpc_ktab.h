/*
 * vpc_ktab.h: the keyed table a switch's CAM (vpc_cam.c) and neighbour table
 * (vpc_nbr.c) are both built on.
 *
 * An open-addressing table (linear probing, keyed SipHash) of pointers to
 * immutable entries.  An entry starts with its key (keylen bytes at offset
 * 0) and embeds a struct vpc_kent (at kent_off) with what the table itself
 * needs of it: expiry, generation, the deferred free.  The data path reads
 * the table inside the epoch without a lock: it loads the published slot
 * array, then slot pointers, and compares keys.  Writers hold the owner's
 * mutex (the switch's), replace an entry by storing a new pointer into its
 * slot and retire the old one through the epoch: an entry is never edited
 * in place.  Growing allocates the new slot array *before* the mutex is
 * taken (only control code inserts, and it may sleep), rehashes under the
 * mutex, publishes it and retires the old one; entries are shared between
 * the two arrays, so growing allocates nothing per entry.
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

#define VPC_KTAB_TOMB ((void *)(uintptr_t)1)

/* struct vpc_kent, what the table needs of every entry, is in vpc_impl.h. */

/* The slot array: published as a whole. */
struct vpc_kslots {
	struct os_defer defer;
	uint32_t        mask;
	uint64_t        id;             /* which array: dump markers */
	void           *slot[];
};

struct vpc_ktab {
	struct vpc_kslots *tab;         /* published; the rest: the owner's mutex */
	struct vpc_hashkey key;
	uint16_t           keylen;      /* key bytes at offset 0 of an entry */
	uint16_t           kent_off;    /* where its struct vpc_kent is */
	uint32_t           entsize;
	uint32_t           used;        /* live entries */
	uint32_t           tombs;
	uint32_t           sweep_at;
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

/*
 * The entry with this key in slot array t, or NULL: the data path's probe
 * (in the epoch; t loaded with vpc_load) and writers' (mutex held).
 * keylen is the table's, passed as a constant by each table's caller.
 */
static inline const void *
vpc_ktab_probe(const struct vpc_ktab *kt, const struct vpc_kslots *t,
    const void *key, size_t keylen)
{
	uint32_t i = (uint32_t)vpc_hash(&kt->key, key, keylen), n;
	const void *e;

	for (n = 0; n <= t->mask; n++, i++) {
		e = vpc_load(t->slot[i & t->mask]);
		if (e == NULL)
			return (NULL);
		if (e != VPC_KTAB_TOMB && memcmp(e, key, keylen) == 0)
			return (e);
	}
	return (NULL);
}

/* Is e past its time at now? */
static inline bool
vpc_kent_expired(const struct vpc_kent *k, uint64_t now)
{
	return (k->expire_ns != 0 && now >= k->expire_ns);
}

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
/* Bookkeeping against the array: counts, load, every entry found by its
 * key; each entry is also handed to fn (owner's checks). */
void vpc_ktab_check(struct vpc_ktab *kt, struct vpc_check *c,
         void (*fn)(const void *, struct vpc_check *, void *), void *arg);

#endif /* _VPC_KTAB_H_ */
