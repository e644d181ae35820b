/* SPDX-License-Identifier: BSD-2-Clause */
/* host_nic.h: the host kernel's TAP-backed vmnics (host_nic.c). */
#ifndef _HOST_NIC_H_
#define _HOST_NIC_H_

#include <stdint.h>

/* TAPs still being removed past which a new one is refused (EAGAIN). */
extern unsigned host_tap_backlog_max;
/* Tests only: while this file exists, TAPs queued for removal stay queued. */
extern const char *host_tap_reap_hold;
/* Wait for the reaper to close every TAP it was given. */
void host_nic_fini(void);

#endif
