/*
 * vpc_arp.c: ARP requests from a VM (RFC 826), answered from the neighbour table.
 *
 * Not implemented yet: the frame goes on to the switch as before.
 */
#include "vpc_l3.h"

bool
vpc_arp_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	(void)in;
	(void)p;
	return (false);
}
