// SPDX-License-Identifier: BSD-2-Clause
/**
 * The vpcsw: a virtual switch carrying one VNI, and its ports (an uplink to
 * the vcc, a router, vmnics).
 */
import {
  encode, sizeOf, VPC_CAM_BATCH_MAX, VPC_FLAG_SWP_DESCRIPTOR, VPC_FLAG_SWP_ROUTER,
  VPC_FLAG_SWP_UPLINK, VPC_FLAG_SWP_VLAN_ID, VPC_FLAG_SWP_VMNIC, VPC_FLAG_SWP_VNI, VPC_OP_SW_ADD_PORT,
  VPC_OP_SW_CAM_DEL, VPC_OP_SW_CAM_DUMP, VPC_OP_SW_CAM_FLUSH, VPC_OP_SW_CAM_GET, VPC_OP_SW_CAM_SET,
  VPC_OP_SW_DEL_PORT, VPC_OP_SW_GET_PORT, VPC_OP_SW_GET_PORT_COUNT, VPC_OP_SW_GET_STATS,
  VPC_OP_SW_GET_SUBNET, VPC_OP_SW_GET_VNI, VPC_OP_SW_LIST_PORTS, VPC_OP_SW_SET_SUBNET,
  VPC_OP_SW_SET_VNI, VPC_VNI_ANY, VPC_VNI_NONE, decode, type StructValues,
  VPC_NBR_BATCH_MAX, VPC_OP_SW_GET_GATEWAY, VPC_OP_SW_GET_POLICY, VPC_OP_SW_NBR_DEL, VPC_OP_SW_NBR_DUMP,
  VPC_OP_SW_NBR_FLUSH, VPC_OP_SW_NBR_GET, VPC_OP_SW_NBR_SET, VPC_OP_SW_SET_GATEWAY, VPC_OP_SW_SET_POLICY,
  VPC_FLAG_SWP_FW_EGRESS, VPC_FLAG_SWP_FW_INGRESS, VPC_OP_SW_FW_FLOWS, VPC_OP_SW_PORT_SET_FW,
} from '../ffi/index.ts';
import { flowFrom, fwIdsFrom, type FwFlow } from './firewall.ts';
import { camEntryFrom, camStruct, type CamEntry, type CamSpec } from './cam.ts';
import {
  gatewayFrom, gatewayStruct, neighbourFrom, neighbourKey, neighbourStruct, policyFrom, policyStruct,
  type GatewayInfo, type GatewaySpec, type NeighbourEntry, type NeighbourSpec, type SwitchPolicy, type SwitchPolicySpec,
} from './neighbour.ts';
import { switchStatsFrom, type SwitchStats } from './counters.ts';
import { VpcStaleError } from './errors.ts';
import {
  cidrParse, idBytes, idFromBytes, ipString, isNilId, macBytes, macString, newId, type Id,
} from './ids.ts';
import { ctlGet, ctlList, ctlRaw, ctlSet } from './kernel.ts';
import { Nic } from './nic.ts';
import { openHandle, VpcObject, type OpenMode, type TxnOption } from './object.ts';
import { checkVlan, checkVni } from './validate.ts';

export type PortKind = 'uplink' | 'router' | 'vmnic';

interface PortCommon {
  /** The port's id; a retried add with the same id meets EEXIST, not a twin. */
  id?: Id;
  vlan?: number;
  vni?: number;
}
export type PortSpec =
  | (PortCommon & { kind: 'uplink'; vcc?: Id })
  | (PortCommon & { kind: 'router'; /** the router's vmnic (until vpcr exists) */ nic?: Id })
  | (PortCommon & {
    kind: 'vmnic'; nic?: Id; mac?: string; descriptor?: boolean;
    /** Rule sets (src/vpc/firewall.ts): the ingress and egress set ids. */
    ingress?: number; egress?: number;
  });

/** A vmnic port's rule sets: an id, or none (left out). */
export interface PortFirewall {
  ingress?: number;
  egress?: number;
}

export interface PortInfo {
  id: Id;
  kind: PortKind;
  vlan: number | undefined;
  vni: number | undefined;
  /** vmnic ports: the vmnic's MAC, once set. */
  mac: string | undefined;
  /** What is plugged in: the vmnic or the vcc. */
  peer: Id | undefined;
  serial: number;
  /** vmnic ports: the rule sets attached (ids), when any. */
  firewall?: PortFirewall;
}

export interface AddedPort extends PortInfo {
  /** With `descriptor: true`: a handle to the port's vmnic. */
  nic?: Nic;
}

export interface SwitchOptions {
  vni?: number;
}

export interface PortCount {
  ports: number;
  vni: number | undefined;
  hasUplink: boolean;
  hasRouter: boolean;
}

function portInfoFrom(v: StructValues['vpc_swport_t']): PortInfo {
  const kind: PortKind = v.flags & VPC_FLAG_SWP_UPLINK ? 'uplink'
    : v.flags & VPC_FLAG_SWP_ROUTER ? 'router' : 'vmnic';
  return {
    id: idFromBytes(v.port_id),
    kind,
    vlan: v.flags & VPC_FLAG_SWP_VLAN_ID ? v.vlan_id : undefined,
    vni: v.flags & VPC_FLAG_SWP_VNI ? v.vni : undefined,
    mac: kind === 'vmnic' && v.smac.some((b) => b !== 0) ? macString(v.smac) : undefined,
    peer: isNilId(v.peer_id) ? undefined : idFromBytes(v.peer_id),
    serial: v.serial,
    ...(v.flags & (VPC_FLAG_SWP_FW_INGRESS | VPC_FLAG_SWP_FW_EGRESS) ? { firewall: fwIdsFrom(v.fw_state_table, v.fw_egress_ruleset) } : {}),
  };
}

function portRequest(spec: PortSpec, txn: number): StructValues['vpc_swport_t'] {
  const kindFlag = { uplink: VPC_FLAG_SWP_UPLINK, router: VPC_FLAG_SWP_ROUTER, vmnic: VPC_FLAG_SWP_VMNIC }[spec.kind];
  if (kindFlag === undefined) throw new TypeError(`port kind must be uplink, router or vmnic, got ${String(spec.kind)}`);
  let flags = kindFlag;
  const req = {
    txn, smac: [0, 0, 0, 0, 0, 0], vni: 0, vlan_id: 0, fw_state_table: 0, fw_egress_ruleset: 0,
    flags: 0, descriptor: -1, port_id: new Array<number>(16).fill(0), peer_id: new Array<number>(16).fill(0), serial: 0,
  };
  if (spec.vlan !== undefined) { req.vlan_id = checkVlan(spec.vlan); flags |= VPC_FLAG_SWP_VLAN_ID; }
  if (spec.vni !== undefined) { req.vni = checkVni(spec.vni); flags |= VPC_FLAG_SWP_VNI; }
  if (spec.id !== undefined) req.port_id = Array.from(idBytes(spec.id, 'port id'));
  if (spec.kind === 'uplink' && spec.vcc !== undefined) req.peer_id = Array.from(idBytes(spec.vcc, 'vcc'));
  if (spec.kind === 'router' && spec.nic !== undefined) req.peer_id = Array.from(idBytes(spec.nic, 'nic'));
  if (spec.kind === 'vmnic') {
    if (spec.nic !== undefined) req.peer_id = Array.from(idBytes(spec.nic, 'nic'));
    if (spec.mac !== undefined) req.smac = macBytes(spec.mac);
    if (spec.descriptor) flags |= VPC_FLAG_SWP_DESCRIPTOR;
    if (spec.ingress !== undefined) { req.fw_state_table = spec.ingress; flags |= VPC_FLAG_SWP_FW_INGRESS; }
    if (spec.egress !== undefined) { req.fw_egress_ruleset = spec.egress; flags |= VPC_FLAG_SWP_FW_EGRESS; }
  }
  req.flags = flags;
  return req;
}

/** A switch's neighbour table: which MAC has an IP (what ARP and NS are answered from). */
export interface Neighbours {
  /** Install entries (batched); entries older than the stored revision lose (counted in stale). */
  set(entries: NeighbourSpec[]): { applied: number; stale: number };
  get(ip: string): NeighbourEntry;
  del(ip: string): void;
  /** Remove every entry but the local vmnics'; returns how many went. */
  flush(): number;
  dump(): NeighbourEntry[];
  /** One page from marker, as Switch.camDumpPage. */
  dumpPage(marker?: number): DumpPage<NeighbourEntry>;
}

/** A page of a table dump: its entries, and the marker of the next page (undefined: this was the last). */
export interface DumpPage<T> {
  entries: T[];
  next: number | undefined;
}

/** Entries asked for per dump call. */
const DUMP_PAGE = 512;

export class Switch extends VpcObject {
  readonly type = 'switch' as const;
  #neighbours: Neighbours | undefined;

  /*
   * Made on first use: a Switch is made for every open, and most never
   * touch the table (six closures a switch, and under tsx a name set on
   * each, were a sixth of what a create-add-close cycle cost in JavaScript).
   */
  get neighbours(): Neighbours {
    return this.#neighbours ??= this.#makeNeighbours();
  }

  #makeNeighbours(): Neighbours {
    return {
      set: (entries) => this.#nbrSet(entries),
      get: (ip) => neighbourFrom(ctlGet(this.target('VPC_OP_SW_NBR_GET'), VPC_OP_SW_NBR_GET, 'vpc_sw_nbr_t',
        { struct: 'vpc_nbr_key_t', value: neighbourKey(ip) })),
      del: (ip) => ctlSet(this.target('VPC_OP_SW_NBR_DEL'), VPC_OP_SW_NBR_DEL, { struct: 'vpc_nbr_key_t', value: neighbourKey(ip) }),
      flush: () => Number(ctlRaw(this.target('VPC_OP_SW_NBR_FLUSH'), VPC_OP_SW_NBR_FLUSH,
        { struct: 'vpc_cam_flush_t', value: { vni: VPC_VNI_ANY, flags: 0 } }, 8).readBigUInt64LE(0)),
      dump: () => this.#dump(VPC_OP_SW_NBR_DUMP, 'vpc_sw_nbr_t', neighbourFrom),
      dumpPage: (marker = 0) => this.#page(VPC_OP_SW_NBR_DUMP, 'vpc_sw_nbr_t', neighbourFrom, marker),
    };
  }

  /** Create a switch, with its VNI if given; EEXIST if the id is taken. */
  static create(id: Id = newId(), opts: SwitchOptions = {}): Switch {
    const vni = opts.vni === undefined ? undefined : checkVni(opts.vni);
    const sw = new Switch(openHandle(id, 'switch', 'create'), id);
    try {
      if (vni !== undefined) sw.setVni(vni);
    } catch (e) {
      sw.close();       // uncommitted: nothing half-made is left behind
      throw e;
    }
    return sw;
  }

  static open(id: Id, mode: OpenMode = 'open'): Switch {
    return new Switch(openHandle(id, 'switch', mode), id);
  }

  /** VNI, or undefined while unset. */
  vni(): number | undefined {
    const v = ctlGet(this.target('VPC_OP_SW_GET_VNI'), VPC_OP_SW_GET_VNI, 'vpc_sw_vni_t');
    return v.vni === VPC_VNI_NONE ? undefined : v.vni;
  }

  setVni(vni: number, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_SW_SET_VNI'), VPC_OP_SW_SET_VNI,
      { struct: 'vpc_sw_vni_t', value: { txn: opts.txn ?? 0, vni: checkVni(vni) } });
  }

  portCount(): PortCount {
    const v = ctlGet(this.target('VPC_OP_SW_GET_PORT_COUNT'), VPC_OP_SW_GET_PORT_COUNT, 'vpc_switch_t');
    return {
      ports: v.num_ports,
      vni: v.vni === VPC_VNI_NONE ? undefined : v.vni,
      hasUplink: v.has_uplink !== 0,
      hasRouter: v.has_router !== 0,
    };
  }

  addPort(spec: PortSpec, opts: TxnOption = {}): AddedPort {
    const req = portRequest(spec, opts.txn ?? 0);
    const res = ctlGet(this.target('VPC_OP_SW_ADD_PORT'), VPC_OP_SW_ADD_PORT, 'vpc_swport_t',
      { struct: 'vpc_swport_t', value: req });
    const info: AddedPort = portInfoFrom(res);
    if (res.flags & VPC_FLAG_SWP_DESCRIPTOR && res.descriptor >= 0 && info.peer) {
      info.nic = Nic.fromHandle(res.descriptor, info.peer);
    }
    return info;
  }

  delPort(portId: Id, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_SW_DEL_PORT'), VPC_OP_SW_DEL_PORT,
      { struct: 'vpc_swport_ref_t', value: { txn: opts.txn ?? 0, port_id: Array.from(idBytes(portId, 'port id')) } });
  }

  port(portId: Id): PortInfo {
    return portInfoFrom(ctlGet(this.target('VPC_OP_SW_GET_PORT'), VPC_OP_SW_GET_PORT, 'vpc_swport_t',
      { struct: 'vpc_swport_ref_t', value: { port_id: Array.from(idBytes(portId, 'port id')) } }));
  }

  ports(): PortInfo[] {
    return ctlList(this.target('VPC_OP_SW_LIST_PORTS'), VPC_OP_SW_LIST_PORTS, 'vpc_swport_t',
      (marker) => encode('vpc_list_req_t', { obj_type: 0, marker }), (p) => p.serial).map(portInfoFrom);
  }

  /**
   * The switch's IPv4 or IPv6 subnet ("10.0.0.0/24"): frames from a vmnic
   * for an address outside it go to the router port.  "/0" clears it.
   */
  setSubnet(cidr: string, opts: TxnOption = {}): void {
    const c = cidrParse(cidr);
    ctlSet(this.target('VPC_OP_SW_SET_SUBNET'), VPC_OP_SW_SET_SUBNET,
      { struct: 'vpc_sw_subnet_t', value: { txn: opts.txn ?? 0, af: c.af, prefixlen: c.prefix, addr: c.prefix === 0 ? new Array<number>(16).fill(0) : c.bytes } });
  }

  /** The subnets set, as CIDR strings. */
  subnets(): string[] {
    return [4, 6].flatMap((af) => {
      const v = ctlGet(this.target('VPC_OP_SW_GET_SUBNET'), VPC_OP_SW_GET_SUBNET, 'vpc_sw_subnet_t',
        { struct: 'vpc_sw_subnet_t', value: { af } });
      return v.prefixlen === 0 ? [] : [`${ipString(af, v.addr)}/${v.prefixlen}`];
    });
  }

  /** Attach a vmnic port's rule sets (a set left out: none; neither: no firewall). */
  setPortFirewall(portId: Id, fw: PortFirewall, opts: TxnOption = {}): void {
    const flags = (fw.ingress !== undefined ? VPC_FLAG_SWP_FW_INGRESS : 0) | (fw.egress !== undefined ? VPC_FLAG_SWP_FW_EGRESS : 0);
    ctlSet(this.target('VPC_OP_SW_PORT_SET_FW'), VPC_OP_SW_PORT_SET_FW, {
      struct: 'vpc_sw_port_fw_t',
      value: { txn: opts.txn ?? 0, flags, port_id: Array.from(idBytes(portId, 'port id')), ingress: fw.ingress ?? 0, egress: fw.egress ?? 0 },
    });
  }

  /** A vmnic port's firewall flows (resumed page by page). */
  portFlows(portId: Id): FwFlow[] {
    const pid = Array.from(idBytes(portId, 'port id'));
    return ctlList(this.target('VPC_OP_SW_FW_FLOWS'), VPC_OP_SW_FW_FLOWS, 'vpc_fw_flow_t',
      (marker) => encode('vpc_fw_flow_req_t', { port_id: pid, marker }), (v) => v.cursor, 1024).map(flowFrom);
  }

  stats(): SwitchStats {
    return switchStatsFrom(ctlGet(this.target('VPC_OP_SW_GET_STATS'), VPC_OP_SW_GET_STATS, 'vpc_sw_stats_t').c);
  }

  /** Install forwarding entries (batched); entries older than the stored revision lose. */
  camSet(entries: CamSpec[]): { applied: number; stale: number } {
    const structs = entries.map(camStruct);
    let applied = 0;
    let stale = 0;
    for (let i = 0; i < structs.length; i += VPC_CAM_BATCH_MAX) {
      const key = Buffer.concat(structs.slice(i, i + VPC_CAM_BATCH_MAX).map((v) => encode('vpc_sw_cam_t', v)));
      const r = ctlGet(this.target('VPC_OP_SW_CAM_SET'), VPC_OP_SW_CAM_SET, 'vpc_cam_set_result_t', key);
      applied += r.applied;
      stale += r.stale;
    }
    return { applied, stale };
  }

  camGet(dst: string, src?: string): CamEntry {
    return camEntryFrom(ctlGet(this.target('VPC_OP_SW_CAM_GET'), VPC_OP_SW_CAM_GET, 'vpc_sw_cam_t',
      { struct: 'vpc_cam_key_t', value: camKey(dst, src) }));
  }

  camDel(dst: string, src?: string): void {
    ctlSet(this.target('VPC_OP_SW_CAM_DEL'), VPC_OP_SW_CAM_DEL, { struct: 'vpc_cam_key_t', value: camKey(dst, src) });
  }

  /** Remove every entry but the local ports'; returns how many went. */
  camFlush(): number {
    const buf = ctlRaw(this.target('VPC_OP_SW_CAM_FLUSH'), VPC_OP_SW_CAM_FLUSH,
      { struct: 'vpc_cam_flush_t', value: { vni: VPC_VNI_ANY, flags: 0 } }, 8);
    return Number(buf.readBigUInt64LE(0));
  }

  /** Every entry; a dump interrupted by the table growing starts over. */
  camDump(): CamEntry[] {
    return this.#dump(VPC_OP_SW_CAM_DUMP, 'vpc_sw_cam_t', camEntryFrom);
  }

  /**
   * One page of the table, from marker (0: the start); next is the marker
   * of the page after it, or undefined when this was the last.  For a
   * caller that reads a big table a page per turn of its event loop:
   * VpcStaleError when the table was resized since the marker was handed
   * out (start again from 0).
   */
  camDumpPage(marker = 0): DumpPage<CamEntry> {
    return this.#page(VPC_OP_SW_CAM_DUMP, 'vpc_sw_cam_t', camEntryFrom, marker);
  }

  #dump<S extends 'vpc_sw_cam_t' | 'vpc_sw_nbr_t', T>(op: number, struct: S, from: (v: StructValues[S]) => T): T[] {
    for (let attempt = 0; ; attempt++) {
      try {
        const out: T[] = [];
        let marker: number | undefined = 0;
        while (marker !== undefined) {
          const page: DumpPage<T> = this.#page(op, struct, from, marker);
          for (const e of page.entries) out.push(e);
          marker = page.next;
        }
        return out;
      } catch (e) {
        if (!(e instanceof VpcStaleError) || attempt >= 5) throw e;
      }
    }
  }

  #page<S extends 'vpc_sw_cam_t' | 'vpc_sw_nbr_t', T>(op: number, struct: S, from: (v: StructValues[S]) => T, marker: number): DumpPage<T> {
    const size = sizeOf(struct);
    const name = op === VPC_OP_SW_CAM_DUMP ? 'VPC_OP_SW_CAM_DUMP' : 'VPC_OP_SW_NBR_DUMP';
    const buf = ctlRaw(this.target(name), op, encode('vpc_list_req_t', { obj_type: 0, marker }), size * DUMP_PAGE);
    const entries: T[] = [];
    let next = marker;
    for (let off = 0; off + size <= buf.length; off += size) {
      const v = decode(struct, buf, off);
      entries.push(from(v));
      next = v.cursor;
    }
    return { entries, next: buf.length === 0 ? undefined : next };
  }

  #nbrSet(entries: NeighbourSpec[]): { applied: number; stale: number } {
    const structs = entries.map(neighbourStruct);
    let applied = 0;
    let stale = 0;
    for (let i = 0; i < structs.length; i += VPC_NBR_BATCH_MAX) {
      const key = Buffer.concat(structs.slice(i, i + VPC_NBR_BATCH_MAX).map((v) => encode('vpc_sw_nbr_t', v)));
      const r = ctlGet(this.target('VPC_OP_SW_NBR_SET'), VPC_OP_SW_NBR_SET, 'vpc_cam_set_result_t', key);
      applied += r.applied;
      stale += r.stale;
    }
    return { applied, stale };
  }

  /**
   * The gateway's addresses and MAC: each one given is set, each absent
   * (or 'default') goes back to the default (the subnet's first host; a
   * MAC derived from the switch's id, the same on every node).
   */
  setGateway(spec: GatewaySpec, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_SW_SET_GATEWAY'), VPC_OP_SW_SET_GATEWAY,
      { struct: 'vpc_sw_gateway_t', value: gatewayStruct(spec, opts.txn ?? 0) });
  }

  gateway(): GatewayInfo {
    return gatewayFrom(ctlGet(this.target('VPC_OP_SW_GET_GATEWAY'), VPC_OP_SW_GET_GATEWAY, 'vpc_sw_gateway_t'));
  }

  /** Broadcast/multicast handling, the per-vmnic upcall rate, router advertisements; absent fields take the defaults. */
  setPolicy(spec: SwitchPolicySpec, opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_SW_SET_POLICY'), VPC_OP_SW_SET_POLICY,
      { struct: 'vpc_sw_policy_t', value: policyStruct(spec, opts.txn ?? 0) });
  }

  /** The policy in force, defaults filled in. */
  policy(): SwitchPolicy {
    return policyFrom(ctlGet(this.target('VPC_OP_SW_GET_POLICY'), VPC_OP_SW_GET_POLICY, 'vpc_sw_policy_t'));
  }
}

function camKey(dst: string, src?: string): { dstmac: number[]; srcmac: number[] } {
  return { dstmac: macBytes(dst, 'dst'), srcmac: src === undefined ? [0, 0, 0, 0, 0, 0] : macBytes(src, 'src') };
}


