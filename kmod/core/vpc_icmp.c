/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_icmp.c: checksums, IP header parsing, ICMP/ICMPv6 answers and a token
 * bucket (see vpc_icmp.h).  Every read of a packet goes through
 * os_pkt_copyout, so a short or lying header is refused, never read past.
 * Runs on the data path: never sleeps, no floating point, small frames.
 */
#include "vpc_impl.h"

#define MS_MASK  ((1ULL << 48) - 1)

/* ---- Checksums ------------------------------------------------------------ */

/*
 * Only the last chunk of a checksummed range may have an odd length.
 *
 * Four bytes a turn: a 32-bit big-endian word is its two 16-bit words
 * modulo 0xffff (2^16 = 1 there), the modulus of the one's-complement sum,
 * and the compilers load it as one word and a byte swap.  Parsing an IPv4
 * header, which every frame from a VM with an address gets (vpc_ip_parse),
 * went from 213 to 198 instructions (callgrind).
 */
uint32_t
vpc_cksum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *b = data;
	uint64_t acc = sum;

	while (len >= 4) {
		acc += (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		acc += (uint32_t)b[0] << 8 | b[1];
		b += 2;
		len -= 2;
	}
	if (len == 1)
		acc += (uint32_t)b[0] << 8;
	while ((acc >> 32) != 0)
		acc = (acc & 0xffffffffULL) + (acc >> 32);
	return ((uint32_t)acc);
}

bool
vpc_pkt_cksum_add(uint32_t *sum, const struct vpc_pkt *p, uint32_t off,
    uint32_t len)
{
	uint8_t chunk[256];     /* even: every chunk but the last keeps the pairing */
	uint32_t n;

	while (len > 0) {
		n = len < sizeof(chunk) ? len : sizeof(chunk);
		if (!os_pkt_copyout(p, off, n, chunk))
			return (false);
		*sum = vpc_cksum_add(*sum, chunk, n);
		off += n;
		len -= n;
	}
	return (true);
}

uint16_t
vpc_cksum_finish(uint32_t sum)
{
	while ((sum >> 16) != 0)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

/* HC' = ~(~HC + ~m + m'): RFC 1624's eq. 3. */
uint16_t
vpc_cksum_update16(uint16_t cksum, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint32_t)(uint16_t)~cksum + (uint16_t)~old + new_;

	return (vpc_cksum_finish(sum));
}

uint16_t
vpc_cksum_update32(uint16_t cksum, const uint8_t old[4], const uint8_t new_[4])
{
	cksum = vpc_cksum_update16(cksum, vpc_get16(old), vpc_get16(new_));
	return (vpc_cksum_update16(cksum, vpc_get16(old + 2), vpc_get16(new_ + 2)));
}

/* ---- IP headers ------------------------------------------------------------- */

/*
 * What one copy takes of an IP datagram: the largest IPv4 header (60) and
 * the first 4 bytes of what follows it, so that an IPv4 datagram is parsed
 * from a single copy (every frame of a VM with an address is: its
 * anti-spoofing check; and every UDP one: is it DHCP?).
 */
#define IP_PARSE_COPY 64

/* h: the first n bytes at l3off (n = what the datagram has, up to 64). */
static int
parse4(const uint8_t *h, uint32_t n, uint32_t l3off, uint32_t avail,
    struct vpc_ipinfo *ip)
{
	uint32_t hlen;
	uint16_t frag;

	if (n < VPC_IPV4_HDR_LEN)
		return (VPC_ERR(VPC_EINVAL));
	hlen = (uint32_t)(h[0] & 0xf) * 4;
	if (hlen < VPC_IPV4_HDR_LEN || hlen > n)
		return (VPC_ERR(VPC_EINVAL));
	ip->l3len = vpc_get16(h + 2);
	if (ip->l3len < hlen || ip->l3len > avail ||
	    vpc_cksum_finish(vpc_cksum_add(0, h, hlen)) != 0)
		return (VPC_ERR(VPC_EINVAL));
	frag = vpc_get16(h + 6);
	ip->af = VPC_AF_INET;
	ip->df = (frag & 0x4000) != 0;
	ip->later_frag = (frag & 0x1fff) != 0;
	ip->more_frags = (frag & 0x2000) != 0;
	if (ip->later_frag || ip->more_frags)
		ip->frag_id = vpc_get16(h + 4);
	ip->proto = h[9];
	memcpy(ip->src, h + 12, 4);
	memcpy(ip->dst, h + 16, 4);
	ip->l4off = l3off + hlen;
	/*
	 * The upper layer's first bytes, within the datagram: l3len <= avail
	 * makes hlen + 4 <= l3len reach at most byte 64 of the copy, which n
	 * then holds (hlen <= 60).
	 */
	if (!ip->later_frag && hlen + 4 <= ip->l3len) {
		memcpy(ip->l4, h + hlen, 4);
		ip->ports_seen = ip->l4_seen = true;
	} else if (!ip->later_frag && hlen + 2 <= ip->l3len) {
		memcpy(ip->l4, h + hlen, 2);
		ip->l4_seen = true;
	}
	return (0);
}

static int
parse6(const struct vpc_pkt *p, uint32_t l3off, struct vpc_ipinfo *ip)
{
	uint8_t h[VPC_IPV6_HDR_LEN], x[8];
	uint32_t off, end, avail = os_pkt_len(p) - l3off;
	uint8_t nh;
	int i;

	if (!os_pkt_copyout(p, l3off, sizeof(h), h) || (h[0] >> 4) != 6)
		return (VPC_ERR(VPC_EINVAL));
	ip->l3len = VPC_IPV6_HDR_LEN + vpc_get16(h + 4);
	if (ip->l3len > avail)
		return (VPC_ERR(VPC_EINVAL));    /* also: a jumbogram (payload length 0) never is */
	ip->af = VPC_AF_INET6;
	memcpy(ip->src, h + 8, 16);
	memcpy(ip->dst, h + 24, 16);
	/* The extension headers, as far as they go (RFC 8200 4). */
	nh = h[6];
	off = l3off + VPC_IPV6_HDR_LEN;
	end = l3off + ip->l3len;
	for (i = 0; i < 8; i++) {
		if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
			break;
		if (off + 8 > end || !os_pkt_copyout(p, off, 8, x))
			return (VPC_ERR(VPC_EINVAL));
		if (nh == 44) {                 /* fragment: fixed size */
			if ((vpc_get16(x + 2) & 0xfff8) != 0)
				ip->later_frag = true;
			ip->more_frags = (vpc_get16(x + 2) & 1) != 0;
			ip->frag_id = (uint32_t)vpc_get16(x + 4) << 16 |
			    vpc_get16(x + 6);
			off += 8;
		} else if (nh == 51)            /* AH: in 4-byte units */
			off += ((uint32_t)x[1] + 2) * 4;
		else
			off += ((uint32_t)x[1] + 1) * 8;
		nh = x[0];
		if (ip->later_frag)
			break;                  /* what follows is not a header */
	}
	if (off > end)
		return (VPC_ERR(VPC_EINVAL));
	ip->proto = nh;
	ip->l4off = off;
	return (0);
}

int
vpc_ip_parse(const struct vpc_pkt *p, uint32_t l3off, struct vpc_ipinfo *ip)
{
	uint8_t copy[IP_PARSE_COPY];
	const uint8_t *h;
	uint32_t len = os_pkt_len(p), avail, n;
	int error;

	memset(ip, 0, sizeof(*ip));
	ip->l3off = l3off;
	if (l3off >= len)
		return (VPC_ERR(VPC_EINVAL));
	avail = len - l3off;
	n = avail < sizeof(copy) ? avail : (uint32_t)sizeof(copy);
	if ((h = vpc_pkt_bytes(p, l3off, n, copy)) == NULL)
		return (VPC_ERR(VPC_EINVAL));
	if ((h[0] >> 4) == 4)
		return (parse4(h, n, l3off, avail, ip));
	if ((h[0] >> 4) != 6)
		return (VPC_ERR(VPC_EINVAL));
	error = parse6(p, l3off, ip);
	if (error == 0 && !ip->later_frag && ip->l4off + 4 <= l3off + ip->l3len)
		ip->ports_seen = ip->l4_seen = os_pkt_copyout(p, ip->l4off, 4, ip->l4);
	else if (error == 0 && !ip->later_frag && ip->l4off + 2 <= l3off + ip->l3len)
		ip->l4_seen = os_pkt_copyout(p, ip->l4off, 2, ip->l4);
	return (error);
}

static bool
icmp4_is_error(uint8_t type)
{
	return (type == 3 || type == 4 || type == 5 || type == 11 || type == 12);
}

bool
vpc_icmp_error_allowed(const struct vpc_ipinfo *ip, bool ptb)
{
	if (ip->later_frag)
		return (false);
	if (ip->af == VPC_AF_INET) {
		/* Sources: 0/8, 127/8, multicast, class E and 255.255.255.255. */
		if (ip->src[0] == 0 || ip->src[0] == 127 || ip->src[0] >= 224)
			return (false);
		if (ip->dst[0] >= 224)
			return (false);         /* multicast or broadcast */
		if (ip->proto == VPC_IPPROTO_ICMP &&
		    (!ip->l4_seen || icmp4_is_error(ip->l4[0])))
			return (false);
		return (true);
	}
	if (ip->af != VPC_AF_INET6)
		return (false);
	if (ip->src[0] == 0xff || vpc_all_zero(ip->src, 16) ||
	    (vpc_all_zero(ip->src, 15) && ip->src[15] == 1))
		return (false);         /* multicast, unspecified, loopback */
	if (ip->dst[0] == 0xff && !ptb)
		return (false);
	/* Errors (types below 128) and redirects (137). */
	if (ip->proto == VPC_IPPROTO_ICMPV6 &&
	    (!ip->l4_seen || ip->l4[0] < 128 || ip->l4[0] == 137))
		return (false);
	return (true);
}

/* ---- The builder ---------------------------------------------------------------- */

uint32_t
vpc_icmp_quote_max(uint8_t af)
{
	return (af == VPC_AF_INET ?
	    VPC_ICMP4_ERR_MAX - VPC_IPV4_HDR_LEN - VPC_ICMP_HDR_LEN :
	    VPC_ICMP6_ERR_MAX - VPC_IPV6_HDR_LEN - VPC_ICMP_HDR_LEN);
}

struct vpc_pkt *
vpc_icmp_build(const struct vpc_icmp_reply *r, const struct vpc_pkt *from)
{
	uint32_t flen = os_pkt_len(from), body = 0, iphl, len, sum;
	struct vpc_pkt *p;
	uint8_t *d, *ip, *icmp, ttl = r->ttl != 0 ? r->ttl : 64;
	void *data;

	iphl = r->af == VPC_AF_INET ? VPC_IPV4_HDR_LEN : VPC_IPV6_HDR_LEN;
	if (r->body_off < flen)
		body = flen - r->body_off < r->body_max ? flen - r->body_off :
		    r->body_max;
	len = ETHER_HDR_LEN + iphl + VPC_ICMP_HDR_LEN;
	if (body > VPC_PKT_ALLOC_MAX - len)
		body = VPC_PKT_ALLOC_MAX - len;
	len += body;
	if (r->af == VPC_AF_INET && len - ETHER_HDR_LEN > 0xffff)
		return (NULL);
	if ((p = os_pkt_alloc(len, &data)) == NULL)
		return (NULL);
	d = data;
	ip = d + ETHER_HDR_LEN;
	icmp = ip + iphl;
	if (body > 0 && !os_pkt_copyout(from, r->body_off, body,
	    icmp + VPC_ICMP_HDR_LEN)) {
		os_pkt_free(p);
		return (NULL);
	}
	memcpy(d, r->eth_dst, 6);
	memcpy(d + 6, r->eth_src, 6);
	vpc_put16(d + 12, r->af == VPC_AF_INET ? ETHERTYPE_IP : ETHERTYPE_IPV6);
	icmp[0] = r->type;
	icmp[1] = r->code;
	vpc_put16(icmp + 2, 0);
	vpc_put32(icmp + 4, r->word);
	if (r->af == VPC_AF_INET) {
		ip[0] = 0x45;
		ip[1] = 0;
		vpc_put16(ip + 2, (uint16_t)(len - ETHER_HDR_LEN));
		vpc_put16(ip + 4, 0);           /* id 0 with DF: RFC 6864 */
		vpc_put16(ip + 6, 0x4000);
		ip[8] = ttl;
		ip[9] = VPC_IPPROTO_ICMP;
		vpc_put16(ip + 10, 0);
		memcpy(ip + 12, r->ip_src, 4);
		memcpy(ip + 16, r->ip_dst, 4);
		vpc_put16(ip + 10, vpc_cksum_finish(vpc_cksum_add(0, ip,
		    VPC_IPV4_HDR_LEN)));
		sum = 0;
	} else {
		uint8_t pseudo[8];

		vpc_put32(ip, 0x60000000);
		vpc_put16(ip + 4, (uint16_t)(VPC_ICMP_HDR_LEN + body));
		ip[6] = VPC_IPPROTO_ICMPV6;
		ip[7] = ttl;
		memcpy(ip + 8, r->ip_src, 16);
		memcpy(ip + 24, r->ip_dst, 16);
		/* The pseudo-header: addresses, length, next header (RFC 8200 8.1). */
		vpc_put32(pseudo, VPC_ICMP_HDR_LEN + body);
		vpc_put32(pseudo + 4, VPC_IPPROTO_ICMPV6);
		sum = vpc_cksum_add(vpc_cksum_add(0, ip + 8, 32), pseudo,
		    sizeof(pseudo));
	}
	vpc_put16(icmp + 2, vpc_cksum_finish(vpc_cksum_add(sum, icmp,
	    VPC_ICMP_HDR_LEN + body)));
	return (p);
}

/* ---- Rate limit ------------------------------------------------------------------ */

void
vpc_ratelim_init(struct vpc_ratelim *rl, uint32_t rate, uint32_t burst,
    uint64_t now_ns)
{
	rl->rate = rate;
	rl->burst = burst < 0xffff ? burst : 0xffff;
	rl->state = (uint64_t)rl->burst << 48 | ((now_ns / 1000000) & MS_MASK);
}

bool
vpc_ratelim_take(struct vpc_ratelim *rl, uint64_t now_ns)
{
	return (vpc_ratelim_take_at(rl, rl->rate, rl->burst, now_ns));
}

bool
vpc_ratelim_take_at(struct vpc_ratelim *rl, uint32_t rate, uint32_t burst,
    uint64_t now_ns)
{
	uint64_t now_ms = (now_ns / 1000000) & MS_MASK;
	uint64_t old = __atomic_load_n(&rl->state, __ATOMIC_RELAXED), nw, t, tok, add;

	if (burst > 0xffff)
		burst = 0xffff;         /* the token count's 16 bits */

	do {
		t = old & MS_MASK;
		tok = old >> 48;
		if (now_ms > t && rate > 0) {
			add = now_ms - t;
			/* No more than a full bucket's worth: no overflow below. */
			if (add > (uint64_t)burst * 1000 / rate + 1000)
				add = (uint64_t)burst * 1000 / rate + 1000;
			add = add * rate / 1000;
			if (tok + add >= burst) {
				tok = burst;
				t = now_ms;
			} else if (add > 0) {
				tok += add;
				t += add * 1000 / rate;     /* keep the remainder */
			}
		}
		if (tok == 0)
			return (false);
		nw = (tok - 1) << 48 | t;
	} while (!__atomic_compare_exchange_n(&rl->state, &old, nw, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (true);
}
