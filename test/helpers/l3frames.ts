// SPDX-License-Identifier: BSD-2-Clause
/**
 * Crafted ARP and neighbour solicitation frames for the L3 tests (sent
 * with test/fixtures/frames.py raw), each field settable so a test can
 * spoil exactly one.
 */
import { ipBytes } from '../../src/vpc/index.ts';

const macb = (m: string) => Buffer.from(m.replace(/:/g, ''), 'hex');
const ip4 = (s: string) => Buffer.from(ipBytes(s).bytes.slice(0, 4));
const ip6 = (s: string) => Buffer.from(ipBytes(s).bytes);

export interface ArpSpec {
  src: string;                  // Ethernet source
  dst?: string;                 // Ethernet destination (broadcast)
  htype?: number;
  ptype?: number;
  hlen?: number;
  plen?: number;
  op?: number;                  // 1 request
  sha?: string;                 // default src
  spa: string;
  tha?: string;
  tpa: string;
  /** Cut the frame to this many bytes. */
  truncate?: number;
}

export function arpFrame(a: ArpSpec): Buffer {
  const b = Buffer.alloc(60);
  macb(a.dst ?? 'ff:ff:ff:ff:ff:ff').copy(b, 0);
  macb(a.src).copy(b, 6);
  b.writeUInt16BE(0x0806, 12);
  b.writeUInt16BE(a.htype ?? 1, 14);
  b.writeUInt16BE(a.ptype ?? 0x0800, 16);
  b[18] = a.hlen ?? 6;
  b[19] = a.plen ?? 4;
  b.writeUInt16BE(a.op ?? 1, 20);
  macb(a.sha ?? a.src).copy(b, 22);
  ip4(a.spa).copy(b, 28);
  macb(a.tha ?? '00:00:00:00:00:00').copy(b, 32);
  ip4(a.tpa).copy(b, 38);
  return a.truncate !== undefined ? b.subarray(0, a.truncate) : b;
}

function cksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1]! << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export interface NsSpec {
  src: string;                  // Ethernet source
  ipSrc: string;                // '::' for DAD
  target: string;
  /** IPv6 destination: default the target's solicited-node group. */
  ipDst?: string;
  hlim?: number;
  code?: number;
  type?: number;                // 135 NS (136 for an NA)
  /** Options as raw bytes; default one SLLA option with src (none for DAD). */
  options?: Buffer;
  badChecksum?: boolean;
}

export function solicitedNode(target: string): string {
  const t = ip6(target);
  return `ff02::1:ff${t[13]!.toString(16).padStart(2, '0')}:${t.readUInt16BE(14).toString(16)}`;
}

export function slla(mac: string, len = 1): Buffer {
  const o = Buffer.alloc(Math.max(8, len * 8));
  o[0] = 1;
  o[1] = len;
  macb(mac).copy(o, 2);
  return o;
}

export function nsFrame(n: NsSpec): Buffer {
  const dad = n.ipSrc === '::';
  const opts = n.options ?? (dad ? Buffer.alloc(0) : slla(n.src));
  const dst = ip6(n.ipDst ?? solicitedNode(n.target));
  const icmp = Buffer.alloc(24 + opts.length);
  icmp[0] = n.type ?? 135;
  icmp[1] = n.code ?? 0;
  ip6(n.target).copy(icmp, 8);
  opts.copy(icmp, 24);
  const src = ip6(n.ipSrc);
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  icmp.writeUInt16BE(cksum(Buffer.concat([pseudo, icmp])) ^ (n.badChecksum ? 1 : 0), 2);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(icmp.length, 4);
  ip[6] = 58;
  ip[7] = n.hlim ?? 255;
  src.copy(ip, 8);
  dst.copy(ip, 24);
  const eth = Buffer.alloc(14);
  const emac = dst[0] === 0xff ? Buffer.from([0x33, 0x33, dst[12]!, dst[13]!, dst[14]!, dst[15]!]) : Buffer.from([2, 0, 0, 0, 0, 1]);
  emac.copy(eth, 0);
  macb(n.src).copy(eth, 6);
  eth.writeUInt16BE(0x86dd, 12);
  return Buffer.concat([eth, ip, icmp]);
}
