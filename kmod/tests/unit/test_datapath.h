/* SPDX-License-Identifier: BSD-2-Clause */
/* test_datapath.h: the data-path cases of test_core (test_datapath.c). */
#ifndef _TEST_DATAPATH_H_
#define _TEST_DATAPATH_H_

struct vpc_sys;

/* Runs every case; returns how many passed and adds failures to *failed. */
int test_datapath(struct vpc_sys *sys, int *failed);

#endif
