/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vnet.c: the host's TAP offloads (host_vnet.c, host_gro.c).  TSO
 * frames as the VM's stack hands them over (checksum left partial, the
 * pseudo-header's sum in the field) are cut, and every frame cut is checked
 * against a checksum written here the plain way (16-bit big-endian words,
 * RFC 1071), its lengths, IP id, sequence number and flags; the segments
 * then go through the receive side's merging into socket pairs standing for
 * TAPs, and what comes out is checked the same way: one TSO frame per
 * flow's run, the bytes in order, a segment that cannot join written
 * alone in its place.  Part of test_core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpc_impl.h"
#include "host_gro.h"
#include "host_pkt.h"
#include "host_vnet.h"
#include "test_rand.h"
#include "test_vnet.h"

static struct vt {
	struct vpc_sys *sys;
	const char     *name;
	int            *failed;
} T;

#define TEST_AREA "vnet"
#define TEST_STATE T
#include "test_area.h"

#define ETH 14
#define MSS 1400
#define PAYLOAD 10000                   /* 8 segments: 7 of MSS, 1 of 200 */
#define TCP_HLEN 32                     /* with NOP, NOP, timestamps */
#define F_FIN 0x01
#define F_PSH 0x08
#define F_ACK 0x10
#define F_CWR 0x80

static uint8_t payload[PAYLOAD];
static uint8_t rbuf[HOST_VNET_HDR_LEN + 70000];

/* ---- Checksums the plain way ----------------------------------------------------- */

static uint32_t
ref_add(uint32_t acc, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n % 2)
		acc += (uint32_t)p[n - 1] << 8;
	return (acc);
}

static uint16_t
ref_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return ((uint16_t)acc);
}

static uint32_t
ref_pseudo(const uint8_t *f, bool v6, uint32_t tcplen)
{
	uint8_t ph[40];

	memset(ph, 0, sizeof(ph));
	if (v6) {
		memcpy(ph, f + ETH + 8, 32);
		ph[34] = (uint8_t)(tcplen >> 8);
		ph[35] = (uint8_t)tcplen;
		ph[39] = 6;
		return (ref_add(0, ph, 40));
	}
	memcpy(ph, f + ETH + 12, 8);
	ph[9] = 6;
	ph[10] = (uint8_t)(tcplen >> 8);
	ph[11] = (uint8_t)tcplen;
	return (ref_add(0, ph, 12));
}

static uint32_t
g16(const uint8_t *p)
{
	return ((uint32_t)p[0] << 8 | p[1]);
}

static uint32_t
g32(const uint8_t *p)
{
	return (g16(p) << 16 | g16(p + 2));
}

static void
p16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool
tcp_ok(const uint8_t *f, uint32_t len, bool v6)
{
	uint32_t l4 = v6 ? ETH + 40 : ETH + 20;

	if (!v6 && ref_fold(ref_add(0, f + ETH, 20)) != 0xffff)
		return (false);
	return (ref_fold(ref_add(ref_pseudo(f, v6, len - l4), f + l4, len - l4)) ==
	    0xffff);
}

/* ---- Frames ------------------------------------------------------------------------ */

/*
 * A TCP frame of plen payload bytes from offset off of payload[].  partial:
 * as a stack leaves it for the NIC (the pseudo-header's sum in the field);
 * else with its checksum.  dport tells flows apart.
 */
static uint32_t
tcp_frame(uint8_t *f, bool v6, uint32_t seq, uint8_t flags, uint32_t off,
    uint32_t plen, bool partial, uint16_t dport)
{
	uint32_t l4 = v6 ? ETH + 40 : ETH + 20, len = l4 + TCP_HLEN + plen;
	uint8_t *ip = f + ETH, *tcp = f + l4;
	uint16_t c;

	memset(f, 0, l4 + TCP_HLEN);
	memcpy(f, (uint8_t[]){ 2, 0, 0, 0, 0xe, 1, 2, 0, 0, 0, 0xe, 2 }, 12);
	if (v6) {
		p16(f + 12, 0x86dd);
		ip[0] = 0x60;
		p16(ip + 4, len - l4);
		ip[6] = 6;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 1;
		ip[24] = 0xfd;
		ip[39] = 2;
	} else {
		p16(f + 12, 0x0800);
		ip[0] = 0x45;
		p16(ip + 2, len - ETH);
		p16(ip + 4, 0x1234);
		ip[6] = 0x40;                   /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, (uint8_t[]){ 10, 9, 0, 1, 10, 9, 0, 2 }, 8);
		p16(ip + 10, (uint16_t)~ref_fold(ref_add(0, ip, 20)));
	}
	p16(tcp, 40000);
	p16(tcp + 2, dport);
	tcp[4] = (uint8_t)(seq >> 24);
	tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8);
	tcp[7] = (uint8_t)seq;
	tcp[11] = 77;                           /* ack 77 */
	tcp[12] = (TCP_HLEN / 4) << 4;
	tcp[13] = flags;
	p16(tcp + 14, 501);                     /* window */
	tcp[20] = tcp[21] = 1;                  /* NOP NOP */
	tcp[22] = 8;                            /* timestamps */
	tcp[23] = 10;
	tcp[27] = 42;
	memcpy(f + l4 + TCP_HLEN, payload + off, plen);
	c = ref_fold(ref_pseudo(f, v6, len - l4));
	if (!partial)
		c = (uint16_t)~ref_fold(ref_add(c, tcp, len - l4));
	p16(tcp + 16, c);
	return (len);
}

/* A read of the TAP: the virtio-net header, then the frame (in rbuf). */
static uint32_t
tso_read(bool v6, uint8_t flags, uint16_t gso_size)
{
	struct virtio_net_hdr vh;
	uint32_t len = tcp_frame(rbuf + HOST_VNET_HDR_LEN, v6, 1000, flags, 0,
	    PAYLOAD, true, 80);

	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	vh.hdr_len = (uint16_t)((v6 ? ETH + 40 : ETH + 20) + TCP_HLEN);
	vh.gso_size = gso_size;
	vh.csum_start = (uint16_t)(v6 ? ETH + 40 : ETH + 20);
	vh.csum_offset = 16;
	memcpy(rbuf, &vh, sizeof(vh));
	return (HOST_VNET_HDR_LEN + len);
}

/* ---- The transmit side: cutting and completing --------------------------------- */

static int
check_cut(bool v6)
{
	struct host_tso tso;
	struct vpc_pkt *p, *segs[16];
	uint32_t l4 = v6 ? ETH + 40 : ETH + 20, n = 0, off = 0, i;

	EXPECT(host_vnet_frame(rbuf, tso_read(v6, F_ACK | F_PSH | F_FIN | F_CWR,
	    MSS), &tso) == NULL);
	EXPECT(tso.len > 0);
	while ((p = host_vnet_next(&tso)) != NULL && n < 16)
		segs[n++] = p;
	EXPECT_EQ(n, (PAYLOAD + MSS - 1) / MSS);
	for (i = 0; i < n; i++) {
		uint8_t *d = host_pkt_data(segs[i]), *tcp = d + l4;
		uint32_t len = os_pkt_len(segs[i]), plen = len - l4 - TCP_HLEN;
		bool last = i == n - 1;

		EXPECT_EQ(plen, last ? PAYLOAD - MSS * (n - 1) : MSS);
		EXPECT(tcp_ok(d, len, v6));
		EXPECT_EQ(v6 ? g16(d + ETH + 4) : g16(d + ETH + 2),
		    v6 ? len - l4 : len - ETH);
		if (!v6)
			EXPECT_EQ(g16(d + ETH + 4), 0x1234 + i);
		EXPECT_EQ(g32(tcp + 4), 1000 + off);
		EXPECT_EQ(tcp[13], F_ACK | (last ? F_PSH | F_FIN : 0) |
		    (i == 0 ? F_CWR : 0));
		EXPECT(memcmp(d + l4 + TCP_HLEN, payload + off, plen) == 0);
		off += plen;
		os_pkt_free(segs[i]);
	}
	EXPECT(host_vnet_next(&tso) == NULL);
	return (0);
}

static int
case_cut_v4(void)
{
	return (check_cut(false));
}

static int
case_cut_v6(void)
{
	return (check_cut(true));
}

/* A UDP frame whose checksum the stack left to us: completed. */
static int
case_complete(void)
{
	struct virtio_net_hdr vh;
	struct host_tso tso;
	struct vpc_pkt *p;
	uint8_t *f = rbuf + HOST_VNET_HDR_LEN, *ip = f + ETH, *udp = ip + 20;
	uint32_t len = ETH + 20 + 8 + 333;
	uint8_t ph[12] = { 10, 9, 0, 1, 10, 9, 0, 2, 0, 17, 0, 0 };

	memset(f, 0, len);
	p16(f + 12, 0x0800);
	ip[0] = 0x45;
	ip[9] = 17;
	memcpy(ip + 12, ph, 8);
	p16(udp + 4, 8 + 333);
	memcpy(udp + 8, payload, 333);
	p16(ph + 10, 8 + 333);
	p16(udp + 6, ref_fold(ref_add(0, ph, 12)));
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = ETH + 20;
	vh.csum_offset = 6;
	memcpy(rbuf, &vh, sizeof(vh));
	EXPECT((p = host_vnet_frame(rbuf, HOST_VNET_HDR_LEN + len, &tso)) != NULL);
	EXPECT_EQ(tso.len, 0);
	EXPECT_EQ(os_pkt_len(p), len);
	udp = host_pkt_data(p) + ETH + 20;
	EXPECT(ref_fold(ref_add(ref_add(0, ph, 12), udp, 8 + 333)) == 0xffff);
	os_pkt_free(p);
	return (0);
}

/*
 * Metadata that does not fit the frame leaves it whole: its checksum
 * completed where that part fits, else exactly as it came.
 */
static int
case_nonsense(void)
{
	static uint8_t was[HOST_VNET_HDR_LEN + 70000];
	struct virtio_net_hdr vh;
	struct host_tso tso;
	struct vpc_pkt *p;
	uint32_t n, round;

	EXPECT(host_vnet_frame(rbuf, HOST_VNET_HDR_LEN - 1, &tso) == NULL);
	EXPECT_EQ(tso.len, 0);
	for (round = 0; round < 4; round++) {
		n = tso_read(false, F_ACK, MSS);
		memcpy(&vh, rbuf, sizeof(vh));
		if (round == 0)
			vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;     /* an IPv4 frame */
		else if (round == 1)
			vh.gso_size = 20;                           /* no real MSS */
		else if (round == 2) {
			vh.gso_type = VIRTIO_NET_HDR_GSO_NONE;
			vh.csum_start = (uint16_t)(n - HOST_VNET_HDR_LEN - 1);
		} else
			vh.gso_type = VIRTIO_NET_HDR_GSO_UDP;       /* never offered */
		memcpy(rbuf, &vh, sizeof(vh));
		memcpy(was, rbuf, n);
		EXPECT((p = host_vnet_frame(rbuf, n, &tso)) != NULL);
		EXPECT_EQ(tso.len, 0);
		n -= HOST_VNET_HDR_LEN;
		EXPECT_EQ(os_pkt_len(p), n);
		if (round != 2) {       /* all but the TCP checksum, now right */
			EXPECT(tcp_ok(host_pkt_data(p), n, false));
			memcpy(was + HOST_VNET_HDR_LEN + ETH + 20 + 16,
			    host_pkt_data(p) + ETH + 20 + 16, 2);
		}
		EXPECT(memcmp(host_pkt_data(p), was + HOST_VNET_HDR_LEN, n) == 0);
		os_pkt_free(p);
	}
	return (0);
}

/* ---- The receive side: merging ----------------------------------------------------- */

static int tapfd[2][2];                  /* two "TAPs": [i][0] written, [i][1] read */

/* The next frame written to TAP i: its header and length (0: none left). */
static uint32_t
tap_read(int i, struct virtio_net_hdr *vh, uint8_t *f)
{
	ssize_t n = recv(tapfd[i][1], rbuf, sizeof(rbuf), MSG_DONTWAIT);

	if (n < (ssize_t)HOST_VNET_HDR_LEN)
		return (0);
	memcpy(vh, rbuf, sizeof(*vh));
	memmove(f, rbuf + HOST_VNET_HDR_LEN, (size_t)n - HOST_VNET_HDR_LEN);
	return ((uint32_t)n - HOST_VNET_HDR_LEN);
}

/* A segment, checksummed, of payload[off, off + plen). */
static struct vpc_pkt *
segment(bool v6, uint32_t off, uint32_t plen, uint8_t flags, uint16_t dport)
{
	static uint8_t f[2048];

	return (host_pkt_new(f, tcp_frame(f, v6, 1000 + off, flags, off, plen,
	    false, dport)));
}

/* Per TAP: frames the merging said were written, and lost with a write. */
static struct fate {
	uint32_t written, lost;
} fates[2];

static void
tally(void *arg, uint32_t frames, bool written)
{
	struct fate *f = arg;

	if (written)
		f->written += frames;
	else
		f->lost += frames;
}

/* Hand the segment to the merging as os_nic_output does; write it if refused. */
static void
give(int i, struct vpc_pkt *p)
{
	static const struct virtio_net_hdr plain;

	if (!host_gro_take(&tapfd[i], tapfd[i][0], p, tally, &fates[i])) {
		tally(&fates[i], 1, host_vnet_write(tapfd[i][0], &plain,
		    host_pkt_data(p), os_pkt_len(p)));
		os_pkt_free(p);
	}
}

/*
 * What TAP i got next is one frame holding payload[off, off + plen): merged
 * (a TSO frame, checksum left to the stack) or, if segs is 1, as sent.
 */
static int
expect_frame(int i, bool v6, uint32_t off, uint32_t plen, unsigned segs)
{
	static uint8_t f[70000];
	struct virtio_net_hdr vh;
	uint32_t l4 = v6 ? ETH + 40 : ETH + 20, len = tap_read(i, &vh, f);
	uint8_t *tcp = f + l4;

	EXPECT_EQ(len, l4 + TCP_HLEN + plen);
	EXPECT_EQ(g32(tcp + 4), 1000 + off);
	EXPECT(memcmp(f + l4 + TCP_HLEN, payload + off, plen) == 0);
	if (segs == 1) {
		EXPECT_EQ(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		EXPECT_EQ(vh.flags, 0);
		EXPECT(tcp_ok(f, len, v6));
		return (0);
	}
	EXPECT_EQ(vh.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
	    VIRTIO_NET_HDR_GSO_TCPV4);
	EXPECT_EQ(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	EXPECT_EQ(vh.gso_size, MSS);
	EXPECT_EQ(vh.hdr_len, l4 + TCP_HLEN);
	EXPECT_EQ(vh.csum_start, l4);
	EXPECT_EQ(vh.csum_offset, 16);
	EXPECT_EQ(v6 ? g16(f + ETH + 4) : g16(f + ETH + 2),
	    v6 ? len - l4 : len - ETH);
	/* The field holds the pseudo-header's sum: completing it as the
	 * stack would gives a checksum that verifies. */
	EXPECT_EQ(g16(tcp + 16), ref_fold(ref_pseudo(f, v6, len - l4)));
	p16(tcp + 16, (uint16_t)~ref_fold(ref_add(0, tcp, len - l4)));
	EXPECT(tcp_ok(f, len, v6));
	return (0);
}

static int
setup(void)
{
	unsigned i;

	for (i = 0; i < PAYLOAD; i++)
		payload[i] = (uint8_t)(i * 7 + i / 251);
	for (i = 0; i < 2; i++)
		EXPECT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, tapfd[i]) == 0);
	return (0);
}

/* A run of full segments and a short last one: one frame; not outside a batch. */
static int
check_merge(bool v6)
{
	struct virtio_net_hdr vh;
	uint32_t off;

	host_gro_begin();
	for (off = 0; off < PAYLOAD; off += MSS)
		give(0, segment(v6, off, PAYLOAD - off < MSS ? PAYLOAD - off : MSS,
		    F_ACK, 80));
	host_gro_end();
	if (expect_frame(0, v6, 0, PAYLOAD, 8) != 0)
		return (-1);
	EXPECT_EQ(tap_read(0, &vh, rbuf), 0);
	give(0, segment(v6, 0, MSS, F_ACK, 80));        /* no batch: at once */
	return (expect_frame(0, v6, 0, MSS, 1));
}

static int
case_merge_v4(void)
{
	return (check_merge(false));
}

static int
case_merge_v6(void)
{
	return (check_merge(true));
}

/*
 * Order and what breaks a run: a damaged segment is written alone in its
 * place; a segment of another TAP does not break this one's; a FIN ends
 * the run, written after it; a lone segment is written as it came.
 */
static int
case_breaks(void)
{
	struct virtio_net_hdr vh;
	struct vpc_pkt *bad;

	host_gro_begin();
	give(0, segment(false, 0, MSS, F_ACK, 80));
	give(0, segment(false, MSS, MSS, F_ACK, 80));
	give(1, segment(false, 0, MSS, F_ACK, 81));
	bad = segment(false, 2 * MSS, MSS, F_ACK, 80);
	host_pkt_data(bad)[ETH + 20 + TCP_HLEN + 5] ^= 1;
	give(0, bad);
	give(1, segment(false, MSS, MSS, F_ACK, 81));
	give(0, segment(false, 3 * MSS, MSS, F_ACK, 80));
	give(0, segment(false, 4 * MSS, MSS, F_ACK, 80));
	give(0, segment(false, 5 * MSS, MSS, F_ACK | F_FIN, 80));
	give(0, segment(false, 6 * MSS, MSS, F_ACK, 80));
	host_gro_end();
	if (expect_frame(0, false, 0, 2 * MSS, 2) != 0)
		return (-1);
	EXPECT(tap_read(0, &vh, rbuf) == ETH + 20 + TCP_HLEN + MSS);  /* damaged */
	EXPECT_EQ(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	if (expect_frame(0, false, 3 * MSS, 2 * MSS, 2) != 0 ||
	    expect_frame(0, false, 5 * MSS, MSS, 1) != 0 ||
	    expect_frame(0, false, 6 * MSS, MSS, 1) != 0 ||
	    expect_frame(1, false, 0, 2 * MSS, 2) != 0)
		return (-1);
	EXPECT_EQ(tap_read(0, &vh, rbuf), 0);
	EXPECT_EQ(tap_read(1, &vh, rbuf), 0);
	return (0);
}

/*
 * Every frame handed over is accounted for once, written or lost: a merged
 * frame's failed write loses all its segments (the switch counts them as
 * dropped, not delivered), one that goes counts each segment written.
 */
static int
case_fates(void)
{
	struct virtio_net_hdr vh;
	unsigned i;

	memset(fates, 0, sizeof(fates));
	host_fail_tap_write_every = 1;          /* every write fails */
	host_gro_begin();
	for (i = 0; i < 4; i++)
		give(0, segment(false, i * MSS, MSS, F_ACK, 80));
	give(1, segment(false, 0, MSS, F_ACK | F_PSH, 81));     /* at once */
	host_gro_end();
	host_fail_tap_write_every = 0;
	EXPECT_EQ(fates[0].lost, 4);
	EXPECT_EQ(fates[0].written, 0);
	EXPECT_EQ(fates[1].lost, 1);
	EXPECT_EQ(tap_read(0, &vh, rbuf), 0);
	EXPECT_EQ(tap_read(1, &vh, rbuf), 0);

	memset(fates, 0, sizeof(fates));
	host_gro_begin();
	for (i = 0; i < 3; i++)
		give(0, segment(false, i * MSS, MSS, F_ACK, 80));
	give(0, segment(false, 3 * MSS, MSS, F_ACK | F_FIN, 80));  /* breaks it */
	host_gro_end();
	EXPECT_EQ(fates[0].written, 4);
	EXPECT_EQ(fates[0].lost, 0);
	if (expect_frame(0, false, 0, 3 * MSS, 3) != 0 ||
	    expect_frame(0, false, 3 * MSS, MSS, 1) != 0)
		return (-1);
	EXPECT_EQ(tap_read(0, &vh, rbuf), 0);
	return (0);
}

static void
teardown(void)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		close(tapfd[i][0]);
		close(tapfd[i][1]);
	}
}

/* host_csum_add's sum as the bytes it stands for: network order. */
static uint16_t
host_sum_be(uint64_t sum)
{
	uint16_t r = host_csum_fold(sum);
	uint8_t b[2];

	memcpy(b, &r, 2);
	return ((uint16_t)(b[0] << 8 | b[1]));
}

/*
 * host_csum_add against the plain sum: every length from 0 to 600 at every
 * start 0-7 of random bytes (all 0xff too: every carry), whole and in two
 * pieces split at an even length, as the cut and merge paths sum headers
 * and payload apart.
 */
static int
case_csum(void)
{
	static uint8_t buf[700];
	uint32_t len, off, cut, r = 0x12345678;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			test_rand_bytes(buf, sizeof(buf), &r);
		else
			memset(buf, 0xff, sizeof(buf));
		for (off = 0; off < 8; off++)
			for (len = 0; len <= 600; len++) {
				uint16_t want = ref_fold(ref_add(0, buf + off, len));

				if (host_sum_be(host_csum_add(0, buf + off, len)) != want)
					FAIL("length %u at %u: whole", len, off);
				cut = (len / 2) & ~1u;
				if (host_sum_be(host_csum_add(host_csum_add(0, buf + off, cut),
				    buf + off + cut, len - cut)) != want)
					FAIL("length %u at %u: cut at %u", len, off, cut);
			}
	}
	return (0);
}

int
test_vnet(struct vpc_sys *sys, int *failed)
{
	static const struct test_case cases[] = {
		{ "setup: payload and two socket pairs as TAPs", setup },
		{ "the one's-complement sum, any length, start and split", case_csum },
		{ "a TSO frame over IPv4 cut into segments", case_cut_v4 },
		{ "a TSO frame over IPv6 cut into segments", case_cut_v6 },
		{ "a checksum left to us completed", case_complete },
		{ "metadata that does not fit leaves the frame as it is", case_nonsense },
		{ "IPv4 segments of one flow written as one TSO frame", case_merge_v4 },
		{ "IPv6 segments of one flow written as one TSO frame", case_merge_v6 },
		{ "what breaks a run, and the order kept", case_breaks },
		{ "each frame held is reported written or lost, merged ones by segment", case_fates },
	};
	int passed;

	T.sys = sys;
	T.failed = failed;
	passed = run_cases(cases, nitems(cases));
	teardown();
	return (passed);
}
