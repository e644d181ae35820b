// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/peer: the miss path against its Linux peer, in the same run, on the
 * same topology, measured from outside by the same definitions.
 *
 * Two compute nodes as network namespaces on an underlay bridge, a VM
 * (namespace) on each, three ways:
 *
 *  - linux: on each node a kernel `vxlan` device (nolearning l2miss) under a
 *    Linux bridge with the VM's veth; node 1 runs bench/linux_l2miss_agent.c,
 *    which reads the RTM_GETNEIGH miss notifications on an RTNLGRP_NEIGH
 *    netlink socket and installs NTF_SELF FDB entries with RTM_NEWNEIGH, as
 *    flannel's and libnetwork's agents did;
 *  - vpc: vpc-hostd on each node (test/helpers/overlay.ts), vpc-agent on
 *    node 1 with the file resolver;
 *  - vpc-etcd: the same with the etcd resolver (a real etcd on loopback);
 *  - vpc-b (only when asked for): vpc again, with another build's
 *    vpc-hostd and libvpc.so (PEER_B_BUILD, a kmod build directory, e.g.
 *    of a git worktree at another commit) and/or more agent flags
 *    (PEER_B_AGENT_FLAGS, e.g. --no-relay): a change measured against the
 *    unchanged system in the same run, taking turns, with the ratio b/vpc
 *    printed.  One system's run after the other's cannot tell a change
 *    from the machine's speed moving between them.  Neither set: an A/A
 *    run, which shows the noise itself.
 *
 * Every agent answers from the same 10,002 mappings.  The return path (node
 * 2 to VM 1) is a static entry on node 2 everywhere, so only node 1's miss
 * path is measured.  bench/peer_probe.c does the measuring: the "VM" hands
 * frames to sendto()/sendmmsg() on an AF_PACKET socket, and the same process
 * polls the forwarding table (Linux: RTM_GETNEIGH on the vxlan device; vpc:
 * SW_CAM_GET through libvpc) or watches the installs (Linux: the
 * notifications; vpc: the switch's counters), on one clock.
 *
 * Figures (each for every system, and the ratios; the direction that is
 * better is printed beside each):
 *  a. miss -> entry installed, miss -> first reply (the VM on node 2 answers
 *     ICMP echo; the sender resends every PEER_RESEND_US until a reply, as
 *     an application would, only sooner), p50/p99 over PEER_LAT_N misses;
 *     and the first reply once more with the table not polled at all, since
 *     polling vpc-hostd is work for the very daemon that is measured;
 *  b. the first frame to a new MAC delivered: fraction;
 *  c. 1,000 frames to one new MAC in one burst: notifications/upcalls
 *     raised, frames delivered to the VM on node 2;
 *  d. 10,000 frames to 10,000 new MACs in one burst (sendmmsg): lost
 *     notifications/upcalls, MACs left uninstalled, time until the last
 *     MAC is installed;
 *  e. sustained: PEER_SUSTAINED_MACS (40,000) new MACs offered at rising
 *     rates until one is lost.
 *
 * Systems take turns within every round (PEER_ROUNDS) so that a noisy
 * neighbour hurts each alike.  Needs root.  Knobs (environment):
 * PEER_SYSTEMS=linux,vpc,vpc-etcd (or any of linux,vpc,vpc-etcd,vpc-b)
 * PEER_FIGURES=a,c,d,e  PEER_ROUNDS=3
 * PEER_LAT_N=600  PEER_GAP_MS=5  PEER_RESEND_US=1000  PEER_PROBE_US=100
 * PEER_ONE_MAC_FRAMES=1000  PEER_BURST_MACS=10000  PEER_SUSTAINED_MACS=40000
 * PEER_RATES=5000,10000,15000,20000,30000,40000,60000,80000,120000,160000,240000  PEER_LINUX_RCVBUF=0 (kernel
 * default)  PEER_LINUX_FILTER=1 (BPF filter on the agent's socket)
 * PEER_STALL_SECONDS=3 (figure a's machine line: bench/stall_probe.c spins
 * on every CPU that long before the rounds) PEER_UPCALL_RATE=1000000 (the vpc switch's per-vmnic upcall rate and
 * burst; 0: the switch's default, 1,000/s)  PEER_SAMPLES=FILE (figure a's
 * every sample, in the order taken, written there as JSON: where a tail
 * came from).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDirectory } from '../src/directory/index.ts';
import { startAgent, type AgentProc } from '../test/helpers/agent.ts';
import { EtcdServer } from '../test/helpers/etcd.ts';
import { Lab } from '../test/helpers/lab.ts';
import { Overlay, sleep } from '../test/helpers/overlay.ts';
import { killOnExit, onExit } from '../test/helpers/reaper.ts';
import { buildHelpers, fmt, linkStats, machineStalls, median, quantile, ratio, runProbe, stallsLine } from './probe.ts';

const env = process.env;
const num = (k: string, d: number) => Number(env[k] ?? d);
const ROUNDS = num('PEER_ROUNDS', 3);
const LAT_N = num('PEER_LAT_N', 600);
const GAP_MS = num('PEER_GAP_MS', 5);
const RESEND_US = num('PEER_RESEND_US', 1000);
const PROBE_US = num('PEER_PROBE_US', 100);
const ONE_MAC_FRAMES = num('PEER_ONE_MAC_FRAMES', 1000);
const BURST_MACS = num('PEER_BURST_MACS', 10_000);
// More than twice the kernel's pending cap (VPC_PENDING_MAX, 16,384): a
// rate the agent does not keep up with fills the queue and shows as loss,
// rather than being absorbed by it as 10,000 MACs would be.
const SUSTAINED_MACS = num('PEER_SUSTAINED_MACS', 40_000);
const RATES = (env.PEER_RATES ?? '5000,10000,15000,20000,30000,40000,60000,80000,120000,160000,240000').split(',').map(Number);
const FIGURES = new Set((env.PEER_FIGURES ?? 'a,c,d,e').split(','));
const UPCALL_RATE = num('PEER_UPCALL_RATE', 1_000_000);
const STALL_SECONDS = num('PEER_STALL_SECONDS', 3);
const SYS_NAMES = ['linux', 'vpc', 'vpc-etcd', 'vpc-b'] as const;
const SYSTEMS = (env.PEER_SYSTEMS ?? 'linux,vpc,vpc-etcd').split(',') as SysName[];
const B_BUILD = env.PEER_B_BUILD ? resolve(env.PEER_B_BUILD) : undefined;
const B_AGENT_FLAGS = (env.PEER_B_AGENT_FLAGS ?? '').split(/\s+/).filter(Boolean);

const VNI = 900;
export const PREFIX = '02:bb:00:00:00:00';          /* the burst MACs: 02:bb:00:00:hh:ll */
const NMAPPED = Math.max(BURST_MACS, SUSTAINED_MACS);
const vm1 = { name: 'vm1', mac: '02:00:00:09:00:01', ip: '203.0.113.1' };
const vm2 = { name: 'vm2', mac: '02:00:00:09:00:02', ip: '203.0.113.2' };
const VTEP1 = '198.51.100.1';
const VTEP2 = '198.51.100.2';

type SysName = (typeof SYS_NAMES)[number];

export function mappings(): Array<{ vni: number; mac: string; vtep: string }> {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return [
    { vni: VNI, mac: vm2.mac, vtep: VTEP2 },
    { vni: VNI, mac: vm1.mac, vtep: VTEP1 },
    ...Array.from({ length: NMAPPED }, (_, i) => ({ vni: VNI, mac: `02:bb:00:00:${hex(i >> 8)}:${hex(i & 0xff)}`, vtep: VTEP2 })),
  ];
}

/** One system under test: how the probe reaches it, and its agent's side of the story. */
export interface System {
  name: SysName;
  /** The processes that answer misses on node 1 (bench/profile watches them). */
  pids(): { agent: number; hostd?: number; hostd2?: number };
  probeArgs: string[];
  probeEnv: NodeJS.ProcessEnv;
  vm1Ns: string;
  vm2Ns: string;
  /** Forget every installed entry. */
  flush(): Promise<void>;
  /** What the agent itself counted so far (notifications/upcalls it read). */
  agentRead(): Promise<number>;
  /** Linux only: notifications the agent saw its socket overflow on (ENOBUFS). */
  agentOverflows(): Promise<number>;
  /** vpc only: upcalls the agent's relay thread answered so far (the rest woke JavaScript). */
  relayed?(): Promise<number>;
  close(): Promise<void>;
}

function sysctlNoV6(lab: Lab, ns: string, ifname?: string): void {
  const keys = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
  if (ifname) keys.push(`net.ipv6.conf.${ifname}.disable_ipv6=1`);
  lab.run('sysctl', ['-qw', ...keys], { ns });
}

/* ---- linux ----------------------------------------------------------------------------- */

export class LinuxAgent {
  readonly proc: ChildProcess;
  #lines: string[] = [];
  #waiters: Array<(l: string) => void> = [];

  constructor(lab: Lab, ns: string, bin: string, args: string[]) {
    this.proc = killOnExit(spawn('ip', ['netns', 'exec', lab.ns(ns), bin, ...args], { stdio: ['pipe', 'pipe', 'inherit'] }));
    lab.procs.push(this.proc);
    let partial = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        const w = this.#waiters.shift();
        if (w) w(l);
        else this.#lines.push(l);
      }
    });
  }

  line(): Promise<string> {
    const l = this.#lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((r, reject) => {
      const t = setTimeout(() => reject(new Error('linux_l2miss_agent did not answer')), 30_000);
      this.#waiters.push((x) => { clearTimeout(t); r(x); });
    });
  }

  async cmd(c: string): Promise<string> {
    this.proc.stdin!.write(`${c}\n`);
    return this.line();
  }

  async stats(): Promise<Record<string, number>> {
    return JSON.parse(await this.cmd('stats')) as Record<string, number>;
  }
}

export async function linuxSystem(bins: { probe: string; linuxAgent: string }, tmp: string): Promise<System> {
  const lab = new Lab('pl');
  try {
    lab.addNs('ul', 'n1', 'n2', 'vm1', 'vm2');
    for (const ns of ['ul', 'n1', 'n2', 'vm1', 'vm2']) sysctlNoV6(lab, ns);
    lab.ip('ul', 'link', 'add', 'br0', 'type', 'bridge');
    lab.ip('ul', 'link', 'set', 'br0', 'up');
    for (const [i, vm] of [[1, vm1], [2, vm2]] as const) {
      const n = `n${i}`;
      lab.veth(n, 'u0', 'ul', `b${i}`);
      lab.ip('ul', 'link', 'set', `b${i}`, 'master', 'br0');
      lab.ip(n, 'addr', 'add', `198.51.100.${i}/24`, 'dev', 'u0');
      lab.ip(n, 'link', 'add', 'vxlan0', 'type', 'vxlan', 'id', String(VNI), 'local', `198.51.100.${i}`,
        'dstport', '4789', 'nolearning', 'l2miss', 'dev', 'u0');
      lab.ip(n, 'link', 'add', 'br0', 'type', 'bridge');
      lab.ip(n, 'link', 'set', 'vxlan0', 'master', 'br0');
      lab.veth(n, 'p1', vm.name, vm.name);
      lab.ip(n, 'link', 'set', 'p1', 'master', 'br0');
      lab.ip(n, 'link', 'set', 'vxlan0', 'up');
      lab.ip(n, 'link', 'set', 'br0', 'up');
      lab.ip(vm.name, 'link', 'set', vm.name, 'address', vm.mac);
      lab.ip(vm.name, 'addr', 'add', `${vm.ip}/24`, 'dev', vm.name);
    }
    lab.ip('vm1', 'neigh', 'replace', vm2.ip, 'lladdr', vm2.mac, 'dev', 'vm1', 'nud', 'permanent');
    lab.ip('vm2', 'neigh', 'replace', vm1.ip, 'lladdr', vm1.mac, 'dev', 'vm2', 'nud', 'permanent');
    // The way back: static on node 2, as in the vpc systems.
    lab.run('bridge', ['-n', lab.ns('n2'), 'fdb', 'add', vm1.mac, 'dev', 'vxlan0', 'dst', VTEP1, 'self', 'permanent']);
    const file = join(tmp, 'linux-mappings.txt');
    writeFileSync(file, mappings().map((m) => `${m.mac} ${m.vtep}\n`).join(''));
    const agent = new LinuxAgent(lab, 'n1', bins.linuxAgent, ['vxlan0', file, String(num('PEER_LINUX_RCVBUF', 0)), String(num('PEER_LINUX_FILTER', 1))]);
    if ((await agent.line()) !== 'ready') throw new Error('linux_l2miss_agent did not start');
    return {
      name: 'linux',
      pids: () => ({ agent: agent.proc.pid! }),
      probeArgs: ['--sys', 'linux', '--node-ns', lab.ns('n1'), '--vxlan', 'vxlan0', '--vm-ns', lab.ns('vm1')],
      probeEnv: {},
      vm1Ns: lab.ns('vm1'),
      vm2Ns: lab.ns('vm2'),
      async flush() {
        await agent.cmd('flush');
      },
      async agentRead() {
        return (await agent.stats()).notifications!;
      },
      async agentOverflows() {
        return (await agent.stats()).enobufs!;
      },
      async close() {
        agent.proc.stdin!.end('quit\n');
        await lab.cleanup();
      },
    };
  } catch (e) {
    await lab.cleanup();
    throw e;
  }
}

/* ---- vpc ------------------------------------------------------------------------------- */

export interface VpcSystem extends System {
  /** Start the agent again with these node flags (--cpu-prof, ...), after SIGTERM to the old one; agentFlags replace the system's. */
  restartAgent(nodeArgs: string[], agentFlags?: string[]): Promise<AgentProc>;
  agent(): AgentProc;
  overlay: Overlay;
}

/** agentFlags: more vpc-agent flags; the miss path is what bench/peer measures, so push mode is off unless they say --push. */
export async function vpcSystem(name: 'vpc' | 'vpc-etcd' | 'vpc-b', tmp: string, nodeArgs: string[] = [], agentFlags: string[] = ['--no-push']): Promise<VpcSystem> {
  const b = name === 'vpc-b';
  const ov = new Overlay({ vpc: 'pv', 'vpc-etcd': 'pe', 'vpc-b': 'pb' }[name], VNI, b && B_BUILD ? join(B_BUILD, 'vpc-hostd') : undefined);
  const agentEnv = () => ({ ...ov.env('cn1'), ...(b && B_BUILD ? { VPC_LIBVPC: join(B_BUILD, 'libvpc.so') } : {}) });
  if (b) agentFlags = [...agentFlags, ...B_AGENT_FLAGS];
  const etcd = name === 'vpc-etcd' ? new EtcdServer() : undefined;
  let agent: AgentProc | undefined;
  try {
    await ov.addNode('cn1');
    await ov.addNode('cn2');
    await ov.setup('cn1', [vm1]);
    await ov.setup('cn2', [vm2]);
    for (const vm of [vm1, vm2]) sysctlNoV6(ov.lab, vm.name, vm.name);
    ov.neighbours('vm1', [vm2]);
    ov.neighbours('vm2', [vm1]);
    // A guest's virtio queue holds a burst; the TAP's queue is its stand-in.
    ov.lab.ip('vm1', 'link', 'set', 'vm1', 'txqueuelen', '20000');
    await ov.node.cn2!.call('camSet', { entries: [{ dst: vm1.mac, vtep: VTEP1, ttlMs: 0 }] });
    // The miss path's capacity is what is measured, as Linux's has no such
    // bound: the one VM may raise as many upcalls as it likes (the switch's
    // per-vmnic limit, VPC_UPCALL_RATE_DEFAULT = 1,000/s, would otherwise be
    // what figures d and e measure, as bench/upcall says too).
    if (UPCALL_RATE > 0) await ov.node.cn1!.call('setPolicy', { policy: { upcallRate: UPCALL_RATE, upcallBurst: UPCALL_RATE } });
    let args: string[];
    if (etcd) {
      await etcd.start();
      const dir = openDirectory({ kind: 'etcd', endpoints: [etcd.endpoint] });
      const all = mappings();
      for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((m) => dir.set(m)));
      dir.close();
      args = ['--resolver', 'etcd', '--etcd-endpoints', etcd.endpoint];
    } else {
      const file = join(tmp, 'mappings.json');
      writeFileSync(file, JSON.stringify({ version: 1, mappings: mappings() }));
      args = ['--resolver', 'file', '--mappings', file];
    }
    // info: the agent as it runs in production, not logging every upcall.
    let agentArgs = [...args, '--log-level', 'info', '--ttl', '600000', ...agentFlags];
    agent = await startAgent(agentArgs, agentEnv(), nodeArgs);
    let a = agent;
    return {
      name,
      overlay: ov,
      agent: () => a,
      async restartAgent(flags: string[], newAgentFlags?: string[]) {
        await a.stop('SIGTERM');
        if (newAgentFlags) agentArgs = [...args, '--log-level', 'info', '--ttl', '600000', ...newAgentFlags];
        a = await startAgent(agentArgs, agentEnv(), flags);
        return a;
      },
      // hostd2: node 2's daemon, which delivers what node 1 forwards (bench/profile counts its share).
      pids: () => ({ agent: a.proc.pid!, hostd: ov.hostd.cn1!.pid, hostd2: ov.hostd.cn2!.pid }),
      probeArgs: ['--sys', 'vpc', '--switch', ov.ids.cn1!.switch, '--vm-ns', ov.lab.ns('vm1')],
      probeEnv: { VPC_HOSTD_SOCKET: ov.hostd.cn1!.socket },
      vm1Ns: ov.lab.ns('vm1'),
      vm2Ns: ov.lab.ns('vm2'),
      async flush() {
        await ov.node.cn1!.call('camFlush');
      },
      agentRead: () => a.metric('vpc_agent_upcalls_total'),
      agentOverflows: async () => 0,
      relayed: () => a.metric('vpc_agent_relay_answers_total'),
      async close() {
        await a.stop('SIGKILL');
        await etcd?.stop();
        await ov.close();
      },
    };
  } catch (e) {
    await agent?.stop('SIGKILL');
    await etcd?.stop();
    await ov.close();
    throw e;
  }
}

/* ---- Printing -------------------------------------------------------------------------- */

const out: Record<string, number> = {};
let shown: SysName[] = [];

function header(title: string, better: string): void {
  const cols = shown.map((s) => s.padStart(10)).join('');
  const ratios = [shown.includes('vpc') && shown.includes('linux') ? '  vpc/linux' : '',
    shown.includes('vpc-etcd') && shown.includes('linux') ? ' etcd/linux' : '',
    shown.includes('vpc-etcd') && shown.includes('vpc') ? '  etcd/file' : '',
    shown.includes('vpc-b') && shown.includes('vpc') ? '      b/vpc' : ''].join('');
  console.log(`  ${title} (${better} is better)`);
  console.log(`    ${''.padEnd(34)}${cols}${ratios}`);
}

function row(label: string, key: string, v: Partial<Record<SysName, number>>, digits = 0): void {
  const cell = (x: number | undefined) => (x === undefined ? '-' : fmt(x, digits)).padStart(10);
  const r = (a: SysName, b: SysName) => (v[a] !== undefined && v[b] !== undefined ? fmt(ratio(v[a]!, v[b]!), 2).padStart(11) : '');
  console.log(`    ${label.padEnd(34)}${shown.map((s) => cell(v[s])).join('')}${r('vpc', 'linux')}${r('vpc-etcd', 'linux')}${r('vpc-etcd', 'vpc')}${r('vpc-b', 'vpc')}`);
  const put = (k: string, x: number | undefined) => { if (x !== undefined && Number.isFinite(x)) out[k] = x; };
  for (const s of shown) put(`${s.replace('-', '_')}_${key}`, v[s]);
  if (v.vpc !== undefined && v.linux !== undefined) put(`ratio_vpc_linux_${key}`, ratio(v.vpc, v.linux));
  if (v['vpc-etcd'] !== undefined && v.vpc !== undefined) put(`ratio_etcd_file_${key}`, ratio(v['vpc-etcd'], v.vpc));
  if (v['vpc-b'] !== undefined && v.vpc !== undefined) put(`ratio_b_vpc_${key}`, ratio(v['vpc-b'], v.vpc));
}

/* ---- The figures ----------------------------------------------------------------------- */

export function common(s: System): string[] {
  return [...s.probeArgs, '--if', 'vm1', '--src-mac', vm1.mac, '--src-ip', vm1.ip, '--dst-mac', vm2.mac, '--dst-ip', vm2.ip,
    '--probe-us', String(PROBE_US)];
}

async function figureLatency(probe: string, stallProbe: string, systems: System[]): Promise<void> {
  const per = Math.max(1, Math.ceil(LAT_N / ROUNDS));
  const inst: Record<string, number[]> = {};
  const rep: Record<string, number[]> = {};
  const quiet: Record<string, number[]> = {};
  const first: Record<string, number[]> = {};
  const roundP50: Record<string, number[]> = {};
  let timeouts = 0;
  for (const s of systems) {
    inst[s.name] = []; rep[s.name] = []; quiet[s.name] = []; first[s.name] = []; roundP50[s.name] = [];
    // Warm up: the agent opens the switch on its first answer, etc.
    await runProbe(probe, [...common(s), 'lat', '5', String(GAP_MS), String(RESEND_US), '3000'], s.probeEnv);
  }
  const before = await Promise.all(systems.map(async (s) => [await s.agentRead(), await s.relayed?.()] as const));
  // What the machine itself does to a latency's tail, measured beside it:
  // the p99 of 600 samples is their 6th slowest.
  const stalls = await machineStalls(stallProbe, STALL_SECONDS);
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of systems) {
      const a = await runProbe(probe, [...common(s), 'lat', String(per), String(GAP_MS), String(RESEND_US), '3000'], s.probeEnv);
      const b = await runProbe(probe, [...common(s), 'lat', String(per), String(GAP_MS), String(RESEND_US), '3000', '1'], s.probeEnv);
      const ia = (a.install_us as number[]).filter((x) => x >= 0);
      inst[s.name]!.push(...ia);
      rep[s.name]!.push(...(a.reply_us as number[]).filter((x) => x >= 0));
      quiet[s.name]!.push(...(b.reply_us as number[]).filter((x) => x >= 0));
      first[s.name]!.push(...(a.first as number[]), ...(b.first as number[]));
      roundP50[s.name]!.push(quantile(ia, 0.5));
      timeouts += (a.timeouts as number) + (b.timeouts as number);
    }
  }
  const relayed: string[] = [];
  for (const [i, s] of systems.entries()) {
    const r0 = before[i]![1];
    if (r0 === undefined) continue;
    const upcalls = (await s.agentRead()) - before[i]![0], answered = (await s.relayed!()) - r0;
    relayed.push(`${s.name} ${answered} of ${upcalls} upcalls answered by the relay`);
  }
  if (env.PEER_SAMPLES) writeFileSync(env.PEER_SAMPLES, JSON.stringify({ installed: inst, reply: rep, quiet }));
  const by = (m: Record<string, number[]>, q: number) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, quantile(v, q)]));
  header(`a. miss -> installed / -> first reply, µs, ${LAT_N} misses each, table polled every ${PROBE_US} µs, resend every ${RESEND_US} µs`, 'lower');
  row('installed p50', 'install_p50_us', by(inst, 0.5));
  row('installed p99', 'install_p99_us', by(inst, 0.99));
  row('first reply p50', 'reply_p50_us', by(rep, 0.5));
  row('first reply p99', 'reply_p99_us', by(rep, 0.99));
  row('first reply p50, table not polled', 'reply_quiet_p50_us', by(quiet, 0.5));
  row('first reply p99, table not polled', 'reply_quiet_p99_us', by(quiet, 0.99));
  console.log(`    per-round installed p50: ${systems.map((s) => `${s.name} ${roundP50[s.name]!.map((x) => fmt(x, 0)).join('/')}`).join('; ')}${timeouts ? `; ${timeouts} misses never installed/answered in 3 s` : ''}`);
  if (relayed.length) console.log(`    ${relayed.join('; ')}`);
  console.log(`    ${stallsLine(stalls)}`);
  out.machine_stalls_per_s_per_cpu = stalls.perSecondPerCpu;
  header('b. the first frame to a new MAC delivered (its own echo reply came back), %', 'higher');
  row('first frame delivered', 'first_frame_pct', Object.fromEntries(Object.entries(first).map(([k, v]) => [k, (100 * v.reduce((x, y) => x + y, 0)) / Math.max(1, v.length)])), 1);
}

async function figureOneMac(probe: string, systems: System[]): Promise<void> {
  const res: Record<string, Array<Record<string, number>>> = {};
  for (const s of systems) res[s.name] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of systems) {
      const rx0 = linkStats(s.vm2Ns, 'vm2').rxPackets;
      const read0 = await s.agentRead();
      const j = await runProbe(probe, [...common(s), '--idle-ms', '1000', 'burst', String(ONE_MAC_FRAMES), '0', PREFIX, '0', '64'], s.probeEnv);
      await sleep(100);
      const st = (j.stats ?? {}) as Record<string, number>;
      res[s.name]!.push({
        raised: j.raised as number,
        read: (await s.agentRead()) - read0,
        delivered: linkStats(s.vm2Ns, 'vm2').rxPackets - rx0,
        installUs: j.last_install_us as number,
        held: st.held ?? 0,
        holdDrops: st.holdDrops ?? 0,
      });
    }
  }
  const med = (k: string) => Object.fromEntries(Object.entries(res).map(([n, v]) => [n, median(v.map((x) => x[k]!))]));
  header(`c. ${ONE_MAC_FRAMES} frames to one new MAC in one burst (median of ${ROUNDS})`, 'fewer raised, more delivered');
  row('notifications / upcalls raised', 'one_mac_raised', med('raised'));
  row('... read by the agent', 'one_mac_agent_read', med('read'));
  row('frames delivered to the VM', 'one_mac_delivered', med('delivered'));
  row('installed after, µs (counted each ms)', 'one_mac_install_us', med('installUs'));
  for (const [n, v] of Object.entries(res)) {
    console.log(`    ${n}: ${v.map((x) => `${x.raised} raised, ${x.read} read, ${x.delivered} delivered, installed after ${fmt(x.installUs!, 0)} µs${n === 'linux' ? '' : ` (${x.held} held, ${x.holdDrops} dropped while pending)`}`).join('; ')}`);
  }
}

export interface BurstResult {
  raised: number;
  read: number;
  overflow: number;
  installed: number;
  present: number;
  lastUs: number;
  sendUs: number;
  nicDrops: number;
  lost: number;
  timeouts: number;
  holdDrops: number;
}

export async function burst(probe: string, s: System, nmacs: number, rate: number): Promise<BurstResult> {
  await s.flush();
  await sleep(50);
  const read0 = await s.agentRead();
  const ovf0 = await s.agentOverflows();
  const tx0 = linkStats(s.vm1Ns, 'vm1').txDropped;
  const batch = rate === 0 ? 256 : Math.max(1, Math.round(rate / 10_000));
  const j = await runProbe(probe, [...common(s), '--idle-ms', '1500', 'burst', String(nmacs), String(nmacs), PREFIX, String(rate), String(batch)], s.probeEnv);
  const st = (j.stats ?? {}) as Record<string, number>;
  return {
    raised: j.raised as number,
    read: (await s.agentRead()) - read0,
    overflow: (await s.agentOverflows()) - ovf0,
    installed: j.installed as number,
    present: j.present as number,
    lastUs: j.last_install_us as number,
    sendUs: j.send_us as number,
    nicDrops: linkStats(s.vm1Ns, 'vm1').txDropped - tx0,
    lost: st.lost ?? 0,
    timeouts: st.timeouts ?? 0,
    holdDrops: st.holdDrops ?? 0,
  };
}

async function figureBurst(probe: string, systems: System[]): Promise<void> {
  const res: Record<string, BurstResult[]> = {};
  for (const s of systems) res[s.name] = [];
  for (let r = 0; r < ROUNDS; r++) for (const s of systems) res[s.name]!.push(await burst(probe, s, BURST_MACS, 0));
  const med = (f: (b: BurstResult) => number) => Object.fromEntries(Object.entries(res).map(([n, v]) => [n, median(v.map(f))]));
  header(`d. ${BURST_MACS} frames to ${BURST_MACS} new MACs in one burst (sendmmsg; median of ${ROUNDS})`, 'lower');
  row('sent in (ms)', 'burst_send_ms', med((b) => b.sendUs / 1000), 1);
  row('notifications / upcalls raised', 'burst_raised', med((b) => b.raised));
  row('... lost before the agent read them', 'burst_lost_notifications', Object.fromEntries(Object.entries(res).map(([n, v]) =>
    [n, median(v.map((b) => (n === 'linux' ? Math.max(0, b.raised - b.read) : b.lost + b.timeouts)))])));
  row('MACs left uninstalled', 'burst_uninstalled', med((b) => BURST_MACS - b.present));
  row('last MAC installed after (ms)', 'burst_last_install_ms', med((b) => b.lastUs / 1000), 1);
  for (const s of systems) {
    console.log(`    ${s.name}: ${res[s.name]!.map((b) => `${b.present}/${BURST_MACS} in ${fmt(b.lastUs / 1000, 0)} ms (read ${b.read}${b.overflow ? `, ENOBUFS ${b.overflow}x` : ''}${b.nicDrops ? `, ${b.nicDrops} dropped at the VM's NIC` : ''}${s.name !== 'linux' ? `, lost ${b.lost}, timeouts ${b.timeouts}` : ''})`).join('; ')}`);
  }
}

async function figureSustained(probe: string, systems: System[]): Promise<void> {
  const best: Record<string, { offered: number; achieved: number }> = {};
  const done = new Set<string>();
  for (const s of systems) best[s.name] = { offered: 0, achieved: 0 };
  console.log(`  e. sustained: ${SUSTAINED_MACS} new MACs at each offered rate, until one is lost (higher is better)`);
  for (const rate of RATES) {
    const parts: string[] = [];
    for (const s of systems) {
      if (done.has(s.name)) continue;
      const b = await burst(probe, s, SUSTAINED_MACS, rate);
      // Lost: MACs not in the table once it settled, whatever the cause (a
      // lost notification or upcall, a timeout, a frame the VM's NIC dropped).
      const lost = SUSTAINED_MACS - b.present;
      const achieved = b.lastUs > 0 ? (b.installed / b.lastUs) * 1e6 : 0;
      parts.push(`${s.name} ${b.present} installed, ${lost} lost, ${fmt(achieved, 0)}/s${b.nicDrops ? ` (${b.nicDrops} dropped at the VM's NIC)` : ''}`);
      if (lost > 0) done.add(s.name);
      else if (rate > best[s.name]!.offered) best[s.name] = { offered: rate, achieved };
    }
    if (parts.length > 0) console.log(`    offered ${rate}/s: ${parts.join('; ')}`);
  }
  header('   best rate with nothing lost', 'higher');
  row('offered new MACs/s', 'sustained_offered', Object.fromEntries(Object.entries(best).map(([k, v]) => [k, v.offered])));
  row('installed/s at that rate', 'sustained_installed_per_s', Object.fromEntries(Object.entries(best).map(([k, v]) => [k, v.achieved])));
}

export async function benchPeer(): Promise<Record<string, number>> {
  if (process.getuid?.() !== 0) {
    console.log('bench/peer: skipped (needs root for namespaces, TAP and vxlan devices)');
    return {};
  }
  const unknown = SYSTEMS.filter((n) => !SYS_NAMES.includes(n));
  if (unknown.length > 0) throw new Error(`PEER_SYSTEMS: no system ${unknown.join(', ')} (there are ${SYS_NAMES.join(', ')})`);
  if ((B_BUILD || B_AGENT_FLAGS.length) && !SYSTEMS.includes('vpc-b')) throw new Error('PEER_B_BUILD and PEER_B_AGENT_FLAGS are for vpc-b: add it to PEER_SYSTEMS');
  for (const f of B_BUILD ? ['vpc-hostd', 'libvpc.so'] : []) {
    if (!existsSync(join(B_BUILD!, f))) throw new Error(`PEER_B_BUILD: no ${f} in ${B_BUILD}`);
  }
  const bins = buildHelpers();
  const tmp = mkdtempSync(join(tmpdir(), 'vpc-peer-'));
  const atExit = onExit(() => rmSync(tmp, { recursive: true, force: true }));
  const systems: System[] = [];
  try {
    for (const name of SYSTEMS) {
      systems.push(name === 'linux' ? await linuxSystem(bins, tmp) : await vpcSystem(name, tmp));
    }
    shown = systems.map((s) => s.name);
    console.log(`bench/peer: ${shown.join(', ')}; two nodes, VNI ${VNI}, ${mappings().length} mappings, ${ROUNDS} rounds taking turns; vpc upcall rate per vmnic ${UPCALL_RATE > 0 ? `${UPCALL_RATE}/s` : 'the default'}`);
    if (shown.includes('vpc-b')) console.log(`  vpc-b: vpc with ${B_BUILD ? `vpc-hostd and libvpc.so of ${B_BUILD}` : "this build's C"}${B_AGENT_FLAGS.length ? ` and agent flags ${B_AGENT_FLAGS.join(' ')}` : ''}${!B_BUILD && !B_AGENT_FLAGS.length ? ' (nothing changed: an A/A run)' : ''}`);
    if (FIGURES.has('a')) await figureLatency(bins.probe, bins.stallProbe, systems);
    if (FIGURES.has('c')) await figureOneMac(bins.probe, systems);
    if (FIGURES.has('d')) await figureBurst(bins.probe, systems);
    if (FIGURES.has('e')) await figureSustained(bins.probe, systems);
    console.log(`bench/peer JSON: ${JSON.stringify(out)}`);
    return out;
  } finally {
    for (const s of systems.reverse()) await s.close().catch((e: Error) => console.error(`bench/peer: closing ${s.name}: ${e.message}`));
    rmSync(tmp, { recursive: true, force: true });
    atExit.forget();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchPeer();
