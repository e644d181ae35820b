// SPDX-License-Identifier: BSD-2-Clause
/**
 * encode()/decode() take fast paths generated from each struct's layout
 * (src/ffi/structs.ts); koffi's generic encode/decode is the definition.
 * Every struct of vpc.h, random and edge-case values: the same bytes, the
 * same objects (key order included), the same errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import koffi from 'koffi';
import { decode, encode, genericCodec, sizeOf, structNames, type StructName } from '../src/ffi/structs.ts';
import { abiTypes } from '../src/ffi/structs.generated.ts';

let seed = 12345;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed;
}

const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

function randomBytes(n: number, fill?: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = fill ?? rnd() & 0xff;
  return b;
}

const RANGES: Record<string, [bigint, bigint]> = {
  Int8: [-0x80n, 0x7fn], UInt8: [0n, 0xffn], Int16: [-0x8000n, 0x7fffn], UInt16: [0n, 0xffffn],
  Int32: [-0x80000000n, 0x7fffffffn], UInt32: [0n, 0xffffffffn],
  Int64: [-0x8000000000000000n, 0x7fffffffffffffffn], UInt64: [0n, 0xffffffffffffffffn],
};

/** A value for one integer of this primitive: random, or an edge. */
function intValue(prim: string, mode: 'random' | 'min' | 'max' | 'big'): number | bigint {
  const [lo, hi] = RANGES[prim]!;
  const wide = prim.endsWith('64');
  if (mode === 'min') return wide ? (lo < -(2n ** 53n) ? -(2 ** 53) + 1 : 0) : Number(lo);
  if (mode === 'max') return wide ? 2 ** 53 - 1 : Number(hi);
  if (mode === 'big') return wide ? (rnd() & 1 ? hi : lo) : Number(hi);
  const r = BigInt(rnd()) << 32n | BigInt(rnd());
  const v = lo + r % (hi - lo + 1n);
  return wide && (v > 2n ** 53n || v < -(2n ** 53n)) ? v : Number(v);
}

/** A random value object for a struct (or a number for an integer type), every field set. */
function valueOf(name: StructName, mode: 'random' | 'min' | 'max' | 'big'): unknown {
  const t = abiTypes[name];
  const info = koffi.introspect(t);
  if (info.members === undefined) return intValue(info.primitive, mode);
  const out: Record<string, unknown> = {};
  for (const m of Object.values(info.members)) {
    const mi = koffi.introspect(m.type);
    if (mi.primitive === 'Array') {
      const p = koffi.introspect(mi.ref!).primitive;
      out[m.name] = Array.from({ length: mi.length ?? 0 }, () => intValue(p, mode));
    } else {
      out[m.name] = intValue(mi.primitive, mode);
    }
  }
  return out;
}

function same(name: StructName, value: unknown): void {
  let fast: Buffer | Error;
  let slow: Buffer | Error;
  try {
    fast = encode(name, value as never);
  } catch (e) {
    fast = e as Error;
  }
  try {
    slow = genericCodec.encode(name, value as never);
  } catch (e) {
    slow = e as Error;
  }
  if (slow instanceof Error) {
    assert.ok(fast instanceof Error, `${name} ${show(value)}: koffi throws ${slow.message}, the fast path does not`);
    assert.equal(fast.message, slow.message);
  } else {
    assert.ok(fast instanceof Buffer, `${name} ${show(value)}: ${String(fast)}`);
    assert.equal(fast.toString('hex'), slow.toString('hex'), `${name} ${show(value)}`);
  }
}

test('encode: the fast path writes what koffi writes, for every struct', () => {
  for (const name of structNames) {
    for (let i = 0; i < 30; i++) same(name, valueOf(name, 'random'));
    for (const mode of ['min', 'max', 'big'] as const) same(name, valueOf(name, mode));
    same(name, typeof abiTypes[name] === 'string' ? undefined : {});
    // Fields left out, one at a time and all but one.
    const full = valueOf(name, 'random');
    if (full !== null && typeof full === 'object') {
      for (const k of Object.keys(full)) {
        const { [k]: _drop, ...rest } = full as Record<string, unknown>;
        same(name, rest);
        same(name, { [k]: (full as Record<string, unknown>)[k] });
      }
    }
  }
});

test('encode: values the fast path leaves to koffi come out as koffi makes them', () => {
  const odd: unknown[] = [
    -1, 256, 1.5, 2 ** 32, 2 ** 53, -(2 ** 53), 2n ** 64n, -1n, 'x', '7', true, null, NaN, Infinity,
    [1, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17], new Uint8Array(6), [256, 0, 0, 0, 0, 0],
  ];
  for (const name of structNames) {
    const info = koffi.introspect(abiTypes[name]);
    if (info.members === undefined) {
      for (const v of odd) same(name, v);
      continue;
    }
    for (const m of Object.values(info.members)) {
      for (const v of odd) same(name, { ...(valueOf(name, 'random') as object), [m.name]: v });
    }
    for (const v of [null, 5, 'x', []]) same(name, v);
  }
});

test('decode: the fast path reads what koffi reads, for every struct (bigints, rounding, key order)', () => {
  for (const name of structNames) {
    const size = sizeOf(name);
    const bufs = [randomBytes(size), randomBytes(size, 0), randomBytes(size, 0xff), randomBytes(size, 0x80)];
    for (let i = 0; i < 30; i++) bufs.push(randomBytes(size));
    for (const b of bufs) {
      assert.equal(show(decode(name, b)), show(genericCodec.decode(name, b)), name);
      // At an offset, in a plain Uint8Array over a larger buffer.
      const big = new Uint8Array(size + 11);
      big.set(b, 7);
      assert.equal(show(decode(name, big.subarray(2), 5)), show(genericCodec.decode(name, b)), `${name} at an offset`);
    }
    // Too short: koffi's error, not a quiet partial read.
    if (size > 1) {
      assert.throws(() => decode(name, Buffer.alloc(size - 1)), (e: Error) => {
        assert.throws(() => genericCodec.decode(name, Buffer.alloc(size - 1)), { message: e.message });
        return true;
      });
    }
  }
});
