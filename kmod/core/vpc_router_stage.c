/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_router_stage.c: the staged replace of a router's custom routes.
 *
 * ROUTE_REPLACE takes the whole table in one ctl key, so at most 910 routes.
 * A larger table is staged: BEGIN opens a stage (one per router, owned by
 * the handle that opened it), APPEND adds batches of routes to it, COMMIT
 * makes them the custom routes at once through the same path as
 * ROUTE_REPLACE (one new table built and published: readers see the old
 * table or the new one), ABORT drops it.  Nothing a stage holds is visible
 * to the data path or to the other ops until COMMIT.
 *
 * Every op checks everything before it changes anything; an error leaves
 * the stage and the live table as they were:
 *   - APPEND checks each route as ROUTE_SET does and against the stage's
 *     routes and the batch itself for duplicates (a hash of the staged
 *     routes, kept with the stage); a refused batch's entries are taken out
 *     of the hash again (they were the last in, so no probe chain of an
 *     earlier route runs through them) and the stage's count is unchanged;
 *     if the stage had to grow for it, its old storage is put back.
 *   - COMMIT checks every staged route again, against the attachments of
 *     now (a switch may have been detached since the append), then hands
 *     the stage's array to the router: no copy of up to 131,072 routes.
 *
 * Staged routes are kept as they were checked (txn, class and serial 0);
 * COMMIT numbers them.  The stage goes with its handle (the router's
 * `closed` hook), with the router (kill) and after COMMIT or ABORT.
 */
#include "vpc_impl.h"

struct vpc_rt_stage {
	const struct vpc_hdl *owner;    /* the handle that began it */
	uint64_t        token;
	vpc_rt_route_t *r;              /* staged, in append order */
	uint32_t        n, cap;
	uint32_t       *slot;           /* hash of r[]: index + 1; 0: empty */
	uint32_t        nslots;         /* a power of 2, at least 2 * cap */
};

#define STAGE_MIN_SLOTS 64u

void
vpc_rt_stage_free(struct vpc_router *rtr)
{
	struct vpc_rt_stage *st = rtr->stage;

	if (st == NULL)
		return;
	vpc_free(st->r, st->cap * sizeof(*st->r));
	vpc_free(st->slot, st->nslots * sizeof(*st->slot));
	vpc_free(st, sizeof(*st));
	rtr->stage = NULL;
}

const struct vpc_hdl *
vpc_rt_stage_owner(const struct vpc_router *rtr)
{
	return (rtr->stage != NULL ? rtr->stage->owner : NULL);
}

/* The caller's stage of this token (ENOENT: none, or another handle's). */
static int
stage_of(struct vpc_ctx *x, uint64_t token, struct vpc_rt_stage **out)
{
	struct vpc_rt_stage *st = obj2rtr(x->obj)->stage;

	if (st == NULL || st->owner != x->hdl || token == 0 || st->token != token)
		return (VPC_ERR(VPC_ENOENT));
	*out = st;
	return (0);
}

static void
stage_out(struct vpc_ctx *x, const struct vpc_rt_stage *st)
{
	vpc_rt_stage_t out;

	memset(&out, 0, sizeof(out));
	out.token = st->token;
	out.nroutes = st->n;
	memcpy(x->val, &out, sizeof(out));
	x->vallen = sizeof(out);
}

int
vpc_op_rtr_stage_begin(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	struct vpc_rt_stage *st;
	vpc_rt_stage_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (req.nroutes != 0 || req.token != 0)
		return (VPC_ERR(VPC_EINVAL));
	if (rtr->stage != NULL)
		return (VPC_ERR(VPC_EBUSY));
	if ((st = vpc_alloc(sizeof(*st), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	memset(st, 0, sizeof(*st));
	st->owner = x->hdl;
	st->token = ++rtr->stage_seq;
	rtr->stage = st;
	stage_out(x, st);
	return (0);
}

/* Where r's index is (or would go) in the hash; *dup: r is there already. */
static uint32_t
probe(const struct vpc_router *rtr, const struct vpc_rt_stage *st,
    const vpc_rt_route_t *r, bool *dup)
{
	uint32_t h = vpc_rt_hash(rtr, r) & (st->nslots - 1), s;

	*dup = false;
	while ((s = st->slot[h]) != 0) {
		if (vpc_rt_same(&st->r[s - 1], r)) {
			*dup = true;
			break;
		}
		h = (h + 1) & (st->nslots - 1);
	}
	return (h);
}

/* A stage's storage: its routes and their hash. */
struct stage_room {
	vpc_rt_route_t *r;
	uint32_t        cap;
	uint32_t       *slot;
	uint32_t        nslots;
};

static void
room_of(const struct vpc_rt_stage *st, struct stage_room *rm)
{
	rm->r = st->r;
	rm->cap = st->cap;
	rm->slot = st->slot;
	rm->nslots = st->nslots;
}

static void
room_set(struct vpc_rt_stage *st, const struct stage_room *rm)
{
	st->r = rm->r;
	st->cap = rm->cap;
	st->slot = rm->slot;
	st->nslots = rm->nslots;
}

static void
room_free(const struct stage_room *rm)
{
	vpc_free(rm->r, rm->cap * sizeof(*rm->r));
	vpc_free(rm->slot, rm->nslots * sizeof(*rm->slot));
}

/*
 * Room for want routes.  When the stage must grow, it gets new storage with
 * the routes staged so far copied and hashed, and *old is what it had: the
 * caller frees *old once the batch is in, or puts it back (room_set, then
 * room_free of the new) if the batch is refused, so that a refusal leaves
 * even the stage's memory as it was.  ENOMEM: nothing changed.
 */
static int
stage_reserve(const struct vpc_router *rtr, struct vpc_rt_stage *st, uint32_t want,
    struct stage_room *old, bool *grown)
{
	struct stage_room rm;
	uint32_t i, h;
	bool dup;

	*grown = false;
	if (want <= st->cap)
		return (0);
	rm.cap = st->cap < 64 ? 64 : st->cap;
	while (rm.cap < want)
		rm.cap *= 2;
	if (rm.cap > VPC_RTR_MAX_ROUTES)
		rm.cap = VPC_RTR_MAX_ROUTES;
	for (rm.nslots = STAGE_MIN_SLOTS; rm.nslots < 2 * rm.cap; rm.nslots *= 2)
		;
	if ((rm.r = vpc_alloc(rm.cap * sizeof(*rm.r), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if ((rm.slot = vpc_alloc(rm.nslots * sizeof(*rm.slot), VPC_M_WAITOK)) == NULL) {
		vpc_free(rm.r, rm.cap * sizeof(*rm.r));
		return (VPC_ERR(VPC_ENOMEM));
	}
	if (st->n > 0)
		memcpy(rm.r, st->r, st->n * sizeof(*rm.r));
	memset(rm.slot, 0, rm.nslots * sizeof(*rm.slot));
	room_of(st, old);
	room_set(st, &rm);
	for (i = 0; i < st->n; i++) {
		h = probe(rtr, st, &st->r[i], &dup);
		st->slot[h] = i + 1;
	}
	*grown = true;
	return (0);
}

/* Take the batch's entries r[from..upto) out of the hash again. */
static void
unhash_batch(const struct vpc_router *rtr, struct vpc_rt_stage *st,
    uint32_t from, uint32_t upto)
{
	uint32_t i, h;

	for (i = from; i < upto; i++) {
		h = vpc_rt_hash(rtr, &st->r[i]) & (st->nslots - 1);
		while (st->slot[h] != i + 1)
			h = (h + 1) & (st->nslots - 1);
		st->slot[h] = 0;
	}
}

/* Check and hash in[0..n) after the staged routes; n not yet counted. */
static int
stage_batch(const struct vpc_router *rtr, struct vpc_rt_stage *st,
    const vpc_rt_route_t *in, uint32_t n, uint64_t token)
{
	vpc_rt_route_t r;
	uint32_t i, h = 0;
	bool dup;
	int error;

	for (i = 0; i < n; i++) {
		memcpy(&r, &in[i], sizeof(r));
		if (r.txn != 0 || (r.serial != 0 && r.serial != token))
			error = VPC_ERR(VPC_EINVAL);
		else {
			r.serial = 0;
			r.cls = r.cls == VPC_RT_CUSTOM ? 0 : r.cls;
			error = vpc_rt_check(rtr, &r, true);
		}
		if (error == 0) {
			h = probe(rtr, st, &r, &dup);
			if (dup)
				error = VPC_ERR(VPC_EEXIST);
		}
		if (error != 0) {
			unhash_batch(rtr, st, st->n, st->n + i);
			return (error);
		}
		st->r[st->n + i] = r;
		st->slot[h] = st->n + i + 1;
	}
	return (0);
}

int
vpc_op_rtr_stage_append(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	const vpc_rt_route_t *in = x->key;
	size_t n = x->keylen / sizeof(vpc_rt_route_t);
	struct stage_room old, grownto;
	struct vpc_rt_stage *st;
	vpc_rt_route_t first;
	bool grown;
	int error;

	memcpy(&first, &in[0], sizeof(first));
	if ((error = stage_of(x, first.serial, &st)) != 0)
		return (error);
	if (n > VPC_RTR_MAX_ROUTES - st->n)
		return (VPC_ERR(VPC_ENOSPC));
	if ((error = stage_reserve(rtr, st, st->n + (uint32_t)n, &old, &grown)) != 0)
		return (error);
	if ((error = stage_batch(rtr, st, in, (uint32_t)n, first.serial)) != 0) {
		if (grown) {
			room_of(st, &grownto);
			room_set(st, &old);
			room_free(&grownto);
		}
		return (error);
	}
	if (grown)
		room_free(&old);
	st->n += (uint32_t)n;
	stage_out(x, st);
	return (0);
}

int
vpc_op_rtr_stage_commit(struct vpc_ctx *x)
{
	struct vpc_router *rtr = obj2rtr(x->obj);
	struct vpc_rt_stage *st;
	vpc_rt_stage_t req;
	uint32_t i;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (req.nroutes != 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((error = stage_of(x, req.token, &st)) != 0)
		return (error);
	/* The attachments may have changed since the routes were appended. */
	for (i = 0; i < st->n; i++)
		if ((error = vpc_rt_check(rtr, &st->r[i], true)) != 0)
			return (error);
	if ((error = vpc_rtr_install_custom(rtr, st->r, st->n, st->cap)) != 0)
		return (error);
	st->r = NULL;                   /* the router's now */
	st->cap = 0;
	vpc_rt_stage_free(rtr);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_rtr_stage_abort(struct vpc_ctx *x)
{
	struct vpc_rt_stage *st;
	vpc_rt_stage_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if (req.txn != 0 || req.nroutes != 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((error = stage_of(x, req.token, &st)) != 0)
		return (error);
	vpc_rt_stage_free(obj2rtr(x->obj));
	x->vallen = 0;
	return (0);
}

/* The stage against itself (vpc_check.c): counts, and every route hashed. */
void
vpc_rt_stage_check(const struct vpc_router *rtr, struct vpc_check *c)
{
	const struct vpc_rt_stage *st = rtr->stage;
	uint32_t i, used = 0;
	bool dup;

	if (st == NULL)
		return;
	c->checked += 2;
	if (st->n > st->cap || st->cap > VPC_RTR_MAX_ROUTES)
		vpc_check_fail(c, "router stage: routes within its room and the cap",
		    st->n, st->cap);
	if (st->owner == NULL || st->owner->obj != &rtr->obj)
		vpc_check_fail(c, "router stage: owned by a handle on its router", 0, 1);
	for (i = 0; i < st->nslots; i++)
		used += st->slot[i] != 0;
	c->checked++;
	if (used != st->n)
		vpc_check_fail(c, "router stage: hashed routes", used, st->n);
	for (i = 0; i < st->n; i++) {
		c->checked++;
		if (st->slot[probe(rtr, st, &st->r[i], &dup)] != i + 1)
			vpc_check_fail(c, "router stage: a route is found in its hash", 0, 1);
	}
}
