// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/converge: a VM moves; how long until every node forwards to its new
 * VTEP?  And what does a big directory cost each agent?  (issue 16, item 4)
 *
 * CONVERGE_NODES (8) compute nodes, each a network namespace with its own
 * vpc-hostd, an orchestrator and a vpc-agent (`--resolver etcd`, every
 * member of a 3-member etcd cluster on loopback, `--push`), one switch on
 * the same VNI on every node (test/helpers/converge-lab.ts).
 *
 *  a. Moves: CONVERGE_MOVES (200) times, one at a time, a VM's VTEP is
 *     changed through the etcd directory API (as `vpcctl map` does) and the
 *     bench waits until every node's CAM holds the new VTEP with the
 *     write's revision.  Read from outside, from each node's kernel: the
 *     CAM entry polled through the typed API (every 2 ms, a node once it has
 *     it no more), and the moment the kernel set it, from the entry's TTL
 *     (independent of the polling interval, ±1 ms).  Printed from the
 *     write's acknowledgement (the target's reference): the first node,
 *     every node; and from the directory call's start.  The baseline is the
 *     same write's watch event reaching a bare etcd watcher in this process
 *     (what etcd itself takes to tell anyone); the ratio every/baseline is
 *     taken from the call's start, as from the acknowledgement the baseline
 *     is often negative (watchers hear of a write before its writer does).
 *  b. Load: CONVERGE_MAPPINGS (100,000) mappings written to etcd (bulk
 *     transactions, mapping keys only: agents read those; the address index
 *     is for writers), CONVERGE_ON_VNI (5,000) of them on the nodes' VNI
 *     (pushed to every switch), the rest on 64 VNIs no node has a switch on.
 *     Then each agent in turn is restarted while the others run: start ->
 *     "mappings loaded" (its log), start -> attached (after its first push),
 *     its RSS then (VmRSS) and its peak (VmHWM).  Baselines: the same range
 *     read and decoding (EtcdClient.loadStore) in this process, and the agent's
 *     RSS with only the movers in the directory.
 *  c. Moves again with the big directory loaded (CONVERGE_MOVES / 2).
 *
 * Also printed: what the 8 daemons and agents use while idle (whether 8
 * of each fit on this 2-core machine).  CONVERGE_PROF=DIR: node --cpu-prof
 * on cn1's agent during a., and on one more start of it with the big
 * directory (not a measured one); their top self time is printed and the
 * profiles kept in DIR.  Needs root.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Watcher } from 'etcd3';
import { EtcdClient, etcdKey, type Mapping } from '../src/directory/index.ts';
import type { AgentProc } from '../test/helpers/agent.ts';
import { CONVERGE_VNI, ConvergeLab, type MoveResult, type Mover } from '../test/helpers/converge-lab.ts';
import { sleep } from '../test/helpers/overlay.ts';
import { cpuProfileTop } from './profile.ts';
import { fmt, quantile, ratio } from './probe.ts';

const env = process.env;
const NODES = Number(env.CONVERGE_NODES ?? 8);
const MOVES = Number(env.CONVERGE_MOVES ?? 200);
const NMAPPINGS = Number(env.CONVERGE_MAPPINGS ?? 100_000);
const ON_VNI = Math.min(NMAPPINGS, Number(env.CONVERGE_ON_VNI ?? 5_000));
const PROF = env.CONVERGE_PROF ? resolve(env.CONVERGE_PROF) : undefined;
const MOVERS = 8;
const OTHER_VNIS = 64;
const TXN_OPS = 128;          // etcd's default --max-txn-ops

const TARGET_MOVE_P99_MS = 50;
const TARGET_LOAD_MS = 2000;
const TARGET_RSS_MIB = 150;

const hex = (n: number) => n.toString(16).padStart(2, '0');
const mac6 = (tag: number, i: number) => `02:${hex(tag)}:${hex((i >> 24) & 0xff)}:${hex((i >> 16) & 0xff)}:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`;
const ip4 = (a: number, i: number) => `10.${a}.${(i >> 8) & 0xff}.${(i & 0xff)}`;

function procKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** User + system CPU time of a process, ms. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** A watcher of the mapping keys in this process: when each revision's event arrived (ms, performance.now()). */
async function bareWatcher(c: EtcdClient): Promise<{ seen: Map<string, number>; w: Watcher }> {
  const seen = new Map<string, number>();
  const w = await c.client.watch().prefix(`${c.prefix}/`).create();
  w.on('put', (kv) => { seen.set(kv.mod_revision, performance.now()); });
  return { seen, w };
}

async function waitFor<T>(f: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

interface MoveStats {
  /** From the write's acknowledgement: the bare watcher, the first node, every node (kernel set time), every node (polled). */
  floor: number[];
  first: number[];
  every: number[];
  everySeen: number[];
  /** From the directory call's start (never negative: nothing can happen before it). */
  floorFromStart: number[];
  everyFromStart: number[];
  ack: number[];
  spread: number[];
}

async function moves(lab: ConvergeLab, movers: Mover[], watcher: { seen: Map<string, number> }, n: number): Promise<MoveStats> {
  const s: MoveStats = { floor: [], first: [], every: [], everySeen: [], floorFromStart: [], everyFromStart: [], ack: [], spread: [] };
  for (let k = 0; k < n; k++) {
    const m = movers[k % movers.length]!;
    const here = lab.names.findIndex((_, i) => lab.vtep(i) === m.vtep);
    // Anywhere else, in a pattern that does not repeat with the movers.
    const to = lab.vtep((here + 1 + (k % (lab.names.length - 1))) % lab.names.length);
    const r: MoveResult = await lab.move(m, to);
    const seenAt = await waitFor(() => watcher.seen.get(r.revision.toString()), 'the bare watcher to see the write');
    const sets = r.nodes.map((x) => x.setMs);
    const last = Math.max(...sets);
    s.floor.push(seenAt - r.ackMs);
    s.first.push(Math.min(...sets) - r.ackMs);
    s.every.push(last - r.ackMs);
    s.everySeen.push(Math.max(...r.nodes.map((x) => x.seenMs)) - r.ackMs);
    s.floorFromStart.push(seenAt - r.startMs);
    s.everyFromStart.push(last - r.startMs);
    s.ack.push(r.ackMs - r.startMs);
    s.spread.push(last - Math.min(...sets));
    await sleep(10);    // let the agents' logging of this move finish before the next
  }
  return s;
}

function printMoves(title: string, s: MoveStats, out: Record<string, number>, key: string): void {
  const q = (xs: number[], p: number) => quantile(xs, p);
  console.log(`  ${title}`);
  console.log(`    ${''.padEnd(60)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}${'min'.padStart(8)}`);
  const row = (name: string, xs: number[]) => console.log(`    ${name.padEnd(60)}${[0.5, 0.99].map((p) => fmt(q(xs, p), 1).padStart(8)).join('')}${fmt(Math.max(...xs), 1).padStart(8)}${fmt(Math.min(...xs), 1).padStart(8)}`);
  console.log('    from the write\'s acknowledgement (negative: before the writer heard back):');
  row('  baseline: the event reaches a bare etcd watcher here', s.floor);
  row('  first node: its kernel set the new entry', s.first);
  row('  every node: its kernel set the new entry (from the TTL)', s.every);
  row('  every node: seen by polling its CAM (2 ms rounds)', s.everySeen);
  row('  spread: last node - first node', s.spread);
  console.log('    from the directory call\'s start (as vpcctl map: reads, then the transaction):');
  row('  the writer\'s acknowledgement', s.ack);
  row('  baseline: the event reaches a bare etcd watcher here', s.floorFromStart);
  row('  every node: its kernel set the new entry', s.everyFromStart);
  const p99 = q(s.every, 0.99);
  const r50 = ratio(q(s.everyFromStart, 0.5), q(s.floorFromStart, 0.5));
  const r99 = ratio(q(s.everyFromStart, 0.99), q(s.floorFromStart, 0.99));
  console.log(`    every node / bare watcher (from the call's start): p50 ${fmt(r50, 2)}x, p99 ${fmt(r99, 2)}x`);
  console.log(`    target: every node p99 <= ${TARGET_MOVE_P99_MS} ms after the acknowledgement: ${fmt(p99, 1)} ms, ${p99 <= TARGET_MOVE_P99_MS ? 'met' : 'MISSED'}`);
  Object.assign(out, {
    [`${key}_moves`]: s.every.length,
    [`${key}_floor_p50_ms`]: q(s.floor, 0.5), [`${key}_floor_p99_ms`]: q(s.floor, 0.99),
    [`${key}_first_p50_ms`]: q(s.first, 0.5), [`${key}_first_p99_ms`]: q(s.first, 0.99),
    [`${key}_every_p50_ms`]: q(s.every, 0.5), [`${key}_every_p99_ms`]: p99, [`${key}_every_max_ms`]: Math.max(...s.every),
    [`${key}_every_seen_p99_ms`]: q(s.everySeen, 0.99),
    [`${key}_ratio_every_floor_from_start_p50`]: r50, [`${key}_ratio_every_floor_from_start_p99`]: r99,
  });
}

/** What the node's daemons and agents use while nothing happens (do 8 of each fit on this machine?). */
async function idleCost(lab: ConvergeLab, out: Record<string, number>): Promise<void> {
  const hostds = lab.names.map((cn) => lab.ov.hostd[cn]!.proc.pid!);
  const agents = lab.agents.map((a) => a.proc.pid!);
  const sum = (pids: number[]) => pids.reduce((t, p) => t + cpuMs(p), 0);
  const h0 = sum(hostds);
  const a0 = sum(agents);
  const t0 = performance.now();
  await sleep(3000);
  const wall = performance.now() - t0;
  const hPct = (100 * (sum(hostds) - h0)) / wall;
  const aPct = (100 * (sum(agents) - a0)) / wall;
  const rss = (pids: number[]) => pids.reduce((t, p) => t + procKiB(p, 'VmRSS'), 0) / 1024;
  console.log(`  idle, ${lab.names.length} nodes: vpc-hostd ${fmt(hPct, 1)}% of a CPU together, ${fmt(rss(hostds), 0)} MiB; vpc-agent ${fmt(aPct, 1)}%, ${fmt(rss(agents), 0)} MiB (2 CPUs here)`);
  Object.assign(out, { idle_hostd_cpu_pct: hPct, idle_agent_cpu_pct: aPct, idle_agent_rss_mib: rss(agents) / lab.names.length });
}

/** NMAPPINGS mappings in bulk transactions; ON_VNI of them on the nodes' VNI. */
async function writeBig(c: EtcdClient): Promise<number> {
  const t0 = performance.now();
  const body = (m: Omit<Mapping, 'revision'>) => JSON.stringify({ vtep: m.vtep, ip: m.ip });
  const batches: Array<Array<Omit<Mapping, 'revision'>>> = [];
  let cur: Array<Omit<Mapping, 'revision'>> = [];
  for (let i = 0; i < NMAPPINGS; i++) {
    const mine = i < ON_VNI;
    const o = i - ON_VNI;
    cur.push(mine
      ? { vni: CONVERGE_VNI, mac: mac6(0xd1, i), vtep: `198.51.100.${200 + (i % 50)}`, ip: ip4(1 + (i >> 16), i) }
      : { vni: 1000 + (o % OTHER_VNIS), mac: mac6(0xd0, o), vtep: `198.51.100.${200 + (o % 50)}`, ip: ip4(100 + (o >> 16), o) });
    if (cur.length === TXN_OPS) {
      batches.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) batches.push(cur);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const b = batches[next++]!;
      // A transaction with no condition: every put applies, in one raft entry.
      const r = await c.client.if(etcdKey(c.prefix, b[0]!.vni, b[0]!.mac), 'Version', '>', -1)
        .then(...b.map((m) => c.client.put(etcdKey(c.prefix, m.vni, m.mac)).value(body(m)))).commit();
      if (!r.succeeded) throw new Error('bulk write: a transaction with an always-true condition failed');
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return performance.now() - t0;
}

interface LoadRow {
  node: string;
  loadMs: number;
  attachMs: number;
  pushMs: number;
  pushed: number;
  rssMiB: number;
  hwmMiB: number;
}

async function load(lab: ConvergeLab, c: EtcdClient, out: Record<string, number>, small: { rssMiB: number; loadMs: number }): Promise<void> {
  const writeMs = await writeBig(c);
  console.log(`  b. ${NMAPPINGS} mappings written to etcd in ${fmt(writeMs / 1000, 1)} s (${ON_VNI} on the nodes' VNI ${CONVERGE_VNI}, pushed to every switch; ${NMAPPINGS - ON_VNI} on ${OTHER_VNIS} VNIs with no switch here)`);
  // Baseline: the same range read and decoding into the agent's compact
  // copy (EtcdClient.loadStore), in this process (warm); and, for
  // reference, into a Mapping object per key (EtcdClient.load, what the
  // agent did before).
  await c.loadStore();
  const t0 = performance.now();
  const base = await c.loadStore();
  const baseMs = performance.now() - t0;
  if (base.store.size < NMAPPINGS) throw new Error(`etcd holds ${base.store.size} mappings, not ${NMAPPINGS}`);
  const t1 = performance.now();
  await c.load();
  const objectsMs = performance.now() - t1;
  const rows: LoadRow[] = [];
  for (let i = 0; i < lab.names.length; i++) {
    await lab.agents[i]?.stop('SIGTERM');
    const t = Date.now();
    const a: AgentProc = await lab.startAgent(i);
    const loaded = a.logs.find((l) => l.msg === 'mappings loaded')!;
    const attached = a.logs.find((l) => l.msg === 'attached as the upcall reader')!;
    const push = a.logs.find((l) => l.msg === 'mappings pushed to the switches') ?? {};
    if (!loaded || Number(loaded.mappings) < NMAPPINGS) throw new Error(`${lab.names[i]}: loaded ${String(loaded.mappings)} mappings`);
    rows.push({
      node: lab.names[i]!, loadMs: Number(loaded.time) - t, attachMs: Number(attached.time) - t,
      pushMs: Number(push.ms ?? NaN), pushed: Number(push.cam ?? 0),
      rssMiB: procKiB(a.proc.pid!, 'VmRSS') / 1024, hwmMiB: procKiB(a.proc.pid!, 'VmHWM') / 1024,
    });
  }
  // Every switch holds the pushed entries (one read: the last of them).
  if (ON_VNI > 0) await lab.waitAll(mac6(0xd1, ON_VNI - 1), `198.51.100.${200 + ((ON_VNI - 1) % 50)}`);
  console.log(`    each agent restarted in turn (the others running): start -> mappings loaded (its log), -> attached (after pushing ${rows[0]?.pushed ?? 0} entries), its memory`);
  console.log(`    ${'node'.padEnd(6)}${'loaded ms'.padStart(11)}${'attached ms'.padStart(13)}${'push ms'.padStart(9)}${'RSS MiB'.padStart(9)}${'peak MiB'.padStart(10)}`);
  for (const r of rows) {
    console.log(`    ${r.node.padEnd(6)}${fmt(r.loadMs, 0).padStart(11)}${fmt(r.attachMs, 0).padStart(13)}${fmt(r.pushMs, 0).padStart(9)}${fmt(r.rssMiB, 0).padStart(9)}${fmt(r.hwmMiB, 0).padStart(10)}`);
  }
  const col = (f: (r: LoadRow) => number) => rows.map(f);
  const p50 = (f: (r: LoadRow) => number) => quantile(col(f), 0.5);
  const max = (f: (r: LoadRow) => number) => Math.max(...col(f));
  console.log(`    p50 / max: loaded ${fmt(p50((r) => r.loadMs), 0)} / ${fmt(max((r) => r.loadMs), 0)} ms, attached ${fmt(p50((r) => r.attachMs), 0)} / ${fmt(max((r) => r.attachMs), 0)} ms, RSS ${fmt(p50((r) => r.rssMiB), 0)} / ${fmt(max((r) => r.rssMiB), 0)} MiB, peak ${fmt(p50((r) => r.hwmMiB), 0)} / ${fmt(max((r) => r.hwmMiB), 0)} MiB`);
  console.log(`    baselines: the range read + decoding (loadStore) alone in this process ${fmt(baseMs, 0)} ms (loaded/baseline p50 ${fmt(ratio(p50((r) => r.loadMs), baseMs), 1)}x; into Mapping objects, load(): ${fmt(objectsMs, 0)} ms); an agent with ${MOVERS} mappings: loaded ${fmt(small.loadMs, 0)} ms after its start (p50), RSS ${fmt(small.rssMiB, 0)} MiB (RSS/that p50 ${fmt(ratio(p50((r) => r.rssMiB), small.rssMiB), 1)}x)`);
  const loadOk = max((r) => r.loadMs) <= TARGET_LOAD_MS;
  const rssOk = max((r) => r.rssMiB) <= TARGET_RSS_MIB;
  console.log(`    target: loaded <= ${TARGET_LOAD_MS} ms ${loadOk ? 'met' : 'MISSED'} (max ${fmt(max((r) => r.loadMs), 0)}), RSS <= ${TARGET_RSS_MIB} MiB ${rssOk ? 'met' : 'MISSED'} (max ${fmt(max((r) => r.rssMiB), 0)})`);
  if (PROF) await profileLoad(lab);
  Object.assign(out, {
    load_mappings: NMAPPINGS, load_on_vni: ON_VNI, load_small_ms: small.loadMs, rss_small_mib: small.rssMiB, load_write_ms: writeMs, load_baseline_ms: baseMs, load_objects_ms: objectsMs,
    load_p50_ms: p50((r) => r.loadMs), load_max_ms: max((r) => r.loadMs),
    attach_p50_ms: p50((r) => r.attachMs), attach_max_ms: max((r) => r.attachMs),
    rss_p50_mib: p50((r) => r.rssMiB), rss_max_mib: max((r) => r.rssMiB), hwm_max_mib: max((r) => r.hwmMiB),
    ratio_load_baseline_p50: ratio(p50((r) => r.loadMs), baseMs),
  });
}

const profArgs = () => ['--cpu-prof', `--cpu-prof-dir=${PROF}`, '--cpu-prof-interval=200'];

/** The newest profile written; its top self time over [fromUs, toUs] (CLOCK_MONOTONIC µs). */
function printProfile(what: string, fromUs: number, toUs: number): void {
  const file = readdirSync(PROF!).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(PROF!, f)).sort().at(-1);
  if (!file) {
    console.log('    (no profile written)');
    return;
  }
  const { top, totalMs, idleMs } = cpuProfileTop(file, 15, fromUs, toUs);
  console.log(`    ${what} (node --cpu-prof, ${file}): ${fmt(totalMs, 0)} ms busy, ${fmt(idleMs, 0)} ms idle; top self time:`);
  for (const [name, ms, share] of top) console.log(`      ${fmt(ms, 1).padStart(8)} ms ${fmt(100 * share, 1).padStart(5)}%  ${name}`);
}

/** cn1's agent restarted once more under the profiler (not one of the measured starts): where its start goes. */
async function profileLoad(lab: ConvergeLab): Promise<void> {
  lab.opts.nodeArgs = (i) => (i === 0 ? profArgs() : []);
  try {
    await lab.startAgent(0);
    await lab.agents[0]!.stop('SIGTERM');     // the profile is written at exit
    printProfile('cn1\'s vpc-agent from start to attached, 100k mappings', 0, Number.MAX_SAFE_INTEGER);
  } finally {
    lab.opts.nodeArgs = undefined;
    await lab.startAgent(0);
  }
}

/** cn1's agent profiled during the moves: stop it (the profile is written at exit), print its top self time. */
async function profileTop(lab: ConvergeLab, fromUs: number, toUs: number): Promise<void> {
  await lab.agents[0]!.stop('SIGTERM');
  printProfile('cn1\'s vpc-agent during the moves', fromUs, toUs);
}

export async function benchConverge(): Promise<Record<string, number>> {
  if (process.getuid?.() !== 0) {
    console.log('bench/converge: skipped (needs root for namespaces)');
    return {};
  }
  if (!(NODES >= 2) || !(MOVES >= 1) || !(NMAPPINGS >= 1)) throw new Error('bench/converge: CONVERGE_NODES >= 2, CONVERGE_MOVES >= 1 and CONVERGE_MAPPINGS >= 1');
  if (PROF) mkdirSync(PROF, { recursive: true });
  const lab = new ConvergeLab({
    nodes: NODES,
    // The profile starts where the agent starts; the moves are picked out of it by time.
    nodeArgs: (i) => (PROF && i === 0 ? profArgs() : []),
  });
  const out: Record<string, number> = {};
  let c: EtcdClient | undefined;
  let watcher: { seen: Map<string, number>; w: Watcher } | undefined;
  try {
    console.log(`bench/converge: ${NODES} nodes (a namespace, a vpc-hostd and a vpc-agent --push each), a 3-member etcd on loopback`);
    await lab.start();
    c = new EtcdClient({ endpoints: lab.etcd.endpoints });
    watcher = await bareWatcher(c);
    const movers = await lab.addMovers(MOVERS);
    // Each start timed as in b., with only the movers in the directory: what starting costs without a load.
    const smallLoadMs: number[] = [];
    for (let i = 0; i < lab.names.length; i++) {
      const t = Date.now();
      const a = await lab.startAgent(i);
      smallLoadMs.push(Number(a.logs.find((l) => l.msg === 'mappings loaded')?.time) - t);
    }
    for (const m of movers) await lab.waitAll(m.mac, m.vtep);     // pushed everywhere before the first move
    await idleCost(lab, out);
    const idleRssMiB = quantile(lab.agents.map((a) => procKiB(a.proc.pid!, 'VmRSS') / 1024), 0.5);
    await moves(lab, movers, watcher, Math.min(10, MOVES));      // warm up (JIT, connections)
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const a = await moves(lab, movers, watcher, MOVES);
    const toUs = Number(process.hrtime.bigint() / 1000n);
    printMoves(`a. a VM moves (${MOVES} moves, one at a time, ${MOVERS} VMs, directory: ${MOVERS} mappings): write acknowledged -> new VTEP in the CAM, ms`, a, out, 'move');
    if (PROF) {
      await profileTop(lab, fromUs, toUs);
      lab.opts.nodeArgs = undefined;      // the load is measured unprofiled
      await lab.startAgent(0);
    }
    await load(lab, c, out, { rssMiB: idleRssMiB, loadMs: quantile(smallLoadMs, 0.5) });
    const again = await moves(lab, movers, watcher, Math.max(1, Math.floor(MOVES / 2)));
    printMoves(`c. moves again with ${NMAPPINGS} mappings in the directory (${again.every.length} moves), ms`, again, out, 'move_big');
    console.log(`bench/converge JSON: ${JSON.stringify(Object.fromEntries(Object.entries(out).filter(([, v]) => Number.isFinite(v))))}`);
    return out;
  } finally {
    await watcher?.w.cancel().catch(() => {});
    c?.close();
    const errors = await lab.close();
    if (errors.length > 0) console.log(`bench/converge: the daemons reported on stopping: ${errors.join('; ')}`);
  }
}
