// SPDX-License-Identifier: BSD-2-Clause
/**
 * The relay's table (UpcallStream.openRelayed): (VNI, MAC) -> where that
 * MAC lives, which the relay answers FOUND without waiting for
 * JavaScript.  Whoever keeps it (vpc-agent: its resolver's mappings) puts
 * changes in an AnswerTableChanges and applies them in one call.
 */
import { endianness } from 'node:os';
import { backend, offsetOf, sizeOf, VPC_RELAY_DEL, VPC_RELAY_PUT } from '../ffi/index.ts';
import { vpcError } from './errors.ts';
import { vtepBytes } from './upcall.ts';

const SIZE = sizeOf('vpc_relay_entry_t');
/* The relay reads its entries in the host's byte order. */
const LE = endianness() === 'LE';
const E = {
  vni: offsetOf('vpc_relay_entry_t', 'vni')!,
  mac: offsetOf('vpc_relay_entry_t', 'mac')!,
  op: offsetOf('vpc_relay_entry_t', 'op')!,
  af: offsetOf('vpc_relay_entry_t', 'af')!,
  addr: offsetOf('vpc_relay_entry_t', 'addr')!,
  port: offsetOf('vpc_relay_entry_t', 'udp_port')!,
  revision: offsetOf('vpc_relay_entry_t', 'revision')!,
};
if (E.addr !== E.af + 1) throw new Error('vpc_relay_entry_t: addr must follow af');

/* A VTEP as the entry holds it: its family, then its 16 address bytes (vtepBytes caches the parse). */
function vtepImage(vtep: string): Uint8Array {
  const ip = vtepBytes(vtep);           // throws on a bad one
  const im = new Uint8Array(17);
  im[0] = ip.af;
  im.set(ip.bytes, 1);
  return im;
}

/**
 * Changes to the table, packed as the relay reads them.  A MAC is given as
 * the directory keeps it: its first four bytes big-endian (macHi), its last
 * two in the high half of macLo.
 */
export class AnswerTableChanges {
  #buf: Buffer;
  #view: DataView;
  #n = 0;

  constructor(expected = 16) {
    this.#buf = Buffer.alloc(Math.max(1, expected) * SIZE);
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.length);
  }

  get length(): number {
    return this.#n;
  }

  /** (vni, MAC) lives at vtep (and port, 0 or absent: the VXLAN port); revision goes in the answer. */
  put(vni: number, macHi: number, macLo: number, vtep: string, port: number | undefined, revision: number): void {
    const o = this.#slot(vni, macHi, macLo, VPC_RELAY_PUT);
    this.#buf.set(vtepImage(vtep), o + E.af);
    this.#view.setUint16(o + E.port, port ?? 0, LE);
    this.#view.setUint32(o + E.revision + (LE ? 0 : 4), revision % 0x100000000, LE);
    this.#view.setUint32(o + E.revision + (LE ? 4 : 0), Math.floor(revision / 0x100000000), LE);
  }

  /** The relay no longer answers for (vni, MAC); the agent does. */
  delete(vni: number, macHi: number, macLo: number): void {
    this.#slot(vni, macHi, macLo, VPC_RELAY_DEL);
  }

  #slot(vni: number, macHi: number, macLo: number, op: number): number {
    if (this.#n * SIZE === this.#buf.length) {
      const b = Buffer.alloc(this.#buf.length * 2);
      this.#buf.copy(b);
      this.#buf = b;
      this.#view = new DataView(b.buffer, b.byteOffset, b.length);
    }
    const o = this.#n++ * SIZE;         // zeroed: a fresh buffer, each slot written once
    const b = this.#buf;
    this.#view.setUint32(o + E.vni, vni, LE);
    b[o + E.mac] = macHi >>> 24;
    b[o + E.mac + 1] = (macHi >>> 16) & 0xff;
    b[o + E.mac + 2] = (macHi >>> 8) & 0xff;
    b[o + E.mac + 3] = macHi & 0xff;
    b[o + E.mac + 4] = macLo >>> 24;
    b[o + E.mac + 5] = (macLo >>> 16) & 0xff;
    b[o + E.op] = op;
    return o;
  }

  /** The packed entries (what update() hands the relay). */
  get bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#n * SIZE);
  }
}

/**
 * A directory's mappings as its records lie, the first four words of each
 * [VNI + 1 (0: none), MAC bytes 0-3, MAC bytes 4-5 << 16 | port, index
 * into vteps]; each record's revision in revisions, or revision for all
 * (what src/directory's MappingTable and MappingStore give as
 * targetRecords()).
 */
export interface AnswerRecords {
  words: Uint32Array;
  count: number;
  stride: number;
  vteps: readonly string[];
  revisions?: Float64Array;
  revision?: number;
}

export const AnswerTable = {
  /** Does this kernel have the relay (libvpc on the host kernel)? */
  available(): boolean {
    return backend().relay !== undefined;
  },

  /**
   * The table anew from a directory's records as they lie, read by the
   * relay itself (no entry packed per mapping); on an error nothing changed.
   */
  load(r: AnswerRecords): void {
    const relay = backend().relay;
    if (relay === undefined) return;
    const vteps = new Uint8Array(Math.max(1, r.vteps.length) * 17);
    r.vteps.forEach((v, i) => vteps.set(vtepImage(v), i * 17));
    const e = relay.load(r.words, r.count, r.stride, vteps, r.vteps.length, r.revisions ?? null, r.revision ?? 0);
    if (e !== 0) throw vpcError(e, { op: 'relay table load' });
  },

  /** Apply changes; on an error nothing changed. */
  apply(changes: AnswerTableChanges): void {
    const relay = backend().relay;
    if (relay === undefined) return;
    const e = relay.update(changes.bytes, changes.length);
    if (e !== 0) throw vpcError(e, { op: 'relay table update' });
  },

  /** While paused the relay answers nothing and passes every request on. */
  pause(paused: boolean): void {
    backend().relay?.pause(paused);
  },
};
