/* SPDX-License-Identifier: BSD-2-Clause */
/* test_l3.h: ARP/ND, the neighbour table and L3 upcalls (test_l3.c). */
#ifndef _TEST_L3_H_
#define _TEST_L3_H_

struct vpc_sys;

/* Runs every case; returns how many passed and adds failures to *failed. */
int test_l3(struct vpc_sys *sys, int *failed);

#endif
