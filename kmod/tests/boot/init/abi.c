/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * abi.c: vpc_open(2) and vpc_ctl(2) as userland calls them: the slots from
 * modfind(2)/modstat(2), never hard-coded.
 */
#include "helpers.h"
#include "report.h"

long sys_open_no, sys_ctl_no, vpc_fileid;

long
slot(const char *modname)
{
	struct module_stat st;
	long id;

	id = sc3(SYS_modfind, modname, 0, 0);
	if (id < 0)
		return (id);
	memset(&st, 0, sizeof(st));
	st.version = sizeof(st);
	id = sc3(SYS_modstat, id, &st, 0);
	if (id < 0)
		return (id);
	return (st.data.intval);
}

long
vopen(const vpc_id_t *id, vpc_type_t type, vpc_flags_t flags)
{
	return (sc6(sys_open_no, (long)id, (long)type, (long)flags, 0, 0, 0));
}

long
vctl(long h, vpc_op_t op, const void *key, size_t keylen, void *val,
    size_t *vallen)
{
	return (sc6(sys_ctl_no, h, (long)op, (long)keylen, (long)key,
	    (long)vallen, (long)val));
}

long
vctl_n(long h, vpc_op_t op, const void *key, size_t keylen, void *val,
    size_t n)
{
	size_t vallen = n;

	return (vctl(h, op, key, keylen, val, &vallen));
}

void
invariants(const char *name)
{
	vpc_check_result_t res;
	long r;

	memset(&res, 0, sizeof(res));
	r = vctl_n(-1, VPC_OP_SYS_CHECK, 0, 0, &res, sizeof(res));
	if (r == 0 && res.result != 0) {
		lput("vpc-init: invariant failed: ");
		res.why[sizeof(res.why) - 1] = '\0';
		lput(res.why);
		lflush();
	}
	check(name, r == 0 && res.result == 0 && res.checks > 0, r != 0 ? r :
	    res.result, 0);
}

vpc_id_t
mkid(unsigned n)
{
	vpc_id_t id;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0x76;		/* 'v' */
	id.bytes[1] = 0x70;
	id.bytes[6] = 0x40;		/* version 4 */
	id.bytes[8] = 0x80;
	id.bytes[14] = (uint8_t)(n >> 8);
	id.bytes[15] = (uint8_t)n;
	return (id);
}

vpc_txn_t
get_txn(long h)
{
	vpc_txn_t txn = 0;

	if (vctl_n(h, VPC_OP_GET_TXN, 0, 0, &txn, sizeof(txn)) != 0)
		return (-1);
	return (txn);
}

long
nic_ifname(long h, char name[VPC_IFNAMSIZ])
{
	vpc_nic_ifname_t v;
	long r;

	memset(&v, 0, sizeof(v));
	r = vctl_n(h, VPC_OP_NIC_GET_IFNAME, 0, 0, &v, sizeof(v));
	memcpy(name, v.name, VPC_IFNAMSIZ);
	return (r);
}

uint64_t
generation(long h)
{
	vpc_obj_info_t info;

	memset(&info, 0, sizeof(info));
	(void)vctl_n(h, VPC_OP_GET_INFO, 0, 0, &info, sizeof(info));
	return (info.generation);
}

long
port_count(long swd)
{
	vpc_switch_t sw;

	memset(&sw, 0, sizeof(sw));
	if (vctl_n(swd, VPC_OP_SW_GET_PORT_COUNT, 0, 0, &sw, sizeof(sw)) != 0)
		return (-1);
	return (sw.num_ports);
}

void
sw_stats(long swd, vpc_sw_stats_t *st)
{
	memset(st, 0, sizeof(*st));
	(void)vctl_n(swd, VPC_OP_SW_GET_STATS, 0, 0, st, sizeof(*st));
}

void
vcc_stats(long vccd, vpc_vcc_stats_t *st)
{
	memset(st, 0, sizeof(*st));
	(void)vctl_n(vccd, VPC_OP_VCC_GET_STATS, 0, 0, st, sizeof(*st));
}

long
add_vmnic_port(long swd, const uint8_t mac[6], vpc_id_t *port_id)
{
	vpc_swport_t req, res;
	long r;

	memset(&req, 0, sizeof(req));
	req.flags = VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_DESCRIPTOR;
	memcpy(req.smac, mac, 6);
	memset(&res, 0, sizeof(res));
	r = vctl_n(swd, VPC_OP_SW_ADD_PORT, &req, sizeof(req), &res,
	    sizeof(res));
	if (r == 0 && port_id != NULL)
		*port_id = res.port_id;
	return (r != 0 ? r : res.descriptor);
}

long
del_port(long swd, const vpc_id_t *port_id)
{
	vpc_swport_ref_t ref;

	memset(&ref, 0, sizeof(ref));
	ref.port_id = *port_id;
	return (vctl_n(swd, VPC_OP_SW_DEL_PORT, &ref, sizeof(ref), 0, 0));
}

long
destroy(long h)
{
	vpc_txn_t txn = 0;

	return (vctl_n(h, VPC_OP_DESTROY, &txn, sizeof(txn), 0, 0));
}

long
commit(long h)
{
	vpc_txn_t txn = 0;

	return (vctl_n(h, VPC_OP_COMMIT, &txn, sizeof(txn), 0, 0));
}
