/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_datapath.c: the switch's data path driven directly (no daemon, no
 * sockets): local delivery, flooding, anti-spoofing, VXLAN encapsulation and
 * decapsulation byte by byte, the miss path (one upcall, hold queue bounds,
 * answers, staleness, negative caching, reader hand-off), subnets and the
 * router port, CAM ops, VNI 0 switches on a raw L2 underlay, expiry at
 * lookup.  Part of test_core.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vpc_impl.h"            /* white-box: handles to objects */
#include "host_loop.h"
#include "host_os.h"
#include "host_pkt.h"
#include "test_datapath.h"
#include "test_handles.h"
#include "test_os.h"

static struct vpc_nic *
test_hdl_nic(struct vpc_hdl *h)
{
	return (obj2nic(h->obj));
}

static struct vpc_vcc *
test_hdl_vcc(struct vpc_hdl *h)
{
	return (obj2vcc(h->obj));
}

static struct dp {
	struct vpc_sys *sys;
	struct vpc_hdl *sw, *vcc, *nic_a, *nic_b;
	const char     *name;
	int            *failed;
} dp;

#define TEST_AREA "datapath"
#define TEST_STATE dp
#include "test_area.h"

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 0xb };
static const uint8_t mac_r[6] = { 2, 0, 0, 0, 0, 0x1 };
static const uint8_t mac_x[6] = { 2, 0, 0, 0, 0, 0x42 };     /* remote */
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t vtep[4] = { 192, 0, 2, 7 };


/* ---- Helpers ----------------------------------------------------------------- */

static struct vpc_hdl *
open_new(unsigned type, uint8_t n)
{
	return (open_tagged(0xd0, type, n));
}

/* An Ethernet frame; with an IPv4 header to ipdst when ipdst is set. */
static struct vpc_pkt *
frame(const uint8_t dst[6], const uint8_t src[6], const uint8_t *ipdst,
    uint32_t extra)
{
	uint8_t b[1600];
	uint32_t len = 14;

	memset(b, 0, sizeof(b));
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x08;           /* IPv4, or ARP-less filler */
	b[13] = 0x00;
	if (ipdst != NULL) {
		b[14] = 0x45;
		memcpy(b + 14 + 16, ipdst, 4);
		len += 20;
	}
	len += extra;
	return (host_pkt_new(b, len));
}

static uint64_t
swstat(struct vpc_hdl *sw, unsigned which)
{
	return (sw_counter(sw, which));
}

static unsigned
sent_to(int kind, const void *to)
{
	unsigned i, n = 0;

	for (i = 0; i < test_nsent; i++)
		n += test_sent[i].kind == kind && (to == NULL || test_sent[i].to == to);
	return (n);
}

static int
answer(const vpc_upcall_ans_t *a, int32_t *res)
{
	return (ctl(NULL, VPC_OP_SYS_UPCALL_ANSWER, a, sizeof(*a), res,
	    sizeof(*res)));
}

/* A FOUND answer to r: the VTEP, for a minute. */
static void
found_answer(vpc_upcall_ans_t *a, const vpc_upcall_req_t *r)
{
	memset(a, 0, sizeof(*a));
	a->req_id = r->req_id;
	a->generation = r->generation;
	a->af = VPC_AF_INET;
	memcpy(a->addr, vtep, 4);
	a->ttl_ms = 60000;
}

/* ---- Setup: switch VNI 100, vcc, uplink, vmnic ports A and B ------------------ */

static int
setup(void)
{
	vpc_sw_vni_t v = { .vni = 100 };
	vpc_vcc_t vc;
	vpc_swport_t req, res;

	dp.sw = open_new(VPC_TYPE_SWITCH, 1);
	dp.vcc = open_new(VPC_TYPE_VCC, 2);
	EXPECT(dp.sw != NULL && dp.vcc != NULL);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	memset(&vc, 0, sizeof(vc));
	vc.flags = VPC_VCC_INET;
	memcpy(vc.addr4, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	EXPECT_EQ(ctl(dp.vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	memcpy(&req.peer_id, &(vpc_id_t){ .bytes = { 0xd0, [15] = 2 } }, 16);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR | VPC_FLAG_SWP_VLAN_ID;
	req.vlan_id = 12;
	memcpy(req.smac, mac_a, 6);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	dp.nic_a = test_handles[res.descriptor];
	memcpy(req.smac, mac_b, 6);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	dp.nic_b = test_handles[res.descriptor];
	return (0);
}

/* ---- Cases ---------------------------------------------------------------------- */

static int
t_local(void)
{
	test_sent_reset();
	in_nic(dp.nic_a, frame(mac_b, mac_a, NULL, 50));
	EXPECT_EQ(sent_to(TEST_TO_NIC, test_hdl_nic(dp.nic_b)), 1);
	EXPECT_EQ(test_sent[0].len, 64);
	EXPECT(memcmp(test_sent[0].data, mac_b, 6) == 0);
	/* Broadcast: every other local port, never the underlay. */
	test_sent_reset();
	in_nic(dp.nic_a, frame(bcast, mac_a, NULL, 50));
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(sent_to(TEST_TO_NIC, test_hdl_nic(dp.nic_b)), 1);
	/* Spoofed source, runt, tagged: dropped and counted. */
	test_sent_reset();
	in_nic(dp.nic_a, frame(mac_b, mac_r, NULL, 50));
	in_nic(dp.nic_a, host_pkt_new(mac_b, 6));
	{
		uint8_t t[64] = { 2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa, 0x81, 0, 0, 5, 8, 0 };

		in_nic(dp.nic_a, host_pkt_new(t, sizeof(t)));
	}
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_SPOOF), 1);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_RUNT), 1);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_TAGGED), 1);
	return (0);
}

/*
 * Frames the OS holds to write later (OS_NIC_HELD: the host's TAP merging)
 * are counted when it says how they fared, delivered or dropped, never at
 * the hand-over: a frame counted delivered was.
 */
static int
t_held(void)
{
	uint64_t tx0 = swstat(dp.sw, VPC_SWSTAT_TX_LOCAL);
	uint64_t drop0 = swstat(dp.sw, VPC_SWSTAT_DROP_TX);
	struct os_epoch et;

	test_output_error = OS_NIC_HELD;
	in_nic(dp.nic_a, frame(mac_b, mac_a, NULL, 50));
	in_nic(dp.nic_a, frame(mac_b, mac_a, NULL, 50));
	test_output_error = 0;
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_TX_LOCAL), tx0);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_TX), drop0);
	os_epoch_enter(&et);
	vpc_nic_output_done(test_hdl_nic(dp.nic_b), 2, true);
	vpc_nic_output_done(test_hdl_nic(dp.nic_b), 3, false);
	os_epoch_exit(&et);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_TX_LOCAL) - tx0, 2);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_TX) - drop0, 3);
	return (0);
}

static int
t_miss(void)
{
	uint8_t rec[4 * sizeof(vpc_upcall_req_t)];
	vpc_upcall_req_t r;
	vpc_upcall_ans_t a;
	uint64_t tx0;
	unsigned many0;
	int32_t res;
	size_t n;
	int i;
	uint8_t ip[4] = { 10, 0, 0, 66 };

	EXPECT_EQ(vpc_upcall_attach(dp.sys), 0);
	EXPECT_EQ(vpc_upcall_attach(dp.sys), VPC_EBUSY);
	test_sent_reset();
	for (i = 0; i < 100; i++)
		in_nic(dp.nic_a, frame(mac_x, mac_a, ip, 0));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_UPCALLS), 1);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DUPS), 99);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_HELD), VPC_HOLD_PER_MISS);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_HOLD_DROPS), 100 - VPC_HOLD_PER_MISS);
	n = vpc_upcall_read(dp.sys, rec, sizeof(rec));
	EXPECT_EQ(n, sizeof(r));
	memcpy(&r, rec, sizeof(r));
	EXPECT_EQ(r.magic, VPC_UPCALL_MAGIC);
	EXPECT_EQ(r.vni, 100);
	EXPECT_EQ(r.vlan, 12);
	EXPECT_EQ(r.ethertype, 0x0800);
	EXPECT(memcmp(r.dstmac, mac_x, 6) == 0 && memcmp(r.srcmac, mac_a, 6) == 0);
	EXPECT(r.dst_af == VPC_AF_INET && memcmp(r.dst_ip, ip, 4) == 0);
	EXPECT_EQ(vpc_upcall_read(dp.sys, rec, sizeof(rec)), 0);

	/* The reader goes away before answering: the next one gets it. */
	vpc_upcall_detach(dp.sys);
	EXPECT_EQ(vpc_upcall_attach(dp.sys), 0);
	{
		vpc_upcall_req_t r2;

		EXPECT_EQ(vpc_upcall_read(dp.sys, &r2, sizeof(r2)), sizeof(r2));
		EXPECT_EQ(r2.req_id, r.req_id);
		EXPECT(r2.generation != r.generation);
		memset(&a, 0, sizeof(a));
		a.req_id = r.req_id;
		a.generation = r.generation;            /* the old delivery */
		a.af = VPC_AF_INET;
		memcpy(a.addr, vtep, 4);
		EXPECT_EQ(answer(&a, &res), 0);
		EXPECT_EQ(res, VPC_ESTALE);
		a.req_id = r.req_id + (1u << 20);       /* no such request */
		EXPECT_EQ(answer(&a, &res), 0);
		EXPECT_EQ(res, VPC_ENOENT);
		a.req_id = r.req_id;
		a.generation = r2.generation;
		a.ttl_ms = 60000;
		a.revision = 5;
		many0 = test_vcc_output_many_calls;
		tx0 = swstat(dp.sw, VPC_SWSTAT_TX_REMOTE);
		EXPECT_EQ(answer(&a, &res), 0);
		EXPECT_EQ(res, 0);
		/* Released in batches of VPC_TXBATCH_MAX, one OS call each. */
		EXPECT_EQ(test_vcc_output_many_calls - many0,
		    (VPC_HOLD_PER_MISS + VPC_TXBATCH_MAX - 1) / VPC_TXBATCH_MAX);
		EXPECT_EQ(answer(&a, &res), 0);
		EXPECT_EQ(res, VPC_ENOENT);             /* answered already */
	}
	/* The held frames went out, VXLAN to the VTEP. */
	EXPECT_EQ(sent_to(TEST_TO_VCC, NULL), VPC_HOLD_PER_MISS);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_RELEASED), VPC_HOLD_PER_MISS);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_TX_REMOTE) - tx0, VPC_HOLD_PER_MISS);
	EXPECT(memcmp(test_sent[0].dst.addr, vtep, 4) == 0);
	EXPECT_EQ(test_sent[0].dst.port, 4789);
	EXPECT(test_sent[0].sport >= 49152);
	EXPECT_EQ(test_sent[0].data[0], 0x08);          /* I flag */
	EXPECT_EQ(test_sent[0].data[4], 0);             /* VNI 100 */
	EXPECT_EQ(test_sent[0].data[5], 0);
	EXPECT_EQ(test_sent[0].data[6], 100);
	EXPECT(memcmp(test_sent[0].data + 8, mac_x, 6) == 0);
	/* The next frame needs no upcall. */
	test_sent_reset();
	in_nic(dp.nic_a, frame(mac_x, mac_a, ip, 0));
	EXPECT_EQ(sent_to(TEST_TO_VCC, NULL), 1);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_UPCALLS), 1);
	vpc_upcall_detach(dp.sys);
	return (0);
}

/*
 * A frame to mac_e from vmnic A carrying one flow: IPv4 or IPv6 (ipv6),
 * proto, the ports; frag: IPv4's flags/offset field; ext: an IPv6
 * hop-by-hop header before the upper layer; label: IPv6's flow label.
 */
static const uint8_t mac_e[6] = { 2, 0, 0, 0, 0, 0x47 };

static struct vpc_pkt *
flow_frame_label(bool ipv6, uint8_t proto, uint16_t sport, uint16_t dport,
    uint16_t frag, bool ext, uint8_t src_last, uint32_t label)
{
	uint8_t b[128], *ip = b + 14, *l4;

	memset(b, 0, sizeof(b));
	memcpy(b, mac_e, 6);
	memcpy(b + 6, mac_a, 6);
	if (!ipv6) {
		vpc_put16(b + 12, 0x0800);
		ip[0] = 0x45;
		vpc_put16(ip + 2, 20 + 8 + 32);
		vpc_put16(ip + 6, frag);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, (uint8_t[]){ 10, 0, 0, src_last }, 4);
		memcpy(ip + 16, (uint8_t[]){ 10, 0, 0, 99 }, 4);
		l4 = ip + 20;
	} else {
		vpc_put16(b + 12, 0x86dd);
		ip[0] = 0x60;
		ip[1] = (uint8_t)(label >> 16 & 0x0f);
		vpc_put16(ip + 2, (uint16_t)label);
		vpc_put16(ip + 4, (ext ? 8 : 0) + 8 + 32);
		ip[6] = ext ? 0 : proto;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = src_last;
		ip[24] = 0xfd;
		ip[39] = 99;
		l4 = ip + 40;
		if (ext) {
			l4[0] = proto;          /* hop-by-hop: next, length 0, PadN */
			l4[2] = 1;
			l4[3] = 4;
			l4 += 8;
		}
	}
	vpc_put16(l4, sport);
	vpc_put16(l4 + 2, dport);
	return (host_pkt_new(b, (uint32_t)(l4 + 8 + 32 - b)));
}

static struct vpc_pkt *
flow_frame(bool ipv6, uint8_t proto, uint16_t sport, uint16_t dport,
    uint16_t frag, bool ext, uint8_t src_last)
{
	return (flow_frame_label(ipv6, proto, sport, dport, frag, ext, src_last, 0));
}

/* The underlay source port the frame left with, or -1 if it did not leave. */
static int
sport_of(struct vpc_pkt *p)
{
	test_sent_reset();
	in_nic(dp.nic_a, p);
	if (test_nsent != 1 || test_sent[0].kind != TEST_TO_VCC)
		return (-1);
	return (test_sent[0].sport);
}

/* How many of the n ports differ from every one before them. */
static unsigned
distinct(const int *v, unsigned n)
{
	unsigned i, j, d = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && v[j] != v[i]; j++)
			;
		d += j == i;
	}
	return (d);
}

/*
 * The underlay's UDP source port spreads flows over ECMP paths: two
 * connections between the same two VMs differ, each keeps one port; no
 * ports are read where they are not there to read (a fragment, an IPv6
 * extension header), so all of a fragmented datagram takes one path.
 */
static int
t_flow_sport(void)
{
	static const uint8_t protos[] = { 6, 17, 132 };
	vpc_sw_cam_t c;
	vpc_cam_set_result_t res;
	int v[64], s;
	unsigned i, k;

	memset(&c, 0, sizeof(c));
	memcpy(c.dstmac, mac_e, 6);
	c.kind = VPC_CAM_REMOTE;
	c.af = VPC_AF_INET;
	memcpy(c.addr, vtep, 4);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_SET, &c, sizeof(c), &res, sizeof(res)), 0);
	for (k = 0; k < 2 * nitems(protos); k++) {
		bool ipv6 = k >= nitems(protos);
		uint8_t proto = protos[k % nitems(protos)];

		/* Source ports 40000-40063 to one port: 64 flows. */
		for (i = 0; i < 64; i++) {
			v[i] = sport_of(flow_frame(ipv6, proto, (uint16_t)(40000 + i), 443, 0, false, 1));
			EXPECT(v[i] >= 49152);
			/* The same flow again: the same port. */
			EXPECT_EQ(sport_of(flow_frame(ipv6, proto, (uint16_t)(40000 + i), 443, 0, false, 1)), v[i]);
		}
		/* 64 draws of 16,384 ports collide about once in eight runs. */
		EXPECT(distinct(v, 64) >= 62);
		/* The destination port counts too, and the source address. */
		for (i = 0; i < 64; i++)
			v[i] = sport_of(flow_frame(ipv6, proto, 40000, (uint16_t)(1 + i), 0, false, 1));
		EXPECT(distinct(v, 64) >= 62);
		for (i = 0; i < 64; i++)
			v[i] = sport_of(flow_frame(ipv6, proto, 40000, 443, 0, false, (uint8_t)(1 + i)));
		EXPECT(distinct(v, 64) >= 62);
	}
	/* No ports where there are none to read: ICMP, fragments, IPv6 extension headers. */
	s = sport_of(flow_frame(false, 1, 40000, 443, 0, false, 1));
	EXPECT(s >= 49152);
	EXPECT_EQ(sport_of(flow_frame(false, 1, 40001, 444, 0, false, 1)), s);
	s = sport_of(flow_frame(false, 6, 40000, 443, 0x2000, false, 1));   /* MF, offset 0 */
	EXPECT(s >= 49152);
	EXPECT_EQ(sport_of(flow_frame(false, 6, 40001, 444, 0x2000, false, 1)), s);
	EXPECT_EQ(sport_of(flow_frame(false, 6, 40002, 445, 0x00b9, false, 1)), s); /* a later one */
	EXPECT(sport_of(flow_frame(false, 6, 40000, 443, 0x4000, false, 1)) != s);   /* DF: not a fragment */
	s = sport_of(flow_frame(true, 17, 40000, 443, 0, true, 1));
	EXPECT(s >= 49152);
	EXPECT_EQ(sport_of(flow_frame(true, 17, 40001, 444, 0, true, 1)), s);
	/* IPv6's flow label counts, with or without ports: a guest that
	 * changes it (Linux's TCP after a timeout) may take another path. */
	for (i = 0; i < 64; i++)
		v[i] = sport_of(flow_frame_label(true, 17, 40000, 443, 0, true, 1, 0x12345 + i * 0x1011));
	EXPECT(distinct(v, 64) >= 62);
	EXPECT_EQ(sport_of(flow_frame_label(true, 17, 40001, 444, 0, true, 1, 0x12345)), v[0]);
	EXPECT(sport_of(flow_frame_label(true, 6, 40000, 443, 0, false, 1, 7)) !=
	    sport_of(flow_frame_label(true, 6, 40000, 443, 0, false, 1, 8)));
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_DEL, &(vpc_cam_key_t){ .dstmac = { 2, 0, 0, 0, 0, 0x47 } },
	    sizeof(vpc_cam_key_t), NULL, 0), 0);
	return (0);
}

/* Released frames the OS fails to send are counted as dropped, each one. */
static int
t_release_send_fails(void)
{
	const uint8_t mac_f[6] = { 2, 0, 0, 0, 0, 0x46 };
	vpc_upcall_req_t r;
	vpc_upcall_ans_t a;
	vpc_vcc_stats_t st0, st;
	uint64_t tx0 = swstat(dp.sw, VPC_SWSTAT_TX_REMOTE);
	uint64_t drop0 = swstat(dp.sw, VPC_SWSTAT_DROP_TX);
	int32_t res = -1;
	int i, rc;

	EXPECT_EQ(ctl(dp.vcc, VPC_OP_VCC_GET_STATS, NULL, 0, &st0, sizeof(st0)), 0);
	EXPECT_EQ(vpc_upcall_attach(dp.sys), 0);
	test_sent_reset();
	for (i = 0; i < 3; i++)
		in_nic(dp.nic_a, frame(mac_f, mac_a, NULL, 46));
	EXPECT_EQ(vpc_upcall_read(dp.sys, &r, sizeof(r)), sizeof(r));
	found_answer(&a, &r);
	test_output_error = VPC_ENOBUFS;
	rc = answer(&a, &res);
	test_output_error = 0;
	EXPECT_EQ(rc, 0);
	EXPECT_EQ(res, 0);              /* the answer stands; the sends failed */
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_TX) - drop0, 3);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_TX_REMOTE), tx0);
	EXPECT_EQ(ctl(dp.vcc, VPC_OP_VCC_GET_STATS, NULL, 0, &st, sizeof(st)), 0);
	EXPECT_EQ(st.c[VPC_VCCSTAT_TX_ERR] - st0.c[VPC_VCCSTAT_TX_ERR], 3);
	EXPECT_EQ(st.c[VPC_VCCSTAT_TX], st0.c[VPC_VCCSTAT_TX]);
	vpc_upcall_detach(dp.sys);
	return (0);
}

static int
t_negative(void)
{
	const uint8_t mac_n[6] = { 2, 0, 0, 0, 0, 0x4e };
	vpc_upcall_req_t r;
	vpc_upcall_ans_t a;
	int32_t res;

	EXPECT_EQ(vpc_upcall_attach(dp.sys), 0);
	test_sent_reset();
	in_nic(dp.nic_a, frame(mac_n, mac_a, NULL, 10));
	in_nic(dp.nic_a, frame(mac_n, mac_a, NULL, 10));
	EXPECT_EQ(vpc_upcall_read(dp.sys, &r, sizeof(r)), sizeof(r));
	memset(&a, 0, sizeof(a));
	a.req_id = r.req_id;
	a.generation = r.generation;
	a.status = VPC_UPCALL_NOT_FOUND;
	a.af = VPC_AF_INET;                         /* not with NOT_FOUND */
	EXPECT_EQ(answer(&a, &res), 0);
	EXPECT_EQ(res, VPC_EINVAL);
	a.af = 0;
	EXPECT_EQ(answer(&a, &res), 0);
	EXPECT_EQ(res, 0);
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_NEGATIVE), 1);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_HELD_DROPPED), 2);
	in_nic(dp.nic_a, frame(mac_n, mac_a, NULL, 10));    /* cached */
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_NEGATIVE), 1);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_UPCALLS), 2);
	vpc_upcall_detach(dp.sys);
	return (0);
}

static int
t_underlay(void)
{
	uint8_t b[8 + 64];
	struct os_epoch et;
	struct vpc_vcc *vcc = test_hdl_vcc(dp.vcc);
	vpc_vcc_stats_t st;

	memset(b, 0, sizeof(b));
	b[0] = 0x08;
	b[6] = 100;
	memcpy(b + 8, mac_b, 6);
	memcpy(b + 14, mac_x, 6);
	test_sent_reset();
	os_epoch_enter(&et);
	vpc_vcc_input(vcc, host_pkt_new(b, sizeof(b)));         /* to B */
	b[6] = 101;
	vpc_vcc_input(vcc, host_pkt_new(b, sizeof(b)));         /* no such VNI */
	b[6] = 100;
	b[0] = 0;
	vpc_vcc_input(vcc, host_pkt_new(b, sizeof(b)));         /* no I flag */
	b[0] = 0x08;
	vpc_vcc_input(vcc, host_pkt_new(b, 12));                /* short */
	memcpy(b + 8, mac_r, 6);
	vpc_vcc_input(vcc, host_pkt_new(b, sizeof(b)));         /* no such MAC */
	os_epoch_exit(&et);
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(sent_to(TEST_TO_NIC, test_hdl_nic(dp.nic_b)), 1);
	EXPECT_EQ(test_sent[0].len, 64);
	EXPECT_EQ(ctl(dp.vcc, VPC_OP_VCC_GET_STATS, NULL, 0, &st, sizeof(st)), 0);
	EXPECT_EQ(st.c[VPC_VCCSTAT_RX], 5);
	EXPECT_EQ(st.c[VPC_VCCSTAT_RX_NO_VNI], 1);
	EXPECT_EQ(st.c[VPC_VCCSTAT_RX_BAD], 2);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_UNKNOWN), 1);
	return (0);
}

static int
t_router(void)
{
	vpc_sw_subnet_t s;
	vpc_swport_t req, res;
	struct vpc_hdl *nic_r;
	uint8_t on[4] = { 10, 0, 0, 9 }, off[4] = { 10, 0, 1, 5 };

	memset(&s, 0, sizeof(s));
	s.af = VPC_AF_INET;
	s.prefixlen = 24;
	memcpy(s.addr, (uint8_t[]){ 10, 0, 0, 1 }, 4);     /* host bits set */
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_SET_SUBNET, &s, sizeof(s), NULL, 0), VPC_EINVAL);
	s.addr[3] = 0;
	s.af = 5;
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_SET_SUBNET, &s, sizeof(s), NULL, 0),
	    VPC_EAFNOSUPPORT);
	s.af = VPC_AF_INET;
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_SET_SUBNET, &s, sizeof(s), NULL, 0), 0);
	test_sent_reset();
	in_nic(dp.nic_a, frame(mac_r, mac_a, off, 10));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_NO_ROUTER), 1);
	/* The router's vmnic plugged into the router port. */
	nic_r = open_new(VPC_TYPE_NIC, 9);
	{
		vpc_vmnic_t m = { .txn = 0 };

		memcpy(m.mac, mac_r, 6);
		EXPECT_EQ(ctl(nic_r, VPC_OP_NIC_SET_MAC, &m, sizeof(m), NULL, 0), 0);
	}
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_ROUTER;
	memcpy(&req.peer_id, &(vpc_id_t){ .bytes = { 0xd0, [15] = 9 } }, 16);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	in_nic(dp.nic_a, frame(mac_x, mac_a, off, 10));     /* any MAC: off-subnet */
	in_nic(dp.nic_a, frame(mac_b, mac_a, on, 10));      /* on-subnet: to B */
	EXPECT_EQ(sent_to(TEST_TO_NIC, test_hdl_nic(nic_r)), 1);
	EXPECT_EQ(sent_to(TEST_TO_NIC, test_hdl_nic(dp.nic_b)), 1);
	/* A broadcast now reaches the router's vmnic too. */
	test_sent_reset();
	in_nic(dp.nic_a, frame(bcast, mac_a, NULL, 10));
	EXPECT_EQ(test_nsent, 2);
	vpc_core_close(dp.sys, nic_r);      /* uncommitted: takes its port along */
	test_sent_reset();
	in_nic(dp.nic_a, frame(mac_x, mac_a, off, 10));
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_DROP_NO_ROUTER), 2);
	s.prefixlen = 0;
	memset(s.addr, 0, 16);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_SET_SUBNET, &s, sizeof(s), NULL, 0), 0);
	return (0);
}

static int
t_cam_ops(void)
{
	vpc_sw_cam_t c[3], out[8];
	vpc_cam_set_result_t res;
	vpc_cam_key_t k;
	vpc_cam_flush_t f = { VPC_VNI_ANY, 0 };
	vpc_list_req_t lr;
	uint64_t flushed;
	size_t vl;
	int i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 3; i++) {
		c[i].dstmac[0] = 2;
		c[i].dstmac[5] = (uint8_t)(0x70 + i);
		c[i].kind = VPC_CAM_REMOTE;
		c[i].af = VPC_AF_INET;
		memcpy(c[i].addr, vtep, 4);
		c[i].ttl_ms = 10000;
		c[i].revision = 10;
	}
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_SET, c, sizeof(c), &res, sizeof(res)), 0);
	EXPECT_EQ(res.applied, 3);
	c[0].revision = 9;                      /* older than what is there */
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_SET, c, sizeof(c[0]), &res, sizeof(res)), 0);
	EXPECT(res.applied == 0 && res.stale == 1);
	/* One bad entry refuses the whole batch before anything is applied. */
	c[1].dstmac[5] = 0x7f;
	c[2].ttl_ms = VPC_CAM_TTL_MAX_MS + 1;
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_SET, c, sizeof(c), &res, sizeof(res)), VPC_ERANGE);
	memset(&k, 0, sizeof(k));
	memcpy(k.dstmac, c[1].dstmac, 6);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_GET, &k, sizeof(k), out, sizeof(out[0])), VPC_ENOENT);
	c[2].ttl_ms = 0;
	memcpy(c[2].dstmac, mac_b, 6);          /* a local port's MAC */
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_SET, &c[2], sizeof(c[2]), &res, sizeof(res)), VPC_EBUSY);
	c[2].dstmac[0] = 3;                     /* multicast */
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_SET, &c[2], sizeof(c[2]), &res, sizeof(res)), VPC_EINVAL);
	c[2].dstmac[0] = 2;
	c[2].af = 5;
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_SET, &c[2], sizeof(c[2]), &res, sizeof(res)), VPC_EAFNOSUPPORT);
	/* Get, dump with a marker, delete, flush. */
	k.dstmac[5] = 0x71;
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_GET, &k, sizeof(k), out, sizeof(out[0])), 0);
	EXPECT(out[0].kind == VPC_CAM_REMOTE && out[0].ttl_ms > 9000 && out[0].vni == 100);
	memcpy(k.dstmac, mac_b, 6);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_DEL, &k, sizeof(k), NULL, 0), VPC_EBUSY);
	memset(&lr, 0, sizeof(lr));
	{
		size_t seen = 0;

		for (;;) {
			vl = sizeof(out[0]) * 2;
			EXPECT_EQ(vpc_core_ctl(dp.sys, &call, dp.sw, VPC_OP_SW_CAM_DUMP,
			    &lr, sizeof(lr), out, &vl), 0);
			if (vl == 0)
				break;
			seen += vl / sizeof(out[0]);
			lr.marker = out[vl / sizeof(out[0]) - 1].cursor;
		}
		/* A, B (local), the remote of t_miss, the negative, 3 here. */
		EXPECT_EQ(seen, 7);
	}
	vl = 5;
	lr.marker = 0;
	EXPECT_EQ(vpc_core_ctl(dp.sys, &call, dp.sw, VPC_OP_SW_CAM_DUMP, &lr,
	    sizeof(lr), out, &vl), VPC_ERANGE);
	EXPECT_EQ(vl, 7 * sizeof(vpc_sw_cam_t));
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_FLUSH, &f, sizeof(f), &flushed, sizeof(flushed)), 0);
	EXPECT_EQ(flushed, 5);                  /* the local ones stay */
	memcpy(k.dstmac, mac_b, 6);
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_GET, &k, sizeof(k), out, sizeof(out[0])), 0);
	EXPECT_EQ(out[0].kind, VPC_CAM_LOCAL);
	return (0);
}

/* Time moves because the test says so: nothing here races the machine. */
static void
advance_ms(uint64_t ms)
{
	host_clock_skew_ns += ms * 1000000u;
	hloop_run_timers();
}

static int
t_expiry(void)
{
	vpc_sw_cam_t c;
	vpc_cam_set_result_t res;
	uint64_t before = swstat(dp.sw, VPC_SWSTAT_UPCALLS);

	memset(&c, 0, sizeof(c));
	memcpy(c.dstmac, mac_x, 6);
	c.kind = VPC_CAM_REMOTE;
	c.af = VPC_AF_INET;
	memcpy(c.addr, vtep, 4);
	c.ttl_ms = 1000;
	EXPECT_EQ(ctl(dp.sw, VPC_OP_SW_CAM_SET, &c, sizeof(c), &res, sizeof(res)), 0);
	test_sent_reset();
	in_nic(dp.nic_a, frame(mac_x, mac_a, NULL, 0));
	EXPECT_EQ(sent_to(TEST_TO_VCC, NULL), 1);
	advance_ms(1001);
	in_nic(dp.nic_a, frame(mac_x, mac_a, NULL, 0));     /* expired: a miss */
	EXPECT_EQ(sent_to(TEST_TO_VCC, NULL), 1);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_UPCALLS), before + 1);
	return (0);
}

/* One miss for MAC m from port A; returns its request id (0: none made). */
static uint64_t
miss_once(const uint8_t m[6])
{
	uint64_t before = swstat(dp.sw, VPC_SWSTAT_UPCALLS);

	in_nic(dp.nic_a, frame(m, mac_a, NULL, 0));
	return (swstat(dp.sw, VPC_SWSTAT_UPCALLS) - before);
}

static uint64_t
pending(void)
{
	vpc_upcall_stats_t st;

	if (ctl(NULL, VPC_OP_SYS_UPCALL_STATS, NULL, 0, &st, sizeof(st)) != 0)
		return (~0ull);
	return (st.pending);
}

/*
 * The timeout of a request a reader holds, the longer window while no
 * reader is attached, the full timeout again for a new reader, and the cap
 * that a crash-looping reader cannot push back.
 */
static int
t_orphan(void)
{
	static const uint8_t m1[6] = { 2, 0, 0, 0, 0, 0x51 };
	static const uint8_t m2[6] = { 2, 0, 0, 0, 0, 0x52 };
	static const uint8_t m3[6] = { 2, 0, 0, 0, 0, 0x53 };
	vpc_upcall_req_t r;
	uint64_t t0, p0;
	int i;

	/* What earlier cases left pending (no reader) has expired by now. */
	advance_ms(VPC_UPCALL_ORPHAN_MS + VPC_UPCALL_TIMEOUT_MS);
	EXPECT_EQ(p0 = pending(), 0);
	t0 = swstat(dp.sw, VPC_SWSTAT_TIMEOUTS);
	vpc_upcall_set_timeout(dp.sys, 1000);
	vpc_upcall_set_orphan_timeout(dp.sys, 10000);

	/* A reader holds it: it expires 1 s after it was raised. */
	EXPECT_EQ(vpc_upcall_attach(dp.sys), 0);
	EXPECT_EQ(miss_once(m1), 1);
	EXPECT_EQ(vpc_upcall_read(dp.sys, &r, sizeof(r)), sizeof(r));
	advance_ms(999);
	EXPECT_EQ(pending(), p0 + 1);
	advance_ms(2);
	EXPECT_EQ(pending(), p0);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_TIMEOUTS), t0 + 1);

	/* The reader dies holding it: it waits the orphan window instead... */
	EXPECT_EQ(miss_once(m2), 1);
	EXPECT_EQ(vpc_upcall_read(dp.sys, &r, sizeof(r)), sizeof(r));
	advance_ms(500);
	vpc_upcall_detach(dp.sys);
	advance_ms(9000);               /* 9.5 s after it was raised */
	EXPECT_EQ(pending(), p0 + 1);
	/* ...and a new reader gets the full timeout for it. */
	EXPECT_EQ(vpc_upcall_attach(dp.sys), 0);
	advance_ms(999);
	EXPECT_EQ(pending(), p0 + 1);
	EXPECT_EQ(vpc_upcall_read(dp.sys, &r, sizeof(r)), sizeof(r));
	EXPECT(memcmp(r.dstmac, m2, 6) == 0);
	advance_ms(2);
	EXPECT_EQ(pending(), p0);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_TIMEOUTS), t0 + 2);
	vpc_upcall_detach(dp.sys);

	/* No reader at all: the orphan window. */
	EXPECT_EQ(miss_once(m1), 1);
	advance_ms(9999);
	EXPECT_EQ(pending(), p0 + 1);
	advance_ms(2);
	EXPECT_EQ(pending(), p0);

	/* Readers that come and go never keep one past orphan + timeout. */
	EXPECT_EQ(miss_once(m3), 1);
	for (i = 0; i < 10; i++) {
		EXPECT_EQ(vpc_upcall_attach(dp.sys), 0);
		advance_ms(900);
		vpc_upcall_detach(dp.sys);
		if (i < 9)
			EXPECT_EQ(pending(), p0 + 1);
	}
	advance_ms(1999);               /* 10.999 s after it was raised */
	EXPECT_EQ(pending(), p0 + 1);
	advance_ms(2);                  /* past orphan + timeout */
	EXPECT_EQ(pending(), p0);
	EXPECT_EQ(swstat(dp.sw, VPC_SWSTAT_TIMEOUTS), t0 + 4);

	vpc_upcall_set_timeout(dp.sys, VPC_UPCALL_TIMEOUT_MS);
	vpc_upcall_set_orphan_timeout(dp.sys, VPC_UPCALL_ORPHAN_MS);
	return (0);
}

/*
 * vpc_core_ctl_start/finish (vpc-hostd replies between them): the answer is
 * applied and its result known at start, with nothing sent and the control
 * lock free; the held frames go out at finish, in order; an op that leaves
 * nothing to send needs its finish all the same (to free what it reserved)
 * and it sends nothing.
 */
static int
t_answer_then_send(void)
{
	const uint8_t mac_y[6] = { 2, 0, 0, 0, 0, 0x43 };
	struct vpc_ctl_later later;
	vpc_upcall_req_t r;
	vpc_upcall_ans_t a;
	vpc_cam_key_t k;
	vpc_sw_cam_t ce;
	int32_t res = -1;
	size_t vl = sizeof(res);
	uint64_t released0 = swstat(dp.sw, VPC_SWSTAT_RELEASED), released;
	unsigned nsent, nsent_get, nafter;
	bool had_after;
	int i, rc, rc_get;

	EXPECT_EQ(vpc_upcall_attach(dp.sys), 0);
	test_sent_reset();
	for (i = 0; i < 3; i++)
		in_nic(dp.nic_a, frame(mac_y, mac_a, NULL, 46 + i));
	EXPECT_EQ(test_nsent, 0);
	EXPECT_EQ(vpc_upcall_read(dp.sys, &r, sizeof(r)), sizeof(r));
	found_answer(&a, &r);
	/* What start left is looked at once finish has run: an EXPECT that
	 * returned in between would leave the epoch entered. */
	rc = vpc_core_ctl_start(dp.sys, &call, NULL, VPC_OP_SYS_UPCALL_ANSWER,
	    &a, sizeof(a), &res, &vl, &later);
	had_after = later.after != NULL;
	nsent = test_nsent;
	released = swstat(dp.sw, VPC_SWSTAT_RELEASED);
	/* The entry is in and the lock is free: another op runs meanwhile. */
	memset(&k, 0, sizeof(k));
	memcpy(k.dstmac, mac_y, 6);
	memset(&ce, 0, sizeof(ce));
	rc_get = ctl(dp.sw, VPC_OP_SW_CAM_GET, &k, sizeof(k), &ce, sizeof(ce));
	nsent_get = test_nsent;
	vpc_core_ctl_finish(dp.sys, &later);
	EXPECT_EQ(rc, 0);
	EXPECT_EQ(res, 0);
	EXPECT_EQ(vl, sizeof(res));
	EXPECT(had_after);
	EXPECT_EQ(nsent, 0);                            /* not before finish */
	EXPECT_EQ(released, released0 + 3);
	EXPECT_EQ(rc_get, 0);
	EXPECT_EQ(ce.kind, VPC_CAM_REMOTE);
	EXPECT_EQ(nsent_get, 0);
	EXPECT(later.after == NULL);
	EXPECT_EQ(sent_to(TEST_TO_VCC, NULL), 3);
	for (i = 0; i < 3; i++)                         /* in order */
		EXPECT_EQ(test_sent[i].len, 8 + 14 + 46 + i);
	/* Nothing to send: finish is a no-op. */
	test_sent_reset();
	rc = vpc_core_ctl_start(dp.sys, &call, NULL, VPC_OP_SYS_UPCALL_ANSWER,
	    &a, sizeof(a), &res, &vl, &later);
	nafter = later.nafter;
	vpc_core_ctl_finish(dp.sys, &later);
	EXPECT_EQ(rc, 0);
	EXPECT_EQ(res, VPC_ENOENT);                     /* answered already */
	EXPECT_EQ(nafter, 0);
	EXPECT_EQ(test_nsent, 0);
	vpc_upcall_detach(dp.sys);
	return (0);
}

static int
t_vni0(void)
{
	struct vpc_hdl *sw0 = open_new(VPC_TYPE_SWITCH, 20), *nic;
	vpc_sw_vni_t v = { .vni = 0 };
	vpc_vcc_t vc;
	vpc_swport_t req, res;
	struct os_epoch et;
	uint8_t t[64];

	EXPECT_EQ(ctl(sw0, VPC_OP_SW_SET_VNI, &v, sizeof(v), NULL, 0), 0);
	EXPECT_EQ(ctl(dp.vcc, VPC_OP_VCC_GET, NULL, 0, &vc, sizeof(vc)), 0);
	snprintf(vc.l2_ifname, sizeof(vc.l2_ifname), "eth9");
	EXPECT_EQ(ctl(dp.vcc, VPC_OP_VCC_SET, &vc, sizeof(vc), NULL, 0), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_VLAN_ID;
	req.vlan_id = 33;
	memcpy(&req.peer_id, &(vpc_id_t){ .bytes = { 0xd0, [15] = 2 } }, 16);
	EXPECT_EQ(ctl(sw0, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac_a, 6);             /* another switch: may repeat */
	EXPECT_EQ(ctl(sw0, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)), 0);
	nic = test_handles[res.descriptor];
	test_sent_reset();
	in_nic(nic, frame(mac_x, mac_a, NULL, 40));     /* unknown: to the L2 */
	EXPECT_EQ(sent_to(TEST_TO_L2, NULL), 1);
	EXPECT_EQ(test_sent[0].len, 58);
	EXPECT(test_sent[0].data[12] == 0x81 && test_sent[0].data[13] == 0x00 &&
	    test_sent[0].data[15] == 33);
	EXPECT(memcmp(test_sent[0].data + 6, mac_a, 6) == 0);
	EXPECT_EQ(swstat(sw0, VPC_SWSTAT_UPCALLS), 0);   /* never VXLAN */
	/* From the L2, tagged 33: for this switch, untagged on the way in. */
	memset(t, 0, sizeof(t));
	memcpy(t, mac_a, 6);
	memcpy(t + 6, mac_x, 6);
	t[12] = 0x81;
	t[15] = 33;
	t[16] = 0x08;
	test_sent_reset();
	os_epoch_enter(&et);
	/* What a glue sharing its L2 device asks first (FreeBSD's). */
	EXPECT(vpc_vcc_l2_wants(test_hdl_vcc(dp.vcc), 33));
	EXPECT(!vpc_vcc_l2_wants(test_hdl_vcc(dp.vcc), 34));
	EXPECT(!vpc_vcc_l2_wants(test_hdl_vcc(dp.vcc), 0));
	vpc_vcc_l2_input(test_hdl_vcc(dp.vcc), host_pkt_new(t, sizeof(t)));
	t[15] = 34;
	vpc_vcc_l2_input(test_hdl_vcc(dp.vcc), host_pkt_new(t, sizeof(t)));
	os_epoch_exit(&et);
	EXPECT_EQ(sent_to(TEST_TO_NIC, test_hdl_nic(nic)), 1);
	EXPECT_EQ(test_nsent, 1);
	EXPECT_EQ(test_sent[0].len, 60);
	EXPECT(test_sent[0].data[12] == 0x08);
	vpc_core_close(dp.sys, nic);
	test_handles[res.descriptor] = NULL;
	vpc_core_close(dp.sys, sw0);
	os_epoch_enter(&et);
	EXPECT(!vpc_vcc_l2_wants(test_hdl_vcc(dp.vcc), 33));  /* its uplink went */
	os_epoch_exit(&et);
	return (0);
}

int
test_datapath(struct vpc_sys *sys, int *failed)
{
	static const struct test_case cases[] = {
		{ "setup", setup },
		{ "local delivery and drops", t_local },
		{ "frames the OS holds are counted when it says how they fared", t_held },
		{ "miss, hold, answer", t_miss },
		{ "negative answers", t_negative },
		{ "from the underlay", t_underlay },
		{ "subnet and router", t_router },
		{ "CAM ops", t_cam_ops },
		{ "expiry at lookup", t_expiry },
		{ "upcall timeouts with and without a reader", t_orphan },
		{ "answer applied at start, frames sent at finish", t_answer_then_send },
		{ "VNI 0 on a raw L2 underlay", t_vni0 },
		{ "released frames whose send fails", t_release_send_fails },
		{ "the underlay source port follows the flow (ECMP)", t_flow_sport },
	};
	int passed;

	dp.sys = sys;
	dp.failed = failed;
	passed = run_cases(cases, nitems(cases));
	close_test_handles();
	if (dp.sw != NULL)
		vpc_core_close(sys, dp.sw);
	if (dp.vcc != NULL)
		vpc_core_close(sys, dp.vcc);
	hloop_reclaim();
	return (passed);
}
