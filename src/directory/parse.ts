// SPDX-License-Identifier: BSD-2-Clause
/**
 * Parsing shared by the directory and its users, without the kernel: the
 * directory is also written from machines that run no vpc kernel at all.
 */
import { ipBytes as vpcIpBytes, ipString as vpcIpString, macString as vpcMacString } from '../vpc/ids.ts';

const MAC_RE = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

export function parseMac(s: string): number[] | null {
  const m = MAC_RE.exec(s);
  return m ? [m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h as string, 16)) : null;
}

export function isUnicastMacString(s: string): boolean {
  const b = parseMac(s);
  return b !== null && ((b[0] ?? 0) & 1) === 0 && b.some((x) => x !== 0);
}

export const macString = vpcMacString;
export const ipString = vpcIpString;

export function ipBytes(s: string): { af: 4 | 6; bytes: number[] } | null {
  try {
    return vpcIpBytes(s);
  } catch {
    return null;
  }
}
