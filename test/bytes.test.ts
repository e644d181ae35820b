// SPDX-License-Identifier: BSD-2-Clause
/**
 * src/ffi/bytes.ts: slices of shared pools that must behave as fresh zeroed
 * arrays of their own, and reach C where they are (koffi honouring the
 * byte offset of a view).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import koffi from 'koffi';
import { zeroedBuffer, zeroedBytes } from '../src/ffi/bytes.ts';

test('bytes: every slice is zero, 8-byte aligned and its own, across pools', () => {
  const seen: Uint8Array[] = [];
  // Enough for several pools, in sizes that do not divide 8 KiB.
  for (let i = 0; i < 600; i++) {
    const n = 1 + ((i * 37) % 88);
    const b = i % 2 === 0 ? zeroedBytes(n) : zeroedBuffer(n);
    assert.equal(b.length, n);
    assert.equal(b.byteOffset % 8, 0);
    assert.ok(b.every((x) => x === 0), `slice ${i} is not zero`);
    b.fill(0xa5);               // must not show through in any other slice
    seen.push(b);
  }
  for (const [i, b] of seen.entries()) assert.ok(b.every((x) => x === 0xa5), `slice ${i} was written by another`);
});

test('bytes: the types and the sizes a pool does not serve', () => {
  assert.ok(!Buffer.isBuffer(zeroedBytes(16)) && zeroedBytes(16) instanceof Uint8Array);
  assert.ok(Buffer.isBuffer(zeroedBuffer(16)));
  assert.equal(zeroedBytes(0).length, 0);
  assert.equal(zeroedBuffer(0).length, 0);
  const big = zeroedBytes(4096);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 4096);
  assert.ok(big.every((x) => x === 0));
});

test('bytes: C sees a slice at its offset in the pool', () => {
  const libc = koffi.load('libc.so.6');
  const memcpy = libc.func('void *memcpy(uint8_t *dst, const uint8_t *src, size_t n)');
  zeroedBytes(24);                               // so that the next ones are not at offset 0
  const src = zeroedBytes(16);
  const dst = zeroedBuffer(16);
  assert.ok(src.byteOffset > 0 && dst.byteOffset > 0);
  src.forEach((_, i) => { src[i] = i + 1; });
  memcpy(dst, src, 16);
  assert.deepEqual([...dst], Array.from({ length: 16 }, (_, i) => i + 1));
});
