/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_fwd_burst.c: a burst of frames from one vmnic, taken the way DPDK's
 * bulk lookups take theirs.  At a million CAM entries or firewall flows
 * every lookup reads lines no recent frame touched, one DRAM round trip
 * (137-216 ns on the VM this was measured on) per line, against 20-30 ns
 * for the whole lookup when cached; one frame at a time, those misses come
 * one after the other.  With a burst in hand they can all be in flight at
 * once: each stage below runs over the whole burst, asking for the lines
 * the next stage (or the frame's own processing) will read, so by the time
 * a line is needed it has had the rest of the burst's work to arrive.
 *
 *   1. Each frame's Ethernet header: the CAM bucket of its destination MAC
 *      (unicast only) and, when the vmnic's port has rule sets, the bucket
 *      of its egress flow (vpc_fw_prefetch).
 *   2. The CAM entry and the egress flow those buckets' tags name.
 *   3. Only when the firewall holds many flows: the CAM entry (now in) says
 *      which local port the frame goes to; if that port has rule sets, the
 *      bucket of the frame's ingress flow there.
 *   4. The ingress flow its tag names.
 *
 * Then every frame goes through vpc_nic_input, in order, unchanged: the
 * stages only read (the frame, published tables, in the epoch the caller
 * holds for the whole burst) and only prefetch, so the burst does exactly
 * what n calls of vpc_nic_input would, frame by frame, every counter
 * included (tests/unit/test_burst.c runs both on twin setups).  A hint
 * that a frame's own processing makes stale (it adds a flow, a writer
 * replaces an entry) is only a wasted prefetch.
 *
 * A table small enough to stay in the caches (under VPC_PREFETCH_MIN
 * entries) gets no hints: they would only cost (measured: a burst of
 * frames to a 1k-entry CAM went 20-30% slower with them).  The hints cover
 * the usual cases and no more: unicast frames, and flows
 * of TCP or UDP over IPv4 without options or directly over IPv6.  Routed
 * frames (off the subnet: the router, the NAT) get the CAM's hint only.
 */
#include "vpc_impl.h"

uint32_t vpc_prefetch_min = VPC_PREFETCH_MIN;

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

/* Stage 1 for one frame; false: not a frame to give hints for. */
static bool
stage_head(struct vpc_switch *sw, const struct vpc_port *in, bool cam,
    bool fw_out, const struct vpc_pkt *p, struct slot *s, uint16_t *ethertype)
{
	struct vpc_fw_hint h;
	uint8_t eh[ETHER_HDR_LEN];

	s->fwb = NULL;
	if (!os_pkt_copyout(p, 0, ETHER_HDR_LEN, eh) || vpc_mac_is_multicast(eh))
		return (false);
	memcpy(s->dst, eh, 6);
	*ethertype = (uint16_t)(eh[12] << 8 | eh[13]);
	if (cam)
		vpc_cam_prefetch(sw, s->dst);
	if (fw_out) {
		vpc_fw_prefetch(sw, in, VPC_FW_DIR_OUT, p, ETHER_HDR_LEN,
		    *ethertype, &h);
		s->fwb = h.bucket;
		s->fwtag = h.tag;
	}
	return (true);
}

static void
flow_hint(const struct slot *s)
{
	struct vpc_fw_hint h = { s->fwb, s->fwtag };

	vpc_fw_prefetch_flow(&h);
}

/* The hints for pkts[0..n) (n <= VPC_BURST_MAX), all from in's vmnic. */
static void
prefetch_burst(struct vpc_port *in, struct vpc_pkt *const *pkts, unsigned n)
{
	struct vpc_switch *sw = in->sw;
	struct slot s[VPC_BURST_MAX];
	uint16_t et[VPC_BURST_MAX];
	const struct vpc_cam_ent *e;
	const struct vpc_port *to;
	struct vpc_fw_hint h;
	uint32_t ucast = 0;
	bool cam = vpc_cam_prefetch_pays(sw);
	bool flows = vpc_fw_prefetch_pays(sw->obj.sys);
	bool fw_out = flows && vpc_load(in->fw) != NULL;
	unsigned i;

	if (!cam && !flows)
		return;         /* all in the caches: hints would only cost */
	for (i = 0; i < n; i++)
		if (stage_head(sw, in, cam, fw_out, pkts[i], &s[i], &et[i]))
			ucast |= 1u << i;
	for (i = 0; i < n; i++)
		if ((ucast & (1u << i)) != 0) {
			if (cam)
				vpc_cam_prefetch_entry(sw, s[i].dst);
			flow_hint(&s[i]);
		}
	if (!flows)
		return;
	for (i = 0; i < n; i++) {
		s[i].fwb = NULL;
		if ((ucast & (1u << i)) == 0 ||
		    (e = vpc_cam_peek(sw, s[i].dst)) == NULL ||
		    e->kind != VPC_CAM_LOCAL || (to = e->port) == in ||
		    vpc_load(to->fw) == NULL)
			continue;
		vpc_fw_prefetch(sw, to, VPC_FW_DIR_IN, pkts[i], ETHER_HDR_LEN,
		    et[i], &h);
		s[i].fwb = h.bucket;
		s[i].fwtag = h.tag;
	}
	for (i = 0; i < n; i++)
		flow_hint(&s[i]);
}

/*
 * Frames the VM behind nic sent, in the order it sent them: the same as
 * vpc_nic_input on each in turn.  Any n; hints are taken VPC_BURST_MAX
 * frames at a time.  In the epoch, for the whole burst.
 */
void
vpc_nic_input_burst(struct vpc_nic *nic, struct vpc_pkt *const *pkts,
    unsigned n)
{
	struct vpc_port *in;
	unsigned i, j, k;

	VPC_ASSERT_EPOCH();
	for (i = 0; i < n; i += k) {
		k = n - i < VPC_BURST_MAX ? n - i : VPC_BURST_MAX;
		/* Re-read for each chunk: the frames before may have changed
		 * nothing here, but control may have, on another CPU. */
		in = vpc_load(nic->port);
		if (k > 1 && in != NULL && !in->obj.dead)
			prefetch_burst(in, pkts + i, k);
		for (j = 0; j < k; j++)
			vpc_nic_input(nic, pkts[i + j]);
	}
}
