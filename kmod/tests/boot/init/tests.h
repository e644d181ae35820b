/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tests.h: the test areas, one file each, in the order main.c runs them.
 * Most areas after the seed's run on one data-path fixture: a vcc on
 * 127.0.0.1, a switch with VNI 789 whose uplink goes into it, vmnic ports A
 * and B with bpf(4) on each, and the upcall device open.
 */
#ifndef _VPC_INIT_TESTS_H_
#define	_VPC_INIT_TESTS_H_

#include "helpers.h"

/* MACs of the tests: A and B are vmnics of the data-path switch. */
extern const uint8_t mac_a[6], mac_b[6];
extern const uint8_t mac_x[6];		/* remote, behind 127.0.0.1 */
extern const uint8_t mac_y[6], mac_z[6], mac_w[6], mac_v[6]; /* unknown */
extern const uint8_t loopback[4];

#define	DP_VNI		789

struct dp {
	long		sock;		/* for interface ioctls */
	vpc_id_t	vccid;
	long		vccd, swd;	/* handles */
	long		a, b;		/* vmnic handles */
	char		na[VPC_IFNAMSIZ], nb[VPC_IFNAMSIZ];
	vpc_vcc_t	vc;		/* the vcc's configuration */
	struct tap	ta, tb;		/* bpf on vmnicA, vmnicB */
	long		up;		/* /dev/vpc_upcall, O_NONBLOCK */
	long		devctl;		/* /dev/devctl, non-blocking */
};

/* t_seed.c: the seed's two examples through the raw ABI. */
void	seed_nic(void);
long	seed_switch(long *vmnicd);

/* t_badinput.c: every refusal with its errno, and nothing changed. */
void	efault_rows(long swd);
void	bad_inputs(long swd);

/* t_ifnet.c: the vmnic ifnet belongs to its object. */
void	ifnet_rules(long sock, long vmnicd);

/* t_datapath.c: the fixture, and frames through it step by step. */
int	dp_setup(struct dp *d);
void	dp_cam(struct dp *d);
int	dp_taps(struct dp *d);
void	dp_local(struct dp *d);
void	dp_remote(struct dp *d);
void	dp_teardown(struct dp *d);

/* t_dhcp.c: DHCP and router advertisements from the switch. */
void	dhcp_ra(long sock);

/* t_l3.c: ARP, ND and the gateway answered by the switch. */
void	l3_checks(long sock);

/* t_router.c: two switches routed through a router (issue 13). */
void	router_checks(long sock);

/* t_fw.c: a port's ingress rule set on the data path (issue 14). */
void	fw_checks(long sock);

/* t_nat.c: vpcnat and vpclink objects and their ops (the link unbound). */
void	nat_checks(void);

/* t_link.c: vpclink and the VNI 0 uplink on an epair(4) (the ifnet hook). */
void	link_checks(long sock);
long	link_unload_prep(long sock, char ifname[VPC_IFNAMSIZ]);
void	link_unload_after(long sock, const char *ifname);

/* t_ops.c: the ops no other area calls by name, and their bad key sizes. */
void	ops_checks(void);

/* t_mtu.c: MTUs follow the underlay; too big gets ICMP. */
void	mtu_rules(struct dp *d);
void	too_big_rules(struct dp *d);

/* t_upcall.c: /dev/vpc_upcall. */
void	up_open(struct dp *d);
void	up_miss(struct dp *d);
void	up_requeue(struct dp *d);
void	up_kqueue(struct dp *d);
void	up_blocking(struct dp *d);
void	up_eintr(struct dp *d);

/* t_devctl.c: lifecycle events on devctl(4). */
void	devctl_open(struct dp *d);
void	devctl_attached(struct dp *d);
void	devctl_detached(struct dp *d);
void	agent_events(struct dp *d);

/* t_ipv6.c: the IPv6 underlay. */
void	ipv6_underlay(struct dp *d);

/* t_bhyve.c: guests attached as bhyve's netgraph backend attaches them. */
void	bhyve_attach(struct dp *d);

/* t_mbuf.c: mbuf pressure on the hold queue. */
void	mbuf_pressure(struct dp *d);

/* t_nesting.c: the underlay routed back into a vmnic. */
void	nesting_guard(long sock);

/* t_vnet.c: a vmnic in a VNET jail. */
void	vnet_jail(long sock);

/* t_race.c: ifconfig destroy racing DESTROY. */
void	destroy_race(long sock);

/* t_lifetime.c: handles are files; lifetime, commit, destroy. */
void	lifetime(void);

/* t_privilege.c: what an unprivileged process may do. */
void	privilege(void);

/* t_compat32.c: a 32-bit process calling the syscalls. */
void	compat32(void);

/* t_unload.c: unloading is refused while anything is in use. */
void	unload_rules(long fileid);

#endif /* !_VPC_INIT_TESTS_H_ */
