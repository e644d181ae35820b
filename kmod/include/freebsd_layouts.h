/*
 * freebsd_layouts.h: the few FreeBSD userland structures vpc's own userland
 * needs, copied here because the places that use them cannot include
 * FreeBSD's headers: the TypeScript backend (src/ffi/freebsd.ts, which gets
 * this layout through scripts/gen-abi.ts) and the boot test's libc-free init.
 *
 * Copied from FreeBSD 14 for amd64 (LP64) and kept with FreeBSD's names.
 * test/abi.test.ts compiles every field's offset and size against a FreeBSD
 * source tree when FREEBSD_SRC names one.
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

#endif /* _VPC_FREEBSD_LAYOUTS_H_ */
