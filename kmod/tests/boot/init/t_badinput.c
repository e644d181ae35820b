/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_badinput.c: bad input, each with its errno, and an error means nothing
 * happened, EFAULT included (the switch's ops, then every router,
 * firewall, NAT and link op that copies in or out).
 */
#include "tests.h"
#include "report.h"

/*
 * The kernel copies an op's result out after the op ran; an op that
 * changes state must fail with EFAULT *before* it runs when that copy-out
 * cannot succeed: a NULL value buffer, *vallen or the value buffer in
 * read-only memory, a buffer that runs into an unmapped page.  Each row
 * checks the errno, that the switch still has its ports and the kernel its
 * handles, and that no descriptor number was used up.
 */
static void
efault_row(long swd, const char *name, void *val, size_t *vallen)
{
	vpc_swport_t req;
	uint64_t handles = sysctl_u64("net.vpc.handles");
	long ports = port_count(swd), free_fd, fd, r;

	free_fd = sc3(SYS_dup, 0, 0, 0);	/* the number a new fd would get */
	sc3(SYS_close, free_fd, 0, 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	r = vctl(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), val, vallen);
	expectp(name, "EFAULT", r, -EFAULT);
	checkp(name, "no port added", port_count(swd) == ports,
	    port_count(swd), ports);
	checkp(name, "no handle left", sysctl_u64("net.vpc.handles") ==
	    handles, (long)sysctl_u64("net.vpc.handles"), (long)handles);
	fd = sc3(SYS_dup, 0, 0, 0);
	checkp(name, "no descriptor used up", fd == free_fd, fd, free_fd);
	if (fd >= 0)
		sc3(SYS_close, fd, 0, 0);
}

/*
 * The router's and the firewall's ops (96-109, 112-123): every copy-in
 * with a key that runs into an unmapped page (edge: the first unmapped
 * byte), every copy-out into read-only memory (ro).  Each row is EFAULT
 * and the state read back is as before (test/efault.test.ts runs the same
 * rows through libvpc).  The objects are uncommitted (they go with their
 * last handle); the rule set is destroyed at the end.
 */
#define	EF_FW_SET	1496

static char *ef_edge;

/* A copy of key whose second half lies in the unmapped page. */
static void *
ef_key(const void *key, size_t len)
{
	char *at = ef_edge - len / 2;

	memcpy(at, key, len / 2);
	return (at);
}

static void
ef_row(const char *name, long h, vpc_op_t op, const void *key,
    size_t keylen, void *val, size_t vallen)
{
	size_t vl = vallen;

	expectp(name, "EFAULT", vctl(h, op, key, keylen, val,
	    val != 0 || vallen > 0 ? &vl : 0), -EFAULT);
}

static long
ef_nattach(long rtr)
{
	vpc_rtr_attach_t a[8];
	size_t vl = sizeof(a);
	long r;

	r = vctl(rtr, VPC_OP_RTR_LIST_ATTACH, 0, 0, a, &vl);
	return (r != 0 ? r : (long)(vl / sizeof(a[0])));
}

/* The routes, and the serial of the last one. */
static long
ef_nroutes(long rtr, uint64_t *last)
{
	vpc_rt_route_t buf[16];
	vpc_list_req_t lr;
	size_t vl = sizeof(buf);
	long r;

	memset(&lr, 0, sizeof(lr));
	r = vctl(rtr, VPC_OP_RTR_ROUTE_DUMP, &lr, sizeof(lr), buf, &vl);
	if (r != 0)
		return (r);
	if (last != 0)
		*last = vl >= sizeof(buf[0]) ?
		    buf[vl / sizeof(buf[0]) - 1].serial : 0;
	return ((long)(vl / sizeof(buf[0])));
}

/* A switch with the IPv4 subnet 10.net.0.0/24 and a router port. */
static long
ef_switch(unsigned idn, uint8_t net)
{
	vpc_id_t id = mkid(idn);
	vpc_sw_subnet_t sn;
	vpc_swport_t req, res;
	long swd, r;

	swd = vopen(&id, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	if (swd < 0)
		return (swd);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	memcpy(sn.addr, (uint8_t[]){ 10, net, 0, 0 }, 4);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	if ((r = vctl_n(swd, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), 0, 0)) != 0 ||
	    (r = vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res,
	    sizeof(res))) != 0) {
		sc3(SYS_close, swd, 0, 0);
		return (r);
	}
	return (swd);
}

static void
ef_route(vpc_rt_route_t *rt, uint8_t a, uint8_t b, uint8_t plen)
{
	memset(rt, 0, sizeof(*rt));
	rt->af = VPC_AF_INET;
	rt->prefixlen = plen;
	rt->target = VPC_RT_DROP;
	rt->prefix[0] = a;
	rt->prefix[1] = b;
}

/* BEGIN on rtr: the token, or 0. */
static uint64_t
ef_stage_begin(long rtr)
{
	vpc_rt_stage_t k, v;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	return (vctl_n(rtr, VPC_OP_RTR_STAGE_BEGIN, &k, sizeof(k), &v,
	    sizeof(v)) == 0 ? v.token : 0);
}

/*
 * The staged replace (106-109; unbooted when written): sizes, a handle of
 * the wrong type, then EFAULT on every copy-in and copy-out.  A refused
 * BEGIN leaves no stage (a good BEGIN follows), a refused APPEND adds
 * nothing (the next good one counts 1), a refused COMMIT or ABORT leaves
 * the live routes (nr of them, the last of serial last) as they were.
 */
static void
efault_stage(char *ro, long rtr, long swd, long nr, uint64_t last)
{
	vpc_rt_stage_t k, v;
	vpc_rt_route_t rt;
	uint64_t token, last2;
	size_t vl;
	long r;

	memset(&k, 0, sizeof(k));
	expect("stage: BEGIN with a 15-byte key is EINVAL", vctl_n(rtr,
	    VPC_OP_RTR_STAGE_BEGIN, &k, sizeof(k) - 1, &v, sizeof(v)), -EINVAL);
	expect("stage: BEGIN with a 17-byte value is EINVAL", vctl_n(rtr,
	    VPC_OP_RTR_STAGE_BEGIN, &k, sizeof(k), &v, sizeof(v) + 1), -EINVAL);
	expect("stage: BEGIN on a switch is ENOTTY", vctl_n(swd,
	    VPC_OP_RTR_STAGE_BEGIN, &k, sizeof(k), &v, sizeof(v)), -ENOTTY);
	ef_row("efault: RTR_STAGE_BEGIN, key into an unmapped page", rtr,
	    VPC_OP_RTR_STAGE_BEGIN, ef_key(&k, sizeof(k)), sizeof(k), &v,
	    sizeof(v));
	ef_row("efault: RTR_STAGE_BEGIN, value read-only", rtr,
	    VPC_OP_RTR_STAGE_BEGIN, &k, sizeof(k), ro, sizeof(v));
	token = ef_stage_begin(rtr);
	check("stage: the refused BEGINs left no stage: BEGIN works",
	    token != 0, (long)token, 1);
	if (token == 0)
		return;
	ef_route(&rt, 10, 98, 16);
	rt.serial = token;
	expect("stage: APPEND with a 71-byte key is EINVAL", vctl_n(rtr,
	    VPC_OP_RTR_STAGE_APPEND, &rt, sizeof(rt) - 1, &v, sizeof(v)),
	    -EINVAL);
	expect("stage: APPEND on a switch is ENOTTY", vctl_n(swd,
	    VPC_OP_RTR_STAGE_APPEND, &rt, sizeof(rt), &v, sizeof(v)), -ENOTTY);
	ef_row("efault: RTR_STAGE_APPEND, key into an unmapped page", rtr,
	    VPC_OP_RTR_STAGE_APPEND, ef_key(&rt, sizeof(rt)), sizeof(rt), &v,
	    sizeof(v));
	ef_row("efault: RTR_STAGE_APPEND, value read-only", rtr,
	    VPC_OP_RTR_STAGE_APPEND, &rt, sizeof(rt), ro, sizeof(v));
	memset(&v, 0, sizeof(v));
	vl = sizeof(v);
	r = vctl(rtr, VPC_OP_RTR_STAGE_APPEND, &rt, sizeof(rt), &v, &vl);
	check("stage: the refused APPENDs added nothing: one staged now",
	    r == 0 && v.nroutes == 1 && v.token == token, r != 0 ? r :
	    (long)v.nroutes, 1);
	k.token = token;
	expect("stage: COMMIT with a value is EINVAL", vctl_n(rtr,
	    VPC_OP_RTR_STAGE_COMMIT, &k, sizeof(k), &v, sizeof(v)), -EINVAL);
	ef_row("efault: RTR_STAGE_COMMIT, key into an unmapped page", rtr,
	    VPC_OP_RTR_STAGE_COMMIT, ef_key(&k, sizeof(k)), sizeof(k), 0, 0);
	ef_row("efault: RTR_STAGE_ABORT, key into an unmapped page", rtr,
	    VPC_OP_RTR_STAGE_ABORT, ef_key(&k, sizeof(k)), sizeof(k), 0, 0);
	check("efault: RTR_STAGE_COMMIT/ABORT: the routes as they were",
	    ef_nroutes(rtr, &last2) == nr && last2 == last, (long)last2,
	    (long)last);
	expect("stage: COMMIT of the stage", vctl_n(rtr,
	    VPC_OP_RTR_STAGE_COMMIT, &k, sizeof(k), 0, 0), 0);
	check("stage: committed: one custom route, 10.98.0.0/16, replaces the rest",
	    ef_nroutes(rtr, &last2) == 2 && last2 > last, ef_nroutes(rtr, 0), 2);
	expect("stage: ABORT of a committed stage is ENOENT", vctl_n(rtr,
	    VPC_OP_RTR_STAGE_ABORT, &k, sizeof(k), 0, 0), -VPC_ENOENT);
}

static void
efault_router(char *ro)
{
	vpc_id_t rid = mkid(96);
	vpc_rtr_attach_t at;
	vpc_rt_route_t rt, got, many[40];
	vpc_list_req_t lr;
	uint64_t last, last2;
	long rtr, sw1, sw2, nr, r;
	int i;

	sw1 = ef_switch(97, 81);
	sw2 = ef_switch(98, 82);
	rtr = vopen(&rid, WORD(VPC_TYPE_ROUTER), VPC_FLAG_CREATE);
	check("efault: a router and two switches with router ports",
	    rtr >= 0 && sw1 >= 0 && sw2 >= 0, rtr < 0 ? rtr : sw1 < 0 ? sw1 :
	    sw2, 3);
	if (rtr < 0 || sw1 < 0 || sw2 < 0)
		goto out;
	memset(&at, 0, sizeof(at));
	at.switch_id = mkid(97);
	r = vctl_n(rtr, VPC_OP_RTR_ATTACH, &at, sizeof(at), 0, 0);
	check("efault: switch 97 attached", r == 0 && ef_nattach(rtr) == 1,
	    r != 0 ? r : ef_nattach(rtr), 1);

	at.switch_id = mkid(98);
	ef_row("efault: RTR_ATTACH, key into an unmapped page", rtr,
	    VPC_OP_RTR_ATTACH, ef_key(&at, sizeof(at)), sizeof(at), 0, 0);
	check("efault: RTR_ATTACH: still one attachment",
	    ef_nattach(rtr) == 1, ef_nattach(rtr), 1);
	at.switch_id = mkid(97);
	ef_row("efault: RTR_DETACH, key into an unmapped page", rtr,
	    VPC_OP_RTR_DETACH, ef_key(&at, sizeof(at)), sizeof(at), 0, 0);
	check("efault: RTR_DETACH: still attached", ef_nattach(rtr) == 1,
	    ef_nattach(rtr), 1);
	ef_row("efault: RTR_LIST_ATTACH, value read-only", rtr,
	    VPC_OP_RTR_LIST_ATTACH, 0, 0, ro, 4 * sizeof(at));

	nr = ef_nroutes(rtr, &last);
	check("efault: one connected route", nr == 1, nr, 1);
	ef_route(&rt, 10, 99, 16);
	ef_row("efault: RTR_ROUTE_SET, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_SET, ef_key(&rt, sizeof(rt)), sizeof(rt), 0, 0);
	check("efault: RTR_ROUTE_SET: no route added",
	    ef_nroutes(rtr, 0) == nr, ef_nroutes(rtr, 0), nr);
	r = vctl_n(rtr, VPC_OP_RTR_ROUTE_SET, &rt, sizeof(rt), 0, 0);
	nr = ef_nroutes(rtr, &last);
	check("efault: a good ROUTE_SET adds 10.99.0.0/16", r == 0 && nr == 2,
	    r != 0 ? r : nr, 2);
	ef_row("efault: RTR_ROUTE_DEL, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_DEL, ef_key(&rt, sizeof(rt)), sizeof(rt), 0, 0);
	check("efault: RTR_ROUTE_DEL: the route stays",
	    ef_nroutes(rtr, 0) == nr, ef_nroutes(rtr, 0), nr);
	rt.target = 0;
	ef_row("efault: RTR_ROUTE_GET, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_GET, ef_key(&rt, sizeof(rt)), sizeof(rt), &got,
	    sizeof(got));
	ef_row("efault: RTR_ROUTE_GET, value read-only", rtr,
	    VPC_OP_RTR_ROUTE_GET, &rt, sizeof(rt), ro, sizeof(got));
	ef_route(&rt, 10, 99, 0);
	rt.target = 0;
	rt.prefix[3] = 7;
	ef_row("efault: RTR_ROUTE_LOOKUP, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_LOOKUP, ef_key(&rt, sizeof(rt)), sizeof(rt), &got,
	    sizeof(got));
	ef_row("efault: RTR_ROUTE_LOOKUP, value read-only", rtr,
	    VPC_OP_RTR_ROUTE_LOOKUP, &rt, sizeof(rt), ro, sizeof(got));
	memset(&lr, 0, sizeof(lr));
	ef_row("efault: RTR_ROUTE_DUMP, key into an unmapped page", rtr,
	    VPC_OP_RTR_ROUTE_DUMP, ef_key(&lr, sizeof(lr)), sizeof(lr), many,
	    sizeof(many));
	ef_row("efault: RTR_ROUTE_DUMP, value read-only", rtr,
	    VPC_OP_RTR_ROUTE_DUMP, &lr, sizeof(lr), ro, 4 * sizeof(rt));
	for (i = 0; i < 40; i++)
		ef_route(&many[i], 172, (uint8_t)(16 + i), 16);
	ef_row("efault: RTR_ROUTE_REPLACE, 40 routes into an unmapped page",
	    rtr, VPC_OP_RTR_ROUTE_REPLACE, ef_key(many, sizeof(many)),
	    sizeof(many), 0, 0);
	check("efault: RTR_ROUTE_REPLACE: the routes as they were",
	    ef_nroutes(rtr, &last2) == nr && last2 == last, (long)last2,
	    (long)last);
	ef_row("efault: RTR_GET_STATS, value read-only", rtr,
	    VPC_OP_RTR_GET_STATS, 0, 0, ro, sizeof(vpc_rtr_stats_t));
	efault_stage(ro, rtr, sw1, nr, last);
out:
	if (rtr >= 0)
		sc3(SYS_close, rtr, 0, 0);
	if (sw1 >= 0)
		sc3(SYS_close, sw1, 0, 0);
	if (sw2 >= 0)
		sc3(SYS_close, sw2, 0, 0);
}

/* The set's rule count (generation, flags, ports); -errno without it. */
static long
ef_set(vpc_fw_set_t *set)
{
	vpc_fw_set_ref_t ref;
	long r;

	memset(&ref, 0, sizeof(ref));
	ref.id = set->id;
	r = vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_SET_GET, &ref, sizeof(ref), set,
	    sizeof(*set));
	return (r != 0 ? r : (long)set->nrules);
}

static void
ef_rule(vpc_fw_rule_t *ru, uint32_t prio)
{
	memset(ru, 0, sizeof(*ru));
	ru->set_id = EF_FW_SET;
	ru->priority = prio;
	ru->dir = VPC_FW_DIR_IN;
	ru->action = VPC_FW_ALLOW;
	ru->proto = VPC_FW_PROTO_ANY;
}

static void
efault_fw(long swd, char *ro)
{
	static const uint8_t mac_p[6] = { 0x02, 0, 0, 0, 0xe, 0x20 };
	vpc_fw_set_t set, now;
	vpc_fw_set_ref_t ref;
	vpc_fw_rule_t rules[8];
	vpc_fw_config_t cfg, cfg2;
	vpc_fw_dump_req_t dr;
	vpc_fw_flow_req_t fr;
	vpc_list_req_t lr;
	vpc_sw_port_fw_t pf;
	vpc_swport_ref_t pref;
	vpc_swport_t port;
	vpc_id_t port_id;
	long r, nicd;
	int i;

	memset(&set, 0, sizeof(set));
	set.id = EF_FW_SET;
	r = vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_SET_CREATE, &set, sizeof(set),
	    0, 0);
	expect("efault: FW_SET_CREATE 1496", r, 0);
	if (r != 0)
		return;
	ef_rule(&rules[0], 10);
	r = vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_SET_RULES, rules,
	    sizeof(rules[0]), 0, 0);
	check("efault: the set has one rule", r == 0 && ef_set(&set) == 1,
	    r != 0 ? r : ef_set(&set), 1);

	memset(&now, 0, sizeof(now));
	now.id = EF_FW_SET + 1;
	ef_row("efault: FW_SET_CREATE, key into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_CREATE, ef_key(&now, sizeof(now)),
	    sizeof(now), 0, 0);
	expect("efault: FW_SET_CREATE: no set made", ef_set(&now), -ENOENT);
	memset(&ref, 0, sizeof(ref));
	ref.id = EF_FW_SET;
	ef_row("efault: FW_SET_DESTROY, key into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_DESTROY, ef_key(&ref, sizeof(ref)),
	    sizeof(ref), 0, 0);
	now.id = EF_FW_SET;
	check("efault: FW_SET_DESTROY: the set stays", ef_set(&now) == 1,
	    ef_set(&now), 1);
	for (i = 0; i < 8; i++)
		ef_rule(&rules[i], (uint32_t)(100 + i));
	ef_row("efault: FW_SET_RULES, 8 rules into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_RULES, ef_key(rules, sizeof(rules)),
	    sizeof(rules), 0, 0);
	check("efault: FW_SET_RULES: one rule, the same generation",
	    ef_set(&now) == 1 && now.generation == set.generation,
	    (long)now.generation, (long)set.generation);
	ef_row("efault: FW_SET_FLUSH, key into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_FLUSH, ef_key(&ref, sizeof(ref)),
	    sizeof(ref), 0, 0);
	check("efault: FW_SET_FLUSH: one rule, the same generation",
	    ef_set(&now) == 1 && now.generation == set.generation,
	    (long)now.generation, (long)set.generation);
	ef_row("efault: FW_SET_GET, key into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_GET, ef_key(&ref, sizeof(ref)),
	    sizeof(ref), &now, sizeof(now));
	ef_row("efault: FW_SET_GET, value read-only", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_GET, &ref, sizeof(ref), ro, sizeof(now));
	memset(&now, 0, sizeof(now));
	now.id = EF_FW_SET;
	now.flags = set.flags ^ VPC_FW_SET_KEEP_ESTABLISHED;
	ef_row("efault: FW_SET_MODIFY, key into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_MODIFY, ef_key(&now, sizeof(now)),
	    sizeof(now), 0, 0);
	ef_set(&now);
	check("efault: FW_SET_MODIFY: the flags as they were",
	    now.flags == set.flags, (long)now.flags, (long)set.flags);
	memset(&lr, 0, sizeof(lr));
	ef_row("efault: FW_SET_LIST, key into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_LIST, ef_key(&lr, sizeof(lr)),
	    sizeof(lr), rules, sizeof(rules));
	ef_row("efault: FW_SET_LIST, value read-only", VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_LIST, &lr, sizeof(lr), ro, 4 * sizeof(set));
	memset(&dr, 0, sizeof(dr));
	dr.id = EF_FW_SET;
	ef_row("efault: FW_RULE_DUMP, key into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_RULE_DUMP, ef_key(&dr, sizeof(dr)),
	    sizeof(dr), rules, sizeof(rules));
	ef_row("efault: FW_RULE_DUMP, value read-only", VPC_HANDLE_NONE,
	    VPC_OP_FW_RULE_DUMP, &dr, sizeof(dr), ro, 2 * sizeof(rules[0]));
	r = vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_GET_CONFIG, 0, 0, &cfg,
	    sizeof(cfg));
	expect("efault: FW_GET_CONFIG", r, 0);
	memset(&cfg2, 0, sizeof(cfg2));
	cfg2.udp_s = cfg.udp_s + 7;
	ef_row("efault: FW_SET_CONFIG, key into an unmapped page",
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_CONFIG, ef_key(&cfg2, sizeof(cfg2)),
	    sizeof(cfg2), 0, 0);
	r = vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_GET_CONFIG, 0, 0, &cfg2,
	    sizeof(cfg2));
	check("efault: FW_SET_CONFIG: the UDP timeout as it was", r == 0 &&
	    cfg2.udp_s == cfg.udp_s, r != 0 ? r : (long)cfg2.udp_s,
	    (long)cfg.udp_s);
	ef_row("efault: FW_GET_CONFIG, value read-only", VPC_HANDLE_NONE,
	    VPC_OP_FW_GET_CONFIG, 0, 0, ro, sizeof(cfg));

	/* SW_PORT_SET_FW and SW_FW_FLOWS: a vmnic port of the switch. */
	nicd = add_vmnic_port(swd, mac_p, &port_id);
	check("efault: a vmnic port", nicd >= 0, nicd, 3);
	if (nicd < 0)
		goto out;
	memset(&pf, 0, sizeof(pf));
	pf.port_id = port_id;
	pf.flags = VPC_FLAG_SWP_FW_INGRESS;
	pf.ingress = EF_FW_SET;
	ef_row("efault: SW_PORT_SET_FW, key into an unmapped page", swd,
	    VPC_OP_SW_PORT_SET_FW, ef_key(&pf, sizeof(pf)), sizeof(pf), 0, 0);
	memset(&pref, 0, sizeof(pref));
	pref.port_id = port_id;
	r = vctl_n(swd, VPC_OP_SW_GET_PORT, &pref, sizeof(pref), &port,
	    sizeof(port));
	check("efault: SW_PORT_SET_FW: the port has no set", r == 0 &&
	    port.fw_state_table == 0, r != 0 ? r : (long)port.fw_state_table,
	    0);
	ef_set(&now);
	check("efault: SW_PORT_SET_FW: and the set no port", now.nports == 0,
	    (long)now.nports, 0);
	memset(&fr, 0, sizeof(fr));
	fr.port_id = port_id;
	ef_row("efault: SW_FW_FLOWS, key into an unmapped page", swd,
	    VPC_OP_SW_FW_FLOWS, ef_key(&fr, sizeof(fr)), sizeof(fr), rules,
	    sizeof(rules));
	/*
	 * The port has no flow: the answer is zero records, nothing is
	 * written, so a read-only value buffer is no fault (the kernel copies
	 * out only what it answers).
	 */
	expect("efault: SW_FW_FLOWS, no flow: a read-only value is not written",
	    vctl_n(swd, VPC_OP_SW_FW_FLOWS, &fr, sizeof(fr), ro,
	    sizeof(vpc_fw_flow_t)), 0);
	expect("efault: the vmnic port removed", del_port(swd, &port_id), 0);
	sc3(SYS_close, nicd, 0, 0);
out:
	expect("efault: FW_SET_DESTROY 1496", vctl_n(VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref), 0, 0), 0);
}

/*
 * vpclink and vpcnat (124-143; 127 is unused): for every op a size one
 * byte off (EINVAL) and a handle of another type (ENOTTY), both refused
 * before a byte is read; then EFAULT on every copy-in (the key into an
 * unmapped page) and every copy-out (the value read-only), each followed
 * by a read-back that shows nothing changed.  The objects are
 * uncommitted: they die with their handles at the end.
 */
#define	EF_NAT_ON_LINK	0
#define	EF_NAT_ON_NAT	1
#define	EF_NAT_ON_RTR	2

static const struct ef_nat_op {
	const char	*name;
	vpc_op_t	 op;
	unsigned	 on;		/* EF_NAT_ON_*: the handle it takes */
	uint32_t	 keysz, valsz;	/* valsz of a dump: a few entries */
} ef_nat_ops[] = {
	{ "LINK_SET", VPC_OP_LINK_SET, EF_NAT_ON_LINK, sizeof(vpc_link_t), 0 },
	{ "LINK_GET", VPC_OP_LINK_GET, EF_NAT_ON_LINK, 0, sizeof(vpc_link_t) },
	{ "LINK_GET_STATS", VPC_OP_LINK_GET_STATS, EF_NAT_ON_LINK, 0,
	    sizeof(vpc_link_stats_t) },
	{ "NAT_SET_CONFIG", VPC_OP_NAT_SET_CONFIG, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_config_t), 0 },
	{ "NAT_GET_CONFIG", VPC_OP_NAT_GET_CONFIG, EF_NAT_ON_NAT, 0,
	    sizeof(vpc_nat_config_t) },
	{ "NAT_GET_UPSTREAM", VPC_OP_NAT_GET_UPSTREAM, EF_NAT_ON_NAT, 0,
	    sizeof(vpc_nat_upstream_t) },
	{ "NAT_SET_LINK", VPC_OP_NAT_SET_LINK, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_link_t), 0 },
	{ "NAT_GET_LINK", VPC_OP_NAT_GET_LINK, EF_NAT_ON_NAT, 0,
	    sizeof(vpc_nat_link_t) },
	{ "NAT_EIP_BIND", VPC_OP_NAT_EIP_BIND, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_eip_t), 0 },
	{ "NAT_EIP_UNBIND", VPC_OP_NAT_EIP_UNBIND, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_eip_t), 0 },
	{ "NAT_EIP_LIST", VPC_OP_NAT_EIP_LIST, EF_NAT_ON_NAT,
	    sizeof(vpc_list_req_t), 4 * sizeof(vpc_nat_eip_t) },
	{ "NAT_POOL_ADD", VPC_OP_NAT_POOL_ADD, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_pool_t), 0 },
	{ "NAT_POOL_DEL", VPC_OP_NAT_POOL_DEL, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_pool_t), 0 },
	{ "NAT_SNAT_BIND", VPC_OP_NAT_SNAT_BIND, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_snat_t), 0 },
	{ "NAT_SNAT_UNBIND", VPC_OP_NAT_SNAT_UNBIND, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_snat_t), 0 },
	{ "NAT_SNAT_GET", VPC_OP_NAT_SNAT_GET, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_snat_t), sizeof(vpc_nat_snat_t) },
	{ "NAT_FLOW_DUMP", VPC_OP_NAT_FLOW_DUMP, EF_NAT_ON_NAT,
	    sizeof(vpc_nat_flow_req_t), 4 * sizeof(vpc_nat_flow_t) },
	{ "NAT_GET_STATS", VPC_OP_NAT_GET_STATS, EF_NAT_ON_NAT, 0,
	    sizeof(vpc_nat_stats_t) },
	{ "RTR_SET_NAT", VPC_OP_RTR_SET_NAT, EF_NAT_ON_RTR,
	    sizeof(vpc_rtr_nat_t), 0 },
	{ "RTR_GET_NAT", VPC_OP_RTR_GET_NAT, EF_NAT_ON_RTR, 0,
	    sizeof(vpc_rtr_nat_t) },
};

static const uint8_t ef_nat_eip[4] = { 203, 0, 113, 30 };
static const uint8_t ef_nat_pool[4] = { 203, 0, 113, 31 };
static const uint8_t ef_nat_pool2[4] = { 203, 0, 113, 32 };
static const uint8_t ef_nat_priv_a[4] = { 10, 83, 0, 10 };	/* the EIP's */
static const uint8_t ef_nat_priv_c[4] = { 10, 83, 0, 11 };	/* SNAT */
static const uint8_t ef_nat_priv_d[4] = { 10, 83, 0, 12 };	/* unbound */

/*
 * Sizes and handle types, each op in turn; h[EF_NAT_ON_*] are the handles.
 * A key one byte short (an op without a key: a value one byte long), and
 * the right sizes on a handle of another type: the link's ops and
 * RTR_SET/GET_NAT on the NAT, the NAT's on the link.
 */
static void
ef_nat_sizes(const long h[3])
{
	static uint8_t key[256], val[512];
	const struct ef_nat_op *o;
	uint64_t g[3];
	size_t i, vl;
	long wrong;
	int j;

	for (j = 0; j < 3; j++)
		g[j] = generation(h[j]);
	for (i = 0; i < sizeof(ef_nat_ops) / sizeof(ef_nat_ops[0]); i++) {
		o = &ef_nat_ops[i];
		memset(key, 0, sizeof(key));
		vl = o->keysz > 0 ? o->valsz : o->valsz + 1;
		expectp(o->name, o->keysz > 0 ? "a key one byte short is EINVAL" :
		    "a value one byte long is EINVAL", vctl(h[o->on], o->op, key,
		    o->keysz > 0 ? o->keysz - 1 : 0, vl > 0 ? val : 0,
		    vl > 0 ? &vl : 0), -EINVAL);
		wrong = h[o->on == EF_NAT_ON_NAT ? EF_NAT_ON_LINK : EF_NAT_ON_NAT];
		vl = o->valsz;
		expectp(o->name, o->on == EF_NAT_ON_NAT ?
		    "on a link handle is ENOTTY" : "on a NAT handle is ENOTTY",
		    vctl(wrong, o->op, key, o->keysz, vl > 0 ? val : 0,
		    vl > 0 ? &vl : 0), -ENOTTY);
	}
	check("nat-bad: the refused sizes and handles changed nothing "
	    "(generations)", generation(h[0]) == g[0] && generation(h[1]) ==
	    g[1] && generation(h[2]) == g[2], (long)generation(h[1]),
	    (long)g[1]);
}

static long
ef_nat_eips(long nat)
{
	vpc_nat_eip_t e[4];
	vpc_list_req_t lr;
	size_t vl = sizeof(e);
	long r;

	memset(&lr, 0, sizeof(lr));
	r = vctl(nat, VPC_OP_NAT_EIP_LIST, &lr, sizeof(lr), e, &vl);
	return (r != 0 ? r : (long)(vl / sizeof(e[0])));
}

static long
ef_nat_snat_get(long nat, const uint8_t priv[4])
{
	vpc_nat_snat_t k, v;

	memset(&k, 0, sizeof(k));
	memcpy(k.priv, priv, 4);
	return (vctl_n(nat, VPC_OP_NAT_SNAT_GET, &k, sizeof(k), &v, sizeof(v)));
}

static long
ef_nat_pool_add(long nat, const uint8_t ext[4])
{
	vpc_nat_pool_t p;

	memset(&p, 0, sizeof(p));
	memcpy(p.ext, ext, 4);
	return (vctl_n(nat, VPC_OP_NAT_POOL_ADD, &p, sizeof(p), 0, 0));
}

/* The NAT's link and router ids: 0 if both are these, else -1 (or -errno). */
static long
ef_nat_links(long nat, const vpc_id_t *link, const vpc_id_t *rtr)
{
	vpc_nat_link_t nl;
	long r;

	memset(&nl, 0, sizeof(nl));
	r = vctl_n(nat, VPC_OP_NAT_GET_LINK, 0, 0, &nl, sizeof(nl));
	if (r != 0)
		return (r);
	return (memcmp(&nl.link_id, link, sizeof(*link)) == 0 &&
	    memcmp(&nl.router_id, rtr, sizeof(*rtr)) == 0 ? 0 : -1);
}

/* The fixture: a router with switch 10.83.0.0/24, the NAT on it, the link
 * on the NAT, an EIP, a pool and an SNAT binding.  0, or -errno. */
static long
ef_nat_setup(long rtr, long nat, const vpc_id_t *nat_id,
    const vpc_id_t *link_id)
{
	vpc_rtr_attach_t at;
	vpc_rtr_nat_t rn;
	vpc_nat_link_t nl;
	vpc_nat_eip_t e;
	vpc_nat_snat_t s;
	long r;

	memset(&at, 0, sizeof(at));
	at.switch_id = mkid(123);
	memset(&rn, 0, sizeof(rn));
	rn.nat_id = *nat_id;
	memset(&nl, 0, sizeof(nl));
	nl.link_id = *link_id;
	memset(&e, 0, sizeof(e));
	memcpy(e.priv, ef_nat_priv_a, 4);
	memcpy(e.ext, ef_nat_eip, 4);
	memset(&s, 0, sizeof(s));
	memcpy(s.priv, ef_nat_priv_c, 4);
	memcpy(s.ext, ef_nat_pool, 4);
	if ((r = vctl_n(rtr, VPC_OP_RTR_ATTACH, &at, sizeof(at), 0, 0)) != 0 ||
	    (r = vctl_n(rtr, VPC_OP_RTR_SET_NAT, &rn, sizeof(rn), 0, 0)) != 0 ||
	    (r = vctl_n(nat, VPC_OP_NAT_SET_LINK, &nl, sizeof(nl), 0, 0)) != 0 ||
	    (r = vctl_n(nat, VPC_OP_NAT_EIP_BIND, &e, sizeof(e), 0, 0)) != 0 ||
	    (r = ef_nat_pool_add(nat, ef_nat_pool)) != 0 ||
	    (r = vctl_n(nat, VPC_OP_NAT_SNAT_BIND, &s, sizeof(s), 0, 0)) != 0)
		return (r);
	return (0);
}

/* Copy-ins of the mutating ops: EFAULT, and the state as it was. */
static void
ef_nat_keys(long link, long nat, long rtr, const vpc_id_t *link_id,
    const vpc_id_t *rtr_id, const vpc_id_t *nat_id)
{
	vpc_link_t lk;
	vpc_nat_config_t c;
	vpc_nat_link_t nl;
	vpc_nat_eip_t e;
	vpc_nat_pool_t p;
	vpc_nat_snat_t s;
	vpc_rtr_nat_t rn;
	uint64_t gl = generation(link), gn = generation(nat),
	    gr = generation(rtr);
	long r;

	memset(&lk, 0, sizeof(lk));
	memcpy(lk.ifname, "lo0", 4);
	ef_row("efault: LINK_SET, key into an unmapped page", link,
	    VPC_OP_LINK_SET, ef_key(&lk, sizeof(lk)), sizeof(lk), 0, 0);
	memset(&lk, 0, sizeof(lk));
	r = vctl_n(link, VPC_OP_LINK_GET, 0, 0, &lk, sizeof(lk));
	check("efault: LINK_SET: unbound, the same generation", r == 0 &&
	    lk.bound == 0 && lk.users == 1 && generation(link) == gl, r, 0);

	memset(&c, 0, sizeof(c));
	c.udp_s = 77;
	ef_row("efault: NAT_SET_CONFIG, key into an unmapped page", nat,
	    VPC_OP_NAT_SET_CONFIG, ef_key(&c, sizeof(c)), sizeof(c), 0, 0);
	memset(&c, 0, sizeof(c));
	r = vctl_n(nat, VPC_OP_NAT_GET_CONFIG, 0, 0, &c, sizeof(c));
	check("efault: NAT_SET_CONFIG: the UDP timeout as it was (300 s)",
	    r == 0 && c.udp_s == 300, r != 0 ? r : (long)c.udp_s, 300);

	memset(&nl, 0, sizeof(nl));		/* nil: would detach the link */
	ef_row("efault: NAT_SET_LINK, key into an unmapped page", nat,
	    VPC_OP_NAT_SET_LINK, ef_key(&nl, sizeof(nl)), sizeof(nl), 0, 0);
	expect("efault: NAT_SET_LINK: the link and the router stay",
	    ef_nat_links(nat, link_id, rtr_id), 0);

	memset(&e, 0, sizeof(e));
	memcpy(e.priv, ef_nat_priv_d, 4);
	memcpy(e.ext, (uint8_t[]){ 203, 0, 113, 33 }, 4);
	ef_row("efault: NAT_EIP_BIND, key into an unmapped page", nat,
	    VPC_OP_NAT_EIP_BIND, ef_key(&e, sizeof(e)), sizeof(e), 0, 0);
	memcpy(e.priv, ef_nat_priv_a, 4);
	memcpy(e.ext, ef_nat_eip, 4);
	ef_row("efault: NAT_EIP_UNBIND, key into an unmapped page", nat,
	    VPC_OP_NAT_EIP_UNBIND, ef_key(&e, sizeof(e)), sizeof(e), 0, 0);
	check("efault: NAT_EIP_BIND/UNBIND: still the one EIP",
	    ef_nat_eips(nat) == 1, ef_nat_eips(nat), 1);

	memset(&p, 0, sizeof(p));
	memcpy(p.ext, ef_nat_pool2, 4);
	ef_row("efault: NAT_POOL_ADD, key into an unmapped page", nat,
	    VPC_OP_NAT_POOL_ADD, ef_key(&p, sizeof(p)), sizeof(p), 0, 0);
	check("efault: NAT_POOL_ADD: no pool added (the same generation)",
	    generation(nat) == gn, (long)generation(nat), (long)gn);
	expect("efault: NAT_POOL_ADD: a good one adds it now",
	    ef_nat_pool_add(nat, ef_nat_pool2), 0);
	gn = generation(nat);
	ef_row("efault: NAT_POOL_DEL, key into an unmapped page", nat,
	    VPC_OP_NAT_POOL_DEL, ef_key(&p, sizeof(p)), sizeof(p), 0, 0);
	expect("efault: NAT_POOL_DEL: the pool stays (adding it is EEXIST)",
	    ef_nat_pool_add(nat, ef_nat_pool2), -VPC_EEXIST);

	memset(&s, 0, sizeof(s));
	memcpy(s.priv, ef_nat_priv_d, 4);
	memcpy(s.ext, ef_nat_pool, 4);
	ef_row("efault: NAT_SNAT_BIND, key into an unmapped page", nat,
	    VPC_OP_NAT_SNAT_BIND, ef_key(&s, sizeof(s)), sizeof(s), 0, 0);
	expect("efault: NAT_SNAT_BIND: 10.83.0.12 is not bound",
	    ef_nat_snat_get(nat, ef_nat_priv_d), -VPC_ENOENT);
	memset(&s, 0, sizeof(s));
	memcpy(s.priv, ef_nat_priv_c, 4);
	ef_row("efault: NAT_SNAT_UNBIND, key into an unmapped page", nat,
	    VPC_OP_NAT_SNAT_UNBIND, ef_key(&s, sizeof(s)), sizeof(s), 0, 0);
	expect("efault: NAT_SNAT_UNBIND: 10.83.0.11 is still bound",
	    ef_nat_snat_get(nat, ef_nat_priv_c), 0);
	check("efault: the NAT's generation through all that", generation(nat)
	    == gn, (long)generation(nat), (long)gn);

	memset(&rn, 0, sizeof(rn));		/* nil: would detach the NAT */
	ef_row("efault: RTR_SET_NAT, key into an unmapped page", rtr,
	    VPC_OP_RTR_SET_NAT, ef_key(&rn, sizeof(rn)), sizeof(rn), 0, 0);
	memset(&rn, 0, sizeof(rn));
	r = vctl_n(rtr, VPC_OP_RTR_GET_NAT, 0, 0, &rn, sizeof(rn));
	check("efault: RTR_SET_NAT: the NAT stays attached (generation)",
	    r == 0 && memcmp(&rn.nat_id, nat_id, sizeof(*nat_id)) == 0 &&
	    generation(rtr) == gr, r, 0);
}

/* The read ops: their key into an unmapped page, their value read-only. */
static void
ef_nat_reads(char *ro, long link, long nat, long rtr)
{
	vpc_list_req_t lr;
	vpc_nat_snat_t s;
	vpc_nat_flow_req_t fr;
	vpc_nat_eip_t e[4];
	vpc_nat_flow_t fl[4];

	ef_row("efault: LINK_GET, value read-only", link, VPC_OP_LINK_GET, 0,
	    0, ro, sizeof(vpc_link_t));
	ef_row("efault: LINK_GET_STATS, value read-only", link,
	    VPC_OP_LINK_GET_STATS, 0, 0, ro, sizeof(vpc_link_stats_t));
	ef_row("efault: NAT_GET_CONFIG, value read-only", nat,
	    VPC_OP_NAT_GET_CONFIG, 0, 0, ro, sizeof(vpc_nat_config_t));
	ef_row("efault: NAT_GET_LINK, value read-only", nat,
	    VPC_OP_NAT_GET_LINK, 0, 0, ro, sizeof(vpc_nat_link_t));
	memset(&lr, 0, sizeof(lr));
	ef_row("efault: NAT_EIP_LIST, key into an unmapped page", nat,
	    VPC_OP_NAT_EIP_LIST, ef_key(&lr, sizeof(lr)), sizeof(lr), e,
	    sizeof(e));
	ef_row("efault: NAT_EIP_LIST (one EIP), value read-only", nat,
	    VPC_OP_NAT_EIP_LIST, &lr, sizeof(lr), ro, sizeof(e));
	memset(&s, 0, sizeof(s));
	memcpy(s.priv, ef_nat_priv_c, 4);
	ef_row("efault: NAT_SNAT_GET, key into an unmapped page", nat,
	    VPC_OP_NAT_SNAT_GET, ef_key(&s, sizeof(s)), sizeof(s), &s,
	    sizeof(s));
	ef_row("efault: NAT_SNAT_GET, value read-only", nat,
	    VPC_OP_NAT_SNAT_GET, &s, sizeof(s), ro, sizeof(s));
	memset(&fr, 0, sizeof(fr));
	ef_row("efault: NAT_FLOW_DUMP, key into an unmapped page", nat,
	    VPC_OP_NAT_FLOW_DUMP, ef_key(&fr, sizeof(fr)), sizeof(fr), fl,
	    sizeof(fl));
	/* No traffic, no flow: zero records, nothing written, no fault. */
	expect("efault: NAT_FLOW_DUMP, no flow: a read-only value is not written",
	    vctl_n(nat, VPC_OP_NAT_FLOW_DUMP, &fr, sizeof(fr), ro, sizeof(fl)),
	    0);
	ef_row("efault: NAT_GET_STATS, value read-only", nat,
	    VPC_OP_NAT_GET_STATS, 0, 0, ro, sizeof(vpc_nat_stats_t));
	ef_row("efault: RTR_GET_NAT, value read-only", rtr,
	    VPC_OP_RTR_GET_NAT, 0, 0, ro, sizeof(vpc_rtr_nat_t));
}

static void
efault_nat(char *ro)
{
	vpc_id_t link_id = mkid(120), nat_id = mkid(121), rtr_id = mkid(122);
	long h[3], sw, r;
	int i;

	h[EF_NAT_ON_LINK] = vopen(&link_id, WORD(VPC_TYPE_LINK),
	    VPC_FLAG_CREATE);
	h[EF_NAT_ON_NAT] = vopen(&nat_id, WORD(VPC_TYPE_NAT), VPC_FLAG_CREATE);
	h[EF_NAT_ON_RTR] = vopen(&rtr_id, WORD(VPC_TYPE_ROUTER),
	    VPC_FLAG_CREATE);
	sw = ef_switch(123, 83);
	check("nat-bad: a link, a NAT, a router and a switch",
	    h[0] >= 0 && h[1] >= 0 && h[2] >= 0 && sw >= 0, h[0] < 0 ? h[0] :
	    h[1] < 0 ? h[1] : h[2] < 0 ? h[2] : sw, 3);
	if (h[0] < 0 || h[1] < 0 || h[2] < 0 || sw < 0)
		goto out;
	ef_nat_sizes(h);
	r = ef_nat_setup(h[EF_NAT_ON_RTR], h[EF_NAT_ON_NAT], &nat_id,
	    &link_id);
	expect("efault: the NAT on the router, its link, an EIP, a pool, SNAT",
	    r, 0);
	if (r != 0)
		goto out;
	ef_nat_keys(h[EF_NAT_ON_LINK], h[EF_NAT_ON_NAT], h[EF_NAT_ON_RTR],
	    &link_id, &rtr_id, &nat_id);
	ef_nat_reads(ro, h[EF_NAT_ON_LINK], h[EF_NAT_ON_NAT],
	    h[EF_NAT_ON_RTR]);
out:
	for (i = 0; i < 3; i++)
		if (h[i] >= 0)
			sc3(SYS_close, h[i], 0, 0);
	if (sw >= 0)
		sc3(SYS_close, sw, 0, 0);
}

void
efault_rows(long swd)
{
	static const uint8_t mac_q[6] = { 0x02, 0, 0, 0, 0xe, 0xf };
	vpc_sw_cam_t cam;
	vpc_cam_key_t key;
	size_t vallen = sizeof(vpc_swport_t), *ro_len;
	char *page, *two;
	long r;

	page = (char *)sc6(SYS_mmap, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANON, -1, 0);
	two = (char *)sc6(SYS_mmap, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANON, -1, 0);
	check("efault: mmap for the test buffers", (long)page > 0 &&
	    (long)two > 0, (long)page, 1);
	if ((long)page <= 0 || (long)two <= 0)
		return;
	ro_len = (size_t *)(void *)page;
	*ro_len = sizeof(vpc_swport_t);
	sc3(SYS_mprotect, (long)page, PAGE_SIZE, PROT_READ);
	sc3(SYS_munmap, (long)(two + PAGE_SIZE), PAGE_SIZE, 0);

	efault_row(swd, "efault: NULL value buffer, *vallen 88", 0, &vallen);
	efault_row(swd, "efault: *vallen in read-only memory",
	    two, ro_len);
	efault_row(swd, "efault: value buffer in read-only memory",
	    page + 64, &vallen);
	efault_row(swd, "efault: value buffer ends in an unmapped page",
	    two + PAGE_SIZE - 40, &vallen);

	/* CAM_SET changes state too: its 8-byte result cannot land. */
	memset(&cam, 0, sizeof(cam));
	memcpy(cam.dstmac, mac_q, 6);
	cam.kind = VPC_CAM_NEGATIVE;
	cam.ttl_ms = 60000;
	vallen = sizeof(vpc_cam_set_result_t);
	r = vctl(swd, VPC_OP_SW_CAM_SET, &cam, sizeof(cam), page, &vallen);
	expect("efault: CAM_SET with a read-only result buffer: EFAULT", r,
	    -EFAULT);
	memset(&key, 0, sizeof(key));
	memcpy(key.dstmac, mac_q, 6);
	r = vctl_n(swd, VPC_OP_SW_CAM_GET, &key, sizeof(key), &cam, sizeof(cam));
	expect("efault: and the entry was not installed", r, -ENOENT);

	/* A read-only op with a bad buffer changed nothing either way. */
	vallen = sizeof(vpc_switch_t);
	r = vctl(swd, VPC_OP_SW_GET_PORT_COUNT, 0, 0, page, &vallen);
	expect("efault: GET_PORT_COUNT into read-only memory: EFAULT", r,
	    -EFAULT);

	/* The router's and the firewall's ops. */
	ef_edge = two + PAGE_SIZE;
	efault_router(page + 64);
	efault_fw(swd, page + 64);
	efault_nat(page + 64);
	sc3(SYS_munmap, (long)page, PAGE_SIZE, 0);
	sc3(SYS_munmap, (long)two, PAGE_SIZE, 0);
	invariants("efault: the core's invariants after the EFAULT rows");
}

void
bad_inputs(long swd)
{
	vpc_id_t id = mkid(3), missing = mkid(4), sw2id = mkid(5);
	vpc_vmnic_t mac;
	vpc_sw_vni_t vni;
	vpc_swport_t req, res;
	vpc_switch_t sw;
	size_t vallen;
	long nicd, sw2, h;
	static uint8_t big[VPC_CTL_MAX_KEYLEN + 1];

	nicd = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("bad: a NIC to try things on", nicd >= 0, nicd, 3);
	memset(&mac, 0, sizeof(mac));
	mac.mac[0] = 0x02;
	mac.mac[5] = 0x05;
	expect("bad: keylen one short is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac) - 1, 0, 0), -EINVAL);
	expect("bad: keylen one long is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac) + 1, 0, 0), -EINVAL);
	expect("bad: vallen one long is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_GET_MAC, 0, 0, &mac, sizeof(mac) + 1), -EINVAL);
	mac.mac[0] = 0x01;
	expect("bad: a multicast MAC is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac), 0, 0), -EINVAL);
	memset(mac.mac, 0, 6);
	expect("bad: an all-zero MAC is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac), 0, 0), -EINVAL);
	expect("bad: a switch op on a NIC is ENOTTY", vctl_n(nicd,
	    VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw, sizeof(sw)), -ENOTTY);
	expect("bad: an unknown op is ENOTTY", vctl_n(nicd, 9999, 0, 0, 0, 0),
	    -ENOTTY);
	expect("bad: a NULL key with keylen 12 is EFAULT", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, 0, sizeof(mac), 0, 0), -EFAULT);
	expect("bad: keylen over the cap is E2BIG", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, big, sizeof(big), 0, 0), -E2BIG);
	vallen = sizeof(mac);
	expect("bad: a NULL value buffer is EFAULT", vctl(nicd,
	    VPC_OP_NIC_GET_MAC, 0, 0, 0, &vallen), -EFAULT);
	expect("bad: a NULL vallen pointer for a valued op is EINVAL",
	    vctl(nicd, VPC_OP_NIC_GET_MAC, 0, 0, &mac, 0), -EINVAL);
	expect("bad: a switch op with no handle is EBADF", vctl_n(-1,
	    VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw, sizeof(sw)), -EBADF);
	expect("bad: a descriptor that is not a handle is EBADF", vctl_n(1,
	    VPC_OP_GET_TXN, 0, 0, &vallen, 4), -EBADF);
	h = nicd;
	sc3(SYS_close, nicd, 0, 0);
	expect("bad: a closed handle is EBADF", vctl_n(h, VPC_OP_NOP, 0, 0, 0,
	    0), -EBADF);

	expect("bad: a garbage type word is EINVAL", vopen(&id, 0xdeadbeef,
	    VPC_FLAG_CREATE), -EINVAL);
	expect("bad: a bare VPC_TYPE_NIC as the word is EINVAL", vopen(&id,
	    VPC_TYPE_NIC, VPC_FLAG_CREATE), -EINVAL);
	expect("bad: two flags at once is EINVAL", vopen(&id,
	    WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE | VPC_FLAG_OPEN), -EINVAL);
	expect("bad: OPEN of a missing id is ENOENT", vopen(&missing,
	    WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN), -ENOENT);
	expect("bad: a NULL id is EFAULT", vopen(0, WORD(VPC_TYPE_NIC),
	    VPC_FLAG_CREATE), -EFAULT);
	h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("bad: CREATE again after the last close (it died)", h >= 0, h, 3);
	expect("bad: CREATE of an id in use is EEXIST", vopen(&id,
	    WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE), -EEXIST);
	expect("bad: OPEN as another type is ENOENT", vopen(&id,
	    WORD(VPC_TYPE_SWITCH), VPC_FLAG_OPEN), -ENOENT);
	if (h >= 0)
		sc3(SYS_close, h, 0, 0);

	/* A second switch for VNI and VLAN checks. */
	sw2 = vopen(&sw2id, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("bad: a second switch", sw2 >= 0, sw2, 3);
	memset(&vni, 0, sizeof(vni));
	vni.vni = 1u << 24;
	expect("bad: VNI 2^24 is EINVAL", vctl_n(sw2, VPC_OP_SW_SET_VNI, &vni,
	    sizeof(vni), 0, 0), -EINVAL);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID;
	req.vlan_id = 0;
	expect("bad: VLAN 0 is EINVAL", vctl_n(sw2, VPC_OP_SW_ADD_PORT, &req,
	    sizeof(req), &res, sizeof(res)), -EINVAL);
	req.vlan_id = 4095;
	expect("bad: VLAN 4095 is EINVAL", vctl_n(sw2, VPC_OP_SW_ADD_PORT,
	    &req, sizeof(req), &res, sizeof(res)), -EINVAL);
	req.flags = VPC_FLAG_SWP_ROUTER | VPC_FLAG_SWP_DESCRIPTOR;
	req.vlan_id = 0;
	expect("bad: a descriptor for a router port is EINVAL", vctl_n(sw2,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    -EINVAL);
	sc3(SYS_close, sw2, 0, 0);

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	expect("bad: a second uplink is EEXIST", vctl_n(swd,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    -EEXIST);
	expect("bad: a vmnic op on a switch is ENOTTY", vctl_n(swd,
	    VPC_OP_NIC_GET_MAC, 0, 0, &mac, sizeof(mac)), -ENOTTY);
}
