/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fw.c: the port firewall driven directly: the bad-input table of the
 * rule-set ops (errno and state unchanged), rule order, stateful TCP, UDP
 * and ICMP, related ICMP errors, invalid packets, rule replacement with and
 * without keep-established, TIME_WAIT reuse, limits and expiry.  Part of
 * test_core.
 */
#include <stdio.h>
#include <string.h>

#include "vpc_impl.h"            /* white-box: handles to objects */
#include "host_loop.h"
#include "host_os.h"
#include "host_pkt.h"
#include "test_fw.h"
#include "test_handles.h"
#include "test_os.h"

static struct fwt {
	struct vpc_sys *sys;
	struct vpc_hdl *sw, *nic_a, *nic_b;
	vpc_id_t        port_b;
	const char     *name;
	int            *failed;
} T;

#define TEST_AREA "fw"
#define TEST_STATE T
#include "test_area.h"

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0xf, 0xa };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0xf, 0xb };
static const uint8_t ip_a[4] = { 10, 9, 0, 10 };
static const uint8_t ip_b[4] = { 10, 9, 0, 11 };


static struct vpc_hdl *
open_new(unsigned type, uint8_t n)
{
	return (open_tagged(0xf1, type, n));
}

static uint64_t
swstat(unsigned which)
{
	return (sw_counter(T.sw, which));
}

#define F_TCP 6
#define F_UDP 17
#define F_ICMP 1

/*
 * An IPv4 frame from -> to: TCP (flags), UDP, or ICMP (type, code; the
 * second word is sport << 16: the echo id).  body: an ICMP error's quote.
 */
static struct vpc_pkt *
ip4(const uint8_t smac[6], const uint8_t dmac[6], const uint8_t src[4],
    const uint8_t dst[4], uint8_t proto, uint16_t sport, uint16_t dport,
    uint8_t flags, const uint8_t *body, uint32_t bodylen)
{
	uint8_t b[256];
	uint32_t l4 = proto == F_TCP ? 20 : 8, len = 14 + 20 + l4 + bodylen;
	uint8_t *ip = b + 14, *th = ip + 20;

	memset(b, 0, sizeof(b));
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	vpc_put16(ip + 2, (uint16_t)(len - 14));
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
	if (proto == F_ICMP) {
		th[0] = (uint8_t)sport;          /* type */
		th[1] = (uint8_t)dport;          /* code */
		vpc_put16(th + 4, flags);        /* echo id */
	} else {
		vpc_put16(th, sport);
		vpc_put16(th + 2, dport);
		if (proto == F_TCP) {
			th[12] = 0x50;
			th[13] = flags;
		} else
			vpc_put16(th + 4, (uint16_t)(8 + bodylen));
	}
	if (body != NULL)
		memcpy(th + l4, body, bodylen);
	return (host_pkt_new(b, len));
}

/* From A's VM to B's, or back; true if it reached the other VM. */
static bool
send_ab(bool from_a, uint8_t proto, uint16_t sport, uint16_t dport,
    uint8_t flags)
{
	struct os_epoch et;
	struct vpc_pkt *p;
	struct vpc_hdl *from = from_a ? T.nic_a : T.nic_b;
	struct vpc_hdl *to = from_a ? T.nic_b : T.nic_a;
	unsigned i, n = 0;

	p = ip4(from_a ? mac_a : mac_b, from_a ? mac_b : mac_a,
	    from_a ? ip_a : ip_b, from_a ? ip_b : ip_a, proto, sport, dport,
	    flags, NULL, 0);
	test_sent_reset();
	os_epoch_enter(&et);
	vpc_nic_input(obj2nic(from->obj), p);
	os_epoch_exit(&et);
	for (i = 0; i < test_nsent; i++)
		n += test_sent[i].kind == TEST_TO_NIC &&
		    test_sent[i].to == obj2nic(to->obj);
	return (n == 1);
}

static bool
send_raw(struct vpc_hdl *from, struct vpc_hdl *to, struct vpc_pkt *p)
{
	struct os_epoch et;
	unsigned i, n = 0;

	test_sent_reset();
	os_epoch_enter(&et);
	vpc_nic_input(obj2nic(from->obj), p);
	os_epoch_exit(&et);
	for (i = 0; i < test_nsent; i++)
		n += test_sent[i].kind == TEST_TO_NIC &&
		    test_sent[i].to == obj2nic(to->obj);
	return (n == 1);
}

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

static void
rule_init(vpc_fw_rule_t *r, uint32_t set, uint8_t dir, uint8_t action,
    uint8_t proto, uint32_t prio)
{
	memset(r, 0, sizeof(*r));
	r->set_id = set;
	r->dir = dir;
	r->action = action;
	r->proto = proto;
	r->priority = prio;
}

static int
set_create(uint32_t id, uint32_t flags)
{
	vpc_fw_set_t s = { .id = id, .flags = flags };

	return (ctl(NULL, VPC_OP_FW_SET_CREATE, &s, sizeof(s), NULL, 0));
}

static int
set_rules(const vpc_fw_rule_t *r, uint32_t n)
{
	return (ctl(NULL, VPC_OP_FW_SET_RULES, r, n * sizeof(*r), NULL, 0));
}

static int
attach_b(uint32_t in, uint32_t out)
{
	vpc_sw_port_fw_t a;

	memset(&a, 0, sizeof(a));
	a.port_id = T.port_b;
	a.flags = (in ? VPC_FLAG_SWP_FW_INGRESS : 0) |
	    (out ? VPC_FLAG_SWP_FW_EGRESS : 0);
	a.ingress = in;
	a.egress = out;
	return (ctl(T.sw, VPC_OP_SW_PORT_SET_FW, &a, sizeof(a), NULL, 0));
}

static int
check_invariants(void)
{
	char why[160];

	if (vpc_sys_check(T.sys, why, sizeof(why)) != 0)
		FAIL("invariant: %s", why);
	return (0);
}

/* ---- Setup ------------------------------------------------------------------- */

static int
setup(void)
{
	vpc_sw_vni_t v = { .vni = 900 };
	vpc_sw_subnet_t sn;
	vpc_swport_t req, res;

	T.sw = open_new(VPC_TYPE_SWITCH, 1);
	EXPECT(T.sw != NULL);
	EXPECT_EQ(ctl(T.sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	memcpy(sn.addr, (uint8_t[]){ 10, 9, 0, 0 }, 4);
	EXPECT_EQ(ctl(T.sw, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), NULL, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_a, 6);
	EXPECT_EQ(ctl(T.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	T.nic_a = test_handles[res.descriptor];
	memcpy(req.smac, mac_b, 6);
	EXPECT_EQ(ctl(T.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	T.nic_b = test_handles[res.descriptor];
	T.port_b = res.port_id;
	return (0);
}

/* ---- The bad-input table ------------------------------------------------------- */

struct fwstate {
	vpc_fw_set_t s1;
	uint64_t allocs, bytes;
	uint32_t nsets;
	vpc_swport_t pb;
};

static void
fwsnap(struct fwstate *st)
{
	vpc_fw_set_ref_t ref = { .id = 1 };
	vpc_list_req_t lr;
	vpc_fw_set_t sets[16];
	vpc_swport_ref_t pr;
	size_t vl = sizeof(sets);

	hloop_reclaim();
	memset(st, 0, sizeof(*st));
	(void)ctl(NULL, VPC_OP_FW_SET_GET, &ref, sizeof(ref), &st->s1, sizeof(st->s1));
	memset(&lr, 0, sizeof(lr));
	if (vpc_core_ctl(T.sys, &call, NULL, VPC_OP_FW_SET_LIST, &lr, sizeof(lr),
	    sets, &vl) == 0)
		st->nsets = (uint32_t)(vl / sizeof(sets[0]));
	memset(&pr, 0, sizeof(pr));
	pr.port_id = T.port_b;
	(void)ctl(T.sw, VPC_OP_SW_GET_PORT, &pr, sizeof(pr), &st->pb, sizeof(st->pb));
	st->allocs = vpc_mem_allocs();
	st->bytes = vpc_mem_bytes();
}

static int
refused(int want, int got, const struct fwstate *before, int line)
{
	struct fwstate after;

	fwsnap(&after);
	if (got != want) {
		printf("not ok - fw %s: line %d: errno %d, want %d\n", T.name, line, got, want);
		(*T.failed)++;
		return (-1);
	}
	if (memcmp(&after, before, sizeof(after)) != 0) {
		printf("not ok - fw %s: line %d: state changed by a refused call\n", T.name, line);
		(*T.failed)++;
		return (-1);
	}
	return (0);
}
#define REFUSED(want, call) do {                                        \
	struct fwstate b_;                                              \
	fwsnap(&b_);                                                    \
	if (refused((want), (call), &b_, __LINE__) != 0)                \
		return (-1);                                            \
} while (0)

static int
t_bad_input(void)
{
	vpc_fw_rule_t r[2], g;
	vpc_fw_set_ref_t ref;
	vpc_fw_config_t cf;
	vpc_swport_t req, res;

	EXPECT_EQ(set_create(1, 0), 0);
	rule_init(&g, 1, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_TCP, 100);
	g.nports = 1;
	g.port_lo[0] = g.port_hi[0] = 22;
	EXPECT_EQ(set_rules(&g, 1), 0);

	/* Sets. */
	REFUSED(VPC_EINVAL, set_create(0, 0));
	REFUSED(VPC_EINVAL, set_create(2, 0x80));
	REFUSED(VPC_EEXIST, set_create(1, 0));
	ref.id = 99;
	ref._pad0 = 0;
	REFUSED(VPC_ENOENT, ctl(NULL, VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref), NULL, 0));
	REFUSED(VPC_ENOENT, ctl(NULL, VPC_OP_FW_SET_FLUSH, &ref, sizeof(ref), NULL, 0));
	/* Rules, each alone. */
	r[0] = g;
	r[0].priority = 65536;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0] = g;
	r[0].port_lo[0] = 0;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0] = g;
	r[0].port_hi[0] = 65536;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0] = g;
	r[0].port_lo[0] = 100;
	r[0].port_hi[0] = 99;
	REFUSED(VPC_EINVAL, set_rules(r, 1));           /* reversed range */
	r[0] = g;
	r[0].nports = VPC_FW_PORTS_MAX + 1;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0] = g;
	r[0].port_lo[3] = 5;                            /* beyond nports */
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0] = g;
	r[0].remote = VPC_FW_REMOTE_CIDR;
	r[0].af = VPC_AF_INET;
	r[0].plen = 8;
	memcpy(r[0].addr, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	REFUSED(VPC_EINVAL, set_rules(r, 1));           /* host bits */
	r[0].addr[3] = 0;
	r[0].plen = 33;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0].plen = 8;
	r[0].af = 5;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0].af = VPC_AF_INET6;                         /* 2001:db8::1/64 */
	memset(r[0].addr, 0, 16);
	memcpy(r[0].addr, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
	r[0].addr[15] = 1;
	r[0].plen = 64;
	REFUSED(VPC_EINVAL, set_rules(r, 1));           /* IPv6 host bits */
	r[0].addr[15] = 0;
	r[0].plen = 129;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0].plen = 64;                                 /* the same, right: taken */
	EXPECT_EQ(set_rules(r, 1), 0);
	EXPECT_EQ(set_rules(&g, 1), 0);
	r[0] = g;
	r[0].proto = 9;
	REFUSED(VPC_EINVAL, set_rules(r, 1));           /* unknown protocol */
	r[0] = g;
	r[0].dir = 3;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0] = g;
	r[0].action = 0;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	rule_init(&r[0], 1, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_ICMP, 1);
	r[0].flags = VPC_FW_R_ICMP_CODE;
	r[0].icmp_code = 3;
	REFUSED(VPC_EINVAL, set_rules(r, 1));           /* code without type */
	rule_init(&r[0], 1, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_ICMP, 1);
	r[0].nports = 1;
	r[0].port_lo[0] = r[0].port_hi[0] = 1;
	REFUSED(VPC_EINVAL, set_rules(r, 1));           /* ports with ICMP */
	rule_init(&r[0], 1, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_TCP, 1);
	r[0].flags = VPC_FW_R_ICMP_TYPE;
	REFUSED(VPC_EINVAL, set_rules(r, 1));           /* ICMP type with TCP */
	r[0] = g;
	r[0].set_id = 99;
	REFUSED(VPC_ENOENT, set_rules(r, 1));           /* no such set */
	{
		vpc_fw_set_t gs, ms;
		vpc_fw_dump_req_t dq;
		vpc_fw_rule_t dv[2];

		ref.id = 99;
		REFUSED(VPC_ENOENT, ctl(NULL, VPC_OP_FW_SET_GET, &ref, sizeof(ref), &gs, sizeof(gs)));
		memset(&ms, 0, sizeof(ms));
		ms.id = 99;
		ms.flags = VPC_FW_SET_KEEP_ESTABLISHED;
		REFUSED(VPC_ENOENT, ctl(NULL, VPC_OP_FW_SET_MODIFY, &ms, sizeof(ms), NULL, 0));
		memset(&dq, 0, sizeof(dq));
		dq.id = 99;
		REFUSED(VPC_ENOENT, ctl(NULL, VPC_OP_FW_RULE_DUMP, &dq, sizeof(dq), dv, sizeof(dv)));
	}
	r[0] = g;
	r[1] = g;
	r[1].set_id = 2;
	REFUSED(VPC_EINVAL, set_rules(r, 2));           /* two sets */
	r[0] = g;
	r[0].remote = VPC_FW_REMOTE_SWITCH;
	memset(&r[0].switch_id, 0x77, 16);
	REFUSED(VPC_ENOENT, set_rules(r, 1));           /* no such switch */
	r[0].switch_id = T.nic_a->obj->id;
	REFUSED(VPC_EINVAL, set_rules(r, 1));           /* not a switch */
	r[0] = g;
	r[0].remote = VPC_FW_REMOTE_VNI;
	r[0].vni = 1u << 24;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	r[0] = g;
	r[0].hits = 1;
	REFUSED(VPC_EINVAL, set_rules(r, 1));
	/* A good rule then a bad one: nothing applied. */
	r[0] = g;
	r[1] = g;
	r[1].port_lo[0] = 0;
	REFUSED(VPC_EINVAL, set_rules(r, 2));
	/* Ports. */
	REFUSED(VPC_ENOENT, attach_b(99, 0));
	REFUSED(VPC_ENOENT, attach_b(0, 99));
	{
		vpc_sw_port_fw_t a;

		memset(&a, 0, sizeof(a));
		a.port_id = T.port_b;
		a.flags = VPC_FLAG_SWP_FW_INGRESS;
		REFUSED(VPC_EINVAL, ctl(T.sw, VPC_OP_SW_PORT_SET_FW, &a, sizeof(a), NULL, 0));
		a.flags = 0;
		a.egress = 1;
		REFUSED(VPC_EINVAL, ctl(T.sw, VPC_OP_SW_PORT_SET_FW, &a, sizeof(a), NULL, 0));
		a.flags = VPC_FLAG_SWP_FW_EGRESS | VPC_FLAG_SWP_VMNIC;
		REFUSED(VPC_EINVAL, ctl(T.sw, VPC_OP_SW_PORT_SET_FW, &a, sizeof(a), NULL, 0));
		a.flags = VPC_FLAG_SWP_FW_EGRESS;
		memset(&a.port_id, 0x55, 16);
		REFUSED(VPC_ENOENT, ctl(T.sw, VPC_OP_SW_PORT_SET_FW, &a, sizeof(a), NULL, 0));
	}
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_FW_EGRESS;
	req.fw_egress_ruleset = 1;
	REFUSED(VPC_EINVAL, ctl(T.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_FW_INGRESS;
	req.fw_state_table = 42;
	req.fw_egress_ruleset = 0;
	REFUSED(VPC_ENOENT, ctl(T.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)));
	/* Config. */
	memset(&cf, 0, sizeof(cf));
	cf.udp_s = VPC_FW_TIMEOUT_MAX_S + 1;
	REFUSED(VPC_EINVAL, ctl(NULL, VPC_OP_FW_SET_CONFIG, &cf, sizeof(cf), NULL, 0));
	memset(&cf, 0, sizeof(cf));
	cf.max_flows = 10;
	cf.max_flows_port = 11;
	REFUSED(VPC_EINVAL, ctl(NULL, VPC_OP_FW_SET_CONFIG, &cf, sizeof(cf), NULL, 0));
	/* In use: EBUSY, and then free again. */
	EXPECT_EQ(attach_b(1, 0), 0);
	ref.id = 1;
	REFUSED(VPC_EBUSY, ctl(NULL, VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref), NULL, 0));
	EXPECT_EQ(attach_b(0, 1), 0);                  /* as the egress set too */
	REFUSED(VPC_EBUSY, ctl(NULL, VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref), NULL, 0));
	EXPECT_EQ(attach_b(0, 0), 0);
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref), NULL, 0), 0);
	return (check_invariants());
}

/* ---- Order and dumps ------------------------------------------------------------- */

static int
t_order_dump(void)
{
	vpc_fw_rule_t r[4], out[4];
	vpc_fw_dump_req_t dq;
	vpc_fw_set_ref_t ref = { .id = 5 };
	size_t vl;

	EXPECT_EQ(set_create(5, 0), 0);
	rule_init(&r[0], 5, VPC_FW_DIR_OUT, VPC_FW_ALLOW, VPC_FW_PROTO_ANY, 10);
	rule_init(&r[1], 5, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_UDP, 10);
	rule_init(&r[2], 5, VPC_FW_DIR_IN, VPC_FW_DENY, VPC_FW_PROTO_TCP, 10);
	rule_init(&r[3], 5, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_ICMP, 5);
	EXPECT_EQ(set_rules(r, 4), 0);
	memset(&dq, 0, sizeof(dq));
	dq.id = 5;
	vl = sizeof(out);
	EXPECT_EQ(vpc_core_ctl(T.sys, &call, NULL, VPC_OP_FW_RULE_DUMP, &dq,
	    sizeof(dq), out, &vl), 0);
	EXPECT_EQ(vl, 4 * sizeof(out[0]));
	/* in first; lower priority first; at equal priority deny first. */
	EXPECT_EQ(out[0].proto, VPC_FW_PROTO_ICMP);
	EXPECT_EQ(out[1].action, VPC_FW_DENY);
	EXPECT_EQ(out[2].proto, VPC_FW_PROTO_UDP);
	EXPECT_EQ(out[3].dir, VPC_FW_DIR_OUT);
	/* Resume after two; a marker from before a replace is ESTALE. */
	vl = 2 * sizeof(out[0]);
	EXPECT_EQ(vpc_core_ctl(T.sys, &call, NULL, VPC_OP_FW_RULE_DUMP, &dq,
	    sizeof(dq), out, &vl), 0);
	dq.marker = out[1].cursor;
	vl = sizeof(out);
	EXPECT_EQ(vpc_core_ctl(T.sys, &call, NULL, VPC_OP_FW_RULE_DUMP, &dq,
	    sizeof(dq), out, &vl), 0);
	EXPECT_EQ(vl, 2 * sizeof(out[0]));
	EXPECT_EQ(out[0].proto, VPC_FW_PROTO_UDP);
	EXPECT_EQ(set_rules(r, 4), 0);
	EXPECT_EQ(vpc_core_ctl(T.sys, &call, NULL, VPC_OP_FW_RULE_DUMP, &dq,
	    sizeof(dq), out, &vl), VPC_ESTALE);
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref), NULL, 0), 0);
	return (check_invariants());
}

/* ---- Stateful --------------------------------------------------------------------- */

static uint32_t
flows_of_b(vpc_fw_flow_t *out, size_t n)
{
	vpc_fw_flow_req_t q;
	size_t vl = n * sizeof(*out);

	memset(&q, 0, sizeof(q));
	q.port_id = T.port_b;
	if (vpc_core_ctl(T.sys, &call, T.sw, VPC_OP_SW_FW_FLOWS, &q, sizeof(q),
	    out, &vl) != 0)
		return (~0u);
	return ((uint32_t)(vl / sizeof(*out)));
}

static int
t_tcp(void)
{
	vpc_fw_rule_t r;
	vpc_fw_flow_t fl[8];
	uint64_t deny0 = swstat(VPC_SWSTAT_FW_DENY);
	uint64_t inval0 = swstat(VPC_SWSTAT_FW_INVALID);

	EXPECT_EQ(set_create(10, 0), 0);
	rule_init(&r, 10, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_TCP, 100);
	r.nports = 2;
	r.port_lo[0] = r.port_hi[0] = 22;
	r.port_lo[1] = 440;
	r.port_hi[1] = 450;
	EXPECT_EQ(set_rules(&r, 1), 0);
	EXPECT_EQ(attach_b(10, 0), 0);
	/* Allowed port: the handshake, both ways. */
	EXPECT(send_ab(true, F_TCP, 40000, 22, TH_SYN));
	EXPECT(send_ab(false, F_TCP, 22, 40000, TH_SYN | TH_ACK));
	EXPECT(send_ab(true, F_TCP, 40000, 22, TH_ACK));
	EXPECT(send_ab(false, F_TCP, 22, 40000, TH_ACK));
	EXPECT_EQ(flows_of_b(fl, 8), 1);
	EXPECT_EQ(fl[0].state, VPC_FW_TCP_ESTABLISHED);
	EXPECT_EQ(fl[0].dir, VPC_FW_DIR_IN);
	EXPECT_EQ(fl[0].lport, 22);
	EXPECT_EQ(fl[0].rport, 40000);
	EXPECT_EQ(fl[0].pkts_in, 2);
	EXPECT_EQ(fl[0].pkts_out, 2);
	EXPECT(send_ab(true, F_TCP, 40001, 445, TH_SYN));      /* in the range */
	/* Other ports: nothing (default inbound deny). */
	EXPECT(!send_ab(true, F_TCP, 40000, 23, TH_SYN));
	EXPECT(!send_ab(true, F_TCP, 40000, 451, TH_SYN));
	EXPECT_EQ(swstat(VPC_SWSTAT_FW_DENY), deny0 + 2);
	/* No state, not a SYN: invalid; bad flags: invalid. */
	EXPECT(!send_ab(true, F_TCP, 40002, 22, TH_ACK));
	EXPECT(!send_ab(true, F_TCP, 40003, 22, TH_SYN | TH_FIN));
	EXPECT(!send_ab(true, F_TCP, 40000, 22, 0));
	EXPECT_EQ(swstat(VPC_SWSTAT_FW_INVALID), inval0 + 3);
	/* B's own connection out (no egress set: allowed), its reply in. */
	EXPECT(send_ab(false, F_TCP, 50000, 80, TH_SYN));
	EXPECT(!send_ab(true, F_TCP, 80, 50000, TH_ACK));      /* no SYN-ACK yet */
	EXPECT(send_ab(true, F_TCP, 80, 50000, TH_SYN | TH_ACK));
	EXPECT(send_ab(false, F_TCP, 50000, 80, TH_ACK));
	/* Close both ways: TIME_WAIT; a new SYN on it starts a new flow. */
	EXPECT(send_ab(false, F_TCP, 50000, 80, TH_FIN | TH_ACK));
	EXPECT(send_ab(true, F_TCP, 80, 50000, TH_FIN | TH_ACK));
	EXPECT(send_ab(false, F_TCP, 50000, 80, TH_ACK));
	{
		uint32_t i, n = flows_of_b(fl, 8);
		int tw = 0;

		for (i = 0; i < n; i++)
			tw += fl[i].state == VPC_FW_TCP_TIME_WAIT;
		EXPECT_EQ(tw, 1);
	}
	EXPECT(send_ab(false, F_TCP, 50000, 80, TH_SYN));
	EXPECT(send_ab(true, F_TCP, 80, 50000, TH_SYN | TH_ACK));
	/* A RST closes; a late ACK after it still passes until expiry. */
	EXPECT(send_ab(true, F_TCP, 80, 50000, TH_RST));
	EXPECT(send_ab(false, F_TCP, 50000, 80, TH_ACK));
	EXPECT_EQ(attach_b(0, 0), 0);
	EXPECT_EQ(flows_of_b(fl, 8), 0);                         /* flushed */
	return (check_invariants());
}

static int
t_udp_icmp(void)
{
	vpc_fw_rule_t r[2];
	uint8_t quote[28];
	struct vpc_pkt *p;

	EXPECT_EQ(set_create(11, 0), 0);
	EXPECT_EQ(set_create(12, 0), 0);
	/* B: ingress set 11 (empty: deny), egress set 12 allowing UDP 53 only. */
	rule_init(&r[0], 12, VPC_FW_DIR_OUT, VPC_FW_ALLOW, VPC_FW_PROTO_UDP, 1);
	r[0].nports = 1;
	r[0].port_lo[0] = r[0].port_hi[0] = 53;
	rule_init(&r[1], 12, VPC_FW_DIR_OUT, VPC_FW_DENY, VPC_FW_PROTO_ANY, 2);
	EXPECT_EQ(set_rules(r, 2), 0);
	EXPECT_EQ(attach_b(11, 12), 0);
	EXPECT(send_ab(false, F_UDP, 5353, 53, 0));
	EXPECT(send_ab(true, F_UDP, 53, 5353, 0));              /* the reply */
	EXPECT(!send_ab(false, F_UDP, 5353, 54, 0));            /* out denied */
	EXPECT(!send_ab(true, F_UDP, 999, 5353, 0));            /* in: no flow */
	/* Echo: denied in until a rule allows type 8. */
	EXPECT(!send_ab(true, F_ICMP, 8, 0, 0x77));
	rule_init(&r[0], 11, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_ICMP, 1);
	r[0].flags = VPC_FW_R_ICMP_TYPE;
	r[0].icmp_type = 8;
	EXPECT_EQ(set_rules(r, 1), 0);
	EXPECT(send_ab(true, F_ICMP, 8, 0, 0x77));
	EXPECT(send_ab(false, F_ICMP, 0, 0, 0x77));             /* its reply */
	/* An ICMP error quoting B's DNS query reaches B; an unrelated one not. */
	memset(quote, 0, sizeof(quote));
	quote[0] = 0x45;
	quote[9] = F_UDP;
	memcpy(quote + 12, ip_b, 4);
	memcpy(quote + 16, ip_a, 4);
	vpc_put16(quote + 20, 5353);
	vpc_put16(quote + 22, 53);
	p = ip4(mac_a, mac_b, ip_a, ip_b, F_ICMP, 3, 3, 0, quote, sizeof(quote));
	EXPECT(send_raw(T.nic_a, T.nic_b, p));
	vpc_put16(quote + 22, 1234);
	p = ip4(mac_a, mac_b, ip_a, ip_b, F_ICMP, 3, 3, 0, quote, sizeof(quote));
	EXPECT(!send_raw(T.nic_a, T.nic_b, p));
	/* Idle UDP flows expire: the clock moves past the timeout. */
	host_clock_skew_ns += (uint64_t)(VPC_FW_UDP_S + 1) * 1000000000ULL;
	EXPECT(!send_ab(true, F_UDP, 53, 5353, 0));
	vpc_fw_sweep_all(T.sys);
	{
		vpc_fw_config_t c;

		EXPECT_EQ(ctl(NULL, VPC_OP_FW_GET_CONFIG, NULL, 0, &c, sizeof(c)), 0);
		EXPECT_EQ(c.flows, 0);
		EXPECT_EQ(c.udp_s, VPC_FW_UDP_S);
	}
	EXPECT_EQ(attach_b(0, 0), 0);
	return (check_invariants());
}

/* Rule changes: re-evaluated on the next packet, unless kept established. */
static int
t_replace(void)
{
	vpc_fw_rule_t r;
	vpc_fw_set_t mod = { .id = 20, .flags = VPC_FW_SET_KEEP_ESTABLISHED };
	vpc_fw_set_ref_t ref = { .id = 20 };

	EXPECT_EQ(set_create(20, 0), 0);
	rule_init(&r, 20, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_TCP, 1);
	EXPECT_EQ(set_rules(&r, 1), 0);
	EXPECT_EQ(attach_b(20, 0), 0);
	EXPECT(send_ab(true, F_TCP, 1000, 22, TH_SYN));
	EXPECT(send_ab(false, F_TCP, 22, 1000, TH_SYN | TH_ACK));
	EXPECT(send_ab(true, F_TCP, 1000, 22, TH_ACK));
	/* Keep-established: the rules go, the flow stays. */
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_MODIFY, &mod, sizeof(mod), NULL, 0), 0);
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_FLUSH, &ref, sizeof(ref), NULL, 0), 0);
	EXPECT(send_ab(true, F_TCP, 1000, 22, TH_ACK));
	EXPECT(!send_ab(true, F_TCP, 1001, 22, TH_SYN));        /* new: denied */
	/* Default: the next packet is judged by the new rules. */
	mod.flags = 0;
	EXPECT_EQ(set_rules(&r, 1), 0);
	EXPECT(send_ab(true, F_TCP, 1002, 22, TH_SYN));
	EXPECT(send_ab(false, F_TCP, 22, 1002, TH_SYN | TH_ACK));
	EXPECT(send_ab(true, F_TCP, 1002, 22, TH_ACK));
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_MODIFY, &mod, sizeof(mod), NULL, 0), 0);
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_FLUSH, &ref, sizeof(ref), NULL, 0), 0);
	EXPECT(!send_ab(true, F_TCP, 1002, 22, TH_ACK));
	EXPECT(!send_ab(false, F_TCP, 22, 1002, TH_ACK));       /* the flow is gone */
	EXPECT_EQ(attach_b(0, 0), 0);
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref), NULL, 0), 0);
	return (check_invariants());
}

/* Limits: a flow that does not fit is dropped and counted; so is one with
 * no memory for it. */
static int
t_limits(void)
{
	vpc_fw_config_t c;
	uint64_t full0 = swstat(VPC_SWSTAT_FW_TABLE_FULL);
	uint16_t i;

	memset(&c, 0, sizeof(c));
	c.max_flows_port = 4;
	c.max_flows = 100;
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_CONFIG, &c, sizeof(c), NULL, 0), 0);
	EXPECT_EQ(set_create(30, 0), 0);
	EXPECT_EQ(attach_b(30, 0), 0);          /* empty in: deny; out: allow */
	for (i = 0; i < 4; i++)
		EXPECT(send_ab(false, F_UDP, (uint16_t)(2000 + i), 53, 0));
	EXPECT(!send_ab(false, F_UDP, 2004, 53, 0));
	EXPECT_EQ(swstat(VPC_SWSTAT_FW_TABLE_FULL), full0 + 1);
	EXPECT(send_ab(true, F_UDP, 53, 2003, 0));              /* known flows go on */
	EXPECT_EQ(attach_b(0, 0), 0);
	EXPECT_EQ(attach_b(30, 0), 0);
	{
		struct vpc_pkt *p = ip4(mac_b, mac_a, ip_b, ip_a, F_UDP, 2005, 53,
		    0, NULL, 0);
		bool got;

		host_fail_alloc_at = 1;         /* the flow's allocation */
		got = send_raw(T.nic_b, T.nic_a, p);
		host_fail_alloc_at = 0;
		EXPECT(!got);
	}
	EXPECT_EQ(swstat(VPC_SWSTAT_FW_TABLE_FULL), full0 + 2);
	EXPECT_EQ(attach_b(0, 0), 0);
	memset(&c, 0, sizeof(c));
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_CONFIG, &c, sizeof(c), NULL, 0), 0);
	return (check_invariants());
}

/* Flows of B in the dump, read 8 at a time from marker to marker. */
static uint32_t
dump_count_b(void)
{
	vpc_fw_flow_req_t q;
	vpc_fw_flow_t out[8];
	size_t vl;
	uint32_t n = 0;

	memset(&q, 0, sizeof(q));
	q.port_id = T.port_b;
	for (;;) {
		vl = sizeof(out);
		if (vpc_core_ctl(T.sys, &call, T.sw, VPC_OP_SW_FW_FLOWS, &q,
		    sizeof(q), out, &vl) != 0)
			return (~0u);
		if (vl == 0)
			return (n);
		n += (uint32_t)(vl / sizeof(out[0]));
		q.marker = out[vl / sizeof(out[0]) - 1].cursor;
	}
}

#define CROWD 1600u

/*
 * The flow table crowded: sized for a limit of 100 (256 buckets, 1,536
 * slots), then the limit raised while it holds a flow (no resize), and
 * 1,600 flows tried.  Buckets overflow into their neighbours: every flow
 * made is found both ways, those that found no slot (within FW_PROBE_MAX
 * buckets, and at least the 65 past 1,536) are fwTableFull, the overflow counts stay right (the invariants)
 * through a removal of every other flow by expiry, and the freed slots take
 * new flows.  The dump walks them all from marker to marker.
 */
static int
t_crowded(void)
{
	static bool made[CROWD];
	vpc_fw_config_t c;
	uint64_t full0 = swstat(VPC_SWSTAT_FW_TABLE_FULL);
	uint32_t i, nmade = 0, nfull;
	uint64_t half = (uint64_t)(VPC_FW_UDP_S / 2 + 1) * 1000000000ULL;

	memset(&c, 0, sizeof(c));
	c.max_flows = c.max_flows_port = 100;
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_CONFIG, &c, sizeof(c), NULL, 0), 0);
	EXPECT_EQ(vpc_fw_buckets(T.sys), 256);
	EXPECT_EQ(set_create(50, 0), 0);
	EXPECT_EQ(attach_b(50, 0), 0);          /* in: deny; out: allow */
	EXPECT(send_ab(false, F_UDP, 3000, 53, 0));
	c.max_flows = c.max_flows_port = 8192;
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_CONFIG, &c, sizeof(c), NULL, 0), 0);
	EXPECT_EQ(vpc_fw_buckets(T.sys), 256);  /* not empty: kept */
	for (i = 0; i < CROWD; i++)
		nmade += (made[i] = send_ab(false, F_UDP, (uint16_t)(3001 + i),
		    53, 0));
	nfull = (uint32_t)(swstat(VPC_SWSTAT_FW_TABLE_FULL) - full0);
	EXPECT_EQ(nmade + nfull, CROWD);
	EXPECT(nmade > 1300);
	EXPECT(nfull >= CROWD + 1 - 256 * 6);  /* 1,536 slots */
	EXPECT(check_invariants() == 0);
	/* Every flow found from the other side too; no other passes in. */
	for (i = 0; i < CROWD; i++)
		EXPECT_EQ(send_ab(true, F_UDP, 53, (uint16_t)(3001 + i), 0),
		    made[i]);
	EXPECT_EQ(dump_count_b(), nmade + 1);
	/* Every other flow expires: the rest are seen again half-way. */
	host_clock_skew_ns += half;
	EXPECT(send_ab(false, F_UDP, 3000, 53, 0));
	for (i = 0; i < CROWD; i += 2)
		if (made[i])
			EXPECT(send_ab(false, F_UDP, (uint16_t)(3001 + i), 53, 0));
	host_clock_skew_ns += half;
	vpc_fw_sweep_all(T.sys);
	EXPECT(check_invariants() == 0);
	for (i = 0; i < CROWD; i++)
		EXPECT_EQ(send_ab(true, F_UDP, 53, (uint16_t)(3001 + i), 0),
		    made[i] && i % 2 == 0);
	/* The freed slots take new flows. */
	for (i = 1; i < CROWD; i += 2)
		if (made[i])
			EXPECT(send_ab(false, F_UDP, (uint16_t)(3001 + i), 53, 0));
	EXPECT_EQ(dump_count_b(), nmade + 1);
	EXPECT(check_invariants() == 0);
	EXPECT_EQ(attach_b(0, 0), 0);
	EXPECT_EQ(dump_count_b(), 0);
	memset(&c, 0, sizeof(c));
	EXPECT_EQ(ctl(NULL, VPC_OP_FW_SET_CONFIG, &c, sizeof(c), NULL, 0), 0);
	return (check_invariants());
}

/* Non-IP and neighbour discovery pass whatever the rules. */
static int
t_always(void)
{
	uint8_t b[80];

	EXPECT_EQ(set_create(40, 0), 0);
	EXPECT_EQ(attach_b(40, 40), 0);
	memset(b, 0, sizeof(b));
	memcpy(b, mac_b, 6);
	memcpy(b + 6, mac_a, 6);
	b[12] = 0x88;           /* an ethertype that is not IP */
	b[13] = 0xb5;
	EXPECT(send_raw(T.nic_a, T.nic_b, host_pkt_new(b, 60)));
	EXPECT_EQ(attach_b(0, 0), 0);
	return (check_invariants());
}

/*
 * A fragment of a UDP datagram from A to B, IP id `id`: the first (ports,
 * MF) or a later one (offset 8 words, MF as `more`), with the IP header's
 * checksum right.
 */
static struct vpc_pkt *
frag4(uint16_t id, bool first, bool more, uint16_t dport)
{
	struct vpc_pkt *p = ip4(mac_a, mac_b, ip_a, ip_b, F_UDP, 5000, dport,
	    0, (const uint8_t[16]){ 0 }, 16);
	uint8_t *ip = host_pkt_data(p) + 14;

	vpc_put16(ip + 4, id);
	vpc_put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | (first ? 0 : 8)));
	vpc_put16(ip + 10, 0);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
	return (p);
}

/* frag4 the other way, B to A. */
static struct vpc_pkt *
frag_b_to_a(uint16_t id, bool first)
{
	struct vpc_pkt *p = frag4(id, first, first, 53);
	uint8_t *b = host_pkt_data(p), t[6], *ip = b + 14;

	memcpy(t, b, 6);
	memcpy(b, b + 6, 6);
	memcpy(b + 6, t, 6);
	memcpy(ip + 12, ip_b, 4);
	memcpy(ip + 16, ip_a, 4);
	vpc_put16(ip + 10, 0);
	vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip, 20)));
	return (p);
}

/* Fragments: judged by their datagram's first fragment (vpc_fragmem.c). */
static int
t_fragments(void)
{
	vpc_fw_rule_t r;
	uint64_t inval;

	EXPECT_EQ(set_create(70, 0), 0);
	rule_init(&r, 70, VPC_FW_DIR_IN, VPC_FW_ALLOW, VPC_FW_PROTO_UDP, 1);
	r.nports = 1;
	r.port_lo[0] = r.port_hi[0] = 53;
	EXPECT_EQ(set_rules(&r, 1), 0);
	EXPECT_EQ(attach_b(70, 0), 0);
	/* Allowed in: its first fragment passes, then every later one. */
	EXPECT(send_raw(T.nic_a, T.nic_b, frag4(0x1234, true, true, 53)));
	EXPECT(send_raw(T.nic_a, T.nic_b, frag4(0x1234, false, true, 0)));
	EXPECT(send_raw(T.nic_a, T.nic_b, frag4(0x1234, false, false, 0)));
	/* A later fragment of no datagram that passed: dropped as invalid. */
	inval = swstat(VPC_SWSTAT_FW_INVALID);
	EXPECT(!send_raw(T.nic_a, T.nic_b, frag4(0x1235, false, false, 0)));
	EXPECT_EQ(swstat(VPC_SWSTAT_FW_INVALID), inval + 1);
	/* A denied datagram: its first fragment and its later ones. */
	EXPECT(!send_raw(T.nic_a, T.nic_b, frag4(0x2000, true, true, 54)));
	EXPECT(!send_raw(T.nic_a, T.nic_b, frag4(0x2000, false, false, 0)));
	/* The same id the other way (B to A) is another datagram: A's
	 * allowed one does not let B's later fragment out unseen; B's own
	 * first fragment out (no egress set: allowed) does. */
	EXPECT(send_raw(T.nic_a, T.nic_b, frag4(0x3000, true, true, 53)));
	EXPECT(!send_raw(T.nic_b, T.nic_a, frag_b_to_a(0x3000, false)));
	EXPECT(send_raw(T.nic_b, T.nic_a, frag_b_to_a(0x3000, true)));
	EXPECT(send_raw(T.nic_b, T.nic_a, frag_b_to_a(0x3000, false)));
	/* Rules in force: a later fragment after the datagram's time is
	 * dropped (30 s, as Linux's reassembly timeout). */
	EXPECT(send_raw(T.nic_a, T.nic_b, frag4(0x4000, true, true, 53)));
	host_clock_skew_ns += 31ULL * 1000000000ULL;
	EXPECT(!send_raw(T.nic_a, T.nic_b, frag4(0x4000, false, false, 0)));
	EXPECT_EQ(attach_b(0, 0), 0);
	return (check_invariants());
}

static int (*const cases[])(void) = {
	t_bad_input, t_order_dump, t_tcp, t_udp_icmp, t_replace, t_limits,
	t_always, t_crowded, t_fragments,
};
static const char *const names[] = {
	"the bad-input table of the rule-set ops (errno, state unchanged)",
	"rule order (direction, priority, deny first, as given) and dump resume",
	"TCP: allowed ports, default deny in, invalid, TIME_WAIT reuse, RST",
	"UDP and ICMP: egress-only, replies, echo by rule, related errors, expiry",
	"rule replace: re-evaluated, or kept when established",
	"limits: per port, and no memory: dropped and counted",
	"non-IP passes",
	"a crowded flow table: overflow, full, expiry, reuse, dump",
	"fragments: judged by the datagram's first, unknown ones dropped, expiry",
};

int
test_fw(struct vpc_sys *sys, int *failed)
{
	int passed = 0;
	unsigned i;

	memset(&T, 0, sizeof(T));
	T.sys = sys;
	T.failed = failed;
	T.name = "setup";
	if (setup() != 0)
		return (0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T.name = names[i];
		if (cases[i]() == 0) {
			printf("ok - fw %s\n", names[i]);
			passed++;
		}
		hloop_reclaim();
	}
	for (i = 0; i < TEST_MAX_HANDLES; i++)
		if (test_handles[i] != NULL) {
			vpc_core_close(sys, test_handles[i]);
			test_handles[i] = NULL;
		}
	vpc_core_close(sys, T.sw);
	return (passed);
}
