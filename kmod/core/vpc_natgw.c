/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_natgw.c: vpcnat, the object around the NAT engine (vpc_nat.h;
 * docs/nat.md): its lifetime, its configuration, its link, its counters.
 * The address ops are in vpc_natgw_ops.c, the data path in
 * vpc_natgw_path.c.
 *
 * References: a router with the NAT attached holds one on it (and DESTROY
 * of an attached NAT is EBUSY); the NAT holds one on its link (DESTROY of
 * a link in use is EBUSY).  Either side's kill undoes the link first.
 */
#include "vpc_nat_impl.h"

_Static_assert(VPC_NATSTAT_OUT_EIP == VPC_NATC_OUT_EIP &&
    VPC_NATSTAT_DROP_BAD == VPC_NATC_DROP_BAD &&
    VPC_NATSTAT_DROP_NO_LINK == VPC_NATC_COUNT &&
    VPC_NATSTAT_IN_NOTMINE == VPC_NATC_IN_NOTMINE &&
    VPC_NATSTAT_DROP_NOCFG == VPC_NATC_DROP_NOCFG &&
    VPC_NAT_MAX_FLOWS == VPC_NAT_FLOWS_MAX &&
    VPC_NAT_PROTO_TCP == VPC_NAT_TCP && VPC_NAT_PROTO_UDP == VPC_NAT_UDP &&
    VPC_NAT_PROTO_ICMP == VPC_NAT_ICMP,
    "vpc.h's NAT numbers follow the engine's");

/* ---- The engine's lifetime ---------------------------------------------------- */

struct engine_grave {
	struct os_defer  defer;
	struct vpc_nat  *n;
};

static void
engine_bury(struct os_defer *d)
{
	struct engine_grave *g = (struct engine_grave *)(void *)d;

	vpc_nat_destroy(g->n);
	vpc_free(g, sizeof(*g));
}

/*
 * An engine nobody will look up again: its sweeper stops now (control
 * context may wait for a running one), the rest goes after the epoch.
 * g was allocated beforehand, so this cannot fail.
 */
static void
engine_retire(struct vpc_nat *n, struct engine_grave *g)
{
	os_timer_drain(n->sweeper);
	g->n = n;
	os_epoch_defer(&g->defer, engine_bury);
}

static bool
engine_empty(const struct vpc_nat *n)
{
	return (n->cfg->neip == 0 && n->cfg->nbind == 0 && n->npools == 0);
}

/* ---- The object ------------------------------------------------------------------ */

static int
natgw_init(struct vpc_obj *o)
{
	struct vpc_natgw *ng = obj2natgw(o);
	int error;

	if ((error = vpc_counters_alloc(ng->ctr, VPC_NATSTAT_COUNT)) != 0)
		return (error);
	return (vpc_nat_create(0, &ng->eng));
}

/* ng lets go of its link (the NAT or the link is killed, or SET_LINK). */
void
vpc_natgw_link_gone(struct vpc_natgw *ng)
{
	struct vpc_link *l = ng->link;

	VPC_ASSERT_CTL(ng->obj.sys);
	if (l == NULL)
		return;
	vpc_store(l->nat, NULL);
	vpc_store(ng->link, NULL);
	if (!l->obj.dead)
		vpc_obj_changed(&l->obj, 0);
	vpc_obj_rele(&l->obj);
}

static void
natgw_kill(struct vpc_obj *o)
{
	struct vpc_natgw *ng = obj2natgw(o);

	VPC_ASSERT_CTL(o->sys);
	vpc_obj_ref(o);                 /* the router's release must not free it */
	if (ng->rtr != NULL)
		vpc_router_nat_gone(ng->rtr);
	vpc_natgw_link_gone(ng);
	os_timer_drain(ng->eng->sweeper);       /* fini frees it after the epoch */
	vpc_obj_rele(o);
}

static void
natgw_fini(struct vpc_obj *o)
{
	struct vpc_natgw *ng = obj2natgw(o);

	if (ng->eng != NULL)
		vpc_nat_destroy(ng->eng);
	vpc_counters_free(ng->ctr, VPC_NATSTAT_COUNT);
}

static bool
natgw_busy(const struct vpc_obj *o)
{
	return (((const struct vpc_natgw *)o)->rtr != NULL);
}

const struct vpc_objops vpc_natgw_ops = {
	.size = sizeof(struct vpc_natgw),
	.init = natgw_init,
	.kill = natgw_kill,
	.fini = natgw_fini,
	.busy = natgw_busy,
};

/* ---- Configuration ---------------------------------------------------------------- */

/* The upstream by address: a host's (not 0/8, 127/8, 224/3), and not
 * together with a MAC (which one would win is no one's guess to make). */
static bool
upstream_ip_ok(const vpc_nat_config_t *c)
{
	uint8_t top = c->upstream_ip[0];

	if (vpc_all_zero(c->upstream_ip, 4))
		return (true);
	return (top != 0 && top != 127 && top < 224 &&
	    vpc_all_zero(c->upstream_mac, 6));
}

int
vpc_op_nat_set_config(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	struct engine_grave *grave = NULL;
	struct vpc_nat_timeouts t;
	struct vpc_nat *fresh = NULL;
	vpc_nat_config_t req;
	uint32_t want;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!vpc_all_zero(req._pad0, sizeof(req._pad0)) || req.flows != 0 ||
	    req.max_flows > VPC_NAT_MAX_FLOWS ||
	    req.tcp_incipient_s > VPC_NAT_TIMEOUT_MAX_S ||
	    req.tcp_est_s > VPC_NAT_TIMEOUT_MAX_S ||
	    req.tcp_closing_s > VPC_NAT_TIMEOUT_MAX_S ||
	    req.udp_s > VPC_NAT_TIMEOUT_MAX_S || req.icmp_s > VPC_NAT_TIMEOUT_MAX_S ||
	    vpc_mac_is_multicast(req.upstream_mac) ||
	    !upstream_ip_ok(&req))
		return (VPC_ERR(VPC_EINVAL));
	want = req.max_flows != 0 ? req.max_flows : VPC_NAT_FLOWS_DEFAULT;
	if (want != ng->eng->max_flows) {
		/* A table of another size: a fresh engine, only while empty. */
		if (!engine_empty(ng->eng))
			return (VPC_ERR(VPC_EBUSY));
		if ((grave = vpc_alloc(sizeof(*grave), VPC_M_WAITOK | VPC_M_ZERO)) == NULL)
			return (VPC_ERR(VPC_ENOMEM));
		if ((error = vpc_nat_create(want, &fresh)) != 0) {
			vpc_free(grave, sizeof(*grave));
			return (error);
		}
	}
	t.tcp_incipient_s = req.tcp_incipient_s;
	t.tcp_est_s = req.tcp_est_s;
	t.tcp_closing_s = req.tcp_closing_s;
	t.udp_s = req.udp_s;
	t.icmp_s = req.icmp_s;
	/* Checked above: cannot fail. */
	(void)vpc_nat_set_timeouts(fresh != NULL ? fresh : ng->eng, &t);
	if (fresh != NULL) {
		struct vpc_nat *old = ng->eng;

		fresh->clock = old->clock;
		vpc_store(ng->eng, fresh);
		engine_retire(old, grave);
	}
	req.txn = 0;
	ng->conf = req;
	__atomic_store_n(&ng->upstream64, vpc_mac64(req.upstream_mac),
	    __ATOMIC_RELAXED);
	vpc_natgw_arp_set(ng, vpc_nat_get32(req.upstream_ip));
	vpc_obj_changed(x->obj, ((const vpc_nat_config_t *)x->key)->txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_nat_get_config(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	struct vpc_nat_timeouts t;
	vpc_nat_config_t out;

	memset(&out, 0, sizeof(out));
	vpc_nat_get_timeouts(ng->eng, &t);
	out.max_flows = ng->eng->max_flows;
	out.tcp_incipient_s = t.tcp_incipient_s;
	out.tcp_est_s = t.tcp_est_s;
	out.tcp_closing_s = t.tcp_closing_s;
	out.udp_s = t.udp_s;
	out.icmp_s = t.icmp_s;
	memcpy(out.upstream_mac, ng->conf.upstream_mac, 6);
	memcpy(out.upstream_ip, ng->conf.upstream_ip, 4);
	out.flows = vpc_nat_nflows(ng->eng);
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

/* ---- The link ---------------------------------------------------------------------- */

int
vpc_op_nat_set_link(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	vpc_nat_link_t req;
	struct vpc_link *l;
	struct vpc_obj *o;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!vpc_all_zero(req._pad0, sizeof(req._pad0)) ||
	    !vpc_id_is_nil(&req.router_id))
		return (VPC_ERR(VPC_EINVAL));
	x->vallen = 0;
	if (vpc_id_is_nil(&req.link_id)) {
		if (ng->link == NULL)
			return (0);
		vpc_natgw_link_gone(ng);
		vpc_obj_changed(x->obj, req.txn);
		return (0);
	}
	if ((o = vpc_reg_lookup(x->sys, &req.link_id)) == NULL || o->dead)
		return (VPC_ERR(VPC_ENOENT));
	if (o->type != VPC_TYPE_LINK)
		return (VPC_ERR(VPC_EINVAL));
	l = obj2link(o);
	if (l == ng->link)
		return (0);
	if (l->nat != NULL)
		return (VPC_ERR(VPC_EBUSY));
	vpc_natgw_link_gone(ng);
	vpc_obj_ref(o);
	vpc_store(ng->link, l);
	vpc_store(l->nat, ng);
	vpc_natgw_link_up(ng);          /* GARPs and the upstream on it */
	vpc_obj_changed(o, 0);
	vpc_obj_changed(x->obj, req.txn);
	return (0);
}

int
vpc_op_nat_get_link(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	vpc_nat_link_t out;

	memset(&out, 0, sizeof(out));
	if (ng->link != NULL)
		out.link_id = ng->link->obj.id;
	if (ng->rtr != NULL)
		out.router_id = ng->rtr->obj.id;
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

int
vpc_op_nat_get_stats(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	vpc_nat_stats_t st;
	unsigned i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < VPC_NATC_COUNT; i++)
		st.c[i] = vpc_nat_counter(ng->eng, i);
	for (i = VPC_NATGW_OWN_STAT0; i < VPC_NATSTAT_COUNT; i++)
		st.c[i] = os_counter_fetch(ng->ctr[i]);
	memcpy(x->val, &st, sizeof(st));
	return (0);
}
