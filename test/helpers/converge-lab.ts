// SPDX-License-Identifier: BSD-2-Clause
/**
 * Many compute nodes following one etcd directory, for measuring (and
 * checking) how a VM's move reaches every node: an Overlay of N nodes (a
 * namespace, a vpc-hostd and an orchestrator each, one switch on the VNI
 * with a subnet), a real etcd cluster, and a vpc-agent in push mode on each
 * node pointed at every member.  A move is a write through the etcd
 * directory API (as `vpcctl map` does); its arrival on a node is read from
 * that node's kernel, not from the agent's log: the CAM entry's VTEP and
 * revision (the write's etcd revision).  How long ago the entry was set is
 * also read from the kernel: entries carry the agent's TTL, and the kernel
 * reports the time left, so set = now - (TTL - left) (to the millisecond:
 * the kernel rounds the time left up), whatever the polling interval.
 *
 * Everything it starts is stopped by close(), and by the reaper if the
 * process dies first (Overlay, EtcdServer, startAgent register with it).
 */
import { openDirectory, type Directory } from '../../src/directory/index.ts';
import { startAgent, type AgentProc } from './agent.ts';
import { EtcdServer } from './etcd.ts';
import { Overlay, sleep } from './overlay.ts';

/** The agents' TTL: the longest the kernel takes (a day), so neither expiry nor a resync (a quarter of it) lands in a run. */
export const CONVERGE_TTL_MS = 86_400_000;
export const CONVERGE_VNI = 700;
export const CONVERGE_SUBNET = '10.0.0.0/8';
/** The most an entry's TTL clock may lag (a tick of CLOCK_MONOTONIC_COARSE at HZ=100): setMs's error. */
export const TTL_CLOCK_TICK_MS = 10;

/** When a move reached one node. */
export interface NodeArrival {
  /** The first poll that saw the new VTEP and revision ended (ms, performance.now()). */
  seenMs: number;
  /**
   * When the kernel set that entry, from its TTL (ms, performance.now()):
   * within ±1 ms and the tick of the clock TTLs run on, vpc-hostd's coarse
   * clock (CLOCK_MONOTONIC_COARSE: 4 ms here, 10 ms at HZ=100), see
   * TTL_CLOCK_TICK_MS.
   */
  setMs: number;
}

export interface MoveResult {
  mac: string;
  vtep: string;
  revision: bigint;
  /** The directory call started, and its write was acknowledged (ms, performance.now()). */
  startMs: number;
  ackMs: number;
  /** Per node, in node order. */
  nodes: NodeArrival[];
}

export interface Mover {
  mac: string;
  ip: string;
  vtep: string;
}

export interface ConvergeLabOptions {
  nodes: number;
  /** Extra vpc-agent flags. */
  agentArgs?: string[];
  /** node's own flags for one agent (e.g. --cpu-prof), by node index. */
  nodeArgs?: ((i: number) => string[]) | undefined;
  /** Give up on a move after this long (a hang, not a measure). */
  moveTimeoutMs?: number;
  /** Between two rounds of polling the nodes that have not converged yet. */
  pollMs?: number;
}

const hex = (n: number) => n.toString(16).padStart(2, '0');

export class ConvergeLab {
  readonly ov: Overlay;
  readonly etcd = new EtcdServer({ members: 3 });
  readonly names: string[];
  readonly agents: AgentProc[] = [];
  dir: Directory | undefined;

  constructor(readonly opts: ConvergeLabOptions, tag = 'cv') {
    this.ov = new Overlay(tag, CONVERGE_VNI);
    this.names = Array.from({ length: opts.nodes }, (_, i) => `cn${i + 1}`);
  }

  /** etcd, the nodes, their switches; no agents yet. */
  async start(): Promise<void> {
    await this.etcd.start();
    this.dir = openDirectory({ kind: 'etcd', endpoints: this.etcd.endpoints });
    for (const cn of this.names) {
      await this.ov.addNode(cn);
      await this.ov.setup(cn, [], { subnets: [CONVERGE_SUBNET] });
    }
  }

  vtep(i: number): string {
    return this.ov.vtep(this.names[i]!);
  }

  agentArgs(): string[] {
    return [
      '--resolver', 'etcd', '--etcd-endpoints', this.etcd.endpoints.join(','), '--push',
      '--ttl', String(CONVERGE_TTL_MS), '--log-level', 'info', ...(this.opts.agentArgs ?? []),
    ];
  }

  /** Start (or restart) node i's agent; resolves once it is attached (with push, after its first push). */
  async startAgent(i: number): Promise<AgentProc> {
    await this.agents[i]?.stop('SIGTERM');
    const a = await startAgent(this.agentArgs(), this.ov.env(this.names[i]!), this.opts.nodeArgs?.(i) ?? []);
    this.agents[i] = a;
    return a;
  }

  async startAgents(): Promise<void> {
    for (let i = 0; i < this.names.length; i++) await this.startAgent(i);
  }

  /** n VMs that no node hosts (no vmnic anywhere), each mapped to node (k mod nodes)'s VTEP. */
  async addMovers(n: number): Promise<Mover[]> {
    const movers: Mover[] = [];
    for (let k = 0; k < n; k++) {
      const m = { mac: `02:c0:00:00:${hex(k >> 8)}:${hex(k & 0xff)}`, ip: `10.250.${k >> 8}.${(k & 0xff) + 1}`, vtep: this.vtep(k % this.names.length) };
      await this.dir!.set({ vni: CONVERGE_VNI, ...m });
      movers.push(m);
    }
    return movers;
  }

  /** Node i's CAM entry for mac, and when the call started and ended. */
  async camRead(i: number, mac: string): Promise<{ vtep?: string; revision?: number; ttlMs?: number; t0: number; t1: number }> {
    const t0 = performance.now();
    const e = (await this.ov.node[this.names[i]!]!.call('camGet', { mac })) as { vtep?: string; revision?: number; ttlMs?: number };
    return { ...e, t0, t1: performance.now() };
  }

  /** Wait until every node's CAM has mac at vtep (at revision, if given); the arrival on each. */
  async waitAll(mac: string, vtep: string, revision?: bigint): Promise<NodeArrival[]> {
    const arrivals: Array<NodeArrival | undefined> = this.names.map(() => undefined);
    const end = performance.now() + (this.opts.moveTimeoutMs ?? 30_000);
    for (;;) {
      const pending = arrivals.flatMap((a, i) => (a ? [] : [i]));
      if (pending.length === 0) return arrivals as NodeArrival[];
      await Promise.all(pending.map(async (i) => {
        const r = await this.camRead(i, mac);
        if (r.vtep !== vtep || (revision !== undefined && r.revision !== Number(revision))) return;
        // The kernel rounds the time left up to a whole ms: the entry was
        // set between left-1 and left ms before its TTL ran from now.
        const now = (r.t0 + r.t1) / 2;
        const setMs = r.ttlMs === undefined || r.ttlMs === 0 ? r.t1 : Math.min(r.t1, now + r.ttlMs - CONVERGE_TTL_MS - 0.5);
        arrivals[i] = { seenMs: r.t1, setMs };
      }));
      if (arrivals.every(Boolean)) continue;
      if (performance.now() > end) {
        const late = arrivals.flatMap((a, i) => (a ? [] : [this.names[i]]));
        throw new Error(`${mac} -> ${vtep}${revision === undefined ? '' : ` (revision ${revision})`}: not in the CAM of ${late.join(', ')}`);
      }
      await sleep(this.opts.pollMs ?? 2);
    }
  }

  /** Move a VM to another VTEP through the directory; resolves once every node's CAM has it. */
  async move(m: Mover, vtep: string): Promise<MoveResult> {
    const startMs = performance.now();
    const written = await this.dir!.set({ vni: CONVERGE_VNI, mac: m.mac, ip: m.ip, vtep });
    const ackMs = performance.now();
    m.vtep = vtep;
    const nodes = await this.waitAll(m.mac, vtep, written.revision);
    return { mac: m.mac, vtep, revision: written.revision, startMs, ackMs, nodes };
  }

  /** Stop everything; the errors the daemons reported on stopping. */
  async close(): Promise<string[]> {
    for (const a of this.agents) await a?.stop('SIGKILL');
    this.dir?.close();
    await this.etcd.stop();
    return this.ov.close();
  }
}
