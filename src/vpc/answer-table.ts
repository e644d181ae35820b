// SPDX-License-Identifier: BSD-2-Clause
/**
 * The relay's table (UpcallStream.openRelayed): (VNI, MAC) -> where that
 * MAC lives, which the relay answers FOUND without waiting for
 * JavaScript.  Whoever keeps it (vpc-agent: its resolver's mappings) puts
 * changes in an AnswerTableChanges and applies them in one call.
 */
import { backend, offsetOf, sizeOf, VPC_RELAY_DEL, VPC_RELAY_PUT } from '../ffi/index.ts';
import { vpcError } from './errors.ts';
import { vtepBytes } from './upcall.ts';

const SIZE = sizeOf('vpc_relay_entry_t');
const E = {
  vni: offsetOf('vpc_relay_entry_t', 'vni')!,
  mac: offsetOf('vpc_relay_entry_t', 'mac')!,
  op: offsetOf('vpc_relay_entry_t', 'op')!,
  af: offsetOf('vpc_relay_entry_t', 'af')!,
  addr: offsetOf('vpc_relay_entry_t', 'addr')!,
  port: offsetOf('vpc_relay_entry_t', 'udp_port')!,
  revision: offsetOf('vpc_relay_entry_t', 'revision')!,
};

/**
 * Changes to the table, packed as the relay reads them.  A MAC is given as
 * the directory keeps it: its first four bytes big-endian (macHi), its last
 * two in the high half of macLo.
 */
export class AnswerTableChanges {
  #buf: Buffer;
  #n = 0;

  constructor(expected = 16) {
    this.#buf = Buffer.alloc(Math.max(1, expected) * SIZE);
  }

  get length(): number {
    return this.#n;
  }

  /** (vni, MAC) lives at vtep (and port, 0 or absent: the VXLAN port); revision goes in the answer. */
  put(vni: number, macHi: number, macLo: number, vtep: string, port: number | undefined, revision: number): void {
    const o = this.#slot(vni, macHi, macLo, VPC_RELAY_PUT);
    const ip = vtepBytes(vtep);
    this.#buf[o + E.af] = ip.af;
    for (let i = 0; i < 16; i++) this.#buf[o + E.addr + i] = ip.bytes[i]!;
    this.#buf.writeUInt16LE(port ?? 0, o + E.port);
    this.#buf.writeBigUInt64LE(BigInt(revision), o + E.revision);
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
    }
    const o = this.#n++ * SIZE;
    this.#buf.fill(0, o, o + SIZE);
    this.#buf.writeUInt32LE(vni, o + E.vni);
    this.#buf.writeUInt32BE(macHi >>> 0, o + E.mac);
    this.#buf[o + E.mac + 4] = macLo >>> 24;
    this.#buf[o + E.mac + 5] = (macLo >>> 16) & 0xff;
    this.#buf[o + E.op] = op;
    return o;
  }

  /** The packed entries (what update() hands the relay). */
  get bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#n * SIZE);
  }
}

export const AnswerTable = {
  /** Does this kernel have the relay (libvpc on the host kernel)? */
  available(): boolean {
    return backend().relay !== undefined;
  },

  /** Apply changes (after emptying the table, with replace); on an error nothing changed. */
  apply(changes: AnswerTableChanges, replace = false): void {
    const relay = backend().relay;
    if (relay === undefined) return;
    const e = relay.update(changes.bytes, changes.length, replace);
    if (e !== 0) throw vpcError(e, { op: 'relay table update' });
  },

  /** While paused the relay answers nothing and passes every request on. */
  pause(paused: boolean): void {
    backend().relay?.pause(paused);
  },
};
