/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_faults: allocation failure at every call site, op by op.  For each
 * scenario: build its starting state, then fail the 1st allocation the op
 * makes, then the 2nd, the 3rd... until the op completes.  Every failed
 * attempt must return ENOMEM (or, for the data path, drop and count) and
 * leave the state exactly as it was: the same objects with the same
 * generations, the same CAM and upcall counts, the same bytes allocated,
 * and every invariant holding.  Then the whole instance is torn down and
 * nothing may be left allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_impl.h"
#include "host_loop.h"
#include "host_os.h"
#include "host_pkt.h"
#include "test_handles.h"
#include "test_os.h"

static const struct vpc_call call = { NULL, true };
static int passed, failed;

struct world {
	struct vpc_sys *sys;
	struct vpc_hdl *sw, *vcc, *nic, *sw2;
	struct vpc_hdl *extra[8];
	int             nextra;
};

/* ---- Building blocks (never fail: no faults armed while they run) ---------- */

static struct vpc_hdl *
mk(struct world *w, unsigned type, uint8_t n)
{
	vpc_id_t id;
	struct vpc_hdl *h = NULL;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xfa;
	id.bytes[15] = n;
	if (vpc_core_open(w->sys, &call, &id, VPC_TYPE_WORD(type), VPC_FLAG_CREATE, &h) != 0)
		abort();
	return (h);
}

static int
ctl(struct world *w, struct vpc_hdl *h, vpc_op_t op, const void *k, size_t kl,
    void *v, size_t vl)
{
	return (vpc_core_ctl(w->sys, &call, h, op, k, kl, v, &vl));
}

static void
must(int error)
{
	if (error != 0)
		abort();
}

/* A switch with VNI 100, a vcc, an uplink, a vmnic with a MAC plugged in. */
static void
base(struct world *w)
{
	vpc_sw_vni_t v = { .vni = 100 };
	vpc_vcc_t vc;
	vpc_vmnic_t m;
	vpc_swport_t req, res;

	w->sw = mk(w, VPC_TYPE_SWITCH, 1);
	w->vcc = mk(w, VPC_TYPE_VCC, 2);
	w->nic = mk(w, VPC_TYPE_NIC, 3);
	must(ctl(w, w->sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0));
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	vc.addr4[0] = 198;
	vc.addr4[3] = 1;
	must(ctl(w, w->vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0));
	memset(&m, 0, sizeof(m));
	m.mac[0] = 2;
	m.mac[5] = 0x0a;
	must(ctl(w, w->nic, VPC_OP_NIC_SET_MAC, &m, sizeof(m), NULL, 0));
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	req.peer_id = w->vcc->obj->id;
	must(ctl(w, w->sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)));
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC;
	req.peer_id = w->nic->obj->id;
	must(ctl(w, w->sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)));
}

/* ---- The state an op must leave as it was when it fails ------------------ */

struct state {
	uint64_t objects, handles, by_type[8], mem_bytes, mem_allocs;
	uint64_t gens[32];
	uint32_t cam[4], pending;
	int      nobj;
};

static void
snap(struct world *w, struct state *s)
{
	struct vpc_obj *o;
	vpc_upcall_stats_t us;
	int i = 0;

	hloop_reclaim();
	memset(s, 0, sizeof(*s));
	s->objects = w->sys->nobjs;
	s->handles = w->sys->nhandles;
	memcpy(s->by_type, w->sys->by_type, sizeof(s->by_type));
	s->mem_bytes = vpc_mem_bytes();
	s->mem_allocs = vpc_mem_allocs();
	for (o = VPC_LIST_FIRST(&w->sys->objs); o != NULL && i < 32;
	    o = VPC_LIST_NEXT(o, link), i++)
		s->gens[i] = o->gen;
	s->nobj = i;
	if (w->sw != NULL && !w->sw->obj->dead)
		s->cam[0] = vpc_cam_count(obj2sw(w->sw->obj));
	if (w->sw2 != NULL && !w->sw2->obj->dead)
		s->cam[1] = vpc_cam_count(obj2sw(w->sw2->obj));
	if (ctl(w, NULL, VPC_OP_SYS_UPCALL_STATS, NULL, 0, &us, sizeof(us)) == 0)
		s->pending = (uint32_t)us.pending;
}

/* ---- Scenarios ----------------------------------------------------------------- */

struct scenario {
	const char *name;
	void (*setup)(struct world *);
	int  (*op)(struct world *);     /* returns the op's errno */
};

static void no_setup(struct world *w) { (void)w; }

static int
op_open_switch(struct world *w)
{
	vpc_id_t id;
	struct vpc_hdl *h = NULL;
	int error;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xfb;
	id.bytes[15] = 9;
	error = vpc_core_open(w->sys, &call, &id, VPC_TYPE_WORD(VPC_TYPE_SWITCH),
	    VPC_FLAG_CREATE, &h);
	if (error == 0)
		w->extra[w->nextra++] = h;
	return (error);
}

static int
op_open_nic(struct world *w)
{
	vpc_id_t id;
	struct vpc_hdl *h = NULL;
	int error;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xfb;
	id.bytes[15] = 10;
	error = vpc_core_open(w->sys, &call, &id, VPC_TYPE_WORD(VPC_TYPE_NIC),
	    VPC_FLAG_CREATE, &h);
	if (error == 0)
		w->extra[w->nextra++] = h;
	return (error);
}

static int
op_add_vmnic_port(struct world *w)
{
	vpc_swport_t req, res;
	int error;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR | VPC_FLAG_SWP_VLAN_ID;
	req.vlan_id = 5;
	req.smac[0] = 2;
	req.smac[5] = 0x0b;
	error = ctl(w, w->sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	if (error == 0) {
		w->extra[w->nextra++] = test_handles[res.descriptor];
		test_handles[res.descriptor] = NULL;
	}
	return (error);
}

static void
setup_router_nic(struct world *w)
{
	vpc_vmnic_t m;

	base(w);
	w->extra[w->nextra++] = mk(w, VPC_TYPE_NIC, 7);
	memset(&m, 0, sizeof(m));
	m.mac[0] = 2;
	m.mac[5] = 0x01;
	must(ctl(w, w->extra[0], VPC_OP_NIC_SET_MAC, &m, sizeof(m), NULL, 0));
}

static int
op_add_router_port(struct world *w)
{
	vpc_swport_t req, res;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	req.peer_id = w->extra[0]->obj->id;
	return (ctl(w, w->sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)));
}

static void
setup_second_switch(struct world *w)
{
	base(w);
	w->sw2 = mk(w, VPC_TYPE_SWITCH, 8);
}

static int
op_port_sets_vni_and_uplink(struct world *w)
{
	vpc_swport_t req, res;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_VNI;
	req.vni = 200;
	req.peer_id = w->vcc->obj->id;
	return (ctl(w, w->sw2, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)));
}

static int
op_set_mac_plugged(struct world *w)
{
	vpc_vmnic_t m;

	memset(&m, 0, sizeof(m));
	m.mac[0] = 2;
	m.mac[5] = 0x0c;
	return (ctl(w, w->nic, VPC_OP_NIC_SET_MAC, &m, sizeof(m), NULL, 0));
}

static int
op_set_vni(struct world *w)
{
	vpc_sw_vni_t v = { .vni = 300 };

	return (ctl(w, w->sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0));
}

static int
op_set_subnet(struct world *w)
{
	vpc_sw_subnet_t s;

	memset(&s, 0, sizeof(s));
	s.af = VPC_AF_INET6;
	s.prefixlen = 64;
	s.addr[0] = 0x20;
	s.addr[1] = 0x01;
	s.addr[2] = 0x0d;
	s.addr[3] = 0xb8;
	return (ctl(w, w->sw, VPC_OP_SW_SET_SUBNET, &s, sizeof(s), NULL, 0));
}

static int
op_cam_set_batch(struct world *w)
{
	static vpc_sw_cam_t c[200];
	vpc_cam_set_result_t r;
	int i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 200; i++) {
		c[i].dstmac[0] = 2;
		c[i].dstmac[4] = 0x33;
		c[i].dstmac[5] = (uint8_t)i;
		c[i].kind = VPC_CAM_REMOTE;
		c[i].af = VPC_AF_INET;
		c[i].addr[0] = 198;
		c[i].addr[3] = 2;
		c[i].ttl_ms = 60000;
	}
	return (ctl(w, w->sw, VPC_OP_SW_CAM_SET, c, sizeof(c), &r, sizeof(r)));
}

static int
op_vcc_set(struct world *w)
{
	vpc_vcc_t vc;

	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET | VPC_VCC_INET6;
	vc.addr4[0] = 198;
	vc.addr4[3] = 3;
	vc.addr6[0] = 0x20;
	vc.addr6[15] = 3;
	return (ctl(w, w->vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0));
}

static vpc_upcall_req_t pending[4];

/* Four misses waiting for answers, read by a reader. */
static void
setup_misses(struct world *w)
{
	struct os_epoch et;
	uint8_t f[60];
	int i;

	base(w);
	(void)vpc_upcall_attach(w->sys);
	for (i = 0; i < 4; i++) {
		memset(f, 0, sizeof(f));
		f[0] = 2;
		f[4] = 0x44;
		f[5] = (uint8_t)i;
		f[6] = 2;
		f[11] = 0x0a;
		f[12] = 0x08;
		os_epoch_enter(&et);
		vpc_nic_input(obj2nic(w->nic->obj), host_pkt_new(f, sizeof(f)));
		os_epoch_exit(&et);
	}
	if (vpc_upcall_read(w->sys, pending, sizeof(pending)) != sizeof(pending))
		abort();
}

/*
 * One answer: answers stand alone (a batch applies those it can), so the
 * promise is per answer: one that fails for memory changes nothing and its
 * request stays pending, answerable again.
 */
static int
op_answer(struct world *w)
{
	vpc_upcall_ans_t a;
	int32_t res = -1;
	int error;

	memset(&a, 0, sizeof(a));
	a.req_id = pending[0].req_id;
	a.generation = pending[0].generation;
	a.status = VPC_UPCALL_FOUND;
	a.af = VPC_AF_INET;
	a.addr[0] = 198;
	a.addr[3] = 4;
	error = ctl(w, NULL, VPC_OP_SYS_UPCALL_ANSWER, &a, sizeof(a), &res, sizeof(res));
	return (error != 0 ? error : res);
}

/* ---- The router ------------------------------------------------------------------ */

/* base, with a subnet and a router port on w->sw, and a router (extra[0]). */
static void
setup_router(struct world *w)
{
	vpc_sw_subnet_t sn;
	vpc_swport_t req, res;

	base(w);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	sn.addr[0] = 10;
	must(ctl(w, w->sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0));
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	must(ctl(w, w->sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)));
	w->extra[w->nextra++] = mk(w, VPC_TYPE_ROUTER, 11);
}

static int
op_open_router(struct world *w)
{
	vpc_id_t id;
	struct vpc_hdl *h = NULL;
	int error;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xfb;
	id.bytes[15] = 12;
	error = vpc_core_open(w->sys, &call, &id, VPC_TYPE_WORD(VPC_TYPE_ROUTER),
	    VPC_FLAG_CREATE, &h);
	if (error == 0)
		w->extra[w->nextra++] = h;
	return (error);
}

static int
op_rtr_attach(struct world *w)
{
	vpc_rtr_attach_t a;

	memset(&a, 0, sizeof(a));
	a.switch_id = w->sw->obj->id;
	a.flags = VPC_GW_MAC;                   /* the gateway set on the way */
	a.mac[0] = 2;
	a.mac[5] = 0x99;
	return (ctl(w, w->extra[0], VPC_OP_RTR_ATTACH, &a, sizeof(a), NULL, 0));
}

static void
setup_attached(struct world *w)
{
	vpc_rt_route_t r;

	setup_router(w);
	must(op_rtr_attach(w));
	memset(&r, 0, sizeof(r));
	r.af = VPC_AF_INET;
	r.prefixlen = 16;
	r.prefix[0] = 172;
	r.prefix[1] = 16;
	r.target = VPC_RT_DROP;
	must(ctl(w, w->extra[0], VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0));
}

static int
op_rtr_route_set(struct world *w)
{
	vpc_rt_route_t r;

	memset(&r, 0, sizeof(r));
	r.af = VPC_AF_INET;
	r.prefixlen = 16;
	r.prefix[0] = 10;
	r.prefix[1] = 9;
	r.target = VPC_RT_NEXTHOP;
	r.nexthop[0] = 10;
	r.nexthop[3] = 7;
	return (ctl(w, w->extra[0], VPC_OP_RTR_ROUTE_SET, &r, sizeof(r), NULL, 0));
}

static int
op_rtr_route_replace(struct world *w)
{
	vpc_rt_route_t r[3];
	int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		r[i].af = VPC_AF_INET;
		r[i].prefixlen = 16;
		r[i].prefix[0] = 192;
		r[i].prefix[1] = (uint8_t)(168 + i);
		r[i].target = VPC_RT_DROP;
	}
	return (ctl(w, w->extra[0], VPC_OP_RTR_ROUTE_REPLACE, r, sizeof(r), NULL, 0));
}

/* The staged replace: the router's stage (its token: the last one issued). */
static int
op_rtr_stage_begin(struct world *w)
{
	vpc_rt_stage_t k, v;

	memset(&k, 0, sizeof(k));
	return (ctl(w, w->extra[0], VPC_OP_RTR_STAGE_BEGIN, &k, sizeof(k), &v, sizeof(v)));
}

/* n distinct /24 drop routes into the stage (each call: new ones). */
static int
stage_append_n(struct world *w, int n)
{
	static unsigned calls;
	vpc_rt_route_t r[100];
	vpc_rt_stage_t v;
	unsigned x;
	int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		x = calls * 100 + (unsigned)i;
		r[i].af = VPC_AF_INET;
		r[i].prefixlen = 24;
		r[i].prefix[0] = 100;
		r[i].prefix[1] = (uint8_t)(64 + (x >> 8) % 64);
		r[i].prefix[2] = (uint8_t)x;
		r[i].target = VPC_RT_DROP;
	}
	calls++;
	r[0].serial = obj2rtr(w->extra[0]->obj)->stage_seq;
	return (ctl(w, w->extra[0], VPC_OP_RTR_STAGE_APPEND, r, (size_t)n * sizeof(r[0]),
	    &v, sizeof(v)));
}

/* 62 to a stage of 3: past its first room of 64, so it grows. */
static int
op_rtr_stage_append(struct world *w)
{
	return (stage_append_n(w, 62));
}

static void
setup_staged(struct world *w)
{
	setup_attached(w);
	must(op_rtr_stage_begin(w));
	must(stage_append_n(w, 3));
}

static int
op_rtr_stage_commit(struct world *w)
{
	vpc_rt_stage_t k;

	memset(&k, 0, sizeof(k));
	k.token = obj2rtr(w->extra[0]->obj)->stage_seq;
	return (ctl(w, w->extra[0], VPC_OP_RTR_STAGE_COMMIT, &k, sizeof(k), NULL, 0));
}

static int
op_rtr_route_del(struct world *w)
{
	vpc_rt_route_t r;

	memset(&r, 0, sizeof(r));
	r.af = VPC_AF_INET;
	r.prefixlen = 16;
	r.prefix[0] = 172;
	r.prefix[1] = 16;
	r.target = VPC_RT_DROP;
	return (ctl(w, w->extra[0], VPC_OP_RTR_ROUTE_DEL, &r, sizeof(r), NULL, 0));
}

static int
op_rtr_detach(struct world *w)
{
	vpc_rtr_attach_t a;

	memset(&a, 0, sizeof(a));
	a.switch_id = w->sw->obj->id;
	return (ctl(w, w->extra[0], VPC_OP_RTR_DETACH, &a, sizeof(a), NULL, 0));
}

/* ---- The firewall ------------------------------------------------------------ */

static int
op_fw_create(struct world *w)
{
	vpc_fw_set_t s = { .id = 7 };

	return (ctl(w, NULL, VPC_OP_FW_SET_CREATE, &s, sizeof(s), NULL, 0));
}

static void
setup_fw(struct world *w)
{
	base(w);
	must(op_fw_create(w));
}

static int
op_fw_rules(struct world *w)
{
	vpc_fw_rule_t r[3];
	int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		r[i].set_id = 7;
		r[i].dir = VPC_FW_DIR_IN;
		r[i].action = VPC_FW_ALLOW;
		r[i].priority = (uint32_t)(3 - i);
	}
	r[1].remote = VPC_FW_REMOTE_SWITCH;
	r[1].switch_id = w->sw->obj->id;
	r[2].proto = VPC_FW_PROTO_TCP;
	r[2].nports = 1;
	r[2].port_lo[0] = r[2].port_hi[0] = 22;
	return (ctl(w, NULL, VPC_OP_FW_SET_RULES, r, sizeof(r), NULL, 0));
}

static int
op_fw_attach(struct world *w)
{
	vpc_swport_t lst[4];
	vpc_list_req_t lr;
	vpc_sw_port_fw_t a;
	size_t vl = sizeof(lst), i;

	memset(&lr, 0, sizeof(lr));
	must(vpc_core_ctl(w->sys, &call, w->sw, VPC_OP_SW_LIST_PORTS, &lr,
	    sizeof(lr), lst, &vl));
	memset(&a, 0, sizeof(a));
	for (i = 0; i < vl / sizeof(lst[0]); i++)
		if ((lst[i].flags & VPC_FLAG_SWP_VMNIC) != 0)
			a.port_id = lst[i].port_id;
	a.flags = VPC_FLAG_SWP_FW_INGRESS | VPC_FLAG_SWP_FW_EGRESS;
	a.ingress = a.egress = 7;
	return (ctl(w, w->sw, VPC_OP_SW_PORT_SET_FW, &a, sizeof(a), NULL, 0));
}

static int
op_fw_add_port(struct world *w)
{
	vpc_swport_t req, res;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_FW_INGRESS;
	req.fw_state_table = 7;
	req.smac[0] = 2;
	req.smac[5] = 0x3c;
	return (ctl(w, w->sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)));
}

static const struct scenario scenarios[] = {
	{ "FW_SET_CREATE (the first: the flow table too)", no_setup, op_fw_create },
	{ "FW_SET_RULES (one naming a switch)", setup_fw, op_fw_rules },
	{ "SW_PORT_SET_FW", setup_fw, op_fw_attach },
	{ "SW_ADD_PORT with an ingress set", setup_fw, op_fw_add_port },
	{ "vpc_open CREATE switch", no_setup, op_open_switch },
	{ "vpc_open CREATE vmnic", base, op_open_nic },
	{ "SW_ADD_PORT vmnic with MAC and descriptor", base, op_add_vmnic_port },
	{ "SW_ADD_PORT router with its vmnic", setup_router_nic, op_add_router_port },
	{ "SW_ADD_PORT uplink that sets the VNI", setup_second_switch, op_port_sets_vni_and_uplink },
	{ "NIC_SET_MAC on a plugged vmnic", base, op_set_mac_plugged },
	{ "SW_SET_VNI", base, op_set_vni },
	{ "SW_SET_SUBNET", base, op_set_subnet },
	{ "SW_CAM_SET of 200 entries (the table grows)", base, op_cam_set_batch },
	{ "VCC_SET", base, op_vcc_set },
	{ "SYS_UPCALL_ANSWER", setup_misses, op_answer },
	{ "vpc_open CREATE router", base, op_open_router },
	{ "RTR_ATTACH with a gateway", setup_router, op_rtr_attach },
	{ "RTR_ROUTE_SET", setup_attached, op_rtr_route_set },
	{ "RTR_ROUTE_REPLACE of 3", setup_attached, op_rtr_route_replace },
	{ "RTR_STAGE_BEGIN", setup_attached, op_rtr_stage_begin },
	{ "RTR_STAGE_APPEND of 62 to a stage of 3", setup_staged, op_rtr_stage_append },
	{ "RTR_STAGE_COMMIT of 3", setup_staged, op_rtr_stage_commit },
	{ "RTR_ROUTE_DEL", setup_attached, op_rtr_route_del },
	{ "RTR_DETACH", setup_attached, op_rtr_detach },
};

static bool
same(const struct state *a, const struct state *b, const char **what)
{
	*what = a->objects != b->objects ? "objects" : a->handles != b->handles ? "handles" :
	    memcmp(a->by_type, b->by_type, sizeof(a->by_type)) ? "objects by type" :
	    a->nobj != b->nobj || memcmp(a->gens, b->gens, sizeof(a->gens)) ? "generations" :
	    memcmp(a->cam, b->cam, sizeof(a->cam)) ? "CAM entries" :
	    a->pending != b->pending ? "pending upcalls" :
	    a->mem_allocs != b->mem_allocs ? "allocations" :
	    a->mem_bytes != b->mem_bytes ? "bytes allocated" : NULL;
	return (*what == NULL);
}

static void
world_free(struct world *w)
{
	int i;

	host_fail_alloc_at = 0;
	for (i = 0; i < w->nextra; i++)
		if (w->extra[i] != NULL)
			vpc_core_close(w->sys, w->extra[i]);
	for (i = 0; i < TEST_MAX_HANDLES; i++) {
		if (test_handles[i] != NULL) {
			vpc_core_close(w->sys, test_handles[i]);
			test_handles[i] = NULL;
		}
	}
	if (w->sw != NULL)
		vpc_core_close(w->sys, w->sw);
	if (w->sw2 != NULL)
		vpc_core_close(w->sys, w->sw2);
	if (w->vcc != NULL)
		vpc_core_close(w->sys, w->vcc);
	if (w->nic != NULL)
		vpc_core_close(w->sys, w->nic);
	vpc_upcall_detach(w->sys);
	vpc_sys_teardown(w->sys);
	hloop_reclaim();
	if (vpc_sys_destroy(w->sys) != 0)
		abort();
	hloop_reclaim();
}

static void
run(const struct scenario *sc)
{
	struct world w;
	struct state before, after;
	const char *what;
	char why[160];
	uint64_t allocs0 = vpc_mem_allocs();
	int n, error;

	for (n = 1; n < 10000; n++) {
		memset(&w, 0, sizeof(w));
		if (vpc_sys_create(&w.sys) != 0)
			abort();
		if (sc->setup != no_setup)
			sc->setup(&w);
		snap(&w, &before);
		host_fail_alloc_at = (uint64_t)n;
		error = sc->op(&w);
		host_fail_alloc_at = 0;
		if (vpc_sys_check(w.sys, why, sizeof(why)) != 0) {
			printf("not ok - faults: %s: failing allocation %d: invariant: %s\n", sc->name, n, why);
			failed++;
			world_free(&w);
			return;
		}
		if (error == 0) {
			world_free(&w);
			break;
		}
		snap(&w, &after);
		if (error != VPC_ENOMEM || !same(&before, &after, &what)) {
			printf("not ok - faults: %s: failing allocation %d gave %d%s%s\n", sc->name, n,
			    error, error == VPC_ENOMEM ? ", changed " : "", error == VPC_ENOMEM ? what : "");
			failed++;
			world_free(&w);
			return;
		}
		world_free(&w);
	}
	if (vpc_mem_allocs() != allocs0) {
		printf("not ok - faults: %s: %llu allocations leaked\n", sc->name,
		    (unsigned long long)(vpc_mem_allocs() - allocs0));
		failed++;
		return;
	}
	printf("ok - faults: %s (failed at each of its %d allocations, then completed)\n", sc->name, n - 1);
	passed++;
}

/* The data path never fails an op: a miss it cannot record is counted. */
static void
run_datapath(void)
{
	struct world w;
	struct os_epoch et;
	uint8_t f[60];
	vpc_sw_stats_t st;

	memset(&w, 0, sizeof(w));
	if (vpc_sys_create(&w.sys) != 0)
		abort();
	base(&w);
	memset(f, 0, sizeof(f));
	f[0] = 2;
	f[5] = 0x55;
	f[6] = 2;
	f[11] = 0x0a;
	f[12] = 0x08;
	{
		struct vpc_pkt *p = host_pkt_new(f, sizeof(f));

		host_fail_alloc_at = 1; /* the pending request's allocation */
		os_epoch_enter(&et);
		vpc_nic_input(obj2nic(w.nic->obj), p);
		os_epoch_exit(&et);
		host_fail_alloc_at = 0;
	}
	must(ctl(&w, w.sw, VPC_OP_SW_GET_STATS, NULL, 0, &st, sizeof(st)));
	if (st.c[VPC_SWSTAT_LOST] != 1 || st.c[VPC_SWSTAT_MISSES] != 1) {
		printf("not ok - faults: data path miss without memory: lost %llu\n",
		    (unsigned long long)st.c[VPC_SWSTAT_LOST]);
		failed++;
	} else {
		printf("ok - faults: a miss with no memory for its request is dropped and counted\n");
		passed++;
	}
	world_free(&w);
}

int
main(void)
{
	size_t i;

	hloop_init();
	test_record = false;
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run(&scenarios[i]);
	run_datapath();
	hloop_fini();
	printf("%d passed, %d failed\n", passed, failed);
	return (failed != 0);
}
