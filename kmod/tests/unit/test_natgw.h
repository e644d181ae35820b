/* SPDX-License-Identifier: BSD-2-Clause */
/* test_natgw.h: vpclink and vpcnat as objects, their ops and data path (test_natgw.c). */
#ifndef _TEST_NATGW_H_
#define _TEST_NATGW_H_

struct vpc_sys;

/* Runs every case; returns how many passed and adds failures to *failed. */
int test_natgw(struct vpc_sys *sys, int *failed);

#endif
