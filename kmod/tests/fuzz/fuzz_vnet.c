/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_vnet: reads of a vmnic's TAP (virtio-net header, then the frame) as
 * vpc-hostd takes them (host_vnet.c): the checksum the header leaves to us
 * completed, a TSO frame cut into segments; and every frame that comes out
 * handed, within one batch, to the receive side's merging (host_gro.c), as
 * if for the TAP of another VM, so that what the cutting makes is what the
 * merging gets (written to /dev/null).  The input is split into reads at
 * each "VNET" marker, so that one input is a sequence of reads.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vpc_os.h"
#include "host_gro.h"
#include "host_pkt.h"
#include "host_vnet.h"

static uint8_t buf[HOST_VNET_HDR_LEN + 65536];
static int sink = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fared(void *arg, uint32_t frames, bool written)
{
	(void)arg;
	(void)frames;
	(void)written;
}

static void
out(struct vpc_pkt *p, uint8_t tap)
{
	static int taps[4];

	if (!host_gro_take(&taps[tap % 4], sink, p, fared, NULL))
		os_pkt_free(p);
}

/* One read: the first byte picks the TAP its frames go to, the rest is it. */
static void
one_read(const uint8_t *d, size_t n)
{
	struct host_tso tso;
	struct vpc_pkt *p;

	if (n < 1 || n - 1 > sizeof(buf))
		return;
	memcpy(buf, d + 1, n - 1);
	if ((p = host_vnet_frame(buf, (uint32_t)(n - 1), &tso)) != NULL)
		out(p, d[0]);
	while (tso.len > 0 && (p = host_vnet_next(&tso)) != NULL)
		out(p, d[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *at = data, *end = data + size, *next;

	if (sink < 0 && (sink = open("/dev/null", O_WRONLY)) < 0)
		return (0);
	host_gro_begin();
	while (at < end) {
		next = memmem(at, (size_t)(end - at), "VNET", 4);
		one_read(at, (size_t)((next != NULL ? next : end) - at));
		at = next != NULL ? next + 4 : end;
	}
	host_gro_end();
	return (0);
}
