/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_fwd.c: the switch's data path.  Runs inside the epoch, never sleeps,
 * takes no control lock and never sends while holding a core lock (the only
 * lock on this path is the upcall queue's, and vpc_upcall_miss drops it
 * before it wakes anyone).  Every function consumes the packet it is given.
 *
 * From a vmnic (or router) port:
 *   broadcast/multicast  -> every other local port; VNI 0 also the uplink;
 *                           nothing goes to the VXLAN underlay (there is no
 *                           multicast underlay; ARP/ND across nodes is the
 *                           directory's job, see docs/datapath.md)
 *   outside the subnet   -> the router port, or dropped and counted
 *   a local MAC          -> that port
 *   a remote MAC         -> VXLAN to its VTEP through the uplink's vcc
 *   a negative entry     -> dropped and counted
 *   unknown, VXLAN       -> held, one upcall per (switch, MAC)
 *   unknown, VNI 0       -> the uplink's L2 network, tagged with its VLAN
 * From the underlay: to a local MAC, or flooded locally if broadcast or
 * multicast; anything else is dropped and counted (no learning: the
 * directory is the source of truth), and so is a frame whose source MAC is
 * a local vmnic's, multicast or zero.
 *
 * MTU: a frame too big for the underlay (VXLAN, UDP and outer IP headers
 * added, over the vcc's MTU) is never sent nor fragmented: the sender gets
 * the ICMP answer a router would give (IPv4 with DF: fragmentation needed;
 * IPv6: packet too big; rate-limited per switch) and anything else is just
 * dropped; all of it is counted.  A frame larger than the destination vmnic's
 * MTU is dropped and counted, never handed to the VM.
 */
#include "vpc_impl.h"
#include "vpc_l3.h"

#define SPORT_MIN 49152u
#define SPORT_RANGE 16384u

static void
drop(struct vpc_switch *sw, unsigned why, struct vpc_pkt *p)
{
	sw_count(sw, why);
	os_pkt_free(p);
}

void
vpc_sw_to_nic(struct vpc_switch *sw, struct vpc_nic *nic, struct vpc_pkt *p)
{
	int error = os_nic_output(nic, p);

	if (error == 0)
		sw_count(sw, VPC_SWSTAT_TX_LOCAL);
	else if (error != OS_NIC_HELD)
		sw_count(sw, VPC_SWSTAT_DROP_TX);
}

/* The glue held them within one batch, so the vmnic is still plugged into
 * the switch that handed them over. */
void
vpc_nic_output_done(struct vpc_nic *nic, uint32_t frames, bool delivered)
{
	struct vpc_port *port = vpc_load(nic->port);

	os_epoch_assert();
	if (port != NULL)
		sw_count_n(port->sw, delivered ? VPC_SWSTAT_TX_LOCAL :
		    VPC_SWSTAT_DROP_TX, frames);
}

static struct vpc_nic *
port_nic(const struct vpc_port *p)
{
	struct vpc_obj *peer = vpc_load(p->peer);

	return (peer != NULL && peer->type == VPC_TYPE_NIC && !p->obj.dead ?
	    obj2nic(peer) : NULL);
}

/*
 * f: what the caller already parsed of these very bytes (the frame is not
 * changed between the switch's parse and here), or NULL when the frame was
 * made or rewritten since (an ICMP answer, a routed frame): the port's
 * ingress set then parses it itself.  Parsing it again would cost an
 * established flow's frame a good part of what the firewall adds.
 */
static void
deliver(struct vpc_switch *sw, struct vpc_port *to, struct vpc_pkt *p,
    const struct vpc_frame *f)
{
	struct vpc_nic *nic = port_nic(to);
	const struct vpc_portfw *pf;

	if (nic == NULL) {
		drop(sw, VPC_SWSTAT_DROP_TX, p);
		return;
	}
	if (os_pkt_len(p) > __atomic_load_n(&nic->mtu, __ATOMIC_RELAXED) +
	    ETHER_HDR_LEN) {
		drop(sw, VPC_SWSTAT_DROP_OVER_MTU, p);
		return;
	}
	/* The destination port's ingress rule set (DESIGN.md section 8). */
	if ((pf = vpc_load(to->fw)) != NULL) {
		struct vpc_frame own;

		if (f == NULL) {
			if (vpc_frame_parse(p, &own) != 0) {
				drop(sw, VPC_SWSTAT_DROP_RUNT, p);
				return;
			}
			f = &own;
		}
		if (!vpc_fw_filter(sw, to, pf, VPC_FW_DIR_IN, p, f))
			return;
	}
	vpc_sw_to_nic(sw, nic, p);
}

/* Every local port but the one the frame came in on gets a copy (each
 * copy has f's bytes). */
static void
flood(struct vpc_switch *sw, const struct vpc_port *in, struct vpc_pkt *p,
    const struct vpc_frame *f)
{
	const struct vpc_portset *s = vpc_load(sw->flood);
	struct vpc_port *last = NULL;
	struct vpc_pkt *c;
	uint32_t i;

	sw_count(sw, VPC_SWSTAT_FLOODED);
	for (i = 0; i < s->n; i++) {
		if (s->p[i] == in)
			continue;
		if (last != NULL) {
			if ((c = os_pkt_dup(p)) == NULL)
				sw_count(sw, VPC_SWSTAT_DROP_TX);
			else
				deliver(sw, last, c, f);
		}
		last = s->p[i];
	}
	if (last != NULL)
		deliver(sw, last, p, f);
	else
		os_pkt_free(p);
}

/*
 * A frame from the VM behind `in` does not fit: fit is the largest IP MTU
 * that would have.  The answer is the one a router on the path would give
 * (RFC 1191, RFC 8201), sent back to that vmnic only.  There is no gateway
 * address yet, so it comes from the address the datagram was for, and from
 * its destination MAC, as Linux does for bridged tunnels
 * (skb_tunnel_check_pmtu): the guest takes it as coming from its peer.
 */
static void
too_big(struct vpc_switch *sw, struct vpc_port *in, struct vpc_pkt *p,
    const struct vpc_frame *f, uint32_t fit)
{
	struct vpc_icmp_reply r;
	struct vpc_ipinfo ip;
	struct vpc_pkt *icmp;

	sw_count(sw, VPC_SWSTAT_DROP_TOO_BIG);
	if (in == NULL || vpc_mac_is_multicast(f->dst) || f->tagged ||
	    f->ip_af == 0 || vpc_ip_parse(p, f->l2len, &ip) != 0 ||
	    ip.af != f->ip_af ||
	    !vpc_icmp_error_allowed(&ip, true) ||
	    (ip.af == VPC_AF_INET && !ip.df)) {
		os_pkt_free(p);         /* IPv4 without DF: never fragmented */
		return;
	}
	if (!vpc_ratelim_take(&sw->icmp_rl, os_now_ns())) {
		drop(sw, VPC_SWSTAT_ICMP_RATELIMITED, p);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.af = ip.af;
	if (ip.af == VPC_AF_INET) {
		r.type = VPC_ICMP_UNREACH;
		r.code = VPC_ICMP_UNREACH_NEEDFRAG;
		r.word = fit < 68 ? 68 : fit > 0xffff ? 0xffff : fit;
	} else {
		r.type = VPC_ICMP6_PACKET_TOO_BIG;
		r.word = fit;
	}
	memcpy(r.eth_src, f->dst, 6);
	memcpy(r.eth_dst, f->src, 6);
	memcpy(r.ip_src, ip.dst, 16);
	memcpy(r.ip_dst, ip.src, 16);
	r.body_off = ip.l3off;
	r.body_max = vpc_icmp_quote_max(ip.af);
	icmp = vpc_icmp_build(&r, p);
	os_pkt_free(p);
	if (icmp == NULL) {
		sw_count(sw, VPC_SWSTAT_DROP_TX);
		return;
	}
	sw_count(sw, VPC_SWSTAT_ICMP_TOO_BIG);
	deliver(sw, in, icmp, NULL);
}

static inline struct vpc_vcc *
uplink_vcc(struct vpc_switch *sw, struct vpc_port **upp)
{
	struct vpc_port *up = vpc_load(sw->uplink);
	struct vpc_obj *peer = up != NULL ? vpc_load(up->peer) : NULL;

	*upp = up;
	if (peer == NULL || peer->type != VPC_TYPE_VCC ||
	    !__atomic_load_n(&obj2vcc(peer)->configured, __ATOMIC_ACQUIRE))
		return (NULL);
	return (obj2vcc(peer));
}

/*
 * Native-order loads of 4 and 2 bytes.  flow_sport reads the parsed frame
 * with the widths vpc_frame_parse stored it in: an 8-byte load over a
 * 4-byte and a 2-byte store cannot be forwarded from the store buffer and
 * stalled each frame until those stores retired (a third of forward()'s
 * samples in bench/forward's profile).
 */
static inline uint64_t
ld32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, 4);
	return (v);
}

static inline uint64_t
ld16(const uint8_t *p)
{
	uint16_t v;

	__builtin_memcpy(&v, p, 2);
	return (v);
}

/*
 * The UDP source port spreads flows over the underlay's ECMP paths (RFC
 * 7348 section 5: a hash of the inner headers).  With no hash from the OS
 * it is made of the MACs and type, both IP addresses, the protocol and, for
 * an unfragmented TCP/UDP/SCTP datagram, both ports, and IPv6's flow label,
 * as Linux's vxlan hashes a flow (skb_get_hash): two connections between
 * the same two VMs may take two paths, and a flow's packets keep to one
 * (until a guest changes its flow label to leave a path that lost its
 * packets, as Linux's TCP does on a timeout).  It needs spread, not
 * secrecy: a VM can only move its own flows around.
 */
static uint16_t
flow_sport(const struct vpc_pkt *p, const struct vpc_frame *f)
{
	uint64_t w0, w1, w2, w3, h = os_pkt_flowid(p);

	if (h == 0) {
		w0 = ld32(f->dst) | ld16(f->dst + 4) << 32 |
		    (uint64_t)f->ethertype << 48;
		w1 = ld32(f->src) | ld16(f->src + 4) << 32 |
		    (uint64_t)f->ip_proto << 48;
		w0 ^= ld32(f->ip_dst + 8) | ld32(f->ip_dst + 12) << 32;
		w1 ^= ld32(f->ip_src + 8) | ld32(f->ip_src + 12) << 32;
		w2 = (ld32(f->ip_dst) | ld32(f->ip_dst + 4) << 32) ^
		    (uint64_t)f->ip6_flow << 40;
		w3 = (ld32(f->ip_src) | ld32(f->ip_src + 4) << 32) ^
		    (uint64_t)f->l4_ports << 32;
		h = w0 * 0x9e3779b97f4a7c15ULL ^ w1 * 0xc2b2ae3d27d4eb4fULL ^
		    w2 * 0x165667b19e3779f9ULL ^ w3 * 0xd6e8feb86659fd93ULL;
		h ^= h >> 29;
		h *= 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 32;
	}
	return ((uint16_t)(SPORT_MIN + h % SPORT_RANGE));
}

/* How a frame to the underlay fared, on the switch's and the vcc's counters. */
static void
count_tx(struct vpc_switch *sw, struct vpc_vcc *vcc, int error)
{
	if (error == 0) {
		sw_count(sw, VPC_SWSTAT_TX_REMOTE);
		vcc_count(vcc, VPC_VCCSTAT_TX);
	} else {
		sw_count(sw, VPC_SWSTAT_DROP_TX);
		vcc_count(vcc, VPC_VCCSTAT_TX_ERR);
	}
}

void
vpc_txbatch_flush(struct vpc_txbatch *b)
{
	unsigned i;

	if (b->n == 0)
		return;
	os_vcc_output_many(b->vcc, b->pkts, b->dsts, b->sports, b->errors, b->n);
	for (i = 0; i < b->n; i++)
		count_tx(b->sw[i], b->vcc, b->errors[i]);
	b->n = 0;
}

static void
send_remote(struct vpc_switch *sw, struct vpc_port *in,
    const struct vpc_cam_ent *e, const struct vpc_frame *f, struct vpc_pkt *p,
    struct vpc_txbatch *b)
{
	const struct vpc_swcfg *cfg = vpc_load(sw->cfg);
	struct vpc_underlay dst;
	struct vpc_port *up;
	struct vpc_vcc *vcc = uplink_vcc(sw, &up);
	uint32_t mtu, hdrs;
	uint16_t sport;
	uint8_t *vx;

	if (vcc == NULL || cfg->vni == 0 || cfg->vni == VPC_VNI_NONE) {
		drop(sw, VPC_SWSTAT_DROP_NO_UPLINK, p);
		return;
	}
	/* What the underlay packet will be: outer IP, UDP, VXLAN, the frame. */
	mtu = __atomic_load_n(&vcc->mtu, __ATOMIC_RELAXED);
	hdrs = (e->af == VPC_AF_INET ? VPC_IPV4_HDR_LEN : VPC_IPV6_HDR_LEN) +
	    8 + VXLAN_HDR_LEN;
	if (os_pkt_len(p) + hdrs > mtu) {
		too_big(sw, in, p, f, mtu - hdrs - ETHER_HDR_LEN);
		return;
	}
	sport = flow_sport(p, f);
	if ((vx = os_pkt_prepend(&p, VXLAN_HDR_LEN)) == NULL) {
		sw_count(sw, VPC_SWSTAT_DROP_TX);
		return;
	}
	memcpy(vx, cfg->vxhdr, VXLAN_HDR_LEN);
	dst.af = e->af;
	dst.port = e->udp_port;
	memcpy(dst.addr, e->addr, 16);
	if (b == NULL) {
		count_tx(sw, vcc, os_vcc_output(vcc, p, &dst, sport));
		return;
	}
	if (b->n == VPC_TXBATCH_MAX || (b->n > 0 && b->vcc != vcc))
		vpc_txbatch_flush(b);
	b->vcc = vcc;
	b->sw[b->n] = sw;
	b->pkts[b->n] = p;
	b->dsts[b->n] = dst;
	b->sports[b->n] = sport;
	b->n++;
}

/* VNI 0: out on the vcc's L2 device, tagged with the uplink's VLAN. */
static void
send_l2(struct vpc_switch *sw, struct vpc_port *in, const struct vpc_frame *f,
    struct vpc_pkt *p)
{
	struct vpc_port *up;
	struct vpc_vcc *vcc = uplink_vcc(sw, &up);
	uint32_t mtu;
	uint8_t *h;

	if (vcc == NULL || vcc->conf.l2_ifname[0] == '\0') {
		drop(sw, VPC_SWSTAT_DROP_NO_UPLINK, p);
		return;
	}
	mtu = __atomic_load_n(&vcc->mtu, __ATOMIC_RELAXED);
	if (os_pkt_len(p) > mtu + ETHER_HDR_LEN) {
		too_big(sw, in, p, f, mtu);
		return;
	}
	if (up->vlan != 0) {
		if (os_pkt_prepend(&p, ETHER_VLAN_LEN) == NULL ||
		    (h = os_pkt_pullup(&p, ETHER_HDR_LEN + ETHER_VLAN_LEN)) == NULL) {
			sw_count(sw, VPC_SWSTAT_DROP_TX);
			return;
		}
		memmove(h, h + ETHER_VLAN_LEN, 12);
		h[12] = ETHERTYPE_VLAN >> 8;
		h[13] = ETHERTYPE_VLAN & 0xff;
		h[14] = (uint8_t)(up->vlan >> 8);
		h[15] = (uint8_t)up->vlan;
	}
	if (os_vcc_output_l2(vcc, p) == 0) {
		sw_count(sw, VPC_SWSTAT_TX_REMOTE);
		vcc_count(vcc, VPC_VCCSTAT_L2_TX);
	} else {
		sw_count(sw, VPC_SWSTAT_DROP_TX);
		vcc_count(vcc, VPC_VCCSTAT_TX_ERR);
	}
}

/* Off the switch's subnet: the router is the next hop. */
static bool
off_subnet(const struct vpc_swcfg *cfg, const struct vpc_frame *f)
{
	/* A switch without a subnet contains everything (and most have none). */
	if (f->ip_af == VPC_AF_INET)
		return (cfg->sub4.plen != 0 && !vpc_subnet_contains(&cfg->sub4, f->ip_dst));
	if (f->ip_af == VPC_AF_INET6)
		return (cfg->sub6.plen != 0 && !vpc_subnet_contains(&cfg->sub6, f->ip_dst));
	return (false);
}

static void
forward(struct vpc_switch *sw, struct vpc_port *in, struct vpc_pkt *p,
    const struct vpc_frame *f, bool reinjected, struct vpc_txbatch *b)
{
	const struct vpc_swcfg *cfg = vpc_load(sw->cfg);
	const struct vpc_cam_ent *e;
	struct vpc_port *router;

	/* In the epoch: both callers assert it. */
	if (vpc_mac_is_multicast(f->dst)) {
		struct vpc_pkt *c = NULL;

		if (cfg->vni == 0 && (c = os_pkt_dup(p)) != NULL)
			send_l2(sw, in, f, c);
		flood(sw, in, p, f);
		return;
	}
	if (in != NULL && in->kind == VPC_PORT_VMNIC && off_subnet(cfg, f)) {
		struct vpc_obj *peer;

		/* The router sends to the underlay itself, one frame at a
		 * time: after what b holds, so that a vcc's frames leave in
		 * the order they came.  (Floods go to local ports only, and
		 * VNI 0 never sends through b.) */
		if (b != NULL)
			vpc_txbatch_flush(b);
		router = vpc_load(sw->router);
		peer = router != NULL && !router->obj.dead ? vpc_load(router->peer) : NULL;
		if (peer != NULL && peer->type == VPC_TYPE_ROUTER)
			vpc_router_input(obj2rtr(peer), sw, in, p, f);  /* vpcr */
		else if (peer == NULL || port_nic(router) == NULL)
			drop(sw, VPC_SWSTAT_DROP_NO_ROUTER, p);
		else
			deliver(sw, router, p, f);         /* a router VM's vmnic */
		return;
	}
	e = vpc_cam_lookup(sw, f->dst, f->src);
	if (e == NULL) {
		if (cfg->vni == 0)
			send_l2(sw, in, f, p);
		else if (reinjected)
			drop(sw, VPC_SWSTAT_DROP_REMISS, p);    /* gone again */
		else
			vpc_upcall_miss(sw, in, p, f);
		return;
	}
	switch (e->kind) {
	case VPC_CAM_LOCAL:
		if (e->port == in)
			drop(sw, VPC_SWSTAT_DROP_HAIRPIN, p);
		else
			deliver(sw, e->port, p, f);
		break;
	case VPC_CAM_REMOTE:
		/*
		 * Entries are immutable but for this hint: "a frame used me",
		 * which lets the agent refresh what is in use before it expires.
		 * Written at most once per entry (a replacement starts unused),
		 * so the cache line is not written on every frame.
		 */
		if (__atomic_load_n(&e->used, __ATOMIC_RELAXED) == 0)
			__atomic_store_n(&((struct vpc_cam_ent *)(uintptr_t)e)->used,
			    1, __ATOMIC_RELAXED);
		send_remote(sw, in, e, f, p, b);
		break;
	default:
		drop(sw, VPC_SWSTAT_DROP_NEGATIVE, p);
		break;
	}
}

/* A frame the VM behind nic sent. */
void
vpc_nic_input(struct vpc_nic *nic, struct vpc_pkt *p)
{
	vpc_nic_input_tx(nic, p, NULL);
}

void
vpc_nic_input_tx(struct vpc_nic *nic, struct vpc_pkt *p, struct vpc_txbatch *b)
{
	struct vpc_port *in = vpc_load(nic->port);
	const struct vpc_portfw *pf;
	struct vpc_switch *sw;
	struct vpc_frame f;
	struct vpc_l3in l3;
	uint64_t mac;

	VPC_ASSERT_EPOCH();
	if (in == NULL || in->obj.dead) {
		os_counter_add(nic->obj.sys->drop_unplugged, 1);
		os_pkt_free(p);
		return;
	}
	sw = in->sw;
	sw_count(sw, VPC_SWSTAT_RX_FRAMES);
	if (vpc_frame_parse(p, &f) != 0) {
		drop(sw, VPC_SWSTAT_DROP_RUNT, p);
		return;
	}
	if (f.tagged) {
		drop(sw, VPC_SWSTAT_DROP_TAGGED, p);
		return;
	}
	mac = __atomic_load_n(&nic->mac64, __ATOMIC_RELAXED);
	if (vpc_mac64(f.src) != mac) {
		drop(sw, VPC_SWSTAT_DROP_SPOOF, p);     /* also: no MAC set yet */
		return;
	}
	if (vpc_responder_input(sw, in, nic, p, &f, &l3))
		return;
	/* Its parse of the IP header goes on with the frame (vpc_frame.h):
	 * the firewalls on the way need not parse it again. */
	if (l3.ip_ok)
		f.ip = &l3.ip;
	/* The port's egress rule set: after the responder, before the switch
	 * (DESIGN.md section 8).  It parses the IP header itself unless the
	 * responder did. */
	if ((pf = vpc_load(in->fw)) != NULL &&
	    !vpc_fw_filter(sw, in, pf, VPC_FW_DIR_OUT, p, &f))
		return;
	forward(sw, in, p, &f, false, b);
}

/* For the router (vpc_router_fwd.c): a frame to a local port. */
void
vpc_fwd_deliver(struct vpc_switch *sw, struct vpc_port *to, struct vpc_pkt *p)
{
	deliver(sw, to, p, NULL);        /* rewritten: parsed again */
}

/*
 * For the router: a routed frame (MACs rewritten, TTL decremented) enters
 * the egress switch through its router port: to a local vmnic, VXLAN with
 * this switch's VNI to the VTEP of its MAC, or an L2 miss as any other.
 */
void
vpc_fwd_routed(struct vpc_switch *sw, struct vpc_port *rport, struct vpc_pkt *p,
    struct vpc_frame *f)
{
	VPC_ASSERT_EPOCH();
	f->ip = NULL;           /* the frame was rewritten: parsed again */
	forward(sw, rport, p, f, false, NULL);
}

void
vpc_fwd_reinject(struct vpc_switch *sw, struct vpc_port *in, struct vpc_pkt *p,
    struct vpc_txbatch *b)
{
	struct vpc_frame f;

	VPC_ASSERT_EPOCH();
	if (sw->obj.dead || vpc_frame_parse(p, &f) != 0) {
		drop(sw, VPC_SWSTAT_DROP_REMISS, p);
		return;
	}
	forward(sw, in != NULL && !in->obj.dead ? in : NULL, p, &f, true, b);
}

/* A source the underlay cannot have: a MAC of this switch's own vmnics. */
static bool
spoofed_from_underlay(struct vpc_switch *sw, const struct vpc_frame *f)
{
	static const uint8_t any[6];
	const struct vpc_cam_ent *e;

	if (vpc_mac_is_multicast(f->src) || vpc_mac_is_zero(f->src))
		return (true);
	e = vpc_cam_lookup(sw, f->src, any);
	return (e != NULL && e->kind == VPC_CAM_LOCAL);
}

void
vpc_fwd_from_underlay(struct vpc_switch *sw, struct vpc_pkt *p)
{
	const struct vpc_cam_ent *e;
	struct vpc_frame f;

	VPC_ASSERT_EPOCH();
	sw_count(sw, VPC_SWSTAT_RX_REMOTE);
	if (vpc_frame_parse(p, &f) != 0) {
		drop(sw, VPC_SWSTAT_DROP_RUNT, p);
		return;
	}
	if (f.tagged) {
		drop(sw, VPC_SWSTAT_DROP_TAGGED, p);
		return;
	}
	if (spoofed_from_underlay(sw, &f)) {
		drop(sw, VPC_SWSTAT_DROP_UNDERLAY_SPOOF, p);
		return;
	}
	if (vpc_mac_is_multicast(f.dst)) {
		flood(sw, NULL, p, &f);
		return;
	}
	e = vpc_cam_lookup(sw, f.dst, f.src);
	if (e == NULL || e->kind != VPC_CAM_LOCAL)
		drop(sw, VPC_SWSTAT_DROP_UNKNOWN, p);
	else
		deliver(sw, e->port, p, &f);
}
