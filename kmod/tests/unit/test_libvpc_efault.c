/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_libvpc_efault: an error must mean nothing happened, EFAULT included,
 * through libvpc and a running vpc-hostd (VPC_HOSTD_SOCKET).  The daemon
 * applies an op before its reply lands in the caller's buffers, so libvpc
 * must refuse a call whose *vallen or value buffer cannot be written before
 * it sends anything.  The same rows as the FreeBSD boot test's: a NULL value
 * buffer, *vallen in read-only memory, a read-only value buffer, a buffer
 * that runs into an unmapped page; each checks errno and that the switch
 * kept its port count.  An op that changes nothing goes unprobed: the same
 * faults found by the kernel in sendmsg/recvmsg, EFAULT, the socket still in
 * step; a failed op's *vallen untouched, ERANGE's set (direct_rows).  Then
 * what libvpc's own checks rest on: a value over
 * a page (checked the slow way), a program that closes libvpc's probe pipe
 * and gets the number back for a pipe of its own (never written to), and a
 * child after fork() (its own pipe and connection).  Last, every router
 * op (the staged replace included) and firewall op that copies in or out
 * (router_rows, fw_rows).  Prints
 * "ok - ..." / "not ok - ..." lines and a summary; exits nonzero on a
 * failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vpc.h"

static int passed, failed;

static void
check(const char *name, int ok, long got, long want)
{
	if (ok) {
		printf("ok - %s\n", name);
		passed++;
	} else {
		printf("not ok - %s (got %ld, want %ld)\n", name, got, want);
		failed++;
	}
}

static long
port_count(int swd)
{
	vpc_switch_t sw;
	size_t vl = sizeof(sw);

	if (vpc_ctl(swd, VPC_OP_SW_GET_PORT_COUNT, 0, NULL, &vl, &sw) != 0)
		return (-1);
	return (sw.num_ports);
}

static void
add_port_row(int swd, const char *name, void *val, size_t *vallen)
{
	vpc_swport_t req;
	long before = port_count(swd);
	char what[128];
	int r, e;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	r = vpc_ctl(swd, VPC_OP_SW_ADD_PORT, sizeof(req), &req, vallen, val);
	e = errno;
	snprintf(what, sizeof(what), "%s: EFAULT", name);
	check(what, r == -1 && e == EFAULT, r == 0 ? 0 : e, EFAULT);
	snprintf(what, sizeof(what), "%s: no port added", name);
	check(what, port_count(swd) == before, port_count(swd), before);
}


/*
 * The router's and the firewall's ops (96-105, 112-123), each copy-in and
 * each copy-out: a key that runs into an unmapped page (it cannot be read
 * whole: sendmsg(2) refuses the request, nothing reaches the daemon) and a
 * value buffer in read-only memory (libvpc's probe refuses the call).  Each
 * row checks EFAULT and reads the state back: attachments, routes, rule
 * sets, rules, the firewall's config, a port's sets.
 */
static char *g_ro;              /* a read-only page */
static char *g_edge;            /* the last mapped byte + 1 of a page pair */

/* Where a key of len bytes runs into the unmapped page (half of it). */
static void *
bad_key(const void *key, size_t len)
{
	char *at = g_edge - len / 2;

	memcpy(at, key, len / 2);
	return (at);
}

static void
fault_row(const char *name, int h, vpc_op_t op, size_t keylen,
    const void *key, size_t vallen, void *val)
{
	size_t vl = vallen;
	char what[160];
	int r, e;

	r = vpc_ctl(h, op, keylen, key, val != NULL || vallen > 0 ? &vl : NULL,
	    val);
	e = errno;
	snprintf(what, sizeof(what), "%s: EFAULT", name);
	check(what, r == -1 && e == EFAULT, r == 0 ? 0 : e, EFAULT);
}

static long
rtr_nattach(int rtr)
{
	vpc_rtr_attach_t a[8];
	size_t vl = sizeof(a);

	if (vpc_ctl(rtr, VPC_OP_RTR_LIST_ATTACH, 0, NULL, &vl, a) != 0)
		return (-errno);
	return ((long)(vl / sizeof(a[0])));
}

/* The routes (connected and custom), and the serial of the last. */
static long
rtr_nroutes(int rtr, uint64_t *last)
{
	vpc_rt_route_t buf[16];
	vpc_list_req_t lr;
	size_t vl = sizeof(buf);

	memset(&lr, 0, sizeof(lr));
	if (vpc_ctl(rtr, VPC_OP_RTR_ROUTE_DUMP, sizeof(lr), &lr, &vl, buf) != 0)
		return (-errno);
	if (last != NULL)
		*last = vl >= sizeof(buf[0]) ?
		    buf[vl / sizeof(buf[0]) - 1].serial : 0;
	return ((long)(vl / sizeof(buf[0])));
}

static vpc_id_t
efault_id(uint8_t tag)
{
	vpc_id_t id;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xef;
	id.bytes[1] = tag;
	id.bytes[15] = (uint8_t)getpid();
	return (id);
}

/* A switch with the IPv4 subnet 10.net.0.0/24 and a router port. */
static int
open_switch(uint8_t tag, uint8_t net)
{
	vpc_id_t id = efault_id(tag);
	vpc_sw_subnet_t sn;
	vpc_swport_t req, res;
	size_t vl = sizeof(res);
	int swd;

	swd = vpc_open(&id, VPC_TYPE_WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	if (swd < 0)
		return (-1);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	sn.addr[0] = 10;
	sn.addr[1] = net;
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	if (vpc_ctl(swd, VPC_OP_SW_SET_SUBNET, sizeof(sn), &sn, NULL, NULL) != 0 ||
	    vpc_ctl(swd, VPC_OP_SW_ADD_PORT, sizeof(req), &req, &vl, &res) != 0) {
		close(swd);
		return (-1);
	}
	return (swd);
}

static void
route_v4(vpc_rt_route_t *rt, uint8_t a, uint8_t b, uint8_t plen)
{
	memset(rt, 0, sizeof(*rt));
	rt->af = VPC_AF_INET;
	rt->prefixlen = plen;
	rt->target = VPC_RT_DROP;
	rt->prefix[0] = a;
	rt->prefix[1] = b;
}

#define STATE(name, now, was) \
	check(name, (now) == (was), (long)(now), (long)(was))

static void
router_rows(void)
{
	vpc_id_t rid = efault_id(3);
	vpc_rtr_attach_t at;
	vpc_rt_route_t rt, many[40];
	vpc_list_req_t lr;
	uint64_t last, last2;
	size_t vl;
	long nr, r;
	int rtr, sw1, sw2, i;

	sw1 = open_switch(1, 81);
	sw2 = open_switch(2, 82);
	rtr = vpc_open(&rid, VPC_TYPE_WORD(VPC_TYPE_ROUTER), VPC_FLAG_CREATE);
	check("router: a router and two switches with router ports",
	    rtr >= 0 && sw1 >= 0 && sw2 >= 0, rtr, 0);
	if (rtr < 0 || sw1 < 0 || sw2 < 0)
		return;
	memset(&at, 0, sizeof(at));
	at.switch_id = efault_id(1);
	r = vpc_ctl(rtr, VPC_OP_RTR_ATTACH, sizeof(at), &at, NULL, NULL);
	check("router: switch 1 attached", r == 0 && rtr_nattach(rtr) == 1,
	    rtr_nattach(rtr), 1);

	/* 96 ATTACH: switch 2, its key unreadable. */
	at.switch_id = efault_id(2);
	fault_row("RTR_ATTACH, key into an unmapped page", rtr,
	    VPC_OP_RTR_ATTACH, sizeof(at), bad_key(&at, sizeof(at)), 0, NULL);
	STATE("RTR_ATTACH: still one attachment", rtr_nattach(rtr), 1);
	/* 97 DETACH: switch 1. */
	at.switch_id = efault_id(1);
	fault_row("RTR_DETACH, key into an unmapped page", rtr,
	    VPC_OP_RTR_DETACH, sizeof(at), bad_key(&at, sizeof(at)), 0, NULL);
	STATE("RTR_DETACH: still attached", rtr_nattach(rtr), 1);
	/* 98 LIST_ATTACH: out. */
	fault_row("RTR_LIST_ATTACH, value read-only", rtr,
	    VPC_OP_RTR_LIST_ATTACH, 0, NULL, 4 * sizeof(at), g_ro);

	/* 99 ROUTE_SET. */
	nr = rtr_nroutes(rtr, &last);
	check("router: one connected route", nr == 1, nr, 1);
	route_v4(&rt, 10, 99, 16);
	fault_row("RTR_ROUTE_SET, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_SET, sizeof(rt), bad_key(&rt, sizeof(rt)), 0,
	    NULL);
	STATE("RTR_ROUTE_SET: no route added", rtr_nroutes(rtr, NULL), nr);
	r = vpc_ctl(rtr, VPC_OP_RTR_ROUTE_SET, sizeof(rt), &rt, NULL, NULL);
	nr = rtr_nroutes(rtr, &last);
	check("router: a good ROUTE_SET adds 10.99.0.0/16", r == 0 && nr == 2,
	    nr, 2);
	/* 100 ROUTE_DEL. */
	fault_row("RTR_ROUTE_DEL, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_DEL, sizeof(rt), bad_key(&rt, sizeof(rt)), 0,
	    NULL);
	STATE("RTR_ROUTE_DEL: the route stays", rtr_nroutes(rtr, NULL), nr);
	/* 101 ROUTE_GET, 102 ROUTE_LOOKUP: in and out. */
	route_v4(&rt, 10, 99, 16);
	rt.target = 0;
	fault_row("RTR_ROUTE_GET, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_GET, sizeof(rt), bad_key(&rt, sizeof(rt)),
	    sizeof(rt), many);
	fault_row("RTR_ROUTE_GET, value read-only", rtr, VPC_OP_RTR_ROUTE_GET,
	    sizeof(rt), &rt, sizeof(rt), g_ro);
	route_v4(&rt, 10, 99, 0);
	rt.target = 0;
	rt.prefix[3] = 7;
	fault_row("RTR_ROUTE_LOOKUP, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_LOOKUP, sizeof(rt), bad_key(&rt, sizeof(rt)),
	    sizeof(rt), many);
	fault_row("RTR_ROUTE_LOOKUP, value read-only", rtr,
	    VPC_OP_RTR_ROUTE_LOOKUP, sizeof(rt), &rt, sizeof(rt), g_ro);
	vl = sizeof(rt);
	r = vpc_ctl(rtr, VPC_OP_RTR_ROUTE_LOOKUP, sizeof(rt), &rt, &vl, many);
	check("router: and a good ROUTE_LOOKUP finds the route", r == 0 &&
	    many[0].prefixlen == 16 && many[0].target == VPC_RT_DROP,
	    r == 0 ? many[0].prefixlen : errno, 16);
	/* 103 ROUTE_DUMP. */
	memset(&lr, 0, sizeof(lr));
	fault_row("RTR_ROUTE_DUMP, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_DUMP, sizeof(lr), bad_key(&lr, sizeof(lr)),
	    sizeof(many), many);
	fault_row("RTR_ROUTE_DUMP, value read-only", rtr,
	    VPC_OP_RTR_ROUTE_DUMP, sizeof(lr), &lr, 4 * sizeof(rt), g_ro);
	/* 104 ROUTE_REPLACE: 40 routes, the last half unreadable; none
	 * applied, the old custom route kept (same serial). */
	for (i = 0; i < 40; i++)
		route_v4(&many[i], 172, (uint8_t)(16 + i), 16);
	fault_row("RTR_ROUTE_REPLACE, 40 routes into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_REPLACE, sizeof(many),
	    bad_key(many, sizeof(many)), 0, NULL);
	STATE("RTR_ROUTE_REPLACE: the routes as they were",
	    rtr_nroutes(rtr, &last2), nr);
	STATE("RTR_ROUTE_REPLACE: the same custom route (serial)",
	    (long)last2, (long)last);
	/* 105 GET_STATS: out. */
	fault_row("RTR_GET_STATS, value read-only", rtr, VPC_OP_RTR_GET_STATS,
	    0, NULL, sizeof(vpc_rtr_stats_t), g_ro);
	/* 106-109: the staged replace.  A refused BEGIN leaves no stage, a
	 * refused APPEND stages nothing, a refused COMMIT or ABORT leaves the
	 * live routes as they were. */
	{
		vpc_rt_stage_t sk, sv;
		uint64_t token;

		memset(&sk, 0, sizeof(sk));
		fault_row("RTR_STAGE_BEGIN, key into an unmapped page", rtr,
		    VPC_OP_RTR_STAGE_BEGIN, sizeof(sk), bad_key(&sk, sizeof(sk)),
		    sizeof(sv), &sv);
		fault_row("RTR_STAGE_BEGIN, value read-only", rtr,
		    VPC_OP_RTR_STAGE_BEGIN, sizeof(sk), &sk, sizeof(sv), g_ro);
		vl = sizeof(sv);
		r = vpc_ctl(rtr, VPC_OP_RTR_STAGE_BEGIN, sizeof(sk), &sk, &vl, &sv);
		check("router: no stage left by the refused BEGINs: BEGIN works",
		    r == 0 && sv.token != 0, r == 0 ? (long)sv.token : errno, 1);
		token = sv.token;
		route_v4(&rt, 10, 98, 16);
		rt.serial = token;
		fault_row("RTR_STAGE_APPEND, key into an unmapped page", rtr,
		    VPC_OP_RTR_STAGE_APPEND, sizeof(rt), bad_key(&rt, sizeof(rt)),
		    sizeof(sv), &sv);
		fault_row("RTR_STAGE_APPEND, value read-only", rtr,
		    VPC_OP_RTR_STAGE_APPEND, sizeof(rt), &rt, sizeof(sv), g_ro);
		vl = sizeof(sv);
		r = vpc_ctl(rtr, VPC_OP_RTR_STAGE_APPEND, sizeof(rt), &rt, &vl, &sv);
		check("router: the refused APPENDs staged nothing: one staged now",
		    r == 0 && sv.nroutes == 1, r == 0 ? (long)sv.nroutes : errno, 1);
		sk.token = token;
		fault_row("RTR_STAGE_COMMIT, key into an unmapped page", rtr,
		    VPC_OP_RTR_STAGE_COMMIT, sizeof(sk), bad_key(&sk, sizeof(sk)),
		    0, NULL);
		fault_row("RTR_STAGE_ABORT, key into an unmapped page", rtr,
		    VPC_OP_RTR_STAGE_ABORT, sizeof(sk), bad_key(&sk, sizeof(sk)),
		    0, NULL);
		STATE("RTR_STAGE_COMMIT/ABORT: the routes as they were",
		    rtr_nroutes(rtr, &last2), nr);
		STATE("RTR_STAGE_COMMIT/ABORT: the same custom route (serial)",
		    (long)last2, (long)last);
		r = vpc_ctl(rtr, VPC_OP_RTR_STAGE_COMMIT, sizeof(sk), &sk, NULL, NULL);
		check("router: the stage committed: 10.98.0.0/16 replaces the rest",
		    r == 0 && rtr_nroutes(rtr, &last2) == nr && last2 > last,
		    r == 0 ? rtr_nroutes(rtr, NULL) : errno, nr);
	}
	STATE("router: still one attachment after every row",
	    rtr_nattach(rtr), 1);
	close(rtr);
	close(sw1);
	close(sw2);
}

/* A rule set's rule count and generation; -errno without it. */
static long
fw_nrules(uint32_t id, uint64_t *gen, uint32_t *flags)
{
	vpc_fw_set_ref_t ref = { .id = id };
	vpc_fw_set_t set;
	size_t vl = sizeof(set);

	if (vpc_ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_GET, sizeof(ref), &ref, &vl,
	    &set) != 0)
		return (-errno);
	if (gen != NULL)
		*gen = set.generation;
	if (flags != NULL)
		*flags = set.flags;
	return (set.nrules);
}

static void
fw_rule(vpc_fw_rule_t *r, uint32_t set, uint32_t prio)
{
	memset(r, 0, sizeof(*r));
	r->set_id = set;
	r->priority = prio;
	r->dir = VPC_FW_DIR_IN;
	r->action = VPC_FW_ALLOW;
	r->proto = VPC_FW_PROTO_ANY;
}

static void
fw_rows(int swd)
{
	const uint32_t A = 0xef01, B = 0xef02;
	vpc_fw_set_t set;
	vpc_fw_set_ref_t ref;
	vpc_fw_rule_t rules[8];
	vpc_fw_config_t cfg, cfg2;
	vpc_fw_dump_req_t dr;
	vpc_fw_flow_req_t fr;
	vpc_list_req_t lr;
	vpc_sw_port_fw_t pf;
	vpc_swport_t req, port;
	vpc_swport_ref_t pref;
	uint64_t gen, gen2;
	uint32_t flags, flags2;
	size_t vl;
	long n;
	int r, i;

	memset(&set, 0, sizeof(set));
	set.id = A;
	r = vpc_ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_CREATE, sizeof(set), &set,
	    NULL, NULL);
	fw_rule(&rules[0], A, 10);
	r = r != 0 ? r : vpc_ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_RULES,
	    sizeof(rules[0]), rules, NULL, NULL);
	n = fw_nrules(A, &gen, &flags);
	check("fw: a set with one rule", r == 0 && n == 1, n, 1);

	/* 112 SET_CREATE. */
	set.id = B;
	fault_row("FW_SET_CREATE, key into an unmapped page", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_CREATE, sizeof(set), bad_key(&set, sizeof(set)), 0,
	    NULL);
	STATE("FW_SET_CREATE: no set made", fw_nrules(B, NULL, NULL),
	    -ENOENT);
	/* 113 SET_DESTROY. */
	memset(&ref, 0, sizeof(ref));
	ref.id = A;
	fault_row("FW_SET_DESTROY, key into an unmapped page", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_DESTROY, sizeof(ref), bad_key(&ref, sizeof(ref)), 0,
	    NULL);
	STATE("FW_SET_DESTROY: the set stays", fw_nrules(A, NULL, NULL), 1);
	/* 114 SET_RULES: 8 rules, the last half unreadable. */
	for (i = 0; i < 8; i++)
		fw_rule(&rules[i], A, (uint32_t)(100 + i));
	fault_row("FW_SET_RULES, 8 rules into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_RULES, sizeof(rules),
	    bad_key(rules, sizeof(rules)), 0, NULL);
	STATE("FW_SET_RULES: still one rule", fw_nrules(A, &gen2, NULL), 1);
	STATE("FW_SET_RULES: the generation did not move", (long)gen2,
	    (long)gen);
	/* 115 SET_FLUSH. */
	fault_row("FW_SET_FLUSH, key into an unmapped page", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_FLUSH, sizeof(ref), bad_key(&ref, sizeof(ref)), 0,
	    NULL);
	STATE("FW_SET_FLUSH: the rule stays", fw_nrules(A, &gen2, NULL), 1);
	STATE("FW_SET_FLUSH: the generation did not move", (long)gen2,
	    (long)gen);
	/* 116 SET_GET: in and out. */
	fault_row("FW_SET_GET, key into an unmapped page", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_GET, sizeof(ref), bad_key(&ref, sizeof(ref)),
	    sizeof(set), &set);
	fault_row("FW_SET_GET, value read-only", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_GET, sizeof(ref), &ref, sizeof(set), g_ro);
	/* 117 SET_MODIFY. */
	memset(&set, 0, sizeof(set));
	set.id = A;
	set.flags = flags ^ VPC_FW_SET_KEEP_ESTABLISHED;
	fault_row("FW_SET_MODIFY, key into an unmapped page", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_MODIFY, sizeof(set), bad_key(&set, sizeof(set)), 0,
	    NULL);
	fw_nrules(A, NULL, &flags2);
	STATE("FW_SET_MODIFY: the flags as they were", (long)flags2,
	    (long)flags);
	/* 118 SET_LIST. */
	memset(&lr, 0, sizeof(lr));
	fault_row("FW_SET_LIST, key into an unmapped page", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_LIST, sizeof(lr), bad_key(&lr, sizeof(lr)),
	    sizeof(rules), rules);
	fault_row("FW_SET_LIST, value read-only", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_LIST, sizeof(lr), &lr, 4 * sizeof(set), g_ro);
	/* 119 RULE_DUMP. */
	memset(&dr, 0, sizeof(dr));
	dr.id = A;
	fault_row("FW_RULE_DUMP, key into an unmapped page", VPC_HANDLE_NONE,
	    VPC_OP_FW_RULE_DUMP, sizeof(dr), bad_key(&dr, sizeof(dr)),
	    sizeof(rules), rules);
	fault_row("FW_RULE_DUMP, value read-only", VPC_HANDLE_NONE,
	    VPC_OP_FW_RULE_DUMP, sizeof(dr), &dr, 2 * sizeof(rules[0]), g_ro);
	/* 120 SET_CONFIG, 121 GET_CONFIG. */
	vl = sizeof(cfg);
	r = vpc_ctl(VPC_HANDLE_NONE, VPC_OP_FW_GET_CONFIG, 0, NULL, &vl, &cfg);
	check("fw: the config", r == 0, r, 0);
	memset(&cfg2, 0, sizeof(cfg2));
	cfg2.udp_s = cfg.udp_s + 7;
	fault_row("FW_SET_CONFIG, key into an unmapped page", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_CONFIG, sizeof(cfg2), bad_key(&cfg2, sizeof(cfg2)),
	    0, NULL);
	vl = sizeof(cfg2);
	r = vpc_ctl(VPC_HANDLE_NONE, VPC_OP_FW_GET_CONFIG, 0, NULL, &vl, &cfg2);
	STATE("FW_SET_CONFIG: the UDP timeout as it was",
	    r == 0 ? (long)cfg2.udp_s : -1, (long)cfg.udp_s);
	fault_row("FW_GET_CONFIG, value read-only", VPC_HANDLE_NONE,
	    VPC_OP_FW_GET_CONFIG, 0, NULL, sizeof(cfg), g_ro);

	/* 122 SW_PORT_SET_FW, 123 SW_FW_FLOWS: a vmnic port of the switch. */
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC;
	req.port_id = efault_id(9);
	vl = sizeof(port);
	r = vpc_ctl(swd, VPC_OP_SW_ADD_PORT, sizeof(req), &req, &vl, &port);
	check("fw: a vmnic port", r == 0, r == 0 ? 0 : errno, 0);
	memset(&pf, 0, sizeof(pf));
	pf.port_id = req.port_id;
	pf.flags = VPC_FLAG_SWP_FW_INGRESS;
	pf.ingress = A;
	fault_row("SW_PORT_SET_FW, key into an unmapped page", swd,
	    VPC_OP_SW_PORT_SET_FW, sizeof(pf), bad_key(&pf, sizeof(pf)), 0,
	    NULL);
	memset(&pref, 0, sizeof(pref));
	pref.port_id = req.port_id;
	vl = sizeof(port);
	r = vpc_ctl(swd, VPC_OP_SW_GET_PORT, sizeof(pref), &pref, &vl, &port);
	STATE("SW_PORT_SET_FW: the port has no set",
	    r == 0 ? (long)port.fw_state_table : -1, 0);
	vl = sizeof(set);
	r = vpc_ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_GET, sizeof(ref), &ref, &vl,
	    &set);
	STATE("SW_PORT_SET_FW: and the set no port",
	    r == 0 ? (long)set.nports : -1, 0);
	memset(&fr, 0, sizeof(fr));
	fr.port_id = req.port_id;
	fault_row("SW_FW_FLOWS, key into an unmapped page", swd,
	    VPC_OP_SW_FW_FLOWS, sizeof(fr), bad_key(&fr, sizeof(fr)),
	    sizeof(rules), rules);
	/*
	 * The port has no flow: the answer is zero records and nothing is
	 * written, so a read-only value buffer is no fault, as on FreeBSD
	 * (an op that changes nothing is not probed).
	 */
	vl = sizeof(vpc_fw_flow_t);
	r = vpc_ctl(swd, VPC_OP_SW_FW_FLOWS, sizeof(fr), &fr, &vl, g_ro);
	check("SW_FW_FLOWS, no flow: a read-only value is not written",
	    r == 0 && vl == 0, r == 0 ? (long)vl : errno, 0);
	r = vpc_ctl(swd, VPC_OP_SW_DEL_PORT, sizeof(pref), &pref, NULL, NULL);
	check("fw: the vmnic port removed", r == 0, r == 0 ? 0 : errno, 0);
	STATE("fw: the set and its rule after every row",
	    fw_nrules(A, NULL, NULL), 1);
}

/* A negative CAM entry for 02:00:00:00:00:last, a minute long. */
static void
negative_entry(vpc_sw_cam_t *cam, uint8_t last)
{
	memset(cam, 0, sizeof(*cam));
	cam->dstmac[0] = 0x02;
	cam->dstmac[5] = last;
	cam->kind = VPC_CAM_NEGATIVE;
	cam->ttl_ms = 60000;
}

/*
 * An op that changes nothing goes unprobed: the kernel reads *vallen as the
 * request leaves and writes it and the value as the reply lands.  Each
 * fault is EFAULT, and the handle's socket stays in step: the next call
 * gets its own answer (the switch has one port).  ro: a read-only page;
 * hole: an unmapped one.
 */
static void
direct_rows(int swd, char *ro, char *hole)
{
	vpc_switch_t sw;
	vpc_swport_t port;
	vpc_swport_ref_t ref;
	vpc_sys_stats_t st;
	vpc_sw_cam_t cam;
	vpc_cam_set_result_t set_res;
	vpc_cam_key_t key;
	vpc_list_req_t lreq;
	size_t vl, *ro_vl = (size_t *)(void *)(ro + 128);
	char what[128];
	int r, e, i;
	static const struct {
		const char *name;
		int         vallen_at;          /* 0 ok, 1 read-only, 2 unmapped */
		int         value_at;           /* 0 ok, 1 read-only, 2 runs into the hole */
	} rows[] = {
		{ "*vallen in read-only memory", 1, 0 },
		{ "*vallen in an unmapped page", 2, 0 },
		{ "value buffer in read-only memory", 0, 1 },
		{ "value buffer ends in an unmapped page", 0, 2 },
	};

	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		size_t *vp = rows[i].vallen_at == 0 ? &vl :
		    rows[i].vallen_at == 1 ? ro_vl : (size_t *)(void *)hole;
		void *val = rows[i].value_at == 0 ? (void *)&sw :
		    rows[i].value_at == 1 ? (void *)(ro + 256) :
		    (void *)(hole - 4);

		vl = sizeof(sw);
		r = vpc_ctl(swd, VPC_OP_SW_GET_PORT_COUNT, 0, NULL, vp, val);
		e = errno;
		snprintf(what, sizeof(what), "SW_GET_PORT_COUNT, %s: EFAULT",
		    rows[i].name);
		check(what, r == -1 && e == EFAULT, r == 0 ? 0 : e, EFAULT);
		snprintf(what, sizeof(what), "and the next call gets its own "
		    "answer (%s)", rows[i].name);
		check(what, port_count(swd) == 1, port_count(swd), 1);
	}
	/* Over the process's connection (VPC_HANDLE_NONE) too. */
	vl = sizeof(st);
	r = vpc_ctl(VPC_HANDLE_NONE, VPC_OP_SYS_STATS, 0, NULL, &vl, ro + 256);
	e = errno;
	check("SYS_STATS, value buffer in read-only memory: EFAULT",
	    r == -1 && e == EFAULT, r == 0 ? 0 : e, EFAULT);
	vl = sizeof(st);
	r = vpc_ctl(VPC_HANDLE_NONE, VPC_OP_SYS_STATS, 0, NULL, &vl, &st);
	check("and the next SYS_STATS answers", r == 0 && vl == sizeof(st) &&
	    st.objects >= 2, r == 0 ? (long)st.objects : -errno, 2);
	/* A failed op leaves *vallen as it was; ERANGE says what it needs. */
	memset(&ref, 0, sizeof(ref));
	ref.port_id.bytes[0] = 0x77;            /* no such port */
	vl = sizeof(port);
	r = vpc_ctl(swd, VPC_OP_SW_GET_PORT, sizeof(ref), &ref, &vl, &port);
	e = errno;
	check("SW_GET_PORT of no port: ENOENT", r == -1 && e == ENOENT,
	    r == 0 ? 0 : e, ENOENT);
	check("and *vallen is as it was", vl == sizeof(port), (long)vl,
	    (long)sizeof(port));
	negative_entry(&cam, 0x1e);
	vl = sizeof(set_res);
	r = vpc_ctl(swd, VPC_OP_SW_CAM_SET, sizeof(cam), &cam, &vl, &set_res);
	check("a CAM entry to dump", r == 0, r == 0 ? 0 : errno, 0);
	memset(&lreq, 0, sizeof(lreq));
	vl = 0;
	r = vpc_ctl(swd, VPC_OP_SW_CAM_DUMP, sizeof(lreq), &lreq, &vl, &cam);
	e = errno;
	check("SW_CAM_DUMP with room for no entry: ERANGE",
	    r == -1 && e == ERANGE, r == 0 ? 0 : e, ERANGE);
	check("and *vallen says what it needs", vl == sizeof(cam), (long)vl,
	    (long)sizeof(cam));
	memset(&key, 0, sizeof(key));
	memcpy(key.dstmac, cam.dstmac, 6);
	r = vpc_ctl(swd, VPC_OP_SW_CAM_DEL, sizeof(key), &key, NULL, NULL);
	check("the entry deleted", r == 0, r == 0 ? 0 : errno, 0);
}

int
main(void)
{
	vpc_id_t id;
	vpc_sw_cam_t cam;
	vpc_cam_key_t key;
	size_t vallen = sizeof(vpc_swport_t), *ro_len;
	long pg = sysconf(_SC_PAGESIZE);
	char *page, *two;
	int swd, r, e;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xef;
	id.bytes[15] = (uint8_t)getpid();
	swd = vpc_open(&id, VPC_TYPE_WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("a switch to try things on", swd >= 0, swd, 0);
	if (swd < 0)
		return (1);
	page = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	two = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || two == MAP_FAILED)
		return (1);
	ro_len = (size_t *)(void *)page;
	*ro_len = sizeof(vpc_swport_t);
	mprotect(page, (size_t)pg, PROT_READ);
	munmap(two + pg, (size_t)pg);

	add_port_row(swd, "NULL value buffer, *vallen 88", NULL, &vallen);
	add_port_row(swd, "*vallen in read-only memory", two, ro_len);
	add_port_row(swd, "value buffer in read-only memory", page + 64,
	    &vallen);
	add_port_row(swd, "value buffer ends in an unmapped page",
	    two + pg - 40, &vallen);

	negative_entry(&cam, 0x0f);
	vallen = sizeof(vpc_cam_set_result_t);
	r = vpc_ctl(swd, VPC_OP_SW_CAM_SET, sizeof(cam), &cam, &vallen, page);
	e = errno;
	check("CAM_SET with a read-only result buffer: EFAULT",
	    r == -1 && e == EFAULT, e, EFAULT);
	memset(&key, 0, sizeof(key));
	memcpy(key.dstmac, cam.dstmac, 6);
	vallen = sizeof(cam);
	r = vpc_ctl(swd, VPC_OP_SW_CAM_GET, sizeof(key), &key, &vallen, &cam);
	e = errno;
	check("and the entry was not installed (ENOENT)", r == -1 &&
	    e == ENOENT, e, ENOENT);

	vallen = sizeof(vpc_swport_t);
	{
		vpc_swport_t req, res;

		memset(&req, 0, sizeof(req));
		req.flags = VPC_FLAG_SWP_VMNIC;
		r = vpc_ctl(swd, VPC_OP_SW_ADD_PORT, sizeof(req), &req,
		    &vallen, &res);
		check("a good SW_ADD_PORT adds the port", r == 0 &&
		    port_count(swd) == 1, port_count(swd), 1);
	}

	direct_rows(swd, page, two + pg);

	/* A value buffer over a page: the slow check decides. */
	{
		char *three = mmap(NULL, 3 * (size_t)pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t big = 3 * (size_t)pg;
		vpc_list_req_t lreq;

		if (three == MAP_FAILED)
			return (1);
		munmap(three + 2 * pg, (size_t)pg);
		add_port_row(swd, "a value buffer of three pages, the last "
		    "unmapped", three, &big);
		memset(&lreq, 0, sizeof(lreq));
		big = 2 * (size_t)pg;
		r = vpc_ctl(swd, VPC_OP_SW_LIST_PORTS, sizeof(lreq), &lreq, &big,
		    three);
		check("a good two-page value buffer works (SW_LIST_PORTS)",
		    r == 0 && big == sizeof(vpc_swport_t), (long)big,
		    (long)sizeof(vpc_swport_t));
		munmap(three, 2 * (size_t)pg);
	}

	/*
	 * The program closes libvpc's probe pipe and gets the number back
	 * for the writing end of a pipe of its own: libvpc must notice and
	 * never write there.
	 */
	{
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		struct stat st;
		int p[2], fifos[16], nfifo = 0, i;
		long before;
		char junk[64];

		if (pipe2(p, O_NONBLOCK) < 0)
			return (1);
		while (d != NULL && (de = readdir(d)) != NULL && nfifo < 16) {
			int fd = atoi(de->d_name);

			if (fd > 2 && fd != dirfd(d) && fd != p[0] && fd != p[1] &&
			    fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
				fifos[nfifo++] = fd;
		}
		if (d != NULL)
			closedir(d);
		check("libvpc keeps a probe pipe", nfifo >= 1, nfifo, 1);
		for (i = 0; i < nfifo; i++)
			dup2(p[1], fifos[i]);   /* closes it, the number is ours */
		before = port_count(swd);
		check("calls go on after its pipe was taken over",
		    before >= 0, before, 0);
		check("and nothing was written to the program's pipe",
		    read(p[0], junk, sizeof(junk)) < 0 && errno == EAGAIN, 0, 0);
		for (i = 0; i < nfifo; i++)
			close(fifos[i]);
		close(p[0]);
		close(p[1]);
	}

	/* A child after fork() checks with its own pipe, talks on its own
	 * connection; the parent's go on working. */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid == 0)
			_exit(port_count(swd) >= 0 && port_count(swd) >= 0 ? 0 : 1);
		waitpid(pid, &status, 0);
		check("a forked child makes calls", pid > 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0, status, 0);
		check("and so does its parent after it", port_count(swd) >= 0,
		    port_count(swd), 0);
	}

	/* The router's and the firewall's ops. */
	{
		char *pair = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (pair == MAP_FAILED)
			return (1);
		munmap(pair + pg, (size_t)pg);
		g_edge = pair + pg;
		g_ro = page + 64;
		router_rows();
		fw_rows(swd);
		munmap(pair, (size_t)pg);
	}

	close(swd);
	printf("%d passed, %d failed\n", passed, failed);
	return (failed != 0);
}
