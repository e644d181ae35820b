/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_port.c: switch ports (vpcp) and the switch's port ops.
 *
 * Ports are objects of their own (they have ids and can be opened) but are
 * owned by their switch: they die with it.  At most one uplink (plugged
 * into a vcc), at most one router, any number of vmnic ports up to
 * VPC_SW_MAX_PORTS.  A vmnic port either plugs in an existing vmnic or
 * creates one that it owns; the router port plugs in the router's vmnic
 * (until vpcr exists).  SW_ADD_PORT allocates everything it will publish
 * before it changes anything.
 */
#include "vpc_impl.h"

/* ---- Ports ------------------------------------------------------------- */

/* Take the peer out of the port; an owned vmnic dies with it. */
static void
port_unplug_peer(struct vpc_port *p)
{
	struct vpc_obj *peer = p->peer;

	if (peer == NULL)
		return;
	if (peer->type == VPC_TYPE_ROUTER) {
		vpc_router_port_gone(p);        /* detached; its reference dropped */
		return;
	}
	if (peer->type == VPC_TYPE_NIC) {
		struct vpc_nic *nic = obj2nic(peer);

		vpc_store(nic->port, NULL);
		if (!vpc_mac_is_zero(nic->mac))
			vpc_cam_local_clear(p->sw, p, nic->mac);
		vpc_nbr_local_clear(p->sw, p);
	} else if (peer->type == VPC_TYPE_VCC)
		vpc_vcc_unplug(obj2vcc(peer), p);
	vpc_store(p->peer, NULL);
	if (peer->owned)
		vpc_obj_kill(peer);
	else if (peer->type == VPC_TYPE_NIC)
		vpc_nic_mtu_refresh(obj2nic(peer));     /* not behind a vcc now */
	vpc_obj_rele(peer);
}

static void
port_kill(struct vpc_obj *o)
{
	struct vpc_port *p = obj2port(o);
	struct vpc_switch *sw = p->sw;
	uint32_t i;

	VPC_ASSERT_CTL(o->sys);
	if (sw == NULL)
		return;                 /* never linked: a failed add */
	port_unplug_peer(p);
	vpc_fw_port_apply(p, NULL);     /* its flows go, its sets are free */
	vpc_upcall_forget_port(p);
	for (i = 0; i < sw->nports && sw->ports[i] != p; i++)
		;
	if (i < sw->nports) {
		memmove(&sw->ports[i], &sw->ports[i + 1],
		    (sw->nports - i - 1) * sizeof(sw->ports[0]));
		sw->nports--;
	}
	if (sw->uplink == p) {
		vpc_store(sw->uplink, NULL);
		vpc_switch_mtu_refresh(sw);     /* its vmnics: no underlay now */
	}
	if (sw->router == p)
		vpc_store(sw->router, NULL);
	if (p->kind != VPC_PORT_UPLINK)
		vpc_flood_rebuild(sw);
	/* Whoever killed the port, the switch changed under everyone. */
	if (!sw->obj.dead)
		vpc_obj_changed(&sw->obj, 0);
	vpc_obj_rele(&sw->obj);
}

const struct vpc_objops vpc_port_ops = {
	.size = sizeof(struct vpc_port),
	.kill = port_kill,
};

/* ---- Helpers ----------------------------------------------------------- */

static struct vpc_port *
port_find(struct vpc_switch *sw, const vpc_id_t *id)
{
	struct vpc_obj *o = vpc_reg_lookup(sw->obj.sys, id);

	VPC_ASSERT_CTL(sw->obj.sys);
	if (o == NULL || o->type != VPC_TYPE_SWPORT || obj2port(o)->sw != sw)
		return (NULL);
	return (obj2port(o));
}

struct vpc_port *
vpc_port_lookup(struct vpc_switch *sw, const vpc_id_t *id)
{
	return (port_find(sw, id));
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
	vpc_fw_port_describe(p, out);
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
		return (VPC_ERR(VPC_EINVAL));
	if (!vpc_all_zero(req->_pad0, sizeof(req->_pad0)) ||
	    !vpc_all_zero(req->_pad1, sizeof(req->_pad1)) ||
	    !vpc_all_zero(req->_pad2, sizeof(req->_pad2)) ||
	    !vpc_all_zero(req->_pad3, sizeof(req->_pad3)))
		return (VPC_ERR(VPC_EINVAL));
	nkinds = ((f & VPC_FLAG_SWP_UPLINK) != 0) +
	    ((f & VPC_FLAG_SWP_ROUTER) != 0) + ((f & VPC_FLAG_SWP_VMNIC) != 0);
	if (nkinds != 1)
		return (VPC_ERR(VPC_EINVAL));
	*kind = (f & VPC_FLAG_SWP_UPLINK) ? VPC_PORT_UPLINK :
	    (f & VPC_FLAG_SWP_ROUTER) ? VPC_PORT_ROUTER : VPC_PORT_VMNIC;

	if ((f & VPC_FLAG_SWP_VLAN_ID) != 0) {
		if (req->vlan_id < VPC_VLAN_MIN || req->vlan_id > VPC_VLAN_MAX)
			return (VPC_ERR(VPC_EINVAL));
	} else if (req->vlan_id != 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((f & VPC_FLAG_SWP_VNI) != 0) {
		if (req->vni > VPC_VNI_MAX)
			return (VPC_ERR(VPC_EINVAL));
		if (sw->vni != VPC_VNI_NONE && sw->vni != req->vni)
			return (VPC_ERR(VPC_EINVAL));    /* one switch, one VNI */
	} else if (req->vni != 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((f & VPC_FLAG_SWP_DESCRIPTOR) != 0 && *kind != VPC_PORT_VMNIC)
		return (VPC_ERR(VPC_EINVAL));
	if (!vpc_mac_is_zero(req->smac) && (*kind != VPC_PORT_VMNIC ||
	    !vpc_id_is_nil(&req->peer_id) || vpc_mac_is_multicast(req->smac)))
		return (VPC_ERR(VPC_EINVAL));

	/* Rule sets: vmnic ports only; each id with its flag (checked, and
	 * the sets found, in add_port_prepare). */
	if (((f & (VPC_FLAG_SWP_FW_EGRESS | VPC_FLAG_SWP_FW_INGRESS)) != 0 ||
	    req->fw_state_table != 0 || req->fw_egress_ruleset != 0) &&
	    *kind != VPC_PORT_VMNIC)
		return (VPC_ERR(VPC_EINVAL));

	if (*kind == VPC_PORT_UPLINK && sw->uplink != NULL)
		return (VPC_ERR(VPC_EEXIST));
	if (*kind == VPC_PORT_ROUTER && sw->router != NULL)
		return (VPC_ERR(VPC_EEXIST));
	if ((f & VPC_FLAG_SWP_VNI) != 0 && sw->vni == VPC_VNI_NONE &&
	    vpc_vni_in_use(sw->obj.sys, sw, req->vni))
		return (VPC_ERR(VPC_EEXIST));
	if (sw->nports >= VPC_SW_MAX_PORTS)
		return (VPC_ERR(VPC_ENOSPC));
	if (!vpc_id_is_nil(&req->port_id) &&
	    vpc_reg_lookup(sw->obj.sys, &req->port_id) != NULL)
		return (VPC_ERR(VPC_EEXIST));

	*peer = NULL;
	if (!vpc_id_is_nil(&req->peer_id)) {
		o = vpc_reg_lookup(sw->obj.sys, &req->peer_id);
		if (o == NULL)
			return (VPC_ERR(VPC_ENOENT));
		if (o->type != (*kind == VPC_PORT_UPLINK ? VPC_TYPE_VCC :
		    VPC_TYPE_NIC))
			return (VPC_ERR(VPC_EINVAL));
		if (o->type == VPC_TYPE_NIC && obj2nic(o)->port != NULL)
			return (VPC_ERR(VPC_EBUSY));
		if (o->type == VPC_TYPE_NIC && !vpc_mac_is_zero(obj2nic(o)->mac) &&
		    vpc_switch_check_mac(sw, NULL, obj2nic(o)->mac) != 0)
			return (VPC_ERR(VPC_EEXIST));
		*peer = o;
	} else if (!vpc_mac_is_zero(req->smac) &&
	    vpc_switch_check_mac(sw, NULL, req->smac) != 0)
		return (VPC_ERR(VPC_EEXIST));
	return (0);
}

/*
 * A bigger port table when this one is full (doubling): allocated while the
 * op can still fail, installed by ports_install once nothing can.
 */
static int
ports_prepare(struct vpc_switch *sw, struct vpc_port ***np, uint32_t *ncap)
{
	*np = NULL;
	*ncap = sw->cap;
	if (sw->nports < sw->cap)
		return (0);
	*ncap = sw->cap == 0 ? 8 : sw->cap * 2;
	*np = vpc_alloc(*ncap * sizeof(**np), VPC_M_WAITOK);
	return (*np == NULL ? VPC_ERR(VPC_ENOMEM) : 0);
}

static void
ports_install(struct vpc_switch *sw, struct vpc_port **np, uint32_t ncap)
{
	if (np == NULL)
		return;
	if (sw->nports > 0)
		memcpy(np, sw->ports, sw->nports * sizeof(*np));
	vpc_free(sw->ports, sw->cap * sizeof(*sw->ports));
	sw->ports = np;
	sw->cap = ncap;
}

/* What SW_ADD_PORT allocates before it links anything. */
struct add_port_prep {
	struct vpc_port    **ports;             /* a bigger port table, or NULL */
	uint32_t             cap;
	struct vpc_obj      *port, *nic;        /* new objects */
	struct vpc_hdl      *hdl;
	struct vpc_portset  *flood, *uplinks;
	struct vpc_cam_ent  *local;             /* the vmnic's MAC, if it has one */
	struct vpc_nbr_local nbr;               /* its addresses, likewise */
	struct vpc_swcfg    *cfg;               /* the port sets the VNI */
	struct vpc_vnitab   *vnitab;
	struct vpc_portfw   *fw;                /* its rule sets, or NULL */
	vpc_handle_t         fd;
};

static void
add_port_unprepare(struct add_port_prep *a)
{
	if (a->hdl != NULL)
		vpc_hdl_free(a->hdl);   /* installing it was the last step */
	if (a->nic != NULL)
		vpc_obj_kill(a->nic);
	if (a->port != NULL)
		vpc_obj_kill(a->port);
	if (a->ports != NULL)
		vpc_free(a->ports, a->cap * sizeof(*a->ports));
	vpc_portset_free_now(a->flood);
	vpc_portset_free_now(a->uplinks);
	if (a->local != NULL)
		vpc_cam_ent_free(a->local);
	vpc_nbr_local_discard(&a->nbr);
	vpc_free(a->cfg, sizeof(*a->cfg));
	vpc_vnitab_discard(a->vnitab);
	vpc_fw_port_discard(a->fw);
}

static int
add_port_prepare(struct vpc_ctx *x, const vpc_swport_t *req,
    enum vpc_port_kind kind, struct vpc_obj *peer, struct add_port_prep *a)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	const uint8_t *mac = NULL;
	vpc_id_t id;
	int error;

	if ((error = vpc_fw_port_prepare(x->sys, req->flags &
	    (VPC_FLAG_SWP_FW_INGRESS | VPC_FLAG_SWP_FW_EGRESS),
	    req->fw_state_table, req->fw_egress_ruleset, &a->fw)) != 0)
		return (error);
	if ((error = ports_prepare(sw, &a->ports, &a->cap)) != 0)
		return (error);
	id = req->port_id;
	if (vpc_id_is_nil(&id))
		vpc_id_random(&id);
	if ((error = vpc_obj_new(x->sys, VPC_TYPE_SWPORT, &id, &a->port)) != 0)
		return (error);
	if (kind == VPC_PORT_VMNIC && peer == NULL) {
		vpc_id_random(&id);
		if ((error = vpc_obj_new(x->sys, VPC_TYPE_NIC, &id, &a->nic)) != 0)
			return (error);
		if (!vpc_mac_is_zero(req->smac)) {
			if ((error = os_nic_set_mac(obj2nic(a->nic), req->smac)) != 0)
				return (error);
			mac = req->smac;
		}
	} else if (peer != NULL && peer->type == VPC_TYPE_NIC &&
	    !vpc_mac_is_zero(obj2nic(peer)->mac))
		mac = obj2nic(peer)->mac;
	if (kind != VPC_PORT_UPLINK && (peer != NULL || a->nic != NULL) &&
	    (a->flood = vpc_flood_prepare(sw, 1)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if (peer != NULL && peer->type == VPC_TYPE_VCC &&
	    (a->uplinks = vpc_uplinks_prepare(obj2vcc(peer), 1)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if (mac != NULL) {
		if ((a->local = vpc_cam_ent_new()) == NULL)
			return (VPC_ERR(VPC_ENOMEM));
		if ((error = vpc_cam_reserve(sw, 1)) != 0)
			return (error);
	}
	if (mac != NULL && a->nic == NULL &&
	    (obj2nic(peer)->l3->addr.flags & (VPC_NIC_ADDR_INET | VPC_NIC_ADDR_INET6)) != 0) {
		/* Its addresses become the port's local neighbour entries. */
		if ((error = vpc_nbr_local_conflict(sw, NULL, &obj2nic(peer)->l3->addr)) != 0 ||
		    (error = vpc_nbr_local_prepare(sw, &a->nbr)) != 0)
			return (error);
	}
	if ((req->flags & VPC_FLAG_SWP_VNI) != 0 && sw->vni == VPC_VNI_NONE) {
		if ((a->cfg = vpc_swcfg_prepare()) == NULL ||
		    (a->vnitab = vpc_vnitab_prepare(x->sys)) == NULL)
			return (VPC_ERR(VPC_ENOMEM));
	}
	if ((req->flags & VPC_FLAG_SWP_DESCRIPTOR) != 0) {
		a->hdl = vpc_hdl_new(a->nic != NULL ? a->nic : peer, x->hdl->priv);
		if (a->hdl == NULL)
			return (VPC_ERR(VPC_ENOMEM));
		if ((error = os_handle_install(x->call->caller, a->hdl, &a->fd)) != 0)
			return (error);
	}
	return (0);
}

int
vpc_op_sw_add_port(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	struct add_port_prep a = { .fd = VPC_HANDLE_NONE };
	struct vpc_obj *peer = NULL;
	struct vpc_port *p;
	enum vpc_port_kind kind;
	vpc_swport_t req, res;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((error = add_port_validate(sw, &req, &kind, &peer)) != 0)
		return (error);
	if ((error = add_port_prepare(x, &req, kind, peer, &a)) != 0) {
		add_port_unprepare(&a);
		return (error);
	}

	/* Link: nothing below can fail. */
	p = obj2port(a.port);
	p->sw = sw;
	vpc_obj_ref(&sw->obj);
	a.port->parent = &sw->obj;
	a.port->owned = true;
	p->kind = kind;
	p->vlan = (req.flags & VPC_FLAG_SWP_VLAN_ID) ? req.vlan_id : 0;
	p->has_vni = (req.flags & VPC_FLAG_SWP_VNI) != 0;
	if (a.nic != NULL) {
		a.nic->owned = true;
		a.nic->parent = a.port;
		memcpy(obj2nic(a.nic)->mac, req.smac, 6);
		obj2nic(a.nic)->mac64 = vpc_mac64(req.smac);
		peer = a.nic;
	}
	if (peer != NULL)
		vpc_obj_ref(peer);      /* the port's link */
	p->peer = peer;
	vpc_fw_port_apply(p, a.fw);     /* before frames can flow */
	a.fw = NULL;
	ports_install(sw, a.ports, a.cap);
	a.ports = NULL;
	sw->ports[sw->nports++] = p;
	if (a.cfg != NULL) {
		vpc_swcfg_publish(sw, a.cfg, req.vni, &sw->cfg->sub4, &sw->cfg->sub6);
		vpc_vnitab_publish(x->sys, a.vnitab);
	}
	if (a.local != NULL)
		vpc_cam_local_put(sw, p, obj2nic(peer)->mac, a.local);
	if (a.nbr.e[0] != NULL)
		vpc_nbr_local_apply(sw, p, obj2nic(peer)->mac,
		    &obj2nic(peer)->l3->addr, &a.nbr);
	if (a.flood != NULL)
		vpc_flood_publish(sw, a.flood);
	if (peer != NULL && peer->type == VPC_TYPE_VCC)
		vpc_vcc_plug(obj2vcc(peer), p, a.uplinks);
	if (peer != NULL && peer->type == VPC_TYPE_NIC)
		vpc_store(obj2nic(peer)->port, p);      /* frames start flowing */
	if (kind == VPC_PORT_UPLINK)
		vpc_store(sw->uplink, p);
	else if (kind == VPC_PORT_ROUTER)
		vpc_store(sw->router, p);
	vpc_obj_changed(x->obj, req.txn);
	/* MTUs follow the underlay (and the VNI): the new vmnic's, or all. */
	if (kind == VPC_PORT_UPLINK || a.cfg != NULL)
		vpc_switch_mtu_refresh(sw);
	else if (peer != NULL && peer->type == VPC_TYPE_NIC)
		vpc_nic_mtu_refresh(obj2nic(peer));

	port_describe(p, &res);
	if (a.hdl != NULL) {
		res.descriptor = a.fd;
		res.flags |= VPC_FLAG_SWP_DESCRIPTOR;
	}
	memcpy(x->val, &res, sizeof(res));
	return (0);
}

/* ---- SW_DEL_PORT, SW_GET_PORT, SW_LIST_PORTS --------------------------- */

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
	if (!vpc_all_zero(ref._pad0, sizeof(ref._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	if ((p = port_find(sw, &ref.port_id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
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
	if (!vpc_all_zero(ref._pad0, sizeof(ref._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	if ((p = port_find(obj2sw(x->obj), &ref.port_id)) == NULL)
		return (VPC_ERR(VPC_ENOENT));
	port_describe(p, &out);
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
	    !vpc_all_zero(req._pad0, sizeof(req._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	/* Ports are kept in creation order: skip those up to the marker. */
	for (i = 0; i < sw->nports && sw->ports[i]->obj.serial <= req.marker; i++)
		;
	fit = x->vallen / sizeof(out);
	if (fit == 0 && i < sw->nports) {
		size_t need = (sw->nports - i) * sizeof(out);

		x->vallen = need < VPC_CTL_MAX_VALLEN ? need :
		    VPC_CTL_MAX_VALLEN - VPC_CTL_MAX_VALLEN % sizeof(out);
		return (VPC_ERR(VPC_ERANGE));
	}
	for (; i < sw->nports && n < fit; i++, n++) {
		port_describe(sw->ports[i], &out);
		memcpy((char *)x->val + n * sizeof(out), &out, sizeof(out));
	}
	x->vallen = n * sizeof(out);
	return (0);
}
