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
 *    value): checked before the request is sent, because the daemon applies
 *    the op before the reply lands in them, and an error must mean nothing
 *    happened (the FreeBSD syscall promises the same).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpc_os.h"
#include "host_proto.h"

#define EXPORT __attribute__((visibility("default")))

int vpc_errno_from_wire(int e);  /* host_errno.c */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int conn_fd = -1;
static pid_t conn_pid;          /* the process that made conn_fd */
static pid_t daemon_pid;

/* One connection per process; a child after fork() makes its own. */
static int
connection(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	if (conn_fd >= 0 && conn_pid == getpid())
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
	conn_pid = getpid();
	daemon_pid = cred.pid;
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
 */
static bool
is_handle(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int type;
	socklen_t tlen = sizeof(type);

	if (fd < 0)
		return (false);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_SEQPACKET)
		return (false);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return (false);
	return (cred.pid == daemon_pid);
}

/*
 * Can len bytes at p be read and written?  process_vm_readv/writev on our
 * own process answer EFAULT for a bad address where touching it would be
 * SIGSEGV; the bytes are written back as they were read.  Where those
 * calls are not allowed (a seccomp filter), the check is skipped.
 */
static bool
user_rw(void *p, size_t len)
{
	static char bounce[VPC_CTL_MAX_VALLEN];   /* under the lock */
	struct iovec local, remote;
	pid_t self = getpid();
	size_t n;

	while (len > 0) {
		n = len < sizeof(bounce) ? len : sizeof(bounce);
		local.iov_base = bounce;
		local.iov_len = n;
		remote.iov_base = p;
		remote.iov_len = n;
		if (process_vm_readv(self, &local, 1, &remote, 1, 0) != (ssize_t)n ||
		    process_vm_writev(self, &local, 1, &remote, 1, 0) != (ssize_t)n)
			return (errno != EFAULT);       /* EPERM/ENOSYS: can't tell */
		p = (char *)p + n;
		len -= n;
	}
	return (true);
}

/*
 * Send a request and wait for its reply.  The value lands in val (up to
 * vallen bytes); a descriptor that comes along is returned in *passfd.
 */
static int
roundtrip(int fd, const struct vpc_wire_req *req, const void *key,
    struct vpc_wire_rep *rep, void *val, size_t vallen, int *passfd)
{
	struct iovec out[2] = {
		{ .iov_base = (void *)(uintptr_t)req, .iov_len = sizeof(*req) },
		{ .iov_base = (void *)(uintptr_t)key, .iov_len = req->keylen },
	};
	struct msghdr msg = { .msg_iov = out, .msg_iovlen = key != NULL ? 2 : 1 };
	struct iovec in[2] = {
		{ .iov_base = rep, .iov_len = sizeof(*rep) },
		{ .iov_base = val, .iov_len = vallen },
	};
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *c;
	ssize_t n;
	bool sent;

	*passfd = -1;
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EPIPE && errno != ECONNRESET && errno != ENOTCONN)
		return (-1);
	sent = n >= 0;
	/*
	 * When the send met a closed socket, a daemon that refused us may
	 * have said why first (EACCES, EMFILE): read that, without waiting.
	 */
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = in;
	msg.msg_iovlen = val != NULL ? 2 : 1;
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
	pthread_mutex_lock(&lock);
	fd = connection();
	rc = fd < 0 ? -1 : roundtrip(fd, &req, NULL, &rep, NULL, 0, &passfd);
	if (fd >= 0 && (rc < 0 || refused(&rep)))
		drop_connection();
	if (rc == 0 && rep.error != 0) {
		errno = vpc_errno_from_wire(rep.error);
		rc = -1;
	} else if (rc == 0 && passfd < 0) {
		errno = ECONNRESET;
		rc = -1;
	}
	pthread_mutex_unlock(&lock);
	return (rc < 0 ? -1 : passfd);
}

EXPORT int
vpc_ctl(vpc_handle_t h, vpc_op_t op, size_t keylen, const void *key,
    size_t *vallen, void *buf)
{
	struct vpc_wire_req req;
	struct vpc_wire_rep rep;
	size_t cap;
	int fd, passfd, rc, saved;

	if (keylen > VPC_CTL_MAX_KEYLEN) {
		errno = E2BIG;
		return (-1);
	}
	pthread_mutex_lock(&lock);
	if (vallen != NULL && !user_rw(vallen, sizeof(*vallen))) {
		pthread_mutex_unlock(&lock);
		errno = EFAULT;
		return (-1);
	}
	cap = vallen != NULL ? *vallen : 0;
	if ((keylen > 0 && key == NULL) || (cap > 0 && (buf == NULL ||
	    !user_rw(buf, cap < VPC_CTL_MAX_VALLEN ? cap : VPC_CTL_MAX_VALLEN)))) {
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
	    cap > 0 ? buf : NULL, cap < VPC_CTL_MAX_VALLEN ? cap :
	    VPC_CTL_MAX_VALLEN, &passfd);
	saved = errno;
	if (fd >= 0 && fd == conn_fd && (rc < 0 || refused(&rep)))
		drop_connection();
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
