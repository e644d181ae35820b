/* SPDX-License-Identifier: BSD-2-Clause */
/* test_burst.h: bursts against frame by frame (test_burst.c). */
#ifndef _TEST_BURST_H_
#define _TEST_BURST_H_

struct vpc_sys;

/* Runs every case on twin systems of its own (sys: unused); returns how
 * many passed and adds failures to *failed. */
int test_burst(struct vpc_sys *sys, int *failed);

#endif
