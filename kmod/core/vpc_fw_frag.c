/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fw_frag.c: the port firewall's memory of fragmented datagrams.
 *
 * Only a datagram's first fragment carries the ports (and the ICMP type)
 * the rules and the flows are about; the later ones carry the IP header
 * alone.  When a first fragment passes a port's firewall, its datagram
 * (port, direction, addresses, protocol, IP id) is remembered here for
 * VPC_FW_FRAG_NS, and a later fragment of it passes too; a later fragment
 * of no datagram remembered is dropped as invalid, as every fragment was
 * before.  So a datagram is judged by its first fragment, the way a host
 * that reassembles would judge it.  What this does not do: a later
 * fragment that arrives before its first is dropped (no reassembly, no
 * holding), and a rule change does not recall fragments already allowed
 * (they belong to datagrams the old rules let start).
 *
 * Bounded and allocation-free on the data path: a table of
 * VPC_FW_FRAG_SLOTS slots, each a datagram's 64-bit fingerprint (the
 * firewall's keyed hash: a remote cannot aim at another datagram's slot)
 * and its expiry, a datagram to the slot its fingerprint picks, the
 * newest in it winning.  More fragmented datagrams in flight than slots
 * only costs some of them their later fragments.  Lock-free: a reader that
 * sees a slot half written takes a fingerprint with a neighbour's expiry
 * at worst, which may let a fragment of a datagram that passed in up to
 * VPC_FW_FRAG_NS late, never one of a datagram that did not pass.
 */
#include "vpc_impl.h"

#define VPC_FW_FRAG_SLOTS 8192                   /* a power of two: 128 KiB */
#define VPC_FW_FRAG_NS    (30ull * 1000000000ull)  /* as Linux's ipfrag_time */

struct vpc_fwfrag_slot {
	uint64_t fp;                    /* the datagram's fingerprint; 0: none */
	uint64_t expires_ns;
};

struct vpc_fwfrags {
	struct vpc_fwfrag_slot slot[VPC_FW_FRAG_SLOTS];
};

const size_t vpc_fwfrag_bytes = sizeof(struct vpc_fwfrags);

struct vpc_fwfrags *
vpc_fwfrag_create(void)
{
	struct vpc_fwfrags *t;

	if ((t = vpc_alloc(sizeof(*t), VPC_M_WAITOK)) != NULL)
		memset(t, 0, sizeof(*t));
	return (t);
}

void
vpc_fwfrag_destroy(struct vpc_fwfrags *t)
{
	if (t != NULL)
		vpc_free(t, sizeof(*t));
}

/* 0 is an empty slot's: a datagram whose fingerprint is 0 takes 1. */
static uint64_t
nonzero(uint64_t fp)
{
	return (fp != 0 ? fp : 1);
}

void
vpc_fwfrag_remember(struct vpc_fwfrags *t, uint64_t fp, uint64_t now)
{
	struct vpc_fwfrag_slot *s;

	fp = nonzero(fp);
	s = &t->slot[fp & (VPC_FW_FRAG_SLOTS - 1)];
	__atomic_store_n(&s->expires_ns, now + VPC_FW_FRAG_NS, __ATOMIC_RELAXED);
	__atomic_store_n(&s->fp, fp, __ATOMIC_RELEASE);
}

bool
vpc_fwfrag_known(const struct vpc_fwfrags *t, uint64_t fp, uint64_t now)
{
	const struct vpc_fwfrag_slot *s;

	fp = nonzero(fp);
	s = &t->slot[fp & (VPC_FW_FRAG_SLOTS - 1)];
	return (__atomic_load_n(&s->fp, __ATOMIC_ACQUIRE) == fp &&
	    now <= __atomic_load_n(&s->expires_ns, __ATOMIC_RELAXED));
}
