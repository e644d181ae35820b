/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_vcc.c: the vcc, this node's VXLAN underlay endpoint.  Uplink ports of
 * any number of switches plug into it.  It decapsulates what the underlay
 * brings (RFC 7348) and picks the switch by VNI; for VNI 0 switches it is a
 * raw L2 port that picks the switch by the uplink's VLAN.
 */
#include "vpc_impl.h"

static int
vcc_init(struct vpc_obj *o)
{
	struct vpc_vcc *vcc = obj2vcc(o);

	vcc->uplinks = &vpc_portset_empty;
	vcc->mtu = VPC_NIC_MTU_DEFAULT;
	return (vpc_counters_alloc(vcc->ctr, VPC_VCCSTAT_COUNT));
}

/* An uplink whose vcc is gone has nowhere to send: remove it too. */
static void
vcc_kill(struct vpc_obj *o)
{
	struct vpc_vcc *vcc = obj2vcc(o);
	struct vpc_obj *it;

again:
	for (it = VPC_LIST_FIRST(&o->sys->objs); vcc->nuplinks > 0 && it != NULL;
	    it = VPC_LIST_NEXT(it, link)) {
		if (it->type == VPC_TYPE_SWPORT && obj2port(it)->peer == o) {
			vpc_obj_kill(it);
			goto again;     /* the list changed under us */
		}
	}
	os_vcc_detach(vcc);
}

static void
vcc_fini(struct vpc_obj *o)
{
	struct vpc_vcc *vcc = obj2vcc(o);

	vpc_counters_free(vcc->ctr, VPC_VCCSTAT_COUNT);
	vpc_portset_free_now(vcc->uplinks);
}

static bool
vcc_busy(const struct vpc_obj *o)
{
	return (((const struct vpc_vcc *)o)->nuplinks != 0);
}

const struct vpc_objops vpc_vcc_ops = {
	.size = sizeof(struct vpc_vcc),
	.init = vcc_init,
	.kill = vcc_kill,
	.fini = vcc_fini,
	.busy = vcc_busy,
};

void **
vpc_vcc_osp(struct vpc_vcc *vcc)
{
	return (&vcc->os);
}

struct vpc_sys *
vpc_vcc_sys(const struct vpc_vcc *vcc)
{
	return (vcc->obj.sys);
}

/* ---- Uplinks ---------------------------------------------------------------- */

struct vpc_portset *
vpc_uplinks_prepare(struct vpc_vcc *vcc, uint32_t extra)
{
	VPC_ASSERT_CTL(vcc->obj.sys);
	return (vpc_portset_new(vcc->nuplinks + extra));
}

/* Publish s: the current uplinks but skip, plus add. */
static void
uplinks_publish(struct vpc_vcc *vcc, struct vpc_portset *s,
    struct vpc_port *add, const struct vpc_port *skip)
{
	struct vpc_portset *old = vcc->uplinks;
	uint32_t i;

	s->n = 0;
	for (i = 0; i < old->n && s->n < s->cap; i++)
		if (old->p[i] != skip)
			s->p[s->n++] = old->p[i];
	if (add != NULL && s->n < s->cap)
		s->p[s->n++] = add;
	vpc_store(vcc->uplinks, s);
	vpc_portset_retire(old);
}

void
vpc_vcc_plug(struct vpc_vcc *vcc, struct vpc_port *p, struct vpc_portset *s)
{
	VPC_ASSERT_CTL(vcc->obj.sys);
	vcc->nuplinks++;
	uplinks_publish(vcc, s, p, NULL);
}

/* Removal must not fail: without memory, publish no uplinks at all (VNI 0
 * frames are dropped until the next change) rather than a stale set. */
void
vpc_vcc_unplug(struct vpc_vcc *vcc, struct vpc_port *p)
{
	struct vpc_portset *s = vpc_uplinks_prepare(vcc, 0), *old;

	VPC_ASSERT_CTL(vcc->obj.sys);
	vcc->nuplinks--;
	if (s != NULL) {
		uplinks_publish(vcc, s, NULL, p);
		return;
	}
	old = vcc->uplinks;
	vpc_store(vcc->uplinks, &vpc_portset_empty);
	vpc_portset_retire(old);
}

/* ---- VCC_SET / VCC_GET / VCC_GET_STATS ---------------------------------------- */

/* Empty, or a name; zeros after it. */
static bool
ifname_field_ok(const char *name)
{
	int n = vpc_ifname_scan(name);

	return (n >= 0 && n < VPC_IFNAMSIZ &&
	    vpc_all_zero(name + n, VPC_IFNAMSIZ - n));
}

int
vpc_op_vcc_set(struct vpc_ctx *x)
{
	struct vpc_vcc *vcc = obj2vcc(x->obj);
	vpc_vcc_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((req.flags & ~(VPC_VCC_INET | VPC_VCC_INET6)) != 0 ||
	    (req.flags & (VPC_VCC_INET | VPC_VCC_INET6)) == 0)
		return (VPC_ERR(VPC_EINVAL));
	if ((req.flags & VPC_VCC_INET) != 0 ? (vpc_all_zero(req.addr4, 4) ||
	    req.addr4[0] >= 224) : !vpc_all_zero(req.addr4, 4))
		return (VPC_ERR(VPC_EINVAL));
	if ((req.flags & VPC_VCC_INET6) != 0 ? (vpc_all_zero(req.addr6, 16) ||
	    req.addr6[0] == 0xff) : !vpc_all_zero(req.addr6, 16))
		return (VPC_ERR(VPC_EINVAL));
	if (req.mtu != 0 && (req.mtu < 576 || req.mtu > 65535))
		return (VPC_ERR(VPC_EINVAL));
	if (!ifname_field_ok(req.l2_ifname))
		return (VPC_ERR(VPC_EINVAL));
	if (req.udp_port == 0)
		req.udp_port = VPC_VXLAN_PORT;
	req.txn = 0;
	if ((error = os_vcc_configure(vcc, &req)) != 0)
		return (error);
	vcc->conf = req;
	__atomic_store_n(&vcc->mtu, req.mtu != 0 ? req.mtu : 1500u,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&vcc->configured, true, __ATOMIC_RELEASE);
	vpc_obj_changed(x->obj, ((const vpc_vcc_t *)x->key)->txn);
	/* The vmnics behind it follow its MTU and address families. */
	vpc_vcc_mtu_refresh(vcc);
	x->vallen = 0;
	return (0);
}

int
vpc_op_vcc_get(struct vpc_ctx *x)
{
	memcpy(x->val, &obj2vcc(x->obj)->conf, sizeof(vpc_vcc_t));
	return (0);
}

int
vpc_op_vcc_get_stats(struct vpc_ctx *x)
{
	struct vpc_vcc *vcc = obj2vcc(x->obj);
	vpc_vcc_stats_t st;
	unsigned i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < VPC_VCCSTAT_COUNT; i++)
		st.c[i] = os_counter_fetch(vcc->ctr[i]);
	/* Counted where the drops happen: in the OS, before the core. */
	st.c[VPC_VCCSTAT_RX_SOCK_DROPS] = os_vcc_rx_drops(vcc);
	memcpy(x->val, &st, sizeof(st));
	return (0);
}

/* ---- From the underlay (data path, in the epoch) ------------------------------ */

void
vpc_vcc_input(struct vpc_vcc *vcc, struct vpc_pkt *p)
{
	struct vpc_switch *sw;
	struct vpc_port *up;
	uint8_t vx[VXLAN_HDR_LEN];
	uint32_t vni;

	VPC_ASSERT_EPOCH();
	vcc_count(vcc, VPC_VCCSTAT_RX);
	if (!os_pkt_copyout(p, 0, sizeof(vx), vx) || (vx[0] & VXLAN_FLAG_I) == 0 ||
	    os_pkt_len(p) < VXLAN_HDR_LEN + ETHER_HDR_LEN) {
		vcc_count(vcc, VPC_VCCSTAT_RX_BAD);
		os_pkt_free(p);
		return;
	}
	vni = (uint32_t)vx[4] << 16 | (uint32_t)vx[5] << 8 | vx[6];
	sw = vpc_vnitab_lookup(vcc->obj.sys, vni);
	up = sw != NULL ? vpc_load(sw->uplink) : NULL;
	if (up == NULL || up->peer != &vcc->obj) {
		vcc_count(vcc, VPC_VCCSTAT_RX_NO_VNI);
		os_pkt_free(p);
		return;
	}
	os_pkt_adj(p, VXLAN_HDR_LEN);
	vpc_fwd_from_underlay(sw, p);
}

/*
 * Is there a VNI 0 uplink on vlan (0: untagged) for vcc to take a frame
 * to?  For a glue whose L2 device's frames are not all the vcc's: the
 * FreeBSD one shares the interface with the node's own stack and a
 * vpclink, and gives vpc_vcc_l2_input only what this says is for it.
 */
bool
vpc_vcc_l2_wants(struct vpc_vcc *vcc, uint16_t vlan)
{
	const struct vpc_portset *ups = vpc_load(vcc->uplinks);
	uint32_t i;

	VPC_ASSERT_EPOCH();
	for (i = 0; i < ups->n; i++)
		if (ups->p[i]->vlan == vlan &&
		    vpc_load(ups->p[i]->sw->cfg)->vni == 0)
			return (true);
	return (false);
}

void
vpc_vcc_l2_input(struct vpc_vcc *vcc, struct vpc_pkt *p)
{
	const struct vpc_portset *ups = vpc_load(vcc->uplinks);
	struct vpc_switch *sw = NULL;
	struct vpc_frame f;
	uint8_t *h;
	uint32_t i;

	VPC_ASSERT_EPOCH();
	vcc_count(vcc, VPC_VCCSTAT_L2_RX);
	if (vpc_frame_parse(p, &f) != 0) {
		vcc_count(vcc, VPC_VCCSTAT_RX_BAD);
		os_pkt_free(p);
		return;
	}
	for (i = 0; i < ups->n && sw == NULL; i++) {
		struct vpc_port *up = ups->p[i];

		if (up->vlan == (f.tagged ? f.vlan : 0) &&
		    vpc_load(up->sw->cfg)->vni == 0)
			sw = up->sw;
	}
	if (sw == NULL) {
		vcc_count(vcc, VPC_VCCSTAT_L2_NO_SW);
		os_pkt_free(p);
		return;
	}
	if (f.tagged) {                 /* the uplink's tag stops here */
		if ((h = os_pkt_pullup(&p, ETHER_HDR_LEN + ETHER_VLAN_LEN)) == NULL) {
			vcc_count(vcc, VPC_VCCSTAT_RX_BAD);
			return;
		}
		memmove(h + ETHER_VLAN_LEN, h, 12);
		os_pkt_adj(p, ETHER_VLAN_LEN);
	}
	vpc_fwd_from_underlay(sw, p);
}
