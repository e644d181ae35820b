/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rand.h: reproducible pseudo-random bytes for tests that compare two
 * implementations on many inputs (an LCG: the same bytes on every run and
 * every machine, so a failure names an input that fails again).
 */
#ifndef _TEST_RAND_H_
#define _TEST_RAND_H_

#include <stddef.h>
#include <stdint.h>

/* Fill b[0..n) from *state, advancing it. */
static inline void
test_rand_bytes(uint8_t *b, size_t n, uint32_t *state)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*state = *state * 1103515245u + 12345u;
		b[i] = (uint8_t)(*state >> 16);
	}
}

#endif
