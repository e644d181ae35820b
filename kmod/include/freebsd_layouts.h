/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * freebsd_layouts.h: the few FreeBSD userland structures and constants
 * vpc's own userland needs, copied here because the places that use them
 * cannot include FreeBSD's headers: the TypeScript backend
 * (src/ffi/freebsd.ts and src/ffi/upcall-device-worker.ts, which get these
 * through scripts/gen-abi.ts: freebsdTypes and FREEBSD) and the boot
 * test's libc-free init (kmod/tests/boot/init).  One copy for both.
 *
 * Copied from FreeBSD 14 for amd64 (LP64) and kept with FreeBSD's names.
 * test/abi.test.ts compiles every field's offset and size, and every
 * constant's value, against a FreeBSD source tree when FREEBSD_SRC names
 * one.  Linux's kmod/tools/abi_dump includes this header too, so it must not
 * also include <fcntl.h>, <poll.h> or <errno.h>, whose names these are.
 */
#ifndef _VPC_FREEBSD_LAYOUTS_H_
#define _VPC_FREEBSD_LAYOUTS_H_

/* <sys/module.h>: what modstat(2) fills in. */
typedef union modspecific {
	int		intval;
	unsigned int	uintval;
	long		longval;
	unsigned long	ulongval;
} modspecific_t;

struct module_stat {
	int		version;	/* set to sizeof(struct module_stat) */
	char		name[1024];	/* MAXMODNAME = MAXPATHLEN */
	int		refs;
	int		id;
	modspecific_t	data;		/* SYSCALL_MODULE: the syscall's slot */
};

/* <sys/fcntl.h>: open(2) flags. */
#define	O_RDONLY	0x0000
#define	O_WRONLY	0x0001
#define	O_RDWR		0x0002
#define	O_NONBLOCK	0x0004
#define	O_CLOEXEC	0x00100000

/* <sys/poll.h>: poll(2), on the upcall device and a wake pipe. */
struct pollfd {
	int		fd;
	short		events;
	short		revents;
};

#define	POLLIN		0x0001
#define	POLLOUT		0x0004
#define	POLLHUP		0x0010

/* <sys/errno.h>: errnos userland meets besides the ABI's own (VPC_E*). */
#define	EINTR		4

#endif /* _VPC_FREEBSD_LAYOUTS_H_ */
