/*
 * vpc_nd.c: neighbour solicitations and advertisements from a VM (RFC 4861).
 *
 * Not implemented yet: the frame goes on to the switch as before.
 */
#include "vpc_l3.h"

bool
vpc_nd_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	(void)in;
	(void)p;
	return (false);
}
