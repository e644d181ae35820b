/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_seed.c: the seed's two examples through the raw ABI, as written there:
 * a vmnic (GET_TXN, NIC_SET_MAC, NIC_GET_MAC), and a switch built by the
 * retry loop (uplink, router, a vmnic port with VLAN 123, VNI 456 and a
 * descriptor back).
 */
#include "tests.h"
#include "report.h"

/* Seed example 1: a vmnic, GET_TXN, NIC_SET_MAC, NIC_GET_MAC. */
void
seed_nic(void)
{
	vpc_id_t id = mkid(1);
	vpc_vmnic_t mac, got;
	vpc_txn_t txn;
	char name[VPC_IFNAMSIZ];
	size_t vallen;
	long nicd, r;

	nicd = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("seed1: vpc_open(NIC, CREATE) returns a descriptor", nicd >= 0,
	    nicd, 3);
	if (nicd < 0)
		return;
	r = sc3(SYS_fcntl, nicd, F_GETFD, 0);
	expect("seed1: the handle is close-on-exec", r, FD_CLOEXEC);
	txn = get_txn(nicd);
	check("seed1: GET_TXN gives a token", txn > 0, txn, 1);
	memset(&mac, 0, sizeof(mac));
	mac.txn = txn;
	mac.mac[0] = 0x02;
	mac.mac[5] = 0x01;
	expect("seed1: NIC_SET_MAC", vctl_n(nicd, VPC_OP_NIC_SET_MAC, &mac,
	    sizeof(mac), 0, 0), 0);
	memset(&got, 0xff, sizeof(got));
	r = vctl_n(nicd, VPC_OP_NIC_GET_MAC, 0, 0, &got, sizeof(got));
	check("seed1: NIC_GET_MAC gives it back", r == 0 &&
	    memcmp(got.mac, mac.mac, 6) == 0, r, 0);
	memset(&got, 0xff, sizeof(got));
	vallen = sizeof(got);
	r = sc6_indirect(sys_ctl_no, nicd, VPC_OP_NIC_GET_MAC, 0, 0,
	    (long)&vallen, (long)&got);
	check("seed1: the same through syscall(2), as libc's syscall() does it",
	    r == 0 && vallen == sizeof(got) && memcmp(got.mac, mac.mac, 6) == 0,
	    r, 0);
	r = nic_ifname(nicd, name);
	check("seed1: the vmnic has an ifnet (NIC_GET_IFNAME vmnicN)",
	    r == 0 && memcmp(name, "vmnic", 5) == 0, r, 0);
	expect("seed1: close", sc3(SYS_close, nicd, 0, 0), 0);
}

/* Seed example 2: the retry loop; returns the switch handle. */
long
seed_switch(long *vmnicd)
{
	vpc_id_t id = mkid(2);
	vpc_swport_t req, res;
	vpc_switch_t sw;
	vpc_vmnic_t mac;
	long swd, r;
	int tries = 0, retry = 1;

	*vmnicd = -1;
	swd = vopen(&id, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("seed2: vpc_open(SWITCH, CREATE)", swd >= 0, swd, 3);
	if (swd < 0)
		return (swd);
	while (retry && tries++ < 10) {
		vpc_txn_t txn = get_txn(swd);

		memset(&sw, 0, sizeof(sw));
		if (vctl_n(swd, VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw,
		    sizeof(sw)) != 0)
			continue;
		if (sw.num_ports == 0) {
			memset(&req, 0, sizeof(req));
			req.txn = txn;
			req.flags = VPC_FLAG_SWP_UPLINK;
			if (vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req),
			    &res, sizeof(res)) != 0)
				continue;
			req.flags = VPC_FLAG_SWP_ROUTER;
			if (vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req),
			    &res, sizeof(res)) != 0)
				continue;
		}
		memset(&req, 0, sizeof(req));
		req.txn = txn;
		req.vlan_id = 123;
		req.vni = 456;
		req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID |
		    VPC_FLAG_SWP_VNI | VPC_FLAG_SWP_DESCRIPTOR;
		if (vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res,
		    sizeof(res)) != 0)
			continue;
		if ((res.flags & VPC_FLAG_SWP_DESCRIPTOR) != 0)
			*vmnicd = res.descriptor;
		retry = 0;
	}
	check("seed2: the retry loop added uplink, router and vmnic port",
	    !retry, retry, 0);
	check("seed2: the vmnic port came back with a descriptor",
	    *vmnicd >= 0, *vmnicd, 4);
	if (*vmnicd >= 0) {
		r = vctl_n(*vmnicd, VPC_OP_NIC_GET_MAC, 0, 0, &mac, sizeof(mac));
		expect("seed2: the descriptor is a live vmnic handle", r, 0);
		r = sc3(SYS_fcntl, *vmnicd, F_GETFD, 0);
		expect("seed2: the returned descriptor is close-on-exec", r,
		    FD_CLOEXEC);
	}
	memset(&sw, 0, sizeof(sw));
	r = vctl_n(swd, VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw, sizeof(sw));
	check("seed2: 3 ports, VNI 456", r == 0 && sw.num_ports == 3 &&
	    sw.vni == 456, sw.num_ports, 3);
	return (swd);
}
