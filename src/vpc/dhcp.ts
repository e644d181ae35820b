// SPDX-License-Identifier: BSD-2-Clause
/**
 * A vmnic's DHCPv4 service (NIC_SET_DHCP / NIC_GET_DHCP): what the switch
 * tells the VM besides its address (NIC_SET_ADDR), its subnet and gateway
 * (the switch's) and its MTU (the vmnic's).  Checked here with clear errors
 * before the kernel sees it; the kernel checks the same again.
 */
import {
  VPC_DHCP_DNS_MAX, VPC_DHCP_ENABLE, VPC_DHCP_LEASE_DEFAULT, VPC_DHCP_NAME_MAX, VPC_DHCP_ROUTES_MAX,
  type StructValues,
} from '../ffi/index.ts';
import { cidrParse, ipBytes, ipString, VpcArgumentError } from './ids.ts';

/** A classless static route (DHCP option 121, RFC 3442). */
export interface DhcpRoute {
  /** The destination, e.g. "10.1.0.0/16" (no host bits). */
  destination: string;
  /** The router, an IPv4 host address (usually inside the VM's subnet). */
  gateway: string;
}

/** What Nic.setDhcp takes: everything but enabled is optional. */
export interface DhcpOptions {
  /** Answer the VM's DHCP at all (default true). */
  enabled?: boolean;
  /** Lease time in seconds, 1 to 2^32-1 (0xffffffff: infinite); default 86400. */
  leaseSeconds?: number;
  /** DNS servers (option 6), at most 4 IPv4 addresses. */
  dns?: string[];
  /** Domain name (option 15). */
  domain?: string;
  /** Host name (option 12). */
  hostname?: string;
  /** Classless static routes (option 121), at most 8; the default route via the gateway is added. */
  routes?: DhcpRoute[];
}

/** What Nic.dhcp() says: the same, with defaults filled in. */
export interface DhcpConfig {
  enabled: boolean;
  leaseSeconds: number;
  dns: string[];
  domain?: string;
  hostname?: string;
  routes: DhcpRoute[];
}

type DhcpStruct = StructValues['vpc_nic_dhcp_t'];

const NAME_RE = /^[\x21-\x7e]+$/;

function nameBytes(v: string | undefined, argument: string): number[] {
  const b = new Array<number>(VPC_DHCP_NAME_MAX).fill(0);
  if (v === undefined || v === '') return b;
  if (typeof v !== 'string' || !NAME_RE.test(v) || v.length > VPC_DHCP_NAME_MAX - 1) {
    throw new VpcArgumentError(argument, `${argument}: expected 1-${VPC_DHCP_NAME_MAX - 1} printable characters without spaces, got '${String(v)}'`);
  }
  for (let i = 0; i < v.length; i++) b[i] = v.charCodeAt(i);
  return b;
}

function nameString(b: number[]): string | undefined {
  const end = b.indexOf(0);
  const s = String.fromCharCode(...b.slice(0, end < 0 ? b.length : end));
  return s === '' ? undefined : s;
}

/** An IPv4 host address: not 0/8, 127/8, multicast or broadcast. */
function host4(v: string, argument: string): number[] {
  const ip = ipBytes(v, argument);
  const b = ip.bytes.slice(0, 4);
  if (ip.af !== 4 || b[0] === 0 || b[0] === 127 || b[0]! >= 224) {
    throw new VpcArgumentError(argument, `${argument}: expected an IPv4 host address, got '${String(v)}'`);
  }
  return b;
}

export function dhcpEncode(o: DhcpOptions, txn: number): Partial<DhcpStruct> {
  const dns = o.dns ?? [];
  const routes = o.routes ?? [];
  if (!Array.isArray(dns) || dns.length > VPC_DHCP_DNS_MAX) {
    throw new VpcArgumentError('dns', `dns: at most ${VPC_DHCP_DNS_MAX} servers`);
  }
  if (!Array.isArray(routes) || routes.length > VPC_DHCP_ROUTES_MAX) {
    throw new VpcArgumentError('routes', `routes: at most ${VPC_DHCP_ROUTES_MAX}`);
  }
  const lease = o.leaseSeconds ?? 0;
  if (!Number.isInteger(lease) || lease < 0 || lease > 0xffffffff) {
    throw new VpcArgumentError('leaseSeconds', `leaseSeconds: expected 1-4294967295 seconds, got ${String(lease)}`);
  }
  const v: Partial<DhcpStruct> = {
    txn,
    flags: (o.enabled ?? true) ? VPC_DHCP_ENABLE : 0,
    lease_s: lease,
    ndns: dns.length,
    nroutes: routes.length,
    dns: new Array<number>(4 * VPC_DHCP_DNS_MAX).fill(0),
    route_dst: new Array<number>(4 * VPC_DHCP_ROUTES_MAX).fill(0),
    route_gw: new Array<number>(4 * VPC_DHCP_ROUTES_MAX).fill(0),
    route_plen: new Array<number>(VPC_DHCP_ROUTES_MAX).fill(0),
    domain: nameBytes(o.domain, 'domain'),
    hostname: nameBytes(o.hostname, 'hostname'),
  };
  dns.forEach((d, i) => v.dns!.splice(4 * i, 4, ...host4(d, 'dns')));
  routes.forEach((r, i) => {
    const c = cidrParse(r?.destination, 'routes.destination');
    if (c.af !== 4) throw new VpcArgumentError('routes.destination', `routes.destination: expected an IPv4 prefix, got '${r.destination}'`);
    const dst = c.bytes.slice(0, 4);
    const bits = dst.reduce((acc, b) => (acc << 8) | b, 0) >>> 0;
    if (c.prefix < 32 && (bits & (0xffffffff >>> c.prefix)) !== 0) {
      throw new VpcArgumentError('routes.destination', `routes.destination: '${r.destination}' has host bits set`);
    }
    v.route_dst!.splice(4 * i, 4, ...dst);
    v.route_gw!.splice(4 * i, 4, ...host4(r.gateway, 'routes.gateway'));
    v.route_plen![i] = c.prefix;
  });
  return v;
}

export function dhcpDecode(v: DhcpStruct): DhcpConfig {
  const out: DhcpConfig = {
    enabled: (v.flags & VPC_DHCP_ENABLE) !== 0,
    leaseSeconds: v.lease_s === 0 ? VPC_DHCP_LEASE_DEFAULT : v.lease_s,
    dns: Array.from({ length: v.ndns }, (_, i) => ipString(4, v.dns.slice(4 * i, 4 * i + 4))),
    routes: Array.from({ length: v.nroutes }, (_, i) => ({
      destination: `${ipString(4, v.route_dst.slice(4 * i, 4 * i + 4))}/${v.route_plen[i]!}`,
      gateway: ipString(4, v.route_gw.slice(4 * i, 4 * i + 4)),
    })),
  };
  const domain = nameString(v.domain);
  const hostname = nameString(v.hostname);
  if (domain !== undefined) out.domain = domain;
  if (hostname !== undefined) out.hostname = hostname;
  return out;
}
