/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_vnet.c: a vmnic in a VNET jail.  The policy (docs/freebsd.md): vpc's
 * objects are global, one table per kernel, and belong to the host (vnet0);
 * a jail, VNET or not, cannot open or create them (vpc_open is EPERM:
 * PRIV_NET_VXLAN is granted to no jail) nor change a vmnic's MTU; the
 * operator may lend a vmnic's ifnet to a VNET jail ("ifconfig vmnicN vnet
 * J"): it keeps its port, MAC and MTU, the switch and the underlay stay in
 * vnet0, and its frames are switched as before.  NIC_SET_IFNAME is EBUSY
 * while it is away; "jail -r" brings it home; destroying its object while
 * it is away takes it down in the jail.
 */
#include "tests.h"
#include "report.h"

static const uint8_t mac_j1[6] = { 0x02, 0, 0, 0, 0xd, 0x01 };
static const uint8_t mac_j2[6] = { 0x02, 0, 0, 0, 0xd, 0x02 };

struct jctx {
	long		jid;
	const char	*n1;		/* the vmnic lent to the jail */
	int		ready[2];	/* child -> parent */
	int		go[2];		/* parent -> child */
};

/* jail_set(2): a persistent jail with a new vnet; its jid, or -errno. */
static long
jail_create(const char *name)
{
	int vnet = JAIL_SYS_NEW;
	struct iovec iov[6] = {
		{ (void *)"name", 5 }, { (void *)name, slen(name) + 1 },
		{ (void *)"vnet", 5 }, { &vnet, sizeof(vnet) },
		{ (void *)"persist", 8 }, { 0, 0 },
	};

	return (sc3(SYS_jail_set, iov, 6, JAIL_CREATE));
}

static long
if_to_jail(long sock, const char *name, long jid)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, name);
	ifr.ifr_ifru.jid = (int)jid;
	return (sc3(SYS_ioctl, sock, SIOCSIFVNET, &ifr));
}

static long
enter_jail(long jid)
{
	return (sc3(SYS_jail_attach, jid, 0, 0));
}

/* In the jail: the vmnic is an ordinary interface there; vpc is not. */
static void
in_jail(long arg)
{
	struct jctx *j = (struct jctx *)arg;
	vpc_id_t id = mkid(72);
	struct tap t;
	char c;
	long s;

	s = sc3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	check("vnet: in the jail: the vmnic is there", if_flags(s, j->n1) >= 0,
	    if_flags(s, j->n1), 0);
	expect("vnet: in the jail: ifconfig vmnicJ1 up", if_up(s, j->n1), 0);
	expect("vnet: in the jail: its MTU came along (1450)",
	    if_mtu(s, j->n1), 1450);
	expect("vnet: in the jail: ifconfig mtu is EPERM (the host's object)",
	    if_set_mtu(s, j->n1, 1400), -EPERM);
	expect("vnet: in the jail: vpc_open(CREATE) is EPERM",
	    vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE), -EPERM);
	expect("vnet: in the jail: bpf on the vmnic", tap_open(&t, j->n1), 0);
	if (t.fd >= 0) {
		expect("vnet: in the jail: a frame to J2 written",
		    tap_send(&t, mac_j2, mac_j1, 1), 64);
		expect("vnet: in the jail: a frame to remote X written",
		    tap_send(&t, mac_x, mac_j1, 2), 64);
	}
	sc3(SYS_write, j->ready[1], "r", 1);
	if (poll1(j->go[0], POLLIN, 5000) > 0)
		sc3(SYS_read, j->go[0], &c, 1);
	if (t.fd >= 0) {
		check("vnet: in the jail: the frame from J2 arrives",
		    tap_expect(&t, mac_j1, 3), 0, 1);
		tap_close(&t);
	}
	sc3(SYS_close, s, 0, 0);
}

/* Wait up to 5 s for the interface to be back in this vnet. */
static int
home_again(long sock, const char *name)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (if_flags(sock, name) >= 0)
			return (1);
		msleep(100);
	}
	return (0);
}

void
vnet_jail(long sock)
{
	vpc_id_t vccid = mkid(70), swid = mkid(71), port1;
	vpc_swport_t req, res;
	vpc_sw_cam_t cam;
	vpc_cam_set_result_t setres;
	vpc_nic_ifname_t ifn;
	vpc_vcc_t vc;
	vpc_vcc_stats_t vst0, vst;
	struct jctx j;
	struct tap t2;
	char n1[VPC_IFNAMSIZ], n2[VPC_IFNAMSIZ];
	long vccd, swd, h1 = -1, h2 = -1, jid, pid;
	int countfd;
	char c;

	t2.fd = -1;
	vccd = vopen(&vccid, WORD(VPC_TYPE_VCC), VPC_FLAG_CREATE);
	swd = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("vnet: a vcc and a switch", vccd >= 0 && swd >= 0, vccd, 3);
	if (vccd < 0 || swd < 0)
		goto out;
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	memcpy(vc.addr4, loopback, 4);
	expect("vnet: the vcc on 127.0.0.1", vctl_n(vccd, VPC_OP_VCC_SET, &vc,
	    sizeof(vc), 0, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_VNI;
	req.vni = 910;
	req.peer_id = vccid;
	expect("vnet: uplink, VNI 910", vctl_n(swd, VPC_OP_SW_ADD_PORT, &req,
	    sizeof(req), &res, sizeof(res)), 0);
	memset(&cam, 0, sizeof(cam));
	memcpy(cam.dstmac, mac_x, 6);
	cam.kind = VPC_CAM_REMOTE;
	cam.af = VPC_AF_INET;
	memcpy(cam.addr, loopback, 4);
	cam.ttl_ms = 600000;
	vctl_n(swd, VPC_OP_SW_CAM_SET, &cam, sizeof(cam), &setres,
	    sizeof(setres));
	h1 = add_vmnic_port(swd, mac_j1, &port1);
	h2 = add_vmnic_port(swd, mac_j2, 0);
	check("vnet: vmnic ports J1 and J2", h1 >= 0 && h2 >= 0 &&
	    nic_ifname(h1, n1) == 0 && nic_ifname(h2, n2) == 0,
	    h1 < 0 ? h1 : h2, 0);
	if (h1 < 0 || h2 < 0)
		goto out;
	expect("vnet: ifconfig vmnicJ2 up", if_up(sock, n2), 0);
	expect("vnet: bpf on vmnicJ2 (the host's)", tap_open(&t2, n2), 0);

	jid = jail_create("vpcj");
	check("vnet: jail_set(2): a jail with its own vnet", jid > 0, jid, 1);
	if (jid <= 0)
		goto out;
	expect("vnet: ifconfig vmnicJ1 vnet vpcj", if_to_jail(sock, n1, jid),
	    0);
	expect("vnet: vmnicJ1 is gone from the host's vnet",
	    if_flags(sock, n1), -ENXIO);
	memset(&ifn, 0, sizeof(ifn));
	memcpy(ifn.name, "lent0", 6);
	expect("vnet: NIC_SET_IFNAME while it is away is EBUSY",
	    vctl_n(h1, VPC_OP_NIC_SET_IFNAME, &ifn, sizeof(ifn), 0, 0), -EBUSY);

	/* Traffic from and to the jail, still switched; VXLAN from vnet0. */
	vcc_stats(vccd, &vst0);
	j.jid = jid;
	j.n1 = n1;
	if (sc3(SYS_pipe2, j.ready, 0, 0) < 0 || sc3(SYS_pipe2, j.go, 0, 0) < 0)
		goto out_jail;
	pid = child_start("vnet", enter_jail, jid, in_jail, (long)&j,
	    &countfd);
	if (poll1(j.ready[0], POLLIN, 10000) > 0)
		sc3(SYS_read, j.ready[0], &c, 1);
	check("vnet: the jail's frame to J2 arrives on the host's vmnicJ2",
	    t2.fd >= 0 && tap_expect(&t2, mac_j2, 1), 0, 1);
	msleep(200);
	vcc_stats(vccd, &vst);
	check("vnet: the jail's frame to X left as VXLAN (the vcc in vnet0)",
	    vst.c[VPC_VCCSTAT_TX] == vst0.c[VPC_VCCSTAT_TX] + 1,
	    (long)(vst.c[VPC_VCCSTAT_TX] - vst0.c[VPC_VCCSTAT_TX]), 1);
	if (t2.fd >= 0)
		tap_send(&t2, mac_j1, mac_j2, 3);
	sc3(SYS_write, j.go[1], "g", 1);
	child_finish("vnet", pid, countfd);
	sc3(SYS_close, j.ready[0], 0, 0);
	sc3(SYS_close, j.ready[1], 0, 0);
	sc3(SYS_close, j.go[0], 0, 0);
	sc3(SYS_close, j.go[1], 0, 0);

out_jail:
	expect("vnet: jail -r vpcj", sc3(SYS_jail_remove, jid, 0, 0), 0);
	check("vnet: vmnicJ1 comes home when the jail's vnet dies",
	    home_again(sock, n1), 0, 1);
	expect("vnet: ifconfig vmnicJ1 up (at home)", if_up(sock, n1), 0);
	if (t2.fd >= 0) {
		struct tap t1;

		if (tap_open(&t1, n1) == 0) {
			tap_send(&t2, mac_j1, mac_j2, 4);
			check("vnet: and is switched at home as before",
			    tap_expect(&t1, mac_j1, 4), 0, 1);
			tap_close(&t1);
		}
	}

	/* Lent again, and its object destroyed while it is away. */
	jid = jail_create("vpcj2");
	check("vnet: a second jail", jid > 0, jid, 1);
	if (jid > 0) {
		expect("vnet: vmnicJ1 lent to it", if_to_jail(sock, n1, jid), 0);
		expect("vnet: SW_DEL_PORT of its port while it is away",
		    del_port(swd, &port1), 0);
		expect("vnet: the jail goes", sc3(SYS_jail_remove, jid, 0, 0), 0);
		msleep(300);
		expect("vnet: and vmnicJ1 does not come back (it was destroyed)",
		    if_flags(sock, n1), -ENXIO);
	}
	invariants("vnet: the core's invariants after the jails");
out:
	tap_close(&t2);
	if (h1 >= 0)
		sc3(SYS_close, h1, 0, 0);
	if (h2 >= 0)
		sc3(SYS_close, h2, 0, 0);
	if (swd >= 0)
		sc3(SYS_close, swd, 0, 0);
	if (vccd >= 0)
		sc3(SYS_close, vccd, 0, 0);
}
