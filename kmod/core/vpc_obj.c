/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_obj.c: object lifetime.
 *
 * An object is born registered with one reference (the registry's).  Handles
 * and links (a port's hold on its switch and on what is plugged into it) take
 * more.  It is *killed* when destroyed, when its last handle goes while it is
 * neither committed nor owned by a parent, or when its parent is killed: it
 * leaves the registry and the graph at once, and its handles answer EIDRM.
 * Its memory goes when the last reference does, through the epoch, because
 * the data path may still be looking at it.
 */
#include "vpc_impl.h"

const struct vpc_objops *
vpc_objops_of(unsigned type)
{
	switch (type) {
	case VPC_TYPE_NIC:
		return (&vpc_nic_ops);
	case VPC_TYPE_SWITCH:
		return (&vpc_switch_ops);
	case VPC_TYPE_SWPORT:
		return (&vpc_port_ops);
	case VPC_TYPE_VCC:
		return (&vpc_vcc_ops);
	case VPC_TYPE_ROUTER:
		return (&vpc_router_ops);
	case VPC_TYPE_NAT:
		return (&vpc_natgw_ops);
	case VPC_TYPE_LINK:
		return (&vpc_link_ops);
	default:
		return (NULL);
	}
}

bool
vpc_id_is_nil(const vpc_id_t *id)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < sizeof(id->bytes); i++)
		acc |= id->bytes[i];
	return (acc == 0);
}

/* A version 4 (random) UUID, as RFC 4122 lays it out. */
void
vpc_id_random(vpc_id_t *id)
{
	os_random(id->bytes, sizeof(id->bytes));
	id->bytes[6] = (id->bytes[6] & 0x0f) | 0x40;
	id->bytes[8] = (id->bytes[8] & 0x3f) | 0x80;
}

int
vpc_obj_new(struct vpc_sys *sys, unsigned type, const vpc_id_t *id,
    struct vpc_obj **out)
{
	const struct vpc_objops *ops = vpc_objops_of(type);
	struct vpc_obj *o;
	int error;

	VPC_ASSERT_CTL(sys);
	if (ops == NULL)
		return (VPC_ERR(VPC_EOPNOTSUPP));
	if (vpc_reg_lookup(sys, id) != NULL)
		return (VPC_ERR(VPC_EEXIST));
	o = vpc_alloc(ops->size, VPC_M_WAITOK);
	if (o == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	o->id = *id;
	o->type = (uint8_t)type;
	o->sys = sys;
	o->ops = ops;
	o->refs = 1;
	o->gen = 1;
	if (ops->init != NULL && (error = ops->init(o)) != 0) {
		if (ops->fini != NULL)
			ops->fini(o);
		vpc_free(o, ops->size);
		return (error);
	}
	/* Cannot fail: we looked the id up under the same lock. */
	(void)vpc_reg_insert(sys, o);
	*out = o;
	return (0);
}

void
vpc_obj_ref(struct vpc_obj *o)
{
	VPC_ASSERT_CTL(o->sys);
	o->refs++;
}

/*
 * After the epoch: no data-path reader can still see the object, so what it
 * owns can go (fini must not sleep: on FreeBSD this runs as an epoch
 * callback).
 */
static void
obj_free_deferred(struct os_defer *d)
{
	struct vpc_obj *o = (struct vpc_obj *)((char *)d -
	    __builtin_offsetof(struct vpc_obj, defer));

	if (o->ops->fini != NULL)
		o->ops->fini(o);
	vpc_free(o, o->ops->size);
}

void
vpc_obj_rele(struct vpc_obj *o)
{
	VPC_ASSERT_CTL(o->sys);
	if (--o->refs > 0)
		return;
	os_epoch_defer(&o->defer, obj_free_deferred);
}

void
vpc_obj_kill(struct vpc_obj *o)
{
	VPC_ASSERT_CTL(o->sys);
	if (o->dead)
		return;
	o->dead = true;
	o->sys->dead_handles += o->handles;     /* they answer EIDRM now */
	if (o->ops->kill != NULL)
		o->ops->kill(o);
	vpc_reg_remove(o->sys, o);
	vpc_obj_rele(o);                /* the registry's reference */
}

/* A change made under token txn (0: unconditional). */
void
vpc_obj_changed(struct vpc_obj *o, vpc_txn_t txn)
{
	VPC_ASSERT_CTL(o->sys);
	o->gen++;
	o->txn_seen = o->txn_issued;
	o->txn_last = txn;
}

struct vpc_hdl *
vpc_hdl_new(struct vpc_obj *o, bool priv)
{
	struct vpc_hdl *h;

	VPC_ASSERT_CTL(o->sys);
	h = vpc_alloc(sizeof(*h), VPC_M_WAITOK);
	if (h == NULL)
		return (NULL);
	h->obj = o;
	h->priv = priv;
	vpc_obj_ref(o);
	o->handles++;
	o->sys->nhandles++;
	return (h);
}

void
vpc_hdl_free(struct vpc_hdl *h)
{
	struct vpc_obj *o = h->obj;

	VPC_ASSERT_CTL(h->obj->sys);
	if (o->ops->closed != NULL)
		o->ops->closed(o, h);
	o->handles--;
	o->sys->nhandles--;
	if (o->dead)
		o->sys->dead_handles--;
	if (o->handles == 0 && !o->committed && !o->owned)
		vpc_obj_kill(o);
	vpc_obj_rele(o);
	vpc_free(h, sizeof(*h));
}

unsigned
vpc_hdl_objtype(const struct vpc_hdl *h)
{
	return (h->obj->type);
}

void
vpc_obj_info(const struct vpc_obj *o, vpc_obj_info_t *out)
{
	memset(out, 0, sizeof(*out));
	out->id = o->id;
	if (o->parent != NULL)
		out->parent_id = o->parent->id;
	out->type = VPC_TYPE_WORD(o->type);
	out->generation = o->gen;
	out->flags = (o->committed ? VPC_OBJ_COMMITTED : 0) |
	    (o->owned ? VPC_OBJ_OWNED : 0);
	if ((o->type == VPC_TYPE_NIC && ((const struct vpc_nic *)o)->port != NULL) ||
	    (o->type == VPC_TYPE_VCC && ((const struct vpc_vcc *)o)->nuplinks != 0))
		out->flags |= VPC_OBJ_PLUGGED;
	out->handles = o->handles;
	out->serial = o->serial;
}
