// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/profile: where the time goes on vpc's miss path, measured before
 * anything is changed (issue 16, item 2).  Not part of the default
 * `npm run bench`; run it as `npm run bench -- profile`.
 *
 * The bench/peer topology (two nodes; vpc-hostd on each, vpc-agent with the
 * file resolver on node 1; the Linux vxlan + l2miss agent beside it for
 * comparison), and two workloads of new MACs handed to sendmmsg() by the VM
 * on node 1 (bench/peer_probe.c burst mode, counters read every 100 ms only):
 *
 *  - isolated: PROFILE_ISOLATED (2000) new MACs at 1,000/s, one at a time:
 *    every upcall travels alone (the latency path);
 *  - storm: PROFILE_STORM (10,000) new MACs at PROFILE_STORM_RATE (6,000/s,
 *    under what the agent sustains without loss): upcalls travel in batches.
 *
 * For each, per upcall answered (per FDB entry installed for Linux):
 *  1. counters of the processes (no tracer attached): CPU time of all their
 *     threads (/proc/PID/task/TID/schedstat, ns), voluntary and involuntary
 *     context switches, read/write-family syscalls and bytes (/proc/PID/io),
 *     and the agent's young-generation garbage (--trace-gc scavenges);
 *  2. strace -c -f on vpc-hostd and vpc-agent: every syscall by name (strace
 *     slows them, so batches grow: a ceiling for the storm, exact for the
 *     isolated case);
 *  3. perf record -g on vpc-hostd (cpu-clock: no PMU here) and
 *     node --cpu-prof on vpc-agent: the top functions by self time;
 *  4. an isolated miss step by step: perf trace on both, the time between
 *     the syscalls where the request and the answer change hands;
 *  5. the same vpc-hostd answered by vpc-agent, by a TypeScript reader that
 *     only answers (bench/lean-agent.ts) and by a C one (bench/vpc_c_agent.c):
 *     latency, CPU per upcall, best lossless rate, a 10,000-MAC burst.
 *
 *  6. bench/peer figure a's tail (its misses at or above the p99), vpc and
 *     Linux, against the vCPU stalls a system-wide perf record finds
 *     meanwhile (bench/tail.ts): how many slow misses had one inside.
 *
 * Needs root, perf and strace.  PROFILE_SECTIONS=1,2,3,4,5,6 picks sections;
 * PROFILE_KEEP=1 keeps the raw profiles (cpuprofile, perf.data, strace).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../test/helpers/overlay.ts';
import { killOnExit } from '../test/helpers/reaper.ts';
import { root } from '../test/helpers/paths.ts';
import { burst, common, linuxSystem, mappings, PREFIX, vpcSystem, type System, type VpcSystem } from './peer.ts';
import { buildHelpers, fmt, quantile, runProbe } from './probe.ts';
import { tailAttribution } from './tail.ts';

const env = process.env;
const ISOLATED = Number(env.PROFILE_ISOLATED ?? 2000);
const STORM = Number(env.PROFILE_STORM ?? 10_000);
const STORM_RATE = Number(env.PROFILE_STORM_RATE ?? 6000);
const SECTIONS = new Set((env.PROFILE_SECTIONS ?? '1,2,3,4,5,6').split(','));

interface Snap {
  cpuNs: number;
  vcsw: number;
  ivcsw: number;
  syscr: number;
  syscw: number;
  rchar: number;
  wchar: number;
  threads: number;
}

/** What the kernel counts for a process, all its threads together. */
function snap(pid: number): Snap {
  const s: Snap = { cpuNs: 0, vcsw: 0, ivcsw: 0, syscr: 0, syscw: 0, rchar: 0, wchar: 0, threads: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      s.cpuNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      s.vcsw += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0);
      s.ivcsw += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0);
      s.threads++;
    } catch { /* the thread ended meanwhile */ }
  }
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const f = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(io)?.[1] ?? 0);
  Object.assign(s, { syscr: f('syscr'), syscw: f('syscw'), rchar: f('rchar'), wchar: f('wchar') });
  return s;
}

function diff(a: Snap, b: Snap): Snap {
  return Object.fromEntries(Object.keys(a).map((k) => [k, b[k as keyof Snap] - a[k as keyof Snap]])) as unknown as Snap;
}

interface Workload {
  name: string;
  nmacs: number;
  rate: number;
}

const workloads: Workload[] = [
  { name: 'isolated', nmacs: ISOLATED, rate: 1000 },
  { name: 'storm', nmacs: STORM, rate: STORM_RATE },
];

/** Run a workload on a system; the entries it installed. */
async function run(probe: string, s: System, w: Workload): Promise<number> {
  await s.flush();
  await sleep(100);
  const j = await runProbe(probe, [...common(s), '--watch-us', '100000', '--idle-ms', '1500',
    'burst', String(w.nmacs), String(w.nmacs), PREFIX, String(w.rate), '1'], s.probeEnv);
  return j.installed as number;
}

function per(x: number, n: number, digits = 2): string {
  return fmt(x / Math.max(1, n), digits);
}

/* ---- 1. counters ------------------------------------------------------------------ */

async function counters(probe: string, vpc: VpcSystem, linux: System | undefined): Promise<void> {
  console.log('  1. per upcall answered (Linux: per entry installed), counted by the kernel, no tracer attached');
  console.log(`    ${'workload / process'.padEnd(30)}${['CPU µs', 'vol. cs', 'invol. cs', 'read() B', 'young KB'].map((h) => h.padStart(11)).join('')}`);
  for (const w of workloads) {
    for (const s of [vpc, linux].filter(Boolean) as System[]) {
      const pids = s.pids();
      const procs = Object.entries(pids).filter(([, p]) => p !== undefined) as Array<[string, number]>;
      const before = procs.map(([, p]) => snap(p));
      const gc0 = s === vpc ? vpc.agent().other.length : 0;
      const n = await run(probe, s, w);
      const after = procs.map(([, p]) => snap(p));
      let young = NaN;
      if (s === vpc) {
        // "Scavenge 10.5 (12.3) -> 9.8 (13.3) MB": what the young generation let go.
        young = 0;
        for (const l of vpc.agent().other.slice(gc0)) {
          const m = /Scavenge[^0-9]*([\d.]+) \([\d.]+\) -> ([\d.]+)/.exec(l);
          if (m) young += Number(m[1]) - Number(m[2]);
        }
      }
      procs.forEach(([name], i) => {
        const d = diff(before[i]!, after[i]!);
        const label = `${w.name} ${s.name === 'linux' ? 'linux l2miss agent' : name === 'agent' ? 'vpc-agent' : name === 'hostd2' ? 'vpc-hostd node 2' : 'vpc-hostd'}`;
        // read() bytes: /proc/PID/io counts read()/write() but not recvmsg/sendmsg.
        const cells = [per(d.cpuNs / 1000, n, 1), per(d.vcsw, n), per(d.ivcsw, n), per(d.rchar, n, 0),
          name === 'agent' && s === vpc ? fmt((young * 1024) / Math.max(1, n), 1) : '-'];
        console.log(`    ${label.padEnd(30)}${cells.map((c) => c.padStart(11)).join('')}   (${n} installed, ${after[i]!.threads} threads)`);
      });
    }
  }
}

/* ---- 2. strace -c -------------------------------------------------------------------- */

/** strace -c's table: syscall -> calls. */
function parseStrace(text: string): Map<string, { calls: number; errors: number; usecs: number }> {
  const m = new Map<string, { calls: number; errors: number; usecs: number }>();
  for (const line of text.split('\n')) {
    // % time     seconds  usecs/call     calls    errors syscall
    const f = /^\s*[\d.]+\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\d*)\s*(\w+)\s*$/.exec(line);
    if (f && f[5] !== 'total') m.set(f[5]!, { calls: Number(f[3]), errors: Number(f[4] || 0), usecs: Number(f[1]) * 1e6 });
  }
  return m;
}

async function straced(probe: string, systems: System[], dir: string): Promise<void> {
  console.log('  2. syscalls per upcall answered / entry installed (strace -c -f; it slows the traced, so storm batches grow)');
  for (const w of workloads) for (const sys of systems) {
    const pids = sys.pids();
    const files: Record<string, string> = {};
    const tracers = Object.entries(pids).map(([name, pid]) => {
      files[name] = join(dir, `strace-${w.name}-${sys.name}-${name}.txt`);
      const p = killOnExit(spawn('strace', ['-c', '-f', '-qq', '-o', files[name]!, '-p', String(pid)], { stdio: 'ignore' }));
      return p;
    });
    await sleep(1000);         // attached to every thread
    const n = await run(probe, sys, w);
    for (const t of tracers) {
      await new Promise<void>((r) => { t.once('exit', () => r()); t.kill('SIGINT'); });
    }
    for (const [name, file] of Object.entries(files)) {
      const m = parseStrace(readFileSync(file, 'utf8'));
      const total = [...m.values()].reduce((x, y) => x + y.calls, 0);
      const top = [...m.entries()].sort((a, b) => b[1].calls - a[1].calls).slice(0, 10);
      console.log(`    ${w.name} ${sys.name === 'linux' ? 'linux l2miss agent' : name === 'agent' ? 'vpc-agent' : 'vpc-hostd'}: ${per(total, n)} syscalls each (${n}): `
        + top.map(([k, v]) => `${k} ${per(v.calls, n)}${v.errors ? ` (${per(v.errors, n)} err)` : ''}`).join(', '));
    }
  }
}

/* ---- 3. perf on vpc-hostd, --cpu-prof on vpc-agent -------------------------------------- */

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * Self time by function from a .cpuprofile, counting only the samples taken
 * between from and to (CLOCK_MONOTONIC µs, V8's clock and process.hrtime's):
 * [name, ms, share of the non-idle time].  V8 samples the thread whatever it
 * does, so a function blocked in a synchronous native call (koffi's vpc_ctl
 * waiting for vpc-hostd's reply) is charged that wait as self time.
 */
export function cpuProfileTop(file: string, n: number, from: number, to: number): { top: Array<[string, number, number]>; totalMs: number; idleMs: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfNode[]; samples: number[]; timeDeltas: number[]; startTime: number };
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let total = 0;
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (t < from || t > to) return;
    const node = byId.get(id)!;
    const f = node.callFrame;
    const url = f.url.replace(/^.*\/(node_modules\/[^/]+|src)\//, '$1/');
    const key = f.url ? `${f.functionName || '(anon)'} ${url}:${f.lineNumber + 1}` : f.functionName;
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    if (f.functionName !== '(idle)') total += dt;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const idleMs = self.get('(idle)') ?? 0;
  self.delete('(idle)');
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, v, v / total] as [string, number, number]);
  return { top, totalMs: total, idleMs };
}

const usNow = () => Number(process.hrtime.bigint() / 1000n);

async function profiles(probe: string, vpc: VpcSystem, dir: string): Promise<void> {
  const hasPerf = existsSync('/usr/bin/perf');
  for (const w of workloads) {
    const profDir = join(dir, `cpuprof-${w.name}`);
    await vpc.restartAgent(['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=200']);
    const { hostd } = vpc.pids();
    const perfData = join(dir, `perf-${w.name}.data`);
    const perf = hasPerf
      ? killOnExit(spawn('perf', ['record', '-F', '4999', '-g', '-o', perfData, '-p', String(hostd)], { stdio: 'ignore' }))
      : undefined;
    await sleep(500);
    const from = usNow();
    const n = await run(probe, vpc, w);
    const to = usNow();
    if (perf) await new Promise<void>((r) => { perf.once('exit', () => r()); perf.kill('SIGINT'); });
    await vpc.restartAgent([]);        // SIGTERM: the profile is written on exit
    const prof = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profDir, f))[0];
    console.log(`  3. ${w.name}: ${n} upcalls answered`);
    if (prof) {
      const { top, totalMs, idleMs } = cpuProfileTop(prof, 18, from, to);
      console.log(`    vpc-agent (node --cpu-prof, main thread during the workload): ${fmt(totalMs, 0)} ms busy (${per(totalMs * 1000, n, 1)} µs per upcall), ${fmt(idleMs, 0)} ms idle; top self time:`);
      for (const [k, ms, share] of top) console.log(`      ${fmt(share * 100, 1).padStart(5)}%  ${fmt(ms, 1).padStart(8)} ms  ${k}`);
    }
    if (perf && existsSync(perfData)) {
      const rep = execFileSync('perf', ['report', '-i', perfData, '--stdio', '--no-children', '--sort', 'dso,symbol', '--percent-limit', '1.5', '-g', 'none'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
      const lines = rep.split('\n').filter((l) => /^\s+[\d.]+%/.test(l)).slice(0, 22);
      const samples = /Samples: (\S+)/.exec(execFileSync('perf', ['report', '-i', perfData, '--stdio', '--header-only'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1]
        ?? /# Samples: (\S+)/.exec(rep)?.[1];
      console.log(`    vpc-hostd (perf record -F 4999, cpu-clock; ${samples} samples), self time:`);
      for (const l of lines) console.log(`      ${l.trim()}`);
      const user = execFileSync('perf', ['report', '-i', perfData, '--stdio', '--no-children', '--sort', 'dso,symbol', '--dsos', 'vpc-hostd,libc.so.6',
        '--percent-limit', '0.3', '-g', 'none'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
      console.log('    vpc-hostd, user space only (its code and libc), self time as a share of all samples:');
      for (const l of user.split('\n').filter((x) => /^\s+[\d.]+%/.test(x)).slice(0, 14)) console.log(`      ${l.trim()}`);
      const incl = execFileSync('perf', ['report', '-i', perfData, '--stdio', '--children', '--sort', 'symbol', '--percent-limit', '4', '-g', 'none'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
      console.log('    vpc-hostd, inclusive (children) >= 4%:');
      for (const l of incl.split('\n').filter((x) => /^\s+[\d.]+%/.test(x)).slice(0, 30)) console.log(`      ${l.trim()}`);
    }
  }
}

/* ---- 4. an isolated miss, step by step --------------------------------------------- */

/**
 * perf trace (syscall tracepoints, far lighter than strace) on vpc-hostd and
 * vpc-agent while PROFILE_STEPS isolated misses (ICMP echoes, 74-byte frames,
 * 5 ms apart, the entry deleted before each; bench/peer_probe.c lat mode,
 * table not polled) go through, and the time between the syscalls that mark
 * each hand-over: hostd reads the frame from the TAP, writes the 104-byte
 * request, the agent (its relay thread) reads it, sends its answer (vpc_ctl), hostd
 * reads that, applies it (entry installed, held frame sent), replies.
 */
async function steps(probe: string, vpc: VpcSystem, dir: string): Promise<void> {
  const n = Number(env.PROFILE_STEPS ?? 300);
  const { hostd, agent } = vpc.pids();
  const file = join(dir, 'trace.txt');
  const tr = killOnExit(spawn('perf', ['trace', '-e', 'read,sendto,recvfrom,sendmsg,recvmsg', '-p', `${hostd},${agent}`, '-o', file], { stdio: 'ignore' }));
  await sleep(1500);
  await runProbe(probe, [...common(vpc), 'lat', String(n), '5', '1000', '3000', '1'], vpc.probeEnv);
  await sleep(300);
  await new Promise<void>((r) => { tr.once('exit', () => r()); tr.kill('SIGINT'); });
  if (!existsSync(file)) {
    console.log('  4. (perf trace unavailable)');
    return;
  }
  type Ev = { t: number; end: number; hostd: boolean; name: string; ret: number };
  const evs: Ev[] = [];
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([\d.]+) \(\s*([\d.]*) ms\): (\S+)\/(\d+) (\w+)\(.*\)\s+= (-?\d+)/.exec(l);
    if (!m) continue;
    const t = Number(m[1]);
    evs.push({ t, end: t + Number(m[2] || 0), hostd: Number(m[4]) === hostd, name: m[5]!, ret: Number(m[6]) });
  }
  evs.sort((a, b) => a.t - b.t);
  const names = ['vpc-hostd: frame read from the TAP -> request written', 'request written -> vpc-agent has read it',
    'vpc-agent: request read -> answer sent (vpc_ctl)', 'answer sent -> vpc-hostd has read it',
    'vpc-hostd: answer read -> applied, reply sent', 'total: frame read -> answer applied'];
  const seg: number[][] = names.map(() => []);
  let state = '';
  // The TAP's frames come after a virtio_net_hdr (host_vnet.c).
  const VNET_HDR = 10;
  let tap = 0, rec = 0, ar = 0, as = 0, hr = 0, ansBytes = 0;
  for (const e of evs) {
    // The agent's read is its relay thread's or its own (--no-relay); the
    // answer is the wire request that carries one vpc_upcall_ans_t, matched
    // by its size on both sides.
    if (e.hostd && e.name === 'read' && e.ret === 74 + VNET_HDR && (state === '' || state === 'tap')) { tap = e.end; state = 'tap'; }
    else if (state === 'tap' && e.hostd && e.name === 'sendto' && e.ret === 104) { seg[0]!.push(e.t - tap); rec = e.t; state = 'rec'; }
    else if (state === 'rec' && !e.hostd && e.name === 'read' && e.ret === 104) { seg[1]!.push(e.end - rec); ar = e.end; state = 'ar'; }
    else if (state === 'ar' && !e.hostd && e.name === 'sendmsg' && e.ret > 64) { seg[2]!.push(e.t - ar); as = e.t; ansBytes = e.ret; state = 'as'; }
    else if (state === 'as' && e.hostd && e.name === 'recvfrom' && e.ret === ansBytes) { seg[3]!.push(e.end - as); hr = e.end; state = 'hr'; }
    else if (state === 'hr' && e.hostd && e.name === 'sendmsg') { seg[4]!.push(e.t - hr); seg[5]!.push(e.t - tap); state = ''; }
  }
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
  console.log(`  4. an isolated miss step by step (perf trace on both; ${seg[5]!.length} of ${n} misses matched), µs:`);
  names.forEach((name, i) => console.log(`    ${name.padEnd(56)} p50 ${fmt(q(seg[i]!, 0.5) * 1000, 0).padStart(6)}   p90 ${fmt(q(seg[i]!, 0.9) * 1000, 0).padStart(6)}`));
}

/* ---- 5. the same vpc-hostd, three agents ----------------------------------------- */

/** A reader of our own (bench/vpc_c_agent.c, bench/lean-agent.ts) on node 1's upcall socket. */
async function spawnReader(vpc: VpcSystem, cmd: string, args: string[]): Promise<{ pid: number; stop(): Promise<void> }> {
  const p = killOnExit(spawn(cmd, args, { env: { ...process.env, ...vpc.overlay.env('cn1') }, stdio: ['pipe', 'pipe', 'inherit'] }));
  await new Promise<void>((resolveP, reject) => {
    let out = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready')) resolveP();
    });
    p.once('exit', (code) => reject(new Error(`${cmd} exited ${code} before attaching`)));
  });
  return {
    pid: p.pid!,
    stop: () => new Promise<void>((r) => {
      if (p.exitCode !== null || p.signalCode !== null) return r();
      p.once('exit', () => r());
      p.kill('SIGTERM');
    }),
  };
}

/**
 * vpc-hostd answered by vpc-agent, by bench/lean-agent.ts (TypeScript that
 * only answers) and by bench/vpc_c_agent.c: what the agent costs, what
 * Node costs, and what is left to vpc-hostd and the channel.
 */
async function agentsCompared(bins: { probe: string; cAgent: string }, vpc: VpcSystem, dir: string): Promise<void> {
  const file = join(dir, 'agent-mappings.txt');
  writeFileSync(file, mappings().map((m) => `${m.mac} ${m.vtep}\n`).join(''));
  const rates = (env.PROFILE_RATES ?? '10000,20000,40000,60000,80000,120000,160000').split(',').map(Number);
  const nlat = Number(env.PROFILE_LAT_N ?? 300);
  const readers: Array<{ name: string; start(): Promise<{ pid: number; stop(): Promise<void> }> }> = [
    {
      name: 'vpc-agent',
      async start() {
        const a = await vpc.restartAgent([]);
        return { pid: a.proc.pid!, stop: async () => { await a.stop('SIGTERM'); } };
      },
    },
    { name: 'lean TS agent', start: () => spawnReader(vpc, process.execPath, ['--import', 'tsx', join(root, 'bench/lean-agent.ts'), file]) },
    { name: 'C agent', start: () => spawnReader(vpc, bins.cAgent, [file]) },
  ];
  console.log(`  5. the same vpc-hostd answered by three readers (isolated: ${nlat} misses 5 ms apart; storm: ${STORM} new MACs at ${STORM_RATE}/s)`);
  console.log(`    ${'reader'.padEnd(16)}${['inst p50', 'inst p99', 'reply p50', 'CPU agent', 'CPU hostd', 'best rate', '10k burst', 'burst ms'].map((h) => h.padStart(11)).join('')}`);
  await vpc.agent().stop('SIGTERM');
  for (const r of readers) {
    const h = await r.start();
    try {
      await runProbe(bins.probe, [...common(vpc), 'lat', '5', '5', '1000', '3000'], vpc.probeEnv);
      const lat = await runProbe(bins.probe, [...common(vpc), 'lat', String(nlat), '5', '1000', '3000'], vpc.probeEnv);
      const inst = (lat.install_us as number[]).filter((x) => x >= 0);
      const rep = (lat.reply_us as number[]).filter((x) => x >= 0);
      const { hostd } = vpc.pids();
      const a0 = snap(h.pid), h0 = snap(hostd!);
      const n = await run(bins.probe, vpc, { name: 'storm', nmacs: STORM, rate: STORM_RATE });
      const a1 = snap(h.pid), h1 = snap(hostd!);
      // Counted from outside only: the readers of our own have no metrics.
      const sys: System = { ...vpc, agentRead: async () => 0, agentOverflows: async () => 0 };
      let best = 0;
      for (const rate of rates) {
        const b = await burst(bins.probe, sys, 10_000, rate);
        if (b.present < 10_000) break;
        best = rate;
      }
      const b = await burst(bins.probe, sys, 10_000, 0);
      const cells = [fmt(quantile(inst, 0.5), 0), fmt(quantile(inst, 0.99), 0), fmt(quantile(rep, 0.5), 0),
        per((a1.cpuNs - a0.cpuNs) / 1000, n, 1), per((h1.cpuNs - h0.cpuNs) / 1000, n, 1), String(best),
        `${b.present}`, fmt(b.lastUs / 1000, 0)];
      console.log(`    ${r.name.padEnd(16)}${cells.map((c) => c.padStart(11)).join('')}`);
    } finally {
      await h.stop();
    }
  }
  console.log('    (µs; CPU per upcall in the storm; best rate: highest offered new MACs/s with all 10,000 installed; 10k burst: MACs installed of 10,000 sent at once, and when the last was)');
  await vpc.restartAgent([]);
}

export async function benchProfile(): Promise<Record<string, number>> {
  if (process.getuid?.() !== 0) {
    console.log('bench/profile: skipped (needs root)');
    return {};
  }
  const bins = buildHelpers();
  const dir = mkdtempSync(join(tmpdir(), 'vpc-profile-'));
  const systems: System[] = [];
  try {
    // The miss path is what is profiled: push mode off (also for every restartAgent below, which keeps these flags).
    // Its mappings file in a directory of its own: the file resolver watches the
    // file's directory, and the traces written into dir would wake the agent.
    const agentDir = join(dir, 'agent');
    mkdirSync(agentDir);
    const vpc = await vpcSystem('vpc', agentDir, ['--trace-gc'], ['--no-push']);
    systems.push(vpc);
    const linux = env.PROFILE_LINUX === '0' ? undefined : await linuxSystem(bins, dir);
    if (linux) systems.push(linux);
    console.log(`bench/profile: vpc miss path; workloads: isolated ${ISOLATED} new MACs at 1000/s, storm ${STORM} at ${STORM_RATE}/s`);
    await run(bins.probe, vpc, { name: 'warm-up', nmacs: 200, rate: 1000 });
    if (SECTIONS.has('1')) await counters(bins.probe, vpc, linux);
    await vpc.restartAgent([]);
    if (SECTIONS.has('2') && existsSync('/usr/bin/strace')) await straced(bins.probe, systems, dir);
    if (SECTIONS.has('3')) await profiles(bins.probe, vpc, dir);
    if (SECTIONS.has('4') && existsSync('/usr/bin/perf')) await steps(bins.probe, vpc, dir);
    if (SECTIONS.has('5')) await agentsCompared(bins, vpc, dir);
    if (SECTIONS.has('6') && existsSync('/usr/bin/perf')) await tailAttribution(bins.probe, systems, dir);
    if (env.PROFILE_KEEP) console.log(`  profiles kept in ${dir}`);
    return {};
  } finally {
    for (const s of systems.reverse()) await s.close().catch((e: Error) => console.error(`bench/profile: closing ${s.name}: ${e.message}`));
    if (!env.PROFILE_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchProfile();
