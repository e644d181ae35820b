/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vpc_fbsd_upcall.c: /dev/vpc_upcall, the upcall reader's channel.
 *
 * The core's queue is the queue of record; this device only hands out
 * what it holds.  One reader at a time: a second open gets EBUSY (as
 * devctl(4) does).  Each open has a devfs_set_cdevpriv() cookie whose
 * destructor runs when that open file goes away (close, exit, crash): it
 * calls vpc_upcall_detach(), which puts the requests that reader had read
 * but not answered back at the head of the queue for the next reader, and
 * wakes anyone waiting.  read(2) returns whole vpc_upcall_req_t records
 * only (a buffer smaller than one record is EINVAL), EWOULDBLOCK when
 * non-blocking and there is nothing, and otherwise sleeps interruptibly.
 * poll(2), select(2) and kqueue(2) EVFILT_READ say when records wait.
 * Answers go back through vpc_ctl(2) (VPC_OP_SYS_UPCALL_ANSWER), not here.
 *
 * devctl(4) carries lifecycle events only: "system=VPC subsystem=agent
 * type=ATTACH/DETACH pid=N" when a reader comes and goes (the rules are in
 * service/devd/vpc.conf).  It overwrites its oldest events when full, so it
 * must never carry the requests themselves.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/devctl.h>
#include <sys/event.h>
#include <sys/fcntl.h>
#include <sys/filio.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mutex.h>
#include <sys/poll.h>
#include <sys/proc.h>
#include <sys/selinfo.h>
#include <sys/sysctl.h>
#include <sys/uio.h>

#include "vpc_core.h"
#include "vpc_fbsd.h"

#define	VPC_UPCALL_REC		sizeof(vpc_upcall_req_t)
#define	VPC_UPCALL_READ_MAX	(64 * VPC_UPCALL_REC)	/* per uiomove */

static d_open_t		vpc_up_open;
static d_read_t		vpc_up_read;
static d_ioctl_t	vpc_up_ioctl;
static d_poll_t		vpc_up_poll;
static d_kqfilter_t	vpc_up_kqfilter;

static struct cdevsw vpc_up_cdevsw = {
	.d_version =	D_VERSION,
	.d_open =	vpc_up_open,
	.d_read =	vpc_up_read,
	.d_ioctl =	vpc_up_ioctl,
	.d_poll =	vpc_up_poll,
	.d_kqfilter =	vpc_up_kqfilter,
	.d_name =	"vpc_upcall",
};

static void	vpc_up_filt_detach(struct knote *kn);
static int	vpc_up_filt_read(struct knote *kn, long hint);

static struct filterops vpc_up_rfiltops = {
	.f_isfd =	1,
	.f_detach =	vpc_up_filt_detach,
	.f_event =	vpc_up_filt_read,
};

/* One reader: its open file's cookie. */
struct vpc_up_reader {
	struct vpc_sys	*sys;
	pid_t		 pid;
};

static struct {
	struct mtx	 mtx;		/* sleep/wakeup interlock, knlist lock */
	struct selinfo	 sel;
	struct cdev	*dev;
	struct vpc_sys	*sys;
	bool		 open;		/* a reader is attached */
} vpc_up;

/* ---- The core's wakeup ------------------------------------------------------ */

/*
 * Requests are waiting (called with no core lock held, possibly from the
 * data path inside the epoch: nothing here sleeps).
 */
void
os_upcall_notify(struct vpc_sys *sys __unused)
{
	mtx_lock(&vpc_up.mtx);
	wakeup(&vpc_up);
	KNOTE_LOCKED(&vpc_up.sel.si_note, 0);
	mtx_unlock(&vpc_up.mtx);
	selwakeup(&vpc_up.sel);
}

/*
 * The agent's DEGRADED/RECOVERED, for devd (service/devd/vpc.conf matches
 * $detail).  The core has checked the detail: nothing devd would need
 * quoted.  devctl_notify() allocates M_NOWAIT and drops the event if it
 * cannot: an event is news, not state.
 */
void
os_agent_event(const char *type, const char *detail)
{
	char data[16 + VPC_AGENT_DETAIL_MAX];

	snprintf(data, sizeof(data), "detail=%s", detail);
	devctl_notify("VPC", "agent", type, data);
}

bool
vpc_fbsd_upcall_busy(void)
{
	bool open;

	mtx_lock(&vpc_up.mtx);
	open = vpc_up.open;
	mtx_unlock(&vpc_up.mtx);
	return (open);
}

/* ---- Open and the reader going away ----------------------------------------- */

static void
vpc_up_dtor(void *data)
{
	struct vpc_up_reader *rd = data;
	char buf[32];

	vpc_upcall_detach(rd->sys);	/* its unanswered requests go back */
	os_upcall_notify(rd->sys);
	snprintf(buf, sizeof(buf), "pid=%d", (int)rd->pid);
	devctl_notify("VPC", "agent", "DETACH", buf);
	free(rd, M_VPC);
	/* Last: from here the module may be unloaded. */
	mtx_lock(&vpc_up.mtx);
	vpc_up.open = false;
	mtx_unlock(&vpc_up.mtx);
}

static int
vpc_up_open(struct cdev *dev __unused, int oflags __unused, int devtype __unused,
    struct thread *td)
{
	struct vpc_up_reader *rd;
	struct vpc_sys *sys;
	char buf[32];
	int error;

	if ((sys = vpc_fbsd_enter()) == NULL)
		return (ENXIO);
	mtx_lock(&vpc_up.mtx);
	if (vpc_up.open) {
		mtx_unlock(&vpc_up.mtx);
		vpc_fbsd_exit();
		return (EBUSY);
	}
	vpc_up.open = true;
	mtx_unlock(&vpc_up.mtx);
	if ((error = vpc_upcall_attach(sys)) != 0) {
		mtx_lock(&vpc_up.mtx);
		vpc_up.open = false;
		mtx_unlock(&vpc_up.mtx);
		vpc_fbsd_exit();
		return (error);
	}
	rd = malloc(sizeof(*rd), M_VPC, M_WAITOK | M_ZERO);
	rd->sys = sys;
	rd->pid = td->td_proc->p_pid;
	error = devfs_set_cdevpriv(rd, vpc_up_dtor);
	if (error != 0) {
		/* No cookie, no destructor: undo by hand. */
		vpc_upcall_detach(sys);
		mtx_lock(&vpc_up.mtx);
		vpc_up.open = false;
		mtx_unlock(&vpc_up.mtx);
		free(rd, M_VPC);
		vpc_fbsd_exit();
		return (error);
	}
	vpc_fbsd_exit();
	snprintf(buf, sizeof(buf), "pid=%d", (int)rd->pid);
	devctl_notify("VPC", "agent", "ATTACH", buf);
	return (0);
}

/* ---- read(2) ------------------------------------------------------------------ */

/* Sleep until a record is waiting (or not, with O_NONBLOCK). */
static int
vpc_up_wait(struct vpc_sys *sys, int ioflag)
{
	int error = 0;

	mtx_lock(&vpc_up.mtx);
	while (!vpc_upcall_readable(sys)) {
		if ((ioflag & O_NONBLOCK) != 0) {
			error = EWOULDBLOCK;
			break;
		}
		error = mtx_sleep(&vpc_up, &vpc_up.mtx, PCATCH, "vpcup", 0);
		if (error != 0)
			break;
	}
	mtx_unlock(&vpc_up.mtx);
	return (error);
}

static int
vpc_up_read(struct cdev *dev __unused, struct uio *uio, int ioflag)
{
	struct vpc_up_reader *rd;
	size_t want, got, copied = 0;
	void *buf;
	int error;

	if ((error = devfs_get_cdevpriv((void **)&rd)) != 0)
		return (error);
	if (uio->uio_resid < (ssize_t)VPC_UPCALL_REC)
		return (EINVAL);	/* whole records only */

	buf = malloc(MIN((size_t)uio->uio_resid, VPC_UPCALL_READ_MAX), M_VPC,
	    M_WAITOK);
	while ((size_t)uio->uio_resid >= VPC_UPCALL_REC) {
		want = MIN((size_t)uio->uio_resid, VPC_UPCALL_READ_MAX);
		want -= want % VPC_UPCALL_REC;
		got = vpc_upcall_read(rd->sys, buf, want);
		if (got == 0) {
			if (copied > 0)
				break;
			/* Nothing yet (or another thread of ours took it). */
			if ((error = vpc_up_wait(rd->sys, ioflag)) != 0)
				break;
			continue;
		}
		/*
		 * Should this fault, the records stay pending under a
		 * generation nobody holds: they go back to the queue when
		 * this reader goes away, or expire.
		 */
		if ((error = uiomove(buf, got, uio)) != 0)
			break;
		copied += got;
	}
	free(buf, M_VPC);
	return (error);
}

/* fcntl(F_SETFL, O_NONBLOCK) asks the device; read(2) sees the flag itself. */
static int
vpc_up_ioctl(struct cdev *dev __unused, u_long cmd, caddr_t data,
    int fflag __unused, struct thread *td __unused)
{
	return (vpc_fbsd_fcntl_ioctl(cmd, data));
}

/* ---- poll(2) and kqueue(2) ------------------------------------------------------- */

static int
vpc_up_poll(struct cdev *dev __unused, int events, struct thread *td)
{
	struct vpc_up_reader *rd;
	int revents = 0;

	if (devfs_get_cdevpriv((void **)&rd) != 0)
		return (events & (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM));
	if ((events & (POLLIN | POLLRDNORM)) == 0)
		return (0);
	mtx_lock(&vpc_up.mtx);
	if (vpc_upcall_readable(rd->sys))
		revents = events & (POLLIN | POLLRDNORM);
	else
		selrecord(td, &vpc_up.sel);
	mtx_unlock(&vpc_up.mtx);
	return (revents);
}

static int
vpc_up_kqfilter(struct cdev *dev __unused, struct knote *kn)
{
	if (kn->kn_filter != EVFILT_READ)
		return (EINVAL);
	kn->kn_fop = &vpc_up_rfiltops;
	knlist_add(&vpc_up.sel.si_note, kn, 0);
	return (0);
}

static void
vpc_up_filt_detach(struct knote *kn)
{
	knlist_remove(&vpc_up.sel.si_note, kn, 0);
}

/* Called with vpc_up.mtx held (the knlist's lock). */
static int
vpc_up_filt_read(struct knote *kn, long hint __unused)
{
	struct vpc_sys *sys = vpc_up.sys;

	kn->kn_data = sys != NULL && vpc_upcall_readable(sys) ?
	    VPC_UPCALL_REC : 0;
	return (kn->kn_data != 0);
}

/* ---- Module load and unload --------------------------------------------------------- */

int
vpc_fbsd_upcall_load(struct vpc_sys *sys)
{
	struct make_dev_args args;
	int error;

	mtx_init(&vpc_up.mtx, "vpc upcall dev", NULL, MTX_DEF);
	knlist_init_mtx(&vpc_up.sel.si_note, &vpc_up.mtx);
	vpc_up.sys = sys;
	vpc_up.open = false;

	make_dev_args_init(&args);
	args.mda_flags = MAKEDEV_WAITOK | MAKEDEV_CHECKNAME;
	args.mda_devsw = &vpc_up_cdevsw;
	args.mda_uid = UID_ROOT;
	args.mda_gid = GID_WHEEL;
	args.mda_mode = 0600;
	error = make_dev_s(&args, &vpc_up.dev, "vpc_upcall");
	if (error != 0) {
		knlist_destroy(&vpc_up.sel.si_note);
		mtx_destroy(&vpc_up.mtx);
		return (error);
	}
	return (0);
}

/*
 * Nobody has the device open (MOD_UNLOAD checked, and every open after that
 * fails at the gate).  destroy_dev() waits for threads still inside a d_*
 * method; destroy_dev_drain() for any destroy_dev_sched() (we use none).
 */
void
vpc_fbsd_upcall_unload(void)
{
	if (vpc_up.dev != NULL) {
		destroy_dev(vpc_up.dev);
		destroy_dev_drain(&vpc_up_cdevsw);
		vpc_up.dev = NULL;
	}
	seldrain(&vpc_up.sel);
	knlist_clear(&vpc_up.sel.si_note, 0);
	knlist_destroy(&vpc_up.sel.si_note);
	mtx_destroy(&vpc_up.mtx);
	vpc_up.sys = NULL;
}
