// SPDX-License-Identifier: BSD-2-Clause
/**
 * The router (vpcr): attached to switches through their router ports, each
 * attachment's interface the switch's gateway; a route table per router
 * (connected routes come and go with attachments; custom routes to a
 * subnet, a next hop, the internet or nowhere).  docs/router.md.
 */
import {
  encode, ROUTER_STATS, VPC_GW_ADDR4, VPC_GW_ADDR6, VPC_GW_MAC, VPC_OP_RTR_ATTACH, VPC_OP_RTR_DETACH,
  VPC_CTL_MAX_KEYLEN, VPC_OP_RTR_GET_NAT, VPC_OP_RTR_GET_STATS, VPC_OP_RTR_LIST_ATTACH, VPC_OP_RTR_SET_NAT,
  VPC_OP_RTR_ROUTE_DEL, VPC_OP_RTR_ROUTE_DUMP,
  VPC_OP_RTR_ROUTE_GET, VPC_OP_RTR_ROUTE_LOOKUP, VPC_OP_RTR_ROUTE_REPLACE, VPC_OP_RTR_ROUTE_SET,
  VPC_OP_RTR_STAGE_ABORT, VPC_OP_RTR_STAGE_APPEND, VPC_OP_RTR_STAGE_BEGIN, VPC_OP_RTR_STAGE_COMMIT,
  VPC_RT_CONNECTED, VPC_RT_DROP, VPC_RT_F_UNUSABLE, VPC_RT_INTERNET, VPC_RT_NEXTHOP,
  VPC_RT_SUBNET, VPC_RTR_MAX_ATTACH, sizeOf, decode, type RouterStats, type StructValues,
} from '../ffi/index.ts';
import {
  cidrParse, idBytes, idFromBytes, ipBytes, ipString, isNilId, macBytes, macString, newId, VpcArgumentError, type Id,
} from './ids.ts';
import { ctlGet, ctlList, ctlRaw, ctlSet } from './kernel.ts';
import { openHandle, VpcObject, type OpenMode, type TxnOption } from './object.ts';
import type { Switch } from './switch.ts';
import { withTxn } from './txn.ts';

export type { RouterStats } from '../ffi/index.ts';

/** The gateway an attachment sets on its switch; absent: the switch's own. */
export interface AttachGateway {
  ipv4?: string;
  ipv6?: string;
  mac?: string;
}

export interface Attachment {
  switchId: Id;
  vni: number | undefined;
  /** The router's interface there: the switch's gateway. */
  gateway: { mac: string; ipv4: string | undefined; ipv6: string | undefined };
  /** The switch's subnets' prefix lengths (0: none). */
  prefix4: number;
  prefix6: number;
}

export type RouteTarget =
  | { subnet: Id }            /* an attached switch */
  | { nextHop: string }       /* an address in an attached subnet */
  | { internet: true }        /* the router's NAT (setNat): EOPNOTSUPP without one */
  | { drop: true };           /* blackhole: ICMP unreachable */

export type RouteSpec = { destination: string } & RouteTarget;

export interface Route {
  /** "10.9.0.0/16". */
  destination: string;
  target: 'subnet' | 'next-hop' | 'internet' | 'drop';
  /** connected: an attachment's subnet; custom: set by an operator. */
  class: 'connected' | 'custom';
  nextHop: string | undefined;
  /** subnet: the switch named; next hop: the switch whose subnet has it. */
  switchId: Id | undefined;
  /** Its switch is not attached, or no attached subnet has its next hop. */
  unusable: boolean;
  /** Order of creation (ties between routes of one prefix: the older wins). */
  serial: number;
}

const targets: Record<number, Route['target']> = {
  [VPC_RT_SUBNET]: 'subnet', [VPC_RT_NEXTHOP]: 'next-hop', [VPC_RT_INTERNET]: 'internet', [VPC_RT_DROP]: 'drop',
};

const zero16 = (): number[] => new Array<number>(16).fill(0);

/** Routes one ROUTE_REPLACE (or one batch of a staged replace) carries: 910. */
export const ROUTES_PER_CALL = Math.floor(VPC_CTL_MAX_KEYLEN / sizeOf('vpc_rt_route_t'));

export function routeStruct(spec: RouteSpec, txn = 0): StructValues['vpc_rt_route_t'] {
  if (typeof spec !== 'object' || spec === null) throw new VpcArgumentError('route', 'route: expected an object');
  const c = cidrParse(spec.destination, 'destination');
  const out: StructValues['vpc_rt_route_t'] = {
    txn, af: c.af, prefixlen: c.prefix, target: 0, cls: 0, prefix: c.bytes, nexthop: zero16(),
    switch_id: zero16(), flags: 0, serial: 0,
  };
  const given = ['subnet', 'nextHop', 'internet', 'drop'].filter((k) => (spec as Record<string, unknown>)[k] !== undefined);
  if (given.length !== 1) {
    throw new VpcArgumentError('target', 'route: exactly one of subnet, nextHop, internet, drop');
  }
  if ('subnet' in spec && spec.subnet !== undefined) {
    out.target = VPC_RT_SUBNET;
    out.switch_id = Array.from(idBytes(spec.subnet, 'subnet'));
  } else if ('nextHop' in spec && spec.nextHop !== undefined) {
    const nh = ipBytes(spec.nextHop, 'nextHop');
    if (nh.af !== c.af) {
      throw new VpcArgumentError('nextHop', `nextHop: ${spec.nextHop} is not of the destination's family`);
    }
    out.target = VPC_RT_NEXTHOP;
    out.nexthop = nh.bytes;
  } else if ('internet' in spec && spec.internet) {
    out.target = VPC_RT_INTERNET;
  } else if ('drop' in spec && spec.drop) {
    out.target = VPC_RT_DROP;
  } else {
    throw new VpcArgumentError('target', 'route: exactly one of subnet, nextHop, internet, drop');
  }
  return out;
}

export function routeFrom(v: StructValues['vpc_rt_route_t']): Route {
  return {
    destination: `${ipString(v.af as 4 | 6, v.prefix)}/${v.prefixlen}`,
    target: targets[v.target] ?? 'drop',
    class: v.cls === VPC_RT_CONNECTED ? 'connected' : 'custom',
    nextHop: v.target === VPC_RT_NEXTHOP ? ipString(v.af as 4 | 6, v.nexthop) : undefined,
    switchId: isNilId(v.switch_id) ? undefined : idFromBytes(v.switch_id),
    unusable: (v.flags & VPC_RT_F_UNUSABLE) !== 0,
    serial: v.serial,
  };
}

function attachmentFrom(v: StructValues['vpc_rtr_attach_t']): Attachment {
  return {
    switchId: idFromBytes(v.switch_id),
    vni: v.vni === 0xffffffff ? undefined : v.vni,
    gateway: {
      mac: macString(v.mac),
      ipv4: v.flags & VPC_GW_ADDR4 ? ipString(4, v.addr4) : undefined,
      ipv6: v.flags & VPC_GW_ADDR6 ? ipString(6, v.addr6) : undefined,
    },
    prefix4: v.plen4,
    prefix6: v.plen6,
  };
}

/** The route table of one router. */
export class Routes {
  readonly #router: Router;

  constructor(router: Router) {
    this.#router = router;
  }

  /** Add a custom route (EEXIST: the same one is there). */
  set(spec: RouteSpec, opts: TxnOption = {}): void {
    ctlSet(this.#router.opTarget('VPC_OP_RTR_ROUTE_SET'), VPC_OP_RTR_ROUTE_SET,
      { struct: 'vpc_rt_route_t', value: routeStruct(spec, opts.txn ?? 0) });
  }

  /** Delete the custom route with exactly this destination and target (ENOENT otherwise). */
  del(spec: RouteSpec, opts: TxnOption = {}): void {
    ctlSet(this.#router.opTarget('VPC_OP_RTR_ROUTE_DEL'), VPC_OP_RTR_ROUTE_DEL,
      { struct: 'vpc_rt_route_t', value: routeStruct(spec, opts.txn ?? 0) });
  }

  /**
   * Every custom route becomes these, atomically (an empty list: none):
   * readers see the old table or the new one.  Up to ROUTES_PER_CALL in one
   * ROUTE_REPLACE; more (up to VPC_RTR_MAX_ROUTES) through a staged replace
   * (begin, batches, commit), aborted on any error so that nothing changes.
   * EBUSY: another caller is staging a replace of this router.
   */
  replace(specs: RouteSpec[], opts: TxnOption = {}): void {
    const txn = opts.txn ?? 0;
    const structs = specs.map((s) => routeStruct(s));
    if (structs.length <= ROUTES_PER_CALL) {
      if (structs[0] !== undefined) structs[0].txn = txn;
      const key = structs.length > 0 ? Buffer.concat(structs.map((s) => encode('vpc_rt_route_t', s)))
        : encode('vpc_rt_route_t', {
          txn, af: 0, prefixlen: 0, target: 0, cls: 0, prefix: zero16(), nexthop: zero16(),
          switch_id: zero16(), flags: 0, serial: 0,
        });
      ctlRaw(this.#router.opTarget('VPC_OP_RTR_ROUTE_REPLACE'), VPC_OP_RTR_ROUTE_REPLACE, key, 0);
      return;
    }
    this.#staged(structs, txn);
  }

  /* The staged replace: batches of ROUTES_PER_CALL, the first of each naming the stage. */
  #staged(structs: StructValues['vpc_rt_route_t'][], txn: number): void {
    const target = this.#router.opTarget('VPC_OP_RTR_STAGE_BEGIN');
    const { token } = ctlGet(target, VPC_OP_RTR_STAGE_BEGIN, 'vpc_rt_stage_t',
      { struct: 'vpc_rt_stage_t', value: { txn, nroutes: 0, token: 0 } });
    try {
      for (let at = 0; at < structs.length; at += ROUTES_PER_CALL) {
        const batch = structs.slice(at, at + ROUTES_PER_CALL);
        batch[0]!.serial = token;
        ctlGet(target, VPC_OP_RTR_STAGE_APPEND, 'vpc_rt_stage_t',
          Buffer.concat(batch.map((s) => encode('vpc_rt_route_t', s))));
      }
      ctlSet(target, VPC_OP_RTR_STAGE_COMMIT, { struct: 'vpc_rt_stage_t', value: { txn, nroutes: 0, token } });
    } catch (e) {
      try {
        ctlSet(target, VPC_OP_RTR_STAGE_ABORT, { struct: 'vpc_rt_stage_t', value: { txn: 0, nroutes: 0, token } });
      } catch {
        /* nothing left to abort; closing the handle frees a stage anyway */
      }
      throw e;
    }
  }

  /** Every route, connected and custom, in serial order. */
  list(): Route[] {
    return ctlList(this.#router.opTarget('VPC_OP_RTR_ROUTE_DUMP'), VPC_OP_RTR_ROUTE_DUMP, 'vpc_rt_route_t',
      (marker) => encode('vpc_list_req_t', { obj_type: 0, marker }), (r) => r.serial).map(routeFrom);
  }

  /** The route of exactly this destination the router would use (ENOENT: none). */
  get(destination: string): Route {
    const c = cidrParse(destination, 'destination');
    return routeFrom(ctlGet(this.#router.opTarget('VPC_OP_RTR_ROUTE_GET'), VPC_OP_RTR_ROUTE_GET, 'vpc_rt_route_t', {
      struct: 'vpc_rt_route_t', value: { af: c.af, prefixlen: c.prefix, prefix: c.bytes },
    }));
  }

  /** The route an address matches: longest prefix, custom over connected, the older (ENOENT: none). */
  lookup(address: string): Route {
    const a = ipBytes(address, 'address');
    return routeFrom(ctlGet(this.#router.opTarget('VPC_OP_RTR_ROUTE_LOOKUP'), VPC_OP_RTR_ROUTE_LOOKUP,
      'vpc_rt_route_t', { struct: 'vpc_rt_route_t', value: { af: a.af, prefix: a.bytes } }));
  }
}

export class Router extends VpcObject {
  readonly type = 'router' as const;
  readonly routes: Routes = new Routes(this);

  static create(id: Id = newId()): Router {
    return new Router(openHandle(id, 'router', 'create'), id);
  }

  static open(id: Id, mode: OpenMode = 'open'): Router {
    return new Router(openHandle(id, 'router', mode), id);
  }

  /** @internal the target of an op on this router (for Routes). */
  opTarget(op: string): ReturnType<VpcObject['target']> {
    return this.target(op);
  }

  /**
   * Attach a switch through its router port (added, empty, when the switch
   * has none); the gateway given is set on the switch first.  EEXIST: a
   * router is attached there already; EBUSY: a vmnic is plugged into its
   * router port; ENOSPC: VPC_RTR_MAX_ATTACH switches.
   */
  attach(sw: Switch | Id, opts: { gateway?: AttachGateway } & TxnOption = {}): void {
    const swId = typeof sw === 'string' ? sw : sw.id;
    if (typeof sw !== 'string' && !sw.portCount().hasRouter) {
      withTxn(sw, (txn) => {
        if (!sw.portCount().hasRouter) sw.addPort({ kind: 'router' }, { txn });
      });
    }
    const g = opts.gateway ?? {};
    let flags = 0;
    let addr4 = [0, 0, 0, 0];
    let addr6 = zero16();
    let mac = [0, 0, 0, 0, 0, 0];
    if (g.ipv4 !== undefined) {
      const b = ipBytes(g.ipv4, 'gateway.ipv4');
      if (b.af !== 4) throw new VpcArgumentError('gateway.ipv4', `gateway.ipv4: ${g.ipv4} is not IPv4`);
      addr4 = b.bytes.slice(0, 4);
      flags |= VPC_GW_ADDR4;
    }
    if (g.ipv6 !== undefined) {
      const b = ipBytes(g.ipv6, 'gateway.ipv6');
      if (b.af !== 6) throw new VpcArgumentError('gateway.ipv6', `gateway.ipv6: ${g.ipv6} is not IPv6`);
      addr6 = b.bytes;
      flags |= VPC_GW_ADDR6;
    }
    if (g.mac !== undefined) {
      mac = macBytes(g.mac, 'gateway.mac');
      flags |= VPC_GW_MAC;
    }
    ctlSet(this.target('VPC_OP_RTR_ATTACH'), VPC_OP_RTR_ATTACH, {
      struct: 'vpc_rtr_attach_t',
      value: { txn: opts.txn ?? 0, flags, switch_id: Array.from(idBytes(swId, 'switch')), addr4, mac, addr6 },
    });
  }

  /** Detach a switch (ENOENT: not attached here); its router port stays, empty. */
  detach(sw: Switch | Id, opts: TxnOption = {}): void {
    const swId = typeof sw === 'string' ? sw : sw.id;
    ctlSet(this.target('VPC_OP_RTR_DETACH'), VPC_OP_RTR_DETACH, {
      struct: 'vpc_rtr_attach_t', value: { txn: opts.txn ?? 0, switch_id: Array.from(idBytes(swId, 'switch')) },
    });
  }

  attachments(): Attachment[] {
    const size = sizeOf('vpc_rtr_attach_t');
    const buf = ctlRaw(this.target('VPC_OP_RTR_LIST_ATTACH'), VPC_OP_RTR_LIST_ATTACH, null, size * VPC_RTR_MAX_ATTACH);
    const out: Attachment[] = [];
    for (let off = 0; off + size <= buf.length; off += size) out.push(attachmentFrom(decode('vpc_rtr_attach_t', buf, off)));
    return out;
  }

  /**
   * The NAT its INTERNET routes lead to (undefined: detach; EBUSY while
   * INTERNET routes remain).  EEXIST: another NAT is attached; EBUSY: that
   * NAT serves another router.
   */
  setNat(nat: { id: Id } | Id | undefined, opts: TxnOption = {}): void {
    const id = nat === undefined ? undefined : typeof nat === 'string' ? nat : nat.id;
    ctlSet(this.target('VPC_OP_RTR_SET_NAT'), VPC_OP_RTR_SET_NAT, {
      struct: 'vpc_rtr_nat_t',
      value: { txn: opts.txn ?? 0, nat_id: id === undefined ? zero16() : Array.from(idBytes(id, 'nat')) },
    });
  }

  natId(): Id | undefined {
    const v = ctlGet(this.target('VPC_OP_RTR_GET_NAT'), VPC_OP_RTR_GET_NAT, 'vpc_rtr_nat_t');
    return isNilId(v.nat_id) ? undefined : idFromBytes(v.nat_id);
  }

  stats(): RouterStats {
    const c = ctlGet(this.target('VPC_OP_RTR_GET_STATS'), VPC_OP_RTR_GET_STATS, 'vpc_rtr_stats_t').c;
    const out = {} as Record<keyof RouterStats, number>;
    ROUTER_STATS.forEach((name, i) => { if (name !== null) out[name] = c[i] ?? 0; });
    return out as RouterStats;
  }
}

