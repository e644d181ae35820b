/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ctl: vpc_open and vpc_ctl dispatch with fuzzed ops, handles, key and
 * value bytes and sizes, against a live object graph.  Each record of the
 * input is one call:
 *   [0] action: < 0xf0 an op (mod the op table), 0xf0-0xf7 vpc_open,
 *       0xf8-0xff close a handle
 *   [1] which handle (mod the handles there are; 0xff: VPC_HANDLE_NONE)
 *   [2..3] keylen, [4..5] value buffer size (little endian, up to 64 KiB + 1)
 *   then keylen bytes of key, taken from the input (zeros past its end).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "host_loop.h"
#include "test_handles.h"

static uint8_t valbuf[VPC_CTL_MAX_VALLEN + 1];

static struct vpc_hdl *
pick(struct fuzz_graph *g, uint8_t b)
{
	struct vpc_hdl *all[FUZZ_HANDLES + TEST_MAX_HANDLES];
	int n = 0, i;

	if (b == 0xff)
		return (NULL);
	for (i = 0; i < g->nh; i++)
		if (g->h[i] != NULL)
			all[n++] = g->h[i];
	for (i = 0; i < TEST_MAX_HANDLES && n < (int)(sizeof(all) / sizeof(all[0])); i++)
		if (test_handles[i] != NULL)
			all[n++] = test_handles[i];
	return (n == 0 ? NULL : all[b % n]);
}

static void
close_one(struct fuzz_graph *g, uint8_t b)
{
	int i;

	for (i = 0; i < g->nh; i++) {
		if (g->h[i] != NULL && (b-- == 0 || i == g->nh - 1)) {
			vpc_core_close(g->sys, g->h[i]);
			g->h[i] = NULL;
			return;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_graph g;
	struct vpc_opinfo oi;
	size_t at = 0, keylen, vallen, nops = vpc_op_count();
	uint8_t *key;
	int calls = 0;

	fuzz_graph_build(&g);
	while (at + 6 <= size && calls++ < 64) {
		const uint8_t *r = data + at;

		keylen = (size_t)r[2] | (size_t)r[3] << 8;
		vallen = (size_t)r[4] | (size_t)r[5] << 8;
		if (r[3] == 0xff)
			keylen = VPC_CTL_MAX_KEYLEN + 1 + r[2];   /* E2BIG */
		at += 6;
		key = calloc(1, keylen + 1);
		if (key == NULL)
			abort();
		if (at < size)
			memcpy(key, data + at, keylen < size - at ? keylen : size - at);
		at += keylen < size - at ? keylen : size - at;
		if (r[0] < 0xf0) {
			vpc_op_info(r[0] % nops, &oi);
			/* Half the time the exact sizes, to get past validation. */
			if ((r[1] & 0x80) != 0) {
				keylen = oi.key_array ? oi.keysz * (1 + r[2] % 3) : oi.keysz;
				vallen = oi.val_array ? oi.valsz * (1 + r[4] % 5) : oi.valsz;
				free(key);
				key = calloc(1, keylen + 1);
				if (key == NULL)
					abort();
				memcpy(key, data + at - (at > keylen ? keylen : at),
				    at > keylen ? keylen : at);
			}
			if (vallen > sizeof(valbuf))
				vallen = sizeof(valbuf);
			(void)vpc_core_ctl(g.sys, &fuzz_call, pick(&g, r[1]), oi.op,
			    key, keylen, valbuf, &vallen);
		} else if (r[0] < 0xf8) {
			vpc_id_t id;
			struct vpc_hdl *h = NULL;
			vpc_type_t word;

			memset(&id, 0, sizeof(id));
			memcpy(&id, key, keylen < sizeof(id) ? keylen : sizeof(id));
			if (keylen <= 1)
				id.bytes[0] = 0xf0, id.bytes[15] = r[1] & 7;
			word = r[1] & 0x40 ? (vpc_type_t)r[4] << 8 | r[5] :
			    VPC_TYPE_WORD(r[4] % 9);
			if (vpc_core_open(g.sys, &fuzz_call, &id, word,
			    (vpc_flags_t)(r[0] & 7), &h) == 0) {
				if (g.nh < FUZZ_HANDLES)
					g.h[g.nh++] = h;
				else
					vpc_core_close(g.sys, h);
			}
		} else
			close_one(&g, r[1]);
		free(key);
		hloop_reclaim();
	}
	fuzz_graph_destroy(&g);
	return (0);
}
