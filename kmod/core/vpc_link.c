/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_link.c: vpclink, an Ethernet interface of the node that a NAT sends
 * its translated traffic out of (docs/nat.md).  The object names the
 * interface and keeps its MAC; the glue holds the interface (host: an
 * AF_PACKET socket; FreeBSD: not yet).  What arrives on it:
 *  - an ARP request for one of its NAT's external addresses (an EIP or an
 *    SNAT pool's address): answered with the link's MAC (ovn#209: a NAT
 *    address nobody answers ARP for is unreachable); the upstream's reply
 *    to the NAT's own request, when the upstream is given by address
 *    (vpc_natgw_arp.c): learned and taken;
 *  - IPv4 to the link's MAC: the NAT's inbound translation; what is for
 *    none of its addresses goes on to the node;
 *  - everything else (the node's own traffic, tagged frames, IPv6): on to
 *    the node's stack untouched (os_link_pass).
 */
#include "vpc_l3.h"
#include "vpc_nat_impl.h"

#define ARPOP_REQUEST   1
#define ARPOP_REPLY     2
#define ARP_LEN         28

static void
link_count(struct vpc_link *l, unsigned which)
{
	os_counter_add(l->ctr[which], 1);
}

static int
link_init(struct vpc_obj *o)
{
	return (vpc_counters_alloc(obj2link(o)->ctr, VPC_LINKSTAT_COUNT));
}

/* A NAT still using it (only at teardown or with the NAT's own kill first:
 * DESTROY is refused while it has one) lets go of it first. */
static void
link_kill(struct vpc_obj *o)
{
	struct vpc_link *l = obj2link(o);

	VPC_ASSERT_CTL(o->sys);
	if (l->nat != NULL)
		vpc_natgw_link_gone(l->nat);
	if (l->bound) {
		os_link_unbind(l);
		__atomic_store_n(&l->bound, false, __ATOMIC_RELEASE);
	}
}

static void
link_fini(struct vpc_obj *o)
{
	vpc_counters_free(obj2link(o)->ctr, VPC_LINKSTAT_COUNT);
}

static bool
link_busy(const struct vpc_obj *o)
{
	return (((const struct vpc_link *)o)->nat != NULL);
}

const struct vpc_objops vpc_link_ops = {
	.size = sizeof(struct vpc_link),
	.init = link_init,
	.kill = link_kill,
	.fini = link_fini,
	.busy = link_busy,
};

void **
vpc_link_osp(struct vpc_link *link)
{
	return (&link->os);
}

/* ---- Ops --------------------------------------------------------------------- */

/* "" or a name NUL-terminated inside the field, nothing after the NUL. */
static bool
ifname_field_ok(const char *name)
{
	int n = vpc_ifname_scan(name);

	return (n >= 0 && n < VPC_IFNAMSIZ &&
	    vpc_all_zero(name + n, VPC_IFNAMSIZ - (size_t)n));
}

int
vpc_op_link_set(struct vpc_ctx *x)
{
	struct vpc_link *l = obj2link(x->obj);
	vpc_link_t req;
	struct vpc_obj *o;
	uint8_t mac[6];
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if (req.bound != 0 || !vpc_all_zero(req._pad0, sizeof(req._pad0)) ||
	    !vpc_all_zero(req.mac, 6) || !vpc_all_zero(req._pad1, sizeof(req._pad1)) ||
	    req.users != 0 || req._pad2 != 0 || !ifname_field_ok(req.ifname))
		return (VPC_ERR(VPC_EINVAL));
	x->vallen = 0;
	if (req.ifname[0] == '\0') {
		if (!l->bound)
			return (0);
		__atomic_store_n(&l->bound, false, __ATOMIC_RELEASE);
		os_link_unbind(l);
		memset(l->ifname, 0, sizeof(l->ifname));
		vpc_obj_changed(x->obj, req.txn);
		return (0);
	}
	if (l->bound)
		return (VPC_ERR(VPC_EALREADY));         /* unbind first */
	VPC_LIST_FOREACH(o, &x->sys->objs, link)
		if (o->type == VPC_TYPE_LINK && o != x->obj &&
		    memcmp(obj2link(o)->ifname, req.ifname, VPC_IFNAMSIZ) == 0)
			return (VPC_ERR(VPC_EBUSY));
	if ((error = os_link_bind(l, req.ifname, mac)) != 0)
		return (VPC_ERR(error));
	memcpy(l->ifname, req.ifname, VPC_IFNAMSIZ);
	__atomic_store_n(&l->mac64, vpc_mac64(mac), __ATOMIC_RELAXED);
	__atomic_store_n(&l->bound, true, __ATOMIC_RELEASE);
	if (l->nat != NULL)
		vpc_natgw_link_up(l->nat);      /* GARPs; the upstream asked anew */
	vpc_obj_changed(x->obj, req.txn);
	return (0);
}

int
vpc_op_link_get(struct vpc_ctx *x)
{
	struct vpc_link *l = obj2link(x->obj);
	vpc_link_t out;

	memset(&out, 0, sizeof(out));
	out.bound = l->bound ? 1 : 0;
	memcpy(out.ifname, l->ifname, VPC_IFNAMSIZ);
	if (l->bound)
		mac_from64(l->mac64, out.mac);
	out.users = l->nat != NULL ? 1 : 0;
	memcpy(x->val, &out, sizeof(out));
	return (0);
}

int
vpc_op_link_get_stats(struct vpc_ctx *x)
{
	struct vpc_link *l = obj2link(x->obj);
	vpc_link_stats_t st;
	unsigned i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < VPC_LINKSTAT_COUNT; i++)
		st.c[i] = os_counter_fetch(l->ctr[i]);
	memcpy(x->val, &st, sizeof(st));
	return (0);
}

/* ---- Data path ------------------------------------------------------------------ */

/* Is a (network order) an external address of ng's engine? */
static bool
nat_owns(struct vpc_natgw *ng, const uint8_t a[4])
{
	const struct vpc_nat_cfg *c = vpc_load(vpc_load(ng->eng)->cfg);
	uint32_t v = vpc_nat_get32(a);

	return (vpc_nat_eip_by_ext(c, v) != NULL || vpc_nat_is_pool(c, v));
}

/* The upstream's answer to the NAT (vpc_natgw_arp.c): learned and taken,
 * true.  Its request for a NAT address is learned from too, and answered
 * below. */
static bool
arp_learn(struct vpc_link *l, struct vpc_natgw *ng, struct vpc_pkt *p,
    const struct vpc_frame *f)
{
	uint8_t a[ARP_LEN];

	if (!os_pkt_copyout(p, f->l2len, ARP_LEN, a) || vpc_get16(a) != 1 ||
	    vpc_get16(a + 2) != ETHERTYPE_IP || a[4] != 6 || a[5] != 4 ||
	    !vpc_natgw_arp_input(ng, l, a))
		return (false);
	os_pkt_free(p);
	return (true);
}

/* An ARP request for one of the NAT's addresses: answered, true. */
static bool
arp_answer(struct vpc_link *l, struct vpc_natgw *ng, struct vpc_pkt *p,
    const struct vpc_frame *f)
{
	uint8_t a[ARP_LEN], mac[6];
	struct vpc_pkt *r;

	if (!os_pkt_copyout(p, f->l2len, ARP_LEN, a) || vpc_get16(a) != 1 ||
	    vpc_get16(a + 2) != ETHERTYPE_IP || a[4] != 6 || a[5] != 4 ||
	    vpc_get16(a + 6) != ARPOP_REQUEST || !nat_owns(ng, a + 24))
		return (false);
	mac_from64(__atomic_load_n(&l->mac64, __ATOMIC_RELAXED), mac);
	/* To the requester: "tpa is at our MAC". */
	r = vpc_arp_build(a + 8, ARPOP_REPLY, mac, a + 24, a + 8, a + 14);
	os_pkt_free(p);
	if (r == NULL)
		return (true);
	link_count(l, VPC_LINKSTAT_ARP_REPLIES);
	if (os_link_output(l, r) != 0)
		link_count(l, VPC_LINKSTAT_TX_ERRORS);
	else
		link_count(l, VPC_LINKSTAT_TX);
	return (true);
}

void
vpc_link_input(struct vpc_link *l, struct vpc_pkt *p)
{
	struct vpc_natgw *ng;
	struct vpc_frame f;
	uint8_t mac[6];

	VPC_ASSERT_EPOCH();
	link_count(l, VPC_LINKSTAT_RX);
	ng = vpc_load(l->nat);
	if (ng == NULL || !__atomic_load_n(&l->bound, __ATOMIC_ACQUIRE) ||
	    vpc_frame_parse(p, &f) != 0 || f.tagged)
		goto pass;
	if (f.ethertype == ETHERTYPE_ARP) {
		if (arp_learn(l, ng, p, &f) || arp_answer(l, ng, p, &f)) {
			link_count(l, VPC_LINKSTAT_RX_TAKEN);
			return;
		}
		goto pass;
	}
	mac_from64(__atomic_load_n(&l->mac64, __ATOMIC_RELAXED), mac);
	if (f.ip_af != VPC_AF_INET || memcmp(f.dst, mac, 6) != 0 ||
	    !nat_owns(ng, f.ip_dst))
		goto pass;
	if (vpc_natgw_input(ng, &p, &f)) {
		link_count(l, VPC_LINKSTAT_RX_TAKEN);
		return;
	}
	if (p == NULL)
		return;
pass:
	link_count(l, VPC_LINKSTAT_RX_PASSED);
	os_link_pass(l, p);
}
