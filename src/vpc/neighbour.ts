// SPDX-License-Identifier: BSD-2-Clause
/**
 * The switch's neighbour table (IP -> MAC, what it answers ARP and neighbour
 * solicitations from), its gateway and its broadcast/upcall policy, between
 * the ABI and plain objects.
 */
import {
  VPC_BUM_DROP, VPC_BUM_LOCAL, VPC_CAM_TTL_MAX_MS, VPC_GW_ADDR4, VPC_GW_ADDR6, VPC_GW_MAC, VPC_NBR_F_USED,
  VPC_NBR_FOUND, VPC_NBR_LOCAL, VPC_NBR_NEGATIVE, VPC_RA_OFF, type StructValues,
} from '../ffi/index.ts';
import { idFromBytes, ipBytes, ipString, isNilId, macBytes, macString, VpcArgumentError, type Id } from './ids.ts';

export type NeighbourKind = 'local' | 'found' | 'negative';

/** What a caller installs: an address's MAC, or a known absence. */
export interface NeighbourSpec {
  /** An IPv4 or IPv6 address inside the switch's subnet. */
  ip: string;
  /** found: the MAC that has it. */
  mac?: string;
  kind?: 'found' | 'negative';
  /** 0: static. */
  ttlMs?: number;
  /** The directory revision the mapping came from: older ones lose. */
  revision?: number;
}

export interface NeighbourEntry {
  ip: string;
  kind: NeighbourKind;
  mac: string | undefined;
  /** Milliseconds left; 0 for static entries. */
  ttlMs: number;
  /** local: the vmnic's port. */
  localPort: Id | undefined;
  generation: number;
  revision: number;
  /** A request was answered from it since it was set. */
  used: boolean;
}

const kinds: Record<number, NeighbourKind> = {
  [VPC_NBR_LOCAL]: 'local', [VPC_NBR_FOUND]: 'found', [VPC_NBR_NEGATIVE]: 'negative',
};

function checkTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > VPC_CAM_TTL_MAX_MS) {
    throw new VpcArgumentError('ttl', `ttl: expected whole milliseconds 0-${VPC_CAM_TTL_MAX_MS}, got ${String(ttl)}`);
  }
  return ttl;
}

export function neighbourStruct(spec: NeighbourSpec): Partial<StructValues['vpc_sw_nbr_t']> {
  const kind = spec.kind ?? 'found';
  if (kind !== 'found' && kind !== 'negative') {
    throw new VpcArgumentError('kind', `kind: expected found or negative, got '${String(kind)}'`);
  }
  const ip = ipBytes(spec.ip, 'ip');
  let mac = [0, 0, 0, 0, 0, 0];
  if (kind === 'found') {
    if (spec.mac === undefined) throw new VpcArgumentError('mac', 'mac: a found entry needs the MAC that has the address');
    mac = macBytes(spec.mac, 'mac');
  } else if (spec.mac !== undefined) {
    throw new VpcArgumentError('mac', 'mac: a negative entry has no MAC');
  }
  return {
    af: ip.af, kind: kind === 'found' ? VPC_NBR_FOUND : VPC_NBR_NEGATIVE, mac, addr: ip.bytes,
    ttl_ms: checkTtl(spec.ttlMs ?? 0), revision: spec.revision ?? 0,
  };
}

export function neighbourKey(ip: string): StructValues['vpc_nbr_key_t'] {
  const b = ipBytes(ip, 'ip');
  return { af: b.af, addr: b.bytes };
}

export function neighbourFrom(v: StructValues['vpc_sw_nbr_t']): NeighbourEntry {
  const kind = kinds[v.kind] ?? 'found';
  return {
    ip: ipString(v.af, v.addr),
    kind,
    mac: kind === 'negative' ? undefined : macString(v.mac),
    ttlMs: v.ttl_ms,
    localPort: isNilId(v.port_id) ? undefined : idFromBytes(v.port_id),
    generation: v.generation,
    revision: Number(v.revision),
    used: (v.flags & VPC_NBR_F_USED) !== 0,
  };
}

/** The gateway a switch answers as: what SW_GET_GATEWAY says. */
export interface GatewayInfo {
  /** Its MAC (by default 02:76 and four bytes of the switch's id). */
  mac: string;
  /** IPv4 address, when the switch has an IPv4 subnet. */
  ipv4: string | undefined;
  /** IPv6 address, when the switch has an IPv6 subnet. */
  ipv6: string | undefined;
  /** Its IPv6 link-local address (fe80:: and the MAC's EUI-64). */
  linkLocal: string;
  /** Which of them were set explicitly (the others are the defaults). */
  explicit: { ipv4: boolean; ipv6: boolean; mac: boolean };
}

/** What SW_SET_GATEWAY takes: each absent one (or 'default') goes back to the default. */
export interface GatewaySpec {
  ipv4?: string | 'default';
  ipv6?: string | 'default';
  mac?: string | 'default';
}

export function gatewayStruct(spec: GatewaySpec, txn: number): StructValues['vpc_sw_gateway_t'] {
  const out: StructValues['vpc_sw_gateway_t'] = {
    txn, flags: 0, addr4: [0, 0, 0, 0], mac: [0, 0, 0, 0, 0, 0], has4: 0, has6: 0,
    addr6: new Array<number>(16).fill(0), ll6: new Array<number>(16).fill(0),
  };
  if (spec.ipv4 !== undefined && spec.ipv4 !== 'default') {
    const b = ipBytes(spec.ipv4, 'ipv4');
    if (b.af !== 4) throw new VpcArgumentError('ipv4', `ipv4: expected an IPv4 address, got '${spec.ipv4}'`);
    out.addr4 = b.bytes.slice(0, 4);
    out.flags |= VPC_GW_ADDR4;
  }
  if (spec.ipv6 !== undefined && spec.ipv6 !== 'default') {
    const b = ipBytes(spec.ipv6, 'ipv6');
    if (b.af !== 6) throw new VpcArgumentError('ipv6', `ipv6: expected an IPv6 address, got '${spec.ipv6}'`);
    out.addr6 = b.bytes;
    out.flags |= VPC_GW_ADDR6;
  }
  if (spec.mac !== undefined && spec.mac !== 'default') {
    out.mac = macBytes(spec.mac, 'mac');
    out.flags |= VPC_GW_MAC;
  }
  return out;
}

export function gatewayFrom(v: StructValues['vpc_sw_gateway_t']): GatewayInfo {
  return {
    mac: macString(v.mac),
    ipv4: v.has4 ? ipString(4, v.addr4) : undefined,
    ipv6: v.has6 ? ipString(6, v.addr6) : undefined,
    linkLocal: ipString(6, v.ll6),
    explicit: { ipv4: (v.flags & VPC_GW_ADDR4) !== 0, ipv6: (v.flags & VPC_GW_ADDR6) !== 0, mac: (v.flags & VPC_GW_MAC) !== 0 },
  };
}

export type BumMode = 'local' | 'drop';

/** Broadcast/unknown/multicast handling and the per-vmnic upcall rate. */
export interface SwitchPolicy {
  /** local: broadcast/multicast to the other local ports (the default); drop: dropped and counted. */
  bum: BumMode;
  /** New upcalls (L2 and L3 misses) a vmnic may raise a second. */
  upcallRate: number;
  /** How many it may raise at once. */
  upcallBurst: number;
  /** Seconds between unsolicited router advertisements; 'off': none. */
  raIntervalS: number | 'off';
}

/** What SW_SET_POLICY takes: absent fields take the defaults. */
export type SwitchPolicySpec = Partial<SwitchPolicy>;

function count(v: number | undefined, what: string): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || v < 1 || v > 1_000_000) {
    throw new VpcArgumentError(what, `${what}: expected a whole number 1-1000000, got ${String(v)}`);
  }
  return v;
}

export function policyStruct(spec: SwitchPolicySpec, txn: number): StructValues['vpc_sw_policy_t'] {
  const bum = spec.bum ?? 'local';
  if (bum !== 'local' && bum !== 'drop') throw new VpcArgumentError('bum', `bum: expected local or drop, got '${String(bum)}'`);
  let ra = 0;
  if (spec.raIntervalS === 'off') ra = VPC_RA_OFF;
  else if (spec.raIntervalS !== undefined) {
    if (!Number.isInteger(spec.raIntervalS) || spec.raIntervalS < 4 || spec.raIntervalS > 1800) {
      throw new VpcArgumentError('raIntervalS', `raIntervalS: expected 4-1800 seconds or 'off', got ${String(spec.raIntervalS)}`);
    }
    ra = spec.raIntervalS;
  }
  return {
    txn, bum: bum === 'drop' ? VPC_BUM_DROP : VPC_BUM_LOCAL, upcall_rate: count(spec.upcallRate, 'upcallRate'),
    upcall_burst: count(spec.upcallBurst, 'upcallBurst'), ra_interval_s: ra,
  };
}

export function policyFrom(v: StructValues['vpc_sw_policy_t']): SwitchPolicy {
  return {
    bum: v.bum === VPC_BUM_DROP ? 'drop' : 'local',
    upcallRate: v.upcall_rate,
    upcallBurst: v.upcall_burst,
    raIntervalS: v.ra_interval_s === VPC_RA_OFF ? 'off' : v.ra_interval_s,
  };
}
