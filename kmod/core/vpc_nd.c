/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nd.c: neighbour solicitations and advertisements from a VM (RFC
 * 4861), answered by the switch from its neighbour table as ARP is
 * (vpc_arp.c): never flooded, never across the underlay.
 *
 * For targets in the switch's IPv6 subnet, and the gateway's addresses
 * (its global one and its link-local), the switch is the only responder:
 *  - hop limit 255, code 0, at least the 24 bytes of an NS/NA, not a
 *    fragment, a right ICMPv6 checksum; options walked whole, an option of
 *    length 0 drops the packet (RFC 4861 7.1.1);
 *  - the target must be a host's: not multicast, loopback, v4-mapped or
 *    unspecified;
 *  - an NS carries a source link-layer option naming the vmnic's MAC,
 *    except duplicate address detection (source ::), which must carry none
 *    and goes to the target's solicited-node group;  a multicast NS goes to
 *    the target's solicited-node group, a unicast one (NUD) to the target;
 *  - advertisements from VMs are dropped and counted (the directory says
 *    which MAC has an address);
 *  - DAD is answered only when the target belongs to another MAC (to the
 *    all-nodes group, S clear, RFC 4861 7.2.4);
 *  - the gateway answers for itself (R set) to requesters in the subnet or
 *    on the link (link-local sources);
 *  - anything else from the neighbour table, a miss holding the NS and
 *    raising an L3 upcall, as for ARP.
 * The answer is a solicited NA: from the target, S and O set, with the
 * target link-layer option.  Other targets (other VMs' link-local
 * addresses) are not the switch's business: they go on under the BUM policy.
 */
#include "vpc_l3.h"

#define ND_HDR_LEN      24      /* type, code, checksum, flags, target */
#define ND_OPT_SLLA     1
#define ND_OPT_TLLA     2
#define NA_FLAG_R       0x80
#define NA_FLAG_S       0x40
#define NA_FLAG_O       0x20
#define NA_LEN          (ND_HDR_LEN + 8)
#define NA_FRAME_LEN    (ETHER_HDR_LEN + VPC_IPV6_HDR_LEN + NA_LEN)

static const uint8_t all_nodes[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };

static bool
target_ok(const uint8_t t[16])
{
	return (vpc_nbr_addr_ok(VPC_AF_INET6, t));
}

static bool
is_link_local(const uint8_t a[16])
{
	return (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

/* ff02::1:ffXX:XXXX for the target's last three bytes. */
static bool
is_solicited_node(const uint8_t d[16], const uint8_t t[16])
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };

	return (memcmp(d, pfx, 13) == 0 && memcmp(d + 13, t + 13, 3) == 0);
}

/* An NA frame: Ethernet, IPv6 (hop limit 255), ICMPv6 136 with the TLLA option. */
static struct vpc_pkt *
na_build(const uint8_t eth_dst[6], const uint8_t mac[6], const uint8_t src[16],
    const uint8_t dst[16], const uint8_t target[16], uint8_t flags)
{
	struct vpc_pkt *p;
	uint8_t *b, *ip, *icmp, pseudo[8];
	uint32_t sum;
	void *data;

	if ((p = os_pkt_alloc(NA_FRAME_LEN, &data)) == NULL)
		return (NULL);
	b = data;
	memset(b, 0, NA_FRAME_LEN);
	memcpy(b, eth_dst, 6);
	memcpy(b + 6, mac, 6);
	vpc_put16(b + 12, ETHERTYPE_IPV6);
	ip = b + ETHER_HDR_LEN;
	ip[0] = 0x60;
	vpc_put16(ip + 4, NA_LEN);
	ip[6] = VPC_IPPROTO_ICMPV6;
	ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	icmp = ip + VPC_IPV6_HDR_LEN;
	icmp[0] = VPC_ND_NEIGHBOR_ADVERT;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	icmp[24] = ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);
	sum = vpc_cksum_add(vpc_cksum_add(0, src, 16), dst, 16);
	vpc_put32(pseudo, NA_LEN);
	vpc_put32(pseudo + 4, VPC_IPPROTO_ICMPV6);
	sum = vpc_cksum_add(sum, pseudo, sizeof(pseudo));
	sum = vpc_cksum_add(sum, icmp, NA_LEN);
	vpc_put16(icmp + 2, vpc_cksum_finish(sum));
	return (p);
}

static bool
advertise(struct vpc_l3in *in, struct vpc_pkt *ns, const uint8_t mac[6],
    const uint8_t target[16], bool dad, bool router)
{
	struct vpc_pkt *r;
	uint8_t flags = NA_FLAG_O | (router ? NA_FLAG_R : 0) | (dad ? 0 : NA_FLAG_S);

	/* A DAD probe has no address to answer to: all-nodes (7.2.4). */
	r = na_build(dad ? all_nodes_mac : in->f->src, mac, target,
	    dad ? all_nodes : in->ip.src, target, flags);
	os_pkt_free(ns);
	if (r == NULL) {
		sw_count(in->sw, VPC_SWSTAT_DROP_TX);
		return (true);
	}
	sw_count(in->sw, VPC_SWSTAT_NA_REPLIES);
	vpc_l3_reply(in, r);
	return (true);
}

/*
 * Walk the options: every one whole and of nonzero length.  *slla: the
 * source link-layer address option's MAC, if there is one (then it must
 * be exactly one 8-byte unit).  False: malformed.
 */
static bool
walk_options(const struct vpc_pkt *p, uint32_t off, uint32_t end,
    uint8_t slla[6], bool *has_slla)
{
	uint8_t o[8];
	uint32_t len;

	*has_slla = false;
	while (off < end) {
		if (end - off < 8 || !os_pkt_copyout(p, off, 8, o) || o[1] == 0)
			return (false);
		len = (uint32_t)o[1] * 8;
		if (len > end - off)
			return (false);
		if (o[0] == ND_OPT_SLLA) {
			if (o[1] != 1 || *has_slla)
				return (false);
			memcpy(slla, o + 2, 6);
			*has_slla = true;
		}
		off += len;
	}
	return (true);
}

bool
vpc_nd_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	const struct vpc_swcfg *cfg = in->cfg;
	const struct vpc_ipinfo *ip = &in->ip;
	const struct vpc_nbr_ent *e;
	uint8_t h[ND_HDR_LEN], hlim, slla[6];
	const uint8_t *target = h + 8;
	uint32_t len = ip->l3off + ip->l3len - ip->l4off;
	bool gw, dad, has_slla;

	VPC_ASSERT_EPOCH();
	if (cfg->sub6.plen == 0)
		return (false);         /* no IPv6 subnet: nothing to answer for */
	if (len < ND_HDR_LEN || ip->later_frag ||
	    !os_pkt_copyout(p, ip->l4off, ND_HDR_LEN, h))
		return (vpc_l3_drop(in, VPC_SWSTAT_ND_DROP_BAD, p));
	if (!target_ok(target))
		return (vpc_l3_drop(in, VPC_SWSTAT_ND_DROP_TARGET, p));
	gw = vpc_l3_is_gateway(cfg, VPC_AF_INET6, target);
	if (!gw && !vpc_l3_in_subnet(&cfg->sub6, VPC_AF_INET6, target))
		return (false);         /* another VM's link-local: as before */

	/* From here on the switch is the only responder for this target. */
	if (!os_pkt_copyout(p, ip->l3off + 7, 1, &hlim) || hlim != 255 ||
	    h[1] != 0 || !vpc_l4_cksum_ok(p, ip) ||
	    !walk_options(p, ip->l4off + ND_HDR_LEN, ip->l4off + len, slla, &has_slla))
		return (vpc_l3_drop(in, VPC_SWSTAT_ND_DROP_BAD, p));
	if (h[0] == VPC_ND_NEIGHBOR_ADVERT)
		return (vpc_l3_drop(in, VPC_SWSTAT_ND_DROP_NA, p));
	dad = vpc_all_zero(ip->src, 16);
	if (dad ? has_slla || !is_solicited_node(ip->dst, target) :
	    !has_slla || (ip->dst[0] == 0xff ? !is_solicited_node(ip->dst, target) :
	    memcmp(ip->dst, target, 16) != 0))
		return (vpc_l3_drop(in, VPC_SWSTAT_ND_DROP_BAD, p));
	if (has_slla && memcmp(slla, in->f->src, 6) != 0)
		return (vpc_l3_drop(in, VPC_SWSTAT_ND_DROP_SPOOF, p));

	if (gw) {
		if (!dad && !is_link_local(ip->src) &&
		    !vpc_l3_in_subnet(&cfg->sub6, VPC_AF_INET6, ip->src))
			return (vpc_l3_drop(in, VPC_SWSTAT_GW_OUTSIDE, p));
		return (advertise(in, p, cfg->gw.mac, target, dad, true));
	}
	e = vpc_nbr_lookup(in->sw, VPC_AF_INET6, target);
	if (e == NULL) {
		if (in->reinjected)
			return (vpc_l3_drop(in, VPC_SWSTAT_L3_REMISS, p));
		vpc_upcall_l3miss(in->sw, in->port, p, in->f, VPC_AF_INET6, target);
		return (true);
	}
	if (e->kind == VPC_NBR_NEGATIVE)
		return (vpc_l3_drop(in, VPC_SWSTAT_NBR_NEGATIVE, p));
	if (memcmp(e->mac, in->f->src, 6) == 0)        /* its own address */
		return (vpc_l3_drop(in, VPC_SWSTAT_ND_DAD_QUIET, p));
	vpc_nbr_mark_used(e);
	return (advertise(in, p, e->mac, target, dad, false));
}

/*
 * (addr) moved to mac: an unsolicited NA (O set, S clear, to all-nodes)
 * to every local vmnic but the one that has mac (RFC 4861 7.2.6).
 */
void
vpc_nd_announce(struct vpc_switch *sw, const uint8_t addr[16],
    const uint8_t mac[6])
{
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
		if ((p = na_build(all_nodes_mac, mac, addr, all_nodes, addr,
		    NA_FLAG_O)) == NULL) {
			sw_count(sw, VPC_SWSTAT_DROP_TX);
			continue;
		}
		sw_count(sw, VPC_SWSTAT_NBR_ANNOUNCED);
		vpc_sw_to_nic(sw, obj2nic(peer), p);
	}
}
