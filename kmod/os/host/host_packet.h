/* SPDX-License-Identifier: BSD-2-Clause */
/* host_packet.h: receiving a frame from an AF_PACKET socket. */
#ifndef HOST_PACKET_H
#define HOST_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What came with a frame besides its bytes. */
struct hpacket_rx {
	bool     outgoing;      /* our own transmission, looped back */
	bool     tagged;        /* it had an 802.1Q tag, which Linux took out */
	uint16_t tci;           /* that tag's TCI (priority, DEI, VLAN id) */
};

/*
 * One frame from fd (a socket with PACKET_AUXDATA on) into buf: its length,
 * or -1 with errno (EAGAIN: none waiting).  Linux moves a received VLAN tag
 * out of the frame into the auxdata; rx says whether there was one.
 */
ssize_t hpacket_recv(int fd, void *buf, size_t len, struct hpacket_rx *rx);

#endif
