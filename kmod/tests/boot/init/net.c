/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net.c: interfaces (ifconfig's ioctls), a static ARP entry (a routing
 * socket message, as arp -s writes it), sysctl(3), devctl(4), and frames
 * in and out of an interface through bpf(4).
 */
#include "helpers.h"
#include "report.h"

void
copyname(char *dst, const char *src)
{
	size_t i;

	for (i = 0; i < 15 && src[i] != '\0'; i++)
		dst[i] = src[i];
	for (; i < 16; i++)
		dst[i] = '\0';
}

static long
ifreq_ioctl(long s, unsigned long cmd, const char *name, struct ifreq *ifr)
{
	copyname(ifr->ifr_name, name);
	return (sc3(SYS_ioctl, s, cmd, ifr));
}

long
if_flags(long s, const char *name)
{
	struct ifreq ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	if ((r = ifreq_ioctl(s, SIOCGIFFLAGS, name, &ifr)) < 0)
		return (r);
	return ((unsigned short)ifr.ifr_ifru.flags[0]);
}

long
if_up(long s, const char *name)
{
	struct ifreq ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	if ((r = ifreq_ioctl(s, SIOCGIFFLAGS, name, &ifr)) < 0)
		return (r);
	ifr.ifr_ifru.flags[0] |= IFF_UP;
	return (sc3(SYS_ioctl, s, SIOCSIFFLAGS, &ifr));
}

long
if_mtu(long sock, const char *name)
{
	struct ifreq ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	if ((r = ifreq_ioctl(sock, SIOCGIFMTU, name, &ifr)) < 0)
		return (r);
	return (ifr.ifr_ifru.mtu);
}

long
if_set_mtu(long sock, const char *name, int mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifru.mtu = mtu;
	return (ifreq_ioctl(sock, SIOCSIFMTU, name, &ifr));
}

long
if_index(long sock, const char *name)
{
	struct ifreq ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	if ((r = ifreq_ioctl(sock, SIOCGIFINDEX, name, &ifr)) < 0)
		return (r);
	return ((unsigned short)ifr.ifr_ifru.index);
}

long
if_destroy(long sock, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	return (ifreq_ioctl(sock, SIOCIFDESTROY, name, &ifr));
}

long
if_getcaps(long sock, const char *name)
{
	struct ifreq ifr;
	long r;

	memset(&ifr, 0, sizeof(ifr));
	if ((r = ifreq_ioctl(sock, SIOCGIFCAP, name, &ifr)) < 0)
		return (r);
	return (ifr.ifr_ifru.cap[1]);
}

long
if_setcaps(long sock, const char *name, int caps)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifru.cap[0] = caps;
	return (ifreq_ioctl(sock, SIOCSIFCAP, name, &ifr));
}

long
if_addr4(long sock, const char *name, const uint8_t addr[4], int prefixlen)
{
	struct ifaliasreq ifra;
	uint32_t mask = prefixlen == 0 ? 0 : ~0u << (32 - prefixlen);

	memset(&ifra, 0, sizeof(ifra));
	copyname(ifra.ifra_name, name);
	ifra.ifra_addr.sin_len = sizeof(struct sockaddr_in);
	ifra.ifra_addr.sin_family = AF_INET;
	memcpy(ifra.ifra_addr.sin_addr, addr, 4);
	ifra.ifra_mask.sin_len = sizeof(struct sockaddr_in);
	ifra.ifra_mask.sin_family = AF_INET;
	ifra.ifra_mask.sin_addr[0] = (uint8_t)(mask >> 24);
	ifra.ifra_mask.sin_addr[1] = (uint8_t)(mask >> 16);
	ifra.ifra_mask.sin_addr[2] = (uint8_t)(mask >> 8);
	ifra.ifra_mask.sin_addr[3] = (uint8_t)mask;
	return (sc3(SYS_ioctl, sock, SIOCAIFADDR, &ifra));
}

long
if_addr6(long sock, const char *name, const uint8_t addr[16], int prefixlen)
{
	struct in6_aliasreq ifra;
	long s6, r;
	int i;

	memset(&ifra, 0, sizeof(ifra));
	copyname(ifra.ifra_name, name);
	ifra.ifra_addr.sin6_len = sizeof(struct sockaddr_in6);
	ifra.ifra_addr.sin6_family = AF_INET6;
	memcpy(ifra.ifra_addr.sin6_addr, addr, 16);
	ifra.ifra_prefixmask.sin6_len = sizeof(struct sockaddr_in6);
	ifra.ifra_prefixmask.sin6_family = AF_INET6;
	for (i = 0; i < prefixlen && i < 128; i++)
		ifra.ifra_prefixmask.sin6_addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	ifra.ifra_flags = IN6_IFF_NODAD;
	ifra.ia6t_vltime = ND6_INFINITE_LIFETIME;
	ifra.ia6t_pltime = ND6_INFINITE_LIFETIME;
	(void)sock;
	if ((s6 = sc3(SYS_socket, AF_INET6, SOCK_DGRAM, 0)) < 0)
		return (s6);
	r = sc3(SYS_ioctl, s6, SIOCAIFADDR_IN6, &ifra);
	sc3(SYS_close, s6, 0, 0);
	return (r);
}

/*
 * RTM_ADD with RTF_LLDATA: a static link-layer entry for dst on ifname,
 * what arp -s and ndp -s write (lla_rt_output() in the kernel).
 */
static long
lle_set(long sock, const char *ifname, const void *dst, size_t dstlen,
    const uint8_t mac[6])
{
	struct {
		struct rt_msghdr	rtm;
		uint8_t			addrs[32 + 56];
	} msg;
	struct sockaddr_dl *sdl;
	long rs, idx, r;

	if ((idx = if_index(sock, ifname)) < 0)
		return (idx);
	memset(&msg, 0, sizeof(msg));
	msg.rtm.rtm_version = RTM_VERSION;
	msg.rtm.rtm_type = RTM_ADD;
	msg.rtm.rtm_flags = RTF_HOST | RTF_STATIC | RTF_LLDATA;
	msg.rtm.rtm_addrs = RTA_DST | RTA_GATEWAY;
	msg.rtm.rtm_seq = 1;
	memcpy(msg.addrs, dst, dstlen);
	dstlen = (dstlen + 7) & ~(size_t)7;		/* SA_SIZE */
	sdl = (struct sockaddr_dl *)(void *)(msg.addrs + dstlen);
	sdl->sdl_len = sizeof(*sdl);
	sdl->sdl_family = AF_LINK;
	sdl->sdl_index = (uint16_t)idx;
	sdl->sdl_type = 6;				/* IFT_ETHER */
	sdl->sdl_alen = 6;
	memcpy(sdl->sdl_data, mac, 6);
	msg.rtm.rtm_msglen = (uint16_t)(sizeof(msg.rtm) + dstlen + 56);
	if ((rs = sc3(SYS_socket, AF_ROUTE, SOCK_RAW, 0)) < 0)
		return (rs);
	r = sc3(SYS_write, rs, &msg, msg.rtm.rtm_msglen);
	sc3(SYS_close, rs, 0, 0);
	return (r < 0 ? r : 0);
}

long
arp_set(long sock, const char *ifname, const uint8_t ip[4],
    const uint8_t mac[6])
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	memcpy(sin.sin_addr, ip, 4);
	return (lle_set(sock, ifname, &sin, sizeof(sin), mac));
}

long
ndp_set(long sock, const char *ifname, const uint8_t ip6[16],
    const uint8_t mac[6])
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_len = sizeof(sin6);
	sin6.sin6_family = AF_INET6;
	memcpy(sin6.sin6_addr, ip6, 16);
	return (lle_set(sock, ifname, &sin6, sizeof(sin6), mac));
}

/* ---- sysctl(3), devctl(4) ----------------------------------------------------- */

uint64_t
sysctl_u64(const char *name)
{
	uint64_t v = ~(uint64_t)0;
	size_t len = sizeof(v);

	if (sc6(SYS___sysctlbyname, (long)name, (long)slen(name), (long)&v,
	    (long)&len, 0, 0) < 0)
		return (~(uint64_t)0);
	return (v);
}

long
sysctl_int(const char *name)
{
	int v = -1;
	size_t len = sizeof(v);
	long r;

	r = sc6(SYS___sysctlbyname, (long)name, (long)slen(name), (long)&v,
	    (long)&len, 0, 0);
	return (r < 0 ? r : v);
}

long
sysctl_set_int(const char *name, int v)
{
	return (sc6(SYS___sysctlbyname, (long)name, (long)slen(name), 0, 0,
	    (long)&v, sizeof(v)));
}

int
wait_sleeping(long pid, const char *wmesg)
{
	static uint8_t kp[4096];
	int mib[4] = { CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid };
	size_t len, wl = slen(wmesg) + 1, i;	/* with its NUL */
	int tries;

	for (tries = 0; tries < 100; tries++) {
		len = sizeof(kp);
		if (sc6(SYS___sysctl, (long)mib, 4, (long)kp, (long)&len, 0,
		    0) == 0)
			for (i = 0; i + wl <= len; i++)
				if (memcmp(kp + i, wmesg, wl) == 0)
					return (1);
		msleep(50);
	}
	return (0);
}

int
devctl_has(long fd, const char *what)
{
	static char ev[4096];
	size_t wl = slen(what);
	long n, i;
	int tries;

	for (tries = 0; fd >= 0 && tries < 20;) {
		n = sc3(SYS_read, fd, ev, sizeof(ev) - 1);
		if (n < 0) {		/* drained: wait a little for more */
			tries++;
			msleep(50);
			continue;
		}
		for (i = 0; i + (long)wl <= n; i++)
			if (memcmp(ev + i, what, wl) == 0)
				return (1);
	}
	return (0);
}

/* ---- Checksums -------------------------------------------------------------------- */

uint32_t
cksum_add(uint32_t sum, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return (sum);
}

uint16_t
cksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

uint16_t
cksum(const uint8_t *b, size_t len)
{
	return (cksum_fold(cksum_add(0, b, len)));
}

/* ---- bpf(4) ------------------------------------------------------------------------ */

long
tap_open(struct tap *t, const char *ifname)
{
	struct timeval tv = { 0, 300000 };
	struct ifreq ifr;
	unsigned one = 1;
	long r;

	t->fd = sc3(SYS_open, "/dev/bpf", O_RDWR, 0);
	if (t->fd < 0)
		return (t->fd);
	memset(&ifr, 0, sizeof(ifr));
	copyname(ifr.ifr_name, ifname);
	if ((r = sc3(SYS_ioctl, t->fd, BIOCSETIF, &ifr)) < 0 ||
	    (r = sc3(SYS_ioctl, t->fd, BIOCIMMEDIATE, &one)) < 0 ||
	    (r = sc3(SYS_ioctl, t->fd, BIOCSHDRCMPLT, &one)) < 0 ||
	    (r = sc3(SYS_ioctl, t->fd, BIOCSRTIMEOUT, &tv)) < 0 ||
	    (r = sc3(SYS_ioctl, t->fd, BIOCGBLEN, &t->blen)) < 0) {
		sc3(SYS_close, t->fd, 0, 0);
		t->fd = -1;
		return (r);
	}
	if (t->blen > sizeof(t->buf)) {
		sc3(SYS_close, t->fd, 0, 0);
		t->fd = -1;
		return (-EINVAL);
	}
	return (0);
}

void
tap_close(struct tap *t)
{
	if (t->fd >= 0)
		sc3(SYS_close, t->fd, 0, 0);
	t->fd = -1;
}

void
test_frame(uint8_t f[64], const uint8_t dst[6], const uint8_t src[6],
    uint8_t tag)
{
	memset(f, 0, 64);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = TEST_ETHERTYPE >> 8;
	f[13] = TEST_ETHERTYPE & 0xff;
	f[14] = tag;
}

long
tap_send(struct tap *t, const uint8_t dst[6], const uint8_t src[6], uint8_t tag)
{
	uint8_t f[64];

	test_frame(f, dst, src, tag);
	return (sc3(SYS_write, t->fd, f, sizeof(f)));
}

int
is_test_frame(const uint8_t *f, long len, const uint8_t dst[6], uint8_t tag)
{
	return (len >= 15 && memcmp(f, dst, 6) == 0 &&
	    f[12] == (TEST_ETHERTYPE >> 8) && f[13] == (TEST_ETHERTYPE & 0xff) &&
	    f[14] == tag);
}

long
tap_find(struct tap *t, int (*match)(const uint8_t *, long, void *),
    void *arg, uint8_t *outp, size_t max)
{
	long n, off;
	int tries;

	for (tries = 0; tries < 10; tries++) {
		n = sc3(SYS_read, t->fd, t->buf, t->blen);
		if (n < 0)
			return (0);
		for (off = 0; off + 26 <= n;) {
			uint32_t caplen;
			uint16_t hdrlen;
			const uint8_t *f;

			memcpy(&caplen, t->buf + off + 16, 4);
			memcpy(&hdrlen, t->buf + off + 24, 2);
			f = t->buf + off + hdrlen;
			if (match(f, caplen, arg)) {
				if (outp != NULL)
					memcpy(outp, f, caplen < max ? caplen :
					    max);
				return (caplen);
			}
			off += (hdrlen + caplen + 7) & ~7L;	/* BPF_WORDALIGN */
		}
	}
	return (0);
}

struct test_match {
	const uint8_t	*dst;
	uint8_t		 tag;
};

static int
match_test(const uint8_t *f, long len, void *arg)
{
	struct test_match *m = arg;

	return (is_test_frame(f, len, m->dst, m->tag));
}

int
tap_expect(struct tap *t, const uint8_t dst[6], uint8_t tag)
{
	struct test_match m = { dst, tag };

	return (tap_find(t, match_test, &m, 0, 0) != 0);
}

struct icmp_match {
	const uint8_t	*dst;
	size_t		 max;
};

static int
match_icmp(const uint8_t *f, long len, void *arg)
{
	struct icmp_match *m = arg;

	return (len >= 42 && (size_t)len <= m->max &&
	    memcmp(f, m->dst, 6) == 0 && f[12] == 0x08 && f[13] == 0 &&
	    f[23] == 1);
}

long
tap_expect_icmp(struct tap *t, const uint8_t dst[6], uint8_t *outp,
    size_t max)
{
	struct icmp_match m = { dst, max };

	return (tap_find(t, match_icmp, &m, outp, max));
}
