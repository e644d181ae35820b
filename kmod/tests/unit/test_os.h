/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_os.h: the OS side of vmnics, vccs and upcall wakeups for programs that
 * drive the core directly.  Frames the core sends are recorded, not sent.
 */
#ifndef _TEST_OS_H_
#define _TEST_OS_H_

#include <stdint.h>

#include "vpc_core.h"

#define TEST_SENT_MAX 4096

struct test_sent {
	int         kind;               /* TEST_TO_NIC, TEST_TO_VCC, TEST_TO_L2 */
	const void *to;                 /* the vpc_nic or vpc_vcc */
	struct vpc_underlay dst;
	uint16_t    sport;
	uint32_t    len;
	uint8_t     data[2048];         /* the first bytes */
};
#define TEST_TO_NIC 1
#define TEST_TO_VCC 2
#define TEST_TO_L2  3
#define TEST_TO_LINK 4          /* out of a vpclink */
#define TEST_LINK_PASSED 5      /* a link's frame left to the node's stack */

extern struct test_sent test_sent[TEST_SENT_MAX];
extern unsigned test_nsent;         /* recorded (up to TEST_SENT_MAX) */
extern uint64_t test_notified;
/* os_agent_event: how many, and the last as "TYPE detail". */
extern unsigned test_events;
extern char test_last_event[160];
extern int      test_output_error;  /* nonzero: outputs fail with it */
extern unsigned test_vcc_output_many_calls;
extern bool     test_record;        /* false: outputs only free (benchmarks) */
/* os_nic_set_mtu: fails with test_mtu_error if set; else counted. */
extern int      test_mtu_error;
extern unsigned test_mtu_calls;
extern uint32_t test_last_mtu;
extern const void *test_last_mtu_nic;
extern uint64_t test_vcc_rx_drops;  /* what os_vcc_rx_drops says */
extern unsigned test_link_binds;   /* links bound now */
void test_sent_reset(void);

#endif
