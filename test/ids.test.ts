// SPDX-License-Identifier: BSD-2-Clause
/**
 * src/vpc/ids.ts parses and prints UUIDs itself, in one pass; the uuid
 * package is the definition of what is valid and what comes out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, stringify, validate, v1, v4, v7 } from 'uuid';
import { idBytes, idFromBytes, isId, NIL_ID } from '../src/vpc/ids.ts';

let seed = 99;
function rnd(n: number): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed % n;
}

function candidates(): string[] {
  const out = [NIL_ID, 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    '00000000000000000000000000000000', '', 'x', v1(), v7(), ' ' + v4(), v4() + ' ', v4().toUpperCase(), `${v4().slice(0, 35)}\u0661`];
  const alphabet = '0123456789abcdefABCDEFgG-\u00e9\u0660 ';
  for (let i = 0; i < 3000; i++) {
    const base = [...v4()];
    const n = rnd(3);
    for (let k = 0; k < n; k++) base[rnd(36)] = alphabet[rnd(alphabet.length)]!;
    if (rnd(10) === 0) base.splice(rnd(36), 1);
    out.push(base.join(''));
    // Every version and variant nibble.
    const v = [...v4()];
    v[14] = '0123456789abcdef'[rnd(16)]!;
    v[19] = '0123456789abcdef'[rnd(16)]!;
    out.push(v.join(''));
  }
  return out;
}

test('ids: valid, parsed and printed as the uuid package does', () => {
  for (const s of candidates()) {
    assert.equal(isId(s), validate(s) && s !== NIL_ID, s);
    let want: Uint8Array | Error;
    try {
      if (!validate(s) || s === NIL_ID || s.toLowerCase() === NIL_ID) throw new Error('refused');
      want = parse(s);
    } catch (e) {
      want = e as Error;
    }
    let got: Uint8Array | Error;
    try {
      got = idBytes(s);
    } catch (e) {
      got = e as Error;
    }
    if (want instanceof Error) assert.ok(got instanceof Error, s);
    else assert.deepEqual(Array.from(got as Uint8Array), Array.from(want), s);
  }
  for (let i = 0; i < 3000; i++) {
    const b = Array.from({ length: 16 }, () => rnd(256));
    if (i % 3 === 0) { b[6] = (b[6]! & 0x0f) | (rnd(16) << 4); b[8] = (b[8]! & 0x3f) | 0x80; }
    let want: string | Error;
    try {
      want = stringify(Uint8Array.from(b));
    } catch (e) {
      want = e as Error;
    }
    let got: string | Error;
    try {
      got = idFromBytes(b);
    } catch (e) {
      got = e as Error;
    }
    if (want instanceof Error) assert.equal((got as Error).message, want.message);
    else assert.equal(got, want);
  }
  assert.equal(idFromBytes(new Array(16).fill(0)), NIL_ID);
  assert.throws(() => idFromBytes([1, 2, 3]), TypeError);
});
