/* SPDX-License-Identifier: BSD-2-Clause */
/* test_fw.h: the port firewall (test_fw.c). */
#ifndef _TEST_FW_H_
#define _TEST_FW_H_

struct vpc_sys;

/* Runs every case; returns how many passed and adds failures to *failed. */
int test_fw(struct vpc_sys *sys, int *failed);

#endif
