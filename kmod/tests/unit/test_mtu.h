/* SPDX-License-Identifier: BSD-2-Clause */
/* test_mtu.h: the MTU and ICMP cases of test_core (test_mtu.c). */
#ifndef _TEST_MTU_H_
#define _TEST_MTU_H_

struct vpc_sys;

/* Runs every case; returns how many passed and adds failures to *failed. */
int test_mtu(struct vpc_sys *sys, int *failed);

#endif
