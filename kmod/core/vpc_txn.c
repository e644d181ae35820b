/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_txn.c: transaction tokens, compare-and-swap style.
 *
 * GET_TXN hands out a fresh token (a per-object counter).  A mutating op that
 * carries token T succeeds when nobody else changed the object since T was
 * issued: either T was issued after the last change (T > txn_seen), or the
 * last change was itself made under T (T == txn_last), so a caller's own
 * changes keep its token valid.  Any other change, including an
 * unconditional one (token 0), makes every outstanding token stale.
 */
#include "vpc_impl.h"

vpc_txn_t
vpc_txn_issue(struct vpc_obj *o)
{
	VPC_ASSERT_CTL(o->sys);
	if (o->txn_issued == 0x7fffffff) {
		/*
		 * After 2^31 tokens start over; every token issued before is
		 * now "from the future" and so answered ESTALE, which sends its
		 * holder back to GET_TXN: the safe direction.
		 */
		o->txn_issued = 0;
		o->txn_seen = 0;
		o->txn_last = 0;
	}
	return (++o->txn_issued);
}

int
vpc_txn_check(const struct vpc_obj *o, vpc_txn_t txn)
{
	VPC_ASSERT_CTL(o->sys);
	if (txn == 0)
		return (0);
	if (txn < 0)
		return (VPC_ERR(VPC_EINVAL));
	if (txn > o->txn_issued)
		return (VPC_ERR(VPC_ESTALE));
	if (txn > o->txn_seen || txn == o->txn_last)
		return (0);
	return (VPC_ERR(VPC_ESTALE));
}
