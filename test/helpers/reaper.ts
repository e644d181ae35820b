// SPDX-License-Identifier: BSD-2-Clause
/**
 * Child processes a test started (daemons, agents, fixtures) must not
 * outlive it, however it ends: on exit, and on a signal (a timeout, ^C), each
 * still running is SIGKILLed; other cleanups (namespaces) run after that.
 */
import type { ChildProcess } from 'node:child_process';

const procs = new Set<ChildProcess>();
const cleanups = new Set<() => void>();

function reapAll(): void {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  procs.clear();
  for (const c of cleanups) c();
  cleanups.clear();
}

process.on('exit', reapAll);
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(sig, () => {
    reapAll();
    process.kill(process.pid, sig);    // and die of it, as we would have
  });
}

export function killOnExit(p: ChildProcess): ChildProcess {
  procs.add(p);
  p.once('exit', () => procs.delete(p));
  return p;
}

/** Run fn when the process ends, unless forget() is called first. */
export function onExit(fn: () => void): { forget(): void } {
  cleanups.add(fn);
  return { forget: () => cleanups.delete(fn) };
}
