/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_vcc.c: the vcc on the host kernel.
 *
 *  - receive: a UDP socket bound to the vcc's address and port (one per
 *    family), so the kernel hands us exactly the VXLAN payloads;
 *  - send: a raw IPPROTO_UDP socket bound to the same address, because the
 *    UDP source port must follow the flow hash (RFC 7348), which a bound UDP
 *    socket cannot do.  We write the UDP header; the kernel adds IP.  IPv4
 *    carries a zero UDP checksum (RFC 7348); IPv6 gets one computed by the
 *    kernel (IPV6_CHECKSUM).  Don't-fragment is set: the VTEP never
 *    fragments, oversize is dropped and counted.  The raw sockets would also
 *    receive every UDP packet of the namespace: a filter drops them all.
 *  - VNI 0: an AF_PACKET socket on the l2_ifname device, with the VLAN tags
 *    Linux strips into auxdata put back.
 *  - drops: what Linux drops because a receive socket's buffer is full
 *    never reaches the core, so it is read from the socket: SO_RXQ_OVFL
 *    gives the socket's drop count with every datagram, SO_MEMINFO when the
 *    counters are read (so drops after the last datagram show too); the
 *    count survives a reconfiguration (new sockets).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpc_core.h"
#include "host_loop.h"
#include "host_packet.h"
#include "host_gro.h"
#include "host_gso.h"
#include "host_pkt.h"
#include "host_vcc.h"

#define RX_BATCH  64
#define DGRAM_MAX 65536

struct hvcc {
	struct vpc_vcc *vcc;
	struct hsrc     rx4, rx6, l2;   /* fd -1 when absent */
	int             tx4, tx6;
	struct host_gso gso4, gso6;     /* runs of a flow sent as one */
	int             l2_ifindex;
	vpc_vcc_t       conf;
	uint32_t        seen4, seen6;   /* the sockets' drop counts, last read */
	uint64_t        drops;          /* every socket this vcc had */
};

uint64_t host_fail_udp_send_every;      /* fault injection: every Nth send fails */
static uint64_t udp_sends;
static uint8_t dgram[DGRAM_MAX];

static int
vpc_errno(int e)
{
	switch (e) {
	case EADDRNOTAVAIL:
		return (VPC_EADDRNOTAVAIL);
	case EADDRINUSE:
		return (VPC_EADDRINUSE);
	case EPERM:
	case EACCES:
		return (VPC_EPERM);
	case ENODEV:
		return (VPC_ENXIO);
	case EMFILE:
	case ENFILE:
		return (VPC_EMFILE);
	default:
		return (VPC_EINVAL);
	}
}

/* ---- Receive ---------------------------------------------------------------------- */

/*
 * A socket's cumulative drop count (a u32 that wraps) as just read.  A value
 * older than the last one seen (a datagram queued before the last
 * SO_MEMINFO) is ignored.
 */
static void
note_drops(struct hvcc *h, const struct hsrc *src, uint32_t now)
{
	uint32_t *seen = src == &h->rx4 ? &h->seen4 : &h->seen6;
	uint32_t delta = now - *seen;

	if (delta != 0 && delta < 0x80000000u) {
		h->drops += delta;
		*seen = now;
	}
}

static void
poll_drops(struct hvcc *h, const struct hsrc *src)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (src->fd >= 0 && getsockopt(src->fd, SOL_SOCKET, SO_MEMINFO, mem,
	    &len) == 0 && len > SK_MEMINFO_DROPS * sizeof(uint32_t))
		note_drops(h, src, mem[SK_MEMINFO_DROPS]);
}

static void
rx_event(struct hsrc *src, uint32_t events)
{
	struct hvcc *h = src->arg;
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = dgram, .iov_len = sizeof(dgram) };
	struct msghdr msg;
	struct cmsghdr *c;
	struct os_epoch et;
	struct vpc_pkt *p;
	uint32_t dropped, off, len;
	uint16_t seg;
	ssize_t n;
	int i;

	(void)events;
	/* A flow's segments for one VM leave as one frame (host_gro.c). */
	host_gro_begin();
	for (i = 0; i < RX_BATCH; i++) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		n = recvmsg(src->fd, &msg, MSG_DONTWAIT);
		if (n < 0)
			break;
		for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				memcpy(&dropped, CMSG_DATA(c), sizeof(dropped));
				note_drops(h, src, dropped);
			}
		}
		/* Coalesced (UDP_GRO): datagrams of seg bytes, the last no more. */
		seg = host_gso_rx_seg(&msg);
		off = 0;
		do {
			len = (uint32_t)n - off;
			if (seg != 0 && len > seg)
				len = seg;
			p = host_pkt_new(dgram + off, len);
			off += len;
			if (p == NULL)
				continue;
			os_epoch_enter(&et);
			vpc_vcc_input(h->vcc, p);
			os_epoch_exit(&et);
		} while (off < (uint32_t)n);
	}
	host_gro_end();
}

static void
l2_event(struct hsrc *src, uint32_t events)
{
	struct hvcc *h = src->arg;
	struct hpacket_rx rx;
	struct os_epoch et;
	struct vpc_pkt *p;
	uint8_t *frame;
	ssize_t n;
	int i;

	(void)events;
	for (i = 0; i < RX_BATCH; i++) {
		n = hpacket_recv(src->fd, dgram + 4, sizeof(dgram) - 4, &rx);
		if (n < 0)
			break;
		if (rx.outgoing || n < 14)
			continue;       /* our own transmissions come back here */
		frame = dgram + 4;
		if (rx.tagged) {
			/* Put the tag Linux took out back where it was. */
			memmove(dgram, dgram + 4, 12);
			frame = dgram;
			frame[12] = 0x81;
			frame[13] = 0x00;
			frame[14] = (uint8_t)(rx.tci >> 8);
			frame[15] = (uint8_t)rx.tci;
			n += 4;
		}
		if ((p = host_pkt_new(frame, (uint32_t)n)) == NULL)
			continue;
		os_epoch_enter(&et);
		vpc_vcc_l2_input(h->vcc, p);
		os_epoch_exit(&et);
	}
}

/* ---- Sockets ---------------------------------------------------------------------- */

static void
src_nofree(struct hsrc *src)
{
	(void)src;
}

static void
hvcc_close(struct hvcc *h)
{
	struct hsrc *s[] = { &h->rx4, &h->rx6, &h->l2 };
	size_t i;

	poll_drops(h, &h->rx4);         /* the last word of these sockets */
	poll_drops(h, &h->rx6);
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (s[i]->fd >= 0) {
			(void)epoll_ctl(host_loop_fd(), EPOLL_CTL_DEL, s[i]->fd, NULL);
			close(s[i]->fd);
			s[i]->fd = -1;
		}
		s[i]->retired = true;   /* ignore its events still in the batch */
	}
	if (h->tx4 >= 0)
		close(h->tx4);
	if (h->tx6 >= 0)
		close(h->tx6);
	h->tx4 = h->tx6 = -1;
	host_gso_close(&h->gso4);
	host_gso_close(&h->gso6);
}

static void
fill_sa(struct sockaddr_storage *ss, socklen_t *len, int af, const uint8_t *addr,
    uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
		*len = sizeof(*sin6);
	}
}

static int
open_family(struct hvcc *h, int af, const uint8_t *addr, struct hsrc *rx, int *tx)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, off = 6;

	fill_sa(&ss, &len, af, addr, h->conf.udp_port);
	rx->fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (rx->fd < 0)
		return (vpc_errno(errno));
	if (af == AF_INET6)
		(void)setsockopt(rx->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	(void)setsockopt(rx->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	host_gso_rx_enable(rx->fd);
	if (bind(rx->fd, (struct sockaddr *)&ss, len) < 0)
		return (vpc_errno(errno));
	rx->fn = rx_event;
	rx->arg = h;
	rx->free_fn = src_nofree;
	if (hloop_add(rx, EPOLLIN) < 0)
		return (VPC_ENOMEM);

	*tx = socket(af, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);
	if (*tx < 0)
		return (vpc_errno(errno));
	host_underlay_tx_opts(*tx, af);
	if (af == AF_INET6)
		(void)setsockopt(*tx, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off));
	fill_sa(&ss, &len, af, addr, 0);
	if (bind(*tx, (struct sockaddr *)&ss, len) < 0)
		return (vpc_errno(errno));
	host_gso_init(af == AF_INET ? &h->gso4 : &h->gso6, &ss, len);
	return (0);
}

static int
open_l2(struct hvcc *h)
{
	struct sockaddr_ll sll;
	int one = 1;

	if ((h->l2_ifindex = (int)if_nametoindex(h->conf.l2_ifname)) == 0)
		return (VPC_ENXIO);
	h->l2.fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    htons(ETH_P_ALL));
	if (h->l2.fd < 0)
		return (vpc_errno(errno));
	(void)setsockopt(h->l2.fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = h->l2_ifindex;
	if (bind(h->l2.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return (vpc_errno(errno));
	h->l2.fn = l2_event;
	h->l2.arg = h;
	h->l2.free_fn = src_nofree;
	return (hloop_add(&h->l2, EPOLLIN) < 0 ? VPC_ENOMEM : 0);
}

static struct hvcc *
hvcc_open(struct vpc_vcc *vcc, const vpc_vcc_t *conf, int *errorp)
{
	struct hvcc *h;
	int error = 0;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		*errorp = VPC_ENOMEM;
		return (NULL);
	}
	h->vcc = vcc;
	h->conf = *conf;
	h->rx4.fd = h->rx6.fd = h->l2.fd = h->tx4 = h->tx6 = -1;
	host_gso_init(&h->gso4, NULL, 0);       /* given the address once bound */
	host_gso_init(&h->gso6, NULL, 0);
	if ((conf->flags & VPC_VCC_INET) != 0)
		error = open_family(h, AF_INET, conf->addr4, &h->rx4, &h->tx4);
	if (error == 0 && (conf->flags & VPC_VCC_INET6) != 0)
		error = open_family(h, AF_INET6, conf->addr6, &h->rx6, &h->tx6);
	if (error == 0 && conf->l2_ifname[0] != '\0')
		error = open_l2(h);
	if (error != 0) {
		hvcc_close(h);
		host_defer_free(h);
		*errorp = error;
		return (NULL);
	}
	return (h);
}

/*
 * The old sockets hold the address, so they go first; if the new
 * configuration cannot be applied, the old one is put back.
 */
int
os_vcc_configure(struct vpc_vcc *vcc, const vpc_vcc_t *conf)
{
	struct hvcc *old = *vpc_vcc_osp(vcc), *h;
	int error = 0, ignored;

	if (old != NULL)
		hvcc_close(old);
	h = hvcc_open(vcc, conf, &error);
	if (h == NULL && old != NULL)
		h = hvcc_open(vcc, &old->conf, &ignored);
	if (h != NULL && old != NULL)
		h->drops = old->drops;  /* new sockets, the same vcc */
	*vpc_vcc_osp(vcc) = h;
	if (old != NULL)
		host_defer_free(old);   /* its events may sit in this batch */
	return (error);
}

void
os_vcc_detach(struct vpc_vcc *vcc)
{
	struct hvcc *h = *vpc_vcc_osp(vcc);

	if (h == NULL)
		return;
	hvcc_close(h);
	*vpc_vcc_osp(vcc) = NULL;
	host_defer_free(h);     /* its events may sit in this batch */
}

uint64_t
os_vcc_rx_drops(struct vpc_vcc *vcc)
{
	struct hvcc *h = *vpc_vcc_osp(vcc);

	if (h == NULL)
		return (0);
	poll_drops(h, &h->rx4);
	poll_drops(h, &h->rx6);
	return (h->drops);
}

/* ---- Send ---------------------------------------------------------------------------- */

/*
 * The UDP header in front of p (raw sockets: the daemon writes it) and the
 * destination's address: the socket to send on, or -1 with *error set and
 * p consumed.
 */
static int
udp_prepare(struct hvcc *h, struct vpc_pkt **pp, const struct vpc_underlay *dst,
    uint16_t sport, struct sockaddr_storage *ss, socklen_t *salen, int *error)
{
	uint32_t len;
	uint8_t *u;
	int fd = -1;

	if (h != NULL)
		fd = dst->af == VPC_AF_INET ? h->tx4 : h->tx6;
	if (fd < 0) {
		os_pkt_free(*pp);
		*error = VPC_EAFNOSUPPORT;
		return (-1);
	}
	if ((u = os_pkt_prepend(pp, 8)) == NULL) {
		*error = VPC_ENOMEM;
		return (-1);
	}
	len = os_pkt_len(*pp);
	if (len + (dst->af == VPC_AF_INET ? 20u : 40u) >
	    (h->conf.mtu != 0 ? h->conf.mtu : 1500u)) {
		os_pkt_free(*pp);
		*error = VPC_EMSGSIZE;  /* never fragment */
		return (-1);
	}
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dst->port >> 8);
	u[3] = (uint8_t)dst->port;
	u[4] = (uint8_t)(len >> 8);
	u[5] = (uint8_t)len;
	u[6] = u[7] = 0;                /* IPv4: none; IPv6: the kernel's */
	fill_sa(ss, salen, dst->af == VPC_AF_INET ? AF_INET : AF_INET6,
	    dst->addr, 0);
	if (host_fail_udp_send_every != 0 && ++udp_sends % host_fail_udp_send_every == 0) {
		os_pkt_free(*pp);
		*error = VPC_ENOBUFS;   /* injected */
		return (-1);
	}
	*error = 0;
	return (fd);
}

static int
send_errno(void)
{
	return (errno == EMSGSIZE ? VPC_EMSGSIZE : VPC_ENOBUFS);
}

int
os_vcc_output(struct vpc_vcc *vcc, struct vpc_pkt *p,
    const struct vpc_underlay *dst, uint16_t sport)
{
	struct sockaddr_storage ss;
	socklen_t salen;
	int fd, error;

	if ((fd = udp_prepare(*vpc_vcc_osp(vcc), &p, dst, sport, &ss, &salen,
	    &error)) < 0)
		return (error);
	if (sendto(fd, host_pkt_data(p), os_pkt_len(p), MSG_DONTWAIT,
	    (struct sockaddr *)&ss, salen) != (ssize_t)os_pkt_len(p))
		error = send_errno();
	os_pkt_free(p);
	return (error);
}

/*
 * count datagrams prepared for one socket in one sendmmsg(2), or more if it
 * takes fewer: a datagram the socket refuses is counted as sendto's would
 * be, and the rest go on.
 */
static void
send_plain(int fd, struct mmsghdr *mh, const struct iovec *iov,
    const unsigned *idx, int *errors, unsigned count)
{
	unsigned done, i;
	int r;

	for (done = 0; done < count; done += (unsigned)r) {
		r = sendmmsg(fd, &mh[done], count - done, MSG_DONTWAIT);
		if (r <= 0) {
			/* The first of the run was refused: it alone fails. */
			errors[idx[done]] = send_errno();
			r = 1;
		} else {
			for (i = 0; i < (unsigned)r; i++)
				if (mh[done + i].msg_len != iov[done + i].iov_len)
					errors[idx[done + i]] = VPC_ENOBUFS;
		}
	}
}

/*
 * The prepared datagrams from i on that can leave as one: the same socket,
 * destination address and port, and source port (one flow), all as long as
 * the first but the last, which may be shorter; within what one send
 * carries.  (ss holds the address alone: the raw socket's port is 0.)
 */
static unsigned
flow_run(const int *fds, const struct sockaddr_storage *ss, const uint16_t *sp,
    const uint16_t *dp, const struct iovec *iov, unsigned i, unsigned m)
{
	size_t seg = iov[i].iov_len, bytes = seg - 8;
	unsigned j;

	for (j = i + 1; j < m && j - i < HOST_GSO_MAX_SEGS; j++) {
		if (fds[j] != fds[i] || sp[j] != sp[i] || dp[j] != dp[i] ||
		    iov[j].iov_len > seg ||
		    bytes + iov[j].iov_len - 8 > HOST_GSO_MAX_BYTES ||
		    memcmp(&ss[j], &ss[i], sizeof(ss[i])) != 0)
			break;
		bytes += iov[j].iov_len - 8;
		if (iov[j].iov_len < seg)
			return (j + 1 - i);
	}
	return (j - i);
}

/* A flow_run's n datagrams as one send (host_gso.c): 0 if they left. */
static int
send_run(struct hvcc *h, int fd, const struct vpc_underlay *dst, uint16_t sport,
    const struct iovec *iov, unsigned n)
{
	struct iovec payload[HOST_GSO_MAX_SEGS];
	struct sockaddr_storage to;
	socklen_t tolen;
	unsigned k;

	for (k = 0; k < n; k++) {
		/* A UDP socket writes the header the raw one was given. */
		payload[k].iov_base = (uint8_t *)iov[k].iov_base + 8;
		payload[k].iov_len = iov[k].iov_len - 8;
	}
	fill_sa(&to, &tolen, dst->af == VPC_AF_INET ? AF_INET : AF_INET6,
	    dst->addr, dst->port);
	return (host_gso_send(fd == h->tx4 ? &h->gso4 : &h->gso6, sport, &to,
	    tolen, payload, n, (uint16_t)payload[0].iov_len));
}

/*
 * A burst's datagrams: a run of one flow's (a 64 KB TSO frame's segments,
 * a blast of equal datagrams) as one send, through the kernel and veth as
 * one packet (host_gso.c); the others in one sendmmsg(2) per run for the
 * same socket: on this machine a datagram costs half the CPU that way
 * (5.5 us against 10.7 for sendto, sender and receiver together, over a
 * veth pair).  Whatever the run cannot do as one goes the usual way.
 */
void
os_vcc_output_many(struct vpc_vcc *vcc, struct vpc_pkt **pkts,
    const struct vpc_underlay *dsts, const uint16_t *sports, int *errors,
    unsigned n)
{
	struct hvcc *h = *vpc_vcc_osp(vcc);
	struct sockaddr_storage ss[VPC_TXBATCH_MAX];
	struct mmsghdr mh[VPC_TXBATCH_MAX];
	struct iovec iov[VPC_TXBATCH_MAX];
	unsigned idx[VPC_TXBATCH_MAX], i, m = 0, done, run;
	uint16_t sp[VPC_TXBATCH_MAX], dp[VPC_TXBATCH_MAX];
	int fds[VPC_TXBATCH_MAX];

	for (i = 0; i < n && i < VPC_TXBATCH_MAX; i++) {
		socklen_t salen;

		fds[m] = udp_prepare(h, &pkts[i], &dsts[i], sports[i], &ss[m], &salen,
		    &errors[i]);
		if (fds[m] < 0)
			continue;
		memset(&mh[m], 0, sizeof(mh[m]));
		iov[m].iov_base = host_pkt_data(pkts[i]);
		iov[m].iov_len = os_pkt_len(pkts[i]);
		mh[m].msg_hdr.msg_name = &ss[m];
		mh[m].msg_hdr.msg_namelen = salen;
		mh[m].msg_hdr.msg_iov = &iov[m];
		mh[m].msg_hdr.msg_iovlen = 1;
		sp[m] = sports[i];
		dp[m] = dsts[i].port;
		idx[m++] = i;
	}
	for (done = 0; done < m; done += run) {
		run = flow_run(fds, ss, sp, dp, iov, done, m);
		if (run >= 2 && send_run(h, fds[done], &dsts[idx[done]], sp[done],
		    &iov[done], run) == 0)
			continue;
		if (run < 2) {
			/* Up to where a run that can go as one begins. */
			while (done + run < m && fds[done + run] == fds[done] &&
			    flow_run(fds, ss, sp, dp, iov, done + run, m) < 2)
				run++;
		}
		send_plain(fds[done], &mh[done], &iov[done], &idx[done], errors, run);
	}
	for (i = 0; i < m; i++)
		os_pkt_free(pkts[idx[i]]);
	/* More than the contract's VPC_TXBATCH_MAX: the rest one by one. */
	for (i = VPC_TXBATCH_MAX; i < n; i++)
		errors[i] = os_vcc_output(vcc, pkts[i], &dsts[i], sports[i]);
}

int
os_vcc_output_l2(struct vpc_vcc *vcc, struct vpc_pkt *p)
{
	struct hvcc *h = *vpc_vcc_osp(vcc);
	uint32_t len = os_pkt_len(p);
	int error = 0;

	if (h == NULL || h->l2.fd < 0)
		error = VPC_ENXIO;
	else if (send(h->l2.fd, host_pkt_data(p), len, MSG_DONTWAIT) != (ssize_t)len)
		error = VPC_ENOBUFS;
	os_pkt_free(p);
	return (error);
}
