/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report.h: how the init reports.  One line per check, written with one
 * write(2) so that kernel messages do not land inside it:
 *
 *   VPC-CHECK ok <name>
 *   VPC-CHECK FAIL <name> (got G, want W)
 *
 * and at the end exactly one "VPC-BOOT-RESULT pass=N fail=M" for
 * boot-test.sh to parse.  Other lines start with "vpc-init:".
 */
#ifndef _VPC_INIT_REPORT_H_
#define	_VPC_INIT_REPORT_H_

extern int npass, nfail;

void	lput(const char *s);
void	lnum(long v);
void	lflush(void);
/* A "vpc-init: ..." line: a note, not a check. */
void	note(const char *s);
void	note_num(const char *s, long v);

void	check(const char *name, int ok, long got, long want);
/* A call that must return exactly `want` (0, or -errno). */
void	expect(const char *name, long got, long want);
/* The same, the name in two parts: "<prefix>: <what>". */
void	checkp(const char *prefix, const char *what, int ok, long got,
	    long want);
void	expectp(const char *prefix, const char *what, long got, long want);
void	result(void);

/*
 * Run fn(arg) in a child process, after prep(parg) (setuid, jail_attach,
 * ...; nonzero is a failed prep), counting the child's checks here.
 * Descriptors are inherited across fork: handles go with them.
 */
void	in_child(const char *what, long (*prep)(long), long parg,
	    void (*fn)(long), long arg);
/* The same in two steps, for a parent that has work to do meanwhile. */
long	child_start(const char *what, long (*prep)(long), long parg,
	    void (*fn)(long), long arg, int *countfd);
void	child_finish(const char *what, long pid, int countfd);

#endif /* !_VPC_INIT_REPORT_H_ */
