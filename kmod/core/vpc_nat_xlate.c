/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nat_xlate.c: the translator (vpc_nat_xlate, vpc_nat.h).  It parses
 * with the core's vpc_ip_parse (version, lengths, header checksum), pulls
 * the headers up once, and rewrites in place with vpc_nat_set_addr and
 * vpc_nat_set_port, so every checksum is updated incrementally.
 *
 * Outbound (from a VM): the source has an EIP -> the source address becomes
 * it (any protocol, fragments too: only the first carries the upper-layer
 * checksum); else an SNAT binding -> a flow (vpc_nat_snat.c) and the source
 * address and port (TCP, UDP) or echo id (ICMP echo request) become its
 * external ones; else dropped and counted.  Inbound: to an EIP -> the
 * destination becomes its private address; to a pool address -> the flow
 * found by (external address and port, remote address and port, protocol)
 * gives the private address and port back, or the packet is dropped and
 * counted; to anything else -> VPC_NAT_NOTMINE.
 *
 * ICMP errors (unreachable, source quench, redirect, time exceeded,
 * parameter problem) quote a datagram that went the other way: going out,
 * a VM's error quotes what it received (destination: the VM), so the quoted
 * destination is translated like the outer source; coming in, a router's
 * error quotes what the VM sent as the outside saw it (source: the external
 * address and port), so the quoted source goes back to the private address
 * and port, like the outer destination.  The flow is found from the quote
 * (the outer source of an inbound error is a router, not the remote).  The
 * quoted IP header checksum and upper-layer checksum (UDP's when the quote
 * has 8 bytes, TCP's when it has 18) follow, and the error's own checksum
 * follows every word changed inside it (libalias IcmpAliasIn2/Out2 do the
 * same; opte#369 is what happens otherwise).  Errors refresh no flow.
 */
#include "vpc_nat_impl.h"

#define IP_MF           0x2000
#define IP_OFFMASK      0x1fff
#define IPPROTO_DCCP_   33
#define IPPROTO_UDPLITE_ 136
#define ICMP_ECHO_      8
#define ICMP_ECHOREPLY_ 0
/* What is pulled up after the IP header: an ICMP error's header, the
 * quoted IP header (with options) and the 20 bytes of TCP after it. */
#define L4_WANT         (8 + 60 + 20)

static bool
icmp_is_error(uint8_t type)
{
	return (type == 3 || type == 4 || type == 5 || type == 11 || type == 12);
}

/* Where the upper layer's checksum over a pseudo-header is, or NULL. */
static uint8_t *
l4_sum(uint8_t proto, uint8_t *l4, uint32_t avail, int *kind)
{
	*kind = VPC_NAT_CS_PLAIN;
	switch (proto) {
	case VPC_IPPROTO_TCP:
		return (avail >= 18 ? l4 + 16 : NULL);
	case VPC_IPPROTO_UDP:
		*kind = VPC_NAT_CS_UDP;
		return (avail >= 8 ? l4 + 6 : NULL);
	case IPPROTO_DCCP_:
	case IPPROTO_UDPLITE_:
		return (avail >= 8 ? l4 + 6 : NULL);
	default:
		return (NULL);
	}
}

static int
drop(struct vpc_nat *n, unsigned why)
{
	vpc_nat_count(n, why);
	return (VPC_NAT_DROP);
}

/* The parsed packet, its headers pulled up and writable. */
struct natpkt {
	uint8_t  *ip, *l4;
	uint32_t  l4avail;      /* upper-layer bytes pulled up (within the datagram) */
	uint8_t   proto;
	bool      frag;         /* a fragment, first or not */
	bool      later;        /* not the first */
};

/*
 * The "port" of an upper layer at l4 (avail bytes): TCP/UDP ports, or an
 * ICMP echo's id as the source's port and 0 as the other.  false when it
 * has none we translate.
 */
static bool
l4_ports(uint8_t proto, const uint8_t *l4, uint32_t avail, uint16_t *sport,
    uint16_t *dport)
{
	if (proto == VPC_IPPROTO_TCP || proto == VPC_IPPROTO_UDP) {
		if (avail < 4)
			return (false);
		*sport = vpc_get16(l4);
		*dport = vpc_get16(l4 + 2);
		return (true);
	}
	if (proto == VPC_IPPROTO_ICMP && avail >= 6 &&
	    (l4[0] == ICMP_ECHO_ || l4[0] == ICMP_ECHOREPLY_)) {
		*sport = vpc_get16(l4 + 4);
		*dport = 0;
		return (true);
	}
	return (false);
}

/* Rewrite the "port" on one side (src: the source port) of an upper layer. */
static void
l4_set_port(uint8_t proto, uint8_t *l4, uint32_t avail, bool src, uint16_t nw,
    uint8_t *cover)
{
	uint8_t *cs;
	int kind = VPC_NAT_CS_PLAIN;

	if (proto == VPC_IPPROTO_ICMP) {
		vpc_nat_set_port(l4 + 4, nw, l4 + 2, VPC_NAT_CS_PLAIN, cover);
		return;
	}
	cs = l4_sum(proto, l4, avail, &kind);
	vpc_nat_set_port(src ? l4 : l4 + 2, nw, cs, kind, cover);
}

/* ---- ICMP errors ----------------------------------------------------------- */

static int
xlate_icmp_error(struct vpc_nat *n, const struct vpc_nat_cfg *cfg,
    struct natpkt *k, int dir, uint64_t now)
{
	uint8_t *in = k->l4 + 8, *il4, *ics, *cover = k->l4 + 2, iproto;
	uint32_t iavail, ihl, il4avail, isrc, idst, outer;
	uint16_t isport = 0, idport = 0;
	const struct vpc_nat_eip *e;
	struct vpc_nat_bind *b;
	struct vpc_nat_flow *f = NULL;
	bool ports, ilater;
	int kind = VPC_NAT_CS_PLAIN;

	outer = vpc_nat_get32(k->ip + (dir == VPC_NAT_OUT ? 12 : 16));
	if (dir == VPC_NAT_IN && vpc_nat_eip_by_ext(cfg, outer) == NULL &&
	    !vpc_nat_is_pool(cfg, outer)) {
		vpc_nat_count(n, VPC_NATC_IN_NOTMINE);
		return (VPC_NAT_NOTMINE);
	}
	if (k->frag || k->l4avail < 8 + 20)
		return (drop(n, VPC_NATC_DROP_BAD));
	iavail = k->l4avail - 8;
	ihl = (uint32_t)(in[0] & 0x0f) * 4;
	if ((in[0] >> 4) != 4 || ihl < 20 || ihl > iavail)
		return (drop(n, VPC_NATC_DROP_BAD));
	iproto = in[9];
	il4 = in + ihl;
	il4avail = iavail - ihl;
	isrc = vpc_nat_get32(in + 12);
	idst = vpc_nat_get32(in + 16);
	ilater = (vpc_get16(in + 6) & IP_OFFMASK) != 0;
	ports = !ilater && l4_ports(iproto, il4, il4avail, &isport, &idport);
	ics = ilater ? NULL : l4_sum(iproto, il4, il4avail, &kind);
	/* The quote went the other way: its end on our side is the outer one. */
	if ((dir == VPC_NAT_OUT ? idst : isrc) != outer)
		return (drop(n, VPC_NATC_DROP_BAD));

	if (dir == VPC_NAT_OUT) {
		if ((e = vpc_nat_eip_by_priv(cfg, outer)) != NULL) {
			vpc_nat_set_addr(in + 16, e->ext, in + 10, ics, kind, cover);
			vpc_nat_set_addr(k->ip + 12, e->ext, k->ip + 10, NULL, 0,
			    NULL);
			vpc_nat_count(n, VPC_NATC_ICMPERR_OUT);
			return (VPC_NAT_XLATED);
		}
		if ((b = vpc_nat_bind_by_priv(cfg, outer)) == NULL)
			return (drop(n, VPC_NATC_DROP_NOCFG));
		/* What the VM received: remote -> (priv, its port). */
		if (ports)
			f = vpc_nat_flow_out(n, outer, iproto == VPC_IPPROTO_ICMP ?
			    isport : idport, isrc, iproto == VPC_IPPROTO_ICMP ? 0 :
			    isport, iproto, now);
		if (f == NULL)
			return (drop(n, VPC_NATC_DROP_ICMP_NOFLOW));
		vpc_nat_set_addr(in + 16, f->ext, in + 10, ics, kind, cover);
		l4_set_port(iproto, il4, il4avail, iproto == VPC_IPPROTO_ICMP,
		    f->eport, cover);
		vpc_nat_set_addr(k->ip + 12, f->ext, k->ip + 10, NULL, 0, NULL);
		vpc_nat_count(n, VPC_NATC_ICMPERR_OUT);
		return (VPC_NAT_XLATED);
	}
	if ((e = vpc_nat_eip_by_ext(cfg, outer)) != NULL) {
		vpc_nat_set_addr(in + 12, e->priv, in + 10, ics, kind, cover);
		vpc_nat_set_addr(k->ip + 16, e->priv, k->ip + 10, NULL, 0, NULL);
		vpc_nat_count(n, VPC_NATC_ICMPERR_IN);
		return (VPC_NAT_XLATED);
	}
	/* What the VM sent, as seen outside: (ext, its port) -> remote. */
	if (ports)
		f = vpc_nat_flow_in(n, outer, isport, idst, idport, iproto, now);
	if (f == NULL)
		return (drop(n, VPC_NATC_DROP_ICMP_NOFLOW));
	vpc_nat_set_addr(in + 12, f->priv, in + 10, ics, kind, cover);
	l4_set_port(iproto, il4, il4avail, true, f->pport, cover);
	vpc_nat_set_addr(k->ip + 16, f->priv, k->ip + 10, NULL, 0, NULL);
	vpc_nat_count(n, VPC_NATC_ICMPERR_IN);
	return (VPC_NAT_XLATED);
}

/* ---- Fragments under SNAT ------------------------------------------------------ */

/*
 * Only a datagram's first fragment has the ports its SNAT flow is found
 * by; the later ones are translated by what the first one got, remembered
 * (vpc_fragmem.c) under this fingerprint: the direction, the datagram's
 * addresses as they arrive here (out: private source and remote; in:
 * remote and external destination), its protocol and IP id, keyed.
 */
static uint64_t
frag_print(const struct vpc_nat *n, int dir, const struct natpkt *k)
{
	uint64_t a, b;

	a = ((uint64_t)vpc_nat_get32(k->ip + 12) << 32 |
	    vpc_nat_get32(k->ip + 16)) ^ n->key[0];
	b = ((uint64_t)vpc_get16(k->ip + 4) << 16 | (uint64_t)k->proto << 8 |
	    (uint64_t)(dir == VPC_NAT_OUT)) ^ n->key[1];
	a *= 0x9e3779b97f4a7c15ULL;
	b *= 0xc2b2ae3d27d4eb4fULL;
	a ^= (b >> 29) ^ (b << 35);
	a ^= a >> 32;
	a *= 0xbf58476d1ce4e5b9ULL;
	return (a ^ (a >> 29));
}

/* A first fragment was translated: its later ones will get addr. */
static VPC_COLD void
frag_translated(struct vpc_nat *n, uint64_t print, uint32_t addr, uint64_t now)
{
	os_mtx_lock(n->mtx);            /* one writer: a value never torn */
	vpc_fragmem_remember(n->frags, print, now, addr);
	os_mtx_unlock(n->mtx);
}

/*
 * A later fragment of an SNAT datagram: the address its first fragment
 * got (out: the source becomes it; in: the destination), or dropped.  The
 * upper layer's checksum is in the first fragment, already right for the
 * whole datagram; only the IP header's changes here.
 */
static VPC_COLD int
xlate_later(struct vpc_nat *n, int dir, struct natpkt *k, uint64_t now)
{
	uint32_t addr;

	if (!vpc_fragmem_find(n->frags, frag_print(n, dir, k), now, &addr))
		return (drop(n, VPC_NATC_DROP_FRAG));
	vpc_nat_set_addr(k->ip + (dir == VPC_NAT_OUT ? 12 : 16), addr,
	    k->ip + 10, NULL, 0, NULL);
	vpc_nat_count(n, dir == VPC_NAT_OUT ? VPC_NATC_OUT_SNAT :
	    VPC_NATC_IN_SNAT);
	return (VPC_NAT_XLATED);
}

/* ---- Everything else --------------------------------------------------------- */

/* The ports of an SNAT packet, or the drop counter. */
static unsigned
snat_ports(const struct natpkt *k, int dir, uint16_t *sport, uint16_t *dport,
    uint8_t *tcpflags)
{
	*tcpflags = 0;
	if (k->later)
		return (VPC_NATC_DROP_FRAG);    /* xlate_later's */
	switch (k->proto) {
	case VPC_IPPROTO_TCP:
		if (k->l4avail < 20)
			return (VPC_NATC_DROP_BAD);
		*tcpflags = k->l4[13];
		break;
	case VPC_IPPROTO_UDP:
		if (k->l4avail < 8)
			return (VPC_NATC_DROP_BAD);
		break;
	case VPC_IPPROTO_ICMP:
		if (k->l4avail < 8)
			return (VPC_NATC_DROP_BAD);
		/* Echo requests go out, replies come back; nothing else. */
		if (k->l4[0] != (dir == VPC_NAT_OUT ? ICMP_ECHO_ : ICMP_ECHOREPLY_))
			return (dir == VPC_NAT_OUT ? VPC_NATC_DROP_PROTO :
			    VPC_NATC_DROP_NOFLOW);
		break;
	default:
		return (VPC_NATC_DROP_PROTO);
	}
	(void)l4_ports(k->proto, k->l4, k->l4avail, sport, dport);
	return (VPC_NATC_COUNT);
}

static int
xlate_out(struct vpc_nat *n, const struct vpc_nat_cfg *cfg, struct natpkt *k,
    uint64_t now)
{
	uint32_t src = vpc_nat_get32(k->ip + 12), dst = vpc_nat_get32(k->ip + 16);
	const struct vpc_nat_eip *e;
	struct vpc_nat_bind *b;
	struct vpc_nat_flow *f;
	uint16_t sport = 0, dport = 0;
	uint8_t fl, *cs;
	unsigned why;
	int kind = VPC_NAT_CS_PLAIN;

	cs = k->later ? NULL : l4_sum(k->proto, k->l4, k->l4avail, &kind);
	if ((e = vpc_nat_eip_by_priv(cfg, src)) != NULL) {
		if (!k->later && cs == NULL && (k->proto == VPC_IPPROTO_TCP ||
		    k->proto == VPC_IPPROTO_UDP))
			return (drop(n, VPC_NATC_DROP_BAD));    /* truncated */
		vpc_nat_set_addr(k->ip + 12, e->ext, k->ip + 10, cs, kind, NULL);
		vpc_nat_count(n, VPC_NATC_OUT_EIP);
		return (VPC_NAT_XLATED);
	}
	if ((b = vpc_nat_bind_by_priv(cfg, src)) == NULL)
		return (drop(n, VPC_NATC_DROP_NOCFG));
	if (k->later)
		return (xlate_later(n, VPC_NAT_OUT, k, now));
	if ((why = snat_ports(k, VPC_NAT_OUT, &sport, &dport, &fl)) !=
	    VPC_NATC_COUNT)
		return (drop(n, why));
	f = vpc_nat_flow_get(n, b, sport, dst, dport, k->proto, now, &why);
	if (f == NULL)
		return (drop(n, why));
	vpc_nat_flow_touch(f, VPC_NAT_OUT, fl, now);
	if (k->frag)
		frag_translated(n, frag_print(n, VPC_NAT_OUT, k), f->ext, now);
	vpc_nat_set_addr(k->ip + 12, f->ext, k->ip + 10, cs, kind, NULL);
	l4_set_port(k->proto, k->l4, k->l4avail, true, f->eport, NULL);
	vpc_nat_count(n, VPC_NATC_OUT_SNAT);
	return (VPC_NAT_XLATED);
}

static int
xlate_in(struct vpc_nat *n, const struct vpc_nat_cfg *cfg, struct natpkt *k,
    uint64_t now)
{
	uint32_t src = vpc_nat_get32(k->ip + 12), dst = vpc_nat_get32(k->ip + 16);
	const struct vpc_nat_eip *e;
	struct vpc_nat_flow *f;
	uint16_t sport = 0, dport = 0;
	uint8_t fl, *cs;
	unsigned why;
	int kind = VPC_NAT_CS_PLAIN;

	cs = k->later ? NULL : l4_sum(k->proto, k->l4, k->l4avail, &kind);
	if ((e = vpc_nat_eip_by_ext(cfg, dst)) != NULL) {
		if (!k->later && cs == NULL && (k->proto == VPC_IPPROTO_TCP ||
		    k->proto == VPC_IPPROTO_UDP))
			return (drop(n, VPC_NATC_DROP_BAD));
		vpc_nat_set_addr(k->ip + 16, e->priv, k->ip + 10, cs, kind, NULL);
		vpc_nat_count(n, VPC_NATC_IN_EIP);
		return (VPC_NAT_XLATED);
	}
	if (!vpc_nat_is_pool(cfg, dst)) {
		vpc_nat_count(n, VPC_NATC_IN_NOTMINE);
		return (VPC_NAT_NOTMINE);
	}
	if (k->later)
		return (xlate_later(n, VPC_NAT_IN, k, now));
	if ((why = snat_ports(k, VPC_NAT_IN, &sport, &dport, &fl)) !=
	    VPC_NATC_COUNT)
		return (drop(n, why));
	/* ICMP: the id is the "source port" l4_ports gave. */
	if (k->proto == VPC_IPPROTO_ICMP)
		f = vpc_nat_flow_in(n, dst, sport, src, 0, k->proto, now);
	else
		f = vpc_nat_flow_in(n, dst, dport, src, sport, k->proto, now);
	if (f == NULL)
		return (drop(n, VPC_NATC_DROP_NOFLOW));
	vpc_nat_flow_touch(f, VPC_NAT_IN, fl, now);
	if (k->frag)
		frag_translated(n, frag_print(n, VPC_NAT_IN, k), f->priv, now);
	vpc_nat_set_addr(k->ip + 16, f->priv, k->ip + 10, cs, kind, NULL);
	l4_set_port(k->proto, k->l4, k->l4avail, k->proto == VPC_IPPROTO_ICMP,
	    f->pport, NULL);
	vpc_nat_count(n, VPC_NATC_IN_SNAT);
	return (VPC_NAT_XLATED);
}

int
vpc_nat_xlate(struct vpc_nat *n, struct vpc_pkt **pp, uint32_t l3off, int dir)
{
	const struct vpc_nat_cfg *cfg = vpc_load(n->cfg);
	struct vpc_ipinfo ip;
	struct natpkt k;
	uint32_t hl, l4len, want;
	uint16_t off;
	uint8_t *d;

	os_epoch_assert();
	if (vpc_ip_parse(*pp, l3off, &ip) != 0 || ip.af != VPC_AF_INET) {
		uint8_t v = 0;

		(void)os_pkt_copyout(*pp, l3off, 1, &v);
		if (dir == VPC_NAT_IN && (v >> 4) != 4) {
			vpc_nat_count(n, VPC_NATC_IN_NOTMINE);
			return (VPC_NAT_NOTMINE);
		}
		return (drop(n, (v >> 4) == 4 ? VPC_NATC_DROP_BAD :
		    VPC_NATC_DROP_AF));
	}
	hl = ip.l4off - l3off;
	l4len = ip.l3len - hl;
	want = l4len < L4_WANT ? l4len : L4_WANT;
	if ((d = os_pkt_pullup(pp, ip.l4off + want)) == NULL) {
		if (*pp == NULL)
			return (drop(n, VPC_NATC_DROP_NOMEM));
		return (drop(n, VPC_NATC_DROP_BAD));
	}
	memset(&k, 0, sizeof(k));
	k.ip = d + l3off;
	k.l4 = d + ip.l4off;
	k.l4avail = want;
	k.proto = ip.proto;
	off = vpc_get16(k.ip + 6);
	k.frag = (off & (IP_MF | IP_OFFMASK)) != 0;
	k.later = (off & IP_OFFMASK) != 0;
	if (k.proto == VPC_IPPROTO_ICMP && !k.later && k.l4avail >= 1 &&
	    icmp_is_error(k.l4[0]))
		return (xlate_icmp_error(n, cfg, &k, dir, n->clock()));
	return (dir == VPC_NAT_OUT ? xlate_out(n, cfg, &k, n->clock()) :
	    xlate_in(n, cfg, &k, n->clock()));
}
