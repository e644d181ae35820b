/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_router_setup: what the benches of routed forwarding (rtr_bench.c,
 * natfwd_bench.c) build before they measure: one system, a vcc, two
 * switches of different subnets each with an uplink and a router port,
 * vmnics and remote VMs on them, a router attached to both.  Any failure
 * ends the program (a bench has nothing to undo).
 */
#ifndef _BENCH_ROUTER_SETUP_H_
#define _BENCH_ROUTER_SETUP_H_

#include <stdint.h>

#include "vpc_impl.h"

/* The system the bench drives and the privileged caller it uses. */
extern struct vpc_sys *bench_sys;
extern const struct vpc_call bench_call;

/*
 * The thread's CPU time: everything measured runs in this one thread, and
 * on a shared machine wall time also counts the time others had the CPU,
 * which moved the ratios by 0.2 from run to run.
 */
double bench_now(void);
/* Exit with "prog: what: e" unless e is 0. */
void bench_must(int e, const char *what);
int bench_ctl(struct vpc_hdl *h, vpc_op_t op, const void *k, size_t kl, void *v, size_t vl);
/* A new object of this type, id number n. */
struct vpc_hdl *bench_open(unsigned type, uint8_t n);

/* The vcc and the two switches: 10.1.0.0/24 (VNI vni) and 10.2.0.0/24
 * (VNI vni + 1), each with an uplink to the vcc and a router port. */
struct bench_net {
	struct vpc_hdl *vcc, *sw1, *sw2;
};

/* Start the host loop and the system (prog names the bench in errors),
 * then build net: objects 1 (the vcc), 2 and 3 (the switches). */
void bench_net_init(struct bench_net *net, const char *prog, uint32_t vni);
/* A vmnic port of sw with this MAC: its handle; *desc its descriptor. */
struct vpc_hdl *bench_vmnic(struct vpc_hdl *sw, const uint8_t mac[6], uint32_t *desc);
/* A remote MAC on sw (CAM) with an address (neighbour table). */
void bench_remote(struct vpc_hdl *sw, const uint8_t mac[6], const uint8_t ip[4]);
/* Attach the router rtr to the switch sw. */
void bench_attach(struct vpc_hdl *rtr, struct vpc_hdl *sw);
/* Close the net's objects, then tear the system down. */
void bench_net_fini(struct bench_net *net);

#endif /* _BENCH_ROUTER_SETUP_H_ */
