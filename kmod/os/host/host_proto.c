/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_proto.c: decoding what arrives on the daemon's sockets.  Everything
 * in a message is checked here, before the core sees any of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpc_os.h"
#include "host_proto.h"

int
vpc_wire_decode_req(const void *buf, size_t len, struct vpc_wire_req *req,
    const void **key)
{
	if (len < sizeof(*req))
		return (VPC_EPROTO);
	memcpy(req, buf, sizeof(*req));
	if (req->magic != VPC_WIRE_MAGIC || req->_pad0 != 0 || req->_pad1 != 0)
		return (VPC_EPROTO);
	switch (req->kind) {
	case VPC_WIRE_OPEN:
		if (len != sizeof(*req) || req->op != 0 || req->keylen != 0 ||
		    req->vallen != 0)
			return (VPC_EPROTO);
		*key = NULL;
		return (0);
	case VPC_WIRE_CTL:
		if (req->keylen > VPC_CTL_MAX_KEYLEN)
			return (VPC_E2BIG);
		if (len - sizeof(*req) != req->keylen)
			return (VPC_EPROTO);
		*key = req->keylen > 0 ? (const char *)buf + sizeof(*req) : NULL;
		return (0);
	default:
		return (VPC_EPROTO);
	}
}

/*
 * $VPC_HOSTD_SOCKET, else /run/vpc/hostd.sock for root, else a directory of
 * the user's own ($XDG_RUNTIME_DIR/vpc or /tmp/vpc-UID).
 */
const char *
vpc_wire_default_path(char *buf, size_t len)
{
	const char *env = getenv("VPC_HOSTD_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (env != NULL && env[0] != '\0')
		snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(buf, len, "/run/vpc/hostd.sock");
	else if (xdg != NULL && xdg[0] == '/')
		snprintf(buf, len, "%s/vpc/hostd.sock", xdg);
	else
		snprintf(buf, len, "/tmp/vpc-%u/hostd.sock", (unsigned)geteuid());
	return (buf);
}

/* $VPC_UPCALL_SOCKET, else upcall.sock in the control socket's directory. */
const char *
vpc_wire_upcall_path(const char *ctl_path, char *buf, size_t len)
{
	const char *env = getenv("VPC_UPCALL_SOCKET");
	const char *slash = strrchr(ctl_path, '/');

	if (env != NULL && env[0] != '\0')
		snprintf(buf, len, "%s", env);
	else if (slash == NULL)
		snprintf(buf, len, "upcall.sock");
	else
		snprintf(buf, len, "%.*s/upcall.sock", (int)(slash - ctl_path),
		    ctl_path);
	return (buf);
}
