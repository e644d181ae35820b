// SPDX-License-Identifier: BSD-2-Clause
/**
 * A directory copy that changes in place, compactly: the etcd resolver's.
 * Where the file resolver's MappingTable is built once per load (one
 * revision for all), this one follows a watch (put, delete) and keeps each
 * mapping's own revision.  A mapping is a record of ten 32-bit words and a
 * float64 revision (48 bytes) in typed arrays, found through two open-
 * addressing indexes of record numbers ((VNI, MAC) and (VNI, address)), so
 * 100,000 mappings take ~7 MB of typed arrays instead of ~640 bytes each
 * of Mapping objects, strings, BigInts and Map entries on the heap; a
 * lookup makes the Mapping object it returns.
 *
 * Record words: [0] VNI + 1 (0: free)  [1] MAC bytes 0-3  [2] MAC bytes
 * 4-5 << 16 | port (0: none)  [3] index into vteps  [4] 1: has IPv4, 2: has
 * IPv6  [5] IPv4  [6-9] IPv6.  An index slot holds 0 (empty), -1 (removed)
 * or the record number + 1 (the address index: (record * 2 + family) + 1,
 * family 0 IPv4, 1 IPv6); the key is compared against the record, so an
 * address index entry always names a record that has that address.  The
 * hashes are keyed by a random seed: the MACs looked up are chosen by VMs.
 */
import { randomBytes } from 'node:crypto';
import { addrWords, format4, format6, parse4 } from './addr.ts';
import { hostIp6Words, type Mapping, type MappingInput, type MappingTarget } from './mapping.ts';
import { ipBytes, parseMac } from './parse.ts';

const WORDS = 10;
const g6 = new Uint16Array(8);
const HAS4 = 1;
const HAS6 = 2;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The parts of a mapping as the store keeps them (one scratch object, reused). */
export interface Fields {
  vni: number;
  /** MAC bytes 0-3, and bytes 4-5 in the top half of w2. */
  w1: number;
  w2: number;
  port: number;
  vtep: string;
  flags: number;
  ip4: number;
  ip6: Uint32Array;
  revision: number;
}

export function newFields(): Fields {
  return { vni: 0, w1: 0, w2: 0, port: 0, vtep: '', flags: 0, ip4: 0, ip6: new Uint32Array(4), revision: 0 };
}

const hexVal = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1);

/**
 * A MAC in the directory's canonical form (lower case, colons) as its two
 * words into f; false when it is not in that form (then parse it the
 * general way).  s may be a string or bytes.
 */
export function canonicalMacWords(s: string | Uint8Array, at: number, f: { w1: number; w2: number }): boolean {
  return typeof s === 'string' ? macWordsOf(s, at, f, (x, i) => x.charCodeAt(i)) : macWordsOf(s, at, f, (x, i) => x[i]!);
}

function macWordsOf<T>(s: T, at: number, f: { w1: number; w2: number }, code: (s: T, i: number) => number): boolean {
  let w1 = 0;
  let w2 = 0;
  for (let k = 0; k < 6; k++) {
    const p = at + 3 * k;
    if (k > 0 && code(s, p - 1) !== 58) return false;
    const hi = hexVal(code(s, p));
    const lo = hexVal(code(s, p + 1));
    if (hi < 0 || lo < 0) return false;
    const b = (hi << 4) | lo;
    if (k < 4) w1 = (w1 << 8) | b;
    else w2 = (w2 << 8) | b;
  }
  f.w1 = w1 >>> 0;
  f.w2 = (w2 << 16) >>> 0;
  return true;
}

/** Two hex digits per byte value: a MAC made on every lookup is six table reads. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const macOfWords = (a: number, b: number): string =>
  `${HEX[a >>> 24]}:${HEX[(a >>> 16) & 0xff]}:${HEX[(a >>> 8) & 0xff]}:${HEX[a & 0xff]}:${HEX[b >>> 24]}:${HEX[(b >>> 16) & 0xff]}`;

/** A checked mapping (canonical fields: checkMapping's output) as Fields; false if it is not one. */
export function fieldsOf(m: MappingInput & { revision: bigint }, f: Fields): boolean {
  if (m.mac.length !== 17 || !canonicalMacWords(m.mac, 0, f)) {
    const b = parseMac(m.mac);
    if (!b) return false;
    f.w1 = (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
    f.w2 = (((b[4]! << 24) | (b[5]! << 16)) >>> 0);
  }
  f.vni = m.vni;
  f.port = m.port ?? 0;
  f.vtep = m.vtep;
  f.flags = 0;
  if (m.ip !== undefined) {
    const n = parse4(m.ip);
    if (n < 0) return false;
    f.ip4 = n;
    f.flags |= HAS4;
  }
  if (m.ip6 !== undefined) {
    const w = hostIp6Words(m.ip6) ?? addrWords(m.ip6)?.w;
    if (!w) return false;
    f.ip6.set(w);
    f.flags |= HAS6;
  }
  f.revision = Number(m.revision);
  return true;
}

export class MappingStore {
  #rec: Uint32Array;
  #rev: Float64Array;
  /** Records ever used (the high-water mark); free ones below it are in #free. */
  #used = 0;
  #free: number[] = [];
  #size = 0;
  #mac: Int32Array;
  #macTaken = 0;     // live + removed slots
  #ip = new Int32Array(32);
  #ipTaken = 0;
  readonly #seed = randomBytes(4).readUInt32LE(0);
  readonly #vteps: string[] = [];
  readonly #vtepIndex = new Map<string, number>();
  readonly #s6 = new Uint32Array(4);
  readonly #s4 = new Uint32Array(1);
  readonly #f = newFields();

  /** Room for n mappings up front (a load knows how many keys it reads): no growing, no garbage. */
  constructor(n = 0) {
    const cap = Math.max(16, n);
    this.#rec = new Uint32Array(cap * WORDS);
    this.#rev = new Float64Array(cap);
    let idx = 32;
    while (idx < n * 2) idx *= 2;
    this.#mac = new Int32Array(idx);
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes of typed arrays the store holds. */
  get bytes(): number {
    return this.#rec.byteLength + this.#rev.byteLength + this.#mac.byteLength + this.#ip.byteLength;
  }

  /** Is this VTEP string already known (so already checked)? */
  hasVtep(vtep: string): boolean {
    return this.#vtepIndex.has(vtep);
  }

  #macHash(vni: number, w1: number, w2: number): number {
    let h = fmix(this.#seed ^ vni);
    h = fmix(h ^ w1);
    return fmix(h ^ (w2 >>> 16));
  }

  #ipHash(vni: number, fam: number, a: ArrayLike<number>, n: number): number {
    let h = fmix(this.#seed ^ (vni + 1) ^ (fam << 31));
    for (let x = 0; x < n; x++) h = fmix(h ^ a[x]!);
    return h;
  }

  /** The record of (vni, MAC words), or -1. */
  find(vni: number, w1: number, w2: number): number {
    const r = this.#rec;
    const idx = this.#mac;
    const mask = idx.length - 1;
    for (let i = this.#macHash(vni, w1, w2) & mask; ; i = (i + 1) & mask) {
      const v = idx[i]!;
      if (v === 0) return -1;
      if (v < 0) continue;
      const o = (v - 1) * WORDS;
      if (r[o] === vni + 1 && r[o + 1] === w1 && (r[o + 2]! & 0xffff0000) >>> 0 === w2) return v - 1;
    }
  }

  /** The record of (vni, mac), or -1. */
  findMac(vni: number, mac: string): number {
    const f = this.#f;
    if (mac.length === 17 && canonicalMacWords(mac, 0, f)) return this.find(vni, f.w1, f.w2);
    const b = parseMac(mac);
    if (!b) return -1;
    return this.find(vni, (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0), (((b[4]! << 24) | (b[5]! << 16)) >>> 0));
  }

  /** The address index slot of (vni, family, address words), or the empty slot to put it in (negative: ~slot). */
  #ipSlot(vni: number, fam: number, a: ArrayLike<number>): number {
    const r = this.#rec;
    const idx = this.#ip;
    const mask = idx.length - 1;
    const n = fam === 0 ? 1 : 4;
    let firstRemoved = -1;
    for (let i = this.#ipHash(vni, fam, a, n) & mask; ; i = (i + 1) & mask) {
      const v = idx[i]!;
      if (v === 0) return ~(firstRemoved >= 0 ? firstRemoved : i);
      if (v < 0) {
        if (firstRemoved < 0) firstRemoved = i;
        continue;
      }
      if (((v - 1) & 1) !== fam) continue;
      const o = ((v - 1) >>> 1) * WORDS;
      if (r[o] !== vni + 1) continue;
      if (fam === 0 ? r[o + 5] === a[0] : r[o + 6] === a[0] && r[o + 7] === a[1] && r[o + 8] === a[2] && r[o + 9] === a[3]) return i;
    }
  }

  /** The record that owns (vni, ip), or -1. */
  findIp(vni: number, ip: string): number {
    let fam: number;
    let a: ArrayLike<number>;
    if (ip.indexOf(':') < 0) {
      const n = parse4(ip);
      if (n < 0) return -1;
      fam = 0;
      a = this.#s4;
      this.#s4[0] = n;
    } else {
      const w = addrWords(ip);
      if (!w) return -1;
      fam = 1;
      a = w.w;
    }
    const s = this.#ipSlot(vni, fam, a);
    return s < 0 ? -1 : (this.#ip[s]! - 1) >>> 1;
  }

  get(vni: number, mac: string): Mapping | undefined {
    const i = this.findMac(vni, mac);
    return i < 0 ? undefined : this.entry(i);
  }

  getByIp(vni: number, ip: string): Mapping | undefined {
    const i = this.findIp(vni, ip);
    return i < 0 ? undefined : this.entry(i);
  }

  /** Where (vni, MAC words) lives: entry()'s vtep, port and revision, without the rest. */
  target(vni: number, w1: number, w2: number): MappingTarget | undefined {
    const i = this.find(vni, w1, w2);
    if (i < 0) return undefined;
    const r = this.#rec;
    const port = r[i * WORDS + 2]! & 0xffff;
    const t: MappingTarget = { vtep: this.#vteps[r[i * WORDS + 3]!]!, revision: BigInt(this.#rev[i]!) };
    if (port !== 0) t.port = port;
    return t;
  }

  /** The mapping in record i. */
  entry(i: number): Mapping {
    const r = this.#rec;
    const o = i * WORDS;
    const m: Mapping = { vni: r[o]! - 1, mac: macOfWords(r[o + 1]!, r[o + 2]!), vtep: this.#vteps[r[o + 3]!]!, revision: 0n };
    const port = r[o + 2]! & 0xffff;
    if (port !== 0) m.port = port;
    const flags = r[o + 4]!;
    if (flags & HAS4) m.ip = format4(r[o + 5]!);
    if (flags & HAS6) m.ip6 = this.#format6(o);
    m.revision = BigInt(this.#rev[i]!);
    return m;
  }

  #format6(o: number): string {
    const r = this.#rec;
    const g = g6;
    for (let x = 0; x < 4; x++) {
      g[2 * x] = r[o + 6 + x]! >>> 16;
      g[2 * x + 1] = r[o + 6 + x]! & 0xffff;
    }
    return format6(g);
  }

  vniAt(i: number): number {
    return this.#rec[i * WORDS]! - 1;
  }

  /** Record i's MAC as the two words find() takes. */
  macWordsAt(i: number): [number, number] {
    const r = this.#rec;
    return [r[i * WORDS + 1]!, (r[i * WORDS + 2]! & 0xffff0000) >>> 0];
  }

  revisionAt(i: number): number {
    return this.#rev[i]!;
  }

  /** Every live record. */
  *records(): Generator<number> {
    const r = this.#rec;
    for (let i = 0; i < this.#used; i++) if (r[i * WORDS] !== 0) yield i;
  }

  /**
   * The records as they lie, with each one's revision (MappingTable's
   * targetRecords: the first four words are the same).  Valid until the
   * store next changes.
   */
  targetRecords() {
    return { words: this.#rec, count: this.#used, stride: WORDS, vteps: this.#vteps, revisions: this.#rev };
  }

  /** Every mapping of one VNI (a scan of the records: what push mode preloads). */
  ofVni(vni: number): Mapping[] {
    const r = this.#rec;
    const out: Mapping[] = [];
    for (let i = 0; i < this.#used; i++) if (r[i * WORDS] === vni + 1) out.push(this.entry(i));
    return out;
  }

  #vtep(v: string): number {
    let i = this.#vtepIndex.get(v);
    if (i === undefined) {
      i = this.#vteps.length;
      this.#vteps.push(v);
      this.#vtepIndex.set(v, i);
    }
    return i;
  }

  /**
   * Put a mapping (replacing the one of its (VNI, MAC)) without touching the
   * address index: for a bulk load, which then calls indexAddresses().
   * The fields must be checked (vtep an address).
   */
  putUnindexed(f: Fields): number {
    let i = this.find(f.vni, f.w1, f.w2);
    if (i >= 0) {
      this.#write(i, f);
      return i;
    }
    i = this.#alloc();
    this.#write(i, f);      // before the index, which may be rebuilt from the records
    this.#macInsert(i, f.vni, f.w1, f.w2);
    return i;
  }

  /** Build the address index from the records (a later record's claim wins). */
  indexAddresses(): void {
    const r = this.#rec;
    let n = 0;
    for (let i = 0; i < this.#used; i++) n += (r[i * WORDS + 4]! & HAS4) + ((r[i * WORDS + 4]! & HAS6) >>> 1);
    let cap = 32;
    while (cap < n * 2) cap *= 2;
    this.#ip = new Int32Array(cap);
    this.#ipTaken = 0;
    for (let i = 0; i < this.#used; i++) if (r[i * WORDS] !== 0) this.#claimAll(i);
  }

  /**
   * Put a checked mapping, replacing the one of its (VNI, MAC), with the
   * address index kept as the etcd resolver always had it: the addresses
   * the old mapping had and this one has not are dropped from the index
   * where they still name it; this one's addresses name it (over any other
   * MAC's claim).  Returns the mapping it replaced.
   */
  set(m: Mapping): Mapping | undefined {
    const f = this.#f;
    if (!fieldsOf(m, f)) throw new Error(`not a checked mapping: ${m.vni}/${m.mac}`);
    let i = this.find(f.vni, f.w1, f.w2);
    let old: Mapping | undefined;
    if (i < 0) {
      i = this.#alloc();
      this.#write(i, f);
      this.#macInsert(i, f.vni, f.w1, f.w2);
    } else {
      old = this.entry(i);
      this.#dropAddresses(i, f);
      this.#write(i, f);
    }
    this.#claimAll(i);
    return old;
  }

  /** Remove (vni, mac); returns the mapping removed. */
  delete(vni: number, mac: string): Mapping | undefined {
    const i = this.findMac(vni, mac);
    if (i < 0) return undefined;
    const old = this.entry(i);
    this.#dropAddresses(i, undefined);
    const o = i * WORDS;
    const r = this.#rec;
    const idx = this.#mac;
    const mask = idx.length - 1;
    for (let s = this.#macHash(r[o]! - 1, r[o + 1]!, (r[o + 2]! & 0xffff0000) >>> 0) & mask; ; s = (s + 1) & mask) {
      if (idx[s] === i + 1) {
        idx[s] = -1;
        break;
      }
    }
    r.fill(0, o, o + WORDS);
    this.#rev[i] = 0;
    this.#free.push(i);
    this.#size--;
    return old;
  }

  #write(i: number, f: Fields): void {
    const r = this.#rec;
    const o = i * WORDS;
    r[o] = f.vni + 1;
    r[o + 1] = f.w1;
    r[o + 2] = (f.w2 | f.port) >>> 0;
    r[o + 3] = this.#vtep(f.vtep);
    r[o + 4] = f.flags;
    r[o + 5] = f.flags & HAS4 ? f.ip4 : 0;
    if (f.flags & HAS6) r.set(f.ip6, o + 6);
    else r.fill(0, o + 6, o + 10);
    this.#rev[i] = f.revision;
  }

  /** Record i's addresses that f has not (all when f is undefined) leave the index where they name i. */
  #dropAddresses(i: number, f: Fields | undefined): void {
    const r = this.#rec;
    const o = i * WORDS;
    const vni = r[o]! - 1;
    const flags = r[o + 4]!;
    if (flags & HAS4 && !(f && f.flags & HAS4 && f.ip4 === r[o + 5])) this.#unclaim(i, vni, 0, [r[o + 5]!]);
    if (flags & HAS6) {
      const a = r.subarray(o + 6, o + 10);
      if (!(f && f.flags & HAS6 && f.ip6.every((x, k) => x === a[k]))) this.#unclaim(i, vni, 1, Uint32Array.from(a));
    }
  }

  #unclaim(i: number, vni: number, fam: number, a: ArrayLike<number>): void {
    const s = this.#ipSlot(vni, fam, a);
    if (s >= 0 && this.#ip[s] === i * 2 + fam + 1) this.#ip[s] = -1;
  }

  /** Record i's addresses name it in the index. */
  #claimAll(i: number): void {
    const r = this.#rec;
    const o = i * WORDS;
    const flags = r[o + 4]!;
    const s6 = this.#s6;
    if (flags & HAS4) {
      s6[0] = r[o + 5]!;
      this.#claim(i, 0, s6);
    }
    if (flags & HAS6) {
      for (let x = 0; x < 4; x++) s6[x] = r[o + 6 + x]!;
      this.#claim(i, 1, s6);
    }
  }

  #claim(i: number, fam: number, a: ArrayLike<number>): void {
    const vni = this.#rec[i * WORDS]! - 1;
    const s = this.#ipSlot(vni, fam, a);
    if (s >= 0) {
      this.#ip[s] = i * 2 + fam + 1;
      return;
    }
    const slot = ~s;
    if (this.#ip[slot] === 0) this.#ipTaken++;
    this.#ip[slot] = i * 2 + fam + 1;
    if (this.#ipTaken * 2 > this.#ip.length) this.#rehashIp();
  }

  #rehashIp(): void {
    const old = this.#ip;
    let live = 0;
    for (const v of old) if (v > 0) live++;
    let cap = 32;
    while (cap < live * 4) cap *= 2;
    this.#ip = new Int32Array(cap);
    this.#ipTaken = 0;
    const r = this.#rec;
    for (const v of old) {
      if (v <= 0) continue;
      const i = (v - 1) >>> 1;
      const fam = (v - 1) & 1;
      const o = i * WORDS;
      const a = fam === 0 ? [r[o + 5]!] : Array.from(r.subarray(o + 6, o + 10));
      const s = ~this.#ipSlot(r[o]! - 1, fam, a);
      this.#ip[s] = v;
      this.#ipTaken++;
    }
  }

  #alloc(): number {
    this.#size++;
    const f = this.#free.pop();
    if (f !== undefined) return f;
    if (this.#used * WORDS === this.#rec.length) {
      const rec = new Uint32Array(this.#rec.length * 2);
      rec.set(this.#rec);
      this.#rec = rec;
      const rev = new Float64Array(this.#rev.length * 2);
      rev.set(this.#rev);
      this.#rev = rev;
    }
    return this.#used++;
  }

  #macInsert(i: number, vni: number, w1: number, w2: number): void {
    const idx = this.#mac;
    const mask = idx.length - 1;
    let s = this.#macHash(vni, w1, w2) & mask;
    while (idx[s]! > 0) s = (s + 1) & mask;      // not present (the caller looked): any free or removed slot
    if (idx[s] === 0) this.#macTaken++;
    idx[s] = i + 1;
    if (this.#macTaken * 2 > idx.length) this.#rehashMac();
  }

  #rehashMac(): void {
    let cap = 32;
    while (cap < this.#size * 4) cap *= 2;
    const idx = new Int32Array(cap);
    const mask = cap - 1;
    const r = this.#rec;
    for (const i of this.records()) {
      const o = i * WORDS;
      let s = this.#macHash(r[o]! - 1, r[o + 1]!, (r[o + 2]! & 0xffff0000) >>> 0) & mask;
      while (idx[s] !== 0) s = (s + 1) & mask;
      idx[s] = i + 1;
    }
    this.#mac = idx;
    this.#macTaken = this.#size;
  }

  /** Is the vtep string an address (checked once per distinct string)? */
  checkVtep(vtep: string): boolean {
    if (this.#vtepIndex.has(vtep)) return true;
    if (ipBytes(vtep) === null) return false;
    this.#vtep(vtep);
    return true;
  }
}
