/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_gso.c: the host's sender sockets for runs to the underlay
 * (host_gso.c), on loopback: every flow sending at once keeps its socket
 * whatever its source port, the least recently used one makes room for a
 * new flow, and each run arrives whole.  Part of test_core.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpc_impl.h"
#include "host_gso.h"
#include "test_gso.h"

static struct gt {
	struct vpc_sys *sys;
	const char     *name;
	int            *failed;
	int             rx;             /* where the runs go */
	struct sockaddr_storage dst;
} G = { .rx = -1 };

#define TEST_AREA "gso"
#define TEST_STATE G
#include "test_area.h"

/* Ports with one remainder modulo the slot count, high in the range. */
#define PORT(k) ((uint16_t)(61000 + HOST_GSO_SLOTS * (k)))

static int
setup(void)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&G.dst;
	socklen_t len = sizeof(*sin);

	G.rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	EXPECT(G.rx >= 0);
	memset(&G.dst, 0, sizeof(G.dst));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_EQ(bind(G.rx, (struct sockaddr *)sin, sizeof(*sin)), 0);
	EXPECT_EQ(getsockname(G.rx, (struct sockaddr *)sin, &len), 0);
	return (0);
}

/* A run of two datagrams (100 bytes, then 50) from sport: 0 if it left. */
static int
run(struct host_gso *g, uint16_t sport)
{
	static char a[100], b[50];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	return (host_gso_send(g, sport, &G.dst, sizeof(struct sockaddr_in),
	    iov, 2, sizeof(a)));
}

/* Datagrams waiting at the receiver, drained; their source ports' sum. */
static unsigned
drain(unsigned long *port_sum)
{
	struct sockaddr_in from;
	socklen_t flen;
	char buf[2048];
	unsigned n = 0;

	*port_sum = 0;
	for (;;) {
		flen = sizeof(from);
		if (recvfrom(G.rx, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen) < 0)
			break;
		*port_sum += ntohs(from.sin_port);
		n++;
	}
	return (n);
}

static int
case_slots(void)
{
	struct sockaddr_storage self;
	struct sockaddr_in *sin = (struct sockaddr_in *)&self;
	struct host_gso g;
	unsigned long sum, want = 0;
	unsigned k, pass, sent = 0;
	uint64_t opened = 0;

	memset(&self, 0, sizeof(self));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	host_gso_init(&g, &self, sizeof(*sin));
	/*
	 * As many flows as there are slots, ports sharing one remainder,
	 * taking turns: each socket is made once (a slot per remainder made
	 * one at every run).  A port another program holds is left out.
	 */
	for (pass = 0; pass < 3; pass++) {
		for (k = 0; k < HOST_GSO_SLOTS; k++) {
			if (run(&g, PORT(k)) == 0) {
				sent += 2;
				want += 2ul * PORT(k);
			}
		}
		if (pass == 0)
			opened = g.opened;
	}
	EXPECT(opened >= HOST_GSO_SLOTS - 2);
	EXPECT_EQ(g.opened, opened);
	EXPECT_EQ(sent, 3 * 2 * opened);
	/* Each run arrived as its two datagrams, from its own port. */
	EXPECT_EQ(drain(&sum), sent);
	EXPECT_EQ(sum, want);
	/* One more flow: the least recently used one (k = 0) makes room. */
	EXPECT_EQ(run(&g, PORT(HOST_GSO_SLOTS)), 0);
	EXPECT_EQ(g.opened, opened + 1);
	EXPECT_EQ(run(&g, PORT(HOST_GSO_SLOTS - 1)), 0);   /* still there */
	EXPECT_EQ(g.opened, opened + 1);
	EXPECT_EQ(run(&g, PORT(0)), 0);                     /* made again */
	EXPECT_EQ(g.opened, opened + 2);
	EXPECT_EQ(drain(&sum), 6);
	host_gso_close(&g);
	return (0);
}

int
test_gso(struct vpc_sys *sys, int *failed)
{
	static const struct test_case cases[] = {
		{ "setup: a receiver on loopback", setup },
		{ "flows keep their sender sockets whatever their ports; LRU makes room", case_slots },
	};
	int passed;

	G.sys = sys;
	G.failed = failed;
	passed = run_cases(cases, nitems(cases));
	if (G.rx >= 0)
		close(G.rx);
	G.rx = -1;
	return (passed);
}
