/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_upcall.c: "where does this MAC live?" asked of userland.
 *
 * One pending request per (switch, destination MAC).  The first frame that
 * misses makes it; later frames to that MAC wait on its hold queue (bounded
 * per request and in total) and go out when the answer comes, or are dropped
 * and counted on a negative answer or a timeout.
 *
 * L3 misses ("which MAC has this IP?", an ARP request or neighbour
 * solicitation that missed the neighbour table) are requests of another kind
 * in the same queue, one per (switch, address), with the same hold queue,
 * hand-off, timeouts and counters; the frames held are the ARP requests and
 * NSs themselves, which go through the responder again once the answer has
 * installed the neighbour entry (and the CAM entry for its MAC).  Requests are fixed-size
 * records read in batches; the queue here, not any socket buffer, is the
 * queue of record: a request handed to a reader stays pending until it is
 * answered or expires, and goes back to the head of the queue when that
 * reader goes away, for the next one.  One reader at a time.
 *
 * Ids: the low bits are the slot, the rest a sequence, so an answer finds
 * its request in O(1) and an old id never matches a new request.  The
 * generation changes each time a request is handed out: an answer must carry
 * the current one, so an answer meant for a previous delivery is refused.
 *
 * Timeouts.  A request's clock starts when it is raised, and again for
 * every request pending when a reader attaches: a new reader gets the full
 * timeout for each request it is handed.  While a reader is attached, an
 * unanswered request expires `timeout` after its clock started; while none
 * is, after the longer `orphan` window (at least `timeout`), so that an
 * agent that restarts within that window loses nothing.  However often
 * readers come and go, no request outlives orphan + timeout after it was
 * raised.  The clocks only grow along the creation-order list (an attach
 * moves a prefix of it to "now"), so its head always expires first.
 *
 * Everything here is under q->mtx, a non-sleeping mutex the data path takes;
 * frames are never sent while it is held.
 */
#include "vpc_impl.h"

#define SLOT_BITS 14
_Static_assert((1u << SLOT_BITS) == VPC_PENDING_MAX, "slots");

/* What a request is about: (kind, af, address); L2: the MAC in addr. */
struct vpc_pkey {
	uint8_t kind;                   /* VPC_UPCALL_L2MISS / L3MISS */
	uint8_t af;                     /* L3MISS */
	uint8_t addr[16];
	uint8_t routed;                 /* L3MISS: frames the router holds (they
	                                 * go back to it, not to the responder) */
};

struct vpc_pend {
	uint64_t           id;
	struct vpc_pkey    key;
	uint64_t           gen;         /* 0: not handed out yet */
	struct vpc_switch *sw;
	struct vpc_port   *in;          /* NULL once that port is gone */
	uint64_t           created_ns;
	uint64_t           clock_ns;    /* created, or the last reader's attach */
	vpc_upcall_req_t   rec;
	struct vpc_pkt    *held, *held_tail;
	uint32_t           nheld;
	VPC_LIST_LINK(vpc_pend) all;                /* q->all: creation order */
	VPC_LIST_LINK(vpc_pend) undelivered;        /* q->undelivered: FIFO */
	struct vpc_pend   *h_next;                  /* (sw, MAC) chain */
};

struct vpc_upq {
	struct os_mtx     *mtx;
	struct os_timer   *timer;
	struct vpc_hashkey key;
	struct vpc_pend   *slot[VPC_PENDING_MAX];
	struct vpc_pend   *hash[VPC_PENDING_MAX];
	VPC_LIST_HEAD(, vpc_pend) all;              /* every request, oldest first */
	VPC_LIST_HEAD(, vpc_pend) undelivered;      /* not handed to a reader */
	uint32_t           npending, nundelivered, nheld;
	uint64_t           seq, gen;
	uint64_t           delivered, requeued;
	bool               reader;
	bool               armed;
	uint64_t           timeout_ns;  /* a reader is attached */
	uint64_t           orphan_ns;   /* no reader is (at least timeout_ns) */
};

/* ---- Lists ----------------------------------------------------------------- */

static uint32_t
hash_of(const struct vpc_upq *q, const struct vpc_switch *sw,
    const struct vpc_pkey *key)
{
	uint8_t k[sizeof(sw) + sizeof(*key)];

	memcpy(k, &sw, sizeof(sw));
	memcpy(k + sizeof(sw), key, sizeof(*key));
	return ((uint32_t)vpc_hash(&q->key, k, sizeof(k)) & (VPC_PENDING_MAX - 1));
}

static struct vpc_pend *
find(struct vpc_upq *q, const struct vpc_switch *sw, const struct vpc_pkey *key)
{
	struct vpc_pend *pe;

	VPC_ASSERT_MTX(q->mtx);
	for (pe = q->hash[hash_of(q, sw, key)]; pe != NULL; pe = pe->h_next)
		if (pe->sw == sw && memcmp(&pe->key, key, sizeof(*key)) == 0)
			return (pe);
	return (NULL);
}

static void
l2key(struct vpc_pkey *k, const uint8_t mac[6])
{
	memset(k, 0, sizeof(*k));
	k->kind = VPC_UPCALL_L2MISS;
	memcpy(k->addr, mac, 6);
}

static void
q_push(struct vpc_upq *q, struct vpc_pend *pe, bool at_head)
{
	VPC_ASSERT_MTX(q->mtx);
	if (at_head)
		VPC_LIST_INSERT_HEAD(&q->undelivered, pe, undelivered);
	else
		VPC_LIST_INSERT_TAIL(&q->undelivered, pe, undelivered);
	q->nundelivered++;
}

static void
q_pull(struct vpc_upq *q, struct vpc_pend *pe)
{
	VPC_ASSERT_MTX(q->mtx);
	VPC_LIST_REMOVE(&q->undelivered, pe, undelivered);
	q->nundelivered--;
}

/* Take a request out of every table; its held frames stay with it. */
static void
unlink_pend(struct vpc_upq *q, struct vpc_pend *pe)
{
	struct vpc_pend **pp = &q->hash[hash_of(q, pe->sw, &pe->key)];

	VPC_ASSERT_MTX(q->mtx);
	while (*pp != pe)
		pp = &(*pp)->h_next;
	*pp = pe->h_next;
	q->slot[pe->id & (VPC_PENDING_MAX - 1)] = NULL;
	VPC_LIST_REMOVE(&q->all, pe, all);
	if (pe->gen == 0)
		q_pull(q, pe);
	q->npending--;
	q->nheld -= pe->nheld;
}

/* Drop a request's held frames (q->mtx held; freeing is not sending). */
static void
drop_held(struct vpc_pend *pe)
{
	struct vpc_pkt *p, *next;

	for (p = pe->held; p != NULL; p = next) {
		next = os_pkt_next(p);
		os_pkt_free(p);
		sw_count(pe->sw, VPC_SWSTAT_HELD_DROPPED);
	}
	pe->held = pe->held_tail = NULL;
	pe->nheld = 0;
}

/* ---- Timeouts ------------------------------------------------------------- */

/* When pe expires (see the top); q->mtx held. */
static uint64_t
deadline(const struct vpc_upq *q, const struct vpc_pend *pe)
{
	uint64_t orphan = q->orphan_ns > q->timeout_ns ? q->orphan_ns : q->timeout_ns;
	uint64_t due = pe->clock_ns + (q->reader ? q->timeout_ns : orphan);
	uint64_t cap = pe->created_ns + orphan + q->timeout_ns;

	return (due < cap ? due : cap);
}

static void
arm(struct vpc_upq *q)
{
	uint64_t now = os_now_ns(), due;

	VPC_ASSERT_MTX(q->mtx);
	if (VPC_LIST_EMPTY(&q->all)) {
		q->armed = false;
		return;
	}
	due = deadline(q, VPC_LIST_FIRST(&q->all));
	os_timer_arm(q->timer, due > now ? due - now : 0);
	q->armed = true;
}

/* Timer callback, q->mtx held. */
static void
expire(void *arg)
{
	struct vpc_upq *q = arg;
	uint64_t now = os_now_ns();
	struct vpc_pend *pe;

	while ((pe = VPC_LIST_FIRST(&q->all)) != NULL && deadline(q, pe) <= now) {
		unlink_pend(q, pe);
		sw_count(pe->sw, VPC_SWSTAT_TIMEOUTS);
		drop_held(pe);
		vpc_free(pe, sizeof(*pe));
	}
	arm(q);
}

/* ---- Setup ------------------------------------------------------------------ */

int
vpc_upq_create(struct vpc_sys *sys)
{
	struct vpc_upq *q = vpc_alloc(sizeof(*q), VPC_M_WAITOK);

	if (q == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	q->mtx = os_mtx_create("vpc upcalls");
	q->timer = q->mtx != NULL ? os_timer_create(q->mtx, expire, q) : NULL;
	if (q->timer == NULL) {
		if (q->mtx != NULL)
			os_mtx_destroy(q->mtx);
		vpc_free(q, sizeof(*q));
		return (VPC_ERR(VPC_ENOMEM));
	}
	vpc_hashkey_init(&q->key);
	q->timeout_ns = (uint64_t)VPC_UPCALL_TIMEOUT_MS * 1000000u;
	q->orphan_ns = (uint64_t)VPC_UPCALL_ORPHAN_MS * 1000000u;
	sys->upq = q;
	return (0);
}

/* Every switch is gone by now, and with it every request. */
void
vpc_upq_destroy(struct vpc_sys *sys)
{
	struct vpc_upq *q = sys->upq;

	if (q == NULL)
		return;
	os_timer_destroy(q->timer);
	os_mtx_destroy(q->mtx);
	vpc_free(q, sizeof(*q));
	sys->upq = NULL;
}

/* ---- The miss (data path) ----------------------------------------------------- */

static void
hold(struct vpc_upq *q, struct vpc_pend *pe, struct vpc_pkt *p)
{
	VPC_ASSERT_MTX(q->mtx);
	if (pe->nheld >= VPC_HOLD_PER_MISS || q->nheld >= VPC_HOLD_MAX) {
		sw_count(pe->sw, VPC_SWSTAT_HOLD_DROPS);
		os_pkt_free(p);
		return;
	}
	os_pkt_set_next(p, NULL);
	if (pe->held_tail != NULL)
		os_pkt_set_next(pe->held_tail, p);
	else
		pe->held = p;
	pe->held_tail = p;
	pe->nheld++;
	q->nheld++;
	sw_count(pe->sw, VPC_SWSTAT_HELD);
}

static void
fill_record(struct vpc_pend *pe, struct vpc_switch *sw, struct vpc_port *in,
    const struct vpc_frame *f)
{
	vpc_upcall_req_t *r = &pe->rec;

	r->magic = VPC_UPCALL_MAGIC;
	r->size = sizeof(*r);
	r->kind = pe->key.kind;
	r->req_id = pe->id;
	r->switch_id = sw->obj.id;
	if (in != NULL) {
		r->port_id = in->obj.id;
		r->vlan = in->vlan;
	}
	r->vni = vpc_load(sw->cfg)->vni;
	r->ethertype = f->ethertype;
	memcpy(r->srcmac, f->src, 6);
	if (pe->key.kind == VPC_UPCALL_L3MISS) {
		r->dst_af = pe->key.af;         /* the address asked for; dstmac 0 */
		memcpy(r->dst_ip, pe->key.addr, 16);
	} else {
		memcpy(r->dstmac, f->dst, 6);
		r->dst_af = f->ip_af;
		memcpy(r->dst_ip, f->ip_dst, 16);
	}
	r->time_ns = pe->created_ns;
}

/*
 * May the VM behind this port raise another upcall?  Each vmnic has a token
 * bucket at its own switch's policy rate (ARP/ND, L2 misses and the routed
 * misses its frames cause on other switches, all together), so one VM
 * cannot flood the agent.  Frames folded into a pending request cost
 * nothing; only new requests take a token.  Anything but a vmnic's port
 * (the uplink, a router port, none) is not limited.
 */
static bool
upcall_allowed(struct vpc_port *from)
{
	const struct vpc_policy *pol;
	struct vpc_obj *peer;

	if (from == NULL || from->kind != VPC_PORT_VMNIC ||
	    (peer = vpc_load(from->peer)) == NULL || peer->type != VPC_TYPE_NIC)
		return (true);
	pol = &vpc_load(from->sw->cfg)->policy;
	return (vpc_ratelim_take_at(&obj2nic(peer)->upcall_rl, pol->upcall_rate,
	    pol->upcall_burst, os_now_ns()));
}

/*
 * A miss on sw: a new request, or p held on the pending one.  in: where the
 * held frames go back in (the ingress port; a routed miss: sw's router
 * port); from: the port whose VM is charged for a new request (the same
 * port, but for a routed miss the vmnic the frame came in by, on another
 * switch).  False: refused by that VM's upcall rate (p dropped, counted).
 */
static bool
raise_request(struct vpc_switch *sw, struct vpc_port *in, struct vpc_port *from,
    struct vpc_pkt *p, const struct vpc_frame *f, const struct vpc_pkey *key)
{
	struct vpc_sys *sys = sw->obj.sys;
	struct vpc_upq *q = sys->upq;
	struct vpc_pend *pe;
	uint32_t slot, n, h;
	bool notify = false, limited;

	VPC_ASSERT_EPOCH();
	sw_count(sw, VPC_SWSTAT_MISSES);
	if (key->kind == VPC_UPCALL_L3MISS)
		sw_count(sw, VPC_SWSTAT_L3_MISSES);
	os_mtx_lock(q->mtx);
	if ((pe = find(q, sw, key)) != NULL) {
		sw_count(sw, VPC_SWSTAT_DUPS);
		hold(q, pe, p);
		os_mtx_unlock(q->mtx);
		return (true);
	}
	/*
	 * With every hold slot taken, the request is still worth raising (the
	 * answer helps the frames that follow); only this frame is dropped, by
	 * hold() below.  "Lost" is a miss with no room for a request at all.
	 */
	pe = NULL;
	limited = !upcall_allowed(from);
	if (limited) {
		/* Lost as any miss with no request is (the identity misses =
		 * held + holdDrops + lost holds); this says why. */
		sw_count(sw, VPC_SWSTAT_UPCALL_RATELIMITED);
	} else if (q->npending < VPC_PENDING_MAX)
		pe = vpc_alloc(sizeof(*pe), VPC_M_NOWAIT);
	if (pe == NULL) {
		os_mtx_unlock(q->mtx);
		sw_count(sw, VPC_SWSTAT_LOST);
		os_pkt_free(p);
		return (!limited);
	}
	/* A free slot exists: fewer requests than slots. */
	for (n = 0, slot = (uint32_t)q->seq; n < VPC_PENDING_MAX; n++, slot++)
		if (q->slot[slot & (VPC_PENDING_MAX - 1)] == NULL)
			break;
	slot &= VPC_PENDING_MAX - 1;
	pe->id = (++q->seq << SLOT_BITS) | slot;
	pe->key = *key;
	pe->sw = sw;
	pe->in = in;
	pe->created_ns = pe->clock_ns = os_now_ns();
	fill_record(pe, sw, in, f);
	q->slot[slot] = pe;
	h = hash_of(q, sw, key);
	pe->h_next = q->hash[h];
	q->hash[h] = pe;
	VPC_LIST_INSERT_TAIL(&q->all, pe, all);
	q_push(q, pe, false);
	q->npending++;
	sw_count(sw, VPC_SWSTAT_UPCALLS);
	if (key->kind == VPC_UPCALL_L3MISS)
		sw_count(sw, VPC_SWSTAT_L3_UPCALLS);
	hold(q, pe, p);
	if (!q->armed)
		arm(q);
	notify = q->reader;
	os_mtx_unlock(q->mtx);
	if (notify)
		os_upcall_notify(sys);
	return (true);
}

void
vpc_upcall_miss(struct vpc_switch *sw, struct vpc_port *in, struct vpc_pkt *p,
    const struct vpc_frame *f)
{
	struct vpc_pkey key;

	l2key(&key, f->dst);
	(void)raise_request(sw, in, in, p, f, &key);
}

/* An L3 miss's key: routed ones apart, so held ARP/NS of the subnet and a
 * routed frame for the same address are answered each their own way. */
static void
l3key(struct vpc_pkey *key, uint8_t af, const uint8_t ip[16], bool routed)
{
	memset(key, 0, sizeof(*key));
	key->kind = VPC_UPCALL_L3MISS;
	key->af = af;
	key->routed = routed;
	memcpy(key->addr, ip, af == VPC_AF_INET ? 4 : 16);
}

void
vpc_upcall_l3miss(struct vpc_switch *sw, struct vpc_port *in,
    struct vpc_pkt *p, const struct vpc_frame *f, uint8_t af,
    const uint8_t ip[16])
{
	struct vpc_pkey key;

	l3key(&key, af, ip, false);
	(void)raise_request(sw, in, in, p, f, &key);
}

bool
vpc_upcall_l3miss_routed(struct vpc_switch *sw, struct vpc_port *rport,
    struct vpc_port *from, struct vpc_pkt *p, const struct vpc_frame *f,
    uint8_t af, const uint8_t ip[16])
{
	struct vpc_pkey key;

	l3key(&key, af, ip, true);
	return (raise_request(sw, rport, from, p, f, &key));
}

/* ---- Switches and ports going away ------------------------------------------------ */

void
vpc_upcall_forget_switch(struct vpc_switch *sw)
{
	struct vpc_upq *q = sw->obj.sys->upq;
	struct vpc_pend *pe, *next;

	VPC_ASSERT_CTL(sw->obj.sys);
	os_mtx_lock(q->mtx);
	VPC_LIST_FOREACH_SAFE(pe, &q->all, all, next) {
		if (pe->sw != sw)
			continue;
		unlink_pend(q, pe);
		drop_held(pe);
		vpc_free(pe, sizeof(*pe));
	}
	os_mtx_unlock(q->mtx);
}

void
vpc_upcall_forget_port(struct vpc_port *p)
{
	struct vpc_upq *q = p->obj.sys->upq;
	struct vpc_pend *pe;

	VPC_ASSERT_CTL(p->obj.sys);
	os_mtx_lock(q->mtx);
	VPC_LIST_FOREACH(pe, &q->all, all)
		if (pe->in == p)
			pe->in = NULL;
	os_mtx_unlock(q->mtx);
}

/* ---- The reader ----------------------------------------------------------------------- */

/* A new reader: every pending request's clock starts again (see the top). */
int
vpc_upcall_attach(struct vpc_sys *sys)
{
	struct vpc_upq *q = sys->upq;
	struct vpc_pend *pe;
	uint64_t now;

	os_mtx_lock(q->mtx);
	if (q->reader) {
		os_mtx_unlock(q->mtx);
		return (VPC_ERR(VPC_EBUSY));
	}
	q->reader = true;
	now = os_now_ns();
	VPC_LIST_FOREACH(pe, &q->all, all)
		pe->clock_ns = now;
	if (q->armed)
		arm(q);
	os_mtx_unlock(q->mtx);
	return (0);
}

/* The reader went away: what it was given goes back to the head, in order. */
void
vpc_upcall_detach(struct vpc_sys *sys)
{
	struct vpc_upq *q = sys->upq;
	struct vpc_pend *pe;

	os_mtx_lock(q->mtx);
	q->reader = false;
	VPC_LIST_FOREACH_REVERSE(pe, &q->all, all) {
		if (pe->gen == 0)
			continue;
		pe->gen = 0;
		q_push(q, pe, true);
		q->requeued++;
	}
	if (q->armed)
		arm(q);         /* the orphan window now applies */
	os_mtx_unlock(q->mtx);
}

void
vpc_upcall_set_timeout(struct vpc_sys *sys, uint32_t ms)
{
	struct vpc_upq *q = sys->upq;

	if (ms < 100)
		ms = 100;
	os_mtx_lock(q->mtx);
	q->timeout_ns = (uint64_t)ms * 1000000u;
	if (q->armed)
		arm(q);
	os_mtx_unlock(q->mtx);
}

void
vpc_upcall_set_orphan_timeout(struct vpc_sys *sys, uint32_t ms)
{
	struct vpc_upq *q = sys->upq;

	if (ms < 100)
		ms = 100;
	os_mtx_lock(q->mtx);
	q->orphan_ns = (uint64_t)ms * 1000000u;
	if (q->armed)
		arm(q);
	os_mtx_unlock(q->mtx);
}

bool
vpc_upcall_readable(struct vpc_sys *sys)
{
	struct vpc_upq *q = sys->upq;

	return (__atomic_load_n(&q->nundelivered, __ATOMIC_RELAXED) != 0);
}

/* Whole records of undelivered requests into buf; returns the bytes. */
size_t
vpc_upcall_read(struct vpc_sys *sys, void *buf, size_t len)
{
	struct vpc_upq *q = sys->upq;
	struct vpc_pend *pe;
	size_t n = 0;

	os_mtx_lock(q->mtx);
	while (len - n >= sizeof(vpc_upcall_req_t) &&
	    (pe = VPC_LIST_FIRST(&q->undelivered)) != NULL) {
		q_pull(q, pe);
		pe->gen = ++q->gen;
		pe->rec.generation = pe->gen;
		memcpy((char *)buf + n, &pe->rec, sizeof(pe->rec));
		n += sizeof(pe->rec);
		q->delivered++;
	}
	os_mtx_unlock(q->mtx);
	return (n);
}

/* ---- Answers (control context) -------------------------------------------------------- */

/* What can be judged of an answer alone, before its request is looked at. */
static int
check_answer(const vpc_upcall_ans_t *a)
{
	if (!vpc_all_zero(&a->_pad0, 1) || !vpc_all_zero(a->_pad1, sizeof(a->_pad1)) ||
	    !vpc_all_zero(a->_pad2, sizeof(a->_pad2)))
		return (VPC_ERR(VPC_EINVAL));
	if (a->ttl_ms > VPC_CAM_TTL_MAX_MS)
		return (VPC_ERR(VPC_ERANGE));
	if (a->status == VPC_UPCALL_NOT_FOUND)
		return (a->af == 0 && vpc_all_zero(a->addr, 16) && a->udp_port == 0 &&
		    vpc_mac_is_zero(a->mac) ? 0 : VPC_ERR(VPC_EINVAL));
	if (a->status != VPC_UPCALL_FOUND)
		return (VPC_ERR(VPC_EINVAL));
	if (a->af == 0)                 /* L3 only: the neighbour entry alone */
		return (vpc_all_zero(a->addr, 16) && a->udp_port == 0 ? 0 :
		    VPC_ERR(VPC_EINVAL));
	if (a->af == VPC_AF_INET)
		return (!vpc_all_zero(a->addr, 4) && vpc_all_zero(a->addr + 4, 12) &&
		    a->addr[0] < 224 ? 0 : VPC_ERR(VPC_EINVAL));
	if (a->af == VPC_AF_INET6)
		return (!vpc_all_zero(a->addr, 16) && a->addr[0] != 0xff ? 0 :
		    VPC_ERR(VPC_EINVAL));
	return (VPC_ERR(VPC_EAFNOSUPPORT));
}

/*
 * What depends on the request's kind: an L2 answer names a VTEP and no MAC;
 * an L3 one found names the address's MAC (unicast), and a VTEP for it
 * unless af is 0.
 */
static int
check_answer_kind(const vpc_upcall_ans_t *a, uint8_t kind)
{
	if (a->status == VPC_UPCALL_NOT_FOUND)
		return (0);
	if (kind == VPC_UPCALL_L2MISS) {
		if (a->af == 0)
			return (VPC_ERR(VPC_EAFNOSUPPORT));
		return (vpc_mac_is_zero(a->mac) ? 0 : VPC_ERR(VPC_EINVAL));
	}
	return (!vpc_mac_is_zero(a->mac) && !vpc_mac_is_multicast(a->mac) ? 0 :
	    VPC_ERR(VPC_EINVAL));
}

/* The request an answer is for, still handed out under that generation. */
static int
claim(struct vpc_upq *q, const vpc_upcall_ans_t *a, struct vpc_pend **out)
{
	struct vpc_pend *pe = q->slot[a->req_id & (VPC_PENDING_MAX - 1)];

	VPC_ASSERT_MTX(q->mtx);
	if (pe == NULL || pe->id != a->req_id)
		return (VPC_ERR(VPC_ENOENT));
	if (pe->gen == 0 || pe->gen != a->generation) {
		sw_count(pe->sw, VPC_SWSTAT_STALE);
		return (VPC_ERR(VPC_ESTALE));
	}
	*out = pe;
	return (0);
}

static uint32_t
answer_ttl(const vpc_upcall_ans_t *a)
{
	if (a->status != VPC_UPCALL_FOUND && a->ttl_ms == 0)
		return (VPC_CAM_NEG_TTL_MS);    /* negatives never last */
	return (a->ttl_ms);
}

/* The CAM entry an answer installs: for the MAC asked for (L2) or found (L3). */
static void
entry_from_answer(struct vpc_cam_ent *e, const uint8_t mac[6],
    const vpc_upcall_ans_t *a, uint64_t now)
{
	uint32_t ttl = answer_ttl(a);

	memset(e, 0, sizeof(*e));
	memcpy(e->dst, mac, 6);
	if (a->status == VPC_UPCALL_FOUND) {
		e->kind = VPC_CAM_REMOTE;
		e->af = a->af;
		e->udp_port = a->udp_port != 0 ? a->udp_port : VPC_VXLAN_PORT;
		memcpy(e->addr, a->addr, 16);
	} else
		e->kind = VPC_CAM_NEGATIVE;
	e->k.ttl_ms = ttl;
	e->k.expire_ns = ttl != 0 ? now + (uint64_t)ttl * 1000000u : 0;
	e->k.revision = a->revision;
}

static void
nbr_from_answer(struct vpc_nbr_ent *e, const struct vpc_pkey *key,
    const vpc_upcall_ans_t *a, uint64_t now)
{
	uint32_t ttl = answer_ttl(a);

	memset(e, 0, sizeof(*e));
	e->af = key->af;
	memcpy(e->addr, key->addr, 16);
	if (a->status == VPC_UPCALL_FOUND) {
		e->kind = VPC_NBR_FOUND;
		memcpy(e->mac, a->mac, 6);
	} else
		e->kind = VPC_NBR_NEGATIVE;
	e->k.ttl_ms = ttl;
	e->k.expire_ns = ttl != 0 ? now + (uint64_t)ttl * 1000000u : 0;
	e->k.revision = a->revision;
}

/*
 * Does this answer install a CAM entry?  L2: always (negative ones too).
 * L3: when found with a VTEP, on a switch that sends VXLAN.
 */
static bool
wants_cam(const struct vpc_switch *sw, const vpc_upcall_ans_t *a, uint8_t kind)
{
	if (kind == VPC_UPCALL_L2MISS)
		return (true);
	return (a->status == VPC_UPCALL_FOUND && a->af != 0 && sw->vni != 0 &&
	    sw->vni != VPC_VNI_NONE);
}

/* What one answer needs before anything is taken: entries, room, after slots. */
struct answer_prep {
	struct vpc_cam_ent *cam;
	struct vpc_nbr_ent *nbr;
};

static int
answer_prepare(struct vpc_ctx *x, struct vpc_switch *sw,
    const vpc_upcall_ans_t *a, uint8_t kind, struct answer_prep *ap)
{
	int error;

	ap->cam = NULL;
	ap->nbr = NULL;
	if (wants_cam(sw, a, kind)) {
		if ((ap->cam = vpc_cam_ent_new()) == NULL)
			return (VPC_ERR(VPC_ENOMEM));
		if ((error = vpc_cam_reserve(sw, 1)) != 0)
			return (error);
	}
	if (kind == VPC_UPCALL_L3MISS) {
		if ((ap->nbr = vpc_nbr_ent_new()) == NULL)
			return (VPC_ERR(VPC_ENOMEM));
		if ((error = vpc_nbr_reserve(sw, 1)) != 0)
			return (error);
	}
	return (vpc_after_reserve(x, 2));
}

static void
answer_unprepare(struct answer_prep *ap)
{
	if (ap->cam != NULL)
		vpc_cam_ent_free(ap->cam);
	vpc_nbr_ent_free(ap->nbr);
	ap->cam = NULL;
	ap->nbr = NULL;
}

/* Apply a claimed (and unlinked) request's answer; pe is consumed. */
static void
answer_apply(struct vpc_ctx *x, struct vpc_pend *pe, const vpc_upcall_ans_t *a,
    struct answer_prep *ap, uint64_t now)
{
	struct vpc_switch *sw = pe->sw;
	bool l3 = pe->key.kind == VPC_UPCALL_L3MISS, stale, announce = false;
	struct vpc_after *af;

	sw_count(sw, VPC_SWSTAT_ANSWERS);
	if (l3)
		sw_count(sw, VPC_SWSTAT_L3_ANSWERS);
	if (ap->cam != NULL) {
		entry_from_answer(ap->cam, l3 ? a->mac : pe->rec.dstmac, a, now);
		if (vpc_cam_install_answer(sw, ap->cam, &stale))
			ap->cam = NULL;         /* else a newer mapping, or a local MAC */
	}
	if (ap->nbr != NULL) {
		nbr_from_answer(ap->nbr, &pe->key, a, now);
		if (vpc_nbr_install(sw, ap->nbr, &stale, &announce))
			ap->nbr = NULL;
	}
	answer_unprepare(ap);
	if (announce) {
		af = &x->after[x->nafter++];
		memset(af, 0, sizeof(*af));
		af->sw = sw;
		af->what = VPC_AFTER_ANNOUNCE;
		af->af = pe->key.af;
		memcpy(af->addr, pe->key.addr, 16);
		memcpy(af->mac, a->mac, 6);
	}
	if (a->status == VPC_UPCALL_NOT_FOUND) {
		sw_count(sw, VPC_SWSTAT_NEGATIVE);
		if (l3)
			sw_count(sw, VPC_SWSTAT_L3_NEGATIVE);
		drop_held(pe);
	} else if (pe->held != NULL) {
		/* Released to forwarding (or the responder), whose own counters
		 * say the rest. */
		os_counter_add(sw->ctr[VPC_SWSTAT_RELEASED], pe->nheld);
		af = &x->after[x->nafter++];
		memset(af, 0, sizeof(*af));
		af->sw = sw;
		af->in = pe->in;
		af->pkts = pe->held;
		af->what = l3 ? VPC_AFTER_RESPOND : VPC_AFTER_FORWARD;
	}
	vpc_free(pe, sizeof(*pe));
}

/*
 * SYS_UPCALL_ANSWER.  Each answer stands alone: a refused one changes
 * nothing.  A FOUND answer's held frames are handed back to the caller
 * (vpc_ctl.c) to send once the control lock is dropped; a NOT_FOUND
 * answer's are dropped here.
 */
int
vpc_op_sys_upcall_answer(struct vpc_ctx *x)
{
	struct vpc_upq *q = x->sys->upq;
	size_t n = x->keylen / sizeof(vpc_upcall_ans_t), i;
	int32_t *res = x->val;
	uint64_t now = vpc_ttl_now();           /* for the entries' TTLs only */
	struct answer_prep ap;
	vpc_upcall_ans_t a;
	struct vpc_pend *pe;
	struct vpc_switch *sw;
	uint8_t kind;
	int error;

	if (n > VPC_UPCALL_BATCH_MAX)
		return (VPC_ERR(VPC_E2BIG));
	if (x->vallen < n * sizeof(int32_t))
		return (VPC_ERR(VPC_EINVAL));
	if ((error = vpc_after_reserve(x, 2 * (uint32_t)n)) != 0)
		return (error);
	for (i = 0; i < n; i++) {
		memcpy(&a, (const char *)x->key + i * sizeof(a), sizeof(a));
		if ((res[i] = check_answer(&a)) != 0)
			continue;
		/* Find it and judge the answer against it... */
		os_mtx_lock(q->mtx);
		error = claim(q, &a, &pe);
		sw = error == 0 ? pe->sw : NULL;
		kind = error == 0 ? pe->key.kind : 0;
		os_mtx_unlock(q->mtx);
		if (error == 0)
			error = check_answer_kind(&a, kind);
		/* ...make room for what it installs, then take it. */
		ap.cam = NULL;
		ap.nbr = NULL;
		if (error == 0)
			error = answer_prepare(x, sw, &a, kind, &ap);
		if (error == 0) {
			os_mtx_lock(q->mtx);
			if ((error = claim(q, &a, &pe)) == 0 && pe->sw == sw &&
			    pe->key.kind == kind)
				unlink_pend(q, pe);
			else if (error == 0)
				error = VPC_ERR(VPC_ENOENT);     /* timed out and reused */
			os_mtx_unlock(q->mtx);
		}
		if ((res[i] = error) != 0) {
			answer_unprepare(&ap);
			continue;
		}
		answer_apply(x, pe, &a, &ap, now);
	}
	x->vallen = n * sizeof(int32_t);
	return (0);
}

int
vpc_op_sys_upcall_stats(struct vpc_ctx *x)
{
	struct vpc_upq *q = x->sys->upq;
	vpc_upcall_stats_t st;

	memset(&st, 0, sizeof(st));
	os_mtx_lock(q->mtx);
	st.pending = q->npending;
	st.undelivered = q->nundelivered;
	st.held = q->nheld;
	st.readers = q->reader;
	st.delivered = q->delivered;
	st.requeued = q->requeued;
	os_mtx_unlock(q->mtx);
	memcpy(x->val, &st, sizeof(st));
	return (0);
}

/* The queue's counts against its lists (vpc_check.c). */
void
vpc_upq_check(struct vpc_sys *sys, struct vpc_check *c)
{
	struct vpc_upq *q = sys->upq;
	struct vpc_pend *pe;
	struct vpc_pkt *p;
	uint32_t n = 0, undelivered = 0, held = 0, nh;

	os_mtx_lock(q->mtx);
	VPC_LIST_FOREACH(pe, &q->all, all) {
		n++;
		c->checked += 4;
		if (q->slot[pe->id & (VPC_PENDING_MAX - 1)] != pe)
			vpc_check_fail(c, "upcalls: a request is in its slot", 0, 1);
		if (find(q, pe->sw, &pe->key) != pe)
			vpc_check_fail(c, "upcalls: a request is found by (switch, MAC)", 0, 1);
		if (pe->sw->obj.dead || (pe->in != NULL && pe->in->obj.dead))
			vpc_check_fail(c, "upcalls: a request for a dead switch or port", 0, 1);
		for (nh = 0, p = pe->held; p != NULL; p = os_pkt_next(p))
			nh++;
		if (nh != pe->nheld)
			vpc_check_fail(c, "upcalls: a hold queue's length", nh, pe->nheld);
		held += nh;
	}
	VPC_LIST_FOREACH(pe, &q->undelivered, undelivered) {
		undelivered++;
		c->checked++;
		if (pe->gen != 0)
			vpc_check_fail(c, "upcalls: queued requests are not handed out", 0, 1);
	}
	c->checked += 3;
	if (n != q->npending)
		vpc_check_fail(c, "upcalls: pending count", n, q->npending);
	if (undelivered != q->nundelivered)
		vpc_check_fail(c, "upcalls: undelivered count", undelivered, q->nundelivered);
	if (held != q->nheld)
		vpc_check_fail(c, "upcalls: frames held", held, q->nheld);
	os_mtx_unlock(q->mtx);
}
