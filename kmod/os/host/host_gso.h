/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_gso.h: the underlay's UDP segmentation offloads on the host kernel
 * (host_gso.c).  A run of equal-size datagrams of one flow leaves in one
 * sendmsg(2) with UDP_SEGMENT, and what arrives coalesced (UDP_GRO) is cut
 * back into its datagrams: Linux carries the run through its stack, and
 * across veth and bridges, as one packet.
 */
#ifndef _HOST_GSO_H_
#define _HOST_GSO_H_

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Datagrams of a run at most, and their UDP payloads' bytes together. */
#define HOST_GSO_MAX_SEGS  64
#define HOST_GSO_MAX_BYTES (65535 - 40 - 8)

#define HOST_GSO_SLOTS 16
/* A sender socket that sent nothing for this long is closed (its port freed). */
#define HOST_GSO_IDLE_NS (10ull * 1000000000)

struct os_timer;

/*
 * UDP sockets bound to the vcc's address and a flow's source port, made
 * when that port first sends a run: the source port must follow the flow
 * hash (RFC 7348), and a UDP socket sends from its own port only.  Any
 * slot holds any port (a run looks at all HOST_GSO_SLOTS): a new port takes
 * a free slot, else the one whose last run is oldest, so up to that many
 * flows sending at once each keep their socket, whatever their ports (a
 * slot per port modulo the count made two flows that shared a remainder
 * close and reopen a socket at each run).  A port that cannot be bound
 * (another program has it) is remembered, and its runs go the usual way.
 * Each holds its port only while its flow sends: idle for
 * HOST_GSO_IDLE_NS, it is closed (and a port that could not be bound is
 * tried again later).
 */
struct host_gso {
	struct sockaddr_storage addr;   /* the vcc's, port 0 */
	socklen_t        addrlen;
	struct os_timer *idle;          /* closes idle slots; NULL until needed */
	struct {
		int      fd;            /* -1: none */
		uint16_t sport;
		bool     unbindable;
		uint64_t used_ns;       /* last run sent (or bind tried) */
		uint64_t used_seq;      /* which run that was: the LRU order */
	} slot[HOST_GSO_SLOTS];
	uint64_t         runs;          /* runs asked for (a clock for LRU) */
	uint64_t         opened;        /* sender sockets made (tests) */
};

/* No socket yet; addr NULL: nothing sends runs until it is set (again). */
void host_gso_init(struct host_gso *g, const struct sockaddr_storage *addr,
    socklen_t addrlen);
/*
 * What every socket that sends to the underlay gets: whatever arrives on it
 * is dropped (a filter), and it never fragments (don't-fragment).
 */
void host_underlay_tx_opts(int fd, int af);
void host_gso_close(struct host_gso *g);

/*
 * Send n UDP payloads of one flow (each iov one datagram's payload, all but
 * the last seg bytes, the last no more) to dst (its port set) from sport,
 * as one.  0 if all left; -1 if none did (the caller sends them the usual
 * way, which says what became of each).
 */
int host_gso_send(struct host_gso *g, uint16_t sport,
    const struct sockaddr_storage *dst, socklen_t dstlen,
    const struct iovec *iov, unsigned n, uint16_t seg);

/* Ask the kernel to hand fd's datagrams over coalesced. */
void host_gso_rx_enable(int fd);
/* The size of the datagrams a received buffer holds end to end (0: one). */
uint16_t host_gso_rx_seg(struct msghdr *msg);

#endif
