// SPDX-License-Identifier: BSD-2-Clause
/**
 * A mapping: where a (VNI, MAC) lives on the underlay, and the VM's IPv4
 * and IPv6 addresses, so the directory answers (VNI, IP) -> MAC as well
 * (an IP has one MAC within a VNI).  Revisions order mappings: a CAM or
 * neighbour entry installed from an older revision never overwrites a newer
 * one.  File directories use the file's modification time in microseconds,
 * etcd its mod_revision; both only grow.
 */
import { addrWords, format4, format6, parse4 } from './addr.ts';
import { ipBytes, isUnicastMacString, macString, parseMac } from './parse.ts';

export interface Mapping {
  vni: number;
  mac: string;
  vtep: string;
  /** VTEP UDP port; absent means 4789. */
  port?: number;
  /** The VM's IPv4 address (canonical form). */
  ip?: string;
  /** The VM's IPv6 address (canonical form, RFC 5952). */
  ip6?: string;
  revision: bigint;
}

export type MappingInput = Omit<Mapping, 'revision'>;

/** Where a MAC lives: what an answer to an L2 miss needs of its mapping. */
export type MappingTarget = Pick<Mapping, 'vtep' | 'port' | 'revision'>;

export class MappingError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'MappingError';
  }
}

/** A second MAC for an IP of a VNI: refused. */
export class MappingConflictError extends Error {
  readonly code = 'EADDRINUSE';
  constructor(readonly vni: number, readonly ip: string, readonly owner: string, where?: string) {
    super(`VNI ${vni} IP ${ip} is already mapped to MAC ${owner}${where ? ` in ${where}` : ''}: an IP has one MAC within a VNI (move it: del or set that mapping first)`);
    this.name = 'MappingConflictError';
  }
}

/**
 * A VM's address as the directory keeps it: canonical, a host's (not
 * unspecified, loopback, multicast, broadcast, IPv6 link-local or
 * v4-mapped), of the family asked.  undefined: not one.
 */
export function canonicalIp(s: unknown, af: 4 | 6): string | undefined {
  if (typeof s !== 'string') return undefined;
  if (af === 4) {
    const n = parse4(s);
    if (n < 0) return undefined;
    const a0 = Math.floor(n / 16777216);
    return a0 === 0 || a0 === 127 || a0 >= 224 ? undefined : format4(n);
  }
  const w = hostIp6Words(s);
  if (!w) return undefined;
  const [x0, x1, x2, x3] = w;
  const g = new Uint16Array([x0 >>> 16, x0 & 0xffff, x1 >>> 16, x1 & 0xffff, x2 >>> 16, x2 & 0xffff, x3 >>> 16, x3 & 0xffff]);
  return format6(g);
}

/** A VM's IPv6 address (as canonicalIp takes it) as four 32-bit words; undefined: not one. */
export function hostIp6Words(s: string): [number, number, number, number] | undefined {
  const w = s.indexOf(':') >= 0 ? addrWords(s) : undefined;
  if (!w || !w.af6) return undefined;
  const [x0, x1, x2, x3] = w.w;
  if ((x0 | x1 | x2 | x3) === 0 || x0 >>> 24 === 0xff || x0 >>> 22 === 0x3fa) return undefined;    // ::, multicast, fe80::/10
  if ((x0 | x1 | x2) === 0 && x3 === 1) return undefined;                                          // ::1
  if ((x0 | x1) === 0 && x2 === 0xffff) return undefined;                                           // ::ffff:0:0/96
  return w.w;
}

/** The addresses a mapping gives its VNI: ['4/10.0.0.5', '6/2001:db8::5']. */
export function mappingIps(m: { ip?: string; ip6?: string }): string[] {
  const out: string[] = [];
  if (m.ip !== undefined) out.push(m.ip);
  if (m.ip6 !== undefined) out.push(m.ip6);
  return out;
}

export function ipKey(vni: number, ip: string): string {
  return `${vni}/${ip}`;
}

/** Check and normalise (lowercase MAC, canonical VTEP); throws MappingError. */
export function checkMapping(m: unknown, where = 'mapping'): MappingInput {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) {
    throw new MappingError(where, `${where}: expected an object {vni, mac, vtep[, port, ip, ip6]}`);
  }
  const o = m as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['vni', 'mac', 'vtep', 'port', 'ip', 'ip6'].includes(k)) {
      throw new MappingError(`${where}.${k}`, `${where}.${k}: unknown field (expected vni, mac, vtep, port, ip, ip6)`);
    }
  }
  const vni = o.vni;
  if (typeof vni !== 'number' || !Number.isInteger(vni) || vni < 1 || vni > 0xffffff) {
    throw new MappingError(`${where}.vni`, `${where}.vni: expected an integer 1-16777215, got ${JSON.stringify(vni)}`);
  }
  const mac = typeof o.mac === 'string' ? parseMac(o.mac) : null;
  if (!mac || !isUnicastMacString(o.mac as string)) {
    throw new MappingError(`${where}.mac`, `${where}.mac: expected a unicast MAC address like 02:00:00:00:00:01, got ${JSON.stringify(o.mac)}`);
  }
  const ip = typeof o.vtep === 'string' ? ipBytes(o.vtep) : null;
  if (!ip) {
    throw new MappingError(`${where}.vtep`, `${where}.vtep: expected an IPv4 or IPv6 address like 198.51.100.7, got ${JSON.stringify(o.vtep)}`);
  }
  const out: MappingInput = { vni, mac: macString(mac), vtep: o.vtep as string };
  if (o.port !== undefined) {
    if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) {
      throw new MappingError(`${where}.port`, `${where}.port: expected a UDP port 1-65535, got ${JSON.stringify(o.port)}`);
    }
    out.port = o.port;
  }
  if (o.ip !== undefined) {
    const ip = canonicalIp(o.ip, 4);
    if (ip === undefined) {
      throw new MappingError(`${where}.ip`, `${where}.ip: expected the VM's IPv4 address, a host's (like 10.0.0.5), got ${JSON.stringify(o.ip)}`);
    }
    out.ip = ip;
  }
  if (o.ip6 !== undefined) {
    const ip6 = canonicalIp(o.ip6, 6);
    if (ip6 === undefined) {
      throw new MappingError(`${where}.ip6`, `${where}.ip6: expected the VM's IPv6 address, a global or unique-local one (like 2001:db8::5), got ${JSON.stringify(o.ip6)}`);
    }
    out.ip6 = ip6;
  }
  return out;
}

export function mappingKey(vni: number, mac: string): string {
  return `${vni}/${mac.toLowerCase()}`;
}
