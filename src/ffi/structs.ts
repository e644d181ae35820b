// SPDX-License-Identifier: BSD-2-Clause
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
import { LITTLE_ENDIAN as LITTLE, zeroedBuffer } from './bytes.ts';
import { abiTypes, bigintFields, freebsdTypes, nestedFields, type StructValues } from './structs.generated.ts';

export type { StructValues } from './structs.generated.ts';
export type StructName = keyof StructValues;
export const structNames = Object.keys(abiTypes) as StructName[];

/** What encode() takes: any field may be left out (zero), a bigint field may be a number. */
type EncodeValue<T> = T extends object
  ? { [K in keyof T]?: T[K] extends bigint ? bigint | number : T[K] }
  : T extends bigint ? bigint | number : T;

const PADDING = /^_pad\d+$/;

const sizes = new Map<StructName, number>();

export function sizeOf(name: StructName): number {
  let n = sizes.get(name);
  if (n === undefined) sizes.set(name, n = koffi.sizeof(abiTypes[name]));
  return n;
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

/* ---- Fast paths ------------------------------------------------------------
 *
 * koffi.encode/decode through zeroFill/normalize take 5-20 µs a struct
 * (introspection, generic walks, bigint conversions): more than the kernel
 * call they wrap.  So each struct also gets an encoder and a decoder of its
 * own, straight-line code generated once (on first use) from the very
 * layout koffi holds, moving bytes at fixed offsets (no DataView: taking
 * .buffer of a small Buffer makes V8 move it off the heap).  They take only
 * what is certainly encoded the same way (every field absent, or an integer
 * in range; an array of exactly its length of those; a bigint in range for
 * a 64-bit field); anything else (a short array, a string, a value koffi
 * would wrap or refuse, a struct with a nested struct or a float) goes the
 * generic way, so every result and every error stays koffi's.
 * test/structs.test.ts holds the two to each other.
 */


interface IntKind { size: 1 | 2 | 4 | 8; signed: boolean; min: number; max: number }
const INT_KINDS: Record<string, IntKind> = {
  Int8: { size: 1, signed: true, min: -0x80, max: 0x7f },
  UInt8: { size: 1, signed: false, min: 0, max: 0xff },
  Int16: { size: 2, signed: true, min: -0x8000, max: 0x7fff },
  UInt16: { size: 2, signed: false, min: 0, max: 0xffff },
  Int32: { size: 4, signed: true, min: -0x80000000, max: 0x7fffffff },
  UInt32: { size: 4, signed: false, min: 0, max: 0xffffffff },
  Int64: { size: 8, signed: true, min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  UInt64: { size: 8, signed: false, min: 0, max: Number.MAX_SAFE_INTEGER },
};

type Encoder = (v: unknown, u8: Uint8Array) => boolean;
type Decoder = (u8: Uint8Array, o: number) => unknown;
interface Fast { size: number; enc: Encoder; dec: Decoder }

/** A field as the fast paths see it: an integer, or an array of integers. */
interface FastField { name: string; offset: number; kind: IntKind; count: number; array: boolean }

function intKind(t: koffi.IKoffiCType | string): IntKind | undefined {
  return INT_KINDS[koffi.introspect(t).primitive];
}

/** The fields of a struct (or the one integer of an integer type), or undefined when it has anything else. */
function fastFields(t: koffi.IKoffiCType | string): FastField[] | undefined {
  const info = koffi.introspect(t);
  if (info.members === undefined) {
    const kind = intKind(t);
    return kind ? [{ name: '', offset: 0, count: 1, array: false, kind }] : undefined;
  }
  if (info.primitive !== 'Record') return undefined;
  const out: FastField[] = [];
  for (const m of Object.values(info.members)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(m.name)) return undefined;
    const mi = koffi.introspect(m.type);
    const array = mi.primitive === 'Array';
    const kind = intKind(array ? mi.ref! : m.type);
    if (!kind || (array && mi.length === undefined)) return undefined;
    out.push({ name: m.name, offset: m.offset, count: array ? mi.length! : 1, array, kind });
  }
  return out;
}

/* Byte k (0 = least significant) of an n-byte integer at `at`, in this CPU's order. */
const byteAt = (at: string, k: number, n: number) => `u8[${at} + ${LITTLE ? k : n - 1 - k}]`;

/** Statements storing the 32-bit pattern of `x` in n (<= 4) bytes. */
function storeBytes(x: string, at: string, n: number): string {
  return Array.from({ length: n }, (_, k) => `${byteAt(at, k, n)} = (${x} >>> ${8 * k}) & 0xff;`).join(' ');
}

/** Statements writing x (a field or an element) at byte offset `at`, or returning false. */
function encodeOne(k: IntKind, x: string, at: string): string {
  const isInt = `typeof ${x} === 'number' && ${x} >= ${k.min} && ${x} <= ${k.max} && ${x} % 1 === 0`;
  if (k.size < 8) return `if (!(${isInt})) return false; ${storeBytes(x, at, k.size)}`;
  const bmin = k.signed ? '-0x8000000000000000n' : '0n';
  const bmax = k.signed ? '0x7fffffffffffffffn' : '0xffffffffffffffffn';
  const lo = (at2: string) => (LITTLE ? at2 : `${at2} + 4`);
  const hi = (at2: string) => (LITTLE ? `${at2} + 4` : at2);
  // A non-negative number splits exactly; anything else goes through a bigint.
  return `if (${isInt} && ${x} >= 0) { const l = ${x} % 4294967296, h = (${x} - l) / 4294967296; ` +
    `${storeBytes('l', lo(at), 4)} ${storeBytes('h', hi(at), 4)} } ` +
    `else if ((${isInt}) || (typeof ${x} === 'bigint' && ${x} >= ${bmin} && ${x} <= ${bmax})) { ` +
    `const b = BigInt.asUintN(64, BigInt(${x})); const l = Number(b & 0xffffffffn), h = Number(b >> 32n); ` +
    `${storeBytes('l', lo(at), 4)} ${storeBytes('h', hi(at), 4)} } else return false;`;
}

/** An expression: the n-byte integer at `at`, unsigned (n <= 4). */
function loadUnsigned(at: string, n: number): string {
  if (n === 1) return `u8[${at}]`;
  const parts = Array.from({ length: n }, (_, k) => (k === 3 ? `${byteAt(at, k, n)} * 0x1000000` : k === 0 ? byteAt(at, k, n) : `(${byteAt(at, k, n)} << ${8 * k})`));
  return `(${parts.join(' + ')})`;
}

/** An expression reading the integer at `at`: 64-bit ones as a number, rounded as Number(bigint) rounds. */
function decodeOne(k: IntKind, at: string): string {
  if (k.size < 8) {
    const u = loadUnsigned(at, k.size);
    return k.signed ? `((${u} << ${32 - 8 * k.size}) >> ${32 - 8 * k.size})` : u;
  }
  const lo = loadUnsigned(LITTLE ? at : `${at} + 4`, 4);
  const hi = loadUnsigned(LITTLE ? `${at} + 4` : at, 4);
  // hi * 2^32 is exact and the sum is rounded once: the nearest double, as Number(bigint) gives.
  return `(${k.signed ? `(${hi} | 0)` : hi} * 4294967296 + ${lo})`;
}

/** An expression reading the 64-bit integer at `at` as a bigint. */
function decodeBig(k: IntKind, at: string): string {
  const lo = loadUnsigned(LITTLE ? at : `${at} + 4`, 4);
  const hi = loadUnsigned(LITTLE ? `${at} + 4` : at, 4);
  const u = `(BigInt(${hi}) << 32n | BigInt(${lo}))`;
  return k.signed ? `BigInt.asIntN(64, ${u})` : u;
}

const fastCache = new Map<string, Fast | null>();

function fastOf(name: StructName): Fast | undefined {
  let f = fastCache.get(name);
  if (f === undefined) {
    f = buildFast(name) ?? null;
    fastCache.set(name, f);
  }
  return f ?? undefined;
}

function buildFast(name: StructName): Fast | undefined {
  const t = abiTypes[name];
  const fields = fastFields(t);
  if (fields === undefined) return undefined;
  const size = koffi.sizeof(t);
  const scalar = typeof t === 'string';
  const bigints = new Set<string>(bigintFields[name] ?? []);
  const enc: string[] = [];
  const dec: string[] = [];
  if (!scalar) enc.push("if (v === null || typeof v !== 'object') return false;", 'let x;');
  for (const f of fields) {
    // An integer type: undefined is koffi's to refuse; a struct's field left out is zero.
    enc.push(scalar ? '{ const x = v;' : `x = v.${f.name}; if (x !== undefined) {`);
    if (f.array) {
      enc.push(`if (!Array.isArray(x) || x.length !== ${f.count}) return false;`,
        `for (let i = 0; i < ${f.count}; i++) { const e = x[i]; ${encodeOne(f.kind, 'e', `${f.offset} + i * ${f.kind.size}`)} }`);
    } else {
      enc.push(encodeOne(f.kind, 'x', String(f.offset)));
    }
    enc.push('}');
    if (scalar || PADDING.test(f.name)) continue;
    const big = bigints.has(f.name) && f.kind.size === 8;
    const one = (at: string) => (big ? decodeBig(f.kind, at) : decodeOne(f.kind, at));
    if (!f.array) dec.push(`${f.name}: ${one(`o + ${f.offset}`)}`);
    else if (f.count <= 16) {
      dec.push(`${f.name}: [${Array.from({ length: f.count }, (_, i) => one(`o + ${f.offset + i * f.kind.size}`)).join(', ')}]`);
    } else {
      dec.push(`${f.name}: H.array(${f.count}, (i) => ${one(`o + ${f.offset} + i * ${f.kind.size}`)})`);
    }
  }
  enc.push('return true;');
  const decBody = scalar
    ? `return ${name === 'vpc_exact64_t' ? decodeBig(fields[0]!.kind, 'o') : decodeOne(fields[0]!.kind, 'o')};`
    : `return { ${dec.join(', ')} };`;
  // Generated from the layout alone: field names are checked identifiers, offsets numbers.
  const make = new Function('H', `return [function (v, u8) { ${enc.join('\n')} }, function (u8, o) { ${decBody} }];`) as
    (h: unknown) => [Encoder, Decoder];
  const [encFn, decFn] = make({ array: (n: number, f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i)) });
  return { size, enc: encFn, dec: decFn };
}

/** A new buffer holding the struct; missing fields and padding are zero. */
export function encode<K extends StructName>(name: K, value: EncodeValue<StructValues[K]>): Buffer {
  const f = fastOf(name);
  if (f !== undefined) {
    const buf = zeroedBuffer(f.size);
    if (f.enc(value, buf)) return buf;
  }
  return encodeGeneric(name, value);
}

const transient = new Map<StructName, Buffer>();

/**
 * encode() into a buffer kept per struct, good until the next call for the
 * same struct: for a key handed straight to the kernel and dropped (saves
 * an allocation, and koffi pinning a fresh small buffer, per call).
 */
export function encodeTransient<K extends StructName>(name: K, value: EncodeValue<StructValues[K]>): Buffer {
  const f = fastOf(name);
  if (f !== undefined) {
    let buf = transient.get(name);
    if (buf === undefined) transient.set(name, buf = Buffer.alloc(f.size));
    else buf.fill(0);
    if (f.enc(value, buf)) return buf;
  }
  return encodeGeneric(name, value);
}

function encodeGeneric<K extends StructName>(name: K, value: EncodeValue<StructValues[K]>): Buffer {
  const t = abiTypes[name];
  const buf = zeroedBuffer(koffi.sizeof(t));
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
  const f = fastOf(name);
  if (f !== undefined && Number.isInteger(offset) && offset >= 0 && buf.byteLength - offset >= f.size) {
    return f.dec(buf, offset) as StructValues[K];
  }
  return decodeGeneric(name, buf, offset);
}

function decodeGeneric<K extends StructName>(name: K, buf: Uint8Array, offset = 0): StructValues[K] {
  return normalize(name, koffi.decode(buf, offset, abiTypes[name])) as StructValues[K];
}

/** The generic (koffi) encoder and decoder, for test/structs.test.ts to hold the fast ones to. */
export const genericCodec = { encode: encodeGeneric, decode: decodeGeneric };

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
