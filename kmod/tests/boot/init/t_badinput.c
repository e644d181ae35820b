/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_badinput.c: bad input, each with its errno, and an error means nothing
 * happened, EFAULT included.
 */
#include "tests.h"
#include "report.h"

/*
 * The kernel copies an op's result out after the op ran; an op that
 * changes state must fail with EFAULT *before* it runs when that copy-out
 * cannot succeed: a NULL value buffer, *vallen or the value buffer in
 * read-only memory, a buffer that runs into an unmapped page.  Each row
 * checks the errno, that the switch still has its ports and the kernel its
 * handles, and that no descriptor number was used up.
 */
static void
efault_row(long swd, const char *name, void *val, size_t *vallen)
{
	vpc_swport_t req;
	uint64_t handles = sysctl_u64("net.vpc.handles");
	long ports = port_count(swd), free_fd, fd, r;

	free_fd = sc3(SYS_dup, 0, 0, 0);	/* the number a new fd would get */
	sc3(SYS_close, free_fd, 0, 0);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	r = vctl(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), val, vallen);
	expectp(name, "EFAULT", r, -EFAULT);
	checkp(name, "no port added", port_count(swd) == ports,
	    port_count(swd), ports);
	checkp(name, "no handle left", sysctl_u64("net.vpc.handles") ==
	    handles, (long)sysctl_u64("net.vpc.handles"), (long)handles);
	fd = sc3(SYS_dup, 0, 0, 0);
	checkp(name, "no descriptor used up", fd == free_fd, fd, free_fd);
	if (fd >= 0)
		sc3(SYS_close, fd, 0, 0);
}

void
efault_rows(long swd)
{
	static const uint8_t mac_q[6] = { 0x02, 0, 0, 0, 0xe, 0xf };
	vpc_sw_cam_t cam;
	vpc_cam_key_t key;
	size_t vallen = sizeof(vpc_swport_t), *ro_len;
	char *page, *two;
	long r;

	page = (char *)sc6(SYS_mmap, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANON, -1, 0);
	two = (char *)sc6(SYS_mmap, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANON, -1, 0);
	check("efault: mmap for the test buffers", (long)page > 0 &&
	    (long)two > 0, (long)page, 1);
	if ((long)page <= 0 || (long)two <= 0)
		return;
	ro_len = (size_t *)(void *)page;
	*ro_len = sizeof(vpc_swport_t);
	sc3(SYS_mprotect, (long)page, PAGE_SIZE, PROT_READ);
	sc3(SYS_munmap, (long)(two + PAGE_SIZE), PAGE_SIZE, 0);

	efault_row(swd, "efault: NULL value buffer, *vallen 88", 0, &vallen);
	efault_row(swd, "efault: *vallen in read-only memory",
	    two, ro_len);
	efault_row(swd, "efault: value buffer in read-only memory",
	    page + 64, &vallen);
	efault_row(swd, "efault: value buffer ends in an unmapped page",
	    two + PAGE_SIZE - 40, &vallen);

	/* CAM_SET changes state too: its 8-byte result cannot land. */
	memset(&cam, 0, sizeof(cam));
	memcpy(cam.dstmac, mac_q, 6);
	cam.kind = VPC_CAM_NEGATIVE;
	cam.ttl_ms = 60000;
	vallen = sizeof(vpc_cam_set_result_t);
	r = vctl(swd, VPC_OP_SW_CAM_SET, &cam, sizeof(cam), page, &vallen);
	expect("efault: CAM_SET with a read-only result buffer: EFAULT", r,
	    -EFAULT);
	memset(&key, 0, sizeof(key));
	memcpy(key.dstmac, mac_q, 6);
	r = vctl_n(swd, VPC_OP_SW_CAM_GET, &key, sizeof(key), &cam, sizeof(cam));
	expect("efault: and the entry was not installed", r, -ENOENT);

	/* A read-only op with a bad buffer changed nothing either way. */
	vallen = sizeof(vpc_switch_t);
	r = vctl(swd, VPC_OP_SW_GET_PORT_COUNT, 0, 0, page, &vallen);
	expect("efault: GET_PORT_COUNT into read-only memory: EFAULT", r,
	    -EFAULT);
	sc3(SYS_munmap, (long)page, PAGE_SIZE, 0);
	sc3(SYS_munmap, (long)two, PAGE_SIZE, 0);
	invariants("efault: the core's invariants after the EFAULT rows");
}

void
bad_inputs(long swd)
{
	vpc_id_t id = mkid(3), missing = mkid(4), sw2id = mkid(5);
	vpc_vmnic_t mac;
	vpc_sw_vni_t vni;
	vpc_swport_t req, res;
	vpc_switch_t sw;
	size_t vallen;
	long nicd, sw2, h;
	static uint8_t big[VPC_CTL_MAX_KEYLEN + 1];

	nicd = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("bad: a NIC to try things on", nicd >= 0, nicd, 3);
	memset(&mac, 0, sizeof(mac));
	mac.mac[0] = 0x02;
	mac.mac[5] = 0x05;
	expect("bad: keylen one short is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac) - 1, 0, 0), -EINVAL);
	expect("bad: keylen one long is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac) + 1, 0, 0), -EINVAL);
	expect("bad: vallen one long is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_GET_MAC, 0, 0, &mac, sizeof(mac) + 1), -EINVAL);
	mac.mac[0] = 0x01;
	expect("bad: a multicast MAC is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac), 0, 0), -EINVAL);
	memset(mac.mac, 0, 6);
	expect("bad: an all-zero MAC is EINVAL", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, &mac, sizeof(mac), 0, 0), -EINVAL);
	expect("bad: a switch op on a NIC is ENOTTY", vctl_n(nicd,
	    VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw, sizeof(sw)), -ENOTTY);
	expect("bad: an unknown op is ENOTTY", vctl_n(nicd, 9999, 0, 0, 0, 0),
	    -ENOTTY);
	expect("bad: a NULL key with keylen 12 is EFAULT", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, 0, sizeof(mac), 0, 0), -EFAULT);
	expect("bad: keylen over the cap is E2BIG", vctl_n(nicd,
	    VPC_OP_NIC_SET_MAC, big, sizeof(big), 0, 0), -E2BIG);
	vallen = sizeof(mac);
	expect("bad: a NULL value buffer is EFAULT", vctl(nicd,
	    VPC_OP_NIC_GET_MAC, 0, 0, 0, &vallen), -EFAULT);
	expect("bad: a NULL vallen pointer for a valued op is EINVAL",
	    vctl(nicd, VPC_OP_NIC_GET_MAC, 0, 0, &mac, 0), -EINVAL);
	expect("bad: a switch op with no handle is EBADF", vctl_n(-1,
	    VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw, sizeof(sw)), -EBADF);
	expect("bad: a descriptor that is not a handle is EBADF", vctl_n(1,
	    VPC_OP_GET_TXN, 0, 0, &vallen, 4), -EBADF);
	h = nicd;
	sc3(SYS_close, nicd, 0, 0);
	expect("bad: a closed handle is EBADF", vctl_n(h, VPC_OP_NOP, 0, 0, 0,
	    0), -EBADF);

	expect("bad: a garbage type word is EINVAL", vopen(&id, 0xdeadbeef,
	    VPC_FLAG_CREATE), -EINVAL);
	expect("bad: a bare VPC_TYPE_NIC as the word is EINVAL", vopen(&id,
	    VPC_TYPE_NIC, VPC_FLAG_CREATE), -EINVAL);
	expect("bad: two flags at once is EINVAL", vopen(&id,
	    WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE | VPC_FLAG_OPEN), -EINVAL);
	expect("bad: OPEN of a missing id is ENOENT", vopen(&missing,
	    WORD(VPC_TYPE_NIC), VPC_FLAG_OPEN), -ENOENT);
	expect("bad: a NULL id is EFAULT", vopen(0, WORD(VPC_TYPE_NIC),
	    VPC_FLAG_CREATE), -EFAULT);
	h = vopen(&id, WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE);
	check("bad: CREATE again after the last close (it died)", h >= 0, h, 3);
	expect("bad: CREATE of an id in use is EEXIST", vopen(&id,
	    WORD(VPC_TYPE_NIC), VPC_FLAG_CREATE), -EEXIST);
	expect("bad: OPEN as another type is ENOENT", vopen(&id,
	    WORD(VPC_TYPE_SWITCH), VPC_FLAG_OPEN), -ENOENT);
	if (h >= 0)
		sc3(SYS_close, h, 0, 0);

	/* A second switch for VNI and VLAN checks. */
	sw2 = vopen(&sw2id, WORD(VPC_TYPE_SWITCH), VPC_FLAG_CREATE);
	check("bad: a second switch", sw2 >= 0, sw2, 3);
	memset(&vni, 0, sizeof(vni));
	vni.vni = 1u << 24;
	expect("bad: VNI 2^24 is EINVAL", vctl_n(sw2, VPC_OP_SW_SET_VNI, &vni,
	    sizeof(vni), 0, 0), -EINVAL);
	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID;
	req.vlan_id = 0;
	expect("bad: VLAN 0 is EINVAL", vctl_n(sw2, VPC_OP_SW_ADD_PORT, &req,
	    sizeof(req), &res, sizeof(res)), -EINVAL);
	req.vlan_id = 4095;
	expect("bad: VLAN 4095 is EINVAL", vctl_n(sw2, VPC_OP_SW_ADD_PORT,
	    &req, sizeof(req), &res, sizeof(res)), -EINVAL);
	req.flags = VPC_FLAG_SWP_ROUTER | VPC_FLAG_SWP_DESCRIPTOR;
	req.vlan_id = 0;
	expect("bad: a descriptor for a router port is EINVAL", vctl_n(sw2,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    -EINVAL);
	sc3(SYS_close, sw2, 0, 0);

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_UPLINK;
	expect("bad: a second uplink is EEXIST", vctl_n(swd,
	    VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res, sizeof(res)),
	    -EEXIST);
	expect("bad: a vmnic op on a switch is ENOTTY", vctl_n(swd,
	    VPC_OP_NIC_GET_MAC, 0, 0, &mac, sizeof(mac)), -ENOTTY);
}
