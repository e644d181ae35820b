/* SPDX-License-Identifier: BSD-2-Clause */
/* test_nat.h: the NAT translation engine (test_nat.c). */
#ifndef _TEST_NAT_H_
#define _TEST_NAT_H_

struct vpc_sys;

/* Runs every case; returns how many passed and adds failures to *failed. */
int test_nat(struct vpc_sys *sys, int *failed);

#endif
