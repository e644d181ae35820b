/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stream_tool: the two ends of bench/stream's traffic between two VMs,
 * each run inside its VM's namespace.  The receiver measures: a figure is
 * what arrived, over the time from its first byte (datagram) to its last,
 * so that starting the processes costs nothing measured.
 *
 *   tcp-recv PORT              accept one connection, read to EOF
 *   tcp-send ADDR PORT SECS    write 128 KiB at a time for SECS, then close
 *   udp-recv PORT IDLE_MS      count datagrams until none came for IDLE_MS
 *                              after the first
 *   udp-send ADDR PORT SECS SIZE   sendmmsg 64 datagrams of SIZE bytes at a
 *                              time for SECS
 *
 * Receivers print "ready" once listening, then one JSON line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TCP_CHUNK (128 * 1024)
#define UDP_BATCH 64

static char buf[TCP_CHUNK];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static struct sockaddr_in
addr_of(const char *ip, const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_port = htons((uint16_t)atoi(port));
	if (ip != NULL && inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
		fprintf(stderr, "stream_tool: bad address %s\n", ip);
		exit(2);
	}
	return (sin);
}

static int
bound(int type, const char *port)
{
	struct sockaddr_in sin = addr_of(NULL, port);
	int one = 1, fd = socket(AF_INET, type, 0);

	if (fd < 0)
		die("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind");
	return (fd);
}

static void
ready(void)
{
	printf("ready\n");
	fflush(stdout);
}

static int
tcp_recv(const char *port)
{
	int ls = bound(SOCK_STREAM, port), fd;
	unsigned long long bytes = 0;
	double t0 = 0, t1 = 0;
	ssize_t n;

	if (listen(ls, 1) < 0)
		die("listen");
	ready();
	if ((fd = accept(ls, NULL, NULL)) < 0)
		die("accept");
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		t1 = now();
		if (bytes == 0)
			t0 = t1;
		bytes += (unsigned long long)n;
	}
	if (n < 0)
		die("read");
	printf("{\"bytes\": %llu, \"seconds\": %.6f}\n", bytes, t1 - t0);
	return (0);
}

static int
tcp_send(const char *ip, const char *port, double secs)
{
	struct sockaddr_in sin = addr_of(ip, port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double end;
	ssize_t n;

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect");
	end = now() + secs;
	while (now() < end)
		if ((n = write(fd, buf, sizeof(buf))) < 0)
			die("write");
	close(fd);
	return (0);
}

static int
udp_recv(const char *port, int idle_ms)
{
	int fd = bound(SOCK_DGRAM, port), rcvbuf = 8 << 20;
	struct mmsghdr m[UDP_BATCH];
	struct iovec io[UDP_BATCH];
	unsigned long long got = 0;
	double t0 = 0, t1 = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n, i;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	for (i = 0; i < UDP_BATCH; i++) {
		io[i].iov_base = buf + i * 2048;
		io[i].iov_len = 2048;
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &io[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	ready();
	for (;;) {
		/* Until the first datagram, wait as long as it takes. */
		if (poll(&p, 1, got == 0 ? -1 : idle_ms) <= 0)
			break;
		if ((n = recvmmsg(fd, m, UDP_BATCH, MSG_DONTWAIT, NULL)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("recvmmsg");
		}
		t1 = now();
		if (got == 0)
			t0 = t1;
		got += (unsigned long long)n;
	}
	printf("{\"datagrams\": %llu, \"seconds\": %.6f}\n", got, t1 - t0);
	return (0);
}

static int
udp_send(const char *ip, const char *port, double secs, size_t size)
{
	struct sockaddr_in sin = addr_of(ip, port);
	struct mmsghdr m[UDP_BATCH];
	struct iovec io;
	unsigned long long sent = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n, i;
	double end;

	if (fd < 0)
		die("socket");
	if (size > 2048)
		size = 2048;
	io.iov_base = buf;
	io.iov_len = size;
	for (i = 0; i < UDP_BATCH; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_name = &sin;
		m[i].msg_hdr.msg_namelen = sizeof(sin);
		m[i].msg_hdr.msg_iov = &io;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	end = now() + secs;
	while (now() < end) {
		if ((n = sendmmsg(fd, m, UDP_BATCH, 0)) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;       /* the VM's queue is full: try again */
			die("sendmmsg");
		}
		sent += (unsigned long long)n;
	}
	printf("{\"sent\": %llu}\n", sent);
	return (0);
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "tcp-recv") == 0 && argc == 3)
		return (tcp_recv(argv[2]));
	if (strcmp(cmd, "tcp-send") == 0 && argc == 5)
		return (tcp_send(argv[2], argv[3], atof(argv[4])));
	if (strcmp(cmd, "udp-recv") == 0 && argc == 4)
		return (udp_recv(argv[2], atoi(argv[3])));
	if (strcmp(cmd, "udp-send") == 0 && argc == 6)
		return (udp_send(argv[2], argv[3], atof(argv[4]),
		    (size_t)atoi(argv[5])));
	fprintf(stderr, "usage: stream_tool tcp-recv PORT | tcp-send ADDR PORT SECS |"
	    " udp-recv PORT IDLE_MS | udp-send ADDR PORT SECS SIZE\n");
	return (2);
}
