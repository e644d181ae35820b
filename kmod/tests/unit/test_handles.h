/* SPDX-License-Identifier: BSD-2-Clause */
/* test_handles.h: a descriptor table for programs that drive the core. */
#ifndef _TEST_HANDLES_H_
#define _TEST_HANDLES_H_

#define TEST_MAX_HANDLES 1024

struct vpc_hdl;
extern struct vpc_hdl *test_handles[TEST_MAX_HANDLES];
int test_handle_add(struct vpc_hdl *h);

#endif
