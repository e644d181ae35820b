/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nat_csum.c: rewriting a header field and every checksum over it
 * (vpc_nat.h).  The arithmetic is RFC 1624 eq. 3, HC' = ~(~HC + ~m + m'),
 * from vpc_cksum_update16 (vpc_icmp.c); what is added here is UDP's zero
 * rule and the nesting of an ICMP error (its checksum covers the quoted
 * datagram's fields and the quoted checksums).  An incremental update does
 * not look at the rest of the message, so an odd length changes nothing:
 * every field rewritten sits at an even offset of what its checksum covers.
 */
#include "vpc_nat_impl.h"

uint16_t
vpc_nat_cksum_adj16(uint16_t cs, uint16_t old, uint16_t nw, int kind)
{
	if (kind == VPC_NAT_CS_UDP && cs == 0)
		return (0);             /* no checksum: stays none */
	cs = vpc_cksum_update16(cs, old, nw);
	if (kind == VPC_NAT_CS_UDP && cs == 0)
		cs = 0xffff;            /* RFC 768: a computed zero goes as ones */
	return (cs);
}

uint16_t
vpc_nat_cksum_adj32(uint16_t cs, uint32_t old, uint32_t nw, int kind)
{
	if (kind == VPC_NAT_CS_UDP && cs == 0)
		return (0);
	cs = vpc_cksum_update16(cs, (uint16_t)(old >> 16), (uint16_t)(nw >> 16));
	cs = vpc_cksum_update16(cs, (uint16_t)old, (uint16_t)nw);
	if (kind == VPC_NAT_CS_UDP && cs == 0)
		cs = 0xffff;
	return (cs);
}

void
vpc_nat_put16(uint8_t *f, uint16_t nw, uint8_t *cover)
{
	uint16_t old = vpc_get16(f);

	if (old == nw)
		return;
	if (cover != NULL)
		vpc_put16(cover, vpc_nat_cksum_adj16(vpc_get16(cover), old, nw,
		    VPC_NAT_CS_PLAIN));
	vpc_put16(f, nw);
}

void
vpc_nat_set_addr(uint8_t *addr, uint32_t nw, uint8_t *ipcs, uint8_t *l4cs,
    int l4kind, uint8_t *cover)
{
	uint32_t old = vpc_nat_get32(addr);

	if (old == nw)
		return;
	if (ipcs != NULL)
		vpc_nat_put16(ipcs, vpc_nat_cksum_adj32(vpc_get16(ipcs), old, nw,
		    VPC_NAT_CS_PLAIN), cover);
	if (l4cs != NULL)
		vpc_nat_put16(l4cs, vpc_nat_cksum_adj32(vpc_get16(l4cs), old, nw,
		    l4kind), cover);
	vpc_nat_put16(addr, (uint16_t)(nw >> 16), cover);
	vpc_nat_put16(addr + 2, (uint16_t)nw, cover);
}

void
vpc_nat_set_port(uint8_t *f, uint16_t nw, uint8_t *l4cs, int l4kind,
    uint8_t *cover)
{
	uint16_t old = vpc_get16(f);

	if (old == nw)
		return;
	if (l4cs != NULL)
		vpc_nat_put16(l4cs, vpc_nat_cksum_adj16(vpc_get16(l4cs), old, nw,
		    l4kind), cover);
	vpc_nat_put16(f, nw, cover);
}
