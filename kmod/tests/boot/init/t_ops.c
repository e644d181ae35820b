/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_ops.c: the object, switch, CAM, neighbour, NIC address/DHCP and upcall
 * ops the other areas never call by name, each on a real object with its
 * result checked, and for each that changes state or takes a key one
 * wrong-key-size row: EINVAL, and the state read back unchanged.  Its own
 * switch and NIC (uncommitted: they go with their handles).
 */
#include "tests.h"
#include "report.h"

#define	OPS_ID_SW	500
#define	OPS_ID_NIC	501
#define	OPS_VNI		4242

static const uint8_t ops_port_mac[6] = { 0x02, 0x00, 0x00, 0x0b, 0x00, 0x01 };
static const uint8_t ops_cam_mac1[6] = { 0x02, 0x00, 0x00, 0x0b, 0x00, 0x11 };
static const uint8_t ops_cam_mac2[6] = { 0x02, 0x00, 0x00, 0x0b, 0x00, 0x12 };
static const uint8_t ops_nbr_mac[6] = { 0x02, 0x00, 0x00, 0x0b, 0x00, 0x21 };

/* The switch's CAM entries (up to 16), by SW_CAM_DUMP from the start. */
static long
cam_count(long swd, const uint8_t dstmac[6], int *seen)
{
	vpc_sw_cam_t buf[16];
	vpc_list_req_t lr;
	size_t vl = sizeof(buf), i;
	long r;

	memset(&lr, 0, sizeof(lr));
	r = vctl(swd, VPC_OP_SW_CAM_DUMP, &lr, sizeof(lr), buf, &vl);
	if (r != 0)
		return (r);
	if (seen != NULL) {
		*seen = 0;
		for (i = 0; i < vl / sizeof(buf[0]); i++)
			if (memcmp(buf[i].dstmac, dstmac, 6) == 0)
				*seen = 1;
	}
	return ((long)(vl / sizeof(buf[0])));
}

/* The switch's neighbour entries, by SW_NBR_DUMP from the start. */
static long
nbr_count(long swd, const uint8_t addr4[4], int *seen)
{
	vpc_sw_nbr_t buf[16];
	vpc_list_req_t lr;
	size_t vl = sizeof(buf), i;
	long r;

	memset(&lr, 0, sizeof(lr));
	r = vctl(swd, VPC_OP_SW_NBR_DUMP, &lr, sizeof(lr), buf, &vl);
	if (r != 0)
		return (r);
	if (seen != NULL) {
		*seen = 0;
		for (i = 0; i < vl / sizeof(buf[0]); i++)
			if (buf[i].af == VPC_AF_INET &&
			    memcmp(buf[i].addr, addr4, 4) == 0)
				*seen = 1;
	}
	return ((long)(vl / sizeof(buf[0])));
}

static long
cam_set(long swd, const uint8_t dstmac[6])
{
	vpc_sw_cam_t e;
	vpc_cam_set_result_t res;

	memset(&e, 0, sizeof(e));
	memcpy(e.dstmac, dstmac, 6);
	e.kind = VPC_CAM_REMOTE;
	e.af = VPC_AF_INET;
	memcpy(e.addr, loopback, 4);
	return (vctl_n(swd, VPC_OP_SW_CAM_SET, &e, sizeof(e), &res,
	    sizeof(res)));
}

static long
cam_get(long swd, const uint8_t dstmac[6])
{
	vpc_cam_key_t k;
	vpc_sw_cam_t v;

	memset(&k, 0, sizeof(k));
	memcpy(k.dstmac, dstmac, 6);
	return (vctl_n(swd, VPC_OP_SW_CAM_GET, &k, sizeof(k), &v, sizeof(v)));
}

static long
nbr_set(long swd, const uint8_t addr4[4], const uint8_t mac[6])
{
	vpc_sw_nbr_t e;
	vpc_cam_set_result_t res;

	memset(&e, 0, sizeof(e));
	e.af = VPC_AF_INET;
	e.kind = VPC_NBR_FOUND;
	memcpy(e.mac, mac, 6);
	memcpy(e.addr, addr4, 4);
	return (vctl_n(swd, VPC_OP_SW_NBR_SET, &e, sizeof(e), &res,
	    sizeof(res)));
}

static long
nbr_get(long swd, const uint8_t addr4[4], vpc_sw_nbr_t *v)
{
	vpc_nbr_key_t k;

	memset(&k, 0, sizeof(k));
	k.af = VPC_AF_INET;
	memcpy(k.addr, addr4, 4);
	return (vctl_n(swd, VPC_OP_SW_NBR_GET, &k, sizeof(k), v, sizeof(*v)));
}

/* GET_TYPE and GET_ID on both objects; SYS_UPCALL_STATS. */
static void
ops_identity(long swd, long nicd)
{
	vpc_id_t swid = mkid(OPS_ID_SW), nicid = mkid(OPS_ID_NIC), got;
	vpc_type_t type = 0;
	vpc_upcall_stats_t us;

	expect("ops: GET_TYPE on the switch", vctl_n(swd, VPC_OP_GET_TYPE, 0,
	    0, &type, sizeof(type)), 0);
	check("ops: GET_TYPE says SWITCH", type == WORD(VPC_TYPE_SWITCH),
	    (long)type, (long)WORD(VPC_TYPE_SWITCH));
	expect("ops: GET_TYPE on the NIC", vctl_n(nicd, VPC_OP_GET_TYPE, 0, 0,
	    &type, sizeof(type)), 0);
	check("ops: GET_TYPE says NIC", type == WORD(VPC_TYPE_NIC),
	    (long)type, (long)WORD(VPC_TYPE_NIC));
	memset(&got, 0, sizeof(got));
	expect("ops: GET_ID on the switch", vctl_n(swd, VPC_OP_GET_ID, 0, 0,
	    &got, sizeof(got)), 0);
	check("ops: GET_ID is the switch's id", memcmp(&got, &swid,
	    sizeof(got)) == 0, got.bytes[15], swid.bytes[15]);
	memset(&got, 0, sizeof(got));
	expect("ops: GET_ID on the NIC", vctl_n(nicd, VPC_OP_GET_ID, 0, 0,
	    &got, sizeof(got)), 0);
	check("ops: GET_ID is the NIC's id", memcmp(&got, &nicid,
	    sizeof(got)) == 0, got.bytes[15], nicid.bytes[15]);
	memset(&us, 0xff, sizeof(us));
	expect("ops: SYS_UPCALL_STATS", vctl_n(VPC_HANDLE_NONE,
	    VPC_OP_SYS_UPCALL_STATS, 0, 0, &us, sizeof(us)), 0);
	check("ops: SYS_UPCALL_STATS has at most one reader", us.readers <= 1,
	    (long)us.readers, 1);
}

/* SW_GET_VNI, SW_GET_SUBNET, SW_LIST_PORTS, SW_GET_POLICY. */
static void
ops_switch(long swd)
{
	vpc_sw_vni_t vni;
	vpc_sw_subnet_t req, sn;
	vpc_sw_policy_t pol;
	vpc_swport_t ports[8];
	vpc_list_req_t lr;
	vpc_id_t port_id;
	size_t vl, i;
	long vmnic;
	int found;

	memset(&vni, 0, sizeof(vni));
	expect("ops: SW_GET_VNI", vctl_n(swd, VPC_OP_SW_GET_VNI, 0, 0, &vni,
	    sizeof(vni)), 0);
	check("ops: SW_GET_VNI reads what SW_SET_VNI set", vni.vni == OPS_VNI,
	    vni.vni, OPS_VNI);

	memset(&req, 0, sizeof(req));
	req.af = VPC_AF_INET;
	memset(&sn, 0, sizeof(sn));
	expect("ops: SW_GET_SUBNET", vctl_n(swd, VPC_OP_SW_GET_SUBNET, &req,
	    sizeof(req), &sn, sizeof(sn)), 0);
	check("ops: SW_GET_SUBNET reads 10.77.0.0/24", sn.prefixlen == 24 &&
	    sn.addr[0] == 10 && sn.addr[1] == 77 && sn.addr[2] == 0,
	    sn.prefixlen, 24);
	expect("ops: SW_GET_SUBNET, key one byte short: EINVAL",
	    vctl_n(swd, VPC_OP_SW_GET_SUBNET, &req, sizeof(req) - 1, &sn,
	    sizeof(sn)), -EINVAL);

	vmnic = add_vmnic_port(swd, ops_port_mac, &port_id);
	check("ops: a vmnic port for SW_LIST_PORTS", vmnic >= 0, vmnic, 0);
	if (vmnic >= 0) {
		memset(&lr, 0, sizeof(lr));
		vl = sizeof(ports);
		expect("ops: SW_LIST_PORTS", vctl(swd, VPC_OP_SW_LIST_PORTS,
		    &lr, sizeof(lr), ports, &vl), 0);
		found = 0;
		for (i = 0; i < vl / sizeof(ports[0]); i++)
			if (memcmp(&ports[i].port_id, &port_id,
			    sizeof(port_id)) == 0 &&
			    memcmp(ports[i].smac, ops_port_mac, 6) == 0)
				found = 1;
		check("ops: SW_LIST_PORTS lists the added port", found &&
		    (long)(vl / sizeof(ports[0])) == port_count(swd),
		    (long)(vl / sizeof(ports[0])), port_count(swd));
		vl = sizeof(ports);
		expect("ops: SW_LIST_PORTS, key one byte short: EINVAL",
		    vctl(swd, VPC_OP_SW_LIST_PORTS, &lr, sizeof(lr) - 1,
		    ports, &vl), -EINVAL);
		expect("ops: the port deleted", del_port(swd, &port_id), 0);
		sc3(SYS_close, vmnic, 0, 0);
	}

	memset(&pol, 0xff, sizeof(pol));
	expect("ops: SW_GET_POLICY", vctl_n(swd, VPC_OP_SW_GET_POLICY, 0, 0,
	    &pol, sizeof(pol)), 0);
	check("ops: SW_GET_POLICY fills in the default rate",
	    pol.bum == VPC_BUM_LOCAL &&
	    pol.upcall_rate == VPC_UPCALL_RATE_DEFAULT, pol.upcall_rate,
	    VPC_UPCALL_RATE_DEFAULT);
}

/* SW_CAM_DUMP, SW_CAM_DEL, SW_CAM_FLUSH. */
static void
ops_cam(long swd)
{
	vpc_cam_key_t k;
	vpc_cam_flush_t fl;
	vpc_list_req_t lr;
	vpc_sw_cam_t buf[4];
	uint64_t removed = 0;
	size_t vl;
	long before;
	int seen = 0;

	expect("ops: SW_CAM_SET a remote entry", cam_set(swd, ops_cam_mac1),
	    0);
	before = cam_count(swd, ops_cam_mac1, &seen);
	check("ops: SW_CAM_DUMP sees it", before >= 1 && seen, before, 1);
	memset(&lr, 0, sizeof(lr));
	vl = sizeof(buf);
	expect("ops: SW_CAM_DUMP, key one byte short: EINVAL",
	    vctl(swd, VPC_OP_SW_CAM_DUMP, &lr, sizeof(lr) - 1, buf, &vl),
	    -EINVAL);

	memset(&k, 0, sizeof(k));
	memcpy(k.dstmac, ops_cam_mac1, 6);
	expect("ops: SW_CAM_DEL, key one byte short: EINVAL",
	    vctl_n(swd, VPC_OP_SW_CAM_DEL, &k, sizeof(k) - 1, 0, 0), -EINVAL);
	expect("ops: SW_CAM_DEL refused: the entry is still there",
	    cam_get(swd, ops_cam_mac1), 0);
	expect("ops: SW_CAM_DEL", vctl_n(swd, VPC_OP_SW_CAM_DEL, &k,
	    sizeof(k), 0, 0), 0);
	expect("ops: SW_CAM_DEL: SW_CAM_GET ENOENT", cam_get(swd,
	    ops_cam_mac1), -ENOENT);
	check("ops: SW_CAM_DUMP no longer sees it", cam_count(swd,
	    ops_cam_mac1, &seen) == before - 1 && !seen, cam_count(swd,
	    ops_cam_mac1, 0), before - 1);

	expect("ops: SW_CAM_SET two entries", cam_set(swd, ops_cam_mac1) |
	    cam_set(swd, ops_cam_mac2), 0);
	memset(&fl, 0, sizeof(fl));
	fl.vni = VPC_VNI_ANY;
	expect("ops: SW_CAM_FLUSH, key one byte short: EINVAL",
	    vctl_n(swd, VPC_OP_SW_CAM_FLUSH, &fl, sizeof(fl) - 1, &removed,
	    sizeof(removed)), -EINVAL);
	expect("ops: SW_CAM_FLUSH refused: the entries are still there",
	    cam_get(swd, ops_cam_mac1) | cam_get(swd, ops_cam_mac2), 0);
	expect("ops: SW_CAM_FLUSH", vctl_n(swd, VPC_OP_SW_CAM_FLUSH, &fl,
	    sizeof(fl), &removed, sizeof(removed)), 0);
	check("ops: SW_CAM_FLUSH removed both", removed == 2, (long)removed,
	    2);
	check("ops: SW_CAM_FLUSH empties the CAM", cam_count(swd,
	    ops_cam_mac1, 0) == 0, cam_count(swd, ops_cam_mac1, 0), 0);
}

/* SW_NBR_GET, SW_NBR_DUMP, SW_NBR_DEL, SW_NBR_FLUSH. */
static void
ops_nbr(long swd)
{
	static const uint8_t ip1[4] = { 10, 77, 0, 5 }, ip2[4] = { 10, 77, 0, 6 };
	vpc_nbr_key_t k;
	vpc_cam_flush_t fl;
	vpc_list_req_t lr;
	vpc_sw_nbr_t v, buf[4];
	uint64_t removed = 0;
	size_t vl;
	long before;
	int seen = 0;

	expect("ops: SW_NBR_SET a neighbour", nbr_set(swd, ip1, ops_nbr_mac),
	    0);
	memset(&v, 0, sizeof(v));
	expect("ops: SW_NBR_GET", nbr_get(swd, ip1, &v), 0);
	check("ops: SW_NBR_GET reads the MAC set", v.kind == VPC_NBR_FOUND &&
	    memcmp(v.mac, ops_nbr_mac, 6) == 0, v.mac[5], ops_nbr_mac[5]);
	memset(&k, 0, sizeof(k));
	k.af = VPC_AF_INET;
	memcpy(k.addr, ip1, 4);
	expect("ops: SW_NBR_GET, key one byte short: EINVAL",
	    vctl_n(swd, VPC_OP_SW_NBR_GET, &k, sizeof(k) - 1, &v, sizeof(v)),
	    -EINVAL);
	before = nbr_count(swd, ip1, &seen);
	check("ops: SW_NBR_DUMP sees it", before >= 1 && seen, before, 1);
	memset(&lr, 0, sizeof(lr));
	vl = sizeof(buf);
	expect("ops: SW_NBR_DUMP, key one byte short: EINVAL",
	    vctl(swd, VPC_OP_SW_NBR_DUMP, &lr, sizeof(lr) - 1, buf, &vl),
	    -EINVAL);

	expect("ops: SW_NBR_DEL, key one byte short: EINVAL",
	    vctl_n(swd, VPC_OP_SW_NBR_DEL, &k, sizeof(k) - 1, 0, 0), -EINVAL);
	expect("ops: SW_NBR_DEL refused: the neighbour is still there",
	    nbr_get(swd, ip1, &v), 0);
	expect("ops: SW_NBR_DEL", vctl_n(swd, VPC_OP_SW_NBR_DEL, &k,
	    sizeof(k), 0, 0), 0);
	expect("ops: SW_NBR_DEL: SW_NBR_GET ENOENT", nbr_get(swd, ip1, &v),
	    -ENOENT);
	check("ops: SW_NBR_DUMP no longer sees it", nbr_count(swd, ip1,
	    &seen) == before - 1 && !seen, nbr_count(swd, ip1, 0), before - 1);

	expect("ops: SW_NBR_SET two neighbours", nbr_set(swd, ip1,
	    ops_nbr_mac) | nbr_set(swd, ip2, ops_nbr_mac), 0);
	memset(&fl, 0, sizeof(fl));
	fl.vni = VPC_VNI_ANY;
	expect("ops: SW_NBR_FLUSH, key one byte short: EINVAL",
	    vctl_n(swd, VPC_OP_SW_NBR_FLUSH, &fl, sizeof(fl) - 1, &removed,
	    sizeof(removed)), -EINVAL);
	expect("ops: SW_NBR_FLUSH refused: the neighbours are still there",
	    nbr_get(swd, ip1, &v) | nbr_get(swd, ip2, &v), 0);
	expect("ops: SW_NBR_FLUSH", vctl_n(swd, VPC_OP_SW_NBR_FLUSH, &fl,
	    sizeof(fl), &removed, sizeof(removed)), 0);
	check("ops: SW_NBR_FLUSH removed both", removed == 2, (long)removed,
	    2);
	check("ops: SW_NBR_FLUSH empties the table", nbr_count(swd, ip1, 0) ==
	    0, nbr_count(swd, ip1, 0), 0);
}

/* SW_SET_GATEWAY, read back with SW_GET_GATEWAY. */
static void
ops_gateway(long swd)
{
	vpc_sw_gateway_t gw, got;

	memset(&gw, 0, sizeof(gw));
	gw.flags = VPC_GW_ADDR4;
	memcpy(gw.addr4, (uint8_t[]){ 10, 77, 0, 254 }, 4);
	expect("ops: SW_SET_GATEWAY", vctl_n(swd, VPC_OP_SW_SET_GATEWAY, &gw,
	    sizeof(gw), 0, 0), 0);
	memset(&got, 0, sizeof(got));
	expect("ops: SW_GET_GATEWAY", vctl_n(swd, VPC_OP_SW_GET_GATEWAY, 0,
	    0, &got, sizeof(got)), 0);
	check("ops: SW_GET_GATEWAY reads what SW_SET_GATEWAY set",
	    (got.flags & VPC_GW_ADDR4) != 0 && got.has4 &&
	    memcmp(got.addr4, gw.addr4, 4) == 0, got.addr4[3], 254);
	memcpy(gw.addr4, (uint8_t[]){ 10, 77, 0, 253 }, 4);
	expect("ops: SW_SET_GATEWAY, key one byte short: EINVAL",
	    vctl_n(swd, VPC_OP_SW_SET_GATEWAY, &gw, sizeof(gw) - 1, 0, 0),
	    -EINVAL);
	memset(&got, 0, sizeof(got));
	vctl_n(swd, VPC_OP_SW_GET_GATEWAY, 0, 0, &got, sizeof(got));
	check("ops: SW_SET_GATEWAY refused: the gateway unchanged",
	    got.addr4[3] == 254, got.addr4[3], 254);
}

/* NIC_GET_ADDR after NIC_SET_ADDR; NIC_GET_DHCP after NIC_SET_DHCP. */
static void
ops_nic(long nicd)
{
	vpc_nic_addr_t a, got;
	vpc_nic_dhcp_t dh, dgot;

	memset(&a, 0, sizeof(a));
	a.flags = VPC_NIC_ADDR_INET;
	memcpy(a.addr4, (uint8_t[]){ 10, 77, 0, 9 }, 4);
	expect("ops: NIC_SET_ADDR", vctl_n(nicd, VPC_OP_NIC_SET_ADDR, &a,
	    sizeof(a), 0, 0), 0);
	memset(&got, 0, sizeof(got));
	expect("ops: NIC_GET_ADDR", vctl_n(nicd, VPC_OP_NIC_GET_ADDR, 0, 0,
	    &got, sizeof(got)), 0);
	check("ops: NIC_GET_ADDR reads what NIC_SET_ADDR set",
	    got.flags == VPC_NIC_ADDR_INET && memcmp(got.addr4, a.addr4, 4) ==
	    0, got.addr4[3], 9);

	memset(&dh, 0, sizeof(dh));
	dh.flags = VPC_DHCP_ENABLE;
	dh.lease_s = 600;
	dh.ndns = 1;
	memcpy(dh.dns, (uint8_t[]){ 10, 77, 0, 53 }, 4);
	expect("ops: NIC_SET_DHCP", vctl_n(nicd, VPC_OP_NIC_SET_DHCP, &dh,
	    sizeof(dh), 0, 0), 0);
	memset(&dgot, 0, sizeof(dgot));
	expect("ops: NIC_GET_DHCP", vctl_n(nicd, VPC_OP_NIC_GET_DHCP, 0, 0,
	    &dgot, sizeof(dgot)), 0);
	check("ops: NIC_GET_DHCP reads what NIC_SET_DHCP set",
	    dgot.flags == VPC_DHCP_ENABLE && dgot.lease_s == 600 &&
	    dgot.ndns == 1 && memcmp(dgot.dns, dh.dns, 4) == 0,
	    dgot.lease_s, 600);
}

void
ops_checks(void)
{
	vpc_id_t swid = mkid(OPS_ID_SW), nicid = mkid(OPS_ID_NIC);
	vpc_sw_vni_t vni;
	vpc_sw_subnet_t sn;
	long swd, nicd;

	swd = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("ops: a switch", swd >= 0, swd, 0);
	nicd = vopen(&nicid, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("ops: a NIC", nicd >= 0, nicd, 0);
	if (swd < 0 || nicd < 0)
		goto out;
	memset(&vni, 0, sizeof(vni));
	vni.vni = OPS_VNI;
	memset(&sn, 0, sizeof(sn));
	sn.af = VPC_AF_INET;
	sn.prefixlen = 24;
	memcpy(sn.addr, (uint8_t[]){ 10, 77, 0, 0 }, 4);
	expect("ops: SW_SET_VNI", vctl_n(swd, VPC_OP_SW_SET_VNI, &vni,
	    sizeof(vni), 0, 0), 0);
	expect("ops: SW_SET_SUBNET", vctl_n(swd, VPC_OP_SW_SET_SUBNET, &sn,
	    sizeof(sn), 0, 0), 0);

	ops_identity(swd, nicd);
	ops_switch(swd);
	ops_cam(swd);
	ops_nbr(swd);
	ops_gateway(swd);
	ops_nic(nicd);
out:
	/* Uncommitted: closing the last handle takes each object away. */
	if (nicd >= 0)
		sc3(SYS_close, nicd, 0, 0);
	if (swd >= 0)
		sc3(SYS_close, swd, 0, 0);
}
