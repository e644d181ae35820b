/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_natgw_path.c: vpcnat's data path, in the epoch, no lock.
 *
 *   out  the router hands over what a VM sent along an INTERNET route (its
 *        TTL taken): vpc_nat_xlate(OUT), then out of the NAT's link as an
 *        Ethernet frame from the link's MAC to the upstream gateway's
 *        (NAT_SET_CONFIG: upstream_mac as configured, or upstream_ip
 *        resolved by ARP: vpc_natgw_arp.c).  A VLAN tag the VM's
 *        frame had is not carried outside.  No EIP and no SNAT for the
 *        source: dropped and counted by the engine (DROP_NOCFG).
 *   in   the link hands over IPv4 to one of the NAT's addresses:
 *        vpc_nat_xlate(IN), then routed as the router routes: the route to
 *        the private address in the router's table of now, TTL - 1, the
 *        egress switch's gateway MAC as source, the neighbour table's MAC as
 *        destination (unknown: held on that switch's L3 upcall, as routed
 *        frames are, and routed again after the answer), into that switch
 *        through its router port.
 */
#include "vpc_nat_impl.h"

static void
ng_count(struct vpc_natgw *ng, unsigned which)
{
	os_counter_add(ng->ctr[which], 1);
}

static void
ng_drop(struct vpc_natgw *ng, unsigned which, struct vpc_pkt *p)
{
	ng_count(ng, which);
	if (p != NULL)
		os_pkt_free(p);
}

void
vpc_natgw_output(struct vpc_natgw *ng, struct vpc_pkt *p, uint32_t l3off)
{
	struct vpc_nat *eng = vpc_load(ng->eng);
	struct vpc_link *l;
	uint64_t up;
	uint8_t *h;

	VPC_ASSERT_EPOCH();
	if (vpc_nat_xlate(eng, &p, l3off, VPC_NAT_OUT) != VPC_NAT_XLATED) {
		if (p != NULL)
			os_pkt_free(p);         /* counted by the engine */
		return;
	}
	l = vpc_load(ng->link);
	if (l == NULL || !__atomic_load_n(&l->bound, __ATOMIC_ACQUIRE)) {
		ng_drop(ng, VPC_NATSTAT_DROP_NO_LINK, p);
		return;
	}
	if ((up = vpc_natgw_upstream(ng, l)) == 0) {
		/* By address and not resolved yet (a request is on its way), or
		 * no upstream at all. */
		ng_drop(ng, __atomic_load_n(&ng->arp.ip, __ATOMIC_RELAXED) != 0 ?
		    VPC_NATSTAT_DROP_UNRESOLVED : VPC_NATSTAT_DROP_NO_LINK, p);
		return;
	}
	if (l3off == ETHER_HDR_LEN + 4) {
		/* Untag: the addresses move up over the tag. */
		if ((h = os_pkt_pullup(&p, l3off)) == NULL)
			return;
		memmove(h + 4, h, 12);
		os_pkt_adj(p, 4);
	} else if (l3off != ETHER_HDR_LEN) {
		ng_drop(ng, VPC_NATSTAT_DROP_BAD, p);
		return;
	}
	if ((h = os_pkt_pullup(&p, ETHER_HDR_LEN)) == NULL)
		return;
	mac_from64(up, h);
	mac_from64(__atomic_load_n(&l->mac64, __ATOMIC_RELAXED), h + 6);
	vpc_put16(h + 12, ETHERTYPE_IP);
	if (os_link_output(l, p) != 0) {
		os_counter_add(l->ctr[VPC_LINKSTAT_TX_ERRORS], 1);
		return;
	}
	os_counter_add(l->ctr[VPC_LINKSTAT_TX], 1);
	ng_count(ng, VPC_NATSTAT_TX);
}

bool
vpc_natgw_input(struct vpc_natgw *ng, struct vpc_pkt **pp,
    const struct vpc_frame *f)
{
	struct vpc_nat *eng = vpc_load(ng->eng);
	struct vpc_router *rtr;
	const struct vpc_nbr_ent *e;
	const struct vpc_rt *rt;
	const uint8_t *nh;
	struct vpc_frame g;
	uint8_t dst[16], *h, *iph;
	uint16_t oldw;

	VPC_ASSERT_EPOCH();
	switch (vpc_nat_xlate(eng, pp, f->l2len, VPC_NAT_IN)) {
	case VPC_NAT_NOTMINE:
		return (false);
	case VPC_NAT_XLATED:
		break;
	default:
		if (*pp != NULL)
			os_pkt_free(*pp);       /* counted by the engine */
		*pp = NULL;
		return (true);
	}
	rtr = vpc_load(ng->rtr);
	if ((h = os_pkt_pullup(pp, f->l2len + VPC_IPV4_HDR_LEN)) == NULL)
		return (true);
	iph = h + f->l2len;
	memset(dst, 0, sizeof(dst));
	memcpy(dst, iph + 16, 4);
	rt = rtr != NULL ? vpc_rtable_lookup(vpc_load(rtr->table), VPC_AF_INET, dst) :
	    NULL;
	if (rt == NULL || (rt->target != VPC_RT_SUBNET && rt->target != VPC_RT_NEXTHOP) ||
	    rt->sw == NULL || rt->sw->obj.dead) {
		ng_drop(ng, VPC_NATSTAT_DROP_NO_ROUTE, *pp);
		*pp = NULL;
		return (true);
	}
	if (iph[8] <= 1) {
		ng_drop(ng, VPC_NATSTAT_DROP_TTL, *pp);
		*pp = NULL;
		return (true);
	}
	nh = rt->target == VPC_RT_NEXTHOP ? rt->nexthop : dst;
	e = vpc_nbr_lookup(rt->sw, VPC_AF_INET, nh);
	if (e != NULL && e->kind == VPC_NBR_NEGATIVE) {
		ng_drop(ng, VPC_NATSTAT_DROP_NO_ROUTE, *pp);
		*pp = NULL;
		return (true);
	}
	/* TTL - 1, the IPv4 checksum updated (RFC 1624: TTL is a high byte). */
	oldw = vpc_get16(iph + 8);
	iph[8]--;
	vpc_put16(iph + 10, vpc_cksum_update16(vpc_get16(iph + 10), oldw,
	    vpc_get16(iph + 8)));
	memcpy(h + 6, vpc_load(rt->sw->cfg)->gw.mac, 6);
	if (e != NULL)
		memcpy(h, e->mac, 6);
	if (vpc_frame_parse(*pp, &g) != 0) {
		ng_drop(ng, VPC_NATSTAT_DROP_BAD, *pp);
		*pp = NULL;
		return (true);
	}
	if (e == NULL)
		/* Charged to no vmnic (the outside sent it): not rate-limited
		 * per VM; the pending-miss caps still hold. */
		(void)vpc_upcall_l3miss_routed(rt->sw, rt->port, NULL, *pp, &g,
		    VPC_AF_INET, nh);
	else {
		ng_count(ng, VPC_NATSTAT_RX_DELIVERED);
		vpc_fwd_routed(rt->sw, rt->port, *pp, &g);
	}
	*pp = NULL;
	return (true);
}

/* A gratuitous ARP for ext (a request from and for it, broadcast) out of
 * the bound link l, so the outside learns where the address lives now (a
 * neighbour that had it at another node's MAC takes ours). */
static void
garp(struct vpc_link *l, const uint8_t ext[4])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6];
	struct os_epoch et;
	struct vpc_pkt *p;
	uint8_t mac[6];

	mac_from64(l->mac64, mac);
	if ((p = vpc_arp_build(bcast, 1, mac, ext, zero, ext)) == NULL)
		return;
	os_epoch_enter(&et);
	if (os_link_output(l, p) == 0) {
		os_counter_add(l->ctr[VPC_LINKSTAT_GARP_SENT], 1);
		os_counter_add(l->ctr[VPC_LINKSTAT_TX], 1);
	} else
		os_counter_add(l->ctr[VPC_LINKSTAT_TX_ERRORS], 1);
	os_epoch_exit(&et);
}

void
vpc_natgw_announce(struct vpc_natgw *ng, const uint8_t ext[4])
{
	struct vpc_link *l = ng->link;

	VPC_ASSERT_CTL(ng->obj.sys);
	if (l == NULL || !l->bound)
		return;
	garp(l, ext);
	/* The NAT may have had no address to ask for its upstream from. */
	vpc_natgw_arp_kick(ng);
}

void
vpc_natgw_link_up(struct vpc_natgw *ng)
{
	const struct vpc_nat_cfg *c = vpc_load(ng->eng)->cfg;   /* ctl: stable */
	struct vpc_link *l = ng->link;
	uint8_t ext[4];
	uint32_t i;

	VPC_ASSERT_CTL(ng->obj.sys);
	if (l == NULL || !l->bound)
		return;
	/* Its addresses may have lived elsewhere meanwhile (another node's
	 * NAT, before they moved here): say where they are now. */
	for (i = 0; i < c->neip; i++) {
		vpc_put32(ext, c->eip_ext[i].ext);
		garp(l, ext);
	}
	for (i = 0; i < c->npool; i++) {
		vpc_put32(ext, c->pool_ext[i]);
		garp(l, ext);
	}
	vpc_natgw_arp_reset(ng);        /* maybe another network: ask anew */
}
