/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_arp.c: ARP requests from a VM (RFC 826), answered by the switch from
 * its neighbour table, never flooded, never across the underlay.
 *
 * For addresses in the switch's IPv4 subnet the switch is the only ARP
 * responder (validation as illumos varpd's libvarpd_arp.c does it):
 *  - Ethernet/IPv4 ARP only (htype 1, ptype 0x0800, hlen 6, plen 4), whole,
 *    and a request or a reply;
 *  - the sender MAC must be the vmnic's (the frame's source was checked to
 *    be already) and the sender IP its address where NIC_SET_ADDR set one;
 *  - replies from VMs (announcements, answers to requests they never got)
 *    are dropped and counted: the directory says which MAC has an address,
 *    and a VM must not be able to poison its neighbours' caches;
 *  - gratuitous ARP (sender IP = target IP) is not answered;
 *  - a probe (sender IP 0.0.0.0, RFC 5227) is answered only when the target
 *    belongs to another MAC: that is the conflict the prober looks for;
 *  - a target that is no host's (0/8, loopback, multicast, broadcast, the
 *    subnet's broadcast address) is dropped;
 *  - the gateway's address is answered with the gateway's MAC, only to
 *    requesters inside the subnet;
 *  - anything else from the neighbour table: FOUND or LOCAL is answered, a
 *    NEGATIVE entry is not, a miss holds the request itself and raises an L3
 *    upcall; when the answer comes the request comes back here
 *    (in->reinjected) and is answered, or dropped if it misses again.
 * Every drop is counted.  Requests for addresses outside the subnet (or on
 * a switch without an IPv4 subnet) are not the switch's business: they go
 * on as before, broadcast to the local ports under the BUM policy.
 */
#include "vpc_l3.h"

#define ARP_LEN         28
#define ARP_FRAME_LEN   60      /* padded to Ethernet's minimum, FCS aside */
#define ARPOP_REQUEST   1
#define ARPOP_REPLY     2

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* An ARP frame: Ethernet dst, src, then the ARP message. */
struct vpc_pkt *
vpc_arp_build(const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6],
    const uint8_t spa[4], const uint8_t tha[6], const uint8_t tpa[4])
{
	struct vpc_pkt *p;
	uint8_t *b;
	void *data;

	if ((p = os_pkt_alloc(ARP_FRAME_LEN, &data)) == NULL)
		return (NULL);
	b = data;
	memset(b, 0, ARP_FRAME_LEN);
	memcpy(b, eth_dst, 6);
	memcpy(b + 6, sha, 6);
	vpc_put16(b + 12, ETHERTYPE_ARP);
	b += ETHER_HDR_LEN;
	vpc_put16(b, 1);
	vpc_put16(b + 2, ETHERTYPE_IP);
	b[4] = 6;
	b[5] = 4;
	vpc_put16(b + 6, op);
	memcpy(b + 8, sha, 6);
	memcpy(b + 14, spa, 4);
	memcpy(b + 18, tha, 6);
	memcpy(b + 24, tpa, 4);
	return (p);
}

/* The subnet's own addresses that are no host's: its network and broadcast. */
static bool
subnet_special(const struct vpc_subnet *s, const uint8_t a[4])
{
	uint32_t host, bits;

	if (s->plen >= 31)
		return (false);
	/* The host part as a mask (plen 0, no subnet: all of it), not bit by
	 * bit: a /8 took a third of an answered request's instructions. */
	host = 0xffffffffu >> s->plen;
	bits = ((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3]) & host;
	return (bits == 0 || bits == host);
}

static bool
reply(struct vpc_l3in *in, struct vpc_pkt *req, const uint8_t mac[6],
    const uint8_t spa[4], const uint8_t tpa[4])
{
	struct vpc_pkt *r;

	/* To the requester: from the answer's MAC, "tpa is at mac". */
	r = vpc_arp_build(in->f->src, ARPOP_REPLY, mac, tpa, in->f->src, spa);
	os_pkt_free(req);
	if (r == NULL) {
		sw_count(in->sw, VPC_SWSTAT_DROP_TX);
		return (true);
	}
	sw_count(in->sw, VPC_SWSTAT_ARP_REPLIES);
	vpc_l3_reply(in, r);
	return (true);
}

bool
vpc_arp_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	const struct vpc_swcfg *cfg = in->cfg;
	const vpc_nic_addr_t *own = &in->l3->addr;
	const struct vpc_nbr_ent *e;
	uint8_t a[ARP_LEN], tpa16[16];
	const uint8_t *sha, *spa, *tpa;
	uint16_t op;
	bool probe;

	VPC_ASSERT_EPOCH();
	if (!os_pkt_copyout(p, in->f->l2len, ARP_LEN, a) || vpc_get16(a) != 1 ||
	    vpc_get16(a + 2) != ETHERTYPE_IP || a[4] != 6 || a[5] != 4)
		return (vpc_l3_drop(in, VPC_SWSTAT_ARP_DROP_BAD, p));
	op = vpc_get16(a + 6);
	if (op != ARPOP_REQUEST && op != ARPOP_REPLY)
		return (vpc_l3_drop(in, VPC_SWSTAT_ARP_DROP_BAD, p));
	sha = a + 8;
	spa = a + 14;
	tpa = a + 24;
	if (!vpc_l3_in_subnet(&cfg->sub4, VPC_AF_INET, tpa))
		return (false);         /* not the switch's business: as before */

	/* From here on the switch is the subnet's only ARP responder. */
	if (memcmp(sha, in->f->src, 6) != 0 ||
	    ((own->flags & VPC_NIC_ADDR_INET) != 0 && !vpc_all_zero(spa, 4) &&
	    memcmp(spa, own->addr4, 4) != 0))
		return (vpc_l3_drop(in, VPC_SWSTAT_ARP_DROP_SPOOF, p));
	if (op == ARPOP_REPLY)
		return (vpc_l3_drop(in, VPC_SWSTAT_ARP_DROP_REPLY, p));
	if (memcmp(spa, tpa, 4) == 0)
		return (vpc_l3_drop(in, VPC_SWSTAT_ARP_GRATUITOUS, p));
	memset(tpa16, 0, sizeof(tpa16));
	memcpy(tpa16, tpa, 4);
	if (!vpc_nbr_addr_ok(VPC_AF_INET, tpa16) || subnet_special(&cfg->sub4, tpa))
		return (vpc_l3_drop(in, VPC_SWSTAT_ARP_DROP_TARGET, p));
	probe = vpc_all_zero(spa, 4);

	if (vpc_l3_is_gateway(cfg, VPC_AF_INET, tpa)) {
		/* A probe for it finds it taken: the gateway has it. */
		if (!probe && !vpc_l3_in_subnet(&cfg->sub4, VPC_AF_INET, spa))
			return (vpc_l3_drop(in, VPC_SWSTAT_GW_OUTSIDE, p));
		return (reply(in, p, cfg->gw.mac, spa, tpa));
	}
	e = vpc_nbr_lookup(in->sw, VPC_AF_INET, tpa16);
	if (e == NULL) {
		if (in->reinjected)
			return (vpc_l3_drop(in, VPC_SWSTAT_L3_REMISS, p));
		vpc_upcall_l3miss(in->sw, in->port, p, in->f, VPC_AF_INET, tpa16);
		return (true);
	}
	if (e->kind == VPC_NBR_NEGATIVE)
		return (vpc_l3_drop(in, VPC_SWSTAT_NBR_NEGATIVE, p));
	if (memcmp(e->mac, in->f->src, 6) == 0)        /* its own address */
		return (vpc_l3_drop(in, VPC_SWSTAT_ARP_PROBE_QUIET, p));
	vpc_nbr_mark_used(e);
	return (reply(in, p, e->mac, spa, tpa));
}

/*
 * (addr) moved to mac: a gratuitous ARP (a request, sender = target = addr,
 * from mac, to broadcast) to every local vmnic but the one that has mac, so
 * a VM that cached the old MAC takes the new one at once (Linux updates an
 * existing entry from a gratuitous ARP whatever its lock time).
 */
void
vpc_arp_announce(struct vpc_switch *sw, const uint8_t addr[4],
    const uint8_t mac[6])
{
	static const uint8_t zero[6];
	const struct vpc_portset *s = vpc_load(sw->flood);
	struct vpc_pkt *p;
	struct vpc_obj *peer;
	uint32_t i;

	VPC_ASSERT_EPOCH();
	for (i = 0; i < s->n; i++) {
		peer = vpc_load(s->p[i]->peer);
		if (peer == NULL || peer->type != VPC_TYPE_NIC || s->p[i]->obj.dead ||
		    __atomic_load_n(&obj2nic(peer)->mac64, __ATOMIC_RELAXED) ==
		    vpc_mac64(mac))
			continue;
		if ((p = vpc_arp_build(bcast, ARPOP_REQUEST, mac, addr, zero, addr)) == NULL) {
			sw_count(sw, VPC_SWSTAT_DROP_TX);
			continue;
		}
		sw_count(sw, VPC_SWSTAT_NBR_ANNOUNCED);
		vpc_sw_to_nic(sw, obj2nic(peer), p);
	}
}
