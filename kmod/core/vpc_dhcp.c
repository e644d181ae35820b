/*
 * vpc_dhcp.c: DHCPv4 (RFC 2131) served from the vmnic's configuration.
 *
 * Not implemented yet: the frame goes on to the switch as before.
 */
#include "vpc_l3.h"

bool
vpc_dhcp_input(struct vpc_l3in *in, struct vpc_pkt *p)
{
	(void)in;
	(void)p;
	return (false);
}
