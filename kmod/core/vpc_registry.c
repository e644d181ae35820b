/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_registry.c: every live object by id (a keyed hash table that doubles
 * when it fills up) and in creation order (a list, for SYS_LIST and its
 * resume marker).  Called with the control lock held.
 */
#include "vpc_impl.h"

#define REG_MIN_BUCKETS 64u

static uint32_t
bucket_of(const struct vpc_sys *sys, const vpc_id_t *id, uint32_t nbuckets)
{
	return ((uint32_t)vpc_hash(&sys->hkey, id, sizeof(*id)) & (nbuckets - 1));
}

int
vpc_reg_init(struct vpc_sys *sys)
{
	sys->buckets = vpc_alloc(REG_MIN_BUCKETS * sizeof(*sys->buckets),
	    VPC_M_WAITOK);
	if (sys->buckets == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	sys->nbuckets = REG_MIN_BUCKETS;
	return (0);
}

void
vpc_reg_fini(struct vpc_sys *sys)
{
	vpc_free(sys->buckets, sys->nbuckets * sizeof(*sys->buckets));
	sys->buckets = NULL;
	sys->nbuckets = 0;
}

struct vpc_obj *
vpc_reg_lookup(struct vpc_sys *sys, const vpc_id_t *id)
{
	struct vpc_obj *o;

	VPC_ASSERT_CTL(sys);
	o = sys->buckets[bucket_of(sys, id, sys->nbuckets)];
	for (; o != NULL; o = o->hash_next)
		if (memcmp(&o->id, id, sizeof(*id)) == 0)
			return (o);
	return (NULL);
}

/* Doubling is an optimisation: when memory is short we keep longer chains. */
static void
reg_grow(struct vpc_sys *sys)
{
	struct vpc_obj **nb, *o, *next;
	uint32_t n = sys->nbuckets * 2, i, b;

	nb = vpc_alloc(n * sizeof(*nb), VPC_M_NOWAIT);
	if (nb == NULL)
		return;
	for (i = 0; i < sys->nbuckets; i++) {
		for (o = sys->buckets[i]; o != NULL; o = next) {
			next = o->hash_next;
			b = bucket_of(sys, &o->id, n);
			o->hash_next = nb[b];
			nb[b] = o;
		}
	}
	vpc_free(sys->buckets, sys->nbuckets * sizeof(*sys->buckets));
	sys->buckets = nb;
	sys->nbuckets = n;
}

int
vpc_reg_insert(struct vpc_sys *sys, struct vpc_obj *o)
{
	uint32_t b;

	VPC_ASSERT_CTL(sys);
	if (vpc_reg_lookup(sys, &o->id) != NULL)
		return (VPC_ERR(VPC_EEXIST));
	if (sys->nobjs + 1 > (uint64_t)sys->nbuckets * 2)
		reg_grow(sys);
	b = bucket_of(sys, &o->id, sys->nbuckets);
	o->hash_next = sys->buckets[b];
	sys->buckets[b] = o;

	o->serial = ++sys->next_serial;
	VPC_LIST_INSERT_TAIL(&sys->objs, o, link);

	sys->nobjs++;
	sys->by_type[o->type]++;
	return (0);
}

void
vpc_reg_remove(struct vpc_sys *sys, struct vpc_obj *o)
{
	struct vpc_obj **pp;

	VPC_ASSERT_CTL(sys);
	pp = &sys->buckets[bucket_of(sys, &o->id, sys->nbuckets)];
	while (*pp != NULL && *pp != o)
		pp = &(*pp)->hash_next;
	if (*pp == o)
		*pp = o->hash_next;
	o->hash_next = NULL;

	VPC_LIST_REMOVE(&sys->objs, o, link);

	sys->nobjs--;
	sys->by_type[o->type]--;
}
