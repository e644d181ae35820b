// SPDX-License-Identifier: BSD-2-Clause
/**
 * Small zeroed byte arrays for koffi, carved out of shared 8 KiB
 * ArrayBuffers, as Node carves Buffer.allocUnsafe() out of its pool.
 *
 * Why: a typed array with a backing store of its own costs about a
 * microsecond more to pass to koffi than one over memory koffi has seen
 * before (a Buffer.alloc(88) key, or the new Uint8Array(16) of an id:
 * V8 keeps those on its heap until something asks for their memory, and
 * koffi asking moves them out), three times that on one CPU shared with
 * vpc-hostd, where every call finds the caches cold.  A slice of a pool
 * only costs the view.  The pool's memory is zero when made and each
 * slice is handed out once, so a slice is zeroed without a fill.
 *
 * What it changes for a caller: `.buffer` is the shared pool (use
 * byteOffset/byteLength, as with any Buffer), and a slice kept alive keeps
 * its 8 KiB alive.
 */
/** This CPU stores numbers little-endian (koffi passes memory as it is). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const POOL_BYTES = 8192;
/** Larger requests get memory of their own: a pool would waste too much of itself. */
const SLICE_MAX = 1024;

let pool = new ArrayBuffer(POOL_BYTES);
let used = 0;

function take(n: number): number {
  // 8-byte aligned, as malloc would give: a struct's 64-bit fields stay aligned.
  const size = (n + 7) & ~7;
  if (used + size > POOL_BYTES) {
    pool = new ArrayBuffer(POOL_BYTES);
    used = 0;
  }
  const at = used;
  used += size;
  return at;
}

/** n zero bytes, a Uint8Array (not a Buffer). */
export function zeroedBytes(n: number): Uint8Array {
  if (n > SLICE_MAX || n <= 0) return new Uint8Array(n);
  const at = take(n);   // first: it may start a new pool
  return new Uint8Array(pool, at, n);
}

/** n zero bytes, a Buffer. */
export function zeroedBuffer(n: number): Buffer {
  if (n > SLICE_MAX || n <= 0) return Buffer.alloc(n);
  const at = take(n);
  return Buffer.from(pool, at, n);
}
