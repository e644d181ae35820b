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
 * A link is the interface's untagged network.  A frame that came with an
 * 802.1Q tag belongs to a VLAN (a VNI 0 switch's uplink on the same
 * interface, or a VLAN the node does not serve) and is never the link's,
 * even though Linux hands it to this socket with the tag taken out: the
 * auxdata (PACKET_AUXDATA) says it had one, and such a frame is skipped.
 * Without that, an ARP request on VLAN 100 for a NAT address would be
 * answered, untagged, as if it came from the provider's network.
 *
 * Checksum offload: a frame the sender left to "the hardware" (a veth's
 * peer does, by default) arrives with only the pseudo-header sum in its
 * TCP/UDP checksum.  The receive socket asks for a virtio_net_hdr
 * (PACKET_VNET_HDR) in front of every frame, which says so, and the sum is
 * finished here before the core sees the frame.  A GSO super-frame (a
 * sender's TSO: one TCP segment larger than the MTU) is cut here into the
 * segments a NIC would have sent (IPv4 TCP only, as software GSO does:
 * IP length, id and checksum, TCP sequence, FIN/PSH on the last only, CWR
 * on the first only, each checksum whole); other GSO kinds are left to the
 * node's stack, not translated.  Sends go through a second, plain socket
 * (a VNET_HDR socket wants the header on send too).
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
#include "host_packet.h"
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

static uint8_t seg[FRAME_MAX];

static void
deliver(struct hlink *h, const uint8_t *data, size_t len)
{
	struct os_epoch et;
	struct vpc_pkt *p;

	if ((p = host_pkt_new(data, (uint32_t)len)) == NULL)
		return;
	os_epoch_enter(&et);
	vpc_link_input(h->link, p);
	os_epoch_exit(&et);
}

static uint32_t
sum16(uint32_t sum, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (i < len)
		sum += (uint32_t)b[i] << 8;
	return (sum);
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

/*
 * Cut an IPv4 TCP super-frame f (len bytes, untagged Ethernet) into
 * segments of mss payload bytes each and deliver them; false if it is not
 * one we can cut (the node's stack keeps it).
 */
static bool
segment_tcp4(struct hlink *h, const uint8_t *f, size_t len, uint16_t mss)
{
	size_t ihl, thl, hdrs, off, chunk;
	uint32_t seq;
	uint16_t id;
	uint8_t *ip, *tcp, flags;
	uint8_t ph[12];
	bool first = true;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4)
		return (false);
	ihl = (size_t)(f[14] & 0xf) * 4;
	if (ihl < 20 || len < 14 + ihl + 20 || f[14 + 9] != 6)
		return (false);
	thl = (size_t)(f[14 + ihl + 12] >> 4) * 4;
	hdrs = 14 + ihl + thl;
	if (thl < 20 || len <= hdrs || mss == 0 || hdrs + mss > sizeof(seg))
		return (false);
	seq = (uint32_t)f[14 + ihl + 4] << 24 | (uint32_t)f[14 + ihl + 5] << 16 |
	    (uint32_t)f[14 + ihl + 6] << 8 | f[14 + ihl + 7];
	id = (uint16_t)(f[14 + 4] << 8 | f[14 + 5]);
	flags = f[14 + ihl + 13];
	for (off = hdrs; off < len; off += chunk, first = false) {
		chunk = len - off < mss ? len - off : mss;
		memcpy(seg, f, hdrs);
		memcpy(seg + hdrs, f + off, chunk);
		ip = seg + 14;
		tcp = ip + ihl;
		ip[2] = (uint8_t)((ihl + thl + chunk) >> 8);
		ip[3] = (uint8_t)(ihl + thl + chunk);
		ip[4] = (uint8_t)(id >> 8);
		ip[5] = (uint8_t)id;
		id++;
		ip[10] = ip[11] = 0;
		{
			uint16_t c = fold(sum16(0, ip, ihl));

			ip[10] = (uint8_t)(c >> 8);
			ip[11] = (uint8_t)c;
		}
		tcp[4] = (uint8_t)(seq >> 24);
		tcp[5] = (uint8_t)(seq >> 16);
		tcp[6] = (uint8_t)(seq >> 8);
		tcp[7] = (uint8_t)seq;
		seq += (uint32_t)chunk;
		tcp[13] = flags;
		if (off + chunk < len)
			tcp[13] &= (uint8_t)~0x09;      /* FIN, PSH: the last only */
		if (!first)
			tcp[13] &= (uint8_t)~0x80;      /* CWR: the first only */
		tcp[16] = tcp[17] = 0;
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		ph[10] = (uint8_t)((thl + chunk) >> 8);
		ph[11] = (uint8_t)(thl + chunk);
		{
			uint16_t c = fold(sum16(sum16(0, ph, 12), tcp, thl + chunk));

			tcp[16] = (uint8_t)(c >> 8);
			tcp[17] = (uint8_t)c;
		}
		deliver(h, seg, hdrs + chunk);
	}
	return (true);
}

static void
link_event(struct hsrc *src, uint32_t events)
{
	struct hlink *h = src->arg;
	struct hpacket_rx rx;
	ssize_t n;
	int i;

	(void)events;
	for (i = 0; i < RX_BATCH && !src->retired; i++) {
		n = hpacket_recv(src->fd, frame, sizeof(frame), &rx);
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
		/* A VLAN's frame is not the link's (VLAN 0: a priority tag on
		 * the untagged network, 802.1p); an in-band tag needs no check,
		 * the core takes only ARP and IPv4 ethertypes. */
		if (rx.tagged && (rx.tci & 0xfff) != 0)
			continue;
		if (rx.outgoing || n < VHDR_LEN + 14)
			continue;
		if (!finish_frame(frame, n)) {
			struct virtio_net_hdr vh;

			memcpy(&vh, frame, sizeof(vh));
			if ((vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4)
				(void)segment_tcp4(h, frame + VHDR_LEN,
				    (size_t)(n - VHDR_LEN), vh.gso_size);
			continue;       /* other GSO kinds: the stack's alone */
		}
		deliver(h, frame + VHDR_LEN, (size_t)(n - VHDR_LEN));
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
	    setsockopt(h->src.fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
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
