// SPDX-License-Identifier: BSD-2-Clause
/**
 * etcd's Range call in protobuf's wire format, by hand, for the bulk load
 * (EtcdClient.loadStore): etcd3's generated decoder makes, per key, a
 * KeyValue message, its plain-object copy, two Buffers and a Long turned
 * into a string, which took most of an agent's CPU (and its garbage
 * collections) loading 100,000 mappings.  Here a page stays the one Buffer
 * gRPC received, and a key/value is a pair of offset ranges into it.
 *
 * RangeRequest:  key=1 bytes, range_end=2 bytes, limit=3 int64, revision=4 int64
 * RangeResponse: header=1 ResponseHeader{cluster_id=1, member_id=2, revision=3,
 *                raft_term=4}, kvs=2 repeated KeyValue{key=1, create_revision=2,
 *                mod_revision=3, version=4, value=5, lease=6}, more=3 bool, count=4 int64
 * (etcd's api/etcdserverpb/rpc.proto, api/mvccpb/kv.proto; node_modules/etcd3/proto).
 */

/** A reply that is not a well-formed RangeResponse (cut short, or not protobuf). */
export class RangeWireError extends Error {
  constructor(what: string) {
    super(`etcd range reply: ${what}`);
    this.name = 'RangeWireError';
  }
}

/** One page of a range, decoded: kv i's key is buf[keyStart(i), keyEnd(i)), its value likewise. */
export interface RangePage {
  buf: Buffer;
  /** header.revision: the store's revision the page was read at. */
  revision: bigint;
  more: boolean;
  /** Keys in the whole range (not only this page). */
  count: number;
  /** How many key/values the page holds. */
  n: number;
  /** Per kv: key start, key end, value start, value end (4 words each). */
  spans: Uint32Array;
  /**
   * Per kv: mod_revision; where it is not a safe integer (never, from a
   * real etcd), -1 - the offset of its varint (modRevisionBig reads it).
   */
  modRevision: Float64Array;
}

/** Byte offset and value of varints, read without allocating (32-bit halves: a Number holds 53 bits). */
let vpos = 0;

/** The varint at buf[at] as a Number (exact up to 2^53; larger ones are -1); its end in vpos. */
function varint(buf: Buffer, at: number, end: number): number {
  let lo = 0;
  let shift = 0;
  let i = at;
  // Up to 7 bytes: 49 bits, exact in a Number.
  for (; i < end && shift < 49; shift += 7) {
    const b = buf[i++]!;
    lo += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      vpos = i;
      return lo;
    }
  }
  // The rest (at most 10 bytes in all): exact only if it still fits in 53 bits.
  let big = false;
  for (; i < end; shift += 7) {
    if (shift > 63) throw new RangeWireError(`a varint longer than 10 bytes at ${at}`);
    const b = buf[i++]!;
    const v = (b & 0x7f) * 2 ** shift;
    lo += v;
    if (!Number.isSafeInteger(lo)) big = true;
    if (b < 0x80) {
      vpos = i;
      return big ? -1 : lo;
    }
  }
  throw new RangeWireError(`a varint cut short at ${at}`);
}

/** The varint at buf[at] exactly, as a BigInt (a revision past 2^53). */
function varintBig(buf: Buffer, at: number, end: number): bigint {
  let v = 0n;
  let shift = 0n;
  for (let i = at; i < end && shift < 70n; i++, shift += 7n) {
    const b = buf[i]!;
    v |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asIntN(64, v);
  }
  throw new RangeWireError(`a varint cut short at ${at}`);
}

/** A length-delimited field's length at buf[at]; its bytes start at vpos and must end by end. */
function length(buf: Buffer, at: number, end: number): number {
  const n = varint(buf, at, end);
  if (n < 0 || vpos + n > end) throw new RangeWireError(`a field of ${n < 0 ? 'huge' : n} bytes at ${at} runs past the end of its message (${end})`);
  return n;
}

/** Skip a field of this wire type whose value starts at i; returns its end. */
function skip(buf: Buffer, wire: number, i: number, end: number): number {
  switch (wire) {
    case 0:
      varint(buf, i, end);
      return vpos;
    case 1:
      if (i + 8 > end) throw new RangeWireError(`a fixed64 field cut short at ${i}`);
      return i + 8;
    case 2: {
      const n = length(buf, i, end);
      return vpos + n;
    }
    case 5:
      if (i + 4 > end) throw new RangeWireError(`a fixed32 field cut short at ${i}`);
      return i + 4;
    default:
      throw new RangeWireError(`wire type ${wire} at ${i} (not a RangeResponse)`);
  }
}

/** A field's tag at buf[i]: field number * 8 + wire type; the value starts at vpos. */
function tag(buf: Buffer, i: number, end: number): number {
  const t = varint(buf, i, end);
  if (t < 8) throw new RangeWireError(`field number 0 at ${i} (not a RangeResponse)`);
  return t;
}

/**
 * A RangeResponse, checked whole before anything is returned: a reply cut
 * short or garbled throws RangeWireError, and the caller has been handed no
 * part of it.
 */
export function decodeRangeResponse(buf: Buffer): RangePage {
  const end = buf.length;
  let revision = 0n;
  let more = false;
  let count = 0;
  let n = 0;
  let spans = new Uint32Array(4 * 1024);
  let modRevision = new Float64Array(1024);
  let i = 0;
  while (i < end) {
    const t = tag(buf, i, end);
    i = vpos;
    const field = Math.floor(t / 8);
    const wire = t & 7;
    if (field === 1 && wire === 2) {
      const hlen = length(buf, i, end);
      i = vpos;
      const hend = i + hlen;
      while (i < hend) {
        const ht = tag(buf, i, hend);
        i = vpos;
        if (ht === (3 << 3 | 0)) {
          const v = varint(buf, i, hend);
          revision = v >= 0 ? BigInt(v) : varintBig(buf, i, hend);
          i = vpos;
        } else {
          i = skip(buf, ht & 7, i, hend);
        }
      }
    } else if (field === 2 && wire === 2) {
      const klen = length(buf, i, end);
      i = vpos;
      const kend = i + klen;
      if (n === modRevision.length) {
        const s = new Uint32Array(spans.length * 2);
        s.set(spans);
        spans = s;
        const r = new Float64Array(modRevision.length * 2);
        r.set(modRevision);
        modRevision = r;
      }
      // Absent fields are proto3 defaults: empty key/value, revision 0.
      let ks = i;
      let ke = i;
      let vs = i;
      let ve = i;
      let rev = 0;
      while (i < kend) {
        const kt = tag(buf, i, kend);
        i = vpos;
        if (kt === (1 << 3 | 2) || kt === (5 << 3 | 2)) {
          const len = length(buf, i, kend);
          if (kt === (1 << 3 | 2)) {
            ks = vpos;
            ke = vpos + len;
          } else {
            vs = vpos;
            ve = vpos + len;
          }
          i = vpos + len;
        } else if (kt === (3 << 3 | 0)) {
          rev = varint(buf, i, kend);
          if (rev < 0) rev = -1 - i;
          i = vpos;
        } else {
          i = skip(buf, kt & 7, i, kend);
        }
      }
      spans[4 * n] = ks;
      spans[4 * n + 1] = ke;
      spans[4 * n + 2] = vs;
      spans[4 * n + 3] = ve;
      modRevision[n] = rev;
      n++;
    } else if (field === 3 && wire === 0) {
      more = varint(buf, i, end) !== 0;
      i = vpos;
    } else if (field === 4 && wire === 0) {
      count = varint(buf, i, end);
      i = vpos;
    } else {
      i = skip(buf, wire, i, end);
    }
  }
  return { buf, revision, more, count, n, spans, modRevision };
}

/** kv i's mod_revision exactly, whatever its size (etcd3 gives it as a decimal string). */
export function modRevisionBig(page: RangePage, i: number): bigint {
  const r = page.modRevision[i]!;
  return r >= 0 ? BigInt(r) : varintBig(page.buf, -1 - r, page.buf.length);
}

function putVarint(out: number[], v: bigint): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function putBytes(out: number[], field: number, b: Uint8Array): void {
  out.push(field << 3 | 2);
  putVarint(out, BigInt(b.length));
  for (const x of b) out.push(x);
}

/** A RangeRequest for [key, rangeEnd), at most limit keys, at revision (0: the current one). */
export function encodeRangeRequest(key: Uint8Array, rangeEnd: Uint8Array, limit: number, revision: bigint): Buffer {
  const out: number[] = [];
  // proto3 leaves fields at their defaults out, as etcd3's encoder does.
  if (key.length > 0) putBytes(out, 1, key);
  if (rangeEnd.length > 0) putBytes(out, 2, rangeEnd);
  if (limit !== 0) {
    out.push(3 << 3 | 0);
    putVarint(out, BigInt(limit));
  }
  if (revision !== 0n) {
    out.push(4 << 3 | 0);
    putVarint(out, revision);
  }
  return Buffer.from(out);
}
