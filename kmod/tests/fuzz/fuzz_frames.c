/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_frames: frames into the data path.  The first byte picks the entry
 * point: a vmnic (0), another vmnic (1), the router's vmnic (2), the vcc's
 * UDP input (VXLAN, 3), the vcc's raw L2 input (VNI 0, 4).  If its top bit
 * is set, the frame's source MAC is overwritten with the vmnic's own so it
 * gets past anti-spoofing into forwarding.  The rest is the packet.
 */
#include <string.h>

#include "vpc_impl.h"
#include "fuzz_common.h"
#include "host_loop.h"
#include "host_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_graph g;
	struct os_epoch et;
	struct vpc_pkt *p;
	struct vpc_nic *nic = NULL;
	uint8_t sel;

	if (size < 1)
		return (0);
	sel = data[0];
	fuzz_graph_build(&g);
	(void)vpc_upcall_attach(g.sys);
	p = host_pkt_new(data + 1, (uint32_t)(size - 1));
	if (p != NULL) {
		switch ((sel & 0x7f) % 5) {
		case 0:
			nic = g.nic_a;
			break;
		case 1:
			nic = g.nic_b;
			break;
		case 2:
			nic = g.nic_r;
			break;
		}
		if (nic != NULL && (sel & 0x80) != 0 && size > 13)
			memcpy(host_pkt_data(p) + 6, nic->mac, 6);
		os_epoch_enter(&et);
		if (nic != NULL)
			vpc_nic_input(nic, p);
		else if ((sel & 0x7f) % 5 == 3)
			vpc_vcc_input(g.vcc, p);
		else
			vpc_vcc_l2_input(g.vcc, p);
		os_epoch_exit(&et);
	}
	hloop_reclaim();
	fuzz_graph_destroy(&g);
	return (0);
}
