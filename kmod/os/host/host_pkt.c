/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_pkt.c: packets on the host are flat buffers with headroom, so
 * prepending a VXLAN header is a pointer move.
 */
#include <stdlib.h>
#include <string.h>

#include "vpc_os.h"
#include "host_pkt.h"

struct vpc_pkt {
	struct vpc_pkt *next;
	uint32_t        off;    /* first byte of data */
	uint32_t        len;
	uint32_t        cap;    /* bytes in buf */
	uint32_t        flowid;
	uint8_t         buf[];
};

/*
 * A burst keeps up to VPC_BURST_MAX packets alive at once (vpc-hostd reads
 * that many frames of a TAP, then hands them over), more than the 7 chunks
 * of a size that glibc's per-thread cache keeps: every allocation and free
 * then took malloc's slow path (measured in bench/forward: bursts forwarded
 * 20-25% fewer frames a second than one frame at a time, and as many with
 * GLIBC_TUNABLES=glibc.malloc.tcache_count=64).  So packets whose buffer
 * fits PKT_CACHED_CAP get one of that size, from and back to a stack of
 * them per thread, PKT_CACHE_MAX deep (128 KB at most).  Not in the
 * sanitizer build: its allocator must see every free to catch a use after.
 */
#define PKT_CACHED_CAP  2048            /* headroom + a 1984-byte frame */
#define PKT_CACHE_MAX   64

#if defined(__SANITIZE_ADDRESS__)
#define PKT_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PKT_CACHE 0
#endif
#endif
#ifndef PKT_CACHE
#define PKT_CACHE 1
#endif

static _Thread_local struct vpc_pkt *pkt_cache[PKT_CACHE_MAX];
static _Thread_local unsigned pkt_ncache;

struct vpc_pkt *
host_pkt_new(const void *data, uint32_t len)
{
	struct vpc_pkt *p;
	uint32_t cap = HOST_PKT_HEADROOM + len;

	if (host_fault_alloc())
		return (NULL);
	if (PKT_CACHE && cap <= PKT_CACHED_CAP) {
		cap = PKT_CACHED_CAP;
		p = pkt_ncache > 0 ? pkt_cache[--pkt_ncache] :
		    malloc(sizeof(*p) + cap);
	} else
		p = malloc(sizeof(*p) + cap);
	if (p == NULL)
		return (NULL);
	p->next = NULL;
	p->off = HOST_PKT_HEADROOM;
	p->len = len;
	p->cap = cap;
	p->flowid = 0;
	if (data != NULL)
		memcpy(p->buf + p->off, data, len);
	return (p);
}

uint8_t *
host_pkt_data(struct vpc_pkt *p)
{
	return (p->buf + p->off);
}

uint32_t
os_pkt_len(const struct vpc_pkt *p)
{
	return (p->len);
}

void *
os_pkt_pullup(struct vpc_pkt **pp, uint32_t len)
{
	if (len > (*pp)->len) {
		os_pkt_free(*pp);
		*pp = NULL;
		return (NULL);
	}
	return ((*pp)->buf + (*pp)->off);
}

void *
os_pkt_prepend(struct vpc_pkt **pp, uint32_t len)
{
	struct vpc_pkt *p = *pp, *np;

	if (p->off >= len) {
		p->off -= len;
		p->len += len;
		return (p->buf + p->off);
	}
	np = host_pkt_new(NULL, p->len + len);
	if (np == NULL) {
		os_pkt_free(p);
		*pp = NULL;
		return (NULL);
	}
	memcpy(np->buf + np->off + len, p->buf + p->off, p->len);
	np->flowid = p->flowid;
	os_pkt_free(p);
	*pp = np;
	return (np->buf + np->off);
}

void
os_pkt_adj(struct vpc_pkt *p, uint32_t len)
{
	if (len > p->len)
		len = p->len;
	p->off += len;
	p->len -= len;
}

bool
os_pkt_copyout(const struct vpc_pkt *p, uint32_t off, uint32_t len, void *dst)
{
	if (off > p->len || len > p->len - off)
		return (false);
	memcpy(dst, p->buf + p->off + off, len);
	return (true);
}

/* Tests set it to have every peek say no, as a chain's second mbuf would. */
bool host_pkt_no_peek;

const void *
os_pkt_peek(const struct vpc_pkt *p, uint32_t off, uint32_t len)
{
	if (host_pkt_no_peek || off > p->len || len > p->len - off)
		return (NULL);
	return (p->buf + p->off + off);
}

struct vpc_pkt *
os_pkt_dup(const struct vpc_pkt *p)
{
	struct vpc_pkt *np = host_pkt_new(p->buf + p->off, p->len);

	if (np != NULL)
		np->flowid = p->flowid;
	return (np);
}

struct vpc_pkt *
os_pkt_alloc(uint32_t len, void **data)
{
	struct vpc_pkt *p;

	if (len == 0 || len > VPC_PKT_ALLOC_MAX)
		return (NULL);
	if ((p = host_pkt_new(NULL, len)) != NULL)
		*data = p->buf + p->off;
	return (p);
}

void
os_pkt_free(struct vpc_pkt *p)
{
	if (PKT_CACHE && p->cap == PKT_CACHED_CAP && pkt_ncache < PKT_CACHE_MAX) {
		pkt_cache[pkt_ncache++] = p;
		return;
	}
	free(p);
}

struct vpc_pkt *
os_pkt_next(const struct vpc_pkt *p)
{
	return (p->next);
}

void
os_pkt_set_next(struct vpc_pkt *p, struct vpc_pkt *next)
{
	p->next = next;
}

uint32_t
os_pkt_flowid(const struct vpc_pkt *p)
{
	return (p->flowid);
}
