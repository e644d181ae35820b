/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libvpc_own.h: what libvpc's own parts (the upcall relay) call inside the
 * library; nothing here is exported.
 */
#ifndef _LIBVPC_OWN_H_
#define _LIBVPC_OWN_H_

#include <stddef.h>

#include "vpc.h"

/*
 * vpc_ctl for buffers libvpc owns (the relay's answers and results), which
 * cannot fault: without the probe that proves a caller's *vallen and value
 * writable before a changing op is sent (libvpc.c, user_val_ok).  That probe
 * is four system calls (an fstat, two writes and a readv of a pipe), each
 * on a lone miss's path between the relay reading the request and vpc-hostd
 * getting its answer.
 */
int libvpc_ctl_own(vpc_handle_t h, vpc_op_t op, size_t keylen, const void *key,
    size_t *vallen, void *buf);

#endif
