/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_pkt.c: the core's packets are mbuf chains (a struct vpc_pkt *
 * is a struct mbuf * with M_PKTHDR).  The contract of vpc_os.h: nothing
 * here sleeps (M_NOWAIT everywhere), and a function that may have to
 * reallocate frees the chain and sets *pp to NULL when it fails.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/sysctl.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

uint32_t
os_pkt_len(const struct vpc_pkt *p)
{
	return ((uint32_t)vpc_cpkt2m(p)->m_pkthdr.len);
}

/*
 * The first len bytes, contiguous *and writable*: the core edits headers in
 * place (802.1Q tags in and out).  A chain whose first mbuf shares its
 * storage (a copy, a cluster from a driver) gets a fresh header mbuf with
 * the bytes copied up (m_copyup); the rest of the chain stays shared.
 */
void *
os_pkt_pullup(struct vpc_pkt **pp, uint32_t len)
{
	struct mbuf *m = vpc_pkt2m(*pp);

	if (len > (uint32_t)m->m_pkthdr.len || len > MHLEN) {
		m_freem(m);
		*pp = NULL;
		return (NULL);
	}
	if ((uint32_t)m->m_len < len || !M_WRITABLE(m)) {
		if (M_WRITABLE(m))
			m = m_pullup(m, (int)len);
		else
			m = m_copyup(m, (int)len, 0);
		*pp = vpc_m2pkt(m);
		if (m == NULL)
			return (NULL);	/* freed by m_pullup/m_copyup */
	}
	return (mtod(m, void *));
}

/*
 * M_PREPEND uses leading space only when the first mbuf is writable
 * (M_LEADINGSPACE is 0 otherwise) and frees the chain when it fails; the
 * prepended bytes are always contiguous.  The core prepends at most a
 * VXLAN header or an 802.1Q tag.
 */
void *
os_pkt_prepend(struct vpc_pkt **pp, uint32_t len)
{
	struct mbuf *m = vpc_pkt2m(*pp);

	KASSERT(len <= MHLEN, ("%s: %u bytes", __func__, len));
	M_PREPEND(m, (int)len, M_NOWAIT);
	*pp = vpc_m2pkt(m);
	if (m == NULL)
		return (NULL);
	return (mtod(m, void *));
}

void
os_pkt_adj(struct vpc_pkt *p, uint32_t len)
{
	struct mbuf *m = vpc_pkt2m(p);

	KASSERT(len <= (uint32_t)m->m_pkthdr.len,
	    ("%s: %u > %d", __func__, len, m->m_pkthdr.len));
	m_adj(m, (int)len);
}

bool
os_pkt_copyout(const struct vpc_pkt *p, uint32_t off, uint32_t len, void *dst)
{
	const struct mbuf *m = vpc_cpkt2m(p);
	uint32_t plen = (uint32_t)m->m_pkthdr.len;

	if (off > plen || len > plen - off)
		return (false);
	if (len > 0)
		m_copydata(m, (int)off, (int)len, dst);
	return (true);
}

/*
 * A deep copy.  Flood copies go to ifnets whose input path may write into
 * the frame (ether_input untags 802.1Q in place; netgraph hooks may edit),
 * so they must not share clusters; if_bridge makes the same choice for
 * copies it hands to the local stack.  Flooding is for broadcast and
 * multicast only, so the cost stays small.
 */
struct vpc_pkt *
os_pkt_dup(const struct vpc_pkt *p)
{
	return (vpc_m2pkt(m_dup(vpc_cpkt2m(p), M_NOWAIT)));
}

CTASSERT(VPC_PKT_ALLOC_MAX <= MJUM16BYTES);

/*
 * One mbuf whatever the size (m_get3: a cluster, or a page or 9k/16k jumbo
 * cluster), so the core gets the bytes contiguous.  The data sits at the
 * end of the buffer: headers prepended later find room in front.
 */
struct vpc_pkt *
os_pkt_alloc(uint32_t len, void **data)
{
	struct mbuf *m;

	if (len == 0 || len > VPC_PKT_ALLOC_MAX)
		return (NULL);
	m = m_get3((int)len, M_NOWAIT, MT_DATA, M_PKTHDR);
	if (m == NULL)
		return (NULL);
	m_align(m, (int)len);
	m->m_len = m->m_pkthdr.len = (int)len;
	*data = mtod(m, void *);
	return (vpc_m2pkt(m));
}

void
os_pkt_free(struct vpc_pkt *p)
{
	m_freem(vpc_pkt2m(p));
}

struct vpc_pkt *
os_pkt_next(const struct vpc_pkt *p)
{
	return (vpc_m2pkt(vpc_cpkt2m(p)->m_nextpkt));
}

void
os_pkt_set_next(struct vpc_pkt *p, struct vpc_pkt *next)
{
	vpc_pkt2m(p)->m_nextpkt = next != NULL ? vpc_pkt2m(next) : NULL;
}

/* The RSS hash the NIC (or the stack) computed, if any. */
uint32_t
os_pkt_flowid(const struct vpc_pkt *p)
{
	const struct mbuf *m = vpc_cpkt2m(p);

	return (M_HASHTYPE_GET(m) != M_HASHTYPE_NONE ? m->m_pkthdr.flowid : 0);
}
