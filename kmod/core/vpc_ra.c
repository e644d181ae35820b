/*
 * vpc_ra.c: router solicitations (answered with an advertisement) and the router advertisements and redirects a VM must not send (RFC 4861, RFC 6105).
 *
 * Not implemented yet: the frame goes on to the switch as before.
 */
#include "vpc_l3.h"

bool
vpc_ra_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	(void)in;
	(void)p;
	return (false);
}
