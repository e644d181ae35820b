/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_cam_ops.c: the CAM ops (set, get, delete, flush, dump) and the local
 * entries that ports own.
 */
#include "vpc_impl.h"

static const uint8_t any_src[6];

/* ---- ABI <-> entries ------------------------------------------------------ */

static bool
addr_ok(uint8_t af, const uint8_t addr[16])
{
	if (af == VPC_AF_INET)
		return (!vpc_all_zero(addr, 4) && vpc_all_zero(addr + 4, 12) &&
		    addr[0] < 224);             /* not multicast or reserved */
	return (!vpc_all_zero(addr, 16) && addr[0] != 0xff);
}

/* Everything about an entry that can be judged before touching the table. */
static int
check_entry(const struct vpc_switch *sw, const vpc_sw_cam_t *c)
{
	if (vpc_mac_is_zero(c->dstmac) || vpc_mac_is_multicast(c->dstmac) ||
	    vpc_mac_is_multicast(c->srcmac))
		return (VPC_ERR(VPC_EINVAL));
	if (c->flags != 0 || !vpc_all_zero(c->_pad0, sizeof(c->_pad0)))
		return (VPC_ERR(VPC_EINVAL));
	if (c->kind != VPC_CAM_REMOTE && c->kind != VPC_CAM_NEGATIVE)
		return (VPC_ERR(VPC_EINVAL));
	if (c->ttl_ms > VPC_CAM_TTL_MAX_MS)
		return (VPC_ERR(VPC_ERANGE));
	if (c->kind == VPC_CAM_REMOTE) {
		if (c->af != VPC_AF_INET && c->af != VPC_AF_INET6)
			return (VPC_ERR(VPC_EAFNOSUPPORT));
		if (!addr_ok(c->af, c->addr))
			return (VPC_ERR(VPC_EINVAL));
		if (sw->vni == 0)
			return (VPC_ERR(VPC_EOPNOTSUPP));        /* VNI 0 never sends VXLAN */
	} else if (c->af != 0 || !vpc_all_zero(c->addr, 16) || c->udp_port != 0)
		return (VPC_ERR(VPC_EINVAL));
	return (0);
}

static void
entry_from(struct vpc_cam_ent *e, const vpc_sw_cam_t *c, uint64_t now)
{
	memcpy(e->dst, c->dstmac, 6);
	memcpy(e->src, c->srcmac, 6);
	e->kind = c->kind;
	e->af = c->af;
	e->udp_port = c->udp_port != 0 ? c->udp_port : VPC_VXLAN_PORT;
	memcpy(e->addr, c->addr, 16);
	e->k.ttl_ms = c->ttl_ms;
	e->k.expire_ns = c->ttl_ms != 0 ? now + (uint64_t)c->ttl_ms * 1000000u : 0;
	e->k.revision = c->revision;
}

static void
entry_to(const struct vpc_switch *sw, const struct vpc_cam_ent *e,
    uint64_t now, uint64_t cursor, vpc_sw_cam_t *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->dstmac, e->dst, 6);
	memcpy(c->srcmac, e->src, 6);
	c->kind = e->kind;
	c->af = e->af;
	c->udp_port = e->kind == VPC_CAM_REMOTE ? e->udp_port : 0;
	if (e->kind != VPC_CAM_LOCAL)
		memcpy(c->addr, e->addr, 16);   /* a local entry's is its port */
	c->vni = sw->vni;
	if (e->k.expire_ns != 0)
		c->ttl_ms = e->k.expire_ns > now ?
		    (uint32_t)((e->k.expire_ns - now + 999999) / 1000000) : 0;
	if (e->kind == VPC_CAM_LOCAL && e->port != NULL)
		c->port_id = e->port->obj.id;
	c->generation = e->k.gen;
	c->revision = e->k.revision;
	c->cursor = cursor;
	if (__atomic_load_n(&e->used, __ATOMIC_RELAXED) != 0)
		c->flags = VPC_CAM_F_USED;
}

/*
 * Install one entry with the mutex held, unless a newer revision is there
 * or a local port owns the MAC.  Returns true if e was used.
 */
static bool
install(struct vpc_switch *sw, struct vpc_cam_ent *e, bool *stale)
{
	struct vpc_cam_ent *cur = vpc_cam_find(sw, e->dst, e->src);

	VPC_ASSERT_MTX(sw->mtx);
	*stale = false;
	if (cur != NULL && cur->kind == VPC_CAM_LOCAL)
		return (false);
	if (cur != NULL && cur->k.revision > e->k.revision) {
		*stale = true;
		return (false);
	}
	vpc_cam_put(sw, e);
	return (true);
}

/* For upcall answers (vpc_upcall.c): entry prepared by the caller. */
bool
vpc_cam_install_answer(struct vpc_switch *sw, struct vpc_cam_ent *e, bool *stale)
{
	bool used;

	os_mtx_lock(sw->mtx);
	used = install(sw, e, stale);
	os_mtx_unlock(sw->mtx);
	return (used);
}

/* ---- SW_CAM_SET ----------------------------------------------------------- */

int
vpc_op_sw_cam_set(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	size_t n = x->keylen / sizeof(vpc_sw_cam_t), i;
	struct vpc_cam_ent **ents;
	vpc_cam_set_result_t res = { 0, 0 };
	vpc_sw_cam_t c;
	uint64_t now = vpc_ttl_now();
	bool stale;
	int error = 0;

	if (n > VPC_CAM_BATCH_MAX)
		return (VPC_ERR(VPC_E2BIG));
	for (i = 0; i < n; i++) {
		memcpy(&c, (const char *)x->key + i * sizeof(c), sizeof(c));
		if ((error = check_entry(sw, &c)) != 0)
			return (error);
		os_mtx_lock(sw->mtx);
		{
			const struct vpc_cam_ent *cur = vpc_cam_find(sw, c.dstmac,
			    c.srcmac);

			if (cur != NULL && cur->kind == VPC_CAM_LOCAL)
				error = VPC_ERR(VPC_EBUSY);
		}
		os_mtx_unlock(sw->mtx);
		if (error != 0)
			return (error);
	}
	/* Allocate everything first: from here on nothing fails. */
	ents = vpc_alloc(n * sizeof(*ents), VPC_M_WAITOK);
	if (ents == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	for (i = 0; i < n; i++)
		if ((ents[i] = vpc_cam_ent_new()) == NULL)
			error = VPC_ERR(VPC_ENOMEM);
	if (error == 0)
		error = vpc_cam_reserve(sw, (uint32_t)n);
	if (error == 0) {
		os_mtx_lock(sw->mtx);
		for (i = 0; i < n; i++) {
			memcpy(&c, (const char *)x->key + i * sizeof(c), sizeof(c));
			entry_from(ents[i], &c, now);
			if (install(sw, ents[i], &stale)) {
				ents[i] = NULL;
				res.applied++;
			} else
				res.stale += stale;
		}
		os_mtx_unlock(sw->mtx);
	}
	for (i = 0; i < n; i++)
		if (ents[i] != NULL)
			vpc_cam_ent_free(ents[i]);
	vpc_free(ents, n * sizeof(*ents));
	if (error == 0)
		memcpy(x->val, &res, sizeof(res));
	return (error);
}

/* ---- SW_CAM_GET / SW_CAM_DEL ---------------------------------------------- */

static int
read_key(const struct vpc_ctx *x, vpc_cam_key_t *k)
{
	memcpy(k, x->key, sizeof(*k));
	if (!vpc_all_zero(k->_pad0, sizeof(k->_pad0)) ||
	    vpc_mac_is_zero(k->dstmac))
		return (VPC_ERR(VPC_EINVAL));
	return (0);
}

int
vpc_op_sw_cam_get(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	const struct vpc_cam_ent *e;
	uint64_t now = vpc_ttl_now();
	vpc_cam_key_t k;
	vpc_sw_cam_t out;
	int error;

	if ((error = read_key(x, &k)) != 0)
		return (error);
	os_mtx_lock(sw->mtx);
	e = vpc_cam_find(sw, k.dstmac, k.srcmac);
	if (e == NULL || (e->k.expire_ns != 0 && now >= e->k.expire_ns))
		error = VPC_ERR(VPC_ENOENT);
	else
		entry_to(sw, e, now, 0, &out);
	os_mtx_unlock(sw->mtx);
	if (error == 0)
		memcpy(x->val, &out, sizeof(out));
	return (error);
}

int
vpc_op_sw_cam_del(struct vpc_ctx *x)
{
	struct vpc_switch *sw = obj2sw(x->obj);
	struct vpc_cam_ent *e;
	vpc_cam_key_t k;
	int error;

	if ((error = read_key(x, &k)) != 0)
		return (error);
	os_mtx_lock(sw->mtx);
	e = vpc_cam_find(sw, k.dstmac, k.srcmac);
	if (e == NULL)
		error = VPC_ERR(VPC_ENOENT);
	else if (e->kind == VPC_CAM_LOCAL)
		error = VPC_ERR(VPC_EBUSY);
	else
		vpc_cam_remove(sw, e);
	os_mtx_unlock(sw->mtx);
	x->vallen = 0;
	return (error);
}

/* ---- SW_CAM_FLUSH --------------------------------------------------------- */

static bool
not_local(const struct vpc_cam_ent *e, void *arg)
{
	(void)arg;
	return (e->kind != VPC_CAM_LOCAL);
}

static uint64_t
flush_switch(struct vpc_switch *sw)
{
	uint64_t n;

	os_mtx_lock(sw->mtx);
	n = vpc_cam_remove_if(sw, not_local, NULL);
	os_mtx_unlock(sw->mtx);
	return (n);
}

int
vpc_op_sw_cam_flush(struct vpc_ctx *x)
{
	vpc_cam_flush_t f;
	uint64_t n = 0;
	struct vpc_obj *o;

	memcpy(&f, x->key, sizeof(f));
	if (f.flags != 0 || (f.vni != VPC_VNI_ANY && f.vni > VPC_VNI_MAX))
		return (VPC_ERR(VPC_EINVAL));
	if (x->obj != NULL) {
		if (f.vni != VPC_VNI_ANY && f.vni != obj2sw(x->obj)->vni)
			return (VPC_ERR(VPC_EINVAL));
		n = flush_switch(obj2sw(x->obj));
	} else {
		VPC_LIST_FOREACH(o, &x->sys->objs, link)
			if (o->type == VPC_TYPE_SWITCH && (f.vni == VPC_VNI_ANY ||
			    obj2sw(o)->vni == f.vni))
				n += flush_switch(obj2sw(o));
	}
	memcpy(x->val, &n, sizeof(n));
	return (0);
}

/* ---- SW_CAM_DUMP ---------------------------------------------------------- */

struct dump_state {
	struct vpc_switch *sw;
	char              *out;
	size_t             fit, n, rest;
	uint64_t           now;
};

static bool
dump_one(const struct vpc_cam_ent *e, uint64_t cursor, void *arg)
{
	struct dump_state *d = arg;
	vpc_sw_cam_t c;

	if (e->k.expire_ns != 0 && d->now >= e->k.expire_ns)
		return (true);          /* expired: not there any more */
	if (d->n < d->fit) {
		entry_to(d->sw, e, d->now, cursor, &c);
		memcpy(d->out + d->n * sizeof(c), &c, sizeof(c));
		d->n++;
		return (true);
	}
	d->rest++;
	return (d->n > 0 ? false : true);       /* empty buffer: count them all */
}

int
vpc_op_sw_cam_dump(struct vpc_ctx *x)
{
	struct dump_state d = { obj2sw(x->obj), x->val,
	    x->vallen / sizeof(vpc_sw_cam_t), 0, 0, vpc_ttl_now() };
	vpc_list_req_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if (req.obj_type != 0 || !vpc_all_zero(req._pad0, sizeof(req._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	if ((error = vpc_cam_walk(d.sw, req.marker, dump_one, &d)) != 0)
		return (error);
	if (d.n == 0 && d.rest > 0) {
		size_t need = d.rest * sizeof(vpc_sw_cam_t);

		x->vallen = need < VPC_CTL_MAX_VALLEN ? need :
		    VPC_CTL_MAX_VALLEN - VPC_CTL_MAX_VALLEN % sizeof(vpc_sw_cam_t);
		return (VPC_ERR(VPC_ERANGE));
	}
	x->vallen = d.n * sizeof(vpc_sw_cam_t);
	return (0);
}

/* ---- Local entries --------------------------------------------------------- */

/* The local entry for mac, if port p owns it, goes (mutex taken here). */
void
vpc_cam_local_clear(struct vpc_switch *sw, struct vpc_port *p,
    const uint8_t mac[6])
{
	struct vpc_cam_ent *e;

	os_mtx_lock(sw->mtx);
	e = vpc_cam_find(sw, mac, any_src);
	if (e != NULL && e->kind == VPC_CAM_LOCAL && e->port == p)
		vpc_cam_remove(sw, e);
	os_mtx_unlock(sw->mtx);
}

/*
 * Port p now owns mac.  e was allocated, and room reserved, by the caller
 * while it could still fail; it is consumed.  A local MAC replaces any
 * remote or negative entry for it.
 */
void
vpc_cam_local_put(struct vpc_switch *sw, struct vpc_port *p,
    const uint8_t mac[6], struct vpc_cam_ent *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->dst, mac, 6);
	e->kind = VPC_CAM_LOCAL;
	e->port = p;
	os_mtx_lock(sw->mtx);
	vpc_cam_put(sw, e);
	os_mtx_unlock(sw->mtx);
}
