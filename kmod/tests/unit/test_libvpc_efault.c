/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_libvpc_efault: an error must mean nothing happened, EFAULT included,
 * through libvpc and a running vpc-hostd (VPC_HOSTD_SOCKET).  The daemon
 * applies an op before its reply lands in the caller's buffers, so libvpc
 * must refuse a call whose *vallen or value buffer cannot be written before
 * it sends anything.  The same rows as the FreeBSD boot test's: a NULL value
 * buffer, *vallen in read-only memory, a read-only value buffer, a buffer
 * that runs into an unmapped page; each checks errno and that the switch
 * kept its port count.  Then what libvpc's own checks rest on: a value over
 * a page (checked the slow way), a program that closes libvpc's probe pipe
 * and gets the number back for a pipe of its own (never written to), and a
 * child after fork() (its own pipe and connection).  Prints "ok - ..." /
 * "not ok - ..." lines and a summary; exits nonzero on a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

	/* A value buffer over a page: the slow check decides. */
	{
		char *three = mmap(NULL, 3 * (size_t)pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t big = 3 * (size_t)pg;
		vpc_list_req_t lreq;

		if (three == MAP_FAILED)
			return (1);
		munmap(three + 2 * pg, (size_t)pg);
		add_port_row(swd, "a value buffer of three pages, the last "
		    "unmapped", three, &big);
		memset(&lreq, 0, sizeof(lreq));
		big = 2 * (size_t)pg;
		r = vpc_ctl(swd, VPC_OP_SW_LIST_PORTS, sizeof(lreq), &lreq, &big,
		    three);
		check("a good two-page value buffer works (SW_LIST_PORTS)",
		    r == 0 && big == sizeof(vpc_swport_t), (long)big,
		    (long)sizeof(vpc_swport_t));
		munmap(three, 2 * (size_t)pg);
	}

	/*
	 * The program closes libvpc's probe pipe and gets the number back
	 * for the writing end of a pipe of its own: libvpc must notice and
	 * never write there.
	 */
	{
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		struct stat st;
		int p[2], fifos[16], nfifo = 0, i;
		long before;
		char junk[64];

		if (pipe2(p, O_NONBLOCK) < 0)
			return (1);
		while (d != NULL && (de = readdir(d)) != NULL && nfifo < 16) {
			int fd = atoi(de->d_name);

			if (fd > 2 && fd != dirfd(d) && fd != p[0] && fd != p[1] &&
			    fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
				fifos[nfifo++] = fd;
		}
		if (d != NULL)
			closedir(d);
		check("libvpc keeps a probe pipe", nfifo >= 1, nfifo, 1);
		for (i = 0; i < nfifo; i++)
			dup2(p[1], fifos[i]);   /* closes it, the number is ours */
		before = port_count(swd);
		check("calls go on after its pipe was taken over",
		    before >= 0, before, 0);
		check("and nothing was written to the program's pipe",
		    read(p[0], junk, sizeof(junk)) < 0 && errno == EAGAIN, 0, 0);
		for (i = 0; i < nfifo; i++)
			close(fifos[i]);
		close(p[0]);
		close(p[1]);
	}

	/* A child after fork() checks with its own pipe, talks on its own
	 * connection; the parent's go on working. */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid == 0)
			_exit(port_count(swd) >= 0 && port_count(swd) >= 0 ? 0 : 1);
		waitpid(pid, &status, 0);
		check("a forked child makes calls", pid > 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0, status, 0);
		check("and so does its parent after it", port_count(swd) >= 0,
		    port_count(swd), 0);
	}

	close(swd);
	printf("%d passed, %d failed\n", passed, failed);
	return (failed != 0);
}
