/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_dhcp.c: DHCPv4 (RFC 2131, options RFC 2132) served by the switch to
 * each vmnic from its own configuration: the address NIC_SET_ADDR gave it,
 * the switch's IPv4 subnet and gateway, and NIC_SET_DHCP's options (DNS,
 * domain, host name, lease, classless static routes), with the vmnic's MTU.
 * There is no pool and no lease table: the answer is a function of the
 * configuration, so a switch on every node answers alike and a restart loses
 * nothing.
 *
 * Every IPv4 UDP datagram a VM sends to port 67 is the switch's: answered,
 * or dropped and counted, never forwarded, so a DHCP server in another VM
 * never sees a request (and a DHCP server in a VM, whose replies go to port
 * 68, is dropped and counted too: DHCP snooping).  Nothing is answered for
 * a vmnic whose DHCP is not enabled, that has no IPv4 address (or one
 * outside the switch's subnet), or whose switch has no IPv4 gateway.
 *
 * Messages:
 *   DISCOVER               OFFER of the vmnic's address
 *   REQUEST, SELECTING     (server id present) ours: ACK, or NAK if the
 *                          requested address is not the vmnic's; another
 *                          server's: ignored (the client chose it)
 *   REQUEST, INIT-REBOOT   (requested address, no ciaddr) ACK or NAK
 *   REQUEST, RENEWING      (ciaddr, unicast to the gateway address: the
 *                          frame goes to the gateway's MAC, opte#946) and
 *   REQUEST, REBINDING     (ciaddr, broadcast): ACK, or NAK for another ciaddr
 *   DECLINE                counted; the address stays the vmnic's (it is
 *                          configuration, not a pool entry: the operator
 *                          sees the counter and fixes the conflict)
 *   RELEASE                counted; nothing to free
 *   INFORM                 ACK with the options and no lease, to ciaddr
 * Where a reply goes (RFC 2131 4.1, no relays): to ciaddr when the client
 * has one; else broadcast when the client set the broadcast bit; else to
 * yiaddr at the client's MAC.  A NAK is always broadcast.  "Broadcast" here
 * is the broadcast MAC and 255.255.255.255 on the one vmnic that asked.
 *
 * Malformed messages are dropped and counted, never answered: a UDP or IP
 * checksum that is wrong, a fragment, a UDP length that is not the IP
 * payload's, a source port other than 68, op not BOOTREQUEST, htype/hlen not
 * Ethernet's, chaddr not the vmnic's MAC, giaddr set (no relays here), a
 * wrong magic cookie, an option that runs past its field, a field without
 * the end option, an option this server reads with the wrong length or
 * twice, option overload (52) with a bad value or inside an overloaded field.
 *
 * Runs on the data path: no lock, never sleeps, the reply is built in an
 * os_pkt_alloc'd packet.
 */
#include "vpc_l3.h"

#define BOOTREQUEST     1
#define BOOTREPLY       2
#define HTYPE_ETHER     1

/* The fixed BOOTP header (RFC 2131 figure 1) and the magic cookie. */
#define BOOTP_LEN       236
#define DHCP_FIXED      240             /* with the cookie */
#define OFF_OP          0
#define OFF_HTYPE       1
#define OFF_HLEN        2
#define OFF_XID         4
#define OFF_FLAGS       10
#define OFF_CIADDR      12
#define OFF_YIADDR      16
#define OFF_SIADDR      20
#define OFF_GIADDR      24
#define OFF_CHADDR      28
#define OFF_SNAME       44
#define SNAME_LEN       64
#define OFF_FILE        108
#define FILE_LEN        128
#define OFF_COOKIE      236
#define FLAG_BROADCAST  0x8000

#define DHCPDISCOVER    1
#define DHCPOFFER       2
#define DHCPREQUEST     3
#define DHCPDECLINE     4
#define DHCPACK         5
#define DHCPNAK         6
#define DHCPRELEASE     7
#define DHCPINFORM      8

#define OPT_PAD         0
#define OPT_SUBNET_MASK 1
#define OPT_ROUTER      3
#define OPT_DNS         6
#define OPT_HOSTNAME    12
#define OPT_DOMAIN      15
#define OPT_MTU         26
#define OPT_BROADCAST   28
#define OPT_REQ_ADDR    50
#define OPT_LEASE       51
#define OPT_OVERLOAD    52
#define OPT_MSG_TYPE    53
#define OPT_SERVER_ID   54
#define OPT_T1          58
#define OPT_T2          59
#define OPT_CLASSLESS   121
#define OPT_END         255

/* A reply: the BOOTP message at least 300 bytes (RFC 1542 3.3), its options
 * at most this many (all of ours with the largest names and 9 routes: 341). */
#define REPLY_OPTS_MAX  360
#define BOOTP_MIN       300

static const uint8_t cookie[4] = { 99, 130, 83, 99 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t bcast_ip[4] = { 255, 255, 255, 255 };

/* What the server reads of a request's options. */
struct dhcp_opts {
	uint8_t  type;                  /* 53; 0: none */
	uint8_t  overload;              /* 52 */
	bool     has_req, has_sid;
	uint8_t  req[4];                /* 50 */
	uint8_t  sid[4];                /* 54 */
	uint32_t seen;                  /* which of those: no option twice */
};

/* The request, as far as the answer needs it. */
struct dhcp_req {
	uint8_t  hdr[DHCP_FIXED];
	uint32_t off;                   /* the BOOTP message in the frame */
	uint32_t len;                   /* its length (UDP payload) */
	struct dhcp_opts o;
};

static bool
drop(struct vpc_l3in *in, unsigned why, struct vpc_pkt *p)
{
	sw_count(in->sw, why);
	os_pkt_free(p);
	return (true);
}

static bool
is_zero4(const uint8_t *a)
{
	return (vpc_all_zero(a, 4));
}

static size_t
name_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return (n);
}

/* Note an option the server reads; false if it came twice or is the wrong
 * length (RFC 3396 concatenation would make it longer than it may be). */
static bool
opt_note(struct dhcp_opts *o, uint8_t tag, uint8_t len, const uint8_t *val)
{
	unsigned bit;

	switch (tag) {
	case OPT_MSG_TYPE: bit = 0; break;
	case OPT_REQ_ADDR: bit = 1; break;
	case OPT_SERVER_ID: bit = 2; break;
	case OPT_OVERLOAD: bit = 3; break;
	default:
		return (true);
	}
	if ((o->seen & (1u << bit)) != 0)
		return (false);
	o->seen |= 1u << bit;
	switch (tag) {
	case OPT_MSG_TYPE:
		if (len != 1 || val[0] == 0)
			return (false);
		o->type = val[0];
		return (true);
	case OPT_OVERLOAD:
		if (len != 1 || val[0] < 1 || val[0] > 3)
			return (false);
		o->overload = val[0];
		return (true);
	case OPT_REQ_ADDR:
		if (len != 4)
			return (false);
		memcpy(o->req, val, 4);
		o->has_req = true;
		return (true);
	default:                        /* OPT_SERVER_ID */
		if (len != 4)
			return (false);
		memcpy(o->sid, val, 4);
		o->has_sid = true;
		return (true);
	}
}

/*
 * Walk one options field, [off, off + len) of the packet: every option must
 * fit in it and the field must end with the end option.  Overload may only
 * appear in the options field itself (main).
 */
static bool
opts_walk(const struct vpc_pkt *p, uint32_t off, uint32_t len, bool main,
    struct dhcp_opts *o)
{
	uint32_t at = 0;
	uint8_t tl[2], val[4];

	while (at < len) {
		if (!os_pkt_copyout(p, off + at, 1, tl))
			return (false);
		if (tl[0] == OPT_END)
			return (true);
		if (tl[0] == OPT_PAD) {
			at++;
			continue;
		}
		if (at + 2 > len || !os_pkt_copyout(p, off + at, 2, tl) ||
		    at + 2 + tl[1] > len)
			return (false);         /* truncated */
		if (tl[0] == OPT_OVERLOAD && !main)
			return (false);
		if (tl[0] == OPT_MSG_TYPE || tl[0] == OPT_REQ_ADDR ||
		    tl[0] == OPT_SERVER_ID || tl[0] == OPT_OVERLOAD) {
			if (tl[1] > sizeof(val) ||
			    !os_pkt_copyout(p, off + at + 2, tl[1], val) ||
			    !opt_note(o, tl[0], tl[1], val))
				return (false);
		}
		at += 2 + tl[1];
	}
	return (false);                 /* no end option */
}

/* UDP and BOOTP checks, then the options; false: malformed. */
static bool
parse(struct vpc_l3in *in, const struct vpc_pkt *p, struct dhcp_req *r)
{
	const struct vpc_ipinfo *ip = &in->ip;
	uint8_t udp[VPC_UDP_HDR_LEN], frag[2];
	uint32_t plen = ip->l3off + ip->l3len - ip->l4off, ulen;

	if (ip->later_frag || !os_pkt_copyout(p, ip->l3off + 6, 2, frag) ||
	    (frag[0] & 0x20) != 0)
		return (false);                 /* fragmented */
	if (plen < VPC_UDP_HDR_LEN || !os_pkt_copyout(p, ip->l4off, sizeof(udp), udp))
		return (false);
	ulen = vpc_get16(udp + 4);
	if (ulen != plen || vpc_get16(udp) != VPC_DHCP_CLIENT_PORT ||
	    (vpc_get16(udp + 6) != 0 && !vpc_l4_cksum_ok(p, ip)))
		return (false);
	r->off = ip->l4off + VPC_UDP_HDR_LEN;
	r->len = ulen - VPC_UDP_HDR_LEN;
	if (r->len < DHCP_FIXED || !os_pkt_copyout(p, r->off, DHCP_FIXED, r->hdr))
		return (false);
	if (r->hdr[OFF_OP] != BOOTREQUEST || r->hdr[OFF_HTYPE] != HTYPE_ETHER ||
	    r->hdr[OFF_HLEN] != 6 ||
	    memcmp(r->hdr + OFF_CHADDR, in->f->src, 6) != 0 ||
	    !is_zero4(r->hdr + OFF_GIADDR) ||
	    memcmp(r->hdr + OFF_COOKIE, cookie, 4) != 0)
		return (false);
	memset(&r->o, 0, sizeof(r->o));
	if (!opts_walk(p, r->off + DHCP_FIXED, r->len - DHCP_FIXED, true, &r->o))
		return (false);
	/* RFC 2131 4.1: the options field, then file, then sname. */
	if ((r->o.overload & 1) != 0 &&
	    !opts_walk(p, r->off + OFF_FILE, FILE_LEN, false, &r->o))
		return (false);
	if ((r->o.overload & 2) != 0 &&
	    !opts_walk(p, r->off + OFF_SNAME, SNAME_LEN, false, &r->o))
		return (false);
	return (true);
}

/* ---- The reply ---------------------------------------------------------- */

struct dhcp_reply {
	uint8_t  type;                  /* OFFER, ACK, NAK */
	bool     lease;                 /* yiaddr and the lease options */
	bool     bcast;                 /* to the broadcast MAC and address */
	uint8_t  ciaddr[4];             /* echoed (INFORM, RENEWING) */
	uint8_t  to_ip[4];              /* unicast destination */
};

static uint8_t *
put_opt(uint8_t *o, uint8_t tag, uint8_t len, const void *val)
{
	o[0] = tag;
	o[1] = len;
	memcpy(o + 2, val, len);
	return (o + 2 + len);
}

static uint8_t *
put_opt32(uint8_t *o, uint8_t tag, uint32_t v)
{
	uint8_t b[4];

	vpc_put32(b, v);
	return (put_opt(o, tag, 4, b));
}

static void
mask4(uint8_t plen, uint8_t m[4])
{
	uint32_t v = plen == 0 ? 0 : 0xffffffffu << (32 - plen);

	vpc_put32(m, v);
}

/* RFC 3442: a route is its prefix length, the significant octets of its
 * destination, and its router. */
static uint8_t *
put_route(uint8_t *o, uint8_t plen, const uint8_t *dst, const uint8_t *gw)
{
	unsigned n = (plen + 7u) / 8;

	*o++ = plen;
	memcpy(o, dst, n);
	o += n;
	memcpy(o, gw, 4);
	return (o + 4);
}

/* The options after 53 and 54, for an OFFER or ACK. */
static uint8_t *
put_config(uint8_t *o, const struct vpc_l3in *in, bool lease)
{
	const vpc_nic_dhcp_t *d = &in->l3->dhcp;
	const struct vpc_swcfg *cfg = in->cfg;
	uint8_t m[4], b[4], *len;
	uint32_t lease_s, mtu;
	size_t n;
	unsigned i;

	if (lease) {
		lease_s = d->lease_s != 0 ? d->lease_s : VPC_DHCP_LEASE_DEFAULT;
		o = put_opt32(o, OPT_LEASE, lease_s);
		if (lease_s != 0xffffffffu) {   /* RFC 2131 4.4.5: 0.5 and 0.875 */
			o = put_opt32(o, OPT_T1, lease_s / 2);
			o = put_opt32(o, OPT_T2, (uint32_t)((uint64_t)lease_s * 7 / 8));
		}
	}
	mask4(cfg->sub4.plen, m);
	o = put_opt(o, OPT_SUBNET_MASK, 4, m);
	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(cfg->sub4.addr[i] | (uint8_t)~m[i]);
	o = put_opt(o, OPT_BROADCAST, 4, b);
	o = put_opt(o, OPT_ROUTER, 4, cfg->gw.addr4);
	if (d->ndns > 0)
		o = put_opt(o, OPT_DNS, (uint8_t)(4 * d->ndns), d->dns);
	if ((n = name_len(d->domain, sizeof(d->domain))) > 0)
		o = put_opt(o, OPT_DOMAIN, (uint8_t)n, d->domain);
	if ((n = name_len(d->hostname, sizeof(d->hostname))) > 0)
		o = put_opt(o, OPT_HOSTNAME, (uint8_t)n, d->hostname);
	mtu = __atomic_load_n(&in->nic->mtu, __ATOMIC_RELAXED);
	o[0] = OPT_MTU;
	o[1] = 2;
	vpc_put16(o + 2, (uint16_t)mtu);
	o += 4;
	if (d->nroutes > 0) {
		/* A client that takes 121 ignores 3 (RFC 3442): the default
		 * route goes in too, unless the routes have one already. */
		bool dflt = false;

		o[0] = OPT_CLASSLESS;
		len = o + 1;
		o += 2;
		for (i = 0; i < d->nroutes; i++) {
			dflt |= d->route_plen[i] == 0;
			o = put_route(o, d->route_plen[i], d->route_dst + 4 * i,
			    d->route_gw + 4 * i);
		}
		if (!dflt)
			o = put_route(o, 0, cfg->gw.addr4, cfg->gw.addr4);
		*len = (uint8_t)(o - len - 1);
	}
	return (o);
}

/* Build and send the reply to the vmnic the request came from. */
static void
reply(struct vpc_l3in *in, const struct dhcp_req *r, const struct dhcp_reply *a)
{
	const struct vpc_gateway *gw = &in->cfg->gw;
	uint8_t opts[REPLY_OPTS_MAX], *o = opts, *d, *ip, *udp, *bp, pseudo[8];
	uint32_t olen, blen, len, sum;
	struct vpc_pkt *p;
	void *data;

	*o++ = OPT_MSG_TYPE;
	*o++ = 1;
	*o++ = a->type;
	o = put_opt(o, OPT_SERVER_ID, 4, gw->addr4);
	if (a->type != DHCPNAK)
		o = put_config(o, in, a->lease);
	*o++ = OPT_END;
	olen = (uint32_t)(o - opts);
	blen = DHCP_FIXED + olen;
	if (blen < BOOTP_MIN)
		blen = BOOTP_MIN;
	len = ETHER_HDR_LEN + VPC_IPV4_HDR_LEN + VPC_UDP_HDR_LEN + blen;
	if ((p = os_pkt_alloc(len, &data)) == NULL) {
		sw_count(in->sw, VPC_SWSTAT_DROP_TX);
		return;
	}
	d = data;
	memset(d, 0, len);
	ip = d + ETHER_HDR_LEN;
	udp = ip + VPC_IPV4_HDR_LEN;
	bp = udp + VPC_UDP_HDR_LEN;

	bp[OFF_OP] = BOOTREPLY;
	bp[OFF_HTYPE] = HTYPE_ETHER;
	bp[OFF_HLEN] = 6;
	memcpy(bp + OFF_XID, r->hdr + OFF_XID, 4);
	memcpy(bp + OFF_FLAGS, r->hdr + OFF_FLAGS, 2);
	memcpy(bp + OFF_CIADDR, a->ciaddr, 4);
	if (a->lease)
		memcpy(bp + OFF_YIADDR, in->l3->addr.addr4, 4);
	memcpy(bp + OFF_CHADDR, r->hdr + OFF_CHADDR, 16);
	memcpy(bp + OFF_COOKIE, cookie, 4);
	memcpy(bp + DHCP_FIXED, opts, olen);

	memcpy(d, a->bcast ? bcast_mac : in->f->src, 6);
	memcpy(d + 6, gw->mac, 6);
	vpc_put16(d + 12, ETHERTYPE_IP);
	ip[0] = 0x45;
	vpc_put16(ip + 2, (uint16_t)(len - ETHER_HDR_LEN));
	ip[8] = 64;
	ip[9] = VPC_IPPROTO_UDP;
	memcpy(ip + 12, gw->addr4, 4);
	memcpy(ip + 16, a->bcast ? bcast_ip : a->to_ip, 4);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, VPC_IPV4_HDR_LEN)));
	vpc_put16(udp, VPC_DHCP_SERVER_PORT);
	vpc_put16(udp + 2, VPC_DHCP_CLIENT_PORT);
	vpc_put16(udp + 4, (uint16_t)(VPC_UDP_HDR_LEN + blen));
	vpc_put32(pseudo, VPC_UDP_HDR_LEN + blen);
	vpc_put32(pseudo + 4, VPC_IPPROTO_UDP);
	sum = vpc_cksum_add(vpc_cksum_add(0, ip + 12, 8), pseudo, sizeof(pseudo));
	sum = vpc_cksum_finish(vpc_cksum_add(sum, udp, VPC_UDP_HDR_LEN + blen));
	vpc_put16(udp + 6, sum != 0 ? (uint16_t)sum : 0xffff);  /* RFC 768 */
	vpc_l3_reply(in, p);
}

/* ---- Requests ------------------------------------------------------------ */

/* Does this vmnic get DHCP at all? */
static bool
served(const struct vpc_l3in *in)
{
	const struct vpc_nic_l3 *l3 = in->l3;
	const struct vpc_gateway *gw = &in->cfg->gw;

	return ((l3->dhcp.flags & VPC_DHCP_ENABLE) != 0 &&
	    (l3->addr.flags & VPC_NIC_ADDR_INET) != 0 && gw->has4 &&
	    vpc_subnet_contains(&in->cfg->sub4, l3->addr.addr4) &&
	    memcmp(l3->addr.addr4, gw->addr4, 4) != 0);
}

/* Where a reply that is not a NAK goes: RFC 2131 4.1, no relays. */
static void
route_reply(const struct vpc_l3in *in, const struct dhcp_req *r,
    struct dhcp_reply *a)
{
	const uint8_t *ciaddr = r->hdr + OFF_CIADDR;

	if (!is_zero4(ciaddr)) {
		memcpy(a->to_ip, ciaddr, 4);
		a->bcast = false;
	} else if ((vpc_get16(r->hdr + OFF_FLAGS) & FLAG_BROADCAST) != 0) {
		a->bcast = true;
	} else {
		memcpy(a->to_ip, in->l3->addr.addr4, 4);
		a->bcast = false;
	}
}

static bool
answer(struct vpc_l3in *in, struct vpc_pkt *p, const struct dhcp_req *r,
    uint8_t type, bool lease, unsigned ctr)
{
	struct dhcp_reply a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.lease = lease;
	if (type == DHCPNAK) {
		a.bcast = true;                 /* RFC 2131 4.3.2 */
	} else {
		route_reply(in, r, &a);
		if (type == DHCPACK)            /* RFC 2131 table 3 */
			memcpy(a.ciaddr, r->hdr + OFF_CIADDR, 4);
	}
	sw_count(in->sw, ctr);
	reply(in, r, &a);
	os_pkt_free(p);
	return (true);
}

static bool
request(struct vpc_l3in *in, struct vpc_pkt *p, const struct dhcp_req *r)
{
	const uint8_t *mine = in->l3->addr.addr4, *ciaddr = r->hdr + OFF_CIADDR;
	const struct dhcp_opts *o = &r->o;

	if (o->has_sid) {                       /* SELECTING */
		if (memcmp(o->sid, in->cfg->gw.addr4, 4) != 0)
			return (drop(in, VPC_SWSTAT_DHCP_IGNORED, p));
		if (!o->has_req || !is_zero4(ciaddr) || memcmp(o->req, mine, 4) != 0)
			return (answer(in, p, r, DHCPNAK, false, VPC_SWSTAT_DHCP_NAK));
		return (answer(in, p, r, DHCPACK, true, VPC_SWSTAT_DHCP_ACK));
	}
	if (o->has_req) {                       /* INIT-REBOOT */
		if (!is_zero4(ciaddr) || memcmp(o->req, mine, 4) != 0)
			return (answer(in, p, r, DHCPNAK, false, VPC_SWSTAT_DHCP_NAK));
		return (answer(in, p, r, DHCPACK, true, VPC_SWSTAT_DHCP_ACK));
	}
	if (is_zero4(ciaddr))                   /* none of the four states */
		return (drop(in, VPC_SWSTAT_DHCP_MALFORMED, p));
	/* RENEWING (unicast to us) or REBINDING (broadcast). */
	if (memcmp(ciaddr, mine, 4) != 0)
		return (answer(in, p, r, DHCPNAK, false, VPC_SWSTAT_DHCP_NAK));
	return (answer(in, p, r, DHCPACK, true, VPC_SWSTAT_DHCP_ACK));
}

/*
 * An IPv4 UDP datagram from a VM to port 67 or 68 (the responder checked
 * the IP header and its source).  Always taken: answered or dropped.
 */
bool
vpc_dhcp_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	const struct vpc_ipinfo *ip = &in->ip;
	struct dhcp_req r;
	bool to_us;

	VPC_ASSERT_EPOCH();
	if (vpc_get16(ip->l4 + 2) == VPC_DHCP_CLIENT_PORT)
		return (drop(in, VPC_SWSTAT_DHCP_SNOOPED, p));
	if (!served(in))
		return (drop(in, VPC_SWSTAT_DHCP_NOT_SERVED, p));
	if (!parse(in, p, &r))
		return (drop(in, VPC_SWSTAT_DHCP_MALFORMED, p));
	/* To us: broadcast, or unicast to the gateway (a renewal). */
	to_us = memcmp(ip->dst, bcast_ip, 4) == 0 ||
	    memcmp(ip->dst, in->cfg->gw.addr4, 4) == 0;
	if (!to_us)
		return (drop(in, VPC_SWSTAT_DHCP_IGNORED, p));
	switch (r.o.type) {
	case DHCPDISCOVER:
		return (answer(in, p, &r, DHCPOFFER, true, VPC_SWSTAT_DHCP_OFFER));
	case DHCPREQUEST:
		return (request(in, p, &r));
	case DHCPDECLINE:
		if (r.o.has_sid && memcmp(r.o.sid, in->cfg->gw.addr4, 4) != 0)
			return (drop(in, VPC_SWSTAT_DHCP_IGNORED, p));
		return (drop(in, VPC_SWSTAT_DHCP_DECLINE, p));
	case DHCPRELEASE:
		if (r.o.has_sid && memcmp(r.o.sid, in->cfg->gw.addr4, 4) != 0)
			return (drop(in, VPC_SWSTAT_DHCP_IGNORED, p));
		return (drop(in, VPC_SWSTAT_DHCP_RELEASE, p));
	case DHCPINFORM:
		if (memcmp(r.hdr + OFF_CIADDR, in->l3->addr.addr4, 4) != 0)
			return (drop(in, VPC_SWSTAT_DHCP_IGNORED, p));
		return (answer(in, p, &r, DHCPACK, false, VPC_SWSTAT_DHCP_ACK));
	default:                /* BOOTP (no type), server messages, unknown */
		return (drop(in, VPC_SWSTAT_DHCP_IGNORED, p));
	}
}
