/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_nesting.c: the underlay nesting guard.  A misconfigured node: the vcc's
 * address 10.77.0.1 sits on a vmnic (B2) of the very switch whose uplink
 * goes into that vcc, and the VTEP 10.77.0.2 of a remote MAC M is on that
 * subnet, its ARP entry pointing at M itself.  A frame to M is
 * encapsulated; ip_output() sends the packet out vmnicB2; vmnic_transmit()
 * puts it into the switch, which encapsulates it again for M... on the same
 * thread.  Unguarded, that recursion grows 50 bytes a level until the
 * stack overflows.  The guard (vpc_fbsd_vcc.c) drops the second
 * encapsulation (ELOOP) and counts it in net.vpc.underlay_nested.
 */
#include "tests.h"
#include "report.h"

static const uint8_t mac_n1[6] = { 0x02, 0, 0, 0, 0xc, 0x01 };
static const uint8_t mac_n2[6] = { 0x02, 0, 0, 0, 0xc, 0x02 };
static const uint8_t mac_m[6] = { 0x02, 0, 0, 0, 0xc, 0x4d };
static const uint8_t vcc_ip[4] = { 10, 77, 0, 1 };
static const uint8_t vtep_ip[4] = { 10, 77, 0, 2 };

/* The outer packet on vmnicB2: IPv4 UDP to 10.77.0.2:4789, VNI 900. */
static int
match_outer(const uint8_t *f, long len, void *arg __attribute__((unused)))
{
	return (len >= 14 + 20 + 8 + 8 + 14 && memcmp(f, mac_m, 6) == 0 &&
	    f[12] == 0x08 && f[13] == 0 && f[14 + 9] == 17 &&
	    memcmp(f + 14 + 16, vtep_ip, 4) == 0 &&
	    (f[14 + 22] << 8 | f[14 + 23]) == 4789 &&
	    (f[14 + 32] << 16 | f[14 + 33] << 8 | f[14 + 34]) == 900);
}

static void
send_and_count(long swd, long vccd, struct tap *ta, struct tap *tb,
    uint8_t tag, const char *what, long tx_want)
{
	vpc_sw_stats_t st0, st;
	vpc_vcc_stats_t vst0, vst;
	uint64_t n0 = sysctl_u64("net.vpc.underlay_nested"), n;
	long r;

	sw_stats(swd, &st0);
	vcc_stats(vccd, &vst0);
	r = tap_send(ta, mac_m, mac_n1, tag);
	checkp(what, "a frame to M written on vmnicA2", r == 64, r, 64);
	r = tap_find(tb, match_outer, 0, 0, 0);
	checkp(what, "the underlay packet went out vmnicB2, into the switch",
	    r > 0, r, 1);
	msleep(200);
	sw_stats(swd, &st);
	vcc_stats(vccd, &vst);
	n = sysctl_u64("net.vpc.underlay_nested");
	checkp(what, "the nested encapsulation was dropped and counted "
	    "(net.vpc.underlay_nested)", n == n0 + 1, (long)(n - n0), 1);
	checkp(what, "vcc TX counts the outer packet(s), TX_ERR the nested one",
	    (long)(vst.c[VPC_VCCSTAT_TX] - vst0.c[VPC_VCCSTAT_TX]) == tx_want &&
	    vst.c[VPC_VCCSTAT_TX_ERR] == vst0.c[VPC_VCCSTAT_TX_ERR] + 1,
	    (long)(vst.c[VPC_VCCSTAT_TX] - vst0.c[VPC_VCCSTAT_TX]), tx_want);
	checkp(what, "the switch counts it as DROP_TX",
	    st.c[VPC_SWSTAT_DROP_TX] == st0.c[VPC_SWSTAT_DROP_TX] + 1,
	    (long)(st.c[VPC_SWSTAT_DROP_TX] - st0.c[VPC_SWSTAT_DROP_TX]), 1);
}

void
nesting_guard(long sock)
{
	vpc_id_t vccid = mkid(60), swid = mkid(61);
	vpc_swport_t req, res;
	vpc_sw_cam_t cam;
	vpc_cam_set_result_t setres;
	vpc_vcc_t vc;
	struct tap ta, tb;
	char na[VPC_IFNAMSIZ], nb[VPC_IFNAMSIZ];
	long vccd, swd, a = -1, b = -1, r;

	ta.fd = tb.fd = -1;
	expect("nest: net.vpc.max_nesting is 1 by default",
	    sysctl_int("net.vpc.max_nesting"), 1);
	expect("nest: net.vpc.max_nesting 0 is EINVAL",
	    sysctl_set_int("net.vpc.max_nesting", 0), -EINVAL);
	vccd = vopen(&vccid, WORD(VPC_TYPE_VCC), VPC_FLAG_CREATE);
	swd = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("nest: a vcc and a switch", vccd >= 0 && swd >= 0, vccd, 3);
	if (vccd < 0 || swd < 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_VNI;
	req.vni = 900;
	req.peer_id = vccid;
	expect("nest: uplink into the vcc, VNI 900", vctl_n(swd,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	a = add_vmnic_port(swd, mac_n1, 0);
	b = add_vmnic_port(swd, mac_n2, 0);
	check("nest: vmnic ports A2 and B2", a >= 0 && b >= 0 &&
	    nic_ifname(a, na) == 0 && nic_ifname(b, nb) == 0, a < 0 ? a : b, 0);
	if (a < 0 || b < 0)
		goto out;
	expect("nest: ifconfig vmnicA2 up", if_up(sock, na), 0);
	expect("nest: ifconfig vmnicB2 up", if_up(sock, nb), 0);
	expect("nest: ifconfig vmnicB2 10.77.0.1/24 (the mistake)",
	    if_addr4(sock, nb, vcc_ip, 24), 0);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	memcpy(vc.addr4, vcc_ip, 4);
	expect("nest: the vcc on 10.77.0.1", vctl_n(vccd, VPC_OP_VCC_SET, &vc,
	    sizeof(vc), 0, 0), 0);
	memset(&cam, 0, sizeof(cam));
	memcpy(cam.dstmac, mac_m, 6);
	cam.kind = VPC_CAM_REMOTE;
	cam.af = VPC_AF_INET;
	memcpy(cam.addr, vtep_ip, 4);
	cam.ttl_ms = 600000;
	r = vctl_n(swd, VPC_OP_SW_CAM_SET, &cam, sizeof(cam), &setres,
	    sizeof(setres));
	check("nest: M is remote, behind VTEP 10.77.0.2", r == 0 &&
	    setres.applied == 1, r, 0);
	expect("nest: arp -s 10.77.0.2 M on vmnicB2",
	    arp_set(sock, nb, vtep_ip, mac_m), 0);
	expect("nest: bpf on vmnicA2", tap_open(&ta, na), 0);
	expect("nest: bpf on vmnicB2", tap_open(&tb, nb), 0);
	if (ta.fd < 0 || tb.fd < 0)
		goto out;

	send_and_count(swd, vccd, &ta, &tb, 1, "nest: max_nesting 1", 1);
	/*
	 * A higher limit allows VXLAN in another vcc's VXLAN, never in the
	 * same vcc's: that is a loop whatever the limit.
	 */
	expect("nest: net.vpc.max_nesting=3",
	    sysctl_set_int("net.vpc.max_nesting", 3), 0);
	send_and_count(swd, vccd, &ta, &tb, 2, "nest: max_nesting 3, same vcc",
	    1);
	expect("nest: net.vpc.max_nesting back to 1",
	    sysctl_set_int("net.vpc.max_nesting", 1), 0);
	invariants("nest: the core's invariants after it");
out:
	tap_close(&ta);
	tap_close(&tb);
	if (a >= 0)
		sc3(SYS_close, a, 0, 0);
	if (b >= 0)
		sc3(SYS_close, b, 0, 0);
	if (swd >= 0)
		sc3(SYS_close, swd, 0, 0);
	if (vccd >= 0)
		sc3(SYS_close, vccd, 0, 0);
}
