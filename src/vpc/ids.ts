/**
 * Object ids (UUIDs, 16 bytes in RFC 4122 order on the wire) and MAC
 * addresses, parsed strictly: a malformed one never reaches the kernel.
 */
import { parse as uuidParse, stringify as uuidStringify, v4 as uuidv4, validate as uuidValidate } from 'uuid';

export type Id = string;

export class VpcArgumentError extends Error {
  constructor(readonly argument: string, message: string) {
    super(message);
    this.name = 'VpcArgumentError';
  }
}

export function newId(): Id {
  return uuidv4();
}

export function isId(s: string): boolean {
  return uuidValidate(s) && s !== '00000000-0000-0000-0000-000000000000';
}

export function idBytes(id: Id, argument = 'id'): Uint8Array {
  if (typeof id !== 'string' || !isId(id)) {
    throw new VpcArgumentError(argument, `${argument}: expected a UUID like 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60, got '${String(id)}'`);
  }
  return uuidParse(id);
}

export function idFromBytes(b: ArrayLike<number>): Id {
  return uuidStringify(Uint8Array.from(b));
}

export function isNilId(b: ArrayLike<number>): boolean {
  return Array.from(b).every((x) => x === 0);
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
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A unicast MAC that a VM may own (not multicast/broadcast, not zero). */
export function isUnicastMac(b: ArrayLike<number>): boolean {
  return ((b[0] ?? 0) & 1) === 0 && Array.from(b).some((x) => x !== 0);
}
