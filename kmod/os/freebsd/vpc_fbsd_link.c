/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_link.c: vpclink on FreeBSD: not implemented yet.
 *
 * Taking over an ifnet's input needs the if_bridge hook fields of struct
 * ifnet (if_bridge_input/output/linkstate, as the origin's ethlink did) and
 * every check bridge_ioctl_add() makes first (not in a bridge or lagg,
 * Ethernet or VLAN only, MTU, LRO off, promiscuous on, all restored on
 * detach; ifnet_departure_event and unload).  Until that is written, a
 * link object can be created (it is configuration) but LINK_SET with an
 * interface answers EOPNOTSUPP, so the operator learns it at configuration
 * time, not by loss; a NAT without a bound link drops what it translates
 * and counts it (VPC_NATSTAT_DROP_NO_LINK).  docs/freebsd.md says so.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/sysctl.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

int
os_link_bind(struct vpc_link *link __unused, const char *ifname __unused,
    uint8_t mac[6] __unused)
{
	return (VPC_EOPNOTSUPP);
}

void
os_link_unbind(struct vpc_link *link __unused)
{
}

/* Never bound, so never called with a frame; free it all the same. */
int
os_link_output(struct vpc_link *link __unused, struct vpc_pkt *p)
{
	m_freem(vpc_pkt2m(p));
	return (VPC_EOPNOTSUPP);
}

void
os_link_pass(struct vpc_link *link __unused, struct vpc_pkt *p)
{
	m_freem(vpc_pkt2m(p));
}
