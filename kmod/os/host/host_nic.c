/*
 * host_nic.c: the host kernel's side of a vmnic.  (The TAP device behind it
 * arrives with the data path; until then a vmnic is configuration only.)
 */
#include "vpc_impl.h"

int
os_nic_attach(struct vpc_nic *nic)
{
	nic->os = NULL;
	return (0);
}

void
os_nic_detach(struct vpc_nic *nic)
{
	nic->os = NULL;
}

void
os_nic_mac_changed(struct vpc_nic *nic)
{
	(void)nic;
}
