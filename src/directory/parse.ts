// SPDX-License-Identifier: BSD-2-Clause
/**
 * Parsing shared by the directory and its users, without the kernel: the
 * directory is also written from machines that run no vpc kernel at all.
 */
import { ipBytes as vpcIpBytes, ipString as vpcIpString, macString as vpcMacString } from '../vpc/ids.ts';

const MAC_RE = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/** A hex digit's value, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

export function parseMac(s: string): number[] | null {
  // Every upcall looks a MAC up: read the 17 characters directly, exactly
  // as MAC_RE would (two hex digits six times, one separator, ':' or '-',
  // throughout); anything that is not a string still goes through it.
  if (typeof s === 'string') {
    if (s.length !== 17) return null;
    const sep = s.charCodeAt(2);
    if (sep !== 58 && sep !== 45) return null;
    const out = new Array<number>(6);
    for (let i = 0; i < 6; i++) {
      const hi = hexDigit(s.charCodeAt(3 * i)), lo = hexDigit(s.charCodeAt(3 * i + 1));
      if (hi < 0 || lo < 0 || (i < 5 && s.charCodeAt(3 * i + 2) !== sep)) return null;
      out[i] = (hi << 4) | lo;
    }
    return out;
  }
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
