/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_natgw_ops.c: vpcnat's address ops (EIPs, SNAT pools and bindings)
 * and its flow dump.  Each checks what the object knows (padding, the
 * router's subnets) before the engine checks the rest; the engine changes
 * nothing when it fails (vpc_nat_cfg.c), so neither does the op.
 */
#include "vpc_nat_impl.h"

/* A host's address: not 0/8, 127/8 or 224/3 (as the engine's check). */
static bool
host4(const uint8_t a[4])
{
	return (a[0] != 0 && a[0] != 127 && a[0] < 224);
}

/* A private address the NAT serves: in one of its router's IPv4 subnets. */
static int
check_private(const struct vpc_natgw *ng, const uint8_t priv[4])
{
	uint8_t a[16];

	memset(a, 0, sizeof(a));
	memcpy(a, priv, 4);
	if (ng->rtr == NULL || !vpc_router_holds(ng->rtr, VPC_AF_INET, a))
		return (VPC_ERR(VPC_EADDRNOTAVAIL));
	return (0);
}

/* ---- EIPs ------------------------------------------------------------------------- */

int
vpc_op_nat_eip_bind(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	vpc_nat_eip_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!vpc_all_zero(req._pad0, sizeof(req._pad0)) || !host4(req.priv) ||
	    !host4(req.ext))
		return (VPC_ERR(VPC_EINVAL));
	if ((error = check_private(ng, req.priv)) != 0)
		return (error);
	/* An address bound to SNAT cannot take an EIP too (one way out). */
	if (vpc_nat_bind_by_priv(ng->eng->cfg, vpc_nat_get32(req.priv)) != NULL)
		return (VPC_ERR(VPC_EEXIST));
	if ((error = vpc_nat_eip_bind(ng->eng, req.priv, req.ext)) != 0)
		return (error);
	vpc_natgw_announce(ng, req.ext);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_nat_eip_unbind(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	const struct vpc_nat_eip *e;
	vpc_nat_eip_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!vpc_all_zero(req._pad0, sizeof(req._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	e = vpc_nat_eip_by_priv(ng->eng->cfg, vpc_nat_get32(req.priv));
	if (e == NULL || (!vpc_all_zero(req.ext, 4) &&
	    e->ext != vpc_nat_get32(req.ext)))
		return (VPC_ERR(VPC_ENOENT));
	if ((error = vpc_nat_eip_unbind(ng->eng, req.priv)) != 0)
		return (error);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_nat_eip_list(struct vpc_ctx *x)
{
	const struct vpc_nat_cfg *c = obj2natgw(x->obj)->eng->cfg;
	size_t fit = x->vallen / sizeof(vpc_nat_eip_t), n = 0;
	vpc_list_req_t req;
	vpc_nat_eip_t out;
	uint32_t i;

	memcpy(&req, x->key, sizeof(req));
	if (req.obj_type != 0 || !vpc_all_zero(req._pad0, sizeof(req._pad0)) ||
	    req.marker > 0xffffffffu)
		return (VPC_ERR(VPC_EINVAL));
	for (i = 0; i < c->neip && req.marker != 0 &&
	    c->eip_priv[i].priv <= req.marker; i++)
		;
	if (i < c->neip && fit == 0) {
		x->vallen = sizeof(out);
		return (VPC_ERR(VPC_ERANGE));
	}
	for (; i < c->neip && n < fit; i++, n++) {
		memset(&out, 0, sizeof(out));
		vpc_put32(out.priv, c->eip_priv[i].priv);
		vpc_put32(out.ext, c->eip_priv[i].ext);
		memcpy((char *)x->val + n * sizeof(out), &out, sizeof(out));
	}
	x->vallen = n * sizeof(out);
	return (0);
}

/* ---- SNAT pools and bindings -------------------------------------------------------- */

int
vpc_op_nat_pool_add(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	vpc_nat_pool_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!vpc_all_zero(req._pad0, sizeof(req._pad0)) || !host4(req.ext))
		return (VPC_ERR(VPC_EINVAL));
	if ((error = vpc_nat_pool_add(ng->eng, req.ext, req.lo, req.hi,
	    req.block)) != 0)
		return (error);
	vpc_natgw_announce(ng, req.ext);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_nat_pool_del(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	vpc_nat_pool_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!vpc_all_zero(req._pad0, sizeof(req._pad0)) || req.lo != 0 ||
	    req.hi != 0 || req.block != 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((error = vpc_nat_pool_del(ng->eng, req.ext)) != 0)
		return (error);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

static bool
snat_out_zero(const vpc_nat_snat_t *r)
{
	return (vpc_all_zero(r->block_lo, sizeof(r->block_lo)) &&
	    r->block_size == 0 && vpc_all_zero(r->flows, sizeof(r->flows)) &&
	    vpc_all_zero(r->exhausted, sizeof(r->exhausted)));
}

int
vpc_op_nat_snat_bind(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	vpc_nat_snat_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!snat_out_zero(&req) || !host4(req.priv) || !host4(req.ext))
		return (VPC_ERR(VPC_EINVAL));
	if ((error = check_private(ng, req.priv)) != 0)
		return (error);
	if (vpc_nat_eip_by_priv(ng->eng->cfg, vpc_nat_get32(req.priv)) != NULL)
		return (VPC_ERR(VPC_EEXIST));   /* it has an EIP: one way out */
	if ((error = vpc_nat_snat_bind(ng->eng, req.priv, req.ext)) != 0)
		return (error);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_nat_snat_unbind(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	vpc_nat_snat_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (!snat_out_zero(&req) || !vpc_all_zero(req.ext, 4))
		return (VPC_ERR(VPC_EINVAL));
	if ((error = vpc_nat_snat_unbind(ng->eng, req.priv)) != 0)
		return (error);
	vpc_obj_changed(x->obj, req.txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_nat_snat_get(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	struct vpc_nat_snat_info info;
	vpc_nat_snat_t req, out;
	unsigned i;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if (req.txn != 0 || !snat_out_zero(&req) || !vpc_all_zero(req.ext, 4))
		return (VPC_ERR(VPC_EINVAL));
	if ((error = vpc_nat_snat_get(ng->eng, req.priv, &info)) != 0)
		return (error);
	memset(&out, 0, sizeof(out));
	memcpy(out.priv, req.priv, 4);
	memcpy(out.ext, info.ext, 4);
	for (i = 0; i < VPC_NAT_NPROTO; i++) {
		out.block_lo[i] = info.lo[i];
		out.flows[i] = info.flows[i];
		out.exhausted[i] = info.exhausted[i];
	}
	out.block_size = info.size;
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

/* ---- Flow dump ------------------------------------------------------------------------
 * Flows in order of their inbound key (protocol, external address and port,
 * remote address and port), which is unique among live flows: the caller
 * resumes after the last key it got, so a flow made or gone between calls
 * is seen once or not at all, never twice.  One walk per call keeps the
 * `fit` smallest keys after the marker in a max-heap.
 */
struct dump_heap {
	vpc_nat_flow_t *h;
	size_t          n, cap;
	vpc_nat_flow_req_t after;       /* resume: only keys above this */
	bool            resume;
};

static int
key_cmp(const vpc_nat_flow_t *a, uint8_t proto, const uint8_t ext[4],
    uint16_t eport, const uint8_t remote[4], uint16_t rport)
{
	int c;

	if (a->proto != proto)
		return (a->proto < proto ? -1 : 1);
	if ((c = memcmp(a->ext, ext, 4)) != 0)
		return (c);
	if (a->eport != eport)
		return (a->eport < eport ? -1 : 1);
	if ((c = memcmp(a->remote, remote, 4)) != 0)
		return (c);
	if (a->rport != rport)
		return (a->rport < rport ? -1 : 1);
	return (0);
}

static int
flow_cmp(const vpc_nat_flow_t *a, const vpc_nat_flow_t *b)
{
	return (key_cmp(a, b->proto, b->ext, b->eport, b->remote, b->rport));
}

static void
heap_down(vpc_nat_flow_t *h, size_t n, size_t i)
{
	vpc_nat_flow_t t;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && flow_cmp(&h[l], &h[m]) > 0)
			m = l;
		if (r < n && flow_cmp(&h[r], &h[m]) > 0)
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void
heap_up(vpc_nat_flow_t *h, size_t i)
{
	vpc_nat_flow_t t;

	while (i > 0 && flow_cmp(&h[(i - 1) / 2], &h[i]) < 0) {
		t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static void
dump_one(const struct vpc_nat_flowinfo *fi, void *arg)
{
	struct dump_heap *d = arg;
	vpc_nat_flow_t f;

	memset(&f, 0, sizeof(f));
	f.proto = fi->proto;
	f.state = fi->state;
	memcpy(f.priv, fi->priv, 4);
	memcpy(f.ext, fi->ext, 4);
	memcpy(f.remote, fi->remote, 4);
	f.pport = fi->pport;
	f.eport = fi->eport;
	f.rport = fi->rport;
	f.idle_ms = fi->idle_ns / 1000000u;
	if (d->resume && key_cmp(&f, d->after.proto, d->after.ext,
	    d->after.eport, d->after.remote, d->after.rport) <= 0)
		return;
	if (d->n < d->cap) {
		d->h[d->n] = f;
		heap_up(d->h, d->n++);
	} else if (d->cap > 0 && flow_cmp(&f, &d->h[0]) < 0) {
		d->h[0] = f;
		heap_down(d->h, d->n, 0);
	} else if (d->cap == 0)
		d->n = 1;               /* one exists: ERANGE */
}

int
vpc_op_nat_flow_dump(struct vpc_ctx *x)
{
	struct vpc_natgw *ng = obj2natgw(x->obj);
	struct dump_heap d;
	vpc_nat_flow_req_t req;
	vpc_nat_flow_t t;
	size_t i, n;

	memcpy(&req, x->key, sizeof(req));
	if (req.resume > 1 || !vpc_all_zero(req._pad0, sizeof(req._pad0)) ||
	    (req.resume == 0 && (req.proto != 0 || !vpc_all_zero(req.ext, 4) ||
	    !vpc_all_zero(req.remote, 4) || req.eport != 0 || req.rport != 0)))
		return (VPC_ERR(VPC_EINVAL));
	memset(&d, 0, sizeof(d));
	d.after = req;
	d.resume = req.resume == 1;
	d.cap = x->vallen / sizeof(vpc_nat_flow_t);
	if (d.cap > 0 && (d.h = vpc_alloc(d.cap * sizeof(*d.h), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	vpc_nat_sweep(ng->eng);         /* what has expired is not shown */
	vpc_nat_flow_walk(ng->eng, dump_one, &d);
	if (d.cap == 0) {
		if (d.n == 0) {
			x->vallen = 0;
			return (0);
		}
		x->vallen = sizeof(vpc_nat_flow_t);
		return (VPC_ERR(VPC_ERANGE));
	}
	/* Heap sort: the largest to the end, one at a time. */
	for (n = d.n; n > 1; n--) {
		t = d.h[0];
		d.h[0] = d.h[n - 1];
		d.h[n - 1] = t;
		heap_down(d.h, n - 1, 0);
	}
	for (i = 0; i < d.n; i++)
		memcpy((char *)x->val + i * sizeof(t), &d.h[i], sizeof(t));
	x->vallen = d.n * sizeof(t);
	vpc_free(d.h, d.cap * sizeof(*d.h));
	return (0);
}
