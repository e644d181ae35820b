/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sys.c: the init's system call stubs, the few libc functions it (and the
 * compiler) needs, its entry point and its ELF note.  See sys.h.
 */
#include "sys.h"

/* The result, or -errno. */
long
sc6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	unsigned char cf;
	long ret;

	__asm__ volatile(
	    "syscall\n\t"
	    "setc %1"
	    : "=a"(ret), "=r"(cf), "+D"(a1), "+S"(a2), "+d"(a3),
	      "+r"(r10), "+r"(r8), "+r"(r9)
	    : "a"(n)
	    : "rcx", "r11", "memory", "cc");
	return (cf ? -ret : ret);
}

/*
 * The same through syscall(2) (SYS_syscall = 0), as libc's syscall() does
 * it for node: the number in rdi, five arguments in registers, the sixth
 * read from the user stack just above the return address (rsp + 8).
 * (-mno-red-zone: this moves the stack pointer.)
 */
long
sc6_indirect(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long frame[2] = { 0, a6 };
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	unsigned char cf;
	long ret;

	__asm__ volatile(
	    "movq %%rsp, %%r12\n\t"
	    "movq %[frame], %%rsp\n\t"
	    "syscall\n\t"
	    "movq %%r12, %%rsp\n\t"
	    "setc %1"
	    : "=a"(ret), "=r"(cf), "+D"(n), "+S"(a1), "+d"(a2),
	      "+r"(r10), "+r"(r8), "+r"(r9)
	    : "a"(0L), [frame] "r"(frame)
	    : "rcx", "r11", "r12", "memory", "cc");
	return (cf ? -ret : ret);
}

/* The compiler may emit calls to these itself. */
void *
memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n-- > 0)
		*p++ = (unsigned char)c;
	return (d);
}

void *
memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n-- > 0)
		*p++ = *q++;
	return (d);
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n > 0; n--, p++, q++)
		if (*p != *q)
			return (*p - *q);
	return (0);
}

size_t
slen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return (n);
}

void
out(const char *s)
{
	sc3(SYS_write, 1, s, slen(s));
}

void
msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	sc3(SYS_nanosleep, &ts, 0, 0);
}

/* poll(2) on one descriptor: its revents, 0 on timeout, or -errno. */
int
poll1(long fd, short events, long ms)
{
	struct pollfd p = { (int)fd, events, 0 };
	long r;

	r = sc3(SYS_poll, &p, 1, ms);
	return (r < 0 ? (int)r : p.revents);
}

/* Entry: the kernel enters with rsp at argc; keep the ABI's alignment. */
__asm__(
    ".text\n"
    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "	xorl %ebp, %ebp\n"
    "	andq $-16, %rsp\n"
    "	call main\n"
    "	movl %eax, %edi\n"
    "	movl $1, %eax\n"
    "	syscall\n"
    "	hlt\n");

/* The FreeBSD ABI note crt1 would carry: NT_FREEBSD_ABI_TAG, 1402000. */
__asm__(
    ".section .note.tag,\"a\",@note\n"
    ".p2align 2\n"
    ".long 8\n"
    ".long 4\n"
    ".long 1\n"
    ".asciz \"FreeBSD\"\n"
    ".long 1402000\n"
    ".previous\n");
