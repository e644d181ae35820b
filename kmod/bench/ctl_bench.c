/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_bench: the control-op mix of bench/ctl from C through libvpc, the
 * baseline the TypeScript/koffi figure is divided by.  One cycle: open
 * (create a switch), GET_TXN, SW_ADD_PORT, SW_GET_PORT_COUNT, close: five
 * ops.  Runs for the given seconds and prints JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vpc.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0, t0, t;
	unsigned long long cycles = 0;
	vpc_id_t id;
	vpc_txn_t txn;
	vpc_swport_t req, res;
	vpc_switch_t cnt;
	size_t vl;
	int h;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xbe;
	id.bytes[1] = (unsigned char)getpid();
	t0 = now();
	do {
		for (int i = 0; i < 64; i++, cycles++) {
			memcpy(&id.bytes[8], &cycles, sizeof(cycles));
			h = vpc_open(&id, VPC_TYPE_WORD(VPC_TYPE_SWITCH),
			    VPC_FLAG_CREATE);
			if (h < 0) {
				perror("vpc_open");
				return (1);
			}
			vl = sizeof(txn);
			if (vpc_ctl(h, VPC_OP_GET_TXN, 0, NULL, &vl, &txn) < 0)
				return (perror("GET_TXN"), 1);
			memset(&req, 0, sizeof(req));
			req.txn = txn;
			req.flags = VPC_FLAG_SWP_VMNIC;
			vl = sizeof(res);
			if (vpc_ctl(h, VPC_OP_SW_ADD_PORT, sizeof(req), &req, &vl,
			    &res) < 0)
				return (perror("SW_ADD_PORT"), 1);
			vl = sizeof(cnt);
			if (vpc_ctl(h, VPC_OP_SW_GET_PORT_COUNT, 0, NULL, &vl,
			    &cnt) < 0)
				return (perror("SW_GET_PORT_COUNT"), 1);
			close(h);
		}
		t = now() - t0;
	} while (t < secs);
	printf("{\"cycles\": %llu, \"ops\": %llu, \"seconds\": %.3f, "
	    "\"ops_per_sec\": %.1f}\n", cycles, cycles * 5, t,
	    (double)(cycles * 5) / t);
	return (0);
}
