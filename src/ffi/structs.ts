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
    mem_bytes: 'uint64_t', mem_allocs: 'uint64_t', reserved: koffi.array('uint64_t', 4, 'Array'),
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
  vpc_sys_stats_t: { objects: number; handles: number; by_type: number[]; mem_bytes: number; mem_allocs: number };
  vpc_txn_t: number;
  vpc_type_t: number;
}
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

function normalize(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!k.startsWith('_pad')) out[k] = normalize(x);
    return out;
  }
  return v;
}

/** Decode the struct at offset (64-bit values as numbers, padding dropped). */
export function decode<K extends StructName>(name: K, buf: Uint8Array, offset = 0): StructValues[K] {
  return normalize(koffi.decode(buf, offset, types[name])) as StructValues[K];
}
