/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the core's area tests (test_datapath.c, test_mtu.c, test_l3.c,
 * test_router.c, test_fw.c, test_nat.c, test_natgw.c) share: the failure
 * report, the calls every one of them makes, the runner of their cases.  Each keeps its own state (the objects it builds, its
 * name and failure counter) and says, with TEST_AREA and TEST_STATE, where
 * they are before including this.
 */
#ifndef _TEST_AREA_H_
#define _TEST_AREA_H_

#include <stdio.h>
#include <string.h>

#include "vpc_impl.h"
#include "host_loop.h"
#include "test_handles.h"

#ifndef TEST_AREA
#error "define TEST_AREA (the area's name in reports) first"
#endif
#ifndef TEST_STATE
#error "define TEST_STATE (the area's state: .sys, .name, .failed) first"
#endif

/* Report a failed check of the current case and leave it (returns -1). */
#define FAIL(...) do {                                                  \
	printf("not ok - %s %s: %s:%d: ", TEST_AREA, TEST_STATE.name,   \
	    __FILE__, __LINE__);                                        \
	printf(__VA_ARGS__);                                            \
	printf("\n");                                                   \
	(*TEST_STATE.failed)++;                                         \
	return (-1);                                                    \
} while (0)
#define EXPECT(c) do { if (!(c)) FAIL("%s", #c); } while (0)
#define EXPECT_EQ(a, b) do {                                            \
	long long a_ = (long long)(a), b_ = (long long)(b);             \
	if (a_ != b_) FAIL("%s = %lld, want %lld", #a, a_, b_);         \
} while (0)

/* A privileged caller in the kernel's own address space. */
static const struct vpc_call call = { NULL, true };

static inline int
ctl(struct vpc_hdl *h, vpc_op_t op, const void *key, size_t keylen, void *val,
    size_t vallen)
{
	size_t vl = vallen;

	return (vpc_core_ctl(TEST_STATE.sys, &call, h, op, key, keylen, val, &vl));
}

/* A new object of this type; its id is the area's tag and n. */
static inline struct vpc_hdl *
open_tagged(uint8_t tag, unsigned type, uint8_t n)
{
	vpc_id_t id;
	struct vpc_hdl *h = NULL;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = tag;
	id.bytes[15] = n;
	(void)vpc_core_open(TEST_STATE.sys, &call, &id, VPC_TYPE_WORD(type),
	    VPC_FLAG_CREATE, &h);
	return (h);
}

/* A frame from the VM behind this vmnic, inside the epoch as the OS does. */
static inline void
in_nic(struct vpc_hdl *h, struct vpc_pkt *p)
{
	struct os_epoch et;

	os_epoch_enter(&et);
	vpc_nic_input(obj2nic(h->obj), p);
	os_epoch_exit(&et);
}

/* One counter of a switch; all ones if it cannot be read. */
static inline uint64_t
sw_counter(struct vpc_hdl *sw, unsigned which)
{
	vpc_sw_stats_t st;

	if (ctl(sw, VPC_OP_SW_GET_STATS, NULL, 0, &st, sizeof(st)) != 0)
		return (~0ull);
	return (st.c[which]);
}

/* One case of an area: its name in reports, its body (0: passed). */
struct test_case {
	const char *name;
	int (*fn)(void);
};

/*
 * Run the area's n cases in order, reporting each: a case passes if it
 * returns 0 and the whole graph still holds together after it.  The first
 * case is the area's setup: if it fails, nothing else can run.  Returns
 * how many passed.
 */
static inline int
run_cases(const struct test_case *cases, size_t n)
{
	size_t i;
	int passed = 0;

	for (i = 0; i < n; i++) {
		char why[160];
		int ok;

		TEST_STATE.name = cases[i].name;
		ok = cases[i].fn() == 0;
		if (ok && vpc_sys_check(TEST_STATE.sys, why, sizeof(why)) != 0) {
			printf("not ok - %s %s: invariant violated: %s\n", TEST_AREA,
			    TEST_STATE.name, why);
			(*TEST_STATE.failed)++;
			ok = 0;
		}
		if (ok) {
			printf("ok - %s %s\n", TEST_AREA, TEST_STATE.name);
			passed++;
		} else if (i == 0)
			break;
		hloop_reclaim();
	}
	return (passed);
}

/* Close the descriptors the cases left open (the vmnics switches made). */
static inline void
close_test_handles(void)
{
	int i;

	for (i = 0; i < TEST_MAX_HANDLES; i++) {
		if (test_handles[i] != NULL) {
			vpc_core_close(TEST_STATE.sys, test_handles[i]);
			test_handles[i] = NULL;
		}
	}
}

#endif /* _TEST_AREA_H_ */
