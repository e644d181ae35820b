/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_check.c: the invariant checker.  Walks the whole object graph and
 * checks what the rest of the core promises: reference counts equal what
 * holds them, handle counts add up, port tables, publication sets, the VNI
 * table, CAM bookkeeping and the upcall queue's accounting.  Run by the
 * fuzzers after every input, by vpc-hostd before every shutdown (so every
 * test that runs a daemon ends with it), and on demand (VPC_OP_SYS_CHECK).
 * The first failure is described in the caller's buffer.
 */
#include "vpc_impl.h"

/* ---- A message without printf ------------------------------------------- */

static void
put(struct vpc_check *c, const char *s)
{
	while (*s != '\0' && c->at + 1 < c->len)
		c->buf[c->at++] = *s++;
	if (c->len > 0)
		c->buf[c->at] = '\0';
}

static void
put_u64(struct vpc_check *c, uint64_t v)
{
	char d[21];
	int i = 20;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(c, &d[i]);
}

void
vpc_check_fail(struct vpc_check *c, const char *what, uint64_t got,
    uint64_t want)
{
	if (c->failed++ > 0)
		return;
	put(c, what);
	put(c, " (");
	put_u64(c, got);
	put(c, ", expected ");
	put_u64(c, want);
	put(c, ")");
}

#define EXPECT(c, cond, what) do {                                      \
	(c)->checked++;                                                 \
	if (!(cond))                                                    \
		vpc_check_fail((c), (what), 0, 1);                      \
} while (0)
#define EXPECT_EQ(c, got, want, what) do {                              \
	uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);           \
	(c)->checked++;                                                 \
	if (g_ != w_)                                                   \
		vpc_check_fail((c), (what), g_, w_);                    \
} while (0)

/* ---- Per type ---------------------------------------------------------- */

static bool
in_set(const struct vpc_portset *s, const struct vpc_port *p)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->p[i] == p)
			return (true);
	return (false);
}

static void
check_switch(struct vpc_sys *sys, struct vpc_switch *sw, struct vpc_check *c)
{
	uint32_t i, j, nflood = 0, nuplinks = 0, nrouters = 0;

	EXPECT(c, sw->nports <= sw->cap && sw->nports <= VPC_SW_MAX_PORTS,
	    "switch: port count within its table");
	EXPECT_EQ(c, sw->cfg->vni, sw->vni, "switch: published VNI");
	for (i = 0; i < sw->nports; i++) {
		struct vpc_port *p = sw->ports[i];

		EXPECT(c, p->sw == sw && !p->obj.dead, "port: on its switch, alive");
		EXPECT(c, p->obj.parent == &sw->obj && p->obj.owned, "port: owned by its switch");
		EXPECT(c, i == 0 || sw->ports[i - 1]->obj.serial < p->obj.serial,
		    "switch: ports in creation order");
		if (p->kind == VPC_PORT_UPLINK) {
			nuplinks++;
			EXPECT(c, sw->uplink == p, "switch: uplink pointer");
			EXPECT(c, p->peer == NULL || p->peer->type == VPC_TYPE_VCC,
			    "uplink: plugged into a vcc");
		} else {
			if (p->kind == VPC_PORT_ROUTER) {
				nrouters++;
				EXPECT(c, sw->router == p, "switch: router pointer");
			}
			EXPECT(c, p->peer == NULL || p->peer->type == VPC_TYPE_NIC ||
			    (p->kind == VPC_PORT_ROUTER && p->peer->type == VPC_TYPE_ROUTER),
			    "vmnic/router port: plugged into a vmnic (router port: or a router)");
		}
		if (p->peer != NULL && p->peer->type == VPC_TYPE_NIC) {
			struct vpc_nic *nic = obj2nic(p->peer);

			nflood++;
			EXPECT(c, nic->port == p, "vmnic: points back at its port");
			EXPECT(c, in_set(sw->flood, p), "switch: local port in the flood set");
			EXPECT(c, !nic->obj.owned || nic->obj.parent == &p->obj,
			    "owned vmnic: its parent is its port");
			for (j = 0; j < i; j++) {
				struct vpc_port *q = sw->ports[j];

				EXPECT(c, q->peer == NULL || q->peer->type != VPC_TYPE_NIC ||
				    vpc_mac_is_zero(nic->mac) ||
				    memcmp(obj2nic(q->peer)->mac, nic->mac, 6) != 0,
				    "switch: vmnic MACs unique");
			}
			if (!vpc_mac_is_zero(nic->mac)) {
				static const uint8_t any[6];
				const struct vpc_cam_ent *e;

				os_mtx_lock(sw->mtx);
				e = vpc_cam_find(sw, nic->mac, any);
				EXPECT(c, e != NULL && e->kind == VPC_CAM_LOCAL && e->port == p,
				    "CAM: a local entry for each vmnic's MAC");
				os_mtx_unlock(sw->mtx);
			}
		}
	}
	EXPECT(c, nuplinks <= 1 && nrouters <= 1, "switch: at most one uplink and one router");
	EXPECT(c, (sw->uplink != NULL) == (nuplinks == 1), "switch: uplink pointer set iff one exists");
	EXPECT(c, (sw->router != NULL) == (nrouters == 1), "switch: router pointer set iff one exists");
	EXPECT(c, sw->flood == &vpc_portset_empty || sw->flood->n == nflood,
	    "switch: flood set holds exactly the local ports");
	if (sw->vni != 0 && sw->vni != VPC_VNI_NONE)
		EXPECT(c, vpc_vnitab_lookup(sys, sw->vni) == sw, "VNI table: finds the switch");
	vpc_cam_check(sw, c);
	vpc_nbr_check(sw, c);
}

static void
check_router(struct vpc_sys *sys, struct vpc_router *rtr, struct vpc_check *c)
{
	const struct vpc_rtable *t = rtr->table;
	struct vpc_obj *o;
	uint32_t i, n = 0;

	EXPECT(c, rtr->natt <= VPC_RTR_MAX_ATTACH, "router: attachments within the cap");
	for (i = 0; i < rtr->natt; i++) {
		const struct vpc_rtr_att *a = &rtr->att[i];

		EXPECT(c, !a->sw->obj.dead && a->sw->router == a->port &&
		    a->port->peer == &rtr->obj, "router: attached through a switch's router port");
	}
	VPC_LIST_FOREACH(o, &sys->objs, link)
		if (o->type == VPC_TYPE_SWPORT && obj2port(o)->peer == &rtr->obj)
			n++;
	EXPECT_EQ(c, n, rtr->natt, "router: one port per attachment");
	EXPECT(c, rtr->ncustom <= rtr->capcustom && rtr->ncustom <= VPC_RTR_MAX_ROUTES,
	    "router: custom routes within their array");
	for (i = 1; i < rtr->ncustom; i++)
		EXPECT(c, rtr->custom[i - 1].serial < rtr->custom[i].serial,
		    "router: custom routes in serial order");
	vpc_rt_stage_check(rtr, c);
	EXPECT(c, t != NULL, "router: a published table");
	if (t == NULL)
		return;
	for (i = 1; i < t->n; i++)
		EXPECT(c, t->r[i - 1].serial < t->r[i].serial, "router: table in serial order");
	for (i = 0, n = 0; i < t->n; i++) {
		n += t->r[i].cls == VPC_RT_CUSTOM;
		EXPECT(c, t->r[i].sw == NULL || !t->r[i].sw->obj.dead,
		    "router: the table names live switches");
	}
	EXPECT_EQ(c, n, rtr->ncustom, "router: the table holds every custom route");
}

static void
check_vcc(struct vpc_sys *sys, struct vpc_vcc *vcc, struct vpc_check *c)
{
	struct vpc_obj *o;
	uint32_t n = 0;

	VPC_LIST_FOREACH(o, &sys->objs, link) {
		if (o->type != VPC_TYPE_SWPORT || obj2port(o)->peer != &vcc->obj)
			continue;
		n++;
		EXPECT(c, vcc->uplinks == &vpc_portset_empty || in_set(vcc->uplinks, obj2port(o)),
		    "vcc: its uplinks are in its set");
	}
	EXPECT_EQ(c, vcc->nuplinks, n, "vcc: uplink count");
	EXPECT(c, vcc->uplinks == &vpc_portset_empty || vcc->uplinks->n == n,
	    "vcc: uplink set size");
}

/*
 * Every reference must come from something that holds one: the registry,
 * each handle, each port on a switch, each port a vmnic or vcc is plugged
 * into.  Counted in one pass into a scratch field, then compared.
 */
static void
count_refs(struct vpc_sys *sys)
{
	struct vpc_obj *o;

	VPC_LIST_FOREACH(o, &sys->objs, link)
		o->check_refs = 1 + o->handles;
	VPC_LIST_FOREACH(o, &sys->objs, link) {
		if (o->type != VPC_TYPE_SWPORT)
			continue;
		if (obj2port(o)->sw != NULL)
			obj2port(o)->sw->obj.check_refs++;
		if (obj2port(o)->peer != NULL)
			obj2port(o)->peer->check_refs++;
	}
	VPC_LIST_FOREACH(o, &sys->objs, link) {
		if (o->type == VPC_TYPE_NAT && obj2natgw(o)->link != NULL)
			obj2natgw(o)->link->obj.check_refs++;   /* its link */
		if (o->type == VPC_TYPE_ROUTER && obj2rtr(o)->nat != NULL)
			obj2rtr(o)->nat->obj.check_refs++;      /* its NAT */
	}
	vpc_fw_count_refs(sys);         /* rules naming a switch */
}

static int
check_locked(struct vpc_sys *sys, char *why, size_t len)
{
	struct vpc_check c = { why, len, 0, 0, 0 };
	struct vpc_obj *o;
	uint64_t n = 0, handles = 0, by_type[VPC_TYPE_MAX + 1];
	unsigned t;

	if (len > 0)
		why[0] = '\0';
	memset(by_type, 0, sizeof(by_type));
	count_refs(sys);
	VPC_LIST_FOREACH(o, &sys->objs, link) {
		n++;
		handles += o->handles;
		by_type[o->type]++;
		EXPECT(&c, !o->dead, "registry: only live objects");
		EXPECT(&c, vpc_reg_lookup(sys, &o->id) == o, "registry: found by its id");
		EXPECT(&c, VPC_LIST_NEXT(o, link) == NULL ||
		    o->serial < VPC_LIST_NEXT(o, link)->serial,
		    "registry: creation order");
		EXPECT_EQ(&c, o->refs, o->check_refs, "object: reference count");
		switch (o->type) {
		case VPC_TYPE_SWITCH:
			check_switch(sys, obj2sw(o), &c);
			break;
		case VPC_TYPE_VCC:
			check_vcc(sys, obj2vcc(o), &c);
			break;
		case VPC_TYPE_ROUTER:
			check_router(sys, obj2rtr(o), &c);
			break;
		case VPC_TYPE_NIC:
			EXPECT(&c, obj2nic(o)->port == NULL ||
			    obj2nic(o)->port->peer == o, "vmnic: its port points at it");
			EXPECT_EQ(&c, obj2nic(o)->mac64, vpc_mac64(obj2nic(o)->mac),
			    "vmnic: the data path's copy of its MAC");
			EXPECT_EQ(&c, obj2nic(o)->mtu, obj2nic(o)->mtu_set != 0 ?
			    obj2nic(o)->mtu_set : vpc_nic_default_mtu(obj2nic(o)),
			    "vmnic: MTU as set, or the default for where it is");
			break;
		case VPC_TYPE_SWPORT:
			EXPECT(&c, obj2port(o)->sw != NULL, "port: has a switch");
			break;
		case VPC_TYPE_NAT:
			EXPECT(&c, obj2natgw(o)->link == NULL ||
			    obj2natgw(o)->link->nat == obj2natgw(o),
			    "nat: its link points back at it");
			EXPECT(&c, obj2natgw(o)->rtr == NULL ||
			    obj2natgw(o)->rtr->nat == obj2natgw(o),
			    "nat: its router points back at it");
			break;
		case VPC_TYPE_LINK:
			EXPECT(&c, obj2link(o)->nat == NULL ||
			    obj2link(o)->nat->link == obj2link(o),
			    "link: its NAT points back at it");
			EXPECT_EQ(&c, obj2link(o)->bound, obj2link(o)->ifname[0] != '\0',
			    "link: bound iff it has a name");
			break;
		}
	}
	EXPECT_EQ(&c, n, sys->nobjs, "registry: object count");
	/* Handles to destroyed objects stay open (EIDRM) until closed. */
	EXPECT(&c, sys->dead_handles <= sys->nhandles,
	    "handles: those on destroyed objects are among all");
	EXPECT_EQ(&c, handles, sys->nhandles - sys->dead_handles,
	    "handles: count on live objects");
	for (t = 0; t <= VPC_TYPE_MAX; t++)
		EXPECT_EQ(&c, by_type[t], sys->by_type[t], "registry: count by type");
	vpc_upq_check(sys, &c);
	vpc_fw_check(sys, &c);
	sys->last_checks = c.checked;
	return (c.failed == 0 ? 0 : VPC_ERR(VPC_EPROTO));
}

int
vpc_sys_check(struct vpc_sys *sys, char *why, size_t len)
{
	int error;

	os_sx_xlock(sys->ctl);
	error = check_locked(sys, why, len);
	os_sx_xunlock(sys->ctl);
	return (error);
}

int
vpc_op_sys_check(struct vpc_ctx *x)
{
	vpc_check_result_t res;

	memset(&res, 0, sizeof(res));
	res.result = check_locked(x->sys, res.why, sizeof(res.why));
	res.checks = x->sys->last_checks;
	memcpy(x->val, &res, sizeof(res));
	return (0);
}
