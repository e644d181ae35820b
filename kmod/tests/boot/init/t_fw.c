/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_fw.c: the port firewall (issue 14) on the real data path.  A rule set
 * "in allow tcp 22" is the ingress set of vmnic F; TCP SYNs written with
 * bpf(4) on vmnic C of the same switch: to port 23 nothing arrives on F
 * and fwDeny counts it, to 22 it arrives; a flow F starts (outbound, no
 * egress set: allowed) has its SYN-ACK let in; a rule replace (allow 23
 * only) takes effect; the set cannot be destroyed while F uses it, can
 * once detached.
 */
#include "tests.h"
#include "report.h"

#define	FW_SET_ID	1401
#define	FW_VNI		6401

static const uint8_t fw_mf[6] = { 0x02, 0, 0, 0, 0xe, 0x01 };	/* firewalled */
static const uint8_t fw_mc[6] = { 0x02, 0, 0, 0, 0xe, 0x02 };	/* the client */
static const uint8_t fw_ip_f[4] = { 10, 64, 0, 10 };
static const uint8_t fw_ip_c[4] = { 10, 64, 0, 11 };

#define	TH_SYN	0x02
#define	TH_ACK	0x10

static void
fw_put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* A TCP segment (no options, no data) with both checksums right. */
static long
fw_tcp(struct tap *t, const uint8_t dmac[6], const uint8_t smac[6],
    const uint8_t sip[4], const uint8_t dip[4], uint16_t sport, uint16_t dport,
    uint8_t flags)
{
	uint8_t f[14 + 20 + 20], *ip = f + 14, *th = ip + 20, ps[12 + 20];

	memset(f, 0, sizeof(f));
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	fw_put16(ip + 2, 40);
	fw_put16(ip + 4, sport);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	fw_put16(ip + 10, cksum(ip, 20));
	fw_put16(th, sport);
	fw_put16(th + 2, dport);
	th[7] = 0x11;				/* seq */
	if (flags & TH_ACK)
		th[11] = 0x12;			/* ack */
	th[12] = 5 << 4;
	th[13] = flags;
	fw_put16(th + 14, 65535);
	memset(ps, 0, sizeof(ps));
	memcpy(ps, sip, 4);
	memcpy(ps + 4, dip, 4);
	ps[9] = 6;
	ps[11] = 20;
	memcpy(ps + 12, th, 20);
	fw_put16(th + 16, cksum(ps, sizeof(ps)));
	return (sc3(SYS_write, t->fd, f, sizeof(f)));
}

/*
 * One fragment of a TCP segment C -> F:dport with IP id `id`: the first (the
 * TCP header, SYN, and 4 bytes: 24, offset 0, MF) or the last (8 bytes at
 * offset 3 words).  The IP header's checksum right; the TCP checksum is
 * the whole datagram's, which no one here checks.
 */
static long
fw_frag(struct tap *t, uint16_t id, int first, uint16_t dport)
{
	uint8_t f[14 + 20 + 24], *ip = f + 14, *th = ip + 20;
	uint32_t n = first ? 24 : 8;

	memset(f, 0, sizeof(f));
	memcpy(f, fw_mf, 6);
	memcpy(f + 6, fw_mc, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	fw_put16(ip + 2, (uint16_t)(20 + n));
	fw_put16(ip + 4, id);
	fw_put16(ip + 6, first ? 0x2000 : 3);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, fw_ip_c, 4);
	memcpy(ip + 16, fw_ip_f, 4);
	fw_put16(ip + 10, cksum(ip, 20));
	if (first) {
		fw_put16(th, 43000);
		fw_put16(th + 2, dport);
		th[12] = 5 << 4;
		th[13] = TH_SYN;
	}
	return (sc3(SYS_write, t->fd, f, 14 + 20 + n));
}

/* The fragment with IP id and offset field `off` (MF and words) on F? */
struct fw_fmatch {
	uint16_t	id, off;
};

static int
fw_match_frag(const uint8_t *f, long len, void *arg)
{
	struct fw_fmatch *m = arg;

	return (len >= 14 + 20 && memcmp(f, fw_mf, 6) == 0 && f[12] == 0x08 &&
	    f[13] == 0 && f[14] == 0x45 && f[23] == 6 &&
	    f[18] == (m->id >> 8) && f[19] == (m->id & 0xff) &&
	    f[20] == (m->off >> 8) && f[21] == (m->off & 0xff));
}

static int
fw_frag_arrived(struct tap *t, uint16_t id, uint16_t off)
{
	struct fw_fmatch m = { id, off };

	return (tap_find(t, fw_match_frag, &m, 0, 0) != 0);
}

struct fw_match {
	const uint8_t	*dst;
	uint16_t	 sport, dport;
};

static int
fw_match_tcp(const uint8_t *f, long len, void *arg)
{
	struct fw_match *m = arg;

	return (len >= 14 + 20 + 20 && memcmp(f, m->dst, 6) == 0 &&
	    f[12] == 0x08 && f[13] == 0 && f[14] == 0x45 && f[23] == 6 &&
	    f[34] == (m->sport >> 8) && f[35] == (m->sport & 0xff) &&
	    f[36] == (m->dport >> 8) && f[37] == (m->dport & 0xff));
}

/* Did the segment sport -> dport to dst arrive (~3 s)? */
static int
fw_arrived(struct tap *t, const uint8_t dst[6], uint16_t sport, uint16_t dport)
{
	struct fw_match m = { dst, sport, dport };

	return (tap_find(t, fw_match_tcp, &m, 0, 0) != 0);
}

static uint64_t
fw_stat(long swd, unsigned which)
{
	vpc_sw_stats_t st;

	memset(&st, 0, sizeof(st));
	if (vctl_n(swd, VPC_OP_SW_GET_STATS, 0, 0, &st, sizeof(st)) != 0)
		return (~0ull);
	return (st.c[which]);
}

/* Wait (~3 s) for a switch counter to reach want. */
static uint64_t
fw_wait_stat(long swd, unsigned which, uint64_t want)
{
	int i;

	for (i = 0; i < 30 && fw_stat(swd, which) < want; i++)
		msleep(100);
	return (fw_stat(swd, which));
}

/* The set's rules: one "in allow tcp <port>". */
static long
fw_allow_in(uint16_t port)
{
	vpc_fw_rule_t ru;

	memset(&ru, 0, sizeof(ru));
	ru.set_id = FW_SET_ID;
	ru.priority = 100;
	ru.dir = VPC_FW_DIR_IN;
	ru.action = VPC_FW_ALLOW;
	ru.proto = VPC_FW_PROTO_TCP;
	ru.nports = 1;
	ru.port_lo[0] = port;
	ru.port_hi[0] = port;
	return (vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_SET_RULES, &ru, sizeof(ru), 0, 0));
}

static long
fw_attach(long swd, const vpc_id_t *port, uint32_t ingress)
{
	vpc_sw_port_fw_t pf;

	memset(&pf, 0, sizeof(pf));
	pf.port_id = *port;
	if (ingress != 0) {
		pf.flags = VPC_FLAG_SWP_FW_INGRESS;
		pf.ingress = ingress;
	}
	return (vctl_n(swd, VPC_OP_SW_PORT_SET_FW, &pf, sizeof(pf), 0, 0));
}

void
fw_checks(long sock)
{
	vpc_id_t swid = mkid(95), fport;
	vpc_sw_vni_t v;
	vpc_sw_subnet_t sn;
	vpc_nic_addr_t ad;
	vpc_fw_set_t set;
	vpc_fw_set_ref_t ref;
	struct tap tf, tc;
	char nf[VPC_IFNAMSIZ], nc[VPC_IFNAMSIZ];
	long swd, fd = -1, cd = -1, r;
	uint64_t deny0, deny;
	int created = 0;

	tf.fd = tc.fd = -1;
	swd = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("fw: a switch", swd >= 0, swd, 3);
	if (swd < 0)
		return;
	memset(&v, 0, sizeof(v));
	v.vni = FW_VNI;
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	memcpy(sn.addr, (uint8_t[]){ 10, 64, 0, 0 }, 4);
	r = vctl_n(swd, VPC_OP_SW_SET_VNI, &v, sizeof(v), 0, 0);
	if (r == 0)
		r = vctl_n(swd, VPC_OP_SW_SET_SUBNET, &sn, sizeof(sn), 0, 0);
	expect("fw: the switch's VNI and subnet 10.64.0.0/24", r, 0);
	fd = add_vmnic_port(swd, fw_mf, &fport);
	cd = add_vmnic_port(swd, fw_mc, 0);
	check("fw: vmnics F and C", fd >= 0 && cd >= 0, fd >= 0 ? cd : fd, 3);
	if (fd < 0 || cd < 0)
		goto out;
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, fw_ip_f, 4);
	r = vctl_n(fd, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), 0, 0);
	memcpy(ad.addr4, fw_ip_c, 4);
	if (r == 0)
		r = vctl_n(cd, VPC_OP_NIC_SET_ADDR, &ad, sizeof(ad), 0, 0);
	expect("fw: NIC_SET_ADDR on F and C", r, 0);

	/* The set: "in allow tcp 22", attached as F's ingress set. */
	memset(&set, 0, sizeof(set));
	set.id = FW_SET_ID;
	r = vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_SET_CREATE, &set, sizeof(set), 0, 0);
	expect("fw: FW_SET_CREATE 1401", r, 0);
	if (r != 0)
		goto out;
	created = 1;
	expect("fw: FW_SET_RULES in allow tcp 22", fw_allow_in(22), 0);
	expect("fw: SW_PORT_SET_FW: F's ingress set is 1401",
	    fw_attach(swd, &fport, FW_SET_ID), 0);
	memset(&ref, 0, sizeof(ref));
	ref.id = FW_SET_ID;
	memset(&set, 0, sizeof(set));
	r = vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_SET_GET, &ref, sizeof(ref), &set,
	    sizeof(set));
	check("fw: FW_SET_GET: one rule, one port", r == 0 && set.nrules == 1 &&
	    set.nports == 1, r == 0 ? (long)set.nports : r, 1);
	expect("fw: FW_SET_DESTROY while F uses it is EBUSY", vctl_n(
	    VPC_HANDLE_NONE, VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref), 0, 0),
	    -VPC_EBUSY);
	if (nic_ifname(fd, nf) != 0 || if_up(sock, nf) != 0 ||
	    nic_ifname(cd, nc) != 0 || if_up(sock, nc) != 0 ||
	    tap_open(&tf, nf) != 0 || tap_open(&tc, nc) != 0) {
		check("fw: vmnics F and C up, bpf on each", 0, 0, 1);
		goto detach;
	}

	/* A SYN to 23: denied, counted, nothing on F. */
	deny0 = fw_stat(swd, VPC_SWSTAT_FW_DENY);
	expect("fw: bpf write of a SYN from C to F:23",
	    fw_tcp(&tc, fw_mf, fw_mc, fw_ip_c, fw_ip_f, 41023, 23, TH_SYN), 54);
	deny = fw_wait_stat(swd, VPC_SWSTAT_FW_DENY, deny0 + 1);
	check("fw: the SYN to 23 is denied: fwDeny + 1", deny == deny0 + 1,
	    (long)deny, (long)deny0 + 1);
	check("fw: nothing arrives on F for port 23",
	    !fw_arrived(&tf, fw_mf, 41023, 23), 1, 0);
	/* A SYN to 22: allowed, it arrives. */
	expect("fw: bpf write of a SYN from C to F:22",
	    fw_tcp(&tc, fw_mf, fw_mc, fw_ip_c, fw_ip_f, 41022, 22, TH_SYN), 54);
	check("fw: the SYN to 22 arrives on F", fw_arrived(&tf, fw_mf, 41022, 22),
	    0, 1);
	/* F starts a flow to C:80 (outbound: allowed); C's SYN-ACK comes in. */
	expect("fw: bpf write of a SYN from F to C:80",
	    fw_tcp(&tf, fw_mc, fw_mf, fw_ip_f, fw_ip_c, 40080, 80, TH_SYN), 54);
	check("fw: F's SYN arrives on C", fw_arrived(&tc, fw_mc, 40080, 80), 0, 1);
	expect("fw: bpf write of C's SYN-ACK to F",
	    fw_tcp(&tc, fw_mf, fw_mc, fw_ip_c, fw_ip_f, 80, 40080, TH_SYN | TH_ACK),
	    54);
	check("fw: the SYN-ACK of F's outbound flow arrives on F",
	    fw_arrived(&tf, fw_mf, 80, 40080), 0, 1);

	/* Replace the rules: allow 23 only. */
	expect("fw: FW_SET_RULES in allow tcp 23 (replace)", fw_allow_in(23), 0);
	expect("fw: bpf write of a new SYN from C to F:23",
	    fw_tcp(&tc, fw_mf, fw_mc, fw_ip_c, fw_ip_f, 42023, 23, TH_SYN), 54);
	check("fw: after the replace the SYN to 23 arrives",
	    fw_arrived(&tf, fw_mf, 42023, 23), 0, 1);
	deny0 = fw_stat(swd, VPC_SWSTAT_FW_DENY);
	expect("fw: bpf write of a new SYN from C to F:22",
	    fw_tcp(&tc, fw_mf, fw_mc, fw_ip_c, fw_ip_f, 42022, 22, TH_SYN), 54);
	deny = fw_wait_stat(swd, VPC_SWSTAT_FW_DENY, deny0 + 1);
	check("fw: after the replace a SYN to 22 is denied: fwDeny + 1",
	    deny == deny0 + 1, (long)deny, (long)deny0 + 1);
	check("fw: nothing arrives on F for port 22",
	    !fw_arrived(&tf, fw_mf, 42022, 22), 1, 0);

	/* Fragments (vpc_fragmem.c): judged by the datagram's first. */
	expect("fw: bpf write of a first fragment (SYN to F:23, MF)",
	    fw_frag(&tc, 0x5151, 1, 23), 14 + 20 + 24);
	check("fw: the first fragment to 23 arrives on F",
	    fw_frag_arrived(&tf, 0x5151, 0x2000), 0, 1);
	expect("fw: bpf write of its last fragment",
	    fw_frag(&tc, 0x5151, 0, 0), 14 + 20 + 8);
	check("fw: its last fragment arrives on F too",
	    fw_frag_arrived(&tf, 0x5151, 3), 0, 1);
	deny0 = fw_stat(swd, VPC_SWSTAT_FW_INVALID);
	expect("fw: bpf write of a last fragment of a datagram never started",
	    fw_frag(&tc, 0x5252, 0, 0), 14 + 20 + 8);
	deny = fw_wait_stat(swd, VPC_SWSTAT_FW_INVALID, deny0 + 1);
	check("fw: it is dropped as invalid: fwInvalid + 1", deny == deny0 + 1,
	    (long)deny, (long)deny0 + 1);
	check("fw: nothing of it arrives on F",
	    !fw_frag_arrived(&tf, 0x5252, 3), 1, 0);
detach:
	expect("fw: SW_PORT_SET_FW with no set detaches it",
	    fw_attach(swd, &fport, 0), 0);
	memset(&set, 0, sizeof(set));
	r = vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_SET_GET, &ref, sizeof(ref), &set,
	    sizeof(set));
	check("fw: FW_SET_GET: no port uses it", r == 0 && set.nports == 0,
	    r == 0 ? (long)set.nports : r, 0);
out:
	if (created) {
		memset(&ref, 0, sizeof(ref));
		ref.id = FW_SET_ID;
		expect("fw: FW_SET_DESTROY once detached", vctl_n(VPC_HANDLE_NONE,
		    VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref), 0, 0), 0);
		expect("fw: FW_SET_GET after the destroy is ENOENT", vctl_n(
		    VPC_HANDLE_NONE, VPC_OP_FW_SET_GET, &ref, sizeof(ref), &set,
		    sizeof(set)), -VPC_ENOENT);
	}
	tap_close(&tf);
	tap_close(&tc);
	if (fd >= 0)
		sc3(SYS_close, fd, 0, 0);
	if (cd >= 0)
		sc3(SYS_close, cd, 0, 0);
	sc3(SYS_close, swd, 0, 0);
	invariants("fw: the core's invariants hold");
}
