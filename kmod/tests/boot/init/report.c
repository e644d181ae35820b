/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report.c: VPC-CHECK lines, the summary, and checks made in a child.
 */
#include "sys.h"
#include "report.h"

int npass, nfail;

static char line[256];
static size_t linelen;

void
lput(const char *s)
{
	while (*s != '\0' && linelen < sizeof(line) - 1)
		line[linelen++] = *s++;
}

void
lnum(long v)
{
	char buf[24];
	int i = sizeof(buf) - 1;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	buf[i] = '\0';
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[--i] = '-';
	lput(&buf[i]);
}

void
lflush(void)
{
	lput("\n");
	if (line[linelen - 1] != '\n')
		line[linelen - 1] = '\n';
	sc3(SYS_write, 1, line, linelen);
	sc3(SYS_ioctl, 1, TIOCDRAIN, 0);	/* before the kernel prints more */
	linelen = 0;
}

void
note(const char *s)
{
	lput("vpc-init: ");
	lput(s);
	lflush();
}

void
note_num(const char *s, long v)
{
	lput("vpc-init: ");
	lput(s);
	lnum(v);
	lflush();
}

static void
verdict(const char *prefix, const char *name, int ok, long got, long want)
{
	lput(ok ? "VPC-CHECK ok " : "VPC-CHECK FAIL ");
	if (prefix != NULL) {
		lput(prefix);
		lput(": ");
	}
	lput(name);
	if (ok)
		npass++;
	else {
		nfail++;
		lput(" (got ");
		lnum(got);
		lput(", want ");
		lnum(want);
		lput(")");
	}
	lflush();
}

void
check(const char *name, int ok, long got, long want)
{
	verdict(NULL, name, ok, got, want);
}

void
expect(const char *name, long got, long want)
{
	verdict(NULL, name, got == want, got, want);
}

void
checkp(const char *prefix, const char *what, int ok, long got, long want)
{
	verdict(prefix, what, ok, got, want);
}

void
expectp(const char *prefix, const char *what, long got, long want)
{
	verdict(prefix, what, got == want, got, want);
}

void
result(void)
{
	lput("VPC-BOOT-RESULT pass=");
	lnum(npass);
	lput(" fail=");
	lnum(nfail);
	lflush();
}

long
child_start(const char *what, long (*prep)(long), long parg, void (*fn)(long),
    long arg, int *countfd)
{
	int fds[2], counts[2];
	long pid, r;

	*countfd = -1;
	if (sc3(SYS_pipe2, fds, 0, 0) < 0) {
		checkp(what, "pipe2", 0, -1, 0);
		return (-1);
	}
	pid = sc3(SYS_fork, 0, 0, 0);
	if (pid == 0) {
		sc3(SYS_close, fds[0], 0, 0);
		npass = nfail = 0;
		if (prep != NULL && (r = prep(parg)) != 0)
			checkp(what, "the child's setup", 0, r, 0);
		else
			fn(arg);
		counts[0] = npass;
		counts[1] = nfail;
		sc3(SYS_write, fds[1], counts, sizeof(counts));
		sc3(SYS_exit, 0, 0, 0);
	}
	sc3(SYS_close, fds[1], 0, 0);
	if (pid < 0) {
		sc3(SYS_close, fds[0], 0, 0);
		checkp(what, "fork", 0, pid, 1);
		return (pid);
	}
	*countfd = fds[0];
	return (pid);
}

void
child_finish(const char *what, long pid, int countfd)
{
	int counts[2] = { 0, 0 }, status = -1;

	if (pid <= 0)
		return;
	if (sc3(SYS_read, countfd, counts, sizeof(counts)) == sizeof(counts)) {
		npass += counts[0];
		nfail += counts[1];
	} else
		checkp(what, "the child ran", 0, pid, 1);
	sc3(SYS_close, countfd, 0, 0);
	sc6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0);
}

void
in_child(const char *what, long (*prep)(long), long parg, void (*fn)(long),
    long arg)
{
	int countfd;
	long pid;

	pid = child_start(what, prep, parg, fn, arg, &countfd);
	child_finish(what, pid, countfd);
}
