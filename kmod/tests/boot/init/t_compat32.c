/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_compat32.c: a 32-bit process and the two system calls.  vpc.ko has no
 * freebsd32 entries (docs/freebsd.md says why): a 32-bit program finds the
 * slots (modstat(2) works through freebsd32_modstat) but calling them is
 * nosys(): SIGSYS, which kills it, or ENOSYS if it ignores SIGSYS.
 * /sbin/vpc_init32 (kmod/tests/boot/init32) is that program; boot-test.sh
 * builds it when the toolchain can (clang --target=i386-unknown-freebsd14).
 */
#include "tests.h"
#include "report.h"

#define	VPC_INIT32	"/sbin/vpc_init32"

/* Run vpc_init32 with one argument: its wait status, or -errno. */
static long
run32(const char *mode)
{
	char *argv[3] = { (char *)"vpc_init32", (char *)mode, 0 };
	char *envp[1] = { 0 };
	int status = -1;
	long pid, r;

	pid = sc3(SYS_fork, 0, 0, 0);
	if (pid == 0) {
		sc3(SYS_execve, VPC_INIT32, argv, envp);
		sc3(SYS_exit, 127, 0, 0);
	}
	if (pid < 0)
		return (pid);
	r = sc6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0);
	return (r < 0 ? r : status);
}

void
compat32(void)
{
	long st, fd;

	fd = sc3(SYS_open, VPC_INIT32, O_RDONLY, 0);
	if (fd < 0) {
		note("compat32: no " VPC_INIT32 " (no i386 toolchain): "
		    "32-bit callers not tested");
		return;
	}
	sc3(SYS_close, fd, 0, 0);
	st = run32("ignore");
	check("compat32: a 32-bit process ran (COMPAT_FREEBSD32) and found "
	    "the slots with modfind/modstat", st >= 0 && (st & 0x7f) == 0 &&
	    (((st >> 8) & 0xff) & 9) == 0, st, 0);
	check("compat32: vpc_open(2) from a 32-bit process is ENOSYS "
	    "(SIGSYS ignored)", st >= 0 && (((st >> 8) & 0xff) & 2) == 0, st,
	    0);
	check("compat32: vpc_ctl(2) from a 32-bit process is ENOSYS",
	    st >= 0 && (((st >> 8) & 0xff) & 4) == 0, st, 0);
	st = run32("default");
	expect("compat32: by default the call kills it with SIGSYS",
	    st >= 0 ? st & 0x7f : st, 12);
}
