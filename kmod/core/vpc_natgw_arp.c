/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_natgw_arp.c: the NAT's upstream gateway given by IPv4 address
 * (NAT_SET_CONFIG upstream_ip), resolved by ARP on the NAT's link
 * (docs/nat.md "The upstream").
 *  - A request goes out of the link from the link's MAC with one of the
 *    NAT's external addresses as the sender (the first pool's, else the
 *    first EIP's: the upstream answers an address of its own subnet, and
 *    the node's own address on the interface is the node's business).  It
 *    is sent when the address is configured, when the link or an address
 *    appears, and when a translated frame finds the upstream unresolved or
 *    old: at most one a second (VPC_NATGW_ARP_RETRY_NS), whoever asks.
 *  - The upstream's reply to the link's MAC for a NAT address, or a
 *    request of its own for a NAT address, gives its MAC.  A learned MAC is
 *    good for VPC_NATGW_ARP_EXPIRE_NS; from VPC_NATGW_ARP_REFRESH_NS on,
 *    the frames that use it ask again, so a busy NAT whose upstream answers
 *    never goes unresolved.
 *  - While unresolved (never learned, or expired) translated frames are
 *    dropped and counted (DROP_UNRESOLVED), not held: a queue on the data
 *    path would buy little, TCP and ping retry anyway, and the request at
 *    configuration time resolves the upstream before the VMs send.
 * Time is the engine's clock (the tests drive a fake one).
 */
#include "vpc_nat_impl.h"

#define ARPOP_REQUEST   1
#define ARPOP_REPLY     2

static uint64_t
arp_now(struct vpc_natgw *ng)
{
	return (vpc_load(ng->eng)->clock() + 1);        /* 0 means never */
}

/* One of the NAT's external addresses to ask from; false: it has none. */
static bool
arp_sender(struct vpc_natgw *ng, uint8_t spa[4])
{
	const struct vpc_nat_cfg *c = vpc_load(vpc_load(ng->eng)->cfg);

	if (c->npool > 0)
		vpc_put32(spa, c->pool_ext[0]);
	else if (c->neip > 0)
		vpc_put32(spa, c->eip_ext[0].ext);
	else
		return (false);
	return (true);
}

static bool
arp_owns(struct vpc_natgw *ng, const uint8_t a[4])
{
	const struct vpc_nat_cfg *c = vpc_load(vpc_load(ng->eng)->cfg);
	uint32_t v = vpc_nat_get32(a);

	return (vpc_nat_eip_by_ext(c, v) != NULL || vpc_nat_is_pool(c, v));
}

/* Broadcast "who has ip? tell <a NAT address>" out of l.  Epoch. */
static void
arp_ask(struct vpc_natgw *ng, struct vpc_link *l, uint32_t ip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6];
	uint8_t mac[6], spa[4], tpa[4];
	struct vpc_pkt *p;

	if (!arp_sender(ng, spa))
		return;
	vpc_put32(tpa, ip);
	mac_from64(__atomic_load_n(&l->mac64, __ATOMIC_RELAXED), mac);
	if ((p = vpc_arp_build(bcast, ARPOP_REQUEST, mac, spa, zero, tpa)) == NULL)
		return;
	if (os_link_output(l, p) != 0) {
		os_counter_add(l->ctr[VPC_LINKSTAT_TX_ERRORS], 1);
		return;
	}
	os_counter_add(l->ctr[VPC_LINKSTAT_TX], 1);
	os_counter_add(ng->ctr[VPC_NATSTAT_ARP_REQUESTS], 1);
}

/* Is a request due (none yet, or the last one a second ago)?  One CPU wins
 * the slot, so concurrent frames send one request. */
static bool
arp_due(struct vpc_natgw *ng, uint64_t now)
{
	uint64_t last = __atomic_load_n(&ng->arp.asked_ns, __ATOMIC_RELAXED);

	if (last != 0 && now < last + VPC_NATGW_ARP_RETRY_NS)
		return (false);
	return (__atomic_compare_exchange_n(&ng->arp.asked_ns, &last, now, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

uint64_t
vpc_natgw_upstream(struct vpc_natgw *ng, struct vpc_link *l)
{
	uint64_t up = __atomic_load_n(&ng->upstream64, __ATOMIC_RELAXED);
	uint32_t ip = __atomic_load_n(&ng->arp.ip, __ATOMIC_RELAXED);
	uint64_t now, mac, learned;

	VPC_ASSERT_EPOCH();
	if (up != 0 || ip == 0)
		return (up);
	now = arp_now(ng);
	mac = __atomic_load_n(&ng->arp.mac64, __ATOMIC_ACQUIRE);
	learned = __atomic_load_n(&ng->arp.learned_ns, __ATOMIC_RELAXED);
	if (mac != 0 && now < learned + VPC_NATGW_ARP_EXPIRE_NS) {
		if (now >= learned + VPC_NATGW_ARP_REFRESH_NS && arp_due(ng, now))
			arp_ask(ng, l, ip);
		return (mac);
	}
	if (arp_due(ng, now))
		arp_ask(ng, l, ip);
	return (0);
}

bool
vpc_natgw_arp_input(struct vpc_natgw *ng, struct vpc_link *l,
    const uint8_t a[28])
{
	uint32_t ip = __atomic_load_n(&ng->arp.ip, __ATOMIC_RELAXED);
	uint16_t op = vpc_get16(a + 6);
	uint8_t mac[6];

	VPC_ASSERT_EPOCH();
	/* From the upstream's address, about one of ours, from a unicast MAC. */
	if (ip == 0 || vpc_nat_get32(a + 14) != ip || (a[8] & 1) != 0 ||
	    vpc_mac64(a + 8) == 0 || !arp_owns(ng, a + 24))
		return (false);
	if (op == ARPOP_REPLY) {
		mac_from64(__atomic_load_n(&l->mac64, __ATOMIC_RELAXED), mac);
		if (memcmp(a + 18, mac, 6) != 0)
			return (false);
	} else if (op != ARPOP_REQUEST)
		return (false);
	__atomic_store_n(&ng->arp.learned_ns, arp_now(ng), __ATOMIC_RELAXED);
	__atomic_store_n(&ng->arp.mac64, vpc_mac64(a + 8), __ATOMIC_RELEASE);
	/* The upstream was changed meanwhile: what was learned is not its. */
	if (__atomic_load_n(&ng->arp.ip, __ATOMIC_ACQUIRE) != ip)
		__atomic_store_n(&ng->arp.mac64, 0, __ATOMIC_RELAXED);
	os_counter_add(ng->ctr[VPC_NATSTAT_ARP_LEARNED], 1);
	return (op == ARPOP_REPLY);
}

/* Ask now if the upstream is by address, unresolved, and the link bound. */
void
vpc_natgw_arp_kick(struct vpc_natgw *ng)
{
	struct vpc_link *l = ng->link;
	struct os_epoch et;
	uint32_t ip = ng->arp.ip;

	VPC_ASSERT_CTL(ng->obj.sys);
	if (ip == 0 || l == NULL || !l->bound ||
	    __atomic_load_n(&ng->arp.mac64, __ATOMIC_RELAXED) != 0)
		return;
	os_epoch_enter(&et);
	__atomic_store_n(&ng->arp.asked_ns, arp_now(ng), __ATOMIC_RELAXED);
	arp_ask(ng, l, ip);
	os_epoch_exit(&et);
}

void
vpc_natgw_arp_reset(struct vpc_natgw *ng)
{
	VPC_ASSERT_CTL(ng->obj.sys);
	__atomic_store_n(&ng->arp.mac64, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ng->arp.learned_ns, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ng->arp.asked_ns, 0, __ATOMIC_RELAXED);
	vpc_natgw_arp_kick(ng);
}

void
vpc_natgw_arp_set(struct vpc_natgw *ng, uint32_t ip)
{
	VPC_ASSERT_CTL(ng->obj.sys);
	if (ip == ng->arp.ip)
		return;         /* the same upstream: what was learned holds */
	__atomic_store_n(&ng->arp.ip, ip, __ATOMIC_RELEASE);
	vpc_natgw_arp_reset(ng);
}

/* Milliseconds from then (the engine's clock + 1; 0: never) to now, at
 * least 1 so that 0 keeps meaning never; saturated at UINT32_MAX. */
static uint32_t
ms_since(uint64_t then, uint64_t now)
{
	uint64_t ms;

	if (then == 0)
		return (0);
	ms = now > then ? (now - then) / 1000000u : 0;
	return (ms == 0 ? 1 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
}

/* NAT_GET_UPSTREAM: what vpc_natgw_upstream() would use now, without
 * asking (a read changes nothing, not even when the next request is due). */
int
vpc_op_nat_get_upstream(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	uint64_t up = __atomic_load_n(&ng->upstream64, __ATOMIC_RELAXED);
	uint64_t now = arp_now(ng), mac, learned;
	vpc_nat_upstream_t out;

	VPC_ASSERT_CTL(ng->obj.sys);
	memset(&out, 0, sizeof(out));
	vpc_put32(out.ip, ng->arp.ip);
	if (up != 0) {
		out.state = VPC_NAT_UPSTREAM_BY_MAC;
		mac_from64(up, out.mac);
	} else if (ng->arp.ip == 0) {
		out.state = VPC_NAT_UPSTREAM_NONE;
	} else {
		mac = __atomic_load_n(&ng->arp.mac64, __ATOMIC_ACQUIRE);
		learned = __atomic_load_n(&ng->arp.learned_ns, __ATOMIC_RELAXED);
		if (mac != 0 && now < learned + VPC_NATGW_ARP_EXPIRE_NS) {
			out.state = now >= learned + VPC_NATGW_ARP_REFRESH_NS ?
			    VPC_NAT_UPSTREAM_REFRESHING : VPC_NAT_UPSTREAM_RESOLVED;
			mac_from64(mac, out.mac);
			out.learned_ms = ms_since(learned, now);
		} else {
			out.state = VPC_NAT_UPSTREAM_UNRESOLVED;
		}
		out.asked_ms = ms_since(
		    __atomic_load_n(&ng->arp.asked_ns, __ATOMIC_RELAXED), now);
	}
	memcpy(x->val, &out, sizeof(out));
	return (0);
}
