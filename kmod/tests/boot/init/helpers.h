/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * helpers.h: what the test areas share: the ABI through the real system
 * calls (abi.c), interfaces, bpf(4) and sysctl(3) (net.c).
 */
#ifndef _VPC_INIT_HELPERS_H_
#define	_VPC_INIT_HELPERS_H_

#include "sys.h"

#define	WORD(t)	VPC_TYPE_WORD(t)

/* ---- abi.c: vpc_open(2), vpc_ctl(2) -------------------------------------------- */

extern long sys_open_no, sys_ctl_no, vpc_fileid;

long	slot(const char *modname);	/* a dynamic syscall's number */
long	vopen(const vpc_id_t *id, vpc_type_t type, vpc_flags_t flags);
/* vpc_ctl; *vallen in and out as in vpc.h.  0 or -errno. */
long	vctl(long h, vpc_op_t op, const void *key, size_t keylen, void *val,
	    size_t *vallen);
/* The usual fixed-size case: a value of exactly n bytes (or none). */
long	vctl_n(long h, vpc_op_t op, const void *key, size_t keylen, void *val,
	    size_t n);
/* The core's own invariant checker (VPC_OP_SYS_CHECK), as a check. */
void	invariants(const char *name);
vpc_id_t mkid(unsigned n);
vpc_txn_t get_txn(long h);
long	nic_ifname(long h, char name[VPC_IFNAMSIZ]);
uint64_t generation(long h);
long	port_count(long swd);
void	sw_stats(long swd, vpc_sw_stats_t *st);
void	vcc_stats(long vccd, vpc_vcc_stats_t *st);
/*
 * A vmnic port with this source MAC (and a vmnic the port owns): the
 * vmnic's handle, or -errno; the port's id in *port_id unless NULL.
 */
long	add_vmnic_port(long swd, const uint8_t mac[6], vpc_id_t *port_id);
/* SW_DEL_PORT: the port goes, and the vmnic it made with it. */
long	del_port(long swd, const vpc_id_t *port_id);
long	destroy(long h);
long	commit(long h);

/* ---- net.c: interfaces, sysctl, devctl ------------------------------------------ */

void	copyname(char *dst, const char *src);
long	if_up(long s, const char *name);
long	if_flags(long s, const char *name);	/* flags, or -errno (ENXIO: gone) */
long	if_mtu(long sock, const char *name);
long	if_set_mtu(long sock, const char *name, int mtu);
long	if_index(long sock, const char *name);
long	if_addr4(long sock, const char *name, const uint8_t addr[4],
	    int prefixlen);
long	if_destroy(long sock, const char *name);
/* Capabilities (ifconfig -txcsum6 ...): the current ones, or -errno. */
long	if_getcaps(long sock, const char *name);
long	if_setcaps(long sock, const char *name, int caps);
/* ifconfig NAME inet6 ADDR/PREFIXLEN alias [no_dad] */
long	if_addr6(long sock, const char *name, const uint8_t addr[16],
	    int prefixlen);
/* A static ARP entry (arp -s), through a routing socket. */
long	arp_set(long sock, const char *ifname, const uint8_t ip[4],
	    const uint8_t mac[6]);
/* A static neighbour entry (ndp -s), the same way. */
long	ndp_set(long sock, const char *ifname, const uint8_t ip6[16],
	    const uint8_t mac[6]);

uint64_t sysctl_u64(const char *name);
long	sysctl_int(const char *name);
long	sysctl_set_int(const char *name, int v);
/*
 * Wait up to ~5 s for process pid to sleep on wmesg (kern.proc.pid's
 * kinfo_proc carries it): 1 once it does, else 0.
 */
int	wait_sleeping(long pid, const char *wmesg);
/* Is there an event containing what on /dev/devctl (non-blocking)? */
int	devctl_has(long fd, const char *what);

/* The Internet checksum (RFC 1071): 0 over a range carrying a valid one. */
uint16_t cksum(const uint8_t *b, size_t len);
uint32_t cksum_add(uint32_t sum, const uint8_t *b, size_t len);
uint16_t cksum_fold(uint32_t sum);

/* ---- net.c: bpf(4), frames in and out of an interface ---------------------------- */

struct tap {
	long		fd;
	unsigned	blen;
	uint8_t		buf[4096];
};

#define	TEST_ETHERTYPE	0x88b5		/* IEEE local experimental */

long	tap_open(struct tap *t, const char *ifname);
void	tap_close(struct tap *t);
/* A 64-byte test frame (TEST_ETHERTYPE, the tag in its first byte). */
void	test_frame(uint8_t f[64], const uint8_t dst[6], const uint8_t src[6],
	    uint8_t tag);
long	tap_send(struct tap *t, const uint8_t dst[6], const uint8_t src[6],
	    uint8_t tag);
/* Is f (len bytes) our test frame to dst with this tag? */
int	is_test_frame(const uint8_t *f, long len, const uint8_t dst[6],
	    uint8_t tag);
/*
 * Wait up to ~3 s for a captured packet match() accepts; copy it out.
 * Its length, or 0.
 */
long	tap_find(struct tap *t, int (*match)(const uint8_t *, long, void *),
	    void *arg, uint8_t *out, size_t max);
/* Wait up to ~3 s for our test frame with this tag. */
int	tap_expect(struct tap *t, const uint8_t dst[6], uint8_t tag);
/* Wait up to ~3 s for an ICMP (IPv4) frame to dst; copy it out. */
long	tap_expect_icmp(struct tap *t, const uint8_t dst[6], uint8_t *out,
	    size_t max);

#endif /* !_VPC_INIT_HELPERS_H_ */
