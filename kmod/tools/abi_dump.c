/*
 * abi_dump: prints the ABI as JSON: the size and field offsets of every
 * struct in vpc.h, its constants, and the core's op table.  The TypeScript
 * bindings are checked against this (test/abi.test.ts) and their op table is
 * generated from it (npm run gen:abi).
 */
#include <stddef.h>
#include <stdio.h>

#include "vpc.h"
#include "vpc_core.h"

static int first;

static void
struct_begin(const char *name, size_t size)
{
	printf("%s\n    \"%s\": { \"size\": %zu, \"fields\": {", first ? "" : ",",
	    name, size);
	first = 0;
}

#define S(t)      do { int f_ = 1; struct_begin(#t, sizeof(t));
#define F(t, f)   printf("%s \"%s\": %zu", f_ ? "" : ",", #f, offsetof(t, f)); f_ = 0;
#define E()       printf(" } }"); } while (0)

static void
structs(void)
{
	first = 1;
	printf("  \"structs\": {");
	S(vpc_id_t) F(vpc_id_t, bytes) E();
	S(vpc_vmnic_t) F(vpc_vmnic_t, txn) F(vpc_vmnic_t, mac) E();
	S(vpc_switch_t) F(vpc_switch_t, txn) F(vpc_switch_t, num_ports)
	    F(vpc_switch_t, vpcpd) F(vpc_switch_t, vni)
	    F(vpc_switch_t, has_uplink) F(vpc_switch_t, has_router) E();
	S(vpc_swport_t) F(vpc_swport_t, txn) F(vpc_swport_t, smac)
	    F(vpc_swport_t, vni) F(vpc_swport_t, vlan_id)
	    F(vpc_swport_t, fw_state_table) F(vpc_swport_t, fw_egress_ruleset)
	    F(vpc_swport_t, flags) F(vpc_swport_t, descriptor)
	    F(vpc_swport_t, port_id) F(vpc_swport_t, peer_id)
	    F(vpc_swport_t, serial) E();
	S(vpc_swport_ref_t) F(vpc_swport_ref_t, txn) F(vpc_swport_ref_t, port_id) E();
	S(vpc_sw_vni_t) F(vpc_sw_vni_t, txn) F(vpc_sw_vni_t, vni) E();
	S(vpc_list_req_t) F(vpc_list_req_t, obj_type) F(vpc_list_req_t, marker) E();
	S(vpc_obj_info_t) F(vpc_obj_info_t, id) F(vpc_obj_info_t, parent_id)
	    F(vpc_obj_info_t, type) F(vpc_obj_info_t, generation)
	    F(vpc_obj_info_t, flags) F(vpc_obj_info_t, handles)
	    F(vpc_obj_info_t, serial) E();
	S(vpc_sys_stats_t) F(vpc_sys_stats_t, objects) F(vpc_sys_stats_t, handles)
	    F(vpc_sys_stats_t, by_type) F(vpc_sys_stats_t, mem_bytes)
	    F(vpc_sys_stats_t, mem_allocs) F(vpc_sys_stats_t, conn_refused) E();
	S(vpc_nic_ifname_t) F(vpc_nic_ifname_t, txn) F(vpc_nic_ifname_t, name) E();
	S(vpc_sw_subnet_t) F(vpc_sw_subnet_t, txn) F(vpc_sw_subnet_t, af)
	    F(vpc_sw_subnet_t, prefixlen) F(vpc_sw_subnet_t, addr) E();
	S(vpc_sw_stats_t) F(vpc_sw_stats_t, c) E();
	S(vpc_sw_cam_t) F(vpc_sw_cam_t, srcmac) F(vpc_sw_cam_t, dstmac)
	    F(vpc_sw_cam_t, ttl_ms) F(vpc_sw_cam_t, vni) F(vpc_sw_cam_t, kind)
	    F(vpc_sw_cam_t, af) F(vpc_sw_cam_t, udp_port) F(vpc_sw_cam_t, addr)
	    F(vpc_sw_cam_t, port_id) F(vpc_sw_cam_t, generation)
	    F(vpc_sw_cam_t, revision) F(vpc_sw_cam_t, flags) F(vpc_sw_cam_t, cursor) E();
	S(vpc_cam_key_t) F(vpc_cam_key_t, srcmac) F(vpc_cam_key_t, dstmac) E();
	S(vpc_cam_set_result_t) F(vpc_cam_set_result_t, applied)
	    F(vpc_cam_set_result_t, stale) E();
	S(vpc_cam_flush_t) F(vpc_cam_flush_t, vni) F(vpc_cam_flush_t, flags) E();
	S(vpc_vcc_t) F(vpc_vcc_t, txn) F(vpc_vcc_t, udp_port) F(vpc_vcc_t, flags)
	    F(vpc_vcc_t, addr4) F(vpc_vcc_t, mtu) F(vpc_vcc_t, addr6)
	    F(vpc_vcc_t, l2_ifname) E();
	S(vpc_vcc_stats_t) F(vpc_vcc_stats_t, c) E();
	S(vpc_upcall_req_t) F(vpc_upcall_req_t, magic) F(vpc_upcall_req_t, size)
	    F(vpc_upcall_req_t, kind) F(vpc_upcall_req_t, req_id)
	    F(vpc_upcall_req_t, generation) F(vpc_upcall_req_t, switch_id)
	    F(vpc_upcall_req_t, port_id) F(vpc_upcall_req_t, vni)
	    F(vpc_upcall_req_t, vlan) F(vpc_upcall_req_t, ethertype)
	    F(vpc_upcall_req_t, srcmac) F(vpc_upcall_req_t, dstmac)
	    F(vpc_upcall_req_t, dst_af) F(vpc_upcall_req_t, dst_ip)
	    F(vpc_upcall_req_t, time_ns) E();
	S(vpc_upcall_ans_t) F(vpc_upcall_ans_t, req_id)
	    F(vpc_upcall_ans_t, generation) F(vpc_upcall_ans_t, status)
	    F(vpc_upcall_ans_t, ttl_ms) F(vpc_upcall_ans_t, af)
	    F(vpc_upcall_ans_t, udp_port) F(vpc_upcall_ans_t, addr)
	    F(vpc_upcall_ans_t, revision) E();
	S(vpc_upcall_hello_t) F(vpc_upcall_hello_t, magic)
	    F(vpc_upcall_hello_t, version) F(vpc_upcall_hello_t, req_size)
	    F(vpc_upcall_hello_t, error) E();
	S(vpc_check_result_t) F(vpc_check_result_t, result)
	    F(vpc_check_result_t, checks) F(vpc_check_result_t, why) E();
	S(vpc_upcall_stats_t) F(vpc_upcall_stats_t, pending)
	    F(vpc_upcall_stats_t, undelivered) F(vpc_upcall_stats_t, held)
	    F(vpc_upcall_stats_t, readers) F(vpc_upcall_stats_t, delivered)
	    F(vpc_upcall_stats_t, requeued) E();
	S(vpc_agent_event_t) F(vpc_agent_event_t, event)
	    F(vpc_agent_event_t, _pad0) F(vpc_agent_event_t, detail) E();
	printf("\n  },\n");
}

static void
ops(void)
{
	struct vpc_opinfo oi;
	size_t i, n = vpc_op_count();

	printf("  \"ops\": [");
	for (i = 0; i < n; i++) {
		vpc_op_info(i, &oi);
		printf("%s\n    { \"op\": %u, \"name\": \"%s\", \"types\": %u, "
		    "\"keysz\": %u, \"valsz\": %u, \"keyArray\": %s, "
		    "\"valArray\": %s, \"mutating\": %s, \"privileged\": %s, "
		    "\"handleOff\": %d }", i ? "," : "", oi.op, oi.name,
		    oi.types, oi.keysz, oi.valsz, oi.key_array ? "true" : "false",
		    oi.val_array ? "true" : "false",
		    oi.mutating ? "true" : "false",
		    oi.privileged ? "true" : "false", oi.handle_off);
	}
	printf("\n  ],\n");
}

#define C(name) printf("%s\n    \"%s\": %llu", i++ ? "," : "", #name, \
	(unsigned long long)(name))

static void
constants(void)
{
	int i = 0;

	printf("  \"constants\": {");
	C(VPC_ABI_VERSION); C(VPC_TYPE_NIC); C(VPC_TYPE_SWITCH);
	C(VPC_TYPE_SWPORT); C(VPC_TYPE_ROUTER); C(VPC_TYPE_NAT);
	C(VPC_TYPE_LINK); C(VPC_TYPE_VCC); C(VPC_FLAG_DEFAULT);
	C(VPC_FLAG_CREATE); C(VPC_FLAG_OPEN); C(VPC_CTL_MAX_KEYLEN);
	C(VPC_CTL_MAX_VALLEN); C(VPC_VNI_MAX); C(VPC_VNI_NONE);
	C(VPC_VLAN_MIN); C(VPC_VLAN_MAX); C(VPC_SW_MAX_PORTS);
	C(VPC_FLAG_SWP_DEFAULT); C(VPC_FLAG_SWP_UPLINK); C(VPC_FLAG_SWP_ROUTER);
	C(VPC_FLAG_SWP_VMNIC); C(VPC_FLAG_SWP_VLAN_ID); C(VPC_FLAG_SWP_VNI);
	C(VPC_FLAG_SWP_FW_EGRESS); C(VPC_FLAG_SWP_FW_INGRESS);
	C(VPC_FLAG_SWP_DESCRIPTOR); C(VPC_OBJ_COMMITTED); C(VPC_OBJ_OWNED);
	C(VPC_OBJ_PLUGGED); C(VPC_VNI_ANY); C(VPC_AF_INET); C(VPC_AF_INET6);
	C(VPC_CAM_LOCAL); C(VPC_CAM_REMOTE); C(VPC_CAM_NEGATIVE); C(VPC_CAM_F_USED);
	C(VPC_CAM_BATCH_MAX); C(VPC_CAM_TTL_MAX_MS); C(VPC_CAM_NEG_TTL_MS);
	C(VPC_VXLAN_PORT); C(VPC_VCC_INET); C(VPC_VCC_INET6);
	C(VPC_UPCALL_MAGIC); C(VPC_UPCALL_L2MISS); C(VPC_UPCALL_FOUND);
	C(VPC_UPCALL_NOT_FOUND); C(VPC_UPCALL_BATCH_MAX); C(VPC_UPCALL_TIMEOUT_MS);
	C(VPC_UPCALL_ORPHAN_MS);
	C(VPC_AGENT_EV_DEGRADED); C(VPC_AGENT_EV_RECOVERED);
	C(VPC_AGENT_DETAIL_MAX);
	C(VPC_HOLD_PER_MISS); C(VPC_HOLD_MAX); C(VPC_PENDING_MAX);
	C(VPC_SWSTAT_RX_FRAMES); C(VPC_SWSTAT_TX_LOCAL); C(VPC_SWSTAT_TX_REMOTE);
	C(VPC_SWSTAT_RX_REMOTE); C(VPC_SWSTAT_FLOODED); C(VPC_SWSTAT_DROP_RUNT);
	C(VPC_SWSTAT_DROP_TAGGED); C(VPC_SWSTAT_DROP_SPOOF);
	C(VPC_SWSTAT_DROP_NO_ROUTER); C(VPC_SWSTAT_DROP_NO_UPLINK);
	C(VPC_SWSTAT_DROP_NEGATIVE); C(VPC_SWSTAT_DROP_UNKNOWN);
	C(VPC_SWSTAT_DROP_TX); C(VPC_SWSTAT_MISSES); C(VPC_SWSTAT_UPCALLS);
	C(VPC_SWSTAT_DUPS); C(VPC_SWSTAT_HELD); C(VPC_SWSTAT_HOLD_DROPS);
	C(VPC_SWSTAT_LOST); C(VPC_SWSTAT_ANSWERS); C(VPC_SWSTAT_NEGATIVE);
	C(VPC_SWSTAT_TIMEOUTS); C(VPC_SWSTAT_STALE); C(VPC_SWSTAT_RELEASED);
	C(VPC_SWSTAT_HELD_DROPPED); C(VPC_SWSTAT_DROP_HAIRPIN); C(VPC_SWSTAT_DROP_REMISS);
	C(VPC_SWSTAT_COUNT);
	C(VPC_VCCSTAT_RX); C(VPC_VCCSTAT_TX); C(VPC_VCCSTAT_RX_BAD);
	C(VPC_VCCSTAT_RX_NO_VNI); C(VPC_VCCSTAT_TX_ERR); C(VPC_VCCSTAT_L2_RX);
	C(VPC_VCCSTAT_L2_TX); C(VPC_VCCSTAT_L2_NO_SW); C(VPC_VCCSTAT_RX_SOCK_DROPS);
	C(VPC_VCCSTAT_COUNT);
	printf("\n  }\n");
}

int
main(void)
{
	printf("{\n");
	structs();
	ops();
	constants();
	printf("}\n");
	return (0);
}
