/* SPDX-License-Identifier: BSD-2-Clause */
/* test_gso.h: the host's underlay sender sockets (test_gso.c). */
#ifndef _TEST_GSO_H_
#define _TEST_GSO_H_

struct vpc_sys;

/* Runs every case; returns how many passed and adds failures to *failed. */
int test_gso(struct vpc_sys *sys, int *failed);

#endif
