/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nbr_ops.c: the neighbour table's ops (set, get, delete, flush, dump),
 * with the CAM ops' discipline: every entry is checked, and everything
 * allocated, before anything is applied, so an error means nothing
 * happened.
 */
#include "vpc_ktab.h"

/* ---- ABI <-> entries ------------------------------------------------------ */

/* The address of a key or entry: a host's, inside the switch's subnet. */
static int
check_addr(const struct vpc_switch *sw, uint8_t af, const uint8_t addr[16])
{
	const struct vpc_swcfg *cfg = sw->cfg;
	const struct vpc_subnet *s;
	uint8_t a[16];

	if (af != VPC_AF_INET && af != VPC_AF_INET6)
		return (VPC_ERR(VPC_EAFNOSUPPORT));
	if (af == VPC_AF_INET && !vpc_all_zero(addr + 4, 12))
		return (VPC_ERR(VPC_EINVAL));
	if (!vpc_nbr_addr_ok(af, addr))
		return (VPC_ERR(VPC_EINVAL));
	memset(a, 0, sizeof(a));
	memcpy(a, addr, af == VPC_AF_INET ? 4 : 16);
	s = af == VPC_AF_INET ? &cfg->sub4 : &cfg->sub6;
	if (s->plen == 0 || !vpc_subnet_contains(s, a))
		return (VPC_ERR(VPC_EINVAL));
	return (0);
}

static int
check_entry(const struct vpc_switch *sw, const vpc_sw_nbr_t *n)
{
	int error;

	if ((error = check_addr(sw, n->af, n->addr)) != 0)
		return (error);
	if (n->flags != 0)
		return (VPC_ERR(VPC_EINVAL));
	if (n->kind == VPC_NBR_FOUND) {
		if (vpc_mac_is_zero(n->mac) || vpc_mac_is_multicast(n->mac))
			return (VPC_ERR(VPC_EINVAL));
	} else if (n->kind != VPC_NBR_NEGATIVE || !vpc_mac_is_zero(n->mac))
		return (VPC_ERR(VPC_EINVAL));
	if (n->ttl_ms > VPC_CAM_TTL_MAX_MS)
		return (VPC_ERR(VPC_ERANGE));
	return (0);
}

static void
entry_from(struct vpc_nbr_ent *e, const vpc_sw_nbr_t *n, uint64_t now)
{
	memset(e, 0, sizeof(*e));
	e->af = n->af;
	memcpy(e->addr, n->addr, n->af == VPC_AF_INET ? 4 : 16);
	e->kind = n->kind;
	memcpy(e->mac, n->mac, 6);
	e->k.ttl_ms = n->ttl_ms;
	e->k.expire_ns = n->ttl_ms != 0 ? now + (uint64_t)n->ttl_ms * 1000000u : 0;
	e->k.revision = n->revision;
}

static void
entry_to(const struct vpc_nbr_ent *e, uint64_t now, uint64_t cursor,
    vpc_sw_nbr_t *n)
{
	memset(n, 0, sizeof(*n));
	n->af = e->af;
	n->kind = e->kind;
	memcpy(n->mac, e->mac, 6);
	memcpy(n->addr, e->addr, 16);
	if (e->k.expire_ns != 0)
		n->ttl_ms = e->k.expire_ns > now ?
		    (uint32_t)((e->k.expire_ns - now + 999999) / 1000000) : 0;
	if (__atomic_load_n(&e->used, __ATOMIC_RELAXED) != 0)
		n->flags = VPC_NBR_F_USED;
	if (e->port != NULL)
		n->port_id = e->port->obj.id;
	n->generation = e->k.gen;
	n->revision = e->k.revision;
	n->cursor = cursor;
}

/* ---- SW_NBR_SET ----------------------------------------------------------- */

int
vpc_op_sw_nbr_set(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	size_t n = x->keylen / sizeof(vpc_sw_nbr_t), i;
	struct vpc_nbr_ent **ents;
	vpc_cam_set_result_t res = { 0, 0 };
	const struct vpc_nbr_ent *cur;
	vpc_sw_nbr_t c;
	uint64_t now = vpc_ttl_now();
	bool stale, announce;
	int error = 0;

	if (n > VPC_NBR_BATCH_MAX)
		return (VPC_ERR(VPC_E2BIG));
	for (i = 0; i < n; i++) {
		memcpy(&c, (const char *)x->key + i * sizeof(c), sizeof(c));
		if ((error = check_entry(sw, &c)) != 0)
			return (error);
		os_mtx_lock(sw->mtx);
		cur = vpc_nbr_find(sw, c.af, c.addr);
		if (cur != NULL && cur->kind == VPC_NBR_LOCAL)
			error = VPC_ERR(VPC_EBUSY);
		os_mtx_unlock(sw->mtx);
		if (error != 0)
			return (error);
	}
	/* Allocate everything first: from here on nothing fails. */
	if ((ents = vpc_alloc(n * sizeof(*ents), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	for (i = 0; i < n; i++)
		if ((ents[i] = vpc_nbr_ent_new()) == NULL)
			error = VPC_ERR(VPC_ENOMEM);
	if (error == 0)
		error = vpc_nbr_reserve(sw, (uint32_t)n);
	if (error == 0)
		error = vpc_after_reserve(x, (uint32_t)n);
	if (error == 0) {
		for (i = 0; i < n; i++) {
			memcpy(&c, (const char *)x->key + i * sizeof(c), sizeof(c));
			entry_from(ents[i], &c, now);
			if (!vpc_nbr_install(sw, ents[i], &stale, &announce)) {
				res.stale += stale;
				continue;
			}
			ents[i] = NULL;
			res.applied++;
			if (announce) {
				struct vpc_after *a = &x->after[x->nafter++];

				a->sw = sw;
				a->what = VPC_AFTER_ANNOUNCE;
				a->af = c.af;
				memcpy(a->addr, c.addr, 16);
				memcpy(a->mac, c.mac, 6);
			}
		}
	}
	for (i = 0; i < n; i++)
		vpc_nbr_ent_free(ents[i]);
	vpc_free(ents, n * sizeof(*ents));
	if (error == 0)
		memcpy(x->val, &res, sizeof(res));
	return (error);
}

/* ---- SW_NBR_GET / SW_NBR_DEL ---------------------------------------------- */

static int
read_key(const struct vpc_ctx *x, vpc_nbr_key_t *k)
{
	memcpy(k, x->key, sizeof(*k));
	if (k->af != VPC_AF_INET && k->af != VPC_AF_INET6)
		return (VPC_ERR(VPC_EAFNOSUPPORT));
	if (!vpc_all_zero(k->_pad0, sizeof(k->_pad0)) ||
	    (k->af == VPC_AF_INET && !vpc_all_zero(k->addr + 4, 12)))
		return (VPC_ERR(VPC_EINVAL));
	return (0);
}

int
vpc_op_sw_nbr_get(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	const struct vpc_nbr_ent *e;
	uint64_t now = vpc_ttl_now();
	vpc_nbr_key_t k;
	vpc_sw_nbr_t out;
	int error;

	if ((error = read_key(x, &k)) != 0)
		return (error);
	os_mtx_lock(sw->mtx);
	e = vpc_nbr_find(sw, k.af, k.addr);
	if (e == NULL || vpc_kent_expired(&e->k, now))
		error = VPC_ERR(VPC_ENOENT);
	else
		entry_to(e, now, 0, &out);
	os_mtx_unlock(sw->mtx);
	if (error == 0)
		memcpy(x->val, &out, sizeof(out));
	return (error);
}

int
vpc_op_sw_nbr_del(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	struct vpc_nbr_ent *e;
	vpc_nbr_key_t k;
	int error;

	if ((error = read_key(x, &k)) != 0)
		return (error);
	os_mtx_lock(sw->mtx);
	e = vpc_nbr_find(sw, k.af, k.addr);
	if (e == NULL)
		error = VPC_ERR(VPC_ENOENT);
	else if (e->kind == VPC_NBR_LOCAL)
		error = VPC_ERR(VPC_EBUSY);
	else
		vpc_nbr_remove(sw, e);
	os_mtx_unlock(sw->mtx);
	x->vallen = 0;
	return (error);
}

/* ---- SW_NBR_FLUSH ---------------------------------------------------------- */

static bool
not_local(const struct vpc_nbr_ent *e, void *arg)
{
	(void)arg;
	return (e->kind != VPC_NBR_LOCAL);
}

int
vpc_op_sw_nbr_flush(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	vpc_cam_flush_t f;
	uint64_t n;

	memcpy(&f, x->key, sizeof(f));
	if (f.flags != 0 || (f.vni != VPC_VNI_ANY && f.vni != sw->vni))
		return (VPC_ERR(VPC_EINVAL));
	os_mtx_lock(sw->mtx);
	n = vpc_nbr_remove_if(sw, not_local, NULL);
	os_mtx_unlock(sw->mtx);
	memcpy(x->val, &n, sizeof(n));
	return (0);
}

/* ---- SW_NBR_DUMP ------------------------------------------------------------ */

struct dump_state {
	char    *out;
	size_t   fit, n, rest;
	uint64_t now;
};

static bool
dump_one(const struct vpc_nbr_ent *e, uint64_t cursor, void *arg)
{
	struct dump_state *d = arg;
	vpc_sw_nbr_t c;

	if (vpc_kent_expired(&e->k, d->now))
		return (true);          /* expired: not there any more */
	if (d->n < d->fit) {
		entry_to(e, d->now, cursor, &c);
		memcpy(d->out + d->n * sizeof(c), &c, sizeof(c));
		d->n++;
		return (true);
	}
	d->rest++;
	return (d->n > 0 ? false : true);       /* empty buffer: count them all */
}

int
vpc_op_sw_nbr_dump(struct vpc_ctx *x)
{
	struct dump_state d = { x->val, x->vallen / sizeof(vpc_sw_nbr_t), 0, 0,
	    vpc_ttl_now() };
	vpc_list_req_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if (req.obj_type != 0 || !vpc_all_zero(req._pad0, sizeof(req._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	if ((error = vpc_nbr_walk(obj2sw(x->obj), req.marker, dump_one, &d)) != 0)
		return (error);
	if (d.n == 0 && d.rest > 0) {
		size_t need = d.rest * sizeof(vpc_sw_nbr_t);

		x->vallen = need < VPC_CTL_MAX_VALLEN ? need :
		    VPC_CTL_MAX_VALLEN - VPC_CTL_MAX_VALLEN % sizeof(vpc_sw_nbr_t);
		return (VPC_ERR(VPC_ERANGE));
	}
	x->vallen = d.n * sizeof(vpc_sw_nbr_t);
	return (0);
}
