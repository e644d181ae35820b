/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_ra.c: the gateway's router advertisements (RFC 4861 6.2), and RA
 * guard (RFC 6105) against a VM that poses as a router.
 *
 * A switch with an IPv6 subnet advertises itself as the subnet's router
 * from the gateway's link-local address (fe80:: + the gateway MAC's
 * EUI-64), hop limit 255, M and O clear (no DHCPv6), with:
 *   - the source link-layer address option: the gateway's MAC;
 *   - the MTU option: the MTU of the vmnic it goes to (each vmnic gets its
 *     own copy, so each its own MTU);
 *   - the prefix information option for the switch's subnet: on-link (L)
 *     and, for a /64, autonomous (A) so that SLAAC forms an address.  A
 *     prefix of another length is on-link only: SLAAC needs a 64-bit
 *     interface identifier (RFC 4862 5.5.3 (d)), such a VM needs its
 *     address configured statically.  And A is set for a vmnic only when
 *     its IPv6 address (NIC_SET_ADDR) is what SLAAC forms from its MAC
 *     (the prefix and the MAC's EUI-64): the directory knows a VM's
 *     addresses, and an address SLAAC made up beside them (a VM with
 *     another address, or none) could be neither resolved by its peers nor
 *     let through anti-spoofing.
 *
 * When:
 *   - a router solicitation from a vmnic is answered, to that vmnic only:
 *     unicast to the soliciting address, or to ff02::1 when it came from
 *     :: (RFC 4861 6.2.6); rate-limited per vmnic (a burst of 3, then one a
 *     second), what is over the rate is counted and not answered;
 *   - unsolicited, every policy.ra_interval_s seconds (SW_SET_POLICY; not
 *     at all with VPC_RA_OFF), to ff02::1 on every local vmnic port, from
 *     a timer of the switch's own; one second after the subnet, the
 *     gateway's MAC or the interval changed, so that VMs hear of it soon.
 * The router lifetime is 3 intervals (RFC 4861's AdvDefaultLifetime), or
 * the maximum, 9000 s, when there are no unsolicited RAs; the prefix's
 * lifetimes are RFC 4861's defaults, 30 days valid and 7 preferred.
 *
 * The timer has no mutex (os_timer_create with NULL): its callback runs
 * with no core lock held, enters the epoch as the data path does, reads
 * the published configuration and flood set, and sends.  switch_kill
 * drains it before the ports go.
 *
 * RA guard: a router advertisement or a redirect from a VM is dropped and
 * counted; it never reaches another VM.  A router solicitation is never
 * forwarded either: the switch is the only router a VM may know.
 */
#include "vpc_l3.h"

#define RA_LEN          64      /* header 16, SLLA 8, MTU 8, prefix 32 */
#define RS_HDR_LEN      8
#define RS_RATE         1       /* a second, per vmnic */
#define RS_BURST        3
#define RA_LIFETIME_MAX 9000
#define PREFIX_VALID    2592000u
#define PREFIX_PREFERRED 604800u
#define RA_SOON_NS      (1000ull * 1000 * 1000)
#define ND_OPT_SLLA     1
#define ND_OPT_PREFIX   3
#define ND_OPT_MTU      5

static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };

static uint16_t
router_lifetime(const struct vpc_policy *pol)
{
	uint32_t i = pol->ra_interval_s;

	if (i == VPC_RA_OFF || i >= RA_LIFETIME_MAX / 3)
		return (RA_LIFETIME_MAX);
	return ((uint16_t)(3 * i));
}

/* May this vmnic form its address by SLAAC from the switch's /64? */
static bool
slaac_for(const struct vpc_swcfg *cfg, const struct vpc_nic *nic)
{
	const vpc_nic_addr_t *a = &vpc_load(nic->l3)->addr;
	uint64_t m = __atomic_load_n(&nic->mac64, __ATOMIC_RELAXED);
	uint8_t eui[16], mac[6];
	int i;

	if (cfg->sub6.plen != 64 || (a->flags & VPC_NIC_ADDR_INET6) == 0)
		return (false);
	for (i = 5; i >= 0; i--, m >>= 8)
		mac[i] = (uint8_t)m;
	memcpy(eui, cfg->sub6.addr, 8);         /* RFC 4291 appendix A */
	eui[8] = mac[0] ^ 0x02;
	eui[9] = mac[1];
	eui[10] = mac[2];
	eui[11] = 0xff;
	eui[12] = 0xfe;
	eui[13] = mac[3];
	eui[14] = mac[4];
	eui[15] = mac[5];
	return (memcmp(a->addr6, eui, 16) == 0);
}

/* An advertisement for this vmnic, to dst (dmac); NULL without memory. */
static struct vpc_pkt *
ra_build(const struct vpc_swcfg *cfg, const struct vpc_nic *nic,
    const uint8_t dmac[6], const uint8_t dst[16])
{
	const struct vpc_subnet *s6 = &cfg->sub6;
	uint8_t *d, *ip, *ra, *o, pseudo[8];
	struct vpc_pkt *p;
	unsigned i;
	void *data;

	if ((p = os_pkt_alloc(ETHER_HDR_LEN + VPC_IPV6_HDR_LEN + RA_LEN, &data)) == NULL)
		return (NULL);
	d = data;
	memset(d, 0, ETHER_HDR_LEN + VPC_IPV6_HDR_LEN + RA_LEN);
	ip = d + ETHER_HDR_LEN;
	ra = ip + VPC_IPV6_HDR_LEN;
	memcpy(d, dmac, 6);
	memcpy(d + 6, cfg->gw.mac, 6);
	vpc_put16(d + 12, ETHERTYPE_IPV6);
	vpc_put32(ip, 0x60000000);
	vpc_put16(ip + 4, RA_LEN);
	ip[6] = VPC_IPPROTO_ICMPV6;
	ip[7] = 255;                            /* RFC 4861 6.1.2 */
	memcpy(ip + 8, cfg->gw.ll6, 16);
	memcpy(ip + 24, dst, 16);

	ra[0] = VPC_ND_ROUTER_ADVERT;
	ra[4] = 64;                             /* cur hop limit */
	ra[5] = 0;                              /* M, O clear */
	vpc_put16(ra + 6, router_lifetime(&cfg->policy));
	o = ra + 16;
	o[0] = ND_OPT_SLLA;
	o[1] = 1;
	memcpy(o + 2, cfg->gw.mac, 6);
	o += 8;
	o[0] = ND_OPT_MTU;
	o[1] = 1;
	vpc_put32(o + 4, __atomic_load_n(&nic->mtu, __ATOMIC_RELAXED));
	o += 8;
	o[0] = ND_OPT_PREFIX;
	o[1] = 4;
	o[2] = s6->plen;
	o[3] = slaac_for(cfg, nic) ? 0xc0 : 0x80;       /* L, and A for SLAAC */
	vpc_put32(o + 4, PREFIX_VALID);
	vpc_put32(o + 8, PREFIX_PREFERRED);
	for (i = 0; i < 16; i++) {              /* the prefix, host bits clear */
		unsigned bits = i * 8 >= s6->plen ? 0 :
		    s6->plen - i * 8 >= 8 ? 8 : s6->plen - i * 8;

		o[16 + i] = s6->addr[i] & (uint8_t)(0xff00 >> bits);
	}

	vpc_put32(pseudo, RA_LEN);
	vpc_put32(pseudo + 4, VPC_IPPROTO_ICMPV6);
	vpc_put16(ra + 2, vpc_cksum_finish(vpc_cksum_add(vpc_cksum_add(
	    vpc_cksum_add(0, ip + 8, 32), pseudo, sizeof(pseudo)), ra, RA_LEN)));
	return (p);
}

/*
 * RFC 4861 6.1.1: hop limit 255, code 0, at least 8 bytes, the checksum
 * right, every option of nonzero length and inside the message, and no
 * source link-layer option from the unspecified address.
 */
static bool
rs_valid(const struct vpc_l3in *in, const struct vpc_pkt *p)
{
	const struct vpc_ipinfo *ip = &in->ip;
	uint32_t len = ip->l3off + ip->l3len - ip->l4off, at;
	uint8_t hlim, opt[2];
	bool unspec = vpc_all_zero(ip->src, 16);

	if (!os_pkt_copyout(p, ip->l3off + 7, 1, &hlim) || hlim != 255 ||
	    ip->l4[1] != 0 || ip->later_frag || len < RS_HDR_LEN ||
	    !vpc_l4_cksum_ok(p, ip))
		return (false);
	for (at = RS_HDR_LEN; at < len; at += opt[1] * 8u) {
		if (len - at < 2 || !os_pkt_copyout(p, ip->l4off + at, 2, opt) ||
		    opt[1] == 0 || opt[1] * 8u > len - at)
			return (false);
		if (opt[0] == ND_OPT_SLLA && unspec)
			return (false);
	}
	return (true);
}

static bool
drop(struct vpc_switch *sw, unsigned why, struct vpc_pkt *p)
{
	sw_count(sw, why);
	os_pkt_free(p);
	return (true);
}

/* ICMPv6 router solicitation, advertisement or redirect from a vmnic. */
bool
vpc_ra_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	const struct vpc_ipinfo *ip = &in->ip;
	const uint8_t *dst, *dmac;
	struct vpc_pkt *ra;

	VPC_ASSERT_EPOCH();
	if (ip->l4[0] != VPC_ND_ROUTER_SOLICIT)
		return (drop(in->sw, VPC_SWSTAT_RA_GUARD, p));
	if (!rs_valid(in, p))
		return (drop(in->sw, VPC_SWSTAT_RS_MALFORMED, p));
	if (!in->cfg->gw.has6)
		return (drop(in->sw, VPC_SWSTAT_RS_NO_PREFIX, p));
	if (!vpc_ratelim_take(&in->nic->rs_rl, os_now_ns()))
		return (drop(in->sw, VPC_SWSTAT_RS_RATELIMITED, p));
	if (vpc_all_zero(ip->src, 16)) {
		dst = all_nodes;
		dmac = all_nodes_mac;
	} else {
		dst = ip->src;
		dmac = in->f->src;
	}
	if ((ra = ra_build(in->cfg, in->nic, dmac, dst)) == NULL) {
		sw_count(in->sw, VPC_SWSTAT_DROP_TX);
	} else {
		sw_count(in->sw, VPC_SWSTAT_RA_SENT);
		vpc_l3_reply(in, ra);
	}
	os_pkt_free(p);
	return (true);
}

void
vpc_ra_nic_init(struct vpc_nic *nic)
{
	vpc_ratelim_init(&nic->rs_rl, RS_RATE, RS_BURST, os_now_ns());
}

/* ---- Unsolicited advertisements ------------------------------------------ */

static struct vpc_nic *
port_vmnic(const struct vpc_port *p)
{
	struct vpc_obj *peer = vpc_load(p->peer);

	return (p->kind == VPC_PORT_VMNIC && peer != NULL &&
	    peer->type == VPC_TYPE_NIC && !p->obj.dead ? obj2nic(peer) : NULL);
}

/* The timer: no lock held; into the epoch, advertise, arm again. */
static void
ra_tick(void *arg)
{
	struct vpc_switch *sw = arg;
	const struct vpc_swcfg *cfg;
	const struct vpc_portset *s;
	struct vpc_nic *nic;
	struct vpc_pkt *ra;
	struct os_epoch et;
	uint32_t i, interval = 0;

	os_epoch_enter(&et);
	cfg = vpc_load(sw->cfg);
	if (cfg->gw.has6 && cfg->policy.ra_interval_s != VPC_RA_OFF) {
		interval = cfg->policy.ra_interval_s;
		s = vpc_load(sw->flood);
		for (i = 0; i < s->n; i++) {
			if ((nic = port_vmnic(s->p[i])) == NULL)
				continue;
			if ((ra = ra_build(cfg, nic, all_nodes_mac, all_nodes)) == NULL) {
				sw_count(sw, VPC_SWSTAT_DROP_TX);
				continue;
			}
			sw_count(sw, VPC_SWSTAT_RA_SENT);
			sw_count(sw, VPC_SWSTAT_RA_PERIODIC);
			vpc_sw_to_nic(sw, nic, ra);
		}
	}
	os_epoch_exit(&et);
	if (interval != 0)
		os_timer_arm(sw->ra_timer, (uint64_t)interval * 1000000000ull);
}

int
vpc_ra_timer_create(struct vpc_switch *sw)
{
	sw->ra_timer = os_timer_create(NULL, ra_tick, sw);
	return (sw->ra_timer == NULL ? VPC_ERR(VPC_ENOMEM) : 0);
}

/* Drains a running callback (which may have armed it again: not any more). */
void
vpc_ra_timer_destroy(struct vpc_switch *sw)
{
	os_timer_destroy(sw->ra_timer);
	sw->ra_timer = NULL;
}

/*
 * The switch's configuration was published anew: when what an RA says or
 * how often changed, advertise soon (RFC 4861 6.2.4) and go on from there.
 * With no IPv6 subnet or VPC_RA_OFF the timer is left alone: its next tick
 * sees that and does not arm again.
 */
void
vpc_ra_config_changed(struct vpc_switch *sw, const struct vpc_swcfg *old,
    const struct vpc_swcfg *cfg)
{
	VPC_ASSERT_CTL(sw->obj.sys);
	if (sw->ra_timer == NULL || !cfg->gw.has6 ||
	    cfg->policy.ra_interval_s == VPC_RA_OFF)
		return;
	if (old != NULL && old->gw.has6 &&
	    old->policy.ra_interval_s == cfg->policy.ra_interval_s &&
	    memcmp(old->gw.mac, cfg->gw.mac, 6) == 0 &&
	    old->sub6.plen == cfg->sub6.plen &&
	    memcmp(old->sub6.addr, cfg->sub6.addr, 16) == 0)
		return;
	os_timer_arm(sw->ra_timer, RA_SOON_NS);
}
