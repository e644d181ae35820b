/**
 * A mapping: where a (VNI, MAC) lives on the underlay.  Revisions order
 * mappings: a CAM entry installed from an older revision never overwrites a
 * newer one.  File directories use the file's modification time in
 * microseconds, etcd its mod_revision; both only grow.
 */
import { ipBytes, isUnicastMacString, macString, parseMac } from './parse.ts';

export interface Mapping {
  vni: number;
  mac: string;
  vtep: string;
  /** VTEP UDP port; absent means 4789. */
  port?: number;
  revision: bigint;
}

export type MappingInput = Omit<Mapping, 'revision'>;

export class MappingError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'MappingError';
  }
}

/** Check and normalise (lowercase MAC, canonical VTEP); throws MappingError. */
export function checkMapping(m: unknown, where = 'mapping'): MappingInput {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) {
    throw new MappingError(where, `${where}: expected an object {vni, mac, vtep[, port]}`);
  }
  const o = m as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['vni', 'mac', 'vtep', 'port'].includes(k)) {
      throw new MappingError(`${where}.${k}`, `${where}.${k}: unknown field (expected vni, mac, vtep, port)`);
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
  return out;
}

export function mappingKey(vni: number, mac: string): string {
  return `${vni}/${mac.toLowerCase()}`;
}
