/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_handles.c: os_handle_install for programs that drive the core
 * directly (C tests, fuzzers, abi_dump): a plain table stands in for the
 * process's descriptor table.
 */
#include <stddef.h>

#include "vpc_core.h"
#include "test_handles.h"

struct vpc_hdl *test_handles[TEST_MAX_HANDLES];

int
test_handle_add(struct vpc_hdl *h)
{
	int i;

	for (i = 0; i < TEST_MAX_HANDLES; i++) {
		if (test_handles[i] == NULL) {
			test_handles[i] = h;
			return (i);
		}
	}
	return (-1);
}

int
os_handle_install(struct vpc_caller *c, struct vpc_hdl *h, vpc_handle_t *out)
{
	int fd;

	(void)c;
	if ((fd = test_handle_add(h)) < 0)
		return (VPC_EMFILE);
	*out = fd;
	return (0);
}

void
os_handle_uninstall(struct vpc_caller *c, vpc_handle_t fd)
{
	(void)c;
	if (fd >= 0 && fd < TEST_MAX_HANDLES)
		test_handles[fd] = NULL;
}
