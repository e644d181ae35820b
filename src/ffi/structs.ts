/**
 * Encoding and decoding the ABI's structs.  Their koffi layouts and value
 * types are generated from vpc.h (structs.generated.ts, by scripts/gen-abi.ts);
 * this file only moves bytes.  koffi has no bitfields and no anonymous
 * unions: the type word is a plain uint64, the seed's `txn_t`/`txn` union is
 * the field `txn`.
 *
 * Nothing outside src/ffi sees koffi: callers use encode()/decode() with
 * the plain objects of StructValues.
 */
import koffi from 'koffi';
import { abiTypes, bigintFields, freebsdTypes, nestedFields, type StructValues } from './structs.generated.ts';

export type { StructValues } from './structs.generated.ts';
export type StructName = keyof StructValues;
export const structNames = Object.keys(abiTypes) as StructName[];

/** What encode() takes: any field may be left out (zero), a bigint field may be a number. */
type EncodeValue<T> = T extends object
  ? { [K in keyof T]?: T[K] extends bigint ? bigint | number : T[K] }
  : T extends bigint ? bigint | number : T;

const PADDING = /^_pad\d+$/;

export function sizeOf(name: StructName): number {
  return koffi.sizeof(abiTypes[name]);
}

/** Offset of a field; undefined for the integer types (vpc_txn_t, ...). */
export function offsetOf(name: StructName, field: string): number | undefined {
  const t = abiTypes[name];
  return typeof t === 'string' ? undefined : koffi.offsetof(t, field);
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
export function encode<K extends StructName>(name: K, value: EncodeValue<StructValues[K]>): Buffer {
  const t = abiTypes[name];
  const buf = Buffer.alloc(koffi.sizeof(t));
  koffi.encode(buf, 0, t, zeroFill(t, value));
  return buf;
}

/** koffi gives a 64-bit integer as a number when it is exact, else a bigint: make it one or the other. */
function toNumbers(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toNumbers);
  return v;
}

function normalize(name: StructName, v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return name === 'vpc_exact64_t' ? BigInt(v as number | bigint) : toNumbers(v);
  }
  const bigints = bigintFields[name] ?? [];
  const nested = nestedFields[name] ?? {};
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (PADDING.test(k)) continue;
    const inner = nested[k];
    if (inner !== undefined) out[k] = normalize(inner, x);
    else if (bigints.includes(k)) out[k] = Array.isArray(x) ? x.map((e) => BigInt(e as number)) : BigInt(x as number | bigint);
    else out[k] = toNumbers(x);
  }
  return out;
}

/**
 * Decode the struct at offset, padding dropped.  64-bit values come back as
 * numbers, but those vpc.h declares vpc_exact64_t (upcall request ids,
 * generations, revisions and times), which are bigint.
 */
export function decode<K extends StructName>(name: K, buf: Uint8Array, offset = 0): StructValues[K] {
  return normalize(name, koffi.decode(buf, offset, abiTypes[name])) as StructValues[K];
}

/** A layout as koffi holds it, in abi_dump's terms (kmod/tools/abi_dump.c), for the ABI test. */
export interface KoffiLayout {
  size: number;
  union: boolean;
  /** The integer type, for vpc_txn_t and the like. */
  type?: string;
  fields: Array<{ name: string; shape: 'scalar' | 'array' | 'nested'; offset: number; size: number; type: string; count: number }>;
}

const intType = (primitive: string): string => primitive.toLowerCase();

function layoutOf(t: koffi.IKoffiCType | string): KoffiLayout {
  const info = koffi.introspect(t);
  if (info.members === undefined) return { size: info.size, union: false, type: intType(info.primitive), fields: [] };
  return {
    size: info.size,
    union: info.primitive === 'Union',
    fields: Object.values(info.members).map((m) => {
      const mi = koffi.introspect(m.type);
      const at = { name: m.name, offset: m.offset, size: mi.size };
      if (mi.primitive === 'Array') {
        return { ...at, shape: 'array', type: intType(koffi.introspect(mi.ref!).primitive), count: mi.length ?? 0 };
      }
      if (mi.primitive === 'Record' || mi.primitive === 'Union') return { ...at, shape: 'nested', type: mi.name, count: 1 };
      return { ...at, shape: 'scalar', type: intType(mi.primitive), count: 1 };
    }),
  };
}

/** Every koffi type of the ABI (vpc.h) and of the FreeBSD copies, by name. */
export function koffiLayouts(): { abi: Record<string, KoffiLayout>; freebsd: Record<string, KoffiLayout> } {
  const all = (types: Record<string, koffi.IKoffiCType | string>) =>
    Object.fromEntries(Object.entries(types).map(([n, t]) => [n, layoutOf(t)]));
  return { abi: all(abiTypes), freebsd: all(freebsdTypes) };
}
