// SPDX-License-Identifier: BSD-2-Clause
/**
 * The port firewall (security groups): rule sets by id, their rules in a
 * readable grammar and as JSON, the timeouts and limits, a port's flows.
 * docs/firewall.md describes the semantics.
 *
 * Grammar of one rule (words in this order, the optional ones may be left out):
 *
 *   in|out allow|deny [any|tcp|udp|icmp|icmp6|proto N]
 *     [from|to any|CIDR|switch UUID|vni N] [port P[,P-Q]...]
 *     [type T [code C]] [priority N]
 *
 * `from` and `to` both name the remote side (`from` reads naturally for
 * `in`, `to` for `out`).  `port` is the destination port of the flow's
 * first packet: the VM's own for `in`, the remote's for `out`.  Priority
 * defaults to 1000; lower goes first; equal priorities: deny first, then
 * the order given.
 */
import {
  encode, VPC_AF_INET, VPC_AF_INET6, VPC_FW_ALLOW, VPC_FW_DENY, VPC_FW_DIR_IN, VPC_FW_DIR_OUT,
  VPC_FW_PORTS_MAX, VPC_FW_PRIO_MAX, VPC_FW_PROTO_ANY, VPC_FW_PROTO_ICMP, VPC_FW_PROTO_ICMP6,
  VPC_FW_PROTO_NUMBER, VPC_FW_PROTO_TCP, VPC_FW_PROTO_UDP, VPC_FW_R_ICMP_CODE, VPC_FW_R_ICMP_TYPE,
  VPC_FW_REMOTE_ANY, VPC_FW_REMOTE_CIDR, VPC_FW_REMOTE_SWITCH, VPC_FW_REMOTE_VNI, VPC_FW_RULES_MAX,
  VPC_FW_SET_KEEP_ESTABLISHED, VPC_FW_TCP_CLOSED, VPC_FW_TCP_ESTABLISHED, VPC_FW_TCP_FIN_WAIT,
  VPC_FW_TCP_SYN_RCVD, VPC_FW_TCP_SYN_SENT, VPC_FW_TCP_TIME_WAIT, VPC_OP_FW_GET_CONFIG,
  VPC_OP_FW_RULE_DUMP, VPC_OP_FW_SET_CONFIG, VPC_OP_FW_SET_CREATE, VPC_OP_FW_SET_DESTROY,
  VPC_OP_FW_SET_FLUSH, VPC_OP_FW_SET_GET, VPC_OP_FW_SET_LIST, VPC_OP_FW_SET_MODIFY,
  VPC_OP_FW_SET_RULES, type StructValues,
} from '../ffi/index.ts';
import { cidrParse, idBytes, idFromBytes, ipString, VpcArgumentError, type Id } from './ids.ts';
import { ctlGet, ctlList, ctlSet, SYSTEM } from './kernel.ts';
import { checkVni } from './validate.ts';

export type FwDirection = 'in' | 'out';
export type FwAction = 'allow' | 'deny';
export type FwProto = 'any' | 'tcp' | 'udp' | 'icmp' | 'icmp6' | number;
export type FwRemote = 'any' | { cidr: string } | { switch: Id } | { vni: number };

export interface FwRule {
  dir: FwDirection;
  action: FwAction;
  /** 0-65535, lower first (default 1000). */
  priority?: number;
  proto?: FwProto;
  remote?: FwRemote;
  /** Destination ports of the flow's first packet: numbers or [low, high]. */
  ports?: Array<number | [number, number]>;
  icmpType?: number;
  icmpCode?: number;
}

/** A rule as the kernel holds it: in evaluation order, with its hits. */
export interface FwRuleInfo extends Required<Pick<FwRule, 'dir' | 'action' | 'priority' | 'proto' | 'remote'>> {
  ports?: Array<number | [number, number]>;
  icmpType?: number;
  icmpCode?: number;
  /** Flows this rule decided (created or re-evaluated). */
  hits: number;
  /** The rule in the grammar. */
  text: string;
}

export interface FwSetInfo {
  id: number;
  keepEstablished: boolean;
  rules: number;
  ports: number;
  generation: number;
}

export interface FwConfig {
  tcpSynSeconds: number;
  tcpEstablishedSeconds: number;
  tcpFinSeconds: number;
  tcpTimeWaitSeconds: number;
  tcpClosedSeconds: number;
  udpSeconds: number;
  icmpSeconds: number;
  otherSeconds: number;
  maxFlowsPerPort: number;
  maxFlows: number;
}

export interface FwFlow {
  af: 4 | 6;
  proto: number;
  /** Who started it. */
  dir: FwDirection;
  state: string | undefined;
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  vni: number;
  expireMs: number;
  pktsOut: number;
  pktsIn: number;
}

export const FW_DEFAULT_PRIORITY = 1000;

const bad = (what: string, msg: string): VpcArgumentError => new VpcArgumentError(what, `${what}: ${msg}`);

function checkSetId(id: number): number {
  if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) throw bad('set id', `expected an integer 1-4294967295, got ${String(id)}`);
  return id;
}

function int(s: string | undefined, what: string, lo: number, hi: number): number {
  if (s === undefined || !/^\d+$/.test(s)) throw bad(what, `expected a number, got '${String(s)}'`);
  const n = Number(s);
  if (n < lo || n > hi) throw bad(what, `expected ${lo}-${hi}, got ${n}`);
  return n;
}

/** "22,443,8000-8100" */
export function parsePorts(s: string): Array<number | [number, number]> {
  const out = s.split(',').map((p): number | [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(p);
    if (!m) throw bad('port', `expected a port or a range like 8000-8100, got '${p}'`);
    const lo = int(m[1], 'port', 1, 65535);
    if (m[2] === undefined) return lo;
    const hi = int(m[2], 'port', 1, 65535);
    if (hi < lo) throw bad('port', `range ${lo}-${hi} is reversed`);
    return [lo, hi];
  });
  if (out.length > VPC_FW_PORTS_MAX) throw bad('port', `at most ${VPC_FW_PORTS_MAX} ports or ranges per rule`);
  return out;
}

/** One rule in the grammar above. */
export function parseRule(text: string): FwRule {
  const w = text.trim().split(/\s+/);
  let i = 0;
  const next = (): string | undefined => w[i++];
  const dir = next();
  if (dir !== 'in' && dir !== 'out') throw bad('rule', `starts with in or out, got '${String(dir)}' in '${text}'`);
  const action = next();
  if (action !== 'allow' && action !== 'deny') throw bad('rule', `in|out is followed by allow or deny, got '${String(action)}' in '${text}'`);
  const r: FwRule = { dir, action };
  while (i < w.length) {
    const word = next() as string;
    switch (word) {
      case 'any': case 'tcp': case 'udp': case 'icmp': case 'icmp6':
        r.proto = word;
        break;
      case 'proto':
        r.proto = int(next(), 'proto', 0, 254);
        break;
      case 'from': case 'to': {
        const v = next();
        if (v === 'any') r.remote = 'any';
        else if (v === 'switch') r.remote = { switch: idFromBytes(idBytes(next() ?? '', 'switch')) };
        else if (v === 'vni') r.remote = { vni: checkVni(int(next(), 'vni', 0, 0xffffff)) };
        else {
          const c = cidrParse(v ?? '', 'remote');
          r.remote = { cidr: `${ipString(c.af, c.bytes)}/${c.prefix}` };
          checkCidr(r.remote.cidr);
        }
        break;
      }
      case 'port': case 'ports':
        r.ports = parsePorts(next() ?? '');
        break;
      case 'type':
        r.icmpType = int(next(), 'type', 0, 255);
        break;
      case 'code':
        r.icmpCode = int(next(), 'code', 0, 255);
        break;
      case 'priority': case 'prio':
        r.priority = int(next(), 'priority', 0, VPC_FW_PRIO_MAX);
        break;
      default:
        throw bad('rule', `unexpected '${word}' in '${text}'`);
    }
  }
  return r;
}

function checkCidr(cidr: string): void {
  const c = cidrParse(cidr, 'remote');
  for (let b = c.prefix; b < (c.af === 4 ? 32 : 128); b++) {
    if ((c.bytes[b >> 3]! & (0x80 >> (b & 7))) !== 0) throw bad('remote', `${cidr} has host bits set`);
  }
}

function protoText(p: FwProto): string {
  return typeof p === 'number' ? `proto ${p}` : p;
}

/** A rule back in the grammar. */
export function formatRule(r: FwRule): string {
  const parts: string[] = [r.dir, r.action];
  if (r.proto !== undefined && r.proto !== 'any') parts.push(protoText(r.proto));
  const rem = r.remote ?? 'any';
  if (rem !== 'any') {
    parts.push(r.dir === 'in' ? 'from' : 'to');
    parts.push('cidr' in rem ? rem.cidr : 'switch' in rem ? `switch ${rem.switch}` : `vni ${rem.vni}`);
  }
  if (r.ports && r.ports.length > 0) parts.push('port', r.ports.map((p) => (Array.isArray(p) ? `${p[0]}-${p[1]}` : String(p))).join(','));
  if (r.icmpType !== undefined) parts.push('type', String(r.icmpType));
  if (r.icmpCode !== undefined) parts.push('code', String(r.icmpCode));
  parts.push('priority', String(r.priority ?? FW_DEFAULT_PRIORITY));
  return parts.join(' ');
}

const PROTO_NUM: Record<string, number> = { any: VPC_FW_PROTO_ANY, tcp: VPC_FW_PROTO_TCP, udp: VPC_FW_PROTO_UDP, icmp: VPC_FW_PROTO_ICMP, icmp6: VPC_FW_PROTO_ICMP6 };

/** A rule (or its text) as the ABI's struct; checked as the kernel checks it. */
export function ruleStruct(setId: number, rule: FwRule | string): Partial<StructValues['vpc_fw_rule_t']> {
  const r = typeof rule === 'string' ? parseRule(rule) : rule;
  if (r.dir !== 'in' && r.dir !== 'out') throw bad('rule', `dir must be in or out, got ${String(r.dir)}`);
  if (r.action !== 'allow' && r.action !== 'deny') throw bad('rule', `action must be allow or deny, got ${String(r.action)}`);
  const v: Partial<StructValues['vpc_fw_rule_t']> = {
    set_id: checkSetId(setId),
    priority: r.priority ?? FW_DEFAULT_PRIORITY,
    dir: r.dir === 'in' ? VPC_FW_DIR_IN : VPC_FW_DIR_OUT,
    action: r.action === 'allow' ? VPC_FW_ALLOW : VPC_FW_DENY,
  };
  if (!Number.isInteger(v.priority) || v.priority! < 0 || v.priority! > VPC_FW_PRIO_MAX) throw bad('priority', `expected 0-${VPC_FW_PRIO_MAX}, got ${String(r.priority)}`);
  const p = r.proto ?? 'any';
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < 0 || p > 254) throw bad('proto', `expected a protocol number 0-254, got ${p}`);
    v.proto = VPC_FW_PROTO_NUMBER;
    v.proto_num = p;
  } else {
    if (!(p in PROTO_NUM)) throw bad('proto', `unknown protocol '${String(p)}'`);
    v.proto = PROTO_NUM[p];
  }
  if (r.icmpType !== undefined || r.icmpCode !== undefined) {
    if (p !== 'icmp' && p !== 'icmp6') throw bad('rule', 'type and code go with icmp or icmp6');
    if (r.icmpType === undefined) throw bad('rule', 'an ICMP code needs a type');
    v.flags = VPC_FW_R_ICMP_TYPE | (r.icmpCode !== undefined ? VPC_FW_R_ICMP_CODE : 0);
    v.icmp_type = int(String(r.icmpType), 'type', 0, 255);
    v.icmp_code = r.icmpCode === undefined ? 0 : int(String(r.icmpCode), 'code', 0, 255);
  }
  const rem = r.remote ?? 'any';
  if (rem === 'any') v.remote = VPC_FW_REMOTE_ANY;
  else if ('cidr' in rem) {
    checkCidr(rem.cidr);
    const c = cidrParse(rem.cidr, 'remote');
    v.remote = VPC_FW_REMOTE_CIDR;
    v.af = c.af === 4 ? VPC_AF_INET : VPC_AF_INET6;
    v.plen = c.prefix;
    v.addr = c.bytes;
  } else if ('switch' in rem) {
    v.remote = VPC_FW_REMOTE_SWITCH;
    v.switch_id = Array.from(idBytes(rem.switch, 'switch'));
  } else {
    v.remote = VPC_FW_REMOTE_VNI;
    v.vni = checkVni(rem.vni);
  }
  const ports = r.ports ?? [];
  if (ports.length > 0 && p !== 'tcp' && p !== 'udp') throw bad('port', 'ports go with tcp or udp');
  if (ports.length > VPC_FW_PORTS_MAX) throw bad('port', `at most ${VPC_FW_PORTS_MAX} ports or ranges per rule`);
  const lo = new Array<number>(VPC_FW_PORTS_MAX).fill(0), hi = new Array<number>(VPC_FW_PORTS_MAX).fill(0);
  ports.forEach((x, k) => {
    const [a, b] = Array.isArray(x) ? x : [x, x];
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 1 || b > 65535 || a > b) throw bad('port', `bad port or range ${JSON.stringify(x)}`);
    lo[k] = a;
    hi[k] = b;
  });
  v.nports = ports.length;
  v.port_lo = lo;
  v.port_hi = hi;
  return v;
}

function ruleFrom(v: StructValues['vpc_fw_rule_t']): FwRuleInfo {
  const protoNames = ['any', 'tcp', 'udp', 'icmp', 'icmp6'] as const;
  const proto: FwProto = v.proto === VPC_FW_PROTO_NUMBER ? v.proto_num : protoNames[v.proto] ?? 'any';
  const remote: FwRemote = v.remote === VPC_FW_REMOTE_CIDR ? { cidr: `${ipString(v.af === VPC_AF_INET ? 4 : 6, v.addr)}/${v.plen}` }
    : v.remote === VPC_FW_REMOTE_SWITCH ? { switch: idFromBytes(v.switch_id) }
      : v.remote === VPC_FW_REMOTE_VNI ? { vni: v.vni } : 'any';
  const r: FwRuleInfo = {
    dir: v.dir === VPC_FW_DIR_IN ? 'in' : 'out',
    action: v.action === VPC_FW_ALLOW ? 'allow' : 'deny',
    priority: v.priority, proto, remote, hits: v.hits, text: '',
  };
  if (v.nports > 0) r.ports = v.port_lo.slice(0, v.nports).map((lo, k) => (lo === v.port_hi[k] ? lo : [lo, v.port_hi[k]!]));
  if (v.flags & VPC_FW_R_ICMP_TYPE) r.icmpType = v.icmp_type;
  if (v.flags & VPC_FW_R_ICMP_CODE) r.icmpCode = v.icmp_code;
  r.text = formatRule(r);
  return r;
}

function setFrom(v: StructValues['vpc_fw_set_t']): FwSetInfo {
  return { id: v.id, keepEstablished: (v.flags & VPC_FW_SET_KEEP_ESTABLISHED) !== 0, rules: v.nrules, ports: v.nports, generation: v.generation };
}

const ref = (id: number) => ({ struct: 'vpc_fw_set_ref_t' as const, value: { id: checkSetId(id) } });

/** Create a rule set (no rules: inbound denied, outbound allowed); EEXIST if the id is taken. */
export function fwCreateSet(id: number, opts: { keepEstablished?: boolean } = {}): void {
  ctlSet(SYSTEM, VPC_OP_FW_SET_CREATE, { struct: 'vpc_fw_set_t', value: { id: checkSetId(id), flags: opts.keepEstablished ? VPC_FW_SET_KEEP_ESTABLISHED : 0 } });
}

/** EBUSY while a port uses it. */
export function fwDestroySet(id: number): void {
  ctlSet(SYSTEM, VPC_OP_FW_SET_DESTROY, ref(id));
}

/** Replace the set's rules at once (none: flush); existing flows are judged again on their next packet. */
export function fwReplaceRules(id: number, rules: Array<FwRule | string>): void {
  if (rules.length === 0) {
    ctlSet(SYSTEM, VPC_OP_FW_SET_FLUSH, ref(id));
    return;
  }
  if (rules.length > VPC_FW_RULES_MAX) throw bad('rules', `at most ${VPC_FW_RULES_MAX} rules per set, got ${rules.length}`);
  const key = Buffer.concat(rules.map((r) => encode('vpc_fw_rule_t', ruleStruct(id, r) as StructValues['vpc_fw_rule_t'])));
  ctlSet(SYSTEM, VPC_OP_FW_SET_RULES, key);
}

export function fwSetOptions(id: number, opts: { keepEstablished: boolean }): void {
  ctlSet(SYSTEM, VPC_OP_FW_SET_MODIFY, { struct: 'vpc_fw_set_t', value: { id: checkSetId(id), flags: opts.keepEstablished ? VPC_FW_SET_KEEP_ESTABLISHED : 0 } });
}

export function fwGetSet(id: number): FwSetInfo {
  return setFrom(ctlGet(SYSTEM, VPC_OP_FW_SET_GET, 'vpc_fw_set_t', ref(id)));
}

export function fwListSets(): FwSetInfo[] {
  return ctlList(SYSTEM, VPC_OP_FW_SET_LIST, 'vpc_fw_set_t',
    (marker) => encode('vpc_list_req_t', { obj_type: 0, marker }), (v) => v.id).map(setFrom);
}

/** The set's rules in evaluation order, with their hit counters. */
export function fwRules(id: number): FwRuleInfo[] {
  return ctlList(SYSTEM, VPC_OP_FW_RULE_DUMP, 'vpc_fw_rule_t',
    (marker) => encode('vpc_fw_dump_req_t', { id: checkSetId(id), marker }), (v) => v.cursor, 64).map(ruleFrom);
}

/** What `vpcctl fw export` prints and `fw import` reads. */
export interface FwSetJson {
  id: number;
  keepEstablished?: boolean;
  rules: Array<FwRule | string>;
}

export function fwExport(id: number): FwSetJson {
  const s = fwGetSet(id);
  return { id, keepEstablished: s.keepEstablished, rules: fwRules(id).map((r) => r.text) };
}

/** Create the set if it does not exist, then its options and rules. */
export function fwImport(j: FwSetJson): void {
  if (typeof j !== 'object' || j === null || !Array.isArray(j.rules)) throw bad('import', 'expected {"id": N, "rules": [...]}');
  checkSetId(j.id);
  for (const r of j.rules) ruleStruct(j.id, r);     // all checked before anything changes
  if (!fwListSets().some((s) => s.id === j.id)) fwCreateSet(j.id, { keepEstablished: j.keepEstablished ?? false });
  else fwSetOptions(j.id, { keepEstablished: j.keepEstablished ?? false });
  fwReplaceRules(j.id, j.rules);
}

const CONF_FIELDS: Array<[keyof FwConfig, keyof StructValues['vpc_fw_config_t']]> = [
  ['tcpSynSeconds', 'tcp_syn_s'], ['tcpEstablishedSeconds', 'tcp_est_s'], ['tcpFinSeconds', 'tcp_fin_s'],
  ['tcpTimeWaitSeconds', 'tcp_timewait_s'], ['tcpClosedSeconds', 'tcp_closed_s'], ['udpSeconds', 'udp_s'],
  ['icmpSeconds', 'icmp_s'], ['otherSeconds', 'other_s'], ['maxFlowsPerPort', 'max_flows_port'], ['maxFlows', 'max_flows'],
];

/** The timeouts and limits in effect, and how many flows exist. */
export function fwConfig(): FwConfig & { flows: number } {
  const v = ctlGet(SYSTEM, VPC_OP_FW_GET_CONFIG, 'vpc_fw_config_t');
  const out = { flows: v.flows } as FwConfig & { flows: number };
  for (const [k, f] of CONF_FIELDS) out[k] = v[f] as number;
  return out;
}

/** Set timeouts and limits; a field left out goes back to its default. */
export function fwSetConfig(c: Partial<FwConfig>): void {
  const v: Record<string, number> = { flows: 0 };
  for (const [k, f] of CONF_FIELDS) {
    const x = c[k] ?? 0;
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw bad(k, `expected a non-negative integer, got ${String(x)}`);
    v[f] = x;
  }
  ctlSet(SYSTEM, VPC_OP_FW_SET_CONFIG, { struct: 'vpc_fw_config_t', value: v });
}

const STATES: Record<number, string> = {
  [VPC_FW_TCP_SYN_SENT]: 'syn-sent', [VPC_FW_TCP_SYN_RCVD]: 'syn-received', [VPC_FW_TCP_ESTABLISHED]: 'established',
  [VPC_FW_TCP_FIN_WAIT]: 'fin-wait', [VPC_FW_TCP_TIME_WAIT]: 'time-wait', [VPC_FW_TCP_CLOSED]: 'closed',
};

export function flowFrom(v: StructValues['vpc_fw_flow_t']): FwFlow {
  const af = v.af === VPC_AF_INET ? 4 : 6;
  return {
    af, proto: v.proto, dir: v.dir === VPC_FW_DIR_IN ? 'in' : 'out', state: STATES[v.state],
    localIp: ipString(af, v.laddr), localPort: v.lport, remoteIp: ipString(af, v.raddr), remotePort: v.rport,
    vni: v.vni, expireMs: v.expire_ms, pktsOut: v.pkts_out, pktsIn: v.pkts_in,
  };
}

/** A port's sets in a port struct: 0 means none. */
export function fwIdsFrom(ingress: number, egress: number): { ingress?: number; egress?: number } {
  return { ...(ingress !== 0 ? { ingress } : {}), ...(egress !== 0 ? { egress } : {}) };
}

