/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nic.c: the vmnic.  A unicast MAC, the switch port it is plugged into,
 * and the OS's side of it (an ifnet on FreeBSD, a TAP device on the host).
 */
#include "vpc_impl.h"

static int
nic_init(struct vpc_obj *o)
{
	obj2nic(o)->mtu = VPC_NIC_MTU_DEFAULT;  /* the OS makes its side with it */
	vpc_nic_l3_init(obj2nic(o));
	return (os_nic_attach(obj2nic(o)));
}

/* After the epoch: what the data path could still see goes now. */
static void
nic_fini(struct vpc_obj *o)
{
	vpc_nic_l3_fini(obj2nic(o));
}

/*
 * A standalone vmnic that dies while plugged in takes its port along: a
 * crashed orchestrator must not leave a port pointing at nothing.  An owned
 * vmnic only dies because its port does.
 */
static void
nic_kill(struct vpc_obj *o)
{
	struct vpc_nic *nic = obj2nic(o);

	if (nic->port != NULL && !o->owned)
		vpc_obj_kill(&nic->port->obj);
	os_nic_detach(nic);
}

static bool
nic_busy(const struct vpc_obj *o)
{
	return (((const struct vpc_nic *)o)->port != NULL);
}

const struct vpc_objops vpc_nic_ops = {
	.size = sizeof(struct vpc_nic),
	.init = nic_init,
	.kill = nic_kill,
	.fini = nic_fini,
	.busy = nic_busy,
};

int
vpc_op_nic_set_mac(struct vpc_ctx *x)
{
	struct vpc_nic *nic = obj2nic(x->obj);
	struct vpc_port *p = nic->port;
	struct vpc_cam_ent *local = NULL;
	struct vpc_nbr_local nbr = { { NULL, NULL } };
	vpc_vmnic_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (req._pad0[0] != 0 || req._pad0[1] != 0)
		return (VPC_ERR(VPC_EINVAL));
	if (vpc_mac_is_zero(req.mac) || vpc_mac_is_multicast(req.mac))
		return (VPC_ERR(VPC_EINVAL));
	x->vallen = 0;
	if (memcmp(nic->mac, req.mac, sizeof(nic->mac)) == 0)
		return (0);
	if (p != NULL) {
		if ((error = vpc_switch_check_mac(p->sw, nic, req.mac)) != 0)
			return (error);
		if ((local = vpc_cam_ent_new()) == NULL)
			return (VPC_ERR(VPC_ENOMEM));
		if ((error = vpc_cam_reserve(p->sw, 1)) != 0 ||
		    (error = vpc_nbr_local_prepare(p->sw, &nbr)) != 0) {
			vpc_cam_ent_free(local);
			return (error);
		}
	}
	if ((error = os_nic_set_mac(nic, req.mac)) != 0) {
		if (local != NULL)
			vpc_cam_ent_free(local);
		vpc_nbr_local_discard(&nbr);
		return (error);
	}
	if (p != NULL) {
		if (!vpc_mac_is_zero(nic->mac))
			vpc_cam_local_clear(p->sw, p, nic->mac);
		vpc_cam_local_put(p->sw, p, req.mac, local);
		/* The vmnic's addresses now resolve to its new MAC. */
		vpc_nbr_local_apply(p->sw, p, req.mac, &nic->l3->addr, &nbr);
	}
	memcpy(nic->mac, req.mac, sizeof(nic->mac));
	__atomic_store_n(&nic->mac64, vpc_mac64(req.mac), __ATOMIC_RELAXED);
	vpc_obj_changed(x->obj, req.txn);
	return (0);
}

int
vpc_op_nic_get_mac(struct vpc_ctx *x)
{
	vpc_vmnic_t out;

	memset(&out, 0, sizeof(out));
	memcpy(out.mac, obj2nic(x->obj)->mac, sizeof(out.mac));
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

/* A name, NUL-terminated inside the field. */
static bool
ifname_ok(const char *name)
{
	int n = vpc_ifname_scan(name);

	return (n > 0 && n < VPC_IFNAMSIZ);
}

int
vpc_op_nic_set_ifname(struct vpc_ctx *x)
{
	struct vpc_nic *nic = obj2nic(x->obj);
	vpc_nic_ifname_t req;
	struct vpc_obj *o;
	size_t len;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!vpc_all_zero(req._pad0, sizeof(req._pad0)) || !ifname_ok(req.name))
		return (VPC_ERR(VPC_EINVAL));
	for (len = 0; req.name[len] != '\0'; len++)
		;
	if (!vpc_all_zero(req.name + len, VPC_IFNAMSIZ - len))
		return (VPC_ERR(VPC_EINVAL));    /* bytes after the NUL */
	x->vallen = 0;
	if (memcmp(nic->ifname, req.name, VPC_IFNAMSIZ) == 0)
		return (0);
	VPC_LIST_FOREACH(o, &x->sys->objs, link)
		if (o->type == VPC_TYPE_NIC && o != x->obj &&
		    memcmp(obj2nic(o)->ifname, req.name, VPC_IFNAMSIZ) == 0)
			return (VPC_ERR(VPC_EEXIST));
	if ((error = os_nic_set_ifname(nic, req.name)) != 0)
		return (error);
	memcpy(nic->ifname, req.name, VPC_IFNAMSIZ);
	vpc_obj_changed(x->obj, req.txn);
	return (0);
}

int
vpc_op_nic_get_ifname(struct vpc_ctx *x)
{
	vpc_nic_ifname_t out;

	memset(&out, 0, sizeof(out));
	os_nic_get_ifname(obj2nic(x->obj), out.name);
	out.name[VPC_IFNAMSIZ - 1] = '\0';
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

/* ---- MTU ------------------------------------------------------------------------
 * See vpc_nic_mtu_t in vpc.h for the definition.  Everything here runs under
 * the control lock; the data path reads nic->mtu and vcc->mtu only.
 */

uint32_t
vpc_nic_fit(const struct vpc_nic *nic)
{
	const struct vpc_port *p = nic->port, *up;
	const struct vpc_vcc *vcc;

	if (p == NULL || p->obj.dead || (up = p->sw->uplink) == NULL ||
	    up->peer == NULL || up->peer->type != VPC_TYPE_VCC)
		return (0);
	vcc = (const struct vpc_vcc *)up->peer;
	if (!vcc->configured)
		return (0);
	if (p->sw->vni == 0)
		return (vcc->mtu);      /* frames go out raw */
	return (vcc->mtu - ((vcc->conf.flags & VPC_VCC_INET6) != 0 ?
	    VPC_VXLAN_OVERHEAD6 : VPC_VXLAN_OVERHEAD4));
}

uint32_t
vpc_nic_default_mtu(const struct vpc_nic *nic)
{
	uint32_t fit = vpc_nic_fit(nic);

	if (fit == 0)
		return (VPC_NIC_MTU_DEFAULT);
	return (fit < VPC_NIC_MTU_MIN ? VPC_NIC_MTU_MIN :
	    fit > VPC_NIC_MTU_MAX ? VPC_NIC_MTU_MAX : fit);
}

static void
nic_mtu_store(struct vpc_nic *nic, uint32_t mtu)
{
	__atomic_store_n(&nic->mtu, mtu, __ATOMIC_RELAXED);
}

/* Where the vmnic is plugged in, or the underlay behind it, changed. */
void
vpc_nic_mtu_refresh(struct vpc_nic *nic)
{
	uint32_t want;
	int error;

	if (nic->obj.dead || nic->obj.sys->tearing_down || nic->mtu_set != 0)
		return;
	want = vpc_nic_default_mtu(nic);
	if (want == nic->mtu)
		return;
	if ((error = os_nic_set_mtu(nic, want)) != 0)
		os_log(VPC_LOG_WARN, "vmnic %s: the interface refused MTU %u "
		    "(error %d); the switch enforces it anyway", nic->ifname,
		    want, error);
	nic_mtu_store(nic, want);
	vpc_obj_changed(&nic->obj, 0);
}

void
vpc_switch_mtu_refresh(struct vpc_switch *sw)
{
	uint32_t i;

	if (sw->obj.dead)
		return;
	for (i = 0; i < sw->nports; i++) {
		struct vpc_port *p = sw->ports[i];

		if (p->peer != NULL && p->peer->type == VPC_TYPE_NIC)
			vpc_nic_mtu_refresh(obj2nic(p->peer));
	}
}

void
vpc_vcc_mtu_refresh(struct vpc_vcc *vcc)
{
	const struct vpc_portset *s = vcc->uplinks;
	uint32_t i;

	for (i = 0; i < s->n; i++)
		vpc_switch_mtu_refresh(s->p[i]->sw);
}

/* NIC_SET_MTU, and an MTU the OS was asked for (ifconfig on FreeBSD). */
static int
nic_set_mtu(struct vpc_nic *nic, uint32_t mtu, uint32_t flags, vpc_txn_t txn)
{
	bool forced = (flags & VPC_NIC_MTU_FORCE) != 0;
	uint32_t fit, want;
	int error;

	if ((flags & ~(uint32_t)VPC_NIC_MTU_FORCE) != 0 || (mtu == 0 && forced))
		return (VPC_ERR(VPC_EINVAL));
	if (mtu != 0 && (mtu < VPC_NIC_MTU_MIN || mtu > VPC_NIC_MTU_MAX))
		return (VPC_ERR(VPC_EINVAL));
	fit = vpc_nic_fit(nic);
	if (mtu != 0 && fit != 0 && mtu > fit && !forced)
		return (VPC_ERR(VPC_EINVAL));    /* the underlay cannot carry it */
	if (mtu == nic->mtu_set && forced == nic->mtu_forced)
		return (0);
	want = mtu != 0 ? mtu : vpc_nic_default_mtu(nic);
	if (want != nic->mtu && (error = os_nic_set_mtu(nic, want)) != 0)
		return (error);
	nic->mtu_set = mtu;
	nic->mtu_forced = forced;
	nic_mtu_store(nic, want);
	vpc_obj_changed(&nic->obj, txn);
	return (0);
}

int
vpc_op_nic_set_mtu(struct vpc_ctx *x)
{
	vpc_nic_mtu_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (req.fit != 0)
		return (VPC_ERR(VPC_EINVAL));
	x->vallen = 0;
	return (nic_set_mtu(obj2nic(x->obj), req.mtu, req.flags, req.txn));
}

int
vpc_op_nic_get_mtu(struct vpc_ctx *x)
{
	struct vpc_nic *nic = obj2nic(x->obj);
	vpc_nic_mtu_t out;

	memset(&out, 0, sizeof(out));
	out.mtu = nic->mtu;
	out.flags = (nic->mtu_set == 0 ? VPC_NIC_MTU_AUTO : 0) |
	    (nic->mtu_forced ? VPC_NIC_MTU_FORCE : 0);
	out.fit = vpc_nic_fit(nic);
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

int
vpc_nic_mtu_request(struct vpc_sys *sys,
    bool (*match)(struct vpc_nic *, void *), void *arg, uint32_t mtu)
{
	struct vpc_obj *o;
	int error = VPC_ENXIO;

	os_sx_xlock(sys->ctl);
	VPC_LIST_FOREACH(o, &sys->objs, link) {
		if (o->type == VPC_TYPE_NIC && match(obj2nic(o), arg)) {
			error = mtu == obj2nic(o)->mtu ? 0 :
			    nic_set_mtu(obj2nic(o), mtu, 0, 0);
			break;
		}
	}
	os_sx_xunlock(sys->ctl);
	return (error);
}

uint32_t
vpc_nic_mtu(const struct vpc_nic *nic)
{
	return (__atomic_load_n(&nic->mtu, __ATOMIC_RELAXED));
}

void **
vpc_nic_osp(struct vpc_nic *nic)
{
	return (&nic->os);
}

void
vpc_nic_mac(const struct vpc_nic *nic, uint8_t mac[6])
{
	memcpy(mac, nic->mac, 6);
}

const char *
vpc_nic_ifname(const struct vpc_nic *nic)
{
	return (nic->ifname);
}

struct vpc_sys *
vpc_nic_sys(const struct vpc_nic *nic)
{
	return (nic->obj.sys);
}
