/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_nat.c: vpcnat and vpclink (docs/nat.md) through the real syscalls, as
 * kmod/tests/unit/test_natgw.c drives them on the host.  The NAT and its
 * ops are the portable core's and must work here; the link stays unbound
 * here (t_link.c binds one to an epair and sends traffic through it): an
 * interface that is not Ethernet or does not exist is refused, though a NAT
 * may still use an unbound link.  A router with one
 * switch (10.71.0.0/24) serves the NAT's private addresses.  Rows: create
 * and list both objects, the configuration round trip, EIPs, a pool and an
 * SNAT binding with their refusals (errno and nothing changed), INTERNET
 * routes only with a NAT attached, EBUSY destroy ordering, empty counters
 * and flow dump, then detach and destroy in order.  net.vpc.nats and
 * net.vpc.links are read before, after the creates and after the destroys
 * (they count live objects, committed or not).  Nothing is committed: on
 * an early return the objects die with their handles.
 */
#include "tests.h"
#include "report.h"

#define	NAT_ID_RTR	130
#define	NAT_ID_SW	131
#define	NAT_ID_NAT	132
#define	NAT_ID_LINK	133
#define	NAT_ID_NAT2	134

static const vpc_id_t nat_nil;		/* all zero: "none" */
static const uint8_t nat_up_mac[6] = { 0x02, 0x99, 0, 0, 0, 0x01 };
static const uint8_t nat_priv_a[4] = { 10, 71, 0, 10 };	/* the EIP's */
static const uint8_t nat_priv_c[4] = { 10, 71, 0, 11 };	/* SNAT */
static const uint8_t nat_eip[4] = { 203, 0, 113, 10 };
static const uint8_t nat_pool[4] = { 203, 0, 113, 20 };

static long
nat_eip_op(long nat, vpc_op_t op, const uint8_t priv[4], const uint8_t ext[4])
{
	vpc_nat_eip_t k;

	memset(&k, 0, sizeof(k));
	memcpy(k.priv, priv, 4);
	if (ext != 0)
		memcpy(k.ext, ext, 4);
	return (vctl_n(nat, op, &k, sizeof(k), 0, 0));
}

/* The EIPs (up to 4, into out): their number, or -errno. */
static long
nat_eips(long nat, vpc_nat_eip_t out[4])
{
	vpc_list_req_t lr;
	size_t vl = 4 * sizeof(vpc_nat_eip_t);
	long r;

	memset(&lr, 0, sizeof(lr));
	memset(out, 0, 4 * sizeof(vpc_nat_eip_t));
	r = vctl(nat, VPC_OP_NAT_EIP_LIST, &lr, sizeof(lr), out, &vl);
	return (r != 0 ? r : (long)(vl / sizeof(vpc_nat_eip_t)));
}

static long
nat_pool_op(long nat, vpc_op_t op, const uint8_t ext[4], uint16_t lo,
    uint16_t hi, uint16_t block)
{
	vpc_nat_pool_t p;

	memset(&p, 0, sizeof(p));
	memcpy(p.ext, ext, 4);
	p.lo = lo;
	p.hi = hi;
	p.block = block;
	return (vctl_n(nat, op, &p, sizeof(p), 0, 0));
}

static long
nat_snat_op(long nat, vpc_op_t op, const uint8_t priv[4],
    const uint8_t ext[4])
{
	vpc_nat_snat_t s;

	memset(&s, 0, sizeof(s));
	memcpy(s.priv, priv, 4);
	if (ext != 0)
		memcpy(s.ext, ext, 4);
	return (vctl_n(nat, op, &s, sizeof(s), 0, 0));
}

static long
nat_snat_get(long nat, const uint8_t priv[4], vpc_nat_snat_t *out)
{
	vpc_nat_snat_t k;

	memset(&k, 0, sizeof(k));
	memcpy(k.priv, priv, 4);
	memset(out, 0, sizeof(*out));
	return (vctl_n(nat, VPC_OP_NAT_SNAT_GET, &k, sizeof(k), out,
	    sizeof(*out)));
}

/* RTR_SET_NAT with this id (0: detach). */
static long
nat_attach(long rtr, const vpc_id_t *nat_id)
{
	vpc_rtr_nat_t k;

	memset(&k, 0, sizeof(k));
	if (nat_id != 0)
		k.nat_id = *nat_id;
	return (vctl_n(rtr, VPC_OP_RTR_SET_NAT, &k, sizeof(k), 0, 0));
}

static long
nat_set_link(long nat, const vpc_id_t *link_id)
{
	vpc_nat_link_t k;

	memset(&k, 0, sizeof(k));
	if (link_id != 0)
		k.link_id = *link_id;
	return (vctl_n(nat, VPC_OP_NAT_SET_LINK, &k, sizeof(k), 0, 0));
}

/* The default route to the Internet (the router's NAT): set or del. */
static long
nat_internet(long rtr, vpc_op_t op)
{
	vpc_rt_route_t rt;

	memset(&rt, 0, sizeof(rt));
	rt.af = VPC_AF_INET;
	rt.target = VPC_RT_INTERNET;
	return (vctl_n(rtr, op, &rt, sizeof(rt), 0, 0));
}

static long
nat_nroutes(long rtr)
{
	vpc_rt_route_t buf[8];
	vpc_list_req_t lr;
	size_t vl = sizeof(buf);
	long r;

	memset(&lr, 0, sizeof(lr));
	r = vctl(rtr, VPC_OP_RTR_ROUTE_DUMP, &lr, sizeof(lr), buf, &vl);
	return (r != 0 ? r : (long)(vl / sizeof(buf[0])));
}

static long
nat_link_get(long link, vpc_link_t *out)
{
	memset(out, 0, sizeof(*out));
	return (vctl_n(link, VPC_OP_LINK_GET, 0, 0, out, sizeof(*out)));
}

/* SYS_LIST of one type: how many, and whether id is among them. */
static long
nat_listed(unsigned type, const vpc_id_t *id, int *found)
{
	vpc_obj_info_t buf[8];
	vpc_list_req_t lr;
	size_t vl = sizeof(buf), i;
	long r;

	memset(&lr, 0, sizeof(lr));
	lr.obj_type = (uint8_t)type;
	*found = 0;
	r = vctl(VPC_HANDLE_NONE, VPC_OP_SYS_LIST, &lr, sizeof(lr), buf, &vl);
	if (r != 0)
		return (r);
	for (i = 0; i < vl / sizeof(buf[0]); i++)
		if (memcmp(&buf[i].id, id, sizeof(*id)) == 0 &&
		    buf[i].type == WORD(type))
			*found = 1;
	return ((long)(vl / sizeof(buf[0])));
}

/* GET_INFO says this id, this type word, one handle, uncommitted. */
static void
nat_info(const char *name, long h, const vpc_id_t *id, unsigned type)
{
	vpc_obj_info_t info;
	long r;

	memset(&info, 0, sizeof(info));
	r = vctl_n(h, VPC_OP_GET_INFO, 0, 0, &info, sizeof(info));
	check(name, r == 0 && memcmp(&info.id, id, sizeof(*id)) == 0 &&
	    info.type == WORD(type) && info.handles == 1 &&
	    (info.flags & VPC_OBJ_COMMITTED) == 0, r != 0 ? r :
	    (long)info.type, (long)WORD(type));
}

/* A switch with the IPv4 subnet 10.71.0.0/24 and a router port. */
static long
nat_switch(void)
{
	vpc_id_t id = mkid(NAT_ID_SW);
	vpc_sw_subnet_t sn;
	vpc_swport_t req, res;
	long swd, r;

	swd = vopen(&id, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	if (swd < 0)
		return (swd);
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	memcpy(sn.addr, (uint8_t[]){ 10, 71, 0, 0 }, 4);
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

/* Configuration: defaults, a refusal, the round trip. */
static void
nat_config(long nat)
{
	vpc_nat_upstream_t up;
	vpc_nat_config_t c, got;
	uint64_t g0;
	long r;

	memset(&got, 0, sizeof(got));
	r = vctl_n(nat, VPC_OP_NAT_GET_CONFIG, 0, 0, &got, sizeof(got));
	check("nat: GET_CONFIG: the defaults (262144 flows, UDP 300 s, TCP 7440 s)",
	    r == 0 && got.max_flows == 262144 && got.udp_s == 300 &&
	    got.tcp_est_s == 7440 && got.flows == 0, r != 0 ? r :
	    (long)got.max_flows, 262144);
	g0 = generation(nat);
	memset(&c, 0, sizeof(c));
	c.max_flows = 64;
	c.udp_s = VPC_NAT_TIMEOUT_MAX_S + 1;
	expect("nat: SET_CONFIG with a UDP timeout over the maximum is EINVAL",
	    vctl_n(nat, VPC_OP_NAT_SET_CONFIG, &c, sizeof(c), 0, 0),
	    -VPC_EINVAL);
	c.udp_s = 30;
	c.upstream_mac[0] = 0x01;
	expect("nat: SET_CONFIG with a multicast upstream MAC is EINVAL",
	    vctl_n(nat, VPC_OP_NAT_SET_CONFIG, &c, sizeof(c), 0, 0),
	    -VPC_EINVAL);
	memset(&got, 0, sizeof(got));
	r = vctl_n(nat, VPC_OP_NAT_GET_CONFIG, 0, 0, &got, sizeof(got));
	check("nat: the refused configurations changed nothing",
	    r == 0 && generation(nat) == g0 && got.max_flows == 262144 &&
	    got.udp_s == 300, r != 0 ? r : (long)got.max_flows, 262144);
	memcpy(c.upstream_mac, nat_up_mac, 6);
	expect("nat: SET_CONFIG 64 flows, UDP 30 s, an upstream MAC",
	    vctl_n(nat, VPC_OP_NAT_SET_CONFIG, &c, sizeof(c), 0, 0), 0);
	memset(&got, 0, sizeof(got));
	r = vctl_n(nat, VPC_OP_NAT_GET_CONFIG, 0, 0, &got, sizeof(got));
	check("nat: GET_CONFIG gives them back, the rest defaults",
	    r == 0 && got.max_flows == 64 && got.udp_s == 30 &&
	    got.tcp_est_s == 7440 && got.icmp_s == 60 &&
	    memcmp(got.upstream_mac, nat_up_mac, 6) == 0 &&
	    generation(nat) > g0, r != 0 ? r : (long)got.max_flows, 64);
	memset(&up, 0xa5, sizeof(up));
	r = vctl_n(nat, VPC_OP_NAT_GET_UPSTREAM, 0, 0, &up, sizeof(up));
	check("nat: GET_UPSTREAM: by MAC, that MAC, nothing learned or asked",
	    r == 0 && up.state == VPC_NAT_UPSTREAM_BY_MAC &&
	    memcmp(up.mac, nat_up_mac, 6) == 0 &&
	    (up.ip[0] | up.ip[1] | up.ip[2] | up.ip[3]) == 0 &&
	    up.learned_ms == 0 && up.asked_ms == 0 && up._pad0 == 0 &&
	    up._pad1 == 0, r != 0 ? r : (long)up.state,
	    VPC_NAT_UPSTREAM_BY_MAC);
}

/* The link: refusals only (t_link.c binds one). */
static void
nat_link_unbound(long link)
{
	vpc_link_t k, got;
	vpc_link_stats_t st;
	uint64_t g0 = generation(link);
	unsigned i;
	long r;
	int zero = 1;

	r = nat_link_get(link, &got);
	check("nat: LINK_GET: unbound, no name, no users", r == 0 &&
	    got.bound == 0 && got.ifname[0] == '\0' && got.users == 0, r != 0 ?
	    r : got.bound, 0);
	memset(&k, 0, sizeof(k));
	memcpy(k.ifname, "lo0", 4);
	expect("nat: LINK_SET lo0 (not Ethernet) is ENODEV", vctl_n(link,
	    VPC_OP_LINK_SET, &k, sizeof(k), 0, 0), -VPC_ENODEV);
	memcpy(k.ifname, "vtbd0", 6);
	expect("nat: LINK_SET of no such interface is ENODEV (vtbd0: a disk)",
	    vctl_n(link, VPC_OP_LINK_SET, &k, sizeof(k), 0, 0), -VPC_ENODEV);
	r = nat_link_get(link, &got);
	check("nat: the link stays unbound, nameless, the same generation",
	    r == 0 && got.bound == 0 && got.ifname[0] == '\0' &&
	    generation(link) == g0, r != 0 ? r : got.bound, 0);
	memset(&k, 0, sizeof(k));
	memcpy(k.ifname, "bad name", 9);
	expect("nat: LINK_SET of a bad name is EINVAL first", vctl_n(link,
	    VPC_OP_LINK_SET, &k, sizeof(k), 0, 0), -VPC_EINVAL);
	memset(&k, 0, sizeof(k));
	expect("nat: LINK_SET \"\" (unbind an unbound link) is a no-op",
	    vctl_n(link, VPC_OP_LINK_SET, &k, sizeof(k), 0, 0), 0);
	memset(&st, 0xff, sizeof(st));
	r = vctl_n(link, VPC_OP_LINK_GET_STATS, 0, 0, &st, sizeof(st));
	for (i = 0; i < VPC_LINKSTAT_COUNT; i++)
		zero &= st.c[i] == 0;
	check("nat: LINK_GET_STATS: all zero", r == 0 && zero, r, 0);
}

/* EIPs, a pool, an SNAT binding: each refusal with its errno, no change. */
static void
nat_addresses(long nat)
{
	vpc_nat_eip_t e[4];
	vpc_nat_snat_t s;
	uint64_t g0;
	long n, r;

	expect("nat: EIP_BIND 10.71.0.10 to 203.0.113.10", nat_eip_op(nat,
	    VPC_OP_NAT_EIP_BIND, nat_priv_a, nat_eip), 0);
	n = nat_eips(nat, e);
	check("nat: EIP_LIST: that one", n == 1 &&
	    memcmp(e[0].priv, nat_priv_a, 4) == 0 &&
	    memcmp(e[0].ext, nat_eip, 4) == 0, n, 1);
	g0 = generation(nat);
	expect("nat: EIP_BIND of a bound private address is EEXIST",
	    nat_eip_op(nat, VPC_OP_NAT_EIP_BIND, nat_priv_a,
	    (uint8_t[]){ 203, 0, 113, 11 }), -VPC_EEXIST);
	expect("nat: EIP_BIND of a bound external address is EEXIST",
	    nat_eip_op(nat, VPC_OP_NAT_EIP_BIND, nat_priv_c, nat_eip),
	    -VPC_EEXIST);
	expect("nat: EIP_BIND of 127.0.0.1 is EINVAL", nat_eip_op(nat,
	    VPC_OP_NAT_EIP_BIND, nat_priv_c, (uint8_t[]){ 127, 0, 0, 1 }),
	    -VPC_EINVAL);
	expect("nat: EIP_BIND of 10.9.9.9 (in no subnet) is EADDRNOTAVAIL",
	    nat_eip_op(nat, VPC_OP_NAT_EIP_BIND, (uint8_t[]){ 10, 9, 9, 9 },
	    (uint8_t[]){ 203, 0, 113, 12 }), -VPC_EADDRNOTAVAIL);
	n = nat_eips(nat, e);
	check("nat: the refused EIPs changed nothing (one EIP, generation)",
	    n == 1 && memcmp(e[0].ext, nat_eip, 4) == 0 &&
	    generation(nat) == g0, n, 1);

	expect("nat: POOL_ADD 203.0.113.20 ports 2000-2063 by 16",
	    nat_pool_op(nat, VPC_OP_NAT_POOL_ADD, nat_pool, 2000, 2063, 16), 0);
	g0 = generation(nat);
	expect("nat: POOL_ADD of the same address again (other ports) is EEXIST",
	    nat_pool_op(nat, VPC_OP_NAT_POOL_ADD, nat_pool, 3000, 3999, 100),
	    -VPC_EEXIST);
	expect("nat: POOL_ADD at the EIP's address is EADDRINUSE",
	    nat_pool_op(nat, VPC_OP_NAT_POOL_ADD, nat_eip, 0, 0, 0),
	    -VPC_EADDRINUSE);
	expect("nat: EIP_BIND to the pool's address is EADDRINUSE",
	    nat_eip_op(nat, VPC_OP_NAT_EIP_BIND, nat_priv_c, nat_pool),
	    -VPC_EADDRINUSE);
	expect("nat: POOL_ADD with lo > hi is EINVAL", nat_pool_op(nat,
	    VPC_OP_NAT_POOL_ADD, (uint8_t[]){ 203, 0, 113, 21 }, 2000, 1000,
	    16), -VPC_EINVAL);
	expect("nat: POOL_DEL of no pool is ENOENT", nat_pool_op(nat,
	    VPC_OP_NAT_POOL_DEL, (uint8_t[]){ 203, 0, 113, 21 }, 0, 0, 0),
	    -VPC_ENOENT);
	n = nat_eips(nat, e);
	check("nat: the refused pools changed nothing (generation, EIPs)",
	    generation(nat) == g0 && n == 1, n, 1);

	expect("nat: SNAT_BIND of the EIP's private address is EEXIST",
	    nat_snat_op(nat, VPC_OP_NAT_SNAT_BIND, nat_priv_a, nat_pool),
	    -VPC_EEXIST);
	expect("nat: SNAT_BIND to no pool is ENOENT", nat_snat_op(nat,
	    VPC_OP_NAT_SNAT_BIND, nat_priv_c, (uint8_t[]){ 203, 0, 113, 21 }),
	    -VPC_ENOENT);
	check("nat: the refused SNAT binds changed nothing", generation(nat) ==
	    g0 && nat_snat_get(nat, nat_priv_c, &s) == -VPC_ENOENT,
	    nat_snat_get(nat, nat_priv_c, &s), -VPC_ENOENT);
	expect("nat: SNAT_BIND 10.71.0.11 to the pool", nat_snat_op(nat,
	    VPC_OP_NAT_SNAT_BIND, nat_priv_c, nat_pool), 0);
	r = nat_snat_get(nat, nat_priv_c, &s);
	check("nat: SNAT_GET: the pool's address, blocks of 16 in 2000-2063",
	    r == 0 && memcmp(s.ext, nat_pool, 4) == 0 && s.block_size == 16 &&
	    s.block_lo[VPC_NAT_PROTO_UDP] >= 2000 &&
	    s.block_lo[VPC_NAT_PROTO_UDP] + 15 <= 2063 &&
	    s.block_lo[VPC_NAT_PROTO_TCP] >= 2000 &&
	    s.flows[VPC_NAT_PROTO_UDP] == 0, r != 0 ? r : s.block_size, 16);
	g0 = generation(nat);
	expect("nat: SNAT_BIND of a bound private address is EEXIST",
	    nat_snat_op(nat, VPC_OP_NAT_SNAT_BIND, nat_priv_c, nat_pool),
	    -VPC_EEXIST);
	expect("nat: EIP_BIND of an SNAT-bound private address is EEXIST",
	    nat_eip_op(nat, VPC_OP_NAT_EIP_BIND, nat_priv_c,
	    (uint8_t[]){ 203, 0, 113, 11 }), -VPC_EEXIST);
	expect("nat: POOL_DEL of a pool in use is EBUSY", nat_pool_op(nat,
	    VPC_OP_NAT_POOL_DEL, nat_pool, 0, 0, 0), -VPC_EBUSY);
	r = nat_snat_get(nat, nat_priv_c, &s);
	check("nat: the refusals kept the binding and the EIP (generation)",
	    r == 0 && s.block_size == 16 && nat_eips(nat, e) == 1 &&
	    generation(nat) == g0, r, 0);
}

/* Undo the addresses: SNAT, pool, EIP; each gone when it says so. */
static void
nat_unbind(long nat)
{
	vpc_nat_eip_t e[4];
	vpc_nat_snat_t s;

	expect("nat: SNAT_UNBIND 10.71.0.11", nat_snat_op(nat,
	    VPC_OP_NAT_SNAT_UNBIND, nat_priv_c, 0), 0);
	expect("nat: SNAT_GET of it now is ENOENT", nat_snat_get(nat,
	    nat_priv_c, &s), -VPC_ENOENT);
	expect("nat: SNAT_UNBIND again is ENOENT", nat_snat_op(nat,
	    VPC_OP_NAT_SNAT_UNBIND, nat_priv_c, 0), -VPC_ENOENT);
	expect("nat: POOL_DEL of the unused pool", nat_pool_op(nat,
	    VPC_OP_NAT_POOL_DEL, nat_pool, 0, 0, 0), 0);
	expect("nat: POOL_DEL again is ENOENT", nat_pool_op(nat,
	    VPC_OP_NAT_POOL_DEL, nat_pool, 0, 0, 0), -VPC_ENOENT);
	expect("nat: EIP_UNBIND with another external address is ENOENT",
	    nat_eip_op(nat, VPC_OP_NAT_EIP_UNBIND, nat_priv_a, nat_pool),
	    -VPC_ENOENT);
	check("nat: and the EIP stays", nat_eips(nat, e) == 1,
	    nat_eips(nat, e), 1);
	expect("nat: EIP_UNBIND 10.71.0.10", nat_eip_op(nat,
	    VPC_OP_NAT_EIP_UNBIND, nat_priv_a, nat_eip), 0);
	check("nat: EIP_LIST is empty", nat_eips(nat, e) == 0,
	    nat_eips(nat, e), 0);
}

/* No traffic went through: no counter moved, no flow. */
static void
nat_empty(long nat)
{
	vpc_nat_stats_t st;
	vpc_nat_flow_req_t fr;
	vpc_nat_flow_t fl[4];
	size_t vl = sizeof(fl);
	unsigned i;
	long r;
	int zero = 1;

	memset(&st, 0xff, sizeof(st));
	r = vctl_n(nat, VPC_OP_NAT_GET_STATS, 0, 0, &st, sizeof(st));
	for (i = 0; i < VPC_NATSTAT_COUNT; i++)
		zero &= st.c[i] == 0;
	check("nat: NAT_GET_STATS: every counter zero", r == 0 && zero, r, 0);
	memset(&fr, 0, sizeof(fr));
	r = vctl(nat, VPC_OP_NAT_FLOW_DUMP, &fr, sizeof(fr), fl, &vl);
	check("nat: NAT_FLOW_DUMP: no flows (0 bytes)", r == 0 && vl == 0,
	    r != 0 ? r : (long)vl, 0);
	fr.resume = 2;
	vl = sizeof(fl);
	expect("nat: NAT_FLOW_DUMP with resume 2 is EINVAL", vctl(nat,
	    VPC_OP_NAT_FLOW_DUMP, &fr, sizeof(fr), fl, &vl), -VPC_EINVAL);
}

static long
nat_open(unsigned idn, unsigned type)
{
	vpc_id_t id = mkid(idn);

	return (vopen(&id, WORD(type), VPC_FLAG_CREATE));
}

/*
 * net.vpc.nats and net.vpc.links against what they were before plus the
 * NATs and links this test holds (a missing sysctl reads as ~0).
 */
static void
nat_counted(const char *name, uint64_t nats0, uint64_t links0, long nats,
    long links)
{
	uint64_t n = sysctl_u64("net.vpc.nats"), l = sysctl_u64("net.vpc.links");

	check(name, n == nats0 + (uint64_t)nats && l == links0 + (uint64_t)links,
	    n != nats0 + (uint64_t)nats ? (long)n : (long)l,
	    n != nats0 + (uint64_t)nats ? (long)(nats0 + (uint64_t)nats) :
	    (long)(links0 + (uint64_t)links));
}

void
nat_checks(void)
{
	vpc_id_t rid = mkid(NAT_ID_RTR), natid = mkid(NAT_ID_NAT);
	vpc_id_t linkid = mkid(NAT_ID_LINK), swid = mkid(NAT_ID_SW);
	vpc_id_t nat2id = mkid(NAT_ID_NAT2);
	vpc_rtr_attach_t at;
	vpc_rtr_nat_t rn;
	vpc_nat_link_t nl;
	vpc_link_t lk;
	vpc_nat_eip_t e[4];
	uint64_t objs0 = sysctl_u64("net.vpc.objects"), g0;
	uint64_t nats0 = sysctl_u64("net.vpc.nats");
	uint64_t links0 = sysctl_u64("net.vpc.links");
	long rtr = -1, sw = -1, nat = -1, link = -1, nat2 = -1, r, n;
	int found;

	check("nat: net.vpc.nats and net.vpc.links are readable",
	    nats0 != ~(uint64_t)0 && links0 != ~(uint64_t)0,
	    nats0 == ~(uint64_t)0 || links0 == ~(uint64_t)0 ? -1 : 0, 0);
	nat = nat_open(NAT_ID_NAT, VPC_TYPE_NAT);
	check("nat: vpc_open(NAT, CREATE)", nat >= 0, nat, 3);
	link = nat_open(NAT_ID_LINK, VPC_TYPE_LINK);
	check("nat: vpc_open(LINK, CREATE)", link >= 0, link, 3);
	rtr = nat_open(NAT_ID_RTR, VPC_TYPE_ROUTER);
	sw = nat_switch();
	check("nat: a router and a switch 10.71.0.0/24 with a router port",
	    rtr >= 0 && sw >= 0, rtr < 0 ? rtr : sw, 3);
	if (nat < 0 || link < 0 || rtr < 0 || sw < 0)
		goto out;
	nat_counted("nat: net.vpc.nats and net.vpc.links count the new "
	    "(uncommitted) NAT and link", nats0, links0, 1, 1);
	nat_info("nat: GET_INFO: the NAT's id and type word, one handle", nat,
	    &natid, VPC_TYPE_NAT);
	nat_info("nat: GET_INFO: the link's id and type word, one handle", link,
	    &linkid, VPC_TYPE_LINK);
	n = nat_listed(VPC_TYPE_NAT, &natid, &found);
	check("nat: SYS_LIST of type NAT: just the NAT", n == 1 && found, n, 1);
	n = nat_listed(VPC_TYPE_LINK, &linkid, &found);
	check("nat: SYS_LIST of type LINK: just the link", n == 1 && found, n,
	    1);
	expect("nat: CREATE of the NAT's id again is EEXIST", nat_open(NAT_ID_NAT,
	    VPC_TYPE_NAT), -EEXIST);
	expect("nat: OPEN of the NAT's id as a link is ENOENT", vopen(&natid,
	    WORD(VPC_TYPE_LINK), VPC_FLAG_OPEN), -ENOENT);

	nat_config(nat);
	nat_link_unbound(link);

	/* No NAT attached: no INTERNET route, no private address. */
	n = nat_nroutes(rtr);
	expect("nat: an INTERNET route before any NAT is attached is EOPNOTSUPP",
	    nat_internet(rtr, VPC_OP_RTR_ROUTE_SET), -VPC_EOPNOTSUPP);
	expect("nat: EIP_BIND with the NAT on no router is EADDRNOTAVAIL",
	    nat_eip_op(nat, VPC_OP_NAT_EIP_BIND, nat_priv_a, nat_eip),
	    -VPC_EADDRNOTAVAIL);
	check("nat: and neither was taken (routes, EIPs)", nat_nroutes(rtr) ==
	    n && nat_eips(nat, e) == 0, nat_nroutes(rtr),
	    n);

	/* Attach: the switch to the router, the NAT to both ends. */
	memset(&at, 0, sizeof(at));
	at.switch_id = swid;
	expect("nat: RTR_ATTACH the switch", vctl_n(rtr, VPC_OP_RTR_ATTACH, &at,
	    sizeof(at), 0, 0), 0);
	g0 = generation(rtr);
	expect("nat: RTR_SET_NAT with the link's id (not a NAT) is EINVAL",
	    nat_attach(rtr, &linkid), -VPC_EINVAL);
	memset(&rn, 0xee, sizeof(rn));
	r = vctl_n(rtr, VPC_OP_RTR_GET_NAT, 0, 0, &rn, sizeof(rn));
	check("nat: RTR_GET_NAT: still none, the same generation", r == 0 &&
	    memcmp(&rn.nat_id, &nat_nil, sizeof(vpc_id_t)) == 0 &&
	    generation(rtr) == g0, r, 0);
	expect("nat: RTR_SET_NAT", nat_attach(rtr, &natid), 0);
	memset(&rn, 0, sizeof(rn));
	r = vctl_n(rtr, VPC_OP_RTR_GET_NAT, 0, 0, &rn, sizeof(rn));
	check("nat: RTR_GET_NAT: the NAT", r == 0 && memcmp(&rn.nat_id, &natid,
	    sizeof(natid)) == 0, r, 0);
	nat2 = nat_open(NAT_ID_NAT2, VPC_TYPE_NAT);
	check("nat: a second NAT", nat2 >= 0, nat2, 3);
	expect("nat: RTR_SET_NAT of another NAT is EEXIST (detach first)",
	    nat_attach(rtr, &nat2id), -VPC_EEXIST);
	expect("nat: NAT_SET_LINK to the (unbound) link", nat_set_link(nat,
	    &linkid), 0);
	if (nat2 >= 0) {
		g0 = generation(nat2);
		expect("nat: NAT_SET_LINK of a link another NAT uses is EBUSY",
		    nat_set_link(nat2, &linkid), -VPC_EBUSY);
		memset(&nl, 0xee, sizeof(nl));
		r = vctl_n(nat2, VPC_OP_NAT_GET_LINK, 0, 0, &nl, sizeof(nl));
		check("nat: and the second NAT has no link (generation)", r == 0 &&
		    memcmp(&nl.link_id, &nat_nil, sizeof(vpc_id_t)) == 0 &&
		    generation(nat2) == g0, r, 0);
	}
	memset(&nl, 0, sizeof(nl));
	r = vctl_n(nat, VPC_OP_NAT_GET_LINK, 0, 0, &nl, sizeof(nl));
	check("nat: NAT_GET_LINK: the link and the router", r == 0 &&
	    memcmp(&nl.link_id, &linkid, sizeof(linkid)) == 0 &&
	    memcmp(&nl.router_id, &rid, sizeof(rid)) == 0, r, 0);
	r = nat_link_get(link, &lk);
	check("nat: LINK_GET: one user, still unbound", r == 0 &&
	    lk.users == 1 && lk.bound == 0, r != 0 ? r : (long)lk.users, 1);
	n = nat_nroutes(rtr);
	expect("nat: an INTERNET default route with the NAT attached",
	    nat_internet(rtr, VPC_OP_RTR_ROUTE_SET), 0);
	check("nat: one route more", nat_nroutes(rtr) == n + 1,
	    nat_nroutes(rtr), n + 1);

	nat_addresses(nat);
	nat_unbind(nat);
	nat_empty(nat);

	/* Destroy ordering: in use is EBUSY, and nothing was destroyed. */
	expect("nat: DESTROY of a NAT attached to a router is EBUSY",
	    destroy(nat), -VPC_EBUSY);
	expect("nat: DESTROY of a link a NAT uses is EBUSY", destroy(link),
	    -VPC_EBUSY);
	expect("nat: RTR_SET_NAT nil under an INTERNET route is EBUSY",
	    nat_attach(rtr, 0), -VPC_EBUSY);
	memset(&nl, 0, sizeof(nl));
	r = vctl_n(nat, VPC_OP_NAT_GET_LINK, 0, 0, &nl, sizeof(nl));
	check("nat: the refusals kept the NAT, its link and its router",
	    r == 0 && memcmp(&nl.link_id, &linkid, sizeof(linkid)) == 0 &&
	    memcmp(&nl.router_id, &rid, sizeof(rid)) == 0, r, 0);
	expect("nat: RTR_ROUTE_DEL of the INTERNET route",
	    nat_internet(rtr, VPC_OP_RTR_ROUTE_DEL), 0);
	expect("nat: RTR_SET_NAT nil detaches the NAT", nat_attach(rtr, 0), 0);
	expect("nat: an INTERNET route is EOPNOTSUPP again",
	    nat_internet(rtr, VPC_OP_RTR_ROUTE_SET), -VPC_EOPNOTSUPP);
	expect("nat: DESTROY of the detached NAT (it lets go of the link)",
	    destroy(nat), 0);
	r = nat_link_get(link, &lk);
	check("nat: LINK_GET: no users now", r == 0 && lk.users == 0, r != 0 ?
	    r : (long)lk.users, 0);
	expect("nat: DESTROY of the unused link", destroy(link), 0);
	nat_counted("nat: net.vpc.nats and net.vpc.links after the destroys "
	    "(the second NAT still open)", nats0, links0, nat2 >= 0, 0);
	expect("nat: the destroyed NAT's handle gets EIDRM", vctl_n(nat,
	    VPC_OP_NOP, 0, 0, 0, 0), -EIDRM);
out:
	if (rtr >= 0)
		sc3(SYS_close, rtr, 0, 0);
	if (sw >= 0)
		sc3(SYS_close, sw, 0, 0);
	if (nat >= 0)
		sc3(SYS_close, nat, 0, 0);
	if (nat2 >= 0)
		sc3(SYS_close, nat2, 0, 0);
	if (link >= 0)
		sc3(SYS_close, link, 0, 0);
	check("nat: no object left after the handles are closed",
	    sysctl_u64("net.vpc.objects") == objs0,
	    (long)sysctl_u64("net.vpc.objects"), (long)objs0);
	nat_counted("nat: net.vpc.nats and net.vpc.links back to their start",
	    nats0, links0, 0, 0);
	invariants("nat: the core's invariants hold");
}
