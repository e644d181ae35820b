// SPDX-License-Identifier: BSD-2-Clause
/**
 * One call into the kernel: encode the key, size the value, raise the right
 * VpcError.  Everything in src/vpc goes through here.
 */
import {
  backend, decode, encode, encodeTransient, OPS, sizeOf, VPC_HANDLE_NONE, zeroedBuffer,
  type StructName, type StructValues,
} from '../ffi/index.ts';
import { vpcError } from './errors.ts';

const opNames = new Map(OPS.map((o) => [o.op, o.name]));

export function opName(op: number): string {
  return opNames.get(op) ?? `op ${op}`;
}

export interface Target {
  handle: number;
  id?: string | undefined;
  typeName?: string | undefined;
}

export const SYSTEM: Target = { handle: VPC_HANDLE_NONE };

type KeyArg<K extends StructName> = { struct: K; value: Partial<StructValues[K]> } | Uint8Array | null;

/* A key built here goes to the kernel and is dropped: no buffer of its own. */
function keyBuffer<K extends StructName>(key: KeyArg<K>): Uint8Array | null {
  if (key === null || key instanceof Uint8Array) return key;
  return encodeTransient(key.struct, key.value as never);
}

/** The op on val (may be null); the bytes written, or a VpcError. */
function run<K extends StructName>(t: Target, op: number, key: KeyArg<K>, val: Buffer | null): number {
  const r = backend().ctl(t.handle, op, keyBuffer(key), val);
  if (r.errno !== 0) {
    throw vpcError(r.errno, { op: opName(op), objectId: t.id, objectType: t.typeName, needed: r.vallen });
  }
  return r.vallen;
}

/** Run an op; the value buffer is valSize bytes; returns the bytes written. */
export function ctlRaw<K extends StructName>(t: Target, op: number, key: KeyArg<K>, valSize: number): Buffer {
  const val = valSize > 0 ? zeroedBuffer(valSize) : null;
  const n = run(t, op, key, val);
  if (val === null) return Buffer.alloc(0);
  return n === val.length ? val : val.subarray(0, n);
}

/*
 * The value of ctlGet is decoded (copied out) before anything else runs: one
 * buffer per size serves every call, as the transient keys do.
 */
const SCRATCH_MAX = 4096;
const scratch = new Map<number, Buffer>();

/** Run an op whose value is one struct, and decode it. */
export function ctlGet<V extends StructName, K extends StructName = StructName>(
  t: Target, op: number, valStruct: V, key: KeyArg<K> = null,
): StructValues[V] {
  const size = sizeOf(valStruct);
  let val = size <= SCRATCH_MAX ? scratch.get(size) : undefined;
  if (val === undefined) {
    val = Buffer.alloc(size);
    if (size <= SCRATCH_MAX) scratch.set(size, val);
  }
  const n = run(t, op, key, val);
  return decode(valStruct, n === size ? val : val.subarray(0, n));
}

/** Run an op that returns nothing. */
export function ctlSet<K extends StructName>(t: Target, op: number, key: KeyArg<K>): void {
  ctlRaw(t, op, key, 0);
}

/**
 * A listing op with a resume marker: pages of up to `page` entries until an
 * empty page.  markerOf says what to resume after.
 */
export function ctlList<V extends StructName>(
  t: Target, op: number, valStruct: V, keyFor: (marker: number) => Uint8Array,
  markerOf: (v: StructValues[V]) => number, page = 256,
): StructValues[V][] {
  const out: StructValues[V][] = [];
  const size = sizeOf(valStruct);
  let marker = 0;
  for (;;) {
    const buf = ctlRaw(t, op, keyFor(marker), size * page);
    if (buf.length === 0) return out;
    for (let off = 0; off + size <= buf.length; off += size) out.push(decode(valStruct, buf, off));
    marker = markerOf(out[out.length - 1] as StructValues[V]);
  }
}

export function closeHandle(handle: number): number {
  return backend().close(handle);
}

/** The key of COMMIT and DESTROY: a bare token. */
export function txnKey(txn = 0): Uint8Array {
  return encode('vpc_txn_t', txn);
}
