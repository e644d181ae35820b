// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpcnat: 1:1 external addresses (EIPs) and SNAT for the VMs of a router's
 * subnets, out of a vpclink (docs/nat.md).  A router takes one NAT
 * (Router.setNat); its INTERNET routes lead to it.
 */
import {
  decode, encode, NAT_STATS, sizeOf, VPC_NAT_FLOW_CLOSING, VPC_NAT_FLOW_EST, VPC_OP_NAT_EIP_BIND,
  VPC_OP_NAT_EIP_LIST, VPC_OP_NAT_EIP_UNBIND, VPC_OP_NAT_FLOW_DUMP, VPC_OP_NAT_GET_CONFIG, VPC_OP_NAT_GET_LINK,
  VPC_OP_NAT_GET_STATS, VPC_OP_NAT_GET_UPSTREAM, VPC_OP_NAT_POOL_ADD, VPC_OP_NAT_POOL_DEL, VPC_OP_NAT_SET_CONFIG, VPC_OP_NAT_SET_LINK,
  VPC_OP_NAT_SNAT_BIND, VPC_OP_NAT_SNAT_GET, VPC_OP_NAT_SNAT_UNBIND, VPC_NAT_UPSTREAM_BY_MAC, VPC_NAT_UPSTREAM_NONE,
  VPC_NAT_UPSTREAM_REFRESHING, VPC_NAT_UPSTREAM_RESOLVED, VPC_NAT_UPSTREAM_UNRESOLVED, type NatStats, type StructValues,
} from '../ffi/index.ts';
import { idBytes, idFromBytes, ipBytes, ipString, isNilId, macBytes, macString, newId, VpcArgumentError, type Id } from './ids.ts';
import { ctlGet, ctlList, ctlRaw, ctlSet } from './kernel.ts';
import type { Link } from './link.ts';
import { openHandle, VpcObject, type OpenMode, type TxnOption } from './object.ts';

export type { NatStats } from '../ffi/index.ts';

/** Where translated frames go now (Nat.upstream()). */
export interface NatUpstream {
  /**
   * none: no upstream configured (nothing is sent); by-mac: the configured
   * MAC; by address: unresolved (no answer yet, or expired), resolved, or
   * refreshing (resolved, in use, asked again).
   */
  state: 'none' | 'by-mac' | 'unresolved' | 'resolved' | 'refreshing';
  /** The MAC frames go to now; undefined: none. */
  mac: string | undefined;
  /** The upstream's address, when it is given by address. */
  ip: string | undefined;
  /** Milliseconds since its MAC was learned by ARP (undefined: not learned). */
  learnedMs: number | undefined;
  /** Milliseconds since the last ARP request for it (undefined: none sent). */
  askedMs: number | undefined;
}

const UPSTREAM_STATES: Record<number, NatUpstream['state']> = {
  [VPC_NAT_UPSTREAM_NONE]: 'none', [VPC_NAT_UPSTREAM_BY_MAC]: 'by-mac', [VPC_NAT_UPSTREAM_UNRESOLVED]: 'unresolved',
  [VPC_NAT_UPSTREAM_RESOLVED]: 'resolved', [VPC_NAT_UPSTREAM_REFRESHING]: 'refreshing',
};

export interface NatConfig {
  /** Tracked SNAT flows at most (0: 262144). */
  maxFlows: number;
  /** Idle timeouts, seconds (0: the default). */
  tcpIncipient: number;
  tcpEstablished: number;
  tcpClosing: number;
  udp: number;
  icmp: number;
  /** The outside next hop's MAC; undefined: none (nothing is sent) or by address. */
  upstreamMac: string | undefined;
  /**
   * ...or its IPv4 address, resolved by ARP on the link (the NAT asks from
   * one of its external addresses; unresolved: translated packets dropped
   * and counted as dropUnresolved).  At most one of the two.
   */
  upstreamIp: string | undefined;
  /** Flows now (out only). */
  flows: number;
}

export interface Eip { private: string; external: string }

export interface SnatBinding {
  private: string;
  external: string;
  /** First port (echo id) of its block, per protocol. */
  blocks: { tcp: number; udp: number; icmp: number };
  blockSize: number;
  flows: { tcp: number; udp: number; icmp: number };
  /** Packets dropped for want of a free port, per protocol. */
  exhausted: { tcp: number; udp: number; icmp: number };
}

export interface NatFlow {
  proto: number;
  state: 'open' | 'established' | 'closing';
  private: string; privatePort: number;
  external: string; externalPort: number;
  remote: string; remotePort: number;
  idleMs: number;
}

function v4(addr: string, argument: string): number[] {
  const b = ipBytes(addr, argument);
  if (b.af !== 4) throw new VpcArgumentError(argument, `${argument}: ${addr} is not IPv4 (NAT is IPv4 only)`);
  return b.bytes.slice(0, 4);
}

const trio = (a: ArrayLike<number>): { tcp: number; udp: number; icmp: number } =>
  ({ tcp: a[0] ?? 0, udp: a[1] ?? 0, icmp: a[2] ?? 0 });

export class Nat extends VpcObject {
  readonly type = 'nat' as const;

  static create(id: Id = newId()): Nat {
    return new Nat(openHandle(id, 'nat', 'create'), id);
  }

  static open(id: Id, mode: OpenMode = 'open'): Nat {
    return new Nat(openHandle(id, 'nat', mode), id);
  }

  /** Flow limit, timeouts, upstream (MAC or IPv4 address); what is not given: the default. */
  configure(c: Partial<Omit<NatConfig, 'flows'>>, opts: TxnOption = {}): void {
    if (c.upstreamMac !== undefined && c.upstreamIp !== undefined) {
      throw new VpcArgumentError('upstreamIp', 'upstreamMac and upstreamIp: give the upstream one way, not both');
    }
    ctlSet(this.target('VPC_OP_NAT_SET_CONFIG'), VPC_OP_NAT_SET_CONFIG, {
      struct: 'vpc_nat_config_t',
      value: {
        txn: opts.txn ?? 0, max_flows: c.maxFlows ?? 0, tcp_incipient_s: c.tcpIncipient ?? 0,
        tcp_est_s: c.tcpEstablished ?? 0, tcp_closing_s: c.tcpClosing ?? 0, udp_s: c.udp ?? 0, icmp_s: c.icmp ?? 0,
        upstream_mac: c.upstreamMac === undefined ? [0, 0, 0, 0, 0, 0] : macBytes(c.upstreamMac, 'upstreamMac'),
        upstream_ip: c.upstreamIp === undefined ? [0, 0, 0, 0] : v4(c.upstreamIp, 'upstreamIp'),
      },
    });
  }

  config(): NatConfig {
    const v = ctlGet(this.target('VPC_OP_NAT_GET_CONFIG'), VPC_OP_NAT_GET_CONFIG, 'vpc_nat_config_t');
    return {
      maxFlows: v.max_flows, tcpIncipient: v.tcp_incipient_s, tcpEstablished: v.tcp_est_s,
      tcpClosing: v.tcp_closing_s, udp: v.udp_s, icmp: v.icmp_s,
      upstreamMac: v.upstream_mac.every((b) => b === 0) ? undefined : macString(v.upstream_mac),
      upstreamIp: v.upstream_ip.every((b) => b === 0) ? undefined : ipString(4, v.upstream_ip), flows: v.flows,
    };
  }

  /** The upstream in use now: configured by MAC, or how its resolution by ARP stands. */
  upstream(): NatUpstream {
    const v = ctlGet(this.target('VPC_OP_NAT_GET_UPSTREAM'), VPC_OP_NAT_GET_UPSTREAM, 'vpc_nat_upstream_t');
    const state = UPSTREAM_STATES[v.state];
    if (state === undefined) throw new Error(`NAT_GET_UPSTREAM: unknown state ${v.state}`);
    return {
      state, mac: v.mac.every((b) => b === 0) ? undefined : macString(v.mac),
      ip: v.ip.every((b) => b === 0) ? undefined : ipString(4, v.ip),
      learnedMs: v.learned_ms === 0 ? undefined : v.learned_ms, askedMs: v.asked_ms === 0 ? undefined : v.asked_ms,
    };
  }

  /** The link to send out of (undefined: none).  EBUSY: another NAT uses it. */
  setLink(link: Link | Id | undefined, opts: TxnOption = {}): void {
    const id = link === undefined ? undefined : typeof link === 'string' ? link : link.id;
    ctlSet(this.target('VPC_OP_NAT_SET_LINK'), VPC_OP_NAT_SET_LINK, {
      struct: 'vpc_nat_link_t',
      value: { txn: opts.txn ?? 0, link_id: id === undefined ? new Array<number>(16).fill(0) : Array.from(idBytes(id, 'link')) },
    });
  }

  /** Its link and the router it serves. */
  attachments(): { linkId: Id | undefined; routerId: Id | undefined } {
    const v = ctlGet(this.target('VPC_OP_NAT_GET_LINK'), VPC_OP_NAT_GET_LINK, 'vpc_nat_link_t');
    return {
      linkId: isNilId(v.link_id) ? undefined : idFromBytes(v.link_id),
      routerId: isNilId(v.router_id) ? undefined : idFromBytes(v.router_id),
    };
  }

  bindEip(priv: string, ext: string, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_NAT_EIP_BIND'), VPC_OP_NAT_EIP_BIND,
      { struct: 'vpc_nat_eip_t', value: { txn: opts.txn ?? 0, priv: v4(priv, 'private'), ext: v4(ext, 'external') } });
  }

  unbindEip(priv: string, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_NAT_EIP_UNBIND'), VPC_OP_NAT_EIP_UNBIND,
      { struct: 'vpc_nat_eip_t', value: { txn: opts.txn ?? 0, priv: v4(priv, 'private'), ext: [0, 0, 0, 0] } });
  }

  eips(): Eip[] {
    return ctlList(this.target('VPC_OP_NAT_EIP_LIST'), VPC_OP_NAT_EIP_LIST, 'vpc_nat_eip_t',
      (marker) => encode('vpc_list_req_t', { obj_type: 0, marker }),
      (e) => ((e.priv[0]! << 24) >>> 0) + (e.priv[1]! << 16) + (e.priv[2]! << 8) + e.priv[3]!)
      .map((e) => ({ private: ipString(4, e.priv), external: ipString(4, e.ext) }));
  }

  /** An SNAT address with ports [lo, hi] in blocks of `block` (all absent: 1024-65535 by 1024). */
  addPool(ext: string, ports: { lo?: number; hi?: number; block?: number } = {}, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_NAT_POOL_ADD'), VPC_OP_NAT_POOL_ADD, {
      struct: 'vpc_nat_pool_t',
      value: { txn: opts.txn ?? 0, ext: v4(ext, 'external'), lo: ports.lo ?? 0, hi: ports.hi ?? 0, block: ports.block ?? 0 },
    });
  }

  delPool(ext: string, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_NAT_POOL_DEL'), VPC_OP_NAT_POOL_DEL,
      { struct: 'vpc_nat_pool_t', value: { txn: opts.txn ?? 0, ext: v4(ext, 'external') } });
  }

  bindSnat(priv: string, ext: string, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_NAT_SNAT_BIND'), VPC_OP_NAT_SNAT_BIND,
      { struct: 'vpc_nat_snat_t', value: { txn: opts.txn ?? 0, priv: v4(priv, 'private'), ext: v4(ext, 'external') } });
  }

  unbindSnat(priv: string, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_NAT_SNAT_UNBIND'), VPC_OP_NAT_SNAT_UNBIND,
      { struct: 'vpc_nat_snat_t', value: { txn: opts.txn ?? 0, priv: v4(priv, 'private') } });
  }

  snat(priv: string): SnatBinding {
    const v = ctlGet(this.target('VPC_OP_NAT_SNAT_GET'), VPC_OP_NAT_SNAT_GET, 'vpc_nat_snat_t',
      { struct: 'vpc_nat_snat_t', value: { priv: v4(priv, 'private') } });
    return {
      private: ipString(4, v.priv), external: ipString(4, v.ext), blocks: trio(v.block_lo), blockSize: v.block_size,
      flows: trio(v.flows), exhausted: trio(v.exhausted),
    };
  }

  /** Every SNAT flow, in order of its external key, page by page. */
  flows(page = 256): NatFlow[] {
    const size = sizeOf('vpc_nat_flow_t');
    const out: NatFlow[] = [];
    let after: StructValues['vpc_nat_flow_t'] | undefined;
    for (;;) {
      const key = encode('vpc_nat_flow_req_t', after === undefined ? { resume: 0 } : {
        resume: 1, proto: after.proto, ext: after.ext, remote: after.remote, eport: after.eport, rport: after.rport,
      });
      const buf = ctlRaw(this.target('VPC_OP_NAT_FLOW_DUMP'), VPC_OP_NAT_FLOW_DUMP, key, size * page);
      if (buf.length === 0) return out;
      for (let off = 0; off + size <= buf.length; off += size) {
        const f = decode('vpc_nat_flow_t', buf, off);
        out.push({
          proto: f.proto,
          state: f.state === VPC_NAT_FLOW_EST ? 'established' : f.state === VPC_NAT_FLOW_CLOSING ? 'closing' : 'open',
          private: ipString(4, f.priv), privatePort: f.pport, external: ipString(4, f.ext), externalPort: f.eport,
          remote: ipString(4, f.remote), remotePort: f.rport, idleMs: f.idle_ms,
        });
        after = f;
      }
    }
  }

  stats(): NatStats {
    const c = ctlGet(this.target('VPC_OP_NAT_GET_STATS'), VPC_OP_NAT_GET_STATS, 'vpc_nat_stats_t').c;
    const out = {} as Record<keyof NatStats, number>;
    NAT_STATS.forEach((name, i) => { if (name !== null) out[name] = c[i] ?? 0; });
    return out as NatStats;
  }
}
