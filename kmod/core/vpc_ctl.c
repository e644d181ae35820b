/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_ctl.c: vpc_open, close and the op dispatcher.
 *
 * One table says, for every op, which handles it applies to, the types (so
 * the exact sizes) of its key and value, whether it mutates and whether it
 * needs privilege.  The glue asks vpc_ctl_check() before it copies a byte
 * in, so a bad size or a wrong handle is refused without reading the
 * caller's memory; the table is also what tools/abi_dump prints for the
 * TypeScript bindings.
 */
#include "vpc_impl.h"

#define OPF_MUT      0x01
#define OPF_PRIV     0x02
#define OPF_KEYARR   0x04       /* key: 1..n elements of keysz */
#define OPF_VALARR   0x08       /* value: up to n elements of valsz */

#define T(t)    (1u << (t))
#define T_NONE  T(VPC_TYPE_UNSET)       /* VPC_HANDLE_NONE */
#define T_ANY   (T(VPC_TYPE_NIC) | T(VPC_TYPE_SWITCH) | T(VPC_TYPE_SWPORT) | \
                 T(VPC_TYPE_VCC) | T(VPC_TYPE_ROUTER) | T(VPC_TYPE_NAT) | \
                 T(VPC_TYPE_LINK))
#define T_ROOTS (T(VPC_TYPE_NIC) | T(VPC_TYPE_SWITCH) | T(VPC_TYPE_VCC) | \
                 T(VPC_TYPE_ROUTER) | T(VPC_TYPE_NAT) | T(VPC_TYPE_LINK))
#define T_RTR   T(VPC_TYPE_ROUTER)
#define T_NAT   T(VPC_TYPE_NAT)
#define T_LINK  T(VPC_TYPE_LINK)

struct vpc_opdesc {
	const char *name;
	vpc_opfn_t *fn;
	uint32_t    types;
	uint32_t    keysz;
	const char *keytype;            /* the key's type in vpc.h, or NULL */
	uint32_t    valsz;
	const char *valtype;            /* the value's type in vpc.h, or NULL */
	uint8_t     flags;
	int16_t     handle_off;         /* descriptor in the value, or -1 */
};

/*
 * A key or value is named by its type: OF(vpc_vmnic_t) gives both its size,
 * which vpc_ctl_check() enforces, and its name, which abi_dump hands to the
 * TypeScript generator; NONE is "no key" or "no value".
 */
#define OF(type)        sizeof(type), #type
#define NONE            0, NULL

#define OP(num, fn_, types_, key_, val_, flags_) \
	[num] = { #num, fn_, types_, key_, val_, flags_, -1 }

static const struct vpc_opdesc optab[] = {
	OP(VPC_OP_NOP, vpc_op_nop, T_ANY | T_NONE, NONE, NONE, 0),
	OP(VPC_OP_GET_TXN, vpc_op_get_txn, T_ANY, NONE, OF(vpc_txn_t), 0),
	OP(VPC_OP_NIC_SET_MAC, vpc_op_nic_set_mac, T(VPC_TYPE_NIC),
	    OF(vpc_vmnic_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NIC_GET_MAC, vpc_op_nic_get_mac, T(VPC_TYPE_NIC), NONE,
	    OF(vpc_vmnic_t), 0),
	OP(VPC_OP_COMMIT, vpc_op_commit, T_ROOTS, OF(vpc_txn_t), NONE,
	    OPF_MUT | OPF_PRIV),
	OP(VPC_OP_DESTROY, vpc_op_destroy, T_ANY, OF(vpc_txn_t), NONE,
	    OPF_MUT | OPF_PRIV),
	OP(VPC_OP_GET_TYPE, vpc_op_get_type, T_ANY, NONE, OF(vpc_type_t), 0),
	OP(VPC_OP_GET_ID, vpc_op_get_id, T_ANY, NONE, OF(vpc_id_t), 0),
	OP(VPC_OP_GET_INFO, vpc_op_get_info, T_ANY, NONE, OF(vpc_obj_info_t), 0),
	OP(VPC_OP_SW_GET_PORT_COUNT, vpc_op_sw_get_port_count, T(VPC_TYPE_SWITCH),
	    NONE, OF(vpc_switch_t), 0),
	[VPC_OP_SW_ADD_PORT] = { "VPC_OP_SW_ADD_PORT", vpc_op_sw_add_port,
	    T(VPC_TYPE_SWITCH), OF(vpc_swport_t), OF(vpc_swport_t),
	    OPF_MUT | OPF_PRIV, __builtin_offsetof(vpc_swport_t, descriptor) },
	OP(VPC_OP_SW_DEL_PORT, vpc_op_sw_del_port, T(VPC_TYPE_SWITCH),
	    OF(vpc_swport_ref_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_SW_GET_PORT, vpc_op_sw_get_port, T(VPC_TYPE_SWITCH),
	    OF(vpc_swport_ref_t), OF(vpc_swport_t), 0),
	OP(VPC_OP_SW_SET_VNI, vpc_op_sw_set_vni, T(VPC_TYPE_SWITCH),
	    OF(vpc_sw_vni_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_SW_GET_VNI, vpc_op_sw_get_vni, T(VPC_TYPE_SWITCH), NONE,
	    OF(vpc_sw_vni_t), 0),
	OP(VPC_OP_SW_LIST_PORTS, vpc_op_sw_list_ports, T(VPC_TYPE_SWITCH),
	    OF(vpc_list_req_t), OF(vpc_swport_t), OPF_VALARR),
	OP(VPC_OP_SYS_LIST, vpc_op_sys_list, T_NONE, OF(vpc_list_req_t),
	    OF(vpc_obj_info_t), OPF_VALARR),
	OP(VPC_OP_SYS_STATS, vpc_op_sys_stats, T_NONE, NONE,
	    OF(vpc_sys_stats_t), 0),
	OP(VPC_OP_NIC_SET_IFNAME, vpc_op_nic_set_ifname, T(VPC_TYPE_NIC),
	    OF(vpc_nic_ifname_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NIC_GET_IFNAME, vpc_op_nic_get_ifname, T(VPC_TYPE_NIC), NONE,
	    OF(vpc_nic_ifname_t), 0),
	OP(VPC_OP_NIC_SET_MTU, vpc_op_nic_set_mtu, T(VPC_TYPE_NIC),
	    OF(vpc_nic_mtu_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NIC_GET_MTU, vpc_op_nic_get_mtu, T(VPC_TYPE_NIC), NONE,
	    OF(vpc_nic_mtu_t), 0),
	OP(VPC_OP_SW_SET_SUBNET, vpc_op_sw_set_subnet, T(VPC_TYPE_SWITCH),
	    OF(vpc_sw_subnet_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_SW_GET_SUBNET, vpc_op_sw_get_subnet, T(VPC_TYPE_SWITCH),
	    OF(vpc_sw_subnet_t), OF(vpc_sw_subnet_t), 0),
	OP(VPC_OP_SW_GET_STATS, vpc_op_sw_get_stats, T(VPC_TYPE_SWITCH), NONE,
	    OF(vpc_sw_stats_t), 0),
	OP(VPC_OP_SW_CAM_SET, vpc_op_sw_cam_set, T(VPC_TYPE_SWITCH),
	    OF(vpc_sw_cam_t), OF(vpc_cam_set_result_t),
	    OPF_PRIV | OPF_KEYARR),
	OP(VPC_OP_SW_CAM_GET, vpc_op_sw_cam_get, T(VPC_TYPE_SWITCH),
	    OF(vpc_cam_key_t), OF(vpc_sw_cam_t), 0),
	OP(VPC_OP_SW_CAM_DEL, vpc_op_sw_cam_del, T(VPC_TYPE_SWITCH),
	    OF(vpc_cam_key_t), NONE, OPF_PRIV),
	OP(VPC_OP_SW_CAM_FLUSH, vpc_op_sw_cam_flush, T(VPC_TYPE_SWITCH) | T_NONE,
	    OF(vpc_cam_flush_t), OF(uint64_t), OPF_PRIV),
	OP(VPC_OP_SW_CAM_DUMP, vpc_op_sw_cam_dump, T(VPC_TYPE_SWITCH),
	    OF(vpc_list_req_t), OF(vpc_sw_cam_t), OPF_VALARR),
	OP(VPC_OP_VCC_SET, vpc_op_vcc_set, T(VPC_TYPE_VCC), OF(vpc_vcc_t), NONE,
	    OPF_MUT | OPF_PRIV),
	OP(VPC_OP_VCC_GET, vpc_op_vcc_get, T(VPC_TYPE_VCC), NONE, OF(vpc_vcc_t), 0),
	OP(VPC_OP_VCC_GET_STATS, vpc_op_vcc_get_stats, T(VPC_TYPE_VCC), NONE,
	    OF(vpc_vcc_stats_t), 0),
	OP(VPC_OP_SYS_UPCALL_ANSWER, vpc_op_sys_upcall_answer, T_NONE,
	    OF(vpc_upcall_ans_t), OF(int32_t), OPF_PRIV | OPF_KEYARR |
	    OPF_VALARR),
	OP(VPC_OP_SYS_UPCALL_STATS, vpc_op_sys_upcall_stats, T_NONE, NONE,
	    OF(vpc_upcall_stats_t), 0),
	OP(VPC_OP_SYS_CHECK, vpc_op_sys_check, T_NONE, NONE,
	    OF(vpc_check_result_t), 0),
	OP(VPC_OP_SYS_AGENT_EVENT, vpc_op_sys_agent_event, T_NONE,
	    OF(vpc_agent_event_t), NONE, OPF_PRIV),
	OP(VPC_OP_NIC_SET_ADDR, vpc_op_nic_set_addr, T(VPC_TYPE_NIC),
	    OF(vpc_nic_addr_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NIC_GET_ADDR, vpc_op_nic_get_addr, T(VPC_TYPE_NIC), NONE,
	    OF(vpc_nic_addr_t), 0),
	OP(VPC_OP_NIC_SET_DHCP, vpc_op_nic_set_dhcp, T(VPC_TYPE_NIC),
	    OF(vpc_nic_dhcp_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NIC_GET_DHCP, vpc_op_nic_get_dhcp, T(VPC_TYPE_NIC), NONE,
	    OF(vpc_nic_dhcp_t), 0),
	OP(VPC_OP_SW_SET_GATEWAY, vpc_op_sw_set_gateway, T(VPC_TYPE_SWITCH),
	    OF(vpc_sw_gateway_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_SW_GET_GATEWAY, vpc_op_sw_get_gateway, T(VPC_TYPE_SWITCH), NONE,
	    OF(vpc_sw_gateway_t), 0),
	OP(VPC_OP_SW_SET_POLICY, vpc_op_sw_set_policy, T(VPC_TYPE_SWITCH),
	    OF(vpc_sw_policy_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_SW_GET_POLICY, vpc_op_sw_get_policy, T(VPC_TYPE_SWITCH), NONE,
	    OF(vpc_sw_policy_t), 0),
	OP(VPC_OP_SW_NBR_SET, vpc_op_sw_nbr_set, T(VPC_TYPE_SWITCH),
	    OF(vpc_sw_nbr_t), OF(vpc_cam_set_result_t), OPF_PRIV | OPF_KEYARR),
	OP(VPC_OP_SW_NBR_GET, vpc_op_sw_nbr_get, T(VPC_TYPE_SWITCH),
	    OF(vpc_nbr_key_t), OF(vpc_sw_nbr_t), 0),
	OP(VPC_OP_SW_NBR_DEL, vpc_op_sw_nbr_del, T(VPC_TYPE_SWITCH),
	    OF(vpc_nbr_key_t), NONE, OPF_PRIV),
	OP(VPC_OP_SW_NBR_FLUSH, vpc_op_sw_nbr_flush, T(VPC_TYPE_SWITCH),
	    OF(vpc_cam_flush_t), OF(uint64_t), OPF_PRIV),
	OP(VPC_OP_SW_NBR_DUMP, vpc_op_sw_nbr_dump, T(VPC_TYPE_SWITCH),
	    OF(vpc_list_req_t), OF(vpc_sw_nbr_t), OPF_VALARR),
	OP(VPC_OP_RTR_ATTACH, vpc_op_rtr_attach, T_RTR, OF(vpc_rtr_attach_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_RTR_DETACH, vpc_op_rtr_detach, T_RTR, OF(vpc_rtr_attach_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_RTR_LIST_ATTACH, vpc_op_rtr_list_attach, T_RTR, NONE,
	    OF(vpc_rtr_attach_t), OPF_VALARR),
	OP(VPC_OP_RTR_ROUTE_SET, vpc_op_rtr_route_set, T_RTR, OF(vpc_rt_route_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_RTR_ROUTE_DEL, vpc_op_rtr_route_del, T_RTR, OF(vpc_rt_route_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_RTR_ROUTE_GET, vpc_op_rtr_route_get, T_RTR, OF(vpc_rt_route_t),
	    OF(vpc_rt_route_t), 0),
	OP(VPC_OP_RTR_ROUTE_LOOKUP, vpc_op_rtr_route_lookup, T_RTR,
	    OF(vpc_rt_route_t), OF(vpc_rt_route_t), 0),
	OP(VPC_OP_RTR_ROUTE_DUMP, vpc_op_rtr_route_dump, T_RTR, OF(vpc_list_req_t),
	    OF(vpc_rt_route_t), OPF_VALARR),
	OP(VPC_OP_RTR_ROUTE_REPLACE, vpc_op_rtr_route_replace, T_RTR,
	    OF(vpc_rt_route_t), NONE, OPF_MUT | OPF_PRIV | OPF_KEYARR),
	OP(VPC_OP_RTR_GET_STATS, vpc_op_rtr_get_stats, T_RTR, NONE,
	    OF(vpc_rtr_stats_t), 0),
	OP(VPC_OP_RTR_STAGE_BEGIN, vpc_op_rtr_stage_begin, T_RTR,
	    OF(vpc_rt_stage_t), OF(vpc_rt_stage_t), OPF_PRIV),
	OP(VPC_OP_RTR_STAGE_APPEND, vpc_op_rtr_stage_append, T_RTR,
	    OF(vpc_rt_route_t), OF(vpc_rt_stage_t), OPF_PRIV | OPF_KEYARR),
	OP(VPC_OP_RTR_STAGE_COMMIT, vpc_op_rtr_stage_commit, T_RTR,
	    OF(vpc_rt_stage_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_RTR_STAGE_ABORT, vpc_op_rtr_stage_abort, T_RTR,
	    OF(vpc_rt_stage_t), NONE, OPF_PRIV),
	OP(VPC_OP_FW_SET_CREATE, vpc_op_fw_set_create, T_NONE,
	    OF(vpc_fw_set_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_FW_SET_DESTROY, vpc_op_fw_set_destroy, T_NONE,
	    OF(vpc_fw_set_ref_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_FW_SET_RULES, vpc_op_fw_set_rules, T_NONE,
	    OF(vpc_fw_rule_t), NONE, OPF_MUT | OPF_PRIV | OPF_KEYARR),
	OP(VPC_OP_FW_SET_FLUSH, vpc_op_fw_set_flush, T_NONE,
	    OF(vpc_fw_set_ref_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_FW_SET_GET, vpc_op_fw_set_get, T_NONE,
	    OF(vpc_fw_set_ref_t), OF(vpc_fw_set_t), 0),
	OP(VPC_OP_FW_SET_MODIFY, vpc_op_fw_set_modify, T_NONE,
	    OF(vpc_fw_set_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_FW_SET_LIST, vpc_op_fw_set_list, T_NONE,
	    OF(vpc_list_req_t), OF(vpc_fw_set_t), OPF_VALARR),
	OP(VPC_OP_FW_RULE_DUMP, vpc_op_fw_rule_dump, T_NONE,
	    OF(vpc_fw_dump_req_t), OF(vpc_fw_rule_t), OPF_VALARR),
	OP(VPC_OP_FW_SET_CONFIG, vpc_op_fw_set_config, T_NONE,
	    OF(vpc_fw_config_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_FW_GET_CONFIG, vpc_op_fw_get_config, T_NONE, NONE,
	    OF(vpc_fw_config_t), 0),
	OP(VPC_OP_SW_PORT_SET_FW, vpc_op_sw_port_set_fw, T(VPC_TYPE_SWITCH),
	    OF(vpc_sw_port_fw_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_SW_FW_FLOWS, vpc_op_sw_fw_flows, T(VPC_TYPE_SWITCH),
	    OF(vpc_fw_flow_req_t), OF(vpc_fw_flow_t), OPF_VALARR),
	OP(VPC_OP_LINK_SET, vpc_op_link_set, T_LINK, OF(vpc_link_t), NONE,
	    OPF_MUT | OPF_PRIV),
	OP(VPC_OP_LINK_GET, vpc_op_link_get, T_LINK, NONE, OF(vpc_link_t), 0),
	OP(VPC_OP_LINK_GET_STATS, vpc_op_link_get_stats, T_LINK, NONE,
	    OF(vpc_link_stats_t), 0),
	OP(VPC_OP_NAT_SET_CONFIG, vpc_op_nat_set_config, T_NAT,
	    OF(vpc_nat_config_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NAT_GET_CONFIG, vpc_op_nat_get_config, T_NAT, NONE,
	    OF(vpc_nat_config_t), 0),
	OP(VPC_OP_NAT_GET_UPSTREAM, vpc_op_nat_get_upstream, T_NAT, NONE,
	    OF(vpc_nat_upstream_t), 0),
	OP(VPC_OP_NAT_SET_LINK, vpc_op_nat_set_link, T_NAT, OF(vpc_nat_link_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NAT_GET_LINK, vpc_op_nat_get_link, T_NAT, NONE,
	    OF(vpc_nat_link_t), 0),
	OP(VPC_OP_NAT_EIP_BIND, vpc_op_nat_eip_bind, T_NAT, OF(vpc_nat_eip_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NAT_EIP_UNBIND, vpc_op_nat_eip_unbind, T_NAT, OF(vpc_nat_eip_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NAT_EIP_LIST, vpc_op_nat_eip_list, T_NAT, OF(vpc_list_req_t),
	    OF(vpc_nat_eip_t), OPF_VALARR),
	OP(VPC_OP_NAT_POOL_ADD, vpc_op_nat_pool_add, T_NAT, OF(vpc_nat_pool_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NAT_POOL_DEL, vpc_op_nat_pool_del, T_NAT, OF(vpc_nat_pool_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NAT_SNAT_BIND, vpc_op_nat_snat_bind, T_NAT, OF(vpc_nat_snat_t),
	    NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NAT_SNAT_UNBIND, vpc_op_nat_snat_unbind, T_NAT,
	    OF(vpc_nat_snat_t), NONE, OPF_MUT | OPF_PRIV),
	OP(VPC_OP_NAT_SNAT_GET, vpc_op_nat_snat_get, T_NAT, OF(vpc_nat_snat_t),
	    OF(vpc_nat_snat_t), 0),
	OP(VPC_OP_NAT_FLOW_DUMP, vpc_op_nat_flow_dump, T_NAT,
	    OF(vpc_nat_flow_req_t), OF(vpc_nat_flow_t), OPF_VALARR),
	OP(VPC_OP_NAT_GET_STATS, vpc_op_nat_get_stats, T_NAT, NONE,
	    OF(vpc_nat_stats_t), 0),
	OP(VPC_OP_RTR_SET_NAT, vpc_op_rtr_set_nat, T_RTR, OF(vpc_rtr_nat_t), NONE,
	    OPF_MUT | OPF_PRIV),
	OP(VPC_OP_RTR_GET_NAT, vpc_op_rtr_get_nat, T_RTR, NONE, OF(vpc_rtr_nat_t),
	    0),
};

static const struct vpc_opdesc *
op_lookup(vpc_op_t op)
{
	if (op >= nitems(optab) || optab[op].fn == NULL)
		return (NULL);
	return (&optab[op]);
}

const char *
vpc_op_name(vpc_op_t op)
{
	const struct vpc_opdesc *d = op_lookup(op);

	return (d != NULL ? d->name : "VPC_OP_UNKNOWN");
}

int
vpc_opdesc_handle_off(const struct vpc_opdesc *d)
{
	return (d->handle_off);
}

bool
vpc_opdesc_changes_state(const struct vpc_opdesc *d)
{
	return ((d->flags & (OPF_MUT | OPF_PRIV)) != 0);
}

size_t
vpc_op_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < nitems(optab); i++)
		n += optab[i].fn != NULL;
	return (n);
}

void
vpc_op_info(size_t idx, struct vpc_opinfo *out)
{
	size_t i, n = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nitems(optab); i++) {
		if (optab[i].fn == NULL || n++ != idx)
			continue;
		out->op = (vpc_op_t)i;
		out->name = optab[i].name;
		out->types = optab[i].types;
		out->keysz = optab[i].keysz;
		out->keytype = optab[i].keytype;
		out->valsz = optab[i].valsz;
		out->valtype = optab[i].valtype;
		out->key_array = (optab[i].flags & OPF_KEYARR) != 0;
		out->val_array = (optab[i].flags & OPF_VALARR) != 0;
		out->mutating = (optab[i].flags & OPF_MUT) != 0;
		out->privileged = (optab[i].flags & OPF_PRIV) != 0;
		out->changes_state = vpc_opdesc_changes_state(&optab[i]);
		out->handle_off = optab[i].handle_off;
		return;
	}
}

int
vpc_ctl_check(const struct vpc_hdl *h, vpc_op_t op, size_t keylen,
    size_t vallen, size_t *usable, const struct vpc_opdesc **descp)
{
	const struct vpc_opdesc *d;

	if (keylen > VPC_CTL_MAX_KEYLEN)
		return (VPC_ERR(VPC_E2BIG));
	if ((d = op_lookup(op)) == NULL)
		return (VPC_ERR(VPC_ENOTTY));
	if (h == NULL) {
		if ((d->types & T_NONE) == 0)
			return (VPC_ERR(VPC_EBADF));
	} else if ((d->types & T(h->obj->type)) == 0)
		return (VPC_ERR(VPC_ENOTTY));
	if ((d->flags & OPF_KEYARR) != 0) {
		if (keylen == 0 || keylen % d->keysz != 0)
			return (VPC_ERR(VPC_EINVAL));
	} else if (keylen != d->keysz)
		return (VPC_ERR(VPC_EINVAL));
	if ((d->flags & OPF_VALARR) != 0)
		*usable = vallen < VPC_CTL_MAX_VALLEN ? vallen : VPC_CTL_MAX_VALLEN;
	else if (vallen != d->valsz)
		return (VPC_ERR(VPC_EINVAL));
	else
		*usable = vallen;
	*descp = d;
	return (0);
}

/*
 * Room for n more deferred actions (held frames to send, announcements to
 * make) once the control lock is dropped.  May sleep; ENOMEM changes nothing.
 */
int
vpc_after_reserve(struct vpc_ctx *x, uint32_t n)
{
	struct vpc_after *na;
	uint32_t cap = x->nafter + n;

	if (cap <= x->nafter_cap)
		return (0);
	if ((na = vpc_alloc(cap * sizeof(*na), VPC_M_WAITOK)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	if (x->after != NULL) {
		memcpy(na, x->after, x->nafter * sizeof(*na));
		vpc_free(x->after, x->nafter_cap * sizeof(*na));
	}
	x->after = na;
	x->nafter_cap = cap;
	return (0);
}

/*
 * What an op left to send (held frames of answered upcalls, announcements of
 * moved addresses) goes out after the control lock is dropped: never send
 * while holding a core lock.  The epoch is entered first, so the switches
 * and ports they name cannot be freed before we are done, even if another
 * thread destroys them meanwhile.
 */
static void
after_begin(struct vpc_sys *sys, struct vpc_ctx *x, struct vpc_ctl_later *later)
{
	later->after = x->after;
	later->nafter = x->nafter;
	later->nafter_cap = x->nafter_cap;
	os_epoch_enter(&later->et);
	os_sx_xunlock(sys->ctl);
}

void
vpc_core_ctl_finish(struct vpc_sys *sys, struct vpc_ctl_later *later)
{
	struct vpc_txbatch *b = NULL;
	struct vpc_pkt *p, *next;
	struct vpc_after *a;
	uint32_t i;

	(void)sys;
	if (later->after == NULL)
		return;
	/*
	 * A batch of answers releases a frame or more per answer: what goes to
	 * the underlay is sent in batches.  Without the memory, one by one.
	 */
	for (i = 0; i < later->nafter && b == NULL; i++)
		if (later->after[i].what == VPC_AFTER_FORWARD &&
		    later->after[i].pkts != NULL)
			b = vpc_alloc(sizeof(*b), VPC_M_NOWAIT);
	if (b != NULL)
		b->n = 0;
	for (i = 0; i < later->nafter; i++) {
		a = &later->after[i];
		if (a->what == VPC_AFTER_ANNOUNCE) {
			if (a->af == VPC_AF_INET)
				vpc_arp_announce(a->sw, a->addr, a->mac);
			else
				vpc_nd_announce(a->sw, a->addr, a->mac);
			continue;
		}
		for (p = a->pkts; p != NULL; p = next) {
			next = os_pkt_next(p);
			os_pkt_set_next(p, NULL);
			if (a->what == VPC_AFTER_RESPOND)
				vpc_l3_reinject(a->sw, a->in, p);
			else
				vpc_fwd_reinject(a->sw, a->in, p, b);
		}
	}
	if (b != NULL) {
		vpc_txbatch_flush(b);   /* in the epoch: its switches are alive */
		vpc_free(b, sizeof(*b));
	}
	os_epoch_exit(&later->et);
	vpc_free(later->after, later->nafter_cap * sizeof(*later->after));
	later->after = NULL;
}

int
vpc_core_ctl_start(struct vpc_sys *sys, const struct vpc_call *call,
    struct vpc_hdl *h, vpc_op_t op, const void *key, size_t keylen,
    void *val, size_t *vallen, struct vpc_ctl_later *later)
{
	const struct vpc_opdesc *d;
	struct vpc_ctx x;
	size_t usable;
	int error;

	later->after = NULL;
	later->nafter = later->nafter_cap = 0;
	error = vpc_ctl_check(h, op, keylen, vallen != NULL ? *vallen : 0,
	    &usable, &d);
	if (error != 0)
		return (error);
	if ((d->flags & OPF_PRIV) != 0 && !(h != NULL ? h->priv : call->priv))
		return (VPC_ERR(VPC_EPERM));

	os_sx_xlock(sys->ctl);
	if (h != NULL && h->obj->dead) {
		os_sx_xunlock(sys->ctl);
		return (VPC_ERR(VPC_EIDRM));
	}
	x.sys = sys;
	x.call = call;
	x.hdl = h;
	x.obj = h != NULL ? h->obj : NULL;
	x.key = key;
	x.keylen = keylen;
	x.val = val;
	x.vallen = usable;
	x.after = NULL;
	x.nafter = x.nafter_cap = 0;
	if (usable > 0)
		memset(val, 0, usable);
	error = d->fn(&x);
	if (x.after != NULL)
		after_begin(sys, &x, later);    /* drops the control lock */
	else
		os_sx_xunlock(sys->ctl);

	if (vallen != NULL && (error == 0 || error == VPC_ERANGE))
		*vallen = x.vallen;
	return (error);
}

int
vpc_core_ctl(struct vpc_sys *sys, const struct vpc_call *call,
    struct vpc_hdl *h, vpc_op_t op, const void *key, size_t keylen,
    void *val, size_t *vallen)
{
	struct vpc_ctl_later later;
	int error;

	error = vpc_core_ctl_start(sys, call, h, op, key, keylen, val, vallen,
	    &later);
	vpc_core_ctl_finish(sys, &later);
	return (error);
}

int
vpc_core_open(struct vpc_sys *sys, const struct vpc_call *call,
    const vpc_id_t *id, vpc_type_t word, vpc_flags_t flags,
    struct vpc_hdl **out)
{
	unsigned type = VPC_TYPE_WORD_OBJTYPE(word);
	struct vpc_obj *o;
	struct vpc_hdl *h;
	int error = 0;
	bool created = false;

	if (flags != VPC_FLAG_DEFAULT && flags != VPC_FLAG_CREATE &&
	    flags != VPC_FLAG_OPEN)
		return (VPC_ERR(VPC_EINVAL));
	if ((word & VPC_TYPE_WORD_PADMASK) != 0 ||
	    VPC_TYPE_WORD_VERSION(word) != VPC_ABI_VERSION ||
	    type == VPC_TYPE_UNSET || type > VPC_TYPE_MAX)
		return (VPC_ERR(VPC_EINVAL));
	if (vpc_objops_of(type) == NULL)
		return (VPC_ERR(VPC_EOPNOTSUPP));        /* a type with no objects */
	if (vpc_id_is_nil(id))
		return (VPC_ERR(VPC_EINVAL));
	if (type == VPC_TYPE_SWPORT && flags == VPC_FLAG_CREATE)
		return (VPC_ERR(VPC_EOPNOTSUPP));        /* ports come from SW_ADD_PORT */

	os_sx_xlock(sys->ctl);
	o = vpc_reg_lookup(sys, id);
	if (o != NULL && flags == VPC_FLAG_CREATE)
		error = VPC_ERR(VPC_EEXIST);
	else if (o != NULL && o->type != type)
		error = VPC_ERR(VPC_ENOENT);     /* no object of *that* type */
	else if (o == NULL && (flags == VPC_FLAG_OPEN || type == VPC_TYPE_SWPORT))
		error = VPC_ERR(VPC_ENOENT);
	else if (o == NULL && !call->priv)
		error = VPC_ERR(VPC_EPERM);
	else if (o == NULL) {
		error = vpc_obj_new(sys, type, id, &o);
		created = error == 0;
	}
	if (error == 0) {
		h = vpc_hdl_new(o, call->priv);
		if (h == NULL) {
			error = VPC_ERR(VPC_ENOMEM);
			if (created)
				vpc_obj_kill(o);
		} else
			*out = h;
	}
	os_sx_xunlock(sys->ctl);
	return (error);
}

void
vpc_core_close(struct vpc_sys *sys, struct vpc_hdl *h)
{
	os_sx_xlock(sys->ctl);
	vpc_hdl_free(h);
	os_sx_xunlock(sys->ctl);
}
