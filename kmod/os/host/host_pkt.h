/* SPDX-License-Identifier: BSD-2-Clause */
/* host_pkt.h: making and reading the host's flat packets. */
#ifndef _HOST_PKT_H_
#define _HOST_PKT_H_

#include <stdint.h>

#include "host_os.h"

/* Room for the VXLAN header and a VLAN tag without copying. */
#define HOST_PKT_HEADROOM 64

struct vpc_pkt;
/* A packet holding a copy of data (or len uninitialised bytes if NULL). */
struct vpc_pkt *host_pkt_new(const void *data, uint32_t len);
uint8_t        *host_pkt_data(struct vpc_pkt *p);

#endif
