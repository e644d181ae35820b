// SPDX-License-Identifier: BSD-2-Clause
/**
 * A loaded directory as one flat hash table: (VNI, MAC) -> VTEP and port,
 * 16 bytes a slot in a SharedArrayBuffer, open addressing at a load of at
 * most 1/2, plus the distinct VTEP strings (a node hosts many MACs).  It is
 * built off the event loop (in the file loader's worker) and handed over
 * without a copy; a lookup makes the Mapping object it returns.  200,000
 * mappings take 8 MiB here, where as a Map of Mapping objects they take
 * ~45 MiB of heap (bench/mappings.ts measures both).
 *
 * Slot: [0] VNI + 1 (0: empty)  [1] MAC bytes 0-3  [2] MAC bytes 4-5 << 16 | port
 *       [3] index into vteps.  The hash is keyed by a random seed: the MACs
 *       looked up are chosen by VMs.
 */
import { randomBytes } from 'node:crypto';
import type { Mapping, MappingInput, MappingTarget } from './mapping.ts';
import { addrWords, format4, format6 } from './addr.ts';
import { macString, parseMac } from './parse.ts';

const g6 = new Uint16Array(8);

/** What crosses between threads: the slots are shared, not copied. */
export interface TableData {
  slots: SharedArrayBuffer;
  vteps: string[];
  count: number;
  seed: number;
  /** The directory revision every mapping of this load carries (decimal). */
  revision: string;
  /** The address index, when any mapping has an address (see IP_WORDS). */
  ips: SharedArrayBuffer | null;
  /** Per slot: [v4, v6] indexes into ips, plus one (0: none). */
  ipRefs: SharedArrayBuffer | null;
}

const WORDS = 4;
/*
 * The address index, (VNI, IP) -> slot: open addressing like the slots,
 * 6 words an address: [0] VNI + 1, | 1 << 31 for IPv6 (0: empty), [1-4] the
 * address (IPv4 in [1]), [5] the slot of its mapping.  Only a directory
 * whose mappings carry addresses has one (an empty directory of 16 slots
 * otherwise), so a MAC-only directory costs what it did.
 */
const IP_WORDS = 6;
const V6 = 0x80000000;

function wordsOf(ip: string): { af6: boolean; w: number[] } {
  const a = addrWords(ip);
  if (!a) throw new Error(`not an address: ${ip}`);
  return a;
}

function ipHash(seed: number, head: number, w: number[]): number {
  let h = fmix(seed ^ head);
  for (const x of w) h = fmix(h ^ x);
  return h;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash(seed: number, vni: number, w1: number, w2: number): number {
  let h = fmix(seed ^ vni);
  h = fmix(h ^ w1);
  return fmix(h ^ (w2 >>> 16));
}

const macWord1 = (b: ArrayLike<number>) => (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
const macWord2 = (b: ArrayLike<number>) => (((b[4]! << 24) | (b[5]! << 16)) >>> 0);
/** The MAC's last two bytes of a slot's third word (unsigned, as macWord2). */
const hi16 = (x: number) => (x & 0xffff0000) >>> 0;

export class DuplicateMappingError extends Error {}

export class MappingTable {
  readonly #slots: Uint32Array;
  readonly #mask: number;
  readonly #ips: Uint32Array | null;
  readonly #ipMask: number;
  readonly #refs: Uint32Array | null;
  readonly vteps: readonly string[];
  readonly size: number;
  readonly seed: number;
  readonly revision: bigint;

  private constructor(readonly data: TableData) {
    this.#slots = new Uint32Array(data.slots);
    this.#mask = this.#slots.length / WORDS - 1;
    this.#ips = data.ips ? new Uint32Array(data.ips) : null;
    this.#ipMask = this.#ips ? this.#ips.length / IP_WORDS - 1 : 0;
    this.#refs = data.ipRefs ? new Uint32Array(data.ipRefs) : null;
    this.vteps = data.vteps;
    this.size = data.count;
    this.seed = data.seed;
    this.revision = BigInt(data.revision);
  }

  static empty(revision = 0n): MappingTable {
    return MappingTable.build([], revision);
  }

  /**
   * The table of these mappings; DuplicateMappingError names a (VNI, MAC)
   * given twice, or an address of a VNI given to two MACs.
   */
  static build(mappings: readonly MappingInput[], revision: bigint): MappingTable {
    let cap = 16;
    while (cap < mappings.length * 2) cap *= 2;
    let naddr = 0;
    for (const m of mappings) naddr += (m.ip !== undefined ? 1 : 0) + (m.ip6 !== undefined ? 1 : 0);
    let ipCap = 16;
    while (ipCap < naddr * 2) ipCap *= 2;
    const ips = naddr > 0 ? new SharedArrayBuffer(ipCap * IP_WORDS * 4) : null;
    const ipRefs = naddr > 0 ? new SharedArrayBuffer(cap * 2 * 4) : null;
    const iw = ips ? new Uint32Array(ips) : null;
    const rw = ipRefs ? new Uint32Array(ipRefs) : null;
    const ipMask = ipCap - 1;
    const slots = new SharedArrayBuffer(cap * WORDS * 4);
    const w = new Uint32Array(slots);
    const seed = randomBytes(4).readUInt32LE(0);
    const vteps: string[] = [];
    const vtepIndex = new Map<string, number>();
    const mask = cap - 1;
    for (const m of mappings) {
      const b = parseMac(m.mac);
      if (!b) throw new Error(`not a MAC: ${m.mac}`);
      const w1 = macWord1(b);
      const w2 = macWord2(b);
      let i = hash(seed, m.vni, w1, w2) & mask;
      for (;;) {
        const o = i * WORDS;
        if (w[o] === 0) break;
        if (w[o] === m.vni + 1 && w[o + 1] === w1 && hi16(w[o + 2]!) === w2) {
          throw new DuplicateMappingError(`VNI ${m.vni} MAC ${m.mac} is mapped twice`);
        }
        i = (i + 1) & mask;
      }
      let v = vtepIndex.get(m.vtep);
      if (v === undefined) {
        v = vteps.length;
        vteps.push(m.vtep);
        vtepIndex.set(m.vtep, v);
      }
      const o = i * WORDS;
      w[o] = m.vni + 1;
      w[o + 1] = w1;
      w[o + 2] = (w2 | (m.port ?? 0)) >>> 0;
      w[o + 3] = v;
      if (iw && rw) {
        for (const [k, ip] of [[0, m.ip], [1, m.ip6]] as const) {
          if (ip === undefined) continue;
          const { af6, w: aw } = wordsOf(ip);
          const head = ((m.vni + 1) | (af6 ? V6 : 0)) >>> 0;
          let j = ipHash(seed, head, aw) & ipMask;
          for (;;) {
            const q = j * IP_WORDS;
            if (iw[q] === 0) break;
            if (iw[q] === head && iw[q + 1] === aw[0] && iw[q + 2] === aw[1] && iw[q + 3] === aw[2] && iw[q + 4] === aw[3]) {
              const other = MappingTable.#macOf(w, iw[q + 5]!);
              throw new DuplicateMappingError(`VNI ${m.vni} IP ${ip} is mapped to two MACs: ${other} and ${m.mac}`);
            }
            j = (j + 1) & ipMask;
          }
          const q = j * IP_WORDS;
          iw[q] = head;
          iw.set(aw, q + 1);
          iw[q + 5] = i;
          rw[i * 2 + k] = j + 1;
        }
      }
    }
    return new MappingTable({ slots, vteps, count: mappings.length, seed, revision: revision.toString(), ips, ipRefs });
  }

  static #macOf(w: Uint32Array, i: number): string {
    const a = w[i * WORDS + 1]!;
    const b = w[i * WORDS + 2]!;
    return macString([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff, b >>> 24, (b >>> 16) & 0xff]);
  }

  /** A table handed over from another thread. */
  static from(data: TableData): MappingTable {
    return new MappingTable(data);
  }

  /** The slot holding (vni, MAC bytes), or -1. */
  find(vni: number, mac: ArrayLike<number>): number {
    return this.#find(vni, macWord1(mac), macWord2(mac));
  }

  #find(vni: number, w1: number, w2: number): number {
    const w = this.#slots;
    let i = hash(this.seed, vni, w1, w2) & this.#mask;
    for (;;) {
      const o = i * WORDS;
      if (w[o] === 0) return -1;
      if (w[o] === vni + 1 && w[o + 1] === w1 && hi16(w[o + 2]!) === w2) return i;
      i = (i + 1) & this.#mask;
    }
  }

  /**
   * Where (vni, MAC) lives, the MAC as its two words (its first four bytes;
   * its last two in the high half): what entry() would say of vtep, port
   * and revision, without building the rest.
   */
  target(vni: number, macHi: number, macLo: number): MappingTarget | undefined {
    const i = this.#find(vni, macHi, macLo);
    if (i < 0) return undefined;
    const w = this.#slots;
    const port = w[i * WORDS + 2]! & 0xffff;
    const t: MappingTarget = { vtep: this.vteps[w[i * WORDS + 3]!]!, revision: this.revision };
    if (port !== 0) t.port = port;
    return t;
  }

  /**
   * The slots as they lie, for a copy made elsewhere without visiting each
   * mapping (the upcall relay's table, src/vpc's AnswerRecords): count
   * records of stride words, the first four [VNI + 1 (0: none), MAC bytes
   * 0-3, MAC bytes 4-5 << 16 | port, index into vteps].  Valid while this
   * table is.
   */
  targetRecords() {
    return { words: this.#slots, count: this.#slots.length / WORDS, stride: WORDS, vteps: this.vteps, revision: Number(this.revision) };
  }

  /** The slot of the mapping that has (vni, ip), or -1. */
  findIp(vni: number, ip: string): number {
    const iw = this.#ips;
    if (!iw) return -1;
    const aw = addrWords(ip);
    if (!aw) return -1;
    const head = ((vni + 1) | (aw.af6 ? V6 : 0)) >>> 0;
    let j = ipHash(this.seed, head, aw.w) & this.#ipMask;
    for (;;) {
      const q = j * IP_WORDS;
      if (iw[q] === 0) return -1;
      if (iw[q] === head && iw[q + 1] === aw.w[0] && iw[q + 2] === aw.w[1] && iw[q + 3] === aw.w[2] && iw[q + 4] === aw.w[3]) return iw[q + 5]!;
      j = (j + 1) & this.#ipMask;
    }
  }

  /** The mapping that has (vni, ip). */
  getByIp(vni: number, ip: string): Mapping | undefined {
    const i = this.findIp(vni, ip);
    return i < 0 ? undefined : this.entry(i);
  }

  /** Slot i's address of family k (0: IPv4, 1: IPv6), as written in the index. */
  #addrAt(i: number, k: 0 | 1): string | undefined {
    const r = this.#refs ? this.#refs[i * 2 + k]! : 0;
    if (r === 0) return undefined;
    const q = (r - 1) * IP_WORDS;
    const iw = this.#ips!;
    if (k === 0) return format4(iw[q + 1]!);
    const g = g6;
    for (let x = 0; x < 4; x++) {
      g[2 * x] = iw[q + 1 + x]! >>> 16;
      g[2 * x + 1] = iw[q + 1 + x]! & 0xffff;
    }
    return format6(g);
  }

  /** Same addresses in slot i of this table and slot j of other. */
  #sameAddrs(i: number, other: MappingTable, j: number): boolean {
    if (!this.#refs && !other.#refs) return true;
    for (const k of [0, 1] as const) {
      const ra = this.#refs ? this.#refs[i * 2 + k]! : 0;
      const rb = other.#refs ? other.#refs[j * 2 + k]! : 0;
      if ((ra === 0) !== (rb === 0)) return false;
      if (ra === 0) continue;
      const qa = (ra - 1) * IP_WORDS;
      const qb = (rb - 1) * IP_WORDS;
      for (let x = 1; x <= 4; x++) if (this.#ips![qa + x] !== other.#ips![qb + x]) return false;
    }
    return true;
  }

  get(vni: number, mac: string): Mapping | undefined {
    const b = parseMac(mac);
    if (!b) return undefined;
    const i = this.find(vni, b);
    return i < 0 ? undefined : this.entry(i);
  }

  /** Every mapping of one VNI (a scan of the slots: what push mode preloads). */
  ofVni(vni: number): Mapping[] {
    const w = this.#slots;
    const out: Mapping[] = [];
    for (let i = 0, n = w.length / WORDS; i < n; i++) if (w[i * WORDS] === vni + 1) out.push(this.entry(i));
    return out;
  }

  /** The mapping in slot i. */
  entry(i: number): Mapping {
    const w = this.#slots;
    const o = i * WORDS;
    const port = w[o + 2]! & 0xffff;
    const m: Mapping = { vni: w[o]! - 1, mac: this.macAt(i), vtep: this.vteps[w[o + 3]!]!, revision: this.revision };
    if (port !== 0) m.port = port;
    if (this.#refs) {
      const ip = this.#addrAt(i, 0);
      const ip6 = this.#addrAt(i, 1);
      if (ip !== undefined) m.ip = ip;
      if (ip6 !== undefined) m.ip6 = ip6;
    }
    return m;
  }

  macAt(i: number): string {
    const w = this.#slots;
    const o = i * WORDS;
    const a = w[o + 1]!;
    const b = w[o + 2]!;
    return macString([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff, b >>> 24, (b >>> 16) & 0xff]);
  }

  vniAt(i: number): number {
    return this.#slots[i * WORDS]! - 1;
  }

  /** Same VTEP, port and addresses in slot i of this table and slot j of other. */
  sameTarget(i: number, other: MappingTable, j: number): boolean {
    const a = this.#slots;
    const b = other.#slots;
    return (a[i * WORDS + 2]! & 0xffff) === (b[j * WORDS + 2]! & 0xffff) &&
      this.vteps[a[i * WORDS + 3]!] === other.vteps[b[j * WORDS + 3]!] && this.#sameAddrs(i, other, j);
  }

  /** Every occupied slot. */
  *slots(): Generator<number> {
    const w = this.#slots;
    const n = w.length / WORDS;
    for (let i = 0; i < n; i++) if (w[i * WORDS] !== 0) yield i;
  }

  /**
   * What changed from old to fresh: slots of fresh whose mapping is new or
   * moved (another VTEP, port or address), slots of old whose mapping went
   * away.
   */
  static diff(old: MappingTable, fresh: MappingTable): { changed: Uint32Array; removed: Uint32Array } {
    const changed: number[] = [];
    const removed: number[] = [];
    const [a, b] = [fresh.#slots, old.#slots];
    for (const i of fresh.slots()) {
      const o = i * WORDS;
      const j = old.size === 0 ? -1 : old.#find(a[o]! - 1, a[o + 1]!, hi16(a[o + 2]!));
      if (j < 0 || !fresh.sameTarget(i, old, j)) changed.push(i);
    }
    if (old.size > 0) {
      for (const j of old.slots()) {
        const o = j * WORDS;
        if (fresh.#find(b[o]! - 1, b[o + 1]!, hi16(b[o + 2]!)) < 0) removed.push(j);
      }
    }
    return { changed: Uint32Array.from(changed), removed: Uint32Array.from(removed) };
  }

  /** Does any mapping carry an address (is there an address index)? */
  get hasAddresses(): boolean {
    return this.#refs !== null;
  }

  /** Bytes the table takes (its slots and address index; the VTEP strings are few). */
  get bytes(): number {
    return this.#slots.byteLength + (this.#ips?.byteLength ?? 0) + (this.#refs?.byteLength ?? 0);
  }
}
