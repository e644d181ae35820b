/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_c_agent: a measuring stick for bench/profile, not a product.  The
 * least an upcall reader of vpc-hostd can do: read the requests from the
 * upcall socket, look each MAC up in a table, and answer all that one read
 * brought with one vpc_ctl(SYS_UPCALL_ANSWER) per 256 through libvpc.  What
 * vpc-agent costs beyond this is the agent's; what this costs is vpc-hostd's
 * and the channel's.
 *
 *   usage: vpc_c_agent MAPPINGS_FILE [TTL_MS]
 *     MAPPINGS_FILE  lines "MAC IPV4" (the VTEP), as linux_l2miss_agent reads
 *     $VPC_UPCALL_SOCKET  the daemon's upcall socket; $VPC_HOSTD_SOCKET its socket
 *   prints "ready" once attached; exits on EOF or "quit" on stdin.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpc.h"

struct slot {
	uint64_t mac;           /* 0: empty */
	uint32_t vtep;          /* network order */
};

static struct slot *tab;
static size_t tabmask;

static uint64_t
mac_key(const uint8_t m[6])
{
	uint64_t k = 0;

	for (int i = 0; i < 6; i++)
		k = k << 8 | m[i];
	return (k);
}

static struct slot *
lookup(uint64_t k, bool insert)
{
	size_t i = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & tabmask;

	for (;; i = (i + 1) & tabmask) {
		if (tab[i].mac == k)
			return (&tab[i]);
		if (tab[i].mac == 0)
			return (insert ? &tab[i] : NULL);
	}
}

static int
load(const char *path)
{
	unsigned m[6];
	char ip[64];
	size_t n = 0, cap;
	FILE *f = fopen(path, "r");
	struct in_addr a;
	uint8_t b[6];
	struct slot *s;

	if (f == NULL)
		return (-1);
	while (fscanf(f, "%x:%x:%x:%x:%x:%x %63s", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], ip) == 7)
		n++;
	for (cap = 16; cap < 2 * n + 16; cap *= 2)
		;
	if ((tab = calloc(cap, sizeof(*tab))) == NULL)
		return (-1);
	tabmask = cap - 1;
	rewind(f);
	while (fscanf(f, "%x:%x:%x:%x:%x:%x %63s", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], ip) == 7) {
		for (int i = 0; i < 6; i++)
			b[i] = (uint8_t)m[i];
		if (inet_pton(AF_INET, ip, &a) != 1 || mac_key(b) == 0)
			continue;
		s = lookup(mac_key(b), true);
		s->mac = mac_key(b);
		s->vtep = a.s_addr;
	}
	fclose(f);
	return (0);
}

static uint32_t ttl_ms = 600000;
static unsigned long long answered, refused, batches;

static void
answer(vpc_upcall_ans_t *ans, size_t n)
{
	int32_t res[VPC_UPCALL_BATCH_MAX];
	size_t vl = n * sizeof(res[0]);

	if (vpc_ctl(VPC_HANDLE_NONE, VPC_OP_SYS_UPCALL_ANSWER, n * sizeof(*ans), ans, &vl, res) < 0) {
		perror("SYS_UPCALL_ANSWER");
		exit(1);
	}
	batches++;
	for (size_t i = 0; i < n; i++) {
		if (res[i] == 0)
			answered++;
		else
			refused++;
	}
}

int
main(int argc, char **argv)
{
	static uint8_t buf[128 * 1024];
	static vpc_upcall_ans_t ans[VPC_UPCALL_BATCH_MAX];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = getenv("VPC_UPCALL_SOCKET");
	vpc_upcall_hello_t hello;
	struct pollfd pf[2];
	size_t have = 0, off, n;
	ssize_t r;
	int fd;

	if (argc < 2 || path == NULL) {
		fprintf(stderr, "usage: VPC_UPCALL_SOCKET=... %s MAPPINGS_FILE [TTL_MS]\n", argv[0]);
		return (2);
	}
	if (argc > 2)
		ttl_ms = (uint32_t)atoi(argv[2]);
	if (load(argv[1]) < 0) {
		perror(argv[1]);
		return (1);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    recv(fd, &hello, sizeof(hello), MSG_WAITALL) != sizeof(hello)) {
		perror(path);
		return (1);
	}
	if (hello.magic != VPC_UPCALL_MAGIC || hello.req_size != sizeof(vpc_upcall_req_t) || hello.error != 0) {
		fprintf(stderr, "%s: refused (error %d)\n", path, hello.error);
		return (1);
	}
	printf("ready\n");
	fflush(stdout);
	pf[0].fd = fd;
	pf[0].events = POLLIN;
	pf[1].fd = STDIN_FILENO;
	pf[1].events = POLLIN;
	for (;;) {
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			return (1);
		if (pf[1].revents != 0) {
			char line[32];

			if (fgets(line, sizeof(line), stdin) == NULL || strncmp(line, "quit", 4) == 0)
				return (0);
			printf("{\"answered\":%llu,\"refused\":%llu,\"batches\":%llu}\n", answered, refused, batches);
			fflush(stdout);
		}
		if (pf[0].revents == 0)
			continue;
		if ((r = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT)) <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			return (r == 0 ? 0 : 1);
		}
		have += (size_t)r;
		for (off = 0, n = 0; have - off >= sizeof(vpc_upcall_req_t); off += sizeof(vpc_upcall_req_t)) {
			vpc_upcall_req_t q;
			struct slot *s;

			memcpy(&q, buf + off, sizeof(q));
			memset(&ans[n], 0, sizeof(ans[n]));
			ans[n].req_id = q.req_id;
			ans[n].generation = q.generation;
			if ((s = lookup(mac_key(q.dstmac), false)) != NULL) {
				ans[n].status = VPC_UPCALL_FOUND;
				ans[n].ttl_ms = ttl_ms;
				ans[n].af = VPC_AF_INET;
				memcpy(ans[n].addr, &s->vtep, 4);
			} else
				ans[n].status = VPC_UPCALL_NOT_FOUND;
			if (++n == VPC_UPCALL_BATCH_MAX) {
				answer(ans, n);
				n = 0;
			}
		}
		if (n > 0)
			answer(ans, n);
		memmove(buf, buf + off, have - off);
		have -= off;
	}
}
