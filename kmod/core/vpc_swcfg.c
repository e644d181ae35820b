/*
 * vpc_swcfg.c: the switch configuration the data path reads (VNI, subnets),
 * published as immutable snapshots; the VNI -> switch table the underlay
 * uses; the subnet and counter ops.
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

	c->vni = vni;
	c->sub4 = *s4;
	c->sub6 = *s6;
	vpc_store(sw->cfg, c);
	sw->vni = vni;
	if (old != NULL)
		os_epoch_defer(&old->defer, swcfg_free);
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

	for (o = sys->list_head; t != NULL && o != NULL; o = o->list_next) {
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

/* ---- SW_SET_SUBNET / SW_GET_SUBNET ------------------------------------------ */

static int
check_subnet(const vpc_sw_subnet_t *s)
{
	unsigned alen = s->af == VPC_AF_INET ? 4 : 16, i;

	if (s->af != VPC_AF_INET && s->af != VPC_AF_INET6)
		return (VPC_EAFNOSUPPORT);
	if (!vpc_all_zero(s->_pad0, sizeof(s->_pad0)) ||
	    !vpc_all_zero(s->addr + alen, 16 - alen) || s->prefixlen > alen * 8)
		return (VPC_EINVAL);
	for (i = 0; i < alen * 8; i++)          /* host bits must be zero */
		if (i >= s->prefixlen && (s->addr[i / 8] & (0x80 >> (i % 8))) != 0)
			return (VPC_EINVAL);
	return (0);
}

int
vpc_op_sw_set_subnet(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	struct vpc_subnet s4 = sw->cfg->sub4, s6 = sw->cfg->sub6, *dst;
	struct vpc_swcfg *cfg;
	vpc_sw_subnet_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((error = check_subnet(&req)) != 0)
		return (error);
	if ((cfg = vpc_swcfg_prepare()) == NULL)
		return (VPC_ENOMEM);
	dst = req.af == VPC_AF_INET ? &s4 : &s6;
	dst->plen = req.prefixlen;
	memcpy(dst->addr, req.addr, 16);
	vpc_swcfg_publish(sw, cfg, sw->vni, &s4, &s6);
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
		return (VPC_EAFNOSUPPORT);
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
