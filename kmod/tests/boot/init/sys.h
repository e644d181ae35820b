/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sys.h: the boot test init's stand-in for libc.  The init is a static
 * FreeBSD/amd64 program with no libc at all (no crt, no headers of the
 * target): raw system calls, and the few FreeBSD constants and structures
 * it needs, copied from the 14.2 tree with FreeBSD's names.  Those that
 * vpc's TypeScript userland needs too (open flags, poll, EINTR, struct
 * module_stat) are not here but in kmod/include/freebsd_layouts.h: one
 * copy for both, checked against a FreeBSD tree by test/abi.test.ts.
 *
 * FreeBSD amd64 system calls: rax = number, arguments in rdi rsi rdx r10 r8
 * r9, `syscall`; the carry flag says error, and then rax is the errno.
 * sc6() returns the result or -errno.
 */
#ifndef _VPC_INIT_SYS_H_
#define	_VPC_INIT_SYS_H_

#include "vpc.h"
#include "freebsd_layouts.h"

/* ---- System call numbers (<sys/syscall.h>) --------------------------------- */

#define	SYS_exit		1
#define	SYS_fork		2
#define	SYS_read		3
#define	SYS_write		4
#define	SYS_open		5
#define	SYS_close		6
#define	SYS_wait4		7
#define	SYS_getpid		20
#define	SYS_setuid		23
#define	SYS_recvfrom		29
#define	SYS_kill		37
#define	SYS_dup			41
#define	SYS_ioctl		54
#define	SYS_reboot		55
#define	SYS_execve		59
#define	SYS_munmap		73
#define	SYS_mprotect		74
#define	SYS_fcntl		92
#define	SYS_socket		97
#define	SYS_connect		98
#define	SYS_bind		104
#define	SYS_setsockopt		105
#define	SYS_readv		120
#define	SYS_writev		121
#define	SYS_sendto		133
#define	SYS___sysctl		202
#define	SYS_poll		209
#define	SYS_nanosleep		240
#define	SYS_modstat		301
#define	SYS_sched_yield		331
#define	SYS_modfind		303
#define	SYS_kldload		304
#define	SYS_kldunload		305
#define	SYS_kqueue		362
#define	SYS_kenv		390
#define	SYS_sigaction		416
#define	SYS_jail_attach		436
#define	SYS_kldunloadf		444
#define	SYS_mmap		477
#define	SYS_jail_set		507
#define	SYS_jail_remove		508
#define	SYS_pipe2		542
#define	SYS_kevent		560
#define	SYS___sysctlbyname	570

/* ---- errno (<sys/errno.h>; EINTR is in freebsd_layouts.h) ------------------- */

#define	EPERM		1
#define	ENOENT		2
#define	ESRCH		3
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
#define	EDESTADDRREQ	39
#define	EPROTONOSUPPORT	43
#define	EAFNOSUPPORT	47
#define	EOPNOTSUPP	45
#define	ENOTCONN	57
#define	ELOOP		62
#define	ENOSYS		78
#define	EIDRM		82

/* ---- Assorted constants ------------------------------------------------------ */

#define	PROT_READ	0x01
#define	PROT_WRITE	0x02
#define	MAP_SHARED	0x0001
#define	MAP_PRIVATE	0x0002
#define	MAP_ANON	0x1000
#define	PAGE_SIZE	4096
#define	F_GETFD		1
#define	F_SETFL		4
#define	FD_CLOEXEC	1
#define	KENV_SET	1
#define	RB_NOSYNC	0x0004
#define	RB_POWEROFF	0x4000
#define	SIGKILL		9
#define	WNOHANG		1
#define	SIGUSR1		30
#define	SA_RESTART	0x0002
#define	LINKER_UNLOAD_FORCE 1
#define	JAIL_CREATE	0x01
#define	JAIL_SYS_NEW	1
#define	CTL_KERN	1
#define	KERN_PROC	14
#define	KERN_PROC_PID	1

#define	AF_INET		2
#define	AF_ROUTE	17
#define	AF_LINK		18
#define	AF_INET6	28
#define	AF_NETGRAPH	32
#define	SOCK_DGRAM	2
#define	SOCK_RAW	3
#define	SOL_SOCKET	0xffff
#define	SO_SNDBUF	0x1001
#define	SO_RCVBUF	0x1002

#define	IFF_UP		0x1
#define	IFCAP_RXCSUM_IPV6 (1 << 21)
#define	IFCAP_TXCSUM_IPV6 (1 << 22)

#define	EVFILT_READ	(-1)
#define	EV_ADD		0x0001

/* ---- Structures ---------------------------------------------------------------- */

struct timeval {
	long		tv_sec;
	long		tv_usec;
};

struct timespec {
	long		tv_sec;
	long		tv_nsec;
};

struct iovec {
	void		*iov_base;
	size_t		iov_len;
};

struct kevent {
	unsigned long	ident;
	short		filter;
	unsigned short	flags;
	unsigned int	fflags;
	long		data;
	void		*udata;
	uint64_t	ext[4];
};

struct sigaction {
	void		(*sa_handler)(int);
	int		sa_flags;
	uint32_t	sa_mask[4];
};

struct sockaddr_in {
	uint8_t		sin_len;
	uint8_t		sin_family;
	uint16_t	sin_port;
	uint8_t		sin_addr[4];
	char		sin_zero[8];
};

struct sockaddr_in6 {
	uint8_t		sin6_len;
	uint8_t		sin6_family;
	uint16_t	sin6_port;
	uint32_t	sin6_flowinfo;
	uint8_t		sin6_addr[16];
	uint32_t	sin6_scope_id;
};

struct sockaddr_dl {
	uint8_t		sdl_len;
	uint8_t		sdl_family;
	uint16_t	sdl_index;
	uint8_t		sdl_type;
	uint8_t		sdl_nlen;
	uint8_t		sdl_alen;
	uint8_t		sdl_slen;
	char		sdl_data[46];
};

struct ifreq {
	char		ifr_name[16];
	union {
		short	flags[2];
		short	index;
		int	jid;
		int	mtu;
		int	cap[2];		/* requested, current */
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

/* <netinet6/in6_var.h>: ifconfig inet6 ... alias */
struct in6_aliasreq {
	char		ifra_name[16];
	struct sockaddr_in6 ifra_addr;
	struct sockaddr_in6 ifra_dstaddr;
	struct sockaddr_in6 ifra_prefixmask;
	int		ifra_flags;
	long		ia6t_expire;
	long		ia6t_preferred;
	uint32_t	ia6t_vltime;
	uint32_t	ia6t_pltime;
	int		ifra_vhid;
};
#define	IN6_IFF_NODAD		0x20
#define	ND6_INFINITE_LIFETIME	0xffffffffU

/* <net/route.h>: a routing socket message (here: a static ARP entry). */
struct rt_metrics {
	unsigned long	rmx[14];
};

struct rt_msghdr {
	uint16_t	rtm_msglen;
	uint8_t		rtm_version;
	uint8_t		rtm_type;
	uint16_t	rtm_index;
	uint16_t	_rtm_spare1;
	int		rtm_flags;
	int		rtm_addrs;
	int		rtm_pid;
	int		rtm_seq;
	int		rtm_errno;
	int		rtm_fmask;
	unsigned long	rtm_inits;
	struct rt_metrics rtm_rmx;
};
#define	RTM_VERSION	5
#define	RTM_ADD		0x1
#define	RTF_HOST	0x4
#define	RTF_LLDATA	0x400
#define	RTF_STATIC	0x800
#define	RTA_DST		0x1
#define	RTA_GATEWAY	0x2

/* <netgraph/ng_message.h>, <netgraph/ng_socket.h>: what libnetgraph sends. */
#define	NG_DATA		1
#define	NG_CONTROL	2
#define	NG_HOOKSIZ	32
#define	NG_NODESIZ	32
#define	NG_TYPESIZ	32
#define	NG_PATHSIZ	512
#define	NG_CMDSTRSIZ	32
#define	NG_VERSION	8
#define	NGM_GENERIC_COOKIE 1137070366
#define	NGM_READONLY	0x10000000
#define	NGM_HASREPLY	0x20000000
#define	NGM_SHUTDOWN	1
#define	NGM_CONNECT	3
#define	NGM_NODEINFO	(6 | NGM_READONLY | NGM_HASREPLY)

struct ng_msghdr {
	uint8_t		version;
	uint8_t		spare;
	uint16_t	spare2;
	uint32_t	arglen;
	uint32_t	cmd;
	uint32_t	flags;
	uint32_t	token;
	uint32_t	typecookie;
	uint8_t		cmdstr[NG_CMDSTRSIZ];
};

struct ngm_connect {
	char		path[NG_PATHSIZ];
	char		ourhook[NG_HOOKSIZ];
	char		peerhook[NG_HOOKSIZ];
};

struct nodeinfo {
	char		name[NG_NODESIZ];
	char		type[NG_TYPESIZ];
	uint32_t	id;
	uint32_t	hooks;
};

struct sockaddr_ng {
	uint8_t		sg_len;
	uint8_t		sg_family;
	char		sg_data[NG_PATHSIZ];
};
#define	NGSA_OVERHEAD	2

/* ---- ioctls (<sys/ioccom.h>) ------------------------------------------------------- */

#define	IOCPARM_MASK	0x1fff
#define	IOC_VOID	0x20000000UL
#define	IOC_OUT		0x40000000UL
#define	IOC_IN		0x80000000UL
#define	IOC(io, g, n, len) \
	((io) | (((unsigned long)(len) & IOCPARM_MASK) << 16) | ((g) << 8) | (n))
#define	IOW(g, n, len)	IOC(IOC_IN, g, n, len)
#define	IOR(g, n, len)	IOC(IOC_OUT, g, n, len)
#define	IOWR(g, n, len)	IOC(IOC_IN | IOC_OUT, g, n, len)

#define	TIOCDRAIN	IOC(IOC_VOID, 't', 94, 0)
#define	FIONBIO		IOW('f', 126, sizeof(int))
#define	SIOCSIFFLAGS	IOW('i', 16, sizeof(struct ifreq))
#define	SIOCGIFFLAGS	IOWR('i', 17, sizeof(struct ifreq))
#define	SIOCSIFCAP	IOW('i', 30, sizeof(struct ifreq))
#define	SIOCGIFCAP	IOWR('i', 31, sizeof(struct ifreq))
#define	SIOCGIFINDEX	IOWR('i', 32, sizeof(struct ifreq))
#define	SIOCAIFADDR	IOW('i', 43, sizeof(struct ifaliasreq))
#define	SIOCAIFADDR_IN6	IOW('i', 27, sizeof(struct in6_aliasreq))
#define	SIOCGIFMTU	IOWR('i', 51, sizeof(struct ifreq))
#define	SIOCSIFMTU	IOW('i', 52, sizeof(struct ifreq))
#define	SIOCSIFVNET	IOWR('i', 90, sizeof(struct ifreq))
#define	SIOCIFDESTROY	IOW('i', 121, sizeof(struct ifreq))
#define	SIOCIFCREATE2	IOWR('i', 124, sizeof(struct ifreq))
#define	BIOCGBLEN	IOR('B', 102, sizeof(unsigned))
#define	BIOCSETIF	IOW('B', 108, sizeof(struct ifreq))
#define	BIOCSRTIMEOUT	IOW('B', 109, sizeof(struct timeval))
#define	BIOCIMMEDIATE	IOW('B', 112, sizeof(unsigned))
#define	BIOCSHDRCMPLT	IOW('B', 117, sizeof(unsigned))

_Static_assert(sizeof(struct ifreq) == 32, "ifreq");
_Static_assert(sizeof(struct ifaliasreq) == 68, "ifaliasreq");
_Static_assert(sizeof(struct in6_aliasreq) == 136, "in6_aliasreq");
_Static_assert(sizeof(struct kevent) == 64, "kevent");
_Static_assert(sizeof(struct sigaction) == 32, "sigaction");
_Static_assert(sizeof(struct sockaddr_in6) == 28, "sockaddr_in6");
_Static_assert(sizeof(struct sockaddr_dl) == 54, "sockaddr_dl");
_Static_assert(sizeof(struct rt_msghdr) == 152, "rt_msghdr");
_Static_assert(sizeof(struct ng_msghdr) == 56, "ng_msghdr");
_Static_assert(sizeof(struct ngm_connect) == 576, "ngm_connect");
_Static_assert(sizeof(struct nodeinfo) == 72, "nodeinfo");

/* ---- System calls and the little libc (sys.c) ---------------------------------------- */

long	sc6(long n, long a1, long a2, long a3, long a4, long a5, long a6);
long	sc6_indirect(long n, long a1, long a2, long a3, long a4, long a5,
	    long a6);
#define	sc3(n, a, b, c)	sc6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)

void	*memset(void *, int, size_t);
void	*memcpy(void *, const void *, size_t);
int	 memcmp(const void *, const void *, size_t);
size_t	 slen(const char *s);
void	 out(const char *s);
void	 msleep(long ms);
int	 poll1(long fd, short events, long ms);

#endif /* !_VPC_INIT_SYS_H_ */
