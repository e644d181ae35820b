/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c: the boot test's /sbin/init, a tiny static FreeBSD/amd64 program
 * with no libc (raw system calls only, sys.h) that exercises vpc.ko
 * through the real vpc_open(2)/vpc_ctl(2), the vmnic ifnets, bpf(4), the
 * kernel UDP sockets of a vcc, /dev/vpc_upcall, the router, the port
 * firewall, the NAT and link objects (a link and a VNI 0 uplink on an
 * epair), netgraph as bhyve uses it, VNET
 * jails, process exit, privilege and a 32-bit process, then unloads the
 * module and powers the machine off.  kmod/tests/boot/boot-test.sh
 * builds it from every .c file here:
 *
 *   clang-19 --target=x86_64-unknown-freebsd14 -static -nostdlib \
 *       -ffreestanding -fno-stack-protector -fno-pic -mno-red-zone \
 *       -fuse-ld=lld -Wl,-e,_start -I kmod/include -o init *.c
 *
 * One "VPC-CHECK ok|FAIL <name>" line per check (report.c), and at the end
 * exactly one "VPC-BOOT-RESULT pass=N fail=M" for the harness to parse.
 * The areas, one file each, are listed in tests.h in the order they run.
 */
#include "tests.h"
#include "report.h"

static void
config_loopback(long sock)
{
	expect("setup: lo0 127.0.0.1/8", if_addr4(sock, "lo0", loopback, 8), 0);
	expect("setup: lo0 up", if_up(sock, "lo0"), 0);
}

static int
load(void)
{
	vpc_fileid = sc3(SYS_kldload, "/boot/modules/vpc.ko", 0, 0);
	check("load: kldload vpc.ko", vpc_fileid > 0, vpc_fileid, 2);
	if (vpc_fileid <= 0)
		return (-1);
	sys_open_no = slot("sys/vpc_open");
	sys_ctl_no = slot("sys/vpc_ctl");
	check("load: modfind/modstat give sys/vpc_open's slot",
	    sys_open_no > 0, sys_open_no, 210);
	check("load: modfind/modstat give sys/vpc_ctl's slot",
	    sys_ctl_no > 0 && sys_ctl_no != sys_open_no, sys_ctl_no, 211);
	if (sys_open_no <= 0 || sys_ctl_no <= 0)
		return (-1);
	lput("vpc-init: vpc_open is syscall ");
	lnum(sys_open_no);
	lput(", vpc_ctl is ");
	lnum(sys_ctl_no);
	lflush();
	check("sysctl: net.vpc.objects is 0 after load",
	    sysctl_u64("net.vpc.objects") == 0,
	    (long)sysctl_u64("net.vpc.objects"), 0);
	return (0);
}

/* The seed's examples and everything that is refused. */
static void
abi_area(long sock)
{
	long swd, vmnicd;

	seed_nic();
	swd = seed_switch(&vmnicd);
	if (swd < 0)
		return;
	efault_rows(swd);
	bad_inputs(swd);
	if (vmnicd >= 0) {
		ifnet_rules(sock, vmnicd);
		sc3(SYS_close, vmnicd, 0, 0);
	}
	sc3(SYS_close, swd, 0, 0);
}

/* Everything that runs on the data-path fixture, in order. */
static void
datapath_area(long sock)
{
	struct dp d;

	memset(&d, 0, sizeof(d));
	d.sock = sock;
	if (dp_setup(&d) != 0)
		goto out;
	mtu_rules(&d);
	dp_cam(&d);
	devctl_open(&d);
	up_open(&d);
	devctl_attached(&d);
	if (dp_taps(&d) != 0)
		goto out;
	dp_local(&d);
	dp_remote(&d);
	up_miss(&d);
	up_requeue(&d);
	devctl_detached(&d);
	agent_events(&d);
	up_kqueue(&d);
	up_blocking(&d);
	up_eintr(&d);
	too_big_rules(&d);
	ipv6_underlay(&d);
	bhyve_attach(&d);
	mbuf_pressure(&d);
	invariants("check: the core's invariants hold with traffic in flight");
out:
	dp_teardown(&d);
}

int main(void);

int
main(void)
{
	long fd, sock;

	fd = sc3(SYS_open, "/dev/console", O_RDWR, 0);
	if (fd >= 0) {
		sc3(SYS_dup, fd, 0, 0);
		sc3(SYS_dup, fd, 0, 0);
	}
	out("vpc-init: starting\n");
	sock = sc3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	check("setup: a socket for interface ioctls", sock >= 0, sock, 3);
	config_loopback(sock);
	if (load() == 0) {
		abi_area(sock);
		datapath_area(sock);
		l3_checks(sock);
		router_checks(sock);
		fw_checks(sock);
		nat_checks();
		link_checks(sock);
		ops_checks();
		dhcp_ra(sock);
		nesting_guard(sock);
		vnet_jail(sock);
		destroy_race(sock);
		lifetime();
		privilege();
		compat32();
		invariants("check: the core's invariants hold after all that");
		unload_rules(vpc_fileid);
	}
	result();
	/* Root is read-only and nothing was written: skip the syncer. */
	sc3(SYS_reboot, RB_POWEROFF | RB_NOSYNC, 0, 0);
	for (;;)
		sc3(SYS_exit, 0, 0, 0);
}
