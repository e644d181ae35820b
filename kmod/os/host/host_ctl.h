/* SPDX-License-Identifier: BSD-2-Clause */
/* host_ctl.h: vpc-hostd's control plane (host_ctl.c). */
#ifndef _HOST_CTL_H_
#define _HOST_CTL_H_

struct vpc_sys;

/* Serve vpc_open/vpc_ctl on an already listening socket. */
int  host_ctl_start(struct vpc_sys *sys, int listen_fd);
/* Close every handle (their objects may die) and the listening socket. */
void host_ctl_stop(void);

#endif
