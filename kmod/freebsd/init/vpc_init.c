/*
 * vpc_init.c: the boot test's /sbin/init, a tiny static FreeBSD/amd64
 * program with no libc (raw system calls only) that exercises vpc.ko
 * through the real vpc_open(2)/vpc_ctl(2) (direct and through syscall(2)
 * as libc does it), the vmnic ifnets, bpf(4), the kernel UDP socket of a
 * vcc, /dev/vpc_upcall (read, poll, kqueue, blocking), process exit,
 * privilege (a child at uid 1000), then unloads the module and powers the
 * machine off.  kmod/freebsd/boot-test.sh builds it:
 *
 *   clang-19 --target=x86_64-unknown-freebsd14 -static -nostdlib \
 *       -ffreestanding -fno-stack-protector -fno-pic -mno-red-zone \
 *       -fuse-ld=lld -Wl,-e,_start -I kmod/include -o init vpc_init.c
 *
 * (-mno-red-zone: sc6_indirect moves the stack pointer.)
 *
 * It prints one line per check, "VPC-CHECK ok <name>" or
 * "VPC-CHECK FAIL <name> ...", and at the end exactly one line
 * "VPC-BOOT-RESULT pass=N fail=M" for the harness to parse.
 *
 * FreeBSD amd64 system calls: rax = number, arguments in rdi rsi rdx r10 r8
 * r9, `syscall`; the carry flag says error, and then rax is the errno.
 */
#include "vpc.h"
#include "freebsd_layouts.h"        /* struct module_stat */

/* ---- The few FreeBSD constants and layouts we need ------------------------- */

#define	SYS_exit		1
#define	SYS_fork		2
#define	SYS_read		3
#define	SYS_write		4
#define	SYS_open		5
#define	SYS_close		6
#define	SYS_wait4		7
#define	SYS_setuid		23
#define	SYS_dup			41
#define	SYS_munmap		73
#define	SYS_mprotect		74
#define	SYS_ioctl		54
#define	SYS_reboot		55
#define	SYS_fcntl		92
#define	SYS_socket		97
#define	SYS_poll		209
#define	SYS_nanosleep		240
#define	SYS_modstat		301
#define	SYS_modfind		303
#define	SYS_kldload		304
#define	SYS_kldunload		305
#define	SYS_kqueue		362
#define	SYS_kenv		390
#define	SYS_pipe2		542
#define	SYS_kevent		560
#define	SYS___sysctlbyname	570
#define	SYS_mmap		477
#define	PROT_READ	0x01
#define	PROT_WRITE	0x02
#define	MAP_PRIVATE	0x0002
#define	MAP_ANON	0x1000
#define	PAGE_SIZE	4096

#define	EPERM		1
#define	ENOENT		2
#define	ENXIO		6
#define	E2BIG		7
#define	EBADF		9
#define	EACCES		13
#define	EFAULT		14
#define	EBUSY		16
#define	EEXIST		17
#define	EINVAL		22
#define	ENOTTY		25
#define	EAGAIN		35
#define	EOPNOTSUPP	45
#define	EIDRM		82

#define	O_RDONLY	0x0000
#define	O_RDWR		0x0002
#define	O_NONBLOCK	0x0004
#define	F_GETFD		1
#define	F_SETFL		4
#define	FD_CLOEXEC	1
#define	KENV_SET	1
#define	RB_NOSYNC	0x0004
#define	RB_POWEROFF	0x4000
#define	AF_INET		2
#define	SOCK_DGRAM	2
#define	IFF_UP		0x1
#define	POLLIN		0x0001
#define	POLLOUT		0x0004
#define	POLLHUP		0x0010

struct kevent {
	unsigned long	ident;
	short		filter;
	unsigned short	flags;
	unsigned int	fflags;
	long		data;
	void		*udata;
	uint64_t	ext[4];
};
#define	EVFILT_READ	(-1)
#define	EV_ADD		0x0001

struct pollfd {
	int		fd;
	short		events;
	short		revents;
};

#define	IOCPARM_MASK	0x1fff
#define	IOC_VOID	0x20000000UL
#define	IOC_OUT		0x40000000UL
#define	IOC_IN		0x80000000UL
#define	IOC(io, g, n, len) \
	((io) | (((unsigned long)(len) & IOCPARM_MASK) << 16) | ((g) << 8) | (n))
#define	IOW(g, n, len)	IOC(IOC_IN, g, n, len)
#define	IOR(g, n, len)	IOC(IOC_OUT, g, n, len)
#define	IOWR(g, n, len)	IOC(IOC_IN | IOC_OUT, g, n, len)

struct sockaddr_in {
	uint8_t		sin_len;
	uint8_t		sin_family;
	uint16_t	sin_port;
	uint8_t		sin_addr[4];
	char		sin_zero[8];
};

struct ifreq {
	char		ifr_name[16];
	union {
		short	flags[2];
		int	mtu;
		char	pad[16];
		void	*align;
	} ifr_ifru;
};

struct ifaliasreq {
	char		ifra_name[16];
	struct sockaddr_in ifra_addr;
	struct sockaddr_in ifra_broadaddr;
	struct sockaddr_in ifra_mask;
	int		ifra_vhid;
};

struct timeval {
	long		tv_sec;
	long		tv_usec;
};

struct timespec {
	long		tv_sec;
	long		tv_nsec;
};

#define	TIOCDRAIN	IOC(IOC_VOID, 't', 94, 0)
#define	FIONBIO		IOW('f', 126, sizeof(int))
#define	SIOCSIFFLAGS	IOW('i', 16, sizeof(struct ifreq))
#define	SIOCGIFFLAGS	IOWR('i', 17, sizeof(struct ifreq))
#define	SIOCGIFMTU	IOWR('i', 51, sizeof(struct ifreq))
#define	SIOCSIFMTU	IOW('i', 52, sizeof(struct ifreq))
#define	SIOCAIFADDR	IOW('i', 43, sizeof(struct ifaliasreq))
#define	SIOCIFDESTROY	IOW('i', 121, sizeof(struct ifreq))
#define	SIOCIFCREATE2	IOWR('i', 124, sizeof(struct ifreq))
#define	BIOCGBLEN	IOR('B', 102, sizeof(unsigned))
#define	BIOCSETIF	IOW('B', 108, sizeof(struct ifreq))
#define	BIOCSRTIMEOUT	IOW('B', 109, sizeof(struct timeval))
#define	BIOCIMMEDIATE	IOW('B', 112, sizeof(unsigned))
#define	BIOCSHDRCMPLT	IOW('B', 117, sizeof(unsigned))

_Static_assert(sizeof(struct ifreq) == 32, "ifreq");
_Static_assert(sizeof(struct ifaliasreq) == 68, "ifaliasreq");

/* ---- System calls ------------------------------------------------------------ */

/* The result, or -errno. */
static long
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

#define	sc3(n, a, b, c)	sc6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)

/*
 * The same through syscall(2) (SYS_syscall = 0), as libc's syscall() does
 * it for node: the number in rdi, five arguments in registers, the sixth
 * read from the user stack just above the return address (rsp + 8).
 */
static long
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

void *memset(void *, int, size_t);
void *memcpy(void *, const void *, size_t);
int memcmp(const void *, const void *, size_t);

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

static size_t
slen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return (n);
}

static void
out(const char *s)
{
	sc3(SYS_write, 1, s, slen(s));
}

static void
msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	sc3(SYS_nanosleep, &ts, 0, 0);
}

static int
poll1(long fd, short events, long ms)
{
	struct pollfd p = { (int)fd, events, 0 };
	long r;

	r = sc3(SYS_poll, &p, 1, ms);
	return (r < 0 ? (int)r : p.revents);
}

/* ---- Checks ------------------------------------------------------------------ */

static int npass, nfail;

/* One write(2) per line, so kernel messages do not land inside it. */
static char line[256];
static size_t linelen;

static void
lput(const char *s)
{
	while (*s != '\0' && linelen < sizeof(line) - 1)
		line[linelen++] = *s++;
}

static void
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

static void
lflush(void)
{
	lput("\n");
	if (line[linelen - 1] != '\n')
		line[linelen - 1] = '\n';
	sc3(SYS_write, 1, line, linelen);
	sc3(SYS_ioctl, 1, TIOCDRAIN, 0);	/* before the kernel prints more */
	linelen = 0;
}

static void
check(const char *name, int ok, long got, long want)
{
	if (ok) {
		npass++;
		lput("VPC-CHECK ok ");
		lput(name);
		lflush();
		return;
	}
	nfail++;
	lput("VPC-CHECK FAIL ");
	lput(name);
	lput(" (got ");
	lnum(got);
	lput(", want ");
	lnum(want);
	lput(")");
	lflush();
}

/* A call that must return exactly `want` (0, or -errno). */
static void
expect(const char *name, long got, long want)
{
	check(name, got == want, got, want);
}

/* ---- The ABI through the real syscalls ---------------------------------------- */

static long sys_open_no, sys_ctl_no, vpc_fileid;

static long
slot(const char *modname)
{
	struct module_stat st;
	long id;

	id = sc3(SYS_modfind, modname, 0, 0);
	if (id < 0)
		return (id);
	memset(&st, 0, sizeof(st));
	st.version = sizeof(st);
	id = sc3(SYS_modstat, id, &st, 0);
	if (id < 0)
		return (id);
	return (st.data.intval);
}

static long
vopen(const vpc_id_t *id, vpc_type_t type, vpc_flags_t flags)
{
	return (sc6(sys_open_no, (long)id, (long)type, (long)flags, 0, 0, 0));
}

/* vpc_ctl; *vallen in and out as in vpc.h.  0 or -errno. */
static long
vctl(long h, vpc_op_t op, const void *key, size_t keylen, void *val,
    size_t *vallen)
{
	return (sc6(sys_ctl_no, h, (long)op, (long)keylen, (long)key,
	    (long)vallen, (long)val));
}

/* The usual fixed-size case: a value of exactly n bytes (or none). */
static long
vctl_n(long h, vpc_op_t op, const void *key, size_t keylen, void *val,
    size_t n)
{
	size_t vallen = n;

	return (vctl(h, op, key, keylen, val, &vallen));
}

/* The core's own invariant checker (VPC_OP_SYS_CHECK), on live state. */
static void
invariants(const char *name)
{
	vpc_check_result_t res;
	long r;

	memset(&res, 0, sizeof(res));
	r = vctl_n(-1, VPC_OP_SYS_CHECK, 0, 0, &res, sizeof(res));
	if (r == 0 && res.result != 0) {
		lput("vpc-init: invariant failed: ");
		res.why[sizeof(res.why) - 1] = '\0';
		lput(res.why);
		lflush();
	}
	check(name, r == 0 && res.result == 0 && res.checks > 0, r != 0 ? r :
	    res.result, 0);
}

static vpc_id_t
mkid(unsigned n)
{
	vpc_id_t id;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0x76;		/* 'v' */
	id.bytes[1] = 0x70;
	id.bytes[6] = 0x40;		/* version 4 */
	id.bytes[8] = 0x80;
	id.bytes[14] = (uint8_t)(n >> 8);
	id.bytes[15] = (uint8_t)n;
	return (id);
}

static vpc_txn_t
get_txn(long h)
{
	vpc_txn_t txn = 0;

	if (vctl_n(h, VPC_OP_GET_TXN, 0, 0, &txn, sizeof(txn)) != 0)
		return (-1);
	return (txn);
}

static long
nic_ifname(long h, char name[VPC_IFNAMSIZ])
{
	vpc_nic_ifname_t v;
	long r;

	memset(&v, 0, sizeof(v));
	r = vctl_n(h, VPC_OP_NIC_GET_IFNAME, 0, 0, &v, sizeof(v));
	memcpy(name, v.name, VPC_IFNAMSIZ);
	return (r);
}

static void
copyname(char *dst, const char *src)
{
	size_t i;

	for (i = 0; i < 15 && src[i] != '\0'; i++)
		dst[i] = src[i];
	for (; i < 16; i++)
		dst[i] = '\0';
}

static long
if_up(long s, const char *name)
{
	struct ifreq ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, name);
	if ((r = sc3(SYS_ioctl, s, SIOCGIFFLAGS, &ifr)) < 0)
		return (r);
	ifr.ifr_ifru.flags[0] |= IFF_UP;
	return (sc3(SYS_ioctl, s, SIOCSIFFLAGS, &ifr));
}

static uint64_t
sysctl_u64(const char *name)
{
	uint64_t v = ~(uint64_t)0;
	size_t len = sizeof(v);

	if (sc6(SYS___sysctlbyname, (long)name, (long)slen(name), (long)&v,
	    (long)&len, 0, 0) < 0)
		return (~(uint64_t)0);
	return (v);
}

static long
sysctl_int(const char *name)
{
	int v = -1;
	size_t len = sizeof(v);
	long r;

	r = sc6(SYS___sysctlbyname, (long)name, (long)slen(name), (long)&v,
	    (long)&len, 0, 0);
	return (r < 0 ? r : v);
}

static long
sysctl_set_int(const char *name, int v)
{
	return (sc6(SYS___sysctlbyname, (long)name, (long)slen(name), 0, 0,
	    (long)&v, sizeof(v)));
}

/* Is there an event containing what on /dev/devctl (non-blocking)? */
static int
devctl_has(long fd, const char *what)
{
	static char ev[4096];
	size_t wl = slen(what);
	long n, i;
	int tries;

	for (tries = 0; fd >= 0 && tries < 20;) {
		n = sc3(SYS_read, fd, ev, sizeof(ev) - 1);
		if (n < 0) {		/* drained: wait a little for more */
			tries++;
			msleep(50);
			continue;
		}
		for (i = 0; i + (long)wl <= n; i++)
			if (memcmp(ev + i, what, wl) == 0)
				return (1);
	}
	return (0);
}

/* ---- bpf(4): frames in and out of a vmnic --------------------------------------- */

struct tap {
	long		fd;
	unsigned	blen;
	uint8_t		buf[4096];
};

static long
tap_open(struct tap *t, const char *ifname)
{
	struct timeval tv = { 0, 300000 };
	struct ifreq ifr;
	unsigned one = 1;
	long r;

	t->fd = sc3(SYS_open, "/dev/bpf", O_RDWR, 0);
	if (t->fd < 0)
		return (t->fd);
	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, ifname);
	if ((r = sc3(SYS_ioctl, t->fd, BIOCSETIF, &ifr)) < 0 ||
	    (r = sc3(SYS_ioctl, t->fd, BIOCIMMEDIATE, &one)) < 0 ||
	    (r = sc3(SYS_ioctl, t->fd, BIOCSHDRCMPLT, &one)) < 0 ||
	    (r = sc3(SYS_ioctl, t->fd, BIOCSRTIMEOUT, &tv)) < 0 ||
	    (r = sc3(SYS_ioctl, t->fd, BIOCGBLEN, &t->blen)) < 0)
		return (r);
	if (t->blen > sizeof(t->buf))
		return (-EINVAL);
	return (0);
}

#define	TEST_ETHERTYPE	0x88b5		/* IEEE local experimental */

static long
tap_send(struct tap *t, const uint8_t dst[6], const uint8_t src[6], uint8_t tag)
{
	uint8_t f[64];

	memset(f, 0, sizeof(f));
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = TEST_ETHERTYPE >> 8;
	f[13] = TEST_ETHERTYPE & 0xff;
	f[14] = tag;
	return (sc3(SYS_write, t->fd, f, sizeof(f)));
}

/*
 * Wait up to ~3 s for our test frame with this tag (the stack's own
 * IPv6 chatter on an interface that just came up is flooded too).
 */
static int
tap_expect(struct tap *t, const uint8_t dst[6], uint8_t tag)
{
	long n, off;
	int tries;

	for (tries = 0; tries < 10; tries++) {
		n = sc3(SYS_read, t->fd, t->buf, t->blen);
		if (n < 0)
			return (0);
		for (off = 0; off + 26 <= n;) {
			uint32_t caplen;
			uint16_t hdrlen;
			const uint8_t *f;

			memcpy(&caplen, t->buf + off + 16, 4);
			memcpy(&hdrlen, t->buf + off + 24, 2);
			f = t->buf + off + hdrlen;
			if (caplen >= 15 && memcmp(f, dst, 6) == 0 &&
			    f[12] == (TEST_ETHERTYPE >> 8) &&
			    f[13] == (TEST_ETHERTYPE & 0xff) && f[14] == tag)
				return (1);
			off += (hdrlen + caplen + 7) & ~7L;	/* BPF_WORDALIGN */
		}
	}
	return (0);
}

/* The Internet checksum (RFC 1071): 0 over a range carrying a valid one. */
static uint16_t
cksum(const uint8_t *b, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

/*
 * Wait up to ~3 s for an ICMP frame to dst (the stack's own chatter comes
 * too); copy it out.  Its length, or 0.
 */
static long
tap_expect_icmp(struct tap *t, const uint8_t dst[6], uint8_t *out, size_t max)
{
	long n, off;
	int tries;

	for (tries = 0; tries < 10; tries++) {
		n = sc3(SYS_read, t->fd, t->buf, t->blen);
		if (n < 0)
			return (0);
		for (off = 0; off + 26 <= n;) {
			uint32_t caplen;
			uint16_t hdrlen;
			const uint8_t *f;

			memcpy(&caplen, t->buf + off + 16, 4);
			memcpy(&hdrlen, t->buf + off + 24, 2);
			f = t->buf + off + hdrlen;
			if (caplen >= 42 && caplen <= max &&
			    memcmp(f, dst, 6) == 0 && f[12] == 0x08 &&
			    f[13] == 0 && f[23] == 1) {
				memcpy(out, f, caplen);
				return (caplen);
			}
			off += (hdrlen + caplen + 7) & ~7L;	/* BPF_WORDALIGN */
		}
	}
	return (0);
}

/* ---- The tests ---------------------------------------------------------------- */

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0xa, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0xa, 0x02 };
static const uint8_t mac_x[6] = { 0x02, 0, 0, 0, 0xa, 0x99 };	/* remote */
static const uint8_t mac_y[6] = { 0x02, 0, 0, 0, 0xa, 0x77 };	/* unknown */
static const uint8_t mac_z[6] = { 0x02, 0, 0, 0, 0xa, 0x66 };	/* unknown */
static const uint8_t mac_w[6] = { 0x02, 0, 0, 0, 0xa, 0x55 };	/* unknown */
static const uint8_t mac_v[6] = { 0x02, 0, 0, 0, 0xa, 0x44 };	/* unknown */
static const uint8_t loopback[4] = { 127, 0, 0, 1 };

#define	WORD(t)	VPC_TYPE_WORD(t)

/* Seed example 1: a vmnic, GET_TXN, NIC_SET_MAC, NIC_GET_MAC. */
static void
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

/*
 * An error must mean nothing happened, EFAULT included.  The kernel copies
 * an op's result out after the op ran; an op that changes state must fail
 * with EFAULT *before* it runs when that copy-out cannot succeed: a NULL
 * value buffer, *vallen or the value buffer in read-only memory, a buffer
 * that runs into an unmapped page.  Each row checks the errno, that the
 * switch still has its ports and the kernel its handles, and that no
 * descriptor number was used up.
 */
static long
port_count(long swd)
{
	vpc_switch_t sw;

	memset(&sw, 0, sizeof(sw));
	if (vctl_n(swd, VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw, sizeof(sw)) != 0)
		return (-1);
	return (sw.num_ports);
}

static void
efault_row(long swd, const char *name, void *val, size_t *vallen)
{
	vpc_swport_t req;
	uint64_t handles = sysctl_u64("net.vpc.handles");
	long ports = port_count(swd), free_fd, fd, r;
	char what[96];
	size_t n;

	free_fd = sc3(SYS_dup, 0, 0, 0);	/* the number a new fd would get */
	sc3(SYS_close, free_fd, 0, 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	r = vctl(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), val, vallen);
	n = slen(name);
	memcpy(what, name, n);
	memcpy(what + n, ": EFAULT", 9);
	expect(what, r, -EFAULT);
	memcpy(what + n, ": no port added", 16);
	check(what, port_count(swd) == ports, port_count(swd), ports);
	memcpy(what + n, ": no handle left", 17);
	check(what, sysctl_u64("net.vpc.handles") == handles,
	    (long)sysctl_u64("net.vpc.handles"), (long)handles);
	fd = sc3(SYS_dup, 0, 0, 0);
	memcpy(what + n, ": no descriptor used up", 24);
	check(what, fd == free_fd, fd, free_fd);
	if (fd >= 0)
		sc3(SYS_close, fd, 0, 0);
}

static void
efault_rows(long swd)
{
	static const uint8_t mac_q[6] = { 0x02, 0, 0, 0, 0xe, 0xf };
	vpc_sw_cam_t cam;
	vpc_cam_key_t key;
	size_t vallen = sizeof(vpc_swport_t), *ro_len;
	char *page, *two;
	long r;

	page = (char *)sc6(SYS_mmap, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANON, -1, 0);
	two = (char *)sc6(SYS_mmap, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANON, -1, 0);
	check("efault: mmap for the test buffers", (long)page > 0 &&
	    (long)two > 0, (long)page, 1);
	if ((long)page <= 0 || (long)two <= 0)
		return;
	ro_len = (size_t *)(void *)page;
	*ro_len = sizeof(vpc_swport_t);
	sc3(SYS_mprotect, (long)page, PAGE_SIZE, PROT_READ);
	sc3(SYS_munmap, (long)(two + PAGE_SIZE), PAGE_SIZE, 0);

	efault_row(swd, "efault: NULL value buffer, *vallen 88", 0, &vallen);
	efault_row(swd, "efault: *vallen in read-only memory",
	    two, ro_len);
	efault_row(swd, "efault: value buffer in read-only memory",
	    page + 64, &vallen);
	efault_row(swd, "efault: value buffer ends in an unmapped page",
	    two + PAGE_SIZE - 40, &vallen);

	/* CAM_SET changes state too: its 8-byte result cannot land. */
	memset(&cam, 0, sizeof(cam));
	memcpy(cam.dstmac, mac_q, 6);
	cam.kind = VPC_CAM_NEGATIVE;
	cam.ttl_ms = 60000;
	vallen = sizeof(vpc_cam_set_result_t);
	r = vctl(swd, VPC_OP_SW_CAM_SET, &cam, sizeof(cam), page, &vallen);
	expect("efault: CAM_SET with a read-only result buffer: EFAULT", r,
	    -EFAULT);
	memset(&key, 0, sizeof(key));
	memcpy(key.dstmac, mac_q, 6);
	r = vctl_n(swd, VPC_OP_SW_CAM_GET, &key, sizeof(key), &cam, sizeof(cam));
	expect("efault: and the entry was not installed", r, -ENOENT);

	/* A read-only op with a bad buffer changed nothing either way. */
	vallen = sizeof(vpc_switch_t);
	r = vctl(swd, VPC_OP_SW_GET_PORT_COUNT, 0, 0, page, &vallen);
	expect("efault: GET_PORT_COUNT into read-only memory: EFAULT", r,
	    -EFAULT);
	sc3(SYS_munmap, (long)page, PAGE_SIZE, 0);
	sc3(SYS_munmap, (long)two, PAGE_SIZE, 0);
	invariants("efault: the core's invariants after the EFAULT rows");
}

/* Seed example 2: the retry loop; returns the switch handle. */
static long
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
	efault_rows(swd);
	return (swd);
}

static void
bad_inputs(long swd, long vmnicd)
{
	vpc_id_t id = mkid(3), missing = mkid(4), sw2id = mkid(5);
	vpc_vmnic_t mac;
	vpc_sw_vni_t vni;
	vpc_swport_t req, res;
	vpc_switch_t sw;
	size_t vallen;
	long nicd, sw2, h;
	static uint8_t big[VPC_CTL_MAX_KEYLEN + 1];

	nicd = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("bad: a NIC to try things on", nicd >= 0, nicd, 3);
	memset(&mac, 0, sizeof(mac));
	mac.mac[0] = 0x02;
	mac.mac[5] = 0x05;
	expect("bad: keylen one short is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac) - 1, 0, 0), -EINVAL);
	expect("bad: keylen one long is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac) + 1, 0, 0), -EINVAL);
	expect("bad: vallen one long is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_GET_MAC, 0, 0, &mac, sizeof(mac) + 1), -EINVAL);
	mac.mac[0] = 0x01;
	expect("bad: a multicast MAC is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac), 0, 0), -EINVAL);
	memset(mac.mac, 0, 6);
	expect("bad: an all-zero MAC is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac), 0, 0), -EINVAL);
	expect("bad: a switch op on a NIC is ENOTTY", vctl_n(nicd,
	    VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw, sizeof(sw)), -ENOTTY);
	expect("bad: an unknown op is ENOTTY", vctl_n(nicd, 9999, 0, 0, 0, 0),
	    -ENOTTY);
	expect("bad: a NULL key with keylen 12 is EFAULT", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, 0, sizeof(mac), 0, 0), -EFAULT);
	expect("bad: keylen over the cap is E2BIG", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, big, sizeof(big), 0, 0), -E2BIG);
	vallen = sizeof(mac);
	expect("bad: a NULL value buffer is EFAULT", vctl(nicd,
	    VPC_OP_NIC_GET_MAC, 0, 0, 0, &vallen), -EFAULT);
	expect("bad: a NULL vallen pointer for a valued op is EINVAL",
	    vctl(nicd, VPC_OP_NIC_GET_MAC, 0, 0, &mac, 0), -EINVAL);
	expect("bad: a switch op with no handle is EBADF", vctl_n(-1,
	    VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw, sizeof(sw)), -EBADF);
	expect("bad: a descriptor that is not a handle is EBADF", vctl_n(1,
	    VPC_OP_GET_TXN, 0, 0, &vallen, 4), -EBADF);
	h = nicd;
	sc3(SYS_close, nicd, 0, 0);
	expect("bad: a closed handle is EBADF", vctl_n(h, VPC_OP_NOP, 0, 0, 0,
	    0), -EBADF);

	expect("bad: a garbage type word is EINVAL", vopen(&id, 0xdeadbeef,
	    VPC_FLAG_CREATE), -EINVAL);
	expect("bad: a bare VPC_TYPE_NIC as the word is EINVAL", vopen(&id,
	    VPC_TYPE_NIC, VPC_FLAG_CREATE), -EINVAL);
	expect("bad: two flags at once is EINVAL", vopen(&id,
	    WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE | VPC_FLAG_OPEN), -EINVAL);
	expect("bad: OPEN of a missing id is ENOENT", vopen(&missing,
	    WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN), -ENOENT);
	expect("bad: a NULL id is EFAULT", vopen(0, WORD(VPC_TYPE_NIC),
	    VPC_FLAG_CREATE), -EFAULT);
	h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("bad: CREATE again after the last close (it died)", h >= 0, h, 3);
	expect("bad: CREATE of an id in use is EEXIST", vopen(&id,
	    WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE), -EEXIST);
	expect("bad: OPEN as another type is ENOENT", vopen(&id,
	    WORD(VPC_TYPE_SWITCH), VPC_FLAG_OPEN), -ENOENT);
	if (h >= 0)
		sc3(SYS_close, h, 0, 0);

	/* A second switch for VNI and VLAN checks. */
	sw2 = vopen(&sw2id, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("bad: a second switch", sw2 >= 0, sw2, 3);
	memset(&vni, 0, sizeof(vni));
	vni.vni = 1u << 24;
	expect("bad: VNI 2^24 is EINVAL", vctl_n(sw2, VPC_OP_SW_SET_VNI, &vni,
	    sizeof(vni), 0, 0), -EINVAL);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID;
	req.vlan_id = 0;
	expect("bad: VLAN 0 is EINVAL", vctl_n(sw2, VPC_OP_SW_ADD_PORT, &req,
	    sizeof(req), &res, sizeof(res)), -EINVAL);
	req.vlan_id = 4095;
	expect("bad: VLAN 4095 is EINVAL", vctl_n(sw2, VPC_OP_SW_ADD_PORT,
	    &req, sizeof(req), &res, sizeof(res)), -EINVAL);
	req.flags = VPC_FLAG_SWP_ROUTER | VPC_FLAG_SWP_DESCRIPTOR;
	req.vlan_id = 0;
	expect("bad: a descriptor for a router port is EINVAL", vctl_n(sw2,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    -EINVAL);
	sc3(SYS_close, sw2, 0, 0);

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	expect("bad: a second uplink is EEXIST", vctl_n(swd,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    -EEXIST);
	expect("bad: a vmnic op on a switch is ENOTTY", vctl_n(swd,
	    VPC_OP_NIC_GET_MAC, 0, 0, &mac, sizeof(mac)), -ENOTTY);
	(void)vmnicd;
}

/* The vmnic ifnet belongs to its object: "ifconfig destroy/create" refused. */
static void
ifnet_rules(long sock, long vmnicd)
{
	struct ifreq ifr;
	char name[VPC_IFNAMSIZ];

	if (nic_ifname(vmnicd, name) != 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, name);
	expect("ifnet: ifconfig vmnicN destroy is EBUSY while the object lives",
	    sc3(SYS_ioctl, sock, SIOCIFDESTROY, &ifr), -EBUSY);
	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, "vmnic");
	expect("ifnet: ifconfig vmnic create is EOPNOTSUPP",
	    sc3(SYS_ioctl, sock, SIOCIFCREATE2, &ifr), -EOPNOTSUPP);
}

/* if_mtu of an interface, or -errno. */
static long
if_mtu(long sock, const char *name)
{
	struct ifreq ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, name);
	if ((r = sc3(SYS_ioctl, sock, SIOCGIFMTU, &ifr)) < 0)
		return (r);
	return (ifr.ifr_ifru.mtu);
}

static long
if_set_mtu(long sock, const char *name, int mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, name);
	ifr.ifr_ifru.mtu = mtu;
	return (sc3(SYS_ioctl, sock, SIOCSIFMTU, &ifr));
}

static uint64_t
generation(long h)
{
	vpc_obj_info_t info;

	memset(&info, 0, sizeof(info));
	(void)vctl_n(h, VPC_OP_GET_INFO, 0, 0, &info, sizeof(info));
	return (info.generation);
}

/*
 * MTUs: vmnic A behind the vcc (IPv4, MTU 1500) defaults to 1450, and its
 * ifnet's if_mtu follows NIC_SET_MTU, the default, and the vcc; "ifconfig
 * mtu" goes through the core; what cannot fit is EINVAL and changes nothing.
 */
static void
mtu_rules(long sock, long a, const char *na, long vccd, const vpc_vcc_t *vcc)
{
	vpc_vcc_t vcopy = *vcc, *vc = &vcopy;
	vpc_nic_mtu_t m;
	uint64_t gen;
	long r;

	memset(vc->l2_ifname, 0, sizeof(vc->l2_ifname));
	memset(&m, 0, sizeof(m));
	r = vctl_n(a, VPC_OP_NIC_GET_MTU, 0, 0, &m, sizeof(m));
	check("mtu: a vmnic behind a 1500 IPv4 underlay gets 1450", r == 0 &&
	    m.mtu == 1450 && m.fit == 1450 && m.flags == VPC_NIC_MTU_AUTO,
	    r == 0 ? (long)m.mtu : r, 1450);
	expect("mtu: and so does its ifnet", if_mtu(sock, na), 1450);
	memset(&m, 0, sizeof(m));
	m.mtu = 1400;
	expect("mtu: NIC_SET_MTU 1400", vctl_n(a, VPC_OP_NIC_SET_MTU, &m,
	    sizeof(m), 0, 0), 0);
	expect("mtu: if_mtu follows NIC_SET_MTU", if_mtu(sock, na), 1400);
	gen = generation(a);
	m.mtu = 1500;
	expect("mtu: more than the underlay carries is EINVAL", vctl_n(a,
	    VPC_OP_NIC_SET_MTU, &m, sizeof(m), 0, 0), -EINVAL);
	m.mtu = 1279;
	expect("mtu: less than 1280 is EINVAL", vctl_n(a, VPC_OP_NIC_SET_MTU,
	    &m, sizeof(m), 0, 0), -EINVAL);
	expect("mtu: ifconfig mtu 1500 (over the underlay) is EINVAL",
	    if_set_mtu(sock, na, 1500), -EINVAL);
	memset(&m, 0, sizeof(m));
	r = vctl_n(a, VPC_OP_NIC_GET_MTU, 0, 0, &m, sizeof(m));
	check("mtu: ...and none of that changed anything", r == 0 &&
	    m.mtu == 1400 && m.flags == 0 && generation(a) == gen &&
	    if_mtu(sock, na) == 1400, r == 0 ? (long)m.mtu : r, 1400);
	expect("mtu: ifconfig mtu 1300 goes through the core",
	    if_set_mtu(sock, na, 1300), 0);
	memset(&m, 0, sizeof(m));
	r = vctl_n(a, VPC_OP_NIC_GET_MTU, 0, 0, &m, sizeof(m));
	check("mtu: NIC_GET_MTU says 1300", r == 0 && m.mtu == 1300 &&
	    if_mtu(sock, na) == 1300, r == 0 ? (long)m.mtu : r, 1300);
	memset(&m, 0, sizeof(m));
	m.mtu = 9000;
	m.flags = VPC_NIC_MTU_FORCE;
	expect("mtu: 9000 with FORCE", vctl_n(a, VPC_OP_NIC_SET_MTU, &m,
	    sizeof(m), 0, 0), 0);
	expect("mtu: if_mtu 9000", if_mtu(sock, na), 9000);
	memset(&m, 0, sizeof(m));
	expect("mtu: back to the default", vctl_n(a, VPC_OP_NIC_SET_MTU, &m,
	    sizeof(m), 0, 0), 0);
	expect("mtu: if_mtu 1450 again", if_mtu(sock, na), 1450);
	vc->mtu = 9000;
	expect("mtu: the vcc's MTU to 9000", vctl_n(vccd, VPC_OP_VCC_SET, vc,
	    sizeof(*vc), 0, 0), 0);
	expect("mtu: the default follows: if_mtu 8950", if_mtu(sock, na), 8950);
	vc->mtu = 0;
	expect("mtu: the vcc's MTU back to 1500", vctl_n(vccd, VPC_OP_VCC_SET,
	    vc, sizeof(*vc), 0, 0), 0);
	expect("mtu: if_mtu 1450", if_mtu(sock, na), 1450);
}

/*
 * A VM at 1500 behind a 1450 vmnic: a 1514-byte IPv4 frame with DF to
 * remote X gets ICMP fragmentation needed (MTU 1450) back on vmnicA, made
 * by the core in an mbuf of os_pkt_alloc's; without DF it is only dropped.
 */
static void
too_big_rules(struct tap *ta, long a, long swd, long vccd)
{
	static const uint8_t src_ip[4] = { 10, 9, 0, 1 }, dst_ip[4] = { 10, 9, 0, 99 };
	static uint8_t f[1514], icmp[1514];
	vpc_sw_stats_t st;
	vpc_vcc_stats_t vst;
	vpc_nic_mtu_t m;
	uint64_t tx0;
	uint16_t c;
	long n, i;

	memset(&vst, 0, sizeof(vst));
	vctl_n(vccd, VPC_OP_VCC_GET_STATS, 0, 0, &vst, sizeof(vst));
	tx0 = vst.c[VPC_VCCSTAT_TX];
	memset(&m, 0, sizeof(m));
	m.mtu = 1500;
	m.flags = VPC_NIC_MTU_FORCE;
	expect("too big: vmnicA at 1500 (FORCE: bpf writes up to if_mtu)",
	    vctl_n(a, VPC_OP_NIC_SET_MTU, &m, sizeof(m), 0, 0), 0);
	memcpy(f, mac_x, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = 1500 >> 8;
	f[17] = 1500 & 0xff;
	f[20] = 0x40;				/* DF */
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, src_ip, 4);
	memcpy(f + 30, dst_ip, 4);
	for (i = 34; i < (long)sizeof(f); i++)
		f[i] = (uint8_t)i;
	c = cksum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	n = sc3(SYS_write, ta->fd, f, sizeof(f));
	check("too big: a 1514-byte frame with DF written on vmnicA",
	    n == (long)sizeof(f), n, (long)sizeof(f));
	n = tap_expect_icmp(ta, mac_a, icmp, sizeof(icmp));
	check("too big: ICMP comes back on vmnicA, 576 bytes of IPv4",
	    n == 14 + 576, n, 14 + 576);
	if (n == 14 + 576) {
		check("too big: from X's MAC and IP, to A's",
		    memcmp(icmp + 6, mac_x, 6) == 0 &&
		    memcmp(icmp + 26, dst_ip, 4) == 0 &&
		    memcmp(icmp + 30, src_ip, 4) == 0, 0, 0);
		expect("too big: the IP header checksum is valid",
		    cksum(icmp + 14, 20), 0);
		check("too big: type 3 code 4, next-hop MTU 1450", icmp[34] == 3 &&
		    icmp[35] == 4 && (icmp[40] << 8 | icmp[41]) == 1450,
		    icmp[40] << 8 | icmp[41], 1450);
		expect("too big: the ICMP checksum is valid",
		    cksum(icmp + 34, 576 - 20), 0);
		check("too big: it quotes the datagram", memcmp(icmp + 42, f + 14,
		    576 - 28) == 0, 0, 0);
	}
	f[20] = 0;				/* no DF: no answer */
	f[24] = f[25] = 0;
	c = cksum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	n = sc3(SYS_write, ta->fd, f, sizeof(f));
	check("too big: the same without DF", n == (long)sizeof(f), n,
	    (long)sizeof(f));
	expect("too big: gets no answer", tap_expect_icmp(ta, mac_a, icmp,
	    sizeof(icmp)), 0);
	memset(&st, 0, sizeof(st));
	vctl_n(swd, VPC_OP_SW_GET_STATS, 0, 0, &st, sizeof(st));
	memset(&vst, 0, sizeof(vst));
	vctl_n(vccd, VPC_OP_VCC_GET_STATS, 0, 0, &vst, sizeof(vst));
	check("too big: both counted, one answered, none sent to the underlay",
	    st.c[VPC_SWSTAT_DROP_TOO_BIG] == 2 &&
	    st.c[VPC_SWSTAT_ICMP_TOO_BIG] == 1 && vst.c[VPC_VCCSTAT_TX] == tx0,
	    (long)st.c[VPC_SWSTAT_DROP_TOO_BIG], 2);
	memset(&m, 0, sizeof(m));
	expect("too big: vmnicA back to the default MTU",
	    vctl_n(a, VPC_OP_NIC_SET_MTU, &m, sizeof(m), 0, 0), 0);
}

/*
 * The data path: a switch with VNI 789, an uplink into a vcc on 127.0.0.1,
 * two vmnic ports A and B.  Frames go in through bpf on vmnicA.
 */
static void
datapath(long sock)
{
	vpc_id_t vccid = mkid(10), swid = mkid(11);
	struct tap ta, tb;
	vpc_vcc_t vc, vcgot;
	vpc_swport_t req, res;
	vpc_sw_cam_t cam, camgot;
	vpc_cam_key_t key;
	vpc_cam_set_result_t setres;
	vpc_sw_stats_t st;
	vpc_vcc_stats_t vst;
	vpc_upcall_req_t rec[4];
	vpc_upcall_ans_t ans;
	int32_t ansres;
	char na[VPC_IFNAMSIZ], nb[VPC_IFNAMSIZ];
	long vccd, swd, a = -1, b = -1, up, up2, devctl, r, i;
	int one = 1;
	size_t vallen;

	vccd = vopen(&vccid, WORD(VPC_TYPE_VCC), VPC_FLAG_CREATE);
	check("data: a vcc", vccd >= 0, vccd, 3);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	memcpy(vc.addr4, loopback, 4);
	expect("data: VCC_SET 127.0.0.1:4789 (kernel UDP socket bound)",
	    vctl_n(vccd, VPC_OP_VCC_SET, &vc, sizeof(vc), 0, 0), 0);
	memset(&vcgot, 0, sizeof(vcgot));
	r = vctl_n(vccd, VPC_OP_VCC_GET, 0, 0, &vcgot, sizeof(vcgot));
	check("data: VCC_GET round trip", r == 0 && vcgot.udp_port == 4789 &&
	    memcmp(vcgot.addr4, loopback, 4) == 0, r, 0);
	expect("data: VCC_SET again (the sockets are replaced)",
	    vctl_n(vccd, VPC_OP_VCC_SET, &vc, sizeof(vc), 0, 0), 0);
	memcpy(vc.l2_ifname, "lo0", 4);
	expect("data: a raw L2 uplink (VNI 0) is EOPNOTSUPP on FreeBSD",
	    vctl_n(vccd, VPC_OP_VCC_SET, &vc, sizeof(vc), 0, 0), -EOPNOTSUPP);

	swd = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("data: a switch", swd >= 0, swd, 3);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_VNI;
	req.vni = 789;
	req.peer_id = vccid;
	expect("data: uplink into the vcc, VNI 789", vctl_n(swd,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_a, 6);
	r = vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res,
	    sizeof(res));
	if (r == 0)
		a = res.descriptor;
	check("data: vmnic port A", r == 0 && a >= 0, r, 0);
	memcpy(req.smac, mac_b, 6);
	r = vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res,
	    sizeof(res));
	if (r == 0)
		b = res.descriptor;
	check("data: vmnic port B", r == 0 && b >= 0, r, 0);
	if (a < 0 || b < 0 || nic_ifname(a, na) != 0 || nic_ifname(b, nb) != 0)
		goto out;
	expect("data: ifconfig vmnicA up", if_up(sock, na), 0);
	expect("data: ifconfig vmnicB up", if_up(sock, nb), 0);
	mtu_rules(sock, a, na, vccd, &vc);

	memset(&cam, 0, sizeof(cam));
	memcpy(cam.dstmac, mac_x, 6);
	cam.kind = VPC_CAM_REMOTE;
	cam.af = VPC_AF_INET;
	memcpy(cam.addr, loopback, 4);
	cam.ttl_ms = 600000;
	memset(&setres, 0, sizeof(setres));
	r = vctl_n(swd, VPC_OP_SW_CAM_SET, &cam, sizeof(cam), &setres,
	    sizeof(setres));
	check("data: CAM_SET a remote MAC behind 127.0.0.1", r == 0 &&
	    setres.applied == 1, r, 0);
	memset(&key, 0, sizeof(key));
	memcpy(key.dstmac, mac_x, 6);
	memset(&camgot, 0, sizeof(camgot));
	r = vctl_n(swd, VPC_OP_SW_CAM_GET, &key, sizeof(key), &camgot,
	    sizeof(camgot));
	check("data: CAM_GET gives it back", r == 0 &&
	    camgot.kind == VPC_CAM_REMOTE && camgot.vni == 789 &&
	    memcmp(camgot.addr, loopback, 4) == 0 && camgot.ttl_ms > 0, r, 0);

	devctl = sc3(SYS_open, "/dev/devctl", O_RDONLY | O_NONBLOCK, 0);
	if (devctl >= 0)	/* devctl(4) only heeds FIONBIO */
		sc3(SYS_ioctl, devctl, FIONBIO, &one);
	up = sc3(SYS_open, "/dev/vpc_upcall", O_RDONLY | O_NONBLOCK, 0);
	check("upcall: open /dev/vpc_upcall", up >= 0, up, 3);
	check("devctl: the reader's ATTACH is announced (system=VPC)",
	    devctl_has(devctl, "system=VPC subsystem=agent type=ATTACH"),
	    devctl, 0);
	up2 = sc3(SYS_open, "/dev/vpc_upcall", O_RDONLY | O_NONBLOCK, 0);
	expect("upcall: a second reader is EBUSY", up2, -EBUSY);
	if (up2 >= 0)
		sc3(SYS_close, up2, 0, 0);
	expect("upcall: nothing pending: EAGAIN (non-blocking)",
	    sc3(SYS_read, up, rec, sizeof(rec)), -EAGAIN);
	expect("upcall: a buffer under one record is EINVAL",
	    sc3(SYS_read, up, rec, sizeof(rec[0]) - 1), -EINVAL);
	check("upcall: net.vpc.upcall.readers is 1",
	    sysctl_u64("net.vpc.upcall.readers") == 1,
	    (long)sysctl_u64("net.vpc.upcall.readers"), 1);

	r = tap_open(&ta, na);
	expect("bpf: open on vmnicA", r, 0);
	r = tap_open(&tb, nb);
	expect("bpf: open on vmnicB", r, 0);
	if (ta.fd < 0 || tb.fd < 0)
		goto out_up;

	/* A -> B: into the switch (if_transmit), out to B (if_input). */
	r = tap_send(&ta, mac_b, mac_a, 1);
	check("bpf: a frame written on vmnicA", r == 64, r, 64);
	check("data: A -> B arrives on vmnicB (switch, local delivery)",
	    tap_expect(&tb, mac_b, 1), 0, 1);

	/* A -> X: VXLAN to 127.0.0.1, back in through our own socket. */
	r = tap_send(&ta, mac_x, mac_a, 2);
	msleep(300);
	memset(&st, 0, sizeof(st));
	vctl_n(swd, VPC_OP_SW_GET_STATS, 0, 0, &st, sizeof(st));
	memset(&vst, 0, sizeof(vst));
	vctl_n(vccd, VPC_OP_VCC_GET_STATS, 0, 0, &vst, sizeof(vst));
	check("data: A -> remote X went out as VXLAN (ip_output)",
	    st.c[VPC_SWSTAT_TX_REMOTE] == 1 && vst.c[VPC_VCCSTAT_TX] == 1,
	    (long)st.c[VPC_SWSTAT_TX_REMOTE], 1);
	check("data: and came back in through the kernel UDP tunnel",
	    vst.c[VPC_VCCSTAT_RX] == 1, (long)vst.c[VPC_VCCSTAT_RX], 1);
	/* Its source is A, a vmnic of this switch: the underlay cannot have it. */
	check("data: which found VNI 789 and a local source (DROP_UNDERLAY_SPOOF)",
	    st.c[VPC_SWSTAT_RX_REMOTE] == 1 &&
	    st.c[VPC_SWSTAT_DROP_UNDERLAY_SPOOF] == 1 &&
	    st.c[VPC_SWSTAT_DROP_UNKNOWN] == 0,
	    (long)st.c[VPC_SWSTAT_DROP_UNDERLAY_SPOOF], 1);

	/* A -> Y: a miss; the upcall reader gets one record. */
	r = tap_send(&ta, mac_y, mac_a, 3);
	msleep(100);
	memset(rec, 0, sizeof(rec));
	r = sc3(SYS_read, up, rec, sizeof(rec));
	check("upcall: a miss gives exactly one whole record", r ==
	    (long)sizeof(rec[0]), r, (long)sizeof(rec[0]));
	check("upcall: the record names VNI 789 and MAC Y",
	    rec[0].magic == VPC_UPCALL_MAGIC && rec[0].vni == 789 &&
	    memcmp(rec[0].dstmac, mac_y, 6) == 0, rec[0].vni, 789);
	memset(&ans, 0, sizeof(ans));
	ans.req_id = rec[0].req_id;
	ans.generation = rec[0].generation;
	ans.status = VPC_UPCALL_NOT_FOUND;
	ansres = -1;
	vallen = sizeof(ansres);
	r = vctl(-1, VPC_OP_SYS_UPCALL_ANSWER, &ans, sizeof(ans), &ansres,
	    &vallen);
	check("upcall: the answer is taken", r == 0 && ansres == 0, r, 0);
	check("sysctl: net.vpc.upcall.pending is 0 after it",
	    sysctl_u64("net.vpc.upcall.pending") == 0,
	    (long)sysctl_u64("net.vpc.upcall.pending"), 0);

	/* Z: a miss that is read, then its reader goes away unanswered. */
	expect("upcall: poll(2) says nothing to read", poll1(up, POLLIN, 0), 0);
	r = tap_send(&ta, mac_z, mac_a, 4);
	expect("upcall: poll(2) wakes up with POLLIN on a miss",
	    poll1(up, POLLIN, 2000), POLLIN);
	r = sc3(SYS_read, up, rec, sizeof(rec));
	check("upcall: a second miss (Z) is read", r == (long)sizeof(rec[0]),
	    r, (long)sizeof(rec[0]));
	sc3(SYS_close, up, 0, 0);
	up = sc3(SYS_open, "/dev/vpc_upcall", O_RDONLY | O_NONBLOCK, 0);
	memset(rec, 0, sizeof(rec));
	r = up >= 0 ? sc3(SYS_read, up, rec, sizeof(rec)) : up;
	check("upcall: the next reader gets the unanswered request again",
	    r == (long)sizeof(rec[0]) && memcmp(rec[0].dstmac, mac_z, 6) == 0,
	    r,
	    (long)sizeof(rec[0]));
	check("devctl: and its DETACH when it went away",
	    devctl_has(devctl, "system=VPC subsystem=agent type=DETACH"),
	    devctl, 0);
	{
		vpc_agent_event_t ev;

		memset(&ev, 0, sizeof(ev));
		ev.event = VPC_AGENT_EV_DEGRADED;
		memcpy(ev.detail, "etcd:http://10.0.0.1:2379", 26);
		expect("agent event: DEGRADED is posted",
		    vctl_n(-1, VPC_OP_SYS_AGENT_EVENT, &ev, sizeof(ev), 0, 0),
		    0);
		check("devctl: type=DEGRADED with its detail",
		    devctl_has(devctl, "system=VPC subsystem=agent "
		    "type=DEGRADED detail=etcd:http://10.0.0.1:2379"), devctl, 0);
		memcpy(ev.detail, "two words", 10);
		expect("agent event: a detail with a space is EINVAL",
		    vctl_n(-1, VPC_OP_SYS_AGENT_EVENT, &ev, sizeof(ev), 0, 0),
		    -EINVAL);
		ev.event = VPC_AGENT_EV_RECOVERED;
		ev.detail[0] = '\0';
		expect("agent event: RECOVERED is posted",
		    vctl_n(-1, VPC_OP_SYS_AGENT_EVENT, &ev, sizeof(ev), 0, 0),
		    0);
		check("devctl: type=RECOVERED",
		    devctl_has(devctl, "system=VPC subsystem=agent "
		    "type=RECOVERED"), devctl, 0);
	}
	check("sysctl: net.vpc.upcall.requeued is 1",
	    sysctl_u64("net.vpc.upcall.requeued") == 1,
	    (long)sysctl_u64("net.vpc.upcall.requeued"), 1);
	if (up >= 0) {
		struct kevent kev;
		struct timespec ts = { 2, 0 };
		long kq = sc3(SYS_kqueue, 0, 0, 0);

		memset(&kev, 0, sizeof(kev));
		kev.ident = (unsigned long)up;
		kev.filter = EVFILT_READ;
		kev.flags = EV_ADD;
		r = kq >= 0 ? sc6(SYS_kevent, kq, (long)&kev, 1, 0, 0, 0) : kq;
		expect("upcall: kqueue EVFILT_READ registers", r, 0);
		r = tap_send(&ta, mac_w, mac_a, 5);
		memset(&kev, 0, sizeof(kev));
		r = sc6(SYS_kevent, kq, 0, 0, (long)&kev, 1, (long)&ts);
		check("upcall: kevent(2) fires on the next miss", r == 1 &&
		    kev.filter == EVFILT_READ && kev.data > 0, r, 1);
		r = sc3(SYS_read, up, rec, sizeof(rec));
		check("upcall: and the record is there", r ==
		    (long)sizeof(rec[0]) && memcmp(rec[0].dstmac, mac_w, 6) == 0,
		    r, (long)sizeof(rec[0]));
		if (kq >= 0)
			sc3(SYS_close, kq, 0, 0);
	}
	if (up >= 0) {
		/* A blocking read that sleeps until the next miss wakes it. */
		int status = -1;
		long pid;

		expect("upcall: fcntl(F_SETFL) clears O_NONBLOCK (FIONBIO)",
		    sc3(SYS_fcntl, up, F_SETFL, 0), 0);
		pid = sc3(SYS_fork, 0, 0, 0);
		if (pid == 0) {
			r = sc3(SYS_read, up, rec, sizeof(rec));
			sc3(SYS_exit, r == (long)sizeof(rec[0]) &&
			    memcmp(rec[0].dstmac, mac_v, 6) == 0 ? 0 : 1, 0, 0);
		}
		msleep(300);
		r = tap_send(&ta, mac_v, mac_a, 6);
		r = pid > 0 ? sc6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0) :
		    pid;
		check("upcall: a blocking read(2) sleeps until a miss wakes it",
		    r == pid && status == 0, status, 0);
		sc3(SYS_fcntl, up, F_SETFL, O_NONBLOCK);
	}

	too_big_rules(&ta, a, swd, vccd);
	invariants("check: the core's invariants hold with traffic in flight");
	sc3(SYS_close, ta.fd, 0, 0);
	sc3(SYS_close, tb.fd, 0, 0);
	if (devctl >= 0)
		sc3(SYS_close, devctl, 0, 0);
out_up:
	if (up >= 0) {
		expect("unload: refused (EBUSY) while the upcall device is open",
		    sc3(SYS_kldunload, vpc_fileid, 0, 0), -EBUSY);
		sc3(SYS_close, up, 0, 0);
	}
out:
	for (i = 0; i < 2; i++) {
		long h = i == 0 ? a : b;

		if (h >= 0)
			sc3(SYS_close, h, 0, 0);
	}
	if (swd >= 0)
		sc3(SYS_close, swd, 0, 0);
	if (vccd >= 0)
		sc3(SYS_close, vccd, 0, 0);
}

/*
 * DHCP and router advertisements from the switch (vpc_dhcp.c, vpc_ra.c):
 * a switch on 10.77.0.0/24 and fd77::/64 with one vmnic port (10.77.0.10,
 * DHCP on).  A DISCOVER written with bpf on the vmnic gets an OFFER of its
 * address from the gateway; a router solicitation gets an advertisement
 * from the gateway's link-local; with a 4 s interval an unsolicited one
 * comes from the switch's timer (a callout with no mutex, into the epoch).
 */
static long
tap_expect_l4(struct tap *t, const uint8_t dst[6], int v6, uint8_t *out,
    size_t max)
{
	long n, off;
	int tries;

	for (tries = 0; tries < 10; tries++) {
		n = sc3(SYS_read, t->fd, t->buf, t->blen);
		if (n < 0)
			return (0);
		for (off = 0; off + 26 <= n;) {
			uint32_t caplen;
			uint16_t hdrlen;
			const uint8_t *f;

			memcpy(&caplen, t->buf + off + 16, 4);
			memcpy(&hdrlen, t->buf + off + 24, 2);
			f = t->buf + off + hdrlen;
			if (caplen <= max && memcmp(f, dst, 6) == 0 && (v6 ?
			    caplen >= 62 && f[12] == 0x86 && f[13] == 0xdd &&
			    f[20] == 58 && f[54] == 134 :
			    caplen >= 42 + 240 && f[12] == 0x08 && f[13] == 0 &&
			    f[23] == 17 && f[34] == 0 && f[35] == 67)) {
				memcpy(out, f, caplen);
				return (caplen);
			}
			off += (hdrlen + caplen + 7) & ~7L;	/* BPF_WORDALIGN */
		}
	}
	return (0);
}

static void
dhcp_ra(long sock)
{
	static const uint8_t me4[4] = { 10, 77, 0, 10 }, gw4[4] = { 10, 77, 0, 1 };
	static const uint8_t mcast_all[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static uint8_t f[400], in[1514];
	vpc_id_t swid = mkid(50);
	vpc_swport_t req, res;
	vpc_sw_subnet_t sub;
	vpc_nic_addr_t ad;
	vpc_nic_dhcp_t dh;
	vpc_sw_gateway_t gw;
	vpc_sw_policy_t pol;
	vpc_sw_stats_t st;
	struct tap ta;
	char na[VPC_IFNAMSIZ];
	uint32_t sum;
	long swd, a = -1, r, n, i;

	ta.fd = -1;
	swd = vopen(&swid, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("dhcp: a switch", swd >= 0, swd, 3);
	if (swd < 0)
		return;
	memset(&sub, 0, sizeof(sub));
	sub.af = VPC_AF_INET;
	sub.prefixlen = 24;
	memcpy(sub.addr, (uint8_t[]){ 10, 77, 0, 0 }, 4);
	expect("dhcp: subnet 10.77.0.0/24", vctl_n(swd, VPC_OP_SW_SET_SUBNET,
	    &sub, sizeof(sub), 0, 0), 0);
	memset(&sub, 0, sizeof(sub));
	sub.af = VPC_AF_INET6;
	sub.prefixlen = 64;
	sub.addr[0] = 0xfd;
	sub.addr[1] = 0x77;
	expect("dhcp: subnet fd77::/64", vctl_n(swd, VPC_OP_SW_SET_SUBNET,
	    &sub, sizeof(sub), 0, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_a, 6);
	r = vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res));
	if (r == 0)
		a = res.descriptor;
	check("dhcp: a vmnic port", r == 0 && a >= 0, r, 0);
	if (a < 0 || nic_ifname(a, na) != 0)
		goto out;
	memset(&ad, 0, sizeof(ad));
	ad.flags = VPC_NIC_ADDR_INET;
	memcpy(ad.addr4, me4, 4);
	expect("dhcp: NIC_SET_ADDR 10.77.0.10", vctl_n(a, VPC_OP_NIC_SET_ADDR,
	    &ad, sizeof(ad), 0, 0), 0);
	memset(&dh, 0, sizeof(dh));
	dh.flags = VPC_DHCP_ENABLE;
	memcpy(dh.hostname, "vm-a", 5);
	expect("dhcp: NIC_SET_DHCP on", vctl_n(a, VPC_OP_NIC_SET_DHCP, &dh,
	    sizeof(dh), 0, 0), 0);
	memset(&gw, 0, sizeof(gw));
	expect("dhcp: SW_GET_GATEWAY", vctl_n(swd, VPC_OP_SW_GET_GATEWAY, 0, 0,
	    &gw, sizeof(gw)), 0);
	expect("dhcp: ifconfig up", if_up(sock, na), 0);
	expect("dhcp: bpf on the vmnic", tap_open(&ta, na), 0);
	if (ta.fd < 0)
		goto out;

	/* DHCPDISCOVER from 0.0.0.0 to the broadcast, no UDP checksum. */
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (20 + 8 + 244) >> 8;
	f[17] = (20 + 8 + 244) & 0xff;
	f[22] = 64;
	f[23] = 17;
	memset(f + 30, 0xff, 4);
	sum = cksum(f + 14, 20);
	f[24] = (uint8_t)(sum >> 8);
	f[25] = (uint8_t)sum;
	f[35] = 68;
	f[37] = 67;
	f[39] = 8 + 244;
	f[42] = 1;				/* BOOTREQUEST */
	f[43] = 1;
	f[44] = 6;
	f[46] = 0x5a;				/* xid */
	memcpy(f + 42 + 28, mac_a, 6);		/* chaddr */
	memcpy(f + 42 + 236, (uint8_t[]){ 99, 130, 83, 99, 53, 1, 1, 255 }, 8);
	n = sc3(SYS_write, ta.fd, f, 42 + 244);
	check("dhcp: a DISCOVER written on the vmnic", n == 42 + 244, n, 42 + 244);
	n = tap_expect_l4(&ta, mac_a, 0, in, sizeof(in));
	check("dhcp: an OFFER comes back, to the vmnic's MAC", n > 0, n, 1);
	if (n > 0) {
		check("dhcp: from the gateway's MAC and 10.77.0.1",
		    memcmp(in + 6, gw.mac, 6) == 0 && memcmp(in + 26, gw4, 4) == 0,
		    0, 0);
		check("dhcp: yiaddr is the vmnic's address 10.77.0.10",
		    memcmp(in + 42 + 16, me4, 4) == 0 && in[42 + 4] == 0x5a,
		    in[42 + 19], 10);
		check("dhcp: message type OFFER, then server id 10.77.0.1",
		    in[42 + 240] == 53 && in[42 + 242] == 2 &&
		    in[42 + 243] == 54 && memcmp(in + 42 + 245, gw4, 4) == 0,
		    in[42 + 242], 2);
		expect("dhcp: the IP header checksum is valid", cksum(in + 14, 20), 0);
	}

	/* A router solicitation from fe80::a01 with its link-layer address. */
	memset(f, 0, sizeof(f));
	memcpy(f, (uint8_t[]){ 0x33, 0x33, 0, 0, 0, 2 }, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[19] = 16;				/* payload length */
	f[20] = 58;
	f[21] = 255;
	f[22] = 0xfe;
	f[23] = 0x80;
	f[36] = 0x0a;
	f[37] = 0x01;
	f[38] = 0xff;
	f[39] = 0x02;
	f[53] = 2;
	f[54] = 133;				/* RS */
	f[62] = 1;				/* source link-layer address */
	f[63] = 1;
	memcpy(f + 64, mac_a, 6);
	{
		uint8_t ph[40 + 16];

		memcpy(ph, f + 22, 32);
		memset(ph + 32, 0, 8);
		ph[35] = 16;
		ph[39] = 58;
		memcpy(ph + 40, f + 54, 16);
		sum = cksum(ph, sizeof(ph));
		f[56] = (uint8_t)(sum >> 8);
		f[57] = (uint8_t)sum;
	}
	n = sc3(SYS_write, ta.fd, f, 70);
	check("ra: a router solicitation written on the vmnic", n == 70, n, 70);
	n = tap_expect_l4(&ta, mac_a, 1, in, sizeof(in));
	check("ra: an advertisement comes back, to the vmnic's MAC", n > 0, n, 1);
	if (n > 0) {
		check("ra: from the gateway's link-local, hop limit 255",
		    memcmp(in + 22, gw.ll6, 16) == 0 && in[21] == 255, in[21], 255);
		check("ra: M and O clear, a router lifetime",
		    (in[59] & 0xc0) == 0 && (in[60] << 8 | in[61]) != 0, in[59], 0);
		for (i = 70; i + 32 <= n && in[i] != 3; i += in[i + 1] * 8)
			if (in[i + 1] == 0)
				break;
		check("ra: the prefix fd77::/64, on-link and autonomous",
		    i + 32 <= n && in[i] == 3 && in[i + 2] == 64 &&
		    in[i + 3] == 0xc0 && in[i + 16] == 0xfd && in[i + 17] == 0x77,
		    i, 0);
	}
	memset(&st, 0, sizeof(st));
	vctl_n(swd, VPC_OP_SW_GET_STATS, 0, 0, &st, sizeof(st));
	check("dhcp: counted: one OFFER; ra: RAs sent",
	    st.c[VPC_SWSTAT_DHCP_OFFER] == 1 && st.c[VPC_SWSTAT_RA_SENT] >= 1,
	    (long)st.c[VPC_SWSTAT_DHCP_OFFER], 1);

	/* Unsolicited: the timer, a second after the interval changes. */
	memset(&pol, 0, sizeof(pol));
	pol.ra_interval_s = 4;
	expect("ra: SW_SET_POLICY ra_interval_s 4", vctl_n(swd,
	    VPC_OP_SW_SET_POLICY, &pol, sizeof(pol), 0, 0), 0);
	n = 0;
	for (i = 0; i < 3 && n == 0; i++)
		n = tap_expect_l4(&ta, mcast_all, 1, in, sizeof(in));
	check("ra: an unsolicited RA to ff02::1 from the switch's timer", n > 0 &&
	    in[38] == 0xff && in[39] == 0x02 && in[53] == 1, n, 1);
	memset(&st, 0, sizeof(st));
	vctl_n(swd, VPC_OP_SW_GET_STATS, 0, 0, &st, sizeof(st));
	check("ra: counted as periodic", st.c[VPC_SWSTAT_RA_PERIODIC] >= 1,
	    (long)st.c[VPC_SWSTAT_RA_PERIODIC], 1);
out:
	if (ta.fd >= 0)
		sc3(SYS_close, ta.fd, 0, 0);
	if (a >= 0)
		sc3(SYS_close, a, 0, 0);
	/* The last handle: the switch dies, its timer drained with it. */
	sc3(SYS_close, swd, 0, 0);
	invariants("dhcp: the core's invariants hold after the switch is gone");
}

/* A handle is a file: released when its process exits. */
static void
lifetime(void)
{
	vpc_id_t loose = mkid(30), kept = mkid(31);
	vpc_nic_ifname_t ifn;
	vpc_txn_t txn = 0;
	long pid, h, h2, r;
	int status = -1;

	pid = sc3(SYS_fork, 0, 0, 0);
	if (pid == 0) {
		/* The child: one object left open, one committed; exit. */
		h = vopen(&loose, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
		h2 = vopen(&kept, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
		if (h < 0 || h2 < 0 || vctl_n(h2, VPC_OP_COMMIT, &txn,
		    sizeof(txn), 0, 0) != 0)
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
	expect("life: DESTROY through one handle", vctl_n(h, VPC_OP_DESTROY,
	    &txn, sizeof(txn), 0, 0), 0);
	expect("life: the other handle gets EIDRM", vctl_n(h2, VPC_OP_NOP, 0,
	    0, 0, 0), -EIDRM);
	expect("life: and poll(2) says POLLHUP", poll1(h2, POLLIN | POLLOUT,
	    0), POLLHUP);
	invariants("life: SYS_CHECK holds with handles to a destroyed object open");
	sc3(SYS_close, h, 0, 0);
	sc3(SYS_close, h2, 0, 0);
}

/*
 * Run fn in a child as uid 1000 (no privilege), counting its checks here.
 * Descriptors are inherited across fork: handles the parent opened with
 * privilege go with them (a handle is a capability).
 */
static void
as_user(void (*fn)(long), long arg)
{
	int fds[2], counts[2] = { 0, 0 }, status = -1;
	long pid;

	if (sc3(SYS_pipe2, fds, 0, 0) < 0) {
		check("priv: pipe2", 0, -1, 0);
		return;
	}
	pid = sc3(SYS_fork, 0, 0, 0);
	if (pid == 0) {
		sc3(SYS_close, fds[0], 0, 0);
		npass = nfail = 0;
		if (sc3(SYS_setuid, 1000, 0, 0) != 0)
			check("priv: setuid(1000)", 0, -1, 0);
		else
			fn(arg);
		counts[0] = npass;
		counts[1] = nfail;
		sc3(SYS_write, fds[1], counts, sizeof(counts));
		sc3(SYS_exit, 0, 0, 0);
	}
	sc3(SYS_close, fds[1], 0, 0);
	if (pid > 0 && sc3(SYS_read, fds[0], counts, sizeof(counts)) ==
	    sizeof(counts)) {
		npass += counts[0];
		nfail += counts[1];
	} else
		check("priv: the unprivileged child ran", 0, pid, 1);
	sc3(SYS_close, fds[0], 0, 0);
	if (pid > 0)
		sc6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0);
}

static const vpc_id_t *priv_id;

static void
unpriv_default(long h)
{
	vpc_id_t id = mkid(41);
	vpc_sys_stats_t st;
	vpc_vmnic_t mac;

	expect("priv: unprivileged vpc_open(CREATE) is EPERM",
	    vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE), -EPERM);
	expect("priv: unprivileged vpc_open(OPEN) is EPERM (unprivileged_read=0)",
	    vopen(priv_id, WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN), -EPERM);
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

	r = vopen(priv_id, WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN);
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

static void
privilege(void)
{
	vpc_id_t id = mkid(40);
	long h;

	priv_id = &id;
	h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("priv: root opens a NIC", h >= 0, h, 3);
	if (h < 0)
		return;
	as_user(unpriv_default, h);
	expect("priv: root sets net.vpc.unprivileged_read=1",
	    sysctl_set_int("net.vpc.unprivileged_read", 1), 0);
	as_user(unpriv_read, h);
	expect("priv: and back to 0", sysctl_set_int(
	    "net.vpc.unprivileged_read", 0), 0);
	sc3(SYS_close, h, 0, 0);
}

static void
unload_rules(long fileid)
{
	vpc_id_t id = mkid(20), swid = mkid(21);
	vpc_swport_t req, res;
	vpc_txn_t txn = 0;
	long h, r;

	h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("unload: a NIC to commit", h >= 0, h, 3);
	expect("unload: refused (EBUSY) while a handle is open",
	    sc3(SYS_kldunload, fileid, 0, 0), -EBUSY);
	expect("unload: COMMIT", vctl_n(h, VPC_OP_COMMIT, &txn, sizeof(txn),
	    0, 0), 0);
	sc3(SYS_close, h, 0, 0);
	check("sysctl: net.vpc.handles is 0, net.vpc.objects is 1",
	    sysctl_u64("net.vpc.handles") == 0 &&
	    sysctl_u64("net.vpc.objects") == 1,
	    (long)sysctl_u64("net.vpc.objects"), 1);
	expect("unload: refused (EBUSY) while a committed object exists",
	    sc3(SYS_kldunload, fileid, 0, 0), -EBUSY);
	check("unload: the syscalls are still there after the refusal",
	    slot("sys/vpc_ctl") == sys_ctl_no, slot("sys/vpc_ctl"),
	    sys_ctl_no);
	h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN);
	check("unload: OPEN the committed NIC", h >= 0, h, 3);
	expect("unload: DESTROY it", vctl_n(h, VPC_OP_DESTROY, &txn,
	    sizeof(txn), 0, 0), 0);
	sc3(SYS_close, h, 0, 0);
	check("sysctl: no objects, no handles left",
	    sysctl_u64("net.vpc.objects") == 0 &&
	    sysctl_u64("net.vpc.handles") == 0,
	    (long)sysctl_u64("net.vpc.objects"), 0);

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
	if (h >= 0)
		sc3(SYS_close, h, 0, 0);	/* uncommitted: it dies */
	r = sc3(SYS_kldunload, fileid, 0, 0);
	expect("unload: kldunload succeeds now", r, 0);
	expect("unload: sys/vpc_open is gone", sc3(SYS_modfind,
	    "sys/vpc_open", 0, 0), -ENOENT);

	/*
	 * Everything comes back, and goes again: nothing was left behind.
	 * This time with a loader tunable in the kernel environment, whose
	 * handler the kernel runs while it registers the sysctls, before
	 * any SYSINIT of ours.
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
	expect("reload: and kldunload again", sc3(SYS_kldunload, fileid, 0, 0),
	    0);
}

static void
config_loopback(long sock)
{
	struct ifaliasreq ifra;

	memset(&ifra, 0, sizeof(ifra));
	copyname(ifra.ifra_name, "lo0");
	ifra.ifra_addr.sin_len = sizeof(struct sockaddr_in);
	ifra.ifra_addr.sin_family = AF_INET;
	memcpy(ifra.ifra_addr.sin_addr, loopback, 4);
	ifra.ifra_mask.sin_len = sizeof(struct sockaddr_in);
	ifra.ifra_mask.sin_family = AF_INET;
	ifra.ifra_mask.sin_addr[0] = 255;
	expect("setup: lo0 127.0.0.1/8", sc3(SYS_ioctl, sock, SIOCAIFADDR,
	    &ifra), 0);
	expect("setup: lo0 up", if_up(sock, "lo0"), 0);
}

int main(void);

int
main(void)
{
	long fd, fileid, sock, swd, vmnicd;

	fd = sc3(SYS_open, "/dev/console", O_RDWR, 0);
	if (fd >= 0) {
		sc3(SYS_dup, fd, 0, 0);
		sc3(SYS_dup, fd, 0, 0);
	}
	out("vpc-init: starting\n");
	sock = sc3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	check("setup: a socket for interface ioctls", sock >= 0, sock, 3);
	config_loopback(sock);

	fileid = vpc_fileid = sc3(SYS_kldload, "/boot/modules/vpc.ko", 0, 0);
	check("load: kldload vpc.ko", fileid > 0, fileid, 2);
	if (fileid <= 0)
		goto done;
	sys_open_no = slot("sys/vpc_open");
	sys_ctl_no = slot("sys/vpc_ctl");
	check("load: modfind/modstat give sys/vpc_open's slot",
	    sys_open_no > 0, sys_open_no, 210);
	check("load: modfind/modstat give sys/vpc_ctl's slot",
	    sys_ctl_no > 0 && sys_ctl_no != sys_open_no, sys_ctl_no, 211);
	if (sys_open_no <= 0 || sys_ctl_no <= 0)
		goto done;
	lput("vpc-init: vpc_open is syscall ");
	lnum(sys_open_no);
	lput(", vpc_ctl is ");
	lnum(sys_ctl_no);
	lflush();
	check("sysctl: net.vpc.objects is 0 after load",
	    sysctl_u64("net.vpc.objects") == 0,
	    (long)sysctl_u64("net.vpc.objects"), 0);

	seed_nic();
	swd = seed_switch(&vmnicd);
	if (swd >= 0) {
		bad_inputs(swd, vmnicd);
		if (vmnicd >= 0)
			ifnet_rules(sock, vmnicd);
		if (vmnicd >= 0)
			sc3(SYS_close, vmnicd, 0, 0);
		sc3(SYS_close, swd, 0, 0);
	}
	datapath(sock);
	dhcp_ra(sock);
	lifetime();
	privilege();
	invariants("check: the core's invariants hold after all that");
	unload_rules(fileid);

done:
	lput("VPC-BOOT-RESULT pass=");
	lnum(npass);
	lput(" fail=");
	lnum(nfail);
	lflush();
	/* Root is read-only and nothing was written: skip the syncer. */
	sc3(SYS_reboot, RB_POWEROFF | RB_NOSYNC, 0, 0);
	for (;;)
		sc3(SYS_exit, 0, 0, 0);
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
