/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_publish.c: what the data path reads of the switches, published as
 * immutable snapshots that control code replaces whole: a switch's
 * configuration (VNI, subnets), its flood set, and the VNI -> switch table
 * the underlay picks switches with.  Each is prepared (may sleep, may fail)
 * before the op changes anything, published with a release store, and the
 * old copy is freed after the epoch.
 */
#include "vpc_impl.h"

static void
swcfg_free(struct os_defer *d)
{
	vpc_free(d, sizeof(struct vpc_swcfg));
}

struct vpc_swcfg *
vpc_swcfg_prepare(void)
{
	return (vpc_alloc(sizeof(struct vpc_swcfg), VPC_M_WAITOK));
}

void
vpc_swcfg_publish(struct vpc_switch *sw, struct vpc_swcfg *c, uint32_t vni,
    const struct vpc_subnet *s4, const struct vpc_subnet *s6)
{
	struct vpc_swcfg *old = sw->cfg;

	VPC_ASSERT_CTL(sw->obj.sys);
	c->vni = vni;
	/* Flags (I), reserved, the VNI, reserved: what send_remote prepends. */
	memset(c->vxhdr, 0, sizeof(c->vxhdr));
	c->vxhdr[0] = VXLAN_FLAG_I;
	c->vxhdr[4] = (uint8_t)(vni >> 16);
	c->vxhdr[5] = (uint8_t)(vni >> 8);
	c->vxhdr[6] = (uint8_t)vni;
	c->sub4 = *s4;
	c->sub6 = *s6;
	vpc_gateway_derive(sw, s4, s6, &c->gw);
	vpc_policy_derive(&sw->policy_conf, &c->policy);
	vpc_store(sw->cfg, c);
	sw->vni = vni;
	vpc_ra_config_changed(sw, old, c);
	if (old != NULL)
		os_epoch_defer(&old->defer, swcfg_free);
}

/* ---- The flood set: local ports that lead to a vmnic ------------------- */

static bool
floods(const struct vpc_port *p)
{
	return (!p->obj.dead && p->kind != VPC_PORT_UPLINK && p->peer != NULL &&
	    p->peer->type == VPC_TYPE_NIC);
}

struct vpc_portset *
vpc_flood_prepare(struct vpc_switch *sw, uint32_t extra)
{
	uint32_t i, n = extra;

	VPC_ASSERT_CTL(sw->obj.sys);
	for (i = 0; i < sw->nports; i++)
		n += floods(sw->ports[i]);
	return (vpc_portset_new(n));
}

void
vpc_flood_publish(struct vpc_switch *sw, struct vpc_portset *s)
{
	struct vpc_portset *old = sw->flood;
	uint32_t i;

	VPC_ASSERT_CTL(sw->obj.sys);
	s->n = 0;
	for (i = 0; i < sw->nports && s->n < s->cap; i++)
		if (floods(sw->ports[i]))
			s->p[s->n++] = sw->ports[i];
	vpc_store(sw->flood, s);
	vpc_portset_retire(old);
}

/* After a removal, which must not fail: without memory, flood to nobody
 * until the next change rather than to a port that is gone. */
void
vpc_flood_rebuild(struct vpc_switch *sw)
{
	struct vpc_portset *s = vpc_flood_prepare(sw, 0);

	VPC_ASSERT_CTL(sw->obj.sys);
	if (s == NULL) {
		struct vpc_portset *old = sw->flood;

		vpc_store(sw->flood, &vpc_portset_empty);
		vpc_portset_retire(old);
		return;
	}
	vpc_flood_publish(sw, s);
}

bool
vpc_swcfg_republish(struct vpc_switch *sw)
{
	struct vpc_swcfg *c = vpc_swcfg_prepare();

	if (c == NULL)
		return (false);
	vpc_swcfg_publish(sw, c, sw->vni, &sw->cfg->sub4, &sw->cfg->sub6);
	return (true);
}

/* ---- VNI -> switch ---------------------------------------------------------- */

static uint32_t
vni_slot(uint32_t vni)
{
	return (vni * 2654435761u);     /* VNIs are few and not adversarial */
}

static size_t
vnitab_size(uint32_t nslots)
{
	return (sizeof(struct vpc_vnitab) + nslots * sizeof(struct vpc_vnislot));
}

static void
vnitab_free(struct os_defer *d)
{
	struct vpc_vnitab *t = (struct vpc_vnitab *)d;

	vpc_free(t, vnitab_size(t->mask + 1));
}

/* Room for every switch there is, and one more (control lock held). */
struct vpc_vnitab *
vpc_vnitab_prepare(struct vpc_sys *sys)
{
	struct vpc_vnitab *t;
	uint32_t nslots = 16;
	uint64_t n = sys->by_type[VPC_TYPE_SWITCH] + 1;

	VPC_ASSERT_CTL(sys);
	while (nslots < n * 2)
		nslots *= 2;
	t = vpc_alloc(vnitab_size(nslots), VPC_M_WAITOK);
	if (t != NULL)
		t->mask = nslots - 1;
	return (t);
}

/* A prepared table that will not be published after all. */
void
vpc_vnitab_discard(struct vpc_vnitab *t)
{
	if (t != NULL)
		vpc_free(t, vnitab_size(t->mask + 1));
}

/* Fill t from every live switch carrying a nonzero VNI, and publish it. */
void
vpc_vnitab_publish(struct vpc_sys *sys, struct vpc_vnitab *t)
{
	struct vpc_vnitab *old = sys->vnitab;
	struct vpc_obj *o;
	uint32_t i;

	VPC_ASSERT_CTL(sys);
	VPC_LIST_FOREACH(o, &sys->objs, link) {
		struct vpc_switch *sw = obj2sw(o);

		if (o->type != VPC_TYPE_SWITCH || o->dead || sw->vni == 0 ||
		    sw->vni == VPC_VNI_NONE)
			continue;
		for (i = vni_slot(sw->vni); t->slot[i & t->mask].sw != NULL; i++)
			;
		t->slot[i & t->mask].vni = sw->vni;
		t->slot[i & t->mask].sw = sw;
	}
	vpc_store(sys->vnitab, t);
	if (old != NULL)
		os_epoch_defer(&old->defer, vnitab_free);
}

/*
 * After a switch went away.  Without memory for a new table, publish none
 * (frames from the underlay are dropped until the next change) rather than
 * keep one that points at the dead switch.
 */
void
vpc_vnitab_rebuild(struct vpc_sys *sys)
{
	VPC_ASSERT_CTL(sys);
	vpc_vnitab_publish(sys, vpc_vnitab_prepare(sys));
}

/* In the epoch. */
struct vpc_switch *
vpc_vnitab_lookup(struct vpc_sys *sys, uint32_t vni)
{
	const struct vpc_vnitab *t = vpc_load(sys->vnitab);
	uint32_t i, n;

	if (t == NULL)
		return (NULL);
	for (i = vni_slot(vni), n = 0; n <= t->mask; i++, n++) {
		const struct vpc_vnislot *s = &t->slot[i & t->mask];

		if (s->sw == NULL)
			return (NULL);
		if (s->vni == vni)
			return (s->sw);
	}
	return (NULL);
}

void
vpc_vnitab_free(struct vpc_sys *sys)
{
	if (sys->vnitab != NULL)
		os_epoch_defer(&sys->vnitab->defer, vnitab_free);
	sys->vnitab = NULL;
}
