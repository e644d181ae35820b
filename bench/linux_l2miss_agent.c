/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * linux_l2miss_agent: the baseline agent of bench/peer.
 *
 * What flannel's first vxlan backend and Docker's libnetwork overlay did on
 * Linux, written in C so that the baseline costs what such an agent costs at
 * its best: a vxlan device made with "nolearning l2miss" raises an
 * RTM_GETNEIGH notification (NDA_LLADDR = the MAC) on
 * the RTNLGRP_NEIGH group each time it has no FDB entry for a unicast
 * destination; this agent, in the node's network namespace, reads them from
 * a netlink socket and installs the entry with RTM_NEWNEIGH (NTF_SELF,
 * NDA_LLADDR, NDA_DST = the VTEP) from a table of the same mappings vpc-agent
 * answers from.  The frame that missed is gone: Linux drops it.
 *
 *   usage: linux_l2miss_agent VXLAN_IF MAPPINGS_FILE [RCVBUF [FILTER]]
 *     MAPPINGS_FILE  lines "MAC IPV4" (the VTEP)
 *     RCVBUF         the notification socket's buffer in bytes; 0 (the
 *                    default) keeps the kernel's (net.core.rmem_default),
 *                    as those agents did
 *     FILTER         1 (default): a BPF socket filter keeps only
 *                    RTM_GETNEIGH, so the agent's own RTM_NEWNEIGH echoes and
 *                    ARP traffic do not fill its buffer (a better agent than
 *                    flannel's, which read and skipped them); 0: read all
 *
 *   stdin, one command a line, each answered with one line on stdout:
 *     stats  {"notifications":..,"installs":..,"enobufs":..,...}
 *     flush  delete every entry this agent installed; "flushed N"
 *     reset  zero the counters; "ok"
 *     quit   exit 0 (so does EOF on stdin)
 *
 * Hot path per notification: one recv(), a table lookup, one sendmsg()
 * (no NLM_F_ACK: the kernel applies RTM_NEWNEIGH inside sendmsg and still
 * reports a failure as an NLMSG_ERROR on the request socket, which is
 * drained and counted).  Notifications already queued are drained before
 * sleeping again, and a MAC repeated within one drained batch is installed
 * once.  Nothing is logged on the hot path.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64                /* notifications drained per wakeup, at most */

/* ---- The mapping table: open addressing, MAC (48 bits) -> IPv4 ---------- */

struct slot {
	uint64_t mac;           /* 0: empty (no mapping has the zero MAC) */
	uint32_t vtep;          /* network byte order */
	bool     installed;     /* by us, since the last flush */
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
	struct slot *s;
	struct in_addr a;
	uint8_t b[6];

	if (f == NULL)
		return (-1);
	while (fscanf(f, "%x:%x:%x:%x:%x:%x %63s", &m[0], &m[1], &m[2], &m[3],
	    &m[4], &m[5], ip) == 7)
		n++;
	for (cap = 16; cap < 2 * n + 16; cap *= 2)
		;
	tab = calloc(cap, sizeof(*tab));
	tabmask = cap - 1;
	rewind(f);
	while (tab != NULL && fscanf(f, "%x:%x:%x:%x:%x:%x %63s", &m[0], &m[1],
	    &m[2], &m[3], &m[4], &m[5], ip) == 7) {
		for (int i = 0; i < 6; i++)
			b[i] = (uint8_t)m[i];
		if (inet_pton(AF_INET, ip, &a) != 1 || mac_key(b) == 0)
			continue;
		s = lookup(mac_key(b), true);
		s->mac = mac_key(b);
		s->vtep = a.s_addr;
	}
	fclose(f);
	return (tab == NULL ? -1 : 0);
}

/* ---- Netlink ---------------------------------------------------------------- */

static int ifindex, reqfd, monfd;
static uint32_t seq;
static struct {
	unsigned long long notifications;   /* RTM_GETNEIGH l2miss for our device */
	unsigned long long other;           /* anything else read (no filter) */
	unsigned long long enobufs;         /* the socket overflowed: lost some */
	unsigned long long installs;        /* RTM_NEWNEIGH sent */
	unsigned long long unknown;         /* MAC not in the table */
	unsigned long long errors;          /* NLMSG_ERROR from the kernel */
	unsigned long long recvs;           /* recv() calls that returned data */
	unsigned long long wakeups;         /* poll() returns with work */
} st;

static void
addattr(struct nlmsghdr *n, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* An RTM_NEWNEIGH or RTM_DELNEIGH for mac on the vxlan device, into buf. */
static size_t
fdb_msg(void *buf, int type, uint64_t mac, uint32_t vtep)
{
	struct nlmsghdr *n = buf;
	struct ndmsg *nd = NLMSG_DATA(n);
	uint8_t m[6];

	memset(buf, 0, NLMSG_SPACE(sizeof(*nd)));
	n->nlmsg_len = NLMSG_LENGTH(sizeof(*nd));
	n->nlmsg_type = (unsigned short)type;
	n->nlmsg_flags = NLM_F_REQUEST | (type == RTM_NEWNEIGH ?
	    NLM_F_CREATE | NLM_F_REPLACE : 0);
	n->nlmsg_seq = ++seq;
	nd->ndm_family = AF_BRIDGE;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_REACHABLE;  /* ages like a learned entry */
	nd->ndm_flags = NTF_SELF;       /* the vxlan device's own FDB */
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)(mac >> (40 - 8 * i));
	addattr(n, NDA_LLADDR, m, 6);
	if (type == RTM_NEWNEIGH)
		addattr(n, NDA_DST, &vtep, 4);
	return (n->nlmsg_len);
}

/* Errors the kernel reported on the request socket (we ask for no acks). */
static void
drain_requests(void)
{
	char buf[8192];
	struct nlmsghdr *n;
	ssize_t len;

	while ((len = recv(reqfd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		for (n = (struct nlmsghdr *)buf; NLMSG_OK(n, (size_t)len);
		    n = NLMSG_NEXT(n, len))
			if (n->nlmsg_type == NLMSG_ERROR &&
			    ((struct nlmsgerr *)NLMSG_DATA(n))->error != 0)
				st.errors++;
}

/* The MAC an l2miss notification asks for, or 0 if it is not one. */
static uint64_t
miss_mac(struct nlmsghdr *n)
{
	struct ndmsg *nd = NLMSG_DATA(n);
	struct rtattr *a;
	int len;

	/* vxlan sends misses with ndm_family AF_INET (that of the missing
	 * remote), not AF_BRIDGE; an l2miss carries NDA_LLADDR, an l3miss
	 * NDA_DST, as flannel told them apart. */
	if (n->nlmsg_type != RTM_GETNEIGH ||
	    n->nlmsg_len < NLMSG_LENGTH(sizeof(*nd)) || nd->ndm_ifindex != ifindex)
		return (0);
	len = (int)(n->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	for (a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	    RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6)
			return (mac_key(RTA_DATA(a)));
	return (0);
}

/* Read what is queued (up to BATCH), install each MAC once. */
static void
serve(void)
{
	static char buf[BATCH][1024];
	uint64_t macs[BATCH];
	char msg[256];
	struct nlmsghdr *n;
	struct slot *s;
	ssize_t len;
	int nm = 0, i, j;

	st.wakeups++;
	for (i = 0; i < BATCH && nm < BATCH; i++) {
		len = recv(monfd, buf[i], sizeof(buf[i]), MSG_DONTWAIT);
		if (len < 0) {
			if (errno == ENOBUFS) {         /* overflowed: some are lost */
				st.enobufs++;
				continue;
			}
			break;
		}
		st.recvs++;
		for (n = (struct nlmsghdr *)buf[i]; NLMSG_OK(n, (size_t)len);
		    n = NLMSG_NEXT(n, len)) {
			uint64_t k = miss_mac(n);

			if (k == 0) {
				st.other++;
				continue;
			}
			st.notifications++;
			for (j = 0; j < nm && macs[j] != k; j++)
				;
			if (j == nm)
				macs[nm++] = k;
			if (nm == BATCH)
				break;
		}
	}
	for (j = 0; j < nm; j++) {
		if ((s = lookup(macs[j], false)) == NULL) {
			st.unknown++;
			continue;
		}
		len = (ssize_t)fdb_msg(msg, RTM_NEWNEIGH, s->mac, s->vtep);
		if (send(reqfd, msg, (size_t)len, 0) == len) {
			st.installs++;
			s->installed = true;
		} else
			st.errors++;
	}
}

/* Delete every entry we installed, 64 requests to a sendmsg. */
static unsigned long long
flush(void)
{
	static char buf[64 * 128];
	unsigned long long n = 0;
	size_t off = 0;

	for (size_t i = 0; i <= tabmask; i++) {
		if (tab[i].mac == 0 || !tab[i].installed)
			continue;
		tab[i].installed = false;
		off += NLMSG_ALIGN(fdb_msg(buf + off, RTM_DELNEIGH, tab[i].mac, 0));
		n++;
		if (off + 128 > sizeof(buf)) {
			(void)send(reqfd, buf, off, 0);
			off = 0;
			drain_requests();
		}
	}
	if (off > 0)
		(void)send(reqfd, buf, off, 0);
	drain_requests();
	return (n);
}

/*
 * A classic BPF filter for the notification socket: keep a message only if
 * its nlmsg_type (offset 4, host order: little-endian here) is RTM_GETNEIGH.
 * Netlink broadcasts one message per skb, so the first header is the one.
 */
static int
filter_getneigh(int fd)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),
		/* BPF loads are big-endian: RTM_GETNEIGH (30) reads as 30 << 8 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (RTM_GETNEIGH & 0xff) << 8 |
		    RTM_GETNEIGH >> 8, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]),
	    .filter = code };

	return (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)));
}

static void
command(void)
{
	char line[64];

	if (fgets(line, sizeof(line), stdin) == NULL || strncmp(line, "quit", 4) == 0)
		exit(0);
	drain_requests();
	if (strncmp(line, "stats", 5) == 0)
		printf("{\"notifications\":%llu,\"installs\":%llu,\"enobufs\":%llu,"
		    "\"unknown\":%llu,\"errors\":%llu,\"other\":%llu,\"recvs\":%llu,"
		    "\"wakeups\":%llu}\n", st.notifications, st.installs, st.enobufs,
		    st.unknown, st.errors, st.other, st.recvs, st.wakeups);
	else if (strncmp(line, "flush", 5) == 0)
		printf("flushed %llu\n", flush());
	else if (strncmp(line, "reset", 5) == 0) {
		memset(&st, 0, sizeof(st));
		printf("ok\n");
	} else
		printf("error unknown command\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct pollfd pf[2];
	int rcvbuf, group = RTNLGRP_NEIGH;

	if (argc < 3) {
		fprintf(stderr, "usage: %s VXLAN_IF MAPPINGS_FILE [RCVBUF [FILTER]]\n", argv[0]);
		return (2);
	}
	if ((ifindex = (int)if_nametoindex(argv[1])) == 0) {
		perror(argv[1]);
		return (1);
	}
	if (load(argv[2]) < 0) {
		perror(argv[2]);
		return (1);
	}
	reqfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	monfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (reqfd < 0 || monfd < 0 || bind(monfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(monfd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		perror("netlink");
		return (1);
	}
	rcvbuf = argc > 3 ? atoi(argv[3]) : 0;
	if (rcvbuf > 0 && setsockopt(monfd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0) {
		perror("SO_RCVBUFFORCE");
		return (1);
	}
	if ((argc <= 4 || atoi(argv[4]) != 0) && filter_getneigh(monfd) < 0) {
		perror("SO_ATTACH_FILTER");
		return (1);
	}
	printf("ready\n");
	fflush(stdout);
	pf[0].fd = monfd;
	pf[0].events = POLLIN;
	pf[1].fd = STDIN_FILENO;
	pf[1].events = POLLIN;
	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return (1);
		}
		if (pf[0].revents != 0)
			serve();
		if (pf[1].revents != 0)
			command();
	}
}
