/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_proto.h: the wire between libvpc and vpc-hostd.
 *
 * Every handle is a real descriptor in the client: one end of a
 * SOCK_SEQPACKET socketpair whose other end the daemon keeps.  So close(2),
 * close-on-exec, fork and exit release handles exactly as FreeBSD's file
 * descriptors do, with no vpc_close() in the ABI.  vpc_ctl() sends one
 * request on the handle's own socket and reads one reply; vpc_open() and
 * ops on VPC_HANDLE_NONE go over the process's connection to the daemon's
 * listening socket.  A reply may carry one descriptor (SCM_RIGHTS): the new
 * handle of an open, or one an op returns inside its value.
 * Error numbers on this wire are FreeBSD's; libvpc translates them.
 */
#ifndef _HOST_PROTO_H_
#define _HOST_PROTO_H_

#include <stddef.h>
#include <stdint.h>
#include "vpc.h"

#define VPC_WIRE_MAGIC     0x31435056u  /* "VPC1" little-endian */
#define VPC_WIRE_OPEN      1
#define VPC_WIRE_CTL       2

struct vpc_wire_req {
	uint32_t   magic;
	uint16_t   kind;                /* VPC_WIRE_OPEN or VPC_WIRE_CTL */
	uint16_t   _pad0;
	uint32_t   op;                  /* CTL */
	uint32_t   _pad1;
	uint64_t   keylen;              /* CTL: key bytes that follow */
	uint64_t   vallen;              /* CTL: the caller's value buffer */
	vpc_id_t   id;                  /* OPEN */
	vpc_type_t type;                /* OPEN */
	vpc_flags_t flags;              /* OPEN */
};
_Static_assert(sizeof(struct vpc_wire_req) == 64, "wire request");

struct vpc_wire_rep {
	uint32_t magic;
	int32_t  error;                 /* FreeBSD errno, 0 on success */
	uint64_t vallen;                /* value bytes that follow (ERANGE: needed) */
	int32_t  handle_off;            /* where the passed descriptor goes, or -1 */
	uint32_t _pad0;
};
_Static_assert(sizeof(struct vpc_wire_rep) == 24, "wire reply");

#define VPC_WIRE_REQ_MAX (sizeof(struct vpc_wire_req) + VPC_CTL_MAX_KEYLEN)
#define VPC_WIRE_REP_MAX (sizeof(struct vpc_wire_rep) + VPC_CTL_MAX_VALLEN)

/*
 * Decode a request as received (len bytes at buf).  Returns 0 and points
 * *key at the key, or an errno (FreeBSD numbering) saying why the message is
 * not a request: EPROTO for a malformed one, E2BIG for a key over the cap.
 */
int vpc_wire_decode_req(const void *buf, size_t len,
    struct vpc_wire_req *req, const void **key);

/* The default socket path for this user, written into buf. */
const char *vpc_wire_default_path(char *buf, size_t len);
/* Where the upcall socket is, given the control socket's path. */
const char *vpc_wire_upcall_path(const char *ctl_path, char *buf, size_t len);

#endif
