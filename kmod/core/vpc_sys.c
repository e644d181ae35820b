/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_sys.c: one instance of the object graph, and the ops that look at it
 * as a whole (SYS_LIST, SYS_STATS).
 */
#include "vpc_impl.h"

int
vpc_sys_create(struct vpc_sys **out)
{
	struct vpc_sys *sys;
	int error;

	sys = vpc_alloc(sizeof(*sys), VPC_M_WAITOK);
	if (sys == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	sys->ctl = os_sx_create("vpc ctl");
	if (sys->ctl == NULL) {
		vpc_free(sys, sizeof(*sys));
		return (VPC_ERR(VPC_ENOMEM));
	}
	vpc_hashkey_init(&sys->hkey);
	if ((error = vpc_reg_init(sys)) != 0)
		goto fail;
	if ((error = vpc_upq_create(sys)) != 0)
		goto fail;
	if ((sys->drop_unplugged = os_counter_alloc(VPC_M_WAITOK)) == NULL) {
		error = VPC_ERR(VPC_ENOMEM);
		goto fail;
	}
	if ((error = vpc_fw_create(sys)) != 0) {
		os_counter_free(sys->drop_unplugged);
		goto fail;
	}
	*out = sys;
	return (0);
fail:
	vpc_upq_destroy(sys);
	if (sys->buckets != NULL)
		vpc_reg_fini(sys);
	os_sx_destroy(sys->ctl);
	vpc_free(sys, sizeof(*sys));
	return (error);
}

bool
vpc_sys_busy(struct vpc_sys *sys)
{
	bool busy;

	os_sx_xlock(sys->ctl);
	busy = sys->nobjs != 0 || sys->nhandles != 0 || vpc_fw_has_sets(sys);
	os_sx_xunlock(sys->ctl);
	return (busy);
}

/*
 * Kill every object, committed or not, and drop every firewall rule set
 * (host kernel shutdown; the FreeBSD module refuses to unload instead).
 * Handles must be closed already.
 */
void
vpc_sys_teardown(struct vpc_sys *sys)
{
	os_sx_xlock(sys->ctl);
	sys->tearing_down = true;       /* no MTU to follow for what dies */
	/* A kill can take other objects along, so start over each time. */
	while (!VPC_LIST_EMPTY(&sys->objs))
		vpc_obj_kill(VPC_LIST_FIRST(&sys->objs));
	vpc_fw_drop_sets(sys);          /* no port is left to hold one */
	os_sx_xunlock(sys->ctl);
}

int
vpc_sys_destroy(struct vpc_sys *sys)
{
	if (vpc_sys_busy(sys))
		return (VPC_ERR(VPC_EBUSY));
	vpc_fw_destroy(sys);
	vpc_vnitab_free(sys);
	vpc_upq_destroy(sys);
	os_counter_free(sys->drop_unplugged);
	vpc_reg_fini(sys);
	os_sx_destroy(sys->ctl);
	vpc_free(sys, sizeof(*sys));
	return (0);
}

int
vpc_op_sys_list(struct vpc_ctx *x)
{
	vpc_list_req_t req;
	vpc_obj_info_t info;
	struct vpc_obj *o, *first;
	size_t fit, n = 0, rest = 0;

	memcpy(&req, x->key, sizeof(req));
	if (req.obj_type > VPC_TYPE_MAX)
		return (VPC_ERR(VPC_EINVAL));
	for (n = 0; n < sizeof(req._pad0); n++)
		if (req._pad0[n] != 0)
			return (VPC_ERR(VPC_EINVAL));
	n = 0;
	for (first = VPC_LIST_FIRST(&x->sys->objs); first != NULL &&
	    first->serial <= req.marker; first = VPC_LIST_NEXT(first, link))
		;
	fit = x->vallen / sizeof(info);
	for (o = first; o != NULL; o = VPC_LIST_NEXT(o, link)) {
		if (req.obj_type != 0 && o->type != req.obj_type)
			continue;
		if (n < fit) {
			vpc_obj_info(o, &info);
			memcpy((char *)x->val + n * sizeof(info), &info,
			    sizeof(info));
			n++;
		} else
			rest++;
	}
	if (n == 0 && rest > 0) {
		size_t need = rest * sizeof(info);

		x->vallen = need < VPC_CTL_MAX_VALLEN ? need :
		    VPC_CTL_MAX_VALLEN - VPC_CTL_MAX_VALLEN % sizeof(info);
		return (VPC_ERR(VPC_ERANGE));
	}
	x->vallen = n * sizeof(info);
	return (0);
}

int
vpc_op_sys_stats(struct vpc_ctx *x)
{
	vpc_sys_stats_t st;
	size_t i;

	memset(&st, 0, sizeof(st));
	st.objects = x->sys->nobjs;
	st.handles = x->sys->nhandles;
	for (i = 0; i <= VPC_TYPE_MAX; i++)
		st.by_type[i] = x->sys->by_type[i];
	st.mem_bytes = vpc_mem_bytes();
	st.mem_allocs = vpc_mem_allocs();
	st.conn_refused = os_conn_refused();
	memcpy(x->val, &st, sizeof(st));
	return (0);
}
