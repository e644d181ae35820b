// SPDX-License-Identifier: BSD-2-Clause
/**
 * Fast IPv4/IPv6 address parsing and formatting for the directory's hot
 * paths (a 1,000,000-mapping file has 2,000,000 addresses to check and
 * index): character loops, no regular expressions, no arrays per address.
 * What they do not handle (IPv6 with an embedded IPv4 tail) they leave to
 * the general parser in src/vpc/ids.ts, which gives the same answers.
 */
import { ipBytes } from './parse.ts';

/** An IPv4 address as a 32-bit unsigned number, or -1. */
export function parse4(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return n * 256 + part;
}

export function format4(n: number): string {
  return `${Math.floor(n / 16777216)}.${Math.floor(n / 65536) & 255}.${Math.floor(n / 256) & 255}.${n & 255}`;
}

/**
 * An IPv6 address into g (8 groups); false when it is not one this parser
 * takes (then ask the general parser: it may have an IPv4 tail).
 */
export function parse6(s: string, g: Uint16Array): boolean {
  let gap = -1;
  let n = 0;
  let val = 0;
  let digits = 0;
  let i = 0;
  const len = s.length;
  if (len < 2) return false;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (len === 2) {
      g.fill(0);
      return true;
    }
  }
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else if (c === 58) {
      if (digits === 0) return false;
      if (n === 8) return false;
      g[n++] = val;
      val = 0;
      digits = 0;
      if (i + 1 < len && s.charCodeAt(i + 1) === 58) {
        if (gap >= 0) return false;
        gap = n;
        i++;
        if (i + 1 === len) break;
      } else if (i + 1 === len) return false;
      continue;
    } else return false;
    val = val * 16 + d;
    if (++digits > 4) return false;
  }
  if (digits > 0) {
    if (n === 8) return false;
    g[n++] = val;
  }
  if (gap < 0) return n === 8;
  if (n > 7) return false;
  const tail = n - gap;
  for (let k = 0; k < tail; k++) g[7 - k] = g[n - 1 - k]!;
  for (let k = gap; k < 8 - tail; k++) g[k] = 0;
  return true;
}

/** RFC 5952: lower case, no leading zeros, the longest run (of 2+) of zero groups as ::. */
export function format6(g: Uint16Array): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += g[i]!.toString(16);
  }
  return out;
}

const scratch = new Uint16Array(8);

/**
 * Four 32-bit words of an address (IPv4 in the first), and whether it is
 * IPv6; undefined when it is no address.
 */
export function addrWords(ip: string): { af6: boolean; w: [number, number, number, number] } | undefined {
  if (ip.indexOf(':') < 0) {
    const n = parse4(ip);
    return n < 0 ? undefined : { af6: false, w: [n, 0, 0, 0] };
  }
  const g = scratch;
  if (!parse6(ip, g)) {
    const b = ipBytes(ip);
    if (!b || b.af !== 6) return undefined;
    for (let k = 0; k < 8; k++) g[k] = (b.bytes[2 * k]! << 8) | b.bytes[2 * k + 1]!;
  }
  return { af6: true, w: [((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0, ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0] };
}
