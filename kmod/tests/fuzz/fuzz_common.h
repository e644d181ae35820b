/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_common.h: the object graph every fuzz target starts each input from,
 * and the checks every input ends with (invariants hold, nothing leaked).
 */
#ifndef _FUZZ_COMMON_H_
#define _FUZZ_COMMON_H_

#include <stddef.h>
#include <stdint.h>

#include "vpc_core.h"

#define FUZZ_HANDLES 16

struct fuzz_graph {
	struct vpc_sys *sys;
	struct vpc_hdl *h[FUZZ_HANDLES];        /* switch, vcc, nics, ports... */
	int             nh;
	struct vpc_nic *nic_a, *nic_b, *nic_r;  /* two vmnics and the router's */
	struct vpc_vcc *vcc;
};

extern const struct vpc_call fuzz_call;

/*
 * A fresh graph: a VXLAN switch (VNI 100, subnets 10.0.0.0/24 and
 * 2001:db8::/64, a neighbour of each family, vmnic B with addresses) with an uplink
 * to a vcc, two vmnic ports, a router port with the router's vmnic, some
 * remote and negative CAM entries; a VNI 0 switch whose uplink (VLAN 7) uses
 * the vcc's L2 device, with one vmnic port.
 */
void fuzz_graph_build(struct fuzz_graph *g);
/* Close every handle, check the invariants, tear down, check for leaks. */
void fuzz_graph_destroy(struct fuzz_graph *g);
/* abort() with the first broken invariant, if any. */
void fuzz_check(struct vpc_sys *sys);

#endif
