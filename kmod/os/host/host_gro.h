/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_gro.h: frames for a TAP held while a batch of underlay datagrams is
 * processed, and a TCP flow's consecutive segments written to the VM as one
 * (host_gro.c).
 */
#ifndef _HOST_GRO_H_
#define _HOST_GRO_H_

#include <stdbool.h>
#include <stdint.h>

struct vpc_pkt;

/* From here to host_gro_end, frames to TAPs may be held and merged. */
void host_gro_begin(void);
/* Write everything held, in order; nothing is held after. */
void host_gro_end(void);
/*
 * What became of frames taken: written to their TAP (written) or lost with
 * a write that failed, frames of them (segments merged count one each).
 * Called as they are written, from host_gro_take or host_gro_end.
 */
typedef void host_gro_done_fn(void *arg, uint32_t frames, bool written);

/*
 * A frame for the TAP on fd (key names it): true if it was taken (held;
 * written by host_gro_end at the latest, and then done(arg, ...) says how
 * it fared), false if the caller must write it now, which it may: whatever
 * was held for that TAP was written first.
 */
bool host_gro_take(const void *key, int fd, struct vpc_pkt *p,
         host_gro_done_fn *done, void *arg);

/* Segments written as one since the start. */
extern uint64_t host_gro_merged;

#endif
