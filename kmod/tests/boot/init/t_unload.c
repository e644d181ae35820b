/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_unload.c: unloading is refused (EBUSY) while a handle, the device, a
 * committed object or a firewall rule set exists, kldunload -f included
 * (it skips only MOD_QUIESCE; MOD_UNLOAD refuses too), and succeeds once
 * all are gone (a switch, a NAT and a link bound to an epair dying just
 * before it: their deferred frees must run before the text goes, and the
 * epair is left as it was); the module loads and unloads
 * again, with a loader tunable set.
 */
#include "tests.h"
#include "report.h"

static long
kldunload_force(long fileid)
{
	return (sc3(SYS_kldunloadf, fileid, LINKER_UNLOAD_FORCE, 0));
}

void
unload_rules(long fileid)
{
	vpc_id_t id = mkid(20), swid = mkid(21), natid = mkid(22);
	vpc_nat_config_t nc;
	vpc_swport_t req, res;
	vpc_vmnic_t mac;
	vpc_fw_set_t set;
	vpc_fw_set_ref_t ref;
	char lname[VPC_IFNAMSIZ];
	long h, natd, r, sock, linkd;

	h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("unload: a NIC to commit", h >= 0, h, 3);
	expect("unload: refused (EBUSY) while a handle is open",
	    sc3(SYS_kldunload, fileid, 0, 0), -EBUSY);
	expect("unload: kldunload -f is refused (EBUSY) too",
	    kldunload_force(fileid), -EBUSY);
	memset(&mac, 0, sizeof(mac));
	mac.mac[0] = 0x02;
	mac.mac[5] = 0x20;
	expect("unload: and the handle still works after it",
	    vctl_n(h, VPC_OP_NIC_SET_MAC, &mac, sizeof(mac), 0, 0), 0);
	expect("unload: COMMIT", commit(h), 0);
	sc3(SYS_close, h, 0, 0);
	check("sysctl: net.vpc.handles is 0, net.vpc.objects is 1",
	    sysctl_u64("net.vpc.handles") == 0 &&
	    sysctl_u64("net.vpc.objects") == 1,
	    (long)sysctl_u64("net.vpc.objects"), 1);
	expect("unload: refused (EBUSY) while a committed object exists",
	    sc3(SYS_kldunload, fileid, 0, 0), -EBUSY);
	expect("unload: kldunload -f: EBUSY while a committed object exists",
	    kldunload_force(fileid), -EBUSY);
	check("unload: the syscalls are still there after the refusals",
	    slot("sys/vpc_ctl") == sys_ctl_no, slot("sys/vpc_ctl"),
	    sys_ctl_no);
	h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN);
	check("unload: OPEN the committed NIC", h >= 0, h, 3);
	memset(&mac, 0, sizeof(mac));
	r = vctl_n(h, VPC_OP_NIC_GET_MAC, 0, 0, &mac, sizeof(mac));
	check("unload: it kept its state through kldunload -f", r == 0 &&
	    mac.mac[5] == 0x20, r, 0);
	invariants("unload: the core's invariants after kldunload -f");
	expect("unload: DESTROY it", destroy(h), 0);
	sc3(SYS_close, h, 0, 0);
	check("sysctl: no objects, no handles left",
	    sysctl_u64("net.vpc.objects") == 0 &&
	    sysctl_u64("net.vpc.handles") == 0,
	    (long)sysctl_u64("net.vpc.objects"), 0);

	/*
	 * A firewall rule set is configuration too, though not an object:
	 * it holds the module as a committed object does.
	 */
	memset(&set, 0, sizeof(set));
	set.id = 20;
	expect("unload: a firewall rule set alone", vctl_n(VPC_HANDLE_NONE,
	    VPC_OP_FW_SET_CREATE, &set, sizeof(set), 0, 0), 0);
	expect("unload: refused (EBUSY) while a rule set exists",
	    sc3(SYS_kldunload, fileid, 0, 0), -EBUSY);
	expect("unload: kldunload -f: EBUSY while a rule set exists",
	    kldunload_force(fileid), -EBUSY);
	memset(&ref, 0, sizeof(ref));
	ref.id = 20;
	expect("unload: the rule set kept, then destroyed",
	    vctl_n(VPC_HANDLE_NONE, VPC_OP_FW_SET_DESTROY, &ref, sizeof(ref),
	    0, 0), 0);

	/*
	 * A switch that dies just before the unload (nothing in between):
	 * its memory goes in a network epoch callback that defers more
	 * frees of its own (its CAM entries and table).  The unload must
	 * wait for those too, or they run in a module that is gone.
	 */
	h = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("unload: a switch to die just before it", h >= 0, h, 3);
	if (h >= 0) {
		memset(&req, 0, sizeof(req));
		req.flags = VPC_FLAG_SWP_VMNIC;
		memcpy(req.smac, mac_a, 6);
		expect("unload: a vmnic port with a MAC (a CAM entry)",
		    vctl_n(h, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res,
		    sizeof(res)), 0);
	}
	/*
	 * A NAT too: its engine's sweeper is a timer, and a new table size
	 * (SET_CONFIG max_flows) retires the first engine through an epoch
	 * callback; the second goes the same way when the NAT dies.
	 */
	natd = vopen(&natid, WORD(VPC_TYPE_NAT), VPC_FLAG_CREATE);
	check("unload: a NAT to die just before it", natd >= 0, natd, 3);
	if (natd >= 0) {
		memset(&nc, 0, sizeof(nc));
		nc.max_flows = 64;
		expect("unload: NAT_SET_CONFIG 64 flows (a fresh engine)",
		    vctl_n(natd, VPC_OP_NAT_SET_CONFIG, &nc, sizeof(nc), 0, 0),
		    0);
		sc3(SYS_close, natd, 0, 0);
	}
	/*
	 * And a link bound to an epair: dying, it takes its hook out of the
	 * ifnet (after the epoch) and the hook's memory goes in a deferred
	 * free; the departure handler goes with the module.
	 */
	sock = sc3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	linkd = sock >= 0 ? link_unload_prep(sock, lname) : -1;
	if (h >= 0)
		sc3(SYS_close, h, 0, 0);	/* uncommitted: it dies */
	if (linkd >= 0)
		sc3(SYS_close, linkd, 0, 0);	/* and so does the link */
	r = sc3(SYS_kldunload, fileid, 0, 0);
	expect("unload: kldunload succeeds now", r, 0);
	expect("unload: sys/vpc_open is gone", sc3(SYS_modfind,
	    "sys/vpc_open", 0, 0), -ENOENT);
	if (linkd >= 0)
		link_unload_after(sock, lname);
	if (sock >= 0)
		sc3(SYS_close, sock, 0, 0);

	/*
	 * Everything comes back, and goes again: nothing was left behind.
	 * This time with a loader tunable in the kernel environment, whose
	 * handler the kernel runs while it registers the sysctls, before
	 * any SYSINIT of ours.  The last unload is forced: with nothing in
	 * use, -f unloads as plain kldunload does.
	 */
	expect("reload: kenv net.vpc.upcall.timeout_ms=500",
	    sc6(SYS_kenv, KENV_SET, (long)"net.vpc.upcall.timeout_ms",
	    (long)"500", 4, 0, 0), 0);
	fileid = sc3(SYS_kldload, "/boot/modules/vpc.ko", 0, 0);
	check("reload: kldload again", fileid > 0, fileid, 2);
	if (fileid <= 0)
		return;
	expect("reload: the tunable took (net.vpc.upcall.timeout_ms)",
	    sysctl_int("net.vpc.upcall.timeout_ms"), 500);
	sys_open_no = slot("sys/vpc_open");
	sys_ctl_no = slot("sys/vpc_ctl");
	h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("reload: a vmnic again (cloner, device, syscalls all back)",
	    h >= 0, h, 3);
	if (h >= 0)
		sc3(SYS_close, h, 0, 0);
	expect("reload: and kldunload -f with nothing in use unloads",
	    kldunload_force(fileid), 0);
}
