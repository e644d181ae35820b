/* SPDX-License-Identifier: BSD-2-Clause */
/* test_vnet.h: the host's TAP offloads (test_vnet.c). */
#ifndef _TEST_VNET_H_
#define _TEST_VNET_H_

struct vpc_sys;

/* Runs every case (sys: only checked to hold together after each);
 * returns how many passed and adds failures to *failed. */
int test_vnet(struct vpc_sys *sys, int *failed);

#endif
