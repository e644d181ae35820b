/**
 * The ABI structs of kmod/include/vpc.h as koffi types, laid out by hand
 * with the same explicit padding (koffi has no bitfields and no anonymous
 * unions: the type word is a plain uint64, the seed's `txn_t`/`txn` union is
 * the field `txn`).  test/abi.test.ts compares every size and offset with
 * what the C compiler says (kmod/build/abi_dump).
 *
 * Nothing outside src/ffi sees koffi: callers use encode()/decode() with
 * the plain objects typed below.
 */
import koffi from 'koffi';

const bytes = (n: number) => koffi.array('uint8_t', n, 'Array');

const types = {
  vpc_id_t: koffi.struct('vpc_id_t', { bytes: bytes(16) }),
  vpc_vmnic_t: koffi.struct('vpc_vmnic_t', {
    txn: 'int32_t', mac: bytes(6), _pad0: bytes(2),
  }),
  vpc_switch_t: koffi.struct('vpc_switch_t', {
    txn: 'int32_t', num_ports: 'int32_t', vpcpd: 'int32_t', vni: 'uint32_t',
    has_uplink: 'uint8_t', has_router: 'uint8_t', _pad0: bytes(6),
  }),
  vpc_swport_t: koffi.struct('vpc_swport_t', {
    txn: 'int32_t', smac: bytes(6), _pad0: bytes(2), vni: 'uint32_t',
    vlan_id: 'uint16_t', _pad1: bytes(2), fw_state_table: 'uint32_t',
    fw_egress_ruleset: 'uint32_t', _pad2: bytes(4), flags: 'uint64_t',
    descriptor: 'int32_t', _pad3: bytes(4), port_id: bytes(16),
    peer_id: bytes(16), serial: 'uint64_t',
  }),
  vpc_swport_ref_t: koffi.struct('vpc_swport_ref_t', {
    txn: 'int32_t', _pad0: bytes(4), port_id: bytes(16),
  }),
  vpc_sw_vni_t: koffi.struct('vpc_sw_vni_t', { txn: 'int32_t', vni: 'uint32_t' }),
  vpc_list_req_t: koffi.struct('vpc_list_req_t', {
    obj_type: 'uint8_t', _pad0: bytes(7), marker: 'uint64_t',
  }),
  vpc_obj_info_t: koffi.struct('vpc_obj_info_t', {
    id: bytes(16), parent_id: bytes(16), type: 'uint64_t', generation: 'uint64_t',
    flags: 'uint32_t', handles: 'uint32_t', serial: 'uint64_t',
  }),
  vpc_sys_stats_t: koffi.struct('vpc_sys_stats_t', {
    objects: 'uint64_t', handles: 'uint64_t', by_type: koffi.array('uint64_t', 8, 'Array'),
    mem_bytes: 'uint64_t', mem_allocs: 'uint64_t', conn_refused: 'uint64_t', reserved: koffi.array('uint64_t', 3, 'Array'),
  }),
  vpc_nic_ifname_t: koffi.struct('vpc_nic_ifname_t', { txn: 'int32_t', _pad0: bytes(4), name: bytes(16) }),
  vpc_sw_subnet_t: koffi.struct('vpc_sw_subnet_t', {
    txn: 'int32_t', af: 'uint8_t', prefixlen: 'uint8_t', _pad0: bytes(2), addr: bytes(16),
  }),
  vpc_sw_stats_t: koffi.struct('vpc_sw_stats_t', { c: koffi.array('uint64_t', 32, 'Array') }),
  vpc_sw_cam_t: koffi.struct('vpc_sw_cam_t', {
    srcmac: bytes(6), dstmac: bytes(6), ttl_ms: 'uint32_t', vni: 'uint32_t', kind: 'uint8_t',
    af: 'uint8_t', udp_port: 'uint16_t', addr: bytes(16), port_id: bytes(16), generation: 'uint64_t',
    revision: 'uint64_t', flags: 'uint32_t', _pad0: bytes(4), cursor: 'uint64_t',
  }),
  vpc_cam_key_t: koffi.struct('vpc_cam_key_t', { srcmac: bytes(6), dstmac: bytes(6), _pad0: bytes(4) }),
  vpc_cam_set_result_t: koffi.struct('vpc_cam_set_result_t', { applied: 'uint32_t', stale: 'uint32_t' }),
  vpc_cam_flush_t: koffi.struct('vpc_cam_flush_t', { vni: 'uint32_t', flags: 'uint32_t' }),
  vpc_vcc_t: koffi.struct('vpc_vcc_t', {
    txn: 'int32_t', udp_port: 'uint16_t', flags: 'uint16_t', addr4: bytes(4), mtu: 'uint32_t',
    addr6: bytes(16), l2_ifname: bytes(16),
  }),
  vpc_vcc_stats_t: koffi.struct('vpc_vcc_stats_t', { c: koffi.array('uint64_t', 16, 'Array') }),
  vpc_upcall_req_t: koffi.struct('vpc_upcall_req_t', {
    magic: 'uint32_t', size: 'uint16_t', kind: 'uint16_t', req_id: 'uint64_t', generation: 'uint64_t',
    switch_id: bytes(16), port_id: bytes(16), vni: 'uint32_t', vlan: 'uint16_t', ethertype: 'uint16_t',
    srcmac: bytes(6), dstmac: bytes(6), dst_af: 'uint8_t', _pad0: bytes(3), dst_ip: bytes(16), time_ns: 'uint64_t',
  }),
  vpc_upcall_ans_t: koffi.struct('vpc_upcall_ans_t', {
    req_id: 'uint64_t', generation: 'uint64_t', status: 'uint32_t', ttl_ms: 'uint32_t', af: 'uint8_t',
    _pad0: 'uint8_t', udp_port: 'uint16_t', _pad1: bytes(4), addr: bytes(16), revision: 'uint64_t',
  }),
  vpc_upcall_hello_t: koffi.struct('vpc_upcall_hello_t', {
    magic: 'uint32_t', version: 'uint16_t', req_size: 'uint16_t', error: 'int32_t', _pad0: 'uint32_t',
  }),
  vpc_upcall_stats_t: koffi.struct('vpc_upcall_stats_t', {
    pending: 'uint64_t', undelivered: 'uint64_t', held: 'uint64_t', readers: 'uint64_t',
    delivered: 'uint64_t', requeued: 'uint64_t', reserved: koffi.array('uint64_t', 2, 'Array'),
  }),
  vpc_check_result_t: koffi.struct('vpc_check_result_t', {
    result: 'int32_t', checks: 'uint32_t', why: koffi.array('uint8_t', 120, 'Array'),
  }),
  vpc_agent_event_t: koffi.struct('vpc_agent_event_t', {
    event: 'uint32_t', _pad0: 'uint32_t', detail: koffi.array('uint8_t', 120, 'Array'),
  }),
  vpc_txn_t: 'int32_t',
  vpc_type_t: 'uint64_t',
} as const;

/** Plain-object shapes of the structs (64-bit fields come back as number). */
export interface StructValues {
  vpc_id_t: { bytes: number[] };
  vpc_vmnic_t: { txn: number; mac: number[] };
  vpc_switch_t: { txn: number; num_ports: number; vpcpd: number; vni: number; has_uplink: number; has_router: number };
  vpc_swport_t: {
    txn: number; smac: number[]; vni: number; vlan_id: number; fw_state_table: number;
    fw_egress_ruleset: number; flags: number; descriptor: number; port_id: number[];
    peer_id: number[]; serial: number;
  };
  vpc_swport_ref_t: { txn: number; port_id: number[] };
  vpc_sw_vni_t: { txn: number; vni: number };
  vpc_list_req_t: { obj_type: number; marker: number };
  vpc_obj_info_t: {
    id: number[]; parent_id: number[]; type: number; generation: number; flags: number;
    handles: number; serial: number;
  };
  vpc_sys_stats_t: { objects: number; handles: number; by_type: number[]; mem_bytes: number; mem_allocs: number; conn_refused: number };
  vpc_nic_ifname_t: { txn: number; name: number[] };
  vpc_sw_subnet_t: { txn: number; af: number; prefixlen: number; addr: number[] };
  vpc_sw_stats_t: { c: number[] };
  vpc_sw_cam_t: {
    srcmac: number[]; dstmac: number[]; ttl_ms: number; vni: number; kind: number; af: number;
    udp_port: number; addr: number[]; port_id: number[]; generation: number; revision: number;
    flags: number; cursor: number;
  };
  vpc_cam_key_t: { srcmac: number[]; dstmac: number[] };
  vpc_cam_set_result_t: { applied: number; stale: number };
  vpc_cam_flush_t: { vni: number; flags: number };
  vpc_vcc_t: {
    txn: number; udp_port: number; flags: number; addr4: number[]; mtu: number; addr6: number[];
    l2_ifname: number[];
  };
  vpc_vcc_stats_t: { c: number[] };
  vpc_upcall_req_t: {
    magic: number; size: number; kind: number; req_id: bigint; generation: bigint; switch_id: number[];
    port_id: number[]; vni: number; vlan: number; ethertype: number; srcmac: number[]; dstmac: number[];
    dst_af: number; dst_ip: number[]; time_ns: bigint;
  };
  vpc_upcall_ans_t: {
    req_id: bigint; generation: bigint; status: number; ttl_ms: number; af: number; udp_port: number;
    addr: number[]; revision: bigint;
  };
  vpc_upcall_hello_t: { magic: number; version: number; req_size: number; error: number };
  vpc_upcall_stats_t: {
    pending: number; undelivered: number; held: number; readers: number; delivered: number; requeued: number;
  };
  vpc_check_result_t: { result: number; checks: number; why: number[] };
  vpc_agent_event_t: { event: number; _pad0?: number; detail: number[] };
  vpc_txn_t: number;
  vpc_type_t: number;
}

/** Fields that stay bigint: request ids, generations, revisions, times. */
const BIGINT_FIELDS = new Set(['req_id', 'generation', 'time_ns', 'revision']);
const BIGINT_STRUCTS = new Set<StructName>(['vpc_upcall_req_t', 'vpc_upcall_ans_t']);
export type StructName = keyof StructValues;
export const structNames = Object.keys(types) as StructName[];

/** Fields a caller may leave out: padding and what only the kernel fills. */
type Loose<T> = T extends object ? { [K in keyof T]?: T[K] } : T;

export function sizeOf(name: StructName): number {
  return koffi.sizeof(types[name]);
}

/** Offset of a field; undefined for scalar "structs" (vpc_txn_t, vpc_type_t). */
export function offsetOf(name: StructName, field: string): number | undefined {
  const t = types[name];
  return typeof t === 'string' || koffi.introspect(t).members === undefined
    ? undefined
    : koffi.offsetof(t, field);
}

/** Every field of a struct with its offset, for the ABI test. */
export function fieldsOf(name: StructName): Record<string, number> {
  const t = types[name];
  const members = typeof t === 'string' ? undefined : koffi.introspect(t).members;
  const out: Record<string, number> = {};
  for (const [field, m] of Object.entries(members ?? {})) out[field] = m.offset;
  return out;
}

function zeroFill(t: koffi.IKoffiCType | string, value: unknown): unknown {
  if (typeof t === 'string' || value === null || typeof value !== 'object') return value;
  const info = koffi.introspect(t);
  if (info.members === undefined) return value;
  const out: Record<string, unknown> = {};
  for (const [field, m] of Object.entries(info.members)) {
    const v = (value as Record<string, unknown>)[field];
    const mi = koffi.introspect(m.type);
    if (v !== undefined) out[field] = v;
    else if (mi.primitive === 'Array') out[field] = new Array(mi.length ?? 0).fill(0);
    else if (mi.primitive === 'Record') out[field] = zeroFill(m.type, {});
    else out[field] = 0;
  }
  return out;
}

/** A new buffer holding the struct; missing fields and padding are zero. */
export function encode<K extends StructName>(name: K, value: Loose<StructValues[K]>): Buffer {
  const t = types[name];
  const buf = Buffer.alloc(koffi.sizeof(t));
  koffi.encode(buf, 0, t, zeroFill(t, value));
  return buf;
}

function normalize(v: unknown, keepBig: boolean): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map((x) => normalize(x, false));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('_pad')) continue;
      out[k] = keepBig && BIGINT_FIELDS.has(k) ? BigInt(x as number | bigint) : normalize(x, false);
    }
    return out;
  }
  return v;
}

/**
 * Decode the struct at offset, padding dropped.  64-bit values come back as
 * numbers, but for the upcall records, whose ids, generations and revisions
 * are bigint (they may pass 2^53).
 */
export function decode<K extends StructName>(name: K, buf: Uint8Array, offset = 0): StructValues[K] {
  return normalize(koffi.decode(buf, offset, types[name]), BIGINT_STRUCTS.has(name)) as StructValues[K];
}
