/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_bhyve.c: a VM on a vmnic, attached the way stock bhyve 14.2 attaches
 * one with
 *
 *   -s 5:0,virtio-net,netgraph,path=vmnicN:,peerhook=lower[,socket=NAME]
 *
 * usr.sbin/bhyve/net_backend_netgraph.c (ng_init) does, through
 * libnetgraph: NgMkSockNode() (an ng_socket control socket; with socket=
 * the node is named by bind(2), otherwise its id is learned with
 * NGM_NODEINFO; then a data socket connect(2)ed to "[id]:" or "NAME:"),
 * NGM_CONNECT from "." to path, hook "vmlink" (the default), peerhook;
 * closes the control socket; makes the data socket non-blocking and sizes
 * its buffers from kern.ipc.maxsockbuf; then every guest frame is one
 * writev(2) on the data socket (tap_send) and every frame for the guest one
 * readv(2) (tap_recv).  guest_attach() below does exactly that, with
 * write(2)/read(2).  On the kernel side the path is ng_ether's "lower"
 * hook of the vmnic: what the guest writes goes through
 * ng_ether_rcv_lower() and ether_output_frame() into vmnic_transmit(), the
 * switch; what the switch delivers goes through if_input(), ether_input()
 * and ng_ether_input() to the guest, and not to the host's stack.
 */
#include "tests.h"
#include "report.h"

static const uint8_t mac_g1[6] = { 0x02, 0, 0, 0, 0xb, 0x01 };
static const uint8_t mac_g2[6] = { 0x02, 0, 0, 0, 0xb, 0x02 };
static const uint8_t mac_g3[6] = { 0x02, 0, 0, 0, 0xb, 0x03 };

struct guest {
	long		ds;		/* the data socket: the VM's NIC */
	uint32_t	id;		/* its ng_socket node */
};

/* ---- libnetgraph, as far as bhyve uses it ---------------------------------------- */

static void
ng_addr(struct sockaddr_ng *sg, const char *path)
{
	size_t n = slen(path);

	memset(sg, 0, sizeof(*sg));
	memcpy(sg->sg_data, path, n + 1);
	sg->sg_family = AF_NETGRAPH;
	sg->sg_len = (uint8_t)(n + 1 + NGSA_OVERHEAD);
}

/* NgSendMsg(): a generic message to path; NgRecvMsg() for a reply. */
static long
ng_send_msg(long cs, const char *path, uint32_t cmd, const void *args,
    size_t arglen, void *reply, size_t replylen)
{
	static uint32_t token;
	struct {
		struct ng_msghdr	h;
		uint8_t			data[sizeof(struct ngm_connect)];
	} msg;
	struct sockaddr_ng sg;
	long r;

	if (arglen > sizeof(msg.data))
		return (-EINVAL);
	memset(&msg, 0, sizeof(msg));
	msg.h.version = NG_VERSION;
	msg.h.typecookie = NGM_GENERIC_COOKIE;
	msg.h.token = ++token;
	msg.h.cmd = cmd;
	msg.h.arglen = (uint32_t)arglen;
	memcpy(msg.h.cmdstr, "cmd", 4);
	memcpy(msg.data, args, arglen);
	ng_addr(&sg, path);
	r = sc6(SYS_sendto, cs, (long)&msg, (long)(sizeof(msg.h) + arglen), 0,
	    (long)&sg, sg.sg_len);
	if (r < 0 || (cmd & NGM_HASREPLY) == 0)
		return (r < 0 ? r : 0);
	if (poll1(cs, POLLIN, 3000) <= 0)
		return (-EAGAIN);
	return (sc6(SYS_recvfrom, cs, (long)reply, (long)replylen, 0, 0, 0));
}

static long
ng_nodeinfo(long cs, const char *path, struct nodeinfo *ni)
{
	struct {
		struct ng_msghdr	h;
		struct nodeinfo		ni;
	} reply;
	long r;

	memset(&reply, 0, sizeof(reply));
	r = ng_send_msg(cs, path, NGM_NODEINFO, 0, 0, &reply, sizeof(reply));
	if (r < 0)
		return (r);
	if (r < (long)sizeof(reply))
		return (-EINVAL);
	*ni = reply.ni;
	return (0);
}

static long
ng_connect(long cs, const char *from, const char *to, const char *ourhook,
    const char *peerhook)
{
	struct ngm_connect c;

	memset(&c, 0, sizeof(c));
	memcpy(c.path, to, slen(to) + 1);
	memcpy(c.ourhook, ourhook, slen(ourhook) + 1);
	memcpy(c.peerhook, peerhook, slen(peerhook) + 1);
	return (ng_send_msg(cs, from, NGM_CONNECT, &c, sizeof(c), 0, 0));
}

/* "[%x]:" */
static void
id_path(char *p, uint32_t id)
{
	static const char hex[] = "0123456789abcdef";
	int i, n = 0;

	p[n++] = '[';
	for (i = 28; i > 0 && ((id >> i) & 0xf) == 0; i -= 4)
		;
	for (; i >= 0; i -= 4)
		p[n++] = hex[(id >> i) & 0xf];
	p[n++] = ']';
	p[n++] = ':';
	p[n] = '\0';
}

/* ng_init() of net_backend_netgraph.c: 0, or -errno. */
static long
guest_attach(struct guest *g, const char *ifname, const char *sockname)
{
	char path[NG_NODESIZ + 2], node[NG_NODESIZ + 4];
	struct sockaddr_ng sg;
	struct nodeinfo ni;
	unsigned long maxsb = 0;
	size_t len = sizeof(maxsb);
	long cs, r;
	int sb;

	g->ds = -1;
	cs = sc3(SYS_socket, AF_NETGRAPH, SOCK_DGRAM, NG_CONTROL);
	if (cs < 0)
		return (cs);
	if (sockname != NULL) {
		ng_addr(&sg, sockname);
		if ((r = sc3(SYS_bind, cs, &sg, sg.sg_len)) < 0)
			goto out;
	}
	if ((r = ng_nodeinfo(cs, ".", &ni)) < 0)
		goto out;
	g->id = ni.id;
	if (sockname != NULL) {
		memcpy(node, sockname, slen(sockname));
		memcpy(node + slen(sockname), ":", 2);
	} else
		id_path(node, ni.id);
	if ((g->ds = sc3(SYS_socket, AF_NETGRAPH, SOCK_DGRAM, NG_DATA)) < 0) {
		r = g->ds;
		goto out;
	}
	ng_addr(&sg, node);
	if ((r = sc3(SYS_connect, g->ds, &sg, sg.sg_len)) < 0)
		goto out;
	memcpy(path, ifname, slen(ifname));
	memcpy(path + slen(ifname), ":", 2);
	if ((r = ng_connect(cs, ".", path, "vmlink", "lower")) < 0)
		goto out;
	sc3(SYS_close, cs, 0, 0);
	cs = -1;
	if ((r = sc3(SYS_fcntl, g->ds, F_SETFL, O_NONBLOCK)) < 0)
		goto out;
	if ((r = sc6(SYS___sysctlbyname, (long)"kern.ipc.maxsockbuf",
	    (long)slen("kern.ipc.maxsockbuf"), (long)&maxsb, (long)&len, 0,
	    0)) < 0)
		goto out;
	maxsb = maxsb * 2048 / (256 + 2048);	/* MCLBYTES / (MSIZE + MCLBYTES) */
	sb = maxsb < 4 * 1024 * 1024 ? (int)maxsb : 4 * 1024 * 1024;
	if ((r = sc6(SYS_setsockopt, g->ds, SOL_SOCKET, SO_SNDBUF, (long)&sb,
	    sizeof(sb), 0)) < 0 ||
	    (r = sc6(SYS_setsockopt, g->ds, SOL_SOCKET, SO_RCVBUF, (long)&sb,
	    sizeof(sb), 0)) < 0)
		goto out;
	return (0);
out:
	if (cs >= 0)
		sc3(SYS_close, cs, 0, 0);
	if (g->ds >= 0)
		sc3(SYS_close, g->ds, 0, 0);
	g->ds = -1;
	return (r);
}

/* tap_send(): one frame, one writev(2). */
static long
guest_send(struct guest *g, const uint8_t dst[6], const uint8_t src[6],
    uint8_t tag)
{
	uint8_t f[64];
	struct iovec iov = { f, sizeof(f) };

	test_frame(f, dst, src, tag);
	return (sc3(SYS_writev, g->ds, &iov, 1));
}

/* tap_recv(): wait up to 2 s for our test frame to dst with this tag. */
static int
guest_expect(struct guest *g, const uint8_t dst[6], uint8_t tag)
{
	uint8_t f[2048];
	struct iovec iov = { f, sizeof(f) };
	long n;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		if (poll1(g->ds, POLLIN, 100) <= 0)
			continue;
		while ((n = sc3(SYS_readv, g->ds, &iov, 1)) > 0)
			if (is_test_frame(f, n, dst, tag))
				return (1);
	}
	return (0);
}

/* Hooks on a node (path "vmnicN:"), or -errno. */
static long
ng_hooks(const char *path)
{
	struct nodeinfo ni;
	long cs, r;

	if ((cs = sc3(SYS_socket, AF_NETGRAPH, SOCK_DGRAM, NG_CONTROL)) < 0)
		return (cs);
	r = ng_nodeinfo(cs, path, &ni);
	sc3(SYS_close, cs, 0, 0);
	return (r < 0 ? r : (long)ni.hooks);
}

/* ---- The VXLAN packet a guest's frame becomes, seen on lo0 ------------------------ */

static int
match_vxlan4_from_g1(const uint8_t *f, long len, void *arg __attribute__((unused)))
{
	uint32_t af;

	if (len < 4 + 20 + 8 + 8 + 14)
		return (0);
	memcpy(&af, f, 4);
	return (af == AF_INET && f[4] == 0x45 && f[4 + 9] == 17 &&
	    (f[4 + 22] << 8 | f[4 + 23]) == 4789 && f[4 + 28] == 0x08 &&
	    (f[4 + 32] << 16 | f[4 + 33] << 8 | f[4 + 34]) == DP_VNI &&
	    memcmp(f + 4 + 36, mac_x, 6) == 0 &&
	    memcmp(f + 4 + 42, mac_g1, 6) == 0);
}

static char *
ifpath(char *buf, const char *ifname)
{
	memcpy(buf, ifname, slen(ifname));
	memcpy(buf + slen(ifname), ":", 2);
	return (buf);
}

void
bhyve_attach(struct dp *d)
{
	struct guest g1, g2;
	char n1[VPC_IFNAMSIZ], n2[VPC_IFNAMSIZ], n3[VPC_IFNAMSIZ];
	char p1[VPC_IFNAMSIZ + 2], p2[VPC_IFNAMSIZ + 2], p3[VPC_IFNAMSIZ + 2];
	vpc_sw_stats_t st0, st;
	vpc_vcc_stats_t vst0, vst;
	struct tap tl;
	vpc_id_t port2;
	long h1, h2, h3 = -1, r, cs;

	h1 = add_vmnic_port(d->swd, mac_g1, 0);
	h2 = add_vmnic_port(d->swd, mac_g2, &port2);
	check("bhyve: two vmnic ports for two guests", h1 >= 0 && h2 >= 0,
	    h1 < 0 ? h1 : h2, 0);
	if (h1 < 0 || h2 < 0 || nic_ifname(h1, n1) != 0 ||
	    nic_ifname(h2, n2) != 0)
		return;
	/* What the operator does first: ng_ether wants IFF_UP. */
	expect("bhyve: ifconfig vmnicG1 up", if_up(d->sock, n1), 0);
	expect("bhyve: ifconfig vmnicG2 up", if_up(d->sock, n2), 0);
	check("bhyve: ng_ether made a node for each vmnic (no hooks yet)",
	    ng_hooks(ifpath(p1, n1)) == 0 && ng_hooks(ifpath(p2, n2)) == 0,
	    ng_hooks(p1), 0);

	r = guest_attach(&g1, n1, NULL);
	expect("bhyve: guest 1 attaches as bhyve does (netgraph,path=vmnicG1:,"
	    "peerhook=lower)", r, 0);
	if (r == -EAFNOSUPPORT || r == -EPROTONOSUPPORT) {
		note("the kernel lacks NETGRAPH, NETGRAPH_SOCKET, "
		    "NETGRAPH_ETHER (kmod/README.md)");
		goto out;
	}
	r = guest_attach(&g2, n2, "vpcvm2");
	expect("bhyve: guest 2 attaches with socket=vpcvm2 (a named node)", r,
	    0);
	if (g1.ds < 0 || g2.ds < 0)
		goto out;
	expect("bhyve: vmnicG1's ng_ether has its lower hook connected",
	    ng_hooks(p1), 1);

	/* Guest to guest through the switch. */
	expect("bhyve: guest 1 writes a frame to guest 2",
	    guest_send(&g1, mac_g2, mac_g1, 0x71), 64);
	check("bhyve: guest 2 reads it", guest_expect(&g2, mac_g2, 0x71), 0, 1);
	expect("bhyve: guest 2 answers", guest_send(&g2, mac_g1, mac_g2, 0x72),
	    64);
	check("bhyve: guest 1 reads it", guest_expect(&g1, mac_g1, 0x72), 0, 1);

	/* Guest to a remote MAC: VXLAN through the vcc, seen on lo0. */
	sw_stats(d->swd, &st0);
	vcc_stats(d->vccd, &vst0);
	expect("bhyve: bpf on lo0", tap_open(&tl, "lo0"), 0);
	expect("bhyve: guest 1 writes a frame to remote X",
	    guest_send(&g1, mac_x, mac_g1, 0x73), 64);
	r = tl.fd >= 0 ? tap_find(&tl, match_vxlan4_from_g1, 0, 0, 0) : 0;
	check("bhyve: it leaves as VXLAN (VNI 789) to 127.0.0.1:4789",
	    r > 0, r, 1);
	tap_close(&tl);
	msleep(200);
	sw_stats(d->swd, &st);
	vcc_stats(d->vccd, &vst);
	check("bhyve: counted: switch TX_REMOTE, vcc TX",
	    st.c[VPC_SWSTAT_TX_REMOTE] == st0.c[VPC_SWSTAT_TX_REMOTE] + 1 &&
	    vst.c[VPC_VCCSTAT_TX] == vst0.c[VPC_VCCSTAT_TX] + 1,
	    (long)(vst.c[VPC_VCCSTAT_TX] - vst0.c[VPC_VCCSTAT_TX]), 1);

	/* A guest that does not use its vmnic's MAC is a spoofer. */
	sw_stats(d->swd, &st0);
	guest_send(&g1, mac_g2, mac_g3, 0x74);
	check("bhyve: a guest frame with another source MAC is not delivered",
	    !guest_expect(&g2, mac_g2, 0x74), 1, 0);
	sw_stats(d->swd, &st);
	check("bhyve: ...and counted (DROP_SPOOF)",
	    st.c[VPC_SWSTAT_DROP_SPOOF] == st0.c[VPC_SWSTAT_DROP_SPOOF] + 1,
	    (long)(st.c[VPC_SWSTAT_DROP_SPOOF] - st0.c[VPC_SWSTAT_DROP_SPOOF]),
	    1);

	/*
	 * The vmnic of a running guest is destroyed: ether_ifdetach() takes
	 * ng_ether's node and the hook with it.  The guest's socket node
	 * stays; with no hook its writes fail (EDESTADDRREQ, which bhyve's
	 * tap_send() ignores: the guest's frames are dropped) and nothing
	 * comes to read.  No crash, no leak; the operator can connect the
	 * named node to a new vmnic.
	 */
	expect("bhyve: SW_DEL_PORT guest 2's port (and vmnic) while it runs",
	    del_port(d->swd, &port2), 0);
	sc3(SYS_close, h2, 0, 0);
	h2 = -1;
	check("bhyve: its ifnet is gone", if_flags(d->sock, n2) == -ENXIO,
	    if_flags(d->sock, n2), -ENXIO);
	expect("bhyve: the guest's writes now fail (EDESTADDRREQ)",
	    guest_send(&g2, mac_g1, mac_g2, 0x75), -EDESTADDRREQ);
	check("bhyve: and nothing reaches guest 1", !guest_expect(&g1, mac_g1,
	    0x75), 1, 0);
	h3 = add_vmnic_port(d->swd, mac_g2, 0);
	check("bhyve: a new vmnic for guest 2", h3 >= 0 &&
	    nic_ifname(h3, n3) == 0 && if_up(d->sock, n3) == 0, h3, 0);
	cs = sc3(SYS_socket, AF_NETGRAPH, SOCK_DGRAM, NG_CONTROL);
	r = cs >= 0 ? ng_connect(cs, "vpcvm2:", ifpath(p3, n3), "vmlink",
	    "lower") : cs;
	expect("bhyve: ngctl connect vpcvm2: vmnicG2new: vmlink lower", r, 0);
	if (cs >= 0)
		sc3(SYS_close, cs, 0, 0);
	expect("bhyve: guest 2 writes again", guest_send(&g2, mac_g1, mac_g2,
	    0x76), 64);
	check("bhyve: and guest 1 reads it", guest_expect(&g1, mac_g1, 0x76),
	    0, 1);

	/* The VM stops: bhyve's sockets close, the hook goes, nothing else. */
	sc3(SYS_close, g1.ds, 0, 0);
	g1.ds = -1;
	msleep(100);
	expect("bhyve: guest 1 gone: vmnicG1's lower hook is disconnected",
	    ng_hooks(p1), 0);
	check("bhyve: the vmnic outlives its guest", if_flags(d->sock, n1) >= 0,
	    if_flags(d->sock, n1), 0);
out:
	if (g1.ds >= 0)
		sc3(SYS_close, g1.ds, 0, 0);
	if (g2.ds >= 0)
		sc3(SYS_close, g2.ds, 0, 0);
	sc3(SYS_close, h1, 0, 0);
	if (h2 >= 0)
		sc3(SYS_close, h2, 0, 0);
	if (h3 >= 0)
		sc3(SYS_close, h3, 0, 0);
	invariants("bhyve: the core's invariants after the guests");
}
