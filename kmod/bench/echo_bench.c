/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo_bench: the floor under bench/ctl.  A vpc_ctl is one request and one
 * reply on a SOCK_SEQPACKET socket pair between two processes; this is that
 * round trip and nothing else: a forked echo server that blocks in recv(2)
 * and sends back what it got, and a client that sends a request-sized
 * message and waits for the reply.  No descriptor passing, no parsing, no
 * epoll: the least any design with a daemon on the other end can cost.
 * Runs for the given seconds and prints JSON (round trips per second).
 *
 *   echo_bench SECONDS [SERVER_CPU]   the server pinned to that CPU (the
 *                                     client runs where it was started)
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What bench/ctl's ops carry: a 64-byte request header and a small key;
 * the reply is a 24-byte header and a small value. */
#define REQ_LEN 128
#define REP_LEN 112

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
serve(int fd)
{
	char buf[REQ_LEN];

	while (recv(fd, buf, sizeof(buf), 0) > 0)
		if (send(fd, buf, REP_LEN, MSG_NOSIGNAL) != REP_LEN)
			break;
	_exit(0);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0, t0, t;
	unsigned long long n = 0;
	char req[REQ_LEN], rep[REP_LEN];
	pid_t pid;
	int sv[2], status;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		return (1);
	}
	if ((pid = fork()) < 0) {
		perror("fork");
		return (1);
	}
	if (pid == 0) {
		close(sv[0]);
		if (argc > 2) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(atoi(argv[2]), &set);
			if (sched_setaffinity(0, sizeof(set), &set) < 0) {
				perror("sched_setaffinity");
				_exit(1);
			}
		}
		serve(sv[1]);
	}
	close(sv[1]);
	memset(req, 0x5a, sizeof(req));
	t0 = now();
	do {
		for (int i = 0; i < 64; i++, n++) {
			if (send(sv[0], req, sizeof(req), MSG_NOSIGNAL) != REQ_LEN ||
			    recv(sv[0], rep, sizeof(rep), 0) != REP_LEN) {
				perror("echo");
				kill(pid, SIGKILL);
				return (1);
			}
		}
		t = now() - t0;
	} while (t < secs);
	close(sv[0]);
	waitpid(pid, &status, 0);
	printf("{\"round_trips\": %llu, \"seconds\": %.3f, "
	    "\"round_trips_per_sec\": %.1f}\n", n, t, (double)n / t);
	return (0);
}
