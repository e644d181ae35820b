/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_router_fwd.c: the router's data path.  Runs in the epoch, takes no
 * lock, consumes every packet it is given; counts everything per router.
 *
 * A frame a VM sent to its gateway's MAC for an address outside its subnet
 * (vpc_fwd.c hands it over when the switch's router port holds a router):
 *
 *   admission   not to the gateway MAC, malformed IP, broadcast/multicast
 *               destination, source = the gateway, martian source or
 *               destination: dropped and counted
 *   lookup      the published table (longest prefix, custom over connected,
 *               older first); none, a drop route or an unusable one: ICMP
 *               destination unreachable from the ingress gateway
 *   TTL         <= 1: ICMP time exceeded from the ingress gateway
 *   egress      the route's switch; the neighbour is the next hop (or the
 *               destination) in that switch's neighbour table: a miss holds
 *               the frame (already rewritten but for its destination MAC)
 *               on that switch's L3 upcall, a negative entry gets ICMP host
 *               unreachable
 *   rewrite     source MAC = the egress gateway's, destination MAC = the
 *               neighbour's, TTL / hop limit - 1 (IPv4 checksum updated
 *               incrementally, RFC 1624)
 *   out         the egress switch as from its router port: a local vmnic,
 *               or VXLAN with the egress switch's VNI to the VTEP of the MAC
 *
 * ICMP errors are rate-limited per router and quote the offending datagram.
 * A held frame comes back through vpc_router_reinject after the answer: it
 * is parsed again from its bytes (nothing of the first pass is kept) and
 * looked up again in the table of now.
 */
#include "vpc_l3.h"

static void
rdrop(struct vpc_router *rtr, unsigned why, struct vpc_pkt *p)
{
	rtr_count(rtr, why);
	os_pkt_free(p);
}

static struct vpc_nic *
vmnic_of(const struct vpc_port *p)
{
	struct vpc_obj *peer = p != NULL && !p->obj.dead ? vpc_load(p->peer) : NULL;

	return (peer != NULL && peer->type == VPC_TYPE_NIC ? obj2nic(peer) : NULL);
}

/* An ICMP error about p (its IP header parsed in ip) back to the VM. */
static void
icmp_error(struct vpc_router *rtr, struct vpc_switch *sw, struct vpc_port *in,
    struct vpc_pkt *p, const struct vpc_frame *f, const struct vpc_ipinfo *ip,
    uint8_t type, uint8_t code)
{
	const struct vpc_gateway *gw = &vpc_load(sw->cfg)->gw;
	struct vpc_icmp_reply r;
	struct vpc_pkt *icmp;

	if (!vpc_icmp_error_allowed(ip, false) || vmnic_of(in) == NULL) {
		os_pkt_free(p);
		return;
	}
	if (!vpc_ratelim_take(&rtr->icmp_rl, os_now_ns())) {
		rdrop(rtr, VPC_RTRSTAT_ICMP_RATELIMITED, p);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.af = ip->af;
	r.type = type;
	r.code = code;
	memcpy(r.eth_src, gw->mac, 6);
	memcpy(r.eth_dst, f->src, 6);
	if (ip->af == VPC_AF_INET)
		memcpy(r.ip_src, gw->addr4, 4);
	else
		memcpy(r.ip_src, gw->addr6, 16);
	memcpy(r.ip_dst, ip->src, 16);
	r.body_off = ip->l3off;
	r.body_max = vpc_icmp_quote_max(ip->af);
	icmp = vpc_icmp_build(&r, p);
	os_pkt_free(p);
	if (icmp == NULL)
		return;
	rtr_count(rtr, VPC_RTRSTAT_ICMP_SENT);
	vpc_fwd_deliver(sw, in, icmp);
}

#define ICMP6_DST_UNREACH       1
#define ICMP6_UNREACH_NOROUTE   0
#define ICMP6_UNREACH_ADDR      3
#define ICMP_UNREACH_NET        0
#define ICMP_UNREACH_HOST       1

static void
unreachable(struct vpc_router *rtr, struct vpc_switch *sw, struct vpc_port *in,
    struct vpc_pkt *p, const struct vpc_frame *f, const struct vpc_ipinfo *ip,
    bool host)
{
	if (ip->af == VPC_AF_INET)
		icmp_error(rtr, sw, in, p, f, ip, VPC_ICMP_UNREACH,
		    host ? ICMP_UNREACH_HOST : ICMP_UNREACH_NET);
	else
		icmp_error(rtr, sw, in, p, f, ip, ICMP6_DST_UNREACH,
		    host ? ICMP6_UNREACH_ADDR : ICMP6_UNREACH_NOROUTE);
}

/* Not one host's source: unspecified, 0/8, loopback, link-local, multicast. */
static bool
martian_src(const struct vpc_ipinfo *ip)
{
	const uint8_t *a = ip->src;

	if (ip->af == VPC_AF_INET)
		return (a[0] == 0 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
		    a[0] >= 224);
	return (vpc_all_zero(a, 16) || a[0] == 0xff ||
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
	    (vpc_all_zero(a, 15) && a[15] == 1));
}

static bool
martian_dst(const struct vpc_ipinfo *ip)
{
	const uint8_t *a = ip->dst;

	if (ip->af == VPC_AF_INET)
		return (a[0] == 0 || a[0] == 127 || (a[0] == 169 && a[1] == 254));
	return (vpc_all_zero(a, 16) || (vpc_all_zero(a, 15) && a[15] == 1) ||
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80));
}

static bool
bcast_dst(const struct vpc_ipinfo *ip)
{
	const uint8_t *a = ip->dst;

	if (ip->af == VPC_AF_INET)
		return (a[0] >= 224);           /* multicast, class E, 255.255.255.255 */
	return (a[0] == 0xff);
}

/* The gateway's own address of the family (none: NULL). */
static const uint8_t *
gw_addr(const struct vpc_gateway *gw, uint8_t af)
{
	if (af == VPC_AF_INET)
		return (gw->has4 ? gw->addr4 : NULL);
	return (gw->has6 ? gw->addr6 : NULL);
}

/*
 * The fast parse: what forwarding needs (family, addresses, length), read
 * in place from the headers made contiguous once, which the rewrite then
 * writes through the same pointer: no copy, no second pass.  Only for the
 * headers whose full parse (vpc_ip_parse) could tell forwarding nothing
 * more: IPv4 without options, IPv6 not followed by an extension header;
 * it rejects what the full parse rejects for them (version, lengths,
 * checksum) by leaving them to it.  1: parsed, the header at *hp; 0: parse
 * in full; -1: the packet is gone (no memory to make it contiguous).
 */
static int
fast_parse(struct vpc_pkt **pp, uint32_t l3off, uint8_t af, struct vpc_ipinfo *ip,
    uint8_t **hp)
{
	uint32_t len = os_pkt_len(*pp), need, sum, i;
	uint8_t *h, *iph;

	need = l3off + (af == VPC_AF_INET ? VPC_IPV4_HDR_LEN : VPC_IPV6_HDR_LEN);
	if (len < need)
		return (0);
	if ((h = os_pkt_pullup(pp, need)) == NULL)
		return (-1);
	iph = h + l3off;
	ip->l3off = l3off;
	if (af == VPC_AF_INET) {
		if (iph[0] != 0x45)
			return (0);
		ip->l3len = vpc_get16(iph + 2);
		if (ip->l3len < VPC_IPV4_HDR_LEN || ip->l3len > len - l3off)
			return (0);
		for (i = 0, sum = 0; i < VPC_IPV4_HDR_LEN; i += 2)
			sum += vpc_get16(iph + i);
		sum = (sum & 0xffff) + (sum >> 16);
		if (((sum & 0xffff) + (sum >> 16)) != 0xffff)
			return (0);
		ip->af = VPC_AF_INET;
		memcpy(ip->src, iph + 12, 4);
		memcpy(ip->dst, iph + 16, 4);
		ip->l4off = l3off + VPC_IPV4_HDR_LEN;
	} else {
		if ((iph[0] >> 4) != 6)
			return (0);
		ip->l3len = VPC_IPV6_HDR_LEN + vpc_get16(iph + 4);
		if (ip->l3len > len - l3off || iph[6] == 0 || iph[6] == 43 ||
		    iph[6] == 44 || iph[6] == 51 || iph[6] == 60)
			return (0);
		ip->af = VPC_AF_INET6;
		memcpy(ip->src, iph + 8, 16);
		memcpy(ip->dst, iph + 24, 16);
		ip->l4off = l3off + VPC_IPV6_HDR_LEN;
	}
	*hp = h;
	return (1);
}

/*
 * The whole parse (upper layer, fragment) for an ICMP error or the gateway:
 * the rare paths; false (freed, counted) if the header says otherwise.
 */
static bool
full_parse(struct vpc_router *rtr, struct vpc_pkt *p, const struct vpc_frame *f,
    struct vpc_ipinfo *ip, bool *full)
{
	if (*full)
		return (true);
	if (vpc_ip_parse(p, f->l2len, ip) != 0 || ip->af != f->ip_af) {
		rdrop(rtr, VPC_RTRSTAT_DROP_BAD_IP, p);
		return (false);
	}
	*full = true;
	return (true);
}

/*
 * To the neighbour nh on egress switch out (port rport): found, the frame
 * goes out; unknown, it is held on out's L3 upcall, a new request charged
 * to the ingress vmnic's upcall rate (from: its port; a VM must not raise
 * upcalls without limit by sending off-subnet); known absent, ICMP.
 * f describes the frame as it is now (rewritten but for the destination).
 * A reinjected frame (from: NULL) never raises another request.
 */
static void
to_neighbour(struct vpc_router *rtr, struct vpc_switch *out,
    struct vpc_port *rport, struct vpc_port *from, struct vpc_pkt *p,
    struct vpc_frame *f, const uint8_t nh[16], const struct vpc_nbr_ent *e,
    bool reinjected)
{
	uint8_t *h;

	if (e == NULL) {
		if (reinjected) {
			rdrop(rtr, VPC_RTRSTAT_DROP_REMISS, p);
			return;
		}
		rtr_count(rtr, VPC_RTRSTAT_NBR_MISS);
		if (!vpc_upcall_l3miss_routed(out, rport, from, p, f, f->ip_af, nh))
			rtr_count(rtr, VPC_RTRSTAT_UPCALL_RATELIMITED);
		return;
	}
	if (e->kind == VPC_NBR_NEGATIVE) {
		/* A held frame whose answer was "not found": dropped. */
		rdrop(rtr, VPC_RTRSTAT_NBR_NEGATIVE, p);
		return;
	}
	/* vpc_router_input wrote the destination MAC with the rest of the
	 * rewrite; a held frame gets it now. */
	if (reinjected) {
		if ((h = os_pkt_pullup(&p, ETHER_HDR_LEN)) == NULL)
			return;
		memcpy(h, e->mac, 6);
	}
	memcpy(f->dst, e->mac, 6);
	rtr_count(rtr, VPC_RTRSTAT_ROUTED);
	if (reinjected)
		rtr_count(rtr, VPC_RTRSTAT_REINJECTED);
	vpc_fwd_routed(out, rport, p, f);
}

/* The neighbour a route leads to: its next hop, or the destination. */
static const uint8_t *
next_hop(const struct vpc_rt *rt, const struct vpc_ipinfo *ip)
{
	return (rt->target == VPC_RT_NEXTHOP ? rt->nexthop : ip->dst);
}

/*
 * Along an INTERNET route, to the router's NAT: the TTL taken here as for
 * any routed packet (<= 1: ICMP time exceeded from the gateway), the rest
 * is the NAT's (vpc_natgw_path.c).  IPv6 goes too: the NAT drops and
 * counts it (DROP_AF).
 */
static void
to_nat(struct vpc_router *rtr, struct vpc_natgw *ng, struct vpc_switch *sw,
    struct vpc_port *in, struct vpc_pkt *p, const struct vpc_frame *f,
    const struct vpc_ipinfo *ip, struct vpc_ipinfo *own, uint8_t *h, bool full)
{
	uint8_t *iph;

	if (h == NULL && (h = os_pkt_pullup(&p, ip->l3off + (ip->af == VPC_AF_INET ?
	    VPC_IPV4_HDR_LEN : VPC_IPV6_HDR_LEN))) == NULL)
		return;
	iph = h + ip->l3off;
	if (iph[ip->af == VPC_AF_INET ? 8 : 7] <= 1) {
		rtr_count(rtr, VPC_RTRSTAT_TTL_EXCEEDED);
		if (!full_parse(rtr, p, f, own, &full))
			return;
		if (ip->af == VPC_AF_INET)
			icmp_error(rtr, sw, in, p, f, ip, VPC_ICMP_TIMXCEED, 0);
		else
			icmp_error(rtr, sw, in, p, f, ip, VPC_ICMP6_TIME_EXCEEDED, 0);
		return;
	}
	if (ip->af == VPC_AF_INET) {
		uint16_t oldw = vpc_get16(iph + 8);

		iph[8]--;
		vpc_put16(iph + 10, vpc_cksum_update16(vpc_get16(iph + 10), oldw,
		    vpc_get16(iph + 8)));
	} else
		iph[7]--;
	rtr_count(rtr, VPC_RTRSTAT_TO_NAT);
	vpc_natgw_output(ng, p, ip->l3off);
}

/*
 * The memo of the last frame each vmnic sent through the router (struct
 * vpc_rtr_memo, in its port): a VM's frames to another subnet are mostly
 * one flow's, and the memo spares them the route lookup and the neighbour
 * probe.  Trusted only as far as it proves itself: the route when the
 * table of now has the serial the memo was made in (serials are unique
 * across tables, and a table is never changed once published: any route or
 * attachment change publishes another) and the address is the same; the
 * neighbour when its table's generation has not moved (vpc_nbr_lookup_hint).
 * Nothing else is kept: every check after the lookup runs on every frame.
 *
 * Frames of one vmnic may run on several CPUs at once: the memo is a
 * seqlock, its writer the one that turns seq odd (others skip writing), a
 * torn or busy read just a lookup.
 *
 * Rewriting it costs an atomic exchange: a VM talking to many destinations
 * would pay it on every frame and gain nothing.  A memo of another table
 * (or none) is replaced at once; one of this table but another address
 * only on every MEMO_EVERY-th miss (counted racily: only a rate), so such
 * a VM pays 1/MEMO_EVERY of it and a VM whose flow moved gets the memo
 * within MEMO_EVERY frames.
 */
#define MEMO_EVERY      8
static bool
memo_read(const struct vpc_rtr_memo *c, struct vpc_rtr_memo *m)
{
	m->seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
	if ((m->seq & 1) != 0)
		return (false);
	m->af = __atomic_load_n(&c->af, __ATOMIC_RELAXED);
	m->misses = 0;
	m->dst[0] = __atomic_load_n(&c->dst[0], __ATOMIC_RELAXED);
	m->dst[1] = __atomic_load_n(&c->dst[1], __ATOMIC_RELAXED);
	m->table = __atomic_load_n(&c->table, __ATOMIC_RELAXED);
	m->rt = __atomic_load_n(&c->rt, __ATOMIC_RELAXED);
	m->nbr.gen = __atomic_load_n(&c->nbr.gen, __ATOMIC_RELAXED);
	m->nbr.e = __atomic_load_n(&c->nbr.e, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) == m->seq);
}

/* m into c, if c is still at seq (even) and no one else is writing it. */
static void
memo_write(struct vpc_rtr_memo *c, uint32_t seq, const struct vpc_rtr_memo *m)
{
	if ((seq & 1) != 0 || !__atomic_compare_exchange_n(&c->seq, &seq, seq + 1,
	    false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&c->af, m->af, __ATOMIC_RELAXED);
	__atomic_store_n(&c->dst[0], m->dst[0], __ATOMIC_RELAXED);
	__atomic_store_n(&c->dst[1], m->dst[1], __ATOMIC_RELAXED);
	__atomic_store_n(&c->table, m->table, __ATOMIC_RELAXED);
	__atomic_store_n(&c->rt, m->rt, __ATOMIC_RELAXED);
	__atomic_store_n(&c->nbr.gen, m->nbr.gen, __ATOMIC_RELAXED);
	__atomic_store_n(&c->nbr.e, m->nbr.e, __ATOMIC_RELAXED);
	__atomic_store_n(&c->seq, seq + 2, __ATOMIC_RELEASE);
}

/* The destination as the memo keeps it (IPv4: its 4 bytes, zeros). */
static void
memo_key(struct vpc_rtr_memo *m, const struct vpc_ipinfo *ip, uint64_t serial)
{
	m->af = ip->af;
	m->dst[0] = m->dst[1] = 0;
	memcpy(m->dst, ip->dst, ip->af == VPC_AF_INET ? 4 : 16);
	m->table = serial;
}

static bool
memo_same_key(const struct vpc_rtr_memo *a, const struct vpc_rtr_memo *b)
{
	return (a->table == b->table && a->af == b->af && a->dst[0] == b->dst[0] &&
	    a->dst[1] == b->dst[1]);
}

/*
 * After the lookups: was (read at seq, if memo_ok) replaced by now when it
 * is worth it (see above).
 */
static void
memo_update(struct vpc_rtr_memo *c, bool memo_ok, const struct vpc_rtr_memo *was,
    const struct vpc_rtr_memo *now)
{
	uint16_t n;

	if (now->nbr.e == NULL || !memo_ok)
		return;
	if (memo_same_key(was, now)) {
		if (was->rt == now->rt && was->nbr.gen == now->nbr.gen &&
		    was->nbr.e == now->nbr.e)
			return;                         /* a hit */
	} else if (was->table == now->table && was->rt != NULL) {
		n = (uint16_t)(__atomic_load_n(&c->misses, __ATOMIC_RELAXED) + 1);
		__atomic_store_n(&c->misses, n, __ATOMIC_RELAXED);
		if (n % MEMO_EVERY != 0)
			return;
	}
	memo_write(c, was->seq, now);
}

void
vpc_router_input(struct vpc_router *rtr, struct vpc_switch *sw,
    struct vpc_port *in, struct vpc_pkt *p, const struct vpc_frame *f)
{
	const struct vpc_swcfg *cfg = vpc_load(sw->cfg);
	const struct vpc_rtable *t = vpc_load(rtr->table);
	const struct vpc_swcfg *ocfg;
	const struct vpc_nbr_ent *e;
	const struct vpc_rt *rt;
	struct vpc_natgw *ng;
	const uint8_t *gwa, *nh;
	const struct vpc_ipinfo *ip;
	struct vpc_ipinfo own;
	struct vpc_frame g;
	struct vpc_rtr_memo was, now;
	uint8_t *h = NULL, *iph;
	bool full = false, memo;
	int fast;

	VPC_ASSERT_EPOCH();
	rtr_count(rtr, VPC_RTRSTAT_RX);
	if (memcmp(f->dst, cfg->gw.mac, 6) != 0) {
		rdrop(rtr, VPC_RTRSTAT_DROP_NOT_GW, p);
		return;
	}
	if (f->ip != NULL && f->ip->af == f->ip_af) {
		/* The responder's full parse of this frame (vpc_nic_input hands
		 * it on): no second pass over the header, no copy of it. */
		ip = f->ip;
		full = true;
	} else {
		ip = &own;
		memset(&own, 0, sizeof(own));
		if ((fast = fast_parse(&p, f->l2len, f->ip_af, &own, &h)) < 0)
			return;
		if (fast == 0 && !full_parse(rtr, p, f, &own, &full))
			return;
	}
	if ((gwa = gw_addr(&cfg->gw, ip->af)) == NULL) {
		rdrop(rtr, VPC_RTRSTAT_DROP_NO_GW, p);
		return;
	}
	if (bcast_dst(ip)) {
		rdrop(rtr, VPC_RTRSTAT_DROP_BCAST, p);
		return;
	}
	if (memcmp(ip->src, gwa, ip->af == VPC_AF_INET ? 4 : 16) == 0) {
		rdrop(rtr, VPC_RTRSTAT_DROP_SRC_GW, p);
		return;
	}
	if (martian_src(ip) || martian_dst(ip)) {
		rdrop(rtr, VPC_RTRSTAT_DROP_MARTIAN, p);
		return;
	}
	/* The route: the memo's when it is of this table and address. */
	memo = memo_read(&in->rtr_memo, &was);
	memo_key(&now, ip, t->serial);
	if (memo && memo_same_key(&was, &now))
		rt = was.rt;
	else
		rt = vpc_rtable_lookup(t, ip->af, ip->dst);
	now.rt = rt;
	if (rt != NULL && rt->target == VPC_RT_INTERNET &&
	    (ng = vpc_load(rtr->nat)) != NULL) {
		to_nat(rtr, ng, sw, in, p, f, ip, &own, h, full);
		return;
	}
	if (rt == NULL || rt->target == VPC_RT_DROP || rt->sw == NULL ||
	    rt->sw->obj.dead || rt->target == VPC_RT_INTERNET) {
		rtr_count(rtr, rt != NULL && rt->target == VPC_RT_DROP ?
		    VPC_RTRSTAT_BLACKHOLE : VPC_RTRSTAT_NO_ROUTE);
		if (full_parse(rtr, p, f, &own, &full))
			unreachable(rtr, sw, in, p, f, ip, false);
		return;
	}
	ocfg = vpc_load(rt->sw->cfg);
	/* For another subnet's gateway (the router's own address there). */
	if (vpc_l3_is_gateway(ocfg, ip->af, ip->dst)) {
		struct vpc_l3in l3;

		if (!full_parse(rtr, p, f, &own, &full))
			return;
		memset(&l3, 0, sizeof(l3));
		l3.sw = sw;
		l3.port = in;
		l3.nic = vmnic_of(in);
		l3.cfg = cfg;
		l3.l3 = l3.nic != NULL ? vpc_load(l3.nic->l3) : NULL;
		l3.f = f;
		l3.ip = *ip;
		l3.ip_ok = true;
		l3.to_gw_mac = true;
		if (l3.nic != NULL && vpc_gw_echo_input(&l3, p)) {
			rtr_count(rtr, VPC_RTRSTAT_TO_GATEWAY);
			return;
		}
		rdrop(rtr, VPC_RTRSTAT_DROP_GATEWAY, p);
		return;
	}
	/* The headers in place, writable (the full parse copied them out). */
	if (h == NULL && (h = os_pkt_pullup(&p, ip->l3off + (ip->af == VPC_AF_INET ?
	    VPC_IPV4_HDR_LEN : VPC_IPV6_HDR_LEN))) == NULL)
		return;
	iph = h + ip->l3off;
	if (iph[ip->af == VPC_AF_INET ? 8 : 7] <= 1) {
		rtr_count(rtr, VPC_RTRSTAT_TTL_EXCEEDED);
		if (!full_parse(rtr, p, f, &own, &full))
			return;
		if (ip->af == VPC_AF_INET)
			icmp_error(rtr, sw, in, p, f, ip, VPC_ICMP_TIMXCEED, 0);
		else
			icmp_error(rtr, sw, in, p, f, ip, VPC_ICMP6_TIME_EXCEEDED, 0);
		return;
	}
	nh = next_hop(rt, ip);
	e = vpc_nbr_lookup_hint(rt->sw, ip->af, nh, memo ? &was.nbr : NULL, &now.nbr);
	memo_update(&in->rtr_memo, memo, &was, &now);
	if (e != NULL && e->kind == VPC_NBR_NEGATIVE) {
		rtr_count(rtr, VPC_RTRSTAT_NBR_NEGATIVE);
		if (full_parse(rtr, p, f, &own, &full))
			unreachable(rtr, sw, in, p, f, ip, true);
		return;
	}
	/*
	 * The rewrite: source MAC, the destination MAC when known (else when
	 * the answer comes), TTL / hop limit - 1 with the IPv4 checksum updated
	 * incrementally (RFC 1624: TTL is the high byte of its word).
	 */
	memcpy(h + 6, ocfg->gw.mac, 6);
	if (e != NULL)
		memcpy(h, e->mac, 6);
	if (ip->af == VPC_AF_INET) {
		uint16_t oldw = vpc_get16(iph + 8);

		iph[8]--;
		vpc_put16(iph + 10, vpc_cksum_update16(vpc_get16(iph + 10), oldw,
		    vpc_get16(iph + 8)));
	} else
		iph[7]--;                               /* hop limit: no checksum */
	g = *f;
	memcpy(g.src, ocfg->gw.mac, 6);
	to_neighbour(rtr, rt->sw, rt->port, in, p, &g, nh, e, false);
}

/*
 * A routed frame held on sw's L3 upcall (sw's router port rport), its answer
 * in: everything parsed again from the frame itself; the route looked up in
 * the table of now, which must still lead out of sw.  Its TTL was taken
 * already.
 */
void
vpc_router_reinject(struct vpc_switch *sw, struct vpc_port *rport,
    struct vpc_pkt *p)
{
	struct vpc_obj *peer = !rport->obj.dead ? vpc_load(rport->peer) : NULL;
	const struct vpc_rt *rt;
	struct vpc_router *rtr;
	struct vpc_ipinfo ip;
	struct vpc_frame f;
	const uint8_t *nh;

	VPC_ASSERT_EPOCH();
	if (peer == NULL || peer->type != VPC_TYPE_ROUTER || sw->obj.dead) {
		sw_count(sw, VPC_SWSTAT_L3_REMISS);
		os_pkt_free(p);
		return;
	}
	rtr = obj2rtr(peer);
	if (vpc_frame_parse(p, &f) != 0 || f.ip_af == 0 ||
	    vpc_ip_parse(p, f.l2len, &ip) != 0 || ip.af != f.ip_af) {
		rdrop(rtr, VPC_RTRSTAT_DROP_REMISS, p);
		return;
	}
	rt = vpc_rtable_lookup(vpc_load(rtr->table), ip.af, ip.dst);
	if (rt == NULL || rt->sw != sw || rt->target == VPC_RT_DROP) {
		rdrop(rtr, VPC_RTRSTAT_DROP_REMISS, p);
		return;
	}
	nh = next_hop(rt, &ip);
	to_neighbour(rtr, sw, rport, NULL, p, &f, nh, vpc_nbr_lookup(sw, ip.af, nh),
	    true);
}
