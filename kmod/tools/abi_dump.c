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
	    F(vpc_sys_stats_t, mem_allocs) E();
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
	C(VPC_OBJ_PLUGGED);
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
