// SPDX-License-Identifier: BSD-2-Clause
/**
 * Mapping files of any size, as `vpcctl map` writes them (one mapping a
 * line): n distinct MACs over 64 VNIs, behind 1,000 VTEPs (many VMs per
 * node, as in a real directory).  200,000 entries make ~13 MB.
 */
import { writeFileSync } from 'node:fs';

export const BIG_VNI_BASE = 5000;

export function bigMac(i: number): string {
  const h = (n: number) => n.toString(16).padStart(2, '0');
  return `02:${h((i >>> 24) & 0xff)}:${h((i >>> 16) & 0xff)}:${h((i >>> 8) & 0xff)}:${h(i & 0xff)}:01`;
}

export function bigVtep(i: number, salt = 0): string {
  const n = (i * 7 + salt) % 1000;
  return `10.${(n >> 8) + 1}.${n & 0xff}.${1 + (salt % 200)}`;
}

/** The i-th mapping's addresses (unique within its VNI, and overall). */
export function bigIp(i: number): string {
  return `100.${64 + ((i >>> 16) & 63)}.${(i >>> 8) & 0xff}.${i & 0xff}`;
}

export function bigIp6(i: number): string {
  return `fd00:${((i >>> 16) & 0xffff).toString(16)}::${(i & 0xffff).toString(16)}`;
}

/** addresses: each mapping carries an IPv4 and an IPv6 address too. */
export function bigMappingText(n: number, salt = 0, addresses = false): string {
  const rows = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const m = { vni: BIG_VNI_BASE + (i % 64), mac: bigMac(i), vtep: bigVtep(i, salt) };
    rows[i] = `    ${JSON.stringify(addresses ? { ...m, ip: bigIp(i), ip6: bigIp6(i) } : m)}`;
  }
  return `{\n  "version": 1,\n  "mappings": [\n${rows.join(',\n')}\n  ]\n}\n`;
}

export function writeBigMappingFile(path: string, n: number, salt = 0): number {
  const text = bigMappingText(n, salt);
  writeFileSync(path, text);
  return Buffer.byteLength(text);
}
