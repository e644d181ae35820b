// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/tail: where bench/peer figure a's slowest misses come from, for
 * bench/profile section 6.  Figure a's p99 over 600 samples is their 6th
 * slowest, so a handful of events decide it.
 *
 * For each system given: PROFILE_TAIL_N misses (bench/peer_probe.c lat
 * mode, as figure a takes them: the entry deleted, an ICMP echo, the table
 * polled every 100 us) under a system-wide perf record on CLOCK_MONOTONIC,
 * the clock peer_probe stamps each miss with (sent_us): every context
 * switch (sched:sched_switch) and a cpu-clock sample every 100 us on each
 * busy CPU.  Two things of the machine's own can hold a miss up:
 *
 *  - a vCPU stall: a gap of at least STALL_US between two samples of one
 *    CPU with the same task on it at both ends and no switch between (the
 *    task neither ran, no sample fired, nor gave way to another): the
 *    hypervisor running something else (this one reports no steal time) or
 *    a long exit; bench/stall_probe.c measures the same from inside;
 *  - another task on a CPU for at least OTHER_US of the miss: one that is
 *    not the probe, a vpc-hostd, the agent (or Linux's agent) or idle, e.g.
 *    the guest kernel's memory monitor (kdamond) or the bench's own tools.
 *
 * Printed: for the misses at or above the p99, how many had either inside
 * their window, and the p50/p99 of the misses neither touched.  perf
 * itself costs: the latencies here are a little above figure a's.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../test/helpers/overlay.ts';
import { killOnExit } from '../test/helpers/reaper.ts';
import { common, type System } from './peer.ts';
import { fmt, quantile, runProbe } from './probe.ts';

const STALL_US = 300;
const OTHER_US = 200;
const SAMPLE_HZ = 10_000;
const PROBE_COMM = 'peer_probe';

/** A span of one CPU (us, CLOCK_MONOTONIC). */
export interface Span { from: number; to: number; cpu: number; comm: string }

interface Ev { t: number; cpu: number; pid: number; tid: number; comm: string; next?: { tid: number; comm: string } }

function parse(script: string): Ev[] {
  const evs: Ev[] = [];
  for (const l of script.split('\n')) {
    // "comm pid/tid [cpu] secs.usecs: event: trace"
    const m = /^\s*(.+?)\s+(\d+)\/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(?:\d+\s+)?([\w:-]+):(.*)$/.exec(l);
    if (!m) continue;
    const ev: Ev = { t: Number(m[5]) * 1e6, cpu: Number(m[4]), pid: Number(m[2]), tid: Number(m[3]), comm: m[1]! };
    if (m[6]!.startsWith('sched:sched_switch')) {
      const n = /next_comm=(.*) next_pid=(\d+)/.exec(m[7]!);
      if (n) ev.next = { tid: Number(n[2]), comm: n[1]! };
    }
    evs.push(ev);
  }
  return evs.sort((a, b) => a.t - b.t);
}

/**
 * From a perf script of sched_switch and cpu-clock events (-F
 * comm,pid,tid,cpu,time,event,trace): the vCPU stalls, and the spans other
 * tasks than ours (pids, with every thread of theirs, and the probe, known
 * by its name: it comes and goes) ran on a CPU.
 */
export function machineSpans(script: string, ours: Set<number>, ourComm: string): { stalls: Span[]; others: Span[]; samples: number } {
  const evs = parse(script);
  const tgid = new Map<number, number>();
  for (const e of evs) tgid.set(e.tid, e.pid);
  const stalls: Span[] = [];
  const others: Span[] = [];
  const lastSample = new Map<number, Ev>();
  const running = new Map<number, { since: number; tid: number; comm: string }>();
  let samples = 0;
  for (const e of evs) {
    if (e.next) {
      lastSample.delete(e.cpu);
      const r = running.get(e.cpu);
      if (r && r.tid !== 0 && r.comm !== ourComm && !ours.has(tgid.get(r.tid) ?? r.tid)) others.push({ from: r.since, to: e.t, cpu: e.cpu, comm: r.comm });
      running.set(e.cpu, { since: e.t, tid: e.next.tid, comm: e.next.comm });
      continue;
    }
    samples++;
    const prev = lastSample.get(e.cpu);
    if (prev && prev.tid === e.tid && e.tid !== 0 && e.t - prev.t >= STALL_US) stalls.push({ from: prev.t, to: e.t, cpu: e.cpu, comm: e.comm });
    lastSample.set(e.cpu, e);
  }
  return { stalls, others, samples };
}

const overlap = (s: Span, from: number, to: number) => Math.max(0, Math.min(s.to, to) - Math.max(s.from, from));

/** Misses (sent at, took us) against the machine's spans: the tail's share they touched. */
export function attribute(sent: number[], took: number[], stalls: Span[], others: Span[]):
{ p99: number; tail: number; tailStalled: number; tailOthers: number; clean: number[]; otherComms: string[] } {
  const p99 = quantile(took, 0.99);
  const comms = new Set<string>();
  let tail = 0, tailStalled = 0, tailOthers = 0;
  const clean: number[] = [];
  took.forEach((x, i) => {
    const from = sent[i]!, to = from + x;
    const stalled = stalls.some((s) => overlap(s, from, to) > 0);
    const byOthers = others.filter((s) => overlap(s, from, to) > 0);
    const otherUs = byOthers.reduce((a, s) => a + overlap(s, from, to), 0);
    const held = otherUs >= OTHER_US;
    if (!stalled && !held) clean.push(x);
    if (x >= p99) {
      tail++;
      if (stalled) tailStalled++;
      else if (held) {
        tailOthers++;
        for (const s of byOthers) comms.add(s.comm);
      }
    }
  });
  return { p99, tail, tailStalled, tailOthers, clean, otherComms: [...comms] };
}

export async function tailAttribution(probe: string, systems: System[], dir: string): Promise<void> {
  const n = Number(process.env.PROFILE_TAIL_N ?? 600);
  console.log(`  6. figure a's tail against the machine (${n} misses each under perf record: sched_switch, cpu-clock at ${SAMPLE_HZ / 1000} kHz; ` +
    `a vCPU stall: >= ${STALL_US} µs with no sample and no switch on a busy CPU; another task: >= ${OTHER_US} µs of the miss on a CPU)`);
  for (const s of systems) {
    await s.flush();
    const data = join(dir, `tail-${s.name}.data`);
    const perf = killOnExit(spawn('perf', ['record', '-q', '-a', '-k', 'CLOCK_MONOTONIC', '-e', 'sched:sched_switch', '-e', 'cpu-clock',
      '-F', String(SAMPLE_HZ), '-o', data], { stdio: 'ignore' }));
    await sleep(1500);
    const a = await runProbe(probe, [...common(s), 'lat', String(n), '5', '1000', '3000'], s.probeEnv);
    await sleep(200);
    await new Promise<void>((r) => { perf.once('exit', () => r()); perf.kill('SIGINT'); });
    if (!existsSync(data)) {
      console.log('    (perf record unavailable)');
      return;
    }
    const took = a.install_us as number[], sent = a.sent_us as number[];
    // Kept with the perf data (PROFILE_KEEP=1) for a closer look at any miss.
    writeFileSync(join(dir, `tail-${s.name}.json`), JSON.stringify({ install_us: took, sent_us: sent }));
    const script = execFileSync('perf', ['script', '-i', data, '-F', 'comm,pid,tid,cpu,time,event,trace'],
      { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
    const p = s.pids();
    const ours = new Set([p.agent, p.hostd ?? -1, p.hostd2 ?? -1]);
    const { stalls, others, samples } = machineSpans(script, ours, PROBE_COMM);
    const ok = took.map((x, i) => [x, sent[i]!] as const).filter(([x]) => x >= 0);
    const r = attribute(ok.map(([, t]) => t), ok.map(([x]) => x), stalls, others);
    const lost = stalls.reduce((x, st) => x + st.to - st.from, 0);
    console.log(`    ${s.name.padEnd(6)} installed p50 ${fmt(quantile(ok.map(([x]) => x), 0.5), 0)} p99 ${fmt(r.p99, 0)} µs; ${stalls.length} stalls (${fmt(lost / 1000, 1)} ms; ${samples} samples)`);
    console.log(`           of the ${r.tail} misses at or above the p99: ${r.tailStalled} had a vCPU stall inside, ${r.tailOthers} more another task` +
      `${r.otherComms.length ? ` (${r.otherComms.join(', ')})` : ''}; the ${r.clean.length} misses neither touched: p50 ${fmt(quantile(r.clean, 0.5), 0)} p99 ${fmt(quantile(r.clean, 0.99), 0)} µs`);
  }
}
