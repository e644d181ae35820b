/*
 * vpc.h: the one ABI header of vpc.
 *
 * Everything userland sees of the kernel module (and of the host kernel,
 * which implements the very same ABI over a local socket) is declared here:
 * the two entry points, every type, constant, op and struct.  The layouts are
 * fixed: explicit padding, fixed-width fields, no host pointers, and a
 * _Static_assert on the size of every struct, so that C, the FreeBSD kernel
 * and koffi (src/ffi) agree byte for byte on amd64 and arm64 alike.
 *
 * Choices made where the seed (shared/seed-vpc-architecture.md) was open or
 * inconsistent; each is also in docs/abi.md:
 *  - vpc_open() returns a handle >= 0, or -1 with errno (0 is a valid handle).
 *  - vpc_ctl() follows the seed's prototype, not its snippets:
 *    (h, op, keylen, key, *vallen, buf).  *vallen is in/out.
 *  - The seed's struct members are spelled `txn_t`, its snippets `.txn`: both
 *    names are accepted (an anonymous union), so both seed spellings compile.
 *  - vpc_id_t is 16 bytes in RFC 4122 byte order (what uuid.parse() gives),
 *    not struct uuid with host-order fields.
 *  - vpc_type_t is a plain uint64_t "type word" built with VPC_TYPE_WORD():
 *    version in bits 0-3, object type in bits 8-15, every other bit zero.
 *  - vni and vlan_id are unsigned and range-checked; the seed's two `void *`
 *    members of vpc_swport_t are uint32_t firewall table/ruleset ids.
 *  - Errors are the OS's errno values; the host kernel reports FreeBSD's
 *    numbers on its wire and libvpc translates them to the local errno.
 */
#ifndef _VPC_H_
#define _VPC_H_

#if defined(_KERNEL)
#include <sys/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#define VPC_ABI_VERSION 1

/* ---- Basic types ------------------------------------------------------ */

typedef int32_t  vpc_handle_t;  /* a descriptor: >= 0, or VPC_HANDLE_NONE */
typedef uint64_t vpc_type_t;    /* type word, see VPC_TYPE_WORD() */
typedef uint64_t vpc_flags_t;   /* VPC_FLAG_* for vpc_open() */
typedef uint32_t vpc_op_t;      /* VPC_OP_* */
typedef int32_t  vpc_txn_t;     /* transaction token; 0 = unconditional */
typedef uint64_t vpc_swp_flags_t; /* VPC_FLAG_SWP_* */

/* Object ids are UUIDs, 16 bytes in RFC 4122 (network) byte order. */
typedef struct {
	uint8_t bytes[16];
} vpc_id_t;

/*
 * Global ops (VPC_OP_SYS_*) take no object: pass VPC_HANDLE_NONE.  On FreeBSD
 * that is simply a descriptor number no file can have.
 */
#define VPC_HANDLE_NONE ((vpc_handle_t)-1)

/* ---- Object types (the seed's values, VCC added as 7) ----------------- */

#define VPC_TYPE_UNSET  0
#define VPC_TYPE_NIC    1       /* vmnic: a VM's NIC */
#define VPC_TYPE_SWITCH 2       /* vpcsw: a virtual switch carrying one VNI */
#define VPC_TYPE_SWPORT 3       /* vpcp: a switch port (made by SW_ADD_PORT) */
#define VPC_TYPE_ROUTER 4       /* vpcr: reserved, EOPNOTSUPP for now */
#define VPC_TYPE_NAT    5       /* vpcnat: reserved, EOPNOTSUPP for now */
#define VPC_TYPE_LINK   6       /* vpclink: reserved, EOPNOTSUPP for now */
#define VPC_TYPE_VCC    7       /* vcc: the node's VXLAN underlay endpoint */
#define VPC_TYPE_MAX    7

/*
 * The type word: {version:4, pad:4, obj_type:8, pad:48}, which is what the
 * seed's bitfield compiles to on little-endian amd64.  Built with a macro so
 * no caller needs bitfields (koffi has none).  Nonzero pad bits, a version
 * other than VPC_ABI_VERSION or an unknown object type give EINVAL; so does a
 * bare VPC_TYPE_NIC passed as the word (it decodes to object type 0).
 */
#define VPC_TYPE_WORD(objtype) \
	((vpc_type_t)VPC_ABI_VERSION | ((vpc_type_t)(objtype) & 0xff) << 8)
#define VPC_TYPE_WORD_VERSION(w)  ((unsigned)((w) & 0xf))
#define VPC_TYPE_WORD_OBJTYPE(w)  ((unsigned)(((w) >> 8) & 0xff))
#define VPC_TYPE_WORD_PADMASK     (~(vpc_type_t)0xff0f)

/* ---- vpc_open() flags: exactly one of these three -------------------- */

#define VPC_FLAG_DEFAULT (1 << 0)  /* open the object, creating it if absent */
#define VPC_FLAG_CREATE  (1 << 1)  /* create; EEXIST if the id is in use */
#define VPC_FLAG_OPEN    (1 << 2)  /* open; ENOENT if no such object */

/* ---- Limits ------------------------------------------------------------ */

#define VPC_CTL_MAX_KEYLEN   (64 * 1024)  /* larger keylen: E2BIG, before any allocation */
#define VPC_CTL_MAX_VALLEN   (128 * 1024) /* a larger value buffer is used up to this */
#define VPC_VNI_MAX          0xffffffu    /* 2^24 - 1 */
#define VPC_VNI_NONE         0xffffffffu  /* "no VNI configured yet" */
#define VPC_VLAN_MIN         1
#define VPC_VLAN_MAX         4094
#define VPC_SW_MAX_PORTS     4096         /* per switch; ENOSPC beyond */
#define VPC_CAM_BATCH_MAX    256          /* entries per CAM_SET/CAM_DEL call */
#define VPC_CAM_TTL_MAX_MS   (24u * 3600u * 1000u) /* one day; larger: ERANGE */
#define VPC_VXLAN_PORT       4789
#define VPC_IFNAMSIZ         16

/* ---- Ops ---------------------------------------------------------------
 *
 * vpc_ctl(h, op, keylen, key, vallen, buf): the key is what the caller sends,
 * the value is what comes back (*vallen in: buffer size; out: bytes written).
 * Every op states the exact sizes it takes; a fixed-size op given any other
 * keylen or *vallen fails with EINVAL before a byte is read.  An op that does
 * not apply to the handle's object type gives ENOTTY; a closed or foreign
 * handle EBADF; a handle whose object was destroyed EIDRM.  A mutating op
 * whose key carries a token (txn) fails with ESTALE when someone else changed
 * the object since that token was issued.  Ops marked "priv" need privilege
 * (EPERM).  Errnos listed per op are in addition to these.
 */

/* Any handle (or VPC_HANDLE_NONE).  key: none.  val: none. */
#define VPC_OP_NOP              0
/* Any object.  key: none.  val: vpc_txn_t (out): a fresh token. */
#define VPC_OP_GET_TXN          1
/* NIC, priv.  key: vpc_vmnic_t {txn, mac}.  val: none.
 * EINVAL: multicast or all-zero MAC; EEXIST: another NIC on the same switch
 * already has this MAC. */
#define VPC_OP_NIC_SET_MAC      2
/* NIC.  key: none.  val: vpc_vmnic_t (out; txn is 0). */
#define VPC_OP_NIC_GET_MAC      3
/* NIC, SWITCH or VCC, priv.  key: vpc_txn_t.  val: none.  The object now
 * outlives its handles.  EALREADY: already committed. */
#define VPC_OP_COMMIT           4
/* NIC, SWITCH, SWPORT or VCC, priv.  key: vpc_txn_t.  val: none.  Removes the
 * object (a switch takes its ports along; a port takes a vmnic it created).
 * Other handles to it then get EIDRM.  EBUSY: a vmnic or vcc still plugged
 * into a switch port. */
#define VPC_OP_DESTROY          5
/* Any object.  key: none.  val: vpc_type_t (out): the type word. */
#define VPC_OP_GET_TYPE         6
/* Any object.  key: none.  val: vpc_id_t (out). */
#define VPC_OP_GET_ID           7
/* Any object.  key: none.  val: vpc_obj_info_t (out). */
#define VPC_OP_GET_INFO         8

/* SWITCH.  key: none.  val: vpc_switch_t (out). */
#define VPC_OP_SW_GET_PORT_COUNT 16
/* SWITCH, priv.  key: vpc_swport_t (request).  val: vpc_swport_t (result:
 * port id, flags, the vmnic's MAC, and a new descriptor when
 * VPC_FLAG_SWP_DESCRIPTOR was asked).
 * EINVAL: not exactly one kind flag, VLAN outside 1-4094, VNI >= 2^24 or
 * unlike the switch's, a value without its flag, a descriptor asked for a
 * non-vmnic port, a bad MAC; EEXIST: a second uplink or router, or port_id
 * in use; ENOENT: peer_id names no object; EBUSY: that vmnic/vcc is already
 * plugged in; ENOSPC: VPC_SW_MAX_PORTS reached; EOPNOTSUPP: firewall ids or
 * flags (no firewall yet), a router peer (no routers yet). */
#define VPC_OP_SW_ADD_PORT      17
/* SWITCH, priv.  key: vpc_swport_ref_t {txn, port_id}.  val: none.
 * ENOENT: no such port on this switch. */
#define VPC_OP_SW_DEL_PORT      18
/* SWITCH.  key: vpc_swport_ref_t (txn ignored).  val: vpc_swport_t (out).
 * ENOENT: no such port on this switch. */
#define VPC_OP_SW_GET_PORT      19
/* SWITCH, priv.  key: vpc_sw_vni_t {txn, vni}.  val: none.
 * EINVAL: vni > VPC_VNI_MAX; EEXIST: another switch carries that VNI. */
#define VPC_OP_SW_SET_VNI       20
/* SWITCH.  key: none.  val: vpc_sw_vni_t (out; VPC_VNI_NONE when unset). */
#define VPC_OP_SW_GET_VNI       21
/* SWITCH.  key: vpc_list_req_t (obj_type ignored; marker = 0 or the last
 * port's serial).  val: array of vpc_swport_t (out), as many as fit. */
#define VPC_OP_SW_LIST_PORTS    22

/* VPC_HANDLE_NONE.  key: vpc_list_req_t {obj_type or 0 for all, marker}.
 * val: array of vpc_obj_info_t in creation order after the marker, as many as
 * fit.  ERANGE (with *vallen = bytes needed for the rest) when not even one
 * fits.  A restarted orchestrator finds what it committed with this. */
#define VPC_OP_SYS_LIST         64
/* VPC_HANDLE_NONE.  key: none.  val: vpc_sys_stats_t (out). */
#define VPC_OP_SYS_STATS        65

/* ---- Switch port flags (the seed's values) ---------------------------- */

#define VPC_FLAG_SWP_DEFAULT    (1 << 0)  /* the seed's "no options": ignored */
#define VPC_FLAG_SWP_UPLINK     (1 << 1)  /* kind: uplink (to a vcc) */
#define VPC_FLAG_SWP_ROUTER     (1 << 2)  /* kind: router */
#define VPC_FLAG_SWP_VMNIC      (1 << 3)  /* kind: vmnic */
#define VPC_FLAG_SWP_VLAN_ID    (1 << 4)  /* vlan_id is set */
#define VPC_FLAG_SWP_VNI        (1 << 5)  /* vni is set */
#define VPC_FLAG_SWP_FW_EGRESS  (1 << 6)  /* reserved: EOPNOTSUPP */
#define VPC_FLAG_SWP_FW_INGRESS (1 << 7)  /* reserved: EOPNOTSUPP */
#define VPC_FLAG_SWP_DESCRIPTOR (1 << 8)  /* return a descriptor for the vmnic */
#define VPC_FLAG_SWP_KINDS \
	(VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_ROUTER | VPC_FLAG_SWP_VMNIC)
#define VPC_FLAG_SWP_ALL        0x1ff

/* ---- Structs ------------------------------------------------------------ */

/* The token field: the seed's structs say `txn_t`, its examples `.txn`. */
#define VPC_TXN_FIELD union { vpc_txn_t txn_t; vpc_txn_t txn; }

/* NIC_SET_MAC key, NIC_GET_MAC value. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  mac[6];
	uint8_t  _pad0[2];
} vpc_vmnic_t;

/* SW_GET_PORT_COUNT value. */
typedef struct {
	VPC_TXN_FIELD;                  /* out: 0 */
	int32_t      num_ports;         /* all ports: uplink, router, vmnic */
	vpc_handle_t vpcpd;             /* out: VPC_HANDLE_NONE (reserved) */
	uint32_t     vni;               /* VPC_VNI_NONE when unset */
	uint8_t      has_uplink;
	uint8_t      has_router;
	uint8_t      _pad0[6];
} vpc_switch_t;

/*
 * SW_ADD_PORT key and result, SW_GET_PORT / SW_LIST_PORTS value.  The seed's
 * members in the seed's order, then what a port needs to be named:
 *  - port_id: zero to let the switch pick one, or the caller's own id (so a
 *    retried add is idempotent: it meets EEXIST instead of adding twice);
 *  - peer_id: what plugs into the port.  vmnic port: an existing NIC, or zero
 *    to have the port create (and own) a new one; uplink: a VCC or zero;
 *    router: zero until routers exist.
 */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  smac[6];               /* vmnic port: the vmnic's MAC */
	uint8_t  _pad0[2];
	uint32_t vni;                   /* with VPC_FLAG_SWP_VNI */
	uint16_t vlan_id;               /* with VPC_FLAG_SWP_VLAN_ID: 1-4094 */
	uint8_t  _pad1[2];
	uint32_t fw_state_table;        /* seed: void *; ipfw table id, 0 */
	uint32_t fw_egress_ruleset;     /* seed: void *; ipfw ruleset id, 0 */
	uint8_t  _pad2[4];
	vpc_swp_flags_t flags;
	vpc_handle_t descriptor;        /* out: with VPC_FLAG_SWP_DESCRIPTOR */
	uint8_t  _pad3[4];
	vpc_id_t port_id;
	vpc_id_t peer_id;
	uint64_t serial;                /* out: order of creation (list marker) */
} vpc_swport_t;

/* SW_DEL_PORT / SW_GET_PORT key. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  _pad0[4];
	vpc_id_t port_id;
} vpc_swport_ref_t;

/* SW_SET_VNI key, SW_GET_VNI value. */
typedef struct {
	VPC_TXN_FIELD;
	uint32_t vni;
} vpc_sw_vni_t;

/* SYS_LIST and SW_LIST_PORTS key. */
typedef struct {
	uint8_t  obj_type;              /* VPC_TYPE_*, 0 = every type */
	uint8_t  _pad0[7];
	uint64_t marker;                /* 0, or the serial of the last one seen */
} vpc_list_req_t;

#define VPC_OBJ_COMMITTED  (1u << 0)
#define VPC_OBJ_OWNED      (1u << 1)    /* lives and dies with its parent */
#define VPC_OBJ_PLUGGED    (1u << 2)    /* plugged into a switch port */

/* GET_INFO value; SYS_LIST entries. */
typedef struct {
	vpc_id_t   id;
	vpc_id_t   parent_id;           /* port: its switch; owned vmnic: its port */
	vpc_type_t type;                /* type word */
	uint64_t   generation;          /* bumps on every change */
	uint32_t   flags;               /* VPC_OBJ_* */
	uint32_t   handles;             /* open handles, all processes */
	uint64_t   serial;              /* creation order, the list marker */
} vpc_obj_info_t;

/* SYS_STATS value. */
typedef struct {
	uint64_t objects;               /* live objects, all types */
	uint64_t handles;               /* open handles */
	uint64_t by_type[8];            /* indexed by VPC_TYPE_* */
	uint64_t mem_bytes;             /* bytes the core has allocated now */
	uint64_t mem_allocs;            /* allocations outstanding now */
	uint64_t reserved[4];
} vpc_sys_stats_t;

/* ---- Layout checks ------------------------------------------------------ */

#define VPC_ASSERT_SIZE(t, n) \
	_Static_assert(sizeof(t) == (n), "ABI size of " #t " changed")

VPC_ASSERT_SIZE(vpc_id_t, 16);
VPC_ASSERT_SIZE(vpc_vmnic_t, 12);
VPC_ASSERT_SIZE(vpc_switch_t, 24);
VPC_ASSERT_SIZE(vpc_swport_t, 88);
VPC_ASSERT_SIZE(vpc_swport_ref_t, 24);
VPC_ASSERT_SIZE(vpc_sw_vni_t, 8);
VPC_ASSERT_SIZE(vpc_list_req_t, 16);
VPC_ASSERT_SIZE(vpc_obj_info_t, 64);
VPC_ASSERT_SIZE(vpc_sys_stats_t, 128);
_Static_assert(__builtin_offsetof(vpc_swport_t, flags) == 32, "swport.flags");
_Static_assert(__builtin_offsetof(vpc_swport_t, descriptor) == 40, "swport.descriptor");

/* ---- Entry points ------------------------------------------------------- */

#ifndef _KERNEL
#ifdef __cplusplus
extern "C" {
#endif
/* Returns a handle >= 0, or -1 with errno set. */
vpc_handle_t vpc_open(const vpc_id_t *id, vpc_type_t obj_type, vpc_flags_t flags);
/* Returns 0, or -1 with errno set. */
int vpc_ctl(vpc_handle_t h, vpc_op_t op, size_t keylen, const void *key,
    size_t *vallen, void *buf);
#ifdef __cplusplus
}
#endif
#endif

#endif /* _VPC_H_ */
