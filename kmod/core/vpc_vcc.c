/*
 * vpc_vcc.c: the vcc, this node's VXLAN underlay endpoint.  An uplink port
 * plugs into it.
 */
#include "vpc_impl.h"

/* An uplink whose vcc is gone has nowhere to send: remove it too. */
static void
vcc_kill(struct vpc_obj *o)
{
	struct vpc_vcc *vcc = obj2vcc(o);

	if (vcc->port != NULL)
		vpc_obj_kill(&vcc->port->obj);
}

static bool
vcc_busy(const struct vpc_obj *o)
{
	return (((const struct vpc_vcc *)o)->port != NULL);
}

const struct vpc_objops vpc_vcc_ops = {
	.size = sizeof(struct vpc_vcc),
	.kill = vcc_kill,
	.busy = vcc_busy,
};
