/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_vnet.c: what a NIC does with the offloads a VM's stack asks of it,
 * done by vpc-hostd for a vmnic's TAP before the switch sees the frames
 * (host_vnet.h).  Two things, both as the virtio-net header says:
 *
 *  - NEEDS_CSUM: the TCP or UDP checksum is left to us.  The field holds
 *    the pseudo-header's sum; the checksum of everything from csum_start
 *    on, the field included, completes it (Linux's skb_checksum_help).
 *  - GSO TCPV4/TCPV6: one frame of up to 64 KB stands for the TCP segments
 *    of gso_size payload bytes each that the VM would have sent: each gets
 *    a copy of the headers, its IP length (and, IPv4, the next IP id and
 *    the header checksum), its sequence number, FIN and PSH only on the
 *    last and CWR only on the first, and its own TCP checksum (as Linux's
 *    tcp_gso_segment cuts one in software).
 *
 * Only untagged IPv4 and IPv6 (no extension headers) with TCP are cut:
 * the TAP is told we take TSO for TCP over IPv4 and IPv6, nothing else
 * (no UFO/USO, no ECN on TSO frames).  Anything else the metadata claims
 * leaves the frame as it is, for the switch to judge as any other frame: a
 * tagged one is dropped (a VM's frames carry no tags), and a TSO frame
 * behind IPv6 extension headers (which Linux's TCP does not use on its
 * own) is too big, answered with a packet-too-big.
 */
#include <string.h>
#include <sys/uio.h>

#include "vpc_os.h"
#include "host_pkt.h"
#include "host_vnet.h"

#define ETH_LEN      14
#define TCP_MIN_LEN  20
#define TCP_FIN      0x01
#define TCP_PSH      0x08
#define TCP_CWR      0x80
/* Linux's smallest MSS (TCP_MIN_SND_MSS): a smaller gso_size is not a
 * segment size any stack would use, and bounds what one read can cost. */
#define TSO_MSS_MIN  48

/*
 * The one's-complement sum of data, added to sum (RFC 1071 section 4.1).
 * Words are loaded in the machine's order and the result is stored the same
 * way, which gives the bytes of the network-order sum (RFC 1071 section
 * 2.B); every buffer summed starts at an even offset of what it checksums.
 *
 * The bulk goes 16 bytes a turn into two 128-bit accumulators: an add and
 * an add-with-carry a word, two chains the CPU runs side by side, where one
 * 64-bit sum with its carry added back made each word wait for the last.
 * 2^64 is 1 modulo 0xffff, so the halves of a 128-bit sum fold into the
 * same 16-bit sum (RFC 1071's deferred carries).  This runs over every byte
 * of every TCP segment cut or merged (about a tenth of vpc-hostd's CPU in
 * bench/stream): 1,448 bytes in 37 ns against 101 ns.  vpc-hostd is built
 * for 64-bit hosts, which all have unsigned __int128 in GCC and Clang.
 */
static uint64_t
csum_add64(uint64_t sum, uint64_t w)
{
	sum += w;
	return (sum + (sum < w));
}

uint64_t
host_csum_add(uint64_t sum, const uint8_t *data, uint32_t len)
{
	unsigned __int128 a = 0, b = 0;
	uint64_t w, x;
	uint32_t w4;
	uint16_t w2;
	uint8_t last[2] = { 0, 0 };

	for (; len >= 16; data += 16, len -= 16) {
		memcpy(&w, data, 8);
		memcpy(&x, data + 8, 8);
		a += w;
		b += x;
	}
	a += b;                 /* under 2^96 for any len: no carry lost */
	sum = csum_add64(csum_add64(sum, (uint64_t)a), (uint64_t)(a >> 64));
	if (len >= 8) {
		memcpy(&w, data, 8);
		sum = csum_add64(sum, w);
		data += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w4, data, 4);
		sum = csum_add64(sum, w4);
		data += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w2, data, 2);
		sum = csum_add64(sum, w2);
		data += 2;
		len -= 2;
	}
	if (len == 1) {
		last[0] = data[0];
		memcpy(&w2, last, 2);
		sum = csum_add64(sum, w2);
	}
	return (sum);
}

uint16_t
host_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)sum);
}

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Complete the checksum the header left to us; false if it does not fit. */
static bool
csum_complete(uint8_t *frame, uint32_t len, uint32_t start, uint32_t off)
{
	uint16_t c;

	if (start >= len || off > len - start || len - start - off < 2)
		return (false);
	c = (uint16_t)~host_csum_fold(host_csum_add(0, frame + start, len - start));
	if (c == 0)
		c = 0xffff;     /* UDP: 0 would say "no checksum" */
	memcpy(frame + start + off, &c, 2);
	return (true);
}

/* Set tso up to cut frame; false if the frame is not what TSO cuts. */
static bool
tso_setup(struct host_tso *t, const struct virtio_net_hdr *vh,
    const uint8_t *frame, uint32_t len)
{
	uint8_t gso = vh->gso_type;
	uint32_t l4, thl;

	if (len < ETH_LEN || vh->gso_size < TSO_MSS_MIN)
		return (false);
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 && get16(frame + 12) == 0x0800 &&
	    len >= ETH_LEN + 20 && frame[ETH_LEN] >> 4 == 4 &&
	    (frame[ETH_LEN] & 0xf) >= 5 && frame[ETH_LEN + 9] == 6) {
		t->v6 = false;
		l4 = ETH_LEN + (uint32_t)(frame[ETH_LEN] & 0xf) * 4;
	} else if (gso == VIRTIO_NET_HDR_GSO_TCPV6 &&
	    get16(frame + 12) == 0x86dd && len >= ETH_LEN + 40 &&
	    frame[ETH_LEN] >> 4 == 6 && frame[ETH_LEN + 6] == 6) {
		t->v6 = true;
		l4 = ETH_LEN + 40;
	} else
		return (false);
	if (len < l4 + TCP_MIN_LEN || (thl = (uint32_t)(frame[l4 + 12] >> 4) * 4) <
	    TCP_MIN_LEN || len < l4 + thl)
		return (false);
	t->frame = frame;
	t->len = len;
	t->l4off = l4;
	t->hdrlen = l4 + thl;
	t->mss = vh->gso_size;
	t->off = 0;
	t->seg = 0;
	return (true);
}

struct vpc_pkt *
host_vnet_frame(uint8_t *buf, uint32_t n, struct host_tso *tso)
{
	struct virtio_net_hdr vh;
	uint8_t *frame = buf + HOST_VNET_HDR_LEN;
	uint32_t len;

	tso->len = 0;
	if (n < HOST_VNET_HDR_LEN)
		return (NULL);
	memcpy(&vh, buf, sizeof(vh));
	len = n - HOST_VNET_HDR_LEN;
	if ((vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ||
	    vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV6) &&
	    tso_setup(tso, &vh, frame, len))
		return (NULL);
	if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		(void)csum_complete(frame, len, vh.csum_start, vh.csum_offset);
	return (host_pkt_new(frame, len));
}

uint64_t
host_tcp_pseudo(const uint8_t *frame, bool v6, uint32_t tcplen)
{
	uint8_t ph[40];

	memset(ph, 0, sizeof(ph));
	if (v6) {
		memcpy(ph, frame + ETH_LEN + 8, 32);    /* source, destination */
		put16(ph + 34, tcplen);                 /* (a 32-bit length) */
		ph[39] = 6;
		return (host_csum_add(0, ph, 40));
	}
	memcpy(ph, frame + ETH_LEN + 12, 8);
	ph[9] = 6;
	put16(ph + 10, tcplen);
	return (host_csum_add(0, ph, 12));
}

/* The TCP checksum of the segment d (len bytes, its TCP header at l4). */
static void
tcp_csum(uint8_t *d, uint32_t len, uint32_t l4, bool v6)
{
	uint16_t c;

	d[l4 + 16] = d[l4 + 17] = 0;
	c = (uint16_t)~host_csum_fold(host_csum_add(host_tcp_pseudo(d, v6,
	    len - l4), d + l4, len - l4));
	memcpy(d + l4 + 16, &c, 2);
}

struct vpc_pkt *
host_vnet_next(struct host_tso *t)
{
	uint32_t payload = t->len - t->hdrlen, plen, seq;
	struct vpc_pkt *p;
	uint8_t *d, *ip, *tcp;
	uint16_t c;

	if (t->len == 0 || t->off >= payload)
		return (NULL);
	plen = payload - t->off < t->mss ? payload - t->off : t->mss;
	if ((p = host_pkt_new(NULL, t->hdrlen + plen)) == NULL) {
		t->off = payload;       /* the rest is lost: TCP sends it again */
		return (NULL);
	}
	d = host_pkt_data(p);
	memcpy(d, t->frame, t->hdrlen);
	memcpy(d + t->hdrlen, t->frame + t->hdrlen + t->off, plen);
	ip = d + ETH_LEN;
	tcp = d + t->l4off;
	if (t->v6)
		put16(ip + 4, t->hdrlen - ETH_LEN - 40 + plen);
	else {
		put16(ip + 2, t->hdrlen - ETH_LEN + plen);
		put16(ip + 4, (uint32_t)get16(ip + 4) + t->seg);
		ip[10] = ip[11] = 0;
		c = (uint16_t)~host_csum_fold(host_csum_add(0, ip,
		    t->l4off - ETH_LEN));
		memcpy(ip + 10, &c, 2);
	}
	seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 |
	    (uint32_t)tcp[6] << 8 | tcp[7];
	seq += t->off;
	tcp[4] = (uint8_t)(seq >> 24);
	tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8);
	tcp[7] = (uint8_t)seq;
	if (t->off + plen < payload)
		tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (t->seg > 0)
		tcp[13] &= (uint8_t)~TCP_CWR;
	tcp_csum(d, t->hdrlen + plen, t->l4off, t->v6);
	t->off += plen;
	t->seg++;
	return (p);
}

uint64_t host_fail_tap_write_every;
static uint64_t tap_writes;

bool
host_vnet_write(int fd, const struct virtio_net_hdr *vh, const uint8_t *frame,
    uint32_t len)
{
	struct iovec io[2] = {
		{ .iov_base = (void *)(uintptr_t)vh, .iov_len = HOST_VNET_HDR_LEN },
		{ .iov_base = (void *)(uintptr_t)frame, .iov_len = len },
	};

	/* Here, so that a merged frame's write can fail as a lone one's can. */
	if (host_fail_tap_write_every != 0 &&
	    ++tap_writes % host_fail_tap_write_every == 0)
		return (false);
	return (writev(fd, io, 2) == (ssize_t)(HOST_VNET_HDR_LEN + len));
}
