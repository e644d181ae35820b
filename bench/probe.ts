// SPDX-License-Identifier: BSD-2-Clause
/**
 * What bench/peer and bench/upcall share: the C helpers (bench/peer_probe.c,
 * bench/linux_l2miss_agent.c, bench/vpc_c_agent.c, bench/stall_probe.c),
 * built here on demand, running them, and the statistics printed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { killOnExit } from '../test/helpers/reaper.ts';
import { root } from '../test/helpers/paths.ts';

/** Where the helpers go: beside the C build, linked with its libvpc (any libvpc speaks the same wire). */
const libDir = resolve(root, 'kmod', 'build');
const outDir = resolve(libDir, 'bench-peer');
const CFLAGS = ['-std=c11', '-O2', '-g', '-Wall', '-Wextra', '-Werror'];

function stale(out: string, srcs: string[]): boolean {
  if (!existsSync(out)) return true;
  const t = statSync(out).mtimeMs;
  return srcs.some((s) => statSync(s).mtimeMs > t);
}

/** Build the C helpers if missing or older than their sources; their paths. */
export function buildHelpers(): { probe: string; linuxAgent: string; cAgent: string; stallProbe: string } {
  mkdirSync(outDir, { recursive: true });
  const probe = resolve(outDir, 'peer_probe');
  const linuxAgent = resolve(outDir, 'linux_l2miss_agent');
  const probeSrc = resolve(root, 'bench/peer_probe.c');
  const agentSrc = resolve(root, 'bench/linux_l2miss_agent.c');
  const vpcH = resolve(root, 'kmod/include/vpc.h');
  const libvpc = resolve(libDir, 'libvpc.so');
  if (!existsSync(libvpc)) throw new Error(`${libvpc} is missing: run make -C kmod (npm ci does)`);
  const nowH = resolve(root, 'bench/now_ns.h');
  if (stale(probe, [probeSrc, nowH, vpcH, libvpc])) {
    execFileSync('cc', [...CFLAGS, `-I${resolve(root, 'kmod/include')}`, '-o', probe, probeSrc,
      `-L${libDir}`, '-lvpc', `-Wl,-rpath,${libDir}`, '-lpthread'], { stdio: 'inherit' });
  }
  if (stale(linuxAgent, [agentSrc])) execFileSync('cc', [...CFLAGS, '-o', linuxAgent, agentSrc], { stdio: 'inherit' });
  const cAgent = resolve(outDir, 'vpc_c_agent');
  const cAgentSrc = resolve(root, 'bench/vpc_c_agent.c');
  if (stale(cAgent, [cAgentSrc, vpcH, libvpc])) {
    execFileSync('cc', [...CFLAGS, `-I${resolve(root, 'kmod/include')}`, '-o', cAgent, cAgentSrc,
      `-L${libDir}`, '-lvpc', `-Wl,-rpath,${libDir}`], { stdio: 'inherit' });
  }
  const stallProbe = resolve(outDir, 'stall_probe');
  const stallSrc = resolve(root, 'bench/stall_probe.c');
  if (stale(stallProbe, [stallSrc, nowH])) execFileSync('cc', [...CFLAGS, '-o', stallProbe, stallSrc, '-lpthread'], { stdio: 'inherit' });
  return { probe, linuxAgent, cAgent, stallProbe };
}

/** What bench/stall_probe.c saw: stalls of a spinning thread with no other task switched in, summed over the CPUs. */
export interface MachineStalls { seconds: number; cpus: number; stalls: number; over1ms: number; longestUs: number; perSecondPerCpu: number }

/**
 * This machine's vCPU stalls over `seconds` on every CPU at once (each CPU
 * is busy meanwhile: run it when nothing is measured).  The tail of a
 * latency here is theirs as much as the path's (docs/agent.md).
 */
export async function machineStalls(stallProbe: string, seconds: number): Promise<MachineStalls> {
  const j = await runProbe(stallProbe, [String(seconds)]);
  const cpus = j.cpus as Array<{ stalls: number; over_1ms: number; longest_us: number }>;
  const stalls = cpus.reduce((a, c) => a + c.stalls, 0);
  return {
    seconds, cpus: cpus.length, stalls, over1ms: cpus.reduce((a, c) => a + c.over_1ms, 0),
    longestUs: Math.max(0, ...cpus.map((c) => c.longest_us)), perSecondPerCpu: stalls / seconds / Math.max(1, cpus.length),
  };
}

export function stallsLine(m: MachineStalls): string {
  return `this machine: a thread spinning on each of its ${m.cpus} CPUs for ${m.seconds} s stalled ${m.stalls} times for >= 250 µs with no other task switched in ` +
    `(${m.over1ms} of them >= 1 ms, the longest ${fmt(m.longestUs / 1000, 1)} ms): ${fmt(m.perSecondPerCpu, 1)} a second per CPU (vCPU stalls, bench/stall_probe.c)`;
}

/** bench/stream's two ends (bench/stream_tool.c), built if missing or older than its source; its path. */
export function buildStreamTool(): string {
  mkdirSync(outDir, { recursive: true });
  const tool = resolve(outDir, 'stream_tool');
  const src = resolve(root, 'bench/stream_tool.c');
  if (stale(tool, [src])) execFileSync('cc', [...CFLAGS, '-o', tool, src], { stdio: 'inherit' });
  return tool;
}

/** Run the probe; its last stdout line is JSON. */
export function runProbe(bin: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<Record<string, unknown>> {
  return new Promise((resolveP, reject) => {
    const p = execFile(bin, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`peer_probe ${args.join(' ')}: ${err.message}\n${stderr}`));
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolveP(JSON.parse(last) as Record<string, unknown>);
      } catch {
        reject(new Error(`peer_probe printed no JSON: ${stdout}\n${stderr}`));
      }
    });
    killOnExit(p);
  });
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** An interface's counters, read in its namespace (full name). */
export function linkStats(ns: string, ifname: string): { rxPackets: number; txPackets: number; rxDropped: number; txDropped: number } {
  const out = execFileSync('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', ifname], { encoding: 'utf8' });
  const s = (JSON.parse(out) as Array<{ stats64: { rx: Record<string, number>; tx: Record<string, number> } }>)[0]!.stats64;
  return { rxPackets: s.rx.packets!, txPackets: s.tx.packets!, rxDropped: s.rx.dropped!, txDropped: s.tx.dropped! };
}

/** a / b; NaN (printed "n/a", left out of the JSON) when b is 0 and a is not. */
export function ratio(a: number, b: number): number {
  return b === 0 ? (a === 0 ? 1 : NaN) : a / b;
}

export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : Number.isNaN(x) ? 'n/a' : String(x);
}
