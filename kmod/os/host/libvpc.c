/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libvpc: vpc_open() and vpc_ctl() for the host kernel, with the FreeBSD
 * prototypes and semantics: a handle >= 0 or -1 with errno; 0 or -1 with
 * errno.  A handle is a real descriptor (see host_proto.h), so close(2)
 * releases it, exec closes it, exit releases it.
 *
 * Errors of our own, beyond the core's:
 *  - ECONNREFUSED: no vpc-hostd serves the socket (none running, no socket
 *    file, or a stale one): said at once, never a hang;
 *  - whatever else connect(2) said, as it said it: EACCES above all (the
 *    socket is 0600 in a 0700 directory: not for this user);
 *  - EACCES or EMFILE from the daemon itself when it refuses the connection
 *    (another user; out of descriptors);
 *  - ECONNRESET: the daemon went away while we talked to it;
 *  - EBADF: the descriptor is not a vpc handle;
 *  - EFAULT: a buffer that cannot be read (key) or written (*vallen and the
 *    value): for an op that changes state, checked before the request is
 *    sent, because the daemon applies the op before the reply lands in them,
 *    and an error must mean nothing happened (the FreeBSD syscall promises
 *    the same); for an op that changes nothing, found by the kernel as the
 *    request and the reply cross them.
 *
 * Besides handles, a process using libvpc holds two descriptors of
 * libvpc's own, both close-on-exec: its connection to the daemon and the
 * pipe buffers are checked through.  A child after fork() makes its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpc_os.h"
#include "host_proto.h"
#include "libvpc_ops.generated.h"
#include "libvpc_own.h"

#define EXPORT __attribute__((visibility("default")))

int vpc_errno_from_wire(int e);  /* host_errno.c */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int conn_fd = -1;
static pid_t conn_pid;          /* the process that made conn_fd */
static pid_t daemon_pid;
static uint64_t conn_gen;               /* bumped by every new connection */

/*
 * This process's pid, without a getpid(2) per call: glibc no longer caches
 * it, and a vpc_ctl needs it for the buffer probes and to tell a child's
 * connection from its parent's.  A fork handler clears it in the child
 * (fork() runs it; a vfork child may only exec or _exit, so never gets
 * here; a raw clone(2) without exec is not supported, as with most
 * libraries that keep per-process state).
 */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pid_t self_pid;
static int probe_fd = -1;               /* see "Probing the caller's buffers" */
static bool probe_broken;

static void
forked_child(void)
{
	self_pid = 0;
	/* The probe pipe is shared with the parent now: never use it here. */
	if (probe_fd >= 0)
		close(probe_fd);
	probe_fd = -1;
}

/* The ops that change nothing, a bit each (libvpc_ops.generated.h); an op
 * past the table, a newer daemon's, counts as changing state. */
#define OPS_KNOWN 256
static uint8_t changes_nothing[OPS_KNOWN / 8];

static void
init_once(void)
{
	static const vpc_op_t read_only[] = LIBVPC_READ_ONLY_OPS;
	size_t i;

	for (i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
		if (read_only[i] < OPS_KNOWN)
			changes_nothing[read_only[i] / 8] |=
			    (uint8_t)(1u << (read_only[i] % 8));
	(void)pthread_atfork(NULL, NULL, forked_child);
}

static bool
op_changes_nothing(vpc_op_t op)
{
	return (op < OPS_KNOWN &&
	    (changes_nothing[op / 8] >> (op % 8) & 1) != 0);
}

static pid_t
self(void)
{
	if (self_pid == 0)
		self_pid = getpid();
	return (self_pid);
}

/* One connection per process; a child after fork() makes its own. */
static int
connection(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	if (conn_fd >= 0 && conn_pid == self())
		return (conn_fd);
	if (conn_fd >= 0)
		close(conn_fd);         /* the parent's, inherited */
	conn_fd = -1;
	vpc_wire_default_path(path, sizeof(path));
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		int e = errno;

		close(fd);
		/* No socket file is "nobody serves it" too; the rest as is. */
		errno = e == ENOENT || e == ENOTDIR ? ECONNREFUSED : e;
		return (-1);
	}
	conn_fd = fd;
	conn_pid = self();
	daemon_pid = cred.pid;
	conn_gen++;
	return (fd);
}

/* The daemon went away: the next call connects afresh. */
static void
drop_connection(void)
{
	int saved = errno;

	if (conn_fd >= 0)
		close(conn_fd);
	conn_fd = -1;
	errno = saved;
}

/*
 * Is fd one of our handles?  It must be a SEQPACKET socket whose peer is
 * the daemon; anything else must never see a request written to it.
 *
 * The full check costs two getsockopt(2)s; a vpc_ctl pays one fstat(2)
 * instead once a descriptor has passed it (or came from the daemon): the
 * cache remembers which socket the number stood for, by its inode.  A
 * descriptor number is reused after close(2), but a socket's inode number
 * (sockfs, get_next_ino()) is not while 2^32 newer inodes have not been
 * made, so a number that now names anything else misses the cache and gets
 * the full check.  An entry is only good for the connection it was made
 * under (conn_gen): a handle from before a daemon restart, or the parent's
 * after fork(), is checked afresh, and says what it said before.
 */
#define HCACHE 1024

static struct {
	int      fd;                    /* the descriptor + 1; 0: empty */
	uint64_t gen;
	ino_t    ino;
} hcache[HCACHE];

static void
hcache_put(int fd, const struct stat *st)
{
	if (fd < 0)
		return;
	hcache[fd % HCACHE].fd = fd + 1;
	hcache[fd % HCACHE].gen = conn_gen;
	hcache[fd % HCACHE].ino = st->st_ino;
}

/* A descriptor the daemon just passed us: a handle of this connection. */
static void
hcache_learn(int fd)
{
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
		hcache_put(fd, &st);
}

static bool
is_handle(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct stat st;
	int type;
	socklen_t tlen = sizeof(type);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return (false);
	if (hcache[fd % HCACHE].fd == fd + 1 &&
	    hcache[fd % HCACHE].gen == conn_gen &&
	    hcache[fd % HCACHE].ino == st.st_ino)
		return (true);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_SEQPACKET)
		return (false);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.pid != daemon_pid)
		return (false);
	hcache_put(fd, &st);
	return (true);
}

/* ---- Probing the caller's buffers ----------------------------------------- */

/*
 * The daemon applies an op before its reply lands in the caller's buffers,
 * so for an op that changes state *vallen and the value buffer (its first
 * *vallen bytes, up to the cap) must be known writable before anything is
 * sent, and must be left as they were.  (An op that changes nothing goes
 * without: see vpc_ctl.)
 *
 * The fast way: copy them into a pipe of our own and back out again.
 * write(2) reads the caller's memory and readv(2) writes the same bytes back,
 * each failing with EFAULT where touching the memory would be SIGSEGV: three
 * calls (*vallen, then the buffer it sizes, then both back), each about a
 * third of what a process_vm_readv/writev costs (those pin the pages).  The
 * pipe is one descriptor, opened O_RDWR through /proc/self/fd so that the
 * same descriptor writes and reads it, and it is checked by its inode before
 * each use: a program that closed it and got the number back for a file of
 * its own must never see our bytes written there.  Values up to a page (all
 * but dumps and lists) go this way; whatever the pipe does not settle (a
 * short count, a larger value, no /proc) goes the slow way, which has the
 * last word: process_vm_readv/writev on our own process, reading and writing
 * back the same bytes.  Where those calls are not allowed (a seccomp filter),
 * the check is skipped.
 */
#define PROBE_FAST_MAX (4096 - sizeof(size_t))

enum probe { PROBE_OK, PROBE_FAULT, PROBE_UNSURE };

static ino_t probe_ino;

static bool
probe_fd_ready(void)
{
	struct stat st;
	char path[64];
	int p[2], fd;

	if (probe_fd >= 0) {
		if (fstat(probe_fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
		    st.st_ino == probe_ino)
			return (true);
		probe_fd = -1;          /* not ours any more: forget, never close */
	}
	if (probe_broken || pipe2(p, O_CLOEXEC) < 0)
		return (false);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	close(p[0]);
	close(p[1]);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		probe_fd = fd;
		probe_ino = st.st_ino;
		return (true);
	}
	if (fd >= 0)
		close(fd);
	probe_broken = true;            /* no /proc: the slow way from now on */
	return (false);
}

static enum probe
probe_fast(size_t *vallen, void *buf, size_t *cap)
{
	char junk[4096];
	struct iovec io[2];
	enum probe res = PROBE_UNSURE;
	ssize_t r;
	size_t c;

	if (!probe_fd_ready())
		return (PROBE_UNSURE);
	r = write(probe_fd, vallen, sizeof(*vallen));
	if (r != (ssize_t)sizeof(*vallen)) {
		if (r < 0 && errno == EFAULT)
			res = PROBE_FAULT;
		goto drain;
	}
	c = *vallen;                    /* write(2) just read it */
	if (c > 0 && buf == NULL) {
		res = PROBE_FAULT;
		goto drain;
	}
	if (c > PROBE_FAST_MAX)
		goto drain;
	if (c > 0 && (r = write(probe_fd, buf, c)) != (ssize_t)c) {
		if (r < 0 && errno == EFAULT)
			res = PROBE_FAULT;
		goto drain;
	}
	io[0].iov_base = vallen;
	io[0].iov_len = sizeof(*vallen);
	io[1].iov_base = buf;
	io[1].iov_len = c;
	r = readv(probe_fd, io, c > 0 ? 2 : 1);
	if (r == (ssize_t)(sizeof(*vallen) + c)) {
		*cap = c;
		return (PROBE_OK);
	}
	if (r < 0 && errno == EFAULT)
		res = PROBE_FAULT;
drain:
	while (read(probe_fd, junk, sizeof(junk)) > 0)
		;
	return (res);
}

static bool
probe_slow(size_t *vallen, void *buf, size_t *cap)
{
	static char bounce[VPC_CTL_MAX_VALLEN];   /* under the lock */
	struct iovec local[2], remote[2];
	pid_t pid = self();
	size_t c, n;
	ssize_t r;

	local[0].iov_base = &c;
	local[0].iov_len = sizeof(c);
	remote[0].iov_base = vallen;
	remote[0].iov_len = sizeof(*vallen);
	if (process_vm_readv(pid, local, 1, remote, 1, 0) != (ssize_t)sizeof(c)) {
		if (errno == EFAULT)
			return (false);
		*cap = *vallen;                 /* EPERM/ENOSYS: can't tell */
		return (*cap == 0 || buf != NULL);
	}
	*cap = c;
	n = c < sizeof(bounce) ? c : sizeof(bounce);
	if (n > 0 && buf == NULL)
		return (false);
	local[1].iov_base = bounce;
	local[1].iov_len = n;
	remote[1].iov_base = buf;
	remote[1].iov_len = n;
	if (n > 0 && (r = process_vm_readv(pid, &local[1], 1, &remote[1], 1, 0)) !=
	    (ssize_t)n)
		return (r < 0 && errno != EFAULT);
	/* A short count is a fault in the second iovec (no errno then). */
	r = process_vm_writev(pid, local, n > 0 ? 2 : 1, remote, n > 0 ? 2 : 1, 0);
	if (r == (ssize_t)(sizeof(c) + n))
		return (true);
	return (r < 0 && errno != EFAULT);
}

/* May the call go ahead?  *cap is *vallen (0 without one). */
static bool
user_val_ok(size_t *vallen, void *buf, size_t *cap)
{
	*cap = 0;
	if (vallen == NULL)
		return (true);
	switch (probe_fast(vallen, buf, cap)) {
	case PROBE_OK:
		return (true);
	case PROBE_FAULT:
		return (false);
	default:
		return (probe_slow(vallen, buf, cap));
	}
}

/*
 * The wire field that carries the value's size, as a range of the header,
 * so that the kernel can read it from, or write it to, the caller's *vallen
 * in the same sendmsg(2) or recvmsg(2) (a fault there is EFAULT, nothing
 * sent, or the reply consumed).
 */
#define REQ_VALLEN_AT offsetof(struct vpc_wire_req, vallen)
#define REP_VALLEN_AT offsetof(struct vpc_wire_rep, vallen)
_Static_assert(sizeof(size_t) == sizeof(uint64_t), "*vallen is the wire's field");

/* iov[0..2]: hdr around its size field, which is *field. */
static void
split_at(struct iovec *iov, void *hdr, size_t hdrlen, size_t at, size_t *field)
{
	iov[0].iov_base = hdr;
	iov[0].iov_len = at;
	iov[1].iov_base = field;
	iov[1].iov_len = sizeof(uint64_t);
	iov[2].iov_base = (char *)hdr + at + sizeof(uint64_t);
	iov[2].iov_len = hdrlen - at - sizeof(uint64_t);
}

/*
 * Send a request and wait for its reply.  The value lands in val (up to
 * vallen bytes); a descriptor that comes along is returned in *passfd.
 * With uvallen (the caller's *vallen, not proven readable or writable),
 * the request's size field is read from it and the reply's written to it
 * by the kernel, and vallen is what it held: EFAULT if either faults.
 */
static int
roundtrip(int fd, const struct vpc_wire_req *req, const void *key,
    struct vpc_wire_rep *rep, void *val, size_t vallen, size_t *uvallen,
    int *passfd)
{
	struct iovec out[4], in[4];
	struct msghdr msg = { .msg_iov = out };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *c;
	size_t sent_vallen = 0;
	ssize_t n;
	bool sent, direct;

	*passfd = -1;
	if (uvallen != NULL) {
		split_at(out, (void *)(uintptr_t)req, sizeof(*req), REQ_VALLEN_AT,
		    uvallen);
		msg.msg_iovlen = 3;
	} else {
		out[0].iov_base = (void *)(uintptr_t)req;
		out[0].iov_len = sizeof(*req);
		msg.msg_iovlen = 1;
	}
	if (key != NULL) {
		out[msg.msg_iovlen].iov_base = (void *)(uintptr_t)key;
		out[msg.msg_iovlen++].iov_len = req->keylen;
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EPIPE && errno != ECONNRESET && errno != ENOTCONN)
		return (-1);            /* EFAULT among them: nothing was sent */
	sent = n >= 0;
	/* Only once the kernel has read *uvallen is it known readable. */
	direct = uvallen != NULL && sent;
	if (direct) {
		sent_vallen = *uvallen;
		vallen = sent_vallen < VPC_CTL_MAX_VALLEN ? sent_vallen :
		    VPC_CTL_MAX_VALLEN;
	}
	/*
	 * When the send met a closed socket, a daemon that refused us may
	 * have said why first (EACCES, EMFILE): read that, without waiting.
	 */
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = in;
	if (direct) {
		split_at(in, rep, sizeof(*rep), REP_VALLEN_AT, uvallen);
		msg.msg_iovlen = 3;
	} else {
		in[0].iov_base = rep;
		in[0].iov_len = sizeof(*rep);
		msg.msg_iovlen = 1;
	}
	if (val != NULL || (direct && vallen > 0)) {
		in[msg.msg_iovlen].iov_base = val;
		in[msg.msg_iovlen++].iov_len = vallen;
	}
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC |
		    (sent ? 0 : MSG_DONTWAIT));
	while (n < 0 && errno == EINTR);
	/* A daemon that closed with our request unread leaves ECONNRESET to be
	 * read first, then what it said before closing. */
	if (n < 0 && errno == ECONNRESET)
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	/* The reply was consumed whole: the socket is still in step. */
	if (n < 0 && errno == EFAULT)
		return (-1);
	if (direct && n >= (ssize_t)sizeof(*rep)) {
		rep->vallen = *uvallen;         /* the kernel just wrote it */
		if (rep->error != 0 && rep->error != VPC_ERANGE)
			*uvallen = sent_vallen; /* an older daemon's 0 */
	}
	for (c = CMSG_FIRSTHDR(&msg); n >= 0 && c != NULL;
	    c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(passfd, CMSG_DATA(c), sizeof(int));
	if (n <= 0 || (size_t)n < sizeof(*rep) || rep->magic != VPC_WIRE_MAGIC) {
		if (*passfd >= 0)
			close(*passfd);
		*passfd = -1;
		errno = ECONNRESET;
		return (-1);
	}
	return (0);
}

/*
 * What a daemon refusing the connection says (it closes it then): the next
 * call connects afresh.  An op failing with EMFILE on a good connection
 * costs only a reconnect.
 */
static bool
refused(const struct vpc_wire_rep *rep)
{
	return (rep->error == VPC_EMFILE || rep->error == VPC_EACCES);
}

EXPORT vpc_handle_t
vpc_open(const vpc_id_t *id, vpc_type_t obj_type, vpc_flags_t flags)
{
	struct vpc_wire_req req;
	struct vpc_wire_rep rep;
	int fd, passfd, rc;

	if (id == NULL) {
		errno = EFAULT;
		return (-1);
	}
	memset(&req, 0, sizeof(req));
	req.magic = VPC_WIRE_MAGIC;
	req.kind = VPC_WIRE_OPEN;
	req.id = *id;
	req.type = obj_type;
	req.flags = flags;
	(void)pthread_once(&once, init_once);
	pthread_mutex_lock(&lock);
	fd = connection();
	rc = fd < 0 ? -1 : roundtrip(fd, &req, NULL, &rep, NULL, 0, NULL, &passfd);
	if (fd >= 0 && (rc < 0 || refused(&rep)))
		drop_connection();
	if (rc == 0 && rep.error != 0) {
		errno = vpc_errno_from_wire(rep.error);
		rc = -1;
	} else if (rc == 0 && passfd < 0) {
		errno = ECONNRESET;
		rc = -1;
	} else if (rc == 0)
		hcache_learn(passfd);
	pthread_mutex_unlock(&lock);
	return (rc < 0 ? -1 : passfd);
}

/*
 * vpc_ctl, and libvpc_ctl_own without the probe of the caller's buffers
 * (own: they are libvpc's, which cannot fault).
 */
static int
ctl(vpc_handle_t h, vpc_op_t op, size_t keylen, const void *key,
    size_t *vallen, void *buf, bool own)
{
	struct vpc_wire_req req;
	struct vpc_wire_rep rep;
	size_t cap = 0;
	int fd, passfd, rc, saved;
	bool direct;

	if (keylen > VPC_CTL_MAX_KEYLEN) {
		errno = E2BIG;
		return (-1);
	}
	(void)pthread_once(&once, init_once);
	/*
	 * An op that changes nothing needs no probe: the kernel reads and
	 * writes *vallen and the value as the request and reply cross them,
	 * and a fault there leaves nothing done (a NULL buf is still refused
	 * up front when *vallen asks for bytes, as FreeBSD does: the probe).
	 */
	direct = vallen != NULL && buf != NULL && op_changes_nothing(op);
	pthread_mutex_lock(&lock);
	if (own && !direct && vallen != NULL)
		cap = *vallen;
	if ((!own && !direct && !user_val_ok(vallen, buf, &cap)) ||
	    (keylen > 0 && key == NULL)) {
		pthread_mutex_unlock(&lock);
		errno = EFAULT;
		return (-1);
	}
	memset(&req, 0, sizeof(req));
	req.magic = VPC_WIRE_MAGIC;
	req.kind = VPC_WIRE_CTL;
	req.op = op;
	req.keylen = keylen;
	req.vallen = cap;
	fd = connection();
	if (fd >= 0 && h != VPC_HANDLE_NONE) {
		if (is_handle(h))
			fd = h;
		else {
			fd = -1;
			errno = EBADF;
		}
	}
	rc = fd < 0 ? -1 : roundtrip(fd, &req, keylen > 0 ? key : NULL, &rep,
	    direct || cap > 0 ? buf : NULL, cap < VPC_CTL_MAX_VALLEN ? cap :
	    VPC_CTL_MAX_VALLEN, direct ? vallen : NULL, &passfd);
	saved = errno;
	/* A fault in the caller's buffers leaves the connection in step. */
	if (fd >= 0 && fd == conn_fd && ((rc < 0 && saved != EFAULT) ||
	    (rc == 0 && refused(&rep))))
		drop_connection();
	if (rc == 0 && direct && passfd >= 0) {
		close(passfd);          /* such an op returns no descriptor */
		passfd = -1;
	}
	if (rc == 0 && rep.error == 0 && passfd >= 0)
		hcache_learn(passfd);
	pthread_mutex_unlock(&lock);
	if (rc < 0) {
		errno = saved;
		return (-1);
	}
	if (rep.error != 0) {
		if (passfd >= 0)
			close(passfd);
		if (rep.error == VPC_ERANGE && vallen != NULL)
			*vallen = (size_t)rep.vallen;
		errno = vpc_errno_from_wire(rep.error);
		return (-1);
	}
	if (passfd >= 0) {
		if (rep.handle_off >= 0 &&
		    (size_t)rep.handle_off + sizeof(vpc_handle_t) <= rep.vallen)
			memcpy((char *)buf + rep.handle_off, &passfd,
			    sizeof(vpc_handle_t));
		else
			close(passfd);  /* nowhere to put it: never leak it */
	}
	if (vallen != NULL)
		*vallen = (size_t)rep.vallen;
	return (0);
}

EXPORT int
vpc_ctl(vpc_handle_t h, vpc_op_t op, size_t keylen, const void *key,
    size_t *vallen, void *buf)
{
	return (ctl(h, op, keylen, key, vallen, buf, false));
}

int
libvpc_ctl_own(vpc_handle_t h, vpc_op_t op, size_t keylen, const void *key,
    size_t *vallen, void *buf)
{
	return (ctl(h, op, keylen, key, vallen, buf, true));
}
