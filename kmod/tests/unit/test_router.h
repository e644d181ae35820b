/* SPDX-License-Identifier: BSD-2-Clause */
/* test_router.h: the router, its routes and its data path (test_router.c). */
#ifndef _TEST_ROUTER_H_
#define _TEST_ROUTER_H_

struct vpc_sys;

/* Runs every case; returns how many passed and adds failures to *failed. */
int test_router(struct vpc_sys *sys, int *failed);

#endif
