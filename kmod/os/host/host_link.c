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
 *
 * Checksum offload: a frame the sender left to "the hardware" (a veth's
 * peer does, by default) arrives with only the pseudo-header sum in its
 * TCP/UDP checksum.  The receive socket asks for a virtio_net_hdr
 * (PACKET_VNET_HDR) in front of every frame, which says so, and the sum is
 * finished here before the core sees the frame.  A GSO super-frame (a
 * sender's TSO: larger than the MTU) is not segmented here: it is left to
 * the node's stack and not translated (docs/nat.md, "not done").  Sends go
 * through a second, plain socket (a VNET_HDR socket wants the header on
 * send too).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
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
	struct hsrc      src;           /* receive, with a virtio_net_hdr */
	int              tx;            /* send */
	int              ifindex;
};

#define VHDR_LEN ((ssize_t)sizeof(struct virtio_net_hdr))

static uint8_t frame[FRAME_MAX];

/*
 * b: a virtio_net_hdr, then the frame (n bytes in all).  Finish a checksum
 * the sender left undone; false for a GSO super-frame.
 */
static bool
finish_frame(uint8_t *b, ssize_t n)
{
	struct virtio_net_hdr vh;
	uint8_t *f = b + VHDR_LEN;
	size_t len = (size_t)(n - VHDR_LEN), i, start, at;
	uint32_t sum = 0;

	memcpy(&vh, b, sizeof(vh));
	if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return (false);
	if ((vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) == 0)
		return (true);
	start = vh.csum_start;
	at = start + vh.csum_offset;
	if (start >= len || at + 2 > len)
		return (true);          /* nonsense: the core drops what is wrong */
	for (i = start; i + 1 < len; i += 2)
		sum += (uint32_t)f[i] << 8 | f[i + 1];
	if (i < len)
		sum += (uint32_t)f[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	/* UDP: a computed zero is sent as all ones (zero means "none"). */
	if (sum == 0 && vh.csum_offset == 6)
		sum = 0xffff;
	f[at] = (uint8_t)(sum >> 8);
	f[at + 1] = (uint8_t)sum;
	return (true);
}

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
		if (sll.sll_pkttype == PACKET_OUTGOING || n < VHDR_LEN + 14)
			continue;
		if (!finish_frame(frame, n))
			continue;       /* a GSO super-frame: the stack's alone */
		if ((p = host_pkt_new(frame + VHDR_LEN, (uint32_t)(n - VHDR_LEN))) == NULL)
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
	int error, one = 1;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return (VPC_ENOMEM);
	h->link = link;
	h->src.fd = h->tx = -1;
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
	if (setsockopt(h->src.fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    bind(h->src.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		error = errno_vpc(errno);
		goto fail;
	}
	/* Protocol 0: it sends, and receives nothing. */
	h->tx = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sll.sll_protocol = 0;
	if (h->tx < 0 || bind(h->tx, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
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
	if (h->tx >= 0)
		close(h->tx);
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
	close(h->tx);
	h->src.fd = h->tx = -1;
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

	if (h == NULL || h->tx < 0)
		error = VPC_ENXIO;
	else if (send(h->tx, host_pkt_data(p), len, MSG_DONTWAIT) != (ssize_t)len)
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
