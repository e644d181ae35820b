/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_nat.c: the NAT translation engine (vpc_nat*.c) driven directly, not
 * through objects (it is not wired to any yet).  Every checksum the engine
 * updates incrementally is checked against one computed from scratch, on
 * randomized packets from a fixed seed; time is a fake clock.  Part of
 * test_core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_nat_impl.h"
#include "host_loop.h"
#include "host_os.h"
#include "host_pkt.h"
#include "test_nat.h"

static struct natt {
	struct vpc_sys *sys;
	const char     *name;
	int            *failed;
	struct vpc_nat *n;
} T;

#define TEST_AREA "nat"
#define TEST_STATE T
#include "test_area.h"

#define ITER_CSUM   20000       /* per kind of checksum */
#define ITER_PKT    5000        /* randomized packets per case and direction */
#define L3          14          /* an Ethernet header in front */
#define NS          1000000000ULL

/* ---- A fixed-seed generator and a fake clock --------------------------------- */

static uint64_t rng_state;

static uint32_t
rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((uint32_t)(rng_state >> 33));
}

static uint64_t fake_ns;

static uint64_t
fake_clock(void)
{
	return (fake_ns);
}

/* ---- Packets --------------------------------------------------------------------- */

struct pk {
	uint8_t  b[1600];
	uint32_t len;           /* the whole frame */
};

static uint8_t *
ip_of(struct pk *p)
{
	return (p->b + L3);
}

static uint32_t
ihl_of(const uint8_t *ip)
{
	return ((uint32_t)(ip[0] & 0xf) * 4);
}

static uint8_t *
l4_of(struct pk *p)
{
	return (ip_of(p) + ihl_of(ip_of(p)));
}

static uint32_t
l4len_of(struct pk *p)
{
	return (vpc_get16(ip_of(p) + 2) - ihl_of(ip_of(p)));
}

static void
a4(uint8_t *d, uint32_t a)
{
	vpc_put32(d, a);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
	(uint32_t)(c) << 8 | (uint32_t)(d))

/* From scratch: the IP header's checksum, an upper layer's (pseudo-header
 * for TCP, UDP; UDP's zero as 0xffff), as they should be stored. */
static uint16_t
ip_sum_full(const uint8_t *ip)
{
	uint8_t h[60];

	memcpy(h, ip, ihl_of(ip));
	h[10] = h[11] = 0;
	return (vpc_cksum_finish(vpc_cksum_add(0, h, ihl_of(ip))));
}

static uint16_t
l4_sum_full(const uint8_t *ip, const uint8_t *l4, uint32_t len, uint8_t proto)
{
	uint8_t tmp[1600], ph[12];
	uint32_t s = 0, at = proto == 6 ? 16 : proto == 17 ? 6 : 2;
	uint16_t r;

	memcpy(tmp, l4, len);
	tmp[at] = tmp[at + 1] = 0;
	if (proto == 6 || proto == 17) {
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = proto;
		vpc_put16(ph + 10, (uint16_t)len);
		s = vpc_cksum_add(0, ph, 12);
	}
	r = vpc_cksum_finish(vpc_cksum_add(s, tmp, len));
	return (proto == 17 && r == 0 ? 0xffff : r);
}

static uint32_t
l4_sum_at(uint8_t proto)
{
	return (proto == 6 ? 16 : proto == 17 ? 6 : 2);
}

/* Compute every checksum of p from scratch (udp_none: leave UDP's at 0). */
static void
seal(struct pk *p, bool udp_none)
{
	uint8_t *ip = ip_of(p), proto = ip[9];
	uint16_t frag = vpc_get16(ip + 6);

	if ((frag & 0x3fff) == 0 && (proto == 6 || proto == 17 || proto == 1) &&
	    !(proto == 17 && udp_none))
		vpc_put16(l4_of(p) + l4_sum_at(proto), l4_sum_full(ip, l4_of(p),
		    l4len_of(p), proto));
	vpc_put16(ip + 10, ip_sum_full(ip));
}

/*
 * A frame: IPv4 with optlen bytes of options, then an upper layer of
 * l4len bytes: hdr (hlen bytes) then random payload.
 */
static void
mk(struct pk *p, uint32_t src, uint32_t dst, uint8_t proto,
    const uint8_t *hdr, uint32_t hlen, uint32_t paylen, uint32_t optlen)
{
	uint8_t *ip;
	uint32_t i;

	memset(p, 0, sizeof(*p));
	p->b[12] = 0x08;
	ip = ip_of(p);
	ip[0] = (uint8_t)(0x40 | (5 + optlen / 4));
	vpc_put16(ip + 2, (uint16_t)(20 + optlen + hlen + paylen));
	vpc_put16(ip + 4, (uint16_t)rnd());
	vpc_put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = proto;
	a4(ip + 12, src);
	a4(ip + 16, dst);
	for (i = 0; i < optlen; i++)
		ip[20 + i] = (uint8_t)(i == optlen - 1 ? 0 : 1);   /* NOPs, EOL */
	memcpy(ip + 20 + optlen, hdr, hlen);
	for (i = 0; i < paylen; i++)
		ip[20 + optlen + hlen + i] = (uint8_t)rnd();
	p->len = L3 + 20 + optlen + hlen + paylen;
}

static void
mk_tcp(struct pk *p, uint32_t src, uint16_t sport, uint32_t dst,
    uint16_t dport, uint8_t flags, uint32_t paylen)
{
	uint8_t h[20] = { 0 };

	vpc_put16(h, sport);
	vpc_put16(h + 2, dport);
	vpc_put32(h + 4, rnd());
	vpc_put32(h + 8, rnd());
	h[12] = 0x50;
	h[13] = flags;
	vpc_put16(h + 14, 65535);
	mk(p, src, dst, 6, h, 20, paylen, 0);
	seal(p, false);
}

static void
mk_udp(struct pk *p, uint32_t src, uint16_t sport, uint32_t dst,
    uint16_t dport, uint32_t paylen)
{
	uint8_t h[8] = { 0 };

	vpc_put16(h, sport);
	vpc_put16(h + 2, dport);
	vpc_put16(h + 4, (uint16_t)(8 + paylen));
	mk(p, src, dst, 17, h, 8, paylen, 0);
	seal(p, false);
}

static void
mk_echo(struct pk *p, uint32_t src, uint32_t dst, uint8_t type, uint16_t id,
    uint32_t paylen)
{
	uint8_t h[8] = { 0 };

	h[0] = type;
	vpc_put16(h + 4, id);
	vpc_put16(h + 6, (uint16_t)rnd());
	mk(p, src, dst, 1, h, 8, paylen, 0);
	seal(p, false);
}

/* An ICMP error from src to dst quoting the first quote bytes of q's IP datagram. */
static void
mk_error(struct pk *p, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
    uint32_t word, struct pk *q, uint32_t quote)
{
	uint8_t h[8 + 600] = { 0 };

	if (quote > q->len - L3)
		quote = q->len - L3;
	h[0] = type;
	h[1] = code;
	vpc_put32(h + 4, word);
	memcpy(h + 8, ip_of(q), quote);
	mk(p, src, dst, 1, h, 8 + quote, 0, 0);
	seal(p, false);
}

/* Every checksum of p is what a from-scratch computation gives (UDP's
 * zero: still zero if none); 0 if so, else which is wrong. */
static int
sums_ok(struct pk *p, bool udp_none)
{
	uint8_t *ip = ip_of(p), proto = ip[9];
	uint16_t frag = vpc_get16(ip + 6);

	if (vpc_get16(ip + 10) != ip_sum_full(ip))
		return (1);
	if ((frag & 0x3fff) != 0 || (proto != 6 && proto != 17 && proto != 1))
		return (0);
	if (proto == 17 && udp_none)
		return (vpc_get16(l4_of(p) + 6) == 0 ? 0 : 2);
	return (vpc_get16(l4_of(p) + l4_sum_at(proto)) ==
	    l4_sum_full(ip, l4_of(p), l4len_of(p), proto) ? 0 : 3);
}

/* Translate a copy of p going dir; the result back in p.  The verdict. */
static int
xl(struct vpc_nat *n, struct pk *p, int dir)
{
	struct os_epoch et;
	struct vpc_pkt *pkt = host_pkt_new(p->b, p->len);
	int v;

	if (pkt == NULL)
		return (-1);
	os_epoch_enter(&et);
	v = vpc_nat_xlate(n, &pkt, L3, dir);
	os_epoch_exit(&et);
	if (pkt != NULL) {
		p->len = os_pkt_len(pkt);
		memcpy(p->b, host_pkt_data(pkt), p->len);
		os_pkt_free(pkt);
	}
	return (v);
}

static uint32_t
src_of(struct pk *p)
{
	return (vpc_nat_get32(ip_of(p) + 12));
}

static uint32_t
dst_of(struct pk *p)
{
	return (vpc_nat_get32(ip_of(p) + 16));
}

static uint16_t
sport_of(struct pk *p)
{
	return (ip_of(p)[9] == 1 ? vpc_get16(l4_of(p) + 4) : vpc_get16(l4_of(p)));
}

static uint16_t
dport_of(struct pk *p)
{
	return (vpc_get16(l4_of(p) + 2));
}

static uint64_t
cnt(unsigned which)
{
	return (vpc_nat_counter(T.n, which));
}

static struct vpc_nat *
fresh(uint32_t max_flows)
{
	if (T.n != NULL)
		vpc_nat_destroy(T.n);
	T.n = NULL;
	hloop_reclaim();
	if (vpc_nat_create(max_flows, &T.n) != 0)
		return (NULL);
	fake_ns = 1000 * NS;
	vpc_nat_set_clock(T.n, fake_clock);
	return (T.n);
}

static void
b4(uint8_t *d, uint32_t a)
{
	vpc_put32(d, a);
}

static int
eip(uint32_t priv, uint32_t ext)
{
	uint8_t a[4], b[4];

	b4(a, priv);
	b4(b, ext);
	return (vpc_nat_eip_bind(T.n, a, b));
}

static int
pool(uint32_t ext, uint16_t lo, uint16_t hi, uint16_t block)
{
	uint8_t a[4];

	b4(a, ext);
	return (vpc_nat_pool_add(T.n, a, lo, hi, block));
}

static int
snat(uint32_t priv, uint32_t ext)
{
	uint8_t a[4], b[4];

	b4(a, priv);
	b4(b, ext);
	return (vpc_nat_snat_bind(T.n, a, b));
}

static int
snat_info(uint32_t priv, struct vpc_nat_snat_info *si)
{
	uint8_t a[4];

	b4(a, priv);
	return (vpc_nat_snat_get(T.n, a, si));
}

#define PRIV_A  IP(10, 0, 0, 5)
#define PRIV_B  IP(10, 0, 0, 6)
#define PRIV_C  IP(10, 0, 0, 7)
#define EXT_E   IP(203, 0, 113, 10)     /* A's EIP */
#define EXT_S   IP(198, 51, 100, 1)     /* the SNAT pool's */
#define REMOTE  IP(192, 0, 2, 80)
#define ROUTER  IP(192, 0, 2, 254)

/* ---- Checksum arithmetic ------------------------------------------------------- */

static int
t_csum(void)
{
	uint8_t buf[1501];
	uint32_t it, len, at, i, s;
	uint16_t cs, full, nw;
	int kind;

	rng_state = 1;
	for (kind = VPC_NAT_CS_PLAIN; kind <= VPC_NAT_CS_UDP; kind++)
		for (it = 0; it < ITER_CSUM; it++) {
			len = 4 + rnd() % 1497;         /* odd and even */
			for (i = 0; i < len; i++)
				buf[i] = (uint8_t)rnd();
			if (rnd() % 8 == 0)             /* zero runs too */
				memset(buf, 0, len / 2);
			buf[0] = 0;
			buf[1] = 0;     /* the checksum lives at 0 */
			full = vpc_cksum_finish(vpc_cksum_add(0, buf, len));
			if (kind == VPC_NAT_CS_UDP && full == 0)
				full = 0xffff;
			cs = full;
			/* A 16-bit word, or a 32-bit one, at an even offset. */
			at = 2 + 2 * (rnd() % ((len - 2) / 2));
			if (rnd() % 2 == 0 && at + 4 <= len) {
				uint32_t old = vpc_nat_get32(buf + at), nv = rnd();

				if (rnd() % 16 == 0)
					nv = old ^ 0xffffffffu;
				cs = vpc_nat_cksum_adj32(cs, old, nv, kind);
				vpc_put32(buf + at, nv);
			} else {
				nw = (uint16_t)rnd();
				cs = vpc_nat_cksum_adj16(cs, vpc_get16(buf + at), nw,
				    kind);
				vpc_put16(buf + at, nw);
			}
			s = vpc_cksum_add(0, buf, len);
			full = vpc_cksum_finish(s);
			if (kind == VPC_NAT_CS_UDP && full == 0)
				full = 0xffff;
			if (cs != full)
				FAIL("kind %d iteration %u len %u: incremental %#x, "
				    "from scratch %#x", kind, it, len, cs, full);
			/* And it verifies: the sum with it folded is all ones. */
			vpc_put16(buf, cs);
			if (vpc_cksum_finish(vpc_cksum_add(0, buf, len)) != 0)
				FAIL("iteration %u: does not verify", it);
		}
	/* UDP: no checksum stays none; -0 goes out as 0xffff. */
	EXPECT_EQ(vpc_nat_cksum_adj16(0, 0x1234, 0x5678, VPC_NAT_CS_UDP), 0);
	EXPECT_EQ(vpc_nat_cksum_adj32(0, 1, 2, VPC_NAT_CS_UDP), 0);
	EXPECT_EQ(vpc_nat_cksum_adj16(0x0001, 0x0000, 0x0001, VPC_NAT_CS_UDP),
	    0xffff);
	EXPECT_EQ(vpc_nat_cksum_adj16(0x0001, 0x0000, 0x0001, VPC_NAT_CS_PLAIN),
	    0);
	/* The cover follows the words written. */
	{
		uint8_t m[12] = { 0 }, *cov = m;

		vpc_put16(m + 4, 0xabcd);
		vpc_put16(cov, vpc_cksum_finish(vpc_cksum_add(0, m + 2, 10)));
		vpc_nat_set_port(m + 4, 0x1357, m + 8, VPC_NAT_CS_PLAIN, cov);
		EXPECT_EQ(vpc_get16(cov), vpc_cksum_finish(vpc_cksum_add(0, m + 2,
		    10)));
	}
	return (0);
}

/* ---- EIP ---------------------------------------------------------------------------- */

/* A random packet between a and b: TCP, UDP (maybe no checksum), ICMP
 * echo, GRE; options and odd lengths; now and then a fragment. */
static void
mk_random(struct pk *p, uint32_t a, uint32_t b, bool *udp_none, bool frags)
{
	uint8_t h[20] = { 0 }, proto;
	uint32_t k = rnd() % 4, optlen = 4 * (rnd() % 11), pay = rnd() % 400;

	proto = k == 0 ? 6 : k == 1 ? 17 : k == 2 ? 1 : 47;
	vpc_put16(h, (uint16_t)rnd());
	vpc_put16(h + 2, (uint16_t)rnd());
	vpc_put32(h + 4, rnd());
	if (proto == 6) {
		h[12] = 0x50;
		h[13] = (uint8_t)(rnd() & 0x3f);
	} else if (proto == 17) {
		vpc_put16(h + 4, (uint16_t)(8 + pay));
		vpc_put16(h + 6, 0);
	}
	else if (proto == 1) {
		h[0] = rnd() % 2 ? 8 : 0;
		h[1] = 0;
	}
	mk(p, a, b, proto, h, proto == 6 ? 20 : 8, pay, optlen);
	if (frags && rnd() % 8 == 0)    /* a later fragment */
		vpc_put16(ip_of(p) + 6, (uint16_t)(0x2000 | (1 + rnd() % 100)));
	*udp_none = proto == 17 && rnd() % 4 == 0;
	seal(p, *udp_none);
}

static int
t_eip(void)
{
	struct pk p, q;
	bool none;
	uint32_t it;
	int r;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT_EQ(eip(PRIV_A, EXT_E), 0);
	rng_state = 2;
	for (it = 0; it < ITER_PKT; it++) {
		mk_random(&p, PRIV_A, rnd() | 0x01000000u, &none, true);
		q = p;
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
		EXPECT_EQ(src_of(&p), EXT_E);
		EXPECT_EQ(dst_of(&p), dst_of(&q));
		if ((r = sums_ok(&p, none)) != 0)
			FAIL("out %u: checksum %d (proto %u, len %u)", it, r,
			    ip_of(&p)[9], p.len);
		/* Nothing but the address and the checksums moved. */
		{
			uint32_t skip = ip_of(&p)[9] == 6 &&
			    (vpc_get16(ip_of(&p) + 6) & 0x1fff) == 0 ? 18 : 8;

			EXPECT(memcmp(l4_of(&p) + skip, l4_of(&q) + skip, p.len -
			    L3 - ihl_of(ip_of(&p)) - skip) == 0);
		}
		/* Back in: the reply to it. */
		mk_random(&p, rnd() | 0x01000000u, EXT_E, &none, true);
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_XLATED);
		EXPECT_EQ(dst_of(&p), PRIV_A);
		if ((r = sums_ok(&p, none)) != 0)
			FAIL("in %u: checksum %d", it, r);
	}
	EXPECT_EQ(cnt(VPC_NATC_OUT_EIP), ITER_PKT);
	EXPECT_EQ(cnt(VPC_NATC_IN_EIP), ITER_PKT);
	/* Unbound: outbound dropped (counted), inbound not ours any more. */
	{
		uint8_t a[4];

		b4(a, PRIV_A);
		EXPECT_EQ(vpc_nat_eip_unbind(T.n, a), 0);
		EXPECT_EQ(vpc_nat_eip_unbind(T.n, a), VPC_ENOENT);
	}
	mk_udp(&p, PRIV_A, 5000, REMOTE, 53, 11);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_NOCFG), 1);
	mk_udp(&p, REMOTE, 53, EXT_E, 5000, 11);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_NOTMINE);
	return (0);
}

/* ---- SNAT ----------------------------------------------------------------------------- */

static int
t_snat_random(void)
{
	struct vpc_nat_snat_info si[3];
	struct pk p, q;
	uint32_t it, privs[3] = { PRIV_A, PRIV_B, PRIV_C }, k, remote;
	uint16_t sport, dport, eport, id;
	bool none;
	int r, pi;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	for (k = 0; k < 3; k++) {
		EXPECT_EQ(snat(privs[k], EXT_S), 0);
		EXPECT_EQ(snat_info(privs[k], &si[k]), 0);
		EXPECT_EQ(si[k].size, VPC_NAT_BLOCK);
	}
	rng_state = 3;
	for (it = 0; it < ITER_PKT; it++) {
		k = rnd() % 3;
		remote = IP(192, 0, 2, 1 + rnd() % 200);
		sport = (uint16_t)(1024 + rnd() % 60000);
		dport = (uint16_t)(1 + rnd() % 1000);
		none = false;
		switch (rnd() % 3) {
		case 0:
			mk_tcp(&p, privs[k], sport, remote, dport, 0x02,
			    rnd() % 300);
			pi = VPC_NAT_TCP;
			break;
		case 1:
			mk_udp(&p, privs[k], sport, remote, dport, rnd() % 300);
			if ((none = rnd() % 4 == 0)) {
				vpc_put16(l4_of(&p) + 6, 0);
			}
			pi = VPC_NAT_UDP;
			break;
		default:
			mk_echo(&p, privs[k], remote, 8, sport, rnd() % 300);
			dport = 0;
			pi = VPC_NAT_ICMP;
			break;
		}
		q = p;
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
		EXPECT_EQ(src_of(&p), EXT_S);
		eport = sport_of(&p);
		if (eport < si[k].lo[pi] || eport >= si[k].lo[pi] + si[k].size)
			FAIL("port %u outside %u+%u", eport, si[k].lo[pi], si[k].size);
		if ((r = sums_ok(&p, none)) != 0)
			FAIL("out %u: checksum %d proto %u", it, r, ip_of(&p)[9]);
		/* The reply, built from scratch, comes back as the VM sent to. */
		if (pi == VPC_NAT_TCP)
			mk_tcp(&p, remote, dport, EXT_S, eport, 0x12, rnd() % 300);
		else if (pi == VPC_NAT_UDP)
			mk_udp(&p, remote, dport, EXT_S, eport, rnd() % 301);
		else
			mk_echo(&p, remote, EXT_S, 0, eport, rnd() % 301);
		if (pi == VPC_NAT_UDP && none)
			vpc_put16(l4_of(&p) + 6, 0);
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_XLATED);
		EXPECT_EQ(dst_of(&p), privs[k]);
		id = pi == VPC_NAT_ICMP ? sport_of(&p) : dport_of(&p);
		EXPECT_EQ(id, sport);
		if ((r = sums_ok(&p, none)) != 0)
			FAIL("in %u: checksum %d proto %u", it, r, ip_of(&p)[9]);
		(void)q;
	}
	EXPECT_EQ(cnt(VPC_NATC_OUT_SNAT), ITER_PKT);
	EXPECT_EQ(cnt(VPC_NATC_IN_SNAT), ITER_PKT);
	EXPECT_EQ(cnt(VPC_NATC_DROP_EXHAUSTED), 0);
	/* A packet from the wrong remote finds no flow. */
	mk_udp(&p, IP(192, 0, 2, 250), 1, EXT_S, si[0].lo[VPC_NAT_UDP], 3);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_NOFLOW), 1);
	return (0);
}

/* 100 private addresses on one external address: blocks never overlap, and
 * neither do the ports their flows take. */
static int
t_snat_blocks(void)
{
	static uint8_t seen[VPC_NAT_NPROTO][65536];
	struct vpc_nat_snat_info si;
	struct pk p;
	uint32_t i, j, pi, nb = 100;
	uint16_t port;
	uint8_t a[4];

	if (fresh(0) == NULL)
		FAIL("create");
	memset(seen, 0, sizeof(seen));
	EXPECT_EQ(pool(EXT_S, 2000, (uint16_t)(2000 + 64 * nb + 10), 64), 0);
	for (i = 0; i < nb; i++) {
		EXPECT_EQ(snat(IP(10, 1, i / 250, 1 + i % 250), EXT_S), 0);
		EXPECT_EQ(snat_info(IP(10, 1, i / 250, 1 + i % 250), &si), 0);
		for (pi = 0; pi < VPC_NAT_NPROTO; pi++) {
			EXPECT(si.lo[pi] >= 2000);
			EXPECT((uint32_t)si.lo[pi] + si.size - 1 <= 2000 + 64 * nb + 10);
			for (j = 0; j < si.size; j++) {
				if (seen[pi][si.lo[pi] + j]++ != 0)
					FAIL("port %u of protocol %u given twice",
					    si.lo[pi] + j, pi);
			}
		}
	}
	/* The pool is full: a 101st is refused, nothing changes. */
	EXPECT_EQ(snat(IP(10, 2, 0, 1), EXT_S), VPC_ENOSPC);
	EXPECT_EQ(snat_info(IP(10, 2, 0, 1), &si), VPC_ENOENT);
	/* Every address opens 20 flows of each protocol to one remote port. */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < nb; i++)
		for (j = 0; j < 20; j++) {
			uint32_t priv = IP(10, 1, i / 250, 1 + i % 250);

			mk_tcp(&p, priv, (uint16_t)(40000 + j), REMOTE, 443, 2, 0);
			EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
			port = sport_of(&p);
			if (seen[0][port]++ != 0)
				FAIL("TCP port %u twice", port);
			mk_udp(&p, priv, (uint16_t)(40000 + j), REMOTE, 443, 1);
			EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
			if (seen[1][sport_of(&p)]++ != 0)
				FAIL("UDP port %u twice", sport_of(&p));
			mk_echo(&p, priv, REMOTE, 8, (uint16_t)j, 1);
			EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
			if (seen[2][sport_of(&p)]++ != 0)
				FAIL("echo id %u twice", sport_of(&p));
		}
	EXPECT_EQ(vpc_nat_nflows(T.n), nb * 20 * 3);
	/* The pool is in use; unbinding frees a block and its flows at once. */
	b4(a, EXT_S);
	EXPECT_EQ(vpc_nat_pool_del(T.n, a), VPC_EBUSY);
	b4(a, IP(10, 1, 0, 7));
	EXPECT_EQ(snat_info(IP(10, 1, 0, 7), &si), 0);
	EXPECT_EQ(vpc_nat_snat_unbind(T.n, a), 0);
	EXPECT_EQ(vpc_nat_nflows(T.n), (nb - 1) * 20 * 3);
	port = si.lo[VPC_NAT_TCP];
	EXPECT_EQ(snat(IP(10, 2, 0, 1), EXT_S), 0);
	EXPECT_EQ(snat_info(IP(10, 2, 0, 1), &si), 0);
	EXPECT_EQ(si.lo[VPC_NAT_TCP], port);
	for (i = 0; i < nb; i++) {
		b4(a, IP(10, 1, i / 250, 1 + i % 250));
		(void)vpc_nat_snat_unbind(T.n, a);
	}
	b4(a, IP(10, 2, 0, 1));
	EXPECT_EQ(vpc_nat_snat_unbind(T.n, a), 0);
	EXPECT_EQ(vpc_nat_nflows(T.n), 0);
	b4(a, EXT_S);
	EXPECT_EQ(vpc_nat_pool_del(T.n, a), 0);
	return (0);
}

/* Two VMs ping one remote with the same id, one VM with two ids: four
 * flows, four external ids, every reply back to its own VM and id. */
static int
t_echo(void)
{
	struct pk p;
	uint32_t who[4] = { PRIV_A, PRIV_B, PRIV_A, PRIV_B };
	uint16_t ids[4] = { 7, 7, 8, 8 }, ext[4];
	int i, j;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	EXPECT_EQ(snat(PRIV_B, EXT_S), 0);
	for (i = 0; i < 4; i++) {
		mk_echo(&p, who[i], REMOTE, 8, ids[i], 56);
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
		ext[i] = sport_of(&p);
		for (j = 0; j < i; j++)
			EXPECT(ext[j] != ext[i]);
	}
	EXPECT_EQ(vpc_nat_nflows(T.n), 4);
	for (j = 0; j < 3; j++)                 /* replies, in any order */
		for (i = 3; i >= 0; i--) {
			mk_echo(&p, REMOTE, EXT_S, 0, ext[i], 56);
			EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_XLATED);
			EXPECT_EQ(dst_of(&p), who[i]);
			EXPECT_EQ(sport_of(&p), ids[i]);
			EXPECT_EQ(sums_ok(&p, false), 0);
		}
	/* An echo request to the SNAT address reaches nobody. */
	mk_echo(&p, REMOTE, EXT_S, 8, ext[0], 56);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_NOFLOW), 1);
	return (0);
}

/* A block of 4 ports: a fifth flow to the same remote is dropped and
 * counted for that address; others, and other remotes, still get through. */
/* One fragment of a UDP datagram: the first (its header; more follow) or
 * a later one (offset 16 words, the last), with IP id `id`. */
static void
mk_frag(struct pk *p, uint32_t src, uint16_t sport, uint32_t dst,
    uint16_t dport, uint16_t id, bool first)
{
	mk_udp(p, src, sport, dst, dport, 120);
	vpc_put16(ip_of(p) + 4, id);
	vpc_put16(ip_of(p) + 6, first ? 0x2000 : 0x0010);
	seal(p, false);
}

/* SNAT and fragments: the later ones get what their first got. */
static int
t_snat_frags(void)
{
	struct pk p;
	uint16_t eport, sum;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	EXPECT_EQ(snat(PRIV_B, EXT_S), 0);
	/* Out: the first makes the flow, the later one follows its source. */
	mk_frag(&p, PRIV_A, 5353, REMOTE, 53, 0x77, true);
	sum = vpc_get16(p.b + 14 + 20 + 6);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	EXPECT_EQ(src_of(&p), EXT_S);
	eport = sport_of(&p);
	EXPECT(vpc_get16(p.b + 14 + 20 + 6) != sum);   /* the datagram's sum, updated */
	mk_frag(&p, PRIV_A, 0, REMOTE, 0, 0x77, false);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	EXPECT_EQ(src_of(&p), EXT_S);
	EXPECT_EQ(ip_sum_full(ip_of(&p)), vpc_get16(ip_of(&p) + 10));
	/* The same id from B (another datagram): its first never came. */
	mk_frag(&p, PRIV_B, 0, REMOTE, 0, 0x77, false);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_FRAG), 1);
	/* In: the answer's first fragment finds the flow, the later one
	 * follows its destination. */
	mk_frag(&p, REMOTE, 53, EXT_S, eport, 0x99, true);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_XLATED);
	EXPECT_EQ(dst_of(&p), PRIV_A);
	EXPECT_EQ(dport_of(&p), 5353);
	mk_frag(&p, REMOTE, 0, EXT_S, 0, 0x99, false);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_XLATED);
	EXPECT_EQ(dst_of(&p), PRIV_A);
	EXPECT_EQ(ip_sum_full(ip_of(&p)), vpc_get16(ip_of(&p) + 10));
	/* An inbound later fragment of no datagram: dropped, not guessed. */
	mk_frag(&p, REMOTE, 0, EXT_S, 0, 0x9a, false);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_FRAG), 2);
	/* 30 s on, the datagram is forgotten. */
	fake_ns += 31 * NS;
	mk_frag(&p, REMOTE, 0, EXT_S, 0, 0x99, false);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_FRAG), 3);
	return (0);
}

static int
t_exhaust(void)
{
	struct vpc_nat_snat_info si;
	struct pk p;
	uint16_t i;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT_EQ(pool(EXT_S, 3000, 3011, 4), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	EXPECT_EQ(snat(PRIV_B, EXT_S), 0);
	for (i = 0; i < 4; i++) {
		mk_tcp(&p, PRIV_A, (uint16_t)(1000 + i), REMOTE, 80, 2, 0);
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	}
	mk_tcp(&p, PRIV_A, 1004, REMOTE, 80, 2, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_EXHAUSTED), 2);
	EXPECT_EQ(snat_info(PRIV_A, &si), 0);
	EXPECT_EQ(si.exhausted[VPC_NAT_TCP], 2);
	EXPECT_EQ(si.exhausted[VPC_NAT_UDP], 0);
	EXPECT_EQ(si.flows[VPC_NAT_TCP], 4);
	/* The same flow again is no new flow: still fine. */
	mk_tcp(&p, PRIV_A, 1000, REMOTE, 80, 0x10, 10);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	/* Another remote port: the ports serve it too. */
	mk_tcp(&p, PRIV_A, 1004, REMOTE, 81, 2, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	/* B is unaffected. */
	mk_tcp(&p, PRIV_B, 1004, REMOTE, 80, 2, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	EXPECT_EQ(snat_info(PRIV_B, &si), 0);
	EXPECT_EQ(si.exhausted[VPC_NAT_TCP], 0);
	/* A third address finds the pool's blocks gone (12 ports, 3 blocks). */
	EXPECT_EQ(snat(PRIV_C, EXT_S), 0);
	EXPECT_EQ(snat(IP(10, 0, 0, 8), EXT_S), VPC_ENOSPC);
	return (0);
}

static int
t_full(void)
{
	struct pk p;
	uint16_t i;

	if (fresh(16) == NULL)
		FAIL("create");
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	for (i = 0; i < 16; i++) {
		mk_udp(&p, PRIV_A, (uint16_t)(1000 + i), REMOTE, 53, 20);
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	}
	mk_udp(&p, PRIV_A, 999, REMOTE, 53, 20);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_FULL), 1);
	EXPECT_EQ(vpc_nat_nflows(T.n), 16);
	/* Idle past the UDP timeout: the table takes new flows again. */
	fake_ns += (uint64_t)VPC_NAT_UDP_S * NS + 1;
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);   /* not reclaimed yet */
	vpc_nat_sweep(T.n);
	EXPECT_EQ(vpc_nat_nflows(T.n), 0);
	EXPECT_EQ(cnt(VPC_NATC_FLOWS_GONE), 16);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	return (0);
}

/* Timeouts on the fake clock: UDP, ICMP, TCP incipient/established/closing,
 * the defaults and configured ones. */
static int
t_timeouts(void)
{
	struct vpc_nat_timeouts to;
	struct pk p;
	uint16_t e;

	if (fresh(0) == NULL)
		FAIL("create");
	vpc_nat_get_timeouts(T.n, &to);
	EXPECT_EQ(to.tcp_incipient_s, VPC_NAT_TCP_INCIPIENT_S);
	EXPECT_EQ(to.tcp_est_s, VPC_NAT_TCP_EST_S);
	EXPECT_EQ(to.tcp_closing_s, VPC_NAT_TCP_CLOSING_S);
	EXPECT_EQ(to.udp_s, VPC_NAT_UDP_S);
	EXPECT_EQ(to.icmp_s, VPC_NAT_ICMP_S);
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);

	/* UDP: alive at exactly its timeout, gone one nanosecond later. */
	mk_udp(&p, PRIV_A, 1000, REMOTE, 53, 20);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	e = sport_of(&p);
	fake_ns += (uint64_t)VPC_NAT_UDP_S * NS;
	mk_udp(&p, REMOTE, 53, EXT_S, e, 20);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_XLATED);     /* refreshes */
	fake_ns += (uint64_t)VPC_NAT_UDP_S * NS + 1;
	mk_udp(&p, REMOTE, 53, EXT_S, e, 20);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_NOFLOW), 1);

	/* ICMP: 60 s. */
	mk_echo(&p, PRIV_A, REMOTE, 8, 42, 8);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	e = sport_of(&p);
	fake_ns += (uint64_t)VPC_NAT_ICMP_S * NS + 1;
	mk_echo(&p, REMOTE, EXT_S, 0, e, 8);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);

	/* TCP: a SYN unanswered for longer than incipient is gone... */
	mk_tcp(&p, PRIV_A, 2000, REMOTE, 80, 0x02, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	e = sport_of(&p);
	fake_ns += (uint64_t)VPC_NAT_TCP_INCIPIENT_S * NS + 1;
	mk_tcp(&p, REMOTE, 80, EXT_S, e, 0x12, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);
	/* ...an answered one is established: idle for an hour, still there. */
	mk_tcp(&p, PRIV_A, 2001, REMOTE, 80, 0x02, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	e = sport_of(&p);
	mk_tcp(&p, REMOTE, 80, EXT_S, e, 0x12, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_XLATED);
	fake_ns += 3600 * NS;
	mk_tcp(&p, PRIV_A, 2001, REMOTE, 80, 0x10, 100);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	EXPECT_EQ(sport_of(&p), e);
	/* A FIN: closing, gone after its shorter timeout. */
	mk_tcp(&p, PRIV_A, 2001, REMOTE, 80, 0x11, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	fake_ns += (uint64_t)VPC_NAT_TCP_CLOSING_S * NS + 1;
	mk_tcp(&p, REMOTE, 80, EXT_S, e, 0x10, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);

	/* Configured: UDP 5 s, established 10 s; the rest as they were. */
	memset(&to, 0, sizeof(to));
	to.udp_s = 5;
	to.tcp_est_s = 10;
	EXPECT_EQ(vpc_nat_set_timeouts(T.n, &to), 0);
	to.icmp_s = 366 * 86400 + 1;
	EXPECT_EQ(vpc_nat_set_timeouts(T.n, &to), VPC_EINVAL);
	vpc_nat_get_timeouts(T.n, &to);
	EXPECT_EQ(to.udp_s, 5);
	EXPECT_EQ(to.icmp_s, VPC_NAT_ICMP_S);
	mk_udp(&p, PRIV_A, 1001, REMOTE, 53, 20);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	e = sport_of(&p);
	fake_ns += 5 * NS + 1;
	mk_udp(&p, REMOTE, 53, EXT_S, e, 20);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);
	mk_tcp(&p, PRIV_A, 2002, REMOTE, 80, 0x02, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	e = sport_of(&p);
	mk_tcp(&p, REMOTE, 80, EXT_S, e, 0x12, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_XLATED);
	fake_ns += 10 * NS + 1;
	mk_tcp(&p, REMOTE, 80, EXT_S, e, 0x10, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_DROP);
	/* The sweeper's own tick reclaims with the engine's clock. */
	EXPECT(vpc_nat_nflows(T.n) > 0);
	os_mtx_lock(T.n->mtx);
	for (int i = 0; i < 8; i++)             /* an eighth a tick */
		vpc_nat_sweep_tick(T.n);
	os_mtx_unlock(T.n->mtx);
	EXPECT_EQ(vpc_nat_nflows(T.n), 0);
	return (0);
}

/* ---- ICMP errors ------------------------------------------------------------------- */

/* The quote in error p: its IP header at 8 bytes into the ICMP message. */
static uint8_t *
quote_of(struct pk *p)
{
	return (l4_of(p) + 8);
}

/* p's ICMP checksum and its quote's IP header checksum are right. */
static int
error_sums_ok(struct pk *p)
{
	uint8_t *in = quote_of(p);

	if (sums_ok(p, false) != 0)
		return (1);
	if (vpc_get16(in + 10) != ip_sum_full(in))
		return (2);
	return (0);
}

/*
 * One round trip: the VM sends orig; it goes out translated; a router (or
 * the remote) answers with an error quoting `quote` bytes of what it got;
 * the error comes in translated, and its quote is byte for byte what the VM
 * sent (addresses, ports, ids, both checksums).
 */
static int
error_round_trip(struct pk *orig, uint32_t from, uint8_t type, uint8_t code,
    uint32_t word, uint32_t quote, uint32_t priv)
{
	struct pk out, err;
	uint32_t qlen;

	out = *orig;
	EXPECT_EQ(xl(T.n, &out, VPC_NAT_OUT), VPC_NAT_XLATED);
	mk_error(&err, from, src_of(&out), type, code, word, &out, quote);
	qlen = vpc_get16(ip_of(&err) + 2) - 20 - 8;
	EXPECT_EQ(xl(T.n, &err, VPC_NAT_IN), VPC_NAT_XLATED);
	EXPECT_EQ(dst_of(&err), priv);
	EXPECT_EQ(src_of(&err), from);
	EXPECT_EQ(l4_of(&err)[0], type);
	EXPECT_EQ(l4_of(&err)[1], code);
	EXPECT_EQ(vpc_nat_get32(l4_of(&err) + 4), word);       /* the MTU stays */
	EXPECT_EQ(error_sums_ok(&err), 0);
	if (memcmp(quote_of(&err), ip_of(orig), qlen) != 0)
		FAIL("quote of %u bytes (type %u) not what the VM sent", qlen,
		    type);
	return (0);
}

static int
t_icmp_errors(void)
{
	struct pk p, err, in, in0;
	uint32_t i, quotes[3] = { 28, 48, 576 };
	uint16_t e;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT_EQ(eip(PRIV_C, EXT_E), 0);
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	rng_state = 4;
	for (i = 0; i < 3; i++) {
		/* SNAT and EIP: time exceeded about UDP (traceroute), frag
		 * needed with the MTU about TCP (PMTUD), port unreachable from
		 * the remote about UDP, time exceeded about an echo request. */
		mk_udp(&p, PRIV_A, (uint16_t)(33434 + i), REMOTE, 33434, 31);
		if (error_round_trip(&p, ROUTER, 11, 0, 0, quotes[i], PRIV_A))
			return (-1);
		mk_tcp(&p, PRIV_A, (uint16_t)(40000 + i), REMOTE, 443, 0x18, 1400);
		if (error_round_trip(&p, ROUTER, 3, 4, 1400, quotes[i], PRIV_A))
			return (-1);
		mk_udp(&p, PRIV_A, (uint16_t)(5000 + i), REMOTE, 9, 17);
		if (error_round_trip(&p, REMOTE, 3, 3, 0, quotes[i], PRIV_A))
			return (-1);
		mk_echo(&p, PRIV_A, REMOTE, 8, (uint16_t)(77 + i), 56);
		if (error_round_trip(&p, ROUTER, 11, 0, 0, quotes[i], PRIV_A))
			return (-1);
		mk_udp(&p, PRIV_C, (uint16_t)(33434 + i), REMOTE, 33434, 31);
		if (error_round_trip(&p, ROUTER, 11, 0, 0, quotes[i], PRIV_C))
			return (-1);
		mk_tcp(&p, PRIV_C, (uint16_t)(40000 + i), REMOTE, 443, 0x18, 1400);
		if (error_round_trip(&p, ROUTER, 3, 4, 1400, quotes[i], PRIV_C))
			return (-1);
		mk_echo(&p, PRIV_C, REMOTE, 8, 99, 56);
		if (error_round_trip(&p, ROUTER, 11, 0, 0, quotes[i], PRIV_C))
			return (-1);
	}
	/* UDP without a checksum: the quoted zero stays zero. */
	mk_udp(&p, PRIV_A, 6000, REMOTE, 9, 17);
	vpc_put16(l4_of(&p) + 6, 0);
	if (error_round_trip(&p, REMOTE, 3, 3, 0, 100, PRIV_A))
		return (-1);
	EXPECT_EQ(cnt(VPC_NATC_ICMPERR_IN), 3 * 7 + 1);

	/* Going out: a VM's port unreachable about what came in on a flow;
	 * the remote sees its own datagram quoted, checksums and all. */
	mk_udp(&p, PRIV_A, 7000, REMOTE, 53, 10);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	e = sport_of(&p);
	mk_udp(&in0, REMOTE, 53, EXT_S, e, 40);
	in = in0;
	EXPECT_EQ(xl(T.n, &in, VPC_NAT_IN), VPC_NAT_XLATED);   /* what the VM got */
	mk_error(&err, PRIV_A, REMOTE, 3, 3, 0, &in, 576);
	EXPECT_EQ(xl(T.n, &err, VPC_NAT_OUT), VPC_NAT_XLATED);
	EXPECT_EQ(src_of(&err), EXT_S);
	EXPECT_EQ(dst_of(&err), REMOTE);
	EXPECT_EQ(error_sums_ok(&err), 0);
	EXPECT(memcmp(quote_of(&err), ip_of(&in0), 20 + 8 + 40) == 0);
	/* An EIP's VM: its error about an inbound TCP segment. */
	mk_tcp(&in0, REMOTE, 443, EXT_E, 22, 0x02, 0);
	in = in0;
	EXPECT_EQ(xl(T.n, &in, VPC_NAT_IN), VPC_NAT_XLATED);
	mk_error(&err, PRIV_C, REMOTE, 3, 3, 0, &in, 40);
	EXPECT_EQ(xl(T.n, &err, VPC_NAT_OUT), VPC_NAT_XLATED);
	EXPECT_EQ(src_of(&err), EXT_E);
	EXPECT_EQ(error_sums_ok(&err), 0);
	EXPECT(memcmp(quote_of(&err), ip_of(&in0), 40) == 0);
	EXPECT_EQ(cnt(VPC_NATC_ICMPERR_OUT), 2);

	/* Errors about no known flow: dropped and counted. */
	mk_udp(&p, EXT_S, 9, REMOTE, 9, 10);            /* never sent */
	mk_error(&err, ROUTER, EXT_S, 11, 0, 0, &p, 28);
	EXPECT_EQ(xl(T.n, &err, VPC_NAT_IN), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_ICMP_NOFLOW), 1);
	mk_udp(&p, REMOTE, 9, PRIV_A, 9, 10);
	mk_error(&err, PRIV_A, REMOTE, 3, 3, 0, &p, 28);
	EXPECT_EQ(xl(T.n, &err, VPC_NAT_OUT), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_ICMP_NOFLOW), 2);
	/* A quote whose source is not the error's destination: bad. */
	mk_udp(&p, IP(198, 51, 100, 9), 9, REMOTE, 9, 10);
	mk_error(&err, ROUTER, EXT_S, 11, 0, 0, &p, 28);
	EXPECT_EQ(xl(T.n, &err, VPC_NAT_IN), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_BAD), 1);
	/* A quote too short for an IP header: bad. */
	mk_udp(&p, EXT_S, 9, REMOTE, 9, 10);
	mk_error(&err, ROUTER, EXT_S, 11, 0, 0, &p, 12);
	EXPECT_EQ(xl(T.n, &err, VPC_NAT_IN), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_BAD), 2);
	/* An error for nobody's address is not ours. */
	mk_error(&err, ROUTER, IP(198, 51, 100, 77), 11, 0, 0, &p, 28);
	EXPECT_EQ(xl(T.n, &err, VPC_NAT_IN), VPC_NAT_NOTMINE);
	return (0);
}

/* Randomized ICMP errors both ways through EIP and SNAT. */
static int
t_icmp_random(void)
{
	static const uint8_t kinds[][2] = { { 11, 0 }, { 3, 4 }, { 3, 3 },
	    { 3, 1 }, { 12, 0 }, { 11, 1 } };
	struct pk p, err;
	uint32_t it, quote, priv;
	uint8_t k;
	bool none;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT_EQ(eip(PRIV_C, EXT_E), 0);
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	rng_state = 5;
	for (it = 0; it < ITER_PKT; it++) {
		priv = rnd() % 2 ? PRIV_A : PRIV_C;
		k = (uint8_t)(rnd() % 6);
		quote = rnd() % 560;
		do
			mk_random(&p, priv, IP(192, 0, 2, 1 + rnd() % 200),
			    &none, false);
		while (priv == PRIV_A && (ip_of(&p)[9] == 47 ||
		    (ip_of(&p)[9] == 1 && l4_of(&p)[0] != 8)));
		/* At least the header and 8 bytes (RFC 792), as routers do. */
		if (quote < ihl_of(ip_of(&p)) + 8)
			quote = ihl_of(ip_of(&p)) + 8;
		/* Not one byte of TCP's checksum (docs/nat.md: left as it is). */
		if (ip_of(&p)[9] == 6 && quote == ihl_of(ip_of(&p)) + 17)
			quote++;
		if (error_round_trip(&p, ROUTER, kinds[k][0], kinds[k][1],
		    rnd() % 2 ? 1280 : 0, quote, priv) != 0)
			FAIL("iteration %u", it);
		(void)err;
	}
	EXPECT_EQ(cnt(VPC_NATC_ICMPERR_IN), ITER_PKT);
	return (0);
}

/* ---- The rest ------------------------------------------------------------------------- */

static int
t_drops(void)
{
	struct pk p;
	struct vpc_pkt *pkt;
	struct os_epoch et;
	uint8_t six[L3 + 40 + 8] = { 0 };
	bool none;
	int v;

	if (fresh(0) == NULL)
		FAIL("create");
	/* Nothing configured: dropped, counted, never sent with its source. */
	mk_tcp(&p, PRIV_A, 1000, REMOTE, 80, 2, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_NOCFG), 1);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_NOTMINE);
	/* IPv6: dropped going out, not ours coming in. */
	six[12] = 0x86;
	six[13] = 0xdd;
	six[L3] = 0x60;
	six[L3 + 5] = 8;
	six[L3 + 6] = 17;
	pkt = host_pkt_new(six, sizeof(six));
	os_epoch_enter(&et);
	v = vpc_nat_xlate(T.n, &pkt, L3, VPC_NAT_OUT);
	EXPECT_EQ(v, VPC_NAT_DROP);
	v = vpc_nat_xlate(T.n, &pkt, L3, VPC_NAT_IN);
	os_epoch_exit(&et);
	os_pkt_free(pkt);
	EXPECT_EQ(v, VPC_NAT_NOTMINE);
	EXPECT_EQ(cnt(VPC_NATC_DROP_AF), 1);
	/* A bad header checksum. */
	mk_tcp(&p, PRIV_A, 1000, REMOTE, 80, 2, 0);
	ip_of(&p)[10] ^= 1;
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_BAD), 1);

	/* SNAT: a later fragment of no datagram whose first was translated,
	 * other protocols, other ICMP are dropped, counted. */
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	mk_udp(&p, PRIV_A, 1000, REMOTE, 53, 100);
	vpc_put16(ip_of(&p) + 6, 0x0010);               /* offset 128, the last */
	seal(&p, false);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	EXPECT_EQ(cnt(VPC_NATC_DROP_FRAG), 1);
	mk_echo(&p, PRIV_A, REMOTE, 13, 1, 12);         /* timestamp */
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	{
		uint8_t gre[8] = { 0 };

		mk(&p, PRIV_A, REMOTE, 47, gre, 8, 20, 0);
		seal(&p, false);
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
	}
	EXPECT_EQ(cnt(VPC_NATC_DROP_PROTO), 2);
	EXPECT_EQ(vpc_nat_nflows(T.n), 0);

	/* EIP: a later fragment has only its addresses translated. */
	EXPECT_EQ(eip(PRIV_B, EXT_E), 0);
	rng_state = 6;
	mk_random(&p, PRIV_B, REMOTE, &none, false);
	vpc_put16(ip_of(&p) + 6, 0x0010);
	seal(&p, none);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	EXPECT_EQ(src_of(&p), EXT_E);
	EXPECT_EQ(sums_ok(&p, none), 0);
	/* A TCP header cut short cannot have its checksum fixed: bad. */
	{
		uint8_t th[12] = { 0 };

		mk(&p, PRIV_B, REMOTE, 6, th, 12, 0, 0);
		seal(&p, false);
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_DROP);
		EXPECT_EQ(cnt(VPC_NATC_DROP_BAD), 2);
	}
	return (0);
}

static int
t_config(void)
{
	uint8_t a[4], b[4];
	uint32_t i;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT_EQ(vpc_nat_create(VPC_NAT_FLOWS_MAX + 1, &(struct vpc_nat *){ NULL }),
	    VPC_EINVAL);
	EXPECT_EQ(eip(PRIV_A, EXT_E), 0);
	EXPECT_EQ(eip(PRIV_A, IP(203, 0, 113, 11)), VPC_EEXIST);   /* twice */
	EXPECT_EQ(eip(PRIV_B, EXT_E), VPC_EEXIST);     /* ext taken */
	EXPECT_EQ(eip(0, EXT_E), VPC_EINVAL);
	EXPECT_EQ(eip(PRIV_B, IP(127, 0, 0, 1)), VPC_EINVAL);
	EXPECT_EQ(eip(PRIV_B, IP(224, 0, 0, 1)), VPC_EINVAL);
	EXPECT_EQ(pool(EXT_E, 0, 0, 0), VPC_EADDRINUSE);
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), VPC_EEXIST);
	EXPECT_EQ(eip(PRIV_B, EXT_S), VPC_EADDRINUSE);
	EXPECT_EQ(pool(IP(198, 51, 100, 2), 0, 100, 10), VPC_EINVAL);
	EXPECT_EQ(pool(IP(198, 51, 100, 2), 200, 100, 10), VPC_EINVAL);
	EXPECT_EQ(pool(IP(198, 51, 100, 2), 100, 200, 0), VPC_EINVAL);
	EXPECT_EQ(pool(IP(198, 51, 100, 2), 100, 108, 10), VPC_EINVAL);
	EXPECT_EQ(snat(PRIV_B, IP(198, 51, 100, 2)), VPC_ENOENT);
	EXPECT_EQ(snat(PRIV_B, EXT_S), 0);
	EXPECT_EQ(snat(PRIV_B, EXT_S), VPC_EEXIST);
	EXPECT_EQ(snat(IP(255, 255, 255, 255), EXT_S), VPC_EINVAL);
	b4(a, PRIV_C);
	EXPECT_EQ(vpc_nat_snat_unbind(T.n, a), VPC_ENOENT);
	b4(a, IP(198, 51, 100, 2));
	EXPECT_EQ(vpc_nat_pool_del(T.n, a), VPC_ENOENT);
	for (i = 0; i < VPC_NAT_POOLS_MAX - 1; i++)
		EXPECT_EQ(pool(IP(198, 51, 101, 1 + i), 0, 0, 0), 0);
	EXPECT_EQ(pool(IP(198, 51, 102, 1), 0, 0, 0), VPC_ENOSPC);
	/* A private address with both: the EIP wins. */
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	{
		struct pk p;

		mk_udp(&p, PRIV_A, 1, REMOTE, 2, 3);
		EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
		EXPECT_EQ(src_of(&p), EXT_E);
		EXPECT_EQ(sport_of(&p), 1);
	}
	b4(a, PRIV_A);
	b4(b, EXT_E);
	EXPECT_EQ(vpc_nat_eip_unbind(T.n, a), 0);
	EXPECT_EQ(vpc_nat_eip_bind(T.n, a, b), 0);      /* again, after */
	return (0);
}

/*
 * Allocation failure at every call site of every configuration call: the
 * Nth allocation fails (N = 1, 2, ... until the call completes), the call
 * says ENOMEM and leaves nothing behind; then a flow that cannot be
 * allocated is a counted drop.
 */
enum { F_CREATE, F_POOL, F_EIP, F_SNAT, F_EIP_DEL, F_SNAT_DEL, F_POOL_DEL,
    F_N };

static int
fault_call(int which)
{
	struct vpc_nat *m = NULL;
	uint8_t a[4];
	int e;

	switch (which) {
	case F_CREATE:
		e = vpc_nat_create(64, &m);
		if (e == 0)
			vpc_nat_destroy(m);
		return (e);
	case F_POOL:
		return (pool(IP(198, 51, 100, 2), 0, 0, 0));
	case F_EIP:
		return (eip(PRIV_B, IP(203, 0, 113, 11)));
	case F_SNAT:
		return (snat(PRIV_C, EXT_S));
	case F_EIP_DEL:
		b4(a, PRIV_B);
		return (vpc_nat_eip_unbind(T.n, a));
	case F_SNAT_DEL:
		b4(a, PRIV_C);
		return (vpc_nat_snat_unbind(T.n, a));
	default:
		b4(a, IP(198, 51, 100, 2));
		return (vpc_nat_pool_del(T.n, a));
	}
}

static int
t_faults(void)
{
	struct vpc_nat_snat_info si;
	struct pk p;
	uint64_t allocs;
	int which, k, e;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	for (which = 0; which < F_N; which++) {
		for (k = 1; k < 100; k++) {
			hloop_reclaim();
			allocs = vpc_mem_allocs();
			host_fail_alloc_at = (uint64_t)k;
			e = fault_call(which);
			host_fail_alloc_at = 0;
			if (e == 0)
				break;
			if (e != VPC_ENOMEM)
				FAIL("call %d, allocation %d failed: %d", which, k, e);
			hloop_reclaim();
			if (vpc_mem_allocs() != allocs)
				FAIL("call %d, allocation %d failed: %lld left behind",
				    which, k, (long long)(vpc_mem_allocs() - allocs));
		}
		if (e != 0)
			FAIL("call %d never completed", which);
	}
	/* What failed first changed nothing: C got the next block after A. */
	EXPECT_EQ(snat(PRIV_C, EXT_S), 0);
	EXPECT_EQ(snat_info(PRIV_C, &si), 0);
	EXPECT_EQ(si.lo[VPC_NAT_TCP], VPC_NAT_PORT_LO + VPC_NAT_BLOCK);
	/* A flow with no memory: dropped, counted, no flow. */
	mk_udp(&p, PRIV_A, 1000, REMOTE, 53, 10);
	{
		struct vpc_pkt *pkt = host_pkt_new(p.b, p.len);
		struct os_epoch et;

		EXPECT(pkt != NULL);
		host_fail_alloc_at = 1;
		os_epoch_enter(&et);
		e = vpc_nat_xlate(T.n, &pkt, L3, VPC_NAT_OUT);
		os_epoch_exit(&et);
		host_fail_alloc_at = 0;
		os_pkt_free(pkt);
		EXPECT_EQ(e, VPC_NAT_DROP);
	}
	EXPECT_EQ(cnt(VPC_NATC_DROP_NOMEM), 1);
	EXPECT_EQ(vpc_nat_nflows(T.n), 0);
	EXPECT_EQ(snat_info(PRIV_A, &si), 0);
	EXPECT_EQ(si.flows[VPC_NAT_UDP], 0);
	mk_udp(&p, PRIV_A, 1000, REMOTE, 53, 10);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	return (0);
}

/* Flow memory and the walk. */
struct walkc {
	unsigned n, tcp_est;
};

static void
walk_fn(const struct vpc_nat_flowinfo *fi, void *arg)
{
	struct walkc *w = arg;

	w->n++;
	if (fi->proto == 6 && fi->state == VPC_NAT_ST_EST)
		w->tcp_est++;
}

static int
t_walk(void)
{
	struct walkc w = { 0, 0 };
	struct pk p;
	uint16_t e;

	if (fresh(0) == NULL)
		FAIL("create");
	EXPECT(vpc_nat_flow_size <= 128);
	EXPECT_EQ(pool(EXT_S, 0, 0, 0), 0);
	EXPECT_EQ(snat(PRIV_A, EXT_S), 0);
	mk_tcp(&p, PRIV_A, 1000, REMOTE, 80, 2, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	e = sport_of(&p);
	mk_tcp(&p, REMOTE, 80, EXT_S, e, 0x12, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_IN), VPC_NAT_XLATED);
	mk_udp(&p, PRIV_A, 1000, REMOTE, 80, 0);
	EXPECT_EQ(xl(T.n, &p, VPC_NAT_OUT), VPC_NAT_XLATED);
	vpc_nat_flow_walk(T.n, walk_fn, &w);
	EXPECT_EQ(w.n, 2);
	EXPECT_EQ(w.tcp_est, 1);
	return (0);
}

int
test_nat(struct vpc_sys *sys, int *failed)
{
	static const struct { const char *name; int (*fn)(void); } cases[] = {
		{ "checksum updates against a full recompute", t_csum },
		{ "EIP both ways, randomized packets", t_eip },
		{ "SNAT both ways, randomized packets", t_snat_random },
		{ "SNAT port blocks never overlap", t_snat_blocks },
		{ "echo flows by id, never coalesced", t_echo },
		{ "port block exhaustion, counted per address", t_exhaust },
		{ "flow table full", t_full },
		{ "timeouts on a fake clock", t_timeouts },
		{ "ICMP errors: quoted headers round trip", t_icmp_errors },
		{ "ICMP errors: randomized round trips", t_icmp_random },
		{ "drops: no config, IPv6, fragments, protocols", t_drops },
		{ "SNAT fragments: later ones follow their first", t_snat_frags },
		{ "configuration errors", t_config },
		{ "flow walk and size", t_walk },
		{ "allocation failure at every call site", t_faults },
	};
	size_t i;
	int passed = 0, before;

	T.sys = sys;
	T.failed = failed;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T.name = cases[i].name;
		before = *failed;
		if (cases[i].fn() == 0 && *failed == before) {
			printf("ok - nat %s\n", T.name);
			passed++;
		}
		if (T.n != NULL)
			vpc_nat_destroy(T.n);
		T.n = NULL;
		hloop_reclaim();
	}
	return (passed);
}
