// SPDX-License-Identifier: BSD-2-Clause
/**
 * Argument checks for vpcctl: each turns a string into the value the API
 * takes or throws a UsageError naming the argument and the accepted form,
 * before any call is made.
 */
import { cidrParse, ipBytes, isId, isNilId, NIL_ID_REASON, VpcArgumentError } from '../vpc/index.ts';

export class UsageError extends Error {}

function usage(e: unknown): never {
  if (e instanceof VpcArgumentError) throw new UsageError(e.message);
  throw e;
}

export const MAC_RE = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

export function id(name: string) {
  return (v: unknown): string => {
    if (typeof v === 'string' && isNilId(v)) throw new UsageError(`${name}: ${NIL_ID_REASON}`);
    if (typeof v !== 'string' || !isId(v)) throw new UsageError(`${name}: expected a UUID like 3f0c5e4a-9b1d-4c2e-8f6a-1b2c3d4e5f60, got '${String(v)}'`);
    return v.toLowerCase();
  };
}

export function mac(name: string) {
  return (v: unknown): string => {
    if (typeof v !== 'string' || !MAC_RE.test(v)) throw new UsageError(`${name}: expected a MAC address like 02:00:00:00:00:01, got '${String(v)}'`);
    return v.toLowerCase().replace(/-/g, ':');
  };
}

export function unicastMac(name: string) {
  const m = mac(name);
  return (v: unknown): string => {
    const s = m(v);
    const first = parseInt(s.slice(0, 2), 16);
    if ((first & 1) !== 0 || /^(00:){5}00$/.test(s)) throw new UsageError(`${name}: expected a unicast MAC (not multicast, broadcast or zero), got '${s}'`);
    return s;
  };
}

function int(name: string, min: number, max: number, what: string) {
  return (v: unknown): number => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name}: expected ${what} ${min}-${max}, got '${String(v)}'`);
    return n;
  };
}

export const vni = (name = 'vni') => int(name, 0, 0xffffff, 'a VNI (24 bits)');
export const vlan = (name = 'vlan') => int(name, 1, 4094, 'a VLAN id');
export const port = (name = 'port') => int(name, 1, 65535, 'a UDP port');
export const mtu = (name = 'mtu') => int(name, 576, 65535, 'an MTU');
/** A vmnic's MTU: 1280-9000, or 'default' (follow the underlay). */
export function nicMtu(name = '--mtu') {
  const n = int(name, 1280, 9000, "'default' or an MTU");
  return (v: unknown): number | 'default' => (v === 'default' ? 'default' : n(v));
}
export const ms = (name: string) => int(name, 0, 86_400_000, 'milliseconds');
export const count = (name: string) => int(name, 1, 1_000_000_000, 'a count');
export const fwSetId = (name: string) => int(name, 1, 0xffffffff, 'a rule set id');

export function ip(name: string, family?: 4 | 6) {
  return (v: unknown): string => {
    try {
      const b = ipBytes(String(v), name);
      if (family && b.af !== family) throw new UsageError(`${name}: expected an IPv${family} address, got '${String(v)}'`);
      return String(v);
    } catch (e) {
      return usage(e);
    }
  };
}

export function cidr(name: string) {
  return (v: unknown): string => {
    try {
      cidrParse(String(v), name);
      return String(v);
    } catch (e) {
      return usage(e);
    }
  };
}

export function ifname(name: string) {
  return (v: unknown): string => {
    if (typeof v !== 'string' || !/^[A-Za-z0-9_.-]{1,15}$/.test(v)) {
      throw new UsageError(`${name}: expected an interface name of 1-15 characters A-Z a-z 0-9 _ . -, got '${String(v)}'`);
    }
    return v;
  };
}

/** A DHCP classless static route: "CIDR,GATEWAY", e.g. 10.1.0.0/16,203.0.113.254. */
export function dhcpRoute(name: string) {
  return (v: unknown): { destination: string; gateway: string } => {
    const m = typeof v === 'string' ? /^([^,]+),([^,]+)$/.exec(v) : null;
    if (!m) throw new UsageError(`${name}: expected DESTINATION/PREFIX,GATEWAY like 10.1.0.0/16,203.0.113.254, got '${String(v)}'`);
    cidr(name)(m[1]);
    ip(name, 4)(m[2]);
    return { destination: m[1]!, gateway: m[2]! };
  };
}

/** A DHCP lease: seconds, 1 to 2^32-1. */
export const leaseSeconds = (name: string) => int(name, 1, 0xffffffff, 'seconds');

/** Repeatable options come as a string or an array of them. */
export function each<T>(f: (v: unknown) => T) {
  return (v: unknown): T[] => (Array.isArray(v) ? v : [v]).map(f);
}

/** A DHCP domain or host name: 1-63 printable characters, no spaces. */
export function dhcpName(name: string) {
  return (v: unknown): string => {
    if (typeof v !== 'string' || !/^[\x21-\x7e]{1,63}$/.test(v)) {
      throw new UsageError(`${name}: expected 1-63 printable characters without spaces, got '${String(v)}'`);
    }
    return v;
  };
}
