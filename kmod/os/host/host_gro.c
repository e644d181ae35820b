/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_gro.c: the receive side of a vmnic's TAP offloads, what GRO does in
 * a NIC's driver.  A bulk TCP flow from another node arrives as datagrams
 * of one segment each; written to the TAP one by one, each is a write(2)
 * and a trip through the VM's stack.  While vpc-hostd processes a batch of
 * underlay datagrams (host_gro_begin/end around it), the TCP segments the
 * switch delivers to a TAP are held, and consecutive segments of one flow
 * are appended to the first: at the end of the batch (or when the flow
 * breaks) they are written as one TSO frame whose virtio-net header says
 * how the VM's stack would cut it again (gso_size: the segments' payload)
 * and that its checksum is the stack's to complete, as for a frame its own
 * TCP made.  What may merge follows Linux's tcp_gro_receive, a little
 * stricter (the window must match too):
 *
 *  - untagged IPv4 without options or fragments, or IPv6 with TCP next;
 *  - only ACK set, or ACK and PSH (which ends the merge);
 *  - the same addresses, ports, acknowledgement, window, TTL/hop limit,
 *    TOS/traffic class, DF and TCP options as the first; the next sequence
 *    number; a payload of the first's size (a smaller one is the last);
 *  - every segment's IPv4 header checksum and TCP checksum right: checked
 *    here before its bytes join, so that the merged frame's "checksum left
 *    to the stack" never vouches for a segment that was damaged.  A
 *    segment that fails is written as it came (after what was held for its
 *    TAP), and the VM's stack drops it and counts it as before.
 *
 * Anything else for a TAP is written at once, after what was held for it,
 * so each TAP sees its frames in the order the switch sent them.  Frames
 * only wait for the end of the batch being processed: no timer, no added
 * latency beyond it.  At most GRO_SLOTS TAPs hold a frame at once (a new
 * one writes out the oldest); a slot holds at most 64 KB, as the IP
 * length field allows.
 */
#include <string.h>
#include <linux/virtio_net.h>

#include "vpc_os.h"
#include "host_gro.h"
#include "host_pkt.h"
#include "host_vnet.h"

#define GRO_SLOTS   8
#define ETH_LEN     14
#define IP_MAX      65535               /* an IPv4 total or IPv6 payload length */
#define TCP_ACK     0x10
#define TCP_PSH     0x08

struct gro_slot {
	const void *key;                /* the TAP; NULL: free */
	int         fd;
	host_gro_done_fn *done;         /* told how the write fared */
	void       *arg;
	bool        v6;
	uint32_t    len;                /* bytes in buf */
	uint32_t    l4off;
	uint32_t    hdrlen;             /* Ethernet, IP and TCP headers */
	uint32_t    mss;                /* the first segment's payload */
	uint32_t    segs;
	uint32_t    next_seq;
	uint64_t    age;                /* when it took its first frame */
	uint8_t     buf[ETH_LEN + 40 + IP_MAX];
};

/* What a frame is, when it is a TCP segment that may merge. */
struct seg {
	const uint8_t *d;
	uint32_t len, l4off, hdrlen, plen, seq;
	bool     v6;
};

static struct gro_slot slots[GRO_SLOTS];
static bool active;
static uint64_t clock_;
uint64_t host_gro_merged;

static uint32_t
get16(const uint8_t *p)
{
	return ((uint32_t)p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The sum of the TCP pseudo-header for a TCP length, folded. */
static uint16_t
pseudo_sum(const uint8_t *d, bool v6, uint32_t tcplen)
{
	return (host_csum_fold(host_tcp_pseudo(d, v6, tcplen)));
}

/* Is d a TCP segment with data, right checksums and flags that may merge? */
static bool
parse(const uint8_t *d, uint32_t len, struct seg *s)
{
	const uint8_t *ip = d + ETH_LEN, *tcp;
	uint32_t thl;

	if (len < ETH_LEN + 40)
		return (false);
	if (get16(d + 12) == 0x0800 && ip[0] == 0x45 && ip[9] == 6 &&
	    (get16(ip + 6) & 0x3fff) == 0 && get16(ip + 2) == len - ETH_LEN &&
	    host_csum_fold(host_csum_add(0, ip, 20)) == 0xffff) {
		s->v6 = false;
		s->l4off = ETH_LEN + 20;
	} else if (get16(d + 12) == 0x86dd && ip[0] >> 4 == 6 && ip[6] == 6 &&
	    len >= ETH_LEN + 60 && get16(ip + 4) == len - ETH_LEN - 40) {
		s->v6 = true;
		s->l4off = ETH_LEN + 40;
	} else
		return (false);
	tcp = d + s->l4off;
	thl = (uint32_t)(tcp[12] >> 4) * 4;
	if (thl < 20 || s->l4off + thl >= len ||
	    (tcp[13] & (uint8_t)~TCP_PSH) != TCP_ACK)
		return (false);
	if (host_csum_fold(host_csum_add(pseudo_sum(d, s->v6, len - s->l4off),
	    tcp, len - s->l4off)) != 0xffff)
		return (false);
	s->d = d;
	s->len = len;
	s->hdrlen = s->l4off + thl;
	s->plen = len - s->hdrlen;
	s->seq = get32(tcp + 4);
	return (true);
}

/* Does s continue what slot g holds (the same flow, the next bytes)? */
static bool
continues(const struct gro_slot *g, const struct seg *s)
{
	const uint8_t *a = g->buf, *b = s->d;
	const uint8_t *ta = a + g->l4off, *tb = b + s->l4off;

	if (s->v6 != g->v6 || s->hdrlen != g->hdrlen || s->seq != g->next_seq ||
	    s->plen > g->mss || g->len + s->plen > g->l4off + IP_MAX -
	    (g->v6 ? 0 : 20))
		return (false);
	if (memcmp(a, b, ETH_LEN) != 0)                 /* MACs, ethertype */
		return (false);
	if (g->v6 ? memcmp(a + ETH_LEN, b + ETH_LEN, 4) != 0 ||
	    a[ETH_LEN + 7] != b[ETH_LEN + 7] ||
	    memcmp(a + ETH_LEN + 8, b + ETH_LEN + 8, 32) != 0 :
	    a[ETH_LEN + 1] != b[ETH_LEN + 1] ||                 /* TOS */
	    (a[ETH_LEN + 6] & 0x40) != (b[ETH_LEN + 6] & 0x40) ||  /* DF */
	    a[ETH_LEN + 8] != b[ETH_LEN + 8] ||                 /* TTL */
	    memcmp(a + ETH_LEN + 12, b + ETH_LEN + 12, 8) != 0)
		return (false);
	/* Ports, acknowledgement, header length, window, urgent, options:
	 * all but the sequence number, the flags and the checksum. */
	return (memcmp(ta, tb, 4) == 0 && memcmp(ta + 8, tb + 8, 5) == 0 &&
	    memcmp(ta + 14, tb + 14, 2) == 0 &&
	    memcmp(ta + 18, tb + 18, g->hdrlen - g->l4off - 18) == 0);
}

/* Write what g holds: as it came if one segment, else as one TSO frame. */
static void
flush(struct gro_slot *g)
{
	static const struct virtio_net_hdr plain;
	struct virtio_net_hdr vh = plain;
	uint8_t *ip = g->buf + ETH_LEN, *tcp = g->buf + g->l4off;
	uint16_t c;
	bool written;

	if (g->key == NULL)
		return;
	if (g->segs > 1) {
		if (g->v6)
			put16(ip + 4, g->len - ETH_LEN - 40);
		else {
			put16(ip + 2, g->len - ETH_LEN);
			ip[10] = ip[11] = 0;
			c = (uint16_t)~host_csum_fold(host_csum_add(0, ip, 20));
			memcpy(ip + 10, &c, 2);
		}
		/* Left to the stack: the field holds the pseudo-header's sum. */
		c = pseudo_sum(g->buf, g->v6, g->len - g->l4off);
		memcpy(tcp + 16, &c, 2);
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.gso_type = g->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
		    VIRTIO_NET_HDR_GSO_TCPV4;
		vh.hdr_len = (uint16_t)g->hdrlen;
		vh.gso_size = (uint16_t)g->mss;
		vh.csum_start = (uint16_t)g->l4off;
		vh.csum_offset = 16;
		host_gro_merged += g->segs;
	}
	written = host_vnet_write(g->fd, &vh, g->buf, g->len);
	g->key = NULL;
	g->done(g->arg, g->segs, written);
}

static struct gro_slot *
slot_of(const void *key)
{
	unsigned i;

	for (i = 0; i < GRO_SLOTS; i++)
		if (slots[i].key == key)
			return (&slots[i]);
	return (NULL);
}

/* A free slot, or the oldest written out to make one. */
static struct gro_slot *
slot_new(void)
{
	struct gro_slot *g = &slots[0];
	unsigned i;

	for (i = 0; i < GRO_SLOTS; i++) {
		if (slots[i].key == NULL)
			return (&slots[i]);
		if (slots[i].age < g->age)
			g = &slots[i];
	}
	flush(g);
	return (g);
}

void
host_gro_begin(void)
{
	active = true;
}

void
host_gro_end(void)
{
	unsigned i;

	/* Oldest first: one TAP's frames are in one slot, so any order is
	 * each TAP's order; this one is the switch's too. */
	for (;;) {
		struct gro_slot *g = NULL;

		for (i = 0; i < GRO_SLOTS; i++)
			if (slots[i].key != NULL && (g == NULL || slots[i].age < g->age))
				g = &slots[i];
		if (g == NULL)
			break;
		flush(g);
	}
	active = false;
}

bool
host_gro_take(const void *key, int fd, struct vpc_pkt *p,
    host_gro_done_fn *done, void *arg)
{
	struct gro_slot *g;
	struct seg s = { 0 };
	const uint8_t *d = host_pkt_data(p);
	uint32_t len = os_pkt_len(p);
	bool ok;

	if (!active)
		return (false);
	ok = parse(d, len, &s);
	if ((g = slot_of(key)) != NULL) {
		if (ok && continues(g, &s)) {
			uint8_t psh = d[s.l4off + 13] & TCP_PSH;

			memcpy(g->buf + g->len, d + s.hdrlen, s.plen);
			g->len += s.plen;
			g->segs++;
			g->next_seq += s.plen;
			g->buf[g->l4off + 13] |= psh;
			os_pkt_free(p);
			if (s.plen < g->mss || psh)
				flush(g);       /* the flow's burst ends here */
			return (true);
		}
		flush(g);
	}
	if (!ok || (d[s.l4off + 13] & TCP_PSH))
		return (false);         /* a lone pushed segment goes at once */
	g = slot_new();
	g->key = key;
	g->fd = fd;
	g->done = done;
	g->arg = arg;
	g->v6 = s.v6;
	g->len = len;
	g->l4off = s.l4off;
	g->hdrlen = s.hdrlen;
	g->mss = s.plen;
	g->segs = 1;
	g->next_seq = s.seq + s.plen;
	g->age = ++clock_;
	memcpy(g->buf, d, len);
	os_pkt_free(p);
	return (true);
}
