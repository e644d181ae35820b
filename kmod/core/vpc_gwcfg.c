/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_gwcfg.c: a switch's gateway and its broadcast/upcall policy.
 *
 * The gateway is what a guest sees of the network: the address it ARPs for
 * (or solicits) and routes through, the server of its DHCP lease, the
 * source of router advertisements.  Each family has one when the switch has
 * a subnet of that family: by default the subnet's first host address, or
 * an address the operator set (SW_SET_GATEWAY) inside the subnet.  One MAC
 * serves both: by default locally administered and derived from the
 * switch's id, so the same subnet's switch on every node (orchestration
 * gives it the same id) answers with the same MAC and a guest's neighbour
 * cache stays true when it moves.  Both are derived into the published
 * configuration (vpc_publish.c) whenever the subnets or settings change.
 */
#include "vpc_impl.h"

/* 02:76:xx:xx:xx:xx: locally administered, unicast, 'v' for vpc. */
static void
default_mac(const struct vpc_switch *sw, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x76;
	memcpy(mac + 2, sw->obj.id.bytes + 12, 4);
}

/* The subnet's first host address, if it has room for hosts at all. */
static bool
first_host(const struct vpc_subnet *s, unsigned alen, uint8_t *out)
{
	int i;

	if (s->plen == 0 || (unsigned)s->plen + 1 >= alen * 8)
		return (false);         /* none, or /31 /32 /127 /128: no gateway */
	memcpy(out, s->addr, alen);
	for (i = (int)alen - 1; i >= 0 && ++out[i] == 0; i--)
		;
	return (true);
}

void
vpc_gateway_derive(const struct vpc_switch *sw, const struct vpc_subnet *s4,
    const struct vpc_subnet *s6, struct vpc_gateway *gw)
{
	const vpc_sw_gateway_t *c = &sw->gw_conf;

	memset(gw, 0, sizeof(*gw));
	if ((c->flags & VPC_GW_MAC) != 0)
		memcpy(gw->mac, c->mac, 6);
	else
		default_mac(sw, gw->mac);
	gw->has4 = first_host(s4, 4, gw->addr4);
	if (gw->has4 && (c->flags & VPC_GW_ADDR4) != 0)
		memcpy(gw->addr4, c->addr4, 4);
	gw->has6 = first_host(s6, 16, gw->addr6);
	if (gw->has6 && (c->flags & VPC_GW_ADDR6) != 0)
		memcpy(gw->addr6, c->addr6, 16);
	/* RFC 4291 appendix A: fe80::/64 and the MAC's modified EUI-64. */
	gw->ll6[0] = 0xfe;
	gw->ll6[1] = 0x80;
	gw->ll6[8] = gw->mac[0] ^ 0x02;
	gw->ll6[9] = gw->mac[1];
	gw->ll6[10] = gw->mac[2];
	gw->ll6[11] = 0xff;
	gw->ll6[12] = 0xfe;
	gw->ll6[13] = gw->mac[3];
	gw->ll6[14] = gw->mac[4];
	gw->ll6[15] = gw->mac[5];
}

void
vpc_policy_derive(const vpc_sw_policy_t *conf, struct vpc_policy *p)
{
	p->bum = conf->bum;
	p->upcall_rate = conf->upcall_rate != 0 ? conf->upcall_rate :
	    VPC_UPCALL_RATE_DEFAULT;
	p->upcall_burst = conf->upcall_burst != 0 ? conf->upcall_burst :
	    p->upcall_rate;
	p->ra_interval_s = conf->ra_interval_s != 0 ? conf->ra_interval_s :
	    VPC_RA_INTERVAL_DEFAULT;
}

/* Inside the subnet, and neither its network nor (IPv4) broadcast address. */
static bool
gateway_addr_ok(const struct vpc_subnet *s, unsigned alen, const uint8_t *a)
{
	uint8_t b[16];
	unsigned i, host0 = 1, host1 = 1;

	if (s->plen == 0 || (unsigned)s->plen + 1 >= alen * 8)
		return (false);
	memset(b, 0, sizeof(b));
	memcpy(b, a, alen);
	if (!vpc_subnet_contains(s, b))
		return (false);
	for (i = s->plen; i < alen * 8; i++) {
		unsigned bit = (a[i / 8] >> (7 - i % 8)) & 1;

		host0 &= bit == 0;
		host1 &= bit == 1;
	}
	return (!host0 && !(alen == 4 && host1));
}

int
vpc_op_sw_set_gateway(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	vpc_sw_gateway_t req, old;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((error = vpc_gateway_check(sw, &req)) != 0)
		return (error);
	old = sw->gw_conf;
	req.txn = 0;
	sw->gw_conf = req;
	if (!vpc_swcfg_republish(sw)) {
		sw->gw_conf = old;
		return (VPC_ERR(VPC_ENOMEM));
	}
	vpc_obj_changed(x->obj, ((const vpc_sw_gateway_t *)x->key)->txn);
	x->vallen = 0;
	return (0);
}

/* Is req a gateway setting sw can take (SW_SET_GATEWAY, RTR_ATTACH)? */
int
vpc_gateway_check(const struct vpc_switch *sw, const vpc_sw_gateway_t *req_)
{
	const struct vpc_swcfg *cfg = sw->cfg;
	vpc_sw_gateway_t req = *req_;

	if ((req.flags & ~(uint32_t)(VPC_GW_ADDR4 | VPC_GW_ADDR6 | VPC_GW_MAC)) != 0 ||
	    req.has4 != 0 || req.has6 != 0 || !vpc_all_zero(req.ll6, 16) ||
	    !vpc_all_zero(req._pad0, sizeof(req._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	if ((req.flags & VPC_GW_ADDR4) != 0 ?
	    !gateway_addr_ok(&cfg->sub4, 4, req.addr4) : !vpc_all_zero(req.addr4, 4))
		return (VPC_ERR(VPC_EINVAL));
	if ((req.flags & VPC_GW_ADDR6) != 0 ?
	    !gateway_addr_ok(&cfg->sub6, 16, req.addr6) : !vpc_all_zero(req.addr6, 16))
		return (VPC_ERR(VPC_EINVAL));
	if ((req.flags & VPC_GW_MAC) != 0 ? vpc_mac_is_zero(req.mac) ||
	    vpc_mac_is_multicast(req.mac) : !vpc_mac_is_zero(req.mac))
		return (VPC_ERR(VPC_EINVAL));
	return (0);
}

int
vpc_op_sw_get_gateway(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	const struct vpc_gateway *gw = &sw->cfg->gw;
	vpc_sw_gateway_t out;

	memset(&out, 0, sizeof(out));
	out.flags = sw->gw_conf.flags;
	memcpy(out.mac, gw->mac, 6);
	out.has4 = gw->has4;
	out.has6 = gw->has6;
	memcpy(out.addr4, gw->addr4, 4);
	memcpy(out.addr6, gw->addr6, 16);
	memcpy(out.ll6, gw->ll6, 16);
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

/*
 * A subnet changed: an address set explicitly that no longer fits it goes
 * back to the default (SW_SET_SUBNET calls this before it republishes).
 */
void
vpc_gateway_subnet_changed(struct vpc_switch *sw, const struct vpc_subnet *s4,
    const struct vpc_subnet *s6)
{
	vpc_sw_gateway_t *c = &sw->gw_conf;

	VPC_ASSERT_CTL(sw->obj.sys);
	if ((c->flags & VPC_GW_ADDR4) != 0 && !gateway_addr_ok(s4, 4, c->addr4)) {
		c->flags &= ~(uint32_t)VPC_GW_ADDR4;
		memset(c->addr4, 0, 4);
	}
	if ((c->flags & VPC_GW_ADDR6) != 0 && !gateway_addr_ok(s6, 16, c->addr6)) {
		c->flags &= ~(uint32_t)VPC_GW_ADDR6;
		memset(c->addr6, 0, 16);
	}
}

#define UPCALL_RATE_MAX   1000000u
#define RA_INTERVAL_MIN   4u            /* RFC 4861 MinRtrAdvInterval floor */
#define RA_INTERVAL_MAX   1800u         /* RFC 4861 MaxRtrAdvInterval ceiling */

int
vpc_op_sw_set_policy(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	vpc_sw_policy_t req, old;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((req.bum != VPC_BUM_LOCAL && req.bum != VPC_BUM_DROP) ||
	    !vpc_all_zero(req._pad0, sizeof(req._pad0)) || req._pad1 != 0 ||
	    req.upcall_rate > UPCALL_RATE_MAX || req.upcall_burst > UPCALL_RATE_MAX ||
	    (req.ra_interval_s != 0 && req.ra_interval_s != VPC_RA_OFF &&
	    (req.ra_interval_s < RA_INTERVAL_MIN || req.ra_interval_s > RA_INTERVAL_MAX)))
		return (VPC_ERR(VPC_EINVAL));
	old = sw->policy_conf;
	req.txn = 0;
	sw->policy_conf = req;
	if (!vpc_swcfg_republish(sw)) {
		sw->policy_conf = old;
		return (VPC_ERR(VPC_ENOMEM));
	}
	vpc_obj_changed(x->obj, ((const vpc_sw_policy_t *)x->key)->txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_sw_get_policy(struct vpc_ctx *x)
{
	const struct vpc_policy *p = &obj2sw(x->obj)->cfg->policy;
	vpc_sw_policy_t out;

	memset(&out, 0, sizeof(out));
	out.bum = p->bum;
	out.upcall_rate = p->upcall_rate;
	out.upcall_burst = p->upcall_burst;
	out.ra_interval_s = p->ra_interval_s;
	memcpy(x->val, &out, sizeof(out));
	return (0);
}
