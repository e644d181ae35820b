/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_gso.c: a run of one flow's datagrams to the underlay as one send,
 * and coalesced datagrams from it cut apart.
 *
 * Why: a datagram costs ~5.5 us of CPU through sendmmsg(2) here, sender
 * and receiver together over a veth pair, which is most of what a VM's bulk
 * TCP to another node costs once the TAP carries 64 KB frames (host_vnet.c):
 * a 64 KB frame leaves as ~45 datagrams.  With UDP_SEGMENT the kernel builds
 * one packet for the run and cuts it only where a device cannot carry it
 * (veth and bridges carry it whole), and a receiving socket with UDP_GRO is
 * handed it whole, with the size of its datagrams.
 *
 * What goes on the wire is what went before, with one difference: these
 * sockets are UDP sockets, so IPv4 datagrams carry a UDP checksum, where the
 * raw socket's carry none (both are valid VXLAN, RFC 7348).
 */
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#include "vpc_os.h"
#include "host_gso.h"

void
host_gso_init(struct host_gso *g, const struct sockaddr_storage *addr,
    socklen_t addrlen)
{
	unsigned i;

	memset(g, 0, sizeof(*g));
	if (addr != NULL) {
		g->addr = *addr;
		g->addrlen = addrlen;
	}
	for (i = 0; i < HOST_GSO_SLOTS; i++)
		g->slot[i].fd = -1;
}

void
host_underlay_tx_opts(int fd, int af)
{
	static struct sock_filter drop_all[] = { { BPF_RET | BPF_K, 0, 0, 0 } };
	struct sock_fprog prog = { 1, drop_all };
	int one = 1, pmtu = IP_PMTUDISC_DO;

	(void)setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
	if (af == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	else
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof(one));
}

/* Is slot i holding a port (a socket, or a port found unbindable)? */
static bool
slot_used(const struct host_gso *g, unsigned i)
{
	return (g->slot[i].fd >= 0 || g->slot[i].unbindable);
}

static void
slot_clear(struct host_gso *g, unsigned i)
{
	if (g->slot[i].fd >= 0)
		close(g->slot[i].fd);
	g->slot[i].fd = -1;
	g->slot[i].sport = 0;
	g->slot[i].unbindable = false;
}

void
host_gso_close(struct host_gso *g)
{
	unsigned i;

	os_timer_destroy(g->idle);      /* not running: the loop's thread is here */
	g->idle = NULL;
	for (i = 0; i < HOST_GSO_SLOTS; i++)
		slot_clear(g, i);
}

/* The idle timer: free the ports of flows that stopped sending runs. */
static void
close_idle(void *arg)
{
	struct host_gso *g = arg;
	uint64_t now = os_now_coarse_ns();
	bool left = false;
	unsigned i;

	for (i = 0; i < HOST_GSO_SLOTS; i++) {
		if (!slot_used(g, i))
			continue;
		if (now - g->slot[i].used_ns >= HOST_GSO_IDLE_NS)
			slot_clear(g, i);
		else
			left = true;
	}
	if (left)
		os_timer_arm(g->idle, HOST_GSO_IDLE_NS);
}

/*
 * A UDP socket on (the vcc's address, sport) that sends and never
 * receives: what comes to that port is dropped by its filter, not queued.
 */
static int
open_sender(const struct host_gso *g, uint16_t sport)
{
	struct sockaddr_storage ss = g->addr;
	int af = ss.ss_family, fd, one = 1, small = 1;

	if (g->addrlen == 0)
		return (-1);            /* the family's socket was never bound */
	if (af == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(sport);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(sport);
	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return (-1);
	if (af == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	host_underlay_tx_opts(fd, af);
	if (bind(fd, (struct sockaddr *)&ss, g->addrlen) < 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* The socket for sport, made if need be; -1 if there is none. */
static int
sender(struct host_gso *g, uint16_t sport)
{
	unsigned i, k, victim = 0;
	bool idle_armed = false;

	g->runs++;
	for (i = 0; i < HOST_GSO_SLOTS; i++) {
		if (slot_used(g, i) && g->slot[i].sport == sport) {
			g->slot[i].used_ns = os_now_coarse_ns();
			g->slot[i].used_seq = g->runs;
			return (g->slot[i].fd);
		}
	}
	/* A free slot, else the least recently used one. */
	for (i = 0; i < HOST_GSO_SLOTS; i++) {
		if (!slot_used(g, i)) {
			victim = i;
			break;
		}
		if (g->slot[i].used_seq < g->slot[victim].used_seq)
			victim = i;
	}
	i = victim;
	/* The idle timer runs while any slot is in use. */
	for (k = 0; k < HOST_GSO_SLOTS; k++)
		idle_armed |= k != i && slot_used(g, k);
	slot_clear(g, i);               /* another flow had the slot */
	g->slot[i].sport = sport;
	g->slot[i].used_ns = os_now_coarse_ns();
	g->slot[i].used_seq = g->runs;
	g->slot[i].fd = open_sender(g, sport);
	g->slot[i].unbindable = g->slot[i].fd < 0;
	g->opened += g->slot[i].fd >= 0;
	if (g->idle == NULL)
		g->idle = os_timer_create(NULL, close_idle, g);
	if (g->idle != NULL && !idle_armed)
		os_timer_arm(g->idle, HOST_GSO_IDLE_NS);
	return (g->slot[i].fd);
}

int
host_gso_send(struct host_gso *g, uint16_t sport,
    const struct sockaddr_storage *dst, socklen_t dstlen,
    const struct iovec *iov, unsigned n, uint16_t seg)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(uint16_t))];
	} cm;
	struct msghdr msg;
	struct cmsghdr *c;
	size_t total = 0;
	unsigned i;
	ssize_t r;
	int fd;

	if (n < 2 || n > HOST_GSO_MAX_SEGS || (fd = sender(g, sport)) < 0)
		return (-1);
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (total > HOST_GSO_MAX_BYTES)
		return (-1);
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_name = (void *)(uintptr_t)dst;
	msg.msg_namelen = dstlen;
	msg.msg_iov = (struct iovec *)(uintptr_t)iov;
	msg.msg_iovlen = n;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	r = sendmsg(fd, &msg, MSG_DONTWAIT);
	/* One packet: all of it left or none. */
	return (r == (ssize_t)total ? 0 : -1);
}

void
host_gso_rx_enable(int fd)
{
	int one = 1;

	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
}

uint16_t
host_gso_rx_seg(struct msghdr *msg)
{
	struct cmsghdr *c;
	int seg;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(seg))) {
			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			if (seg > 0 && seg <= 65535)
				return ((uint16_t)seg);
		}
	}
	return (0);
}
