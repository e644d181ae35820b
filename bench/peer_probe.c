/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer_probe: measures the miss path of a VXLAN switch from outside, by the
 * same definitions for Linux (a vxlan device under a bridge, with an l2miss
 * agent) and for vpc (vpc-hostd and vpc-agent): bench/peer and bench/upcall
 * run it.
 *
 * It opens its sockets in the namespaces it is given (setns), so one process
 * holds the "VM" side (an AF_PACKET socket on the VM's interface: frames are
 * handed to sendto()/sendmmsg() as a guest's would be) and the "node" side
 * (Linux: netlink in the node's namespace; vpc: libvpc to the node's
 * vpc-hostd, $VPC_HOSTD_SOCKET), and one clock (CLOCK_MONOTONIC) times both.
 *
 *   peer_probe OPTIONS MODE ARGS
 *   --sys linux|vpc  --vm-ns NS --if IF --src-mac M --src-ip A
 *   --dst-mac M --dst-ip A        the VM on the other node, which echoes ICMP
 *   --node-ns NS --vxlan IF       Linux: where the vxlan device is
 *   --switch UUID                 vpc: the switch
 *   --probe-us N (100)            how often the table is polled in lat/seq
 *   --watch-us N (1000)           how often counts are read in burst mode
 *   --idle-ms N (1000)            burst mode: stop after this long with no change
 *
 *   lat N GAP_MS RESEND_US TIMEOUT_MS [NOPROBE] [KEEP]
 *       N times: delete dst-mac's entry (not with KEEP=1: the entry stays,
 *       so the frame is switched, not missed), wait GAP_MS, hand an ICMP echo to
 *       dst-ip to sendto() (t0), poll the table every probe-us until the entry
 *       is there (not with NOPROBE=1), resend every RESEND_US until a reply
 *       comes.  JSON: install_us[], reply_us[], first[] (1: the reply answers
 *       the very first frame, i.e. it was delivered), resends[], sent_us[]
 *       (each t0 on CLOCK_MONOTONIC, in us: what bench/profile matches with
 *       a perf record on that clock), timeouts.
 *   seq N RATE PREFIX TIMEOUT_MS
 *       N new MACs PREFIX:hh:ll, one at a time at RATE/s: t0 before sendto(),
 *       the table polled until the entry is there.  JSON: install_us[], timeouts.
 *   arpseq N RATE BASE_IP TIMEOUT_MS  (vpc)
 *       N ARP requests for BASE_IP + i, one at a time at RATE/s: t0 before
 *       send(), the neighbour table polled until the entry is there (the
 *       same measure as seq's), and the ARP reply read on the VM's
 *       interface.  JSON: install_us[], reply_us[], timeouts.
 *   burst COUNT NMACS PREFIX RATE BATCH
 *       NMACS 0: COUNT ICMP echoes to dst (its entry deleted first);
 *       else COUNT frames to the NMACS MACs PREFIX:hh:ll in turn (EtherType
 *       0x88b5).  RATE 0: in one burst (sendmmsg, BATCH frames a call);
 *       else RATE frames/s.  A thread sends while this one watches the
 *       installs (Linux: RTM_GETNEIGH/RTM_NEWNEIGH notifications on a
 *       monitor socket; vpc: the switch's counters) every watch-us, until
 *       every MAC is installed or nothing changed for idle-ms; then counts
 *       the entries in the table.  JSON.
 *
 * Timing points: install = the start of the first poll that finds the entry
 * (so within one poll period plus one poll's latency of the truth); reply =
 * when the echo reply is read.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vpc.h"
#include "now_ns.h"

#define ETHERTYPE_BENCH 0x88b5
#define FRAME_LEN       74      /* Ethernet + IPv4 + ICMP + 32 bytes */
#define MAXMACS         65536   /* PREFIX:hh:ll */

static struct {
	bool     vpc;
	const char *vm_ns, *ifname, *node_ns, *vxlan, *sw;
	uint8_t  src_mac[6], dst_mac[6];
	uint32_t src_ip, dst_ip;        /* network order */
	unsigned probe_us, watch_us, idle_ms;
} o = { .probe_us = 100, .watch_us = 1000, .idle_ms = 1000 };

static int pktfd;               /* AF_PACKET on the VM's interface */
static int nlq, nlmon;          /* Linux: request socket; notifications */
static int vxidx;               /* Linux: the vxlan device's ifindex */
static int swh = -1;            /* vpc: the switch's handle */
static uint16_t ident;          /* ICMP echo id */

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u),
	    .tv_nsec = (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void
parse_mac(const char *s, uint8_t m[6])
{
	unsigned b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
	    &b[5]) != 6) {
		fprintf(stderr, "bad MAC %s\n", s);
		exit(2);
	}
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
}

static void
prefix_mac(const uint8_t prefix[4], unsigned i, uint8_t m[6])
{
	memcpy(m, prefix, 4);
	m[4] = (uint8_t)(i >> 8);
	m[5] = (uint8_t)i;
}

static void
enter_ns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || setns(fd, CLONE_NEWNET) < 0)
		die(path);
	close(fd);
}

/* ---- Frames ------------------------------------------------------------------ */

static uint16_t
csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (htons((uint16_t)~s));
}

/* An ICMP echo request from the VM to dst, with this sequence number. */
static void
echo_frame(uint8_t *f, uint16_t seq)
{
	uint8_t *ip = f + 14, *icmp = ip + 20;

	memset(f, 0, FRAME_LEN);
	memcpy(f, o.dst_mac, 6);
	memcpy(f + 6, o.src_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = 0;
	ip[3] = FRAME_LEN - 14;
	ip[6] = 0x40;                   /* DF */
	ip[8] = 64;
	ip[9] = 1;                      /* ICMP */
	memcpy(ip + 12, &o.src_ip, 4);
	memcpy(ip + 16, &o.dst_ip, 4);
	{
		uint16_t c = csum(ip, 20);
		memcpy(ip + 10, &c, 2);
	}
	icmp[0] = 8;
	icmp[4] = (uint8_t)(ident >> 8);
	icmp[5] = (uint8_t)ident;
	icmp[6] = (uint8_t)(seq >> 8);
	icmp[7] = (uint8_t)seq;
	{
		uint16_t c = csum(icmp, FRAME_LEN - 34);
		memcpy(icmp + 2, &c, 2);
	}
}

/* A 64-byte frame of EtherType 0x88b5 to dst. */
static void
bench_frame(uint8_t *f, const uint8_t dst[6])
{
	memset(f, 0, 64);
	memcpy(f, dst, 6);
	memcpy(f + 6, o.src_mac, 6);
	f[12] = ETHERTYPE_BENCH >> 8;
	f[13] = ETHERTYPE_BENCH & 0xff;
}

/* An echo reply of ours from dst: its sequence number, else -1. */
static int
echo_reply_seq(const uint8_t *f, ssize_t len)
{
	const uint8_t *ip = f + 14, *icmp;

	if (len < 42 || f[12] != 0x08 || f[13] != 0 || (ip[0] & 0xf0) != 0x40 ||
	    ip[9] != 1 || memcmp(ip + 12, &o.dst_ip, 4) != 0)
		return (-1);
	icmp = ip + (ip[0] & 0x0f) * 4;
	if (icmp + 8 > f + len || icmp[0] != 0 || (icmp[4] << 8 | icmp[5]) != ident)
		return (-1);
	return (icmp[6] << 8 | icmp[7]);
}

static void
send_frame(const uint8_t *f, size_t len)
{
	if (send(pktfd, f, len, 0) != (ssize_t)len)
		die("send");
}

/* ---- The forwarding table ----------------------------------------------------- */

/* Linux: one request on nlq, the kernel's answer: 1 found, 0 ENOENT. */
static int
nl_fdb(int type, const uint8_t mac[6], uint16_t flags)
{
	struct {
		struct nlmsghdr n;
		struct ndmsg nd;
		struct rtattr a;
		uint8_t mac[8];
	} req;
	char buf[4096];
	struct nlmsghdr *n;
	ssize_t len;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = sizeof(req);
	req.n.nlmsg_type = (unsigned short)type;
	req.n.nlmsg_flags = NLM_F_REQUEST | flags;
	req.nd.ndm_family = AF_BRIDGE;
	req.nd.ndm_ifindex = vxidx;
	req.nd.ndm_flags = NTF_SELF;
	req.a.rta_type = NDA_LLADDR;
	req.a.rta_len = RTA_LENGTH(6);
	memcpy(req.mac, mac, 6);
	if (send(nlq, &req, sizeof(req), 0) != sizeof(req))
		die("netlink send");
	for (;;) {
		if ((len = recv(nlq, buf, sizeof(buf), 0)) < 0)
			die("netlink recv");
		for (n = (struct nlmsghdr *)buf; NLMSG_OK(n, (size_t)len); n = NLMSG_NEXT(n, len)) {
			if (n->nlmsg_seq != req.n.nlmsg_seq)
				continue;
			if (n->nlmsg_type == NLMSG_ERROR) {
				int e = -((struct nlmsgerr *)NLMSG_DATA(n))->error;

				if (e == 0)
					return (1);
				if (e == ENOENT)
					return (0);
				errno = e;
				die("netlink");
			}
			return (1);
		}
	}
}

static int
tbl_has(const uint8_t mac[6])
{
	vpc_cam_key_t k;
	vpc_sw_cam_t e;
	size_t vl = sizeof(e);

	if (!o.vpc)
		return (nl_fdb(RTM_GETNEIGH, mac, 0));
	memset(&k, 0, sizeof(k));
	memcpy(k.dstmac, mac, 6);
	if (vpc_ctl(swh, VPC_OP_SW_CAM_GET, sizeof(k), &k, &vl, &e) == 0)
		return (e.kind == VPC_CAM_REMOTE);
	if (errno != ENOENT)
		die("SW_CAM_GET");
	return (0);
}

static void
tbl_del(const uint8_t mac[6])
{
	vpc_cam_key_t k;
	size_t vl = 0;

	if (!o.vpc) {
		(void)nl_fdb(RTM_DELNEIGH, mac, NLM_F_ACK);
		return;
	}
	memset(&k, 0, sizeof(k));
	memcpy(k.dstmac, mac, 6);
	if (vpc_ctl(swh, VPC_OP_SW_CAM_DEL, sizeof(k), &k, &vl, NULL) < 0 && errno != ENOENT)
		die("SW_CAM_DEL");
}

static bool
in_set(const uint8_t mac[6], const uint8_t prefix[4], unsigned nmacs, unsigned *idx)
{
	if (nmacs == 0) {
		*idx = 0;
		return (memcmp(mac, o.dst_mac, 6) == 0);
	}
	*idx = (unsigned)(mac[4] << 8 | mac[5]);
	return (memcmp(mac, prefix, 4) == 0 && *idx < nmacs);
}

/* How many of the set's MACs the table holds now (a full dump). */
static unsigned
tbl_count(const uint8_t prefix[4], unsigned nmacs)
{
	unsigned n = 0, idx;

	if (o.vpc) {
		static vpc_sw_cam_t ents[1024];
		vpc_list_req_t lr;
		size_t vl, i;

		memset(&lr, 0, sizeof(lr));
		for (;;) {
			vl = sizeof(ents);
			if (vpc_ctl(swh, VPC_OP_SW_CAM_DUMP, sizeof(lr), &lr, &vl, ents) < 0) {
				if (errno == ESTALE) {
					lr.marker = 0;
					n = 0;
					continue;
				}
				die("SW_CAM_DUMP");
			}
			if (vl == 0)
				return (n);
			for (i = 0; i < vl / sizeof(ents[0]); i++)
				if (ents[i].kind == VPC_CAM_REMOTE &&
				    in_set(ents[i].dstmac, prefix, nmacs, &idx))
					n++;
			lr.marker = ents[vl / sizeof(ents[0]) - 1].cursor;
		}
	} else {
		struct {
			struct nlmsghdr n;
			struct ndmsg nd;
		} req;
		static char buf[65536];
		struct nlmsghdr *h;
		ssize_t len;

		memset(&req, 0, sizeof(req));
		req.n.nlmsg_len = sizeof(req);
		req.n.nlmsg_type = RTM_GETNEIGH;
		req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.n.nlmsg_seq = 0x5eed;
		req.nd.ndm_family = AF_BRIDGE;
		req.nd.ndm_ifindex = vxidx;     /* strict: entries of this port/device */
		if (send(nlq, &req, sizeof(req), 0) != sizeof(req))
			die("netlink dump");
		for (;;) {
			if ((len = recv(nlq, buf, sizeof(buf), 0)) < 0)
				die("netlink dump recv");
			for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
				struct ndmsg *nd = NLMSG_DATA(h);
				struct rtattr *a;
				int alen;

				if (h->nlmsg_type == NLMSG_DONE)
					return (n);
				if (h->nlmsg_type == NLMSG_ERROR)
					die("netlink dump: error");
				if (h->nlmsg_type != RTM_NEWNEIGH || nd->ndm_ifindex != vxidx ||
				    (nd->ndm_flags & NTF_SELF) == 0)
					continue;
				alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
				for (a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
				    RTA_OK(a, alen); a = RTA_NEXT(a, alen))
					if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6 &&
					    in_set(RTA_DATA(a), prefix, nmacs, &idx))
						n++;
			}
		}
	}
}

/* ---- lat ------------------------------------------------------------------------- */

static void
print_list(const char *name, const long *v, unsigned n, bool last)
{
	printf("\"%s\":[", name);
	for (unsigned i = 0; i < n; i++)
		printf("%s%ld", i ? "," : "", v[i]);
	printf("]%s", last ? "" : ",");
}

static void
drain_pkts(void)
{
	uint8_t f[2048];

	while (recv(pktfd, f, sizeof(f), MSG_DONTWAIT) > 0)
		;
}

static int
mode_lat(unsigned n, unsigned gap_ms, unsigned resend_us, unsigned timeout_ms, bool probe,
    bool keep)
{
	long *inst = calloc(n, sizeof(long)), *rep = calloc(n, sizeof(long)),
	    *first = calloc(n, sizeof(long)), *resends = calloc(n, sizeof(long)),
	    *sent = calloc(n, sizeof(long));
	unsigned timeouts = 0, probes = 0;
	uint8_t f[FRAME_LEN], in[2048];
	struct sockaddr_ll from;
	socklen_t flen;

	for (unsigned it = 0; it < n; it++) {
		uint64_t t0, t, next_probe, next_resend, deadline;
		uint16_t base = (uint16_t)(it * 64), k = 0;
		bool installed = !probe, replied = false;
		int seq;

		if (!keep)
			tbl_del(o.dst_mac);
		usleep(gap_ms * 1000);
		drain_pkts();
		inst[it] = rep[it] = -1;
		echo_frame(f, base);
		t0 = now_ns();
		sent[it] = (long)(t0 / 1000);
		send_frame(f, sizeof(f));
		next_probe = t0 + o.probe_us * 1000u;
		next_resend = t0 + resend_us * 1000u;
		deadline = t0 + (uint64_t)timeout_ms * 1000000u;
		while (!(installed && replied) && (t = now_ns()) < deadline) {
			uint64_t wake = deadline;
			struct pollfd pf = { .fd = pktfd, .events = POLLIN };

			if (!installed && next_probe < wake)
				wake = next_probe;
			if (!replied && next_resend < wake)
				wake = next_resend;
			if (wake > t) {
				struct timespec ts = { .tv_sec = (time_t)((wake - t) / 1000000000u),
				    .tv_nsec = (long)((wake - t) % 1000000000u) };

				(void)ppoll(&pf, 1, &ts, NULL);
			}
			for (;;) {
				ssize_t len;

				flen = sizeof(from);
				len = recvfrom(pktfd, in, sizeof(in), MSG_DONTWAIT,
				    (struct sockaddr *)&from, &flen);
				if (len <= 0)
					break;
				if (from.sll_pkttype == PACKET_OUTGOING)
					continue;
				seq = echo_reply_seq(in, len);
				if (seq < base || seq >= base + 64 || replied)
					continue;
				replied = true;
				rep[it] = (long)((now_ns() - t0) / 1000);
				first[it] = seq == base;
			}
			t = now_ns();
			if (!installed && t >= next_probe) {
				probes++;
				if (tbl_has(o.dst_mac)) {
					installed = true;
					inst[it] = (long)((t - t0) / 1000);
				}
				next_probe += o.probe_us * 1000u;
				if (next_probe < t)
					next_probe = t + o.probe_us * 1000u;
			}
			if (!replied && t >= next_resend && k < 63) {
				echo_frame(f, (uint16_t)(base + ++k));
				send_frame(f, sizeof(f));
				next_resend += resend_us * 1000u;
			}
		}
		resends[it] = k;
		if (!(installed && replied))
			timeouts++;
	}
	printf("{");
	print_list("install_us", inst, n, false);
	print_list("reply_us", rep, n, false);
	print_list("first", first, n, false);
	print_list("resends", resends, n, false);
	print_list("sent_us", sent, n, false);
	printf("\"timeouts\":%u,\"probes\":%u}\n", timeouts, probes);
	return (0);
}

/* ---- seq ------------------------------------------------------------------------- */

static int
mode_seq(unsigned n, unsigned rate, const uint8_t prefix[4], unsigned timeout_ms)
{
	long *inst = calloc(n, sizeof(long));
	unsigned timeouts = 0, probes = 0;
	uint8_t f[64], mac[6];
	uint64_t start = now_ns();

	for (unsigned i = 0; i < n; i++) {
		uint64_t t0, t, next;

		if (rate > 0)
			sleep_until(start + (uint64_t)i * 1000000000u / rate);
		prefix_mac(prefix, i, mac);
		bench_frame(f, mac);
		inst[i] = -1;
		t0 = now_ns();
		send_frame(f, sizeof(f));
		for (next = t0 + o.probe_us * 1000u; ; next += o.probe_us * 1000u) {
			sleep_until(next);
			t = now_ns();
			probes++;
			if (tbl_has(mac)) {
				inst[i] = (long)((t - t0) / 1000);
				break;
			}
			if (t - t0 > (uint64_t)timeout_ms * 1000000u) {
				timeouts++;
				break;
			}
			if (next < t)
				next = t;
		}
	}
	printf("{");
	print_list("install_us", inst, n, false);
	printf("\"timeouts\":%u,\"probes\":%u}\n", timeouts, probes);
	return (0);
}

/* ---- arpseq ---------------------------------------------------------------------- */

/*
 * n ARP requests from the VM for new addresses base + i (host order), at
 * rate a second, one at a time: for each, from the request handed to
 * send() to the neighbour entry in the switch's table (polled with
 * SW_NBR_GET every probe_us, as seq polls the CAM: the same measure as the
 * L2 miss), and to the ARP reply read on the VM's interface (the guest's
 * view: L3 upcall, agent, answer, reply).  vpc only.
 */
static int
mode_arpseq(unsigned n, unsigned rate, uint32_t base, unsigned timeout_ms)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP) };
	long *inst = calloc(n, sizeof(long)), *rep = calloc(n, sizeof(long));
	unsigned timeouts = 0;
	uint8_t f[60], r[128];
	uint64_t start = now_ns();
	int afd;

	if (!o.vpc) {
		fprintf(stderr, "arpseq: --sys vpc only\n");
		exit(2);
	}
	sll.sll_ifindex = (int)if_nametoindex(o.ifname);
	if ((afd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP))) < 0 ||
	    bind(afd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("AF_PACKET (ARP)");
	for (unsigned i = 0; i < n; i++) {
		uint32_t tpa = htonl(base + i);
		vpc_nbr_key_t k;
		vpc_sw_nbr_t e;
		uint64_t t0, t, next;
		ssize_t len;
		size_t vl;

		if (rate > 0)
			sleep_until(start + (uint64_t)i * 1000000000u / rate);
		memset(f, 0, sizeof(f));
		memset(f, 0xff, 6);
		memcpy(f + 6, o.src_mac, 6);
		f[12] = 0x08;
		f[13] = 0x06;
		f[15] = 1;
		f[16] = 0x08;
		f[18] = 6;
		f[19] = 4;
		f[21] = 1;
		memcpy(f + 22, o.src_mac, 6);
		memcpy(f + 28, &o.src_ip, 4);
		memcpy(f + 38, &tpa, 4);
		memset(&k, 0, sizeof(k));
		k.af = VPC_AF_INET;
		memcpy(k.addr, &tpa, 4);
		inst[i] = rep[i] = -1;
		while (recv(afd, r, sizeof(r), MSG_DONTWAIT) > 0)
			;
		t0 = now_ns();
		if (send(pktfd, f, sizeof(f), 0) != (ssize_t)sizeof(f))
			die("send");
		for (next = t0 + o.probe_us * 1000u; ; next += o.probe_us * 1000u) {
			sleep_until(next);
			t = now_ns();
			while (rep[i] < 0 && (len = recv(afd, r, sizeof(r), MSG_DONTWAIT)) >= 42) {
				if (r[21] == 2 && memcmp(r + 28, &tpa, 4) == 0)
					rep[i] = (long)((now_ns() - t0) / 1000);
			}
			if (inst[i] < 0) {
				vl = sizeof(e);
				if (vpc_ctl(swh, VPC_OP_SW_NBR_GET, sizeof(k), &k, &vl, &e) == 0)
					inst[i] = (long)((t - t0) / 1000);
				else if (errno != ENOENT)
					die("SW_NBR_GET");
			}
			if (inst[i] >= 0 && rep[i] >= 0)
				break;
			if (t - t0 > (uint64_t)timeout_ms * 1000000u) {
				timeouts++;
				break;
			}
			if (next < t)
				next = t;
		}
	}
	printf("{");
	print_list("install_us", inst, n, false);
	print_list("reply_us", rep, n, false);
	printf("\"timeouts\":%u}\n", timeouts);
	close(afd);
	return (0);
}

/* ---- burst ----------------------------------------------------------------------- */

static struct {
	unsigned count, nmacs, rate, batch;
	uint8_t  prefix[4];
	uint8_t *frames;
	size_t   flen;
	uint64_t t0, t1;
	unsigned backpressure;
	volatile bool done;
} snd;

/* Hand the frames to the VM's interface, as a guest would (see mode_burst). */
static void *
sender(void *arg)
{
	struct mmsghdr *mm = calloc(snd.batch, sizeof(*mm));
	struct iovec *iov = calloc(snd.batch, sizeof(*iov));
	unsigned i = 0, m, j;
	int r;

	(void)arg;
	snd.t0 = now_ns();
	while (i < snd.count) {
		if (snd.rate > 0)
			sleep_until(snd.t0 + (uint64_t)i * 1000000000u / snd.rate);
		m = snd.count - i < snd.batch ? snd.count - i : snd.batch;
		for (j = 0; j < m; j++) {
			iov[j].iov_base = snd.frames + (size_t)(i + j) * FRAME_LEN;
			iov[j].iov_len = snd.flen;
			memset(&mm[j], 0, sizeof(mm[j]));
			mm[j].msg_hdr.msg_iov = &iov[j];
			mm[j].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(pktfd, mm, m, 0);
		if (r < 0) {
			/* The interface's queue is full: back off as a guest's
			 * driver would, and send the same frame again. */
			if (errno != ENOBUFS && errno != EAGAIN)
				die("sendmmsg");
			snd.backpressure++;
			sched_yield();
			continue;
		}
		i += (unsigned)r;
	}
	snd.t1 = now_ns();
	snd.done = true;
	free(mm);
	free(iov);
	return (NULL);
}

struct watch {
	uint64_t raised, installed, overflow;
	uint64_t last_install;          /* ns, when installed last grew */
};

/* Linux: what the notifications since the last call say. */
static void
watch_linux(struct watch *w, uint8_t *got)
{
	static char buf[16384];
	struct nlmsghdr *n;
	ssize_t len;
	unsigned idx;

	for (;;) {
		len = recv(nlmon, buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0) {
			if (errno == ENOBUFS) {
				w->overflow++;
				continue;
			}
			return;
		}
		for (n = (struct nlmsghdr *)buf; NLMSG_OK(n, (size_t)len); n = NLMSG_NEXT(n, len)) {
			struct ndmsg *nd = NLMSG_DATA(n);
			struct rtattr *a;
			int alen;

			/* Misses come as AF_INET, FDB entries as AF_BRIDGE. */
			if ((n->nlmsg_type != RTM_GETNEIGH && (n->nlmsg_type != RTM_NEWNEIGH ||
			    nd->ndm_family != AF_BRIDGE)) || nd->ndm_ifindex != vxidx)
				continue;
			alen = (int)(n->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
			for (a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
			    RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				if (a->rta_type != NDA_LLADDR || RTA_PAYLOAD(a) != 6 ||
				    !in_set(RTA_DATA(a), snd.prefix, snd.nmacs, &idx))
					continue;
				if (n->nlmsg_type == RTM_GETNEIGH)
					w->raised++;
				else if (!got[idx]) {
					got[idx] = 1;
					w->installed++;
					w->last_install = now_ns();
				}
			}
		}
	}
}

static void
sw_stats(vpc_sw_stats_t *s)
{
	size_t vl = sizeof(*s);

	if (vpc_ctl(swh, VPC_OP_SW_GET_STATS, 0, NULL, &vl, s) < 0)
		die("SW_GET_STATS");
}

static const struct { const char *name; int idx; } swstat[] = {
	{ "misses", VPC_SWSTAT_MISSES }, { "upcalls", VPC_SWSTAT_UPCALLS },
	{ "dups", VPC_SWSTAT_DUPS }, { "held", VPC_SWSTAT_HELD },
	{ "holdDrops", VPC_SWSTAT_HOLD_DROPS }, { "lost", VPC_SWSTAT_LOST },
	{ "answers", VPC_SWSTAT_ANSWERS }, { "timeouts", VPC_SWSTAT_TIMEOUTS },
	{ "stale", VPC_SWSTAT_STALE }, { "released", VPC_SWSTAT_RELEASED },
	{ "heldDropped", VPC_SWSTAT_HELD_DROPPED }, { "txRemote", VPC_SWSTAT_TX_REMOTE },
	{ "rxFrames", VPC_SWSTAT_RX_FRAMES }, { "dropRemiss", VPC_SWSTAT_DROP_REMISS },
};

static int
mode_burst(unsigned count, unsigned nmacs, const uint8_t prefix[4], unsigned rate, unsigned batch)
{
	unsigned target = nmacs == 0 ? 1 : nmacs;
	uint8_t *got = calloc(MAXMACS, 1), mac[6];
	vpc_sw_stats_t s0, s1, prev;
	struct watch w = { 0 };
	uint64_t t, changed, sig = 0, lastsig = ~0ull;
	pthread_t th;
	unsigned present;

	snd.count = count;
	snd.nmacs = nmacs;
	snd.rate = rate;
	snd.batch = batch == 0 ? 64 : batch;
	memcpy(snd.prefix, prefix, 4);
	snd.frames = calloc(count, FRAME_LEN);
	snd.flen = nmacs == 0 ? FRAME_LEN : 64;
	for (unsigned i = 0; i < count; i++) {
		if (nmacs == 0)
			echo_frame(snd.frames + (size_t)i * FRAME_LEN, (uint16_t)i);
		else {
			prefix_mac(prefix, i % nmacs, mac);
			bench_frame(snd.frames + (size_t)i * FRAME_LEN, mac);
		}
	}
	if (nmacs == 0)
		tbl_del(o.dst_mac);
	usleep(20000);
	if (o.vpc)
		sw_stats(&s0);
	else
		watch_linux(&w, got);           /* forget what came before */
	memset(&w, 0, sizeof(w));
	memset(got, 0, MAXMACS);
	prev = s0;
	if (pthread_create(&th, NULL, sender, NULL) != 0)
		die("pthread_create");
	changed = now_ns();
	for (;;) {
		sleep_until(now_ns() + o.watch_us * 1000u);
		t = now_ns();
		if (o.vpc) {
			sw_stats(&s1);
			if (s1.c[VPC_SWSTAT_ANSWERS] != prev.c[VPC_SWSTAT_ANSWERS])
				w.last_install = t;
			w.installed = s1.c[VPC_SWSTAT_ANSWERS] - s0.c[VPC_SWSTAT_ANSWERS];
			w.raised = s1.c[VPC_SWSTAT_UPCALLS] - s0.c[VPC_SWSTAT_UPCALLS];
			sig = s1.c[VPC_SWSTAT_ANSWERS] + s1.c[VPC_SWSTAT_UPCALLS] +
			    s1.c[VPC_SWSTAT_MISSES] + s1.c[VPC_SWSTAT_TIMEOUTS];
			prev = s1;
		} else {
			watch_linux(&w, got);
			sig = w.raised + w.installed;
		}
		if (sig != lastsig) {
			lastsig = sig;
			changed = t;
		}
		/* Done: all there and quiet for 50 ms (late notifications and
		 * counters still settle), or nothing moved for idle-ms. */
		if (snd.done && ((w.installed >= target && t - changed > 50000000u) ||
		    t - changed > (uint64_t)o.idle_ms * 1000000u))
			break;
	}
	pthread_join(th, NULL);
	present = tbl_count(prefix, nmacs);
	printf("{\"sys\":\"%s\",\"count\":%u,\"nmacs\":%u,\"rate\":%u,\"send_us\":%.1f,"
	    "\"last_install_us\":%.1f,\"installed\":%llu,\"raised\":%llu,\"present\":%u,"
	    "\"backpressure\":%u,\"monitor_overflow\":%llu",
	    o.vpc ? "vpc" : "linux", count, nmacs, rate, (double)(snd.t1 - snd.t0) / 1e3,
	    w.last_install > snd.t0 ? (double)(w.last_install - snd.t0) / 1e3 : -1.0,
	    (unsigned long long)w.installed, (unsigned long long)w.raised, present,
	    snd.backpressure, (unsigned long long)w.overflow);
	if (o.vpc) {
		sw_stats(&s1);
		printf(",\"stats\":{");
		for (size_t i = 0; i < sizeof(swstat) / sizeof(swstat[0]); i++)
			printf("%s\"%s\":%llu", i ? "," : "", swstat[i].name,
			    (unsigned long long)(s1.c[swstat[i].idx] - s0.c[swstat[i].idx]));
		printf("}");
	}
	printf("}\n");
	return (0);
}

/* ---- main ------------------------------------------------------------------------ */

static void
parse_uuid(const char *s, vpc_id_t *id)
{
	unsigned n = 0, v;

	for (; *s != '\0' && n < 32; s++) {
		if (*s == '-')
			continue;
		if (sscanf(s, "%1x", &v) != 1)
			break;
		id->bytes[n / 2] = (uint8_t)(id->bytes[n / 2] << 4 | v);
		n++;
	}
	if (n != 32) {
		fprintf(stderr, "bad switch id\n");
		exit(2);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: peer_probe --sys linux|vpc --vm-ns NS --if IF --src-mac M --src-ip A "
	    "--dst-mac M --dst-ip A [--node-ns NS --vxlan IF | --switch UUID] "
	    "[--probe-us N] [--watch-us N] [--idle-ms N] lat|seq|arpseq|burst ARGS (see the source)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	int i, one = 1, big = 8 << 20, mon = 64 << 20, group = RTNLGRP_NEIGH;
	uint8_t prefix[4] = { 0 }, m6[6];

	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *k = argv[i] + 2, *v = argv[i + 1];

		if (strcmp(k, "sys") == 0)
			o.vpc = strcmp(v, "vpc") == 0;
		else if (strcmp(k, "vm-ns") == 0)
			o.vm_ns = v;
		else if (strcmp(k, "if") == 0)
			o.ifname = v;
		else if (strcmp(k, "node-ns") == 0)
			o.node_ns = v;
		else if (strcmp(k, "vxlan") == 0)
			o.vxlan = v;
		else if (strcmp(k, "switch") == 0)
			o.sw = v;
		else if (strcmp(k, "src-mac") == 0)
			parse_mac(v, o.src_mac);
		else if (strcmp(k, "dst-mac") == 0)
			parse_mac(v, o.dst_mac);
		else if (strcmp(k, "src-ip") == 0)
			(void)inet_pton(AF_INET, v, &o.src_ip);
		else if (strcmp(k, "dst-ip") == 0)
			(void)inet_pton(AF_INET, v, &o.dst_ip);
		else if (strcmp(k, "probe-us") == 0)
			o.probe_us = (unsigned)atoi(v);
		else if (strcmp(k, "watch-us") == 0)
			o.watch_us = (unsigned)atoi(v);
		else if (strcmp(k, "idle-ms") == 0)
			o.idle_ms = (unsigned)atoi(v);
		else
			usage();
	}
	if (i >= argc || o.vm_ns == NULL || o.ifname == NULL ||
	    (o.vpc ? o.sw == NULL : (o.node_ns == NULL || o.vxlan == NULL)))
		usage();
	ident = (uint16_t)getpid();

	/* The node side first, then the VM's namespace, where we stay. */
	if (o.vpc) {
		vpc_id_t id;

		memset(&id, 0, sizeof(id));
		parse_uuid(o.sw, &id);
		if ((swh = vpc_open(&id, VPC_TYPE_WORD(VPC_TYPE_SWITCH), VPC_FLAG_OPEN)) < 0)
			die("vpc_open(switch)");
	} else {
		struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

		enter_ns(o.node_ns);
		if ((vxidx = (int)if_nametoindex(o.vxlan)) == 0)
			die(o.vxlan);
		nlq = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		nlmon = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (nlq < 0 || nlmon < 0 ||
		    setsockopt(nlq, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0 ||
		    bind(nlmon, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    setsockopt(nlmon, SOL_SOCKET, SO_RCVBUFFORCE, &mon, sizeof(mon)) < 0)
			die("netlink");
		/* Only the burst mode reads notifications: join the group there. */
		if (strcmp(argv[i], "burst") == 0 &&
		    setsockopt(nlmon, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
			die("NETLINK_ADD_MEMBERSHIP");
	}
	enter_ns(o.vm_ns);
	if ((sll.sll_ifindex = (int)if_nametoindex(o.ifname)) == 0)
		die(o.ifname);
	if ((pktfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP))) < 0 ||
	    bind(pktfd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(pktfd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0 ||
	    setsockopt(pktfd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
		die("AF_PACKET");

	if (strcmp(argv[i], "lat") == 0 && argc - i >= 5)
		return (mode_lat((unsigned)atoi(argv[i + 1]), (unsigned)atoi(argv[i + 2]),
		    (unsigned)atoi(argv[i + 3]), (unsigned)atoi(argv[i + 4]),
		    !(argc - i >= 6 && atoi(argv[i + 5]) != 0),
		    argc - i >= 7 && atoi(argv[i + 6]) != 0));
	if (strcmp(argv[i], "seq") == 0 && argc - i >= 5) {
		parse_mac(argv[i + 3], m6);     /* PREFIX given as aa:bb:cc:dd:00:00 */
		memcpy(prefix, m6, 4);
		return (mode_seq((unsigned)atoi(argv[i + 1]), (unsigned)atoi(argv[i + 2]),
		    prefix, (unsigned)atoi(argv[i + 4])));
	}
	if (strcmp(argv[i], "arpseq") == 0 && argc - i >= 5) {
		struct in_addr a;

		if (inet_pton(AF_INET, argv[i + 3], &a) != 1)
			usage();
		return (mode_arpseq((unsigned)atoi(argv[i + 1]), (unsigned)atoi(argv[i + 2]),
		    ntohl(a.s_addr), (unsigned)atoi(argv[i + 4])));
	}
	if (strcmp(argv[i], "burst") == 0 && argc - i >= 6) {
		parse_mac(argv[i + 3], m6);
		memcpy(prefix, m6, 4);
		return (mode_burst((unsigned)atoi(argv[i + 1]), (unsigned)atoi(argv[i + 2]),
		    prefix, (unsigned)atoi(argv[i + 4]), (unsigned)atoi(argv[i + 5])));
	}
	usage();
	return (2);
}
