/* SPDX-License-Identifier: BSD-2-Clause */
/* host_upcall.h: the host kernel's upcall socket (host_upcall.c). */
#ifndef _HOST_UPCALL_H_
#define _HOST_UPCALL_H_

struct vpc_sys;

int  host_upcall_start(struct vpc_sys *sys, int listen_fd);
void host_upcall_stop(void);

#endif
