/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fragmem.c: a memory of fragmented datagrams, for the port firewall
 * (vpc_fw.c) and the NAT (vpc_nat_xlate.c).
 *
 * Only a datagram's first fragment carries the ports (and the ICMP type)
 * that rules, flows and translations are about; the later ones carry the
 * IP header alone.  So when a first fragment is let through (by the
 * firewall) or translated (by the NAT), its datagram is remembered here
 * for VPC_FRAGMEM_NS under a fingerprint of what identifies it (the
 * caller's keyed hash of addresses, protocol, IP id, direction...), with
 * one 32-bit value (the NAT: the address the later fragments get), and
 * the later fragments are handled by what is found.  Nothing is held or
 * reassembled: a later fragment that comes before its first finds nothing.
 *
 * Bounded and allocation-free on the data path: VPC_FRAGMEM_SLOTS slots,
 * a datagram to the slot its fingerprint picks, the newest winning; more
 * fragmented datagrams in flight than slots costs some of them their later
 * fragments.  A slot is a fingerprint (0 while it is being written) and
 * one word holding the expiry (seconds) and the value; a reader takes the
 * word only if it saw the same fingerprint before and after it, so it
 * never pairs a datagram with another's value while one writer writes.
 * Writers that need that guarantee serialize among themselves (the NAT,
 * with its mutex); the firewall's writers do not, and at worst pair a
 * datagram with another's expiry.
 */
#include "vpc_impl.h"

#define VPC_FRAGMEM_SLOTS 8192                   /* a power of two: 128 KiB */
#define VPC_FRAGMEM_S     30                     /* as Linux's ipfrag_time */

struct vpc_fragmem_slot {
	uint64_t fp;                    /* the datagram's fingerprint; 0: none */
	uint64_t word;                  /* expiry (s) << 32 | value */
};

struct vpc_fragmem {
	struct vpc_fragmem_slot slot[VPC_FRAGMEM_SLOTS];
};

struct vpc_fragmem *
vpc_fragmem_create(void)
{
	return (vpc_alloc(sizeof(struct vpc_fragmem), VPC_M_WAITOK));
}

void
vpc_fragmem_destroy(struct vpc_fragmem *t)
{
	if (t != NULL)
		vpc_free(t, sizeof(*t));
}

/* 0 marks a slot being written (or never written): a fingerprint of 0 is 1. */
static uint64_t
nonzero(uint64_t fp)
{
	return (fp != 0 ? fp : 1);
}

static uint32_t
seconds(uint64_t ns)
{
	return ((uint32_t)(ns / 1000000000u));
}

void
vpc_fragmem_remember(struct vpc_fragmem *t, uint64_t fp, uint64_t now,
    uint32_t value)
{
	struct vpc_fragmem_slot *s;

	fp = nonzero(fp);
	s = &t->slot[fp & (VPC_FRAGMEM_SLOTS - 1)];
	__atomic_store_n(&s->fp, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&s->word, (uint64_t)(seconds(now) + VPC_FRAGMEM_S) <<
	    32 | value, __ATOMIC_RELAXED);
	__atomic_store_n(&s->fp, fp, __ATOMIC_RELEASE);
}

bool
vpc_fragmem_find(const struct vpc_fragmem *t, uint64_t fp, uint64_t now,
    uint32_t *value)
{
	const struct vpc_fragmem_slot *s;
	uint64_t w;

	fp = nonzero(fp);
	s = &t->slot[fp & (VPC_FRAGMEM_SLOTS - 1)];
	if (__atomic_load_n(&s->fp, __ATOMIC_ACQUIRE) != fp)
		return (false);
	w = __atomic_load_n(&s->word, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s->fp, __ATOMIC_RELAXED) != fp ||
	    seconds(now) > (uint32_t)(w >> 32))
		return (false);
	if (value != NULL)
		*value = (uint32_t)w;
	return (true);
}
