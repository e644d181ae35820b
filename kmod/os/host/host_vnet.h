/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_vnet.h: the offloads of a vmnic's TAP (host_vnet.c).  The TAP is
 * opened with a virtio-net header on every frame and told that we take
 * partial checksums and TCP segmentation (TSO): the VM's stack then hands
 * over TCP in segments of up to 64 KB with the checksum left to us, as it
 * would to a NIC, and we do what the NIC would before the switch sees any
 * of it: cut each into the frames it stands for and complete checksums.
 */
#ifndef _HOST_VNET_H_
#define _HOST_VNET_H_

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#define HOST_VNET_HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr))

/* Cutting one TSO frame, a frame at a time (host_vnet_next). */
struct host_tso {
	const uint8_t *frame;
	uint32_t       len;
	uint32_t       hdrlen;          /* Ethernet, IP and TCP headers */
	uint32_t       l4off;           /* the TCP header */
	uint32_t       mss;
	uint32_t       off;             /* payload bytes cut so far */
	uint16_t       seg;             /* frames cut so far */
	bool           v6;
};

/*
 * What one read of the TAP (virtio-net header, then the frame) stands for.
 * Returns the frame to hand to the switch as it is (its checksum completed
 * where the header asked for that), or NULL with *tso set up when it is a
 * TSO frame to cut.  Metadata that does not make sense of the frame leaves
 * it as it is: the switch then drops or answers it as any other frame.
 * Too short for a header: NULL, with tso->len 0.
 */
struct vpc_pkt *host_vnet_frame(uint8_t *buf, uint32_t n, struct host_tso *tso);
/* The next frame cut from tso; NULL when all were (or out of memory). */
struct vpc_pkt *host_vnet_next(struct host_tso *tso);

/* Write a frame to a TAP behind its header; false if it did not all go. */
bool host_vnet_write(int fd, const struct virtio_net_hdr *vh,
         const uint8_t *frame, uint32_t len);
/* Fault injection (tests): every Nth TAP write fails as if refused; 0: none. */
extern uint64_t host_fail_tap_write_every;

/* The Internet checksum of data, folded, not complemented (RFC 1071). */
uint16_t host_csum_fold(uint64_t sum);
uint64_t host_csum_add(uint64_t sum, const uint8_t *data, uint32_t len);
/* The sum of the TCP pseudo-header of a frame (Ethernet, then IPv4, or IPv6
 * with TCP next) for a TCP length, not folded. */
uint64_t host_tcp_pseudo(const uint8_t *frame, bool v6, uint32_t tcplen);

#endif
