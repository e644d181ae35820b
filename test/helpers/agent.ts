// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpc-agent as a process of its own (bin/vpc-agent.js), its JSON log lines
 * collected, its metrics scraped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { root } from './paths.ts';
import { stopProcess } from './proc.ts';
import { killOnExit } from './reaper.ts';

export interface AgentProc {
  proc: ChildProcess;
  logs: Array<Record<string, unknown>>;
  /** Lines on stdout that are not log records (e.g. node's --trace-gc). */
  other: string[];
  stderr: () => string;
  metricsAddr: string;
  /** A metric's value from /metrics (summed over labels unless given). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  waitLog(pred: (l: Record<string, unknown>) => boolean, what: string, ms?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** nodeArgs: flags for node itself (--cpu-prof, --trace-gc, ...), before the script. */
export async function startAgent(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<AgentProc> {
  const proc = killOnExit(spawn(process.execPath, [...nodeArgs, resolve(root, 'bin/vpc-agent.js'), '--metrics-addr', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  }));
  const logs: Array<Record<string, unknown>> = [];
  const other: string[] = [];
  let partial = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      try { logs.push(JSON.parse(l) as Record<string, unknown>); } catch { other.push(l); }
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const waitLog = async (pred: (l: Record<string, unknown>) => boolean, what: string, ms = 60_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = logs.find(pred);
      if (hit) return hit;
      if (proc.exitCode !== null) throw new Error(`vpc-agent exited (${proc.exitCode}) waiting for ${what}: ${err}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; logs: ${JSON.stringify(logs.slice(-5))} ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // It logs this at info level; a test that asks for less must wait otherwise.
  let attached: Record<string, unknown>;
  try {
    attached = await waitLog((l) => l.msg === 'attached as the upcall reader', 'the agent to attach');
  } catch (e) {
    proc.kill('SIGKILL');   // never leave an agent behind a failed start
    throw e;
  }
  const metricsAddr = String(attached.metrics);
  return {
    proc,
    logs,
    other,
    stderr: () => err,
    metricsAddr,
    async metric(name, labels) {
      const text = await (await fetch(`http://${metricsAddr}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        const m = /^([a-z_0-9:]+)(\{[^}]*\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        if (labels && !Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) continue;
        sum += Number(m[3]);
      }
      return sum;
    },
    waitLog,
    async stop(signal = 'SIGTERM') {
      await stopProcess(proc, signal, 'vpc-agent');
      return proc.exitCode;
    },
  };
}
