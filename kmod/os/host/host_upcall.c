/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_upcall.c: the host kernel's upcall channel, a SOCK_STREAM Unix socket
 * that a reader (vpc-agent, through net.Socket) connects to.  The daemon
 * writes a vpc_upcall_hello_t, then whole vpc_upcall_req_t records as
 * requests become pending, never blocking: what the socket cannot take now
 * waits in the core's queue, which is the queue of record (the socket buffer
 * never is).  A second reader gets a hello carrying EBUSY and is closed.
 * When the reader disconnects, its unanswered requests go back to the queue
 * for the next one.  Answers come back through vpc_ctl
 * (VPC_OP_SYS_UPCALL_ANSWER), not through this socket.
 *
 * A new request only marks the channel; the records go out at the end of
 * the loop's wakeup (hloop_set_batch_end), all that one wakeup raised in
 * one send(), so a burst of misses costs the daemon and the reader one
 * system call per wakeup rather than one per miss; a TAP's frames send
 * theirs after each burst of them (host_nic.c, tap_flush).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpc_core.h"
#include "host_loop.h"
#include "host_upcall.h"

#define OUTBUF (64 * 1024)

struct reader {
	struct hsrc src;
	size_t      off, len;       /* unsent bytes: out[off, len) */
	bool        want_out;
	uint8_t     out[OUTBUF];
};

static struct vpc_sys *up_sys;
static struct hsrc up_listen;
static struct reader *rd;
static bool up_raised;          /* requests raised since the last flush */

static void
reader_free(struct hsrc *src)
{
	free(src->arg);
}

/*
 * The host kernel's devctl: lifecycle events go to the log in devd's terms
 * (system VPC, subsystem agent, type), so an operator looks for the same
 * words on either OS.
 */
static void
agent_event(int level, const char *type, const char *data)
{
	os_log(level, "event system=VPC subsystem=agent type=%s %s", type, data);
}

void
os_agent_event(const char *type, const char *detail)
{
	char data[32 + VPC_AGENT_DETAIL_MAX];

	snprintf(data, sizeof(data), "detail=%s", detail);
	agent_event(strcmp(type, "DEGRADED") == 0 ? VPC_LOG_WARN : VPC_LOG_INFO,
	    type, data);
}

static void
reader_event_pid(struct reader *r, const char *type)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char data[32];

	if (getsockopt(r->src.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred.pid = 0;
	snprintf(data, sizeof(data), "pid=%d", (int)cred.pid);
	agent_event(strcmp(type, "DETACH") == 0 ? VPC_LOG_WARN : VPC_LOG_INFO,
	    type, data);
}

static void
reader_gone(struct reader *r)
{
	if (rd == r) {
		rd = NULL;
		vpc_upcall_detach(up_sys);
		reader_event_pid(r, "DETACH");
	}
	hloop_retire(&r->src);
}

/* Write what we can; pull more records from the core as the socket drains. */
static void
flush(struct reader *r)
{
	ssize_t n;
	bool want;

	for (;;) {
		if (r->off == r->len) {
			r->off = 0;
			r->len = vpc_upcall_read(up_sys, r->out, sizeof(r->out));
			if (r->len == 0)
				break;
		}
		n = send(r->src.fd, r->out + r->off, r->len - r->off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			reader_gone(r);
			return;
		}
		r->off += (size_t)n;
	}
	want = r->off < r->len;
	if (want != r->want_out) {
		r->want_out = want;
		(void)hloop_mod(&r->src, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0));
	}
}

static void
reader_event(struct hsrc *src, uint32_t events)
{
	struct reader *r = src->arg;
	char junk[256];

	if ((events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) != 0) {
		reader_gone(r);
		return;
	}
	/* Readers have nothing to say on this socket; EOF means gone. */
	if ((events & EPOLLIN) != 0 && recv(src->fd, junk, sizeof(junk),
	    MSG_DONTWAIT) == 0) {
		reader_gone(r);
		return;
	}
	if ((events & EPOLLOUT) != 0)
		flush(r);
}

/* At the descriptor limit: the hello says why, and the reader tries later. */
static void
refuse_emfile(int fd)
{
	vpc_upcall_hello_t hello = { .magic = VPC_UPCALL_MAGIC,
	    .version = VPC_ABI_VERSION, .req_size = sizeof(vpc_upcall_req_t),
	    .error = VPC_EMFILE };

	(void)send(fd, &hello, sizeof(hello), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
listen_event(struct hsrc *src, uint32_t events)
{
	vpc_upcall_hello_t hello = { .magic = VPC_UPCALL_MAGIC,
	    .version = VPC_ABI_VERSION, .req_size = sizeof(vpc_upcall_req_t) };
	struct reader *r;
	int fd;

	(void)events;
	if ((fd = hloop_accept(src, refuse_emfile)) < 0)
		return;
	if (vpc_upcall_attach(up_sys) != 0) {
		hello.error = VPC_EBUSY;        /* one reader at a time */
		(void)send(fd, &hello, sizeof(hello), MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		vpc_upcall_detach(up_sys);
		close(fd);
		return;
	}
	r->src.fd = fd;
	r->src.fn = reader_event;
	r->src.arg = r;
	r->src.hup_first = true;
	r->src.free_fn = reader_free;
	memcpy(r->out, &hello, sizeof(hello));
	r->len = sizeof(hello);
	if (hloop_add(&r->src, EPOLLIN | EPOLLRDHUP) < 0) {
		vpc_upcall_detach(up_sys);
		close(fd);
		free(r);
		return;
	}
	rd = r;
	reader_event_pid(r, "ATTACH");
	flush(r);
}

void
os_upcall_notify(struct vpc_sys *sys)
{
	(void)sys;
	up_raised = true;
}

/* The end of a wakeup: what it raised goes to the reader now. */
static void
batch_end(void)
{
	if (!up_raised)
		return;
	up_raised = false;
	if (rd != NULL)
		flush(rd);
}

static void
static_free(struct hsrc *src)
{
	(void)src;
}

int
host_upcall_start(struct vpc_sys *sys, int listen_fd)
{
	up_sys = sys;
	up_listen.fd = listen_fd;
	up_listen.fn = listen_event;
	up_listen.free_fn = static_free;
	hloop_set_batch_end(batch_end);
	return (hloop_add(&up_listen, EPOLLIN));
}

void
host_upcall_stop(void)
{
	hloop_set_batch_end(NULL);
	if (rd != NULL)
		reader_gone(rd);
	if (up_listen.fd >= 0)
		hloop_retire(&up_listen);
}
