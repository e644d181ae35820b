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
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/sx.h>
#include <sys/sysctl.h>

#include <vm/uma.h>

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

const void *
os_pkt_peek(const struct vpc_pkt *p, uint32_t off, uint32_t len)
{
	const struct mbuf *m = vpc_cpkt2m(p);

	if (off > (uint32_t)m->m_len || len > (uint32_t)m->m_len - off)
		return (NULL);
	return (mtod(m, const uint8_t *) + off);
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

#ifdef INVARIANTS
/*
 * net.vpc.debug.mbuf_headroom (INVARIANTS kernels only): fault injection
 * for the boot test, the kernel-side counterpart of the host's allocation
 * fault injection.  Writing N >= 0 limits the mbuf zone to the mbufs in use
 * now plus N (uma_zone_set_max(zone_mbuf)), so that the data path meets
 * allocation failures (M_NOWAIT: m_dup, M_PREPEND, m_pullup, m_get3) while
 * frames wait on hold queues; writing -1 puts the zone's own limit back,
 * as does unloading the module.  Reads give the headroom set, or -1.
 * The limit is global: it is for test machines, never for a node in use.
 */
static SYSCTL_NODE(_net_vpc, OID_AUTO, debug, CTLFLAG_RW | CTLFLAG_MPSAFE, 0,
    "Fault injection for tests (INVARIANTS kernels only)");

static struct sx vpc_mbuf_limit_lock;
SX_SYSINIT(vpc_mbuf_limit, &vpc_mbuf_limit_lock, "vpc mbuf limit");
static int vpc_mbuf_headroom = -1;
static int vpc_mbuf_max_saved;

static void
vpc_mbuf_limit_restore(void)
{
	sx_assert(&vpc_mbuf_limit_lock, SA_XLOCKED);
	if (vpc_mbuf_headroom >= 0) {
		uma_zone_set_max(zone_mbuf, vpc_mbuf_max_saved);
		vpc_mbuf_headroom = -1;
	}
}

static int
vpc_sysctl_mbuf_headroom(SYSCTL_HANDLER_ARGS)
{
	int error, v;

	sx_xlock(&vpc_mbuf_limit_lock);
	v = vpc_mbuf_headroom;
	error = sysctl_handle_int(oidp, &v, 0, req);
	if (error != 0 || req->newptr == NULL)
		goto out;
	if (v < -1 || v > 1000000) {
		error = EINVAL;
		goto out;
	}
	if (v == -1) {
		vpc_mbuf_limit_restore();
		goto out;
	}
	if (vpc_mbuf_headroom < 0)
		vpc_mbuf_max_saved = uma_zone_get_max(zone_mbuf);
	/*
	 * Free mbufs cached per CPU and in buckets count against the limit
	 * but do not go through it: give them back to the keg first, so
	 * that N more allocations is what the headroom means.
	 */
	uma_zone_reclaim(zone_mbuf, UMA_RECLAIM_DRAIN_CPU);
	uma_zone_set_max(zone_mbuf, uma_zone_get_cur(zone_mbuf) + v);
	vpc_mbuf_headroom = v;
out:
	sx_xunlock(&vpc_mbuf_limit_lock);
	return (error);
}
SYSCTL_PROC(_net_vpc_debug, OID_AUTO, mbuf_headroom,
    CTLTYPE_INT | CTLFLAG_RW | CTLFLAG_MPSAFE, NULL, 0,
    vpc_sysctl_mbuf_headroom, "I",
    "Limit the mbuf zone to the mbufs in use plus this many (-1: off)");

static void
vpc_mbuf_limit_uninit(void *arg __unused)
{
	sx_xlock(&vpc_mbuf_limit_lock);
	vpc_mbuf_limit_restore();
	sx_xunlock(&vpc_mbuf_limit_lock);
}
SYSUNINIT(vpc_mbuf_limit, SI_SUB_PSEUDO, SI_ORDER_ANY,
    vpc_mbuf_limit_uninit, NULL);
#endif /* INVARIANTS */
