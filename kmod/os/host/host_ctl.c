/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_ctl.c: vpc-hostd's control plane.  Accepts connections on the
 * listening socket (one per client process: vpc_open and global ops), keeps
 * the daemon's end of every handle socket, decodes requests, runs them in the
 * core and sends the replies, passing new descriptors along.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpc_core.h"
#include "vpc_list.h"
#include "host_ctl.h"
#include "host_loop.h"
#include "host_proto.h"

/* A client process's connection to the listening socket. */
struct conn {
	struct hsrc  src;
	bool         priv;
	VPC_LIST_LINK(conn) link;       /* conns */
};

/* The daemon's end of one handle. */
struct hhandle {
	struct hsrc     src;
	struct vpc_hdl *h;
	bool            priv;
	VPC_LIST_LINK(hhandle) link;    /* handles */
};

/* What os_handle_install needs to know about the request being served. */
struct vpc_caller {
	bool priv;
	int  passfd;            /* client end to send with the reply, or -1 */
};

static struct vpc_sys *ctl_sys;
static struct hsrc listener;
static VPC_LIST_HEAD(, hhandle) handles;
static VPC_LIST_HEAD(, conn) conns;
static char reqbuf[VPC_WIRE_REQ_MAX + 1];
static char valbuf[VPC_CTL_MAX_VALLEN];

static void handle_event(struct hsrc *src, uint32_t events);

static void
static_free(struct hsrc *src)
{
	(void)src;
}

/* ---- Handles as socket pairs -------------------------------------------- */

static void
hhandle_free(struct hsrc *src)
{
	free(src);
}

static void
hhandle_close(struct hhandle *hh)
{
	if (hh->h != NULL)
		vpc_core_close(ctl_sys, hh->h);
	hh->h = NULL;
	VPC_LIST_REMOVE(&handles, hh, link);
	hloop_retire(&hh->src);
}

int
os_handle_install(struct vpc_caller *c, struct vpc_hdl *h, vpc_handle_t *out)
{
	struct hhandle *hh;
	int sv[2];

	if (c->passfd >= 0)
		return (VPC_EINVAL);    /* one descriptor per reply */
	hh = calloc(1, sizeof(*hh));
	if (hh == NULL)
		return (VPC_ENOMEM);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(hh);
		return (errno == EMFILE || errno == ENFILE ? VPC_EMFILE :
		    VPC_ENOMEM);
	}
	/*
	 * sv[0] stays blocking: the daemon reads and writes it only with
	 * MSG_DONTWAIT (serve, reply), which saves an fcntl per handle.  It is
	 * never dup'ed or passed (sv[1] is), so closing it leaves the epoll set.
	 */
	hh->src.fd = sv[0];
	hh->src.fn = handle_event;
	hh->src.arg = hh;
	hh->src.hup_first = true;
	hh->src.sole_ref = true;
	hh->src.free_fn = hhandle_free;
	hh->h = h;
	hh->priv = c->priv;
	if (hloop_add(&hh->src, EPOLLIN | EPOLLRDHUP) < 0) {
		close(sv[0]);
		close(sv[1]);
		free(hh);
		return (VPC_ENOMEM);
	}
	VPC_LIST_INSERT_HEAD(&handles, hh, link);
	c->passfd = sv[1];
	*out = 0;       /* the client learns its number from SCM_RIGHTS */
	return (0);
}

/*
 * The op that installed a handle failed afterwards.  The core never does
 * that today (installing is its last fallible step); kept for the ABI.
 */
void
os_handle_uninstall(struct vpc_caller *c, vpc_handle_t fd)
{
	(void)fd;
	if (c->passfd >= 0) {
		close(c->passfd);       /* the daemon's end sees the hangup */
		c->passfd = -1;
	}
}

/* ---- Requests and replies --------------------------------------------- */

static void
reply(int fd, int error, void *val, size_t vallen, int handle_off,
    int passfd)
{
	struct vpc_wire_rep rep = {
		.magic = VPC_WIRE_MAGIC, .error = error, .vallen = vallen,
		.handle_off = handle_off,
	};
	struct iovec iov[2] = {
		{ .iov_base = &rep, .iov_len = sizeof(rep) },
		{ .iov_base = val, .iov_len = error == 0 ? vallen : 0 },
	};
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (passfd >= 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		cm.hdr.cmsg_level = SOL_SOCKET;
		cm.hdr.cmsg_type = SCM_RIGHTS;
		cm.hdr.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.hdr), &passfd, sizeof(int));
	}
	/*
	 * Never block on a client.  libvpc always waits for its reply, so a
	 * full socket means a client that does not read: its loss.  Should the
	 * reply not go out, the descriptor we meant to pass is closed below and
	 * the handle's hangup cleans up after it.
	 */
	(void)sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (passfd >= 0)
		close(passfd);
}

/*
 * Serve one message from fd.  h is the handle the socket stands for, or NULL
 * for a process connection.  Returns false when the peer has gone.
 */
static bool
serve(int fd, struct vpc_hdl *h, bool priv)
{
	struct vpc_caller caller = { .priv = priv, .passfd = -1 };
	struct vpc_call call = { .caller = &caller, .priv = priv };
	struct vpc_ctl_later later;
	const struct vpc_opdesc *desc;
	struct vpc_wire_req req;
	struct vpc_hdl *nh;
	const void *key;
	size_t vallen, usable;
	vpc_handle_t dummy;
	ssize_t n;
	int error, handle_off;

	n = recv(fd, reqbuf, sizeof(reqbuf), MSG_DONTWAIT | MSG_TRUNC);
	if (n == 0)
		return (false);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR);
	if ((size_t)n > VPC_WIRE_REQ_MAX) {
		reply(fd, VPC_E2BIG, NULL, 0, -1, -1);
		return (true);
	}
	if ((error = vpc_wire_decode_req(reqbuf, (size_t)n, &req, &key)) != 0) {
		reply(fd, error, NULL, 0, -1, -1);
		return (true);
	}
	if (req.kind == VPC_WIRE_OPEN) {
		if (h != NULL) {
			reply(fd, VPC_EPROTO, NULL, 0, -1, -1);
			return (true);
		}
		error = vpc_core_open(ctl_sys, &call, &req.id, req.type,
		    req.flags, &nh);
		if (error == 0 &&
		    (error = os_handle_install(&caller, nh, &dummy)) != 0)
			vpc_core_close(ctl_sys, nh);
		reply(fd, error, NULL, 0, -1, caller.passfd);
		return (true);
	}

	/* Where a descriptor the op returns goes in the value, for libvpc. */
	handle_off = vpc_ctl_check(h, req.op, (size_t)req.keylen,
	    (size_t)req.vallen, &usable, &desc) == 0 ?
	    vpc_opdesc_handle_off(desc) : -1;
	vallen = (size_t)req.vallen;
	error = vpc_core_ctl_start(ctl_sys, &call, h, req.op, key,
	    (size_t)req.keylen, valbuf, &vallen, &later);
	/* A failed op leaves the caller's *vallen as it was: libvpc may have
	 * the kernel write this field straight into it (libvpc.c). */
	reply(fd, error, valbuf, error == 0 || error == VPC_ERANGE ? vallen :
	    (size_t)req.vallen, caller.passfd >= 0 ? handle_off : -1,
	    caller.passfd);
	/*
	 * The frames an answer released go out after the reply: the agent
	 * (blocked in vpc_ctl until it comes) reads and resolves its next
	 * batch while we send them, on the other core.  What the op changed is
	 * in place already; anything the caller asks next is served after this.
	 */
	vpc_core_ctl_finish(ctl_sys, &later);
	return (true);
}

static void
handle_event(struct hsrc *src, uint32_t events)
{
	struct hhandle *hh = src->arg;

	if ((events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) != 0 ||
	    !serve(src->fd, hh->h, hh->priv))
		hhandle_close(hh);
}

/* ---- Process connections ------------------------------------------------- */

static void
conn_free(struct hsrc *src)
{
	free(src->arg);
}

static void
conn_close(struct conn *c)
{
	VPC_LIST_REMOVE(&conns, c, link);
	hloop_retire(&c->src);
}

static void
conn_event(struct hsrc *src, uint32_t events)
{
	struct conn *c = src->arg;

	if ((events & EPOLLIN) != 0 && serve(src->fd, NULL, c->priv) &&
	    (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) == 0)
		return;
	conn_close(c);
}

/*
 * A connection we will not serve is told why before it is closed: the reply
 * to the request the client is about to send (libvpc reads it even when its
 * send meets the closed socket), so it says EMFILE or EACCES rather than
 * "connection reset".
 */
static void
refuse_emfile(int fd)
{
	reply(fd, VPC_EMFILE, NULL, 0, -1, -1);
}

static void
listener_event(struct hsrc *src, uint32_t events)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;
	int fd;

	(void)events;
	if ((fd = hloop_accept(src, refuse_emfile)) < 0)
		return;
	/* The socket's mode keeps others out; this makes sure of it. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		reply(fd, VPC_EACCES, NULL, 0, -1, -1);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		refuse_emfile(fd);      /* what a client can do about it is the same */
		close(fd);
		return;
	}
	c->src.fd = fd;
	c->src.fn = conn_event;
	c->src.arg = c;
	c->src.free_fn = conn_free;
	c->priv = true;
	if (hloop_add(&c->src, EPOLLIN | EPOLLRDHUP) < 0) {
		close(fd);
		free(c);
		return;
	}
	VPC_LIST_INSERT_HEAD(&conns, c, link);
}

int
host_ctl_start(struct vpc_sys *sys, int listen_fd)
{
	ctl_sys = sys;
	listener.fd = listen_fd;
	listener.fn = listener_event;
	listener.free_fn = static_free;
	return (hloop_add(&listener, EPOLLIN));
}

void
host_ctl_stop(void)
{
	while (!VPC_LIST_EMPTY(&handles))
		hhandle_close(VPC_LIST_FIRST(&handles));
	while (!VPC_LIST_EMPTY(&conns))
		conn_close(VPC_LIST_FIRST(&conns));
	if (listener.fd >= 0)
		hloop_retire(&listener);    /* closes the listening socket */
}
