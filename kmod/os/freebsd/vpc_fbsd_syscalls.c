/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_syscalls.c: vpc_open(2) and vpc_ctl(2).
 *
 * Both are dynamic system calls: SYSCALL_MODULE with the slot NO_SYSCALL
 * makes kern_syscall_register() pick a free one (syscall_helper_register()
 * cannot).  Free slots are few and shared with other modules, so userland
 * never hard-codes a number: modfind("sys/vpc_open"), then modstat() and
 * data.intval (src/ffi/freebsd.ts).  The slots are also in net.vpc.syscall.
 *
 * The arguments are those of vpc.h, in its prototypes' order.  Neither
 * call is allowed in capability mode: vpc_open names objects in a global
 * namespace, and so does vpc_ctl with VPC_HANDLE_NONE.  Only the native
 * ABI gets them (no freebsd32 entries).
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/file.h>
#include <sys/kernel.h>
#include <sys/malloc.h>
#include <sys/module.h>
#include <sys/priv.h>
#include <sys/proc.h>
#include <sys/sysctl.h>
#include <sys/sysent.h>

#include <bsm/audit_kevents.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

/*
 * Each argument takes one syscallarg_t slot; the padding puts a narrower
 * one where the slot's value is (what sys/sysproto.h does, then #undefs).
 */
#define	VPC_PAD_(t)	(sizeof(syscallarg_t) <= sizeof(t) ? \
			    0 : sizeof(syscallarg_t) - sizeof(t))
#if BYTE_ORDER == LITTLE_ENDIAN
#define	PADL_(t)	0
#define	PADR_(t)	VPC_PAD_(t)
#else
#define	PADL_(t)	VPC_PAD_(t)
#define	PADR_(t)	0
#endif

struct vpc_open_args {
	char	id_l_[PADL_(const vpc_id_t *)];
	const vpc_id_t *id;
	char	id_r_[PADR_(const vpc_id_t *)];
	char	type_l_[PADL_(vpc_type_t)];
	vpc_type_t type;
	char	type_r_[PADR_(vpc_type_t)];
	char	flags_l_[PADL_(vpc_flags_t)];
	vpc_flags_t flags;
	char	flags_r_[PADR_(vpc_flags_t)];
};

struct vpc_ctl_args {
	char	h_l_[PADL_(vpc_handle_t)];
	vpc_handle_t h;
	char	h_r_[PADR_(vpc_handle_t)];
	char	op_l_[PADL_(vpc_op_t)];
	vpc_op_t op;
	char	op_r_[PADR_(vpc_op_t)];
	char	keylen_l_[PADL_(size_t)];
	size_t	keylen;
	char	keylen_r_[PADR_(size_t)];
	char	key_l_[PADL_(const void *)];
	const void *key;
	char	key_r_[PADR_(const void *)];
	char	vallen_l_[PADL_(size_t *)];
	size_t	*vallen;
	char	vallen_r_[PADR_(size_t *)];
	char	buf_l_[PADL_(void *)];
	void	*buf;
	char	buf_r_[PADR_(void *)];
};

/*
 * vpc_open(id, type, flags): a new handle (td_retval[0]), or an errno.
 * Privilege is decided here, once, and the core keeps it in the handle.
 */
static int
sys_vpc_open(struct thread *td, void *arg)
{
	struct vpc_open_args *uap = arg;
	struct vpc_caller caller = { .td = td, .fd = -1 };
	struct vpc_call call = { .caller = &caller };
	struct vpc_sys *sys;
	struct vpc_hdl *h;
	vpc_id_t id;
	int error, fd;

	error = copyin(uap->id, &id, sizeof(id));
	if (error != 0)
		return (error);
	if ((sys = vpc_fbsd_enter()) == NULL)
		return (ENXIO);
	call.priv = priv_check(td, VPC_PRIV) == 0;
	if (!vpc_fbsd_may_read(td, call.priv))
		error = EPERM;
	else
		error = vpc_core_open(sys, &call, &id, uap->type, uap->flags,
		    &h);
	if (error == 0 && (error = vpc_fbsd_handle_open(td, sys, h, &fd)) == 0)
		td->td_retval[0] = fd;
	vpc_fbsd_exit();
	return (error);
}

/*
 * The op's result is copied out after it ran.  So that a fault there never
 * follows a change (an error must mean nothing happened), an op that
 * changes state first copies the caller's value buffer in and back out,
 * unchanged, and writes *vallen back as it read it: a buffer that is
 * NULL, read-only, or ends in an unmapped page fails with EFAULT here,
 * before the op.  (Another thread unmapping the buffer between this probe
 * and the copy-out can still make a done op report EFAULT: a program that
 * races munmap against its own system call gets what it asked for.)
 */
static int
vpc_ctl_probe_out(struct vpc_ctl_args *uap, void *val, size_t usable,
    size_t vallen)
{
	int error = 0;

	if (usable > 0) {
		error = copyin(uap->buf, val, usable);
		if (error == 0)
			error = copyout(val, uap->buf, usable);
	}
	if (error == 0 && uap->vallen != NULL)
		error = copyout(&vallen, uap->vallen, sizeof(vallen));
	return (error);
}

/*
 * vpc_ctl(h, op, keylen, key, vallen, buf).
 *
 * Order matters: the handle is checked first (EBADF) and keylen against
 * its cap (E2BIG), then *vallen is read (the one copyin the size check
 * needs: 8 bytes of the caller's size word), then vpc_ctl_check()
 * validates op, handle type and both sizes before the key is read or any
 * buffer is allocated: that is the ABI's promise, and it bounds both
 * allocations (VPC_CTL_MAX_KEYLEN, VPC_CTL_MAX_VALLEN).
 */
static int
sys_vpc_ctl(struct thread *td, void *arg)
{
	struct vpc_ctl_args *uap = arg;
	struct vpc_caller caller = { .td = td, .fd = -1 };
	struct vpc_call call = { .caller = &caller };
	const struct vpc_opdesc *desc;
	struct vpc_hdl *h = NULL;
	struct vpc_sys *sys;
	struct file *fp = NULL;
	size_t vallen = 0, outlen, usable;
	void *key = NULL, *val = NULL;
	int error;

	if ((sys = vpc_fbsd_enter()) == NULL)
		return (ENXIO);
	if (uap->h != VPC_HANDLE_NONE) {
		if ((error = vpc_fbsd_handle_get(td, uap->h, &fp, &h)) != 0)
			goto out;
	} else {
		call.priv = priv_check(td, VPC_PRIV) == 0;
		if (!vpc_fbsd_may_read(td, call.priv)) {
			error = EPERM;
			goto out;
		}
	}
	/* The cap first, as vpc_ctl_check() has it, before even *vallen. */
	if (uap->keylen > VPC_CTL_MAX_KEYLEN) {
		error = E2BIG;
		goto out;
	}
	if (uap->vallen != NULL &&
	    (error = copyin(uap->vallen, &vallen, sizeof(vallen))) != 0)
		goto out;
	error = vpc_ctl_check(h, uap->op, uap->keylen, vallen, &usable, &desc);
	if (error != 0)
		goto out;
	if (uap->keylen > 0) {
		if (uap->key == NULL) {
			error = EFAULT;
			goto out;
		}
		key = malloc(uap->keylen, M_VPC, M_WAITOK);
		if ((error = copyin(uap->key, key, uap->keylen)) != 0)
			goto out;
	}
	if (usable > 0) {
		if (uap->buf == NULL) {
			error = EFAULT;
			goto out;
		}
		val = malloc(usable, M_VPC, M_WAITOK);
	}
	if (vpc_opdesc_changes_state(desc) &&
	    (error = vpc_ctl_probe_out(uap, val, usable, vallen)) != 0)
		goto out;

	outlen = vallen;
	error = vpc_core_ctl(sys, &call, h, uap->op, key, uap->keylen, val,
	    &outlen);
	if (error != 0) {
		vpc_fbsd_caller_abort(&caller);
		if (error == ERANGE && uap->vallen != NULL &&
		    copyout(&outlen, uap->vallen, sizeof(outlen)) != 0)
			error = EFAULT;
		goto out;
	}
	KASSERT(outlen <= usable, ("%s: %s wrote %zu of %zu bytes", __func__,
	    vpc_op_name(uap->op), outlen, usable));
	KASSERT(caller.fp == NULL || vpc_opdesc_handle_off(desc) >= 0,
	    ("%s: %s made a descriptor it does not return", __func__,
	    vpc_op_name(uap->op)));
	/* A descriptor the op made goes live now, then is copied out. */
	vpc_fbsd_caller_commit(&caller);
	if (outlen > 0)
		error = copyout(val, uap->buf, outlen);
	if (error == 0 && uap->vallen != NULL)
		error = copyout(&outlen, uap->vallen, sizeof(outlen));
	if (error != 0)
		vpc_fbsd_caller_revoke(&caller);
	vpc_fbsd_caller_done(&caller);
out:
	if (fp != NULL)
		fdrop(fp, td);
	vpc_fbsd_exit();
	free(key, M_VPC);
	free(val, M_VPC);
	return (error);
}

/*
 * Both syscall modules veto an unload while anything is in use, as the main
 * module does.  They are registered after it (SI_SUB_SYSCALLS comes after
 * SI_SUB_PSEUDO), so kldunload quiesces and unloads "vpc" first; by the
 * time these see MOD_UNLOAD the instance is gone and they agree.
 */
static int
vpc_syscall_modevent(module_t mod __unused, int what, void *arg __unused)
{
	switch (what) {
	case MOD_LOAD:
	case MOD_SHUTDOWN:
		return (0);
	case MOD_QUIESCE:
	case MOD_UNLOAD:
		return (vpc_fbsd_busy() ? EBUSY : 0);
	default:
		return (EOPNOTSUPP);
	}
}

static int vpc_open_slot = NO_SYSCALL;
static int vpc_ctl_slot = NO_SYSCALL;

static struct sysent vpc_open_sysent = {
	.sy_narg = sizeof(struct vpc_open_args) / sizeof(syscallarg_t),
	.sy_call = sys_vpc_open,
	.sy_auevent = AUE_NULL,
	.sy_flags = 0,
};

static struct sysent vpc_ctl_sysent = {
	.sy_narg = sizeof(struct vpc_ctl_args) / sizeof(syscallarg_t),
	.sy_call = sys_vpc_ctl,
	.sy_auevent = AUE_NULL,
	.sy_flags = 0,
};

_Static_assert(sizeof(struct vpc_open_args) == 3 * sizeof(syscallarg_t),
    "vpc_open takes three argument slots");
_Static_assert(sizeof(struct vpc_ctl_args) == 6 * sizeof(syscallarg_t),
    "vpc_ctl takes six argument slots");

SYSCALL_MODULE(vpc_open, &vpc_open_slot, &vpc_open_sysent,
    vpc_syscall_modevent, NULL);
SYSCALL_MODULE(vpc_ctl, &vpc_ctl_slot, &vpc_ctl_sysent,
    vpc_syscall_modevent, NULL);

int
vpc_fbsd_syscall_slot(int which)
{
	return (which == 0 ? vpc_open_slot : vpc_ctl_slot);
}
