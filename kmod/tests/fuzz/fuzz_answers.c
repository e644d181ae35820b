/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_answers: upcall answers.  Eight misses make eight pending requests
 * (read by a reader, so they have generations); the input is then answers,
 * 56 bytes each: when an answer's first byte is odd, its id and generation
 * are replaced by those of pending request (byte 1 mod 8), so the fuzzer
 * reaches the code behind the id check as well as in front of it.  The last
 * two bytes of the input, if any, size the result buffer.
 */
#include <stdlib.h>
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
	vpc_upcall_req_t reqs[8];
	vpc_upcall_ans_t *ans;
	int32_t res[VPC_UPCALL_BATCH_MAX + 1];
	uint8_t frame[60];
	size_t n, i, vallen;
	int k;

	fuzz_graph_build(&g);
	(void)vpc_upcall_attach(g.sys);
	for (k = 0; k < 8; k++) {
		memset(frame, 0, sizeof(frame));
		frame[0] = 0x02;
		frame[4] = 0x77;
		frame[5] = (uint8_t)k;
		memcpy(frame + 6, g.nic_a->mac, 6);
		frame[12] = 0x08;
		os_epoch_enter(&et);
		vpc_nic_input(g.nic_a, host_pkt_new(frame, sizeof(frame)));
		vpc_nic_input(g.nic_a, host_pkt_new(frame, sizeof(frame)));
		os_epoch_exit(&et);
	}
	memset(reqs, 0, sizeof(reqs));
	(void)vpc_upcall_read(g.sys, reqs, sizeof(reqs));
	n = size / sizeof(*ans);
	if (n > VPC_UPCALL_BATCH_MAX + 1)
		n = VPC_UPCALL_BATCH_MAX + 1;
	ans = calloc(n + 1, sizeof(*ans));
	if (ans == NULL)
		abort();
	memcpy(ans, data, n * sizeof(*ans));
	for (i = 0; i < n; i++) {
		const uint8_t *b = data + i * sizeof(*ans);

		if ((b[0] & 1) != 0) {
			ans[i].req_id = reqs[b[1] % 8].req_id;
			ans[i].generation = reqs[b[1] % 8].generation;
		}
	}
	vallen = size >= 2 ? (size_t)data[size - 2] | (size_t)(data[size - 1] & 7) << 8 :
	    sizeof(res);
	if (vallen > sizeof(res))
		vallen = sizeof(res);
	(void)vpc_core_ctl(g.sys, &fuzz_call, NULL, VPC_OP_SYS_UPCALL_ANSWER, ans,
	    n * sizeof(*ans), res, &vallen);
	free(ans);
	hloop_reclaim();
	fuzz_graph_destroy(&g);
	return (0);
}
