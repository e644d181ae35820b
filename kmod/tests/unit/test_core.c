/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core: unit tests that drive the portable core directly, with no
 * daemon and no sockets (run under ASan/UBSan by `make SAN=1 check`).
 * The TypeScript suite covers the same ground end to end through the
 * host kernel; these pin down the core's own rules and its memory: every
 * test ends with the core's allocation count back where it started.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpc_core.h"
#include "host_loop.h"
#include "test_datapath.h"
#include "test_mtu.h"
#include "test_l3.h"
#include "test_router.h"
#include "test_burst.h"
#include "test_vnet.h"
#include "test_gso.h"
#include "test_fw.h"
#include "test_nat.h"
#include "test_natgw.h"
#include "test_handles.h"
#include "test_os.h"

uint64_t vpc_mem_allocs(void);

static int passed, failed;
static const char *current;
static struct vpc_sys *sys;
static struct vpc_call priv_call = { NULL, true };
static struct vpc_call user_call = { NULL, false };

#define CHECK(cond) do {                                                \
	if (!(cond)) {                                                  \
		printf("not ok - %s: %s:%d: %s\n", current, __FILE__,   \
		    __LINE__, #cond);                                   \
		failed++;                                               \
		return;                                                 \
	}                                                               \
} while (0)

#define CHECK_ERR(expr, want) do {                                      \
	int got_ = (expr);                                              \
	if (got_ != (want)) {                                           \
		printf("not ok - %s: %s:%d: %s gave %d, want %d\n",     \
		    current, __FILE__, __LINE__, #expr, got_, (want));  \
		failed++;                                               \
		return;                                                 \
	}                                                               \
} while (0)

static vpc_id_t
mkid(uint8_t n)
{
	vpc_id_t id;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xa0;
	id.bytes[15] = n;
	return (id);
}

static struct vpc_hdl *
open_obj(uint8_t n, unsigned type, vpc_flags_t flags, int *err)
{
	vpc_id_t id = mkid(n);
	struct vpc_hdl *h = NULL;

	*err = vpc_core_open(sys, &priv_call, &id, VPC_TYPE_WORD(type), flags, &h);
	return (h);
}

static int
ctl(struct vpc_hdl *h, vpc_op_t op, const void *key, size_t keylen,
    void *val, size_t vallen)
{
	size_t vl = vallen;

	return (vpc_core_ctl(sys, &priv_call, h, op, key, keylen, val, &vl));
}

static vpc_txn_t
txn_of(struct vpc_hdl *h)
{
	vpc_txn_t t = -1;

	if (ctl(h, VPC_OP_GET_TXN, NULL, 0, &t, sizeof(t)) != 0)
		return (-1);
	return (t);
}

static uint64_t
objects(void)
{
	vpc_sys_stats_t st;
	size_t vl = sizeof(st);

	vpc_core_ctl(sys, &priv_call, NULL, VPC_OP_SYS_STATS, NULL, 0, &st, &vl);
	return (st.objects);
}

/* After every test: the whole graph must still hold together. */
static void
check_invariants(void)
{
	char why[160];

	if (vpc_sys_check(sys, why, sizeof(why)) != 0) {
		printf("not ok - %s: invariant violated: %s\n", current, why);
		failed++;
	}
}

/* ---- Tests ------------------------------------------------------------- */

static void
test_open_rules(void)
{
	struct vpc_hdl *h, *hdef, *junk = NULL;
	vpc_id_t id = mkid(1), nil;
	int err;

	h = open_obj(1, VPC_TYPE_NIC, VPC_FLAG_CREATE, &err);
	CHECK_ERR(err, 0);
	open_obj(1, VPC_TYPE_NIC, VPC_FLAG_CREATE, &err);
	CHECK_ERR(err, VPC_EEXIST);
	open_obj(2, VPC_TYPE_NIC, VPC_FLAG_OPEN, &err);
	CHECK_ERR(err, VPC_ENOENT);
	open_obj(1, VPC_TYPE_SWITCH, VPC_FLAG_OPEN, &err);
	CHECK_ERR(err, VPC_ENOENT);
	hdef = open_obj(1, VPC_TYPE_NIC, VPC_FLAG_DEFAULT, &err);
	CHECK_ERR(err, 0);
	/* Garbage type words, flags and ids: refused, nothing created. */
	CHECK_ERR(vpc_core_open(sys, &priv_call, &id, VPC_TYPE_NIC,
	    VPC_FLAG_OPEN, &junk), VPC_EINVAL);   /* a bare type, not a word */
	CHECK_ERR(vpc_core_open(sys, &priv_call, &id,
	    VPC_TYPE_WORD(VPC_TYPE_NIC) | 0x10, VPC_FLAG_OPEN, &junk), VPC_EINVAL);
	CHECK_ERR(vpc_core_open(sys, &priv_call, &id,
	    VPC_TYPE_WORD(VPC_TYPE_NIC) | (1ull << 40), VPC_FLAG_OPEN, &junk),
	    VPC_EINVAL);
	CHECK_ERR(vpc_core_open(sys, &priv_call, &id, VPC_TYPE_WORD(9),
	    VPC_FLAG_OPEN, &junk), VPC_EINVAL);
	CHECK_ERR(vpc_core_open(sys, &priv_call, &id,
	    VPC_TYPE_WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN | VPC_FLAG_CREATE, &junk),
	    VPC_EINVAL);
	CHECK_ERR(vpc_core_open(sys, &priv_call, &id,
	    VPC_TYPE_WORD(VPC_TYPE_NIC), 0, &junk), VPC_EINVAL);
	memset(&nil, 0, sizeof(nil));
	CHECK_ERR(vpc_core_open(sys, &priv_call, &nil,
	    VPC_TYPE_WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE, &junk), VPC_EINVAL);
	id = mkid(3);
	CHECK_ERR(vpc_core_open(sys, &user_call, &id,
	    VPC_TYPE_WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE, &junk), VPC_EPERM);
	CHECK(junk == NULL);
	CHECK(objects() == 1);
	vpc_core_close(sys, h);
	CHECK(objects() == 1);          /* the DEFAULT handle still holds it */
	vpc_core_close(sys, hdef);
	CHECK(objects() == 0);          /* uncommitted: gone with its handles */
}

static void
test_lifetime(void)
{
	struct vpc_hdl *h, *h2;
	vpc_txn_t zero = 0;
	vpc_id_t got;
	int err;

	h = open_obj(10, VPC_TYPE_SWITCH, VPC_FLAG_CREATE, &err);
	CHECK_ERR(err, 0);
	vpc_core_close(sys, h);
	CHECK(objects() == 0);          /* uncommitted: gone with its handle */

	h = open_obj(10, VPC_TYPE_SWITCH, VPC_FLAG_CREATE, &err);
	CHECK_ERR(ctl(h, VPC_OP_COMMIT, &zero, sizeof(zero), NULL, 0), 0);
	CHECK_ERR(ctl(h, VPC_OP_COMMIT, &zero, sizeof(zero), NULL, 0),
	    VPC_EALREADY);
	vpc_core_close(sys, h);
	CHECK(objects() == 1);          /* committed: outlives its handles */
	h = open_obj(10, VPC_TYPE_SWITCH, VPC_FLAG_OPEN, &err);
	CHECK_ERR(err, 0);
	h2 = open_obj(10, VPC_TYPE_SWITCH, VPC_FLAG_OPEN, &err);
	CHECK_ERR(ctl(h, VPC_OP_DESTROY, &zero, sizeof(zero), NULL, 0), 0);
	CHECK(objects() == 0);
	CHECK_ERR(ctl(h2, VPC_OP_GET_ID, NULL, 0, &got, sizeof(got)),
	    VPC_EIDRM);
	/* Open handles to a destroyed object are a state the ABI allows. */
	{
		char why[160];

		CHECK_ERR(vpc_sys_check(sys, why, sizeof(why)), 0);
	}
	vpc_core_close(sys, h);
	vpc_core_close(sys, h2);
}

static void
test_txn(void)
{
	struct vpc_hdl *a, *b;
	vpc_sw_vni_t v = { .vni = 100 };
	vpc_txn_t ta, tb;
	int err;

	a = open_obj(20, VPC_TYPE_SWITCH, VPC_FLAG_CREATE, &err);
	b = open_obj(20, VPC_TYPE_SWITCH, VPC_FLAG_OPEN, &err);
	CHECK_ERR(err, 0);
	ta = txn_of(a);
	tb = txn_of(b);
	CHECK(ta > 0 && tb > 0 && ta != tb);
	v.txn = ta;
	CHECK_ERR(ctl(a, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	v.vni = 101;    /* same token, own change: still valid */
	CHECK_ERR(ctl(a, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	v.txn = tb;     /* b's token predates a's change */
	v.vni = 102;
	CHECK_ERR(ctl(b, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), VPC_ESTALE);
	v.txn = txn_of(b);
	CHECK_ERR(ctl(b, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	v.txn = ta;     /* now a's token is stale */
	CHECK_ERR(ctl(a, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), VPC_ESTALE);
	v.txn = 0;      /* unconditional */
	v.vni = 103;
	CHECK_ERR(ctl(a, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	v.txn = -5;
	CHECK_ERR(ctl(a, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), VPC_EINVAL);
	v.txn = 1000000;        /* never issued */
	CHECK_ERR(ctl(a, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), VPC_ESTALE);
	vpc_core_close(sys, a);
	vpc_core_close(sys, b);
	CHECK(objects() == 0);
}

static void
test_ports(void)
{
	struct vpc_hdl *sw, *nic;
	vpc_swport_t req, res;
	vpc_switch_t cnt;
	vpc_txn_t t;
	int err, nicfd;

	sw = open_obj(30, VPC_TYPE_SWITCH, VPC_FLAG_CREATE, &err);
	t = txn_of(sw);
	memset(&req, 0, sizeof(req));
	req.txn = t;
	req.flags = VPC_FLAG_SWP_UPLINK;
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    VPC_EEXIST);
	req.flags = VPC_FLAG_SWP_ROUTER;
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    VPC_EEXIST);
	/* Bad VLANs, VNIs, kinds. */
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID;
	req.vlan_id = 0;
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    VPC_EINVAL);
	req.vlan_id = 4095;
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    VPC_EINVAL);
	req.vlan_id = 123;
	req.flags |= VPC_FLAG_SWP_VNI;
	req.vni = 1u << 24;
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    VPC_EINVAL);
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_UPLINK;
	req.vni = 0;
	req.vlan_id = 0;
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    VPC_EINVAL);
	/* A firewall flag without its set id, an id naming no set. */
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_FW_EGRESS;
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    VPC_EINVAL);
	req.fw_egress_ruleset = 77;
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    VPC_ENOENT);
	req.fw_egress_ruleset = 0;
	/* The seed's vmnic port, with a descriptor for the new vmnic. */
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID | VPC_FLAG_SWP_VNI |
	    VPC_FLAG_SWP_DESCRIPTOR;
	req.vlan_id = 123;
	req.vni = 456;
	CHECK_ERR(ctl(sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	CHECK((res.flags & VPC_FLAG_SWP_DESCRIPTOR) != 0);
	nicfd = res.descriptor;
	CHECK(nicfd >= 0 && test_handles[nicfd] != NULL);
	nic = test_handles[nicfd];
	CHECK(vpc_hdl_objtype(nic) == VPC_TYPE_NIC);
	CHECK_ERR(ctl(sw, VPC_OP_SW_GET_PORT_COUNT, NULL, 0, &cnt, sizeof(cnt)), 0);
	CHECK(cnt.num_ports == 3 && cnt.vni == 456 && cnt.has_uplink && cnt.has_router);
	CHECK(objects() == 5);  /* switch, 3 ports, the vmnic */
	/* A second switch may not take VNI 456. */
	{
		struct vpc_hdl *sw2 = open_obj(31, VPC_TYPE_SWITCH,
		    VPC_FLAG_CREATE, &err);
		vpc_sw_vni_t v = { .vni = 456 };

		CHECK_ERR(ctl(sw2, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0),
		    VPC_EEXIST);
		vpc_core_close(sys, sw2);
	}
	/* Deleting the port takes its vmnic; the vmnic handle sees EIDRM. */
	{
		vpc_swport_ref_t ref;
		vpc_vmnic_t mac;

		memset(&ref, 0, sizeof(ref));
		ref.port_id = res.port_id;
		CHECK_ERR(ctl(sw, VPC_OP_SW_DEL_PORT, &ref, sizeof(ref), NULL, 0), 0);
		CHECK_ERR(ctl(nic, VPC_OP_NIC_GET_MAC, NULL, 0, &mac, sizeof(mac)),
		    VPC_EIDRM);
		CHECK_ERR(ctl(sw, VPC_OP_SW_DEL_PORT, &ref, sizeof(ref), NULL, 0),
		    VPC_ENOENT);
	}
	vpc_core_close(sys, nic);
	test_handles[nicfd] = NULL;
	vpc_core_close(sys, sw);
	CHECK(objects() == 0);
}

static void
test_sizes(void)
{
	struct vpc_hdl *nic;
	vpc_vmnic_t m;
	size_t vl;
	int err;

	nic = open_obj(40, VPC_TYPE_NIC, VPC_FLAG_CREATE, &err);
	memset(&m, 0, sizeof(m));
	m.mac[0] = 0x02;
	m.mac[5] = 1;
	CHECK_ERR(ctl(nic, VPC_OP_NIC_SET_MAC, &m, sizeof(m) - 1, NULL, 0), VPC_EINVAL);
	CHECK_ERR(ctl(nic, VPC_OP_NIC_SET_MAC, &m, sizeof(m) + 1, NULL, 0), VPC_EINVAL);
	CHECK_ERR(ctl(nic, VPC_OP_NIC_SET_MAC, &m, sizeof(m), &m, 4), VPC_EINVAL);
	CHECK_ERR(ctl(nic, VPC_OP_NIC_SET_MAC, &m, VPC_CTL_MAX_KEYLEN + 1, NULL, 0),
	    VPC_E2BIG);
	CHECK_ERR(ctl(nic, VPC_OP_SW_GET_VNI, NULL, 0, &m, 8), VPC_ENOTTY);
	CHECK_ERR(ctl(nic, 9999, NULL, 0, NULL, 0), VPC_ENOTTY);
	CHECK_ERR(ctl(NULL, VPC_OP_GET_TXN, NULL, 0, &m, 4), VPC_EBADF);
	m.mac[0] = 0x01;        /* multicast */
	CHECK_ERR(ctl(nic, VPC_OP_NIC_SET_MAC, &m, sizeof(m), NULL, 0), VPC_EINVAL);
	memset(m.mac, 0, 6);
	CHECK_ERR(ctl(nic, VPC_OP_NIC_SET_MAC, &m, sizeof(m), NULL, 0), VPC_EINVAL);
	m.mac[0] = 0x02;
	CHECK_ERR(vpc_core_ctl(sys, &user_call, nic, VPC_OP_NIC_SET_MAC, &m,
	    sizeof(m), NULL, NULL), 0); /* the handle was opened privileged */
	vl = sizeof(m);
	memset(&m, 0xff, sizeof(m));
	CHECK_ERR(vpc_core_ctl(sys, &priv_call, nic, VPC_OP_NIC_GET_MAC, NULL, 0,
	    &m, &vl), 0);
	CHECK(m.mac[0] == 0x02 && m.txn == 0 && m._pad0[0] == 0);
	vpc_core_close(sys, nic);
}

static void
test_list(void)
{
	struct vpc_hdl *h[5];
	vpc_list_req_t req;
	vpc_obj_info_t info[2];
	size_t vl;
	int err, i, seen = 0;

	for (i = 0; i < 5; i++)
		h[i] = open_obj((uint8_t)(50 + i), i % 2 ? VPC_TYPE_NIC :
		    VPC_TYPE_SWITCH, VPC_FLAG_CREATE, &err);
	memset(&req, 0, sizeof(req));
	req.obj_type = VPC_TYPE_SWITCH;
	for (;;) {
		vl = sizeof(info);
		CHECK_ERR(vpc_core_ctl(sys, &priv_call, NULL, VPC_OP_SYS_LIST, &req,
		    sizeof(req), info, &vl), 0);
		if (vl == 0)
			break;
		seen += (int)(vl / sizeof(info[0]));
		req.marker = info[vl / sizeof(info[0]) - 1].serial;
	}
	CHECK(seen == 3);
	req.marker = 0;
	vl = 10;
	CHECK_ERR(vpc_core_ctl(sys, &priv_call, NULL, VPC_OP_SYS_LIST, &req,
	    sizeof(req), info, &vl), VPC_ERANGE);
	CHECK(vl == 3 * sizeof(vpc_obj_info_t));
	for (i = 0; i < 5; i++)
		vpc_core_close(sys, h[i]);
}

#define EVSZ   sizeof(vpc_agent_event_t)
#define EV_DEG VPC_AGENT_EV_DEGRADED
#define EV_REC VPC_AGENT_EV_RECOVERED

static int
agent_event(struct vpc_call *c, uint32_t event, uint32_t pad, const char *detail,
    size_t keylen)
{
	vpc_agent_event_t ev;

	memset(&ev, 'x', sizeof(ev));   /* detail: no NUL unless we put one */
	ev.event = event;
	ev._pad0 = pad;
	if (detail != NULL)
		memcpy(ev.detail, detail, strlen(detail) + 1);
	return (vpc_core_ctl(sys, c, NULL, VPC_OP_SYS_AGENT_EVENT, &ev, keylen,
	    NULL, NULL));
}

static void
test_agent_event(void)
{
	unsigned n0 = test_events;

	/* Refusals first: each changes nothing and posts nothing. */
	CHECK_ERR(agent_event(&user_call, EV_DEG, 0, "", EVSZ), VPC_EPERM);
	CHECK_ERR(agent_event(&priv_call, 0, 0, "", EVSZ), VPC_EINVAL);
	CHECK_ERR(agent_event(&priv_call, 3, 0, "", EVSZ), VPC_EINVAL);
	CHECK_ERR(agent_event(&priv_call, EV_DEG, 1, "", EVSZ), VPC_EINVAL);
	CHECK_ERR(agent_event(&priv_call, EV_DEG, 0, NULL, EVSZ), VPC_EINVAL);
	CHECK_ERR(agent_event(&priv_call, EV_DEG, 0, "two words", EVSZ), VPC_EINVAL);
	CHECK_ERR(agent_event(&priv_call, EV_DEG, 0, "a\"b", EVSZ), VPC_EINVAL);
	CHECK_ERR(agent_event(&priv_call, EV_DEG, 0, "x\n", EVSZ), VPC_EINVAL);
	CHECK_ERR(agent_event(&priv_call, EV_DEG, 0, "", EVSZ - 1), VPC_EINVAL);
	CHECK(test_events == n0);

	CHECK_ERR(agent_event(&priv_call, EV_DEG, 0,
	    "etcd:http://127.0.0.1:2379", EVSZ), 0);
	CHECK(test_events == n0 + 1);
	CHECK(strcmp(test_last_event, "DEGRADED etcd:http://127.0.0.1:2379") == 0);
	CHECK_ERR(agent_event(&priv_call, EV_REC, 0, "", EVSZ), 0);
	CHECK(strcmp(test_last_event, "RECOVERED ") == 0);
}

/*
 * A firewall rule set is configuration an operator made: while one exists
 * the system is busy (the FreeBSD module refuses to unload, as it does for
 * a committed object); the host kernel's teardown drops it.  On a system
 * of its own, so the other tests' open handles do not make it busy.
 */
static void
test_sets_hold_unload(void)
{
	vpc_fw_set_t set = { .id = 77 };
	vpc_fw_set_ref_t ref = { .id = 77 };
	struct vpc_sys *s2;
	size_t vl = 0;

	CHECK(vpc_sys_create(&s2) == 0);
	CHECK(!vpc_sys_busy(s2));
	CHECK_ERR(vpc_core_ctl(s2, &priv_call, NULL, VPC_OP_FW_SET_CREATE, &set,
	    sizeof(set), NULL, &vl), 0);
	CHECK(vpc_sys_busy(s2));
	CHECK_ERR(vpc_sys_destroy(s2), VPC_EBUSY);
	CHECK_ERR(vpc_core_ctl(s2, &priv_call, NULL, VPC_OP_FW_SET_DESTROY, &ref,
	    sizeof(ref), NULL, &vl), 0);
	CHECK(!vpc_sys_busy(s2));
	CHECK_ERR(vpc_core_ctl(s2, &priv_call, NULL, VPC_OP_FW_SET_CREATE, &set,
	    sizeof(set), NULL, &vl), 0);
	vpc_sys_teardown(s2);
	CHECK(!vpc_sys_busy(s2));
	CHECK_ERR(vpc_sys_destroy(s2), 0);
}

int
main(void)
{
	static const struct { const char *name; void (*fn)(void); } tests[] = {
		{ "open rules", test_open_rules },
		{ "lifetime", test_lifetime },
		{ "transactions", test_txn },
		{ "switch ports", test_ports },
		{ "sizes and types", test_sizes },
		{ "listing", test_list },
		{ "agent events", test_agent_event },
		{ "rule sets hold the system busy", test_sets_hold_unload },
	};
	uint64_t allocs0;
	size_t i;

	hloop_init();
	allocs0 = vpc_mem_allocs();
	if (vpc_sys_create(&sys) != 0)
		return (1);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = failed;

		current = tests[i].name;
		tests[i].fn();
		check_invariants();
		if (failed == before) {
			printf("ok - %s\n", current);
			passed++;
		}
		hloop_reclaim();
	}
	passed += test_datapath(sys, &failed);
	passed += test_mtu(sys, &failed);
	passed += test_l3(sys, &failed);
	passed += test_router(sys, &failed);
	passed += test_fw(sys, &failed);
	passed += test_nat(sys, &failed);
	passed += test_natgw(sys, &failed);
	passed += test_burst(sys, &failed);
	passed += test_vnet(sys, &failed);
	passed += test_gso(sys, &failed);
	vpc_sys_teardown(sys);
	hloop_reclaim();
	current = "no leaks";
	for (i = 0; i < TEST_MAX_HANDLES; i++)
		if (test_handles[i] != NULL)
			vpc_core_close(sys, test_handles[i]);
	vpc_sys_destroy(sys);
	hloop_reclaim();
	if (vpc_mem_allocs() != allocs0) {
		printf("not ok - no leaks: %llu allocations outstanding\n",
		    (unsigned long long)(vpc_mem_allocs() - allocs0));
		failed++;
	} else {
		printf("ok - no leaks\n");
		passed++;
	}
	hloop_fini();
	printf("%d passed, %d failed\n", passed, failed);
	return (failed != 0);
}
