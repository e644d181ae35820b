/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc.h: the one ABI header of vpc.
 *
 * Everything userland sees of the kernel module (and of the host kernel,
 * which implements the very same ABI over a local socket) is declared here:
 * the two entry points, every type, constant, op and struct.  The layouts are
 * fixed: explicit padding, fixed-width fields, no host pointers, and a
 * _Static_assert on the size of every struct, so that C, the FreeBSD kernel
 * and koffi (src/ffi) agree byte for byte on amd64 and arm64 alike.  The
 * TypeScript side is generated from this header (npm run gen:abi; see
 * docs/abi.md): a struct field needs no second declaration anywhere.
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
 *    numbers (VPC_E*) on its wire and libvpc translates them to the local
 *    errno.
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
/*
 * A 64-bit value the caller must get back exactly, such as an upcall's
 * request id and generation, which an answer echoes.  A JavaScript number
 * stops being exact past 2^53, so the TypeScript bindings carry these as
 * bigint (scripts/gen-abi.ts keys on this type name); other 64-bit fields
 * (counters, sizes) come back as numbers.
 */
typedef uint64_t vpc_exact64_t;

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
#define VPC_TYPE_ROUTER 4       /* vpcr: the distributed router (docs/router.md) */
#define VPC_TYPE_NAT    5       /* vpcnat: EIP and SNAT towards a vpclink (docs/nat.md) */
#define VPC_TYPE_LINK   6       /* vpclink: an Ethernet interface of the node (docs/nat.md) */
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

/* ---- Errors ------------------------------------------------------------
 *
 * The errno numbers of the ABI are FreeBSD's (the glue checks each against
 * <sys/errno.h>).  vpc_open() and vpc_ctl() report them through the local
 * errno (libvpc translates on the host kernel), but numbers inside values,
 * such as the per-answer results of VPC_OP_SYS_UPCALL_ANSWER or the hello of
 * the host's upcall socket, are these on every platform.
 */
#define VPC_EPERM         1
#define VPC_ENOENT        2
#define VPC_ENXIO         6
#define VPC_E2BIG         7
#define VPC_EBADF         9
#define VPC_ENOMEM       12
#define VPC_EACCES       13
#define VPC_EBUSY        16
#define VPC_EEXIST       17
#define VPC_ENODEV       19
#define VPC_EINVAL       22
#define VPC_EMFILE       24
#define VPC_ENOTTY       25
#define VPC_EFBIG        27
#define VPC_ENOSPC       28
#define VPC_ERANGE       34
#define VPC_EAGAIN       35
#define VPC_EALREADY     37
#define VPC_EMSGSIZE     40
#define VPC_EOPNOTSUPP   45
#define VPC_EAFNOSUPPORT 47
#define VPC_EADDRINUSE   48
#define VPC_EADDRNOTAVAIL 49
#define VPC_ENOBUFS      55
#define VPC_ETIMEDOUT    60
#define VPC_ESTALE       70
#define VPC_EIDRM        82
#define VPC_EOVERFLOW    84
#define VPC_EPROTO       92

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
#define VPC_CAM_NEG_TTL_MS   1000         /* negative answers without a TTL */
#define VPC_UPCALL_BATCH_MAX 256          /* answers per SYS_UPCALL_ANSWER */
#define VPC_UPCALL_TIMEOUT_MS 3000        /* an unanswered miss is dropped */
#define VPC_UPCALL_ORPHAN_MS 30000        /* ... while no reader is attached */
#define VPC_HOLD_PER_MISS    64           /* frames held for one pending miss */
#define VPC_HOLD_MAX         8192         /* frames held for all misses */
#define VPC_PENDING_MAX      16384        /* pending misses, all switches: more
                                           * than a 10,000-MAC burst, which the
                                           * reader cannot drain while it lands */

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
/* NIC, SWITCH, ROUTER, VCC, NAT or LINK, priv.  key: vpc_txn_t.  val: none.
 * The object now outlives its handles.  EALREADY: already committed. */
#define VPC_OP_COMMIT           4
/* Any object, priv.  key: vpc_txn_t.  val: none.
 * Removes the object (a switch takes its ports along; a port takes a vmnic
 * it created; a router is detached from every switch and lets go of its
 * NAT first; a NAT lets go of its link).  Other handles to it then get
 * EIDRM.  EBUSY: a vmnic or vcc still plugged into a switch port, a NAT
 * attached to a router (RTR_SET_NAT), a link a NAT uses (NAT_SET_LINK). */
#define VPC_OP_DESTROY          5
/* Any object.  key: none.  val: vpc_type_t (out): the type word. */
#define VPC_OP_GET_TYPE         6
/* Any object.  key: none.  val: vpc_id_t (out). */
#define VPC_OP_GET_ID           7
/* Any object.  key: none.  val: vpc_obj_info_t (out). */
#define VPC_OP_GET_INFO         8
/* NIC, priv.  key: vpc_nic_ifname_t {txn, name}.  val: none.  The name of
 * the vmnic's interface (FreeBSD: the ifnet; host: the TAP device).
 * EINVAL: empty, too long, not NUL-terminated, or characters other than
 * [A-Za-z0-9_.-]; EEXIST: another vmnic has it; EBUSY: the interface exists
 * and cannot be renamed now (it is up, or was moved away). */
#define VPC_OP_NIC_SET_IFNAME   9
/* NIC.  key: none.  val: vpc_nic_ifname_t (out): the name ("" until the
 * interface exists and no name was set). */
#define VPC_OP_NIC_GET_IFNAME   10
/* NIC, priv.  key: vpc_nic_mtu_t {txn, mtu, flags}.  val: none.  The
 * vmnic's MTU (the IP MTU, without the 14-byte Ethernet header); the OS
 * applies it to the interface (host: the TAP; FreeBSD: if_mtu).  mtu 0
 * goes back to the default: what the underlay carries (see
 * vpc_nic_mtu_t).  EINVAL: outside VPC_NIC_MTU_MIN-VPC_NIC_MTU_MAX, flags
 * other than VPC_NIC_MTU_FORCE (or FORCE with mtu 0), nonzero `fit` or
 * padding, or larger than the underlay carries now (`fit`) without
 * VPC_NIC_MTU_FORCE. */
#define VPC_OP_NIC_SET_MTU      11
/* NIC.  key: none.  val: vpc_nic_mtu_t (out): the MTU in effect, how it
 * was chosen (flags) and what the underlay carries (fit). */
#define VPC_OP_NIC_GET_MTU      12

/* SWITCH.  key: none.  val: vpc_switch_t (out). */
#define VPC_OP_SW_GET_PORT_COUNT 16
/* SWITCH, priv.  key: vpc_swport_t (request).  val: vpc_swport_t (result:
 * port id, flags, the vmnic's MAC, and a new descriptor when
 * VPC_FLAG_SWP_DESCRIPTOR was asked).
 * EINVAL: not exactly one kind flag, VLAN outside 1-4094, VNI >= 2^24 or
 * unlike the switch's, a value without its flag, a descriptor asked for a
 * non-vmnic port, a bad MAC; EEXIST: a second uplink or router, or port_id
 * in use; ENOENT: peer_id names no object; EINVAL: a peer of the wrong type
 * (vmnic and router ports take a NIC, the uplink a VCC); EBUSY: that vmnic
 * is already plugged in; ENOSPC: VPC_SW_MAX_PORTS reached; EOPNOTSUPP:
 * firewall ids or flags (no firewall yet). */
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
/* SWITCH, priv.  key: vpc_sw_subnet_t {txn, af, prefixlen, addr}.  val: none.
 * The switch's IPv4 or IPv6 subnet: a frame from a vmnic port for an
 * address outside it goes to the router port (dropped and counted when
 * there is none, or nothing is plugged into it).  prefixlen 0 clears.
 * EAFNOSUPPORT: af not 4 or 6; EINVAL: prefixlen over 32/128, host bits set. */
#define VPC_OP_SW_SET_SUBNET    23
/* SWITCH.  key: vpc_sw_subnet_t (only af read).  val: vpc_sw_subnet_t. */
#define VPC_OP_SW_GET_SUBNET    24
/* SWITCH.  key: none.  val: vpc_sw_stats_t: data-path and miss counters. */
#define VPC_OP_SW_GET_STATS     25

/* Forwarding entries (CAM).  Keyed by (switch, dstmac, srcmac); a zero
 * srcmac matches any source.  CAM changes do not move the switch's
 * generation: they carry no transaction token.
 *
 * SWITCH, priv.  key: 1..VPC_CAM_BATCH_MAX vpc_sw_cam_t.  val:
 * vpc_cam_set_result_t.  Every entry is checked before any is applied:
 * EINVAL for a multicast or zero dstmac, a multicast srcmac, a kind other
 * than REMOTE or NEGATIVE, an address that is zero or has bytes beyond its
 * family, nonzero flags; EAFNOSUPPORT for a family other than 4 or 6;
 * ERANGE for ttl_ms over VPC_CAM_TTL_MAX_MS; EBUSY for a MAC a local port
 * owns; EOPNOTSUPP for REMOTE on a VNI 0 switch (it never sends VXLAN).
 * An entry whose revision is older than the stored one is skipped and
 * counted in `stale`: an old answer racing an invalidation loses. */
#define VPC_OP_SW_CAM_SET       32
/* SWITCH.  key: vpc_cam_key_t.  val: vpc_sw_cam_t (ttl_ms: what is left).
 * ENOENT: no entry, or it expired. */
#define VPC_OP_SW_CAM_GET       33
/* SWITCH, priv.  key: vpc_cam_key_t.  val: none.  ENOENT: no entry;
 * EBUSY: a local port's entry (delete the port instead). */
#define VPC_OP_SW_CAM_DEL       34
/* SWITCH or VPC_HANDLE_NONE, priv.  key: vpc_cam_flush_t {vni}.  val:
 * uint64_t, the entries removed.  On a switch: its entries (vni must be
 * VPC_VNI_ANY or the switch's).  With no handle: every switch carrying vni,
 * or every switch for VPC_VNI_ANY.  Local ports' entries stay. */
#define VPC_OP_SW_CAM_FLUSH     35
/* SWITCH.  key: vpc_list_req_t {marker: 0 or the last entry's cursor}.
 * val: array of vpc_sw_cam_t, as many as fit; empty when done.
 * ERANGE (with *vallen) when not even one fits; ESTALE when the table was
 * resized since the marker was handed out: start again from 0. */
#define VPC_OP_SW_CAM_DUMP      36

/* VCC, priv.  key: vpc_vcc_t.  val: none.  The underlay endpoint's
 * addresses and UDP port; applying it (re)opens the sockets.  The vmnics
 * behind it that follow the default MTU follow its MTU and families.
 * EINVAL: neither address, a multicast/zero address, nonzero padding, a
 * bad l2_ifname; EADDRNOTAVAIL/EADDRINUSE from the OS. */
#define VPC_OP_VCC_SET          48
/* VCC.  key: none.  val: vpc_vcc_t. */
#define VPC_OP_VCC_GET          49
/* VCC.  key: none.  val: vpc_vcc_stats_t. */
#define VPC_OP_VCC_GET_STATS    50

/* VPC_HANDLE_NONE.  key: vpc_list_req_t {obj_type or 0 for all, marker}.
 * val: array of vpc_obj_info_t in creation order after the marker, as many as
 * fit.  ERANGE (with *vallen = bytes needed for the rest) when not even one
 * fits.  A restarted orchestrator finds what it committed with this. */
#define VPC_OP_SYS_LIST         64
/* VPC_HANDLE_NONE.  key: none.  val: vpc_sys_stats_t (out). */
#define VPC_OP_SYS_STATS        65
/* VPC_HANDLE_NONE, priv.  key: 1..VPC_UPCALL_BATCH_MAX vpc_upcall_ans_t.
 * val: one int32_t per answer: 0, or why that answer was refused: ENOENT
 * (no pending request with that id: answered, timed out, or never made),
 * ESTALE (the generation is not the request's current one), EINVAL /
 * EAFNOSUPPORT / ERANGE (bad status, family, address, MAC or TTL; an L2
 * answer with a MAC, an L3 FOUND answer without a unicast one).  Each
 * answer stands alone: a refused one changes nothing, the others still
 * apply.  L2MISS: a FOUND answer installs a REMOTE entry and sends the held
 * frames; a NOT_FOUND answer installs a NEGATIVE entry (ttl_ms, default
 * VPC_CAM_NEG_TTL_MS) and drops them.  L3MISS: a FOUND answer installs the
 * neighbour entry (address -> mac) and, with a VTEP (af not 0) on a VXLAN
 * switch, the REMOTE CAM entry for mac (unless mac is a local vmnic's), then
 * runs the held ARP requests / NSs through the responder again, which
 * answers them; NOT_FOUND installs a NEGATIVE neighbour entry and drops
 * them.  Frames go out after the control lock is dropped. */
#define VPC_OP_SYS_UPCALL_ANSWER 66
/* VPC_HANDLE_NONE.  key: none.  val: vpc_upcall_stats_t. */
#define VPC_OP_SYS_UPCALL_STATS  67
/* VPC_HANDLE_NONE.  key: none.  val: vpc_check_result_t.  Walks the whole
 * object graph checking the core's invariants (a debugging aid: it holds
 * the control lock while it runs). */
#define VPC_OP_SYS_CHECK         68
/* VPC_HANDLE_NONE, priv.  key: vpc_agent_event_t.  val: none.  The upcall
 * agent reports a change of its state (its directory unreachable, or back):
 * the kernel posts it as a lifecycle event (FreeBSD: devctl system "VPC",
 * subsystem "agent", type DEGRADED or RECOVERED, "detail=..."; the host
 * kernel logs it) so that devd(8) and operators hear of it. */
#define VPC_OP_SYS_AGENT_EVENT   69

/* ---- L3: what a guest needs to run with no hand-made configuration ------
 * The VM's own addresses, the switch's gateway and broadcast policy, the
 * neighbour table (IP -> MAC) the switch answers ARP and ND from, and DHCP.
 */

/* NIC, priv.  key: vpc_nic_addr_t.  val: none.  The VM's own IPv4 and IPv6
 * addresses (a family whose flag is clear: none).  The switch answers ARP/ND
 * for them from this node, DHCP offers addr4, and frames from the vmnic with
 * another IP source are dropped (anti-spoofing; only where one is set).
 * EINVAL: an address that is unspecified, multicast, loopback, link-local
 * (IPv6) or limited broadcast, bytes of a family without its flag, flags
 * beyond these two, nonzero padding. */
#define VPC_OP_NIC_SET_ADDR     80
/* NIC.  key: none.  val: vpc_nic_addr_t. */
#define VPC_OP_NIC_GET_ADDR     81
/* NIC, priv.  key: vpc_nic_dhcp_t.  val: none.  The vmnic's DHCPv4 service:
 * the switch answers its DISCOVER/REQUEST/INFORM with NIC_SET_ADDR's addr4,
 * the switch's subnet and gateway, and these options.  EINVAL: counts over
 * their arrays, a DNS server or route gateway that is not a host address, a
 * route with host bits set, a name that is not NUL-terminated printable
 * text, bytes after the names' NUL or in unused entries, nonzero padding. */
#define VPC_OP_NIC_SET_DHCP     82
/* NIC.  key: none.  val: vpc_nic_dhcp_t. */
#define VPC_OP_NIC_GET_DHCP     83
/* SWITCH, priv.  key: vpc_sw_gateway_t.  val: none.  The switch's gateway:
 * the addresses and the MAC it answers ARP/ND/echo/DHCP/RA with.  A family
 * or the MAC whose flag is clear takes the default: the subnet's first host
 * address, and a locally administered MAC derived from the switch's id.
 * EINVAL: an address outside the switch's subnet (or with no subnet of that
 * family), its network or broadcast address, a multicast or zero MAC. */
#define VPC_OP_SW_SET_GATEWAY   84
/* SWITCH.  key: none.  val: vpc_sw_gateway_t (flags: what is explicit;
 * has_*: the family has a subnet, so a gateway). */
#define VPC_OP_SW_GET_GATEWAY   85
/* SWITCH, priv.  key: vpc_sw_policy_t.  val: none.  Broadcast, unknown
 * unicast and multicast handling, the per-vmnic upcall rate limit, router
 * advertisements.  EINVAL: an unknown mode, rates out of range. */
#define VPC_OP_SW_SET_POLICY    86
/* SWITCH.  key: none.  val: vpc_sw_policy_t (defaults filled in). */
#define VPC_OP_SW_GET_POLICY    87

/* The neighbour table: (af, IP) -> MAC per switch, beside the CAM; what the
 * switch answers ARP and neighbour solicitations from.  Like CAM changes,
 * these carry no transaction token. */
/* SWITCH, priv.  key: 1..VPC_NBR_BATCH_MAX vpc_sw_nbr_t.  val:
 * vpc_cam_set_result_t.  Neighbour entries (IP -> MAC), checked as CAM_SET
 * checks its own: all before any is applied; EINVAL for a kind other than
 * FOUND or NEGATIVE, a multicast/zero MAC with FOUND, a MAC with NEGATIVE,
 * an address outside the switch's subnet (or of a family it has no subnet
 * of), an address that is no host's (unspecified, multicast, loopback,
 * IPv4 broadcast, IPv6 v4-mapped), bytes past an IPv4 address, nonzero
 * flags or padding; EAFNOSUPPORT; ERANGE for ttl_ms; EBUSY for an address
 * a local vmnic owns.  Older revisions are skipped and counted in `stale`.
 * An entry that gives an address another MAC than the one local VMs asked
 * for (VPC_NBR_F_USED) makes the switch announce the new MAC to its local
 * vmnics (gratuitous ARP, unsolicited NA). */
#define VPC_OP_SW_NBR_SET       88
/* SWITCH.  key: vpc_nbr_key_t.  val: vpc_sw_nbr_t.  ENOENT: none, or expired;
 * EAFNOSUPPORT; EINVAL: padding, bytes past an IPv4 address. */
#define VPC_OP_SW_NBR_GET       89
/* SWITCH, priv.  key: vpc_nbr_key_t.  val: none.  ENOENT; EBUSY: a local one. */
#define VPC_OP_SW_NBR_DEL       90
/* SWITCH, priv.  key: vpc_cam_flush_t.  val: uint64_t, the entries removed
 * (local vmnics' stay). */
#define VPC_OP_SW_NBR_FLUSH     91
/* SWITCH.  key: vpc_list_req_t.  val: array of vpc_sw_nbr_t, as CAM_DUMP. */
#define VPC_OP_SW_NBR_DUMP      92


/* ---- The router (vpcr): docs/router.md ----------------------------------
 * A router attaches to the router ports of up to VPC_RTR_MAX_ATTACH
 * switches (one router per switch); each attachment's interface is that
 * switch's gateway (addresses and MAC).  Its route table holds the
 * connected routes of its attachments (they come and go with them) and up
 * to VPC_RTR_MAX_ROUTES custom routes.  Every change bumps the router's
 * generation and publishes a whole new table: the data path sees the old
 * table or the new one, never a mix.
 */
/* ROUTER, priv.  key: vpc_rtr_attach_t.  val: none.  Attach the switch
 * switch_id through its router port (which must exist and be empty); the
 * flags VPC_GW_ADDR4/ADDR6/MAC set that switch's gateway first, checked as
 * SW_SET_GATEWAY checks them.  ENOENT: no such switch; ENXIO: the switch
 * has no router port; EEXIST: a router is attached to it already (this one
 * or another); EBUSY: a vmnic is plugged into its router port; ENOSPC:
 * VPC_RTR_MAX_ATTACH attachments; EINVAL: a bad gateway, nonzero padding,
 * unknown flags.  Overlapping subnets are allowed (ties as for any two
 * routes of one prefix: the older wins). */
#define VPC_OP_RTR_ATTACH       96
/* ROUTER, priv.  key: vpc_rtr_attach_t (switch_id only).  val: none.
 * ENOENT: that switch is not attached to this router.  Custom routes
 * through it stay, unusable (their frames get ICMP unreachable), until
 * deleted or it is attached again. */
#define VPC_OP_RTR_DETACH       97
/* ROUTER.  key: none.  val: array of vpc_rtr_attach_t (out: the
 * attachments in attach order, each with its gateway: flags say which
 * families it has, VPC_GW_MAC always). */
#define VPC_OP_RTR_LIST_ATTACH  98
/* ROUTER, priv.  key: vpc_rt_route_t.  val: none.  Add a custom route.
 * EAFNOSUPPORT: af not 4 or 6; EINVAL: prefixlen over 32/128, host bits
 * set, a multicast or unspecified (0.0.0.0/8, ::/8 but for the default
 * route) destination, a target other than SUBNET, NEXTHOP, INTERNET, DROP,
 * class not 0 or CUSTOM, fields the target does not use not zero, a next
 * hop that is no host address or a gateway's, nonzero padding; ENXIO:
 * SUBNET's switch not attached; EADDRNOTAVAIL: the next hop is in no
 * attached subnet; EOPNOTSUPP: INTERNET with no NAT attached (RTR_SET_NAT); EEXIST: the same
 * route (prefix, target, class) is there; ENOSPC: VPC_RTR_MAX_ROUTES. */
#define VPC_OP_RTR_ROUTE_SET    99
/* ROUTER, priv.  key: vpc_rt_route_t.  val: none.  Delete the custom route
 * with exactly this prefix and target; ENOENT otherwise (connected routes
 * go only with their attachment).  EAFNOSUPPORT, EINVAL as ROUTE_SET. */
#define VPC_OP_RTR_ROUTE_DEL    100
/* ROUTER.  key: vpc_rt_route_t (af, prefixlen, prefix; the rest 0).  val:
 * vpc_rt_route_t: the route of that exact prefix the router would use.
 * ENOENT: none. */
#define VPC_OP_RTR_ROUTE_GET    101
/* ROUTER.  key: vpc_rt_route_t (af, prefix = an address, prefixlen 0, the
 * rest 0).  val: vpc_rt_route_t: the route the address matches (longest
 * prefix, then custom over connected, then the oldest).  ENOENT: none. */
#define VPC_OP_RTR_ROUTE_LOOKUP 102
/* ROUTER.  key: vpc_list_req_t {marker: 0 or the last route's serial}.
 * val: array of vpc_rt_route_t in serial order, as many as fit; empty when
 * done.  ERANGE (with *vallen) when not even one fits. */
#define VPC_OP_RTR_ROUTE_DUMP   103
/* ROUTER, priv.  key: 1..n vpc_rt_route_t, n at most what fits in
 * VPC_CTL_MAX_KEYLEN (910 routes; larger keys: E2BIG; a larger table:
 * the staged replace below).  val: none.
 * Replace every custom route with these, atomically: every entry is
 * checked as ROUTE_SET checks one (and duplicates within: EEXIST) before
 * anything changes.  The first entry's txn is the token; the others' must
 * be 0 or the same.  An entry with target VPC_RT_NONE (and nothing else
 * set) stands for "no routes": alone, it clears the custom routes. */
#define VPC_OP_RTR_ROUTE_REPLACE 104
/* ROUTER.  key: none.  val: vpc_rtr_stats_t. */
#define VPC_OP_RTR_GET_STATS    105
/*
 * Staged replace: a custom route table of any size up to
 * VPC_RTR_MAX_ROUTES, loaded in batches (each a ctl call) and swapped in
 * whole by COMMIT, as ROUTE_REPLACE swaps one: readers see the old table or
 * the new one, never a mix; the live table is untouched until then.  One
 * stage per router at a time, owned by the handle that began it (another
 * handle's token is ENOENT); it is freed by ABORT, by COMMIT, when that
 * handle is closed and when the router is destroyed.  The staged routes
 * count against VPC_RTR_MAX_ROUTES as the table they will become.  Every
 * error leaves the stage and the live table as they were.  106-111 are the
 * router's; 110 and 111 are free.
 */
/* ROUTER, priv.  key: vpc_rt_stage_t (txn: 0 or a token, checked now; the
 * rest 0).  val: vpc_rt_stage_t (out: token, the stage's name; nroutes 0).
 * EBUSY: a stage is open on this router (any handle's); ESTALE: txn;
 * EINVAL: nonzero fields. */
#define VPC_OP_RTR_STAGE_BEGIN  106
/* ROUTER, priv.  key: 1..n vpc_rt_route_t (n at most what fits in
 * VPC_CTL_MAX_KEYLEN: 910; larger keys E2BIG), the first entry's serial
 * the stage's token, the others' 0 or the same; txn 0.  val:
 * vpc_rt_stage_t (out: token, nroutes staged in all).  Each entry is
 * checked as ROUTE_SET checks one; EEXIST: the same route twice in the
 * batch or staged already; ENOSPC: the stage would hold more than
 * VPC_RTR_MAX_ROUTES; ENOENT: this handle has no stage of that token.  A
 * refused batch adds nothing. */
#define VPC_OP_RTR_STAGE_APPEND 107
/* ROUTER, priv.  key: vpc_rt_stage_t (txn: checked as ROUTE_REPLACE's;
 * token; nroutes 0).  val: none.  Every custom route becomes the staged
 * ones (none staged: no custom routes), atomically, and the stage is gone.
 * Each is checked again against the attachments of now (the errnos of
 * ROUTE_SET: a switch detached since the append is ENXIO); ESTALE: txn;
 * ENOENT: as APPEND; ENOMEM.  On any error nothing changed, the stage
 * included (commit again, or abort). */
#define VPC_OP_RTR_STAGE_COMMIT 108
/* ROUTER, priv.  key: vpc_rt_stage_t (token; txn and nroutes 0).  val:
 * none.  The stage is dropped; the live table is as it was.  ENOENT: as
 * APPEND. */
#define VPC_OP_RTR_STAGE_ABORT  109
/* ---- Firewall: stateful per-port rule sets (docs/firewall.md) ----------
 * Rule sets are system-level objects named by a uint32_t id (1..2^32-1),
 * not vpc_open objects: they are configuration the ports refer to, like
 * an ipfw ruleset number.  A vmnic port attaches an ingress and an egress
 * set (SW_ADD_PORT with VPC_FLAG_SWP_FW_INGRESS/EGRESS and the ids in
 * fw_state_table (ingress) and fw_egress_ruleset (egress); or
 * SW_PORT_SET_FW).  Several ports may share a set.  All of these ops take
 * VPC_HANDLE_NONE unless said otherwise, and carry no transaction token.
 */
/* VPC_HANDLE_NONE, priv.  key: vpc_fw_set_t {id, flags}.  val: none.
 * EINVAL: id 0, unknown flags, nonzero out fields or padding; EEXIST: the
 * id is in use; ENOSPC: VPC_FW_SETS_MAX sets exist. */
#define VPC_OP_FW_SET_CREATE    112
/* VPC_HANDLE_NONE, priv.  key: vpc_fw_set_ref_t.  val: none.
 * ENOENT: no such set; EBUSY: a port uses it. */
#define VPC_OP_FW_SET_DESTROY   113
/* VPC_HANDLE_NONE, priv.  key: 1..VPC_FW_RULES_MAX vpc_fw_rule_t, every
 * one naming the same set.  val: none.  Replaces the set's rules at once
 * (the generation moves: existing flows are re-evaluated on their next
 * packet).  Every rule is checked before anything changes: EINVAL for a
 * priority over VPC_FW_PRIO_MAX, a direction or action not one of the
 * constants, an unknown protocol kind, ports with a protocol other than
 * TCP/UDP, a port 0 or over 65535, a range whose low end is above its high
 * end, more than VPC_FW_PORTS_MAX ranges, an ICMP code without a type, ICMP
 * fields with another protocol, a CIDR with host bits or a prefix too long
 * for its family, bytes of an unused field, rules naming different sets;
 * ENOENT: no such set, or a REMOTE_SWITCH naming no switch (EINVAL: not a
 * switch). */
#define VPC_OP_FW_SET_RULES     114
/* VPC_HANDLE_NONE, priv.  key: vpc_fw_set_ref_t.  val: none.  The set has
 * no rules now (the generation moves).  ENOENT. */
#define VPC_OP_FW_SET_FLUSH     115
/* VPC_HANDLE_NONE.  key: vpc_fw_set_ref_t.  val: vpc_fw_set_t.  ENOENT. */
#define VPC_OP_FW_SET_GET       116
/* VPC_HANDLE_NONE, priv.  key: vpc_fw_set_t {id, flags}.  val: none.  The
 * set's options (VPC_FW_SET_KEEP_ESTABLISHED).  ENOENT, EINVAL. */
#define VPC_OP_FW_SET_MODIFY    117
/* VPC_HANDLE_NONE.  key: vpc_list_req_t {obj_type 0, marker: 0 or the
 * last id seen}.  val: array of vpc_fw_set_t in id order, as many as fit;
 * ERANGE when not even one fits. */
#define VPC_OP_FW_SET_LIST      118
/* VPC_HANDLE_NONE.  key: vpc_fw_dump_req_t {id, marker: 0 or the last
 * rule's cursor}.  val: array of vpc_fw_rule_t in evaluation order with
 * their hit counters, as many as fit; ERANGE when not even one fits;
 * ESTALE when the rules were replaced since the marker was handed out
 * (the marker carries the generation). */
#define VPC_OP_FW_RULE_DUMP     119
/* VPC_HANDLE_NONE, priv.  key: vpc_fw_config_t.  val: none.  Timeouts and
 * flow limits for every port (0: the default).  EINVAL: a timeout over
 * VPC_FW_TIMEOUT_MAX_S, a limit over VPC_FW_FLOWS_LIMIT, the per-port
 * limit over the total, nonzero out fields. */
#define VPC_OP_FW_SET_CONFIG    120
/* VPC_HANDLE_NONE.  key: none.  val: vpc_fw_config_t (defaults filled in,
 * flows: how many exist now). */
#define VPC_OP_FW_GET_CONFIG    121
/* SWITCH, priv.  key: vpc_sw_port_fw_t.  val: none.  Attach (or detach, a
 * flag clear) a vmnic port's ingress and egress sets.  Flows stay and are
 * re-evaluated on their next packet; a port left with no set loses its
 * flows.  ENOENT: no such port or set; EINVAL: not a vmnic port, an id
 * without its flag or a flag with id 0, other flags, padding. */
#define VPC_OP_SW_PORT_SET_FW   122
/* SWITCH.  key: vpc_fw_flow_req_t {port_id, marker: 0 or the last flow's
 * cursor}.  val: array of vpc_fw_flow_t, as many as fit; empty when done.
 * ENOENT: no such port on this switch; ERANGE: not even one fits. */
#define VPC_OP_SW_FW_FLOWS      123

/* ---- vpclink and vpcnat: the way out (docs/nat.md) ---------------------
 * A link (VPC_TYPE_LINK) binds one Ethernet interface of the node by name
 * (host kernel: an AF_PACKET socket on an interface of vpc-hostd's
 * namespace; FreeBSD: not yet, LINK_SET gives EOPNOTSUPP).  Frames the
 * link does not take (anything but ARP for, and IPv4 to, its NAT's
 * external addresses) are left to the node's own stack untouched.
 * A NAT (VPC_TYPE_NAT) owns one translation engine (EIPs, SNAT pools and
 * bindings, flows), sends what it translates out of its link, and is
 * attached to at most one router (RTR_SET_NAT), whose VPC_RT_INTERNET
 * routes lead to it.  Mutating ops carry a transaction token (ESTALE).
 */
/* LINK, priv.  key: vpc_link_t {txn, ifname}.  val: none.  Bind the link
 * to the interface ifname (its MAC becomes the link's); "" unbinds.
 * EINVAL: a bad name (as NIC_SET_IFNAME), nonzero out fields or padding;
 * ENODEV: no such interface, or not an Ethernet (FreeBSD: or VLAN) one;
 * EBUSY: another link has it (FreeBSD: or it is a bridge's member, in a
 * lagg, or hooked by something else); EALREADY: this link is bound
 * already (unbind first). */
#define VPC_OP_LINK_SET         124
/* LINK.  key: none.  val: vpc_link_t (out: ifname, mac, bound, users). */
#define VPC_OP_LINK_GET         125
/* LINK.  key: none.  val: vpc_link_stats_t. */
#define VPC_OP_LINK_GET_STATS   126
/* NAT.  key: none.  val: vpc_nat_upstream_t.  Where translated frames go
 * now: the upstream's MAC in use (configured, or learned by ARP), and for
 * an upstream given by address, how its resolution stands (docs/nat.md
 * "The upstream"). */
#define VPC_OP_NAT_GET_UPSTREAM 127
/* NAT, priv.  key: vpc_nat_config_t.  val: none.  Flow table size and
 * idle timeouts (0: the defaults of docs/nat.md), the upstream gateway
 * (where translated frames are sent): by MAC (upstream_mac, used as is) or
 * by IPv4 address (upstream_ip, resolved by ARP on the link: docs/nat.md
 * "The upstream"), at most one of the two.  A new max_flows starts a fresh
 * engine: EBUSY unless the NAT has no EIP, pool or binding yet.  EINVAL:
 * max_flows over VPC_NAT_MAX_FLOWS, a timeout over VPC_NAT_TIMEOUT_MAX_S,
 * a multicast upstream MAC, an upstream_ip that is no host's (0/8, 127/8,
 * 224/3), both upstream_mac and upstream_ip, nonzero padding or out
 * fields. */
#define VPC_OP_NAT_SET_CONFIG   128
/* NAT.  key: none.  val: vpc_nat_config_t (defaults filled in; flows: now). */
#define VPC_OP_NAT_GET_CONFIG   129
/* NAT, priv.  key: vpc_nat_link_t {txn, link_id}.  val: none.  The link
 * translated frames go out of and come in from; a nil id detaches.
 * ENOENT: no such object; EINVAL: not a link, padding; EBUSY: another NAT
 * uses that link. */
#define VPC_OP_NAT_SET_LINK     130
/* NAT.  key: none.  val: vpc_nat_link_t (nil: none; router_id: the router
 * it is attached to, or nil). */
#define VPC_OP_NAT_GET_LINK     131
/* NAT, priv.  key: vpc_nat_eip_t {txn, priv, ext}.  val: none.  A 1:1
 * external address for priv.  EINVAL: an address that is no host's (0/8,
 * 127/8, 224/3), padding; EADDRNOTAVAIL: the NAT is attached to no router,
 * or priv is in none of its attached IPv4 subnets; EEXIST: priv has an EIP
 * or an SNAT binding already, or ext is an EIP already; EADDRINUSE: ext is
 * a pool's address; ENOSPC: VPC_NAT_EIPS_MAX.  The node sends a
 * gratuitous ARP for ext on the link. */
#define VPC_OP_NAT_EIP_BIND     132
/* NAT, priv.  key: vpc_nat_eip_t {txn, priv; ext 0 or priv's}.  val: none.
 * Its translation stops at once.  ENOENT: priv has no EIP (or not ext). */
#define VPC_OP_NAT_EIP_UNBIND   133
/* NAT.  key: vpc_list_req_t {marker: 0 or the last one's priv as a
 * big-endian number}.  val: array of vpc_nat_eip_t by private address, as
 * many as fit; empty when done.  ERANGE: not even one fits. */
#define VPC_OP_NAT_EIP_LIST     134
/* NAT, priv.  key: vpc_nat_pool_t {txn, ext, lo, hi, block}.  val: none.
 * An SNAT external address and its ports [lo, hi] in blocks of `block`
 * (all three 0: 1024-65535 in blocks of 1024).  EINVAL: ext no host's,
 * lo 0, lo > hi, block 0 or larger than the range, padding or out fields;
 * EEXIST: that pool exists; EADDRINUSE: ext is an EIP; ENOSPC:
 * VPC_NAT_POOLS_MAX pools.  A gratuitous ARP for ext goes out of the link. */
#define VPC_OP_NAT_POOL_ADD     135
/* NAT, priv.  key: vpc_nat_pool_t {txn, ext; the rest 0}.  val: none.
 * ENOENT: no pool at ext; EBUSY: private addresses are bound to it. */
#define VPC_OP_NAT_POOL_DEL     136
/* NAT, priv.  key: vpc_nat_snat_t {txn, priv, ext; out fields 0}.  val:
 * none.  priv shares the pool at ext: a block of ports per protocol that
 * no other private address gets.  EINVAL, EADDRNOTAVAIL as EIP_BIND;
 * ENOENT: no pool at ext; EEXIST: priv has an EIP or a binding; ENOSPC:
 * no free block in the pool (or VPC_NAT_BINDS_MAX). */
#define VPC_OP_NAT_SNAT_BIND    137
/* NAT, priv.  key: vpc_nat_snat_t {txn, priv; the rest 0}.  val: none.
 * Its flows are gone before this returns.  ENOENT: priv is not bound. */
#define VPC_OP_NAT_SNAT_UNBIND  138
/* NAT.  key: vpc_nat_snat_t {priv; the rest 0}.  val: vpc_nat_snat_t: its
 * pool, its blocks, flows and port-exhaustion drops per protocol.
 * ENOENT: priv is not bound. */
#define VPC_OP_NAT_SNAT_GET     139
/* NAT.  key: vpc_nat_flow_req_t {resume 0: from the start; 1: after the
 * flow with this external key}.  val: array of vpc_nat_flow_t in order of
 * (proto, ext, eport, remote, rport), as many as fit; empty when done.
 * Flows made or gone between calls are seen or not, never twice.  ERANGE:
 * not even one fits; EINVAL: resume not 0 or 1, padding. */
#define VPC_OP_NAT_FLOW_DUMP    140
/* NAT.  key: none.  val: vpc_nat_stats_t. */
#define VPC_OP_NAT_GET_STATS    141
/* ROUTER, priv.  key: vpc_rtr_nat_t {txn, nat_id}.  val: none.  The NAT
 * that the router's VPC_RT_INTERNET routes lead to (without one such
 * routes are EOPNOTSUPP); a nil id detaches it.  ENOENT: no such object;
 * EINVAL: not a NAT, padding; EBUSY: the NAT is attached to another
 * router, or (detaching) INTERNET routes are still there; EEXIST: this
 * router has another NAT attached (detach it first). */
#define VPC_OP_RTR_SET_NAT      142
/* ROUTER.  key: none.  val: vpc_rtr_nat_t (nil: none). */
#define VPC_OP_RTR_GET_NAT      143

/* ---- Switch port flags (the seed's values) ---------------------------- */

#define VPC_FLAG_SWP_DEFAULT    (1 << 0)  /* the seed's "no options": ignored */
#define VPC_FLAG_SWP_UPLINK     (1 << 1)  /* kind: uplink (to a vcc) */
#define VPC_FLAG_SWP_ROUTER     (1 << 2)  /* kind: router */
#define VPC_FLAG_SWP_VMNIC      (1 << 3)  /* kind: vmnic */
#define VPC_FLAG_SWP_VLAN_ID    (1 << 4)  /* vlan_id is set */
#define VPC_FLAG_SWP_VNI        (1 << 5)  /* vni is set */
#define VPC_FLAG_SWP_FW_EGRESS  (1 << 6)  /* vmnic: fw_egress_ruleset is a set id */
#define VPC_FLAG_SWP_FW_INGRESS (1 << 7)  /* vmnic: fw_state_table is the ingress set id */
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
 *    to have the port create (and own) a new one; uplink: a VCC (many
 *    switches' uplinks share one) or zero; router: the router's NIC (until
 *    vpcr objects exist) or zero.
 */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  smac[6];               /* vmnic port: the vmnic's MAC */
	uint8_t  _pad0[2];
	uint32_t vni;                   /* with VPC_FLAG_SWP_VNI */
	uint16_t vlan_id;               /* with VPC_FLAG_SWP_VLAN_ID: 1-4094 */
	uint8_t  _pad1[2];
	uint32_t fw_state_table;        /* seed: void *; with VPC_FLAG_SWP_FW_INGRESS:
	                                 * the ingress rule set's id, else 0 */
	uint32_t fw_egress_ruleset;     /* seed: void *; with VPC_FLAG_SWP_FW_EGRESS:
	                                 * the egress rule set's id, else 0 */
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
	uint64_t conn_refused;          /* host kernel: connections refused at
	                                   its descriptor limit; FreeBSD: 0 */
	uint64_t reserved[3];
} vpc_sys_stats_t;

/* NIC_SET_IFNAME key, NIC_GET_IFNAME value. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  _pad0[4];
	char     name[VPC_IFNAMSIZ];    /* NUL-terminated */
} vpc_nic_ifname_t;

/*
 * NIC_SET_MTU key, NIC_GET_MTU value.
 *
 * The default MTU of a vmnic is a function of where it is plugged in: behind
 * a switch whose uplink is plugged into a configured vcc, it is what fits in
 * one underlay packet, fit = vcc MTU (0 means 1500) - VPC_VXLAN_OVERHEAD4
 * (50: outer IPv4 20, UDP 8, VXLAN 8, inner Ethernet 14), or
 * VPC_VXLAN_OVERHEAD6 (70) when the vcc has an IPv6 address (a vcc with
 * both: the stricter); a VNI 0 switch sends frames raw, fit = vcc MTU.  The
 * default is fit clamped to VPC_NIC_MTU_MIN-VPC_NIC_MTU_MAX; anywhere else
 * (not plugged, no uplink, no vcc or an unconfigured one) it is 1500.  It is
 * recomputed whenever one of those changes.  An MTU set explicitly (mtu != 0)
 * stays as set whatever happens to the underlay.
 */
#define VPC_NIC_MTU_MIN      1280       /* IPv6's minimum link MTU (RFC 8200) */
#define VPC_NIC_MTU_MAX      9000
#define VPC_NIC_MTU_DEFAULT  1500       /* not behind a configured vcc */
#define VPC_VXLAN_OVERHEAD4  50
#define VPC_VXLAN_OVERHEAD6  70
/* set: accept an MTU larger than the underlay carries now; frames to remote
 *      VMs over `fit` are then answered with ICMP too-big or dropped;
 * get: the MTU was set with this flag. */
#define VPC_NIC_MTU_FORCE    0x1
#define VPC_NIC_MTU_AUTO     0x2        /* get: the default, not set explicitly */
typedef struct {
	VPC_TXN_FIELD;
	uint32_t mtu;                   /* set: 0 = the default; get: in effect */
	uint32_t flags;                 /* VPC_NIC_MTU_* */
	uint32_t fit;                   /* get: what the underlay carries now,
	                                 * 0 = not behind a vcc; set: 0 */
} vpc_nic_mtu_t;

#define VPC_AF_INET   4
#define VPC_AF_INET6  6

/* SW_SET_SUBNET key, SW_GET_SUBNET value. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  af;                    /* VPC_AF_INET or VPC_AF_INET6 */
	uint8_t  prefixlen;             /* 0: no subnet */
	uint8_t  _pad0[2];
	uint8_t  addr[16];              /* IPv4 in the first 4 bytes */
} vpc_sw_subnet_t;

/* Switch counters: vpc_sw_stats_t.c[VPC_SWSTAT_*]. */
#define VPC_SWSTAT_RX_FRAMES     0      /* frames in from local ports */
#define VPC_SWSTAT_TX_LOCAL      1      /* frames delivered to local ports */
#define VPC_SWSTAT_TX_REMOTE     2      /* frames encapsulated to the underlay */
#define VPC_SWSTAT_RX_REMOTE     3      /* frames decapsulated from the underlay */
#define VPC_SWSTAT_FLOODED       4      /* broadcast/multicast frames flooded */
#define VPC_SWSTAT_DROP_RUNT     5      /* shorter than an Ethernet header */
#define VPC_SWSTAT_DROP_TAGGED   6      /* 802.1Q-tagged frame from a VM */
#define VPC_SWSTAT_DROP_SPOOF    7      /* source MAC not the vmnic's */
#define VPC_SWSTAT_DROP_NO_ROUTER 8     /* off-subnet with no router plugged */
#define VPC_SWSTAT_DROP_NO_UPLINK 9     /* remote with no uplink/vcc */
#define VPC_SWSTAT_DROP_NEGATIVE 10     /* matched a negative entry */
#define VPC_SWSTAT_DROP_UNKNOWN  11     /* from the underlay to no local MAC */
#define VPC_SWSTAT_DROP_TX       12     /* the OS refused to send */
#define VPC_SWSTAT_MISSES        13     /* frames that missed the CAM */
#define VPC_SWSTAT_UPCALLS       14     /* upcall requests raised */
#define VPC_SWSTAT_DUPS          15     /* misses folded into a pending request */
#define VPC_SWSTAT_HELD          16     /* frames put on a hold queue */
#define VPC_SWSTAT_HOLD_DROPS    17     /* misses dropped: hold queue full */
#define VPC_SWSTAT_LOST          18     /* misses dropped: no room for a request */
#define VPC_SWSTAT_ANSWERS       19     /* answers applied (found or not) */
#define VPC_SWSTAT_NEGATIVE      20     /* of which "not found" */
#define VPC_SWSTAT_TIMEOUTS      21     /* requests that expired unanswered */
#define VPC_SWSTAT_STALE         22     /* answers refused: stale generation */
#define VPC_SWSTAT_RELEASED      23     /* held frames an answer released */
#define VPC_SWSTAT_HELD_DROPPED  24     /* held frames dropped: negative, timeout, gone */
#define VPC_SWSTAT_DROP_HAIRPIN  25     /* destination is the ingress port */
#define VPC_SWSTAT_DROP_REMISS   26     /* released, but the entry was gone again */
#define VPC_SWSTAT_DROP_TOO_BIG  27     /* from a VM, too big for the underlay */
#define VPC_SWSTAT_ICMP_TOO_BIG  28     /* of which answered: ICMP frag needed / ICMPv6 too big */
#define VPC_SWSTAT_ICMP_RATELIMITED 29  /* of which not answered: the rate limit */
#define VPC_SWSTAT_DROP_OVER_MTU 30     /* larger than the destination vmnic's MTU */
#define VPC_SWSTAT_DROP_UNDERLAY_SPOOF 31 /* from the underlay with a local vmnic's,
                                         * a multicast or a zero source MAC */
/*
 * 32-63: address resolution, the gateway, anti-spoofing, BUM policy and the
 * upcall rate limit (vpc_gw.c, vpc_arp.c, vpc_nd.c, vpc_nbr.c).
 */
#define VPC_SWSTAT_DROP_IP_SPOOF 32     /* IP source not the vmnic's address */
#define VPC_SWSTAT_DROP_BUM      33     /* broadcast/multicast the policy drops */
#define VPC_SWSTAT_UPCALL_RATELIMITED 34 /* misses over the vmnic's upcall rate
                                         * (also counted in lost) */
#define VPC_SWSTAT_GW_TO_GATEWAY 35     /* frames for the gateway itself, answered */
#define VPC_SWSTAT_GW_DROP       36     /* for the gateway, nothing it answers */
#define VPC_SWSTAT_ARP_REPLIES   37     /* ARP requests the switch answered */
#define VPC_SWSTAT_ARP_DROP_BAD  38     /* ARP not Ethernet/IPv4 (htype, ptype,
                                         * hlen, plen), truncated, or an unknown op */
#define VPC_SWSTAT_ARP_DROP_SPOOF 39    /* sender MAC not the vmnic's, or sender IP
                                         * not its address */
#define VPC_SWSTAT_ARP_GRATUITOUS 40    /* gratuitous ARP (sender IP = target IP)
                                         * from a VM: not answered, dropped */
#define VPC_SWSTAT_ARP_DROP_REPLY 41    /* ARP replies from a VM for the subnet:
                                         * dropped (the directory answers) */
#define VPC_SWSTAT_ARP_DROP_TARGET 42   /* target no host's: zero, loopback,
                                         * multicast, broadcast */
#define VPC_SWSTAT_ARP_PROBE_QUIET 43   /* probes (sender IP 0) for an address that
                                         * is free or the prober's: no reply */
#define VPC_SWSTAT_NA_REPLIES    44     /* neighbour solicitations answered */
#define VPC_SWSTAT_ND_DROP_BAD   45     /* NS/NA malformed: hop limit, code, length,
                                         * checksum, an option of length 0, a missing
                                         * or bad source link-layer option, a
                                         * destination that is not the target's */
#define VPC_SWSTAT_ND_DROP_SPOOF 46     /* source link-layer option not the vmnic's
                                         * MAC, or an IP source not its own */
#define VPC_SWSTAT_ND_DROP_TARGET 47    /* target multicast, loopback, v4-mapped,
                                         * unspecified */
#define VPC_SWSTAT_ND_DROP_NA    48     /* advertisements from a VM for the subnet:
                                         * dropped (the directory answers) */
#define VPC_SWSTAT_ND_DAD_QUIET  49     /* duplicate address detection for an address
                                         * that is free or the VM's: no reply */
#define VPC_SWSTAT_NBR_NEGATIVE  50     /* ARP/NS for an address known absent (a
                                         * negative entry): no reply */
#define VPC_SWSTAT_GW_OUTSIDE    51     /* ARP/NS for the gateway from a requester
                                         * outside the subnet: dropped */
#define VPC_SWSTAT_L3_MISSES     52     /* ARP/NS that missed the neighbour table
                                         * (also counted in misses) */
#define VPC_SWSTAT_L3_UPCALLS    53     /* L3 upcall requests raised (also in upcalls) */
#define VPC_SWSTAT_L3_ANSWERS    54     /* L3 answers applied (also in answers) */
#define VPC_SWSTAT_L3_NEGATIVE   55     /* of which "not found" (also in negative) */
#define VPC_SWSTAT_NBR_STALE     56     /* neighbour entries not installed: an older
                                         * revision than the stored one */
#define VPC_SWSTAT_NBR_ANNOUNCED 57     /* gratuitous ARPs / unsolicited NAs sent to
                                         * local vmnics: an address moved to another MAC */
#define VPC_SWSTAT_L3_REMISS     58     /* a held ARP/NS released, but its entry
                                         * was gone again: dropped */
/*
 * 64-79: DHCP and router advertisements (vpc_dhcp.c, vpc_ra.c).
 */
#define VPC_SWSTAT_DHCP_OFFER    64     /* DHCPDISCOVERs answered with an OFFER */
#define VPC_SWSTAT_DHCP_ACK      65     /* DHCPREQUESTs and INFORMs answered with an ACK */
#define VPC_SWSTAT_DHCP_NAK      66     /* DHCPREQUESTs answered with a NAK (not the
                                         * vmnic's address) */
#define VPC_SWSTAT_DHCP_DECLINE  67     /* DHCPDECLINEs (the VM found its address in
                                         * use): counted, not answered */
#define VPC_SWSTAT_DHCP_RELEASE  68     /* DHCPRELEASEs: counted, not answered */
#define VPC_SWSTAT_DHCP_NOT_SERVED 69   /* DHCP from a vmnic with no DHCP service (not
                                         * enabled, no IPv4 address, a switch with no
                                         * IPv4 subnet): dropped, never flooded */
#define VPC_SWSTAT_DHCP_MALFORMED 70    /* malformed DHCP (header, magic cookie, options,
                                         * checksums, chaddr): dropped, not answered */
#define VPC_SWSTAT_DHCP_IGNORED  71     /* DHCP for another server or address, BOOTP,
                                         * server messages from a client: dropped */
#define VPC_SWSTAT_DHCP_SNOOPED  72     /* from a VM to UDP port 68 (a DHCP server in
                                         * a VM): dropped */
#define VPC_SWSTAT_RA_SENT       73     /* router advertisements sent (solicited and
                                         * periodic) */
#define VPC_SWSTAT_RA_PERIODIC   74     /* of which unsolicited, from the timer */
#define VPC_SWSTAT_RS_RATELIMITED 75    /* router solicitations over the vmnic's rate:
                                         * not answered */
#define VPC_SWSTAT_RS_MALFORMED  76     /* router solicitations that fail RFC 4861
                                         * 6.1.1's checks: dropped */
#define VPC_SWSTAT_RS_NO_PREFIX  77     /* router solicitations on a switch with no IPv6
                                         * subnet: dropped */
#define VPC_SWSTAT_RA_GUARD      78     /* router advertisements and redirects from a
                                         * VM: dropped (RA guard, RFC 6105) */
/*
 * 79-: the port firewall (vpc_fw.c).
 */
#define VPC_SWSTAT_FW_DENY       79     /* firewall: a new flow a rule (or the default:
                                         * inbound deny) refused, or a flow the new
                                         * rules refuse on re-evaluation */
#define VPC_SWSTAT_FW_INVALID    80     /* firewall: fits no state and cannot start a
                                         * flow (TCP without SYN, bad flags, an IP
                                         * header that does not parse, a later fragment) */
#define VPC_SWSTAT_FW_TABLE_FULL 81     /* firewall: a new flow allowed but the port's
                                         * or the total flow limit was reached */
#define VPC_SWSTAT_FW_FLOWS_NEW  82     /* firewall: flows created */
#define VPC_SWSTAT_COUNT         83

typedef struct {
	uint64_t c[128];
} vpc_sw_stats_t;

#define VPC_CAM_LOCAL     1             /* a local port (out only) */
#define VPC_CAM_REMOTE    2             /* behind a VTEP on the underlay */
#define VPC_CAM_NEGATIVE  3             /* known absent: drop */
#define VPC_CAM_F_USED    0x1           /* out: a frame used it since it was set */

/* A forwarding entry: SW_CAM_SET key, SW_CAM_GET/DUMP value. */
typedef struct {
	uint8_t  srcmac[6];             /* zero: any source */
	uint8_t  dstmac[6];
	uint32_t ttl_ms;                /* 0: static; out: what is left */
	uint32_t vni;                   /* out: the switch's VNI */
	uint8_t  kind;                  /* VPC_CAM_* */
	uint8_t  af;                    /* REMOTE: VPC_AF_INET or VPC_AF_INET6 */
	uint16_t udp_port;              /* REMOTE: 0 = VPC_VXLAN_PORT */
	uint8_t  addr[16];              /* REMOTE: the VTEP; IPv4 in 4 bytes */
	vpc_id_t port_id;               /* LOCAL: the port (out) */
	uint64_t generation;            /* out: order of installation */
	uint64_t revision;              /* directory revision of the mapping */
	uint32_t flags;                 /* in: 0; out: VPC_CAM_F_* */
	uint8_t  _pad0[4];
	uint64_t cursor;                /* out: SW_CAM_DUMP marker after this */
} vpc_sw_cam_t;

/* SW_CAM_GET / SW_CAM_DEL key. */
typedef struct {
	uint8_t  srcmac[6];
	uint8_t  dstmac[6];
	uint8_t  _pad0[4];
} vpc_cam_key_t;

/* SW_CAM_SET value. */
typedef struct {
	uint32_t applied;
	uint32_t stale;                 /* skipped: older revision than stored */
} vpc_cam_set_result_t;

#define VPC_VNI_ANY 0xffffffffu

/* SW_CAM_FLUSH key. */
typedef struct {
	uint32_t vni;                   /* VPC_VNI_ANY, or one VNI */
	uint32_t flags;                 /* must be 0 */
} vpc_cam_flush_t;

/* VCC_SET key, VCC_GET value. */
#define VPC_VCC_INET   0x1              /* addr4 is set */
#define VPC_VCC_INET6  0x2              /* addr6 is set */
typedef struct {
	VPC_TXN_FIELD;
	uint16_t udp_port;              /* 0 = VPC_VXLAN_PORT */
	uint16_t flags;                 /* VPC_VCC_INET | VPC_VCC_INET6 */
	uint8_t  addr4[4];
	uint32_t mtu;                   /* underlay MTU, 0 = 1500 */
	uint8_t  addr6[16];
	char     l2_ifname[VPC_IFNAMSIZ]; /* VNI 0 switches: raw L2 device */
} vpc_vcc_t;

#define VPC_VCCSTAT_RX          0       /* VXLAN packets received */
#define VPC_VCCSTAT_TX          1       /* VXLAN packets sent */
#define VPC_VCCSTAT_RX_BAD      2       /* short, no I flag, inner runt */
#define VPC_VCCSTAT_RX_NO_VNI   3       /* no switch with that VNI here */
#define VPC_VCCSTAT_TX_ERR      4       /* the OS refused (oversize, no route) */
#define VPC_VCCSTAT_L2_RX       5       /* raw frames in (VNI 0) */
#define VPC_VCCSTAT_L2_TX       6       /* raw frames out (VNI 0) */
#define VPC_VCCSTAT_L2_NO_SW    7       /* raw frames for no VNI 0 switch */
#define VPC_VCCSTAT_RX_SOCK_DROPS 8     /* dropped by the OS before we saw
                                           them: socket buffer full */
#define VPC_VCCSTAT_COUNT       9
typedef struct {
	uint64_t c[16];
} vpc_vcc_stats_t;

/*
 * The upcall channel: fixed-size request records, read in batches (FreeBSD:
 * /dev/vpc_upcall; host: the daemon's upcall socket, after a
 * vpc_upcall_hello_t).  One pending request per (switch, destination MAC)
 * for L2MISS, per (switch, address) for L3MISS: an ARP request or NS that
 * missed the neighbour table (dst_af/dst_ip the address asked for, srcmac
 * the requester, ethertype ARP or IPv6, dstmac zero).  Both kinds share the
 * queue, its bounds, timeouts, hand-off to the next reader and the
 * per-vmnic rate limit.
 */
#define VPC_UPCALL_MAGIC     0x55435056u  /* "VPCU" */
#define VPC_UPCALL_L2MISS    1          /* where does dstmac live? */
#define VPC_UPCALL_L3MISS    2          /* which MAC has dst_ip (dst_af)?  dstmac 0 */
typedef struct {
	uint32_t magic;
	uint16_t size;                  /* sizeof(vpc_upcall_req_t) */
	uint16_t kind;                  /* VPC_UPCALL_L2MISS or _L3MISS */
	vpc_exact64_t req_id;
	vpc_exact64_t generation;       /* answer with this */
	vpc_id_t switch_id;
	vpc_id_t port_id;               /* ingress port of the first frame */
	uint32_t vni;
	uint16_t vlan;                  /* the ingress port's VLAN, 0 = none */
	uint16_t ethertype;
	uint8_t  srcmac[6];
	uint8_t  dstmac[6];
	uint8_t  dst_af;                /* 0, or VPC_AF_INET(6) when visible */
	uint8_t  _pad0[3];
	uint8_t  dst_ip[16];
	vpc_exact64_t time_ns;          /* monotonic time of the first miss */
} vpc_upcall_req_t;

#define VPC_UPCALL_FOUND      0
#define VPC_UPCALL_NOT_FOUND  1
typedef struct {
	vpc_exact64_t req_id;
	vpc_exact64_t generation;
	uint32_t status;                /* VPC_UPCALL_FOUND / NOT_FOUND */
	uint32_t ttl_ms;                /* 0 with FOUND: static */
	uint8_t  af;                    /* FOUND: the VTEP (L3MISS: 0 = none) */
	uint8_t  _pad0;
	uint16_t udp_port;              /* 0 = VPC_VXLAN_PORT */
	uint8_t  _pad1[4];
	uint8_t  addr[16];
	vpc_exact64_t revision;
	uint8_t  mac[6];                /* L3MISS, FOUND: the address's MAC; else 0 */
	uint8_t  _pad2[2];              /* 0 */
} vpc_upcall_ans_t;

/* Host kernel only: the first record on the upcall socket. */
typedef struct {
	uint32_t magic;                 /* VPC_UPCALL_MAGIC */
	uint16_t version;               /* VPC_ABI_VERSION */
	uint16_t req_size;              /* sizeof(vpc_upcall_req_t) */
	int32_t  error;                 /* 0, or EBUSY: another reader */
	uint32_t _pad0;
} vpc_upcall_hello_t;

/*
 * Host kernel only: libvpc's upcall relay (vpc_relay_start below), a
 * thread in vpc-agent's process that reads the upcall socket, answers the
 * leading L2 requests whose (VNI, MAC) its table has, and passes every
 * record on to the agent.  After the hello, which it passes on as it came,
 * the agent reads messages: this header, then int32_t results[answered]
 * (0, or why SYS_UPCALL_ANSWER refused that answer) padded to 8 bytes, then
 * the records, the first `answered` of them answered already.
 */
#define VPC_RELAY_MAGIC      0x52435056u  /* "VPCR" */
typedef struct {
	uint32_t magic;                 /* VPC_RELAY_MAGIC */
	uint32_t bytes;                 /* the whole message, header included */
	uint32_t records;               /* vpc_upcall_req_t records at its end */
	uint32_t answered;              /* the leading records answered */
	vpc_exact64_t at_ns;            /* monotonic: when they were applied */
} vpc_relay_hdr_t;

/* A change to the relay's table: (vni, mac) answers FOUND with this VTEP. */
#define VPC_RELAY_PUT 1
#define VPC_RELAY_DEL 2
typedef struct {
	uint32_t vni;
	uint8_t  mac[6];
	uint8_t  op;                    /* VPC_RELAY_PUT / VPC_RELAY_DEL */
	uint8_t  af;                    /* PUT: VPC_AF_INET or VPC_AF_INET6 */
	uint8_t  addr[16];              /* PUT: the VTEP */
	uint16_t udp_port;              /* PUT: 0 = VPC_VXLAN_PORT */
	uint8_t  _pad0[2];              /* 0 */
	vpc_exact64_t revision;         /* PUT: the answer's revision */
} vpc_relay_entry_t;

typedef struct {
	uint64_t pending;               /* requests not yet answered */
	uint64_t undelivered;           /* of which not yet read */
	uint64_t held;                  /* frames held now */
	uint64_t readers;               /* 0 or 1 */
	uint64_t delivered;             /* requests handed to readers, ever */
	uint64_t requeued;              /* handed back when a reader went away */
	uint64_t reserved[2];
} vpc_upcall_stats_t;

/* SYS_CHECK value. */
typedef struct {
	int32_t  result;                /* 0, or EPROTO: an invariant failed */
	uint32_t checks;                /* how many were checked */
	char     why[120];              /* the first failure, NUL-terminated */
} vpc_check_result_t;

/* SYS_AGENT_EVENT key. */
#define VPC_AGENT_EV_DEGRADED   1
#define VPC_AGENT_EV_RECOVERED  2
#define VPC_AGENT_DETAIL_MAX    120
typedef struct {
	uint32_t event;                 /* VPC_AGENT_EV_* */
	uint32_t _pad0;                 /* 0 */
	/* NUL-terminated, letters, digits and . _ : / @ , + - only (devd
	 * splits its variables on spaces and quotes); may be empty. */
	char     detail[VPC_AGENT_DETAIL_MAX];
} vpc_agent_event_t;

/* NIC_SET_ADDR key, NIC_GET_ADDR value. */
#define VPC_NIC_ADDR_INET   0x1         /* addr4 is the VM's IPv4 address */
#define VPC_NIC_ADDR_INET6  0x2         /* addr6 is the VM's IPv6 address */
typedef struct {
	VPC_TXN_FIELD;
	uint32_t flags;                 /* VPC_NIC_ADDR_* */
	uint8_t  addr4[4];
	uint8_t  _pad0[4];
	uint8_t  addr6[16];
} vpc_nic_addr_t;

#define VPC_DHCP_DNS_MAX      4
#define VPC_DHCP_ROUTES_MAX   8
#define VPC_DHCP_NAME_MAX     64        /* domain and host names, NUL included */
#define VPC_DHCP_LEASE_DEFAULT 86400    /* seconds, when lease_s is 0 */
#define VPC_DHCP_ENABLE       0x1       /* answer this vmnic's DHCP at all */

/*
 * NIC_SET_DHCP key, NIC_GET_DHCP value.  Addresses are 4 bytes each, entry
 * i at [4 * i]; the routes are classless static routes (option 121, RFC
 * 3442): route i is route_dst[4i..]/route_plen[i] via route_gw[4i..].
 */
typedef struct {
	VPC_TXN_FIELD;
	uint32_t flags;                 /* VPC_DHCP_ENABLE */
	uint32_t lease_s;               /* 0: VPC_DHCP_LEASE_DEFAULT */
	uint8_t  ndns;                  /* DNS servers in dns[] */
	uint8_t  nroutes;               /* routes in route_* */
	uint8_t  _pad0[2];
	uint8_t  dns[VPC_DHCP_DNS_MAX * 4];
	uint8_t  route_dst[VPC_DHCP_ROUTES_MAX * 4];
	uint8_t  route_gw[VPC_DHCP_ROUTES_MAX * 4];
	uint8_t  route_plen[VPC_DHCP_ROUTES_MAX];       /* 0-32 */
	char     domain[VPC_DHCP_NAME_MAX];     /* option 15, "" = none */
	char     hostname[VPC_DHCP_NAME_MAX];   /* option 12, "" = none */
} vpc_nic_dhcp_t;

/* SW_SET_GATEWAY key, SW_GET_GATEWAY value. */
#define VPC_GW_ADDR4   0x1              /* addr4 is set, not the default */
#define VPC_GW_ADDR6   0x2              /* addr6 likewise */
#define VPC_GW_MAC     0x4              /* mac likewise */
typedef struct {
	VPC_TXN_FIELD;
	uint32_t flags;                 /* VPC_GW_* */
	uint8_t  addr4[4];
	uint8_t  mac[6];
	uint8_t  has4;                  /* out: an IPv4 subnet, so a gateway */
	uint8_t  has6;                  /* out: an IPv6 subnet, so a gateway */
	uint8_t  addr6[16];
	uint8_t  ll6[16];               /* out: its IPv6 link-local (RA source) */
	uint8_t  _pad0[4];
} vpc_sw_gateway_t;

/* SW_SET_POLICY key, SW_GET_POLICY value. */
#define VPC_BUM_LOCAL   0               /* broadcast/multicast: other local ports */
#define VPC_BUM_DROP    1               /* dropped and counted */
#define VPC_UPCALL_RATE_DEFAULT  1000   /* per vmnic, a second */
#define VPC_RA_INTERVAL_DEFAULT  600    /* seconds between unsolicited RAs */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  bum;                   /* VPC_BUM_* (ARP/ND/DHCP never reach it) */
	uint8_t  _pad0[3];
	uint32_t upcall_rate;           /* misses a vmnic may raise a second; 0: default */
	uint32_t upcall_burst;          /* 0: the rate */
	uint32_t ra_interval_s;         /* 0: default; VPC_RA_OFF: none unsolicited */
	uint32_t _pad1;
} vpc_sw_policy_t;
#define VPC_RA_OFF      0xffffffffu

#define VPC_NBR_BATCH_MAX  256          /* entries per SW_NBR_SET */
#define VPC_NBR_LOCAL      1            /* a local vmnic's address (out only) */
#define VPC_NBR_FOUND      2            /* the address has this MAC */
#define VPC_NBR_NEGATIVE   3            /* known absent: not answered */
#define VPC_NBR_F_USED     0x1          /* out: a request was answered from it */

/* A neighbour entry: SW_NBR_SET key, SW_NBR_GET/DUMP value. */
typedef struct {
	uint8_t  af;                    /* VPC_AF_INET or VPC_AF_INET6 */
	uint8_t  kind;                  /* VPC_NBR_* */
	uint8_t  mac[6];                /* FOUND, LOCAL */
	uint32_t ttl_ms;                /* 0: static (FOUND); out: what is left */
	uint32_t flags;                 /* in: 0; out: VPC_NBR_F_* */
	uint8_t  addr[16];              /* IPv4 in the first 4 bytes */
	vpc_id_t port_id;               /* LOCAL: the vmnic's port (out) */
	uint64_t generation;            /* out: order of installation */
	uint64_t revision;              /* directory revision of the mapping */
	uint64_t cursor;                /* out: SW_NBR_DUMP marker after this */
} vpc_sw_nbr_t;

/* SW_NBR_GET / SW_NBR_DEL key. */
typedef struct {
	uint8_t  af;
	uint8_t  _pad0[3];
	uint8_t  addr[16];
} vpc_nbr_key_t;

/* ---- The router's structs -------------------------------------------------- */

#define VPC_RTR_MAX_ATTACH  64          /* switches per router; ENOSPC beyond */
#define VPC_RTR_MAX_ROUTES  131072      /* custom routes per router; ENOSPC beyond */

/* RTR_ATTACH / RTR_DETACH key, RTR_LIST_ATTACH value. */
typedef struct {
	VPC_TXN_FIELD;
	uint32_t flags;                 /* VPC_GW_*: gateway set on attach */
	vpc_id_t switch_id;
	uint8_t  addr4[4];
	uint8_t  mac[6];
	uint8_t  _pad0[6];
	uint8_t  addr6[16];
	uint32_t vni;                   /* out: the switch's VNI */
	uint8_t  plen4;                 /* out: its IPv4 subnet's length, 0: none */
	uint8_t  plen6;                 /* out: its IPv6 subnet's length, 0: none */
	uint8_t  _pad1[2];
} vpc_rtr_attach_t;

#define VPC_RT_NONE      0              /* ROUTE_REPLACE: "no routes" */
#define VPC_RT_SUBNET    1              /* an attached switch (its subnet) */
#define VPC_RT_NEXTHOP   2              /* a next hop in an attached subnet */
#define VPC_RT_INTERNET  3              /* the router's NAT (RTR_SET_NAT); without
                                         * one: EOPNOTSUPP */
#define VPC_RT_DROP      4              /* blackhole: ICMP unreachable */
#define VPC_RT_CUSTOM    1              /* class: set by an operator */
#define VPC_RT_CONNECTED 2              /* class: an attachment's subnet (out) */
#define VPC_RT_F_UNUSABLE 0x1           /* out: its switch is not attached, or
                                         * no attached subnet has its next hop */

/* A route: RTR_ROUTE_SET/DEL/GET/LOOKUP key, GET/LOOKUP/DUMP value. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  af;                    /* VPC_AF_INET or VPC_AF_INET6 */
	uint8_t  prefixlen;
	uint8_t  target;                /* VPC_RT_* */
	uint8_t  cls;                   /* in: 0 or VPC_RT_CUSTOM; out: the class */
	uint8_t  prefix[16];            /* IPv4 in the first 4 bytes */
	uint8_t  nexthop[16];           /* NEXTHOP: same family as the prefix */
	vpc_id_t switch_id;             /* SUBNET: the switch; out: where it goes */
	uint32_t flags;                 /* in: 0; out: VPC_RT_F_* */
	uint8_t  _pad0[4];
	uint64_t serial;                /* in: 0; out: order (the dump marker) */
} vpc_rt_route_t;

/* RTR_STAGE_BEGIN/COMMIT/ABORT key, RTR_STAGE_BEGIN/APPEND value. */
typedef struct {
	VPC_TXN_FIELD;                  /* COMMIT (BEGIN: checked if set) */
	uint32_t nroutes;               /* in: 0; out: routes staged */
	uint64_t token;                 /* BEGIN: 0 in, the stage out; else in */
} vpc_rt_stage_t;

/* Router counters: vpc_rtr_stats_t.c[VPC_RTRSTAT_*]. */
#define VPC_RTRSTAT_RX           0      /* frames the router was handed */
#define VPC_RTRSTAT_ROUTED       1      /* forwarded to the egress switch */
#define VPC_RTRSTAT_NO_ROUTE     2      /* no usable route: ICMP unreachable */
#define VPC_RTRSTAT_BLACKHOLE    3      /* matched a drop route: ICMP unreachable */
#define VPC_RTRSTAT_TTL_EXCEEDED 4      /* TTL / hop limit <= 1: ICMP time exceeded */
#define VPC_RTRSTAT_ICMP_SENT    5      /* ICMP errors sent */
#define VPC_RTRSTAT_ICMP_RATELIMITED 6  /* ICMP errors not sent: the rate limit */
#define VPC_RTRSTAT_DROP_NOT_GW  7      /* off-subnet, not sent to the gateway MAC */
#define VPC_RTRSTAT_DROP_BAD_IP  8      /* malformed IP header */
#define VPC_RTRSTAT_DROP_BCAST   9      /* broadcast or multicast IP destination */
#define VPC_RTRSTAT_DROP_SRC_GW  10     /* source is the gateway's address */
#define VPC_RTRSTAT_DROP_MARTIAN 11     /* martian source or destination (0/8,
                                         * 127/8, link-local, ::, ::1) */
#define VPC_RTRSTAT_NBR_MISS     12     /* destination's neighbour unknown: L3
                                         * upcall, frame held */
#define VPC_RTRSTAT_NBR_NEGATIVE 13     /* neighbour known absent: ICMP unreachable */
#define VPC_RTRSTAT_TO_GATEWAY   14     /* echo to another subnet's gateway, answered */
#define VPC_RTRSTAT_DROP_GATEWAY 15     /* to another subnet's gateway, not echo */
#define VPC_RTRSTAT_REINJECTED   16     /* held frames routed after the answer */
#define VPC_RTRSTAT_DROP_REMISS  17     /* held frames whose route or neighbour
                                         * was gone again */
#define VPC_RTRSTAT_DROP_NO_GW   18     /* the ingress switch has no gateway of the
                                         * frame's family */
#define VPC_RTRSTAT_UPCALL_RATELIMITED 19 /* of NBR_MISS: dropped, the sending
                                         * vmnic over its upcall rate (the egress
                                         * switch counts it as upcallRatelimited) */
#define VPC_RTRSTAT_TO_NAT       20     /* handed to the NAT (an INTERNET route) */
#define VPC_RTRSTAT_COUNT        21
typedef struct {
	uint64_t c[32];
} vpc_rtr_stats_t;

/* ---- Firewall structs ---------------------------------------------------- */

#define VPC_FW_SETS_MAX       4096
#define VPC_FW_RULES_MAX      480       /* per set: what fits in VPC_CTL_MAX_KEYLEN */
#define VPC_FW_PORTS_MAX      8         /* port ranges per rule */
#define VPC_FW_PRIO_MAX       65535
#define VPC_FW_SET_KEEP_ESTABLISHED 0x1 /* rule changes spare established flows */

/* FW_SET_CREATE / FW_SET_MODIFY key, FW_SET_GET / FW_SET_LIST value. */
typedef struct {
	uint32_t id;
	uint32_t flags;                 /* VPC_FW_SET_* */
	uint32_t nrules;                /* out */
	uint32_t nports;                /* out: ports that attach it */
	uint64_t generation;            /* out: moves on every rule change */
} vpc_fw_set_t;

/* FW_SET_DESTROY / FLUSH / GET key. */
typedef struct {
	uint32_t id;
	uint32_t _pad0;
} vpc_fw_set_ref_t;

#define VPC_FW_DIR_IN         1         /* to the VM (the port's ingress set) */
#define VPC_FW_DIR_OUT        2         /* from the VM (egress) */
#define VPC_FW_ALLOW          1
#define VPC_FW_DENY           2
#define VPC_FW_PROTO_ANY      0
#define VPC_FW_PROTO_TCP      1
#define VPC_FW_PROTO_UDP      2
#define VPC_FW_PROTO_ICMP     3
#define VPC_FW_PROTO_ICMP6    4
#define VPC_FW_PROTO_NUMBER   5         /* proto_num */
#define VPC_FW_REMOTE_ANY     0
#define VPC_FW_REMOTE_CIDR    1         /* af, plen, addr */
#define VPC_FW_REMOTE_SWITCH  2         /* the subnets of switch_id */
#define VPC_FW_REMOTE_VNI     3         /* the subnets of the switch carrying vni */
#define VPC_FW_R_ICMP_TYPE    0x1       /* icmp_type is set */
#define VPC_FW_R_ICMP_CODE    0x2       /* icmp_code is set (needs the type) */

/*
 * A rule: FW_SET_RULES key, FW_RULE_DUMP value.  Lower priority first;
 * equal priorities: deny before allow, then the order given.  The ports
 * are the destination port of the flow's first packet (the service port:
 * the VM's own for `in`, the remote's for `out`); nports 0 is any.
 */
typedef struct {
	uint32_t set_id;
	uint32_t priority;              /* 0-VPC_FW_PRIO_MAX */
	uint8_t  dir;                   /* VPC_FW_DIR_* */
	uint8_t  action;                /* VPC_FW_ALLOW / DENY */
	uint8_t  proto;                 /* VPC_FW_PROTO_* */
	uint8_t  proto_num;             /* PROTO_NUMBER: the IP protocol */
	uint8_t  flags;                 /* VPC_FW_R_* */
	uint8_t  icmp_type;
	uint8_t  icmp_code;
	uint8_t  remote;                /* VPC_FW_REMOTE_* */
	uint8_t  af;                    /* REMOTE_CIDR: VPC_AF_INET(6) */
	uint8_t  plen;                  /* REMOTE_CIDR */
	uint8_t  nports;                /* ranges used in port_lo/hi */
	uint8_t  _pad0;
	uint32_t vni;                   /* REMOTE_VNI */
	uint8_t  addr[16];              /* REMOTE_CIDR; IPv4 in 4 bytes */
	vpc_id_t switch_id;             /* REMOTE_SWITCH */
	uint32_t port_lo[VPC_FW_PORTS_MAX];     /* 1-65535 */
	uint32_t port_hi[VPC_FW_PORTS_MAX];     /* port_lo[i]-65535 */
	uint64_t hits;                  /* in: 0; out: flows it decided */
	uint64_t cursor;                /* in: 0; out: FW_RULE_DUMP marker */
} vpc_fw_rule_t;

/* FW_RULE_DUMP key. */
typedef struct {
	uint32_t id;
	uint32_t _pad0;
	uint64_t marker;
} vpc_fw_dump_req_t;

/* Defaults of vpc_fw_config_t (seconds, flows). */
#define VPC_FW_TCP_SYN_S        5       /* incipient: SYN seen, not established */
#define VPC_FW_TCP_EST_S        86400   /* established, idle */
#define VPC_FW_TCP_FIN_S        120     /* one side closed */
#define VPC_FW_TCP_TIMEWAIT_S   30      /* both closed */
#define VPC_FW_TCP_CLOSED_S     5       /* after a RST */
#define VPC_FW_UDP_S            60
#define VPC_FW_ICMP_S           30
#define VPC_FW_OTHER_S          60
#define VPC_FW_FLOWS_PORT       65536
#define VPC_FW_FLOWS_TOTAL      262144
#define VPC_FW_TIMEOUT_MAX_S    (7u * 86400u)
#define VPC_FW_FLOWS_LIMIT      (4u << 20)

/* FW_SET_CONFIG key, FW_GET_CONFIG value; 0 in a field: its default. */
typedef struct {
	uint32_t tcp_syn_s;
	uint32_t tcp_est_s;
	uint32_t tcp_fin_s;
	uint32_t tcp_timewait_s;
	uint32_t tcp_closed_s;
	uint32_t udp_s;
	uint32_t icmp_s;
	uint32_t other_s;
	uint32_t max_flows_port;
	uint32_t max_flows;
	uint64_t flows;                 /* out: flows now, all ports */
} vpc_fw_config_t;

/* SW_PORT_SET_FW key. */
typedef struct {
	VPC_TXN_FIELD;
	uint32_t flags;                 /* VPC_FLAG_SWP_FW_INGRESS | _EGRESS */
	vpc_id_t port_id;
	uint32_t ingress;               /* set id with FW_INGRESS, else 0 */
	uint32_t egress;                /* set id with FW_EGRESS, else 0 */
} vpc_sw_port_fw_t;

/* SW_FW_FLOWS key. */
typedef struct {
	vpc_id_t port_id;
	uint64_t marker;
} vpc_fw_flow_req_t;

#define VPC_FW_TCP_SYN_SENT     1       /* flow states (TCP); others: 0 */
#define VPC_FW_TCP_SYN_RCVD     2
#define VPC_FW_TCP_ESTABLISHED  3
#define VPC_FW_TCP_FIN_WAIT     4
#define VPC_FW_TCP_TIME_WAIT    5
#define VPC_FW_TCP_CLOSED       6

/* SW_FW_FLOWS value: one flow, from the VM's side. */
typedef struct {
	uint8_t  af;
	uint8_t  proto;                 /* IP protocol */
	uint8_t  dir;                   /* who started it: VPC_FW_DIR_IN / OUT */
	uint8_t  state;                 /* VPC_FW_TCP_*, 0 for others */
	uint16_t lport;                 /* the VM's port (ICMP: echo id) */
	uint16_t rport;                 /* the remote's */
	uint32_t vni;
	uint32_t expire_ms;             /* left before it expires */
	uint8_t  laddr[16];             /* the VM's address */
	uint8_t  raddr[16];
	uint64_t pkts_out;              /* from the VM */
	uint64_t pkts_in;               /* to the VM */
	uint64_t cursor;
} vpc_fw_flow_t;


/* ---- vpclink and vpcnat structs ------------------------------------------ */

/* LINK_SET key, LINK_GET value. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  bound;                 /* out: 1 when bound to an interface */
	uint8_t  _pad0[3];
	char     ifname[VPC_IFNAMSIZ];  /* NUL-terminated; "" = none */
	uint8_t  mac[6];                /* out: the interface's MAC */
	uint8_t  _pad1[2];
	uint32_t users;                 /* out: NATs using it */
	uint32_t _pad2;
} vpc_link_t;

/* Link counters: vpc_link_stats_t.c[VPC_LINKSTAT_*]. */
#define VPC_LINKSTAT_RX          0      /* frames the interface brought */
#define VPC_LINKSTAT_RX_TAKEN    1      /* of which taken (ARP answered, translated in) */
#define VPC_LINKSTAT_RX_PASSED   2      /* of which left to the node's stack */
#define VPC_LINKSTAT_TX          3      /* frames sent */
#define VPC_LINKSTAT_TX_ERRORS   4      /* frames the OS would not send */
#define VPC_LINKSTAT_ARP_REPLIES 5      /* ARP requests for a NAT address answered */
#define VPC_LINKSTAT_GARP_SENT   6      /* gratuitous ARPs for the NAT's addresses */
#define VPC_LINKSTAT_COUNT       7
typedef struct {
	uint64_t c[16];
} vpc_link_stats_t;

#define VPC_NAT_MAX_FLOWS       (1u << 24)
#define VPC_NAT_TIMEOUT_MAX_S   (366u * 86400u)

/* NAT_SET_CONFIG key, NAT_GET_CONFIG value. */
typedef struct {
	VPC_TXN_FIELD;
	uint32_t max_flows;             /* 0: 262144 */
	uint32_t tcp_incipient_s;       /* 0: 240 */
	uint32_t tcp_est_s;             /* 0: 7440 */
	uint32_t tcp_closing_s;         /* 0: 240 */
	uint32_t udp_s;                 /* 0: 300 */
	uint32_t icmp_s;                /* 0: 60 */
	uint8_t  upstream_mac[6];       /* the outside next hop by MAC; zero
	                                 * (and no upstream_ip): none, so
	                                 * nothing is sent (counted) */
	uint8_t  upstream_ip[4];        /* ...or by IPv4 address, resolved by
	                                 * ARP on the link; zero: not this form */
	uint8_t  _pad0[2];
	uint64_t flows;                 /* out: flows now */
} vpc_nat_config_t;

/* vpc_nat_upstream_t.state */
#define VPC_NAT_UPSTREAM_NONE       0   /* none configured: nothing is sent */
#define VPC_NAT_UPSTREAM_BY_MAC     1   /* upstream_mac, used as is */
#define VPC_NAT_UPSTREAM_UNRESOLVED 2   /* by address: no answer yet, or expired */
#define VPC_NAT_UPSTREAM_RESOLVED   3   /* by address: learned, in use */
#define VPC_NAT_UPSTREAM_REFRESHING 4   /* by address: learned, in use, asked again */

/* NAT_GET_UPSTREAM value. */
typedef struct {
	uint8_t  mac[6];                /* the MAC translated frames go to now;
	                                 * zero: none (NONE, UNRESOLVED) */
	uint8_t  ip[4];                 /* the upstream's address (by address) */
	uint8_t  state;                 /* VPC_NAT_UPSTREAM_* */
	uint8_t  _pad0;
	uint32_t learned_ms;            /* ms since the MAC was learned; 0: not */
	uint32_t asked_ms;              /* ms since the last ARP request sent
	                                 * for it (saturated); 0: none yet */
	uint32_t _pad1;
} vpc_nat_upstream_t;

/* NAT_SET_LINK key, NAT_GET_LINK value. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  _pad0[4];
	vpc_id_t link_id;               /* nil: none */
	vpc_id_t router_id;             /* out: the router it is attached to */
} vpc_nat_link_t;

/* NAT_EIP_BIND / UNBIND key, NAT_EIP_LIST value. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  priv[4];               /* IPv4, network order */
	uint8_t  ext[4];
	uint8_t  _pad0[4];
} vpc_nat_eip_t;

/* NAT_POOL_ADD / DEL key. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  ext[4];
	uint16_t lo, hi;                /* ports, host order */
	uint16_t block;                 /* ports per private address and protocol */
	uint8_t  _pad0[2];
} vpc_nat_pool_t;

#define VPC_NAT_PROTO_TCP   0           /* index of the per-protocol arrays */
#define VPC_NAT_PROTO_UDP   1
#define VPC_NAT_PROTO_ICMP  2           /* echo ids */
/* NAT_SNAT_BIND / UNBIND / GET key, NAT_SNAT_GET value. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  priv[4];
	uint8_t  ext[4];                /* the pool's address */
	uint16_t block_lo[3];           /* out: its block per protocol */
	uint16_t block_size;            /* out */
	uint32_t flows[3];              /* out: live flows per protocol */
	uint64_t exhausted[3];          /* out: drops, no free port, per protocol */
} vpc_nat_snat_t;

/* NAT_FLOW_DUMP key. */
typedef struct {
	uint32_t resume;                /* 0: from the start; 1: after this key */
	uint8_t  proto;                 /* IP protocol */
	uint8_t  _pad0[3];
	uint8_t  ext[4];
	uint8_t  remote[4];
	uint16_t eport, rport;
} vpc_nat_flow_req_t;

#define VPC_NAT_FLOW_OPEN     0         /* UDP, ICMP; TCP: no answer yet */
#define VPC_NAT_FLOW_EST      1         /* TCP: the remote answered */
#define VPC_NAT_FLOW_CLOSING  2         /* TCP: a FIN or RST seen */
/* NAT_FLOW_DUMP value: one SNAT flow. */
typedef struct {
	uint8_t  proto;                 /* IP protocol */
	uint8_t  state;                 /* VPC_NAT_FLOW_* */
	uint8_t  _pad0[2];
	uint8_t  priv[4];
	uint8_t  ext[4];
	uint8_t  remote[4];
	uint16_t pport, eport, rport;   /* ICMP: echo ids, rport 0 */
	uint8_t  _pad1[2];
	uint64_t idle_ms;
} vpc_nat_flow_t;

/* NAT counters: vpc_nat_stats_t.c[VPC_NATSTAT_*]. */
#define VPC_NATSTAT_OUT_EIP          0  /* translated out by an EIP */
#define VPC_NATSTAT_IN_EIP           1  /* translated in by an EIP */
#define VPC_NATSTAT_OUT_SNAT         2  /* translated out by an SNAT flow */
#define VPC_NATSTAT_IN_SNAT          3  /* translated in by an SNAT flow */
#define VPC_NATSTAT_ICMPERR_OUT      4  /* ICMP errors translated out, quote included */
#define VPC_NATSTAT_ICMPERR_IN       5  /* ICMP errors translated in */
#define VPC_NATSTAT_FLOWS_NEW        6  /* SNAT flows created */
#define VPC_NATSTAT_FLOWS_GONE       7  /* SNAT flows reclaimed */
#define VPC_NATSTAT_IN_NOTMINE       8  /* inbound for none of its addresses */
#define VPC_NATSTAT_DROP_NOCFG       9  /* from a VM with neither EIP nor SNAT */
#define VPC_NATSTAT_DROP_FULL        10 /* the flow table was full */
#define VPC_NATSTAT_DROP_EXHAUSTED   11 /* the source's port block was */
#define VPC_NATSTAT_DROP_NOMEM       12 /* no memory for a flow */
#define VPC_NATSTAT_DROP_NOFLOW      13 /* inbound to an SNAT address, no flow */
#define VPC_NATSTAT_DROP_ICMP_NOFLOW 14 /* an ICMP error about no known flow */
#define VPC_NATSTAT_DROP_FRAG        15 /* a fragment under SNAT */
#define VPC_NATSTAT_DROP_PROTO       16 /* under SNAT: not TCP, UDP, ICMP echo */
#define VPC_NATSTAT_DROP_AF          17 /* not IPv4 */
#define VPC_NATSTAT_DROP_BAD         18 /* malformed */
#define VPC_NATSTAT_DROP_NO_LINK     19 /* translated out, no bound link or
                                         * no upstream configured */
#define VPC_NATSTAT_DROP_NO_ROUTE    20 /* translated in, the private address is
                                         * in no attached subnet */
#define VPC_NATSTAT_TX               21 /* frames sent out of the link */
#define VPC_NATSTAT_RX_DELIVERED     22 /* frames handed to a VM's switch */
#define VPC_NATSTAT_DROP_TTL         23 /* translated in with TTL <= 1 */
#define VPC_NATSTAT_DROP_UNRESOLVED  24 /* translated out while the upstream's
                                         * address was not resolved (ARP) */
#define VPC_NATSTAT_ARP_REQUESTS     25 /* ARP requests for the upstream sent */
#define VPC_NATSTAT_ARP_LEARNED      26 /* the upstream's MAC learned from ARP */
#define VPC_NATSTAT_COUNT            27
typedef struct {
	uint64_t c[32];
} vpc_nat_stats_t;

/* RTR_SET_NAT key, RTR_GET_NAT value. */
typedef struct {
	VPC_TXN_FIELD;
	uint8_t  _pad0[4];
	vpc_id_t nat_id;                /* nil: none */
} vpc_rtr_nat_t;

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
VPC_ASSERT_SIZE(vpc_nic_ifname_t, 24);
VPC_ASSERT_SIZE(vpc_nic_mtu_t, 16);
VPC_ASSERT_SIZE(vpc_sw_subnet_t, 24);
VPC_ASSERT_SIZE(vpc_sw_stats_t, 1024);
VPC_ASSERT_SIZE(vpc_sw_cam_t, 88);
VPC_ASSERT_SIZE(vpc_cam_key_t, 16);
VPC_ASSERT_SIZE(vpc_cam_set_result_t, 8);
VPC_ASSERT_SIZE(vpc_cam_flush_t, 8);
VPC_ASSERT_SIZE(vpc_vcc_t, 48);
VPC_ASSERT_SIZE(vpc_vcc_stats_t, 128);
VPC_ASSERT_SIZE(vpc_upcall_req_t, 104);
VPC_ASSERT_SIZE(vpc_upcall_ans_t, 64);
VPC_ASSERT_SIZE(vpc_upcall_hello_t, 16);
VPC_ASSERT_SIZE(vpc_relay_hdr_t, 24);
VPC_ASSERT_SIZE(vpc_relay_entry_t, 40);
VPC_ASSERT_SIZE(vpc_upcall_stats_t, 64);
VPC_ASSERT_SIZE(vpc_check_result_t, 128);
VPC_ASSERT_SIZE(vpc_agent_event_t, 128);
VPC_ASSERT_SIZE(vpc_nic_addr_t, 32);
VPC_ASSERT_SIZE(vpc_nic_dhcp_t, 232);
VPC_ASSERT_SIZE(vpc_sw_gateway_t, 56);
VPC_ASSERT_SIZE(vpc_sw_policy_t, 24);
VPC_ASSERT_SIZE(vpc_sw_nbr_t, 72);
VPC_ASSERT_SIZE(vpc_nbr_key_t, 20);
VPC_ASSERT_SIZE(vpc_rtr_attach_t, 64);
VPC_ASSERT_SIZE(vpc_rt_route_t, 72);
VPC_ASSERT_SIZE(vpc_rtr_stats_t, 256);
VPC_ASSERT_SIZE(vpc_rt_stage_t, 16);
VPC_ASSERT_SIZE(vpc_fw_set_t, 24);
VPC_ASSERT_SIZE(vpc_fw_set_ref_t, 8);
VPC_ASSERT_SIZE(vpc_fw_rule_t, 136);
VPC_ASSERT_SIZE(vpc_fw_dump_req_t, 16);
VPC_ASSERT_SIZE(vpc_fw_config_t, 48);
VPC_ASSERT_SIZE(vpc_sw_port_fw_t, 32);
VPC_ASSERT_SIZE(vpc_fw_flow_t, 72);
VPC_ASSERT_SIZE(vpc_link_t, 40);
VPC_ASSERT_SIZE(vpc_link_stats_t, 128);
VPC_ASSERT_SIZE(vpc_nat_config_t, 48);
VPC_ASSERT_SIZE(vpc_nat_link_t, 40);
VPC_ASSERT_SIZE(vpc_nat_eip_t, 16);
VPC_ASSERT_SIZE(vpc_nat_pool_t, 16);
VPC_ASSERT_SIZE(vpc_nat_snat_t, 56);
VPC_ASSERT_SIZE(vpc_nat_flow_req_t, 20);
VPC_ASSERT_SIZE(vpc_nat_flow_t, 32);
VPC_ASSERT_SIZE(vpc_nat_stats_t, 256);
VPC_ASSERT_SIZE(vpc_rtr_nat_t, 24);
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
/*
 * libvpc on the host kernel only (vpc_relay_hdr_t above).  vpc_relay_start
 * connects to the upcall socket at path and starts the relay: it returns
 * the descriptor the caller reads (the relay's messages), or -1 with errno.
 * Answers it gives carry ttl_ms.  vpc_relay_update applies n changes to
 * the table: 0, or -1 with errno EINVAL (a bad entry; nothing applied) or
 * ENOMEM.  vpc_relay_pause(1) stops it
 * answering (it passes everything on), vpc_relay_pause(0) lets it answer.
 */
int vpc_relay_start(const char *path, uint32_t ttl_ms);
int vpc_relay_update(const vpc_relay_entry_t *e, size_t n);
/*
 * The table anew from a directory's records (src/directory's layout): n
 * records of stride 32-bit words, each [VNI + 1 (0: none), MAC bytes 0-3
 * big-endian, MAC bytes 4-5 << 16 | UDP port, VTEP index]; vteps: nvteps
 * 17-byte VTEPs (family, 16 address bytes); revs: each record's revision,
 * or NULL for revision.  0, or -1 with errno EINVAL (nothing applied) or
 * ENOMEM.
 */
int vpc_relay_load(const uint32_t *words, size_t n, size_t stride,
    const uint8_t *vteps, size_t nvteps, const double *revs, uint64_t revision);
void vpc_relay_pause(int paused);
#ifdef __cplusplus
}
#endif
#endif

#endif /* _VPC_H_ */
