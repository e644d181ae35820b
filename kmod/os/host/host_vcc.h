/* SPDX-License-Identifier: BSD-2-Clause */
/* host_vcc.h: the host kernel's vcc sockets (host_vcc.c). */
#ifndef _HOST_VCC_H_
#define _HOST_VCC_H_

#include <stdint.h>

extern uint64_t host_fail_udp_send_every;   /* fault injection: every Nth send fails */

#endif
