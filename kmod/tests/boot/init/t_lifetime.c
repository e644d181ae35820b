/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_lifetime.c: a handle is a file: released when its process exits; a
 * committed object outlives it; renames; EIDRM and POLLHUP after DESTROY.
 */
#include "tests.h"
#include "report.h"

void
lifetime(void)
{
	vpc_id_t loose = mkid(30), kept = mkid(31);
	vpc_nic_ifname_t ifn;
	long pid, h, h2, r;
	int status = -1;

	pid = sc3(SYS_fork, 0, 0, 0);
	if (pid == 0) {
		/* The child: one object left open, one committed; exit. */
		h = vopen(&loose, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
		h2 = vopen(&kept, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
		if (h < 0 || h2 < 0 || commit(h2) != 0)
			sc3(SYS_exit, 1, 0, 0);
		sc3(SYS_exit, 0, 0, 0);
	}
	check("life: fork", pid > 0, pid, 2);
	if (pid <= 0)
		return;
	r = sc6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0);
	check("life: the child made its objects and exited", r == pid &&
	    status == 0, status, 0);
	expect("life: its uncommitted vmnic died with its process",
	    vopen(&loose, WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN), -ENOENT);
	check("sysctl: net.vpc.handles is 0 after the exit",
	    sysctl_u64("net.vpc.handles") == 0,
	    (long)sysctl_u64("net.vpc.handles"), 0);
	h = vopen(&kept, WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN);
	check("life: its committed vmnic outlived it", h >= 0, h, 3);
	h2 = vopen(&kept, WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN);
	memset(&ifn, 0, sizeof(ifn));
	memcpy(ifn.name, "tenant0", 8);
	expect("life: NIC_SET_IFNAME renames the ifnet", vctl_n(h,
	    VPC_OP_NIC_SET_IFNAME, &ifn, sizeof(ifn), 0, 0), 0);
	memset(&ifn, 0, sizeof(ifn));
	r = vctl_n(h2, VPC_OP_NIC_GET_IFNAME, 0, 0, &ifn, sizeof(ifn));
	check("life: NIC_GET_IFNAME says tenant0", r == 0 &&
	    memcmp(ifn.name, "tenant0", 8) == 0, r, 0);
	memset(&ifn, 0, sizeof(ifn));
	memcpy(ifn.name, "lo0", 4);
	expect("life: renaming it to an existing interface is EEXIST",
	    vctl_n(h, VPC_OP_NIC_SET_IFNAME, &ifn, sizeof(ifn), 0, 0),
	    -EEXIST);
	expect("life: poll(2) on a live handle: writable",
	    poll1(h2, POLLIN | POLLOUT, 0), POLLOUT);
	expect("life: DESTROY through one handle", destroy(h), 0);
	expect("life: the other handle gets EIDRM", vctl_n(h2, VPC_OP_NOP, 0,
	    0, 0, 0), -EIDRM);
	expect("life: and poll(2) says POLLHUP", poll1(h2, POLLIN | POLLOUT,
	    0), POLLHUP);
	invariants("life: SYS_CHECK holds with handles to a destroyed object open");
	sc3(SYS_close, h, 0, 0);
	sc3(SYS_close, h2, 0, 0);
}
