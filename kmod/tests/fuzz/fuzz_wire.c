/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_wire: what arrives on vpc-hostd's sockets, decoded as the daemon
 * decodes it (vpc_wire_decode_req) and, when it is a request, run in the
 * core the way the daemon runs it: an open, or a ctl on one of the graph's
 * handles (the last input byte picks which, 0xff: the process connection).
 */
#include <string.h>

#include "fuzz_common.h"
#include "host_loop.h"
#include "host_proto.h"

static uint8_t valbuf[VPC_CTL_MAX_VALLEN];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_graph g;
	struct vpc_wire_req req;
	struct vpc_hdl *h = NULL, *nh;
	const void *key;
	size_t vallen;

	if (vpc_wire_decode_req(data, size, &req, &key) != 0)
		return (0);
	fuzz_graph_build(&g);
	if (size > 0 && data[size - 1] != 0xff && g.nh > 0)
		h = g.h[data[size - 1] % g.nh];
	if (req.kind == VPC_WIRE_OPEN) {
		if (vpc_core_open(g.sys, &fuzz_call, &req.id, req.type, req.flags,
		    &nh) == 0)
			vpc_core_close(g.sys, nh);
	} else {
		vallen = (size_t)req.vallen;
		(void)vpc_core_ctl(g.sys, &fuzz_call, h, req.op, key,
		    (size_t)req.keylen, valbuf, &vallen);
	}
	hloop_reclaim();
	fuzz_graph_destroy(&g);
	return (0);
}
