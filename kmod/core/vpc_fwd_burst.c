/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_fwd_burst.c: a burst of frames from one vmnic, taken the way DPDK's
 * bulk lookups (and l3fwd's software pipelining) take theirs.  At a
 * million CAM entries or firewall flows every lookup reads lines no recent
 * frame touched, one DRAM round trip (137-216 ns on the VM this was
 * measured on, plus a page walk: the tables are far past what the TLB
 * maps) per line, against 20-30 ns for the whole lookup when cached; one
 * frame at a time, those misses come one after the other.  With a burst in
 * hand the lines of the next frames are asked for while this one is
 * processed, in four stages a frame:
 *
 *   1. Its Ethernet header: the CAM bucket of its destination MAC (unicast
 *      only) and, when the vmnic's port has rule sets, the bucket of its
 *      egress flow (vpc_fw_prefetch).
 *   2. The CAM entry and the egress flow those buckets' tags name.
 *   3. Only when the firewall holds many flows: the CAM entry (now in) says
 *      which local port the frame goes to; if that port has rule sets, the
 *      bucket of the frame's ingress flow there.
 *   4. The ingress flow its tag names.
 *
 * Frame i's stage k runs VPC_BURST_AHEAD frames after frame i's stage k-1,
 * and frame i goes through vpc_nic_input once its last stage is that far
 * behind (pipeline()): a few frames' lines in flight at a time, not a whole
 * burst's.  (Every stage over the whole burst first, then every frame,
 * measured the same on the VM, within its noise; AHEAD 2, 4 and 8 too.)
 *
 * Every frame goes through vpc_nic_input, in order, unchanged: the stages
 * only read (the frame, published tables, in the epoch the caller holds for
 * the whole burst) and only prefetch, so the burst does exactly what n
 * calls of vpc_nic_input would, frame by frame, every counter included
 * (tests/unit/test_burst.c runs both on twin systems).  A hint that an
 * earlier frame's processing made stale (it added a flow, a writer
 * replaced an entry) is only a wasted prefetch.  The one difference a
 * caller's tx batch makes is when frames for the underlay leave: together,
 * up to VPC_TXBATCH_MAX per OS call, later than the local deliveries of
 * frames behind them, but each vcc's frames in the order they came.
 *
 * Tables small enough to stay in the caches (under vpc_prefetch_min
 * entries) get no hints: there they only cost (a header copy, a hash or
 * two, a prefetch instruction a frame).  The hints cover the usual cases
 * and no more: unicast frames, and flows of TCP or UDP over IPv4 without
 * options or directly over IPv6.  What the router and the NAT look up for
 * frames off the subnet is not prefetched.
 */
#include "vpc_impl.h"

uint32_t vpc_prefetch_min = VPC_PREFETCH_MIN;

/* Frames a stage runs ahead of the next (vpc_fwd_burst.c's pipeline). */
#ifndef VPC_BURST_AHEAD
#define VPC_BURST_AHEAD 4
#endif

/*
 * Per frame: the flow bucket asked for (egress in stages 1-2, ingress in
 * 3-4; NULL: none) with its tag, and the destination MAC.  16 bytes, so
 * the burst's hints take 512 bytes of (kernel) stack.
 */
struct slot {
	const void *fwb;
	uint16_t    fwtag;
	uint8_t     dst[6];
};

/* A burst in progress: what its stages share. */
struct burst {
	struct vpc_switch *sw;
	struct vpc_port   *in;
	struct vpc_pkt *const *pkts;
	bool               cam;         /* the CAM is worth prefetching */
	bool               flows;       /* so are the firewall's flows */
	bool               fw_out;      /* ...and the vmnic's port has sets */
	uint32_t           ucast;       /* bit i: frame i is unicast */
	struct slot        s[VPC_BURST_MAX];
	uint16_t           et[VPC_BURST_MAX];   /* ethertypes */
};

/* Stage 1: the CAM bucket and the egress flow's bucket. */
static void
stage1(struct burst *b, unsigned i)
{
	struct vpc_fw_hint h;
	struct slot *s = &b->s[i];
	uint8_t eh[ETHER_HDR_LEN];

	s->fwb = NULL;
	if (!os_pkt_copyout(b->pkts[i], 0, ETHER_HDR_LEN, eh) ||
	    vpc_mac_is_multicast(eh))
		return;
	b->ucast |= 1u << i;
	memcpy(s->dst, eh, 6);
	b->et[i] = (uint16_t)(eh[12] << 8 | eh[13]);
	if (b->cam)
		vpc_cam_prefetch(b->sw, s->dst);
	if (b->fw_out) {
		vpc_fw_prefetch(b->sw, b->in, VPC_FW_DIR_OUT, b->pkts[i],
		    ETHER_HDR_LEN, b->et[i], &h);
		s->fwb = h.bucket;
		s->fwtag = h.tag;
	}
}

static void
flow_hint(const struct slot *s)
{
	struct vpc_fw_hint h = { s->fwb, s->fwtag };

	vpc_fw_prefetch_flow(&h);
}

/* Stage 2: the CAM entry and the egress flow. */
static void
stage2(struct burst *b, unsigned i)
{
	if ((b->ucast & (1u << i)) == 0)
		return;
	if (b->cam)
		vpc_cam_prefetch_entry(b->sw, b->s[i].dst);
	flow_hint(&b->s[i]);
}

/* Stage 3: the bucket of the ingress flow at a local port with sets. */
static void
stage3(struct burst *b, unsigned i)
{
	const struct vpc_cam_ent *e;
	const struct vpc_port *to;
	struct vpc_fw_hint h;
	struct slot *s = &b->s[i];

	s->fwb = NULL;
	if ((b->ucast & (1u << i)) == 0 ||
	    (e = vpc_cam_peek(b->sw, s->dst)) == NULL ||
	    e->kind != VPC_CAM_LOCAL || (to = e->port) == b->in ||
	    vpc_load(to->fw) == NULL)
		return;
	vpc_fw_prefetch(b->sw, to, VPC_FW_DIR_IN, b->pkts[i], ETHER_HDR_LEN,
	    b->et[i], &h);
	s->fwb = h.bucket;
	s->fwtag = h.tag;
}

/*
 * pkts[0..n) (n <= VPC_BURST_MAX), all from nic, whose port is b->in: a
 * software pipeline.  Step i runs stage 1 for frame i, stage 2 for frame
 * i - AHEAD, and so on, and hands frame i - stages * AHEAD to
 * vpc_nic_input: each line is asked for AHEAD frames' work before it is
 * needed, and about stages * AHEAD frames' lines are in flight at once,
 * within what a CPU keeps outstanding.
 */
static void
pipeline(struct vpc_nic *nic, struct burst *b, unsigned n,
    struct vpc_txbatch *tx)
{
	unsigned stages = b->flows ? 4 : 2, i, j;

	for (i = 0; i < n + stages * VPC_BURST_AHEAD; i++) {
		if (i < n)
			stage1(b, i);
		if ((j = i - VPC_BURST_AHEAD) < n)      /* unsigned: wraps below 0 */
			stage2(b, j);
		if (b->flows && (j = i - 2 * VPC_BURST_AHEAD) < n)
			stage3(b, j);
		if (b->flows && (j = i - 3 * VPC_BURST_AHEAD) < n)
			flow_hint(&b->s[j]);
		if ((j = i - stages * VPC_BURST_AHEAD) < n)
			vpc_nic_input_tx(nic, b->pkts[j], tx);
	}
}

/*
 * Frames the VM behind nic sent, in the order it sent them: the same as
 * vpc_nic_input on each in turn.  Any n, VPC_BURST_MAX at a time.  In the
 * epoch, for the whole burst.
 */
void
vpc_nic_input_burst(struct vpc_nic *nic, struct vpc_pkt *const *pkts,
    unsigned n, struct vpc_txbatch *tx)
{
	struct burst b;
	unsigned i, j, k;

	VPC_ASSERT_EPOCH();
	for (i = 0; i < n; i += k) {
		k = n - i < VPC_BURST_MAX ? n - i : VPC_BURST_MAX;
		/* Read again for each chunk: control may have changed the
		 * port meanwhile, on another CPU. */
		b.in = vpc_load(nic->port);
		if (k > 1 && b.in != NULL && !b.in->obj.dead) {
			b.sw = b.in->sw;
			b.cam = vpc_cam_prefetch_pays(b.sw);
			b.flows = vpc_fw_prefetch_pays(b.sw->obj.sys);
			if (b.cam || b.flows) {
				b.pkts = pkts + i;
				b.fw_out = b.flows && vpc_load(b.in->fw) != NULL;
				b.ucast = 0;
				pipeline(nic, &b, k, tx);
				continue;
			}
		}
		/* One frame, no port, or tables in the caches: no hints. */
		for (j = 0; j < k; j++)
			vpc_nic_input_tx(nic, pkts[i + j], tx);
	}
	if (tx != NULL)
		vpc_txbatch_flush(tx);
}
