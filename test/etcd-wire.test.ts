// SPDX-License-Identifier: BSD-2-Clause
/**
 * etcd's Range call in protobuf's wire format (src/directory/etcd-wire.ts):
 * a RangeResponse with every field, unknown fields among them, reads as
 * written; one cut short anywhere inside a field, or garbled, is refused
 * with RangeWireError and nothing is returned; a RangeRequest is the bytes
 * etcd3's encoder sends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeRangeResponse, encodeRangeRequest, modRevisionBig, RangeWireError } from '../src/directory/etcd-wire.ts';

/** A protobuf writer for the tests (independent of the decoder under test). */
function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}
const tag = (n: number, wire: number) => varint(BigInt(n << 3 | wire));
const vfield = (n: number, v: bigint) => [...tag(n, 0), ...varint(v)];
const bfield = (n: number, b: number[] | Buffer) => [...tag(n, 2), ...varint(BigInt(b.length)), ...b];

interface Kv { key: string; value: string; mod: bigint }

/** A RangeResponse; boundaries: the offsets where a top-level field ends (a cut there is a shorter, valid message). */
function response(kvs: Kv[], revision: bigint, more: boolean, count: bigint): { buf: Buffer; boundaries: Set<number> } {
  const fields: number[][] = [];
  fields.push(bfield(1, [...vfield(1, 0xd5c09bf79786bcn), ...vfield(2, 0x9a9ece5bd6dcecfcn), ...vfield(3, revision), ...vfield(4, 2n)]));
  for (const kv of kvs) {
    fields.push(bfield(2, [
      ...bfield(1, Buffer.from(kv.key)), ...vfield(2, 5n), ...vfield(3, kv.mod), ...vfield(4, 1n),
      ...bfield(5, Buffer.from(kv.value)), ...vfield(6, 0n),
      // Fields a later etcd might add: skipped, whatever their wire type.
      ...tag(15, 1), 1, 2, 3, 4, 5, 6, 7, 8, ...tag(16, 5), 1, 2, 3, 4, ...bfield(17, [9, 9]),
    ]));
  }
  fields.push(vfield(3, more ? 1n : 0n), vfield(4, count), bfield(20, [1, 2, 3]));
  const boundaries = new Set<number>([0]);
  let at = 0;
  for (const f of fields) boundaries.add(at += f.length);
  return { buf: Buffer.from(fields.flat()), boundaries };
}

const kvs: Kv[] = [
  { key: '/vpc/mappings/5/02:00:00:00:00:01', value: '{"vtep":"198.51.100.1"}', mod: 7n },
  { key: '/vpc/mappings/5/02:00:00:00:00:0A', value: '', mod: 1n << 40n },
  { key: '', value: 'x', mod: 0n },
  { key: '/vpc/mappings/9/02:00:00:00:00:02', value: 'é', mod: (1n << 62n) + 3n },     // past 2^53
];

const read = (p: ReturnType<typeof decodeRangeResponse>) => Array.from({ length: p.n }, (_, i) => ({
  key: p.buf.toString('utf8', p.spans[4 * i], p.spans[4 * i + 1]),
  value: p.buf.toString('utf8', p.spans[4 * i + 2], p.spans[4 * i + 3]),
  mod: modRevisionBig(p, i),
}));

describe('decodeRangeResponse', () => {
  test('every field as written, unknown ones skipped, a revision past 2^53 exact', () => {
    const { buf } = response(kvs, 123456789012n, true, 100000n);
    const p = decodeRangeResponse(buf);
    assert.equal(p.revision, 123456789012n);
    assert.equal(p.more, true);
    assert.equal(p.count, 100000);
    assert.deepEqual(read(p), kvs);
    assert.equal(p.modRevision[0], 7);
    assert.ok(p.modRevision[3]! < 0, 'a revision a Number cannot hold is not given as one');
  });

  test('absent fields are their defaults; an empty reply is an empty page', () => {
    const p = decodeRangeResponse(Buffer.alloc(0));
    assert.deepEqual([p.revision, p.more, p.count, p.n], [0n, false, 0, 0]);
    const one = decodeRangeResponse(Buffer.from(bfield(2, bfield(1, Buffer.from('k')))));
    assert.deepEqual(read(one), [{ key: 'k', value: '', mod: 0n }]);
  });

  test('more keys than the first arrays hold: all of them', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ key: `/k/${i}`, value: `{"i":${i}}`, mod: BigInt(i + 1) }));
    const p = decodeRangeResponse(response(many, 9n, false, 3000n).buf);
    assert.deepEqual(read(p), many);
  });

  test('cut short inside any field: RangeWireError, nothing returned', () => {
    const { buf, boundaries } = response(kvs, 99n, true, 4n);
    let refused = 0;
    for (let cut = 0; cut < buf.length; cut++) {
      const part = buf.subarray(0, cut);
      if (boundaries.has(cut)) {
        // A whole number of fields is a valid (shorter) message: gRPC's framing, not protobuf, says where a reply ends.
        assert.doesNotThrow(() => decodeRangeResponse(part), `cut at field boundary ${cut}`);
        continue;
      }
      assert.throws(() => decodeRangeResponse(part), RangeWireError, `cut at ${cut} of ${buf.length}`);
      refused++;
    }
    assert.equal(refused, buf.length - boundaries.size + 1);
  });

  test('garbage: RangeWireError saying what, never another error, never a span outside the reply', () => {
    const cases: Array<[string, number[], RegExp]> = [
      ['wire type 3 (a group)', [2 << 3 | 3], /wire type 3/],
      ['wire type 4', [9 << 3 | 4], /wire type 4/],
      ['wire type 6', [1 << 3 | 6], /wire type 6/],
      ['wire type 7 in a kv', bfield(2, [1 << 3 | 7]), /wire type 7/],
      ['field number 0', [0, 1], /field number 0/],
      ['a varint of 11 bytes', [4 << 3, ...Array(10).fill(0xff), 1], /longer than 10 bytes/],
      ['a length past the end', [2 << 3 | 2, 50, 1, 2], /runs past the end/],
      ['a kv field longer than its kv', [2 << 3 | 2, 3, 1 << 3 | 2, 9, 0], /runs past the end/],
      ['a huge length', [2 << 3 | 2, ...varint(1n << 60n)], /huge/],
      ['a fixed64 cut short', [9 << 3 | 1, 1, 2], /fixed64/],
      ['a fixed32 cut short', [9 << 3 | 5, 1], /fixed32/],
      ['a varint cut short', [3 << 3, 0x80], /cut short/],
    ];
    for (const [what, bytes, why] of cases) assert.throws(() => decodeRangeResponse(Buffer.from(bytes)), (e: Error) => e instanceof RangeWireError && why.test(e.message), what);
    // Random bytes (a fixed sequence): refused, or read within bounds.
    let s = 1;
    for (let round = 0; round < 2000; round++) {
      const b = Buffer.alloc(1 + (round % 64));
      for (let i = 0; i < b.length; i++) b[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
      try {
        const p = decodeRangeResponse(b);
        for (let i = 0; i < 4 * p.n; i++) assert.ok(p.spans[i]! <= b.length, `round ${round}: a span within the reply`);
      } catch (e) {
        assert.ok(e instanceof RangeWireError, `round ${round}: ${(e as Error).message}`);
      }
    }
  });
});

describe('encodeRangeRequest', () => {
  test('the fields etcd3 sends for a page: key, range_end, limit, revision (defaults left out)', () => {
    assert.deepEqual([...encodeRangeRequest(Buffer.from('/a/'), Buffer.from('/a0'), 10000, 0n)],
      [...bfield(1, Buffer.from('/a/')), ...bfield(2, Buffer.from('/a0')), ...vfield(3, 10000n)]);
    assert.deepEqual([...encodeRangeRequest(Buffer.from('k'), Buffer.alloc(0), 7, (1n << 62n) + 1n)],
      [...bfield(1, Buffer.from('k')), ...vfield(3, 7n), ...vfield(4, (1n << 62n) + 1n)]);
  });
});
