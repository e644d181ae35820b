/*
 * test_libvpc_efault: an error must mean nothing happened, EFAULT included,
 * through libvpc and a running vpc-hostd (VPC_HOSTD_SOCKET).  The daemon
 * applies an op before its reply lands in the caller's buffers, so libvpc
 * must refuse a call whose *vallen or value buffer cannot be written before
 * it sends anything.  The same rows as the FreeBSD boot test's: a NULL value
 * buffer, *vallen in read-only memory, a read-only value buffer, a buffer
 * that runs into an unmapped page; each checks errno and that the switch
 * kept its port count.  Prints "ok - ..." / "not ok - ..." lines and a
 * summary; exits nonzero on a failure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vpc.h"

static int passed, failed;

static void
check(const char *name, int ok, long got, long want)
{
	if (ok) {
		printf("ok - %s\n", name);
		passed++;
	} else {
		printf("not ok - %s (got %ld, want %ld)\n", name, got, want);
		failed++;
	}
}

static long
port_count(int swd)
{
	vpc_switch_t sw;
	size_t vl = sizeof(sw);

	if (vpc_ctl(swd, VPC_OP_SW_GET_PORT_COUNT, 0, NULL, &vl, &sw) != 0)
		return (-1);
	return (sw.num_ports);
}

static void
add_port_row(int swd, const char *name, void *val, size_t *vallen)
{
	vpc_swport_t req;
	long before = port_count(swd);
	char what[128];
	int r, e;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	r = vpc_ctl(swd, VPC_OP_SW_ADD_PORT, sizeof(req), &req, vallen, val);
	e = errno;
	snprintf(what, sizeof(what), "%s: EFAULT", name);
	check(what, r == -1 && e == EFAULT, r == 0 ? 0 : e, EFAULT);
	snprintf(what, sizeof(what), "%s: no port added", name);
	check(what, port_count(swd) == before, port_count(swd), before);
}

int
main(void)
{
	vpc_id_t id;
	vpc_sw_cam_t cam;
	vpc_cam_key_t key;
	size_t vallen = sizeof(vpc_swport_t), *ro_len;
	long pg = sysconf(_SC_PAGESIZE);
	char *page, *two;
	int swd, r, e;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xef;
	id.bytes[15] = (uint8_t)getpid();
	swd = vpc_open(&id, VPC_TYPE_WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("a switch to try things on", swd >= 0, swd, 0);
	if (swd < 0)
		return (1);
	page = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	two = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || two == MAP_FAILED)
		return (1);
	ro_len = (size_t *)(void *)page;
	*ro_len = sizeof(vpc_swport_t);
	mprotect(page, (size_t)pg, PROT_READ);
	munmap(two + pg, (size_t)pg);

	add_port_row(swd, "NULL value buffer, *vallen 88", NULL, &vallen);
	add_port_row(swd, "*vallen in read-only memory", two, ro_len);
	add_port_row(swd, "value buffer in read-only memory", page + 64,
	    &vallen);
	add_port_row(swd, "value buffer ends in an unmapped page",
	    two + pg - 40, &vallen);

	memset(&cam, 0, sizeof(cam));
	cam.dstmac[0] = 0x02;
	cam.dstmac[5] = 0x0f;
	cam.kind = VPC_CAM_NEGATIVE;
	cam.ttl_ms = 60000;
	vallen = sizeof(vpc_cam_set_result_t);
	r = vpc_ctl(swd, VPC_OP_SW_CAM_SET, sizeof(cam), &cam, &vallen, page);
	e = errno;
	check("CAM_SET with a read-only result buffer: EFAULT",
	    r == -1 && e == EFAULT, e, EFAULT);
	memset(&key, 0, sizeof(key));
	memcpy(key.dstmac, cam.dstmac, 6);
	vallen = sizeof(cam);
	r = vpc_ctl(swd, VPC_OP_SW_CAM_GET, sizeof(key), &key, &vallen, &cam);
	e = errno;
	check("and the entry was not installed (ENOENT)", r == -1 &&
	    e == ENOENT, e, ENOENT);

	vallen = sizeof(vpc_swport_t);
	{
		vpc_swport_t req, res;

		memset(&req, 0, sizeof(req));
		req.flags = VPC_FLAG_SWP_VMNIC;
		r = vpc_ctl(swd, VPC_OP_SW_ADD_PORT, sizeof(req), &req,
		    &vallen, &res);
		check("a good SW_ADD_PORT adds the port", r == 0 &&
		    port_count(swd) == 1, port_count(swd), 1);
	}
	close(swd);
	printf("%d passed, %d failed\n", passed, failed);
	return (failed != 0);
}
