/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_util.c: counter arrays and published port sets, shared by the
 * switch and the vcc.
 */
#include "vpc_impl.h"

int
vpc_counters_alloc(struct os_counter **c, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if ((c[i] = os_counter_alloc(VPC_M_WAITOK)) == NULL) {
			vpc_counters_free(c, i);
			return (VPC_ERR(VPC_ENOMEM));
		}
	}
	return (0);
}

void
vpc_counters_free(struct os_counter **c, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (c[i] != NULL)
			os_counter_free(c[i]);
		c[i] = NULL;
	}
}

struct vpc_portset vpc_portset_empty;

struct vpc_portset *
vpc_portset_new(uint32_t cap)
{
	struct vpc_portset *s;

	s = vpc_alloc(sizeof(*s) + cap * sizeof(s->p[0]), VPC_M_WAITOK);
	if (s != NULL)
		s->cap = cap;
	return (s);
}

void
vpc_portset_free_now(struct vpc_portset *s)
{
	if (s != NULL && s != &vpc_portset_empty)
		vpc_free(s, sizeof(*s) + s->cap * sizeof(s->p[0]));
}

static void
portset_free(struct os_defer *d)
{
	vpc_portset_free_now((struct vpc_portset *)d);
}

void
vpc_portset_retire(struct vpc_portset *s)
{
	if (s != NULL && s != &vpc_portset_empty)
		os_epoch_defer(&s->defer, portset_free);
}
