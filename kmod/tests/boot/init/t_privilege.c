/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_privilege.c: a child at uid 1000 cannot create, open or read global
 * state (EPERM), cannot open the device (EACCES), can still use a
 * privileged handle it inherited, and reads (only) with
 * net.vpc.unprivileged_read=1.
 */
#include "tests.h"
#include "report.h"

static vpc_id_t priv_id;

static long
become_user(long uid)
{
	return (sc3(SYS_setuid, uid, 0, 0));
}

static void
unpriv_default(long h)
{
	vpc_id_t id = mkid(41);
	vpc_sys_stats_t st;
	vpc_vmnic_t mac;

	expect("priv: unprivileged vpc_open(CREATE) is EPERM",
	    vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE), -EPERM);
	expect("priv: unprivileged vpc_open(OPEN) is EPERM (unprivileged_read=0)",
	    vopen(&priv_id, WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN), -EPERM);
	expect("priv: unprivileged global ops are EPERM (unprivileged_read=0)",
	    vctl_n(-1, VPC_OP_SYS_STATS, 0, 0, &st, sizeof(st)), -EPERM);
	expect("priv: /dev/vpc_upcall is root's (EACCES)", sc3(SYS_open,
	    "/dev/vpc_upcall", O_RDONLY | O_NONBLOCK, 0), -EACCES);
	memset(&mac, 0, sizeof(mac));
	mac.mac[0] = 0x02;
	mac.mac[5] = 0x42;
	expect("priv: a privileged handle inherited over fork still mutates",
	    vctl_n(h, VPC_OP_NIC_SET_MAC, &mac, sizeof(mac), 0, 0), 0);
}

static void
unpriv_read(long h __attribute__((unused)))
{
	vpc_id_t id = mkid(42);
	vpc_sys_stats_t st;
	vpc_vmnic_t mac;
	char why[120];
	size_t whylen = sizeof(why);
	long r;

	r = vopen(&priv_id, WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN);
	check("priv: with unprivileged_read=1, OPEN gives a read-only handle",
	    r >= 0, r, 3);
	memset(&mac, 0, sizeof(mac));
	expect("priv: which can read", vctl_n(r, VPC_OP_NIC_GET_MAC, 0, 0,
	    &mac, sizeof(mac)), 0);
	check("priv: (the MAC the other child set)", mac.mac[5] == 0x42,
	    mac.mac[5], 0x42);
	mac.txn = 0;
	expect("priv: but not mutate (EPERM)", vctl_n(r, VPC_OP_NIC_SET_MAC,
	    &mac, sizeof(mac), 0, 0), -EPERM);
	expect("priv: global reads work", vctl_n(-1, VPC_OP_SYS_STATS, 0, 0,
	    &st, sizeof(st)), 0);
	expect("priv: CREATE is still EPERM", vopen(&id, WORD(VPC_TYPE_NIC),
	    VPC_FLAG_CREATE), -EPERM);
	expect("priv: net.vpc.check (it holds the control lock) is EPERM",
	    sc6(SYS___sysctlbyname, (long)"net.vpc.check",
	    (long)slen("net.vpc.check"), (long)why, (long)&whylen, 0, 0),
	    -EPERM);
}

void
privilege(void)
{
	long h;

	priv_id = mkid(40);
	h = vopen(&priv_id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("priv: root opens a NIC", h >= 0, h, 3);
	if (h < 0)
		return;
	in_child("priv", become_user, 1000, unpriv_default, h);
	expect("priv: root sets net.vpc.unprivileged_read=1",
	    sysctl_set_int("net.vpc.unprivileged_read", 1), 0);
	in_child("priv", become_user, 1000, unpriv_read, h);
	expect("priv: and back to 0", sysctl_set_int(
	    "net.vpc.unprivileged_read", 0), 0);
	sc3(SYS_close, h, 0, 0);
}
