/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * socket_paths: prints the host kernel's default control socket and upcall
 * socket, one a line, as libvpc and vpc-hostd compute them
 * (vpc_wire_default_path, vpc_wire_upcall_path) in this environment and
 * under this effective uid.  test/abi.test.ts runs it to check that the
 * TypeScript side (src/ffi/host.ts) follows this one definition.
 */
#include <limits.h>
#include <stdio.h>

#include "host_proto.h"

int
main(void)
{
	char ctl[PATH_MAX], up[PATH_MAX];

	vpc_wire_default_path(ctl, sizeof(ctl));
	vpc_wire_upcall_path(ctl, up, sizeof(up));
	printf("%s\n%s\n", ctl, up);
	return (0);
}
