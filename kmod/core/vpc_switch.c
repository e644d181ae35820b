/*
 * vpc_switch.c: the vpcsw and its ports.
 *
 * A switch carries one VNI (unset until SW_SET_VNI or the first port that
 * names one) and a table of ports in creation order: at most one uplink, at
 * most one router, any number of vmnic ports up to VPC_SW_MAX_PORTS.  Ports
 * are objects of their own (they have ids and can be opened) but are owned by
 * the switch: they die with it.  A vmnic port either plugs in an existing
 * vmnic or creates one that it owns.
 */
#include "vpc_impl.h"

/* ---- Lifetime ---------------------------------------------------------- */

static int
switch_init(struct vpc_obj *o)
{
	obj2sw(o)->vni = VPC_VNI_NONE;
	return (0);
}

static void
switch_kill(struct vpc_obj *o)
{
	struct vpc_switch *sw = obj2sw(o);

	while (sw->nports > 0)
		vpc_obj_kill(&sw->ports[sw->nports - 1]->obj);
}

static void
switch_fini(struct vpc_obj *o)
{
	struct vpc_switch *sw = obj2sw(o);

	vpc_free(sw->ports, sw->cap * sizeof(*sw->ports));
	sw->ports = NULL;
}

const struct vpc_objops vpc_switch_ops = {
	.size = sizeof(struct vpc_switch),
	.init = switch_init,
	.kill = switch_kill,
	.fini = switch_fini,
};

/* Take the peer out of the port; an owned vmnic dies with it. */
void
vpc_port_unplug_peer(struct vpc_port *p)
{
	struct vpc_obj *peer = p->peer;

	if (peer == NULL)
		return;
	p->peer = NULL;
	if (peer->type == VPC_TYPE_NIC)
		obj2nic(peer)->port = NULL;
	else if (peer->type == VPC_TYPE_VCC)
		obj2vcc(peer)->port = NULL;
	if (peer->owned)
		vpc_obj_kill(peer);
	vpc_obj_rele(peer);
}

static void
port_kill(struct vpc_obj *o)
{
	struct vpc_port *p = obj2port(o);
	struct vpc_switch *sw = p->sw;
	uint32_t i;

	vpc_port_unplug_peer(p);
	if (sw == NULL)
		return;                 /* never linked: a failed add */
	for (i = 0; i < sw->nports && sw->ports[i] != p; i++)
		;
	if (i < sw->nports) {
		memmove(&sw->ports[i], &sw->ports[i + 1],
		    (sw->nports - i - 1) * sizeof(sw->ports[0]));
		sw->nports--;
	}
	if (sw->uplink == p)
		sw->uplink = NULL;
	if (sw->router == p)
		sw->router = NULL;
	/* Whoever killed the port, the switch changed under everyone. */
	if (!sw->obj.dead)
		vpc_obj_changed(&sw->obj, 0);
}

static void
port_fini(struct vpc_obj *o)
{
	struct vpc_port *p = obj2port(o);

	if (p->sw != NULL)
		vpc_obj_rele(&p->sw->obj);
}

const struct vpc_objops vpc_port_ops = {
	.size = sizeof(struct vpc_port),
	.kill = port_kill,
	.fini = port_fini,
};

/* ---- Helpers ----------------------------------------------------------- */

/* MACs are unique among the vmnics of one switch: EEXIST otherwise. */
int
vpc_switch_check_mac(struct vpc_switch *sw, const struct vpc_nic *except,
    const uint8_t mac[6])
{
	uint32_t i;

	for (i = 0; i < sw->nports; i++) {
		struct vpc_port *p = sw->ports[i];
		struct vpc_nic *nic;

		if (p->kind != VPC_PORT_VMNIC || p->peer == NULL)
			continue;
		nic = obj2nic(p->peer);
		if (nic != except && memcmp(nic->mac, mac, 6) == 0)
			return (VPC_EEXIST);
	}
	return (0);
}

/* Nonzero VNIs pick the switch for frames from the underlay: unique. */
static bool
vni_in_use(struct vpc_sys *sys, const struct vpc_switch *self, uint32_t vni)
{
	struct vpc_obj *o;

	if (vni == 0)
		return (false);
	for (o = sys->list_head; o != NULL; o = o->list_next)
		if (o->type == VPC_TYPE_SWITCH && obj2sw(o) != self &&
		    obj2sw(o)->vni == vni)
			return (true);
	return (false);
}

static struct vpc_port *
port_find(struct vpc_switch *sw, const vpc_id_t *id)
{
	struct vpc_obj *o = vpc_reg_lookup(sw->obj.sys, id);

	if (o == NULL || o->type != VPC_TYPE_SWPORT || obj2port(o)->sw != sw)
		return (NULL);
	return (obj2port(o));
}

static void
port_describe(const struct vpc_port *p, vpc_swport_t *out)
{
	memset(out, 0, sizeof(*out));
	out->descriptor = VPC_HANDLE_NONE;
	out->port_id = p->obj.id;
	out->serial = p->obj.serial;
	switch (p->kind) {
	case VPC_PORT_UPLINK:
		out->flags = VPC_FLAG_SWP_UPLINK;
		break;
	case VPC_PORT_ROUTER:
		out->flags = VPC_FLAG_SWP_ROUTER;
		break;
	case VPC_PORT_VMNIC:
		out->flags = VPC_FLAG_SWP_VMNIC;
		break;
	}
	if (p->vlan != 0) {
		out->flags |= VPC_FLAG_SWP_VLAN_ID;
		out->vlan_id = p->vlan;
	}
	if (p->has_vni) {
		out->flags |= VPC_FLAG_SWP_VNI;
		out->vni = p->sw->vni;
	}
	if (p->peer != NULL) {
		out->peer_id = p->peer->id;
		if (p->peer->type == VPC_TYPE_NIC)
			memcpy(out->smac, obj2nic(p->peer)->mac, 6);
	}
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *b++;
	return (acc == 0);
}

/* ---- SW_ADD_PORT ------------------------------------------------------- */

/* Everything about the request that can be judged without allocating. */
static int
add_port_validate(struct vpc_switch *sw, const vpc_swport_t *req,
    enum vpc_port_kind *kind, struct vpc_obj **peer)
{
	uint64_t f = req->flags;
	int nkinds;
	struct vpc_obj *o;

	if ((f & ~(uint64_t)VPC_FLAG_SWP_ALL) != 0)
		return (VPC_EINVAL);
	if (!all_zero(req->_pad0, sizeof(req->_pad0)) ||
	    !all_zero(req->_pad1, sizeof(req->_pad1)) ||
	    !all_zero(req->_pad2, sizeof(req->_pad2)) ||
	    !all_zero(req->_pad3, sizeof(req->_pad3)))
		return (VPC_EINVAL);
	nkinds = ((f & VPC_FLAG_SWP_UPLINK) != 0) +
	    ((f & VPC_FLAG_SWP_ROUTER) != 0) + ((f & VPC_FLAG_SWP_VMNIC) != 0);
	if (nkinds != 1)
		return (VPC_EINVAL);
	*kind = (f & VPC_FLAG_SWP_UPLINK) ? VPC_PORT_UPLINK :
	    (f & VPC_FLAG_SWP_ROUTER) ? VPC_PORT_ROUTER : VPC_PORT_VMNIC;

	if ((f & VPC_FLAG_SWP_VLAN_ID) != 0) {
		if (req->vlan_id < VPC_VLAN_MIN || req->vlan_id > VPC_VLAN_MAX)
			return (VPC_EINVAL);
	} else if (req->vlan_id != 0)
		return (VPC_EINVAL);
	if ((f & VPC_FLAG_SWP_VNI) != 0) {
		if (req->vni > VPC_VNI_MAX)
			return (VPC_EINVAL);
		if (sw->vni != VPC_VNI_NONE && sw->vni != req->vni)
			return (VPC_EINVAL);    /* one switch, one VNI */
	} else if (req->vni != 0)
		return (VPC_EINVAL);
	if ((f & VPC_FLAG_SWP_DESCRIPTOR) != 0 && *kind != VPC_PORT_VMNIC)
		return (VPC_EINVAL);
	if (!vpc_mac_is_zero(req->smac) && (*kind != VPC_PORT_VMNIC ||
	    !vpc_id_is_nil(&req->peer_id) || vpc_mac_is_multicast(req->smac)))
		return (VPC_EINVAL);

	if ((f & (VPC_FLAG_SWP_FW_EGRESS | VPC_FLAG_SWP_FW_INGRESS)) != 0 ||
	    req->fw_state_table != 0 || req->fw_egress_ruleset != 0)
		return (VPC_EOPNOTSUPP);        /* no firewall yet */

	if (*kind == VPC_PORT_UPLINK && sw->uplink != NULL)
		return (VPC_EEXIST);
	if (*kind == VPC_PORT_ROUTER && sw->router != NULL)
		return (VPC_EEXIST);
	if ((f & VPC_FLAG_SWP_VNI) != 0 && sw->vni == VPC_VNI_NONE &&
	    vni_in_use(sw->obj.sys, sw, req->vni))
		return (VPC_EEXIST);
	if (sw->nports >= VPC_SW_MAX_PORTS)
		return (VPC_ENOSPC);
	if (!vpc_id_is_nil(&req->port_id) &&
	    vpc_reg_lookup(sw->obj.sys, &req->port_id) != NULL)
		return (VPC_EEXIST);

	*peer = NULL;
	if (!vpc_id_is_nil(&req->peer_id)) {
		if (*kind == VPC_PORT_ROUTER)
			return (VPC_EOPNOTSUPP);        /* no routers yet */
		o = vpc_reg_lookup(sw->obj.sys, &req->peer_id);
		if (o == NULL)
			return (VPC_ENOENT);
		if (o->type != (*kind == VPC_PORT_VMNIC ? VPC_TYPE_NIC :
		    VPC_TYPE_VCC))
			return (VPC_EINVAL);
		if ((o->type == VPC_TYPE_NIC && obj2nic(o)->port != NULL) ||
		    (o->type == VPC_TYPE_VCC && obj2vcc(o)->port != NULL))
			return (VPC_EBUSY);
		if (o->type == VPC_TYPE_NIC && !vpc_mac_is_zero(obj2nic(o)->mac) &&
		    vpc_switch_check_mac(sw, NULL, obj2nic(o)->mac) != 0)
			return (VPC_EEXIST);
		*peer = o;
	} else if (!vpc_mac_is_zero(req->smac) &&
	    vpc_switch_check_mac(sw, NULL, req->smac) != 0)
		return (VPC_EEXIST);
	return (0);
}

/* Make room for one more port; the table grows by doubling. */
static int
ports_reserve(struct vpc_switch *sw)
{
	struct vpc_port **np;
	uint32_t ncap;

	if (sw->nports < sw->cap)
		return (0);
	ncap = sw->cap == 0 ? 8 : sw->cap * 2;
	np = vpc_alloc(ncap * sizeof(*np), VPC_M_WAITOK);
	if (np == NULL)
		return (VPC_ENOMEM);
	if (sw->nports > 0)
		memcpy(np, sw->ports, sw->nports * sizeof(*np));
	vpc_free(sw->ports, sw->cap * sizeof(*sw->ports));
	sw->ports = np;
	sw->cap = ncap;
	return (0);
}

int
vpc_op_sw_add_port(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	struct vpc_obj *peer = NULL, *po = NULL, *nico = NULL;
	struct vpc_hdl *h = NULL;
	struct vpc_port *p;
	enum vpc_port_kind kind;
	vpc_handle_t fd = VPC_HANDLE_NONE;
	vpc_swport_t req, res;
	vpc_id_t id;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((error = add_port_validate(sw, &req, &kind, &peer)) != 0)
		return (error);

	/* Everything that can fail, before anything is linked. */
	if ((error = ports_reserve(sw)) != 0)
		return (error);
	id = req.port_id;
	if (vpc_id_is_nil(&id))
		vpc_id_random(&id);
	if ((error = vpc_obj_new(x->sys, VPC_TYPE_SWPORT, &id, &po)) != 0)
		return (error);
	if (kind == VPC_PORT_VMNIC && peer == NULL) {
		vpc_id_random(&id);
		if ((error = vpc_obj_new(x->sys, VPC_TYPE_NIC, &id, &nico)) != 0)
			goto fail;
	}
	if ((req.flags & VPC_FLAG_SWP_DESCRIPTOR) != 0) {
		h = vpc_hdl_new(nico != NULL ? nico : peer, x->hdl->priv);
		if (h == NULL) {
			error = VPC_ENOMEM;
			goto fail;
		}
		if ((error = os_handle_install(x->call->caller, h, &fd)) != 0)
			goto fail;
	}

	/* Link: nothing below can fail. */
	p = obj2port(po);
	p->sw = sw;
	vpc_obj_ref(&sw->obj);
	po->parent = &sw->obj;
	po->owned = true;
	p->kind = kind;
	p->vlan = (req.flags & VPC_FLAG_SWP_VLAN_ID) ? req.vlan_id : 0;
	p->has_vni = (req.flags & VPC_FLAG_SWP_VNI) != 0;
	if (p->has_vni && sw->vni == VPC_VNI_NONE)
		sw->vni = req.vni;
	if (nico != NULL) {
		nico->owned = true;
		nico->parent = po;
		memcpy(obj2nic(nico)->mac, req.smac, 6);
		if (!vpc_mac_is_zero(req.smac))
			os_nic_mac_changed(obj2nic(nico));
		peer = nico;
		vpc_obj_ref(peer);      /* the port's link; registry keeps its own */
	} else if (peer != NULL)
		vpc_obj_ref(peer);
	p->peer = peer;
	if (peer != NULL && peer->type == VPC_TYPE_NIC)
		obj2nic(peer)->port = p;
	else if (peer != NULL)
		obj2vcc(peer)->port = p;
	sw->ports[sw->nports++] = p;
	if (kind == VPC_PORT_UPLINK)
		sw->uplink = p;
	else if (kind == VPC_PORT_ROUTER)
		sw->router = p;
	vpc_obj_changed(x->obj, req.txn);

	port_describe(p, &res);
	if (h != NULL) {
		res.descriptor = fd;
		res.flags |= VPC_FLAG_SWP_DESCRIPTOR;
	}
	memcpy(x->val, &res, sizeof(res));
	return (0);

fail:
	/* Installing the handle was the last step that can fail. */
	if (h != NULL)
		vpc_hdl_free(h);
	if (nico != NULL)
		vpc_obj_kill(nico);
	vpc_obj_kill(po);
	return (error);
}

/* ---- The other switch ops ---------------------------------------------- */

int
vpc_op_sw_del_port(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	vpc_swport_ref_t ref;
	struct vpc_port *p;
	int error;

	memcpy(&ref, x->key, sizeof(ref));
	if ((error = vpc_txn_check(x->obj, ref.txn)) != 0)
		return (error);
	if (!all_zero(ref._pad0, sizeof(ref._pad0)))
		return (VPC_EINVAL);
	if ((p = port_find(sw, &ref.port_id)) == NULL)
		return (VPC_ENOENT);
	vpc_obj_kill(&p->obj);
	/* The kill changed the switch unconditionally; this change is ours. */
	vpc_obj_changed(x->obj, ref.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_sw_get_port(struct vpc_ctx *x)
{
	vpc_swport_ref_t ref;
	struct vpc_port *p;
	vpc_swport_t out;

	memcpy(&ref, x->key, sizeof(ref));
	if (!all_zero(ref._pad0, sizeof(ref._pad0)))
		return (VPC_EINVAL);
	if ((p = port_find(obj2sw(x->obj), &ref.port_id)) == NULL)
		return (VPC_ENOENT);
	port_describe(p, &out);
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

int
vpc_op_sw_port_count(struct vpc_ctx *x)
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

int
vpc_op_sw_set_vni(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	vpc_sw_vni_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (req.vni > VPC_VNI_MAX)
		return (VPC_EINVAL);
	x->vallen = 0;
	if (req.vni == sw->vni)
		return (0);
	if (vni_in_use(x->sys, sw, req.vni))
		return (VPC_EEXIST);
	sw->vni = req.vni;
	vpc_obj_changed(x->obj, req.txn);
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

int
vpc_op_sw_list_ports(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	vpc_list_req_t req;
	vpc_swport_t out;
	size_t fit, n = 0;
	uint32_t i;

	memcpy(&req, x->key, sizeof(req));
	if ((req.obj_type != 0 && req.obj_type != VPC_TYPE_SWPORT) ||
	    !all_zero(req._pad0, sizeof(req._pad0)))
		return (VPC_EINVAL);
	/* Ports are kept in creation order: skip those up to the marker. */
	for (i = 0; i < sw->nports && sw->ports[i]->obj.serial <= req.marker; i++)
		;
	fit = x->vallen / sizeof(out);
	if (fit == 0 && i < sw->nports) {
		size_t need = (sw->nports - i) * sizeof(out);

		x->vallen = need < VPC_CTL_MAX_VALLEN ? need :
		    VPC_CTL_MAX_VALLEN - VPC_CTL_MAX_VALLEN % sizeof(out);
		return (VPC_ERANGE);
	}
	for (; i < sw->nports && n < fit; i++, n++) {
		port_describe(sw->ports[i], &out);
		memcpy((char *)x->val + n * sizeof(out), &out, sizeof(out));
	}
	x->vallen = n * sizeof(out);
	return (0);
}
