/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_impl.h: structures shared by the core's own files.  The OS glue never
 * includes it (it has vpc_core.h); the C tests, fuzzers and fwd_bench in
 * kmod/tests and kmod/bench do, to reach inside on purpose.
 *
 * Locking
 * -------
 * Three tiers, taken in this order (never the other way round):
 *
 *   ctl      sys->ctl, sleepable (sx on FreeBSD).  Every control op, open and
 *            close.  Protects the object graph: lifetimes, handle and
 *            reference counts, the registry, port tables, every field
 *            marked "ctl" below.  Those need no atomics.
 *   mtx      sw->mtx, a non-sleeping mutex per switch: CAM writers and the
 *            sweeper (its timer runs with it held).  Fields marked
 *            "sw->mtx".
 *   upq      q->mtx, the upcall queue's non-sleeping mutex (vpc_upcall.c):
 *            the data path takes it on a miss, control code on answers.
 *
 * sw->mtx and q->mtx are never held together.  No frame is sent while any
 * core lock is held (answers' held frames go out after ctl is dropped).
 *
 * The data path takes no lock but q->mtx.  It runs inside the epoch
 * (os_epoch_enter/exit) and reads pointers marked "published": control code
 * fills the new copy, stores it with vpc_store (release), the reader loads
 * it with vpc_load (acquire), and the old copy is freed through
 * os_epoch_defer.  "RO" means set before the containing object was
 * published and never changed.  Functions state what they need with
 * os_sx_assert_xlocked, os_mtx_assert_owned and os_epoch_assert at the top,
 * which abort on the host and panic on an INVARIANTS kernel.
 */
#ifndef _VPC_IMPL_H_
#define _VPC_IMPL_H_

#include "vpc_core.h"
#include "vpc_frame.h"
#include "vpc_list.h"
#include "vpc_icmp.h"

/*
 * A rare path kept out of line, so that a hot function it is called from
 * (the NAT's translation, say) keeps the code layout and inlining it had
 * without it.  GCC and Clang, which build every target.
 */
#define VPC_COLD __attribute__((cold, noinline))

/*
 * A per-frame step inlined even where the compiler would keep one copy for
 * its several callers: the keyed tables' probe, whose call, six register
 * saves and restores were ~25 of a CAM lookup's ~120 instructions.
 */
#define VPC_HOT_INLINE inline __attribute__((always_inline))

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Every error the core makes goes through this, so a debugger learns where
 * (host: file:line in the debug log; FreeBSD: the SDT probe vpc:::error).
 * The value stays the constant e, so the compiler still knows it is nonzero.
 */
#define VPC_ERR(e) (os_error_trace(__FILE__, __LINE__, (e)), (e))

/*
 * A hint that the line at p will be read soon: a prefetch, no fault, no
 * effect on what any code sees (gcc and clang, for both kernels and the host).
 */
#define vpc_prefetch(p) __builtin_prefetch(p)
/*
 * Entries below which a table's lines mostly stay in a CPU's caches (a few
 * hundred KB with the CAM's 72-byte or the firewall's 112-byte entries):
 * smaller tables get no prefetches from a burst, which would only cost.
 * vpc_prefetch_min starts at that; tests lower it (before any traffic) to
 * take the hints on small tables.
 */
#define VPC_PREFETCH_MIN 4096
extern uint32_t vpc_prefetch_min;

/* What a function needs held, said at its top. */
#define VPC_ASSERT_CTL(sys)   os_sx_assert_xlocked((sys)->ctl)
#define VPC_ASSERT_MTX(m)     os_mtx_assert_owned(m)
#define VPC_ASSERT_EPOCH()    os_epoch_assert()

void *memcpy(void *, const void *, size_t);
void *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);
int   memcmp(const void *, const void *, size_t);

/* ---- Memory, with accounting (vpc_mem.c) ---------------------------------- */

void    *vpc_alloc(size_t size, int mflags);
void     vpc_free(void *p, size_t size);
uint64_t vpc_mem_bytes(void);
uint64_t vpc_mem_allocs(void);

/* ---- Keyed hash (vpc_hash.c) ---------------------------------------------- */

struct vpc_hashkey {
	uint64_t k0, k1;
};
void     vpc_hashkey_init(struct vpc_hashkey *k);
uint64_t vpc_hash(const struct vpc_hashkey *k, const void *data, size_t len);

/* ---- Objects -------------------------------------------------------------- */

struct vpc_sys;

struct vpc_obj {
	vpc_id_t        id;             /* RO */
	uint8_t         type;           /* RO: VPC_TYPE_* */
	bool            committed;      /* ctl */
	bool            dead;           /* ctl (the data path may peek: a hint) */
	bool            owned;          /* ctl: lives and dies with its parent */
	uint32_t        handles;        /* ctl: open handles, all processes */
	uint32_t        refs;           /* ctl: handles + links + the registry's */
	uint64_t        serial;         /* RO: creation order */
	uint64_t        gen;            /* ctl: bumps on every change */
	uint32_t        check_refs;     /* ctl: scratch for the invariant checker */
	/* Transactions (vpc_txn.c). */
	int32_t         txn_issued;     /* ctl: last token handed out */
	int32_t         txn_seen;       /* ctl: txn_issued at the last change */
	int32_t         txn_last;       /* ctl: token of the last change */
	struct vpc_obj *parent;         /* ctl: port: switch; owned vmnic: port */
	struct vpc_sys *sys;            /* RO */
	struct vpc_obj *hash_next;      /* ctl: registry bucket chain */
	VPC_LIST_LINK(vpc_obj) link;    /* ctl: sys->objs, creation order */
	const struct vpc_objops *ops;   /* RO */
	struct os_defer defer;
};

/*
 * What differs per type.  init may fail (the object is then freed with no
 * kill, and fini runs on what init made).  kill unlinks the object from the
 * graph and the OS, releases what it references; it runs in control context
 * and may sleep, but must not fail.  fini frees what the object owns, after
 * the epoch, and must not sleep.
 */
struct vpc_objops {
	size_t size;                            /* of the containing struct */
	int  (*init)(struct vpc_obj *o);
	void (*kill)(struct vpc_obj *o);
	void (*fini)(struct vpc_obj *o);
	bool (*busy)(const struct vpc_obj *o);  /* refuse DESTROY (EBUSY) */
	/* A handle on it is being closed (optional): what it owns goes. */
	void (*closed)(struct vpc_obj *o, const struct vpc_hdl *h);
};

struct vpc_hdl {
	struct vpc_obj *obj;
	bool            priv;
};

/* ---- Publishing for the data path ------------------------------------------
 * Data-path readers see a pointer that control code replaces whole:
 * store_release on publish, load_acquire on read, the old copy freed
 * through the epoch.
 */
#define vpc_load(p)          __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define vpc_store(p, v)      __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

/* A set of ports, immutable once published (flooding, uplinks of a vcc). */
struct vpc_portset {
	struct os_defer  defer;
	uint32_t         cap;
	uint32_t         n;
	struct vpc_port *p[];
};
struct vpc_portset *vpc_portset_new(uint32_t cap);   /* may sleep */
void vpc_portset_retire(struct vpc_portset *s);      /* epoch-deferred free */
void vpc_portset_free_now(struct vpc_portset *s);    /* nobody can see it */
extern struct vpc_portset vpc_portset_empty;         /* when memory ran out */

/* What the data path needs of a switch's configuration, immutable. */
struct vpc_subnet {
	uint8_t plen;                   /* 0: none */
	uint8_t addr[16];
};
/* The gateway a switch answers as, derived from its subnets and settings. */
struct vpc_gateway {
	uint8_t mac[6];
	bool    has4, has6;             /* a subnet of that family, so a gateway */
	uint8_t addr4[4];
	uint8_t addr6[16];
	uint8_t ll6[16];                /* fe80::/64 + the MAC's EUI-64 */
};
/* Broadcast/multicast and upcall policy, defaults filled in. */
struct vpc_policy {
	uint8_t  bum;                   /* VPC_BUM_* */
	uint32_t upcall_rate, upcall_burst;
	uint32_t ra_interval_s;         /* VPC_RA_OFF: none unsolicited */
};
struct vpc_swcfg {
	struct os_defer   defer;
	uint32_t          vni;          /* VPC_VNI_NONE until set */
	uint8_t           vxhdr[8];     /* the VXLAN header of vni (RFC 7348) */
	struct vpc_subnet sub4, sub6;
	struct vpc_gateway gw;
	struct vpc_policy policy;
};

/* VNI -> switch, for frames from the underlay; immutable. */
struct vpc_vnitab {
	struct os_defer defer;
	uint32_t        mask;
	struct vpc_vnislot {
		uint32_t           vni;
		struct vpc_switch *sw;  /* NULL: empty */
	} slot[];
};

/* ---- The instance ------------------------------------------------------- */

struct vpc_upq;                         /* vpc_upcall.c */

struct vpc_sys {
	struct os_sx       *ctl;            /* RO: the control lock */
	struct vpc_hashkey  hkey;           /* RO */
	struct vpc_obj    **buckets;        /* ctl: the registry */
	uint32_t            nbuckets;       /* ctl: power of two */
	uint64_t            nobjs;          /* ctl */
	uint64_t            by_type[VPC_TYPE_MAX + 1]; /* ctl */
	uint64_t            nhandles;       /* ctl: all open handles */
	uint64_t            dead_handles;   /* ctl: of which on destroyed objects */
	uint64_t            next_serial;    /* ctl */
	VPC_LIST_HEAD(vpc_objlist, vpc_obj) objs; /* ctl: every live object */
	struct vpc_vnitab  *vnitab;         /* published (ctl writes) */
	struct vpc_upq     *upq;            /* RO; its insides: q->mtx */
	struct os_counter  *drop_unplugged; /* RO: frames from a vmnic in no switch */
	struct vpc_fw      *fw;             /* RO: rule sets and flows (vpc_fw.c) */
	uint32_t            last_checks;    /* ctl: invariants the last check tested */
	bool                tearing_down;   /* ctl: vpc_sys_teardown: nothing to refresh */
};

/* The invariant checker (vpc_check.c); the first failure is described. */
struct vpc_check {
	char    *buf;
	size_t   len;
	size_t   at;
	uint32_t failed;
	uint32_t checked;
};
void vpc_check_fail(struct vpc_check *c, const char *what, uint64_t got,
         uint64_t want);
void vpc_cam_check(struct vpc_switch *sw, struct vpc_check *c);
void vpc_upq_check(struct vpc_sys *sys, struct vpc_check *c);

/* Registry (vpc_registry.c). */
int             vpc_reg_init(struct vpc_sys *sys);
void            vpc_reg_fini(struct vpc_sys *sys);
struct vpc_obj *vpc_reg_lookup(struct vpc_sys *sys, const vpc_id_t *id);
int             vpc_reg_insert(struct vpc_sys *sys, struct vpc_obj *o);
void            vpc_reg_remove(struct vpc_sys *sys, struct vpc_obj *o);

/* Lifetime (vpc_obj.c). */
int  vpc_obj_new(struct vpc_sys *sys, unsigned type, const vpc_id_t *id,
         struct vpc_obj **out);     /* registered, refs = 1 (registry) */
void vpc_obj_ref(struct vpc_obj *o);
void vpc_obj_rele(struct vpc_obj *o);
void vpc_obj_kill(struct vpc_obj *o);   /* idempotent */
void vpc_obj_changed(struct vpc_obj *o, vpc_txn_t txn);
struct vpc_hdl *vpc_hdl_new(struct vpc_obj *o, bool priv);
void vpc_hdl_free(struct vpc_hdl *h);
void vpc_obj_info(const struct vpc_obj *o, vpc_obj_info_t *out);
const struct vpc_objops *vpc_objops_of(unsigned type);
bool vpc_id_is_nil(const vpc_id_t *id);
void vpc_id_random(vpc_id_t *id);

/* Transactions (vpc_txn.c). */
vpc_txn_t vpc_txn_issue(struct vpc_obj *o);
int       vpc_txn_check(const struct vpc_obj *o, vpc_txn_t txn);

/* MACs. */
static inline bool
vpc_mac_is_zero(const uint8_t m[6])
{
	return ((m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0);
}
static inline bool
vpc_mac_is_multicast(const uint8_t m[6])
{
	return ((m[0] & 1) != 0);       /* includes broadcast */
}
static inline uint64_t
vpc_mac64(const uint8_t m[6])
{
	return ((uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 |
	    (uint64_t)m[2] << 24 | (uint64_t)m[3] << 16 |
	    (uint64_t)m[4] << 8 | m[5]);
}

/*
 * Bytes [off, off + len) of a packet, to read: where they lie in it when
 * they are contiguous there (a pointer, no copy), else copied into buf (len
 * bytes).  NULL if the packet is shorter.
 */
static inline const uint8_t *
vpc_pkt_bytes(const struct vpc_pkt *p, uint32_t off, uint32_t len, void *buf)
{
	const uint8_t *b = os_pkt_peek(p, off, len);

	if (b != NULL)
		return (b);
	return (os_pkt_copyout(p, off, len, buf) ? (const uint8_t *)buf : NULL);
}

static inline bool
vpc_all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *b++;
	return (acc == 0);
}

/*
 * An interface name in a VPC_IFNAMSIZ field: letters, digits, '_', '-' and
 * '.' (what ifconfig and ip accept everywhere).  Its length, or -1 if a
 * character is not allowed; VPC_IFNAMSIZ means no NUL inside the field.
 */
static inline int
vpc_ifname_scan(const char *field)
{
	int i;

	for (i = 0; i < VPC_IFNAMSIZ && field[i] != '\0'; i++) {
		char c = field[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return (-1);
	}
	return (i);
}

/* ---- Types ---------------------------------------------------------------- */

struct vpc_port;

struct vpc_nic {
	struct vpc_obj   obj;
	uint8_t          mac[6];        /* ctl */
	uint64_t         mac64;         /* ctl writes, data path reads (atomic) */
	struct vpc_port *port;          /* published: plugged into, or NULL */
	uint32_t         mtu;           /* ctl writes, data path reads: in effect */
	uint32_t         mtu_set;       /* ctl: set explicitly, 0: follow the default */
	bool             mtu_forced;    /* ctl: set with VPC_NIC_MTU_FORCE */
	char             ifname[VPC_IFNAMSIZ];  /* ctl: as set, or "" */
	struct vpc_nic_l3 *l3;          /* published: addresses, DHCP; never NULL */
	struct vpc_ratelim upcall_rl;   /* lock-free: misses it may raise */
	struct vpc_ratelim rs_rl;       /* lock-free: router solicitations answered */
	void            *os;            /* the glue's ifnet / TAP (its locking) */
};

struct vpc_vcc {
	struct vpc_obj      obj;
	vpc_vcc_t           conf;       /* ctl: as last applied (txn 0) */
	uint32_t            mtu;        /* ctl writes, data path reads: conf.mtu, 0 made 1500 */
	bool                configured; /* ctl writes, data path reads (atomic) */
	uint32_t            nuplinks;   /* ctl: uplink ports plugged in */
	struct vpc_portset *uplinks;    /* published: all of them */
	struct os_counter  *ctr[VPC_VCCSTAT_COUNT];     /* RO */
	void               *os;         /* the glue's sockets (its locking) */
};

enum vpc_port_kind {
	VPC_PORT_UPLINK = 1,
	VPC_PORT_ROUTER,
	VPC_PORT_VMNIC,
};

/* A vmnic's L3 configuration, immutable once published (vpc_nic_l3.c). */
struct vpc_nic_l3 {
	struct os_defer defer;
	vpc_nic_addr_t  addr;           /* txn 0 */
	vpc_nic_dhcp_t  dhcp;           /* txn 0 */
};
extern const struct vpc_nic_l3 vpc_nic_l3_none;        /* no addresses, no DHCP */

/* Fields the data path reads are set before the port is published. */
/*
 * A neighbour entry found, with the generation its table had before the
 * probe that found it (vpc_nbr_lookup_hint): proof that the entry is live
 * in that table while the table's generation is still gen.
 */
struct vpc_nbr_ent;
struct vpc_nbr_hint {
	uint64_t                  gen;
	const struct vpc_nbr_ent *e;
};

/*
 * The router's memo of the last frame a vmnic sent through it
 * (vpc_router_fwd.c): the route a lookup of (af, dst) found in the table of
 * that serial, and the neighbour it led to.  Written lock-free by the data
 * path, seq odd while a writer is inside.
 */
struct vpc_rt;
struct vpc_rtr_memo {
	uint32_t                  seq;
	uint16_t                  af;
	uint16_t                  misses;       /* a hint, updated racily */
	uint64_t                  dst[2];       /* the address's bytes */
	uint64_t                  table;        /* the table's serial */
	const struct vpc_rt      *rt;
	struct vpc_nbr_hint       nbr;
};

struct vpc_port {
	struct vpc_obj     obj;
	struct vpc_switch *sw;          /* RO */
	enum vpc_port_kind kind;        /* RO */
	uint16_t           vlan;        /* RO: 0 = none */
	bool               has_vni;     /* RO */
	struct vpc_obj    *peer;        /* published: NIC or VCC, referenced; or NULL */
	struct vpc_portfw *fw;          /* published: its rule sets; NULL: none */
	uint32_t           fw_flows;    /* fw->mtx: its flows (vpc_fw.c) */
	/* Lock-free: where the router last sent this vmnic's frames. */
	struct vpc_rtr_memo rtr_memo;
};

struct vpc_cam;                         /* vpc_cam.c */
struct vpc_nbr;                         /* vpc_nbr.c */

struct vpc_switch {
	struct vpc_obj      obj;
	uint32_t            vni;        /* ctl: control's copy of cfg->vni */
	struct vpc_port   **ports;      /* ctl: creation order, nports used */
	uint32_t            nports;     /* ctl */
	uint32_t            cap;        /* ctl */
	struct vpc_port    *uplink;     /* published */
	struct vpc_port    *router;     /* published */
	struct vpc_swcfg   *cfg;        /* published */
	struct vpc_portset *flood;      /* published: local ports with a vmnic */
	struct os_mtx      *mtx;        /* RO: CAM writers, the sweeper */
	struct vpc_cam     *cam;        /* RO; its table published, the rest sw->mtx */
	struct vpc_nbr     *nbr;        /* RO; likewise: the neighbour table */
	struct os_timer    *sweeper;    /* ctl */
	struct os_timer    *ra_timer;   /* ctl: unsolicited RAs; no mutex (vpc_ra.c) */
	struct os_counter  *ctr[VPC_SWSTAT_COUNT];      /* RO */
	struct vpc_ratelim  icmp_rl;    /* lock-free: ICMP errors the switch sends */
	vpc_sw_gateway_t    gw_conf;    /* ctl: what SW_SET_GATEWAY set (flags) */
	vpc_sw_policy_t     policy_conf;/* ctl: what SW_SET_POLICY set */
};

/*
 * The router (vpc_router.c, vpc_router_fwd.c).  Control state under ctl; the
 * data path reads only the published route table (and the switches it
 * names, which the epoch keeps alive).
 */
struct vpc_rtr_att {                    /* an attachment, ctl */
	struct vpc_switch *sw;
	struct vpc_port   *port;        /* sw's router port; its peer is the router */
	uint64_t           serial;      /* of its connected routes: IPv4 this,
	                                 * IPv6 this + 1 */
};
struct vpc_rt {                         /* a route in a published table */
	uint8_t            af, plen, cls, target;
	uint8_t            prefix[16];
	uint8_t            nexthop[16];
	vpc_id_t           swid;        /* SUBNET: the switch named */
	struct vpc_switch *sw;          /* egress, NULL: unusable */
	struct vpc_port   *port;        /* its router port */
	uint64_t           serial;
};
/*
 * A node of the lookup trie (vpc_router.c): 64 children, one per value of
 * the next 6 address bits.  vec marks the children that are nodes (in
 * order from node[base1]); lvec marks where a run of equal leaves starts
 * among the others (in order from leaf[base0]): a popcount finds either.
 */
#define VPC_PT_STRIDE   6
struct vpc_pnode {
	uint64_t           vec, lvec;
	uint32_t           base0, base1;
};
/*
 * The first two levels (12 bits) of a walk, done ahead: direct[top 12 bits
 * of the address] is the node the walk reaches at depth 2, or
 * (VPC_PT_DIRECT_LEAF | the leaf) when it ends above.  NULL when the root
 * has no child (nothing to skip).
 */
#define VPC_PT_DIRECT_BITS 12
#define VPC_PT_DIRECT_LEAF 0x80000000u
struct vpc_ptrie {                      /* one family's trie, node[0] the root */
	struct vpc_pnode  *node;
	uint32_t          *leaf;        /* index + 1 of the best route, 0: none */
	uint32_t          *direct;      /* 2^VPC_PT_DIRECT_BITS entries, or NULL */
	uint32_t           nnodes, nleaves;
};
struct vpc_rtable {
	struct os_defer    defer;
	size_t             bytes;       /* of this allocation */
	uint64_t           serial;      /* unique to this table (vpc_router.c) */
	size_t             tbytes;      /* of trie_mem */
	void              *trie_mem;    /* both tries' nodes and leaves */
	uint32_t           n;           /* routes, serial order */
	uint32_t           mask;        /* hash slots - 1 */
	uint64_t           seed;
	struct vpc_ptrie   trie[2];     /* IPv4, IPv6 */
	uint32_t          *slot;        /* index + 1 of a prefix's best route */
	struct vpc_rt      r[];
};
struct vpc_router {
	struct vpc_obj      obj;
	struct vpc_rtr_att  att[VPC_RTR_MAX_ATTACH];    /* ctl, attach order */
	uint32_t            natt;       /* ctl */
	vpc_rt_route_t     *custom;     /* ctl: custom routes, serial order */
	uint32_t            ncustom, capcustom;         /* ctl */
	uint64_t            next_serial;/* ctl */
	uint64_t            seed;       /* RO: the table's hash */
	struct vpc_rtable  *table;      /* published */
	struct vpc_rt_stage *stage;     /* ctl: a staged replace, or NULL */
	uint64_t            stage_seq;  /* ctl: the last stage's token */
	struct os_counter  *ctr[VPC_RTRSTAT_COUNT];     /* RO */
	struct vpc_ratelim  icmp_rl;    /* lock-free: ICMP errors it sends */
	struct vpc_natgw   *nat;        /* published, referenced: INTERNET routes' NAT */
};

/*
 * vpclink (vpc_link.c): an Ethernet interface of the node.  Its MAC is the
 * interface's, read at bind; frames it brings go to its NAT (vpc_natgw_path.c)
 * or back to the node's stack.
 */
struct vpc_natgw;
struct vpc_link {
	struct vpc_obj      obj;
	char                ifname[VPC_IFNAMSIZ];  /* ctl: "" = not bound */
	uint64_t            mac64;      /* ctl writes, data path reads (atomic) */
	bool                bound;      /* ctl writes, data path reads (atomic) */
	struct vpc_natgw   *nat;        /* published: the NAT using it, or NULL */
	struct os_counter  *ctr[VPC_LINKSTAT_COUNT];   /* RO */
	void               *os;         /* the glue's socket / ifnet (its locking) */
};

/*
 * vpcnat (vpc_natgw.c, vpc_natgw_ops.c, vpc_natgw_path.c): one translation
 * engine (vpc_nat.h), the link it sends out of, the router it serves.
 * The engine's own counters are its VPC_NATC_*; the object adds its own
 * (VPC_NATSTAT_DROP_NO_LINK and after).
 */
/*
 * The upstream given by IPv4 address, resolved by ARP on the link
 * (vpc_natgw_arp.c).  ip is ctl's to write, the rest is the data path's
 * (atomics; the link's input learns, the output asks).  Times are the
 * engine's clock plus 1, so 0 means never.
 */
#define VPC_NATGW_ARP_RETRY_NS    1000000000ull          /* a request a second */
#define VPC_NATGW_ARP_REFRESH_NS  (60ull * 1000000000ull) /* then ask again */
#define VPC_NATGW_ARP_EXPIRE_NS   (120ull * 1000000000ull) /* then unresolved */
struct vpc_natgw_arp {
	uint32_t            ip;         /* network order as a number; 0: unused */
	uint64_t            mac64;      /* learned MAC; 0: not resolved */
	uint64_t            learned_ns; /* when mac64 was learned (+1) */
	uint64_t            asked_ns;   /* the last request sent (+1) */
};

struct vpc_natgw {
	struct vpc_obj      obj;
	struct vpc_nat     *eng;        /* published; replaced only while empty */
	struct vpc_link    *link;       /* published, referenced; or NULL */
	struct vpc_router  *rtr;        /* published: attached to (it references us) */
	uint64_t            upstream64; /* ctl writes, data path reads (atomic):
	                                 * the configured MAC; 0: none or by IP */
	struct vpc_natgw_arp arp;       /* the upstream by IP (vpc_natgw_arp.c) */
	vpc_nat_config_t    conf;       /* ctl: as set (txn 0, flows 0) */
	struct os_counter  *ctr[VPC_NATSTAT_COUNT];    /* RO: slots the engine lacks */
};
#define VPC_NATGW_OWN_STAT0  VPC_NATSTAT_DROP_NO_LINK  /* first slot of its own */

static inline struct vpc_link *
obj2link(struct vpc_obj *o)
{
	return ((struct vpc_link *)o);
}
static inline struct vpc_natgw *
obj2natgw(struct vpc_obj *o)
{
	return ((struct vpc_natgw *)o);
}
static inline void
mac_from64(uint64_t v, uint8_t m[6])
{
	int i;

	for (i = 5; i >= 0; i--, v >>= 8)
		m[i] = (uint8_t)v;
}

static inline struct vpc_router *
obj2rtr(struct vpc_obj *o)
{
	return ((struct vpc_router *)o);
}
static inline void
rtr_count(struct vpc_router *r, unsigned which)
{
	os_counter_add(r->ctr[which], 1);
}

static inline struct vpc_nic *
obj2nic(struct vpc_obj *o)
{
	return ((struct vpc_nic *)o);
}
static inline struct vpc_switch *
obj2sw(struct vpc_obj *o)
{
	return ((struct vpc_switch *)o);
}
static inline struct vpc_port *
obj2port(struct vpc_obj *o)
{
	return ((struct vpc_port *)o);
}
static inline struct vpc_vcc *
obj2vcc(struct vpc_obj *o)
{
	return ((struct vpc_vcc *)o);
}

static inline void
sw_count(struct vpc_switch *sw, unsigned which)
{
	os_counter_add(sw->ctr[which], 1);
}
static inline void
sw_count_n(struct vpc_switch *sw, unsigned which, uint64_t n)
{
	os_counter_add(sw->ctr[which], n);
}
static inline void
vcc_count(struct vpc_vcc *vcc, unsigned which)
{
	os_counter_add(vcc->ctr[which], 1);
}

extern const struct vpc_objops vpc_nic_ops;
extern const struct vpc_objops vpc_switch_ops;
extern const struct vpc_objops vpc_port_ops;
extern const struct vpc_objops vpc_vcc_ops;
extern const struct vpc_objops vpc_router_ops;
extern const struct vpc_objops vpc_natgw_ops;
extern const struct vpc_objops vpc_link_ops;

/* Counters (vpc_util.c). */
int  vpc_counters_alloc(struct os_counter **c, unsigned n);
void vpc_counters_free(struct os_counter **c, unsigned n);

/* MTUs (vpc_nic.c): what the underlay behind a vmnic carries (0: it is not
 * behind a configured vcc), the default that follows from it, and the
 * recomputation when a port, a switch's VNI or uplink, or a vcc changes. */
uint32_t vpc_nic_fit(const struct vpc_nic *nic);
uint32_t vpc_nic_default_mtu(const struct vpc_nic *nic);
void vpc_nic_mtu_refresh(struct vpc_nic *nic);
void vpc_switch_mtu_refresh(struct vpc_switch *sw);
void vpc_vcc_mtu_refresh(struct vpc_vcc *vcc);

/* Hand a frame from sw to the VM behind nic and count how it fared: TX_LOCAL,
 * DROP_TX, or nothing yet when the glue holds it (vpc_fwd.c). */
void vpc_sw_to_nic(struct vpc_switch *sw, struct vpc_nic *nic,
         struct vpc_pkt *p);

/* Switch internals (vpc_switch.c; snapshots in vpc_publish.c). */
int  vpc_switch_check_mac(struct vpc_switch *sw, const struct vpc_nic *except,
         const uint8_t mac[6]);
bool vpc_vni_in_use(struct vpc_sys *sys, const struct vpc_switch *self,
         uint32_t vni);
/* Flood set: prepare (may fail) then publish; rebuild after a removal. */
struct vpc_portset *vpc_flood_prepare(struct vpc_switch *sw, uint32_t extra);
void vpc_flood_publish(struct vpc_switch *sw, struct vpc_portset *s);
void vpc_flood_rebuild(struct vpc_switch *sw);
struct vpc_swcfg *vpc_swcfg_prepare(void);
/* Publish the switch's configuration anew from its control state (the
 * gateway and policy are derived there); false without memory. */
bool vpc_swcfg_republish(struct vpc_switch *sw);
void vpc_gateway_derive(const struct vpc_switch *sw, const struct vpc_subnet *s4,
         const struct vpc_subnet *s6, struct vpc_gateway *gw);
int  vpc_gateway_check(const struct vpc_switch *sw, const vpc_sw_gateway_t *req);
void vpc_policy_derive(const vpc_sw_policy_t *conf, struct vpc_policy *p);
void vpc_gateway_subnet_changed(struct vpc_switch *sw,
         const struct vpc_subnet *s4, const struct vpc_subnet *s6);
/* Router advertisements (vpc_ra.c): the switch's timer, which runs with no
 * lock; a new configuration re-arms it; a vmnic's solicitation bucket. */
int  vpc_ra_timer_create(struct vpc_switch *sw);
void vpc_ra_timer_destroy(struct vpc_switch *sw);
void vpc_ra_config_changed(struct vpc_switch *sw, const struct vpc_swcfg *old,
         const struct vpc_swcfg *cfg);
void vpc_ra_nic_init(struct vpc_nic *nic);
/* A vmnic's L3 snapshot (vpc_nic_l3.c). */
void vpc_nic_l3_init(struct vpc_nic *nic);
void vpc_nic_l3_fini(struct vpc_nic *nic);
void vpc_swcfg_publish(struct vpc_switch *sw, struct vpc_swcfg *c, uint32_t vni,
         const struct vpc_subnet *s4, const struct vpc_subnet *s6);
struct vpc_vnitab *vpc_vnitab_prepare(struct vpc_sys *sys);
void vpc_vnitab_publish(struct vpc_sys *sys, struct vpc_vnitab *t);
void vpc_vnitab_discard(struct vpc_vnitab *t);
void vpc_vnitab_rebuild(struct vpc_sys *sys);
void vpc_vnitab_free(struct vpc_sys *sys);
struct vpc_switch *vpc_vnitab_lookup(struct vpc_sys *sys, uint32_t vni);
bool vpc_subnet_contains(const struct vpc_subnet *s, const uint8_t *addr);
/* A vcc's uplink set, likewise. */
struct vpc_portset *vpc_uplinks_prepare(struct vpc_vcc *vcc, uint32_t extra);
void vpc_vcc_plug(struct vpc_vcc *vcc, struct vpc_port *p, struct vpc_portset *s);
void vpc_vcc_unplug(struct vpc_vcc *vcc, struct vpc_port *p);

/*
 * The clock entries' TTLs run on, wherever one is set (an op, an upcall's
 * answer), judged (a frame's lookup, CAM_GET, a dump) or swept: the OS's
 * coarse clock.  A frame to an entry with a TTL (every one the agent
 * installs) then reads memory, not a clock: on the host CLOCK_MONOTONIC
 * cost ~26 ns of a ~40 ns forwarding path (bench/forward, entries with and
 * without a TTL), where FreeBSD's os_now_ns() was already the tick's
 * getsbinuptime().  One clock for all of them, so that when CAM_GET says an
 * entry has gone, the next frame misses too.  An entry lives its TTL to
 * within the clock's tick (a few ms) either way.
 */
static inline uint64_t
vpc_ttl_now(void)
{
	return (os_now_coarse_ns());
}

/*
 * What the keyed table (vpc_ktab.h) needs of every entry of the CAM and the
 * neighbour table, and what both keep for control code.  The data path reads
 * expire_ns; gen, revision and ttl_ms are read only by control code with
 * sw->mtx held while the entry is in the table, so once it is retired (a
 * reader inside the epoch may still read the rest of it) they hold its
 * deferred free instead.  32 bytes.
 */
struct vpc_kent {
	uint64_t        expire_ns;      /* vpc_ttl_now()'s clock; 0: never */
	union {
		struct {                        /* while in the table */
			uint64_t gen;           /* order of installation (set by put) */
			uint64_t revision;      /* the directory's */
			uint32_t ttl_ms;        /* as given */
		};
		struct os_defer defer;          /* once retired */
	};
};

/*
 * CAM (vpc_cam.c).  Lookups run in the epoch; changes with sw->mtx held.
 *
 * 72 bytes.  The first 48 are what the data path reads (a reader inside the
 * epoch may still read them after the entry was replaced: the key, kind,
 * address or port, k.expire_ns); the last 24 are k's control fields, the
 * deferred free once retired.  A LOCAL entry has a port and no address, the
 * others an address and no port.
 */
struct vpc_cam_ent {
	uint8_t          dst[6];        /* the key: dst, src (vpc_ktab.h) */
	uint8_t          src[6];
	uint8_t          kind;          /* VPC_CAM_* */
	uint8_t          af;
	uint16_t         udp_port;
	uint8_t          used;          /* the one mutable byte: see vpc_fwd.c */
	union {
		uint8_t          addr[16];      /* REMOTE (NEGATIVE: zero) */
		struct vpc_port *port;          /* LOCAL */
	};
	struct vpc_kent  k;             /* expiry; generation, revision, TTL or
	                                 * the deferred free */
};
int  vpc_cam_create(struct vpc_switch *sw);
void vpc_cam_destroy(struct vpc_switch *sw);
const struct vpc_cam_ent *vpc_cam_lookup(struct vpc_switch *sw,
         const uint8_t dst[6], const uint8_t src[6]);
/* Prefetch hints for lookups of dst coming up (the table line, then the
 * entries its tags point at); they change nothing. */
void vpc_cam_prefetch(struct vpc_switch *sw, const uint8_t dst[6]);
void vpc_cam_prefetch_entry(struct vpc_switch *sw, const uint8_t dst[6]);
bool vpc_cam_prefetch_pays(struct vpc_switch *sw);
const struct vpc_cam_ent *vpc_cam_peek(struct vpc_switch *sw,
         const uint8_t dst[6]);    /* a burst's hints: no expiry */
struct vpc_cam_ent *vpc_cam_ent_new(void);           /* may sleep */
void vpc_cam_ent_free(struct vpc_cam_ent *e);        /* never published */
/* Make room for n more entries (may sleep; no mutex held). */
int  vpc_cam_reserve(struct vpc_switch *sw, uint32_t n);
/* With sw->mtx held: put e in (replacing an entry with its key). */
void vpc_cam_put(struct vpc_switch *sw, struct vpc_cam_ent *e);
struct vpc_cam_ent *vpc_cam_find(struct vpc_switch *sw, const uint8_t dst[6],
         const uint8_t src[6]);
void vpc_cam_remove(struct vpc_switch *sw, struct vpc_cam_ent *e);
/* With sw->mtx held: remove what match() says (all but LOCAL for a flush). */
uint64_t vpc_cam_remove_if(struct vpc_switch *sw,
         bool (*match)(const struct vpc_cam_ent *, void *), void *arg);
uint32_t vpc_cam_count(struct vpc_switch *sw);
uint64_t vpc_cam_bytes(struct vpc_switch *sw);
/* Dump from marker: call fn on each entry until it returns false. */
int  vpc_cam_walk(struct vpc_switch *sw, uint64_t marker,
         bool (*fn)(const struct vpc_cam_ent *, uint64_t cursor, void *), void *arg);
void vpc_cam_sweep(struct vpc_switch *sw, uint64_t now);   /* sw->mtx held */
void vpc_cam_local_clear(struct vpc_switch *sw, struct vpc_port *p,
         const uint8_t mac[6]);
void vpc_cam_local_put(struct vpc_switch *sw, struct vpc_port *p,
         const uint8_t mac[6], struct vpc_cam_ent *e);
/* Install an answer's entry unless a newer revision or a local MAC is there. */
bool vpc_cam_install_answer(struct vpc_switch *sw, struct vpc_cam_ent *e,
         bool *stale);

/*
 * The neighbour table (vpc_nbr.c): (af, IP) -> MAC, the CAM's keyed table
 * with another key.  Lookups in the epoch; changes with sw->mtx held.
 */
struct vpc_nbr_ent {
	uint8_t          af;            /* the key: af, 3 zero bytes, addr */
	uint8_t          _pad0[3];
	uint8_t          addr[16];      /* IPv4 in the first 4 bytes */
	uint8_t          kind;          /* VPC_NBR_* */
	uint8_t          used;          /* the one mutable byte, as the CAM's */
	uint8_t          mac[6];        /* FOUND, LOCAL */
	struct vpc_port *port;          /* LOCAL: the vmnic's port */
	struct vpc_kent  k;             /* as the CAM's (72 bytes in all) */
};
#define VPC_NBR_KEYLEN 20
int  vpc_nbr_create(struct vpc_switch *sw);
void vpc_nbr_destroy(struct vpc_switch *sw);
/* In the epoch: the live entry for (af, addr), or NULL (expired: NULL). */
const struct vpc_nbr_ent *vpc_nbr_lookup(struct vpc_switch *sw, uint8_t af,
         const uint8_t *addr);
/* Mark an entry used (a request was answered from it). */
void vpc_nbr_mark_used(const struct vpc_nbr_ent *e);
/* vpc_nbr_lookup answered from hint when it still holds (NULL: none); what
 * a caller may remember for the next lookup in *out (in the epoch). */
const struct vpc_nbr_ent *vpc_nbr_lookup_hint(struct vpc_switch *sw,
    uint8_t af, const uint8_t *addr, const struct vpc_nbr_hint *hint,
    struct vpc_nbr_hint *out);
struct vpc_nbr_ent *vpc_nbr_ent_new(void);            /* may sleep */
void vpc_nbr_ent_free(struct vpc_nbr_ent *e);         /* never published */
int  vpc_nbr_reserve(struct vpc_switch *sw, uint32_t n);
/* With sw->mtx held. */
struct vpc_nbr_ent *vpc_nbr_find(struct vpc_switch *sw, uint8_t af,
         const uint8_t *addr);
void vpc_nbr_put(struct vpc_switch *sw, struct vpc_nbr_ent *e);
void vpc_nbr_remove(struct vpc_switch *sw, struct vpc_nbr_ent *e);
uint64_t vpc_nbr_remove_if(struct vpc_switch *sw,
         bool (*match)(const struct vpc_nbr_ent *, void *), void *arg);
int  vpc_nbr_walk(struct vpc_switch *sw, uint64_t marker,
         bool (*fn)(const struct vpc_nbr_ent *, uint64_t cursor, void *), void *arg);
void vpc_nbr_sweep(struct vpc_switch *sw, uint64_t now);   /* sw->mtx held */
uint32_t vpc_nbr_count(struct vpc_switch *sw);
void vpc_nbr_check(struct vpc_switch *sw, struct vpc_check *c);
/* Drop what the directory said (not the local entries) of af, or of both
 * families (af 0): the VNI or the subnet changed (vpc_switch.c). */
void vpc_nbr_forget(struct vpc_switch *sw, uint8_t af);
/*
 * Install an entry (sw->mtx taken here) unless a local vmnic owns the
 * address or the stored entry has a newer revision (*stale).  True if e was
 * used; *announce then says a used entry's MAC changed (local VMs should
 * hear of the new one).
 */
bool vpc_nbr_install(struct vpc_switch *sw, struct vpc_nbr_ent *e, bool *stale,
         bool *announce);
/* Local entries: a plugged vmnic's own addresses (NIC_SET_ADDR), owned by
 * its port.  prepare allocates and reserves (may fail); apply cannot. */
struct vpc_nbr_local {
	struct vpc_nbr_ent *e[2];
};
int  vpc_nbr_local_prepare(struct vpc_switch *sw, struct vpc_nbr_local *l);
void vpc_nbr_local_discard(struct vpc_nbr_local *l);
/* EADDRINUSE when another port of sw owns one of these addresses. */
int  vpc_nbr_local_conflict(struct vpc_switch *sw, const struct vpc_port *p,
         const vpc_nic_addr_t *a);
/* Port p's local entries become these (mac zero or no address: none). */
void vpc_nbr_local_apply(struct vpc_switch *sw, struct vpc_port *p,
         const uint8_t mac[6], const vpc_nic_addr_t *a, struct vpc_nbr_local *l);
void vpc_nbr_local_clear(struct vpc_switch *sw, struct vpc_port *p);
/* Is this a host's unicast address (not unspecified, loopback, multicast,
 * IPv4 limited broadcast, IPv6 v4-mapped)? */
bool vpc_nbr_addr_ok(uint8_t af, const uint8_t addr[16]);

/* Upcalls (vpc_upcall.c). */
int  vpc_upq_create(struct vpc_sys *sys);
void vpc_upq_destroy(struct vpc_sys *sys);
void vpc_upcall_miss(struct vpc_switch *sw, struct vpc_port *in,
         struct vpc_pkt *p, const struct vpc_frame *f);
/* Which MAC has (af, ip)?  p, the ARP request or NS itself, is held and run
 * through the responder again when the answer comes. */
void vpc_upcall_l3miss(struct vpc_switch *sw, struct vpc_port *in,
         struct vpc_pkt *p, const struct vpc_frame *f, uint8_t af,
         const uint8_t ip[16]);
/* The same for frames the router holds (rport: the egress switch's router
 * port): a request of its own, its frames back to vpc_router_reinject.  A
 * new request is charged to from, the vmnic port the frame came in by on
 * its own switch, at that switch's policy rate, as its switched misses are;
 * false: refused by that rate (p dropped, counted on sw as any refused
 * miss). */
bool vpc_upcall_l3miss_routed(struct vpc_switch *sw, struct vpc_port *rport,
         struct vpc_port *from, struct vpc_pkt *p, const struct vpc_frame *f,
         uint8_t af, const uint8_t ip[16]);
void vpc_upcall_forget_switch(struct vpc_switch *sw);
void vpc_upcall_forget_port(struct vpc_port *p);

/*
 * What the switch answers itself (vpc_responder.c): true if it took the
 * frame.  in: the caller's storage for the responder's view of it (vpc_l3.h);
 * when the frame is not taken, in->ip_ok says in->ip holds a well-formed
 * parse of its IP header, which the caller may pass on (vpc_frame.h).
 */
struct vpc_l3in;
bool vpc_responder_input(struct vpc_switch *sw, struct vpc_port *port,
         struct vpc_nic *nic, struct vpc_pkt *p, const struct vpc_frame *f,
         struct vpc_l3in *in);

/* A held ARP/NS goes through the responder again after its answer
 * (vpc_responder.c; the ingress port may be dead). */
void vpc_l3_reinject(struct vpc_switch *sw, struct vpc_port *in,
         struct vpc_pkt *p);
/* Tell the local vmnics that (af, addr) now has mac (vpc_arp.c, vpc_nd.c):
 * a gratuitous ARP or an unsolicited NA to each; in the epoch, no lock. */
void vpc_arp_announce(struct vpc_switch *sw, const uint8_t addr[4],
         const uint8_t mac[6]);
void vpc_nd_announce(struct vpc_switch *sw, const uint8_t addr[16],
         const uint8_t mac[6]);

/* The router (vpc_router.c): a switch's subnet or VNI changed (its
 * connected routes follow); its router port goes away (detached). */
void vpc_router_switch_changed(struct vpc_switch *sw);
void vpc_router_port_gone(struct vpc_port *p);
/* Is addr in one of the router's attached subnets?  (ctl) */
bool vpc_router_holds(const struct vpc_router *rtr, uint8_t af,
         const uint8_t *addr);
/* Its NAT goes away (killed): INTERNET routes lead nowhere now. */
void vpc_router_nat_gone(struct vpc_router *rtr);
/* The NAT data path (vpc_natgw_path.c), in the epoch; both consume p.
 * Out: a routed IPv4 packet (TTL taken) at l3off of an Ethernet frame. */
void vpc_natgw_output(struct vpc_natgw *ng, struct vpc_pkt *p, uint32_t l3off);
/* In: IPv4 from the link for one of the NAT's addresses (f its frame);
 * true if taken (translated and delivered, or dropped and counted); false:
 * not for it, *pp to go on to the node (NULL: gone, no memory). */
struct vpc_frame;
bool vpc_natgw_input(struct vpc_natgw *ng, struct vpc_pkt **pp,
         const struct vpc_frame *f);
/* The NAT stops using its link / the link goes (ctl). */
void vpc_natgw_link_gone(struct vpc_natgw *ng);
/* Send a gratuitous ARP for ext out of the NAT's link, if bound (ctl). */
void vpc_natgw_announce(struct vpc_natgw *ng, const uint8_t ext[4]);
/* The NAT got a link, or its link was bound again (ctl): a gratuitous ARP
 * for each of its addresses (EIPs, then pools), the upstream asked anew. */
void vpc_natgw_link_up(struct vpc_natgw *ng);
/* The upstream by ARP (vpc_natgw_arp.c).  Where to send a translated frame
 * now: the configured MAC, else the resolved one (asking again when it is
 * old); 0: nowhere yet (a request went out if one was due).  Epoch. */
uint64_t vpc_natgw_upstream(struct vpc_natgw *ng, struct vpc_link *l);
/* An ARP frame (arp: its 28 bytes) from the link: learned if it is the
 * upstream's answer to the NAT (or its question to one of the NAT's
 * addresses); true if it was a reply to the NAT (taken).  Epoch. */
bool vpc_natgw_arp_input(struct vpc_natgw *ng, struct vpc_link *l,
         const uint8_t arp[28]);
/* A new upstream address (0: none): forget what was learned and, if the
 * link is bound and the NAT has an address to ask from, ask now (ctl). */
void vpc_natgw_arp_set(struct vpc_natgw *ng, uint32_t ip);
/* Ask now if the upstream is by address, not resolved, the link bound and
 * the NAT has an address to ask from (ctl: a link or an address came). */
void vpc_natgw_arp_kick(struct vpc_natgw *ng);
/* Another link (or the link bound again, maybe elsewhere): forget the
 * upstream's MAC and ask again (ctl). */
void vpc_natgw_arp_reset(struct vpc_natgw *ng);
/* An ARP frame (vpc_arp.c): Ethernet dst, op, sender and target. */
struct vpc_pkt *vpc_arp_build(const uint8_t eth_dst[6], uint16_t op,
         const uint8_t sha[6], const uint8_t spa[4], const uint8_t tha[6],
         const uint8_t tpa[4]);
/* Custom routes (vpc_router.c) as the staged replace needs them: the check
 * ROUTE_SET makes (set: against the attachments of now), route equality and
 * its hash, and installing a whole checked set (0, or ENOMEM: unchanged). */
int  vpc_rt_check(const struct vpc_router *rtr, const vpc_rt_route_t *r, bool set);
bool vpc_rt_same(const vpc_rt_route_t *a, const vpc_rt_route_t *b);
uint32_t vpc_rt_hash(const struct vpc_router *rtr, const vpc_rt_route_t *r);
int  vpc_rtr_install_custom(struct vpc_router *rtr, vpc_rt_route_t *c,
         uint32_t n, uint32_t cap);
/* The staged replace (vpc_router_stage.c): free the router's stage (if
 * any); the handle that owns it. */
void vpc_rt_stage_free(struct vpc_router *rtr);
const struct vpc_hdl *vpc_rt_stage_owner(const struct vpc_router *rtr);
void vpc_rt_stage_check(const struct vpc_router *rtr, struct vpc_check *c);
/* Route lookup in the epoch: the best route for (af, addr), or NULL. */
const struct vpc_rt *vpc_rtable_lookup(const struct vpc_rtable *t, uint8_t af,
         const uint8_t addr[16]);
/* The data path (vpc_router_fwd.c): a frame off sw's subnet, from the vmnic
 * behind port in, to the router plugged into sw's router port. */
void vpc_router_input(struct vpc_router *rtr, struct vpc_switch *sw,
         struct vpc_port *in, struct vpc_pkt *p, const struct vpc_frame *f);
/* A routed frame held for sw's L3 upcall: routed again after the answer. */
void vpc_router_reinject(struct vpc_switch *sw, struct vpc_port *rport,
         struct vpc_pkt *p);
/* What the router needs of the switch's data path (vpc_fwd.c). */
void vpc_fwd_deliver(struct vpc_switch *sw, struct vpc_port *to, struct vpc_pkt *p);
/* f is the caller's own copy, rewritten as the frame is: taken as is (its
 * parse of the IP header dropped, the frame having changed). */
void vpc_fwd_routed(struct vpc_switch *sw, struct vpc_port *rport,
         struct vpc_pkt *p, struct vpc_frame *f);

/* Forwarding (vpc_fwd.c), all in the epoch; every path consumes the packet. */
void vpc_fwd_from_underlay(struct vpc_switch *sw, struct vpc_pkt *p);
/* Send what b gathered (struct vpc_txbatch, vpc_core.h) and count it. */
void vpc_txbatch_flush(struct vpc_txbatch *b);
/* vpc_nic_input, its underlay sends gathered in b (NULL: sent at once). */
void vpc_nic_input_tx(struct vpc_nic *nic, struct vpc_pkt *p,
         struct vpc_txbatch *b);

/* A held frame goes out after its answer (ingress port may be dead); to
 * the underlay through b when b is not NULL (flushed by the caller). */
void vpc_fwd_reinject(struct vpc_switch *sw, struct vpc_port *in,
         struct vpc_pkt *p, struct vpc_txbatch *b);

/*
 * The port firewall (vpc_fw.c).  vpc_fw_filter runs in the epoch with no
 * lock: true if the frame passes, else it was dropped, counted and freed.
 */
struct vpc_fw;
struct vpc_portfw;
struct vpc_fwrules;
int  vpc_fw_create(struct vpc_sys *sys);
void vpc_fw_destroy(struct vpc_sys *sys);
bool vpc_fw_has_sets(struct vpc_sys *sys);
void vpc_fw_drop_sets(struct vpc_sys *sys);
bool vpc_fw_filter(struct vpc_switch *sw, struct vpc_port *port,
         const struct vpc_portfw *pf, uint8_t dir, struct vpc_pkt *p,
         const struct vpc_frame *f);
int  vpc_fw_port_prepare(struct vpc_sys *sys, uint64_t flags, uint32_t in_id,
         uint32_t out_id, struct vpc_portfw **out);
void vpc_fw_port_discard(struct vpc_portfw *pf);
void vpc_fw_port_apply(struct vpc_port *p, struct vpc_portfw *pf);
void vpc_fw_port_describe(const struct vpc_port *p, vpc_swport_t *out);
void vpc_fw_count_refs(struct vpc_sys *sys);
void vpc_fw_check(struct vpc_sys *sys, struct vpc_check *c);
void vpc_fw_sweep_all(struct vpc_sys *sys);
uint32_t vpc_fw_buckets(struct vpc_sys *sys);    /* the bench */
/*
 * Hints for a caller with a burst of frames in hand (vpc_fwd_burst.c):
 * prefetches only, in the epoch; they change nothing and promise nothing.
 */
struct vpc_fw_hint {
	const void *bucket;             /* the flow bucket asked for; NULL: none */
	uint16_t    tag;                /* the flow's tag in it */
};
bool vpc_fw_prefetch_pays(const struct vpc_sys *sys);
void vpc_fw_prefetch(struct vpc_switch *sw, const struct vpc_port *port,
         uint8_t dir, const struct vpc_pkt *p, uint32_t l3off,
         uint16_t ethertype, struct vpc_fw_hint *hint);
void vpc_fw_prefetch_flow(const struct vpc_fw_hint *hint);

/* Fragmented datagrams whose first fragment was let through or translated
 * (vpc_fragmem.c): by fingerprint, with one value, for 30 s. */
struct vpc_fragmem;
struct vpc_fragmem *vpc_fragmem_create(void);
void vpc_fragmem_destroy(struct vpc_fragmem *t);
void vpc_fragmem_remember(struct vpc_fragmem *t, uint64_t fp, uint64_t now,
         uint32_t value);
bool vpc_fragmem_find(const struct vpc_fragmem *t, uint64_t fp, uint64_t now,
         uint32_t *value);

extern const size_t vpc_fw_flow_size;   /* bytes of one flow entry */
int  vpc_fw_compile(struct vpc_sys *sys, const vpc_fw_rule_t *rules, uint32_t n,
         struct vpc_fwrules **out);
struct vpc_port *vpc_port_lookup(struct vpc_switch *sw, const vpc_id_t *id);

/* ---- Ops ------------------------------------------------------------------ */

struct vpc_ctx {
	struct vpc_sys        *sys;
	const struct vpc_call *call;
	struct vpc_hdl        *hdl;
	struct vpc_obj        *obj;     /* NULL for VPC_HANDLE_NONE */
	const void            *key;
	size_t                 keylen;
	void                  *val;
	size_t                 vallen;  /* in: usable; out: written or needed */
	/* Held frames to send once the control lock is dropped (answers). */
	struct vpc_after {
		struct vpc_switch *sw;
		struct vpc_port   *in;
		struct vpc_pkt    *pkts;        /* NULL: an announcement */
		uint8_t            what;        /* VPC_AFTER_* */
		uint8_t            af;          /* ANNOUNCE: the address... */
		uint8_t            mac[6];      /* ...now has this MAC */
		uint8_t            addr[16];
	}                     *after;
	uint32_t               nafter, nafter_cap;
};

#define VPC_AFTER_FORWARD   0   /* held frames of an L2 miss: forward them */
#define VPC_AFTER_RESPOND   1   /* a held ARP/NS: through the responder again */
#define VPC_AFTER_ANNOUNCE  2   /* tell local vmnics an address's new MAC */
/* Room for n more deferred actions in x->after (may sleep). */
int vpc_after_reserve(struct vpc_ctx *x, uint32_t n);

typedef int vpc_opfn_t(struct vpc_ctx *x);

/* Handlers, grouped by the file that implements them. */
vpc_opfn_t vpc_op_nop, vpc_op_get_txn, vpc_op_commit, vpc_op_destroy,
    vpc_op_get_type, vpc_op_get_id, vpc_op_get_info;                /* vpc_obj_ops.c */
vpc_opfn_t vpc_op_sys_list, vpc_op_sys_stats;                       /* vpc_sys.c */
vpc_opfn_t vpc_op_sys_check;                                        /* vpc_check.c */
vpc_opfn_t vpc_op_nic_set_mac, vpc_op_nic_get_mac;                  /* vpc_nic.c */
vpc_opfn_t vpc_op_nic_set_ifname, vpc_op_nic_get_ifname;            /* vpc_nic.c */
vpc_opfn_t vpc_op_nic_set_mtu, vpc_op_nic_get_mtu;                  /* vpc_nic.c */
vpc_opfn_t vpc_op_nic_set_addr, vpc_op_nic_get_addr, vpc_op_nic_set_dhcp,
    vpc_op_nic_get_dhcp;                                            /* vpc_nic_l3.c */
vpc_opfn_t vpc_op_sw_set_gateway, vpc_op_sw_get_gateway, vpc_op_sw_set_policy,
    vpc_op_sw_get_policy;                                           /* vpc_gwcfg.c */
vpc_opfn_t vpc_op_sw_get_port_count, vpc_op_sw_set_vni, vpc_op_sw_get_vni,
    vpc_op_sw_set_subnet, vpc_op_sw_get_subnet, vpc_op_sw_get_stats; /* vpc_switch.c */
vpc_opfn_t vpc_op_sw_add_port, vpc_op_sw_del_port, vpc_op_sw_get_port,
    vpc_op_sw_list_ports;                                           /* vpc_port.c */
vpc_opfn_t vpc_op_sw_cam_set, vpc_op_sw_cam_get, vpc_op_sw_cam_del, vpc_op_sw_cam_flush,
    vpc_op_sw_cam_dump;                                                /* vpc_cam_ops.c */
vpc_opfn_t vpc_op_sw_nbr_set, vpc_op_sw_nbr_get, vpc_op_sw_nbr_del, vpc_op_sw_nbr_flush,
    vpc_op_sw_nbr_dump;                                             /* vpc_nbr_ops.c */
vpc_opfn_t vpc_op_vcc_set, vpc_op_vcc_get, vpc_op_vcc_get_stats;    /* vpc_vcc.c */
vpc_opfn_t vpc_op_sys_upcall_answer, vpc_op_sys_upcall_stats;               /* vpc_upcall.c */
vpc_opfn_t vpc_op_sys_agent_event;                                      /* vpc_agent_event.c */
vpc_opfn_t vpc_op_rtr_attach, vpc_op_rtr_detach, vpc_op_rtr_list_attach,
    vpc_op_rtr_route_set, vpc_op_rtr_route_del, vpc_op_rtr_route_get,
    vpc_op_rtr_route_lookup, vpc_op_rtr_route_dump, vpc_op_rtr_route_replace,
    vpc_op_rtr_get_stats, vpc_op_rtr_set_nat, vpc_op_rtr_get_nat;   /* vpc_router.c */
vpc_opfn_t vpc_op_rtr_stage_begin, vpc_op_rtr_stage_append,
    vpc_op_rtr_stage_commit, vpc_op_rtr_stage_abort;           /* vpc_router_stage.c */
vpc_opfn_t vpc_op_link_set, vpc_op_link_get, vpc_op_link_get_stats; /* vpc_link.c */
vpc_opfn_t vpc_op_nat_set_config, vpc_op_nat_get_config, vpc_op_nat_set_link,
    vpc_op_nat_get_link, vpc_op_nat_get_stats;                      /* vpc_natgw.c */
vpc_opfn_t vpc_op_nat_get_upstream;                             /* vpc_natgw_arp.c */
vpc_opfn_t vpc_op_nat_eip_bind, vpc_op_nat_eip_unbind, vpc_op_nat_eip_list,
    vpc_op_nat_pool_add, vpc_op_nat_pool_del, vpc_op_nat_snat_bind,
    vpc_op_nat_snat_unbind, vpc_op_nat_snat_get, vpc_op_nat_flow_dump; /* vpc_natgw_ops.c */
vpc_opfn_t vpc_op_fw_set_create, vpc_op_fw_set_destroy, vpc_op_fw_set_rules,
    vpc_op_fw_set_flush, vpc_op_fw_set_get, vpc_op_fw_set_modify,
    vpc_op_fw_set_list, vpc_op_fw_rule_dump, vpc_op_fw_set_config,
    vpc_op_fw_get_config, vpc_op_sw_port_set_fw, vpc_op_sw_fw_flows;   /* vpc_fw.c */

#endif /* _VPC_IMPL_H_ */
