/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_mem.c: the core's allocator, a thin layer over os_alloc that keeps
 * count of what is outstanding, so that SYS_STATS (and the tests that open
 * and close ten thousand handles) can see a leak as a number.
 */
#include "vpc_impl.h"

static uint64_t mem_bytes;
static uint64_t mem_allocs;

void *
vpc_alloc(size_t size, int mflags)
{
	void *p;

	p = os_alloc(size, mflags | VPC_M_ZERO);
	if (p != NULL) {
		__atomic_add_fetch(&mem_bytes, size, __ATOMIC_RELAXED);
		__atomic_add_fetch(&mem_allocs, 1, __ATOMIC_RELAXED);
	}
	return (p);
}

void
vpc_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	__atomic_sub_fetch(&mem_bytes, size, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&mem_allocs, 1, __ATOMIC_RELAXED);
	os_free(p, size);
}

uint64_t
vpc_mem_bytes(void)
{
	return (__atomic_load_n(&mem_bytes, __ATOMIC_RELAXED));
}

uint64_t
vpc_mem_allocs(void)
{
	return (__atomic_load_n(&mem_allocs, __ATOMIC_RELAXED));
}
