/*
 * vpc_nic.c: the vmnic.  A unicast MAC, the switch port it is plugged into,
 * and the OS's side of it (an ifnet on FreeBSD, a TAP device on the host).
 */
#include "vpc_impl.h"

static int
nic_init(struct vpc_obj *o)
{
	return (os_nic_attach(obj2nic(o)));
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
	.busy = nic_busy,
};

int
vpc_op_nic_set_mac(struct vpc_ctx *x)
{
	struct vpc_nic *nic = obj2nic(x->obj);
	vpc_vmnic_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (req._pad0[0] != 0 || req._pad0[1] != 0)
		return (VPC_EINVAL);
	if (vpc_mac_is_zero(req.mac) || vpc_mac_is_multicast(req.mac))
		return (VPC_EINVAL);
	x->vallen = 0;
	if (memcmp(nic->mac, req.mac, sizeof(nic->mac)) == 0)
		return (0);
	if (nic->port != NULL &&
	    (error = vpc_switch_check_mac(nic->port->sw, nic, req.mac)) != 0)
		return (error);
	memcpy(nic->mac, req.mac, sizeof(nic->mac));
	os_nic_mac_changed(nic);
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
