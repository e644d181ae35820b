/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_init32.c: a 32-bit (i386, freebsd32 ABI) program the boot test's
 * init runs, to show what a 32-bit process meets: vpc.ko registers its two
 * system calls for the native ABI only, so the slot modfind(2)/modstat(2)
 * give (modstat answers through freebsd32_modstat) is nosys() in the
 * freebsd32 table: SIGSYS, which kills by default, or ENOSYS when SIGSYS
 * is ignored.  Static, no libc, like the init; boot-test.sh builds it:
 *
 *   clang-19 --target=i386-unknown-freebsd14 -static -nostdlib \
 *       -ffreestanding -fno-pic -fuse-ld=lld -Wl,-e,_start -o vpc_init32 \
 *       vpc_init32.c
 *
 *   vpc_init32 ignore    ignore SIGSYS; exit 0 when both calls say ENOSYS
 *   vpc_init32 default   leave SIGSYS alone: expect to die of it
 *
 * Exit status bits: 1 no slot found, 2 vpc_open not ENOSYS, 4 vpc_ctl not
 * ENOSYS, 8 sigaction failed.
 *
 * FreeBSD i386 system calls: int $0x80, eax = number, the arguments on the
 * stack above a return address slot; the carry flag says error.
 */
typedef unsigned int uint32_t;

#define	SYS_exit	1
#define	SYS_modstat	301
#define	SYS_modfind	303
#define	SYS_sigaction	416
#define	SIGSYS		12
#define	SIG_IGN		1
#define	ENOSYS		78

/* compat/freebsd32/freebsd32.h: struct module_stat32. */
struct module_stat32 {
	int		version;
	char		name[1024];
	int		refs;
	int		id;
	uint32_t	data;		/* modspecific32_t: intval first */
};

struct sigaction32 {
	uint32_t	sa_handler;
	int		sa_flags;
	uint32_t	sa_mask[4];
};

_Static_assert(sizeof(struct module_stat32) == 1040, "module_stat32");

/* Six arguments: the result, or -errno. */
static int
sc(int n, int a1, int a2, int a3, int a4, int a5, int a6)
{
	int args[7] = { 0, a1, a2, a3, a4, a5, a6 };	/* [0]: return slot */
	unsigned char cf;
	int ret;

	__asm__ volatile(
	    "movl %%esp, %%edi\n\t"
	    "movl %[args], %%esp\n\t"
	    "int $0x80\n\t"
	    "movl %%edi, %%esp\n\t"
	    "setc %1"
	    : "=a"(ret), "=q"(cf)
	    : "a"(n), [args] "r"(args)
	    : "edi", "ecx", "edx", "memory", "cc");
	return (cf ? -ret : ret);
}

static int
slot(const char *name)
{
	struct module_stat32 st;
	char *p = (char *)&st;
	unsigned i;
	int id;

	for (i = 0; i < sizeof(st); i++)
		p[i] = 0;
	st.version = sizeof(st);
	if ((id = sc(SYS_modfind, (int)name, 0, 0, 0, 0, 0)) < 0)
		return (id);
	if ((id = sc(SYS_modstat, id, (int)&st, 0, 0, 0, 0)) < 0)
		return (id);
	return ((int)st.data);
}

int main32(int argc, char **argv);

int
main32(int argc, char **argv)
{
	struct sigaction32 sa = { SIG_IGN, 0, { 0, 0, 0, 0 } };
	unsigned char id[16] = { 0x76, 0x70 };
	int fails = 0, open_no, ctl_no, vallen = 0;

	if (argc > 1 && argv[1][0] == 'i' &&
	    sc(SYS_sigaction, SIGSYS, (int)&sa, 0, 0, 0, 0) != 0)
		fails |= 8;
	open_no = slot("sys/vpc_open");
	ctl_no = slot("sys/vpc_ctl");
	if (open_no <= 0 || ctl_no <= 0)
		return (fails | 1);
	/* vpc_open(id, type word (two 32-bit halves), flags) */
	if (sc(open_no, (int)id, 0x101, 0, 1, 0, 0) != -ENOSYS)
		fails |= 2;
	/* vpc_ctl(VPC_HANDLE_NONE, NOP, 0, NULL, &vallen, NULL) */
	if (sc(ctl_no, -1, 0, 0, 0, (int)&vallen, 0) != -ENOSYS)
		fails |= 4;
	return (fails);
}

/* Entry: esp points at argc, then argv. */
__asm__(
    ".text\n"
    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "	xorl %ebp, %ebp\n"
    "	movl %esp, %eax\n"
    "	andl $-16, %esp\n"
    "	subl $8, %esp\n"
    "	leal 4(%eax), %ecx\n"
    "	pushl %ecx\n"
    "	pushl (%eax)\n"
    "	call main32\n"
    "	pushl %eax\n"
    "	pushl $0\n"
    "	movl $1, %eax\n"
    "	int $0x80\n"
    "	hlt\n");

/* NT_FREEBSD_ABI_TAG, 1402000: the freebsd32 ABI picks up this binary. */
__asm__(
    ".section .note.tag,\"a\",@note\n"
    ".p2align 2\n"
    ".long 8\n"
    ".long 4\n"
    ".long 1\n"
    ".asciz \"FreeBSD\"\n"
    ".long 1402000\n"
    ".previous\n");
