/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_link.c: a vpclink on the host kernel: an AF_PACKET socket bound to
 * an existing interface of vpc-hostd's namespace (the same kind of socket a
 * VNI 0 vcc uses, host_vcc.c).
 *
 * The socket receives a copy of every frame the interface brings; the
 * kernel's own stack gets the original regardless, so the node's own
 * traffic on that interface keeps working and a frame the core does not
 * take (os_link_pass) is simply freed here.  What the core does take (ARP
 * for a NAT address, IPv4 to one) is not the stack's business: the
 * addresses are not the node's, so with forwarding off (a namespace's
 * default) it drops them.  Our own transmissions come back as
 * PACKET_OUTGOING and are skipped.  Nothing of the interface is changed
 * (no promiscuous mode: frames for the link come to the interface's own
 * MAC), so unbinding has nothing to restore.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpc_core.h"
#include "host_loop.h"
#include "host_pkt.h"

#define RX_BATCH  64
#define FRAME_MAX 65536

struct hlink {
	struct vpc_link *link;
	struct hsrc      src;
	int              ifindex;
};

static uint8_t frame[FRAME_MAX];

static void
link_event(struct hsrc *src, uint32_t events)
{
	struct hlink *h = src->arg;
	struct sockaddr_ll sll;
	struct os_epoch et;
	struct vpc_pkt *p;
	socklen_t slen;
	ssize_t n;
	int i;

	(void)events;
	for (i = 0; i < RX_BATCH && !src->retired; i++) {
		slen = sizeof(sll);
		n = recvfrom(src->fd, frame, sizeof(frame), MSG_DONTWAIT,
		    (struct sockaddr *)&sll, &slen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				int err;
				socklen_t elen = sizeof(err);

				/* The interface went away or down: clear the
				 * error, the loop stops reporting it. */
				(void)getsockopt(src->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
			}
			break;
		}
		if (sll.sll_pkttype == PACKET_OUTGOING || n < 14)
			continue;
		if ((p = host_pkt_new(frame, (uint32_t)n)) == NULL)
			continue;
		os_epoch_enter(&et);
		vpc_link_input(h->link, p);
		os_epoch_exit(&et);
	}
}

static void
src_nofree(struct hsrc *src)
{
	(void)src;
}

static int
errno_vpc(int e)
{
	switch (e) {
	case ENODEV:
	case ENXIO:
		return (VPC_ENODEV);
	case EPERM:
	case EACCES:
		return (VPC_EPERM);
	case ENOMEM:
	case ENOBUFS:
		return (VPC_ENOMEM);
	default:
		return (VPC_EINVAL);
	}
}

/* The interface's MAC; ENODEV unless it is Ethernet (ARPHRD_ETHER). */
static int
read_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd, error = 0;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return (errno_vpc(errno));
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		error = errno_vpc(errno);
	else if (ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */)
		error = VPC_ENODEV;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return (error);
}

int
os_link_bind(struct vpc_link *link, const char *ifname, uint8_t mac[6])
{
	struct sockaddr_ll sll;
	struct hlink *h;
	int error;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return (VPC_ENOMEM);
	h->link = link;
	h->src.fd = -1;
	if ((h->ifindex = (int)if_nametoindex(ifname)) == 0) {
		error = VPC_ENODEV;
		goto fail;
	}
	if ((error = read_mac(ifname, mac)) != 0)
		goto fail;
	h->src.fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    htons(ETH_P_ALL));
	if (h->src.fd < 0) {
		error = errno_vpc(errno);
		goto fail;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = h->ifindex;
	if (bind(h->src.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		error = errno_vpc(errno);
		goto fail;
	}
	h->src.fn = link_event;
	h->src.arg = h;
	h->src.free_fn = src_nofree;
	if (hloop_add(&h->src, EPOLLIN) < 0) {
		error = VPC_ENOMEM;
		goto fail;
	}
	*vpc_link_osp(link) = h;
	return (0);
fail:
	if (h->src.fd >= 0)
		close(h->src.fd);
	free(h);
	return (error);
}

void
os_link_unbind(struct vpc_link *link)
{
	struct hlink *h = *vpc_link_osp(link);

	if (h == NULL)
		return;
	(void)epoll_ctl(host_loop_fd(), EPOLL_CTL_DEL, h->src.fd, NULL);
	close(h->src.fd);
	h->src.fd = -1;
	h->src.retired = true;          /* its events may sit in this batch */
	*vpc_link_osp(link) = NULL;
	host_defer_free(h);
}

int
os_link_output(struct vpc_link *link, struct vpc_pkt *p)
{
	struct hlink *h = *vpc_link_osp(link);
	uint32_t len = os_pkt_len(p);
	int error = 0;

	if (h == NULL || h->src.fd < 0)
		error = VPC_ENXIO;
	else if (send(h->src.fd, host_pkt_data(p), len, MSG_DONTWAIT) != (ssize_t)len)
		error = VPC_ENOBUFS;
	os_pkt_free(p);
	return (error);
}

/* The stack had its own copy: nothing to hand over. */
void
os_link_pass(struct vpc_link *link, struct vpc_pkt *p)
{
	(void)link;
	os_pkt_free(p);
}
