/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_packet.c: one frame from an AF_PACKET socket, with what Linux says
 * about it beside the bytes: whether it is our own transmission coming back,
 * and the 802.1Q tag it took out of the frame (PACKET_AUXDATA).  Both the
 * VNI 0 uplink (host_vcc.c: puts the tag back) and the vpclink (host_link.c:
 * a tagged frame is a VLAN's, not the link's) need exactly this.
 */
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>

#include "host_packet.h"

ssize_t
hpacket_recv(int fd, void *buf, size_t len, struct hpacket_rx *rx)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct sockaddr_ll sll;
	struct tpacket_auxdata aux;
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &sll;
	msg.msg_namelen = sizeof(sll);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	memset(rx, 0, sizeof(*rx));
	if ((n = recvmsg(fd, &msg, MSG_DONTWAIT)) < 0)
		return (-1);
	rx->outgoing = sll.sll_pkttype == PACKET_OUTGOING;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		if ((aux.tp_status & TP_STATUS_VLAN_VALID) != 0) {
			rx->tagged = true;
			rx->tci = aux.tp_vlan_tci;
		}
	}
	return (n);
}
