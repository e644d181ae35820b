/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_ifnet.c: the vmnic ifnet belongs to its object: "ifconfig vmnicN
 * destroy" and "ifconfig vmnic create" are refused.
 */
#include "tests.h"
#include "report.h"

void
ifnet_rules(long sock, long vmnicd)
{
	struct ifreq ifr;
	char name[VPC_IFNAMSIZ];

	if (nic_ifname(vmnicd, name) != 0)
		return;
	expect("ifnet: ifconfig vmnicN destroy is EBUSY while the object lives",
	    if_destroy(sock, name), -EBUSY);
	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, "vmnic");
	expect("ifnet: ifconfig vmnic create is EOPNOTSUPP",
	    sc3(SYS_ioctl, sock, SIOCIFCREATE2, &ifr), -EOPNOTSUPP);
}
