// SPDX-License-Identifier: BSD-2-Clause
/**
 * Object ids (UUIDs, 16 bytes in RFC 4122 order on the wire) and MAC
 * addresses, parsed strictly: a malformed one never reaches the kernel.
 *
 * What a valid UUID is, is the uuid package's definition (its regex: 8-4-4-4-12
 * hex digits, any case, version 1-8 and the RFC 4122 variant, or the nil or
 * the max UUID); the conversions are done here in one pass, without the
 * package (it costs microseconds a call, and node:crypto at load).
 */
import { zeroedBytes } from '../ffi/bytes.ts';

export type Id = string;

export class VpcArgumentError extends Error {
  constructor(readonly argument: string, message: string) {
    super(message);
    this.name = 'VpcArgumentError';
  }
}

/** A random (version 4) UUID. */
export function newId(): Id {
  return globalThis.crypto.randomUUID();
}

export const NIL_ID = '00000000-0000-0000-0000-000000000000';
export const NIL_ID_REASON = `the nil UUID ${NIL_ID} is reserved (it stands for "no object" in the ABI): give any other UUID`;

/* The value of each hex digit's character code, -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The uuid package's validate(), byte for byte: the bytes a valid UUID string stands for, or null. */
function uuidParse(s: unknown): Uint8Array | null {
  if (typeof s !== 'string' || s.length !== 36) return null;
  if (s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) return null;
  // From the pool: the bytes of an id mostly go straight to vpc_open through koffi.
  const b = zeroedBytes(16);
  let j = 0;
  for (let i = 0; i < 36; i += 2) {
    if (i === 8 || i === 13 || i === 18 || i === 23) i++;   // the dashes, checked above
    const hi = s.charCodeAt(i), lo = s.charCodeAt(i + 1);
    const h = hi < 128 ? HEX[hi]! : -1, l = lo < 128 ? HEX[lo]! : -1;
    if (h < 0 || l < 0) return null;
    b[j++] = (h << 4) | l;
  }
  return uuidBytesValid(b) ? b : null;
}

/** Version 1-8 and variant 10xx, or the nil or the max UUID (what the regex accepts). */
function uuidBytesValid(b: ArrayLike<number>): boolean {
  const version = (b[6]! >> 4) & 0xf;
  if (version >= 1 && version <= 8 && ((b[8]! >> 6) & 3) === 2) return true;
  let all0 = true, all1 = true;
  for (let i = 0; i < 16; i++) {
    if (b[i] !== 0) all0 = false;
    if (b[i] !== 0xff) all1 = false;
  }
  return all0 || all1;
}

/** A UUID that can name an object: well formed, and not the nil UUID. */
export function isId(s: string): boolean {
  return s !== NIL_ID && uuidParse(s) !== null;
}

/** The nil UUID, however it is spelled. */
export function isNilId(s: string | ArrayLike<number>): boolean {
  // No letters in it: no case to fold (toLowerCase made a string per vpc_open).
  if (typeof s === 'string') return s === NIL_ID || s === '00000000000000000000000000000000';
  for (let i = 0; i < s.length; i++) if (s[i] !== 0) return false;
  return true;
}

export function idBytes(id: Id, argument = 'id'): Uint8Array {
  if (typeof id === 'string' && isNilId(id)) throw new VpcArgumentError(argument, `${argument}: ${NIL_ID_REASON}`);
  const b = id !== NIL_ID ? uuidParse(id) : null;
  if (b === null) {
    throw new VpcArgumentError(argument, `${argument}: expected a UUID like 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60, got '${String(id)}'`);
  }
  return b;
}

/** The lowercase string of 16 bytes; a TypeError for bytes no valid UUID has (as uuid's stringify). */
export function idFromBytes(b: ArrayLike<number>): Id {
  const x = Uint8Array.from(b);
  if (x.length < 16 || !uuidBytesValid(x)) throw new TypeError('Stringified UUID is invalid');
  const h = BYTE_HEX;
  return `${h[x[0]!]}${h[x[1]!]}${h[x[2]!]}${h[x[3]!]}-${h[x[4]!]}${h[x[5]!]}-${h[x[6]!]}${h[x[7]!]}-` +
    `${h[x[8]!]}${h[x[9]!]}-${h[x[10]!]}${h[x[11]!]}${h[x[12]!]}${h[x[13]!]}${h[x[14]!]}${h[x[15]!]}`;
}

const MAC_RE = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/** "02:00:00:00:00:01" (or with dashes) to six bytes. */
export function macBytes(mac: string, argument = 'mac'): number[] {
  const m = typeof mac === 'string' ? MAC_RE.exec(mac) : null;
  if (!m) {
    throw new VpcArgumentError(argument, `${argument}: expected a MAC address like 02:00:00:00:00:01, got '${String(mac)}'`);
  }
  return [m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h as string, 16));
}

export function macString(b: ArrayLike<number>): string {
  // Every upcall names two MACs: a table lookup, not six toString/padStart.
  const h = BYTE_HEX;
  if (b.length === 6) return `${h[b[0]!]}:${h[b[1]!]}:${h[b[2]!]}:${h[b[3]!]}:${h[b[4]!]}:${h[b[5]!]}`;
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A unicast MAC that a VM may own (not multicast/broadcast, not zero). */
export function isUnicastMac(b: ArrayLike<number>): boolean {
  return ((b[0] ?? 0) & 1) === 0 && Array.from(b).some((x) => x !== 0);
}

/** An IP address as the ABI carries it: family 4 or 6, 16 bytes. */
export interface IpBytes {
  af: 4 | 6;
  bytes: number[];
}

function v6Groups(s: string): number[] | null {
  const parts = s.split('::');
  if (parts.length > 2) return null;
  const side = (x: string): string[] => (x === '' ? [] : x.split(':'));
  let head = side(parts[0] ?? '');
  let tail = parts.length === 2 ? side(parts[1] ?? '') : [];
  const last = (parts.length === 2 ? tail : head).at(-1);
  const v4: number[] = [];
  if (last !== undefined && last.includes('.')) {
    const b = parseIPv4(last);
    if (!b) return null;
    v4.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    if (parts.length === 2) tail = tail.slice(0, -1);
    else head = head.slice(0, -1);
  }
  const groups = [...head, ...tail].map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
  if (groups.some(Number.isNaN)) return null;
  const missing = 8 - groups.length - v4.length;
  if (parts.length === 2 ? missing < 1 : missing !== 0) return null;
  const hn = head.length;
  return [...groups.slice(0, hn), ...new Array<number>(parts.length === 2 ? missing : 0).fill(0), ...groups.slice(hn), ...v4];
}

function parseIPv4(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

/** "198.51.100.7" or "2001:db8::7" to the ABI's form; throws a clear error. */
export function ipBytes(ip: string, argument = 'address'): IpBytes {
  const v4 = typeof ip === 'string' ? parseIPv4(ip) : null;
  if (v4) return { af: 4, bytes: [...v4, ...new Array<number>(12).fill(0)] };
  const g = typeof ip === 'string' ? v6Groups(ip) : null;
  if (g) return { af: 6, bytes: g.flatMap((x) => [x >> 8, x & 0xff]) };
  throw new VpcArgumentError(argument, `${argument}: expected an IPv4 or IPv6 address like 198.51.100.7 or 2001:db8::7, got '${String(ip)}'`);
}

export function ipString(af: number, b: ArrayLike<number>): string {
  const a = Array.from(b);
  if (af === 4) return a.slice(0, 4).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((a[2 * i] ?? 0) << 8) | (a[2 * i + 1] ?? 0));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** "10.0.0.0/24" or "2001:db8::/64". */
export function cidrParse(cidr: string, argument = 'subnet'): IpBytes & { prefix: number } {
  const m = typeof cidr === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(cidr) : null;
  if (!m) throw new VpcArgumentError(argument, `${argument}: expected an address/prefix like 10.0.0.0/24, got '${String(cidr)}'`);
  const ip = ipBytes(m[1] as string, argument);
  const prefix = Number(m[2]);
  if (prefix > (ip.af === 4 ? 32 : 128)) {
    throw new VpcArgumentError(argument, `${argument}: prefix /${prefix} is too long for IPv${ip.af}`);
  }
  return { ...ip, prefix };
}
