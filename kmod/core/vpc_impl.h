/*
 * vpc_impl.h: structures shared by the core's own files.  Nothing outside
 * kmod/core includes this.
 *
 * Concurrency: every control op, every open and close runs under the
 * instance's control lock (sys->ctl, sleepable).  So object lifetimes,
 * handle counts, reference counts, the registry and the port tables change
 * only with that lock held and need no atomics.  The data path never takes
 * the control lock: it reads what it needs inside the epoch, and memory it
 * may be looking at is freed through os_epoch_defer.
 */
#ifndef _VPC_IMPL_H_
#define _VPC_IMPL_H_

#include "vpc_core.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

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
	vpc_id_t        id;
	uint8_t         type;           /* VPC_TYPE_* */
	bool            committed;
	bool            dead;           /* destroyed: handles get EIDRM */
	bool            owned;          /* lives and dies with its parent */
	uint32_t        handles;        /* open handles, all processes */
	uint32_t        refs;           /* handles + links + the registry's */
	uint64_t        serial;         /* creation order */
	uint64_t        gen;            /* bumps on every change */
	/* Transactions (vpc_txn.c). */
	int32_t         txn_issued;     /* last token handed out */
	int32_t         txn_seen;       /* txn_issued at the last change */
	int32_t         txn_last;       /* token the last change was made under */
	struct vpc_obj *parent;         /* port: switch; owned vmnic: port */
	struct vpc_sys *sys;
	struct vpc_obj *hash_next;
	struct vpc_obj *list_prev, *list_next;
	const struct vpc_objops *ops;
	struct os_defer defer;
};

/* What differs per type. */
struct vpc_objops {
	size_t size;                            /* of the containing struct */
	int  (*init)(struct vpc_obj *o);        /* after alloc, may sleep */
	void (*kill)(struct vpc_obj *o);        /* unlink from the graph */
	void (*fini)(struct vpc_obj *o);        /* last ref gone, before free */
	bool (*busy)(const struct vpc_obj *o);  /* refuse DESTROY (EBUSY) */
};

struct vpc_hdl {
	struct vpc_obj *obj;
	bool            priv;
};

/* ---- The instance ------------------------------------------------------- */

struct vpc_sys {
	struct os_sx       *ctl;
	struct vpc_hashkey  hkey;
	struct vpc_obj    **buckets;
	uint32_t            nbuckets;       /* power of two */
	uint64_t            nobjs;
	uint64_t            by_type[VPC_TYPE_MAX + 1];
	uint64_t            nhandles;
	uint64_t            next_serial;
	struct vpc_obj     *list_head, *list_tail;
};

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

/* ---- Types ---------------------------------------------------------------- */

struct vpc_port;

struct vpc_nic {
	struct vpc_obj   obj;
	uint8_t          mac[6];
	struct vpc_port *port;          /* plugged into, or NULL */
	void            *os;            /* the glue's ifnet / TAP */
};

struct vpc_vcc {
	struct vpc_obj   obj;
	struct vpc_port *port;          /* the uplink using it, or NULL */
};

enum vpc_port_kind {
	VPC_PORT_UPLINK = 1,
	VPC_PORT_ROUTER,
	VPC_PORT_VMNIC,
};

struct vpc_port {
	struct vpc_obj     obj;
	struct vpc_switch *sw;
	enum vpc_port_kind kind;
	uint16_t           vlan;        /* 0 = none */
	bool               has_vni;
	struct vpc_obj    *peer;        /* NIC or VCC, referenced; or NULL */
	uint32_t           index;       /* in sw->ports */
};

struct vpc_switch {
	struct vpc_obj    obj;
	uint32_t          vni;          /* VPC_VNI_NONE until set */
	struct vpc_port **ports;        /* dense array, nports used */
	uint32_t          nports;
	uint32_t          cap;
	struct vpc_port  *uplink;
	struct vpc_port  *router;
};

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

extern const struct vpc_objops vpc_nic_ops;
extern const struct vpc_objops vpc_switch_ops;
extern const struct vpc_objops vpc_port_ops;
extern const struct vpc_objops vpc_vcc_ops;

/* Switch/port internals shared with the NIC (vpc_switch.c). */
void vpc_port_unplug_peer(struct vpc_port *p);
int  vpc_switch_check_mac(struct vpc_switch *sw, const struct vpc_nic *except,
         const uint8_t mac[6]);

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
};

typedef int vpc_opfn_t(struct vpc_ctx *x);

/* Handlers, grouped by the file that implements them. */
vpc_opfn_t vpc_op_nop, vpc_op_get_txn, vpc_op_commit, vpc_op_destroy,
    vpc_op_get_type, vpc_op_get_id, vpc_op_get_info;                /* vpc_obj_ops.c */
vpc_opfn_t vpc_op_sys_list, vpc_op_sys_stats;                       /* vpc_sys.c */
vpc_opfn_t vpc_op_nic_set_mac, vpc_op_nic_get_mac;                  /* vpc_nic.c */
vpc_opfn_t vpc_op_sw_port_count, vpc_op_sw_add_port, vpc_op_sw_del_port,
    vpc_op_sw_get_port, vpc_op_sw_set_vni, vpc_op_sw_get_vni,
    vpc_op_sw_list_ports;                                           /* vpc_switch.c */

#endif /* _VPC_IMPL_H_ */
