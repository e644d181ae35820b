/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_datapath.c: the data path, step by step (as kmod/tests/unit/
 * test_datapath.c cuts it): a vcc on 127.0.0.1 (a kernel UDP socket), a
 * switch with VNI 789 whose uplink goes into it, two vmnic ports A and B;
 * frames written with bpf(4) on vmnicA arrive on vmnicB, go out as VXLAN
 * through ip_output() and come back through the UDP tunnel.
 */
#include "tests.h"
#include "report.h"

const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0xa, 0x01 };
const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0xa, 0x02 };
const uint8_t mac_x[6] = { 0x02, 0, 0, 0, 0xa, 0x99 };
const uint8_t mac_y[6] = { 0x02, 0, 0, 0, 0xa, 0x77 };
const uint8_t mac_z[6] = { 0x02, 0, 0, 0, 0xa, 0x66 };
const uint8_t mac_w[6] = { 0x02, 0, 0, 0, 0xa, 0x55 };
const uint8_t mac_v[6] = { 0x02, 0, 0, 0, 0xa, 0x44 };
const uint8_t loopback[4] = { 127, 0, 0, 1 };

static void
dp_vcc(struct dp *d)
{
	vpc_vcc_t vcgot;
	long r;

	d->vccid = mkid(10);
	d->vccd = vopen(&d->vccid, WORD(VPC_TYPE_VCC), VPC_FLAG_CREATE);
	check("data: a vcc", d->vccd >= 0, d->vccd, 3);
	memset(&d->vc, 0, sizeof(d->vc));
	d->vc.flags = VPC_VCC_INET;
	memcpy(d->vc.addr4, loopback, 4);
	expect("data: VCC_SET 127.0.0.1:4789 (kernel UDP socket bound)",
	    vctl_n(d->vccd, VPC_OP_VCC_SET, &d->vc, sizeof(d->vc), 0, 0), 0);
	memset(&vcgot, 0, sizeof(vcgot));
	r = vctl_n(d->vccd, VPC_OP_VCC_GET, 0, 0, &vcgot, sizeof(vcgot));
	check("data: VCC_GET round trip", r == 0 && vcgot.udp_port == 4789 &&
	    memcmp(vcgot.addr4, loopback, 4) == 0, r, 0);
	expect("data: VCC_SET again (the sockets are replaced)",
	    vctl_n(d->vccd, VPC_OP_VCC_SET, &d->vc, sizeof(d->vc), 0, 0), 0);
	vcgot = d->vc;
	memcpy(vcgot.l2_ifname, "lo0", 4);
	expect("data: a raw L2 uplink (VNI 0) on lo0 (not Ethernet) is ENODEV",
	    vctl_n(d->vccd, VPC_OP_VCC_SET, &vcgot, sizeof(vcgot), 0, 0),
	    -VPC_ENODEV);
	memset(&vcgot, 0, sizeof(vcgot));
	r = vctl_n(d->vccd, VPC_OP_VCC_GET, 0, 0, &vcgot, sizeof(vcgot));
	check("data: and the vcc keeps its configuration (no L2 device)",
	    r == 0 && vcgot.l2_ifname[0] == '\0' &&
	    memcmp(vcgot.addr4, loopback, 4) == 0, r, 0);
}

/* The fixture; 0 when the switch has both vmnics up. */
int
dp_setup(struct dp *d)
{
	vpc_id_t swid = mkid(11);
	vpc_swport_t req, res;

	d->a = d->b = d->up = d->devctl = -1;
	d->ta.fd = d->tb.fd = -1;
	dp_vcc(d);
	d->swd = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("data: a switch", d->swd >= 0, d->swd, 3);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_VNI;
	req.vni = DP_VNI;
	req.peer_id = d->vccid;
	expect("data: uplink into the vcc, VNI 789", vctl_n(d->swd,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	d->a = add_vmnic_port(d->swd, mac_a, 0);
	check("data: vmnic port A", d->a >= 0, d->a, 0);
	d->b = add_vmnic_port(d->swd, mac_b, 0);
	check("data: vmnic port B", d->b >= 0, d->b, 0);
	if (d->a < 0 || d->b < 0 || nic_ifname(d->a, d->na) != 0 ||
	    nic_ifname(d->b, d->nb) != 0)
		return (-1);
	expect("data: ifconfig vmnicA up", if_up(d->sock, d->na), 0);
	expect("data: ifconfig vmnicB up", if_up(d->sock, d->nb), 0);
	return (0);
}

/* A remote MAC X behind 127.0.0.1, in the switch's CAM. */
void
dp_cam(struct dp *d)
{
	vpc_sw_cam_t cam, camgot;
	vpc_cam_key_t key;
	vpc_cam_set_result_t setres;
	long r;

	memset(&cam, 0, sizeof(cam));
	memcpy(cam.dstmac, mac_x, 6);
	cam.kind = VPC_CAM_REMOTE;
	cam.af = VPC_AF_INET;
	memcpy(cam.addr, loopback, 4);
	cam.ttl_ms = 600000;
	memset(&setres, 0, sizeof(setres));
	r = vctl_n(d->swd, VPC_OP_SW_CAM_SET, &cam, sizeof(cam), &setres,
	    sizeof(setres));
	check("data: CAM_SET a remote MAC behind 127.0.0.1", r == 0 &&
	    setres.applied == 1, r, 0);
	memset(&key, 0, sizeof(key));
	memcpy(key.dstmac, mac_x, 6);
	memset(&camgot, 0, sizeof(camgot));
	r = vctl_n(d->swd, VPC_OP_SW_CAM_GET, &key, sizeof(key), &camgot,
	    sizeof(camgot));
	check("data: CAM_GET gives it back", r == 0 &&
	    camgot.kind == VPC_CAM_REMOTE && camgot.vni == DP_VNI &&
	    memcmp(camgot.addr, loopback, 4) == 0 && camgot.ttl_ms > 0, r, 0);
}

/* bpf on both vmnics; 0 when both are open. */
int
dp_taps(struct dp *d)
{
	expect("bpf: open on vmnicA", tap_open(&d->ta, d->na), 0);
	expect("bpf: open on vmnicB", tap_open(&d->tb, d->nb), 0);
	return (d->ta.fd >= 0 && d->tb.fd >= 0 ? 0 : -1);
}

/* A -> B: into the switch (if_transmit), out to B (if_input). */
void
dp_local(struct dp *d)
{
	long r;

	r = tap_send(&d->ta, mac_b, mac_a, 1);
	check("bpf: a frame written on vmnicA", r == 64, r, 64);
	check("data: A -> B arrives on vmnicB (switch, local delivery)",
	    tap_expect(&d->tb, mac_b, 1), 0, 1);
}

/* A -> X: VXLAN to 127.0.0.1, back in through our own socket. */
void
dp_remote(struct dp *d)
{
	vpc_sw_stats_t st;
	vpc_vcc_stats_t vst;

	tap_send(&d->ta, mac_x, mac_a, 2);
	msleep(300);
	sw_stats(d->swd, &st);
	vcc_stats(d->vccd, &vst);
	check("data: A -> remote X went out as VXLAN (ip_output)",
	    st.c[VPC_SWSTAT_TX_REMOTE] == 1 && vst.c[VPC_VCCSTAT_TX] == 1,
	    (long)st.c[VPC_SWSTAT_TX_REMOTE], 1);
	check("data: and came back in through the kernel UDP tunnel",
	    vst.c[VPC_VCCSTAT_RX] == 1, (long)vst.c[VPC_VCCSTAT_RX], 1);
	/* Its source is A, a vmnic of this switch: the underlay cannot have it. */
	check("data: which found VNI 789 and a local source (DROP_UNDERLAY_SPOOF)",
	    st.c[VPC_SWSTAT_RX_REMOTE] == 1 &&
	    st.c[VPC_SWSTAT_DROP_UNDERLAY_SPOOF] == 1 &&
	    st.c[VPC_SWSTAT_DROP_UNKNOWN] == 0,
	    (long)st.c[VPC_SWSTAT_DROP_UNDERLAY_SPOOF], 1);
}

void
dp_teardown(struct dp *d)
{
	tap_close(&d->ta);
	tap_close(&d->tb);
	if (d->devctl >= 0)
		sc3(SYS_close, d->devctl, 0, 0);
	if (d->up >= 0) {
		expect("unload: refused (EBUSY) while the upcall device is open",
		    sc3(SYS_kldunload, vpc_fileid, 0, 0), -EBUSY);
		sc3(SYS_close, d->up, 0, 0);
	}
	if (d->a >= 0)
		sc3(SYS_close, d->a, 0, 0);
	if (d->b >= 0)
		sc3(SYS_close, d->b, 0, 0);
	if (d->swd >= 0)
		sc3(SYS_close, d->swd, 0, 0);
	if (d->vccd >= 0)
		sc3(SYS_close, d->vccd, 0, 0);
}
