/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_obj_ops.c: the ops every object answers (NOP, GET_TXN, COMMIT, DESTROY,
 * GET_TYPE, GET_ID, GET_INFO).  Sizes and applicability were checked by the
 * dispatcher (vpc_ctl.c) before any of these runs.
 */
#include "vpc_impl.h"

int
vpc_op_nop(struct vpc_ctx *x)
{
	x->vallen = 0;
	return (0);
}

int
vpc_op_get_txn(struct vpc_ctx *x)
{
	vpc_txn_t t = vpc_txn_issue(x->obj);

	memcpy(x->val, &t, sizeof(t));
	return (0);
}

int
vpc_op_commit(struct vpc_ctx *x)
{
	vpc_txn_t txn;
	int error;

	memcpy(&txn, x->key, sizeof(txn));
	if ((error = vpc_txn_check(x->obj, txn)) != 0)
		return (error);
	if (x->obj->owned)
		return (VPC_ERR(VPC_EOPNOTSUPP));    /* it follows its parent */
	if (x->obj->committed)
		return (VPC_ERR(VPC_EALREADY));
	x->obj->committed = true;
	vpc_obj_changed(x->obj, txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_destroy(struct vpc_ctx *x)
{
	vpc_txn_t txn;
	int error;

	memcpy(&txn, x->key, sizeof(txn));
	if ((error = vpc_txn_check(x->obj, txn)) != 0)
		return (error);
	if (x->obj->ops->busy != NULL && x->obj->ops->busy(x->obj))
		return (VPC_ERR(VPC_EBUSY));
	vpc_obj_kill(x->obj);
	x->vallen = 0;
	return (0);
}

int
vpc_op_get_type(struct vpc_ctx *x)
{
	vpc_type_t w = VPC_TYPE_WORD(x->obj->type);

	memcpy(x->val, &w, sizeof(w));
	return (0);
}

int
vpc_op_get_id(struct vpc_ctx *x)
{
	memcpy(x->val, &x->obj->id, sizeof(x->obj->id));
	return (0);
}

int
vpc_op_get_info(struct vpc_ctx *x)
{
	vpc_obj_info_t info;

	vpc_obj_info(x->obj, &info);
	memcpy(x->val, &info, sizeof(info));
	return (0);
}
