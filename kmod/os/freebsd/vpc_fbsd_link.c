/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_link.c: a vpclink on FreeBSD is an Ethernet ifnet taken with
 * the if_bridge hook (vpc_fbsd_ifhook.c: the checks, what is changed and
 * restored, how frames are shared with the node's stack and a VNI 0 vcc).
 * The link's MAC is the interface's.  What the core does not take
 * (os_link_pass) goes back to ether_input's own path, as the hook's return
 * value; what the core sends goes out with if_transmit.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/sysctl.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

static struct vpc_ifhook *
link_hook(struct vpc_link *link)
{
	return ((struct vpc_ifhook *)atomic_load_acq_ptr(
	    (uintptr_t *)vpc_link_osp(link)));
}

int
os_link_bind(struct vpc_link *link, const char *ifname, uint8_t mac[6])
{
	struct vpc_ifhook *h;
	int error;

	error = vpc_ifhook_take(ifname, link, NULL, &h, mac);
	if (error == ENXIO)
		error = ENODEV;		/* no such interface, as on the host */
	if (error != 0)
		return (error);
	atomic_store_rel_ptr((uintptr_t *)vpc_link_osp(link), (uintptr_t)h);
	return (0);
}

/* The core has cleared the link's bound flag: a frame that still finds
 * the hook is passed; the hook is freed after the epoch. */
void
os_link_unbind(struct vpc_link *link)
{
	struct vpc_ifhook *h = link_hook(link);

	if (h == NULL)
		return;
	atomic_store_rel_ptr((uintptr_t *)vpc_link_osp(link), (uintptr_t)NULL);
	vpc_ifhook_release(h, true);
}

int
os_link_output(struct vpc_link *link, struct vpc_pkt *p)
{
	struct vpc_ifhook *h = link_hook(link);

	if (h == NULL) {
		m_freem(vpc_pkt2m(p));
		return (ENXIO);
	}
	return (vpc_ifhook_output(h, vpc_pkt2m(p)));
}

void
os_link_pass(struct vpc_link *link __unused, struct vpc_pkt *p)
{
	vpc_ifhook_pass(vpc_pkt2m(p));
}
