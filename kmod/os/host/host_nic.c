/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_nic.c: a vmnic on the host kernel is a Linux TAP device.  What the VM
 * (a process or namespace on the TAP's network side) sends, we read from the
 * TAP's descriptor and hand to the switch; what the switch delivers to the
 * vmnic, we write to it.
 *
 * The TAP is made when the vmnic gets its MAC (a vmnic without one can carry
 * no traffic: the switch drops what does not come from its MAC) and is named
 * after NIC_SET_IFNAME, or vpc<N>.  Destroying a TAP takes Linux ~16 ms (an
 * RCU grace period), so descriptors are closed by a reaper thread, never on
 * the event loop.
 *
 * The MTU is set when the TAP is made (it is in our namespace then) and
 * whenever the core's changes.  By then the TAP has usually been moved into
 * the VM's namespace, where SIOCSIFMTU from a socket of ours cannot name it
 * (ioctls on the TAP's own descriptor cover the MAC, not the MTU).  So we ask
 * the TAP where it lives (TUNGETDEVNETNS, Linux 5.2) and what it is called
 * now (TUNGETIFF), and a short-lived thread enters that namespace
 * (setns(2) changes only the calling thread's) to open the socket the
 * ioctl goes through.  The daemon's own thread never leaves its namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sched.h>
#include <unistd.h>

#include "vpc_core.h"
#include "host_loop.h"
#include "host_nic.h"
#include "host_os.h"
#include "host_gro.h"
#include "host_pkt.h"
#include "host_vnet.h"

#define TAP_READ_BATCH   64
#define TAP_FRAME_BUDGET 256    /* frames a wakeup, TSO frames cut */
/* The largest frame a TAP hands over: a 64 KB TSO frame (an IP length of
 * 65535) behind its Ethernet header and a VLAN tag. */
#define FRAME_MAX        (14 + 4 + 65535)

struct tap {
	struct hsrc     src;
	struct vpc_nic *nic;
	char            name[IFNAMSIZ];
};

static unsigned tap_seq;
static uint8_t rbuf[HOST_VNET_HDR_LEN + FRAME_MAX];
/* What we write before every frame: no offload asked of the VM's stack. */
static const struct virtio_net_hdr plain_hdr;

/* ---- The reapers --------------------------------------------------------------- */

/*
 * Linux creates a TAP in ~0.2 ms but needs ~16 ms to remove one, and the
 * waits of several closers overlap (measured here: 1 thread 56/s, 4 threads
 * 197/s, 16 threads 530/s).  So a small pool closes them, and the number
 * of TAPs still being removed is bounded: past it, making a new one says
 * EAGAIN instead of letting the daemon run out of descriptors for handles.
 */
#define REAPERS          8
#define REAP_BACKLOG_MAX 1024            /* also the size of the queue */

static pthread_mutex_t reap_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reap_cv = PTHREAD_COND_INITIALIZER;
static int reap_fds[REAP_BACKLOG_MAX];
static unsigned reap_n;                 /* queued */
static unsigned reap_closing;           /* being closed right now */
static unsigned reapers;
unsigned host_tap_backlog_max = REAP_BACKLOG_MAX;
const char *host_tap_reap_hold;
static bool reaper_stop;
static pthread_t reaper[REAPERS];

static void *
reap_loop(void *arg)
{
	int fd;

	(void)arg;
	pthread_mutex_lock(&reap_mtx);
	for (;;) {
		while (reap_n == 0 && !reaper_stop)
			pthread_cond_wait(&reap_cv, &reap_mtx);
		if (reap_n == 0)
			break;
		fd = reap_fds[--reap_n];
		reap_closing++;
		pthread_mutex_unlock(&reap_mtx);
		while (host_tap_reap_hold != NULL && access(host_tap_reap_hold, F_OK) == 0 &&
		    !__atomic_load_n(&reaper_stop, __ATOMIC_RELAXED))
			usleep(10000);  /* a test holds the backlog full */
		close(fd);              /* the slow part: unregister_netdevice */
		pthread_mutex_lock(&reap_mtx);
		reap_closing--;
	}
	pthread_mutex_unlock(&reap_mtx);
	return (NULL);
}

/* May a new TAP be made, or are too many old ones still going? */
static bool
reap_backlogged(void)
{
	bool full;

	pthread_mutex_lock(&reap_mtx);
	full = reap_n + reap_closing >= host_tap_backlog_max;
	pthread_mutex_unlock(&reap_mtx);
	return (full);
}

static void
reap(int fd)
{
	bool queued = false;

	pthread_mutex_lock(&reap_mtx);
	if (reapers < REAPERS && reapers <= reap_n + reap_closing &&
	    pthread_create(&reaper[reapers], NULL, reap_loop, NULL) == 0)
		reapers++;
	if (reapers > 0 && reap_n < REAP_BACKLOG_MAX) {
		reap_fds[reap_n++] = fd;
		pthread_cond_signal(&reap_cv);
		queued = true;
	}
	pthread_mutex_unlock(&reap_mtx);
	if (!queued)
		close(fd);      /* no thread or no room: slow, but never leak */
}

/* At exit: wait until every TAP is really gone. */
void
host_nic_fini(void)
{
	unsigned i;

	pthread_mutex_lock(&reap_mtx);
	reaper_stop = true;
	pthread_cond_broadcast(&reap_cv);
	pthread_mutex_unlock(&reap_mtx);
	for (i = 0; i < reapers; i++)
		pthread_join(reaper[i], NULL);
	reapers = 0;
	reaper_stop = false;
}

/* ---- TAP devices ----------------------------------------------------------------- */

static int
errno_to_vpc(int e)
{
	switch (e) {
	case EBUSY:
	case EEXIST:
		return (VPC_EEXIST);
	case EPERM:
	case EACCES:
		return (VPC_EPERM);
	case EMFILE:
	case ENFILE:
		return (VPC_EMFILE);
	case EINVAL:
		return (VPC_EINVAL);
	default:
		return (VPC_ENOMEM);
	}
}

/*
 * Up to TAP_READ_BATCH reads a wakeup, or TAP_FRAME_BUDGET frames (a read
 * of a TSO frame is the dozens it is cut into), then the other ready
 * descriptors get their turn (epoll is level-triggered here: what is left
 * wakes the loop again), so one busy vmnic cannot starve the others.  The
 * frames go to the switch VPC_BURST_MAX at a time, each burst in one epoch
 * section, so that the lookups of a burst's frames overlap
 * (vpc_fwd_burst.c) instead of missing the caches one after the other, and
 * what they send to the underlay leaves in one sendmmsg(2) per destination
 * socket and burst, not a sendto(2) a frame (a syscall and a trip down the
 * stack each: about half the CPU of bulk traffic to another node).  One
 * batch serves every TAP: only the loop's thread reads them, and a burst
 * empties it.
 */
static struct vpc_txbatch tap_tx;

struct tap_burst {
	struct tap     *t;
	struct vpc_pkt *pk[VPC_BURST_MAX];
	unsigned        n;
	unsigned        frames;
};

static void
tap_flush(struct tap_burst *b)
{
	struct os_epoch et;

	if (b->n == 0)
		return;
	os_epoch_enter(&et);
	vpc_nic_input_burst(b->t->nic, b->pk, b->n, &tap_tx);
	os_epoch_exit(&et);
	b->n = 0;
	/*
	 * The burst's misses go to the reader now, not after the TAP's other
	 * reads: their answers are on their way while the rest are read.  A
	 * wakeup reads up to TAP_READ_BATCH (64) frames, as many as a miss
	 * holds (VPC_HOLD_PER_MISS), so sent at the end of it a miss's request
	 * left once its hold queue was full whenever the VM sent faster than
	 * this loop reads, and every frame to that MAC after was dropped
	 * until the answer came (bench/peer figure c).
	 */
	hloop_batch_end_now();
}

static void
tap_queue(struct tap_burst *b, struct vpc_pkt *p)
{
	b->pk[b->n++] = p;
	b->frames++;
	if (b->n == VPC_BURST_MAX)
		tap_flush(b);
}

static void
tap_event(struct hsrc *src, uint32_t events)
{
	struct tap_burst b = { .t = src->arg };
	struct host_tso tso;
	struct vpc_pkt *p;
	unsigned reads;
	ssize_t n;

	(void)events;
	host_gro_begin();       /* a VM on this node may be what it goes to */
	for (reads = 0; reads < TAP_READ_BATCH && b.frames < TAP_FRAME_BUDGET;
	    reads++) {
		if ((n = read(src->fd, rbuf, sizeof(rbuf))) <= 0)
			break;          /* EAGAIN: drained (or gone) */
		if ((p = host_vnet_frame(rbuf, (uint32_t)n, &tso)) != NULL)
			tap_queue(&b, p);
		while (tso.len > 0 && (p = host_vnet_next(&tso)) != NULL)
			tap_queue(&b, p);
	}
	tap_flush(&b);
	host_gro_end();
}

static void
tap_free(struct hsrc *src)
{
	free(src->arg);
}

/*
 * A TAP of the name asked for, or else the first free vpc<N>.  IFF_TUN_EXCL
 * makes TUNSETIFF refuse (EBUSY) a name that exists instead of attaching to
 * that device; a name of our own choosing that someone else took (another
 * daemon in this namespace) just moves on to the next number.
 */
#define TAP_AUTONAME_TRIES 1024

static int
tap_open(const char *want, struct ifreq *ifr)
{
	int fd, e, tries;

	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return (-errno_to_vpc(errno));
	for (tries = 0; tries < TAP_AUTONAME_TRIES; tries++) {
		memset(ifr, 0, sizeof(*ifr));
		ifr->ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL | IFF_VNET_HDR;
		if (want[0] != '\0')
			snprintf(ifr->ifr_name, IFNAMSIZ, "%s", want);
		else
			snprintf(ifr->ifr_name, IFNAMSIZ, "vpc%u", tap_seq++);
		if (ioctl(fd, TUNSETIFF, ifr) == 0) {
			/* Checksums and TCP segmentation left to us
			 * (host_vnet.c); a kernel that refuses keeps them. */
			(void)ioctl(fd, TUNSETOFFLOAD,
			    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
			return (fd);
		}
		e = errno;
		if (want[0] != '\0' || (e != EBUSY && e != EEXIST))
			break;
	}
	close(fd);
	return (-errno_to_vpc(e));
}

/* ---- MTU ----------------------------------------------------------------------------- */

static int
mtu_errno(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return (VPC_EPERM);
	case ENODEV:
	case ENXIO:
		return (VPC_ENXIO);
	case EINVAL:
		return (VPC_EINVAL);
	default:
		return (VPC_ENOMEM);
	}
}

/* SIOCSIFMTU on the interface called name, through socket s. */
static int
set_mtu_via(int s, const char *name, uint32_t mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_mtu = (int)mtu;
	return (ioctl(s, SIOCSIFMTU, &ifr) < 0 ? mtu_errno(errno) : 0);
}

struct ns_socket {
	int nsfd;
	int s;          /* out: a datagram socket in that namespace, or -1 */
	int error;      /* out: errno */
};

static void *
ns_socket_thread(void *arg)
{
	struct ns_socket *a = arg;

	if (setns(a->nsfd, CLONE_NEWNET) < 0)
		a->error = errno;
	else if ((a->s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		a->error = errno;
	return (NULL);
}

/* Is nsfd the network namespace this (main) thread is in? */
static bool
ns_is_ours(int nsfd)
{
	static dev_t dev;
	static ino_t ino;
	static bool known;
	struct stat st;

	if (!known) {
		if (stat("/proc/thread-self/ns/net", &st) < 0)
			return (false);
		dev = st.st_dev;
		ino = st.st_ino;
		known = true;
	}
	return (fstat(nsfd, &st) == 0 && st.st_dev == dev && st.st_ino == ino);
}

/* Wherever the TAP is now. */
static int
tap_set_mtu(struct tap *t, uint32_t mtu)
{
	struct ns_socket a = { .s = -1 };
	struct ifreq ifr;
	pthread_t th;
	int error;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(t->src.fd, TUNGETIFF, &ifr) < 0)
		return (mtu_errno(errno));
	a.nsfd = ioctl(t->src.fd, TUNGETDEVNETNS);
	if (a.nsfd < 0 || ns_is_ours(a.nsfd)) {
		/* Here (or a kernel without TUNGETDEVNETNS: try here). */
		if (a.nsfd >= 0)
			close(a.nsfd);
		if ((a.s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
			return (mtu_errno(errno));
	} else {
		error = pthread_create(&th, NULL, ns_socket_thread, &a);
		if (error == 0)
			pthread_join(th, NULL);
		else
			a.error = error;
		close(a.nsfd);
		if (a.s < 0)
			return (mtu_errno(a.error));
	}
	error = set_mtu_via(a.s, ifr.ifr_name, mtu);
	close(a.s);
	return (error);
}

static int
tap_create(struct vpc_nic *nic, struct tap **out)
{
	struct ifreq ifr;
	struct tap *t;
	int fd, e;

	if (reap_backlogged())
		return (VPC_EAGAIN);
	if ((fd = tap_open(vpc_nic_ifname(nic), &ifr)) < 0)
		return (-fd);
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		reap(fd);
		return (VPC_ENOMEM);
	}
	t->src.fd = fd;
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	if (vpc_nic_mtu(nic) != 1500 &&
	    (e = tap_set_mtu(t, vpc_nic_mtu(nic))) != 0) {
		reap(fd);
		free(t);
		return (e);
	}
	t->src.fn = tap_event;
	t->src.arg = t;
	t->src.free_fn = tap_free;
	t->nic = nic;
	if (hloop_add(&t->src, EPOLLIN) < 0) {
		reap(fd);
		free(t);
		return (VPC_ENOMEM);
	}
	*out = t;
	return (0);
}

int
os_nic_attach(struct vpc_nic *nic)
{
	*vpc_nic_osp(nic) = NULL;
	return (0);
}

void
os_nic_detach(struct vpc_nic *nic)
{
	struct tap *t = *vpc_nic_osp(nic);
	int fd;

	if (t == NULL)
		return;
	*vpc_nic_osp(nic) = NULL;
	fd = t->src.fd;
	(void)epoll_ctl(host_loop_fd(), EPOLL_CTL_DEL, fd, NULL);
	t->src.fd = -1;
	hloop_retire(&t->src);
	reap(fd);
}

int
os_nic_set_mac(struct vpc_nic *nic, const uint8_t mac[6])
{
	struct tap *t = *vpc_nic_osp(nic);
	bool made = false;
	struct ifreq ifr;
	int error;

	if (t == NULL) {
		if ((error = tap_create(nic, &t)) != 0)
			return (error);
		made = true;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	/* On the TAP's own descriptor: works wherever the interface now is. */
	if (ioctl(t->src.fd, SIOCSIFHWADDR, &ifr) < 0) {
		error = errno_to_vpc(errno);
		if (made) {
			*vpc_nic_osp(nic) = t;
			os_nic_detach(nic);
		}
		return (error);
	}
	*vpc_nic_osp(nic) = t;
	return (0);
}

int
os_nic_set_ifname(struct vpc_nic *nic, const char *name)
{
	struct tap *t = *vpc_nic_osp(nic);
	struct ifreq ifr;
	int s, error = 0;

	if (if_nametoindex(name) != 0)
		return (VPC_EEXIST);
	if (t == NULL)
		return (0);             /* the TAP will be made with this name */
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return (VPC_ENOMEM);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
	snprintf(ifr.ifr_newname, IFNAMSIZ, "%s", name);
	/* Linux renames only a downed interface still in our namespace. */
	if (ioctl(s, SIOCSIFNAME, &ifr) < 0)
		error = errno == EEXIST ? VPC_EEXIST : VPC_EBUSY;
	else
		snprintf(t->name, sizeof(t->name), "%s", name);
	close(s);
	return (error);
}

int
os_nic_set_mtu(struct vpc_nic *nic, uint32_t mtu)
{
	struct tap *t = *vpc_nic_osp(nic);

	if (t == NULL)
		return (0);             /* the TAP will be made with it */
	return (tap_set_mtu(t, mtu));
}

void
os_nic_get_ifname(struct vpc_nic *nic, char name[VPC_IFNAMSIZ])
{
	struct tap *t = *vpc_nic_osp(nic);

	snprintf(name, VPC_IFNAMSIZ, "%s", t != NULL ? t->name : vpc_nic_ifname(nic));
}

/* A frame host_gro held for the VM was written, or lost with its write:
 * the switch counts it now, as os_nic_output's answer would have been. */
static void
held_done(void *arg, uint32_t frames, bool written)
{
	struct os_epoch et;

	os_epoch_enter(&et);
	vpc_nic_output_done(arg, frames, written);
	os_epoch_exit(&et);
}

int
os_nic_output(struct vpc_nic *nic, struct vpc_pkt *p)
{
	struct tap *t = *vpc_nic_osp(nic);
	bool written;

	if (t != NULL && host_gro_take(t, t->src.fd, p, held_done, nic))
		return (OS_NIC_HELD);   /* written by host_gro_end at the latest */
	written = t != NULL &&
	    host_vnet_write(t->src.fd, &plain_hdr, host_pkt_data(p), os_pkt_len(p));
	os_pkt_free(p);
	return (written ? 0 : VPC_EAGAIN);
}
