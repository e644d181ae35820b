/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_switch.c: the vpcsw and its own ops.
 *
 * A switch carries one VNI (unset until SW_SET_VNI or the first port that
 * names one), IPv4/IPv6 subnets, a table of ports in creation order
 * (vpc_port.c), a CAM (vpc_cam.c) and counters.  What the data path reads of
 * it is published whole (vpc_publish.c): a failed op leaves the switch
 * exactly as it was.
 */
#include "vpc_impl.h"

#define SWEEP_NS (1000ull * 1000 * 1000)

/* ---- Lifetime ---------------------------------------------------------- */

static void
sweep_tick(void *arg)
{
	struct vpc_switch *sw = arg;

	uint64_t now = vpc_ttl_now();

	vpc_cam_sweep(sw, now);                 /* sw->mtx held by the timer */
	vpc_nbr_sweep(sw, now);
	os_timer_arm(sw->sweeper, SWEEP_NS);
}

static int
switch_init(struct vpc_obj *o)
{
	static const struct vpc_subnet none;
	struct vpc_switch *sw = obj2sw(o);
	struct vpc_swcfg *cfg;
	int error;

	sw->vni = VPC_VNI_NONE;
	sw->flood = &vpc_portset_empty;
	if ((sw->mtx = os_mtx_create("vpcsw")) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((error = vpc_counters_alloc(sw->ctr, VPC_SWSTAT_COUNT)) != 0)
		return (error);
	if ((error = vpc_cam_create(sw)) != 0)
		return (error);
	if ((error = vpc_nbr_create(sw)) != 0)
		return (error);
	if ((cfg = vpc_swcfg_prepare()) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	vpc_swcfg_publish(sw, cfg, VPC_VNI_NONE, &none, &none);
	vpc_ratelim_init(&sw->icmp_rl, VPC_ICMP_RATE, VPC_ICMP_BURST, os_now_ns());
	sw->sweeper = os_timer_create(sw->mtx, sweep_tick, sw);
	if (sw->sweeper == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	os_mtx_lock(sw->mtx);
	os_timer_arm(sw->sweeper, SWEEP_NS);
	os_mtx_unlock(sw->mtx);
	return (vpc_ra_timer_create(sw));
}

static void
switch_kill(struct vpc_obj *o)
{
	struct vpc_switch *sw = obj2sw(o);

	VPC_ASSERT_CTL(o->sys);
	os_timer_destroy(sw->sweeper);          /* drains a running sweep */
	sw->sweeper = NULL;
	vpc_ra_timer_destroy(sw);               /* and a running advertisement */
	while (sw->nports > 0)
		vpc_obj_kill(&sw->ports[sw->nports - 1]->obj);
	vpc_upcall_forget_switch(sw);
	if (sw->vni != 0 && sw->vni != VPC_VNI_NONE)
		vpc_vnitab_rebuild(o->sys);
}

/* After the epoch: nothing can reach the switch any more. */
static void
switch_fini(struct vpc_obj *o)
{
	struct vpc_switch *sw = obj2sw(o);

	if (sw->sweeper != NULL)                /* init failed half-way */
		os_timer_destroy(sw->sweeper);
	if (sw->ra_timer != NULL)
		vpc_ra_timer_destroy(sw);
	vpc_cam_destroy(sw);
	vpc_nbr_destroy(sw);
	vpc_counters_free(sw->ctr, VPC_SWSTAT_COUNT);
	if (sw->mtx != NULL)
		os_mtx_destroy(sw->mtx);
	vpc_free(sw->cfg, sizeof(*sw->cfg));
	vpc_portset_free_now(sw->flood);
	vpc_free(sw->ports, sw->cap * sizeof(*sw->ports));
}

const struct vpc_objops vpc_switch_ops = {
	.size = sizeof(struct vpc_switch),
	.init = switch_init,
	.kill = switch_kill,
	.fini = switch_fini,
};

/* ---- Helpers ----------------------------------------------------------- */

/* ---- Helpers ----------------------------------------------------------- */

/* MACs are unique among the vmnics of one switch: EEXIST otherwise. */
int
vpc_switch_check_mac(struct vpc_switch *sw, const struct vpc_nic *except,
    const uint8_t mac[6])
{
	uint32_t i;

	VPC_ASSERT_CTL(sw->obj.sys);
	for (i = 0; i < sw->nports; i++) {
		struct vpc_port *p = sw->ports[i];
		struct vpc_nic *nic;

		if (p->peer == NULL || p->peer->type != VPC_TYPE_NIC)
			continue;
		nic = obj2nic(p->peer);
		if (nic != except && memcmp(nic->mac, mac, 6) == 0)
			return (VPC_ERR(VPC_EEXIST));
	}
	return (0);
}

/* Nonzero VNIs pick the switch for frames from the underlay: unique. */
bool
vpc_vni_in_use(struct vpc_sys *sys, const struct vpc_switch *self, uint32_t vni)
{
	struct vpc_obj *o;

	VPC_ASSERT_CTL(sys);
	if (vni == 0)
		return (false);
	VPC_LIST_FOREACH(o, &sys->objs, link)
		if (o->type == VPC_TYPE_SWITCH && obj2sw(o) != self &&
		    obj2sw(o)->vni == vni)
			return (true);
	return (false);
}

/* ---- SW_GET_PORT_COUNT, SW_SET_VNI, SW_GET_VNI -------------------------- */

int
vpc_op_sw_get_port_count(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	vpc_switch_t out;

	memset(&out, 0, sizeof(out));
	out.num_ports = (int32_t)sw->nports;
	out.vpcpd = VPC_HANDLE_NONE;
	out.vni = sw->vni;
	out.has_uplink = sw->uplink != NULL;
	out.has_router = sw->router != NULL;
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

static bool
not_local(const struct vpc_cam_ent *e, void *arg)
{
	(void)arg;
	return (e->kind != VPC_CAM_LOCAL);
}

/* Neighbours the directory gave (not local vmnics'), of one family or all. */
static bool
nbr_learned(const struct vpc_nbr_ent *e, void *arg)
{
	const uint8_t *af = arg;

	return (e->kind != VPC_NBR_LOCAL && (*af == 0 || e->af == *af));
}

void
vpc_nbr_forget(struct vpc_switch *sw, uint8_t af)
{
	os_mtx_lock(sw->mtx);
	(void)vpc_nbr_remove_if(sw, nbr_learned, &af);
	os_mtx_unlock(sw->mtx);
}

int
vpc_op_sw_set_vni(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	struct vpc_swcfg *cfg;
	struct vpc_vnitab *vt;
	vpc_sw_vni_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (req.vni > VPC_VNI_MAX)
		return (VPC_ERR(VPC_EINVAL));
	x->vallen = 0;
	if (req.vni == sw->vni)
		return (0);
	if (vpc_vni_in_use(x->sys, sw, req.vni))
		return (VPC_ERR(VPC_EEXIST));
	if ((cfg = vpc_swcfg_prepare()) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((vt = vpc_vnitab_prepare(x->sys)) == NULL) {
		vpc_free(cfg, sizeof(*cfg));
		return (VPC_ERR(VPC_ENOMEM));
	}
	vpc_swcfg_publish(sw, cfg, req.vni, &sw->cfg->sub4, &sw->cfg->sub6);
	vpc_vnitab_publish(x->sys, vt);
	/* What was learned for the old VNI says nothing about the new one. */
	os_mtx_lock(sw->mtx);
	(void)vpc_cam_remove_if(sw, not_local, NULL);
	os_mtx_unlock(sw->mtx);
	vpc_nbr_forget(sw, 0);
	vpc_upcall_forget_switch(sw);
	vpc_obj_changed(x->obj, req.txn);
	vpc_switch_mtu_refresh(sw);     /* VNI 0 carries frames raw: no overhead */
	return (0);
}

int
vpc_op_sw_get_vni(struct vpc_ctx *x)
{
	vpc_sw_vni_t out;

	memset(&out, 0, sizeof(out));
	out.vni = obj2sw(x->obj)->vni;
	memcpy(x->val, &out, sizeof(out));
	return (0);
}
/* ---- SW_SET_SUBNET / SW_GET_SUBNET ------------------------------------------ */

static int
check_subnet(const vpc_sw_subnet_t *s)
{
	unsigned alen = s->af == VPC_AF_INET ? 4 : 16, i;

	if (s->af != VPC_AF_INET && s->af != VPC_AF_INET6)
		return (VPC_ERR(VPC_EAFNOSUPPORT));
	if (!vpc_all_zero(s->_pad0, sizeof(s->_pad0)) ||
	    !vpc_all_zero(s->addr + alen, 16 - alen) || s->prefixlen > alen * 8)
		return (VPC_ERR(VPC_EINVAL));
	for (i = 0; i < alen * 8; i++)          /* host bits must be zero */
		if (i >= s->prefixlen && (s->addr[i / 8] & (0x80 >> (i % 8))) != 0)
			return (VPC_ERR(VPC_EINVAL));
	return (0);
}

int
vpc_op_sw_set_subnet(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	struct vpc_subnet s4 = sw->cfg->sub4, s6 = sw->cfg->sub6, *dst;
	struct vpc_swcfg *cfg;
	vpc_sw_subnet_t req;
	bool changed;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((error = check_subnet(&req)) != 0)
		return (error);
	if ((cfg = vpc_swcfg_prepare()) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	dst = req.af == VPC_AF_INET ? &s4 : &s6;
	changed = dst->plen != req.prefixlen || memcmp(dst->addr, req.addr, 16) != 0;
	dst->plen = req.prefixlen;
	memcpy(dst->addr, req.addr, 16);
	vpc_gateway_subnet_changed(sw, &s4, &s6);
	vpc_swcfg_publish(sw, cfg, sw->vni, &s4, &s6);
	if (changed) {
		vpc_nbr_forget(sw, req.af);     /* answers for the old subnet */
		vpc_router_switch_changed(sw);  /* its connected routes */
	}
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_sw_get_subnet(struct vpc_ctx *x)
{
	const struct vpc_swcfg *c = obj2sw(x->obj)->cfg;
	vpc_sw_subnet_t req, out;
	const struct vpc_subnet *s;

	memcpy(&req, x->key, sizeof(req));
	if (req.af != VPC_AF_INET && req.af != VPC_AF_INET6)
		return (VPC_ERR(VPC_EAFNOSUPPORT));
	s = req.af == VPC_AF_INET ? &c->sub4 : &c->sub6;
	memset(&out, 0, sizeof(out));
	out.af = req.af;
	out.prefixlen = s->plen;
	memcpy(out.addr, s->addr, 16);
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

/* Is addr inside the subnet?  A switch without a subnet contains everything. */
bool
vpc_subnet_contains(const struct vpc_subnet *s, const uint8_t *addr)
{
	unsigned full = s->plen / 8, rest = s->plen % 8;

	if (s->plen == 0)
		return (true);
	if (memcmp(s->addr, addr, full) != 0)
		return (false);
	return (rest == 0 ||
	    ((s->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0);
}

int
vpc_op_sw_get_stats(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	vpc_sw_stats_t st;
	unsigned i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < VPC_SWSTAT_COUNT; i++)
		st.c[i] = os_counter_fetch(sw->ctr[i]);
	memcpy(x->val, &st, sizeof(st));
	return (0);
}
