/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_file.c: handles are file descriptors.
 *
 * A handle is a struct file whose f_ops is vpc_fileops and whose f_data is
 * the core's struct vpc_hdl.  We recognise our files by f_ops, never by
 * f_type: every DTYPE_* number means something to somebody (DTYPE_DEV to
 * the LinuxKPI, whose fo_cmp would take our f_data for a struct linux_file)
 * and the next free number is the base system's to take (Joyent's private
 * 15 is DTYPE_INOTIFY in FreeBSD 15).  So f_type is DTYPE_NONE, the value
 * that claims no kind: nothing in the 14.2 kernel dispatches on it except
 * vn_open's advisory lock path, which only ever sees vnodes.
 *
 * Descriptors are always close-on-exec (falloc_caps with O_CLOEXEC) and go
 * away with the process.  The privilege a handle was opened with lives in
 * the core's struct vpc_hdl, not in f_flag (which fcntl(2) can change), so
 * passing a handle over a Unix socket passes exactly that capability.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/capsicum.h>
#include <sys/fcntl.h>
#include <sys/file.h>
#include <sys/filedesc.h>
#include <sys/filio.h>
#include <sys/kernel.h>
#include <sys/malloc.h>
#include <sys/poll.h>
#include <sys/proc.h>
#include <sys/stat.h>
#include <sys/sysctl.h>
#include <sys/ucred.h>
#include <sys/user.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

static fo_ioctl_t	vpc_fo_ioctl;
static fo_poll_t	vpc_fo_poll;
static fo_stat_t	vpc_fo_stat;
static fo_close_t	vpc_fo_close;
static fo_seek_t	vpc_fo_seek;
static fo_fill_kinfo_t	vpc_fo_fill_kinfo;
static fo_cmp_t		vpc_fo_cmp;

/*
 * Every slot is filled.  A handle is neither readable nor writable data,
 * cannot be seeked, mapped, truncated, chmod'ed or sent: invfo_* say so.
 * The optional slots (mmap, aio, seals, fallocate, fspacectl) are NULL,
 * which their fo_* wrappers answer with ENODEV/EINVAL/EOPNOTSUPP; aio falls
 * back to aio_queue_file(), which refuses a non-vnode as unsafe (and with
 * vfs.aio.enable_unsafe the request fails on invfo_rdwr).
 */
struct fileops vpc_fileops = {
	.fo_read = invfo_rdwr,
	.fo_write = invfo_rdwr,
	.fo_truncate = invfo_truncate,
	.fo_ioctl = vpc_fo_ioctl,
	.fo_poll = vpc_fo_poll,
	.fo_kqfilter = invfo_kqfilter,
	.fo_stat = vpc_fo_stat,
	.fo_close = vpc_fo_close,
	.fo_chmod = invfo_chmod,
	.fo_chown = invfo_chown,
	.fo_sendfile = invfo_sendfile,
	.fo_seek = vpc_fo_seek,
	.fo_fill_kinfo = vpc_fo_fill_kinfo,
	.fo_mmap = NULL,
	.fo_aio_queue = NULL,
	.fo_add_seals = NULL,
	.fo_get_seals = NULL,
	.fo_fallocate = NULL,
	.fo_fspacectl = NULL,
	.fo_cmp = vpc_fo_cmp,
	.fo_flags = DFLAG_PASSABLE,
};

static const char *const vpc_type_names[] = {
	[VPC_TYPE_NIC] = "vmnic",
	[VPC_TYPE_SWITCH] = "switch",
	[VPC_TYPE_SWPORT] = "port",
	[VPC_TYPE_ROUTER] = "router",
	[VPC_TYPE_NAT] = "nat",
	[VPC_TYPE_LINK] = "link",
	[VPC_TYPE_VCC] = "vcc",
};

static const char *
vpc_type_name(const struct vpc_hdl *h)
{
	unsigned t = vpc_hdl_objtype(h);

	return (t < nitems(vpc_type_names) && vpc_type_names[t] != NULL ?
	    vpc_type_names[t] : "unknown");
}

/* ---- fileops ------------------------------------------------------------------ */

/*
 * The last reference is gone (close(2), exit, unp_gc): drop the core's
 * handle.  An uncommitted object dies with its last handle (a vmnic takes
 * its ifnet along), so this may sleep; fo_close is called without the
 * file descriptor table lock, and never with the core's control lock held
 * (see vpc_fbsd_caller_commit).
 */
static int
vpc_fo_close(struct file *fp, struct thread *td __unused)
{
	struct vpc_hdl *h = fp->f_data;
	struct vpc_sys *sys;

	fp->f_ops = &badfileops;
	fp->f_data = NULL;
	if (h == NULL)
		return (0);
	/*
	 * No gate here: this may run inside vpc_ctl(2), which holds it.  The
	 * handle itself keeps the instance alive (MOD_UNLOAD refuses while
	 * one exists).
	 */
	sys = vpc_fbsd_sys();
	KASSERT(sys != NULL, ("%s: a handle outlived the instance", __func__));
	vpc_core_close(sys, h);
	return (0);
}

/*
 * fcntl(F_SETFL) sends FIONBIO and FIOASYNC.  FIONBIO is fine (ops never
 * block; the upcall device reads the flag where it matters); FIOASYNC
 * (SIGIO) is not offered; anything else is not ours.
 */
int
vpc_fbsd_fcntl_ioctl(u_long cmd, const void *data)
{
	switch (cmd) {
	case FIONBIO:
		return (0);
	case FIOASYNC:
		return (*(const int *)data != 0 ? EINVAL : 0);
	default:
		return (ENOTTY);
	}
}

static int
vpc_fo_ioctl(struct file *fp __unused, u_long com, void *data,
    struct ucred *active_cred __unused, struct thread *td __unused)
{
	return (vpc_fbsd_fcntl_ioctl(com, data));
}

/*
 * A handle never has data to read, and ops never block: it is always
 * "writable", and hung up once its object is destroyed (ops then fail with
 * EIDRM).  There is no wakeup for that transition (the core has no hook),
 * so poll for POLLHUP with a timeout.
 */
static int
vpc_fo_poll(struct file *fp, int events, struct ucred *active_cred __unused,
    struct thread *td __unused)
{
	struct vpc_hdl *h = fp->f_data;
	struct vpc_call call = { .caller = NULL, .priv = false };
	struct vpc_sys *sys;
	size_t vallen = 0;
	int revents, error;

	if (h == NULL || (sys = vpc_fbsd_sys()) == NULL)
		return (POLLNVAL);
	error = vpc_core_ctl(sys, &call, h, VPC_OP_NOP, NULL, 0, NULL, &vallen);
	if (error == EIDRM)
		return (POLLHUP);
	revents = events & (POLLOUT | POLLWRNORM);
	return (revents);
}

static int
vpc_fo_stat(struct file *fp, struct stat *sb, struct ucred *active_cred __unused)
{
	bzero(sb, sizeof(*sb));
	sb->st_mode = S_IRUSR | S_IWUSR;	/* no file type: it is none */
	sb->st_nlink = 1;
	sb->st_uid = fp->f_cred->cr_uid;
	sb->st_gid = fp->f_cred->cr_gid;
	sb->st_dev = NODEV;
	sb->st_rdev = NODEV;
	sb->st_blksize = PAGE_SIZE;
	return (0);
}

static int
vpc_fo_seek(struct file *fp __unused, off_t offset __unused,
    int whence __unused, struct thread *td __unused)
{
	return (ESPIPE);	/* not reached: we are not DFLAG_SEEKABLE */
}

/* procstat -f: KF_TYPE_UNKNOWN, with a path saying what it is. */
static int
vpc_fo_fill_kinfo(struct file *fp, struct kinfo_file *kif,
    struct filedesc *fdp __unused)
{
	struct vpc_hdl *h = fp->f_data;

	kif->kf_type = KF_TYPE_UNKNOWN;
	snprintf(kif->kf_path, sizeof(kif->kf_path), "vpc:%s",
	    h != NULL ? vpc_type_name(h) : "closed");
	return (0);
}

/* kcmp(2) KCMP_FILEOBJ: the same handle, or not ours at all (3). */
static int
vpc_fo_cmp(struct file *fp1, struct file *fp2, struct thread *td __unused)
{
	if (fp2->f_ops != &vpc_fileops)
		return (3);
	return (kcmp_cmp((uintptr_t)fp1->f_data, (uintptr_t)fp2->f_data));
}

/* ---- Making and finding handles ------------------------------------------------ */

/* vpc_open(2): h becomes a new descriptor, or is released on failure. */
int
vpc_fbsd_handle_open(struct thread *td, struct vpc_sys *sys, struct vpc_hdl *h,
    int *fdp)
{
	struct file *fp;
	int error, fd;

	error = falloc_caps(td, &fp, &fd, O_CLOEXEC, NULL);
	if (error != 0) {
		vpc_core_close(sys, h);
		return (error);
	}
	finit(fp, FREAD | FWRITE, DTYPE_NONE, h, &vpc_fileops);
	fdrop(fp, td);
	*fdp = fd;
	return (0);
}

/*
 * vpc_ctl(2)'s handle: EBADF for anything that is not one of ours.  The
 * caller fdrop()s *fpp when done; the reference keeps f_data alive.
 */
int
vpc_fbsd_handle_get(struct thread *td, int fd, struct file **fpp,
    struct vpc_hdl **hp)
{
	struct file *fp;
	int error;

	error = fget(td, fd, &cap_no_rights, &fp);
	if (error != 0)
		return (error);
	if (fp->f_ops != &vpc_fileops || fp->f_data == NULL) {
		fdrop(fp, td);
		return (EBADF);
	}
	*fpp = fp;
	*hp = fp->f_data;
	return (0);
}

/*
 * The core's descriptor hooks.  os_handle_install runs inside an op, under
 * the core's control lock, so it only reserves a descriptor: falloc_caps()
 * puts a file with badfileops in the table (another thread that guesses
 * the number gets EBADF).  The file becomes ours with finit() only when the
 * op has succeeded and the lock is dropped (vpc_fbsd_caller_commit); if the
 * op fails, the reservation is undone and the core keeps (and frees) its
 * handle.  Closing a live handle takes the control lock (fo_close ->
 * vpc_core_close), which is why nothing here may close one while an op
 * holds that lock.
 */
int
os_handle_install(struct vpc_caller *c, struct vpc_hdl *h, vpc_handle_t *out)
{
	struct file *fp;
	int error, fd;

	if (c == NULL || c->fp != NULL)
		return (EINVAL);	/* one descriptor per call */
	error = falloc_caps(c->td, &fp, &fd, O_CLOEXEC, NULL);
	if (error != 0)
		return (error);
	c->fp = fp;
	c->fd = fd;
	c->hdl = h;
	*out = fd;
	return (0);
}

void
os_handle_uninstall(struct vpc_caller *c, vpc_handle_t fd)
{
	KASSERT(c->fp != NULL && c->fd == fd,
	    ("%s: fd %d was not installed by this call", __func__, fd));
	c->undo = true;		/* undone once the control lock is dropped */
}

/* The op failed: give the reserved number back; the core owns the handle. */
void
vpc_fbsd_caller_abort(struct vpc_caller *c)
{
	if (c->fp == NULL)
		return;
	fdclose(c->td, c->fp, c->fd);
	fdrop(c->fp, c->td);
	c->fp = NULL;
}

/*
 * The op succeeded: the descriptor goes live.  From here on the file owns
 * the handle; dropping the last reference (vpc_fbsd_caller_done, or
 * fdclose if the copy-out fails, as sys_pipe2 does) releases it.
 */
void
vpc_fbsd_caller_commit(struct vpc_caller *c)
{
	if (c->fp == NULL)
		return;
	if (c->undo) {
		vpc_fbsd_caller_abort(c);
		return;
	}
	finit(c->fp, FREAD | FWRITE, DTYPE_NONE, c->hdl, &vpc_fileops);
}

/*
 * The copy-out failed: the caller cannot know its new descriptor, so close
 * it again (as sys_pipe2 does).  fdclose() does nothing if another thread
 * already closed or replaced that number.
 */
void
vpc_fbsd_caller_revoke(struct vpc_caller *c)
{
	if (c->fp != NULL)
		fdclose(c->td, c->fp, c->fd);
}

/* After the copy-out: drop our reference (the table keeps its own). */
void
vpc_fbsd_caller_done(struct vpc_caller *c)
{
	if (c->fp == NULL)
		return;
	fdrop(c->fp, c->td);
	c->fp = NULL;
}
